// Optimizers: each step is one fused, in-place backend kernel per parameter tensor. The state of a parameter
// (moment tensors, its own step count) is allocated on its first step and held weakly, keyed by the parameter
// tensor: one optimizer may train many networks one after another without keeping dead ones alive, and a
// parameter it has not seen starts from step 1 (Adam's bias correction) whatever the optimizer did before.
// Learning-rate schedules map the position in training (epoch, and step for the per-step ones) and the base rate
// to a rate; gradient clipping by global norm runs before the update when clipNorm is set.
import { getBackend } from './backend/index';
import {
  describeValue, invalid, isFunction, kernelNumber, knownOptions, nonNegativeInt, nonNegativeNumber, numberIn, oneOf, optionalBoolean,
  optionsObject, positiveInt, positiveNumber,
} from './validate';
import { Tensor } from './tensor';

/** Tensors (autograd parameters, .grad filled) as ParamRefs; a tensor without a gradient is left out. */
function refs(list: readonly (ParamRef | Tensor)[]): ParamRef[] {
  const out: ParamRef[] = [];
  for (const p of list) {
    if (p instanceof Tensor) {
      if (p.grad !== null) out.push({ param: p, grad: p.grad });
    } else if (p !== null && typeof p === 'object' && p.param instanceof Tensor && p.grad instanceof Tensor) {
      out.push(p);
    } else {
      throw new TypeError(`step: each parameter must be a Tensor or a { param, grad } pair, got ${describeValue(p)}`);
    }
  }
  return out;
}

/** A parameter and its gradient, as Sequential.parameters() lists them. */
export interface ParamRef {
  name?: string;
  param: Tensor;
  grad: Tensor;
}

/**
 * Where training is, as a schedule sees it. `step` counts optimizer steps (batches) from 0 since training began:
 * fit() restarts it at each call, as it restarts the epoch; each step() advances it. `stepsPerEpoch` and
 * `totalSteps` are known inside fit() (its epochs × batches per epoch), else undefined.
 */
export interface SchedulePosition {
  epoch: number;
  step: number;
  stepsPerEpoch: number | undefined;
  totalSteps: number | undefined;
}

/**
 * Maps the epoch (0-based) and the base learning rate to the rate to use: an epoch schedule reads the epoch only
 * (its rate holds for the whole epoch); a per-step schedule reads the third argument's step.
 */
export type LrSchedule = (epoch: number, baseLr: number, position?: SchedulePosition) => number;

/** lr · gamma^floor(epoch / stepSize) */
export function stepDecay(opts: { stepSize: number; gamma?: number }): LrSchedule {
  optionsObject(opts, 'stepDecay options');
  const stepSize = positiveInt(opts.stepSize, 'stepDecay stepSize'), gamma = positiveNumber(opts.gamma ?? 0.1, 'stepDecay gamma');
  return (epoch, lr) => lr * gamma ** Math.floor(epoch / stepSize);
}

/** lr · gamma^epoch */
export function exponentialDecay(opts: { gamma: number }): LrSchedule {
  optionsObject(opts, 'exponentialDecay options');
  const gamma = positiveNumber(opts.gamma, 'exponentialDecay gamma');
  return (epoch, lr) => lr * gamma ** epoch;
}

/** Cosine annealing from lr to minLr over tMax epochs (then minLr): minLr + (lr − minLr)(1 + cos(π e/tMax))/2. */
export function cosineDecay(opts: { tMax: number; minLr?: number }): LrSchedule {
  optionsObject(opts, 'cosineDecay options');
  const tMax = positiveInt(opts.tMax, 'cosineDecay tMax'), minLr = nonNegativeNumber(opts.minLr ?? 0, 'cosineDecay minLr');
  return (epoch, lr) => minLr + ((lr - minLr) * (1 + Math.cos(Math.PI * Math.min(epoch, tMax) / tMax))) / 2;
}

/** The total steps a per-step schedule runs for: its own option, else what fit() plans; one of them is needed. */
function scheduleSteps(own: number | undefined, at: SchedulePosition | undefined, name: string): number {
  if (at === undefined) throw new TypeError(`${name} is a per-step schedule: call it with (epoch, lr, { step, ... })`);
  const total = own ?? at.totalSteps;
  if (total === undefined) {
    throw new RangeError(`${name} needs totalSteps when it is used outside fit() (fit() tells it epochs × batches)`);
  }
  if (at.step >= total) {
    throw new RangeError(`${name} was built for ${total} steps but training has reached step ${at.step + 1}; give it ` +
      'totalSteps that cover the whole training, or leave totalSteps out inside fit()');
  }
  return total;
}

