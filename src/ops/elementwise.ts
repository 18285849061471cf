// Element-wise tensor operations with NumPy broadcasting: arithmetic, comparisons, where(), unary maps and
// activations, and the element-wise tests equal() and allClose(). Every one runs on backend kernels
// (broadcastBinary, broadcastWhere, unary); this file only works out shapes, dtypes and the kernels' arguments.
//
// The dtype rule: the result is float64 if any tensor operand is float64, else float32 (a float32 operand is
// converted first). A JavaScript number takes the dtype of the tensor beside it (like NumPy's Python scalars), so
// `x.mul(0.5)` keeps x's dtype.
import { getBackend } from '../backend/index';
import type { BinaryOp, UnaryOp } from '../backend/backend';
import {
  type DType, type FloatArray, type Shape, Tensor, allocate, allocateUninitialized, checkAttached, checkElements, formatShape, sizeOf,
} from '../tensor';
import { describeValue } from '../validate';
import { broadcastShapes, contiguousStrides } from './broadcast';
import { isGradEnabled, isTracing, markWritten, record } from '../autograd/tape';

/** A tensor, or a number standing for a tensor of shape [] of the other operand's dtype. */
export type TensorLike = Tensor | number;

/** The axes the kernels take: longer shapes are collapsed, then walked in blocks of this many axes. */
const KERNEL_AXES = 4;

/** The result dtype of operands (see the file's comment): float64 wins. */
export function resultDType(...xs: TensorLike[]): DType {
  return xs.some((x) => x instanceof Tensor && x.dtype === 'float64') ? 'float64' : 'float32';
}

/** `x` as a tensor of `dtype`: a number becomes a tensor of shape []; a tensor of another dtype is converted. */
function operand(x: unknown, name: string, dtype: DType): Tensor {
  if (x instanceof Tensor) {
    checkAttached(x, name);
    return x.dtype === dtype ? x : x.astype(dtype);
  }
  if (typeof x === 'number') {
    const data = allocate(dtype, 1);
    data[0] = x;
    return new Tensor(data, []);
  }
  throw new TypeError(`${name} must be a Tensor or a number, got ${describeValue(x)}`);
}

function checkTensor(x: unknown, name: string): Tensor {
  if (!(x instanceof Tensor)) throw new TypeError(`${name} must be a Tensor, got ${describeValue(x)}`);
  return checkAttached(x, name);
}

/**
 * The operands' shapes as the same few axes: axes of size 1 in the result are dropped and neighbouring axes on
 * which every operand is alike (all its own, or broadcast) are merged. `dims[k]` are operand k's sizes and
 * `out` the result's, all of one length.
 */
function collapse(shapes: Shape[], out: Shape): { out: number[]; dims: number[][] } {
  const n = out.length;
  const padded = shapes.map((s) => [...new Array<number>(n - s.length).fill(1), ...s]);
  const res: { out: number[]; dims: number[][] } = { out: [], dims: shapes.map(() => []) };
  let prev: boolean[] | null = null;
  for (let i = 0; i < n; i++) {
    if (out[i] === 1) continue;
    const own = padded.map((d) => d[i] !== 1);
    const last = res.out.length - 1;
    if (prev && own.every((o, k) => o === prev![k])) {
      res.out[last] *= out[i];
      res.dims.forEach((d, k) => { d[last] *= padded[k][i]; });
    } else {
      res.out.push(out[i]);
      res.dims.forEach((d, k) => d.push(padded[k][i]));
    }
    prev = own;
  }
  return res;
}

/**
 * Calls `kernel(dims, arrays, y)` with every operand's sizes as KERNEL_AXES axes: once when the collapsed shape
 * fits, else once per index of the leading axes (a block of the trailing KERNEL_AXES axes each, rare).
 */
function runBroadcast(operands: Tensor[], outShape: Shape, y: FloatArray,
  kernel: (dims: number[][], arrays: FloatArray[], y: FloatArray) => void): void {
  if (y.length === 0) return;
  const { out, dims } = collapse(operands.map((t) => t.shape), outShape);
  const pad = (d: number[]) => [...new Array<number>(Math.max(0, KERNEL_AXES - d.length)).fill(1), ...d];
  if (out.length <= KERNEL_AXES) {
    kernel(dims.map(pad), operands.map((t) => t.data), y);
    return;
  }
  const lead = out.length - KERNEL_AXES;
  const strides = dims.map((d) => contiguousStrides(d).map((s, i) => (d[i] === 1 ? 0 : s)));
  const inner = dims.map((d) => d.slice(lead));
  const innerSizes = inner.map((d) => sizeOf(d));
  const block = sizeOf(out.slice(lead));
  const index = new Array<number>(lead).fill(0);
  for (let at = 0; at < y.length; at += block) {
    const arrays = operands.map((t, k) => {
      let o = 0;
      for (let i = 0; i < lead; i++) o += index[i] * strides[k][i];
      return t.data.subarray(o, o + innerSizes[k]);
    });
    kernel(inner, arrays, y.subarray(at, at + block));
    for (let i = lead - 1; i >= 0 && ++index[i] === out[i]; i--) index[i] = 0;
  }
}

