// Conv kernels on every backend against a naive direct 7-loop float64 reference, golden values computed by hand,
// and bitwise independence of the thread count.
import { beforeEach, describe, expect, it } from 'vitest';
import { getBackend } from '../src/backend/index';
import type { FloatArray } from '../src/tensor';
import {
  type BackendCase, backends, dtypes, expectBitwiseEqual, expectClose, nativeIsas, randomArray, tolerance, useBackend,
  withThreads,
} from './helpers';

interface Geo { N: number; C: number; H: number; W: number; F: number; KH: number; KW: number;
  sh: number; sw: number; ph: number; pw: number }

const outSize = (g: Geo) => [Math.floor((g.H + 2 * g.ph - g.KH) / g.sh) + 1, Math.floor((g.W + 2 * g.pw - g.KW) / g.sw) + 1];

/** Visits every (n, f, oh, ow, c, kh, kw) whose input pixel lies inside x, with the flat indices involved. */
function eachTap(g: Geo, visit: (yi: number, xi: number, wi: number, f: number) => void): void {
  const [OH, OW] = outSize(g);
  for (let n = 0; n < g.N; n++) for (let f = 0; f < g.F; f++) for (let oh = 0; oh < OH; oh++) {
    for (let ow = 0; ow < OW; ow++) for (let c = 0; c < g.C; c++) for (let kh = 0; kh < g.KH; kh++) {
      for (let kw = 0; kw < g.KW; kw++) {
        const ih = oh * g.sh - g.ph + kh, iw = ow * g.sw - g.pw + kw;
        if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;
        visit(((n * g.F + f) * OH + oh) * OW + ow, ((n * g.C + c) * g.H + ih) * g.W + iw,
          ((f * g.C + c) * g.KH + kh) * g.KW + kw, f);
      }
    }
  }
}

function refForward(g: Geo, x: FloatArray, w: FloatArray, b: FloatArray | null): Float64Array {
  const [OH, OW] = outSize(g);
  const y = new Float64Array(g.N * g.F * OH * OW);
  eachTap(g, (yi, xi, wi) => { y[yi] += x[xi] * w[wi]; });
  if (b) for (let i = 0; i < y.length; i++) y[i] += b[Math.floor(i / (OH * OW)) % g.F];
  return y;
}

function refBackwardData(g: Geo, dy: FloatArray, w: FloatArray): Float64Array {
  const dx = new Float64Array(g.N * g.C * g.H * g.W);
  eachTap(g, (yi, xi, wi) => { dx[xi] += dy[yi] * w[wi]; });
  return dx;
}

function refBackwardFilter(g: Geo, x: FloatArray, dy: FloatArray): [Float64Array, Float64Array] {
  const dw = new Float64Array(g.F * g.C * g.KH * g.KW), db = new Float64Array(g.F);
  eachTap(g, (yi, xi, wi) => { dw[wi] += dy[yi] * x[xi]; });
  const [OH, OW] = outSize(g);
  for (let i = 0; i < dy.length; i++) db[Math.floor(i / (OH * OW)) % g.F] += dy[i];
  return [dw, db];
}

/** 2x2 max pooling with stride 2 over `planes` planes of OH x OW (odd edges dropped); NaN wins, as in max(). */
function refMaxPool2x2(src: number[], planes: number, OH: number, OW: number): number[] {
  const QH = Math.floor(OH / 2), QW = Math.floor(OW / 2), out: number[] = [];
  for (let p = 0; p < planes; p++) for (let i = 0; i < QH; i++) for (let j = 0; j < QW; j++) {
    const at = (di: number, dj: number) => src[(p * OH + 2 * i + di) * OW + 2 * j + dj];
    const window = [at(0, 0), at(0, 1), at(1, 0), at(1, 1)];
    out.push(window.some(Number.isNaN) ? NaN : Math.max(...window));
  }
  return out;
}

const args = (g: Geo) => [g.N, g.C, g.H, g.W, g.F, g.KH, g.KW, g.sh, g.sw, g.ph, g.pw] as const;

