// Reductions over one or several axes (sum, mean, prod, max, min, var, std, logSumExp, argmax, argmin) and softmax
// along an axis, NumPy's semantics. The reduced axes are brought together (a transpose when they are not
// neighbours) so that one kernel call reduces the middle axis of an (outer, n, inner) view.
import { getBackend } from '../backend/index';
import type { ReduceOpKind } from '../backend/kernels.gen';
import { Tensor, formatShape } from '../tensor';
import { describeValue, knownOptions } from '../validate';
import { empty, normalizeAxes, normalizeAxis, permute, span, tensorArg } from './shape';
import { notifyTracer, record } from '../autograd/tape';

/** The axes to reduce: one, several, or all of them (undefined or null). */
export type Axis = number | readonly number[] | null | undefined;

/** Options of the reductions (sum, mean, max, ...): the axes reduced (default: all) and whether they are kept. */
export interface ReduceOptions {
  axis?: Axis;
  /** Keep the reduced axes as size-1 axes (default false). */
  keepdims?: boolean;
}

/** Options of variance and std: ReduceOptions and the divisor's ddof. */
export interface VarianceOptions extends ReduceOptions {
  /** Delta degrees of freedom: the divisor is n − ddof (default 0, NumPy's; 1 for the unbiased estimate). */
  ddof?: number;
}

/** `sum(x, 1)`, `sum(x, [0, 2], true)` and `sum(x, { axis: 1, keepdims: true })` all read the same. */
function readOptions<O extends ReduceOptions>(axisOrOptions: Axis | O, keepdims: boolean | undefined, op: string,
  known: readonly string[] = REDUCE_OPTIONS): O {
  if (axisOrOptions !== null && typeof axisOrOptions === 'object' && !Array.isArray(axisOrOptions)) {
    // a misspelt option ({ axes: 1 }, TensorFlow.js's keepDims) would else reduce over every axis, silently
    knownOptions(axisOrOptions, known, op);
    return { ...(axisOrOptions as O), keepdims: (axisOrOptions as O).keepdims ?? keepdims ?? false };
  }
  return { axis: axisOrOptions as Axis, keepdims: keepdims ?? false } as O;
}

const REDUCE_OPTIONS = ['axis', 'keepdims'];

interface Plan {
  x: Tensor;
  outer: number;
  n: number;
  inner: number;
  /** The result's shape. */
  shape: number[];
}

/** x arranged so that the reduced axes are one block in the middle of (outer, n, inner). */
function plan(x: Tensor, opts: ReduceOptions): Plan {
  if (typeof opts.keepdims !== 'boolean') throw new TypeError(`keepdims must be a boolean, got ${describeValue(opts.keepdims)}`);
  const axes = normalizeAxes(opts.axis, x.ndim);
  const reduced = new Set(axes);
  const shape = opts.keepdims
    ? x.shape.map((d, i) => (reduced.has(i) ? 1 : d))
    : x.shape.filter((_, i) => !reduced.has(i));
  if (axes.length === 0) return { x, outer: x.size, n: 1, inner: 1, shape };
  const first = axes[0], last = axes[axes.length - 1];
  if (last - first + 1 === axes.length) {
    return { x, outer: span(x.shape, 0, first), n: span(x.shape, first, last + 1), inner: span(x.shape, last + 1, x.ndim), shape };
  }
  // not neighbours: the kept axes first, the reduced ones last
  const kept = x.shape.map((_, i) => i).filter((i) => !reduced.has(i));
  const moved = permute(x, [...kept, ...axes]);
  const outer = kept.reduce((s, i) => s * x.shape[i], 1), n = axes.reduce((s, i) => s * x.shape[i], 1);
  return { x: moved, outer, n, inner: 1, shape };
}

function reduceOp(op: ReduceOpKind, x: Tensor, axisOrOptions: Axis | ReduceOptions, keepdims?: boolean): Tensor {
  x = tensorArg(x, 'x');
  const opts = readOptions(axisOrOptions, keepdims, op);
  const p = plan(x, opts);
  // NumPy raises for an empty axis even where the result is empty too (np.max(np.zeros((0, 0)), axis=0))
  if ((op === 'max' || op === 'min') && p.n === 0) {
    throw new RangeError(`${op} of an empty axis (shape ${formatShape(x.shape)}): the reduction has no identity`);
  }
  const y = empty(p.shape, x.dtype);
  if (y.size > 0) getBackend().reduceAxis(op, p.outer, p.n, p.inner, p.x.data, y.data);
  return record(op, [x], y, opts);
}

