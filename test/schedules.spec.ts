// Per-step learning-rate schedules: linear warmup + cosine and one-cycle, step by step against values computed
// independently (a plain Python transcription of PyTorch's OneCycleLR.get_lr, and of LinearLR followed by
// CosineAnnealingLR in SequentialLR, closed form), inside and outside fit(); epoch schedules unchanged.
import { describe, expect, it } from 'vitest';
import { Dense } from '../src/layers/index';
import { Sequential } from '../src/network';
import { Adam, SGD, oneCycle, stepDecay, warmupCosine, type LrSchedule, type Optimizer } from '../src/optimizers';
import { Tensor } from '../src/tensor';
import { randn } from './helpers';

/** The rate of each of `steps` optimizer steps taken outside fit() (step() advances the schedule). */
function rates(opt: Optimizer, steps: number): number[] {
  const p = { param: Tensor.zeros([1], 'float64'), grad: Tensor.zeros([1], 'float64') };
  const out: number[] = [];
  for (let i = 0; i < steps; i++) {
    out.push(opt.lr);
    opt.step([p]);
  }
  return out;
}

function expectRates(actual: number[], expected: number[]): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((v, i) => expect(v, `step ${i}`).toBeCloseTo(expected[i], 15));
}

// torch.optim.lr_scheduler.OneCycleLR(max_lr=0.1, total_steps=10, cycle_momentum=False), get_last_lr() per step
const ONE_CYCLE_10 = [0.0040000000000000036, 0.052000000000000005, 0.1, 0.09504846320134738, 0.0811745653949763,
  0.06112620219362893, 0.03887419780637107, 0.0188258346050237, 0.004951936798652629, 4e-7];
// the same with three_phase=True, anneal_strategy='linear'
const ONE_CYCLE_10_THREE_LINEAR = [0.004, 0.052000000000000005, 0.1, 0.052000000000000005, 0.0040000000000000036,
  0.00320008, 0.00240016, 0.0016002400000000002, 0.0008003200000000002, 4.0000000000022656e-7];
// SequentialLR([LinearLR(start_factor=s, total_iters=w), CosineAnnealingLR(T_max=T-w, eta_min)], milestones=[w]),
// base lr 0.1: (T 8, w 3, s 0 (from 0), eta_min 0) and (T 8, w 2, s 0.5, eta_min 0.01)
const WARMUP_COSINE_8_3 = [0, 0.03333333333333333, 0.06666666666666667, 0.1, 0.09045084971874738, 0.06545084971874737,
  0.03454915028125263, 0.009549150281252633];
const WARMUP_COSINE_8_2_HALF = [0.05, 0.07500000000000001, 0.1, 0.09397114317029975, 0.0775, 0.05500000000000001,
  0.032500000000000015, 0.01602885682970026];

