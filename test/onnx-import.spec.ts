// nn.loadOnnx: models exported by PyTorch 1.13 (test/fixtures/interop/make_fixtures.py, with the outputs PyTorch
// computed) and graphs of ONNX's own helper reproduced to 1e-5 on every backend; nodenn → ONNX → nodenn round
// trips; every unsupported operator and attribute named.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  AvgPool2D, BatchNorm1D, BatchNorm2D, Conv1D, Conv2D, Dense, Dropout, Flatten, GlobalAvgPool2D, LeakyReLU, MaxPool2D,
  ReLU, Sequential, Sigmoid, Softmax, Step, Tanh, Tensor, io,
} from '../src/index';
import { onnxTypes } from '../src/io/onnx/proto';
import { backends, expectClose, randomArray, useBackend } from './helpers';

const FIXTURES = path.join(__dirname, 'fixtures', 'interop');

function expected(name: string): { x: Tensor; y: Tensor } {
  const j = JSON.parse(fs.readFileSync(path.join(FIXTURES, `${name}.json`), 'utf8'));
  return { x: new Tensor(Float32Array.from(j.input.data), j.input.shape), y: new Tensor(Float32Array.from(j.output.data), j.output.shape) };
}

const types = (net: Sequential) => net.layers.map((l) => l.name);

const fixtures: { name: string; layers: string[] }[] = [
  { name: 'mlp', layers: ['Dense', 'ReLU', 'Dense', 'LeakyReLU', 'Dense', 'Softmax'] },
  // PyTorch folds eval-mode BatchNorm2d into the convolution, and writes a Pad of zeros before AvgPool2d
  { name: 'cnn', layers: ['Conv2D', 'ReLU', 'MaxPool2D', 'Conv2D', 'Tanh', 'AvgPool2D', 'Flatten', 'Dense', 'Sigmoid'] },
  { name: 'conv1d', layers: ['Conv1D', 'ReLU', 'Conv1D', 'Flatten', 'Dense'] },
  { name: 'gap', layers: ['Conv2D', 'ReLU', 'GlobalAvgPool2D', 'BatchNorm1D', 'Dense'] },
  { name: 'matmul', layers: ['Dense', 'Sigmoid'] },
  { name: 'onnx-ops', layers: ['Flatten', 'Dropout', 'Dense', 'Softmax'] },
];

describe.each(backends)('loadOnnx: PyTorch-made models ($label)', (c) => {
  it.each(fixtures)('$name reproduces the output PyTorch computed', async ({ name, layers }) => {
    useBackend(c);
    const net = await io.loadOnnx(path.join(FIXTURES, `${name}.onnx`));
    expect(types(net)).toEqual(layers);
    const { x, y } = expected(name);
    expect(net.inputShape).toEqual(x.shape.slice(1));
    expect(net.isTraining).toBe(false);
    const out = net.forward(x);
    expect([...out.shape]).toEqual([...y.shape]);
    expectClose(out.data, y.data, 1e-5);
  });

  it('a loaded CNN predicts, also one sample without the batch axis', async () => {
    useBackend(c);
    const net = await io.loadOnnx(path.join(FIXTURES, 'cnn.onnx'));
    const { x, y } = expected('cnn');
    expectClose(net.predict(x).data, y.data, 1e-5);
    const one = new Tensor(x.data.slice(0, 256), [1, 16, 16]);
    expectClose(net.predict(one).data, y.data.subarray(0, 10), 1e-5);
  });
});

/** Networks with every layer kind that has an ONNX operator loadOnnx reads back. */
function roundTripNets(): { name: string; net: Sequential; inputShape: number[] }[] {
  const bn = <T extends BatchNorm1D | BatchNorm2D>(b: T, seed: number): T => {
    b.runningMean.data.set(randomArray(Float32Array, b.numFeatures, seed));
    b.runningVar.data.set(randomArray(Float32Array, b.numFeatures, seed + 1, 0.5, 2));
    b.weight.data.set(randomArray(Float32Array, b.numFeatures, seed + 2, 0.5, 2));
    return b;
  };
  return [
    {
      name: 'MLP', inputShape: [10],
      net: new Sequential([new Dense(10, 8), bn(new BatchNorm1D(8, { eps: 1e-3, momentum: 0.2 }), 1), new LeakyReLU(0.05),
        new Dense(8, 6, { bias: false }), new Tanh(), new Dropout(0.2), new Dense(6, 4), new Sigmoid(), new Dense(4, 3), new Softmax()], { seed: 2 }),
    },
    {
      name: 'CNN', inputShape: [2, 12, 12],
      net: new Sequential([new Conv2D(2, 4, 3, { padding: 1, stride: [1, 2] }), bn(new BatchNorm2D(4), 3), new ReLU(), new MaxPool2D([2, 1]),
        new Conv2D(4, 3, [3, 2], { bias: false }), new AvgPool2D(2, { stride: 1 }), new Flatten(), new Dense(3 * 3 * 4, 5)], { seed: 3 }),
    },
    { name: 'GlobalAvgPool2D', inputShape: [3, 5, 5], net: new Sequential([new Conv2D(3, 4, 3), new GlobalAvgPool2D(), new Dense(4, 2)], { seed: 4 }) },
    {
      name: 'Conv1D', inputShape: [2, 9],
      net: new Sequential([new Conv1D(2, 3, 3, { stride: 2, padding: 1 }), bn(new BatchNorm1D(3), 5), new ReLU(), new Flatten(), new Dense(15, 2)], { seed: 5 }),
    },
  ];
}

