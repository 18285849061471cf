// The sequence layers LayerNorm and Embedding (PyTorch semantics), on every backend and ISA: values against NumPy
// fixtures of PyTorch's formulas (scripts/fixtures/sequence-layers.py; torch is not installed here), float64
// gradient checks, the layerNorm kernels against the TS reference at sizes that thread and bitwise the same for 1,
// 2 and 3 threads, bad arguments, and a Sequential holding both saved and loaded (safetensors) with PyTorch's names.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { getBackend, tsBackend } from '../src/backend/index';
import { Module } from '../src/autograd/module';
import { noGrad } from '../src/index';
import { checkLayer, numericalGradient, numericalGradientFromUpstream, relativeError } from '../src/gradcheck';
import { Dense, Embedding, Flatten, LayerNorm } from '../src/layers/index';
import { Sequential } from '../src/network';
import { type DType, Tensor } from '../src/tensor';
import { backends, dtypes, expectBitwiseEqual, expectClose, nativeIsas, randomArray, useBackend, withThreads } from './helpers';

interface FixtureTensor { shape: number[]; data: number[] }
interface Case {
  name: string;
  layer: 'LayerNorm' | 'Embedding';
  args: Record<string, unknown>;
  inputs: Record<string, FixtureTensor>;
  expected: Record<string, FixtureTensor>;
}
const fixture = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'sequence-layers.json'), 'utf8')) as { cases: Case[] };

const tensor = (t: FixtureTensor, dtype: DType) => new Tensor(
  dtype === 'float32' ? Float32Array.from(t.data) : Float64Array.from(t.data), t.shape);

function randomTensor(shape: number[], seed: number, dtype: DType = 'float64'): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return new Tensor(randomArray(dtype === 'float32' ? Float32Array : Float64Array, n, seed, -2, 2), shape);
}

