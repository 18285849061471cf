// Tensor: a shape and a contiguous row-major Float32Array or Float64Array. Nothing clever. The operations live in
// src/ops/ (each a function of nn.ops); the methods below delegate to them.
import { describeValue } from './validate';
import * as tape from './autograd/tape';
import * as elementwise from './ops/elementwise';
import type { OutOptions } from './ops/elementwise';
import * as format from './ops/format';
// The ops import Tensor and Tensor's methods call the ops: the namespaces are only read when a method runs, by
// which time both modules are loaded, whichever came first.
import * as indexingOps from './ops/indexing';
import * as linalgOps from './ops/linalg';
import * as reduceOps from './ops/reduce';
import * as shapeOps from './ops/shape';

/** The element type of a tensor's data. */
export type DType = 'float32' | 'float64';
/** The typed array behind a tensor: Float32Array for 'float32', Float64Array for 'float64'. */
export type FloatArray = Float32Array | Float64Array;
/** A tensor's dimensions, outermost first (row-major). */
export type Shape = readonly number[];

// Indexed loops here and below: every operation runs these, and V8 does not inline for-of over a frozen array
// (every result's shape is one), which then costs more than the rest of a tiny operation's shape work.
export function sizeOf(shape: Shape): number {
  let n = 1;
  for (let i = 0; i < shape.length; i++) n *= shape[i];
  return n;
}

export function checkShape(shape: Shape, name = 'shape'): void {
  if (!Array.isArray(shape)) throw new TypeError(`${name} must be an array of sizes, got ${typeof shape}`);
  const sizes: Shape = shape;
  let span = 1;  // the product of the non-zero sizes: an empty tensor's other axes may be long, not endless
  for (let i = 0; i < sizes.length; i++) {
    const d = sizes[i];
    if (!Number.isInteger(d) || d < 0) {
      throw new RangeError(`${name} must hold non-negative integers, got [${shape.join(', ')}]`);
    }
    if (d > Number.MAX_SAFE_INTEGER) {
      throw new RangeError(`${name} must hold non-negative integers up to 2^53 - 1, got [${shape.join(', ')}]`);
    }
    if (d !== 0) span *= d;
  }
  if (span >= MAX_SPAN) {
    throw new RangeError(`${name} ${formatShape(shape)} is too big: its non-zero sizes multiply to ${span}, at least 2^60 ` +
      '(NumPy: array is too big)');
  }
}

/**
 * The bound on the product of a shape's non-zero sizes (NumPy's for float64: the bytes of that many elements fit in
 * 63 bits). Below it, products of sizes are finite: [1e308, 1e308, 0] would make Infinity · 0 = NaN elements.
 */
const MAX_SPAN = 2 ** 60;

/** A tensor holds fewer elements than this: the kernels' sizes are int32. */
export const MAX_ELEMENTS = 2 ** 31;

/** Throws a RangeError naming `name` when a tensor of `shape` would hold MAX_ELEMENTS or more; returns the count. */
export function checkElements(shape: Shape, name = 'shape'): number {
  const n = sizeOf(shape);
  if (n >= MAX_ELEMENTS) {
    throw new RangeError(`${name} ${formatShape(shape)} would hold ${n} elements: a tensor holds fewer than 2^31`);
  }
  return n;
}

export function dtypeOf(data: FloatArray): DType {
  return data instanceof Float64Array ? 'float64' : 'float32';
}

export function allocate(dtype: DType, n: number): FloatArray {
  if (dtype === 'float32') return new Float32Array(n);
  if (dtype === 'float64') return new Float64Array(n);
  throw new TypeError(`dtype must be 'float32' or 'float64', got ${describeValue(dtype)}`);
}

/** Results smaller than this many bytes are cut from a shared slab; larger ones get memory of their own. */
const SLAB_MAX_BYTES = 4096;
const SLAB_BYTES = 65536;
let slab = new ArrayBuffer(0);
let slabUsed = 0;

/** Disposed tensors' memory by byte length, the most recently disposed last; POOL_MAX_BYTES at most in all. */
const pool = new Map<number, ArrayBuffer[]>();
const POOL_MAX_BYTES = 64 << 20;
let pooledBytes = 0;

/** What uninitialized memory is filled with (tests: `setUninitializedFill`), or null to leave it as it comes. */
let uninitializedFill: number | null = null;

/**
 * Memory for an operation's result that a kernel overwrites entirely. Fresh memory costs more than the operation
 * on a small or a large tensor, and this avoids most of it:
 * - from 4 KiB on: Buffer.allocUnsafeSlow, not zeroed (zeroing a megabyte costs more than adding two); an
 *   ArrayBuffer of its own, malloc's, 16-byte aligned, freed when V8 collects it. The native addon has glibc's
 *   malloc keep such freed memory for the next results (tune_malloc in native/addon.cc): memory fresh from the
 *   system costs a page fault per 4 KiB, more than the operation.
 * - below: a view into a shared 64 KiB slab (Node's Buffer.allocUnsafe pools small buffers the same way), each
 *   piece handed out once and never reused, so it is zeros, never another tensor's data. A fresh small typed
 *   array lives in V8's heap and is moved out of it the first time native code takes its address, which costs
 *   several times the kernel call; a slab is moved once. The slab stays alive while any tensor cut from it does.
 *   Such a result's `data.buffer` is shared: transfer a copy (`data.slice()`), not the buffer.
 * - from 4 KiB on, memory a disposed tensor gave back (Tensor#dispose) of the same byte length comes first: it is
 *   likely still in the cache, and V8 counts no new external memory for it (no collection, no page faults).
 * Every caller must write every element before the array is seen: test/ops-uninitialized.spec.ts fills this
 * memory with NaN and with another value and checks that no operation's result changes.
 */