describe.each(backends)('nodenn → ONNX → nodenn ($label)', (c) => {
  it.each(roundTripNets())('$name: the same layers (Dropout left out) and outputs', ({ net, inputShape }) => {
    useBackend(c);
    const back = io.decodeOnnx(io.encodeOnnx(net, { inputShape }));
    const kept = net.layers.filter((l) => !(l instanceof Dropout));
    expect(back.layers.map((l) => l.config())).toEqual(kept.map((l) => {
      const cfg = l.config();
      // what ONNX does not record: how the weights were first drawn
      if ('init' in cfg) cfg.init = 'kaimingUniform';
      if ('biasInit' in cfg) cfg.biasInit = 'random';
      if ('std' in cfg) cfg.std = 0.01;
      return cfg;
    }));
    const x = new Tensor(randomArray(Float32Array, 3 * inputShape.reduce((a, b) => a * b), 9) as Float32Array, [3, ...inputShape]);
    net.eval();
    expectClose(back.forward(x).data, net.forward(x).data, 1e-6);
    for (const [k, t] of Object.entries(net.stateDict())) expect(back.stateDict()[k.replace(/^\d+/, (i) => String(kept.indexOf(net.layers[Number(i)])))].data).toEqual(t.data);
  });
});

// Hand-made models for the errors
interface NodeSpec { op_type: string; input: string[]; output: string[]; name?: string; attribute?: object[] }
function model(nodes: NodeSpec[], opts: { inits?: object[]; input?: (number | string)[]; inputs?: string[]; output?: string; opset?: number } = {}): Uint8Array {
  const dim = (d: number | string) => (typeof d === 'string' ? { dim_param: d } : { dim_value: d });
  const vi = (name: string, dims: (number | string)[]) => ({ name, type: { tensor_type: { elem_type: 1, shape: { dim: dims.map(dim) } } } });
  const { ModelProto } = onnxTypes();
  return ModelProto.encode(ModelProto.fromObject({
    ir_version: 8, opset_import: [{ domain: '', version: opts.opset ?? 17 }],
    graph: {
      name: 'g', node: nodes, initializer: opts.inits ?? [],
      input: (opts.inputs ?? ['x']).map((n) => vi(n, opts.input ?? ['N', 4])), output: [vi(opts.output ?? 'y', ['N', 4])],
    },
  })).finish();
}
const f32 = (name: string, dims: number[], values: number[]) => ({ name, dims, data_type: 1, float_data: values });
const i64 = (name: string, values: number[]) => ({ name, dims: [values.length], data_type: 7, int64_data: values });
const ints = (name: string, v: number[]) => ({ name, type: 'INTS', ints: v });
const int = (name: string, v: number) => ({ name, type: 'INT', i: v });

