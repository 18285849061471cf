// BatchNorm1D: batch normalization of (N, C) features or (N, C, L) sequences, per channel C.
import type { Tensor } from '../tensor';
import { BatchNorm, type BatchNormOptions } from './batch_norm';

export class BatchNorm1D extends BatchNorm {
  constructor(numFeatures: number, opts: BatchNormOptions = {}) {
    super('BatchNorm1D', numFeatures, opts);
  }

  protected checkShape(x: Tensor): void {
    if (x.ndim !== 2 && x.ndim !== 3) throw new RangeError(`BatchNorm1D: input must be (N, C) or (N, C, L), got shape [${x.shape.join(', ')}]`);
  }
}
