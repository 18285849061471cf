// A safe reader of Python pickles (protocols 2 to 5) that hold numpy arrays, numbers, strings and the plain
// containers: what `pickle.dump(dict_of_arrays, f)` writes (the course's sample_weight.pkl, most weight files of
// the NumPy era). A pickle is a program for a small stack machine whose GLOBAL and REDUCE opcodes import and call
// any Python function (a `posix.system` REDUCE runs a shell command in Python's pickle.load). This reader
// interprets the data opcodes and recognises a short list of globals by name, each replaced by a TypeScript
// function that builds plain data; it never evaluates anything a file names, and every other global is refused
// with its name. Every length a file declares is checked against the bytes that are left before anything is
// allocated, and nesting is bounded.
import { promises as fs } from 'node:fs';
import { Tensor } from '../tensor';
import { isArray } from '../validate';
import { ModelFormatError } from './errors';

/** A pickle file that loadPickle cannot read (malformed, unsafe or unsupported), naming the file. */
export class PickleError extends ModelFormatError {
  constructor(message: string, file: string) {
    super(message, file, 'pickle');
    this.name = 'PickleError';
  }
}

/** A numpy array of a dtype a Tensor cannot hold (integers, booleans), in C order. */
export interface NumpyArray {
  /** numpy's name: 'int64', 'uint8', 'bool', ... */
  dtype: string;
  shape: number[];
  data: Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | BigInt64Array | BigUint64Array;
}

/**
 * What a pickle holds once read: float16/32/64 numpy arrays become Tensors (float16 widened to float32), other
 * numpy arrays NumpyArray; dicts (and OrderedDicts) plain objects (keys as strings, in order); lists and tuples
 * arrays; sets Sets; bytes Uint8Array; integers numbers (BigInt beyond 2^53); None null.
 */
export type PickleValue = null | boolean | number | bigint | string | Uint8Array | Tensor | NumpyArray | PickleValue[]
  | Set<PickleValue> | { [key: string]: PickleValue };

/** Options of loadPickle. */
export interface LoadPickleOptions {
  /** The largest file read, in bytes (default 2 GiB). */
  maxBytes?: number;
}

/** How deep containers may nest (a dict of lists of arrays is 3). */
export const MAX_PICKLE_DEPTH = 100;
/** The most items the machine's stack may hold at once. */
const MAX_STACK = 1_000_000;
/** The longest integer (LONG1/LONG4) read, in bytes. */
const MAX_LONG_BYTES = 64;
/** The most elements of one array. */
const MAX_ARRAY_ELEMENTS = 2 ** 31 - 1;
/** The most axes of one array (numpy's own limit): copying walks every axis for every element. */
const MAX_DIMS = 64;

/** The globals this reader knows, by 'module.name' (numpy 2 moved numpy.core to numpy._core). */
const GLOBALS = new Set([
  'numpy.core.multiarray._reconstruct', 'numpy._core.multiarray._reconstruct', 'numpy.ndarray', 'numpy.dtype',
  'numpy.core.multiarray.scalar', 'numpy._core.multiarray.scalar', 'collections.OrderedDict', '_codecs.encode',
]);

/** torch.save's storage classes (named in a storage's persistent id) and the element types they hold. */
const TORCH_STORAGES: Record<string, [kind: string, size: number]> = {
  'torch.FloatStorage': ['f', 4], 'torch.DoubleStorage': ['f', 8], 'torch.HalfStorage': ['f', 2],
  'torch.LongStorage': ['i', 8], 'torch.IntStorage': ['i', 4], 'torch.ShortStorage': ['i', 2],
  'torch.CharStorage': ['i', 1], 'torch.ByteStorage': ['u', 1], 'torch.BoolStorage': ['b', 1],
};

/** The globals a torch.save file may name besides GLOBALS: its storage classes and the tensor rebuilders. */
const TORCH_GLOBALS = new Set([...Object.keys(TORCH_STORAGES), 'torch._utils._rebuild_tensor_v2',
  'torch._utils._rebuild_parameter']);

/**
 * The bytes of torch.save's storage `key` (data/<key> in the archive) if they are there and hold `byteLength`
 * bytes, else undefined. decodePickle's only way out of the pickle, and only for a .pt.
 */
export type StorageLoader = (key: string, byteLength: number) => Uint8Array | undefined;

/** A storage a persistent id named: its elements, decoded on first use (tensors may share one). */
class Storage {
  private decoded: ArrayLike<number | bigint> | null = null;
  constructor(readonly dtype: Dtype, readonly raw: Uint8Array, readonly numel: number) {}
  get elements(): ArrayLike<number | bigint> {
    return (this.decoded ??= decodeElements(this.dtype, this.raw));
  }
}

