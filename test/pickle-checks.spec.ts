// The pickle reader opcode by opcode: hand-assembled pickles for every opcode it reads, every dtype and byte
// order of numpy arrays and torch storages, and every refusal with its exact reason. The reader does not depend on
// the backend (it only makes Tensors), so this spec runs once.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Tensor, io } from '../src/index';
import { type StorageLoader, decodePickleWith } from '../src/io/pickle';

type Part = string | number[] | Uint8Array;
/** Bytes from parts: strings as latin-1, number arrays as bytes. */
const bytes = (...parts: Part[]): Uint8Array =>
  Uint8Array.from(parts.flatMap((p) => typeof p === 'string' ? [...Buffer.from(p, 'latin1')] : [...p]));
const le32 = (n: number): number[] => [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, (n >>> 24) & 255];
/** SHORT_BINUNICODE */
const s = (t: string): Uint8Array => { const u = Buffer.from(t, 'utf8'); return bytes([0x8c, u.length], u); };
/** BININT */
const i = (n: number): Uint8Array => bytes([0x4a], le32(n));
/** MARK items TUPLE */
const tup = (...items: Part[]): Uint8Array => bytes('(', ...items, 't');
/** GLOBAL 'module.name' */
const G = (full: string): string => `c${full.slice(0, full.lastIndexOf('.'))}\n${full.slice(full.lastIndexOf('.') + 1)}\n`;
/** BINBYTES */
const binbytes = (data: Part): Uint8Array => { const d = bytes(data); return bytes([0x42], le32(d.length), d); };
/** A protocol 4 pickle of the parts, then STOP. */
const pk = (...parts: Part[]): Uint8Array => bytes([0x80, 4], ...parts, '.');
/** Where the opcode after these parts sits in pk(...). */
const at = (...parts: Part[]): number => 2 + bytes(...parts).length;
const read = (...parts: Part[]): unknown => io.decodePickle(pk(...parts), 't.pkl');
/** The reason a pickle is refused for: a PickleError naming t.pkl. */
const why = (p: Uint8Array, storages: StorageLoader | null = null): string => {
  try {
    decodePickleWith(p, 't.pkl', storages);
  } catch (e) {
    expect(e).toBeInstanceOf(io.PickleError);
    expect((e as io.PickleError).file).toBe('t.pkl');
    expect((e as Error).message).toBe(`t.pkl: ${(e as io.PickleError).reason}`);
    return (e as io.PickleError).reason;
  }
  throw new Error('not refused');
};
const refused = (...parts: Part[]): string => why(pk(...parts));

/** numpy.dtype(typestr) with its BUILD state (3, order, None, None, None, -1, -1, 0), as numpy pickles it. */
const dtype = (t: string, order = '<'): Uint8Array =>
  bytes(G('numpy.dtype'), s(t), [0x89, 0x88, 0x87], 'R', tup(i(3), s(order), 'NNN', i(-1), i(-1), i(0)), 'b');
const RECONSTRUCT = bytes(G('numpy.core.multiarray._reconstruct'), G('numpy.ndarray'), tup(i(0)), [0x43, 1], 'b', [0x87], 'R');
/** An ndarray: _reconstruct, then BUILD with (1, shape, dtype, is_fortran, data). */
const ndarray = (shape: number[], t: string, data: Part, o: { fortran?: Part; order?: string; state?: Part[] } = {}): Uint8Array =>
  bytes(RECONSTRUCT, tup(...(o.state ?? [i(1), tup(...shape.map(i)), dtype(t, o.order), o.fortran ?? [0x89], data])), 'b');

/** The bytes of values stored as numpy's typestring kind+size says, in either byte order (f2 takes the bits). */
function raw(k: string, vals: (number | bigint)[], little: boolean): Uint8Array {
  const size = Number(k.slice(1)), dv = new DataView(new ArrayBuffer(size * vals.length));
  vals.forEach((v, j) => {
    const o = j * size;
    switch (k) {
      case 'f2': case 'u2': dv.setUint16(o, v as number, little); break;
      case 'f4': dv.setFloat32(o, v as number, little); break;
      case 'f8': dv.setFloat64(o, v as number, little); break;
      case 'i1': dv.setInt8(o, v as number); break;
      case 'u1': case 'b1': dv.setUint8(o, v as number); break;
      case 'i2': dv.setInt16(o, v as number, little); break;
      case 'i4': dv.setInt32(o, v as number, little); break;
      case 'u4': dv.setUint32(o, v as number, little); break;
      case 'i8': dv.setBigInt64(o, v as bigint, little); break;
      default: dv.setBigUint64(o, v as bigint, little);
    }
  });
  return new Uint8Array(dv.buffer);
}

const F16_BITS = [0x3c00, 0xc000, 0x0001, 0x8001, 0x0400, 0x03ff, 0x7bff, 0x3555, 0x7c00, 0xfc00, 0x7e00, 0x0000, 0x8000];
const F16_VALUES = [1, -2, 2 ** -24, -(2 ** -24), 2 ** -14, 1023 * 2 ** -24, 65504, 0.333251953125, Infinity, -Infinity, NaN, 0, -0];
/** [typestring, values, what comes back: a Tensor's dtype or a NumpyArray's dtype and typed array] */
const DTYPES: [string, (number | bigint)[], string, string][] = [
  ['f4', [1.5, -2, 3.25e-20], 'float32', 'Float32Array'],
  ['f8', [0.1, -3, 1e300], 'float64', 'Float64Array'],
  ['i1', [-128, 127, 1], 'int8', 'Int8Array'],
  ['u1', [255, 1, 0], 'uint8', 'Uint8Array'],
  ['b1', [1, 0, 1], 'bool', 'Uint8Array'],
  ['i2', [1, -2, 300], 'int16', 'Int16Array'],
  ['u2', [65535, 258, 1], 'uint16', 'Uint16Array'],
  ['i4', [-1, 16909060, -2147483648], 'int32', 'Int32Array'],
  ['u4', [4294967295, 16909060, 1], 'uint32', 'Uint32Array'],
  ['i8', [-(2n ** 63n), 258n, 2n ** 60n + 1n], 'int64', 'BigInt64Array'],
  ['u8', [2n ** 64n - 1n, 258n, 1n], 'uint64', 'BigUint64Array'],
];

