// Conv2D: y = conv(x, W) + b on NCHW images, W (F, C, KH, KW), b (F), zero padding, stride per axis.
// OH = 1 + floor((H + 2 padH - KH) / strideH), OW alike.
import { getBackend } from '../backend/index';
import { initBias, initWeight } from '../init';
import { Random } from '../random';
import {
  DTYPES, knownOptions, nonNegativeInt, oneOf, optionalBoolean, optionalSeed, optionsObject, positiveInt, sizePair,
} from '../validate';
import { type DType, Tensor } from '../tensor';
import { ReusableTensor, type TrainBackward } from './buffers';
import { Layer, type InitContext, type LayerConfig } from './layer';
import { checkDout, checkInput, windowLength } from './spatial';
import { registerLayer } from './registry';

/** How convolution weights start: 'kaimingUniform' (PyTorch's default) or 'he'. */
export type ConvInit = 'kaimingUniform' | 'he';

/** Options of Conv2D. */
export interface Conv2DOptions {
  /** Stride, one number or [strideH, strideW] (default 1). */
  stride?: number | [number, number];
  /** Zero padding on each side, one number or [padH, padW] (default 0). */
  padding?: number | [number, number];
  /** Whether the layer has a bias (default true). */
  bias?: boolean;
  /**
   * 'kaimingUniform' (default, PyTorch's: kaiming_uniform with a = √5, i.e. W and b ~ U(−1/√fanIn, 1/√fanIn)) or
   * 'he' (W ~ N(0, 2/fanIn), b = 0); fanIn = C·KH·KW.
   */
  init?: ConvInit;
  dtype?: DType;
  /** Seed of the initial weights when the layer is used on its own (a Sequential re-initializes it). */
  seed?: number;
}

/** Conv weights (and bias) of fan-in C·KH·KW drawn by src/init.ts: bias uniform for kaimingUniform, else zero. */
export function initConv(init: ConvInit, wShape: number[], fanIn: number, bias: boolean, ctx: InitContext): Tensor[] {
  const spec = { kind: init, fanIn };
  const w = initWeight(wShape, spec, ctx.rng, ctx.dtype);
  return bias ? [w, initBias([wShape[0]], spec, ctx.rng, ctx.dtype)] : [w];
}

export const CONV_OPTIONS: readonly (keyof Conv2DOptions)[] = ['stride', 'padding', 'bias', 'init', 'dtype', 'seed'];

export const CONV_INITS: readonly ConvInit[] = ['kaimingUniform', 'he'];

export function checkConvInit(v: unknown, layer: string): ConvInit {
  return oneOf(v, CONV_INITS, `${layer} init`);
}

/** 2-D convolution of NCHW images: W (F, C, KH, KW), b (F), zero padding, a stride per axis. */
export class Conv2D extends Layer implements TrainBackward {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly hasBias: boolean;
  readonly init: ConvInit;
  private x: Tensor | null = null;
  private yShape: number[] = [];
  /** Whether the last forward was forwardPooled(): backward then takes the pooled gradient. */
  private pooled = false;
  /** forwardPooled()'s output when it ran with relu: backward then applies the ReLU's mask, y > 0, to its gradient. */
  private pooledRelu: Tensor | null = null;
  private argmax = new Int32Array(0);
  private readonly out = new ReusableTensor();
  private readonly dxBuf = new ReusableTensor();

  constructor(inChannels: number, outChannels: number, kernelSize: number | [number, number], options: Conv2DOptions = {},
    type = 'Conv2D') {
    super();
    const opts = optionsObject(options, `${type} options`);
    knownOptions(opts, CONV_OPTIONS, type);
    this.inChannels = positiveInt(inChannels, `${type} inChannels`);
    this.outChannels = positiveInt(outChannels, `${type} outChannels`);
    this.kernelSize = sizePair(kernelSize, 'Conv2D kernelSize', positiveInt);
    this.stride = sizePair(opts.stride ?? 1, 'Conv2D stride', positiveInt);
    this.padding = sizePair(opts.padding ?? 0, 'Conv2D padding', nonNegativeInt);
    this.hasBias = optionalBoolean(opts.bias, `${type} bias`) ?? true;
    this.init = checkConvInit(opts.init ?? 'kaimingUniform', type);
    this.initialize({ rng: new Random(optionalSeed(opts.seed, `${type} seed`) ?? 0), dtype: oneOf(opts.dtype ?? 'float32', DTYPES, `${type} dtype`) });
  }

