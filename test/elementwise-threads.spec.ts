// The elementwise and optimizer kernels run large arrays in fixed chunks on the thread pool (native/chunks.h).
// On every native ISA: 1, 2 and 3 threads give bitwise-identical results, and they match the TS reference, so
// every chunk (the last, partial one included) was computed. Sizes straddle the threading threshold.
import { beforeEach, describe, it } from 'vitest';
import { getBackend, tsBackend } from '../src/backend/index';
import type { Kernels } from '../src/backend/backend';
import type { FloatArray } from '../src/tensor';
import { dtypes, expectBitwiseEqual, expectClose, nativeIsas, randomArray, tolerance, useBackend, withThreads } from './helpers';

type Case = [string, (k: Kernels, a: FloatArray[], n: number) => void, number];  // name, call, arrays it needs

const CASES: Case[] = [
  ['relu forward', (k, [x, y], n) => k.activationForward('relu', n, x, y, 0), 2],
  ['leakyRelu forward', (k, [x, y], n) => k.activationForward('leakyRelu', n, x, y, 0.1), 2],
  ['sigmoid forward', (k, [x, y], n) => k.activationForward('sigmoid', n, x, y, 0), 2],
  ['tanh forward', (k, [x, y], n) => k.activationForward('tanh', n, x, y, 0), 2],
  ['step forward', (k, [x, y], n) => k.activationForward('step', n, x, y, 0), 2],
  ['relu backward', (k, [x, y, dy, dx], n) => k.activationBackward('relu', n, x, y, dy, dx, 0), 4],
  ['leakyRelu backward', (k, [x, y, dy, dx], n) => k.activationBackward('leakyRelu', n, x, y, dy, dx, 0.2), 4],
  ['sigmoid backward', (k, [x, y, dy, dx], n) => k.activationBackward('sigmoid', n, x, y, dy, dx, 0), 4],
  ['tanh backward', (k, [x, y, dy, dx], n) => k.activationBackward('tanh', n, x, y, dy, dx, 0), 4],
  ['step backward', (k, [x, y, dy, dx], n) => { dx.fill(7); k.activationBackward('step', n, x, y, dy, dx, 0); }, 4],
  ['biasAdd', (k, [y, b], n) => k.biasAdd(n / 7, 7, y, b.subarray(0, 7)), 2],
  ['biasAdd wide rows', (k, [y, b], n) => k.biasAdd(7, n / 7, y, b.subarray(0, n / 7)), 2],
  ['sgd', (k, [p, g], n) => k.sgd(n, p, g, 0.1), 2],
  ['mul', (k, [a, b, y], n) => k.mul(n, a, b, y), 3],
  ['add', (k, [a, b, y], n) => k.add(n, a, b, y), 3],
  ['div', (k, [a, b, y], n) => k.div(n, a, b, y), 3],
  ['power', (k, [a, b, y], n) => { for (let i = 0; i < n; i++) a[i] = Math.abs(a[i]); k.power(n, a, b, y); }, 3],
  ['powerBackward', (k, [x, e, dy, dx, de], n) => {
    for (let i = 0; i < n; i++) x[i] = Math.abs(x[i]);
    k.powerBackward(n, x, e, dy, dx, de);
  }, 5],
  ['scale', (k, [x], n) => k.scale(n, x, 0.75), 1],
  ['axpy', (k, [x, y], n) => k.axpy(n, -0.5, x, y), 2],
  ['sgdMomentum nesterov', (k, [p, g, v], n) => k.sgdMomentum(n, p, g, v, 0.1, 0.9, true), 3],
  ['adagrad', (k, [p, g, h], n) => { h.fill(0.5); k.adagrad(n, p, g, h, 0.01, 1e-7); }, 3],
  ['rmsprop', (k, [p, g, h], n) => { h.fill(0.5); k.rmsprop(n, p, g, h, 0.01, 0.99, 1e-7); }, 3],
  ['adam with decay', (k, [p, g, m, v], n) => { v.fill(0.25); k.adam(n, p, g, m, v, 0.001, 0.9, 0.999, 1e-8, 3, 0.01); }, 4],
];

// below the threshold, just above it (a few chunks) and many chunks with a partial last one (multiples of 7): 8
// chunks and 3 elements at the cheap loops' 16384, 32 and 3 at the costly ones' 4096 (native/chunks.h)
const SIZES = [7 * 1000, 7 * 9363, 7 * 18725];

describe.skipIf(nativeIsas.length === 0).each(nativeIsas)('chunked elementwise kernels on $label', (bc) => {
  beforeEach(() => useBackend(bc));

  for (const [name, call, count] of CASES) {
    it.each(dtypes)(`${name}: 1, 2 and 3 threads bitwise equal, and equal to the TS reference (%s)`, (_d, C) => {
      for (const n of SIZES) {
        const inputs = Array.from({ length: count }, (_, i) => randomArray(C, n, 10 + i));
        const run = (k: Kernels) => {
          const a = inputs.map((t) => t.slice());
          call(k, a, n);
          return a;
        };
        const outs = [1, 2, 3].map((t) => withThreads(t, () => run(getBackend())));
        for (let i = 0; i < count; i++) {
          expectBitwiseEqual(outs[0][i], outs[1][i]);
          expectBitwiseEqual(outs[0][i], outs[2][i]);
        }
        const ref = run(tsBackend);
        for (let i = 0; i < count; i++) expectClose(outs[1][i], ref[i], 4 * tolerance(C));
      }
    });
  }
});
