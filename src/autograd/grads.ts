// The backward of every differentiable tensor operation, by the name record() was given: each takes d loss /
// d output (g), the operands, the output and the operation's attributes, and gives d loss / d operand for each
// operand (null where there is none: a number, or an operand that needs no gradient). They are written with the
// tensor operations, so they run on the backend's kernels; backward() calls them with recording off. A gradient
// for an operand that was broadcast is summed over the broadcast axes back to the operand's shape.
import { type DType, type FloatArray, Tensor, allocate } from '../tensor';
import type { Layer } from '../layers/layer';
import { hasTrainBackward } from '../layers/buffers';
import * as ew from '../ops/elementwise';
import * as linalg from '../ops/linalg';
import * as red from '../ops/reduce';
import * as shp from '../ops/shape';
import { getBackend } from '../backend/index';
import type { ActivationKind } from '../backend/kernels.gen';

export type GradFunction = (g: Tensor, inputs: readonly unknown[], y: Tensor, attrs: unknown) => (Tensor | null)[];

/**
 * .grad tensors whose values are stale: the next gradient added into one overwrites it instead (a training loop's
 * zeroing of the gradients without a pass over their memory; see ModuleLayer.backwardTrain). takeStale() answers
 * whether a tensor was marked and clears the mark.
 */
const staleGrads = new WeakSet<Tensor>();

export function markStale(grad: Tensor): void {
  staleGrads.add(grad);
}

export function takeStale(grad: Tensor): boolean {
  return staleGrads.delete(grad);
}

/**
 * Gradients a backward allocated itself and hands on alone (no other tensor shares their memory): a leaf without a
 * .grad takes one as it is instead of a copy (PyTorch's AccumulateGrad steals such a gradient too). takeFresh()
 * answers whether a tensor was marked and clears the mark.
 */
const freshGrads = new WeakSet<Tensor>();

function fresh(t: Tensor): Tensor {
  freshGrads.add(t);
  return t;
}

export function takeFresh(t: Tensor): boolean {
  return freshGrads.delete(t);
}

/** Whether operand x is a tensor that wants a gradient. */
function wants(x: unknown): x is Tensor {
  return typeof x === 'object' && x !== null && (x as Tensor).requiresGrad === true;
}

/** g summed over the axes that broadcasting added or stretched, to `shape`. */
export function unbroadcast(g: Tensor, shape: readonly number[]): Tensor {
  if (g.shape.length === shape.length) {
    let same = true;
    for (let i = 0; i < shape.length && same; i++) same = g.shape[i] === shape[i];
    if (same) return g;
  }
  const lead = g.ndim - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.ndim; i++) if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  return (axes.length > 0 ? red.sum(g, axes, true) : g).reshape(shape);
}

/** A binary operation's gradients: da(g) and db(g) are called only for operands that want one. */
function binary(da: (a: Tensor | number, b: Tensor | number, g: Tensor, y: Tensor) => Tensor,
  db: (a: Tensor | number, b: Tensor | number, g: Tensor, y: Tensor) => Tensor): GradFunction {
  return (g, [a, b], y) => [
    wants(a) ? unbroadcast(da(a, b as Tensor | number, g, y), a.shape) : null,
    wants(b) ? unbroadcast(db(a as Tensor | number, b, g, y), b.shape) : null,
  ];
}

/** A unary operation's gradient from g, its input and its output. */
function unary(dx: (g: Tensor, x: Tensor, y: Tensor, attrs: [number, number]) => Tensor): GradFunction {
  return (g, [x], y, attrs) => [wants(x) ? dx(g, x, y, attrs as [number, number]) : null];
}

/**
 * The activations' gradients through the layers' fused kernel, one pass: relu and leakyRelu read x (0 and slope at
 * x ≤ 0, as PyTorch), sigmoid y (1 − y) and tanh 1 − y².
 */