describe('loadOnnx: what it cannot read is named', () => {
  it('every unsupported operator of a PyTorch GELU network, and the grouped convolution', async () => {
    const file = path.join(FIXTURES, 'unsupported.onnx');
    const err = await io.loadOnnx(file).catch((e: unknown) => e) as io.OnnxError;
    expect(err).toBeInstanceOf(io.OnnxError);
    expect(err.message).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: cannot read this graph:`));
    expect(err.message).toContain("node 0 (Conv '/0/Conv'): group = 2 is not supported (only 1)");
    for (const op of ['Div', 'Erf', 'Mul']) expect(err.message).toContain(`(${op} '/3/${op}'): the operator ${op} is not supported`);
    expect(err.message.match(/the operator Mul is not supported/g)).toHaveLength(2);
  });

  it('attributes and shapes nodenn has no layer for', () => {
    const cases: [Uint8Array, string][] = [
      [model([{ op_type: 'Softmax', input: ['x'], output: ['y'], attribute: [int('axis', 1)] }], { input: ['N', 2, 4] }),
        'node 0 (Softmax): softmax over axis 1 of a 3-axis input is not supported (only the last axis)'],
      [model([{ op_type: 'Reshape', input: ['x', 's'], output: ['y'] }], { inits: [i64('s', [-1, 2, 2])] }),
        'a Reshape to [-1, 2, 2] is not supported (only flattening each sample: [-1, 4] or [0, -1])'],
      [model([{ op_type: 'MaxPool', input: ['x'], output: ['y'], attribute: [ints('kernel_shape', [2, 2]), int('ceil_mode', 1)] }], { input: ['N', 1, 4, 4] }),
        'node 0 (MaxPool): ceil_mode = 1 is not supported (only 0)'],
      [model([{ op_type: 'Conv', input: ['x', 'w'], output: ['y'], attribute: [ints('pads', [1, 1, 0, 0]), ints('dilations', [2, 2])] }],
        { input: ['N', 1, 4, 4], inits: [f32('w', [1, 1, 1, 1], [1])] }),
      'node 0 (Conv): dilations = [2,2] is not supported (only all 1)'],
      [model([{ op_type: 'Gemm', input: ['x', 'w'], output: ['y'], attribute: [{ name: 'alpha', type: 'FLOAT', f: 2 }, int('transA', 1)] }],
        { inits: [f32('w', [4, 4], new Array(16).fill(0))] }), 'alpha = 2 is not supported (only 1)'],
      [model([{ op_type: 'Gemm', input: ['x', 'w'], output: ['y'] }]), "node 0 (Gemm): the weight 'w' must be a constant (an initializer)"],
      [model([{ op_type: 'Add', input: ['x', 'b'], output: ['y'] }], { inits: [f32('b', [4], [1, 2, 3, 4])] }),
        'Add is read only as the bias of the MatMul just before it'],
      [model([{ op_type: 'Relu', input: ['x'], output: ['a'] }, { op_type: 'Relu', input: ['x'], output: ['y'] }]),
        "node 1 (Relu) reads 'x', not the output of the node before it: loadOnnx reads graphs that are a chain"],
      [model([{ op_type: 'Relu', input: ['x'], output: ['a'], attribute: [int('bogus', 1)] }]), "node 0 (Relu): the attribute 'bogus' is not supported"],
      [model([{ op_type: 'Dropout', input: ['x', 'r', 't'], output: ['y'] }], { inits: [f32('r', [], [0.5]), { name: 't', dims: [], data_type: 9, int32_data: [1] }] }),
        'training_mode = true is not supported'],
    ];
    for (const [bytes, message] of cases) expect(() => io.decodeOnnx(bytes, 'm.onnx'), message).toThrow(message);
  });

  it('graphs that are not a chain from one input to one output, inputs of free size, and bytes that are not ONNX', () => {
    expect(() => io.decodeOnnx(model([{ op_type: 'Relu', input: ['x'], output: ['a'] }], { inputs: ['x', 'z'] })))
      .toThrow('the graph must have one input, it has 2 (x, z)');
    expect(() => io.decodeOnnx(model([{ op_type: 'Relu', input: ['x'], output: ['a'] }])))
      .toThrow("the graph's output 'y' is not the end of the chain of nodes (which ends at 'a')");
    expect(() => io.decodeOnnx(model([{ op_type: 'Relu', input: ['x'], output: ['y'] }], { input: ['N', 'C'] })))
      .toThrow("the input 'x' must be (batch, ...) with every axis but the first fixed, got [N, C]");
    expect(() => io.decodeOnnx(model([{ op_type: 'Identity', input: ['x'], output: ['y'] }]))).toThrow('the graph computes nothing');
    expect(() => io.decodeOnnx(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x0f]), 'junk.onnx')).toThrow(/^junk\.onnx: not an ONNX model/);
    expect(() => io.decodeOnnx(model([{ op_type: 'Gemm', input: ['x', 'w'], output: ['y'] }],
      { inits: [{ name: 'w', dims: [4, 4], data_type: 1, data_location: 1 }] }))).toThrow("the tensor 'w' keeps its data in an external file");
  });

  it('Step exports as Greater/Cast/IsNaN/Where, which loadOnnx names', () => {
    const bytes = io.encodeOnnx(new Sequential([new Dense(4, 4), new Step()]));
    expect(() => io.decodeOnnx(bytes)).toThrow(/node 1 \(Greater '1\.greater_1'\): the operator Greater is not supported[^]*IsNaN[^]*Where/);
  });
});