/** stride 1/2 x padding 0/1/2 x kernel 1/3/5, over shapes with H != W, batch 1 and 4, channels 1 and 3. */
const configs: Geo[] = (() => {
  const shapes = [[1, 1, 3, 7, 9], [4, 3, 1, 6, 5], [1, 3, 3, 9, 6], [4, 1, 3, 5, 8]];
  const list: Geo[] = [];
  let i = 0;
  for (const k of [1, 3, 5]) for (const s of [1, 2]) for (const p of [0, 1, 2]) {
    const [N, C, F, H, W] = shapes[i++ % shapes.length];
    list.push({ N, C, F, H, W, KH: k, KW: k, sh: s, sw: s, ph: p, pw: p });
  }
  // per-axis kernel, stride and padding; a kernel as large as the padded input; 1x1 on the fast path
  list.push({ N: 2, C: 3, F: 2, H: 6, W: 7, KH: 3, KW: 1, sh: 1, sw: 2, ph: 2, pw: 0 });
  list.push({ N: 2, C: 2, F: 3, H: 3, W: 4, KH: 5, KW: 6, sh: 2, sw: 3, ph: 1, pw: 1 });
  list.push({ N: 3, C: 5, F: 4, H: 4, W: 6, KH: 1, KW: 1, sh: 1, sw: 1, ph: 0, pw: 0 });
  list.push({ N: 1, C: 2, F: 2, H: 1, W: 11, KH: 1, KW: 3, sh: 1, sw: 2, ph: 0, pw: 1 });
  // the native products switch on the inner size (16 and below: unpacked): cover both sides of the switch
  list.push({ N: 2, C: 2, F: 20, H: 5, W: 6, KH: 3, KW: 3, sh: 1, sw: 1, ph: 1, pw: 1 });
  list.push({ N: 2, C: 1, F: 17, H: 6, W: 5, KH: 4, KW: 4, sh: 2, sw: 1, ph: 2, pw: 0 });
  list.push({ N: 2, C: 17, F: 16, H: 3, W: 7, KH: 1, KW: 1, sh: 1, sw: 1, ph: 0, pw: 0 });
  // native/conv.cc's direct convolution (stride 1 along the width, C KH KW > 16): row widths around its pixel
  // tiles (14 and 28 on AVX-512, 6 and 12 otherwise, then 7, 4, 2, 1), filters around whole vectors, a row stride
  // of 2, batch 1, and C KH KW above the GEMM's K block of 256 (summed in blocks as the GEMM sums it); a tiny
  // C KH KW with a vector of filters or more, and no input channels at all (the bias alone)
  list.push({ N: 1, C: 3, F: 33, H: 5, W: 17, KH: 3, KW: 3, sh: 1, sw: 1, ph: 1, pw: 1 });
  list.push({ N: 2, C: 2, F: 9, H: 4, W: 31, KH: 3, KW: 3, sh: 1, sw: 1, ph: 1, pw: 1 });
  list.push({ N: 2, C: 4, F: 16, H: 7, W: 13, KH: 2, KW: 5, sh: 2, sw: 1, ph: 0, pw: 2 });
  list.push({ N: 1, C: 29, F: 18, H: 3, W: 5, KH: 3, KW: 3, sh: 1, sw: 1, ph: 1, pw: 1 });
  list.push({ N: 2, C: 1, F: 16, H: 6, W: 29, KH: 3, KW: 3, sh: 1, sw: 1, ph: 1, pw: 1 });
  list.push({ N: 2, C: 0, F: 16, H: 3, W: 4, KH: 3, KW: 3, sh: 1, sw: 1, ph: 1, pw: 1 });
  // more filters than native/conv.cc transposes through gathers (4096): the direct product
  list.push({ N: 2, C: 2, F: 4097, H: 3, W: 2, KH: 3, KW: 3, sh: 1, sw: 1, ph: 1, pw: 1 });
  return list;
})();

