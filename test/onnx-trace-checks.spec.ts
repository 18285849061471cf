// exportOnnx of an nn.Module (src/io/onnx/trace.ts) word for word: the nodes, attributes and initializer names each
// tensor operation writes, where the parameters' names come from, the example inputs, the modes restored, and every
// message of the two-trace comparison.
import { describe, expect, it } from 'vitest';
import * as nn from '../src/index';
import { Dense, Module, Tensor, io } from '../src/index';
import { onnxTypes } from '../src/io/onnx/proto';
import { Random } from '../src/random';

interface Graph {
  name: string;
  /** 'Op name(inputs) {attributes}' */
  nodes: string[];
  inits: Record<string, { dims: number[]; data: number[] }>;
  input: (number | string)[];
  output: (number | string | null)[];
}

function decode(bytes: Uint8Array): Graph {
  const T = onnxTypes().ModelProto;
  const m = T.toObject(T.decode(bytes), { longs: Number, enums: String, bytes: Array, defaults: false }) as {
    graph: {
      name: string;
      node: { op_type: string; name: string; input?: string[]; attribute?: { name: string; type: string; i?: number; f?: number; ints?: number[] }[] }[];
      initializer: { name: string; dims?: number[]; raw_data?: number[]; float_data?: number[]; int64_data?: number[] }[];
      input: { type: { tensor_type: { shape: { dim: { dim_value?: number; dim_param?: string }[] } } } }[];
      output: { type: { tensor_type: { shape: { dim?: { dim_value?: number; dim_param?: string }[] } } } }[];
    };
  };
  const g = m.graph;
  const attr = (a: { name: string; type: string; i?: number; f?: number; ints?: number[] }) =>
    `${a.name}=${a.type === 'INTS' ? `[${(a.ints ?? []).join(',')}]` : a.type === 'FLOAT' ? Math.fround(a.f ?? 0) : a.i ?? 0}`;
  const inits: Graph['inits'] = {};
  for (const t of g.initializer ?? []) {
    const data = t.raw_data ? [...new Float32Array(Uint8Array.from(t.raw_data).buffer)] : t.float_data ?? t.int64_data ?? [];
    inits[t.name] = { dims: t.dims ?? [], data };
  }
  const dim = (d: { dim_value?: number; dim_param?: string }) => d.dim_param ?? d.dim_value ?? null;
  return {
    name: g.name,
    nodes: g.node.map((n) => `${n.op_type} ${n.name}(${(n.input ?? []).join(', ')})` +
      `${n.attribute?.length ? ` {${n.attribute.map(attr).join(' ')}}` : ''}`),
    inits,
    input: g.input[0].type.tensor_type.shape.dim.map((d) => dim(d) as number | string),
    output: (g.output[0].type.tensor_type.shape.dim ?? []).map(dim),
  };
}

/** A Module whose forward is f, with the given properties. */
function moduleOf(f: (this: Record<string, unknown>, x: Tensor) => Tensor, props: Record<string, unknown> = {}): Module {
  class Traced extends Module {
    constructor() {
      super();
      Object.assign(this, props);
    }
    forward(x: Tensor): Tensor { return f.call(this as unknown as Record<string, unknown>, x); }
  }
  return new Traced();
}

const graphOf = (f: (this: Record<string, unknown>, x: Tensor) => Tensor, inputShape: number[],
  options: io.ExportOnnxOptions = {}, props: Record<string, unknown> = {}) =>
  decode(io.encodeOnnx(moduleOf(f, props), { ...options, inputShape }));

const errorOf = (fn: () => unknown): InstanceType<typeof io.OnnxExportError> => {
  try {
    fn();
  } catch (e) {
    return e as InstanceType<typeof io.OnnxExportError>;
  }
  throw new Error('did not throw');
};

const w = (shape: number[], seed: number) => nn.randn(shape, { seed });

const nodes = (f: (this: Record<string, unknown>, x: Tensor) => Tensor, inputShape: number[], props: Record<string, unknown> = {}) =>
  graphOf(f, inputShape, {}, props).nodes;

