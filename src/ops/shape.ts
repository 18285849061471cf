// Shape operations: reshape, transpose/permute, squeeze/unsqueeze, flatten, concat, stack, split, broadcastTo and
// pad, plus the axis helpers the other ops share. Every copy runs on backend kernels (swapAxes, gatherAxis,
// scatterAxis) over a canonical (outer, n, inner) view of the tensor; operations that only change the shape
// (reshape, squeeze, unsqueeze, flatten, a transpose that moves only size-1 axes) return a tensor sharing the
// data, as NumPy returns views.
import { getBackend } from '../backend/index';
import {
  Tensor, type DType, type NestedArray, type Shape, allocateUninitialized, checkAttached, checkElements, formatShape, sizeOf,
} from '../tensor';
import { describeValue, isArray } from '../validate';
import { record } from '../autograd/tape';

// ---- arguments shared by the ops

/** A Tensor as is; a (nested) array of numbers as a new float32 tensor. Anything else is a TypeError naming `name`. */
export function tensorArg(x: unknown, name: string): Tensor {
  if (x instanceof Tensor) return checkAttached(x, name);
  if (Array.isArray(x) || (ArrayBuffer.isView(x) && !(x instanceof DataView))) return new Tensor(x as NestedArray);
  throw new TypeError(`${name} must be a Tensor or an array of numbers, got ${describeValue(x)}`);
}

/** An axis in [-ndim, ndim) as a non-negative one; NumPy's message otherwise. */
export function normalizeAxis(axis: unknown, ndim: number, name = 'axis'): number {
  if (typeof axis !== 'number' || !Number.isInteger(axis)) {
    throw new TypeError(`${name} must be an integer, got ${describeValue(axis)}`);
  }
  if (axis < -ndim || axis >= ndim) {
    throw new RangeError(`${name} ${axis} is out of bounds for a tensor of ${ndim} dimension${ndim === 1 ? '' : 's'}`);
  }
  return axis < 0 ? axis + ndim : axis;
}

/** The axes of a reduction: every axis when `axis` is undefined or null, else one or several (sorted, distinct). */
export function normalizeAxes(axis: unknown, ndim: number, name = 'axis'): number[] {
  if (axis === undefined || axis === null) return Array.from({ length: ndim }, (_, i) => i);
  const list = Array.isArray(axis) ? axis : [axis];
  const out = list.map((a) => normalizeAxis(a, ndim, name));
  const sorted = [...out].sort((a, b) => a - b);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i] === sorted[i - 1]) throw new RangeError(`${name} repeats axis ${sorted[i]}: [${list.join(', ')}]`);
  }
  return sorted;
}

/** Product of shape[from, to). */
export function span(shape: Shape, from: number, to: number): number {
  let n = 1;
  for (let i = from; i < to; i++) n *= shape[i];
  return n;
}

/** The (outer, n, inner) view of `shape` around `axis`. */
export function around(shape: Shape, axis: number): [number, number, number] {
  return [span(shape, 0, axis), shape[axis], span(shape, axis + 1, shape.length)];
}

/** A new tensor of `shape` and `dtype` for a kernel to overwrite entirely (see allocateUninitialized). */
export function empty(shape: Shape, dtype: DType): Tensor {
  return new Tensor(allocateUninitialized(dtype, checkElements(shape, 'the result of shape')), shape);
}

/** Indices as an Int32Array: an Int32Array as is, any other array or a tensor's values converted (integers only). */
export function indexArray(indices: unknown, name: string): { index: Int32Array; shape: number[] } {
  if (indices instanceof Int32Array) return { index: indices, shape: [indices.length] };
  let values: ArrayLike<number>, shape: number[];
  if (indices instanceof Tensor) {
    checkAttached(indices, name);
    values = indices.data;
    shape = [...indices.shape];
  } else if (typeof indices === 'number') {
    values = [indices];
    shape = [];
  } else if (Array.isArray(indices) || (ArrayBuffer.isView(indices) && !(indices instanceof DataView) &&
    !(indices instanceof BigInt64Array) && !(indices instanceof BigUint64Array))) {
    // a Float32Array as any other typed array: its values converted (not taken as a float64 tensor's data)
    const t = new Tensor(ArrayBuffer.isView(indices) ? Float64Array.from(indices as unknown as ArrayLike<number>) : indices as NestedArray,
      undefined, 'float64');
    values = t.data;
    shape = [...t.shape];
  } else {
    throw new TypeError(`${name} must be an Int32Array, an array of integers or a Tensor, got ${describeValue(indices)}`);
  }
  const index = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isInteger(v)) throw new TypeError(`${name}[${i}] must be an integer, got ${v}`);
    if (Math.abs(v) >= 2 ** 31) throw new RangeError(`${name}[${i}] is ${v}, out of bounds for any axis (a size is below 2^31)`);
    index[i] = v;
  }
  return { index, shape };
}

