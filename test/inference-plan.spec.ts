// The inference plan (src/inference/plan.ts) on every backend: which layers it fuses, that its output is the
// layers' own forward passes bit for bit, when a network makes it anew, and how many rows one pass takes.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { getBackend } from '../src/backend/index';
import { slopeWords } from '../src/backend/ts/plan';
import {
  AvgPool2D, BatchNorm1D, BatchNorm2D, Conv1D, Conv2D, Dense, Dropout, Flatten, LeakyReLU, MaxPool2D, ReLU, Sigmoid,
  Softmax, Step, Tanh,
} from '../src/layers/index';
import { EVAL_CACHE_BYTES, InferencePlan, MIN_ROWS_PER_PASS } from '../src/inference/plan';
import { mse, softmaxCrossEntropy } from '../src/losses';
import { Sequential } from '../src/network';
import { SGD } from '../src/optimizers';
import { type FloatArray, Tensor, isDetached, tidy } from '../src/tensor';
import { backends, expectBitwiseEqual, nativeIsas, randn, useBackend, withThreads } from './helpers';

/**
 * Spies on the backend's one-call kernels: planForward, and where the backend has them planPrepare (planForward,
 * keeping its plan) and planRun (the prepared pass again). calls(): how many passes ran; full(): the argument lists of
 * the planForward and planPrepare calls.
 */
function spyOneCalls() {
  const b = getBackend() as unknown as Record<string, (...a: unknown[]) => unknown>;
  const spy = (name: string) => (typeof b[name] === 'function' ? vi.spyOn(b, name) : null);
  const forward = spy('planForward'), prepare = spy('planPrepare'), run = spy('planRun');
  const calls = (s: typeof forward) => s?.mock.calls ?? [];
  return {
    calls: () => calls(forward).length + calls(prepare).length + calls(run).length,
    full: () => [...calls(forward), ...calls(prepare)],
    restore: () => { forward?.mockRestore(); prepare?.mockRestore(); run?.mockRestore(); },
  };
}

