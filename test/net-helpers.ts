// Shared by the network specs: seeded float64 test data.
import { Random } from '../src/random';
import { Tensor } from '../src/tensor';

/** Normal float64 data, nudged away from 0 so that ReLU's kink is never inside ±h. */
export function randn(shape: number[], seed: number, scale = 1): Tensor {
  const r = new Random(seed), t = Tensor.zeros(shape, 'float64');
  for (let i = 0; i < t.size; i++) {
    let v = r.normal() * scale;
    if (Math.abs(v) < 1e-3) v += 1e-2;
    t.data[i] = v;
  }
  return t;
}

export function uniform(shape: number[], seed: number, lo: number, hi: number): Tensor {
  const r = new Random(seed), t = Tensor.zeros(shape, 'float64');
  for (let i = 0; i < t.size; i++) t.data[i] = lo + (hi - lo) * r.uniform();
  return t;
}