  override initialize(ctx: InitContext): void {
    const [kh, kw] = this.kernelSize;
    const params = initConv(this.init, [this.outChannels, this.inChannels, kh, kw], this.inChannels * kh * kw,
      this.hasBias, ctx);
    this.setParams(this.hasBias ? ['weight', 'bias'] : ['weight'], params);
  }

  /** Rank of the input, batch included (Sequential.predict adds the batch dimension to one sample). */
  get inputRank(): number { return 4; }

  /** The filters W, (F, C, KH, KW). */
  get weight(): Tensor { return this.params[0]; }
  /** b, (F), or null without a bias. */
  get bias(): Tensor | null { return this.hasBias ? this.params[1] : null; }

  /** The kernel arguments N, C, H, W, F, KH, KW, strideH, strideW, padH, padW for an input shape. */
  private geometry(shape: readonly number[]) {
    const [N, C, H, W] = shape;
    return [N, C, H, W, this.outChannels, ...this.kernelSize, ...this.stride, ...this.padding] as const;
  }

  forward(x: Tensor): Tensor {
    return this.forwardFused(x, false, false);
  }

  /**
   * forward() with the layers that follow done in the same kernel call: a ReLU (relu), then a 2x2 stride-2 max
   * pooling (pool; the output is then (N, F, floor(OH / 2), floor(OW / 2)), and OH, OW must be at least 2). What
   * Sequential's predict and evaluate run for Conv2D-ReLU-MaxPool2D(2). The result then is not what backward()
   * expects: inference only.
   */
  forwardFused(x: Tensor, relu: boolean, pool: boolean): Tensor {
    checkInput(x, 'Conv2D', 4, '(N, C, H, W)', this.inChannels, this.weight.dtype);
    const full = this.output4d(x.shape);
    if (pool && (full[2] < 2 || full[3] < 2)) {
      throw new RangeError(`${this.name}: a fused 2x2 pooling needs an output of at least 2 x 2, got ${full[2]} x ${full[3]}`);
    }
    const shape = pool ? [full[0], full[1], Math.floor(full[2] / 2), Math.floor(full[3] / 2)] : full;
    // the kernels write every element of y and dx, so reused (stale) buffers are fine
    const y = this.out.take(shape, x.dtype, this.reuseBuffers);
    getBackend().conv2dForward(...this.geometry(x.shape), x.data, this.weight.data, this.bias?.data ?? null, y.data,
      relu, pool);
    this.x = x;
    this.yShape = [...y.shape];
    this.pooled = false;
    this.pooledRelu = null;
    return y;
  }

