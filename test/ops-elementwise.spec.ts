// The element-wise tensor operations, creation and printing (src/ops/) on every backend and ISA: NumPy's results
// from test/fixtures/ops-elementwise.json (made by scripts/fixtures/ops.py), hand-worked cases, the dtype rule and
// the errors.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { beforeEach, describe, expect, it } from 'vitest';
import * as nn from '../src/index';
import { Tensor, ops } from '../src/index';
import { getBackend, nativeAddon } from '../src/backend/index';
import { backends, useBackend, withThreads } from './helpers';

type Stored = number | 'nan' | 'inf' | '-inf';
interface Flat { shape: number[]; values: Stored[] }
const fixtures = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'ops-elementwise.json'), 'utf8')) as {
  binary: { label: string; dtype: nn.DType; a: Flat; b: Flat; shape: number[]; results: Record<string, Stored[]> }[];
  unary: { dtype: nn.DType; x: Stored[]; results: Record<string, Stored[]> }[];
  where: { dtype: nn.DType; condDtype?: nn.DType; cond: Flat; a: Flat; b: Flat; y: Flat }[];
  clamp: { label: string; dtype: nn.DType; x: Flat; min: Flat | null; max: Flat | null; y: Flat }[];
  creation: { call: 'linspace' | 'arange' | 'eye'; args: unknown[]; y: Stored[] | Stored[][]; y32: Stored[] | Stored[][] }[];
  print: { dtype: nn.DType; shape: number[]; values: Stored[]; str: string }[];
};

const decode = (v: Stored): number => (v === 'nan' ? NaN : v === 'inf' ? Infinity : v === '-inf' ? -Infinity : v);
const fromFlat = (f: Flat, dtype: nn.DType) => new Tensor(f.values.map(decode), f.shape, dtype);

/** A number as the messages show it: -0 as '-0' (String(-0) is '0'). */
const show = (v: number) => (Object.is(v, -0) ? '-0' : String(v));

/**
 * Every element equal to NumPy's (NaN where NumPy has NaN), within a relative tolerance; a zero of NumPy's sign
 * unless `zeroSign` is false.
 */
function expectValues(got: Tensor, want: number[], rtol: number, what: string, zeroSign = true): void {
  expect(got.size, `${what}: size`).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const g = got.data[i], w = want[i];
    const ok = Number.isNaN(w) ? Number.isNaN(g) : w === 0 && zeroSign ? Object.is(g, w)
      : g === w || Math.abs(g - w) <= rtol * Math.abs(w);
    if (!ok) expect.fail(`${what}[${i}] = ${show(g)}, NumPy gives ${show(w)} (rtol ${rtol})`);
  }
}

const binaryNames = ['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum', 'gt', 'ge', 'lt', 'le', 'eq', 'ne'] as const;
const unaryNames = ['neg', 'abs', 'sign', 'exp', 'log', 'log1p', 'sqrt', 'square', 'relu', 'leakyRelu', 'sigmoid', 'tanh',
  'step', 'softplus', 'gelu', 'clamp'] as const;