/**
 * The indices wrapped into [0, size) (negative ones count from the end, as in NumPy); one outside [-size, size) is a
 * RangeError naming the index, the axis and its size. Returns `index` itself when nothing needs wrapping.
 */
export function wrapIndices(index: Int32Array, size: number, axis: number, what = 'index'): Int32Array {
  let out = index;
  for (let i = 0; i < index.length; i++) {
    const v = index[i];
    if (v >= 0 && v < size) continue;
    if (v < -size || v >= size) {
      throw new RangeError(`${what} ${v} is out of bounds for axis ${axis} with size ${size}`);
    }
    if (out === index) out = index.slice();
    out[i] = v + size;
  }
  return out;
}

// ---- shape only

/** `x` with another shape (one size may be -1), sharing its data. */
export function reshape(x: Tensor, shape: Shape): Tensor {
  return tensorArg(x, 'x').reshape(shape);
}

/** `x` without its size-1 axes (or only those named, each of which must have size 1), sharing its data. */
export function squeeze(x: Tensor, axis?: number | readonly number[] | null): Tensor {
  x = tensorArg(x, 'x');
  const drop = axis === undefined || axis === null
    ? x.shape.flatMap((d, i) => (d === 1 ? [i] : []))
    : normalizeAxes(axis, x.ndim);
  for (const a of drop) {
    if (x.shape[a] !== 1) {
      throw new RangeError(`cannot squeeze axis ${a} of shape ${formatShape(x.shape)}: its size is ${x.shape[a]}, not 1`);
    }
  }
  return x.reshape(x.shape.filter((_, i) => !drop.includes(i)));
}

/** `x` with a new size-1 axis at `axis` (in [-ndim - 1, ndim]), sharing its data. */
export function unsqueeze(x: Tensor, axis: number): Tensor {
  x = tensorArg(x, 'x');
  const a = normalizeAxis(axis, x.ndim + 1);
  const s = [...x.shape];
  s.splice(a, 0, 1);
  return x.reshape(s);
}

/** The axes startAxis..endAxis (default: all) merged into one, sharing the data. */
export function flatten(x: Tensor, startAxis = 0, endAxis = -1): Tensor {
  x = tensorArg(x, 'x');
  if (x.ndim === 0) return x.reshape([1]);
  const a = normalizeAxis(startAxis, x.ndim, 'startAxis'), b = normalizeAxis(endAxis, x.ndim, 'endAxis');
  if (a > b) throw new RangeError(`startAxis ${startAxis} comes after endAxis ${endAxis} for shape ${formatShape(x.shape)}`);
  return x.reshape([...x.shape.slice(0, a), span(x.shape, a, b + 1), ...x.shape.slice(b + 1)]);
}

// ---- transposes

/**
 * `x` with its axes permuted: axis i of the result is axis axes[i] of x (NumPy's transpose). The permutation is
 * done as a few axis swaps (swapAxes), after size-1 axes are dropped and axes that stay neighbours are merged:
 * (N, C, H, W) -> (N, H, W, C) is one swap of C with H·W.
 */
