// BatchNorm followed by ReLU in one kernel each way (batchNormReluForward / batchNormReluBackward, which fit() runs
// for the pair): bitwise the batch-norm kernel then the ReLU kernel (forward, running statistics, backward), NaN
// included, on every backend and ISA and thread count; float64 gradients against central differences. The fit()
// path: test/conv-pool-fused.spec.ts; the kernels against the float64 references: test/reference-grid.
import { beforeEach, describe, expect, it } from 'vitest';
import { getBackend } from '../src/backend/index';
import type { FloatArray } from '../src/tensor';
import {
  type Ctor, backends, dtypes, expectAllBitwiseEqual, expectClose, nativeIsas, randomArray, useBackend, withThreads,
} from './helpers';

interface Inputs {
  x: FloatArray; gamma: FloatArray; beta: FloatArray; rm: FloatArray; rv: FloatArray; dy: FloatArray; dg: FloatArray;
  db: FloatArray;
}

function inputs(C: Ctor, [N, Ch, S]: number[], seed: number): Inputs {
  const n = N * Ch * S;
  return {
    x: randomArray(C, n, seed, -2, 3), gamma: randomArray(C, Ch, seed + 1, -2, 2), beta: randomArray(C, Ch, seed + 2),
    rm: randomArray(C, Ch, seed + 3), rv: randomArray(C, Ch, seed + 4, 0.5, 2), dy: randomArray(C, n, seed + 5),
    dg: randomArray(C, Ch, seed + 6), db: randomArray(C, Ch, seed + 7),
  };
}

/** The two layers' kernels one after the other: batch norm, ReLU; backward ReLU, batch norm. */
function separate(C: Ctor, [N, Ch, S]: number[], a: Inputs, training: boolean): FloatArray[] {
  const k = getBackend(), n = N * Ch * S;
  const z = new C(n), y = new C(n), mean = new C(Ch), invstd = new C(Ch), rm = C.from(a.rm), rv = C.from(a.rv);
  k.batchNormForward(N, Ch, S, a.x, a.gamma, a.beta, z, mean, invstd, rm, rv, training, 0.1, 1e-5);
  k.activationForward('relu', n, z, y, 0);
  const dz = new C(n), dx = new C(n), dg = C.from(a.dg), db = C.from(a.db);
  k.activationBackward('relu', n, z, y, a.dy, dz, 0);
  k.batchNormBackward(N, Ch, S, a.x, dz, a.gamma, mean, invstd, dx, dg, db, training);
  return [y, mean, invstd, rm, rv, dx, dg, db];
}

/** The fused kernels; the backward writes dx over a copy of dy (dx may be dy). */
function fused(C: Ctor, [N, Ch, S]: number[], a: Inputs, training: boolean): FloatArray[] {
  const k = getBackend(), n = N * Ch * S;
  const y = new C(n).fill(NaN), mean = new C(Ch), invstd = new C(Ch), rm = C.from(a.rm), rv = C.from(a.rv);
  k.batchNormReluForward(N, Ch, S, a.x, a.gamma, a.beta, y, mean, invstd, rm, rv, training, 0.1, 1e-5);
  const dx = C.from(a.dy), dg = C.from(a.dg), db = C.from(a.db);
  k.batchNormReluBackward(N, Ch, S, a.x, y, dx, a.gamma, mean, invstd, dx, dg, db, training);
  return [y, mean, invstd, rm, rv, dx, dg, db];
}

const names = ['y', 'mean', 'invstd', 'runningMean', 'runningVar', 'dx', 'dgamma', 'dbeta'];

function expectSame(got: FloatArray[], want: FloatArray[]): void {
  expectAllBitwiseEqual(names, got, want);
}

