// nn.data.augment: image augmentation of a batch (N, C, H, W) — or (N, H, W), one channel — on the backend's
// kernels (src/backend/ts/augment.ts, native/augment.cc). The random parameters of each sample are drawn here, from
// the one seeded PRNG, in sample order, and handed to the kernel as arrays: the same seed gives the same batch on
// every backend, ISA and thread count (bitwise, bilinear sampling included: both backends compute it in double in
// the same order). Augment training batches only, never validation or test data. An augmentation's async() form
// queues the same kernels off the main thread (native: on the libuv pool), so that the next batch is augmented while
// the current one trains; its parameters are drawn at the call, so the bits are those of the synchronous form.
import { getBackend } from '../backend/index';
import type { AsyncKernelName } from '../backend/backend';
import { describeValue, isArray, knownOptions, optionalBoolean, optionalSeed, optionsObject } from '../validate';
import { Random } from '../random';
import { type FloatArray, Tensor, allocate, checkAttached, formatShape } from '../tensor';

/** Where the random parameters come from: a Random to draw from (it advances), or a seed (default 0). */
export interface RandomSource {
  seed?: number;
  rng?: Random;
}

/** Write the result into x's own data instead of a new tensor. */
export interface InPlace {
  inPlace?: boolean;
}

export interface RandomTranslateOptions extends RandomSource, InPlace {
  /** Each sample moves by a whole number of pixels drawn uniformly in [-maxShift, maxShift] on each axis. */
  maxShift: number | readonly [height: number, width: number];
}

export interface RandomCropOptions extends RandomSource, InPlace {
  /** The image is zero-padded by this many pixels on every side, then cropped back to H x W at a random corner. */
  padding: number | readonly [height: number, width: number];
}

export interface RandomFlipOptions extends RandomSource, InPlace {
  /** The chance that a sample is mirrored left to right (default 0.5). */
  probability?: number;
}

export interface RandomAffineOptions extends RandomSource, InPlace {
  /** Rotation in degrees, counter-clockwise as displayed: uniform in [-d, d], or in [min, max]. */
  degrees?: number | readonly [number, number];
  /** The largest shift as a fraction of the width and the height; whole pixels, uniform in [-fx W, fx W] etc. */
  translate?: readonly [x: number, y: number];
  /** Zoom factor, uniform in [min, max] (default no zoom). */
  scale?: readonly [number, number];
  /** Shear parallel to the x axis in degrees: uniform in [-s, s], or in [min, max]. */
  shear?: number | readonly [number, number];
}

export interface NormalizeOptions extends InPlace {
  /** One value, or one per channel. */
  mean: number | readonly number[];
  /** One positive value, or one per channel. */
  std: number | readonly number[];
}

/** A step of `augmentation`: a transform by name and its options, or your own function. */
export type AugmentationStep =
  | ({ op: 'randomTranslate' } & Omit<RandomTranslateOptions, keyof RandomSource | 'inPlace'>)
  | ({ op: 'randomCrop' } & Omit<RandomCropOptions, keyof RandomSource | 'inPlace'>)
  | ({ op: 'randomFlip' } & Omit<RandomFlipOptions, keyof RandomSource | 'inPlace'>)
  | ({ op: 'randomAffine' } & Omit<RandomAffineOptions, keyof RandomSource | 'inPlace'>)
  | ({ op: 'normalize' } & Omit<NormalizeOptions, 'inPlace'>)
  | ((batch: Tensor, rng: Random) => Tensor);

/** A composed augmentation: transforms a batch with parameters drawn from rng (a Random, or a seed; default 0). */
export interface Augmentation {
  (batch: Tensor, rng?: Random | number): Tensor;
  /**
   * The same transform with its kernels run off the main thread, after the ones queued before (native backend; the
   * ts backend, or a recipe with a function step, computes it at once). The parameters are drawn at the call, in the
   * order of the calls, so the same seed gives the same bits as the synchronous form. The batch must be left alone
   * until the promise resolves; the result is the tensor it resolves to (an affine step then writes a new one even
   * where inPlace).
   */
  async(batch: Tensor, rng?: Random | number): Promise<Tensor>;
}

// ---- checks

interface Image { N: number; C: number; H: number; W: number }

