// Optimizers' and schedules' options at their boundaries, on every backend: every refusal named, the defaults,
// optimizers by name, the schedule checks, a step over mismatched gradients, and gradient clipping exactly at and
// above the limit. (Update rules and golden values: optimizers.spec.ts.)
import { beforeEach, describe, expect, it } from 'vitest';
import {
  AdaGrad, Adam, AdamW, clipGradNorm, cosineDecay, exponentialDecay, oneCycle, OPTIMIZER_NAMES, optimizerFromName,
  RMSProp, SGD, schedules, stepDecay, warmupCosine,
} from '../src/optimizers';
import { Tensor } from '../src/tensor';
import { backends, useBackend } from './helpers';

const f64 = (data: number[]) => new Tensor(Float64Array.from(data), [data.length]);

describe.each(backends)('optimizer options on $label', (bc) => {
  beforeEach(() => useBackend(bc));

  it('schedules: options objects and their values', () => {
    expect(() => stepDecay(null as never)).toThrow(new TypeError('stepDecay options must be an options object, got null'));
    expect(() => exponentialDecay(3 as never)).toThrow(new TypeError('exponentialDecay options must be an options object, got 3'));
    expect(() => cosineDecay([] as never)).toThrow(new TypeError('cosineDecay options must be an options object, got an array of length 0'));
    for (const stepSize of [0, 1.5, -2]) {
      expect(() => stepDecay({ stepSize }), String(stepSize)).toThrow(new RangeError(`stepDecay stepSize must be a positive integer, got ${stepSize}`));
    }
    // a value of another type is a TypeError, with the same words
    expect(() => stepDecay({ stepSize: '3' as never })).toThrow(new TypeError("stepDecay stepSize must be a positive integer, got the string '3'"));
    for (const gamma of [0, -0.5, NaN, Infinity]) {
      expect(() => exponentialDecay({ gamma }), String(gamma)).toThrow(new RangeError(`exponentialDecay gamma must be a positive number, got ${gamma}`));
    }
    expect(() => stepDecay({ stepSize: 2, gamma: 0 })).toThrow(/stepDecay gamma must be a positive number, got 0/);
    for (const minLr of [-0.1, NaN, Infinity]) expect(() => cosineDecay({ tMax: 4, minLr }), String(minLr)).toThrow(RangeError);
    expect(() => cosineDecay({ tMax: 4, minLr: '0' as never })).toThrow(TypeError);
    expect(() => cosineDecay({ tMax: 4, minLr: -1 })).toThrow(new RangeError('cosineDecay minLr must be a non-negative number, got -1'));
    expect(() => cosineDecay({ tMax: 0 })).toThrow(new RangeError('cosineDecay tMax must be a positive integer, got 0'));
    // a floor of 0 is allowed: the rate goes to 0 and stays there
    const c = cosineDecay({ tMax: 4, minLr: 0 });
    expect([0, 2, 4, 9].map((e) => c(e, 0.8))).toEqual([0.8, expect.closeTo(0.4, 15), 0, 0]);
    expect([0, 1, 2, 3].map((e) => stepDecay({ stepSize: 2, gamma: 0.5 })(e, 1))).toEqual([1, 1, 0.5, 0.5]);
  });

  it('optimizer options: lr, schedule, clipNorm, and each optimizer\'s own; the boundaries of [0, 1] and [0, 1)', () => {
    expect(() => new SGD(null as never)).toThrow(new TypeError('optimizer options must be an options object, got null'));
    expect(() => new SGD({ lr: 0 })).toThrow(new RangeError('lr must be a positive number, got 0'));
    expect(() => new Adam({ schedule: 3 as never })).toThrow(new TypeError('schedule must be a function (epoch, lr, position) => lr, got 3'));
    expect(() => new Adam({ clipNorm: -1 })).toThrow(new RangeError('clipNorm must be a positive number, got -1'));
    // momentum and RMSProp's decay may be 1; Adam's betas may not
    expect(new SGD({ momentum: 1 }).momentum).toBe(1);
    expect(() => new SGD({ momentum: 1.01 })).toThrow(new RangeError('momentum must be in [0, 1], got 1.01'));
    expect(new RMSProp({ decay: 1 }).decay).toBe(1);
    expect(() => new RMSProp({ decay: -0.1 })).toThrow(new RangeError('decay must be in [0, 1], got -0.1'));
    expect(new Adam({ beta1: 0, beta2: 0 }).beta2).toBe(0);
    expect(() => new Adam({ beta1: 1 })).toThrow(new RangeError('beta1 must be in [0, 1), got 1'));
    expect(() => new Adam({ beta2: 1 })).toThrow(new RangeError('beta2 must be in [0, 1), got 1'));
    expect(() => new Adam({ beta2: NaN })).toThrow(/beta2 must be in \[0, 1\), got NaN/);
    // eps: each default, a given one kept, one outside the kernels' (0, 1] refused by name
    expect([new AdaGrad().eps, new RMSProp().eps, new Adam().eps, new AdamW().eps]).toEqual([1e-7, 1e-7, 1e-8, 1e-8]);
    expect([new AdaGrad({ eps: 0.5 }).eps, new RMSProp({ eps: 0.25 }).eps, new Adam({ eps: 0.125 }).eps]).toEqual([0.5, 0.25, 0.125]);
    expect(() => new AdaGrad({ eps: 0 })).toThrow(new RangeError('eps must be in (0, 1], got 0'));
    expect(() => new RMSProp({ eps: -1 })).toThrow(new RangeError('eps must be in (0, 1], got -1'));
    expect(() => new Adam({ eps: 0 })).toThrow(new RangeError('eps must be in (0, 1], got 0'));
    expect(() => new Adam({ eps: 1.5 })).toThrow(new RangeError('eps must be in (0, 1], got 1.5'));
    expect(new Adam({ eps: 1 }).eps).toBe(1);
    // AdamW's decoupled weight decay: 0.01 by default, 0 allowed, a negative or non-finite one refused
    expect([new AdamW().weightDecay, new AdamW({ weightDecay: 0 }).weightDecay]).toEqual([0.01, 0]);
    for (const wd of [-0.1, NaN, Infinity]) expect(() => new AdamW({ weightDecay: wd }), String(wd)).toThrow(RangeError);
    expect(() => new AdamW({ weightDecay: '0.1' as never })).toThrow(TypeError);
    expect(() => new AdamW({ weightDecay: -1 })).toThrow(new RangeError('weightDecay must be a non-negative number, got -1'));
  });

  it('optimizers by name, with their defaults; an unknown name lists the names', () => {
    const made = OPTIMIZER_NAMES.map((n) => optimizerFromName(n));
    expect(made.map((o) => o.constructor.name)).toEqual(['SGD', 'SGD', 'Adam', 'AdamW', 'RMSProp', 'AdaGrad']);
    expect([(made[0] as SGD).momentum, (made[1] as SGD).momentum]).toEqual([0, 0.9]);
    expect(made.map((o) => o.baseLr)).toEqual([0.01, 0.01, 0.001, 0.001, 0.01, 0.01]);
    expect(() => optimizerFromName('lion' as never)).toThrow(new RangeError(
      "optimizer must be one of 'sgd', 'momentum', 'adam', 'adamw', 'rmsprop', 'adagrad', got the string 'lion'"));
  });

  it('the schedule is checked for exactly the epochs asked; a rate of 0 is allowed; setEpoch takes epoch numbers', () => {
    const opt = new SGD({ lr: 0.5, schedule: (e) => (e < 3 ? 0.1 * e : -1) });
    opt.checkSchedule(3);  // epochs 0, 1 and 2: rates 0, 0.1, 0.2
    expect(opt.lr).toBe(0);
    expect(() => opt.checkSchedule(4)).toThrow(new RangeError(
      'the learning-rate schedule gave -1 for epoch 3 (0-based); a learning rate must be a finite number >= 0'));
    for (const epoch of [-1, 1.5, NaN]) expect(() => opt.setEpoch(epoch), String(epoch)).toThrow(RangeError);
    expect(() => opt.setEpoch('2' as never)).toThrow(TypeError);
    expect(() => opt.setEpoch(-1)).toThrow(new RangeError('epoch must be a non-negative integer, got -1'));
    opt.setEpoch(2);
    expect(opt.lr).toBeCloseTo(0.2, 15);
    const bad = new SGD({ schedule: () => Infinity });
    expect(() => bad.lr).toThrow(/the learning-rate schedule gave Infinity for epoch 0/);
  });

  it('a step refuses a gradient of another size or dtype, naming the parameter, before updating anything', () => {
    const w = f64([1, 2]), b = f64([3]);
    const opt = new SGD({ lr: 1 });
    expect(() => opt.step([{ param: w, grad: f64([1, 1]) }, { name: '0.bias', param: b, grad: f64([1, 1]) }]))
      .toThrow(new RangeError('0.bias: gradient and parameter differ in size or dtype'));
    expect(() => opt.step([{ param: w, grad: new Tensor([1, 1], [2]) }])).toThrow(new RangeError('a parameter: gradient and parameter differ in size or dtype'));
    expect([w.toArray(), b.toArray()]).toEqual([[1, 2], [3]]);
    expect(opt.iterations).toBe(0);
  });

  it('a step takes tensors with a .grad and { param, grad } pairs, skips a tensor without one, refuses the rest', () => {
    const a = f64([1, 2]), b = f64([3]), c = f64([5]);
    a.grad = f64([1, 1]);
    const opt = new SGD({ lr: 1 });
    opt.step([a, b, { param: c, grad: f64([2]) }]);
    expect([a.toArray(), b.toArray(), c.toArray()]).toEqual([[0, 1], [3], [3]]);
    const pair = { param: c, grad: f64([2]) };
    const refused: [unknown, string][] = [[null, 'null'], [5, '5'], [{ param: c }, 'an object'],
      [{ param: c, grad: [2] }, 'an object'], [{ param: [5], grad: f64([2]) }, 'an object'],
      [Object.assign(() => 0, pair), 'a function']];
    for (const [bad, got] of refused) {
      expect(() => opt.step([pair, bad as Tensor])).toThrow(
        new TypeError(`step: each parameter must be a Tensor or a { param, grad } pair, got ${got}`));
    }
    expect(c.toArray()).toEqual([3]);
  });

  it('clipGradNorm: gradients at the limit are left alone; above it they are scaled to just under it', () => {
    const at = { param: f64([0, 0]), grad: f64([3, 4]) };
    expect(clipGradNorm([at], 5)).toBe(5);
    expect(at.grad.toArray()).toEqual([3, 4]);
    const above = [{ param: f64([0, 0]), grad: f64([6, 8]) }, { param: f64([0]), grad: f64([0]) }];
    expect(clipGradNorm(above, 5)).toBe(10);
    const norm = Math.hypot(...above[0].grad.toArray());
    expect(norm).toBeLessThan(5);
    expect(norm).toBeCloseTo(5, 5);
    expect(above[0].grad.data[0] / above[0].grad.data[1]).toBeCloseTo(0.75, 14);
    expect(() => clipGradNorm(above, 0)).toThrow(new RangeError('maxNorm must be a positive number, got 0'));
  });
});

