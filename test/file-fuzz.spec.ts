// Fuzzing the file readers: malformed safetensors and idx files (random truncation, byte flips, rewritten header
// lengths, rewritten header JSON: dtypes, shapes, offsets out of range / overlapping / with gaps, entries, metadata)
// must either load consistently or be rejected with the reader's own error class FOR THE RIGHT REASON: an oracle
// written from the format's rules (below, independent of the readers) lists every rule a file breaks, and the
// reader's reason must be one of them. Oversized inputs (a 100 MB header, a huge announced length, a gzip bomb)
// are rejected before they are read. Cost limits are in CPU time, which a loaded machine does not inflate.
// NODENN_FILE_FUZZ_CASES sets the number of random cases per format.
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

/** CPU milliseconds f takes (this process, all threads): unlike wall time, not inflated by other processes. */
function cpuMs(f: () => void): number {
  const t = process.cpuUsage();
  f();
  const d = process.cpuUsage(t);
  return (d.user + d.system) / 1000;
}

async function cpuMsAsync(f: () => Promise<unknown>): Promise<number> {
  const t = process.cpuUsage();
  await f();
  const d = process.cpuUsage(t);
  return (d.user + d.system) / 1000;
}

/** The reasons a safetensors file can be refused for, as the reader words them (SafetensorsError.reason). */
type Rule = 'short-file' | 'header-length-small' | 'header-length-limit' | 'header-past-end' | 'utf8' | 'not-brace'
  | 'json' | 'metadata' | 'entry' | 'unknown-field' | 'dtype' | 'shape' | 'offsets' | 'offsets-outside'
  | 'size-mismatch' | 'overlap' | 'gap' | 'trailing-bytes' | 'int64-range';

const REASONS: [Rule, RegExp][] = [
  ['short-file', /^file is \d+ bytes, shorter than the 8-byte header length$/],
  ['header-length-small', /^header length \d+ is too small for a JSON object$/],
  ['header-length-limit', /^header length \d+ exceeds the \d+-byte limit$/],
  ['header-past-end', /^header length \d+ runs past the end of the \d+-byte file \(truncated\?\)$/],
  ['utf8', /^the header is not valid UTF-8$/],
  ['not-brace', /^the header must start with '\{', got /],
  ['json', /^the header is not valid JSON: /],
  ['metadata', /^__metadata__( must be an object of strings$|\['.*'\] must be a string, got )/],
  ['entry', /^tensor '.*': its entry must be an object$/],
  ['unknown-field', /^tensor '.*': unknown field '.*'$/],
  ['dtype', /^tensor '.*': unsupported dtype .* \(expected one of /],
  ['shape', /^tensor '.*': shape must be an array of non-negative integers, got /],
  ['offsets', /^tensor '.*': data_offsets must be \[begin, end\] non-negative integers, got /],
  ['offsets-outside', /^tensor '.*': data_offsets \[\d+, \d+\] lie outside the \d+-byte data region$/],
  ['size-mismatch', /^tensor '.*': shape \[[\d, ]*\] of \w+ needs \d+ bytes but data_offsets \[\d+, \d+\] hold \d+$/],
  ['overlap', /^tensor '.*' overlaps the previous tensor \(starts at \d+, before \d+\)$/],
  ['gap', /^gap in the data region: bytes \[\d+, \d+\) belong to no tensor$/],
  ['trailing-bytes', /^bytes \[\d+, \d+\) at the end of the data region belong to no tensor$/],
  ['int64-range', /^tensor '.*': [IU]64 value -?\d+ at index \d+ does not fit a float64 exactly$/],
];

/** The rule a refusal names, or undefined for a reason the reader should not give. */
function ruleOf(reason: string): Rule | undefined {
  return REASONS.find(([, re]) => re.test(reason))?.[0];
}

// The format, as its specification states it: bytes per element of each dtype.
const ELEMENT_BYTES: Record<string, number> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U64: 8, U32: 4, U16: 2, U8: 1, BOOL: 1,
};
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= Number.MAX_SAFE_INTEGER;

