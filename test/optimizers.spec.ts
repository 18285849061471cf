// Each optimizer against its update rule on hand-computed values (3 steps, a different gradient each step;
// expected values computed independently in float64 by a plain Python transcription of the formulas), the
// learning-rate schedules and gradient clipping, on every backend.
import { beforeEach, describe, expect, it } from 'vitest';
import {
  AdaGrad, Adam, AdamW, type Optimizer, RMSProp, SGD, clipGradNorm, cosineDecay, exponentialDecay, stepDecay,
} from '../src/optimizers';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Dense, ReLU } from '../src/layers/index';
import { Sequential } from '../src/network';
import { Tensor } from '../src/tensor';
import { backends, expectClose, useBackend } from './helpers';

const gradients = [[0.5, -1, 0], [0.2, 0.3, -4], [-0.7, 1.5, 2]];

const cases: [string, () => Optimizer, number[][]][] = [
  ['SGD', () => new SGD({ lr: 0.1 }), [[0.95, -1.9, 0.5], [0.93, -1.93, 0.9], [1.0, -2.08, 0.7]]],
  ['SGD momentum', () => new SGD({ lr: 0.1, momentum: 0.9 }), [[0.95, -1.9, 0.5], [0.885, -1.84, 0.9], [0.8965, -1.936, 1.06]]],
  ['SGD Nesterov', () => new SGD({ lr: 0.1, momentum: 0.9, nesterov: true }),
    [[0.905, -1.81, 0.5], [0.8265, -1.786, 1.26], [0.90685, -2.0224, 1.204]]],
  ['AdaGrad', () => new AdaGrad({ lr: 0.1, eps: 1e-7 }), [[0.900000019999996, -1.90000001, 0.5],
    [0.862860959261136, -1.92873479580434, 0.5999999975], [0.9421203426769, -2.01081113958801, 0.555278638950004]]],
  ['RMSProp', () => new RMSProp({ lr: 0.1, decay: 0.9, eps: 1e-7 }), [[0.683772433983036, -1.68377233398313, 0.5],
    [0.560913486087897, -1.77911856260467, 0.81622774101684], [0.820261604231681, -2.04676237863528, 0.668785795731507]]],
  ['Adam', () => new Adam({ lr: 0.1 }), [[0.900000002, -1.900000001, 0.5],
    [0.810142483902928, -1.85721514242923, 0.574413682093672], [0.818463473875773, -1.89078179284758, 0.597277719581317]]],
  ['AdamW', () => new AdamW({ lr: 0.1, weightDecay: 0.5 }), [[0.850000002, -1.800000001, 0.475],
    [0.717642483802928, -1.66721514237923, 0.525663682093672], [0.690081349585627, -1.61742103567862, 0.522244535476633]]],
];

describe.each(backends)('optimizers on $label', (bc) => {
  beforeEach(() => useBackend(bc));

  it.each(cases)('%s matches its update rule for 3 steps (float64)', (_name, make, expected) => {
    const opt = make();
    const param = new Tensor(new Float64Array([1, -2, 0.5]), [3]), grad = Tensor.zeros([3], 'float64');
    for (let t = 0; t < 3; t++) {
      grad.data.set(gradients[t]);
      opt.step([{ param, grad }]);
      expectClose(param.data, expected[t], 1e-12);
    }
    expect(opt.iterations).toBe(3);
  });

  it.each(cases)('%s gives the same steps in float32 within rounding', (_name, make, expected) => {
    const opt = make();
    const param = new Tensor(new Float32Array([1, -2, 0.5]), [3]), grad = Tensor.zeros([3]);
    for (let t = 0; t < 3; t++) {
      grad.data.set(gradients[t]);
      opt.step([{ param, grad }]);
      expectClose(param.data, expected[t], 1e-6);
    }
  });

  it('keeps separate state per parameter tensor', () => {
    const opt = new SGD({ lr: 1, momentum: 0.5 });
    const a = { param: Tensor.zeros([1], 'float64'), grad: Tensor.full([1], 1, 'float64') };
    const b = { param: Tensor.zeros([1], 'float64'), grad: Tensor.full([1], 2, 'float64') };
    opt.step([a, b]);
    opt.step([a, b]);
    expect(a.param.data[0]).toBe(-1 - 1.5);
    expect(b.param.data[0]).toBe(-2 - 3);
  });

  it('clips gradients to a global L2 norm', () => {
    const g1 = new Tensor(new Float64Array([3, 0]), [2]), g2 = new Tensor(new Float64Array([4]), [1]);
    const refs = [{ param: Tensor.zeros([2], 'float64'), grad: g1 }, { param: Tensor.zeros([1], 'float64'), grad: g2 }];
    expect(clipGradNorm(refs, 10)).toBe(5);
    expect(Array.from(g1.data)).toEqual([3, 0]);  // below the limit: untouched
    expect(clipGradNorm(refs, 1)).toBe(5);
    expectClose([g1.data[0], g2.data[0]], [0.6, 0.8], 1e-6);
    const opt = new SGD({ lr: 1, clipNorm: 0.5 });
    const p = { param: Tensor.zeros([1], 'float64'), grad: Tensor.full([1], -10, 'float64') };
    opt.step([p]);
    expectClose(p.param.data, [0.5], 1e-6);
  });
});

