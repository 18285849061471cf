// Tensor: every error of its constructor, factories and methods names what was wrong; reshape infers one -1 size.
import { describe, expect, it } from 'vitest';
import { Tensor } from '../src/tensor';

describe('Tensor', () => {
  it('reshape infers one -1 size from the others, as a view of the same data', () => {
    const t = new Tensor(Float32Array.from({ length: 12 }, (_, i) => i), [3, 4]);
    expect(t.reshape([-1]).shape).toEqual([12]);
    expect(t.reshape([2, -1]).shape).toEqual([2, 6]);
    expect(t.reshape([-1, 3, 2]).shape).toEqual([2, 3, 2]);
    expect(t.reshape([4, 1, -1]).shape).toEqual([4, 1, 3]);
    const v = t.reshape([-1, 6]);
    expect(v.data).toBe(t.data);
    v.data[7] = 70;
    expect(t.get(1, 3)).toBe(70);
    // an empty tensor: -1 is inferred when the other sizes are not zero
    expect(Tensor.zeros([0, 4]).reshape([-1, 2]).shape).toEqual([0, 2]);
  });

  it.each([
    [[5, -1], /cannot reshape \[3, 4\] to \[5, -1\]/],
    [[-1, -1], /cannot reshape \[3, 4\] to \[-1, -1\]: only one size can be -1/],
    [[-1, 0], /cannot reshape \[3, 4\] to \[-1, 0\]/],
    [[5], /cannot reshape \[3, 4\] \(12 elements\) to \[5\]/],
    [[2, -2, 3], /shape must hold non-negative integers, got \[2, -2, 3\]/],
    [[2.5, 4], /shape must hold non-negative integers, got \[2.5, 4\]/],
    [[NaN, 12], /shape must hold non-negative integers, got \[NaN, 12\]/],
  ] as [number[], RegExp][])('reshape(%j) of a [3, 4] tensor is a RangeError', (shape, message) => {
    const t = Tensor.zeros([3, 4]);
    expect(() => t.reshape(shape)).toThrow(RangeError);
    expect(() => t.reshape(shape)).toThrow(message);
  });

  it('the constructor: data, shape and dtype errors', () => {
    expect(() => new Tensor(3 as never)).toThrow(new TypeError('data must be a Float32Array, a Float64Array or a (nested) array of numbers, got 3'));
    expect(() => new Tensor(null as never)).toThrow(/data must be .*, got null$/);
    expect(() => new Tensor('abc' as never)).toThrow(/data must be .*, got the string 'abc'$/);
    expect(() => new Tensor(new Float32Array(2), undefined, 'float64')).toThrow(new TypeError("data is a Float32Array but dtype 'float64' was asked for"));
    expect(() => new Tensor(new Float64Array(2), [2], 'float32')).toThrow(/data is a Float64Array but dtype 'float32'/);
    expect(() => new Tensor(new Float32Array(6), '6' as never)).toThrow(new TypeError('shape must be an array of sizes, got string'));
    expect(() => new Tensor(new Float32Array(6), [2, -3])).toThrow(new RangeError('shape must hold non-negative integers, got [2, -3]'));
    expect(() => new Tensor(new Float32Array(6), [4, 2])).toThrow(new RangeError('shape [4, 2] holds 8 elements but data has 6'));
    expect(() => new Tensor([1, 2, 3], [])).toThrow(/shape \[\] holds 1 elements but data has 3/);
    // what it accepts: arrays of numbers as float32 unless float64 is asked for; the shape defaults to [length]
    expect(new Tensor([1, 2, 3]).dtype).toBe('float32');
    expect(new Tensor([1, 2, 3], [3], 'float64').data).toBeInstanceOf(Float64Array);
    expect(new Tensor(new Float64Array(4)).shape).toEqual([4]);
    expect(new Tensor([7], []).shape).toEqual([]);
  });

  it('zeros, full and astype refuse a bad shape or dtype', () => {
    expect(() => Tensor.zeros([2, 1.5])).toThrow(new RangeError('shape must hold non-negative integers, got [2, 1.5]'));
    expect(() => Tensor.zeros(3 as never)).toThrow(new TypeError('shape must be an array of sizes, got number'));
    expect(() => Tensor.zeros([2], 'int32' as never)).toThrow(new TypeError("dtype must be 'float32' or 'float64', got the string 'int32'"));
    expect(() => Tensor.full([2], 1, 'float16' as never)).toThrow(/dtype must be 'float32' or 'float64', got the string 'float16'/);
    expect(() => Tensor.zeros([2]).astype('float16' as never)).toThrow(/dtype must be 'float32' or 'float64'/);
    expect(Tensor.full([2, 2], 3, 'float64').toArray()).toEqual([3, 3, 3, 3]);
  });

  it('get: one integer index per dimension, each inside its size', () => {
    const t = new Tensor(Float64Array.from({ length: 6 }, (_, i) => i), [2, 3]);
    expect(t.get(1, 2)).toBe(5);
    expect(() => t.get(1)).toThrow(new RangeError('get() needs 2 indices for shape [2, 3]'));
    expect(() => t.get(1, 2, 0)).toThrow(/get\(\) needs 2 indices/);
    expect(() => t.get(2, 0)).toThrow(new RangeError('index 0 is 2, outside [0, 2)'));
    expect(() => t.get(0, -1)).toThrow(new RangeError('index 1 is -1, outside [0, 3)'));
    expect(() => t.get(0, 1.5)).toThrow(new RangeError('index 1 is 1.5, outside [0, 3)'));
    expect(() => t.get(0, NaN)).toThrow(/index 1 is NaN/);
  });

  it('a tensor whose buffer was detached or shrank says so in every method that reads it', () => {
    const t = Tensor.zeros([2, 3]);
    structuredClone(t.data.buffer, { transfer: [t.data.buffer] });
    const detached = /tensor's ArrayBuffer is detached: it was transferred/;
    for (const [name, f] of [['reshape', () => t.reshape([6])], ['clone', () => t.clone()], ['astype', () => t.astype('float64')],
      ['get', () => t.get(0, 0)], ['toArray', () => t.toArray()]] as [string, () => unknown][]) {
      expect(f, name).toThrow(TypeError);
      expect(f, name).toThrow(detached);
    }
    // a length-tracking view of a resizable buffer that shrank after the tensor was made
    const rab = new (ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer & { resize(n: number): void })(24, { maxByteLength: 24 });
    const s = new Tensor(new Float32Array(rab), [2, 3]);
    rab.resize(8);
    expect(() => s.toArray()).toThrow(new TypeError('tensor has 2 elements but its shape [2, 3] needs 6: its ArrayBuffer was resized after the tensor was made'));
  });
});
