// AvgPool2D: the mean of each KH x KW window, windows every (strideH, strideW), no padding, on NCHW input.
import { getBackend } from '../backend/index';
import type { Tensor } from '../tensor';
import { Pool2D, type PoolOptions } from './max_pool2d';
import { registerLayer } from './registry';

export class AvgPool2D extends Pool2D {
  constructor(kernelSize: number | [number, number], opts: PoolOptions = {}) {
    super('AvgPool2D', kernelSize, opts);
  }

  forward(x: Tensor): Tensor {
    const y = this.begin(x);
    getBackend().avgPool2dForward(...this.geometry(x.shape), x.data, y.data);
    return y;
  }

  backward(dout: Tensor): Tensor {
    const [x, dx] = this.beginBackward(dout);
    getBackend().avgPool2dBackward(...this.geometry(x.shape), dout.data, dx.data);
    return dx;
  }
}

registerLayer('AvgPool2D', (c) => new AvgPool2D(c.kernelSize as [number, number], { stride: c.stride as [number, number] }));
