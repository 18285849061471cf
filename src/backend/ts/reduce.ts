// Axis reductions and softmax — the readable reference of native/reduce.cc. Every kernel sees its tensor as
// (outer, n, inner) and works along the middle axis: element [o, k, i] is x[(o * n + k) * inner + i]. Sums are
// accumulated in double (JS numbers), in index order.
import type { ArgReduceOpKind, ReduceOpKind } from '../kernels.gen';
import type { FloatArray } from '../../tensor';

/** y[o, i] = op over k of x[o, k, i]; NaN propagates; over no values: the op's identity (mean: NaN). */
export function reduceAxis(op: ReduceOpKind, outer: number, n: number, inner: number, x: FloatArray, y: FloatArray): void {
  if (outer === 0 || inner === 0) return;  // no result (and not outer passes over an empty inner)
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const at = (k: number) => x[(o * n + k) * inner + i];
      let r: number;
      switch (op) {
        case 'sum': case 'mean':
          r = 0;
          for (let k = 0; k < n; k++) r += at(k);
          if (op === 'mean') r /= n;
          break;
        case 'prod':
          r = 1;
          for (let k = 0; k < n; k++) r *= at(k);
          break;
        case 'max': case 'min': {
          r = op === 'max' ? -Infinity : Infinity;
          for (let k = 0; k < n; k++) {
            const v = at(k);
            if (Number.isNaN(v)) { r = NaN; break; }
            // a ±0 tie: +0 for max, -0 for min (IEEE 754-2019), whatever the order (native compares in lanes)
            if (op === 'max' ? v > r || (v === r && Object.is(r, -0)) : v < r || (v === r && Object.is(v, -0))) r = v;
          }
          break;
        }
        case 'logSumExp': {
          let m = -Infinity;
          for (let k = 0; k < n; k++) m = Number.isNaN(at(k)) || at(k) > m ? at(k) : m;
          if (Number.isNaN(m)) { r = NaN; break; }
          // every value -Infinity (or none): log 0; a +Infinity: +Infinity (x - max would be NaN)
          if (m === -Infinity || m === Infinity) { r = m; break; }
          let s = 0;
          for (let k = 0; k < n; k++) s += Math.exp(at(k) - m);
          r = m + Math.log(s);
          break;
        }
      }
      y[o * inner + i] = r;
    }
  }
}

/** y[o, i] = Σ_k (x[o, k, i] − mean)² / max(n − ddof, 0), its square root if sqrt. */
export function varianceAxis(outer: number, n: number, inner: number, ddof: number, sqrt: boolean, x: FloatArray,
  y: FloatArray): void {
  if (outer === 0 || inner === 0) return;
  const divisor = Math.max(n - ddof, 0);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      let mean = 0;
      for (let k = 0; k < n; k++) mean += x[(o * n + k) * inner + i];
      mean /= n;
      let ss = 0;
      for (let k = 0; k < n; k++) {
        const d = x[(o * n + k) * inner + i] - mean;
        ss += d * d;
      }
      const v = ss / divisor;
      y[o * inner + i] = sqrt ? Math.sqrt(v) : v;
    }
  }
}

/** out[o, i] = k of the first maximum (argmax) or minimum (argmin) of x[o, k, i]; the first NaN wins. */
export function argReduceAxis(op: ArgReduceOpKind, outer: number, n: number, inner: number, x: FloatArray,
  out: Int32Array): void {
  if (outer === 0 || inner === 0) return;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      let best = 0, bv = x[o * n * inner + i];
      for (let k = 1; k < n && !Number.isNaN(bv); k++) {
        const v = x[(o * n + k) * inner + i];
        if (Number.isNaN(v) || (op === 'argmax' ? v > bv : v < bv)) {
          best = k;
          bv = v;
        }
      }
      out[o * inner + i] = best;
    }
  }
}

/** y = softmax(x) along the middle axis, as exp(x − max) / Σ exp(x − max); log: x − max − log Σ exp(x − max). */
export function softmaxAxis(log: boolean, outer: number, n: number, inner: number, x: FloatArray, y: FloatArray): void {
  if (outer === 0 || n === 0 || inner === 0) return;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const at = (k: number) => (o * n + k) * inner + i;
      let m = -Infinity;
      for (let k = 0; k < n; k++) m = Number.isNaN(x[at(k)]) || x[at(k)] > m ? x[at(k)] : m;
      let s = 0;
      for (let k = 0; k < n; k++) s += Math.exp(x[at(k)] - m);
      const ls = Math.log(s);
      for (let k = 0; k < n; k++) y[at(k)] = log ? x[at(k)] - m - ls : Math.exp(x[at(k)] - m) / s;
    }
  }
}