function activation(kind: ActivationKind): GradFunction {
  return (g, [x], y, attrs) => {
    if (!wants(x)) return [null];
    const dy = g.dtype === x.dtype ? g : g.astype(x.dtype);
    const dx = shp.empty(x.shape, x.dtype);
    const slope = kind === 'leakyRelu' ? (attrs as [number, number])[0] : 0;
    if (dx.size > 0) getBackend().activationBackward(kind, dx.size, x.data, y.data, dy.data, dx.data, slope);
    return [fresh(dx)];
  };
}

interface ReduceAttrs { axis?: red.Axis; keepdims?: boolean; ddof?: number }

/** x's shape with the reduced axes kept as size 1: the shape y has with keepdims. */
function keptShape(x: Tensor, attrs: ReduceAttrs): number[] {
  const axes = new Set(shp.normalizeAxes(attrs.axis, x.ndim));
  return x.shape.map((d, i) => (axes.has(i) ? 1 : d));
}

/** How many elements each result of a reduction summarises. */
function reducedCount(x: Tensor, attrs: ReduceAttrs): number {
  return shp.normalizeAxes(attrs.axis, x.ndim).reduce((n, i) => n * x.shape[i], 1);
}

/** g (the reduction's output gradient) as a tensor of x's shape. */
function spread(g: Tensor, x: Tensor, attrs: ReduceAttrs): Tensor {
  return shp.broadcastTo(g.reshape(keptShape(x, attrs)), x.shape);
}

/** The gradient of max/min: shared equally by the elements equal to the extreme (PyTorch's amax/amin). */
const extreme: GradFunction = (g, [x], y, attrs) => {
  if (!wants(x)) return [null];
  const kept = keptShape(x, attrs as ReduceAttrs);
  const mask = ew.eq(x, y.reshape(kept));
  return [ew.mul(mask, ew.div(g.reshape(kept), red.sum(mask, (attrs as ReduceAttrs).axis, true)))];
};

/** The gradient of var and std: 2 (x − mean) / (n − ddof), times 1 / (2 std) for std. */
function variance(std: boolean): GradFunction {
  return (g, [x], y, attrs) => {
    if (!wants(x)) return [null];
    const a = attrs as ReduceAttrs;
    const kept = keptShape(x, a);
    const centred = ew.sub(x, red.mean(x, a.axis, true));
    const scale = 1 / (reducedCount(x, a) - (a.ddof ?? 0));
    const gk = g.reshape(kept);
    return [std ? ew.mul(centred, ew.mul(ew.div(gk, y.reshape(kept)), scale)) : ew.mul(centred, ew.mul(gk, 2 * scale))];
  };
}

/**
 * The gradients of matmul, on the operands as matrices (a 1-D a a row, a 1-D b a column) and summed over batch
 * axes that were broadcast. With C = op(A) op(B): d op(A) = g op(B)ᵀ and d op(B) = op(A)ᵀ g, transposed back
 * where op is a transpose; the transposes are GEMM flags.
 */
const matmul: GradFunction = (g, [a, b], _y, attrs) => {
  const A = a as Tensor, B = b as Tensor;
  const { transposeA = false, transposeB = false } = (attrs ?? {}) as linalg.MatmulOptions;
  const a2 = A.ndim === 1 ? A.reshape([1, A.shape[0]]) : A;
  const b2 = B.ndim === 1 ? B.reshape([B.shape[0], 1]) : B;
  const tA = transposeA && A.ndim > 1, tB = transposeB && B.ndim > 1;
  const M = tA ? a2.shape[a2.ndim - 1] : a2.shape[a2.ndim - 2];
  const N = tB ? b2.shape[b2.ndim - 2] : b2.shape[b2.ndim - 1];
  const g2 = g.reshape([...g.shape.slice(0, g.ndim - (A.ndim > 1 ? 1 : 0) - (B.ndim > 1 ? 1 : 0)), M, N]);
  let da: Tensor | null = null, db: Tensor | null = null;
  if (wants(A)) {
    const [x, y, ta, tb] = tA ? [b2, g2, tB, true] : [g2, b2, false, !tB];
    if (!gemmIntoLeaf(A, x, y, ta, tb)) da = unbroadcast(linalg.matmul(x, y, { transposeA: ta, transposeB: tb }), a2.shape).reshape(A.shape);
  }
  if (wants(B)) {
    const [x, y, ta, tb] = tB ? [g2, a2, true, tA] : [a2, g2, !tA, false];
    if (!gemmIntoLeaf(B, x, y, ta, tb)) db = unbroadcast(linalg.matmul(x, y, { transposeA: ta, transposeB: tb }), b2.shape).reshape(B.shape);
  }
  return [da, db];
};