export function permute(x: Tensor, axes: readonly number[]): Tensor {
  x = tensorArg(x, 'x');
  if (!Array.isArray(axes) || axes.length !== x.ndim) {
    throw new RangeError(`axes must list each of the ${x.ndim} axes of shape ${formatShape(x.shape)} once, got ` +
      `${Array.isArray(axes) ? `[${axes.join(', ')}]` : describeValue(axes)}`);
  }
  const perm = axes.map((a) => normalizeAxis(a, x.ndim, 'axes'));
  if (new Set(perm).size !== perm.length) throw new RangeError(`axes repeats an axis: [${axes.join(', ')}]`);
  const outShape = perm.map((a) => x.shape[a]);
  // the axes of size > 1 in the order the result wants them, merged into runs that are consecutive in x
  const order = perm.filter((a) => x.shape[a] !== 1);
  const runs: number[][] = [];
  for (const a of order) {
    const last = runs[runs.length - 1];
    if (last && last[last.length - 1] === a - 1) last.push(a);
    else runs.push([a]);
  }
  // nothing to move: an empty tensor, or axes of size > 1 that keep their order
  if (x.size === 0 || runs.length <= 1 || runs.every((r, i) => i === 0 || r[0] > runs[i - 1][0])) {
    return record('permute', [x], x.reshape(outShape), perm);
  }
  // x as the runs in their order in x; then swap runs into the wanted order, one swapAxes pass per swap
  const byStart = [...runs].sort((p, q) => p[0] - q[0]);
  let cur = byStart.map((r) => r[0]);  // each run named by its first axis
  let sizes = byStart.map((r) => span(x.shape, r[0], r[r.length - 1] + 1));
  const want = runs.map((r) => r[0]);
  const k = getBackend();
  let data = x.data;
  for (let p = 0; p < want.length; p++) {
    const q = cur.indexOf(want[p]);
    if (q === p) continue;
    const out = empty([x.size], x.dtype).data;
    k.swapAxes(span(sizes, 0, p), sizes[p], span(sizes, p + 1, q), sizes[q], span(sizes, q + 1, sizes.length), data, out);
    data = out;
    cur = [...cur];
    sizes = [...sizes];
    [cur[p], cur[q]] = [cur[q], cur[p]];
    [sizes[p], sizes[q]] = [sizes[q], sizes[p]];
  }
  return record('permute', [x], new Tensor(data, outShape), perm);
}

/** NumPy's transpose: the axes reversed, or permuted as `axes` says. */
export function transpose(x: Tensor, axes?: readonly number[]): Tensor {
  x = tensorArg(x, 'x');
  return permute(x, axes ?? x.shape.map((_, i) => x.ndim - 1 - i));
}

/** `x` with two axes swapped. */
export function swapaxes(x: Tensor, axis1: number, axis2: number): Tensor {
  x = tensorArg(x, 'x');
  const a = normalizeAxis(axis1, x.ndim, 'axis1'), b = normalizeAxis(axis2, x.ndim, 'axis2');
  const perm = x.shape.map((_, i) => i);
  [perm[a], perm[b]] = [perm[b], perm[a]];
  return permute(x, perm);
}

// ---- joining and splitting

function tensorList(tensors: unknown, name: string): Tensor[] {
  if (!Array.isArray(tensors) || tensors.length === 0) {
    throw new TypeError(`${name} must be a non-empty array of tensors, got ${describeValue(tensors)}`);
  }
  return tensors.map((t, i) => tensorArg(t, `${name}[${i}]`));
}

/** The dtype of several operands: float64 if any is float64 (the others are converted), else float32. */
export function commonDType(ts: readonly Tensor[]): DType {
  return ts.some((t) => t.dtype === 'float64') ? 'float64' : 'float32';
}

/** The tensors joined along an existing axis; every other axis must agree. float64 wins over float32. */
export function concat(tensors: readonly Tensor[], axis = 0): Tensor {
  const ts = tensorList(tensors, 'tensors');
  const first = ts[0];
  if (first.ndim === 0) throw new RangeError('concat needs tensors of at least one dimension, got a 0-d tensor');
  const a = normalizeAxis(axis, first.ndim);
  ts.forEach((t, i) => {
    if (t.ndim !== first.ndim || t.shape.some((d, j) => j !== a && d !== first.shape[j])) {
      throw new RangeError(`concat along axis ${a}: tensors[${i}] has shape ${formatShape(t.shape)}, which does not ` +
        `match tensors[0] ${formatShape(first.shape)} outside axis ${a}`);
    }
  });
  const dtype = commonDType(ts);
  const total = ts.reduce((s, t) => s + t.shape[a], 0);
  const shape = [...first.shape];
  shape[a] = total;
  const y = empty(shape, dtype);
  const [outer, , inner] = around(shape, a);
  const k = getBackend();
  let offset = 0;
  // an empty result: nothing to copy (not an index of each tensor's length along the axis, however long)
  if (y.size > 0) for (const t of ts) {
    const count = t.shape[a];
    const index = new Int32Array(count);
    for (let j = 0; j < count; j++) index[j] = offset + j;
    const src = t.dtype === dtype ? t : t.astype(dtype);
    k.scatterAxis(count, outer, total, inner, src.data, index, y.data, false);
    offset += count;
  }
  return record('concat', ts, y, a);
}