describe('exportOnnx of a Module: the nodes each operation writes', () => {
  it('element-wise operations, their constants named by the node, and the comparisons cast to float', () => {
    expect(nodes(function (x) { return x.log1p().clamp(-1, 2).leakyRelu(0.25).gelu(); }, [3])).toEqual([
      'Add log1p_0_0(input, log1p_0.one)', 'Log log1p_0_1(log1p_0_0)', 'Clip clamp_1_2(log1p_0_1, clamp_1.min, clamp_1.max)',
      'LeakyRelu leakyRelu_2_3(clamp_1_2) {alpha=0.25}', 'Div gelu_3_4(leakyRelu_2_3, gelu_3.sqrt2)', 'Erf gelu_3_5(gelu_3_4)',
      'Mul gelu_3_6(leakyRelu_2_3, gelu_3.half)', 'Add gelu_3_7(gelu_3_5, gelu_3.one)', 'Mul gelu_3_8(gelu_3_6, gelu_3_7)',
    ]);
    const g = graphOf(function (x) { return x.log1p().clamp(-1, 2).gelu(); }, [3]);
    expect(g.inits).toEqual({
      'log1p_0.one': { dims: [], data: [1] }, 'clamp_1.min': { dims: [], data: [-1] }, 'clamp_1.max': { dims: [], data: [2] },
      'gelu_2.sqrt2': { dims: [], data: [Math.fround(Math.SQRT2)] }, 'gelu_2.half': { dims: [], data: [0.5] },
      'gelu_2.one': { dims: [], data: [1] },
    });
    expect(nodes(function (x) { return nn.where(x.gt(0), x.ne(x.relu()), x.le(0.5)); }, [3])).toEqual([
      'Greater gt_0_0(input, gt_0.c1)', 'Cast gt_0_1(gt_0_0) {to=1}', 'Relu relu_1_2(input)', 'Equal ne_2_3(input, relu_1_2)',
      'Not ne_2_4(ne_2_3)', 'Cast ne_2_5(ne_2_4) {to=1}', 'LessOrEqual le_3_6(input, le_3.c1)', 'Cast le_3_7(le_3_6) {to=1}',
      'Cast where_4_8(gt_0_1) {to=9}', 'Where where_4_9(where_4_8, ne_2_5, le_3_7)',
    ]);
    expect(nodes(function (x) { return x.detach().clone().relu(); }, [3]))
      .toEqual(['Identity detach_0_0(input)', 'Identity identity_1_1(detach_0_0)', 'Relu relu_2_2(identity_1_1)']);
  });

  it('reductions: their axes and keepdims, var and std with ddof, no axes as an Identity', () => {
    const g = graphOf(function (x) {
      return x.sum().add(x.mean(1, true)).add(x.max(-1, true)).add(x.var({ axis: 2, keepdims: true, ddof: 1 })).add(x.std(1, true));
    }, [2, 3]);
    expect(g.nodes).toEqual([
      'ReduceSum sum_0_0(input, sum_0.axes) {keepdims=0}', 'ReduceMean mean_1_1(input) {axes=[1] keepdims=1}',
      'Add add_2_2(sum_0_0, mean_1_1)', 'ReduceMax max_3_3(input) {axes=[2] keepdims=1}', 'Add add_4_4(add_2_2, max_3_3)',
      'ReduceMean var_5_5(input) {axes=[2] keepdims=1}', 'Sub var_5_6(input, var_5_5)', 'Mul var_5_7(var_5_6, var_5_6)',
      'ReduceMean var_5_8(var_5_7) {axes=[2] keepdims=1}', 'Mul var_5_9(var_5_8, var_5.scale)', 'Add add_6_10(add_4_4, var_5_9)',
      'ReduceMean std_7_11(input) {axes=[1] keepdims=1}', 'Sub std_7_12(input, std_7_11)', 'Mul std_7_13(std_7_12, std_7_12)',
      'ReduceMean std_7_14(std_7_13) {axes=[1] keepdims=1}', 'Sqrt std_7_15(std_7_14)', 'Add add_8_16(add_6_10, std_7_15)',
    ]);
    // n / (n - ddof) over the 3 elements of axis 2
    expect(g.inits).toEqual({ 'sum_0.axes': { dims: [3], data: [0, 1, 2] }, 'var_5.scale': { dims: [], data: [1.5] } });
    expect(nodes(function (x) { return x.sum([]).add(x.var([])).add(x.sum(1, true)); }, [2, 3])).toEqual([
      'Identity sum_0_0(input)', 'Sub var_1_1(input, input)', 'Mul var_1_2(var_1_1, var_1_1)', 'Add add_2_3(sum_0_0, var_1_2)',
      'ReduceSum sum_3_4(input, sum_3.axes) {keepdims=1}', 'Add add_4_5(add_2_3, sum_3_4)',
    ]);
    expect(nodes(function (x) { return x.var({ axis: 1 }); }, [2, 3])).toEqual([
      'ReduceMean var_0_0(input) {axes=[1] keepdims=1}', 'Sub var_0_1(input, var_0_0)', 'Mul var_0_2(var_0_1, var_0_1)',
      'ReduceMean var_0_3(var_0_2) {axes=[1] keepdims=0}',
    ]);
  });

  it('argmax and argmin: flattened without an axis, kept dims reshaped to ones', () => {
    const g = graphOf(function (x) { return x.argmax().add(x.argmax(null, true)).add(x.argmin(1)); }, [2, 3]);
    expect(g.nodes).toEqual([
      'Reshape argmax_0_0(input, argmax_0.shape)', 'ArgMax argmax_0_1(argmax_0_0) {axis=0 keepdims=0}', 'Cast argmax_0_2(argmax_0_1) {to=1}',
      'Reshape argmax_1_3(input, argmax_1.shape)', 'ArgMax argmax_1_4(argmax_1_3) {axis=0 keepdims=0}',
      'Reshape argmax_1_5(argmax_1_4, argmax_1.shape_2)', 'Cast argmax_1_6(argmax_1_5) {to=1}', 'Add add_2_7(argmax_0_2, argmax_1_6)',
      'ArgMin argmin_3_8(input) {axis=1 keepdims=0}', 'Cast argmin_3_9(argmin_3_8) {to=1}', 'Add add_4_10(add_2_7, argmin_3_9)',
    ]);
    expect(g.inits).toEqual({
      'argmax_0.shape': { dims: [1], data: [-1] }, 'argmax_1.shape': { dims: [1], data: [-1] },
      'argmax_1.shape_2': { dims: [3], data: [1, 1, 1] },
    });
    // (1, N, 3): only the first axis may be the batch axis N; another that follows the batch size is left unnamed
    expect(g.output).toEqual([1, null, 3]);
    expect(nodes(function (x) { return x.argmax(-1, true); }, [2, 3]))
      .toEqual(['ArgMax argmax_0_0(input) {axis=2 keepdims=1}', 'Cast argmax_0_1(argmax_0_0) {to=1}']);
  });

  it('matmul and linear: transposes of the last two axes (not of a vector), Gemm for a matrix', () => {
    expect(nodes(function (x) { return x.matmul(this.a as Tensor, { transposeA: true }).matmul(this.v as Tensor, { transposeB: true }); },
      [3, 2], { a: w([3, 4], 1), v: w([4], 2) }))
      .toEqual(['Transpose matmul_0_0(input) {perm=[0,2,1]}', 'MatMul matmul_0_1(matmul_0_0, a)', 'MatMul matmul_1_2(matmul_0_1, v)']);
    expect(nodes(function (x) { return nn.ops.matmul(this.v as Tensor, x, { transposeA: true, transposeB: true }); },
      [4, 3], { v: w([3], 2) })).toEqual(['Transpose matmul_0_0(input) {perm=[0,2,1]}', 'MatMul matmul_0_1(v, matmul_0_0)']);
    expect(nodes(function (x) {
      return nn.ops.linear(x, this.a as Tensor, null).add(nn.ops.linear(x.unsqueeze(1), this.b as Tensor, null, { transposeWeight: true }).reshape([-1, 4]));
    }, [3], { a: w([3, 4], 1), b: w([4, 3], 2) })).toEqual([
      'Gemm linear_0_0(input, a)', 'Reshape reshape_1_1(input, reshape_1.shape)', 'Transpose linear_2_2(b) {perm=[1,0]}',
      'MatMul linear_2_3(reshape_1_1, linear_2_2)', 'Reshape reshape_3_4(linear_2_3, reshape_3.shape)', 'Add add_4_5(linear_0_0, reshape_3_4)',
    ]);
    expect(nodes(function (x) { return nn.ops.linear(x.unsqueeze(1), this.a as Tensor, this.c as Tensor, { activation: 'relu' }); },
      [3], { a: w([3, 4], 1), c: w([4], 3) })).toEqual([
      'Reshape reshape_0_0(input, reshape_0.shape)', 'MatMul linear_1_1(reshape_0_0, a)', 'Add linear_1_2(linear_1_1, c)',
      'Relu linear_1_3(linear_1_2)',
    ]);
  });

  it('shape operations: targets, a Slice for a run of indices (open-ended to the end), else a Gather, pads', () => {
    const g = graphOf(function (x) {
      return nn.ops.concat([x.reshape([-1, 3, 2]).permute([0, 2, 1]).reshape([-1, 6]), x.slice(null, [1, 6]), x.slice(null, [0, 2]),
        x.take([4, 1], 1), x.take([2], 1)], 1).pad([[0, 0], [1, 2]], 0.5);
    }, [6]);
    expect(g.nodes).toEqual([
      'Reshape reshape_0_0(input, reshape_0.shape)', 'Transpose permute_1_1(reshape_0_0) {perm=[0,2,1]}',
      'Reshape reshape_2_2(permute_1_1, reshape_2.shape)',
      'Slice gatherAxis_3_3(input, gatherAxis_3.starts, gatherAxis_3.ends, gatherAxis_3.axes)',
      'Slice gatherAxis_4_4(input, gatherAxis_4.starts, gatherAxis_4.ends, gatherAxis_4.axes)',
      'Gather gatherAxis_5_5(input, gatherAxis_5.indices) {axis=1}',
      'Slice gatherAxis_6_6(input, gatherAxis_6.starts, gatherAxis_6.ends, gatherAxis_6.axes)',
      'Concat concat_7_7(reshape_2_2, gatherAxis_3_3, gatherAxis_4_4, gatherAxis_5_5, gatherAxis_6_6) {axis=1}',
      'Pad pad_8_8(concat_7_7, pad_8.pads, pad_8.c1)',
    ]);
    expect(g.inits).toEqual({
      'reshape_0.shape': { dims: [3], data: [-1, 3, 2] }, 'reshape_2.shape': { dims: [2], data: [-1, 6] },
      'gatherAxis_3.starts': { dims: [1], data: [1] }, 'gatherAxis_3.ends': { dims: [1], data: [Number.MAX_SAFE_INTEGER] },
      'gatherAxis_3.axes': { dims: [1], data: [1] }, 'gatherAxis_4.starts': { dims: [1], data: [0] },
      'gatherAxis_4.ends': { dims: [1], data: [2] }, 'gatherAxis_4.axes': { dims: [1], data: [1] },
      'gatherAxis_5.indices': { dims: [2], data: [4, 1] }, 'gatherAxis_6.starts': { dims: [1], data: [2] },
      'gatherAxis_6.ends': { dims: [1], data: [3] }, 'gatherAxis_6.axes': { dims: [1], data: [1] },
      'pad_8.pads': { dims: [4], data: [0, 1, 0, 2] }, 'pad_8.c1': { dims: [], data: [0.5] },
    });
    expect(g.output).toEqual(['N', 19]);
    const e = graphOf(function (x) { return x.add((this.c as Tensor).broadcastTo([2, 3])); }, [2, 3], {}, { c: w([3], 1) });
    expect(e.nodes).toEqual(['Expand broadcastTo_0_0(c, broadcastTo_0.shape)', 'Add add_1_1(input, broadcastTo_0_0)']);
    expect(e.inits['broadcastTo_0.shape']).toEqual({ dims: [2], data: [2, 3] });
  });
});
