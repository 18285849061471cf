// Element-wise results of 2 MiB and more, in uninitialized memory filled with NaN first: every element written,
// exact arithmetic equal to the element-by-element values, and the same bits fresh, into an out that starts one
// element into its buffer (aligned to no vector), in place, and on 1, 2 or 3 threads.
import { afterEach, describe, expect, it } from 'vitest';
import { Tensor, ops } from '../src/index';
import { setUninitializedFill } from '../src/tensor';
import { backends, expectBitwiseEqual, rng, useBackend, withThreads } from './helpers';

// just over 2 MiB of float32, and of float64; not a multiple of any vector length
const N32 = (1 << 19) + 37, N64 = (1 << 18) + 5;

function randomTensor(n: number, seed: number, dtype: 'float32' | 'float64', lo = -2, hi = 2): Tensor {
  const r = rng(seed);
  const data = dtype === 'float32' ? new Float32Array(n) : new Float64Array(n);
  for (let i = 0; i < n; i++) data[i] = lo + r() * (hi - lo);
  return new Tensor(data, [n]);
}

/** A zero tensor of n elements whose data starts one element into its buffer: not aligned to any vector. */
function offsetZeros(n: number, dtype: 'float32' | 'float64'): Tensor {
  const data = dtype === 'float32' ? new Float32Array(n + 1) : new Float64Array(n + 1);
  return new Tensor(data.subarray(1), [n]);
}

afterEach(() => { setUninitializedFill(null); });

describe.each(backends)('large element-wise results on $label', (bc) => {
  it.each([['float32', N32], ['float64', N64]] as const)('exact arithmetic equals the element-by-element values (%s)', (dtype, n) => {
    useBackend(bc);
    const a = randomTensor(n, 1, dtype), b = randomTensor(n, 2, dtype);
    const rows = 1000, cols = Math.floor(n / rows) + 1;  // rows of an odd length: they start at every alignment
    const m = randomTensor(rows * cols, 3, dtype).reshape([rows, cols]), row = randomTensor(cols, 4, dtype);
    const round = dtype === 'float32' ? Math.fround : (v: number) => v;
    const check = (got: Tensor, want: (i: number) => number, what: string) => {
      const d = got.data;
      for (let i = 0; i < d.length; i++) {
        if (!Object.is(d[i], want(i))) expect.fail(`${what}: element ${i} is ${d[i]}, want ${want(i)}`);
      }
    };
    setUninitializedFill(NaN);
    check(a.add(b), (i) => round(a.data[i] + b.data[i]), 'a + b');
    check(a.mul(b), (i) => round(a.data[i] * b.data[i]), 'a * b');
    check(ops.sub(3, a), (i) => round(3 - a.data[i]), '3 - a');
    check(ops.div(a, 3), (i) => round(a.data[i] / 3), 'a / 3');
    check(m.add(row), (i) => round(m.data[i] + row.data[i % cols]), 'm + row');
    check(ops.maximum(a, b), (i) => Math.max(a.data[i], b.data[i]), 'maximum');
    check(ops.neg(a), (i) => -a.data[i], 'neg');
    check(ops.abs(a), (i) => Math.abs(a.data[i]), 'abs');
  });

  it.each([['float32', N32], ['float64', N64]] as const)('into out one element off alignment, in place, and fresh give the same bits (%s)', (dtype, n) => {
    useBackend(bc);
    const a = randomTensor(n, 5, dtype), b = randomTensor(n, 6, dtype, -100, 100);
    for (const [name, fresh, into] of [
      ['add', () => a.add(b), (out: Tensor) => ops.add(a, b, { out })],
      ['exp', () => b.exp(), (out: Tensor) => ops.exp(b, { out })],
      ['sigmoid', () => b.sigmoid(), (out: Tensor) => ops.sigmoid(b, { out })],
      ['tanh', () => a.tanh(), (out: Tensor) => ops.tanh(a, { out })],
    ] as const) {
      const want = fresh();
      const out = offsetZeros(n, dtype);
      expect(into(out), name).toBe(out);
      expectBitwiseEqual(out.data, want.data);
      for (const threads of bc.backend === 'native' ? [1, 3] : []) expectBitwiseEqual(withThreads(threads, fresh).data, want.data);
    }
    const c = a.clone();
    c.add_(b).exp_();
    expectBitwiseEqual(c.data, a.add(b).exp().data);
  });
});
