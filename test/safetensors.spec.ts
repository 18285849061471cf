// safetensors: round trips, the byte layout, a file written by the reference implementation (Python
// safetensors 0.8.0, test/fixtures/reference.safetensors), atomic writes, and every malformed-file case.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeAll } from '../src/io/atomic';
import {
  decodeSafetensors, encodeSafetensors, loadSafetensors, MAX_HEADER_BYTES, readSafetensorsFile, saveSafetensors,
  SafetensorsError,
} from '../src/io/safetensors';
import { Tensor } from '../src/tensor';
import { safetensorsFile as fileOf } from './helpers';

let dir: string;
beforeAll(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodenn-st-')); });
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function expectBad(buf: Uint8Array, pattern: RegExp): void {
  let err: unknown;
  try { decodeSafetensors(buf, 'bad.safetensors'); } catch (e) { err = e; }
  expect(err).toBeInstanceOf(SafetensorsError);
  expect((err as Error).message).toMatch(/^bad\.safetensors: /);
  expect((err as Error).message).toMatch(pattern);
}

describe('safetensors', () => {
  it('round-trips float32 and float64 tensors bit for bit, with metadata', async () => {
    const weird = new Float32Array([0, -0, NaN, Infinity, -Infinity, 1e-45, 3.4028234663852886e38, 0.1]);
    const tensors = {
      '0.weight': new Tensor(weird, [2, 4]),
      '0.bias': new Tensor(new Float64Array([Math.PI, -1e-310, 2 ** 60]), [3]),
      scalar: new Tensor(new Float32Array([7]), []),
      empty: Tensor.zeros([0, 3]),
    };
    const file = path.join(dir, 'rt.safetensors');
    await saveSafetensors(file, tensors, { arch: '{"a":1}', 'ünï': 'cödé' });
    const back = await loadSafetensors(file);
    expect(back.metadata).toEqual({ arch: '{"a":1}', 'ünï': 'cödé' });
    expect(Object.keys(back.tensors)).toEqual(Object.keys(tensors));
    expect(back.dtypes).toEqual({ '0.weight': 'F32', '0.bias': 'F64', scalar: 'F32', empty: 'F32' });
    for (const [name, t] of Object.entries(tensors)) {
      const b = back.tensors[name];
      expect(b.shape).toEqual(t.shape);
      expect(b.dtype).toBe(t.dtype);
      const ours = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
      expect(Buffer.from(b.data.buffer, b.data.byteOffset, b.data.byteLength).equals(Buffer.from(ours))).toBe(true);
    }
    expect(fs.readdirSync(dir).filter((f) => f.includes('.tmp'))).toEqual([]);
  });

  it('writes the documented layout: u64 LE length, space-padded JSON header, contiguous data, 8-byte aligned', () => {
    const parts = encodeSafetensors({ w: new Tensor([1, 2], [1, 2]), b: new Tensor(new Float64Array([3]), [1]) }, { k: 'v' });
    const buf = Buffer.concat(parts);
    const n = Number(buf.readBigUInt64LE(0));
    expect((8 + n) % 8).toBe(0);
    const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8'));
    expect(header).toEqual({
      __metadata__: { k: 'v' },
      w: { dtype: 'F32', shape: [1, 2], data_offsets: [0, 8] },
      b: { dtype: 'F64', shape: [1], data_offsets: [8, 16] },
    });
    expect(buf.subarray(8, 8 + n).toString('utf8')).toMatch(/^\{.*\} *$/);
    expect(buf.length).toBe(8 + n + 16);
    expect(buf.readFloatLE(8 + n + 4)).toBe(2);
    expect(buf.readDoubleLE(8 + n + 8)).toBe(3);
  });

  it('reads a file written by the reference implementation (every dtype it wrote)', async () => {
    const f = await loadSafetensors(path.join(__dirname, 'fixtures', 'reference.safetensors'));
    expect(f.metadata).toEqual({ format: 'np', note: 'written by safetensors 0.8.0' });
    expect(f.dtypes).toEqual({ 'a.weight': 'F32', 'b.bias': 'F64', 'c.half': 'F16', 'd.int': 'I32', 'e.u8': 'U8',
      'f.empty': 'F32', 'g.i64': 'I64', 'h.bool': 'BOOL' });
    expect(f.tensors['a.weight'].shape).toEqual([2, 3]);
    expect(f.tensors['a.weight'].toArray()).toEqual([-0.5, -0.25, 0, 0.25, 0.5, 0.75]);
    expect(f.tensors['b.bias'].dtype).toBe('float64');
    expect(f.tensors['b.bias'].toArray()).toEqual([1.5, -2.25, 1e-300]);
    expect(f.tensors['c.half'].toArray()).toEqual([1, -0.5, 65504, 0]);
    expect(f.tensors['d.int'].toArray()).toEqual([-3, 7, 2147483647, -2147483648]);
    expect(f.tensors['e.u8'].toArray()).toEqual([0, 255, 7]);
    expect(f.tensors['f.empty'].shape).toEqual([0, 4]);
    expect(f.tensors['g.i64'].toArray()).toEqual([-(2 ** 53) + 1, 42]);
    expect(f.tensors['h.bool'].toArray()).toEqual([1, 0, 1]);
  });

  it('decodes BF16 and F16 subnormals', () => {
    const data = Buffer.from([0x80, 0x3f, 0x00, 0xc0, 0x01, 0x00]); // bf16 1, bf16 -2, f16 smallest subnormal
    const f = decodeSafetensors(fileOf({ a: { dtype: 'BF16', shape: [2], data_offsets: [0, 4] },
      b: { dtype: 'F16', shape: [1], data_offsets: [4, 6] } }, data));
    expect(f.tensors.a.toArray()).toEqual([1, -2]);
    expect(f.tensors.b.data[0]).toBeCloseTo(2 ** -24, 12);
  });

  it('refuses bad arguments to save with a TypeError naming them', async () => {
    const p = path.join(dir, 'x.safetensors');
    await expect(saveSafetensors(p, { w: [1, 2] as unknown as Tensor })).rejects.toThrow(/tensors\['w'\] must be a Tensor/);
    await expect(saveSafetensors(p, { __metadata__: Tensor.zeros([1]) })).rejects.toThrow(TypeError);
    await expect(saveSafetensors(p, {}, { n: 1 as unknown as string })).rejects.toThrow(/metadata\['n'\] must be a string/);
    await expect(saveSafetensors('', {})).rejects.toThrow(/path/);
    expect(fs.existsSync(p)).toBe(false);
  });

  it('a failed write leaves the previous file intact', async () => {
    const p = path.join(dir, 'keep.safetensors');
    await saveSafetensors(p, { w: new Tensor([1, 2, 3]) });
    const before = fs.readFileSync(p);
    await expect(saveSafetensors(p, { w: new Tensor([4]), bad: {} as Tensor })).rejects.toThrow(TypeError);
    await expect(saveSafetensors(path.join(dir, 'missing-dir', 'm.safetensors'), { w: new Tensor([1]) })).rejects.toThrow(/ENOENT/);
    expect(fs.readFileSync(p).equals(before)).toBe(true);
    expect(fs.readdirSync(dir).filter((f) => f.includes('.tmp'))).toEqual([]);
  });

  const ok = { w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };
  const cases: [string, () => Uint8Array, RegExp][] = [
    ['empty file', () => new Uint8Array(0), /shorter than the 8-byte header length/],
    ['7 bytes', () => new Uint8Array(7), /shorter than the 8-byte/],
    ['header length past the end', () => fileOf(ok, 8).subarray(0, 20), /runs past the end/],
    ['header length zero', () => { const b = fileOf(ok, 8); b.fill(0, 0, 8); return b; }, /too small/],
    ['header length huge (2^63)', () => { const b = fileOf(ok, 8); Buffer.from(b.buffer, b.byteOffset, b.length).writeBigUInt64LE(2n ** 63n, 0); return b; }, /exceeds the 100000000-byte limit/],
    ['not JSON', () => fileOf(null, 0, '{"w": {'), /not valid JSON/],
    ['not UTF-8', () => fileOf(null, 0, '{"\udc00"}').fill(0xff, 9, 11), /not valid UTF-8/],
    ['JSON array', () => fileOf([1], 0), /must start with '\{'/],
    ['leading space', () => fileOf(null, 0, ' {}'), /must start with '\{'/],
    ['JSON null-ish header', () => fileOf(null, 0, '{}x'), /not valid JSON/],
    ['unknown dtype', () => fileOf({ w: { dtype: 'F8', shape: [2], data_offsets: [0, 8] } }, 8), /unsupported dtype "F8"/],
    ['missing dtype', () => fileOf({ w: { shape: [2], data_offsets: [0, 8] } }, 8), /unsupported dtype undefined/],
    ['unknown field', () => fileOf({ w: { ...ok.w, strides: [1] } }, 8), /unknown field 'strides'/],
    ['entry not an object', () => fileOf({ w: 3 }, 8), /entry must be an object/],
    ['negative dim', () => fileOf({ w: { dtype: 'F32', shape: [-2], data_offsets: [0, 8] } }, 8), /shape must be/],
    ['fractional dim', () => fileOf({ w: { dtype: 'F32', shape: [1.5], data_offsets: [0, 8] } }, 8), /shape must be/],
    ['shape not array', () => fileOf({ w: { dtype: 'F32', shape: '2', data_offsets: [0, 8] } }, 8), /shape must be/],
    ['offsets wrong arity', () => fileOf({ w: { dtype: 'F32', shape: [2], data_offsets: [0] } }, 8), /data_offsets must be/],
    ['offsets negative', () => fileOf({ w: { dtype: 'F32', shape: [2], data_offsets: [-8, 0] } }, 8), /data_offsets must be/],
    ['offsets reversed', () => fileOf({ w: { dtype: 'F32', shape: [0], data_offsets: [8, 0] } }, 8), /outside/],
    ['offsets past the data', () => fileOf({ w: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, 8), /outside the 8-byte data region/],
    ['offsets beyond 2^53', () => fileOf(null, 8, '{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,18446744073709551616]}}'), /data_offsets must be/],
    ['shape x dtype != bytes', () => fileOf({ w: { dtype: 'F64', shape: [2], data_offsets: [0, 8] } }, 8), /needs 16 bytes but .* hold 8/],
    ['huge shape', () => fileOf({ w: { dtype: 'F32', shape: [2 ** 40, 2 ** 40], data_offsets: [0, 8] } }, 8), /needs .* bytes/],
    ['overlap', () => fileOf({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, 8), /overlaps/],
    ['same range twice', () => fileOf({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, 4), /overlaps/],
    ['gap at the start', () => fileOf({ w: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, 8), /gap .* \[0, 4\)/],
    ['gap between', () => fileOf({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] } }, 12), /gap .* \[4, 8\)/],
    ['trailing data', () => fileOf(ok, 12), /bytes \[8, 12\) at the end/],
    ['metadata not strings', () => fileOf({ __metadata__: { a: 1 }, ...ok }, 8), /__metadata__\['a'\] must be a string/],
    ['metadata not object', () => fileOf({ __metadata__: 'x', ...ok }, 8), /__metadata__ must be an object/],
    ['I64 beyond 2^53', () => fileOf({ w: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, Buffer.from([0, 0, 0, 0, 0, 0, 0x40, 0])), /does not fit a float64/],
  ];
  it.each(cases)('rejects a malformed file: %s', (_name, make, pattern) => {
    expectBad(make(), pattern);
  });

  it('loadSafetensors rejects the same files from disk, and a corrupted header of a real model file', async () => {
    const p = path.join(dir, 'corrupt.safetensors');
    await saveSafetensors(p, { '0.weight': Tensor.full([3, 2], 0.5), '0.bias': Tensor.zeros([2]) }, { format: 'pt' });
    const good = fs.readFileSync(p);
    const flipped = Buffer.from(good);
    flipped[12] = 0x7d; // a '}' in the middle of the JSON
    fs.writeFileSync(p, flipped);
    await expect(loadSafetensors(p)).rejects.toThrow(SafetensorsError);
    const longer = Buffer.from(good);
    longer.writeBigUInt64LE(longer.readBigUInt64LE(0) + 4n, 0); // header swallows 4 data bytes
    fs.writeFileSync(p, longer);
    await expect(loadSafetensors(p)).rejects.toThrow(/corrupt\.safetensors: /);
    fs.writeFileSync(p, good.subarray(0, good.length - 1)); // truncated data
    await expect(loadSafetensors(p)).rejects.toThrow(/outside the 31-byte data region|at the end|needs/);
    await expect(loadSafetensors(path.join(dir, 'nope.safetensors'))).rejects.toThrow(/ENOENT/);
  });

  it('a header length over the limit is refused before anything else is read', async () => {
    // A small file that claims a header of MAX_HEADER_BYTES + 1: the error is the limit, not a 100 MB read.
    const p = path.join(dir, 'big.safetensors');
    const b = Buffer.alloc(64);
    b.writeBigUInt64LE(BigInt(MAX_HEADER_BYTES + 1), 0);
    fs.writeFileSync(p, b);
    await expect(loadSafetensors(p)).rejects.toThrow(/exceeds the 100000000-byte limit/);
  });
});

describe('safetensors: large files, chunked reads and writes, non-regular files', () => {
  it('reads in chunks of any size: every dtype decodes the same with 1-, 7- and 64-byte reads', async () => {
    const reference = path.join(__dirname, 'fixtures', 'reference.safetensors');
    const p = path.join(dir, 'chunks.safetensors');
    await saveSafetensors(p, {
      a: new Tensor(Float32Array.from({ length: 50 }, (_, i) => i / 3 - 5), [5, 10]),
      b: new Tensor(Float64Array.from({ length: 9 }, (_, i) => Math.PI * i), [9]),
      c: Tensor.zeros([0, 4]),
    });
    for (const file of [reference, p]) {
      const whole = await loadSafetensors(file);
      for (const chunkBytes of [1, 7, 64]) {
        const f = await readSafetensorsFile(file, { chunkBytes });
        expect(f.metadata).toEqual(whole.metadata);
        expect(f.dtypes).toEqual(whole.dtypes);
        for (const [name, t] of Object.entries(whole.tensors)) {
          expect(f.tensors[name].shape, name).toEqual(t.shape);
          expect(f.tensors[name].dtype, name).toBe(t.dtype);
          expect(Array.from(f.tensors[name].data), `${name} with ${chunkBytes}-byte reads`).toEqual(Array.from(t.data));
        }
      }
    }
  });

  it('checks the header against the file size before reading any tensor data', async () => {
    const p = path.join(dir, 'short.safetensors');
    // declares 1 GiB of data, holds 8 bytes: refused from the header, before a byte of data is read or allocated
    fs.writeFileSync(p, fileOf({ w: { dtype: 'F32', shape: [2 ** 28], data_offsets: [0, 2 ** 30] } }, 8));
    let sawHeader = false;
    const rss = process.memoryUsage().rss;
    await expect(readSafetensorsFile(p, { beforeData: () => { sawHeader = true; } }))
      .rejects.toThrow(/short\.safetensors: tensor 'w': data_offsets \[0, 1073741824\] lie outside the 8-byte data region/);
    expect(sawHeader).toBe(false);
    expect(process.memoryUsage().rss - rss).toBeLessThan(64 * 2 ** 20);
  });

  it('writeAll writes in calls of at most the chunk size: the same bytes, and a buffer over 2 GiB in one call', () => {
    const data = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7919) % 251);
    for (const chunkBytes of [1, 7, 999, 1000, 4096]) {
      const p = path.join(dir, `w${chunkBytes}.bin`);
      const fd = fs.openSync(p, 'w');
      try { writeAll(fd, data, chunkBytes); } finally { fs.closeSync(fd); }
      expect(fs.readFileSync(p).equals(Buffer.from(data)), `chunk ${chunkBytes}`).toBe(true);
    }
    // fs.writeSync refuses a length over 2^31 - 1 ("length" is out of range); the buffer's pages are never
    // touched (zero-filled lazily), so this costs no memory.
    const big = new Uint8Array(2 ** 31 + 8);
    const fd = fs.openSync('/dev/null', 'w');
    try { writeAll(fd, big); } finally { fs.closeSync(fd); }
  });

  // A sparse file: 2 GiB + 64 bytes long, holding a [2^29] F32 tensor whose disk blocks mostly do not exist (they
  // read as zeros; on tmpfs without filling the page cache). Loading it needs the 2 GiB of the tensor itself;
  // skipped where that much memory is not free.
  const bigOk = os.freemem() > 6 * 2 ** 30 && process.platform !== 'win32';
  it.skipIf(!bigOk)('loads a file over 2 GiB (a 2 GiB F32 tensor, read in 1 GiB pieces)', async () => {
    const n = 2 ** 29;
    const head = fileOf({ __metadata__: { big: 'yes' }, w: { dtype: 'F32', shape: [n], data_offsets: [0, 4 * n] } }, 0);
    const shm = fs.existsSync('/dev/shm') ? fs.mkdtempSync('/dev/shm/nodenn-st-') : dir;
    const p = path.join(shm, 'huge.safetensors');
    const start = head.length;
    // values at the first and last element and on both sides of the 1 GiB read boundary, the rest zeros
    const marks: [number, number][] = [[0, 1.5], [2 ** 28 - 1, -2], [2 ** 28, 3.25], [n - 1, 7]];
    const fd = fs.openSync(p, 'w');
    try {
      fs.writeSync(fd, head, 0, head.length, 0);
      fs.ftruncateSync(fd, start + 4 * n);
      for (const [i, v] of marks) fs.writeSync(fd, Buffer.from(new Float32Array([v]).buffer), 0, 4, start + 4 * i);
    } finally {
      fs.closeSync(fd);
    }
    expect(fs.statSync(p).size).toBeGreaterThan(2 ** 31);
    let f: Awaited<ReturnType<typeof loadSafetensors>> | null;
    try {
      f = await loadSafetensors(p);
    } finally {
      fs.rmSync(p);
      if (shm !== dir) fs.rmSync(shm, { recursive: true, force: true });
    }
    expect(f.metadata).toEqual({ big: 'yes' });
    const w = f.tensors.w;
    expect(w.shape).toEqual([n]);
    for (const [i, v] of marks) expect(w.data[i], `w[${i}]`).toBe(v);
    // the holes read as zeros (sampled: a full scan of 2^29 values costs seconds)
    let nonZero = 0;
    for (let i = 0; i < n; i += 4099) if (w.data[i] !== 0) nonZero++;
    expect(nonZero).toBe(1);  // w[0]
    f = null;
  }, 120_000);

  it.skipIf(process.platform === 'win32')('refuses a FIFO, a directory and a device without reading (no hang)', async () => {
    const fifo = path.join(dir, 'pipe.safetensors');
    execFileSync('mkfifo', [fifo]);
    await expect(loadSafetensors(fifo)).rejects.toThrow(/pipe\.safetensors: a FIFO, not a regular file: refusing to read it/);
    await expect(loadSafetensors(fifo)).rejects.toThrow(SafetensorsError);
    await expect(loadSafetensors(dir)).rejects.toThrow(/: a directory, not a regular file/);
    await expect(loadSafetensors('/dev/zero')).rejects.toThrow(/\/dev\/zero: a character device, not a regular file/);
    expect(fs.statSync(fifo).isFIFO()).toBe(true);
  }, 20_000);

  it('refuses to write what loading would refuse, and leaves the previous file as it was', async () => {
    const p = path.join(dir, 'good.safetensors');
    await saveSafetensors(p, { w: new Tensor([1, 2, 3]) });
    const before = fs.readFileSync(p);
    // metadata that makes the header longer than the loader accepts
    const meta = { note: 'x'.repeat(MAX_HEADER_BYTES) };
    await expect(saveSafetensors(p, { w: new Tensor([4]) }, meta))
      .rejects.toThrow(/good\.safetensors: not written, loading it would fail: .*header .*exceeds the 100000000-byte limit/);
    // a dimension beyond 2^53, which loading refuses, cannot reach the writer: no Tensor holds one (not even an
    // empty tensor, which has no data at all)
    expect(() => new Tensor(new Float32Array(0), [0, 2 ** 60])).toThrow(RangeError);
    expect(() => new Tensor(new Float32Array(0), [0, 2 ** 60])).toThrow(/shape must hold non-negative integers up to 2\^53 - 1, got \[0, /);
    expect(fs.readFileSync(p).equals(before)).toBe(true);
    expect(fs.readdirSync(dir).filter((f) => f.includes('.tmp'))).toEqual([]);
  });
});
