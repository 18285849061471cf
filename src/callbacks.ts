// Callbacks: what fit() tells about training as it goes, Keras's interface (onTrainBegin, onEpochBegin, onBatchEnd,
// onEpochEnd, onTrainEnd; each may be async, fit() awaits it), and the three callbacks every training script
// wants: EarlyStopping, ModelCheckpoint and ReduceLROnPlateau. A hook gets the numbers of the moment (an info object)
// and the FitContext: the network, the optimizer, the plan, and stopTraining().
//
// Monitored values are named as fit() reports them ('loss', 'valLoss', 'accuracy', 'valAccuracy', a metric's name
// and 'val' + its name: 'f1', 'valF1'), or by Keras's names ('val_loss', 'val_accuracy', 'val_acc', 'val_f1').
import * as fs from 'node:fs';
import * as path from 'node:path';
import { resolveWriteTarget } from './io/atomic';
import type { Sequential } from './network';
import type { Optimizer } from './optimizers';
import {
  describeValue, finiteNumber, invalid, knownOptions, nonNegativeInt, nonNegativeNumber, numberIn, oneOf, optionalBoolean, optionsObject,
} from './validate';
import type { Tensor } from './tensor';

/** After each batch: where it was, and its loss (and accuracy, for a classification loss) in train mode. */
export interface BatchInfo {
  epoch: number;
  batch: number;
  batches: number;
  /** Samples in this batch (the last one may be smaller). */
  size: number;
  loss: number;
  accuracy?: number;
  /** The learning rate this batch was trained with. */
  lr: number;
}

/**
 * After each epoch: the means over its batches (train mode), then the same on the validation data in eval mode
 * (valLoss, valAccuracy, val + metric), one entry per metric, and the learning rate of the epoch's last batch.
 */
export interface EpochInfo {
  epoch: number;
  loss: number;
  accuracy?: number;
  valLoss?: number;
  valAccuracy?: number;
  lr: number;
  /** Metrics by name ('f1', 'valF1', ...); a callback may add values of its own for the callbacks after it. */
  [key: string]: number | undefined;
}

/** What onEpochBegin gets: the epoch (from 0) and its learning rate. */
export interface EpochBeginInfo {
  epoch: number;
  /** The learning rate of the epoch's first batch. */
  lr: number;
}

/** What onTrainBegin gets: the plan of the training. */
export interface TrainBeginInfo {
  epochs: number;
  /** Batches per epoch. */
  batches: number;
  /** Training samples (without those validationSplit holds out). */
  samples: number;
  batchSize: number;
}

/** What onTrainEnd gets. */
export interface TrainEndInfo {
  /** Epochs trained (fewer than planned when a callback stopped training). */
  epochs: number;
  /** Whether a callback called stopTraining(). */
  stopped: boolean;
}

/** Which way a reported value improves: 'min' (a loss, an error) or 'max' (accuracy, F1, R²). */
export type Direction = 'min' | 'max';

/** What every hook gets besides the numbers: the training it is part of. */
export interface FitContext {
  readonly network: Sequential;
  readonly optimizer: Optimizer;
  readonly epochs: number;
  /** Batches per epoch. */
  readonly batches: number;
  readonly samples: number;
  readonly batchSize: number;
  /** Whether there is validation data (validationData or validationSplit): whether valLoss etc. are reported. */
  readonly hasValidation: boolean;
  /** The keys each EpochInfo holds besides 'epoch', and which way each improves (null: neither, e.g. 'lr'). */
  readonly reported: Readonly<Record<string, Direction | null>>;
  /**
   * Ends training after the current batch: the epoch ends there (its means cover the batches trained, validation
   * runs), onEpochEnd and onTrainEnd are called, and fit() resolves with the history so far.
   */
  stopTraining(): void;
  readonly stopRequested: boolean;
}

type Hook<I> = (info: I, fit: FitContext) => void | Promise<void>;

/**
 * A callback: any object with some of these methods (a class instance, or a literal { onEpochEnd(e) { ... } }).
 * fit() calls them in the order of its callbacks option and awaits each.
 */
export interface Callback {
  /** Before the first epoch. */
  onTrainBegin?: Hook<TrainBeginInfo>;
  /** At the start of each epoch. */
  onEpochBegin?: Hook<EpochBeginInfo>;
  /** After each batch's optimizer step. */
  onBatchEnd?: Hook<BatchInfo>;
  /** After each epoch, its validation included. */
  onEpochEnd?: Hook<EpochInfo>;
  /** After the last epoch, or when a callback stopped training. */
  onTrainEnd?: Hook<TrainEndInfo>;
}

