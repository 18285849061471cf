// Gradient checks (float64, central differences, max relative error <= 1e-6) of every conv, pooling and
// batch-norm layer over many configurations, on every backend; and a small CNN through Sequential.
import { beforeEach, describe, expect, it } from 'vitest';
import {
  AvgPool2D, BatchNorm1D, BatchNorm2D, Conv1D, Conv2D, Dense, Flatten, GlobalAvgPool2D, Layer, MaxPool2D, ReLU,
  Sequential, Tensor, gradcheck,
} from '../src/index';
import { Random } from '../src/random';
import { backends, randn, useBackend } from './helpers';

/** Distinct values at least 0.01 apart in random order: no window of a max pool has a near-tie. */
function distinct(shape: number[], seed: number): Tensor {
  const t = Tensor.zeros(shape, 'float64');
  const p = new Random(seed).permutation(t.size);
  for (let i = 0; i < t.size; i++) t.data[i] = (p[i] - t.size / 2) * 0.01;
  return t;
}

function expectGradients(layer: Layer, x: Tensor, what: string): void {
  const r = gradcheck.checkLayer(layer, x, { dtype: 'float64', seed: 3 });
  if (!(r.maxRelError <= 1e-6)) throw new Error(`${what}: max relative error ${r.maxRelError} (${JSON.stringify(r)})`);
}

/** stride 1/2 x padding 0/1/2 x kernel 1/3/5 over (N, C, F, H, W) with H != W, batch 1 and 4, channels 1 and 3. */
const convConfigs = (() => {
  const shapes = [[1, 1, 3, 5, 7], [4, 3, 1, 6, 5], [1, 3, 3, 7, 5], [4, 1, 3, 5, 6]];
  const list: { N: number; C: number; F: number; H: number; W: number; k: number; s: number; p: number }[] = [];
  let i = 0;
  for (const k of [1, 3, 5]) for (const s of [1, 2]) for (const p of [0, 1, 2]) {
    const [N, C, F, H, W] = shapes[i++ % shapes.length];
    if (H + 2 * p >= k && W + 2 * p >= k) list.push({ N, C, F, H, W, k, s, p });
  }
  return list;
})();

describe.each(backends)('gradient checks of conv layers on $label', (bc) => {
  beforeEach(() => useBackend(bc));

  it.each(convConfigs)('Conv2D N=$N C=$C F=$F HxW=$Hx$W kernel $k stride $s padding $p', ({ N, C, F, H, W, k, s, p }) => {
    const conv = new Conv2D(C, F, k, { stride: s, padding: p, dtype: 'float64', seed: N + k });
    expectGradients(conv, randn([N, C, H, W], k * 10 + s + p), 'Conv2D');
  });

  it('Conv2D with per-axis kernel, stride and padding, and without bias', () => {
    expectGradients(new Conv2D(2, 3, [3, 2], { stride: [2, 1], padding: [1, 2], dtype: 'float64' }), randn([2, 2, 6, 5], 1), 'Conv2D');
    expectGradients(new Conv2D(3, 2, [1, 4], { stride: [1, 3], bias: false, init: 'he', dtype: 'float64' }), randn([3, 3, 4, 9], 2), 'Conv2D');
  });

  it('Conv1D over stride, padding and kernel', () => {
    for (const [N, C, F, L, k, s, p] of [[1, 1, 1, 9, 3, 2, 1], [4, 3, 2, 7, 5, 1, 2], [2, 3, 3, 8, 1, 2, 0], [1, 2, 4, 5, 3, 1, 0]]) {
      expectGradients(new Conv1D(C, F, k, { stride: s, padding: p, dtype: 'float64', seed: L }), randn([N, C, L], L), 'Conv1D');
    }
  });

  it('MaxPool2D and AvgPool2D: adjacent, overlapping and uneven windows', () => {
    const cases: [number | [number, number], number | [number, number] | undefined, number[]][] = [
      [2, undefined, [2, 3, 4, 6]], [3, 2, [1, 2, 7, 5]], [[2, 3], [1, 2], [4, 1, 5, 8]], [3, 1, [1, 3, 5, 4]],
    ];
    cases.forEach(([k, s, shape], i) => {
      expectGradients(new MaxPool2D(k, { stride: s }), distinct(shape, i), 'MaxPool2D');
      expectGradients(new AvgPool2D(k, { stride: s }), randn(shape, i), 'AvgPool2D');
    });
    expectGradients(new GlobalAvgPool2D(), randn([3, 4, 5, 2], 9), 'GlobalAvgPool2D');
  });

  it('BatchNorm1D and BatchNorm2D, training and eval, with random weight and bias', () => {
    const layers: [Layer & { weight: Tensor; bias: Tensor }, number[]][] = [
      [new BatchNorm1D(3, { dtype: 'float64' }), [4, 3]],
      [new BatchNorm1D(3, { dtype: 'float64', momentum: 0.3 }), [2, 3, 5]],
      [new BatchNorm2D(3, { dtype: 'float64' }), [2, 3, 4, 5]],
      [new BatchNorm2D(1, { dtype: 'float64', eps: 1e-3 }), [1, 1, 3, 2]],
    ];
    layers.forEach(([bn, shape], i) => {
      bn.weight.data.set(randn([bn.weight.size], 20 + i).data);
      bn.bias.data.set(randn([bn.bias.size], 30 + i).data);
      for (const training of [true, false]) {
        bn.training = training;
        expectGradients(bn, randn(shape, 40 + i).reshape(shape), `${bn.name} training=${training}`);
      }
    });
  });

  it('a small CNN in Sequential: every parameter against central differences of the loss', () => {
    const net = new Sequential([
      // no bias before batch norm: its gradient is exactly zero, so only rounding noise would be compared
      new Conv2D(1, 2, 3, { padding: 1, bias: false }), new BatchNorm2D(2), new ReLU(), new MaxPool2D(2),
      new Conv2D(2, 3, 3, { stride: 2, padding: 1 }), new ReLU(), new Flatten(), new Dense(3 * 2 * 2, 3),
    ], { seed: 5, dtype: 'float64' });
    const x = randn([3, 1, 7, 8], 6);
    const r = gradcheck.checkNetwork(net, x, new Int32Array([0, 2, 1]), { loss: 'softmaxCrossEntropy' });
    expect(r.maxRelError, JSON.stringify(r.params)).toBeLessThan(1e-6);
    expect(Object.keys(r.params)).toEqual(['0.weight', '1.weight', '1.bias', '4.weight', '4.bias', '7.weight', '7.bias']);
  });
});
