// Losses that return the mean loss and write its gradient in the same pass — the readable reference of
// native/loss.cc: binary cross-entropy, mean squared error, cross-entropy of probabilities and softmax
// cross-entropy. Sums are accumulated in double in index order.
import type { FloatArray } from '../../tensor';
import { rowMax } from './elementwise';

/** Binary cross-entropy from logits, mean over n: max(x,0) − x·t + log(1 + e^−|x|); grad = (σ(x) − t)/n. */
export function bceLogits(n: number, logits: FloatArray, targets: FloatArray, grad: FloatArray | null): number {
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
  let total = 0;
  for (let i = 0; i < n; i++) {
    const p = probs[i], t = targets[i];
    const pc = p < eps ? eps : p > 1 - eps ? 1 - eps : p;
    total -= t * Math.log(pc) + (1 - t) * Math.log(1 - pc);
    if (grad) grad[i] = pc === p ? (p - t) / (p * (1 - p)) / n : 0;
  }
  return total / n;
}

/**
 * Cross-entropy of probabilities (the course's cross_entropy_error): −Σ t · log(p + eps) / rows, summed over the
 * cols classes and averaged over the rows; grad = −t / (p + eps) / rows; a term with t = 0 is 0 (0 · log 0 = 0). A p outside [0, 1] is refused: it is not
 * a probability (logits belong to softmaxCrossEntropy). NaN passes through, to reach the loss.
 */
export function crossEntropyProbs(rows: number, cols: number, probs: FloatArray, targets: FloatArray, eps: number,
  grad: FloatArray | null): number {
  const n = rows * cols;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const p = probs[i] + eps, t = targets[i];
    if (t === 0) {  // 0 · log 0 = 0: a class with no target mass adds nothing, even at p = 0
      if (grad) grad[i] = 0;
      continue;
    }
    total -= t * Math.log(p);
    if (grad) grad[i] = -t / p / rows;
  }
  return total / rows;
}

/** Mean squared error: Σ over the cols features, mean over the rows, halved if `half`; grad = (half ? 1 : 2)(p − t)/rows. */
export function mse(rows: number, cols: number, pred: FloatArray, target: FloatArray, half: boolean,
  grad: FloatArray | null): number {
  const n = rows * cols;
  const k = half ? 1 : 2;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const d = pred[i] - target[i];
    total += d * d;
    if (grad) grad[i] = (k * d) / rows;
  }
  return ((half ? 0.5 : 1) * total) / rows;
}

export function softmaxCrossEntropyIndex(rows: number, cols: number, logits: FloatArray, labels: Int32Array,
  grad: FloatArray | null): number {
  let total = 0;
  for (let r = 0; r < rows; r++) {
    const o = r * cols, m = rowMax(logits, o, cols), label = logits[o + labels[r]];
    let s = 0;
    if (grad) {
      for (let c = 0; c < cols; c++) { grad[o + c] = Math.exp(logits[o + c] - m); s += grad[o + c]; }
      const scale = 1 / (s * rows);
      for (let c = 0; c < cols; c++) grad[o + c] *= scale;
      grad[o + labels[r]] -= 1 / rows;
    } else {
      for (let c = 0; c < cols; c++) s += Math.exp(logits[o + c] - m);
    }
    total += m + Math.log(s) - label;
  }
  return total / rows;
}

/**
 * softmaxCrossEntropyIndex (grad written) and argmaxRows in one pass: row r's argmax (the first maximum) is taken
 * before its grad is written (grad may be the logits); the loss and grad are softmaxCrossEntropyIndex's, op for op.
 */
export function softmaxCrossEntropyArgmax(rows: number, cols: number, logits: FloatArray, labels: Int32Array,
  grad: FloatArray, pred: Int32Array): number {
  let total = 0;
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let best = 0;
    for (let c = 1; c < cols; c++) if (logits[o + c] > logits[o + best]) best = c;
    pred[r] = best;
    const m = logits[o + best], label = logits[o + labels[r]];  // m: rowMax's value (the same comparisons)
    let s = 0;
    for (let c = 0; c < cols; c++) { grad[o + c] = Math.exp(logits[o + c] - m); s += grad[o + c]; }
    const scale = 1 / (s * rows);
    for (let c = 0; c < cols; c++) grad[o + c] *= scale;
    grad[o + labels[r]] -= 1 / rows;
    total += m + Math.log(s) - label;
  }
  return total / rows;
}

export function softmaxCrossEntropyTarget(rows: number, cols: number, logits: FloatArray, targets: FloatArray,
  grad: FloatArray | null): number {
  let total = 0;
  for (let r = 0; r < rows; r++) {
    const o = r * cols, m = rowMax(logits, o, cols);
    let s = 0;
    for (let c = 0; c < cols; c++) s += Math.exp(logits[o + c] - m);
    const lse = m + Math.log(s);
    let tsum = 0, tx = 0;
    for (let c = 0; c < cols; c++) { tsum += targets[o + c]; tx += targets[o + c] * logits[o + c]; }
    total += tsum * lse - tx;
    if (grad) {
      for (let c = 0; c < cols; c++) grad[o + c] = (tsum * Math.exp(logits[o + c] - lse) - targets[o + c]) / rows;
    }
  }
  return total / rows;
}
