// The training loop's buffer reuse (layers/buffers.ts) on every backend: fit() reuses layer outputs, gradients,
// the loss gradient and batch buffers, overwrites gradients instead of zeroing them and skips the first layer's
// input gradient; none of that may change a result. fit() is compared bitwise with the same steps taken
// through the public forward/backward API (fresh copies, accumulated gradients, every dx computed).
import { beforeEach, describe, expect, it } from 'vitest';
import { Dense, Dropout, Flatten, ReLU, Sigmoid, Softmax, Tanh } from '../src/layers/index';
import { Adam, type Optimizer, SGD } from '../src/optimizers';
import { softmaxCrossEntropy, mse } from '../src/losses';
import { Sequential } from '../src/network';
import { Tensor } from '../src/tensor';
import { nativeAddon, setThreads } from '../src/backend/index';
import { backends, expectBitwiseEqual, nativeIsas, randn, useBackend } from './helpers';

function mlp(dtype: 'float32' | 'float64' = 'float32', dropout = 0): Sequential {
  return new Sequential([new Flatten(), new Dense(12, 16), new ReLU(), new Dropout(dropout), new Dense(16, 8), new Tanh(),
    new Dense(8, 3)], { seed: 5, dtype });
}

function labels(n: number): Int32Array {
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) y[i] = (i * 7) % 3;
  return y;
}

/** fit()'s steps by hand through the public API: shuffle from net.rng, gather, zeroGrad, forward, backward, step. */
function manualEpochs(net: Sequential, x: Tensor, y: Int32Array, bs: number, epochs: number, opt: Optimizer,
  shuffle: boolean): number[] {
  const n = x.shape[0], sample = x.size / n, losses: number[] = [];
  const order = Int32Array.from({ length: n }, (_, i) => i);
  for (let e = 0; e < epochs; e++) {
    opt.setEpoch(e);
    if (shuffle) net.rng.shuffle(order);
    for (let start = 0; start < n; start += bs) {
      const m = Math.min(bs, n - start);
      const xb = Tensor.zeros([m, ...x.shape.slice(1)], x.dtype), yb = new Int32Array(m);
      for (let i = 0; i < m; i++) {
        const k = order[start + i];
        xb.data.set(x.data.subarray(k * sample, (k + 1) * sample), i * sample);
        yb[i] = y[k];
      }
      net.zeroGrad();
      const { loss, grad } = softmaxCrossEntropy(net.forward(xb), yb);
      net.backward(grad);
      opt.step(net.parameters());
      losses.push(loss);
    }
  }
  return losses;
}

