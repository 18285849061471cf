// Metrics: pure functions of a network's output and the targets, for classification (accuracy, top-k accuracy,
// macro precision / recall / F1, the confusion matrix) and regression (MAE, MSE, RMSE, R²), with sklearn's
// definitions. Each scalar metric is also in a registry, get(name) → { name, kind, greaterIsBetter, compute }, so
// that compile/evaluate/callbacks can name them.
//
// Classification output: scores (N, C) with C ≥ 2 (logits or probabilities: the predicted class is the first
// maximum of each row), or the predicted class indices themselves (an Int32Array of N). A single-column output
// (N) or (N, 1) is a binary classifier's logit or probability: it needs { threshold } (0 for logits, 0.5 for
// probabilities), as nothing in the numbers tells the two apart. Labels: class indices (Int32Array of N), or a
// Tensor of N class values, or one-hot / soft targets the size of the scores (their first maximum is the class).
//
// Regression output: any (N, ...) Tensor; targets a Tensor of the same size (or an Int32Array of N values for
// one output per sample).
import { getBackend } from './backend/index';
import { Tensor, formatShape } from './tensor';
import { finiteNumber, optionsObject, positiveInt } from './validate';

/** What a metric scores: class predictions or regression values. */
export type MetricKind = 'classification' | 'regression';

/** Options of the classification metrics. */
export interface ClassificationOptions {
  /** The decision threshold of a single-column output: 0 for a logit, 0.5 for a probability. Required there. */
  threshold?: number;
  /** The number of classes, when the output holds class indices (default: the largest index seen + 1). */
  numClasses?: number;
}

/** Options of precision, recall and F1. */
export interface ScoreOptions extends ClassificationOptions {
  /**
   * The value of a precision or recall whose denominator is 0 (a class never predicted, or never present),
   * as sklearn's zero_division (default 0).
   */
  zeroDivision?: 0 | 1;
}

/** Options of topKAccuracy. */
export interface TopKOptions {
  /** How many of the highest scores count (default 5, as Keras's top_k_categorical_accuracy). */
  k?: number;
}

function fail(name: string, message: string, type: 'type' | 'range' = 'range'): never {
  const text = `${name}: ${message}`;
  throw type === 'type' ? new TypeError(text) : new RangeError(text);
}

function samplesOf(output: Tensor, name: string): number {
  if (!(output instanceof Tensor)) fail(name, 'output must be a Tensor', 'type');
  if (output.ndim < 1 || output.shape[0] === 0 || output.size === 0) {
    fail(name, `output must be a non-empty (N, ...) tensor, got shape ${formatShape(output.shape)}`);
  }
  return output.shape[0];
}

/** The predicted class of each sample, and the number of classes the output can tell (0 if unknown). */
function predictedClasses(output: Tensor | Int32Array, opts: ClassificationOptions, name: string): [Int32Array, number] {
  if (output instanceof Int32Array) {
    if (output.length === 0) fail(name, 'output holds no predictions');
    output.forEach((k, i) => { if (k < 0) fail(name, `output[${i}] = ${k} is not a class index`); });
    return [output, 0];
  }
  const n = samplesOf(output, name), cols = output.size / n;
  const d = output.data;
  for (let i = 0; i < d.length; i++) {
    if (Number.isNaN(d[i])) fail(name, `output[${Math.floor(i / cols)}] holds NaN: no class can be read from it`);
  }
  const pred = new Int32Array(n);
  if (cols === 1) {
    const t = opts.threshold;
    if (t === undefined) {
      fail(name, 'the output has one column (a binary classifier): pass { threshold: 0 } for logits or ' +
      '{ threshold: 0.5 } for probabilities');
    }
    finiteNumber(t, `${name}: threshold`);
    for (let i = 0; i < n; i++) pred[i] = d[i] > t ? 1 : 0;
    return [pred, 2];
  }
  getBackend().argmaxRows(n, cols, d, pred);
  return [pred, cols];
}

