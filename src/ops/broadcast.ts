// NumPy broadcasting of shapes: shapes are aligned at their last axis; two sizes agree when they are equal or one
// of them is 1 (which stretches to the other); a missing leading axis counts as 1.
import { type Shape, formatShape } from '../tensor';

/** Row-major strides of a contiguous tensor of `shape`, in elements. */
export function contiguousStrides(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

/**
 * The shape both `a` and `b` broadcast to. A mismatch is a RangeError naming both shapes and the axis (counted in
 * the result's shape, and from the end as NumPy reports it), e.g. "cannot broadcast a [2, 3] with b [4]: axis 1
 * (-1) has size 3 in a and 4 in b". `names` are how the message calls the two operands (default 'a' and 'b').
 */
export function broadcastShapes(a: Shape, b: Shape, names: readonly [string, string] = ['a', 'b']): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = i < n - a.length ? 1 : a[i - (n - a.length)];
    const db = i < n - b.length ? 1 : b[i - (n - b.length)];
    if (da === db || db === 1) out[i] = da;
    else if (da === 1) out[i] = db;
    else {
      throw new RangeError(`cannot broadcast ${names[0]} ${formatShape(a)} with ${names[1]} ${formatShape(b)}: ` +
        `axis ${i} (${i - n}) has size ${da} in ${names[0]} and ${db} in ${names[1]}`);
    }
  }
  return out;
}

/**
 * The strides (in elements) that read a contiguous tensor of `shape` as if it had the broadcast shape `to`: 0 on
 * every axis `shape` stretches (size 1 there, or missing in front), its own row-major stride elsewhere. `to` must be
 * a shape `shape` broadcasts to (a RangeError names both otherwise).
 */
export function broadcastStrides(shape: Shape, to: Shape): number[] {
  const offset = to.length - shape.length;
  if (offset < 0) {
    throw new RangeError(`cannot broadcast ${formatShape(shape)} to ${formatShape(to)}: it has more axes`);
  }
  const own = contiguousStrides(shape);
  const out = new Array<number>(to.length).fill(0);
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i], t = to[i + offset];
    if (d === t) out[i + offset] = d === 1 ? 0 : own[i];
    else if (d === 1) out[i + offset] = 0;
    else {
      throw new RangeError(`cannot broadcast ${formatShape(shape)} to ${formatShape(to)}: ` +
        `axis ${i + offset} (${i + offset - to.length}) has size ${d}, not 1 or ${t}`);
    }
  }
  return out;
}