function sameShape(a: Shape, b: Shape): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Options of the element-wise operations. `out` (PyTorch's and NumPy's `out=`) takes the result instead of a new
 * tensor: it must have the result's shape; the operands are converted to its dtype; it may be one of the operands
 * (the operation then runs in place, as `a.add_(b)` does), but must share no other memory with them. Writing into
 * `out` is not recorded by autograd: with gradient recording on, no operand nor `out` may require a gradient.
 * Reusing one result tensor saves the allocation of a fresh one, which for large tensors costs more than the
 * operation (see README, "Tensors").
 */
export interface OutOptions {
  out?: Tensor | null;
}

/** options.out checked (a tensor, attached, not requiring a gradient), or undefined. */
export function outArg(options: OutOptions | undefined, op: string): Tensor | undefined {
  if (options === undefined || options === null) return undefined;
  if (typeof options !== 'object') throw new TypeError(`${op}: options must be an object, got ${describeValue(options)}`);
  // out is the one option: another ({ dtype }, { where }) would else be ignored (a for-in: no array made per call)
  for (const k in options) if (k !== 'out') throw new TypeError(`unknown ${op} option '${k}'; the options are out`);
  const out = options.out;
  if (out === undefined || out === null) return undefined;
  if (!(out instanceof Tensor)) throw new TypeError(`${op}: out must be a Tensor, got ${describeValue(out)}`);
  return checkAttached(out, 'out');
}

/** out's data for a result of `shape`, after the checks: its shape, and nothing that autograd would record. */
export function outData(op: string, out: Tensor, shape: Shape, a: unknown, b?: unknown): FloatArray {
  if (!sameShape(out.shape, shape)) {
    throw new RangeError(`${op}: out has shape ${formatShape(out.shape)} but the result has shape ${formatShape(shape)}`);
  }
  if (isGradEnabled() && (out.requiresGrad || recording(a, b))) {
    const name = out.requiresGrad ? 'out' : recording(a) ? (b === undefined ? 'x' : 'a') : 'b';
    throw new Error(`${op}: writing into out (or in place) is not recorded by autograd, and ${name} requires a ` +
      'gradient; use the operation without out, or run it inside noGrad()');
  }
  if (isTracing()) {
    throw new Error(`${op}: writing into out (or in place) cannot be traced (exportOnnx): use the operation without out`);
  }
  markWritten(out.data);
  return out.data;
}

/** Whether autograd records an operation on these operands (record() would keep it): checked before its array. */
function recording(a: unknown, b?: unknown): boolean {
  return isGradEnabled() && ((a instanceof Tensor && a.requiresGrad) || (b instanceof Tensor && b.requiresGrad));
}

/** y = op(a, b) with broadcasting, through the broadcastBinary kernel. */
function binary(op: BinaryOp, a: unknown, b: unknown, options?: OutOptions): Tensor {
  const out = outArg(options, op);
  const dtype = out !== undefined ? out.dtype
    : (a instanceof Tensor && a.dtype === 'float64') || (b instanceof Tensor && b.dtype === 'float64') ? 'float64'
        : 'float32';
  const ta = operand(a, 'a', dtype), tb = operand(b, 'b', dtype);
  const backend = getBackend();
  // the common cases without the general walk: equal shapes, or a one-element operand on either side
  const na = ta.data.length, nb = tb.data.length;
  const same = sameShape(ta.shape, tb.shape);
  const simple = same || (nb === 1 && ta.shape.length >= tb.shape.length) || (na === 1 && tb.shape.length >= ta.shape.length);
  const shape = same || (simple && nb === 1 && ta.shape.length >= tb.shape.length) ? ta.shape
    : simple ? tb.shape : broadcastShapes(ta.shape, tb.shape);
  const y = out === undefined ? allocateUninitialized(dtype, shape === ta.shape ? na : simple ? nb : checkElements(shape, 'the result of shape'))
    : outData(op, out, shape, a, b);
  if (same) {
    // the kernel of few arguments: a tiny operation's call costs about half of broadcastBinary's
    if (y.length > 0) backend.binarySame(op, na, ta.data, tb.data, y);
  } else if (simple) {
    if (y.length > 0) backend.broadcastBinary(op, 1, 1, 1, na, 1, 1, 1, nb, ta.data, tb.data, y);
  } else {
    runBroadcast([ta, tb], shape, y, (d, x, o) => {
      backend.broadcastBinary(op, d[0][0], d[0][1], d[0][2], d[0][3], d[1][0], d[1][1], d[1][2], d[1][3], x[0], x[1], o);
    });
  }
  if (out !== undefined) return out;
  const t = new Tensor(y, shape);
  return recording(a, b) || isTracing() ? record(op, [a, b], t) : t;
}

