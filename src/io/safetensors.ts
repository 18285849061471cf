// safetensors files: an 8-byte little-endian header length N, N bytes of JSON
//   { "<name>": { "dtype": "F32", "shape": [..], "data_offsets": [begin, end] }, ..., "__metadata__": { str: str } }
// (padded with spaces), then the tensor bytes, little-endian, each tensor contiguous and row-major. Offsets are
// relative to the start of the data region, which the tensors cover exactly (no gaps, no overlaps).
// Loading trusts nothing in the file: every size and offset is checked against the file's size before a byte of
// tensor data is read, and the data is read tensor by tensor, straight into the tensors' arrays, in calls of at
// most IO_CHUNK_BYTES (files and tensors over 2 GiB load). Saving refuses to write a file that loading would
// refuse.
import * as fs from 'node:fs';
import * as os from 'node:os';
import { Tensor, type DType, type FloatArray } from '../tensor';
import { fileKind, IO_CHUNK_BYTES, writeFileAtomic } from './atomic';
import { ModelFormatError } from './errors';

/** A file that is not valid safetensors (or not one nodenn can load), with the file's name. */
export class SafetensorsError extends ModelFormatError {
  constructor(message: string, file: string) {
    super(message, file, 'safetensors');
    this.name = 'SafetensorsError';
  }
}

/** Bytes per element of every dtype the format defines that nodenn can read. */
export const SAFETENSORS_DTYPES = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U64: 8, U32: 4, U16: 2, U8: 1, BOOL: 1,
} as const;
/** The dtypes of the safetensors format. */
export type SafetensorsDType = keyof typeof SAFETENSORS_DTYPES;

/** Headers larger than this are refused before they are read (the reference implementation uses 100 MB too). */
export const MAX_HEADER_BYTES = 100_000_000;

/** What the header of a file declares, checked against the file's size, before any tensor data is read. */
export interface SafetensorsHeader {
  tensors: Record<string, { dtype: SafetensorsDType; shape: number[] }>;
  metadata: Record<string, string>;
}

/** A loaded safetensors file: its tensors by name, its metadata, and each tensor's dtype in the file. */
export interface SafetensorsFile {
  tensors: Record<string, Tensor>;
  metadata: Record<string, string>;
  /** The dtype each tensor had in the file (F32 and F64 load as such; others are widened, see loadSafetensors). */
  dtypes: Record<string, SafetensorsDType>;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** The header and data bytes of a safetensors file holding `tensors` (name order kept). */
export function encodeSafetensors(tensors: Record<string, Tensor>, metadata?: Record<string, string>): Uint8Array[] {
  if (!isPlainObject(tensors)) throw new TypeError('tensors must be an object mapping names to Tensors');
  const header: Record<string, unknown> = {};
  if (metadata !== undefined) {
    if (!isPlainObject(metadata)) throw new TypeError('metadata must be an object of string values');
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new TypeError(`metadata['${k}'] must be a string, got ${typeof v}`);
    }
    header.__metadata__ = metadata;
  }
  const parts: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    if (name === '' || name === '__metadata__') throw new TypeError(`'${name}' cannot name a tensor`);
    if (!(t instanceof Tensor)) throw new TypeError(`tensors['${name}'] must be a Tensor, got ${t === null ? 'null' : typeof t}`);
    const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    header[name] = { dtype: safetensorsDtypeOf(t.dtype), shape: [...t.shape], data_offsets: [offset, offset + bytes.length] };
    parts.push(bytes);
    offset += bytes.length;
  }
  let json = JSON.stringify(header);
  // Pad with spaces so the data starts on an 8-byte boundary, as the reference writer does.
  const jsonBytes = Buffer.byteLength(json, 'utf8');
  json += ' '.repeat((8 - ((8 + jsonBytes) % 8)) % 8);
  const head = Buffer.from(json, 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(head.length));
  return [len, head, ...parts];
}

/**
 * Writes tensors (float32 as F32, float64 as F64) and string metadata to `path`, atomically (a temporary file in
 * the same directory, fsync, rename; see io/atomic.ts for links, modes and non-regular targets). What
 * loadSafetensors would refuse (a header over MAX_HEADER_BYTES, a dimension beyond 2^53) is a RangeError and
 * nothing is written.
 */