/** A global the file imported: only names in GLOBALS are ever made. */
class Global {
  constructor(readonly name: string) {}
}

/** numpy.dtype(...) before and after its BUILD (which sets the byte order). */
class Dtype {
  byteOrder = '|';
  constructor(readonly kind: string, readonly size: number) {}
  get name(): string {
    return this.kind === 'b' ? 'bool' : `${{ f: 'float', i: 'int', u: 'uint' }[this.kind]}${this.size * 8}`;
  }
}

/** _reconstruct(ndarray, (0,), b'b'): an array waiting for its BUILD (shape, dtype, data). */
class PendingArray {
  value: Tensor | NumpyArray | null = null;
}

/** A dict while it is read: keys in order, of the hashable kinds a plain object can hold. */
class Dict {
  readonly entries = new Map<string, unknown>();
}

class PySet {
  constructor(readonly items: unknown[] = []) {}
}

/** The dtypes of numpy arrays read (typestrings without the byte order). */
function parseDtype(typestr: unknown, file: string): Dtype {
  if (typeof typestr !== 'string') throw new PickleError(`numpy.dtype needs a type string, got ${typeof typestr}`, file);
  const m = /^[<>|=]?([fiub])(\d+)$/.exec(typestr);
  const size = m ? Number(m[2]) : 0;
  const ok = m && (m[1] === 'f' ? [2, 4, 8].includes(size) : m[1] === 'b' ? size === 1 : [1, 2, 4, 8].includes(size));
  if (!m || !ok) {
    throw new PickleError(`numpy dtype '${typestr}' is not supported (only float16/32/64, integers and bool; ` +
      'object and structured arrays are refused)', file);
  }
  return new Dtype(m[1], size);
}

function float16(bits: number): number {
  const e = (bits >> 10) & 0x1f, f = bits & 0x3ff, s = bits & 0x8000 ? -1 : 1;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The elements of raw data as numbers or BigInts, in file order. */
function decodeElements(dtype: Dtype, raw: Uint8Array): ArrayLike<number | bigint> & { length: number } {
  const little = dtype.byteOrder !== '>';
  if (little && LITTLE_ENDIAN_HOST && dtype.kind === 'f' && dtype.size !== 2) {
    const out = dtype.size === 8 ? new Float64Array(raw.byteLength / 8) : new Float32Array(raw.byteLength / 4);
    new Uint8Array(out.buffer).set(raw);
    return out;
  }
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const n = raw.byteLength / dtype.size, s = dtype.size;
  const read = (k: string): (i: number) => number | bigint => {
    switch (k) {
      case 'f2': return (i) => float16(view.getUint16(i * s, little));
      case 'f4': return (i) => view.getFloat32(i * s, little);
      case 'f8': return (i) => view.getFloat64(i * s, little);
      case 'i1': return (i) => view.getInt8(i);
      case 'u1': case 'b1': return (i) => view.getUint8(i);
      case 'i2': return (i) => view.getInt16(i * s, little);
      case 'u2': return (i) => view.getUint16(i * s, little);
      case 'i4': return (i) => view.getInt32(i * s, little);
      case 'u4': return (i) => view.getUint32(i * s, little);
      case 'i8': return (i) => view.getBigInt64(i * s, little);
      default: return (i) => view.getBigUint64(i * s, little);
    }
  };
  const f = read(`${dtype.kind}${s}`);
  const out = dtype.kind === 'f' ? (s === 8 ? new Float64Array(n) : new Float32Array(n))
    : dtype.kind === 'b' ? new Uint8Array(n)
      : new ({ i1: Int8Array, u1: Uint8Array, i2: Int16Array, u2: Uint16Array, i4: Int32Array, u4: Uint32Array,
          i8: BigInt64Array, u8: BigUint64Array } as Record<string, new (n: number) => ArrayLike<number | bigint>>)[`${dtype.kind}${s}`](n);
  const w = out as unknown as { [i: number]: number | bigint };
  for (let i = 0; i < n; i++) w[i] = f(i);
  return out;
}

/** C order from Fortran order: element (i0, ..., ik) sits at i0 + d0 (i1 + d1 (...)) in the file. */
function fromFortran<T extends { length: number; [i: number]: number | bigint }>(a: T, shape: number[], make: (n: number) => T): T {
  if (shape.length < 2) return a;
  const out = make(a.length), idx = new Array<number>(shape.length).fill(0);
  for (let c = 0; c < a.length; c++) {
    let f = 0, stride = 1;
    for (let k = 0; k < shape.length; k++) {
      f += idx[k] * stride;
      stride *= shape[k];
    }
    out[c] = a[f];
    for (let k = shape.length - 1; k >= 0; k--) {
      if (++idx[k] < shape[k]) break;
      idx[k] = 0;
    }
  }
  return out;
}

/** An ndarray's BUILD state (version, shape, dtype, is_fortran, rawdata) made into a Tensor or a NumpyArray. */
function buildArray(state: unknown, file: string): Tensor | NumpyArray {
  if (!isArray(state) || (state.length !== 5 && state.length !== 4)) {
    throw new PickleError('an ndarray state must be (version, shape, dtype, is_fortran, data)', file);
  }
  const [shape, dtype, fortran, data] = state.length === 5 ? state.slice(1) : state;
  if (!isArray(shape) || !shape.every((d) => typeof d === 'number' && Number.isInteger(d) && d >= 0)) {
    throw new PickleError('an ndarray shape must be a tuple of non-negative integers', file);
  }
  if (!(dtype instanceof Dtype)) throw new PickleError('an ndarray state must name a numpy.dtype', file);
  if (shape.length > MAX_DIMS) {
    throw new PickleError(`an ndarray of ${shape.length} dimensions is refused (numpy allows at most ${MAX_DIMS})`, file);
  }
  let count = 1;
  for (const d of shape as number[]) {
    count *= d;
    if (count > MAX_ARRAY_ELEMENTS) {
      throw new PickleError(`an ndarray of shape (${shape.join(', ')}) has more than ${MAX_ARRAY_ELEMENTS} elements`, file);
    }
  }
  let raw: Uint8Array;
  if (data instanceof Uint8Array) raw = data;
  else if (typeof data === 'string') raw = latin1Bytes(data, file);  // Python 2's str, read as latin-1
  else throw new PickleError('ndarray data must be bytes (arrays of Python objects are refused)', file);
  if (raw.byteLength !== count * dtype.size) {
    throw new PickleError(`an ndarray of shape (${shape.join(', ')}) and dtype ${dtype.name} needs ` +
      `${count * dtype.size} bytes of data, the file gives ${raw.byteLength}`, file);
  }
  const dims = [...shape as number[]];
  let elements = decodeElements(dtype, raw) as unknown as { length: number; [i: number]: number | bigint };
  if (fortran) {
    const Ctor = elements.constructor as new (n: number) => typeof elements;
    elements = fromFortran(elements, dims, (n) => new Ctor(n));
  }
  if (dtype.kind === 'f') return new Tensor(elements as unknown as Float32Array | Float64Array, dims);
  return { dtype: dtype.name, shape: dims, data: elements as unknown as NumpyArray['data'] };
}

const latin1 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');

function latin1Bytes(s: string, file: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 255) throw new PickleError('a latin-1 string holds a character above U+00FF', file);
    out[i] = c;
  }
  return out;
}

