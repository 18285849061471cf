// nn.ops.linear (src/ops/linalg.ts, its backward in src/autograd/grads.ts): values and gradients against plain
// loops on every backend and ISA, float32 and float64, with and without bias, a (out, in) weight, the fused
// activations and batched inputs; gradients added into an existing .grad; the training loop's overwrite of a
// Module's gradients (ModuleLayer.backwardTrain); the errors. Central differences: test/autograd.spec.ts.
import { afterAll, describe, expect, it } from 'vitest';
import * as nn from '../src/index';
import { Tensor, ops } from '../src/index';
import type { DType } from '../src/index';
import { backends, expectClose, randomArray, useBackend } from './helpers';

type Act = 'relu' | 'sigmoid' | 'tanh' | null;

const act = (a: Act, z: number): number =>
  a === 'relu' ? Math.max(z, 0) : a === 'sigmoid' ? 1 / (1 + Math.exp(-z)) : a === 'tanh' ? Math.tanh(z) : z;

/** W[i][o] of a weight (in, out), or of one (out, in) with transposed. */
const weightAt = (w: ArrayLike<number>, i: number, o: number, inF: number, outF: number, transposed: boolean) =>
  (transposed ? w[o * inF + i] : w[i * outF + o]);

/** y = act(x W + b) and its gradients for d loss / dy = g, in float64 loops. */
function reference(x: ArrayLike<number>, w: ArrayLike<number>, b: ArrayLike<number> | null, g: ArrayLike<number>,
  M: number, inF: number, outF: number, transposed: boolean, a: Act) {
  const y = new Float64Array(M * outF), dz = new Float64Array(M * outF);
  const dx = new Float64Array(M * inF), dw = new Float64Array(inF * outF), db = new Float64Array(outF);
  for (let m = 0; m < M; m++) {
    for (let o = 0; o < outF; o++) {
      let z = b ? b[o] : 0;
      for (let i = 0; i < inF; i++) z += x[m * inF + i] * weightAt(w, i, o, inF, outF, transposed);
      const v = act(a, z);
      y[m * outF + o] = v;
      const d = a === 'relu' ? (z > 0 ? 1 : 0) : a === 'sigmoid' ? v * (1 - v) : a === 'tanh' ? 1 - v * v : 1;
      dz[m * outF + o] = g[m * outF + o] * d;
    }
  }
  for (let m = 0; m < M; m++) {
    for (let o = 0; o < outF; o++) {
      const d = dz[m * outF + o];
      db[o] += d;
      for (let i = 0; i < inF; i++) {
        dx[m * inF + i] += d * weightAt(w, i, o, inF, outF, transposed);
        dw[transposed ? o * inF + i : i * outF + o] += x[m * inF + i] * d;
      }
    }
  }
  return { y, dx, dw, db };
}

interface Case { name: string; x: number[]; inF: number; outF: number; bias: boolean; transposed: boolean; act: Act }

const cases: Case[] = [
  { name: 'x (5, 7) · W (7, 3) + b', x: [5, 7], inF: 7, outF: 3, bias: true, transposed: false, act: null },
  { name: 'no bias', x: [4, 6], inF: 6, outF: 5, bias: false, transposed: false, act: null },
  { name: 'batched x (2, 3, 9), relu', x: [2, 3, 9], inF: 9, outF: 4, bias: true, transposed: false, act: 'relu' },
  { name: '1-D x, W (out, in), sigmoid', x: [6], inF: 6, outF: 4, bias: true, transposed: true, act: 'sigmoid' },
  { name: 'W (out, in), tanh, no bias, a batch of 33 (GEMM edges)', x: [33, 17], inF: 17, outF: 19, bias: false, transposed: true, act: 'tanh' },
];

