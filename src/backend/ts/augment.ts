// Image augmentation of a batch x (N, C, H, W) — the readable reference of native/augment.cc. The random parameters
// of each sample are drawn by the caller (src/data/augment.ts) and arrive as arrays. Every value is computed in the
// same order, in double, as the C++ kernels: the results are bitwise the same on both backends.
import type { FloatArray } from '../../tensor';

/** y[n, c, h, w] = x[n, c, h - shiftH[n], w - shiftW[n]], 0 outside; rows go in an order that lets y be x. */
export function translate2d(N: number, C: number, H: number, W: number, x: FloatArray, shiftH: Int32Array,
  shiftW: Int32Array, y: FloatArray): void {
  if (H * W === 0) return; // nothing to write (and N * C may be huge)
  for (let p = 0; p < N * C; p++) {
    const n = Math.floor(p / C), sh = shiftH[n], sw = shiftW[n], off = p * H * W;
    const len = W - Math.abs(sw);
    for (let i = 0; i < H; i++) {
      const h = sh > 0 ? H - 1 - i : i, from = h - sh, row = off + h * W;
      if (from < 0 || from >= H || len <= 0) {
        y.fill(0, row, row + W);
        continue;
      }
      const src = off + from * W;
      // set() copies as if through a temporary when x and y are the same array
      if (sw >= 0) {
        y.set(x.subarray(src, src + len), row + sw);
        y.fill(0, row, row + sw);
      } else {
        y.set(x.subarray(src - sw, src - sw + len), row);
        y.fill(0, row + len, row + W);
      }
    }
  }
}

/** y[n] = x[n] mirrored left to right where flags[n] is not 0, else x[n]; y may be x. */
export function flip2d(N: number, C: number, H: number, W: number, x: FloatArray, flags: Int32Array,
  y: FloatArray): void {
  if (H * W === 0) return; // nothing to write (and N * C may be huge)
  for (let p = 0; p < N * C; p++) {
    const flip = flags[Math.floor(p / C)] !== 0;
    for (let h = 0; h < H; h++) {
      const row = (p * H + h) * W;
      if (!flip) {
        if (x !== y) y.set(x.subarray(row, row + W), row);
        continue;
      }
      for (let w = 0; w < W - 1 - w; w++) {
        const l = x[row + w], r = x[row + W - 1 - w];
        y[row + w] = r;
        y[row + W - 1 - w] = l;
      }
      if (W % 2 === 1) y[row + (W - 1) / 2] = x[row + (W - 1) / 2];
    }
  }
}

/**
 * y[n, c, h, w] = x[n, c] sampled bilinearly at (sx, sy) = (m0 w + m1 h + m2, m3 w + m4 h + m5). The taps around
 * (sx, sy) weigh (1 - fy)(1 - fx), (1 - fy) fx, fy (1 - fx), fy fx, summed in that order; a tap outside the image
 * reads 0, and y is 0 where (sx, sy) lies a pixel or more outside.
 */
export function affine2d(N: number, C: number, H: number, W: number, x: FloatArray, m0: FloatArray, m1: FloatArray,
  m2: FloatArray, m3: FloatArray, m4: FloatArray, m5: FloatArray, y: FloatArray): void {
  if (H * W === 0) return; // nothing to write (and N * C may be huge)
  for (let p = 0; p < N * C; p++) {
    const n = Math.floor(p / C), off = p * H * W;
    const a = m0[n], b = m1[n], c = m2[n], d = m3[n], e = m4[n], f = m5[n];
    for (let h = 0; h < H; h++) {
      for (let w = 0; w < W; w++) {
        const sx = a * w + b * h + c;
        const sy = d * w + e * h + f;
        if (!(sx > -1 && sx < W && sy > -1 && sy < H)) {
          y[off + h * W + w] = 0;
          continue;
        }
        const x0 = Math.floor(sx), y0 = Math.floor(sy);
        const fx = sx - x0, fy = sy - y0;
        const inx0 = x0 >= 0, inx1 = x0 + 1 < W, iny0 = y0 >= 0, iny1 = y0 + 1 < H;
        const v00 = iny0 && inx0 ? x[off + y0 * W + x0] : 0;
        const v01 = iny0 && inx1 ? x[off + y0 * W + x0 + 1] : 0;
        const v10 = iny1 && inx0 ? x[off + (y0 + 1) * W + x0] : 0;
        const v11 = iny1 && inx1 ? x[off + (y0 + 1) * W + x0 + 1] : 0;
        y[off + h * W + w] = (1 - fy) * (1 - fx) * v00 + (1 - fy) * fx * v01 + fy * (1 - fx) * v10 + fy * fx * v11;
      }
    }
  }
}

/** y[n, c, s] = (x[n, c, s] - mean[c]) / std[c], in double; y may be x. */
export function normalizeChannels(N: number, C: number, S: number, x: FloatArray, mean: FloatArray, std: FloatArray,
  y: FloatArray): void {
  if (S === 0) return; // nothing to write (and N * C may be huge)
  for (let p = 0; p < N * C; p++) {
    const m = mean[p % C], s = std[p % C], off = p * S;
    for (let i = 0; i < S; i++) y[off + i] = (x[off + i] - m) / s;
  }
}