/** numpy.core.multiarray.scalar(dtype, bytes): one number. */
function buildScalar(args: unknown[], file: string): number | bigint | boolean {
  const [dtype, data] = args;
  if (!(dtype instanceof Dtype)) throw new PickleError('numpy scalar needs a numpy.dtype', file);
  const raw = data instanceof Uint8Array ? data : typeof data === 'string' ? latin1Bytes(data, file) : null;
  if (!raw || raw.byteLength !== dtype.size) throw new PickleError(`numpy scalar of dtype ${dtype.name} needs ${dtype.size} bytes`, file);
  const v = decodeElements(dtype, raw)[0];
  if (dtype.kind === 'b') return v !== 0;
  return typeof v === 'bigint' && v >= -(2n ** 53n) && v <= 2n ** 53n ? Number(v) : v;
}

const isIndexList = (v: unknown): v is number[] =>
  Array.isArray(v) && v.every((d) => typeof d === 'number' && Number.isInteger(d) && d >= 0);

/**
 * torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, backward_hooks): the elements the
 * view picks out of the storage, in C order, as a Tensor (float; float16 widened) or a NumpyArray.
 */
function rebuildTensor(args: unknown[], file: string): Tensor | NumpyArray {
  const [storage, offset, size, stride, , hooks] = args;
  if (!(storage instanceof Storage)) throw new PickleError('_rebuild_tensor_v2 needs a storage (a persistent id)', file);
  if (typeof offset !== 'number' || !Number.isInteger(offset) || offset < 0 || !isIndexList(size) || !isIndexList(stride) ||
    size.length !== stride.length) {
    throw new PickleError('_rebuild_tensor_v2 needs an offset and a size and stride of one length', file);
  }
  if (hooks !== undefined && hooks !== null && !(hooks instanceof Dict && hooks.entries.size === 0)) {
    throw new PickleError('a tensor with backward hooks is refused (hooks are code)', file);
  }
  if (size.length > MAX_DIMS) throw new PickleError(`a tensor of ${size.length} dimensions is refused (at most ${MAX_DIMS})`, file);
  let count = 1, last = offset;
  for (let k = 0; k < size.length; k++) {
    count *= size[k];
    last += (size[k] - 1) * stride[k];
  }
  if (count > MAX_ARRAY_ELEMENTS) throw new PickleError(`a tensor of size (${size.join(', ')}) is too large`, file);
  if (count > 0 && last >= storage.numel) {
    throw new PickleError(`a tensor of size (${size.join(', ')}), stride (${stride.join(', ')}) and offset ${offset} ` +
      `reaches past its storage of ${storage.numel} elements`, file);
  }
  const src = storage.elements, dtype = storage.dtype;
  const out = (dtype.kind === 'f' ? (dtype.size === 8 ? new Float64Array(count) : new Float32Array(count))
    : new (src.constructor as new (n: number) => { [i: number]: number | bigint })(count)) as { [i: number]: number | bigint };
  const idx = new Array<number>(size.length).fill(0);
  for (let c = 0; c < count; c++) {
    let at = offset;
    for (let k = 0; k < size.length; k++) at += idx[k] * stride[k];
    out[c] = src[at];
    for (let k = size.length - 1; k >= 0; k--) {
      if (++idx[k] < size[k]) break;
      idx[k] = 0;
    }
  }
  if (dtype.kind === 'f') return new Tensor(out as unknown as Float32Array | Float64Array, [...size]);
  return { dtype: dtype.name, shape: [...size], data: out as unknown as NumpyArray['data'] };
}

