// nn.data.augment on every backend: hand-worked images (a dot that moves, a mirrored pattern, a padded crop, a
// quarter turn, a half-pixel bilinear shift, normalized values), the same batch for the same seed on every backend,
// ISA and thread count (bitwise), and the option checks with their messages.
import { beforeEach, describe, expect, it } from 'vitest';
import { getBackend, setBackend } from '../src/backend/index';
import {
  affineMatrix, augmentation, normalize, randomAffine, randomCrop, randomFlip, randomTranslate,
} from '../src/data/augment';
import { data } from '../src/index';
import { Random } from '../src/random';
import { Tensor } from '../src/tensor';
import { backends, dtypes, expectBitwiseEqual, expectClose, nativeIsas, randomArray, useBackend, withThreads } from './helpers';

/** A (1, 1, H, W) image, 0 everywhere but 1 at (h, w). */
function dot(H: number, W: number, h: number, w: number, dtype: 'float32' | 'float64' = 'float32'): Tensor {
  const t = Tensor.zeros([1, 1, H, W], dtype);
  t.data[h * W + w] = 1;
  return t;
}

/** Where the single 1 of a plane is, as [h, w] (or null if none). */
function whereIsTheDot(t: Tensor, plane = 0): [number, number] | null {
  const W = t.shape[t.shape.length - 1], H = t.shape[t.shape.length - 2];
  const i = Array.from(t.data.subarray(plane * H * W, (plane + 1) * H * W)).indexOf(1);
  return i < 0 ? null : [Math.floor(i / W), i % W];
}

/** A batch that looks like MNIST digits: a bright blob off the center on a zero background. */
function digits(N: number, dtype: 'float32' | 'float64' = 'float32', H = 28, W = 28): Tensor {
  const x = Tensor.zeros([N, 1, H, W], dtype), r = new Random(99);
  for (let n = 0; n < N; n++) {
    const cy = 8 + r.int(12), cx = 8 + r.int(12);
    for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) {
      x.data[(n * H + h) * W + w] = Math.max(0, 1 - ((h - cy) ** 2 + (w - cx) ** 2) / 30) * (0.5 + r.uniform() / 2);
    }
  }
  return x;
}

const mnistAugmentation = () => augmentation([
  { op: 'randomAffine', degrees: 10, scale: [0.9, 1.1], translate: [0.1, 0.1], shear: 5 },
  { op: 'randomTranslate', maxShift: 2 },
  { op: 'randomFlip', probability: 0.5 },
  { op: 'randomCrop', padding: 3 },
  { op: 'normalize', mean: 0.1307, std: 0.3081 },
]);

