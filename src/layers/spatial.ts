// Shared argument and shape checks of the convolution, pooling and batch-norm layers.
import { windowCount } from '../validate';
import { type DType, Tensor, checkAttached, formatShape } from '../tensor';

/** The windows along one axis (validate.ts windowCount); throws naming the layer and the axis when none fits. */
export function windowLength(layer: string, axis: string, input: number, k: number, stride: number, pad: number): number {
  const n = windowCount(input, k, stride, pad);
  if (n === 0) {
    throw new RangeError(`${layer}: the kernel ${axis} ${k} is larger than the input ${axis} ${input}` +
      (pad ? ` plus padding 2 * ${pad}` : ''));
  }
  return n;
}

/** Checks an input of `rank` dimensions (N, channels, ...) in the layer's dtype; channels null accepts any. */
export function checkInput(x: unknown, layer: string, rank: number, layout: string, channels: number | null,
  dtype: DType | null): Tensor {
  if (!(x instanceof Tensor)) throw new TypeError(`${layer}: input must be a Tensor`);
  checkAttached(x, `${layer}: input`);
  if (x.ndim !== rank) throw new RangeError(`${layer}: input must be ${layout}, got shape ${formatShape(x.shape)}`);
  if (channels !== null && x.shape[1] !== channels) {
    throw new RangeError(`${layer}: input must be ${layout} with C = ${channels}, got shape ${formatShape(x.shape)}`);
  }
  if (dtype !== null && x.dtype !== dtype) {
    throw new TypeError(`${layer}: input is ${x.dtype} but the layer's parameters are ${dtype}`);
  }
  return x;
}

/** Checks that dout has the shape and dtype of the output the last forward() produced. */
export function checkDout(dout: unknown, layer: string, shape: readonly number[], dtype: DType): Tensor {
  if (!(dout instanceof Tensor)) throw new TypeError(`${layer}: dout must be a Tensor`);
  if (dout.shape.length !== shape.length || dout.shape.some((d, i) => d !== shape[i]) || dout.dtype !== dtype) {
    throw new RangeError(`${layer}: dout must be ${dtype} of shape ${formatShape(shape)} (the last output), ` +
      `got ${dout.dtype} ${formatShape(dout.shape)}`);
  }
  return dout;
}
