// Sequential on every backend: naming, prediction, evaluation, state dicts, configs, whole-network gradient
// checks (float64), the spiral and XOR results, fit()'s batching, callbacks, abort and NaN handling; and the
// same seeded training on ts and native ending with the same parameters.
import { beforeEach, describe, expect, it } from 'vitest';
import { nativeAvailable, setBackend } from '../src/backend/index';
import { tsBackend } from '../src/backend/ts/index';
import { spiral, xor } from '../src/data/toy';
import { checkNetwork } from '../src/gradcheck';
import { Dense, Dropout, Layer, ReLU, Sigmoid, Softmax, Tanh, type LayerConfig } from '../src/layers/index';
import { registerLayer } from '../src/layers/registry';
import { Adam, SGD } from '../src/optimizers';
import { FitAbortedError, Sequential } from '../src/network';
import { Tensor } from '../src/tensor';
import { backends, randn, uniform, useBackend } from './helpers';

// A layer with a buffer, to see buffers in state dicts: y = x + shift, shift a saved (non-trained) tensor.
class Shift extends Layer {
  constructor(readonly features: number) {
    super();
    this.buffers = [Tensor.full([features], 0.5)];
    this.bufferNames = ['shift'];
  }

  forward(x: Tensor): Tensor {
    const y = x.clone();
    for (let i = 0; i < y.size; i++) y.data[i] += this.buffers[0].data[i % this.features];
    return y;
  }

  backward(dout: Tensor): Tensor { return dout; }
  outputShape(s: readonly number[]): number[] { return [...s]; }
  config(): LayerConfig { return { type: 'TestShift', features: this.features }; }
}
registerLayer('TestShift', (c) => new Shift(c.features as number));

function mlp(seed = 1, dtype: 'float32' | 'float64' = 'float32'): Sequential {
  return new Sequential([new Dense(4, 8, { init: 'he' }), new ReLU(), new Dense(8, 3, { init: 'xavier' })], { seed, dtype });
}

/** max |a − b| / max(|a|, |b|, 0.01): relative error, read as absolute (×0.01) for parameters below 0.01, whose
 * few float32 bits left after cancellation (biases near 0) carry no relative meaning. */
function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(Math.abs(a[i]), Math.abs(b[i]), 0.01));
  return worst;
}

