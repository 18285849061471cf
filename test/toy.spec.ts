// The toy data sets (src/data/toy.ts): spiral points worked out from the formula in its doc comment (radius
// linspace(0, 1, n), angle linspace(4j, 4(j + 1), n) plus seeded noise), its defaults and argument checks, and XOR.
import { describe, expect, it } from 'vitest';
import { spiral, xor } from '../src/data/toy';
import { Random } from '../src/random';

/** The points of spiral() from its definition, in float64; noise drawn from Random(seed), arm by arm. */
function expectedSpiral(n: number, k: number, noise: number, seed: number): { x: number[]; y: number[] } {
  const rng = new Random(seed), x: number[] = [], y: number[] = [];
  for (let j = 0; j < k; j++) {
    for (let i = 0; i < n; i++) {
      const r = n === 1 ? 0 : i / (n - 1);
      const t = 4 * j + (n === 1 ? 0 : (4 * i) / (n - 1)) + noise * rng.normal();
      x.push(r * Math.sin(t), r * Math.cos(t));
      y.push(j);
    }
  }
  return { x, y };
}

describe('spiral', () => {
  it('without noise: the hand-worked points of 2 arms of 3 (radius 0, 1/2, 1; angles 4j + 0, 2, 4)', () => {
    const { x, y } = spiral({ n: 3, k: 2, noise: 0 });
    expect(x.shape).toEqual([6, 2]);
    expect(x.dtype).toBe('float32');
    const want = [[0, 0], [0.5 * Math.sin(2), 0.5 * Math.cos(2)], [Math.sin(4), Math.cos(4)],
      [0, 0], [0.5 * Math.sin(6), 0.5 * Math.cos(6)], [Math.sin(8), Math.cos(8)]].flat();
    // + 0 turns -0 (0 · sin of a negative) into 0 for toEqual
    expect(Array.from(x.data, (v) => v + 0)).toEqual(want.map((v) => Math.fround(v) + 0));
    expect(Array.from(y)).toEqual([0, 0, 0, 1, 1, 1]);
  });

  it('with noise: each angle moved by noise · N(0, 1) from the seeded generator, in arm order', () => {
    const { x, y } = spiral({ n: 4, k: 3, noise: 0.3, seed: 7 });
    const want = expectedSpiral(4, 3, 0.3, 7);
    expect(Array.from(x.data)).toEqual(want.x.map(Math.fround));
    expect(Array.from(y)).toEqual(want.y);
    // another seed, other points
    expect(Array.from(spiral({ n: 4, k: 3, noise: 0.3, seed: 8 }).x.data)).not.toEqual(Array.from(x.data));
  });

  it('the defaults: 100 points per arm, 3 arms, noise 0.2, seed 0', () => {
    const { x, y } = spiral();
    expect(x.shape).toEqual([300, 2]);
    const want = expectedSpiral(100, 3, 0.2, 0);
    expect(Array.from(x.data)).toEqual(want.x.map(Math.fround));
    expect(Array.from(y)).toEqual(want.y);
    expect(Array.from(spiral({ d: 2 }).x.data)).toEqual(Array.from(x.data));
  });

  it('one point per arm sits at the center (radius 0, no division by n - 1 = 0)', () => {
    const { x, y } = spiral({ n: 1, k: 4, noise: 0.5, seed: 1 });
    expect(Array.from(x.data, (v) => v + 0)).toEqual(new Array(8).fill(0));
    expect(Array.from(y)).toEqual([0, 1, 2, 3]);
  });

  it('refuses a d other than 2: RangeError for another number, TypeError for a non-number', () => {
    expect(() => spiral({ d: 3 })).toThrow(new RangeError('spiral d must be 2 (the only dimension defined), got 3'));
    expect(() => spiral({ d: '2' as never })).toThrow(
      new TypeError("spiral d must be 2 (the only dimension defined), got the string '2'"));
    expect(() => spiral(null as never)).toThrow(new TypeError('spiral options must be an options object, got null'));
  });
});

describe('xor', () => {
  it('the four points of {0, 1}² and their XOR', () => {
    const { x, y } = xor();
    expect(x.shape).toEqual([4, 2]);
    expect(x.dtype).toBe('float32');
    expect(Array.from(x.data)).toEqual([0, 0, 0, 1, 1, 0, 1, 1]);
    expect(Array.from(y)).toEqual([0, 1, 1, 0]);
  });
});
