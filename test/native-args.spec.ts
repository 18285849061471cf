// Bad calls into a kernel throw a JS error that names the argument, and the process survives. The same rules
// hold on both backends (the TS kernels mirror native/addon.cc's checks).
import { beforeEach, describe, expect, it } from 'vitest';
import { getBackend } from '../src/backend/index';
import type { Kernels } from '../src/backend/backend';
import { backends, useBackend } from './helpers';

type Call = [string, (k: Kernels) => unknown, ErrorConstructor, RegExp];

const f32 = (n: number) => new Float32Array(n);
const f64 = (n: number) => new Float64Array(n);

const bad: Call[] = [
  ['wrong array kind', (k) => k.gemm(false, false, 2, 2, 2, 1, new Int32Array(4) as never, f32(4), 0, f32(4)), TypeError, /A must be a Float32Array or Float64Array/],
  ['mixed dtypes', (k) => k.gemm(false, false, 2, 2, 2, 1, f32(4), f64(4), 0, f32(4)), TypeError, /B must be a Float32Array/],
  ['short buffer', (k) => k.gemm(false, false, 2, 2, 3, 1, f32(6), f32(5), 0, f32(4)), RangeError, /B has 5 elements, expected at least 6/],
  ['short output', (k) => k.gemm(false, false, 2, 3, 1, 1, f32(2), f32(3), 0, f32(5)), RangeError, /C has 5 elements/],
  ['negative size', (k) => k.gemm(false, false, -1, 2, 2, 1, f32(4), f32(4), 0, f32(4)), RangeError, /M must be an integer/],
  ['NaN size', (k) => k.gemm(false, false, 2, NaN, 2, 1, f32(4), f32(4), 0, f32(4)), RangeError, /N must be an integer.*NaN/],
  ['fractional size', (k) => k.gemm(false, false, 2, 2, 1.5, 1, f32(4), f32(4), 0, f32(4)), RangeError, /K must be an integer/],
  ['huge size', (k) => k.gemm(false, false, 2 ** 31, 2, 2, 1, f32(4), f32(4), 0, f32(4)), RangeError, /M must be an integer in \[0, 2\^31\)/],
  ['overflowing product', (k) => k.gemm(false, false, 2 ** 30, 2 ** 30, 2 ** 30, 1, f32(4), f32(4), 0, f32(4)), RangeError, /too large|expected at least/],
  ['NaN alpha', (k) => k.gemm(false, false, 1, 1, 1, NaN, f32(1), f32(1), 0, f32(1)), RangeError, /alpha must be a finite number/],
  ['string size', (k) => k.gemm(false, false, '2' as never, 2, 2, 1, f32(4), f32(4), 0, f32(4)), TypeError, /M must be a number/],
  ['missing args', (k) => (k.gemm as (...a: unknown[]) => void)(false, false, 2), TypeError, /./],
  ['non-boolean trans', (k) => k.gemm(1 as never, false, 1, 1, 1, 1, f32(1), f32(1), 0, f32(1)), TypeError, /transA must be a boolean/],
  ['output aliasing input', (k) => { const a = f32(4); k.gemm(false, false, 2, 2, 2, 1, a, f32(4), 0, a); }, RangeError, /C must not share memory with A/],
  ['unknown activation', (k) => k.activationForward('gelu' as never, 1, f32(1), f32(1), 0), RangeError, /activation must be/],
  ['activation short y', (k) => k.activationForward('relu', 4, f32(4), f32(3), 0), RangeError, /y has 3 elements/],
  ['partial overlap', (k) => { const a = f32(8); k.activationForward('relu', 4, a.subarray(0, 4), a.subarray(2, 6), 0); }, RangeError, /y must not share memory with x/],
  ['bias short', (k) => k.biasAdd(2, 3, f32(6), f32(2)), RangeError, /bias has 2 elements, expected at least 3/],
  ['bias backward wrong kind', (k) => k.biasBackward(2, 3, [1, 2, 3] as never, f32(3)), TypeError, /dy must be a Float32Array/],
  ['label out of range', (k) => k.softmaxCrossEntropyIndex(2, 3, f32(6), new Int32Array([0, 3]), null), RangeError, /labels\[1\] = 3 is outside \[0, 3\)/],
  ['negative label', (k) => k.softmaxCrossEntropyIndex(1, 3, f32(3), new Int32Array([-1]), null), RangeError, /labels\[0\] = -1/],
  ['labels not Int32Array', (k) => k.softmaxCrossEntropyIndex(1, 3, f32(3), new Float32Array([0]) as never, null), TypeError, /labels must be an Int32Array/],
  ['empty loss', (k) => k.softmaxCrossEntropyTarget(0, 3, f32(0), f32(0), null), RangeError, /at least 1/],
  ['sgd NaN lr', (k) => k.sgd(2, f32(2), f32(2), NaN), RangeError, /lr must be a finite number/],
  ['sgd short grad', (k) => k.sgd(3, f32(3), f32(2), 0.1), RangeError, /g has 2 elements/],
  // net kernels
  ['mul mixed dtypes', (k) => k.mul(2, f32(2), f64(2), f32(2)), TypeError, /b must be a Float32Array/],
  ['add partial overlap', (k) => { const a = f32(8); k.add(4, a.subarray(0, 4), f32(4), a.subarray(1, 5)); }, RangeError, /y must not share memory with a/],
  ['scale NaN alpha', (k) => k.scale(2, f32(2), NaN), RangeError, /alpha must be a finite number/],
  ['axpy aliasing', (k) => { const a = f32(4); k.axpy(4, 1, a, a); }, RangeError, /y must not share memory with x/],
  ['sumSquares short', (k) => k.sumSquares(5, f64(4)), RangeError, /x has 4 elements, expected at least 5/],
  ['argmaxRows out kind', (k) => k.argmaxRows(2, 2, f32(4), new Float32Array(2) as never), TypeError, /out must be an Int32Array/],
  ['argmaxRows zero cols', (k) => k.argmaxRows(2, 0, f32(0), new Int32Array(2)), RangeError, /cols must be at least 1/],
  ['softmaxBackward dx aliasing y', (k) => { const a = f32(4); k.softmaxBackward(2, 2, a, f32(4), a); }, RangeError, /dx must not share memory with y/],
  ['bceLogits empty', (k) => k.bceLogits(0, f32(0), f32(0), null), RangeError, /n must be at least 1/],
  ['bceLogits short targets', (k) => k.bceLogits(3, f32(3), f32(2), null), RangeError, /targets has 2 elements/],
  ['bceProbs eps out of range', (k) => k.bceProbs(1, f32(1), f32(1), 0, null), RangeError, /eps must be in/],
  ['mse non-boolean half', (k) => k.mse(1, 1, f32(1), f32(1), 1 as never, null), TypeError, /half must be a boolean/],
  ['mse short grad', (k) => k.mse(2, 2, f32(4), f32(4), false, f32(3)), RangeError, /grad has 3 elements/],
  ['sgdMomentum state aliasing', (k) => { const a = f32(4); k.sgdMomentum(4, a, f32(4), a, 0.1, 0.9, false); }, RangeError, /must not share memory/],
  ['sgdMomentum momentum > 1', (k) => k.sgdMomentum(1, f32(1), f32(1), f32(1), 0.1, 2, false), RangeError, /momentum must be in/],
  ['adagrad eps 0', (k) => k.adagrad(1, f32(1), f32(1), f32(1), 0.1, 0), RangeError, /eps must be in/],
  ['rmsprop infinite lr', (k) => k.rmsprop(1, f32(1), f32(1), f32(1), Infinity, 0.9, 1e-7), RangeError, /lr must be a finite number/],
  ['adam step 0', (k) => k.adam(1, f32(1), f32(1), f32(1), f32(1), 0.1, 0.9, 0.999, 1e-8, 0, 0), RangeError, /step must be at least 1/],
  ['adam beta2 = 1', (k) => k.adam(1, f32(1), f32(1), f32(1), f32(1), 0.1, 0.9, 1, 1e-8, 1, 0), RangeError, /beta1 and beta2 must be below 1/],
  ['adam short v', (k) => k.adam(2, f32(2), f32(2), f32(2), f32(1), 0.1, 0.9, 0.999, 1e-8, 1, 0), RangeError, /v has 1 elements/],
  ['adam negative weight decay', (k) => k.adam(1, f32(1), f32(1), f32(1), f32(1), 0.1, 0.9, 0.999, 1e-8, 1, -1), RangeError, /weightDecay must be non-negative/],
  ['adam wrong kind', (k) => k.adam(1, f32(1), f32(1), f64(1), f32(1), 0.1, 0.9, 0.999, 1e-8, 1, 0), TypeError, /m must be a Float32Array/],
];

describe.each(backends)('bad kernel calls on $label', (bc) => {
  beforeEach(() => useBackend(bc));

  it.each(bad)('%s throws a named error', (_name, call, type, message) => {
    let thrown: unknown;
    try {
      call(getBackend());
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(type);
    expect((thrown as Error).message).toMatch(message);
  });

  it('a detached buffer is seen as empty', () => {
    const a = f32(4);
    structuredClone(a.buffer, { transfer: [a.buffer] });
    expect(() => getBackend().sgd(4, a, f32(4), 0.1)).toThrow(/p has 0 elements/);
  });

  it('a typed array over a SharedArrayBuffer works', () => {
    const p = new Float32Array(new SharedArrayBuffer(8)).fill(1);
    getBackend().sgd(2, p, new Float32Array([1, 2]), 0.5);
    expect(Array.from(p)).toEqual([0.5, 0]);
  });
});