describe.each(backends)('fused BatchNorm + ReLU kernels on $label', (bc) => {
  beforeEach(() => useBackend(bc));

  describe.each(dtypes)('%s', (_name, C) => {
    // plane lengths around the vector widths (tails), (N, C) features, channels over threads (from 32768 values)
    it('bitwise the batch-norm and ReLU kernels one after the other, in training and eval', () => {
      for (const shape of [[3, 2, 5], [2, 3, 1], [4, 3, 17], [2, 4, 33], [5, 2, 16], [16, 12, 196]]) {
        for (const training of [true, false]) {
          const a = inputs(C, shape, shape[2]);
          const want = separate(C, shape, a, training);
          expect(want[0].some((v) => v === 0) && want[0].some((v) => v > 0), 'both sides of the ReLU').toBe(true);
          expectSame(fused(C, shape, a, training), want);
        }
      }
    });

    it('NaN and infinities as the layers: a NaN or an infinite input, NaN gradients where the ReLU passes them', () => {
      const shape = [3, 4, 9], [N, Ch, S] = shape;
      const a = inputs(C, shape, 7);
      a.x[(1 * Ch + 0) * S + 4] = NaN;       // channel 0: NaN statistics, a NaN output everywhere
      a.x[(2 * Ch + 1) * S + 2] = Infinity;  // channel 1: infinite mean, NaN outputs
      for (let i = 0; i < a.dy.length; i += 5) a.dy[i] = NaN;  // masked (y <= 0) NaNs give 0 before the sums
      a.dy[3] = Infinity;
      a.x.fill(0.5, (0 * Ch + 2) * S, (0 * Ch + 3) * S);       // channel 2, 3: constants: a zero variance,
      a.x.fill(0.5, (1 * Ch + 2) * S, (1 * Ch + 3) * S);       // xhat = 0, y = beta's ReLU
      a.x.fill(0.5, (2 * Ch + 2) * S, (2 * Ch + 3) * S);
      for (const training of [true, false]) {
        const want = separate(C, shape, a, training);
        expect(want[0].filter(Number.isNaN).length, 'NaN outputs').toBe(training ? 2 * N * S : 1);
        expectSame(fused(C, shape, a, training), want);
      }
    });
  });

  it('float64: the fused backward matches central differences of sum(dy * relu(bn(x))), training and eval', () => {
    const shape = [3, 2, 5], [N, Ch, S] = shape, n = N * Ch * S;
    const a = inputs(Float64Array, shape, 21);
    for (const training of [true, false]) {
      const loss = () => {
        const y = new Float64Array(n), rm = Float64Array.from(a.rm), rv = Float64Array.from(a.rv);
        getBackend().batchNormReluForward(N, Ch, S, a.x, a.gamma, a.beta, y, new Float64Array(Ch),
          new Float64Array(Ch), rm, rv, training, 0.1, 1e-5);
        let s = 0;
        for (let i = 0; i < n; i++) s += y[i] * a.dy[i];
        return s;
      };
      const numeric = (p: FloatArray) => Float64Array.from(p, (_v, i) => {
        const keep = p[i];
        p[i] = keep + 1e-6; const up = loss();
        p[i] = keep - 1e-6; const down = loss();
        p[i] = keep;
        return (up - down) / 2e-6;
      });
      const y = new Float64Array(n), mean = new Float64Array(Ch), invstd = new Float64Array(Ch);
      getBackend().batchNormReluForward(N, Ch, S, a.x, a.gamma, a.beta, y, mean, invstd, Float64Array.from(a.rm),
        Float64Array.from(a.rv), training, 0.1, 1e-5);
      expect(y.filter((v) => v === 0).length, 'the ReLU masks some values').toBeGreaterThan(3);
      const dx = new Float64Array(n), dg = new Float64Array(Ch).fill(1), db = new Float64Array(Ch).fill(-1);
      getBackend().batchNormReluBackward(N, Ch, S, a.x, y, a.dy, a.gamma, mean, invstd, dx, dg, db, training);
      expectClose(dx, numeric(a.x), 1e-7);
      expectClose(dg, numeric(a.gamma).map((v) => v + 1), 1e-7);
      expectClose(db, numeric(a.beta).map((v) => v - 1), 1e-7);
    }
  });
});

describe.skipIf(nativeIsas.length === 0).each(nativeIsas)('fused BatchNorm + ReLU threads on $label', (bc) => {
  beforeEach(() => useBackend(bc));

  it.each(dtypes)('1 and 2 threads give bitwise-identical results (%s)', (_n, C) => {
    const shape = [64, 16, 49], a = inputs(C, shape, 3);
    const one = withThreads(1, () => fused(C, shape, a, true)), two = withThreads(2, () => fused(C, shape, a, true));
    expectSame(two, one);
  });
});
