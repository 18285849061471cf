// loadOnnx on hand-made graphs, word for word: hostile values that only a layer's constructor or an allocation would
// refuse are named as the graph's problems (an OnnxError with the node), and each check of import.ts is shown to
// decide (see test/MUTATION.md, src/io/onnx/import.ts). TS backend only: what is checked here is the reading.
import { describe, expect, it } from 'vitest';
import { io } from '../src/index';
import { onnxTypes } from '../src/io/onnx/proto';

type Dim = number | string;
interface NodeSpec { op_type: string; input?: string[]; output?: string[]; name?: string; domain?: string; attribute?: object[] }
interface ModelOpts {
  inits?: object[]; input?: Dim[]; inputs?: string[]; output?: string; outputs?: string[]; opset?: number | null;
  opsetDomain?: string; elemType?: number; noGraph?: boolean;
}

function model(nodes: NodeSpec[], opts: ModelOpts = {}): Uint8Array {
  const dim = (d: Dim) => (typeof d === 'string' ? { dim_param: d } : { dim_value: d });
  const vi = (name: string, dims: Dim[]) => ({ name, type: { tensor_type: { elem_type: opts.elemType ?? 1, shape: { dim: dims.map(dim) } } } });
  const { ModelProto } = onnxTypes();
  return ModelProto.encode(ModelProto.fromObject({
    ir_version: 8,
    opset_import: opts.opset === null ? [] : [{ domain: opts.opsetDomain ?? '', version: opts.opset ?? 17 }],
    graph: opts.noGraph ? undefined : {
      name: 'g', node: nodes, initializer: opts.inits ?? [],
      input: (opts.inputs ?? ['x']).map((n) => vi(n, opts.input ?? ['N', 4])),
      output: (opts.outputs ?? [opts.output ?? 'y']).map((n) => vi(n, ['N', 4])),
    },
  })).finish();
}
const f32 = (name: string, dims: number[], values: number[]) => ({ name, dims, data_type: 1, float_data: values });
const ints = (name: string, v: number[]) => ({ name, type: 'INTS', ints: v });
const int = (name: string, v: number) => ({ name, type: 'INT', i: v });
const flt = (name: string, v: number) => ({ name, type: 'FLOAT', f: v });

/** The OnnxError's reason (the message without the file) that decodeOnnx throws. */
function reason(bytes: Uint8Array): string {
  try {
    io.decodeOnnx(bytes, 'h.onnx');
  } catch (e) {
    expect(e).toBeInstanceOf(io.OnnxError);
    return (e as io.OnnxError).reason;
  }
  throw new Error('decodeOnnx read the graph');
}
const graphProblems = (...lines: string[]) => `cannot read this graph:\n  ${lines.join('\n  ')}`;

const image = { input: ['N', 1, 4, 4] as Dim[] };
const conv = (attribute: object[], w = f32('w', [1, 1, 1, 1], [1])): Uint8Array =>
  model([{ op_type: 'Conv', input: ['x', 'w'], output: ['y'], attribute }], { ...image, inits: [w] });

