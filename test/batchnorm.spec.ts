// Batch-norm kernels on every backend: PyTorch's definitions (biased variance to normalize, unbiased for the
// running variance, momentum 0.1), golden values, backward against central differences, thread independence.
import { beforeEach, describe, expect, it } from 'vitest';
import { getBackend } from '../src/backend/index';
import type { FloatArray } from '../src/tensor';
import {
  backends, dtypes, expectBitwiseEqual, expectClose, nativeIsas, randomArray, useBackend, withThreads,
} from './helpers';

type Ctor = Float32ArrayConstructor | Float64ArrayConstructor;

function forward(C: Ctor, [N, Ch, S]: number[], x: FloatArray, gamma: FloatArray, beta: FloatArray,
  running: [FloatArray, FloatArray], training: boolean) {
  const y = new C(x.length), mean = new C(Ch), invstd = new C(Ch);
  getBackend().batchNormForward(N, Ch, S, x, gamma, beta, y, mean, invstd, running[0], running[1], training, 0.1, 1e-5);
  return { y, mean, invstd };
}

describe.each(backends)('batch-norm kernels on $label', (bc) => {
  beforeEach(() => useBackend(bc));

  describe.each(dtypes)('%s', (_name, C) => {
    const tol = C === Float32Array ? 1e-5 : 1e-12;

    it('golden values: x = 1, 2, 3, 4 in one channel', () => {
      const rm = new C([0]), rv = new C([1]);
      const { y, mean, invstd } = forward(C, [4, 1, 1], new C([1, 2, 3, 4]), new C([2]), new C([0.5]), [rm, rv], true);
      const inv = 1 / Math.sqrt(1.25 + 1e-5);  // biased variance of 1..4 is 1.25
      expectClose(y, [1, 2, 3, 4].map((v) => 2 * (v - 2.5) * inv + 0.5), tol);
      expectClose(mean, [2.5], tol);
      expectClose(invstd, [inv], tol);
      expectClose(rm, [0.25], tol);                      // 0.9 * 0 + 0.1 * 2.5
      expectClose(rv, [0.9 + 0.1 * (5 / 3)], tol);       // unbiased variance 5/3
      // eval uses the running statistics
      const e = forward(C, [1, 1, 1], new C([3]), new C([2]), new C([0.5]), [rm, rv], false);
      expectClose(e.y, [2 * (3 - 0.25) / Math.sqrt(rv[0] + 1e-5) + 0.5], tol);
      expectClose(rm, [0.25], tol);
    });

    it('forward matches the definition per channel over (N, C, H*W) and (N, C)', () => {
      for (const shape of [[4, 3, 10], [2, 5, 1], [7, 1, 6], [3, 2, 33]]) {
        const [N, Ch, S] = shape;
        const x = randomArray(C, N * Ch * S, N + S, -3, 5), gamma = randomArray(C, Ch, 2), beta = randomArray(C, Ch, 3);
        const rm = randomArray(C, Ch, 4), rv = randomArray(C, Ch, 5, 0.5, 2);
        const rm0 = Float64Array.from(rm), rv0 = Float64Array.from(rv);
        const { y } = forward(C, shape, x, gamma, beta, [rm, rv], true);
        const ey = new Float64Array(x.length), erm = new Float64Array(Ch), erv = new Float64Array(Ch);
        for (let c = 0; c < Ch; c++) {
          const vals: number[] = [];
          for (let n = 0; n < N; n++) for (let s = 0; s < S; s++) vals.push(x[(n * Ch + c) * S + s]);
          const m = vals.reduce((a, v) => a + v, 0) / vals.length;
          const ss = vals.reduce((a, v) => a + (v - m) ** 2, 0);
          erm[c] = 0.9 * rm0[c] + 0.1 * m;
          erv[c] = 0.9 * rv0[c] + 0.1 * ss / (vals.length - 1);
          for (let n = 0; n < N; n++) for (let s = 0; s < S; s++) {
            const i = (n * Ch + c) * S + s;
            ey[i] = gamma[c] * (x[i] - m) / Math.sqrt(ss / vals.length + 1e-5) + beta[c];
          }
        }
        expectClose(y, ey, tol * 10);
        expectClose(rm, erm, tol);
        expectClose(rv, erv, tol);
      }
    });

    it('backward matches central differences of sum(dy * y), in training and in eval', () => {
      const shape = [3, 2, 5], [N, Ch, S] = shape, n = N * Ch * S;
      const x = randomArray(Float64Array, n, 11, -2, 2) as Float64Array, dy = randomArray(Float64Array, n, 12);
      const gamma = randomArray(Float64Array, Ch, 13) as Float64Array, beta = randomArray(Float64Array, Ch, 14) as Float64Array;
      const rs = (): [Float64Array, Float64Array] => [new Float64Array([0.3, -0.2]), new Float64Array([1.5, 0.7])];
      for (const training of [true, false]) {
        const loss = () => {
          const { y } = forward(Float64Array, shape, x, gamma, beta, rs(), training);
          let s = 0;
          for (let i = 0; i < n; i++) s += y[i] * dy[i];
          return s;
        };
        const numeric = (p: Float64Array) => Float64Array.from(p, (_v, i) => {
          const keep = p[i];
          p[i] = keep + 1e-5; const up = loss();
          p[i] = keep - 1e-5; const down = loss();
          p[i] = keep;
          return (up - down) / 2e-5;
        });
        const { mean, invstd } = forward(Float64Array, shape, x, gamma, beta, rs(), training);
        const xc = new C(x), dyc = new C(dy), gc = new C(gamma);
        const dx = new C(n), dgamma = new C(Ch).fill(1), dbeta = new C(Ch).fill(-1);
        getBackend().batchNormBackward(N, Ch, S, xc, dyc, gc, new C(mean), new C(invstd), dx, dgamma, dbeta, training);
        const t = C === Float32Array ? 2e-4 : 1e-7;
        expectClose(dx, numeric(x), t);
        expectClose(dgamma, numeric(gamma).map((v) => v + 1), t);
        expectClose(dbeta, numeric(beta).map((v) => v - 1), t);
        // dx may overwrite dy
        getBackend().batchNormBackward(N, Ch, S, xc, dyc, gc, new C(mean), new C(invstd), dyc, dgamma, dbeta, training);
        expectClose(dyc, dx, 0);
      }
    });

    it('backward over 2^30 planes of no elements: dgamma and dbeta gain +0, at once (it walked the empty planes for seconds)', () => {
      const Ch = 3, dgamma = new C([1.5, -2, -0]), dbeta = new C([-0, 0.25, 3]);
      const cpu = process.cpuUsage();
      for (const training of [true, false]) {
        getBackend().batchNormBackward(2 ** 30, Ch, 0, new C(0), new C(0), new C([1, 2, 3]), new C(Ch), new C(Ch).fill(1),
          new C(0), dgamma, dbeta, training);
      }
      const used = process.cpuUsage(cpu);
      expect(Array.from(dgamma)).toEqual([1.5, -2, 0]);  // -0 + +0 is +0
      expect(Object.is(dgamma[2], 0)).toBe(true);
      expect(Array.from(dbeta)).toEqual([0, 0.25, 3]);
      expect(Object.is(dbeta[0], 0)).toBe(true);
      expect((used.user + used.system) / 1000).toBeLessThan(50);  // the old native walk: 11-70 s (ts 9 s)
    });

    it('training with one value per channel is refused', () => {
      expect(() => forward(C, [1, 2, 1], new C(2), new C(2), new C(2), [new C(2), new C(2)], true))
        .toThrow(/more than one value per channel/);
    });
  });
});

describe.skipIf(nativeIsas.length === 0).each(nativeIsas)('batch-norm threads on $label', (bc) => {
  beforeEach(() => useBackend(bc));

  it.each(dtypes)('1 and 2 threads give bitwise-identical results (%s)', (_n, C) => {
    const [N, Ch, S] = [64, 16, 196];
    const x = randomArray(C, N * Ch * S, 1), dy = randomArray(C, N * Ch * S, 2);
    const gamma = randomArray(C, Ch, 3), beta = randomArray(C, Ch, 4);
    const run = (t: number) => withThreads(t, () => {
      const rm = new C(Ch), rv = new C(Ch).fill(1);
      const { y, mean, invstd } = forward(C, [N, Ch, S], x, gamma, beta, [rm, rv], true);
      const dx = new C(x.length), dg = new C(Ch), db = new C(Ch);
      getBackend().batchNormBackward(N, Ch, S, x, dy, gamma, mean, invstd, dx, dg, db, true);
      return [y, rm, rv, dx, dg, db];
    });
    const one = run(1), two = run(2);
    one.forEach((a, i) => expectBitwiseEqual(a, two[i]));
  });
});
