// Linear algebra: matmul with batch dimensions and broadcasting (NumPy's matmul rules), dot and outer. Every
// product runs on the gemmBatched kernel (native: the packed, threaded GEMM); transposes are passed to it as flags,
// never copied.
import { getBackend } from '../backend/index';
import { Tensor, type DType, formatShape, sizeOf } from '../tensor';
import { describeValue } from '../validate';
import { mul } from './elementwise';
import { broadcastTo, commonDType, empty, permute, tensorArg } from './shape';
import { record } from '../autograd/tape';

/** Options of matmul: whether to use either operand transposed. */
export interface MatmulOptions {
  /** Use the transpose of a's last two axes (passed to GEMM, not copied). */
  transposeA?: boolean;
  /** Use the transpose of b's last two axes. */
  transposeB?: boolean;
}

function asDType(t: Tensor, dtype: DType): Tensor {
  return t.dtype === dtype ? t : t.astype(dtype);
}

/** The batch shape both batch shapes broadcast to; a mismatch names both operands' shapes and the axis. */
function batchShape(a: readonly number[], b: readonly number[], aShape: readonly number[], bShape: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const da = i < n - a.length ? 1 : a[i - (n - a.length)];
    const db = i < n - b.length ? 1 : b[i - (n - b.length)];
    if (da !== db && da !== 1 && db !== 1) {
      throw new RangeError(`matmul: cannot broadcast the batch axes of a ${formatShape(aShape)} and b ` +
        `${formatShape(bShape)}: batch axis ${i} has size ${da} in a and ${db} in b`);
    }
    out.push(da === 1 ? db : da);
  }
  return out;
}

/**
 * NumPy's matmul: the last two axes of each operand are matrices, the axes before them batch axes that broadcast;
 * a 1-D a is a row vector and a 1-D b a column vector, their axis removed from the result. float64 wins over
 * float32.
 */
export function matmul(a: Tensor, b: Tensor, options: MatmulOptions = {}): Tensor {
  a = tensorArg(a, 'a');
  b = tensorArg(b, 'b');
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`options must be an object, got ${describeValue(options)}`);
  }
  const transA = options.transposeA ?? false, transB = options.transposeB ?? false;
  if (typeof transA !== 'boolean') throw new TypeError(`transposeA must be a boolean, got ${describeValue(transA)}`);
  if (typeof transB !== 'boolean') throw new TypeError(`transposeB must be a boolean, got ${describeValue(transB)}`);
  if (a.ndim === 0 || b.ndim === 0) {
    throw new RangeError(`matmul needs tensors of at least one dimension, got a ${formatShape(a.shape)} and b ` +
      `${formatShape(b.shape)} (for a scalar use mul)`);
  }
  const dtype = commonDType([a, b]);
  const A = a.ndim === 1 ? a.reshape([1, a.shape[0]]) : a;
  const B = b.ndim === 1 ? b.reshape([b.shape[0], 1]) : b;
  const ra = A.shape.slice(-2), rb = B.shape.slice(-2);
  const [M, Ka] = transA && a.ndim > 1 ? [ra[1], ra[0]] : ra;
  const [Kb, N] = transB && b.ndim > 1 ? [rb[1], rb[0]] : rb;
  if (Ka !== Kb) {
    throw new RangeError(`matmul: a ${formatShape(a.shape)}${transA ? ' (transposed)' : ''} and b ` +
      `${formatShape(b.shape)}${transB ? ' (transposed)' : ''} do not fit: the contracted axes have sizes ${Ka} and ${Kb}`);
  }
  const aBatch = A.shape.slice(0, -2), bBatch = B.shape.slice(0, -2);
  const batch = batchShape(aBatch, bBatch, a.shape, b.shape);
  const count = sizeOf(batch);
  // an operand whose batch axes are all 1 is the same matrix for every product; one that broadcasts otherwise is
  // materialized
  const operand = (t: Tensor, own: number[], rows: number, cols: number): [Tensor, boolean] => {
    if (sizeOf(own) === 1) return [asDType(t, dtype), true];
    if (own.length === batch.length && own.every((d, i) => d === batch[i])) return [asDType(t, dtype), false];
    return [broadcastTo(asDType(t, dtype), [...batch, rows, cols]), false];
  };
  const [Ad, broadcastA] = operand(A, aBatch, A.shape[A.ndim - 2], A.shape[A.ndim - 1]);
  const [Bd, broadcastB] = operand(B, bBatch, B.shape[B.ndim - 2], B.shape[B.ndim - 1]);
  const shape = [...batch, M, N];
  const y = empty(shape, dtype);
  if (y.size > 0) {
    getBackend().gemmBatched(transA && a.ndim > 1, transB && b.ndim > 1, count, M, N, Ka, broadcastA, broadcastB,
      Ad.data, Bd.data, y.data);
  }
  const out = a.ndim === 1 && b.ndim === 1 ? y.reshape([])
    : a.ndim === 1 ? y.reshape([...batch, N]) : b.ndim === 1 ? y.reshape([...batch, M]) : y;
  return record('matmul', [a, b], out, { transposeA: transA, transposeB: transB });
}

/**
 * NumPy's dot: the product with a 0-d tensor (mul), the inner product of two vectors (a 0-d tensor), matmul for matrices and for an N-D a with a 1-D
 * or 2-D b; for an N-D a and an M-D b (M > 2) the sum over a's last axis and b's second-to-last, the result shaped
 * a.shape[:-1] + b.shape[:-2] + b.shape[-1:].
 */