describe.each(backends)('augmentation on $label', (bc) => {
  beforeEach(() => useBackend(bc));

  // found by the fuzz: the TS kernels walked N * C empty planes one by one (77 s for 3 * (2^31 - 1) of them)
  it('empty images (H * W = 0 or S = 0) with a huge N * C: the kernels return at once, writing nothing', () => {
    const b = getBackend(), e = new Float32Array(0), big = 2 ** 31 - 1, m = new Float32Array(3);
    const counts = [new Int32Array(3), new Int32Array(3)];
    b.translate2d(3, big, 0, 5, e, counts[0], counts[1], e);
    b.flip2d(3, big, 5, 0, e, counts[0], e);
    b.affine2d(3, big, 1, 0, e, m, m, m, m, m, m, e);
    b.normalizeChannels(big, 1, 0, e, new Float32Array(1), new Float32Array(1).fill(1), e);
    // what is checked is that each returns well within the timeout; nothing can be written to an empty output
    expect(e.length).toBe(0);
  }, 20_000);

  it('translate2d moves a one-pixel dot by the shifts given, and a shift past the edge leaves zeros', () => {
    const x = dot(5, 6, 2, 2), y = Tensor.zeros([1, 1, 5, 6]);
    getBackend().translate2d(1, 1, 5, 6, x.data, Int32Array.of(1), Int32Array.of(-2), y.data);
    expect(whereIsTheDot(y)).toEqual([3, 0]);
    getBackend().translate2d(1, 1, 5, 6, x.data, Int32Array.of(-2), Int32Array.of(3), y.data);
    expect(whereIsTheDot(y)).toEqual([0, 5]);
    getBackend().translate2d(1, 1, 5, 6, x.data, Int32Array.of(0), Int32Array.of(-3), y.data);
    expect(Array.from(y.data)).toEqual(new Array(30).fill(0));
  });

  it('translate2d of a 3x3 pattern by (1, 1), in place, is the hand-worked image with zeros in', () => {
    const x = new Tensor([[[[1, 2, 3], [4, 5, 6], [7, 8, 9]]]]);
    getBackend().translate2d(1, 1, 3, 3, x.data, Int32Array.of(1), Int32Array.of(1), x.data);
    expect(Array.from(x.data)).toEqual([0, 0, 0, 0, 1, 2, 0, 4, 5]);
    getBackend().translate2d(1, 1, 3, 3, x.data, Int32Array.of(-1), Int32Array.of(-1), x.data);
    expect(Array.from(x.data)).toEqual([1, 2, 0, 4, 5, 0, 0, 0, 0]);
  });

  it('randomTranslate moves each dot by the whole pixels drawn from the seed, vertical first, within maxShift', () => {
    const N = 40, x = Tensor.zeros([N, 1, 9, 9]);
    for (let n = 0; n < N; n++) x.data[n * 81 + 4 * 9 + 4] = 1;
    const y = randomTranslate(x, { maxShift: 2, seed: 5 });
    const r = new Random(5), seen = new Set<string>();
    for (let n = 0; n < N; n++) {
      const sh = r.int(5) - 2, sw = r.int(5) - 2;
      expect(whereIsTheDot(y, n)).toEqual([4 + sh, 4 + sw]);
      seen.add(`${sh},${sw}`);
    }
    expect(seen.size).toBeGreaterThan(12);  // of the 25 shifts in [-2, 2]^2, most appear in 40 draws
    expect(whereIsTheDot(x, 0)).toEqual([4, 4]);  // x is left as it was
  });

  it('randomCrop with padding p crops the zero-padded image at a corner drawn in [0, 2p]: the dot moves by p - corner', () => {
    const N = 30, x = Tensor.zeros([N, 1, 7, 8]);
    for (let n = 0; n < N; n++) x.data[n * 56 + 3 * 8 + 4] = 1;
    const y = randomCrop(x, { padding: [1, 3], seed: 11 });
    const r = new Random(11);
    for (let n = 0; n < N; n++) {
      const top = r.int(3), left = r.int(7);
      expect(whereIsTheDot(y, n)).toEqual([3 + 1 - top, 4 + 3 - left]);
    }
    const same = randomCrop(x, { padding: 0, seed: 3 });
    expectBitwiseEqual(same.data, x.data);
  });

  it('flip2d mirrors the flagged samples left to right (odd and even widths) and copies the others', () => {
    const x = new Tensor([[[[1, 2, 3], [4, 5, 6]]], [[[7, 8, 9], [10, 11, 12]]]]);
    const y = Tensor.zeros([2, 1, 2, 3]);
    getBackend().flip2d(2, 1, 2, 3, x.data, Int32Array.of(1, 0), y.data);
    expect(Array.from(y.data)).toEqual([3, 2, 1, 6, 5, 4, 7, 8, 9, 10, 11, 12]);
    const even = new Tensor([[[[1, 2, 3, 4]]]]);
    getBackend().flip2d(1, 1, 1, 4, even.data, Int32Array.of(-3), even.data);
    expect(Array.from(even.data)).toEqual([4, 3, 2, 1]);
  });

  it('randomFlip: probability 1 mirrors every sample, 0 none, 0.5 about half', () => {
    const x = new Tensor(randomArray(Float32Array, 200 * 2 * 3 * 5, 1), [200, 2, 3, 5]);
    const all = randomFlip(x, { probability: 1 }), none = randomFlip(x, { probability: 0 });
    expectBitwiseEqual(none.data, x.data);
    const flippedTwice = randomFlip(all, { probability: 1, inPlace: true });
    expect(flippedTwice).toBe(all);
    expectBitwiseEqual(all.data, x.data);
    expect(randomFlip(x, { seed: 4 }).data[4]).toBe(x.data[new Random(4).uniform() < 0.5 ? 0 : 4]);
    const half = randomFlip(x, { seed: 4 });
    let flipped = 0;
    for (let n = 0; n < 200; n++) if (half.data[n * 30] !== x.data[n * 30]) flipped++;
    expect(flipped).toBeGreaterThan(70);
    expect(flipped).toBeLessThan(130);
  });

  it.each(dtypes)('%s: a quarter turn of a square image is np.rot90 (counter-clockwise), up to cos(90°) ≈ 6e-17', (dtype, C) => {
    const d = dtype as 'float32' | 'float64';
    const H = 5, x = new Tensor(randomArray(C, 2 * H * H, 3), [1, 2, H, H]);
    const y = randomAffine(x, { degrees: [90, 90] });
    const want = new C(2 * H * H);
    for (let c = 0; c < 2; c++) for (let h = 0; h < H; h++) for (let w = 0; w < H; w++) {
      want[(c * H + h) * H + w] = x.data[(c * H + w) * H + (H - 1 - h)];
    }
    expectClose(y.data, want, 1e-6);
    expect(y.dtype).toBe(d);
    // a half turn is the image reversed; no rotation at all gives the image back bitwise
    const half = randomAffine(x, { degrees: [180, 180] });
    const rev = new C(2 * H * H);
    for (let c = 0; c < 2; c++) for (let i = 0; i < H * H; i++) rev[c * H * H + i] = x.data[c * H * H + H * H - 1 - i];
    expectClose(half.data, rev, 1e-6);
    expectBitwiseEqual(randomAffine(x, { degrees: 0 }).data, x.data);
  });

  it('affine2d samples bilinearly: half a pixel to the right averages neighbours, the last one with the zero outside', () => {
    const x = new Tensor([[[[0, 2, 4], [6, 8, 10]]]]), y = Tensor.zeros([1, 1, 2, 3]);
    const m = [1, 0, 0.5, 0, 1, 0.25].map((v) => Float32Array.of(v));
    getBackend().affine2d(1, 1, 2, 3, x.data, m[0], m[1], m[2], m[3], m[4], m[5], y.data);
    // (h, w) reads (h + 0.25, w + 0.5): 0.375 a + 0.375 b + 0.125 c + 0.125 d over the 2x2 taps, zero outside
    expect(Array.from(y.data)).toEqual([2.5, 4.5, 2.75, 5.25, 6.75, 3.75]);
  });

  it('normalize: (x - mean) / std per channel, and one value for all channels', () => {
    const x = new Tensor([[[[0, 0.5, 1]], [[2, 4, 6]]]]);
    const y = normalize(x, { mean: [0.5, 4], std: [0.25, 2] });
    expect(Array.from(y.data)).toEqual([-2, 0, 2, -1, 0, 1]);
    const z = normalize(x, { mean: 1, std: 0.5, inPlace: true });
    expect(z).toBe(x);
    expect(Array.from(x.data)).toEqual([-2, -1, 0, 2, 6, 10]);
    const x3 = new Tensor([[[0.1307, 0.4388]]]);  // (N, H, W): one channel
    expectClose(normalize(x3, { mean: 0.1307, std: 0.3081 }).data, [0, 1], 1e-6);
  });

  it('the same seed gives the same batch; another seed another; an rng advances from batch to batch', () => {
    const x = digits(16), aug = mnistAugmentation();
    const a = aug(x, 7), b = aug(x, 7), c = aug(x, 8);
    expectBitwiseEqual(a.data, b.data);
    expect(Array.from(a.data)).not.toEqual(Array.from(c.data));
    const rng = new Random(7);
    expectBitwiseEqual(aug(x, rng).data, a.data);
    expect(Array.from(aug(x, rng).data)).not.toEqual(Array.from(a.data));
    expect(a.shape).toEqual(x.shape);
    expectBitwiseEqual(x.data, digits(16).data);  // the batch given is left as it was
  });

  it('augmentation applies its steps in order, drawing each from the one rng, as the functions do by hand', () => {
    const x = digits(6, 'float64');
    const aug = augmentation([{ op: 'randomTranslate', maxShift: 1 }, (t) => t, { op: 'randomFlip' },
      { op: 'normalize', mean: 0.5, std: 2 }]);
    const r = new Random(3);
    const byHand = normalize(randomFlip(randomTranslate(x, { maxShift: 1, rng: r }), { rng: r }), { mean: 0.5, std: 2 });
    expectBitwiseEqual(aug(x, 3).data, byHand.data);
    const inPlace = augmentation([{ op: 'randomTranslate', maxShift: 1 }, { op: 'randomFlip' }], { inPlace: true });
    const copy = new Tensor(x.data.slice(), x.shape);
    expect(inPlace(copy, 3)).toBe(copy);
    const r2 = new Random(3);
    expectBitwiseEqual(copy.data, randomFlip(randomTranslate(x, { maxShift: 1, rng: r2 }), { rng: r2 }).data);
  });
});

