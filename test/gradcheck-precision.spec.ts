// numericalGradientFromUpstream keeps its digits: the upstream sum is formed from the differences f(x+h) − f(x−h),
// not as the difference of two large sums (which lost about four digits: LeakyReLU checked at 1.5e-7).
// Every built-in layer's float64 check is below 1e-9 on these seeded inputs. The bound is not universal: central
// differences carry a rounding error of about ε·|f|/h, which is large relative to an element of the gradient that
// is itself small (a sum of cancelling terms, as in BatchNorm's dx), so other inputs can show 1e-8 there.
import { beforeEach, describe, expect, it } from 'vitest';
import { checkLayer, numericalGradientFromUpstream, relativeError } from '../src/gradcheck';
import {
  AvgPool2D, BatchNorm1D, BatchNorm2D, Conv1D, Conv2D, Dense, Dropout, Flatten, GlobalAvgPool2D, LayerNorm, LeakyReLU,
  MaxPool2D, ReLU, Sigmoid, Softmax, Step, Tanh, registeredLayers, type Layer,
} from '../src/layers/index';
import { Tensor } from '../src/tensor';
import { backends, randn, useBackend } from './helpers';

const builtIn: [string, () => Layer, number[]][] = [
  ['Dense', () => new Dense(5, 4, { dtype: 'float64', init: 'he', seed: 1 }), [3, 5]],
  ['ReLU', () => new ReLU(), [4, 5]],
  ['LeakyReLU', () => new LeakyReLU(0.1), [2, 3, 4]],
  ['Sigmoid', () => new Sigmoid(), [4, 5]],
  ['Tanh', () => new Tanh(), [4, 5]],
  ['Step', () => new Step(), [4, 5]],
  ['Softmax', () => new Softmax(), [4, 6]],
  ['Flatten', () => new Flatten(), [2, 3, 2, 2]],
  ['Dropout', () => { const d = new Dropout(0.5); d.training = false; return d; }, [3, 4]],
  ['Conv2D', () => new Conv2D(2, 3, 3, { padding: 1, dtype: 'float64', seed: 2 }), [2, 2, 5, 4]],
  ['Conv1D', () => new Conv1D(2, 3, 3, { dtype: 'float64', seed: 3 }), [2, 2, 7]],
  ['MaxPool2D', () => new MaxPool2D(2), [2, 2, 4, 4]],
  ['AvgPool2D', () => new AvgPool2D(2), [2, 2, 4, 4]],
  ['GlobalAvgPool2D', () => new GlobalAvgPool2D(), [2, 3, 3, 3]],
  ['BatchNorm1D', () => new BatchNorm1D(4), [5, 4]],
  ['BatchNorm2D', () => new BatchNorm2D(3), [2, 3, 3, 3]],
  ['LayerNorm', () => new LayerNorm([3, 4], { dtype: 'float64' }), [2, 3, 4]],
];
/** Layers whose input is not a float to differentiate: Embedding's indices (its weight: test/sequence-layers.spec.ts). */
const notCheckable = ['Embedding'];

describe.each(backends)('float64 layer checks on $label', (bc) => {
  beforeEach(() => useBackend(bc));

  it('cover every built-in layer type', () => {
    const covered = builtIn.map(([name]) => name).sort();
    expect(covered).toEqual(registeredLayers().filter((t) => !t.startsWith('Test') && !notCheckable.includes(t)));
  });

  it.each(builtIn)('%s: dx and every parameter gradient agree to below 1e-9', (_name, make, shape) => {
    const r = checkLayer(make(), randn(shape, 4));
    expect(r.maxRelError).toBeLessThan(1e-9);
  });

  it('the upstream variant is exact to rounding where the old formula lost four digits (LeakyReLU, 600 outputs)', () => {
    const x = randn([20, 30], 1), dout = randn([20, 30], 2), slope = 0.01;
    const layer = new LeakyReLU(slope);
    const num = numericalGradientFromUpstream((t) => layer.forward(t), x, dout);
    const exact = dout.data.map((d, i) => (x.data[i] > 0 ? d : slope * d));
    expect(relativeError(num, exact)).toBeLessThan(1e-10);  // 5.7e-7 before
  });
});

describe('numericalGradientFromUpstream', () => {
  it('accepts an f that returns the same tensor on every call, or x itself', () => {
    const x = new Tensor(new Float64Array([0.5, -2]), [2]), dout = new Tensor(new Float64Array([3, 7]), [2]);
    const out = Tensor.zeros([2], 'float64');
    const square = (t: Tensor) => { out.data[0] = t.data[0] ** 2; out.data[1] = t.data[1] ** 2; return out; };
    expect(relativeError(numericalGradientFromUpstream(square, x, dout), [3 * 2 * 0.5, 7 * 2 * -2])).toBeLessThan(1e-9);
    expect(relativeError(numericalGradientFromUpstream((t) => t, x, dout), [3, 7])).toBeLessThan(1e-9);
    expect(Array.from(x.data)).toEqual([0.5, -2]);
  });
});
