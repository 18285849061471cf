// Sequential: a stack of layers with forward/backward, named parameters, prediction, evaluation, state
// dictionaries, a JSON config (rebuilt through the layer registry) and an async fit() loop. Batches come from the
// batch iterator (data/batches.ts); predict() and evaluate() run the inference plan (inference/plan.ts).
import { getBackend } from './backend/index';
import {
  type BatchInfo, type Callback, CallbackList, type Direction, type EpochInfo, type FitContext, checkCallbacks,
} from './callbacks';
import { ARCHITECTURE_FORMAT, ARCHITECTURE_VERSION, loadModelFile, saveModelFile, type ModelInfo } from './io/model';
import { type Batch, BatchIterator, rowsOf, targetRowsOf } from './data/batches';
import { Dataset } from './data/dataset';
import {
  InferencePlan, MIN_ROWS_PER_PASS, type Squash, fusableDense, fusableNorm, fusablePool, isExactly,
} from './inference/plan';
import { SafetensorsError, loadSafetensors } from './io/safetensors';
import type { ExportOnnxOptions } from './io/onnx/export';
import { type PytorchNames, fromPytorchStateDict, toPytorchStateDict } from './io/pytorch';
import type { ExportTfjsOptions } from './io/tfjs';
import { type MetricPlan, type MetricSpec, OutputCollector, computeMetrics, metricPlan, validationKey } from './fit-metrics';
import { ReusableTensor, hasTrainBackward } from './layers/buffers';
import { Layer, type LayerConfig } from './layers/layer';
import { layerFromConfig, registeredLayers } from './layers/registry';
import { Module } from './autograd/module';
import { ModuleLayer } from './autograd/module-layer';
import { noGrad } from './autograd/tape';
import { Conv2D } from './layers/conv2d';
import { Dense } from './layers/dense';
import { LeakyReLU } from './layers/leaky_relu';
import { ReLU } from './layers/relu';
import { Tanh } from './layers/tanh';
import { Softmax } from './layers/softmax';
import { Sigmoid } from './layers/sigmoid';
import {
  LOSS_NAMES, l2Penalty, labelSmoothingValue, lossFunction, lossWithArgmax, oneColumnMessage, type LossFunction, type LossName,
  type LossWithArgmax,
} from './losses';
import {
  DTYPES, describeValue, invalid, isAbortSignal, knownOptions, nonNegativeNumber, numberIn, oneOf, optionalBoolean,
  optionalFunction, optionalSeed, optionalString, optionsObject, positiveInt, nonNegativeInt,
} from './validate';
import { OPTIMIZER_NAMES, Optimizer, type OptimizerName, SGD, optimizerFromName } from './optimizers';
import { ProgressBar, verboseCallbacks } from './progress';
import { Random } from './random';
import { type DType, type FloatArray, type NestedArray, Tensor, allocate, checkAttached, copyOut, detachedMessage, formatShape, isDetached, sizeOf } from './tensor';

/** Options of new Sequential(). */
export interface SequentialOptions {
  /** Seed of the generator that draws initial weights, shuffles and dropout masks (default 0). */
  seed?: number;
  /** dtype of every parameter (default 'float32'; 'float64' for gradient checks). */
  dtype?: DType;
}

/** A parameter with its gradient and its name in the network ('0.weight', ...). */
export interface NamedParameter {
  name: string;
  param: Tensor;
  grad: Tensor;
}

/** A network's architecture as JSON (toConfig(), fromConfig(), and saved in model files). */
export interface SequentialConfig {
  format: 'nodenn.Sequential';
  version: 1;
  dtype: DType;
  seed: number;
  layers: LayerConfig[];
}

/** Targets: class labels (an Int32Array, or a plain array of integers), or a Tensor of target rows. */
export type Targets = Int32Array | Tensor | readonly number[] | NestedArray;
/** An input: a Tensor, or a (nested) array of numbers read as one (new Tensor(x)). */
export type Input = Tensor | NestedArray;

/** The loss options shared by fit() and lossAndGradients(). */
export interface TrainOptions {
  /**
   * A loss name or a function (output, targets) => { loss, grad }. fit() and lossAndGradients() take the one given
   * here, else the network's (compile(), the last fit(), or the loaded file's), else 'softmaxCrossEntropy'.
   */
  loss?: LossName | LossFunction;
  /** L2 regularization: weightDecay · Σ W² added to the loss, 2 · weightDecay · W to weight gradients. */
  weightDecay?: number;
  /**
   * Label smoothing ε in [0, 1] of the 'softmaxCrossEntropy' loss while training (PyTorch's label_smoothing): the
   * targets become (1 − ε)·t + ε/C (default 0). The training loss is the one against those targets; the validation
   * loss and evaluate() stay plain cross-entropy. Any other loss refuses it.
   */
  labelSmoothing?: number;
}

export type { BatchInfo, EpochInfo } from './callbacks';
/** What compile() sets for later fit() and evaluate() calls. */
export interface CompileOptions {
  /** The optimizer fit() uses when its options name none (an Optimizer, kept with its state across fits, or a name). */
  optimizer?: Optimizer | OptimizerName;
  /** The loss fit(), evaluate() and lossAndGradients() use when their options name none. */
  loss?: LossName | LossFunction;
  /** The metrics fit() and evaluate() report when their options name none (as FitOptions.metrics). */
  metrics?: MetricSpec[];
}

/** The layout of a state dict: nodenn's own, or PyTorch's (names by index, Linear weights (out, in)). */
export type StateDictLayout = 'nodenn' | 'pytorch';

/** Options of stateDict(): the layout of the names. */
export interface StateDictOptions {
  /** The layout returned (default 'nodenn'). */
  to?: StateDictLayout;
}

/** Options of loadStateDict(): the layout of the dict and how strictly its names must match. */
export interface LoadStateDictOptions {
  /** Whether names the network does not have are an error (default true). */
  strict?: boolean;
  /** The layout of the dict (default 'nodenn'). */
  from?: StateDictLayout;
  /** With from 'pytorch': which PyTorch module ('fc1', 'features.0') is which layer index. */
  names?: PytorchNames;
}

export interface LoadOptions extends SequentialOptions {
  /**
   * The architecture of a file of weights only (no nodenn metadata): toConfig() output, an array of layer configs or
   * a Sequential to copy.
   */
  architecture?: SequentialConfig | LayerConfig[] | Sequential;
  /** The layout of such a file (default: 'nodenn' if its metadata says so, else 'pytorch'). */
  from?: StateDictLayout;
  /** As loadStateDict's. */
  names?: PytorchNames;
}

function stateDictLayout(opts: unknown, key: 'to' | 'from', caller: string): StateDictLayout {
  const o = optionsObject(opts as object, `${caller} options`) as Record<string, unknown>;
  const v = o[key] ?? 'nodenn';
  if (v !== 'nodenn' && v !== 'pytorch') throw new TypeError(`${caller}: ${key} must be 'nodenn' or 'pytorch', got ${describeValue(v)}`);
  return v;
}

/** Options of save(): what the file's metadata records beside the weights. */
export interface SaveOptions {
  /** String entries of your own for the file's metadata. */
  metadata?: Record<string, string>;
  /** The shape of one sample, without the batch axis (default: the one of the last fit/forward/predict, or a first Dense layer's [inFeatures]). */
  inputShape?: readonly number[];
  /** One name per class (for one output column: two, for labels 0 and 1). */
  classNames?: readonly string[];
  /** The data set the network was trained on (default: fit()'s dataset option, or the loaded file's). */
  dataset?: string;
}

/** Options of fit(). */
export interface FitOptions extends TrainOptions {
  /** An Optimizer, or one by name with its default options ('sgd', 'adam', ...: OPTIMIZER_NAMES); default SGD lr 0.01. */
  optimizer?: Optimizer | OptimizerName;
  epochs?: number;
  /** Samples per batch (default 32; not for a dataset, which is batched with dataset.batch(n)). */
  batchSize?: number;
  /** Shuffle the samples every epoch with the network's seeded generator (default true; not for a dataset: dataset.shuffle()). */
  shuffle?: boolean;
  /** Data to evaluate on after each epoch: [x, y], or a Dataset of batches. */
  validationData?: [Input, Targets] | Dataset<Batch>;
  /**
   * For a dataset: batches per epoch. The dataset is then read on from where the last epoch stopped, and started
   * again when a pass ends (as Keras's steps_per_epoch); needed for a dataset whose length is unknown (a generator,
   * filter()) or without end (repeat()). Without it an epoch is one pass.
   */
  stepsPerEpoch?: number;
  /**
   * For a dataset: batches requested ahead while one trains (default 1; 0: each batch when it is needed), so that
   * the dataset's asynchronous work (file reads, augmentation's async() kernels) overlaps with training. The same
   * batches either way; a fit that stops early has read up to this many batches it does not train on.
   */
  prefetch?: number;
  /**
   * Hold out the last fraction of x and y (before any shuffling) as validation data, as Keras's validation_split
   * (0 < validationSplit < 1; not with validationData).
   */
  validationSplit?: number;
  /** Objects with onTrainBegin, onEpochBegin, onBatchEnd, onEpochEnd, onTrainEnd (EarlyStopping, ...), called in order. */
  callbacks?: Callback[];
  /** Shorthand for a callback with this onBatchEnd, called after the callbacks'. */
  onBatchEnd?: Callback['onBatchEnd'];
  /** Shorthand for a callback with this onEpochEnd, called after the callbacks'. */
  onEpochEnd?: Callback['onEpochEnd'];
  /**
   * Metrics to report besides the loss, each epoch on the training batches and on the validation data, by name
   * ('f1', 'topKAccuracy', 'mae', ...) or metrics.get(name, options); history and EpochInfo get one key per metric
   * and 'val' + its name ('f1', 'valF1'). The accuracy comes with a classification loss without being asked.
   */
  metrics?: MetricSpec[];
  /** 0: silent (default); 1: a progress bar on a terminal, else a line per epoch, on stdout; 2: a line per epoch. */
  verbose?: 0 | 1 | 2;
  /** The name of the data set trained on ('mnist', 'fashion', ...): kept by the network and written by save(). */
  dataset?: string;
  /** Aborting stops training before the next batch; fit() then rejects with an AbortError holding the history. */
  signal?: AbortSignal;
}

/** What fit() returns: per-epoch losses, accuracies, learning rates and metrics. */
export interface History {
  /** Mean training loss of each epoch over its batches (the L2 term included when weightDecay > 0). */
  loss: number[];
  /**
   * Training accuracy of each epoch, counted on the batches as they were trained (train mode): there for the
   * classification losses (softmaxCrossEntropy, crossEntropy, binaryCrossEntropy), or when the metrics ask for it;
   * a regression history has no accuracy key.
   */
  accuracy?: number[];
  /** Loss and accuracy on the validation data after each epoch, in eval mode, without the L2 term (valLoss: else empty). */
  valLoss: number[];
  valAccuracy?: number[];
  /** The learning rate of each epoch's last batch. */
  lr: number[];
  /** Each metric by name, and its value on the validation data as 'val' + its name ('f1', 'valF1'). */
  [metric: string]: number[] | undefined;
}

/** Options of evaluate(). */
export interface EvaluateOptions {
  /** The loss (default: the network's, from compile(), the last fit() or the loaded file; an error if it has none). */
  loss?: LossName | LossFunction;
  batchSize?: number;
  /** Metrics to report besides the loss (as fit's), computed once on all of x. */
  metrics?: MetricSpec[];
}

/** evaluate()'s result: the mean loss, the accuracy for a classification loss (or when asked), each metric by name. */
export interface EvaluateResult {
  loss: number;
  accuracy?: number;
  [metric: string]: number | undefined;
}

/** The error fit() rejects with when its signal is aborted. */
export class FitAbortedError extends Error {
  constructor(message: string, readonly history: History) {
    super(message);
    this.name = 'AbortError';
  }
}

/**
 * Targets as fit() and evaluate() use them: an Int32Array of labels or a Tensor, one per sample. A plain array of
 * numbers holds class labels: each must be an integer (it becomes an Int32Array); a nested array is a Tensor.
 */
function checkTargets(y: unknown, n: number, name: string, dtype: DType): Int32Array | Tensor {
  if (Array.isArray(y)) y = plainTargets(y, name, dtype);
  if (y instanceof Int32Array) {
    if (y.length === 0 && isDetached(y)) throw new TypeError(detachedMessage(name));
    if (y.length !== n) throw new RangeError(`${name} has ${y.length} labels but x has ${n} samples`);
    return y;
  }
  if (y instanceof Tensor) {
    checkAttached(y, name);
    if (y.ndim < 1 || y.shape[0] !== n) throw new RangeError(`${name} has shape ${formatShape(y.shape)} but x has ${n} samples`);
    return y;
  }
  throw new TypeError(`${name} must be an Int32Array of labels (or an array of integers) or a Tensor of targets, got ${describeValue(y)}`);
}

