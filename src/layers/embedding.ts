// Embedding, as PyTorch's: a lookup table of numEmbeddings vectors of size dim. The input holds integer indices
// (an Int32Array, or a tensor of whole numbers) of any shape; the output is (...input shape, dim), row index[k] of
// the weight at position k. backward adds each position's gradient into its row of the weight gradient (repeated
// indices add up), except for paddingIdx, whose row starts at zero and never receives a gradient.
import { getBackend } from '../backend/index';
import { checkInitKind, initWeight, type InitKind } from '../init';
import { Random } from '../random';
import { indexArray } from '../ops/shape';
import {
  DTYPES, describeValue, knownOptions, nonNegativeNumber, oneOf, optionalSeed, optionsObject, positiveInt,
} from '../validate';
import { type DType, Tensor } from '../tensor';
import { ReusableTensor } from './buffers';
import { Layer, type InitContext, type LayerConfig } from './layer';
import { registerLayer } from './registry';
import { checkDout } from './spatial';

/** Options of Embedding. */
export interface EmbeddingOptions {
  /**
   * An index whose row starts at zero and receives no gradient (a padding token), in [-numEmbeddings,
   * numEmbeddings): a negative one counts from the end, as in PyTorch. Default: none.
   */
  paddingIdx?: number | null;
  /** Weight initialization (default 'random' with std 1: N(0, 1), as PyTorch); the fan-in is dim. */
  init?: InitKind;
  /** Standard deviation of init 'random' (default 1). */
  std?: number;
  dtype?: DType;
  /** Seed of the initial weights when the layer is used on its own (a Sequential re-initializes it). */
  seed?: number;
}

/** The paddingIdx option wrapped into [0, numEmbeddings), or null. */
function paddingIndex(v: unknown, numEmbeddings: number): number | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < -numEmbeddings || v >= numEmbeddings) {
    throw new RangeError(`Embedding paddingIdx must be an integer in [${-numEmbeddings}, ${numEmbeddings}) ` +
      `(numEmbeddings ${numEmbeddings}), got ${describeValue(v)}`);
  }
  return v < 0 ? v + numEmbeddings : v;
}

/**
 * A lookup table (PyTorch's Embedding): weight (numEmbeddings, dim); an input of integer indices, an Int32Array or
 * a tensor of whole numbers of any shape, gives (...input shape, dim). An index outside [0, numEmbeddings) is a
 * RangeError naming it and its position.
 */
export class Embedding extends Layer {
  readonly numEmbeddings: number;
  readonly dim: number;
  /** The padding row (wrapped into [0, numEmbeddings)), or null. */
  readonly paddingIdx: number | null;
  readonly init: InitKind;
  readonly std: number;
  private index: Int32Array | null = null;
  private inputShape: number[] | null = null;
  private readonly out = new ReusableTensor();

  constructor(numEmbeddings: number, dim: number, options: EmbeddingOptions = {}) {
    super();
    const opts = optionsObject(options, 'Embedding options');
    knownOptions(opts, ['paddingIdx', 'init', 'std', 'dtype', 'seed'], 'Embedding');
    this.numEmbeddings = positiveInt(numEmbeddings, 'Embedding numEmbeddings');
    this.dim = positiveInt(dim, 'Embedding dim');
    this.paddingIdx = paddingIndex(opts.paddingIdx, this.numEmbeddings);
    this.init = checkInitKind(opts.init ?? 'random', 'Embedding init');
    this.std = nonNegativeNumber(opts.std ?? 1, 'Embedding std');
    this.initialize({ rng: new Random(optionalSeed(opts.seed, 'Embedding seed') ?? 0), dtype: oneOf(opts.dtype ?? 'float32', DTYPES, 'Embedding dtype') });
  }

  /** The weight drawn by init (fan-in dim), the padding row zeroed. */
  override initialize(ctx: InitContext): void {
    const w = initWeight([this.numEmbeddings, this.dim], { kind: this.init, fanIn: this.dim, std: this.std }, ctx.rng, ctx.dtype);
    if (this.paddingIdx !== null) w.data.fill(0, this.paddingIdx * this.dim, (this.paddingIdx + 1) * this.dim);
    this.setParams(['weight'], [w]);
  }

  /** The table, (numEmbeddings, dim). */
  get weight(): Tensor { return this.params[0]; }

  /** The indices of an input as an Int32Array (checked against numEmbeddings) and the input's shape. */
  private indices(x: Tensor | Int32Array): { index: Int32Array; shape: number[] } {
    if (!(x instanceof Tensor) && !(x instanceof Int32Array)) {
      throw new TypeError(`Embedding: input must be a Tensor or an Int32Array of indices, got ${describeValue(x)}`);
    }
    // a copy of a caller's Int32Array: backward reads the indices of this call, whatever happens to the array
    const r = indexArray(x instanceof Int32Array ? x.slice() : x, 'Embedding: input');
    const n = this.numEmbeddings;
    for (let k = 0; k < r.index.length; k++) {
      const v = r.index[k];
      if (v < 0 || v >= n) {
        throw new RangeError(`Embedding: index ${v} (input element ${k}) is out of range for ${n} embeddings: ` +
          `expected an integer in [0, ${n})`);
      }
    }
    return r;
  }

  /** The rows of the weight at the input's indices, (...input shape, dim). */
  forward(x: Tensor | Int32Array): Tensor {
    const { index, shape } = this.indices(x);
    const w = this.weight;
    const y = this.out.take([...shape, this.dim], w.dtype, this.reuseBuffers);
    getBackend().gatherAxis(index.length, 1, this.numEmbeddings, this.dim, w.data, index, y.data);
    this.index = index;
    this.inputShape = shape;
    return y;
  }

  /** Adds dout's rows into the weight gradient at their indices (not the padding row); returns zeros (indices have no gradient). */
  backward(dout: Tensor): Tensor {
    const index = this.index, shape = this.inputShape;
    if (!index || !shape) throw new Error('Embedding: backward() called before forward()');
    const w = this.weight, g = this.grads[0];
    checkDout(dout, 'Embedding', [...shape, this.dim], w.dtype);
    const p = this.paddingIdx, d = this.dim;
    // the padding row is put back as it was: its gradient stays whatever it was (zero after zeroGrad)
    const kept = p === null ? null : g.data.slice(p * d, (p + 1) * d);
    getBackend().scatterAxis(index.length, 1, this.numEmbeddings, d, dout.data, index, g.data, true);
    if (kept && p !== null) g.data.set(kept, p * d);
    return Tensor.zeros(shape, w.dtype);
  }

  outputShape(inputShape: readonly number[]): number[] {
    return [...inputShape, this.dim];
  }

  config(): LayerConfig {
    return {
      type: 'Embedding', numEmbeddings: this.numEmbeddings, dim: this.dim, paddingIdx: this.paddingIdx, init: this.init,
      std: this.std,
    };
  }
}

registerLayer('Embedding', (c) => new Embedding(c.numEmbeddings as number, c.dim as number, {
  paddingIdx: c.paddingIdx as number | null | undefined, init: c.init as InitKind | undefined, std: c.std as number | undefined,
}), {
  shapes: (c) => ({ weight: [positiveInt(c.numEmbeddings, 'Embedding numEmbeddings'), positiveInt(c.dim, 'Embedding dim')] }),
});
