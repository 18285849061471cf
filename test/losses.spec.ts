// Losses on every backend: golden values, float64 gradient checks (both label forms), stability at extreme
// inputs, and the L2 term.
import { beforeEach, describe, expect, it } from 'vitest';
import { numericalGradient, relativeError } from '../src/gradcheck';
import { binaryCrossEntropy, l2Penalty, lossFunction, mse, softmaxCrossEntropy, targetTensor, type LossResult } from '../src/losses';
import { Tensor } from '../src/tensor';
import { backends, useBackend } from './helpers';
import { randn, uniform } from './net-helpers';

/** The loss gradient against central differences of the loss value. */
function lossGradError(f: (x: Tensor) => LossResult, x: Tensor): number {
  const analytic = f(x).grad;
  return relativeError(analytic, numericalGradient((t) => f(t).loss, x));
}

const labels = new Int32Array([2, 0, 1, 2, 1]);
const oneHot = targetTensor(Tensor.zeros([5, 3], 'float64'), labels);

describe.each(backends)('losses on $label', (bc) => {
  beforeEach(() => useBackend(bc));

  it('softmax cross-entropy: golden value, index and one-hot forms agree', () => {
    const logits = new Tensor(new Float64Array([1, 2, 3, 1, 1, 1]), [2, 3]);
    const lse = Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3));
    const want = ((lse - 3) + Math.log(3)) / 2;
    const a = softmaxCrossEntropy(logits, new Int32Array([2, 0]));
    const b = softmaxCrossEntropy(logits, new Tensor(new Float64Array([0, 0, 1, 1, 0, 0]), [2, 3]));
    expect(a.loss).toBeCloseTo(want, 14);
    expect(b.loss).toBeCloseTo(want, 14);
    expect(relativeError(a.grad, b.grad)).toBeLessThan(1e-14);
    expect(a.grad.data[2]).toBeCloseTo((Math.exp(3 - lse) - 1) / 2, 14);
  });

  it.each([
    ['softmax CE, index labels', (x: Tensor) => softmaxCrossEntropy(x, labels)],
    ['softmax CE, one-hot targets', (x: Tensor) => softmaxCrossEntropy(x, oneHot)],
    ['softmax CE, soft targets', (x: Tensor) => softmaxCrossEntropy(x, uniform([5, 3], 4, 0, 1))],
    ['BCE from logits, tensor targets', (x: Tensor) => binaryCrossEntropy(x, uniform([5, 3], 5, 0, 1))],
    ['BCE from logits, 0/1 labels', (x: Tensor) => {
      const r = binaryCrossEntropy(x.reshape([15, 1]), new Int32Array(15).map((_, i) => (i * 7) % 3 === 0 ? 1 : 0));
      return { loss: r.loss, grad: r.grad.reshape([5, 3]) };
    }],
    ['MSE', (x: Tensor) => mse(x, uniform([5, 3], 6, -1, 1))],
    ['MSE halved', (x: Tensor) => mse(x, uniform([5, 3], 6, -1, 1), { half: true })],
    ['MSE against index labels (one-hot)', (x: Tensor) => mse(x, labels)],
  ] as [string, (x: Tensor) => LossResult][])('%s passes the float64 gradient check', (_name, f) => {
    expect(lossGradError(f, randn([5, 3], 3, 2))).toBeLessThanOrEqual(1e-6);
  });

  it('BCE from probabilities passes the gradient check inside the clip range', () => {
    const t = uniform([4, 3], 8, 0, 1);
    expect(lossGradError((x) => binaryCrossEntropy(x, t, { fromLogits: false }), uniform([4, 3], 9, 0.05, 0.95))).toBeLessThanOrEqual(1e-6);
  });

  it('BCE from logits is stable at huge logits; from probabilities clips at eps', () => {
    const x = new Tensor(new Float64Array([1000, -1000, 1000, -1000]), [4, 1]);
    const r = binaryCrossEntropy(x, new Int32Array([0, 1, 1, 0]));
    expect(r.loss).toBeCloseTo(500, 10);
    expect(Array.from(r.grad.data)).toEqual([0.25, -0.25, 0, 0]);
    const p = binaryCrossEntropy(new Tensor(new Float64Array([0, 1]), [2, 1]), new Int32Array([1, 0]), { fromLogits: false, eps: 1e-7 });
    expect(p.loss).toBeCloseTo(-Math.log(1e-7), 6);
    expect(Array.from(p.grad.data)).toEqual([0, 0]);
    const q = binaryCrossEntropy(new Tensor(new Float64Array([0.8]), [1, 1]), new Int32Array([1]), { fromLogits: false });
    expect(q.loss).toBeCloseTo(-Math.log(0.8), 14);
  });

  it('MSE sums over features and averages over the batch; half halves it', () => {
    const pred = new Tensor(new Float64Array([1, 2, 3, 4]), [2, 2]), target = new Tensor(new Float64Array([0, 0, 1, 1]), [2, 2]);
    expect(mse(pred, target).loss).toBeCloseTo((1 + 4 + 4 + 9) / 2, 14);
    expect(mse(pred, target, { half: true }).loss).toBeCloseTo((1 + 4 + 4 + 9) / 4, 14);
    expect(Array.from(mse(pred, target).grad.data)).toEqual([1, 2, 2, 3]);
  });

  it('the L2 term reg·ΣW² has the gradient 2·reg·W (checked numerically)', () => {
    const w = randn([4, 3], 12), g = Tensor.zeros([4, 3], 'float64');
    const value = l2Penalty([w], 0.3, [g]);
    let sq = 0;
    for (const v of w.data) sq += v * v;
    expect(value).toBeCloseTo(0.3 * sq, 12);
    expect(relativeError(g, numericalGradient(() => l2Penalty([w], 0.3), w))).toBeLessThanOrEqual(1e-6);
    expect(l2Penalty([w], 0)).toBe(0);
    expect(() => l2Penalty([w], -1)).toThrow(/weight decay must be a non-negative number/);
  });

  it('bad targets are named errors', () => {
    const x = Tensor.zeros([2, 3], 'float64');
    expect(() => softmaxCrossEntropy(x, new Int32Array([0, 3]))).toThrow(/labels\[1\] = 3 is outside \[0, 3\)/);
    expect(() => softmaxCrossEntropy(x, new Int32Array([0]))).toThrow(/labels has 1 entries but logits has 2 rows/);
    expect(() => mse(x, Tensor.zeros([3, 2]).reshape([6]))).not.toThrow();
    expect(() => mse(x, Tensor.zeros([5]))).toThrow(/target has shape \[5\] but the input has shape \[2, 3\]/);
    expect(() => lossFunction('hinge' as never)).toThrow(/loss must be one of/);
    expect(() => binaryCrossEntropy(x, Tensor.zeros([2, 3], 'float64'), { fromLogits: false, eps: 0.7 })).toThrow(/eps must be in/);
  });
});
