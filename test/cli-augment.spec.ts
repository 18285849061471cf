// nodenn train --augment: the training batches go through the data set's augmentation (cli.ts augmentedBatches),
// the validation and test data never do — checked on the pipeline itself (every backend) and on the command's
// printed results against an unaugmented evaluation of the model it saved.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nativeAvailable, setBackend } from '../src/backend/index';
import { AUGMENTATIONS, augmentedBatches, buildModel, main, type Output } from '../src/cli';
import { augmentation } from '../src/data/augment';
import { loadMnist, mnistDataPackageDir, SYSTEM_DIRS } from '../src/data/mnist';
import { Sequential } from '../src/network';
import { Random } from '../src/random';
import { Tensor } from '../src/tensor';
import { backends, expectBitwiseEqual, useBackend } from './helpers';

let dir = '', subset = '';
const savedData = process.env.NODENN_DATA;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodenn-cli-augment-'));
  delete process.env.NODENN_DATA;
  // the first 500 training and test images of MNIST, in a directory of their own
  subset = path.join(dir, 'mnist-500');
  fs.mkdirSync(subset);
  for (const [name, header, bytes] of [['train-images-idx3-ubyte', 16, 784], ['train-labels-idx1-ubyte', 8, 1],
    ['t10k-images-idx3-ubyte', 16, 784], ['t10k-labels-idx1-ubyte', 8, 1]] as const) {
    const b = fs.readFileSync(path.join(mnistDataPackageDir()!, name)).subarray(0, header + 500 * bytes);
    b.writeUInt32BE(500, 4);
    fs.writeFileSync(path.join(subset, name), b);
  }
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
  if (savedData !== undefined) process.env.NODENN_DATA = savedData;
  setBackend(nativeAvailable() ? 'native' : 'ts');
});

function capture(): Output & { text: () => string; errText: () => string } {
  let out = '', err = '';
  return { out: (s) => { out += s; }, err: (s) => { err += s; }, isTTY: false, columns: 120, text: () => out, errText: () => err };
}

/** The rows of x (N, ...) named by idx, gathered into a new tensor. */
function gather(x: Tensor, idx: ArrayLike<number>): Tensor {
  const per = x.size / x.shape[0], out = new Float32Array(idx.length * per);
  for (let i = 0; i < idx.length; i++) out.set(x.data.subarray(idx[i] * per, (idx[i] + 1) * per), i * per);
  return new Tensor(out, [idx.length, ...x.shape.slice(1)]);
}