/** What calling one of the known globals with args gives. */
function call(fn: Global, args: unknown, file: string): unknown {
  if (!Array.isArray(args)) throw new PickleError(`the arguments of ${fn.name} must be a tuple`, file);
  switch (fn.name) {
    case 'torch._utils._rebuild_tensor_v2':
      return rebuildTensor(args, file);
    case 'torch._utils._rebuild_parameter': {
      const [data, , hooks] = args as unknown[];
      if (!(data instanceof Tensor) && (data === null || typeof data !== 'object' || !('dtype' in data))) {
        throw new PickleError('_rebuild_parameter needs a tensor', file);
      }
      if (hooks !== undefined && hooks !== null && !(hooks instanceof Dict && hooks.entries.size === 0)) {
        throw new PickleError('a parameter with backward hooks is refused (hooks are code)', file);
      }
      return data;
    }
    case 'numpy.core.multiarray._reconstruct': case 'numpy._core.multiarray._reconstruct':
      if (!(args[0] instanceof Global) || args[0].name !== 'numpy.ndarray') {
        throw new PickleError(`${fn.name} may only make a numpy.ndarray`, file);
      }
      return new PendingArray();
    case 'numpy.dtype':
      return parseDtype(args[0], file);
    case 'numpy.core.multiarray.scalar': case 'numpy._core.multiarray.scalar':
      return buildScalar(args, file);
    case 'collections.OrderedDict': {
      const d = new Dict();
      if (args.length > 0) {
        if (!Array.isArray(args[0])) throw new PickleError('OrderedDict takes a list of (key, value) pairs', file);
        for (const pair of args[0]) {
          if (!Array.isArray(pair) || pair.length !== 2) throw new PickleError('OrderedDict takes a list of (key, value) pairs', file);
          setItem(d, pair[0], pair[1], file);
        }
      }
      return d;
    }
    case '_codecs.encode': {
      // Protocol 2 writes Python 3 bytes as _codecs.encode(text, 'latin1')
      if (typeof args[0] !== 'string' || (args[1] !== 'latin1' && args[1] !== 'latin-1')) {
        throw new PickleError("_codecs.encode is read only as encode(str, 'latin1') (protocol 2's bytes)", file);
      }
      return latin1Bytes(args[0], file);
    }
    default:
      throw new PickleError(`${fn.name} cannot be called`, file);
  }
}

function setItem(d: unknown, key: unknown, value: unknown, file: string): void {
  if (!(d instanceof Dict)) throw new PickleError('SETITEM on something that is not a dict', file);
  let k: string;
  if (typeof key === 'string') k = key;
  else if (typeof key === 'number' || typeof key === 'bigint' || typeof key === 'boolean' || key === null) k = String(key);
  else throw new PickleError('dict keys must be strings or numbers', file);
  d.entries.set(k, value);
}

