// nn.io.loadPickle: the course's sample_weight.pkl into the sigmoid MLP (0.9207 on raw pixels, as the course
// prints), pickles of every protocol and container written by CPython, and hostile pickles refused by name.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Dense, Sequential, Sigmoid, Softmax, Tensor, data, io } from '../src/index';
import { backends, useBackend } from './helpers';

const FIXTURE = path.join(__dirname, 'fixtures', 'sample_weight.pkl');

/** A pickle from hex (what CPython's pickle.dumps wrote, or a hand-made hostile one). */
const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const bytes = (...parts: (string | number[])[]) => Uint8Array.from(parts.flatMap((p) => typeof p === 'string' ? [...Buffer.from(p, 'latin1')] : p));

describe('loadPickle: sample_weight.pkl', () => {
  it('reads the six float32 arrays with their shapes', async () => {
    const d = await io.loadPickle(FIXTURE) as Record<string, Tensor>;
    expect(Object.keys(d)).toEqual(['b2', 'W1', 'b1', 'W2', 'W3', 'b3']);
    const shapes = Object.fromEntries(Object.entries(d).map(([k, t]) => [k, [t.dtype, ...t.shape]]));
    expect(shapes).toEqual({ W1: ['float32', 784, 50], b1: ['float32', 50], W2: ['float32', 50, 100], b2: ['float32', 100],
      W3: ['float32', 100, 10], b3: ['float32', 10] });
    // values as numpy prints them (float32), and W1's sum in float64
    expect([d.W1.data[0], d.W3.data[999], d.b3.data[9]]).toEqual([-0.007412489, 0.03177173, 0.053233497].map(Math.fround));
    expect(Array.from(d.W1.data).reduce((a, b) => a + b, 0)).toBeCloseTo(24.710748511527072, 9);
  });

  let d: Record<string, Tensor>, test: { x: Tensor; y: Int32Array };
  beforeAll(async () => {
    d = await io.loadPickle(FIXTURE) as Record<string, Tensor>;
    ({ test } = await data.loadMnist({ normalize: false, limit: { train: 1, test: 10000 } }));
  }, 60_000);

  describe.each(backends)('the course MLP on MNIST ($label)', (c) => {
    it('gets test accuracy 0.9207 on raw pixels', () => {
      useBackend(c);
      const net = new Sequential([new Dense(784, 50), new Sigmoid(), new Dense(50, 100), new Sigmoid(), new Dense(100, 10), new Softmax()]);
      net.loadStateDict({ '0.weight': d.W1, '0.bias': d.b1, '2.weight': d.W2, '2.bias': d.b2, '4.weight': d.W3, '4.bias': d.b3 });
      const pred = net.predictClasses(test.x);
      let correct = 0;
      for (let i = 0; i < pred.length; i++) if (pred[i] === test.y[i]) correct++;
      expect(pred.length).toBe(10000);
      expect(correct / pred.length).toBe(0.9207);
    }, 60_000);
  });
});