/** y = op(x), through the unary kernel. */
function unary(op: UnaryOp, x: unknown, alpha: number, beta: number, options: OutOptions | undefined): Tensor {
  let t = checkTensor(x, 'x');
  const out = outArg(options, op);
  if (out !== undefined && out.dtype !== t.dtype) t = t.astype(out.dtype);
  const y = out === undefined ? allocateUninitialized(t.dtype, t.size) : outData(op, out, t.shape, x);
  getBackend().unary(op, t.size, t.data, y, alpha, beta);
  if (out !== undefined) return out;
  const r = new Tensor(y, t.shape);
  return recording(t) || isTracing() ? record(op, [t], r, [alpha, beta]) : r;
}

// ---- arithmetic (NumPy broadcasting; a number operand takes the tensor's dtype; float64 wins)

/** a + b, broadcast. */
export function add(a: TensorLike, b: TensorLike, options?: OutOptions): Tensor { return binary('add', a, b, options); }
/** a − b, broadcast. */
export function sub(a: TensorLike, b: TensorLike, options?: OutOptions): Tensor { return binary('sub', a, b, options); }
/** a · b, broadcast. */
export function mul(a: TensorLike, b: TensorLike, options?: OutOptions): Tensor { return binary('mul', a, b, options); }
/** a / b, broadcast (IEEE: x / 0 is ±Infinity, 0 / 0 is NaN). */
export function div(a: TensorLike, b: TensorLike, options?: OutOptions): Tensor { return binary('div', a, b, options); }
/** a ^ b, broadcast (computed in double, then rounded to the dtype; a negative base with a fractional power is NaN). */
export function pow(a: TensorLike, b: TensorLike, options?: OutOptions): Tensor { return binary('pow', a, b, options); }
/** The larger of a and b, broadcast; NaN if either is NaN; b when they are equal, -0 and +0 too (all as NumPy's maximum). */
export function maximum(a: TensorLike, b: TensorLike, options?: OutOptions): Tensor { return binary('maximum', a, b, options); }
/** The smaller of a and b, broadcast; NaN if either is NaN; b when they are equal, -0 and +0 too (all as NumPy's minimum). */
export function minimum(a: TensorLike, b: TensorLike, options?: OutOptions): Tensor { return binary('minimum', a, b, options); }

// ---- comparisons: 1 where true and 0 where false, in the result dtype (NumPy gives booleans; nodenn tensors are
// float, and a 0/1 mask multiplies, sums to a count and selects through where()). NaN compares false (ne: true).

/** 1 where a > b, else 0 (broadcast; a float 0/1 mask of the result dtype). */
export function gt(a: TensorLike, b: TensorLike, options?: OutOptions): Tensor { return binary('gt', a, b, options); }
/** 1 where a ≥ b, else 0 (broadcast; a float 0/1 mask). */
export function ge(a: TensorLike, b: TensorLike, options?: OutOptions): Tensor { return binary('ge', a, b, options); }
/** 1 where a < b, else 0 (broadcast; a float 0/1 mask). */
export function lt(a: TensorLike, b: TensorLike, options?: OutOptions): Tensor { return binary('lt', a, b, options); }
/** 1 where a ≤ b, else 0 (broadcast; a float 0/1 mask). */
export function le(a: TensorLike, b: TensorLike, options?: OutOptions): Tensor { return binary('le', a, b, options); }
/** 1 where a = b, else 0 (broadcast; a float 0/1 mask; NaN equals nothing). */
export function eq(a: TensorLike, b: TensorLike, options?: OutOptions): Tensor { return binary('eq', a, b, options); }
/** 1 where a ≠ b, else 0 (broadcast; a float 0/1 mask; NaN differs from everything, itself included). */
export function ne(a: TensorLike, b: TensorLike, options?: OutOptions): Tensor { return binary('ne', a, b, options); }