describe('pickle: numpy arrays of every dtype and byte order', () => {
  it.each(DTYPES)('%s, little- and big-endian and native', (k, vals, name, ctor) => {
    const orders = k[1] === '1' ? ['|', '<', '>', '='] : ['<', '>', '='];
    for (const order of orders) {
      const v = read(ndarray([3], k, binbytes(raw(k, vals, order !== '>')), { order })) as Tensor | io.NumpyArray;
      if (k[0] === 'f') {
        expect(v).toBeInstanceOf(Tensor);
        expect([(v as Tensor).dtype, [...v.shape]], order).toEqual([name, [3]]);
        expect([...(v as Tensor).data], order).toEqual(vals.map((x) => name === 'float32' ? Math.fround(x as number) : x));
      } else {
        expect(v).not.toBeInstanceOf(Tensor);
        const a = v as io.NumpyArray;
        expect([a.dtype, a.shape, a.data.constructor.name], order).toEqual([name, [3], ctor]);
        expect(Array.from(a.data as ArrayLike<number | bigint>), order).toEqual(vals);
      }
    }
  });

  it('float16: normal, subnormal, infinite, NaN and signed zeros, both byte orders, widened to float32', () => {
    for (const order of ['<', '>']) {
      const t = read(ndarray([F16_BITS.length], 'f2', binbytes(raw('f2', F16_BITS, order === '<')), { order })) as Tensor;
      expect(t.dtype).toBe('float32');
      expect([...t.data]).toEqual(F16_VALUES);
      expect(Object.is(t.data[12], -0)).toBe(true);
    }
  });

  it('little-endian float32 data are copied bit for bit: a signalling NaN keeps its bits', () => {
    const t = read(ndarray([2], 'f4', binbytes(new Uint8Array(Uint32Array.of(0x7f800001, 0x3f800000).buffer)))) as Tensor;
    expect([...new Uint32Array(t.data.buffer, t.data.byteOffset, 2)]).toEqual([0x7f800001, 0x3f800000]);
  });

  it('typestrings without a byte order, and the ones refused', () => {
    expect([...(read(ndarray([1], 'f8', binbytes(raw('f8', [2.5], true)))) as Tensor).data]).toEqual([2.5]);
    // a leading zero is the same size
    expect((read(ndarray([1], '<i04', binbytes(raw('i4', [-7], true)))) as io.NumpyArray).data).toEqual(Int32Array.of(-7));
    for (const t of ['f1', 'f3', 'f16', 'b2', 'i3', 'u16', 'i0', 'c8', 'O', 'xf4', '<f4x', '<<f4', '!f4', 'f', '<U1', 'V8', 'f4 ']) {
      expect(refused(dtype(t)), t).toBe(`numpy dtype '${t}' is not supported (only float16/32/64, integers and bool; ` +
        'object and structured arrays are refused)');
    }
    expect(refused(G('numpy.dtype'), tup(i(4)), 'R')).toBe('numpy.dtype needs a type string, got number');
    expect(refused(G('numpy.dtype'), ')R')).toBe('numpy.dtype needs a type string, got undefined');
  });

  it('Fortran order in 2 and 3 dimensions, and 1-D, empty and 0-D arrays', () => {
    // element (a, b, c) of shape (2, 3, 2) sits at a + 2 (b + 3 c) in Fortran order and holds a·6 + b·2 + c
    const f = new Array<number>(12);
    for (let a = 0; a < 2; a++) for (let b = 0; b < 3; b++) for (let c = 0; c < 2; c++) f[a + 2 * (b + 3 * c)] = a * 6 + b * 2 + c;
    const a3 = read(ndarray([2, 3, 2], 'i2', binbytes(raw('i2', f, true)), { fortran: [0x88] })) as io.NumpyArray;
    expect([a3.shape, a3.data.constructor.name, [...a3.data]]).toEqual([[2, 3, 2], 'Int16Array', [...Array(12).keys()]]);
    const t2 = read(ndarray([2, 2], 'f8', binbytes(raw('f8', [1, 3, 2, 4], true)), { fortran: i(1) })) as Tensor;
    expect([t2.dtype, [...t2.data]]).toEqual(['float64', [1, 2, 3, 4]]);
    const c2 = read(ndarray([2, 2], 'f8', binbytes(raw('f8', [1, 3, 2, 4], true)), { fortran: i(0) })) as Tensor;
    expect([...c2.data]).toEqual([1, 3, 2, 4]);
    expect(read(ndarray([0, 2], 'i8', binbytes([]), { fortran: [0x88] }))).toEqual({ dtype: 'int64', shape: [0, 2], data: new BigInt64Array(0) });
    const f1 = read(ndarray([3], 'u1', binbytes([5, 6, 7]), { fortran: [0x88] })) as io.NumpyArray;
    expect([...f1.data]).toEqual([5, 6, 7]);
    const empty = read(ndarray([0, 3], 'f4', binbytes([]))) as Tensor;
    expect([empty.dtype, [...empty.shape], empty.size]).toEqual(['float32', [0, 3], 0]);
    const scalar = read(ndarray([], 'f4', binbytes(raw('f4', [4.5], true)))) as Tensor;
    expect([[...scalar.shape], [...scalar.data]]).toEqual([[], [4.5]]);
  });

  it('at most 64 dimensions, as numpy (each element walks every axis: 10^5 axes of 1 and 10^6 elements took tens of minutes)', () => {
    const a64 = read(ndarray(new Array<number>(64).fill(1), 'u1', binbytes([7]), { fortran: [0x88] })) as io.NumpyArray;
    expect([a64.shape.length, [...a64.data]]).toEqual([64, [7]]);
    expect(refused(ndarray(new Array<number>(65).fill(1), 'u1', binbytes([7]), { fortran: [0x88] })))
      .toBe('an ndarray of 65 dimensions is refused (numpy allows at most 64)');
  });

  it('the state without its version, and data as a latin-1 string (Python 2)', () => {
    const four = read(bytes(RECONSTRUCT, tup(tup(i(2)), dtype('u1'), [0x89], binbytes([1, 2])), 'b')) as io.NumpyArray;
    expect([four.shape, [...four.data]]).toEqual([[2], [1, 2]]);
    // SHORT_BINSTRING and BINUNICODE: each character one byte
    const py2 = read(ndarray([2], 'u1', bytes([0x55, 2], '\xff\x80'))) as io.NumpyArray;
    expect([...py2.data]).toEqual([255, 128]);
    expect(refused(ndarray([1], 'u1', bytes([0x58], le32(2), [0xc4, 0x80])))).toBe('a latin-1 string holds a character above U+00FF');
    const u = read(ndarray([1], 'u1', bytes([0x58], le32(2), [0xc3, 0xbf]))) as io.NumpyArray;
    expect([...u.data]).toEqual([255]);
  });

  it('every malformed ndarray state is refused with its reason', () => {
    const state = 'an ndarray state must be (version, shape, dtype, is_fortran, data)';
    expect(refused(RECONSTRUCT, i(1), 'b')).toBe(state);
    expect(refused(RECONSTRUCT, tup(i(1), tup(i(1)), dtype('u1')), 'b')).toBe(state);
    expect(refused(RECONSTRUCT, tup(i(1), tup(i(1)), dtype('u1'), [0x89], binbytes([1]), 'N'), 'b')).toBe(state);
    const shape = 'an ndarray shape must be a tuple of non-negative integers';
    expect(refused(ndarray([], 'u1', '', { state: [i(1), i(2), dtype('u1'), [0x89], binbytes([1, 2])] }))).toBe(shape);
    expect(refused(ndarray([-1], 'u1', binbytes([])))).toBe(shape);
    expect(refused(ndarray([], 'u1', '', { state: [i(1), tup(bytes([0x47], raw('f8', [2.5], false))), dtype('u1'), [0x89], binbytes([])] }))).toBe(shape);
    expect(refused(ndarray([], 'u1', '', { state: [i(1), tup(s('2')), dtype('u1'), [0x89], binbytes([1, 2])] }))).toBe(shape);
    expect(refused(ndarray([], 'u1', '', { state: [i(1), tup(i(1)), s('u1'), [0x89], binbytes([1])] })))
      .toBe('an ndarray state must name a numpy.dtype');
    expect(refused(ndarray([1], 'u1', ']'))).toBe('ndarray data must be bytes (arrays of Python objects are refused)');
    expect(refused(ndarray([1], 'u1', 'N'))).toBe('ndarray data must be bytes (arrays of Python objects are refused)');
    expect(refused(ndarray([2, 3], 'f4', binbytes(raw('f4', [1, 2, 3, 4, 5], true)))))
      .toBe('an ndarray of shape (2, 3) and dtype float32 needs 24 bytes of data, the file gives 20');
    expect(refused(ndarray([1], 'i8', binbytes(raw('i8', [1n, 2n], true)))))
      .toBe('an ndarray of shape (1) and dtype int64 needs 8 bytes of data, the file gives 16');
    // the element count: refused when over 2^31 - 1 on the way (even if a later axis is 0), the largest let through
    expect(refused(ndarray([65536, 32768], 'i1', binbytes([]))))
      .toBe('an ndarray of shape (65536, 32768) has more than 2147483647 elements');
    expect(refused(ndarray([65536, 32768, 0], 'i1', binbytes([]))))
      .toBe('an ndarray of shape (65536, 32768, 0) has more than 2147483647 elements');
    expect(refused(ndarray([2147483647], 'i1', binbytes([]))))
      .toBe('an ndarray of shape (2147483647) and dtype int8 needs 2147483647 bytes of data, the file gives 0');
    // BUILD twice, and an array never built
    const once = ndarray([1], 'u1', binbytes([1]));
    expect(refused(once, tup(i(1), tup(i(1)), dtype('u1'), [0x89], binbytes([2])), 'b'))
      .toBe(`BUILD at byte ${at(once, tup(i(1), tup(i(1)), dtype('u1'), [0x89], binbytes([2])))} of an ndarray that already has its data`);
    expect(refused(RECONSTRUCT)).toBe('an ndarray was never given its data (no BUILD)');
    expect(refused(G('numpy.core.multiarray._reconstruct'), tup(s('x'), tup(i(0)), binbytes('b')), 'R'))
      .toBe('numpy.core.multiarray._reconstruct may only make a numpy.ndarray');
    expect(refused(G('numpy._core.multiarray._reconstruct'), tup(G('numpy.dtype'), tup(i(0)), binbytes('b')), 'R'))
      .toBe('numpy._core.multiarray._reconstruct may only make a numpy.ndarray');
  });

  it('numpy.dtype BUILD states', () => {
    const d = (...state: Part[]) => bytes(RECONSTRUCT, tup(i(1), tup(i(1)),
      bytes(G('numpy.dtype'), s('i2'), [0x89, 0x88, 0x87], 'R', tup(...state), 'b'), [0x89], binbytes([1, 2])), 'b');
    expect([...(read(d(i(3), s('>'))) as io.NumpyArray).data]).toEqual([258]);
    expect([...(read(d(i(3), s('<'), 'N')) as io.NumpyArray).data]).toEqual([513]);
    expect([...(read(d(i(3), s('>'), 'NNN')) as io.NumpyArray).data]).toEqual([258]);
    const form = 'a numpy.dtype state must be a tuple (version, byteorder, ...)';
    expect(refused(d(i(3)))).toBe(form);
    expect(refused(d(i(3), i(1)))).toBe(form);
    expect(refused(G('numpy.dtype'), s('i2'), [0x89, 0x88, 0x87], 'R', 'N', 'b')).toBe(form);
    expect(refused(d(i(3), s('<'), 'N', s('f'), 'N'))).toBe('structured numpy dtypes are refused');
    expect(refused(d(i(3), s('<'), 'NN', s('f')))).toBe('structured numpy dtypes are refused');
    expect(refused(d(i(3), s('<'), tup(i(2))))).toBe('numpy sub-array dtypes are refused');
    expect(refused(d(i(3), s('<'), tup(i(2)), 'NN'))).toBe('numpy sub-array dtypes are refused');
  });
});