describe.each(backends)('augmentedBatches on $label', (bc) => {
  it("each epoch's batches are the recipe applied to shuffled rows, labels kept; the data set is left as it was", async () => {
    useBackend(bc);
    const { train } = await loadMnist({ dir: subset, flatten: false, limit: { train: 100, test: 1 } });
    const before = train.x.data.slice();
    for (const [kind, flat] of [['mnist', false], ['fashion', true]] as const) {
      const x = flat ? train.x.reshape([100, 784]) : train.x;
      const ds = augmentedBatches(x, train.y, kind, 32, 7);
      expect([ds.cardinality, ds.batchSize, ds.samples]).toEqual([4, 32, 100]);
      // the pipeline's own draws, replayed: the order's seed first, then each batch's augmentation from the same rng
      const rng = new Random(7);
      rng.nextUint32();
      const recipe = augmentation(AUGMENTATIONS[kind]);
      for (let epoch = 0; epoch < 2; epoch++) {
        const seen: number[] = [];
        for await (const b of ds) {
          const idx = b.samples!;
          seen.push(...idx);
          expect(Array.from(b.y as Int32Array)).toEqual(Array.from(idx, (i) => train.y[i]));
          expect(b.x.shape).toEqual([b.size, ...x.shape.slice(1)]);
          const raw = gather(train.x, idx);
          const expected = recipe(raw, rng);
          expectBitwiseEqual(b.x.data, expected.data);
          // augmented: most images differ from the raw ones
          let changed = 0;
          for (let i = 0; i < b.size; i++) {
            if (b.x.data.subarray(i * 784, (i + 1) * 784).some((v, j) => v !== raw.data[i * 784 + j])) changed++;
          }
          expect(changed, `${kind} epoch ${epoch} batch ${b.index}`).toBeGreaterThan(b.size / 4);
        }
        expect(seen.slice().sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
      }
    }
    expectBitwiseEqual(train.x.data, before);
  });
});

describe('nodenn train --augment', () => {
  const train = async (args: string[]) => {
    const io = capture();
    const code = await main(['train', 'mnist', '--data', subset, '--limit', '500', '--validation', '100', '--epochs', '1',
      '--batch-size', '25', ...args], io);
    expect(io.errText()).toBe('');
    expect(code).toBe(0);
    const out = io.text();
    const test = /^test accuracy (\d+\.\d\d)% {2}\(loss (\d\.\d{4}), 500 samples\)$/m.exec(out);
    const epoch = /^epoch 1\/1 .*val_loss (\d\.\d{4}) {2}val_acc (\d+\.\d\d)%/m.exec(out);
    expect(test, out).not.toBeNull();
    expect(epoch, out).not.toBeNull();
    return { out, test: test![0], valLoss: epoch![1], valAccuracy: epoch![2] };
  };

  it('trains on augmented batches, but validates and tests on the images as they are', async () => {
    const model = path.join(dir, 'augmented.safetensors');
    const augmented = await train(['--augment', '--out', model]);
    expect(augmented.out).toContain('augmentation of the training batches: randomAffine (degrees 10, scale [0.9, 1.1], translate [0.1, 0.1])\n');
    const plain = await train([]);
    expect(plain.out).not.toContain('augmentation');
    // another training path: another model
    expect(augmented.test).not.toBe(plain.test);
    // the saved model scored by `nodenn eval` (which never augments) gives the very numbers train printed
    const io = capture();
    expect(await main(['eval', model, '--data', subset, '--limit', '500'], io)).toBe(0);
    const evaluated = /test accuracy (\d+\.\d\d)% {2}\(loss (\d\.\d{4})/.exec(io.text())!;
    expect(augmented.test).toContain(`test accuracy ${evaluated[1]}%  (loss ${evaluated[2]}, `);
    // and the validation line is the model's score on the last 100 training images, unaugmented
    const net = await Sequential.load(model);
    const { train: data } = await loadMnist({ dir: subset, flatten: true, limit: { train: 500, test: 1 } });
    const r = net.evaluate(new Tensor(data.x.data.slice(400 * 784), [100, 784]), data.y.slice(400), { batchSize: 1000 });
    expect([r.loss.toFixed(4), (100 * (r.accuracy as number)).toFixed(2)]).toEqual([augmented.valLoss, augmented.valAccuracy]);
  });

  it('--augment defaults to more epochs (each one shows new variants of the images); --epochs overrides it', async () => {
    const run = async (args: string[]) => {
      const io = capture();
      expect(await main(['train', 'mnist', '--data', subset, '--limit', '40', '--validation', '8', ...args], io)).toBe(0);
      return /^training: .*$/m.exec(io.text())![0];
    };
    expect(await run(['--augment'])).toBe('training: 15 epochs, batch 128, adam lr 0.002 (cosine decay), seed 1');
    // without --augment: the mlp's 3 epochs with label smoothing, the cnn's 2 without (one step an epoch here, too
    // few for one-cycle's two phases)
    expect(await run([])).toBe('training: 3 epochs, batch 256, adam lr 0.012, label smoothing 0.1, seed 1');
    expect(await run(['--model', 'cnn'])).toBe('training: 2 epochs, batch 128, adam lr 0.005, seed 1');
    expect(await run(['--augment', '--epochs', '2'])).toBe('training: 2 epochs, batch 128, adam lr 0.002 (cosine decay), seed 1');
    expect(await run(['--model', 'cnn', '--augment'])).toBe('training: 20 epochs, batch 64, adam lr 0.002 (cosine decay), seed 1');
  });

  it('--model cnn --augment trains the wide CNN of three blocks (32, 64, 64 channels), which the narrow one underfits', async () => {
    const model = path.join(dir, 'wide.safetensors');
    const io = capture();
    expect(await main(['train', 'mnist', '--data', subset, '--limit', '40', '--validation', '8', '--model', 'cnn', '--augment',
      '--epochs', '1', '--out', model], io)).toBe(0);
    const shapes = (await Sequential.load(model)).parameters().map((p) => p.param.shape);
    expect(shapes.slice(0, 2)).toEqual([[32, 1, 3, 3], [32]]);
    expect(shapes.filter((s) => s.length === 4)).toEqual([[32, 1, 3, 3], [64, 32, 3, 3], [64, 64, 3, 3]]);
    expect(shapes.filter((s) => s.length === 2)).toEqual([[64 * 3 * 3, 128], [128, 10]]);
    // without --augment, the narrow one
    const narrow = buildModel('cnn', 1).net.parameters().map((p) => p.param.shape).filter((s) => s.length === 4);
    expect(narrow).toEqual([[16, 1, 3, 3], [32, 16, 3, 3]]);
    // the wide one normalizes before pooling, the narrow one after (batch norm and ReLU on a quarter of the values)
    const types = (wide: boolean) => buildModel('cnn', 1, { wide }).net.layers.slice(0, 4).map((l) => l.constructor.name);
    expect(types(true)).toEqual(['Conv2D', 'BatchNorm2D', 'ReLU', 'MaxPool2D']);
    expect(types(false)).toEqual(['Conv2D', 'MaxPool2D', 'BatchNorm2D', 'ReLU']);
  });

  const fashionDir = SYSTEM_DIRS.fashion.find((d) => fs.existsSync(path.join(d, 'train-labels-idx1-ubyte.gz')));
  it.skipIf(!fashionDir)('fashion --augment: a random crop and a horizontal flip', async () => {
    const io = capture();
    expect(await main(['train', 'fashion', '--limit', '200', '--validation', '0', '--epochs', '1', '--augment'], io)).toBe(0);
    expect(io.text()).toContain('augmentation of the training batches: randomCrop (padding 2), randomFlip\n');
    expect(io.text()).toMatch(/^test accuracy \d+\.\d\d% {2}\(loss \d\.\d{4}, 200 samples\)$/m);
  });
});