describe('loadOnnx: hostile values are OnnxErrors naming the node', () => {
  it('values a layer refuses: strides, pads, kernels, sizes, eps, slopes', () => {
    expect(reason(conv([ints('strides', [0, 0])])))
      .toBe(graphProblems('node 0 (Conv): Conv2D stride[0] must be a positive integer, got 0'));
    expect(reason(conv([ints('pads', [-1, -1, -1, -1])])))
      .toBe(graphProblems('node 0 (Conv): Conv2D padding[0] must be a non-negative integer, got -1'));
    expect(reason(conv([], f32('w', [1, 1, 0, 0], []))))
      .toBe(graphProblems('node 0 (Conv): Conv2D kernelSize[0] must be a positive integer, got 0'));
    expect(reason(conv([ints('strides', [1])])))
      .toBe(graphProblems('node 0 (Conv): Conv2D stride must be a number or [height, width], got an array of length 1'));
    expect(reason(model([{ op_type: 'MaxPool', input: ['x'], output: ['y'], attribute: [ints('kernel_shape', [2, 2]), ints('strides', [-1, 1])] }], image)))
      .toBe(graphProblems('node 0 (MaxPool): MaxPool2D stride[0] must be a positive integer, got -1'));
    expect(reason(model([{ op_type: 'AveragePool', input: ['x'], output: ['y'], attribute: [ints('kernel_shape', [0, 2])] }], image)))
      .toBe(graphProblems('node 0 (AveragePool): AvgPool2D kernelSize[0] must be a positive integer, got 0'));
    expect(reason(model([{ op_type: 'Gemm', input: ['x', 'w'], output: ['y'] }], { inits: [f32('w', [4, 0], [])] })))
      .toBe(graphProblems('node 0 (Gemm): Dense outFeatures must be a positive integer, got 0'));
    expect(reason(model([{ op_type: 'BatchNormalization', input: ['x', 's', 'b', 'm', 'v'], output: ['y'], attribute: [flt('epsilon', -1)] }],
      { inits: ['s', 'b', 'm', 'v'].map((n) => f32(n, [4], [1, 1, 1, 1])) })))
      .toBe(graphProblems('node 0 (BatchNormalization): BatchNorm1D eps must be a positive number, got -1'));
    expect(reason(model([{ op_type: 'LeakyRelu', input: ['x'], output: ['y'], attribute: [flt('alpha', NaN)] }])))
      .toBe(graphProblems('node 0 (LeakyRelu): LeakyReLU slope must be a finite number, got NaN'));
    // the nodes after one that a layer refused are still checked
    expect(reason(model([
      { op_type: 'LeakyRelu', input: ['x'], output: ['a'], attribute: [flt('alpha', Infinity)] },
      { op_type: 'Erf', input: ['a'], output: ['y'] },
    ]))).toMatch(/^cannot read this graph:\n {2}node 0 \(LeakyRelu\): LeakyReLU slope must be a finite number, got Infinity\n {2}node 1 \(Erf\): the operator Erf is not supported/);
  });

  it('a tensor with negative or enormous dims is refused before anything is allocated', () => {
    const gemm = (w: object) => model([{ op_type: 'Gemm', input: ['x', 'w'], output: ['y'] }], { inits: [w] });
    expect(reason(gemm(f32('w', [-2, -2], [1, 2, 3, 4]))))
      .toBe("the tensor 'w' has dims [-2, -2]: each must be a non-negative integer");
    expect(reason(gemm(f32('w', [-1], []))))
      .toBe("the tensor 'w' has dims [-1]: each must be a non-negative integer");
    // 1e10 values announced, none there: the count is checked first (no 40 GB array)
    expect(reason(gemm(f32('w', [100000, 100000], []))))
      .toBe("the tensor 'w' of shape [100000, 100000] holds 0 values, not 10000000000");
    expect(reason(gemm({ name: 'w', dims: [30000, 30000], data_type: 11, raw_data: new Uint8Array(16) })))
      .toBe("the tensor 'w' of shape [30000, 30000] holds 2 values, not 900000000");
  });
});

/** A Gemm of an (N, 2) input by the weight w (2, 2): the Dense weight that loadOnnx read. */
function gemmWeight(w: object, extra: object[] = []): number[] {
  const net = io.decodeOnnx(model([{ op_type: 'Gemm', input: ['x', 'w'], output: ['y'] }], { input: ['N', 2], inits: [w, ...extra] }));
  return [...net.stateDict()['0.weight'].data];
}
const le = (kind: 'f32' | 'f64' | 'i32' | 'i64', values: number[]): Uint8Array => {
  const size = kind === 'f32' || kind === 'i32' ? 4 : 8, v = new DataView(new ArrayBuffer(size * values.length));
  values.forEach((x, i) => {
    if (kind === 'f32') v.setFloat32(4 * i, x, true);
    else if (kind === 'f64') v.setFloat64(8 * i, x, true);
    else if (kind === 'i32') v.setInt32(4 * i, x, true);
    else v.setBigInt64(8 * i, BigInt(x), true);
  });
  return new Uint8Array(v.buffer);
};