const HOOKS = ['onTrainBegin', 'onEpochBegin', 'onBatchEnd', 'onEpochEnd', 'onTrainEnd'] as const;
type HookName = (typeof HOOKS)[number];

/** Checks fit()'s callbacks option: an array of objects with at least one hook, every hook a function. */
export function checkCallbacks(v: unknown): Callback[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new TypeError(`callbacks must be an array of callbacks, got ${describeValue(v)}`);
  v.forEach((cb: unknown, i) => {
    if (typeof cb === 'function') {
      throw new TypeError(`callbacks[${i}] is a function (${cb.name || 'anonymous'}); pass an instance ` +
        `(new ${cb.name || 'EarlyStopping'}({ ... })) or an object with onEpochEnd etc.`);
    }
    if (cb === null || typeof cb !== 'object') throw new TypeError(`callbacks[${i}] must be a callback object, got ${describeValue(cb)}`);
    const c = cb as Record<string, unknown>;
    let hooks = 0;
    for (const h of HOOKS) {
      if (c[h] === undefined) continue;
      if (typeof c[h] !== 'function') throw new TypeError(`callbacks[${i}].${h} must be a function, got ${describeValue(c[h])}`);
      hooks++;
    }
    if (hooks === 0) {
      throw new TypeError(`callbacks[${i}] (${describeValue(cb)}) has none of the hooks ${HOOKS.join(', ')}`);
    }
  });
  return v as Callback[];
}

/** Calls one hook of every callback in order, awaiting only what returns a promise (batch hooks stay cheap). */
export class CallbackList {
  private readonly hooks: Record<HookName, Callback[]>;

  constructor(callbacks: Callback[]) {
    this.hooks = Object.fromEntries(HOOKS.map((h) => [h, callbacks.filter((c) => typeof c[h] === 'function')])) as
      Record<HookName, Callback[]>;
  }

  has(hook: HookName): boolean {
    return this.hooks[hook].length > 0;
  }

  async call<H extends HookName>(hook: H, info: Parameters<NonNullable<Callback[H]>>[0], fit: FitContext): Promise<void> {
    for (const c of this.hooks[hook]) {
      const r = (c[hook] as Hook<typeof info>).call(c, info, fit);
      if (r !== undefined && r !== null && typeof (r as Promise<void>).then === 'function') await r;
    }
  }
}

/** A Keras name or one of fit()'s keys → fit()'s key: 'val_loss' → 'valLoss', 'val_f1' → 'valF1', 'acc' → 'accuracy'. */
export function reportedKey(name: string): string {
  const alias: Record<string, string> = { acc: 'accuracy', val_acc: 'valAccuracy', learning_rate: 'lr' };
  if (alias[name]) return alias[name];
  if (name.startsWith('val_') && name.length > 4) return `val${name[4].toUpperCase()}${name.slice(5)}`;
  return name;
}

/** The value a callback watches, and which way is better; shared by the three callbacks below. */
class Monitor {
  readonly key: string;
  private readonly mode: 'auto' | Direction;
  private resolved: Direction | undefined;

  constructor(private readonly owner: string, private readonly name: unknown, mode: unknown) {
    if (typeof name !== 'string' || name === '') throw invalid(`${owner} monitor`, "a name like 'valLoss'", name, 'type');
    this.key = reportedKey(name);
    this.mode = oneOf(mode, ['auto', 'min', 'max'] as const, `${owner} mode`);
  }

  private label(): string {
    return this.name === this.key ? `'${this.key}'` : `'${String(this.name)}' ('${this.key}')`;
  }

  /** At the start of training: a validation value needs validation data, and 'auto' learns its direction. */
  begin(fit: FitContext): void {
    this.resolved = this.mode === 'auto' ? undefined : this.mode;
    if (/^val[A-Z]/.test(this.key) && !fit.hasValidation) {
      throw new RangeError(`${this.owner} monitors ${this.label()}, a validation value, but fit() has no validation ` +
        'data: give validationData or validationSplit, or monitor a training value such as \'loss\'');
    }
    if (this.mode === 'auto' && Object.hasOwn(fit.reported, this.key)) this.resolved = fit.reported[this.key] ?? undefined;
  }

  get direction(): Direction {
    if (!this.resolved) {
      throw new RangeError(`${this.owner} cannot tell whether a larger ${this.label()} is better: set mode to 'min' or 'max'`);
    }
    return this.resolved;
  }

