// The inference plan (src/inference/plan.ts) on every backend: which layers it fuses, that its output is the
// layers' own forward passes bit for bit, when a network makes it anew, and how many rows one pass takes.
import { beforeEach, describe, expect, it } from 'vitest';
import {
  AvgPool2D, BatchNorm2D, Conv1D, Conv2D, Dense, Dropout, Flatten, MaxPool2D, ReLU, Tanh,
} from '../src/layers/index';
import { EVAL_CACHE_BYTES, InferencePlan, MIN_ROWS_PER_PASS } from '../src/inference/plan';
import { mse, softmaxCrossEntropy } from '../src/losses';
import { Sequential } from '../src/network';
import { Tensor } from '../src/tensor';
import { backends, expectBitwiseEqual, randn, useBackend } from './helpers';

/** Every kind of block: fused Conv2D+ReLU+MaxPool2D, Conv2D+MaxPool2D, Conv2D+ReLU, and pools that do not fuse. */
function cnn(dtype: 'float32' | 'float64' = 'float32'): Sequential {
  return new Sequential([
    new Conv2D(2, 4, 3, { padding: 1 }), new ReLU(), new MaxPool2D(2),       // 4x9x9 -> 4x4x4 (odd: floor)
    new Conv2D(4, 4, 3, { padding: 1 }), new MaxPool2D(2),                     // -> 4x2x2
    new Conv2D(4, 5, 1), new ReLU(), new MaxPool2D(2, { stride: 1 }),          // -> 5x1x1, pool stride 1: not fused
    new Conv2D(5, 3, 1), new BatchNorm2D(3), new ReLU(), new AvgPool2D(1),
    new Flatten(), new Dropout(0.5), new Dense(3, 4), new Tanh(),
  ], { seed: 4, dtype });
}

/** The layers' own forward passes, one after the other, in eval mode. */
function layerByLayer(net: Sequential, x: Tensor): Tensor {
  let y = x;
  for (const l of net.layers) y = l.forward(y);
  return y.clone();
}

