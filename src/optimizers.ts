// Optimizers: each step is one fused, in-place backend kernel per parameter tensor. The state of a parameter
// (moment tensors, its own step count) is allocated on its first step and held weakly, keyed by the parameter
// tensor: one optimizer may train many networks one after another without keeping dead ones alive, and a
// parameter it has not seen starts from step 1 (Adam's bias correction) whatever the optimizer did before.
// Learning-rate schedules map the epoch to a rate; gradient clipping by global norm runs before the update
// when clipNorm is set.
import { getBackend } from './backend/index';
import { describeValue, optionalBoolean, optionsObject } from './options';
import { Tensor } from './tensor';

/** A parameter and its gradient, as Sequential.parameters() lists them. */
export interface ParamRef {
  name?: string;
  param: Tensor;
  grad: Tensor;
}

/** Maps the epoch (0-based) and the base learning rate to the rate of that epoch. */
export type LrSchedule = (epoch: number, baseLr: number) => number;

/** lr · gamma^floor(epoch / stepSize) */
export function stepDecay(opts: { stepSize: number; gamma?: number }): LrSchedule {
  optionsObject(opts, 'stepDecay options');
  const stepSize = positiveInt(opts.stepSize, 'stepDecay stepSize'), gamma = positive(opts.gamma ?? 0.1, 'stepDecay gamma');
  return (epoch, lr) => lr * gamma ** Math.floor(epoch / stepSize);
}

/** lr · gamma^epoch */
export function exponentialDecay(opts: { gamma: number }): LrSchedule {
  optionsObject(opts, 'exponentialDecay options');
  const gamma = positive(opts.gamma, 'exponentialDecay gamma');
  return (epoch, lr) => lr * gamma ** epoch;
}

/** Cosine annealing from lr to minLr over tMax epochs (then minLr): minLr + (lr − minLr)(1 + cos(π e/tMax))/2. */
export function cosineDecay(opts: { tMax: number; minLr?: number }): LrSchedule {
  optionsObject(opts, 'cosineDecay options');
  const tMax = positiveInt(opts.tMax, 'cosineDecay tMax'), minLr = opts.minLr ?? 0;
  if (typeof minLr !== 'number' || !(minLr >= 0) || !Number.isFinite(minLr)) {
    throw new RangeError(`cosineDecay minLr must be a finite number >= 0, got ${describeValue(minLr)}`);
  }
  return (epoch, lr) => minLr + ((lr - minLr) * (1 + Math.cos(Math.PI * Math.min(epoch, tMax) / tMax))) / 2;
}

export const schedules = { step: stepDecay, exponential: exponentialDecay, cosine: cosineDecay };

function positive(v: unknown, name: string): number {
  if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) throw new RangeError(`${name} must be a positive number, got ${describeValue(v)}`);
  return v;
}

function positiveInt(v: unknown, name: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new RangeError(`${name} must be a positive integer, got ${describeValue(v)}`);
  return v;
}

function inUnit(v: unknown, name: string, closedHigh: boolean): number {
  if (typeof v !== 'number' || !(v >= 0) || !(closedHigh ? v <= 1 : v < 1)) {
    throw new RangeError(`${name} must be in [0, 1${closedHigh ? ']' : ')'}, got ${describeValue(v)}`);
  }
  return v;
}

