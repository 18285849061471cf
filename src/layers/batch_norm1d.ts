// BatchNorm1D: batch normalization of (N, C) features or (N, C, L) sequences, per channel C.
import type { Tensor } from '../tensor';
import { BatchNorm, type BatchNormOptions, batchNormShapes } from './batch_norm';
import { positiveInt } from '../validate';
import { registerLayer } from './registry';

/** Batch normalization of (N, C) features or (N, C, L) sequences, per channel C. */
export class BatchNorm1D extends BatchNorm {
  constructor(numFeatures: number, opts: BatchNormOptions = {}) {
    super('BatchNorm1D', numFeatures, opts);
  }

  protected checkShape(x: Tensor): void {
    if (x.ndim !== 2 && x.ndim !== 3) throw new RangeError(`BatchNorm1D: input must be (N, C) or (N, C, L), got shape [${x.shape.join(', ')}]`);
  }
}

registerLayer('BatchNorm1D', (c) => new BatchNorm1D(c.numFeatures as number, { momentum: c.momentum as number, eps: c.eps as number }),
  { shapes: (c) => batchNormShapes(positiveInt(c.numFeatures, 'BatchNorm1D numFeatures')) });