/** The first rule one tensor entry breaks (checked in the order of the entry's own fields), if any. */
function entryRule(info: unknown, dataBytes: number): Rule | undefined {
  if (!isObject(info)) return 'entry';
  if (Object.keys(info).some((k) => k !== 'dtype' && k !== 'shape' && k !== 'data_offsets')) return 'unknown-field';
  const { dtype, shape, data_offsets: offsets } = info;
  if (typeof dtype !== 'string' || !Object.hasOwn(ELEMENT_BYTES, dtype)) return 'dtype';
  if (!Array.isArray(shape) || !shape.every(isCount)) return 'shape';
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount)) return 'offsets';
  const [begin, end] = offsets as number[];
  // A reversed or out-of-range pair holds no meaningful byte count: that is the reason, not the size.
  if (begin > end || end > dataBytes) return 'offsets-outside';
  const needs = (shape as number[]).reduce((a, d) => a * BigInt(d), BigInt(ELEMENT_BYTES[dtype]));
  if (needs !== BigInt(end - begin)) return 'size-mismatch';
  return undefined;
}

/**
 * Every rule of the format that `bytes` breaks, worked out independently of the reader. The reader may stop at
 * the first it meets, so its reason must be one of these, and a file that breaks none must load. A header that
 * cannot be read (its length wrong) or parsed has no entries to judge; the tiling of the data region is judged
 * once every entry is sound; 64-bit integers once the tiling is.
 */
function brokenRules(bytes: Uint8Array): Set<Rule> {
  if (bytes.length < 8) return new Set(['short-file']);
  const n = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  const broken = new Set<Rule>();
  if (n < 2n) broken.add('header-length-small');
  if (n > BigInt(MAX_HEADER_BYTES)) broken.add('header-length-limit');
  if (8n + n > BigInt(bytes.length)) broken.add('header-past-end');
  if (broken.size > 0) return broken;
  const dataStart = 8 + Number(n), dataBytes = bytes.length - dataStart;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, dataStart));
  } catch {
    return new Set(['utf8']);
  }
  if (!text.startsWith('{')) return new Set(['not-brace']);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(text);
  } catch {
    return new Set(['json']);
  }
  const sound: { name: string; dtype: string; begin: number; end: number }[] = [];
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (!isObject(info) || Object.values(info).some((v) => typeof v !== 'string')) broken.add('metadata');
      continue;
    }
    const rule = entryRule(info, dataBytes);
    if (rule) broken.add(rule);
    else {
      const { dtype, data_offsets: [begin, end] } = info as { dtype: string; data_offsets: [number, number] };
      sound.push({ name, dtype, begin, end });
    }
  }
  if (broken.size > 0) return broken;
  // The tensors must tile [0, dataBytes): swept in order of their offsets.
  let at = 0;
  for (const e of [...sound].sort((a, b) => a.begin - b.begin || a.end - b.end)) {
    if (e.begin < at) broken.add('overlap');
    if (e.begin > at) broken.add('gap');
    at = Math.max(at, e.end);
  }
  if (at < dataBytes) broken.add('trailing-bytes');
  if (broken.size > 0) return broken;
  const data = new DataView(bytes.buffer, bytes.byteOffset + dataStart, dataBytes);
  for (const e of sound) {
    if (e.dtype !== 'I64' && e.dtype !== 'U64') continue;
    for (let o = e.begin; o < e.end; o += 8) {
      const v = e.dtype === 'I64' ? data.getBigInt64(o, true) : data.getBigUint64(o, true);
      if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) broken.add('int64-range');
    }
  }
  return broken;
}

