// Making tensors: from (nested) arrays, filled, ranges, the identity, and seeded random draws. The values are
// written here (ranges and random draws come from JavaScript: the PRNG is src/random.ts, the same on either
// backend); computing with them goes through the kernels.
import { Random } from '../random';
import {
  type DType, type FloatArray, type NestedArray, type Shape, Tensor, allocate, checkElements, checkShape, sizeOf,
} from '../tensor';
import { describeValue, knownOptions, optionalSeed, optionsObject } from '../validate';

/** Options of the tensor factories (zeros, ones, full, arange, ...): the dtype made. */
export interface CreationOptions {
  /** 'float32' (default) or 'float64'. */
  dtype?: DType;
  /** tensor() only: make the result a leaf of autograd (default false). */
  requiresGrad?: boolean;
}

/** Options of the random factories (rand, randn, randint): the dtype and where the draws come from. */
export interface RandomOptions extends CreationOptions {
  /** Draws from a fresh generator with this seed. */
  seed?: number;
  /** Draws from this generator (advancing it). Without seed or rng, nodenn's shared generator (seeded 0) is used. */
  rng?: Random;
}

/** The generator rand/randn/randint use without a seed or rng: seeded 0 when nodenn loads, advanced by each draw. */
let shared = new Random(0);

/** Re-seeds the generator that rand/randn/randint use when given neither a seed nor an rng (as np.random.seed). */
export function manualSeed(seed: number): void {
  shared = new Random(optionalSeed(seed, 'seed') ?? 0);
}

/**
 * opts.dtype (or `fallback`), after refusing an option that `caller` does not take: `{ dtyp: 'float64' }` or
 * PyTorch's `{ requires_grad: true }` would else be ignored, silently.
 */
function dtypeOption(opts: CreationOptions | undefined, fallback: DType, caller: string,
  known: readonly string[] = ['dtype']): DType {
  knownOptions(optionsObject(opts, 'options'), known, caller);
  const d = optionsObject(opts, 'options').dtype ?? fallback;
  if (d !== 'float32' && d !== 'float64') {
    throw new TypeError(`options.dtype must be 'float32' or 'float64', got ${describeValue(d)}`);
  }
  return d;
}

function finite(v: unknown, name: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new TypeError(`${name} must be a finite number, got ${describeValue(v)}`);
  return v;
}

function count(v: unknown, name: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
    throw new RangeError(`${name} must be a non-negative integer, got ${describeValue(v)}`);
  }
  return v;
}

function shapeArg(shape: unknown): Shape {
  if (typeof shape === 'number') shape = [shape];
  checkShape(shape as Shape);
  checkElements(shape as Shape);
  return shape as Shape;
}

/**
 * A new tensor from a (nested) array of numbers (its shape inferred, rectangular), a typed array (1-D, copied) or
 * a single number (shape []). dtype: 'float32' by default, or a Float64Array's own dtype.
 */
export function tensor(data: NestedArray | FloatArray | ArrayBufferView | number, opts?: CreationOptions): Tensor {
  const fallback = data instanceof Float64Array ? 'float64' : 'float32';
  const dtype = dtypeOption(opts, fallback, 'tensor', ['dtype', 'requiresGrad']);
  const grad = { requiresGrad: opts?.requiresGrad ?? false };
  if (typeof data === 'number') {
    const out = allocate(dtype, 1);
    out[0] = data;
    return new Tensor(out, [], undefined, grad);
  }
  if (data instanceof Float32Array || data instanceof Float64Array) {
    const out = allocate(dtype, data.length);
    out.set(data);
    return new Tensor(out, undefined, undefined, grad);
  }
  return new Tensor(data as NestedArray, undefined, dtype, grad);
}

/** A tensor of `shape` (an array of sizes, or one size) filled with 0. */
export function zeros(shape: Shape | number, opts?: CreationOptions): Tensor {
  return new Tensor(allocate(dtypeOption(opts, 'float32', 'zeros'), sizeOf(shapeArg(shape))), shapeArg(shape));
}

/** A tensor of `shape` filled with 1. */
export function ones(shape: Shape | number, opts?: CreationOptions): Tensor {
  return full(shape, 1, { dtype: dtypeOption(opts, 'float32', 'ones') });
}

/** A tensor of `shape` filled with `value` (NaN and ±Infinity allowed). */
export function full(shape: Shape | number, value: number, opts?: CreationOptions): Tensor {
  if (typeof value !== 'number') throw new TypeError(`value must be a number, got ${describeValue(value)}`);
  const t = zeros(shape, { dtype: dtypeOption(opts, 'float32', 'full') });
  t.data.fill(value);
  return t;
}

/** zeros of x's shape, in x's dtype unless opts.dtype says otherwise. */
export function zerosLike(x: Tensor, opts?: CreationOptions): Tensor {
  return zeros(like(x), { dtype: dtypeOption(opts, x.dtype, 'zerosLike') });
}

/** ones of x's shape and dtype (or opts.dtype). */
export function onesLike(x: Tensor, opts?: CreationOptions): Tensor {
  return full(like(x), 1, { dtype: dtypeOption(opts, x.dtype, 'onesLike') });
}

/** `value` everywhere, of x's shape and dtype (or opts.dtype). */
export function fullLike(x: Tensor, value: number, opts?: CreationOptions): Tensor {
  return full(like(x), value, { dtype: dtypeOption(opts, x.dtype, 'fullLike') });
}

function like(x: unknown): Shape {
  if (!(x instanceof Tensor)) throw new TypeError(`x must be a Tensor, got ${describeValue(x)}`);
  return x.shape;
}

