// Kernel values at the corners the reference grid does not reach, and outputs longer than a kernel's sizes: every
// backend, float32 and float64. Written against the surviving mutants of src/backend/ts (test/MUTATION.md).
import { beforeEach, describe, expect, it } from 'vitest';
import { getBackend } from '../src/backend/index';
import type { FloatArray } from '../src/tensor';
import { backends, dtypes, expectClose, randomArray, tolerance, useBackend } from './helpers';
import * as ref from './reference';

const tail = [-1.5, 2.5, -3];

describe.each(backends)('kernel corners on $label', (bc) => {
  beforeEach(() => useBackend(bc));

  describe.each(dtypes)('%s', (_name, C) => {
    const longer = (a: ArrayLike<number>) => new C([...Array.from(a), ...tail]);
    const keepsTail = (a: FloatArray, n: number) => expect(Array.from(a.subarray(n))).toEqual(tail);

    it('element-wise operations, scale, axpy, powerBackward and argmaxRows write only their first n of longer arrays', () => {
      const k = getBackend(), n = 7;
      const a = randomArray(C, n, 1, 0.5, 2), b = randomArray(C, n, 2, -2, 2);
      const binary = [
        ['mul', (p: number, q: number) => p * q], ['add', (p: number, q: number) => p + q],
        ['div', (p: number, q: number) => p / q], ['power', (p: number, q: number) => p ** q],
      ] as const;
      for (const [op, f] of binary) {
        const y = longer(new Array(n).fill(NaN));
        k[op](n, longer(a), longer(b), y);
        expectClose(y.subarray(0, n), Float64Array.from(a, (v, i) => f(v, b[i])), 1e-6);
        keepsTail(y, n);
      }
      const dx = longer(new Array(n).fill(NaN)), de = longer(new Array(n).fill(NaN)), dy = randomArray(C, n, 3);
      k.powerBackward(n, longer(a), longer(b), longer(dy), dx, de);
      const [dxWant, deWant] = ref.powerBackward(a, b, dy);
      expectClose(dx.subarray(0, n), dxWant, 1e-6);
      expectClose(de.subarray(0, n), deWant, 1e-6);
      keepsTail(dx, n);
      keepsTail(de, n);
      const s = longer(a);
      k.scale(n, s, -1.5);
      expectClose(s.subarray(0, n), Float64Array.from(a, (v) => -1.5 * v), tolerance(C));
      keepsTail(s, n);
      const y = longer(b);
      k.axpy(n, 0.75, longer(a), y);
      expectClose(y.subarray(0, n), Float64Array.from(b, (v, i) => v + 0.75 * a[i]), tolerance(C));
      keepsTail(y, n);
      // 2 rows of 3 and one more row past them, whose maximum is not its first element
      const out = Int32Array.from([-7, -7, -7, 8, -9]);
      k.argmaxRows(2, 3, new C([1, 3, 2, 5, 4, 6, 0, 9, 1]), out);
      expect(Array.from(out)).toEqual([1, 2, -7, 8, -9]);
    });

    it('pooling forward and backward write only their outputs of arrays a whole plane longer', () => {
      // the extra plane of every input holds valid values (argmax indices in range), so that a loop running one
      // plane, row or column too far finds something to write
      const k = getBackend(), [N, Ch, H, W, KH, KW, sh, sw] = [2, 3, 5, 7, 3, 2, 2, 2];
      const OH = 2, OW = 3, planes = N * Ch, n = planes * H * W, m = planes * OH * OW;
      const x = randomArray(C, n + H * W, 1), dy = randomArray(C, m + OH * OW, 2);
      // an output of len elements (NaN: each must be written) and `more` sevens after them
      const output = (len: number, more: number) => new C(len + more).fill(NaN).fill(7, len);
      const sevens = (len: number) => new Array(len).fill(7);

      const y = output(m, OH * OW), arg = new Int32Array(m + OH * OW).fill(5);
      k.maxPool2dForward(N, Ch, H, W, KH, KW, sh, sw, x, y, arg);
      const [yWant, argWant] = ref.maxPool2dForward(N, Ch, H, W, KH, KW, sh, sw, x.subarray(0, n));
      expect(Array.from(y.subarray(0, m))).toEqual(Array.from(yWant));
      expect(Array.from(arg.subarray(0, m))).toEqual(Array.from(argWant));
      expect(Array.from(y.subarray(m))).toEqual(sevens(OH * OW));
      expect(Array.from(arg.subarray(m))).toEqual(new Array(OH * OW).fill(5));

      const dx = output(n, H * W);
      k.maxPool2dBackward(N, Ch, H, W, KH, KW, sh, sw, dy, arg, dx);
      expectClose(dx.subarray(0, n), ref.maxPool2dBackward(N, Ch, H, W, OH, OW, dy.subarray(0, m),
        arg.subarray(0, m)), tolerance(C));
      expect(Array.from(dx.subarray(n))).toEqual(sevens(H * W));

      const ya = output(m, OH * OW);
      k.avgPool2dForward(N, Ch, H, W, KH, KW, sh, sw, x, ya);
      expectClose(ya.subarray(0, m), ref.avgPool2dForward(N, Ch, H, W, KH, KW, sh, sw, x.subarray(0, n)),
        tolerance(C, 6));
      expect(Array.from(ya.subarray(m))).toEqual(sevens(OH * OW));

      const dxa = output(n, H * W);
      k.avgPool2dBackward(N, Ch, H, W, KH, KW, sh, sw, dy, dxa);
      expectClose(dxa.subarray(0, n), ref.avgPool2dBackward(N, Ch, H, W, KH, KW, sh, sw, dy.subarray(0, m)),
        tolerance(C, 6));
      expect(Array.from(dxa.subarray(n))).toEqual(sevens(H * W));
    });

    it('translate2d by every shift of up to 2 pixels each way, in place and not, writes only y of an array a plane longer', () => {
      // 25 samples of 2 channels: shifts inside the image in every direction and 0, so that every branch copies rows
      const N = 25, Ch = 2, H = 4, W = 5, n = N * Ch * H * W;
      const shiftH = Int32Array.from({ length: N }, (_, i) => Math.floor(i / 5) - 2);
      const shiftW = Int32Array.from({ length: N }, (_, i) => (i % 5) - 2);
      const x = randomArray(C, n + H * W, 1, 1, 2);
      const want = ref.translate2d(N, Ch, H, W, x.subarray(0, n), shiftH, shiftW);
      const y = new C(n + H * W).fill(NaN).fill(7, n), inPlace = C.from(x);
      getBackend().translate2d(N, Ch, H, W, x, shiftH, shiftW, y);
      getBackend().translate2d(N, Ch, H, W, inPlace, shiftH, shiftW, inPlace);
      expect(Array.from(y.subarray(0, n))).toEqual(Array.from(C.from(want)));
      expect(Array.from(inPlace.subarray(0, n))).toEqual(Array.from(C.from(want)));
      expect(Array.from(y.subarray(n))).toEqual(new Array(H * W).fill(7));
      expect(Array.from(inPlace.subarray(n))).toEqual(Array.from(x.subarray(n)));
    });

    it('flip2d copies the unflagged samples into another y and mirrors the others, writing only y of a longer array', () => {
      for (const W of [4, 5]) {
        const N = 4, Ch = 2, H = 3, n = N * Ch * H * W, flags = Int32Array.from([0, 1, 0, -3]);
        const x = randomArray(C, n + H * W, W, 1, 2), y = new C(n + H * W).fill(NaN).fill(7, n);
        getBackend().flip2d(N, Ch, H, W, x, flags, y);
        const want = ref.flip2d(N, Ch, H, W, x.subarray(0, n), flags);
        expect(Array.from(y.subarray(0, n))).toEqual(Array.from(C.from(want)));
        expect(Array.from(y.subarray(n))).toEqual(new Array(H * W).fill(7));
      }
    });

    it('affine2d gives 0 a pixel outside without reading the pixel inside (Infinity there) and writes only y', () => {
      // four samples moved by exactly one pixel: sx = w - 1, w + 1, sy = h - 1, h + 1; x[0, 0] of each plane is
      // Infinity, which a tap of weight 0 at sx = -1 or sy = -1 would turn into NaN; at sx = W or sy = H a tap
      // past the edge would read the next row or plane
      const N = 4, Ch = 2, H = 3, W = 4, n = N * Ch * H * W;
      const rows = [[1, 1, 1, 1], [0, 0, 0, 0], [-1, 1, 0, 0], [0, 0, 0, 0], [1, 1, 1, 1], [0, 0, -1, 1]];
      const m = rows.map((r) => new C(r));
      const x = randomArray(C, n + H * W, 2, 1, 2);
      for (let p = 0; p < N * Ch; p++) x[p * H * W] = Infinity;
      const y = new C(n + H * W).fill(NaN).fill(7, n);
      getBackend().affine2d(N, Ch, H, W, x, m[0], m[1], m[2], m[3], m[4], m[5], y);
      const want = C.from(ref.affine2d(N, Ch, H, W, x.subarray(0, n), m));
      expect(Array.from(y.subarray(0, n))).toEqual(Array.from(want));
      // moved right by one: y[0, 0] = 0 (sx = -1) and y[0, 1] = x[0, 0]; moved down by one alike (sample 2)
      expect([y[0], y[1], y[2 * Ch * H * W], y[2 * Ch * H * W + W]]).toEqual([0, Infinity, 0, Infinity]);
      expect(Array.from(y.subarray(n))).toEqual(new Array(H * W).fill(7));
    });

    it('augmentation of empty planes the other way round (H > 0 = W for translate2d) with a huge N * C returns at once', () => {
      // augment.spec.ts has H = 0 for translate2d and W = 0 for flip2d and affine2d; a kernel that looped over the
      // 6e9 planes (and their rows) instead would not return for minutes: the test fails by its timeout
      const e = new C(0), big = 2 ** 31 - 1, shifts = new Int32Array(3), m = new C(3);
      getBackend().translate2d(3, big, 5, 0, e, shifts, shifts, e);
      getBackend().flip2d(3, big, 0, 5, e, shifts, e);
      getBackend().affine2d(3, big, 0, 1, e, m, m, m, m, m, m, e);
      getBackend().normalizeChannels(big, 3, 0, e, m, new C(3).fill(1), e);
      expect(e.length).toBe(0);
    }, 20_000);

    it('normalizeChannels writes only y of an array a plane longer', () => {
      const N = 3, Ch = 2, S = 5, n = N * Ch * S, x = randomArray(C, n + S, 3), mean = new C([0.5, -1]);
      const std = new C([2, 0.25]), y = new C(n + S).fill(NaN).fill(7, n);
      getBackend().normalizeChannels(N, Ch, S, x, mean, std, y);
      expectClose(y.subarray(0, n), ref.normalizeChannels(N, Ch, S, x.subarray(0, n), mean, std), tolerance(C));
      expect(Array.from(y.subarray(n))).toEqual(new Array(S).fill(7));
    });

    it('powerBackward at x = 0: e = 0 gives dx = de = 0, e < 0 infinities, 0 < e < 1 an infinite dx and de = 0', () => {
      const x = new C([0, 0, 0, 0, 2, 2]), e = new C([0, 0, -1, 0.5, 0, 0]), dy = new C([1.5, -2, 3, 1, -1, 1]);
      const dx = new C(6).fill(NaN), de = new C(6).fill(NaN);
      getBackend().powerBackward(6, x, e, dy, dx, de);
      // x^(e - 1) at x = 0 is Infinity for e < 1, but e = 0 makes dx 0; ln 0 = -Infinity, but e >= 0 makes de 0
      expect(Array.from(dx)).toEqual([0, 0, -Infinity, Infinity, 0, 0]);
      expect(Array.from(de.subarray(0, 4))).toEqual([0, 0, -Infinity, 0]);
      expectClose(de.subarray(4), [-Math.log(2), Math.log(2)], tolerance(C));
      // a +0, never the -0 of dy · 0 · x^(e - 1) with dy < 0
      expect(Object.is(dx[1], 0) && Object.is(dx[4], 0)).toBe(true);
    });
  });
});
