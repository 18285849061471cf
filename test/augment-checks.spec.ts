// nn.data.augment (src/data/augment.ts) beyond augment.spec.ts: the parameters each transform draws, in order,
// worked out by hand from the same seeded generator (whole-pixel moves of a one-pixel dot, so that the kernels are
// exact); affineMatrix against matrices inverted by hand; the edges of every option's range; the composition's
// steps and copies; every refusal's class and message.
import { beforeEach, describe, expect, it } from 'vitest';
import {
  affineMatrix, augmentation, normalize, randomAffine, randomCrop, randomFlip, randomTranslate,
} from '../src/data/augment';
import { Random } from '../src/random';
import { Tensor } from '../src/tensor';
import { backends, useBackend } from './helpers';

/** N (1, H, W) planes, each 0 but for a 1 at (h, w). */
function dots(N: number, H: number, W: number, h: number, w: number, dtype: 'float32' | 'float64' = 'float32'): Tensor {
  const x = Tensor.zeros([N, 1, H, W], dtype);
  for (let n = 0; n < N; n++) x.data[(n * H + h) * W + w] = 1;
  return x;
}

/** Where the 1 of plane n is, or null when it moved out (the rest must be 0). */
function dotAt(t: Tensor, n: number): [number, number] | null {
  const W = t.shape[t.shape.length - 1], H = t.shape[t.shape.length - 2];
  const plane = Array.from(t.data.subarray(n * H * W, (n + 1) * H * W));
  const i = plane.indexOf(1);
  expect(plane.filter((v) => v !== 0).length).toBe(i < 0 ? 0 : 1);
  return i < 0 ? null : [Math.floor(i / W), i % W];
}

const inside = (p: [number, number], H: number, W: number) =>
  (p[0] >= 0 && p[0] < H && p[1] >= 0 && p[1] < W ? p : null);