describe.each(backends)('option lists, zeroGrad and mismatched gradients on $label', (bc) => {
  beforeEach(() => useBackend(bc));

  it('each optimizer names its own options when it refuses one; a subclass without its own list is not checked', () => {
    const base = 'lr, schedule, clipNorm';
    const lists: [string, () => unknown, string][] = [
      ['SGD', () => new SGD({ foo: 1 } as never), `${base}, momentum, nesterov`],
      ['AdaGrad', () => new AdaGrad({ foo: 1 } as never), `${base}, eps`],
      ['RMSProp', () => new RMSProp({ foo: 1 } as never), `${base}, decay, eps`],
      ['Adam', () => new Adam({ foo: 1 } as never), `${base}, beta1, beta2, eps`],
      ['AdamW', () => new AdamW({ foo: 1 } as never), `${base}, beta1, beta2, eps, weightDecay`],
    ];
    for (const [name, make, names] of lists) {
      expect(make, name).toThrow(new TypeError(`unknown ${name} option 'foo'; the options are ${names}`));
    }
    class Tuned extends SGD {
      readonly boost: number;
      constructor(opts: { lr?: number; boost?: number }) { super(opts); this.boost = opts.boost ?? 1; }
    }
    expect(new Tuned({ lr: 0.5, boost: 3 }).boost).toBe(3);
    expect(Object.keys(schedules)).toEqual(['step', 'exponential', 'cosine', 'warmupCosine', 'oneCycle']);
    expect([schedules.step, schedules.exponential, schedules.cosine, schedules.warmupCosine, schedules.oneCycle])
      .toEqual([stepDecay, exponentialDecay, cosineDecay, warmupCosine, oneCycle]);
  });

  it('a gradient of another size or dtype than its parameter is refused by name, nothing updated', () => {
    const p = f64([1, 2]);
    const opt = new SGD({ lr: 0.5 });
    expect(() => opt.step([{ name: 'w', param: p, grad: f64([1, 1, 1]) }]))
      .toThrow(new RangeError('w: gradient and parameter differ in size or dtype'));
    expect(() => opt.step([{ param: p, grad: f64([1, 1]).astype('float32') }]))
      .toThrow(new RangeError('a parameter: gradient and parameter differ in size or dtype'));
    expect(Array.from(p.data)).toEqual([1, 2]);
    expect(opt.iterations).toBe(0);
  });

  it('zeroGrad clears the gradients of the last step, or of the list given: tensors to null, ParamRefs to 0', () => {
    const opt = new SGD({ lr: 0.5 });
    opt.zeroGrad();  // before any step: nothing to clear
    const t = f64([1, 2]);
    t.grad = f64([2, 4]);
    const ref = { param: f64([3]), grad: f64([2]) };
    opt.step([t, ref]);
    expect([Array.from(t.data), Array.from(ref.param.data)]).toEqual([[0, 0], [2]]);
    opt.zeroGrad();
    expect(t.grad).toBeNull();
    expect(Array.from(ref.grad.data)).toEqual([0]);
    const other = f64([5]);
    other.grad = f64([7]);
    const otherRef = { param: f64([1]), grad: f64([9, 9]) };
    opt.zeroGrad([other, otherRef]);
    expect(other.grad).toBeNull();
    expect(Array.from(otherRef.grad.data)).toEqual([0, 0]);
    for (const [bad, shown] of [[5, '5'], [{ length: 1 }, 'an object']] as const) {
      expect(() => opt.zeroGrad(bad as never)).toThrow(new TypeError(`zeroGrad: params must be an array of parameters, got ${shown}`));
      expect(() => opt.step(bad as never)).toThrow(new TypeError(`step: params must be an array of parameters, got ${shown}`));
    }
    expect(opt.iterations).toBe(1);
  });
});