export function allocateUninitialized(dtype: DType, n: number): FloatArray {
  const bytes = n * (dtype === 'float64' ? 8 : 4);
  let out: FloatArray;
  if (bytes < SLAB_MAX_BYTES) {
    if (slabUsed + bytes > slab.byteLength) {
      slab = new ArrayBuffer(SLAB_BYTES);
      slabUsed = 0;
    }
    out = dtype === 'float64' ? new Float64Array(slab, slabUsed, n) : new Float32Array(slab, slabUsed, n);
    slabUsed += (bytes + 15) & ~15;
  } else {
    out = allocateLarge(dtype, n, bytes);
    if (scope !== null) scope.push(out);
  }
  if (uninitializedFill !== null) out.fill(uninitializedFill);
  return out;
}

/** allocateUninitialized from 4 KiB on: a disposed tensor's memory of that byte length, or an ArrayBuffer of its own. */
function allocateLarge(dtype: DType, n: number, bytes: number): FloatArray {
  let buffer: ArrayBuffer | undefined, offset = 0;
  if (pooledBytes > 0) {
    buffer = pool.get(bytes)?.pop();
    if (buffer !== undefined) pooledBytes -= bytes;
  }
  if (buffer === undefined) {
    if (typeof Buffer === 'undefined') return allocate(dtype, n);
    const b = Buffer.allocUnsafeSlow(bytes);
    buffer = b.buffer as ArrayBuffer;
    offset = b.byteOffset;
  }
  return dtype === 'float64' ? new Float64Array(buffer, offset, n) : new Float32Array(buffer, offset, n);
}

/**
 * Gives the memory of `data` back for the next results if `data` is the whole of an ArrayBuffer (not shared, not
 * resizable) of 4 KiB or more: the buffer is detached, so `data` and every view of it have no elements from then on,
 * and kept (up to POOL_MAX_BYTES in all) for a result of the same byte length. Returns whether it did; anything else
 * (a result under 4 KiB, cut from a shared slab; part of a larger buffer; memory already given back) is left alone.
 */
export function disposeData(data: FloatArray): boolean {
  const buffer = data.buffer as ArrayBuffer & { resizable?: boolean };
  if (data.byteOffset !== 0 || data.byteLength !== buffer.byteLength || data.byteLength < SLAB_MAX_BYTES ||
    !(buffer instanceof ArrayBuffer) || buffer.resizable === true || typeof structuredClone !== 'function') return false;
  // a transfer moves the memory to a new ArrayBuffer without copying it and detaches the old one
  const moved = structuredClone(buffer, { transfer: [buffer] });
  if (pooledBytes + moved.byteLength <= POOL_MAX_BYTES) {
    let free = pool.get(moved.byteLength);
    if (free === undefined) pool.set(moved.byteLength, free = []);
    free.push(moved);
    pooledBytes += moved.byteLength;
  }
  return true;
}

/**
 * The results of 4 KiB or more made inside the innermost tidy() scope (only those can be given back; smaller ones
 * share a slab), or null outside any scope. Only results of operations count (allocateUninitialized): memory a
 * layer, an optimizer or your own code allocates and keeps from call to call is never taken.
 */
let scope: FloatArray[] | null = null;
const outerScopes: (FloatArray[] | null)[] = [];
/** The buffers keep() marked: no tidy() scope gives them back. */
const keptBuffers = new WeakSet<ArrayBufferLike>();

/**
 * Runs `fn` and then gives back (as Tensor#dispose does) the memory of every result of 4 KiB or more that an
 * operation made inside it, except the tensors `fn` returns (a tensor, or tensors anywhere in the arrays, plain
 * objects and Maps it returns) and those passed to keep(): TensorFlow.js's tf.tidy. A returned tensor that
 * shares its data with a result (a reshape of it, say) keeps that result's memory. Scopes nest: what an inner
 * scope returns belongs to the enclosing one, which gives it back unless it is returned or kept there too.
 * A tensor made inside and stored elsewhere (an outer variable, an array you keep) without keep() holds no
 * elements afterwards: using it is a TypeError. Results under 4 KiB are left to V8 (they share a slab).
 * If fn throws, the results are given back and the error passes on.
 *
 * fn must be synchronous: a Promise (anything with a then method) returned is a TypeError and nothing is
 * given back, since the async function still runs; call tidy() inside it around each synchronous step instead.
 * Memory that only a recorded graph holds (autograd) goes too: call backward() inside the same tidy(), and what
 * it accumulates into a leaf's .grad is kept.
 *
 * `nn.tidy(fn)` or, as TensorFlow.js, `nn.tidy(name, fn)` (the name is not used).
 */
export function tidy<T>(nameOrFn: string | (() => T), fn?: () => T): T {
  let f: unknown = nameOrFn;
  if (typeof nameOrFn === 'string') f = fn;
  else if (fn !== undefined) {
    throw new TypeError(`tidy() takes a function, or a name and a function; got ${describeValue(nameOrFn)} and ` +
      describeValue(fn));
  }
  if (typeof f !== 'function') throw new TypeError(`fn must be a function, got ${describeValue(f)}`);
  const mine: FloatArray[] = [];
  outerScopes.push(scope);
  scope = mine;
  let result: T;
  try {
    result = (f as () => T)();
  } catch (e) {
    scope = outerScopes.pop() as FloatArray[] | null;
    release(mine, new Set(), scope);
    throw e;
  }
  scope = outerScopes.pop() as FloatArray[] | null;
  if (result !== null && (typeof result === 'object' || typeof result === 'function') &&
    typeof (result as { then?: unknown }).then === 'function') {
    // the async function goes on using its tensors: give nothing back, hand them to the enclosing scope
    if (scope !== null) for (let i = 0; i < mine.length; i++) scope.push(mine[i]);
    throw new TypeError('fn returned a Promise: tidy() takes a synchronous function (the tensors an async function ' +
      'makes are used after tidy() returns); call tidy() inside it around each synchronous step');
  }
  const returned = new Set<ArrayBufferLike>();
  collectBuffers(result, returned, new Set());
  release(mine, returned, scope);
  return result;
}

