// The kernel interface. Layers never loop over numbers themselves: they call these kernels on a Backend.
// Both backends ('ts' and 'native') implement every kernel for Float32Array and Float64Array (all float
// arguments of one call share a dtype), with the same argument checks and the same errors.
import type { FloatArray } from '../tensor';

/** step: y = 1 for x > 0, 0 for x ≤ 0 (NaN kept), with a zero gradient (the perceptron's step function). */
export type ActivationKind = 'relu' | 'leakyRelu' | 'sigmoid' | 'tanh' | 'step';
export type BackendName = 'ts' | 'native';
export type Isa = 'avx512' | 'avx2' | 'scalar';

export interface Kernels {
  /** C (M x N) = alpha * op(A) op(B) + beta * C; op(A) is M x K, op(B) is K x N; row-major, contiguous. */
  gemm(transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number,
    A: FloatArray, B: FloatArray, beta: number, C: FloatArray): void;
  /** y = act(x) over n elements; y may be x. */
  activationForward(kind: ActivationKind, n: number, x: FloatArray, y: FloatArray, slope: number): void;
  /** dx = dy * act'(x): relu and leaky relu read x, sigmoid and tanh read y, step writes 0; dx may be dy. */
  activationBackward(kind: ActivationKind, n: number, x: FloatArray, y: FloatArray, dy: FloatArray,
    dx: FloatArray, slope: number): void;
  /** y[r, c] += bias[c] */
  biasAdd(rows: number, cols: number, y: FloatArray, bias: FloatArray): void;
  /** dbias[c] += sum over r of dy[r, c] (accumulates) */
  biasBackward(rows: number, cols: number, dy: FloatArray, dbias: FloatArray): void;
  /** y = softmax(x) row by row (stable); y may be x. */
  softmax(rows: number, cols: number, x: FloatArray, y: FloatArray): void;
  /** Mean softmax cross-entropy against label indices; writes grad = (softmax - onehot) / rows unless null. */
  softmaxCrossEntropyIndex(rows: number, cols: number, logits: FloatArray, labels: Int32Array,
    grad: FloatArray | null): number;
  /** The same against target distributions (one-hot or soft): grad = (sum(t) softmax - t) / rows. */
  softmaxCrossEntropyTarget(rows: number, cols: number, logits: FloatArray, targets: FloatArray,
    grad: FloatArray | null): number;
  /** p -= lr * g */
  sgd(n: number, p: FloatArray, g: FloatArray, lr: number): void;