describe('per-step learning-rate schedules', () => {
  it('oneCycle gives PyTorch OneCycleLR\'s rate at every step (two phases, cos; three phases, linear)', () => {
    expectRates(rates(new SGD({ lr: 0.1, schedule: oneCycle({ totalSteps: 10 }) }), 10), ONE_CYCLE_10);
    expectRates(rates(new SGD({ lr: 0.1, schedule: oneCycle({ totalSteps: 10, threePhase: true, anneal: 'linear' }) }), 10),
      ONE_CYCLE_10_THREE_LINEAR);
    // hand-checkable points: it starts at lr / divFactor, peaks at lr after pctStart of the steps, ends at
    // lr / (divFactor · finalDivFactor)
    const r = rates(new Adam({ lr: 1, schedule: oneCycle({ totalSteps: 20, pctStart: 0.25, divFactor: 10, finalDivFactor: 100 }) }), 20);
    expect(r[0]).toBeCloseTo(0.1, 15);
    expect(r[4]).toBe(1);
    expect(r[19]).toBeCloseTo(0.001, 15);
  });

  it('warmupCosine: linear warmup then cosine to minLr, PyTorch LinearLR + CosineAnnealingLR in SequentialLR', () => {
    expectRates(rates(new SGD({ lr: 0.1, schedule: warmupCosine({ warmupSteps: 3, totalSteps: 8 }) }), 8), WARMUP_COSINE_8_3);
    expectRates(rates(new SGD({ lr: 0.1, schedule: warmupCosine({ warmupSteps: 2, totalSteps: 8, minLr: 0.01, startFactor: 0.5 }) }), 8),
      WARMUP_COSINE_8_2_HALF);
    // warmupFraction of the total, rounded down: 0.4 · 8 = 3.2 → 3 steps
    expectRates(rates(new SGD({ lr: 0.1, schedule: warmupCosine({ warmupFraction: 0.4, totalSteps: 8 }) }), 8), WARMUP_COSINE_8_3);
  });

  it('inside fit() a per-step schedule gets fit\'s step count: every batch\'s rate, restarted by each fit()', async () => {
    // 20 samples at batch 5: 4 steps per epoch, 2 epochs = 8 steps, as WARMUP_COSINE_8_3
    const x = randn([20, 3], 1).astype('float32'), y = Int32Array.from({ length: 20 }, (_, i) => i % 2);
    const net = new Sequential([new Dense(3, 2)], { seed: 1 });
    const optimizer = new SGD({ lr: 0.1, schedule: warmupCosine({ warmupSteps: 3 }) });
    for (let run = 0; run < 2; run++) {
      const seen: number[] = [];
      const h = await net.fit(x, y, { optimizer, epochs: 2, batchSize: 5, onBatchEnd: (b) => { seen.push(b.lr); } });
      expectRates(seen, WARMUP_COSINE_8_3);
      expect(h.lr).toEqual([seen[3], seen[7]]);
    }
    // oneCycle over fit's 10 steps (5 epochs of 2 batches)
    const cyc = new SGD({ lr: 0.1, schedule: oneCycle() }), seen: number[] = [];
    await net.fit(x, y, { optimizer: cyc, epochs: 5, batchSize: 10, onBatchEnd: (b) => { seen.push(b.lr); } });
    expectRates(seen, ONE_CYCLE_10);
  });

  it('the rate reported is the rate used: SGD moves a weight by exactly lr · gradient', async () => {
    const net = new Sequential([new Dense(1, 1, { init: 'zeros' })], { seed: 1, dtype: 'float64' });
    const x = Tensor.full([4, 1], 1, 'float64'), y = Tensor.full([4, 1], 1, 'float64');
    const lrs: number[] = [], bias: number[] = [];
    await net.fit(x, y, { loss: 'mse', optimizer: new SGD({ lr: 0.1, schedule: warmupCosine({ warmupSteps: 1 }) }), epochs: 3,
      batchSize: 4, shuffle: false, onBatchEnd: (b) => { lrs.push(b.lr); bias.push(net.layers[0].params[1].data[0]); } });
    // step 0 warms up from 0: the bias does not move
    expect(lrs[0]).toBe(0);
    expect(bias[0]).toBe(0);
    expect(lrs[1]).toBeCloseTo(0.1, 15);
  });

  it('epoch schedules keep their rate for the whole epoch', async () => {
    const x = randn([20, 3], 2).astype('float32'), y = Int32Array.from({ length: 20 }, (_, i) => i % 2);
    const net = new Sequential([new Dense(3, 2)], { seed: 1 });
    const seen: number[] = [];
    const h = await net.fit(x, y, { optimizer: new SGD({ lr: 0.1, schedule: stepDecay({ stepSize: 1, gamma: 0.5 }) }), epochs: 3,
      batchSize: 10, onBatchEnd: (b) => { seen.push(b.lr); } });
    expect(seen).toEqual([0.1, 0.1, 0.05, 0.05, 0.025, 0.025]);
    expect(h.lr).toEqual([0.1, 0.05, 0.025]);
  });

  it('a schedule built for fewer steps than fit() runs stops fit() before the first batch', async () => {
    const x = randn([20, 3], 3).astype('float32'), y = Int32Array.from({ length: 20 }, (_, i) => i % 2);
    const net = new Sequential([new Dense(3, 2)], { seed: 1 });
    const before = Float32Array.from(net.layers[0].params[0].data);
    let batches = 0;
    await expect(net.fit(x, y, { optimizer: new SGD({ schedule: oneCycle({ totalSteps: 7 }) }), epochs: 2, batchSize: 5,
      onBatchEnd: () => { batches++; } }))
      .rejects.toThrow('oneCycle was built for 7 steps but training has reached step 8; give it totalSteps that cover the whole training');
    await expect(net.fit(x, y, { optimizer: new SGD({ schedule: warmupCosine({ warmupSteps: 8 }) }), epochs: 2, batchSize: 5 }))
      .rejects.toThrow('warmupCosine warmupSteps (8) must be below the total steps (8)');
    expect(batches).toBe(0);
    expect(net.layers[0].params[0].data).toEqual(before);
  });

  it('options are checked, and a per-step schedule outside fit() needs totalSteps', () => {
    expect(() => warmupCosine({})).toThrow(new TypeError('warmupCosine needs one of warmupSteps (a number of steps) or warmupFraction (of the total steps)'));
    expect(() => warmupCosine({ warmupSteps: 2, warmupFraction: 0.1 })).toThrow(/needs one of warmupSteps/);
    expect(() => warmupCosine({ warmupSteps: -1 })).toThrow('warmupCosine warmupSteps must be a non-negative integer, got -1');
    expect(() => warmupCosine({ warmupSteps: 10, totalSteps: 10 })).toThrow('warmupCosine warmupSteps (10) must be below totalSteps (10)');
    expect(() => warmupCosine({ warmupFraction: 1 })).toThrow('warmupCosine warmupFraction must be in [0, 1), got 1');
    expect(() => warmupCosine({ warmupSteps: 1, minLr: -1 })).toThrow('warmupCosine minLr must be a non-negative number, got -1');
    expect(() => warmupCosine({ warmupSteps: 1, startFactor: 2 })).toThrow('warmupCosine startFactor must be in [0, 1], got 2');
    expect(() => oneCycle({ pctStart: 1 })).toThrow('oneCycle pctStart must be in (0, 1), got 1');
    expect(() => oneCycle({ pctStart: '0.3' as never })).toThrow("oneCycle pctStart must be in (0, 1), got the string '0.3'");
    expect(() => oneCycle({ totalSteps: 2.5 })).toThrow('oneCycle totalSteps must be a positive integer, got 2.5');
    expect(() => oneCycle({ divFactor: 0 })).toThrow('oneCycle divFactor must be a positive number, got 0');
    expect(() => oneCycle({ anneal: 'exp' as never })).toThrow("oneCycle anneal must be 'cos' or 'linear', got the string 'exp'");
    expect(() => oneCycle({ threePhase: 1 as never })).toThrow('oneCycle threePhase must be true or false, got 1');
    // 3 steps with pctStart 0.3: the warmup phase would end at step −0.1
    expect(() => new SGD({ schedule: oneCycle({ totalSteps: 3 }) }).lr).toThrow(/leaves a phase without steps/);
    expect(() => new SGD({ schedule: oneCycle() }).lr).toThrow('oneCycle needs totalSteps when it is used outside fit() (fit() tells it epochs × batches)');
    // past the end, as PyTorch
    const done = new SGD({ schedule: oneCycle({ totalSteps: 4 }) });
    rates(done, 4);
    expect(() => done.lr).toThrow('oneCycle was built for 4 steps but training has reached step 5');
    // called by hand without a position
    expect(() => (oneCycle({ totalSteps: 4 }) as LrSchedule)(0, 0.1)).toThrow(/per-step schedule: call it with \(epoch, lr, \{ step, \.\.\. \}\)/);
  });

  it('a per-step schedule that gives a bad rate is named with its epoch and step', () => {
    // fit() checks each epoch's first and last step before training (3 epochs of 4 steps: 0, 3, 4, 7, 8, 11) ...
    const opt = new SGD({ lr: 0.1, schedule: (_e, lr, at) => (at!.step === 7 || at!.step === 5 ? NaN : lr) });
    expect(() => opt.checkSchedule(3, 4)).toThrow('the learning-rate schedule gave NaN for epoch 1 (0-based), step 7 (0-based); a learning rate must be a finite number >= 0');
    // ... and every step's rate as it is used
    opt.setEpoch(1);
    opt.setStep(5);
    expect(() => opt.lr).toThrow('the learning-rate schedule gave NaN for epoch 1 (0-based), step 5 (0-based)');
  });

  it('setBaseLr changes the rate a schedule scales; it is checked', () => {
    const opt = new SGD({ lr: 0.1, schedule: stepDecay({ stepSize: 1, gamma: 0.5 }) });
    opt.setEpoch(1);
    expect(opt.lr).toBe(0.05);
    opt.setBaseLr(0.02);
    expect(opt.baseLr).toBe(0.02);
    expect(opt.lr).toBe(0.01);
    expect(() => opt.setBaseLr(0)).toThrow('lr must be a positive number, got 0');
    expect(() => opt.setStep(-1)).toThrow('step must be a non-negative integer, got -1');
  });
});