/** Gives back each result in `made` unless it is kept, or returned (the enclosing scope, if any, then takes it). */
function release(made: FloatArray[], returned: Set<ArrayBufferLike>, enclosing: FloatArray[] | null): void {
  for (let i = 0; i < made.length; i++) {
    const data = made[i], buffer = data.buffer;
    if (keptBuffers.has(buffer)) continue;
    if (returned.has(buffer)) {
      if (enclosing !== null) enclosing.push(data);
    } else {
      disposeData(data);
    }
  }
}

/** The buffers of the tensors in a tidy() function's result: a tensor, arrays, plain objects and Maps of them. */
function collectBuffers(value: unknown, into: Set<ArrayBufferLike>, seen: Set<object>): void {
  if (value === null || typeof value !== 'object' || seen.has(value)) return;
  seen.add(value);
  if (value instanceof Tensor) {
    into.add(value.data.buffer);
  } else if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) collectBuffers(value[i], into, seen);
  } else if (value instanceof Map) {
    for (const v of value.values()) collectBuffers(v, into, seen);
  } else {
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto === Object.prototype || proto === null) {
      for (const v of Object.values(value)) collectBuffers(v, into, seen);
    }
  }
}

/**
 * Keeps `t` (and every tensor sharing its data) from being given back by any tidy() scope, the one it was made in
 * and the enclosing ones, as TensorFlow.js's tf.keep; Tensor#dispose() still gives it back. Returns `t`.
 */
export function keep<T extends Tensor>(t: T): T {
  if (!(t instanceof Tensor)) throw new TypeError(`t must be a Tensor, got ${describeValue(t)}`);
  keptBuffers.add(t.data.buffer);
  return t;
}

/** For tests: the bytes of disposed results kept for reuse. */
export function pooledResultBytes(): number {
  return pooledBytes;
}

/**
 * For tests: fill every array allocateUninitialized() hands out with `value` (NaN, say), so that an operation that
 * leaves an element unwritten shows it; null turns it off. Returns the previous setting.
 */
export function setUninitializedFill(value: number | null): number | null {
  const before = uninitializedFill;
  uninitializedFill = value;
  return before;
}

