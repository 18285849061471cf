// Gradient checking by central differences, for any layer or network — including users' own layers.
//
// The analytic gradient a layer's backward() computes is compared with a numerical one,
//   df/dp ≈ (f(p + h) − f(p − h)) / 2h,
// element by element, with the relative error |a − b| / max(1e-8, |a| + |b|). In float64 with h = 1e-5 a
// correct layer typically shows errors around 1e-9 or below; 1e-6 is the usual pass mark.
//
// Checking your own layer (any subclass of nn.Layer: forward caches, backward returns dx and accumulates into
// this.grads):
//   const layer = new MyLayer(...);                          // fresh parameters are re-created in float64 if needed
//   const x = new nn.Tensor(new Float64Array(2 * 5).map(() => Math.random() - 0.5), [2, 5]);
//   const r = nn.gradcheck.checkLayer(layer, x);             // { maxRelError, input, params: { weight, ... } }
//   if (r.maxRelError > 1e-6) console.log(r);                // names the gradient that is wrong
// A Module (nn.Module: forward of tensor ops, backward by autograd) is checked the same way, its parameters by their
// names ('fc.weight'): nn.gradcheck.checkLayer(new MyModule(), x), the module built in float64.
// For a whole network: nn.gradcheck.checkNetwork(net, x, y, { loss: 'mse', weightDecay: 1e-3 }) on a
// Sequential built with { dtype: 'float64' } (worst relative error and mean absolute difference per parameter);
// nn.gradcheck.numericalGradients(net, x, y, { loss }) gives the numerical gradients themselves, by name. For
// anything else, numericalGradient(f, tensor) and numericalGradientFromUpstream(f, tensor, dout) give the numerical
// side and relativeError compares.
import type { Layer } from './layers/layer';
import type { Module } from './autograd/module';
import { Random } from './random';
import { type DType, Tensor, formatShape } from './tensor';
import { positiveNumber } from './validate';

/** Options of the numerical (central-difference) gradients. */
export interface NumericalOptions {
  /** Step of the central difference (default 1e-5; meant for float64 data). */
  h?: number;
}

function stepOf(opts: NumericalOptions | undefined): number {
  return positiveNumber(opts?.h ?? 1e-5, 'h');
}

function expectTensor(t: unknown, name: string): Tensor {
  if (!(t instanceof Tensor)) throw new TypeError(`${name} must be a Tensor`);
  return t;
}

/**
 * The numerical gradient of a scalar function f at x by central differences: each element of x is moved by
 * ±h in place, f is called, and the element is restored. f may read x directly or use its argument.
 */
export function numericalGradient(f: (x: Tensor) => number, x: Tensor, opts?: NumericalOptions): Tensor {
  if (typeof f !== 'function') throw new TypeError('f must be a function returning a number');
  expectTensor(x, 'x');
  const h = stepOf(opts);
  const grad = Tensor.zeros(x.shape, 'float64');
  const d = x.data;
  for (let i = 0; i < d.length; i++) {
    const old = d[i];
    d[i] = old + h;
    const fp = f(x);
    d[i] = old - h;
    const fm = f(x);
    d[i] = old;
    if (typeof fp !== 'number' || typeof fm !== 'number') throw new TypeError('f must return a number');
    grad.data[i] = (fp - fm) / (2 * h);
  }
  return grad;
}

/**
 * The numerical gradient of Σ f(x) · dout for a tensor-valued f (the "from upstream dout" variant):
 * grad[i] = Σ_j (f(x + h e_i)_j − f(x − h e_i)_j) · dout_j / 2h. This is what backward(dout) must return.
 * The differences are taken element by element before the sum: Σ f(x+h)·dout − Σ f(x−h)·dout would cancel two
 * large, nearly equal sums and lose about four digits.
 */
export function numericalGradientFromUpstream(f: (x: Tensor) => Tensor, x: Tensor, dout: Tensor,
  opts?: NumericalOptions): Tensor {
  if (typeof f !== 'function') throw new TypeError('f must be a function returning a Tensor');
  expectTensor(x, 'x');
  expectTensor(dout, 'dout');
  const h = stepOf(opts);
  const evaluate = (): Tensor => {
    const y = expectTensor(f(x), 'the result of f');
    if (y.size !== dout.size) {
      throw new RangeError(`f returned shape ${formatShape(y.shape)} but dout has shape ${formatShape(dout.shape)}`);
    }
    return y;
  };
  const grad = Tensor.zeros(x.shape, 'float64');
  const d = x.data, up = new Float64Array(dout.size);
  for (let i = 0; i < d.length; i++) {
    const old = d[i];
    d[i] = old + h;
    up.set(evaluate().data);  // a copy: f may return the same buffer on every call
    d[i] = old - h;
    const down = evaluate().data;
    let s = 0;
    for (let j = 0; j < up.length; j++) s += (up[j] - down[j]) * dout.data[j];
    d[i] = old;  // after the sum: f may return x itself (Flatten, Dropout in eval mode)
    grad.data[i] = s / (2 * h);
  }
  return grad;
}

