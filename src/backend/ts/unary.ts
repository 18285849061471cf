// Element-wise maps y = op(x) — the readable reference of native/unary.cc.
import type { FloatArray } from '../../tensor';
import type { UnaryOp } from '../backend';
import { sigmoid } from './elementwise';

/**
 * erf(x) to double precision: 2/√π e^(-x²) Σ (2x²)^k x / (1·3·…·(2k+1)), a series of positive terms (no
 * cancellation); |x| ≥ 6 gives ±1 (erfc(6) < 2.2e-17). JavaScript has no Math.erf.
 */
export function erf(x: number): number {
  if (x !== x) return x;
  const ax = Math.abs(x);
  if (ax >= 6) return Math.sign(x);
  let term = ax, sum = ax;
  const x2 = 2 * ax * ax;
  for (let k = 1; term > 1e-17 * sum; k++) {
    term *= x2 / (2 * k + 1);
    sum += term;
  }
  const r = (2 / Math.sqrt(Math.PI)) * Math.exp(-ax * ax) * sum;
  return x < 0 ? -r : r;
}

export function unary(op: UnaryOp, n: number, x: FloatArray, y: FloatArray, alpha: number, beta: number): void {
  const f = unaryOps[op];
  for (let i = 0; i < n; i++) y[i] = f(x[i], alpha, beta);
}

const unaryOps: Record<UnaryOp, (v: number, alpha: number, beta: number) => number> = {
  neg: (v) => -v,
  abs: (v) => Math.abs(v),
  sign: (v) => (v > 0 ? 1 : v < 0 ? -1 : v === 0 ? 0 : v),  // +0 for ±0 (NumPy's np.sign(-0.0) is 0.0), NaN kept
  exp: (v) => Math.exp(v),
  log: (v) => Math.log(v),
  log1p: (v) => Math.log1p(v),
  sqrt: (v) => Math.sqrt(v),
  square: (v) => v * v,
  relu: (v) => (v < 0 ? 0 : v),  // NaN and -0 pass through, as in the ReLU layer (np.maximum(x, 0) gives +0)
  leakyRelu: (v, alpha) => (v > 0 ? v : alpha * v),
  sigmoid,
  tanh: (v) => Math.tanh(v),
  step: (v) => (v > 0 ? 1 : v <= 0 ? 0 : v),
  softplus: (v) => (v > 0 ? v : 0) + Math.log1p(Math.exp(-Math.abs(v))),  // no overflow
  gelu: (v) => 0.5 * v * (1 + erf(v * Math.SQRT1_2)),
  clamp: (v, lo, hi) => {
    const l = v < lo ? lo : v;  // NaN fails both tests and stays
    return l > hi ? hi : l;
  },
};