describe.each(backends)('inference plan on $label', (bc) => {
  beforeEach(() => useBackend(bc));

  it('fuses each Conv2D with the ReLU and the 2x2 stride-2 MaxPool2D after it, and nothing else', () => {
    expect(cnn().eval().inferencePlan.describe()).toEqual([
      'Conv2D+ReLU+MaxPool2D', 'Conv2D+MaxPool2D', 'Conv2D+ReLU', 'MaxPool2D', 'Conv2D', 'BatchNorm2D', 'ReLU',
      'AvgPool2D', 'Flatten', 'Dropout', 'Dense', 'Tanh',
    ]);
    expect(new InferencePlan([new Conv2D(1, 1, 1), new MaxPool2D(3), new ReLU()]).describe()).toEqual(['Conv2D', 'MaxPool2D', 'ReLU']);
  });

  it("gives the layers' own forward values bit for bit, through predict and evaluate, in float32 and float64", () => {
    for (const dtype of ['float32', 'float64'] as const) {
      const net = cnn(dtype);
      const x = randn([6, 2, 9, 9], 3).astype(dtype);
      net.eval();
      const expected = layerByLayer(net, x);
      expectBitwiseEqual(net.inferencePlan.run(x).clone().data, expected.data);
      expectBitwiseEqual(net.predict(x).data, expected.data);
      expectBitwiseEqual(net.predict(x, { batchSize: 4 }).data, expected.data);
      const labels = new Int32Array([0, 1, 2, 3, 0, 1]);
      const byLayers = mse(expected, labels).loss;
      expect(net.evaluate(x, labels, { loss: 'mse', batchSize: 6 }).loss).toBeCloseTo(byLayers, 12);
      expect(net.evaluate(x, labels, { loss: 'mse', batchSize: 4 }).loss).toBeCloseTo(byLayers, 12);
    }
  });

  it('a 2x2 pooling after a convolution whose output is under 2x2 is left to the pooling layer, which reports it', () => {
    const net = new Sequential([new Conv2D(1, 2, 3), new ReLU(), new MaxPool2D(2), new Flatten()]).eval();
    expect(net.inferencePlan.describe()).toEqual(['Conv2D+ReLU+MaxPool2D', 'Flatten']);
    const x = randn([2, 1, 3, 3], 1).astype('float32');
    expect(() => net.predict(x)).toThrow(RangeError);
    let forwardError: unknown;
    try { layerByLayer(net, x); } catch (e) { forwardError = e; }
    expect(() => net.predict(x)).toThrow((forwardError as Error).message);
  });

  it('runs a Conv1D network (a subclass of Conv2D that the fused kernel cannot run) as its layers do', () => {
    const net = new Sequential([new Conv1D(2, 3, 3), new ReLU(), new Flatten(), new Dense(3 * 8, 2)], { seed: 1 }).eval();
    expect(net.inferencePlan.describe()).toEqual(['Conv1D', 'ReLU', 'Flatten', 'Dense']);
    const x = randn([5, 2, 10], 2).astype('float32');
    expectBitwiseEqual(net.predict(x).data, layerByLayer(net, x).data);
    const labels = new Int32Array([0, 1, 1, 0, 1]);
    expect(net.evaluate(x, labels, { loss: 'softmaxCrossEntropy' }).loss).toBe(
      softmaxCrossEntropy(layerByLayer(net, x), labels).loss);
  });

  it("does not fuse a subclass's overridden forward away", () => {
    class HalfReLU extends ReLU {
      override forward(x: Tensor): Tensor {
        const y = super.forward(x).clone();
        for (let i = 0; i < y.size; i++) y.data[i] *= 0.5;
        return y;
      }
    }
    const net = new Sequential([new Conv2D(1, 2, 3), new HalfReLU(), new MaxPool2D(2), new Flatten()], { seed: 2 }).eval();
    expect(net.inferencePlan.describe()).toEqual(['Conv2D', 'ReLU', 'MaxPool2D', 'Flatten']);
    const x = randn([3, 1, 6, 6], 5).astype('float32');
    expectBitwiseEqual(net.predict(x).data, layerByLayer(net, x).data);
  });

  it('is made once on eval(), and made anew when the layers change or the network trains again', async () => {
    const net = new Sequential([new Conv2D(1, 2, 3), new ReLU(), new MaxPool2D(2), new Flatten()], { seed: 2 });
    const x = randn([4, 1, 6, 6], 5).astype('float32');
    const plan = net.eval().inferencePlan;
    net.predict(x);
    net.evaluate(x, new Int32Array([0, 1, 2, 3]), { loss: 'mse' });
    expect(net.eval().inferencePlan).toBe(plan);
    // a predict() in training mode switches to eval mode for the call only, keeping the plan
    net.train();
    const trainingPlan = net.inferencePlan;
    expect(trainingPlan).not.toBe(plan);
    net.predict(x);
    expect(net.inferencePlan).toBe(trainingPlan);
    expect(net.isTraining).toBe(true);

    net.add(new Dense(8, 3));
    const grown = net.eval().inferencePlan;
    expect(grown.describe()).toEqual(['Conv2D+ReLU+MaxPool2D', 'Flatten', 'Dense']);
    net.layers.push(new Tanh());  // changed behind the network's back: the plan notices
    expect(net.inferencePlan.describe()).toEqual(['Conv2D+ReLU+MaxPool2D', 'Flatten', 'Dense', 'Tanh']);
    net.layers.pop();

    const beforeFit = net.eval().inferencePlan;
    await net.fit(x, new Int32Array([0, 1, 2, 0]), { epochs: 1, batchSize: 2 });
    net.eval();
    expect(net.inferencePlan).not.toBe(beforeFit);
    const afterFit = net.inferencePlan;
    net.loadStateDict(net.stateDict());
    expect(net.eval().inferencePlan).not.toBe(afterFit);
    // the new plan gives the trained layers' values
    expectBitwiseEqual(net.predict(x).data, layerByLayer(net, x).data);
  });
});

describe('inference plan rows per pass', () => {
  const mnistCnn = () => new InferencePlan([
    new Conv2D(1, 16, 3, { padding: 1 }), new ReLU(), new MaxPool2D(2),
    new Conv2D(16, 32, 3, { padding: 1 }), new ReLU(), new MaxPool2D(2), new Flatten(), new Dense(1568, 10),
  ]);

  it('keeps the largest activation within the cache budget, in equal parts, at least MIN_ROWS_PER_PASS rows', () => {
    expect(EVAL_CACHE_BYTES).toBe(6 * 2 ** 20);
    const x = Tensor.zeros([1, 1, 28, 28]);
    // the largest activation: 16 x 28 x 28 floats, 50,176 bytes: 125 rows in 6 MiB
    expect(mnistCnn().rowsPerPass(x, 1000, 'float32')).toBe(125);
    expect(mnistCnn().rowsPerPass(x, 1001, 'float32')).toBe(112);  // 9 equal parts rather than 8 of 125 and one of 1
    expect(mnistCnn().rowsPerPass(x, 1000, 'float64')).toBe(59);   // 62 rows: 17 parts
    expect(mnistCnn().rowsPerPass(x, 100, 'float32')).toBe(100);
    expect(mnistCnn().rowsPerPass(x, MIN_ROWS_PER_PASS, 'float32')).toBe(MIN_ROWS_PER_PASS);
    const huge = new InferencePlan([new Conv2D(1, 64, 3, { padding: 1 })]);
    expect(huge.rowsPerPass(Tensor.zeros([1, 1, 256, 256]), 1000, 'float32')).toBe(Math.ceil(1000 / Math.ceil(1000 / MIN_ROWS_PER_PASS)));
  });

  it('leaves a shape the layers refuse to the forward pass that reports it', () => {
    expect(mnistCnn().rowsPerPass(Tensor.zeros([1, 1, 2, 2]), 500, 'float32')).toBe(500);
  });
});
