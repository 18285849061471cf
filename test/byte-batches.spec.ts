// Batches converted from image bytes as they are drawn (src/data/byte-batches.ts, what `nodenn train` without
// --augment trains on) and loadMnistBytes(): the same floats, the same order and so the same trained bits as fit(x, y)
// on loadMnist()'s tensors, on either backend.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { byteBatches } from '../src/data/byte-batches';
import { DataError, loadMnist, loadMnistBytes, mnistDataPackageDir } from '../src/data/mnist';
import { Sequential } from '../src/network';
import * as layers from '../src/layers/index';
import { Adam } from '../src/optimizers';
import { backends, useBackend } from './helpers';

const dir = mnistDataPackageDir();

describe('loadMnistBytes', () => {
  it.runIf(dir)('holds the bytes of the images loadMnist converts, and the same labels', async () => {
    const limit = { train: 700, test: 300 };
    const bytes = await loadMnistBytes({ dir: dir!, limit });
    const floats = await loadMnist({ dir: dir!, limit });
    expect([bytes.train.count, bytes.test.count, bytes.rows, bytes.cols]).toEqual([700, 300, 28, 28]);
    expect(bytes.train.images.length).toBe(700 * 784);
    expect(Array.from(bytes.train.labels)).toEqual(Array.from(floats.train.y));
    expect(Array.from(bytes.test.labels)).toEqual(Array.from(floats.test.y));
    const scaled = Float32Array.from(bytes.test.images, (b) => b / 255);
    expect(scaled).toEqual(floats.test.x.data);
    expect(bytes.source).toBe(floats.source);
  });

  it('hand-written idx files: the bytes, labels and counts of each split; a count mismatch refused by name', async () => {
    const u32 = (n: number) => Buffer.from([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
    const images = (count: number, seed: number) => Buffer.concat([u32(0x803), u32(count), u32(28), u32(28),
      Buffer.from(Uint8Array.from({ length: count * 784 }, (_, i) => (i * 31 + seed) % 256))]);
    const labels = (v: number[]) => Buffer.concat([u32(0x801), u32(v.length), Buffer.from(v)]);
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'nodenn-bytes-'));
    try {
      const write = (name: string, b: Buffer) => fs.writeFileSync(path.join(d, name), b);
      write('train-images-idx3-ubyte', images(3, 1));
      write('train-labels-idx1-ubyte', labels([3, 1, 4]));
      write('t10k-images-idx3-ubyte', images(2, 2));
      write('t10k-labels-idx1-ubyte', labels([2, 7]));
      const all = await loadMnistBytes({ dir: d });
      expect([all.train.count, all.test.count, all.rows, all.cols, all.source, all.kind]).toEqual([3, 2, 28, 28, d, 'mnist']);
      expect(Buffer.from(all.train.images)).toEqual(images(3, 1).subarray(16));
      expect(Buffer.from(all.test.images)).toEqual(images(2, 2).subarray(16));
      expect([Array.from(all.train.labels), Array.from(all.test.labels)]).toEqual([[3, 1, 4], [2, 7]]);
      const some = await loadMnistBytes({ dir: d, limit: { train: 2 } });
      expect([some.train.count, some.train.images.length, Array.from(some.train.labels), some.test.count])
        .toEqual([2, 2 * 784, [3, 1], 2]);
      write('train-images-idx3-ubyte', images(4, 1));
      const e = await loadMnistBytes({ dir: d }).catch((err: unknown) => err) as DataError;
      const imagesFile = path.join(d, 'train-images-idx3-ubyte'), labelsFile = path.join(d, 'train-labels-idx1-ubyte');
      expect([e instanceof DataError, e.code, e.message, e.file]).toEqual([true, 'COUNT_MISMATCH',
        `4 images in ${imagesFile} but 3 labels (${labelsFile})`, labelsFile]);
    } finally {
      fs.rmSync(d, { recursive: true, force: true });
    }
  });

  it('refuses a directory without the files as loadMnist does', async () => {
    await expect(loadMnistBytes({ dir: '/nonexistent-nodenn-dir' })).rejects.toThrow(DataError);
    await expect(loadMnistBytes({ dir: '/nonexistent-nodenn-dir' })).rejects.toThrow(/no mnist idx files/);
  });
});

describe('byteBatches', () => {
  it('in order: batches of the scaled bytes with their labels, the last one partial', async () => {
    const images = Uint8Array.from({ length: 5 * 4 }, (_, i) => i * 10);
    const labels = Int32Array.from([3, 1, 4, 1, 5]);
    const { data, batches } = byteBatches(images, labels, { batchSize: 2, sampleShape: [2, 2], divisor: 2 });
    expect(batches).toBe(3);
    const got: [number[], number[], number[]][] = [];
    for await (const b of data) got.push([[...b.x.shape], Array.from(b.x.data), Array.from(b.y as Int32Array)]);
    expect(got).toEqual([
      [[2, 2, 2], [0, 5, 10, 15, 20, 25, 30, 35], [3, 1]],
      [[2, 2, 2], [40, 45, 50, 55, 60, 65, 70, 75], [4, 1]],
      [[1, 2, 2], [80, 85, 90, 95], [5]],
    ]);
  });

  it('refuses images whose length is not the labels times the sample size', () => {
    expect(() => byteBatches(new Uint8Array(10), new Int32Array(3), { batchSize: 2, sampleShape: [4] }))
      .toThrow(new RangeError('byteBatches: 10 bytes of images for 3 labels of 4 bytes each'));
  });

  describe.each(backends)('%s backend', (name) => {
    useBackend(name);

    it.runIf(dir)('trains to the bits of fit(x, y) on loadMnist tensors with the same generator', async () => {
      const limit = { train: 600, test: 1 };
      const net = (): Sequential =>
        new Sequential([new layers.Dense(784, 16), new layers.ReLU(), new layers.Dense(16, 10)], { seed: 5 });
      const floats = await loadMnist({ dir: dir!, limit });
      const a = net();
      const ha = await a.fit(floats.train.x, floats.train.y,
        { optimizer: new Adam({ lr: 0.01 }), epochs: 2, batchSize: 64, validationData: [floats.train.x, floats.train.y] });

      const bytes = await loadMnistBytes({ dir: dir!, limit });
      const b = net();
      const train = byteBatches(bytes.train.images, bytes.train.labels,
        { batchSize: 64, sampleShape: [784], rng: b.rng });
      const val = byteBatches(bytes.train.images, bytes.train.labels,
        { batchSize: 1000, sampleShape: [784] }).data;
      const hb = await b.fit(train.data,
        { optimizer: new Adam({ lr: 0.01 }), epochs: 2, stepsPerEpoch: train.batches, prefetch: 0, validationData: val });
      expect(train.batches).toBe(10);
      expect(hb.loss).toEqual(ha.loss);
      expect(hb.valAccuracy).toEqual(ha.valAccuracy);
      const pa = a.parameters(), pb = b.parameters();
      expect(pa.length).toBe(4);
      pa.forEach((p, i) => expect(pb[i].param.data).toEqual(p.param.data));
    });
  });
});