function plainTargets(y: unknown[], name: string, dtype: DType): Int32Array | Tensor {
  if (y.length > 0 && y[0] !== null && typeof y[0] === 'object') return new Tensor(y as NestedArray, undefined, dtype);
  const labels = new Int32Array(y.length);
  for (let i = 0; i < y.length; i++) {
    const v = y[i];
    if (typeof v !== 'number') throw new TypeError(`${name}[${i}] is ${describeValue(v)}, not a number`);
    if (!Number.isInteger(v) || v < -(2 ** 31) || v >= 2 ** 31) {
      throw new RangeError(`${name}[${i}] = ${v} is not an integer label; targets that are not class labels go in a ` +
        `Tensor: new nn.Tensor(${name}, [${y.length}, 1])`);
    }
    labels[i] = v;
  }
  return labels;
}

/**
 * The losses whose outputs are class scores, for which fit and evaluate report an accuracy: one class per sample
 * (softmaxCrossEntropy on logits, crossEntropy on probabilities), or a yes/no per output (binaryCrossEntropy).
 */
type Task = 'softmax' | 'binary' | null;
function taskOf(loss: LossName | LossFunction): Task {
  if (loss === 'softmaxCrossEntropy' || loss === 'crossEntropy') return 'softmax';
  return loss === 'binaryCrossEntropy' ? 'binary' : null;
}

/**
 * How fit() and evaluate() count the accuracy: by the loss's task, or, for another loss whose metrics ask for the
 * accuracy (e.g. mse on a Sigmoid output), as classes: the argmax, or a single column's value ≥ 0.5.
 */
function accuracyTask(loss: LossName | LossFunction, plan: MetricPlan): Task {
  return plan.accuracy ? taskOf(loss) ?? 'softmax' : null;
}

/** The threshold of a single output column for the metrics: a logit's 0 for binaryCrossEntropy, else 0.5. */
function metricThreshold(loss: LossName | LossFunction): number {
  return loss === 'binaryCrossEntropy' ? 0 : 0.5;
}

/**
 * A named loss that takes logits after a last layer that already squashes them would apply softmax (or sigmoid)
 * twice and train a worse network without a word: refused.
 */
function checkLossAfter(loss: LossName | LossFunction, last: Layer | undefined, caller: string): void {
  if (loss === 'softmaxCrossEntropy' && last instanceof Softmax) {
    throw new TypeError(`${caller}: the last layer is Softmax but the loss 'softmaxCrossEntropy' takes logits: drop the ` +
      "Softmax layer (the loss applies softmax itself, fused and numerically stable) or use loss 'crossEntropy' (on probabilities)");
  }
  if (loss === 'binaryCrossEntropy' && last instanceof Sigmoid) {
    throw new TypeError(`${caller}: the last layer is Sigmoid but the loss 'binaryCrossEntropy' takes logits: drop the ` +
      'Sigmoid layer (the loss applies the sigmoid itself, fused and numerically stable) or pass the loss on ' +
      'probabilities, loss: (out, t) => nn.losses.binaryCrossEntropy(out, t, { fromLogits: false })');
  }
  if (loss === 'crossEntropy' && [Dense, Conv2D, ReLU, LeakyReLU, Tanh].some((L) => last instanceof L)) {
    throw new TypeError(`${caller}: the loss 'crossEntropy' takes probabilities, but the last layer is ${last?.name}, ` +
      "whose outputs are not: add a Softmax layer, or drop it from the loss and use 'softmaxCrossEntropy' on the " +
      'logits (fused and numerically stable, the better choice for training)');
  }
}

/**
 * Labels checked once, before training or evaluating, so that a bad one is named by its index in the data set: for
 * a loss on classes, an integer in [0, cols) (0 or 1 for one output column); for mse with several columns (one-hot
 * targets) too; for mse on one column a label is its target value, and a custom loss gets them as they are.
 */
function checkLabels(y: Int32Array, loss: LossName | LossFunction, cols: number, name: string): void {
  if (typeof loss === 'function' || (loss === 'mse' && cols === 1)) return;
  const classes = cols === 1 ? 2 : cols;
  for (let i = 0; i < y.length; i++) {
    const k = y[i];
    if (k >= 0 && k < classes) continue;
    const outputs = `the network's ${cols} output${cols === 1 ? '' : 's'}`;
    throw new RangeError(`${name}[${i}] = ${k} is not a class of ${outputs}: labels must be ` +
      (cols === 1 ? `0 or 1 (${loss})` : `integers in [0, ${cols})`));
  }
}

/**
 * With no loss named anywhere, fit() defaults to softmaxCrossEntropy, which reads target rows as class
 * distributions: rows that are not (regression targets) are refused rather than fitted to the wrong task.
 */
function checkDistributions(y: Tensor, cols: number): void {
  const rows = y.shape[0], d = y.data;
  for (let r = 0; r < rows; r++) {
    let sum = 0, ok = true;
    for (let c = 0; c < cols; c++) {
      const v = d[r * cols + c];
      if (!(v >= 0 && v <= 1)) ok = false;
      sum += v;
    }
    if (ok && Math.abs(sum - 1) <= 1e-3) continue;
    const row = Array.from(d.subarray(r * cols, r * cols + Math.min(cols, 5)), (v) => Number(v.toPrecision(4))).join(', ');
    throw new TypeError(`fit() was given no loss (neither in its options nor by compile()), and the default ` +
      `'softmaxCrossEntropy' takes class labels or class distributions, but y[${r}] = [${row}${cols > 5 ? ', ...' : ''}] ` +
      "is not a class distribution (non-negative, summing to 1): name the loss, e.g. loss: 'mse' for regression");
  }
}

/** The names fit() accepts (the compiler keeps this list in step with FitOptions). */
const FIT_OPTIONS: Record<keyof FitOptions, true> = {
  loss: true, weightDecay: true, labelSmoothing: true, optimizer: true, epochs: true, batchSize: true, shuffle: true, validationData: true,
  validationSplit: true, callbacks: true, onBatchEnd: true, onEpochEnd: true, metrics: true, verbose: true, signal: true,
  dataset: true, stepsPerEpoch: true, prefetch: true,
};
const COMPILE_OPTIONS: Record<keyof CompileOptions, true> = { optimizer: true, loss: true, metrics: true };
const SAVE_OPTIONS: Record<keyof SaveOptions, true> = { metadata: true, inputShape: true, classNames: true, dataset: true };
const EVALUATE_OPTIONS: Record<keyof EvaluateOptions, true> = { loss: true, batchSize: true, metrics: true };
const PREDICT_OPTIONS = { batchSize: true };

/** The losses of classifiers: the ones fit() and evaluate() report an accuracy for. */
const CLASSIFICATION_LOSSES: readonly string[] = ['softmaxCrossEntropy', 'binaryCrossEntropy', 'crossEntropy'];

function isClassificationLoss(loss: LossName | LossFunction): boolean {
  return typeof loss === 'string' && CLASSIFICATION_LOSSES.includes(loss);
}

/** fit()'s optimizer option: an Optimizer (or an object with its methods, e.g. from another copy of nodenn) or a name. */
function fitOptimizer(v: unknown): Optimizer {
  if (v === undefined) return new SGD({ lr: 0.01 });
  if (v instanceof Optimizer) return v;
  if (typeof v === 'string' && (OPTIMIZER_NAMES as readonly string[]).includes(v)) return optimizerFromName(v as OptimizerName);
  const o = v as Partial<Optimizer> | null;
  if (o !== null && typeof o === 'object' && typeof o.step === 'function' && typeof o.setEpoch === 'function') return o as Optimizer;
  throw new TypeError('optimizer must be an Optimizer (new Adam({ lr: 0.001 }), ...) or one of ' +
    `${OPTIMIZER_NAMES.map((n) => `'${n}'`).join(', ')}, got ${describeValue(v)}`);
}

/** The index of the first NaN or ±Infinity in d, or -1. */
function firstNonFinite(d: FloatArray): number {
  // v - v is 0 for every finite v and NaN otherwise: one subtraction and a well-predicted branch per element
  for (let i = 0; i < d.length; i++) {
    const v = d[i];
    if (v - v !== 0) return i;
  }
  return -1;
}

/**
 * Why a result (an output or a loss) is not finite: throws a RangeError naming the first NaN or ±Infinity of x
 * (rows [start, end) of it) by index, sample and element, or, if x is finite there, the error `otherwise` gives.
 * predict and evaluate check their result, as fit() checks its loss, and only then look at x: a NaN in x always
 * reaches the output, so a clean input costs no extra pass over it.
 */
function nonFiniteResult(x: Tensor, start: number, end: number, caller: string, name: string, otherwise: () => Error): Error {
  const per = x.shape[0] > 0 ? x.size / x.shape[0] : 1;
  const rows = x.data.subarray(start * per, end * per), k = firstNonFinite(rows);
  if (k < 0) return otherwise();
  const i = start * per + k;
  return new RangeError(`${caller}: ${name} holds ${rows[k]} at index ${i} (sample ${Math.floor(i / per)}, element ${i % per}); ` +
    'a network has no meaningful output for NaN or Infinity: clean or impute the input first');
}

/**
 * validationSplit: the last fraction of the samples (before any shuffling) held out, as Keras: the first
 * floor(n · (1 − split)) samples train. Both parts are views of x and y.
 */
function splitValidation(x: Tensor, y: Int32Array | Tensor, split: unknown): [Tensor, Int32Array | Tensor, [Tensor, Int32Array | Tensor]] {
  const fraction = numberIn(split, 'validationSplit', '(0, 1)', 'the fraction of the samples held out');
  const n = x.shape[0], at = Math.floor(n * (1 - fraction));
  if (at === 0) throw new RangeError(`validationSplit ${fraction} of ${n} samples leaves none to train on`);
  if (at === n) throw new RangeError(`validationSplit ${fraction} of ${n} samples holds out none (it needs at least 1 / ${n})`);
  return [rowsOf(x, 0, at), targetRowsOf(y, 0, at), [rowsOf(x, at, n), targetRowsOf(y, at, n)]];
}

/**
 * What made a training batch's loss NaN or ±Infinity: the first NaN or ±Infinity of x among the batch's samples,
 * named by its index in x (and its sample and element), if there is one.
 */
function nonFiniteCause(batch: Batch): string {
  const { x, samples } = batch, per = x.size / batch.size;
  let bad = -1, value = 0;
  for (let i = 0; i < batch.size; i++) {
    const row = x.data.subarray(i * per, (i + 1) * per), j = firstNonFinite(row);
    const at = (samples ? samples[i] : i) * per + j;
    if (j >= 0 && (bad < 0 || at < bad)) {
      bad = at;
      value = row[j];
    }
  }
  if (bad < 0) return 'check y for NaN/Infinity or lower the learning rate';
  const where = `index ${bad} (sample ${Math.floor(bad / per)}, element ${bad % per})`;
  return samples ? `x holds ${value} at ${where}` : `the batch's x holds ${value} at ${where} of the batch`;
}

/** Refuses a dataset that is not one of batches (fit() and evaluate() take batches). */
function checkBatchedDataset(data: Dataset<unknown>, caller: string, name: string): void {
  if (!data.batched) {
    throw new TypeError(`${caller}: ${name} yields single samples; batch them first: dataset.batch(32) (or, for a ` +
      'source of batches, Dataset.from(source, { batched: true }))');
  }
}

/** What fit()'s loop reads: batches per epoch, and the counts the callbacks are told. */
interface BatchSource {
  readonly batches: number;
  readonly samples: number;
  readonly batchSize: number;
  epoch(): Iterable<Batch<Int32Array | Tensor>> | AsyncIterable<Batch<Int32Array | Tensor>>;
}

/**
 * fit()'s batches of a dataset: one pass per epoch, or stepsPerEpoch batches each, read on from where the last
 * epoch stopped (a pass that ends is started again). start() reads the first batch, for the batch size where the
 * dataset does not tell it.
 *
 * Within an epoch it reads `prefetch` batches ahead: the next ones are requested before the current one is handed
 * out, and the dataset's pipeline runs up to its asynchronous work (a file read, an augmentation's kernels queued
 * off the main thread), given a turn of the event loop for it unless the request settles before (a pipeline in
 * memory: nothing to overlap, and no turn to pay for); that work then proceeds while the current batch trains on
 * this thread. The dataset sees the same requests in the same order either way.
 */
class DatasetBatches implements BatchSource {
  batches = 0;
  samples = 0;
  batchSize = 0;
  private it: AsyncIterator<Batch> | null = null;
  private next: IteratorResult<Batch> | null = null;
  /** Requests made ahead, oldest first. */
  private ahead: Promise<IteratorResult<Batch>>[] = [];