export async function saveSafetensors(path: string, tensors: Record<string, Tensor>, metadata?: Record<string, string>): Promise<void> {
  if (typeof path !== 'string' || path === '') throw new TypeError('path must be a non-empty string');
  if (metadata !== null && typeof metadata === 'object') {
    // refused before the JSON is built: JSON only ever lengthens the strings
    let chars = 0;
    for (const [k, v] of Object.entries(metadata)) chars += k.length + (typeof v === 'string' ? v.length : 0);
    if (chars > MAX_HEADER_BYTES) {
      throw new RangeError(`${path}: not written, loading it would fail: the metadata alone (${chars} characters) makes ` +
        `a header that exceeds the ${MAX_HEADER_BYTES}-byte limit`);
    }
  }
  const parts = encodeSafetensors(tensors, metadata);
  checkEncoded(parts, path);
  writeFileAtomic(path, ...parts);
}

/** Runs the loader's header checks on encodeSafetensors() output: a file is written only if it would load. */
function checkEncoded(parts: Uint8Array[], file: string): void {
  const head = parts[1];
  let dataBytes = 0;
  for (let i = 2; i < parts.length; i++) dataBytes += parts[i].length;
  try {
    checkHeaderLength(BigInt(head.length), 8 + head.length + dataBytes, file);
    parseHeader(head, dataBytes, file);
  } catch (e) {
    if (!(e instanceof SafetensorsError)) throw e;
    throw new RangeError(`${file}: not written, loading it would fail: ${e.reason}`);
  }
}

interface Entry { name: string; dtype: SafetensorsDType; shape: number[]; begin: number; end: number }

/** Checks a parsed header against the data region's length; returns the tensor entries in file order. */
function checkHeader(header: unknown, dataBytes: number, file: string): { entries: Entry[]; metadata: Record<string, string> } {
  if (!isPlainObject(header)) throw new SafetensorsError('the header is not a JSON object', file);
  const metadata: Record<string, string> = {};
  const entries: Entry[] = [];
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (!isPlainObject(info)) throw new SafetensorsError('__metadata__ must be an object of strings', file);
      for (const [k, v] of Object.entries(info)) {
        if (typeof v !== 'string') throw new SafetensorsError(`__metadata__['${k}'] must be a string, got ${JSON.stringify(v)}`, file);
        metadata[k] = v;
      }
      continue;
    }
    const what = `tensor '${name}'`;
    if (!isPlainObject(info)) throw new SafetensorsError(`${what}: its entry must be an object`, file);
    for (const key of Object.keys(info)) {
      if (key !== 'dtype' && key !== 'shape' && key !== 'data_offsets') throw new SafetensorsError(`${what}: unknown field '${key}'`, file);
    }
    const { dtype, shape, data_offsets: offsets } = info;
    if (typeof dtype !== 'string' || !Object.hasOwn(SAFETENSORS_DTYPES, dtype)) {
      throw new SafetensorsError(`${what}: unsupported dtype ${JSON.stringify(dtype)} (expected one of ` +
        `${Object.keys(SAFETENSORS_DTYPES).join(', ')})`, file);
    }
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new SafetensorsError(`${what}: shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`, file);
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      throw new SafetensorsError(`${what}: data_offsets must be [begin, end] non-negative integers, got ${JSON.stringify(offsets)}`, file);
    }
    const [begin, end] = offsets as number[];
    if (begin > end || end > dataBytes) {
      throw new SafetensorsError(`${what}: data_offsets [${begin}, ${end}] lie outside the ${dataBytes}-byte data region`, file);
    }
    let bytes = SAFETENSORS_DTYPES[dtype as SafetensorsDType];
    for (const d of shape as number[]) bytes *= d;
    if (bytes !== end - begin) {
      throw new SafetensorsError(`${what}: shape [${shape.join(', ')}] of ${dtype} needs ${bytes} bytes but data_offsets ` +
        `[${begin}, ${end}] hold ${end - begin}`, file);
    }
    entries.push({ name, dtype: dtype as SafetensorsDType, shape: shape as number[], begin, end });
  }
  // The tensors must tile the data region: sorted by offset, each starts where the previous ended.
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  for (const e of sorted) {
    if (e.begin < at) throw new SafetensorsError(`tensor '${e.name}' overlaps the previous tensor (starts at ${e.begin}, before ${at})`, file);
    if (e.begin > at) throw new SafetensorsError(`gap in the data region: bytes [${at}, ${e.begin}) belong to no tensor`, file);
    at = e.end;
  }
  if (at !== dataBytes) throw new SafetensorsError(`bytes [${at}, ${dataBytes}) at the end of the data region belong to no tensor`, file);
  return { entries, metadata };
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

const littleEndian = os.endianness() === 'LE';
/** Tensors stored in another dtype than they load as are read and widened in pieces of this size. */
const DECODE_PIECE_BYTES = 16 * 2 ** 20;

/** Whether the file's bytes of a dtype are the bytes of the array it loads into (copied as they are). */
function isNative(dtype: SafetensorsDType): boolean {
  return littleEndian && (dtype === 'F32' || dtype === 'F64');
}

