// Losses: each returns { loss, grad } from one backend kernel call (the mean loss and its gradient with
// respect to the network's output). L2 regularization lives here too, since fit() adds it to the loss.
import { getBackend } from './backend/index';
import { ReusableTensor } from './layers/buffers';
import { describeValue, kernelNumber, knownOptions, nonNegativeNumber, numberIn, oneOf, optionalBoolean, optionsObject } from './validate';
import { Tensor, allocate, formatShape } from './tensor';

/** A loss function's result: the loss and its gradient with respect to the input. */
export interface LossResult {
  loss: number;
  /** d loss / d input, same shape and dtype as the input. */
  grad: Tensor;
}

/** The built-in losses, by the name fit() and compile() accept. */
export type LossName = 'softmaxCrossEntropy' | 'binaryCrossEntropy' | 'mse' | 'crossEntropy';
/** Every LossName. */
export const LOSS_NAMES: readonly LossName[] = ['softmaxCrossEntropy', 'binaryCrossEntropy', 'mse', 'crossEntropy'];

function checkTensor(t: unknown, name: string): Tensor {
  if (!(t instanceof Tensor)) throw new TypeError(`${name} must be a Tensor`);
  return t;
}

/** Rows and columns of a (N, C) input (any (N, ...) is read as N rows). */
function rowsCols(x: Tensor, name: string): [number, number] {
  if (x.ndim < 1 || x.shape[0] === 0 || x.size === 0) throw new RangeError(`${name} must be a non-empty (N, ...) tensor, got ${formatShape(x.shape)}`);
  return [x.shape[0], x.size / x.shape[0]];
}

/** Targets as a float tensor the size of x: a Tensor is checked; an Int32Array holds class indices (one-hot
 * for several columns) or, for a single column, the target values themselves. */
export function targetTensor(x: Tensor, targets: Tensor | Int32Array, name = 'targets'): Tensor {
  const [rows, cols] = rowsCols(x, 'input');
  if (targets instanceof Tensor) {
    if (targets.size !== x.size) {
      throw new RangeError(`${name} has shape ${formatShape(targets.shape)} but the input has shape ${formatShape(x.shape)}`);
    }
    return targets.dtype === x.dtype ? targets : targets.astype(x.dtype);
  }
  if (!(targets instanceof Int32Array)) throw new TypeError(`${name} must be a Tensor or an Int32Array of labels`);
  if (targets.length !== rows) throw new RangeError(`${name} has ${targets.length} labels but the input has ${rows} rows`);
  const out = allocate(x.dtype, x.size);
  if (cols === 1) {
    out.set(targets);
  } else {
    for (let r = 0; r < rows; r++) {
      const k = targets[r];
      if (!(k >= 0 && k < cols)) throw new RangeError(`${name}[${r}] = ${k} is outside [0, ${cols})`);
      out[r * cols + k] = 1;
    }
  }
  return new Tensor(out, x.shape);
}

/** Options of softmaxCrossEntropy. */
export interface SoftmaxCrossEntropyOptions {
  /**
   * Label smoothing ε in [0, 1] (default 0), PyTorch's label_smoothing: the targets become (1 − ε)·t + ε/C, so the
   * model is not pushed towards ever larger logits; the loss is the cross-entropy against those targets.
   */
  labelSmoothing?: number;
}

/**
 * Mean softmax cross-entropy of logits (N, C) against class indices (Int32Array of N) or target
 * distributions (one-hot or soft, a Tensor (N, C)). Stable (log-sum-exp); grad = (softmax − t)/N.
 * 1-D logits (C) are one sample, as in NumPy code: the label is then a number (or an Int32Array of one), the
 * targets a Tensor (C), and the gradient has the logits' shape (C). Softmax needs C ≥ 2 classes.
 */
