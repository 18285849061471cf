// Indexing: slice (per-axis start/stop/step, negative indices), take/gather with an index array (the course
// material's x_train[batch_mask]), boolean-mask selection (x[x > 15]), oneHot and scatterAdd. The copies run on the
// gatherAxis / scatterAxis / oneHot / nonzeroIndices kernels. An index out of range is a RangeError naming the
// index, the axis and its size.
import { isGradEnabled, isTracing, notifyTracer, record } from '../autograd/tape';
import { getBackend } from '../backend/index';
import {
  Tensor, type DType, type FloatArray, type NestedArray, allocateUninitialized, checkElements, formatShape, sizeOf,
} from '../tensor';
import { describeValue, isArray } from '../validate';
import { type OutOptions, outArg, outData } from './elementwise';
import {
  around, commonDType, empty, emptyAlong, gatherAlong, indexArray, normalizeAxis, span, tensorArg, wrapIndices,
} from './shape';

/**
 * What one axis of a slice takes: an integer (that index; the axis is dropped, as x[1] in NumPy), null or
 * undefined (the whole axis), [start, stop?, step?] or { start, stop, step } (Python's slice: negative indices
 * count from the end, out-of-range bounds are clipped, a negative step walks backwards; null means the default).
 */
export type SliceSpec =
  | number
  | null
  | undefined
  | readonly (number | null | undefined)[]
  | { start?: number | null; stop?: number | null; step?: number | null };

/** Python's slice.indices(): the first index a slice takes from an axis of `size`, its step and how many it takes. */
function sliceRange(start: number | null | undefined, stop: number | null | undefined, step: number | null | undefined,
  size: number, axis: number): { first: number; step: number; count: number } {
  const bound = (v: number | null | undefined, what: string): number | null => {
    if (v === null || v === undefined) return null;
    if (typeof v !== 'number' || !Number.isInteger(v)) throw new TypeError(`slice ${what} of axis ${axis} must be an integer, got ${describeValue(v)}`);
    return v;
  };
  const st = bound(step, 'step') ?? 1;
  if (st === 0) throw new RangeError(`slice step of axis ${axis} cannot be zero`);
  let b = bound(start, 'start'), e = bound(stop, 'stop');
  if (st > 0) {
    b = b === null ? 0 : b < 0 ? Math.max(b + size, 0) : Math.min(b, size);
    e = e === null ? size : e < 0 ? Math.max(e + size, 0) : Math.min(e, size);
  } else {
    b = b === null ? size - 1 : b < 0 ? Math.max(b + size, -1) : Math.min(b, size - 1);
    e = e === null ? -1 : e < 0 ? Math.max(e + size, -1) : Math.min(e, size - 1);
  }
  const count = st > 0 ? Math.max(0, Math.ceil((e - b) / st)) : Math.max(0, Math.ceil((b - e) / -st));
  return { first: b, step: st, count };
}

/**
 * x sliced axis by axis, NumPy's basic indexing: `slice(x, [1, 3], null, [null, null, -1])` is x[1:3, :, ::-1];
 * axes not given are taken whole; an integer picks one index and drops the axis. A copy.
 */
export function slice(x: Tensor, ...specs: SliceSpec[]): Tensor {
  x = tensorArg(x, 'x');
  if (specs.length > x.ndim) {
    throw new RangeError(`too many indices: ${specs.length} for a tensor of ${x.ndim} dimension${x.ndim === 1 ? '' : 's'} ` +
      `(shape ${formatShape(x.shape)})`);
  }
  let y = x;
  const dropped: number[] = [];
  specs.forEach((spec, axis) => {
    const size = x.shape[axis];
    let range: { first: number; step: number; count: number };
    if (spec === null || spec === undefined) return;
    if (typeof spec === 'number') {
      if (!Number.isInteger(spec)) throw new TypeError(`index of axis ${axis} must be an integer, got ${spec}`);
      // checked as a number: an Int32Array would wrap 2^32 to 0 (element 0, silently)
      if (spec < -size || spec >= size) throw new RangeError(`index ${spec} is out of bounds for axis ${axis} with size ${size}`);
      range = { first: spec < 0 ? spec + size : spec, step: 1, count: 1 };
      dropped.push(axis);
    } else if (isArray(spec)) {
      if (spec.length < 1 || spec.length > 3) {
        throw new RangeError(`slice of axis ${axis} must be [start, stop?, step?], got [${spec.join(', ')}]`);
      }
      range = sliceRange(spec[0], spec.length > 1 ? spec[1] : null, spec[2], size, axis);
    } else if (typeof spec === 'object') {
      const s = spec as { start?: number | null; stop?: number | null; step?: number | null };
      range = sliceRange(s.start, s.stop, s.step, size, axis);
    } else {
      throw new TypeError(`index of axis ${axis} must be an integer, null, [start, stop, step] or { start, stop, step }, ` +
        `got ${describeValue(spec)}`);
    }
    const { first, step, count } = range;
    if (count === size && (count === 0 || first === 0) && (count <= 1 || step === 1)) return;  // the whole axis
    if (y.size === 0) {  // an empty tensor: the indices of a long axis are not listed
      y = emptyAlong(y, axis, count);
      return;
    }
    const index = new Int32Array(count);
    for (let j = 0; j < count; j++) index[j] = first + j * step;
    y = gatherAlong(y, axis, index);
  });
  if (y === x) y = x.clone();
  return dropped.length ? y.reshape(y.shape.filter((_, i) => !dropped.includes(i))) : y;
}

