// Mini-batches of samples held in memory: rows of x and the targets with the same row index (class labels or
// target rows), as fit(), evaluate() and predict() take them. An epoch visits every sample once, in order or in a
// seeded random order drawn anew each epoch. In order, a batch is a view of the data (nothing is copied); shuffled,
// its rows are gathered into buffers the iterator keeps, so an epoch allocates nothing per batch. A batch's tensors
// are valid until the next batch is drawn.
import { describeValue, optionalBoolean, optionalSeed, optionsObject } from '../validate';
import { Random } from '../random';
import { type FloatArray, Tensor, allocate, formatShape } from '../tensor';

/** What a batch holds beside x: a label per sample, target rows, or nothing (inputs alone, as predict() takes). */
export type BatchTargets = Int32Array | Tensor | null;

/** Options of a batch iterator over in-memory samples: batch size, order and buffer reuse. */
export interface BatchIteratorOptions {
  /** Samples per batch; the last batch of an epoch holds what is left (fewer) unless dropRemainder. */
  batchSize: number;
  /** Visit the samples in a new random order every epoch (default false: in order). */
  shuffle?: boolean;
  /** The generator that draws the orders (a network's, for fit()); default new Random(seed). Not with seed. */
  rng?: Random;
  /** The seed of the generator when rng is not given (default 0). */
  seed?: number;
  /** Leave out the last batch of an epoch when it holds fewer than batchSize samples (default false). */
  dropRemainder?: boolean;
  /**
   * Gather shuffled batches into buffers kept from batch to batch (default true: a batch is then valid until the
   * next one is drawn); false gives each batch arrays of its own, for consumers that keep batches (prefetch, cache).
   */
  reuseBuffers?: boolean;
}

/** A batch of samples and their targets, as iterators and Dataset.batch() give them. */
export interface Batch<Y extends BatchTargets = BatchTargets> {
  /** The samples, (size, ...the sample shape). */
  x: Tensor;
  /** Their labels or target rows, in the same order (null where the iterator has no targets). */
  y: Y;
  /** The number of samples. */
  size: number;
  /** The batch's position in its epoch, from 0. */
  index: number;
  /**
   * The data set index of each sample where the batch knows it: row i of x is sample samples[i] (for naming a bad
   * sample by its index).
   */
  samples?: Int32Array;
}

/** A batch of an in-memory data set, which knows the index of each of its samples. */
export interface IndexedBatch<Y extends BatchTargets = BatchTargets> extends Batch<Y> {
  samples: Int32Array;
}

/** Rows [start, end) of a (N, ...) tensor, as a view of its data. */
export function rowsOf(t: Tensor, start: number, end: number): Tensor {
  const per = t.shape[0] === 0 ? 0 : t.size / t.shape[0];
  return new Tensor(t.data.subarray(start * per, end * per), [end - start, ...t.shape.slice(1)]);
}

/** Rows [start, end) of labels or target rows, as a view. */
export function targetRowsOf<Y extends Int32Array | Tensor>(y: Y, start: number, end: number): Y {
  return (y instanceof Int32Array ? y.subarray(start, end) : rowsOf(y, start, end)) as Y;
}

function positiveInt(v: unknown, name: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new RangeError(`${name} must be a positive integer, got ${describeValue(v)}`);
  return v;
}

/** Batches of (x, y), epoch after epoch: see the top of this file. */
export class BatchIterator<Y extends BatchTargets = BatchTargets> {
  /** The number of samples. */
  readonly samples: number;
  readonly batchSize: number;
  /** Batches per epoch. */
  readonly batches: number;
  readonly shuffle: boolean;
  readonly dropRemainder: boolean;
  private readonly rng: Random | null;
  /** The order of the samples: kept from epoch to epoch, each shuffle starts from the last (as fit() always did). */
  private readonly order: Int32Array;
  private readonly sampleSize: number;
  private readonly targetSize: number;
  private readonly xShape: number[];
  private readonly yShape: number[];
  /** Gathered rows of a shuffled batch (empty in order: batches are views). */
  private readonly xBuf: FloatArray;
  private readonly yBuf: Int32Array | FloatArray | null;
  private readonly bufferRows: number;
  private readonly reuseBuffers: boolean;

