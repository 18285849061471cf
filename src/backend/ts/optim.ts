// Optimizer updates, fused and in place — the readable reference of native/optim.cc. The arithmetic is done
// in double and rounded once when stored, as the native kernels do.
import type { FloatArray } from '../../tensor';

/** Plain SGD: p −= lr·g. */
export function sgd(n: number, p: FloatArray, g: FloatArray, lr: number): void {
  for (let i = 0; i < n; i++) p[i] -= lr * g[i];
}

/** sgd of two parameters in one call: p −= lr·g over n, then q −= lr·h over m. */
export function sgd2(n: number, p: FloatArray, g: FloatArray, m: number, q: FloatArray, h: FloatArray, lr: number): void {
  sgd(n, p, g, lr);
  sgd(m, q, h, lr);
}

/** SGD with momentum (PyTorch form): v = μ·v + g; p −= lr·(nesterov ? g + μ·v : v). */
export function sgdMomentum(n: number, p: FloatArray, g: FloatArray, v: FloatArray, lr: number, momentum: number,
  nesterov: boolean): void {
  for (let i = 0; i < n; i++) {
    v[i] = momentum * v[i] + g[i];
    p[i] = p[i] - lr * (nesterov ? g[i] + momentum * v[i] : v[i]);
  }
}

/** AdaGrad: h += g²; p −= lr·g / (√h + eps). */
export function adagrad(n: number, p: FloatArray, g: FloatArray, h: FloatArray, lr: number, eps: number): void {
  for (let i = 0; i < n; i++) {
    h[i] = h[i] + g[i] * g[i];
    p[i] = p[i] - (lr * g[i]) / (Math.sqrt(h[i]) + eps);
  }
}

/** RMSProp: h = decay·h + (1 − decay)·g²; p −= lr·g / (√h + eps). */
export function rmsprop(n: number, p: FloatArray, g: FloatArray, h: FloatArray, lr: number, decay: number,
  eps: number): void {
  for (let i = 0; i < n; i++) {
    h[i] = decay * h[i] + (1 - decay) * g[i] * g[i];
    p[i] = p[i] - (lr * g[i]) / (Math.sqrt(h[i]) + eps);
  }
}

/**
 * Adam at step t (1-based) with decoupled weight decay (AdamW) when weightDecay > 0:
 * p −= lr·wd·p; m = β1·m + (1 − β1)·g; v = β2·v + (1 − β2)·g²; p −= lr·m̂ / (√v̂ + eps).
 */
export function adam(n: number, p: FloatArray, g: FloatArray, m: FloatArray, v: FloatArray, lr: number,
  beta1: number, beta2: number, eps: number, step: number, weightDecay: number): void {
  const c1 = 1 / (1 - beta1 ** step), c2 = 1 / (1 - beta2 ** step);
  for (let i = 0; i < n; i++) {
    const gi = g[i];
    let pi = p[i];
    if (weightDecay !== 0) pi -= lr * weightDecay * pi;
    m[i] = beta1 * m[i] + (1 - beta1) * gi;
    v[i] = beta2 * v[i] + (1 - beta2) * gi * gi;
    p[i] = pi - (lr * (m[i] * c1)) / (Math.sqrt(v[i] * c2) + eps);
  }
}