describe.each(backends)('LayerNorm and Embedding on $label', (bc) => {
  beforeEach(() => useBackend(bc));

  describe.each(dtypes)('%s: the fixtures (PyTorch\'s formulas in NumPy)', (dtypeName) => {
    const dtype = dtypeName as DType;
    const tol = dtype === 'float32' ? 2e-5 : 1e-12;
    it.each(fixture.cases.map((c) => [c.name, c] as const))('%s', (_, c) => {
      if (c.layer === 'LayerNorm') {
        const layer = new LayerNorm(c.args.normalizedShape as number[],
          { eps: c.args.eps as number, elementwiseAffine: c.args.elementwiseAffine as boolean, dtype });
        if (c.inputs.weight) {
          layer.weight!.data.set(tensor(c.inputs.weight, dtype).data);
          layer.bias!.data.set(tensor(c.inputs.bias, dtype).data);
        }
        const y = layer.forward(tensor(c.inputs.x, dtype));
        expect(y.shape).toEqual(c.expected.y.shape);
        expectClose(y.data, c.expected.y.data, tol);
        const dx = layer.backward(tensor(c.inputs.dy, dtype));
        expectClose(dx.data, c.expected.dx.data, tol);
        if (c.expected.dweight) {
          expectClose(layer.grads[0].data, c.expected.dweight.data, tol);
          expectClose(layer.grads[1].data, c.expected.dbias.data, tol);
        } else {
          expect(layer.params).toEqual([]);
        }
      } else {
        const layer = new Embedding(c.args.numEmbeddings as number, c.args.dim as number,
          { paddingIdx: c.args.paddingIdx as number | null, dtype });
        layer.weight.data.set(tensor(c.inputs.weight, dtype).data);
        const index = c.inputs.index;
        // the indices as a float tensor of whole numbers, and as an Int32Array (1-D: the flattened input)
        const y = layer.forward(tensor(index, dtype));
        expect(y.shape).toEqual(c.expected.y.shape);
        expect(Array.from(y.data)).toEqual(c.expected.y.data);
        const flat = layer.forward(Int32Array.from(index.data));
        expect(flat.shape).toEqual([index.data.length, c.args.dim]);
        expect(Array.from(flat.data)).toEqual(c.expected.y.data);
        layer.forward(tensor(index, dtype));
        const dx = layer.backward(tensor(c.inputs.dy, dtype));
        expect(dx.shape).toEqual(index.shape);
        expect(Array.from(dx.data).every((v) => v === 0)).toBe(true);
        expectClose(layer.grads[0].data, c.expected.dweight.data, tol);
      }
    });
  });

  it('LayerNorm passes the float64 gradient check: affine over two axes, without affine, and one long axis', () => {
    const affine = new LayerNorm([3, 5], { dtype: 'float64' });
    const x = randomTensor([4, 3, 5], 1);
    affine.weight!.data.set(randomArray(Float64Array, 15, 2, 0.5, 1.5));
    affine.bias!.data.set(randomArray(Float64Array, 15, 3, -1, 1));
    const r = checkLayer(affine, x);
    expect(Object.keys(r.params)).toEqual(['weight', 'bias']);
    expect(r.maxRelError).toBeLessThan(1e-6);

    // without parameters the layer takes any float dtype (here float64 from a float32-built layer)
    const plain = checkLayer(new LayerNorm(6, { elementwiseAffine: false }), randomTensor([5, 6], 4));
    expect(plain.params).toEqual({});
    expect(plain.maxRelError).toBeLessThan(1e-6);

    // 37 features: whole vectors and a tail on every ISA; eps large enough to matter
    const long = checkLayer(new LayerNorm(37, { eps: 0.5 }), randomTensor([3, 37], 5));
    expect(long.maxRelError).toBeLessThan(1e-6);
  });

  it('Embedding\'s weight gradient passes the float64 gradient check; the padding row gets none', () => {
    const layer = new Embedding(9, 5, { paddingIdx: -2, dtype: 'float64', seed: 3 });
    expect(layer.paddingIdx).toBe(7);
    expect(Array.from(layer.weight.data.subarray(35, 40))).toEqual([0, 0, 0, 0, 0]);
    const x = new Tensor([[1, 7, 4], [4, 4, 0], [8, 7, 1]]);
    const y = layer.forward(x);
    expect(y.shape).toEqual([3, 3, 5]);
    const dout = randomTensor([3, 3, 5], 6);
    layer.zeroGrad();
    layer.backward(dout);
    const analytic = layer.grads[0].clone();
    const numerical = numericalGradientFromUpstream(() => layer.forward(x), layer.weight, dout);
    // the padding row: no gradient, though the numerical one (the forward reads the row) is not 0
    expect(Array.from(analytic.data.subarray(35, 40))).toEqual([0, 0, 0, 0, 0]);
    expect(numerical.data.subarray(35, 40).some((v) => Math.abs(v) > 1e-3)).toBe(true);
    numerical.data.fill(0, 35, 40);
    expect(relativeError(analytic, numerical)).toBeLessThan(1e-6);
    // rows no index names: zero; backward accumulates
    expect(Array.from(analytic.data.subarray(10, 20))).toEqual(new Array(10).fill(0));
    layer.forward(x);
    layer.backward(dout);
    expectClose(layer.grads[0].data, analytic.data.map((v) => 2 * v), 1e-15);
  });

  it('the layerNorm kernels at sizes that thread: as the TS reference, every argument null or given', () => {
    const k = getBackend();
    for (const [, C] of dtypes) {
      const rows = 300, n = 515, tol = C === Float32Array ? 2e-5 : 1e-12;
      const x = randomArray(C, rows * n, 7, -3, 5), dy = randomArray(C, rows * n, 8);
      const gamma = randomArray(C, n, 9), beta = randomArray(C, n, 10);
      for (const affine of [true, false]) {
        const run = (b: typeof k) => {
          const y = new C(rows * n), mean = new C(rows), rstd = new C(rows), dx = new C(rows * n);
          const dg = new C(n).fill(1), db = new C(n).fill(-1);
          b.layerNormForward(rows, n, x, affine ? gamma : null, affine ? beta : null, y, mean, rstd, 1e-5);
          b.layerNormBackward(rows, n, x, dy, affine ? gamma : null, mean, rstd, dx, dg, db);
          return [y, mean, rstd, dx, dg, db];
        };
        const got = run(k), want = run(tsBackend);
        got.forEach((g, i) => expectClose(g, want[i], tol * (i >= 4 ? 10 : 1)));
      }
    }
  });
});

