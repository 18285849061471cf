// Tensor#dispose(): a result of 4 KiB or more gives its memory back for the next result of the same byte length.
// The disposed tensor and every view of its data hold no elements afterwards (using one is a TypeError naming
// dispose), recycled memory never changes a result, small results (cut from a shared slab) and part of a buffer are
// left alone, and the memory kept for reuse is bounded; a tight loop of fresh results stays bounded in RSS with and
// without it.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Tensor, ops } from '../src/index';
import { pooledResultBytes, setUninitializedFill } from '../src/tensor';
import { backends, rng, useBackend } from './helpers';

function randomTensor(shape: number[], seed: number): Tensor {
  const r = rng(seed), n = shape.reduce((x, y) => x * y, 1), data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = r() * 4 - 2;
  return new Tensor(data, shape);
}

const bits = (t: Tensor): Buffer => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);

describe.each(backends)('dispose on $label', (bc) => {
  it('gives a large result back: it and its views are empty and refused; the next result reuses the memory', () => {
    useBackend(bc);
    const a = randomTensor([64, 100], 1), b = randomTensor([64, 100], 2);
    const want = Buffer.from(bits(ops.mul(a, b)));
    const r = ops.add(a, b), view = r.reshape([100, 64]), data = r.data;
    const before = pooledResultBytes();
    expect(r.dispose()).toBe(true);
    expect(pooledResultBytes()).toBe(before + 64 * 100 * 4);
    expect([r.data.length, view.data.length, data.length]).toEqual([0, 0, 0]);
    expect(() => r.add(a)).toThrow(TypeError);
    expect(() => view.sum()).toThrow(/detached: .*given back by dispose\(\)/);
    expect(r.dispose()).toBe(false);  // again: nothing left to give
    expect(view.dispose()).toBe(false);
    // the next result of that byte length takes the memory, which still holds a + b: the product overwrites it all
    const again = ops.mul(a, b);
    expect(pooledResultBytes()).toBe(before);
    expect(bits(again).equals(want)).toBe(true);
    expect(again.dispose()).toBe(true);
  });

  it('recycled memory filled with NaN or left as it was gives the same results bitwise', () => {
    useBackend(bc);
    const a = randomTensor([32, 64], 3), row = randomTensor([64], 4);
    const want = [ops.add(a, row), ops.exp(a), ops.relu(a)].map((t) => Buffer.from(bits(t)));
    for (const fill of [null, NaN]) {
      const previous = setUninitializedFill(fill);
      try {
        for (let k = 0; k < 3; k++) {
          const got = [ops.add(a, row), ops.exp(a), ops.relu(a)];
          got.forEach((g, i) => expect(bits(g).equals(want[i]), `result ${i}, fill ${fill}, round ${k}`).toBe(true));
          for (const g of got) expect(g.dispose()).toBe(true);
        }
      } finally {
        setUninitializedFill(previous);
      }
    }
  });

  it('gives back the user\'s own whole array and zeros(), but not a small result (shared memory) or part of a buffer', () => {
    useBackend(bc);
    const small = ops.add(randomTensor([10], 5), 1), kept = Array.from(small.data);
    const shared = new Float32Array(4096), part = new Tensor(shared.subarray(0, 2048), [2048]);
    const mine = new Float32Array(2048), t = new Tensor(mine, [2, 1024]), view = t.reshape([2048]);
    const zeros = Tensor.zeros([4096]);
    const before = pooledResultBytes();
    const given = [small.dispose(), part.dispose(), t.dispose(), zeros.dispose(), view.dispose()];
    expect(given).toEqual([false, false, true, true, false]);
    expect([Array.from(small.data), shared.length, part.data.length, mine.length, t.data.length, zeros.data.length])
      .toEqual([kept, 4096, 2048, 0, 0, 0]);
    expect(pooledResultBytes()).toBe(before + 2048 * 4 + 4096 * 4);
    expect(() => t.sum()).toThrow(/x's ArrayBuffer is detached: .* given back by dispose\(\)/);
    // a result of a byte length nothing was given back for (12 KiB) is fresh memory; the pool is left as it was
    const other = ops.add(new Tensor(new Float32Array(3072).fill(1), [3072]), 1);
    expect([other.data.length, other.data[0], other.data[3071], pooledResultBytes()])
      .toEqual([3072, 2, 2, before + 2048 * 4 + 4096 * 4]);
  });

  it('keeps at most 64 MiB for reuse', () => {
    useBackend(bc);
    const a = randomTensor([1 << 20], 6);  // 4 MiB results
    const before = pooledResultBytes();  // the earlier tests' small ones
    expect(before).toBeLessThan(1 << 20);
    const results = Array.from({ length: 20 }, () => ops.neg(a));
    for (const r of results) expect(r.dispose()).toBe(true);  // all given back, 15 or 16 of them kept
    expect(pooledResultBytes()).toBeLessThanOrEqual(64 << 20);
    expect(pooledResultBytes()).toBeGreaterThanOrEqual(before + (15 << 22));
    for (let i = 0; i < 16; i++) ops.abs(a);  // take them all back
    expect(pooledResultBytes()).toBe(before);
  });
});

describe('memory of a tight loop of fresh 4 MiB results (dist/, a fresh process)', () => {
  const dist = JSON.stringify(path.join(__dirname, '..', 'dist/cjs/index.js'));
  const loop = (dispose: boolean): { growth: number; sum: number } => {
    const code = `const nn = require(${dist});
      const a = nn.randn([1 << 20], { seed: 1 }), b = nn.randn([1 << 20], { seed: 2 });
      for (let i = 0; i < 50; i++) a.add(b);
      const rss0 = process.memoryUsage().rss; let sum = 0;
      for (let i = 0; i < 2000; i++) { const r = a.add(b); sum += r.data[i]; ${dispose ? 'r.dispose();' : ''} }
      console.log(JSON.stringify({ growth: (process.memoryUsage().rss - rss0) / 2 ** 20, sum }));`;
    const r = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    return JSON.parse(r.stdout.trim().split('\n').pop() as string) as { growth: number; sum: number };
  };

  it('RSS grows by less than 256 MiB over 2,000 results (8 GB made), and by less than 32 MiB when each is disposed', () => {
    const fresh = loop(false), disposed = loop(true);
    expect(fresh.growth).toBeLessThan(256);
    expect(disposed.growth).toBeLessThan(32);
    expect(disposed.sum).toBe(fresh.sum);
  });
});
