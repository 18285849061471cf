// 2-D convolution in NCHW — the readable reference of native/conv.cc. x (N, C, H, W), weight (F, C, KH, KW),
// y (N, F, OH, OW) with OH = 1 + floor((H + 2 padH - KH) / strideH) (OW alike); zero padding. Direct loops: every
// output plane is accumulated in float64, one weight at a time, over the outputs whose input lies inside x.
import type { FloatArray } from '../../tensor';
import { windowCount } from '../../validate';
import { maxPool2dBackward, maxPool2dForward } from './pool';

/** The outputs o in [lo, hi) whose input index o * stride - pad + k lies in [0, n). */
export function validOutputs(k: number, stride: number, pad: number, n: number, out: number): [number, number] {
  const ceilDiv = (a: number) => (a <= 0 ? 0 : Math.ceil(a / stride));
  const lo = Math.min(ceilDiv(pad - k), out);
  const hi = Math.max(lo, Math.min(ceilDiv(n + pad - k), out));
  return [lo, hi];
}

/**
 * y = conv(x, weight) + bias; bias may be null; relu: then y = max(y, 0) (NaN kept, as the ReLU layer); pool: then
 * the 2x2 stride-2 max pooling of that (y is (N, F, floor(OH / 2), floor(OW / 2))), as MaxPool2D(2) would.
 */
export function conv2dForward(N: number, C: number, H: number, W: number, F: number, KH: number, KW: number,
  strideH: number, strideW: number, padH: number, padW: number, x: FloatArray, weight: FloatArray,
  bias: FloatArray | null, y: FloatArray, relu?: boolean, pool?: boolean): void {
  const OH = windowCount(H, KH, strideH, padH), OW = windowCount(W, KW, strideW, padW);
  if (N === 0 || F === 0 || (pool && (OH < 2 || OW < 2))) return; // y is empty (and OH * OW may be huge: no scratch for it)
  if (pool) {
    // the reference: the full output in y's precision, then the pooling layer's kernel
    const full = new (y.constructor as Float32ArrayConstructor | Float64ArrayConstructor)(N * F * OH * OW);
    conv2dForward(N, C, H, W, F, KH, KW, strideH, strideW, padH, padW, x, weight, bias, full, relu);
    maxPool2dForward(N, F, OH, OW, 2, 2, 2, 2, full, y, new Int32Array(y.length));
    return;
  }
  const acc = new Float64Array(OH * OW);
  for (let n = 0; n < N; n++) {
    for (let f = 0; f < F; f++) {
      acc.fill(0);
      for (let c = 0; c < C; c++) {
        for (let kh = 0; kh < KH; kh++) {
          const [oh0, oh1] = validOutputs(kh, strideH, padH, H, OH);
          for (let kw = 0; kw < KW; kw++) {
            const [ow0, ow1] = validOutputs(kw, strideW, padW, W, OW);
            const wv = weight[((f * C + c) * KH + kh) * KW + kw];
            for (let oh = oh0; oh < oh1; oh++) {
              const xRow = ((n * C + c) * H + oh * strideH - padH + kh) * W - padW + kw;
              for (let ow = ow0; ow < ow1; ow++) acc[oh * OW + ow] += wv * x[xRow + ow * strideW];
            }
          }
        }
      }
      const b = bias ? bias[f] : 0, o = (n * F + f) * OH * OW;
      for (let p = 0; p < OH * OW; p++) y[o + p] = acc[p] + b;
      // the ReLU of the float result, as a separate ReLU layer would see it
      if (relu) for (let p = o; p < o + OH * OW; p++) if (y[p] < 0) y[p] = 0;
    }
  }
}

/** dx = the gradient of conv(x, weight) with respect to x, given dy (dx is overwritten). */
export function conv2dBackwardData(N: number, C: number, H: number, W: number, F: number, KH: number, KW: number,
  strideH: number, strideW: number, padH: number, padW: number, dy: FloatArray, weight: FloatArray,
  dx: FloatArray): void {
  const OH = windowCount(H, KH, strideH, padH), OW = windowCount(W, KW, strideW, padW);
  if (N === 0 || C === 0) return; // dx is empty (and H * W may be huge: no scratch for it)
  const acc = new Float64Array(H * W);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      acc.fill(0);
      for (let f = 0; f < F; f++) {
        for (let kh = 0; kh < KH; kh++) {
          const [oh0, oh1] = validOutputs(kh, strideH, padH, H, OH);
          for (let kw = 0; kw < KW; kw++) {
            const [ow0, ow1] = validOutputs(kw, strideW, padW, W, OW);
            const wv = weight[((f * C + c) * KH + kh) * KW + kw];
            for (let oh = oh0; oh < oh1; oh++) {
              const xRow = (oh * strideH - padH + kh) * W - padW + kw, dyRow = ((n * F + f) * OH + oh) * OW;
              for (let ow = ow0; ow < ow1; ow++) acc[xRow + ow * strideW] += wv * dy[dyRow + ow];
            }
          }
        }
      }
      dx.set(acc, (n * C + c) * H * W);
    }
  }
}