  constructor(private readonly data: Dataset<Batch>, private readonly steps: number | null,
    private readonly check: (b: Batch, index: number) => Batch<Int32Array | Tensor>, private readonly prefetch = 1) {}

  async start(): Promise<void> {
    this.it = this.data[Symbol.asyncIterator]();
    this.next = await this.it.next();
    if (this.next.done) throw new RangeError('fit(): the dataset yielded no batches');
    const c = this.data.cardinality;
    this.batchSize = this.data.batchSize ?? this.next.value.size;
    this.batches = this.steps ?? c as number;
    this.samples = this.steps === null && this.data.samples !== null ? this.data.samples : this.batches * this.batchSize;
  }

  async* epoch(): AsyncGenerator<Batch<Int32Array | Tensor>> {
    for (let b = 0; this.steps === null || b < this.steps; b++) {
      const pending = this.ahead.shift();
      let r = this.next ?? (pending ? await pending : this.it ? await this.it.next() : { done: true as const, value: undefined });
      this.next = null;
      if (r.done) {
        this.ahead = [];
        this.it = this.data[Symbol.asyncIterator]();
        if (this.steps === null) {
          if (b > 0) return;  // the pass is over; the next epoch reads the next one
        }
        r = await this.it.next();
        if (r.done) throw new RangeError(`fit(): the dataset yielded no batches (a pass ended before batch ${b + 1} of ${this.batches})`);
      }
      const batch = this.check(r.value, b);
      // ahead within this epoch only: the batches of a next epoch wait for it (training may stop before)
      const it = this.it as AsyncIterator<Batch>;
      let requested = false;
      while (this.ahead.length < this.prefetch && (this.steps === null || b + 1 + this.ahead.length < this.steps)) {
        const p = it.next();
        p.catch(() => {});  // handled when its turn comes; a fit that stops early never awaits it
        this.ahead.push(p);
        requested = true;
      }
      // the turn or the request settled, whichever first: microtasks run before a turn, so a pipeline with no
      // asynchronous work never waits for one
      if (requested) await Promise.race([(this.ahead.at(-1) as Promise<unknown>).then(noop, noop), turn()]);
      yield batch;
    }
  }

  /** Ends an unfinished pass (open files of a stream). */
  async close(): Promise<void> {
    const it = this.it;
    this.it = null;
    // a request in flight settles first: a generator cannot be returned while it runs
    await Promise.allSettled(this.ahead);
    this.ahead = [];
    await it?.return?.();
  }
}

/** fit()'s callbacks (verbose, callbacks, onBatchEnd/onEpochEnd) and its abort signal, checked. */
function fitCallbacks(opts: FitOptions): { given: Callback[]; callbacks: CallbackList; signal: AbortSignal | undefined } {
  const shorthand: Callback = {
    onBatchEnd: optionalFunction(opts.onBatchEnd, 'onBatchEnd'),
    onEpochEnd: optionalFunction(opts.onEpochEnd, 'onEpochEnd'),
  };
  const given = [...verboseCallbacks(opts.verbose), ...checkCallbacks(opts.callbacks), shorthand];
  const signal: unknown = opts.signal;
  if (signal !== undefined && !isAbortSignal(signal)) {
    throw invalid('signal', 'an AbortSignal (new AbortController().signal)', signal, 'type');
  }
  return { given, callbacks: new CallbackList(given), signal };
}

const nextTick = () => new Promise<void>((resolve) => setImmediate(resolve));
const noop = (): void => {};
/** A turn of the event loop after the microtasks pending now (those a dataset's pipeline runs on). */
const turn = nextTick;
/** fit() gives the event loop a turn after a batch once this many milliseconds have passed since the last. */
const YIELD_MS = 2;
/** fit()'s batch size when its options name none. */
const DEFAULT_BATCH_SIZE = 32;
/**
 * predict()'s and evaluate()'s batch size when their options name none, and the least of fit()'s validation
 * batches: the inference plan cuts it further into cache-sized parts (InferencePlan.rowsPerPass).
 */
const DEFAULT_EVAL_BATCH_SIZE = 1000;

/** A network that runs its layers one after another: forward, backward, fit, predict, evaluate, save and load. */
export class Sequential {
  readonly layers: Layer[] = [];
  readonly dtype: DType;
  readonly seed: number;
  /** The generator of initial weights, shuffles and dropout masks. */
  readonly rng: Random;
  private training = true;
  /** Whether a fit() is running (a second one at the same time would interleave its batches with the first's). */
  private fitting = false;
  /** The input shape (batch included) of the last forward pass that went through, or [1, ...] of a loaded file's. */
  private lastInputShape: readonly number[] | null = null;
  /** The layers the last runTrain() did not run: poolings fused into the convolution before them, ReLUs into the
   * BatchNorm before them. */
  private readonly trainFused: boolean[] = [];
  /** What predict() and evaluate() run: made on eval() (or first use), dropped when the network trains or changes. */
  private plan: InferencePlan | null = null;
  /** predictProba's probabilities of a single batch, before they are copied out. */
  private readonly probs = new ReusableTensor();
  /** The metrics fit() and evaluate() report when their options name none: compile({ metrics }) sets them. */
  private compiledMetrics: MetricSpec[] | undefined;
  /** The loss of compile(), the last fit() or the loaded file. */
  private lossSpec: LossName | LossFunction | null = null;
  /** compile()'s optimizer. */
  private compiledOptimizer: Optimizer | null = null;
  /** The output rank of the last forward() when its input was one sample (backward then takes dout without the batch axis). */
  private singleForwardRank = -1;
  /** One name per class, written by save() (set here, by save's option, or from the loaded file). */
  classNames: string[] | null = null;
  /** The data set trained on ('mnist', 'fashion', ...), written by save() (set here, by fit's option, or from the loaded file). */
  dataset: string | null = null;

  constructor(layers: (Layer | Module)[] = [], options: SequentialOptions = {}) {
    if (!Array.isArray(layers)) throw new TypeError(`layers must be an array of layers, got ${describeValue(layers)}`);
    const opts = optionsObject(options, 'Sequential options');
    knownOptions(opts, ['seed', 'dtype'], 'Sequential');
    this.dtype = oneOf(opts.dtype ?? 'float32', DTYPES, 'Sequential dtype');
    this.seed = optionalSeed(opts.seed, 'Sequential seed') ?? 0;
    this.rng = new Random(this.seed);
    for (const l of layers) this.add(l);
  }

  /**
   * Appends a layer. A layer no network has taken yet gets its parameters drawn from the network's generator, in
   * the network's dtype; a layer another network initialized, or one trained or set on its own, keeps its
   * parameters (shared, not copied), which must then be in the network's dtype. One layer instance cannot appear
   * twice in a network: it keeps its forward input (and output buffers) for backward, so a second use would
   * overwrite what the first needs. A Module is taken as a layer (module.asLayer(): forward recorded, backward by
   * autograd) with the parameters it made, which must be in the network's dtype.
   */
  add(layer: Layer | Module): this {
    const index = this.layers.length;
    if (layer instanceof Module) layer = layer.asLayer();
    if (!(layer instanceof Layer)) throw new TypeError(`layer ${index} is not a Layer or a Module, got ${describeValue(layer)}`);
    const first = this.layers.indexOf(layer);
    if (first >= 0) {
      throw new RangeError(`layer ${index} (${layer.name}) is the same instance as layer ${first}: a layer keeps its ` +
        'forward input for its backward pass, so one instance cannot be used twice in a network; create a new ' +
        `${layer.name} for layer ${index} (layers do not share weights within a network)`);
    }
    if (!layer.initializeOnce({ rng: this.rng, dtype: this.dtype })) {
      const other = [...layer.params, ...layer.buffers].find((t) => t.dtype !== this.dtype);
      if (other) {
        throw new TypeError(`layer ${index} (${layer.name}) already has ${other.dtype} parameters (another network ` +
          `initialized them, or they were trained or set on the layer itself), which are kept, but the network is ` +
          `${this.dtype}; build this network with { dtype: '${other.dtype}' } or use a new layer`);
      }
    }
    layer.training = this.training;
    // The network's layers reuse their output and gradient tensors from call to call (layers/buffers.ts); what
    // forward(), backward() and predict return is copied out of them.
    layer.reuseBuffers = true;
    this.layers.push(layer);
    this.plan = null;
    return this;
  }

  /** Training mode (dropout on, batch norm on batch statistics); the inference plan is made anew on the next eval(). */
  train(): this {
    this.setMode(true);
    this.plan = null;
    return this;
  }

  /** Eval mode (dropout off, batch norm on its running statistics), with the inference plan made for the layers. */
  eval(): this {
    this.setMode(false);
    this.planForLayers();
    return this;
  }

  /** The mode of the network and its layers; predict() and evaluate() switch it for a call, keeping the plan. */
  private setMode(training: boolean): void {
    this.training = training;
    for (const l of this.layers) l.training = training;
  }

  /**
   * How predict() and evaluate() run the layers (fused blocks, cache-sized parts: inference/plan.ts). Made on eval(),
   * or on first use, for the layers as they are; made anew after train(), fit(), loadStateDict() or a change of the
   * layers.
   */
  get inferencePlan(): InferencePlan {
    return this.planForLayers();
  }

  private planForLayers(): InferencePlan {
    if (!this.plan?.isFor(this.layers)) this.plan = new InferencePlan(this.layers);
    return this.plan;
  }

  /** Whether the network is in training mode (train()) rather than eval mode (eval()). */
  get isTraining(): boolean {
    return this.training;
  }

  /**
   * The loss the network was compiled, last trained or loaded with (null if none): what evaluate() uses, and what
   * tells predictProba() and predictClasses() how to read the output.
   */
  get loss(): LossName | LossFunction | null {
    return this.lossSpec;
  }

  /**
   * The shape of one sample, without the batch axis: the input of the last forward pass (fit, forward, predict,
   * evaluate), or the loaded file's; null before any.
   */
  get inputShape(): number[] | null {
    return this.lastInputShape ? this.lastInputShape.slice(1) : null;
  }

  /**
   * Sets the loss (and optimizer) that fit(), evaluate() and lossAndGradients() use when their options name none,
   * as Keras's compile does; optional. Everything is checked at once: the loss name, the optimizer, and that the
   * loss fits the last layer. A loss given to fit() replaces this one.
   */
  compile(options: CompileOptions): this {
    const opts = optionsObject(options, 'compile() options');
    knownOptions(opts, COMPILE_OPTIONS, 'compile()');
    const optimizer = opts.optimizer === undefined ? null : fitOptimizer(opts.optimizer);
    if (opts.loss !== undefined) {
      lossFunction(opts.loss);
      checkLossAfter(opts.loss, this.layers.at(-1), 'compile()');
    }
    if (opts.metrics !== undefined) {
      // checked against the loss they will be reported with (the default loss of fit() if none is known yet)
      const loss = opts.loss ?? this.lossSpec ?? 'softmaxCrossEntropy';
      metricPlan(opts.metrics, loss, isClassificationLoss(loss), metricThreshold(loss), 'compile()');
    }
    if (optimizer) this.compiledOptimizer = optimizer;
    if (opts.loss !== undefined) this.lossSpec = opts.loss;
    if (opts.metrics !== undefined) this.compiledMetrics = opts.metrics;
    return this;
  }

  private input(x: Input, name = 'x'): Tensor {
    if (Array.isArray(x)) return new Tensor(x as NestedArray, undefined, this.dtype);
    if (!(x instanceof Tensor)) throw new TypeError(`${name} must be a Tensor (or a nested array of numbers), got ${describeValue(x)}`);
    checkAttached(x, name);
    return x.dtype === this.dtype ? x : x.astype(this.dtype);
  }

  /**
   * The rank of one sample: the first layer's input rank less the batch axis where the layer fixes it (Conv2D: 3),
   * else the rank of the last input's samples (so a Flatten-first network fit on images takes one image), else 1.
   */
  private sampleRank(): number {
    const rank = (this.layers[0] as { inputRank?: number } | undefined)?.inputRank;
    if (rank !== undefined) return rank - 1;
    return this.lastInputShape ? this.lastInputShape.length - 1 : 1;
  }

