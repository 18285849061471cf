// Fuzzing the file readers: malformed safetensors and idx files (random truncation, byte flips, rewritten header
// lengths, rewritten header JSON: dtypes, shapes, offsets out of range / overlapping / with gaps, metadata) must
// either load consistently or be rejected with the reader's own error class, quickly and without large
// allocations. Oversized inputs (a 100 MB header, a huge announced length, a gzip bomb) are rejected within
// bounded time and memory. NODENN_FILE_FUZZ_CASES sets the number of random cases per format.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { Tensor } from '../src/tensor';
import { DataError, maybeGunzip, parseIdxImages, parseIdxLabels } from '../src/data/mnist';
import {
  decodeSafetensors, encodeSafetensors, loadSafetensors, MAX_HEADER_BYTES, readSafetensorsFile, SafetensorsError,
  type SafetensorsFile,
} from '../src/io/safetensors';
import { rng } from './helpers';

const CASES = Number(process.env.NODENN_FILE_FUZZ_CASES || 1500);

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let o = 0;
  for (const c of chunks) { out.set(c, o); o += c.length; }
  return out;
}

/** A safetensors file from a header object and a data region (the length prefix computed). */
function build(header: unknown, data: Uint8Array, pad = true): Uint8Array {
  let text = JSON.stringify(header);
  if (pad) while ((8 + text.length) % 8) text += ' ';
  const h = new TextEncoder().encode(text);
  const len = new Uint8Array(8);
  new DataView(len.buffer).setBigUint64(0, BigInt(h.length), true);
  return concat([len, h, data]);
}

const elapsedMs = (f: () => void) => { const t = performance.now(); f(); return performance.now() - t; };