/**
 * NumPy's take (TensorFlow's gather): the elements at `indices` along `axis` — of the flattened tensor when axis is
 * null or undefined. `x_train[batch_mask]` is take(xTrain, batchMask, 0). The result's shape is x.shape with axis
 * replaced by the indices' shape. Negative indices count from the end. `out` (NumPy's out=) takes the result instead
 * of a new tensor: it must have the result's shape and x's dtype, and share no memory with x; writing into it is not
 * recorded by autograd (with gradient recording on, neither x nor out may require a gradient). Reusing one `out`
 * for every mini-batch saves a fresh result's allocation, which costs more than the gather.
 */
export function take(x: Tensor, indices: Int32Array | readonly number[] | Tensor | number, axis?: number | null,
  options?: OutOptions): Tensor {
  x = tensorArg(x, 'x');
  const out = outArg(options, 'take');
  // an Int32Array (a mini-batch's indices) as is; indexShape null for its one axis
  let index: Int32Array, indexShape: number[] | null = null;
  if (indices instanceof Int32Array) index = indices;
  else ({ index, shape: indexShape } = indexArray(indices, 'indices'));
  const flat = axis === undefined || axis === null;
  if (!flat && x.ndim === 0) throw new RangeError('take along an axis of a 0-d tensor: pass axis null');
  const a = flat ? 0 : normalizeAxis(axis, x.ndim);
  if (out === undefined && ((isGradEnabled() && x.requiresGrad) || isTracing())) {
    // recorded: the gatherAxis of x (flattened when no axis) and the reshapes, as the graph and an ONNX export see them
    const src = flat ? x.reshape([x.size]) : x;
    const y = gatherAlong(src, a, wrapIndices(index, src.shape[a], a));
    return indexShape === null || indexShape.length === 1 ? y
      : y.reshape([...src.shape.slice(0, a), ...indexShape, ...src.shape.slice(a + 1)]);
  }
  // the same kernel call on the (outer, n, inner) view, the result's shape built once
  const xs = x.shape;
  const n = flat ? x.size : xs[a], outer = flat ? 1 : span(xs, 0, a), inner = flat ? 1 : span(xs, a + 1, xs.length);
  const valid = wrapIndices(index, n, a);
  const shape: number[] = [];
  if (!flat) for (let i = 0; i < a; i++) shape.push(xs[i]);
  if (indexShape === null) shape.push(index.length);
  else for (let i = 0; i < indexShape.length; i++) shape.push(indexShape[i]);
  if (!flat) for (let i = a + 1; i < xs.length; i++) shape.push(xs[i]);
  Object.freeze(shape);
  let y: FloatArray;
  if (out === undefined) {
    y = allocateUninitialized(x.dtype, checkElements(shape, 'the result of shape'));
  } else {
    if (out.dtype !== x.dtype) throw new TypeError(`take: out has dtype ${out.dtype} but the result has dtype ${x.dtype}`);
    y = outData('take', out, shape, x);
  }
  if (y.length > 0) getBackend().gatherAxis(valid.length, outer, n, inner, x.data, valid, y);
  return out ?? new Tensor(y, shape);
}

/** TensorFlow's name for take along an axis (default 0); `out` as take's. */
export function gather(x: Tensor, indices: Int32Array | readonly number[] | Tensor | number, axis = 0,
  options?: OutOptions): Tensor {
  return take(x, indices, axis, options);
}

