// Hostile arguments to the tensor API (issue 15): each case was a silent wrong result or an error that did not name
// the argument (V8's "Invalid array length", "shape is not iterable", "Cannot convert a BigInt value to a
// number", a dtype mismatch the caller never asked for). Each must now be the typed error naming the argument and
// what it expects, or the right result, on every backend.
import { describe, expect, it } from 'vitest';
import * as ops from '../src/ops/index';
import { Tensor } from '../src/tensor';
import { backends, useBackend } from './helpers';

const x = (): Tensor => new Tensor([1, 2, 3, 4, 5, 6], [2, 3]);

const errors: [string, () => unknown, ErrorConstructor, RegExp][] = [
  ['Tensor.zeros of 2^31 elements', () => Tensor.zeros([2 ** 31]), RangeError, /^shape \[2147483648\] would hold 2147483648 elements: a tensor holds fewer than 2\^31$/],
  ['ops.zeros of 2^32 elements', () => ops.zeros([2 ** 16, 2 ** 16]), RangeError, /^shape \[65536, 65536\] would hold 4294967296 elements/],
  ['eye(2^20)', () => ops.eye(2 ** 20), RangeError, /^shape \[1048576, 1048576\] would hold 1099511627776 elements/],
  ['linspace of 2^40 values', () => ops.linspace(0, 1, 2 ** 40), RangeError, /^the result of shape \[1099511627776\] would hold/],
  ['oneHot of depth 2^31', () => ops.oneHot([1], 2 ** 31), RangeError, /^the result of shape \[1, 2147483648\] would hold/],
  ['pad by 2^31', () => x().pad(2 ** 31), RangeError, /^the result of shape \[4294967298, 3\] would hold/],
  ['Tensor.full with a string value', () => Tensor.full([2], 'a' as never), TypeError, /^value must be a number, got the string 'a'$/],
  ['reshape without a shape', () => (x().reshape as (s?: unknown) => Tensor)(), TypeError, /^shape must be an array of sizes, got undefined$/],
  ['reshape to a number', () => x().reshape(6 as never), TypeError, /^shape must be an array of sizes, got 6$/],
  ['take with BigInt64Array indices', () => x().take(new BigInt64Array([0n]) as never, 1), TypeError, /^indices must be an Int32Array, an array of integers or a Tensor, got/],
  ['take at 2^31', () => x().take([2 ** 31], 1), RangeError, /^indices\[0\] is 2147483648, out of bounds for any axis/],
  ['take at -2^31', () => x().take([-(2 ** 31)], 1), RangeError, /^indices\[0\] is -2147483648, out of bounds/],
  ['oneHot with dtype int32', () => ops.oneHot([1], 3, 'int32' as never), TypeError, /^dtype must be 'float32' or 'float64', got the string 'int32'$/],
  ['slice at index 2^32 (was element 0, the index wrapped to 32 bits)', () => x().slice(null, 2 ** 32), RangeError, /^index 4294967296 is out of bounds for axis 1 with size 3$/],
  ['slice at index 2^31 (was named as -2147483648)', () => x().slice(2 ** 31), RangeError, /^index 2147483648 is out of bounds for axis 0 with size 2$/],
  ['slice at index -(2^32 + 1) (was element 2)', () => x().slice(null, -(2 ** 32) - 1), RangeError, /^index -4294967297 is out of bounds for axis 1 with size 3$/],
  ['zeros([1e308, 1e308, 0]) (was "holds NaN elements but data has 0")', () => ops.zeros([1e308, 1e308, 0]), RangeError, /^shape must hold non-negative integers up to 2\^53 - 1, got \[1e\+308, 1e\+308, 0\]$/],
  ['zeros([2^50, 2^50, 0])', () => ops.zeros([2 ** 50, 2 ** 50, 0]), RangeError, /^shape \[1125899906842624, 1125899906842624, 0\] is too big: its non-zero sizes multiply to 1\.2676506002282294e\+30, at least 2\^60 \(NumPy: array is too big\)$/],
  ['reshape an empty tensor to [2^31, 2^31, 0]', () => ops.zeros([0]).reshape([2 ** 31, 2 ** 31, 0]), RangeError, /^shape \[2147483648, 2147483648, 0\] is too big: its non-zero sizes multiply to 4611686018427388000, at least 2\^60/],
  ['a size above 2^53 - 1 (not exact as a number)', () => new Tensor(new Float32Array(0), [2 ** 53 + 2, 0]), RangeError, /^shape must hold non-negative integers up to 2\^53 - 1, got \[9007199254740994, 0\]$/],
  ['sum({ axes: 1 }) (summed every axis)', () => x().sum({ axes: 1 } as never), TypeError, /^unknown sum option 'axes'; the options are axis, keepdims$/],
  ['max({ axis: 0, keepDims: true }) (dropped the axis)', () => x().max({ axis: 0, keepDims: true } as never), TypeError, /^unknown max option 'keepDims'; the options are axis, keepdims$/],
  ['std({ correction: 1 })', () => x().std({ correction: 1 } as never), TypeError, /^unknown std option 'correction'; the options are axis, keepdims, ddof$/],
  ['argmax({ dim: 1 })', () => x().argmax({ dim: 1 } as never), TypeError, /^unknown argmax option 'dim'; the options are axis, keepdims$/],
  ['add(x, 1, { dtype })', () => ops.add(x(), 1, { dtype: 'float64' } as never), TypeError, /^unknown add option 'dtype'; the options are out$/],
  ['linspace endpoint "no" (was true)', () => ops.linspace(0, 1, 3, { endpoint: 'no' } as never), TypeError, /^options.endpoint must be a boolean, got the string 'no'$/],
  ['zeros([2], { dtyp }) (was float32)', () => ops.zeros([2], { dtyp: 'float64' } as never), TypeError, /^unknown zeros option 'dtyp'; the options are dtype$/],
  ['tensor(data, { requires_grad }) (was no gradient)', () => ops.tensor([1], { requires_grad: true } as never), TypeError, /^unknown tensor option 'requires_grad'; the options are dtype, requiresGrad$/],
  ['ones([2], { seed })', () => ops.ones([2], { seed: 1 } as never), TypeError, /^unknown ones option 'seed'; the options are dtype$/],
  ['randn([2], { generator })', () => ops.randn([2], { generator: 1 } as never), TypeError, /^unknown randn option 'generator'; the options are dtype, seed, rng$/],
  ['linspace(0, 1, 3, { endPoint: false })', () => ops.linspace(0, 1, 3, { endPoint: false } as never), TypeError, /^unknown linspace option 'endPoint'; the options are dtype, endpoint$/],
  // broadcasting to 2^32 elements was Node's 'The value of "size" is out of range ... Received 17_179_869_184'
  ['add broadcast to [2^16, 2^16]', () => ops.add(Tensor.zeros([2 ** 16, 1]), Tensor.zeros([1, 2 ** 16])), RangeError, /^the result of shape \[65536, 65536\] would hold 4294967296 elements: a tensor holds fewer than 2\^31$/],
  ['where broadcast to [2^16, 2^16]', () => ops.where(Tensor.zeros([2 ** 16, 1]), Tensor.zeros([1, 2 ** 16]), 0), RangeError, /^the result of shape \[65536, 65536\] would hold 4294967296 elements/],
  ['gt broadcast to [46341, 46341] (2^31 + 4281)', () => ops.gt(Tensor.zeros([46341, 1]), Tensor.zeros([46341])), RangeError, /^the result of shape \[46341, 46341\] would hold 2147488281 elements/],
  ['a Tensor of BigInt64Array data', () => new Tensor(new BigInt64Array([1n]) as never), TypeError, /^data must be a Float32Array, a Float64Array or a \(nested\) array of numbers, got a BigInt64Array$/],
];

