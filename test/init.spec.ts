// initBias (exported): zeros for every initialization but PyTorch's kaimingUniform, whose bias is U(-1/√fanIn,
// 1/√fanIn) drawn like its weights; zeros draw nothing from the generator; an unknown kind is refused.
import { describe, expect, it } from 'vitest';
import { INIT_KINDS, initBias, initWeight, type InitKind } from '../src/init';
import { Random } from '../src/random';

describe('initBias', () => {
  it.each(INIT_KINDS.filter((k) => k !== 'kaimingUniform'))('%s: zeros of the shape and dtype, drawing nothing', (kind) => {
    for (const dtype of ['float32', 'float64'] as const) {
      const rng = new Random(5);
      const b = initBias([3, 2], { kind, fanIn: 10, std: 0.5 }, rng, dtype);
      expect(b.shape).toEqual([3, 2]);
      expect(b.dtype).toBe(dtype);
      expect(b.toArray()).toEqual([0, 0, 0, 0, 0, 0]);
      expect(rng.uniform()).toBe(new Random(5).uniform());
    }
  });

  it('kaimingUniform: U(-1/√fanIn, 1/√fanIn), the very draws initWeight makes from the same generator state', () => {
    const fanIn = 25, bound = 1 / Math.sqrt(fanIn);
    const b = initBias([4000], { kind: 'kaimingUniform', fanIn }, new Random(9), 'float64');
    expect(b.toArray()).toEqual(initWeight([4000], { kind: 'kaimingUniform', fanIn }, new Random(9), 'float64').toArray());
    const v = b.toArray();
    expect(Math.max(...v.map(Math.abs))).toBeLessThan(bound);
    // U(-b, b): mean 0, variance b²/3, both sides reached
    const mean = v.reduce((a, x) => a + x, 0) / v.length, variance = v.reduce((a, x) => a + (x - mean) ** 2, 0) / v.length;
    expect(Math.abs(mean)).toBeLessThan(0.01);
    expect(variance).toBeCloseTo(bound * bound / 3, 3);
    expect(Math.min(...v)).toBeLessThan(-0.95 * bound);
    expect(Math.max(...v)).toBeGreaterThan(0.95 * bound);
    // float32 and a fan-in of 0 (no inputs): the bound of a fan-in of 1
    const f = initBias([100], { kind: 'kaimingUniform', fanIn: 0 }, new Random(1), 'float32');
    expect(f.dtype).toBe('float32');
    expect(f.toArray().every((x) => Math.abs(x) < 1)).toBe(true);
    expect(f.toArray().some((x) => Math.abs(x) > 0.5)).toBe(true);
  });

  it('an unknown kind is refused, as initWeight refuses it', () => {
    for (const kind of ['uniform', 'He', undefined] as unknown as InitKind[]) {
      // a name that is none of the kinds is a RangeError; anything but a string a TypeError
      expect(() => initWeight([2], { kind, fanIn: 2 }, new Random(1), 'float32')).toThrow(kind === undefined ? TypeError : RangeError);
      expect(() => initBias([2], { kind, fanIn: 2 }, new Random(1), 'float32')).toThrow(/init must be one of 'random', 'he', 'xavier', 'zeros', 'kaimingUniform', got /);
    }
  });
});