describe.each(backends)('nn.ops.linear on $label', (bc) => {
  afterAll(() => nn.setBackend('ts'));

  for (const dtype of ['float32', 'float64'] as DType[]) {
    it.each(cases)(`$name (${dtype}): y, dx, dW and db as plain loops give them`, (c) => {
      useBackend(bc);
      const C = dtype === 'float64' ? Float64Array : Float32Array;
      const M = c.x.length === 1 ? 1 : c.x.slice(0, -1).reduce((p, d) => p * d, 1);
      const wShape = c.transposed ? [c.outF, c.inF] : [c.inF, c.outF];
      const x = new Tensor(randomArray(C, M * c.inF, 1), c.x).requiresGrad_();
      const w = new Tensor(randomArray(C, c.inF * c.outF, 2), wShape).requiresGrad_();
      const b = c.bias ? new Tensor(randomArray(C, c.outF, 3), [c.outF]).requiresGrad_() : null;
      const y = ops.linear(x, w, b, { transposeWeight: c.transposed, activation: c.act });
      expect(y.shape).toEqual([...c.x.slice(0, -1), c.outF]);
      expect(y.dtype).toBe(dtype);
      const g = new Tensor(randomArray(C, y.size, 4), y.shape);
      y.backward(g);
      const want = reference(x.data, w.data, b?.data ?? null, g.data, M, c.inF, c.outF, c.transposed, c.act);
      const tol = dtype === 'float64' ? 1e-12 : 2e-5;
      expectClose(y.data, want.y, tol);
      expectClose(x.grad!.data, want.dx, tol);
      expectClose(w.grad!.data, want.dw, tol * 4);
      if (b) expectClose(b.grad!.data, want.db, tol * 4);
      expect([x.grad!.shape, w.grad!.shape]).toEqual([x.shape, w.shape]);
    });
  }

  it('gradients add into an existing .grad (a second backward doubles them), none for an input without requiresGrad', () => {
    useBackend(bc);
    const x = new Tensor(randomArray(Float32Array, 12, 5), [4, 3]);
    const w = new Tensor(randomArray(Float32Array, 6, 6), [3, 2]).requiresGrad_();
    const b = new Tensor(randomArray(Float32Array, 2, 7), [2]).requiresGrad_();
    const y = ops.linear(x, w, b, { activation: 'relu' });
    const g = new Tensor(randomArray(Float32Array, 8, 8), [4, 2]);
    y.backward(g);
    const once = [Float64Array.from(w.grad!.data), Float64Array.from(b.grad!.data)];
    const gradBuffer = w.grad!;
    y.backward(g);
    expect(w.grad).toBe(gradBuffer);  // added in place
    expectClose(w.grad!.data, once[0].map((v) => 2 * v), 1e-6);
    expectClose(b.grad!.data, once[1].map((v) => 2 * v), 1e-6);
    expect(x.grad).toBeNull();
  });

  it('empty batches and zero input features: shapes kept, y = b, zero gradients', () => {
    useBackend(bc);
    const w = nn.ones([3, 2]).requiresGrad_(), b = nn.tensor([1, -2]).requiresGrad_();
    const y0 = ops.linear(nn.zeros([0, 3]).requiresGrad_(), w, b);
    expect(y0.shape).toEqual([0, 2]);
    y0.sum().backward();
    expect([...w.grad!.data, ...b.grad!.data]).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    const x = nn.zeros([2, 0]).requiresGrad_(), w0 = nn.zeros([0, 2]).requiresGrad_(), b0 = nn.tensor([1, -2]).requiresGrad_();
    const y = ops.linear(x, w0, b0);
    expect(y.toNested()).toEqual([[1, -2], [1, -2]]);
    y.sum().backward();
    expect(x.grad!.shape).toEqual([2, 0]);
    expect(w0.grad!.shape).toEqual([0, 2]);
    expect([...b0.grad!.data]).toEqual([2, 2]);
  });

  it('float64 wins: x float32 with a float64 weight gives float64, and x.grad comes back float32', () => {
    useBackend(bc);
    const x = nn.tensor([[1, 2]], { requiresGrad: true });
    const w = nn.tensor([[0.5], [0.25]], { dtype: 'float64', requiresGrad: true });
    const y = ops.linear(x, w, nn.tensor([1]));
    expect(y.dtype).toBe('float64');
    expect(y.toNested()).toEqual([[2]]);
    y.sum().backward();
    expect(x.grad!.dtype).toBe('float32');
    expect(x.grad!.toNested()).toEqual([[0.5, 0.25]]);
    expect(w.grad!.toNested()).toEqual([[1], [2]]);
  });

  it('a Module of linear trains in fit() as the same network of Dense layers does (parameters equal after 5 steps)', async () => {
    useBackend(bc);
    const seq = new nn.Sequential([new nn.Dense(6, 8), new nn.ReLU(), new nn.Dense(8, 3)], { seed: 3 });
    class Mlp extends nn.Module {
      w1: Tensor; b1: Tensor; w2: Tensor; b2: Tensor;
      unused = nn.ones([2]).requiresGrad_();  // reached by no gradient: fit leaves its gradient at zero
      constructor() {
        super();
        const p = seq.parameters().map((q) => q.param.clone().requiresGrad_());
        [this.w1, this.b1, this.w2, this.b2] = p;
      }

      forward(x: Tensor): Tensor {
        return ops.linear(ops.linear(x, this.w1, this.b1, { activation: 'relu' }), this.w2, this.b2);
      }
    }
    const m = new Mlp();
    const x = new Tensor(randomArray(Float32Array, 40 * 6, 9), [40, 6]);
    const y = Int32Array.from({ length: 40 }, (_, i) => i % 3);
    const opts = { epochs: 1, batchSize: 8, shuffle: false, verbose: 0 as const };
    await seq.fit(x, y, { ...opts, optimizer: new nn.SGD({ lr: 0.1, momentum: 0.9 }) });
    await m.fit(x, y, { ...opts, optimizer: new nn.SGD({ lr: 0.1, momentum: 0.9 }) });
    const want = seq.parameters();
    [m.w1, m.b1, m.w2, m.b2].forEach((p, i) => expectClose(p.data, want[i].param.data, 1e-5));
    // the gradients are those of the last batch alone (overwritten each step, not summed over the steps)
    const layer = m.asLayer();
    [0, 1, 2, 3].forEach((i) => expectClose(layer.grads[i].data, want[i].grad.data, 1e-5));
    expect([...layer.grads[4].data]).toEqual([0, 0]);
    expect([...m.unused.data]).toEqual([1, 1]);
  });
});