describe.each(backends)('augmentation draws on $label', (bc) => {
  beforeEach(() => useBackend(bc));

  it('randomTranslate: a pair [height, width] of shifts, drawn vertical first; the default seed is 0', () => {
    const N = 12, x = dots(N, 7, 9, 3, 4);
    for (const seed of [undefined, 2]) {
      const y = randomTranslate(x, seed === undefined ? { maxShift: [1, 3] } : { maxShift: [1, 3], seed });
      const r = new Random(seed ?? 0);
      for (let n = 0; n < N; n++) {
        const sh = r.int(3) - 1, sw = r.int(7) - 3;
        expect(dotAt(y, n)).toEqual([3 + sh, 4 + sw]);
      }
    }
    // a maxShift of 0 keeps the image; (N, H, W) batches are one channel
    const x3 = new Tensor(x.data.slice(), [N, 7, 9]);
    expect(Array.from(randomTranslate(x3, { maxShift: 0 }).data)).toEqual(Array.from(x.data));
    expect(randomTranslate(x3, { maxShift: 0 }).shape).toEqual([N, 7, 9]);
  });

  it('randomCrop: the corner drawn top first in [0, 2 ph], then left in [0, 2 pw]; inPlace writes into x', () => {
    const N = 12, x = dots(N, 8, 8, 4, 4), r = new Random(5);
    const y = randomCrop(x, { padding: [2, 1], seed: 5, inPlace: true });
    expect(y).toBe(x);
    for (let n = 0; n < N; n++) {
      const top = r.int(5), left = r.int(3);
      expect(dotAt(y, n)).toEqual([4 + 2 - top, 4 + 1 - left]);
    }
  });

  it('randomFlip: a sample is mirrored when its uniform draw is below the probability (default 0.5)', () => {
    const N = 40, x = dots(N, 2, 5, 1, 1);
    for (const [opts, p] of [[{ seed: 9 }, 0.5], [{ seed: 9, probability: 0.25 }, 0.25]] as const) {
      const y = randomFlip(x, opts), r = new Random(9);
      for (let n = 0; n < N; n++) expect(dotAt(y, n)).toEqual([1, r.uniform() < p ? 3 : 1]);
    }
  });

  it('randomAffine with translate only: tx then ty, each a whole number of pixels drawn in [-f W, f W], [-f H, f H]', () => {
    const N = 16, H = 9, W = 11, x = dots(N, H, W, 4, 5);
    const y = randomAffine(x, { translate: [0.3, 0.2], seed: 4 }), r = new Random(4);
    for (let n = 0; n < N; n++) {
      const u1 = r.uniform(), u2 = r.uniform();
      const tx = Math.round(-0.3 * W + 0.6 * W * u1), ty = Math.round(-0.2 * H + 0.4 * H * u2);
      expect(dotAt(y, n)).toEqual(inside([4 + ty, 5 + tx], H, W));
    }
  });

  it('randomAffine: a range of one value draws nothing; every other range draws, in the order angle, tx, ty, scale, shear', () => {
    const N = 10, H = 9, W = 9, x = dots(N, H, W, 4, 4);
    // the angle of [90, 90], the scale of [1, 1] and the shear of 0 draw nothing: only the shifts use the generator
    const turned = randomAffine(x, { degrees: [90, 90], translate: [0.2, 0.2], scale: [1, 1], shear: 0, seed: 6 });
    const r = new Random(6);
    for (let n = 0; n < N; n++) {
      const tx = Math.round(-1.8 + 3.6 * r.uniform()), ty = Math.round(-1.8 + 3.6 * r.uniform());
      // the center pixel turns onto itself, then moves by the shift
      const plane = Array.from(turned.data.subarray(n * 81, (n + 1) * 81));
      const at = plane.findIndex((v) => Math.abs(v - 1) < 1e-6);
      expect([Math.floor(at / 9), at % 9]).toEqual([4 + ty, 4 + tx]);
    }
    // a drawn angle comes first: with degrees [0, 1e-9] (a draw, a turn of nothing) the shifts use the next two draws
    const drawn = randomAffine(x, { degrees: [0, 1e-9], translate: [0.2, 0.2], seed: 6 });
    const r2 = new Random(6);
    for (let n = 0; n < N; n++) {
      r2.uniform();
      const tx = Math.round(-1.8 + 3.6 * r2.uniform()), ty = Math.round(-1.8 + 3.6 * r2.uniform());
      const plane = Array.from(drawn.data.subarray(n * 81, (n + 1) * 81));
      const at = plane.findIndex((v) => Math.abs(v - 1) < 1e-6);
      expect([Math.floor(at / 9), at % 9]).toEqual([4 + ty, 4 + tx]);
    }
    // a scale range and a shear range each draw one more per sample, after the shifts
    const r3 = new Random(6);
    const z = randomAffine(x, { scale: [1, 1 + 1e-12], shear: [0, 1e-9], translate: [0.2, 0.2], seed: 6 });
    for (let n = 0; n < N; n++) {
      const tx = Math.round(-1.8 + 3.6 * r3.uniform()), ty = Math.round(-1.8 + 3.6 * r3.uniform());
      r3.uniform();
      r3.uniform();
      const plane = Array.from(z.data.subarray(n * 81, (n + 1) * 81));
      const at = plane.findIndex((v) => Math.abs(v - 1) < 1e-6);
      expect([Math.floor(at / 9), at % 9]).toEqual([4 + ty, 4 + tx]);
    }
  });

  it('randomAffine inPlace writes into x (reading a copy) and equals the copy made otherwise', () => {
    const x = dots(3, 6, 6, 2, 3, 'float64');
    const want = randomAffine(x, { degrees: 30, scale: [0.8, 1.2], seed: 1 });
    expect(Array.from(x.data).filter((v) => v !== 0)).toEqual([1, 1, 1]);  // x kept
    const y = randomAffine(x, { degrees: 30, scale: [0.8, 1.2], seed: 1, inPlace: true });
    expect(y).toBe(x);
    expect(Array.from(x.data)).toEqual(Array.from(want.data));
  });

  it('normalize of float64 data, per channel, in double', () => {
    const x = new Tensor(Float64Array.of(1, 3), [1, 2, 1, 1]);
    const y = normalize(x, { mean: [0.1, 0.2], std: [3, 7] });
    expect(y.dtype).toBe('float64');
    expect(Array.from(y.data)).toEqual([(1 - 0.1) / 3, (3 - 0.2) / 7]);
  });

  it('augmentation: the first step copies, the later ones work on that copy; the default seed is 0', () => {
    const x = dots(6, 5, 5, 2, 2), before = Array.from(x.data);
    const aug = augmentation([{ op: 'randomTranslate', maxShift: 1 }, { op: 'randomCrop', padding: 1 }]);
    const r = new Random(0), byHand = randomCrop(randomTranslate(x, { maxShift: 1, rng: r }), { padding: 1, rng: r });
    const y = aug(x);
    expect(Array.from(y.data)).toEqual(Array.from(byHand.data));
    expect(Array.from(x.data)).toEqual(before);
    // a step of one's own that returns a new tensor: the next step works in place on it
    let seen: Tensor | null = null;
    const own = augmentation([(t) => new Tensor(t.data.map((v) => 2 * v), t.shape), (t) => { seen = t; return t; },
      { op: 'normalize', mean: 1, std: 1 }]);
    const out = own(x, 3);
    expect(out).toBe(seen);
    expect(Array.from(out.data)).toEqual(before.map((v) => 2 * v - 1));
    // three channels of means and stds, checked at creation against a probe of three channels
    const rgb = augmentation([{ op: 'normalize', mean: [0, 1, 2], std: [1, 2, 4] }]);
    expect(Array.from(rgb(new Tensor([[[[4]], [[5]], [[6]]]])).data)).toEqual([4, 2, 1]);
    const stdOnly = augmentation([{ op: 'normalize', mean: 0, std: [1, 2] }]);
    expect(Array.from(stdOnly(new Tensor([[[[4]], [[6]]]])).data)).toEqual([4, 3]);
  });
});

