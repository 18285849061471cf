// BatchNorm2D: batch normalization of (N, C, H, W) images, per channel C over N, H and W.
import type { Tensor } from '../tensor';
import { BatchNorm, type BatchNormOptions, batchNormShapes } from './batch_norm';
import { positiveInt } from '../validate';
import { registerLayer } from './registry';

/** Batch normalization of (N, C, H, W) images, per channel C over N, H and W. */
export class BatchNorm2D extends BatchNorm {
  constructor(numFeatures: number, opts: BatchNormOptions = {}) {
    super('BatchNorm2D', numFeatures, opts);
  }

  readonly inputRank = 4;

  protected checkShape(x: Tensor): void {
    if (x.ndim !== 4) throw new RangeError(`BatchNorm2D: input must be (N, C, H, W), got shape [${x.shape.join(', ')}]`);
  }
}

registerLayer('BatchNorm2D', (c) => new BatchNorm2D(c.numFeatures as number, { momentum: c.momentum as number, eps: c.eps as number }),
  { shapes: (c) => batchNormShapes(positiveInt(c.numFeatures, 'BatchNorm2D numFeatures')) });
