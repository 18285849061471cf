// The optimizer and loss kernels' argument rules at their boundaries, on every backend (the TS kernels mirror
// native/addon.cc): each range's ends accepted or refused with the argument named, every pair of arrays that must
// not alias, and arrays longer than n left alone past n. (native-args.spec.ts: one bad call per kind of check.)
import { beforeEach, describe, expect, it } from 'vitest';
import { getBackend } from '../src/backend/index';
import type { Kernels } from '../src/backend/backend';
import { backends, useBackend } from './helpers';

const f64 = (...v: number[]) => Float64Array.from(v);
type Bad = [string, (k: Kernels) => unknown, ErrorConstructor, string];

/** The message as a pattern: native/addon.cc prints numbers with %f (0.5 as 0.500000), the TS kernels as JS does. */
function pattern(message: string): RegExp {
  const escaped = message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(escaped.replace(/(-?\d+)\\\.(\d+)|(?<![\w^])(-?\d+)(?![\d\w])/g,
    (m, int, frac, whole) => (int !== undefined ? `${int}\\.${frac}0*` : `${whole}(\\.0+)?`)));
}

const refused: Bad[] = [
  // optimizers: ranges
  ['sgdMomentum momentum -0.5', (k) => k.sgdMomentum(1, f64(1), f64(1), f64(0), 0.1, -0.5, false), RangeError, 'momentum must be in [0, 1], got -0.5'],
  ['sgdMomentum momentum 1.5', (k) => k.sgdMomentum(1, f64(1), f64(1), f64(0), 0.1, 1.5, false), RangeError, 'momentum must be in [0, 1], got 1.5'],
  ['sgdMomentum NaN lr', (k) => k.sgdMomentum(1, f64(1), f64(1), f64(0), NaN, 0.5, false), RangeError, 'lr must be a finite number, got NaN'],
  ['sgdMomentum nesterov 1', (k) => k.sgdMomentum(1, f64(1), f64(1), f64(0), 0.1, 0.5, 1 as never), TypeError, 'nesterov must be a boolean, got 1'],
  ['adagrad eps 0', (k) => k.adagrad(1, f64(1), f64(1), f64(0), 0.1, 0), RangeError, 'eps must be in (0, 1], got 0'],
  ['adagrad eps 1.5', (k) => k.adagrad(1, f64(1), f64(1), f64(0), 0.1, 1.5), RangeError, 'eps must be in (0, 1], got 1.5'],
  ['adagrad infinite lr', (k) => k.adagrad(1, f64(1), f64(1), f64(0), Infinity, 0.1), RangeError, 'lr must be a finite number, got Infinity'],
  ['rmsprop decay 1.01', (k) => k.rmsprop(1, f64(1), f64(1), f64(0), 0.1, 1.01, 1e-7), RangeError, 'decay must be in [0, 1], got 1.01'],
  ['rmsprop decay -0.01', (k) => k.rmsprop(1, f64(1), f64(1), f64(0), 0.1, -0.01, 1e-7), RangeError, 'decay must be in [0, 1], got -0.01'],
  ['rmsprop eps 0', (k) => k.rmsprop(1, f64(1), f64(1), f64(0), 0.1, 0.9, 0), RangeError, 'eps must be in (0, 1], got 0'],
  ['rmsprop NaN lr', (k) => k.rmsprop(1, f64(1), f64(1), f64(0), NaN, 0.9, 1e-7), RangeError, 'lr must be a finite number, got NaN'],
  ['adam beta1 1', (k) => k.adam(1, f64(1), f64(1), f64(0), f64(0), 0.1, 1, 0.999, 1e-8, 1, 0), RangeError, 'beta1 must be in [0, 1), got 1'],
  ['adam beta1 -0.1', (k) => k.adam(1, f64(1), f64(1), f64(0), f64(0), 0.1, -0.1, 0.999, 1e-8, 1, 0), RangeError, 'beta1 must be in [0, 1), got -0.1'],
  ['adam beta2 1.5', (k) => k.adam(1, f64(1), f64(1), f64(0), f64(0), 0.1, 0.9, 1.5, 1e-8, 1, 0), RangeError, 'beta2 must be in [0, 1), got 1.5'],
  ['adam eps 0', (k) => k.adam(1, f64(1), f64(1), f64(0), f64(0), 0.1, 0.9, 0.999, 0, 1, 0), RangeError, 'eps must be in (0, 1], got 0'],
  ['adam step 0', (k) => k.adam(1, f64(1), f64(1), f64(0), f64(0), 0.1, 0.9, 0.999, 1e-8, 0, 0), RangeError, 'step must be at least 1, got 0'],
  ['adam step 1.5', (k) => k.adam(1, f64(1), f64(1), f64(0), f64(0), 0.1, 0.9, 0.999, 1e-8, 1.5, 0), RangeError, 'step must be an integer in [0, 2^31), got 1.5'],
  ['adam weightDecay -0.5', (k) => k.adam(1, f64(1), f64(1), f64(0), f64(0), 0.1, 0.9, 0.999, 1e-8, 1, -0.5), RangeError, 'weightDecay must be non-negative, got -0.5'],
  ['adam weightDecay NaN', (k) => k.adam(1, f64(1), f64(1), f64(0), f64(0), 0.1, 0.9, 0.999, 1e-8, 1, NaN), RangeError, 'weightDecay must be a finite number, got NaN'],
  ['adam lr Infinity', (k) => k.adam(1, f64(1), f64(1), f64(0), f64(0), Infinity, 0.9, 0.999, 1e-8, 1, 0), RangeError, 'lr must be a finite number, got Infinity'],
  ['adam n -1', (k) => k.adam(-1, f64(1), f64(1), f64(0), f64(0), 0.1, 0.9, 0.999, 1e-8, 1, 0), RangeError, 'n must be an integer in [0, 2^31), got -1'],
  // losses: ranges and sizes
  ['bceProbs eps 0.6', (k) => k.bceProbs(1, f64(0.5), f64(1), 0.6, null), RangeError, 'eps must be in (0, 0.5], got 0.6'],
  ['bceProbs NaN eps', (k) => k.bceProbs(1, f64(0.5), f64(1), NaN, null), RangeError, 'eps must be a finite number, got NaN'],
  ['crossEntropyProbs eps 1', (k) => k.crossEntropyProbs(1, 2, f64(0.5, 0.5), f64(1, 0), 1, null), RangeError, 'eps must be in [0, 1), got 1'],
  ['crossEntropyProbs eps -0.1', (k) => k.crossEntropyProbs(1, 2, f64(0.5, 0.5), f64(1, 0), -0.1, null), RangeError, 'eps must be in [0, 1), got -0.1'],
  ['crossEntropyProbs zero cols', (k) => k.crossEntropyProbs(1, 0, f64(), f64(), 0, null), RangeError, 'cols must be at least 1, got 0'],
  ['crossEntropyProbs zero rows', (k) => k.crossEntropyProbs(0, 2, f64(), f64(), 0, null), RangeError, 'rows must be at least 1, got 0'],
  ['crossEntropyProbs p above 1', (k) => k.crossEntropyProbs(1, 2, f64(0.5, 1.01), f64(1, 0), 0, null), RangeError, 'probs[1] = 1.01 is outside [0, 1]'],
  ['crossEntropyProbs p below 0', (k) => k.crossEntropyProbs(1, 2, f64(-0.01, 1), f64(1, 0), 0, null), RangeError, 'probs[0] = -0.01 is outside [0, 1]'],
  ['crossEntropyProbs short targets', (k) => k.crossEntropyProbs(1, 2, f64(0.5, 0.5), f64(1), 0, null), RangeError, 'targets has 1 elements, expected at least 2'],
  ['mse zero rows', (k) => k.mse(0, 1, f64(), f64(), false, null), RangeError, 'rows must be at least 1, got 0'],
  ['mse zero cols', (k) => k.mse(2, 0, f64(), f64(), false, null), RangeError, 'cols must be at least 1, got 0'],
  ['mse short target', (k) => k.mse(2, 1, f64(1, 2), f64(1), false, null), RangeError, 'target has 1 elements, expected at least 2'],
  ['bceLogits short grad', (k) => k.bceLogits(2, f64(1, 2), f64(1, 0), f64(0)), RangeError, 'grad has 1 elements, expected at least 2'],
  ['bceLogits n 0', (k) => k.bceLogits(0, f64(), f64(), null), RangeError, 'n must be at least 1'],
  ['bceProbs short probs', (k) => k.bceProbs(2, f64(0.5), f64(1, 0), 0.1, null), RangeError, 'probs has 1 elements, expected at least 2'],
  ['bceLogits short logits', (k) => k.bceLogits(2, f64(1), f64(1, 0), null), RangeError, 'logits has 1 elements, expected at least 2'],
  ['bceLogits short targets', (k) => k.bceLogits(2, f64(1, 0), f64(1), null), RangeError, 'targets has 1 elements, expected at least 2'],
  ['bceLogits n -1', (k) => k.bceLogits(-1, f64(1), f64(1), null), RangeError, 'n must be an integer in [0, 2^31), got -1'],
  ['mse short pred', (k) => k.mse(2, 1, f64(1), f64(1, 0), false, null), RangeError, 'pred has 1 elements, expected at least 2'],
  ['mse rows -1', (k) => k.mse(-1, 1, f64(1), f64(1), false, null), RangeError, 'rows must be an integer in [0, 2^31), got -1'],
  ['mse cols -1', (k) => k.mse(1, -1, f64(1), f64(1), false, null), RangeError, 'cols must be an integer in [0, 2^31), got -1'],
  ['mse rows * cols past 2^53', (k) => k.mse(2 ** 30, 2 ** 30, f64(1), f64(1), false, null), RangeError, 'rows * cols is too large'],
  ['crossEntropyProbs rows -1', (k) => k.crossEntropyProbs(-1, 1, f64(1), f64(1), 0, null), RangeError, 'rows must be an integer in [0, 2^31), got -1'],
  ['crossEntropyProbs cols NaN', (k) => k.crossEntropyProbs(1, NaN, f64(1), f64(1), 0, null), RangeError, 'cols must be an integer in [0, 2^31), got NaN'],
  ['crossEntropyProbs rows * cols past 2^53', (k) => k.crossEntropyProbs(2 ** 30, 2 ** 30, f64(1), f64(1), 0, null), RangeError, 'rows * cols is too large'],
  ['crossEntropyProbs short grad', (k) => k.crossEntropyProbs(1, 2, f64(0.5, 0.5), f64(1, 0), 0, f64(0)), RangeError, 'grad has 1 elements, expected at least 2'],
  ['crossEntropyProbs p past the rounding slack', (k) => k.crossEntropyProbs(1, 2, f64(0, 1 + 2e-6), f64(0, 1), 0, null), RangeError, 'probs[1] = 1.000002 is outside [0, 1]'],
];

