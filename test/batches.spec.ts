// The batch iterator (src/data/batches.ts): which samples each batch holds, in which order for a seed, the last
// partial batch and dropRemainder, views in order and reused buffers when shuffled, and its argument checks.
import { describe, expect, it } from 'vitest';
import { BatchIterator, type IndexedBatch } from '../src/data/batches';
import { Random } from '../src/random';
import { Tensor } from '../src/tensor';

/** x (n, 2, 3) whose sample k holds 100k + 0..5, labels 1000 + k, target rows (n, 2) of -k and k + 0.5. */
function data(n: number) {
  const x = Tensor.zeros([n, 2, 3]);
  for (let i = 0; i < x.size; i++) x.data[i] = 100 * Math.floor(i / 6) + (i % 6);
  const labels = Int32Array.from({ length: n }, (_, k) => 1000 + k);
  const rows = Tensor.zeros([n, 2], 'float64');
  for (let k = 0; k < n; k++) rows.data.set([-k, k + 0.5], 2 * k);
  return { x, labels, rows };
}

/** Each batch as the sample numbers its x rows hold, copied (the tensors change with the next batch). */
function epochSamples<Y extends Int32Array | Tensor | null>(it: BatchIterator<Y>): number[][] {
  const out: number[][] = [];
  for (const b of it.epoch()) out.push(Array.from({ length: b.size }, (_, i) => b.x.data[i * 6] / 100));
  return out;
}

function checkRows(b: IndexedBatch<Int32Array | Tensor | null>): void {
  for (let i = 0; i < b.size; i++) {
    const k = b.samples[i];
    expect(Array.from(b.x.data.subarray(i * 6, i * 6 + 6))).toEqual([0, 1, 2, 3, 4, 5].map((j) => 100 * k + j));
    if (b.y instanceof Int32Array) expect(b.y[i]).toBe(1000 + k);
    else if (b.y) expect(Array.from(b.y.data.subarray(2 * i, 2 * i + 2))).toEqual([-k, k + 0.5]);
  }
}

