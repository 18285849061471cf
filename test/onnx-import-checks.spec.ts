// loadOnnx on hand-made graphs, word for word: hostile values that only a layer's constructor or an allocation would
// refuse are named as the graph's problems (an OnnxError with the node), and each check of import.ts is shown to
// decide (see test/MUTATION.md, src/io/onnx/import.ts). TS backend only: what is checked here is the reading.
import { describe, expect, it } from 'vitest';
import { Dense, Tensor, io } from '../src/index';
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
    // little-endian: 4 read big-endian is 67108864
    expect(flat({ name: 's', dims: [2], data_type: 6, raw_data: le('i32', [-1, 4]) })).toEqual(['Flatten']);
    expect(flat({ name: 's', dims: [2], data_type: 7, raw_data: le('i64', [-1, 4]) })).toEqual(['Flatten']);
    expect(reason(reshape({ name: 's', dims: [2], data_type: 7, raw_data: le('i64', [4, -1]) })))
      .toBe(graphProblems('node 0 (Reshape): a Reshape to [4, -1] is not supported (only flattening each sample: [-1, 4] or [0, -1])'));
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

  it('an unnamed initializer is read but bound to nothing: \'\' is an input not given (as onnxruntime does)', () => {
    const unnamed = { dims: [4], data_type: 1, float_data: [5, 5, 5, 5] };
    const eye = f32('w', [4, 4], [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]);
    const gemm = io.decodeOnnx(model([{ op_type: 'Gemm', input: ['x', 'w', ''], output: ['y'] }], { inits: [eye, unnamed] }));
    expect([(gemm.layers[0] as Dense).hasBias, Array.from(gemm.forward(new Tensor([[1, 2, 3, 4]])).data)]).toEqual([false, [1, 2, 3, 4]]);
    expect(reason(model([{ op_type: 'MatMul', input: ['x', ''], output: ['y'] }], { inits: [{ ...unnamed, dims: [4, 1] }] })))
      .toBe(graphProblems('node 0 (MatMul): the weight (input 1) is not given'));
    expect(reason(model([{ op_type: 'MatMul', input: ['x', 'w'], output: ['m'] }, { op_type: 'Add', input: ['m', ''], output: ['y'] }],
      { inits: [eye, { ...unnamed, name: '' }] })))
      .toBe(graphProblems('node 1 (Add): Add is read only as the bias of the MatMul just before it (a constant of its 4 outputs)'));
    expect(reason(model([{ op_type: 'Constant', output: [''], attribute: [{ name: 'value', type: 'TENSOR', t: { ...unnamed, dims: [4, 1] } }] },
      { op_type: 'MatMul', input: ['x', ''], output: ['y'] }]))).toBe(graphProblems('node 1 (MatMul): the weight (input 1) is not given'));
  });

  it('a sample larger than an import allows, at the input or a node\'s output, is refused before the check forward', () => {
    const limit = 'more than the 67108864 an import allows';
    const relu = [{ op_type: 'Relu', input: ['x'], output: ['y'] }];
    expect(reason(model(relu, { input: ['N', 1e9] })))
      .toBe(`the input 'x' of sample shape [1000000000] is 1000000000 values per sample, ${limit}`);
    expect(reason(model(relu, { input: ['N', 2 ** 13, 2 ** 13 + 1] })))
      .toBe(`the input 'x' of sample shape [8192, 8193] is 67117056 values per sample, ${limit}`);
    expect(io.decodeOnnx(model(relu, { input: ['N', 2, 3] })).inputShape).toEqual([2, 3]);
    const w = f32('w', [5, 1, 1, 1], [1, 2, 3, 4, 5]);
    expect(reason(model([{ op_type: 'Conv', input: ['x', 'w'], output: ['y'] }], { input: ['N', 1, 4096, 4096], inits: [w] })))
      .toBe(graphProblems(`node 0 (Conv): its output of sample shape [5, 4096, 4096] is 83886080 values per sample, ${limit}`));
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
    // an input without a type, a type without a shape, a dim with neither a value nor a name
    const typed = (type: object | undefined) => {
      const { ModelProto } = onnxTypes();
      return ModelProto.encode(ModelProto.fromObject({
        ir_version: 8, opset_import: [{ domain: '', version: 17 }],
        graph: { name: 'g', node: relu, input: [{ name: 'x', type }], output: [{ name: 'y' }] },
      })).finish();
    };
    expect(reason(typed(undefined))).toBe(`${fixed}[]`);
    expect(reason(typed({ tensor_type: { elem_type: 1 } }))).toBe(`${fixed}[]`);
    expect(reason(typed({ tensor_type: { elem_type: 1, shape: { dim: [{ dim_param: 'N' }, {}] } } }))).toBe(`${fixed}[N, ?]`);
    // an input without an element type is read as float
    expect(io.decodeOnnx(typed({ tensor_type: { shape: { dim: [{ dim_param: 'N' }, { dim_value: 3 }] } } })).inputShape).toEqual([3]);
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
    expect(reason(model([{ op_type: 'Constant', output: ['s'], attribute: [{ ...shape, name: 'sparse_value' }] }, reshape], { input: ['N', 2, 2] })))
      .toBe(graphProblems("node 0 (Constant): only a 'value' tensor is read"));
    // a tensor without a name, an initializer or a Constant's output, is bound to nothing: a node's input '' is not given
    const gemm = { op_type: 'Gemm', input: ['x', ''], output: ['y'] };
    expect(reason(model([gemm], { input: ['N', 2], inits: [{ dims: [2, 1], data_type: 1, float_data: [3, 4] }] })))
      .toBe(graphProblems('node 0 (Gemm): the weight (input 1) is not given'));
    expect(reason(model([{ op_type: 'Constant', attribute: [{ ...shape, t: f32('', [2, 1], [3, 4]) }] }, gemm], { input: ['N', 2] })))
      .toBe(graphProblems('node 1 (Gemm): the weight (input 1) is not given'));
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
    // the data is the first input of every operator but Add: a constant first is not read as the weight
    expect(reason(model([{ op_type: 'MatMul', input: ['w', 'x'], output: ['y'] }], { inits: [f32('w', [4, 4], new Array(16).fill(1))] })))
      .toBe(graphProblems("node 0 (MatMul) reads 'w', not the output of the node before it: loadOnnx reads graphs that are a chain"));
    expect(reason(model([{ op_type: 'Relu', input: [], output: ['y'] }])))
      .toBe(graphProblems("node 0 (Relu) reads 'undefined', not the output of the node before it: loadOnnx reads graphs that are a chain"));
    expect(reason(model([{ op_type: 'Relu', input: ['x'] }])))
      .toBe("the graph's output 'y' is not the end of the chain of nodes (which ends at '')");
    expect(names(model([{ op_type: 'Identity', input: ['x'], output: ['a'] }, { op_type: 'Sigmoid', input: ['a'], output: ['b'] },
      { op_type: 'Tanh', input: ['b'], output: ['y'] }]))).toEqual(['Sigmoid', 'Tanh']);
  });
});

