// The batch iterator (src/data/batches.ts) beyond batches.spec.ts: one-dimensional samples and targets, batches of
// their own (reuseBuffers: false) for every kind of target, the buffers a shuffled iterator keeps (the targets'
// too, one batch in size), and the reuseBuffers check. Each batch's rows are compared with the rows of the data
// named by its sample indices, worked out here.
import { describe, expect, it } from 'vitest';
import { BatchIterator } from '../src/data/batches';
import { Random } from '../src/random';
import { Tensor } from '../src/tensor';

/** x (n, 2) whose sample k is [10k, 10k + 1]; labels 100 + k; target rows (n, 3) [k, -k, 0.5]. */
function data(n: number) {
  const x = Tensor.zeros([n, 2]);
  for (let k = 0; k < n; k++) x.data.set([10 * k, 10 * k + 1], 2 * k);
  const labels = Int32Array.from({ length: n }, (_, k) => 100 + k);
  const rows = Tensor.zeros([n, 3], 'float64');
  for (let k = 0; k < n; k++) rows.data.set([k, -k, 0.5], 3 * k);
  return { x, labels, rows };
}

describe('BatchIterator, more', () => {
  it('one number per sample: x (N,) and target values y (N,) batch into (m,) and (m,)', () => {
    const x = new Tensor([0, 1, 2, 3, 4]), y = new Tensor([0, -1, -2, -3, -4]);
    for (const shuffle of [false, true]) {
      // copied as they come: shuffled batches share the iterator's buffers
      const batches = Array.from(new BatchIterator(x, y, { batchSize: 2, shuffle, seed: 3 }).epoch(), (b) => ({
        shape: [b.x.shape, b.y.shape], x: Array.from(b.x.data), y: Array.from(b.y.data), samples: Array.from(b.samples),
      }));
      const order = shuffle ? Array.from(new Random(3).permutation(5)) : [0, 1, 2, 3, 4];
      expect(batches).toEqual([[0, 2], [2, 4], [4, 5]].map(([s, e]) => {
        const k = order.slice(s, e);
        return { shape: [[e - s], [e - s]], x: k, y: k.map((v) => -v + 0), samples: k };
      }));
    }
  });

  it('reuseBuffers: false gives every shuffled batch arrays of its own, right for labels, target rows and none', () => {
    const { x, labels, rows } = data(7);
    const order = Array.from(new Random(4).permutation(7));
    for (const y of [labels, rows, null]) {
      const it = new BatchIterator(x, y, { batchSize: 3, shuffle: true, seed: 4, reuseBuffers: false });
      const batches = [...it.epoch()];
      expect(batches.map((b) => Array.from(b.samples))).toEqual([order.slice(0, 3), order.slice(3, 6), order.slice(6)]);
      // kept together, each still holds its own rows
      for (const b of batches) {
        const ks = Array.from(b.samples);
        expect(Array.from(b.x.data)).toEqual(ks.flatMap((k) => [10 * k, 10 * k + 1]));
        expect(b.x.data.length).toBe(b.x.data.buffer.byteLength / 4);
        if (y === labels) expect(Array.from(b.y as Int32Array)).toEqual(ks.map((k) => 100 + k));
        else if (y === rows) {
          expect((b.y as Tensor).shape).toEqual([ks.length, 3]);
          expect(Array.from((b.y as Tensor).data)).toEqual(ks.flatMap((k) => [k, -k, 0.5]));
          expect((b.y as Tensor).data.length).toBe((b.y as Tensor).data.buffer.byteLength / 8);
        } else expect(b.y).toBeNull();
      }
      expect(new Set(batches.map((b) => b.x.data.buffer)).size).toBe(3);
    }
  });

  it('shuffled with reused buffers: the targets\' buffer is kept too, and each buffer holds one batch, not the whole set', () => {
    const { x, labels, rows } = data(10);
    for (const y of [labels, rows]) {
      const batches = [...new BatchIterator(x, y, { batchSize: 3, shuffle: true, seed: 2 }).epoch()];
      const yBuffer = (b: typeof batches[number]) =>
        (b.y instanceof Int32Array ? b.y.buffer : (b.y as Tensor).data.buffer);
      for (const b of batches) {
        expect(b.x.data.buffer).toBe(batches[0].x.data.buffer);
        expect(yBuffer(b)).toBe(yBuffer(batches[0]));
      }
      expect(batches[0].x.data.buffer.byteLength).toBe(3 * 2 * 4);
      expect(yBuffer(batches[0]).byteLength).toBe(y === labels ? 3 * 4 : 3 * 3 * 8);
      // the last batch, of one sample, is a prefix of them
      expect([batches[3].size, batches[3].x.data.length, batches[3].x.data.byteOffset]).toEqual([1, 2, 0]);
    }
  });

  it('refuses a reuseBuffers that is not a boolean, naming it', () => {
    const { x, labels } = data(2);
    expect(() => new BatchIterator(x, labels, { batchSize: 1, reuseBuffers: 0 as never })).toThrow(
      new TypeError('reuseBuffers must be true or false, got 0'));
    expect(() => new BatchIterator(x, new Tensor(new Float32Array([5]), []) as never, { batchSize: 1 })).toThrow(
      new RangeError('BatchIterator: y has shape [] but x has 2 samples'));
  });
});