/** A reduction over one or several axes: `f(x)`, `f(x, 1)`, `f(x, [0, 2], true)`, `f(x, { axis, keepdims })`. */
export type Reduction = (x: Tensor, axis?: Axis | ReduceOptions, keepdims?: boolean) => Tensor;

const reduction = (op: ReduceOpKind): Reduction => (x, axis, keepdims) => reduceOp(op, x, axis, keepdims);

/**
 * Σ over the axes (all by default). float32 sums are not NumPy's float32 pairwise sums: the `ts` backend adds in
 * double; native adds in float32 vector lanes (one accumulator per column when the axis is not the last) and
 * combines the lanes and 4096-element blocks in double. Results agree within float32 rounding, but where partial
 * sums pass float32's largest value (3.4e38) the result may be Infinity on native (as in NumPy) and finite on `ts`:
 * the mean of 64 values of 3e38, or of two along a first axis, is 3e38 on `ts` and Infinity on native and in NumPy
 * (mean([3e38, 3e38]) is 3e38 on both backends, the two values sitting in different lanes; NumPy gives Infinity).
 * A sum starts from +0, as NumPy's: the sum of −0s (one −0 too) is +0.
 */
export const sum = reduction('sum');
/** The mean over the axes (NaN over no values); float32 as sum's (see there). */
export const mean = reduction('mean');
/** Π over the axes. */
export const prod = reduction('prod');
/**
 * The maximum over the axes; NaN if any value is NaN; an empty axis is a RangeError. Among zeros +0 is the larger
 * (IEEE 754-2019 maximum): max([-0, 0]) and max([0, -0]) are both +0, whatever the order (NumPy's answer depends on
 * it, and on the dtype and the length: test/fixtures/ops-signed-zero.json; an order-free rule lets the native
 * backend compare in lanes and threads).
 */
export const max = reduction('max');
/**
 * The minimum over the axes; NaN if any value is NaN; an empty axis is a RangeError. Among zeros -0 is the smaller
 * (IEEE 754-2019 minimum), whatever the order (NumPy's answer depends on the order, the dtype and the length).
 */
export const min = reduction('min');
/** log Σ exp(x) over the axes, computed stably (max + log Σ exp(x − max)). */
export const logSumExp = reduction('logSumExp');

function varianceOp(sqrt: boolean, x: Tensor, axisOrOptions: Axis | VarianceOptions, keepdims?: boolean): Tensor {
  x = tensorArg(x, 'x');
  const opts = readOptions<VarianceOptions>(axisOrOptions, keepdims, sqrt ? 'std' : 'var', [...REDUCE_OPTIONS, 'ddof']);
  const ddof = opts.ddof ?? 0;
  if (typeof ddof !== 'number' || !(ddof >= 0) || !Number.isFinite(ddof)) {
    throw new RangeError(`ddof must be a non-negative number, got ${describeValue(ddof)}`);
  }
  const p = plan(x, opts);
  const y = empty(p.shape, x.dtype);
  if (y.size > 0) getBackend().varianceAxis(p.outer, p.n, p.inner, ddof, sqrt, p.x.data, y.data);
  return record(sqrt ? 'std' : 'var', [x], y, opts);
}

/** The variance over the axes: Σ (x − mean)² / (n − ddof), ddof 0 by default (NumPy's). */
export const variance = (x: Tensor, axis?: Axis | VarianceOptions, keepdims?: boolean): Tensor =>
  varianceOp(false, x, axis, keepdims);
/** The standard deviation over the axes: √variance, ddof 0 by default (NumPy's). */
export const std = (x: Tensor, axis?: Axis | VarianceOptions, keepdims?: boolean): Tensor =>
  varianceOp(true, x, axis, keepdims);

export { variance as var };

/** Options of argmax and argmin: the axis searched (default null: the flattened tensor) and whether it is kept. */
export interface ArgOptions {
  axis?: number | null;
  keepdims?: boolean;
}

