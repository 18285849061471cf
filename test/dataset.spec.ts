// nn.data.Dataset (src/data/dataset.ts): sources (tensors, iterables and generators, idx files streamed from disk),
// transformations (map, filter, shuffle, batch, prefetch, take, skip, repeat, split, cache), and fit()/evaluate() of
// datasets on every backend.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { BatchIterator, type Batch } from '../src/data/batches';
import { Dataset, type Sample } from '../src/data/dataset';
import { DataError } from '../src/data/mnist';
import { Conv2D, Dense, Flatten, MaxPool2D, ReLU, Tanh } from '../src/layers/index';
import { Sequential } from '../src/network';
import { Adam } from '../src/optimizers';
import { Tensor } from '../src/tensor';
import { data, pass, range } from './dataset-fixtures';
import { backends, expectBitwiseEqual, randn, useBackend } from './helpers';

describe('Dataset sources', () => {
  it('fromTensors: one sample per row, with its label or target row; checks x and y', async () => {
    const { x, y } = data(4);
    const samples = await Dataset.fromTensors(x, y).toArray();
    expect(samples.map((s) => [Array.from(s.x.data), s.x.shape, s.y])).toEqual(
      range(4).map((k) => [[k, k + 0.25, k + 0.5], [3], k % 3]));
    const rows = await Dataset.fromTensors(x, new Tensor([[1, 2], [3, 4], [5, 6], [7, 8]])).toArray();
    expect(rows.map((s) => Array.from((s.y as Tensor).data))).toEqual([[1, 2], [3, 4], [5, 6], [7, 8]]);
    expect((await Dataset.fromTensors(x).toArray()).map((s) => s.y)).toEqual([undefined, undefined, undefined, undefined]);
    expect((await Dataset.fromTensors(x, [2, 1, 0, 2]).toArray()).map((s) => s.y)).toEqual([2, 1, 0, 2]);
    expect(Dataset.fromTensors(x, y).cardinality).toBe(4);
    expect(() => Dataset.fromTensors([1, 2] as unknown as Tensor)).toThrow(
      new TypeError('Dataset.fromTensors: x must be a Tensor, got an array of length 2'));
    expect(() => Dataset.fromTensors(x, y.subarray(1))).toThrow(new RangeError('BatchIterator: y has 3 labels but x has 4 samples'));
    expect(() => Dataset.fromTensors(x, [0, 1.5, 0, 0])).toThrow(
      new TypeError('Dataset.fromTensors: y[1] must be an integer label, got 1.5'));
  });

  it('from: arrays, iterables, generator functions (called once per pass), async generators', async () => {
    const { x } = data(3);
    const samples: Sample[] = range(3).map((k) => ({ x: new Tensor(x.data.slice(3 * k, 3 * k + 3), [3]), y: k }));
    expect(await pass(Dataset.from(samples))).toEqual([0, 1, 2]);
    expect(Dataset.from(samples).cardinality).toBe(3);
    let calls = 0;
    const gen = Dataset.fromGenerator(function* () { calls++; yield* samples; });
    expect(gen.cardinality).toBeNull();
    expect(await pass(gen)).toEqual([0, 1, 2]);
    expect(await pass(gen)).toEqual([0, 1, 2]);
    expect(calls).toBe(2);
    const asyncGen = Dataset.from(async function* () {
      for (const s of samples) {
        await new Promise((r) => setTimeout(r, 1));
        yield s;
      }
    });
    expect(await pass(asyncGen)).toEqual([0, 1, 2]);
    expect(await pass(Dataset.from(new Set(samples)))).toEqual([0, 1, 2]);
    expect(() => Dataset.from(42 as unknown as Sample[])).toThrow(new TypeError('Dataset.from: source must be an iterable, ' +
      'an async iterable or a function returning one, got 42'));
    expect(() => Dataset.fromGenerator(samples as unknown as () => Sample[])).toThrow(
      new TypeError('Dataset.fromGenerator: fn must be a function, got an array of length 3'));
    await expect(Dataset.from((() => 5) as unknown as () => Sample[]).toArray()).rejects.toThrow(
      new TypeError('Dataset.from: the function must return an iterable, got 5'));
  });

  it('from(..., { batched: true }): batches checked and normalized (array labels, nested target arrays)', async () => {
    const batches = await Dataset.from([
      { x: Tensor.zeros([2, 3]), y: [0, 1] },
      { x: Tensor.zeros([1, 3]), y: [[0.5, 0.5]] },
    ], { batched: true }).toArray();
    expect(batches[0].y).toEqual(new Int32Array([0, 1]));
    expect((batches[1].y as Tensor).shape).toEqual([1, 2]);
    expect(batches.map((b) => [b.size, b.index])).toEqual([[2, 0], [1, 1]]);
    await expect(Dataset.from([{ x: Tensor.zeros([2, 3]), y: [0, 1] }, { x: Tensor.zeros([4, 3]), y: new Int32Array(3) }],
      { batched: true }).toArray()).rejects.toThrow(new RangeError('batch 1: y holds 3 targets but x holds 4 samples'));
    await expect(Dataset.from([5], { batched: true }).toArray()).rejects.toThrow(
      new TypeError('batch 0 must be an object { x, y? }, got 5'));
  });
});