describe.each(backends)('conv kernels on $label', (bc) => {
  beforeEach(() => useBackend(bc));

  describe.each(dtypes)('%s', (_name, C) => {
    it('forward, backward-data and backward-filter match the 7-loop reference', () => {
      let seed = 100;
      for (const g of configs) {
        const [OH, OW] = outSize(g);
        const x = randomArray(C, g.N * g.C * g.H * g.W, seed++), w = randomArray(C, g.F * g.C * g.KH * g.KW, seed++);
        const b = randomArray(C, g.F, seed++), dy = randomArray(C, g.N * g.F * OH * OW, seed++);
        const y = new C(g.N * g.F * OH * OW).fill(NaN);
        getBackend().conv2dForward(...args(g), x, w, b, y);
        expectClose(y, refForward(g, x, w, b), tolerance(C, g.C * g.KH * g.KW));
        const yNoBias = new C(y.length);
        getBackend().conv2dForward(...args(g), x, w, null, yNoBias);
        expectClose(yNoBias, refForward(g, x, w, null), tolerance(C, g.C * g.KH * g.KW));
        // the fused ReLU is exactly the ReLU of the unfused output, NaN kept (x with a NaN poisons some outputs)
        const relu = (a: FloatArray) => Array.from(a, (v) => (v < 0 ? 0 : v));
        const xNaN = x.slice(); xNaN[Math.floor(x.length / 2)] = NaN;
        for (const [xs, bias] of [[x, b], [x, null], [xNaN, b]] as const) {
          const plain = new C(y.length), fused = new C(y.length).fill(NaN);
          getBackend().conv2dForward(...args(g), xs, w, bias, plain);
          getBackend().conv2dForward(...args(g), xs, w, bias, fused, true);
          expect(Array.from(fused)).toEqual(relu(plain));
          // with the 2x2 stride-2 max pooling fused too: exactly MaxPool2D(2) of those outputs
          if (OH < 2 || OW < 2) continue;
          for (const withRelu of [false, true]) {
            const src = withRelu ? relu(plain) : Array.from(plain);
            const want = refMaxPool2x2(src, g.N * g.F, OH, OW);
            const pooled = new C(want.length).fill(NaN);
            getBackend().conv2dForward(...args(g), xs, w, bias, pooled, withRelu, true);
            expect(Array.from(pooled)).toEqual(want);
          }
        }

        const dx = new C(x.length).fill(NaN);
        getBackend().conv2dBackwardData(...args(g), dy, w, dx);
        expectClose(dx, refBackwardData(g, dy, w), tolerance(C, g.F * g.KH * g.KW));

        const dw = new C(w.length).fill(0.5), db = new C(g.F).fill(-0.25);
        getBackend().conv2dBackwardFilter(...args(g), x, dy, dw, db);
        const [rw, rb] = refBackwardFilter(g, x, dy);
        expectClose(dw, rw.map((v) => v + 0.5), tolerance(C, g.N * OH * OW));
        expectClose(db, rb.map((v) => v - 0.25), tolerance(C, g.N * OH * OW));
        const dw2 = new C(w.length);
        getBackend().conv2dBackwardFilter(...args(g), x, dy, dw2, null);
        expectClose(dw2, rw, tolerance(C, g.N * OH * OW));
      }
    });

    it('golden values: a 2x2 difference kernel on 1..9', () => {
      const g: Geo = { N: 1, C: 1, H: 3, W: 3, F: 1, KH: 2, KW: 2, sh: 1, sw: 1, ph: 0, pw: 0 };
      const x = new C([1, 2, 3, 4, 5, 6, 7, 8, 9]), w = new C([1, 0, 0, -1]);
      const y = new C(4);
      getBackend().conv2dForward(...args(g), x, w, new C([0.5]), y);
      expect(Array.from(y)).toEqual([-3.5, -3.5, -3.5, -3.5]);
      const dx = new C(9);
      getBackend().conv2dBackwardData(...args(g), new C([1, 1, 1, 1]), w, dx);
      expect(Array.from(dx)).toEqual([1, 1, 0, 1, 0, -1, 0, -1, -1]);
      const dw = new C(4), db = new C(1);
      getBackend().conv2dBackwardFilter(...args(g), x, new C([1, 1, 1, 1]), dw, db);
      expect(Array.from(dw)).toEqual([12, 16, 24, 28]);
      expect(Array.from(db)).toEqual([4]);
    });

    it('golden values: a 3x3 box with stride 2 and padding 1', () => {
      const g: Geo = { N: 1, C: 1, H: 3, W: 3, F: 1, KH: 3, KW: 3, sh: 2, sw: 2, ph: 1, pw: 1 };
      const x = new C([1, 2, 3, 4, 5, 6, 7, 8, 9]), w = new C(9).fill(1);
      const y = new C(4);
      getBackend().conv2dForward(...args(g), x, w, null, y);
      expect(Array.from(y)).toEqual([12, 16, 24, 28]);
      // each input pixel is counted once per window that covers it
      const dx = new C(9);
      getBackend().conv2dBackwardData(...args(g), new C([1, 1, 1, 1]), w, dx);
      expect(Array.from(dx)).toEqual([1, 2, 1, 2, 4, 2, 1, 2, 1]);
      // two channels in, two filters out: filter f sums channel f, scaled by f + 1
      const g2: Geo = { ...g, C: 2, F: 2, KH: 1, KW: 1, sh: 1, sw: 1, ph: 0, pw: 0 };
      const x2 = new C([...x, ...x.map((v) => -v)]), y2 = new C(18);
      getBackend().conv2dForward(...args(g2), x2, new C([1, 0, 0, 2]), new C([0, 1]), y2);
      expect(Array.from(y2)).toEqual([...x, ...x.map((v) => 1 - 2 * v)]);
    });

    it('an empty batch writes nothing; zero filters give an empty output and a zero dx', () => {
      // Outputs are zero-length views into a sentinel-filled buffer: a write past a view would show.
      const view = (n: number) => {
        const buf = new C(n + 8).fill(7);
        return { all: buf, out: buf.subarray(4, 4 + n) };
      };
      const untouched = (a: FloatArray) => expect(Array.from(a).every((v) => v === 7)).toBe(true);
      const g: Geo = { N: 0, C: 2, H: 4, W: 4, F: 3, KH: 3, KW: 3, sh: 1, sw: 1, ph: 1, pw: 1 };
      const y = view(0), dx = view(0);
      getBackend().conv2dForward(...args(g), new C(0), new C(54), new C(3), y.out);
      getBackend().conv2dForward(...args(g), new C(0), new C(54), null, y.out, true, true);
      getBackend().conv2dBackwardData(...args(g), new C(0), new C(54), dx.out);
      untouched(y.all);
      untouched(dx.all);
      // backward-filter accumulates: no samples add nothing, to the weights' and the bias' gradients
      const dw = new C(54).fill(1), db = new C(3).fill(-2);
      getBackend().conv2dBackwardFilter(...args(g), new C(0), new C(0), dw, db);
      expect(Array.from(dw)).toEqual(new Array(54).fill(1));
      expect(Array.from(db)).toEqual([-2, -2, -2]);

      const f0: Geo = { ...g, N: 2, F: 0 };
      const x = randomArray(C, 2 * 2 * 16, 5);
      const y0 = view(0);
      getBackend().conv2dForward(...args(f0), x, new C(0), new C(0), y0.out);
      untouched(y0.all);
      // no filter reaches the input: its gradient is zero (written, not left as it was)
      const dx0 = new C(x.length).fill(NaN);
      getBackend().conv2dBackwardData(...args(f0), new C(0), new C(0), dx0);
      expect(Array.from(dx0)).toEqual(new Array(x.length).fill(0));
      const dw0 = view(0), db0 = view(0);
      getBackend().conv2dBackwardFilter(...args(f0), x, new C(0), dw0.out, db0.out);
      untouched(dw0.all);
      untouched(db0.all);
    });

    it('outputs longer than needed keep their tail (forward with ReLU and pooling, backward data and filter)', () => {
      // The checks allow longer outputs; the tail holds negative values, which a ReLU one element too far would zero.
      const g: Geo = { N: 2, C: 2, H: 5, W: 4, F: 3, KH: 3, KW: 2, sh: 1, sw: 1, ph: 1, pw: 0 };
      const [OH, OW] = outSize(g);
      const x = randomArray(C, g.N * g.C * g.H * g.W, 1), w = randomArray(C, g.F * g.C * g.KH * g.KW, 2);
      const b = randomArray(C, g.F, 3), dy = randomArray(C, g.N * g.F * OH * OW, 4);
      const tail = [-1, -2.5, -3];
      const longer = (n: number, fill: number) => new C([...new Array(n).fill(fill), ...tail]);
      const plain = refForward(g, x, w, b);
      for (const [relu, pool] of [[false, false], [true, false], [false, true], [true, true]]) {
        const act = relu ? plain.map((v) => (v < 0 ? 0 : v)) : plain;
        const want = pool ? refMaxPool2x2(Array.from(act), g.N * g.F, OH, OW) : Array.from(act);
        const y = longer(want.length, NaN);
        getBackend().conv2dForward(...args(g), x, w, b, y, relu, pool);
        expectClose(y.subarray(0, want.length), want, tolerance(C, g.C * g.KH * g.KW));
        expect(Array.from(y.subarray(want.length))).toEqual(tail);
      }
      const dx = longer(x.length, NaN);
      getBackend().conv2dBackwardData(...args(g), dy, w, dx);
      expectClose(dx.subarray(0, x.length), refBackwardData(g, dy, w), tolerance(C, g.F * g.KH * g.KW));
      expect(Array.from(dx.subarray(x.length))).toEqual(tail);
      const dw = longer(w.length, 0), db = longer(g.F, 0);
      getBackend().conv2dBackwardFilter(...args(g), x, dy, dw, db);
      const [rw, rb] = refBackwardFilter(g, x, dy);
      expectClose(dw.subarray(0, w.length), rw, tolerance(C, g.N * OH * OW));
      expectClose(db.subarray(0, g.F), rb, tolerance(C, g.N * OH * OW));
      expect([...dw.subarray(w.length), ...db.subarray(g.F)]).toEqual([...tail, ...tail]);
    });

    it('an empty output of a huge image allocates nothing the size of the image', () => {
      // The checks allow planes of up to 2^31 x 2^31 when no array holds one (no image, no channel, or an output
      // pooled away); a scratch plane of that size cannot be allocated, so a kernel that made one would throw.
      const big = 2 ** 20;
      const y = new C(3).fill(7), dx = new C(3).fill(7);
      const keep = (a: FloatArray) => expect(Array.from(a)).toEqual([7, 7, 7]);
      // no image
      getBackend().conv2dForward(0, 1, big, big, 1, 1, 1, 1, 1, 0, 0, new C(0), new C(1), null, y.subarray(0, 0));
      getBackend().conv2dBackwardData(0, 1, big, big, 1, 1, 1, 1, 1, 0, 0, new C(0), new C(1), dx.subarray(0, 0));
      // no filter, no input channel
      getBackend().conv2dForward(1, 0, big, big, 0, 1, 1, 1, 1, 0, 0, new C(0), new C(0), null, y.subarray(0, 0));
      getBackend().conv2dBackwardData(1, 0, big, big, 0, 1, 1, 1, 1, 0, 0, new C(0), new C(0), dx.subarray(0, 0));
      // one output row, or one output column, pooled away by the fused 2x2 pooling (y has floor(1 / 2) = 0 of them)
      getBackend().conv2dForward(big, 0, 1, 2 ** 30, 2 ** 10, 1, 1, 1, 1, 0, 0, new C(0), new C(0), null,
        y.subarray(0, 0), false, true);
      getBackend().conv2dForward(2 ** 11, 0, 2 ** 31 - 1, 1, 2 ** 11, 1, 1, 1, 1, 0, 0, new C(0), new C(0), null,
        y.subarray(0, 0), false, true);
      keep(y);
      keep(dx);
    });
  });
});

