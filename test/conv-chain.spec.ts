// Inference's two Conv2D(+ReLU)+MaxPool2D(2) in a row in one kernel call, image by image (conv2dChainForward, which
// the inference plan runs for a small CNN's conv-pool-conv-pool): bitwise the two conv2dForward calls of the layers
// one after the other, on every backend, ISA and thread count, for the shapes that take each path of the native
// convolution (the direct one, the unpacked product, the GEMM with one and two K blocks); and its argument checks.
import { beforeEach, describe, expect, it } from 'vitest';
import { getBackend } from '../src/backend/index';
import { Conv2D, Dense, Flatten, MaxPool2D, ReLU, Sequential, Tensor } from '../src/index';
import { backends, expectBitwiseEqual, nativeIsas, randomArray, useBackend, withThreads } from './helpers';

/** One chain: the input (N, C, H, W), the first convolution (F, KH x KW, stride, padding), the second one alike. */
interface Chain {
  name: string;
  N: number; C: number; H: number; W: number;
  F: number; k: [number, number]; s: [number, number]; p: [number, number];
  F2: number; k2: [number, number]; s2: [number, number]; p2: [number, number];
  relu: boolean; relu2: boolean; bias: boolean; bias2: boolean;
}

const one: [number, number] = [1, 1];
const base = { relu: true, relu2: true, bias: true, bias2: true, s: one, s2: one };
const chains: Chain[] = [
  // the bench's CNN: the first layer direct (pooled, 16 filters), the second direct
  { ...base, name: 'MNIST 1-16-32', N: 5, C: 1, H: 28, W: 28, F: 16, k: [3, 3], p: [1, 1], F2: 32, k2: [3, 3], p2: [1, 1] },
  // odd, non-square sizes (floor of the pooling), filters off a vector, no bias, no ReLU on one side
  { ...base, name: 'odd sizes', N: 3, C: 2, H: 11, W: 13, F: 5, k: [3, 2], p: [1, 0], F2: 3, k2: [2, 3], p2: [0, 1],
    relu: false, bias2: false },
  // strides: the first one 2 along the width and the second 2 along the height (not the direct path on one side)
  { ...base, name: 'strides', N: 4, C: 3, H: 17, W: 21, F: 7, k: [3, 3], s: [1, 2], p: [1, 1], F2: 9, k2: [3, 3],
    s2: [2, 1], p2: [1, 1], bias: false, relu2: false },
  // the second one's inner size 40 x 9 = 360: two K blocks of the GEMM's 256
  { ...base, name: 'two K blocks', N: 2, C: 1, H: 12, W: 12, F: 40, k: [3, 3], p: [1, 1], F2: 17, k2: [3, 3], p2: [1, 1] },
  // a pointwise second convolution (reads its input in place)
  { ...base, name: 'pointwise', N: 3, C: 2, H: 10, W: 10, F: 6, k: [3, 3], p: [0, 0], F2: 4, k2: [1, 1], p2: [0, 0] },
  // both direct, the first one's pooled rows written into the second one's padded image: 20 filters (a partial
  // vector of them), pooled rows 16 wide (whole vectors), the second one's stride 2 down leaving the last row unread
  { ...base, name: 'padded, last row unread', N: 3, C: 1, H: 16, W: 32, F: 20, k: [3, 3], p: [1, 1], F2: 5, k2: [3, 3],
    s2: [2, 1], p2: [0, 1], bias: false },
  // pooled rows 14 wide with no padding above (the lanes past a row may not spill into the next plane's first row:
  // the copy instead, but for vectors of 2), then 10 wide (the lanes past a row spill over the 3 + 3 columns of
  // padding)
  { ...base, name: 'no top padding', N: 2, C: 1, H: 28, W: 28, F: 16, k: [3, 3], p: [1, 1], F2: 8, k2: [3, 3],
    p2: [0, 1], relu: false },
  { ...base, name: 'padded, 10 wide', N: 2, C: 2, H: 20, W: 20, F: 16, k: [3, 3], p: [1, 1], F2: 8, k2: [3, 3],
    p2: [1, 3], bias2: false },
];