  /**
   * An input for forward() and predict*(): a batch (N, ...) as it is, or one sample — an input of rank 1, or of the
   * sample rank — as a batch of one (single: the caller then drops the batch axis of the result).
   */
  private batchOf(x: Input, caller: string): { xb: Tensor; single: boolean } {
    const t = this.input(x);
    if (t.ndim !== 1 && t.ndim !== this.sampleRank()) return { xb: t, single: false };
    const first = this.layers[0];
    if (first instanceof Dense && t.size !== first.inFeatures) {
      const f = first.inFeatures, k = t.size / f;
      throw new RangeError(`${caller}: x has shape ${formatShape(t.shape)}: an input of rank ${t.ndim} is one sample, but ` +
        `the network takes samples of ${f} feature${f === 1 ? '' : 's'}` +
        (Number.isInteger(k) && k > 1 && t.ndim === 1 ? `; for ${k} samples use x.reshape([${k}, ${f}])` : ''));
    }
    return { xb: t.reshape([1, ...t.shape]), single: true };
  }

  /** fit() and evaluate() take batches: one sample (rank 1, or the rank the first layer fixes for one) is refused. */
  private batchInput(x: Input, caller: string, name: string): Tensor {
    const t = this.input(x, name);
    const rank = (this.layers[0] as { inputRank?: number } | undefined)?.inputRank;
    if (t.ndim === 1 || (rank !== undefined && t.ndim === rank - 1)) {
      throw new RangeError(`${caller}: ${name} has the shape of one sample (${formatShape(t.shape)}); it takes a batch ` +
        `(N, ${t.shape.join(', ')}): ${name}.reshape([1, ${t.shape.join(', ')}])`);
    }
    if (t.ndim < 1 || t.shape[0] === 0) throw new RangeError(`${name} holds no samples`);
    return t;
  }

  /** The output shape for samples of `sample` shape (batch 1), or null where a layer refuses it (forward reports that). */
  private outputShapeFor(sample: readonly number[]): number[] | null {
    let shape = [1, ...sample];
    try {
      for (const l of this.layers) shape = l.outputShape(shape);
    } catch {
      return null;
    }
    return shape;
  }

  /** Puts every layer in the network's mode: a layer shared with another network may have been switched there. */
  private syncMode(): void {
    for (const l of this.layers) if (l.training !== this.training) l.training = this.training;
  }

  /**
   * The output for x (a tensor of its own: later calls do not change it), in the network's mode. One sample (see
   * predict) goes through as a batch of one, and its output has no batch axis.
   */
  forward(x: Input): Tensor {
    const { xb, single } = this.batchOf(x, 'forward()');
    const y = this.run(xb).clone();
    this.singleForwardRank = single ? y.ndim : -1;
    return single ? y.reshape(y.shape.slice(1)) : y;
  }

  /**
   * Backpropagates dout through every layer, accumulating parameter gradients; returns dx (a copy). After a forward
   * of one sample, dout and dx have no batch axis either.
   */
  backward(dout: Tensor): Tensor {
    const single = this.singleForwardRank >= 0 && dout instanceof Tensor && dout.ndim === this.singleForwardRank - 1;
    const dx = this.backprop(single ? dout.reshape([1, ...dout.shape]) : dout).clone();
    return single ? dx.reshape(dx.shape.slice(1)) : dx;
  }

  /**
   * The output for a batch x recorded by autograd, each layer one operation (a Module's own operations recorded
   * as they run): how a Module uses a Sequential (`this.body.call(x)`), in the network's mode. Parameter gradients
   * go to each parameter's .grad; a layer caches only its last forward, so call it once per backward pass. The
   * result is the caller's own (a later call does not change it).
   */
  call(x: Tensor): Tensor {
    let y = this.input(x);
    this.syncMode();
    for (const l of this.layers) {
      if (l instanceof ModuleLayer) {
        if (l.module.training !== this.training) l.module.train(this.training);
        y = l.module.call(y);
      } else {
        y = l.call(y);
      }
    }
    this.lastInputShape = x.shape;
    // the last layer's output is its buffer, which the next call overwrites: the caller gets a copy (recorded)
    return this.layers.length > 0 && !(this.layers[this.layers.length - 1] instanceof ModuleLayer) ? y.clone() : y;
  }

  /** forward() without the copy: the result is the last layer's buffer, valid until the next forward. */
  private run(x: Tensor): Tensor {
    let y = this.input(x);
    this.syncMode();
    for (const l of this.layers) y = l.forward(y);
    this.lastInputShape = x.shape;
    return y;
  }

  /**
   * run() for fit's training step, which trainBackward() follows: a Conv2D followed by a 2x2 stride-2 MaxPool2D, or
   * by a ReLU and the pooling, runs as one kernel call (Conv2D.forwardPooled, the ReLU before the maximum as the
   * layers apply it), which keeps the full convolution output out of memory and gives the same values and gradients
   * as the layers. The ReLU layer is then skipped both ways: its output would be the pooled output (relu is
   * idempotent), and the convolution's backward applies its mask, pooled > 0, which is the one at each window's
   * maximum (relu(v) > 0 exactly when v > 0), the only input the pooling's backward passes a gradient to; the
   * others get zero either way.
   * A BatchNorm followed by a ReLU runs as one kernel call each way (BatchNorm.forwardRelu: the same values,
   * gradients and running statistics as the layers); the ReLU layer is then skipped, forward and backward. So does
   * a Dense followed by a ReLU (Dense.forwardRelu): the bias and the ReLU in one call after the product, the ReLU's
   * mask and the bias gradient in one call before the products of the backward.
   */
  private runTrain(x: Tensor): Tensor {
    let y = this.input(x);
    this.syncMode();
    const layers = this.layers, fused = this.trainFused;
    fused.length = layers.length;
    fused.fill(false);
    for (let i = 0; i < layers.length; i++) {
      const l = layers[i];
      if (isExactly(l, Conv2D) && y.ndim === 4) {
        const next = layers[i + 1];
        const relu = next !== undefined && isExactly(next, ReLU) ? next : null;
        if (fusablePool(layers[i + (relu ? 2 : 1)])) {
          const [, , OH, OW] = l.outputShape(y.shape);
          if (OH >= 2 && OW >= 2) {
            y = l.forwardPooled(y, relu !== null);
            if (relu) fused[++i] = true;
            fused[++i] = true;
            continue;
          }
        }
      }
      if (fusableNorm(l, layers[i + 1]) || fusableDense(l, layers[i + 1])) {
        y = l.forwardRelu(y);
        fused[++i] = true;
        continue;
      }
      y = l.forward(y);
    }
    this.lastInputShape = x.shape;
    return y;
  }

  /** run() for predict and evaluate (eval mode, no backward follows), through the inference plan. */
  private infer(x: Tensor): Tensor {
    const xin = this.input(x);
    this.syncMode();
    const y = noGrad(() => this.planForLayers().run(xin));
    this.lastInputShape = x.shape;
    return y;
  }

  /** infer() squashed into probabilities in the same backend call, when the plan can (else null: nothing ran). */
  private inferProbabilities(x: Tensor, squash: 'sigmoid' | 'softmax'): Tensor | null {
    const xin = this.input(x);
    this.syncMode();
    const p = this.planForLayers().runProbabilities(xin, squash);
    if (p) this.lastInputShape = x.shape;
    return p;
  }

  private backprop(dout: Tensor): Tensor {
    let d = dout;
    for (let i = this.layers.length - 1; i >= 0; i--) d = this.layers[i].backward(d);
    return d;
  }

  /**
   * The training loop's backward: clears and fills every parameter gradient (layers with a fast backward
   * overwrite theirs, the others are zeroed first) and stops at the first layer with parameters, whose input
   * gradient nothing uses. Call zeroGradForTrain() before the forward pass.
   */
  private trainBackward(dout: Tensor): void {
    const first = this.firstTrainable();
    let d = dout;
    for (let i = this.layers.length - 1; i >= first; i--) {
      const l = this.layers[i];
      if (this.trainFused[i]) continue;  // a pooling (and ReLU) the convolution before it ran, a ReLU the BatchNorm or Dense
      if (hasTrainBackward(l)) {
        const dx = l.backwardTrain(d, false, i > first);
        if (dx) d = dx;
      } else {
        d = l.backward(d);
      }
    }
  }

  /** Zeroes the gradients of the layers that trainBackward() does not overwrite. */
  private zeroGradForTrain(): void {
    for (const l of this.layers) if (!hasTrainBackward(l)) l.zeroGrad();
    const first = this.layers[this.firstTrainable()];
    if (first instanceof ModuleLayer) first.inputGradNeeded = false;
  }

  /** Modules' parameters fixed while fit() runs: those the optimizer was given (see ModuleLayer.holdParameters). */
  private holdModuleParameters(on: boolean): void {
    for (const l of this.layers) if (l instanceof ModuleLayer) l.holdParameters(on);
  }

  /** The index of the first layer with parameters (the layers before it need no backward pass). */
  private firstTrainable(): number {
    const i = this.layers.findIndex((l) => l.params.length > 0);
    return i < 0 ? this.layers.length : i;
  }

  /** Sets every parameter gradient to zero. */
  zeroGrad(): void {
    for (const l of this.layers) l.zeroGrad();
  }

  /** Every parameter with its gradient, named '<layer index>.<name>' ('0.weight', '0.bias', ...). */
  parameters(): NamedParameter[] {
    const out: NamedParameter[] = [];
    this.layers.forEach((l, i) => l.params.forEach((p, j) => out.push({ name: `${i}.${l.paramNames[j]}`, param: p, grad: l.grads[j] })));
    return out;
  }

  /** Weight tensors and their gradients (parameters named 'weight'): what L2 regularization applies to. */
  private weights(): [Tensor[], Tensor[]] {
    const ws: Tensor[] = [], gs: Tensor[] = [];
    for (const l of this.layers) {
      l.params.forEach((p, j) => {
        if (l.paramNames[j] === 'weight') { ws.push(p); gs.push(l.grads[j]); }
      });
    }
    return [ws, gs];
  }

  /**
   * Clears the gradients, runs forward, the loss (plus L2) and backward; returns the total loss. The loss is the
   * option's, else the network's, else 'softmaxCrossEntropy' (as in fit).
   */
  lossAndGradients(x: Tensor, y: Tensor | Int32Array, opts: TrainOptions = {}): number {
    const lossName = optionsObject(opts, 'lossAndGradients() options').loss ?? this.lossSpec ?? 'softmaxCrossEntropy';
    const lossFn = lossFunction(lossName, null, labelSmoothingValue(opts.labelSmoothing, 'lossAndGradients()'));
    checkLossAfter(lossName, this.layers.at(-1), 'lossAndGradients()');
    this.zeroGrad();
    const out = this.run(x);
    const { loss, grad } = lossFn(out, y);
    this.backprop(grad);
    const [ws, gs] = this.weights();
    return loss + l2Penalty(ws, opts.weightDecay ?? 0, gs);
  }

  /** Rows per batch of predict() and evaluate(): the option (or the default), at most the plan's cache-sized part. */
  private evalBatchSize(x: Tensor, n: number, batchSize: unknown): number {
    return Math.min(positiveInt(batchSize ?? DEFAULT_EVAL_BATCH_SIZE, 'batchSize'), this.planForLayers().rowsPerPass(x, n, this.dtype));
  }

  private inEvalMode<T>(f: () => T): T {
    const was = this.training;
    this.setMode(false);
    try {
      return f();
    } finally {
      if (was) this.setMode(true);
    }
  }

  /**
   * How predictProba() turns an output into probabilities: as it is after a final Softmax or Sigmoid (or for the
   * loss crossEntropy, which takes probabilities); else the output holds logits — sigmoid per column for
   * binaryCrossEntropy (one or several independent yes/no outputs), else softmax over the columns (sigmoid for a
   * single column). An output trained with mse is a value, not a score.
   */
  private probabilityRule(caller: string): 'asIs' | 'sigmoid' | 'softmax' {
    const last = this.layers.at(-1);
    if (last instanceof Softmax || last instanceof Sigmoid || this.lossSpec === 'crossEntropy') return 'asIs';
    if (this.lossSpec === 'mse') {
      throw new TypeError(`${caller}: this network's loss is 'mse' and its last layer is ${last?.name ?? 'missing'}: its ` +
        'outputs are values, not class scores; use predict() (a classifier is trained with softmaxCrossEntropy, ' +
        'crossEntropy or binaryCrossEntropy, or ends in Softmax or Sigmoid)');
    }
    return this.lossSpec === 'binaryCrossEntropy' ? 'sigmoid' : 'softmax';
  }

