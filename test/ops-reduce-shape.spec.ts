// Reductions, softmax, linear algebra, shape and indexing operations (src/ops/reduce.ts, linalg.ts, shape.ts,
// indexing.ts) on every backend and ISA, float32 and float64: NumPy's values (test/fixtures/ops-reduce.json, made
// by scripts/fixtures/ops-reduce.py), hand-worked cases, the errors, and bitwise equality across thread counts.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { getBackend, nativeAddon, setThreads } from '../src/backend/index';
import * as ops from '../src/ops/index';
import { Tensor, type DType } from '../src/tensor';
import { backends, expectBitwiseEqual, nativeIsas, randomArray, useBackend } from './helpers';

type Encoded = { shape: number[]; data: (number | string)[] };
interface FixtureCase {
  name: string;
  op: string;
  args: Record<string, unknown>;
  inputs: Encoded[];
  expected: Encoded | Encoded[];
}

const fixture = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'ops-reduce.json'), 'utf8')) as
  { cases: FixtureCase[] };

const decode = (v: number | string): number => (typeof v === 'number' ? v : Number(v));

function tensorOf(e: Encoded, dtype: DType): Tensor {
  const C = dtype === 'float32' ? Float32Array : Float64Array;
  return new Tensor(C.from(e.data.map(decode)), e.shape);
}

/** Runs one fixture case's operation through nn.ops. */
function runCase(c: FixtureCase, x: Tensor[]): Tensor | Tensor[] {
  const a = c.args as Record<string, never>;
  switch (c.op) {
    case 'sum': case 'mean': case 'prod': case 'max': case 'min': case 'logSumExp':
      return ops[c.op](x[0], { axis: a.axis, keepdims: a.keepdims });
    case 'var': case 'std':
      return ops[c.op](x[0], { axis: a.axis, keepdims: a.keepdims, ddof: a.ddof });
    case 'argmax': case 'argmin':
      return ops[c.op](x[0], a.axis, a.keepdims);
    case 'softmax': case 'logSoftmax':
      return ops[c.op](x[0], a.axis);
    case 'matmul':
      return ops.matmul(x[0], x[1], { transposeA: a.transposeA ?? false, transposeB: a.transposeB ?? false });
    case 'dot': return ops.dot(x[0], x[1]);
    case 'outer': return ops.outer(x[0], x[1]);
    case 'permute': return ops.permute(x[0], a.axes);
    case 'transpose': return ops.transpose(x[0]);
    case 'squeeze': return ops.squeeze(x[0], a.axis);
    case 'unsqueeze': return ops.unsqueeze(x[0], a.axis);
    case 'flatten': return ops.flatten(x[0]);
    case 'concat': return ops.concat(x, a.axis);
    case 'stack': return ops.stack(x, a.axis);
    case 'split': return ops.split(x[0], a.sections, a.axis);
    case 'broadcastTo': return ops.broadcastTo(x[0], a.shape);
    case 'pad': return ops.pad(x[0], a.width, a.value ?? 0);
    case 'slice': return ops.slice(x[0], ...(a.specs as ops.SliceSpec[]));
    case 'take': return ops.take(x[0], a.indices, a.axis);
    case 'maskedSelect': return ops.maskedSelect(x[0], x[1]);
    case 'oneHot': return ops.oneHot(a.indices, a.depth);
    case 'scatterAdd': return ops.scatterAdd(x[0], a.indices, x[1], a.axis);
  }
  throw new Error(`no op ${c.op}`);
}

/** Same shape; values equal within tol relative to max(1, |want|); NaN where NaN, ±Infinity where ±Infinity. */
function expectValues(got: Tensor, want: { shape: readonly number[]; data: ArrayLike<number> }, tol: number, what = ''): void {
  expect(got.shape, `${what} shape`).toEqual(want.shape);
  for (let i = 0; i < want.data.length; i++) {
    const g = got.data[i], w = want.data[i];
    const ok = Number.isNaN(w) ? Number.isNaN(g) : g === w || Math.abs(g - w) <= tol * Math.max(1, Math.abs(w));
    if (!ok) throw new Error(`${what} element ${i}: got ${g}, expected ${w} (tolerance ${tol})`);
  }
}

