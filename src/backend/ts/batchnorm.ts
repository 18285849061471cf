// Batch normalization per channel of x (N, C, S) — the readable reference of native/batchnorm.cc. S = H * W for
// images, 1 for (N, C) features. As in PyTorch: training normalizes with the batch mean and biased variance and
// updates running = (1 - momentum) running + momentum batch with the unbiased variance; eval uses the running
// statistics. Sums run in float64 in (n, s) order.
import type { FloatArray } from '../../tensor';

/** y = gamma (x - mean) invstd + beta; writes the mean and invstd = 1 / sqrt(var + eps) it used, for backward. */
export function batchNormForward(N: number, C: number, S: number, x: FloatArray, gamma: FloatArray, beta: FloatArray,
  y: FloatArray, mean: FloatArray, invstd: FloatArray, runningMean: FloatArray, runningVar: FloatArray,
  training: boolean, momentum: number, eps: number): void {
  const count = N * S;
  const planes = S === 0 ? 0 : N;  // no elements: N empty planes (up to 2^30) would cost seconds (eval allows S = 0)
  for (let c = 0; c < C; c++) {
    let m: number, inv: number;
    if (training) {
      let s = 0;
      for (let b = 0; b < planes; b++) for (let i = 0; i < S; i++) s += x[(b * C + c) * S + i];
      m = s / count;
      let q = 0;
      for (let b = 0; b < planes; b++) for (let i = 0; i < S; i++) q += (x[(b * C + c) * S + i] - m) ** 2;
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
    for (let b = 0; b < planes; b++) {
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
  const count = N * S;
  const planes = S === 0 ? 0 : N;  // no elements: N empty planes (up to 2^30) would cost seconds, and add nothing
  for (let c = 0; c < C; c++) {
    const m = mean[c], inv = invstd[c];
    let sumDy = 0, sumDyXhat = 0;
    for (let b = 0; b < planes; b++) {
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
    for (let b = 0; b < planes; b++) {
      for (let i = 0; i < S; i++) {
        const k = (b * C + c) * S + i;
        dx[k] = scale * (dy[k] - meanDy - (x[k] - m) * inv * meanDyXhat);
      }
    }
  }
}

/**
 * batchNormForward, then max(y, 0) as the ReLU layer applies it (NaN kept): the ReLU reads the stored (rounded)
 * normalized value, as the layer does, so a tiny negative value that rounds to -0 stays -0.
 */
export function batchNormReluForward(N: number, C: number, S: number, x: FloatArray, gamma: FloatArray,
  beta: FloatArray, y: FloatArray, mean: FloatArray, invstd: FloatArray, runningMean: FloatArray,
  runningVar: FloatArray, training: boolean, momentum: number, eps: number): void {
  batchNormForward(N, C, S, x, gamma, beta, y, mean, invstd, runningMean, runningVar, training, momentum, eps);
  for (let k = 0; k < N * C * S; k++) if (y[k] < 0) y[k] = 0;
}

/**
 * The backward of batchNormReluForward given its output y: batchNormBackward of dy where y > 0, 0 elsewhere (the
 * ReLU layer's gradient: y > 0 exactly when the normalized value is). dx may be dy.
 */
export function batchNormReluBackward(N: number, C: number, S: number, x: FloatArray, y: FloatArray, dy: FloatArray,
  gamma: FloatArray, mean: FloatArray, invstd: FloatArray, dx: FloatArray, dgamma: FloatArray, dbeta: FloatArray,
  training: boolean): void {
  for (let k = 0; k < N * C * S; k++) dx[k] = y[k] > 0 ? dy[k] : 0;
  batchNormBackward(N, C, S, x, dx, gamma, mean, invstd, dx, dgamma, dbeta, training);
}

/**
 * Layer norm of each row of x (rows, n): y = (x - mean) rstd gamma + beta, the row's mean and biased variance (sums
 * in float64, in order), rstd = 1 / sqrt(var + eps); a null gamma or beta is 1 or 0. Writes mean and rstd per row.
 */
export function layerNormForward(rows: number, n: number, x: FloatArray, gamma: FloatArray | null,
  beta: FloatArray | null, y: FloatArray, mean: FloatArray, rstd: FloatArray, eps: number): void {
  for (let r = 0; r < rows; r++) {
    const o = r * n;
    let s = 0;
    for (let i = 0; i < n; i++) s += x[o + i];
    const m = s / n;
    let q = 0;
    for (let i = 0; i < n; i++) q += (x[o + i] - m) ** 2;
    const inv = 1 / Math.sqrt(q / n + eps);
    mean[r] = m;
    rstd[r] = inv;
    for (let i = 0; i < n; i++) {
      const xhat = (x[o + i] - m) * inv;
      y[o + i] = (gamma ? xhat * gamma[i] : xhat) + (beta ? beta[i] : 0);
    }
  }
}

/**
 * dx = rstd (g - mean(g) - xhat mean(g xhat)) per row with g = dy gamma (dx may be dy: each row's sums are taken
 * before its dx is written); dgamma += Σ_rows dy xhat and dbeta += Σ_rows dy, summed in float64 over the rows in order.
 */
export function layerNormBackward(rows: number, n: number, x: FloatArray, dy: FloatArray, gamma: FloatArray | null,
  mean: FloatArray, rstd: FloatArray, dx: FloatArray, dgamma?: FloatArray | null, dbeta?: FloatArray | null): void {
  const sumDyXhat = new Float64Array(dgamma ? n : 0), sumDy = new Float64Array(dbeta ? n : 0);
  for (let r = 0; r < rows; r++) {
    const o = r * n, m = mean[r], inv = rstd[r];
    let sumG = 0, sumGXhat = 0;
    for (let i = 0; i < n; i++) {
      const xhat = (x[o + i] - m) * inv, d = dy[o + i], g = gamma ? d * gamma[i] : d;
      sumG += g;
      sumGXhat += g * xhat;
      if (dgamma) sumDyXhat[i] += d * xhat;
      if (dbeta) sumDy[i] += d;
    }
    const meanG = sumG / n, meanGXhat = sumGXhat / n;
    for (let i = 0; i < n; i++) {
      const xhat = (x[o + i] - m) * inv, g = gamma ? dy[o + i] * gamma[i] : dy[o + i];
      dx[o + i] = inv * (g - meanG - xhat * meanGXhat);
    }
  }
  if (dgamma) for (let i = 0; i < n; i++) dgamma[i] += sumDyXhat[i];
  if (dbeta) for (let i = 0; i < n; i++) dbeta[i] += sumDy[i];
}