describe('augmentation: the same on every backend, ISA and thread count', () => {
  it.each(dtypes)('%s: ts and every native ISA give bitwise the same augmented batch for the same seed', (dtype) => {
    const d = dtype as 'float32' | 'float64';
    setBackend('ts');
    const want = mnistAugmentation()(digits(12, d), 21);
    for (const isa of nativeIsas) {
      useBackend(isa);
      expectBitwiseEqual(mnistAugmentation()(digits(12, d), 21).data, want.data);
    }
  });

  it.skipIf(nativeIsas.length === 0)('one and two threads give bitwise the same batch (several tasks of planes)', () => {
    for (const isa of nativeIsas) {
      useBackend(isa);
      const x = digits(64);  // 64 planes of 28x28, 21 per task: 4 tasks
      const one = withThreads(1, () => mnistAugmentation()(x, 5)), two = withThreads(2, () => mnistAugmentation()(x, 5));
      expectBitwiseEqual(one.data, two.data);
    }
  });
});

describe('augmentation options', () => {
  it('affineMatrix: zoom 2 about the center reads half as far from it', () => {
    const [a, b, c, d, e, f] = affineMatrix(5, 5, 0, 2, 0, 0, 0);
    expect([a, b + 0, d + 0, e]).toEqual([0.5, 0, 0, 0.5]);
    expect([c, f]).toEqual([1, 1]);  // the output pixel (0, 0) reads (1, 1): the center (2, 2) stays put
  });

  const x = digits(2);
  const cases: [string, () => unknown, string | RegExp, ErrorConstructor][] = [
    ['maxShift missing', () => randomTranslate(x, {} as never),
      'randomTranslate maxShift must be a non-negative integer or a pair [height, width] of them, got undefined', RangeError],
    ['negative maxShift', () => randomTranslate(x, { maxShift: -1 }),
      'randomTranslate maxShift must be a non-negative integer or a pair [height, width] of them, got -1', RangeError],
    ['fractional padding', () => randomCrop(x, { padding: [1, 1.5] }),
      'randomCrop padding must be a non-negative integer or a pair [height, width] of them, got [1, 1.5]', RangeError],
    ['string seed', () => randomCrop(x, { padding: 1, seed: '1' as never }),
      "randomCrop seed must be a finite number, got the string '1'", TypeError],
    ['rng that is not a Random', () => randomFlip(x, { rng: {} as never }), 'randomFlip rng must be a Random, got an object', TypeError],
    ['seed and rng', () => randomFlip(x, { rng: new Random(1), seed: 1 }), 'randomFlip: give either seed or rng, not both', TypeError],
    ['probability above 1', () => randomFlip(x, { probability: 1.5 }), 'randomFlip probability must be in [0, 1], got 1.5', RangeError],
    ['inPlace not a boolean', () => randomFlip(x, { inPlace: 1 as never }), 'randomFlip inPlace must be true or false, got 1', TypeError],
    ['unknown option', () => randomFlip(x, { horizontal: true } as never),
      "unknown randomFlip option 'horizontal'; the options are probability, seed, rng, inPlace", TypeError],
    ['negative degrees', () => randomAffine(x, { degrees: -10 }),
      'randomAffine degrees must be a non-negative number of degrees or a range [min, max] with min <= max, got -10', RangeError],
    ['reversed degrees', () => randomAffine(x, { degrees: [10, -10] }),
      'randomAffine degrees must be a non-negative number of degrees or a range [min, max] with min <= max, got [10, -10]', RangeError],
    ['shear of 90 degrees', () => randomAffine(x, { shear: 90 }), 'randomAffine shear must lie within (-90, 90) degrees, got 90', RangeError],
    ['scale of 0', () => randomAffine(x, { scale: [0, 1] }),
      'randomAffine scale must be a range [min, max] of positive numbers with min <= max, got [0, 1]', RangeError],
    ['translate above 1', () => randomAffine(x, { translate: [0.1, 2] }),
      'randomAffine translate must be a pair [x, y] of fractions of the image size in [0, 1], got [0.1, 2]', RangeError],
    ['std of 0', () => normalize(x, { mean: 0, std: 0 }),
      'normalize std must be a positive number or an array of 1 of them (one per channel), got 0', RangeError],
    ['mean per channel of the wrong length', () => normalize(x, { mean: [0, 0], std: 1 }),
      'normalize mean must be a finite number or an array of 1 of them (one per channel), got [0, 0]', RangeError],
    ['not a tensor', () => randomTranslate([1, 2] as never, { maxShift: 1 }),
      'randomTranslate: x must be a Tensor, got an array of length 2', TypeError],
    ['not images', () => randomTranslate(new Tensor([1, 2]), { maxShift: 1 }),
      'randomTranslate: x must be a batch of images (N, C, H, W) or (N, H, W), got shape [2]', RangeError],
    ['options not an object', () => normalize(x, 5 as never), 'normalize options must be an options object, got 5', TypeError],
    ['augmentation of a non-array', () => augmentation('flip' as never),
      "augmentation: steps must be an array, got the string 'flip'", TypeError],
    ['an unknown op', () => augmentation([{ op: 'rotate' } as never]),
      "augmentation: steps[0].op must be one of 'randomTranslate', 'randomCrop', 'randomFlip', 'randomAffine', 'normalize', " +
      "got the string 'rotate'", TypeError],
    ['a bad step option, checked when the augmentation is made', () => augmentation([{ op: 'randomFlip' },
      { op: 'randomTranslate', maxShift: 1.5 }]),
    'randomTranslate maxShift must be a non-negative integer or a pair [height, width] of them, got 1.5', RangeError],
    ['a seed inside a step', () => augmentation([{ op: 'randomFlip', seed: 1 } as never]),
      "unknown augmentation steps[0] (randomFlip) option 'seed'; the options are probability", TypeError],
    ['augmentation inPlace not a boolean', () => augmentation([], { inPlace: 'yes' as never }),
      "augmentation inPlace must be true or false, got the string 'yes'", TypeError],
    ['a bad seed for the augmentation', () => mnistAugmentation()(x, NaN),
      'augmentation seed must be a finite number, got NaN', RangeError],
  ];
  it.each(cases)('%s', (_name, f, message, type) => {
    expect(f).toThrow(type);
    expect(f).toThrow(message);
  });

  it('is reachable as nn.data.augment', () => {
    expect(data.augment.augmentation).toBe(augmentation);
    expect(typeof data.augment.randomAffine).toBe('function');
  });
});
