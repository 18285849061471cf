// Training's Conv2D + MaxPool2D(2) in one kernel call (conv2dPoolForward / conv2dPoolBackward, which fit() runs for
// the pair): the same numbers as the two layers one after the other, bitwise, on every backend and thread count;
// float64 gradients against central differences. The kernels against the float64 references: test/reference-grid.
import { beforeEach, describe, expect, it } from 'vitest';
import {
  BatchNorm2D, Conv2D, Dense, Flatten, MaxPool2D, ReLU, SGD, Sequential, Tensor, gradcheck, type DType,
} from '../src/index';
import { Random } from '../src/random';
import { nativeAddon, setThreads } from '../src/backend/index';
import { backends, nativeIsas, randomArray, useBackend } from './helpers';

/** A network with both pairs the fit() loop fuses: odd sizes (the last row and column no window reads). */
function network(dtype: DType, seed: number): Sequential {
  return new Sequential([
    new Conv2D(2, 5, 3, { padding: 1 }), new MaxPool2D(2), new BatchNorm2D(5), new ReLU(),
    new Conv2D(5, 17, 3, { padding: 1 }), new MaxPool2D(2), new ReLU(),
    new Flatten(), new Dense(17 * 2 * 2, 3),
  ], { seed, dtype });
}

function data(dtype: DType, N: number, seed: number): [Tensor, Int32Array] {
  const C = dtype === 'float64' ? Float64Array : Float32Array;
  const x = new Tensor(randomArray(C, N * 2 * 9 * 9, seed), [N, 2, 9, 9]);
  const r = new Random(seed);
  return [x, Int32Array.from({ length: N }, () => Math.floor(r.uniform() * 3))];
}

function bits(t: Tensor): number[] {
  return Array.from(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
}

/** One fit() step's gradients: fit runs the fused pairs. */
async function fusedGradients(dtype: DType, N: number): Promise<number[][]> {
  const net = network(dtype, 3), [x, y] = data(dtype, N, 4);
  await net.fit(x, y, { optimizer: new SGD({ lr: 0.01 }), epochs: 1, batchSize: N, shuffle: false, verbose: 0 });
  return net.parameters().map((p) => bits(p.grad));
}

describe.each(backends)('fused Conv2D + MaxPool2D in training on $label', (bc) => {
  beforeEach(() => useBackend(bc));

  it.each(['float32', 'float64'] as DType[])('%s: fit() has the gradients of the layers one by one, bitwise', async (dtype) => {
    const N = 19;
    const fused = await fusedGradients(dtype, N);
    // lossAndGradients() runs every layer's own forward and backward
    const net = network(dtype, 3), [x, y] = data(dtype, N, 4);
    net.lossAndGradients(x, y, { loss: 'softmaxCrossEntropy' });
    const separate = net.parameters().map((p) => bits(p.grad));
    expect(fused.length).toBe(8);
    expect(fused.some((g) => g.some((b) => b !== 0))).toBe(true);
    fused.forEach((g, i) => expect(g, `parameter ${net.parameters()[i].name}`).toEqual(separate[i]));
  });

  it('a network trained by fit() with the fused pairs ends where the separate layers end', async () => {
    const [x, y] = data('float32', 40, 5);
    const a = network('float32', 6), b = network('float32', 6);
    await a.fit(x, y, { optimizer: new SGD({ lr: 0.05 }), epochs: 2, batchSize: 8, shuffle: false, verbose: 0 });
    // the same steps through lossAndGradients (no fusion) and the same optimizer
    const opt = new SGD({ lr: 0.05 });
    const params = b.parameters().map((p) => ({ param: p.param, grad: p.grad }));
    for (let e = 0; e < 2; e++) {
      for (let i = 0; i < 40; i += 8) {
        const xb = new Tensor(x.data.subarray(i * 162, (i + 8) * 162), [8, 2, 9, 9]);
        b.lossAndGradients(xb, y.subarray(i, i + 8), { loss: 'softmaxCrossEntropy' });
        opt.step(params);
      }
    }
    a.parameters().forEach((p, i) => expect(bits(p.param), p.name).toEqual(bits(b.parameters()[i].param)));
  });

  it('conv2dPoolForward/Backward through a layer: float64 gradients against central differences', () => {
    // Conv2D's forward() as the fused pair; backward() then takes the pooled gradient
    class PooledConv extends Conv2D {
      override forward(x: Tensor): Tensor { return this.forwardPooled(x); }
    }
    const configs = [[2, 2, 3, 7, 6, 3, 1, 1], [3, 1, 17, 9, 8, 2, 1, 0], [1, 3, 2, 11, 9, 3, 2, 1]];
    for (const [N, C, F, H, W, k, s, p] of configs) {
      const layer = new PooledConv(C, F, k, { stride: s, padding: p, dtype: 'float64', seed: N + F });
      const x = new Tensor(randomArray(Float64Array, N * C * H * W, 7 + F), [N, C, H, W]);
      const r = gradcheck.checkLayer(layer, x, { dtype: 'float64', seed: 3 });
      expect(r.maxRelError, JSON.stringify(r)).toBeLessThan(1e-6);
    }
  });

  it('refuses a convolution output smaller than 2 x 2 for the fused pooling', () => {
    const conv = new Conv2D(1, 2, 3);
    expect(() => conv.forwardPooled(Tensor.zeros([1, 1, 4, 3]))).toThrow(
      new RangeError('Conv2D: a fused 2x2 pooling needs an output of at least 2 x 2, got 2 x 1'));
  });
});

describe.each(nativeIsas)('fused Conv2D + MaxPool2D on $label: the same for 1 and 2 threads', (bc) => {
  beforeEach(() => useBackend(bc));

  it('gradients of a batch of 37 (backward-filter chunks of 3 images, images over threads)', async () => {
    const before = nativeAddon().info().threads;
    const grads: number[][][] = [];
    try {
      for (const n of [1, 2]) {
        setThreads(n);
        grads.push(await fusedGradients('float32', 37));
      }
    } finally {
      setThreads(before);
    }
    grads[0].forEach((g, i) => expect(g).toEqual(grads[1][i]));
  });
});