describe.each(backends)('element-wise ops on $label', (bc) => {
  beforeEach(() => useBackend(bc));

  describe('against NumPy (test/fixtures/ops-elementwise.json)', () => {
    it.each(fixtures.binary.map((c) => ({ ...c, name: `${c.label}, ${c.dtype}` })))('binary ops: $name', (c) => {
      const a = fromFlat(c.a, c.dtype), b = fromFlat(c.b, c.dtype);
      for (const op of binaryNames) {
        const y = ops[op](a, b);
        expect(y.shape, op).toEqual(c.shape);
        expect(y.dtype, op).toBe(c.dtype);
        // IEEE arithmetic rounds once, as NumPy; pow goes through double (NumPy's float32 pow is its own)
        expectValues(y, c.results[op].map(decode), op === 'pow' ? (c.dtype === 'float32' ? 1e-6 : 1e-15) : 0, op);
      }
    });

    it.each(fixtures.unary)('unary ops, $dtype: ±0, tiny, large, NaN, ±Infinity', (c) => {
      const x = new Tensor(c.x.map(decode), undefined, c.dtype);
      for (const op of unaryNames) {
        const y = op === 'clamp' ? ops.clamp(x, -0.5, 2) : ops[op](x);
        expect(y.shape).toEqual(x.shape);
        expect(y.dtype).toBe(c.dtype);
        // libm and NumPy's own vector math differ in the last bits
        // relu(-0) is -0 on purpose, where the fixture's np.maximum(x, 0) gives +0 (test/ops-signed-zero.spec.ts)
        expectValues(y, c.results[op].map(decode), c.dtype === 'float32' ? 1e-6 : 1e-14, op, op !== 'relu');
      }
    });

    it.each(fixtures.where)('where, $dtype (cond $condDtype): NaN and tiny values count as true, three shapes broadcast', (c) => {
      const y = ops.where(fromFlat(c.cond, c.condDtype ?? c.dtype), fromFlat(c.a, c.dtype), fromFlat(c.b, c.dtype));
      expect(y.shape).toEqual(c.y.shape);
      expectValues(y, c.y.values.map(decode), 0, 'where');
    });

    it.each(fixtures.clamp.map((c) => ({ ...c, name: `${c.label}, ${c.dtype}` })))('clamp (np.clip): $name', (c) => {
      // a bound of shape [] goes in as a number, a NaN one too (np.clip(x, nan, 2) is all NaN)
      const bound = (f: Flat | null) => (f === null ? null : f.shape.length === 0 ? decode(f.values[0]) : fromFlat(f, c.dtype));
      const y = ops.clamp(fromFlat(c.x, c.dtype), bound(c.min), bound(c.max));
      expect(y.shape).toEqual(c.y.shape);
      // the sign of a zero where x ties a bound is not compared: np.clip keeps x with two number bounds and gives the
      // bound's zero otherwise (its loop is then np.maximum / np.minimum); nodenn keeps x in every form, which
      // test/ops-signed-zero.spec.ts checks
      expectValues(y, c.y.values.map(decode), 0, 'clamp', false);
    });

    it.each(['float64', 'float32'] as const)('linspace, arange and eye (%s)', (dtype) => {
      for (const c of fixtures.creation) {
        const [p, q, r, opts] = c.args as [number, number?, number?, object?];
        const o = { ...opts, dtype };
        const y = c.call === 'linspace' ? nn.linspace(p, q!, r, o) : c.call === 'arange' ? nn.arange(p, q, r, o)
          : nn.eye(p, q, o);
        expect(y.dtype).toBe(dtype);
        expectValues(y, ((dtype === 'float64' ? c.y : c.y32).flat() as Stored[]).map(decode), 0, `${c.call}(${c.args.join(', ')})`);
      }
    });

    it.each(fixtures.print.map((c) => ({ ...c, name: `${c.dtype} ${JSON.stringify(c.shape)}` })))(
      'toString() prints as NumPy\'s str(): $name', (c) => {
        expect(String(new Tensor(c.values.map(decode), c.shape, c.dtype))).toBe(c.str);
      });
  });

  describe('hand-worked', () => {
    it('broadcasting: a row, a column, an outer sum, rank mismatch, scalars, zero-size', () => {
      const m = nn.tensor([[1, 2, 3], [4, 5, 6]]);
      expect(m.add(nn.tensor([10, 20, 30])).toNested()).toEqual([[11, 22, 33], [14, 25, 36]]);
      expect(m.sub(nn.tensor([[1], [2]])).toNested()).toEqual([[0, 1, 2], [2, 3, 4]]);
      expect(nn.tensor([[1], [2]]).mul(nn.tensor([1, 10, 100])).toNested()).toEqual([[1, 10, 100], [2, 20, 200]]);
      expect(nn.ones([2, 1, 3]).add(nn.tensor([[1], [2]])).shape).toEqual([2, 2, 3]);
      expect(m.div(2).toNested()).toEqual([[0.5, 1, 1.5], [2, 2.5, 3]]);
      expect(ops.sub(10, m).toNested()).toEqual([[9, 8, 7], [6, 5, 4]]);
      expect(m.pow(nn.tensor(2)).toNested()).toEqual([[1, 4, 9], [16, 25, 36]]);
      const empty = nn.zeros([0, 3]).add(nn.tensor([1, 2, 3]));
      expect(empty.shape).toEqual([0, 3]);
      expect(nn.zeros([2, 0]).add(nn.zeros([2, 1])).shape).toEqual([2, 0]);
      expect(nn.zeros([1, 0]).add(nn.zeros([3, 1])).shape).toEqual([3, 0]);
      // one-element operands of either rank
      expect(nn.tensor([2]).add(nn.tensor([[3]])).toNested()).toEqual([[5]]);
      expect(nn.tensor([[2]]).add(nn.tensor([3])).toNested()).toEqual([[5]]);
      expect(nn.tensor([2]).add(nn.tensor([[3, 4]])).toNested()).toEqual([[5, 6]]);
      expect(nn.zeros([0]).add(nn.tensor(1)).shape).toEqual([0]);
      expect(nn.tensor(1).add(nn.zeros([2, 0])).shape).toEqual([2, 0]);
    });

    it('more than 4 axes that do not collapse run block by block', () => {
      // (2, 1, 2, 1, 2, 1) + (1, 2, 1, 2, 1, 2): six alternating axes; x[i] = i, y[j] = 100 j
      const x = nn.arange(8).reshape([2, 1, 2, 1, 2, 1]), y = nn.arange(8).mul(100).reshape([1, 2, 1, 2, 1, 2]);
      const z = x.add(y);
      expect(z.shape).toEqual([2, 2, 2, 2, 2, 2]);
      // z[a, b, c, d, e, f] = x[a, c, e] + y[b, d, f]
      for (const [a, b, c, d, e, f] of [[0, 0, 0, 0, 0, 0], [1, 0, 1, 1, 0, 1], [1, 1, 1, 1, 1, 1], [0, 1, 1, 0, 1, 0]]) {
        expect(z.get(a, b, c, d, e, f)).toBe(4 * a + 2 * c + e + 100 * (4 * b + 2 * d + f));
      }
    });

    it('the dtype rule: float64 wins; a number takes the tensor\'s dtype', () => {
      const f32 = nn.tensor([0.1, 0.2]), f64 = nn.tensor([0.1, 0.2], { dtype: 'float64' });
      expect(f32.add(f64).dtype).toBe('float64');
      expect(f64.add(f32).dtype).toBe('float64');
      // float32(0.1) + 0.1 in float64: the float32 operand is converted exactly first
      expect(f32.add(f64).data[0]).toBe(Math.fround(0.1) + 0.1);
      expect(f32.mul(0.1).dtype).toBe('float32');
      expect(f32.mul(0.1).data[0]).toBe(Math.fround(Math.fround(0.1) * Math.fround(0.1)));
      expect(f64.gt(f32).dtype).toBe('float64');
      expect(ops.where(f32.gt(0.15), f32, f64).dtype).toBe('float64');
      expect(ops.add(1, 2).dtype).toBe('float32');
    });

    it('comparisons give a 0/1 mask in the float dtype; NaN compares false, ne true', () => {
      const a = nn.tensor([1, NaN, 3]), b = nn.tensor([1, NaN, 2]);
      expect(a.eq(b).toNested()).toEqual([1, 0, 0]);
      expect(a.ne(b).toNested()).toEqual([0, 1, 1]);
      expect(a.gt(b).toNested()).toEqual([0, 0, 1]);
      expect(a.ge(b).toNested()).toEqual([1, 0, 1]);
      expect(a.lt(2).toNested()).toEqual([1, 0, 0]);
      expect(a.le(1).toNested()).toEqual([1, 0, 0]);
      // a mask selects, counts and multiplies
      expect(ops.where(a.gt(2), a, 0).toNested()).toEqual([0, 0, 3]);
    });

    it('maximum, minimum propagate NaN; clamp keeps it; clamp with one bound, tensor bounds, min > max', () => {
      const x = nn.tensor([-2, 0.5, NaN, 7]);
      expect(x.maximum(0).toNested()).toEqual([0, 0.5, NaN, 7]);
      expect(ops.minimum(nn.tensor([NaN]), nn.tensor([1])).toNested()).toEqual([NaN]);
      expect(x.clamp(0, 1).toNested()).toEqual([0, 0.5, NaN, 1]);
      expect(x.clamp(0).toNested()).toEqual([0, 0.5, NaN, 7]);
      expect(x.clamp(null, 1).toNested()).toEqual([-2, 0.5, NaN, 1]);
      expect(x.clamp(nn.tensor([-3, 1, 0, 0]), 5).toNested()).toEqual([-2, 1, NaN, 5]);
      expect(x.clamp(3, 1).toNested()).toEqual([1, 1, NaN, 1]);
      expect(x.clamp(-Infinity, Infinity).toNested()).toEqual([-2, 0.5, NaN, 7]);
    });

    it('activations and maps at hand-worked points', () => {
      const x = nn.tensor([-1, 0, 2], { dtype: 'float64' });
      expect(x.relu().toNested()).toEqual([0, 0, 2]);
      expect(x.leakyRelu(0.1).toNested()).toEqual([-0.1, 0, 2]);
      expect(x.leakyRelu().toNested()).toEqual([-0.01, 0, 2]);
      expect(x.step().toNested()).toEqual([0, 0, 1]);
      expect(x.sigmoid().data[1]).toBe(0.5);
      expect(x.tanh().data[1]).toBe(0);
      expect(x.softplus().data[1]).toBeCloseTo(Math.LN2, 15);
      // Python: 0.5 * x * (1 + math.erf(x / math.sqrt(2)))
      [-0.15865525393145707, 0, 1.9544997361036416].forEach((v, i) => expect(x.gelu().data[i]).toBeCloseTo(v, 15));
      expect(x.square().toNested()).toEqual([1, 0, 4]);
      expect(x.neg().toNested()).toEqual([1, -0, -2]);
      expect(x.abs().toNested()).toEqual([1, 0, 2]);
      expect(x.sign().toNested()).toEqual([-1, 0, 1]);
      expect(nn.tensor([4, 0, -1]).sqrt().toNested()).toEqual([2, 0, NaN]);
      expect(nn.tensor([1, 0, -1]).log().toNested()).toEqual([0, -Infinity, NaN]);
      expect(nn.tensor([0, 1]).exp().data[1]).toBe(Math.fround(Math.E));
      expect(nn.tensor([1e-10], { dtype: 'float64' }).log1p().data[0]).toBe(Math.log1p(1e-10));
    });

    it('equal and allClose', () => {
      const a = nn.tensor([1, 2, 3]);
      expect(a.equal(nn.tensor([1, 2, 3]))).toBe(true);
      expect(a.equal(nn.tensor([1, 2, 4]))).toBe(false);
      expect(a.equal(nn.tensor([[1, 2, 3]]))).toBe(false);  // shapes differ
      expect(a.equal(nn.tensor([1, 2, 3], { dtype: 'float64' }))).toBe(true);
      expect(nn.tensor([NaN]).equal(nn.tensor([NaN]))).toBe(false);
      expect(nn.zeros([0]).equal(nn.zeros([0]))).toBe(true);
      expect(a.allClose(nn.tensor([1, 2, 3.00001]))).toBe(true);
      expect(a.allClose(nn.tensor([1, 2, 3.001]))).toBe(false);
      expect(a.allClose(nn.tensor([1, 2, 3.001]), 1e-3)).toBe(true);
      expect(a.allClose(nn.tensor([1.5, 2.5, 3.5]), 0, 0.5)).toBe(true);
      expect(nn.tensor([Infinity, -Infinity]).allClose(nn.tensor([Infinity, -Infinity]))).toBe(true);
      expect(nn.tensor([Infinity]).allClose(nn.tensor([-Infinity]))).toBe(false);
      expect(nn.tensor([NaN]).allClose(nn.tensor([NaN]))).toBe(false);
      expect(nn.tensor([[1, 1], [1, 1]]).allClose(1)).toBe(true);  // broadcast
      expect(() => a.allClose(a, -1)).toThrow(new RangeError('allClose: rtol must be a finite non-negative number, got -1'));
    });

    it('errors: broadcasting names both shapes and the axis; bad operands and options name the argument', () => {
      expect(() => nn.zeros([2, 3]).add(nn.zeros([4]))).toThrow(
        new RangeError('cannot broadcast a [2, 3] with b [4]: axis 1 (-1) has size 3 in a and 4 in b'));
      expect(() => nn.zeros([5, 2, 3]).mul(nn.zeros([4, 1, 3]))).toThrow(
        new RangeError('cannot broadcast a [5, 2, 3] with b [4, 1, 3]: axis 0 (-3) has size 5 in a and 4 in b'));
      expect(() => ops.where(nn.zeros([2]), nn.zeros([3]), 0)).toThrow(
        new RangeError('cannot broadcast cond [2] with a [3]: axis 0 (-1) has size 2 in cond and 3 in a'));
      expect(() => nn.zeros([2]).add('1' as unknown as number)).toThrow(
        new TypeError("b must be a Tensor or a number, got the string '1'"));
      expect(() => ops.exp([1, 2] as unknown as Tensor)).toThrow(new TypeError('x must be a Tensor, got an array of length 2'));
      expect(() => nn.zeros([2]).leakyRelu(NaN)).toThrow(new TypeError('slope must be a finite number, got NaN'));
      expect(() => nn.zeros([2]).clamp()).toThrow(new TypeError('clamp: give min, max or both'));
      expect(() => nn.zeros([2]).clamp('1' as never)).toThrow(new TypeError("clamp: min must be a number, a Tensor, null or undefined, got the string '1'"));
    });

    it('the kernels check the broadcast rule themselves, in the same words on each backend', () => {
      const k = getBackend();
      const y = new Float32Array(6);
      expect(() => k.broadcastBinary('add', 2, 1, 1, 3, 3, 1, 1, 3, new Float32Array(6), new Float32Array(9), y)).toThrow(
        new RangeError('a0 = 2 and b0 = 3 do not broadcast: each axis needs equal sizes or a 1'));
      expect(() => k.broadcastWhere(1, 1, 1, 2, 1, 1, 1, 3, 1, 1, 1, 1, new Float32Array(2), new Float32Array(3),
        new Float32Array(1), y)).toThrow(
        new RangeError('c3 = 2, a3 = 3 and b3 = 1 do not broadcast: each axis needs equal sizes or a 1'));
    });

    it('a float32 result of many elements is the same with 1 and 2 threads', () => {
      if (bc.backend !== 'native') return;
      const a = nn.randn([300, 700], { seed: 1 }), row = nn.randn([700], { seed: 2 });
      const one = withThreads(1, () => [a.add(row), a.exp(), a.gelu(), ops.where(a.gt(0), a, row)]);
      const two = withThreads(2, () => [a.add(row), a.exp(), a.gelu(), ops.where(a.gt(0), a, row)]);
      one.forEach((t, i) => expect(Buffer.from(two[i].data.buffer).equals(Buffer.from(t.data.buffer))).toBe(true));
      expect(nativeAddon().info().threads).toBeGreaterThan(0);
    });
  });
});