/** The tensors (all of one shape) joined along a new axis. */
export function stack(tensors: readonly Tensor[], axis = 0): Tensor {
  const ts = tensorList(tensors, 'tensors');
  ts.forEach((t, i) => {
    if (t.ndim !== ts[0].ndim || t.shape.some((d, j) => d !== ts[0].shape[j])) {
      throw new RangeError(`stack needs tensors of one shape: tensors[${i}] has shape ${formatShape(t.shape)}, ` +
        `tensors[0] ${formatShape(ts[0].shape)}`);
    }
  });
  const a = normalizeAxis(axis, ts[0].ndim + 1);
  return concat(ts.map((t) => unsqueeze(t, a)), a);
}

/**
 * NumPy's split: `sections` equal parts (which must divide the axis), or the parts between the sorted split
 * points `sections` (an array of indices; a part may be empty).
 */
export function split(x: Tensor, sections: number | readonly number[], axis = 0): Tensor[] {
  x = tensorArg(x, 'x');
  if (x.ndim === 0) throw new RangeError('split needs a tensor of at least one dimension, got a 0-d tensor');
  const a = normalizeAxis(axis, x.ndim);
  const size = x.shape[a];
  let bounds: number[];
  if (typeof sections === 'number') {
    if (!Number.isInteger(sections) || sections < 1) {
      throw new RangeError(`sections must be a positive integer or an array of split points, got ${sections}`);
    }
    if (size % sections !== 0) {
      throw new RangeError(`cannot split axis ${a} of size ${size} into ${sections} equal parts`);
    }
    bounds = Array.from({ length: sections + 1 }, (_, i) => (i * size) / sections);
  } else if (isArray(sections)) {
    const points = sections.map((p, i) => {
      if (!Number.isInteger(p)) throw new TypeError(`sections[${i}] must be an integer, got ${describeValue(p)}`);
      const q = p < 0 ? p + size : p;
      return Math.min(Math.max(q, 0), size);
    });
    bounds = [0, ...points, size];
  } else {
    throw new TypeError(`sections must be a number or an array of split points, got ${describeValue(sections)}`);
  }
  return bounds.slice(0, -1).map((b, i) => sliceAxis(x, a, b, Math.max(b, bounds[i + 1])));
}

/** x[..., begin:end, ...] along `axis` (a copy; begin <= end, both in range). */
export function sliceAxis(x: Tensor, axis: number, begin: number, end: number): Tensor {
  if (x.size === 0) return emptyAlong(x, axis, end - begin);
  const index = new Int32Array(end - begin);
  for (let j = 0; j < index.length; j++) index[j] = begin + j;
  return gatherAlong(x, axis, index);
}

/** y = x with index (valid, non-negative) taken along `axis`: x.shape with shape[axis] = index.length. */
export function gatherAlong(x: Tensor, axis: number, index: Int32Array): Tensor {
  const [outer, n, inner] = around(x.shape, axis);
  const shape = [...x.shape];
  shape[axis] = index.length;
  const y = empty(shape, x.dtype);
  if (y.size > 0) getBackend().gatherAxis(index.length, outer, n, inner, x.data, index, y.data);
  return record('gatherAxis', [x], y, { axis, index });
}

/**
 * gatherAlong for an empty x: the result, x.shape with shape[axis] = count, is empty too, and takes no index (an
 * axis of an empty tensor may be long: its indices are not listed).
 */
export function emptyAlong(x: Tensor, axis: number, count: number): Tensor {
  const shape = [...x.shape];
  shape[axis] = count;
  return record('gatherAxis', [x], empty(shape, x.dtype), { axis, index: new Int32Array(0) });
}

// ---- broadcasting and padding