const t = (data: number[] | number[][] | number[][][], dtype: DType = 'float32') => new Tensor(data, undefined, dtype);

describe.each(backends)('tensor ops (reduce, linalg, shape, indexing) on $label', (bc) => {
  beforeEach(() => useBackend(bc));

  describe.each(['float32', 'float64'] as DType[])('%s', (dtype) => {
    const tol = dtype === 'float32' ? 2e-5 : 1e-12;

    it(`${fixture.cases.length} NumPy cases`, () => {
      for (const c of fixture.cases) {
        const inputs = c.inputs.map((e) => tensorOf(e, dtype));
        const got = runCase(c, inputs);
        const want = Array.isArray(c.expected) ? c.expected : [c.expected];
        const gotList = Array.isArray(got) ? got : [got];
        expect(gotList.length, c.name).toBe(want.length);
        gotList.forEach((g, i) => {
          const w = want[i];
          // argmax/argmin/oneHot and the float32 results are float32 for float32 inputs; float64 stays float64
          if (c.op !== 'oneHot') expect(g.dtype, c.name).toBe(dtype);
          expectValues(g, { shape: w.shape, data: w.data.map(decode) }, tol, c.name);
        });
      }
    });

    it('hand-worked reductions', () => {
      const x = t([[1, 2, 3], [4, 5, 6]], dtype);
      expect(x.sum().toArray()).toEqual([21]);
      expect(x.sum().shape).toEqual([]);
      expect(x.sum(0).toArray()).toEqual([5, 7, 9]);
      expect(x.sum(-1, true).shape).toEqual([2, 1]);
      expect(x.sum({ axis: 1, keepdims: true }).toArray()).toEqual([6, 15]);
      expect(x.mean(1).toArray()).toEqual([2, 5]);
      expect(x.prod(1).toArray()).toEqual([6, 120]);
      expect(x.max().item()).toBe(6);
      expect(x.min(0).toArray()).toEqual([1, 2, 3]);
      expect(x.var(1).toArray()).toEqual([2 / 3, 2 / 3].map((v) => (dtype === 'float32' ? Math.fround(v) : v)));
      expect(x.var({ axis: 1, ddof: 1 }).toArray()).toEqual([1, 1]);
      // each column is (v, v + 3): the mean is 1.5 away from both, so var (ddof 1) = 2 · 1.5² = 4.5
      const sd = dtype === 'float32' ? Math.fround(Math.sqrt(4.5)) : Math.sqrt(4.5);
      expect(x.std({ axis: 0, ddof: 1 }).toArray()).toEqual([sd, sd, sd]);
      expect(x.argmax(1).toArray()).toEqual([2, 2]);
      expect(x.argmin().toArray()).toEqual([0]);
      expect(x.argmax(0, true).shape).toEqual([1, 3]);
      // log(e^1 + e^2 + e^3) = 3 + log(1 + e^-1 + e^-2)
      expectValues(x.logSumExp(1), { shape: [2], data: [3 + Math.log(1 + Math.exp(-1) + Math.exp(-2)), 6 + Math.log(1 + Math.exp(-1) + Math.exp(-2))] }, 1e-6);
      // softmax is shift-invariant, and stable for big values
      const big = t([[1000, 1001, 1002], [-1000, -1001, -1002]], dtype);
      const p = big.softmax();
      expectValues(p, { shape: [2, 3], data: [0.09003057317038046, 0.24472847105479764, 0.6652409557748219, 0.6652409557748219, 0.24472847105479764, 0.09003057317038046] }, 1e-6);
      expectValues(big.logSoftmax(1), { shape: [2, 3], data: [-2.4076059644443806, -1.4076059644443806, -0.4076059644443806, -0.4076059644443806, -1.4076059644443806, -2.4076059644443806] }, 1e-6);
      expect(big.logSumExp(1).toArray()[0]).toBeCloseTo(1002.4076059644444, 3);
      // sum along non-neighbouring axes of (2, 2, 2): [0, 2] leaves axis 1
      const c = new Tensor(Float64Array.from({ length: 8 }, (_, i) => i), [2, 2, 2]);
      expect(c.sum([0, 2]).toArray()).toEqual([0 + 1 + 4 + 5, 2 + 3 + 6 + 7]);
      expect(c.max([2, 0], true).shape).toEqual([1, 2, 1]);
    });

    it('NaN: max, min, argmax and argmin follow NumPy (NaN wins, the first one); sum propagates', () => {
      const x = t([[1, NaN, 3, NaN], [Infinity, 2, -Infinity, 0.5]], dtype);
      expect(x.max(1).toArray()).toEqual([NaN, Infinity]);
      expect(x.min(1).toArray()).toEqual([NaN, -Infinity]);
      expect(x.argmax(1).toArray()).toEqual([1, 0]);
      expect(x.argmin(1).toArray()).toEqual([1, 2]);
      expect(x.sum(1).toArray()).toEqual([NaN, NaN]);
      expect(x.max(0).toArray()).toEqual([Infinity, NaN, 3, NaN]);
      expect(x.argmax().toArray()).toEqual([1]);
    });

    it('±0 ties: max is +0 and min -0 wherever the zeros sit (IEEE 754-2019), in rows, columns and across blocks', () => {
      const sign = (v: number) => (Object.is(v, -0) ? '-0' : String(v));
      for (const n of [2, 7, 33, 100, 9000]) {
        const places = [...new Set([0, 1, n >> 1, n - 2, n - 1, 4096, 8999].filter((q) => q < n))];
        for (const [op, many, one] of [['max', -0, 0], ['min', 0, -0]] as const) {
          for (const q of places) {
            const v = new Array<number>(n).fill(many);
            v[q] = one;
            const row = new Tensor(Float64Array.from(v), [1, n]).astype(dtype);
            const col = new Tensor(Float64Array.from(v.flatMap((x) => [x, x])), [n, 2]).astype(dtype);
            expect([sign(row[op](1).item()), ...col[op](0).toArray().map(sign)], `${op} n=${n} q=${q}`)
              .toEqual([sign(one), sign(one), sign(one)]);
          }
          expect(sign(t([new Array<number>(n).fill(many)], dtype)[op](1).item())).toBe(sign(many));
        }
        // the tie rule only breaks ties: a -0 among -1s is the maximum and not the minimum, wherever it sits
        for (const q of places) {
          const v = new Array<number>(n).fill(-1);
          v[q] = -0;
          const row = new Tensor(Float64Array.from(v), [1, n]).astype(dtype);
          expect([sign(row.max(1).item()), sign(row.min(1).item())], `n=${n} q=${q}`).toEqual(['-0', '-1']);
        }
      }
      // the element-wise maximum and minimum are NumPy's: the second operand on a tie
      expect(ops.maximum(t([-0, 0], dtype), t([0, -0], dtype)).toArray().map(sign)).toEqual(['0', '-0']);
      expect(ops.minimum(t([-0, 0], dtype), t([0, -0], dtype)).toArray().map(sign)).toEqual(['0', '-0']);
    });

    it('zero-size tensors and size-1 axes', () => {
      const z = ops.zeros([0, 3], { dtype });
      expect(z.sum(0).toArray()).toEqual([0, 0, 0]);
      expect(z.sum(1).shape).toEqual([0]);
      expect(z.prod(0).toArray()).toEqual([1, 1, 1]);
      expect(z.mean(0).toArray()).toEqual([NaN, NaN, NaN]);
      expect(z.max(1).shape).toEqual([0]);
      expect(() => z.max(0)).toThrow(new RangeError('max of an empty axis (shape [0, 3]): the reduction has no identity'));
      expect(() => z.argmax(0)).toThrow(/argmax of an empty sequence: axis of size 0 in shape \[0, 3\]/);
      // NumPy raises for an empty axis even when the result is empty too (np.max(np.zeros((0, 0)), axis=0))
      const zz = ops.zeros([0, 0], { dtype });
      expect(() => zz.max(0)).toThrow(new RangeError('max of an empty axis (shape [0, 0]): the reduction has no identity'));
      expect(() => zz.min(1, true)).toThrow(new RangeError('min of an empty axis (shape [0, 0]): the reduction has no identity'));
      expect(() => zz.argmin(0)).toThrow(/argmin of an empty sequence: axis of size 0 in shape \[0, 0\]/);
      expect(z.T.shape).toEqual([3, 0]);
      expect(z.matmul(ops.ones([3, 2], { dtype })).shape).toEqual([0, 2]);
      expect(ops.matmul(ops.ones([2, 0], { dtype }), ops.ones([0, 3], { dtype })).toArray()).toEqual([0, 0, 0, 0, 0, 0]);
      expect(z.slice([1, 5]).shape).toEqual([0, 3]);
      expect(z.take([], 0).shape).toEqual([0, 3]);
      expect(ops.concat([z, z], 0).shape).toEqual([0, 3]);
      const one = t([[[5]]], dtype);
      expect(one.sum(-2).shape).toEqual([1, 1]);
      expect(one.argmax(2).toArray()).toEqual([0]);
      expect(one.softmax(0).toArray()).toEqual([1]);
      expect(one.squeeze().shape).toEqual([]);
      expect(one.squeeze().item()).toBe(5);
    });

    it('matmul, dot and outer: hand-worked', () => {
      const a = t([[1, 2], [3, 4]], dtype), b = t([[5, 6], [7, 8]], dtype);
      expect(a.matmul(b).toArray()).toEqual([19, 22, 43, 50]);
      expect(a.matmul(b, { transposeA: true }).toArray()).toEqual([26, 30, 38, 44]);
      expect(a.matmul(b, { transposeB: true }).toArray()).toEqual([17, 23, 39, 53]);
      expect(a.dot(t([1, 1], dtype)).toArray()).toEqual([3, 7]);
      expect(t([1, 2, 3], dtype).dot(t([4, 5, 6], dtype)).shape).toEqual([]);
      expect(t([1, 2, 3], dtype).dot(t([4, 5, 6], dtype)).item()).toBe(32);
      expect(ops.outer(t([1, 2], dtype), t([3, 4, 5], dtype)).toArray()).toEqual([3, 4, 5, 6, 8, 10]);
      expect(ops.dot(a, new Tensor([2], [], dtype)).toArray()).toEqual([2, 4, 6, 8]);
      // float64 wins over float32
      expect(ops.matmul(t([[1, 2]], 'float32'), t([[3], [4]], 'float64')).dtype).toBe('float64');
    });

    it('shape and indexing: hand-worked', () => {
      const x = new Tensor(Float32Array.from({ length: 24 }, (_, i) => i), [2, 3, 4]).astype(dtype);
      expect(x.permute(2, 0, 1).shape).toEqual([4, 2, 3]);
      expect(x.permute([2, 0, 1]).slice(1, 0).toArray()).toEqual([1, 5, 9]);
      expect(x.transpose().get(3, 2, 1)).toBe(x.get(1, 2, 3));
      expect(x.unsqueeze(1).shape).toEqual([2, 1, 3, 4]);
      expect(x.flatten(1).shape).toEqual([2, 12]);
      expect(x.slice(null, [null, null, -1], 1).toArray()).toEqual([9, 5, 1, 21, 17, 13]);
      expect(x.slice(-1, -1, -1).toArray()).toEqual([23]);
      expect(x.slice(-1, -1, -1).shape).toEqual([]);
      expect(x.take(Int32Array.of(1, 0), 0).get(0, 0, 0)).toBe(12);
      expect(x.take([1, -1]).toArray()).toEqual([1, 23]);
      expect(x.gather([3, 3], 2).toArray()).toEqual([3, 3, 7, 7, 11, 11, 15, 15, 19, 19, 23, 23]);
      expect(x.maskedSelect(ops.gt(x, 20)).toArray()).toEqual([21, 22, 23]);
      expect(ops.booleanMask(t([1, 2, 3], dtype), [true, false, true]).toArray()).toEqual([1, 3]);
      expect(ops.oneHot([1, 0], 3).toArray()).toEqual([0, 1, 0, 1, 0, 0]);
      expect(ops.scatterAdd(t([0, 0, 0], dtype), [2, 2, 0], t([1, 2, 3], dtype)).toArray()).toEqual([3, 0, 3]);
      expect(ops.pad(t([1, 2], dtype), [1, 2], -1).toArray()).toEqual([-1, 1, 2, -1, -1]);
      expect(ops.split(t([1, 2, 3, 4, 5], dtype), [2]).map((p) => p.toArray())).toEqual([[1, 2], [3, 4, 5]]);
      expect(ops.stack([t([1, 2], dtype), t([3, 4], dtype)], 1).toArray()).toEqual([1, 3, 2, 4]);
      expect(ops.broadcastTo(t([1, 2], dtype), [2, 2]).toArray()).toEqual([1, 2, 1, 2]);
    });

    it('results are new tensors: the input is unchanged and not shared (except the reshaping views)', () => {
      const x = t([[1, 2], [3, 4]], dtype);
      const before = x.toArray();
      for (const y of [x.T, x.slice(null), x.take([0, 1]), x.broadcastTo([2, 2]), x.pad(0), x.softmax(0)]) {
        expect(y.data).not.toBe(x.data);
        y.data.fill(9);
      }
      ops.scatterAdd(x, [0], t([[1, 1]], dtype));
      expect(x.toArray()).toEqual(before);
    });

    it('take and gather into out: the values of a new result, for every form of indices and axis', () => {
      const x = new Tensor(Float64Array.from({ length: 5000 }, (_, i) => i * 0.5 - 7), [50, 4, 25]).astype(dtype);
      const cases: [Int32Array | number[] | number[][] | Tensor | number, number | null][] = [
        [Int32Array.of(3, -1, 0, 3), 0], [[2, 0, -3], 1], [Int32Array.of(24, 0), 2], [[[1, 2], [3, 4]], 0],
        [7, 0], [Int32Array.of(4999, 0, -5000), null], [ops.tensor([[1, 2]], { dtype: 'float64' }), 2],
      ];
      for (const [indices, axis] of cases) {
        const want = x.take(indices as Int32Array, axis);
        const out = Tensor.full([...want.shape], NaN, dtype);
        expect(x.take(indices as Int32Array, axis, { out })).toBe(out);
        expectBitwiseEqual(out.data, want.data);
        if (axis !== null) {
          out.data.fill(NaN);
          expect(ops.gather(x, indices as Int32Array, axis, { out })).toBe(out);
          expectBitwiseEqual(out.data, want.data);
        }
      }
      // a mini-batch of MNIST rows, large enough for a result of its own memory
      const rows = Int32Array.of(49, 0, 17, 17, 33);
      const out = Tensor.zeros([5, 4, 25], dtype);
      x.gather(rows, 0, { out });
      expect(out.get(0, 3, 24)).toBe(x.get(49, 3, 24));
      expect(out.get(3, 1, 2)).toBe(x.get(17, 1, 2));
      expect(out.get(4, 0, 0)).toBe(x.get(33, 0, 0));

      const other = dtype === 'float32' ? 'float64' : 'float32';
      expect(() => x.take(rows, 0, { out: Tensor.zeros([5, 4, 25], other) })).toThrow(
        new TypeError(`take: out has dtype ${other} but the result has dtype ${dtype}`));
      expect(() => x.take(rows, 0, { out: Tensor.zeros([5, 100], dtype) })).toThrow(
        new RangeError('take: out has shape [5, 100] but the result has shape [5, 4, 25]'));
      expect(() => x.gather(rows, 1, { out })).toThrow(/index 49 is out of bounds for axis 1 with size 4/);
      expect(() => x.take(rows, 0, { out: [1, 2] as unknown as Tensor })).toThrow(
        new TypeError('take: out must be a Tensor, got an array of length 2'));
      expect(() => x.take(rows, 0, 3 as never)).toThrow(new TypeError('take: options must be an object, got 3'));
      // out sharing memory with x: the kernel refuses before writing
      const self = x.reshape([50, 100]);
      expect(() => self.take(Int32Array.of(0), 0, { out: new Tensor(self.data.subarray(100, 200), [1, 100]) }))
        .toThrow(/must not share memory/);
      // autograd does not record a write into out
      const w = x.clone().requiresGrad_();
      expect(() => w.take(rows, 0, { out })).toThrow(
        /take: writing into out \(or in place\) is not recorded by autograd, and x requires a gradient/);
      expect(w.take(rows, 0).requiresGrad).toBe(true);
    });
  });

  it('errors name the index and the axis size, the axis, or both shapes', () => {
    const x = ops.zeros([60000, 4]);
    expect(() => x.take(Int32Array.of(0, 60000), 0)).toThrow(new RangeError('index 60000 is out of bounds for axis 0 with size 60000'));
    expect(() => x.gather([-60001])).toThrow(new RangeError('index -60001 is out of bounds for axis 0 with size 60000'));
    expect(() => x.slice(null, 4)).toThrow(new RangeError('index 4 is out of bounds for axis 1 with size 4'));
    expect(() => x.slice(null, null, null)).toThrow(/too many indices: 3 for a tensor of 2 dimensions/);
    expect(() => x.sum(2)).toThrow(new RangeError('axis 2 is out of bounds for a tensor of 2 dimensions'));
    expect(() => x.sum([1, -1])).toThrow(/axis repeats axis 1/);
    expect(() => x.sum(0.5)).toThrow(TypeError);
    expect(() => x.argmax([0, 1] as unknown as number)).toThrow(/argmax takes one axis or none/);
    expect(() => x.slice([0, 5, 0])).toThrow(/slice step of axis 0 cannot be zero/);
    expect(() => ops.oneHot([3], 3)).toThrow(new RangeError('index 3 (indices[0]) is out of bounds for oneHot depth 3'));
    expect(() => ops.take(x, [1.5])).toThrow(/indices\[0\] must be an integer, got 1.5/);
    expect(() => ops.matmul(ops.zeros([2, 3]), ops.zeros([4, 5]))).toThrow(
      new RangeError('matmul: a [2, 3] and b [4, 5] do not fit: the contracted axes have sizes 3 and 4'));
    expect(() => ops.matmul(ops.zeros([2, 2, 3]), ops.zeros([3, 3, 4]))).toThrow(
      /matmul: cannot broadcast the batch axes of a \[2, 2, 3\] and b \[3, 3, 4\]: batch axis 0 has size 2 in a and 3 in b/);
    expect(() => ops.concat([ops.zeros([2, 3]), ops.zeros([3, 2])], 0)).toThrow(
      /concat along axis 0: tensors\[1\] has shape \[3, 2\], which does not match tensors\[0\] \[2, 3\] outside axis 0/);
    expect(() => ops.broadcastTo(ops.zeros([3, 2]), [3, 3])).toThrow(/cannot broadcast \[3, 2\] to \[3, 3\]: axis 1 has size 2/);
    expect(() => ops.split(ops.zeros([5]), 2)).toThrow(/cannot split axis 0 of size 5 into 2 equal parts/);
    expect(() => ops.squeeze(ops.zeros([2, 1]), 0)).toThrow(/cannot squeeze axis 0 of shape \[2, 1\]: its size is 2/);
    expect(() => ops.permute(ops.zeros([2, 1]), [0, 0])).toThrow(/axes repeats an axis/);
    expect(() => ops.maskedSelect(ops.zeros([2, 3]), ops.zeros([3]))).toThrow(/mask \[3\] does not fit x \[2, 3\]/);
    expect(() => ops.scatterAdd(ops.zeros([3, 2]), [0], ops.zeros([2, 2]))).toThrow(
      /updates has shape \[2, 2\], expected \[1, 2\]/);
    expect(() => x.var({ ddof: -1 })).toThrow(/ddof must be a non-negative number, got -1/);
    expect(() => ops.sum('x' as unknown as Tensor)).toThrow(new TypeError("x must be a Tensor or an array of numbers, got the string 'x'"));
  });

  it('matmul passes transposes to GEMM as flags and broadcasts a shared operand without copying it', () => {
    const k = getBackend();
    const gemm = vi.spyOn(k, 'gemmBatched'), swap = vi.spyOn(k, 'swapAxes'), gather = vi.spyOn(k, 'gatherAxis');
    try {
      const a = ops.ones([5, 3, 4]), w = ops.ones([6, 4]);
      const y = ops.matmul(a, w, { transposeB: true });
      expect(y.shape).toEqual([5, 3, 6]);
      expect(gemm).toHaveBeenCalledTimes(1);
      expect(gemm.mock.calls[0].slice(0, 8)).toEqual([false, true, 5, 3, 6, 4, false, true]);
      expect(swap).not.toHaveBeenCalled();
      expect(gather).not.toHaveBeenCalled();
    } finally {
      gemm.mockRestore();
      swap.mockRestore();
      gather.mockRestore();
    }
  });
});