describe('creation', () => {
  it('tensor(): nested arrays with shape inference, typed arrays copied, numbers as shape [], dtype', () => {
    const t = nn.tensor([[1, 2], [3, 4], [5, 6]]);
    expect(t.shape).toEqual([3, 2]);
    expect(t.dtype).toBe('float32');
    const src = new Float64Array([1, 2]);
    const c = nn.tensor(src);
    expect(c.dtype).toBe('float64');
    src[0] = 9;
    expect(c.data[0]).toBe(1);
    expect(nn.tensor(new Int32Array([7, 8])).toNested()).toEqual([7, 8]);
    expect(nn.tensor(2.5).shape).toEqual([]);
    expect(nn.tensor(2.5).item()).toBe(2.5);
    expect(nn.tensor([1, 2], { dtype: 'float64' }).dtype).toBe('float64');
    expect(() => nn.tensor([[1, 2], [3]])).toThrow(RangeError);
    expect(() => nn.tensor([1], { dtype: 'int8' as nn.DType })).toThrow(
      new TypeError("options.dtype must be 'float32' or 'float64', got the string 'int8'"));
  });

  it('zeros, ones, full and the *Like versions', () => {
    expect(nn.zeros([2, 2]).toNested()).toEqual([[0, 0], [0, 0]]);
    expect(nn.ones(3, { dtype: 'float64' }).toNested()).toEqual([1, 1, 1]);
    expect(nn.full([2], NaN).toNested()).toEqual([NaN, NaN]);
    const x = nn.zeros([2, 3], { dtype: 'float64' });
    expect(nn.onesLike(x).dtype).toBe('float64');
    expect(nn.fullLike(x, 7).toNested()).toEqual([[7, 7, 7], [7, 7, 7]]);
    expect(nn.zerosLike(x, { dtype: 'float32' }).dtype).toBe('float32');
    expect(() => nn.zeros([2, -1])).toThrow(RangeError);
  });

  it('arange, linspace and eye: hand-worked and their errors', () => {
    expect(nn.arange(5).toNested()).toEqual([0, 1, 2, 3, 4]);
    expect(nn.arange(1, 2, 0.25).toNested()).toEqual([1, 1.25, 1.5, 1.75]);
    expect(nn.arange(3, 1).size).toBe(0);
    expect(nn.linspace(0, 1, 5).toNested()).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(nn.linspace(0, 1, 0).size).toBe(0);
    expect(nn.eye(2).toNested()).toEqual([[1, 0], [0, 1]]);
    expect(() => nn.arange(0, 1, 0)).toThrow(new RangeError('step must not be 0'));
    expect(() => nn.arange(0, Infinity)).toThrow(new TypeError('stop must be a finite number, got Infinity'));
    expect(() => nn.linspace(0, 1, -1)).toThrow(new RangeError('num must be a non-negative integer, got -1'));
  });

  it('rand, randn and randint: seeded, reproducible, in range', () => {
    const a = nn.rand([1000], { seed: 7 }), b = nn.rand([1000], { seed: 7 });
    expect(a.equal(b)).toBe(true);
    expect(a.equal(nn.rand([1000], { seed: 8 }))).toBe(false);
    expect(Math.min(...a.data)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...a.data)).toBeLessThan(1);
    const rng = new nn.Random(3);
    const first = rng.uniform();
    expect(nn.rand([1], { rng: new nn.Random(3) }).data[0]).toBe(Math.fround(first));
    const n = nn.randn([4000], { seed: 1, dtype: 'float64' });
    const mean = Array.from(n.data).reduce((s, v) => s + v, 0) / n.size;
    expect(Math.abs(mean)).toBeLessThan(0.1);
    const r = nn.randint(-2, 3, [500], { seed: 2 });
    expect(new Set(r.data)).toEqual(new Set([-2, -1, 0, 1, 2]));
    expect(nn.randint(4, [3, 2], { seed: 1 }).shape).toEqual([3, 2]);
    expect(nn.randint(0, 10).shape).toEqual([]);
    // the shared generator advances; manualSeed restarts it
    nn.manualSeed(5);
    const s1 = nn.rand([3]);
    nn.manualSeed(5);
    expect(nn.rand([3]).equal(s1)).toBe(true);
    expect(() => nn.randint(3, 3, [1])).toThrow(new RangeError('high must be greater than low, got low = 3, high = 3'));
    expect(() => nn.rand([1], { seed: 1, rng })).toThrow(new TypeError('options: give seed or rng, not both'));
  });
});