describe('loadPickle: what CPython writes', () => {
  // pickle.dumps(...) of CPython 3 with numpy 2.4 (which names numpy._core.multiarray), as hex
  it('protocol 2: bytes through _codecs.encode, tuples, nested lists, an OrderedDict, ints, floats, None, bools', () => {
    // OrderedDict([('a', np.arange(3, dtype='<f8')), ('n', [1, -2, 2**40, 1.5, None, True, (7,)])]), protocol 2
    const v = io.decodePickle(hex(`800263636f6c6c656374696f6e730a4f726465726564446963740a710029527101285801000000617102636e756d7079
      2e5f636f72652e6d756c746961727261790a5f7265636f6e7374727563740a7103636e756d70790a6e6461727261790a71044b00857105635f636f
      646563730a656e636f64650a7106580100000062710758060000006c6174696e31710886710952710a87710b52710c284b014b0385710d636e756d
      70790a64747970650a710e58020000006638710f8988877110527111284b0358010000003c71124e4e4e4affffffff4affffffff4b007471136289
      680658190000000000000000000000000000000000c3b03f0000000000000040711468088671155271167471176258010000006e71185d7119284b
      014afeffffff8a06000000000001473ff80000000000004e884b0785711a65752e`)) as { a: Tensor; n: unknown[] };
    expect(v.a).toBeInstanceOf(Tensor);
    expect([v.a.dtype, [...v.a.shape], [...v.a.data]]).toEqual(['float64', [3], [0, 1, 2]]);
    expect(v.n).toEqual([1, -2, 2 ** 40, 1.5, null, true, [7]]);
  });

  it('integer and boolean arrays, Fortran order, big-endian data, float16, a strided view and a numpy scalar', () => {
    const pre = '8003636e756d70792e5f636f72652e6d756c746961727261790a5f7265636f6e7374727563740a7100636e756d70790a6e6461727261790a71014b008571024301627103877104527105284b01';
    // np.asfortranarray(np.array([[1, 2, 3], [4, 5, 6]], dtype='<i4')), protocol 3
    const i32 = io.decodePickle(hex(pre + `4b024b03867106636e756d70790a64747970650a7107580200000069347108898887710952710a284b0358010000003c710b4e4e4e4affffff
      ff4affffffff4b0074710c62884318010000000400000002000000050000000300000006000000710d74710e622e`)) as io.NumpyArray;
    expect([i32.dtype, i32.shape, [...i32.data]]).toEqual(['int32', [2, 3], [1, 2, 3, 4, 5, 6]]);
    // np.array([1, -2], dtype='>f4')
    const be = io.decodePickle(hex(pre + `4b02857106636e756d70790a64747970650a7107580200000066347108898887710952710a284b0358010000003e710b4e4e4e4affffffff4a
      ffffffff4b0074710c628943083f800000c0000000710d74710e622e`)) as Tensor;
    expect([be.dtype, ...be.data]).toEqual(['float32', 1, -2]);
    // np.array([True, False, True])
    const b = io.decodePickle(hex(pre + `4b03857106636e756d70790a64747970650a7107580200000062317108898887710952710a284b0358010000007c710b4e4e4e4affffffff4a
      ffffffff4b0074710c62894303010001710d74710e622e`)) as io.NumpyArray;
    expect([b.dtype, [...b.data]]).toEqual(['bool', [1, 0, 1]]);
    // np.array([1, -2], dtype='<f2'): widened to float32
    const f16 = io.decodePickle(hex(pre + `4b02857106636e756d70790a64747970650a7107580200000066327108898887710952710a284b0358010000003c710b4e4e4e4affffffff4a
      ffffffff4b0074710c62894304003c00c0710d74710e622e`)) as Tensor;
    expect([f16.dtype, ...f16.data]).toEqual(['float32', 1, -2]);
    // np.array([2**60, -1], dtype='<i8'), protocol 4
    const i64 = io.decodePickle(hex(`80049599000000000000008c166e756d70792e5f636f72652e6d756c74696172726179948c0c5f7265636f6e73747275637494939
      48c056e756d7079948c076e6461727261799493944b0085944301629487945294284b014b02859468038c0564747970659493948c02693894898887945294284b038c013c
      944e4e4e4affffffff4affffffff4b007494628943100000000000000010ffffffffffffffff947494622e`)) as io.NumpyArray;
    expect([i64.dtype, [...i64.data]]).toEqual(['int64', [2n ** 60n, -1n]]);
    // {'w': np.arange(24.).reshape(2, 3, 4)[:, ::-1]}, protocol 5 (numpy pickles the view's values in C order)
    const w = (io.decodePickle(hex(`80059554010000000000007d948c0177948c166e756d70792e5f636f72652e6d756c74696172726179948c0c5f7265636f6e7374
      727563749493948c056e756d7079948c076e6461727261799493944b0085944301629487945294284b014b024b034b04879468058c0564747970659493948c0266389489
      8887945294284b038c013c944e4e4e4affffffff4affffffff4b007494628943c000000000000020400000000000002240000000000000244000000000000026400000
      000000001040000000000000144000000000000018400000000000001c400000000000000000000000000000f03f000000000000004000000000000008400000000000
      003440000000000000354000000000000036400000000000003740000000000000304000000000000031400000000000003240000000000000334000000000000028400
      000000000002a400000000000002c400000000000002e4094749462732e`)) as { w: Tensor }).w;
    expect([...w.shape]).toEqual([2, 3, 4]);
    expect([...w.data.subarray(0, 8)]).toEqual([8, 9, 10, 11, 4, 5, 6, 7]);
    // np.float32(0.5), protocol 4
    expect(io.decodePickle(hex(`80049566000000000000008c166e756d70792e5f636f72652e6d756c74696172726179948c067363616c61729493948c056e756d7079
      948c0564747970659493948c02663494898887945294284b038c013c944e4e4e4affffffff4affffffff4b0074946243040000003f94869452942e`))).toBe(0.5);
  });

  it('protocol 5 framing and memo sharing (one list referred to twice); a tuple key is refused', () => {
    // l = [1]; pickle.dumps({'x': l, 'y': l}, 5)
    const v = io.decodePickle(hex('80059514000000000000007d94288c0178945d944b01618c0179946802752e')) as { x: number[]; y: number[] };
    expect(v).toEqual({ x: [1], y: [1] });
    expect(v.x).toBe(v.y);
    // pickle.dumps({(1,): 2}, 4)
    expect(() => io.decodePickle(hex('8004950a000000000000007d944b0185944b02732e'))).toThrow('dict keys must be strings or numbers');
  });

  it('a key named __proto__ is an ordinary key', () => {
    const v = io.decodePickle(bytes([0x80, 4], '}\x8c\x09__proto__K\x05s.')) as Record<string, unknown>;
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.keys(v)).toEqual(['__proto__']);
    expect(Object.getOwnPropertyDescriptor(v, '__proto__')?.value).toBe(5);
  });
});