describe.skipIf(nativeIsas.length === 0).each(nativeIsas)('conv threads on $label', (bc) => {
  beforeEach(() => useBackend(bc));

  it.each(dtypes)('1 and 2 threads give bitwise-identical results (%s)', (_n, C) => {
    for (const g of [
      { N: 64, C: 16, F: 32, H: 14, W: 14, KH: 3, KW: 3, sh: 1, sw: 1, ph: 1, pw: 1 },
      { N: 17, C: 3, F: 5, H: 12, W: 9, KH: 5, KW: 3, sh: 2, sw: 1, ph: 2, pw: 1 },
      { N: 1, C: 8, F: 300, H: 20, W: 20, KH: 3, KW: 3, sh: 1, sw: 1, ph: 0, pw: 0 },
      { N: 40, C: 8, F: 8, H: 10, W: 10, KH: 1, KW: 1, sh: 1, sw: 1, ph: 0, pw: 0 },
      // one large image: the direct convolution, backward-data's transposed convolution and backward-filter's
      // implicit im2col on one thread, the GEMM (K = 270: two K blocks; F = 300 in backward-data) or the unpacked
      // product (K = 9) over the threads
      { N: 1, C: 30, F: 33, H: 17, W: 17, KH: 3, KW: 3, sh: 1, sw: 1, ph: 1, pw: 1 },
      { N: 1, C: 1, F: 16, H: 120, W: 120, KH: 3, KW: 3, sh: 1, sw: 1, ph: 1, pw: 1 },
      // K = 144 in one block, 3 wide: AVX-512's three-tap tiles (7 x 2 and 14 x 1 vectors, then 4 and 1 pixels)
      // on one thread, the GEMM over two
      { N: 1, C: 16, F: 33, H: 20, W: 19, KH: 3, KW: 3, sh: 1, sw: 1, ph: 1, pw: 1 },
    ] as Geo[]) {
      const [OH, OW] = outSize(g);
      const x = randomArray(C, g.N * g.C * g.H * g.W, 1), w = randomArray(C, g.F * g.C * g.KH * g.KW, 2);
      const b = randomArray(C, g.F, 3), dy = randomArray(C, g.N * g.F * OH * OW, 4);
      const run = (t: number) => withThreads(t, () => {
        const y = new C(dy.length), dx = new C(x.length), dw = new C(w.length), db = new C(g.F);
        getBackend().conv2dForward(...args(g), x, w, b, y);
        getBackend().conv2dBackwardData(...args(g), dy, w, dx);
        getBackend().conv2dBackwardFilter(...args(g), x, dy, dw, db);
        const Q = Math.floor(OH / 2) * Math.floor(OW / 2) * g.N * g.F;
        const yq = new C(Q), yr = new C(Q), arg = new Int32Array(Q);
        getBackend().conv2dForward(...args(g), x, w, b, yr, true, true);
        getBackend().conv2dPoolForward(...args(g), x, w, b, yq, arg);
        return [y, dx, dw, db, yr, yq, new Float32Array(arg.buffer)];
      });
      const one = run(1), two = run(2), three = run(3);
      one.forEach((a, i) => { expectBitwiseEqual(a, two[i]); expectBitwiseEqual(a, three[i]); });
    }
  });

  // the direct convolution skips the taps that read its zero padding only where every weight is finite: 0 x Inf is a
  // NaN in the GEMM's sums (two threads, one image), which the direct ones (one thread) must give too
  it.each(dtypes)('an infinite weight makes the padding taps NaN on 1 and 2 threads alike (%s)', (_n, C) => {
    const g: Geo = { N: 1, C: 16, F: 33, H: 20, W: 19, KH: 3, KW: 3, sh: 1, sw: 1, ph: 1, pw: 1 };
    const [OH, OW] = outSize(g);
    const x = randomArray(C, g.C * g.H * g.W, 5), w = randomArray(C, g.F * g.C * 9, 6), b = randomArray(C, g.F, 7);
    w[(3 * g.C + 2) * 9 + 0] = Infinity; // filter 3, channel 2, tap (0, 0): row 0 and column 0 read padding there
    w[(32 * g.C + 5) * 9 + 8] = -Infinity; // filter 32, channel 5, tap (2, 2): the last row and column
    const run = (t: number) => withThreads(t, () => {
      const y = new C(g.F * OH * OW);
      getBackend().conv2dForward(...args(g), x, w, b, y);
      return y;
    });
    const one = run(1);
    expect(Number.isNaN(one[3 * OH * OW])).toBe(true);
    expect(Number.isNaN(one[33 * OH * OW - 1])).toBe(true);
    expectBitwiseEqual(one, run(2));
  });

  // AVX-512's three-tap tiles skip a row whose pixels they read are all zeros (+-0) where every weight is finite (a
  // ReLU's pooled output, an image's background): rows of zeros, of -0, of zeros but one pixel (at every column of
  // the row, so at every lane of every tile's span), and half zeros, on one thread; the GEMM (K = 144) or the
  // unpacked product (K = 9, pooled 16 filters) over two sums every zero. With an infinite weight nothing is skipped
  // (0 x Inf = NaN).
  it.each(dtypes)('rows of zeros give the bits of the products that sum them, on 1 and 2 threads (%s)', (_n, C) => {
    for (const g of [
      { N: 1, C: 16, F: 33, H: 20, W: 19, KH: 3, KW: 3, sh: 1, sw: 1, ph: 1, pw: 1 },
      { N: 1, C: 1, F: 16, H: 120, W: 120, KH: 3, KW: 3, sh: 1, sw: 1, ph: 1, pw: 1 },
    ] as Geo[]) {
      const [OH, OW] = outSize(g);
      const x = randomArray(C, g.C * g.H * g.W, 8), w = randomArray(C, g.F * g.C * 9, 9), b = randomArray(C, g.F, 10);
      for (let r = 0; r < g.C * g.H; r++) {
        const row = x.subarray(r * g.W, (r + 1) * g.W), kind = r % 5;
        if (kind === 4) continue;  // random
        const keep = kind === 3 ? (r * 7) % g.W : -1, v = keep >= 0 ? row[keep] : 0;
        row.fill(kind === 1 ? -0 : 0);
        if (keep >= 0) row[keep] = v;
        if (kind === 2) row.fill(0.5, Math.floor(g.W / 2));  // the left half zeros
      }
      const run = (t: number, wt: FloatArray) => withThreads(t, () => {
        const y = new C(g.F * OH * OW), yq = new C(g.F * Math.floor(OH / 2) * Math.floor(OW / 2));
        getBackend().conv2dForward(...args(g), x, wt, b, y);
        getBackend().conv2dForward(...args(g), x, wt, b, yq, true, true);
        return [y, yq];
      });
      const one = run(1, w), two = run(2, w);
      one.forEach((a, i) => expectBitwiseEqual(a, two[i]));
      const inf = w.slice();
      inf[0] = Infinity;  // filter 0, channel 0, tap (0, 0)
      const oneInf = run(1, inf), twoInf = run(2, inf);
      expect(oneInf[0].subarray(0, OH * OW).some((v) => Number.isNaN(v))).toBe(true);
      oneInf.forEach((a, i) => expectBitwiseEqual(a, twoInf[i]));
    }
  });
});