/** Each pair of a kernel's arrays that must not overlap (an array shared by two arguments). */
const aliasing: [string, (k: Kernels, shared: Float64Array) => unknown, string][] = [
  ['sgdMomentum p = g', (k, a) => k.sgdMomentum(2, a, a, f64(0, 0), 0.1, 0.5, false), 'p must not share memory with g'],
  ['sgdMomentum g = v', (k, a) => k.sgdMomentum(2, f64(1, 1), a, a, 0.1, 0.5, false), 'v must not share memory with g'],
  ['adagrad p = h', (k, a) => k.adagrad(2, a, f64(1, 1), a, 0.1, 0.1), 'h must not share memory with p'],
  ['rmsprop g = h', (k, a) => k.rmsprop(2, f64(1, 1), a, a, 0.1, 0.9, 0.1), 'h must not share memory with g'],
  ['adam p = m', (k, a) => k.adam(2, a, f64(1, 1), a, f64(0, 0), 0.1, 0.9, 0.999, 1e-8, 1, 0), 'm must not share memory with p'],
  ['adam m = v', (k, a) => k.adam(2, f64(1, 1), f64(1, 1), a, a, 0.1, 0.9, 0.999, 1e-8, 1, 0), 'v must not share memory with m'],
  ['adam g = v', (k, a) => k.adam(2, f64(1, 1), a, f64(0, 0), a, 0.1, 0.9, 0.999, 1e-8, 1, 0), 'v must not share memory with g'],
  ['crossEntropyProbs grad = probs', (k, a) => k.crossEntropyProbs(1, 2, a.fill(0.5), f64(1, 0), 0, a), 'grad must not share memory with probs'],
  ['bceLogits grad over part of targets', (k) => {
    const b = f64(1, 2, 3);
    return k.bceLogits(2, f64(0, 0), b.subarray(0, 2), b.subarray(1, 3));
  }, 'grad must not share memory with targets'],
  ['crossEntropyProbs grad over part of targets', (k) => {
    const b = f64(1, 0, 0);
    return k.crossEntropyProbs(1, 2, f64(0.5, 0.5), b.subarray(0, 2), 0, b.subarray(1, 3));
  }, 'grad must not share memory with targets'],
  ['mse grad over part of target', (k) => {
    const b = f64(1, 2, 3);
    return k.mse(1, 2, f64(0, 0), b.subarray(0, 2), false, b.subarray(1, 3));
  }, 'grad must not share memory with target'],
];

