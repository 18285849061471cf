// net.exportOnnx: every built-in layer and an MNIST-sized MLP and CNN run in ONNX Runtime (onnxruntime-node) and
// give nodenn's outputs to 1e-5 (|a - b| <= 1e-5 max(1, |b|), float32) on every backend.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import {
  AvgPool2D, BatchNorm1D, BatchNorm2D, Conv1D, Conv2D, Dense, Dropout, Flatten, GlobalAvgPool2D, Layer, LeakyReLU,
  MaxPool2D, ReLU, Sequential, Sigmoid, Softmax, Step, Tanh, Tensor, io,
} from '../src/index';
import { onnxTypes } from '../src/io/onnx/proto';
import { backends, expectClose, randomArray, useBackend } from './helpers';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodenn-onnx-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const session = (model: Uint8Array | string) => ort.InferenceSession.create(model as never, { intraOpNumThreads: 1, interOpNumThreads: 1 });

async function runOrt(model: Uint8Array | string, x: Tensor, input = 'input', output = 'output'): Promise<{ data: Float32Array; dims: number[] }> {
  const s = await session(model);
  const r = await s.run({ [input]: new ort.Tensor('float32', Float32Array.from(x.data), [...x.shape]) });
  await s.release();
  return { data: r[output].data as Float32Array, dims: [...r[output].dims] };
}

/** The operator types of a model's graph, in order. */
function opTypes(model: Uint8Array): string[] {
  const m = onnxTypes().ModelProto.decode(model) as unknown as { graph: { node: { op_type: string }[] } };
  return m.graph.node.map((n) => n.op_type);
}

/** expectClose, with NaN equal to NaN. */
function expectOrtClose(actual: ArrayLike<number>, expected: ArrayLike<number>): void {
  const nan = (a: ArrayLike<number>) => Array.from(a, (v) => Number.isNaN(v));
  expect(nan(actual)).toEqual(nan(expected));
  expectClose(Array.from(actual, (v) => (Number.isNaN(v) ? 0 : v)), Array.from(expected, (v) => (Number.isNaN(v) ? 0 : v)), 1e-5);
}

const input = (shape: number[], seed: number, scale = 2) => new Tensor(randomArray(Float32Array, shape.reduce((a, b) => a * b), seed, -scale, scale) as Float32Array, shape);

/** A BatchNorm with statistics and affine parameters away from their defaults. */
function batchNorm<T extends BatchNorm1D | BatchNorm2D>(bn: T, seed: number): T {
  const C = bn.numFeatures;
  bn.weight.data.set(randomArray(Float32Array, C, seed, 0.5, 2));
  bn.bias.data.set(randomArray(Float32Array, C, seed + 1));
  bn.runningMean.data.set(randomArray(Float32Array, C, seed + 2));
  bn.runningVar.data.set(randomArray(Float32Array, C, seed + 3, 0.2, 3));
  return bn;
}

interface Case {
  name: string;
  make: () => Layer[];
  inputShape: number[];
  ops: string[];
  x?: () => Tensor;
}

