// Pooling kernels on every backend: naive references, hand-computed golden values (ties, overlapping and uneven
// windows), and bitwise independence of the thread count.
import { beforeEach, describe, expect, it } from 'vitest';
import { getBackend } from '../src/backend/index';
import type { FloatArray } from '../src/tensor';
import {
  backends, dtypes, expectBitwiseEqual, expectClose, nativeIsas, randomArray, tolerance, useBackend, withThreads,
} from './helpers';

type Geo = [N: number, C: number, H: number, W: number, KH: number, KW: number, sh: number, sw: number];
const outSize = ([, , H, W, KH, KW, sh, sw]: Geo) => [Math.floor((H - KH) / sh) + 1, Math.floor((W - KW) / sw) + 1];

/** Each window's inputs as flat indices into x, in row-major window order, with the window's flat output index. */
function eachWindow(g: Geo, visit: (yi: number, xs: number[]) => void): void {
  const [N, C, H, W, KH, KW, sh, sw] = g, [OH, OW] = outSize(g);
  for (let p = 0; p < N * C; p++) for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) {
    const xs: number[] = [];
    for (let kh = 0; kh < KH; kh++) for (let kw = 0; kw < KW; kw++) xs.push(p * H * W + (oh * sh + kh) * W + ow * sw + kw);
    visit((p * OH + oh) * OW + ow, xs);
  }
}

const configs: Geo[] = [
  [1, 1, 4, 4, 2, 2, 2, 2], [2, 3, 7, 5, 3, 3, 2, 2], [1, 2, 9, 6, 3, 2, 1, 3], [4, 1, 5, 8, 2, 3, 3, 1],
  [2, 2, 6, 6, 6, 6, 1, 1], [3, 2, 1, 9, 1, 4, 1, 2], [1, 1, 11, 10, 4, 4, 3, 3],
  // the 2x2 stride-2 fast path of native/pool.cc: odd sizes (an ignored last row and column), vector tails
  [2, 3, 9, 37, 2, 2, 2, 2], [3, 5, 28, 28, 2, 2, 2, 2],
];