describe('pickle: numpy scalars', () => {
  const scalar = (t: string, data: Part, fn = 'numpy._core.multiarray.scalar') => bytes(G(fn), dtype(t), data, [0x86], 'R');
  it('every kind, and integers past 2^53 as BigInt', () => {
    expect(read(scalar('f8', binbytes(raw('f8', [0.1], true))))).toBe(0.1);
    expect(read(scalar('f2', binbytes(raw('f2', [0xc000], true)), 'numpy.core.multiarray.scalar'))).toBe(-2);
    expect(read(scalar('u1', binbytes([200])))).toBe(200);
    expect(read(scalar('b1', binbytes([1])))).toBe(true);
    expect(read(scalar('b1', binbytes([0])))).toBe(false);
    expect(read(scalar('u1', bytes([0x55, 1], '\xfe')))).toBe(254);
    for (const v of [2n ** 53n, -(2n ** 53n), 0n]) expect(read(scalar('i8', binbytes(raw('i8', [v], true))))).toBe(Number(v));
    for (const v of [2n ** 53n + 1n, -(2n ** 53n) - 1n]) expect(read(scalar('i8', binbytes(raw('i8', [v], true))))).toBe(v);
    expect(read(scalar('u8', binbytes(raw('u8', [2n ** 64n - 1n], true))))).toBe(2n ** 64n - 1n);
  });
  it('refusals', () => {
    expect(refused(scalar('f8', binbytes([0, 0, 0, 0])))).toBe('numpy scalar of dtype float64 needs 8 bytes');
    expect(refused(scalar('u2', binbytes([0, 0, 0])))).toBe('numpy scalar of dtype uint16 needs 2 bytes');
    expect(refused(scalar('u1', 'N'))).toBe('numpy scalar of dtype uint8 needs 1 bytes');
    expect(refused(G('numpy.core.multiarray.scalar'), tup(dtype('u1')), 'R')).toBe('numpy scalar of dtype uint8 needs 1 bytes');
    expect(refused(G('numpy.core.multiarray.scalar'), tup(s('u1'), binbytes([1])), 'R')).toBe('numpy scalar needs a numpy.dtype');
  });
});