export function formatShape(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

/**
 * Whether a typed array's ArrayBuffer was detached: transferred to a worker (postMessage with a transfer list)
 * or by structuredClone(..., { transfer }), or given back by Tensor#dispose(). Its views then have no elements.
 */
export function isDetached(a: ArrayBufferView): boolean {
  const b = a.buffer as ArrayBufferLike & { detached?: boolean };
  if (typeof b.detached === 'boolean') return b.detached;
  if (a.byteLength !== 0 || b.byteLength !== 0) return false;
  try {
    new Uint8Array(b);  // throws on a detached buffer only
    return false;
  } catch {
    return true;
  }
}

/** The message for a detached buffer, `name` being what holds it ('x', 'Dense: input', ...). */
export function detachedMessage(name: string): string {
  return `${name}'s ArrayBuffer is detached: it was transferred (postMessage to a worker, or structuredClone with ` +
    'transfer) or given back by dispose(), and holds no data in this thread; copy the data (e.g. with .slice()) ' +
    'before transferring it';
}

/**
 * Throws a TypeError naming `name` if the tensor's data no longer holds its shape's elements: its buffer was
 * detached (or a resizable buffer shrank) after the tensor was made. Both backends see this check; without it
 * a kernel would only report an array of 0 elements.
 */
export function checkAttached(t: Tensor, name: string): Tensor {
  if (t.data.length === sizeOf(t.shape)) return t;
  if (isDetached(t.data)) throw new TypeError(detachedMessage(name));
  throw new TypeError(`${name} has ${t.data.length} elements but its shape ${formatShape(t.shape)} needs ${sizeOf(t.shape)}: ` +
    'its ArrayBuffer was resized after the tensor was made');
}

/** Numbers, or arrays of them nested to any depth (what plain JavaScript and the course material's lists give). */
export type NestedArray = ArrayLike<number> | ArrayLike<NestedArray>;

/**
 * The shape and the row-major values of a rectangular nested array of numbers: every array at one depth has the
 * same length, every leaf is a number (NaN and ±Infinity included); anything else is an error naming the element.
 */
function flattenNested(data: NestedArray, dtype: DType): { data: FloatArray; shape: number[] } {
  const shape: number[] = [];
  for (let level: unknown = data; isArrayLike(level); level = level[0]) {
    // a cyclic array nests forever: the shape grew until V8 died (a fatal error, not an exception)
    if (shape.length === MAX_NESTING) throw new RangeError(`data nests arrays more than ${MAX_NESTING} deep (NumPy's most dimensions): is it cyclic?`);
    shape.push(level.length);
    if (level.length === 0) break;
  }
  checkShape(shape, "data's shape");
  const out = allocate(dtype, checkElements(shape, 'data of shape'));
  let k = 0;
  const walk = (a: ArrayLike<unknown>, depth: number, name: string): void => {
    if (a.length !== shape[depth]) {
      throw new RangeError(`data is ragged: ${name} has ${a.length} elements but ${firstOf(depth)} has ${shape[depth]}`);
    }
    const leaf = depth === shape.length - 1;
    for (let i = 0; i < a.length; i++) {
      const v = a[i], at = `${name}[${i}]`;
      if (leaf) {
        if (isArrayLike(v)) throw new RangeError(`data is ragged: ${at} is an array but ${firstOf(depth + 1)} is a number`);
        if (typeof v !== 'number') throw new TypeError(`${at} is ${describeValue(v)}, not a number`);
        out[k++] = v;
      } else {
        if (!isArrayLike(v)) {
          throw new RangeError(`data is ragged: ${at} is ${typeof v === 'number' ? 'a number' : describeValue(v)} but ` +
            `${firstOf(depth + 1)} is an array`);
        }
        walk(v, depth + 1, at);
      }
    }
  };
  walk(data, 0, 'data');
  return { data: out, shape };
}

/** The deepest nested data taken (NumPy's limit on dimensions), so that a cyclic array ends in an error. */
const MAX_NESTING = 64;

function isArrayLike(v: unknown): v is ArrayLike<unknown> {
  return v !== null && typeof v === 'object' && typeof (v as ArrayLike<unknown>).length === 'number';
}

/** 'data', 'data[0]', 'data[0][0]', ...: the first element at a depth, which sets the shape there. */
function firstOf(depth: number): string {
  return 'data' + '[0]'.repeat(depth);
}

/** Options of the Tensor constructor. */
export interface TensorOptions {
  /** Record the operations on this tensor so that backward() gives its gradient in .grad (default false). */
  requiresGrad?: boolean;
}

/**
 * The data of the one construction that follows, whose shape is known valid (see uncheckedTensor): the constructor
 * then skips its checks. Module-private, so no caller of the public constructor can reach that path.
 */
let uncheckedData: FloatArray | null = null;

/**
 * A tensor of data and a shape already checked: the frozen shape of a tensor whose element count is data.length.
 * The constructor's checks (the data's type, the shape's sizes, Object.isFrozen) cost ~0.1 us, a twentieth of a
 * batch-1 predictProba, whose result is such a copy.
 */
function uncheckedTensor(data: FloatArray, shape: readonly number[]): Tensor {
  uncheckedData = data;
  return new Tensor(data, shape);
}

/**
 * t.clone() for a result copied out of a kept buffer (a batch-1 predict's): the same values and shape; under 4 KiB
 * the copy is a view of the shared slab, as allocateUninitialized gives small results, rather than what data.slice()
 * makes (a typed array, an ArrayBuffer object and elements of their own: 264 more bytes of garbage per batch-1
 * predictProba), and nothing is recorded (t requires no gradient: clone's record would return the copy as it is)
 * unless a tracer listens. From 4 KiB on it is clone(): no tidy() scope takes a result that clone() did not give it.
 */
export function copyOut(t: Tensor): Tensor {
  if (t.data.byteLength >= SLAB_MAX_BYTES || tape.isTracing() || t.requiresGrad) return t.clone();
  checkAttached(t, 'tensor');
  const out = allocateUninitialized(t.dtype, t.data.length);
  out.set(t.data);
  return uncheckedTensor(out, t.shape);
}

/** An n-dimensional array: a shape and a contiguous row-major Float32Array or Float64Array. */
export class Tensor {
  /**
   * The elements, row-major. An operation's result under 4 KiB is a view into an ArrayBuffer shared with other
   * small results (see allocateUninitialized): to transfer the data to a worker, transfer a copy (`data.slice()`).
   */
  readonly data: FloatArray;
  readonly shape: readonly number[];
  /** d loss / d this, accumulated by backward() into a tensor that requires a gradient and has no gradFn (a leaf). */
  grad: Tensor | null = null;
  /** The recorded operation that computed this tensor (PyTorch's grad_fn); null for a leaf. */
  gradFn: tape.Node | null = null;
  private leafRequiresGrad = false;

  /**
   * A Float32Array or Float64Array is used as is (not copied); any other typed array, or a (nested) array of numbers,
   * is copied into a new one of `dtype` (default float32). A nested array gives its shape (rectangular, checked), and
   * `shape` may then reshape it; without a shape, flat data is 1-D. `options.requiresGrad` makes it a leaf of
   * autograd.
   */
  constructor(data: FloatArray | NestedArray, shape?: Shape, dtype?: DType, options?: TensorOptions) {
    const unchecked = uncheckedData;
    if (unchecked !== null && data === unchecked) {
      uncheckedData = null;
      this.data = unchecked;
      this.shape = shape as readonly number[];
      return;
    }
    let array: FloatArray;
    if (data instanceof Float32Array || data instanceof Float64Array) {
      if (dtype !== undefined && dtype !== dtypeOf(data)) {
        throw new TypeError(`data is a ${data.constructor.name} but dtype '${dtype}' was asked for`);
      }
      array = data;
    } else if (ArrayBuffer.isView(data) && !(data instanceof DataView)) {
      if (data instanceof BigInt64Array || data instanceof BigUint64Array) {
        throw new TypeError(`data must be a Float32Array, a Float64Array or a (nested) array of numbers, got a ${data.constructor.name}`);
      }
      array = dtype === 'float64' ? Float64Array.from(data as ArrayLike<number>) : Float32Array.from(data as ArrayLike<number>);
    } else if (data !== null && typeof data === 'object' && typeof (data as ArrayLike<number>).length === 'number') {
      const nested = flattenNested(data as NestedArray, dtype ?? 'float32');
      array = nested.data;
      shape ??= nested.shape;
    } else {
      throw new TypeError(`data must be a Float32Array, a Float64Array or a (nested) array of numbers, got ${describeValue(data)}`);
    }
    if (array.length === 0 && isDetached(array)) throw new TypeError(detachedMessage('data'));
    const s = shape ?? [array.length];
    checkShape(s);
    if (sizeOf(s) !== array.length) {
      throw new RangeError(`shape ${formatShape(s)} holds ${sizeOf(s)} elements but data has ${array.length}`);
    }
    this.data = array;
    // a frozen shape (every result's) cannot change under the tensor: shared rather than copied
    this.shape = Object.isFrozen(s) ? s : Object.freeze([...s]);
    if (options !== undefined) {
      if (options === null || typeof options !== 'object') {
        throw new TypeError(`options must be an object, got ${describeValue(options)}`);
      }
      if (options.requiresGrad !== undefined) this.requiresGrad = options.requiresGrad;
    }
  }

  // autograd (src/autograd/): PyTorch's semantics

  /** Whether operations on this tensor are recorded for backward(): set on a leaf, true for a recorded result. */
  get requiresGrad(): boolean {
    return this.leafRequiresGrad || this.gradFn !== null;
  }

  /** Turns recording on or off for a leaf (a computed tensor can only be detach()ed). */
  set requiresGrad(flag: boolean) {
    if (typeof flag !== 'boolean') throw new TypeError(`requiresGrad must be a boolean, got ${describeValue(flag)}`);
    if (this.gradFn !== null && !flag) {
      throw new Error(`requiresGrad can only be turned off on a leaf tensor; this one was computed by ${this.gradFn.op} ` +
        '(use detach() for a tensor without the history)');
    }
    this.leafRequiresGrad = flag;
  }

  /** Sets requiresGrad (true by default) and returns this tensor: `nn.randn([3, 2]).requiresGrad_()`. */
  requiresGrad_(flag = true): this {
    this.requiresGrad = flag;
    return this;
  }

  /** Whether this tensor is a leaf of the graph: no recorded operation computed it. */
  get isLeaf(): boolean {
    return this.gradFn === null;
  }

  /**
   * Computes d this / d leaf for every leaf this tensor depends on and adds it to leaf.grad. `grad` (d loss / d this,
   * of this shape) may be left out for a tensor of one element.
   */
  backward(grad?: Tensor | null): void {
    tape.backward(this, grad);
  }

  /** The same data without the recorded history: a leaf that needs no gradient. */
  detach(): Tensor {
    const out = new Tensor(this.data, this.shape);
    tape.notifyTracer('detach', [this], out);
    return out;
  }

  /**
   * Gives this tensor's memory back for the next results of the same size, as TensorFlow.js's dispose(): in a loop,
   * a result disposed once it is used makes the next one cost no fresh memory (no page faults, no collections by
   * V8, memory likely still in the cache). Afterwards this tensor and every tensor sharing its data (reshape,
   * detach, the data array itself, your own array if you made the tensor from one) hold no elements: using one is
   * a TypeError. Only data that is a whole ArrayBuffer of 4 KiB or more is given back (smaller results share one
   * with others): returns whether it was. Calling it again does nothing.
   */
  dispose(): boolean {
    return disposeData(this.data);
  }

  /**
   * Whether this tensor's memory was given back (dispose(), or a tidy() scope it was made in) or its buffer
   * transferred elsewhere: it then holds no elements, and using it is a TypeError.
   */
  get isDisposed(): boolean {
    return isDetached(this.data);
  }

  /** A new tensor of the shape, filled with zeros. */
  static zeros(shape: Shape, dtype: DType = 'float32'): Tensor {
    checkShape(shape);
    return new Tensor(allocate(dtype, checkElements(shape)), shape);
  }

  /** A new tensor of the shape, every element `value`. */
  static full(shape: Shape, value: number, dtype: DType = 'float32'): Tensor {
    if (typeof value !== 'number') throw new TypeError(`value must be a number, got ${describeValue(value)}`);
    const t = Tensor.zeros(shape, dtype);
    t.data.fill(value);
    return t;
  }

  /** 'float32' or 'float64', from the data's array type. */
  get dtype(): DType {
    return dtypeOf(this.data);
  }

  /** The number of elements (the product of the shape). */
  get size(): number {
    return this.data.length;
  }

  /** The number of dimensions. */
  get ndim(): number {
    return this.shape.length;
  }

  /** A view with another shape over the same data; one size may be -1. */
  reshape(shape: Shape): Tensor {
    checkAttached(this, 'tensor');
    if (!Array.isArray(shape as unknown)) throw new TypeError(`shape must be an array of sizes, got ${describeValue(shape)}`);
    const s = [...shape];
    const free = s.indexOf(-1);
    if (free >= 0 && s.indexOf(-1, free + 1) >= 0) {
      throw new RangeError(`cannot reshape ${formatShape(this.shape)} to ${formatShape(shape)}: only one size can be -1`);
    }
    if (free >= 0) {
      const rest = sizeOf(s.filter((_, i) => i !== free));
      if (rest === 0 || this.size % rest !== 0) {
        throw new RangeError(`cannot reshape ${formatShape(this.shape)} to ${formatShape(shape)}`);
      }
      s[free] = this.size / rest;
    }
    checkShape(s);
    if (sizeOf(s) !== this.size) {
      throw new RangeError(`cannot reshape ${formatShape(this.shape)} (${this.size} elements) to ${formatShape(shape)}`);
    }
    return tape.record('reshape', [this], new Tensor(this.data, s));
  }

  /** A copy with its own data. */
  clone(): Tensor {
    checkAttached(this, 'tensor');
    return tape.record('identity', [this], uncheckedTensor(this.data.slice(), this.shape));
  }

  /** A copy in another dtype (or this tensor's data copied when the dtype is the same). */
  astype(dtype: DType): Tensor {
    checkAttached(this, 'tensor');
    const out = allocate(dtype, this.size);
    out.set(this.data);
    return tape.record('identity', [this], new Tensor(out, this.shape));
  }

  /** Element at a multi-index. */
  get(...index: number[]): number {
    if (index.length !== this.shape.length) {
      throw new RangeError(`get() needs ${this.shape.length} indices for shape ${formatShape(this.shape)}`);
    }
    checkAttached(this, 'tensor');
    let offset = 0;
    for (let i = 0; i < index.length; i++) {
      const k = index[i];
      if (!Number.isInteger(k) || k < 0 || k >= this.shape[i]) {
        throw new RangeError(`index ${i} is ${k}, outside [0, ${this.shape[i]})`);
      }
      offset = offset * this.shape[i] + k;
    }
    return this.data[offset];
  }

  /** The elements as a flat array of numbers, in row-major order. */
  toArray(): number[] {
    checkAttached(this, 'tensor');
    return Array.from(this.data);
  }

  /** The values as NumPy's str() prints them (`[[1. 2.]\n [3. 4.]]`), summarised with '...' beyond 1000 elements. */
  toString(): string {
    return format.toText(this);
  }

  /** What console.log and util.inspect show: `Tensor([[1., 2.],\n        [3., 4.]], dtype=float32)` (NumPy's repr). */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return format.toRepr(this);
  }

  /** The values as nested arrays of numbers (a number for shape []), as NumPy's tolist(). */
  toNested(): format.Nested {
    return format.toNested(this);
  }

  /** The value of a tensor of one element. */
  item(): number {
    return format.item(this);
  }

  // element-wise operations (src/ops/elementwise.ts). Binary ones broadcast as NumPy does; a number operand takes
  // this tensor's dtype; a float32 and a float64 tensor give float64. Comparisons give a 0/1 float mask.

  /** this + other, broadcast. */
  add(other: Tensor | number, options?: OutOptions): Tensor { return elementwise.add(this, other, options); }
  /** this − other, broadcast. */
  sub(other: Tensor | number, options?: OutOptions): Tensor { return elementwise.sub(this, other, options); }
  /** this · other, broadcast. */
  mul(other: Tensor | number, options?: OutOptions): Tensor { return elementwise.mul(this, other, options); }
  /** this / other, broadcast. */
  div(other: Tensor | number, options?: OutOptions): Tensor { return elementwise.div(this, other, options); }
  /** this ^ other, broadcast. */
  pow(other: Tensor | number, options?: OutOptions): Tensor { return elementwise.pow(this, other, options); }
  /** The larger of this and other, broadcast (NaN if either is NaN; other when they are equal, as NumPy). */
  maximum(other: Tensor | number, options?: OutOptions): Tensor { return elementwise.maximum(this, other, options); }
  /** The smaller of this and other, broadcast (NaN if either is NaN; other when they are equal, as NumPy). */
  minimum(other: Tensor | number, options?: OutOptions): Tensor { return elementwise.minimum(this, other, options); }
  /** 1 where this > other, else 0. */
  gt(other: Tensor | number, options?: OutOptions): Tensor { return elementwise.gt(this, other, options); }
  /** 1 where this ≥ other, else 0. */
  ge(other: Tensor | number, options?: OutOptions): Tensor { return elementwise.ge(this, other, options); }
  /** 1 where this < other, else 0. */
  lt(other: Tensor | number, options?: OutOptions): Tensor { return elementwise.lt(this, other, options); }
  /** 1 where this ≤ other, else 0. */
  le(other: Tensor | number, options?: OutOptions): Tensor { return elementwise.le(this, other, options); }
  /** 1 where this = other, else 0. */
  eq(other: Tensor | number, options?: OutOptions): Tensor { return elementwise.eq(this, other, options); }
  /** 1 where this ≠ other, else 0. */
  ne(other: Tensor | number, options?: OutOptions): Tensor { return elementwise.ne(this, other, options); }
  /** −this */
  neg(): Tensor { return elementwise.neg(this); }
  /** |this| */
  abs(): Tensor { return elementwise.abs(this); }
  /** −1, 0 or 1 by the sign of each element (+0 for ±0, as NumPy; NaN kept). */
  sign(): Tensor { return elementwise.sign(this); }
  /** e^this */
  exp(): Tensor { return elementwise.exp(this); }
  /** ln this */
  log(): Tensor { return elementwise.log(this); }
  /** ln(1 + this) */
  log1p(): Tensor { return elementwise.log1p(this); }
  /** √this */
  sqrt(): Tensor { return elementwise.sqrt(this); }
  /** this² */
  square(): Tensor { return elementwise.square(this); }
  /**
   * min(max(this, min), max); either bound may be left out (null or undefined); an element equal to a bound is kept,
   * ±0 too (as np.clip with number bounds: see nn.ops.clamp).
   */
  clamp(min?: Tensor | number | null, max?: Tensor | number | null): Tensor { return elementwise.clamp(this, min, max); }
  /** max(this, 0), NaN kept; −0 stays −0 (as the ReLU layer; NumPy's maximum(x, 0) gives +0). */
  relu(): Tensor { return elementwise.relu(this); }
  /** this for positive elements, slope · this elsewhere (slope 0.01 by default). */
  leakyRelu(slope?: number): Tensor { return elementwise.leakyRelu(this, slope); }
  /** 1 / (1 + e^−this) */
  sigmoid(): Tensor { return elementwise.sigmoid(this); }
  /** tanh this */
  tanh(): Tensor { return elementwise.tanh(this); }
  /** 1 for positive elements, 0 elsewhere (NaN kept). */
  step(): Tensor { return elementwise.step(this); }
  /** ln(1 + e^this) */
  softplus(): Tensor { return elementwise.softplus(this); }
  /** this · Φ(this), the exact GELU. */
  gelu(): Tensor { return elementwise.gelu(this); }
  // in place (PyTorch's trailing underscore): the result is written into this tensor, which is returned. `other`
  // broadcasts to this tensor's shape and is converted to its dtype. Not recorded by autograd: with recording on,
  // neither tensor may require a gradient (see OutOptions).

  /** this += other */
  add_(other: Tensor | number): this { elementwise.add(this, other, { out: this }); return this; }
  /** this −= other */
  sub_(other: Tensor | number): this { elementwise.sub(this, other, { out: this }); return this; }
  /** this ·= other */
  mul_(other: Tensor | number): this { elementwise.mul(this, other, { out: this }); return this; }
  /** this /= other */
  div_(other: Tensor | number): this { elementwise.div(this, other, { out: this }); return this; }
  /** this = this ^ other */
  pow_(other: Tensor | number): this { elementwise.pow(this, other, { out: this }); return this; }
  /** this = max(this, other) */
  maximum_(other: Tensor | number): this { elementwise.maximum(this, other, { out: this }); return this; }
  /** this = min(this, other) */
  minimum_(other: Tensor | number): this { elementwise.minimum(this, other, { out: this }); return this; }
  /** this = min(max(this, min), max) */
  clamp_(min?: Tensor | number | null, max?: Tensor | number | null): this {
    elementwise.clamp(this, min, max, { out: this });
    return this;
  }

  /** this = −this */
  neg_(): this { elementwise.neg(this, { out: this }); return this; }
  /** this = |this| */
  abs_(): this { elementwise.abs(this, { out: this }); return this; }
  /** this = e^this */
  exp_(): this { elementwise.exp(this, { out: this }); return this; }
  /** this = ln this */
  log_(): this { elementwise.log(this, { out: this }); return this; }
  /** this = √this */
  sqrt_(): this { elementwise.sqrt(this, { out: this }); return this; }
  /** this = this² */
  square_(): this { elementwise.square(this, { out: this }); return this; }
  /** this = max(this, 0) */
  relu_(): this { elementwise.relu(this, { out: this }); return this; }
  /** this = 1 / (1 + e^−this) */
  sigmoid_(): this { elementwise.sigmoid(this, { out: this }); return this; }
  /** this = tanh this */
  tanh_(): this { elementwise.tanh(this, { out: this }); return this; }

  /** Same shape and equal elements (NaN equals nothing). */
  equal(other: Tensor): boolean { return elementwise.equal(this, other); }
  /** |this − other| ≤ atol + rtol · |other| everywhere, broadcast (NumPy's allclose). */
  allClose(other: Tensor | number, rtol?: number, atol?: number): boolean {
    return elementwise.allClose(this, other, rtol, atol);
  }

  // reductions, shape and indexing (src/ops/reduce.ts, linalg.ts, shape.ts, indexing.ts)

  /** Σ over the axes (all by default): `x.sum()`, `x.sum(1)`, `x.sum([0, 2], true)`, `x.sum({ axis: 1, keepdims: true })`. */
  sum(axis?: reduceOps.Axis | reduceOps.ReduceOptions, keepdims?: boolean): Tensor {
    return reduceOps.sum(this, axis, keepdims);
  }

  /** The mean over the axes (all by default). */
  mean(axis?: reduceOps.Axis | reduceOps.ReduceOptions, keepdims?: boolean): Tensor {
    return reduceOps.mean(this, axis, keepdims);
  }

  /** Π over the axes (all by default). */
  prod(axis?: reduceOps.Axis | reduceOps.ReduceOptions, keepdims?: boolean): Tensor {
    return reduceOps.prod(this, axis, keepdims);
  }

  /** The maximum over the axes (all by default); NaN propagates; +0 is larger than -0. */
  max(axis?: reduceOps.Axis | reduceOps.ReduceOptions, keepdims?: boolean): Tensor {
    return reduceOps.max(this, axis, keepdims);
  }

  /** The minimum over the axes (all by default); NaN propagates; -0 is smaller than +0. */
  min(axis?: reduceOps.Axis | reduceOps.ReduceOptions, keepdims?: boolean): Tensor {
    return reduceOps.min(this, axis, keepdims);
  }

  /** The variance over the axes, ddof 0 by default (NumPy's): `x.var(0, { ddof: 1 })` reads `x.var({ axis: 0, ddof: 1 })`. */
  var(axis?: reduceOps.Axis | reduceOps.VarianceOptions, keepdims?: boolean): Tensor {
    return reduceOps.variance(this, axis, keepdims);
  }

  /** The standard deviation over the axes, ddof 0 by default (NumPy's). */
  std(axis?: reduceOps.Axis | reduceOps.VarianceOptions, keepdims?: boolean): Tensor {
    return reduceOps.std(this, axis, keepdims);
  }

  /** log Σ exp over the axes, stable. */
  logSumExp(axis?: reduceOps.Axis | reduceOps.ReduceOptions, keepdims?: boolean): Tensor {
    return reduceOps.logSumExp(this, axis, keepdims);
  }

  /** The index of the first maximum along `axis` (of the flattened tensor when none); NaN counts as the maximum. */
  argmax(axis?: number | null | reduceOps.ArgOptions, keepdims?: boolean): Tensor {
    return reduceOps.argmax(this, axis, keepdims);
  }

  /** The index of the first minimum along `axis` (of the flattened tensor when none). */
  argmin(axis?: number | null | reduceOps.ArgOptions, keepdims?: boolean): Tensor {
    return reduceOps.argmin(this, axis, keepdims);
  }

  /** softmax along `axis` (default the last), stable. */
  softmax(axis = -1): Tensor {
    return reduceOps.softmax(this, axis);
  }

  /** log softmax along `axis` (default the last), stable. */
  logSoftmax(axis = -1): Tensor {
    return reduceOps.logSoftmax(this, axis);
  }

  /** NumPy's matmul (batch axes broadcast); transposes as options are passed to GEMM, not copied. */
  matmul(other: Tensor, options?: linalgOps.MatmulOptions): Tensor {
    return linalgOps.matmul(this, other, options);
  }

  /** NumPy's dot. */
  dot(other: Tensor): Tensor {
    return linalgOps.dot(this, other);
  }

  /** The outer product with `other` (both flattened): shape (this.size, other.size), as nn.ops.outer(this, other). */
  outer(other: Tensor): Tensor {
    return linalgOps.outer(this, other);
  }

  /** The axes reversed, or permuted as `axes` says (a copy unless only size-1 axes move). */
  transpose(axes?: readonly number[]): Tensor {
    return shapeOps.transpose(this, axes);
  }

  /** The transpose: the axes reversed (NumPy's .T). */
  get T(): Tensor {
    return shapeOps.transpose(this);
  }

  /** Axis i of the result is axis axes[i] of this tensor: `x.permute(0, 2, 3, 1)` or `x.permute([0, 2, 3, 1])`. */
  permute(...axes: number[] | [readonly number[]]): Tensor {
    return shapeOps.permute(this, (Array.isArray(axes[0]) ? axes[0] : axes) as number[]);
  }

  /** With axes `axis1` and `axis2` swapped (NumPy's swapaxes; a copy unless only size-1 axes move). */
  swapaxes(axis1: number, axis2: number): Tensor {
    return shapeOps.swapaxes(this, axis1, axis2);
  }

  /** Without size-1 axes (or only the ones named), sharing the data. */
  squeeze(axis?: number | readonly number[] | null): Tensor {
    return shapeOps.squeeze(this, axis);
  }

  /** With a new size-1 axis at `axis`, sharing the data. */
  unsqueeze(axis: number): Tensor {
    return shapeOps.unsqueeze(this, axis);
  }

  /** The axes startAxis..endAxis (default: all) merged into one, sharing the data. */
  flatten(startAxis = 0, endAxis = -1): Tensor {
    return shapeOps.flatten(this, startAxis, endAxis);
  }

  /** Repeated along size-1 (and new leading) axes to `shape` (a copy). */
  broadcastTo(shape: Shape): Tensor {
    return shapeOps.broadcastTo(this, shape);
  }

  /** NumPy's constant pad. */
  pad(width: number | readonly number[] | readonly (readonly number[])[], value = 0): Tensor {
    return shapeOps.pad(this, width, value);
  }

  /** NumPy's split: `sections` equal parts, or the parts between the split points. */
  split(sections: number | readonly number[], axis = 0): Tensor[] {
    return shapeOps.split(this, sections, axis);
  }

  /** Sliced axis by axis: `x.slice([1, 3], null, [null, null, -1])` is x[1:3, :, ::-1] (a copy). */
  slice(...specs: indexingOps.SliceSpec[]): Tensor {
    return indexingOps.slice(this, ...specs);
  }

  /** NumPy's take: the elements at `indices` along `axis` (of the flattened tensor when none). */
  take(indices: Int32Array | readonly number[] | Tensor | number, axis?: number | null, options?: OutOptions): Tensor {
    return indexingOps.take(this, indices, axis, options);
  }

  /** take along `axis` (default 0): `xTrain.gather(batchMask)` is x_train[batch_mask]. */
  gather(indices: Int32Array | readonly number[] | Tensor | number, axis = 0, options?: OutOptions): Tensor {
    return indexingOps.gather(this, indices, axis, options);
  }

  /** The elements where `mask` is nonzero (x[mask] in NumPy), as a 1-D tensor (or rows, for a mask of leading axes). */
  maskedSelect(mask: Tensor | readonly unknown[]): Tensor {
    return indexingOps.maskedSelect(this, mask);
  }

  /** TensorFlow's name for maskedSelect. */
  booleanMask(mask: Tensor | readonly unknown[]): Tensor {
    return indexingOps.booleanMask(this, mask);
  }

  /**
   * This tensor's elements as class indices (integers in [0, depth)), one-hot: shape (...this.shape, depth), 1 at each
   * index and 0 elsewhere, float32 unless `dtype` says otherwise; as nn.ops.oneHot(this, depth, dtype).
   */
  oneHot(depth: number, dtype?: DType): Tensor {
    return indexingOps.oneHot(this, depth, dtype);
  }

  /** A copy with `updates` added at `indices` along `axis` (repeated indices add up). */
  scatterAdd(indices: Int32Array | readonly number[] | Tensor, updates: Tensor, axis = 0): Tensor {
    return indexingOps.scatterAdd(this, indices, updates, axis);
  }
}