describe('inspection', () => {
  it('util.inspect and console.log print NumPy\'s repr, named Tensor, with the dtype', () => {
    const t = nn.tensor([[1, 2], [3, 4]]);
    expect(inspect(t)).toBe('Tensor([[1., 2.],\n        [3., 4.]], dtype=float32)');
    expect(inspect(nn.tensor([0.5, NaN], { dtype: 'float64' }))).toBe('Tensor([0.5, nan], dtype=float64)');
    expect(inspect(nn.tensor(1.5))).toBe('Tensor(1.5, dtype=float32)');
    expect(inspect(nn.zeros([2, 0]))).toBe('Tensor([], shape=(2, 0), dtype=float32)');
    expect(inspect(nn.zeros([0]))).toBe('Tensor([], dtype=float32)');
    expect(String(nn.tensor(1.5))).toBe('1.5');
    expect(String(nn.tensor(2))).toBe('2.0');
    expect(`${nn.tensor([1, 2.5])}`).toBe('[1.  2.5]');
  });

  it('toNested() and item()', () => {
    expect(nn.tensor([[1, 2], [3, 4]]).toNested()).toEqual([[1, 2], [3, 4]]);
    expect(nn.zeros([2, 0]).toNested()).toEqual([[], []]);
    expect(nn.tensor(3).toNested()).toBe(3);
    expect(nn.tensor([[[5]]]).item()).toBe(5);
    expect(() => nn.zeros([2, 3]).item()).toThrow(
      new RangeError('item() needs a tensor of one element, got shape [2, 3] (6 elements)'));
  });
});
