// The next batch's loading and augmentation overlap with training the current one: an augmentation's async() form
// (the kernels queued off the main thread on native) gives the same bits as the synchronous one, fit() requests
// batch i + 1 before it trains batch i (counted, not timed), and training with the overlap on and off ends with the
// very same weights. Also fit()'s prefetch option and Dataset.fromIdx's read-ahead of the next chunk.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { getBackend } from '../src/backend/index';
import { augmentedBatches, buildModel } from '../src/cli';
import { augmentation } from '../src/data/augment';
import type { Batch } from '../src/data/batches';
import { Dataset } from '../src/data/dataset';
import { softmaxCrossEntropy } from '../src/losses';
import { Dense, ReLU, Sequential } from '../src/index';
import { Adam } from '../src/optimizers';
import { Random } from '../src/random';
import { Tensor } from '../src/tensor';
import { backends, expectBitwiseEqual, useBackend } from './helpers';

/** N images (N, 1, 28, 28) of a bright blob off the center, with labels 0..9 by where the blob is. */
function blobs(N: number, seed: number): { x: Tensor; y: Int32Array } {
  const x = Tensor.zeros([N, 1, 28, 28]), y = new Int32Array(N), r = new Random(seed);
  for (let n = 0; n < N; n++) {
    const cy = 6 + r.int(16), cx = 6 + r.int(16);
    y[n] = (Math.floor((cy - 6) / 8) * 5 + Math.floor((cx - 6) / 4)) % 10;
    for (let h = 0; h < 28; h++) for (let w = 0; w < 28; w++) {
      x.data[(n * 28 + h) * 28 + w] = Math.max(0, 1 - ((h - cy) ** 2 + (w - cx) ** 2) / 20);
    }
  }
  return { x, y };
}

const recipes = {
  affine: [{ op: 'randomAffine', degrees: 8, scale: [0.95, 1.05], translate: [0.08, 0.08], shear: 3 }],
  chain: [{ op: 'randomCrop', padding: 2 }, { op: 'randomFlip' }, { op: 'randomTranslate', maxShift: 1 },
    { op: 'randomAffine', degrees: 5 }, { op: 'normalize', mean: 0.2, std: 0.3 }],
} as const;

