// fit()'s callbacks: the hooks and their order, stopTraining, EarlyStopping, ModelCheckpoint and ReduceLROnPlateau on
// scripted values (a callback placed before them sets the monitored value of each epoch), validationSplit, and the
// progress output of verbose (a fake terminal, a pipe, process.stdout).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  type Callback, EarlyStopping, type EpochInfo, type FitContext, ModelCheckpoint, ReduceLROnPlateau,
} from '../src/callbacks';
import { loadSafetensors } from '../src/io/safetensors';
import { Dense, ReLU } from '../src/layers/index';
import { Sequential } from '../src/network';
import { SGD } from '../src/optimizers';
import { ProgressBar } from '../src/progress';
import { Tensor } from '../src/tensor';
import { backends, expectBitwiseEqual, randn, useBackend } from './helpers';

function data(n = 24, seed = 1): { x: Tensor; y: Int32Array } {
  return { x: randn([n, 3], seed).astype('float32'), y: Int32Array.from({ length: n }, (_, i) => i % 3) };
}

function mlp(seed = 1): Sequential {
  return new Sequential([new Dense(3, 8), new ReLU(), new Dense(8, 3)], { seed });
}

/** Sets `key` of each epoch's info to script[epoch], so that the callbacks after it see a chosen sequence. */
function script(key: string, values: number[]): Callback {
  return { onEpochEnd: (e) => { e[key] = values[e.epoch]; } };
}

/** Copies of every parameter and buffer at the end of each epoch. */
function snapshots(): Callback & { at: Record<string, Float32Array>[] } {
  const at: Record<string, Float32Array>[] = [];
  return {
    at,
    onEpochEnd: (_e, fit) => {
      at.push(Object.fromEntries(Object.entries(fit.network.stateDict()).map(([k, t]) => [k, Float32Array.from(t.data)])));
    },
  };
}

function expectWeights(net: Sequential, expected: Record<string, Float32Array>): void {
  const dict = net.stateDict();
  expect(Object.keys(dict).sort()).toEqual(Object.keys(expected).sort());
  for (const [k, t] of Object.entries(dict)) expectBitwiseEqual(t.data, expected[k]);
}

