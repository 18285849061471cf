// Losses on every backend: golden values, float64 gradient checks (both label forms), stability at extreme
// inputs, and the L2 term.
import { beforeEach, describe, expect, it } from 'vitest';
import { numericalGradient, relativeError } from '../src/gradcheck';
import {
  binaryCrossEntropy, crossEntropy, l2Penalty, lossFunction, mse, softmaxCrossEntropy, targetTensor, type LossResult,
} from '../src/losses';
import { Dataset } from '../src/data/dataset';
import { Dense, Sigmoid, Softmax } from '../src/layers/index';
import { Sequential } from '../src/network';
import { checkNetwork } from '../src/gradcheck';
import { SGD } from '../src/optimizers';
import { Tensor } from '../src/tensor';
import { backends, randn, uniform, useBackend } from './helpers';

/** The loss gradient against central differences of the loss value. */
function lossGradError(f: (x: Tensor) => LossResult, x: Tensor): number {
  const analytic = f(x).grad;
  return relativeError(analytic, numericalGradient((t) => f(t).loss, x));
}

const labels = new Int32Array([2, 0, 1, 2, 1]);
// The course's example output of a 10-class network (a softmax output), and one-hot targets.
const courseY = [0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0];
const f64 = (data: number[], shape = [data.length]) => new Tensor(Float64Array.from(data), shape);
const oneHotOf = (k: number) => f64(Array.from({ length: 10 }, (_, i) => (i === k ? 1 : 0)));
const oneHot = targetTensor(Tensor.zeros([5, 3], 'float64'), labels);

/**
 * The notebooks' numbers to within 2 ulps: NumPy sums in its own order, the kernels (SIMD, and the compiler's
 * choices at each optimization level) in theirs, so the last bit may differ.
 */