/** Visits every im2col entry (c, kh, kw) x (oh, ow) whose input pixel lies inside the image, in that order. */
function eachColEntry(g: Geo, visit: (colIndex: number, pixelIndex: number) => void): void {
  const [OH, OW] = outSize(g), P = OH * OW;
  for (let c = 0; c < g.C; c++) for (let kh = 0; kh < g.KH; kh++) for (let kw = 0; kw < g.KW; kw++) {
    for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) {
      const ih = oh * g.sh - g.ph + kh, iw = ow * g.sw - g.pw + kw;
      if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;
      visit(((c * g.KH + kh) * g.KW + kw) * P + oh * OW + ow, (c * g.H + ih) * g.W + iw);
    }
  }
}

/**
 * Backward-data as native/conv.cc's im2col path computes it: dcol (C KH KW, OH OW) = w^T dy_n by the backend's gemm,
 * then col2im, each dx element a zero plus its taps' dcol values in (kh, kw) order, rounded to the dtype.
 */
function gemmCol2im(g: Geo, C: typeof Float32Array | typeof Float64Array, dy: FloatArray, w: FloatArray): FloatArray {
  const [OH, OW] = outSize(g), P = OH * OW, CKK = g.C * g.KH * g.KW, CHW = g.C * g.H * g.W;
  const round = C === Float32Array ? Math.fround : (v: number) => v;
  const dx = new C(g.N * CHW), dcol = new C(CKK * P);
  for (let n = 0; n < g.N; n++) {
    getBackend().gemm(true, false, CKK, P, g.F, 1, w, dy.subarray(n * g.F * P, (n + 1) * g.F * P), 0, dcol);
    const dxn = dx.subarray(n * CHW, (n + 1) * CHW);
    eachColEntry(g, (ci, xi) => { dxn[xi] = round(dxn[xi] + dcol[ci]); });
  }
  return dx;
}

