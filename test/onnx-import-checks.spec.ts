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