describe.each(backends)('Sequential on $label', (bc) => {
  beforeEach(() => useBackend(bc));

  it('names parameters by layer index, and the same seed builds the same network', () => {
    const net = mlp(7);
    expect(net.parameters().map((p) => p.name)).toEqual(['0.weight', '0.bias', '2.weight', '2.bias']);
    expect(net.parameters()[0].param.shape).toEqual([4, 8]);
    expect(Array.from(mlp(7).parameters()[2].param.data)).toEqual(Array.from(net.parameters()[2].param.data));
    expect(Array.from(mlp(8).parameters()[2].param.data)).not.toEqual(Array.from(net.parameters()[2].param.data));
  });

  it.each([
    ['Dense-ReLU-Dense, softmax CE, index labels', () => new Sequential([new Dense(4, 6), new ReLU(), new Dense(6, 3)], { dtype: 'float64', seed: 2 }),
      new Int32Array([0, 2, 1, 1, 0]), { loss: 'softmaxCrossEntropy' }],
    ['Dense-ReLU-Dense, softmax CE, one-hot, weight decay', () => new Sequential([new Dense(4, 6), new ReLU(), new Dense(6, 3)], { dtype: 'float64', seed: 3 }),
      new Tensor(new Float64Array([1, 0, 0, 0, 0, 1, 0, 1, 0, 0, 1, 0, 1, 0, 0]), [5, 3]), { loss: 'softmaxCrossEntropy', weightDecay: 0.01 }],
    ['Dense-Sigmoid-Dense, MSE', () => new Sequential([new Dense(4, 6, { init: 'xavier' }), new Sigmoid(), new Dense(6, 2)], { dtype: 'float64', seed: 4 }),
      uniform([5, 2], 1, -1, 1), { loss: 'mse' }],
    ['Dense-Sigmoid-Dense, MSE, weight decay', () => new Sequential([new Dense(4, 6, { init: 'xavier' }), new Sigmoid(), new Dense(6, 2)], { dtype: 'float64', seed: 5 }),
      uniform([5, 2], 2, -1, 1), { loss: 'mse', weightDecay: 0.1 }],
    ['Dense-Tanh-Dense-Softmax, MSE', () => new Sequential([new Dense(4, 5), new Tanh(), new Dense(5, 3), new Softmax()], { dtype: 'float64', seed: 6 }),
      new Int32Array([0, 2, 1, 1, 0]), { loss: 'mse' }],
    ['Dense-ReLU-Dense, BCE from logits', () => new Sequential([new Dense(4, 6), new ReLU(), new Dense(6, 1)], { dtype: 'float64', seed: 7 }),
      new Int32Array([0, 1, 1, 0, 1]), { loss: 'binaryCrossEntropy', weightDecay: 0.05 }],
  ] as [string, () => Sequential, Int32Array | Tensor, Record<string, unknown>][])('%s passes the whole-network gradient check', (_name, make, y, opts) => {
    const net = make();
    const r = checkNetwork(net, randn([5, 4], 9), y, opts);
    expect(Object.keys(r.params)).toEqual(net.parameters().map((p) => p.name));
    expect(r.maxRelError).toBeLessThanOrEqual(1e-6);
  });

  it('checkNetwork refuses a float32 network with a clear error', () => {
    expect(() => checkNetwork(mlp(1), randn([2, 4], 1), new Int32Array(2))).toThrow(/needs a float64 network \('0.weight' is float32\)/);
  });

  it('predictProba and predictClasses work for a batch and for a single sample', () => {
    const net = mlp(3);
    const x = randn([6, 4], 1).astype('float32');
    const p = net.predictProba(x);
    expect(p.shape).toEqual([6, 3]);
    for (let r = 0; r < 6; r++) expect(p.data[3 * r] + p.data[3 * r + 1] + p.data[3 * r + 2]).toBeCloseTo(1, 5);
    const classes = net.predictClasses(x);
    expect(classes).toBeInstanceOf(Int32Array);
    for (let r = 0; r < 6; r++) {
      const row = Array.from(p.data.subarray(3 * r, 3 * r + 3));
      expect(classes[r]).toBe(row.indexOf(Math.max(...row)));
    }
    const one = net.predictClasses(new Tensor(x.data.slice(8, 12), [4]));
    expect(Array.from(one)).toEqual([classes[2]]);
    expect(Array.from(net.predictClasses(x, { batchSize: 4 }))).toEqual(Array.from(classes));
    const bin = new Sequential([new Dense(4, 1)], { seed: 1 });
    const probs = bin.predictProba(x);
    expect(Array.from(bin.predictClasses(x))).toEqual(Array.from(probs.data, (v) => (v >= 0.5 ? 1 : 0)));
  });

  it('evaluate gives the same loss and accuracy in any batch size', () => {
    const net = new Sequential([new Dense(2, 8), new ReLU(), new Dense(8, 3)], { seed: 4 }), { x, y } = spiralData();
    const a = net.evaluate(x, y, { batchSize: 1000, loss: 'softmaxCrossEntropy' }), b = net.evaluate(x, y, { batchSize: 7, loss: 'softmaxCrossEntropy' });
    expect(b.loss).toBeCloseTo(a.loss, 5);
    expect(b.accuracy).toBe(a.accuracy);
    // the mean softmax cross-entropy and the argmax accuracy, from the logits by hand
    const z = net.forward(x).data;
    let loss = 0, correct = 0;
    for (let i = 0; i < y.length; i++) {
      const row = Array.from(z.subarray(3 * i, 3 * i + 3)), top = Math.max(...row);
      loss += top + Math.log(row.reduce((s, v) => s + Math.exp(v - top), 0)) - row[y[i]];
      if (row.indexOf(top) === y[i]) correct++;
    }
    expect(a.loss).toBeCloseTo(loss / y.length, 5);
    expect(a.accuracy).toBe(correct / y.length);
  });

  it('state dicts hold parameters and buffers, load shape-checked, and configs rebuild the network', () => {
    const net = new Sequential([new Dense(3, 4), new Shift(4), new ReLU(), new Dense(4, 2)], { seed: 5 });
    const dict = net.stateDict();
    expect(Object.keys(dict)).toEqual(['0.weight', '0.bias', '1.shift', '3.weight', '3.bias']);
    const config = JSON.parse(JSON.stringify(net.toConfig()));
    const copy = Sequential.fromConfig(config, { seed: 99 });
    copy.loadStateDict(Object.fromEntries(Object.entries(dict).map(([k, t]) => [k, t.clone()])));
    const x = randn([5, 3], 2).astype('float32');
    expect(Array.from(copy.forward(x).data)).toEqual(Array.from(net.forward(x).data));
    expect(() => copy.loadStateDict({ ...dict, '0.weight': Tensor.zeros([4, 3]) })).toThrow(/'0.weight' has shape \[4, 3\], expected \[3, 4\]/);
    const { '3.bias': _drop, ...missing } = dict;
    expect(() => copy.loadStateDict(missing)).toThrow(/missing 3.bias/);
    expect(() => copy.loadStateDict({ ...dict, extra: Tensor.zeros([1]) })).toThrow(/unexpected entries extra/);
    // strict: false ignores the unexpected entry and loads the rest
    const other = new Sequential([new Dense(3, 4), new Shift(4), new ReLU(), new Dense(4, 2)], { seed: 6 }).stateDict();
    copy.loadStateDict({ ...other, extra: Tensor.zeros([1]) }, { strict: false });
    expect(Object.keys(copy.stateDict())).toEqual(Object.keys(dict));
    for (const [k, t] of Object.entries(copy.stateDict())) expect(Array.from(t.data), k).toEqual(Array.from(other[k].data));
    expect(Array.from(copy.stateDict()['0.weight'].data)).not.toEqual(Array.from(dict['0.weight'].data));
    expect(config.layers[1]).toEqual({ type: 'TestShift', features: 4 });
  });

  it('summary lists layers, output shapes and parameter counts', () => {
    const s = new Sequential([new Dense(784, 100), new ReLU(), new Dropout(0.2), new Dense(100, 10)]).summary();
    expect(s).toMatch(/0 +Dense +\(N, 100\) +78500/);
    expect(s).toMatch(/2 +Dropout +\(N, 100\) +0/);
    expect(s).toMatch(/3 +Dense +\(N, 10\) +1010/);
    expect(s).toMatch(/Total parameters: 79510 \(float32\)/);
  });

  it('train/eval switch dropout, and predict runs in eval mode without changing the mode', () => {
    const net = new Sequential([new Dense(4, 50), new Dropout(0.5), new Dense(50, 3)], { seed: 1 });
    const x = randn([3, 4], 1).astype('float32');
    const a = net.forward(x), b = net.forward(x);
    expect(Array.from(a.data)).not.toEqual(Array.from(b.data));
    net.eval();
    expect(Array.from(net.forward(x).data)).toEqual(Array.from(net.forward(x).data));
    net.train();
    net.predict(x);
    expect(net.isTraining).toBe(true);
  });

  it('fit handles the last partial batch, validation data and callbacks, and returns the history', async () => {
    const { x, y } = spiralData(10);  // 30 samples
    const net2 = new Sequential([new Dense(2, 16, { init: 'he' }), new ReLU(), new Dense(16, 3)], { seed: 2 });
    const sizes: number[] = [], epochs: number[] = [];
    let batchSeen = 0;
    const h = await net2.fit(x, y, {
      optimizer: new SGD({ lr: 0.5 }), epochs: 3, batchSize: 8, validationData: [x, y],
      onBatchEnd: (b) => { sizes.push(b.batch); batchSeen++; expect(b.batches).toBe(4); },
      // the validation numbers are those of the network as it stands at the end of the epoch
      onEpochEnd: (e) => {
        epochs.push(e.epoch);
        const v = net2.evaluate(x, y);
        expect(e.valAccuracy).toBe(v.accuracy);
        expect(e.valLoss).toBeCloseTo(v.loss, 6);
      },
    });
    expect(batchSeen).toBe(12);
    expect(sizes.slice(0, 4)).toEqual([0, 1, 2, 3]);
    expect(epochs).toEqual([0, 1, 2]);
    for (const k of ['loss', 'accuracy', 'valLoss', 'valAccuracy'] as const) expect(h[k]).toHaveLength(3);
    expect(h.loss[2]).toBeLessThan(h.loss[0]);
    expect(h.valLoss[2]).toBeCloseTo(net2.evaluate(x, y).loss, 5);
  });

  it('fit with the same seed trains the same network', async () => {
    const { x, y } = spiralData(20);
    const run = async () => {
      const net = new Sequential([new Dense(2, 10), new ReLU(), new Dropout(0.1), new Dense(10, 3)], { seed: 11 });
      await net.fit(x, y, { optimizer: new Adam({ lr: 0.01 }), epochs: 2, batchSize: 16 });
      return Array.from(net.parameters()[2].param.data);
    };
    expect(await run()).toEqual(await run());
  });

  it('fit stops within one batch of an abort, with an AbortError holding the history', async () => {
    const { x, y } = spiralData(50);
    const small = new Sequential([new Dense(2, 8), new ReLU(), new Dense(8, 3)], { seed: 1 });
    const ctrl = new AbortController();
    let batches = 0;
    const p = small.fit(x, y, { epochs: 100, batchSize: 10, signal: ctrl.signal, onBatchEnd: (b) => { batches++; if (b.epoch === 1 && b.batch === 2) ctrl.abort(); } });
    await expect(p).rejects.toThrow(FitAbortedError);
    await expect(p).rejects.toMatchObject({ name: 'AbortError', message: /epoch 2, batch 4/ });
    expect(batches).toBe(15 + 3);
    const err = (await p.catch((e: unknown) => e)) as FitAbortedError;
    expect(err.history.loss).toHaveLength(1);
  });

  it('fit yields to the event loop between batches, so a timer-driven abort lands', async () => {
    const { x, y } = spiralData(50);
    const net = new Sequential([new Dense(2, 8), new ReLU(), new Dense(8, 3)], { seed: 1 });
    const ctrl = new AbortController();
    let ticks = 0;
    const timer = setInterval(() => { ticks++; if (ticks === 3) ctrl.abort(); }, 1);
    try {
      await expect(net.fit(x, y, { epochs: 100000, batchSize: 10, signal: ctrl.signal })).rejects.toThrow(/aborted/);
    } finally {
      clearInterval(timer);
    }
    expect(ticks).toBeGreaterThanOrEqual(3);
  });

  it('a NaN in the input stops fit with an error naming the epoch and the batch', async () => {
    const { x, y } = spiralData(10);
    x.data[2 * 13] = NaN;  // sample 13: batch 4 of 8 (batch size 4, no shuffle)
    const net = new Sequential([new Dense(2, 8), new ReLU(), new Dense(8, 3)], { seed: 1 });
    await expect(net.fit(x, y, { epochs: 2, batchSize: 4, shuffle: false }))
      .rejects.toThrow(/loss became NaN at epoch 1, batch 4 of 8; x holds NaN at index 26 \(sample 13, element 0\)/);
    await expect(net.fit(x, y, { epochs: 2, batchSize: 4 })).rejects.toThrow(/x holds NaN at index 26 \(sample 13, element 0\)/);
  });

  it('fit validates its arguments', async () => {
    const { x, y } = spiralData(5);
    const net = new Sequential([new Dense(2, 3)]);
    await expect(net.fit(x, y.subarray(1))).rejects.toThrow(/y has 14 labels but x has 15 samples/);
    await expect(net.fit(x, y, { epochs: 0 })).rejects.toThrow(/epochs must be a positive integer/);
    await expect(net.fit(x, y, { loss: 'nope' as never })).rejects.toThrow(/loss must be one of/);
    await expect(net.fit(x, y, { weightDecay: -1 })).rejects.toThrow(/weightDecay must be a non-negative number, got -1/);
    expect(() => new Sequential([{} as Layer])).toThrow(/layer 0 is not a Layer/);
  });

  it('learns the spiral: 3 x 100 points, 2-100-3 ReLU, softmax CE, SGD lr 1.0, L2 1e-3 -> at least 0.98', async () => {
    const { x, y } = spiral({ n: 100, k: 3, seed: 0 });
    const net = new Sequential([new Dense(2, 100, { init: 'he' }), new ReLU(), new Dense(100, 3, { init: 'he' })], { seed: 1 });
    // Full batch; the accuracy reaches 0.98 by epoch 500 and stays there to 10,000 (loss 0.358 -> 0.349).
    const h = await net.fit(x, y, { optimizer: new SGD({ lr: 1.0 }), epochs: 2000, batchSize: 300, shuffle: false, weightDecay: 1e-3 });
    const r = net.evaluate(x, y);
    console.log(`spiral on ${bc.label}: final training loss ${h.loss[h.loss.length - 1].toFixed(4)}, accuracy ${r.accuracy?.toFixed(4)}`);
    expect(r.accuracy).toBeGreaterThanOrEqual(0.98);
  }, 240_000);

  it('learns XOR: 2-8-1 sigmoid, MSE, SGD lr 1.0 -> all four correct', async () => {
    const { x, y } = xor();
    const net = new Sequential([new Dense(2, 8, { init: 'xavier' }), new Sigmoid(), new Dense(8, 1, { init: 'xavier' }), new Sigmoid()], { seed: 1 });
    const h = await net.fit(x, y, { loss: 'mse', optimizer: new SGD({ lr: 1.0 }), epochs: 5000, batchSize: 4 });
    const p = net.predictProba(x);
    console.log(`xor on ${bc.label}: final loss ${h.loss[h.loss.length - 1].toExponential(2)}, outputs ${Array.from(p.data, (v) => v.toFixed(3)).join(' ')}`);
    expect(Array.from(net.predictClasses(x))).toEqual([0, 1, 1, 0]);
    // mse is a regression loss: evaluate reports the loss, and the accuracy when asked
    expect(Object.keys(net.evaluate(x, y))).toEqual(['loss']);
    expect(net.evaluate(x, y, { metrics: ['accuracy'] }).accuracy).toBe(1);
  }, 120_000);
});

