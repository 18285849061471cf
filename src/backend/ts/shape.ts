// Copies that move elements between shapes — the readable reference of native/shape.cc: axis swaps (transposes),
// gathers and scatters along an axis, one-hot rows and the indices of a mask's nonzero elements.
import type { FloatArray } from '../../tensor';

/** y[o, j, c, i, k] = x[o, i, c, j, k]: x (outer, m, mid, n, inner) with the axes of sizes m and n swapped. */
export function swapAxes(outer: number, m: number, mid: number, n: number, inner: number, x: FloatArray,
  y: FloatArray): void {
  // an empty tensor: no element to move (and not outer · m passes over an empty rest)
  if (outer === 0 || m === 0 || mid === 0 || n === 0 || inner === 0) return;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < m; i++) {
      for (let c = 0; c < mid; c++) {
        for (let j = 0; j < n; j++) {
          const from = ((((o * m + i) * mid + c) * n + j) * inner);
          const to = ((((o * n + j) * mid + c) * m + i) * inner);
          for (let k = 0; k < inner; k++) y[to + k] = x[from + k];
        }
      }
    }
  }
}

/** y[o, j, i] = x[o, index[j], i]: x (outer, n, inner), y (outer, count, inner). */
export function gatherAxis(count: number, outer: number, n: number, inner: number, x: FloatArray, index: Int32Array,
  y: FloatArray): void {
  if (outer === 0 || count === 0 || inner === 0) return;
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < count; j++) {
      const from = (o * n + index[j]) * inner, to = (o * count + j) * inner;
      for (let i = 0; i < inner; i++) y[to + i] = x[from + i];
    }
  }
}

/** y[o, index[j], i] = x[o, j, i], or += if accumulate (repeated indices add up in the order of j). */
export function scatterAxis(count: number, outer: number, n: number, inner: number, x: FloatArray, index: Int32Array,
  y: FloatArray, accumulate = false): void {
  if (outer === 0 || count === 0 || inner === 0) return;
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < count; j++) {
      const from = (o * count + j) * inner, to = (o * n + index[j]) * inner;
      for (let i = 0; i < inner; i++) y[to + i] = accumulate ? y[to + i] + x[from + i] : x[from + i];
    }
  }
}

/** y (n, depth) = 1 at [r, index[r]], 0 elsewhere. */
export function oneHot(n: number, depth: number, index: Int32Array, y: FloatArray): void {
  if (n * depth === 0) return;
  y.fill(0, 0, n * depth);
  for (let r = 0; r < n; r++) y[r * depth + index[r]] = 1;
}

/** The indices of the nonzero mask[k] (NaN counts) written in order to out; returns how many. */
export function nonzeroIndices(n: number, mask: FloatArray, out: Int32Array): number {
  let count = 0;
  for (let k = 0; k < n; k++) if (mask[k] !== 0) out[count++] = k;
  return count;
}
