// nn.data.Dataset: a pipeline of samples or batches, read lazily, one pass per iteration (`for await (const e of
// ds)`; fit() iterates once per epoch). Sources: tensors in memory, any (async) iterable or generator function, idx
// files streamed from disk. Transformations return new datasets and never change the one they start from.
//
// Cardinality (elements per pass) is carried along where it is known, so that fit() knows its batches per epoch;
// a generator or a filter makes it unknown, repeat() without a count makes it Infinity.
// A seeded transformation (shuffle, split) gives the same sequence of passes for the same seed: each pass of a
// shuffled dataset has a new order, drawn from the generator the dataset keeps.
import { open } from 'node:fs/promises';
import { describeValue, isArray, optionalBoolean, optionalSeed, optionsObject } from '../validate';
import { Random } from '../random';
import { type DType, type FloatArray, type NestedArray, Tensor, allocate, formatShape } from '../tensor';
import { type Batch, BatchIterator, type BatchTargets } from './batches';
import { type FromCsvOptions, csvSamples } from './csv';
import { DataError, IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC } from './mnist';

/** One sample: its input (no batch axis) and, for training, its class label or target row. */
export interface Sample {
  x: Tensor;
  y?: number | Tensor;
}

/** What from() and fromGenerator() take: an (async) iterable, or a function returning one (called once per pass). */
export type DatasetSource<T> = Iterable<T> | AsyncIterable<T> | (() => Iterable<T> | AsyncIterable<T>);

/** Options of Dataset.from(). */
export interface FromOptions {
  /** The elements are batches ({ x: (N, ...), y: labels or (N, ...) targets }) rather than samples (default false). */
  batched?: boolean;
}

/** Options of Dataset.shuffle(). */
export interface ShuffleOptions {
  /**
   * Elements held to draw from (default: all of them). Each element out is drawn at random from the buffer and
   * replaced by the next one in; a buffer of the whole dataset is a uniform shuffle (for tensors, no copy is held).
   */
  bufferSize?: number;
  /** The seed of the order (default 0); each pass continues the same generator, so each epoch has its own order. */
  seed?: number;
}

/** Options of Dataset.batch(). */
export interface BatchOptions {
  /** Leave out the last batch of a pass when it holds fewer than n elements (default false). */
  dropRemainder?: boolean;
}

/** Options of Dataset.fromIdx(): how the IDX images are scaled and shaped. */
export interface FromIdxOptions {
  /** Scale the bytes to [0, 1] (default true); false keeps 0..255. */
  normalize?: boolean;
  /** Each image as (1, rows, cols) (default) or flattened to (rows · cols). */
  flatten?: boolean;
  dtype?: DType;
  /** Images read from disk at once (default 256): the only part of the files held in memory. */
  chunk?: number;
}

function positiveInt(v: unknown, name: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new RangeError(`${name} must be a positive integer, got ${describeValue(v)}`);
  return v;
}

function nonNegativeInt(v: unknown, name: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new RangeError(`${name} must be a non-negative integer, got ${describeValue(v)}`);
  return v;
}