/** The array a tensor loads into: Float32Array for F32, F16 and BF16, Float64Array for F64 and the integers. */
function allocateFor(e: Entry, file: string): FloatArray {
  const n = (e.end - e.begin) / SAFETENSORS_DTYPES[e.dtype];
  const f32 = e.dtype === 'F32' || e.dtype === 'F16' || e.dtype === 'BF16';
  try {
    return f32 ? new Float32Array(n) : new Float64Array(n);
  } catch (err) {
    throw new SafetensorsError(`tensor '${e.name}': cannot allocate ${n} ${f32 ? 'float32' : 'float64'} values ` +
      `(${(err as Error).message})`, file);
  }
}

function bytesOf(a: FloatArray): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** Decodes little-endian values of e.dtype from `bytes` into out[at ...]. */
function decodeInto(e: Entry, bytes: Uint8Array, out: FloatArray, at: number, file: string): void {
  if (isNative(e.dtype)) {
    bytesOf(out).set(bytes, at * out.BYTES_PER_ELEMENT);
    return;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = bytes.length / SAFETENSORS_DTYPES[e.dtype];
  for (let i = 0; i < n; i++) {
    let v: number;
    switch (e.dtype) {
      case 'F32': v = view.getFloat32(4 * i, true); break;
      case 'F64': v = view.getFloat64(8 * i, true); break;
      case 'F16': v = halfToFloat(view.getUint16(2 * i, true)); break;
      case 'BF16': v = new Float32Array(new Uint32Array([view.getUint16(2 * i, true) << 16]).buffer)[0]; break;
      case 'I32': v = view.getInt32(4 * i, true); break;
      case 'U32': v = view.getUint32(4 * i, true); break;
      case 'I16': v = view.getInt16(2 * i, true); break;
      case 'U16': v = view.getUint16(2 * i, true); break;
      case 'I8': v = view.getInt8(i); break;
      case 'U8': v = view.getUint8(i); break;
      case 'BOOL': v = view.getUint8(i) ? 1 : 0; break;
      case 'I64': case 'U64': {
        const b = e.dtype === 'I64' ? view.getBigInt64(8 * i, true) : view.getBigUint64(8 * i, true);
        if (b > BigInt(Number.MAX_SAFE_INTEGER) || b < -BigInt(Number.MAX_SAFE_INTEGER)) {
          throw new SafetensorsError(`tensor '${e.name}': ${e.dtype} value ${b} at index ${at + i} does not fit a float64 exactly`, file);
        }
        v = Number(b);
        break;
      }
    }
    out[at + i] = v;
  }
}

function headerInfo(entries: Entry[], metadata: Record<string, string>): SafetensorsHeader {
  const tensors: SafetensorsHeader['tensors'] = {};
  for (const e of entries) tensors[e.name] = { dtype: e.dtype, shape: [...e.shape] };
  return { tensors, metadata: { ...metadata } };
}

/** Parses the bytes of a whole safetensors file (see loadSafetensors). `file` names it in errors. */
export function decodeSafetensors(buf: Uint8Array, file = '<buffer>'): SafetensorsFile {
  if (buf.length < 8) throw new SafetensorsError(`file is ${buf.length} bytes, shorter than the 8-byte header length`, file);
  const n = new DataView(buf.buffer, buf.byteOffset, 8).getBigUint64(0, true);
  checkHeaderLength(n, buf.length, file);
  const data = buf.subarray(8 + Number(n));
  const { entries, metadata } = parseHeader(buf.subarray(8, 8 + Number(n)), data.length, file);
  const tensors: Record<string, Tensor> = {};
  const dtypes: Record<string, SafetensorsDType> = {};
  for (const e of entries) {
    const out = allocateFor(e, file);
    decodeInto(e, data.subarray(e.begin, e.end), out, 0, file);
    tensors[e.name] = new Tensor(out, e.shape);
    dtypes[e.name] = e.dtype;
  }
  return { tensors, metadata, dtypes };
}

function checkHeaderLength(n: bigint, fileBytes: number, file: string): void {
  if (n < 2n) throw new SafetensorsError(`header length ${n} is too small for a JSON object`, file);
  if (n > BigInt(MAX_HEADER_BYTES)) throw new SafetensorsError(`header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte limit`, file);
  if (8n + n > BigInt(fileBytes)) {
    throw new SafetensorsError(`header length ${n} runs past the end of the ${fileBytes}-byte file (truncated?)`, file);
  }
}

/** The header's JSON, checked against a data region of `dataBytes` (see checkHeader). */
function parseHeader(headerBytes: Uint8Array, dataBytes: number, file: string): { entries: Entry[]; metadata: Record<string, string> } {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
  } catch {
    throw new SafetensorsError('the header is not valid UTF-8', file);
  }
  if (!text.startsWith('{')) throw new SafetensorsError(`the header must start with '{', got ${JSON.stringify(text.slice(0, 16))}`, file);
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    throw new SafetensorsError(`the header is not valid JSON: ${(e as Error).message}`, file);
  }
  return checkHeader(header, dataBytes, file);
}