describe.each(backends)('hostile tensor arguments on $label', (bc) => {
  it.each(errors)('%s', (_, f, type, message) => {
    useBackend(bc);
    expect(f).toThrow(type);
    expect(f).toThrow(message);
  });

  it('an empty tensor may have long axes while its non-zero sizes multiply to less than 2^60, as in NumPy', () => {
    useBackend(bc);
    expect(ops.zeros([2 ** 29, 2 ** 30, 0]).shape).toEqual([2 ** 29, 2 ** 30, 0]);
    expect(Tensor.zeros([0, 2 ** 53 - 1]).shape).toEqual([0, 2 ** 53 - 1]);
  });

  it('pad widths broadcast as NumPy\'s: [w], [[before, after]] and [[w]] for every axis, [w] for one axis', () => {
    useBackend(bc);
    // np.pad(np.arange(1., 3), [1]) is [0, 1, 2, 0]; x (2, 3) padded by [[1, 2]] is (5, 6), by [[1], [2]] is (4, 7)
    expect(new Tensor([1, 2]).pad([1]).toArray()).toEqual([0, 1, 2, 0]);
    expect(x().pad([[1, 2]]).shape).toEqual([5, 6]);
    expect(x().pad([[1], [2]], 9).toNested()).toEqual(
      [[9, 9, 9, 9, 9, 9, 9], [9, 9, 1, 2, 3, 9, 9], [9, 9, 4, 5, 6, 9, 9], [9, 9, 9, 9, 9, 9, 9]]);
    expect(x().pad([[0, 1]]).toNested()).toEqual([[1, 2, 3, 0], [4, 5, 6, 0], [0, 0, 0, 0]]);
    expect(() => x().pad([[1, 2, 3]])).toThrow(new TypeError('pad width[0] must be a [before, after] pair or [width], got an array of length 3'));
    expect(() => x().pad([[1], [-2]])).toThrow(new RangeError('pad width[1][0] must be a non-negative integer, got -2'));
  });

  it('nested data deeper than 64 arrays, or cyclic, is a RangeError (a cyclic array crashed the process: V8 fatal error)', () => {
    useBackend(bc);
    const cyclic: unknown[] = [1];
    cyclic[0] = cyclic;
    let deep: unknown = [1];
    for (let i = 0; i < 100000; i++) deep = [deep];  // "Maximum call stack size exceeded" before
    let ok: unknown = [7];
    for (let i = 0; i < 63; i++) ok = [ok];
    const message = /^data nests arrays more than 64 deep \(NumPy's most dimensions\): is it cyclic\?$/;
    expect(() => new Tensor(cyclic as never)).toThrow(message);
    expect(() => ops.tensor(deep as never)).toThrow(message);
    expect(new Tensor(ok as never).shape).toEqual(new Array(64).fill(1));
    expect(() => new Tensor({ length: 2 ** 40 } as never)).toThrow(
      new RangeError('data of shape [1099511627776] would hold 1099511627776 elements: a tensor holds fewer than 2^31'));
    expect(() => new Tensor({ length: -1 } as never)).toThrow(new RangeError('data\'s shape must hold non-negative integers, got [-1]'));
  });

  it('an operand that begins where out begins but is shorter is refused, not read after it was overwritten', () => {
    useBackend(bc);
    // a += a[0] through a view of a's first row: row 1 was written before row 2 read it ([2, 4, 5, 8])
    const d = new Float32Array([1, 2, 3, 4]);
    const a = new Tensor(d, [2, 2]), row = new Tensor(d.subarray(0, 2));
    expect(() => a.add_(row)).toThrow(new RangeError('y must not share memory with b (other than being the very same array)'));
    expect(() => ops.mul(a, row, { out: a })).toThrow(RangeError);
    expect(Array.from(d)).toEqual([1, 2, 3, 4]);
    expect(a.add_(row.clone()).toArray()).toEqual([2, 4, 4, 6]);  // NumPy's a += a[0].copy()
    expect(a.mul_(a.reshape([4]).reshape([2, 2])).toArray()).toEqual([4, 16, 16, 36]);  // the very same array: allowed
  });

  it('the creation functions take their own options (and forward none they do not take)', () => {
    useBackend(bc);
    expect(ops.rand([2], { seed: 3, dtype: 'float64' }).dtype).toBe('float64');
    expect(Array.from(ops.randint(0, 5, [3], { seed: 1 }).data)).toEqual(Array.from(ops.randint(0, 5, [3], { seed: 1 }).data));
    expect(ops.linspace(0, 1, 3, { endpoint: false, dtype: 'float64' }).toArray()).toEqual([0, 1 / 3, 2 / 3]);
    expect(ops.tensor([1], { requiresGrad: true, dtype: 'float64' }).requiresGrad).toBe(true);
    expect(ops.eye(2, 2, { dtype: 'float64' }).dtype).toBe('float64');
    expect(ops.onesLike(ops.zeros([2], { dtype: 'float64' })).toArray()).toEqual([1, 1]);
  });

  it('indices as a Float32Array or Float64Array are converted like any other array (not refused as a dtype mismatch)', () => {
    useBackend(bc);
    expect(x().take(new Float32Array([2, 0]) as never, 1).toArray()).toEqual([3, 1, 6, 4]);
    expect(x().gather(new Float64Array([1]) as never, 0).toArray()).toEqual([4, 5, 6]);
    expect(ops.oneHot(new Float32Array([2, 0]) as never, 3).toArray()).toEqual([0, 0, 1, 1, 0, 0]);
    expect(() => x().take(new Float32Array([0.5]) as never, 1)).toThrow(new TypeError('indices[0] must be an integer, got 0.5'));
  });

  it('data of another typed array than Float32Array/Float64Array (BigInt ones aside) is copied into the dtype', () => {
    useBackend(bc);
    const ints = Int32Array.of(-3, 0, 7, 2 ** 30 + 1), bytes = Uint8Array.of(255, 1);
    const t = new Tensor(ints, [2, 2]), d = new Tensor(ints, [4], 'float64'), b = new Tensor(bytes);
    expect([t.dtype, t.shape, Array.from(t.data)]).toEqual(['float32', [2, 2], [-3, 0, 7, 2 ** 30]]);
    expect([d.dtype, Array.from(d.data)]).toEqual(['float64', [-3, 0, 7, 2 ** 30 + 1]]);
    expect([b.dtype, b.shape, Array.from(b.data)]).toEqual(['float32', [2], [255, 1]]);
    ints[0] = 5;  // a copy: the tensor does not see later writes
    expect([t.data[0], d.data[0]]).toEqual([-3, -3]);
  });
});