describe('malformed safetensors', () => {
  const valid = concat(encodeSafetensors({
    a: new Tensor(Float32Array.from({ length: 12 }, (_, i) => i), [3, 4]),
    b: new Tensor(Float64Array.from({ length: 5 }, (_, i) => -i), [5]),
    c: new Tensor(new Float32Array(0), [0, 2]),
  }, { note: 'fuzz' }));
  const headerLen = Number(new DataView(valid.buffer).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(valid.subarray(8, 8 + headerLen)));
  const data = valid.subarray(8 + headerLen);

  it('the seed file itself loads', () => {
    const f = decodeSafetensors(valid);
    expect(Array.from(f.tensors.a.data)).toEqual(Array.from({ length: 12 }, (_, i) => i));
    expect(f.metadata).toEqual({ note: 'fuzz' });
  });

  /** One random corruption of the valid file (truncation, byte flips, header length, hostile header fields). */
  function corruption(r: () => number): { bytes: Uint8Array; what: string } {
    const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
    let bytes: Uint8Array;
    let what: string;
    const kind = int(0, 5);
    if (kind === 0) {
      bytes = valid.subarray(0, int(0, valid.length - 1));
      what = `truncated to ${bytes.length}`;
    } else if (kind === 1) {
      bytes = valid.slice();
      const n = int(1, 4);
      for (let k = 0; k < n; k++) bytes[int(0, bytes.length - 1)] = int(0, 255);
      what = `${n} random bytes`;
    } else if (kind === 2) {
      bytes = valid.slice();
      const v = pick([0n, 1n, 2n, BigInt(headerLen - 1), BigInt(headerLen + 1), BigInt(valid.length),
        BigInt(MAX_HEADER_BYTES), BigInt(MAX_HEADER_BYTES + 1), 2n ** 53n, 2n ** 63n, 2n ** 64n - 1n]);
      new DataView(bytes.buffer).setBigUint64(0, v, true);
      what = `header length ${v}`;
    } else {
      const h = structuredClone(header);
      const names = ['a', 'b', 'c'];
      const name = pick(names);
      const e = h[name];
      const field = kind === 3 ? 'dtype' : kind === 4 ? 'shape' : 'data_offsets';
      const hostile: unknown[] = field === 'dtype'
        ? ['F16', 'BF16', 'I8', 'U8', 'I64', 'U64', 'BOOL', 'F8_E4M3', 'f32', '', 7, null, ['F32']]
        : field === 'shape'
          ? [[], [-1, 12], [12.5], [2 ** 31, 2 ** 31], [2 ** 53], ['3', 4], null, 'x', [1e308], [0], [12, 1, 1], [4, 3]]
          : [[e.data_offsets[1], e.data_offsets[0]], [0, data.length + 4], [-4, 44], [0.5, 48.5], [0], null,
            [0, 2 ** 53], [h[pick(names)].data_offsets[0], e.data_offsets[1]], [e.data_offsets[0] + 2, e.data_offsets[1] + 2],
            [e.data_offsets[0] + 4, e.data_offsets[1] + 4], ['0', '48']];
      e[field] = pick(hostile);
      if (r() < 0.2) h.__metadata__ = pick([{ x: 1 }, [], 'm', { y: null }, { z: 'ok' }]);
      if (r() < 0.1) h[pick(['d', '', '__metadata__x'])] = pick([{}, { dtype: 'F32', shape: [1], data_offsets: [0, 4] }]);
      bytes = build(h, r() < 0.2 ? data.subarray(0, int(0, data.length)) : data, r() < 0.8);
      what = `${name}.${field} = ${JSON.stringify(e[field])}`;
    }
    return { bytes, what };
  }

  it(`${CASES} random corruptions: each loads consistently or is a SafetensorsError`, () => {
    const r = rng(4242);
    const counts = { rejected: 0, loaded: 0 };
    const problems: string[] = [];
    let slowest = 0;
    for (let i = 0; i < CASES; i++) {
      const { bytes, what } = corruption(r);
      let outcome: unknown;
      const ms = elapsedMs(() => {
        try {
          const f = decodeSafetensors(bytes, 'fuzz.safetensors');
          for (const [n, t] of Object.entries(f.tensors)) {
            const size = t.shape.reduce((a, b) => a * b, 1);
            if (t.data.length !== size) throw new Error(`tensor ${n}: ${t.data.length} values for shape ${t.shape}`);
          }
          outcome = 'ok';
        } catch (err) {
          outcome = err;
        }
      });
      slowest = Math.max(slowest, ms);
      if (outcome === 'ok') counts.loaded++;
      else if (outcome instanceof SafetensorsError && /fuzz\.safetensors/.test(outcome.message)) counts.rejected++;
      else problems.push(`${what}: ${String(outcome)}`);
      if (problems.length > 10) break;
    }
    expect(problems).toEqual([]);
    expect(counts.rejected).toBeGreaterThan(CASES / 2);
    expect(slowest).toBeLessThan(1000);
    console.log(`safetensors fuzz: ${CASES} cases, ${counts.rejected} rejected with a SafetensorsError, ${counts.loaded} ` +
      `loaded consistently; slowest ${slowest.toFixed(1)} ms`);
  });

  it('the file reader (1-, 5- and 4096-byte reads) agrees with the in-memory decoder on 300 corrupted files', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodenn-stf-'));
    try {
      const r = rng(777);
      const file = path.join(dir, 'fuzz.safetensors');
      const outcome = (f: () => SafetensorsFile) => { try { return summary(f()); } catch (e) { return String(e); } };
      const summary = (f: SafetensorsFile) => JSON.stringify([f.metadata, f.dtypes,
        Object.entries(f.tensors).map(([n, t]) => [n, t.dtype, t.shape, Array.from(t.data, (v) => (Number.isNaN(v) ? 'NaN' : v))])]);
      for (let i = 0; i < 300; i++) {
        const { bytes, what } = corruption(r);
        fs.writeFileSync(file, bytes);
        const expected = outcome(() => decodeSafetensors(bytes, file));
        const chunkBytes = [1, 5, 4096][i % 3];
        let got: string;
        try { got = summary(await readSafetensorsFile(file, { chunkBytes })); } catch (e) { got = String(e); }
        expect(got, `${what}, ${chunkBytes}-byte reads`).toBe(expected);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('oversized inputs are refused before they are read', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodenn-st-'));
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    function sparse(name: string, bytes: number, headerLength: bigint): string {
      const file = path.join(dir, name);
      const len = Buffer.alloc(8);
      len.writeBigUInt64LE(headerLength);
      fs.writeFileSync(file, len);
      fs.truncateSync(file, bytes); // sparse: the size is real, the disk blocks are not
      return file;
    }

    it.each([
      ['a 100 MB header (over the limit) in a 100 MB file', MAX_HEADER_BYTES + 64, BigInt(MAX_HEADER_BYTES + 1), /exceeds the 100000000-byte limit/],
      ['a header length of 2^64 - 1 in a 1 kB file', 1024, 2n ** 64n - 1n, /exceeds/],
      ['a header length of 99 MB in a 1 kB file', 1024, 99_000_000n, /runs past the end/],
    ])('%s', async (_name, bytes, headerLength, message) => {
      const file = sparse('big.safetensors', bytes, headerLength);
      const rss = process.memoryUsage().rss;
      const t = performance.now();
      await expect(loadSafetensors(file)).rejects.toThrow(message);
      expect(performance.now() - t).toBeLessThan(2000);
      expect(process.memoryUsage().rss - rss).toBeLessThan(32 * 2 ** 20);
    });
  });
});

describe('malformed idx files', () => {
  function idx(magic: number, dims: number[], payload: Uint8Array): Uint8Array {
    const h = new DataView(new ArrayBuffer(4 + 4 * dims.length));
    h.setUint32(0, magic);
    dims.forEach((d, i) => h.setUint32(4 + 4 * i, d));
    return concat([new Uint8Array(h.buffer), payload]);
  }
  const images = idx(0x803, [2, 3, 4], Uint8Array.from({ length: 24 }, (_, i) => i * 10));
  const labels = idx(0x801, [5], Uint8Array.from([0, 1, 2, 9, 3]));

  it(`${CASES} random corruptions of image and label files: parsed consistently or a DataError`, () => {
    const r = rng(777);
    const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
    const problems: string[] = [];
    const counts = { rejected: 0, parsed: 0 };
    for (let i = 0; i < CASES; i++) {
      const base = r() < 0.5 ? images : labels;
      let bytes = base.slice();
      const kind = int(0, 2);
      if (kind === 0) bytes = bytes.subarray(0, int(0, bytes.length - 1));
      else if (kind === 1) for (let k = int(1, 3); k > 0; k--) bytes[int(0, Math.min(bytes.length - 1, 20))] = int(0, 255);
      else {
        const dv = new DataView(bytes.buffer);
        dv.setUint32(4 * int(1, base === images ? 3 : 1), [0, 1, 0xffffffff, 0x7fffffff, 65536, 28][int(0, 5)]);
      }
      try {
        if (base === images) {
          const im = parseIdxImages(bytes, 'fuzz-idx');
          if (im.pixels.length !== im.count * im.rows * im.cols) throw new Error('pixel count mismatch');
        } else {
          const lab = parseIdxLabels(bytes, 'fuzz-idx');
          if (lab.some((v) => v >= 10)) throw new Error('label out of range');
        }
        counts.parsed++;
      } catch (e) {
        if (e instanceof DataError) counts.rejected++;
        else problems.push(`${String(e)}`);
      }
    }
    expect(problems).toEqual([]);
    expect(counts.rejected).toBeGreaterThan(CASES / 2);
    console.log(`idx fuzz: ${CASES} cases, ${counts.rejected} rejected with a DataError, ${counts.parsed} parsed consistently`);
  });

  it('corrupt gzip and a gzip bomb are DataErrors, within bounded time', async () => {
    const gz = gzipSync(labels);
    const bad = gz.slice();
    bad[gz.length - 6] ^= 0xff; // the CRC
    await expect(maybeGunzip(bad, 'bad.gz')).rejects.toBeInstanceOf(DataError);
    await expect(maybeGunzip(gz.subarray(0, gz.length - 10), 'short.gz')).rejects.toBeInstanceOf(DataError);
    const bomb = gzipSync(new Uint8Array(300 * 2 ** 20)); // 300 MiB of zeros, about 300 kB compressed
    const t = performance.now();
    await expect(maybeGunzip(bomb, 'bomb.gz')).rejects.toThrow(DataError);
    expect(performance.now() - t).toBeLessThan(10_000);
  }, 30_000);
});