describe('augmentation checks word for word', () => {
  it('affineMatrix: shear, rotation, zoom and shift inverted by hand', () => {
    const close = (got: number[], want: number[]) => got.forEach((v, i) => expect(v).toBeCloseTo(want[i], 12));
    // shear 45° (k = 1): forward [1 1; 0 1], inverse [1 -1; 0 1]; center (3, 2), shift (1, -1): origin at (4, 1)
    close(affineMatrix(5, 7, 0, 1, 45, 1, -1), [1, -1, 3 - (4 - 1), 0, 1, 2 - 1]);
    // 90° counter-clockwise at zoom 2: forward 2 [0 1; -1 0], inverse [0 -0.5; 0.5 0]; center (2, 3)
    close(affineMatrix(7, 5, 90, 2, 0, 0, 0), [0, -0.5, 2 - (0 * 2 - 0.5 * 3), 0.5, 0, 3 - (0.5 * 2)]);
    // 30° with shear 20°: the product of the forward matrix and the result is the identity
    const [a, b, , d, e] = affineMatrix(4, 4, 30, 1.5, 20, 0, 0);
    const c = Math.cos(Math.PI / 6), s = Math.sin(Math.PI / 6), k = Math.tan(Math.PI / 9);
    const f = [1.5 * c, 1.5 * (c * k + s), -1.5 * s, 1.5 * (c - s * k)];
    close([f[0] * a + f[1] * d, f[0] * b + f[1] * e, f[2] * a + f[3] * d, f[2] * b + f[3] * e], [1, 0, 0, 1]);
  });

  const x = dots(2, 4, 4, 1, 1);
  const cases: [string, () => unknown, Error][] = [
    ['maxShift of 2^31', () => randomTranslate(x, { maxShift: 2 ** 31 }), new RangeError('randomTranslate maxShift must be a ' +
      'non-negative integer or a pair [height, width] of them, got 2147483648')],
    ['maxShift of three', () => randomTranslate(x, { maxShift: [1, 1, 1] as never }), new RangeError('randomTranslate maxShift ' +
      'must be a non-negative integer or a pair [height, width] of them, got [1, 1, 1]')],
    ['maxShift of nine numbers', () => randomTranslate(x, { maxShift: [1, 1, 1, 1, 1, 1, 1, 1, 1] as never }),
      new RangeError('randomTranslate maxShift must be a non-negative integer or a pair [height, width] of them, got an array ' +
        'of length 9')],
    ['maxShift of strings', () => randomTranslate(x, { maxShift: ['1', '1'] as never }), new RangeError('randomTranslate ' +
      'maxShift must be a non-negative integer or a pair [height, width] of them, got an array of length 2')],
    ['maxShift Infinity', () => randomTranslate(x, { maxShift: Infinity }), new RangeError('randomTranslate maxShift must be a ' +
      'non-negative integer or a pair [height, width] of them, got Infinity')],
    ['crop options', () => randomCrop(x, null as never), new TypeError('randomCrop options must be an options object, got null')],
    ['crop unknown option', () => randomCrop(x, { padding: 1, fill: 0 } as never),
      new TypeError("unknown randomCrop option 'fill'; the options are padding, seed, rng, inPlace")],
    ['translate unknown option', () => randomTranslate(x, { maxShift: 1, p: 0 } as never),
      new TypeError("unknown randomTranslate option 'p'; the options are maxShift, seed, rng, inPlace")],
    ['translate not images', () => randomTranslate(Tensor.zeros([1, 1, 1, 1, 1]), { maxShift: 1 }),
      new RangeError('randomTranslate: x must be a batch of images (N, C, H, W) or (N, H, W), got shape [1, 1, 1, 1, 1]')],
    ['crop not a tensor', () => randomCrop(5 as never, { padding: 1 }), new TypeError('randomCrop: x must be a Tensor, got 5')],
    ['crop rng', () => randomCrop(x, { padding: 1, rng: 3 as never }), new TypeError('randomCrop rng must be a Random, got 3')],
    ['crop seed and rng', () => randomCrop(x, { padding: 1, rng: new Random(1), seed: 2 }),
      new TypeError('randomCrop: give either seed or rng, not both')],
    ['crop inPlace', () => randomCrop(x, { padding: 1, inPlace: 'no' as never }),
      new TypeError("randomCrop inPlace must be true or false, got the string 'no'")],
    ['flip options', () => randomFlip(x, 1 as never), new TypeError('randomFlip options must be an options object, got 1')],
    ['flip not a tensor', () => randomFlip(null as never), new TypeError('randomFlip: x must be a Tensor, got null')],
    ['flip probability below 0', () => randomFlip(x, { probability: -0.1 }),
      new RangeError('randomFlip probability must be in [0, 1], got -0.1')],
    ['flip probability NaN', () => randomFlip(x, { probability: NaN }), new RangeError('randomFlip probability must be in [0, 1], got NaN')],
    ['flip probability a string', () => randomFlip(x, { probability: '1' as never }),
      new RangeError("randomFlip probability must be in [0, 1], got the string '1'")],
    ['affine options', () => randomAffine(x, [] as never), new TypeError('randomAffine options must be an options object, got an array of length 0')],
    ['affine unknown option', () => randomAffine(x, { rotate: 1 } as never),
      new TypeError("unknown randomAffine option 'rotate'; the options are degrees, translate, scale, shear, seed, rng, inPlace")],
    ['affine not images', () => randomAffine(new Tensor([1]), {}),
      new RangeError('randomAffine: x must be a batch of images (N, C, H, W) or (N, H, W), got shape [1]')],
    ['affine inPlace', () => randomAffine(x, { inPlace: 0 as never }), new TypeError('randomAffine inPlace must be true or false, got 0')],
    ['degrees of three', () => randomAffine(x, { degrees: [1, 2, 3] as never }), new RangeError('randomAffine degrees must be a ' +
      'non-negative number of degrees or a range [min, max] with min <= max, got [1, 2, 3]')],
    ['degrees NaN', () => randomAffine(x, { degrees: [NaN, 1] }), new RangeError('randomAffine degrees must be a ' +
      'non-negative number of degrees or a range [min, max] with min <= max, got [NaN, 1]')],
    ['shear negative', () => randomAffine(x, { shear: -1 }), new RangeError('randomAffine shear must be a ' +
      'non-negative number of degrees or a range [min, max] with min <= max, got -1')],
    ['shear from -90', () => randomAffine(x, { shear: [-90, 0] }),
      new RangeError('randomAffine shear must lie within (-90, 90) degrees, got [-90, 0]')],
    ['shear to 90', () => randomAffine(x, { shear: [0, 90] }),
      new RangeError('randomAffine shear must lie within (-90, 90) degrees, got [0, 90]')],
    ['translate of three', () => randomAffine(x, { translate: [0.1, 0.1, 0.1] as never }), new RangeError('randomAffine ' +
      'translate must be a pair [x, y] of fractions of the image size in [0, 1], got [0.1, 0.1, 0.1]')],
    ['translate negative', () => randomAffine(x, { translate: [-0.1, 0.1] }), new RangeError('randomAffine ' +
      'translate must be a pair [x, y] of fractions of the image size in [0, 1], got [-0.1, 0.1]')],
    ['translate a number', () => randomAffine(x, { translate: 0.1 as never }), new RangeError('randomAffine ' +
      'translate must be a pair [x, y] of fractions of the image size in [0, 1], got 0.1')],
    ['scale reversed', () => randomAffine(x, { scale: [2, 1] }), new RangeError('randomAffine scale must be a range ' +
      '[min, max] of positive numbers with min <= max, got [2, 1]')],
    ['scale of one', () => randomAffine(x, { scale: [1] as never }), new RangeError('randomAffine scale must be a range ' +
      '[min, max] of positive numbers with min <= max, got [1]')],
    ['scale Infinity', () => randomAffine(x, { scale: [1, Infinity] }), new RangeError('randomAffine scale must be a range ' +
      '[min, max] of positive numbers with min <= max, got [1, Infinity]')],
    ['scale a number', () => randomAffine(x, { scale: 1 as never }), new RangeError('randomAffine scale must be a range ' +
      '[min, max] of positive numbers with min <= max, got 1')],
    ['normalize unknown option', () => normalize(x, { mean: 0, std: 1, eps: 0 } as never),
      new TypeError("unknown normalize option 'eps'; the options are mean, std, inPlace")],
    ['normalize not images', () => normalize(new Tensor([1, 2]), { mean: 0, std: 1 }),
      new RangeError('normalize: x must be a batch of images (N, C, H, W) or (N, H, W), got shape [2]')],
    ['normalize mean NaN', () => normalize(x, { mean: NaN, std: 1 }),
      new RangeError('normalize mean must be a finite number or an array of 1 of them (one per channel), got NaN')],
    ['normalize std negative per channel', () => normalize(x, { mean: 0, std: [-1] }),
      new RangeError('normalize std must be a positive number or an array of 1 of them (one per channel), got [-1]')],
    ['normalize inPlace', () => normalize(x, { mean: 0, std: 1, inPlace: 1 as never }),
      new TypeError('normalize inPlace must be true or false, got 1')],
    ['a step that is null', () => augmentation([null as never]),
      new TypeError('augmentation: steps[0] must be a function or an object with an op, got null')],
    ['a step that is a number', () => augmentation([{ op: 'randomFlip' }, 3 as never]),
      new TypeError('augmentation: steps[1] must be a function or an object with an op, got 3')],
    ['an op inherited from Object', () => augmentation([{ op: 'toString' } as never]),
      new TypeError("augmentation: steps[0].op must be one of 'randomTranslate', 'randomCrop', 'randomFlip', 'randomAffine', " +
        "'normalize', got the string 'toString'")],
    ['an op that is not a string', () => augmentation([{ op: 1 } as never]),
      new TypeError("augmentation: steps[0].op must be one of 'randomTranslate', 'randomCrop', 'randomFlip', 'randomAffine', " +
        "'normalize', got 1")],
    ['augmentation options', () => augmentation([], null as never),
      new TypeError('augmentation options must be an options object, got null')],
    ['augmentation unknown option', () => augmentation([], { seed: 1 } as never),
      new TypeError("unknown augmentation option 'seed'; the options are inPlace")],
    ['a step option of another op', () => augmentation([{ op: 'randomCrop', padding: 1, maxShift: 1 } as never]),
      new TypeError("unknown augmentation steps[0] (randomCrop) option 'maxShift'; the options are padding")],
    ['an inPlace inside a step', () => augmentation([{ op: 'normalize', mean: 0, std: 1, inPlace: true } as never]),
      new TypeError("unknown augmentation steps[0] (normalize) option 'inPlace'; the options are mean, std")],
    ['translate options of a step', () => augmentation([{ op: 'randomTranslate', maxShift: 1, rng: 1 } as never]),
      new TypeError("unknown augmentation steps[0] (randomTranslate) option 'rng'; the options are maxShift")],
    ['affine options of a step', () => augmentation([{ op: 'randomAffine', degrees: -1 }]),
      new RangeError('randomAffine degrees must be a non-negative number of degrees or a range [min, max] with min <= max, got -1')],
    ['crop options of a step', () => augmentation([{ op: 'randomCrop', padding: -1 }]),
      new RangeError('randomCrop padding must be a non-negative integer or a pair [height, width] of them, got -1')],
    ['a seed that is a string', () => augmentation([])(x, '1' as never),
      new TypeError("augmentation seed must be a finite number, got the string '1'")],
  ];
  it.each(cases)('%s', (_name, f, error) => {
    expect(f).toThrow(error);
    try {
      f();
    } catch (e) {
      expect((e as Error).constructor).toBe(error.constructor);
    }
  });

  it('accepts the edges of each range', () => {
    const ok = [
      () => randomTranslate(x, { maxShift: [0, 2 ** 31 - 1] }),
      () => randomAffine(x, { degrees: 0, shear: [-89.9, 89.9], translate: [0, 1], scale: [0.5, 0.5] }),
      () => randomAffine(x, { degrees: [-5, -5] }),
      () => randomFlip(x, { probability: 0 }),
      () => randomFlip(x, { probability: 1 }),
    ];
    for (const f of ok) expect(f().shape).toEqual([2, 1, 4, 4]);
  });

  it('more refusals word for word: a detached x, an op that is not a string, ranges with a non-number, 8 values listed', () => {
    const buf = new ArrayBuffer(72), d = new Tensor(new Float64Array(buf), [1, 1, 3, 3]);
    structuredClone(buf, { transfer: [buf] });
    expect(() => randomFlip(d)).toThrow(new TypeError("randomFlip: x's ArrayBuffer is detached: it was transferred (postMessage " +
      'to a worker, or structuredClone with transfer) or given back by dispose(), and holds no data in this thread; copy the data (e.g. with .slice()) ' +
      'before transferring it'));
    expect(() => augmentation([{ op: ['randomFlip'] } as never])).toThrow(new TypeError('augmentation: steps[0].op must be one of ' +
      "'randomTranslate', 'randomCrop', 'randomFlip', 'randomAffine', 'normalize', got an array of length 1"));
    const x = Tensor.zeros([2, 1, 3, 3]);
    expect(() => normalize(x, { mean: [1, 2, 3, 4, 5, 6, 7, 8], std: 1 })).toThrow(new RangeError(
      'normalize mean must be a finite number or an array of 1 of them (one per channel), got [1, 2, 3, 4, 5, 6, 7, 8]'));
    expect(() => normalize(Tensor.zeros([1, 2, 2, 2]), { mean: [1, 'a'] as never, std: 1 })).toThrow(new RangeError(
      'normalize mean must be a finite number or an array of 2 of them (one per channel), got an array of length 2'));
    expect(() => randomAffine(x, { translate: [0.5, 'a'] as never })).toThrow(new RangeError('randomAffine translate must be a ' +
      'pair [x, y] of fractions of the image size in [0, 1], got an array of length 2'));
    expect(() => randomAffine(x, { degrees: ['0', 1] as never })).toThrow(new RangeError('randomAffine degrees must be a ' +
      'non-negative number of degrees or a range [min, max] with min <= max, got an array of length 2'));
    expect(() => randomAffine(x, { scale: [1, 2, 3] as never })).toThrow(new RangeError('randomAffine scale must be a range ' +
      '[min, max] of positive numbers with min <= max, got [1, 2, 3]'));
    expect(() => randomCrop(x, null as never)).toThrow(new TypeError('randomCrop options must be an options object, got null'));
    expect(() => randomTranslate(x, null as never)).toThrow(new TypeError('randomTranslate options must be an options object, got null'));
  });

  it('each transform draws exactly its parameters from a given rng; a symmetric range is [-d, d]', () => {
    const N = 3, x = dots(N, 5, 5, 2, 2);
    const after = (k: number) => {
      const r = new Random(11);
      for (let i = 0; i < k; i++) r.uniform();
      return r.uniform();
    };
    const cases: [(r: Random) => unknown, number][] = [
      [(rng) => randomTranslate(x, { maxShift: 1, rng }), 2 * N], [(rng) => randomCrop(x, { padding: 1, rng }), 2 * N],
      [(rng) => randomFlip(x, { rng }), N], [(rng) => randomAffine(x, { degrees: 10, rng }), N],
    ];
    for (const [f, draws] of cases) {
      const rng = new Random(11);
      f(rng);
      expect(rng.uniform()).toBe(after(draws));
    }
    const affine = (o: object) => Array.from(randomAffine(x, { ...o, seed: 2 }).data);
    expect(affine({ degrees: 30 })).toEqual(affine({ degrees: [-30, 30] }));
    expect(affine({ shear: 20 })).toEqual(affine({ shear: [-20, 20] }));
    // a draw equal to the probability does not flip (u < p)
    const u = new Random(4).uniform();
    expect(dotAt(randomFlip(dots(1, 3, 3, 1, 0), { probability: u, seed: 4 }), 0)).toEqual([1, 0]);
  });

  it('augmentation in place: an affine step writes into the batch; async() gives the same values', async () => {
    const x = dots(2, 5, 5, 2, 2), want = randomAffine(x, { degrees: 30, seed: 1 });
    const aug = augmentation([{ op: 'randomAffine', degrees: 30 }], { inPlace: true });
    const copy = new Tensor(x.data.slice(), x.shape);
    expect(aug(copy, 1)).toBe(copy);
    expect(Array.from(copy.data)).toEqual(Array.from(want.data));
    const again = new Tensor(x.data.slice(), x.shape);
    expect(Array.from((await aug.async(again, 1)).data)).toEqual(Array.from(want.data));
    // a step other than affine, queued, works in the batch itself where inPlace
    const flip = augmentation([{ op: 'randomFlip', probability: 1 }], { inPlace: true }), third = new Tensor(x.data.slice(), x.shape);
    expect(await flip.async(third, 1)).toBe(third);
    expect(dotAt(third, 1)).toEqual([2, 2]);
  });
});