describe('BatchIterator', () => {
  it('in order: batches of batchSize, the last one partial, every sample once, views of the data', () => {
    const { x, labels } = data(10);
    const it = new BatchIterator(x, labels, { batchSize: 4 });
    expect([it.samples, it.batches, it.batchSize]).toEqual([10, 3, 4]);
    const batches = [...it.epoch()];
    expect(batches.map((b) => [b.index, b.size, ...b.x.shape])).toEqual([[0, 4, 4, 2, 3], [1, 4, 4, 2, 3], [2, 2, 2, 2, 3]]);
    expect(batches.map((b) => Array.from(b.samples))).toEqual([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
    expect(Array.from(batches[2].y)).toEqual([1008, 1009]);
    for (const b of batches) {
      checkRows(b);
      expect(b.x.data.buffer).toBe(x.data.buffer);
      expect(b.y.buffer).toBe(labels.buffer);
    }
  });

  it('shuffled: each epoch a new order of all the samples, the same for the same seed, gathered correctly', () => {
    const { x, labels, rows } = data(11);
    const a = new BatchIterator(x, labels, { batchSize: 3, shuffle: true, seed: 5 });
    const b = new BatchIterator(x, rows, { batchSize: 3, shuffle: true, seed: 5 });
    const other = new BatchIterator(x, labels, { batchSize: 3, shuffle: true, seed: 6 });
    const epochs = [epochSamples(a), epochSamples(a), epochSamples(a)];
    expect([epochSamples(b), epochSamples(b), epochSamples(b)]).toEqual(epochs);
    expect(epochSamples(other)).not.toEqual(epochs[0]);
    expect(epochs[1]).not.toEqual(epochs[0]);
    for (const e of epochs) {
      expect(e.map((s) => s.length)).toEqual([3, 3, 3, 2]);
      expect(e.flat().sort((p, q) => p - q)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    }
    // the order is the generator's: each epoch shuffles the last epoch's order again
    const rng = new Random(5), order = rng.permutation(11);
    expect(epochs[0].flat()).toEqual(Array.from(order));
    expect(epochs[1].flat()).toEqual(Array.from(rng.shuffle(order)));
    for (const batch of a.epoch()) checkRows(batch);
    for (const batch of b.epoch()) checkRows(batch);
  });

  it('shuffled with a generator given: draws from it (as fit() draws from the network), one shuffle per epoch', () => {
    const { x, labels } = data(7);
    const rng = new Random(42), twin = new Random(42);
    const it = new BatchIterator(x, labels, { batchSize: 7, shuffle: true, rng });
    expect(epochSamples(it)[0]).toEqual(Array.from(twin.permutation(7)));
    expect(rng.nextUint32()).toBe(twin.nextUint32());
  });

  it('shuffled: the batch buffers are reused, the last partial batch a prefix of them', () => {
    const { x, labels, rows } = data(10);
    for (const y of [labels, rows]) {
      const batches = [...new BatchIterator(x, y, { batchSize: 4, shuffle: true, seed: 1 }).epoch()];
      expect(batches[0].x.data.buffer).not.toBe(x.data.buffer);
      expect(batches[1].x.data.buffer).toBe(batches[0].x.data.buffer);
      expect(batches[2].x.data.buffer).toBe(batches[0].x.data.buffer);
      expect(batches[2].x.data.length).toBe(2 * 6);
      expect(batches[2].y instanceof Int32Array ? batches[2].y.length : (batches[2].y as Tensor).shape).toEqual(
        y instanceof Int32Array ? 2 : [2, 2]);
    }
  });

  it('dropRemainder leaves out the last partial batch (a different remainder each shuffled epoch)', () => {
    const { x, labels } = data(10);
    const inOrder = new BatchIterator(x, labels, { batchSize: 4, dropRemainder: true });
    expect(inOrder.batches).toBe(2);
    expect(epochSamples(inOrder)).toEqual([[0, 1, 2, 3], [4, 5, 6, 7]]);
    const shuffled = new BatchIterator(x, labels, { batchSize: 4, shuffle: true, seed: 3, dropRemainder: true });
    const left = [0, 1, 2].map(() => {
      const seen = epochSamples(shuffled);
      expect(seen.map((s) => s.length)).toEqual([4, 4]);
      return [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].filter((k) => !seen.flat().includes(k));
    });
    expect(left.every((l) => l.length === 2)).toBe(true);
    expect(new Set(left.map((l) => l.join())).size).toBeGreaterThan(1);
    // a whole number of batches: nothing is dropped
    expect(new BatchIterator(x, labels, { batchSize: 5, dropRemainder: true }).batches).toBe(2);
    // fewer samples than one batch: no batch at all
    expect([...new BatchIterator(x, labels, { batchSize: 11, dropRemainder: true }).epoch()]).toEqual([]);
  });

  it('a batchSize above the sample count gives one batch of all the samples; no targets give y null', () => {
    const { x } = data(5);
    const batches = [...new BatchIterator(x, null, { batchSize: 100, shuffle: true, seed: 2 }).epoch()];
    expect(batches.map((b) => [b.size, b.y])).toEqual([[5, null]]);
    expect(batches[0].x.data.length).toBe(5 * 6);
  });

  it('refuses bad arguments with a message naming them', () => {
    const { x, labels, rows } = data(4);
    const make = (opts: unknown, y: unknown = labels, xx: unknown = x) =>
      () => new BatchIterator(xx as Tensor, y as Int32Array, opts as { batchSize: number });
    expect(make({ batchSize: 0 })).toThrow(new RangeError('batchSize must be a positive integer, got 0'));
    expect(make({ batchSize: 2.5 })).toThrow(new RangeError('batchSize must be a positive integer, got 2.5'));
    expect(make({ batchSize: '2' })).toThrow(new RangeError("batchSize must be a positive integer, got the string '2'"));
    expect(make({})).toThrow(new RangeError('batchSize must be a positive integer, got undefined'));
    expect(make(null)).toThrow(new TypeError('BatchIterator options must be an options object, got null'));
    expect(make({ batchSize: 2, shuffle: 1 })).toThrow(new TypeError('shuffle must be true or false, got 1'));
    expect(make({ batchSize: 2, dropRemainder: 'yes' })).toThrow(
      new TypeError("dropRemainder must be true or false, got the string 'yes'"));
    expect(make({ batchSize: 2, shuffle: true, rng: new Random(1), seed: 1 })).toThrow(
      new TypeError('BatchIterator: give rng or seed, not both (the seed makes a generator of its own)'));
    expect(make({ batchSize: 2, shuffle: true, rng: Math.random })).toThrow(
      new TypeError('BatchIterator: rng must be a Random (nn.Random), got a function'));
    expect(make({ batchSize: 2, shuffle: true, seed: NaN })).toThrow(new RangeError('seed must be a finite number, got NaN'));
    expect(make({ batchSize: 2 }, labels, [1, 2])).toThrow(new TypeError('BatchIterator: x must be a Tensor, got an array of length 2'));
    expect(make({ batchSize: 2 }, labels, new Tensor(new Float32Array([1]), []))).toThrow(
      new RangeError('BatchIterator: x must have a batch axis (N, ...), got shape []'));
    expect(make({ batchSize: 2 }, labels.subarray(1))).toThrow(new RangeError('BatchIterator: y has 3 labels but x has 4 samples'));
    expect(make({ batchSize: 2 }, Tensor.zeros([3, 2]))).toThrow(new RangeError('BatchIterator: y has shape [3, 2] but x has 4 samples'));
    expect(make({ batchSize: 2 }, [0, 1, 0, 1])).toThrow(new TypeError('BatchIterator: y must be an Int32Array of labels, a Tensor ' +
      'of target rows or null, got an array of length 4'));
    expect(() => new BatchIterator(x, rows, { batchSize: 4 })).not.toThrow();
  });
});
