// Batch normalization per channel, as PyTorch's BatchNorm1d/2d: in training, y = weight (x - mean) / sqrt(var +
// eps) + bias with the batch mean and biased variance, and running_mean / running_var move by momentum towards
// the batch mean and the unbiased variance; in eval the running statistics are used. BatchNorm1D takes (N, C) or
// (N, C, L), BatchNorm2D (N, C, H, W); the statistics run over every axis but C.
import { getBackend } from '../backend/index';
import { Random } from '../random';
import {
  DTYPES, batchNormCanTrain, batchNormSizes, kernelNumber, knownOptions, oneOf, optionsObject, positiveInt,
} from '../validate';
import { type DType, Tensor, checkAttached } from '../tensor';
import { ReusableTensor } from './buffers';
import { Layer, type InitContext, type LayerConfig } from './layer';
import { checkDout } from './spatial';

/** Options of BatchNorm1D and BatchNorm2D. */
export interface BatchNormOptions {
  /** Weight of the batch statistics in the running ones (default 0.1, as PyTorch). */
  momentum?: number;
  /** Added to the variance (default 1e-5). */
  eps?: number;
  dtype?: DType;
}

/** The parameters and buffers of a batch norm over C channels (what initialize() creates). */
export function batchNormShapes(C: number): Record<string, number[]> {
  return { weight: [C], bias: [C], running_mean: [C], running_var: [C] };
}

/** The base of BatchNorm1D and BatchNorm2D: normalization per channel, as PyTorch's. */
export abstract class BatchNorm extends Layer {
  readonly numFeatures: number;
  readonly momentum: number;
  readonly eps: number;
  private x: Tensor | null = null;
  private mean: Tensor | null = null;
  private invstd: Tensor | null = null;
  private trainedForward = true;
  /** The output of the last forward() when it was forwardRelu()'s (its backward masks by it), else null. */
  private reluOut: Tensor | null = null;
  private readonly type: string;
  private readonly out = new ReusableTensor();
  private readonly dxBuf = new ReusableTensor();

  constructor(type: string, numFeatures: number, options: BatchNormOptions) {
    super();
    const opts = optionsObject(options, `${type} options`);
    knownOptions(opts, ['momentum', 'eps', 'dtype'], type);
    this.type = type;
    this.numFeatures = positiveInt(numFeatures, `${type} numFeatures`);
    this.momentum = kernelNumber(opts.momentum ?? 0.1, `${type} momentum`, 'batchNormForward', 'momentum');
    this.eps = kernelNumber(opts.eps ?? 1e-5, `${type} eps`, 'batchNormForward', 'eps');
    this.initialize({ rng: new Random(0), dtype: oneOf(opts.dtype ?? 'float32', DTYPES, `${type} dtype`) });
  }

  /** weight = 1, bias = 0, running_mean = 0, running_var = 1 (no random draws). */
  override initialize(ctx: InitContext): void {
    const C = this.numFeatures;
    this.bufferNames = ['running_mean', 'running_var'];
    this.buffers = [Tensor.zeros([C], ctx.dtype), Tensor.full([C], 1, ctx.dtype)];
    this.setParams(['weight', 'bias'], [Tensor.full([C], 1, ctx.dtype), Tensor.zeros([C], ctx.dtype)]);
  }

  /** The scale γ, (C). */
  get weight(): Tensor { return this.params[0]; }
  /** The shift β, (C). */
  get bias(): Tensor { return this.params[1]; }
  /** The running mean that evaluation normalizes with, (C). */
  get runningMean(): Tensor { return this.buffers[0]; }
  /** The running (unbiased) variance that evaluation normalizes with, (C). */
  get runningVar(): Tensor { return this.buffers[1]; }

  /** Throws unless the input's shape is one this layer accepts. */
  protected abstract checkShape(x: Tensor): void;

  forward(x: Tensor): Tensor {
    return this.run(x, false);
  }

  /**
   * forward() followed by a ReLU layer in one kernel call (what fit() runs for BatchNorm-ReLU): the ReLU layer's
   * values, the same statistics and running updates. backward() then takes the gradient of the ReLU's output and
   * gives the one of this layer's input, as the two layers' backward passes would.
   */
  forwardRelu(x: Tensor): Tensor {
    return this.run(x, true);
  }

  private run(x: Tensor, relu: boolean): Tensor {
    if (!(x instanceof Tensor)) throw new TypeError(`${this.name}: input must be a Tensor`);
    checkAttached(x, `${this.name}: input`);
    this.checkShape(x);
    if (x.shape[1] !== this.numFeatures) {
      throw new RangeError(`${this.name}: input has ${x.shape[1]} channels, expected ${this.numFeatures} ([${x.shape.join(', ')}])`);
    }
    if (x.dtype !== this.weight.dtype) {
      throw new TypeError(`${this.name}: input is ${x.dtype} but the layer's parameters are ${this.weight.dtype}`);
    }
    const [N, C, S] = batchNormSizes(x.shape);
    if (this.training && !batchNormCanTrain(N, S)) {
      throw new RangeError(`${this.name}: training needs more than one value per channel, got input shape [${x.shape.join(', ')}]`);
    }
    // y and dx: reused inside a Sequential (the kernels write every element); the per-channel statistics are
    // internal and always kept
    const y = this.out.take(x.shape, x.dtype, this.reuseBuffers);
    if (!this.mean || !this.invstd || this.mean.dtype !== x.dtype) {
      this.mean = Tensor.zeros([C], x.dtype);
      this.invstd = Tensor.zeros([C], x.dtype);
    }
    const args = [N, C, S, x.data, this.weight.data, this.bias.data, y.data, this.mean.data, this.invstd.data,
      this.runningMean.data, this.runningVar.data, this.training, this.momentum, this.eps] as const;
    if (relu) getBackend().batchNormReluForward(...args);
    else getBackend().batchNormForward(...args);
    this.x = x;
    this.reluOut = relu ? y : null;
    this.trainedForward = this.training;
    return y;
  }

  backward(dout: Tensor): Tensor {
    const x = this.x;
    if (!x || !this.mean || !this.invstd) throw new Error(`${this.name}: backward() called before forward()`);
    checkDout(dout, this.name, x.shape, x.dtype);
    const [N, C, S] = batchNormSizes(x.shape);
    const dx = this.dxBuf.take(x.shape, x.dtype, this.reuseBuffers);
    const k = getBackend(), g = this.grads;
    if (this.reluOut) {
      k.batchNormReluBackward(N, C, S, x.data, this.reluOut.data, dout.data, this.weight.data, this.mean.data,
        this.invstd.data, dx.data, g[0].data, g[1].data, this.trainedForward);
    } else {
      k.batchNormBackward(N, C, S, x.data, dout.data, this.weight.data, this.mean.data, this.invstd.data, dx.data,
        g[0].data, g[1].data, this.trainedForward);
    }
    return dx;
  }

  outputShape(inputShape: readonly number[]): number[] {
    return [...inputShape];
  }

  config(): LayerConfig {
    return { type: this.type, numFeatures: this.numFeatures, momentum: this.momentum, eps: this.eps };
  }
}