describe('pickle: the data opcodes', () => {
  it('integers: BININT, BININT1, BININT2, LONG1 and LONG4 at their limits', () => {
    expect(read(i(-2))).toBe(-2);
    expect(read([0x4b, 0xff])).toBe(255);
    expect(read([0x4d, 0x34, 0x12])).toBe(0x1234);
    const long1 = (...b: number[]) => read([0x8a, b.length, ...b]);
    expect(long1()).toBe(0);
    expect(long1(0xff)).toBe(-1);
    expect(long1(0x80)).toBe(-128);
    expect(long1(0x7f)).toBe(127);
    expect(long1(0xff, 0x00)).toBe(255);
    expect(long1(0, 0, 0, 0, 0, 0, 0x20, 0)).toBe(2 ** 53);
    expect(long1(1, 0, 0, 0, 0, 0, 0x20, 0)).toBe(2n ** 53n + 1n);
    expect(long1(0, 0, 0, 0, 0, 0, 0xe0, 0xff)).toBe(-(2 ** 53));
    expect(long1(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xdf, 0xff)).toBe(-(2n ** 53n) - 1n);
    expect(long1(0, 0, 0, 0, 0, 0, 0, 0, 1)).toBe(2n ** 64n);
    const big = new Array<number>(64).fill(0);
    big[62] = 1;
    expect(read([0x8b, ...le32(64), ...big])).toBe(2n ** 496n);
    expect(refused([0x8b, ...le32(65), ...big, 0])).toBe('an integer of 65 bytes is larger than this reader takes (64)');
    expect(refused([0x8a, 65, ...big, 0])).toBe('an integer of 65 bytes is larger than this reader takes (64)');
    expect(refused([0x8a, 3, 1])).toBe('truncated: LONG at byte 4 declares 3 bytes, 2 are left');
  });

  it('floats, booleans, None, strings and bytes', () => {
    expect(read([0x47, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0])).toBe(1.5);
    expect(read([0x88])).toBe(true);
    expect(read([0x89])).toBe(false);
    expect(read('N')).toBe(null);
    expect(read(s('aé€'))).toBe('aé€');
    expect(read([0x58, ...le32(3)], 'a\xc3\xa9')).toBe('aé');
    expect(read([0x8d, 2, 0, 0, 0, 0, 0, 0, 0], 'ab')).toBe('ab');
    expect(read([0x54, ...le32(3)], 'a\xe9b')).toBe('aéb');
    expect(read([0x55, 2], '\xff!')).toBe('ÿ!');
    expect(refused([0x54, 0xff, 0xff, 0xff, 0xff])).toBe('BINSTRING at byte 2 declares a negative length');
    expect(read([0x54, 0, 0, 0, 0])).toBe('');
    for (const [op, head] of [[0x42, le32(3)], [0x43, [3]], [0x8e, [3, 0, 0, 0, 0, 0, 0, 0]], [0x96, [3, 0, 0, 0, 0, 0, 0, 0]]] as [number, number[]][]) {
      const p = pk([op, ...head, 7, 8, 9]);
      const v = io.decodePickle(p) as Uint8Array;
      expect(v).toEqual(Uint8Array.of(7, 8, 9));
      p.fill(0);  // a copy, not a view of the pickle
      expect([...v]).toEqual([7, 8, 9]);
    }
  });

  it('text strings are UTF-8 as Python reads them: a bad byte is refused naming where its sequence starts, never U+FFFD', () => {
    expect(read([0x58, ...le32(3)], '\xe2\x82\xac')).toBe('\u20ac');
    expect(read([0x8c, 4], '\xf0\x9f\x98\x80')).toBe('\u{1f600}');
    // 'surrogatepass': an encoded UTF-16 surrogate is kept, as pickle.loads(b'\x80\x04\x8c\x03\xed\xa0\x80.') == '\ud800'
    expect(read([0x8c, 4], 'a\xed\xa0\x80')).toBe('a\ud800');
    // a stray continuation byte, an overlong '/', a cut sequence, a code point past U+10FFFF, a bad continuation
    expect(refused([0x58, ...le32(3)], 'a\x80b')).toBe('the BINUNICODE string of 3 bytes at byte 7 is not valid UTF-8 (at byte 8)');
    expect(refused([0x8c, 3], 'x\xc0\xaf')).toBe('the SHORT_BINUNICODE string of 3 bytes at byte 4 is not valid UTF-8 (at byte 5)');
    expect(refused([0x8d, 2, 0, 0, 0, 0, 0, 0, 0], 'a\xe2')).toBe('the BINUNICODE8 string of 2 bytes at byte 11 is not valid UTF-8 (at byte 12)');
    expect(refused([0x8c, 5], 'ab\xf4\x90\x80')).toBe('the SHORT_BINUNICODE string of 5 bytes at byte 4 is not valid UTF-8 (at byte 6)');
    expect(refused([0x8c, 4], '\xe0\x80\x80a')).toBe('the SHORT_BINUNICODE string of 4 bytes at byte 4 is not valid UTF-8 (at byte 4)');
    expect(refused([0x8c, 3], '\xe2\x82z')).toBe('the SHORT_BINUNICODE string of 3 bytes at byte 4 is not valid UTF-8 (at byte 4)');
    expect(refused([0x8c, 1], '\xff')).toBe('the SHORT_BINUNICODE string of 1 bytes at byte 4 is not valid UTF-8 (at byte 4)');
  });

  it('lengths are checked against what is left: the exact counts, and lengths past 2^53', () => {
    expect(refused([0x42, ...le32(4), 1, 2])).toBe('truncated: BINBYTES at byte 7 declares 4 bytes, 3 are left');
    expect(read([0x42, ...le32(2), 1, 2])).toEqual(Uint8Array.of(1, 2));
    expect(refused([0x8e, 0, 0, 0, 0, 0xff, 0xff, 0x1f, 0])).toBe('truncated: BINBYTES8 at byte 11 declares 9007194959773696 bytes, 1 are left');
    expect(refused([0x8e, 0, 0, 0, 0, 0, 0, 0x20, 0])).toBe('truncated: BINBYTES8 at byte 11 declares 9007199254740991 bytes, 1 are left');
    expect(refused([0x8e, 5, 0, 0, 0, 1, 0, 0, 0])).toBe('truncated: BINBYTES8 at byte 11 declares 4294967301 bytes, 1 are left');
    expect(why(bytes([0x80, 4, 0x4a, 1, 2, 3]))).toBe('truncated: BININT at byte 3 declares 4 bytes, 3 are left');
    expect(why(bytes([0x80, 4, 0x47, 1]))).toBe('truncated: BINFLOAT at byte 3 declares 8 bytes, 1 are left');
    expect(why(bytes([0x80, 4, 0x4b]))).toBe('truncated: BININT1 at byte 3 declares 1 bytes, 0 are left');
    expect(why(bytes([0x80, 4, 0x8c, 3, 0x61]))).toBe('truncated: SHORT_BINUNICODE at byte 4 declares 3 bytes, 1 are left');
    // each opcode's argument, and each length's bytes, cut off at the end: named in the message
    const heads: [number, string, number][] = [[0x4a, 'BININT', 4], [0x4b, 'BININT1', 1], [0x4d, 'BININT2', 2], [0x8a, 'LONG1', 1],
      [0x8b, 'LONG4', 4], [0x47, 'BINFLOAT', 8], [0x58, 'BINUNICODE', 4], [0x8c, 'SHORT_BINUNICODE', 1], [0x8d, 'BINUNICODE8', 8],
      [0x54, 'BINSTRING', 4], [0x55, 'SHORT_BINSTRING', 1], [0x42, 'BINBYTES', 4], [0x43, 'SHORT_BINBYTES', 1],
      [0x8e, 'BINBYTES8', 8], [0x96, 'BYTEARRAY8', 8], [0x68, 'BINGET', 1], [0x6a, 'LONG_BINGET', 4], [0x71, 'BINPUT', 1],
      [0x72, 'LONG_BINPUT', 4], [0x80, 'PROTO', 1], [0x95, 'FRAME', 8]];
    for (const [op, name, k] of heads) {
      expect(why(bytes([0x80, 4, op])), name).toBe(`truncated: ${name} at byte 3 declares ${k} bytes, 0 are left`);
      if (['BINUNICODE', 'SHORT_BINUNICODE', 'BINUNICODE8', 'BINSTRING', 'SHORT_BINSTRING', 'BINBYTES', 'SHORT_BINBYTES',
        'BINBYTES8', 'BYTEARRAY8', 'LONG1', 'LONG4'].includes(name)) {
        const body = name.startsWith('LONG') ? 'LONG' : name;
        expect(why(bytes([0x80, 4, op, 1], new Array<number>(k - 1).fill(0))), name).toBe(`truncated: ${body} at byte ${3 + k} declares 1 bytes, 0 are left`);
      }
    }
    // FRAME: a hint, checked against the bytes after it
    expect(read([0x95, 2, 0, 0, 0, 0, 0, 0, 0], 'N')).toBe(null);
    expect(why(bytes([0x80, 4, 0x95, 3, 0, 0, 0, 0, 0, 0, 0], 'N.'))).toBe('truncated: FRAME at byte 2 declares 3 bytes, 2 are left');
    expect(why(bytes([0x80, 4, 0x95, 0, 0, 0, 0, 0, 0, 0x20, 0], 'N.'))).toBe('truncated: FRAME at byte 2 declares 9007199254740991 bytes, 2 are left');
  });

  it('tuples, lists, dicts and sets, and the stack opcodes', () => {
    expect(read(')')).toEqual([]);
    expect(read(i(1), [0x85])).toEqual([1]);
    expect(read(i(1), i(2), [0x86])).toEqual([1, 2]);
    expect(read(i(1), i(2), i(3), [0x87])).toEqual([1, 2, 3]);
    expect(read('(', i(1), i(2), 't')).toEqual([1, 2]);
    expect(read('(', i(1), i(2), 'l')).toEqual([1, 2]);
    expect(read(']', i(1), 'a', '(', i(2), i(3), 'e')).toEqual([1, 2, 3]);
    expect(read('(', s('a'), i(1), s('b'), i(2), 'd')).toEqual({ a: 1, b: 2 });
    expect(Object.keys(read('}(', s('z'), i(1), s('a'), i(2), 'u', s('m'), i(3), 's') as object)).toEqual(['z', 'a', 'm']);
    expect(read('}(', s('a'), i(1), s('a'), i(2), 'u')).toEqual({ a: 2 });
    expect(read([0x8f], '(', i(1), i(2), [0x90])).toEqual(new Set([1, 2]));
    expect(read('(', i(3), [0x91])).toEqual(new Set([3]));
    expect(read(i(1), '2', [0x86])).toEqual([1, 1]);
    expect(read(i(1), i(2), '0')).toBe(1);
    expect(read(i(1), '(', i(2), i(3), '1')).toBe(1);
    expect(read('(', i(1), '(', i(2), 't', 't')).toEqual([1, [2]]);
  });

  it('a dict becomes a plain object of writable, enumerable, configurable keys', () => {
    const v = read('}', s('a'), i(1), 's') as Record<string, unknown>;
    expect(Object.getOwnPropertyDescriptor(v, 'a')).toEqual({ value: 1, writable: true, enumerable: true, configurable: true });
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
  });

  it('dict keys of every hashable kind a plain object can hold', () => {
    expect(read('}(', i(1), i(1), [0x8a, 9, 0, 0, 0, 0, 0, 0, 0, 0, 1], i(2), [0x88], i(3), 'N', i(4), [0x47, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0], i(5), 'u'))
      .toEqual({ 1: 1, '18446744073709551616': 2, true: 3, null: 4, 1.5: 5 });
    for (const key of [binbytes([1]), ')', '}', [0x8f]]) {
      expect(refused('}', key, i(1), 's')).toBe('dict keys must be strings or numbers');
      expect(refused('(', key, i(1), 'd')).toBe('dict keys must be strings or numbers');
    }
  });

  it('the memo: BINPUT, LONG_BINPUT, MEMOIZE and their GETs; a shared set or dict is one object', () => {
    // MEMOIZE takes the next index after the entries so far: 1 here
    expect(read('N', 'q', [5], '0', i(1), [0x94], '0', ']', 'h', [5], 'a', 'h', [1], 'a')).toEqual([null, 1]);
    expect(read(i(7), 'r', le32(70000), '0', 'j', le32(70000))).toBe(7);
    expect(read(i(7), [0x94, 0x94], '0', 'h', [0])).toBe(7);
    expect(refused('h', [7])).toBe('memo entry 7 is read before it is written');
    expect(refused('j', le32(70000))).toBe('memo entry 70000 is read before it is written');
    const sets = read([0x8f, 0x94], 'h', [0], [0x86]) as Set<unknown>[];
    expect(sets[0]).toBeInstanceOf(Set);
    expect(sets[0]).toBe(sets[1]);
    const dicts = read('}', [0x94], 'h', [0], [0x86]) as object[];
    expect(dicts[0]).toEqual({});
    expect(dicts[0]).toBe(dicts[1]);
    const arrays = read(ndarray([1], 'f4', binbytes(raw('f4', [1], true))), [0x94], 'h', [0], [0x86]) as Tensor[];
    expect(arrays[0]).toBe(arrays[1]);
  });

  it('OrderedDict: called with pairs, with none, through NEWOBJ; its BUILD state', () => {
    const OD = G('collections.OrderedDict');
    expect(read(OD, tup(']', '(', s('a'), i(1), [0x86], s('b'), i(2), [0x86], 'e'), 'R')).toEqual({ a: 1, b: 2 });
    expect(Object.keys(read(OD, tup('(', s('b'), i(1), [0x86], s('a'), i(2), [0x86], 'l'), 'R') as object)).toEqual(['b', 'a']);
    expect(read(OD, ')R')).toEqual({});
    expect(read(OD, ')', [0x81])).toEqual({});
    // cls.__new__(cls, *args) ignores the args; SETITEMS fills the dict
    expect(read(OD, tup(']', '(', s('a'), i(1), [0x86], 'e'), [0x81])).toEqual({});
    expect(refused(OD, 'N', [0x81])).toBe('the arguments of collections.OrderedDict must be a tuple');
    expect(refused(OD, tup(i(1)), 'R')).toBe('OrderedDict takes a list of (key, value) pairs');
    expect(refused(OD, tup('(', s('a'), [0x85], 'l'), 'R')).toBe('OrderedDict takes a list of (key, value) pairs');
    expect(refused(OD, tup('(', s('a'), i(1), i(2), [0x87], 'l'), 'R')).toBe('OrderedDict takes a list of (key, value) pairs');
    expect(refused(OD, tup('(', s('a'), 'l'), 'R')).toBe('OrderedDict takes a list of (key, value) pairs');
    // BUILD of an OrderedDict: None, an empty __dict__ or a state_dict's _metadata only
    expect(read(OD, ')R', '(', s('k'), i(1), 'u', 'N', 'b')).toEqual({ k: 1 });
    expect(read(OD, ')R', '}', 'b')).toEqual({});
    expect(read(OD, ')R', '}', s('_metadata'), '}', 's', 'b')).toEqual({});
    const build = (...parts: Part[]) => refused(OD, ')R', ...parts, 'b');
    const other = (n: number) => `BUILD at byte ${n} of something other than an ndarray or a numpy.dtype`;
    expect(build('}', s('x'), i(1), 's')).toBe(other(at(OD, ')R', '}', s('x'), i(1), 's')));
    expect(build('}(', s('_metadata'), '}', s('x'), i(1), 'u')).toBe(other(at(OD, ')R', '}(', s('_metadata'), '}', s('x'), i(1), 'u')));
    expect(build(i(1))).toBe(other(at(OD, ')R', i(1))));
    expect(build(')')).toBe(other(at(OD, ')R', ')')));
    expect(refused(']N', 'b')).toBe(other(at(']N')));
    expect(refused(']}', 'b')).toBe(other(at(']}')));
  });

  it('_codecs.encode: latin-1 only', () => {
    const enc = (...args: Part[]) => bytes(G('_codecs.encode'), tup(...args), 'R');
    expect(read(enc(s('\xffa'), s('latin1')))).toEqual(Uint8Array.of(255, 97));
    expect(read(enc(s('\xe9'), s('latin-1')))).toEqual(Uint8Array.of(233));
    const only = "_codecs.encode is read only as encode(str, 'latin1') (protocol 2's bytes)";
    expect(refused(enc(s('a'), s('utf8')))).toBe(only);
    expect(refused(enc(s('a')))).toBe(only);
    expect(refused(enc(i(1), s('latin1')))).toBe(only);
    expect(refused(enc(s('Ā'), s('latin1')))).toBe('a latin-1 string holds a character above U+00FF');
  });
});