/** The largest |a − b| / max(1e-8, |a| + |b|) over all elements. */
export function relativeError(a: Tensor | ArrayLike<number>, b: Tensor | ArrayLike<number>): number {
  const x = a instanceof Tensor ? a.data : a, y = b instanceof Tensor ? b.data : b;
  if (x.length !== y.length) throw new RangeError(`cannot compare ${x.length} elements with ${y.length}`);
  let worst = 0;
  for (let i = 0; i < x.length; i++) {
    const e = Math.abs(x[i] - y[i]) / Math.max(1e-8, Math.abs(x[i]) + Math.abs(y[i]));
    if (!(e <= worst)) worst = e;  // NaN propagates as the worst
  }
  return worst;
}

/** Options of checkLayer. */
export interface CheckLayerOptions extends NumericalOptions {
  /** The dtype the check runs in (default 'float64'); the layer is re-initialized in it if needed. */
  dtype?: DType;
  /** Seed of the random upstream gradient (and of re-initialization). */
  seed?: number;
  /** The upstream gradient dout; random normal by default. */
  dout?: Tensor;
}

/** checkLayer's result: the relative errors of the analytic gradients against the numerical ones. */
export interface CheckResult {
  /** The worst relative error over the input gradient and every parameter gradient. */
  maxRelError: number;
  /** Relative error of dx (the gradient with respect to the input). */
  input: number;
  /** Relative error of each parameter gradient, by parameter name ('weight', 'bias', ...). */
  params: Record<string, number>;
}

function randomLike(shape: readonly number[], dtype: DType, rng: Random): Tensor {
  const t = Tensor.zeros(shape, dtype);
  for (let i = 0; i < t.size; i++) t.data[i] = rng.normal();
  return t;
}

/**
 * Checks a layer's backward() against central differences: dx and every parameter gradient, for the scalar
 * Σ forward(x) · dout with a fixed random dout. The layer keeps its training/eval mode; a layer whose forward
 * is random (Dropout in training mode) must be made deterministic first. A Module is checked through
 * module.asLayer(): autograd's gradients of its input and of every parameter (by name: 'fc.weight'); its
 * parameters must be in the check's dtype (a Module makes its own: build it in float64).
 */
export function checkLayer(layerOrModule: Layer | Module, x: Tensor, opts: CheckLayerOptions = {}): CheckResult {
  expectTensor(x, 'x');
  const given = layerOrModule as unknown;
  const layer = (given !== null && typeof given === 'object' && typeof (given as Module).asLayer === 'function'
    ? (given as Module).asLayer() : given) as Layer;
  if (layer === null || typeof layer !== 'object' || typeof layer.backward !== 'function') {
    throw new TypeError(`checkLayer: layer must be a Layer or a Module, got ${layer === null ? 'null' : typeof layer}`);
  }
  const dtype = opts.dtype ?? 'float64';
  const rng = new Random(opts.seed ?? 0);
  const other = layer.params.find((p) => p.dtype !== dtype);
  if (other) {
    if (layer.parametersInUse) {
      throw new TypeError(`checkLayer runs in ${dtype} but the layer's parameters are ${other.dtype} and in use (a network ` +
        'holds the layer, or they were trained or set): it will not re-create them; check a new layer of the same ' +
        `configuration, or pass { dtype: '${other.dtype}' }`);
    }
    layer.initialize({ rng: new Random(opts.seed ?? 0), dtype });
  }
  const input = x.astype(dtype);
  const y = layer.forward(input);
  const dout = opts.dout ? opts.dout.astype(dtype) : randomLike(y.shape, dtype, rng);
  if (dout.size !== y.size) {
    throw new RangeError(`dout has shape ${formatShape(dout.shape)} but the layer's output has shape ${formatShape(y.shape)}`);
  }
  layer.zeroGrad();
  const dx = layer.backward(dout).clone();
  const analytic = layer.grads.map((g) => g.clone());
  const f = () => layer.forward(input);
  const params: Record<string, number> = {};
  const inputErr = relativeError(dx, numericalGradientFromUpstream(f, input, dout, opts));
  let worst = inputErr;
  layer.params.forEach((p, i) => {
    const e = relativeError(analytic[i], numericalGradientFromUpstream(f, p, dout, opts));
    params[layer.paramNames[i] ?? String(i)] = e;
    if (!(e <= worst)) worst = e;
  });
  return { maxRelError: worst, input: inputErr, params };
}