describe.skipIf(nativeIsas.length === 0).each(nativeIsas)('conv backward-data on $label', (bc) => {
  beforeEach(() => useBackend(bc));

  // stride 1: native/conv.cc's transposed convolution, which must keep the bits of the GEMM and col2im: strips of
  // 8, 4, 2 and 1 channels, rows in pairs and an odd last one (a tap whose dy row exists for one row of a pair
  // only), rows narrower than a vector and across one or two (AVX-512 16, AVX2 8 floats),
  // padding 0 to 3 (more than the kernel's width less one), rectangular and oversized kernels, 1x1 with padding,
  // F above the GEMM's K block of 256 and at most the unpacked product's 16; stride 2 and a 1x1 keep the old path
  const shapes: Geo[] = [
    { N: 2, C: 16, F: 32, H: 14, W: 14, KH: 3, KW: 3, sh: 1, sw: 1, ph: 1, pw: 1 },
    { N: 1, C: 19, F: 5, H: 5, W: 17, KH: 3, KW: 3, sh: 1, sw: 1, ph: 0, pw: 0 },
    { N: 2, C: 13, F: 20, H: 4, W: 15, KH: 5, KW: 5, sh: 1, sw: 1, ph: 2, pw: 2 },
    { N: 1, C: 3, F: 260, H: 3, W: 9, KH: 3, KW: 3, sh: 1, sw: 1, ph: 1, pw: 1 },
    { N: 2, C: 2, F: 7, H: 6, W: 3, KH: 2, KW: 4, sh: 1, sw: 1, ph: 0, pw: 3 },
    { N: 3, C: 5, F: 17, H: 2, W: 33, KH: 3, KW: 1, sh: 1, sw: 1, ph: 2, pw: 0 },
    { N: 1, C: 4, F: 3, H: 7, W: 5, KH: 1, KW: 1, sh: 1, sw: 1, ph: 1, pw: 1 },
    { N: 2, C: 6, F: 9, H: 2, W: 3, KH: 5, KW: 5, sh: 1, sw: 1, ph: 2, pw: 2 },
    { N: 2, C: 1, F: 16, H: 28, W: 28, KH: 3, KW: 3, sh: 1, sw: 1, ph: 1, pw: 1 },
    { N: 2, C: 3, F: 6, H: 9, W: 10, KH: 3, KW: 3, sh: 2, sw: 2, ph: 1, pw: 1 },
    { N: 2, C: 5, F: 4, H: 3, W: 4, KH: 1, KW: 1, sh: 1, sw: 1, ph: 0, pw: 0 },
  ];

  it.each(dtypes)('has the bits of the GEMM and col2im, on 1 and 2 threads, and writes only dx (%s)', (_n, C) => {
    let seed = 700;
    for (const g of shapes) {
      const [OH, OW] = outSize(g);
      const w = randomArray(C, g.F * g.C * g.KH * g.KW, seed++), dy = randomArray(C, g.N * g.F * OH * OW, seed++);
      // exact zeros in dy and w, and a -0: the sums' signs of zero are the GEMM's too
      dy[0] = 0; dy[dy.length - 1] = -0; w[1] = 0;
      const want = withThreads(1, () => gemmCol2im(g, C, dy, w));
      for (const t of [1, 2]) {
        // dx in the middle of a larger array: nothing before or after it is written
        const len = g.N * g.C * g.H * g.W, buf = new C(len + 64).fill(NaN), dx = buf.subarray(32, 32 + len);
        withThreads(t, () => getBackend().conv2dBackwardData(...args(g), dy, w, dx));
        expectBitwiseEqual(dx, want);
        expect(Array.from(buf.subarray(0, 32)).every(Number.isNaN)).toBe(true);
        expect(Array.from(buf.subarray(32 + len)).every(Number.isNaN)).toBe(true);
      }
    }
  });

  it.each(dtypes)('an infinite weight reaches only the pixels whose tap exists (%s)', (_n, C) => {
    // a tap that falls outside dy for a border pixel is skipped, as col2im skips it: Infinity * 0 is no NaN there
    const g: Geo = { N: 1, C: 1, F: 1, H: 3, W: 4, KH: 3, KW: 3, sh: 1, sw: 1, ph: 1, pw: 1 };
    const w = new C(9).fill(1); w[0] = Infinity;  // tap (0, 0): dx[ih][iw] from dy[ih + 1][iw + 1]
    const dy = new C(12).fill(1);
    const dx = new C(12);
    getBackend().conv2dBackwardData(...args(g), dy, w, dx);
    // the last row and the last column have no tap (0, 0): the count of their taps; the rest is infinite
    expect(Array.from(dx)).toEqual([Infinity, Infinity, Infinity, 4, Infinity, Infinity, Infinity, 6, 4, 6, 6, 4]);
  });
});