describe('Dataset transformations', () => {
  it('map (sync or async, with the index), filter, take, skip, repeat, and their cardinality', async () => {
    const { x, y } = data(6);
    const ds = Dataset.fromTensors(x, y);
    const doubled = ds.map(async (s, i) => ({ x: new Tensor(Array.from(s.x.data, (v) => 2 * v + i * 0)), y: s.y }));
    expect(await pass(doubled)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(doubled.cardinality).toBe(6);
    expect(await ds.map((_, i) => i).toArray()).toEqual([0, 1, 2, 3, 4, 5]);
    const even = ds.filter((s) => s.y === 0);
    expect([await pass(even), even.cardinality]).toEqual([[0, 3], null]);
    expect([await pass(ds.take(2)), ds.take(2).cardinality, ds.take(10).cardinality]).toEqual([[0, 1], 2, 6]);
    expect([await pass(ds.skip(4)), ds.skip(4).cardinality, ds.skip(9).cardinality]).toEqual([[4, 5], 2, 0]);
    expect([await pass(ds.take(2).repeat(3)), ds.take(2).repeat(3).cardinality]).toEqual([[0, 1, 0, 1, 0, 1], 6]);
    const forever = ds.repeat();
    expect([forever.cardinality, await pass(forever.take(8))]).toEqual([Infinity, [0, 1, 2, 3, 4, 5, 0, 1]]);
    await expect(forever.toArray()).rejects.toThrow(new RangeError('toArray(): the dataset repeats without end; take(n) first'));
    expect(await pass(ds.take(0).repeat())).toEqual([]);  // an empty dataset repeated is empty, not a hang
    expect(() => ds.map(5 as unknown as () => Sample)).toThrow(new TypeError('map: fn must be a function, got 5'));
    expect(() => ds.take(-1)).toThrow(new RangeError('take(): n must be a non-negative integer, got -1'));
    expect(() => ds.skip(1.5)).toThrow(new RangeError('skip(): n must be a non-negative integer, got 1.5'));
    expect(() => ds.repeat(-2)).toThrow(new RangeError('repeat(): count must be a non-negative integer, got -2'));
  });

  it('shuffle of tensors: the batch iterator\'s seeded order, a new one each pass, batches of their own', async () => {
    const { x, y } = data(10);
    const shuffled = Dataset.fromTensors(x, y).shuffle({ seed: 3 }).batch(4);
    const it = new BatchIterator(x, y, { batchSize: 4, shuffle: true, seed: 3 });
    for (let epoch = 0; epoch < 3; epoch++) {
      const expected: number[] = [];
      for (const b of it.epoch()) expected.push(...Array.from(b.samples));
      expect(await pass(shuffled)).toEqual(expected);
    }
    // one sample at a time, the same orders
    const samples = Dataset.fromTensors(x, y).shuffle({ seed: 3 });
    const inBatches = Dataset.fromTensors(x, y).shuffle({ seed: 3 }).batch(4);
    expect([await pass(samples), await pass(samples)]).toEqual([await pass(inBatches), await pass(inBatches)]);
    const again = Dataset.fromTensors(x, y).shuffle({ seed: 3 }).batch(4);
    expect(await pass(again)).not.toEqual(await pass(Dataset.fromTensors(x, y).shuffle({ seed: 4 }).batch(4)));
    const batches = await shuffled.toArray();  // kept together: each holds its own rows
    expect(batches.map((b) => b.size)).toEqual([4, 4, 2]);
    expect(new Set(batches.map((b) => b.x.data.buffer)).size).toBe(3);
    for (const b of batches) for (let i = 0; i < b.size; i++) expect((b.y as Int32Array)[i]).toBe(b.x.data[3 * i] % 3);
  });

  it('shuffle with a buffer: a seeded permutation in which no element comes out before bufferSize more have gone in', async () => {
    const { x, y } = data(12);
    const ds = Dataset.fromTensors(x, y).shuffle({ bufferSize: 3, seed: 9 });
    const first = await pass(ds), second = await pass(ds);
    for (const order of [first, second]) {
      expect([...order].sort((a, b) => a - b)).toEqual(range(12));
      order.forEach((k, i) => expect(k).toBeLessThanOrEqual(i + 3));
    }
    expect(second).not.toEqual(first);
    const twin = Dataset.fromTensors(x, y).shuffle({ bufferSize: 3, seed: 9 });
    expect([await pass(twin), await pass(twin)]).toEqual([first, second]);
    expect(() => ds.shuffle({ bufferSize: 0 })).toThrow(new RangeError('shuffle(): bufferSize must be a positive integer, got 0'));
    expect(() => ds.shuffle({ seed: Infinity })).toThrow(new RangeError('shuffle(): seed must be a finite number, got Infinity'));
  });

  it('batch of samples: stacked x, labels or target rows, the last batch partial or dropped, checked shapes', async () => {
    const samples: Sample[] = range(5).map((k) => ({ x: new Tensor([k, k, k]), y: new Tensor([k, -k]) }));
    const batches = await Dataset.from(samples).batch(2).toArray();
    expect(batches.map((b) => [b.x.shape, (b.y as Tensor).shape, b.index])).toEqual([[[2, 3], [2, 2], 0], [[2, 3], [2, 2], 1],
      [[1, 3], [1, 2], 2]]);
    expect(Array.from((batches[1].y as Tensor).data)).toEqual([2, -2, 3, -3]);
    expect(Dataset.from(samples).batch(2).cardinality).toBe(3);
    const dropped = Dataset.from(samples).batch(2, { dropRemainder: true });
    expect([dropped.cardinality, (await dropped.toArray()).length]).toEqual([2, 2]);
    const labelled = await Dataset.from(range(3).map((k) => ({ x: new Tensor([k]), y: k }))).batch(3).toArray();
    expect(labelled[0].y).toEqual(new Int32Array([0, 1, 2]));
    await expect(Dataset.from([{ x: new Tensor([1, 2]) }, { x: new Tensor([1]) }]).batch(2).toArray()).rejects.toThrow(
      new RangeError('batch(): sample 1 (batch 0, row 1) has x of shape [1], the first of the batch [2]'));
    await expect(Dataset.from([{ x: new Tensor([1]), y: 1 }, { x: new Tensor([1]), y: 0.5 }]).batch(2).toArray()).rejects.toThrow(
      new TypeError('batch(): sample 1 (batch 0, row 1) has y 0.5, but the first of the batch has an integer label'));
    expect(() => Dataset.from(samples).batch(0)).toThrow(new RangeError('batch(): n must be a positive integer, got 0'));
    expect(() => Dataset.from(samples).batch(2).batch(2)).toThrow(new TypeError('batch(): the elements are batches already'));
  });

  it('prefetch: the same elements in order, read ahead, errors at their place, no stray rejection on an early stop', async () => {
    let pulled = 0;
    const source = Dataset.from(async function* () {
      for (let k = 0; k < 6; k++) {
        pulled++;
        if (k === 4) throw new Error('source failed at 4');
        yield k;
      }
    });
    const seen: number[] = [];
    let pulledAtFirst = -1;
    await expect((async () => {
      for await (const k of source.prefetch(2)) {
        if (seen.length === 0) pulledAtFirst = pulled;
        seen.push(k);
      }
    })()).rejects.toThrow('source failed at 4');
    expect(seen).toEqual([0, 1, 2, 3]);
    expect(pulledAtFirst).toBe(3);  // the first element and two ahead
    const early: number[] = [];
    for await (const k of Dataset.from(range(10)).prefetch(3)) {
      early.push(k);
      if (k === 1) break;
    }
    expect(early).toEqual([0, 1]);
    expect(() => source.prefetch(0)).toThrow(new RangeError('prefetch(): k must be a positive integer, got 0'));
  });

  it('split: exact seeded parts of a known size, disjoint and complete; per-element draws for an unknown size', async () => {
    const { x, y } = data(20);
    const [train, val] = Dataset.fromTensors(x, y).split([0.75, 0.25], { seed: 1 });
    const a = await pass(train), b = await pass(val);
    expect([a.length, b.length, train.cardinality, val.cardinality]).toEqual([15, 5, 15, 5]);
    expect([...a, ...b].sort((p, q) => p - q)).toEqual(range(20));
    expect(await pass(Dataset.fromTensors(x, y).split([0.75, 0.25], { seed: 1 })[1])).toEqual(b);
    expect(await pass(Dataset.fromTensors(x, y).split([0.75, 0.25], { seed: 2 })[1])).not.toEqual(b);
    expect(await pass(val)).toEqual(b);  // every pass the same part
    const unknown = Dataset.fromTensors(x, y).filter(() => true).split([0.5, 0.3, 0.2], { seed: 5 });
    const parts = await Promise.all(unknown.map(pass));
    expect(parts.flat().sort((p, q) => p - q)).toEqual(range(20));
    expect(unknown.map((d) => d.cardinality)).toEqual([null, null, null]);
    expect(() => Dataset.fromTensors(x, y).split([0.5, 0.6])).toThrow(new RangeError('split(): the fractions must sum to 1, got 1.1'));
    expect(() => Dataset.fromTensors(x, y).split([1])).toThrow(RangeError);
    expect(() => Dataset.fromTensors(x, y).repeat().split([0.5, 0.5])).toThrow(
      new RangeError('split(): the dataset repeats without end; split before repeat()'));
  });

  it('cache: the first complete pass is kept and replayed; a pass left unfinished keeps nothing', async () => {
    let calls = 0;
    const ds = Dataset.from(function* () { calls++; yield* [1, 2, 3]; }).cache();
    expect(await ds.take(2).toArray()).toEqual([1, 2]);
    expect(await ds.toArray()).toEqual([1, 2, 3]);
    expect(await ds.toArray()).toEqual([1, 2, 3]);
    expect(calls).toBe(2);
  });
});

describe('Dataset.fromIdx', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nodenn-idx-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const u32 = (...v: number[]) => Buffer.from(new Uint32Array(v).map((n) => ((n & 0xff) << 24) | ((n & 0xff00) << 8)
    | ((n >>> 8) & 0xff00) | (n >>> 24)).buffer);
  const images = (count: number, rows: number, cols: number) => Buffer.concat([u32(0x803, count, rows, cols),
    Buffer.from(range(count * rows * cols).map((i) => (i * 7) % 256))]);
  const labels = (count: number) => Buffer.concat([u32(0x801, count), Buffer.from(range(count).map((i) => i % 10))]);
  const write = (name: string, data: Buffer) => {
    writeFileSync(join(dir, name), data);
    return join(dir, name);
  };

  it('streams images and labels in chunks: scaled, shaped, in order, every pass', async () => {
    const img = write('img', images(7, 2, 3)), lbl = write('lbl', labels(7));
    const ds = await Dataset.fromIdx(img, lbl, { chunk: 3 });
    expect(ds.cardinality).toBe(7);
    for (let p = 0; p < 2; p++) {
      const samples = await ds.toArray();
      expect(samples.map((s) => s.y)).toEqual(range(7));
      expect(samples[5].x.shape).toEqual([1, 2, 3]);
      expect(Array.from(samples[5].x.data)).toEqual(range(6).map((j) => Math.fround(((30 + j) * 7 % 256) / 255)));
    }
    const raw = await (await Dataset.fromIdx(img, undefined, { normalize: false, flatten: true, dtype: 'float64' })).toArray();
    expect([raw[1].x.shape, raw[1].x.dtype, raw[1].y, Array.from(raw[1].x.data)]).toEqual(
      [[6], 'float64', undefined, range(6).map((j) => ((6 + j) * 7) % 256)]);
  });

  it('checks the files when the dataset is made: magic, size, counts, gzip', async () => {
    const img = write('img2', images(4, 2, 2));
    const code = async (p: Promise<unknown>) => p.then(() => 'none', (e: unknown) => (e instanceof DataError ? e.code : String(e)));
    expect(await code(Dataset.fromIdx(img, write('lbl2', labels(3))))).toBe('COUNT_MISMATCH');
    expect(await code(Dataset.fromIdx(write('short', images(4, 2, 2).subarray(0, 30))))).toBe('TRUNCATED');
    expect(await code(Dataset.fromIdx(write('long', Buffer.concat([images(4, 2, 2), Buffer.from([1])]))))).toBe('TRAILING_BYTES');
    expect(await code(Dataset.fromIdx(write('lblasimg', labels(4))))).toBe('BAD_MAGIC');
    expect(await code(Dataset.fromIdx(write('gz', gzipSync(images(4, 2, 2)))))).toBe('BAD_MAGIC');
    expect(await code(Dataset.fromIdx(join(dir, 'missing')))).toBe('NOT_FOUND');
    await expect(Dataset.fromIdx(img, undefined, { chunk: 0 })).rejects.toThrow(new RangeError('chunk must be a positive integer, got 0'));
  });
});

