// Dense (fully connected): y = x W + b with W (in, out) and b (out). Any input (N, ...) is flattened to
// (N, in) and dx gets the input's shape back.
import { getBackend } from '../backend/index';
import { checkInitKind, initWeight, type InitKind } from '../init';
import { Random } from '../random';
import {
  DTYPES, knownOptions, nonNegativeNumber, oneOf, optionalBoolean, optionalSeed, optionsObject, positiveInt,
} from '../validate';
import { type DType, Tensor, checkAttached, formatShape } from '../tensor';
import { ReusableTensor, type TrainBackward } from './buffers';
import { Layer, type InitContext, type LayerConfig } from './layer';
import { registerLayer } from './registry';

/** Options of Dense. */
export interface DenseOptions {
  /** Weight initialization (default 'kaimingUniform', PyTorch's default). */
  init?: InitKind;
  /** Standard deviation of init 'random' (default 0.01). */
  std?: number;
  /** Whether the layer has a bias (default true). */
  bias?: boolean;
  /**
   * How the bias starts: 'zeros', or 'random', drawn from the weights' distribution (for init 'random', N(0, std²):
   * the course's randn · 0.01). Default: 'random' for init 'kaimingUniform' (as PyTorch's Linear), 'zeros' for the
   * others. Ignored without a bias.
   */
  biasInit?: BiasInit;
  dtype?: DType;
  /** Seed of the initial weights when the layer is used on its own (a Sequential re-initializes it). */
  seed?: number;
}

/** How a bias starts: at zero, or drawn as PyTorch does. */
export type BiasInit = 'zeros' | 'random';
export const BIAS_INITS: readonly BiasInit[] = ['zeros', 'random'];

/** The default bias initialization of a weight initialization: PyTorch's uniform bias with its uniform weights. */
export function defaultBiasInit(init: InitKind): BiasInit {
  return init === 'kaimingUniform' ? 'random' : 'zeros';
}

/** Checks that x is (N, ...) with prod(...) = features and the layer's dtype; returns N. */
export function checkBatchInput(x: Tensor, features: number, dtype: DType, layer: string): number {
  if (!(x instanceof Tensor)) throw new TypeError(`${layer}: input must be a Tensor`);
  checkAttached(x, `${layer}: input`);
  let f = 1;
  for (let i = 1; i < x.shape.length; i++) f *= x.shape[i];
  if (x.ndim < 2 || f !== features) {
    throw new RangeError(`${layer}: input shape ${formatShape(x.shape)} must be (N, ...) with ${features} features per sample`);
  }
  if (x.dtype !== dtype) throw new TypeError(`${layer}: input is ${x.dtype} but the layer's parameters are ${dtype}`);
  return x.shape[0];
}

/** Fully connected: y = x W + b, W (in, out), b (out); any input (N, ...) is flattened to (N, in). */
export class Dense extends Layer implements TrainBackward {
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly init: InitKind;
  readonly std: number;
  readonly hasBias: boolean;
  readonly biasInit: BiasInit;
  private x: Tensor | null = null;
  /** The output of the last forward() when it was forwardRelu()'s (its backward masks by it), else null. */
  private reluOut: Tensor | null = null;
  private readonly out = new ReusableTensor();
  private readonly dxBuf = new ReusableTensor();
  /** The gradient masked by the ReLU (forwardRelu's backward). */
  private readonly maskedBuf = new ReusableTensor();

  constructor(inFeatures: number, outFeatures: number, options: DenseOptions = {}) {
    super();
    const opts = optionsObject(options, 'Dense options');
    knownOptions(opts, ['init', 'std', 'bias', 'biasInit', 'dtype', 'seed'], 'Dense');
    this.inFeatures = positiveInt(inFeatures, 'Dense inFeatures');
    this.outFeatures = positiveInt(outFeatures, 'Dense outFeatures');
    this.init = checkInitKind(opts.init ?? 'kaimingUniform', 'Dense init');
    this.std = nonNegativeNumber(opts.std ?? 0.01, 'Dense std');
    this.hasBias = optionalBoolean(opts.bias, 'Dense bias') ?? true;
    this.biasInit = oneOf(opts.biasInit ?? defaultBiasInit(this.init), BIAS_INITS, 'Dense biasInit');
    this.initialize({ rng: new Random(optionalSeed(opts.seed, 'Dense seed') ?? 0), dtype: oneOf(opts.dtype ?? 'float32', DTYPES, 'Dense dtype') });
  }

  override initialize(ctx: InitContext): void {
    const spec = { kind: this.init, fanIn: this.inFeatures, std: this.std };
    const w = initWeight([this.inFeatures, this.outFeatures], spec, ctx.rng, ctx.dtype);
    if (!this.hasBias) {
      this.setParams(['weight'], [w]);
      return;
    }
    const b = this.biasInit === 'random'
      ? initWeight([this.outFeatures], spec, ctx.rng, ctx.dtype)
      : Tensor.zeros([this.outFeatures], ctx.dtype);
    this.setParams(['weight', 'bias'], [w, b]);
  }

