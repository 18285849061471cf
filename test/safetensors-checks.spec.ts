// safetensors, what the fuzz and the golden files do not pin: save's argument checks and its metadata limit,
// every dtype's decoding (integers, F16 infinities and NaN, 64-bit limits), zero-length tensors sharing an offset,
// the boundaries of the reader's size checks, the reader's own path, size, allocation and file-changed checks, and
// that a load leaves no file descriptor open.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  decodeSafetensors, loadSafetensors, MAX_HEADER_BYTES, readSafetensorsFile, saveSafetensors, SafetensorsError,
} from '../src/io/safetensors';
import { Tensor } from '../src/tensor';
import { safetensorsFile as fileOf } from './helpers';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodenn-stc-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function refusal(f: () => unknown): SafetensorsError {
  try { f(); } catch (e) { if (e instanceof SafetensorsError) return e; throw e; }
  throw new Error('not refused');
}

describe('saveSafetensors: arguments and the metadata limit', () => {
  const p = path.join(dir, 'args.safetensors');
  it.each([
    ['a non-string path', () => saveSafetensors(3 as never, {}), new TypeError('path must be a non-empty string')],
    ['tensors null', () => saveSafetensors(p, null as never), new TypeError('tensors must be an object mapping names to Tensors')],
    ['tensors an array', () => saveSafetensors(p, [] as never), new TypeError('tensors must be an object mapping names to Tensors')],
    ['metadata an array', () => saveSafetensors(p, {}, ['x'] as never), new TypeError('metadata must be an object of string values')],
    ['metadata a string', () => saveSafetensors(p, {}, 'x' as never), new TypeError('metadata must be an object of string values')],
    ['an empty tensor name', () => saveSafetensors(p, { '': Tensor.zeros([1]) }), new TypeError("'' cannot name a tensor")],
    ['a tensor named __metadata__', () => saveSafetensors(p, { __metadata__: Tensor.zeros([1]) }), new TypeError("'__metadata__' cannot name a tensor")],
    ['a null tensor', () => saveSafetensors(p, { w: null as never }), new TypeError("tensors['w'] must be a Tensor, got null")],
    ['a number as tensor', () => saveSafetensors(p, { w: 2 as never }), new TypeError("tensors['w'] must be a Tensor, got number")],
  ] as [string, () => Promise<void>, Error][])('%s is refused, naming it', async (_name, save, error) => {
    await expect(save()).rejects.toThrow(error);
    await expect(save()).rejects.toBeInstanceOf(error.constructor);
    expect(fs.existsSync(p)).toBe(false);
  });

  it('metadata longer than the header limit is refused from its length, before any JSON is built', async () => {
    const p2 = path.join(dir, 'big-meta.safetensors');
    const big = 'x'.repeat(MAX_HEADER_BYTES);
    await expect(saveSafetensors(p2, { w: Tensor.zeros([1]) }, { note: big, n: 'y' })).rejects.toThrow(new RangeError(
      `${p2}: not written, loading it would fail: the metadata alone (${MAX_HEADER_BYTES + 6} characters) makes a header ` +
      `that exceeds the ${MAX_HEADER_BYTES}-byte limit`));
    // non-string values count nothing there: they are refused as such
    await expect(saveSafetensors(p2, {}, { n: 5 as never })).rejects.toThrow(new TypeError("metadata['n'] must be a string, got number"));
    expect(fs.existsSync(p2)).toBe(false);
  });
});