/** dweight += the gradient of conv(x, weight) with respect to weight; dbias += sum of dy (dbias may be null). */
export function conv2dBackwardFilter(N: number, C: number, H: number, W: number, F: number, KH: number, KW: number,
  strideH: number, strideW: number, padH: number, padW: number, x: FloatArray, dy: FloatArray,
  dweight: FloatArray, dbias: FloatArray | null): void {
  const OH = windowCount(H, KH, strideH, padH), OW = windowCount(W, KW, strideW, padW);
  for (let f = 0; f < F; f++) {
    for (let c = 0; c < C; c++) {
      for (let kh = 0; kh < KH; kh++) {
        const [oh0, oh1] = validOutputs(kh, strideH, padH, H, OH);
        for (let kw = 0; kw < KW; kw++) {
          const [ow0, ow1] = validOutputs(kw, strideW, padW, W, OW);
          let s = 0;
          for (let n = 0; n < N; n++) {
            for (let oh = oh0; oh < oh1; oh++) {
              const xRow = ((n * C + c) * H + oh * strideH - padH + kh) * W - padW + kw;
              const dyRow = ((n * F + f) * OH + oh) * OW;
              for (let ow = ow0; ow < ow1; ow++) s += dy[dyRow + ow] * x[xRow + ow * strideW];
            }
          }
          dweight[((f * C + c) * KH + kh) * KW + kw] += s;
        }
      }
    }
    if (dbias) {
      let s = 0;
      for (let n = 0; n < N; n++) {
        const o = (n * F + f) * OH * OW;
        for (let p = 0; p < OH * OW; p++) s += dy[o + p];
      }
      dbias[f] += s;
    }
  }
}

/** The floating-point array type of a (Float32Array or Float64Array), for scratch in its precision. */
function like(a: FloatArray, n: number): FloatArray {
  return new (a.constructor as Float32ArrayConstructor | Float64ArrayConstructor)(n);
}

/**
 * Training's Conv2D(-ReLU)-MaxPool2D(2): y (N, F, floor(OH / 2), floor(OW / 2)) and argmax (the index in the (OH, OW)
 * plane of each maximum). The reference: the full output in y's precision (with the ReLU), then the pooling layer's
 * kernel.
 */
export function conv2dPoolForward(N: number, C: number, H: number, W: number, F: number, KH: number, KW: number,
  strideH: number, strideW: number, padH: number, padW: number, x: FloatArray, weight: FloatArray,
  bias: FloatArray | null, y: FloatArray, argmax: Int32Array, relu?: boolean): void {
  const OH = windowCount(H, KH, strideH, padH), OW = windowCount(W, KW, strideW, padW);
  if (N === 0 || F === 0 || OH < 2 || OW < 2) return; // y is empty (and OH * OW may be huge: no scratch for it)
  const full = like(y, N * F * OH * OW);
  conv2dForward(N, C, H, W, F, KH, KW, strideH, strideW, padH, padW, x, weight, bias, full, relu);
  maxPool2dForward(N, F, OH, OW, 2, 2, 2, 2, full, y, argmax);
}

/**
 * The backward of conv2dPoolForward for the pooled gradient dy: the pooling layer's backward into the full conv
 * output, then conv2dBackwardData into dx (unless null) and conv2dBackwardFilter. With y (the forward's pooled
 * output, relu), dy first goes through the ReLU's backward on y: y > 0 ? dy : 0.
 */
export function conv2dPoolBackward(N: number, C: number, H: number, W: number, F: number, KH: number, KW: number,
  strideH: number, strideW: number, padH: number, padW: number, x: FloatArray, dy: FloatArray, argmax: Int32Array,
  weight: FloatArray, dx: FloatArray | null, dweight: FloatArray, dbias: FloatArray | null,
  y?: FloatArray | null): void {
  const OH = windowCount(H, KH, strideH, padH), OW = windowCount(W, KW, strideW, padW);
  if (N === 0) return;
  if (F === 0 || OH < 2 || OW < 2) {
    dx?.fill(0, 0, N * C * H * W);  // no pooled output: the gradient is zero everywhere
    return;
  }
  let dq = dy;
  if (y) {
    const Q = N * F * Math.floor(OH / 2) * Math.floor(OW / 2);
    dq = like(dy, Q);
    for (let i = 0; i < Q; i++) dq[i] = y[i] > 0 ? dy[i] : 0;
  }
  const full = like(dy, N * F * OH * OW);
  maxPool2dBackward(N, F, OH, OW, 2, 2, 2, 2, dq, argmax, full);
  if (dx) conv2dBackwardData(N, C, H, W, F, KH, KW, strideH, strideW, padH, padW, full, weight, dx);
  conv2dBackwardFilter(N, C, H, W, F, KH, KW, strideH, strideW, padH, padW, x, full, dweight, dbias);
}

/**
 * Inference's two Conv2D(+ReLU)+MaxPool2D(2) in a row: the first one's pooled output, then the second convolution
 * of it with its ReLU and pooling, into y (N, F2, floor(OH2 / 2), floor(OW2 / 2)). The reference: conv2dForward twice.
 */
export function conv2dChainForward(N: number, C: number, H: number, W: number, F: number, KH: number, KW: number,
  strideH: number, strideW: number, padH: number, padW: number, F2: number, KH2: number, KW2: number,
  strideH2: number, strideW2: number, padH2: number, padW2: number, x: FloatArray, weight: FloatArray,
  bias: FloatArray | null, weight2: FloatArray, bias2: FloatArray | null, y: FloatArray, relu: boolean,
  relu2: boolean): void {
  const H2 = Math.floor(windowCount(H, KH, strideH, padH) / 2), W2 = Math.floor(windowCount(W, KW, strideW, padW) / 2);
  if (N === 0 || F2 === 0) return;  // y is empty
  const mid = like(y, N * F * H2 * W2);
  conv2dForward(N, C, H, W, F, KH, KW, strideH, strideW, padH, padW, x, weight, bias, mid, relu, true);
  conv2dForward(N, F, H2, W2, F2, KH2, KW2, strideH2, strideW2, padH2, padW2, mid, weight2, bias2, y, relu2, true);
}
