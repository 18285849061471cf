// nn.data.Dataset (src/data/dataset.ts) word for word: every refusal's class and message, the metadata each
// transformation carries (cardinality, samples, batchSize), the exact seeded orders of a buffered shuffle and of a
// split, and the idx reader's reasons for refusing a file. Expectations are hand-worked or computed by plain
// loops here from the documented algorithms, with the same seeded generator.
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Batch } from '../src/data/batches';
import { Dataset, type Sample } from '../src/data/dataset';
import { DataError } from '../src/data/mnist';
import { Random } from '../src/random';
import { Tensor } from '../src/tensor';
import { data, pass, range } from './dataset-fixtures';

const meta = (ds: Dataset<unknown>) => [ds.cardinality, ds.samples, ds.batched, ds.batchSize];

/** A generator function of the samples of data(n), one by one (unknown cardinality). */
function generated(n: number): Dataset<Sample> {
  const { x, y } = data(n);
  return Dataset.fromGenerator(function* () {
    for (let k = 0; k < n; k++) yield { x: new Tensor(x.data.slice(3 * k, 3 * k + 3), [3]), y: y[k] };
  });
}

/** The order a buffered shuffle gives, from its definition: fill the buffer, then draw a slot, emit it, refill it. */
function bufferedOrder(items: number[], bufferSize: number, rng: Random): number[] {
  const buffer: number[] = [], out: number[] = [];
  for (const e of items) {
    if (buffer.length < bufferSize) {
      buffer.push(e);
    } else {
      const j = rng.int(bufferSize);
      out.push(buffer[j]);
      buffer[j] = e;
    }
  }
  // the rest leaves in a random order: Fisher-Yates as Random.shuffle does it, on a copy of the buffer
  const rest = Int32Array.from(buffer);
  rng.shuffle(rest);
  return [...out, ...rest];
}