describe('decoding every dtype', () => {
  /** A file of one tensor of `dtype` holding the little-endian `bytes`. */
  const one = (dtype: string, shape: number[], bytes: number[]) => fileOf({ t: { dtype, shape, data_offsets: [0, bytes.length] } }, Uint8Array.from(bytes));

  it.each([
    ['I8', [0x80, 0xff, 0x00, 0x7f], [-128, -1, 0, 127]],
    ['U8', [0x80, 0xff, 0x00, 0x7f], [128, 255, 0, 127]],
    ['I16', [0x00, 0x80, 0xff, 0xff, 0xff, 0x7f], [-32768, -1, 32767]],
    ['U16', [0x00, 0x80, 0xff, 0xff, 0xff, 0x7f], [32768, 65535, 32767]],
    ['I32', [0x00, 0x00, 0x00, 0x80, 0xff, 0xff, 0xff, 0xff], [-(2 ** 31), -1]],
    ['U32', [0x00, 0x00, 0x00, 0x80, 0xff, 0xff, 0xff, 0xff], [2 ** 31, 2 ** 32 - 1]],
    ['BOOL', [0, 1, 2, 255], [0, 1, 1, 1]],
    // F16: 1, -2, +Infinity, -Infinity, 2^-24 (the smallest subnormal); BF16: 1, -2
    ['F16', [0x00, 0x3c, 0x00, 0xc0, 0x00, 0x7c, 0x00, 0xfc, 0x01, 0x00], [1, -2, Infinity, -Infinity, 2 ** -24]],
    ['BF16', [0x80, 0x3f, 0x00, 0xc0], [1, -2]],
  ] as [string, number[], number[]][])('%s: the values exactly, in float64 (integers) or float32 (F16, BF16)', async (dtype, bytes, values) => {
    const file = path.join(dir, `${dtype}.safetensors`);
    fs.writeFileSync(file, one(dtype, [values.length], bytes));
    const fromFile = await readSafetensorsFile(file, { chunkBytes: 3 });
    for (const f of [decodeSafetensors(one(dtype, [values.length], bytes)), fromFile]) {
      expect(f.dtypes.t).toBe(dtype);
      expect(f.tensors.t.dtype).toBe(dtype === 'F16' || dtype === 'BF16' ? 'float32' : 'float64');
      expect(f.tensors.t.toArray()).toEqual(values);
    }
  });

  it('F16 NaN is NaN', () => {
    expect(Number.isNaN(decodeSafetensors(one('F16', [1], [0x00, 0x7e])).tensors.t.data[0])).toBe(true);
  });

  it('64-bit integers load exactly up to ±(2^53 - 1); beyond, the file is refused naming the value', () => {
    const le = (v: bigint, signed: boolean) => {
      const b = Buffer.alloc(8);
      if (signed) b.writeBigInt64LE(v); else b.writeBigUInt64LE(v);
      return [...b];
    };
    const max = 2n ** 53n - 1n;
    expect(decodeSafetensors(one('I64', [3], [...le(max, true), ...le(-max, true), ...le(-1n, true)])).tensors.t.toArray())
      .toEqual([2 ** 53 - 1, -(2 ** 53 - 1), -1]);
    expect(decodeSafetensors(one('U64', [1], le(max, false))).tensors.t.toArray()).toEqual([2 ** 53 - 1]);
    expect(refusal(() => decodeSafetensors(one('I64', [2], [...le(0n, true), ...le(max + 1n, true)]))).reason)
      .toBe(`tensor 't': I64 value ${max + 1n} at index 1 does not fit a float64 exactly`);
    expect(refusal(() => decodeSafetensors(one('I64', [1], le(-max - 1n, true)))).reason).toMatch(/I64 value -9007199254740992 at index 0/);
    // the top bit of a U64 is a value, not a sign
    expect(refusal(() => decodeSafetensors(one('U64', [1], le(2n ** 64n - 1n, false)))).reason)
      .toBe("tensor 't': U64 value 18446744073709551615 at index 0 does not fit a float64 exactly");
  });

  it('a tensor decoded piece by piece ends at its last element, also when it is the last thing in the file', async () => {
    const file = path.join(dir, 'tail.safetensors');
    fs.writeFileSync(file, fileOf({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, t: { dtype: 'I8', shape: [5], data_offsets: [4, 9] } },
      Uint8Array.from([0, 0, 0x80, 0x3f, 1, 2, 3, 4, 0xfb])));
    for (const chunkBytes of [1, 2, 3, 4, 64]) {
      const f = await readSafetensorsFile(file, { chunkBytes });
      expect(f.tensors.t.toArray(), `${chunkBytes}-byte reads`).toEqual([1, 2, 3, 4, -5]);
      expect(f.tensors.a.toArray()).toEqual([1]);
    }
  });
});

