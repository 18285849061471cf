// loadTfjs and exportTfjs word for word (the mutation run's survivors, test/MUTATION.md): what each Keras layer
// config is read as, each refusal's reason, the weight files' layout. File-level code, the same on every backend,
// so it runs once.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  AvgPool2D, BatchNorm1D, BatchNorm2D, Conv1D, Conv2D, Dense, Dropout, Flatten, GlobalAvgPool2D, LeakyReLU, MaxPool2D, ReLU,
  Sequential, Softmax, Step, Tensor, io, loadTfjs,
} from '../src/index';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodenn-tfjs-checks-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

type Weights = Map<string, { shape: number[]; data: Float32Array }>;
const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
/** Weights by name, each 1, 2, 3, ... unless given. */
const W = (...entries: [string, number[], number[]?][]): Weights =>
  new Map(entries.map(([n, s, d]) => [n, { shape: s, data: Float32Array.from(d ?? Array.from({ length: size(s) }, (_, i) => i + 1)) }]));
const L = (class_name: string, config: Record<string, unknown> = {}) => ({ class_name, config });
const seq = (layers: unknown) => ({ modelTopology: { class_name: 'Sequential', config: { layers } } });
/** The first layer's config with the input shape. */
const input = (shape: number[], config: Record<string, unknown> = {}) => ({ batch_input_shape: [null, ...shape], ...config });
function reason(modelJson: unknown, weights: Weights = new Map()): string {
  try {
    io.decodeTfjs(modelJson, weights, 'm.json');
  } catch (e) {
    expect(e).toBeInstanceOf(io.TfjsError);
    expect((e as io.TfjsError).file).toBe('m.json');
    return (e as io.TfjsError).reason;
  }
  throw new Error('decodeTfjs read it');
}
const names = (net: Sequential) => net.layers.map((l) => l.name);
const run = (net: Sequential, x: number[], shape: number[]) => Array.from(net.forward(new Tensor(Float32Array.from(x), shape)).data);

describe('decodeTfjs: the topology', () => {
  it('where the layers are found, and what is not a Sequential', () => {
    const dense = [L('Dense', input([2], { name: 'd', units: 1, use_bias: false }))];
    const w = W(['d/kernel', [2, 1], [3, 4]]);
    for (const mj of [seq(dense), { modelTopology: { class_name: 'Sequential', config: dense } },
      { modelTopology: { model_config: { class_name: 'Sequential', config: { layers: dense } } } }]) {
      expect(run(io.decodeTfjs(mj, w), [1, 2], [1, 2])).toEqual([11]);
    }
    const camel = [L('Dense', { batchInputShape: [null, 2], name: 'd', units: 1, use_bias: false })];
    expect(io.decodeTfjs(seq(camel), w).inputShape).toEqual([2]);
    expect(reason(null)).toBe('no modelTopology: not a TensorFlow.js Layers model.json');
    expect(() => io.decodeTfjs(null, new Map())).toThrow(new io.TfjsError('no modelTopology: not a TensorFlow.js Layers model.json', '<memory>'));
    expect(reason({ modelTopology: 'Sequential' })).toBe('no modelTopology: not a TensorFlow.js Layers model.json');
    expect(reason({ modelTopology: { model_config: null, class_name: 'Sequential' } })).toBe('the Sequential has no layers');
    expect(reason({ modelTopology: null })).toBe('no modelTopology: not a TensorFlow.js Layers model.json');
    expect(reason({ modelTopology: { class_name: 'Functional', config: { layers: dense } } })).toBe('the model is a Functional; loadTfjs reads Sequential models');
    for (const layers of [[], undefined, 'Dense']) expect(reason(seq(layers))).toBe('the Sequential has no layers');
    expect(reason({ modelTopology: { class_name: 'Sequential', config: null } })).toBe('the Sequential has no layers');
  });

  it('the input shape of the first layer', () => {
    for (const bis of [undefined, [null], [null, 0], [null, 2.5], [null, 2, -1], 'x', [null, '2']]) {
      expect(reason(seq([L('ReLU', bis === undefined ? {} : { batch_input_shape: bis })]))).toBe(
        `the first layer must give batch_input_shape [null, ...] with fixed sizes, got ${JSON.stringify(bis ?? null)}`);
    }
    const net = io.decodeTfjs(seq([L('InputLayer', input([3, 4])), L('ReLU')]), new Map());
    expect(names(net)).toEqual(['ReLU']);
    expect(net.inputShape).toEqual([3, 4]);
    expect(net.layers[0].training).toBe(false);
  });

  it('a layer that is not an object, or has no config, is refused naming it', () => {
    expect(reason(seq([null]))).toBe('layer 0 is not a Keras layer: { class_name, config }');
    expect(reason(seq([L('ReLU', input([2])), 5]))).toBe('layer 1 is not a Keras layer: { class_name, config }');
    expect(reason(seq([L('ReLU', input([2])), { class_name: 'ReLU' }]))).toBe('layer 1 is not a Keras layer: { class_name, config }');
    expect(reason(seq([L('ReLU', input([2])), L('GRU', { name: 'g' })]))).toBe("layer 1 (GRU 'g'): the layer class GRU is not supported");
    expect(reason(seq([L('ReLU', input([2])), L('GRU')]))).toBe("layer 1 (GRU '#1'): the layer class GRU is not supported");
  });
});