function spiralData(n = 30) {
  return spiral({ n, k: 3, seed: 3 });
}

describe.skipIf(!nativeAvailable())('the same seeded training on ts and native', () => {
  it.each([
    ['20 SGD steps', () => new SGD({ lr: 0.1 })],
    ['20 SGD steps with Nesterov momentum', () => new SGD({ lr: 0.05, momentum: 0.9, nesterov: true })],
    ['20 Adam steps', () => new Adam({ lr: 0.01 })],
  ])('%s end with the same float32 parameters (1e-5 relative)', async (_name, makeOpt) => {
    const { x, y } = spiral({ n: 40, k: 3, seed: 5 });  // 120 samples, batch 24: 5 steps per epoch, 4 epochs
    const params: Float32Array[][] = [];
    for (const backend of ['ts', 'native'] as const) {
      setBackend(backend);
      const net = new Sequential([new Dense(2, 32, { init: 'he' }), new ReLU(), new Dropout(0.1), new Dense(32, 3)], { seed: 42 });
      let steps = 0;
      await net.fit(x, y, { optimizer: makeOpt(), epochs: 4, batchSize: 24, weightDecay: 1e-3, onBatchEnd: () => { steps++; } });
      expect(steps).toBe(20);
      params.push(net.parameters().map((p) => p.param.data as Float32Array));
    }
    let worst = 0;
    params[0].forEach((a, i) => { worst = Math.max(worst, maxRelDiff(a, params[1][i])); });
    console.log(`${_name}: max relative parameter difference ts vs native ${worst.toExponential(2)}`);
    expect(worst).toBeLessThanOrEqual(1e-5);
  });
});