export function softmaxCrossEntropy(logits: Tensor, labels: Int32Array | Tensor | number,
  options: SoftmaxCrossEntropyOptions = {}): LossResult {
  checkTensor(logits, 'logits');
  const smoothing = labelSmoothingOf(options, 'softmaxCrossEntropy');
  if (logits.ndim !== 1) {
    if (typeof labels === 'number') {
      throw new TypeError(`labels must be an Int32Array of class indices or a Tensor of targets for logits of shape ` +
        `${formatShape(logits.shape)}; a single number is the label of 1-D logits (one sample)`);
    }
    return sceInto(logits, labels, null, smoothing);
  }
  const cols = logits.size;
  let y: Int32Array | Tensor;
  if (typeof labels === 'number') {
    if (!Number.isInteger(labels) || labels < 0 || labels >= cols) {
      throw new RangeError(`label ${describeValue(labels)} is outside [0, ${cols}) (the classes of the logits, shape ${formatShape(logits.shape)})`);
    }
    y = Int32Array.of(labels);
  } else {
    if (labels instanceof Tensor && labels.size !== cols) {
      throw new RangeError(`labels has shape ${formatShape(labels.shape)} but the logits have shape ${formatShape(logits.shape)}`);
    }
    y = labels instanceof Tensor && labels.ndim === 1 ? labels.reshape([1, labels.size]) : labels;
  }
  const r = sceInto(logits.reshape([1, cols]), y, null, smoothing);
  return { loss: r.loss, grad: r.grad.reshape(logits.shape) };
}

/** Why softmaxCrossEntropy refuses one column: the softmax of one logit is 1, so the loss and its gradient are 0. */
export function oneColumnMessage(shape: readonly number[]): string {
  return `softmaxCrossEntropy needs at least 2 classes (columns), but the output has 1 column (shape ${formatShape(shape)}): ` +
    "the softmax of a single logit is always 1, so nothing could be learned; use loss 'binaryCrossEntropy' for two " +
    "classes (labels 0/1) or 'mse' for regression";
}

/** The gradient tensor of a loss: from `into` (reused, overwritten) or fresh. */
function gradFor(x: Tensor, into: ReusableTensor | null): Tensor {
  return into ? into.take(x.shape, x.dtype, true) : Tensor.zeros(x.shape, x.dtype);
}

/** The label smoothing of softmaxCrossEntropy's options (checked: a number in [0, 1]). */
function labelSmoothingOf(options: SoftmaxCrossEntropyOptions, caller: string): number {
  const opts = optionsObject(options, `${caller} options`);
  knownOptions(opts, ['labelSmoothing'], caller);
  return labelSmoothingValue(opts.labelSmoothing, caller);
}

/** A labelSmoothing option of `caller` (softmaxCrossEntropy, fit(), ...): a number in [0, 1], 0 when not given. */
export function labelSmoothingValue(value: unknown, caller: string): number {
  return numberIn(value ?? 0, `${caller} labelSmoothing`, '[0, 1]');
}

/** The smoothed targets (1 − ε)·t + ε/C of labels (class indices) or target rows, as floats of the logits' dtype. */
function smoothedTargets(logits: Tensor, labels: Int32Array | Tensor, smoothing: number): Tensor {
  const t = targetTensor(logits, labels, 'labels');
  const cols = logits.size / logits.shape[0], keep = 1 - smoothing, spread = smoothing / cols;
  const out = labels instanceof Int32Array ? t.data : allocate(logits.dtype, t.size);  // a fresh one-hot is ours
  for (let i = 0; i < out.length; i++) out[i] = keep * t.data[i] + spread;
  return new Tensor(out, logits.shape);
}

function sceInto(logits: Tensor, labels: Int32Array | Tensor, into: ReusableTensor | null, smoothing = 0): LossResult {
  checkTensor(logits, 'logits');
  const [rows, cols] = rowsCols(logits, 'logits');
  if (cols < 2) throw new RangeError(oneColumnMessage(logits.shape));
  const grad = gradFor(logits, into);
  let loss: number;
  if (smoothing > 0) {
    if (labels instanceof Int32Array && labels.length !== rows) {
      throw new RangeError(`labels has ${labels.length} entries but logits has ${rows} rows`);
    }
    loss = getBackend().softmaxCrossEntropyTarget(rows, cols, logits.data, smoothedTargets(logits, labels, smoothing).data, grad.data);
  } else if (labels instanceof Int32Array) {
    if (labels.length !== rows) throw new RangeError(`labels has ${labels.length} entries but logits has ${rows} rows`);
    loss = getBackend().softmaxCrossEntropyIndex(rows, cols, logits.data, labels, grad.data);
  } else {
    const t = targetTensor(logits, checkTensor(labels, 'labels'), 'labels');
    loss = getBackend().softmaxCrossEntropyTarget(rows, cols, logits.data, t.data, grad.data);
  }
  return { loss, grad };
}

