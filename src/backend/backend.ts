// The kernel interface. Layers never loop over numbers themselves: they call these kernels on a Backend.
// Both backends ('ts' and 'native') implement every kernel for Float32Array and Float64Array (all float
// arguments of one call share a dtype), with the same argument checks and the same errors.
import type { FloatArray } from '../tensor';

export type ActivationKind = 'relu' | 'leakyRelu' | 'sigmoid' | 'tanh';
export type BackendName = 'ts' | 'native';
export type Isa = 'avx512' | 'avx2' | 'scalar';

export interface Kernels {
  /** C (M x N) = alpha * op(A) op(B) + beta * C; op(A) is M x K, op(B) is K x N; row-major, contiguous. */
  gemm(transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number,
    A: FloatArray, B: FloatArray, beta: number, C: FloatArray): void;
  /** y = act(x) over n elements; y may be x. */
  activationForward(kind: ActivationKind, n: number, x: FloatArray, y: FloatArray, slope: number): void;
  /** dx = dy * act'(x): relu and leaky relu read x, sigmoid and tanh read y; dx may be dy. */
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