  /**
   * Rows of outputs for x in eval mode, in cache-sized batches, probabilities by `rule` (null: raw). An output that
   * is not finite is an error rather than a meaningless answer, naming the NaN or ±Infinity of x that caused it (a
   * NaN always reaches the output; an infinity that an activation saturates, e.g. Sigmoid(∞) = 1, may not) or else
   * the parameters.
   */
  private outputs(xb: Tensor, opts: { batchSize?: number } | undefined, caller: string, rule: 'asIs' | 'sigmoid' | 'softmax' | null): Tensor {
    const n = xb.ndim === 0 ? 0 : xb.shape[0];
    const o = optionsObject(opts, `${caller} options`);
    knownOptions(o, PREDICT_OPTIONS, caller);
    const bs = this.evalBatchSize(xb, n, o.batchSize);
    if (n === 0) throw new RangeError('x holds no samples');
    const squash = rule === 'sigmoid' || rule === 'softmax' ? rule : null;
    return this.inEvalMode(() => {
      if (n <= bs) {
        // one batch (e.g. a single sample): squash into a kept buffer, then copy out; the kernels only ever see
        // long-lived arrays, so a call allocates nothing but the result
        const fused = squash ? this.inferProbabilities(xb, squash) : null;
        if (fused) return checkFiniteOutput(fused, xb, caller).clone();
        const y = this.infer(xb);
        if (!squash) return checkFiniteOutput(y, xb, caller).clone();
        const p = this.probs.take(y.shape, y.dtype, true);
        probabilities(y, p, squash);
        return checkFiniteOutput(p, xb, caller).clone();
      }
      let out: Tensor | null = null, cols = 0;
      for (const batch of new BatchIterator(xb, null, { batchSize: bs }).epoch()) {
        const y = this.infer(batch.x);
        if (!out) { cols = y.size / y.shape[0]; out = Tensor.zeros([n, ...y.shape.slice(1)], y.dtype); }
        out.data.set(y.data, batch.index * bs * cols);
      }
      if (squash && out) probabilities(out, out, squash);
      return checkFiniteOutput(out as Tensor, xb, caller);
    });
  }

  /**
   * outputs() of a batch in one planForward call, with only the checks that the common case needs: an eval-mode
   * network whose plan is one call, a batch tensor of its dtype that is one pass (at most MIN_ROWS_PER_PASS rows, so
   * within any batch size), no options. Null where any of that does not hold, before anything ran: outputs() then
   * does the whole work and reports what is wrong. A batch-1 predict costs ~2.5 µs of arithmetic, which the general
   * path's option checks, eval-mode switch and plan lookups added a fifth to.
   */
  private oneCallOutputs(x: Input, opts: unknown, caller: string, squash: Squash | null): Tensor | null {
    const plan = this.plan;
    if (this.training || plan === null || !plan.oneCall || !(x instanceof Tensor) || x.dtype !== this.dtype ||
      x.ndim < 2 || x.ndim === this.sampleRank() || x.shape[0] > MIN_ROWS_PER_PASS || !noOptions(opts) ||
      x.data.length !== sizeOf(x.shape) || !plan.isFor(this.layers)) return null;
    this.syncMode();
    const y = plan.runProbabilities(x, squash);
    if (!y) return null;
    this.lastInputShape = x.shape;
    return copyOut(checkFiniteOutput(y, x, caller));
  }

  /**
   * The network's output for x, in eval mode (dropout off, batch norm on its running statistics), as a Tensor: the
   * raw outputs (logits of a classifier, the values of a regression), as Keras's and TensorFlow.js's predict.
   * x is a batch (N, ...) or one sample: an input of rank 1, or of the rank of one sample (the first layer's input
   * rank less the batch axis, e.g. (C, H, W) for Conv2D, else that of the samples of the last fit/forward), whose
   * output then has no batch axis, as NumPy code would have it.
   */
  predict(x: Input, opts?: { batchSize?: number }): Tensor {
    const fast = this.oneCallOutputs(x, opts, 'predict()', null);
    if (fast) return fast;
    const { xb, single } = this.batchOf(x, 'predict()');
    const out = this.outputs(xb, opts, 'predict()', null);
    return single ? out.reshape(out.shape.slice(1)) : out;
  }

  /**
   * Class probabilities for x (a batch, or one sample as in predict), in eval mode: the output as it is after a final
   * Softmax or Sigmoid layer; otherwise the output holds logits: softmax over the columns (sigmoid for a single
   * column; sigmoid per column for a network trained with binaryCrossEntropy, multi-label). A network whose loss is
   * mse and whose last layer squashes nothing (a regression) is refused: its outputs are not class scores.
   */
  predictProba(x: Input, opts?: { batchSize?: number }): Tensor {
    const rule = this.probabilityRule('predictProba()');
    const fast = this.oneCallOutputs(x, opts, 'predictProba()', rule === 'asIs' ? null : rule);
    if (fast) return fast;
    const { xb, single } = this.batchOf(x, 'predictProba()');
    const out = this.outputs(xb, opts, 'predictProba()', rule);
    return single ? out.reshape(out.shape.slice(1)) : out;
  }

  /**
   * Predicted class indices for x (a batch, or one sample: an Int32Array of one), in eval mode: the argmax of each
   * output row; for a single output column, class 1 where the probability is at least 0.5: a final Sigmoid's output
   * ≥ 0.5, a logit ≥ 0. Refused for a regression (as predictProba) and for binaryCrossEntropy on several columns
   * (multi-label: each column is its own yes/no; threshold predictProba's columns instead).
   */
  predictClasses(x: Input, opts: { batchSize?: number } = {}): Int32Array {
    const rule = this.probabilityRule('predictClasses()');
    const { xb } = this.batchOf(x, 'predictClasses()');
    const out = this.outputs(xb, opts, 'predictClasses()', null);
    const cols = out.size / out.shape[0];
    if (this.lossSpec === 'binaryCrossEntropy' && cols > 1) {
      throw new TypeError(`predictClasses(): this network's loss is 'binaryCrossEntropy' on ${cols} outputs (multi-label: ` +
        'each output is its own yes/no), so a sample has no single class; threshold predictProba(x) at 0.5 per output');
    }
    return classesOf(out, rule === 'asIs' ? 0.5 : 0);
  }

  /**
   * Mean loss over (x, y), in eval mode, in batches, the accuracy for a classification loss (softmaxCrossEntropy
   * and crossEntropy: the argmax; binaryCrossEntropy: per output column, against targets ≥ 0.5) or when the metrics
   * ask for it, and each metric of the metrics option, computed once on all of x; a loss that is not finite is an
   * error, as in fit(). The loss is the option's, else the network's (compile(), the last fit(), the
   * loaded file); a network with neither is an error, not a guess. Labels are checked first, and a bad one is named
   * by its index.
   */
  evaluate(x: Input, y: Targets, opts?: EvaluateOptions): EvaluateResult;
  /**
   * evaluate() on a Dataset of batches ({ x, y }), read once: resolves to the same result. Each batch's targets are
   * checked as it comes, a bad label named by its batch and row; a batch larger than the batchSize option (or than
   * what stays in cache) is cut into parts.
   */
  evaluate(data: Dataset<Batch>, opts?: EvaluateOptions): Promise<EvaluateResult>;
  evaluate(x: Input | Dataset<Batch>, y?: Targets | EvaluateOptions, opts: EvaluateOptions = {}): EvaluateResult | Promise<EvaluateResult> {
    if (x instanceof Dataset) return this.evaluateDataset(x, (y ?? {}) as EvaluateOptions, 'evaluate()');
    return this.evaluateAs(x, y as Targets, opts, 'evaluate()', 'x', 'y', false);
  }

  /** The loss evaluate() uses: the option's, else the network's; a network with neither is refused. */
  private evaluationLoss(given: LossName | LossFunction | undefined, caller: string): LossName | LossFunction {
    const loss = given ?? this.lossSpec;
    if (loss === null) {
      throw new TypeError(`${caller} needs a loss: this network was neither compiled nor trained (nor loaded from a file ` +
        "that records one); pass { loss: 'softmaxCrossEntropy' } for classification or { loss: 'mse' } for regression, " +
        'or call net.compile({ loss })');
    }
    return loss;
  }

  /** evaluate() of a dataset, and fit()'s validation on one (fit's metric plan). */
  private async evaluateDataset(data: Dataset<Batch>, options: EvaluateOptions, caller: string, fitPlan?: MetricPlan,
    name = 'the dataset'): Promise<EvaluateResult> {
    const opts = optionsObject(options, `${caller} options`);
    knownOptions(opts, EVALUATE_OPTIONS, caller);
    const loss = this.evaluationLoss(opts.loss, caller);
    const lossFn = lossFunction(loss, new ReusableTensor());
    checkLossAfter(loss, this.layers.at(-1), caller);
    checkBatchedDataset(data, caller, name);
    if (data.cardinality === Infinity) throw new RangeError(`${caller}: ${name} repeats without end: take(n) the batches to evaluate on`);
    if (opts.batchSize !== undefined) positiveInt(opts.batchSize, 'batchSize');
    const plan = fitPlan ?? metricPlan(opts.metrics ?? this.compiledMetrics, loss, isClassificationLoss(loss), metricThreshold(loss), caller);
    const task = accuracyTask(loss, plan);
    const collector = plan.metrics.length > 0 ? new OutputCollector(data.samples ?? DEFAULT_EVAL_BATCH_SIZE) : null;
    const was = this.training;
    this.setMode(false);
    try {
      let total = 0, correct = 0, counted = 0, n = 0, last = performance.now();
      for await (const batch of data) {
        const { x: xb, y: yb } = this.checkedBatch(batch, loss, false, caller, `${name}'s batch ${batch.index}`);
        this.setMode(false);  // a pass may have been interleaved with other calls on the network
        const m = xb.shape[0], rows = this.evalBatchSize(xb, m, opts.batchSize);
        for (let start = 0; start < m; start += rows) {
          const end = Math.min(m, start + rows);
          const xv = start === 0 && end === m ? xb : rowsOf(xb, start, end), yv = targetRowsOf(yb, start, end);
          const out = this.infer(xv);
          const value = lossFn(out, yv).loss;
          if (!Number.isFinite(value)) {
            throw nonFiniteResult(xb, start, end, caller, `${name}'s batch ${batch.index}: x`, () => new Error(`${caller}: the ` +
              `loss is ${value} on rows ${start} to ${end - 1} of ${name}'s batch ${batch.index} although its x is finite ` +
              "there: check its y and the network's parameters for NaN or Infinity"));
          }
          total += value * (end - start);
          if (task) {
            correct += countCorrect(out, yv, task);
            counted += task === 'binary' ? out.size : end - start;
          }
          collector?.add(out, yv);
        }
        n += m;
        // a turn of the event loop between batches (a pass over tensors resolves without one)
        if (performance.now() - last >= YIELD_MS) {
          await nextTick();
          last = performance.now();
        }
      }
      if (n === 0) throw new RangeError(`${caller}: ${name} yielded no samples`);
      const result: EvaluateResult = { loss: total / n };
      if (task) result.accuracy = correct / counted;
      if (collector) Object.assign(result, computeMetrics(plan.metrics, ...collector.collected(), caller));
      return result;
    } finally {
      this.setMode(was);
    }
  }

  /**
   * A dataset's batch as fit() and evaluate() use it: x in the network's dtype and of batch rank, targets present,
   * of its length, and with values the loss can read (checkTargetValues), each error naming the batch.
   */
  private checkedBatch(batch: Batch, loss: LossName | LossFunction, defaulted: boolean, caller: string, name: string): Batch<Int32Array | Tensor> {
    const x = this.batchInput(batch.x, caller, `${name}: x`);
    if (batch.y === null) {
      throw new TypeError(`${caller}: ${name} has no targets (y): training and evaluating need { x, y } batches`);
    }
    const y = checkTargets(batch.y, x.shape[0], `${name}: y`, this.dtype);
    this.checkTargetValues(x, y, loss, defaulted, `${name}: y`);
    return { ...batch, x, y };
  }

  /** evaluate(), and fit()'s validation (labels already checked, fit's metric plan). */
  private evaluateAs(x: Input, y: Targets, options: EvaluateOptions, caller: string, xName: string, yName: string,
    checked: boolean, fitPlan?: MetricPlan): EvaluateResult {
    const steps = this.evaluationSteps(x, y, options, caller, xName, yName, checked, fitPlan, null);
    for (;;) {
      const r = steps.next();
      if (r.done) return r.value;
    }
  }

  /**
   * fit()'s validation on tensors: evaluateAs, with a turn of the event loop between forward passes of `rows`
   * samples (a training batch's worth), so that a long validation does not block the event loop. The outputs, and
   * so the result, are evaluateAs's: the rows of a batch are computed in parts, the loss on the whole batch.
   */
  private async evaluateYielding(x: Tensor, y: Int32Array | Tensor, options: EvaluateOptions, plan: MetricPlan,
    rows: number): Promise<EvaluateResult> {
    const steps = this.evaluationSteps(x, y, options, 'fit()', 'validationData x', 'validationData y', true, plan, rows);
    let last = performance.now();
    for (;;) {
      const r = steps.next();
      if (r.done) return r.value;
      if (performance.now() - last >= YIELD_MS) {
        await nextTick();
        last = performance.now();
      }
    }
  }