function imageOf(x: unknown, fn: string): Image {
  if (!(x instanceof Tensor)) throw new TypeError(`${fn}: x must be a Tensor, got ${describeValue(x)}`);
  checkAttached(x, `${fn}: x`);
  const s = x.shape;
  if (s.length === 4) return { N: s[0], C: s[1], H: s[2], W: s[3] };
  if (s.length === 3) return { N: s[0], C: 1, H: s[1], W: s[2] };
  throw new RangeError(`${fn}: x must be a batch of images (N, C, H, W) or (N, H, W), got shape ${formatShape(s)}`);
}

function rngOf(opts: RandomSource, fn: string): Random {
  if (opts.rng !== undefined) {
    if (!(opts.rng instanceof Random)) {
      throw new TypeError(`${fn} rng must be a Random, got ${describeValue(opts.rng)}`);
    }
    if (opts.seed !== undefined) throw new TypeError(`${fn}: give either seed or rng, not both`);
    return opts.rng;
  }
  return new Random(optionalSeed(opts.seed, `${fn} seed`) ?? 0);
}

function inPlaceOf(opts: InPlace, fn: string): boolean {
  return optionalBoolean(opts.inPlace, `${fn} inPlace`) ?? false;
}

type Interval = [number, number];

const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** A whole number of pixels in [0, 2^31), or a pair of them (height, width). */
function pixelPair(v: unknown, name: string): [number, number] {
  const ok = (p: unknown) => isNumber(p) && Number.isInteger(p) && p >= 0 && p < 2 ** 31;
  if (ok(v)) return [v as number, v as number];
  if (isArray(v) && v.length === 2 && v.every(ok)) return [v[0] as number, v[1] as number];
  throw new RangeError(`${name} must be a non-negative integer or a pair [height, width] of them, got ${describe(v)}`);
}

/** A value or array as a message shows it: numbers listed, anything else described. */
function describe(v: unknown): string {
  if (Array.isArray(v) && v.length <= 8 && v.every((e) => typeof e === 'number')) return `[${v.join(', ')}]`;
  return describeValue(v);
}

/** d -> [-d, d] for d >= 0, or [min, max] with min <= max; all finite. */
function symmetricRange(v: unknown, name: string, unit: string): Interval {
  if (isNumber(v) && v >= 0) return [-v, v];
  if (Array.isArray(v) && v.length === 2 && v.every(isNumber) && v[0] <= v[1]) return [v[0], v[1]];
  throw new RangeError(`${name} must be a non-negative number of ${unit} or a range [min, max] with min <= max, got ` +
    describe(v));
}

// ---- the transforms: each draws its parameters and plans its kernel call, run now or queued (async())

/** A kernel call with its arguments, and the tensor it writes. */
interface Planned {
  kernel: AsyncKernelName;
  args: unknown[];
  out: Tensor;
}

function run(p: Planned): Tensor {
  (getBackend()[p.kernel] as (...args: unknown[]) => void)(...p.args);
  return p.out;
}

function output(x: Tensor, inPlace: boolean): FloatArray {
  return inPlace ? x.data : allocate(x.dtype, x.data.length);
}

function planned(kernel: AsyncKernelName, args: unknown[], x: Tensor, y: FloatArray): Planned {
  return { kernel, args, out: y === x.data ? x : new Tensor(y, x.shape) };
}

function shiftBatch(x: Tensor, g: Image, shiftH: Int32Array, shiftW: Int32Array, inPlace: boolean): Planned {
  const y = output(x, inPlace);
  return planned('translate2d', [g.N, g.C, g.H, g.W, x.data, shiftH, shiftW, y], x, y);
}

const translateKeys = ['maxShift', 'seed', 'rng', 'inPlace'];

/**
 * Moves each image by whole pixels drawn uniformly in [-maxShift, maxShift] (vertical first, then horizontal, per
 * sample), filling with 0.
 */
export function randomTranslate(x: Tensor, options: RandomTranslateOptions): Tensor {
  return run(planTranslate(x, options));
}

function planTranslate(x: Tensor, options: RandomTranslateOptions): Planned {
  const fn = 'randomTranslate';
  const opts = optionsObject(options, `${fn} options`);
  knownOptions(opts, translateKeys, fn);
  const g = imageOf(x, fn);
  const [kh, kw] = pixelPair(opts.maxShift, `${fn} maxShift`);
  const rng = rngOf(opts, fn), inPlace = inPlaceOf(opts, fn);
  const shiftH = new Int32Array(g.N), shiftW = new Int32Array(g.N);
  for (let n = 0; n < g.N; n++) {
    shiftH[n] = rng.int(2 * kh + 1) - kh;
    shiftW[n] = rng.int(2 * kw + 1) - kw;
  }
  return shiftBatch(x, g, shiftH, shiftW, inPlace);
}