describe.each(nativeIsas)('the layerNorm kernels on $label with 1, 2 and 3 threads', (bc) => {
  beforeEach(() => useBackend(bc));

  it('give the same bits (rows in fixed tasks, the weight gradients summed per task in task order)', () => {
    const rows = 411, n = 300, C = Float32Array;
    const x = randomArray(C, rows * n, 11, -3, 5), dy = randomArray(C, rows * n, 12), gamma = randomArray(C, n, 13);
    const run = () => {
      const y = new C(rows * n), mean = new C(rows), rstd = new C(rows), dx = new C(rows * n);
      const dg = new C(n), db = new C(n);
      getBackend().layerNormForward(rows, n, x, gamma, gamma, y, mean, rstd, 1e-5);
      getBackend().layerNormBackward(rows, n, x, dy, gamma, mean, rstd, dx, dg, db);
      return [y, mean, rstd, dx, dg, db];
    };
    const one = withThreads(1, run);
    for (const t of [2, 3]) withThreads(t, run).forEach((a, i) => expectBitwiseEqual(a, one[i]));
  });
});

// A Module using both layers through layer.call(x): autograd's gradients of every parameter (PyTorch's names)
class Encoder extends Module {
  embed = new Embedding(6, 4, { dtype: 'float64', seed: 2 });
  norm = new LayerNorm(4, { dtype: 'float64' });
  forward(ids: Tensor): Tensor {
    return this.norm.call(this.embed.call(ids)).tanh();
  }
}

describe.each(backends)('through autograd (layer.call) on $label', (bc) => {
  beforeEach(() => useBackend(bc));

  it('a Module of Embedding and LayerNorm: parameter gradients match central differences (float64)', () => {
    const m = new Encoder();
    m.norm.weight!.data.set([0.5, 1.5, -1, 2]);
    m.norm.bias!.data.set([0.1, -0.2, 0.3, 0]);
    const ids = new Tensor([[1, 3, 3], [5, 0, 1]], undefined, 'float64');
    const loss = () => m.call(ids).square().mean();
    loss().backward();
    const names = m.namedParameters().map(([name]) => name);
    expect(names).toEqual(['embed.weight', 'norm.weight', 'norm.bias']);
    for (const [name, p] of m.namedParameters()) {
      const numeric = noGrad(() => numericalGradient(() => loss().item(), p));
      expect(relativeError(p.grad!, numeric), name).toBeLessThan(1e-6);
    }
  });
});