  constructor(readonly x: Tensor, readonly y: Y, options: BatchIteratorOptions) {
    const opts = optionsObject(options, 'BatchIterator options');
    if (!(x instanceof Tensor)) throw new TypeError(`BatchIterator: x must be a Tensor, got ${describeValue(x)}`);
    if (x.ndim < 1) throw new RangeError(`BatchIterator: x must have a batch axis (N, ...), got shape ${formatShape(x.shape)}`);
    const n = x.shape[0];
    if (y !== null) {
      if (y instanceof Int32Array) {
        if (y.length !== n) throw new RangeError(`BatchIterator: y has ${y.length} labels but x has ${n} samples`);
      } else if (y instanceof Tensor) {
        if (y.ndim < 1 || y.shape[0] !== n) {
          throw new RangeError(`BatchIterator: y has shape ${formatShape(y.shape)} but x has ${n} samples`);
        }
      } else {
        throw new TypeError(`BatchIterator: y must be an Int32Array of labels, a Tensor of target rows or null, got ${describeValue(y)}`);
      }
    }
    this.batchSize = positiveInt(opts.batchSize, 'batchSize');
    this.shuffle = optionalBoolean(opts.shuffle, 'shuffle') ?? false;
    this.dropRemainder = optionalBoolean(opts.dropRemainder, 'dropRemainder') ?? false;
    this.reuseBuffers = optionalBoolean(opts.reuseBuffers, 'reuseBuffers') ?? true;
    if (opts.rng !== undefined && opts.seed !== undefined) {
      throw new TypeError('BatchIterator: give rng or seed, not both (the seed makes a generator of its own)');
    }
    if (opts.rng !== undefined && !(opts.rng instanceof Random)) {
      throw new TypeError(`BatchIterator: rng must be a Random (nn.Random), got ${describeValue(opts.rng)}`);
    }
    const seed = optionalSeed(opts.seed, 'seed') ?? 0;
    this.rng = this.shuffle ? opts.rng ?? new Random(seed) : null;
    this.samples = n;
    this.batches = this.dropRemainder ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
    this.order = new Int32Array(n);
    for (let i = 0; i < n; i++) this.order[i] = i;
    this.sampleSize = n === 0 ? 0 : x.size / n;
    this.targetSize = y === null || y instanceof Int32Array || n === 0 ? 1 : y.size / n;
    this.xShape = x.shape.slice(1);
    this.yShape = y instanceof Tensor ? y.shape.slice(1) : [];
    const rows = this.bufferRows = this.shuffle && this.reuseBuffers ? Math.min(this.batchSize, n) : 0;
    this.xBuf = allocate(x.dtype, rows * this.sampleSize);
    this.yBuf = y === null ? null : y instanceof Int32Array ? new Int32Array(rows) : allocate(y.dtype, rows * this.targetSize);
  }

  /** One epoch's batches. Shuffling draws the epoch's order when the first batch is asked for. */
  * epoch(): Generator<IndexedBatch<Y>, void, undefined> {
    if (this.rng) this.rng.shuffle(this.order);
    for (let b = 0; b < this.batches; b++) yield this.batch(b);
  }

  private batch(index: number): IndexedBatch<Y> {
    const start = index * this.batchSize, size = Math.min(this.batchSize, this.samples - start);
    const samples = this.order.subarray(start, start + size);
    if (!this.rng) {
      const y = this.y === null ? null : targetRowsOf(this.y as Int32Array | Tensor, start, start + size);
      return { x: rowsOf(this.x, start, start + size), y: y as Y, size, index, samples };
    }
    const s = this.sampleSize, t = this.targetSize, xd = this.x.data, y = this.y;
    const own = !this.reuseBuffers;
    const xBuf = own ? allocate(this.x.dtype, size * s) : this.xBuf;
    const yBuf = own && y !== null ? (y instanceof Int32Array ? new Int32Array(size) : allocate((y as Tensor).dtype, size * t))
      : this.yBuf;
    for (let i = 0; i < size; i++) {
      const k = samples[i];
      xBuf.set(xd.subarray(k * s, (k + 1) * s), i * s);
      if (y instanceof Int32Array) (yBuf as Int32Array)[i] = y[k];
      else if (y !== null) (yBuf as FloatArray).set((y as Tensor).data.subarray(k * t, (k + 1) * t), i * t);
    }
    const full = own || size === this.bufferRows;
    const x = new Tensor(full ? xBuf : xBuf.subarray(0, size * s), [size, ...this.xShape]);
    let yb: BatchTargets = null;
    if (yBuf instanceof Int32Array) yb = full ? yBuf : yBuf.subarray(0, size);
    else if (yBuf) yb = new Tensor(full ? yBuf : yBuf.subarray(0, size * t), [size, ...this.yShape]);
    return { x, y: yb as Y, size, index, samples };
  }
}