/**
 * Turns the machine's objects into PickleValues (dicts into plain objects, built arrays into their values),
 * refusing nesting deeper than MAX_PICKLE_DEPTH. A shared object (the memo lets a pickle refer to one twice) is
 * converted once and shared in the result.
 */
function finish(root: unknown, file: string): PickleValue {
  const done = new Map<unknown, PickleValue>();
  const convert = (v: unknown, depth: number): PickleValue => {
    if (v === null || typeof v !== 'object') return v as PickleValue;
    if (v instanceof Uint8Array || v instanceof Tensor) return v;
    if (done.has(v)) return done.get(v) as PickleValue;
    if (depth >= MAX_PICKLE_DEPTH) throw new PickleError(`containers nest deeper than ${MAX_PICKLE_DEPTH} levels`, file);
    if (v instanceof PendingArray) {
      if (!v.value) throw new PickleError('an ndarray was never given its data (no BUILD)', file);
      return v.value;
    }
    if (v instanceof Storage) throw new PickleError('the result holds a torch storage itself, not a tensor', file);
    if (v instanceof Global || v instanceof Dtype) {
      throw new PickleError(`the result holds ${v instanceof Global ? v.name : 'a numpy.dtype'} itself, not data`, file);
    }
    if (Array.isArray(v)) {
      const out: PickleValue[] = [];
      done.set(v, out);
      for (const x of v) out.push(convert(x, depth + 1));
      return out;
    }
    if (v instanceof Dict) {
      const out: Record<string, PickleValue> = {};
      done.set(v, out);
      for (const [k, x] of v.entries) Object.defineProperty(out, k, { value: convert(x, depth + 1), enumerable: true, writable: true, configurable: true });
      return out;
    }
    if (v instanceof PySet) {
      const out = new Set<PickleValue>();
      done.set(v, out);
      for (const x of v.items) out.add(convert(x, depth + 1));
      return out;
    }
    return v as PickleValue;  // NumpyArray
  };
  return convert(root, 0);
}

/** Reads a pickle held in memory; `file` names it in errors. */
export function decodePickle(bytes: Uint8Array, file = '<buffer>'): PickleValue {
  return decodePickleWith(bytes, file, null);
}

/**
 * UTF-8 as Python's pickle reads it ('surrogatepass': an encoded UTF-16 surrogate, which strict UTF-8 refuses, is
 * kept as that code unit): the text, or the offset where the first bad sequence starts. The slow path, taken only
 * after a strict decoder refused the bytes.
 */