  // net kernels: ops (ops.ts / ops.cc)
  /** y = a * b elementwise; y may be a or b. */
  mul(n: number, a: FloatArray, b: FloatArray, y: FloatArray): void;
  /** y = a + b elementwise; y may be a or b. */
  add(n: number, a: FloatArray, b: FloatArray, y: FloatArray): void;
  /** y = a / b elementwise (IEEE: x / 0 is ±Infinity or NaN); y may be a or b. */
  div(n: number, a: FloatArray, b: FloatArray, y: FloatArray): void;
  /** y = a ^ b elementwise (computed in double); y may be a or b. */
  power(n: number, a: FloatArray, b: FloatArray, y: FloatArray): void;
  /**
   * Backward of y = x ^ e: dx = dy · e · x^(e−1) (0 where e = 0), de = dy · x^e · ln x (0 where x = 0 and e ≥ 0),
   * PyTorch's rules. dx and de may each be dy, x or e, never each other.
   */
  powerBackward(n: number, x: FloatArray, e: FloatArray, dy: FloatArray, dx: FloatArray, de: FloatArray): void;
  /** x *= alpha */
  scale(n: number, x: FloatArray, alpha: number): void;
  /** y += alpha * x */
  axpy(n: number, alpha: number, x: FloatArray, y: FloatArray): void;
  /** Σ x², accumulated in double in index order. */
  sumSquares(n: number, x: FloatArray): number;
  /** out[r] = index of the first maximum of row r. */
  argmaxRows(rows: number, cols: number, x: FloatArray, out: Int32Array): void;
  /** dx = y * (dy - Σ dy·y) per row (backward of softmax); dx may be dy. */
  softmaxBackward(rows: number, cols: number, y: FloatArray, dy: FloatArray, dx: FloatArray): void;
  // net kernels: losses (loss.ts / loss.cc); each returns the mean loss and writes grad unless it is null
  /** Binary cross-entropy from logits (stable), mean over n. */
  bceLogits(n: number, logits: FloatArray, targets: FloatArray, grad: FloatArray | null): number;
  /** Binary cross-entropy from probabilities clipped to [eps, 1 - eps], mean over n. */
  bceProbs(n: number, probs: FloatArray, targets: FloatArray, eps: number, grad: FloatArray | null): number;
  /** Squared error summed over cols, mean over rows; halved if half. */
  mse(rows: number, cols: number, pred: FloatArray, target: FloatArray, half: boolean, grad: FloatArray | null): number;
  /**
   * Cross-entropy of probabilities, −Σ t · log(p + eps) / rows; grad = −t / (p + eps) / rows. Every p must lie in
   * [0, 1 + 1e-6] (NaN passes through): anything else is not a probability (logits go to softmaxCrossEntropy).
   * grad may be targets, never probs.
   */
  crossEntropyProbs(rows: number, cols: number, probs: FloatArray, targets: FloatArray, eps: number,
    grad: FloatArray | null): number;
  // net kernels: optimizers (optim.ts / optim.cc), fused and in place
  /** v = momentum v + g; p -= lr (nesterov ? g + momentum v : v) */
  sgdMomentum(n: number, p: FloatArray, g: FloatArray, v: FloatArray, lr: number, momentum: number, nesterov: boolean): void;
  /** h += g²; p -= lr g / (√h + eps) */
  adagrad(n: number, p: FloatArray, g: FloatArray, h: FloatArray, lr: number, eps: number): void;
  /** h = decay h + (1 - decay) g²; p -= lr g / (√h + eps) */
  rmsprop(n: number, p: FloatArray, g: FloatArray, h: FloatArray, lr: number, decay: number, eps: number): void;
  /** Adam step (1-based) with decoupled weight decay (AdamW) when weightDecay > 0. */
  adam(n: number, p: FloatArray, g: FloatArray, m: FloatArray, v: FloatArray, lr: number, beta1: number,
    beta2: number, eps: number, step: number, weightDecay: number): void;
  // conv kernels. x (N, C, H, W), weight (F, C, KH, KW), y (N, F, OH, OW), OH = 1 + floor((H + 2 padH - KH) /
  // strideH), OW alike; zero padding. Pooling has no padding: OH = 1 + floor((H - KH) / strideH).
  /**
   * y = conv(x, weight) + bias (bias may be null); relu: then y = max(y, 0) as the ReLU layer (NaN kept); pool:
   * then a 2x2 stride-2 max pooling as MaxPool2D(2), y being (N, F, floor(OH / 2), floor(OW / 2)) (inference).
   */
  conv2dForward(N: number, C: number, H: number, W: number, F: number, KH: number, KW: number, strideH: number,
    strideW: number, padH: number, padW: number, x: FloatArray, weight: FloatArray, bias: FloatArray | null,
    y: FloatArray, relu?: boolean, pool?: boolean): void;
  /** dx = d conv / dx applied to dy (dx is overwritten). */
  conv2dBackwardData(N: number, C: number, H: number, W: number, F: number, KH: number, KW: number, strideH: number,
    strideW: number, padH: number, padW: number, dy: FloatArray, weight: FloatArray, dx: FloatArray): void;
  /** dweight += d conv / dweight applied to dy, dbias += sums of dy (dbias may be null); same for any thread count. */
  conv2dBackwardFilter(N: number, C: number, H: number, W: number, F: number, KH: number, KW: number,
    strideH: number, strideW: number, padH: number, padW: number, x: FloatArray, dy: FloatArray, dweight: FloatArray,
    dbias: FloatArray | null): void;
  /** y = window maxima; argmax = index h * W + w in the plane of the first maximum (a NaN wins: it propagates). */
  maxPool2dForward(N: number, C: number, H: number, W: number, KH: number, KW: number, strideH: number,
    strideW: number, x: FloatArray, y: FloatArray, argmax: Int32Array): void;
  /** dx = 0, then dx[argmax] += dy (dx is overwritten). */
  maxPool2dBackward(N: number, C: number, H: number, W: number, KH: number, KW: number, strideH: number,
    strideW: number, dy: FloatArray, argmax: Int32Array, dx: FloatArray): void;
  /** y = window means. */
  avgPool2dForward(N: number, C: number, H: number, W: number, KH: number, KW: number, strideH: number,
    strideW: number, x: FloatArray, y: FloatArray): void;
  /** dx = 0, then each window's inputs += dy / (KH KW) (dx is overwritten). */
  avgPool2dBackward(N: number, C: number, H: number, W: number, KH: number, KW: number, strideH: number,
    strideW: number, dy: FloatArray, dx: FloatArray): void;
  /**
   * Batch norm per channel of x (N, C, S): training normalizes with batch statistics (biased variance) and updates
   * the running ones (unbiased variance, running = (1 - momentum) running + momentum batch); eval uses the running
   * ones. Writes the mean and invstd = 1 / sqrt(var + eps) used, for backward. y may be x.
   */
  batchNormForward(N: number, C: number, S: number, x: FloatArray, gamma: FloatArray, beta: FloatArray,
    y: FloatArray, mean: FloatArray, invstd: FloatArray, runningMean: FloatArray, runningVar: FloatArray,
    training: boolean, momentum: number, eps: number): void;
  /** dx (overwritten; may be dy), dgamma += sum dy xhat, dbeta += sum dy. */
  batchNormBackward(N: number, C: number, S: number, x: FloatArray, dy: FloatArray, gamma: FloatArray,
    mean: FloatArray, invstd: FloatArray, dx: FloatArray, dgamma: FloatArray, dbeta: FloatArray,
    training: boolean): void;
}

export interface Backend extends Kernels {
  readonly name: BackendName;
}

export interface BackendInfo {
  name: BackendName;
  /** The native kernels' instruction set, null on the ts backend. */
  isa: Isa | null;
  threads: number;
  version: string;
}
