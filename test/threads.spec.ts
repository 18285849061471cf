// Results must not depend on the number of threads: 1 and 2 threads give bitwise-identical outputs.
import { beforeEach, describe, expect, it } from 'vitest';
import { getBackend, nativeAddon } from '../src/backend/index';
import { dtypes, expectBitwiseEqual, nativeIsas, randomArray, useBackend, withThreads } from './helpers';

describe.skipIf(nativeIsas.length === 0).each(nativeIsas)('threads on $label', (bc) => {
  beforeEach(() => useBackend(bc));

  it.each(dtypes)('gemm is bitwise identical with 1 and 2 threads (%s)', (_n, C) => {
    for (const [M, N, K, ta, tb] of [[512, 300, 700, false, false], [257, 1030, 513, true, true],
      [1000, 64, 2000, false, true], [300, 7, 500, false, true], [3, 200, 300, true, false]] as const) {
      const A = randomArray(C, M * K, 1), B = randomArray(C, K * N, 2), C0 = randomArray(C, M * N, 3);
      const out = [1, 2, 3].map((t) => withThreads(t, () => {
        const c = C0.slice();
        getBackend().gemm(ta, tb, M, N, K, 0.5, A, B, 0.25, c);
        return c;
      }));
      expectBitwiseEqual(out[0], out[1]);
      expectBitwiseEqual(out[0], out[2]);
    }
  });

  it('setThreads changes the pool size reported by the addon', () => {
    withThreads(1, () => expect(nativeAddon().info().threads).toBe(1));
    withThreads(2, () => expect(nativeAddon().info().threads).toBe(2));
  });
});