/**
 * a where cond is non-zero (NaN and any tiny non-zero count as true, as in NumPy), else b; the three broadcast
 * together. The dtype is that of a and b (float64 wins); cond is converted to it (a float64 cond as its mask).
 */
export function where(cond: TensorLike, a: TensorLike, b: TensorLike): Tensor {
  if (!(cond instanceof Tensor)) checkTensorOrNumber(cond, 'cond');
  const tensors = [a, b].filter((x): x is Tensor => x instanceof Tensor);
  const dtype = tensors.length > 0 ? resultDType(...tensors) : resultDType(cond);
  // a float64 cond narrowed to float32 would turn a tiny non-zero (5e-324, 1e-50) into 0: its mask (ne 0) first
  const mask = cond instanceof Tensor ? (cond.dtype === 'float64' && dtype === 'float32' ? ne(cond, 0) : cond)
    : Number(cond !== 0);
  const tc = operand(mask, 'cond', dtype), ta = operand(a, 'a', dtype), tb = operand(b, 'b', dtype);
  const shape = broadcastShapes(broadcastShapes(tc.shape, ta.shape, ['cond', 'a']), tb.shape,
    ['cond and a (broadcast)', 'b']);
  const y = allocateUninitialized(dtype, checkElements(shape, 'the result of shape'));
  const backend = getBackend();
  runBroadcast([tc, ta, tb], shape, y, ([dc, da, db], [xc, xa, xb], out) => {
    backend.broadcastWhere(dc[0], dc[1], dc[2], dc[3], da[0], da[1], da[2], da[3], db[0], db[1], db[2], db[3], xc, xa, xb,
      out);
  });
  return record('where', [cond, a, b], new Tensor(y, shape));
}

function checkTensorOrNumber(x: unknown, name: string): void {
  if (!(x instanceof Tensor) && typeof x !== 'number') {
    throw new TypeError(`${name} must be a Tensor or a number, got ${describeValue(x)}`);
  }
}

// ---- unary maps (same shape and dtype as x)

/** −x */
export function neg(x: Tensor, options?: OutOptions): Tensor { return unary('neg', x, 0, 0, options); }
/** |x| */
export function abs(x: Tensor, options?: OutOptions): Tensor { return unary('abs', x, 0, 0, options); }
/** 1 for x > 0, −1 for x < 0, +0 for ±0 (as NumPy's sign: np.sign(-0.0) is 0.0), NaN for NaN. */
export function sign(x: Tensor, options?: OutOptions): Tensor { return unary('sign', x, 0, 0, options); }
/** eˣ */
export function exp(x: Tensor, options?: OutOptions): Tensor { return unary('exp', x, 0, 0, options); }
/** ln x (−Infinity at 0, NaN below). */
export function log(x: Tensor, options?: OutOptions): Tensor { return unary('log', x, 0, 0, options); }
/** ln(1 + x), accurate near 0. */
export function log1p(x: Tensor, options?: OutOptions): Tensor { return unary('log1p', x, 0, 0, options); }
/** √x (NaN below 0). */
export function sqrt(x: Tensor, options?: OutOptions): Tensor { return unary('sqrt', x, 0, 0, options); }
/** x² */
export function square(x: Tensor, options?: OutOptions): Tensor { return unary('square', x, 0, 0, options); }
/**
 * max(x, 0), NaN kept: `x < 0 ? 0 : x`, so relu(−0) is −0, as the ReLU layer and every fused ReLU kernel compute it
 * (a deliberate difference from NumPy's maximum(x, 0), which gives its second operand, +0, on the tie).
 */
export function relu(x: Tensor, options?: OutOptions): Tensor { return unary('relu', x, 0, 0, options); }
/** x for x > 0, slope · x otherwise (slope 0.01 by default, as the LeakyReLU layer and PyTorch). */
export function leakyRelu(x: Tensor, slope = 0.01, options?: OutOptions): Tensor {
  if (typeof slope !== 'number' || !Number.isFinite(slope)) {
    throw new TypeError(`slope must be a finite number, got ${describeValue(slope)}`);
  }
  return unary('leakyRelu', x, slope, 0, options);
}
/** 1 / (1 + e^−x), computed without overflow. */
export function sigmoid(x: Tensor, options?: OutOptions): Tensor { return unary('sigmoid', x, 0, 0, options); }
/** tanh x */
export function tanh(x: Tensor, options?: OutOptions): Tensor { return unary('tanh', x, 0, 0, options); }
/** 1 for x > 0, 0 for x ≤ 0, NaN kept (the perceptron's step function). */
export function step(x: Tensor, options?: OutOptions): Tensor { return unary('step', x, 0, 0, options); }
/** ln(1 + eˣ), computed as max(x, 0) + ln(1 + e^−|x|) (no overflow). */
export function softplus(x: Tensor, options?: OutOptions): Tensor { return unary('softplus', x, 0, 0, options); }
/** x Φ(x) = x (1 + erf(x / √2)) / 2, the exact GELU (PyTorch's default), computed in double. */
export function gelu(x: Tensor, options?: OutOptions): Tensor { return unary('gelu', x, 0, 0, options); }

