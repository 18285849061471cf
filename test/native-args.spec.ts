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
  ['output aliasing B', (k) => { const b = f32(4); k.gemm(false, false, 2, 2, 2, 1, f32(4), b, 0, b); }, RangeError, /C must not share memory with B/],
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
  // ops, softmax backward, losses and optimizer updates
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
  ['adam beta2 = 1', (k) => k.adam(1, f32(1), f32(1), f32(1), f32(1), 0.1, 0.9, 1, 1e-8, 1, 0), RangeError, /^beta2 must be in \[0, 1\), got 1$/],
  ['adam short v', (k) => k.adam(2, f32(2), f32(2), f32(2), f32(1), 0.1, 0.9, 0.999, 1e-8, 1, 0), RangeError, /v has 1 elements/],
  ['adam negative weight decay', (k) => k.adam(1, f32(1), f32(1), f32(1), f32(1), 0.1, 0.9, 0.999, 1e-8, 1, -1), RangeError, /weightDecay must be non-negative/],
  ['adam wrong kind', (k) => k.adam(1, f32(1), f32(1), f64(1), f32(1), 0.1, 0.9, 0.999, 1e-8, 1, 0), TypeError, /m must be a Float32Array/],
  // convolution: geometry (N, C, H, W, F, KH, KW, strideH, strideW, padH, padW) = 2, 3, 5, 4, 2, 3, 3, 1, 1, 1, 1
  ['conv zero stride', (k) => k.conv2dForward(1, 1, 4, 4, 1, 3, 3, 0, 1, 0, 0, f32(16), f32(9), null, f32(4)), RangeError, /strideH must be at least 1, got 0/],
  ['conv zero kernel', (k) => k.conv2dForward(1, 1, 4, 4, 1, 3, 0, 1, 1, 0, 0, f32(16), f32(0), null, f32(4)), RangeError, /KW must be at least 1/],
  ['conv kernel larger than padded input', (k) => k.conv2dForward(1, 1, 4, 2, 1, 3, 5, 1, 1, 0, 1, f32(8), f32(15), null, f32(4)), RangeError, /KW = 5 is larger than W \+ 2 \* padW = 4/],
  ['conv negative padding', (k) => k.conv2dForward(1, 1, 4, 4, 1, 3, 3, 1, 1, -1, 0, f32(16), f32(9), null, f32(4)), RangeError, /padH must be an integer/],
  ['conv fractional channels', (k) => k.conv2dForward(1, 1.5, 4, 4, 1, 3, 3, 1, 1, 0, 0, f32(16), f32(9), null, f32(4)), RangeError, /C must be an integer/],
  ['conv short x', (k) => k.conv2dForward(2, 3, 5, 4, 2, 3, 3, 1, 1, 1, 1, f32(119), f32(54), null, f32(80)), RangeError, /x has 119 elements, expected at least 120/],
  ['conv short weight', (k) => k.conv2dForward(2, 3, 5, 4, 2, 3, 3, 1, 1, 1, 1, f32(120), f32(53), null, f32(80)), RangeError, /weight has 53 elements, expected at least 54/],
  ['conv short bias', (k) => k.conv2dForward(2, 3, 5, 4, 2, 3, 3, 1, 1, 1, 1, f32(120), f32(54), f32(1), f32(80)), RangeError, /bias has 1 elements, expected at least 2/],
  ['conv short y (output size formula)', (k) => k.conv2dForward(2, 3, 5, 4, 2, 3, 3, 1, 1, 1, 1, f32(120), f32(54), null, f32(79)), RangeError, /y has 79 elements, expected at least 80/],
  ['conv mixed dtypes', (k) => k.conv2dForward(2, 3, 5, 4, 2, 3, 3, 1, 1, 1, 1, f32(120), f64(54), null, f32(80)), TypeError, /weight must be a Float32Array like the other arrays/],
  ['conv bias not an array', (k) => k.conv2dForward(2, 3, 5, 4, 2, 3, 3, 1, 1, 1, 1, f32(120), f32(54), 3 as never, f32(80)), TypeError, /bias must be a Float32Array or Float64Array/],
  ['conv y aliasing x', (k) => { const a = f32(200); k.conv2dForward(2, 3, 5, 4, 2, 3, 3, 1, 1, 1, 1, a, f32(54), null, a.subarray(100)); }, RangeError, /y must not share memory with x/],
  ['conv huge sizes', (k) => k.conv2dForward(2 ** 30, 2 ** 30, 2 ** 30, 4, 1, 1, 1, 1, 1, 0, 0, f32(4), f32(1), null, f32(4)), RangeError, /too large/],
  ['conv missing args', (k) => (k.conv2dForward as (...a: unknown[]) => void)(1, 1, 4, 4), TypeError, /./],
  ['conv backward-data short dy', (k) => k.conv2dBackwardData(2, 3, 5, 4, 2, 3, 3, 1, 1, 1, 1, f32(79), f32(54), f32(120)), RangeError, /dy has 79 elements, expected at least 80/],
  ['conv backward-data short dx', (k) => k.conv2dBackwardData(2, 3, 5, 4, 2, 3, 3, 1, 1, 1, 1, f32(80), f32(54), f32(100)), RangeError, /dx has 100 elements/],
  ['conv backward-data dx aliasing dy', (k) => { const a = f32(200); k.conv2dBackwardData(2, 3, 5, 4, 2, 3, 3, 1, 1, 1, 1, a.subarray(0, 80), f32(54), a.subarray(50, 170)); }, RangeError, /dx must not share memory with dy/],
  ['conv backward-filter short dweight', (k) => k.conv2dBackwardFilter(2, 3, 5, 4, 2, 3, 3, 1, 1, 1, 1, f32(120), f32(80), f32(50), null), RangeError, /dweight has 50 elements, expected at least 54/],
  ['conv backward-filter dbias kind', (k) => k.conv2dBackwardFilter(2, 3, 5, 4, 2, 3, 3, 1, 1, 1, 1, f64(120), f64(80), f64(54), f32(2)), TypeError, /dbias must be a Float64Array/],
  ['conv backward-filter dbias aliasing dweight', (k) => { const a = f32(60); k.conv2dBackwardFilter(2, 3, 5, 4, 2, 3, 3, 1, 1, 1, 1, f32(120), f32(80), a.subarray(0, 54), a.subarray(53)); }, RangeError, /dbias must not share memory with dweight/],
  ['max pool kernel larger than input', (k) => k.maxPool2dForward(1, 1, 2, 4, 3, 2, 1, 1, f32(8), f32(3), new Int32Array(3)), RangeError, /KH = 3 is larger than H = 2/],
  ['max pool zero stride', (k) => k.maxPool2dForward(1, 1, 4, 4, 2, 2, 2, 0, f32(16), f32(4), new Int32Array(4)), RangeError, /strideW must be at least 1/],
  ['max pool argmax kind', (k) => k.maxPool2dForward(1, 1, 4, 4, 2, 2, 2, 2, f32(16), f32(4), f32(4) as never), TypeError, /argmax must be an Int32Array/],
  ['max pool short argmax', (k) => k.maxPool2dForward(1, 1, 4, 4, 2, 2, 2, 2, f32(16), f32(4), new Int32Array(3)), RangeError, /argmax has 3 elements, expected at least 4/],
  ['max pool short y', (k) => k.maxPool2dForward(2, 1, 5, 5, 2, 2, 2, 2, f32(50), f32(7), new Int32Array(8)), RangeError, /y has 7 elements, expected at least 8/],
  ['max pool backward argmax out of range', (k) => k.maxPool2dBackward(1, 1, 4, 4, 2, 2, 2, 2, f32(4), new Int32Array([0, 3, 16, 1]), f32(16)), RangeError, /argmax\[2\] = 16 is outside \[0, H \* W = 16\)/],
  ['max pool backward negative argmax', (k) => k.maxPool2dBackward(1, 1, 4, 4, 2, 2, 2, 2, f32(4), new Int32Array([0, -1, 2, 1]), f32(16)), RangeError, /argmax\[1\] = -1/],
  ['max pool backward dx aliasing dy', (k) => { const a = f32(20); k.maxPool2dBackward(1, 1, 4, 4, 2, 2, 2, 2, a.subarray(0, 4), new Int32Array(4), a.subarray(2, 18)); }, RangeError, /dx must not share memory with dy/],
  ['max pool huge plane', (k) => k.maxPool2dForward(1, 1, 2 ** 16, 2 ** 16, 1, 1, 1, 1, f32(1), f32(1), new Int32Array(1)), RangeError, /H \* W must be below 2\^31|expected at least/],
  ['avg pool short dx', (k) => k.avgPool2dBackward(1, 2, 4, 4, 2, 2, 2, 2, f32(8), f32(31)), RangeError, /dx has 31 elements, expected at least 32/],
  ['avg pool wrong kind', (k) => k.avgPool2dForward(1, 1, 4, 4, 2, 2, 2, 2, new Int32Array(16) as never, f32(4)), TypeError, /x must be a Float32Array or Float64Array/],
  ['layer norm short gamma', (k) => k.layerNormForward(2, 4, f32(8), f32(3), null, f32(8), f32(2), f32(2), 1e-5), RangeError, /gamma has 3 elements, expected at least 4/],
  ['layer norm short rstd', (k) => k.layerNormForward(3, 4, f32(12), null, null, f32(12), f32(3), f32(2), 1e-5), RangeError, /rstd has 2 elements, expected at least 3/],
  ['layer norm no features', (k) => k.layerNormForward(2, 0, f32(0), null, null, f32(0), f32(2), f32(2), 1e-5), RangeError, /n must be at least 1/],
  ['layer norm negative eps', (k) => k.layerNormForward(1, 4, f32(4), null, null, f32(4), f32(1), f32(1), -1), RangeError, /eps must be positive/],
  ['layer norm backward dgamma aliasing dbeta', (k) => { const a = f32(4); k.layerNormBackward(2, 4, f32(8), f32(8), null, f32(2), f32(2), f32(8), a, a); }, RangeError, /dbeta must not share memory with dgamma/],
  ['layer norm backward mixed dtypes', (k) => k.layerNormBackward(2, 4, f32(8), new Float64Array(8) as never, null, f32(2), f32(2), f32(8)), TypeError, /dy must be a Float32Array/],
  ['batch norm short gamma', (k) => k.batchNormForward(2, 3, 4, f32(24), f32(2), f32(3), f32(24), f32(3), f32(3), f32(3), f32(3), true, 0.1, 1e-5), RangeError, /gamma has 2 elements, expected at least 3/],
  ['batch norm NaN momentum', (k) => k.batchNormForward(2, 3, 4, f32(24), f32(3), f32(3), f32(24), f32(3), f32(3), f32(3), f32(3), true, NaN, 1e-5), RangeError, /momentum must be a finite number/],
  ['batch norm momentum above 1', (k) => k.batchNormForward(2, 3, 4, f32(24), f32(3), f32(3), f32(24), f32(3), f32(3), f32(3), f32(3), true, 1.5, 1e-5), RangeError, /momentum must be in \[0, 1\]/],
  ['batch norm zero eps', (k) => k.batchNormForward(2, 3, 4, f32(24), f32(3), f32(3), f32(24), f32(3), f32(3), f32(3), f32(3), true, 0.1, 0), RangeError, /eps must be positive/],
  ['batch norm training flag', (k) => k.batchNormForward(2, 3, 4, f32(24), f32(3), f32(3), f32(24), f32(3), f32(3), f32(3), f32(3), 1 as never, 0.1, 1e-5), TypeError, /training must be a boolean/],
  ['batch norm one value per channel', (k) => k.batchNormForward(1, 3, 1, f32(3), f32(3), f32(3), f32(3), f32(3), f32(3), f32(3), f32(3), true, 0.1, 1e-5), RangeError, /more than one value per channel/],
  ['batch norm mean aliasing running mean', (k) => { const a = f32(3); k.batchNormForward(2, 3, 4, f32(24), f32(3), f32(3), f32(24), a, f32(3), a, f32(3), true, 0.1, 1e-5); }, RangeError, /runningMean must not share memory with mean/],
  ['batch norm backward short dbeta', (k) => k.batchNormBackward(2, 3, 4, f32(24), f32(24), f32(3), f32(3), f32(3), f32(24), f32(3), f32(2), true), RangeError, /dbeta has 2 elements/],
  ['batch norm backward dx aliasing x', (k) => { const a = f32(24); k.batchNormBackward(2, 3, 4, a, f32(24), f32(3), f32(3), f32(3), a, f32(3), f32(3), true); }, RangeError, /dx must not share memory with x/],
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

  it('a detached buffer is a RangeError that says it is detached, on every backend', () => {
    const a = f32(4);
    structuredClone(a.buffer, { transfer: [a.buffer] });
    expect(() => getBackend().sgd(4, a, f32(4), 0.1)).toThrow(RangeError);
    expect(() => getBackend().sgd(4, a, f32(4), 0.1)).toThrow(/p's ArrayBuffer is detached/);
  });

  it('a typed array over a SharedArrayBuffer works', () => {
    const p = new Float32Array(new SharedArrayBuffer(8)).fill(1);
    getBackend().sgd(2, p, new Float32Array([1, 2]), 0.5);
    expect(Array.from(p)).toEqual([0.5, 0]);
  });
});