/**
 * Reads a safetensors file. F32 loads as float32 and F64 as float64; F16/BF16 widen to float32 and the integer
 * dtypes to float64 (exactly; a 64-bit integer beyond 2^53 is an error). Every malformed file (truncated, header
 * too large or not JSON, unknown dtype, size/shape disagreement, offsets out of range, overlaps, gaps) is a
 * SafetensorsError naming the file, and so is a path that is not a regular file (a FIFO, a device, a
 * directory). The header length is checked before the header is read, and the header against the file's size
 * before any tensor data is read.
 */
export async function loadSafetensors(path: string): Promise<SafetensorsFile> {
  return readSafetensorsFile(path);
}

export interface ReadOptions {
  /** The largest single read (IO_CHUNK_BYTES; smaller in tests). */
  chunkBytes?: number;
  /** Called with the checked header before any tensor data is read; throwing stops the load. */
  beforeData?: (header: SafetensorsHeader) => void;
}

/** loadSafetensors with the chunk size and a check of the header before the data is read. */
export async function readSafetensorsFile(path: string, opts: ReadOptions = {}): Promise<SafetensorsFile> {
  if (typeof path !== 'string' || path === '') throw new TypeError('path must be a non-empty string');
  const chunk = opts.chunkBytes ?? IO_CHUNK_BYTES;
  // Non-blocking, so that opening a FIFO returns at once (and fstat refuses it) instead of waiting for a writer.
  const fh = await fs.promises.open(path, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new SafetensorsError(`${fileKind(st)}, not a regular file: refusing to read it`, path);
    const size = st.size;
    if (size < 8) throw new SafetensorsError(`file is ${size} bytes, shorter than the 8-byte header length`, path);
    const lenBuf = new Uint8Array(8);
    await readExactly(fh, lenBuf, 0, path, chunk);
    const n = new DataView(lenBuf.buffer).getBigUint64(0, true);
    checkHeaderLength(n, size, path);
    const headerBytes = new Uint8Array(Number(n));
    await readExactly(fh, headerBytes, 8, path, chunk);
    const dataStart = 8 + Number(n);
    const { entries, metadata } = parseHeader(headerBytes, size - dataStart, path);
    opts.beforeData?.(headerInfo(entries, metadata));

    const tensors: Record<string, Tensor> = {};
    const dtypes: Record<string, SafetensorsDType> = {};
    for (const e of entries) {
      const out = allocateFor(e, path);
      if (isNative(e.dtype)) {
        await readExactly(fh, bytesOf(out), dataStart + e.begin, path, chunk);
      } else {
        // read a piece of whole elements at a time and widen it into the array
        const width = SAFETENSORS_DTYPES[e.dtype];
        const step = Math.max(1, Math.floor(Math.min(chunk, DECODE_PIECE_BYTES) / width)) * width;
        const scratch = new Uint8Array(Math.min(step, e.end - e.begin));
        for (let at = e.begin; at < e.end; at += step) {
          const piece = scratch.subarray(0, Math.min(step, e.end - at));
          await readExactly(fh, piece, dataStart + at, path, chunk);
          decodeInto(e, piece, out, (at - e.begin) / width, path);
        }
      }
      tensors[e.name] = new Tensor(out, e.shape);
      dtypes[e.name] = e.dtype;
    }
    return { tensors, metadata, dtypes };
  } finally {
    await fh.close();
  }
}

/** Fills `into` from the file at `position`, in reads of at most `chunk` bytes. */
async function readExactly(fh: fs.promises.FileHandle, into: Uint8Array, position: number, file: string,
  chunk = IO_CHUNK_BYTES): Promise<void> {
  let off = 0;
  while (off < into.length) {
    const { bytesRead } = await fh.read(into, off, Math.min(chunk, into.length - off), position + off);
    if (bytesRead === 0) throw new SafetensorsError(`file ended early (changed while reading?)`, file);
    off += bytesRead;
  }
}

/** The dtype a tensor of `dtype` is stored as. */
export function safetensorsDtypeOf(dtype: DType): SafetensorsDType {
  return dtype === 'float64' ? 'F64' : 'F32';
}