  /**
   * forward() and a following MaxPool2D(2) (2x2 windows, stride 2) in one kernel call, for training: the output is
   * the pooling layer's, (N, F, floor(OH / 2), floor(OW / 2)), with the same values, and backward() then takes its
   * gradient and gives the same gradients as the two layers' backward passes. The full convolution output never
   * goes to memory. OH and OW must be at least 2. relu: a ReLU between the two layers, applied to the convolution's
   * output before the maximum as the layers apply it (y and the indices of the maxima are those of the pooling of
   * the ReLU's output); backward() then takes the gradient of the ReLU's output and applies the ReLU's backward
   * itself (the same values: the ReLU's mask at each window's maximum is y > 0), so the three layers run as one
   * kernel call each way. y must stay as returned until backward().
   */
  forwardPooled(x: Tensor, relu = false): Tensor {
    checkInput(x, 'Conv2D', 4, '(N, C, H, W)', this.inChannels, this.weight.dtype);
    const [N, F, OH, OW] = this.output4d(x.shape);
    if (OH < 2 || OW < 2) {
      throw new RangeError(`${this.name}: a fused 2x2 pooling needs an output of at least 2 x 2, got ${OH} x ${OW}`);
    }
    const y = this.out.take([N, F, Math.floor(OH / 2), Math.floor(OW / 2)], x.dtype, this.reuseBuffers);
    // the argmax indices are internal: reused while the size stays (fresh memory costs page faults)
    if (this.argmax.length !== y.size) this.argmax = new Int32Array(y.size);
    getBackend().conv2dPoolForward(...this.geometry(x.shape), x.data, this.weight.data, this.bias?.data ?? null,
      y.data, this.argmax, relu);
    this.x = x;
    this.yShape = [...y.shape];
    this.pooled = true;
    this.pooledRelu = relu ? y : null;
    return y;
  }

  backward(dout: Tensor): Tensor {
    return this.backwardTrain(dout, true, true) as Tensor;
  }

  /** backward() for the training loop: overwrites the gradients unless accumulate; skips dx unless inputGrad. */
  backwardTrain(dout: Tensor, accumulate: boolean, inputGrad: boolean): Tensor | null {
    const x = this.x;
    if (!x) throw new Error(`${this.name}: backward() called before forward()`);
    checkDout(dout, this.name, this.yShape, x.dtype);
    const b = getBackend(), g = this.geometry(x.shape);
    let dx: Tensor | null = null;
    if (this.pooled) {
      if (inputGrad) dx = this.dxBuf.take(x.shape, x.dtype, this.reuseBuffers);
      if (!accumulate) this.zeroGrad();
      b.conv2dPoolBackward(...g, x.data, dout.data, this.argmax, this.weight.data, dx?.data ?? null,
        this.grads[0].data, this.hasBias ? this.grads[1].data : null, this.pooledRelu?.data ?? null);
      return dx;
    }
    if (inputGrad) {
      dx = this.dxBuf.take(x.shape, x.dtype, this.reuseBuffers);
      b.conv2dBackwardData(...g, dout.data, this.weight.data, dx.data);
    }
    if (!accumulate) this.zeroGrad();
    b.conv2dBackwardFilter(...g, x.data, dout.data, this.grads[0].data, this.hasBias ? this.grads[1].data : null);
    return dx;
  }

  /** (N, F, OH, OW) for an (N, C, H, W) input. */
  protected output4d(inputShape: readonly number[]): number[] {
    const [N, , H, W] = inputShape;
    return [N, this.outChannels,
      windowLength(this.name, 'height', H, this.kernelSize[0], this.stride[0], this.padding[0]),
      windowLength(this.name, 'width', W, this.kernelSize[1], this.stride[1], this.padding[1])];
  }

  outputShape(inputShape: readonly number[]): number[] {
    return this.output4d(inputShape);
  }

  config(): LayerConfig {
    return {
      type: 'Conv2D', inChannels: this.inChannels, outChannels: this.outChannels, kernelSize: this.kernelSize,
      stride: this.stride, padding: this.padding, bias: this.hasBias, init: this.init,
    };
  }
}

registerLayer('Conv2D', (c) => new Conv2D(c.inChannels as number, c.outChannels as number,
  c.kernelSize as [number, number], {
    stride: c.stride as [number, number], padding: c.padding as [number, number], bias: c.bias as boolean | undefined,
    init: c.init as ConvInit | undefined,
  }), {
  shapes: (c): Record<string, number[]> => {
    const F = positiveInt(c.outChannels, 'Conv2D outChannels'), C = positiveInt(c.inChannels, 'Conv2D inChannels');
    const [kh, kw] = sizePair(c.kernelSize, 'Conv2D kernelSize', positiveInt);
    return (c.bias ?? true) ? { weight: [F, C, kh, kw], bias: [F] } : { weight: [F, C, kh, kw] };
  },
});