describe('decodeTfjs: each layer', () => {
  it('Dense: kernel (in, out) and bias read in order, its activation, and where it cannot go', () => {
    const net = io.decodeTfjs(seq([L('Dense', input([2], { name: 'h', units: 3, activation: 'relu' }))]),
      W(['h/kernel', [2, 3], [1, -1, 2, 3, -4, 5]], ['h/bias', [3], [0.5, 0.5, -20]]));
    expect(names(net)).toEqual(['Dense', 'ReLU']);
    expect(run(net, [1, 1], [1, 2])).toEqual([4.5, 0, 0]);
    expect(reason(seq([L('Dense', input([2], { name: 'h', units: 3, activation: 'gelu' }))]), W(['h/kernel', [2, 3]], ['h/bias', [3]])))
      .toBe("layer 0 (Dense 'h'): the activation 'gelu' is not supported (relu, sigmoid, tanh, softmax, linear)");
    expect(reason(seq([L('Dense', input([2, 2], { name: 'h', units: 3 }))]))).toBe("layer 0 (Dense 'h'): Dense on an input of shape [1, 2, 2] (Flatten first)");
    expect(reason(seq([L('Dense', input([2], { name: 'h', units: 3 }))]), W(['h/kernel', [3, 2]], ['h/bias', [3]])))
      .toBe("the weight 'h/kernel' has shape [3, 2], expected [2, 3]");
    expect(reason(seq([L('Dense', input([2], { name: 'h', units: 3 }))]), W(['h/kernel', [2, 3]])))
      .toBe("the weight 'h/bias' is not in the weights manifest");
    for (const [units, got] of [['three', "the string 'three'"], [0, '0'], [1.5, '1.5'], [undefined, 'undefined']] as const) {
      expect(reason(seq([L('Dense', input([2], { name: 'h', units }))]), W(['h/kernel', [2, 3]])))
        .toBe(`layer 0 (Dense 'h'): units must be a positive integer, got ${got}`);
    }
  });

  it('a layer of a huge size with no weights for it is refused before its parameters are allocated', () => {
    expect(reason(seq([L('Dense', input([4096], { name: 'h', units: 2 ** 28 }))]))).toBe("the weight 'h/kernel' is not in the weights manifest");
    expect(reason(seq([L('BatchNormalization', input([2 ** 26], { name: 'b' }))]))).toBe("the weight 'b/gamma' is not in the weights manifest");
    expect(reason(seq([L('Conv2D', input([2 ** 16, 1, 1], { name: 'c', filters: 2 ** 16, kernel_size: 1, data_format: 'channels_first' }))])))
      .toBe("the weight 'c/kernel' is not in the weights manifest");
  });

  it('a sample larger than an import allows, at the input or a layer\'s output, is refused before the check forward', () => {
    const limit = 'more than the 67108864 an import allows';
    expect(reason(seq([L('ReLU', input([2 ** 26 + 1], { name: 'a' }))])))
      .toBe(`the input of sample shape [67108865] is 67108865 values per sample, ${limit}`);
    expect(reason(seq([L('ReLU', input([1e9], { name: 'a' }))]))).toBe(`the input of sample shape [1000000000] is 1000000000 values per sample, ${limit}`);
    expect(reason(seq([L('InputLayer', input([1, 4096, 4096])),
      L('Conv2D', { name: 'c', filters: 5, kernel_size: 1, use_bias: false, data_format: 'channels_first' })]), W(['c/kernel', [1, 1, 1, 5]])))
      .toBe(`layer 1 (Conv2D 'c'): its output of sample shape [5, 4096, 4096] is 83886080 values per sample, ${limit}`);
    expect(io.decodeTfjs(seq([L('ReLU', input([2, 4], { name: 'a' }))]), new Map()).inputShape).toEqual([2, 4]);
  });

  it('Conv2D: HWIO kernel, strides, a ZeroPadding2D before it, and what it refuses', () => {
    // 1 input channel 3 x 3, 2 filters 2 x 2, the second its first negated
    const k = [1, -1, 2, 1, -2, 3, 1, -1]; // (KH, KW, C, F): k[((i * KW + j) * C + c) * F + f]
    const w = W(['c/kernel', [2, 2, 1, 2], k], ['c/bias', [2], [10, 20]]);
    const net = io.decodeTfjs(seq([L('Conv2D', input([1, 3, 3], { name: 'c', filters: 2, kernel_size: 2, strides: [1, 1], data_format: 'channels_first' }))]), w);
    expect(names(net)).toEqual(['Conv2D']);
    const conv = net.layers[0] as Conv2D;
    expect(Array.from(conv.weight.data)).toEqual([1, 2, -2, 1, -1, 1, 3, -1]);
    expect(run(net, [1, 0, 0, 0, 0, 0, 0, 0, 0], [1, 1, 3, 3])).toEqual([11, 10, 10, 10, 19, 20, 20, 20]);
    const padded = [L('ZeroPadding2D', input([1, 3, 3], { name: 'p', padding: [[1, 1], [2, 2]], data_format: 'channels_first' })),
      L('Conv2D', { name: 'c', filters: 2, kernel_size: [2, 2], strides: 2, data_format: 'channels_first', activation: 'tanh' })];
    const pn = io.decodeTfjs(seq(padded), w);
    expect(names(pn)).toEqual(['Conv2D', 'Tanh']);
    expect((pn.layers[0] as Conv2D).padding).toEqual([1, 2]);
    expect((pn.layers[0] as Conv2D).stride).toEqual([2, 2]);
    for (const [padding, want] of [[3, [3, 3]], [[1, 2], [1, 2]]] as const) {
      const p = io.decodeTfjs(seq([{ ...padded[0], config: { ...padded[0].config, padding } }, padded[1]]), w);
      expect((p.layers[0] as Conv2D).padding).toEqual(want);
    }
    const conv2 = (c: Record<string, unknown>) => seq([L('Conv2D', input([1, 3, 3], { name: 'c', filters: 2, kernel_size: 2, data_format: 'channels_first', ...c }))]);
    const at = "layer 0 (Conv2D 'c'): ";
    expect(reason(conv2({ padding: 'same' }), w)).toBe(`${at}padding 'same' is not supported (valid, with a ZeroPadding2D)`);
    for (const d of [2, [1, 2], [2, 1], 'x']) expect(reason(conv2({ dilation_rate: d }), w)).toBe(`${at}dilation_rate ${JSON.stringify(d)} is not supported (1)`);
    expect(io.decodeTfjs(conv2({ dilation_rate: [1, 1], padding: 'valid' }), w).layers).toHaveLength(1);
    for (const ks of [undefined, [2], [2, 0], 1.5, [2, '2']]) expect(reason(conv2({ kernel_size: ks }), w)).toBe(`${at}kernel_size must be a number or [h, w]`);
    for (const st of [0, [1, 1, 1], 'x']) expect(reason(conv2({ strides: st }), w)).toBe(`${at}strides must be a number or [h, w]`);
    expect(reason(conv2({ data_format: undefined }), w)).toBe(`${at}data_format 'channels_last' is not supported: nodenn is NCHW, only channels_first is read`);
    expect(reason(seq([L('Conv2D', input([3], { name: 'c', filters: 2, kernel_size: 2, data_format: 'channels_first' }))]), w))
      .toBe(`${at}Conv2D on an input of shape [1, 3]`);
    expect(reason(conv2({ use_bias: false, filters: 3 }), w)).toBe("the weight 'c/kernel' has shape [2, 2, 1, 2], expected [2, 2, 1, 3]");
    expect(reason(conv2({ filters: '2' }), w)).toBe(`${at}filters must be a positive integer, got the string '2'`);
    expect(io.decodeTfjs(conv2({ use_bias: false }), w).layers[0]).toMatchObject({ hasBias: false });
    const pad = (p: unknown, next = padded[1]) => seq([L('ZeroPadding2D', input([1, 3, 3], { name: 'p', padding: p, data_format: 'channels_first' })), next]);
    const pat = "layer 0 (ZeroPadding2D 'p'): ";
    for (const p of [[[1, 2], [0, 0]], [[1, 1], [0, 1]], [[1, 1]], 'x', [[1, 1], 2]]) expect(reason(pad(p), w)).toBe(`${pat}only the same padding at both ends is read`);
    expect(reason(pad(1, L('MaxPooling2D', { data_format: 'channels_first' })), w)).toBe(`${pat}a ZeroPadding2D is read only before a Conv2D`);
    expect(reason(seq([L('ZeroPadding2D', input([1, 3, 3], { name: 'p', padding: 1, data_format: 'channels_first' }))]), w))
      .toBe(`${pat}a ZeroPadding2D is read only before a Conv2D`);
    expect(reason(seq([L('ZeroPadding2D', input([1, 3, 3], { name: 'p', padding: 1 })), padded[1]]), w))
      .toBe(`${pat}data_format 'channels_last' is not supported: nodenn is NCHW, only channels_first is read`);
    expect(reason(pad(1, L('Conv2D', { filters: 2, kernel_size: 2, data_format: 'channels_first' })), w))
      .toBe("the weight '#1/kernel' is not in the weights manifest");
  });

  it('Conv1D: a Conv2D with a 1 x K kernel between two Reshapes, with its padding', () => {
    // (C=1, L=4) → kernel 1 x 2, 1 filter: y[t] = 1 x[t] + 2 x[t+1] (+ bias 0.5)
    const w = W(['c/kernel', [1, 2, 1, 1], [1, 2]], ['c/bias', [1], [0.5]]);
    const conv = (c: Record<string, unknown> = {}) => L('Conv2D', { name: 'c', filters: 1, kernel_size: [1, 2], data_format: 'channels_first', ...c });
    const layers = (mid: unknown[], back = [1, 3], first: Record<string, unknown> = {}) =>
      seq([L('Reshape', input([1, 4], { name: 'r', target_shape: [1, 1, 4], ...first })), ...mid, L('Reshape', { target_shape: back })]);
    const net = io.decodeTfjs(layers([conv({ activation: 'relu' })]), w);
    expect(names(net)).toEqual(['Conv1D', 'ReLU']);
    expect(run(net, [1, 2, 3, -9], [1, 1, 4])).toEqual([5.5, 8.5, 0]);
    const p = io.decodeTfjs(layers([L('ZeroPadding2D', { padding: [[0, 0], [1, 1]] }), conv({ strides: [1, 2] })], [1, 3]), w);
    expect(run(p, [1, 2, 3, 4], [1, 1, 4])).toEqual([2.5, 8.5, 4.5]);
    expect(p.layers[0]).toMatchObject({ padding: [0, 1], stride: [1, 2] });
    expect(io.decodeTfjs(layers([L('ZeroPadding2D', { padding: [[0, 0], [0, 0]] }), conv()]), w).layers[0]).toMatchObject({ padding: [0, 0] });
    const at = "layer 0 (Reshape 'r'): ";
    for (const pad of [[[1, 1], [1, 1]], [[0, 1], [1, 1]], [[0, 0], [1, 2]], 3, [[0, 0]], [[0, 0], 1], [[0, 0], [-1, -1]], [[0, 0], [0.5, 0.5]], [[0, 0], [1, 1], [1, 1]], [[1, 0], [1, 1]], [[0, 0], { 0: 1, 1: 1 }]]) {
      expect(reason(layers([L('ZeroPadding2D', { padding: pad }), conv()]), w)).toBe(`${at}unsupported padding of a 1-D convolution`);
    }
    expect(reason(layers([L('MaxPooling2D'), conv()]), w)).toBe(`${at}a Reshape to (C, 1, L) is read only around a Conv2D (a 1-D convolution)`);
    expect(reason(layers([L('MaxPooling2D', { kernel_size: [1, 2] })]), w)).toBe(`${at}a Reshape to (C, 1, L) is read only around a Conv2D (a 1-D convolution)`);
    expect(reason(seq([L('Reshape', input([1, 4], { name: 'r', target_shape: [1, 1, 4] })), conv()]), w))
      .toBe(`${at}a Reshape to (C, 1, L) is read only around a Conv2D (a 1-D convolution)`);
    for (const c of [{ kernel_size: [2, 2] }, { kernel_size: 'x' }, { strides: [2, 1] }, { strides: 0 }, { padding: 'same' }]) {
      expect(reason(layers([conv(c)]), w)).toBe(`${at}a Conv2D between Reshapes must have a 1 x K kernel, valid padding`);
    }
    expect(reason(layers([conv({ data_format: 'channels_last' })]), w)).toBe(`${at}data_format 'channels_last' is not supported: nodenn is NCHW, only channels_first is read`);
    expect(reason(layers([conv()], [1, 1, 3]), w)).toBe("layer 2 (Reshape): expected the 1-D convolution's output [1, 3]");
    expect(reason(layers([conv()], 'x' as never), w)).toBe("layer 2 (Reshape): expected the 1-D convolution's output [1, 3]");
    expect(reason(layers([conv({ activation: 'swish' })]), w)).toBe(`${at}the activation 'swish' is not supported (relu, sigmoid, tanh, softmax, linear)`);
    expect(io.decodeTfjs(layers([conv({ use_bias: false })]), w).layers[0]).toMatchObject({ hasBias: false });
    expect(reason(layers([conv({ name: undefined })]), w)).toBe("the weight '/kernel' is not in the weights manifest");
    expect(reason(layers([conv({ filters: null })]), w)).toBe(`${at}filters must be a positive integer, got null`);
    // the Reshape's own target checks: no other Reshape than flattening or (C, 1, L)
    for (const t of [[2, 1, 4], [1, 2, 4], [1, 1, 5], [4, 1]]) {
      expect(reason(seq([L('Reshape', input([1, 4], { name: 'r', target_shape: t })), conv()]), w))
        .toBe(`${at}a Reshape to [${t.join(', ')}] is not supported (only flattening, and around a 1-D convolution)`);
    }
    expect(reason(seq([L('Reshape', input([1, 4], { name: 'r', target_shape: 4 }))]))).toBe(`${at}target_shape must be an array`);
    // (C, 1, L) only from a (C, L) input, and only three axes; the Reshape last
    expect(reason(seq([L('Reshape', input([2, 3, 4], { name: 'r', target_shape: [2, 1, 3] })), conv()]), w))
      .toBe(`${at}a Reshape to [2, 1, 3] is not supported (only flattening, and around a 1-D convolution)`);
    expect(reason(seq([L('Reshape', input([1, 4], { name: 'r', target_shape: [1, 1, 4, 1] })), conv()]), w))
      .toBe(`${at}a Reshape to [1, 1, 4, 1] is not supported (only flattening, and around a 1-D convolution)`);
    expect(reason(seq([L('Reshape', input([1, 4], { name: 'r', target_shape: [1, 1, 4] }))]), w))
      .toBe(`${at}a Reshape to (C, 1, L) is read only around a Conv2D (a 1-D convolution)`);
  });

  it('Reshape to one axis is a Flatten, only where there is something to flatten', () => {
    for (const t of [[12], [-1]]) expect(names(io.decodeTfjs(seq([L('Reshape', input([3, 4], { target_shape: t }))]), new Map()))).toEqual(['Flatten']);
    expect(names(io.decodeTfjs(seq([L('ReLU', input([6])), L('Reshape', { target_shape: [6] })]), new Map()))).toEqual(['ReLU']);
    expect(reason(seq([L('Reshape', input([3, 4], { name: 'r', target_shape: [11] }))])))
      .toBe("layer 0 (Reshape 'r'): a Reshape to [11] is not supported (only flattening, and around a 1-D convolution)");
    expect(reason(seq([L('Reshape', input([3, 4], { name: 'r', target_shape: [6, 2] }))])))
      .toBe("layer 0 (Reshape 'r'): a Reshape to [6, 2] is not supported (only flattening, and around a 1-D convolution)");
  });

  it('pools: their size, strides (the size by default), and padding', () => {
    const pool = (cls: string, c: Record<string, unknown>) => io.decodeTfjs(seq([L(cls, input([1, 4, 6], { data_format: 'channels_first', name: 'q', ...c }))]), new Map());
    const x = Array.from({ length: 24 }, (_, i) => i);
    const m = pool('MaxPooling2D', {});
    expect(m.layers[0]).toBeInstanceOf(MaxPool2D);
    expect(m.layers[0]).toMatchObject({ kernelSize: [2, 2], stride: [2, 2] });
    expect(run(m, x, [1, 1, 4, 6])).toEqual([7, 9, 11, 19, 21, 23]);
    const a = pool('AveragePooling2D', { pool_size: [1, 3], strides: null });
    expect(a.layers[0]).toBeInstanceOf(AvgPool2D);
    expect(a.layers[0]).toMatchObject({ kernelSize: [1, 3], stride: [1, 3] });
    expect(pool('AveragePooling2D', { pool_size: 2, strides: 1 }).layers[0]).toMatchObject({ kernelSize: [2, 2], stride: [1, 1] });
    expect(pool('MaxPooling2D', { pool_size: 3, strides: [1, 2], padding: 'valid' }).layers[0]).toMatchObject({ kernelSize: [3, 3], stride: [1, 2] });
    const at = (cls: string) => `layer 0 (${cls} 'q'): `;
    const refused = (cls: string, c: Record<string, unknown>) => reason(seq([L(cls, input([1, 4, 6], { data_format: 'channels_first', name: 'q', ...c }))]));
    expect(refused('MaxPooling2D', { padding: 'same' })).toBe(`${at('MaxPooling2D')}padding 'same' is not supported (valid)`);
    expect(refused('AveragePooling2D', { pool_size: [0, 2] })).toBe(`${at('AveragePooling2D')}pool_size must be a number or [h, w]`);
    expect(refused('MaxPooling2D', { strides: [2] })).toBe(`${at('MaxPooling2D')}strides must be a number or [h, w]`);
    expect(refused('MaxPooling2D', { data_format: 'channels_last' })).toBe(`${at('MaxPooling2D')}data_format 'channels_last' is not supported: nodenn is NCHW, only channels_first is read`);
    expect(refused('GlobalAveragePooling2D', { data_format: undefined })).toBe(`${at('GlobalAveragePooling2D')}data_format 'channels_last' is not supported: nodenn is NCHW, only channels_first is read`);
    expect(run(pool('GlobalAveragePooling2D', {}), x, [1, 1, 4, 6])).toEqual([11.5]);
  });

  it('activations, Softmax, Flatten and Dropout: their defaults and refusals', () => {
    const one = (cls: string, c: Record<string, unknown> = {}, shape = [3]) => io.decodeTfjs(seq([L(cls, input(shape, { name: 'a', ...c }))]), new Map());
    const at = (cls: string) => `layer 0 (${cls} 'a'): `;
    expect(names(one('Activation', { activation: 'sigmoid' }))).toEqual(['Sigmoid']);
    expect(names(one('Activation', { activation: 'tanh' }))).toEqual(['Tanh']);
    expect(names(one('Activation', { activation: 'softmax' }))).toEqual(['Softmax']);
    expect(names(one('Activation', { activation: 'linear' }))).toEqual([]);
    expect(names(one('Activation', {}))).toEqual([]);
    expect(reason(seq([L('Activation', input([3], { name: 'a', activation: 'elu' }))]))).toBe(`${at('Activation')}the activation 'elu' is not supported (relu, sigmoid, tanh, softmax, linear)`);
    // null is Keras's default (linear); anything else but a string is refused, never read as linear
    expect(names(one('Activation', { activation: null }))).toEqual([]);
    for (const [activation, got] of [[1, '1'], [{ class_name: 'relu' }, 'an object'], [['relu'], 'an array of length 1'], [false, 'false']] as const) {
      expect(reason(seq([L('Activation', input([3], { name: 'a', activation }))]))).toBe(`${at('Activation')}activation must be a string, got ${got}`);
      expect(reason(seq([L('Dense', input([2], { name: 'h', units: 3, activation }))]), W(['h/kernel', [2, 3]], ['h/bias', [3]])))
        .toBe(`layer 0 (Dense 'h'): activation must be a string, got ${got}`);
    }
    expect(reason(seq([L('ZeroPadding2D', input([1, 2, 2], { name: 'a', padding: 1, data_format: 1 }))])))
      .toBe(`${at('ZeroPadding2D')}data_format must be a string, got 1`);
    expect(names(one('ReLU', { max_value: null }))).toEqual(['ReLU']);
    expect(reason(seq([L('ReLU', input([3], { name: 'a', max_value: 6 }))]))).toBe(`${at('ReLU')}max_value is not supported`);
    expect((one('LeakyReLU').layers[0] as LeakyReLU).config()).toEqual({ type: 'LeakyReLU', slope: 0.3 });
    expect((one('LeakyReLU', { alpha: 0.05 }).layers[0] as LeakyReLU).config()).toEqual({ type: 'LeakyReLU', slope: 0.05 });
    for (const axis of [undefined, null, -1, 1]) expect(names(one('Softmax', { axis }))).toEqual(['Softmax']);
    expect(names(one('Softmax', { axis: 2 }, [3, 4]))).toEqual(['Softmax']);
    expect(reason(seq([L('Softmax', input([3, 4], { name: 'a', axis: 1 }))]))).toBe(`${at('Softmax')}softmax over axis 1 (only the last axis)`);
    expect(reason(seq([L('Softmax', input([3], { name: 'a', axis: 'x' }))]))).toBe(`${at('Softmax')}softmax over axis the string 'x' (only the last axis)`);
    expect(names(one('Flatten', {}, [2, 3]))).toEqual(['Flatten']);
    expect(names(one('Flatten', { data_format: 'channels_last' }, [2, 3]))).toEqual(['Flatten']);
    expect(names(one('Flatten', { data_format: 'channels_first' }, [3]))).toEqual([]);
    expect(reason(seq([L('Flatten', input([2, 3], { name: 'a', data_format: 'channels_first' }))])))
      .toBe(`${at('Flatten')}a channels_first Flatten reorders the features, which nodenn does not`);
    expect((one('Dropout').layers[0] as Dropout).p).toBe(0.5);
    expect((one('Dropout', { rate: null }).layers[0] as Dropout).p).toBe(0.5);
    expect((one('Dropout', { rate: 0.2 }).layers[0] as Dropout).p).toBe(0.2);
    expect(reason(seq([L('Dropout', input([3], { name: 'a', rate: 2 }))]))).toMatch(/^layer 0 \(Dropout 'a'\): \S/);
  });

  it('BatchNormalization: its axis, defaults, parameters, and the Permutes around a channels batch norm', () => {
    const C = [3];
    const w = W(['b/gamma', C, [1, 2, 3]], ['b/beta', C, [0, 1, 2]], ['b/moving_mean', C, [1, 1, 1]], ['b/moving_variance', C, [4, 4, 4]]);
    const bn1 = (c: Record<string, unknown> = {}) => seq([L('BatchNormalization', input([3], { name: 'b', ...c }))]);
    const n = io.decodeTfjs(bn1(), w);
    expect(n.layers[0]).toBeInstanceOf(BatchNorm1D);
    expect(n.layers[0]).toMatchObject({ eps: 1e-3 });
    expect((n.layers[0] as BatchNorm1D).momentum).toBeCloseTo(0.01, 12);
    const r = 2 / Math.sqrt(4.001);
    run(n, [3, 3, 3], [1, 3]).forEach((v, i) => expect(v).toBeCloseTo([r, 2 * r + 1, 3 * r + 2][i], 5));
    const e = io.decodeTfjs(bn1({ epsilon: 0.5, momentum: 0.9, axis: 1 }), w).layers[0] as BatchNorm1D;
    expect(e.eps).toBe(0.5);
    expect(e.momentum).toBeCloseTo(0.1, 12);
    const at = "layer 0 (BatchNormalization 'b'): ";
    for (const axis of [2, 0, 'x']) expect(reason(bn1({ axis }), w)).toBe(`${at}axis ${JSON.stringify(axis)} is not supported (the channel axis 1)`);
    expect(reason(bn1({ center: false }), w)).toBe(`${at}center and scale must be true`);
    expect(reason(bn1({ scale: false }), w)).toBe(`${at}center and scale must be true`);
    expect(reason(seq([L('BatchNormalization', input([3, 2, 2], { name: 'b' }))]), w)).toBe(`${at}axis -1 is not supported (the channel axis 1)`);
    const b2 = io.decodeTfjs(seq([L('BatchNormalization', input([3, 2, 2], { name: 'b', axis: 1 }))]), w);
    expect(b2.layers[0]).toBeInstanceOf(BatchNorm2D);
    expect(reason(seq([L('BatchNormalization', input([3], { axis: 1 }))]), w)).toBe("the weight '/gamma' is not in the weights manifest");
    const missing = new Map(w);
    missing.delete('b/moving_variance');
    expect(reason(bn1(), missing)).toBe("the weight 'b/moving_variance' is not in the weights manifest");
    // Permute [2, 3, 1] / [2, 1], a BatchNormalization of the last axis, Permute [3, 1, 2] / [2, 1]
    const permuted = (rank: number, there: number[], back: number[], axis: unknown = -1, shape = rank === 4 ? [3, 2, 2] : [3, 2]) => seq([
      L('Permute', input(shape, { name: 'p', dims: there })), L('BatchNormalization', { name: 'b', axis }), L('Permute', { dims: back })]);
    const p4 = io.decodeTfjs(permuted(4, [2, 3, 1], [3, 1, 2]), w);
    expect(p4.layers.map((l) => l.constructor)).toEqual([BatchNorm2D]);
    expect(names(io.decodeTfjs(permuted(4, [2, 3, 1], [3, 1, 2], 3), w))).toEqual(['BatchNorm2D']);
    const p3 = io.decodeTfjs(permuted(3, [2, 1], [2, 1]), w);
    expect(p3.layers.map((l) => l.constructor)).toEqual([BatchNorm1D]);
    expect(names(io.decodeTfjs(permuted(3, [2, 1], [2, 1], 2), w))).toEqual(['BatchNorm1D']);
    expect(run(p3, [1, 1, 1, 1, 1, 1], [1, 3, 2]).map((v) => +v.toFixed(4))).toEqual([0, 0, 1, 1, 2, 2]);
    const pat = "layer 0 (Permute 'p'): a Permute is read only around a BatchNormalization of the last axis (a batch norm of channels)";
    expect(reason(permuted(4, [2, 1], [3, 1, 2]), w)).toBe(pat);
    expect(reason(permuted(4, [2, 3, 1], [2, 1]), w)).toBe(pat);
    expect(reason(permuted(3, [2, 3, 1], [3, 1, 2]), w)).toBe(pat);
    expect(reason(permuted(4, [2, 3, 1], [3, 1, 2], 1), w)).toBe(pat);
    expect(reason(permuted(4, [2, 3, 1], [3, 1, 2], 2), w)).toBe(pat);
    expect(reason(permuted(3, [2, 1], [2, 1], -1, [3]), w)).toBe(pat);
    expect(reason(permuted(4, [2, 3, 1], [3, 1, 2], -1, [3]), w)).toBe(pat);
    expect(reason(seq([L('Permute', input([3, 2], { name: 'p', dims: [2, 1] }))]), w)).toBe(pat);
    expect(reason(seq([L('Permute', input([3, 2], { name: 'p', dims: [2, 1] })), L('Dense', { axis: -1 }), L('Permute', { dims: [2, 1] })]), w)).toBe(pat);
    expect(reason(seq([L('Permute', input([3, 2], { name: 'p', dims: [2, 1] })), L('BatchNormalization', { name: 'b' })]), w)).toBe(pat);
    expect(reason(seq([L('Permute', input([3, 2], { name: 'p', dims: [2, 1] })), L('BatchNormalization', { name: 'b', axis: 2, center: false }), L('Permute', { dims: [2, 1] })]), w))
      .toBe("layer 1 (BatchNormalization 'b'): center and scale must be true");
    // what follows the second Permute is read after it
    const after = seq([L('Permute', input([3, 2], { name: 'p', dims: [2, 1] })), L('BatchNormalization', { name: 'b' }), L('Permute', { dims: [2, 1] }), L('ReLU')]);
    expect(names(io.decodeTfjs(after, w))).toEqual(['BatchNorm1D', 'ReLU']);
  });

  it('an error a layer throws is a TfjsError naming the layer', () => {
    const r = reason(seq([L('MaxPooling2D', input([1, 2, 2], { name: 'q', pool_size: 3, data_format: 'channels_first' }))]));
    expect(r).toMatch(/^layer 0 \(MaxPooling2D 'q'\): MaxPool2D: \S/);
  });
});

