// Losses that return the mean loss and write its gradient in the same pass — the readable reference of
// native/loss.cc. Sums are accumulated in double in index order.
import type { FloatArray } from '../../tensor';
import * as check from './checks';

function lossArrays(n: number, x: FloatArray, xName: string, t: FloatArray, tName: string, grad: FloatArray | null): void {
  check.floats([x, xName, n], [t, tName, n], ...(grad === null ? [] : [[grad, 'grad', n] as [unknown, string, number]]));
  check.noAlias(grad, 'grad', x, xName, true);
  if (grad) check.noAlias(grad, 'grad', t, tName, true);
}

function atLeastOne(n: number): number {
  check.size(n, 'n');
  if (n === 0) throw new RangeError('n must be at least 1');
  return n;
}

/** Binary cross-entropy from logits, mean over n: max(x,0) − x·t + log(1 + e^−|x|); grad = (σ(x) − t)/n. */
export function bceLogits(n: number, logits: FloatArray, targets: FloatArray, grad: FloatArray | null): number {
  atLeastOne(n);
  grad = grad ?? null;
  lossArrays(n, logits, 'logits', targets, 'targets', grad);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const x = logits[i], t = targets[i], e = Math.exp(-Math.abs(x));
    total += (x > 0 ? x : 0) - x * t + Math.log1p(e);
    if (grad) grad[i] = ((x >= 0 ? 1 / (1 + e) : e / (1 + e)) - t) / n;
  }
  return total / n;
}

/** Binary cross-entropy from probabilities clipped to [eps, 1 − eps], mean over n (zero gradient where clipped). */
export function bceProbs(n: number, probs: FloatArray, targets: FloatArray, eps: number, grad: FloatArray | null): number {
  atLeastOne(n);
  grad = grad ?? null;
  lossArrays(n, probs, 'probs', targets, 'targets', grad);
  check.finite(eps, 'eps');
  if (!(eps > 0 && eps <= 0.5)) throw new RangeError(`eps must be in (0, 0.5], got ${eps}`);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const p = probs[i], t = targets[i];
    const pc = p < eps ? eps : p > 1 - eps ? 1 - eps : p;
    total -= t * Math.log(pc) + (1 - t) * Math.log(1 - pc);
    if (grad) grad[i] = pc === p ? (p - t) / (p * (1 - p)) / n : 0;
  }
  return total / n;
}

/** Mean squared error: Σ over the cols features, mean over the rows, halved if `half`; grad = (half ? 1 : 2)(p − t)/rows. */
export function mse(rows: number, cols: number, pred: FloatArray, target: FloatArray, half: boolean,
  grad: FloatArray | null): number {
  check.size(rows, 'rows'); check.size(cols, 'cols');
  if (rows === 0 || cols === 0) throw new RangeError('rows and cols must be at least 1');
  const n = check.product(rows, cols, 'rows * cols');
  grad = grad ?? null;
  lossArrays(n, pred, 'pred', target, 'target', grad);
  check.bool(half, 'half');
  const k = half ? 1 : 2;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const d = pred[i] - target[i];
    total += d * d;
    if (grad) grad[i] = (k * d) / rows;
  }
  return ((half ? 0.5 : 1) * total) / rows;
}
