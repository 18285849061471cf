// MaxPool2D: the maximum of each KH x KW window, windows every (strideH, strideW), no padding, on NCHW input.
// OH = 1 + floor((H - KH) / strideH): windows may overlap (stride < kernel) and need not cover the input (the
// last rows or columns that no window reaches are ignored, as in PyTorch).
import { getBackend } from '../backend/index';
import { knownOptions, optionsObject, positiveInt, sizePair } from '../validate';
import { Tensor } from '../tensor';
import { ReusableTensor } from './buffers';
import { Layer, type LayerConfig } from './layer';
import { checkDout, checkInput, windowLength } from './spatial';
import { registerLayer } from './registry';

/** Options of MaxPool2D and AvgPool2D. */
export interface PoolOptions {
  /** Stride, one number or [strideH, strideW] (default: the kernel size, i.e. windows side by side). */
  stride?: number | [number, number];
}

/** The parts MaxPool2D and AvgPool2D share: sizes, shape checks, the cached input. */
export abstract class Pool2D extends Layer {
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  protected x: Tensor | null = null;
  protected yShape: number[] = [];
  private readonly type: string;
  private readonly out = new ReusableTensor();
  private readonly dxBuf = new ReusableTensor();

  constructor(type: string, kernelSize: number | [number, number], options: PoolOptions) {
    super();
    const opts = optionsObject(options, `${type} options`);
    knownOptions(opts, ['stride'], type);
    this.type = type;
    this.kernelSize = sizePair(kernelSize, `${type} kernelSize`, positiveInt);
    this.stride = opts.stride === undefined ? [...this.kernelSize] : sizePair(opts.stride, `${type} stride`, positiveInt);
  }

  readonly inputRank = 4;

  /** The kernel arguments N, C, H, W, KH, KW, strideH, strideW. */
  protected geometry(shape: readonly number[]) {
    const [N, C, H, W] = shape;
    return [N, C, H, W, ...this.kernelSize, ...this.stride] as const;
  }

  /** Checks x, caches it and returns the output tensor (reused, stale values: the kernels write every element). */
  protected begin(x: Tensor): Tensor {
    checkInput(x, this.name, 4, '(N, C, H, W)', null, null);
    const y = this.out.take(this.outputShape(x.shape), x.dtype, this.reuseBuffers);
    this.x = x;
    this.yShape = [...y.shape];
    return y;
  }

  /** Checks dout against the last forward and returns [x, dx] (dx reused: the kernels overwrite it). */
  protected beginBackward(dout: Tensor): [Tensor, Tensor] {
    const x = this.x;
    if (!x) throw new Error(`${this.name}: backward() called before forward()`);
    checkDout(dout, this.name, this.yShape, x.dtype);
    return [x, this.dxBuf.take(x.shape, x.dtype, this.reuseBuffers)];
  }

  outputShape(inputShape: readonly number[]): number[] {
    const [N, C, H, W] = inputShape;
    return [N, C, windowLength(this.name, 'height', H, this.kernelSize[0], this.stride[0], 0),
      windowLength(this.name, 'width', W, this.kernelSize[1], this.stride[1], 0)];
  }

  config(): LayerConfig {
    return { type: this.type, kernelSize: this.kernelSize, stride: this.stride };
  }
}

/**
 * Max pooling. Backward routes each output gradient to the FIRST maximum of its window (in row-major order
 * within the window) — ties do not split the gradient; where overlapping windows share a maximum, the input
 * receives the sum of their gradients. A NaN in a window is its maximum (NaN propagates, as in PyTorch).
 */
export class MaxPool2D extends Pool2D {
  private argmax: Int32Array = new Int32Array(0);

  constructor(kernelSize: number | [number, number], opts: PoolOptions = {}) {
    super('MaxPool2D', kernelSize, opts);
  }

  forward(x: Tensor): Tensor {
    const y = this.begin(x);
    // the argmax indices are internal: reuse them while the size stays (fresh memory costs page faults)
    if (this.argmax.length !== y.size) this.argmax = new Int32Array(y.size);
    getBackend().maxPool2dForward(...this.geometry(x.shape), x.data, y.data, this.argmax);
    return y;
  }

  backward(dout: Tensor): Tensor {
    const [x, dx] = this.beginBackward(dout);
    getBackend().maxPool2dBackward(...this.geometry(x.shape), dout.data, this.argmax, dx.data);
    return dx;
  }
}

registerLayer('MaxPool2D', (c) => new MaxPool2D(c.kernelSize as [number, number], { stride: c.stride as [number, number] }));