export function dot(a: Tensor, b: Tensor): Tensor {
  a = tensorArg(a, 'a');
  b = tensorArg(b, 'b');
  if (a.ndim === 0 || b.ndim === 0) return mul(a, b);
  if (b.ndim <= 2 || a.ndim === 1) return matmul(a, b);
  const K = a.shape[a.ndim - 1];
  if (b.shape[b.ndim - 2] !== K) {
    throw new RangeError(`dot: a ${formatShape(a.shape)} and b ${formatShape(b.shape)} do not fit: a's last axis has ` +
      `size ${K}, b's second-to-last ${b.shape[b.ndim - 2]}`);
  }
  // b (..., K, N) -> (K, ..., N) -> (K, rest): one matrix product
  const perm = [b.ndim - 2, ...b.shape.map((_, i) => i).filter((i) => i !== b.ndim - 2)];
  const bt = permute(b, perm).reshape([K, -1]);
  const y = matmul(a.reshape([-1, K]), bt);
  return y.reshape([...a.shape.slice(0, -1), ...b.shape.slice(0, -2), b.shape[b.ndim - 1]]);
}

/** The outer product of two vectors (any shape, flattened): (a.size, b.size). */
export function outer(a: Tensor, b: Tensor): Tensor {
  a = tensorArg(a, 'a');
  b = tensorArg(b, 'b');
  return matmul(a.reshape([a.size, 1]), b.reshape([1, b.size]));
}

/** Options of linear. */
export interface LinearOptions {
  /**
   * The weight is (out, in), PyTorch's nn.Linear layout, instead of nodenn's (in, out) (Dense's); passed to GEMM as
   * a flag, never copied. Default false.
   */
  transposeWeight?: boolean;
  /**
   * An activation applied to x W + b in the same operation (Keras' Dense(activation)): 'relu', 'sigmoid' or 'tanh',
   * or null (default) for none. `linear(x, w, b, { activation: 'relu' })` equals `linear(x, w, b).relu()`, one pass
   * and one temporary less each way.
   */
  activation?: LinearActivation | null;
}

/** The activations linear() fuses: those whose derivative its output alone gives. */
export type LinearActivation = 'relu' | 'sigmoid' | 'tanh';
const LINEAR_ACTIVATIONS: readonly LinearActivation[] = ['relu', 'sigmoid', 'tanh'];

/**
 * The fully connected layer as one operation: y = x W + b, W of shape (in, out) as Dense's weight, b of shape
 * (out) or left out (null); x is (..., in), its leading axes any batch shape, and y (..., out). PyTorch's
 * torch.nn.functional.linear, except that its weight is (out, in), y = x Wᵀ + b: pass such a weight with
 * { transposeWeight: true }. One GEMM and one bias pass forward (the kernels of Dense), and one recorded operation
 * whose backward gives dx, dW and db with two GEMMs and one bias reduction, adding dW and db straight into the
 * parameters' .grad when it is there; x.matmul(w).add(b) computes the same with two recorded operations and a
 * temporary. options.activation applies relu, sigmoid or tanh in the same operation. float64 wins over float32.
 */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null, options: LinearOptions = {}): Tensor {
  x = tensorArg(x, 'x');
  weight = tensorArg(weight, 'weight');
  if (bias !== undefined && bias !== null) bias = tensorArg(bias, 'bias');
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`linear: options must be an object, got ${describeValue(options)}`);
  }
  const transW = options.transposeWeight ?? false;
  if (typeof transW !== 'boolean') {
    throw new TypeError(`linear: transposeWeight must be a boolean, got ${describeValue(transW)}`);
  }
  const activation = options.activation ?? null;
  if (activation !== null && !LINEAR_ACTIVATIONS.includes(activation)) {
    throw new TypeError(`linear: activation must be one of ${LINEAR_ACTIVATIONS.map((a) => `'${a}'`).join(', ')} or null, ` +
      `got ${describeValue(activation)}`);
  }
  const layout = transW ? '(out, in)' : '(in, out)';
  if (weight.ndim !== 2) {
    throw new RangeError(`linear: weight must be 2-D ${layout}, got shape ${formatShape(weight.shape)}`);
  }
  const [inF, outF] = transW ? [weight.shape[1], weight.shape[0]] : weight.shape;
  if (x.ndim === 0) {
    throw new RangeError(`linear: x must have at least one axis, the ${inF} input features last, got shape []`);
  }
  const K = x.shape[x.ndim - 1];
  if (K !== inF) {
    const want = transW ? `[${outF}, ${K}]` : `[${K}, ${outF}]`;
    throw new RangeError(`linear: weight has shape ${formatShape(weight.shape)} but x ${formatShape(x.shape)} has ${K} ` +
      `features (its last axis): weight must be ${layout}, ${want}${transW ? ' (transposeWeight)' : ''}`);
  }
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== outF)) {
    throw new RangeError(`linear: bias must have shape [${outF}] (the weight's ${outF} output features), got ` +
      `${formatShape(bias.shape)}`);
  }
  const dtype = bias ? commonDType([x, weight, bias]) : commonDType([x, weight]);
  const X = asDType(x, dtype), W = asDType(weight, dtype);
  const M = K === 0 ? sizeOf(x.shape.slice(0, -1)) : x.size / K;
  const y = empty([...x.shape.slice(0, -1), outF], dtype);
  if (y.size > 0) {
    const backend = getBackend();
    if (K === 0) y.data.fill(0);
    else backend.gemm(false, transW, M, outF, K, 1, X.data, W.data, 0, y.data);
    if (bias) backend.biasAdd(M, outF, y.data, asDType(bias, dtype).data);
    if (activation !== null) backend.activationForward(activation, y.size, y.data, y.data, 0);
  }
  return record('linear', [x, weight, bias ?? null], y, { transposeWeight: transW, activation });
}