/** A loss that also writes each row's argmax into `pred` (fit()'s accuracy), in the same kernel call. */
export type LossWithArgmax = (logits: Tensor, labels: Int32Array, pred: Int32Array) => LossResult;

/**
 * fit()'s softmaxCrossEntropy against label indices with the accuracy's argmax in one kernel call
 * (softmaxCrossEntropyArgmax: the loss and gradient of softmaxCrossEntropyIndex, the classes of argmaxRows, same
 * bits), the gradient into `gradInto`; null for any other loss or with label smoothing (fit() then calls the two).
 */
export function lossWithArgmax(loss: LossName | LossFunction, gradInto: ReusableTensor, labelSmoothing: number): LossWithArgmax | null {
  if (loss !== 'softmaxCrossEntropy' || labelSmoothing !== 0) return null;
  return (logits, labels, pred) => {
    checkTensor(logits, 'logits');
    const [rows, cols] = rowsCols(logits, 'logits');
    if (cols < 2) throw new RangeError(oneColumnMessage(logits.shape));
    if (labels.length !== rows) throw new RangeError(`labels has ${labels.length} entries but logits has ${rows} rows`);
    const grad = gradFor(logits, gradInto);
    return { loss: getBackend().softmaxCrossEntropyArgmax(rows, cols, logits.data, labels, grad.data, pred), grad };
  };
}

/** Options of binaryCrossEntropy. */
export interface BceOptions {
  /** Whether the input holds logits (default true: stable, no clipping) or probabilities. */
  fromLogits?: boolean;
  /** Clip of probabilities to [eps, 1 − eps] when fromLogits is false (default 1e-7). */
  eps?: number;
}

/** Binary cross-entropy, mean over all elements; targets in [0, 1] (Tensor) or 0/1 labels (Int32Array). */
export function binaryCrossEntropy(input: Tensor, targets: Tensor | Int32Array, opts: BceOptions = {}): LossResult {
  return bceInto(input, targets, opts, null);
}

function bceInto(input: Tensor, targets: Tensor | Int32Array, options: BceOptions, into: ReusableTensor | null): LossResult {
  const opts = optionsObject(options, 'binaryCrossEntropy options');
  knownOptions(opts, ['fromLogits', 'eps'], 'binaryCrossEntropy');
  const fromLogits = optionalBoolean(opts.fromLogits, 'binaryCrossEntropy fromLogits') ?? true;
  const eps = kernelNumber(opts.eps ?? 1e-7, 'binaryCrossEntropy eps', 'bceProbs', 'eps');
  checkTensor(input, 'input');
  const t = targetTensor(input, targets);
  const grad = gradFor(input, into);
  const loss = fromLogits
    ? getBackend().bceLogits(input.size, input.data, t.data, grad.data)
    : getBackend().bceProbs(input.size, input.data, t.data, eps, grad.data);
  return { loss, grad };
}

/**
 * How mse reduces the squared errors (p − t)² of an (N, ...) prediction:
 * - 'batchMean' (the default): summed over the features of each sample, averaged over the N samples;
 * - 'mean': averaged over every element — NumPy's np.mean((Y − T)**2), PyTorch's MSELoss(), Keras's 'mse' for
 *   (N, features) outputs;
 * - 'sum': summed over every element.
 * They agree for one output per sample ('batchMean' and 'mean') or one sample ('batchMean' and 'sum').
 */
export type MseReduction = 'batchMean' | 'mean' | 'sum';
/** Every MseReduction. */
export const MSE_REDUCTIONS: readonly MseReduction[] = ['batchMean', 'mean', 'sum'];

