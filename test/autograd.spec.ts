// Autograd (src/autograd/): every differentiable tensor operation's backward against central differences, table
// driven with broadcasting shapes, float64, on every backend and ISA; and the semantics PyTorch gives backward(),
// .grad, noGrad, detach and grad().
import { afterAll, describe, expect, it } from 'vitest';
import * as nn from '../src/index';
import { Tensor, ops } from '../src/index';
import { numericalGradient, relativeError } from '../src/gradcheck';
import { backends, randomArray, useBackend } from './helpers';

type Init = 'any' | 'positive' | 'distinct';
interface Case {
  name: string;
  /** The operation, on tensors of `shapes` (shapes may broadcast). */
  f: (...xs: Tensor[]) => Tensor;
  shapes: number[][];
  /** positive: in [0.5, 2] (log, sqrt, pow); distinct: away from kinks and ties (abs, relu, max). */
  init?: Init;
}

const zeroMask = new Tensor([[1, 0, 1, 1], [0, 1, 0, 1], [1, 1, 1, 1]], undefined, 'float64');

const cases: Case[] = [
  { name: 'add', f: (a, b) => a.add(b), shapes: [[2, 3], [3]] },
  { name: 'add (size-1 axes on both)', f: (a, b) => a.add(b), shapes: [[2, 1, 4], [3, 1]] },
  { name: 'add number', f: (a) => ops.add(2.5, a), shapes: [[3, 2]] },
  { name: 'sub', f: (a, b) => a.sub(b), shapes: [[4, 1], [1, 3]] },
  { name: 'mul', f: (a, b) => a.mul(b), shapes: [[2, 3, 2], [3, 1]] },
  { name: 'mul scalar tensor', f: (a, b) => a.mul(b), shapes: [[3, 2], []] },
  { name: 'div', f: (a, b) => a.div(b), shapes: [[2, 3], [2, 1]], init: 'positive' },
  { name: 'pow (tensor exponent)', f: (a, b) => a.pow(b), shapes: [[2, 3], [3]], init: 'positive' },
  { name: 'pow number', f: (a) => a.pow(3), shapes: [[5]] },
  { name: 'pow number base', f: (a) => ops.pow(2, a), shapes: [[2, 2]] },
  { name: 'maximum', f: (a, b) => a.maximum(b), shapes: [[3, 4], [4]], init: 'distinct' },
  { name: 'minimum', f: (a, b) => a.minimum(b), shapes: [[3, 1], [3, 4]], init: 'distinct' },
  { name: 'where', f: (a, b) => ops.where(a.gt(0), a, b), shapes: [[3, 4], [4]], init: 'distinct' },
  { name: 'neg', f: (a) => a.neg(), shapes: [[2, 3]] },
  { name: 'abs', f: (a) => a.abs(), shapes: [[2, 3]], init: 'distinct' },
  { name: 'exp', f: (a) => a.exp(), shapes: [[2, 3]] },
  { name: 'log', f: (a) => a.log(), shapes: [[2, 3]], init: 'positive' },
  { name: 'log1p', f: (a) => a.log1p(), shapes: [[2, 3]], init: 'positive' },
  { name: 'sqrt', f: (a) => a.sqrt(), shapes: [[2, 3]], init: 'positive' },
  { name: 'square', f: (a) => a.square(), shapes: [[2, 3]] },
  { name: 'relu', f: (a) => a.relu(), shapes: [[2, 3]], init: 'distinct' },
  { name: 'leakyRelu', f: (a) => a.leakyRelu(0.2), shapes: [[2, 3]], init: 'distinct' },
  { name: 'sigmoid', f: (a) => a.sigmoid(), shapes: [[2, 3]] },
  { name: 'tanh', f: (a) => a.tanh(), shapes: [[2, 3]] },
  { name: 'softplus', f: (a) => a.softplus(), shapes: [[2, 3]] },
  { name: 'gelu', f: (a) => a.gelu(), shapes: [[2, 3]] },
  { name: 'clamp', f: (a) => a.clamp(-0.5, 0.5), shapes: [[3, 4]], init: 'distinct' },
  { name: 'sum all', f: (a) => a.sum(), shapes: [[2, 3]] },
  { name: 'sum axis', f: (a) => a.sum(1), shapes: [[2, 3, 2]] },
  { name: 'sum axes keepdims', f: (a) => a.sum([0, 2], true), shapes: [[2, 3, 2]] },
  { name: 'mean all', f: (a) => a.mean(), shapes: [[2, 3]] },
  { name: 'mean axis -1 keepdims', f: (a) => a.mean({ axis: -1, keepdims: true }), shapes: [[2, 3, 4]] },
  { name: 'max axis', f: (a) => a.max(1), shapes: [[3, 4]], init: 'distinct' },
  { name: 'min all', f: (a) => a.min(), shapes: [[3, 4]], init: 'distinct' },
  { name: 'var axis', f: (a) => a.var(0), shapes: [[4, 3]] },
  { name: 'std ddof 1', f: (a) => a.std({ axis: 1, ddof: 1 }), shapes: [[2, 5]] },
  { name: 'logSumExp', f: (a) => a.logSumExp(-1), shapes: [[3, 4]] },
  { name: 'softmax', f: (a) => a.softmax(0), shapes: [[3, 4]] },
  { name: 'logSoftmax', f: (a) => a.logSoftmax(), shapes: [[3, 4]] },
  { name: 'matmul', f: (a, b) => a.matmul(b), shapes: [[3, 4], [4, 2]] },
  { name: 'matmul batched, broadcast', f: (a, b) => a.matmul(b), shapes: [[2, 3, 4], [4, 5]] },
  { name: 'matmul batch broadcast both', f: (a, b) => a.matmul(b), shapes: [[2, 1, 3, 4], [3, 4, 2]] },
  { name: 'matmul vector·matrix', f: (a, b) => a.matmul(b), shapes: [[4], [4, 3]] },
  { name: 'matmul matrix·vector', f: (a, b) => a.matmul(b), shapes: [[3, 4], [4]] },
  { name: 'matmul vector·vector', f: (a, b) => a.matmul(b), shapes: [[4], [4]] },
  { name: 'matmul transposeA', f: (a, b) => a.matmul(b, { transposeA: true }), shapes: [[4, 3], [4, 2]] },
  { name: 'matmul transposeB', f: (a, b) => a.matmul(b, { transposeB: true }), shapes: [[3, 4], [2, 4]] },
  { name: 'matmul both transposed', f: (a, b) => a.matmul(b, { transposeA: true, transposeB: true }), shapes: [[2, 4, 3], [2, 4]] },
  { name: 'dot', f: (a, b) => a.dot(b), shapes: [[2, 3], [3, 2]] },
  { name: 'linear', f: (x, w, b) => ops.linear(x, w, b), shapes: [[3, 4], [4, 2], [2]] },
  { name: 'linear without bias', f: (x, w) => ops.linear(x, w), shapes: [[3, 4], [4, 2]] },
  { name: 'linear batched input (2, 3, in)', f: (x, w, b) => ops.linear(x, w, b), shapes: [[2, 3, 4], [4, 5], [5]] },
  { name: 'linear 1-D input', f: (x, w, b) => ops.linear(x, w, b), shapes: [[4], [4, 3], [3]] },
  { name: 'linear transposeWeight (out, in)', f: (x, w, b) => ops.linear(x, w, b, { transposeWeight: true }), shapes: [[3, 4], [2, 4], [2]] },
  { name: 'linear + relu fused', f: (x, w, b) => ops.linear(x, w, b, { activation: 'relu' }), shapes: [[4, 3], [3, 5], [5]], init: 'distinct' },
  { name: 'linear + sigmoid fused, batched, transposeWeight', f: (x, w, b) => ops.linear(x, w, b, { activation: 'sigmoid', transposeWeight: true }),
    shapes: [[2, 2, 3], [4, 3], [4]] },
  { name: 'linear + tanh fused, no bias', f: (x, w) => ops.linear(x, w, null, { activation: 'tanh' }), shapes: [[3, 4], [4, 2]] },
  { name: 'reshape', f: (a) => a.reshape([3, -1]).mul(a.reshape([3, 2])), shapes: [[2, 3]] },
  { name: 'transpose', f: (a, b) => a.T.mul(b), shapes: [[2, 3], [3, 2]] },
  { name: 'permute', f: (a) => a.permute(2, 0, 1).square(), shapes: [[2, 3, 4]] },
  { name: 'squeeze/unsqueeze/flatten', f: (a) => a.unsqueeze(0).squeeze().flatten().exp(), shapes: [[2, 3]] },
  { name: 'broadcastTo', f: (a) => a.broadcastTo([2, 3, 4]).square(), shapes: [[3, 1]] },
  { name: 'slice', f: (a) => a.slice([1, 3], null, [null, null, -1]).square(), shapes: [[4, 2, 3]] },
  { name: 'slice with an index', f: (a) => a.slice(1).exp(), shapes: [[3, 4]] },
  { name: 'take (repeated indices)', f: (a) => a.take([0, 2, 2, 5]).square(), shapes: [[2, 3]] },
  { name: 'gather along axis 1', f: (a) => a.gather([1, 1, 0], 1).square(), shapes: [[2, 3]] },
  { name: 'split', f: (a) => { const [p, q] = a.split([1], 1); return p.mul(q.sum(1, true)); }, shapes: [[2, 3]] },
  { name: 'concat', f: (a, b) => ops.concat([a, b, a], 1).square(), shapes: [[2, 3], [2, 1]] },
  { name: 'stack', f: (a, b) => ops.stack([a, b], 1).square(), shapes: [[2, 3], [2, 3]] },
  { name: 'pad', f: (a) => a.pad([[1, 0], [2, 1]], 0.5).square(), shapes: [[2, 3]] },
  { name: 'prod axis', f: (a) => a.prod(1), shapes: [[3, 4]], init: 'positive' },
  { name: 'prod all keepdims', f: (a) => a.prod({ keepdims: true }), shapes: [[2, 3]] },
  // rows with one zero, two zeros and none: only a lone zero gets a gradient (the product of the rest)
  { name: 'prod with zeros', f: (a) => a.mul(zeroMask).prod(1), shapes: [[3, 4]] },
  { name: 'scatterAdd (repeated indices, both operands)', f: (a, u) => ops.scatterAdd(a, [2, 0, 2], u, 1).square(), shapes: [[2, 3], [2, 3]] },
  { name: 'scatterAdd axis 0', f: (a, u) => ops.scatterAdd(a, [1], u).exp(), shapes: [[3, 2], [1, 2]] },
  { name: 'maskedSelect (elements)', f: (a) => ops.maskedSelect(a, a.gt(0)).square(), shapes: [[3, 4]], init: 'distinct' },
  { name: 'maskedSelect (rows)', f: (a) => ops.maskedSelect(a, [true, false, true]).exp(), shapes: [[3, 2]] },
  { name: 'outer', f: (a, b) => ops.outer(a, b), shapes: [[3], [4]] },
  { name: 'swapaxes', f: (a, b) => ops.swapaxes(a, 0, 2).mul(b), shapes: [[2, 3, 4], [3, 1]] },
  { name: 'clone and astype', f: (a) => a.clone().mul(a.astype('float64')), shapes: [[2, 2]] },
  { name: 'composite: tanh(x W + b) mean', f: (x, w, b) => x.matmul(w).add(b).tanh().mean(), shapes: [[4, 3], [3, 2], [2]] },
];

