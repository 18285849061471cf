// Small tensor operations — the readable reference of native/ops.cc: elementwise products and sums, quotients
// and powers, scaling, axpy, sums of squares and row argmax.
import type { FloatArray } from '../../tensor';

/** y = a * b elementwise (y may be a or b). */
export function mul(n: number, a: FloatArray, b: FloatArray, y: FloatArray): void {
  for (let i = 0; i < n; i++) y[i] = a[i] * b[i];
}

/** y = a + b elementwise (y may be a or b). */
export function add(n: number, a: FloatArray, b: FloatArray, y: FloatArray): void {
  for (let i = 0; i < n; i++) y[i] = a[i] + b[i];
}

/** y = a / b elementwise (y may be a or b). */
export function div(n: number, a: FloatArray, b: FloatArray, y: FloatArray): void {
  for (let i = 0; i < n; i++) y[i] = a[i] / b[i];
}

/** y = a ^ b elementwise, in double (y may be a or b). */
export function power(n: number, a: FloatArray, b: FloatArray, y: FloatArray): void {
  for (let i = 0; i < n; i++) y[i] = Math.pow(a[i], b[i]);
}

/** Backward of y = x ^ e: dx = dy e x^(e−1) (0 where e = 0), de = dy x^e ln x (0 where x = 0 and e ≥ 0). */
export function powerBackward(n: number, x: FloatArray, e: FloatArray, dy: FloatArray, dx: FloatArray, de: FloatArray): void {
  for (let i = 0; i < n; i++) {
    const xi = x[i], ei = e[i], d = dy[i];
    dx[i] = ei === 0 ? 0 : d * ei * Math.pow(xi, ei - 1);
    de[i] = xi === 0 && ei >= 0 ? 0 : d * Math.pow(xi, ei) * Math.log(xi);
  }
}

/** x *= alpha */
export function scale(n: number, x: FloatArray, alpha: number): void {
  const a = x instanceof Float32Array ? Math.fround(alpha) : alpha;
  for (let i = 0; i < n; i++) x[i] *= a;
}

/** y += alpha * x */
export function axpy(n: number, alpha: number, x: FloatArray, y: FloatArray): void {
  const a = x instanceof Float32Array ? Math.fround(alpha) : alpha;
  for (let i = 0; i < n; i++) y[i] += a * x[i];
}

/** The sum of x², accumulated in double in index order. */
export function sumSquares(n: number, x: FloatArray): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += x[i] * x[i];
  return s;
}

/** out[r] = the index of the first maximum of row r. */
export function argmaxRows(rows: number, cols: number, x: FloatArray, out: Int32Array): void {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let best = 0;
    for (let c = 1; c < cols; c++) if (x[o + c] > x[o + best]) best = c;
    out[r] = best;
  }
}