/** '' when the outcome of reading `bytes` agrees with the rules it breaks, else what is wrong. */
function judge(bytes: Uint8Array, outcome: unknown, file: string): string {
  const broken = brokenRules(bytes);
  if (outcome === 'ok') return broken.size === 0 ? '' : `loaded, but it breaks ${[...broken].join(', ')}`;
  if (!(outcome instanceof SafetensorsError)) return `threw ${String(outcome)}`;
  if (outcome.message !== `${file}: ${outcome.reason}`) return `the message does not name the file: ${outcome.message}`;
  const rule = ruleOf(outcome.reason);
  if (!rule) return `refused with an unknown reason: ${outcome.reason}`;
  if (broken.size === 0) return `refused (${outcome.reason}), but it breaks no rule`;
  if (!broken.has(rule)) return `refused for ${rule} (${outcome.reason}), but it breaks ${[...broken].join(', ')}`;
  return '';
}

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
    const kind = int(0, 7);
    if (kind === 0 && r() < 0.1) {
      bytes = concat([valid, new Uint8Array(int(1, 8))]);
      what = `${bytes.length - valid.length} bytes appended`;
    } else if (kind === 0) {
      bytes = valid.subarray(0, int(0, valid.length - 1));
      what = `truncated to ${bytes.length}`;
    } else if (kind === 1) {
      bytes = valid.slice();
      const n = int(1, 4);
      for (let k = 0; k < n; k++) bytes[int(0, bytes.length - 1)] = int(0, 255);
      what = `${n} random bytes`;
    } else if (kind === 2) {
      bytes = valid.slice();
      // around the true length, the whole file (the header swallowing the data) and one byte past its end
      const v = pick([0n, 1n, 2n, BigInt(headerLen - 1), BigInt(headerLen + 1), BigInt(valid.length - 8),
        BigInt(valid.length - 7), BigInt(valid.length), BigInt(MAX_HEADER_BYTES), BigInt(MAX_HEADER_BYTES + 1),
        2n ** 53n, 2n ** 63n, 2n ** 64n - 1n]);
      new DataView(bytes.buffer).setBigUint64(0, v, true);
      what = `header length ${v}`;
    } else if (kind === 7) {
      // 64-bit integers: the 40 bytes of 'b' read as five I64 or U64 values (floats' bit patterns: some beyond 2^53)
      const h = structuredClone(header);
      h.b.dtype = pick(['I64', 'U64']);
      const d = data.slice();
      if (r() < 0.5) new DataView(d.buffer, d.byteOffset).setBigInt64(48 + 8 * int(0, 4), pick([2n ** 53n - 1n, 2n ** 53n, -(2n ** 53n), -1n]), true);
      bytes = build(h, d);
      what = `b as ${h.b.dtype}`;
    } else {
      const h = structuredClone(header);
      const names = ['a', 'b', 'c'];
      const name = pick(names);
      const e = h[name];
      const field = kind === 3 ? 'dtype' : kind === 4 ? 'shape' : kind === 5 ? 'data_offsets' : 'entry';
      const hostile: unknown[] = field === 'dtype'
        ? ['F16', 'BF16', 'I8', 'U8', 'I64', 'U64', 'BOOL', 'F8_E4M3', 'f32', '', 7, null, ['F32']]
        : field === 'shape'
          ? [[], [-1, 12], [12.5], [2 ** 31, 2 ** 31], [2 ** 53], ['3', 4], null, 'x', [1e308], [0], [12, 1, 1], [4, 3]]
          : field === 'data_offsets'
            ? [[e.data_offsets[1], e.data_offsets[0]], [0, data.length + 4], [-4, 44], [0.5, 48.5], [0], null,
                [0, 2 ** 53], [h[pick(names)].data_offsets[0], e.data_offsets[1]], [e.data_offsets[0] + 2, e.data_offsets[1] + 2],
                [e.data_offsets[0] + 4, e.data_offsets[1] + 4], ['0', '48'], [e.data_offsets[0], data.length + 1]]
            : [3, null, [], 'x', { ...e, strides: [1] }, { ...e, dtype: undefined }, {}];
      if (field === 'entry') h[name] = pick(hostile);
      else e[field] = pick(hostile);
      if (r() < 0.2) h.__metadata__ = pick([{ x: 1 }, [], 'm', { y: null }, { z: 'ok' }]);
      if (r() < 0.1) h[pick(['d', '', '__metadata__x'])] = pick([{}, { dtype: 'F32', shape: [1], data_offsets: [0, 4] }]);
      bytes = build(h, r() < 0.2 ? data.subarray(0, int(0, data.length)) : data, r() < 0.8);
      what = `${name}${field === 'entry' ? '' : `.${field}`} = ${JSON.stringify(field === 'entry' ? h[name] : e[field])}`;
    }
    return { bytes, what };
  }

  it(`${CASES} random corruptions: each loads consistently or is a SafetensorsError for a rule the file breaks`, () => {
    const r = rng(4242);
    const counts = { rejected: 0, loaded: 0 };
    const rules = new Map<string, number>();
    const problems: string[] = [];
    let costliest = 0;
    for (let i = 0; i < CASES; i++) {
      const { bytes, what } = corruption(r);
      let outcome: unknown;
      const ms = cpuMs(() => {
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
      costliest = Math.max(costliest, ms);
      const wrong = judge(bytes, outcome, 'fuzz.safetensors');
      if (wrong) problems.push(`${what}: ${wrong}`);
      else if (outcome === 'ok') counts.loaded++;
      else {
        counts.rejected++;
        const rule = ruleOf((outcome as SafetensorsError).reason)!;
        rules.set(rule, (rules.get(rule) ?? 0) + 1);
      }
      if (problems.length > 10) break;
    }
    expect(problems).toEqual([]);
    expect(counts.rejected).toBeGreaterThan(CASES / 2);
    // every hostile class reached its own refusal (the rules a 3-tensor file with this corruption mix can break)
    const expected: Rule[] = ['short-file', 'header-length-small', 'header-length-limit', 'header-past-end', 'utf8', 'json',
      'metadata', 'entry', 'unknown-field', 'dtype', 'shape', 'offsets', 'offsets-outside', 'size-mismatch', 'overlap', 'gap',
      'trailing-bytes', 'int64-range'];
    if (CASES >= 1500) expect(expected.filter((k) => !rules.has(k)), 'rules no case reached').toEqual([]);
    // No malformed header costs more than a trivial amount of work (no allocation from a hostile size, no blow-up).
    expect(costliest).toBeLessThan(1000);
    console.log(`safetensors fuzz: ${CASES} cases, ${counts.rejected} rejected with a SafetensorsError for a rule the file ` +
      `breaks, ${counts.loaded} loaded consistently; costliest ${costliest.toFixed(1)} ms CPU; by rule: ` +
      [...rules].sort().map(([k, v]) => `${k} ${v}`).join(', '));
  });

  // The edges of the two size checks, one byte either side: each refusal names its own reason exactly.
  it.each([
    ['header length one byte past the end of the file', () => withHeaderLength(valid, BigInt(valid.length - 7)),
      `header length ${valid.length - 7} runs past the end of the ${valid.length}-byte file (truncated?)`],
    ['header length swallowing the whole data region', () => withHeaderLength(valid, BigInt(valid.length - 8)),
      'the header is not valid UTF-8'],
    ['the data region one byte short', () => valid.subarray(0, valid.length - 1),
      `tensor 'b': data_offsets [48, 88] lie outside the 87-byte data region`],
    ['an end offset one byte past the data region', () => build({ ...header, b: { ...header.b, data_offsets: [48, 89] } }, data),
      `tensor 'b': data_offsets [48, 89] lie outside the 88-byte data region`],
    ['reversed offsets', () => build({ ...header, c: { ...header.c, data_offsets: [88, 87] } }, data),
      `tensor 'c': data_offsets [88, 87] lie outside the 88-byte data region`],
  ] as [string, () => Uint8Array, string | RegExp][])('%s: refused for that reason', (_name, make, reason) => {
    let err: unknown;
    try { decodeSafetensors(make(), 'edge.safetensors'); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(SafetensorsError);
    if (typeof reason === 'string') expect((err as SafetensorsError).reason).toBe(reason);
    else expect((err as SafetensorsError).reason).toMatch(reason);
    expect(judge(make(), err, 'edge.safetensors')).toBe('');
  });

  function withHeaderLength(bytes: Uint8Array, n: bigint): Uint8Array {
    const b = bytes.slice();
    new DataView(b.buffer).setBigUint64(0, n, true);
    return b;
  }

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
        let got: string, thrown: unknown = 'ok';
        try { got = summary(await readSafetensorsFile(file, { chunkBytes })); } catch (e) { got = String(e); thrown = e; }
        expect(got, `${what}, ${chunkBytes}-byte reads`).toBe(expected);
        expect(judge(bytes, thrown, file), `${what}, ${chunkBytes}-byte reads`).toBe('');
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
      ['a 100 MB header (over the limit) in a 100 MB file', MAX_HEADER_BYTES + 64, BigInt(MAX_HEADER_BYTES + 1),
        `header length ${MAX_HEADER_BYTES + 1} exceeds the 100000000-byte limit`],
      ['a header length of 2^64 - 1 in a 1 kB file', 1024, 2n ** 64n - 1n, `header length ${2n ** 64n - 1n} exceeds the 100000000-byte limit`],
      ['a header length of 99 MB in a 1 kB file', 1024, 99_000_000n, 'header length 99000000 runs past the end of the 1024-byte file (truncated?)'],
    ])('%s', async (_name, bytes, headerLength, reason) => {
      const file = sparse('big.safetensors', bytes, headerLength);
      const rss = process.memoryUsage().rss;
      let err: unknown;
      // reading 100 MB would cost a visible fraction of a second of CPU and as much memory; refusing costs neither
      const ms = await cpuMsAsync(() => loadSafetensors(file).catch((e: unknown) => { err = e; }));
      expect(err).toBeInstanceOf(SafetensorsError);
      expect((err as SafetensorsError).reason).toBe(reason);
      expect(ms).toBeLessThan(2000);
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

  /** The DataError code an idx file must be refused with, from the format (magic, dimensions, payload), or null. */
  function idxCode(bytes: Uint8Array, isImages: boolean): string | null {
    if (bytes.length < 4) return 'TRUNCATED';
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
    if (dv.getUint32(0) !== (isImages ? 0x803 : 0x801)) return 'BAD_MAGIC';
    const ndim = isImages ? 3 : 1;
    if (bytes.length < 4 + 4 * ndim) return 'TRUNCATED';
    const dims = Array.from({ length: ndim }, (_, i) => dv.getUint32(4 + 4 * i));
    const size = BigInt(4 + 4 * ndim) + dims.reduce((a, d) => a * BigInt(d), 1n);
    if (BigInt(bytes.length) < size) return 'TRUNCATED';
    if (BigInt(bytes.length) > size) return 'TRAILING_BYTES';
    if (isImages) return dims[1] === 0 || dims[2] === 0 ? 'BAD_DIMENSIONS' : null;
    return bytes.subarray(8).some((v) => v >= 10) ? 'BAD_LABEL' : null;
  }

  it(`${CASES} random corruptions of image and label files: parsed consistently or a DataError with the right code`, () => {
    const r = rng(777);
    const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
    const problems: string[] = [];
    const counts = { rejected: 0, parsed: 0 };
    const codes = new Set<string>();
    for (let i = 0; i < CASES; i++) {
      const base = r() < 0.5 ? images : labels;
      let bytes: Uint8Array = base.slice();
      const kind = int(0, 3);
      if (kind === 0) bytes = bytes.subarray(0, int(0, bytes.length - 1));
      else if (kind === 3) {
        // dimensions rewritten with the payload to match: zero-sized images, empty sets, 1x1 images
        const dims = base === images ? [int(0, 3), int(0, 2), int(0, 2)] : [int(0, 3)];
        bytes = idx(base === images ? 0x803 : 0x801, dims, Uint8Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => int(0, 12)));
      } else if (kind === 1) for (let k = int(1, 3); k > 0; k--) bytes[int(0, Math.min(bytes.length - 1, 20))] = int(0, 255);
      else {
        const dv = new DataView(bytes.buffer);
        dv.setUint32(4 * int(1, base === images ? 3 : 1), [0, 1, 0xffffffff, 0x7fffffff, 65536, 28][int(0, 5)]);
      }
      const expected = idxCode(bytes, base === images);
      let got: string | null = null;
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
        if (!(e instanceof DataError)) problems.push(`${String(e)}`);
        else if (e.file !== 'fuzz-idx') problems.push(`${e.code} does not name the file: ${e.message}`);
        else { counts.rejected++; got = e.code; codes.add(e.code); }
      }
      if (got !== expected) problems.push(`expected ${expected ?? 'a parse'}, got ${got ?? 'a parse'} (bytes ${Array.from(bytes.subarray(0, 20))})`);
      if (problems.length > 10) break;
    }
    expect(problems).toEqual([]);
    expect(counts.rejected).toBeGreaterThan(CASES / 2);
    expect([...codes].sort()).toEqual(['BAD_DIMENSIONS', 'BAD_LABEL', 'BAD_MAGIC', 'TRAILING_BYTES', 'TRUNCATED']);
    console.log(`idx fuzz: ${CASES} cases, ${counts.rejected} rejected with the DataError code the format calls for, ` +
      `${counts.parsed} parsed consistently`);
  });

  it('corrupt gzip is BAD_GZIP; a gzip bomb is TOO_LARGE, stopped at the cap', async () => {
    const gz = gzipSync(labels);
    const bad = gz.slice();
    bad[gz.length - 6] ^= 0xff; // the CRC
    await expect(maybeGunzip(bad, 'bad.gz')).rejects.toMatchObject({ name: 'DataError', code: 'BAD_GZIP', file: 'bad.gz' });
    await expect(maybeGunzip(gz.subarray(0, gz.length - 10), 'short.gz')).rejects.toMatchObject({ code: 'BAD_GZIP', file: 'short.gz' });
    const bomb = gzipSync(new Uint8Array(300 * 2 ** 20)); // 300 MiB of zeros, about 300 kB compressed
    let err: unknown;
    // inflating to the 256 MiB cap costs about half a second of CPU; no bound on wall time (a loaded machine)
    const ms = await cpuMsAsync(() => maybeGunzip(bomb, 'bomb.gz').catch((e: unknown) => { err = e; }));
    expect(err).toBeInstanceOf(DataError);
    expect(err).toMatchObject({ code: 'TOO_LARGE', file: 'bomb.gz', message: expect.stringContaining('decompresses to more than the 268435456 bytes expected') });
    expect(ms).toBeLessThan(20_000);
    // a small cap stops it at once
    await expect(maybeGunzip(bomb, 'bomb.gz', 1024)).rejects.toMatchObject({ code: 'TOO_LARGE', message: expect.stringContaining('more than the 1024 bytes') });
  }, 120_000);
});