  /** evaluateAs's work, pausing (yield) after each forward pass of `rows` samples where rows is given. */
  private* evaluationSteps(x: Input, y: Targets, options: EvaluateOptions, caller: string, xName: string, yName: string,
    checked: boolean, fitPlan: MetricPlan | undefined, rows: number | null): Generator<void, EvaluateResult> {
    const opts = optionsObject(options, `${caller} options`);
    knownOptions(opts, EVALUATE_OPTIONS, caller);
    const loss = this.evaluationLoss(opts.loss, caller);
    const lossFn = lossFunction(loss, new ReusableTensor());
    checkLossAfter(loss, this.layers.at(-1), caller);
    const xin = this.batchInput(x, caller, xName);
    const n = xin.shape[0];
    const targets = checkTargets(y, n, yName, this.dtype);
    if (!checked) this.checkTargetValues(xin, targets, loss, false, yName);
    const bs = this.evalBatchSize(xin, n, opts.batchSize);
    const plan = fitPlan ?? metricPlan(opts.metrics ?? this.compiledMetrics, loss, isClassificationLoss(loss), metricThreshold(loss), caller);
    const task = accuracyTask(loss, plan);
    const collector = plan.metrics.length > 0 ? new OutputCollector(n) : null;
    const classes = new Int32Array(Math.min(bs, n)), truth = targets instanceof Int32Array ? null : new Int32Array(Math.min(bs, n));
    const was = this.training;
    this.setMode(false);
    try {
      let total = 0, correct = 0, counted = 0;
      for (const { x: xb, y: yb, index } of new BatchIterator(xin, targets, { batchSize: bs }).epoch()) {
        const start = index * bs, end = start + xb.shape[0];
        let out: Tensor;
        if (rows === null || xb.shape[0] <= rows) {
          out = this.infer(xb);
        } else {
          // each part's output copied out of the plan's buffer, which the next part reuses
          const m = xb.shape[0];
          let data: FloatArray | null = null, shape: number[] = [];
          for (let a = 0; a < m; a += rows) {
            const b = Math.min(m, a + rows);
            this.setMode(false);  // the turn between parts may have run other calls on the network
            const part = this.infer(rowsOf(xb, a, b));
            const per = part.size / (b - a);
            if (data === null) {
              data = allocate(part.dtype, m * per);
              shape = [m, ...part.shape.slice(1)];
            }
            (data as FloatArray).set(part.data, a * per);
            yield;
          }
          out = new Tensor(data as FloatArray, shape);
        }
        const value = lossFn(out, yb).loss;
        if (!Number.isFinite(value)) {
          throw nonFiniteResult(xin, start, end, caller, xName, () => new Error(`${caller}: the loss is ${value} on samples ` +
            `${start + 1} to ${end} of ${n} although ${xName} is finite there: check ${yName} and the network's ` +
            'parameters for NaN or Infinity'));
        }
        total += value * (end - start);
        if (task) {
          correct += countCorrect(out, yb, task, classes, truth);
          counted += task === 'binary' ? out.size : end - start;
        }
        collector?.add(out, yb);
      }
      const result: EvaluateResult = { loss: total / n };
      if (task) result.accuracy = correct / counted;
      if (collector) Object.assign(result, computeMetrics(plan.metrics, ...collector.collected(), caller));
      return result;
    } finally {
      if (was) this.setMode(true);
    }
  }

  /**
   * What fit() and evaluate() check of the targets before the first batch, against the output the samples of x
   * give: labels (checkLabels), softmaxCrossEntropy's two columns at least, and — for fit()'s default loss — target
   * rows that are class distributions.
   */
  private checkTargetValues(x: Tensor, y: Int32Array | Tensor, loss: LossName | LossFunction, defaulted: boolean,
    name: string): void {
    const out = this.outputShapeFor(x.shape.slice(1));
    if (!out) return;
    const cols = sizeOf(out.slice(1));
    if (loss === 'softmaxCrossEntropy' && cols === 1) throw new RangeError(oneColumnMessage([x.shape[0], ...out.slice(1)]));
    if (loss === 'crossEntropy' && cols === 1) {
      throw new RangeError('crossEntropy needs at least 2 classes (columns), but the output has 1 column: a distribution ' +
        "over one class is always 1; use loss 'binaryCrossEntropy' for two classes or 'mse' for regression");
    }
    if (y instanceof Int32Array) checkLabels(y, loss, cols, name);
    else if (defaulted && y.size === x.shape[0] * cols) checkDistributions(y, cols);
  }

  /**
   * Trains with mini-batches; resolves to the per-epoch history. Every option is checked before the first batch
   * (the weights are untouched when one is wrong), and a second fit() while one runs on this network is refused.
   * The loss is the option's, else compile()'s (or the last fit's, or the loaded file's), else softmaxCrossEntropy,
   * which is then refused for targets it cannot mean (one output column, rows that are not class distributions);
   * the network keeps the loss it trained with, for evaluate() and save(). Labels are checked before the first
   * batch, and a bad one is named by its index in y.
   */
  async fit(x: Input, y: Targets, options?: FitOptions): Promise<History>;
  /**
   * fit() on a Dataset of batches ({ x, y }): an epoch is one pass (or stepsPerEpoch batches); batching and
   * shuffling are the dataset's (batchSize, shuffle and validationSplit are refused). Each batch's targets are
   * checked as it comes, a bad label named by its batch and row.
   */
  async fit(data: Dataset<Batch>, options?: FitOptions): Promise<History>;
  async fit(x: Input | Dataset<Batch>, y?: Targets | FitOptions, options: FitOptions = {}): Promise<History> {
    if (this.fitting) {
      throw new Error('fit() is already running on this network: await it (or abort it through its signal) before ' +
        'starting another; two at once would interleave their batches');
    }
    if (x instanceof Dataset) return this.fitDataset(x, (y ?? {}) as FitOptions);
    const opts = optionsObject(options, 'fit() options');
    knownOptions(opts, FIT_OPTIONS, 'fit()');
    if (opts.stepsPerEpoch !== undefined) {
      throw new TypeError('stepsPerEpoch is for a dataset (fit(dataset, { stepsPerEpoch })); with tensors an epoch is every sample once');
    }
    if (opts.prefetch !== undefined) throw new TypeError('prefetch is for a dataset (fit(dataset, { prefetch })); tensors are in memory');
    const lossName = opts.loss ?? this.lossSpec ?? 'softmaxCrossEntropy';
    const smoothing = labelSmoothingValue(opts.labelSmoothing, 'fit()'), gradInto = new ReusableTensor();
    const lossFn = lossFunction(lossName, gradInto, smoothing), lossArgmax = lossWithArgmax(lossName, gradInto, smoothing);
    checkLossAfter(lossName, this.layers.at(-1), 'fit()');
    let xin = this.batchInput(x, 'fit()', 'x');
    let targets = checkTargets(y, xin.shape[0], 'y', this.dtype);
    this.checkTargetValues(xin, targets, lossName, opts.loss === undefined && this.lossSpec === null, 'y');
    const optimizer = opts.optimizer !== undefined ? fitOptimizer(opts.optimizer) : this.compiledOptimizer ?? fitOptimizer(undefined);
    const epochs = positiveInt(opts.epochs ?? 1, 'epochs');
    const weightDecay = nonNegativeNumber(opts.weightDecay ?? 0, 'weightDecay');
    const shuffle = optionalBoolean(opts.shuffle, 'shuffle') ?? true;
    const dataset = optionalString(opts.dataset, 'dataset');
    let val: [Tensor, Int32Array | Tensor] | Dataset<Batch> | undefined;
    if (opts.validationSplit !== undefined) {
      if (opts.validationData !== undefined) {
        throw new TypeError('validationSplit and validationData are exclusive: give validationData, or let ' +
          'validationSplit hold out the last part of x and y');
      }
      [xin, targets, val] = splitValidation(xin, targets, opts.validationSplit);
    }
    const n = xin.shape[0];
    if (opts.validationData instanceof Dataset) {
      checkBatchedDataset(opts.validationData, 'fit()', 'validationData');
      val = opts.validationData;
    } else if (opts.validationData !== undefined) {
      if (!Array.isArray(opts.validationData) || opts.validationData.length !== 2) {
        throw new TypeError(`validationData must be [x, y], got ${describeValue(opts.validationData)}`);
      }
      const vx = this.input(opts.validationData[0], 'validationData x');
      const sampleShape = formatShape(xin.shape.slice(1)), vShape = formatShape(vx.shape.slice(1));
      if (vx.ndim !== xin.ndim || sampleShape !== vShape) {
        throw new RangeError(`validationData x has samples of shape ${vShape} but x has ${sampleShape}`);
      }
      if (vx.shape[0] === 0) throw new RangeError('validationData x holds no samples');
      val = [vx, checkTargets(opts.validationData[1], vx.shape[0], 'validationData y', this.dtype)];
      const vy = val[1];
      if (vy instanceof Tensor && targets instanceof Tensor && formatShape(vy.shape.slice(1)) !== formatShape(targets.shape.slice(1))) {
        throw new RangeError(`validationData y has targets of shape ${formatShape(vy.shape.slice(1))} but y has ` +
          formatShape(targets.shape.slice(1)));
      }
      this.checkTargetValues(vx, vy, lossName, false, 'validationData y');
    }
    const bs = Math.min(positiveInt(opts.batchSize ?? DEFAULT_BATCH_SIZE, 'batchSize'), n);
    const data = new BatchIterator(xin, targets, { batchSize: bs, shuffle, rng: this.rng });
    if (optimizer instanceof Optimizer) optimizer.checkSchedule(epochs, data.batches);
    const plan = metricPlan(opts.metrics ?? this.compiledMetrics, lossName, isClassificationLoss(lossName), metricThreshold(lossName), 'fit()');
    const { given, callbacks, signal } = fitCallbacks(opts);

    this.lossSpec = lossName;
    if (dataset !== undefined) this.dataset = dataset;
    this.plan = null;
    this.fitting = true;
    this.holdModuleParameters(true);
    try {
      return await this.trainLoop(data, { lossName, lossFn, lossArgmax, optimizer, epochs, weightDecay, val, plan, callbacks, signal });
    } catch (e) {
      // a progress bar's live line is ended, so that what is printed next starts on a line of its own
      for (const c of given) if (c instanceof ProgressBar) c.interrupt();
      throw e;
    } finally {
      this.fitting = false;
      this.holdModuleParameters(false);
    }
  }

  /** fit() of a dataset: the options checked as for tensors, then the same loop over the dataset's batches. */
  private async fitDataset(data: Dataset<Batch>, options: FitOptions): Promise<History> {
    const opts = optionsObject(options, 'fit() options');
    knownOptions(opts, FIT_OPTIONS, 'fit()');
    const refused = { batchSize: 'dataset.batch(n)', shuffle: 'dataset.shuffle({ seed })', validationSplit: 'dataset.split([0.9, 0.1])' };
    for (const [k, instead] of Object.entries(refused)) {
      if (opts[k as keyof typeof refused] !== undefined) {
        throw new TypeError(`fit(): ${k} is for tensors; a dataset does it itself: ${instead}`);
      }
    }
    checkBatchedDataset(data, 'fit()', 'the dataset');
    const lossName = opts.loss ?? this.lossSpec ?? 'softmaxCrossEntropy';
    const smoothing = labelSmoothingValue(opts.labelSmoothing, 'fit()'), gradInto = new ReusableTensor();
    const lossFn = lossFunction(lossName, gradInto, smoothing), lossArgmax = lossWithArgmax(lossName, gradInto, smoothing);
    checkLossAfter(lossName, this.layers.at(-1), 'fit()');
    const defaulted = opts.loss === undefined && this.lossSpec === null;
    const optimizer = opts.optimizer !== undefined ? fitOptimizer(opts.optimizer) : this.compiledOptimizer ?? fitOptimizer(undefined);
    const epochs = positiveInt(opts.epochs ?? 1, 'epochs');
    const weightDecay = opts.weightDecay ?? 0;
    if (typeof weightDecay !== 'number' || !(weightDecay >= 0) || !Number.isFinite(weightDecay)) {
      throw new RangeError(`weightDecay must be a non-negative number, got ${describeValue(weightDecay)}`);
    }
    const dataset = optionalString(opts.dataset, 'dataset');
    const steps = opts.stepsPerEpoch === undefined ? null : positiveInt(opts.stepsPerEpoch, 'stepsPerEpoch');
    const prefetch = opts.prefetch === undefined ? 1 : nonNegativeInt(opts.prefetch, 'prefetch');
    if (steps === null && (data.cardinality === null || data.cardinality === Infinity)) {
      throw new RangeError(`fit(): the dataset's number of batches is ${data.cardinality === null ? 'unknown (a generator, ' +
        'or filter())' : 'infinite (repeat())'}: pass fit(dataset, { stepsPerEpoch }) to say how many batches an epoch is`);
    }
    if (data.cardinality === 0) throw new RangeError('fit(): the dataset holds no batches');
    let val: [Tensor, Int32Array | Tensor] | Dataset<Batch> | undefined;
    const v = opts.validationData;
    if (v instanceof Dataset) {
      checkBatchedDataset(v, 'fit()', 'validationData');
      val = v;
    } else if (v !== undefined) {
      if (!Array.isArray(v) || v.length !== 2) throw new TypeError(`validationData must be [x, y] or a Dataset of batches, got ${describeValue(v)}`);
      const vx = this.batchInput(v[0], 'fit()', 'validationData x');
      val = [vx, checkTargets(v[1], vx.shape[0], 'validationData y', this.dtype)];
      this.checkTargetValues(vx, val[1], lossName, false, 'validationData y');
    }
    const plan = metricPlan(opts.metrics ?? this.compiledMetrics, lossName, isClassificationLoss(lossName), metricThreshold(lossName), 'fit()');
    const { given, callbacks, signal } = fitCallbacks(opts);
    const source = new DatasetBatches(data, steps,
      (b, index) => this.checkedBatch({ ...b, index }, lossName, defaulted, 'fit()', `batch ${index}`), prefetch);

    this.fitting = true;
    this.holdModuleParameters(true);
    try {
      await source.start();
      if (optimizer instanceof Optimizer) optimizer.checkSchedule(epochs, source.batches);
      this.lossSpec = lossName;
      if (dataset !== undefined) this.dataset = dataset;
      this.plan = null;
      return await this.trainLoop(source, { lossName, lossFn, lossArgmax, optimizer, epochs, weightDecay, val, plan, callbacks, signal });
    } catch (e) {
      for (const c of given) if (c instanceof ProgressBar) c.interrupt();
      throw e;
    } finally {
      this.fitting = false;
      this.holdModuleParameters(false);
      await source.close();
    }
  }

