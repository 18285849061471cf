// Batches of images kept as their bytes (idx pixels) and converted to floats one batch at a time, into a buffer the
// batches share. Holding MNIST's 60,000 images as float32 takes 188 MB of fresh memory, and on the machines measured
// first touching fresh memory costs ~4 ms per MB, more than the MLP's whole training; as bytes they take 47 MB and a
// batch's conversion is a copy that the gather of shuffled rows does anyway.
import { type Batch, BatchIterator } from './batches';
import { Dataset } from './dataset';
import type { Random } from '../random';
import { Tensor } from '../tensor';

/** Options of byteBatches(). */
export interface ByteBatchesOptions {
  /** Samples per batch (the last batch of a pass holds what is left). */
  batchSize: number;
  /** The shape of one sample, whose size is the bytes per image (e.g. [784] or [1, 28, 28]). */
  sampleShape: readonly number[];
  /**
   * Shuffle with this generator: each pass draws a new order from the last one, as fit(x, y) does with the
   * network's generator (the same generator gives the same batches as fit(x, y) on the converted tensors).
   */
  rng?: Random;
  /** Each byte times this (default 1 / 255, as loadMnist's normalize). */
  scale?: number;
}

/**
 * The images (count · sample size bytes) and labels as a dataset of float32 batches, and its batches per pass. A
 * batch is valid until the next one is drawn (give fit() prefetch 0). Each float is byte · scale rounded once, as
 * loadMnist() converts them, so training on these batches gives the bits of training on loadMnist()'s tensors.
 */
export function byteBatches(images: Uint8Array, labels: Int32Array, options: ByteBatchesOptions): { data: Dataset<Batch>; batches: number } {
  const { batchSize, sampleShape, rng, scale = 1 / 255 } = options;
  const px = sampleShape.reduce((a, b) => a * b, 1), n = labels.length;
  if (images.length !== n * px) {
    throw new RangeError(`byteBatches: ${images.length} bytes of images for ${n} labels of ${px} bytes each`);
  }
  // the order only: samples of no features, so the iterator gathers nothing
  const order = new BatchIterator(Tensor.zeros([n, 0]), labels, { batchSize, shuffle: rng !== undefined, rng });
  const rows = Math.min(batchSize, n);
  const xBuf = new Float32Array(rows * px), yBuf = new Int32Array(rows);
  function* pass(): Generator<Batch> {
    for (const b of order.epoch()) {
      const m = b.size, samples = b.samples;
      for (let i = 0; i < m; i++) {
        const k = samples[i], src = k * px, dst = i * px;
        for (let j = 0; j < px; j++) xBuf[dst + j] = images[src + j] * scale;
        yBuf[i] = labels[k];
      }
      const full = m === rows;
      yield {
        x: new Tensor(full ? xBuf : xBuf.subarray(0, m * px), [m, ...sampleShape]),
        y: full ? yBuf : yBuf.subarray(0, m), size: m, index: b.index,
      };
    }
  }
  return { data: Dataset.from(pass, { batched: true }), batches: order.batches };
}
