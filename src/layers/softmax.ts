// Softmax over the last dimension (stable); backward dx = y (dout − Σ dout·y) row by row. For training with
// cross-entropy, leave the last layer linear and use losses.softmaxCrossEntropy, which fuses both.
import { getBackend } from '../backend/index';
import { Tensor, checkAttached, formatShape } from '../tensor';
import { ReusableTensor } from './buffers';
import { Layer, type LayerConfig } from './layer';
import { registerLayer } from './registry';
import { noArguments } from '../validate';

/** Softmax over the last dimension (to train with cross-entropy, prefer the fused losses.softmaxCrossEntropy). */
export class Softmax extends Layer {
  private y: Tensor | null = null;
  private readonly out = new ReusableTensor();
  private readonly dxBuf = new ReusableTensor();

  constructor(...args: never[]) {
    super();
    noArguments(args, 'Softmax', 'it normalizes over the last axis');
  }

  forward(x: Tensor): Tensor {
    if (!(x instanceof Tensor) || x.ndim < 1) throw new TypeError('Softmax: input must be a Tensor with at least one dimension');
    checkAttached(x, 'Softmax: input');
    const cols = x.shape[x.ndim - 1], rows = cols === 0 ? 0 : x.size / cols;
    const y = this.out.take(x.shape, x.dtype, this.reuseBuffers);
    getBackend().softmax(rows, cols, x.data, y.data);
    this.y = y;
    return y;
  }

  backward(dout: Tensor): Tensor {
    const y = this.y;
    if (!y) throw new Error('Softmax: backward() called before forward()');
    if (dout.size !== y.size || dout.dtype !== y.dtype) {
      throw new RangeError(`Softmax: dout must be ${y.dtype} of shape ${formatShape(y.shape)}, got ${dout.dtype} ${formatShape(dout.shape)}`);
    }
    const cols = y.shape[y.ndim - 1], rows = cols === 0 ? 0 : y.size / cols;
    const dx = this.dxBuf.take(y.shape, y.dtype, this.reuseBuffers);
    getBackend().softmaxBackward(rows, cols, y.data, dout.data, dx.data);
    return dx;
  }

  outputShape(inputShape: readonly number[]): number[] {
    return [...inputShape];
  }

  config(): LayerConfig {
    return { type: 'Softmax' };
  }
}

registerLayer('Softmax', () => new Softmax());