describe('pickle: refusals word for word', () => {
  it('not a pickle, protocols, STOP and the end of the bytes', () => {
    const notPickle = 'not a pickle of protocol 2 or later (it does not start with the PROTO opcode 0x80)';
    expect(why(Uint8Array.of())).toBe(notPickle);
    expect(why(Uint8Array.of(0x80))).toBe(notPickle);
    expect(why(Uint8Array.of(0x81, 2, 0x4e, 0x2e))).toBe(notPickle);
    expect(why(Uint8Array.of(0x80, 2))).toBe('truncated: the pickle ends before its STOP opcode');
    expect(why(Uint8Array.of(0x80, 2, 0x4e))).toBe('truncated: the pickle ends before its STOP opcode');
    for (const p of [2, 3, 4, 5]) expect(io.decodePickle(Uint8Array.of(0x80, p, 0x4e, 0x2e))).toBe(null);
    for (const p of [0, 1, 6]) expect(why(Uint8Array.of(0x80, p, 0x4e, 0x2e))).toBe(`pickle protocol ${p} is not supported (2 to 5 are)`);
    expect(refused()).toBe('STOP with 0 items on the stack (and 0 marks)');
    expect(refused('NN')).toBe('STOP with 2 items on the stack (and 0 marks)');
    expect(refused('N(')).toBe('STOP with 1 items on the stack (and 1 marks)');
    expect(() => io.decodePickle([0x80, 2, 0x4e, 0x2e] as unknown as Uint8Array)).toThrow(new TypeError('bytes must be a Uint8Array'));
    expect(() => io.decodePickle(Uint8Array.of(0x80, 2))).toThrow(/^<buffer>: truncated/);
    // what follows STOP is not read
    expect(io.decodePickle(Uint8Array.of(0x80, 2, 0x4e, 0x2e, 0xff))).toBe(null);
  });

  it('stack underflow, below a MARK too, and a missing MARK', () => {
    expect(refused('0')).toBe('stack underflow at byte 2');
    expect(refused('2')).toBe('stack underflow at byte 2');
    expect(refused(i(1), '(', '0')).toBe(`stack underflow at byte ${at(i(1), '(')}`);
    expect(refused(']', '(', 'N', 'a')).toBe(`stack underflow at byte ${at(']', '(', 'N')}`);
    expect(refused(']', '(', '2')).toBe(`stack underflow at byte ${at(']', '(')}`);
    expect(refused(']', '(', i(1), '0', '0')).toBe(`stack underflow at byte ${at(']', '(', i(1), '0')}`);
    for (const op of ['l', 't', 'd', '1', 'e', 'u', '\x90', '\x91']) {
      expect(refused(']N', op), op).toBe(`no MARK before the opcode at byte ${at(']N')}`);
    }
  });

  it('the stack holds at most a million items', () => {
    const n = 1_000_000;
    const nones = (k: number) => { const p = new Uint8Array(k + 3).fill(0x4e); p.set([0x80, 4]); p[k + 2] = 0x2e; return p; };
    expect(why(nones(n))).toBe(`STOP with ${n} items on the stack (and 0 marks)`);
    expect(why(nones(n + 1))).toBe(`the stack holds more than ${n} items`);
  });

  it('ADDITEMS of more items than a spread call takes (some 10^5)', () => {
    const k = 300_000;
    const p = new Uint8Array(k + 6).fill(0x4b);
    p.set([0x80, 4, 0x8f, 0x28]);
    p.set([0x90, 0x2e], k + 4);
    // k / 2 BININT1s of the byte 0x4b
    expect(io.decodePickle(p)).toEqual(new Set([0x4b]));
  });

  it('containers on the wrong thing, odd item counts', () => {
    expect(refused('}N', 'a')).toBe(`APPEND at byte ${at('}N')} to something that is not a list`);
    expect(refused('}(N', 'e')).toBe(`APPENDS at byte ${at('}(N')} to something that is not a list`);
    expect(refused(']', '(N', [0x90])).toBe(`ADDITEMS at byte ${at(']', '(N')} to something that is not a set`);
    expect(refused('(N', 'd')).toBe(`DICT at byte ${at('(N')} with an odd number of items`);
    expect(refused('}(NNN', 'u')).toBe(`SETITEMS at byte ${at('}(NNN')} with an odd number of items`);
    expect(refused(']', s('a'), 'N', 's')).toBe('SETITEM on something that is not a dict');
    expect(refused(']', '(', s('a'), 'N', 'u')).toBe('SETITEM on something that is not a dict');
  });

  it('globals: the message in each mode, GLOBAL lines, STACK_GLOBAL, REDUCE and NEWOBJ', () => {
    const plain = 'a pickle may name numpy arrays, dtypes, scalars and OrderedDict only (this reader never imports or calls anything else)';
    expect(refused(G('os.system'))).toBe(`refused the global 'os.system': ${plain}`);
    expect(refused(G('torch.FloatStorage'))).toBe(`refused the global 'torch.FloatStorage': ${plain} (a torch.save file: read it with nn.io.loadPt)`);
    const pt = (...parts: Part[]) => why(pk(...parts), () => undefined);
    expect(pt(G('os.system'))).toBe("refused the global 'os.system': a pickle may name numpy arrays, dtypes, scalars and OrderedDict only " +
      '(and, in a .pt, torch storages and tensors) (this reader never imports or calls anything else)');
    expect(pt(G('torch.FloatStorage'))).toBe('the result holds torch.FloatStorage itself, not data');
    expect(pt(G('torch.FloatStorage'), ')R')).toBe('torch.FloatStorage cannot be called');
    expect(refused(G('numpy.ndarray'), ')R')).toBe('numpy.ndarray cannot be called');
    expect(refused(G('numpy.dtype'), 'N', 'R')).toBe('the arguments of numpy.dtype must be a tuple');
    expect(refused(dtype('f4'))).toBe('the result holds a numpy.dtype itself, not data');
    // GLOBAL: a line of up to 256 bytes
    const m256 = 'm'.repeat(256);
    expect(refused(`c${m256}\nx\n`)).toBe(`refused the global '${m256}.x': ${plain}`);
    expect(refused(`c${m256}m\nx\n`)).toBe('truncated: GLOBAL at byte 2 has no end of line');
    expect(refused(`cos\n${m256}m\n`)).toBe('truncated: GLOBAL at byte 2 has no end of line');
    expect(why(bytes([0x80, 4], 'cos\nsystem'))).toBe('truncated: GLOBAL at byte 2 has no end of line');
    expect(read(s('collections'), s('OrderedDict'), [0x93], ')R')).toEqual({});
    expect(refused(s('os'), s('system'), [0x93])).toBe(`refused the global 'os.system': ${plain}`);
    for (const [a, b] of [[i(1), s('x')], [s('numpy'), i(1)], [i(1), i(2)]]) {
      expect(refused(a, b, [0x93])).toBe(`STACK_GLOBAL at byte ${at(a, b)} needs two strings`);
    }
    expect(refused('N)R')).toBe(`REDUCE at byte ${at('N)')} calls something that is not a known global`);
    expect(refused('N)', [0x81])).toBe(`NEWOBJ at byte ${at('N)')} of something that is not a class is refused`);
    expect(refused(G('numpy.dtype'), ')', [0x81])).toBe(`NEWOBJ at byte ${at(G('numpy.dtype'), ')')} of numpy.dtype is refused`);
  });

  it('opcodes that build objects, persistent ids, buffers and unknown opcodes', () => {
    for (const op of [0x69, 0x6f, 0x92, 0x82, 0x83, 0x84]) {
      expect(refused('N', [op])).toBe(`the opcode 0x${op.toString(16)} at byte 3 builds arbitrary objects and is refused`);
    }
    for (const op of [0x97, 0x98]) {
      expect(refused('N', [op])).toBe('out-of-band buffers (protocol 5 NEXT_BUFFER) are not supported: pickle the arrays in-band');
    }
    for (const op of [0x46, 0x49, 0x4c, 0x53, 0x56, 0x67, 0x70, 0x00, 0xff]) {
      expect(refused('N', [op])).toBe(`unknown or unsupported opcode 0x${op.toString(16)} at byte 3 (protocols 2 to 5 are read)`);
    }
    expect(refused('N', 'P0\n')).toBe('persistent IDs (PERSID, at byte 3) are refused: they refer to objects outside the file ' +
      "(torch.save's format); save the tensors with safetensors instead");
    expect(refused('N', s('x'), 'Q')).toBe(`persistent IDs (BINPERSID, at byte ${at('N', s('x'))}) are refused: they refer to objects ` +
      "outside the file (torch.save's format: read a .pt with nn.io.loadPt)");
  });

  it('nesting: 100 levels are read, 101 refused', () => {
    const lists = (n: number) => bytes([0x80, 2], ']'.repeat(n), 'a'.repeat(n - 1), '.');
    expect(io.decodePickle(lists(100))).toBeInstanceOf(Array);
    expect(why(lists(101))).toBe(`containers nest deeper than ${io.MAX_PICKLE_DEPTH} levels`);
    const dicts = (n: number) => bytes([0x80, 2], '}', bytes(...Array.from({ length: n - 1 }, () => bytes(s('k'), '}'))), 's'.repeat(n - 1), '.');
    let levels = 0;
    for (let v = io.decodePickle(dicts(100)) as { k?: object } | undefined; v; v = v.k) levels++;
    expect(levels).toBe(100);
    expect(why(dicts(101))).toBe(`containers nest deeper than ${io.MAX_PICKLE_DEPTH} levels`);
    const sets = (n: number) => bytes([0x80, 4, 0x8f], '(\x8f'.repeat(n - 1), '\x90'.repeat(n - 1), '.');
    expect(io.decodePickle(sets(100))).toBeInstanceOf(Set);
    expect(why(sets(101))).toBe(`containers nest deeper than ${io.MAX_PICKLE_DEPTH} levels`);
    // what the 100th level holds is not a level of its own: None, a number, bytes, a torch tensor
    const innermost = (...items: Part[]) => bytes([0x80, 4], ']'.repeat(100), '(', ...items, 'e', 'a'.repeat(99), '.');
    let v = decodePickleWith(innermost('N', i(1), binbytes([2]), G('torch._utils._rebuild_tensor_v2'), tup(tup(s('storage'),
      G('torch.FloatStorage'), s('0'), s('cpu'), i(1)), 'Q', i(0), ')', ')'), 'R'), 't.pt', (key, n) => n === 4 ? raw('f4', [3], true) : undefined) as unknown[];
    for (let d = 1; d < 100; d++) v = v[0] as unknown[];
    expect(v.slice(0, 3)).toEqual([null, 1, Uint8Array.of(2)]);
    expect([...(v[3] as Tensor).data]).toEqual([3]);
  });
});