describe('bad arguments', () => {
  it('LayerNorm: the shape, options and input are checked with messages that name them', () => {
    expect(() => new LayerNorm(0)).toThrow(/LayerNorm normalizedShape\[0\] must be a positive integer/);
    expect(() => new LayerNorm([])).toThrow(TypeError);
    expect(() => new LayerNorm([4, 1.5])).toThrow(/normalizedShape\[1\]/);
    expect(() => new LayerNorm(4, { eps: 0 })).toThrow(/LayerNorm eps/);
    expect(() => new LayerNorm(4, { elementwiseAffine: 1 as never })).toThrow(/elementwiseAffine/);
    expect(() => new LayerNorm(4, { momentum: 0.1 } as never)).toThrow(/momentum/);
    const ln = new LayerNorm([3, 4]);
    expect(() => ln.forward(Tensor.zeros([2, 4, 3]))).toThrow(/input shape \[2, 4, 3\] must end with the normalized shape \[3, 4\]/);
    expect(() => ln.forward(Tensor.zeros([4]))).toThrow(RangeError);
    expect(() => ln.forward(Tensor.zeros([2, 3, 4], 'float64'))).toThrow(/input is float64 but the layer's parameters are float32/);
    expect(() => ln.backward(Tensor.zeros([2, 3, 4]))).toThrow(/backward\(\) called before forward\(\)/);
    ln.forward(Tensor.zeros([2, 3, 4]));
    expect(() => ln.backward(Tensor.zeros([2, 12]))).toThrow(/LayerNorm: dout must be float32 of shape \[2, 3, 4\]/);
    expect(() => ln.outputShape([5, 4])).toThrow(RangeError);
  });

  it('Embedding: an index out of range names it, its position and the size; non-integers and bad options too', () => {
    const e = new Embedding(5, 2);
    expect(() => e.forward(new Tensor([[0, 1], [5, 2]]))).toThrow(
      /Embedding: index 5 \(input element 2\) is out of range for 5 embeddings: expected an integer in \[0, 5\)/);
    expect(() => e.forward(new Int32Array([1, -1]))).toThrow(/index -1 \(input element 1\) is out of range for 5 embeddings/);
    expect(() => e.forward(new Tensor([0, 1.5]))).toThrow(/Embedding: input\[1\] must be an integer, got 1.5/);
    expect(() => e.forward([1, 2] as never)).toThrow(/Embedding: input must be a Tensor or an Int32Array of indices/);
    expect(() => new Embedding(0, 2)).toThrow(/Embedding numEmbeddings must be a positive integer/);
    expect(() => new Embedding(5, -1)).toThrow(/Embedding dim/);
    expect(() => new Embedding(5, 2, { paddingIdx: 5 })).toThrow(/Embedding paddingIdx must be an integer in \[-5, 5\) \(numEmbeddings 5\), got 5/);
    expect(() => new Embedding(5, 2, { paddingIdx: -6 })).toThrow(RangeError);
    expect(() => new Embedding(5, 2, { init: 'ones' as never })).toThrow(/Embedding init/);
    expect(() => new Embedding(5, 2, { padding: 1 } as never)).toThrow(/padding/);
    expect(() => e.backward(Tensor.zeros([2, 2]))).toThrow(/backward\(\) called before forward\(\)/);
    e.forward(new Tensor([[0, 1], [4, 2]]));
    expect(() => e.backward(Tensor.zeros([2, 2]))).toThrow(/Embedding: dout must be float32 of shape \[2, 2, 2\]/);
  });
});

describe('a Sequential with Embedding and LayerNorm', () => {
  let dir = '';
  beforeAll(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodenn-seq-')); });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const build = () => new Sequential([
    new Embedding(10, 8, { paddingIdx: 0 }), new LayerNorm(8), new Flatten(), new Dense(4 * 8, 3),
  ], { seed: 5 });

  it('has PyTorch\'s state dict names and draws N(0, 1) embeddings with the padding row 0', () => {
    const net = build();
    expect(Object.keys(net.stateDict({ to: 'pytorch' }))).toEqual(['0.weight', '1.weight', '1.bias', '3.weight', '3.bias']);
    expect(net.stateDict()['0.weight'].shape).toEqual([10, 8]);
    expect(Array.from(net.stateDict()['1.weight'].data)).toEqual(new Array(8).fill(1));
    const w = net.stateDict()['0.weight'].data;
    expect(Array.from(w.subarray(0, 8))).toEqual(new Array(8).fill(0));
    let s = 0, q = 0;
    for (let i = 8; i < 80; i++) { s += w[i]; q += w[i] * w[i]; }
    expect(Math.abs(s / 72)).toBeLessThan(0.4);
    expect(Math.sqrt(q / 72)).toBeGreaterThan(0.7);
    expect(Math.sqrt(q / 72)).toBeLessThan(1.3);
  });

  it('trains a few steps, saves (safetensors) and loads back with the same predictions, bit for bit', async () => {
    const net = build();
    const x = new Tensor([[1, 2, 3, 0], [4, 4, 9, 0], [7, 1, 0, 0], [2, 8, 5, 3]]);
    const y = new Int32Array([0, 1, 2, 1]);
    await net.fit(x, y, { epochs: 3, batchSize: 2, loss: 'softmaxCrossEntropy', optimizer: 'adam', verbose: 0 });
    // the padding row never received a gradient: Adam left it at 0
    expect(Array.from(net.stateDict()['0.weight'].data.subarray(0, 8))).toEqual(new Array(8).fill(0));
    const file = path.join(dir, 'seq.safetensors');
    await net.save(file);
    const back = await Sequential.load(file);
    expect(back.layers.map((l) => l.name)).toEqual(['Embedding', 'LayerNorm', 'Flatten', 'Dense']);
    expect((back.layers[0] as Embedding).paddingIdx).toBe(0);
    expectBitwiseEqual(back.predict(x).data, net.predict(x).data);
    // predict (eval mode, the inference path) gives the layers' own forward passes
    back.eval();
    const manual = back.layers.reduce((h: Tensor, l) => l.forward(h), x).clone();
    expectBitwiseEqual(back.predict(x).data, manual.data);
    for (const [k, t] of Object.entries(net.stateDict())) expectBitwiseEqual(back.stateDict()[k].data, t.data);
  });
});