function isIterable(v: unknown): v is Iterable<unknown> | AsyncIterable<unknown> {
  return v !== null && (typeof v === 'object' || typeof v === 'string') &&
    (typeof (v as Iterable<unknown>)[Symbol.iterator] === 'function' ||
      typeof (v as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function');
}

async function* iterate<T>(source: Iterable<T> | AsyncIterable<T>): AsyncGenerator<T> {
  yield* source;
}

/** The metadata a dataset carries from one transformation to the next. */
export interface DatasetMeta {
  /** Elements per pass: a count, Infinity, or null when unknown. */
  cardinality: number | null;
  /** Whether the elements are batches. */
  batched: boolean;
  /** The batch size of batch(n) (the last batch may hold fewer). */
  batchSize: number | null;
  /** Samples per pass behind the batches, where known. */
  samples: number | null;
}

/**
 * A lazy, re-iterable pipeline of samples or batches (tf.data's Dataset): each for await pass reads the source
 * again through the transformations (map, filter, shuffle, batch, ...), which return new datasets.
 */
export class Dataset<T = Sample> implements AsyncIterable<T> {
  protected constructor(private readonly passes: () => AsyncIterator<T>, protected readonly meta: DatasetMeta) {}

  /** Elements per pass: a count, Infinity (repeat()), or null when unknown (a generator, filter()). */
  get cardinality(): number | null { return this.meta.cardinality; }
  /** Whether the elements are batches (batch(), or from(source, { batched: true })). */
  get batched(): boolean { return this.meta.batched; }
  /** The n of batch(n), or null. */
  get batchSize(): number | null { return this.meta.batchSize; }
  /** The samples behind one pass where known (for batches: the samples they hold). */
  get samples(): number | null { return this.meta.samples; }

  /** A new pass over the elements, from the start of the source. */
  [Symbol.asyncIterator](): AsyncIterator<T> {
    return this.passes();
  }

  /** Every element of one pass, in an array (for small datasets and tests). */
  async toArray(): Promise<T[]> {
    if (this.meta.cardinality === Infinity) throw new RangeError('toArray(): the dataset repeats without end; take(n) first');
    const out: T[] = [];
    for await (const e of this) out.push(e);
    return out;
  }

  /**
   * The samples of x (one per row) with the labels (an Int32Array or an array of integers) or target rows (a
   * Tensor) of y, if given. Its shuffle() over the whole dataset and batch() gather rows straight from the tensors,
   * as fit(x, y) does.
   */
  static fromTensors(x: Tensor, y?: Int32Array | Tensor | readonly number[]): Dataset<Sample> {
    if (!(x instanceof Tensor)) throw new TypeError(`Dataset.fromTensors: x must be a Tensor, got ${describeValue(x)}`);
    let targets: BatchTargets = null;
    if (y !== undefined) targets = Array.isArray(y) ? labelArray(y, 'Dataset.fromTensors: y') : y as Int32Array | Tensor;
    // the iterator checks shapes and targets
    new BatchIterator(x, targets, { batchSize: 1 });
    return new TensorDataset(x, targets, null);
  }

  /**
   * A dataset of what an (async) iterable yields: samples ({ x, y? }) or, with { batched: true }, batches
   * ({ x: (N, ...), y }). A function returning an iterable (a generator function) is called once per pass, so the
   * dataset can be iterated again (fit() does, once per epoch); an iterable object is iterated again as it allows
   * (a generator object only once). Its cardinality is unknown unless it is an array.
   */
  static from(source: DatasetSource<unknown>, options: FromOptions & { batched: true }): Dataset<Batch>;
  static from<T = Sample>(source: DatasetSource<T>, options?: FromOptions): Dataset<T>;
  static from<T = Sample>(source: DatasetSource<T>, options: FromOptions = {}): Dataset<T> {
    const opts = optionsObject(options, 'Dataset.from options');
    const batched = optionalBoolean(opts.batched, 'batched') ?? false;
    let open: () => AsyncIterator<T>;
    if (typeof source === 'function') {
      open = () => {
        const it = (source as () => Iterable<T> | AsyncIterable<T>)();
        if (!isIterable(it)) throw new TypeError(`Dataset.from: the function must return an iterable, got ${describeValue(it)}`);
        return iterate(it);
      };
    } else if (isIterable(source)) {
      open = () => iterate(source);
    } else {
      throw new TypeError('Dataset.from: source must be an iterable, an async iterable or a function returning one, ' +
        `got ${describeValue(source)}`);
    }
    const cardinality = Array.isArray(source) ? source.length : null;
    const dataset = new Dataset<T>(batched ? () => checkedBatches(open() as AsyncIterator<unknown>) as AsyncIterator<T> : open,
      { cardinality, batched, batchSize: null, samples: batched ? null : cardinality });
    return dataset;
  }

  /** Dataset.from() of a generator function (called once per pass). */
  static fromGenerator<T = Sample>(fn: () => Iterable<T> | AsyncIterable<T>, options: FromOptions = {}): Dataset<T> {
    if (typeof fn !== 'function') throw new TypeError(`Dataset.fromGenerator: fn must be a function, got ${describeValue(fn)}`);
    return Dataset.from(fn, options);
  }

  /**
   * Samples of an idx image file (idx3-ubyte: MNIST, Fashion-MNIST) and, if given, its idx1-ubyte labels, read from
   * disk `chunk` images at a time: the files are never read whole. Headers and sizes are checked when the dataset is
   * made (DataError, as loadMnist's); gzip files are not streamed (inflate them, or use loadMnist).
   */
  static async fromIdx(imagesPath: string, labelsPath?: string, options: FromIdxOptions = {}): Promise<Dataset<Sample>> {
    const opts = optionsObject(options, 'Dataset.fromIdx options');
    const normalize = optionalBoolean(opts.normalize, 'normalize') ?? true;
    const flatten = optionalBoolean(opts.flatten, 'flatten') ?? false;
    const dtype = opts.dtype ?? 'float32';
    if (dtype !== 'float32' && dtype !== 'float64') throw new TypeError(`dtype must be 'float32' or 'float64', got ${describeValue(dtype)}`);
    const chunk = positiveInt(opts.chunk ?? 256, 'chunk');
    const [count, rows, cols] = await idxHeader(imagesPath, IDX_IMAGES_MAGIC, 3);
    if (rows === 0 || cols === 0) throw new DataError('BAD_DIMENSIONS', `images of ${rows}x${cols} pixels`, imagesPath);
    if (labelsPath !== undefined) {
      const [labels] = await idxHeader(labelsPath, IDX_LABELS_MAGIC, 1);
      if (labels !== count) {
        throw new DataError('COUNT_MISMATCH', `${labels} labels for the ${count} images of ${imagesPath}`, labelsPath);
      }
    }
    const px = rows * cols, scale = normalize ? 1 / 255 : 1, shape = flatten ? [px] : [1, rows, cols];
    async function* pass(): AsyncGenerator<Sample> {
      const images = await open(imagesPath, 'r');
      const labels = labelsPath === undefined ? null : await open(labelsPath, 'r');
      // two buffers: the next chunk is read (on the libuv pool) while the samples of this one are handed out
      const bufs = [new Uint8Array(chunk * px), new Uint8Array(chunk * px)];
      const lbufs = [new Uint8Array(chunk), new Uint8Array(chunk)];
      const read = (start: number, k: number): Promise<void> => {
        const m = Math.min(chunk, count - start);
        const p = Promise.all([readFully(images, bufs[k], m * px, 16 + start * px, imagesPath),
          labels ? readFully(labels, lbufs[k], m, 8 + start, labelsPath as string) : undefined]).then(() => {});
        p.catch(() => {});  // awaited in turn; a pass left early never awaits it
        return p;
      };
      let next = count > 0 ? read(0, 0) : null;
      try {
        for (let start = 0, k = 0; start < count; start += chunk, k ^= 1) {
          const m = Math.min(chunk, count - start);
          await next;
          next = start + chunk < count ? read(start + chunk, k ^ 1) : null;
          const buf = bufs[k], lbuf = lbufs[k];
          for (let i = 0; i < m; i++) {
            const x = allocate(dtype, px);
            for (let j = 0; j < px; j++) x[j] = buf[i * px + j] * scale;
            yield labels ? { x: new Tensor(x, shape), y: lbuf[i] } : { x: new Tensor(x, shape) };
          }
        }
      } finally {
        await next?.catch(() => {});
        await images.close();
        await labels?.close();
      }
    }
    return new Dataset(pass, { cardinality: count, batched: false, batchSize: null, samples: count });
  }

  /**
   * Samples of the rows of a CSV file: x the feature columns (every numeric column but the label, or `features`),
   * y the label column's class label (or value, or class name's index). The file is parsed as a stream (csv-parse:
   * quoted fields, LF or CRLF, a BOM), a row at a time, never read whole. Making the dataset reads it through once,
   * so that a missing column or a cell that is not a number is a DataError here, naming its row and column
   * (codes MISSING_COLUMN, BAD_VALUE, BAD_LABEL, BAD_CSV, NOT_FOUND), and the row count is known to fit().
   */
  static async fromCsv(path: string, options: FromCsvOptions = {}): Promise<Dataset<Sample>> {
    const { pass, rows } = await csvSamples(path, options);
    return new Dataset(pass, { cardinality: rows, batched: false, batchSize: null, samples: rows });
  }

  /** A new dataset of a transformation of this one's passes. */
  protected derive<U>(pass: () => AsyncIterator<U>, meta: Partial<DatasetMeta>): Dataset<U> {
    return new Dataset<U>(pass, { ...this.meta, ...meta });
  }

  /** fn(element, index) of each element (fn may be async); the cardinality stays. */
  map<U>(fn: (element: T, index: number) => U | Promise<U>): Dataset<U> {
    if (typeof fn !== 'function') throw new TypeError(`map: fn must be a function, got ${describeValue(fn)}`);
    const self = this;
    return this.derive(async function* () {
      let i = 0;
      for await (const e of self) yield await fn(e, i++);
    }, {});
  }

  /** The elements for which fn(element, index) is true (fn may be async); the cardinality becomes unknown. */
  filter(fn: (element: T, index: number) => boolean | Promise<boolean>): Dataset<T> {
    if (typeof fn !== 'function') throw new TypeError(`filter: fn must be a function, got ${describeValue(fn)}`);
    const self = this;
    return this.derive(async function* () {
      let i = 0;
      for await (const e of self) if (await fn(e, i++)) yield e;
    }, { cardinality: this.meta.cardinality === Infinity ? Infinity : null, samples: null });
  }

  /** The elements in a seeded random order, a new one each pass (see ShuffleOptions). */
  shuffle(options: ShuffleOptions = {}): Dataset<T> {
    const opts = optionsObject(options, 'shuffle() options');
    const bufferSize = opts.bufferSize === undefined ? Infinity : positiveInt(opts.bufferSize, 'shuffle(): bufferSize');
    const rng = new Random(optionalSeed(opts.seed, 'shuffle(): seed') ?? 0);
    const self = this;
    return this.derive(async function* () {
      const buffer: T[] = [];
      for await (const e of self) {
        if (buffer.length < bufferSize) {
          buffer.push(e);
          continue;
        }
        const j = rng.int(bufferSize);
        yield buffer[j];
        buffer[j] = e;
      }
      rng.shuffle(buffer as unknown as Int32Array);
      yield* buffer;
    }, {});
  }

  /**
   * Batches of n samples: x stacked into (m, ...the sample shape), the labels into an Int32Array or the target rows
   * into a Tensor (m, ...), y null where the samples have none. Every sample must have the shape of the first.
   */
  batch(n: number, options: BatchOptions = {}): Dataset<Batch> {
    const size = positiveInt(n, 'batch(): n');
    const dropRemainder = optionalBoolean(optionsObject(options, 'batch() options').dropRemainder, 'dropRemainder') ?? false;
    if (this.meta.batched) throw new TypeError('batch(): the elements are batches already');
    const self = this;
    return this.derive<Batch>(async function* () {
      let pending: Sample[] = [], index = 0, seen = 0;
      for await (const e of self as unknown as Dataset<Sample>) {
        pending.push(e);
        if (pending.length === size) {
          yield stack(pending, index++, seen);
          seen += size;
          pending = [];
        }
      }
      if (pending.length > 0 && !dropRemainder) yield stack(pending, index, seen);
    }, batchedMeta(this.meta, size, dropRemainder));
  }

  /**
   * Reads up to k elements ahead while the consumer works on the current one, so that reading (from disk, a
   * network, an async generator) overlaps with training. Errors reach the consumer in order.
   */
  prefetch(k = 1): Dataset<T> {
    const ahead = positiveInt(k, 'prefetch(): k');
    const self = this;
    return this.derive(async function* () {
      const it = self[Symbol.asyncIterator]();
      const queue: Promise<IteratorResult<T>>[] = [];
      const request = () => {
        const p = it.next();
        p.catch(() => {});  // handled when its turn comes; a consumer that stops early never awaits it
        queue.push(p);
      };
      try {
        for (let i = 0; i < ahead; i++) request();
        for (;;) {
          const r = await (queue.shift() as Promise<IteratorResult<T>>);
          if (r.done) return;
          request();
          yield r.value;
        }
      } finally {
        await it.return?.();
      }
    }, {});
  }

  /** The first n elements of each pass. */
  take(n: number): Dataset<T> {
    const count = nonNegativeInt(n, 'take(): n');
    const self = this;
    const c = this.meta.cardinality;
    return this.derive(async function* () {
      if (count === 0) return;
      let i = 0;
      for await (const e of self) {
        yield e;
        if (++i >= count) return;
      }
    }, { cardinality: c === null ? null : Math.min(c, count), samples: c !== null && count >= c ? this.meta.samples : null });
  }

  /** Each pass without its first n elements. */
  skip(n: number): Dataset<T> {
    const count = nonNegativeInt(n, 'skip(): n');
    const self = this;
    const c = this.meta.cardinality;
    return this.derive(async function* () {
      let i = 0;
      for await (const e of self) if (i++ >= count) yield e;
    }, { cardinality: c === null ? null : Math.max(0, c - count), samples: count === 0 ? this.meta.samples : null });
  }

  /** count passes of this dataset in one (default: without end; fit() then needs stepsPerEpoch). */
  repeat(count = Infinity): Dataset<T> {
    if (count !== Infinity) nonNegativeInt(count, 'repeat(): count');
    const self = this;
    const c = this.meta.cardinality;
    return this.derive(async function* () {
      for (let r = 0; r < count; r++) {
        let any = false;
        for await (const e of self) {
          any = true;
          yield e;
        }
        if (!any) return;  // an empty dataset repeated without end is still empty
      }
    }, {
      cardinality: c === null ? null : c === 0 ? 0 : c * count,
      samples: this.meta.samples === null ? null : this.meta.samples === 0 ? 0 : this.meta.samples * count,
    });
  }

  /**
   * Parts of this dataset in the given proportions (fractions summing to 1), each element in exactly one part,
   * chosen by a seeded draw: with a known cardinality, exact counts (floor of each fraction, the rest to the last
   * part) of a seeded permutation; else each element drawn on its own (proportions only on average). The parts
   * read this dataset each, so a shuffle() goes after split(), never before.
   */
  split(fractions: readonly number[], options: { seed?: number } = {}): Dataset<T>[] {
    if (!isArray(fractions) || fractions.length < 2 || !fractions.every((f) => typeof f === 'number' && f > 0 && f < 1)) {
      throw new RangeError(`split(): fractions must be an array of at least two numbers in (0, 1), got ${describeValue(fractions)}`);
    }
    const total = fractions.reduce((a, b) => a + b, 0);
    if (Math.abs(total - 1) > 1e-9) throw new RangeError(`split(): the fractions must sum to 1, got ${total}`);
    const seed = optionalSeed(optionsObject(options, 'split() options').seed, 'split(): seed') ?? 0;
    const c = this.meta.cardinality;
    if (c === Infinity) throw new RangeError('split(): the dataset repeats without end; split before repeat()');
    const partOf = (): ((i: number) => number) => {
      if (c === null) {
        const rng = new Random(seed), bounds = fractions.map((_, k) => fractions.slice(0, k + 1).reduce((a, b) => a + b, 0));
        const drawn: number[] = [];
        return (i) => {
          while (drawn.length <= i) {
            const u = rng.uniform();
            drawn.push(Math.min(bounds.findIndex((b) => u < b) >>> 0, fractions.length - 1));
          }
          return drawn[i];
        };
      }
      const order = new Random(seed).permutation(c), part = new Int32Array(c);
      let at = 0;
      fractions.forEach((f, k) => {
        const m = k === fractions.length - 1 ? c - at : Math.floor(c * f);
        for (let j = 0; j < m; j++) part[order[at + j]] = k;
        at += m;
      });
      return (i) => part[i];
    };
    const assign = partOf();
    const counts = c === null ? null : fractions.map((f, k) => (k === fractions.length - 1
      ? c - fractions.slice(0, -1).reduce((a, g) => a + Math.floor(c * g), 0) : Math.floor(c * f)));
    const self = this;
    return fractions.map((_, k) => this.derive(async function* () {
      let i = 0;
      for await (const e of self) if (assign(i++) === k) yield e;
    }, { cardinality: counts ? counts[k] : null, samples: this.meta.batched ? null : counts ? counts[k] : null }));
  }

  /**
   * Keeps the elements of the first complete pass in memory and replays them in later passes (a pass left
   * unfinished keeps nothing). Elements are kept as they are: map() to copies first if a source reuses its arrays.
   */
  cache(): Dataset<T> {
    const self = this;
    let kept: T[] | null = null;
    return this.derive(async function* () {
      if (kept) {
        yield* kept;
        return;
      }
      const pass: T[] = [];
      for await (const e of self) {
        pass.push(e);
        yield e;
      }
      kept = pass;
    }, {});
  }
}

/** The samples of tensors in memory: shuffle() and batch() gather rows (BatchIterator) instead of going sample by sample. */
class TensorDataset extends Dataset<Sample> {
  /** The samples one by one; its order carries on from pass to pass, as a batch() iterator's does. */
  private sampleIterator: BatchIterator | null = null;

  constructor(private readonly x: Tensor, private readonly y: BatchTargets, private readonly rng: Random | null) {
    const n = x.shape[0];
    super(() => this.samplesPass(), { cardinality: n, batched: false, batchSize: null, samples: n });
  }

  private async* samplesPass(): AsyncGenerator<Sample> {
    this.sampleIterator ??= this.batchIterator(1, false);
    for (const b of this.sampleIterator.epoch()) {
      const x = b.x.reshape(b.x.shape.slice(1));
      const y = b.y;
      yield y === null ? { x } : { x, y: y instanceof Int32Array ? y[0] : y.reshape(y.shape.slice(1)) };
    }
  }

  private batchIterator(batchSize: number, dropRemainder: boolean): BatchIterator {
    return new BatchIterator(this.x, this.y, {
      batchSize, dropRemainder, shuffle: this.rng !== null, rng: this.rng ?? undefined, reuseBuffers: false,
    });
  }

  override shuffle(options: ShuffleOptions = {}): Dataset<Sample> {
    const opts = optionsObject(options, 'shuffle() options');
    if (opts.bufferSize !== undefined) positiveInt(opts.bufferSize, 'shuffle(): bufferSize');
    if (this.rng || (opts.bufferSize !== undefined && opts.bufferSize < this.x.shape[0])) return super.shuffle(opts);
    return new TensorDataset(this.x, this.y, new Random(optionalSeed(opts.seed, 'shuffle(): seed') ?? 0));
  }

  override batch(n: number, options: BatchOptions = {}): Dataset<Batch> {
    const size = positiveInt(n, 'batch(): n');
    const dropRemainder = optionalBoolean(optionsObject(options, 'batch() options').dropRemainder, 'dropRemainder') ?? false;
    // one iterator for every pass: its order carries on from pass to pass, as fit(x, y)'s does from epoch to epoch
    const it = this.batchIterator(size, dropRemainder);
    return this.derive(() => iterate(it.epoch()), batchedMeta(this.meta, size, dropRemainder));
  }
}

function batchedMeta(meta: DatasetMeta, size: number, dropRemainder: boolean): Partial<DatasetMeta> {
  const c = meta.cardinality;
  const cardinality = c === null ? null : c === Infinity ? Infinity : dropRemainder ? Math.floor(c / size) : Math.ceil(c / size);
  const samples = c === null || c === Infinity ? c : dropRemainder ? cardinality as number * size : c;
  return { cardinality, batched: true, batchSize: size, samples };
}

/** Integer labels of a plain array, as an Int32Array. */
function labelArray(y: readonly unknown[], name: string): Int32Array {
  const out = new Int32Array(y.length);
  for (let i = 0; i < y.length; i++) {
    const v = y[i];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < -(2 ** 31) || v >= 2 ** 31) {
      throw new TypeError(`${name}[${i}] must be an integer label, got ${describeValue(v)}`);
    }
    out[i] = v;
  }
  return out;
}

function sampleInput(x: unknown, name: string): Tensor {
  if (x instanceof Tensor) return x;
  if (Array.isArray(x)) return new Tensor(x as NestedArray);
  throw new TypeError(`${name} must be a Tensor (or a nested array of numbers), got ${describeValue(x)}`);
}

/** Samples stacked into one batch. */
function stack(samples: Sample[], index: number, first: number): Batch {
  const m = samples.length;
  const where = (i: number) => `sample ${first + i} (batch ${index}, row ${i})`;
  const xs = samples.map((s, i) => {
    if (s === null || typeof s !== 'object') throw new TypeError(`batch(): ${where(i)} must be an object { x, y? }, got ${describeValue(s)}`);
    return sampleInput(s.x, `batch(): ${where(i)}'s x`);
  });
  const shape = xs[0].shape, per = xs[0].size;
  const x = allocate(xs[0].dtype, m * per);
  xs.forEach((t, i) => {
    if (formatShape(t.shape) !== formatShape(shape)) {
      throw new RangeError(`batch(): ${where(i)} has x of shape ${formatShape(t.shape)}, the first of the batch ${formatShape(shape)}`);
    }
    x.set(t.data, i * per);
  });
  const y0 = samples[0].y;
  let y: BatchTargets = null;
  if (typeof y0 === 'number') {
    const labels = new Int32Array(m);
    samples.forEach((s, i) => {
      if (typeof s.y !== 'number' || !Number.isInteger(s.y)) {
        throw new TypeError(`batch(): ${where(i)} has y ${describeValue(s.y)}, but the first of the batch has an integer label`);
      }
      labels[i] = s.y;
    });
    y = labels;
  } else if (y0 !== undefined) {
    const t0 = sampleInput(y0, `batch(): ${where(0)}'s y`);
    const ty = allocate(t0.dtype, m * t0.size);
    samples.forEach((s, i) => {
      const t = s.y instanceof Tensor || Array.isArray(s.y) ? sampleInput(s.y, `batch(): ${where(i)}'s y`) : null;
      if (!t || formatShape(t.shape) !== formatShape(t0.shape)) {
        throw new RangeError(`batch(): ${where(i)} has y ${t ? `of shape ${formatShape(t.shape)}` : describeValue(s.y)}, ` +
          `the first of the batch a target of shape ${formatShape(t0.shape)}`);
      }
      (ty as FloatArray).set(t.data, i * t0.size);
    });
    y = new Tensor(ty, [m, ...t0.shape]);
  } else if (samples.some((s) => s.y !== undefined)) {
    throw new TypeError(`batch(): ${where(samples.findIndex((s) => s.y !== undefined))} has a y, but the first of the batch has none`);
  }
  return { x: new Tensor(x, [m, ...shape]), y, size: m, index };
}

/** Batches a user's source yields, checked and normalized: x a Tensor (N, ...), y labels or target rows for N samples. */
async function* checkedBatches(it: AsyncIterator<unknown>): AsyncGenerator<Batch> {
  for (let index = 0; ; index++) {
    const r = await it.next();
    if (r.done) return;
    const b = r.value as { x?: unknown; y?: unknown } | null;
    const name = `batch ${index}`;
    if (b === null || typeof b !== 'object') throw new TypeError(`${name} must be an object { x, y? }, got ${describeValue(b)}`);
    const x = sampleInput(b.x, `${name}: x`);
    if (x.ndim < 1) throw new RangeError(`${name}: x must have a batch axis (N, ...), got shape ${formatShape(x.shape)}`);
    const m = x.shape[0];
    let y: BatchTargets = null;
    if (b.y instanceof Int32Array || b.y instanceof Tensor) y = b.y;
    else if (Array.isArray(b.y)) y = b.y.length > 0 && Array.isArray(b.y[0]) ? new Tensor(b.y as NestedArray) : labelArray(b.y, `${name}: y`);
    else if (b.y !== undefined && b.y !== null) {
      throw new TypeError(`${name}: y must be labels (an Int32Array or array of integers) or a Tensor, got ${describeValue(b.y)}`);
    }
    const ny = y instanceof Int32Array ? y.length : y instanceof Tensor ? y.shape[0] : m;
    if (ny !== m) throw new RangeError(`${name}: y holds ${ny} targets but x holds ${m} samples`);
    yield { x, y, size: m, index };
  }
}

/** The dimensions in an idx file's header, checked against its magic number and its size on disk. */
async function idxHeader(path: string, magic: number, ndim: number): Promise<number[]> {
  if (typeof path !== 'string' || path === '') throw new TypeError(`the idx file path must be a non-empty string, got ${describeValue(path)}`);
  let file;
  try {
    file = await open(path, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new DataError('NOT_FOUND', 'no such file', path);
    throw e;
  }
  try {
    const size = (await file.stat()).size, headerBytes = 4 + 4 * ndim;
    const head = new Uint8Array(headerBytes);
    const { bytesRead } = await file.read(head, 0, headerBytes, 0);
    const u32 = (o: number) => ((head[o] << 24) | (head[o + 1] << 16) | (head[o + 2] << 8) | head[o + 3]) >>> 0;
    if (bytesRead >= 2 && head[0] === 0x1f && head[1] === 0x8b) {
      throw new DataError('BAD_MAGIC', 'a gzip file: Dataset.fromIdx streams raw idx files (gunzip it first, or use loadMnist)', path);
    }
    if (bytesRead < 4) throw new DataError('TRUNCATED', `file is ${bytesRead} bytes, shorter than the idx magic number`, path);
    if (u32(0) !== magic) {
      throw new DataError('BAD_MAGIC', `bad idx magic number 0x${u32(0).toString(16).padStart(8, '0')}, expected ` +
        `0x${magic.toString(16).padStart(8, '0')}`, path);
    }
    if (bytesRead < headerBytes) throw new DataError('TRUNCATED', `file is ${size} bytes, shorter than its ${headerBytes}-byte idx header`, path);
    const dims = Array.from({ length: ndim }, (_, i) => u32(4 + 4 * i));
    const expected = headerBytes + dims.reduce((a, b) => a * b, 1);
    if (size < expected) {
      throw new DataError('TRUNCATED', `truncated: the header announces ${dims.join('x')} bytes of data (${expected} bytes in ` +
        `all) but the file has ${size}`, path);
    }
    if (size > expected) {
      throw new DataError('TRAILING_BYTES', `${size - expected} unexpected bytes after the ${dims.join('x')} data the header announces`, path);
    }
    return dims;
  } finally {
    await file.close();
  }
}

async function readFully(file: import('node:fs/promises').FileHandle, buf: Uint8Array, length: number, position: number,
  path: string): Promise<void> {
  let done = 0;
  while (done < length) {
    const { bytesRead } = await file.read(buf, done, length - done, position + done);
    if (bytesRead === 0) throw new DataError('TRUNCATED', `the file ended at byte ${position + done} while being read`, path);
    done += bytesRead;
  }
}