describe('pickle: torch storages and tensors (decodePickleWith, as loadPt reads data.pkl)', () => {
  const STORAGES: [string, string, (number | bigint)[], string, string][] = [
    ['FloatStorage', 'f4', [1, 2, 3, 4, 5, 6, 7], 'float32', 'Float32Array'],
    ['DoubleStorage', 'f8', [0.1, 2, 3, 4, 5, 6, 7], 'float64', 'Float64Array'],
    ['HalfStorage', 'f2', [0x3c00, 0x4000, 0x4200, 0x4400, 0x4500, 0x4600, 0x4700], 'float32', 'Float32Array'],
    ['LongStorage', 'i8', [-1n, 2n ** 60n, 3n, 4n, 5n, 6n, 7n], 'int64', 'BigInt64Array'],
    ['IntStorage', 'i4', [-1, 2, 3, 4, 5, 6, 7], 'int32', 'Int32Array'],
    ['ShortStorage', 'i2', [-1, 2, 3, 4, 5, 6, 7], 'int16', 'Int16Array'],
    ['CharStorage', 'i1', [-1, 2, 3, 4, 5, 6, 7], 'int8', 'Int8Array'],
    ['ByteStorage', 'u1', [255, 2, 3, 4, 5, 6, 7], 'uint8', 'Uint8Array'],
    ['BoolStorage', 'b1', [1, 0, 1, 1, 0, 0, 1], 'bool', 'Uint8Array'],
  ];
  const pid = (cls: string, key: Part, numel: Part, kind: Part = s('storage')) => bytes(tup(kind, G(`torch.${cls}`), key, s('cpu'), numel), 'Q');
  const hooksDict = (n: number) => bytes(G('collections.OrderedDict'), ')R', ...Array.from({ length: n }, (_, j) => bytes(s(`h${j}`), 'N', 's')));
  /** _rebuild_tensor_v2(storage, offset, size, stride, False, hooks) */
  const tensor = (storage: Part, offset: Part, size: Part, stride: Part, hooks: Part[] = [hooksDict(0)]) =>
    bytes(G('torch._utils._rebuild_tensor_v2'), tup(storage, offset, size, stride, [0x89], ...hooks), 'R');
  const dims = (...d: number[]) => tup(...d.map(i));
  const loader = (files: Record<string, Uint8Array>, asked: [string, number][] = []): StorageLoader => (key, n) => {
    asked.push([key, n]);
    return files[key]?.byteLength === n ? files[key] : undefined;
  };
  const pt = (files: Record<string, Uint8Array>, ...parts: Part[]) => decodePickleWith(pk(...parts), 't.pt', loader(files));
  const ptWhy = (files: Record<string, Uint8Array>, ...parts: Part[]) => why(pk(...parts), loader(files));

  it.each(STORAGES)('torch.%s: a strided view at an offset, its dtype and values', (cls, k, vals, name, ctor) => {
    const asked: [string, number][] = [];
    // size (2, 3), stride (1, 2), offset 1: element (a, b) is storage[1 + a + 2 b]; the last one is storage[6]
    const v = decodePickleWith(pk(tensor(pid(cls, s('k'), i(7)), i(1), dims(2, 3), dims(1, 2))), 't.pt',
      loader({ k: raw(k, vals, true) }, asked)) as Tensor | io.NumpyArray;
    expect(asked).toEqual([['k', 7 * Number(k.slice(1))]]);
    const want = [1, 3, 5, 2, 4, 6].map((j) => k === 'f2' ? j + 1 : vals[j]);
    if (name.startsWith('float')) {
      expect(v).toBeInstanceOf(Tensor);
      expect([(v as Tensor).dtype, [...v.shape], (v as Tensor).data.constructor.name]).toEqual([name, [2, 3], ctor]);
      expect([...(v as Tensor).data]).toEqual(want.map((x) => name === 'float32' ? Math.fround(x as number) : x));
    } else {
      const a = v as io.NumpyArray;
      expect([a.dtype, a.shape, a.data.constructor.name]).toEqual([name, [2, 3], ctor]);
      expect(Array.from(a.data as ArrayLike<number | bigint>)).toEqual(want);
    }
    // past the storage's end by one element
    expect(why(pk(tensor(pid(cls, s('k'), i(6)), i(1), dims(2, 3), dims(1, 2))), loader({ k: raw(k, vals.slice(0, 6), true) })))
      .toBe('a tensor of size (2, 3), stride (1, 2) and offset 1 reaches past its storage of 6 elements');
  });

  it('one storage shared by two tensors; 0-D, empty and parameter tensors; hooks', () => {
    const files = { 0: raw('f4', [10, 11, 12], true) };
    const shared = pt(files, '(', s('a'), tensor(bytes(pid('FloatStorage', s('0'), i(3)), 'q', [1]), i(0), dims(2), dims(1)),
      s('b'), tensor(bytes('h', [1]), i(1), dims(2), dims(1)), 'd') as Record<string, Tensor>;
    expect([[...shared.a.data], [...shared.b.data]]).toEqual([[10, 11], [11, 12]]);
    const zeroD = pt(files, tensor(pid('FloatStorage', s('0'), i(3)), i(2), ')', ')')) as Tensor;
    expect([[...zeroD.shape], [...zeroD.data]]).toEqual([[], [12]]);
    // no elements: nothing is read, whatever the offset
    const empty = pt(files, tensor(pid('FloatStorage', s('0'), i(3)), i(50), dims(0, 4), dims(4, 1))) as Tensor;
    expect([[...empty.shape], empty.size]).toEqual([[0, 4], 0]);
    expect((pt(files, tensor(pid('FloatStorage', s('0'), i(3)), i(0), dims(3), dims(1), [])) as Tensor).size).toBe(3);
    expect((pt(files, tensor(pid('FloatStorage', s('0'), i(3)), i(0), dims(3), dims(1), ['N'])) as Tensor).size).toBe(3);
    expect(ptWhy(files, tensor(pid('FloatStorage', s('0'), i(3)), i(0), dims(3), dims(1), [hooksDict(1)])))
      .toBe('a tensor with backward hooks is refused (hooks are code)');
    expect(ptWhy(files, tensor(pid('FloatStorage', s('0'), i(3)), i(0), dims(3), dims(1), [i(0)])))
      .toBe('a tensor with backward hooks is refused (hooks are code)');
    const param = (data: Part, ...hooks: Part[]) => bytes(G('torch._utils._rebuild_parameter'), tup(data, [0x88], ...hooks), 'R');
    const t = tensor(pid('FloatStorage', s('0'), i(3)), i(0), dims(3), dims(1));
    expect([...(pt(files, param(t, hooksDict(0))) as Tensor).data]).toEqual([10, 11, 12]);
    expect((pt(files, param(t)) as Tensor).size).toBe(3);
    expect((pt(files, param(t, 'N')) as Tensor).size).toBe(3);
    const ints = pt({ 0: raw('i8', [5n], true) }, param(tensor(pid('LongStorage', s('0'), i(1)), i(0), ')', ')'))) as io.NumpyArray;
    expect([ints.dtype, [...ints.data]]).toEqual(['int64', [5n]]);
    expect(ptWhy(files, param(t, hooksDict(2)))).toBe('a parameter with backward hooks is refused (hooks are code)');
    expect(ptWhy(files, param(t, i(1)))).toBe('a parameter with backward hooks is refused (hooks are code)');
    for (const notTensor of ['N', i(1), '}', s('dtype')]) {
      expect(ptWhy(files, param(notTensor))).toBe('_rebuild_parameter needs a tensor');
    }
    expect(ptWhy(files, pid('FloatStorage', s('0'), i(3)))).toBe('the result holds a torch storage itself, not a tensor');
  });

  it('_rebuild_tensor_v2 arguments refused', () => {
    const files = { 0: raw('f4', [10, 11, 12], true) };
    const storage = () => pid('FloatStorage', s('0'), i(3));
    const ones = (n: number) => dims(...new Array<number>(n).fill(1));
    expect((pt(files, tensor(storage(), i(1), ones(64), ones(64))) as Tensor).shape.length).toBe(64);
    expect(ptWhy(files, tensor(storage(), i(1), ones(65), ones(65)))).toBe('a tensor of 65 dimensions is refused (at most 64)');
    const args = '_rebuild_tensor_v2 needs an offset and a size and stride of one length';
    expect(ptWhy(files, tensor('N', i(0), dims(1), dims(1)))).toBe('_rebuild_tensor_v2 needs a storage (a persistent id)');
    expect(ptWhy(files, tensor(s('0'), i(0), dims(1), dims(1)))).toBe('_rebuild_tensor_v2 needs a storage (a persistent id)');
    expect(ptWhy(files, tensor(storage(), i(-1), dims(1), dims(1)))).toBe(args);
    expect(ptWhy(files, tensor(storage(), [0x47, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0], dims(1), dims(1)))).toBe(args);
    expect(ptWhy(files, tensor(storage(), s('0'), dims(1), dims(1)))).toBe(args);
    expect(ptWhy(files, tensor(storage(), i(0), 'N', dims(1)))).toBe(args);
    expect(ptWhy(files, tensor(storage(), i(0), dims(1), 'N'))).toBe(args);
    expect(ptWhy(files, tensor(storage(), i(0), dims(-1), dims(1)))).toBe(args);
    expect(ptWhy(files, tensor(storage(), i(0), dims(1), dims(-1)))).toBe(args);
    expect(ptWhy(files, tensor(storage(), i(0), tup(s('1')), dims(1)))).toBe(args);
    expect(ptWhy(files, tensor(storage(), i(0), tup([0x47, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0]), dims(1)))).toBe(args);
    expect(ptWhy(files, tensor(storage(), i(0), dims(1, 1), dims(1)))).toBe(args);
    expect(ptWhy(files, tensor(storage(), i(0), dims(1), dims(1, 1)))).toBe(args);
    expect(ptWhy(files, G('torch._utils._rebuild_tensor_v2'), 'N', 'R')).toBe('the arguments of torch._utils._rebuild_tensor_v2 must be a tuple');
    // the count: over 2^31 - 1 refused before the extent, a count at the limit reaches the extent check
    expect(ptWhy(files, tensor(storage(), i(0), dims(65536, 65536, 65536), dims(0, 0, 0)))).toBe('a tensor of size (65536, 65536, 65536) is too large');
    expect(ptWhy(files, tensor(storage(), i(0), dims(65536, 32768), dims(0, 0)))).toBe('a tensor of size (65536, 32768) is too large');
    expect(ptWhy(files, tensor(storage(), i(0), dims(2147483647), dims(1))))
      .toBe('a tensor of size (2147483647), stride (1) and offset 0 reaches past its storage of 3 elements');
    // the extent: the last element at numel - 1 is read, at numel refused
    expect([...(pt(files, tensor(storage(), i(2), dims(1), dims(5))) as Tensor).data]).toEqual([12]);
    expect(ptWhy(files, tensor(storage(), i(3), dims(1), dims(5))))
      .toBe('a tensor of size (1), stride (5) and offset 3 reaches past its storage of 3 elements');
    expect(ptWhy(files, tensor(storage(), i(0), dims(2, 2), dims(2, 1))))
      .toBe('a tensor of size (2, 2), stride (2, 1) and offset 0 reaches past its storage of 3 elements');
  });

  it('persistent ids other than a storage, and storages missing from the archive', () => {
    const files = { 0: raw('f4', [10, 11, 12], true) };
    const pidAt = (...parts: Part[]) => at(...parts);
    const notStorage = (n: number) => `the persistent ID at byte ${n} is not a torch storage ('storage', torch.XStorage, key, location, ` +
      'numel): a .pt may refer to its storages only';
    const bad = (...items: Part[]) => ptWhy(files, tup(...items), 'Q');
    const ok = [s('storage'), G('torch.FloatStorage'), s('0'), s('cpu'), i(3)];
    const n = pidAt(tup(...ok));
    expect(pt(files, tup(...ok), 'Q', '0', 'N')).toBe(null);
    expect(ptWhy(files, 'N', 'Q')).toBe(notStorage(at('N')));
    expect(bad(...ok.slice(0, 4))).toBe(notStorage(pidAt(tup(...ok.slice(0, 4)))));
    expect(bad(...ok, 'N')).toBe(notStorage(pidAt(tup(...ok, 'N'))));
    const variants: Part[][] = [
      [s('storagex'), ...ok.slice(1)],
      [ok[0], s('torch.FloatStorage'), ...ok.slice(2)],
      [ok[0], G('torch._utils._rebuild_tensor_v2'), ...ok.slice(2)],
      [ok[0], G('collections.OrderedDict'), ...ok.slice(2)],
      [...ok.slice(0, 2), i(0), ...ok.slice(3)],
      [...ok.slice(0, 4), s('3')],
      [...ok.slice(0, 4), [0x47, 0x40, 0x04, 0, 0, 0, 0, 0, 0]],
      [...ok.slice(0, 4), i(-1)],
    ];
    for (const v of variants) expect(bad(...v)).toBe(notStorage(n - bytes(...ok).length + bytes(...v).length));
    expect(ptWhy(files, tup(...ok.slice(0, 4), i(4)), 'Q')).toBe("the storage '0' (4 elements of float32) is missing from the archive or has another size");
    expect(ptWhy(files, tup(s('storage'), G('torch.BoolStorage'), s('x'), s('cpu'), i(2)), 'Q'))
      .toBe("the storage 'x' (2 elements of bool) is missing from the archive or has another size");
    // numel 0 asks for 0 bytes
    const asked: [string, number][] = [];
    expect(decodePickleWith(pk(tensor(pid('LongStorage', s('e'), i(0)), i(0), dims(0), dims(1))), 't.pt',
      loader({ e: new Uint8Array(0) }, asked))).toEqual({ dtype: 'int64', shape: [0], data: new BigInt64Array(0) });
    expect(asked).toEqual([['e', 0]]);
  });
});