/** What checkNetwork needs of a network (Sequential provides it). */
export interface CheckableNetwork {
  /** The parameters with their gradients and names. */
  parameters(): { name: string; param: Tensor; grad: Tensor }[];
  /** Clears the gradients, runs forward, loss (with any regularization) and backward; returns the loss. */
  lossAndGradients(x: Tensor, y: Tensor | Int32Array, opts: Record<string, unknown>): number;
}

/** Options of checkNetwork. */
export interface CheckNetworkOptions extends NumericalOptions {
  /** Passed to lossAndGradients: e.g. { loss: 'mse', weightDecay: 1e-3 }. */
  [option: string]: unknown;
}

/** checkNetwork's result: the errors of each parameter gradient against the numerical one. */
export interface NetworkCheckResult {
  maxRelError: number;
  /** Relative error of each parameter gradient by its network name ('0.weight', ...): the worst element's. */
  params: Record<string, number>;
  /**
   * Mean absolute difference between the analytic and the numerical gradient of each parameter, the course's
   * metric: np.average(np.abs(grad_backprop[key] - grad_numerical[key])).
   */
  meanAbsError: Record<string, number>;
}

function float64Network(net: CheckableNetwork, what: string): void {
  const narrow = net.parameters().find((e) => e.param.dtype !== 'float64');
  if (narrow) {
    throw new TypeError(`${what} needs a float64 network ('${narrow.name}' is ${narrow.param.dtype}): build it with ` +
      "{ dtype: 'float64' }; float32 rounding swamps central differences");
  }
}

/**
 * The numerical gradient of the network's loss with respect to every parameter, by central differences (the
 * course's net.numerical_gradient(x, t)): a record from parameter name ('0.weight', '0.bias', ...) to a float64
 * tensor of the parameter's shape. `opts` holds the loss (default: the network's, else 'softmaxCrossEntropy'),
 * weightDecay and h. Each parameter element costs two forward passes, so keep the network small. The network
 * must be float64 and deterministic (no Dropout in training mode); its parameters are left unchanged, its
 * gradients hold the analytic ones afterwards.
 */
export function numericalGradients(net: CheckableNetwork, x: Tensor, y: Tensor | Int32Array,
  opts: CheckNetworkOptions = {}): Record<string, Tensor> {
  expectTensor(x, 'x');
  const { h, ...lossOpts } = opts;
  const numOpts = { h: h as number | undefined };
  stepOf(numOpts);
  float64Network(net, 'numericalGradients');
  const out: Record<string, Tensor> = {};
  for (const e of net.parameters()) {
    out[e.name] = numericalGradient(() => net.lossAndGradients(x, y, lossOpts), e.param, numOpts);
  }
  net.lossAndGradients(x, y, lossOpts);  // leave the analytic gradients in place
  return out;
}

/**
 * Checks every parameter gradient of a whole network, loss and regularization included, against central
 * differences of the scalar loss: the worst relative error and the mean absolute difference per parameter.
 * Build the network in float64 for a meaningful check.
 */
export function checkNetwork(net: CheckableNetwork, x: Tensor, y: Tensor | Int32Array,
  opts: CheckNetworkOptions = {}): NetworkCheckResult {
  expectTensor(x, 'x');
  const { h: _h, ...lossOpts } = opts;
  float64Network(net, 'checkNetwork');
  net.lossAndGradients(x, y, lossOpts);
  const analytic = new Map(net.parameters().map((e) => [e.name, e.grad.clone()]));
  const numerical = numericalGradients(net, x, y, opts);
  const params: Record<string, number> = {}, meanAbsError: Record<string, number> = {};
  let worst = 0;
  for (const [name, a] of analytic) {
    const num = numerical[name];
    const err = relativeError(a, num);
    params[name] = err;
    if (!(err <= worst)) worst = err;
    let sum = 0;
    for (let i = 0; i < a.size; i++) sum += Math.abs(a.data[i] - num.data[i]);
    meanAbsError[name] = a.size > 0 ? sum / a.size : 0;
  }
  return { maxRelError: worst, params, meanAbsError };
}
