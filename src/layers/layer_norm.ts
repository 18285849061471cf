// Layer normalization, as PyTorch's LayerNorm: each sample is normalized over its last axes (normalizedShape) with
// its own mean and biased variance, y = (x - mean) / sqrt(var + eps) * weight + bias, weight and bias of
// normalizedShape (weight 1, bias 0 at first; none without elementwiseAffine). The same in training and eval.
import { getBackend } from '../backend/index';
import { Random } from '../random';
import { DTYPES, isArray, kernelNumber, knownOptions, oneOf, optionalBoolean, optionsObject, positiveInt } from '../validate';
import { type DType, Tensor, checkAttached, formatShape } from '../tensor';
import { ReusableTensor } from './buffers';
import { Layer, type InitContext, type LayerConfig } from './layer';
import { registerLayer } from './registry';
import { checkDout } from './spatial';

/** Options of LayerNorm. */
export interface LayerNormOptions {
  /** Added to the variance (default 1e-5, as PyTorch). */
  eps?: number;
  /** Whether the layer has a weight and a bias of normalizedShape (default true). */
  elementwiseAffine?: boolean;
  dtype?: DType;
}

/** normalizedShape as an array of positive integers (a number is one axis). */
function normalizedShapeOf(v: unknown): number[] {
  const dims = typeof v === 'number' ? [v] : isArray(v) ? [...v] : null;
  if (!dims || dims.length === 0) {
    throw new TypeError(`LayerNorm normalizedShape must be a positive integer or a non-empty array of them, got ${JSON.stringify(v)}`);
  }
  return dims.map((d, i) => positiveInt(d, `LayerNorm normalizedShape[${i}]`));
}

/** The parameters a LayerNorm config implies (none without elementwiseAffine). */
function layerNormShapes(c: LayerConfig): Record<string, number[]> {
  const shape = normalizedShapeOf(c.normalizedShape);
  return (c.elementwiseAffine ?? true) ? { weight: shape, bias: [...shape] } : {};
}

/**
 * Layer normalization over the last axes of the input (PyTorch's LayerNorm): an input (..., *normalizedShape) is
 * normalized per sample with its own mean and biased variance, then scaled by weight and shifted by bias (both of
 * normalizedShape). Any number of leading axes.
 */
export class LayerNorm extends Layer {
  /** The trailing axes each sample is normalized over. */
  readonly normalizedShape: readonly number[];
  readonly eps: number;
  readonly elementwiseAffine: boolean;
  private readonly size: number;
  private x: Tensor | null = null;
  private mean: Tensor | null = null;
  private rstd: Tensor | null = null;
  private readonly out = new ReusableTensor();
  private readonly dxBuf = new ReusableTensor();

  constructor(normalizedShape: number | readonly number[], options: LayerNormOptions = {}) {
    super();
    const opts = optionsObject(options, 'LayerNorm options');
    knownOptions(opts, ['eps', 'elementwiseAffine', 'dtype'], 'LayerNorm');
    this.normalizedShape = normalizedShapeOf(normalizedShape);
    this.size = this.normalizedShape.reduce((a, b) => a * b, 1);
    this.eps = kernelNumber(opts.eps ?? 1e-5, 'LayerNorm eps', 'layerNormForward', 'eps');
    this.elementwiseAffine = optionalBoolean(opts.elementwiseAffine, 'LayerNorm elementwiseAffine') ?? true;
    this.initialize({ rng: new Random(0), dtype: oneOf(opts.dtype ?? 'float32', DTYPES, 'LayerNorm dtype') });
  }

  /** weight = 1, bias = 0 (no random draws); no parameters without elementwiseAffine (then any float dtype). */
  override initialize(ctx: InitContext): void {
    const shape = [...this.normalizedShape];
    if (this.elementwiseAffine) this.setParams(['weight', 'bias'], [Tensor.full(shape, 1, ctx.dtype), Tensor.zeros(shape, ctx.dtype)]);
    else this.setParams([], []);
  }

  /** The scale, of normalizedShape; null without elementwiseAffine. */
  get weight(): Tensor | null { return this.elementwiseAffine ? this.params[0] : null; }
  /** The shift, of normalizedShape; null without elementwiseAffine. */
  get bias(): Tensor | null { return this.elementwiseAffine ? this.params[1] : null; }

  /** Throws unless the shape ends with normalizedShape. */
  private checkShape(shape: readonly number[]): void {
    const k = this.normalizedShape.length, lead = shape.length - k;
    if (lead < 0 || this.normalizedShape.some((d, i) => shape[lead + i] !== d)) {
      throw new RangeError(`LayerNorm: input shape ${formatShape(shape)} must end with the normalized shape ` +
        `${formatShape(this.normalizedShape)}`);
    }
  }

  forward(x: Tensor): Tensor {
    if (!(x instanceof Tensor)) throw new TypeError('LayerNorm: input must be a Tensor');
    checkAttached(x, 'LayerNorm: input');
    this.checkShape(x.shape);
    // without parameters, any float dtype: the layer computes in the input's
    const w = this.weight;
    if (w && x.dtype !== w.dtype) throw new TypeError(`LayerNorm: input is ${x.dtype} but the layer's parameters are ${w.dtype}`);
    const n = this.size, rows = x.size / n;
    const y = this.out.take(x.shape, x.dtype, this.reuseBuffers);
    if (!this.mean || !this.rstd || this.mean.size !== rows || this.mean.dtype !== x.dtype) {
      this.mean = Tensor.zeros([rows], x.dtype);
      this.rstd = Tensor.zeros([rows], x.dtype);
    }
    getBackend().layerNormForward(rows, n, x.data, this.weight?.data ?? null, this.bias?.data ?? null, y.data,
      this.mean.data, this.rstd.data, this.eps);
    this.x = x;
    return y;
  }

  backward(dout: Tensor): Tensor {
    const x = this.x;
    if (!x || !this.mean || !this.rstd) throw new Error('LayerNorm: backward() called before forward()');
    checkDout(dout, 'LayerNorm', x.shape, x.dtype);
    const n = this.size, rows = x.size / n;
    const dx = this.dxBuf.take(x.shape, x.dtype, this.reuseBuffers);
    const g = this.elementwiseAffine ? this.grads : null;
    getBackend().layerNormBackward(rows, n, x.data, dout.data, this.weight?.data ?? null, this.mean.data,
      this.rstd.data, dx.data, g ? g[0].data : null, g ? g[1].data : null);
    return dx;
  }

  outputShape(inputShape: readonly number[]): number[] {
    this.checkShape(inputShape);
    return [...inputShape];
  }

  config(): LayerConfig {
    return { type: 'LayerNorm', normalizedShape: [...this.normalizedShape], eps: this.eps, elementwiseAffine: this.elementwiseAffine };
  }
}

registerLayer('LayerNorm', (c) => new LayerNorm(c.normalizedShape as number[],
  { eps: c.eps as number | undefined, elementwiseAffine: c.elementwiseAffine as boolean | undefined }), { shapes: layerNormShapes });
