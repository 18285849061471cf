// Losses' argument checks and target forms, on every backend: index labels against several columns (one-hot) and
// one column (the values themselves), every refusal naming the argument, the options of mse and crossEntropy,
// lossFunction's names, and the L2 term's edge cases. (Golden values and gradient checks: losses.spec.ts.)
import { beforeEach, describe, expect, it } from 'vitest';
import {
  binaryCrossEntropy, crossEntropy, l2Penalty, lossFunction, mse, softmaxCrossEntropy, targetTensor,
} from '../src/losses';
import { ReusableTensor } from '../src/layers/buffers';
import { Tensor } from '../src/tensor';
import { backends, useBackend } from './helpers';

const f64 = (data: number[], shape = [data.length]) => new Tensor(Float64Array.from(data), shape);

describe.each(backends)('loss arguments on $label', (bc) => {
  beforeEach(() => useBackend(bc));

  it('index labels against several columns are one-hot targets; against one column, the values themselves', () => {
    expect(targetTensor(Tensor.zeros([3, 4], 'float64'), new Int32Array([2, 0, 3])).toArray())
      .toEqual([0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 1]);
    expect(targetTensor(Tensor.zeros([3, 1]), new Int32Array([1, 0, 5])).toArray()).toEqual([1, 0, 5]);
    // mse from zeros to one-hot rows [0 1 0] and [0 0 1]: one unit of squared error per sample
    const r = mse(Tensor.zeros([2, 3], 'float64'), new Int32Array([1, 2]));
    expect(r.loss).toBe(1);
    expect(r.grad.toArray()).toEqual([0, -1, 0, 0, 0, -1]);
    // one column: (0.5 - 1)² + (2 - 2)² + (-1 - 0)², averaged over the 3 samples
    expect(mse(f64([0.5, 2, -1], [3, 1]), new Int32Array([1, 2, 0])).loss).toBeCloseTo(1.25 / 3, 14);
    // BCE from logits 0 (p = 1/2) against one-hot rows: log 2 per element whatever the target
    expect(binaryCrossEntropy(Tensor.zeros([2, 2], 'float64'), new Int32Array([1, 0])).grad.toArray()).toEqual([0.125, -0.125, -0.125, 0.125]);
  });

  it('a Tensor target of the other dtype is converted, not refused', () => {
    const a = mse(f64([1, 2, 3, 4], [2, 2]).astype('float32'), f64([0, 1, 0, 1], [2, 2]));
    expect(a.loss).toBe(mse(f64([1, 2, 3, 4], [2, 2]).astype('float32'), new Tensor([0, 1, 0, 1], [2, 2])).loss);
    expect(a.grad.dtype).toBe('float32');
  });

  it('targets: the wrong kind, count or class is named', () => {
    const x = Tensor.zeros([2, 3], 'float64');
    expect(() => mse(x, [0, 1] as never)).toThrow(new TypeError('target must be a Tensor or an Int32Array of labels'));
    expect(() => binaryCrossEntropy(x, 'y' as never)).toThrow(new TypeError('targets must be a Tensor or an Int32Array of labels'));
    expect(() => softmaxCrossEntropy(x, [0, 1] as never)).toThrow(new TypeError('labels must be a Tensor'));
    expect(() => mse(x, new Int32Array(3))).toThrow(new RangeError('target has 3 labels but the input has 2 rows'));
    expect(() => mse(x, new Int32Array([0, 3]))).toThrow(new RangeError('target[1] = 3 is outside [0, 3)'));
    expect(() => binaryCrossEntropy(x, new Int32Array([-1, 0]))).toThrow(new RangeError('targets[0] = -1 is outside [0, 3)'));
    expect(() => softmaxCrossEntropy(x, Tensor.zeros([2, 2, 1], 'float64')))
      .toThrow(new RangeError('labels has shape [2, 2, 1] but the input has shape [2, 3]'));
  });

  it('inputs: a Tensor with at least one sample and one value per sample, named', () => {
    const labels = new Int32Array([0]);
    expect(() => softmaxCrossEntropy([1, 2] as never, labels)).toThrow(new TypeError('logits must be a Tensor'));
    expect(() => mse({} as never, labels)).toThrow(new TypeError('pred must be a Tensor'));
    expect(() => binaryCrossEntropy(null as never, labels)).toThrow(new TypeError('input must be a Tensor'));
    expect(() => crossEntropy(undefined as never, labels)).toThrow(new TypeError('probs must be a Tensor'));
    expect(() => softmaxCrossEntropy(Tensor.zeros([0, 3]), new Int32Array(0))).toThrow(new RangeError('logits must be a non-empty (N, ...) tensor, got [0, 3]'));
    expect(() => softmaxCrossEntropy(Tensor.zeros([2, 0]), new Int32Array(2))).toThrow(/logits must be a non-empty \(N, \.\.\.\) tensor, got \[2, 0\]/);
    expect(() => mse(new Tensor([3], []), new Tensor([3], []))).toThrow(/pred must be a non-empty \(N, \.\.\.\) tensor, got \[\]/);
    expect(() => mse(Tensor.zeros([3, 0]), Tensor.zeros([3, 0]))).toThrow(/pred must be a non-empty/);
    expect(() => crossEntropy(Tensor.zeros([0]), new Int32Array(0))).toThrow(/probs must be a non-empty \(N, \.\.\.\) tensor, got \[0\]/);
    expect(() => binaryCrossEntropy(Tensor.zeros([0, 1]), Tensor.zeros([0, 1]))).toThrow(/input must be a non-empty .*, got \[0, 1\]/);
  });

  it('mse and crossEntropy options', () => {
    const x = f64([0.2, 0.8], [1, 2]), y = new Int32Array([1]);
    expect(() => mse(x, y, null as never)).toThrow(new TypeError('mse options must be an options object, got null'));
    expect(() => mse(x, y, 'sum' as never)).toThrow(new TypeError("mse options must be an options object, got the string 'sum'"));
    expect(() => crossEntropy(x, y, null as never)).toThrow(new TypeError('crossEntropy options must be an options object, got null'));
    expect(() => crossEntropy(x, y, 3 as never)).toThrow(new TypeError('crossEntropy options must be an options object, got 3'));
    for (const eps of [-1e-9, 1, 2, NaN]) {
      expect(() => crossEntropy(x, y, { eps }), String(eps)).toThrow(new RangeError(`crossEntropy eps must be in [0, 1), got ${String(eps)}`));
    }
    expect(() => crossEntropy(x, y, { eps: '0.1' as never })).toThrow(new TypeError("crossEntropy eps must be in [0, 1), got the string '0.1'"));
    expect(crossEntropy(x, y, { eps: 0 }).loss).toBeCloseTo(-Math.log(0.8), 14);
    expect(crossEntropy(x, y, { eps: 0.5 }).loss).toBeCloseTo(-Math.log(1.3), 14);
    // one sample as a (C) vector; its labels index its C classes
    expect(crossEntropy(f64([0.2, 0.8]), y).loss).toBeCloseTo(-Math.log(0.8 + 1e-7), 14);
    expect(() => crossEntropy(f64([0.2, 0.8]), new Int32Array([2]))).toThrow(new RangeError('labels[0] = 2 is outside [0, 2)'));
    expect(() => crossEntropy(f64([0.2, 0.8, 0.5, 0.5], [2, 2]), new Int32Array([0, -1]))).toThrow(new RangeError('labels[1] = -1 is outside [0, 2)'));
  });

  it('lossFunction: each name is its loss; an unknown name lists the names', () => {
    const x = f64([0.3, -1.2, 2, 0.5], [2, 2]), y = new Int32Array([1, 0]);
    expect(lossFunction('softmaxCrossEntropy')(x, y).loss).toBe(softmaxCrossEntropy(x, y).loss);
    expect(lossFunction('binaryCrossEntropy')(x, y).loss).toBe(binaryCrossEntropy(x, y).loss);
    expect(lossFunction('mse')(x, y).loss).toBe(mse(x, y).loss);
    const p = f64([0.3, 0.7, 0.9, 0.1], [2, 2]);
    expect(lossFunction('crossEntropy')(p, y).loss).toBe(crossEntropy(p, y).loss);
    expect(new Set(['softmaxCrossEntropy', 'binaryCrossEntropy', 'mse'].map((n) => lossFunction(n as never)(x, y).loss)).size).toBe(3);
    expect(() => lossFunction('hinge' as never)).toThrow(new RangeError(
      "loss must be one of 'softmaxCrossEntropy', 'binaryCrossEntropy', 'mse', 'crossEntropy' or a function, got the string 'hinge'"));
  });

  it('l2Penalty: a weight decay that is not a finite number >= 0 is refused; 0 adds nothing, even to infinite weights', () => {
    const w = f64([1, -2]), g = f64([0, 0]);
    for (const reg of [NaN, Infinity, -0.1]) expect(() => l2Penalty([w], reg, [g]), String(reg)).toThrow(RangeError);
    expect(() => l2Penalty([w], '0.1' as never, [g])).toThrow(TypeError);
    expect(() => l2Penalty([w], Infinity)).toThrow(new RangeError('weight decay must be a non-negative number, got Infinity'));
    const inf = f64([Infinity, 1]), gi = f64([0.5, 0.5]);
    expect(l2Penalty([inf], 0, [gi])).toBe(0);
    expect(gi.toArray()).toEqual([0.5, 0.5]);
    expect(l2Penalty([w], 0.5, [g])).toBeCloseTo(2.5, 14);
    expect(g.toArray()).toEqual([1, -2]);
  });

  it('softmaxCrossEntropy of 1-D logits: a number label in [0, C), a 1-D target or one label; the grad of their shape', () => {
    const logits = f64([1, 2, 3]), lse = Math.log(Math.E + Math.E ** 2 + Math.E ** 3);
    const soft = [1, 2, 3].map((v) => Math.exp(v - lse));
    for (const [k, label] of [[0, 0], [2, 2], [2, Int32Array.of(2)], [1, f64([0, 1, 0])]] as const) {
      const r = softmaxCrossEntropy(logits, label);
      expect(r.loss).toBeCloseTo(lse - (k + 1), 12);
      expect(r.grad.shape).toEqual([3]);
      r.grad.toArray().forEach((g, i) => expect(g).toBeCloseTo(soft[i] - (i === k ? 1 : 0), 12));
    }
    for (const bad of [1.5, -1, 3]) {
      expect(() => softmaxCrossEntropy(Tensor.zeros([3]), bad)).toThrow(
        new RangeError(`label ${bad} is outside [0, 3) (the classes of the logits, shape [3])`));
    }
    // a target of another size is named in the shapes given, not the (1, C) the 1-D logits are computed as
    for (const shape of [[4], [2, 2]]) {
      expect(() => softmaxCrossEntropy(Tensor.zeros([3]), Tensor.zeros(shape))).toThrow(
        new RangeError(`labels has shape [${shape.join(', ')}] but the logits have shape [3]`));
    }
    expect(() => softmaxCrossEntropy(f64([0.2, 0.8], [1, 2]), 1)).toThrow(new TypeError('labels must be an Int32Array of ' +
      'class indices or a Tensor of targets for logits of shape [1, 2]; a single number is the label of 1-D logits (one sample)'));
    for (const [shape, label] of [[[3, 1], new Int32Array(3)], [[1], 0]] as const) {
      expect(() => softmaxCrossEntropy(Tensor.zeros([...shape]), label)).toThrow(new RangeError('softmaxCrossEntropy ' +
        `needs at least 2 classes (columns), but the output has 1 column (shape [${shape[0]}, 1]): the softmax of a single ` +
        "logit is always 1, so nothing could be learned; use loss 'binaryCrossEntropy' for two classes (labels 0/1) or " +
        "'mse' for regression"));
    }
  });

  it('option objects and label checks of binaryCrossEntropy, mse and crossEntropy, word for word', () => {
    const x = f64([0.2, 0.8], [1, 2]), y = new Int32Array([1]);
    expect(() => binaryCrossEntropy(x, y, null as never)).toThrow(new TypeError('binaryCrossEntropy options must be an options object, got null'));
    expect(() => binaryCrossEntropy(x, y, { foo: 1 } as never)).toThrow(new TypeError("unknown binaryCrossEntropy option 'foo'; the options are fromLogits, eps"));
    expect(() => binaryCrossEntropy(x, y, { fromLogits: 'yes' } as never)).toThrow(
      new TypeError("binaryCrossEntropy fromLogits must be true or false, got the string 'yes'"));
    expect(() => mse(x, y, { foo: 1 } as never)).toThrow(new TypeError("unknown mse option 'foo'; the options are half, reduction"));
    expect(() => crossEntropy(x, y, { foo: 1 } as never)).toThrow(new TypeError("unknown crossEntropy option 'foo'; the options are eps"));
    expect(() => crossEntropy(x, [1] as never)).toThrow(new TypeError('labels must be a Tensor'));
    expect(() => crossEntropy(x, Tensor.zeros([1, 3], 'float64'))).toThrow(new RangeError('labels has shape [1, 3] but the input has shape [1, 2]'));
  });

  it('a Tensor target of the input dtype is used as it is, not copied', () => {
    const x = Tensor.zeros([2, 2], 'float64'), t = f64([0, 1, 1, 0], [2, 2]);
    expect(targetTensor(x, t)).toBe(t);
  });

  it('lossFunction with a reused gradient: every named loss writes into the same tensor, overwriting it', () => {
    const a = f64([0.3, 0.6, 0.2, 0.1], [2, 2]), b = f64([0.7, 0.1, 0.4, 0.9], [2, 2]), y = new Int32Array([1, 0]);
    const plain = { softmaxCrossEntropy, binaryCrossEntropy, mse, crossEntropy };
    for (const name of ['softmaxCrossEntropy', 'binaryCrossEntropy', 'mse', 'crossEntropy'] as const) {
      const f = lossFunction(name, new ReusableTensor());
      const first = f(a, y).grad, second = f(b, y);
      expect(second.grad, name).toBe(first);
      expect(second.loss, name).toBe(plain[name](b, y).loss);
      expect(second.grad.toArray(), name).toEqual(plain[name](b, y).grad.toArray());
    }
    expect(() => lossFunction('softmaxCrossEntropy', new ReusableTensor())([1, 2] as never, y)).toThrow(new TypeError('logits must be a Tensor'));
  });
});