function optionalSteps(v: unknown, name: string): number | undefined {
  return v === undefined ? undefined : positiveInt(v, name);
}

/**
 * Linear warmup, then cosine annealing, per step (batch). With w warmup steps, T total steps, base rate lr:
 *   t < w:      lr · (startFactor + (1 − startFactor) · t / w)
 *   w ≤ t < T:  minLr + (lr − minLr) · (1 + cos(π (t − w) / (T − w))) / 2
 * which is PyTorch's SequentialLR([LinearLR(start_factor=startFactor, total_iters=w),
 * CosineAnnealingLR(T_max=T − w, eta_min=minLr)], milestones=[w]) in closed form (with startFactor 0, the default,
 * Hugging Face's get_cosine_schedule_with_warmup). `warmupSteps`, or `warmupFraction` of T (rounded down);
 * `totalSteps` defaults to fit()'s epochs × batches.
 */
export function warmupCosine(opts: { warmupSteps?: number; warmupFraction?: number; totalSteps?: number; minLr?: number;
  startFactor?: number }): LrSchedule {
  optionsObject(opts, 'warmupCosine options');
  const name = 'warmupCosine';
  if ((opts.warmupSteps === undefined) === (opts.warmupFraction === undefined)) {
    throw new TypeError(`${name} needs one of warmupSteps (a number of steps) or warmupFraction (of the total steps)`);
  }
  const warmupSteps = opts.warmupSteps === undefined ? undefined : nonNegativeInt(opts.warmupSteps, `${name} warmupSteps`);
  const fraction = opts.warmupFraction === undefined ? undefined : numberIn(opts.warmupFraction, `${name} warmupFraction`, '[0, 1)');
  const totalSteps = optionalSteps(opts.totalSteps, `${name} totalSteps`);
  if (totalSteps !== undefined && warmupSteps !== undefined && warmupSteps >= totalSteps) {
    throw new RangeError(`${name} warmupSteps (${warmupSteps}) must be below totalSteps (${totalSteps})`);
  }
  const minLr = nonNegativeNumber(opts.minLr ?? 0, `${name} minLr`);
  const startFactor = numberIn(opts.startFactor ?? 0, `${name} startFactor`, '[0, 1]');
  return (_epoch, lr, at) => {
    const total = scheduleSteps(totalSteps, at, name);
    const w = warmupSteps ?? Math.floor((fraction as number) * total);
    if (w >= total) throw new RangeError(`${name} warmupSteps (${w}) must be below the total steps (${total})`);
    const t = (at as SchedulePosition).step;
    if (t < w) return lr * (startFactor + ((1 - startFactor) * t) / w);
    return minLr + ((lr - minLr) * (1 + Math.cos((Math.PI * (t - w)) / (total - w)))) / 2;
  };
}

/**
 * The one-cycle policy per step (batch), PyTorch's OneCycleLR with max_lr = the optimizer's base rate and
 * cycle_momentum=False (the rate only): from lr/divFactor up to lr over the first pctStart of the T steps, then
 * down to lr/(divFactor·finalDivFactor) at step T − 1; with threePhase, up, back down to lr/divFactor, then down to
 * the minimum (phase ends at steps pctStart·T − 1, 2·pctStart·T − 2, T − 1). anneal 'cos' (default):
 * end + (start − end)(1 + cos(π·pct))/2; 'linear': start + (end − start)·pct. `totalSteps` defaults to fit()'s
 * epochs × batches; a step at or past it is an error, as in PyTorch.
 */