/** Options of mse. */
export interface MseOptions {
  /** Halve the loss (½ Σ (p − t)²), so its gradient is p − t (default false: no ½). */
  half?: boolean;
  /** How the squared errors are reduced to one number (default 'batchMean'). */
  reduction?: MseReduction;
}

/**
 * Squared error, without the ½ unless `half`, reduced by `reduction`: by default Σ over the features of a sample,
 * mean over the batch ('batchMean'). The course's mean_squared_error, 0.5 · Σ (y − t)², is
 * `mse(y, t, { reduction: 'sum', half: true })`; its np.mean((Y − T)**2) is `mse(Y, T, { reduction: 'mean' })`.
 * The gradient is that of the reduced loss. A 1-D prediction is N samples of one output each.
 */
export function mse(pred: Tensor, target: Tensor | Int32Array, opts: MseOptions = {}): LossResult {
  return mseInto(pred, target, opts, null);
}

function mseOptions(options: MseOptions): { half: boolean; reduction: MseReduction } {
  const opts = optionsObject(options, 'mse options');
  knownOptions(opts, ['half', 'reduction'], 'mse');
  return {
    half: optionalBoolean(opts.half, 'mse half') ?? false,
    reduction: oneOf(opts.reduction ?? 'batchMean', MSE_REDUCTIONS, 'mse reduction'),
  };
}

function mseInto(pred: Tensor, target: Tensor | Int32Array, opts: MseOptions, into: ReusableTensor | null): LossResult {
  checkTensor(pred, 'pred');
  const { half, reduction } = mseOptions(opts);
  const [rows, cols] = rowsCols(pred, 'pred');
  const t = targetTensor(pred, target, 'target');
  const grad = gradFor(pred, into);
  // The kernel sums over its cols and averages over its rows: the reduction is a choice of (rows, cols).
  const [r, c] = reduction === 'batchMean' ? [rows, cols] : reduction === 'sum' ? [1, pred.size] : [pred.size, 1];
  const loss = getBackend().mse(r, c, pred.data, t.data, half, grad.data);
  return { loss, grad };
}

/** Options of crossEntropy (a cross-entropy of probabilities, e.g. a Softmax layer's output). */
export interface CrossEntropyOptions {
  /** Added to every probability inside the log, so that log(0) is never taken (default 1e-7, as the course). */
  eps?: number;
}

/**
 * Cross-entropy of probabilities (the output of a Softmax layer), the course's cross_entropy_error:
 * −Σ t · log(p + eps) summed over the classes and averaged over the batch, with its gradient −t / (p + eps) / N
 * with respect to the probabilities. `probs` is (N, C), or (C) for one sample; `labels` holds class indices
 * (Int32Array of N) or target distributions (a Tensor the size of probs, one-hot or soft). A value outside
 * [0, 1] is refused: logits belong to softmaxCrossEntropy (fused and stable, the better choice for training).
 */
export function crossEntropy(probs: Tensor, labels: Int32Array | Tensor, opts: CrossEntropyOptions = {}): LossResult {
  return ceInto(probs, labels, opts, null);
}

function ceInto(probs: Tensor, labels: Int32Array | Tensor, options: CrossEntropyOptions, into: ReusableTensor | null): LossResult {
  checkTensor(probs, 'probs');
  const opts = optionsObject(options, 'crossEntropy options');
  knownOptions(opts, ['eps'], 'crossEntropy');
  const eps = kernelNumber(opts.eps ?? 1e-7, 'crossEntropy eps', 'crossEntropyProbs', 'eps');
  // One sample may come as a 1-D (C) vector, as in the course: a batch of one.
  const [rows, cols] = probs.ndim === 1 && probs.size > 0 ? [1, probs.size] : rowsCols(probs, 'probs');
  let t: Tensor;
  if (labels instanceof Int32Array) {
    if (labels.length !== rows) throw new RangeError(`labels has ${labels.length} entries but probs has ${rows} rows (${formatShape(probs.shape)})`);
    const data = allocate(probs.dtype, probs.size);
    for (let r = 0; r < rows; r++) {
      const k = labels[r];
      if (!(k >= 0 && k < cols)) throw new RangeError(`labels[${r}] = ${k} is outside [0, ${cols})`);
      data[r * cols + k] = 1;
    }
    t = new Tensor(data, probs.shape);
  } else {
    t = targetTensor(probs, checkTensor(labels, 'labels'), 'labels');
  }
  const grad = gradFor(probs, into);
  const loss = getBackend().crossEntropyProbs(rows, cols, probs.data, t.data, eps, grad.data);
  return { loss, grad };
}