/**
 * The elements of x where `mask` is nonzero (NumPy's x[mask] with a boolean mask; a comparison's 0/1 tensor is
 * one; NaN counts as true), in row-major order. mask has x's shape, or the shape of x's leading axes: then whole
 * sub-tensors are selected, the result being (count, ...the rest of x's shape).
 */
export function maskedSelect(x: Tensor, mask: Tensor | readonly unknown[]): Tensor {
  x = tensorArg(x, 'x');
  const m = Array.isArray(mask) ? new Tensor(booleansAsNumbers(mask) as NestedArray) : tensorArg(mask, 'mask');
  if (m.ndim > x.ndim || m.shape.some((d, i) => d !== x.shape[i])) {
    throw new RangeError(`mask ${formatShape(m.shape)} does not fit x ${formatShape(x.shape)}: it must have x's shape ` +
      'or the shape of its leading axes');
  }
  const n = m.size, inner = sizeOf(x.shape.slice(m.ndim));
  const k = getBackend();
  const positions = new Int32Array(n);
  const count = k.nonzeroIndices(n, m.data, positions);
  const y = empty([count, ...x.shape.slice(m.ndim)], x.dtype);
  const taken = positions.subarray(0, count);
  if (y.size > 0) k.gatherAxis(count, 1, n, inner, x.data, taken, y.data);
  return record('maskedSelect', [x], y, { n, inner, positions: taken });
}

/** A nested array with true and false as 1 and 0. */
function booleansAsNumbers(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(booleansAsNumbers);
  return typeof v === 'boolean' ? Number(v) : v;
}

/** TensorFlow's name for maskedSelect. */
export function booleanMask(x: Tensor, mask: Tensor | readonly unknown[]): Tensor {
  return maskedSelect(x, mask);
}

/**
 * One-hot rows: for indices of shape S, a tensor (...S, depth) with 1 at each index and 0 elsewhere. An index
 * outside [0, depth) is a RangeError.
 */
export function oneHot(indices: Int32Array | readonly number[] | Tensor, depth: number, dtype: DType = 'float32'): Tensor {
  const { index, shape } = indexArray(indices, 'indices');
  if (dtype !== 'float32' && dtype !== 'float64') throw new TypeError(`dtype must be 'float32' or 'float64', got ${describeValue(dtype)}`);
  if (!Number.isInteger(depth) || depth < 0) throw new RangeError(`depth must be a non-negative integer, got ${describeValue(depth)}`);
  for (let i = 0; i < index.length; i++) {
    if (index[i] < 0 || index[i] >= depth) {
      throw new RangeError(`index ${index[i]} (indices[${i}]) is out of bounds for oneHot depth ${depth}`);
    }
  }
  const y = empty([...shape, depth], dtype);
  getBackend().oneHot(index.length, depth, index, y.data);
  notifyTracer('oneHot', [indices], y, { depth });
  return y;
}

/**
 * A copy of x with `updates` added at `indices` along `axis` (default 0): y[..., indices[j], ...] += updates[..., j,
 * ...], repeated indices adding up (NumPy's np.add.at, PyTorch's index_add). updates has x's shape with the axis
 * replaced by the number of indices.
 */
export function scatterAdd(x: Tensor, indices: Int32Array | readonly number[] | Tensor, updates: Tensor, axis = 0): Tensor {
  x = tensorArg(x, 'x');
  updates = tensorArg(updates, 'updates');
  if (x.ndim === 0) throw new RangeError('scatterAdd needs a tensor of at least one dimension, got a 0-d tensor');
  const a = normalizeAxis(axis, x.ndim);
  const { index } = indexArray(indices, 'indices');
  const valid = wrapIndices(index, x.shape[a], a);
  const want = x.shape.map((d, i) => (i === a ? index.length : d));
  if (updates.ndim !== want.length || updates.shape.some((d, i) => d !== want[i])) {
    throw new RangeError(`updates has shape ${formatShape(updates.shape)}, expected ${formatShape(want)} (x's shape with ` +
      `axis ${a} the ${index.length} indices)`);
  }
  const dtype = commonDType([x, updates]);
  const y = x.dtype === dtype ? x.clone() : x.astype(dtype);
  const u = updates.dtype === dtype ? updates : updates.astype(dtype);
  const [outer, n, inner] = around(x.shape, a);
  getBackend().scatterAxis(valid.length, outer, n, inner, u.data, valid, y.data, true);
  return record('scatterAdd', [x, updates], y, { axis: a, index: valid });
}