/**
 * start, start + step, ... up to but not including stop (NumPy's arange): arange(5) is [0, 1, 2, 3, 4];
 * arange(1, 2, 0.25) is [1, 1.25, 1.5, 1.75]: ceil((stop − start) / step) elements, start + i · step each.
 */
export function arange(start: number, stop?: number, step = 1, opts?: CreationOptions): Tensor {
  if (stop === undefined) [start, stop] = [0, start];
  finite(start, 'start');
  finite(stop, 'stop');
  finite(step, 'step');
  if (step === 0) throw new RangeError('step must not be 0');
  const n = Math.max(0, Math.ceil((stop - start) / step));
  if (n >= 2 ** 31) throw new RangeError(`arange(${start}, ${stop}, ${step}) would hold ${n} elements (at most 2^31 - 1)`);
  const dtype = dtypeOption(opts, 'float32', 'arange'), out = allocate(dtype, n);
  // NumPy's arange writes start and start + step, then steps by the difference of those two values in the dtype
  // (which may differ from step in the last bit), in the dtype's arithmetic: float32 rounds i · delta and the sum
  if (n > 0) out[0] = start;
  if (n > 1) out[1] = start + step;
  const first = out[0], delta = n > 1 ? out[1] - first : 0;
  if (dtype === 'float32') {
    const d = Math.fround(delta);
    for (let i = 2; i < n; i++) out[i] = first + Math.fround(Math.fround(i) * d);
  } else {
    for (let i = 2; i < n; i++) out[i] = first + i * delta;
  }
  return new Tensor(out);
}

/**
 * `num` evenly spaced values from start to stop (stop included unless opts.endpoint is false), as NumPy's
 * linspace: start + i · step, the last one exactly stop.
 */
export function linspace(start: number, stop: number, num = 50, opts?: CreationOptions & { endpoint?: boolean }): Tensor {
  finite(start, 'start');
  finite(stop, 'stop');
  count(num, 'num');
  checkElements([num], 'the result of shape');
  const endpoint = optionsObject(opts, 'options').endpoint ?? true;
  if (typeof endpoint !== 'boolean') throw new TypeError(`options.endpoint must be a boolean, got ${describeValue(endpoint)}`);
  const div = endpoint ? num - 1 : num;
  const step = div > 0 ? (stop - start) / div : 0;
  const out = allocate(dtypeOption(opts, 'float32', 'linspace', ['dtype', 'endpoint']), num);
  for (let i = 0; i < num; i++) out[i] = start + i * step;
  if (endpoint && num > 1) out[num - 1] = stop;
  return new Tensor(out);
}

/** The n × m identity (m = n by default): 1 on the diagonal, 0 elsewhere. */
export function eye(n: number, m?: number, opts?: CreationOptions): Tensor {
  count(n, 'n');
  const cols = m === undefined ? n : count(m, 'm');
  const t = zeros([n, cols], { dtype: dtypeOption(opts, 'float32', 'eye') });
  for (let i = 0; i < Math.min(n, cols); i++) t.data[i * cols + i] = 1;
  return t;
}

const RANDOM_OPTIONS = ['dtype', 'seed', 'rng'];

function generator(opts: RandomOptions | undefined): Random {
  const o = optionsObject(opts, 'options');
  if (o.rng !== undefined && o.seed !== undefined) throw new TypeError('options: give seed or rng, not both');
  if (o.rng !== undefined) {
    if (!(o.rng instanceof Random)) throw new TypeError(`options.rng must be a Random, got ${describeValue(o.rng)}`);
    return o.rng;
  }
  const seed = optionalSeed(o.seed, 'options.seed');
  return seed === undefined ? shared : new Random(seed);
}

/** Uniform draws in [0, 1) from nodenn's PRNG (see RandomOptions for the seed). */
export function rand(shape: Shape | number, opts?: RandomOptions): Tensor {
  const rng = generator(opts);
  const t = zeros(shape, { dtype: dtypeOption(opts, 'float32', 'rand', RANDOM_OPTIONS) });
  for (let i = 0; i < t.size; i++) t.data[i] = rng.uniform();
  return t;
}

/** Standard normal draws (mean 0, standard deviation 1) from nodenn's PRNG. */
export function randn(shape: Shape | number, opts?: RandomOptions): Tensor {
  const rng = generator(opts);
  const t = zeros(shape, { dtype: dtypeOption(opts, 'float32', 'randn', RANDOM_OPTIONS) });
  for (let i = 0; i < t.size; i++) t.data[i] = rng.normal();
  return t;
}

/**
 * Uniform integers in [low, high) as float values (nodenn tensors are float: exact up to 2^24 in float32), from
 * nodenn's PRNG: randint(low, high, shape, opts), or randint(high, shape, opts) for [0, high). Without a shape,
 * one value of shape [].
 */
export function randint(low: number, high: number | Shape, shape?: Shape | number | RandomOptions,
  opts?: RandomOptions): Tensor {
  if (Array.isArray(high)) {
    opts = shape as RandomOptions | undefined;
    shape = high;
    high = low;
    low = 0;
  }
  for (const [name, v] of [['low', low], ['high', high]] as const) {
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new TypeError(`${name} must be an integer, got ${describeValue(v)}`);
  }
  const hi = high as number;
  if (hi <= low) throw new RangeError(`high must be greater than low, got low = ${low}, high = ${hi}`);
  const rng = generator(opts);
  const t = zeros((shape ?? []) as Shape | number, { dtype: dtypeOption(opts, 'float32', 'randint', RANDOM_OPTIONS) });
  const span = hi - low;
  for (let i = 0; i < t.size; i++) t.data[i] = low + Math.floor(rng.uniform() * span);
  return t;
}