describe.each(backends)('overlap on $label', (bc) => {
  beforeEach(() => useBackend(bc));

  it('async() queues the kernels off the main thread on native and gives the bits of the synchronous form', async () => {
    expect(getBackend().async === undefined).toBe(bc.backend === 'ts');
    const { x } = blobs(40, 1);
    for (const [name, steps] of Object.entries(recipes)) {
      for (const inPlace of [false, true]) {
        const augment = augmentation(steps, { inPlace });
        const sync = new Random(7), queued = new Random(7);
        const expected = [0, 1, 2].map(() => augment(inPlace ? x.clone() : x, sync));
        // three calls before any is awaited: each draws at its call, and they run in the order made
        const copies = [0, 1, 2].map(() => (inPlace ? x.clone() : x));
        const got = await Promise.all(copies.map((c) => augment.async(c, queued)));
        got.forEach((t, i) => {
          expect(t.shape, `${name} ${i}`).toEqual([40, 1, 28, 28]);
          expectBitwiseEqual(t.data, expected[i].data);
        });
        expect(queued.nextUint32()).toBe(sync.nextUint32());
        expect(Array.from(x.data.subarray(0, 784)).some((v) => v > 0)).toBe(true);  // the batch given, unchanged
      }
    }
  });

  it('async() of a recipe with a function step computes at once, drawing in the same order', async () => {
    const { x } = blobs(8, 2);
    const steps = [{ op: 'randomFlip' } as const, (b: Tensor, rng: Random) => b.mul(1 + rng.uniform())];
    const augment = augmentation(steps);
    const a = new Random(3), b = new Random(3);
    const expected = augment(x, a);
    const p = augment.async(x, b);
    // drawn at the call, before anything is awaited
    expect(b.nextUint32()).toBe(a.nextUint32());
    expectBitwiseEqual((await p).data, expected.data);
  });

  it('async() rejects a batch that is not one, with the synchronous form\'s message', async () => {
    const augment = augmentation(recipes.affine);
    await expect(augment.async(new Tensor(new Float32Array(6), [6]))).rejects.toThrow(
      new RangeError('randomAffine: x must be a batch of images (N, C, H, W) or (N, H, W), got shape [6]'));
  });

  it('fit() has batch i + 1 requested and its augmentation under way while batch i trains; prefetch 0 does not', async () => {
    const { x, y } = blobs(96, 3);
    for (const prefetch of [1, 2, 0]) {
      const augment = augmentation(recipes.affine);
      const rng = new Random(1);
      let started = 0, settled = 0;
      const data = Dataset.fromTensors(x, y).batch(16).map(async (b: Batch) => {
        started++;
        const out = await augment.async(b.x, rng);
        settled++;
        return { ...b, x: out };
      });
      const during: [number, number, number][] = [];
      const net = new Sequential([new Dense(784, 10)], { seed: 1 });
      const flat = data.map((b) => ({ ...b, x: b.x.reshape([b.size, 784]) }));
      let batch = 0;
      await net.fit(flat, {
        epochs: 2, optimizer: new Adam({ lr: 0.01 }), prefetch,
        loss: (out, t) => {
          during.push([batch % 6, started - Math.floor(batch / 6) * 6, settled - Math.floor(batch / 6) * 6]);
          batch++;
          return softmaxCrossEntropy(out, t);
        },
      });
      // batch b of each epoch trains with b + 2 of the epoch's augmentations started (but the last: the reads
      // ahead stay within the epoch), b + 1 of them consumed. A map runs its calls one after another, so a second
      // batch ahead starts once the first is done: when, the kernels' thread decides.
      const ahead = during.map(([b, s]) => s - b - 1);
      if (prefetch < 2) expect(ahead, `prefetch ${prefetch}`).toEqual(during.map(([b]) => Math.min(prefetch, 5 - b)));
      else during.forEach(([b], i) => expect(ahead[i]).toBeOneOf([Math.min(1, 5 - b), Math.min(2, 5 - b)]));
      expect(during).toHaveLength(12);
      for (const [b, , done] of during) expect(done).toBeGreaterThanOrEqual(b + 1);
    }
  });

  it('training with the overlap on and off ends with the same weights (the CLI pipeline, seed 5)', async () => {
    const { x, y } = blobs(200, 4);
    const flat = x.reshape([200, 784]);
    const train = async (overlap: boolean) => {
      const { net } = buildModel('mlp', 5);
      await net.fit(augmentedBatches(flat, y, 'mnist', 32, 5, { overlap }), {
        epochs: 2, optimizer: new Adam({ lr: 0.002 }), prefetch: overlap ? 1 : 0,
      });
      return net.parameters().map((p) => p.param.data);
    };
    const on = await train(true), off = await train(false);
    expect(on.length).toBe(off.length);
    on.forEach((w, i) => expectBitwiseEqual(w, off[i]));
    // and the augmentation did something: without it the weights differ
    const { net } = buildModel('mlp', 5);
    await net.fit(flat, y, { epochs: 1, batchSize: 32, optimizer: new Adam({ lr: 0.002 }) });
    expect(Buffer.from(net.parameters()[0].param.data.buffer).equals(Buffer.from(on[0].buffer))).toBe(false);
  });
});