/**
 * Every kind of block: fused Conv2D+ReLU+MaxPool2D, Conv2D+MaxPool2D, Conv2D+ReLU, BatchNorm2D+ReLU, and pools that
 * do not fuse.
 */
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

  it('fuses each Conv2D with the ReLU and the 2x2 stride-2 MaxPool2D after it, two such in a row into one chain, and nothing else', () => {
    expect(cnn().eval().inferencePlan.describe()).toEqual([
      'Conv2D+ReLU+MaxPool2D+Conv2D+MaxPool2D', 'Conv2D+ReLU', 'MaxPool2D', 'Conv2D', 'BatchNorm2D+ReLU', 'AvgPool2D', 'Flatten', 'Dropout', 'Dense', 'Tanh',
    ]);
    expect(new InferencePlan([new Conv2D(1, 1, 1), new MaxPool2D(3), new ReLU()]).describe()).toEqual(['Conv2D', 'MaxPool2D', 'ReLU']);
    // only 2x2 windows of stride 2 on both axes fuse
    for (const pool of [new MaxPool2D([2, 3], { stride: 2 }), new MaxPool2D([3, 2], { stride: 2 }), new MaxPool2D(3, { stride: 2 }),
      new MaxPool2D(2, { stride: [2, 1] }), new MaxPool2D(2, { stride: [1, 2] })]) {
      const plan = new InferencePlan([new Conv2D(1, 1, 1), new ReLU(), pool]);
      expect(plan.describe(), `${pool.kernelSize} / ${pool.stride}`).toEqual(['Conv2D+ReLU', 'MaxPool2D']);
      expect(plan.steps.map((s) => s.kind)).toEqual(['conv', 'layer']);
    }
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

  it('leaves an input that the chain of two convolutions cannot take to its layers, which report it', () => {
    const net = new Sequential([
      new Conv2D(1, 2, 3, { padding: 1 }), new MaxPool2D(2), new Conv2D(2, 3, 3), new ReLU(), new MaxPool2D(2),
    ], { seed: 3 }).eval();
    expect(net.inferencePlan.describe()).toEqual(['Conv2D+MaxPool2D+Conv2D+ReLU+MaxPool2D']);
    // 9x9 -> 4x4 -> 2x2 (pooled 1x1): runs as one chain; 6x6 -> 3x3 -> 1x1: the second pooling fails in its layer;
    // 4x4 -> 2x2: the second convolution's window does not fit; two channels: the first convolution refuses them
    expect(net.inferencePlan.steps.map((s) => s.kind)).toEqual(['chain']);
    const chainCalls = vi.spyOn(getBackend(), 'conv2dChainForward');
    chainCalls.mockClear();  // the native ISAs share one backend object: its spy may hold an earlier row's calls
    const ok = randn([3, 1, 9, 9], 2).astype('float32');
    expectBitwiseEqual(net.predict(ok).data, layerByLayer(net, ok).data);
    expect(chainCalls).toHaveBeenCalledTimes(1);
    for (const shape of [[2, 1, 6, 6], [2, 1, 4, 4], [2, 2, 9, 9]]) {
      const x = randn(shape, 1).astype('float32');
      let forwardError: unknown;
      try { layerByLayer(net, x); } catch (e) { forwardError = e; }
      expect(forwardError).toBeInstanceOf(RangeError);
      expect(() => net.predict(x)).toThrow((forwardError as Error).message);
    }
    // another dtype, another rank, an x whose buffer shrank: the plan's run leaves them to the layers too
    type Resizable = ArrayBuffer & { resize(n: number): void };
    const ResizableBuffer = ArrayBuffer as unknown as new (n: number, o: object) => Resizable;
    const buffer = new ResizableBuffer(4 * 162, { maxByteLength: 4 * 162 });
    const shrunk = new Tensor(new Float32Array(buffer), [2, 1, 9, 9]);
    buffer.resize(4 * 81);
    for (const x of [ok.astype('float64'), ok.reshape([3, 9, 9]), shrunk]) {
      let forwardError: unknown;
      try { layerByLayer(net, x); } catch (e) { forwardError = e; }
      expect(forwardError).toBeInstanceOf(Error);
      expect(() => net.inferencePlan.run(x)).toThrow((forwardError as Error).message);
    }
    expect(chainCalls).toHaveBeenCalledTimes(1);
    // convolutions without a bias chain alike
    const plain = new Sequential([new Conv2D(1, 2, 3, { padding: 1, bias: false }), new MaxPool2D(2),
      new Conv2D(2, 3, 3, { bias: false }), new MaxPool2D(2)], { seed: 4 }).eval();
    expectBitwiseEqual(plain.predict(ok).data, layerByLayer(plain, ok).data);
    expect(chainCalls).toHaveBeenCalledTimes(2);
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

/** An MLP with every kind of step a chain runs: Flatten and Dropout around, no bias, each activation, a Softmax. */
function mlp(dtype: 'float32' | 'float64' = 'float32', last: 'softmax' | 'none' | 'one' = 'none'): Sequential {
  return new Sequential([
    new Flatten(), new Dense(12, 9), new ReLU(), new Dropout(0.5), new Dense(9, 7, { bias: false }), new LeakyReLU(0.3),
    new Tanh(), new Dense(7, 5), new Sigmoid(), new Step(), new Dense(5, last === 'one' ? 1 : 6),
    ...(last === 'softmax' ? [new Softmax()] : []),
  ], { seed: 7, dtype });
}

/** predictProba's squashing of an output, by the backend's own kernels (as network.ts does it). */
function squashed(y: Tensor, rule: 'softmax' | 'sigmoid'): FloatArray {
  const p = y.clone(), cols = y.size / y.shape[0];
  if (cols === 1 || rule === 'sigmoid') getBackend().activationForward('sigmoid', y.size, y.data, p.data, 0);
  else getBackend().softmax(y.shape[0], cols, y.data, p.data);
  return p.data;
}

describe.each(backends)('inference plan of a chain of Dense layers on $label', (bc) => {
  beforeEach(() => useBackend(bc));
  afterEach(() => vi.restoreAllMocks());

  it('runs the whole network as one planForward call, bitwise the layers, for predict and predictProba', () => {
    for (const dtype of ['float32', 'float64'] as const) {
      for (const last of ['none', 'softmax', 'one'] as const) {
        const net = mlp(dtype, last).eval();
        expect(net.inferencePlan.oneCall).toBe(true);
        for (const n of [1, 5]) {
          const x = randn([n, 3, 4], 11 + n).astype(dtype);
          const expected = layerByLayer(net, x);
          const spy = spyOneCalls();
          expectBitwiseEqual(net.predict(x).data, expected.data);
          expect(spy.calls()).toBe(1);
          const proba = last === 'softmax' ? expected.data : squashed(expected, 'softmax');
          expectBitwiseEqual(net.predictProba(x).data, proba);
          expect(spy.calls()).toBe(2);  // squashed in the same call
          expectBitwiseEqual(net.predictProba(x).data, proba);  // a prepared plan, where the backend prepares one
          expect(spy.calls()).toBe(3);
          spy.restore();
          // one sample without its batch axis, as predict takes it
          if (n === 1) expectBitwiseEqual(net.predictProba(x.reshape([3, 4])).data, proba);
        }
      }
    }
  });

  it("squashes by the network's rule: a sigmoid per column after binaryCrossEntropy", async () => {
    const net = new Sequential([new Dense(4, 8), new ReLU(), new Dense(8, 3)], { seed: 3 });
    const x = randn([6, 4], 2).astype('float32');
    await net.fit(x, randn([6, 3], 4).astype('float32').gt(0).astype('float32'),
      { loss: 'binaryCrossEntropy', epochs: 1, batchSize: 6 });
    net.eval();
    expectBitwiseEqual(net.predictProba(x).data, squashed(layerByLayer(net, x), 'sigmoid'));
  });

  it('leaves what is not such a chain to the layers', () => {
    const plan = (layers: ConstructorParameters<typeof InferencePlan>[0]) => new InferencePlan(layers).oneCall;
    expect(plan([new Dense(2, 2), new ReLU(), new Dense(2, 2), new Dense(2, 2), new Dense(2, 2)])).toBe(true);
    expect(plan([new Dense(2, 2), new Dense(2, 2), new Dense(2, 2), new Dense(2, 2), new Dense(2, 2)])).toBe(false);
    expect(plan([new ReLU(), new Dense(2, 2)])).toBe(false);   // arithmetic before the first Dense
    expect(plan([new Flatten(), new Dropout(0.1), new Dense(2, 2)])).toBe(true);
    expect(plan([new Dense(2, 2), new BatchNorm1D(2)])).toBe(false);
    expect(plan([new Conv2D(1, 1, 1), new Flatten(), new Dense(1, 2)])).toBe(false);
    expect(plan([new Flatten()])).toBe(false);
    class Scaled extends Dense {
      override forward(x: Tensor): Tensor { return super.forward(x).mul(2); }
    }
    expect(plan([new Scaled(2, 2)])).toBe(false);
    const net = new Sequential([new Scaled(3, 2), new ReLU()], { seed: 1 }).eval();
    const x = randn([2, 3], 1).astype('float32');
    expectBitwiseEqual(net.predict(x).data, layerByLayer(net, x).data);
  });

  it('reads the weights as they are at each call: after fit, an optimizer step, loadStateDict, writes', async () => {
    const net = mlp().eval();
    const x = randn([4, 12], 5).astype('float32'), labels = new Int32Array([0, 1, 2, 3]);
    const check = () => expectBitwiseEqual(net.predictProba(x).data, squashed(layerByLayer(net, x), 'softmax'));
    const before = net.predict(x);
    check();
    await net.fit(x, labels, { epochs: 2, batchSize: 2 });
    check();
    expect(net.predict(x).data).not.toEqual(before.data);
    // a training loop of the user's own: gradients, then an optimizer step on the parameters
    net.eval().predict(x);
    net.lossAndGradients(x, labels);
    new SGD({ lr: 0.5 }).step(net.parameters());
    check();
    net.loadStateDict(mlp().stateDict());
    check();
    const plan = net.eval().inferencePlan;
    const w = (net.layers[1] as Dense).weight;
    w.data[0] += 1;
    w.data.set(w.data.map((v) => -v), 0);
    check();
    (net.layers[7] as Dense).bias!.data.fill(3);
    check();
    expect(net.inferencePlan).toBe(plan);  // the same plan all along: it holds no copy to refresh
  });

  it('keeps its output and scratch from call to call, and leaves bad input to the layers, which report it', () => {
    const net = mlp().eval();
    const x = randn([3, 12], 5).astype('float32');
    const plan = net.inferencePlan;
    const y = plan.run(x);
    expect(plan.run(x)).toBe(y);
    expect(plan.runProbabilities(randn([3, 12], 6).astype('float32'), 'softmax')).toBe(plan.runProbabilities(x, 'softmax'));
    expect(plan.runProbabilities(randn([3, 11], 6).astype('float32'), 'softmax')).toBeNull();
    let layerError: unknown;
    try { layerByLayer(net, randn([3, 11], 6).astype('float32')); } catch (e) { layerError = e; }
    expect(() => net.predict(randn([3, 11], 6).astype('float32'))).toThrow((layerError as Error).message);
    expect(() => net.predictProba(randn([3, 11], 6).astype('float32'))).toThrow((layerError as Error).message);
  });

  it('a batch without options (the short path to the one call) gives what the general path gives: values, errors, modes', () => {
    const net = mlp().eval();
    const x = randn([3, 3, 4], 5).astype('float32');
    const general = { batchSize: 1000 };  // an option: the general path, with every check
    const message = (f: () => unknown) => { try { f(); } catch (e) { return (e as Error).message; } return 'no error'; };
    const short = vi.spyOn(net as unknown as { oneCallOutputs: () => Tensor | null }, 'oneCallOutputs');
    const p = net.predictProba(x);
    expect(short.mock.results[0].value).toBe(p);  // it took the short path
    expect(p.shape).toEqual([3, 6]);
    expect(net.inputShape).toEqual([3, 4]);
    expectBitwiseEqual(p.data, net.predictProba(x, general).data);
    expect(short.mock.results[1].value).toBeNull();
    expectBitwiseEqual(net.predict(x).data, net.predict(x, general).data);
    // a NaN of x is named by the same error
    const bad = x.clone();
    bad.data[13] = NaN;
    expect(message(() => net.predictProba(bad))).toMatch(/NaN/);
    expect(message(() => net.predictProba(bad))).toBe(message(() => net.predictProba(bad, general)));
    expect(message(() => net.predict(bad))).toBe(message(() => net.predict(bad, general)));
    // options are still checked
    expect(() => net.predictProba(x, { batchsize: 2 } as never)).toThrow("unknown predictProba() option 'batchsize'");
    expect(() => net.predict(x, 3 as never)).toThrow(TypeError);
    // a Dropout that another network put in training mode is in eval mode for the call, as on the general path
    const dropout = net.layers[3];
    dropout.training = true;
    expectBitwiseEqual(net.predictProba(x).data, net.predictProba(x, general).data);
    expect(dropout.training).toBe(false);
    // a network in training mode predicts in eval mode and stays in training mode
    const before = net.predictProba(x).data;
    net.train();
    expectBitwiseEqual(net.predictProba(x).data, before);
    expect(net.isTraining).toBe(true);
    expect(dropout.training).toBe(true);
  });

  it("the short path's result is the caller's own copy, in memory as allocate() gives small results (a slab view)", () => {
    const net = mlp().eval();
    const x1 = randn([2, 3, 4], 7).astype('float32'), x2 = randn([2, 3, 4], 8).astype('float32');
    const general = { batchSize: 1000 };
    const p1 = net.predictProba(x1), p2 = net.predictProba(x2);
    expectBitwiseEqual(p1.data, net.predictProba(x1, general).data);  // not changed by the later calls
    expectBitwiseEqual(p2.data, net.predictProba(x2, general).data);
    const before = Float32Array.from(p1.data);
    p2.data.fill(7);  // nor by a write to another result
    expectBitwiseEqual(p1.data, before);
    expect(p1.requiresGrad).toBe(false);
    // no ArrayBuffer of its own per call (data.slice() made one: ~450 bytes of garbage per batch-1 predict)
    expect(p1.data.buffer.byteLength).toBeGreaterThan(p1.data.byteLength);
    expect(p1.data.buffer).toBe(p2.data.buffer);
    // from 4 KiB on it is clone()'s copy, its own ArrayBuffer, which a tidy() scope around the call does not give back
    const wide = new Sequential([new Dense(4, 1100)], { seed: 3 }).eval();
    const xw = randn([1, 4], 9).astype('float32');
    const expected = wide.predictProba(xw, general).data;
    const pw = tidy(() => { wide.predictProba(xw); return wide.predictProba(xw); });
    const inside: Tensor[] = [];
    tidy(() => { inside.push(wide.predictProba(xw)); });
    expect(pw.data.buffer.byteLength).toBe(4400);
    expect(isDetached(inside[0].data)).toBe(false);
    expectBitwiseEqual(inside[0].data, expected);
    expectBitwiseEqual(pw.data, expected);
  });

  it('the short path takes 2-D batches of up to MIN_ROWS_PER_PASS rows, not one sample of the sample rank, not a shrunk x', () => {
    const shortPath = (net: Sequential) => vi.spyOn(net as unknown as { oneCallOutputs: () => Tensor | null }, 'oneCallOutputs');
    const general = { batchSize: 1000 };
    // a 2-D batch (the network has seen no input: its samples are of rank 1), at MIN_ROWS_PER_PASS rows and one more
    const net = mlp().eval();
    const short = shortPath(net);
    for (const [rows, taken] of [[3, true], [MIN_ROWS_PER_PASS, true], [MIN_ROWS_PER_PASS + 1, false]] as const) {
      const x = randn([rows, 12], rows).astype('float32');
      const p = net.predictProba(x);
      expect(short.mock.results.at(-1)!.value === null).toBe(!taken);
      expect(p.shape).toEqual([rows, 6]);
      expectBitwiseEqual(p.data, net.predictProba(x, general).data);
    }
    // after a batch of (1, 12) samples, a (1, 12) input is one sample: its result has no batch axis
    const one = mlp().eval();
    one.predict(randn([2, 1, 12], 1).astype('float32'));
    const sample = randn([1, 12], 2).astype('float32');
    const y = one.predict(sample);
    expect(y.shape).toEqual([6]);
    expectBitwiseEqual(y.data, one.predict(sample.reshape([1, 1, 12])).data);
    expect(one.predictProba(sample).shape).toEqual([6]);
    // an x whose resizable buffer shrank after it was made: the general path's error, not the kernel's
    type Resizable = ArrayBuffer & { resize(n: number): void };
    const resizable = (n: number) => new (ArrayBuffer as unknown as new (n: number, o: object) => Resizable)(n, { maxByteLength: n });
    const buffer = resizable(4 * 24);
    const shrunk = new Tensor(new Float32Array(buffer), [2, 12]);
    buffer.resize(4 * 12);
    const message = (f: () => unknown) => { try { f(); } catch (e) { return `${(e as Error).name}: ${(e as Error).message}`; } return 'no error'; };
    expect(message(() => net.predict(shrunk))).toBe('TypeError: x has 12 elements but its shape [2, 12] needs 24: its ' +
      'ArrayBuffer was resized after the tensor was made');
    expect(message(() => net.predictProba(shrunk))).toBe(message(() => net.predict(shrunk, general)));
    // shrunk to exactly 2 rows of the 12 features the network takes, while its shape says 24 each
    const buffer2 = resizable(4 * 48);
    const wide = new Tensor(new Float32Array(buffer2), [2, 24]);
    buffer2.resize(4 * 24);
    expect(message(() => net.predictProba(wide))).toBe('TypeError: x has 24 elements but its shape [2, 24] needs 48: its ' +
      'ArrayBuffer was resized after the tensor was made');
  });

  it('the short path takes no options or an empty plain object; any other options value goes the general way', () => {
    const net = mlp().eval();
    const short = vi.spyOn(net as unknown as { oneCallOutputs: () => Tensor | null }, 'oneCallOutputs');
    const x = randn([3, 12], 3).astype('float32'), want = net.predict(x, { batchSize: 1000 });
    class Opts {}
    // a function whose prototype is Object.prototype, without keys: still not an options object
    const fn = Object.setPrototypeOf(() => 0, Object.prototype) as unknown;
    const cases: [unknown, boolean][] = [[undefined, true], [{}, true], [{ batchSize: 1000 }, false], [null, false],
      [Object.create(null), false], [new Opts(), false], [fn, false], [5, false]];
    const outcomes = cases.map(([opts, taken], k) => {
      let outcome: string;
      try {
        const y = net.predict(x, opts as never);
        outcome = y.data.every((v, i) => Object.is(v, want.data[i])) ? 'same values' : 'other values';
      } catch (e) {
        outcome = `${(e as Error).name}: ${(e as Error).message}`;
      }
      const r = short.mock.results.at(-1)!;
      expect({ type: r.type, taken: r.value !== null }, `case ${k}`).toEqual({ type: 'return', taken });
      return outcome;
    });
    const refused = (what: string) => `TypeError: predict() options must be an options object, got ${what}`;
    expect(outcomes).toEqual(['same values', 'same values', 'same values', refused('null'), 'same values',
      'same values', refused('a function'), refused('5')]);
  });

  it("the plan's own run is one call unless a Dropout is in training mode; a Flatten's mode does not matter", () => {
    const flatten = new Flatten(), dropout = new Dropout(0.5), dense = new Dense(12, 3);
    const plan = new InferencePlan([flatten, dropout, dense]);
    const x = randn([2, 3, 4], 9).astype('float32');
    const spy = spyOneCalls();
    for (const [f, d, calls] of [[false, false, 1], [true, false, 2], [false, true, 2], [true, true, 2]] as const) {
      flatten.training = f;
      dropout.training = d;
      const y = plan.run(x);
      expect(spy.calls(), `flatten ${f}, dropout ${d}`).toBe(calls);
      expect(y.shape).toEqual([2, 3]);
    }
  });

  it("each of four Dense layers' bias reaches the one call", () => {
    const net = new Sequential([new Dense(3, 4), new ReLU(), new Dense(4, 4), new Tanh(), new Dense(4, 3), new Dense(3, 2)], { seed: 5 }).eval();
    net.layers.forEach((l, i) => { if (l instanceof Dense) l.bias!.data.set(l.bias!.data.map((_, j) => 0.1 * (i + 1) - 0.05 * j)); });
    const x = randn([2, 3], 4).astype('float32');
    const spy = spyOneCalls();
    expectBitwiseEqual(net.predict(x).data, layerByLayer(net, x).data);
    expect(spy.calls()).toBe(1);
  });

  it('leaves the arrays of the layers past the last out of the call, and each backend takes them as absent', () => {
    for (const widths of [[3, 2], [3, 4, 2], [3, 4, 4, 2], [3, 4, 4, 3, 2]]) {
      const layers = widths.slice(1).flatMap((w, i) => [new Dense(widths[i], w, { bias: i !== 1 }), new ReLU()]);
      const net = new Sequential(layers.slice(0, -1), { seed: 6 }).eval();
      const x = randn([2, 3], 7).astype('float32');
      const spy = spyOneCalls();
      expectBitwiseEqual(net.predict(x).data, layerByLayer(net, x).data);
      // 13 arguments, then each layer's weight and bias (null without one)
      expect(spy.full().map((c) => c.length), widths.join('-')).toEqual([13 + 2 * (widths.length - 1)]);
      expect(spy.full()[0][14 + 2], widths.join('-')).toBe(widths.length > 2 ? null : undefined);
      spy.restore();
    }
    // the kernel: left out is absent, as null is (the result; the error when the program needs it)
    const k = getBackend() as unknown as Record<string, (...a: unknown[]) => void>;
    const x = Float32Array.from([-1, 2, 3, -4]), w0 = Float32Array.from([1, 0.5, -2, 1]), b0 = Float32Array.from([0.5, -1]);
    const program = Int32Array.from([0, 0, 0, 0, 1, 0, 0, 0]);
    const run = (...weights: (Float32Array | null)[]) => {
      const y = new Float32Array(4);
      k.planForward(2, 2, 4, program.length, 2, 2, 0, 0, 0, program, x, y, new Float32Array(8), ...weights);
      return y;
    };
    const expected = run(w0, b0, null, null, null, null, null, null);
    expect(Array.from(expected)).toEqual([0, 0.5, 11.5, 0]);  // relu([-1 - 4 + 0.5, -0.5 + 2 - 1, 3 + 8 + 0.5, 1.5 - 4 - 1])
    for (const weights of [[w0, b0], [w0, b0, null], [w0, b0, null, null, null]]) expectBitwiseEqual(run(...weights), expected);
    expectBitwiseEqual(run(w0), run(w0, null));
    const error = (...weights: (Float32Array | null)[]) => {
      try {
        run(...weights);
      } catch (e) {
        return `${(e as Error).constructor.name}: ${(e as Error).message}`;
      }
      return 'no error';
    };
    expect(error()).not.toBe('no error');
    expect(error()).toBe(error(null, null));
  });

  it('isFor: the same layers in the same order, no more and no fewer', () => {
    const a = new Dense(2, 2), b = new ReLU(), c = new Dense(2, 1);
    const plan = new InferencePlan([a, b, c]);
    expect([plan.isFor([a, b, c]), plan.isFor([a, b]), plan.isFor([a, b, c, b]), plan.isFor([a, c, b]),
      plan.isFor([a, b, new Dense(2, 1)]), plan.isFor([])]).toEqual([true, false, false, false, false, false]);
  });

  it("the plan's own run of an x the chain does not take gives what the layers give: another dtype, rank 1, no rows", () => {
    const outcome = (f: () => Tensor) => {
      try { const y = f(); return { shape: y.shape, data: Array.from(y.data), dtype: y.dtype }; } catch (e) { return String(e); }
    };
    const net = new Sequential([new Dense(1, 2), new ReLU(), new Dense(2, 3)], { seed: 2 }).eval();
    const plan = new InferencePlan(net.layers);
    const spy = spyOneCalls();
    for (const x of [randn([2, 1], 1).astype('float64'), new Tensor(Float32Array.of(0.5), [1]), Tensor.zeros([0, 1], 'float32')]) {
      expect(outcome(() => plan.run(x)), `${x.dtype} ${x.shape}`).toEqual(outcome(() => layerByLayer(net, x)));
    }
    expect(spy.calls()).toBe(0);
  });

  it('predict and predictProba name themselves in the errors of one sample and of a regression', async () => {
    const net = new Sequential([new Dense(4, 2)], { seed: 1 });
    expect(() => net.predict(new Tensor(new Float32Array(3), [3]))).toThrow(new RangeError('predict(): x has shape [3]: ' +
      'an input of rank 1 is one sample, but the network takes samples of 4 features'));
    expect(() => net.predictProba(new Tensor(new Float32Array(8), [8]))).toThrow(new RangeError('predictProba(): x has ' +
      'shape [8]: an input of rank 1 is one sample, but the network takes samples of 4 features; for 2 samples use ' +
      'x.reshape([2, 4])'));
    await net.fit(randn([4, 4], 1).astype('float32'), randn([4, 2], 2).astype('float32'), { loss: 'mse', epochs: 1 });
    expect(() => net.predictProba(randn([2, 4], 3).astype('float32'))).toThrow(new TypeError('predictProba(): this ' +
      "network's loss is 'mse' and its last layer is Dense: its outputs are values, not class scores; use predict() (a " +
      'classifier is trained with softmaxCrossEntropy, crossEntropy or binaryCrossEntropy, or ends in Softmax or Sigmoid)'));
  });

  it('planForward gives its kernels one after another, bitwise (every step, no bias, a slope, 4 layers)', () => {
    const k = getBackend();
    for (const C of [Float32Array, Float64Array]) {
      const rand = (n: number, seed: number) => C.from(randn([n], seed).data);
      const d = [6, 5, 8, 3, 4], rows = 3;
      const w = [0, 1, 2, 3].map((i) => rand(d[i] * d[i + 1], 20 + i));
      const b = [rand(5, 30), null, rand(3, 32), rand(4, 33)];
      const x = rand(rows * d[0], 40);
      const slope = 0.37;
      const program = Int32Array.from([0, 0, 0, 0, 1, 1, ...slopeWords(slope), 0, 1, 0, 0, 1, 3, 0, 0, 2, 0, 0, 0,
        0, 2, 0, 0, 1, 2, 0, 0, 0, 3, 0, 0, 2, 0, 0, 0]);
      const y = new C(rows * 4), scratch = new C(rows * 16);
      k.planForward(rows, 4, 16, program.length, d[0], d[1], d[2], d[3], d[4], program, x, y, scratch, w[0], b[0], w[1],
        b[1], w[2], b[2], w[3], b[3]);
      // the same, kernel by kernel
      let h = x;
      const dense = (i: number) => {
        const out = new C(rows * d[i + 1]);
        k.gemm(false, false, rows, d[i + 1], d[i], 1, h, w[i], 0, out);
        if (b[i]) k.biasAdd(rows, d[i + 1], out, b[i]!);
        h = out;
      };
      dense(0);
      k.activationForward('leakyRelu', h.length, h, h, slope);
      dense(1);
      k.activationForward('tanh', h.length, h, h, 0);
      k.softmax(rows, d[2], h, h);
      dense(2);
      k.activationForward('sigmoid', h.length, h, h, 0);
      dense(3);
      k.softmax(rows, d[4], h, h);
      expectBitwiseEqual(y, h);
    }
  });

  it('sees the weights as they are at each call: trained after eval(), written in place, replaced; bitwise a fresh plan', async () => {
    const net = new Sequential([new Dense(6, 8), new ReLU(), new Dense(8, 3)], { seed: 4 }).eval();
    const x = randn([2, 6], 5).astype('float32');
    const fresh = () => squashed(new InferencePlan(net.layers).run(x), 'softmax');
    const first = net.predictProba(x).data.slice();
    expectBitwiseEqual(net.predictProba(x).data, first);  // the prepared plan, where the backend prepares one
    await net.fit(x, new Tensor(Float32Array.of(1, 0, 0, 0, 0, 1), [2, 3]), { loss: softmaxCrossEntropy, epochs: 2, batchSize: 2 });
    net.eval();
    const trained = net.predictProba(x).data.slice();
    expect(Array.from(trained)).not.toEqual(Array.from(first));
    expectBitwiseEqual(trained, fresh());
    const dense = net.layers[0] as Dense;
    dense.weight.data.set(dense.weight.data.map((v) => -v));  // in place: the same arrays
    const written = net.predictProba(x).data.slice();
    expect(Array.from(written)).not.toEqual(Array.from(trained));
    expectBitwiseEqual(written, fresh());
    dense.params[1] = new Tensor(Float32Array.from({ length: 8 }, (_, i) => 0.25 * i - 1), [8]);  // replaced
    const replaced = net.predictProba(x).data.slice();
    expect(Array.from(replaced)).not.toEqual(Array.from(written));
    expectBitwiseEqual(replaced, fresh());
    // more rows than the plan was prepared for
    const x3 = randn([3, 6], 6).astype('float32');
    expectBitwiseEqual(net.predictProba(x3).data, squashed(new InferencePlan(net.layers).run(x3), 'softmax'));
  });

  it('prepares a plan for batches of at most MIN_ROWS_PER_PASS rows only (a plan keeps a scratch of its rows)', () => {
    const net = new Sequential([new Dense(4, 3), new ReLU(), new Dense(3, 2)], { seed: 2 }).eval();
    for (const [n, full] of [[MIN_ROWS_PER_PASS + 1, 2], [MIN_ROWS_PER_PASS, getBackend().planPrepare ? 1 : 2]]) {
      const x = randn([n, 4], n).astype('float32'), spy = spyOneCalls();
      const first = net.predict(x).data.slice();
      expectBitwiseEqual(net.predict(x).data, first);
      expect([spy.calls(), spy.full().length], `${n} rows`).toEqual([2, full]);
      spy.restore();
    }
  });

  it('a weight whose buffer was detached after the first call is an error, never a read', () => {
    const net = new Sequential([new Dense(4, 3), new ReLU(), new Dense(3, 2)], { seed: 2 }).eval();
    const x = randn([1, 4], 1).astype('float32');
    net.predictProba(x);
    net.predictProba(x);
    const w = (net.layers[2] as Dense).weight.data;
    structuredClone(w.buffer, { transfer: [w.buffer as ArrayBuffer] });
    expect(() => net.predictProba(x)).toThrow(/^w1's ArrayBuffer (is|was) detached/);
  });

  it('runs and checks a long program as a short one (the addon copies up to 64 words in place, more to the heap)', () => {
    const k = getBackend();
    const x = Float32Array.from([-1, 2, 3, -4]), w0 = Float32Array.from([1, 0.5, -2, 1]);
    const expected = new Float32Array(4);
    k.gemm(false, false, 2, 2, 2, 1, x, w0, 0, expected);
    k.activationForward('relu', 4, expected, expected, 0);
    k.activationForward('tanh', 4, expected, expected, 0);
    for (const reluSteps of [14, 15, 16, 40]) {  // 60, 64, 68 and 164 words with the Dense and the tanh
      const program = [0, 0, 0, 0, ...Array.from({ length: reluSteps }, () => [1, 0, 0, 0]).flat(), 1, 3, 0, 0];
      const y = new Float32Array(4);
      k.planForward(2, 2, 4, program.length, 2, 2, 0, 0, 0, Int32Array.from(program), x, y, new Float32Array(8), w0,
        null, null, null, null, null, null, null);
      expectBitwiseEqual(y, expected);
      const bad = [...program.slice(0, -4), 1, 9, 0, 0];
      expect(() => k.planForward(2, 2, 4, bad.length, 2, 2, 0, 0, 0, Int32Array.from(bad), x, y, new Float32Array(8),
        w0, null, null, null, null, null, null, null)).toThrow(`program[${bad.length - 3}] = 9 is not an activation`);
    }
  });

  it('refuses a program it cannot run, naming the step', () => {
    const k = getBackend();
    const x = new Float32Array(4), y = new Float32Array(4), scratch = new Float32Array(8), w0 = new Float32Array(4);
    const run = (program: number[], outputs = 2) => () => k.planForward(2, outputs, 4, program.length, 2, 2, 0, 0, 0,
      Int32Array.from(program), x, y.subarray(0, 2 * outputs), scratch, w0, null, null, null, null, null, null, null);
    expect(run([0, 0, 0])).toThrow('programLength must be a multiple of 4 (steps of 4 words), got 3');
    expect(run([1, 0, 0, 0])).toThrow('program[0] = 1: the first step must be Dense layer 0');
    expect(run([0, 1, 0, 0])).toThrow('program[1] = 1: Dense steps run layers 0 to 3 in order, expected 0');
    expect(run([0, 0, 0, 0, 7, 0, 0, 0])).toThrow('program[4] = 7 is not a step (0 Dense, 1 activation, 2 softmax)');
    expect(run([0, 0, 0, 0, 2, 0, 1, 0])).toThrow('program[6] = 1 must be 0 (an unused word of a softmax step)');
    expect(run([0, 0, 0, 0, 1, 5, 0, 0])).toThrow("program[5] = 5 is not an activation (0 to 4: 'relu', 'leakyRelu', 'sigmoid', 'tanh' or 'step')");
    expect(run([0, 0, 0, 0, 1, 1, ...slopeWords(NaN)])).toThrow('program[6..7] = NaN: a slope must be finite');
    expect(run([0, 0, 0, 0, 0, 1, 0, 0])).toThrow('Dense layer 1 needs d1 and d2 of at least 1, got 2 and 0');
    expect(run([])).toThrow('program has no Dense step');
    expect(run([0, 0, 0, 0], 1)).toThrow('outputs must be 2 (d1, the width of Dense layer 0), got 1');
    expect(() => k.planForward(2, 2, 4, 4, 2, 2, 0, 0, 0, Int32Array.from([0, 0, 0, 0]), x, y, scratch, null, null, null, null, null, null, null, null))
      .toThrow('w0 is missing: program[0] runs Dense layer 0');
    expect(() => k.planForward(2, 2, 3, 4, 2, 2, 0, 0, 0, Int32Array.from([0, 0, 0, 0]), x, y, scratch, w0, null, null, null, null, null, null, null))
      .toThrow('Dense layer 0 is 2 wide, more than floor(width / 2) = 1: scratch holds two activations of rows x floor(width / 2)');
  });
});

describe.each(nativeIsas)('inference plan of a chain of Dense layers with 1 and 2 threads on $label', (bc) => {
  it('gives the same bits whatever the thread count (the 784-100-10 MLP, batch 1 and 64)', () => {
    useBackend(bc);
    const net = new Sequential([new Dense(784, 100), new ReLU(), new Dense(100, 10)], { seed: 1 }).eval();
    for (const n of [1, 64]) {
      const x = randn([n, 784], n).astype('float32');
      const one = withThreads(1, () => net.predictProba(x));
      const two = withThreads(2, () => net.predictProba(x));
      expectBitwiseEqual(one.data, two.data);
      expectBitwiseEqual(two.data, squashed(layerByLayer(net, x), 'softmax'));
    }
  });
});

// planPrepare and planRun (native): planForward's call kept, then only x and y per pass; every weight's memory is
// checked to be there before it is read.
describe.each(nativeIsas)('a prepared plan (planPrepare, planRun) on $label', (bc) => {
  const program = Int32Array.from([0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 2, 0, 0, 0]);
  const setup = (w0: Float32Array = Float32Array.from({ length: 6 }, (_, i) => 0.1 * i - 0.2)) => {
    const b = getBackend();
    const b0 = Float32Array.from([0.1, -0.1, 0.2]), w1 = Float32Array.from({ length: 6 }, (_, i) => 0.3 - 0.1 * i);
    const x = Float32Array.from([1, 2, 3, 4]), y = new Float32Array(4);
    const weights = [w0, b0, w1, null] as const;
    const forward = (xx: Float32Array, rows = 2) => {
      const out = new Float32Array(rows * 2);
      b.planForward(rows, 2, 6, 16, 2, 3, 2, 0, 0, program, xx, out, new Float32Array(rows * 6), ...weights);
      return out;
    };
    const plan = b.planPrepare!(2, 2, 6, 16, 2, 3, 2, 0, 0, program, x, y, new Float32Array(12), ...weights);
    return { run: b.planRun!, plan, x, y, w0, w1, forward };
  };

  it('gives planForward\'s bits, for fewer rows too, and sees a write to a weight', () => {
    useBackend(bc);
    const { run, plan, x, y, w0, forward } = setup();
    expectBitwiseEqual(y, forward(x));
    const y2 = new Float32Array(4);
    run(plan, 2, x, y2);
    expectBitwiseEqual(y2, forward(x));
    const y1 = new Float32Array(2);
    run(plan, 1, x.subarray(2), y1);
    expectBitwiseEqual(y1, forward(x.subarray(2), 1));
    w0[3] = 2.5;
    run(plan, 2, x, y2);
    expectBitwiseEqual(y2, forward(x));
  });

  it('refuses what it cannot run: not a plan, more rows, another dtype, short arrays, an overlap, a detached weight', () => {
    useBackend(bc);
    const { run, plan, x, w1 } = setup();
    const y = new Float32Array(4);
    const error = (...args: unknown[]) => {
      try {
        (run as (...a: unknown[]) => void)(...args);
      } catch (e) {
        return `${(e as Error).constructor.name}: ${(e as Error).message}`;
      }
      return 'no error';
    };
    expect(error({}, 1, x, y)).toBe('TypeError: plan must be a plan of planPrepare, got an object');
    expect(error(null, 1, x, y)).toMatch(/^TypeError: plan must be a plan of planPrepare/);
    expect(error(plan, 1, x)).toBe('TypeError: planRun(plan, rows, x, y): expected 4 arguments, got 3');
    expect(error(plan, 3, x, y)).toBe('RangeError: rows must be at most the prepared 2, got 3');
    expect(error(plan, -1, x, y)).toMatch(/^RangeError: rows must be an integer in \[0, 2\^31\)/);
    expect(error(plan, 1, x, new Float64Array(2))).toBe('TypeError: y must be a Float32Array like the plan\'s weights, got Float64Array');
    expect(error(plan, 1, [1, 2], y)).toMatch(/^TypeError: x must be a Float32Array or Float64Array/);
    expect(error(plan, 2, x, new Float32Array(3))).toBe('RangeError: y has 3 elements, expected at least 4');
    expect(error(plan, 2, x.subarray(1), y)).toBe('RangeError: x has 3 elements, expected at least 4');
    expect(error(plan, 1, x, x.subarray(2))).toBe('RangeError: y must not share memory with x');
    expect(error(plan, 1, x, w1.subarray(4))).toBe('RangeError: y must not share memory with w1');
    expect(Array.from(w1)).toEqual(Array.from(Float32Array.from({ length: 6 }, (_, i) => 0.3 - 0.1 * i)));
    expect(error(plan, 1, x, y)).toBe('no error');
    structuredClone(w1.buffer, { transfer: [w1.buffer as ArrayBuffer] });
    expect(error(plan, 1, x, y)).toMatch(/^RangeError: w1's ArrayBuffer was detached or shrunk after planPrepare/);
  });

  it('a weight over a resizable buffer: shrunk below what the plan reads is refused, grown back runs', () => {
    useBackend(bc);
    const buffer = new (ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer & { resize(n: number): void })(24, { maxByteLength: 64 });
    const w0 = new Float32Array(buffer);
    w0.set([0.5, -0.2, 0.1, 0.3, 0.7, -0.4]);
    const { run, plan, x, forward } = setup(w0);
    const y = new Float32Array(4);
    run(plan, 2, x, y);
    expectBitwiseEqual(y, forward(x));
    buffer.resize(20);
    expect(() => run(plan, 2, x, y)).toThrow(/^w0's ArrayBuffer was detached or shrunk after planPrepare/);
    buffer.resize(64);  // w0[5] comes back as 0
    run(plan, 2, x, y);
    expect(w0[5]).toBe(0);
    expectBitwiseEqual(y, forward(x));
  });

  it('weights in one ArrayBuffer: each is checked to its own end, the first that cannot be read named', () => {
    useBackend(bc);
    // w0 (6), b0 (3) and w1 (6) one after another in one resizable buffer of 60 bytes
    type Resizable = ArrayBuffer & { resize(n: number): void };
    const buffer = new (ArrayBuffer as unknown as new (n: number, o: object) => Resizable)(60, { maxByteLength: 64 });
    const w0 = new Float32Array(buffer, 0, 6), b0 = new Float32Array(buffer, 24, 3);
    const w1 = new Float32Array(buffer, 36, 6);
    w0.set([0.5, -0.2, 0.1, 0.3, 0.7, -0.4]);
    b0.set([0.1, -0.1, 0.2]);
    w1.set([0.3, 0.2, 0.1, 0, -0.1, -0.2]);
    const b = getBackend(), x = Float32Array.from([1, 2, 3, 4]);
    const forward = () => {
      const out = new Float32Array(4);
      b.planForward(2, 2, 6, 16, 2, 3, 2, 0, 0, program, x, out, new Float32Array(12), w0, b0, w1, null);
      return out;
    };
    const y = new Float32Array(4);
    const plan = b.planPrepare!(2, 2, 6, 16, 2, 3, 2, 0, 0, program, x, y, new Float32Array(12), w0, b0, w1, null);
    expectBitwiseEqual(y, forward());
    buffer.resize(56);  // w0 and b0 are still there, w1's last element is not
    expect(() => b.planRun!(plan, 2, x, y)).toThrow(/^w1's ArrayBuffer was detached or shrunk after planPrepare/);
    buffer.resize(32);  // b0's last element is gone too: the first weight that cannot be read is named
    expect(() => b.planRun!(plan, 2, x, y)).toThrow(/^b0's ArrayBuffer was detached or shrunk after planPrepare/);
    buffer.resize(60);
    w1[5] = 0.25;  // came back as 0: set again, and the write shows
    y.fill(0);
    b.planRun!(plan, 2, x, y);
    expectBitwiseEqual(y, forward());
    structuredClone(buffer, { transfer: [buffer] });
    expect(() => b.planRun!(plan, 2, x, y)).toThrow(/^w0's ArrayBuffer was detached or shrunk after planPrepare/);
  });
});