describe.skipIf(nativeIsas.length === 0).each(nativeIsas)('tensor ops on $label: thread count', (bc) => {
  let before = 0;
  beforeEach(() => {
    useBackend(bc);
    before = nativeAddon().info().threads;
  });
  afterEach(() => setThreads(before));

  it('every result is bitwise the same with 1 and 2 threads', () => {
    const results = (threads: number): Tensor[] => {
      setThreads(threads);
      const long = new Tensor(randomArray(Float32Array, 300_000, 1), [3, 100_000]);
      const wide = new Tensor(randomArray(Float32Array, 300_000, 2), [600, 500]);
      const d = new Tensor(randomArray(Float64Array, 200_000, 3), [200_000]);
      const idx = Int32Array.from({ length: 70_000 }, (_, i) => (i * 7919) % 600);
      return [
        long.sum(), long.sum(1), long.mean(1), long.max(1), long.logSumExp(1), long.std(1), long.argmax(1),
        wide.sum(0), wide.sum(1), wide.prod(0), wide.var(0), wide.logSumExp(0), wide.argmin(0), wide.softmax(0),
        wide.softmax(1), wide.logSoftmax(1), d.sum(), d.var(), d.max(),
        wide.T, wide.reshape([6, 100, 500]).permute(2, 0, 1), wide.take(idx, 0).sum(0),
        ops.scatterAdd(ops.zeros([600, 500]), idx.subarray(0, 2000), wide.take(idx.subarray(0, 2000), 0)),
        wide.matmul(wide, { transposeB: true }), wide.reshape([1000, 15, 20]).matmul(wide.reshape([1000, 20, 15])),
      ];
    };
    const one = results(1), two = results(2);
    one.forEach((r, i) => expectBitwiseEqual(r.data, two[i].data));
  });

  it('a mini-batch of 64 rows of 784 (and of 5 and 21 rows) is the rows themselves, with 1, 2 and 3 threads', () => {
    const x = new Tensor(randomArray(Float32Array, 3000 * 784, 9), [3000, 784]);
    for (const count of [64, 5, 21]) {
      const rows = Int32Array.from({ length: count }, (_, j) => (j * 7919 + 11) % 3000);
      rows[count - 1] = rows[0];  // a repeated row
      const want = new Float32Array(count * 784);
      rows.forEach((r, j) => want.set(x.data.subarray(r * 784, (r + 1) * 784), j * 784));
      for (const threads of [1, 2, 3]) {
        setThreads(threads);
        const y = x.take(rows, 0);
        expect(y.shape).toEqual([count, 784]);
        expectBitwiseEqual(y.data, want);
      }
    }
  });
});

