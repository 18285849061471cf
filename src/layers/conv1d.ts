// Conv1D: y = conv(x, W) + b on (N, C, L) sequences, W (F, C, K), b (F): a Conv2D with a 1 x K kernel on the
// input seen as (N, C, 1, L), so both share the conv2d kernels. L_out = 1 + floor((L + 2 padding - K) / stride).
import { knownOptions, nonNegativeInt, optionsObject, positiveInt } from '../validate';
import type { DType } from '../tensor';
import { Tensor } from '../tensor';
import { CONV_OPTIONS, type ConvInit, Conv2D, checkConvInit } from './conv2d';
import type { InitContext, LayerConfig } from './layer';
import { checkInput, windowLength } from './spatial';
import { registerLayer } from './registry';

/** Options of Conv1D. */
export interface Conv1DOptions {
  /** Stride (default 1). */
  stride?: number;
  /** Zero padding on each side (default 0). */
  padding?: number;
  bias?: boolean;
  /** As Conv2D: 'kaimingUniform' (default, PyTorch's) or 'he'; fanIn = C·K. */
  init?: ConvInit;
  dtype?: DType;
  seed?: number;
}

/** 1-D convolution of (N, C, L) sequences: W (F, C, K), b (F); a Conv2D with a 1 x K kernel. */
export class Conv1D extends Conv2D {
  constructor(inChannels: number, outChannels: number, kernelSize: number, options: Conv1DOptions = {}) {
    const opts = optionsObject(options, 'Conv1D options');
    knownOptions(opts, CONV_OPTIONS, 'Conv1D');
    super(inChannels, outChannels, [1, positiveInt(kernelSize, 'Conv1D kernelSize')], {
      ...opts,
      stride: [1, positiveInt(opts.stride ?? 1, 'Conv1D stride')],
      padding: [0, nonNegativeInt(opts.padding ?? 0, 'Conv1D padding')],
      init: checkConvInit(opts.init ?? 'kaimingUniform', 'Conv1D'),
    }, 'Conv1D');
  }

  /** The weight is (F, C, K), as PyTorch's Conv1d; its memory is that of the (F, C, 1, K) Conv2D weight. */
  override initialize(ctx: InitContext): void {
    super.initialize(ctx);
    const [F, C, , K] = this.params[0].shape;
    this.params[0] = this.params[0].reshape([F, C, K]);
    this.grads[0] = this.grads[0].reshape([F, C, K]);
  }

  override get inputRank(): number { return 3; }

  override forward(x: Tensor): Tensor {
    checkInput(x, 'Conv1D', 3, '(N, C, L)', this.inChannels, this.weight.dtype);
    const [N, C, L] = x.shape;
    this.outputShape(x.shape);  // a kernel longer than the padded input is reported in Conv1D's terms
    const y = super.forward(x.reshape([N, C, 1, L]));
    return y.reshape([N, this.outChannels, y.shape[3]]);
  }

  override backward(dout: Tensor): Tensor {
    if (!(dout instanceof Tensor)) throw new TypeError('Conv1D: dout must be a Tensor');
    const [N, F, L] = dout.shape;
    const dx = super.backward(dout.ndim === 3 ? dout.reshape([N, F, 1, L]) : dout);
    return dx.reshape([dx.shape[0], dx.shape[1], dx.shape[3]]);
  }

  override outputShape(inputShape: readonly number[]): number[] {
    const [N, , L] = inputShape;
    return [N, this.outChannels, windowLength('Conv1D', 'length', L, this.kernelSize[1], this.stride[1], this.padding[1])];
  }

  override config(): LayerConfig {
    return {
      type: 'Conv1D', inChannels: this.inChannels, outChannels: this.outChannels, kernelSize: this.kernelSize[1],
      stride: this.stride[1], padding: this.padding[1], bias: this.hasBias, init: this.init,
    };
  }
}

registerLayer('Conv1D', (c) => new Conv1D(c.inChannels as number, c.outChannels as number, c.kernelSize as number, {
  stride: c.stride as number, padding: c.padding as number, bias: c.bias as boolean | undefined,
  init: c.init as ConvInit | undefined,
}), {
  shapes: (c): Record<string, number[]> => {
    const F = positiveInt(c.outChannels, 'Conv1D outChannels'), C = positiveInt(c.inChannels, 'Conv1D inChannels');
    const K = positiveInt(c.kernelSize, 'Conv1D kernelSize');
    return (c.bias ?? true) ? { weight: [F, C, K], bias: [F] } : { weight: [F, C, K] };
  },
});