/**
 * Backward-filter's dweight as native/conv.cc's im2col path computes it for at most 16 images (one image per chunk):
 * per image, part (C KH KW, F) = col_n dy_n^T by the backend's gemm, then dweight[f][k] += part[k][f], image after
 * image, rounded to the dtype.
 */
function gemmIm2colFilter(g: Geo, C: typeof Float32Array | typeof Float64Array, x: FloatArray, dy: FloatArray,
  dw0: FloatArray): FloatArray {
  const [OH, OW] = outSize(g), P = OH * OW, CKK = g.C * g.KH * g.KW, CHW = g.C * g.H * g.W;
  const round = C === Float32Array ? Math.fround : (v: number) => v;
  const dw = dw0.slice(), col = new C(CKK * P), part = new C(CKK * g.F);
  for (let n = 0; n < g.N; n++) {
    col.fill(0);
    eachColEntry(g, (ci, xi) => { col[ci] = x[n * CHW + xi]; });
    getBackend().gemm(false, true, CKK, g.F, P, 1, col, dy.subarray(n * g.F * P, (n + 1) * g.F * P), 0, part);
    for (let f = 0; f < g.F; f++) {
      for (let k = 0; k < CKK; k++) dw[f * CKK + k] = round(dw[f * CKK + k] + part[k * g.F + f]);
    }
  }
  return dw;
}

