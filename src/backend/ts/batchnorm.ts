// Batch normalization per channel of x (N, C, S) — the readable reference of native/batchnorm.cc. S = H * W for
// images, 1 for (N, C) features. As in PyTorch: training normalizes with the batch mean and biased variance and
// updates running = (1 - momentum) running + momentum batch with the unbiased variance; eval uses the running
// statistics. Sums run in float64 in (n, s) order.
import type { FloatArray } from '../../tensor';
import * as check from './checks';

function sizes(N: number, C: number, S: number): number {
  check.size(N, 'N'); check.size(C, 'C'); check.size(S, 'S');
  return check.productOf([N, C, S], 'N * C * S');
}

/** y = gamma (x - mean) invstd + beta; writes the mean and invstd = 1 / sqrt(var + eps) it used, for backward. */
export function batchNormForward(N: number, C: number, S: number, x: FloatArray, gamma: FloatArray, beta: FloatArray,
  y: FloatArray, mean: FloatArray, invstd: FloatArray, runningMean: FloatArray, runningVar: FloatArray,
  training: boolean, momentum: number, eps: number): void {
  const n = sizes(N, C, S);
  check.floats([x, 'x', n], [gamma, 'gamma', C], [beta, 'beta', C], [y, 'y', n], [mean, 'mean', C],
    [invstd, 'invstd', C], [runningMean, 'runningMean', C], [runningVar, 'runningVar', C]);
  check.bool(training, 'training');
  check.finite(momentum, 'momentum'); check.finite(eps, 'eps');
  if (momentum < 0 || momentum > 1) throw new RangeError(`momentum must be in [0, 1], got ${momentum}`);
  if (!(eps > 0)) throw new RangeError(`eps must be positive, got ${eps}`);
  if (training && C > 0 && N * S < 2) {
    throw new RangeError(`batch norm in training needs more than one value per channel, got N * S = ${N * S}`);
  }
  check.noAlias(y, 'y', x, 'x', true);
  const outs: [FloatArray, string][] = [[y, 'y'], [mean, 'mean'], [invstd, 'invstd'], [runningMean, 'runningMean'],
    [runningVar, 'runningVar']];
  check.disjoint(outs, [[gamma, 'gamma'], [beta, 'beta']]);
  check.disjoint(outs.slice(1), [[x, 'x']]);
  const count = N * S;
  for (let c = 0; c < C; c++) {
    let m: number, inv: number;
    if (training) {
      let s = 0;
      for (let b = 0; b < N; b++) for (let i = 0; i < S; i++) s += x[(b * C + c) * S + i];
      m = s / count;
      let q = 0;
      for (let b = 0; b < N; b++) for (let i = 0; i < S; i++) q += (x[(b * C + c) * S + i] - m) ** 2;
      inv = 1 / Math.sqrt(q / count + eps);
      runningMean[c] = (1 - momentum) * runningMean[c] + momentum * m;
      runningVar[c] = (1 - momentum) * runningVar[c] + momentum * (q / (count - 1));
    } else {
      m = runningMean[c];
      inv = 1 / Math.sqrt(runningVar[c] + eps);
    }
    mean[c] = m;
    invstd[c] = inv;
    const scale = gamma[c] * inv, shift = beta[c];
    for (let b = 0; b < N; b++) {
      for (let i = 0; i < S; i++) y[(b * C + c) * S + i] = (x[(b * C + c) * S + i] - m) * scale + shift;
    }
  }
}

/**
 * dx (overwritten; may be dy), dgamma += sum dy xhat, dbeta += sum dy. Training: dx = gamma invstd (dy - mean(dy)
 * - xhat mean(dy xhat)); eval (running statistics are constants): dx = gamma invstd dy.
 */
export function batchNormBackward(N: number, C: number, S: number, x: FloatArray, dy: FloatArray, gamma: FloatArray,
  mean: FloatArray, invstd: FloatArray, dx: FloatArray, dgamma: FloatArray, dbeta: FloatArray,
  training: boolean): void {
  const n = sizes(N, C, S);
  check.floats([x, 'x', n], [dy, 'dy', n], [gamma, 'gamma', C], [mean, 'mean', C], [invstd, 'invstd', C],
    [dx, 'dx', n], [dgamma, 'dgamma', C], [dbeta, 'dbeta', C]);
  check.bool(training, 'training');
  check.noAlias(dx, 'dx', dy, 'dy', true);
  check.disjoint([[dx, 'dx'], [dgamma, 'dgamma'], [dbeta, 'dbeta']],
    [[x, 'x'], [gamma, 'gamma'], [mean, 'mean'], [invstd, 'invstd']]);
  check.disjoint([[dgamma, 'dgamma'], [dbeta, 'dbeta']], [[dy, 'dy']]);
  const count = N * S;
  for (let c = 0; c < C; c++) {
    const m = mean[c], inv = invstd[c];
    let sumDy = 0, sumDyXhat = 0;
    for (let b = 0; b < N; b++) {
      for (let i = 0; i < S; i++) {
        const k = (b * C + c) * S + i;
        sumDy += dy[k];
        sumDyXhat += dy[k] * ((x[k] - m) * inv);
      }
    }
    dbeta[c] += sumDy;
    dgamma[c] += sumDyXhat;
    const scale = gamma[c] * inv;
    const meanDy = training ? sumDy / count : 0, meanDyXhat = training ? sumDyXhat / count : 0;
    for (let b = 0; b < N; b++) {
      for (let i = 0; i < S; i++) {
        const k = (b * C + c) * S + i;
        dx[k] = scale * (dy[k] - meanDy - (x[k] - m) * inv * meanDyXhat);
      }
    }
  }
}