  /** fit()'s loop, on checked options. */
  private async trainLoop(data: BatchSource, o: {
    lossName: LossName | LossFunction; lossFn: LossFunction; lossArgmax: LossWithArgmax | null; optimizer: Optimizer; epochs: number;
    weightDecay: number; val: [Tensor, Int32Array | Tensor] | Dataset<Batch> | undefined;
    plan: MetricPlan; callbacks: CallbackList; signal: AbortSignal | undefined;
  }): Promise<History> {
    const { lossName, lossFn, lossArgmax, optimizer, epochs, weightDecay, val, plan, callbacks, signal } = o;
    const { samples: n, batchSize: bs, batches } = data;
    const [ws, gs] = this.weights();
    const params = this.parameters();
    // the accuracy's class buffers, as long as the largest batch
    let classes = new Int32Array(bs), truth = new Int32Array(bs);
    const task = accuracyTask(lossName, plan), withAccuracy = task !== null;
    const collector = plan.metrics.length > 0 ? new OutputCollector(n) : null;

    // what each epoch reports, in the order EpochInfo and History hold it
    const reported: Record<string, Direction | null> = { loss: 'min' };
    if (withAccuracy) reported.accuracy = 'max';
    for (const m of plan.metrics) reported[m.name] = m.greaterIsBetter ? 'max' : 'min';
    if (val) {
      reported.valLoss = 'min';
      if (withAccuracy) reported.valAccuracy = 'max';
      for (const m of plan.metrics) reported[validationKey(m.name)] = m.greaterIsBetter ? 'max' : 'min';
    }
    reported.lr = null;
    const history = Object.fromEntries(Object.keys(reported).map((k) => [k, []])) as unknown as History;
    history.valLoss ??= [];  // empty without validation data
    let stop = false;
    const fit: FitContext = Object.freeze({
      network: this, optimizer, epochs, batches, samples: n, batchSize: bs, hasValidation: val !== undefined,
      reported: Object.freeze(reported),
      stopTraining: () => { stop = true; },
      get stopRequested() { return stop; },
    });
    const hasBatchHooks = callbacks.has('onBatchEnd');
    optimizer.startSchedule?.({ epochs, stepsPerEpoch: batches });
    await callbacks.call('onTrainBegin', { epochs, batches, samples: n, batchSize: bs }, fit);

    let lastYield = performance.now(), trained = 0;
    for (let epoch = 0; epoch < epochs; epoch++) {
      optimizer.setEpoch(epoch);
      optimizer.setStep?.(epoch * batches);
      // checked again: a schedule may depend on more than the epoch, a callback may have changed the base rate
      let lr = optimizer.lr;
      await callbacks.call('onEpochBegin', { epoch, lr }, fit);
      collector?.reset();
      let lossSum = 0, correct = 0, counted = 0, seen = 0;
      for await (const batch of data.epoch()) {
        const { x: xb, y: yb, size: m, index: b } = batch;
        if (signal?.aborted) throw new FitAbortedError(`fit() was aborted before epoch ${epoch + 1}, batch ${b + 1}`, history);
        if (!this.training) this.train();  // a callback may have switched the network to eval mode

        this.zeroGradForTrain();
        const out = this.runTrain(xb);
        // softmaxCrossEntropy on labels: the loss and the accuracy's classes in one kernel call
        const fused = task === 'softmax' && lossArgmax !== null && yb instanceof Int32Array;
        if (task && classes.length < m) { classes = new Int32Array(m); truth = new Int32Array(m); }
        const res = fused ? lossArgmax(out, yb, classes) : lossFn(out, yb);
        const loss = res.loss + l2Penalty(ws, weightDecay);
        if (!Number.isFinite(loss)) {
          throw new Error(`fit(): the loss became ${loss} at epoch ${epoch + 1}, batch ${b + 1} of ${batches}; ` +
            nonFiniteCause(batch));
        }
        if (collector) {
          // a metric that cannot read this output or these targets fails on the first batch, before any step
          if (epoch === 0 && b === 0) computeMetrics(plan.metrics, out, yb, 'fit()');
          collector.add(out, yb);
        }
        this.trainBackward(res.grad);
        l2Penalty(ws, weightDecay, gs);
        if (b > 0) optimizer.setStep?.(epoch * batches + b);
        lr = optimizer.lr;
        optimizer.step(params);

        lossSum += loss * m;
        seen += m;
        let accuracy: number | undefined;
        if (task) {
          // binaryCrossEntropy counts every output column, the other tasks every sample
          const batchCorrect = fused ? countMatches(classes, yb, m) : countCorrect(out, yb, task, classes, truth);
          const batchCounted = task === 'binary' ? out.size : m;
          correct += batchCorrect;
          counted += batchCounted;
          accuracy = batchCorrect / batchCounted;
        }
        if (hasBatchHooks) {
          const info: BatchInfo = { epoch, batch: b, batches, size: m, loss, lr };
          if (accuracy !== undefined) info.accuracy = accuracy;
          await callbacks.call('onBatchEnd', info, fit);
        }
        if (stop) break;
        // let the event loop run between batches: every batch that ends YIELD_MS or more after the last turn (a
        // turn costs a few µs, which small batches would feel)
        const now = performance.now();
        if (now - lastYield >= YIELD_MS) {
          await nextTick();
          lastYield = performance.now();
        }
      }
      const values: Record<string, number> = { loss: lossSum / seen };
      if (task) values.accuracy = correct / counted;
      if (collector) Object.assign(values, computeMetrics(plan.metrics, ...collector.collected(), 'fit()'));
      if (val) {
        const r = val instanceof Dataset ? await this.evaluateDataset(val, { loss: lossName }, 'fit()', plan, 'validationData')
          : await this.evaluateYielding(val[0], val[1], { loss: lossName, batchSize: Math.max(bs, DEFAULT_EVAL_BATCH_SIZE) }, plan, bs);
        this.train();
        values.valLoss = r.loss;
        if (task) values.valAccuracy = r.accuracy as number;
        for (const m of plan.metrics) values[validationKey(m.name)] = r[m.name] as number;
      }
      values.lr = lr;
      const info: EpochInfo = { epoch, loss: values.loss, lr };
      for (const k of Object.keys(reported)) {
        info[k] = values[k];
        (history[k] as number[]).push(values[k]);
      }
      await callbacks.call('onEpochEnd', info, fit);
      if (!this.training) this.train();
      trained++;
      if (stop) break;
    }
    await callbacks.call('onTrainEnd', { epochs: trained, stopped: stop }, fit);
    return history;
  }

  /**
   * Parameters and layer buffers by name ('0.weight', '3.running_mean', ...); the tensors themselves. With
   * { to: 'pytorch' }: PyTorch's layouts (Linear weights (out, in)), as copies, for an nn.Sequential of the same layers.
   */
  stateDict(options: StateDictOptions = {}): Record<string, Tensor> {
    if (stateDictLayout(options, 'to', 'stateDict()') === 'pytorch') return toPytorchStateDict(this.layers);
    const dict: Record<string, Tensor> = {};
    this.layers.forEach((l, i) => {
      l.params.forEach((p, j) => { dict[`${i}.${l.paramNames[j]}`] = p; });
      l.buffers.forEach((b, j) => { dict[`${i}.${l.bufferNames[j]}`] = b; });
    });
    return dict;
  }

  /**
   * Copies tensors into the parameters and buffers by name. Every expected name must be present with the same
   * shape; unknown names are an error unless strict is false. Values are converted to the network's dtype. With
   * { from: 'pytorch' }: a PyTorch state dict (io/pytorch.ts: Linear weights transposed, modules matched by index
   * names, by `names` or by position, num_batches_tracked skipped).
   */
  loadStateDict(dict: Record<string, Tensor>, opts: LoadStateDictOptions = {}): void {
    if (dict === null || typeof dict !== 'object') throw new TypeError('state dict must be an object of tensors');
    if (stateDictLayout(opts, 'from', 'loadStateDict()') === 'pytorch') dict = fromPytorchStateDict(this.layers, dict, { names: opts.names });
    const own = this.stateDict();
    const strict = opts.strict ?? true;
    const missing = Object.keys(own).filter((k) => !(k in dict));
    if (missing.length) throw new RangeError(`state dict is missing ${missing.join(', ')}`);
    const unexpected = Object.keys(dict).filter((k) => !(k in own));
    if (strict && unexpected.length) throw new RangeError(`state dict has unexpected entries ${unexpected.join(', ')}`);
    for (const [k, t] of Object.entries(own)) {
      const src = dict[k];
      if (!(src instanceof Tensor)) throw new TypeError(`state dict entry '${k}' must be a Tensor`);
      if (src.shape.join() !== t.shape.join()) {
        throw new RangeError(`state dict entry '${k}' has shape ${formatShape(src.shape)}, expected ${formatShape(t.shape)}`);
      }
    }
    for (const [k, t] of Object.entries(own)) t.data.set(dict[k].data);
    this.plan = null;
  }

  /**
   * Saves the model: weights as float32 safetensors under PyTorch-style names ('0.weight', ...) and the
   * architecture (toConfig()) as JSON in the metadata; atomic. The metadata also records what a file alone must
   * tell to be used correctly: the input shape of one sample (always: the option, else the last input's, else a
   * first Dense layer's [inFeatures]; a network whose input shape none of these tells is refused), the loss (a named
   * one), the class names and the data set (where known: the options, else the network's). `metadata` adds string
   * entries of your own.
   */
  async save(path: string, options: SaveOptions = {}): Promise<void> {
    const opts = optionsObject(options, 'save() options');
    knownOptions(opts, SAVE_OPTIONS, 'save()');
    this.layers.forEach((l, i) => {
      if (l instanceof ModuleLayer && !registeredLayers().includes(l.name)) {
        throw new TypeError(`save(): layer ${i} is a Module of type '${l.name}', which is not registered: a file must ` +
          `name how to rebuild it; call nn.registerLayer('${l.name}', (config) => new ${l.module.constructor.name}(...)) ` +
          '(in the loading script too), or save its weights alone with saveSafetensors(path, module.stateDict())');
      }
    });
    const info: ModelInfo = { inputShape: this.inputShapeToSave(opts.inputShape) };
    if (typeof this.lossSpec === 'string') info.loss = this.lossSpec;
    const classNames = opts.classNames ?? this.classNames;
    if (classNames !== null) info.classNames = this.checkClassNames(classNames, info.inputShape ?? null, 'save(): classNames');
    const dataset = optionalString(opts.dataset, 'save(): dataset') ?? this.dataset;
    if (dataset !== null) info.dataset = dataset;
    await saveModelFile(path, this.toConfig(), this.stateDict(), opts.metadata, info);
  }