export function oneCycle(opts: { totalSteps?: number; pctStart?: number; divFactor?: number; finalDivFactor?: number;
  anneal?: 'cos' | 'linear'; threePhase?: boolean } = {}): LrSchedule {
  optionsObject(opts, 'oneCycle options');
  const name = 'oneCycle';
  const totalSteps = optionalSteps(opts.totalSteps, `${name} totalSteps`);
  const pctStart = numberIn(opts.pctStart ?? 0.3, `${name} pctStart`, '(0, 1)');
  const divFactor = positiveNumber(opts.divFactor ?? 25, `${name} divFactor`);
  const finalDivFactor = positiveNumber(opts.finalDivFactor ?? 1e4, `${name} finalDivFactor`);
  const anneal = oneOf(opts.anneal ?? 'cos', ['cos', 'linear'] as const, `${name} anneal`);
  const threePhase = optionalBoolean(opts.threePhase, `${name} threePhase`) ?? false;
  const interpolate = anneal === 'cos'
    ? (start: number, end: number, pct: number) => end + ((start - end) / 2) * (Math.cos(Math.PI * pct) + 1)
    : (start: number, end: number, pct: number) => (end - start) * pct + start;
  return (_epoch, lr, at) => {
    const total = scheduleSteps(totalSteps, at, name);
    const initial = lr / divFactor, min = initial / finalDivFactor;
    const phases: [number, number, number][] = threePhase  // [end step, start rate, end rate]
      ? [[pctStart * total - 1, initial, lr], [2 * pctStart * total - 2, lr, initial], [total - 1, initial, min]]
      : [[pctStart * total - 1, initial, lr], [total - 1, lr, min]];
    let start = 0;
    for (const [end] of phases) {
      if (!(end > start)) {
        throw new RangeError(`${name} over ${total} steps with pctStart ${pctStart} leaves a phase without steps; ` +
          'train for more steps or change pctStart');
      }
      start = end;
    }
    start = 0;
    for (let i = 0; i < phases.length; i++) {
      const [end, from, to] = phases[i];
      const t = (at as SchedulePosition).step;
      if (t <= end || i === phases.length - 1) return interpolate(from, to, (t - start) / (end - start));
      start = end;
    }
    return min;  // not reached: the last phase takes every step
  };
}

/** The learning-rate schedules by short name. */
export const schedules = {
  /** {@link stepDecay} */
  step: stepDecay,
  /** {@link exponentialDecay} */
  exponential: exponentialDecay,
  /** {@link cosineDecay} */
  cosine: cosineDecay,
  /** {@link warmupCosine} */
  warmupCosine,
  /** {@link oneCycle} */
  oneCycle,
};

/** The global L2 norm of all gradients; if it exceeds maxNorm every gradient is scaled by maxNorm / norm. */
export function clipGradNorm(params: ParamRef[], maxNorm: number): number {
  positiveNumber(maxNorm, 'maxNorm');
  const b = getBackend();
  let sq = 0;
  for (const p of params) sq += b.sumSquares(p.grad.size, p.grad.data);
  const norm = Math.sqrt(sq);
  if (norm > maxNorm) {
    const s = maxNorm / (norm + 1e-6);
    for (const p of params) b.scale(p.grad.size, p.grad.data, s);
  }
  return norm;
}

/** Options every optimizer takes. */
export interface OptimizerOptions {
  lr?: number;
  /** Learning-rate schedule by epoch, or by step (fit() tells it where training is). */
  schedule?: LrSchedule;
  /** Clip gradients to this global L2 norm before each step. */
  clipNorm?: number;
}

/** What an optimizer keeps for one parameter: its state tensors and the steps it has taken. */
export interface ParamState {
  slots: Tensor[];
  steps: number;
}

/** The base of the optimizers: step() updates parameters from their gradients, at the scheduled learning rate. */
export abstract class Optimizer {
  readonly schedule: LrSchedule | undefined;
  readonly clipNorm: number | undefined;
  /** step() calls so far (each parameter also counts its own steps: see the file comment). */
  iterations = 0;
  private base: number;
  private readonly position: SchedulePosition = { epoch: 0, step: 0, stepsPerEpoch: undefined, totalSteps: undefined };
  private readonly state = new WeakMap<Tensor, ParamState>();
  private lastParams: readonly (ParamRef | Tensor)[] = [];

  /**
   * The options a built-in optimizer takes; an unknown one is refused. A subclass that does not declare its own
   * list (a custom optimizer) is not checked for unknown options.
   */
  static readonly optionNames: readonly string[] = ['lr', 'schedule', 'clipNorm'];

  constructor(opts: OptimizerOptions, defaultLr: number) {
    optionsObject(opts, 'optimizer options');
    const type = new.target;
    if (opts !== undefined && Object.hasOwn(type, 'optionNames')) knownOptions(opts, type.optionNames, type.name);
    this.base = positiveNumber(opts.lr ?? defaultLr, 'lr');
    if (opts.schedule !== undefined && !isFunction(opts.schedule)) {
      throw invalid('schedule', 'a function (epoch, lr, position) => lr', opts.schedule, 'type');
    }
    this.schedule = opts.schedule;
    if (opts.clipNorm !== undefined) positiveNumber(opts.clipNorm, 'clipNorm');
    this.clipNorm = opts.clipNorm;
  }