describe.each(backends)('shared layers, fit guards and non-finite input on $label', (bc) => {
  beforeEach(() => useBackend(bc));
  const values = (net: Sequential) => net.parameters().map((p) => Array.from(p.param.data));

  it('a layer trained by one network keeps its weights when another network takes it', async () => {
    const { x, y } = spiralData(30);
    const a = new Sequential([new Dense(2, 32, { init: 'he' }), new ReLU(), new Dense(32, 3)], { seed: 3 });
    await a.fit(x, y, { optimizer: new Adam({ lr: 0.02 }), epochs: 60, batchSize: 30 });
    const trained = values(a), accuracy = a.evaluate(x, y).accuracy, classes = Array.from(a.predictClasses(x));
    expect(accuracy).toBeGreaterThan(0.8);
    const b = new Sequential([a.layers[0], new Tanh(), new Dense(32, 3)], { seed: 9 });
    expect(values(a)).toEqual(trained);
    expect(a.evaluate(x, y).accuracy).toBe(accuracy);
    expect(Array.from(a.predictClasses(x))).toEqual(classes);
    expect(b.parameters()[0].param).toBe(a.parameters()[0].param);  // shared, not copied
    // B's own new layer is drawn from B's seed (the kept layer draws nothing)
    const fresh = new Sequential([new Dense(32, 3)], { seed: 9 });
    expect(Array.from(b.parameters()[2].param.data)).toEqual(Array.from(fresh.parameters()[0].param.data));
    // training B moves the shared layer (that is what sharing means) and leaves A's other layer alone
    await b.fit(x, y, { optimizer: new SGD({ lr: 0.1 }), epochs: 1, batchSize: 30 });
    expect(Array.from(a.parameters()[0].param.data)).not.toEqual(trained[0]);
    expect(Array.from(a.parameters()[2].param.data)).toEqual(trained[2]);
  });

  it('weights set or trained on a layer of its own are kept; untouched layers are drawn from the seed', () => {
    const set = new Dense(2, 2);
    set.weight.data.set([1, 2, 3, 4]);
    expect(Array.from(new Sequential([set], { seed: 5 }).parameters()[0].param.data)).toEqual([1, 2, 3, 4]);
    const trained = new Dense(2, 2, { dtype: 'float64' });
    trained.forward(new Tensor(new Float64Array([1, 2]), [1, 2]));
    trained.backward(new Tensor(new Float64Array([1, 1]), [1, 2]));
    new SGD({ lr: 0.5 }).step(trained.params.map((param, i) => ({ param, grad: trained.grads[i] })));
    const before = Array.from(trained.weight.data);
    expect(Array.from(new Sequential([trained], { seed: 5, dtype: 'float64' }).parameters()[0].param.data)).toEqual(before);
    // a layer as its constructor drew it is (re)drawn from the network's seed, whatever its own seed
    const own = new Sequential([new Dense(2, 2, { seed: 77 })], { seed: 5 }), plain = new Sequential([new Dense(2, 2)], { seed: 5 });
    expect(Array.from(own.parameters()[0].param.data)).toEqual(Array.from(plain.parameters()[0].param.data));
    // a kept layer must already be in the network's dtype
    expect(() => new Sequential([own.layers[0]], { dtype: 'float64' }))
      .toThrow(/layer 0 \(Dense\) already has float32 parameters .* but the network is float64/);
  });

  it('refuses the same layer instance twice in one network, with a clear error', () => {
    const d = new Dense(3, 3);
    expect(() => new Sequential([d, new Tanh(), d])).toThrow(RangeError);
    expect(() => new Sequential([d, new Tanh(), d])).toThrow(/layer 2 \(Dense\) is the same instance as layer 0: .*new Dense/);
    expect(() => new Sequential([d, d])).toThrow(/layer 1 \(Dense\) is the same instance as layer 0/);
    const net = new Sequential([d]);
    expect(() => net.add(d)).toThrow(/layer 1 \(Dense\) is the same instance as layer 0/);
    expect(net.layers).toHaveLength(1);
  });

  it('a layer shared by two networks runs in the mode of the network that calls it', () => {
    const drop = new Dropout(0.5);
    const a = new Sequential([new Dense(4, 16), drop], { seed: 1 }), b = new Sequential([new Dense(4, 16), drop], { seed: 2 });
    const x = randn([3, 4], 1).astype('float32');
    a.eval();
    b.train();
    b.forward(x);
    expect(Array.from(a.forward(x).data)).toEqual(Array.from(a.forward(x).data));  // no dropout in A's eval mode
    expect(Array.from(b.forward(x).data)).not.toEqual(Array.from(b.forward(x).data));
  });

  it('a second fit() on a network that is training is refused; the first one finishes', async () => {
    const { x, y } = spiralData(10);
    const net = new Sequential([new Dense(2, 8), new ReLU(), new Dense(8, 3)], { seed: 1 });
    let batches = 0;
    const first = net.fit(x, y, { epochs: 3, batchSize: 5, onBatchEnd: async () => { batches++; await new Promise((r) => setImmediate(r)); } });
    await expect(net.fit(x, y)).rejects.toThrow(/fit\(\) is already running on this network/);
    const h = await first;
    expect(h.loss).toHaveLength(3);
    expect(batches).toBe(18);
    await expect(net.fit(x, y, { epochs: 1 })).resolves.toMatchObject({ loss: [expect.any(Number)] });
  });

  it('fit validates every option before the first batch, naming it, and leaves the weights alone', async () => {
    const { x, y } = spiralData(5);
    const net = new Sequential([new Dense(2, 3)], { seed: 1 });
    const before = values(net);
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ onBatchEnd: 'x' }, /onBatchEnd must be a function, got the string 'x'/],
      [{ onEpochEnd: 1 }, /onEpochEnd must be a function, got 1/],
      [{ signal: 'yes' }, /signal must be an AbortSignal .*, got the string 'yes'/],
      [{ optimizer: {} }, /optimizer must be an Optimizer .* or one of 'sgd', .*'adam'.*, got an object/],
      [{ optimizer: 'nadam' }, /optimizer must be .*, got the string 'nadam'/],
      [{ epochs: 1.5 }, /epochs must be a positive integer, got 1.5/],
      [{ epochs: '3' }, /epochs must be a positive integer, got the string '3'/],
      [{ batchSize: 0 }, /batchSize must be a positive integer, got 0/],
      [{ shuffle: 'yes' }, /shuffle must be true or false, got the string 'yes'/],
      [{ weightDecay: '0.1' }, /weight ?[dD]ecay must be a non-negative number, got the string '0.1'/],
      [{ validationData: [Tensor.zeros([4, 3]), new Int32Array(4)] }, /validationData x has samples of shape \[3\] but x has \[2\]/],
      [{ validationData: 'v' }, /validationData must be \[x, y\]/],
      [{ epoch: 3 }, /unknown fit\(\) option 'epoch'; the options are .*epochs/],
      [{ loss: 'nope' }, /loss must be one of .* or a function, got the string 'nope'/],
    ];
    for (const [opts, message] of bad) {
      await expect(net.fit(x, y, opts as never), JSON.stringify(Object.keys(opts))).rejects.toThrow(message);
      expect(values(net)).toEqual(before);
    }
    await expect(net.fit(x, y, null as never)).rejects.toThrow(/fit\(\) options must be an options object, got null/);
    // an optimizer by name trains with that optimizer's defaults
    const named = new Sequential([new Dense(2, 3)], { seed: 1 }), given = new Sequential([new Dense(2, 3)], { seed: 1 });
    await named.fit(x, y, { optimizer: 'adam', epochs: 2 });
    await given.fit(x, y, { optimizer: new Adam(), epochs: 2 });
    expect(values(named)).toEqual(values(given));
  });

  it('a schedule that gives a negative or non-finite learning rate stops fit before training, naming the epoch and the value', async () => {
    const { x, y } = spiralData(5);
    const net = new Sequential([new Dense(2, 3)], { seed: 1 });
    const before = values(net);
    const optimizer = new SGD({ lr: 0.5, schedule: (e, lr) => lr - 0.375 * e });
    let batches = 0;
    await expect(net.fit(x, y, { optimizer, epochs: 4, onBatchEnd: () => { batches++; } }))
      .rejects.toThrow(/the learning-rate schedule gave -0.25 for epoch 2 \(0-based\); a learning rate must be a finite number >= 0/);
    expect(batches).toBe(0);
    expect(values(net)).toEqual(before);
    // a schedule that changes its mind while training is caught at the start of the epoch
    let rate = 0.1;
    const moody = new SGD({ lr: 0.1, schedule: () => rate });
    await expect(net.fit(x, y, { optimizer: moody, epochs: 3, onEpochEnd: () => { rate = NaN; } }))
      .rejects.toThrow(/schedule gave NaN for epoch 1/);
  });

  it('predict and evaluate refuse NaN or Infinity in x, naming the first offending index', () => {
    const net = new Sequential([new Dense(4, 8), new ReLU(), new Dense(8, 3)], { seed: 1 });
    const x = randn([6, 4], 2).astype('float32');
    x.data[9] = NaN;
    x.data[13] = Infinity;
    const message = /x holds NaN at index 9 \(sample 2, element 1\)/;
    expect(() => net.predict(x)).toThrow(message);
    expect(() => net.predictProba(x)).toThrow(message);
    expect(() => net.evaluate(x, new Int32Array(6), { loss: 'softmaxCrossEntropy' })).toThrow(message);
    x.data[9] = 0;
    expect(() => net.predict(x)).toThrow(/x holds Infinity at index 13 \(sample 3, element 1\)/);
    expect(() => net.predict(new Tensor(x.data.slice(12, 16), [4]))).toThrow(/x holds Infinity at index 1 \(sample 0, element 1\)/);
    x.data[13] = 1;
    // the rule: a NaN always reaches the output; an infinity an activation saturates gives a finite, exact answer
    const squashed = new Sequential([new Dense(4, 1), new Sigmoid()], { seed: 1 });
    const inf = new Tensor(new Float32Array([Infinity, 0, 0, 0]), [1, 4]);
    expect([0, 1]).toContain(squashed.predictProba(inf).data[0]);
    // finite input, broken weights: the output (predict) or the loss (evaluate) is reported
    net.parameters()[3].param.data[0] = NaN;  // the last bias
    expect(() => net.predict(x)).toThrow(/predict\(\): the network's output holds NaN at row 0 .* parameters/);
    expect(() => net.evaluate(x, new Int32Array(6), { loss: 'softmaxCrossEntropy' })).toThrow(/evaluate\(\): the loss is NaN on samples 1 to 6 of 6/);
  });

  it('a tensor whose buffer was transferred (detached) is reported as detached', () => {
    const net = new Sequential([new Dense(3, 2)], { seed: 1 });
    const x = Tensor.zeros([2, 3]);
    structuredClone(x.data.buffer, { transfer: [x.data.buffer] });
    const message = /x's ArrayBuffer is detached/;
    expect(() => net.predict(x)).toThrow(message);
    expect(() => net.forward(x)).toThrow(message);
    expect(() => new Dense(3, 2).forward(x)).toThrow(/Dense: input's ArrayBuffer is detached/);
    expect(() => new ReLU().forward(x)).toThrow(/ReLU: input's ArrayBuffer is detached/);
    expect(() => x.clone()).toThrow(/tensor's ArrayBuffer is detached: it was transferred/);
    expect(() => new Tensor(x.data, [2, 3])).toThrow(/data's ArrayBuffer is detached/);
    // the TS kernels' own argument checks say it too (native/addon.cc checks its arguments separately)
    const out = new Float32Array(4);
    expect(() => tsBackend.gemm(false, false, 2, 2, 3, 1, x.data, new Float32Array(6), 0, out)).toThrow(/A's ArrayBuffer is detached/);
    expect(() => tsBackend.sumSquares(6, x.data)).toThrow(/x's ArrayBuffer is detached/);
  });
});