const cases: Case[] = [
  { name: 'Dense', make: () => [new Dense(6, 4)], inputShape: [6], ops: ['Gemm'] },
  { name: 'Dense without bias on (N, C, H, W)', make: () => [new Dense(12, 5, { bias: false })], inputShape: [3, 2, 2], ops: ['Flatten', 'Gemm'] },
  { name: 'Conv2D (stride 2, padding [1, 2])', make: () => [new Conv2D(3, 4, [3, 2], { stride: 2, padding: [1, 2] })], inputShape: [3, 7, 6], ops: ['Conv'] },
  { name: 'Conv2D without bias', make: () => [new Conv2D(2, 3, 3, { bias: false })], inputShape: [2, 5, 5], ops: ['Conv'] },
  { name: 'Conv1D (stride 2, padding 1)', make: () => [new Conv1D(3, 4, 3, { stride: 2, padding: 1 })], inputShape: [3, 9], ops: ['Conv'] },
  { name: 'MaxPool2D (3, stride 2)', make: () => [new MaxPool2D(3, { stride: 2 })], inputShape: [2, 7, 8], ops: ['MaxPool'] },
  { name: 'AvgPool2D ([2, 3])', make: () => [new AvgPool2D([2, 3])], inputShape: [2, 6, 7], ops: ['AveragePool'] },
  { name: 'GlobalAvgPool2D', make: () => [new GlobalAvgPool2D()], inputShape: [3, 4, 5], ops: ['GlobalAveragePool', 'Flatten'] },
  { name: 'ReLU', make: () => [new ReLU()], inputShape: [7], ops: ['Relu'] },
  { name: 'LeakyReLU(0.2)', make: () => [new LeakyReLU(0.2)], inputShape: [7], ops: ['LeakyRelu'] },
  { name: 'Sigmoid', make: () => [new Sigmoid()], inputShape: [2, 3], ops: ['Sigmoid'] },
  { name: 'Tanh', make: () => [new Tanh()], inputShape: [7], ops: ['Tanh'] },
  {
    name: 'Step (0, negative zero and NaN included)', make: () => [new Step()], inputShape: [6], ops: ['Greater', 'Cast', 'IsNaN', 'Where'],
    x: () => new Tensor(new Float32Array([-1, 0, -0, 0.5, NaN, 3, 2, -2, 1e-30, -1e-30, Infinity, -Infinity]), [2, 6]),
  },
  { name: 'Softmax', make: () => [new Softmax()], inputShape: [9], ops: ['Softmax'] },
  { name: 'Softmax over the last axis of (N, C, L)', make: () => [new Softmax()], inputShape: [2, 5], ops: ['Softmax'] },
  { name: 'Flatten', make: () => [new Flatten(), new Dense(24, 2)], inputShape: [2, 3, 4], ops: ['Flatten', 'Gemm'] },
  { name: 'BatchNorm1D on (N, C)', make: () => [batchNorm(new BatchNorm1D(5, { eps: 1e-3 }), 1)], inputShape: [5], ops: ['BatchNormalization'] },
  { name: 'BatchNorm1D on (N, C, L)', make: () => [batchNorm(new BatchNorm1D(3), 2)], inputShape: [3, 4], ops: ['BatchNormalization'] },
  { name: 'BatchNorm2D', make: () => [batchNorm(new BatchNorm2D(3), 3)], inputShape: [3, 4, 5], ops: ['BatchNormalization'] },
  { name: 'Dropout (nothing in inference)', make: () => [new Dense(4, 3), new Dropout(0.5), new ReLU()], inputShape: [4], ops: ['Gemm', 'Relu'] },
  { name: 'Dropout alone (an Identity)', make: () => [new Dropout(0.2)], inputShape: [4], ops: ['Identity'] },
  {
    name: 'MNIST-sized MLP', inputShape: [784], ops: ['Gemm', 'Relu', 'Gemm', 'Relu', 'Gemm', 'Softmax'],
    make: () => [new Dense(784, 128), new ReLU(), new Dense(128, 64), new ReLU(), new Dense(64, 10), new Softmax()],
    x: () => input([16, 784], 7, 1),
  },
  {
    name: 'MNIST-sized CNN', inputShape: [1, 28, 28],
    ops: ['Conv', 'BatchNormalization', 'Relu', 'MaxPool', 'Conv', 'Relu', 'MaxPool', 'Flatten', 'Gemm', 'Tanh', 'Gemm', 'Softmax'],
    make: () => [new Conv2D(1, 8, 5, { padding: 2 }), batchNorm(new BatchNorm2D(8), 4), new ReLU(), new MaxPool2D(2),
      new Conv2D(8, 16, 3), new ReLU(), new MaxPool2D(2), new Dropout(0.25), new Flatten(), new Dense(16 * 6 * 6, 32), new Tanh(),
      new Dense(32, 10), new Softmax()],
    x: () => input([4, 1, 28, 28], 8, 1),
  },
];

describe.each(backends)('exportOnnx → ONNX Runtime ($label)', (c) => {
  it.each(cases)('$name', async ({ make, inputShape, ops, x: makeX }) => {
    useBackend(c);
    const net = new Sequential(make(), { seed: 3 });
    const model = io.encodeOnnx(net, { inputShape });
    expect(opTypes(model)).toEqual(ops);
    const x = makeX ? makeX() : input([3, ...inputShape], 5);
    const got = await runOrt(model, x);
    // forward in eval mode: predict refuses NaN inputs (the Step case), and fuses Conv2D paths it checks elsewhere
    const want = net.eval().forward(x);
    expect(got.dims).toEqual([...want.shape]);
    expectOrtClose(got.data, want.data);
  });
});

