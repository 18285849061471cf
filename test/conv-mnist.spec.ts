// A small CNN (conv-relu-pool-conv-relu-pool-dense) on 2,000 real MNIST images for one epoch: the loss falls
// clearly on the TS backend and on the native one, and both give the same losses within float32 rounding.
import { describe, expect, it } from 'vitest';
import { Adam, Conv2D, Dense, Flatten, MaxPool2D, ReLU, Sequential, data } from '../src/index';
import { type BackendCase, backends, nativeIsas, useBackend } from './helpers';

// The TS engine from `backends`, so that the sanitizer run (NODENN_TEST_ROWS=native) leaves it out: it never enters
// the addon.
const engines: BackendCase[] = [...backends.filter((b) => b.backend === 'ts'), ...nativeIsas.slice(-1)];

type Run = { losses: number[]; accuracy: number };
const runs = new Map<string, Promise<Run>>();
/** The epoch on one engine, trained once by whichever test needs it first (each test also runs alone). */
function trained(bc: BackendCase): Promise<Run> {
  if (!runs.has(bc.label)) runs.set(bc.label, trainOneEpoch(bc));
  return runs.get(bc.label)!;
}

async function trainOneEpoch(bc: BackendCase): Promise<Run> {
  useBackend(bc);
  const { train, test } = await data.loadMnist({ flatten: false, limit: { train: 2000, test: 1000 } });
  expect(train.x.shape).toEqual([2000, 1, 28, 28]);
  const net = new Sequential([
    new Conv2D(1, 8, 3, { padding: 1 }), new ReLU(), new MaxPool2D(2),
    new Conv2D(8, 16, 3, { padding: 1 }), new ReLU(), new MaxPool2D(2),
    new Flatten(), new Dense(16 * 7 * 7, 10),
  ], { seed: 1 });
  const losses: number[] = [];
  await net.fit(train.x, train.y, {
    optimizer: new Adam({ lr: 2e-3 }), epochs: 1, batchSize: 64, onBatchEnd: (b) => { losses.push(b.loss); },
  });
  return { losses, accuracy: net.evaluate(test.x, test.y).accuracy as number };
}

describe('a small CNN on 2,000 MNIST images', () => {
  it.each(engines)('one epoch on $label: the loss falls clearly', async (bc) => {
    const r = await trained(bc);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(r.losses.length).toBe(32);
    expect(r.losses[0]).toBeGreaterThan(2.1);                 // about ln 10 at the start
    expect(mean(r.losses.slice(-6))).toBeLessThan(mean(r.losses.slice(0, 6)) - 0.6);
    expect(r.accuracy).toBeGreaterThan(0.6);                   // on 1,000 test images (chance: 0.1)
  }, 180_000);

  it.skipIf(engines.length < 2)('the native backend follows the TS backend step for step', async () => {
    const ts = await trained(engines[0]), native = await trained(engines[1]);
    expect(ts.losses).toHaveLength(32);
    for (let i = 0; i < ts.losses.length; i++) expect(Math.abs(native.losses[i] - ts.losses[i])).toBeLessThan(2e-3);
  }, 180_000);
});