const cropKeys = ['padding', 'seed', 'rng', 'inPlace'];

/**
 * Pads each image with `padding` zeros on every side and crops an H x W window back at a corner (top, left) drawn
 * uniformly in [0, 2 padding] (top first, per sample) — torchvision's RandomCrop(size, padding). The same as a shift
 * by padding - top, padding - left.
 */
export function randomCrop(x: Tensor, options: RandomCropOptions): Tensor {
  return run(planCrop(x, options));
}

function planCrop(x: Tensor, options: RandomCropOptions): Planned {
  const fn = 'randomCrop';
  const opts = optionsObject(options, `${fn} options`);
  knownOptions(opts, cropKeys, fn);
  const g = imageOf(x, fn);
  const [ph, pw] = pixelPair(opts.padding, `${fn} padding`);
  const rng = rngOf(opts, fn), inPlace = inPlaceOf(opts, fn);
  const shiftH = new Int32Array(g.N), shiftW = new Int32Array(g.N);
  for (let n = 0; n < g.N; n++) {
    shiftH[n] = ph - rng.int(2 * ph + 1);
    shiftW[n] = pw - rng.int(2 * pw + 1);
  }
  return shiftBatch(x, g, shiftH, shiftW, inPlace);
}

const flipKeys = ['probability', 'seed', 'rng', 'inPlace'];

/** Mirrors each image left to right with the given probability (one uniform draw per sample). */
export function randomFlip(x: Tensor, options: RandomFlipOptions = {}): Tensor {
  return run(planFlip(x, options));
}

function planFlip(x: Tensor, options: RandomFlipOptions): Planned {
  const fn = 'randomFlip';
  const opts = optionsObject(options, `${fn} options`);
  knownOptions(opts, flipKeys, fn);
  const g = imageOf(x, fn);
  const p = opts.probability ?? 0.5;
  if (!isNumber(p) || p < 0 || p > 1) {
    throw new RangeError(`${fn} probability must be in [0, 1], got ${describeValue(p)}`);
  }
  const rng = rngOf(opts, fn), inPlace = inPlaceOf(opts, fn);
  const flags = new Int32Array(g.N);
  for (let n = 0; n < g.N; n++) flags[n] = rng.uniform() < p ? 1 : 0;
  const y = output(x, inPlace);
  return planned('flip2d', [g.N, g.C, g.H, g.W, x.data, flags, y], x, y);
}

const affineKeys = ['degrees', 'translate', 'scale', 'shear', 'seed', 'rng', 'inPlace'];

interface AffineRanges { degrees: Interval; translate: Interval; scale: Interval; shear: Interval }

function affineRanges(opts: RandomAffineOptions, fn: string): AffineRanges {
  const degrees: Interval = opts.degrees === undefined ? [0, 0]
    : symmetricRange(opts.degrees, `${fn} degrees`, 'degrees');
  const shear: Interval = opts.shear === undefined ? [0, 0] : symmetricRange(opts.shear, `${fn} shear`, 'degrees');
  if (Math.max(Math.abs(shear[0]), Math.abs(shear[1])) >= 90) {
    throw new RangeError(`${fn} shear must lie within (-90, 90) degrees, got ${describe(opts.shear)}`);
  }
  let translate: Interval = [0, 0];
  if (opts.translate !== undefined) {
    const t = opts.translate as unknown;
    if (!(isArray(t) && t.length === 2 && t.every((v) => isNumber(v) && v >= 0 && v <= 1))) {
      throw new RangeError(`${fn} translate must be a pair [x, y] of fractions of the image size in [0, 1], got ` +
        describe(t));
    }
    translate = [t[0] as number, t[1] as number];
  }
  let scale: Interval = [1, 1];
  if (opts.scale !== undefined) {
    const s = opts.scale as unknown;
    if (!(isArray(s) && s.length === 2 && s.every((v) => isNumber(v) && v > 0) && (s[0] as number) <= (s[1] as number))) {
      throw new RangeError(`${fn} scale must be a range [min, max] of positive numbers with min <= max, got ` +
        describe(s));
    }
    scale = [s[0] as number, s[1] as number];
  }
  return { degrees, translate, scale, shear };
}

const uniformIn = (rng: Random, [lo, hi]: Interval) => (lo === hi ? lo : lo + (hi - lo) * rng.uniform());