describe.each(backends)('training loop buffers on $label', (bc) => {
  beforeEach(() => useBackend(bc));

  for (const [dtype, shuffle, dropout] of [['float32', true, 0], ['float32', false, 0.3], ['float64', true, 0.5]] as const) {
    it(`fit() equals the same steps through the public API, bitwise (${dtype}, shuffle ${shuffle}, dropout ${dropout})`, async () => {
      // 23 samples at batch 5: four full batches and a partial one, so the buffers change shape every epoch
      const x = randn([23, 3, 4], 1).astype(dtype), y = labels(23);
      const a = mlp(dtype, dropout), b = mlp(dtype, dropout);
      const batchLosses: number[] = [];
      await a.fit(x, y, { optimizer: new Adam({ lr: 0.01 }), epochs: 3, batchSize: 5, shuffle,
        onBatchEnd: (i) => { batchLosses.push(i.loss); } });
      b.train();
      const manual = manualEpochs(b, x, y, 5, 3, new Adam({ lr: 0.01 }), shuffle);
      expect(batchLosses).toEqual(manual);
      a.parameters().forEach((p, i) => expectBitwiseEqual(p.param.data, b.parameters()[i].param.data));
      // the gradients of the last step are the same too (overwritten vs zeroed then accumulated)
      a.parameters().forEach((p, i) => expectBitwiseEqual(p.grad.data, b.parameters()[i].grad.data));
    });
  }

  it('fit() with SGD and a Softmax + mse network equals the public API steps, bitwise', async () => {
    const x = randn([10, 4], 2).astype('float32'), t = randn([10, 3], 3).astype('float32');
    const make = () => new Sequential([new Dense(4, 6), new Sigmoid(), new Dense(6, 3), new Softmax()], { seed: 9 });
    const a = make(), b = make();
    await a.fit(x, t, { loss: 'mse', optimizer: new SGD({ lr: 0.5, momentum: 0.9 }), epochs: 2, batchSize: 4, shuffle: false });
    const opt = new SGD({ lr: 0.5, momentum: 0.9 });
    for (let e = 0; e < 2; e++) {
      for (let s = 0; s < 10; s += 4) {
        const e2 = Math.min(10, s + 4);
        const xb = new Tensor(x.data.slice(s * 4, e2 * 4), [e2 - s, 4]), tb = new Tensor(t.data.slice(s * 3, e2 * 3), [e2 - s, 3]);
        b.zeroGrad();
        b.backward(mse(b.forward(xb), tb).grad);
        opt.step(b.parameters());
      }
    }
    a.parameters().forEach((p, i) => expectBitwiseEqual(p.param.data, b.parameters()[i].param.data));
  });

  it('Sequential.forward/backward/predictProba return tensors that later calls leave alone', () => {
    const net = mlp();
    const x1 = randn([4, 12], 4).astype('float32'), x2 = randn([4, 12], 5).astype('float32');
    const y1 = net.forward(x1), y1copy = y1.clone();
    const d1 = net.backward(Tensor.full([4, 3], 1)), d1copy = d1.clone();
    const y2 = net.forward(x2);
    net.backward(Tensor.full([4, 3], -2));
    expectBitwiseEqual(y1.data, y1copy.data);
    expectBitwiseEqual(d1.data, d1copy.data);
    expect(Array.from(y2.data)).not.toEqual(Array.from(y1.data));
    const p1 = net.predictProba(x1), p1copy = p1.clone();
    net.predictProba(x2);
    expectBitwiseEqual(p1.data, p1copy.data);
    // and a repeated forward of the same input gives the same values
    expectBitwiseEqual(net.forward(x1).data, y1copy.data);
  });

  it('layers reuse their outputs inside a Sequential, and return fresh tensors on their own', () => {
    const own = new Dense(3, 2), x = Tensor.full([2, 3], 1);
    expect(own.reuseBuffers).toBe(false);
    const a = own.forward(x), b = own.forward(x);
    expect(a).not.toBe(b);
    expect(a.data.buffer).not.toBe(b.data.buffer);
    const net = new Sequential([new Dense(3, 2), new ReLU()]);
    const l0 = net.layers[0], l1 = net.layers[1];
    expect(l0.reuseBuffers && l1.reuseBuffers).toBe(true);
    const h1 = l0.forward(x), o1 = l1.forward(h1), o2 = l1.forward(l0.forward(x));
    expect(o2).toBe(o1);  // same tensor: valid until the layer's next forward
    // a smaller batch is a view of the same storage; a larger one grows it
    const small = l0.forward(Tensor.full([1, 3], 1));
    expect(small.shape).toEqual([1, 2]);
    expect(small.data.buffer).toBe(h1.data.buffer);
    const big = l0.forward(Tensor.full([5, 3], 2));
    expect(big.shape).toEqual([5, 2]);
    // stale values never leak: every element is recomputed
    const fresh = new Dense(3, 2);
    fresh.params.forEach((p, i) => p.data.set(l0.params[i].data));
    expectBitwiseEqual(l0.forward(Tensor.full([1, 3], 2)).data, fresh.forward(Tensor.full([1, 3], 2)).data);
  });

  it('Dense.backwardTrain overwrites or accumulates gradients and skips dx on request', () => {
    const d = new Dense(4, 3, { seed: 2 }), x = randn([5, 4], 6).astype('float32'), dout = randn([5, 3], 7).astype('float32');
    d.forward(x);
    d.zeroGrad();
    const dx = d.backward(dout).clone();
    const g = d.grads.map((t) => t.clone());
    d.grads.forEach((t) => t.data.fill(123));
    expect(d.backwardTrain(dout, false, false)).toBeNull();
    d.grads.forEach((t, i) => expectBitwiseEqual(t.data, g[i].data));
    const dx2 = d.backwardTrain(dout, true, true);
    expectBitwiseEqual(dx2!.data, dx.data);
    d.grads.forEach((t, i) => expectBitwiseEqual(t.data, g[i].data.map((v) => v + v)));
    expect(() => d.backwardTrain(Tensor.zeros([5, 2]), false, true)).toThrow(/Dense: dout must be float32 of shape \[5, 3\]/);
  });
});

describe.skipIf(nativeIsas.length === 0).each(nativeIsas)('training with threads on $label', (bc) => {
  beforeEach(() => useBackend(bc));

  it('fit() ends with bitwise-identical parameters on 1 and 2 threads (chunked ReLU, Adam, bias over 65,536 elements)', async () => {
    // batch 256 x 300 features: the activations, bias adds and the 90,000-weight Adam update all run chunked
    const x = randn([512, 40], 8).astype('float32'), y = labels(512);
    const train = async (threads: number) => {
      const before = nativeAddon().info().threads;
      setThreads(threads);  // for the whole asynchronous fit (withThreads would restore it at the first await)
      try {
        const net = new Sequential([new Dense(40, 300), new ReLU(), new Dense(300, 300), new Tanh(), new Dense(300, 3)], { seed: 3 });
        await net.fit(x, y, { optimizer: new Adam({ lr: 0.01 }), epochs: 2, batchSize: 256,
          onBatchEnd: () => expect(nativeAddon().info().threads).toBe(threads) });
        return net;
      } finally {
        setThreads(before);
      }
    };
    const a = await train(1), b = await train(2);
    a.parameters().forEach((p, i) => expectBitwiseEqual(p.param.data, b.parameters()[i].param.data));
  });
});