describe.each(backends)('fit and evaluate on datasets on $label', (bc) => {
  beforeEach(() => useBackend(bc));
  const mlp = () => new Sequential([new Dense(3, 8), new Tanh(), new Dense(8, 3)], { seed: 2 });

  it('fit(dataset) in order equals fit(x, y) unshuffled, bit for bit, with validation data as a dataset or tensors', async () => {
    const x = randn([21, 3], 4).astype('float32'), y = Int32Array.from({ length: 21 }, (_, k) => (k * 5) % 3);
    const a = mlp(), b = mlp(), c = mlp();
    const ha = await a.fit(x, y, { epochs: 3, batchSize: 5, shuffle: false, optimizer: new Adam({ lr: 0.05 }),
      validationData: [x, y], metrics: ['f1'] });
    const ds = Dataset.fromTensors(x, y);
    const hb = await b.fit(ds.batch(5), { epochs: 3, optimizer: new Adam({ lr: 0.05 }), validationData: ds.batch(1000),
      metrics: ['f1'] });
    const hc = await c.fit(ds.batch(5), { epochs: 3, optimizer: new Adam({ lr: 0.05 }), validationData: [x, y], metrics: ['f1'] });
    const hd = await mlp().fit(x, y, { epochs: 3, batchSize: 5, shuffle: false, optimizer: new Adam({ lr: 0.05 }),
      validationData: ds.batch(1000), metrics: ['f1'] });
    expect(hb).toEqual(ha);
    expect(hc).toEqual(ha);
    expect(hd).toEqual(ha);
    for (const net of [b, c]) {
      Object.entries(net.stateDict()).forEach(([k, t]) => expectBitwiseEqual(t.data, a.stateDict()[k].data));
    }
    expect(await b.evaluate(ds.batch(1000), { metrics: ['f1'] })).toEqual(a.evaluate(x, y, { metrics: ['f1'] }));
    const parts = await b.evaluate(ds.batch(4));
    expect(parts.loss).toBeCloseTo(a.evaluate(x, y).loss, 5);
    expect(parts.accuracy).toBe(a.evaluate(x, y).accuracy);
  });

  it('fit(dataset) of a generator with stepsPerEpoch, a shuffle buffer and prefetch; a CNN on streamed samples', async () => {
    const x = randn([16, 3], 7).astype('float32');
    const gen = Dataset.from(function* () {
      for (let k = 0; k < 16; k++) yield { x: new Tensor(x.data.slice(3 * k, 3 * k + 3), [3]), y: k % 3 };
    });
    const net = mlp();
    let batches = 0;
    const h = await net.fit(gen.shuffle({ bufferSize: 8, seed: 1 }).batch(4).prefetch(2).repeat(), {
      epochs: 3, stepsPerEpoch: 3, onBatchEnd: () => { batches++; },
    });
    expect([batches, h.loss.length, h.loss.every(Number.isFinite)]).toEqual([9, 3, true]);
    const cnn = new Sequential([new Conv2D(1, 2, 3, { padding: 1 }), new ReLU(), new MaxPool2D(2), new Flatten(),
      new Dense(2 * 2 * 2, 3)], { seed: 1 });
    const images = Dataset.from(function* () {
      for (let k = 0; k < 10; k++) yield { x: randn([1, 4, 4], k).astype('float32'), y: k % 3 };
    });
    const hist = await cnn.fit(images.batch(4), { epochs: 2, stepsPerEpoch: 3 });
    expect(hist.loss.length).toBe(2);
    expect((await cnn.evaluate(images.batch(5))).loss).toBeGreaterThan(0);
  });

  it('refuses what a dataset cannot mean, naming the batch of a bad label', async () => {
    const { x, y } = data(9);
    const ds = Dataset.fromTensors(x, y);
    const net = mlp();
    await expect(net.fit(ds as unknown as Dataset<Batch>)).rejects.toThrow(new TypeError('fit(): the dataset yields single samples; batch them first: ' +
      'dataset.batch(32) (or, for a source of batches, Dataset.from(source, { batched: true }))'));
    await expect(net.fit(ds.batch(3), { batchSize: 3 })).rejects.toThrow(
      new TypeError('fit(): batchSize is for tensors; a dataset does it itself: dataset.batch(n)'));
    await expect(net.fit(ds.batch(3), { shuffle: true })).rejects.toThrow(
      new TypeError('fit(): shuffle is for tensors; a dataset does it itself: dataset.shuffle({ seed })'));
    await expect(net.fit(ds.filter(() => true).batch(3))).rejects.toThrow(new RangeError("fit(): the dataset's number of " +
      'batches is unknown (a generator, or filter()): pass fit(dataset, { stepsPerEpoch }) to say how many batches an epoch is'));
    await expect(net.fit(ds.batch(3).repeat())).rejects.toThrow(/is infinite \(repeat\(\)\)/);
    await expect(net.fit(x, y, { stepsPerEpoch: 2 })).rejects.toThrow(TypeError);
    const bad = Dataset.fromTensors(x, Int32Array.from([0, 1, 2, 0, 1, 2, 0, 7, 1]));
    const before = net.stateDict()['0.weight'].data.slice();
    await expect(net.fit(bad.batch(3))).rejects.toThrow(new RangeError(
      "batch 2: y[1] = 7 is not a class of the network's 3 outputs: labels must be integers in [0, 3)"));
    expect(net.stateDict()['0.weight'].data).not.toEqual(before);  // batches 0 and 1 trained: checked as they come
    await expect(net.fit(Dataset.fromTensors(x).batch(3))).rejects.toThrow(
      new TypeError('fit(): batch 0 has no targets (y): training and evaluating need { x, y } batches'));
    await expect(net.evaluate(ds.batch(3).repeat())).rejects.toThrow(
      new RangeError('evaluate(): the dataset repeats without end: take(n) the batches to evaluate on'));
    await expect(net.evaluate(ds.batch(3).take(0))).rejects.toThrow(new RangeError('evaluate(): the dataset yielded no samples'));
    // nothing left running: a second fit may start
    expect((await net.fit(ds.batch(3))).loss.length).toBe(1);
  });
});