function expectUlps(got: number, want: number): void {
  expect(Math.abs(got - want)).toBeLessThanOrEqual(2 * Number.EPSILON * Math.abs(want));
}

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
    ['MSE, reduction mean', (x: Tensor) => mse(x, uniform([5, 3], 6, -1, 1), { reduction: 'mean' })],
    ['MSE, reduction sum, halved', (x: Tensor) => mse(x, uniform([5, 3], 6, -1, 1), { reduction: 'sum', half: true })],
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

  it('MSE reductions: batchMean (the default) sums features and averages samples; mean averages all; sum sums all', () => {
    const pred = f64([1, 2, 3, 4, 5, 6], [2, 3]), target = f64([0, 0, 0, 1, 1, 1], [2, 3]);
    const sq = 1 + 4 + 9 + 9 + 16 + 25;  // 64
    expect(mse(pred, target).loss).toBe(sq / 2);
    expect(mse(pred, target, { reduction: 'batchMean' }).loss).toBe(sq / 2);
    expect(mse(pred, target, { reduction: 'mean' }).loss).toBeCloseTo(sq / 6, 14);
    expect(mse(pred, target, { reduction: 'sum' }).loss).toBe(sq);
    expect(mse(pred, target, { reduction: 'sum', half: true }).loss).toBe(sq / 2);
    // the gradient of each reduced loss: 2 (p − t) / (2 | 6 | 1)
    expect(Array.from(mse(pred, target).grad.data)).toEqual([1, 2, 3, 3, 4, 5]);
    expect(Array.from(mse(pred, target, { reduction: 'mean' }).grad.data).map((v) => v * 3)).toEqual([1, 2, 3, 3, 4, 5].map((v) => expect.closeTo(v, 14)));
    expect(Array.from(mse(pred, target, { reduction: 'sum' }).grad.data)).toEqual([2, 4, 6, 6, 8, 10]);
  });

  it('MSE gives the course\'s numbers: mean_squared_error 0.0975 and 0.5975, np.mean((Y-T)**2) 0.0195', () => {
    const y = f64(courseY);
    // mean_squared_error(y, t) = 0.5 * np.sum((y - t)**2)
    expectUlps(mse(y, oneHotOf(2), { reduction: 'sum', half: true }).loss, 0.09750000000000003);
    expectUlps(mse(y, oneHotOf(7), { reduction: 'sum', half: true }).loss, 0.5975);
    // as one sample of a batch, the default reduction is the same number
    expectUlps(mse(y.reshape([1, 10]), oneHotOf(2).reshape([1, 10]), { half: true }).loss, 0.09750000000000003);
    expect(mse(y, oneHotOf(2), { reduction: 'mean' }).loss).toBeCloseTo(0.019500000000000007, 16);
    expect(mse(y, oneHotOf(7), { reduction: 'mean' }).loss).toBeCloseTo(0.11950000000000001, 16);
  });

  it('MSE options are checked', () => {
    const x = Tensor.zeros([2, 3], 'float64');
    expect(() => mse(x, x, { reduction: 'avg' as never })).toThrow(new RangeError("mse reduction must be 'batchMean', 'mean' or 'sum', got the string 'avg'"));
    expect(() => mse(x, x, { half: 1 as never })).toThrow(new TypeError('mse half must be true or false, got 1'));
    expect(() => mse(x, x, null as never)).toThrow(TypeError);
  });

  it('cross-entropy of probabilities gives the course\'s numbers: 0.510825457099338 and 2.302584092994546', () => {
    const y = f64(courseY);
    // cross_entropy_error(y, t) = -np.sum(t * np.log(y + 1e-7)), one-hot or index labels, 1-D as one sample
    expectUlps(crossEntropy(y, oneHotOf(2), { eps: 1e-7 }).loss, 0.510825457099338);
    expectUlps(crossEntropy(y, oneHotOf(7), { eps: 1e-7 }).loss, 2.302584092994546);
    expectUlps(crossEntropy(y, new Int32Array([2])).loss, 0.510825457099338);
    expectUlps(crossEntropy(y.reshape([1, 10]), new Int32Array([7])).loss, 2.302584092994546);
    // a batch averages over its rows
    const batch = f64([...courseY, ...courseY], [2, 10]);
    expect(crossEntropy(batch, new Int32Array([2, 7])).loss).toBeCloseTo((0.510825457099338 + 2.302584092994546) / 2, 15);
    const r = crossEntropy(y, new Int32Array([2]));
    expect(r.grad.shape).toEqual([10]);
    expect(r.grad.data[2]).toBeCloseTo(-1 / (0.6 + 1e-7), 14);
    expect(r.grad.data.filter((v) => v !== 0).length).toBe(1);
    // float32 agrees to float32 rounding
    expect(crossEntropy(y.astype('float32'), new Int32Array([2])).loss).toBeCloseTo(0.510825457099338, 6);
    // eps 0 is the plain −log p; the zero probabilities of other classes add nothing (0 · log 0 = 0)
    const plain = crossEntropy(y, new Int32Array([2]), { eps: 0 });
    expect(plain.loss).toBeCloseTo(-Math.log(0.6), 15);
    expect(Array.from(plain.grad.data)).toEqual(courseY.map((_, i) => (i === 2 ? -1 / 0.6 : 0)));
    expect(crossEntropy(y, new Int32Array([3]), { eps: 0 }).loss).toBe(Infinity);
  });

  it.each([
    ['index labels', (x: Tensor) => crossEntropy(x, labels)],
    ['one-hot targets', (x: Tensor) => crossEntropy(x, oneHot)],
    ['soft targets', (x: Tensor) => crossEntropy(x, uniform([5, 3], 4, 0, 1), { eps: 1e-3 })],
  ] as [string, (x: Tensor) => LossResult][])('cross-entropy of probabilities, %s, passes the float64 gradient check', (_name, f) => {
    expect(lossGradError(f, uniform([5, 3], 7, 0.05, 0.95))).toBeLessThanOrEqual(1e-6);
  });

  it('cross-entropy of probabilities refuses logits, bad labels and a bad eps', () => {
    const logits = f64([2.5, -1, 0.3, 0.1, 0.2, 0.7], [2, 3]);
    expect(() => crossEntropy(logits, new Int32Array([0, 1]))).toThrow(
      /probs\[0\] = 2.5 is outside \[0, 1\]: cross-entropy takes probabilities \(e.g. a Softmax output\); for logits use softmaxCrossEntropy/);
    expect(() => crossEntropy(f64([0.5, -0.25], [1, 2]), new Int32Array([0]))).toThrow(/probs\[1\] = -0.25 is outside \[0, 1\]/);
    const p = f64([0.2, 0.3, 0.5, 1, 0, 0], [2, 3]);
    expect(() => crossEntropy(p, new Int32Array([0, 3]))).toThrow(/labels\[1\] = 3 is outside \[0, 3\)/);
    expect(() => crossEntropy(p, new Int32Array([0]))).toThrow(/labels has 1 entries but probs has 2 rows/);
    expect(() => crossEntropy(p, Tensor.zeros([5], 'float64'))).toThrow(/labels has shape \[5\] but the input has shape \[2, 3\]/);
    expect(() => crossEntropy(p, new Int32Array([0, 1]), { eps: -1 })).toThrow('crossEntropy eps must be in [0, 1), got -1');
    expect(() => crossEntropy(p, new Int32Array([0, 1]), { eps: NaN })).toThrow(RangeError);
    // a NaN is no verdict on the input: it reaches the loss
    expect(crossEntropy(f64([NaN, 0.5], [1, 2]), new Int32Array([0])).loss).toBeNaN();
    // a softmax output a rounding above 1 is a probability
    expect(crossEntropy(f64([1 + 1e-7, 0], [1, 2]), new Int32Array([0])).loss).toBeCloseTo(0, 6);
  });

  it('cross-entropy trains a network ending in Softmax (loss \'crossEntropy\'), gradient-checked end to end', async () => {
    const make = () => new Sequential([new Dense(4, 6, { init: 'xavier' }), new Sigmoid(), new Dense(6, 3), new Softmax()],
      { dtype: 'float64', seed: 5 });
    const x = randn([5, 4], 1);
    const check = checkNetwork(make(), x, labels, { loss: 'crossEntropy' });
    expect(check.maxRelError).toBeLessThanOrEqual(1e-6);
    // lossFunction knows it by name
    expect(lossFunction('crossEntropy')(f64([0.2, 0.8], [1, 2]), new Int32Array([1])).loss).toBeCloseTo(-Math.log(0.8 + 1e-7), 15);
    const net = make(), before = net.evaluate(x, labels, { loss: 'crossEntropy' }).loss;
    const history = await net.fit(x, labels, { loss: 'crossEntropy', optimizer: new SGD({ lr: 1 }), epochs: 60, batchSize: 5 });
    expect(history.loss[0]).toBeCloseTo(before, 10);
    expect(history.loss[59]).toBeLessThan(before / 4);
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

  it('label smoothing: the cross-entropy against (1 − ε)·t + ε/C, its gradient (softmax − t)/N', () => {
    const logits = f64([1, 2, 3, 0.5, -1, 2], [2, 3]), eps = 0.3;
    // by hand, in double: loss_r = lse_r − Σ_j t_j z_j, grad = (softmax − t) / N
    const z = [[1, 2, 3], [0.5, -1, 2]], label = [2, 0];
    const rowLoss: number[] = [], grad: number[] = [];
    z.forEach((row, r) => {
      const lse = Math.log(row.reduce((a, v) => a + Math.exp(v), 0));
      const t = row.map((_, j) => (j === label[r] ? 1 - eps : 0) + eps / 3);
      rowLoss.push(lse - row.reduce((a, v, j) => a + t[j] * v, 0));
      row.forEach((v, j) => grad.push((Math.exp(v - lse) - t[j]) / 2));
    });
    const a = softmaxCrossEntropy(logits, new Int32Array(label), { labelSmoothing: eps });
    expect(a.loss).toBeCloseTo((rowLoss[0] + rowLoss[1]) / 2, 14);
    expect(a.loss).toBeGreaterThan(softmaxCrossEntropy(logits, new Int32Array(label)).loss + 0.1);
    expect(relativeError(a.grad, f64(grad, [2, 3]))).toBeLessThan(1e-13);
    // one-hot targets smooth alike; soft targets mix with the uniform distribution, the caller's tensor untouched
    const soft = f64([0.2, 0.3, 0.5, 1, 0, 0], [2, 3]);
    const b = softmaxCrossEntropy(logits, soft, { labelSmoothing: eps });
    expect(Array.from(soft.data)).toEqual([0.2, 0.3, 0.5, 1, 0, 0]);
    const mixed = softmaxCrossEntropy(logits, f64(Array.from(soft.data, (t) => (1 - eps) * t + eps / 3), [2, 3]));
    expect(b.loss).toBeCloseTo(mixed.loss, 14);
    expect(relativeError(b.grad, mixed.grad)).toBeLessThan(1e-14);
    expect(softmaxCrossEntropy(logits, new Int32Array(label), { labelSmoothing: 0 }).loss)
      .toBe(softmaxCrossEntropy(logits, new Int32Array(label)).loss);
    // 1-D logits (one sample), and lossFunction's form (fit()'s)
    expect(softmaxCrossEntropy(f64([1, 2, 3]), 2, { labelSmoothing: eps }).loss).toBeCloseTo(rowLoss[0], 14);
    expect(lossFunction('softmaxCrossEntropy', null, eps)(logits, new Int32Array(label)).loss).toBe(a.loss);
    expect(lossGradError((x) => softmaxCrossEntropy(x, labels, { labelSmoothing: 0.1 }), randn([5, 3], 3, 2))).toBeLessThanOrEqual(1e-6);
  });

  it('label smoothing: a bad value or another loss is refused by name', () => {
    const x = f64([1, 2, 3, 4, 5, 6], [2, 3]), y = new Int32Array([0, 1]);
    expect(() => softmaxCrossEntropy(x, y, { labelSmoothing: 1.5 })).toThrow('softmaxCrossEntropy labelSmoothing must be in [0, 1], got 1.5');
    expect(() => softmaxCrossEntropy(x, y, { labelSmoothing: -0.1 })).toThrow(RangeError);
    expect(() => softmaxCrossEntropy(x, y, { smoothing: 0.1 } as never)).toThrow(/smoothing/);
    expect(() => softmaxCrossEntropy(x, new Int32Array([0, 3]), { labelSmoothing: 0.1 })).toThrow(/labels\[1\] = 3 is outside \[0, 3\)/);
    expect(() => softmaxCrossEntropy(x, new Int32Array([0]), { labelSmoothing: 0.1 })).toThrow(/labels has 1 entries but logits has 2 rows/);
    expect(() => lossFunction('mse', null, 0.1)).toThrow("labelSmoothing is an option of the 'softmaxCrossEntropy' loss, not of 'mse'");
    expect(() => lossFunction((o) => ({ loss: 0, grad: o }), null, 0.1)).toThrow(/not of a loss function/);
    expect(() => lossFunction(5 as never, null, 0.1))
      .toThrow(new TypeError("labelSmoothing is an option of the 'softmaxCrossEntropy' loss, not of 5"));
    expect(() => softmaxCrossEntropy(x, y, 5 as never))
      .toThrow(/^softmaxCrossEntropy options must be an options object/);
    // without smoothing or a reused gradient, lossFunction's softmaxCrossEntropy takes 1-D logits and a number
    // label too
    const one = lossFunction('softmaxCrossEntropy')(f64([1, 2, 3]), 2 as never);
    const direct = softmaxCrossEntropy(f64([1, 2, 3]), 2);
    expect([one.loss, one.grad.shape, Array.from(one.grad.data)])
      .toEqual([direct.loss, [3], Array.from(direct.grad.data)]);
  });

  it('fit() and lossAndGradients() with labelSmoothing train on the smoothed loss', async () => {
    const make = () => new Sequential([new Dense(4, 6), new Sigmoid(), new Dense(6, 3)], { dtype: 'float64', seed: 5 });
    const x = randn([5, 4], 1);
    const net = make();
    const smoothed = softmaxCrossEntropy(net.forward(x), labels, { labelSmoothing: 0.2 }).loss;
    expect(Math.abs(smoothed - softmaxCrossEntropy(net.forward(x), labels).loss)).toBeGreaterThan(1e-3);
    expect(net.lossAndGradients(x, labels, { labelSmoothing: 0.2 })).toBeCloseTo(smoothed, 14);
    // the first epoch's loss (one batch, before its step) is the smoothed one; validation stays plain cross-entropy
    const history = await make().fit(x, labels, { labelSmoothing: 0.2, optimizer: new SGD({ lr: 0.1 }), epochs: 1, batchSize: 5,
      validationData: [x, labels] });
    expect(history.loss[0]).toBeCloseTo(smoothed, 14);
    const trained = make();
    await trained.fit(x, labels, { labelSmoothing: 0.2, optimizer: new SGD({ lr: 0.1 }), epochs: 1, batchSize: 5 });
    expect(history.valLoss[0]).toBeCloseTo(trained.evaluate(x, labels).loss, 14);
    await expect(make().fit(x, labels, { labelSmoothing: 2 })).rejects.toThrow('fit() labelSmoothing must be in [0, 1], got 2');
    // fit() over a Dataset of batches alike
    const batches = Dataset.fromTensors(x, labels).batch(5);
    expect((await make().fit(batches, { labelSmoothing: 0.2, optimizer: new SGD({ lr: 0.1 }), epochs: 1 })).loss[0])
      .toBeCloseTo(smoothed, 14);
    await expect(make().fit(batches, { labelSmoothing: 2 }))
      .rejects.toThrow('fit() labelSmoothing must be in [0, 1], got 2');
    await expect(make().fit(x, labels, { loss: 'mse', labelSmoothing: 0.1 })).rejects.toThrow(/labelSmoothing is an option of the 'softmaxCrossEntropy' loss/);
    expect(() => make().lossAndGradients(x, labels, { labelSmoothing: NaN })).toThrow(/lossAndGradients\(\) labelSmoothing must be in \[0, 1\]/);
  });

  it('bad targets are named errors', () => {
    const x = Tensor.zeros([2, 3], 'float64');
    expect(() => softmaxCrossEntropy(x, new Int32Array([0, 3]))).toThrow(/labels\[1\] = 3 is outside \[0, 3\)/);
    expect(() => softmaxCrossEntropy(x, new Int32Array([0]))).toThrow(/labels has 1 entries but logits has 2 rows/);
    // a target of the same size in another shape is read in the input's shape (row-major)
    const pred = f64([1, 2, 3, 4, 5, 6], [2, 3]), flat = f64([0.5, -1, 2, 0, 3, 1], [6]);
    const asFlat = mse(pred, flat), asShaped = mse(pred, flat.reshape([2, 3]));
    expect(asFlat.loss).toBeCloseTo(((0.25 + 9 + 1) + (16 + 4 + 25)) / 2, 12);
    expect(asFlat.loss).toBe(asShaped.loss);
    expect(asFlat.grad.shape).toEqual([2, 3]);
    expect(Array.from(asFlat.grad.data)).toEqual(Array.from(asShaped.grad.data));
    expect(() => mse(x, Tensor.zeros([5]))).toThrow(/target has shape \[5\] but the input has shape \[2, 3\]/);
    expect(() => lossFunction('hinge' as never)).toThrow(/loss must be one of/);
    expect(() => binaryCrossEntropy(x, Tensor.zeros([2, 3], 'float64'), { fromLogits: false, eps: 0.7 })).toThrow(/eps must be in/);
  });
});