function argOp(op: 'argmax' | 'argmin', x: Tensor, axisOrOptions?: number | null | ArgOptions, keepdims?: boolean): Tensor {
  x = tensorArg(x, 'x');
  const isOptions = axisOrOptions !== null && typeof axisOrOptions === 'object' && !Array.isArray(axisOrOptions);
  if (isOptions) knownOptions(axisOrOptions, REDUCE_OPTIONS, op);
  const opts = isOptions
    ? { axis: axisOrOptions.axis, keepdims: axisOrOptions.keepdims ?? keepdims ?? false }
    : { axis: axisOrOptions as number | null | undefined, keepdims: keepdims ?? false };
  if (Array.isArray(opts.axis)) throw new TypeError(`${op} takes one axis or none, got [${opts.axis.join(', ')}]`);
  if (typeof opts.keepdims !== 'boolean') throw new TypeError(`keepdims must be a boolean, got ${describeValue(opts.keepdims)}`);
  let outer: number, n: number, inner: number, shape: number[];
  if (opts.axis === undefined || opts.axis === null) {
    // the index into the flattened tensor, as NumPy
    [outer, n, inner] = [1, x.size, 1];
    shape = opts.keepdims ? x.shape.map(() => 1) : [];
  } else {
    const a = normalizeAxis(opts.axis, x.ndim);
    [outer, n, inner] = [span(x.shape, 0, a), x.shape[a], span(x.shape, a + 1, x.ndim)];
    shape = opts.keepdims ? x.shape.map((d, i) => (i === a ? 1 : d)) : x.shape.filter((_, i) => i !== a);
  }
  const count = outer * inner;
  if (n === 0) {  // as NumPy, even where the result is empty too
    throw new RangeError(`${op} of an empty sequence: axis of size 0 in shape ${formatShape(x.shape)}`);
  }
  // float32 holds every index below 2^24 exactly; longer axes give float64 indices
  const y = empty(shape, x.dtype === 'float32' && n > 2 ** 24 ? 'float64' : x.dtype);
  notifyTracer(op, [x], y, { axis: opts.axis ?? null, keepdims: opts.keepdims });
  if (count === 0) return y;
  const out = new Int32Array(count);
  getBackend().argReduceAxis(op, outer, n, inner, x.data, out);
  y.data.set(out);
  return y;
}

/** argmax or argmin: `f(x)` (over the flattened tensor), `f(x, axis, keepdims)`, `f(x, { axis, keepdims })`. */
export type ArgReduction = (x: Tensor, axis?: number | null | ArgOptions, keepdims?: boolean) => Tensor;

/**
 * The index of the first maximum along `axis` (of the flattened tensor when none); a NaN counts as the maximum
 * (NumPy's rule). The indices come as a tensor of x's dtype (float64 for a float32 axis longer than 2^24).
 */
export const argmax: ArgReduction = (x, axis, keepdims) => argOp('argmax', x, axis, keepdims);
/** The index of the first minimum along `axis`, as argmax. */
export const argmin: ArgReduction = (x, axis, keepdims) => argOp('argmin', x, axis, keepdims);

function softmaxOp(log: boolean, x: Tensor, axis: number): Tensor {
  x = tensorArg(x, 'x');
  if (x.ndim === 0) throw new RangeError(`${log ? 'logSoftmax' : 'softmax'} needs a tensor of at least one dimension`);
  const a = normalizeAxis(axis, x.ndim);
  const y = empty(x.shape, x.dtype);
  if (y.size > 0) getBackend().softmaxAxis(log, span(x.shape, 0, a), x.shape[a], span(x.shape, a + 1, x.ndim), x.data, y.data);
  return record(log ? 'logSoftmax' : 'softmax', [x], y, a);
}

/** exp(x) / Σ exp(x) along `axis` (default the last), computed stably with x − max. */
export const softmax = (x: Tensor, axis = -1): Tensor => softmaxOp(false, x, axis);
/** log softmax along `axis` (default the last): x − logSumExp(x), stable. */
export const logSoftmax = (x: Tensor, axis = -1): Tensor => softmaxOp(true, x, axis);
