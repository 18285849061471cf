// Batches of images kept as their bytes (idx pixels) and converted to floats one batch at a time, into a buffer the
// batches share. Holding MNIST's 60,000 images as float32 takes 188 MB of fresh memory, and on the machines measured
// first touching fresh memory costs ~4 ms per MB, more than the MLP's whole training; as bytes they take 47 MB and a
// batch's conversion is a copy that the gather of shuffled rows does anyway.
import { getBackend } from '../backend/index';
import type { Batch } from './batches';
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
  /** Each byte divided by this (default 255: [0, 1], as loadMnist's normalize; 1 keeps 0..255). */
  divisor?: number;
}

/**
 * The images (count · sample size bytes) and labels as a dataset of float32 batches, and its batches per pass. A
 * batch is valid until the next one is drawn (give fit() prefetch 0). Each float is byte / divisor rounded once:
 * for 255 the very floats loadMnist() makes (byte · (1 / 255) in double, rounded to float32, is the correctly
 * rounded quotient for every byte), so training on these batches gives the bits of training on its tensors.
 */
export function byteBatches(images: Uint8Array, labels: Int32Array,
  options: ByteBatchesOptions): { data: Dataset<Batch>; batches: number } {
  const { batchSize, sampleShape, rng, divisor = 255 } = options;
  const px = sampleShape.reduce((a, b) => a * b, 1), n = labels.length;
  if (images.length !== n * px) {
    throw new RangeError(`byteBatches: ${images.length} bytes of images for ${n} labels of ${px} bytes each`);
  }
  const rows = Math.min(batchSize, n), batches = Math.ceil(n / batchSize);
  // the order carries on from pass to pass, each shuffle starting from the last (BatchIterator's, drawn alike)
  const order = Int32Array.from({ length: n }, (_, i) => i);
  const xBuf = new Float32Array(rows * px), yBuf = new Int32Array(rows);
  const zero = new Float32Array(1), by = new Float32Array([divisor]);
  function* pass(): Generator<Batch> {
    if (rng) rng.shuffle(order);
    for (let index = 0; index < batches; index++) {
      const start = index * batchSize, m = Math.min(batchSize, n - start);
      const full = m === rows, x = full ? xBuf : xBuf.subarray(0, m * px);
      for (let i = 0; i < m; i++) {
        const k = order[start + i];
        x.set(images.subarray(k * px, (k + 1) * px), i * px);  // bytes to floats, in the engine's native loop
        yBuf[i] = labels[k];
      }
      // (x - 0) / divisor in double, rounded once: the correctly rounded quotient (broadcastBinary's division by a
      // broadcast scalar gives the same bits; on the TS backend through its general loop, ~3.6x the time)
      if (divisor !== 1) getBackend().normalizeChannels(1, 1, m * px, x, zero, by, x);
      yield { x: new Tensor(x, [m, ...sampleShape]), y: full ? yBuf : yBuf.subarray(0, m), size: m, index };
    }
  }
  return { data: Dataset.from(pass, { batched: true }), batches };
}