function sizesOf(c: Chain): number[] {
  return [c.N, c.C, c.H, c.W, c.F, ...c.k, ...c.s, ...c.p, c.F2, ...c.k2, ...c.s2, ...c.p2];
}

const out = (n: number, k: number, s: number, p: number) => 1 + Math.floor((n + 2 * p - k) / s);

/** conv2dChainForward's y and the two conv2dForward calls' for chain c, with the dtype's arrays from seed. */
function run(c: Chain, C: Float32ArrayConstructor | Float64ArrayConstructor, seed: number): [Float32Array | Float64Array, Float32Array | Float64Array] {
  const x = randomArray(C, c.N * c.C * c.H * c.W, seed);
  const w = randomArray(C, c.F * c.C * c.k[0] * c.k[1], seed + 1), b = c.bias ? randomArray(C, c.F, seed + 2) : null;
  const w2 = randomArray(C, c.F2 * c.F * c.k2[0] * c.k2[1], seed + 3), b2 = c.bias2 ? randomArray(C, c.F2, seed + 4) : null;
  const H2 = Math.floor(out(c.H, c.k[0], c.s[0], c.p[0]) / 2), W2 = Math.floor(out(c.W, c.k[1], c.s[1], c.p[1]) / 2);
  const OH2 = out(H2, c.k2[0], c.s2[0], c.p2[0]), OW2 = out(W2, c.k2[1], c.s2[1], c.p2[1]);
  const mid = new C(c.N * c.F * H2 * W2), expected = new C(c.N * c.F2 * Math.floor(OH2 / 2) * Math.floor(OW2 / 2));
  const k = getBackend();
  k.conv2dForward(c.N, c.C, c.H, c.W, c.F, ...c.k, ...c.s, ...c.p, x, w, b, mid, c.relu, true);
  k.conv2dForward(c.N, c.F, H2, W2, c.F2, ...c.k2, ...c.s2, ...c.p2, mid, w2, b2, expected, c.relu2, true);
  const y = new C(expected.length).fill(NaN);
  const [N, Cin, H, W, F, KH, KW, sh, sw, ph, pw, F2, KH2, KW2, sh2, sw2, ph2, pw2] = sizesOf(c);
  k.conv2dChainForward(N, Cin, H, W, F, KH, KW, sh, sw, ph, pw, F2, KH2, KW2, sh2, sw2, ph2, pw2, x, w, b, w2, b2, y,
    c.relu, c.relu2);
  return [y, expected];
}