describe('loadTfjs: the files', () => {
  const dense = (spec: Record<string, unknown>[] = [{ name: 'd/kernel', shape: [2, 1], dtype: 'float32' }]) => ({
    format: 'layers-model',
    modelTopology: { class_name: 'Sequential', config: { layers: [L('Dense', input([2], { name: 'd', units: 1, use_bias: false }))] } },
    weightsManifest: [{ paths: ['a.bin'], weights: spec }],
  });
  const folder = (name: string, modelJson: unknown, files: Record<string, number[]> = {}) => {
    const at = path.join(dir, name);
    fs.mkdirSync(at);
    fs.writeFileSync(path.join(at, 'model.json'), JSON.stringify(modelJson));
    for (const [f, v] of Object.entries(files)) fs.writeFileSync(path.join(at, f), new Uint8Array(Float32Array.from(v).buffer));
    return at;
  };
  const refused = async (at: string) => {
    const e = await loadTfjs(at).then(() => null, (err: unknown) => err);
    expect(e).toBeInstanceOf(io.TfjsError);
    expect((e as io.TfjsError).file).toBe(path.join(at, 'model.json'));
    return (e as io.TfjsError).reason;
  };

  it('the path: a folder or model.json itself; not a string refused', async () => {
    const at = folder('plain', dense(), { 'a.bin': [2, 3] });
    for (const p of [at, path.join(at, 'model.json')]) expect(Array.from((await loadTfjs(p)).forward(new Tensor(Float32Array.of(1, 1), [1, 2])).data)).toEqual([5]);
    for (const [p, got] of [['', "the string ''"], [5, '5'], [undefined, 'undefined']] as const) {
      await expect(loadTfjs(p as never)).rejects.toThrow(new TypeError(`loadTfjs: path must be a non-empty string, got ${got}`));
    }
  });

  it('weights across groups and files, each group read from its own start, in the manifest order', async () => {
    const mj = {
      modelTopology: { class_name: 'Sequential', config: { layers: [L('Dense', input([2], { name: 'd', units: 2 })), L('Dense', { name: 'e', units: 1, use_bias: false })] } },
      weightsManifest: [
        { paths: ['g1a.bin', 'g1b.bin'], weights: [{ name: 'd/kernel', shape: [2, 2], dtype: 'float32' }, { name: 'd/bias', shape: [2], dtype: 'float32' }] },
        { paths: ['g2.bin'], weights: [{ name: 'e/kernel', shape: [2, 1], dtype: 'float32' }] },
      ],
    };
    const at = folder('groups', mj, { 'g1a.bin': [1, 2, 3], 'g1b.bin': [4, 10, 20], 'g2.bin': [1, 100] });
    const net = await loadTfjs(at);
    // h = [1, 1] (1 2; 3 4) + (10, 20) = (14, 26); y = 14 + 2600
    expect(Array.from(net.forward(new Tensor(Float32Array.of(1, 1), [1, 2])).data)).toEqual([2614]);
    expect(Array.from((net.layers[0] as Dense).weight.data)).toEqual([1, 2, 3, 4]);
  });

  it('no weightsManifest: no weights; a manifest that is not a list', async () => {
    const { weightsManifest: _, ...bare } = dense();
    expect(await refused(folder('bare', bare))).toBe("the weight 'd/kernel' is not in the weights manifest");
    expect(names(await loadTfjs(folder('bare-relu', { modelTopology: seq([L('ReLU', input([2]))]).modelTopology })))).toEqual(['ReLU']);
    const want = 'weightsManifest must be a list of { paths: string[], weights: { name, shape, dtype }[] }';
    const bad: unknown[] = [null, {}, [{ paths: [5], weights: [] }], [{ paths: ['a.bin', 5], weights: [] }], [{ paths: ['a.bin'], weights: {} }], [{ paths: ['a.bin'], weights: [null] }],
      [{ paths: ['a.bin'], weights: [{ name: 5, shape: [2, 1], dtype: 'float32' }] }], [{ paths: ['a.bin'], weights: [{ name: 'd/kernel', shape: [2, 1], dtype: 1 }] }],
      [{ paths: ['a.bin'], weights: [{ name: 'd/kernel', shape: [2, 1] }] }], [{ paths: ['a.bin'], weights: [{ name: 'd/kernel', shape: 2, dtype: 'float32' }] }]];
    for (const [k, weightsManifest] of bad.entries()) expect(await refused(folder(`bad-${k}`, { ...dense(), weightsManifest }))).toBe(want);
  });

  it('other dtypes, quantized weights and short weight files are refused naming the weight', async () => {
    const at = (k: string, spec: Record<string, unknown>[], bin: number[]) => folder(k, dense(spec), { 'a.bin': bin });
    expect(await refused(at('int32', [{ name: 'd/kernel', shape: [2, 1], dtype: 'int32' }], [1, 2])))
      .toBe("the weight 'd/kernel' is int32; loadTfjs reads float32");
    expect(await refused(at('quant', [{ name: 'd/kernel', shape: [2, 1], dtype: 'float32', quantization: { dtype: 'uint8', scale: 1, min: 0 } }], [1, 2])))
      .toBe("the weight 'd/kernel' is float32 (quantized); loadTfjs reads float32");
    expect(await refused(at('short', [{ name: 'd/kernel', shape: [2, 1], dtype: 'float32' }], [1])))
      .toBe("the weight files end before the weight 'd/kernel' (a.bin)");
    expect(await refused(at('short2', [{ name: 'x', shape: [1], dtype: 'float32' }, { name: 'd/kernel', shape: [2, 1], dtype: 'float32' }], [7, 1])))
      .toBe("the weight files end before the weight 'd/kernel' (a.bin)");
    const two = folder('short-two', { ...dense(), weightsManifest: [{ paths: ['a.bin', 'b.bin'], weights: [{ name: 'd/kernel', shape: [3], dtype: 'float32' }] }] },
      { 'a.bin': [1], 'b.bin': [2] });
    expect(await refused(two)).toBe("the weight files end before the weight 'd/kernel' (a.bin, b.bin)");
    // exactly long enough, and longer: read
    expect(Array.from(((await loadTfjs(at('exact', [{ name: 'd/kernel', shape: [2, 1], dtype: 'float32' }], [2, 3, 4]))).layers[0] as Dense).weight.data)).toEqual([2, 3]);
    expect(await refused(at('badjson-shape', [{ name: 'd/kernel', shape: [1, 2], dtype: 'float32' }], [1, 2])))
      .toBe("the weight 'd/kernel' has shape [1, 2], expected [2, 1]");
  });
});

