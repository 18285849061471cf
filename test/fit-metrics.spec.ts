// Metrics in fit() and evaluate(): one history key per metric (and 'val' + name), each computed once on the
// epoch's (or the data set's) outputs, equal to the metrics registry on them; accuracy only for classification
// losses unless asked; callbacks monitor metrics in the direction the registry gives; clear errors up front.
import { beforeEach, describe, expect, it } from 'vitest';
import { EarlyStopping, type FitContext } from '../src/callbacks';
import { Dense, ReLU } from '../src/layers/index';
import * as metrics from '../src/metrics';
import { Sequential } from '../src/network';
import { SGD } from '../src/optimizers';
import { ProgressBar } from '../src/progress';
import { Tensor } from '../src/tensor';
import { backends, randn, useBackend } from './helpers';

/** 60 samples of 4 features, 3 classes that a random network gets partly right. */
function classification(): { x: Tensor; y: Int32Array } {
  const x = randn([60, 4], 11).astype('float32');
  const y = Int32Array.from({ length: 60 }, (_, i) => (x.data[i * 4] > 0.3 ? 0 : x.data[i * 4 + 1] > 0 ? 1 : 2));
  return { x, y };
}

function rows(t: Tensor, a: number, b: number): Tensor {
  const per = t.size / t.shape[0];
  return new Tensor(t.data.slice(a * per, b * per), [b - a, ...t.shape.slice(1)]);
}

/** SGD whose rate is 0: the weights stay as they are, so an epoch's outputs are the network's outputs on x. */
const frozen = () => new SGD({ lr: 0.1, schedule: () => 0 });

describe.each(backends)('metrics in fit() and evaluate() on $label', (bc) => {
  beforeEach(() => useBackend(bc));

  it('classification: f1, precision, recall, topKAccuracy per epoch on all the epoch\'s outputs, and on the validation data', async () => {
    const { x, y } = classification();
    const net = new Sequential([new Dense(4, 8), new ReLU(), new Dense(8, 3)], { seed: 2 });
    const h = await net.fit(x, y, { optimizer: frozen(), epochs: 2, batchSize: 8, shuffle: false, validationSplit: 0.25,
      metrics: ['f1', 'precision', 'recall', metrics.get('topKAccuracy', { k: 2 })] });
    expect(Object.keys(h).sort()).toEqual(['accuracy', 'f1', 'loss', 'lr', 'precision', 'recall', 'topKAccuracy', 'valAccuracy',
      'valF1', 'valLoss', 'valPrecision', 'valRecall', 'valTopKAccuracy'].sort());
    const train = net.forward(rows(x, 0, 45)), yTrain = y.slice(0, 45), val = net.forward(rows(x, 45, 60)), yVal = y.slice(45);
    const f1 = metrics.f1(train, yTrain);
    for (const e of [0, 1]) {
      expect(h.f1![e]).toBeCloseTo(f1, 12);
      expect(h.precision![e]).toBeCloseTo(metrics.precision(train, yTrain), 12);
      expect(h.recall![e]).toBeCloseTo(metrics.recall(train, yTrain), 12);
      expect(h.topKAccuracy![e]).toBeCloseTo(metrics.topKAccuracy(train, yTrain, { k: 2 }), 12);
      expect(h.accuracy![e]).toBeCloseTo(metrics.accuracy(train, yTrain), 12);
      expect(h.valF1![e]).toBeCloseTo(metrics.f1(val, yVal), 12);
      expect(h.valTopKAccuracy![e]).toBeCloseTo(metrics.topKAccuracy(val, yVal, { k: 2 }), 12);
    }
    // the mean of the 6 batches' F1s is another number: F1 is not averaged over batches
    let batchMean = 0;
    for (let s = 0; s < 45; s += 8) batchMean += metrics.f1(rows(train, s, Math.min(45, s + 8)), yTrain.slice(s, s + 8)) / 6;
    expect(Math.abs(batchMean - f1)).toBeGreaterThan(1e-3);
  });

  it('regression: mae, rmse and r2 (no accuracy), over the epoch and the validation data', async () => {
    const x = randn([40, 3], 5).astype('float32');
    const t = new Tensor(Float32Array.from({ length: 80 }, (_, i) => x.data[Math.floor(i / 2) * 3] * (i % 2 ? 2 : -1) + 0.5), [40, 2]);
    const net = new Sequential([new Dense(3, 6), new ReLU(), new Dense(6, 2)], { seed: 3 });
    const h = await net.fit(x, t, { loss: 'mse', optimizer: frozen(), epochs: 1, batchSize: 7, validationSplit: 0.25,
      metrics: ['mae', 'rmse', 'r2'] });
    expect(Object.keys(h).sort()).toEqual(['loss', 'lr', 'mae', 'r2', 'rmse', 'valLoss', 'valMae', 'valR2', 'valRmse']);
    const train = net.forward(rows(x, 0, 30)), tTrain = rows(t, 0, 30), val = net.forward(rows(x, 30, 40)), tVal = rows(t, 30, 40);
    expect(h.mae![0]).toBeCloseTo(metrics.mae(train, tTrain), 6);
    expect(h.rmse![0]).toBeCloseTo(metrics.rmse(train, tTrain), 6);
    expect(h.r2![0]).toBeCloseTo(metrics.r2(train, tTrain), 6);
    expect(h.valR2![0]).toBeCloseTo(metrics.r2(val, tVal), 6);
    expect(h.valMae![0]).toBeCloseTo(metrics.mae(val, tVal), 6);
    // R² of the whole epoch, not of a batch
    expect(Math.abs(metrics.r2(rows(train, 0, 7), rows(tTrain, 0, 7)) - h.r2![0])).toBeGreaterThan(1e-3);
  });

  it('evaluate(): the metrics on all of x, whatever the batch size', () => {
    const { x, y } = classification();
    const net = new Sequential([new Dense(4, 8), new ReLU(), new Dense(8, 3)], { seed: 2 });
    const out = net.forward(x);  // no dropout or batch norm: the same in eval mode
    const all = net.evaluate(x, y, { loss: 'softmaxCrossEntropy', metrics: ['f1', 'recall'] });
    const batched = net.evaluate(x, y, { loss: 'softmaxCrossEntropy', metrics: ['f1', 'recall'], batchSize: 7 });
    expect(Object.keys(all)).toEqual(['loss', 'accuracy', 'f1', 'recall']);
    expect(all.f1).toBeCloseTo(metrics.f1(out, y), 12);
    expect(all.recall).toBeCloseTo(metrics.recall(out, y), 12);
    expect(all.accuracy).toBeCloseTo(metrics.accuracy(out, y), 12);
    expect(batched.f1).toBe(all.f1);
    expect(batched.recall).toBe(all.recall);
  });

  it('compile({ metrics }) sets the metrics fit() and evaluate() report when their options name none', async () => {
    const { x, y } = classification();
    const net = new Sequential([new Dense(4, 8), new ReLU(), new Dense(8, 3)], { seed: 2 });
    net.compile({ loss: 'softmaxCrossEntropy', optimizer: frozen(), metrics: ['f1'] });
    const h = await net.fit(x, y, { epochs: 1, batchSize: 8, shuffle: false });
    expect(Object.keys(h)).toEqual(['loss', 'accuracy', 'f1', 'lr', 'valLoss']);
    expect(h.f1?.[0]).toBeCloseTo(metrics.f1(net.forward(x), y), 12);
    expect(Object.keys(net.evaluate(x, y))).toEqual(['loss', 'accuracy', 'f1']);
    expect(Object.keys(net.evaluate(x, y, { metrics: ['recall'] }))).toEqual(['loss', 'accuracy', 'recall']);
    expect(() => net.compile({ loss: 'mse', metrics: ['r2', 'f1'] })).not.toThrow();
    expect(() => net.compile({ loss: 'softmaxCrossEntropy', metrics: ['r2'] })).toThrow(/r2/);
    expect(() => net.compile({ metrics: ['nope'] as never })).toThrow(/nope/);
  });
});