function utf8SurrogatePass(b: Uint8Array): string | number {
  let out = '';
  for (let i = 0; i < b.length;) {
    const c = b[i];
    // continuation bytes, the least code point (no overlong forms), the lead byte's bits
    const [n, min, bits] = c < 0x80 ? [0, 0, c] : c >= 0xc2 && c < 0xe0 ? [1, 0x80, c & 0x1f]
      : c >= 0xe0 && c < 0xf0 ? [2, 0x800, c & 0x0f] : c >= 0xf0 && c < 0xf5 ? [3, 0x10000, c & 0x07] : [-1, 0, 0];
    if (n < 0) return i;
    let cp = bits;
    for (let k = 1; k <= n; k++) {
      if (i + k >= b.length || (b[i + k] & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (b[i + k] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff) return i;
    out += String.fromCodePoint(cp);
    i += n + 1;
  }
  return out;
}

/**
 * decodePickle, with torch.save's storages when `storages` is given (a .pt's data.pkl): its persistent ids
 * ('storage', torch.XStorage, key, location, numel) then load data/<key>, and _rebuild_tensor_v2 and
 * _rebuild_parameter make tensors of them. Nothing else a .pt could name is allowed.
 */
export function decodePickleWith(bytes: Uint8Array, file: string, storages: StorageLoader | null): PickleValue {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('bytes must be a Uint8Array');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  let pos = 0;
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo = new Map<number, unknown>();
  const fail = (why: string): never => { throw new PickleError(why, file); };
  const need = (n: number, what: string): number => {
    if (n > bytes.length - pos) {
      fail(`truncated: ${what} at byte ${pos} declares ${n} bytes, ${bytes.length - pos} are left`);
    }
    const at = pos;
    pos += n;
    return at;
  };
  const u8 = (what: string) => bytes[need(1, what)];
  const u16 = (what: string) => view.getUint16(need(2, what), true);
  const u32 = (what: string) => view.getUint32(need(4, what), true);
  const u64 = (what: string): number => {
    const at = need(8, what), hi = view.getUint32(at + 4, true);
    // a length past 2^53 cannot fit what is left of a file
    return hi >= 2 ** 21 ? Number.MAX_SAFE_INTEGER : hi * 2 ** 32 + view.getUint32(at, true);
  };
  const take = (n: number, what: string) => { const at = need(n, what); return bytes.subarray(at, at + n); };
  // Python decodes a pickle's text strictly (UnicodeDecodeError), never with U+FFFD in place of a bad byte
  const text = (n: number, what: string): string => {
    const at = pos, data = take(n, what);
    try {
      return utf8.decode(data);
    } catch {
      const decoded = utf8SurrogatePass(data);
      return typeof decoded === 'string' ? decoded
        : fail(`the ${what} string of ${n} bytes at byte ${at} is not valid UTF-8 (at byte ${at + decoded})`);
    }
  };
  const push = (v: unknown) => {
    if (stack.length >= MAX_STACK) fail(`the stack holds more than ${MAX_STACK} items`);
    stack.push(v);
  };
  const pop = (): unknown => {
    if (stack.length === 0 || (marks.length && stack.length <= marks[marks.length - 1])) fail(`stack underflow at byte ${pos - 1}`);
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length === 0 || (marks.length && stack.length <= marks[marks.length - 1])) fail(`stack underflow at byte ${pos - 1}`);
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const m = marks.pop();
    if (m === undefined) fail(`no MARK before the opcode at byte ${pos - 1}`);
    return stack.splice(m as number);
  };
  const long = (n: number): number | bigint => {
    if (n > MAX_LONG_BYTES) fail(`an integer of ${n} bytes is larger than this reader takes (${MAX_LONG_BYTES})`);
    const b = take(n, 'LONG');
    if (n === 0) return 0;
    let v = 0n;
    for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
    if (b[n - 1] & 0x80) v -= 1n << BigInt(8 * n);
    return v >= -(2n ** 53n) && v <= 2n ** 53n ? Number(v) : v;
  };
  const memoGet = (i: number) => {
    if (!memo.has(i)) fail(`memo entry ${i} is read before it is written`);
    return memo.get(i);
  };
  const memoPut = (i: number) => { memo.set(i, top()); };
  const global = (module: string, name: string) => {
    const full = `${module}.${name}`;
    if (!GLOBALS.has(full) && !(storages !== null && TORCH_GLOBALS.has(full))) {
      fail(`refused the global '${full}': a pickle may name numpy arrays, dtypes, scalars and OrderedDict only ` +
        `${storages !== null ? '(and, in a .pt, torch storages and tensors) ' : ''}(this reader never imports or calls ` +
        `anything else)${storages === null && TORCH_GLOBALS.has(full) ? ' (a torch.save file: read it with nn.io.loadPt)' : ''}`);
    }
    push(new Global(full));
  };

  if (bytes.length < 2 || bytes[0] !== 0x80) {
    fail('not a pickle of protocol 2 or later (it does not start with the PROTO opcode 0x80)');
  }
  for (;;) {
    const at = pos;
    if (pos >= bytes.length) fail('truncated: the pickle ends before its STOP opcode');
    const op = bytes[pos++];
    switch (op) {
      case 0x80: {  // PROTO
        const p = u8('PROTO');
        if (p < 2 || p > 5) fail(`pickle protocol ${p} is not supported (2 to 5 are)`);
        break;
      }
      case 0x95: {  // FRAME: a length hint, checked
        const n = u64('FRAME');
        if (n > bytes.length - pos) fail(`truncated: FRAME at byte ${at} declares ${n} bytes, ${bytes.length - pos} are left`);
        break;
      }
      case 0x2e: {  // STOP
        if (stack.length !== 1 || marks.length) fail(`STOP with ${stack.length} items on the stack (and ${marks.length} marks)`);
        return finish(stack[0], file);
      }
      case 0x28: marks.push(stack.length); break;  // MARK
      case 0x30: pop(); break;  // POP
      case 0x31: popMark(); break;  // POP_MARK
      case 0x32: push(top()); break;  // DUP
      case 0x4e: push(null); break;  // NONE
      case 0x88: push(true); break;  // NEWTRUE
      case 0x89: push(false); break;  // NEWFALSE
      case 0x4a: push(view.getInt32(need(4, 'BININT'), true)); break;
      case 0x4b: push(u8('BININT1')); break;
      case 0x4d: push(u16('BININT2')); break;
      case 0x8a: push(long(u8('LONG1'))); break;
      case 0x8b: push(long(u32('LONG4'))); break;
      case 0x47: push(view.getFloat64(need(8, 'BINFLOAT'), false)); break;
      case 0x58: push(text(u32('BINUNICODE'), 'BINUNICODE')); break;
      case 0x8c: push(text(u8('SHORT_BINUNICODE'), 'SHORT_BINUNICODE')); break;
      case 0x8d: push(text(u64('BINUNICODE8'), 'BINUNICODE8')); break;
      case 0x54: {  // BINSTRING: Python 2's str, read as latin-1 (as numpy's loads with encoding='latin1')
        const n = view.getInt32(need(4, 'BINSTRING'), true);
        if (n < 0) fail(`BINSTRING at byte ${at} declares a negative length`);
        push(latin1(take(n, 'BINSTRING')));
        break;
      }
      case 0x55: push(latin1(take(u8('SHORT_BINSTRING'), 'SHORT_BINSTRING'))); break;
      case 0x42: push(take(u32('BINBYTES'), 'BINBYTES').slice()); break;
      case 0x43: push(take(u8('SHORT_BINBYTES'), 'SHORT_BINBYTES').slice()); break;
      case 0x8e: push(take(u64('BINBYTES8'), 'BINBYTES8').slice()); break;
      case 0x96: push(take(u64('BYTEARRAY8'), 'BYTEARRAY8').slice()); break;
      case 0x5d: push([]); break;  // EMPTY_LIST
      case 0x29: push([]); break;  // EMPTY_TUPLE
      case 0x7d: push(new Dict()); break;  // EMPTY_DICT
      case 0x8f: push(new PySet()); break;  // EMPTY_SET
      case 0x6c: case 0x74: push(popMark()); break;  // LIST, TUPLE
      case 0x85: push([pop()]); break;  // TUPLE1
      case 0x86: { const b = pop(), a = pop(); push([a, b]); break; }  // TUPLE2
      case 0x87: { const c = pop(), b = pop(), a = pop(); push([a, b, c]); break; }  // TUPLE3
      case 0x91: push(new PySet(popMark())); break;  // FROZENSET
      case 0x61: {  // APPEND
        const v = pop(), list = top();
        if (!Array.isArray(list)) fail(`APPEND at byte ${at} to something that is not a list`);
        (list as unknown[]).push(v);
        break;
      }
      case 0x65: {  // APPENDS
        const items = popMark(), list = top();
        if (!Array.isArray(list)) fail(`APPENDS at byte ${at} to something that is not a list`);
        for (const v of items) (list as unknown[]).push(v);
        break;
      }
      case 0x90: {  // ADDITEMS
        const items = popMark(), set = top();
        if (!(set instanceof PySet)) fail(`ADDITEMS at byte ${at} to something that is not a set`);
        for (const v of items) (set as PySet).items.push(v);  // push(...items) overflows the call stack past some 10^5
        break;
      }
      case 0x64: {  // DICT
        const items = popMark(), d = new Dict();
        if (items.length % 2) fail(`DICT at byte ${at} with an odd number of items`);
        for (let i = 0; i < items.length; i += 2) setItem(d, items[i], items[i + 1], file);
        push(d);
        break;
      }
      case 0x73: { const v = pop(), k = pop(); setItem(top(), k, v, file); break; }  // SETITEM
      case 0x75: {  // SETITEMS
        const items = popMark(), d = top();
        if (items.length % 2) fail(`SETITEMS at byte ${at} with an odd number of items`);
        for (let i = 0; i < items.length; i += 2) setItem(d, items[i], items[i + 1], file);
        break;
      }
      case 0x68: push(memoGet(u8('BINGET'))); break;
      case 0x6a: push(memoGet(u32('LONG_BINGET'))); break;
      case 0x71: memoPut(u8('BINPUT')); break;
      case 0x72: memoPut(u32('LONG_BINPUT')); break;
      case 0x94: memoPut(memo.size); break;  // MEMOIZE
      case 0x63: {  // GLOBAL: "module\nname\n"
        const line = () => {
          const end = bytes.indexOf(0x0a, pos);
          if (end < 0 || end - pos > 256) fail(`truncated: GLOBAL at byte ${at} has no end of line`);
          const s = latin1(bytes.subarray(pos, end));
          pos = end + 1;
          return s;
        };
        const module = line();
        global(module, line());
        break;
      }
      case 0x93: {  // STACK_GLOBAL
        const name = pop(), module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail(`STACK_GLOBAL at byte ${at} needs two strings`);
        global(module as string, name as string);
        break;
      }
      case 0x52: {  // REDUCE
        const args = pop(), fn = pop();
        if (!(fn instanceof Global)) fail(`REDUCE at byte ${at} calls something that is not a known global`);
        push(call(fn as Global, args, file));
        break;
      }
      case 0x81: {  // NEWOBJ: only OrderedDict (cls.__new__(cls))
        const args = pop(), cls = pop();
        if (!(cls instanceof Global) || cls.name !== 'collections.OrderedDict') {
          fail(`NEWOBJ at byte ${at} of ${cls instanceof Global ? cls.name : 'something that is not a class'} is refused`);
        }
        push(call(cls as Global, Array.isArray(args) ? [] : args, file));
        break;
      }
      case 0x62: {  // BUILD
        const state = pop(), obj = top();
        if (obj instanceof PendingArray) {
          if (obj.value) fail(`BUILD at byte ${at} of an ndarray that already has its data`);
          obj.value = buildArray(state, file);
        } else if (obj instanceof Dtype) {
          if (!Array.isArray(state) || state.length < 2 || typeof state[1] !== 'string') fail('a numpy.dtype state must be a tuple (version, byteorder, ...)');
          const s = state as unknown[];
          if (s.length >= 5 && (s[3] !== null || s[4] !== null)) fail('structured numpy dtypes are refused');
          if (s.length >= 3 && s[2] !== null) fail('numpy sub-array dtypes are refused');
          obj.byteOrder = s[1] as string;
        } else if (obj instanceof Dict && state instanceof Dict && [...state.entries.keys()].every((k) => k === '_metadata')) {
          // an OrderedDict's __dict__: empty, or a state_dict's _metadata (module versions), left out
        } else if (!(obj instanceof Dict && state === null)) {
          fail(`BUILD at byte ${at} of something other than an ndarray or a numpy.dtype`);
        }
        break;
      }
      case 0x97: case 0x98:
        fail('out-of-band buffers (protocol 5 NEXT_BUFFER) are not supported: pickle the arrays in-band');
        break;
      case 0x51: {  // BINPERSID: in a .pt, ('storage', torch.XStorage, key, location, numel)
        if (storages === null) {
          fail(`persistent IDs (BINPERSID, at byte ${at}) are refused: they refer to objects outside the file ` +
            '(torch.save\'s format: read a .pt with nn.io.loadPt)');
        }
        const pid = pop();
        const [kind, cls, key, , numel] = (Array.isArray(pid) ? pid : []) as unknown[];
        if (!Array.isArray(pid) || pid.length !== 5 || kind !== 'storage' || !(cls instanceof Global) ||
          !Object.hasOwn(TORCH_STORAGES, cls.name) || typeof key !== 'string' || typeof numel !== 'number' ||
          !Number.isInteger(numel) || numel < 0) {
          fail(`the persistent ID at byte ${at} is not a torch storage ('storage', torch.XStorage, key, location, ` +
            'numel): a .pt may refer to its storages only');
        }
        const [k, size] = TORCH_STORAGES[(cls as Global).name];
        const dtype = new Dtype(k, size);
        dtype.byteOrder = '<';
        const raw = (storages as StorageLoader)(key as string, (numel as number) * size);
        if (raw === undefined) {
          fail(`the storage '${key as string}' (${numel as number} elements of ${dtype.name}) is missing from the archive ` +
            'or has another size');
        }
        push(new Storage(dtype, raw as Uint8Array, numel as number));
        break;
      }
      case 0x50:
        fail(`persistent IDs (PERSID, at byte ${at}) are refused: they refer to objects outside the file (torch.save's ` +
          'format); save the tensors with safetensors instead');
        break;
      case 0x69: case 0x6f: case 0x92: case 0x82: case 0x83: case 0x84:
        fail(`the opcode 0x${op.toString(16)} at byte ${at} builds arbitrary objects and is refused`);
        break;
      default:
        fail(`unknown or unsupported opcode 0x${op.toString(16)} at byte ${at} (protocols 2 to 5 are read)`);
    }
  }
}

/** Reads a pickle file (see decodePickle); errors are PickleErrors naming the file. */
export async function loadPickle(path: string, options: LoadPickleOptions = {}): Promise<PickleValue> {
  if (typeof path !== 'string' || path === '') throw new TypeError('path must be a non-empty string');
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  const max = options.maxBytes ?? 2 ** 31;
  if (typeof max !== 'number' || !(max > 0)) throw new RangeError(`maxBytes must be a positive number, got ${String(max)}`);
  const fh = await fs.open(path, 'r');
  try {
    const { size } = await fh.stat();
    if (size > max) throw new PickleError(`the file has ${size} bytes, more than maxBytes ${max}`, path);
    const buf = Buffer.alloc(size);
    let read = 0;
    while (read < size) {
      const { bytesRead } = await fh.read(buf, read, size - read, read);
      if (bytesRead === 0) break;
      read += bytesRead;
    }
    return decodePickle(new Uint8Array(buf.buffer, buf.byteOffset, read), path);
  } finally {
    await fh.close();
  }
}