  /** The learning rate the schedule starts from (the rate itself without one). */
  get baseLr(): number {
    return this.base;
  }

  /** Changes the base learning rate (what ReduceLROnPlateau lowers); a schedule then scales the new one. */
  setBaseLr(lr: number): void {
    this.base = positiveNumber(lr, 'lr');
  }

  /** The learning rate in use now (after the schedule); a schedule giving a negative or non-finite rate throws. */
  get lr(): number {
    return this.schedule ? this.scheduledRate(this.schedule, this.position) : this.base;
  }

  /** Where training is, as the schedule sees it (a copy). */
  get schedulePosition(): SchedulePosition {
    return { ...this.position };
  }

  /**
   * Throws if the schedule gives a negative or non-finite rate at the first or the last step of any epoch of
   * 0 .. epochs − 1 (fit() asks first, with its batches per epoch; a per-step schedule built for fewer steps than
   * fit() runs fails here).
   */
  checkSchedule(epochs: number, stepsPerEpoch = 1): void {
    if (!this.schedule) return;
    const totalSteps = epochs * stepsPerEpoch;
    for (let e = 0; e < epochs; e++) {
      for (const step of new Set([e * stepsPerEpoch, (e + 1) * stepsPerEpoch - 1])) {
        this.scheduledRate(this.schedule, { epoch: e, step, stepsPerEpoch, totalSteps });
      }
    }
  }

  private scheduledRate(schedule: LrSchedule, at: SchedulePosition): number {
    const lr: unknown = schedule(at.epoch, this.base, { ...at });
    if (typeof lr !== 'number' || !(lr >= 0) || !Number.isFinite(lr)) {
      // a schedule that reads the step (a third parameter) is told the step too
      const where = schedule.length >= 3 ? `epoch ${at.epoch} (0-based), step ${at.step} (0-based)` : `epoch ${at.epoch} (0-based)`;
      throw new RangeError(`the learning-rate schedule gave ${describeValue(lr)} for ${where}; ` +
        'a learning rate must be a finite number >= 0');
    }
    return lr;
  }

  /**
   * Starts a schedule over: step 0 of epoch 0, and how long training will be (fit() calls this first, so that a
   * per-step schedule knows its total steps).
   */
  startSchedule(plan: { epochs: number; stepsPerEpoch: number }): void {
    optionsObject(plan, 'schedule plan');
    const epochs = positiveInt(plan.epochs, 'epochs'), stepsPerEpoch = positiveInt(plan.stepsPerEpoch, 'stepsPerEpoch');
    Object.assign(this.position, { epoch: 0, step: 0, stepsPerEpoch, totalSteps: epochs * stepsPerEpoch });
  }

  /** Tells the schedule which epoch (0-based) is running. */
  setEpoch(epoch: number): void {
    this.position.epoch = nonNegativeInt(epoch, 'epoch');
  }

  /** Sets the step (0-based) a per-step schedule reads; step() advances it by one. */
  setStep(step: number): void {
    this.position.step = nonNegativeInt(step, 'step');
  }

  /**
   * One update of every parameter from its gradient: ParamRefs (Sequential.parameters()) or tensors whose .grad
   * autograd filled (a Module's parameters(); one without a gradient is skipped, as in PyTorch).
   */
  step(list: readonly (ParamRef | Tensor)[]): void {
    if (!Array.isArray(list)) throw new TypeError(`step: params must be an array of parameters, got ${describeValue(list)}`);
    this.lastParams = list;
    const params = refs(list);
    const lr = this.lr;
    for (const p of params) {
      if (p.param.size !== p.grad.size || p.param.dtype !== p.grad.dtype) {
        throw new RangeError(`${p.name ?? 'a parameter'}: gradient and parameter differ in size or dtype`);
      }
    }
    if (this.clipNorm !== undefined) clipGradNorm(params, this.clipNorm);
    this.iterations++;
    this.position.step++;
    this.updateAll(params, lr);
  }

  /** The update of every parameter (checked), one update() call each; an optimizer may fuse several into a call. */
  protected updateAll(params: readonly ParamRef[], lr: number): void {
    for (const p of params) {
      const s = this.stateOf(p.param);
      s.steps++;
      this.update(p.param, p.grad, lr, s);
    }
  }