  private inputShapeToSave(given: readonly number[] | undefined): number[] {
    let shape: readonly number[];
    if (given !== undefined) {
      if (!Array.isArray(given) || given.length === 0 || !given.every((d) => Number.isInteger(d) && d > 0)) {
        throw new TypeError(`save(): inputShape must be an array of positive integers (one sample, without the batch ` +
          `axis), got ${describeValue(given)}`);
      }
      shape = given;
    } else {
      const first = this.layers[0];
      const known = this.inputShape ?? (first instanceof Dense ? [first.inFeatures] : null);
      if (!known) {
        throw new TypeError(`save(): the network's input shape is unknown (it has not run, and its first layer, ` +
          `${first?.name ?? 'missing'}, does not fix it): run it once (fit, forward or predict) or pass ` +
          'save(path, { inputShape }) with the shape of one sample, e.g. [1, 28, 28]');
      }
      shape = known;
    }
    let out = [1, ...shape];
    this.layers.forEach((l, i) => {
      try {
        out = l.outputShape(out);
      } catch (e) {
        throw new RangeError(`save(): the input shape ${formatShape(shape)} does not fit layer ${i} (${l.name}): ` +
          (e as Error).message);
      }
    });
    return [...shape];
  }

  /** Class names: strings, one per class (two for a single output column), where the output's width is known. */
  private checkClassNames(names: unknown, inputShape: readonly number[] | null, name: string): string[] {
    if (!Array.isArray(names) || !names.every((v) => typeof v === 'string')) {
      throw new TypeError(`${name} must be an array of strings, got ${describeValue(names)}`);
    }
    const out = inputShape ? this.outputShapeFor(inputShape) : null;
    if (out) {
      const cols = sizeOf(out.slice(1)), classes = cols === 1 ? 2 : cols;
      if (names.length !== classes) {
        throw new RangeError(`${name} has ${names.length} names but the network's ${cols} output${cols === 1 ? '' : 's'} ` +
          `make ${classes} classes`);
      }
    }
    return [...names];
  }

  /**
   * Rebuilds a network saved by save(): architecture from the metadata, then the weights, then what the file
   * records of its use (loss, input shape, class names, data set: net.loss, net.inputShape, net.classNames,
   * net.dataset). The file's format and version, and every tensor's name and shape against the architecture, are
   * checked before any layer is built (loadModelFile); every error names the file.
   */
  static async load(path: string, opts: LoadOptions = {}): Promise<Sequential> {
    if (opts !== null && typeof opts === 'object' && opts.architecture !== undefined) return Sequential.loadWeights(path, opts);
    const { config, tensors, info } = await loadModelFile(path);
    try {
      const net = Sequential.fromConfig(config as SequentialConfig, opts);
      net.loadStateDict(tensors);
      net.restoreInfo(info);
      return net;
    } catch (e) {
      if (e instanceof SafetensorsError || !(e instanceof Error)) throw e;
      throw new SafetensorsError(e.message, path);
    }
  }

  /** A loaded file's descriptive metadata, checked against the network. */
  private restoreInfo(info: ModelInfo): void {
    if (info.loss !== undefined) {
      if (!(LOSS_NAMES as readonly string[]).includes(info.loss)) {
        throw new RangeError(`the 'nodenn.loss' metadata names the loss ${JSON.stringify(info.loss)}, which this nodenn ` +
          `does not know (${LOSS_NAMES.join(', ')})`);
      }
      this.lossSpec = info.loss as LossName;
    }
    if (info.inputShape) {
      if (!this.outputShapeFor(info.inputShape)) {
        throw new RangeError(`the 'nodenn.input_shape' metadata ${formatShape(info.inputShape)} does not fit the architecture's layers`);
      }
      this.lastInputShape = [1, ...info.inputShape];
    }
    if (info.classNames) this.classNames = this.checkClassNames(info.classNames, this.inputShape, "the 'nodenn.class_names' metadata");
    if (info.dataset !== undefined) this.dataset = info.dataset;
  }

  /** The architecture as JSON (layer configs), for saving; rebuild with Sequential.fromConfig. */
  toConfig(): SequentialConfig {
    return {
      format: ARCHITECTURE_FORMAT, version: ARCHITECTURE_VERSION, dtype: this.dtype, seed: this.seed,
      layers: this.layers.map((l) => l.config()),
    };
  }

  /**
   * Rebuilds a network from toConfig() output through the layer registry (weights freshly initialized). A
   * config of another format or a newer version is refused; errors of a layer's config name its index.
   */
  static fromConfig(config: SequentialConfig, opts: SequentialOptions = {}): Sequential {
    if (config === null || typeof config !== 'object' || !Array.isArray(config.layers)) {
      throw new TypeError('config must be an object with a layers array (Sequential.toConfig())');
    }
    if (config.format !== undefined && config.format !== ARCHITECTURE_FORMAT) {
      throw new TypeError(`config.format must be '${ARCHITECTURE_FORMAT}', got ${JSON.stringify(config.format)}`);
    }
    const v: unknown = config.version;
    if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > ARCHITECTURE_VERSION)) {
      throw new RangeError(`config.version ${JSON.stringify(v)} is not one this nodenn reads (1 to ${ARCHITECTURE_VERSION})`);
    }
    const layers = config.layers.map((c, i) => {
      try {
        return layerFromConfig(c);
      } catch (e) {
        if (!(e instanceof Error)) throw e;
        const type = c !== null && typeof c === 'object' && typeof c.type === 'string' ? ` (${c.type})` : '';
        const Class = e instanceof TypeError ? TypeError : e instanceof RangeError ? RangeError : Error;
        throw new Class(`layer ${i}${type}: ${e.message}`);
      }
    });
    return new Sequential(layers, { seed: opts.seed ?? config.seed, dtype: opts.dtype ?? config.dtype });
  }

  /**
   * load() of a file of weights only (a PyTorch or Hugging Face safetensors file) into the given architecture: its
   * layout is PyTorch's unless the file says nodenn (or { from: 'nodenn' }).
   */
  private static async loadWeights(path: string, opts: LoadOptions): Promise<Sequential> {
    const arch = opts.architecture;
    const config: SequentialConfig = arch instanceof Sequential ? arch.toConfig()
      : Array.isArray(arch) ? { format: ARCHITECTURE_FORMAT, version: ARCHITECTURE_VERSION, dtype: 'float32', seed: 0, layers: arch }
        : arch as SequentialConfig;
    const net = Sequential.fromConfig(config, opts);
    const { tensors, metadata } = await loadSafetensors(path);
    const from = opts.from ?? (metadata.format === 'nodenn' ? 'nodenn' : 'pytorch');
    try {
      net.loadStateDict(tensors, { from, names: opts.names });
    } catch (e) {
      if (!(e instanceof Error)) throw e;
      throw new SafetensorsError(e.message, path);
    }
    return net;
  }

  // Interop with other frameworks' formats (src/io/onnx, src/io/pytorch.ts, src/io/tfjs.ts)

  /**
   * Writes the network as an ONNX model for inference (ONNX Runtime and others): one or a few standard operators
   * per layer, float32 weights, Dropout left out, BatchNorm with its running statistics.
   */
  async exportOnnx(path: string, options: ExportOnnxOptions = {}): Promise<void> {
    // loaded when first used: a program that never exports (nodenn train) does not pay for compiling the exporter
    const { exportOnnx } = await import('./io/onnx/export.js');
    await exportOnnx(this, path, options);
  }

  /** Writes the network in TensorFlow.js's Layers format: dir/model.json and dir/weights.bin (tf.loadLayersModel). */
  async exportTfjs(dir: string, options: ExportTfjsOptions = {}): Promise<void> {
    const { exportTfjs } = await import('./io/tfjs.js');  // when first used, as exportOnnx
    await exportTfjs(this, dir, options);
  }

  /** A table of the layers, their output shapes (N = batch) and parameter counts. */
  summary(inputShape?: readonly number[]): string {
    const firstIn = (this.layers[0] as unknown as { inFeatures?: number } | undefined)?.inFeatures;
    let shape: number[] | null = inputShape ? [1, ...inputShape]
      : this.lastInputShape ? [1, ...this.lastInputShape.slice(1)]
        : firstIn !== undefined ? [1, firstIn] : null;
    const rows: string[][] = [['#', 'Layer', 'Output shape', 'Params']];
    let total = 0;
    this.layers.forEach((l, i) => {
      let shown = '?';
      if (shape) {
        try {
          shape = l.outputShape(shape);
          shown = `(N, ${shape.slice(1).join(', ')})`;
        } catch {
          shape = null;
        }
      }
      const count = l.params.reduce((s, p) => s + p.size, 0);
      total += count;
      rows.push([String(i), l.name, shown, String(count)]);
    });
    const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
    const line = (r: string[]) => r.map((cell, c) => (c === 3 ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join('  ');
    const rule = '-'.repeat(widths.reduce((a, b) => a + b + 2, -2));
    return [line(rows[0]), rule, ...rows.slice(1).map(line), rule, `Total parameters: ${total} (${this.dtype})`].join('\n');
  }
}

/** Whether opts is a call's default: undefined or a plain object without keys (anything else is checked in full). */
function noOptions(opts: unknown): boolean {
  if (opts === undefined) return true;
  if (opts === null || typeof opts !== 'object' || Object.getPrototypeOf(opts) !== Object.prototype) return false;
  for (const k in opts) if (Object.hasOwn(opts, k)) return false;
  return true;
}

/** Returns out if it is finite; else throws naming the NaN or ±Infinity in x that caused it, or the parameters. */
function checkFiniteOutput(out: Tensor, x: Tensor, caller: string): Tensor {
  const i = firstNonFinite(out.data);
  if (i < 0) return out;
  const per = out.shape[0] > 0 ? out.size / out.shape[0] : 1;
  throw nonFiniteResult(x, 0, x.shape[0], caller, 'x', () => new Error(`${caller}: the network's output holds ${out.data[i]} ` +
    `at row ${Math.floor(i / per)} although x is finite: its parameters hold NaN or Infinity (e.g. after a diverged ` +
    'training), or a layer overflowed'));
}

/** Probabilities of a (N, C) output into p (which may be the output): softmax of each row (sigmoid for one column), or sigmoid of every element. */
function probabilities(out: Tensor, p: Tensor, rule: 'sigmoid' | 'softmax'): void {
  const n = out.shape[0], cols = out.size / n, b = getBackend();
  if (cols === 1 || rule === 'sigmoid') b.activationForward('sigmoid', out.size, out.data, p.data, 0);
  else b.softmax(n, cols, out.data, p.data);
}

/** Class indices of a (N, C) output: argmax, or value ≥ threshold for one column (into `into` if given). */
function classesOf(out: Tensor, threshold: number, into?: Int32Array | null): Int32Array {
  const n = out.shape[0], cols = out.size / n;
  const classes = into ? (into.length === n ? into : into.subarray(0, n)) : new Int32Array(n);
  if (cols === 1) for (let i = 0; i < n; i++) classes[i] = out.data[i] >= threshold ? 1 : 0;
  else getBackend().argmaxRows(n, cols, out.data, classes);
  return classes;
}

/** How many of the first n classes equal the labels. */
function countMatches(classes: Int32Array, labels: Int32Array, n: number): number {
  let c = 0;
  for (let i = 0; i < n; i++) if (classes[i] === labels[i]) c++;
  return c;
}

/**
 * How many outputs are classified like the targets. softmax: rows, the argmax against the label or the target
 * row's argmax. binary: every element, logit ≥ 0 against the target ≥ 0.5 (a label 0/1 for one column, one-hot
 * labels for several).
 */
function countCorrect(out: Tensor, y: Int32Array | Tensor, task: 'softmax' | 'binary', predInto?: Int32Array,
  truthInto?: Int32Array | null): number {
  let c = 0;
  if (task === 'binary') {
    const d = out.data, cols = out.size / out.shape[0];
    if (y instanceof Tensor) {
      for (let i = 0; i < d.length; i++) if ((d[i] >= 0) === (y.data[i] >= 0.5)) c++;
    } else if (cols === 1) {
      for (let i = 0; i < d.length; i++) if ((d[i] >= 0) === (y[i] === 1)) c++;
    } else {
      for (let i = 0; i < d.length; i++) if ((d[i] >= 0) === (y[Math.floor(i / cols)] === i % cols)) c++;
    }
    return c;
  }
  const pred = classesOf(out, 0.5, predInto);  // one column (probabilities): ≥ 0.5
  const truth = y instanceof Int32Array ? y : classesOf(y, 0.5, truthInto);
  for (let i = 0; i < pred.length; i++) if (pred[i] === truth[i]) c++;
  return c;
}