describe('encodeTfjs and exportTfjs', () => {
  it('the options, the input shape and the directory, word for word', async () => {
    const net = new Sequential([new Dense(3, 2)]);
    for (const [o, got] of [[null, 'null'], [5, '5'], ['x', "the string 'x'"]] as const) {
      expect(() => io.encodeTfjs(net, o as never)).toThrow(new TypeError(`exportTfjs options must be an object, got ${got}`));
    }
    for (const [v, got] of [[[], 'an array of length 0'], [[1.5], 'an array of length 1'], [[3, 0], 'an array of length 2'], ['3', "the string '3'"]] as const) {
      expect(() => io.encodeTfjs(net, { inputShape: v as never })).toThrow(new TypeError(`exportTfjs: inputShape must be an array of positive integers, got ${got}`));
    }
    expect(() => io.encodeTfjs(new Sequential([new Flatten()]))).toThrow(new TypeError('exportTfjs: the network\'s input shape is unknown: pass { inputShape } with the shape of one sample, e.g. [1, 28, 28]'));
    expect(() => io.encodeTfjs(new Sequential([]), { inputShape: [2] })).toThrow(new RangeError('exportTfjs: the network has no layers'));
    expect(() => io.encodeTfjs(net, { inputShape: [4] })).toThrow(/^exportTfjs: the input shape \[4\] does not fit layer 0 \(Dense\): Dense: \S/);
    expect(() => io.encodeTfjs(new Sequential([new Dense(2, 2), new Step()]))).toThrow(new TypeError('exportTfjs: layer 1 (Step) has no TensorFlow.js counterpart'));
    // the shape: the option, else the one last run, else a first Dense's
    expect(io.encodeTfjs(net).modelJson.modelTopology.config.layers[0].config.batch_input_shape).toEqual([null, 3]);
    const flat = new Sequential([new Flatten(), new Dense(6, 2)]);
    flat.predict(new Tensor(new Float32Array(12), [2, 2, 3]));
    expect(io.encodeTfjs(flat).modelJson.modelTopology.config.layers[0].config.batch_input_shape).toEqual([null, 2, 3]);
    expect(io.encodeTfjs(flat, { inputShape: [3, 2] }).modelJson.modelTopology.config.layers[0].config.batch_input_shape).toEqual([null, 3, 2]);
    for (const [d, got] of [['', "the string ''"], [5, '5'], [undefined, 'undefined']] as const) {
      await expect(io.exportTfjs(net, d as never)).rejects.toThrow(new TypeError(`exportTfjs: dir must be a non-empty string, got ${got}`));
    }
  });

  it('model.json as written: the header, each layer config, the weights in order and their bytes', async () => {
    const dense = new Dense(4, 3, { seed: 1 }), conv = new Conv1D(1, 2, 2, { stride: 1, padding: 1, bias: false });
    const net = new Sequential([new Conv2D(1, 1, [2, 1], { padding: [0, 1], stride: [1, 2] }), new MaxPool2D([1, 1], { stride: 1 }), new Flatten(),
      new LeakyReLU(0.2), new Dropout(0.25), new ReLU(), new Dense(2, 1), new BatchNorm1D(1, { eps: 0.01, momentum: 0.2 })], { seed: 3 });
    const { modelJson, weightData } = io.encodeTfjs(net, { inputShape: [1, 2, 2] });
    expect(modelJson).toMatchObject({ format: 'layers-model', convertedBy: null, modelTopology: { class_name: 'Sequential', keras_version: 'tfjs-layers 4.22.0',
      backend: 'tensor_flow.js', config: { name: 'nodenn_sequential' } } });
    expect(modelJson.generatedBy).toMatch(/^nodenn \d+\.\d+\.\d+/);
    expect(modelJson.modelTopology.config.layers).toEqual([
      L('ZeroPadding2D', { name: 'conv_0_pad', trainable: true, padding: [[0, 0], [1, 1]], data_format: 'channels_first', batch_input_shape: [null, 1, 2, 2], dtype: 'float32' }),
      L('Conv2D', { name: 'conv_0', trainable: true, filters: 1, kernel_size: [2, 1], strides: [1, 2], padding: 'valid', data_format: 'channels_first',
        dilation_rate: [1, 1], activation: 'linear', use_bias: true }),
      L('MaxPooling2D', { name: 'pool_1', trainable: true, pool_size: [1, 1], strides: [1, 1], padding: 'valid', data_format: 'channels_first' }),
      L('Flatten', { name: 'flatten_2', trainable: true }),
      L('LeakyReLU', { name: 'act_3', trainable: true, alpha: 0.2 }),
      L('Dropout', { name: 'dropout_4', trainable: true, rate: 0.25 }),
      L('Activation', { name: 'act_5', trainable: true, activation: 'relu' }),
      L('Dense', { name: 'dense_6', trainable: true, units: 1, activation: 'linear', use_bias: true }),
      L('BatchNormalization', { name: 'bn_7', trainable: true, axis: -1, epsilon: 0.01, momentum: 0.8, center: true, scale: true }),
    ]);
    expect(modelJson.weightsManifest).toEqual([{ paths: ['weights.bin'], weights: [
      { name: 'conv_0/kernel', shape: [2, 1, 1, 1], dtype: 'float32' }, { name: 'conv_0/bias', shape: [1], dtype: 'float32' },
      { name: 'dense_6/kernel', shape: [2, 1], dtype: 'float32' }, { name: 'dense_6/bias', shape: [1], dtype: 'float32' },
      ...['gamma', 'beta', 'moving_mean', 'moving_variance'].map((n) => ({ name: `bn_7/${n}`, shape: [1], dtype: 'float32' })),
    ] }]);
    const c = net.layers[0] as Conv2D, d = net.layers[6] as Dense, b = net.layers[7] as BatchNorm1D;
    const want = [...c.weight.data, ...c.bias!.data, ...d.weight.data, ...d.bias!.data, ...b.weight.data, ...b.bias.data, ...b.runningMean.data, ...b.runningVar.data];
    expect(Array.from(new Float32Array(weightData.buffer, weightData.byteOffset, weightData.byteLength / 4))).toEqual(want);
    // Conv1D between Reshapes, a Dense on images flattened first, pools and a batch norm of channels
    const more = new Sequential([conv, new BatchNorm1D(2), new Flatten(), dense], { seed: 4 });
    const layers = io.encodeTfjs(more, { inputShape: [1, 1] }).modelJson.modelTopology.config.layers;
    expect(layers.map((l) => [l.class_name, l.config.name])).toEqual([['Reshape', 'conv1d_0_in'], ['ZeroPadding2D', 'conv_0_pad'], ['Conv2D', 'conv_0'],
      ['Reshape', 'conv1d_0_out'], ['Permute', 'bn_1_in'], ['BatchNormalization', 'bn_1'], ['Permute', 'bn_1_out'], ['Flatten', 'flatten_2'], ['Dense', 'dense_3']]);
    expect(layers[0].config.target_shape).toEqual([1, 1, 1]);
    expect(layers[3].config.target_shape).toEqual([2, 2]);
    expect(layers[4].config.dims).toEqual([2, 1]);
    expect(layers[6].config.dims).toEqual([2, 1]);
    const img = io.encodeTfjs(new Sequential([new BatchNorm2D(1), new AvgPool2D(1), new Dense(4, 1, { bias: false })]), { inputShape: [1, 2, 2] }).modelJson.modelTopology.config.layers;
    expect(img.map((l) => l.class_name)).toEqual(['Permute', 'BatchNormalization', 'Permute', 'AveragePooling2D', 'Flatten', 'Dense']);
    expect([img[0].config.dims, img[2].config.dims, img[4].config.name, img[5].config.use_bias]).toEqual([[2, 3, 1], [3, 1, 2], 'flatten_2_in', false]);
    expect(io.encodeTfjs(new Sequential([new GlobalAvgPool2D(), new Softmax()]), { inputShape: [1, 2, 2] }).modelJson.modelTopology.config.layers
      .map((l) => [l.class_name, l.config.name, l.config.activation ?? l.config.data_format])).toEqual([
      ['GlobalAveragePooling2D', 'pool_0', 'channels_first'], ['Activation', 'act_1', 'softmax']]);
    // written: the folder made, model.json ends with a newline
    const out = path.join(dir, 'deep', 'er');
    await io.exportTfjs(net, out, { inputShape: [1, 2, 2] });
    expect(fs.readFileSync(path.join(out, 'model.json'), 'utf8')).toBe(`${JSON.stringify(modelJson)}\n`);
    expect(new Uint8Array(fs.readFileSync(path.join(out, 'weights.bin')))).toEqual(weightData);
  });
});