/**
 * The map from output to input pixel indices of the affine transform about the image center (W - 1) / 2,
 * (H - 1) / 2 that rotates by `degrees` counter-clockwise (as displayed, y pointing down), shears along x by `shear`
 * degrees, zooms by `scale` and then shifts by (tx, ty) pixels: out = c + t + s R Sh (in - c), inverted.
 */
export function affineMatrix(H: number, W: number, degrees: number, scale: number, shear: number, tx: number,
  ty: number): [number, number, number, number, number, number] {
  const a = (degrees * Math.PI) / 180, cos = Math.cos(a), sin = Math.sin(a), k = Math.tan((shear * Math.PI) / 180);
  // s R Sh with R = [cos sin; -sin cos] (counter-clockwise on screen) and Sh = [1 k; 0 1]
  const f00 = scale * cos, f01 = scale * (cos * k + sin), f10 = -scale * sin, f11 = scale * (cos - sin * k);
  const det = f00 * f11 - f01 * f10;
  const i00 = f11 / det, i01 = -f01 / det, i10 = -f10 / det, i11 = f00 / det;
  const cx = (W - 1) / 2, cy = (H - 1) / 2;
  const ox = cx + tx, oy = cy + ty;
  return [i00, i01, cx - (i00 * ox + i01 * oy), i10, i11, cy - (i10 * ox + i11 * oy)];
}

/**
 * A random affine transform per sample (rotation, shift, zoom, shear about the image center), sampled bilinearly
 * with zero fill; torchvision's RandomAffine. Draws per sample, in order: angle, tx, ty, scale, shear (a range of
 * one value draws nothing).
 */
export function randomAffine(x: Tensor, options: RandomAffineOptions): Tensor {
  return run(planAffine(x, options, false));
}

/** deferred: the call runs later, when x holds other values than now: in place means a new output then. */
function planAffine(x: Tensor, options: RandomAffineOptions, deferred: boolean): Planned {
  const fn = 'randomAffine';
  const opts = optionsObject(options, `${fn} options`);
  knownOptions(opts, affineKeys, fn);
  const g = imageOf(x, fn);
  const r = affineRanges(opts, fn);
  const rng = rngOf(opts, fn), inPlace = inPlaceOf(opts, fn);
  const m = Array.from({ length: 6 }, () => allocate(x.dtype, g.N));
  for (let n = 0; n < g.N; n++) {
    const angle = uniformIn(rng, r.degrees);
    const mx = r.translate[0] * g.W, my = r.translate[1] * g.H;
    const tx = Math.round(uniformIn(rng, [-mx, mx])), ty = Math.round(uniformIn(rng, [-my, my]));
    const scale = uniformIn(rng, r.scale), shear = uniformIn(rng, r.shear);
    affineMatrix(g.H, g.W, angle, scale, shear, tx, ty).forEach((v, i) => { m[i][n] = v; });
  }
  // bilinear sampling reads neighbours: the kernel never writes over its input
  const copy = inPlace && !deferred;
  const source = copy ? x.data.slice() : x.data;
  const y = output(x, copy);
  return planned('affine2d', [g.N, g.C, g.H, g.W, source, m[0], m[1], m[2], m[3], m[4], m[5], y], x, y);
}

const normalizeKeys = ['mean', 'std', 'inPlace'];

function perChannel(v: unknown, C: number, name: string, positive: boolean): FloatArray {
  const ok = (e: unknown) => isNumber(e) && (!positive || e > 0);
  const what = positive ? 'a positive number' : 'a finite number';
  if (ok(v)) return new Float64Array(C).fill(v as number);
  if (Array.isArray(v) && v.length === C && v.every(ok)) return Float64Array.from(v as number[]);
  throw new RangeError(`${name} must be ${what} or an array of ${C} of them (one per channel), got ${describe(v)}`);
}

/** (x - mean[c]) / std[c] per channel c, computed in double. */
export function normalize(x: Tensor, options: NormalizeOptions): Tensor {
  return run(planNormalize(x, options));
}

function planNormalize(x: Tensor, options: NormalizeOptions): Planned {
  const fn = 'normalize';
  const opts = optionsObject(options, `${fn} options`);
  knownOptions(opts, normalizeKeys, fn);
  const g = imageOf(x, fn);
  const mean = perChannel(opts.mean, g.C, `${fn} mean`, false), std = perChannel(opts.std, g.C, `${fn} std`, true);
  const inPlace = inPlaceOf(opts, fn);
  const y = output(x, inPlace);
  const C = x.dtype === 'float32' ? Float32Array : Float64Array;
  return planned('normalizeChannels', [g.N, g.C, g.H * g.W, x.data, C.from(mean), C.from(std), y], x, y);
}

