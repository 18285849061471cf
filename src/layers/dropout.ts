// Inverted dropout: in training each element is kept with probability 1 − p and scaled by 1/(1 − p), so the
// expected output equals the input and evaluation needs no rescaling; in eval mode the layer is the identity.
// The mask is drawn from the network's seeded generator (set by initialize), so a seed reproduces a run.
import { getBackend } from '../backend/index';
import { Random } from '../random';
import { knownOptions, numberIn, optionalSeed, optionsObject } from '../validate';
import { Tensor, checkAttached, formatShape } from '../tensor';
import { ReusableTensor } from './buffers';
import { Layer, type InitContext, type LayerConfig } from './layer';
import { registerLayer } from './registry';

/** Inverted dropout: in training, zeroes each element with probability p and scales the rest by 1/(1 − p). */
export class Dropout extends Layer {
  readonly p: number;
  private rng: Random;
  private mask: Tensor | null = null;
  private readonly maskBuf = new ReusableTensor();
  private readonly out = new ReusableTensor();
  private readonly dxBuf = new ReusableTensor();

  constructor(p = 0.5, options: { seed?: number } = {}) {
    super();
    const opts = optionsObject(options, 'Dropout options');
    knownOptions(opts, ['seed'], 'Dropout');
    this.p = numberIn(p, 'Dropout p', '[0, 1)');
    this.rng = new Random(optionalSeed(opts.seed, 'Dropout seed') ?? 0);
  }

  override initialize(ctx: InitContext): void {
    this.rng = ctx.rng;
  }

  /** Uses this generator for the masks from now on (e.g. to make a gradient check deterministic). */
  setRandom(rng: Random): void {
    this.rng = rng;
  }

  forward(x: Tensor): Tensor {
    if (!(x instanceof Tensor)) throw new TypeError('Dropout: input must be a Tensor');
    checkAttached(x, 'Dropout: input');
    if (!this.training || this.p === 0) {
      this.mask = null;
      return x;
    }
    const mask = this.maskBuf.take(x.shape, x.dtype, this.reuseBuffers), keep = 1 / (1 - this.p), m = mask.data;
    for (let i = 0; i < m.length; i++) m[i] = this.rng.uniform() < this.p ? 0 : keep;
    const y = this.out.take(x.shape, x.dtype, this.reuseBuffers);
    getBackend().mul(x.size, x.data, m, y.data);
    this.mask = mask;
    return y;
  }

  backward(dout: Tensor): Tensor {
    const mask = this.mask;
    if (!mask) return dout;  // eval mode or p = 0: the identity
    if (dout.size !== mask.size || dout.dtype !== mask.dtype) {
      throw new RangeError(`Dropout: dout must be ${mask.dtype} of shape ${formatShape(mask.shape)}, got ${dout.dtype} ${formatShape(dout.shape)}`);
    }
    const dx = this.dxBuf.take(mask.shape, mask.dtype, this.reuseBuffers);
    getBackend().mul(mask.size, dout.data, mask.data, dx.data);
    return dx;
  }

  outputShape(inputShape: readonly number[]): number[] {
    return [...inputShape];
  }

  config(): LayerConfig {
    return { type: 'Dropout', p: this.p };
  }
}

registerLayer('Dropout', (c) => new Dropout(c.p as number | undefined));