  /** The monitored value of an epoch; a name the epoch does not report is an error listing those it does. */
  value(info: EpochInfo): number {
    const v = info[this.key];
    if (typeof v !== 'number') {
      const keys = Object.keys(info).filter((k) => k !== 'epoch' && typeof info[k] === 'number');
      throw new RangeError(`${this.owner} monitors ${this.label()}, which fit() does not report; it reports ` +
        `${keys.map((k) => `'${k}'`).join(', ')}`);
    }
    return v;
  }

  /** Whether `current` improves on `reference` by more than delta (NaN never does). */
  improves(current: number, reference: number, delta = 0): boolean {
    return this.direction === 'min' ? current < reference - delta : current > reference + delta;
  }

  get worst(): number {
    return this.direction === 'min' ? Infinity : -Infinity;
  }
}

/** Copies of every parameter and buffer's values (the network's stateDict), to put back bit for bit. */
function snapshot(net: Sequential): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const [k, t] of Object.entries(net.stateDict())) out.set(k, t.clone());
  return out;
}

function restore(net: Sequential, saved: Map<string, Tensor>): void {
  for (const [k, t] of Object.entries(net.stateDict())) t.data.set((saved.get(k) as Tensor).data);
}

/** Options of EarlyStopping. */
export interface EarlyStoppingOptions {
  /** The value to watch (default 'valLoss'). */
  monitor?: string;
  /**
   * Training stops at the patience-th epoch in a row that does not improve (default 0, which, like 1, stops at the
   * first; Keras's rule), never after the first epoch.
   */
  patience?: number;
  /** The smallest change that counts as an improvement (default 0). */
  minDelta?: number;
  /** 'min', 'max', or 'auto' (default): from the value (losses and errors 'min'; accuracy, F1, R² 'max'). */
  mode?: 'auto' | Direction;
  /** When training ends, put back the weights (and buffers) of the best epoch (default false). */
  restoreBestWeights?: boolean;
  /** Stop unless the value improves on this (as well as on the best so far) within `patience` epochs. */
  baseline?: number;
}

/**
 * Stops training when the monitored value has not improved for `patience` epochs (Keras's EarlyStopping): an epoch
 * improves when its value beats the best so far by more than minDelta. With restoreBestWeights the network ends
 * with the weights of the best epoch, whether training stopped early or ran all its epochs (as Keras 3).
 */
export class EarlyStopping implements Callback {
  readonly patience: number;
  readonly minDelta: number;
  readonly restoreBestWeights: boolean;
  readonly baseline: number | undefined;
  /** The best value seen, its epoch (0-based; -1 before any), and the epoch training stopped at (-1: it did not). */
  best = NaN;
  bestEpoch = -1;
  stoppedEpoch = -1;
  private readonly monitor: Monitor;
  private wait = 0;
  private bestWeights: Map<string, Tensor> | undefined;

  constructor(opts: EarlyStoppingOptions = {}) {
    const o = optionsObject(opts, 'EarlyStopping options');
    knownOptions(o, ['monitor', 'patience', 'minDelta', 'mode', 'restoreBestWeights', 'baseline'], 'EarlyStopping');
    this.monitor = new Monitor('EarlyStopping', o.monitor ?? 'valLoss', o.mode ?? 'auto');
    this.patience = nonNegativeInt(o.patience ?? 0, 'EarlyStopping patience');
    this.minDelta = Math.abs(nonNegativeNumber(o.minDelta ?? 0, 'EarlyStopping minDelta'));
    this.restoreBestWeights = optionalBoolean(o.restoreBestWeights, 'EarlyStopping restoreBestWeights') ?? false;
    this.baseline = o.baseline === undefined ? undefined : finiteNumber(o.baseline, 'EarlyStopping baseline');
  }

  onTrainBegin(_info: TrainBeginInfo, fit: FitContext): void {
    this.monitor.begin(fit);
    this.wait = 0;
    this.best = NaN;
    this.bestEpoch = -1;
    this.stoppedEpoch = -1;
    this.bestWeights = undefined;
  }

  onEpochEnd(info: EpochInfo, fit: FitContext): void {
    const current = this.monitor.value(info);
    if (this.bestEpoch < 0 && Number.isNaN(this.best)) this.best = this.monitor.worst;
    // the first epoch's weights, in case no epoch improves (a value that is NaN throughout)
    if (this.restoreBestWeights && !this.bestWeights) this.bestWeights = snapshot(fit.network);
    this.wait++;
    if (this.monitor.improves(current, this.best, this.minDelta)) {
      this.best = current;
      this.bestEpoch = info.epoch;
      if (this.restoreBestWeights) this.bestWeights = snapshot(fit.network);
      if (this.baseline === undefined || this.monitor.improves(current, this.baseline, this.minDelta)) this.wait = 0;
      return;
    }
    if (this.wait >= this.patience && info.epoch > 0) {
      this.stoppedEpoch = info.epoch;
      fit.stopTraining();
    }
  }