/**
 * min(max(x, min), max) element-wise (NumPy's clip, PyTorch's clamp): either bound may be left out (undefined or
 * null) and may be a tensor (broadcast) or a number; NaN in x stays NaN, and a NaN bound gives NaN where it applies
 * (np.clip(x, NaN, 2) is all NaN). With min > max every element is max.
 * Element by element it is `l = x < min ? min : x; l > max ? max : l`, np.clip's rule with number bounds: x itself
 * is kept where it equals a bound, ±0 included (clamp(−0, 0, 1) is −0, clamp(+0, −0, 1) is +0). nodenn keeps that
 * rule in every form; np.clip gives the bound's zero instead when a bound is left out or is an array that
 * broadcasts (it then runs np.maximum / np.minimum, which give their second operand on a tie).
 */
export function clamp(x: Tensor, min?: TensorLike | null, max?: TensorLike | null, options?: OutOptions): Tensor {
  const t = checkTensor(x, 'x');
  for (const [name, v] of [['min', min], ['max', max]] as const) {
    if (v !== undefined && v !== null && !(v instanceof Tensor) && typeof v !== 'number') {
      throw new TypeError(`clamp: ${name} must be a number, a Tensor, null or undefined, got ${describeValue(v)}`);
    }
  }
  const lo = min ?? null, hi = max ?? null;
  if (lo === null && hi === null) throw new TypeError('clamp: give min, max or both');
  // finite number bounds: one kernel; NaN (a number or in a tensor) goes through maximum/minimum, NaN wherever it is
  if (typeof lo === 'number' && typeof hi === 'number' && Number.isFinite(lo) && Number.isFinite(hi)) {
    return unary('clamp', t, lo, hi, options);
  }
  // x as the second operand: maximum and minimum give it on a tie (±0 included), so x is kept where it equals a bound
  if (hi === null) return maximum(lo!, t, options);
  return minimum(hi, lo === null ? t : maximum(lo, t), options);
}

// ---- element-wise tests

/** Whether a and b have the same shape and equal elements (NaN equals nothing, as torch.equal). Dtypes may differ. */
export function equal(a: Tensor, b: Tensor): boolean {
  checkTensor(a, 'a');
  checkTensor(b, 'b');
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) return false;
  if (a.size === 0) return true;
  return countNonZero(ne(a, b)) === 0;
}

/**
 * Whether |a − b| ≤ atol + rtol · |b| everywhere, a and b broadcast together (NumPy's allclose, not symmetric in a
 * and b): equal infinities are close, NaN is close to nothing. rtol 1e-5 and atol 1e-8 by default.
 */
export function allClose(a: TensorLike, b: TensorLike, rtol = 1e-5, atol = 1e-8): boolean {
  for (const [name, v] of [['rtol', rtol], ['atol', atol]] as const) {
    if (typeof v !== 'number' || !(v >= 0) || v === Infinity) {
      throw new RangeError(`allClose: ${name} must be a finite non-negative number, got ${describeValue(v)}`);
    }
  }
  const absB = abs(operandOf(b, a));
  // an infinite b makes the tolerance infinite: there only a = b counts (NumPy's isclose)
  const close = where(eq(absB, Infinity), eq(a, b), le(abs(sub(a, b)), add(mul(absB, rtol), atol)));
  return close.size === 0 || countNonZero(ne(close, 1)) === 0;
}

/** b as a tensor (a number takes the dtype of a). */
function operandOf(b: TensorLike, a: TensorLike): Tensor {
  return operand(b, 'b', resultDType(a, b));
}

/** How many elements of a 0/1 mask are 1 (the sumSquares kernel: each square is the element). */
function countNonZero(mask: Tensor): number {
  return getBackend().sumSquares(mask.size, mask.data);
}
