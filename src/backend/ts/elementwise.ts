// Activations (softmax included: forward and backward) and bias — the readable reference of
// native/elementwise.cc. Sums are accumulated in double (JS numbers) in row order, like the native kernels.
import type { FloatArray } from '../../tensor';
import type { ActivationKind } from '../backend';

/** 1 / (1 + e^-x) without overflow: exp only ever sees a non-positive argument. */
export function sigmoid(x: number): number {
  const e = Math.exp(-Math.abs(x));
  return x >= 0 ? 1 / (1 + e) : e / (1 + e);
}

export function activationForward(kind: ActivationKind, n: number, x: FloatArray, y: FloatArray, slope: number): void {
  switch (kind) {
    case 'relu': for (let i = 0; i < n; i++) y[i] = x[i] < 0 ? 0 : x[i]; break;  // NaN passes through
    case 'leakyRelu': for (let i = 0; i < n; i++) y[i] = x[i] > 0 ? x[i] : slope * x[i]; break;
    case 'sigmoid': for (let i = 0; i < n; i++) y[i] = sigmoid(x[i]); break;
    case 'tanh': for (let i = 0; i < n; i++) y[i] = Math.tanh(x[i]); break;
    case 'step': for (let i = 0; i < n; i++) y[i] = x[i] > 0 ? 1 : x[i] <= 0 ? 0 : x[i]; break;  // NaN passes through
  }
}

export function activationBackward(kind: ActivationKind, n: number, x: FloatArray, y: FloatArray, dy: FloatArray,
  dx: FloatArray, slope: number): void {
  switch (kind) {
    case 'relu': for (let i = 0; i < n; i++) dx[i] = x[i] > 0 ? dy[i] : 0; break;
    case 'leakyRelu': for (let i = 0; i < n; i++) dx[i] = x[i] > 0 ? dy[i] : slope * dy[i]; break;
    case 'sigmoid': for (let i = 0; i < n; i++) dx[i] = dy[i] * y[i] * (1 - y[i]); break;
    case 'tanh': for (let i = 0; i < n; i++) dx[i] = dy[i] * (1 - y[i] * y[i]); break;
    case 'step': dx.fill(0, 0, n); break;  // flat on both sides of 0 (undefined at 0, taken as 0 there too)
  }
}

export function biasAdd(rows: number, cols: number, y: FloatArray, bias: FloatArray): void {
  if (cols === 0) return; // nothing to add (and no empty loop over up to 2^31 rows)
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    for (let c = 0; c < cols; c++) y[o + c] += bias[c];
  }
}

export function biasBackward(rows: number, cols: number, dy: FloatArray, dbias: FloatArray): void {
  if (cols === 0) return; // nothing to sum (and no empty loop over up to 2^31 rows)
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    for (let c = 0; c < cols; c++) dbias[c] += dy[o + c];
  }
}

/** biasAdd then activationForward relu, element by element in one pass (the same values, NaN kept). */
export function biasRelu(rows: number, cols: number, y: FloatArray, bias: FloatArray): void {
  if (cols === 0) return; // nothing to do (and no empty loop over up to 2^31 rows)
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    for (let c = 0; c < cols; c++) {
      y[o + c] += bias[c];  // rounded to y's dtype, as biasAdd
      const v = y[o + c];
      y[o + c] = v < 0 ? 0 : v;
    }
  }
}

/**
 * activationBackward relu given the ReLU's output (y > 0 exactly when its input is), then biasBackward of the masked
 * values, row by row in one pass; dx may be dy.
 */
export function reluBiasBackward(rows: number, cols: number, y: FloatArray, dy: FloatArray, dx: FloatArray,
  dbias: FloatArray): void {
  if (cols === 0) return; // nothing to do (and no empty loop over up to 2^31 rows)
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    for (let c = 0; c < cols; c++) {
      const m = y[o + c] > 0 ? dy[o + c] : 0;
      dx[o + c] = m;
      dbias[c] += dx[o + c];
    }
  }
}

/** The first maximum of the row of `cols` values at x[o]. */
export function rowMax(x: FloatArray, o: number, cols: number): number {
  let m = x[o];
  for (let c = 1; c < cols; c++) if (x[o + c] > m) m = x[o + c];
  return m;
}

export function softmax(rows: number, cols: number, x: FloatArray, y: FloatArray): void {
  for (let r = 0; r < rows; r++) {
    const o = r * cols, m = rowMax(x, o, cols);
    let s = 0;
    for (let c = 0; c < cols; c++) { y[o + c] = Math.exp(x[o + c] - m); s += y[o + c]; }
    const inv = 1 / s;
    for (let c = 0; c < cols; c++) y[o + c] *= inv;
  }
}

/** dx = y * (dy - Σ dy·y) row by row: the backward pass of y = softmax(x) (dx may be dy). */
export function softmaxBackward(rows: number, cols: number, y: FloatArray, dy: FloatArray, dx: FloatArray): void {
  if (cols === 0) return;  // no elements: 2^30 empty rows would cost seconds
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let dot = 0;
    for (let c = 0; c < cols; c++) dot += dy[o + c] * y[o + c];
    for (let c = 0; c < cols; c++) dx[o + c] = y[o + c] * (dy[o + c] - dot);
  }
}