describe('ModuleLayer.backwardTrain', () => {
  class Affine extends nn.Module {
    w = nn.tensor([[1, 2], [3, 4]], { requiresGrad: true });
    b = nn.tensor([0.5, -0.5], { requiresGrad: true });
    spare = nn.tensor([7], { requiresGrad: true });
    forward(x: Tensor): Tensor { return ops.linear(x, this.w, this.b); }
  }

  it('overwrites the gradients (accumulate false, a parameter not reached zeroed), adds with true, dx only when asked', () => {
    nn.setBackend('ts');
    const m = new Affine(), layer = m.asLayer();
    const x = nn.tensor([[1, 1], [2, 0]]), dout = nn.tensor([[1, 0], [0, 1]]);
    for (const g of layer.grads) g.data.fill(5);
    layer.forward(x);
    expect(layer.backwardTrain(dout, false, false)).toBeNull();
    // dW = xᵀ dout, db = column sums of dout
    expect(layer.grads.map((g) => [...g.data])).toEqual([[1, 2, 1, 0], [1, 1], [0]]);
    layer.forward(x);
    const dx = layer.backwardTrain(dout, true, true)!;
    expect(dx.toNested()).toEqual([[1, 3], [2, 4]]);
    expect(layer.grads.map((g) => [...g.data])).toEqual([[2, 4, 2, 0], [2, 2], [0]]);
    // the parameters' own .grad is left as it was
    expect(m.w.grad).toBeNull();
  });
});

describe('nn.ops.linear errors', () => {
  const x = nn.zeros([2, 4]);
  it.each([
    ['a weight of the wrong input size', () => ops.linear(x, nn.zeros([3, 5])), RangeError,
      'linear: weight has shape [3, 5] but x [2, 4] has 4 features (its last axis): weight must be (in, out), [4, 5]'],
    ['the same with transposeWeight', () => ops.linear(x, nn.zeros([5, 3]), null, { transposeWeight: true }), RangeError,
      'linear: weight has shape [5, 3] but x [2, 4] has 4 features (its last axis): weight must be (out, in), [5, 4] (transposeWeight)'],
    ['a 1-D weight', () => ops.linear(x, nn.zeros([4])), RangeError, 'linear: weight must be 2-D (in, out), got shape [4]'],
    ['a bias of the wrong size', () => ops.linear(x, nn.zeros([4, 5]), nn.zeros([4])), RangeError,
      'linear: bias must have shape [5] (the weight\'s 5 output features), got [4]'],
    ['a 2-D bias', () => ops.linear(x, nn.zeros([4, 5]), nn.zeros([1, 5])), RangeError,
      'linear: bias must have shape [5] (the weight\'s 5 output features), got [1, 5]'],
    ['a 0-d x', () => ops.linear(nn.tensor(1), nn.zeros([4, 5])), RangeError,
      'linear: x must have at least one axis, the 4 input features last, got shape []'],
    ['an unknown activation', () => ops.linear(x, nn.zeros([4, 5]), null, { activation: 'gelu' as never }), TypeError,
      'linear: activation must be one of \'relu\', \'sigmoid\', \'tanh\' or null, got the string \'gelu\''],
    ['a transposeWeight that is not a boolean', () => ops.linear(x, nn.zeros([4, 5]), null, { transposeWeight: 1 as never }),
      TypeError, 'linear: transposeWeight must be a boolean, got 1'],
    ['options that are not an object', () => ops.linear(x, nn.zeros([4, 5]), null, 'relu' as never), TypeError,
      'linear: options must be an object, got the string \'relu\''],
    ['a weight that is not a tensor', () => ops.linear(x, 'w' as never), TypeError, 'weight must be a Tensor or an array of numbers, got the string \'w\''],
  ])('%s', (_name, f, type, message) => {
    expect(f).toThrow(type);
    expect(f).toThrow(message);
  });
});