describe('per-step schedules and the schedule position at their boundaries', () => {
  const at = (step: number, totalSteps?: number) => ({ epoch: 0, step, stepsPerEpoch: undefined, totalSteps });

  it('warmupCosine: each option named; warmupSteps a non-negative integer; a warmup fraction with totalSteps', () => {
    expect(() => warmupCosine(null as never)).toThrow(new TypeError('warmupCosine options must be an options object, got null'));
    expect(() => warmupCosine({ warmupSteps: 1.5 })).toThrow(new RangeError('warmupCosine warmupSteps must be a non-negative integer, got 1.5'));
    expect(() => warmupCosine({ warmupSteps: 1, totalSteps: 0 })).toThrow(new RangeError('warmupCosine totalSteps must be a positive integer, got 0'));
    // no warmup at all: cosine from the first step
    expect(warmupCosine({ warmupSteps: 0, totalSteps: 4 })(0, 0.8, at(0))).toBe(0.8);
    expect(warmupCosine({ warmupSteps: 0, totalSteps: 4 })(0, 0.8, at(2))).toBeCloseTo(0.4, 15);
    // a fraction and a total: 2 warmup steps of 10
    const s = warmupCosine({ warmupFraction: 0.2, totalSteps: 10 });
    expect([0, 1, 2].map((t) => s(0, 1, at(t)))).toEqual([0, 0.5, 1]);
  });

  it('oneCycle: each option named; pctStart 0 refused; a phase of one step is refused by name', () => {
    expect(() => oneCycle(null as never)).toThrow(new TypeError('oneCycle options must be an options object, got null'));
    expect(() => oneCycle({ pctStart: 0 })).toThrow(new RangeError('oneCycle pctStart must be in (0, 1), got 0'));
    expect(() => oneCycle({ finalDivFactor: 0 })).toThrow(new RangeError('oneCycle finalDivFactor must be a positive number, got 0'));
    // 4 steps with pctStart 0.25: the warmup would end at step 0, where it starts
    expect(() => oneCycle({ totalSteps: 4, pctStart: 0.25 })(0, 1, at(0))).toThrow(new RangeError(
      'oneCycle over 4 steps with pctStart 0.25 leaves a phase without steps; train for more steps or change pctStart'));
    expect(oneCycle({ totalSteps: 5, pctStart: 0.4 })(0, 1, at(1))).toBe(1);
  });

  it('setStep takes step numbers; startSchedule names its plan; schedulePosition is a copy of where training is', () => {
    const opt = new SGD({ lr: 0.5 });
    // a number out of range is a RangeError, a value of another type a TypeError
    for (const [step, message, E] of [[1.5, '1.5', RangeError], [-1, '-1', RangeError], ['2', "the string '2'", TypeError]] as const) {
      expect(() => opt.setStep(step as number), String(step)).toThrow(new E(`step must be a non-negative integer, got ${message}`));
    }
    expect(() => opt.startSchedule(null as never)).toThrow(new TypeError('schedule plan must be an options object, got null'));
    expect(() => opt.startSchedule({ epochs: 0, stepsPerEpoch: 2 })).toThrow(new RangeError('epochs must be a positive integer, got 0'));
    expect(() => opt.startSchedule({ epochs: 2, stepsPerEpoch: 0 })).toThrow(new RangeError('stepsPerEpoch must be a positive integer, got 0'));
    opt.startSchedule({ epochs: 2, stepsPerEpoch: 3 });
    opt.setEpoch(1);
    opt.setStep(0);
    opt.setStep(4);
    const pos = opt.schedulePosition;
    expect(pos).toEqual({ epoch: 1, step: 4, stepsPerEpoch: 3, totalSteps: 6 });
    pos.step = 99;
    expect(opt.schedulePosition.step).toBe(4);
  });

  it('checkSchedule asks for the first step of every epoch (e · stepsPerEpoch) and its last', () => {
    const firstOfSecond = new SGD({ lr: 0.1, schedule: (_e, lr, p) => (p!.step === 3 ? -1 : lr) });
    expect(() => firstOfSecond.checkSchedule(2, 3)).toThrow(new RangeError(
      'the learning-rate schedule gave -1 for epoch 1 (0-based), step 3 (0-based); a learning rate must be a finite number >= 0'));
    firstOfSecond.checkSchedule(1, 3);
  });
});