/**
 * leaf.grad += op(x) op(y) in one GEMM (beta 1) when leaf is a 2-D leaf whose .grad is already there in its shape
 * and dtype and x, y are 2-D matrices of that dtype: a weight's gradient, in place, with no temporary the size of
 * the weight (PyTorch's AccumulateGrad does the same). Returns false (nothing done) otherwise; then the gradient
 * goes back to the tape as usual.
 */
function gemmIntoLeaf(leaf: Tensor, x: Tensor, y: Tensor, ta: boolean, tb: boolean): boolean {
  const grad = leaf.grad;
  if (leaf.gradFn !== null || grad === null || leaf.ndim !== 2 || x.ndim !== 2 || y.ndim !== 2) return false;
  if (grad.dtype !== leaf.dtype || x.dtype !== leaf.dtype || y.dtype !== leaf.dtype) return false;
  if (grad.ndim !== 2 || grad.shape[0] !== leaf.shape[0] || grad.shape[1] !== leaf.shape[1]) return false;
  const M = ta ? x.shape[1] : x.shape[0], K = ta ? x.shape[0] : x.shape[1], N = tb ? y.shape[0] : y.shape[1];
  if (M !== leaf.shape[0] || N !== leaf.shape[1]) return false;
  const beta = takeStale(grad) ? 0 : 1;
  if (M * N > 0) getBackend().gemm(ta, tb, M, N, K, 1, x.data, y.data, beta, grad.data);
  return true;
}

/**
 * The gradients of linear, y = act(x op(W) + b) with x as an (M, in) matrix, from g = dy act': dx = g op(W)ᵀ,
 * dW = xᵀ g (gᵀ x for a transposed W) and db the column sums of g, two GEMMs with transposes as flags and one bias
 * reduction. dW and db go straight into the parameter's .grad when it is there (leafGradInto), as a built-in
 * layer's do.
 */
const linear: GradFunction = (dy, [x, w, b], y, attrs) => {
  const X = x as Tensor, W = w as Tensor;
  const { transposeWeight: tW, activation } =
    attrs as { transposeWeight: boolean; activation: linalg.LinearActivation | null };
  const dtype = dy.dtype, backend = getBackend();
  // through the activation first: relu's derivative from its output (y > 0 exactly where x W + b > 0), sigmoid's
  // and tanh's as always
  let g = dy;
  if (activation !== null) {
    // a temporary no one else sees (used up before this returns): one kept buffer, not an allocation per call
    g = new Tensor(scratch(dtype, dy.size), dy.shape);
    if (g.size > 0) backend.activationBackward(activation, g.size, y.data, y.data, dy.data, g.data, 0);
  }
  const outF = tW ? W.shape[0] : W.shape[1], inF = tW ? W.shape[1] : W.shape[0];
  let M = 1;
  for (let i = 0; i < X.ndim - 1; i++) M *= X.shape[i];
  const xd = X.dtype === dtype ? X : X.astype(dtype), wd = W.dtype === dtype ? W : W.astype(dtype);
  let dx: Tensor | null = null, dw: Tensor | null = null, db: Tensor | null = null;
  if (wants(X)) {
    dx = shp.empty(X.shape, dtype);
    if (outF === 0) dx.data.fill(0);
    else if (dx.size > 0) backend.gemm(false, !tW, M, inF, outF, 1, g.data, wd.data, 0, dx.data);
  }
  if (wants(W)) {
    const into = leafGradInto(W, dtype);
    const overwrite = into === null || takeStale(into);
    const target = into ?? (dw = shp.empty(W.shape, dtype));
    const [rows, cols, A, B] = tW ? [outF, inF, g, xd] : [inF, outF, xd, g];
    if (M > 0) {
      if (target.size > 0) {
        backend.gemm(true, false, rows, cols, M, 1, A.data, B.data, overwrite ? 0 : 1, target.data);
      }
    } else if (overwrite) {
      target.data.fill(0);
    }
  }
  if (wants(b)) {
    const into = leafGradInto(b, dtype);
    const target = into ?? (db = shp.empty(b.shape, dtype));
    if (into === null || takeStale(into)) target.data.fill(0);
    if (M > 0 && outF > 0) backend.biasBackward(M, outF, g.data, target.data);
  }
  return [dx && fresh(dx), dw && fresh(dw), db && fresh(db)];
};