/** `x` repeated along its size-1 axes (and new leading ones) to `shape`, NumPy's broadcasting rules; a copy. */
export function broadcastTo(x: Tensor, shape: Shape): Tensor {
  x = tensorArg(x, 'x');
  if (!isArray(shape)) throw new TypeError(`shape must be an array of sizes, got ${describeValue(shape)}`);
  const to = [...shape];
  const lead = to.length - x.ndim;
  const bad = (i: number) => new RangeError(`cannot broadcast ${formatShape(x.shape)} to ${formatShape(to)}: ` +
    `axis ${i + lead} has size ${x.shape[i]}, not 1 or ${to[i + lead]}`);
  if (lead < 0) {
    throw new RangeError(`cannot broadcast ${formatShape(x.shape)} to ${formatShape(to)}: it has more axes`);
  }
  for (const d of to) {
    if (!Number.isInteger(d) || d < 0) throw new RangeError(`shape must hold non-negative integers, got ${formatShape(to)}`);
  }
  let y = x.reshape([...new Array<number>(lead).fill(1), ...x.shape]);
  for (let i = 0; i < x.ndim; i++) if (x.shape[i] !== to[i + lead] && x.shape[i] !== 1) throw bad(i);
  if (sizeOf(to) === 0) return record('broadcastTo', [x], empty(to, x.dtype));  // nothing to repeat
  let copied = false;
  for (let a = 0; a < to.length; a++) {
    if (y.shape[a] === to[a]) continue;
    y = gatherAlong(y, a, new Int32Array(to[a]));  // index 0, to[a] times
    copied = true;
  }
  return record('broadcastTo', [x], copied ? y : y.clone());
}

/**
 * Pad widths as NumPy's pad takes them (broadcast to one [before, after] pair per axis): one number, [w], a
 * [before, after] pair, [[before, after]] or [[w]] for every axis, or one pair or [w] per axis.
 */
function padWidths(width: unknown, ndim: number): [number, number][] {
  const check = (v: unknown, what: string): number => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
      throw new RangeError(`${what} must be a non-negative integer, got ${describeValue(v)}`);
    }
    return v;
  };
  const pair = (p: unknown, what: string): [number, number] => {
    if (!Array.isArray(p) || p.length < 1 || p.length > 2) {
      throw new TypeError(`${what} must be a [before, after] pair or [width], got ${describeValue(p)}`);
    }
    const before = check(p[0], `${what}[0]`);
    return [before, p.length === 1 ? before : check(p[1], `${what}[1]`)];
  };
  const every = (p: [number, number]): [number, number][] => Array.from({ length: ndim }, () => p);
  if (typeof width === 'number') {
    const w = check(width, 'pad width');
    return every([w, w]);
  }
  if (Array.isArray(width) && width.every((w) => typeof w === 'number') && (width.length === 1 || width.length === 2)) {
    return every(pair(width, 'pad width'));
  }
  if (Array.isArray(width) && width.length === 1) return every(pair(width[0], 'pad width[0]'));
  if (Array.isArray(width) && width.length === ndim) return width.map((p, i) => pair(p, `pad width[${i}]`));
  throw new TypeError(`pad width must be a number, a [before, after] pair or one pair per axis (${ndim}), got ` +
    `${describeValue(width)}`);
}

/** NumPy's constant pad: `width` elements of `value` (default 0) before and after each axis. */
export function pad(x: Tensor, width: number | readonly number[] | readonly (readonly number[])[], value = 0): Tensor {
  x = tensorArg(x, 'x');
  if (typeof value !== 'number') throw new TypeError(`value must be a number, got ${describeValue(value)}`);
  const widths = padWidths(width, x.ndim);
  const k = getBackend();
  let y = x;
  widths.forEach(([before, after], a) => {
    if (before === 0 && after === 0) return;
    const [outer, n, inner] = around(y.shape, a);
    const shape = [...y.shape];
    shape[a] = before + n + after;
    const out = empty(shape, y.dtype);
    out.data.fill(value);
    if (y.size === 0) {  // nothing to copy: the padding is all of it
      y = out;
      return;
    }
    const index = new Int32Array(n);
    for (let j = 0; j < n; j++) index[j] = before + j;
    k.scatterAxis(n, outer, shape[a], inner, y.data, index, out.data, false);
    y = out;
  });
  return record('pad', [x, value], y === x ? x.clone() : y, widths);
}