describe('accuracy and metric options', () => {
  it('accuracy is reported for classification losses only, unless the metrics ask for it', async () => {
    const x = randn([12, 2], 1).astype('float32'), t = new Tensor(Float32Array.from({ length: 12 }, (_, i) => i % 2), [12, 1]);
    const net = () => new Sequential([new Dense(2, 1)], { seed: 1 });
    const seen: string[][] = [];
    const h = await net().fit(x, t, { loss: 'mse', epochs: 1, batchSize: 4, validationSplit: 0.25,
      onEpochEnd: (e) => { seen.push(Object.keys(e)); }, onBatchEnd: (b) => { seen.push(Object.keys(b)); } });
    expect(Object.keys(h).sort()).toEqual(['loss', 'lr', 'valLoss']);
    expect(seen[0]).toEqual(['epoch', 'batch', 'batches', 'size', 'loss', 'lr']);
    expect(seen.at(-1)).toEqual(['epoch', 'loss', 'lr', 'valLoss']);
    const custom = await net().fit(x, t, { loss: (o, tt) => metricsFree(o, tt), epochs: 1 });
    expect(Object.keys(custom).sort()).toEqual(['loss', 'lr', 'valLoss']);
    const asked = await net().fit(x, t, { loss: 'mse', epochs: 1, metrics: ['accuracy'], validationSplit: 0.25 });
    expect(Object.keys(asked).sort()).toEqual(['accuracy', 'loss', 'lr', 'valAccuracy', 'valLoss']);
    expect(Object.keys(net().evaluate(x, t, { loss: 'mse' }))).toEqual(['loss']);
    expect(Object.keys(net().evaluate(x, t, { loss: 'mse', metrics: ['accuracy', 'f1'] }))).toEqual(['loss', 'accuracy', 'f1']);
  });

  it('callbacks monitor metrics in the direction the registry gives; the progress line shows them', async () => {
    const { x, y } = classification();
    const net = new Sequential([new Dense(4, 3)], { seed: 2 });
    let reported: FitContext['reported'] | undefined;
    const lines: string[] = [];
    const stopper = new EarlyStopping({ monitor: 'val_f1', patience: 10 });
    await net.fit(x, y, { optimizer: new SGD({ lr: 0.1 }), epochs: 2, validationSplit: 0.2, metrics: ['f1', 'topKAccuracy'], callbacks: [
      { onTrainBegin: (_i, fit) => { reported = fit.reported; } }, stopper,
      new ProgressBar({ output: { write: (s: string) => { lines.push(s); } } }),
    ] });
    expect(reported).toEqual({ loss: 'min', accuracy: 'max', f1: 'max', topKAccuracy: 'max', valLoss: 'min', valAccuracy: 'max',
      valF1: 'max', valTopKAccuracy: 'max', lr: null });
    expect(stopper.bestEpoch).toBeGreaterThanOrEqual(0);
    expect(lines.join('')).toMatch(/^epoch 1\/2 {2}loss \d\.\d{4} {2}acc [\d.]+% {2}f1 \d\.\d{4} {2}topKAccuracy \d\.\d{4} {2}val_loss \d\.\d{4} {2}val_acc [\d.]+% {2}val_f1 \d\.\d{4} {2}val_topKAccuracy \d\.\d{4} {2}/);
    const reg = new Sequential([new Dense(4, 1)], { seed: 1 });
    await reg.fit(x, new Tensor(Float32Array.from(y), [60, 1]), { loss: 'mse', epochs: 1, metrics: ['mae', 'r2'], validationSplit: 0.2,
      callbacks: [{ onTrainBegin: (_i, fit) => { reported = fit.reported; } }] });
    expect(reported).toMatchObject({ mae: 'min', r2: 'max', valMae: 'min', valR2: 'max' });
  });

  it('the metrics option is checked; a metric that cannot read the targets fails on the first batch, before any step', async () => {
    const { x, y } = classification();
    const net = new Sequential([new Dense(4, 3)], { seed: 2 });
    const before = Float32Array.from(net.layers[0].params[0].data);
    await expect(net.fit(x, y, { metrics: 'f1' as never }))
      .rejects.toThrow("fit(): metrics must be an array of metric names ('accuracy', 'topKAccuracy', 'precision', 'recall', 'f1', 'mae', 'mse', 'rmse', 'r2') or metrics.get() results, got the string 'f1'");
    await expect(net.fit(x, y, { metrics: ['auc' as never] })).rejects.toThrow("fit(): metrics[0] must be one of 'accuracy', 'topKAccuracy'");
    await expect(net.fit(x, y, { metrics: ['f1', metrics.get('f1', { zeroDivision: 1 })] })).rejects.toThrow("fit(): metrics names 'f1' twice");
    await expect(net.fit(x, y, { metrics: [{ name: 'f1' } as never] })).rejects.toThrow('fit(): metrics[0] must be a metric name or a metrics.get() result, got an object');
    await expect(net.fit(x, y, { metrics: ['mae'] }))
      .rejects.toThrow("fit(): 'mae' is a regression metric, but the loss the string 'softmaxCrossEntropy' is a classification loss");
    expect(() => net.evaluate(x, y, { loss: 'softmaxCrossEntropy', metrics: ['r2'] })).toThrow("evaluate(): 'r2' is a regression metric");
    // f1 of a regression's real-valued targets: the registry's error, on the first batch
    const reg = new Sequential([new Dense(4, 1)], { seed: 1 });
    const regBefore = Float32Array.from(reg.layers[0].params[0].data);
    const t = new Tensor(Float32Array.from({ length: 60 }, (_, i) => i / 7), [60, 1]);
    let batches = 0;
    await expect(reg.fit(x, t, { loss: 'mse', metrics: ['f1'], onBatchEnd: () => { batches++; } }))
      .rejects.toThrow(/^fit\(\): metric 'f1': f1: labels\[\d+\] = [\d.]+ is not a class index/);
    expect(batches).toBe(0);
    expect(reg.layers[0].params[0].data).toEqual(regBefore);
    expect(net.layers[0].params[0].data).toEqual(before);
  });
});

function metricsFree(o: Tensor, t: Tensor | Int32Array) {
  const tt = t as Tensor, grad = Tensor.zeros(o.shape, o.dtype);
  let loss = 0;
  for (let i = 0; i < o.size; i++) {
    const d = o.data[i] - tt.data[i];
    loss += d * d / o.size;
    grad.data[i] = (2 * d) / o.size;
  }
  return { loss, grad };
}