describe('loadOnnx: tensors in every encoding it reads', () => {
  it('float and double, as raw little-endian bytes and as lists', () => {
    expect(gemmWeight(f32('w', [2, 2], [1, -2, 3.5, 4]))).toEqual([1, -2, 3.5, 4]);
    expect(gemmWeight({ name: 'w', dims: [2, 2], data_type: 1, raw_data: le('f32', [0.5, -1, 2, 3]) })).toEqual([0.5, -1, 2, 3]);
    expect(gemmWeight({ name: 'w', dims: [2, 2], data_type: 11, double_data: [1.5, 2, -3, 0.25] })).toEqual([1.5, 2, -3, 0.25]);
    expect(gemmWeight({ name: 'w', dims: [2, 2], data_type: 11, raw_data: le('f64', [0.75, 1, -2, 8]) })).toEqual([0.75, 1, -2, 8]);
    // an empty raw_data is no data: the list is read
    expect(gemmWeight({ name: 'w', dims: [2, 2], data_type: 1, raw_data: new Uint8Array(0), float_data: [4, 3, 2, 1] })).toEqual([4, 3, 2, 1]);
    // a raw tensor that is a view into a larger buffer, at an odd offset
    const bytes = le('f32', [9, 1, 2, 3, 4]);
    expect(gemmWeight({ name: 'w', dims: [2, 2], data_type: 1, raw_data: new Uint8Array(bytes.buffer, 4, 16) })).toEqual([1, 2, 3, 4]);
    // transB: a weight (out, in) read transposed
    const net = io.decodeOnnx(model([{ op_type: 'Gemm', input: ['x', 'w'], output: ['y'], attribute: [int('transB', 1)] }],
      { input: ['N', 2], inits: [f32('w', [3, 2], [1, 2, 3, 4, 5, 6])] }));
    expect(net.stateDict()['0.weight'].shape).toEqual([2, 3]);
    expect([...net.stateDict()['0.weight'].data]).toEqual([1, 3, 5, 2, 4, 6]);
  });

  it('the count of values must be the dims\' product, in every encoding', () => {
    const gemm = (w: object) => model([{ op_type: 'Gemm', input: ['x', 'w'], output: ['y'] }], { input: ['N', 2], inits: [w] });
    expect(reason(gemm(f32('w', [2, 2], [1, 2, 3])))).toBe("the tensor 'w' of shape [2, 2] holds 3 values, not 4");
    expect(reason(gemm({ name: 'w', dims: [2, 2], data_type: 1, raw_data: le('f32', [1, 2, 3, 4, 5]) })))
      .toBe("the tensor 'w' of shape [2, 2] holds 5 values, not 4");
    expect(reason(gemm({ name: 'w', dims: [2, 2], data_type: 11, raw_data: le('f32', [1, 2, 3, 4]) })))
      .toBe("the tensor 'w' of shape [2, 2] holds 2 values, not 4");
    expect(reason(gemm({ name: 'w', dims: [2, 2], data_type: 11, double_data: [1, 2, 3, 4, 5, 6] })))
      .toBe("the tensor 'w' of shape [2, 2] holds 6 values, not 4");
    expect(reason(gemm({ name: 'w', dims: [2, 2], data_type: 10, raw_data: new Uint8Array(8) })))
      .toBe("the tensor 'w' has ONNX data type 10; loadOnnx reads float, double, int32, int64 and bool");
    expect(reason(gemm({ name: 'w', dims: [2, 2], float_data: [1, 2, 3, 4] })))
      .toBe("the tensor 'w' has ONNX data type 0; loadOnnx reads float, double, int32, int64 and bool");
  });

  it('int64, int32 and bool: Reshape targets, Pad widths and Dropout\'s training_mode', () => {
    const reshape = (s: object) => model([{ op_type: 'Reshape', input: ['x', 's'], output: ['y'] }], { input: ['N', 2, 2], inits: [s] });
    const flat = (s: object) => io.decodeOnnx(reshape(s)).layers.map((l) => l.name);
    expect(flat({ name: 's', dims: [2], data_type: 7, int64_data: [-1, 4] })).toEqual(['Flatten']);
    expect(flat({ name: 's', dims: [2], data_type: 7, raw_data: le('i64', [0, -1]) })).toEqual(['Flatten']);
    expect(flat({ name: 's', dims: [2], data_type: 6, int32_data: [-1, 4] })).toEqual(['Flatten']);
    expect(flat({ name: 's', dims: [2], data_type: 6, raw_data: le('i32', [0, -1]) })).toEqual(['Flatten']);
    expect(reason(reshape({ name: 's', dims: [2], data_type: 7, raw_data: le('i64', [4, -1]) })))
      .toBe(graphProblems("node 0 (Reshape): a Reshape to [4, -1] is not supported (only flattening each sample: [-1, 4] or [0, -1])"));
    expect(reason(reshape({ name: 's', dims: [2], data_type: 6, raw_data: le('i32', [-1, 2, 2]) })))
      .toBe("the tensor 's' of shape [2] holds 3 values, not 2");
    expect(reason(reshape({ name: 's', dims: [2], data_type: 7, int64_data: [-1] }))).toBe("the tensor 's' of shape [2] holds 1 values, not 2");
    expect(reason(reshape({ name: 's', dims: [2], data_type: 6, int32_data: [-1, 4, 1] }))).toBe("the tensor 's' of shape [2] holds 3 values, not 2");
    const dropout = (t: object) => model([{ op_type: 'Dropout', input: ['x', '', 't'], output: ['y'] }], { inits: [t] });
    expect(io.decodeOnnx(dropout({ name: 't', dims: [], data_type: 9, raw_data: Uint8Array.of(0) })).layers.map((l) => l.name)).toEqual(['Dropout']);
    expect(io.decodeOnnx(dropout({ name: 't', dims: [], data_type: 9, int32_data: [0] })).layers.map((l) => l.name)).toEqual(['Dropout']);
    expect(reason(dropout({ name: 't', dims: [], data_type: 9, raw_data: Uint8Array.of(1) })))
      .toBe(graphProblems('node 0 (Dropout): training_mode = true is not supported (inference only)'));
    expect(reason(dropout({ name: 't', dims: [], data_type: 9, raw_data: Uint8Array.of(0, 1) }))).toBe("the tensor 't' of shape [] holds 2 values, not 1");
    expect(reason(dropout({ name: 't', dims: [1], data_type: 9, int32_data: [] }))).toBe("the tensor 't' of shape [1] holds 0 values, not 1");
  });

  it('a tensor without a name, and one kept in an external file', () => {
    const constant = (t: object) => model([{ op_type: 'Constant', output: ['c'], attribute: [{ name: 'value', type: 'TENSOR', t }] },
      { op_type: 'Relu', input: ['x'], output: ['y'] }]);
    expect(reason(constant({ dims: [2], data_type: 1, float_data: [1] }))).toBe("the tensor '(unnamed)' of shape [2] holds 1 values, not 2");
    expect(reason(constant({ name: 'k', dims: [2], data_type: 1, data_location: 1 })))
      .toBe("the tensor 'k' keeps its data in an external file, which loadOnnx does not read");
    expect(io.decodeOnnx(constant({ name: 'k', dims: [2], data_type: 1, data_location: 0, float_data: [1, 2] })).layers.map((l) => l.name)).toEqual(['ReLU']);
  });
});