describe('learning-rate schedules', () => {
  it('step, exponential and cosine follow their formulas and drive the optimizer lr', () => {
    expect([0, 1, 2, 3, 4].map((e) => stepDecay({ stepSize: 2, gamma: 0.5 })(e, 1))).toEqual([1, 1, 0.5, 0.5, 0.25]);
    expect(exponentialDecay({ gamma: 0.9 })(2, 1)).toBeCloseTo(0.81, 12);
    const cos = cosineDecay({ tMax: 10, minLr: 0.1 });
    expect(cos(0, 1)).toBeCloseTo(1, 12);
    expect(cos(5, 1)).toBeCloseTo(0.55, 12);
    expect(cos(10, 1)).toBeCloseTo(0.1, 12);
    expect(cos(20, 1)).toBeCloseTo(0.1, 12);
    const opt = new SGD({ lr: 0.2, schedule: stepDecay({ stepSize: 1, gamma: 0.1 }) });
    expect(opt.lr).toBeCloseTo(0.2, 12);
    opt.setEpoch(2);
    expect(opt.lr).toBeCloseTo(0.002, 12);
  });

  it('options are validated with named errors', () => {
    expect(() => new SGD({ lr: -1 })).toThrow(/lr must be a positive number/);
    expect(() => new SGD({ lr: 0.1, momentum: 1.5 })).toThrow(/momentum must be in \[0, 1\]/);
    expect(() => new SGD({ nesterov: true })).toThrow(/nesterov needs a momentum/);
    expect(() => new Adam({ beta1: 1 })).toThrow(/beta1 must be in \[0, 1\)/);
    expect(() => new AdamW({ weightDecay: -1 })).toThrow(/weightDecay must be a non-negative/);
    expect(() => stepDecay({ stepSize: 0 })).toThrow(/stepSize/);
    expect(() => new SGD({ clipNorm: 0 })).toThrow(/clipNorm/);
  });
});