describe('loadPickle: hostile pickles are refused', () => {
  it('a posix.system REDUCE is refused at the GLOBAL, naming it, before anything is called', () => {
    // pickle.dumps of an object whose __reduce__ is (os.system, ('echo pwned',)), protocol 2 and 4
    expect(() => io.decodePickle(hex('800263706f7369780a73797374656d0a7100580a0000006563686f2070776e656471018571025271032e')))
      .toThrow("refused the global 'posix.system'");
    expect(() => io.decodePickle(hex(`80049525000000000000008c05706f736978948c0673797374656d9493948c0a6563686f2070776e6564948594
      52942e`))).toThrow("refused the global 'posix.system'");
    // pickle.dumps(collections.Counter(a=1), 4): a class of collections other than OrderedDict
    expect(() => io.decodePickle(hex(`80049528000000000000008c0b636f6c6c656374696f6e73948c07436f756e7465729493947d948c0161944b017385
      9452942e`))).toThrow("refused the global 'collections.Counter'");
    expect(() => io.decodePickle(bytes([0x80, 2], 'cbuiltins\neval\nX\x01\x00\x00\x001\x85R.'))).toThrow("refused the global 'builtins.eval'");
    // a known global used to make something else: _reconstruct of another class
    expect(() => io.decodePickle(bytes([0x80, 2], 'cnumpy.core.multiarray\n_reconstruct\ncnumpy\ndtype\nK\x00\x85C\x01b\x87R.')))
      .toThrow('may only make a numpy.ndarray');
  });

  it('INST, OBJ, NEWOBJ_EX, EXT and persistent IDs are refused', () => {
    expect(() => io.decodePickle(bytes([0x80, 2], '(iposix\nsystem\n.'))).toThrow('builds arbitrary objects');
    expect(() => io.decodePickle(bytes([0x80, 2], '\x82\x01.'))).toThrow('builds arbitrary objects');
    expect(() => io.decodePickle(bytes([0x80, 2], 'X\x01\x00\x00\x000Q.'))).toThrow('persistent IDs');
    expect(() => io.decodePickle(bytes([0x80, 2], 'cnumpy\nndarray\n)\x81.'))).toThrow('NEWOBJ at byte 18 of numpy.ndarray is refused');
  });

  it('deep nesting is refused', () => {
    const depth = 20_000;
    const p = bytes([0x80, 2], ']'.repeat(depth), 'a'.repeat(depth - 1), '.');
    expect(() => io.decodePickle(p)).toThrow(`containers nest deeper than ${io.MAX_PICKLE_DEPTH} levels`);
    // 100 levels are fine
    const ok = io.decodePickle(bytes([0x80, 2], ']'.repeat(100), 'a'.repeat(99), '.'));
    let d = 0;
    for (let v = ok as unknown[]; v.length; v = v[0] as unknown[]) d++;
    expect(d).toBe(99);
  });

  it('huge declared sizes are refused before anything is allocated', () => {
    // BINBYTES8 of 2^62 bytes, BINUNICODE of 4 GiB, LONG4 of 2^31 bytes, a FRAME past the end
    expect(() => io.decodePickle(bytes([0x80, 4, 0x8e, 0, 0, 0, 0, 0, 0, 0, 0x40], '.'))).toThrow('truncated: BINBYTES8 at byte 11');
    expect(() => io.decodePickle(bytes([0x80, 4, 0x58, 0xff, 0xff, 0xff, 0xff], '.'))).toThrow('declares 4294967295 bytes, 1 are left');
    expect(() => io.decodePickle(bytes([0x80, 4, 0x8b, 0, 0, 0, 0x80], '.'))).toThrow('an integer of 2147483648 bytes');
    expect(() => io.decodePickle(bytes([0x80, 4, 0x95, 0, 0, 0, 0, 1, 0, 0, 0], 'N.'))).toThrow('truncated: FRAME at byte 2');
    // an ndarray declaring 2^40 elements with 4 bytes of data
    const huge = bytes([0x80, 2], 'cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85C\x01b\x87R(K\x01\x8a\x06\x00\x00\x00\x00\x00\x01\x85',
      'cnumpy\ndtype\nX\x02\x00\x00\x00f4K\x00K\x01\x87R(K\x03X\x01\x00\x00\x00<NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb\x89C\x04\x00\x00\x00\x00tb.');
    expect(() => io.decodePickle(huge)).toThrow('an ndarray of shape (1099511627776) has more than 2147483647 elements');
    const short = bytes([0x80, 2], 'cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85C\x01b\x87R(K\x01K\x03\x85',
      'cnumpy\ndtype\nX\x02\x00\x00\x00f4K\x00K\x01\x87R(K\x03X\x01\x00\x00\x00<NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb\x89C\x04\x00\x00\x00\x00tb.');
    expect(() => io.decodePickle(short)).toThrow('an ndarray of shape (3) and dtype float32 needs 12 bytes of data, the file gives 4');
  });

  it('every truncation of sample_weight.pkl is refused with a PickleError', () => {
    const full = new Uint8Array(fs.readFileSync(FIXTURE));
    for (const n of [0, 1, 2, 40, 100, 150, 565, 570, 1000, full.length - 1000, full.length - 1]) {
      let err: unknown = null;
      try {
        io.decodePickle(full.subarray(0, n), 'cut.pkl');
      } catch (e) {
        err = e;
      }
      expect(err, `cut at ${n}`).toBeInstanceOf(io.PickleError);
      expect((err as Error).message, `cut at ${n}`).toMatch(/^cut\.pkl: (truncated|not a pickle)/);
    }
  });

  it('protocols 0 and 1, unknown opcodes and out-of-band buffers are refused', () => {
    expect(() => io.decodePickle(bytes('(dp0\n.'))).toThrow('not a pickle of protocol 2 or later');
    expect(() => io.decodePickle(bytes([0x80, 6], 'N.'))).toThrow('pickle protocol 6 is not supported');
    expect(() => io.decodePickle(bytes([0x80, 5, 0x97], '.'))).toThrow('out-of-band buffers');
    expect(() => io.decodePickle(bytes([0x80, 5, 0xff], '.'))).toThrow('unknown or unsupported opcode 0xff at byte 2');
    expect(() => io.decodePickle(bytes([0x80, 5], 'a.'))).toThrow('stack underflow');
  });

  it('loadPickle names the file, and checks its arguments', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodenn-pickle-'));
    const file = path.join(dir, 'evil.pkl');
    fs.writeFileSync(file, bytes([0x80, 2], 'cos\nsystem\nX\x02\x00\x00\x00lsq\x85R.'));
    await expect(io.loadPickle(file)).rejects.toThrow(`${file}: refused the global 'os.system'`);
    await expect(io.loadPickle(file, { maxBytes: 10 })).rejects.toThrow('more than maxBytes 10');
    await expect(io.loadPickle('')).rejects.toThrow(TypeError);
    await expect(io.loadPickle(path.join(dir, 'missing.pkl'))).rejects.toThrow('ENOENT');
    fs.rmSync(dir, { recursive: true });
  });
});