describe('exportOnnx: the file, the batch axis and the options', () => {
  it('writes a file that ONNX Runtime loads, with a free batch axis by default', async () => {
    const net = new Sequential([new Conv2D(1, 2, 3), new ReLU(), new Flatten(), new Dense(2 * 4 * 4, 3)], { seed: 1 });
    const file = path.join(dir, 'cnn.onnx');
    await net.exportOnnx(file, { opset: 17, inputShape: [1, 6, 6], dynamicBatch: true });
    const s = await session(file);
    expect([s.inputNames, s.outputNames]).toEqual([['input'], ['output']]);
    await s.release();
    for (const n of [1, 5]) {
      const x = input([n, 1, 6, 6], n);
      const got = await runOrt(file, x);
      expect(got.dims).toEqual([n, 3]);
      expectClose(got.data, net.eval().predict(x).data, 1e-5);
    }
    const m = onnxTypes().ModelProto.toObject(onnxTypes().ModelProto.decode(fs.readFileSync(file)), { longs: Number }) as {
      irVersion?: number; ir_version: number; producer_name: string; opset_import: { version: number }[];
      graph: { input: { type: { tensor_type: { shape: { dim: object[] } } } }[] };
    };
    expect([m.ir_version, m.producer_name, m.opset_import[0].version]).toEqual([8, 'nodenn', 17]);
    expect(m.graph.input[0].type.tensor_type.shape.dim).toEqual([{ dim_param: 'N' }, { dim_value: 1 }, { dim_value: 6 }, { dim_value: 6 }]);
  });

  it('dynamicBatch: false fixes the batch axis (ONNX Runtime refuses another batch size)', async () => {
    const net = new Sequential([new Dense(3, 2)]);
    const model = io.encodeOnnx(net, { dynamicBatch: false, batchSize: 2, inputName: 'x', outputName: 'y' });
    const x = input([2, 3], 1);
    const got = await runOrt(model, x, 'x', 'y');
    expectClose(got.data, net.predict(x).data, 1e-5);
    await expect(runOrt(model, input([3, 3], 1), 'x', 'y')).rejects.toThrow(/dimension|Got: 3 Expected: 2/i);
  });

  it('a float64 network exports float32 weights that give its outputs to float32 precision', async () => {
    const net = new Sequential([new Conv2D(1, 3, 3), new Tanh(), new Flatten(), new Dense(3 * 4 * 4, 4), new Softmax()], { seed: 6, dtype: 'float64' });
    const x64 = new Tensor(randomArray(Float64Array, 2 * 36, 3) as Float64Array, [2, 1, 6, 6]);
    const got = await runOrt(io.encodeOnnx(net, { inputShape: [1, 6, 6] }), x64);
    expectClose(got.data, net.eval().forward(x64).data, 1e-5);
  });

  it('the input shape defaults to the last input seen or a first Dense layer; otherwise it is asked for', () => {
    expect(() => io.encodeOnnx(new Sequential([new Conv2D(1, 1, 1)]))).toThrow("exportOnnx: the network's input shape is unknown");
    const net = new Sequential([new Conv2D(1, 1, 1), new Flatten()]);
    net.predict(input([1, 1, 2, 3], 1));
    const m = onnxTypes().ModelProto.decode(io.encodeOnnx(net)) as unknown as { graph: { output: { type: { tensor_type: { shape: { dim: { dim_value: number }[] } } } }[] } };
    expect(m.graph.output[0].type.tensor_type.shape.dim.slice(1).map((d) => Number(d.dim_value))).toEqual([6]);
  });

  it('refuses bad options and layers without an ONNX counterpart, naming them', async () => {
    const net = new Sequential([new Dense(3, 2)]);
    expect(() => io.encodeOnnx(net, { opset: 12 })).toThrow('exportOnnx: opset must be an integer from 13 to 17, got 12');
    expect(() => io.encodeOnnx(net, { opset: 18 })).toThrow(RangeError);
    expect(() => io.encodeOnnx(net, { inputShape: [4] })).toThrow('exportOnnx: the input shape [4] does not fit layer 0 (Dense)');
    expect(() => io.encodeOnnx(net, { inputShape: [0] as number[] })).toThrow('inputShape must be an array of positive integers');
    expect(() => io.encodeOnnx(net, { dynamic: true } as never)).toThrow("exportOnnx: unknown option 'dynamic'");
    expect(() => io.encodeOnnx(net, { inputName: 'a', outputName: 'a' })).toThrow('inputName and outputName must differ');
    class Twice extends Layer {
      forward(x: Tensor) { return x; }
      backward(d: Tensor) { return d; }
      outputShape(s: readonly number[]) { return [...s]; }
      config() { return { type: 'Twice' }; }
    }
    expect(() => io.encodeOnnx(new Sequential([new Dense(3, 2), new Twice()])))
      .toThrow('exportOnnx: layer 1 (Twice) has no ONNX counterpart');
    await expect(net.exportOnnx('')).rejects.toThrow(TypeError);
    expect(fs.readdirSync(dir).filter((f) => f.includes('Twice'))).toEqual([]);
  });
});