  onTrainEnd(_info: TrainEndInfo, fit: FitContext): void {
    if (this.restoreBestWeights && this.bestWeights) restore(fit.network, this.bestWeights);
  }
}

/** Options of ModelCheckpoint. */
export interface ModelCheckpointOptions {
  /**
   * Where to save (network.save(): atomic). May hold the epoch and reported values: 'ckpt-{epoch:03d}.safetensors',
   * 'best-{valLoss:.4f}.safetensors' ({epoch} counts from 1, as Keras).
   */
  path: string;
  /** The value that decides the best epoch with saveBestOnly (default 'valLoss'). */
  monitor?: string;
  /** Save only when the monitored value improves on the best so far (default false: after every epoch). */
  saveBestOnly?: boolean;
  mode?: 'auto' | Direction;
}

const FIELD = /\{([A-Za-z_][A-Za-z0-9_]*)(?::([^}]*))?\}/g;

/**
 * Saves the network after each epoch (Keras's ModelCheckpoint), or only after the epochs that improve the monitored
 * value (saveBestOnly). Each save goes through network.save(), so a crash never leaves half a file; the file's
 * metadata 'nodenn.checkpoint' holds the epoch's info as JSON.
 */
export class ModelCheckpoint implements Callback {
  readonly path: string;
  readonly saveBestOnly: boolean;
  /** The best monitored value so far (saveBestOnly), and the files written, in order. */
  best = NaN;
  readonly saved: string[] = [];
  private readonly monitor: Monitor;
  private firstEpoch = true;

  constructor(opts: ModelCheckpointOptions) {
    const o = optionsObject(opts, 'ModelCheckpoint options');
    knownOptions(o, ['path', 'monitor', 'saveBestOnly', 'mode'], 'ModelCheckpoint');
    if (typeof o.path !== 'string' || o.path === '') throw new TypeError(`ModelCheckpoint path must be a file name, got ${describeValue(o.path)}`);
    for (const [, , spec] of o.path.matchAll(FIELD)) {
      if (spec !== undefined && !/^(0?\d*d|\.\d+f)$/.test(spec)) {
        throw new RangeError(`ModelCheckpoint path: format ':${spec}' is not one of ':03d' (an integer padded with zeros) or ':.4f' (decimals)`);
      }
    }
    this.path = o.path;
    this.monitor = new Monitor('ModelCheckpoint', o.monitor ?? 'valLoss', o.mode ?? 'auto');
    this.saveBestOnly = optionalBoolean(o.saveBestOnly, 'ModelCheckpoint saveBestOnly') ?? false;
  }

  onTrainBegin(_info: TrainBeginInfo, fit: FitContext): void {
    if (this.saveBestOnly) this.monitor.begin(fit);
    this.best = NaN;
    this.firstEpoch = true;
    // a directory that is missing or a path that cannot be a file fails now, not after the first epoch's training
    const dir = path.dirname(this.path);
    if (!dir.includes('{')) {
      let st: fs.Stats;
      try {
        st = fs.statSync(dir);
      } catch {
        throw new RangeError(`ModelCheckpoint path ${this.path}: the directory ${dir} does not exist`);
      }
      if (!st.isDirectory()) throw new RangeError(`ModelCheckpoint path ${this.path}: ${dir} is not a directory`);
      if (!this.path.includes('{')) resolveWriteTarget(this.path);
    }
  }

  /** The path for an epoch, its fields filled in. */
  fileFor(info: EpochInfo): string {
    return this.path.replace(FIELD, (_m, name: string, spec: string | undefined) => {
      const key = reportedKey(name);
      const v = key === 'epoch' ? info.epoch + 1 : info[key];
      if (typeof v !== 'number') {
        const keys = ['epoch', ...Object.keys(info).filter((k) => k !== 'epoch' && typeof info[k] === 'number')];
        throw new RangeError(`ModelCheckpoint path ${this.path}: {${name}} is not reported; the fields are ${keys.join(', ')}`);
      }
      if (spec === undefined) return String(v);
      if (spec.endsWith('f')) return v.toFixed(Number(spec.slice(1, -1)));
      const width = Number(spec.slice(0, -1) || '0');
      return String(Math.round(v)).padStart(width, spec.startsWith('0') ? '0' : ' ');
    });
  }

