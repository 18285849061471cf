// Toy data sets: the classic spiral (CS231n) and XOR, generated with the seeded generator.
import { Random } from '../random';
import { Tensor } from '../tensor';
import { invalid, knownOptions, nonNegativeNumber, optionalSeed, optionsObject, positiveInt } from '../validate';

/** Options of spiral(). */
export interface SpiralOptions {
  /** Points per class (default 100). */
  n?: number;
  /** Dimensions (default 2; only 2 is defined). */
  d?: number;
  /** Classes, i.e. arms (default 3). */
  k?: number;
  /** Scale of the Gaussian noise added to the angle (default 0.2). */
  noise?: number;
  seed?: number;
}

/**
 * k interleaved spiral arms of n points each: for arm j, radius r = linspace(0, 1, n) and angle
 * t = linspace(4j, 4(j + 1), n) + noise · N(0, 1); the point is (r sin t, r cos t), its label j.
 * x is (n·k, 2) float32, y the labels.
 */
export function spiral(options: SpiralOptions = {}): { x: Tensor; y: Int32Array } {
  const opts = optionsObject(options, 'spiral options');
  knownOptions(opts, ['n', 'd', 'k', 'noise', 'seed'], 'spiral');
  const n = positiveInt(opts.n ?? 100, 'spiral n'), k = positiveInt(opts.k ?? 3, 'spiral k');
  const d = opts.d ?? 2;
  if (d !== 2) throw invalid('spiral d', '2 (the only dimension defined)', d, typeof d === 'number' ? 'range' : 'type');
  const noise = nonNegativeNumber(opts.noise ?? 0.2, 'spiral noise');
  const rng = new Random(optionalSeed(opts.seed, 'spiral seed') ?? 0);
  const x = new Float32Array(n * k * 2), y = new Int32Array(n * k);
  const step = n > 1 ? 1 / (n - 1) : 0;
  for (let j = 0; j < k; j++) {
    for (let i = 0; i < n; i++) {
      const r = i * step;
      const t = 4 * j + 4 * i * step + noise * rng.normal();
      const ix = j * n + i;
      x[2 * ix] = r * Math.sin(t);
      x[2 * ix + 1] = r * Math.cos(t);
      y[ix] = j;
    }
  }
  return { x: new Tensor(x, [n * k, 2]), y };
}

/** The four XOR points: x (4, 2) in {0, 1}², y = x0 XOR x1. */
export function xor(): { x: Tensor; y: Int32Array } {
  return { x: new Tensor(new Float32Array([0, 0, 0, 1, 1, 0, 1, 1]), [4, 2]), y: new Int32Array([0, 1, 1, 0]) };
}
