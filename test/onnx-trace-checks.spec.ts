// exportOnnx of an nn.Module (src/io/onnx/trace.ts) word for word: the nodes, attributes and initializer names each
// tensor operation writes, where the parameters' names come from, the example inputs, the modes restored, and every
// message of the two-trace comparison.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
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
      node: {
        op_type: string; name: string; input?: string[];
        attribute?: { name: string; type: string; i?: number; f?: number; ints?: number[] }[];
      }[];
      initializer: {
        name: string; dims?: number[]; raw_data?: number[]; float_data?: number[]; int64_data?: number[];
      }[];
      input: { type: { tensor_type: { shape: { dim: { dim_value?: number; dim_param?: string }[] } } } }[];
      output: { type: { tensor_type: { shape: { dim?: { dim_value?: number; dim_param?: string }[] } } } }[];
    };
  };
  const g = m.graph;
  const attr = (a: { name: string; type: string; i?: number; f?: number; ints?: number[] }) =>
    `${a.name}=${a.type === 'INTS' ? `[${(a.ints ?? []).join(',')}]` : a.type === 'FLOAT' ? Math.fround(a.f ?? 0) : a.i ?? 0}`;
  const inits: Graph['inits'] = {};
  for (const t of g.initializer ?? []) {
    const data = t.raw_data ? [...new Float32Array(Uint8Array.from(t.raw_data).buffer)]
      : t.float_data ?? t.int64_data ?? [];
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
type Forward = (this: Record<string, unknown>, x: Tensor) => Tensor;

function moduleOf(f: Forward, props: Record<string, unknown> = {}): Module {
  class Traced extends Module {
    constructor() {
      super();
      Object.assign(this, props);
    }

    forward(x: Tensor): Tensor { return f.call(this as unknown as Record<string, unknown>, x); }
  }
  return new Traced();
}

const graphOf = (f: Forward, inputShape: number[],
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

const nodes = (f: Forward, inputShape: number[], props: Record<string, unknown> = {}) =>
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
    expect(nodes(function (x) { return x.softmax(1).add(x.logSoftmax(1)); }, [2, 3])).toEqual([
      'Softmax softmax_0_0(input) {axis=1}', 'LogSoftmax logSoftmax_1_1(input) {axis=1}', 'Add add_2_2(softmax_0_0, logSoftmax_1_1)']);
    expect(nodes(function (x) { return x.detach().clone().relu(); }, [3]))
      .toEqual(['Identity detach_0_0(input)', 'Identity identity_1_1(detach_0_0)', 'Relu relu_2_2(identity_1_1)']);
  });

  it('reductions: their axes and keepdims, var and std with ddof, no axes as an Identity', () => {
    const g = graphOf(function (x) {
      return x.sum().add(x.mean(1, true)).add(x.max(-1, true)).add(x.var({ axis: 2, keepdims: true, ddof: 1 }))
        .add(x.std(1, true));
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
    expect(nodes(function (x) {
      return x.matmul(this.a as Tensor, { transposeA: true }).matmul(this.v as Tensor, { transposeB: true });
    },
    [3, 2], { a: w([3, 4], 1), v: w([4], 2) }))
      .toEqual(['Transpose matmul_0_0(input) {perm=[0,2,1]}', 'MatMul matmul_0_1(matmul_0_0, a)', 'MatMul matmul_1_2(matmul_0_1, v)']);
    expect(nodes(function (x) { return nn.ops.matmul(this.v as Tensor, x, { transposeA: true, transposeB: true }); },
      [4, 3], { v: w([3], 2) })).toEqual(['Transpose matmul_0_0(input) {perm=[0,2,1]}', 'MatMul matmul_0_1(v, matmul_0_0)']);
    expect(nodes(function (x) {
      return nn.ops.linear(x, this.a as Tensor, null)
        .add(nn.ops.linear(x.unsqueeze(1), this.b as Tensor, null, { transposeWeight: true }).reshape([-1, 4]));
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
      return nn.ops.concat([x.reshape([-1, 3, 2]).permute([0, 2, 1]).reshape([-1, 6]), x.slice(null, [1, 6]),
        x.slice(null, [0, 2]),
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
    const e = graphOf(function (x) { return x.add((this.c as Tensor).broadcastTo([2, 3])); }, [2, 3], {},
      { c: w([3], 1) });
    expect(e.nodes).toEqual(['Expand broadcastTo_0_0(c, broadcastTo_0.shape)', 'Add add_1_1(input, broadcastTo_0_0)']);
    expect(e.inits['broadcastTo_0.shape']).toEqual({ dims: [2], data: [2, 3] });
  });
});

const here = 'test[/\\\\]onnx-trace-checks\\.spec\\.ts:\\d+:\\d+';
const advice = 'export with { dynamicBatch: false } to fix the batch size';

describe('exportOnnx of a Module: names, example inputs and modes', () => {
  it('parameters by property path: nested modules, arrays, a layer\'s parameters and buffers; the first name wins', () => {
    class Inner extends Module {
      fc = new Dense(2, 2, { seed: 1 });
      scale = w([2], 2);
      forward(x: Tensor): Tensor { return x; }
    }
    const shared = w([2], 3);
    const bn = new nn.BatchNorm1D(2);
    const g = graphOf(function (x) {
      const inner = this.inner as Inner, blocks = this.blocks as Tensor[];
      return x.matmul(inner.fc.weight).add(inner.scale).add(blocks[1]).add(this.alias as Tensor).sub(bn.runningMean)
        .mul((this.norm as nn.BatchNorm1D).weight).add((this.fcs as Dense[])[0].bias as Tensor);
    }, [2], {}, {
      inner: new Inner(), blocks: [w([2], 4), w([2], 5)], shared, alias: shared, norm: bn,
      fcs: [new Dense(2, 2, { seed: 6 })],
    });
    expect(Object.keys(g.inits)).toEqual(['inner.fc.weight', 'inner.scale', 'blocks.1', 'shared', 'norm.running_mean', 'norm.weight',
      'fcs.0.bias']);
    expect(g.name).toBe('nodenn.Traced');
    // a layer's parameter or buffer already seen under another name keeps that name
    const d = new Dense(2, 2, { seed: 7 }), norm = new nn.BatchNorm1D(2);
    const alias = graphOf(function (x) { return x.matmul(d.weight).add(norm.runningVar); }, [2], {},
      { w: d.weight, rv: norm.runningVar, d, norm });
    expect(Object.keys(alias.inits)).toEqual(['w', 'rv']);
  });

  it('a layer called inline is layer0, layer1, ... in the order first called, the same name when called again', () => {
    const d1 = new Dense(3, 3, { seed: 1 }), d2 = new Dense(3, 3, { seed: 2 });
    const g = graphOf(function (x) { return d1.call(d2.call(d1.call((this.named as Dense).call(x)))); }, [3], {},
      { named: new Dense(3, 3, { seed: 3 }) });
    expect(g.nodes).toEqual(['Gemm named_0(input, named.weight, named.bias)', 'Gemm layer0_1(named_0, layer0.weight, layer0.bias)',
      'Gemm layer1_2(layer0_1, layer1.weight, layer1.bias)', 'Gemm layer0_3(layer1_2, layer0.weight, layer0.bias)']);
    expect(Object.keys(g.inits)).toEqual(['named.weight', 'named.bias', 'layer0.weight', 'layer0.bias', 'layer1.weight', 'layer1.bias']);
  });

  it('forward() returning a tensor no operation computed: its initializer, by its name or as constant', () => {
    const p = graphOf(function () { return this.p as Tensor; }, [3], {}, { p: w([2], 1) });
    expect(p.nodes).toEqual(['Identity output(p)']);
    expect(Object.keys(p.inits)).toEqual(['p']);
    expect(p.output).toEqual([2]);
    const c = graphOf(function () { return nn.ones([2]); }, [3]);
    expect(c.inits).toEqual({ constant: { dims: [2], data: [1, 1] } });
    expect(() => graphOf(function () { return 3 as unknown as Tensor; }, [3]))
      .toThrow(new TypeError('exportOnnx: the Module\'s forward() must return a Tensor, got 3'));
  });

  it('the example inputs: normal draws seeded 1000 and 1001, batches 2 and 3 or the fixed batch twice, the parameters\' dtype', () => {
    const seen: { shape: number[]; dtype: string; data: number[]; training: boolean }[] = [];
    const record = function (this: Record<string, unknown>, x: Tensor) {
      const training = (this as unknown as Module).training;
      seen.push({ shape: [...x.shape], dtype: x.dtype, data: [...x.data], training });
      return x.relu();
    };
    const draws = (seed: number, n: number) => {
      const r = new Random(seed);
      return Array.from({ length: n }, () => Math.fround(r.normal()));
    };
    graphOf(record, [2]);
    expect(seen).toEqual([
      { shape: [2, 2], dtype: 'float32', data: draws(1000, 4), training: false },
      { shape: [3, 2], dtype: 'float32', data: draws(1001, 6), training: false },
    ]);
    seen.length = 0;
    const g = graphOf(record, [2], { dynamicBatch: false, batchSize: 4 }, { p: nn.zeros([1], { dtype: 'float64' }) });
    const draws64 = (seed: number, n: number) => {
      const r = new Random(seed);
      return Array.from({ length: n }, () => r.normal());
    };
    expect(seen).toEqual([
      { shape: [4, 2], dtype: 'float64', data: draws64(1000, 8), training: false },
      { shape: [4, 2], dtype: 'float64', data: draws64(1001, 8), training: false },
    ]);
    expect(g.input).toEqual([4, 2]);
    expect(g.output).toEqual([4, 2]);
  });

  it('inference mode while tracing; the modes and Error.stackTraceLimit come back, also when forward() throws', () => {
    const inner = moduleOf(function (x) { return x; });
    const drop = new nn.Dropout(0.5), off = new nn.Dropout(0.5);
    off.training = false;
    const during: boolean[] = [];
    const m = moduleOf(function (x) {
      during.push((this.inner as Module).training, drop.training, (this.drop as nn.Dropout).training);
      if (this.fail) throw new Error('forward failed');
      return (this.drop as nn.Dropout).call(x);
    }, { inner, drop, off, fail: false });
    const limit = Error.stackTraceLimit;
    try {
      Error.stackTraceLimit = 7;
      io.encodeOnnx(m, { inputShape: [2] });
      expect(Error.stackTraceLimit).toBe(7);
      expect(during).toEqual([false, false, false, false, false, false]);
      expect([m.training, inner.training, drop.training, off.training]).toEqual([true, true, true, false]);
      (m as unknown as { fail: boolean }).fail = true;
      expect(() => io.encodeOnnx(m, { inputShape: [2] })).toThrow(/^forward failed$/);
      expect(() => io.encodeOnnx(m, { inputShape: null as never })).toThrow(new TypeError('exportOnnx: a Module needs ' +
        'options.inputShape, the shape of one sample without the batch axis (e.g. { inputShape: [1, 28, 28] }): its forward() is ' +
        'traced on an example input of that shape'));
      expect(() => io.encodeOnnx(m, { inputShape: [3, 0] })).toThrow(new TypeError('exportOnnx: inputShape must be an array of ' +
        'positive integers (one sample, without the batch axis), got an array of length 2'));
      expect(Error.stackTraceLimit).toBe(7);
      expect([m.training, inner.training, drop.training, off.training]).toEqual([true, true, true, false]);
    } finally {
      Error.stackTraceLimit = limit;
    }
  });

  it('where forward() called an operation: the first frame outside nodenn and node_modules, else an unknown place', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodenn-trace-'));
    try {
      const file = path.join(dir, 'node_modules', 'deep.js');
      fs.mkdirSync(path.dirname(file));
      fs.writeFileSync(file, 'exports.deep = function deep(x, n) { return n === 0 ? x.maskedSelect(x.gt(0)) : deep(x, n - 1); };\n');
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { deep } = require(file) as { deep: (x: Tensor, n: number) => Tensor };
      const shallow = errorOf(() => graphOf(function (x) { return deep(x, 0); }, [3]));
      expect(shallow.message).toMatch(new RegExp(`^exportOnnx: forward\\(\\) uses the tensor operation maskedSelect at ${here}, which has no ONNX counterpart; the operations that export are add, sub, .*, gatherAxis, pad and the built-in layers \\(layer\\.call\\(x\\)\\)$`));
      expect(shallow.message).not.toMatch(/detach|identity|layer, /);
      const lost = errorOf(() => graphOf(function (x) { return deep(x, 40); }, [3]));
      expect(lost.message).toMatch(/^exportOnnx: forward\(\) uses the tensor operation maskedSelect at an unknown place, which/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('exportOnnx of a Module: two traces that differ', () => {
  const branch = (dynamic: boolean) => `exportOnnx: forward() ran other operations on two example inputs (${dynamic ? 'batch sizes 2 and 3'
    : 'two draws of values'}): a graph holds one path, so forward() must not branch on the input's values` +
    `${dynamic ? ' or its batch size (or export with { dynamicBatch: false })' : ''}; the first that differs is `;

  it('more or other nodes in one trace: the first that differs', () => {
    const longer = errorOf(() => graphOf(function (x) { return x.shape[0] > 2 ? x.relu().tanh() : x.relu(); }, [3]));
    expect([longer.message, longer.op]).toEqual([`${branch(true)}tanh`, 'tanh']);
    const shorter = errorOf(() => graphOf(function (x) { return x.shape[0] > 2 ? x.relu() : x.relu().exp(); }, [3]));
    expect([shorter.message, shorter.op]).toEqual([`${branch(true)}exp`, 'exp']);
    // a layer is named by its path
    const layer = errorOf(() => graphOf(function (x) {
      return (x.shape[0] > 2 ? this.second as Dense : this.first as Dense).call(x);
    }, [3],
    {}, { first: new Dense(3, 3, { seed: 1 }), second: new Dense(3, 3, { seed: 2 }) }));
    expect([layer.message, layer.op]).toEqual([`${branch(true)}first`, 'first']);
    // a fixed batch: the two traces differ only in their values; the first values drawn decide the branch
    const t = (new Random(1000).normal() + new Random(1001).normal()) / 2;
    const values = errorOf(() => graphOf(function (x) { return x.data[0] > t ? x.relu() : x.neg(); }, [1],
      { dynamicBatch: false }));
    expect(values.message).toBe(`${branch(false)}${new Random(1000).normal() > t ? 'relu' : 'neg'}`);
  });

  it('Reshape targets: one axis following the batch is written -1, more are refused', () => {
    const one = graphOf(function (x) { return x.reshape([x.shape[0], 3, 1]); }, [3]);
    expect(one.inits['reshape_0.shape']).toEqual({ dims: [3], data: [-1, 3, 1] });
    const two = errorOf(() => graphOf(function (x) {
      const n = x.shape[0];
      return x.matmul(x.permute([1, 0])).reshape([n, n, 1]);
    }, [1]));
    expect(two.op).toBe('reshape');
    expect(two.message).toMatch(new RegExp(`^exportOnnx: the target shape of reshape \\(at ${here}\\) follows the batch size in 2 axes ` +
      `\\(\\[2, 2, 1\\] at batch 2, \\[3, 3, 1\\] at batch 3\\); a Reshape can leave one free: keep the batch in one axis, or ` +
      `export with \\{ dynamicBatch: false \\} to fix the batch size$`));
    const rank = errorOf(() => graphOf(function (x) { return x.reshape(x.shape[0] === 2 ? [6] : [3, 3]).sum(); }, [3]));
    expect(rank.message).toMatch(new RegExp(`^exportOnnx: the target shape of reshape \\(at ${here}\\) follows the batch size, ` +
      `which a graph with a free batch axis cannot hold here: ${advice.replace(/[{}]/g, '\\$&')}$`));
    // a fixed batch: a target that follows the values is no batch axis to free
    const t = (new Random(1000).normal() + new Random(1001).normal()) / 2;
    const values = errorOf(() => graphOf(function (x) { return x.reshape(x.data[0] > t ? [2, 3] : [3, 2]).sum(); }, [6],
      { dynamicBatch: false }));
    expect(values.message).toMatch(/^exportOnnx: the target shape of reshape \(at .*\) follows the batch size, which a graph/);
  });

  it('Expand targets: an axis that grows in the expanded tensor too is written 1; a broadcast to the batch is refused', () => {
    const grows = graphOf(function (x) { return x.broadcastTo([x.shape[0], 2, 3]); }, [1, 3]);
    expect(grows.inits['broadcastTo_0.shape']).toEqual({ dims: [3], data: [1, 2, 3] });
    const refused = (f: Forward, shape: number[], a: string, b: string) => {
      const e = errorOf(() => graphOf(f, shape, {}, { c: w([3], 1) }));
      expect(e.op).toBe('broadcastTo');
      expect(e.message).toMatch(new RegExp(`^exportOnnx: the target shape of broadcastTo \\(at ${here}\\) broadcasts to the batch ` +
        `size \\(${a} at batch 2, ${b} at batch 3\\), which a graph with a free batch axis cannot hold here: broadcast with an ` +
        `operation on the input instead \\(x\\.mul\\(0\\)\\.add\\(t\\)\\), or export with \\{ dynamicBatch: false \\} to fix the batch size$`));
    };
    refused(function (x) { return x.broadcastTo([x.shape[0], x.shape[0]]); }, [1], '\\[2, 2\\]', '\\[3, 3\\]');
    refused(function (x) { return x.broadcastTo([2, x.shape[0], x.shape[0]]); }, [1], '\\[2, 2, 2\\]', '\\[2, 3, 3\\]');
    refused(function (x) { return x.add((this.c as Tensor).broadcastTo([x.shape[0], 3])); }, [3], '\\[2, 3\\]', '\\[3, 3\\]');
  });

  it('a parameter, slice bounds and counts that change between the traces', () => {
    const p = w([2], 1);
    const weight = errorOf(() => graphOf(function (x) {
      p.data.set(x.data.subarray(0, 2));
      return x.add(p);
    }, [2], {}, { p }));
    expect([weight.message, weight.op]).toEqual(['exportOnnx: the tensor p changes with the input\'s values but no traced tensor ' +
      'operation computes it from the input (it was made through .data, toArray(), a random draw, a Sequential\'s forward() rather ' +
      'than its layers\' call(), or another operation the trace does not see); a graph would freeze the value it had in one trace: ' +
      'compute it with tensor operations', 'add']);
    const end = errorOf(() => graphOf(function (x) { return x.slice([0, x.shape[0] - 1]); }, [2]));
    expect(end.op).toBe('gatherAxis');
    expect(end.message).toMatch(new RegExp(`^exportOnnx: the end of gatherAxis \\(at ${here}\\) follows the batch size, which a ` +
      `graph with a free batch axis cannot hold here: export with \\{ dynamicBatch: false \\} to fix the batch size$`));
    const count = errorOf(() => graphOf(function (x) { return x.var({ axis: 0, ddof: 1 }); }, [2]));
    expect(count.op).toBe('var');
    expect(count.message).toMatch(new RegExp(`^exportOnnx: the count n − ddof of var \\(at ${here}\\) follows the batch size, which a graph`));
  });
  it('what else follows the batch size is named: sum axes, pad widths, gather indices, a number operand, the returned constant', () => {
    const followed = (f: Forward, what: string, op: string) => {
      const e = errorOf(() => graphOf(f, [2, 3]));
      expect(e.op).toBe(op);
      expect(e.message).toMatch(new RegExp(`^exportOnnx: ${what} \\(at ${here}\\) follows the batch size, which a graph with a free ` +
        'batch axis cannot hold here: export with \\{ dynamicBatch: false \\} to fix the batch size$'));
    };
    followed(function (x) { return x.sum(x.shape[0] === 2 ? 1 : 2); }, 'the axes of sum', 'sum');
    followed(function (x) { return x.pad([[0, 0], [0, x.shape[0]], [0, 0]]); }, 'the pad widths of pad', 'pad');
    followed(function (x) { return x.take(x.shape[0] === 2 ? [2, 0] : [1, 0], 2); }, 'the indices of gatherAxis', 'gatherAxis');
    const number = errorOf(() => graphOf(function (x) { return x.add(x.shape[0]); }, [3]));
    expect(number.op).toBe('add');
    expect(number.message).toMatch(new RegExp(`^exportOnnx: operand 1 of add \\(at ${here}\\) changes with the input's values but no traced`));
    const returned = errorOf(() => graphOf(function (x) { return nn.ones([x.shape[0]]); }, [3]));
    const frozen = 'exportOnnx: the tensor forward() returns was made in forward() with a shape that follows the batch size ' +
      '([2] at batch 2, [3] at batch 3); a graph would freeze it';
    expect([returned.op, returned.message.slice(0, frozen.length)]).toEqual(['forward', frozen]);
    // an Expand whose target changes rank
    const rank = errorOf(() => graphOf(function (x) { return x.broadcastTo(x.shape[0] === 2 ? [2, 3] : [1, 3, 3]); },
      [3]));
    expect(rank.message).toMatch(new RegExp(`^exportOnnx: the target shape of broadcastTo \\(at ${here}\\) follows the batch size, which`));
  });

  it('forward() returning different parameters in the two traces', () => {
    const e = errorOf(() => graphOf(function (x) { return (x.shape[0] === 2 ? this.p : this.q) as Tensor; }, [3], {},
      { p: w([2], 1), q: w([2], 2) }));
    expect([e.message, e.op]).toEqual([`exportOnnx: forward() ran other operations on two example inputs (batch sizes 2 and 3): a graph ` +
      'holds one path, so forward() must not branch on the input\'s values or its batch size (or export with { dynamicBatch: false })',
    'forward']);
  });

  it('an Expand after leading new axes: the axis that grows is found in the expanded tensor', () => {
    const g = graphOf(function (x) { return x.broadcastTo([2, x.shape[0], 3]); }, [3]);
    expect(g.inits['broadcastTo_0.shape']).toEqual({ dims: [3], data: [2, 1, 3] });
    expect(g.output).toEqual([2, null, 3]);
  });

  it('an output axis that follows the batch size is N only when it is the first and its sizes are the batch sizes', () => {
    // (N (N - 1)) flattened: 2 at batch 2, 6 at batch 3
    const g = graphOf(function (x) { return x.matmul(x.slice([1, null]).permute([1, 0])).reshape([-1]); }, [1]);
    expect(g.output).toEqual([null]);
    expect(graphOf(function (x) { return x.reshape([-1]); }, [3]).output).toEqual([null]);
    // 2N - 3 rows: 1 at batch 2, 3 at batch 3
    expect(graphOf(function (x) { return nn.ops.concat([x, x.slice([1, null])], 0).slice([2, null]); }, [2]).output)
      .toEqual([null, 2]);
  });

  it('the first operation without an ONNX counterpart in the order forward() ran them', () => {
    const e = errorOf(() => graphOf(function (x) {
      const early = x.maskedSelect(x.gt(0)).sum();
      return x.scatterAdd([0], x.slice([0, 1]), 0).sum().add(early);
    }, [3]));
    expect(e.op).toBe('maskedSelect');
  });
  it('a tensor read twice is computed once; Dropout in eval adds no node', () => {
    expect(nodes(function (x) { const y = x.relu(); return y.add(y); }, [3])).toEqual(['Relu relu_0_0(input)', 'Add add_1_1(relu_0_0, relu_0_0)']);
    const g = graphOf(function (x) { return (this.drop as nn.Dropout).call(x.relu()).tanh(); }, [3], {},
      { drop: new nn.Dropout(0.5) });
    // the layer's operation counts in the node names though it writes no node
    expect(g.nodes).toEqual(['Relu relu_0_0(input)', 'Tanh tanh_2_1(relu_0_0)']);
    expect(g.inits).toEqual({});
  });

  it('a constant whose rank follows the batch size; slice starts and axes that do', () => {
    const e = errorOf(() => graphOf(function (x) { return x.add(nn.ones(x.shape[0] === 2 ? [3] : [3, 1])); }, [3]));
    expect(e.message).toMatch(new RegExp(`^exportOnnx: operand 1 of add \\(at ${here}\\), a tensor of shape \\[3\\] was made in forward\\(\\) ` +
      'with a shape that follows the batch size \\(\\[3\\] at batch 2, \\[3, 1\\] at batch 3\\); a graph would freeze it: compute it ' +
      'from the input with tensor operations \\(nn\\.zerosLike\\(x\\) is a constant too: x\\.mul\\(0\\) is not\\), or export with ' +
      '\\{ dynamicBatch: false \\} to fix the batch size$'));
    const start = errorOf(() => graphOf(function (x) { return x.slice([x.shape[0] - 1, null]); }, [2]));
    expect(start.message).toMatch(new RegExp(`^exportOnnx: the start of gatherAxis \\(at ${here}\\) follows the batch size, which a graph`));
    const axis = errorOf(() => graphOf(function (x) { return x.take([0], x.shape[0] === 2 ? 1 : 2).reshape([-1]); },
      [2, 3]));
    expect(axis.message).toMatch(new RegExp(`^exportOnnx: the axis of gatherAxis \\(at ${here}\\) follows the batch size, which a graph`));
    expect(nodes(function (x) { return x.take([], 1); }, [3])).toEqual(['Gather gatherAxis_0_0(input, gatherAxis_0.indices) {axis=1}']);
  });

  it('where an operation was called: the frame of an anonymous function too', () => {
    const lineHere = () => Number(/onnx-trace-checks\.spec\.ts:(\d+):/.exec(String(new Error().stack).split('\n')[2])![1]);
    let line = 0;
    const e = errorOf(() => graphOf(function (x) {
      line = lineHere();
      // V8 writes the arrow's frame without parentheses ("at file:line:column"); the line after is map()'s caller
      return [x].map((t) =>
        t.maskedSelect(t.gt(0)))[0];
    }, [3]));
    expect(e.message).toMatch(new RegExp(`at test[/\\\\]onnx-trace-checks\\.spec\\.ts:${line + 3}:\\d+, which`));
  });
});