  /**
   * Clears the gradients of `params` (default: those of the last step()): a tensor's .grad becomes null (PyTorch's
   * default), a ParamRef's gradient is filled with 0.
   */
  zeroGrad(params?: readonly (ParamRef | Tensor)[]): void {
    const list = params ?? this.lastParams;
    if (!Array.isArray(list)) throw new TypeError(`zeroGrad: params must be an array of parameters, got ${describeValue(list)}`);
    for (const p of list) {
      if (p instanceof Tensor) p.grad = null;
      else (p as ParamRef).grad.data.fill(0);
    }
  }

  /** Updates one parameter; state.steps counts this step (1 on the parameter's first step). */
  protected abstract update(param: Tensor, grad: Tensor, lr: number, state: ParamState): void;

  /** Counts a step of each parameter (state.steps), for an updateAll() that does not call update(). */
  protected countSteps(params: readonly ParamRef[]): void {
    for (const p of params) this.stateOf(p.param).steps++;
  }

  private stateOf(param: Tensor): ParamState {
    let s = this.state.get(param);
    if (!s) {
      s = { slots: [], steps: 0 };
      this.state.set(param, s);
    }
    return s;
  }

  /** The first `count` state tensors of a parameter (created zeroed on first use). */
  protected slots(param: Tensor, count: number): Tensor[] {
    const s = this.stateOf(param);
    while (s.slots.length < count) s.slots.push(Tensor.zeros(param.shape, param.dtype));
    return s.slots;
  }
}

/** The optimizers fit() accepts by name, built with their default options. */
export const OPTIMIZER_NAMES = ['sgd', 'momentum', 'adam', 'adamw', 'rmsprop', 'adagrad'] as const;
/** An optimizer by name, as fit() and compile() accept it. */
export type OptimizerName = (typeof OPTIMIZER_NAMES)[number];

/** An optimizer given by name ('sgd', 'momentum' (SGD with momentum 0.9), 'adam', ...) with its defaults. */
export function optimizerFromName(name: OptimizerName): Optimizer {
  switch (oneOf(name, OPTIMIZER_NAMES, 'optimizer')) {
    case 'sgd': return new SGD();
    case 'momentum': return new SGD({ momentum: 0.9 });
    case 'adam': return new Adam();
    case 'adamw': return new AdamW();
    case 'rmsprop': return new RMSProp();
    case 'adagrad': return new AdaGrad();
  }
}

/** Options of SGD: momentum μ (default 0: plain SGD) and Nesterov momentum. */
export interface SGDOptions extends OptimizerOptions {
  momentum?: number;
  nesterov?: boolean;
}

/** Stochastic gradient descent: p −= lr·g; with momentum (PyTorch form) v = μv + g, p −= lr·v (Nesterov: lr·(g + μv)). */
export class SGD extends Optimizer {
  static override readonly optionNames = [...Optimizer.optionNames, 'momentum', 'nesterov'];
  readonly momentum: number;
  readonly nesterov: boolean;

  constructor(opts: SGDOptions = {}) {
    super(opts, 0.01);
    this.momentum = kernelNumber(opts.momentum ?? 0, 'momentum', 'sgdMomentum', 'momentum');
    this.nesterov = optionalBoolean(opts.nesterov, 'nesterov') ?? false;
    if (this.nesterov && this.momentum === 0) throw new RangeError('nesterov needs a momentum above 0');
  }

  /**
   * Plain SGD updates the parameters two at a time (a layer's weight and bias) in one sgd2 call each: the same
   * element-wise p −= lr·g as one sgd call per parameter, with half the calls. A pair of different dtypes, or whose
   * arrays share a buffer (tied weights), takes two sgd calls; a subclass with an update() of its own gets it called.
   */
  protected override updateAll(params: readonly ParamRef[], lr: number): void {
    if (this.momentum !== 0 || this.update !== SGD.prototype.update) {
      super.updateAll(params, lr);
      return;
    }
    this.countSteps(params);
    const b = getBackend(), n = params.length;
    let i = 0;
    for (; i + 1 < n; i += 2) {
      const a = params[i].param, c = params[i + 1].param;
      const p = a.data, g = params[i].grad.data, q = c.data, h = params[i + 1].grad.data;
      if (a.dtype === c.dtype && p.buffer !== q.buffer && p.buffer !== h.buffer && q.buffer !== g.buffer) {
        b.sgd2(a.size, p, g, c.size, q, h, lr);
      } else {
        b.sgd(a.size, p, g, lr);
        b.sgd(c.size, q, h, lr);
      }
    }
    if (i < n) b.sgd(params[i].param.size, params[i].param.data, params[i].grad.data, lr);
  }