describe.each(backends)('kernel argument rules on $label', (bc) => {
  beforeEach(() => useBackend(bc));

  it.each(refused)('%s is refused', (_name, call, type, message) => {
    let thrown: unknown;
    try { call(getBackend()); } catch (e) { thrown = e; }
    expect(thrown).toBeInstanceOf(type);
    expect((thrown as Error).message).toMatch(pattern(message));
  });

  it.each(aliasing)('%s is refused', (_name, call, message) => {
    expect(() => call(getBackend(), f64(0.5, 0.5))).toThrow(message);
  });

  it('the ends of the ranges that are allowed: momentum 0 and 1, eps 1, decay 0 and 1, betas 0, weight decay 0', () => {
    const k = getBackend();
    const p = f64(1), v = f64(0);
    k.sgdMomentum(1, p, f64(1), v, 0.5, 1, true);   // v = 1; p -= 0.5 (1 + 1)
    expect([p[0], v[0]]).toEqual([0, 1]);
    k.sgdMomentum(1, p, f64(1), v, 0.5, 0, false);  // v = 1; p -= 0.5
    expect([p[0], v[0]]).toEqual([-0.5, 1]);
    const q = f64(1), h = f64(0);
    k.adagrad(1, q, f64(2), h, 1, 1);               // h = 4; q -= 2 / (2 + 1)
    expect([q[0], h[0]]).toEqual([1 - 2 / 3, 4]);
    const r = f64(1), s = f64(3);
    k.rmsprop(1, r, f64(2), s, 1, 1, 1);            // decay 1 keeps h: s = 3; r -= 2 / (√3 + 1)
    expect([r[0], s[0]]).toEqual([1 - 2 / (Math.sqrt(3) + 1), 3]);
    k.rmsprop(1, r, f64(2), s, 1, 0, 1);            // decay 0: s = g² = 4
    expect(s[0]).toBe(4);
    const a = f64(2), m = f64(0), w = f64(0);
    k.adam(1, a, f64(1), m, w, 0.5, 0, 0, 1, 1, 0); // betas 0: m = g, v = g²; a -= 0.5 · 1 / (1 + 1)
    expect([a[0], m[0], w[0]]).toEqual([1.75, 1, 1]);
    // a weight decay of 0 leaves even an infinite parameter as the plain update does
    const inf = f64(Infinity);
    k.adam(1, inf, f64(0), f64(0), f64(0), 0.5, 0.9, 0.999, 1e-8, 1, 0);
    expect(inf[0]).toBe(Infinity);
  });

  it('loss kernels: eps 0.5 for BCE from probabilities, probabilities up to 1 + 1e-6, the gradient in place or null', () => {
    const k = getBackend();
    expect(k.bceProbs(1, f64(0.5), f64(1), 0.5, null)).toBeCloseTo(Math.log(2), 14);
    // a softmax output may round to 1 + a few ulps: accepted up to 1 + PROB_SLACK
    expect(k.crossEntropyProbs(1, 2, f64(0, 1 + 1e-6), f64(0, 1), 0, null)).toBeCloseTo(-Math.log(1 + 1e-6), 15);
    // past rows * cols nothing is read: a bad value there is not looked at
    expect(k.crossEntropyProbs(1, 2, f64(0.5, 0.5, 7), f64(1, 0, 0), 0, null)).toBeCloseTo(Math.log(2), 15);
    // the gradient may overwrite the inputs it is computed from (the very same array), except probabilities
    const x = f64(0, 2), withGrad = f64(0, 0);
    const loss = k.bceLogits(2, f64(0, 2), f64(1, 0), withGrad);
    expect(k.bceLogits(2, x, f64(1, 0), x)).toBe(loss);
    expect(Array.from(x)).toEqual(Array.from(withGrad));
    expect(k.bceLogits(2, f64(0, 2), f64(1, 0), null)).toBe(loss);
    const t = f64(1, 0);
    expect(k.crossEntropyProbs(1, 2, f64(0.5, 0.5), t, 0, t)).toBeCloseTo(Math.log(2), 15);
    expect(Array.from(t)).toEqual([-2, 0]);
    expect(k.crossEntropyProbs(1, 2, f64(0.25, 0.75), f64(0, 1), 0, null)).toBeCloseTo(-Math.log(0.75), 15);
    const pred = f64(1, 3), g = f64(0, 0);
    expect(k.mse(1, 2, pred, f64(0, 1), false, null)).toBe(5);
    expect(k.mse(1, 2, pred, f64(0, 1), true, pred)).toBe(2.5);
    expect(Array.from(pred)).toEqual([1, 2]);
    expect(k.mse(1, 2, f64(1, 3), f64(0, 1), false, g)).toBe(5);
    expect(Array.from(g)).toEqual([2, 4]);
  });

  it('arrays longer than n: only the first n elements are read and written', () => {
    const k = getBackend();
    const n = 3, tail = 7;
    const fresh = () => f64(1, 2, 3, tail);
    const p1 = fresh(), v1 = fresh();
    k.sgdMomentum(n, p1, fresh(), v1, 0.1, 0.9, true);
    const p2 = fresh(), h2 = fresh();
    k.adagrad(n, p2, fresh(), h2, 0.1, 0.1);
    const p3 = fresh(), h3 = fresh();
    k.rmsprop(n, p3, fresh(), h3, 0.1, 0.9, 0.1);
    const p4 = fresh(), m4 = fresh(), v4 = fresh();
    k.adam(n, p4, fresh(), m4, v4, 0.1, 0.9, 0.999, 1e-8, 1, 0.01);
    for (const a of [p1, v1, p2, h2, p3, h3, p4, m4, v4]) expect(a[n]).toBe(tail);
    for (const a of [p1, p2, p3, p4]) expect(a[0]).not.toBe(1);
    const grad = fresh();
    expect(k.mse(1, n, f64(0, 0, 0, 100), f64(1, 1, 1, 0), false, grad)).toBe(3);
    expect(Array.from(grad)).toEqual([-2, -2, -2, tail]);
    const g2 = fresh();
    k.bceLogits(n, f64(0, 0, 0, 50), f64(1, 1, 1, 0), g2);
    expect(g2[n]).toBe(tail);
  });
});
