// Max and average pooling over the (N*C) planes of an NCHW tensor, no padding — the readable reference of
// native/pool.cc. Windows KH x KW every (strideH, strideW); OH = 1 + floor((H - KH) / strideH), OW alike.
import type { FloatArray } from '../../tensor';
import { windowCount } from '../../validate';

/**
 * y = the largest value of each window; argmax = its index h * W + w within the plane. The first maximum in
 * row-major window order wins; a NaN beats every number (the first NaN wins), so NaN propagates.
 */
export function maxPool2dForward(N: number, C: number, H: number, W: number, KH: number, KW: number,
  strideH: number, strideW: number, x: FloatArray, y: FloatArray, argmax: Int32Array): void {
  const OH = windowCount(H, KH, strideH), OW = windowCount(W, KW, strideW);
  for (let p = 0; p < N * C; p++) {
    const xo = p * H * W, yo = p * OH * OW;
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        let best = oh * strideH * W + ow * strideW;
        let m = x[xo + best];
        for (let kh = 0; kh < KH; kh++) {
          for (let kw = 0; kw < KW; kw++) {
            const i = (oh * strideH + kh) * W + ow * strideW + kw, v = x[xo + i];
            if (!Number.isNaN(m) && (v > m || Number.isNaN(v))) { m = v; best = i; }
          }
        }
        y[yo + oh * OW + ow] = m;
        argmax[yo + oh * OW + ow] = best;
      }
    }
  }
}

/** dx = 0, then each dy goes to its window's argmax (dx is overwritten). */
export function maxPool2dBackward(N: number, C: number, H: number, W: number, KH: number, KW: number,
  strideH: number, strideW: number, dy: FloatArray, argmax: Int32Array, dx: FloatArray): void {
  const OH = windowCount(H, KH, strideH), OW = windowCount(W, KW, strideW);
  if (N * C * H * W === 0) return; // dx is empty (it may even be detached: fill would throw)
  dx.fill(0, 0, N * C * H * W);
  for (let p = 0; p < N * C; p++) {
    const xo = p * H * W, yo = p * OH * OW;
    for (let o = 0; o < OH * OW; o++) dx[xo + argmax[yo + o]] += dy[yo + o];
  }
}

/** y = the mean of each window. */
export function avgPool2dForward(N: number, C: number, H: number, W: number, KH: number, KW: number,
  strideH: number, strideW: number, x: FloatArray, y: FloatArray): void {
  const OH = windowCount(H, KH, strideH), OW = windowCount(W, KW, strideW);
  const area = KH * KW;
  for (let p = 0; p < N * C; p++) {
    const xo = p * H * W, yo = p * OH * OW;
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        let s = 0;
        for (let kh = 0; kh < KH; kh++) {
          for (let kw = 0; kw < KW; kw++) s += x[xo + (oh * strideH + kh) * W + ow * strideW + kw];
        }
        y[yo + oh * OW + ow] = s / area;
      }
    }
  }
}

/** dx = 0, then every window's inputs get dy / (KH KW) (dx is overwritten). */
export function avgPool2dBackward(N: number, C: number, H: number, W: number, KH: number, KW: number,
  strideH: number, strideW: number, dy: FloatArray, dx: FloatArray): void {
  const OH = windowCount(H, KH, strideH), OW = windowCount(W, KW, strideW);
  const area = KH * KW;
  if (N * C * H * W === 0) return; // dx is empty (it may even be detached: fill would throw)
  dx.fill(0, 0, N * C * H * W);
  for (let p = 0; p < N * C; p++) {
    const xo = p * H * W, yo = p * OH * OW;
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        const d = dy[yo + oh * OW + ow] / area;
        for (let kh = 0; kh < KH; kh++) {
          for (let kw = 0; kw < KW; kw++) dx[xo + (oh * strideH + kh) * W + ow * strideW + kw] += d;
        }
      }
    }
  }
}