  protected update(p: Tensor, g: Tensor, lr: number): void {
    if (this.momentum === 0) getBackend().sgd(p.size, p.data, g.data, lr);
    else getBackend().sgdMomentum(p.size, p.data, g.data, this.slots(p, 1)[0].data, lr, this.momentum, this.nesterov);
  }
}

/** AdaGrad: h += g²; p −= lr·g/(√h + eps). */
export class AdaGrad extends Optimizer {
  static override readonly optionNames = [...Optimizer.optionNames, 'eps'];
  readonly eps: number;

  constructor(opts: OptimizerOptions & { eps?: number } = {}) {
    super(opts, 0.01);
    this.eps = kernelNumber(opts.eps ?? 1e-7, 'eps', 'adagrad', 'eps');
  }

  protected update(p: Tensor, g: Tensor, lr: number): void {
    getBackend().adagrad(p.size, p.data, g.data, this.slots(p, 1)[0].data, lr, this.eps);
  }
}

/** RMSProp: h = decay·h + (1 − decay)·g²; p −= lr·g/(√h + eps). */
export class RMSProp extends Optimizer {
  static override readonly optionNames = [...Optimizer.optionNames, 'decay', 'eps'];
  readonly decay: number;
  readonly eps: number;

  constructor(opts: OptimizerOptions & { decay?: number; eps?: number } = {}) {
    super(opts, 0.01);
    this.decay = kernelNumber(opts.decay ?? 0.99, 'decay', 'rmsprop', 'decay');
    this.eps = kernelNumber(opts.eps ?? 1e-7, 'eps', 'rmsprop', 'eps');
  }

  protected update(p: Tensor, g: Tensor, lr: number): void {
    getBackend().rmsprop(p.size, p.data, g.data, this.slots(p, 1)[0].data, lr, this.decay, this.eps);
  }
}

/** Options of Adam and AdamW: the moment decay rates β1, β2 and the ε added to the denominator. */
export interface AdamOptions extends OptimizerOptions {
  beta1?: number;
  beta2?: number;
  eps?: number;
}

/**
 * Adam (bias-corrected moments).
 *
 * Arithmetic differs by backend for float32 parameters: the TS backend computes the update in double and rounds
 * p, m and v once when it stores them; the native backend computes it in float32, as PyTorch's Adam does (float64
 * parameters are computed in double on both). The two backends' float32 parameters therefore differ by a few
 * float32 roundings per step (the reference grid holds one step to 1.6e-5 relative), and training runs on the two
 * backends drift apart bit by bit, as any two float32 implementations do. Double on the native side was measured
 * and left out: 1.5–2.2× the update's CPU time with AVX-512 and 2.7–3.1× with AVX2, on the 207,018 parameters of
 * the CLI's default CNN (bench/adam-precision.cc). SGD with momentum, AdaGrad and RMSProp compute in double on
 * both backends.
 */
export class Adam extends Optimizer {
  static override readonly optionNames = [...Optimizer.optionNames, 'beta1', 'beta2', 'eps'];
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  protected decoupledDecay = 0;

  constructor(opts: AdamOptions = {}) {
    super(opts, 0.001);
    this.beta1 = kernelNumber(opts.beta1 ?? 0.9, 'beta1', 'adam', 'beta1');
    this.beta2 = kernelNumber(opts.beta2 ?? 0.999, 'beta2', 'adam', 'beta2');
    this.eps = kernelNumber(opts.eps ?? 1e-8, 'eps', 'adam', 'eps');
  }

  protected update(p: Tensor, g: Tensor, lr: number, state: ParamState): void {
    const [m, v] = this.slots(p, 2);
    getBackend().adam(p.size, p.data, g.data, m.data, v.data, lr, this.beta1, this.beta2, this.eps, state.steps,
      this.decoupledDecay);
  }
}

/** AdamW: Adam with decoupled weight decay, p −= lr·weightDecay·p before the Adam step (default 0.01). */
export class AdamW extends Adam {
  static override readonly optionNames = [...Adam.optionNames, 'weightDecay'];
  readonly weightDecay: number;

  constructor(opts: AdamOptions & { weightDecay?: number } = {}) {
    super(opts);
    this.weightDecay = kernelNumber(opts.weightDecay ?? 0.01, 'weightDecay', 'adam', 'weightDecay');
    this.decoupledDecay = this.weightDecay;
  }
}