describe('loadPickle: arguments and the file', () => {
  it('checks its arguments, maxBytes to the byte, and closes the file', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodenn-pickle-checks-'));
    try {
      const file = path.join(dir, 'd.pkl');
      const p = pk('}', s('a'), i(1), 's');
      fs.writeFileSync(file, p);
      expect(await io.loadPickle(file, { maxBytes: p.length })).toEqual({ a: 1 });
      expect(await io.loadPickle(file, {})).toEqual({ a: 1 });
      expect(await io.loadPickle(file)).toEqual({ a: 1 });
      const err = await io.loadPickle(file, { maxBytes: p.length - 1 }).catch((e: unknown) => e) as io.PickleError;
      expect(err).toBeInstanceOf(io.PickleError);
      expect(err.message).toBe(`${file}: the file has ${p.length} bytes, more than maxBytes ${p.length - 1}`);
      for (const bad of ['', 5, null, undefined]) {
        await expect(io.loadPickle(bad as string)).rejects.toThrow(new TypeError('path must be a non-empty string'));
      }
      for (const bad of [null, 'x', 5]) {
        await expect(io.loadPickle(file, bad as unknown as object)).rejects.toThrow(new TypeError('options must be an object'));
      }
      for (const [bad, shown] of [[0, '0'], [-1, '-1'], [NaN, 'NaN'], ['5', '5']] as [unknown, string][]) {
        await expect(io.loadPickle(file, { maxBytes: bad as number })).rejects.toThrow(new RangeError(`maxBytes must be a positive number, got ${shown}`));
      }
      const fds = () => fs.readdirSync('/proc/self/fd').map((fd) => { try { return fs.readlinkSync(`/proc/self/fd/${fd}`); } catch { return ''; } });
      expect(fds()).not.toContain(file);
      const empty = path.join(dir, 'empty.pkl');
      fs.writeFileSync(empty, '');
      expect((await io.loadPickle(empty).catch((e: unknown) => e) as Error).message).toBe(`${empty}: not a pickle of protocol 2 or later ` +
        '(it does not start with the PROTO opcode 0x80)');
      expect(fds()).not.toContain(file);
      expect(fds()).not.toContain(empty);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