describe('the reader\'s checks, at their boundaries', () => {
  it('zero-length tensors may share an offset with the tensor that starts there, in any header order', () => {
    const data = Uint8Array.from([0, 0, 0x80, 0x3f]);
    for (const header of [
      { w: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, e: { dtype: 'F32', shape: [0], data_offsets: [0, 0] } },
      { e: { dtype: 'F32', shape: [0], data_offsets: [0, 0] }, w: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } },
      { w: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, e: { dtype: 'F64', shape: [0, 3], data_offsets: [4, 4] } },
    ]) {
      const f = decodeSafetensors(fileOf(header, data));
      expect(f.tensors.w.toArray()).toEqual([1]);
      expect(f.tensors.e.size).toBe(0);
    }
  });

  it('messages: the size mismatch, the dtypes the reader knows, the start of a header that is not an object', () => {
    expect(refusal(() => decodeSafetensors(fileOf({ w: { dtype: 'F64', shape: [2, 3], data_offsets: [4, 12] } }, 12))).reason)
      .toBe("tensor 'w': shape [2, 3] of F64 needs 48 bytes but data_offsets [4, 12] hold 8");
    expect(refusal(() => decodeSafetensors(fileOf({ w: { dtype: 'F8', shape: [2], data_offsets: [0, 2] } }, 2))).reason)
      .toBe("tensor 'w': unsupported dtype \"F8\" (expected one of F64, F32, F16, BF16, I64, I32, I16, I8, U64, U32, U16, U8, BOOL)");
    expect(refusal(() => decodeSafetensors(fileOf(null, 0, '["a long array that is not an object"]'))).reason)
      .toBe('the header must start with \'{\', got "[\\"a long array t"');
  });

  it('an in-memory buffer is named <buffer> unless a name is given; 8 bytes hold a header length and nothing else', () => {
    const e = refusal(() => decodeSafetensors(new Uint8Array(7)));
    expect(e.name).toBe('SafetensorsError');
    expect(e.message).toBe('<buffer>: file is 7 bytes, shorter than the 8-byte header length');
    expect(e.file).toBe('<buffer>');
    const eight = new Uint8Array(8);
    eight[0] = 2;
    expect(refusal(() => decodeSafetensors(eight, 'x')).reason).toBe('header length 2 runs past the end of the 8-byte file (truncated?)');
  });

  it('the file reader: its path, a file under 8 bytes and exactly 8, and a file that shrinks while it is read', async () => {
    await expect(loadSafetensors('')).rejects.toThrow(new TypeError('path must be a non-empty string'));
    await expect(readSafetensorsFile(7 as never)).rejects.toThrow(new TypeError('path must be a non-empty string'));
    const small = path.join(dir, 'small.safetensors');
    fs.writeFileSync(small, new Uint8Array(5));
    await expect(loadSafetensors(small)).rejects.toThrow(new SafetensorsError('file is 5 bytes, shorter than the 8-byte header length', small));
    const eight = Buffer.alloc(8);
    eight[0] = 2;
    fs.writeFileSync(small, eight);
    await expect(loadSafetensors(small)).rejects.toThrow(`${small}: header length 2 runs past the end of the 8-byte file (truncated?)`);
    // the header is read and checked against the file's size; then the file loses its data
    const changing = path.join(dir, 'changing.safetensors');
    const whole = fileOf({ w: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, 16);
    fs.writeFileSync(changing, whole);
    await expect(readSafetensorsFile(changing, { beforeData: () => fs.truncateSync(changing, whole.length - 10) }))
      .rejects.toThrow(`${changing}: file ended early (changed while reading?)`);
  });

  const bigArraysFail = (() => { try { return new Float32Array(2 ** 33).length < 0; } catch { return true; } })();
  it.skipIf(!bigArraysFail || process.platform === 'win32')('a tensor too large for one array is refused naming it, before any data is read', async () => {
    // a sparse 32 GiB file: the size is real, the disk blocks are not
    const huge = path.join(dir, 'huge.safetensors');
    const head = fileOf({ w: { dtype: 'F32', shape: [2 ** 33], data_offsets: [0, 2 ** 35] } }, 0);
    fs.writeFileSync(huge, head);
    fs.truncateSync(huge, head.length + 2 ** 35);
    await expect(loadSafetensors(huge)).rejects.toThrow(/huge\.safetensors: tensor 'w': cannot allocate 8589934592 float32 values \(.+\)$/);
  });

  it.skipIf(!fs.existsSync('/proc/self/fd'))('a load, refused or not, leaves no file descriptor open', async () => {
    const good = path.join(dir, 'good.safetensors'), bad = path.join(dir, 'bad.safetensors');
    await saveSafetensors(good, { w: Tensor.full([3], 2) });
    fs.writeFileSync(bad, fileOf({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 12] } }, 8));
    const open = () => fs.readdirSync('/proc/self/fd').length;
    const before = open();
    for (let i = 0; i < 20; i++) {
      expect((await loadSafetensors(good)).tensors.w.toArray()).toEqual([2, 2, 2]);
      await expect(loadSafetensors(bad)).rejects.toThrow(SafetensorsError);
    }
    expect(open()).toBeLessThanOrEqual(before);
  });
});