/** The true class of each of n samples. */
function trueClasses(labels: Int32Array | Tensor, n: number, cols: number, name: string): Int32Array {
  if (labels instanceof Int32Array) {
    if (labels.length !== n) fail(name, `labels has ${labels.length} entries but the output has ${n} samples`);
    labels.forEach((k, i) => {
      if (k < 0 || (cols > 0 && k >= cols)) fail(name, `labels[${i}] = ${k} is outside [0, ${cols > 0 ? cols : 'numClasses'})`);
    });
    return labels;
  }
  if (!(labels instanceof Tensor)) fail(name, 'labels must be an Int32Array of class indices or a Tensor', 'type');
  if (labels.size === n) {
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const v = labels.data[i];
      if (!Number.isInteger(v) || v < 0 || (cols > 0 && v >= cols)) {
        fail(name, `labels[${i}] = ${v} is not a class index in [0, ${cols > 0 ? cols : 'numClasses'})`);
      }
      out[i] = v;
    }
    return out;
  }
  if (cols > 1 && labels.size === n * cols) {
    const out = new Int32Array(n);
    getBackend().argmaxRows(n, cols, labels.data, out);
    return out;
  }
  return fail(name, `labels has shape ${formatShape(labels.shape)}: expected ${n} class indices` +
    (cols > 1 ? ` or one-hot targets of ${n} x ${cols}` : ''));
}

function classesOf(output: Tensor | Int32Array, labels: Int32Array | Tensor, opts: ClassificationOptions,
  name: string): { pred: Int32Array; truth: Int32Array; numClasses: number } {
  optionsObject(opts, `${name}: options`);
  const [pred, cols] = predictedClasses(output, opts, name);
  let numClasses = cols;
  if (opts.numClasses !== undefined) {
    positiveInt(opts.numClasses, `${name}: numClasses`);
    if (cols > 0 && opts.numClasses !== cols) fail(name, `numClasses is ${opts.numClasses} but the output has ${cols} classes`);
    numClasses = opts.numClasses;
  }
  const truth = trueClasses(labels, pred.length, numClasses, name);
  if (numClasses === 0) {
    let top = 0;
    for (let i = 0; i < pred.length; i++) top = Math.max(top, pred[i], truth[i]);
    numClasses = top + 1;
  } else {
    pred.forEach((k, i) => { if (k >= numClasses) fail(name, `output[${i}] = ${k} is outside [0, ${numClasses})`); });
  }
  return { pred, truth, numClasses };
}

/** The fraction of samples whose predicted class is the label. */
export function accuracy(output: Tensor | Int32Array, labels: Int32Array | Tensor, opts: ClassificationOptions = {}): number {
  const { pred, truth } = classesOf(output, labels, opts, 'accuracy');
  let correct = 0;
  for (let i = 0; i < pred.length; i++) if (pred[i] === truth[i]) correct++;
  return correct / pred.length;
}

/**
 * The fraction of samples whose label is among the k highest scores of (N, C). A tie at the k-th place counts
 * for the label (TensorFlow's in_top_k rule): the label is in the top k when fewer than k classes score higher.
 */
export function topKAccuracy(output: Tensor, labels: Int32Array | Tensor, opts: TopKOptions = {}): number {
  const name = 'topKAccuracy';
  const n = samplesOf(output, name), cols = output.size / n;
  if (cols < 2) fail(name, `output must hold scores of at least 2 classes, got shape ${formatShape(output.shape)}`);
  const k = positiveInt(optionsObject(opts, `${name}: options`).k ?? 5, `${name}: k`);
  const truth = trueClasses(labels, n, cols, name);
  const d = output.data;
  let correct = 0;
  for (let r = 0; r < n; r++) {
    const o = r * cols, s = d[o + truth[r]];
    if (Number.isNaN(s)) continue;
    let higher = 0;
    for (let c = 0; c < cols; c++) if (d[o + c] > s || Number.isNaN(d[o + c])) higher++;
    if (higher < k) correct++;
  }
  return correct / n;
}

/**
 * The confusion matrix, sklearn's layout: matrix[i][j] counts the samples of true class i predicted as class j
 * (rows: labels, columns: predictions), for every class 0 .. numClasses − 1.
 */
export function confusionMatrix(output: Tensor | Int32Array, labels: Int32Array | Tensor,
  opts: ClassificationOptions = {}): number[][] {
  return confusionMatrixOf(output, labels, opts, 'confusionMatrix');
}

interface PerClass { precision: number[]; recall: number[]; f1: number[]; present: boolean[] }