const scratchBuffers: { float32: Float32Array; float64: Float64Array } = {
  float32: new Float32Array(0), float64: new Float64Array(0),
};

/** n elements of a buffer kept for temporaries that never leave a backward function (grown, never shrunk). */
function scratch(dtype: DType, n: number): FloatArray {
  let b: FloatArray = scratchBuffers[dtype];
  if (b.length < n) {
    b = allocate(dtype, n);
    if (dtype === 'float32') scratchBuffers.float32 = b as Float32Array;
    else scratchBuffers.float64 = b as Float64Array;
  }
  return b.length === n ? b : b.subarray(0, n);
}

/**
 * leaf's .grad when leaf is a leaf whose .grad is there in its shape and of `dtype`, for a gradient to be added
 * into in place (PyTorch's AccumulateGrad does the same); null otherwise, and the gradient then goes back to the
 * tape as usual.
 */
function leafGradInto(leaf: Tensor, dtype: DType): Tensor | null {
  const grad = leaf.grad;
  if (leaf.gradFn !== null || grad === null || grad.dtype !== dtype || leaf.dtype !== dtype) return null;
  if (grad.ndim !== leaf.ndim) return null;
  for (let i = 0; i < leaf.ndim; i++) if (grad.shape[i] !== leaf.shape[i]) return null;
  return grad;
}

/** The inverse of a permutation. */
function inverse(perm: readonly number[]): number[] {
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => { inv[p] = i; });
  return inv;
}