function inputs(c: Case, seed: number): Tensor[] {
  return c.shapes.map((s, k) => {
    const n = s.reduce((p, d) => p * d, 1);
    const data = c.init === 'positive' ? randomArray(Float64Array, n, seed + k, 0.5, 2) : randomArray(Float64Array, n, seed + k);
    if (c.init === 'distinct') {
      // well apart from 0, from ±0.5 and from each other (no ties, no kinks within the difference step)
      const r = randomArray(Float64Array, n, seed + k + 50);
      for (let i = 0; i < n; i++) data[i] = (i % 2 === 0 ? 1 : -1) * (0.1 + 0.8 * (i + 0.3 * r[i] + 0.1 * k) / n);
      if (k > 0) for (let i = 0; i < n; i++) data[i] += 0.013;
    }
    return new Tensor(data, s);
  });
}

/** Σ f(xs) · w for a fixed random w: the loss whose gradient is checked (every output element matters). */
function lossOf(c: Case, xs: Tensor[], w: Tensor): Tensor {
  return c.f(...xs).mul(w).sum();
}

describe.each(backends)('autograd on $label', (bc) => {
  afterAll(() => nn.setBackend('ts'));

  it.each(cases)('$name: backward matches central differences (float64, relative error ≤ 1e-7)', (c) => {
    useBackend(bc);
    const xs = inputs(c, 7).map((x) => x.requiresGrad_());
    const yShape = c.f(...xs).shape;
    const w = new Tensor(randomArray(Float64Array, yShape.reduce((p, d) => p * d, 1), 99), yShape);
    lossOf(c, xs, w).backward();
    xs.forEach((x, k) => {
      expect(x.grad, `${c.name}: input ${k} has a gradient`).not.toBeNull();
      expect(x.grad!.shape).toEqual(x.shape);
      expect(x.grad!.dtype).toBe('float64');
      const numeric = nn.noGrad(() => numericalGradient(() => lossOf(c, xs, w).item(), x, { h: 1e-6 }));
      const err = relativeError(x.grad!, numeric);
      expect(err, `${c.name}: input ${k}: ${x.grad!.toArray()} vs ${numeric.toArray()}`).toBeLessThanOrEqual(1e-7);
    });
  });

  it('a gradient made by a backward becomes a leaf\'s .grad without a copy, but never two leaves\' at once', () => {
    useBackend(bc);
    const a = nn.tensor([[1, -2]], { requiresGrad: true }), b = nn.tensor([[0.5, 3]], { requiresGrad: true });
    const w = nn.tensor([[1, 2, 3], [4, 5, 6]], { requiresGrad: true });
    // linear's dx reaches add, which hands the same tensor to both a and b
    ops.linear(a.add(b), w, null, { activation: 'relu' }).sum().backward();
    expect(a.grad!.toNested()).toEqual([[6, 15]]);
    expect(b.grad!.toNested()).toEqual([[6, 15]]);
    expect(a.grad).not.toBe(b.grad);
    a.grad!.data[0] = 100;
    expect(b.grad!.data[0]).toBe(6);
    expect(w.grad!.toNested()).toEqual([[1.5, 1.5, 1.5], [1, 1, 1]]);
  });

  it('float32 leaves get float32 gradients; mixed float32/float64 operands each get their own dtype', () => {
    useBackend(bc);
    const a = nn.tensor([[1, 2], [3, 4]], { requiresGrad: true });
    const b = nn.tensor([0.5, 2], { dtype: 'float64', requiresGrad: true });
    a.mul(b).sum().backward();
    expect(a.grad!.dtype).toBe('float32');
    expect(a.grad!.toArray()).toEqual([0.5, 2, 0.5, 2]);
    expect(b.grad!.dtype).toBe('float64');
    expect(b.grad!.toArray()).toEqual([4, 6]);
  });
});

