// GlobalAvgPool2D: the mean of each channel over the whole image, (N, C, H, W) -> (N, C). The average-pooling
// kernels with one window as large as the image.
import { getBackend } from '../backend/index';
import { Tensor } from '../tensor';
import { Layer, type LayerConfig } from './layer';
import { checkDout, checkInput } from './spatial';
import { registerLayer } from './registry';
import { noArguments } from '../validate';

/** The mean of each channel over the whole image: (N, C, H, W) -> (N, C). */
export class GlobalAvgPool2D extends Layer {
  readonly inputRank = 4;
  private x: Tensor | null = null;

  constructor(...args: never[]) {
    super();
    noArguments(args, 'GlobalAvgPool2D', 'it averages each channel over the whole image');
  }

  forward(x: Tensor): Tensor {
    checkInput(x, 'GlobalAvgPool2D', 4, '(N, C, H, W)', null, null);
    const [N, C, H, W] = x.shape;
    if (H === 0 || W === 0) throw new RangeError(`GlobalAvgPool2D: the input has no pixels, shape [${x.shape.join(', ')}]`);
    const y = Tensor.zeros([N, C], x.dtype);
    getBackend().avgPool2dForward(N, C, H, W, H, W, 1, 1, x.data, y.data);
    this.x = x;
    return y;
  }

  backward(dout: Tensor): Tensor {
    const x = this.x;
    if (!x) throw new Error('GlobalAvgPool2D: backward() called before forward()');
    const [N, C, H, W] = x.shape;
    checkDout(dout, 'GlobalAvgPool2D', [N, C], x.dtype);
    const dx = Tensor.zeros(x.shape, x.dtype);
    getBackend().avgPool2dBackward(N, C, H, W, H, W, 1, 1, dout.data, dx.data);
    return dx;
  }

  outputShape(inputShape: readonly number[]): number[] {
    return [inputShape[0], inputShape[1]];
  }

  config(): LayerConfig {
    return { type: 'GlobalAvgPool2D' };
  }
}

registerLayer('GlobalAvgPool2D', () => new GlobalAvgPool2D());