describe.skipIf(nativeIsas.length === 0).each(nativeIsas)('conv backward-filter on $label', (bc) => {
  beforeEach(() => useBackend(bc));

  // stride 1 along the width, C KH KW > 16: native/conv.cc's implicit im2col, which must keep the bits of the im2col
  // matrix and the GEMM: taps in strips of 8 (6 on AVX2), 4, 2 and 1, filters around one and two vectors (17, 33,
  // 40), OH OW across the GEMM's K block of 256 (mid-row: 19 x 15 = 285), padding 0 to 2, a row stride of 2, odd
  // widths; 16 filters or fewer (the GEMM's dot products on AVX-512) and stride 2 along the width keep the old path
  const shapes: Geo[] = [
    { N: 2, C: 16, F: 32, H: 14, W: 14, KH: 3, KW: 3, sh: 1, sw: 1, ph: 1, pw: 1 },
    { N: 3, C: 3, F: 17, H: 19, W: 15, KH: 3, KW: 3, sh: 1, sw: 1, ph: 1, pw: 1 },
    { N: 1, C: 7, F: 33, H: 5, W: 9, KH: 2, KW: 3, sh: 1, sw: 1, ph: 0, pw: 2 },
    { N: 2, C: 5, F: 40, H: 9, W: 7, KH: 3, KW: 5, sh: 2, sw: 1, ph: 2, pw: 0 },
    { N: 2, C: 19, F: 20, H: 3, W: 11, KH: 1, KW: 1, sh: 1, sw: 1, ph: 1, pw: 0 },
    { N: 2, C: 4, F: 16, H: 6, W: 6, KH: 3, KW: 3, sh: 1, sw: 1, ph: 1, pw: 1 },
    { N: 2, C: 4, F: 24, H: 8, W: 9, KH: 3, KW: 3, sh: 2, sw: 2, ph: 1, pw: 1 },
  ];

  it.each(dtypes)('has the bits of the im2col matrix and the GEMM, on 1 and 2 threads (%s)', (_n, C) => {
    let seed = 900;
    for (const g of shapes) {
      const [OH, OW] = outSize(g);
      const x = randomArray(C, g.N * g.C * g.H * g.W, seed++), dy = randomArray(C, g.N * g.F * OH * OW, seed++);
      x[3] = 0; x[4] = -0; dy[1] = 0;
      const dw0 = randomArray(C, g.F * g.C * g.KH * g.KW, seed++);
      const want = withThreads(1, () => gemmIm2colFilter(g, C, x, dy, dw0));
      for (const t of [1, 2]) {
        const dw = dw0.slice(), db = new C(g.F);
        withThreads(t, () => getBackend().conv2dBackwardFilter(...args(g), x, dy, dw, db));
        expectBitwiseEqual(dw, want);
      }
    }
  });
});

describe.skipIf(nativeIsas.length === 0).each(nativeIsas)('conv kernels on $label agree with ts', (bc) => {
  it('forward, backward-data and backward-filter within float32 rounding of the TS reference', () => {
    const g: Geo = { N: 6, C: 5, F: 7, H: 13, W: 11, KH: 3, KW: 3, sh: 2, sw: 1, ph: 1, pw: 2 };
    const [OH, OW] = outSize(g);
    const x = randomArray(Float32Array, g.N * g.C * g.H * g.W, 1), w = randomArray(Float32Array, g.F * g.C * 9, 2);
    const b = randomArray(Float32Array, g.F, 3), dy = randomArray(Float32Array, g.N * g.F * OH * OW, 4);
    const run = (c: BackendCase) => {
      useBackend(c);
      const y = new Float32Array(dy.length), dx = new Float32Array(x.length), dw = new Float32Array(w.length);
      const db = new Float32Array(g.F);
      getBackend().conv2dForward(...args(g), x, w, b, y);
      getBackend().conv2dBackwardData(...args(g), dy, w, dx);
      getBackend().conv2dBackwardFilter(...args(g), x, dy, dw, db);
      return [y, dx, dw, db];
    };
    const native = run(bc), ts = run({ label: 'ts', backend: 'ts' });
    const terms = [g.C * 9, g.F * 9, g.N * OH * OW, g.N * OH * OW];
    native.forEach((a, i) => expectClose(a, ts[i], tolerance(Float32Array, terms[i])));
  });
});