  async onEpochEnd(info: EpochInfo, fit: FitContext): Promise<void> {
    if (this.saveBestOnly) {
      const current = this.monitor.value(info);
      if (this.firstEpoch) {
        this.best = this.monitor.worst;
        this.firstEpoch = false;
      }
      if (!this.monitor.improves(current, this.best)) return;
      this.best = current;
    }
    const file = this.fileFor(info);
    const values = Object.fromEntries(Object.entries(info).filter(([, v]) => typeof v === 'number'));
    await fit.network.save(file, { metadata: { 'nodenn.checkpoint': JSON.stringify(values) } });
    this.saved.push(file);
  }
}

/** Options of ReduceLROnPlateau. */
export interface ReduceLROnPlateauOptions {
  /** The value to watch (default 'valLoss'). */
  monitor?: string;
  /** The rate is multiplied by this when it plateaus (default 0.1; in (0, 1)). */
  factor?: number;
  /** Epochs without improvement before the rate is lowered (default 10). */
  patience?: number;
  /** The smallest change that counts as an improvement (default 1e-4). */
  minDelta?: number;
  mode?: 'auto' | Direction;
  /** Epochs to wait after lowering the rate before counting again (default 0). */
  cooldown?: number;
  /** The rate is never lowered below this (default 0). */
  minLr?: number;
}

/**
 * Lowers the learning rate by `factor` when the monitored value has not improved by more than minDelta for
 * `patience` epochs (Keras's ReduceLROnPlateau, step for step), never below minLr, then waits `cooldown` epochs. It
 * lowers the optimizer's base rate (setBaseLr): with a schedule, the schedule scales the lowered rate.
 */
export class ReduceLROnPlateau implements Callback {
  readonly factor: number;
  readonly patience: number;
  readonly minDelta: number;
  readonly cooldown: number;
  readonly minLr: number;
  best = NaN;
  private readonly monitor: Monitor;
  private wait = 0;
  private cooldownCounter = 0;
  private firstEpoch = true;

  constructor(opts: ReduceLROnPlateauOptions = {}) {
    const o = optionsObject(opts, 'ReduceLROnPlateau options');
    knownOptions(o, ['monitor', 'factor', 'patience', 'minDelta', 'mode', 'cooldown', 'minLr'], 'ReduceLROnPlateau');
    this.monitor = new Monitor('ReduceLROnPlateau', o.monitor ?? 'valLoss', o.mode ?? 'auto');
    this.factor = numberIn(o.factor ?? 0.1, 'ReduceLROnPlateau factor', '(0, 1)', 'it multiplies the rate');
    this.patience = nonNegativeInt(o.patience ?? 10, 'ReduceLROnPlateau patience');
    this.minDelta = nonNegativeNumber(o.minDelta ?? 1e-4, 'ReduceLROnPlateau minDelta');
    this.cooldown = nonNegativeInt(o.cooldown ?? 0, 'ReduceLROnPlateau cooldown');
    this.minLr = nonNegativeNumber(o.minLr ?? 0, 'ReduceLROnPlateau minLr');
  }

  onTrainBegin(_info: TrainBeginInfo, fit: FitContext): void {
    if (typeof (fit.optimizer as Partial<Optimizer>).setBaseLr !== 'function') {
      throw new TypeError('ReduceLROnPlateau needs an optimizer with setBaseLr() (a nodenn Optimizer)');
    }
    this.monitor.begin(fit);
    this.best = NaN;
    this.firstEpoch = true;
    this.wait = 0;
    this.cooldownCounter = 0;
  }

  onEpochEnd(info: EpochInfo, fit: FitContext): void {
    const current = this.monitor.value(info);
    if (this.firstEpoch) {
      this.best = this.monitor.worst;
      this.firstEpoch = false;
    }
    if (this.cooldownCounter > 0) {
      this.cooldownCounter--;
      this.wait = 0;
    }
    if (this.monitor.improves(current, this.best, this.minDelta)) {
      this.best = current;
      this.wait = 0;
    } else if (this.cooldownCounter === 0) {
      this.wait++;
      if (this.wait >= this.patience) {
        const lr = fit.optimizer.baseLr;
        if (lr > this.minLr) {
          fit.optimizer.setBaseLr(Math.max(lr * this.factor, this.minLr));
          this.cooldownCounter = this.cooldown;
          this.wait = 0;
        }
      }
    }
  }
}