/** A loss of your own: the loss and its gradient for a batch of outputs and targets. */
export type LossFunction = (output: Tensor, targets: Tensor | Int32Array) => LossResult;

/** What a custom loss function returned, checked: the training loop would otherwise fail far from the cause. */
function checkLossResult(r: unknown, output: Tensor): LossResult {
  const expected = `it must return { loss: number, grad: Tensor } with grad of the output's shape ${formatShape(output.shape)}`;
  if (r === null || typeof r !== 'object') throw new TypeError(`the loss function returned ${describeValue(r)}; ${expected}`);
  const { loss, grad } = r as Partial<LossResult>;
  if (typeof loss !== 'number') throw new TypeError(`the loss function returned a loss of ${describeValue(loss)}; it must be a number`);
  if (!(grad instanceof Tensor)) throw new TypeError(`the loss function returned a grad of ${describeValue(grad)}; it must be a Tensor`);
  const fits = `it must have the output's shape ${formatShape(output.shape)} and dtype ${output.dtype}`;
  if (grad.shape.join() !== output.shape.join()) {
    throw new RangeError(`the loss function returned a grad of shape ${formatShape(grad.shape)}; ${fits}`);
  }
  if (grad.dtype !== output.dtype) throw new RangeError(`the loss function returned a grad of dtype ${grad.dtype}; ${fits}`);
  return r as LossResult;
}

/**
 * A loss by name (or a custom function, its result checked). With `gradInto`, a named loss writes its gradient into
 * that reused tensor (valid until the next call), as the training loop wants; without it, a fresh tensor.
 * `labelSmoothing` (> 0) is softmaxCrossEntropy's (fit()'s option); any other loss refuses it.
 */
export function lossFunction(loss: LossName | LossFunction, gradInto: ReusableTensor | null = null,
  labelSmoothing = 0): LossFunction {
  if (labelSmoothing !== 0 && loss !== 'softmaxCrossEntropy') {
    throw new TypeError(`labelSmoothing is an option of the 'softmaxCrossEntropy' loss, not of ${typeof loss === 'function'
      ? 'a loss function' : typeof loss === 'string' ? `'${loss}'` : describeValue(loss)}`);
  }
  if (typeof loss === 'function') return (output, targets) => checkLossResult(loss(output, targets), output);
  switch (loss) {
    case 'softmaxCrossEntropy': return gradInto || labelSmoothing ? (o, t) => sceInto(o, t, gradInto, labelSmoothing) : softmaxCrossEntropy;
    case 'binaryCrossEntropy': return (o, t) => bceInto(o, t, {}, gradInto);
    case 'mse': return (o, t) => mseInto(o, t, {}, gradInto);
    case 'crossEntropy': return (o, t) => ceInto(o, t, {}, gradInto);
    default:
      throw new RangeError(`loss must be one of ${LOSS_NAMES.map((n) => `'${n}'`).join(', ')} or a function, got ${describeValue(loss)}`);
  }
}

/**
 * L2 regularization over weight tensors (biases excluded): returns reg · Σ W² and, when grads are given, adds
 * 2 · reg · W to each weight's gradient.
 */
export function l2Penalty(weights: Tensor[], reg: number, grads?: Tensor[]): number {
  nonNegativeNumber(reg, 'weight decay');
  if (reg === 0) return 0;
  const b = getBackend();
  let sum = 0;
  weights.forEach((w, i) => {
    sum += b.sumSquares(w.size, w.data);
    if (grads) b.axpy(w.size, 2 * reg, w.data, grads[i].data);
  });
  return reg * sum;
}
