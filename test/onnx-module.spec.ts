// exportOnnx of an nn.Module: forward() traced into a graph of ONNX operators. A residual MLP, a small CNN (built-in
// layers through layer.call) and a module using every exported tensor operation run in ONNX Runtime at batch sizes
// the trace never saw and give nodenn's outputs to 1e-5 (|a - b| <= 1e-5 max(1, |b|), float32) on every backend;
// what a graph cannot hold is an OnnxExportError naming it.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import * as nn from '../src/index';
import { BatchNorm2D, Conv2D, Dense, Dropout, MaxPool2D, Module, Tensor, io } from '../src/index';
import { onnxTypes } from '../src/io/onnx/proto';
import { backends, expectClose, randomArray, useBackend } from './helpers';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodenn-onnx-module-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function runOrt(model: Uint8Array, x: Tensor): Promise<{ data: Float32Array; dims: number[] }> {
  const s = await ort.InferenceSession.create(model, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const r = await s.run({ input: new ort.Tensor('float32', Float32Array.from(x.data), [...x.shape]) });
  await s.release();
  return { data: r.output.data as Float32Array, dims: [...r.output.dims] };
}

interface Decoded {
  graph: {
    node: { op_type: string }[];
    initializer: { name: string }[];
    input: { type: { tensor_type: { shape: { dim: { dim_value?: number; dim_param?: string }[] } } } }[];
  };
}
const decode = (bytes: Uint8Array) =>
  onnxTypes().ModelProto.toObject(onnxTypes().ModelProto.decode(bytes), { longs: Number, defaults: true }) as Decoded;

const input = (shape: number[], seed: number, scale = 2) =>
  new Tensor(randomArray(Float32Array, shape.reduce((a, b) => a * b), seed, -scale, scale) as Float32Array, shape);

const param = (shape: number[], seed: number, scale = 0.5) => input(shape, seed, scale).requiresGrad_();

/** Two residual blocks with a layer norm written in tensor operations, between Dense layers. */
class ResidualMLP extends Module {
  inp = new Dense(6, 16, { seed: 1 });
  blocks = [param([16, 16], 2), param([16, 16], 3)];
  biases = [param([16], 4), param([16], 5)];
  gain = param([16], 6);
  out = new Dense(16, 4, { seed: 7 });

  forward(x: Tensor): Tensor {
    let h = this.inp.call(x).relu();
    this.blocks.forEach((w, i) => { h = h.add(h.matmul(w).add(this.biases[i]).tanh()); });
    const centred = h.sub(h.mean(-1, true));
    const normed = centred.div(centred.square().mean(-1, true).add(1e-5).sqrt()).mul(this.gain);
    return this.out.call(normed).logSoftmax(-1);
  }
}

/** Conv, batch norm and pooling layers, then a head written in tensor operations (a reshape that keeps the batch). */
class SmallCNN extends Module {
  conv1 = new Conv2D(2, 4, 3, { padding: 1, seed: 1 });
  bn = new BatchNorm2D(4);
  pool = new MaxPool2D(2);
  conv2 = new Conv2D(4, 6, 3, { seed: 2 });
  drop = new Dropout(0.5);
  head = param([24, 3], 3);
  bias = param([3], 4);

  constructor() {
    super();
    this.bn.weight.data.set(randomArray(Float32Array, 4, 5, 0.5, 2));
    this.bn.bias.data.set(randomArray(Float32Array, 4, 6));
    this.bn.runningMean.data.set(randomArray(Float32Array, 4, 7));
    this.bn.runningVar.data.set(randomArray(Float32Array, 4, 8, 0.2, 3));
  }

  forward(x: Tensor): Tensor {
    const h = this.pool.call(this.bn.call(this.conv1.call(x)).relu());
    const g = this.drop.call(this.conv2.call(h).leakyRelu(0.1));
    return g.reshape([g.shape[0], -1]).matmul(this.head).add(this.bias).softmax(-1);
  }
}

/** Every tensor operation the exporter maps, each result an output, on inputs that keep the values moderate. */
class Zoo extends Module {
  w = param([4, 5], 11);
  v = param([3, 4], 12);
  u = param([4, 3], 13);
  s = param([4, 4], 14);
  c = param([4], 15);
  forward(x: Tensor): Tensor {
    // x: (N, 3, 4)
    const a = x.sigmoid().add(0.5);  // (0.5, 1.5): safe for log, sqrt, pow, div
    const parts = [
      a.log(), a.sqrt(), a.pow(1.5), nn.ops.pow(2, x.tanh()), x.exp().div(a), x.neg().abs(), x.sign(), x.square().sub(1),
      x.abs().log1p(), x.softplus(), x.gelu(), x.clamp(-0.5, 0.7), nn.ops.maximum(x, this.v), nn.ops.minimum(x, 0.2),
      x.gt(0), x.ge(this.v), x.lt(0.3), x.le(-0.3), x.eq(x.relu()), x.ne(x.relu()), nn.where(x.gt(0), x, this.v.mul(2)),
      x.step(), x.leakyRelu(0.3), x.relu().detach().clone(), x.softmax(1), x.logSoftmax(-1),
      x.sub(x.logSumExp(-1, true)), x.mul(x.max(1, true)), x.add(x.min([1, 2], true)), x.div(x.sum(2, true).abs().add(1)),
      x.mul(x.prod(-1, true)), x.sub(x.var(-1, true)), x.add(x.std(1, true)), x.mul(x.std({ axis: -1, keepdims: true, ddof: 1 })),
      x.add(x.argmax(-1, true)), x.sub(x.argmin(1, true).mul(0.1)), x.add(x.mean([1, 2], true)),
      // linear: batched (MatMul, Add), and on a matrix (Gemm, transB with a weight (out, in)), activations fused
      nn.ops.linear(x, this.s, this.c, { activation: 'sigmoid' }), nn.ops.linear(x, this.s, null, { transposeWeight: true }),
      nn.ops.linear(x.reshape([-1, 4]), this.s, this.c, { transposeWeight: true, activation: 'tanh' }).reshape(x.shape),
      nn.ops.linear(x.reshape([-1, 4]), this.s, null, { activation: 'relu' }).reshape(x.shape),
    ];
    // every part is an output of its own, so that an error in one is not lost in a sum
    const each = nn.ops.concat(parts.map((p) => p.unsqueeze(1)), 1).flatten(1);
    const mixed = parts.reduce((s, p, i) => s.add(p.mul(1 / (i + 1))));
    // shape operations: transpose, matmul with transposes, concat, slice, pad, broadcast, flatten, unsqueeze
    const t = mixed.transpose([0, 2, 1]);                                        // (N, 4, 3)
    const m = t.matmul(this.u, { transposeB: true });                            // (N, 4, 4)
    const m2 = nn.ops.matmul(this.w, m.transpose([0, 2, 1]), { transposeA: true });  // (N, 5, 4)
    const c = nn.ops.concat([m2, m2.slice(null, [1, 3]).mul(2)], 1);                // (N, 7, 4)
    const p = c.pad([[0, 0], [1, 0], [0, 2]], 0.25);                             // (N, 8, 6)
    const b = this.w.sum(0).reshape([5, 1, 1]).broadcastTo([5, 8, 6]);           // a constant-shaped broadcast
    const q = p.unsqueeze(1).add(b).flatten(1);                                  // (N, 240)
    const r = q.take([3, 1, 4, 1], 1);                                           // (N, 4): a Gather
    return nn.ops.concat([each, nn.ops.concat([r, q.slice(null, [10, 14]), q.sum(1, true)], 1).tanh()], 1);
  }
}

/** Shapes taken from the batch size: an Expand and Reshapes that merge and split the batch axis. */
class BatchShapes extends Module {
  forward(x: Tensor): Tensor {
    // x: (N, 1, 3)
    const n = x.shape[0];
    const b = x.broadcastTo([n, 2, 3]).add(nn.tensor([[0], [1]]));
    const r = b.reshape([n * 2, 3]).relu().reshape([n, 6]);
    return nn.ops.concat([r, r.slice(null, [4, null]).mul(3)], 1);
  }
}

interface Case {
  name: string;
  make: () => Module;
  inputShape: number[];
  /** The operator types in the graph, sorted. */
  ops: string[];
  scale?: number;
}

const cases: Case[] = [
  {
    name: 'a residual MLP (Dense layers, matmul, layer norm in tensor ops, logSoftmax)', make: () => new ResidualMLP(), inputShape: [6],
    ops: ['Add', 'Div', 'Gemm', 'LogSoftmax', 'MatMul', 'Mul', 'ReduceMean', 'Relu', 'Sqrt', 'Sub', 'Tanh'],
  },
  {
    name: 'a small CNN (Conv2D, BatchNorm2D, MaxPool2D, Dropout via .call; reshape, matmul, softmax)', make: () => new SmallCNN(),
    inputShape: [2, 8, 8], ops: ['Add', 'BatchNormalization', 'Conv', 'LeakyRelu', 'MatMul', 'MaxPool', 'Relu', 'Reshape', 'Softmax'],
  },
  {
    name: 'shapes that follow the batch size (Expand, Reshape merging and splitting the batch axis)', make: () => new BatchShapes(),
    inputShape: [1, 3], ops: ['Add', 'Concat', 'Expand', 'Mul', 'Relu', 'Reshape', 'Slice'],
  },
  {
    name: 'every exported tensor operation', make: () => new Zoo(), inputShape: [3, 4], scale: 1.5,
    ops: ['Abs', 'Add', 'ArgMax', 'ArgMin', 'Cast', 'Clip', 'Concat', 'Div', 'Equal', 'Erf', 'Exp', 'Expand', 'Gather', 'Gemm', 'Greater',
      'GreaterOrEqual', 'Identity', 'IsNaN', 'LeakyRelu', 'Less', 'LessOrEqual', 'Log', 'LogSoftmax', 'MatMul', 'Max', 'Min',
      'Mul', 'Neg', 'Not', 'Pad', 'Pow', 'ReduceLogSumExp', 'ReduceMax', 'ReduceMean', 'ReduceMin', 'ReduceProd', 'ReduceSum',
      'Relu', 'Reshape', 'Sigmoid', 'Sign', 'Slice', 'Softmax', 'Softplus', 'Sqrt', 'Sub', 'Tanh', 'Transpose', 'Where'],
  },
];

describe.each(backends)('exportOnnx of a Module on $label', (bk) => {
  for (const c of cases) {
    it(`${c.name}: ONNX Runtime gives nodenn's outputs at batch sizes 1 and 5 (1e-5)`, async () => {
      useBackend(bk);
      const model = c.make();
      const bytes = io.encodeOnnx(model, { inputShape: c.inputShape });
      expect([...new Set(decode(bytes).graph.node.map((n) => n.op_type))].sort()).toEqual(c.ops);
      // the batch axis is free: a batch size the trace never ran (1 and 5; it ran 2 and 3)
      expect(decode(bytes).graph.input[0].type.tensor_type.shape.dim[0].dim_param).toBe('N');
      model.eval();
      for (const [n, seed] of [[1, 21], [5, 22]]) {
        const x = input([n, ...c.inputShape], seed, c.scale);
        const want = nn.noGrad(() => model.call(x));
        const got = await runOrt(bytes, x);
        expect(got.dims).toEqual(want.shape);
        expectClose(got.data, want.data, 1e-5);
      }
    });
  }
});

describe('exportOnnx of a Module', () => {
  it('writes the parameters under their property paths and the layers as their usual nodes, in inference mode', async () => {
    const m = new SmallCNN();
    const file = path.join(dir, 'cnn.onnx');
    await m.exportOnnx(file, { inputShape: [2, 8, 8] });
    const g = decode(fs.readFileSync(file)).graph;
    expect(g.initializer.map((t) => t.name)).toEqual(expect.arrayContaining([
      'conv1.weight', 'conv1.bias', 'bn.weight', 'bn.running_var', 'conv2.weight', 'head', 'bias',
    ]));
    expect(g.node.map((n) => n.op_type)).toEqual([
      'Conv', 'BatchNormalization', 'Relu', 'MaxPool', 'Conv', 'LeakyRelu', 'Reshape', 'MatMul', 'Add', 'Softmax',
    ]);
    // the module came back in training mode, its layers too
    expect(m.training).toBe(true);
    expect(m.bn.training).toBe(true);
    expect(m.drop.training).toBe(true);
  });

  it('exports a float64 module as float32, and a fixed batch with dynamicBatch: false', async () => {
    class Affine64 extends Module {
      weight = nn.randn([6, 3], { dtype: 'float64', seed: 1 }).requiresGrad_();
      bias = nn.randn([3], { dtype: 'float64', seed: 2 }).requiresGrad_();
      forward(x: Tensor): Tensor { return x.matmul(this.weight).add(this.bias).sigmoid(); }
    }
    const m = new Affine64();
    const bytes = io.encodeOnnx(m, { inputShape: [6], dynamicBatch: false, batchSize: 4 });
    const g = decode(bytes).graph;
    expect(g.input[0].type.tensor_type.shape.dim.map((d) => d.dim_value)).toEqual([4, 6]);
    expect(g.initializer.map((t) => [t.name, (t as unknown as { data_type: number }).data_type])).toEqual([['weight', 1], ['bias', 1]]);
    const x = input([4, 6], 3);
    const want = nn.noGrad(() => m.call(x.astype('float64')));
    expectClose((await runOrt(bytes, x)).data, want.data, 1e-5);
  });

  it('names the first tensor operation without an ONNX counterpart and where forward() called it', () => {
    class Masked extends Module {
      forward(x: Tensor): Tensor {
        const y = x.relu().mul(2);
        return y.maskedSelect(y.gt(0)).sum().add(x.scatterAdd([0], x.slice([0, 1]), 0).sum());
      }
    }
    let error: unknown;
    try {
      io.encodeOnnx(new Masked(), { inputShape: [3] });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(io.OnnxExportError);
    expect(error).toBeInstanceOf(TypeError);
    const e = error as InstanceType<typeof io.OnnxExportError>;
    expect(e.op).toBe('maskedSelect');
    expect(e.message).toMatch(/^exportOnnx: forward\(\) uses the tensor operation maskedSelect at test[/\\]onnx-module\.spec\.ts:\d+:\d+, which has no ONNX counterpart; the operations that export are add, sub, /);
  });

  it('refuses an operation that writes into out (or in place): the trace would lose it', () => {
    class InPlace extends Module {
      forward(x: Tensor): Tensor {
        const y = x.mul(2);
        return y.add_(1);
      }
    }
    expect(() => io.encodeOnnx(new InPlace(), { inputShape: [3] }))
      .toThrow(/^add: writing into out \(or in place\) cannot be traced \(exportOnnx\): use the operation without out$/);
  });

  it('names a built-in layer without an ONNX counterpart by its property path', () => {
    class Custom extends nn.ReLU {
      override get name(): string { return 'Custom'; }
    }
    class WithLayer extends Module {
      act = new Custom();
      forward(x: Tensor): Tensor { return this.act.call(x.mul(2)); }
    }
    // a subclass of ReLU exports as ReLU: what has no counterpart is a layer class the exporter does not know
    expect(decode(io.encodeOnnx(new WithLayer(), { inputShape: [3] })).graph.node.map((n) => n.op_type)).toEqual(['Mul', 'Relu']);
    class Odd extends nn.Layer {
      forward(x: Tensor): Tensor { return x; }
      backward(d: Tensor): Tensor { return d; }
      outputShape(s: readonly number[]): number[] { return [...s]; }
      config() { return { type: 'Odd' }; }
      override get name(): string { return 'Odd'; }
    }
    class WithOdd extends Module {
      odd = new Odd();
      forward(x: Tensor): Tensor { return this.odd.call(x); }
    }
    expect(() => io.encodeOnnx(new WithOdd(), { inputShape: [3] })).toThrow(
      /^exportOnnx: forward\(\) calls layer odd \(Odd\) at test[/\\]onnx-module\.spec\.ts:\d+:\d+, which has no ONNX counterpart; the built-in layers that export are Dense, /);
  });

  it('refuses what a graph would freeze: values made without tensor operations, shapes and branches on the batch size', () => {
    class Untraced extends Module {
      forward(x: Tensor): Tensor { return x.add(new Tensor(x.data.map((v) => v * 2), x.shape)); }
    }
    expect(() => io.encodeOnnx(new Untraced(), { inputShape: [3], dynamicBatch: false }))
      .toThrow(/^exportOnnx: operand 1 of add \(at test[/\\]onnx-module\.spec\.ts:\d+:\d+\), a tensor of shape \[1, 3\] changes with the input's values but no traced tensor operation computes it/);
    class BatchConstant extends Module {
      forward(x: Tensor): Tensor { return x.add(nn.ones([x.shape[0], 3])); }
    }
    expect(() => io.encodeOnnx(new BatchConstant(), { inputShape: [3] }))
      .toThrow(/^exportOnnx: operand 1 of add \(at .*\), a tensor of shape \[2, 3\] was made in forward\(\) with a shape that follows the batch size \(\[2, 3\] at batch 2, \[3, 3\] at batch 3\)/);
    // with a fixed batch it is a constant like any other
    expect(decode(io.encodeOnnx(new BatchConstant(), { inputShape: [3], dynamicBatch: false, batchSize: 2 })).graph.node
      .map((n) => n.op_type)).toEqual(['Add']);
    class Branches extends Module {
      forward(x: Tensor): Tensor { return x.shape[0] > 2 ? x.relu() : x.tanh(); }
    }
    expect(() => io.encodeOnnx(new Branches(), { inputShape: [3] }))
      .toThrow(/^exportOnnx: forward\(\) ran other operations on two example inputs \(batch sizes 2 and 3\).*the first that differs is tanh/);
  });

  it('checks its options', () => {
    const m = new ResidualMLP();
    expect(() => io.encodeOnnx(m, {})).toThrow(/^exportOnnx: a Module needs options.inputShape/);
    expect(() => io.encodeOnnx(m, { inputShape: [0] })).toThrow(/inputShape must be an array of positive integers/);
    expect(() => io.encodeOnnx(m, { inputShape: [5] })).toThrow(RangeError);
    expect(() => io.encodeOnnx({} as Module, { inputShape: [6] })).toThrow(/net must be a Sequential or an nn.Module/);
  });
});
