// Tensor: a shape and a contiguous row-major Float32Array or Float64Array. Nothing clever.
import { describeValue } from './options';

/** The element type of a tensor's data. */
export type DType = 'float32' | 'float64';
/** The typed array behind a tensor: Float32Array for 'float32', Float64Array for 'float64'. */
export type FloatArray = Float32Array | Float64Array;
/** A tensor's dimensions, outermost first (row-major). */
export type Shape = readonly number[];

export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function checkShape(shape: Shape, name = 'shape'): void {
  if (!Array.isArray(shape)) throw new TypeError(`${name} must be an array of sizes, got ${typeof shape}`);
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new RangeError(`${name} must hold non-negative integers, got [${shape.join(', ')}]`);
    }
  }
}

export function dtypeOf(data: FloatArray): DType {
  return data instanceof Float64Array ? 'float64' : 'float32';
}

export function allocate(dtype: DType, n: number): FloatArray {
  if (dtype === 'float32') return new Float32Array(n);
  if (dtype === 'float64') return new Float64Array(n);
  throw new TypeError(`dtype must be 'float32' or 'float64', got ${describeValue(dtype)}`);
}

export function formatShape(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

/**
 * Whether a typed array's ArrayBuffer was detached: transferred to a worker (postMessage with a transfer list)
 * or by structuredClone(..., { transfer }). Its views then have no elements at all.
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
    'transfer) and holds no data in this thread; copy the data (e.g. with .slice()) before transferring it';
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
    shape.push(level.length);
    if (level.length === 0) break;
  }
  const out = allocate(dtype, sizeOf(shape));
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

function isArrayLike(v: unknown): v is ArrayLike<unknown> {
  return v !== null && typeof v === 'object' && typeof (v as ArrayLike<unknown>).length === 'number';
}

/** 'data', 'data[0]', 'data[0][0]', ...: the first element at a depth, which sets the shape there. */
function firstOf(depth: number): string {
  return 'data' + '[0]'.repeat(depth);
}

/** An n-dimensional array: a shape and a contiguous row-major Float32Array or Float64Array. */
export class Tensor {
  readonly data: FloatArray;
  readonly shape: readonly number[];

  /**
   * A Float32Array or Float64Array is used as is (not copied); any other typed array, or a (nested) array of numbers,
   * is copied into a new one of `dtype` (default float32). A nested array gives its shape (rectangular, checked), and
   * `shape` may then reshape it; without a shape, flat data is 1-D.
   */
  constructor(data: FloatArray | NestedArray, shape?: Shape, dtype?: DType) {
    let array: FloatArray;
    if (data instanceof Float32Array || data instanceof Float64Array) {
      if (dtype !== undefined && dtype !== dtypeOf(data)) {
        throw new TypeError(`data is a ${data.constructor.name} but dtype '${dtype}' was asked for`);
      }
      array = data;
    } else if (ArrayBuffer.isView(data) && !(data instanceof DataView)) {
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
    this.shape = Object.freeze([...s]);
  }

  /** A new tensor of the shape, filled with zeros. */
  static zeros(shape: Shape, dtype: DType = 'float32'): Tensor {
    checkShape(shape);
    return new Tensor(allocate(dtype, sizeOf(shape)), shape);
  }

  /** A new tensor of the shape, every element `value`. */
  static full(shape: Shape, value: number, dtype: DType = 'float32'): Tensor {
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
    return new Tensor(this.data, s);
  }

  /** A copy with its own data. */
  clone(): Tensor {
    checkAttached(this, 'tensor');
    return new Tensor(this.data.slice(), this.shape);
  }

  /** A copy in another dtype (or this tensor's data copied when the dtype is the same). */
  astype(dtype: DType): Tensor {
    checkAttached(this, 'tensor');
    const out = allocate(dtype, this.size);
    out.set(this.data);
    return new Tensor(out, this.shape);
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

  /** `Tensor(<shape>, <dtype>)`, without the data. */
  toString(): string {
    return `Tensor(${formatShape(this.shape)}, ${this.dtype})`;
  }
}
