// Weight initializations, all drawn from the seeded generator (src/random.ts) so a seed reproduces a network
// on either backend. fanIn is the number of inputs feeding one output (Dense: inFeatures; Conv2D: C·KH·KW).
import { oneOf } from './validate';
import type { Random } from './random';
import { type DType, type Shape, Tensor } from './tensor';

/** The weight initializations: 'random' (normal, std), 'he', 'xavier', 'zeros', 'kaimingUniform' (PyTorch's default). */
export type InitKind = 'random' | 'he' | 'xavier' | 'zeros' | 'kaimingUniform';
export const INIT_KINDS: readonly InitKind[] = ['random', 'he', 'xavier', 'zeros', 'kaimingUniform'];

/** An initialization: its kind and the fan-in it scales by. */
export interface InitSpec {
  kind: InitKind;
  fanIn: number;
  /** Standard deviation of 'random' (default 0.01). */
  std?: number;
}

export function checkInitKind(kind: unknown, name = 'init'): InitKind {
  return oneOf(kind, INIT_KINDS, name);
}

/**
 * A weight tensor drawn by an initialization:
 * - 'random': N(0, std²), std 0.01 by default (the course's first networks);
 * - 'he': N(0, 2/fanIn) (for ReLU networks);
 * - 'xavier': N(0, 1/fanIn) (for sigmoid and tanh networks);
 * - 'zeros';
 * - 'kaimingUniform': U(−b, b) with b = 1/√fanIn, PyTorch's default for Linear and Conv2d (kaiming_uniform
 *   with a = √5 gives gain √(2/(1+5)) and b = gain·√(3/fanIn) = 1/√fanIn).
 */
export function initWeight(shape: Shape, spec: InitSpec, rng: Random, dtype: DType): Tensor {
  const t = Tensor.zeros(shape, dtype);
  const d = t.data, fanIn = Math.max(1, spec.fanIn);
  switch (checkInitKind(spec.kind)) {
    case 'zeros': break;
    case 'kaimingUniform': {
      const b = 1 / Math.sqrt(fanIn);
      for (let i = 0; i < d.length; i++) d[i] = (2 * rng.uniform() - 1) * b;
      break;
    }
    default: {
      const std = spec.kind === 'random' ? spec.std ?? 0.01 : spec.kind === 'he' ? Math.sqrt(2 / fanIn) : Math.sqrt(1 / fanIn);
      for (let i = 0; i < d.length; i++) d[i] = rng.normal() * std;
    }
  }
  return t;
}

/** A bias tensor: U(−1/√fanIn, 1/√fanIn) for 'kaimingUniform' (as PyTorch), zeros otherwise. */
export function initBias(shape: Shape, spec: InitSpec, rng: Random, dtype: DType): Tensor {
  if (checkInitKind(spec.kind) !== 'kaimingUniform') return Tensor.zeros(shape, dtype);
  return initWeight(shape, spec, rng, dtype);
}