let dir: string;
beforeAll(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodenn-callbacks-')); });
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('the callback interface', () => {
  it('fit() calls each hook in order, awaits async ones, and gives every hook the training\'s context', async () => {
    const { x, y } = data(24);
    const net = mlp(), optimizer = new SGD({ lr: 0.1 });
    const events: string[] = [];
    const contexts = new Set<FitContext>();
    const tick = () => new Promise<void>((r) => setImmediate(r));
    const cb: Callback = {
      onTrainBegin: async (i, fit) => { await tick(); events.push(`trainBegin ${i.epochs} ${i.batches} ${i.samples} ${i.batchSize}`); contexts.add(fit); },
      onEpochBegin: async (i, fit) => { await tick(); events.push(`epochBegin ${i.epoch} lr ${i.lr}`); contexts.add(fit); },
      onBatchEnd: async (i, fit) => { await tick(); events.push(`batch ${i.epoch}.${i.batch}/${i.batches} size ${i.size}`); contexts.add(fit); },
      onEpochEnd: async (i, fit) => { await tick(); events.push(`epochEnd ${i.epoch}`); contexts.add(fit); },
      onTrainEnd: async (i, fit) => { await tick(); events.push(`trainEnd ${i.epochs} ${i.stopped}`); contexts.add(fit); },
    };
    const history = await net.fit(x, y, {
      optimizer, epochs: 2, batchSize: 10, validationSplit: 0.25, callbacks: [cb],
      onBatchEnd: (b) => { events.push(`shorthand batch ${b.epoch}.${b.batch}`); },
      onEpochEnd: (e) => { events.push(`shorthand epochEnd ${e.epoch}`); },
    });
    // 24 samples, the last 6 held out: 18 train in batches of 10 and 8
    expect(events).toEqual([
      'trainBegin 2 2 18 10',
      'epochBegin 0 lr 0.1', 'batch 0.0/2 size 10', 'shorthand batch 0.0', 'batch 0.1/2 size 8', 'shorthand batch 0.1',
      'epochEnd 0', 'shorthand epochEnd 0',
      'epochBegin 1 lr 0.1', 'batch 1.0/2 size 10', 'shorthand batch 1.0', 'batch 1.1/2 size 8', 'shorthand batch 1.1',
      'epochEnd 1', 'shorthand epochEnd 1',
      'trainEnd 2 false',
    ]);
    expect(contexts.size).toBe(1);
    const [fit] = contexts;
    expect(fit.network).toBe(net);
    expect(fit.optimizer).toBe(optimizer);
    expect([fit.epochs, fit.batches, fit.samples, fit.batchSize, fit.hasValidation]).toEqual([2, 2, 18, 10, true]);
    expect(fit.reported).toEqual({ loss: 'min', lr: null, accuracy: 'max', valLoss: 'min', valAccuracy: 'max' });
    expect(Object.keys(history).sort()).toEqual(['accuracy', 'loss', 'lr', 'valAccuracy', 'valLoss']);
    expect(history.lr).toEqual([0.1, 0.1]);
  });

  it('stopTraining() in onBatchEnd ends the epoch after that batch: its means cover the batches trained', async () => {
    const { x, y } = data(40);
    const net = mlp();
    const losses: number[] = [], sizes: number[] = [];
    let ended: unknown;
    const history = await net.fit(x, y, {
      optimizer: new SGD({ lr: 0.1 }), epochs: 5, batchSize: 12, shuffle: false, callbacks: [{
        onBatchEnd: (b, fit) => {
          if (b.epoch === 1) { losses.push(b.loss); sizes.push(b.size); }
          if (b.epoch === 1 && b.batch === 1) fit.stopTraining();
        },
        onTrainEnd: (i) => { ended = i; },
      }],
    });
    expect(history.loss).toHaveLength(2);
    expect(sizes).toEqual([12, 12]);
    expect(history.loss[1]).toBeCloseTo((losses[0] * 12 + losses[1] * 12) / 24, 12);
    expect(ended).toEqual({ epochs: 2, stopped: true });
  });

  it('the callbacks option is checked before training', async () => {
    const { x, y } = data();
    const net = mlp();
    await expect(net.fit(x, y, { callbacks: {} as never })).rejects.toThrow(new TypeError('callbacks must be an array of callbacks, got an object'));
    await expect(net.fit(x, y, { callbacks: [EarlyStopping as never] }))
      .rejects.toThrow('callbacks[0] is a function (EarlyStopping); pass an instance (new EarlyStopping({ ... })) or an object with onEpochEnd etc.');
    await expect(net.fit(x, y, { callbacks: [{ onEpochEnd: () => undefined }, { onBatchEnd: 3 } as never] }))
      .rejects.toThrow('callbacks[1].onBatchEnd must be a function, got 3');
    await expect(net.fit(x, y, { callbacks: [{ onEpochEnds: () => undefined } as never] }))
      .rejects.toThrow('callbacks[0] (an object) has none of the hooks onTrainBegin, onEpochBegin, onBatchEnd, onEpochEnd, onTrainEnd');
    await expect(net.fit(x, y, { callbacks: [null as never] })).rejects.toThrow('callbacks[0] must be a callback object, got null');
  });
});

describe.each(backends)('EarlyStopping on $label', (bc) => {
  beforeEach(() => useBackend(bc));

  // minDelta 1e-3: epoch 3's 0.79995 is not an improvement on 0.8, so with patience 2 training stops there
  const valLoss = [1.0, 0.8, 0.85, 0.79995, 0.7, 0.6];

  it('stops at the patience-th epoch without improvement and restores the best epoch\'s weights bitwise', async () => {
    const { x, y } = data();
    const net = mlp(), snaps = snapshots();
    const stopper = new EarlyStopping({ monitor: 'val_loss', patience: 2, minDelta: 1e-3, restoreBestWeights: true });
    const history = await net.fit(x, y, { optimizer: new SGD({ lr: 0.1 }), epochs: 6, batchSize: 8, validationSplit: 0.25,
      callbacks: [script('valLoss', valLoss), snaps, stopper] });
    expect(history.loss).toHaveLength(4);
    expect([stopper.stoppedEpoch, stopper.bestEpoch, stopper.best]).toEqual([3, 1, 0.8]);
    expectWeights(net, snaps.at[1]);
    // the last epoch's weights differ: restoring did something
    expect(Array.from(net.stateDict()['0.weight'].data)).not.toEqual(Array.from(snaps.at[3]['0.weight']));
  });

  it('without restoreBestWeights the network keeps its last weights; patience 0 stops at the first epoch that does not improve', async () => {
    const { x, y } = data();
    const net = mlp(), snaps = snapshots();
    const stopper = new EarlyStopping({ monitor: 'loss', patience: 0 });
    const history = await net.fit(x, y, { optimizer: new SGD({ lr: 0.1 }), epochs: 6, batchSize: 8,
      callbacks: [script('loss', valLoss), snaps, stopper] });
    expect(history.loss).toHaveLength(3);
    expect(stopper.stoppedEpoch).toBe(2);
    expectWeights(net, snaps.at[2]);
  });

  it('restores the best weights when training runs all its epochs too (Keras 3), and watches a maximum with mode max', async () => {
    const { x, y } = data();
    const net = mlp(), snaps = snapshots();
    const stopper = new EarlyStopping({ monitor: 'accuracy', patience: 5, restoreBestWeights: true });
    await net.fit(x, y, { optimizer: new SGD({ lr: 0.1 }), epochs: 4, batchSize: 8,
      callbacks: [script('accuracy', [0.5, 0.9, 0.7, 0.8]), snaps, stopper] });
    expect([stopper.stoppedEpoch, stopper.bestEpoch]).toEqual([-1, 1]);
    expectWeights(net, snaps.at[1]);
  });
});

describe('EarlyStopping options and monitors', () => {
  it('a validation value without validation data fails before training; an unknown name lists the reported ones', async () => {
    const { x, y } = data();
    const net = mlp();
    let batches = 0;
    await expect(net.fit(x, y, { callbacks: [new EarlyStopping()], onBatchEnd: () => { batches++; } }))
      .rejects.toThrow("EarlyStopping monitors 'valLoss', a validation value, but fit() has no validation data: give validationData or validationSplit, or monitor a training value such as 'loss'");
    expect(batches).toBe(0);
    await expect(net.fit(x, y, { callbacks: [new EarlyStopping({ monitor: 'val_f1' })] }))
      .rejects.toThrow("EarlyStopping monitors 'val_f1' ('valF1'), a validation value");
    await expect(net.fit(x, y, { validationSplit: 0.25, callbacks: [new EarlyStopping({ monitor: 'f1', mode: 'max' })] }))
      .rejects.toThrow("EarlyStopping monitors 'f1', which fit() does not report; it reports 'loss', 'lr', 'accuracy', 'valLoss', 'valAccuracy'");
    await expect(net.fit(x, y, { callbacks: [script('custom', [1]), new EarlyStopping({ monitor: 'custom' })] }))
      .rejects.toThrow("EarlyStopping cannot tell whether a larger 'custom' is better: set mode to 'min' or 'max'");
  });

  it.each([
    [{ patience: -1 }, 'EarlyStopping patience must be a non-negative integer, got -1'],
    [{ patience: 1.5 }, 'EarlyStopping patience must be a non-negative integer, got 1.5'],
    [{ minDelta: NaN }, 'EarlyStopping minDelta must be a non-negative number, got NaN'],
    [{ mode: 'up' }, "EarlyStopping mode must be 'auto', 'min' or 'max', got the string 'up'"],
    [{ monitor: 3 }, "EarlyStopping monitor must be a name like 'valLoss', got 3"],
    [{ restoreBestWeights: 'yes' }, "EarlyStopping restoreBestWeights must be true or false, got the string 'yes'"],
    [{ baseline: '0.5' }, "EarlyStopping baseline must be a finite number, got the string '0.5'"],
  ])('EarlyStopping(%j) is refused', (opts, message) => {
    expect(() => new EarlyStopping(opts as never)).toThrow(message);
  });
});

describe.each(backends)('ModelCheckpoint on $label', (bc) => {
  beforeEach(() => useBackend(bc));

  it('saveBestOnly: a file only after the epochs that improve, holding that epoch\'s weights bitwise', async () => {
    const out = fs.mkdtempSync(path.join(dir, `best-${bc.label.replace('/', '-')}-`));
    const file = path.join(out, 'best.safetensors');
    const { x, y } = data();
    const net = mlp(), snaps = snapshots();
    const saves: number[] = [];
    const checkpoint = new ModelCheckpoint({ path: file, monitor: 'val_loss', saveBestOnly: true });
    await net.fit(x, y, { optimizer: new SGD({ lr: 0.1 }), epochs: 5, batchSize: 8, validationSplit: 0.25, callbacks: [
      script('valLoss', [0.5, 0.4, 0.45, 0.3, 0.35]), snaps, checkpoint,
      { onEpochEnd: (e) => { if (checkpoint.saved.length > saves.length) saves.push(e.epoch); } },
    ] });
    expect(saves).toEqual([0, 1, 3]);
    expect(checkpoint.best).toBe(0.3);
    const saved = await loadSafetensors(file);
    expect(Object.keys(saved.tensors).sort()).toEqual(Object.keys(snaps.at[3]).sort());
    for (const [k, t] of Object.entries(saved.tensors)) expectBitwiseEqual(t.data, snaps.at[3][k]);
    const info = JSON.parse(saved.metadata['nodenn.checkpoint']);
    expect(info).toMatchObject({ epoch: 3, valLoss: 0.3 });
    // the saves are atomic: only the file, no temporary left behind
    expect(fs.readdirSync(out)).toEqual(['best.safetensors']);
    // and the file is a model that loads
    const loaded = await Sequential.load(file);
    expectWeights(loaded, snaps.at[3]);
  });

  it('every epoch, to a path with the epoch and values in it', async () => {
    const out = fs.mkdtempSync(path.join(dir, `each-${bc.label.replace('/', '-')}-`));
    const { x, y } = data();
    const net = mlp(), snaps = snapshots();
    const checkpoint = new ModelCheckpoint({ path: path.join(out, 'ckpt-{epoch:02d}-{val_loss:.3f}.safetensors') });
    await net.fit(x, y, { optimizer: new SGD({ lr: 0.1 }), epochs: 3, batchSize: 8, validationSplit: 0.25,
      callbacks: [script('valLoss', [0.5, 0.25, 0.125]), snaps, checkpoint] });
    expect(fs.readdirSync(out).sort()).toEqual(['ckpt-01-0.500.safetensors', 'ckpt-02-0.250.safetensors', 'ckpt-03-0.125.safetensors']);
    expect(checkpoint.saved).toEqual(fs.readdirSync(out).sort().map((f) => path.join(out, f)));
    const second = await loadSafetensors(path.join(out, 'ckpt-02-0.250.safetensors'));
    for (const [k, t] of Object.entries(second.tensors)) expectBitwiseEqual(t.data, snaps.at[1][k]);
  });
});

describe('ModelCheckpoint options', () => {
  it('a missing directory fails before training; an unknown field after the first epoch, naming the fields', async () => {
    const { x, y } = data();
    const net = mlp();
    let batches = 0;
    await expect(net.fit(x, y, { callbacks: [new ModelCheckpoint({ path: path.join(dir, 'no', 'such', 'm.safetensors') })],
      onBatchEnd: () => { batches++; } }))
      .rejects.toThrow(`ModelCheckpoint path ${path.join(dir, 'no', 'such', 'm.safetensors')}: the directory ${path.join(dir, 'no', 'such')} does not exist`);
    expect(batches).toBe(0);
    await expect(net.fit(x, y, { callbacks: [new ModelCheckpoint({ path: dir })] })).rejects.toThrow(/is a directory/);
    await expect(net.fit(x, y, { callbacks: [new ModelCheckpoint({ path: path.join(dir, 'm-{val_f1}.safetensors') })] }))
      .rejects.toThrow('{val_f1} is not reported; the fields are epoch, loss, lr, accuracy');
    await expect(net.fit(x, y, { callbacks: [new ModelCheckpoint({ path: path.join(dir, 'm.safetensors'), saveBestOnly: true })] }))
      .rejects.toThrow("ModelCheckpoint monitors 'valLoss', a validation value, but fit() has no validation data");
  });

  it.each([
    [{}, 'ModelCheckpoint path must be a file name, got undefined'],
    [{ path: '' }, "ModelCheckpoint path must be a file name, got the string ''"],
    [{ path: 'm-{epoch:x}.safetensors' }, "ModelCheckpoint path: format ':x' is not one of ':03d' (an integer padded with zeros) or ':.4f' (decimals)"],
    [{ path: 'm.safetensors', saveBestOnly: 1 }, 'ModelCheckpoint saveBestOnly must be true or false, got 1'],
  ])('ModelCheckpoint(%j) is refused', (opts, message) => {
    expect(() => new ModelCheckpoint(opts as never)).toThrow(message);
  });
});

describe('ReduceLROnPlateau', () => {
  it('lowers the rate by factor after patience epochs, waits cooldown epochs, never below minLr (Keras\'s rule)', async () => {
    const { x, y } = data();
    const net = mlp();
    const optimizer = new SGD({ lr: 0.1 });
    const plateau = new ReduceLROnPlateau({ monitor: 'loss', factor: 0.5, patience: 2, cooldown: 1, minLr: 0.02 });
    const history = await net.fit(x, y, { optimizer, epochs: 12, batchSize: 12,
      callbacks: [script('loss', [1, 1, 1, 1, 1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5]), plateau] });
    // the rate each epoch trained with: lowered after epochs 2, 4 and 6 (to minLr there); epoch 8 improves
    expect(history.lr).toEqual([0.1, 0.1, 0.1, 0.05, 0.05, 0.025, 0.025, 0.02, 0.02, 0.02, 0.02, 0.02]);
    expect(optimizer.baseLr).toBe(0.02);
    expect(plateau.best).toBe(0.5);
    // cooldown 2 with patience 1: the epoch after a cut does not count, the one after that does
    const cool = await net.fit(x, y, { optimizer: new SGD({ lr: 0.1 }), epochs: 7, batchSize: 12,
      callbacks: [script('loss', [1, 1, 1, 1, 1, 1, 1]), new ReduceLROnPlateau({ monitor: 'loss', factor: 0.5, patience: 1, cooldown: 2 })] });
    expect(cool.lr).toEqual([0.1, 0.1, 0.05, 0.05, 0.025, 0.025, 0.0125]);
  });

  it('minDelta: a change smaller than it is no improvement', async () => {
    const { x, y } = data();
    const optimizer = new SGD({ lr: 0.1 });
    const history = await mlp().fit(x, y, { optimizer, epochs: 4, batchSize: 12, callbacks: [
      script('loss', [1, 0.99995, 0.9999, 0.98]), new ReduceLROnPlateau({ monitor: 'loss', patience: 2, minDelta: 1e-4 })] });
    expect(history.lr).toEqual([0.1, 0.1, 0.1, 0.010000000000000002]);
  });

  it('options are checked; an optimizer without setBaseLr is refused before training', async () => {
    expect(() => new ReduceLROnPlateau({ factor: 1 })).toThrow('ReduceLROnPlateau factor must be in (0, 1) (it multiplies the rate), got 1');
    expect(() => new ReduceLROnPlateau({ factor: 0 })).toThrow('ReduceLROnPlateau factor must be in (0, 1)');
    expect(() => new ReduceLROnPlateau({ cooldown: -1 })).toThrow('ReduceLROnPlateau cooldown must be a non-negative integer, got -1');
    expect(() => new ReduceLROnPlateau({ minLr: -1 })).toThrow('ReduceLROnPlateau minLr must be a non-negative number, got -1');
    const { x, y } = data();
    const real = new SGD({ lr: 0.1 });
    const foreign = { step: (p: never) => real.step(p), setEpoch: (e: number) => real.setEpoch(e), get lr() { return real.lr; } };
    await expect(mlp().fit(x, y, { optimizer: foreign as never, callbacks: [new ReduceLROnPlateau({ monitor: 'loss' })] }))
      .rejects.toThrow('ReduceLROnPlateau needs an optimizer with setBaseLr() (a nodenn Optimizer)');
  });
});

describe('validationSplit', () => {
  it('holds out the last fraction of x and y before shuffling (Keras): the same training as fit on the first part', async () => {
    const { x, y } = data(20, 4);
    const a = mlp(3), b = mlp(3);
    let samples = 0;
    const h = await a.fit(x, y, { optimizer: new SGD({ lr: 0.1 }), epochs: 2, batchSize: 4, validationSplit: 0.3,
      callbacks: [{ onTrainBegin: (i) => { samples = i.samples; } }] });
    expect(samples).toBe(14);
    const head = new Tensor(x.data.slice(0, 14 * 3), [14, 3]), tail = new Tensor(x.data.slice(14 * 3), [6, 3]);
    const hb = await b.fit(head, y.slice(0, 14), { optimizer: new SGD({ lr: 0.1 }), epochs: 2, batchSize: 4 });
    expect(h.loss).toEqual(hb.loss);
    a.parameters().forEach((p, i) => expectBitwiseEqual(p.param.data, b.parameters()[i].param.data));
    const last = a.evaluate(tail, y.slice(14));
    expect(h.valLoss[1]).toBe(last.loss);
    expect(h.valAccuracy?.[1]).toBe(last.accuracy);
  });

  it.each([
    [{ validationSplit: 1 }, 'validationSplit must be in (0, 1) (the fraction of the samples held out), got 1'],
    [{ validationSplit: 0 }, 'validationSplit must be in (0, 1) (the fraction of the samples held out), got 0'],
    [{ validationSplit: '0.2' }, "validationSplit must be in (0, 1) (the fraction of the samples held out), got the string '0.2'"],
    [{ validationSplit: 0.97 }, 'validationSplit 0.97 of 24 samples leaves none to train on'],
    [{ validationSplit: 1e-17 }, 'validationSplit 1e-17 of 24 samples holds out none (it needs at least 1 / 24)'],
  ])('fit(%j) is refused', async (opts, message) => {
    const { x, y } = data();
    await expect(mlp().fit(x, y, opts as never)).rejects.toThrow(message);
  });

  it('is exclusive with validationData', async () => {
    const { x, y } = data();
    await expect(mlp().fit(x, y, { validationSplit: 0.2, validationData: [x, y] }))
      .rejects.toThrow(new TypeError('validationSplit and validationData are exclusive: give validationData, or let validationSplit hold out the last part of x and y'));
  });
});

/** A stream that records what is written, as a terminal (isTTY) or a pipe. */
function fakeStream(isTTY: boolean, columns = 120) {
  let text = '';
  return { isTTY, columns, write(s: string) { text += s; return true; }, text: () => text };
}

const epochLine = /^epoch (\d)\/2 {2}loss \d\.\d{4} {2}acc \d+\.\d\d% {2}val_loss \d\.\d{4} {2}val_acc \d+\.\d\d% {2}[\d.]+m?s {2}[\d,]+ samples\/s$/;

describe('progress output (verbose)', () => {
  it('on a terminal: a live line redrawn in place during the epoch, then the epoch\'s line', async () => {
    const term = fakeStream(true);
    const { x, y } = data(60);
    await mlp().fit(x, y, { epochs: 2, batchSize: 5, validationSplit: 0.2, callbacks: [new ProgressBar({ output: term })] });
    const text = term.text();
    const lines = text.split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toHaveLength(2);
    lines.forEach((l, e) => {
      const draws = l.split('\r\x1b[2K');
      expect(draws[0]).toBe('');
      // the last batch is always drawn; the epoch's line replaces the live one
      expect(draws.at(-2)).toMatch(new RegExp(`^epoch ${e + 1}/2 \\[=+\\] 10/10 {2}loss \\d\\.\\d{4} {2}acc \\d+\\.\\d\\d% {2}[\\d,]+ samples/s {2}ETA `));
      expect(draws.at(-1)).toMatch(epochLine);
      expect(draws.at(-1)!.startsWith(`epoch ${e + 1}/2`)).toBe(true);
    });
  });

  it('on a pipe: one line per epoch, nothing else', async () => {
    const pipe = fakeStream(false);
    const { x, y } = data(60);
    await mlp().fit(x, y, { epochs: 2, batchSize: 5, validationSplit: 0.2, callbacks: [new ProgressBar({ output: pipe })] });
    const lines = pipe.text().split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toHaveLength(2);
    lines.forEach((l, e) => { expect(l).toMatch(epochLine); expect(l.startsWith(`epoch ${e + 1}/2`)).toBe(true); });
    // a regression loss has no accuracy to show
    const reg = fakeStream(false);
    await new Sequential([new Dense(3, 1)], { seed: 1 }).fit(x, randn([60, 1], 9).astype('float32'),
      { loss: 'mse', epochs: 1, callbacks: [new ProgressBar({ output: reg })] });
    expect(reg.text()).toMatch(/^epoch 1\/1 {2}loss \d+\.\d{4} {2}[\d.]+m?s {2}[\d,]+ samples\/s\n$/);
  });

  it('training stopped by an abort or an error ends the live line, keeping it in view', async () => {
    const { x, y } = data(60);
    for (const stop of ['abort', 'error'] as const) {
      const term = fakeStream(true), ctrl = new AbortController();
      const p = mlp().fit(x, y, { epochs: 2, batchSize: 5, signal: ctrl.signal, callbacks: [new ProgressBar({ output: term }), {
        onBatchEnd: (b) => {
          if (b.epoch === 1 && b.batch === 3) {
            if (stop === 'abort') ctrl.abort();
            else throw new Error('a callback failed');
          }
        },
      }] });
      await expect(p).rejects.toThrow(stop === 'abort' ? 'fit() was aborted before epoch 2, batch 5' : 'a callback failed');
      const last = term.text().split('\n').at(-2)!.split('\r\x1b[2K').at(-1);
      expect(last).toMatch(/^epoch 2\/2 \[[=> ]+\] \d+\/12 {2}loss /);
      expect(term.text().endsWith('\n')).toBe(true);
    }
  });

  it('verbose 1 and 2 write to stdout, 0 and the default nothing', async () => {
    const { x, y } = data(30);
    let text = '';
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((s) => { text += String(s); return true; });
    try {
      await mlp().fit(x, y, { epochs: 2 });
      await mlp().fit(x, y, { epochs: 2, verbose: 0 });
      expect(text).toBe('');
      await mlp().fit(x, y, { epochs: 2, verbose: 1 });
      await mlp().fit(x, y, { epochs: 1, verbose: 2 });
    } finally {
      write.mockRestore();
    }
    // stdout is not a terminal under the test runner: epoch lines only
    expect(text).toMatch(/^epoch 1\/2 {2}loss \d\.\d{4} {2}acc [\d.]+% {2}[\d.]+m?s {2}[\d,]+ samples\/s\nepoch 2\/2 .*\nepoch 1\/1 .*\n$/);
    await expect(mlp().fit(x, y, { verbose: 3 as never }))
      .rejects.toThrow('verbose must be 0 (silent), 1 (a progress bar on a terminal, else a line per epoch) or 2 (a line per epoch), got 3');
    await expect(mlp().fit(x, y, { verbose: true as never })).rejects.toThrow(/verbose must be 0 .* got true/);
  });
});

// EpochInfo is an open record: a callback may add values for the callbacks after it
const _typed: EpochInfo = { epoch: 0, loss: 1, lr: 0.1, custom: 2 };
void _typed;