describe('Dataset checks word for word', () => {
  it('fromTensors: labels as an array, each an integer in int32 range', async () => {
    const { x } = data(3);
    expect(() => Dataset.fromTensors(x, [0, 2 ** 31, 0])).toThrow(
      new TypeError('Dataset.fromTensors: y[1] must be an integer label, got 2147483648'));
    expect(() => Dataset.fromTensors(x, [0, 0, -(2 ** 31) - 1])).toThrow(
      new TypeError('Dataset.fromTensors: y[2] must be an integer label, got -2147483649'));
    expect(() => Dataset.fromTensors(x, ['1', 0, 0] as never)).toThrow(
      new TypeError("Dataset.fromTensors: y[0] must be an integer label, got the string '1'"));
    const extremes = await Dataset.fromTensors(x, [-(2 ** 31), 2 ** 31 - 1, 0]).toArray();
    expect(extremes.map((s) => s.y)).toEqual([-(2 ** 31), 2 ** 31 - 1, 0]);
    expect(() => Dataset.fromTensors(x, 'abc' as never)).toThrow(new TypeError('BatchIterator: y must be an Int32Array of labels, ' +
      "a Tensor of target rows or null, got the string 'abc'"));
    expect(meta(Dataset.fromTensors(x))).toEqual([3, 3, false, null]);
  });

  it('from: the options, the sources it takes and refuses, and what is known of them', async () => {
    expect(() => Dataset.from([], null as never)).toThrow(new TypeError('Dataset.from options must be an options object, got null'));
    expect(() => Dataset.from([], { batched: 1 as never })).toThrow(new TypeError('batched must be true or false, got 1'));
    expect(() => Dataset.from(null as never)).toThrow(new TypeError('Dataset.from: source must be an iterable, ' +
      'an async iterable or a function returning one, got null'));
    expect(() => Dataset.from({} as never)).toThrow(new TypeError('Dataset.from: source must be an iterable, ' +
      'an async iterable or a function returning one, got an object'));
    // a string is iterable (its characters); an object with only Symbol.asyncIterator is an async iterable
    expect(await Dataset.from('ab' as never).toArray()).toEqual(['a', 'b']);
    const asyncOnly = { async* [Symbol.asyncIterator]() { yield 1; yield 2; } };
    expect(await Dataset.from(asyncOnly as never).toArray()).toEqual([1, 2]);
    await expect(Dataset.from((() => null) as never).toArray()).rejects.toThrow(
      new TypeError('Dataset.from: the function must return an iterable, got null'));
    await expect(Dataset.from((() => ({})) as never).toArray()).rejects.toThrow(
      new TypeError('Dataset.from: the function must return an iterable, got an object'));
    expect(meta(Dataset.from([1, 2, 3]))).toEqual([3, 3, false, null]);
    expect(meta(Dataset.from(new Set([1, 2])))).toEqual([null, null, false, null]);
    expect(meta(Dataset.from([{ x: Tensor.zeros([2, 3]) }], { batched: true }))).toEqual([1, null, true, null]);
    // a generator function of batches, checked as they come
    const fromFn = Dataset.fromGenerator(function* () { yield { x: Tensor.zeros([2, 1]), y: [1, 0] }; },
      { batched: true }) as unknown as Dataset<Batch>;
    expect(meta(fromFn)).toEqual([null, null, true, null]);
    expect((await fromFn.toArray()).map((b) => [b.size, Array.from(b.y as Int32Array)])).toEqual([[2, [1, 0]]]);
    await expect(Dataset.fromGenerator(function* () { yield 7; }, { batched: true }).toArray()).rejects.toThrow(
      new TypeError('batch 0 must be an object { x, y? }, got 7'));
  });

  it('batches from a source: each refusal names the batch, and what is accepted is normalized', async () => {
    const batches = (...b: unknown[]) => Dataset.from(b, { batched: true }).toArray();
    const ok = { x: Tensor.zeros([2, 1]), y: [0, 1] };
    await expect(batches(ok, null)).rejects.toThrow(new TypeError('batch 1 must be an object { x, y? }, got null'));
    await expect(batches(ok, { x: 5 })).rejects.toThrow(
      new TypeError('batch 1: x must be a Tensor (or a nested array of numbers), got 5'));
    await expect(batches({ x: new Tensor(new Float32Array([1]), []) })).rejects.toThrow(
      new RangeError('batch 0: x must have a batch axis (N, ...), got shape []'));
    await expect(batches({ x: Tensor.zeros([2, 1]), y: 'ab' })).rejects.toThrow(new TypeError('batch 0: y must be labels ' +
      "(an Int32Array or array of integers) or a Tensor, got the string 'ab'"));
    await expect(batches({ x: Tensor.zeros([2, 1]), y: [0, 0.5] })).rejects.toThrow(
      new TypeError('batch 0: y[1] must be an integer label, got 0.5'));
    await expect(batches({ x: Tensor.zeros([2, 1]), y: Tensor.zeros([3, 2]) })).rejects.toThrow(
      new RangeError('batch 0: y holds 3 targets but x holds 2 samples'));
    await expect(batches({ x: Tensor.zeros([2, 1]), y: [] })).rejects.toThrow(
      new RangeError('batch 0: y holds 0 targets but x holds 2 samples'));
    const [a, b, c, d] = await batches(
      { x: [[1, 2], [3, 4]], y: [[0.5], [1.5]] },
      { x: Tensor.zeros([3, 1]), y: null },
      { x: Tensor.zeros([1, 1]), y: new Int32Array([4]) },
      { x: Tensor.zeros([0, 1]), y: [] },
    );
    expect([a.x.shape, Array.from(a.x.data), (a.y as Tensor).shape, Array.from((a.y as Tensor).data)]).toEqual(
      [[2, 2], [1, 2, 3, 4], [2, 1], [0.5, 1.5]]);
    expect([b.y, b.size, b.index]).toEqual([null, 3, 1]);
    expect([Array.from(c.y as Int32Array), c.index]).toEqual([[4], 2]);
    expect([d.size, d.y]).toEqual([0, new Int32Array(0)]);
  });

  it('batch(): the position of a bad sample, across batches, and every mismatch between samples', async () => {
    const fail = (samples: unknown[], n = 2) => Dataset.from(samples as Sample[]).batch(n).toArray();
    const one = (k: number) => ({ x: new Tensor([k, k]), y: k });
    await expect(fail([one(0), one(1), one(2), 5], 2)).rejects.toThrow(
      new TypeError('batch(): sample 3 (batch 1, row 1) must be an object { x, y? }, got 5'));
    await expect(fail([one(0), one(1), one(2), one(3), { x: 'x', y: 4 }], 2)).rejects.toThrow(
      new TypeError("batch(): sample 4 (batch 2, row 0)'s x must be a Tensor (or a nested array of numbers), got the string 'x'"));
    await expect(fail([{ x: new Tensor([1]) }, { x: new Tensor([1]), y: 1 }])).rejects.toThrow(
      new TypeError('batch(): sample 1 (batch 0, row 1) has a y, but the first of the batch has none'));
    const t = (...v: number[]) => new Tensor(v);
    await expect(fail([{ x: t(1), y: t(1, 2) }, { x: t(1), y: t(1, 2, 3) }]))
      .rejects.toThrow(new RangeError('batch(): sample 1 (batch 0, row 1) has y of shape [3], the first of the batch a target ' +
        'of shape [2]'));
    await expect(fail([{ x: new Tensor([1]), y: new Tensor([1, 2]) }, { x: new Tensor([1]), y: 1 }])).rejects.toThrow(
      new RangeError('batch(): sample 1 (batch 0, row 1) has y 1, the first of the batch a target of shape [2]'));
    await expect(fail([{ x: new Tensor([1]), y: 'a' }, { x: new Tensor([1]), y: 1 }])).rejects.toThrow(
      new TypeError("batch(): sample 0 (batch 0, row 0)'s y must be a Tensor (or a nested array of numbers), got the string 'a'"));
    await expect(fail([{ x: new Tensor([1]), y: 0 }, { x: new Tensor([1]), y: '1' }])).rejects.toThrow(
      new TypeError("batch(): sample 1 (batch 0, row 1) has y the string '1', but the first of the batch has an integer label"));
    // nested arrays as x and as target rows; float64 samples stack into float64
    const nested = [{ x: [1, 2], y: [3] }, { x: [4, 5], y: [6] }] as never as Sample[];
    const [b] = await Dataset.from(nested).batch(2).toArray();
    expect([b.x.shape, Array.from(b.x.data), (b.y as Tensor).shape, Array.from((b.y as Tensor).data)]).toEqual(
      [[2, 2], [1, 2, 4, 5], [2, 1], [3, 6]]);
    const f64 = Tensor.zeros([2], 'float64');
    const [c] = await Dataset.from([{ x: f64, y: f64 }, { x: f64, y: f64 }]).batch(2).toArray();
    expect([c.x.dtype, (c.y as Tensor).dtype]).toEqual(['float64', 'float64']);
    expect(() => Dataset.from([]).batch(2, null as never)).toThrow(new TypeError('batch() options must be an options object, got null'));
    expect(() => Dataset.from([]).batch(2, { dropRemainder: 1 as never })).toThrow(
      new TypeError('dropRemainder must be true or false, got 1'));
    expect(() => Dataset.fromTensors(data(2).x).batch(2, { dropRemainder: 1 as never })).toThrow(
      new TypeError('dropRemainder must be true or false, got 1'));
    expect(() => Dataset.fromTensors(data(2).x).batch(1.5)).toThrow(new RangeError('batch(): n must be a positive integer, got 1.5'));
    expect(() => Dataset.from([], { batched: true }).batch(2)).toThrow(new TypeError('batch(): the elements are batches already'));
  });

  it('batch(): cardinality and samples of known, unknown and endless sources, with and without dropRemainder', async () => {
    const { x, y } = data(10);
    const samples = range(10).map((k) => ({ x: new Tensor([k, 0, 0]), y: 0 }));
    for (const ds of [Dataset.fromTensors(x, y), Dataset.from(samples)]) {
      expect(meta(ds.batch(4))).toEqual([3, 10, true, 4]);
      expect(meta(ds.batch(4, { dropRemainder: true }))).toEqual([2, 8, true, 4]);
      expect(meta(ds.batch(5, { dropRemainder: true }))).toEqual([2, 10, true, 5]);
      expect((await ds.batch(4, { dropRemainder: true }).toArray()).map((b) => b.size)).toEqual([4, 4]);
      expect((await ds.batch(4).toArray()).map((b) => [b.size, b.index])).toEqual([[4, 0], [4, 1], [2, 2]]);
    }
    expect(meta(generated(10).batch(4))).toEqual([null, null, true, 4]);
    expect(meta(generated(10).batch(4, { dropRemainder: true }))).toEqual([null, null, true, 4]);
    expect(meta(Dataset.fromTensors(x, y).repeat().batch(4))).toEqual([Infinity, Infinity, true, 4]);
    const endless = Dataset.fromTensors(x, y).repeat().batch(4, { dropRemainder: true });
    expect(meta(endless)).toEqual([Infinity, Infinity, true, 4]);
    // exactly full batches: nothing is left to drop
    expect((await generated(8).batch(4, { dropRemainder: true }).toArray()).map((b) => b.size)).toEqual([4, 4]);
    expect((await generated(8).batch(4).toArray()).map((b) => b.size)).toEqual([4, 4]);
  });

  it('map, filter, take, skip, repeat, prefetch, cache: the metadata they carry and their edge cases', async () => {
    const { x, y } = data(6);
    const ds = Dataset.fromTensors(x, y);
    expect(await ds.map((s, i) => [s.y, i]).toArray()).toEqual(range(6).map((k) => [k % 3, k]));
    const indices: number[] = [];
    expect(await pass(ds.filter(async (_, i) => { indices.push(i); return i % 2 === 1; }))).toEqual([1, 3, 5]);
    expect(indices).toEqual(range(6));
    expect(() => ds.filter(null as never)).toThrow(new TypeError('filter: fn must be a function, got null'));
    expect(meta(ds.filter(() => true))).toEqual([null, null, false, null]);
    expect(meta(ds.repeat().filter(() => true))).toEqual([Infinity, null, false, null]);
    expect(meta(ds.map((s) => s))).toEqual([6, 6, false, null]);
    expect(meta(ds.take(6))).toEqual([6, 6, false, null]);
    expect(meta(ds.take(5))).toEqual([5, null, false, null]);
    expect(meta(ds.take(7))).toEqual([6, 6, false, null]);
    expect(meta(generated(6).take(2))).toEqual([null, null, false, null]);
    expect(meta(ds.skip(0))).toEqual([6, 6, false, null]);
    expect(meta(ds.skip(1))).toEqual([5, null, false, null]);
    expect(meta(generated(6).skip(1))).toEqual([null, null, false, null]);
    expect(meta(ds.repeat(2))).toEqual([12, 12, false, null]);
    expect(meta(ds.repeat(0))).toEqual([0, 0, false, null]);
    expect(meta(ds.take(0).repeat())).toEqual([0, null, false, null]);
    // an empty set repeated without end holds no samples (not 0 · Infinity, NaN)
    expect(meta(Dataset.from([]).repeat())).toEqual([0, 0, false, null]);
    expect(meta(Dataset.from([]).batch(2).repeat())).toEqual([0, 0, true, 2]);
    expect(meta(generated(6).repeat(2))).toEqual([null, null, false, null]);
    expect(meta(ds.batch(4).repeat(2))).toEqual([4, 12, true, 4]);
    expect(meta(ds.prefetch())).toEqual([6, 6, false, null]);
    expect(meta(ds.cache())).toEqual([6, 6, false, null]);
    expect(await pass(ds.repeat(0))).toEqual([]);
    expect(await pass(ds.repeat(Infinity).take(7))).toEqual([0, 1, 2, 3, 4, 5, 0]);
    expect(await pass(ds.skip(0))).toEqual(range(6));
    expect(await pass(ds.skip(6))).toEqual([]);
    // take(0) reads nothing from its source
    let pulled = 0;
    const counting = Dataset.from(function* () { for (const k of range(5)) { pulled++; yield k; } });
    expect([await counting.take(0).toArray(), pulled]).toEqual([[], 0]);
    expect([await counting.take(2).toArray(), pulled]).toEqual([[0, 1], 2]);
    expect(() => ds.repeat(2.5)).toThrow(new RangeError('repeat(): count must be a non-negative integer, got 2.5'));
    expect(() => ds.take('1' as never)).toThrow(new RangeError("take(): n must be a non-negative integer, got the string '1'"));
    expect(() => ds.prefetch(1.5)).toThrow(new RangeError('prefetch(): k must be a positive integer, got 1.5'));
    await expect(ds.repeat(Infinity).toArray()).rejects.toThrow(
      new RangeError('toArray(): the dataset repeats without end; take(n) first'));
    // prefetch(k) of a source that ends: every element, then done
    expect(await Dataset.from(range(5)).prefetch().toArray()).toEqual(range(5));
    expect(await Dataset.from(range(2)).prefetch(8).toArray()).toEqual(range(2));
  });

  it('prefetch closes its source when the consumer stops early', async () => {
    for (const k of [1, 3]) {
      let closed = 0;
      const source = Dataset.from(async function* () {
        try {
          for (const i of range(10)) yield i;
        } finally {
          closed++;
        }
      });
      expect([await source.prefetch(k).take(2).toArray(), closed]).toEqual([[0, 1], 1]);
    }
  });

  it('prefetch(k) asks for k elements ahead, not more', async () => {
    let pulled = 0;
    const source = Dataset.from(async function* () { for (const k of range(10)) { pulled++; yield k; } });
    for (const k of [1, 3]) {
      pulled = 0;
      const it = source.prefetch(k)[Symbol.asyncIterator]();
      expect((await it.next()).value).toBe(0);
      // k asked for at the start, one more to refill the queue when the first was handed out; let them all run
      await new Promise((r) => setTimeout(r, 20));
      expect(pulled).toBe(k + 1);
      await it.return?.();
    }
  });

  it('shuffle with a buffer: the exact order of its definition, each pass continuing the generator', async () => {
    const items = range(12);
    for (const bufferSize of [1, 4, 12, 20]) {
      for (const source of [generated(12), Dataset.fromTensors(data(12).x, data(12).y)]) {
        if (bufferSize >= 12 && source.cardinality !== null) continue;  // tensors: the whole-set shuffle, below
        const ds = source.shuffle({ bufferSize, seed: 6 });
        const twin = new Random(6);
        expect(await pass(ds)).toEqual(bufferedOrder(items, bufferSize, twin));
        expect(await pass(ds)).toEqual(bufferedOrder(items, bufferSize, twin));
      }
    }
    // a buffer of 1 keeps the order
    expect(await pass(generated(5).shuffle({ bufferSize: 1 }))).toEqual(range(5));
    // the default seed is 0, the default buffer all of it
    expect(await pass(generated(12).shuffle())).toEqual(bufferedOrder(items, Infinity, new Random(0)));
    expect(() => generated(3).shuffle(null as never)).toThrow(new TypeError('shuffle() options must be an options object, got null'));
    expect(() => generated(3).shuffle({ seed: 'a' as never })).toThrow(
      new TypeError("shuffle(): seed must be a finite number, got the string 'a'"));
    expect(() => generated(3).shuffle({ bufferSize: 2.5 })).toThrow(
      new RangeError('shuffle(): bufferSize must be a positive integer, got 2.5'));
  });

  it('shuffle of tensors: whole-set (seeded permutations of the rows), or buffered when the buffer is smaller', async () => {
    const { x, y } = data(12);
    const ds = Dataset.fromTensors(x, y);
    // a buffer of the whole set or more is the permutation of the rows, re-shuffled each pass (as fit() shuffles)
    for (const opts of [{ seed: 6 }, { seed: 6, bufferSize: 12 }, { seed: 6, bufferSize: 50 }]) {
      const s = ds.shuffle(opts), rng = new Random(6), order = Int32Array.from(range(12));
      expect(await pass(s)).toEqual(Array.from(rng.shuffle(order)));
      expect(await pass(s)).toEqual(Array.from(rng.shuffle(order)));
    }
    expect(await pass(ds.shuffle())).toEqual(Array.from(new Random(0).shuffle(Int32Array.from(range(12)))));
    expect(await pass(ds.shuffle({ bufferSize: 11, seed: 6 }))).toEqual(bufferedOrder(range(12), 11, new Random(6)));
    // shuffling a shuffled set draws a buffered shuffle over the first one's order
    const twice = ds.shuffle({ seed: 1 }).shuffle({ seed: 2, bufferSize: 3 });
    const first = Array.from(new Random(1).shuffle(Int32Array.from(range(12))));
    expect(await pass(twice)).toEqual(bufferedOrder(first, 3, new Random(2)));
    expect(() => ds.shuffle(null as never)).toThrow(new TypeError('shuffle() options must be an options object, got null'));
    expect(() => ds.shuffle({ bufferSize: 0 })).toThrow(new RangeError('shuffle(): bufferSize must be a positive integer, got 0'));
    expect(() => ds.shuffle({ seed: null as never })).toThrow(new TypeError('shuffle(): seed must be a finite number, got null'));
  });

  it('split: the exact parts of its definition (floor of each fraction, the rest to the last) and the checks', async () => {
    const { x, y } = data(11);
    const ds = Dataset.fromTensors(x, y);
    const parts = ds.split([0.3, 0.3, 0.4], { seed: 4 });
    expect(parts.map((p) => meta(p))).toEqual([[3, 3, false, null], [3, 3, false, null], [5, 5, false, null]]);
    const order = Array.from(new Random(4).permutation(11));
    const want = [order.slice(0, 3), order.slice(3, 6), order.slice(6)].map((p) => [...p].sort((a, b) => a - b));
    expect(await Promise.all(parts.map(pass))).toEqual(want);
    // the default seed is 0
    const order0 = Array.from(new Random(0).permutation(11));
    expect(await pass(ds.split([0.5, 0.5])[0])).toEqual(order0.slice(0, 5).sort((a, b) => a - b));
    // batches: the count of batches, the samples unknown
    expect(meta(ds.batch(2).split([0.5, 0.5])[1])).toEqual([3, null, true, 2]);
    // an unknown size: each element to the part its own uniform draw falls in
    const drawn = generated(30).split([0.5, 0.25, 0.25], { seed: 8 });
    const r = new Random(8), bounds = [0.5, 0.75, 1];
    const expected: number[][] = [[], [], []];
    for (let i = 0; i < 30; i++) {
      const u = r.uniform();
      expected[bounds.findIndex((b) => u < b)].push(i);
    }
    expect(await Promise.all(drawn.map(pass))).toEqual(expected);
    expect(await pass(drawn[2])).toEqual(expected[2]);  // the same draws every pass
    expect(drawn.map((p) => meta(p))).toEqual([0, 1, 2].map(() => [null, null, false, null]));
    const msg = (v: string) => new RangeError(`split(): fractions must be an array of at least two numbers in (0, 1), got ${v}`);
    expect(() => ds.split([1])).toThrow(msg('an array of length 1'));
    expect(() => ds.split(0.5 as never)).toThrow(msg('0.5'));
    expect(() => ds.split([0, 1])).toThrow(msg('an array of length 2'));
    expect(() => ds.split([1, 0])).toThrow(msg('an array of length 2'));
    expect(() => ds.split([0.5, '0.5'] as never)).toThrow(msg('an array of length 2'));
    expect(() => ds.split([0.5, 0.4])).toThrow(new RangeError('split(): the fractions must sum to 1, got 0.9'));
    expect(() => ds.split([0.5, 0.5], null as never)).toThrow(new TypeError('split() options must be an options object, got null'));
    expect(() => ds.split([0.5, 0.5], { seed: NaN })).toThrow(new RangeError('split(): seed must be a finite number, got NaN'));
    // a sum off by rounding only is accepted
    expect(ds.split([0.1, 0.2, 0.7]).map((p) => p.cardinality)).toEqual([1, 2, 8]);
  });

  it('split: each fraction strictly inside (0, 1) even where the sum would pass; a draw equal to a bound is the next part', async () => {
    const ds = Dataset.fromTensors(data(4).x, data(4).y);
    const msg = (n: number) => new RangeError(`split(): fractions must be an array of at least two numbers in (0, 1), got an array of length ${n}`);
    // each of these sums to 1 within the rounding allowance (1e-9)
    expect(() => ds.split([1 - 1e-10])).toThrow(msg(1));
    expect(() => ds.split([-0.2, 0.6, 0.6])).toThrow(msg(3));
    expect(() => ds.split([0, 0.5, 0.5])).toThrow(msg(3));
    expect(() => ds.split([1, 1e-10])).toThrow(msg(2));
    // an unknown size: element 0 draws u; with fractions [u, 1 - u] the first bound is u itself, and u < u is false
    const u = new Random(3).uniform();
    const parts = generated(1).split([u, 1 - u], { seed: 3 });
    expect(await Promise.all(parts.map(pass))).toEqual([[], [0]]);
  });
  it('samples of tensors: x and y as rows without the batch axis; samples without targets batch into y null', async () => {
    const { x } = data(2);
    const rows = new Tensor([[1, 2], [3, 4]]);
    const samples = await Dataset.fromTensors(x, rows).toArray();
    const y = (s: Sample) => s.y as Tensor;
    expect(samples.map((s) => [s.x.shape, Array.from(s.x.data), y(s).shape, Array.from(y(s).data)])).toEqual(
      [[[3], [0, 0.25, 0.5], [2], [1, 2]], [[3], [1, 1.25, 1.5], [2], [3, 4]]]);
    const alone = await Dataset.fromTensors(x).toArray();
    expect(alone.map((s) => [Object.keys(s), s.x.shape, Array.from(s.x.data)])).toEqual(
      [[['x'], [3], [0, 0.25, 0.5]], [['x'], [3], [1, 1.25, 1.5]]]);
    const [b] = await Dataset.from([{ x: new Tensor([1]) }, { x: new Tensor([2]) }]).batch(2).toArray();
    expect([b.y, Array.from(b.x.data), b.size]).toEqual([null, [1, 2], 2]);
    await expect(Dataset.from([{ x: new Tensor([1]) }, null] as never as Sample[]).batch(2).toArray()).rejects.toThrow(
      new TypeError('batch(): sample 1 (batch 0, row 1) must be an object { x, y? }, got null'));
    // batches of one number per sample, and without a y at all
    const [c] = await Dataset.from([{ x: new Tensor([1, 2, 3]) }], { batched: true }).toArray();
    expect([c.x.shape, c.y, c.size]).toEqual([[3], null, 3]);
    expect(() => Dataset.fromTensors(x).batch(2, null as never)).toThrow(
      new TypeError('batch() options must be an options object, got null'));
    // a whole-set shuffle of tensors checks its buffer size too
    expect(() => Dataset.fromTensors(x).shuffle({ bufferSize: 50.5 })).toThrow(
      new RangeError('shuffle(): bufferSize must be a positive integer, got 50.5'));
    expect(() => Dataset.fromTensors(x).shuffle({ bufferSize: 'all' as never })).toThrow(
      new RangeError("shuffle(): bufferSize must be a positive integer, got the string 'all'"));
  });
});