function perClass(output: Tensor | Int32Array, labels: Int32Array | Tensor, opts: ScoreOptions, name: string): PerClass {
  const zero = opts.zeroDivision ?? 0;
  if (zero !== 0 && zero !== 1) fail(name, `zeroDivision must be 0 or 1, got ${String(zero)}`);
  const m = confusionMatrixOf(output, labels, opts, name);
  const c = m.length, out: PerClass = { precision: [], recall: [], f1: [], present: [] };
  for (let k = 0; k < c; k++) {
    let predicted = 0, actual = 0;
    for (let j = 0; j < c; j++) { predicted += m[j][k]; actual += m[k][j]; }
    const tp = m[k][k];
    out.precision.push(predicted > 0 ? tp / predicted : zero);
    out.recall.push(actual > 0 ? tp / actual : zero);
    // sklearn's F1 from the counts: 2 TP / (2 TP + FP + FN), zeroDivision when there is nothing to count
    out.f1.push(predicted + actual > 0 ? (2 * tp) / (predicted + actual) : zero);
    out.present.push(predicted + actual > 0);
  }
  return out;
}

function confusionMatrixOf(output: Tensor | Int32Array, labels: Int32Array | Tensor, opts: ClassificationOptions,
  name: string): number[][] {
  const { pred, truth, numClasses } = classesOf(output, labels, opts, name);
  const m = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  for (let i = 0; i < pred.length; i++) m[truth[i]][pred[i]]++;
  return m;
}

/** The unweighted mean over the classes that occur (in the labels or the predictions), as sklearn's 'macro'. */
function macro(values: number[], present: boolean[]): number {
  let s = 0, n = 0;
  values.forEach((v, k) => { if (present[k]) { s += v; n++; } });
  return s / n;
}

/**
 * Macro-averaged precision: TP / (TP + FP) per class, averaged over the classes that occur in the labels or the
 * predictions (sklearn's average='macro', also for two classes). A class never predicted has precision
 * zeroDivision (0 by default).
 */
export function precision(output: Tensor | Int32Array, labels: Int32Array | Tensor, opts: ScoreOptions = {}): number {
  const p = perClass(output, labels, opts, 'precision');
  return macro(p.precision, p.present);
}

/** Macro-averaged recall: TP / (TP + FN) per class, averaged as precision() is. */
export function recall(output: Tensor | Int32Array, labels: Int32Array | Tensor, opts: ScoreOptions = {}): number {
  const p = perClass(output, labels, opts, 'recall');
  return macro(p.recall, p.present);
}

/**
 * Macro-averaged F1: per class 2 TP / (2 TP + FP + FN) (the harmonic mean of its precision and recall), averaged
 * over the classes as precision() is — the mean of the F1s, not the F1 of the means (as sklearn).
 */
export function f1(output: Tensor | Int32Array, labels: Int32Array | Tensor, opts: ScoreOptions = {}): number {
  const p = perClass(output, labels, opts, 'f1');
  return macro(p.f1, p.present);
}

/** Prediction and target as equal-length arrays. */
function regressionPair(output: Tensor, target: Tensor | Int32Array, name: string): [ArrayLike<number>, ArrayLike<number>, number, number] {
  const n = samplesOf(output, name), cols = output.size / n;
  if (target instanceof Tensor) {
    if (target.size !== output.size) {
      fail(name, `target has shape ${formatShape(target.shape)} but the output has shape ${formatShape(output.shape)}`);
    }
    return [output.data, target.data, n, cols];
  }
  if (target instanceof Int32Array) {
    if (cols !== 1 || target.length !== n) fail(name, `target has ${target.length} values but the output has shape ${formatShape(output.shape)}`);
    return [output.data, target, n, cols];
  }
  return fail(name, 'target must be a Tensor (or an Int32Array of values for one output per sample)', 'type');
}

/** Mean absolute error over every element: mean |p − t|. */
export function mae(output: Tensor, target: Tensor | Int32Array): number {
  const [p, t] = regressionPair(output, target, 'mae');
  let s = 0;
  for (let i = 0; i < p.length; i++) s += Math.abs(p[i] - t[i]);
  return s / p.length;
}

/** Mean squared error over every element: mean (p − t)² (the loss 'mse' with reduction 'mean'). */
export function mse(output: Tensor, target: Tensor | Int32Array): number {
  const [p, t] = regressionPair(output, target, 'mse');
  let s = 0;
  for (let i = 0; i < p.length; i++) s += (p[i] - t[i]) ** 2;
  return s / p.length;
}

/** Root mean squared error over every element: √(mean (p − t)²). */
export function rmse(output: Tensor, target: Tensor | Int32Array): number {
  const [p, t] = regressionPair(output, target, 'rmse');
  let s = 0;
  for (let i = 0; i < p.length; i++) s += (p[i] - t[i]) ** 2;
  return Math.sqrt(s / p.length);
}

