// nn.metrics against hand-computed values (sklearn's definitions), on every backend (the predicted class is the
// argmaxRows kernel's first maximum): accuracy, top-k, confusion matrix, macro precision / recall / F1 with
// zero division, MAE / MSE / RMSE / R², the registry, and clear errors.
import { beforeEach, describe, expect, it } from 'vitest';
import * as metrics from '../src/metrics';
import { Tensor } from '../src/tensor';
import { backends, useBackend } from './helpers';

const f64 = (rows: number[][]) => new Tensor(Float64Array.from(rows.flat()), [rows.length, rows[0].length]);
const truth = new Int32Array([0, 0, 1, 1, 2, 2, 2, 0]);
const predicted = new Int32Array([0, 1, 1, 1, 2, 0, 2, 0]);
/** Scores whose first maximum is `predicted` (a tie in row 2 resolves to the first class). */
const scores = f64([[2, 1, 0], [0, 3, 1], [0.1, 0.5, 0.5], [0, 1, 0], [0, 0, 1], [4, 3, 2], [0, 0, 9], [1, 0, 0]]);

describe.each(backends)('classification metrics on $label', (bc) => {
  beforeEach(() => useBackend(bc));

  it('confusion matrix (rows: labels, columns: predictions) and accuracy, from scores, indices or one-hot labels', () => {
    const want = [[2, 1, 0], [0, 2, 0], [1, 0, 2]];
    expect(metrics.confusionMatrix(predicted, truth)).toEqual(want);
    expect(metrics.confusionMatrix(scores, truth)).toEqual(want);
    const oneHot = f64(Array.from(truth, (k) => [0, 1, 2].map((c) => (c === k ? 1 : 0))));
    expect(metrics.confusionMatrix(scores, oneHot)).toEqual(want);
    expect(metrics.confusionMatrix(scores, new Tensor(Float32Array.from(truth), [8]))).toEqual(want);
    expect(metrics.accuracy(scores, truth)).toBe(0.75);
    expect(metrics.accuracy(predicted, truth)).toBe(0.75);
    // a class that never occurs still has its row and column
    expect(metrics.confusionMatrix(new Int32Array([0, 1]), new Int32Array([0, 0]), { numClasses: 3 }))
      .toEqual([[1, 1, 0], [0, 0, 0], [0, 0, 0]]);
  });

  it('macro precision 7/9, recall 7/9, F1 34/45 (the mean of per-class F1s)', () => {
    // per class: precision 2/3, 2/3, 1; recall 2/3, 1, 2/3; F1 = 2TP/(2TP+FP+FN) 4/6, 4/5, 4/5
    expect(metrics.precision(scores, truth)).toBeCloseTo(7 / 9, 15);
    expect(metrics.recall(scores, truth)).toBeCloseTo(7 / 9, 15);
    expect(metrics.f1(scores, truth)).toBeCloseTo((2 / 3 + 0.8 + 0.8) / 3, 15);
  });

  it('zero division: a class never predicted has precision zeroDivision; classes that never occur are left out', () => {
    const t = new Int32Array([0, 0, 1]), p = new Int32Array([0, 0, 0]);
    expect(metrics.precision(p, t)).toBeCloseTo((2 / 3 + 0) / 2, 15);
    expect(metrics.precision(p, t, { zeroDivision: 1 })).toBeCloseTo((2 / 3 + 1) / 2, 15);
    expect(metrics.recall(p, t)).toBe(0.5);
    expect(metrics.f1(p, t)).toBeCloseTo((0.8 + 0) / 2, 15);
    // scores over 4 classes, classes 2 and 3 in neither labels nor predictions: averaged over classes 0 and 1
    const s = f64([[1, 0, 0, 0], [1, 0, 0, 0], [1, 0, 0, 0]]);
    expect(metrics.precision(s, t)).toBeCloseTo(1 / 3, 15);
    expect(() => metrics.precision(p, t, { zeroDivision: 2 as never })).toThrow(/precision: zeroDivision must be 0 or 1/);
  });

  it('a single-column output needs its threshold: 0 for logits, 0.5 for probabilities', () => {
    const logits = f64([[-1], [2], [0], [0.3]]), labels = new Int32Array([0, 1, 1, 1]);
    expect(() => metrics.accuracy(logits, labels)).toThrow(
      /accuracy: the output has one column \(a binary classifier\): pass \{ threshold: 0 \} for logits or \{ threshold: 0.5 \} for probabilities/);
    expect(metrics.accuracy(logits, labels, { threshold: 0 })).toBe(0.75);
    expect(metrics.confusionMatrix(logits, labels, { threshold: 0 })).toEqual([[1, 0], [1, 2]]);
    expect(metrics.accuracy(new Tensor(new Float64Array([0.2, 0.9, 0.5, 0.6]), [4]), labels, { threshold: 0.5 })).toBe(0.75);
  });

  it('top-k accuracy: the label among the k highest scores; a tie at the k-th place counts for the label', () => {
    const s = f64([[0.1, 0.5, 0.3, 0.1], [0.4, 0.4, 0.1, 0.1], [0.1, 0.2, 0.3, 0.4]]), labels = new Int32Array([2, 1, 0]);
    expect([1, 2, 3, 4].map((k) => metrics.topKAccuracy(s, labels, { k }))).toEqual([1 / 3, 2 / 3, 2 / 3, 1]);
    expect(metrics.topKAccuracy(s, labels)).toBe(1);  // k = 5 by default, more than the classes
    expect(() => metrics.topKAccuracy(s, labels, { k: 0 })).toThrow(/topKAccuracy: k must be a positive integer, got 0/);
    expect(() => metrics.topKAccuracy(f64([[1], [2]]), new Int32Array([0, 1]))).toThrow(/at least 2 classes/);
    const nan = f64([[NaN, 1], [0, 1]]);
    expect(metrics.topKAccuracy(nan, new Int32Array([0, 0]), { k: 1 })).toBe(0);  // a NaN score is no hit
  });

  it('bad input is a named error', () => {
    expect(() => metrics.accuracy(scores, new Int32Array(3))).toThrow(/accuracy: labels has 3 entries but the output has 8 samples/);
    expect(() => metrics.accuracy(scores, new Int32Array([0, 0, 0, 0, 0, 0, 0, 3]))).toThrow(/accuracy: labels\[7\] = 3 is outside \[0, 3\)/);
    expect(() => metrics.accuracy(f64([[NaN, 1], [0, 1]]), new Int32Array([0, 1]))).toThrow(/accuracy: output\[0\] holds NaN/);
    expect(() => metrics.recall(scores, truth, { numClasses: 4 })).toThrow(/recall: numClasses is 4 but the output has 3 classes/);
    expect(() => metrics.f1(scores, f64([[1, 0]]))).toThrow(/f1: labels has shape \[1, 2\]: expected 8 class indices or one-hot targets of 8 x 3/);
    expect(() => metrics.accuracy(scores, new Tensor(new Float64Array(8).fill(0.5), [8]))).toThrow(/labels\[0\] = 0.5 is not a class index/);
    expect(() => metrics.accuracy([1, 2] as never, truth)).toThrow(TypeError);
    expect(() => metrics.confusionMatrix(new Int32Array([0, -1]), new Int32Array([0, 1]))).toThrow(/output\[1\] = -1 is not a class index/);
  });
});