describe('autograd semantics', () => {
  const f64 = (data: number[] | number[][], requiresGrad = true) => nn.tensor(data, { dtype: 'float64', requiresGrad });

  it('x0² + x1² at (3, 4): value 25, gradient (6, 8)', () => {
    const x = f64([3, 4]);
    const y = x.square().sum();
    expect(y.item()).toBe(25);
    expect(y.requiresGrad).toBe(true);
    expect(y.gradFn!.op).toBe('sum');
    y.backward();
    expect(x.grad!.toArray()).toEqual([6, 8]);
  });

  it('gradients accumulate over two backward calls until reset', () => {
    const x = f64([1, -2]);
    x.mul(3).sum().backward();
    x.square().sum().backward();
    expect(x.grad!.toArray()).toEqual([3 + 2, 3 - 4]);
    x.grad = null;
    x.mul(3).sum().backward();
    expect(x.grad!.toArray()).toEqual([3, 3]);
  });

  it('a tensor used twice gets the sum of both paths (y = x · x + x)', () => {
    const x = f64([2, 5]);
    x.mul(x).add(x).sum().backward();
    expect(x.grad!.toArray()).toEqual([5, 11]);
  });

  it('backward(grad) on a non-scalar uses the given gradient; without one it is a RangeError naming the shape', () => {
    const x = f64([1, 2, 3]);
    const y = x.square();
    expect(() => y.backward()).toThrow(RangeError);
    expect(() => y.backward()).toThrow(/one element .* shape \[3\].*backward\(grad\)/);
    y.backward(nn.tensor([1, 0, 10], { dtype: 'float64' }));
    expect(x.grad!.toArray()).toEqual([2, 0, 60]);
    expect(() => y.backward(nn.tensor([1, 2], { dtype: 'float64' }))).toThrow(/grad has shape \[2\] but the tensor has shape \[3\]/);
    expect(() => y.backward([1, 2, 3] as unknown as Tensor)).toThrow(TypeError);
  });

  it('backward on a tensor that needs no gradient is a clear error', () => {
    const x = f64([1, 2], false);
    expect(() => x.square().sum().backward()).toThrow(/does not require a gradient/);
  });

  it('noGrad records nothing, returns fn\'s value and restores recording even when fn throws', () => {
    const x = f64([1, 2]);
    const y = nn.noGrad(() => x.mul(2).sum());
    expect(y.requiresGrad).toBe(false);
    expect(y.gradFn).toBeNull();
    expect(y.item()).toBe(6);
    expect(() => nn.noGrad(() => { throw new Error('inside'); })).toThrow('inside');
    expect(nn.isGradEnabled()).toBe(true);
    expect(x.mul(2).requiresGrad).toBe(true);
    expect(() => nn.noGrad(3 as unknown as () => void)).toThrow(TypeError);
  });

  it('detach cuts the graph: the detached path gives no gradient; the data is shared', () => {
    const x = f64([1, 2]);
    const d = x.mul(3).detach();
    expect(d.requiresGrad).toBe(false);
    expect(d.isLeaf).toBe(true);
    x.mul(d).sum().backward();
    expect(x.grad!.toArray()).toEqual([3, 6]);  // d treated as a constant: not 2 · 3x
  });

  it('operations without a backward (comparisons, argmax) give tensors that need no gradient', () => {
    const x = f64([1, 2]);
    expect(x.gt(1).requiresGrad).toBe(false);
    expect(x.argmax().requiresGrad).toBe(false);
  });

  it('requiresGrad: constructor option, property, requiresGrad_(); non-leaves cannot turn it off', () => {
    const a = new Tensor([1, 2], [2], 'float64', { requiresGrad: true });
    expect(a.requiresGrad).toBe(true);
    const b = new Tensor([1, 2]);
    expect(b.requiresGrad).toBe(false);
    b.requiresGrad = true;
    expect(b.requiresGrad_(false)).toBe(b);
    expect(b.requiresGrad).toBe(false);
    const y = a.mul(2);
    expect(y.isLeaf).toBe(false);
    expect(() => { y.requiresGrad = false; }).toThrow(/only be turned off on a leaf.*computed by mul.*detach/);
    expect(() => new Tensor([1], [1], undefined, { requiresGrad: 'yes' as unknown as boolean })).toThrow(TypeError);
  });

  it('non-leaf tensors keep no .grad (PyTorch); leaves that need no gradient get none', () => {
    const x = f64([1, 2]);
    const c = f64([3, 4], false);
    const h = x.mul(c);
    h.sum().backward();
    expect(h.grad).toBeNull();
    expect(c.grad).toBeNull();
    expect(x.grad!.toArray()).toEqual([3, 4]);
  });

  it('grad(f) gives gradients without touching the arguments\' .grad; one per argument for several', () => {
    const x = f64([3, 4], false);
    const g = nn.grad((v) => v.square().sum())(x) as Tensor;
    expect(g.toArray()).toEqual([6, 8]);
    expect(x.grad).toBeNull();
    const [ga, gb] = nn.grad((a, b) => a.mul(b).sum())(f64([1, 2]), f64([5, 7])) as Tensor[];
    expect(ga.toArray()).toEqual([5, 7]);
    expect(gb.toArray()).toEqual([1, 2]);
    // inside noGrad too
    expect((nn.noGrad(() => nn.grad((v) => v.exp().sum())(f64([0]))) as Tensor).toArray()).toEqual([1]);
    expect(() => nn.grad((v) => v.square())(f64([1, 2]))).toThrow(/one element .*shape \[2\]/);
    expect(() => nn.grad(5 as unknown as () => Tensor)).toThrow(TypeError);
  });

  it('a long chain (10 000 recorded ops) backpropagates without overflowing the stack', () => {
    const x = f64([1]);
    let y = x;
    for (let i = 0; i < 10_000; i++) y = y.add(1);
    y.sum().backward();
    expect(x.grad!.toArray()).toEqual([1]);
  });
});