describe.each(backends)('pooling kernels on $label', (bc) => {
  beforeEach(() => useBackend(bc));

  describe.each(dtypes)('%s', (_name, C) => {
    it('max and average pooling match the naive references, overlapping and uneven windows included', () => {
      let seed = 7;
      for (const g of configs) {
        const [N, Ch, H, W] = g, [OH, OW] = outSize(g);
        const x = randomArray(C, N * Ch * H * W, seed++), dy = randomArray(C, N * Ch * OH * OW, seed++);
        // repeated values make ties: the first maximum must win
        for (let i = 0; i < x.length; i += 3) x[i] = Math.round(x[i] * 2) / 2;
        const y = new C(dy.length), arg = new Int32Array(dy.length);
        getBackend().maxPool2dForward(...g, x, y, arg);
        const ey = new Float64Array(dy.length), earg = new Int32Array(dy.length);
        const edx = new Float64Array(x.length);
        eachWindow(g, (yi, xs) => {
          let best = xs[0];
          for (const i of xs) if (x[i] > x[best]) best = i;
          ey[yi] = x[best];
          earg[yi] = best % (H * W);
          edx[best] += dy[yi];
        });
        expect(Array.from(y)).toEqual(Array.from(ey));
        expect(Array.from(arg)).toEqual(Array.from(earg));
        const dx = new C(x.length).fill(NaN);
        getBackend().maxPool2dBackward(...g, dy, arg, dx);
        expectClose(dx, edx, tolerance(C, 4));

        const ya = new C(dy.length), eya = new Float64Array(dy.length), edxa = new Float64Array(x.length);
        eachWindow(g, (yi, xs) => {
          for (const i of xs) { eya[yi] += x[i] / xs.length; edxa[i] += dy[yi] / xs.length; }
        });
        getBackend().avgPool2dForward(...g, x, ya);
        expectClose(ya, eya, tolerance(C, g[4] * g[5]));
        const dxa = new C(x.length).fill(NaN);
        getBackend().avgPool2dBackward(...g, dy, dxa);
        expectClose(dxa, edxa, tolerance(C, 9));
      }
    });

    it('golden values: 2x2 max pooling with ties, overlapping 3x3 windows, and global average', () => {
      const x = new C([
        1, 5, 2, 2,
        3, 5, 0, 2,
        -1, -2, 7, 8,
        -3, -1, 9, 9]);
      const y = new C(4), arg = new Int32Array(4);
      getBackend().maxPool2dForward(1, 1, 4, 4, 2, 2, 2, 2, x, y, arg);
      expect(Array.from(y)).toEqual([5, 2, -1, 9]);
      expect(Array.from(arg)).toEqual([1, 2, 8, 14]);  // the first of each tie
      const dx = new C(16);
      getBackend().maxPool2dBackward(1, 1, 4, 4, 2, 2, 2, 2, new C([1, 2, 3, 4]), arg, dx);
      expect(Array.from(dx)).toEqual([0, 1, 2, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 4, 0]);
      // overlapping 3x3 windows, stride 1: the 9 at index 14 is the max of both bottom windows
      const y2 = new C(4), arg2 = new Int32Array(4), dx2 = new C(16);
      getBackend().maxPool2dForward(1, 1, 4, 4, 3, 3, 1, 1, x, y2, arg2);
      expect(Array.from(y2)).toEqual([7, 8, 9, 9]);
      getBackend().maxPool2dBackward(1, 1, 4, 4, 3, 3, 1, 1, new C([1, 1, 1, 1]), arg2, dx2);
      expect(dx2[10]).toBe(1);
      expect(dx2[11]).toBe(1);
      expect(dx2[14]).toBe(2);
      // uneven: 3x3 windows with stride 2 on 4x4 fit once; the last row and column are never read
      const y3 = new C(1), arg3 = new Int32Array(1);
      getBackend().maxPool2dForward(1, 1, 4, 4, 3, 3, 2, 2, x, y3, arg3);
      expect([y3[0], arg3[0]]).toEqual([7, 10]);
      // global average pooling is a full-size window
      const g = new C(2);
      getBackend().avgPool2dForward(1, 2, 4, 4, 4, 4, 1, 1, new C([...x, ...x.map((v) => 2 * v)]), g);
      expect(Array.from(g)).toEqual([46 / 16, 92 / 16]);
      const dg = new C(32);
      getBackend().avgPool2dBackward(1, 2, 4, 4, 4, 4, 1, 1, new C([16, 32]), dg);
      expect(Array.from(dg)).toEqual([...new Array(16).fill(1), ...new Array(16).fill(2)]);
    });

    it('NaNs anywhere: the first NaN of each window wins (value and argmax), else the first maximum', () => {
      let seed = 40;
      for (const g of configs) {
        const [N, Ch, H, W] = g, [OH, OW] = outSize(g);
        const x = randomArray(C, N * Ch * H * W, seed++);
        for (let i = 0; i < x.length; i++) if ((i * 7919) % 11 === 3) x[i] = NaN;
        for (let i = 1; i < x.length; i += 5) x[i] = Math.round(x[i]);
        const y = new C(N * Ch * OH * OW), arg = new Int32Array(y.length);
        getBackend().maxPool2dForward(...g, x, y, arg);
        const earg = new Int32Array(y.length);
        let nans = 0;
        eachWindow(g, (yi, xs) => {
          let best = xs[0];
          for (const i of xs) {
            if (Number.isNaN(x[best])) break;
            if (Number.isNaN(x[i]) || x[i] > x[best]) best = i;
          }
          earg[yi] = best % (H * W);
          if (Number.isNaN(x[best])) nans++;
        });
        expect(Array.from(arg)).toEqual(Array.from(earg));
        for (let i = 0; i < y.length; i++) expect(Object.is(y[i], x[Math.floor(i / (OH * OW)) * H * W + arg[i]])).toBe(true);
        expect(nans).toBeGreaterThan(0);
      }
    });

    it('a NaN in a window propagates to the output', () => {
      const x = new C([1, NaN, 3, 2]), y = new C(1), arg = new Int32Array(1);
      getBackend().maxPool2dForward(1, 1, 2, 2, 2, 2, 1, 1, x, y, arg);
      expect(Number.isNaN(y[0])).toBe(true);
      expect(arg[0]).toBe(1);
    });
  });
});

describe.skipIf(nativeIsas.length === 0).each(nativeIsas)('pooling threads on $label', (bc) => {
  beforeEach(() => useBackend(bc));

  it.each(dtypes)('1 and 2 threads give bitwise-identical results (%s)', (_n, C) => {
    const g: Geo = [64, 16, 28, 28, 3, 3, 2, 2], [OH, OW] = outSize(g);
    const x = randomArray(C, 64 * 16 * 28 * 28, 5), dy = randomArray(C, 64 * 16 * OH * OW, 6);
    const run = (t: number): FloatArray[] => withThreads(t, () => {
      const y = new C(dy.length), arg = new Int32Array(dy.length), dx = new C(x.length);
      const ya = new C(dy.length), dxa = new C(x.length);
      getBackend().maxPool2dForward(...g, x, y, arg);
      getBackend().maxPool2dBackward(...g, dy, arg, dx);
      getBackend().avgPool2dForward(...g, x, ya);
      getBackend().avgPool2dBackward(...g, dy, dxa);
      return [y, dx, ya, dxa];
    });
    const one = run(1), two = run(2);
    one.forEach((a, i) => expectBitwiseEqual(a, two[i]));
  });
});