describe('one optimizer used for several networks', () => {
  const data = () => {
    const x = new Tensor(new Float32Array(40).map((_, i) => Math.sin(i)), [20, 2]);
    const y = new Int32Array(20).map((_, i) => i % 3);
    return { x, y };
  };
  const net = (seed: number) => new Sequential([new Dense(2, 6), new ReLU(), new Dense(6, 3)], { seed });
  const values = (n: Sequential) => n.parameters().map((p) => Array.from(p.param.data));

  it.each([
    ['Adam', () => new Adam({ lr: 0.01 })],
    ['AdamW', () => new AdamW({ lr: 0.01 })],
    ['SGD momentum', () => new SGD({ lr: 0.1, momentum: 0.9 })],
    ['RMSProp', () => new RMSProp({ lr: 0.01 })],
  ] as [string, () => Optimizer][])('%s reused on a second network steps it bitwise like a fresh one', async (_name, make) => {
    const { x, y } = data();
    const shared = make();
    await net(1).fit(x, y, { optimizer: shared, epochs: 3, batchSize: 5 });
    const second = net(2), fresh = net(2);
    await second.fit(x, y, { optimizer: shared, epochs: 2, batchSize: 5 });
    await fresh.fit(x, y, { optimizer: make(), epochs: 2, batchSize: 5 });
    expect(values(second)).toEqual(values(fresh));
  });

  it('Adam counts its steps per parameter: a parameter first seen at step 5 gets the bias correction of step 1', () => {
    const opt = new Adam({ lr: 0.1 });
    const a = { param: Tensor.zeros([1], 'float64'), grad: Tensor.full([1], 1, 'float64') };
    for (let i = 0; i < 4; i++) opt.step([a]);
    const b = { param: new Tensor(new Float64Array([1, -2, 0.5]), [3]), grad: Tensor.zeros([3], 'float64') };
    for (let t = 0; t < 3; t++) {
      b.grad.data.set(gradients[t]);
      opt.step([a, b]);
      expectClose(b.param.data, cases[5][2][t], 1e-12);
    }
    expect(opt.iterations).toBe(7);
  });

  it("does not keep a dropped network's parameters alive", async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const { x, y } = data();
    const shared = new Adam({ lr: 0.01 });
    const refs: WeakRef<Tensor>[] = [];
    const train = async () => {
      const n = net(refs.length);
      await n.fit(x, y, { optimizer: shared, epochs: 1, batchSize: 10 });
      for (const p of n.parameters()) refs.push(new WeakRef(p.param));
    };
    for (let i = 0; i < 3; i++) await train();
    const kept = net(7);
    await kept.fit(x, y, { optimizer: shared, epochs: 1, batchSize: 10 });
    let alive = refs.length;
    for (let round = 0; round < 10 && alive > 0; round++) {
      await new Promise((r) => setImmediate(r));
      gc();
      alive = refs.filter((r) => r.deref() !== undefined).length;
    }
    expect(alive).toBe(0);
    // the optimizer still steps the live network from its kept state
    await expect(kept.fit(x, y, { optimizer: shared, epochs: 1, batchSize: 10 })).resolves.toBeDefined();
  });
});

describe('learning rates and option values', () => {
  it('schedules refuse options that give a negative or non-finite rate', () => {
    expect(() => cosineDecay({ tMax: 10, minLr: -5 })).toThrow(/cosineDecay minLr must be a non-negative number, got -5/);
    expect(() => cosineDecay({ tMax: 10, minLr: NaN })).toThrow(/minLr must be a non-negative number, got NaN/);
    expect(() => cosineDecay({ tMax: '10' as never })).toThrow(/tMax must be a positive integer, got the string '10'/);
    expect(() => exponentialDecay({ gamma: Infinity })).toThrow(/gamma must be a positive number, got Infinity/);
    expect(() => stepDecay({ stepSize: 2, gamma: -1 })).toThrow(/gamma must be a positive number, got -1/);
  });

  it('a schedule returning a negative or NaN rate is an error naming the epoch and the value', () => {
    const p = { param: Tensor.full([1], 1, 'float64'), grad: Tensor.full([1], 1, 'float64') };
    const neg = new SGD({ lr: 0.1, schedule: (e, lr) => lr - e });
    neg.setEpoch(1);
    expect(() => neg.lr).toThrow(/the learning-rate schedule gave -0.9 for epoch 1 \(0-based\)/);
    expect(() => neg.step([p])).toThrow(RangeError);
    expect(p.param.data[0]).toBe(1);  // not stepped
    const nan = new Adam({ schedule: () => NaN });
    expect(() => nan.step([p])).toThrow(/schedule gave NaN for epoch 0/);
    const str = new SGD({ schedule: (() => '0.1') as never });
    expect(() => str.lr).toThrow(/schedule gave the string '0.1' for epoch 0/);
    expect(p.param.data[0]).toBe(1);
  });

  it('option errors say when a value is a string', () => {
    expect(() => new SGD({ lr: '0.1' as never })).toThrow(/lr must be a positive number, got the string '0.1'/);
    expect(() => new Adam({ beta1: '0.9' as never })).toThrow(/beta1 must be in \[0, 1\), got the string '0.9'/);
    expect(() => new SGD({ lr: 0.1, momentum: 0.9, nesterov: 'yes' as never })).toThrow(/nesterov must be true or false, got the string 'yes'/);
    expect(() => new AdamW({ weightDecay: '0' as never })).toThrow(/weightDecay must be a non-negative number, got the string '0'/);
  });
});