/** The global L2 norm of all gradients; if it exceeds maxNorm every gradient is scaled by maxNorm / norm. */
export function clipGradNorm(params: ParamRef[], maxNorm: number): number {
  positive(maxNorm, 'maxNorm');
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

export interface OptimizerOptions {
  lr?: number;
  /** Learning-rate schedule by epoch (fit() sets the epoch). */
  schedule?: LrSchedule;
  /** Clip gradients to this global L2 norm before each step. */
  clipNorm?: number;
}

/** What an optimizer keeps for one parameter: its state tensors and the steps it has taken. */
export interface ParamState {
  slots: Tensor[];
  steps: number;
}

export abstract class Optimizer {
  readonly baseLr: number;
  readonly schedule: LrSchedule | undefined;
  readonly clipNorm: number | undefined;
  /** step() calls so far (each parameter also counts its own steps: see the file comment). */
  iterations = 0;
  private epoch = 0;
  private readonly state = new WeakMap<Tensor, ParamState>();

  constructor(opts: OptimizerOptions, defaultLr: number) {
    optionsObject(opts, 'optimizer options');
    this.baseLr = positive(opts.lr ?? defaultLr, 'lr');
    if (opts.schedule !== undefined && typeof opts.schedule !== 'function') {
      throw new TypeError(`schedule must be a function (epoch, lr) => lr, got ${describeValue(opts.schedule)}`);
    }
    this.schedule = opts.schedule;
    if (opts.clipNorm !== undefined) positive(opts.clipNorm, 'clipNorm');
    this.clipNorm = opts.clipNorm;
  }

  /** The learning rate in use now (after the schedule); a schedule giving a negative or non-finite rate throws. */
  get lr(): number {
    return this.schedule ? this.scheduledRate(this.schedule, this.epoch) : this.baseLr;
  }

  /** Throws if the schedule gives a negative or non-finite rate for any epoch of 0 .. epochs − 1 (fit() asks first). */
  checkSchedule(epochs: number): void {
    if (this.schedule) for (let e = 0; e < epochs; e++) this.scheduledRate(this.schedule, e);
  }

  private scheduledRate(schedule: LrSchedule, epoch: number): number {
    const lr: unknown = schedule(epoch, this.baseLr);
    if (typeof lr !== 'number' || !(lr >= 0) || !Number.isFinite(lr)) {
      throw new RangeError(`the learning-rate schedule gave ${describeValue(lr)} for epoch ${epoch} (0-based); ` +
        'a learning rate must be a finite number >= 0');
    }
    return lr;
  }

  /** Tells the schedule which epoch (0-based) is running. */
  setEpoch(epoch: number): void {
    if (typeof epoch !== 'number' || !Number.isInteger(epoch) || epoch < 0) {
      throw new RangeError(`epoch must be a non-negative integer, got ${describeValue(epoch)}`);
    }
    this.epoch = epoch;
  }

  /** One update of every parameter from its gradient. */
  step(params: ParamRef[]): void {
    const lr = this.lr;
    for (const p of params) {
      if (p.param.size !== p.grad.size || p.param.dtype !== p.grad.dtype) {
        throw new RangeError(`${p.name ?? 'a parameter'}: gradient and parameter differ in size or dtype`);
      }
    }
    if (this.clipNorm !== undefined) clipGradNorm(params, this.clipNorm);
    this.iterations++;
    for (const p of params) {
      const s = this.stateOf(p.param);
      s.steps++;
      this.update(p.param, p.grad, lr, s);
    }
  }

  /** Updates one parameter; state.steps counts this step (1 on the parameter's first step). */
  protected abstract update(param: Tensor, grad: Tensor, lr: number, state: ParamState): void;

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
export type OptimizerName = (typeof OPTIMIZER_NAMES)[number];

/** An optimizer given by name ('sgd', 'momentum' (SGD with momentum 0.9), 'adam', ...) with its defaults. */
export function optimizerFromName(name: OptimizerName): Optimizer {
  switch (name) {
    case 'sgd': return new SGD();
    case 'momentum': return new SGD({ momentum: 0.9 });
    case 'adam': return new Adam();
    case 'adamw': return new AdamW();
    case 'rmsprop': return new RMSProp();
    case 'adagrad': return new AdaGrad();
  }
  throw new RangeError(`optimizer must be one of ${OPTIMIZER_NAMES.map((n) => `'${n}'`).join(', ')}, got ${describeValue(name)}`);
}

export interface SGDOptions extends OptimizerOptions {
  momentum?: number;
  nesterov?: boolean;
}

/** Stochastic gradient descent: p −= lr·g; with momentum (PyTorch form) v = μv + g, p −= lr·v (Nesterov: lr·(g + μv)). */
export class SGD extends Optimizer {
  readonly momentum: number;
  readonly nesterov: boolean;

  constructor(opts: SGDOptions = {}) {
    super(opts, 0.01);
    this.momentum = inUnit(opts.momentum ?? 0, 'momentum', true);
    this.nesterov = optionalBoolean(opts.nesterov, 'nesterov') ?? false;
    if (this.nesterov && this.momentum === 0) throw new RangeError('nesterov needs a momentum above 0');
  }

  protected update(p: Tensor, g: Tensor, lr: number): void {
    if (this.momentum === 0) getBackend().sgd(p.size, p.data, g.data, lr);
    else getBackend().sgdMomentum(p.size, p.data, g.data, this.slots(p, 1)[0].data, lr, this.momentum, this.nesterov);
  }
}

/** AdaGrad: h += g²; p −= lr·g/(√h + eps). */
export class AdaGrad extends Optimizer {
  readonly eps: number;

  constructor(opts: OptimizerOptions & { eps?: number } = {}) {
    super(opts, 0.01);
    this.eps = positive(opts.eps ?? 1e-7, 'eps');
  }

  protected update(p: Tensor, g: Tensor, lr: number): void {
    getBackend().adagrad(p.size, p.data, g.data, this.slots(p, 1)[0].data, lr, this.eps);
  }
}

/** RMSProp: h = decay·h + (1 − decay)·g²; p −= lr·g/(√h + eps). */
export class RMSProp extends Optimizer {
  readonly decay: number;
  readonly eps: number;

  constructor(opts: OptimizerOptions & { decay?: number; eps?: number } = {}) {
    super(opts, 0.01);
    this.decay = inUnit(opts.decay ?? 0.99, 'decay', true);
    this.eps = positive(opts.eps ?? 1e-7, 'eps');
  }

  protected update(p: Tensor, g: Tensor, lr: number): void {
    getBackend().rmsprop(p.size, p.data, g.data, this.slots(p, 1)[0].data, lr, this.decay, this.eps);
  }
}

export interface AdamOptions extends OptimizerOptions {
  beta1?: number;
  beta2?: number;
  eps?: number;
}

/** Adam (bias-corrected moments). */
export class Adam extends Optimizer {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  protected decoupledDecay = 0;

  constructor(opts: AdamOptions = {}) {
    super(opts, 0.001);
    this.beta1 = inUnit(opts.beta1 ?? 0.9, 'beta1', false);
    this.beta2 = inUnit(opts.beta2 ?? 0.999, 'beta2', false);
    this.eps = positive(opts.eps ?? 1e-8, 'eps');
  }

  protected update(p: Tensor, g: Tensor, lr: number, state: ParamState): void {
    const [m, v] = this.slots(p, 2);
    getBackend().adam(p.size, p.data, g.data, m.data, v.data, lr, this.beta1, this.beta2, this.eps, state.steps,
      this.decoupledDecay);
  }
}

/** AdamW: Adam with decoupled weight decay, p −= lr·weightDecay·p before the Adam step (default 0.01). */
export class AdamW extends Adam {
  readonly weightDecay: number;

  constructor(opts: AdamOptions & { weightDecay?: number } = {}) {
    super(opts);
    const wd = opts.weightDecay ?? 0.01;
    if (typeof wd !== 'number' || !(wd >= 0) || !Number.isFinite(wd)) {
      throw new RangeError(`weightDecay must be a non-negative number, got ${describeValue(wd)}`);
    }
    this.weightDecay = wd;
    this.decoupledDecay = wd;
  }
}
