// A loss function of the user's own in fit() and evaluate() (`loss: (output, targets) => { loss, grad }`), on
// every backend: it trains exactly like the built-in loss it reimplements, sees each batch's outputs and targets,
// and a function that returns something else than { loss: number, grad: Tensor of the output's shape and dtype }
// is named as the culprit.
import { beforeEach, describe, expect, it } from 'vitest';
import { spiral } from '../src/data/toy';
import { Dense, ReLU } from '../src/layers/index';
import { type LossFunction, mse } from '../src/losses';
import { Sequential } from '../src/network';
import { SGD } from '../src/optimizers';
import { Tensor } from '../src/tensor';
import { backends, expectClose, useBackend } from './helpers';

/** Mean over the batch of the summed squared error against one-hot targets: 'mse' written out by hand. */
const handMse: LossFunction = (out, targets) => {
  const [n, k] = out.shape;
  const grad = Tensor.zeros([n, k], out.dtype);
  let loss = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) {
      const t = targets instanceof Int32Array ? (targets[i] === j ? 1 : 0) : targets.data[i * k + j];
      const d = out.data[i * k + j] - t;
      loss += d * d / n;
      grad.data[i * k + j] = 2 * d / n;
    }
  }
  return { loss, grad };
};

const net = (seed = 3) => new Sequential([new Dense(2, 12, { init: 'he' }), new ReLU(), new Dense(12, 3)], { seed });
const values = (n: Sequential) => n.parameters().map((p) => Array.from(p.param.data)).flat();

describe.each(backends)('a custom loss function on $label', (bc) => {
  beforeEach(() => useBackend(bc));
  const { x, y } = spiral({ n: 15, k: 3, seed: 2 });  // 45 samples: batches of 20, 20 and 5

  it('trains exactly as the built-in loss it reimplements, and evaluate reports it', async () => {
    const a = net(), b = net();
    const ha = await a.fit(x, y, { loss: handMse, optimizer: new SGD({ lr: 0.1 }), epochs: 5, batchSize: 20, shuffle: false });
    const hb = await b.fit(x, y, { loss: 'mse', optimizer: new SGD({ lr: 0.1 }), epochs: 5, batchSize: 20, shuffle: false });
    expectClose(values(a), values(b), 1e-5);
    expectClose(ha.loss, hb.loss, 1e-5);
    expect(ha.loss[4]).toBeLessThan(ha.loss[0]);
    expect(a.evaluate(x, y, { loss: handMse }).loss).toBeCloseTo(a.evaluate(x, y, { loss: 'mse' }).loss, 5);
    expect(a.evaluate(x, y, { loss: handMse }).loss).toBeCloseTo(mse(a.forward(x), y).loss, 5);
  });

  it('sees each batch: the outputs (batch, classes) and that batch\'s targets; the history averages it by sample', async () => {
    const seen: { rows: number; labels: number[] }[] = [];
    const counting: LossFunction = (out, targets) => {
      seen.push({ rows: out.shape[0], labels: Array.from(targets as Int32Array) });
      expect(out.shape[1]).toBe(3);
      return { loss: out.shape[0], grad: Tensor.zeros([...out.shape], out.dtype) };  // loss = batch size
    };
    const h = await net().fit(x, y, { loss: counting, epochs: 2, batchSize: 20, shuffle: false });
    expect(seen.map((s) => s.rows)).toEqual([20, 20, 5, 20, 20, 5]);
    expect(seen.slice(0, 3).flatMap((s) => s.labels)).toEqual(Array.from(y));
    // a zero gradient trains nothing; the epoch's loss is the per-sample mean of the batch losses
    expect(h.loss).toEqual([(20 * 20 + 20 * 20 + 5 * 5) / 45, (20 * 20 + 20 * 20 + 5 * 5) / 45]);
  });

  it('a function that returns something else than { loss, grad } is named, before any weight changes', async () => {
    const bad: [string, LossFunction, RegExp][] = [
      ['undefined', (() => undefined) as unknown as LossFunction,
        /the loss function returned undefined; it must return \{ loss: number, grad: Tensor \}/],
      ['a string loss', ((o: Tensor) => ({ loss: '1', grad: Tensor.zeros([...o.shape]) })) as unknown as LossFunction,
        /the loss function returned a loss of the string '1'; it must be a number/],
      ['no grad', (() => ({ loss: 1 })) as unknown as LossFunction, /the loss function returned a grad of undefined; it must be a Tensor/],
      ['a grad of the wrong shape', (o) => ({ loss: 1, grad: Tensor.zeros([o.shape[0], 2]) }),
        /the loss function returned a grad of shape \[20, 2\]; it must have the output's shape \[20, 3\] and dtype float32/],
      ['a grad of the wrong dtype', (o) => ({ loss: 1, grad: Tensor.zeros([...o.shape], 'float64') }),
        /the loss function returned a grad of dtype float64; it must have the output's shape \[20, 3\] and dtype float32/],
    ];
    for (const [name, f, message] of bad) {
      const n = net(), before = values(n);
      await expect(n.fit(x, y, { loss: f, epochs: 1, batchSize: 20 }), name).rejects.toThrow(message);
      expect(values(n), name).toEqual(before);
    }
    expect(() => net().evaluate(x, y, { loss: (() => null) as unknown as LossFunction })).toThrow(/the loss function returned null/);
  });

  it('an error thrown by the function reaches the caller as it is', async () => {
    const boom = new RangeError('my loss: targets out of range');
    await expect(net().fit(x, y, { loss: () => { throw boom; }, epochs: 1 })).rejects.toBe(boom);
  });
});