  /** W, (inFeatures, outFeatures). */
  get weight(): Tensor { return this.params[0]; }
  /** b, (outFeatures), or null without a bias. */
  get bias(): Tensor | null { return this.hasBias ? this.params[1] : null; }

  forward(x: Tensor): Tensor {
    return this.run(x, false);
  }

  /**
   * forward() followed by a ReLU layer (what fit() runs for Dense-ReLU): the bias and the ReLU in one kernel call
   * (biasRelu), the ReLU layer's values. backward() then takes the gradient of the ReLU's output and gives the one
   * of this layer's input, as the two layers' backward passes would (the mask and the bias gradient in one call).
   */
  forwardRelu(x: Tensor): Tensor {
    return this.run(x, true);
  }

  private run(x: Tensor, relu: boolean): Tensor {
    const n = checkBatchInput(x, this.inFeatures, this.weight.dtype, 'Dense');
    const y = this.out.take([n, this.outFeatures], x.dtype, this.reuseBuffers);
    const b = getBackend();
    b.gemm(false, false, n, this.outFeatures, this.inFeatures, 1, x.data, this.weight.data, 0, y.data);
    if (relu) {
      if (this.hasBias) b.biasRelu(n, this.outFeatures, y.data, this.params[1].data);
      else b.activationForward('relu', y.size, y.data, y.data, 0);
    } else if (this.hasBias) {
      b.biasAdd(n, this.outFeatures, y.data, this.params[1].data);
    }
    this.x = x;
    this.reluOut = relu ? y : null;
    return y;
  }

  backward(dout: Tensor): Tensor {
    return this.backwardTrain(dout, true, true) as Tensor;
  }

  /** backward() for the training loop: overwrites the gradients unless accumulate; skips dx unless inputGrad. */
  backwardTrain(dout: Tensor, accumulate: boolean, inputGrad: boolean): Tensor | null {
    const x = this.x;
    if (!x) throw new Error('Dense: backward() called before forward()');
    const n = x.shape[0];
    if (!(dout instanceof Tensor) || dout.size !== n * this.outFeatures || dout.dtype !== x.dtype) {
      const got = dout instanceof Tensor ? `${dout.dtype} ${formatShape(dout.shape)}` : typeof dout;
      throw new RangeError(`Dense: dout must be ${x.dtype} of shape [${n}, ${this.outFeatures}], got ${got}`);
    }
    const b = getBackend(), y = this.reluOut;
    if (y) {
      // the ReLU's backward (the mask of its output) and, with a bias, this layer's bias gradient in one call
      const masked = this.maskedBuf.take(y.shape, y.dtype, this.reuseBuffers);
      if (this.hasBias) {
        if (!accumulate) this.grads[1].data.fill(0);
        b.reluBiasBackward(n, this.outFeatures, y.data, dout.data, masked.data, this.grads[1].data);
      } else {
        b.activationBackward('relu', y.size, y.data, y.data, dout.data, masked.data, 0);
      }
      dout = masked;
    }
    let dx: Tensor | null = null;
    if (inputGrad) {
      dx = this.dxBuf.take(x.shape, x.dtype, this.reuseBuffers);
      b.gemm(false, true, n, this.inFeatures, this.outFeatures, 1, dout.data, this.weight.data, 0, dx.data);
    }
    b.gemm(true, false, this.inFeatures, this.outFeatures, n, 1, x.data, dout.data, accumulate ? 1 : 0, this.grads[0].data);
    if (this.hasBias && !y) {
      if (!accumulate) this.grads[1].data.fill(0);
      b.biasBackward(n, this.outFeatures, dout.data, this.grads[1].data);
    }
    return dx;
  }

  outputShape(inputShape: readonly number[]): number[] {
    const features = inputShape.slice(1).reduce((a, b) => a * b, 1);
    if (inputShape.length < 2 || features !== this.inFeatures) {
      throw new RangeError(`Dense: input shape ${formatShape(inputShape)} must be (N, ...) with ${this.inFeatures} features per sample`);
    }
    return [inputShape[0], this.outFeatures];
  }

  config(): LayerConfig {
    return {
      type: 'Dense', inFeatures: this.inFeatures, outFeatures: this.outFeatures, init: this.init, std: this.std, bias: this.hasBias,
      biasInit: this.biasInit,
    };
  }
}

registerLayer('Dense', (c) => new Dense(c.inFeatures as number, c.outFeatures as number,
  { init: c.init as InitKind, std: c.std as number | undefined, bias: c.bias as boolean | undefined,
    biasInit: c.biasInit as BiasInit | undefined }), {
  shapes: (c): Record<string, number[]> => {
    const i = positiveInt(c.inFeatures, 'Dense inFeatures'), o = positiveInt(c.outFeatures, 'Dense outFeatures');
    return (c.bias ?? true) ? { weight: [i, o], bias: [o] } : { weight: [i, o] };
  },
});