export const gradFunctions: Record<string, GradFunction> = {
  add: binary((_a, _b, g) => g, (_a, _b, g) => g),
  sub: binary((_a, _b, g) => g, (_a, _b, g) => ew.neg(g)),
  mul: binary((_a, b, g) => ew.mul(g, b), (a, _b, g) => ew.mul(g, a)),
  div: binary((_a, b, g) => ew.div(g, b), (_a, b, g, y) => ew.neg(ew.div(ew.mul(g, y), b))),
  pow: binary((a, b, g) => ew.mul(g, ew.mul(b, ew.pow(a, typeof b === 'number' ? b - 1 : ew.sub(b, 1)))),
    (a, _b, g, y) => ew.mul(g, ew.mul(y, typeof a === 'number' ? Math.log(a) : ew.log(a)))),
  // ties share the gradient equally, as PyTorch
  maximum: binary((a, b, g) => ew.mul(g, ew.add(ew.gt(a, b), ew.mul(ew.eq(a, b), 0.5))),
    (a, b, g) => ew.mul(g, ew.add(ew.lt(a, b), ew.mul(ew.eq(a, b), 0.5)))),
  minimum: binary((a, b, g) => ew.mul(g, ew.add(ew.lt(a, b), ew.mul(ew.eq(a, b), 0.5))),
    (a, b, g) => ew.mul(g, ew.add(ew.gt(a, b), ew.mul(ew.eq(a, b), 0.5)))),
  where: (g, [cond, a, b]) => [
    null,
    wants(a) ? unbroadcast(ew.where(cond as Tensor, g, 0), a.shape) : null,
    wants(b) ? unbroadcast(ew.where(cond as Tensor, 0, g), b.shape) : null,
  ],
  neg: unary((g) => ew.neg(g)),
  abs: unary((g, x) => ew.mul(g, ew.sign(x))),
  exp: unary((g, _x, y) => ew.mul(g, y)),
  log: unary((g, x) => ew.div(g, x)),
  log1p: unary((g, x) => ew.div(g, ew.add(x, 1))),
  sqrt: unary((g, _x, y) => ew.div(g, ew.mul(y, 2))),
  square: unary((g, x) => ew.mul(g, ew.mul(x, 2))),
  relu: activation('relu'),
  leakyRelu: activation('leakyRelu'),
  sigmoid: activation('sigmoid'),
  tanh: activation('tanh'),
  softplus: unary((g, x) => ew.mul(g, ew.sigmoid(x))),
  // Φ(x) + x φ(x); Φ(x) = gelu(x) / x away from 0
  gelu: unary((g, x, y) => {
    const cdf = ew.where(ew.eq(x, 0), 0.5, ew.div(y, x));
    const pdf = ew.mul(ew.exp(ew.mul(ew.square(x), -0.5)), 1 / Math.sqrt(2 * Math.PI));
    return ew.mul(g, ew.add(cdf, ew.mul(x, pdf)));
  }),
  // 1 inside [min, max] (bounds included, as PyTorch), else 0
  clamp: unary((g, x, _y, [lo, hi]) => ew.mul(g, ew.mul(ew.ge(x, lo), ew.le(x, hi)))),
  sum: (g, [x], _y, attrs) => [wants(x) ? spread(g, x, attrs as ReduceAttrs) : null],
  mean: (g, [x], _y, attrs) => [wants(x) ? ew.div(spread(g, x, attrs as ReduceAttrs), reducedCount(x, attrs as ReduceAttrs)) : null],
  // Π of the others: y / x without zeros; with one zero in a group only that element gets a gradient (the product
  // of the nonzero rest), with two or more none does (PyTorch's prod backward)
  prod: (g, [x], _y, attrs) => {
    if (!wants(x)) return [null];
    const a = attrs as ReduceAttrs;
    const zero = ew.eq(x, 0);
    const nonzero = ew.where(zero, 1, x);
    const rest = red.prod(nonzero, a.axis, true);
    const zeros = red.sum(zero, a.axis, true);
    const d = ew.where(ew.eq(zeros, 0), ew.div(rest, nonzero), ew.mul(ew.mul(zero, ew.eq(zeros, 1)), rest));
    return [ew.mul(g.reshape(keptShape(x, a)), d)];
  },
  max: extreme,
  min: extreme,
  logSumExp: (g, [x], y, attrs) => {
    if (!wants(x)) return [null];
    const kept = keptShape(x, attrs as ReduceAttrs);
    return [ew.mul(g.reshape(kept), ew.exp(ew.sub(x, y.reshape(kept))))];
  },
  var: variance(false),
  std: variance(true),
  softmax: (g, [x], y, axis) => [wants(x) ? ew.mul(y, ew.sub(g, red.sum(ew.mul(g, y), axis as number, true))) : null],
  logSoftmax: (g, [x], y, axis) => [wants(x) ? ew.sub(g, ew.mul(ew.exp(y), red.sum(g, axis as number, true))) : null],
  matmul,
  linear,
  reshape: (g, [x]) => [wants(x) ? g.reshape(x.shape) : null],
  permute: (g, [x], _y, perm) => [wants(x) ? shp.permute(g, inverse(perm as number[])) : null],
  broadcastTo: (g, [x]) => [wants(x) ? unbroadcast(g, x.shape) : null],
  identity: (g, [x]) => [wants(x) ? g : null],
  // a built-in layer (Layer.call): its own backward, the parameter gradients it fills, copied out
  layer: (g, inputs, _y, attrs) => {
    const { layer, call } = attrs as { layer: Layer; call: number };
    if (layer.autogradCalls !== call) {
      throw new Error(`${layer.name}: the layer was called again after the call being differentiated; a built-in layer ` +
        'keeps only its last forward, so call it once per backward pass (or write the computation with tensor operations)');
    }
    const inputGrad = wants(inputs[0]);
    // the parameters' .grad, where each is there in its gradient's shape and dtype, to take the gradient in place
    const into = layer.grads.map((t, i) => {
      const p = layer.params[i], to = p.grad;
      const fits = to !== null && to.dtype === t.dtype && to.ndim === t.ndim && to.shape.every((d, k) => d === t.shape[k]);
      return fits ? to : null;
    });
    const stale = into.map((t) => t !== null && takeStale(t));
    if (hasTrainBackward(layer) && into.every((t) => t !== null) && stale.every((st) => st === stale[0])) {
      // the layer writes its gradients straight into them: added to, or overwritten where they are stale
      const own = layer.grads;
      layer.grads = into as Tensor[];
      let dx: Tensor | null;
      try {
        dx = layer.backwardTrain(g, !stale[0], inputGrad);
      } finally {
        layer.grads = own;
      }
      return [dx !== null && layer.reuseBuffers ? dx.clone() : dx, ...into.map(() => null)];
    }
    let dx: Tensor | null;
    if (hasTrainBackward(layer)) {
      dx = layer.backwardTrain(g, false, inputGrad);
    } else {
      layer.zeroGrad();
      dx = layer.backward(g);
    }
    const paramGrads = layer.grads.map((t, i) => {
      const to = into[i];
      if (to === null) return fresh(t.clone());
      if (stale[i]) to.data.set(t.data);
      else if (t.size > 0) getBackend().axpy(t.size, 1, t.data, to.data);
      return null;
    });
    return [dx !== null && layer.reuseBuffers ? dx.clone() : dx, ...paramGrads];
  },
  // slice, take, gather, split: g added back at the rows taken (a row taken twice gets both)
  gatherAxis: (g, [x], _y, attrs) => {
    if (!wants(x)) return [null];
    const { axis, index } = attrs as { axis: number; index: Int32Array };
    const [outer, n, inner] = shp.around(x.shape, axis);
    const dx = shp.empty(x.shape, g.dtype);
    dx.data.fill(0);
    if (index.length > 0 && dx.size > 0) getBackend().scatterAxis(index.length, outer, n, inner, g.data, index, dx.data, true);
    return [dx];
  },
  maskedSelect: (g, [x], _y, attrs) => {
    if (!wants(x)) return [null];
    const { n, inner, positions } = attrs as { n: number; inner: number; positions: Int32Array };
    const dx = shp.empty(x.shape, g.dtype);
    dx.data.fill(0);
    if (positions.length > 0 && inner > 0) getBackend().scatterAxis(positions.length, 1, n, inner, g.data, positions, dx.data, true);
    return [dx];
  },
  // y = x with updates added at the indices: x's gradient is g, the updates' the rows of g they were added to
  scatterAdd: (g, [x, updates], _y, attrs) => {
    const { axis, index } = attrs as { axis: number; index: Int32Array };
    return [wants(x) ? g : null, wants(updates) ? shp.gatherAlong(g, axis, index) : null];
  },
  concat: (g, inputs, _y, axis) => {
    let offset = 0;
    return inputs.map((x) => {
      const t = x as Tensor, begin = offset;
      offset += t.shape[axis as number];
      return wants(t) ? shp.sliceAxis(g, axis as number, begin, offset) : null;
    });
  },
  pad: (g, [x], _y, widths) => {
    if (!wants(x)) return [null];
    let d = g;
    (widths as [number, number][]).forEach(([before], a) => { d = shp.sliceAxis(d, a, before, before + x.shape[a]); });
    return [d];
  },
};