describe.each(backends)('argmax and argmin of rows on $label', (bc) => {
  /** The first index of the extreme, a NaN winning: NumPy's rule, written out. */
  const reference = (row: ArrayLike<number>, max: boolean): number => {
    let best = 0;
    for (let k = 0; k < row.length; k++) {
      if (Number.isNaN(row[k])) return k;
      if (max ? row[k] > row[best] : row[k] < row[best]) best = k;
    }
    return best;
  };

  it.each(['float32', 'float64'] as DType[])('the first extreme, ties, ±0, ±Infinity and NaN, every row length to 300 (%s)', (dtype) => {
    useBackend(bc);
    const Array_ = dtype === 'float32' ? Float32Array : Float64Array;
    const pool = [0, -0, 1, -1, 2, -2, Infinity, -Infinity, 0.5];
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    for (let n = 1; n <= 300; n++) {
      const rows = 6;
      const data = new Array_(rows * n).map(() => pool[Math.floor(next() * pool.length)]);
      // row 4: one NaN somewhere; row 5: two NaNs
      data[4 * n + Math.floor(next() * n)] = NaN;
      data[5 * n + n - 1] = NaN;
      data[5 * n + Math.floor(next() * n)] = NaN;
      const x = new Tensor(data, [rows, n]);
      for (const max of [true, false]) {
        const got = max ? x.argmax(1) : x.argmin(1);
        for (let r = 0; r < rows; r++) {
          const want = reference(data.subarray(r * n, (r + 1) * n), max);
          if (got.data[r] !== want) expect.fail(`${max ? 'argmax' : 'argmin'} of row ${r} of ${n}: ${got.data[r]}, want ${want}`);
        }
      }
    }
  });
});