describe('loadOnnx: the graph around the chain', () => {
  const relu = [{ op_type: 'Relu', input: ['x'], output: ['y'] }];
  const names = (bytes: Uint8Array) => io.decodeOnnx(bytes).layers.map((l) => l.name);

  it('the graph, the operator set, one input and one output', () => {
    expect(reason(model(relu, { noGraph: true }))).toBe('the model has no graph');
    expect(reason(model(relu, { opset: null }))).toBe('the model imports no version of the default ONNX operator set');
    expect(reason(model(relu, { opsetDomain: 'com.microsoft' }))).toBe('the model imports no version of the default ONNX operator set');
    expect(names(model(relu, { opsetDomain: 'ai.onnx' }))).toEqual(['ReLU']);
    expect(reason(model(relu, { inputs: [] }))).toBe('the graph must have one input, it has 0 ()');
    expect(reason(model(relu, { outputs: ['y', 'z'] }))).toBe('the graph must have one output, it has 2');
    expect(reason(model(relu, { outputs: [] }))).toBe('the graph must have one output, it has 0');
    // an initializer listed among the inputs (older exporters do) is not an input
    const net = io.decodeOnnx(model([{ op_type: 'Gemm', input: ['x', 'w'], output: ['y'] }],
      { inputs: ['x', 'w'], inits: [f32('w', [4, 2], new Array(8).fill(1))] }));
    expect(net.layers.map((l) => l.name)).toEqual(['Dense']);
    expect(net.inputShape).toEqual([4]);
  });

  it('the input: float or double, (batch, ...) with fixed sample axes', () => {
    expect(reason(model(relu, { elemType: 7 }))).toBe("the input 'x' has ONNX data type 7; loadOnnx reads float inputs");
    expect(reason(model(relu, { elemType: 10 }))).toBe("the input 'x' has ONNX data type 10; loadOnnx reads float inputs");
    expect(names(model(relu, { elemType: 11 }))).toEqual(['ReLU']);
    const fixed = "the input 'x' must be (batch, ...) with every axis but the first fixed, got ";
    expect(reason(model(relu, { input: ['N'] }))).toBe(`${fixed}[N]`);
    expect(reason(model(relu, { input: [] }))).toBe(`${fixed}[]`);
    expect(reason(model(relu, { input: ['N', 3, 0] }))).toBe(`${fixed}[N, 3, 0]`);
    expect(reason(model(relu, { input: [1, 'C'] }))).toBe(`${fixed}[1, C]`);
    expect(io.decodeOnnx(model(relu, { input: [7, 3, 2] })).inputShape).toEqual([3, 2]);
    expect(io.decodeOnnx(model(relu, { input: ['batch', 5] })).inputShape).toEqual([5]);
  });

  it('Constant nodes: only a value tensor, which later nodes read as a constant', () => {
    const shape = { name: 'value', type: 'TENSOR', t: { dims: [2], data_type: 7, int64_data: [0, -1] } };
    const reshape = { op_type: 'Reshape', input: ['x', 's'], output: ['y'] };
    expect(names(model([{ op_type: 'Constant', output: ['s'], attribute: [shape] }, reshape], { input: ['N', 2, 2] }))).toEqual(['Flatten']);
    // a Constant listed as an input of the graph is not its input either
    expect(names(model([{ op_type: 'Constant', output: ['s'], attribute: [shape] }, reshape], { input: ['N', 2, 2], inputs: ['s', 'x'] })))
      .toEqual(['Flatten']);
    expect(reason(model([{ op_type: 'Constant', output: ['s'], attribute: [shape, int('sparse', 1)] }, reshape], { input: ['N', 2, 2] })))
      .toBe(graphProblems("node 0 (Constant): only a 'value' tensor is read"));
    expect(reason(model([{ op_type: 'Constant', output: ['s'], attribute: [flt('value_float', 2)] }, reshape], { input: ['N', 2, 2] })))
      .toBe(graphProblems("node 0 (Constant): only a 'value' tensor is read"));
  });

  it('operators by name and domain, each named with the node', () => {
    const all = 'Gemm, MatMul, Add, Conv, MaxPool, AveragePool, GlobalAveragePool, Relu, LeakyRelu, Sigmoid, Tanh, Softmax, ' +
      'Flatten, Reshape, BatchNormalization, Dropout, Identity, Constant, Pad';
    expect(io.ONNX_IMPORT_OPS.join(', ')).toBe(all);
    expect(reason(model([{ op_type: 'Erf', input: ['x'], output: ['a'], name: 'e1' }, { op_type: 'Relu', input: ['z'], output: ['y'] }])))
      .toBe(graphProblems(`node 0 (Erf 'e1'): the operator Erf is not supported (loadOnnx reads ${all})`));
    expect(reason(model([{ op_type: 'Relu', input: ['x'], output: ['y'], domain: 'com.microsoft' }])))
      .toBe(graphProblems("node 0 (Relu): the operator domain 'com.microsoft' is not supported"));
    expect(names(model([{ op_type: 'Relu', input: ['x'], output: ['y'], domain: 'ai.onnx' }]))).toEqual(['ReLU']);
    // a chain: each node reads the one before; the graph's output is its end
    expect(reason(model([{ op_type: 'Relu', input: ['x'], output: ['a'] }, { op_type: 'Tanh', input: ['b'], output: ['y'], name: 't' }])))
      .toBe(graphProblems("node 1 (Tanh 't') reads 'b', not the output of the node before it: loadOnnx reads graphs that are a chain"));
    expect(reason(model([{ op_type: 'Relu', input: [], output: ['y'] }])))
      .toBe(graphProblems("node 0 (Relu) reads 'undefined', not the output of the node before it: loadOnnx reads graphs that are a chain"));
    expect(reason(model([{ op_type: 'Relu', input: ['x'] }])))
      .toBe("the graph's output 'y' is not the end of the chain of nodes (which ends at '')");
    expect(names(model([{ op_type: 'Identity', input: ['x'], output: ['a'] }, { op_type: 'Sigmoid', input: ['a'], output: ['b'] },
      { op_type: 'Tanh', input: ['b'], output: ['y'] }]))).toEqual(['Sigmoid', 'Tanh']);
  });
});