describe('loadOnnx: each operator\'s attributes and shapes', () => {
  type N = NodeSpec;
  const node = (op_type: string, input: string[], attribute: object[] = [], output = ['y']): N => ({ op_type, input, output, attribute });
  const configs = (nodes: N[], opts: ModelOpts = {}) => io.decodeOnnx(model(nodes, opts)).layers.map((l) => l.config());
  const refused = (nodes: N[], opts: ModelOpts, ...lines: string[]) => expect(reason(model(nodes, opts))).toBe(graphProblems(...lines));
  const ones = (name: string, dims: number[]) => f32(name, dims, new Array(dims.reduce((a, b) => a * b, 1)).fill(1));
  const i64 = (name: string, values: number[]) => ({ name, dims: [values.length], data_type: 7, int64_data: values });
  const img = (c: number, h: number, w: number) => ['N', c, h, w];

  it('Identity, Pad, Relu, Sigmoid, Tanh, LeakyRelu', () => {
    expect(configs([node('Identity', ['x'], [], ['a']), node('Pad', ['a'], [ints('pads', [0, 0, 0, 0]), { name: 'mode', type: 'STRING', s: Buffer.from('constant') }], ['b']),
      node('Pad', ['b', 'p'], [flt('value', 0)], ['c']), node('Pad', ['c', ''], [], ['d']), node('Sigmoid', ['d'], [], ['e']), node('Tanh', ['e'], [], ['f']),
      node('LeakyRelu', ['f'], [flt('alpha', 0.05)], ['g']), node('LeakyRelu', ['g'])], { inits: [i64('p', [0, 0, 0, 0])] }))
      .toEqual([{ type: 'Sigmoid' }, { type: 'Tanh' }, { type: 'LeakyReLU', slope: 0.05 }, { type: 'LeakyReLU', slope: 0.01 }]);
    refused([node('Identity', ['x'], [int('axis', 1)])], {}, "node 0 (Identity): the attribute 'axis' is not supported");
    refused([node('Identity', ['x'], [ints('pads', [0, 0])])], {}, "node 0 (Identity): the attribute 'pads' is not supported");
    refused([node('Pad', ['x', 'p'])], { inits: [i64('p', [0, 1, 0, 0])] },
      'node 0 (Pad): padding [0, 1, 0, 0] is not supported (only a Pad of zeros, which does nothing)');
    refused([node('Pad', ['x'], [ints('pads', [1, 0]), int('bogus', 0)])], {},
      "node 0 (Pad): the attribute 'bogus' is not supported", 'node 0 (Pad): padding [1, 0] is not supported (only a Pad of zeros, which does nothing)');
    refused([node('Pad', ['x', 'p'])], { inits: [ones('p', [2, 2])] }, "node 0 (Pad): the pads 'p' has shape [2, 2], expected 1 axes");
    refused([node('Sigmoid', ['x'], [int('axis', 1)])], {}, "node 0 (Sigmoid): the attribute 'axis' is not supported");
    refused([node('Tanh', ['x'], [int('axis', 1)])], {}, "node 0 (Tanh): the attribute 'axis' is not supported");
    refused([node('LeakyRelu', ['x'], [flt('slope', 1)])], {}, "node 0 (LeakyRelu): the attribute 'slope' is not supported");
    // float attributes are float32: read back as the shortest decimal that rounds to them, up to 9 digits
    expect(configs([node('LeakyRelu', ['x'], [flt('alpha', 0.100255385)])])).toEqual([{ type: 'LeakyReLU', slope: 0.100255385 }]);
    expect(io.decodeOnnx(model([node('Relu', ['x'])])).layers[0].name).toBe('ReLU');
    expect(io.decodeOnnx(model([node('Sigmoid', ['x'])])).layers[0].name).toBe('Sigmoid');
  });

  it('Softmax: the last axis only, in the opset\'s default', () => {
    expect(configs([node('Softmax', ['x'])])).toEqual([{ type: 'Softmax' }]);
    expect(configs([node('Softmax', ['x'], [int('axis', 1)])])).toEqual([{ type: 'Softmax' }]);
    expect(configs([node('Softmax', ['x'])], { opset: 11 })).toEqual([{ type: 'Softmax' }]);
    expect(configs([node('Softmax', ['x'])], { input: ['N', 2, 4] })).toEqual([{ type: 'Softmax' }]);
    expect(configs([node('Softmax', ['x'], [int('axis', 2)])], { input: ['N', 2, 4] })).toEqual([{ type: 'Softmax' }]);
    const over = (axis: number, rank: number) =>
      `node 0 (Softmax): softmax over axis ${axis} of a ${rank}-axis input is not supported (only the last axis)`;
    refused([node('Softmax', ['x'], [int('axis', 0)])], {}, over(0, 2));
    refused([node('Softmax', ['x'])], { opset: 12, input: ['N', 2, 4] }, over(1, 3));
    // from opset 13 on, the default axis is the last, of any rank
    expect(configs([node('Softmax', ['x'])], { opset: 13, input: ['N', 2, 4] })).toEqual([{ type: 'Softmax' }]);
    refused([node('Softmax', ['x'], [int('axis', -1)])], { opset: 11, input: ['N', 2, 4] }, over(-1, 3));
    refused([node('Softmax', ['x'], [int('axis', 1), int('keep', 1)])], {}, "node 0 (Softmax): the attribute 'keep' is not supported");
    // after a GlobalAveragePool, ONNX's value is (N, C, 1, 1): its last axis is not the channels
    refused([node('GlobalAveragePool', ['x'], [], ['g']), node('Softmax', ['g'])], { input: img(2, 3, 3) }, over(-1, 2).replace('node 0', 'node 1'));
    expect(configs([node('GlobalAveragePool', ['x'], [], ['g']), node('Flatten', ['g'], [], ['f']), node('Softmax', ['f'])], { input: img(2, 3, 3) }))
      .toEqual([{ type: 'GlobalAvgPool2D' }, { type: 'Softmax' }]);
    expect(configs([node('GlobalAveragePool', ['x'], [], ['g']), node('Reshape', ['g', 's'], [], ['f']), node('Softmax', ['f'])],
      { input: img(2, 3, 3), inits: [i64('s', [0, -1])] })).toEqual([{ type: 'GlobalAvgPool2D' }, { type: 'Softmax' }]);
  });

  it('Flatten and Reshape: flattening each sample only', () => {
    expect(configs([node('Flatten', ['x'], [int('axis', 1)], ['f']), node('Gemm', ['f', 'w'])], { input: img(2, 2, 2), inits: [ones('w', [8, 3])] })
      .map((c) => c.type)).toEqual(['Flatten', 'Dense']);
    expect(configs([node('Flatten', ['x'], [], ['f']), node('Relu', ['f'])])).toEqual([{ type: 'ReLU' }]);
    refused([node('Flatten', ['x'], [int('axis', 2)])], { input: img(2, 2, 2) }, 'node 0 (Flatten): axis = 2 is not supported (only 1)');
    refused([node('Flatten', ['x'], [int('start', 1)])], { input: img(2, 2, 2) }, "node 0 (Flatten): the attribute 'start' is not supported");
    const reshape = (s: number[], extra: object[] = []) => model([node('Reshape', ['x', 's'], extra, ['f']), node('Gemm', ['f', 'w'])],
      { input: img(2, 2, 2), inits: [i64('s', s), ones('w', [8, 3])] });
    for (const s of [[-1, 8], [0, 8], [0, -1]]) expect(io.decodeOnnx(reshape(s)).layers.map((l) => l.name), String(s)).toEqual(['Flatten', 'Dense']);
    expect(io.decodeOnnx(reshape([0, -1], [int('allowzero', 0)])).layers.map((l) => l.name)).toEqual(['Flatten', 'Dense']);
    const not = (s: number[]) => `node 0 (Reshape): a Reshape to [${s.join(', ')}] is not supported (only flattening each sample: [-1, 8] or [0, -1])`;
    for (const s of [[-1, -1], [1, 8], [-1, 4], [0, 4], [8], [-1, 8, 1], [2, -1]]) {
      expect(reason(reshape(s)), String(s)).toBe(graphProblems(not(s)));
    }
    expect(reason(reshape([0, -1], [int('allowzero', 1)]))).toBe(graphProblems('node 0 (Reshape): allowzero = 1 is not supported (only 0)'));
    refused([node('Reshape', ['x', 's'])], { inits: [ones('s', [1, 2])] }, "node 0 (Reshape): the shape 's' has shape [1, 2], expected 1 axes");
    refused([node('Reshape', ['x'])], {}, 'node 0 (Reshape): the shape (input 1) is not given');
    expect(configs([node('Reshape', ['x', 's'], [], ['f']), node('Relu', ['f'])], { inits: [i64('s', [-1, 4])] })).toEqual([{ type: 'ReLU' }]);
  });

  it('Gemm, MatMul and Add: Dense layers, their weights and biases', () => {
    const dense = (nodes: N[], inits: object[], input: Dim[] = ['N', 2]) => {
      const net = io.decodeOnnx(model(nodes, { input, inits }));
      return { cfg: net.layers.map((l) => l.config()), sd: Object.fromEntries(Object.entries(net.stateDict()).map(([k, t]) => [k, [...t.shape, ...t.data]])) };
    };
    const w = f32('w', [2, 3], [1, 2, 3, 4, 5, 6]), b = f32('b', [3], [7, 8, 9]);
    const attrs = [flt('alpha', 1), flt('beta', 1), int('transA', 0), int('transB', 0)];
    expect(dense([node('Gemm', ['x', 'w', 'b'], attrs)], [w, b]).sd).toEqual({ '0.weight': [2, 3, 1, 2, 3, 4, 5, 6], '0.bias': [3, 7, 8, 9] });
    expect(dense([node('Gemm', ['x', 'w', ''])], [w]).cfg[0]).toMatchObject({ type: 'Dense', inFeatures: 2, outFeatures: 3, bias: false });
    expect(dense([node('Gemm', ['x', 'w', 'b'], [int('transB', 1)])], [f32('w', [3, 2], [1, 2, 3, 4, 5, 6]), b]).sd)
      .toEqual({ '0.weight': [2, 3, 1, 3, 5, 2, 4, 6], '0.bias': [3, 7, 8, 9] });
    expect(dense([node('MatMul', ['x', 'w'])], [w]).cfg[0]).toMatchObject({ inFeatures: 2, outFeatures: 3, bias: false });
    for (const inputs of [['m', 'b'], ['b', 'm']]) {
      const r = dense([node('MatMul', ['x', 'w'], [], ['m']), node('Add', inputs)], [w, b]);
      expect(r.cfg[0]).toMatchObject({ inFeatures: 2, outFeatures: 3, bias: true });
      expect(r.sd).toEqual({ '0.weight': [2, 3, 1, 2, 3, 4, 5, 6], '0.bias': [3, 7, 8, 9] });
    }
    // the second Dense's bias goes to the second layer
    expect(dense([node('MatMul', ['x', 'w'], [], ['m']), node('Add', ['m', 'b'], [], ['a']), node('MatMul', ['a', 'v'], [], ['m2']), node('Add', ['m2', 'c'])],
      [w, b, f32('v', [3, 1], [1, 1, 1]), f32('c', [1], [5])]).sd).toMatchObject({ '1.bias': [1, 5] });
    const flat = { input: ['N', 2] as Dim[] };
    refused([node('Gemm', ['x', 'w'], [flt('beta', 0.5), int('transA', 1)])], { ...flat, inits: [w] },
      'node 0 (Gemm): beta = 0.5 is not supported (only 1)', 'node 0 (Gemm): transA = 1 is not supported (only 0)');
    refused([node('Gemm', ['x', 'w'], [flt('gamma', 1)])], { ...flat, inits: [w] }, "node 0 (Gemm): the attribute 'gamma' is not supported");
    refused([node('Gemm', ['x', 'w', 'b'])], { ...flat, inits: [w, f32('b', [2], [1, 2])] }, 'node 0 (Gemm): the bias has 2 values for 3 outputs');
    refused([node('Gemm', ['x', 'w'])], { ...flat, inits: [ones('w', [2, 3, 1])] }, "node 0 (Gemm): the weight 'w' has shape [2, 3, 1], expected 2 axes");
    refused([node('Gemm', ['x', 'w'])], { inits: [w] }, 'node 0 (Gemm): the weight takes 2 features, the input has 4');
    refused([node('Gemm', ['x', 'w'])], { input: ['N', 2, 1], inits: [w] }, 'node 0 (Gemm): Gemm needs a 2-D input, this one is (N, 2, 1)');
    refused([node('Gemm', ['x', 'w', 'b'])], { input: ['N', 2, 1], inits: [w, f32('b', [2], [1, 2])] }, 'node 0 (Gemm): Gemm needs a 2-D input, this one is (N, 2, 1)');
    refused([node('MatMul', ['x', 'w'], [int('t', 1)])], { ...flat, inits: [w] }, "node 0 (MatMul): the attribute 't' is not supported");
    refused([node('MatMul', ['x', 'w'])], { inits: [w] }, 'node 0 (MatMul): the weight takes 2 features, the input has 4');
    refused([node('MatMul', ['x', 'w'])], { input: ['N', 2, 1], inits: [w] },
      'node 0 (MatMul): MatMul is read as a Dense layer on a 2-D input; this one is (N, 2, 1)');
    // nothing more is said of a node whose input is wrong (its weight is not compared with the input)
    refused([node('MatMul', ['x', 'w'])], { input: ['N', 3, 1], inits: [w] },
      'node 0 (MatMul): MatMul is read as a Dense layer on a 2-D input; this one is (N, 3, 1)');
    refused([node('Gemm', ['x', 'w', 'b'])], { ...flat, inits: [w] }, "node 0 (Gemm): the bias 'b' must be a constant (an initializer)");
    refused([node('MatMul', ['x', 'w'])], flat, "node 0 (MatMul): the weight 'w' must be a constant (an initializer)");
    const addOnly = 'node 1 (Add): Add is read only as the bias of the MatMul just before it (a constant of its 3 outputs)';
    refused([node('MatMul', ['x', 'w'], [], ['m']), node('Add', ['m', 'b'])], { ...flat, inits: [w, f32('b', [2], [1, 2])] }, addOnly);
    refused([node('MatMul', ['x', 'w'], [], ['m']), node('Add', ['m', 'm'])], { ...flat, inits: [w] },
      'node 1 (Add): Add is read only as the bias of the MatMul just before it (a constant of its 3 outputs)');
    refused([node('Gemm', ['x', 'w'], [], ['m']), node('Add', ['m', 'b'])], { ...flat, inits: [w, b] }, addOnly);
    refused([node('MatMul', ['x', 'w'], [], ['m']), node('Add', ['m', 'b'], [], ['a']), node('Add', ['a', 'b'])], { ...flat, inits: [w, b] },
      'node 2 (Add): Add is read only as the bias of the MatMul just before it (a constant of its 3 outputs)');
    refused([node('MatMul', ['x', 'w'], [], ['m']), node('Identity', ['m'], [], ['i']), node('Add', ['i', 'b'])], { ...flat, inits: [w, b] },
      'node 2 (Add): Add is read only as the bias of the MatMul just before it (a constant of its 3 outputs)');
    refused([node('Add', ['x', 'b'], [int('axis', 1)])], { inits: [f32('b', [4], [1, 2, 3, 4])] },
      "node 0 (Add): the attribute 'axis' is not supported", 'node 0 (Add): Add is read only as the bias of the MatMul just before it (a constant of its 4 outputs)');
  });
  it('Conv: 1-D and 2-D, the weight\'s kernel, symmetric pads, no dilation or groups', () => {
    const w = f32('w', [2, 1, 3, 3], new Array(18).fill(0).map((_, i) => i)), b = f32('b', [2], [5, 6]);
    const conv2 = (attribute: object[], extra: Partial<ModelOpts> = {}) => model([node('Conv', ['x', 'w', 'b'], attribute)], { input: img(1, 6, 6), inits: [w, b], ...extra });
    const net = io.decodeOnnx(conv2([ints('kernel_shape', [3, 3]), ints('strides', [2, 1]), ints('pads', [1, 0, 1, 0]), ints('dilations', [1, 1]), int('group', 1),
      { name: 'auto_pad', type: 'STRING', s: Buffer.from('NOTSET') }]));
    expect(net.layers[0].config()).toMatchObject({ type: 'Conv2D', inChannels: 1, outChannels: 2, kernelSize: [3, 3], stride: [2, 1], padding: [1, 0], bias: true });
    expect([...net.stateDict()['0.bias'].data]).toEqual([5, 6]);
    expect([...net.stateDict()['0.weight'].data]).toEqual(w.float_data);
    expect(net.forward(Tensor.zeros([1, 1, 6, 6])).shape).toEqual([1, 2, 3, 4]);
    expect(io.decodeOnnx(conv2([{ name: 'auto_pad', type: 'STRING', s: Buffer.from('VALID') }])).layers[0].config()).toMatchObject({ stride: [1, 1], padding: [0, 0] });
    const c1 = io.decodeOnnx(model([node('Conv', ['x', 'w', ''], [ints('strides', [2]), ints('pads', [1, 1])])], { input: ['N', 1, 9], inits: [f32('w', [3, 1, 2], new Array(6).fill(1))] }));
    expect(c1.layers[0].config()).toMatchObject({ type: 'Conv1D', inChannels: 1, outChannels: 3, kernelSize: 2, stride: 2, padding: 1, bias: false });
    expect(io.decodeOnnx(model([node('Conv', ['x', 'w'])], { input: ['N', 1, 9], inits: [f32('w', [3, 1, 2], new Array(6).fill(1))] })).layers[0].config())
      .toMatchObject({ stride: 1, padding: 0 });
    const where = 'node 0 (Conv)';
    expect(reason(conv2([ints('kernel_shape', [2, 2])]))).toBe(graphProblems(`${where}: kernel_shape = [2,2] is not supported (only the weight's [3, 3])`));
    expect(reason(conv2([ints('dilations', [1, 2]), int('group', 2)]))).toBe(graphProblems(`${where}: dilations = [1,2] is not supported (only all 1)`,
      `${where}: group = 2 is not supported (only 1)`));
    expect(reason(conv2([{ name: 'auto_pad', type: 'STRING', s: Buffer.from('SAME_UPPER') }])))
      .toBe(graphProblems(`${where}: auto_pad = "SAME_UPPER" is not supported (only 'NOTSET' or 'VALID' (give the pads))`));
    expect(reason(conv2([ints('pads', [1, 1, 0, 1])]))).toBe(graphProblems(`${where}: pads = [1,1,0,1] is not supported (only the same padding at both ends)`));
    expect(reason(conv2([int('bogus', 1)]))).toBe(graphProblems(`${where}: the attribute 'bogus' is not supported`));
    expect(reason(conv2([], { input: img(3, 6, 6) }))).toBe(graphProblems(`${where}: the weight takes 1 channels, the input has 3`));
    expect(reason(conv2([], { input: ['N', 1, 6] }))).toBe(graphProblems(`${where}: a 2-D convolution of an input of shape (N, 1, 6)`));
    expect(reason(conv2([], { inits: [w, f32('b', [3], [1, 2, 3])] }))).toBe(graphProblems(`${where}: the bias has 3 values for 2 filters`));
    // after a problem the layer is not built, so its own refusals are not added
    expect(reason(conv2([ints('strides', [0, 0])], { inits: [w, f32('b', [3], [1, 2, 3])] }))).toBe(graphProblems(`${where}: the bias has 3 values for 2 filters`));
    // an auto_pad without a string is its default, NOTSET
    expect(io.decodeOnnx(conv2([{ name: 'auto_pad', type: 'STRING' }])).layers[0].config()).toMatchObject({ type: 'Conv2D', padding: [0, 0] });
    expect(reason(conv2([], { inits: [w, f32('b', [1, 2], [1, 2])] }))).toBe(graphProblems(`${where}: the bias 'b' has shape [1, 2], expected 1 axes`));
    expect(reason(conv2([], { input: img(1, 2, 2) }))).toMatch(/^cannot read this graph:\n {2}node 0 \(Conv\): Conv2D/);
    for (const dims of [[2, 1, 3, 3, 3], [2, 1]]) {
      expect(reason(model([node('Conv', ['x', 'w'])], { input: img(1, 6, 6), inits: [ones('w', dims)] })))
        .toBe(graphProblems(`${where}: a ${dims.length - 2}-D convolution is not supported (Conv1D and Conv2D only)`));
    }
    expect(reason(model([node('Conv', ['x', 'w'])], { input: img(1, 6, 6) }))).toBe(graphProblems(`${where}: the weight 'w' must be a constant (an initializer)`));
    // after a GlobalAveragePool, nothing spatial
    expect(reason(model([node('GlobalAveragePool', ['x'], [], ['g']), node('Conv', ['g', 'w'])], { input: img(1, 6, 6), inits: [ones('w', [1, 1, 1])] })))
      .toBe(graphProblems('node 1 (Conv): after a GlobalAveragePool only Flatten, Reshape and elementwise operators are read',
        'node 1 (Conv): a 1-D convolution of an input of shape (N, 1)'));
  });

  it('MaxPool, AveragePool and GlobalAveragePool: 2-D, without padding', () => {
    const pool = (op: string, attribute: object[], extra: Partial<ModelOpts> = {}, output = ['y']) =>
      model([node(op, ['x'], attribute, output)], { input: img(2, 6, 6), ...extra });
    const k = ints('kernel_shape', [3, 2]);
    const mp = io.decodeOnnx(pool('MaxPool', [k, ints('strides', [1, 2]), ints('pads', [0, 0, 0, 0]), int('ceil_mode', 0), ints('dilations', [1, 1]),
      int('storage_order', 0), { name: 'auto_pad', type: 'STRING', s: Buffer.from('VALID') }]));
    expect(mp.layers[0].config()).toEqual({ type: 'MaxPool2D', kernelSize: [3, 2], stride: [1, 2] });
    expect(mp.forward(Tensor.zeros([1, 2, 6, 6])).shape).toEqual([1, 2, 4, 3]);
    expect(io.decodeOnnx(pool('AveragePool', [k, int('count_include_pad', 0)])).layers[0].config()).toEqual({ type: 'AvgPool2D', kernelSize: [3, 2], stride: [1, 1] });
    expect(io.decodeOnnx(pool('MaxPool', [k], {}, ['y', ''])).layers[0].name).toBe('MaxPool2D');
    for (const autoPad of [{ name: 'auto_pad', type: 'STRING', s: Buffer.from('NOTSET') }, { name: 'auto_pad', type: 'STRING' }]) {
      expect(io.decodeOnnx(pool('AveragePool', [k, autoPad])).layers[0].config()).toEqual({ type: 'AvgPool2D', kernelSize: [3, 2], stride: [1, 1] });
    }
    const only = (op: string, ks: string) => `node 0 (${op}): only 2-D pooling of (N, C, H, W) inputs is supported (kernel_shape ${ks})`;
    expect(reason(pool('MaxPool', []))).toBe(graphProblems(only('MaxPool', 'null')));
    expect(reason(pool('MaxPool', [ints('kernel_shape', [2])]))).toBe(graphProblems(only('MaxPool', '[2]')));
    expect(reason(pool('AveragePool', [k], { input: ['N', 2, 6] }))).toBe(graphProblems(only('AveragePool', '[3,2]')));
    const w = 'node 0 (MaxPool)';
    expect(reason(pool('MaxPool', [k, ints('pads', [0, 1, 0, 1]), int('ceil_mode', 1)]))).toBe(graphProblems(
      `${w}: pads = [0,1,0,1] is not supported (only no padding)`, `${w}: ceil_mode = 1 is not supported (only 0)`));
    expect(reason(pool('MaxPool', [k, { name: 'auto_pad', type: 'STRING', s: Buffer.from('SAME_LOWER') }, ints('dilations', [2, 1]), int('storage_order', 1)])))
      .toBe(graphProblems(`${w}: auto_pad = "SAME_LOWER" is not supported (only 'NOTSET' or 'VALID')`, `${w}: dilations = [2,1] is not supported (only all 1)`,
        `${w}: storage_order = 1 is not supported (only 0)`));
    expect(reason(pool('MaxPool', [k], {}, ['y', 'idx']))).toBe(graphProblems(`${w}: the Indices output is not supported`));
    // after a problem the layer is not built, so its own refusals are not added
    expect(reason(pool('MaxPool', [k, ints('strides', [-1, 1]), int('ceil_mode', 1)]))).toBe(graphProblems(`${w}: ceil_mode = 1 is not supported (only 0)`));
    expect(reason(pool('MaxPool', [k, int('count_include_pad', 1)]))).toBe(graphProblems(`${w}: the attribute 'count_include_pad' is not supported`));
    expect(reason(pool('AveragePool', [k, int('storage_order', 0)]))).toBe(graphProblems("node 0 (AveragePool): the attribute 'storage_order' is not supported"));
    expect(reason(pool('AveragePool', [ints('kernel_shape', [7, 2])]))).toMatch(/^cannot read this graph:\n {2}node 0 \(AveragePool\): AvgPool2D/);
    expect(reason(model([node('GlobalAveragePool', ['x'], [], ['g']), node('MaxPool', ['g'], [k])], { input: img(2, 6, 6) })))
      .toBe(graphProblems('node 1 (MaxPool): after a GlobalAveragePool only Flatten, Reshape and elementwise operators are read',
        'node 1 (MaxPool): only 2-D pooling of (N, C, H, W) inputs is supported (kernel_shape [3,2])'));
    const gap = io.decodeOnnx(model([node('GlobalAveragePool', ['x'], [], ['g']), node('Gemm', ['g', 'w'])], { input: img(2, 6, 6), inits: [ones('w', [2, 3])] }));
    expect(gap.layers.map((l) => l.name)).toEqual(['GlobalAvgPool2D', 'Dense']);
    expect(reason(model([node('GlobalAveragePool', ['x'])], { input: ['N', 2, 6] })))
      .toBe(graphProblems('node 0 (GlobalAveragePool): only (N, C, H, W) inputs are supported, got (N, 2, 6)'));
    expect(reason(model([node('GlobalAveragePool', ['x'], [int('keepdims', 1)])], { input: img(2, 6, 6) })))
      .toBe(graphProblems("node 0 (GlobalAveragePool): the attribute 'keepdims' is not supported"));
    expect(reason(model([node('GlobalAveragePool', ['x'], [], ['g']), node('GlobalAveragePool', ['g'])], { input: img(2, 6, 6) })))
      .toBe(graphProblems('node 1 (GlobalAveragePool): after a GlobalAveragePool only Flatten, Reshape and elementwise operators are read',
        'node 1 (GlobalAveragePool): only (N, C, H, W) inputs are supported, got (N, 2)'));
  });

  it('BatchNormalization: inference on 1-D or 2-D samples, its statistics and eps; momentum as nodenn counts it', () => {
    const stats = (c: number) => ['s', 'b', 'm', 'v'].map((n, j) => f32(n, [c], Array.from({ length: c }, (_, i) => 1 + i + 10 * j)));
    const bn = (attribute: object[], extra: Partial<ModelOpts> = {}, output = ['y']) =>
      model([node('BatchNormalization', ['x', 's', 'b', 'm', 'v'], attribute, output)], { input: ['N', 2], inits: stats(2), ...extra });
    const net = io.decodeOnnx(bn([flt('epsilon', 0.001), flt('momentum', 0.8), int('training_mode', 0), int('spatial', 1)]));
    expect(net.layers[0].config()).toEqual({ type: 'BatchNorm1D', numFeatures: 2, eps: 0.001, momentum: 0.2 });
    expect(Object.fromEntries(Object.entries(net.stateDict()).map(([k, t]) => [k, [...t.data]])))
      .toEqual({ '0.weight': [1, 2], '0.bias': [11, 12], '0.running_mean': [21, 22], '0.running_var': [31, 32] });
    expect(io.decodeOnnx(bn([], { input: img(2, 3, 3) }, ['y', '', ''])).layers[0].config()).toEqual({ type: 'BatchNorm2D', numFeatures: 2, eps: 1e-5, momentum: 0.1 });
    expect(io.decodeOnnx(bn([], { input: ['N', 2, 5] })).layers[0].config()).toMatchObject({ type: 'BatchNorm1D' });
    expect(io.decodeOnnx(bn([flt('momentum', 1.5)])).layers[0].config()).toMatchObject({ momentum: 0 });
    expect(io.decodeOnnx(bn([flt('momentum', -1)])).layers[0].config()).toMatchObject({ momentum: 1 });
    const w = 'node 0 (BatchNormalization)';
    expect(reason(bn([int('training_mode', 1), int('spatial', 0)]))).toBe(graphProblems(
      `${w}: training_mode = 1 is not supported (only 0 (inference))`, `${w}: spatial = 0 is not supported (only 1)`));
    expect(reason(bn([int('axis', 1)]))).toBe(graphProblems(`${w}: the attribute 'axis' is not supported`));
    expect(reason(bn([], { inits: stats(3) }))).toBe(graphProblems(...['scale', 'B', 'input_mean', 'input_var'].map((n) => `${w}: the ${n} has 3 values for 2 channels`)));
    expect(reason(bn([], { inits: stats(2).slice(0, 3) }))).toBe(graphProblems(`${w}: the input_var 'v' must be a constant (an initializer)`));
    expect(reason(bn([], { inits: [] }))).toBe(graphProblems(...[['scale', 's'], ['B', 'b'], ['input_mean', 'm'], ['input_var', 'v']]
      .map(([what, n]) => `${w}: the ${what} '${n}' must be a constant (an initializer)`)));
    expect(reason(bn([], { input: ['N', 2, 3, 3, 3] }))).toBe(graphProblems(`${w}: inputs of more than 2 spatial axes are not supported`));
    expect(reason(bn([], {}, ['y', 'rm']))).toBe(graphProblems(`${w}: the training outputs (running mean and variance) are not supported`));
    expect(reason(bn([], {}, ['y', '', 'rv']))).toBe(graphProblems(`${w}: the training outputs (running mean and variance) are not supported`));
    expect(reason(model([node('GlobalAveragePool', ['x'], [], ['g']), node('BatchNormalization', ['g', 's', 'b', 'm', 'v'])], { input: img(2, 3, 3), inits: stats(2) })))
      .toBe(graphProblems('node 1 (BatchNormalization): after a GlobalAveragePool only Flatten, Reshape and elementwise operators are read'));
  });

  it('Dropout: its ratio from the attribute or the input, inference only', () => {
    const drop = (attribute: object[], input = ['x'], inits: object[] = [], output = ['y']) => model([node('Dropout', input, attribute, output)], { inits });
    const p = (bytes: Uint8Array) => io.decodeOnnx(bytes).layers[0].config();
    expect(p(drop([]))).toEqual({ type: 'Dropout', p: 0.5 });
    expect(p(drop([flt('ratio', 0.1), int('seed', 3), int('is_test', 1)]))).toEqual({ type: 'Dropout', p: 0.1 });
    expect(p(drop([], ['x', 'r'], [f32('r', [], [0.3])]))).toEqual({ type: 'Dropout', p: 0.3 });
    expect(p(drop([], ['x', 'r', ''], [f32('r', [], [0.3])]))).toEqual({ type: 'Dropout', p: 0.3 });
    expect(p(drop([], ['x', 'r', 't'], [f32('r', [], [0]), { name: 't', dims: [], data_type: 9, raw_data: Uint8Array.of(0) }]))).toEqual({ type: 'Dropout', p: 0 });
    expect(p(drop([], ['x', '', 't'], [{ name: 't', dims: [], data_type: 9, int32_data: [0] }]))).toEqual({ type: 'Dropout', p: 0.5 });
    expect(p(drop([], ['x'], [], ['y', '']))).toEqual({ type: 'Dropout', p: 0.5 });
    const w = 'node 0 (Dropout)';
    expect(reason(drop([flt('ratio', 1)]))).toBe(graphProblems(`${w}: ratio 1 is not supported (0 <= ratio < 1)`));
    expect(reason(drop([flt('ratio', -0.5)]))).toBe(graphProblems(`${w}: ratio -0.5 is not supported (0 <= ratio < 1)`));
    expect(reason(drop([flt('ratio', NaN)]))).toBe(graphProblems(`${w}: ratio NaN is not supported (0 <= ratio < 1)`));
    expect(reason(drop([], ['x', 'r'], [f32('r', [], [1.5])]))).toBe(graphProblems(`${w}: ratio 1.5 is not supported (0 <= ratio < 1)`));
    expect(reason(drop([], ['x', 'r']))).toBe(graphProblems(`${w}: the ratio 'r' must be a constant (an initializer)`));
    expect(reason(drop([], ['x', '', 't']))).toBe(graphProblems(`${w}: the training_mode 't' must be a constant (an initializer)`));
    expect(reason(drop([], ['x'], [], ['y', 'mask']))).toBe(graphProblems(`${w}: the mask output is not supported`));
    expect(reason(drop([int('training', 1)]))).toBe(graphProblems(`${w}: the attribute 'training' is not supported`));
  });
});

describe('decodeOnnx and loadOnnx: their arguments', () => {
  it('bytes must be a Uint8Array, the file is <buffer> unless named; the path a non-empty string', async () => {
    expect(() => io.decodeOnnx('x' as never)).toThrow(new TypeError("bytes must be a Uint8Array, got the string 'x'"));
    for (const file of [undefined, 'm.onnx']) {
      try {
        io.decodeOnnx(Uint8Array.of(0xff), file);
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(io.OnnxError);
        expect((e as io.OnnxError).file).toBe(file ?? '<buffer>');
      }
    }
    for (const [v, got] of [['', "the string ''"], [null, 'null'], [undefined, 'undefined']] as const) {
      await expect(io.loadOnnx(v as never)).rejects.toThrow(new TypeError(`loadOnnx: path must be a non-empty string, got ${got}`));
    }
  });
});