describe.each(backends)('conv2dChainForward on $label', (bc) => {
  beforeEach(() => useBackend(bc));

  it.each(chains)('gives the two conv2dForward calls bitwise: $name', (c) => {
    for (const C of [Float32Array, Float64Array]) {
      const [y, expected] = run(c, C, 7);
      expect(y.some((v) => Number.isNaN(v))).toBe(false);  // every element written
      expect(new Set(expected).size).toBeGreaterThan(expected.length / 4);  // not a constant output that hides a shift
      expectBitwiseEqual(y, expected);
    }
  });

  it('keeps each image apart: a NaN in one image reaches only its own outputs', () => {
    const c = chains[0], k = getBackend();
    const x = randomArray(Float32Array, c.N * 784, 3), w = randomArray(Float32Array, 16 * 9, 4);
    const w2 = randomArray(Float32Array, 32 * 16 * 9, 5);
    x[2 * 784 + 300] = NaN;
    const y = new Float32Array(c.N * 32 * 7 * 7);
    k.conv2dChainForward(c.N, 1, 28, 28, 16, 3, 3, 1, 1, 1, 1, 32, 3, 3, 1, 1, 1, 1, x, w, null, w2, null, y, true, true);
    const nanImages = new Set<number>();
    y.forEach((v, i) => { if (Number.isNaN(v)) nanImages.add(Math.floor(i / (32 * 49))); });
    expect([...nanImages]).toEqual([2]);
  });

  it('writes nothing for no images or no filters, and checks its arguments as conv2dForward does', () => {
    const k = getBackend(), f = new Float32Array(4096), y = new Float32Array(8).fill(5);
    k.conv2dChainForward(0, 1, 8, 8, 2, 3, 3, 1, 1, 1, 1, 2, 3, 3, 1, 1, 1, 1, f, f, null, f, null, y, true, true);
    k.conv2dChainForward(2, 1, 8, 8, 2, 3, 3, 1, 1, 1, 1, 0, 3, 3, 1, 1, 1, 1, f, f, null, f, null, y, true, true);
    expect(Array.from(y)).toEqual(new Array(8).fill(5));
    const call = (H: number, KH2: number, w2: Float32Array, y2 = y) => () => k.conv2dChainForward(1, 1, H, 8, 2, 3, 3,
      1, 1, 1, 1, 2, KH2, 3, 1, 1, 0, 1, f, f, null, w2, null, y2, true, true);
    // 8 x 8 -> 8 x 8 -> pooled 4 x 4: a 5-row second window does not fit
    expect(call(8, 5, f)).toThrow(new RangeError('KH2 = 5 is larger than floor(OH / 2) + 2 * padH2 = 4'));
    expect(call(3, 1, f)).toThrow(new RangeError('the second convolution\'s output must be at least 2 x 2 to be pooled, got 1 x 4'));
    expect(call(1, 1, f)).toThrow(new RangeError('the first convolution\'s output must be at least 2 x 2 to be pooled, got 1 x 8'));
    expect(call(8, 3, new Float32Array(2 * 2 * 3 * 3 - 1))).toThrow(/weight2/);
    expect(call(8, 3, f, new Float32Array(2 * 2 * 1 - 1))).toThrow(/\by\b/);
  });
});

describe.each(nativeIsas)('conv2dChainForward with 1 and 2 threads on $label', (bc) => {
  it('gives the same bits on 1 and 2 threads, one image to many (an odd last image per thread)', () => {
    useBackend(bc);
    for (const c of chains) {
      for (const N of [1, 2, 3, c.N]) {
        const one = withThreads(1, () => run({ ...c, N }, Float32Array, 11));
        const two = withThreads(2, () => run({ ...c, N }, Float32Array, 11));
        expectBitwiseEqual(one[0], one[1]);
        expectBitwiseEqual(two[0], two[1]);
        expectBitwiseEqual(one[0], two[0]);
      }
    }
  });

  it("the bench's CNN through predictProba: the layers' values, bitwise, on 1 and 2 threads", () => {
    useBackend(bc);
    const net = new Sequential([
      new Conv2D(1, 16, 3, { padding: 1 }), new ReLU(), new MaxPool2D(2),
      new Conv2D(16, 32, 3, { padding: 1 }), new ReLU(), new MaxPool2D(2),
      new Flatten(), new Dense(1568, 10),
    ], { seed: 1 }).eval();
    expect(net.inferencePlan.describe()).toEqual(['Conv2D+ReLU+MaxPool2D+Conv2D+ReLU+MaxPool2D', 'Flatten', 'Dense']);
    const x = new Tensor(randomArray(Float32Array, 37 * 784, 2), [37, 1, 28, 28]);
    let y = x;
    for (const l of net.layers) y = l.forward(y);
    const expected = y.clone();
    for (const threads of [1, 2]) {
      expectBitwiseEqual(withThreads(threads, () => net.predict(x)).data, expected.data);
      expectBitwiseEqual(withThreads(threads, () => net.predict(x, { batchSize: 16 })).data, expected.data);
    }
  });
});