describe('Dataset.fromIdx refuses a file, and says why', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nodenn-idxc-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const be32 = (...v: number[]) => {
    const b = Buffer.alloc(4 * v.length);
    v.forEach((n, i) => b.writeUInt32BE(n, 4 * i));
    return b;
  };
  const images = (count: number, rows: number, cols: number) => Buffer.concat([be32(0x803, count, rows, cols),
    Buffer.from(range(count * rows * cols).map((i) => (i * 5) % 256))]);
  const labels = (count: number) =>
    Buffer.concat([be32(0x801, count), Buffer.from(range(count).map((i) => (i * 3) % 10))]);
  const write = (name: string, bytes: Buffer) => {
    const p = join(dir, name);
    writeFileSync(p, bytes);
    return p;
  };
  const reason = (p: Promise<unknown>) => p.then(() => 'accepted', (e: unknown) =>
    (e instanceof DataError ? `${e.code}: ${e.message}` : `${(e as Error).name}: ${(e as Error).message}`));

  it('the header: gzip, too short, a bad magic number, empty images, sizes that disagree, counts', async () => {
    const p = write('gz2', Buffer.from([0x1f, 0x8b]));
    expect(await reason(Dataset.fromIdx(p))).toBe('BAD_MAGIC: a gzip file: Dataset.fromIdx streams raw idx files ' +
      `(gunzip it first, or use loadMnist) (${p})`);
    // a gzip file starts 1f 8b: either byte alone is a bad magic number
    const g1 = write('g1', be32(0x1f000803, 1, 1, 1)), g2 = write('g2', be32(0x008b0803, 1, 1, 1));
    expect(await reason(Dataset.fromIdx(g1))).toBe(`BAD_MAGIC: bad idx magic number 0x1f000803, expected 0x00000803 (${g1})`);
    expect(await reason(Dataset.fromIdx(g2))).toBe(`BAD_MAGIC: bad idx magic number 0x008b0803, expected 0x00000803 (${g2})`);
    // the magic number alone: the header is short, not the magic number
    const four = write('four', be32(0x803));
    expect(await reason(Dataset.fromIdx(four))).toBe(`TRUNCATED: file is 4 bytes, shorter than its 16-byte idx header (${four})`);
    const q = write('one', Buffer.from([0x1f]));
    expect(await reason(Dataset.fromIdx(q))).toBe(`TRUNCATED: file is 1 bytes, shorter than the idx magic number (${q})`);
    const e = write('empty', Buffer.alloc(0));
    expect(await reason(Dataset.fromIdx(e))).toBe(`TRUNCATED: file is 0 bytes, shorter than the idx magic number (${e})`);
    const m = write('magic', be32(0x801, 3, 3, 3));
    expect(await reason(Dataset.fromIdx(m))).toBe(`BAD_MAGIC: bad idx magic number 0x00000801, expected 0x00000803 (${m})`);
    const big = write('bigmagic', be32(0xff000803, 1, 1, 1));
    expect(await reason(Dataset.fromIdx(big))).toBe(`BAD_MAGIC: bad idx magic number 0xff000803, expected 0x00000803 (${big})`);
    const h = write('head', be32(0x803, 1, 1));
    expect(await reason(Dataset.fromIdx(h))).toBe(`TRUNCATED: file is 12 bytes, shorter than its 16-byte idx header (${h})`);
    const t = write('trunc', images(2, 2, 3).subarray(0, 16 + 11));
    expect(await reason(Dataset.fromIdx(t))).toBe('TRUNCATED: truncated: the header announces 2x2x3 bytes of data (28 bytes in ' +
      `all) but the file has 27 (${t})`);
    const l = write('long2', Buffer.concat([images(2, 2, 3), Buffer.from([0, 0, 0])]));
    expect(await reason(Dataset.fromIdx(l))).toBe(`TRAILING_BYTES: 3 unexpected bytes after the 2x2x3 data the header announces (${l})`);
    const z = write('zero', be32(0x803, 4, 0, 5));
    expect(await reason(Dataset.fromIdx(z))).toBe(`BAD_DIMENSIONS: images of 0x5 pixels (${z})`);
    const z2 = write('zero2', be32(0x803, 4, 5, 0));
    expect(await reason(Dataset.fromIdx(z2))).toBe(`BAD_DIMENSIONS: images of 5x0 pixels (${z2})`);
    const img = write('img', images(3, 2, 2)), lbl = write('lbl', labels(2));
    expect(await reason(Dataset.fromIdx(img, lbl))).toBe(`COUNT_MISMATCH: 2 labels for the 3 images of ${img} (${lbl})`);
    const asLabels = write('imgaslabels', images(3, 2, 2));
    expect(await reason(Dataset.fromIdx(img, asLabels))).toBe(
      `BAD_MAGIC: bad idx magic number 0x00000803, expected 0x00000801 (${asLabels})`);
    const lshort = write('lshort', labels(3).subarray(0, 10));
    expect(await reason(Dataset.fromIdx(img, lshort))).toBe('TRUNCATED: truncated: the header announces 3 bytes of data ' +
      `(11 bytes in all) but the file has 10 (${lshort})`);
    expect(await reason(Dataset.fromIdx(img, join(dir, 'nolabels')))).toBe(`NOT_FOUND: no such file (${join(dir, 'nolabels')})`);
    // not ENOENT: the error as the system gives it
    expect(await reason(Dataset.fromIdx(join(img, 'below')))).toMatch(/^Error: ENOTDIR/);
  });

  it('the options and the path', async () => {
    const img = write('img3', images(2, 1, 1));
    expect(await reason(Dataset.fromIdx(img, undefined, null as never))).toBe(
      'TypeError: Dataset.fromIdx options must be an options object, got null');
    expect(await reason(Dataset.fromIdx(img, undefined, { dtype: 'int32' as never }))).toBe(
      "TypeError: dtype must be 'float32' or 'float64', got the string 'int32'");
    expect(await reason(Dataset.fromIdx(img, undefined, { normalize: 1 as never }))).toBe('TypeError: normalize must be true or false, got 1');
    expect(await reason(Dataset.fromIdx(img, undefined, { flatten: 0 as never }))).toBe('TypeError: flatten must be true or false, got 0');
    expect(await reason(Dataset.fromIdx(img, undefined, { chunk: 1.5 }))).toBe('RangeError: chunk must be a positive integer, got 1.5');
    expect(await reason(Dataset.fromIdx(''))).toBe("TypeError: the idx file path must be a non-empty string, got the string ''");
    expect(await reason(Dataset.fromIdx(5 as never))).toBe('TypeError: the idx file path must be a non-empty string, got 5');
    expect(await reason(Dataset.fromIdx(img, 5 as never))).toBe('TypeError: the idx file path must be a non-empty string, got 5');
  });

  it('the values: every chunk size, the default scaling and shape, float32 by default', async () => {
    const img = write('img4', images(5, 2, 3)), lbl = write('lbl4', labels(5));
    const want = range(5).map((k) => range(6).map((j) => ((6 * k + j) * 5) % 256));
    for (const chunk of [1, 2, 4, 5, 6, undefined]) {
      const samples = await (await Dataset.fromIdx(img, lbl, chunk === undefined ? {} : { chunk })).toArray();
      expect(samples.map((s) => s.y)).toEqual(range(5).map((i) => (i * 3) % 10));
      expect(samples.map((s) => [s.x.dtype, s.x.shape])).toEqual(range(5).map(() => ['float32', [1, 2, 3]]));
      expect(samples.map((s) => Array.from(s.x.data))).toEqual(want.map((r) => r.map((v) => Math.fround(v / 255))));
    }
    const ds = await Dataset.fromIdx(img, undefined, { normalize: true, flatten: false, dtype: 'float32' });
    expect(meta(ds)).toEqual([5, 5, false, null]);
    expect((await ds.toArray()).map((s) => 'y' in s)).toEqual([false, false, false, false, false]);
  });

  it('a file cut short after the dataset was made: TRUNCATED at the byte where it ended, while reading', async () => {
    const img = write('shrinks', images(4, 2, 2)), lbl = write('lshrinks', labels(4));
    const ds = await Dataset.fromIdx(img, lbl, { chunk: 2 });
    truncateSync(img, 16 + 4 * 2 + 1);
    expect(await reason(ds.toArray())).toBe(`TRUNCATED: the file ended at byte 25 while being read (${img})`);
    writeFileSync(img, images(4, 2, 2));
    truncateSync(lbl, 8 + 3);
    expect(await reason(ds.toArray())).toBe(`TRUNCATED: the file ended at byte 11 while being read (${lbl})`);
  });
});