// ---- composition

const stepKeys: Record<string, string[]> = {
  randomTranslate: translateKeys, randomCrop: cropKeys, randomFlip: flipKeys, randomAffine: affineKeys,
  normalize: normalizeKeys,
};

/**
 * The steps applied in order to each batch, as one function for a Dataset's map or your own training loop. The
 * first step writes a new tensor (the batch given is left as it is) unless `inPlace` (for a batch that is already
 * a fresh copy: no allocation then), the others work in place on it. Options are checked here, once; each call
 * draws every step's parameters from the one rng, in step order.
 */
export function augmentation(steps: readonly AugmentationStep[], options: InPlace = {}): Augmentation {
  const fn = 'augmentation';
  if (!isArray(steps)) throw new TypeError(`${fn}: steps must be an array, got ${describeValue(steps)}`);
  const opts = optionsObject(options, `${fn} options`);
  knownOptions(opts, ['inPlace'], fn);
  const inPlace = inPlaceOf(opts, fn);
  type Plan = (x: Tensor, rng: Random, inPlace: boolean, deferred: boolean) => Planned;
  type Step = { own: (x: Tensor, rng: Random) => Tensor } | { plan: Plan };
  const plans = steps.map((step, i): Step => {
    if (typeof step === 'function') return { own: (x, rng) => (step as (batch: Tensor, rng: Random) => Tensor)(x, rng) };
    if (step === null || typeof step !== 'object') {
      throw new TypeError(`${fn}: steps[${i}] must be a function or an object with an op, got ${describeValue(step)}`);
    }
    const { op, ...opts } = step as { op: unknown } & Record<string, unknown>;
    const keys = typeof op === 'string' ? stepKeys[op] : undefined;
    if (!keys || !Object.hasOwn(stepKeys, op as string)) {
      const ops = Object.keys(stepKeys).map((k) => `'${k}'`).join(', ');
      throw new TypeError(`${fn}: steps[${i}].op must be one of ${ops}, got ${describeValue(op)}`);
    }
    const own = keys.filter((k) => k !== 'seed' && k !== 'rng' && k !== 'inPlace');
    knownOptions(opts, own, `${fn} steps[${i}] (${op as string})`);
    // check the options now, on an empty batch, rather than at the first batch
    const channels = [opts.mean, opts.std].find((v) => Array.isArray(v)) as unknown[] | undefined;
    const probe = new Tensor(new Float32Array(0), [0, channels?.length ?? 1, 1, 1]);
    const plan: Plan = (x, rng, inPlace, deferred) => {
      switch (op) {
        case 'randomTranslate': return planTranslate(x, { ...(opts as { maxShift: number }), rng, inPlace });
        case 'randomCrop': return planCrop(x, { ...(opts as { padding: number }), rng, inPlace });
        case 'randomFlip': return planFlip(x, { ...(opts as RandomFlipOptions), rng, inPlace });
        case 'randomAffine': return planAffine(x, { ...(opts as RandomAffineOptions), rng, inPlace }, deferred);
        default: return planNormalize(x, { ...(opts as { mean: number; std: number }), inPlace });
      }
    };
    run(plan(probe, new Random(0), false, false));
    return { plan };
  });
  const rngFor = (rng: Random | number): Random => (rng instanceof Random ? rng : rngOf({ seed: rng }, fn));
  const apply = (batch: Tensor, rng: Random | number = 0): Tensor => {
    const r = rngFor(rng);
    let x = batch;
    for (const s of plans) x = 'own' in s ? s.own(x, r) : run(s.plan(x, r, inPlace || x !== batch, false));
    return x;
  };
  const queued = async (batch: Tensor, rng: Random | number = 0): Promise<Tensor> => {
    const kernels = getBackend().async;
    if (!kernels || plans.some((s) => 'own' in s)) return apply(batch, rng);
    const r = rngFor(rng);
    let x = batch;
    const calls: Planned[] = [];
    for (const s of plans) {
      if (!('plan' in s)) continue;  // not reached: a function step computes at once, above
      const p = s.plan(x, r, inPlace || x !== batch, true);
      calls.push(p);
      x = p.out;
    }
    // every call is queued before the first is awaited: they run one after another, off this thread
    await Promise.all(calls.map((p) => (kernels[p.kernel] as (...args: unknown[]) => Promise<void>)(...p.args)));
    return x;
  };
  return Object.assign(apply, { async: queued });
}