describe('fit() prefetch option', () => {
  const net = () => new Sequential([new Dense(2, 2), new ReLU(), new Dense(2, 2)], { seed: 1 });
  const x = new Tensor(new Float32Array(16), [8, 2]), y = new Int32Array(8);

  it('is a non-negative integer, for a dataset only', async () => {
    const data = Dataset.fromTensors(x, y).batch(4);
    await expect(net().fit(data, { prefetch: -1 })).rejects.toThrow(RangeError);
    await expect(net().fit(data, { prefetch: -1 })).rejects.toThrow(/prefetch must be a non-negative integer, got -1/);
    await expect(net().fit(data, { prefetch: 1.5 })).rejects.toThrow(/prefetch must be a non-negative integer, got 1.5/);
    await expect(net().fit(data, { prefetch: '1' as unknown as number })).rejects.toThrow(TypeError);
    await expect(net().fit(x, y, { prefetch: 1 })).rejects.toThrow(
      new TypeError('prefetch is for a dataset (fit(dataset, { prefetch })); tensors are in memory'));
    for (const prefetch of [0, 1, 3]) expect((await net().fit(data, { prefetch, epochs: 2 })).loss).toHaveLength(2);
  });

  it('waits for no turn of the event loop where the read-ahead has no asynchronous work; waits where it has', async () => {
    // Immediates held (never run) and the clock stopped (no yield every few ms): fit() can only finish where its
    // read-ahead settles without a turn of the event loop
    const held: (() => void)[] = [];
    const immediate = vi.spyOn(globalThis, 'setImmediate').mockImplementation(((cb: () => void) => {
      held.push(cb);
      return {} as NodeJS.Immediate;
    }) as unknown as typeof setImmediate);
    vi.spyOn(performance, 'now').mockReturnValue(0);
    const fitWithin = async (data: Dataset<Batch>) => {
      let timer: NodeJS.Timeout | undefined;
      const hung = new Promise<'hung'>((resolve) => { timer = setTimeout(() => resolve('hung'), 20_000); });
      const r = await Promise.race([net().fit(data, { epochs: 2, prefetch: 1 }).then((h) => h.loss.length), hung]);
      clearTimeout(timer);
      return r;
    };
    try {
      const inMemory = Dataset.fromTensors(x, y).shuffle({ seed: 1 }).map((s) => ({ ...s, x: s.x.mul(2) })).batch(2)
        .map((b) => ({ ...b, x: b.x.add(1) }));
      expect(await fitWithin(inMemory)).toBe(2);
      // a map that waits for a timer: fit() then waits for the event loop (here for the timer) before each batch
      let timers = 0;
      const slow = Dataset.fromTensors(x, y).batch(2).map(async (b) => {
        await new Promise((resolve) => setTimeout(resolve, 1));
        timers++;
        return b;
      });
      const trained: number[] = [];
      let batch = 0;
      await net().fit(slow, {
        epochs: 1, prefetch: 1,
        loss: (out, t) => {
          trained.push(timers - batch++);
          return softmaxCrossEntropy(out, t);
        },
      });
      // batch b trains with batch b + 1's timer fired (the read-ahead waited for), the last batch with none ahead
      expect(trained).toEqual([2, 2, 2, 1]);
    } finally {
      immediate.mockRestore();
      vi.restoreAllMocks();
      for (const cb of held) cb();
    }
  });

  it('reads no batch past the last step of an epoch (stepsPerEpoch): the next epoch starts where this one stopped', async () => {
    const seen: number[] = [];
    const data = Dataset.fromGenerator(function* () {
      for (let i = 0; i < 8; i++) {
        seen.push(i);
        yield { x: new Tensor(new Float32Array([i, i]), [2]), y: i % 2 };
      }
    }).batch(2);
    await net().fit(data, { stepsPerEpoch: 3, epochs: 1, prefetch: 4 });
    // batches 0-2 (samples 0-5) and nothing more: batch 3 would belong to an epoch that never comes
    expect(seen).toEqual([0, 1, 2, 3, 4, 5]);
  });
});

describe('Dataset.fromIdx reads the next chunk ahead', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodenn-overlap-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('gives every sample in order whatever the chunk (1, 3, 7, the whole file, more)', async () => {
    const count = 7, rows = 2, cols = 3;
    const images = Buffer.alloc(16 + count * rows * cols), labels = Buffer.alloc(8 + count);
    [0x803, count, rows, cols].forEach((v, i) => images.writeUInt32BE(v, 4 * i));
    [0x801, count].forEach((v, i) => labels.writeUInt32BE(v, 4 * i));
    for (let i = 0; i < count * rows * cols; i++) images[16 + i] = (i * 37) % 256;
    for (let i = 0; i < count; i++) labels[8 + i] = i % 10;
    const ip = path.join(dir, 'images'), lp = path.join(dir, 'labels');
    fs.writeFileSync(ip, images);
    fs.writeFileSync(lp, labels);
    const expected = Array.from({ length: count }, (_, n) => ({
      x: Array.from({ length: rows * cols }, (_, j) => images[16 + n * rows * cols + j]), y: n % 10,
    }));
    for (const chunk of [1, 3, 7, 100]) {
      const ds = await Dataset.fromIdx(ip, lp, { chunk, normalize: false, flatten: true });
      for (let pass = 0; pass < 2; pass++) {
        const got = (await ds.toArray()).map((s) => ({ x: Array.from(s.x.data), y: s.y }));
        expect(got, `chunk ${chunk}`).toEqual(expected);
      }
      // a pass left after one sample closes its files (a read ahead in flight included)
      for await (const s of ds) {
        expect(s.y).toBe(0);
        break;
      }
    }
  });
});
