// Reusable layer buffers. A layer inside a Sequential (reuseBuffers = true) writes its output and its input
// gradient into tensors it keeps from one call to the next, so a training step allocates nothing in steady
// state. The contract: a tensor a layer returns from forward() stays valid until that layer's next forward(),
// one from backward() until its next backward(). Sequential.forward/backward/predict copy their results out,
// so users of the network never see a buffer change under them. Layers used on their own (reuseBuffers false,
// the default) return fresh tensors every call.
import { type DType, type FloatArray, Tensor, allocate, dtypeOf, sizeOf } from '../tensor';

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** One reusable tensor: grown on demand, never shrunk (a smaller batch uses a prefix of the storage). */
export class ReusableTensor {
  private storage: FloatArray | null = null;
  private last: Tensor | null = null;

  /**
   * A tensor of this shape and dtype. With reuse, the previous one (same shape) or a view of the kept storage,
   * holding stale values: the caller must overwrite every element. Without reuse, fresh zeros.
   */
  take(shape: readonly number[], dtype: DType, reuse: boolean): Tensor {
    if (!reuse) return Tensor.zeros(shape, dtype);
    const t = this.last;
    if (t !== null && t.dtype === dtype && sameShape(t.shape, shape)) return t;
    const n = sizeOf(shape);
    let s = this.storage;
    if (s === null || dtypeOf(s) !== dtype || s.length < n) s = this.storage = allocate(dtype, n);
    this.last = new Tensor(s.length === n ? s : s.subarray(0, n), shape);
    return this.last;
  }

  /** Drops the storage (e.g. after a one-off large batch). */
  release(): void {
    this.storage = null;
    this.last = null;
  }
}

/**
 * An optional fast backward a layer may offer to the training loop: `accumulate` false overwrites the parameter
 * gradients instead of adding to them (so fit() need not zero them first), and `inputGrad` false skips dx
 * (the first trainable layer's input gradient is never used), returning null.
 */
export interface TrainBackward {
  backwardTrain(dout: Tensor, accumulate: boolean, inputGrad: boolean): Tensor | null;
}

export function hasTrainBackward(l: object): l is TrainBackward {
  return typeof (l as Partial<TrainBackward>).backwardTrain === 'function';
}