describe('regression metrics', () => {
  const p = f64([[1, 2], [3, 4], [5, 7]]), t = f64([[1, 1], [2, 4], [5, 5]]);

  it('MAE 2/3, MSE 1, RMSE 1 over every element; R² the mean over columns of 1 − SSres/SStot (17/26)', () => {
    expect(metrics.mae(p, t)).toBeCloseTo(2 / 3, 15);
    expect(metrics.mse(p, t)).toBe(1);
    expect(metrics.rmse(p, t)).toBe(1);
    // column 0: 1 − 1 / (26/3) = 23/26; column 1: 1 − 5 / (26/3) = 11/26
    expect(metrics.r2(p, t)).toBeCloseTo(17 / 26, 15);
    expect(metrics.r2(t, t)).toBe(1);
    // one output per sample, targets as an Int32Array
    expect(metrics.mae(f64([[1], [2], [4]]), new Int32Array([1, 3, 3]))).toBeCloseTo(2 / 3, 15);
  });

  it('R² of constant targets: 1 if predicted exactly, else 0 (sklearn\'s force_finite); needs 2 samples', () => {
    expect(metrics.r2(f64([[2], [2]]), f64([[2], [2]]))).toBe(1);
    expect(metrics.r2(f64([[2], [3]]), f64([[2], [2]]))).toBe(0);
    expect(() => metrics.r2(f64([[2]]), f64([[2]]))).toThrow(/r2: needs at least 2 samples, got 1/);
    expect(() => metrics.mae(p, f64([[1, 2]]))).toThrow(/mae: target has shape \[1, 2\] but the output has shape \[3, 2\]/);
  });
});

describe('the metric registry', () => {
  it('get(name, options) gives { name, kind, greaterIsBetter, compute } with the options bound', () => {
    const top2 = metrics.get('topKAccuracy', { k: 2 });
    expect([top2.name, top2.kind, top2.greaterIsBetter]).toEqual(['topKAccuracy', 'classification', true]);
    expect(top2.compute(f64([[0.1, 0.5, 0.3, 0.1], [0.1, 0.2, 0.3, 0.4]]), new Int32Array([2, 0]))).toBe(0.5);
    const rmse = metrics.get('rmse');
    expect([rmse.kind, rmse.greaterIsBetter]).toEqual(['regression', false]);
    expect(rmse.compute(f64([[1], [3]]), f64([[0], [0]]))).toBeCloseTo(Math.sqrt(5), 15);
    expect(metrics.get('accuracy', { threshold: 0 }).compute(f64([[-1], [1]]), new Int32Array([0, 1]))).toBe(1);
    expect(metrics.METRIC_NAMES).toEqual(['accuracy', 'topKAccuracy', 'precision', 'recall', 'f1', 'mae', 'mse', 'rmse', 'r2']);
    for (const name of metrics.METRIC_NAMES) expect(metrics.get(name).name).toBe(name);
  });

  it('refuses unknown metrics and options the metric does not take', () => {
    expect(() => metrics.get('auc' as never)).toThrow(/metric must be one of 'accuracy', .*'r2', got "auc"/);
    expect(() => metrics.get('mae', { k: 3 })).toThrow(/metric 'mae' takes no options, got 'k'/);
    expect(() => metrics.get('accuracy', { k: 3 })).toThrow(/metric 'accuracy' takes 'threshold', 'numClasses', got 'k'/);
    expect(() => metrics.get('f1', null as never)).toThrow(TypeError);
  });
});
