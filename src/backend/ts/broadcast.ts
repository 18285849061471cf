// Element-wise binary operations and where() with NumPy broadcasting over 4 axes — the readable reference of
// native/broadcast.cc. Each operand is read through strides that are 0 on the axes it is broadcast along.
import type { FloatArray } from '../../tensor';
import type { BinaryOp } from '../backend';

/** Row-major strides of an operand of sizes d, 0 on its size-1 axes (where it is broadcast). */
function strides(d: number[]): number[] {
  const s = [0, 0, 0, 0];
  let stride = 1;
  for (let i = 3; i >= 0; i--) {
    s[i] = d[i] === 1 ? 0 : stride;
    stride *= d[i];
  }
  return s;
}

/** The broadcast size of each axis: the one size other than 1 (the hook checked they agree). */
function broadcastSizes(...dims: number[][]): number[] {
  return [0, 1, 2, 3].map((i) => dims.reduce((y, d) => (d[i] !== 1 ? d[i] : y), 1));
}

/**
 * a ^ b as C's pow (and so NumPy) has it: where JavaScript's ** says NaN, 1 ^ anything is 1 (NaN included) and
 * (−1) ^ ±Infinity is 1.
 */
export function pow(a: number, b: number): number {
  if (a === 1 || (a === -1 && (b === Infinity || b === -Infinity))) return 1;
  return Math.pow(a, b);
}

const binaryOps: Record<BinaryOp, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  pow,
  maximum: (a, b) => (a > b || a !== a ? a : b),  // NaN on either side gives NaN
  minimum: (a, b) => (a < b || a !== a ? a : b),
  gt: (a, b) => (a > b ? 1 : 0),
  ge: (a, b) => (a >= b ? 1 : 0),
  lt: (a, b) => (a < b ? 1 : 0),
  le: (a, b) => (a <= b ? 1 : 0),
  eq: (a, b) => (a === b ? 1 : 0),
  ne: (a, b) => (a !== b ? 1 : 0),
};

/** broadcastBinary for operands of one shape (n elements each). */
export function binarySame(op: BinaryOp, n: number, a: FloatArray, b: FloatArray, y: FloatArray): void {
  broadcastBinary(op, 1, 1, 1, n, 1, 1, 1, n, a, b, y);
}

export function broadcastBinary(op: BinaryOp, a0: number, a1: number, a2: number, a3: number, b0: number, b1: number,
  b2: number, b3: number, a: FloatArray, b: FloatArray, y: FloatArray): void {
  const f = binaryOps[op];
  const da = [a0, a1, a2, a3], db = [b0, b1, b2, b3];
  const [y0, y1, y2, y3] = broadcastSizes(da, db);
  if (y0 * y1 * y2 * y3 === 0) return;  // an empty result (not y0 · y1 passes over an empty rest)
  const sa = strides(da), sb = strides(db);
  let k = 0;
  for (let i0 = 0; i0 < y0; i0++) {
    for (let i1 = 0; i1 < y1; i1++) {
      for (let i2 = 0; i2 < y2; i2++) {
        for (let i3 = 0; i3 < y3; i3++) {
          const ia = i0 * sa[0] + i1 * sa[1] + i2 * sa[2] + i3 * sa[3];
          const ib = i0 * sb[0] + i1 * sb[1] + i2 * sb[2] + i3 * sb[3];
          y[k++] = f(a[ia], b[ib]);
        }
      }
    }
  }
}

export function broadcastWhere(c0: number, c1: number, c2: number, c3: number, a0: number, a1: number, a2: number,
  a3: number, b0: number, b1: number, b2: number, b3: number, cond: FloatArray, a: FloatArray, b: FloatArray,
  y: FloatArray): void {
  const dc = [c0, c1, c2, c3], da = [a0, a1, a2, a3], db = [b0, b1, b2, b3];
  const [y0, y1, y2, y3] = broadcastSizes(dc, da, db);
  if (y0 * y1 * y2 * y3 === 0) return;
  const sc = strides(dc), sa = strides(da), sb = strides(db);
  let k = 0;
  for (let i0 = 0; i0 < y0; i0++) {
    for (let i1 = 0; i1 < y1; i1++) {
      for (let i2 = 0; i2 < y2; i2++) {
        for (let i3 = 0; i3 < y3; i3++) {
          const ic = i0 * sc[0] + i1 * sc[1] + i2 * sc[2] + i3 * sc[3];
          const ia = i0 * sa[0] + i1 * sa[1] + i2 * sa[2] + i3 * sa[3];
          const ib = i0 * sb[0] + i1 * sb[1] + i2 * sb[2] + i3 * sb[3];
          y[k++] = cond[ic] !== 0 ? a[ia] : b[ib];  // NaN !== 0: true
        }
      }
    }
  }
}