/**
 * The coefficient of determination, sklearn's r2_score: per output column 1 − Σ (t − p)² / Σ (t − mean t)²,
 * averaged over the columns (multioutput='uniform_average'). A column whose targets are constant scores 1 if
 * predicted exactly and 0 otherwise (sklearn's force_finite). Needs at least 2 samples.
 */
export function r2(output: Tensor, target: Tensor | Int32Array): number {
  const [p, t, n, cols] = regressionPair(output, target, 'r2');
  if (n < 2) fail('r2', `needs at least 2 samples, got ${n}`);
  let total = 0;
  for (let c = 0; c < cols; c++) {
    let mean = 0;
    for (let r = 0; r < n; r++) mean += t[r * cols + c];
    mean /= n;
    let res = 0, tot = 0;
    for (let r = 0; r < n; r++) {
      const i = r * cols + c;
      res += (t[i] - p[i]) ** 2;
      tot += (t[i] - mean) ** 2;
    }
    total += tot > 0 ? 1 - res / tot : res === 0 ? 1 : 0;
  }
  return total / cols;
}

/** The built-in metrics, by name. */
export type MetricName = 'accuracy' | 'topKAccuracy' | 'precision' | 'recall' | 'f1' | 'mae' | 'mse' | 'rmse' | 'r2';

/** A metric with its options bound, as metrics.get() returns it. */
export interface Metric {
  readonly name: MetricName;
  readonly kind: MetricKind;
  /** Whether a larger value is better (accuracy, R²) or worse (MAE): what a callback monitoring it needs. */
  readonly greaterIsBetter: boolean;
  /** The metric of a batch of outputs against its targets (class indices or a tensor). */
  compute(output: Tensor, target: Int32Array | Tensor): number;
}

/** Options a metric is made with: the options of its function. */
export type MetricOptions = ScoreOptions & TopKOptions;

const REGISTRY: Record<MetricName, { kind: MetricKind; greaterIsBetter: boolean;
  fn: (o: Tensor, t: Int32Array | Tensor, opts: MetricOptions) => number; options: readonly string[] }> = {
  accuracy: { kind: 'classification', greaterIsBetter: true, fn: accuracy, options: ['threshold', 'numClasses'] },
  topKAccuracy: { kind: 'classification', greaterIsBetter: true, fn: topKAccuracy, options: ['k'] },
  precision: { kind: 'classification', greaterIsBetter: true, fn: precision, options: ['threshold', 'numClasses', 'zeroDivision'] },
  recall: { kind: 'classification', greaterIsBetter: true, fn: recall, options: ['threshold', 'numClasses', 'zeroDivision'] },
  f1: { kind: 'classification', greaterIsBetter: true, fn: f1, options: ['threshold', 'numClasses', 'zeroDivision'] },
  mae: { kind: 'regression', greaterIsBetter: false, fn: mae, options: [] },
  mse: { kind: 'regression', greaterIsBetter: false, fn: mse, options: [] },
  rmse: { kind: 'regression', greaterIsBetter: false, fn: rmse, options: [] },
  r2: { kind: 'regression', greaterIsBetter: true, fn: r2, options: [] },
};

/** Every MetricName. */
export const METRIC_NAMES = Object.keys(REGISTRY) as MetricName[];

/**
 * A metric by name, with its options bound: get('topKAccuracy', { k: 3 }).compute(logits, labels). Unknown names
 * and options that the metric does not take are errors.
 */
export function get(name: MetricName, opts: MetricOptions = {}): Metric {
  if (typeof name !== 'string' || !Object.prototype.hasOwnProperty.call(REGISTRY, name)) {
    throw new RangeError(`metric must be one of ${METRIC_NAMES.map((n) => `'${n}'`).join(', ')}, got ${JSON.stringify(name)}`);
  }
  if (opts === null || typeof opts !== 'object') throw new TypeError(`options of metric '${name}' must be an object`);
  const entry = REGISTRY[name];
  for (const key of Object.keys(opts)) {
    if (!entry.options.includes(key)) {
      throw new RangeError(`metric '${name}' takes ${entry.options.length ? entry.options.map((o) => `'${o}'`).join(', ') : 'no options'}, got '${key}'`);
    }
  }
  const bound = { ...opts };
  return Object.freeze({
    name, kind: entry.kind, greaterIsBetter: entry.greaterIsBetter,
    compute: (output: Tensor, target: Int32Array | Tensor) => entry.fn(output, target, bound),
  });
}
