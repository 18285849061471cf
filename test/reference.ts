// Plain references for every kernel: the definitions written as loops over float64 numbers, straight from the
// kernel spec's docs (src/backend/spec.ts), with no blocking, no vectors and no shared code with
// either backend. Each returns fresh Float64Arrays (or numbers); accumulating kernels take the initial values and
// return the accumulated ones. test/reference-grid.spec.ts compares every backend and ISA with these.

type Arr = ArrayLike<number>;

// ---- gemm ----

/** C = alpha op(A) op(B) + beta C (C is not read when beta = 0); op(A) M x K, op(B) K x N, row-major. */
export function gemm(transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number, A: Arr,
  B: Arr, beta: number, C: Arr): Float64Array {
  const out = new Float64Array(M * N);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) {
        const a = transA ? A[k * M + i] : A[i * K + k];
        const b = transB ? B[j * K + k] : B[k * N + j];
        s += a * b;
      }
      out[i * N + j] = beta === 0 ? alpha * s : alpha * s + beta * C[i * N + j];
    }
  }
  return out;
}

// ---- element-wise ----

export type Activation = 'relu' | 'leakyRelu' | 'sigmoid' | 'tanh' | 'step';

export function activationForward(kind: Activation, x: Arr, slope: number): Float64Array {
  return Float64Array.from(x, (v) => {
    switch (kind) {
      case 'step': return Number.isNaN(v) ? v : v > 0 ? 1 : 0;
      case 'relu': return Number.isNaN(v) ? v : Math.max(0, v);
      case 'leakyRelu': return v > 0 ? v : slope * v;
      case 'sigmoid': return 1 / (1 + Math.exp(-v));
      case 'tanh': return Math.tanh(v);
    }
  });
}

/** relu and leaky relu differentiate at x (0 at x = 0), sigmoid and tanh through their output y. */
export function activationBackward(kind: Activation, x: Arr, y: Arr, dy: Arr, slope: number): Float64Array {
  return Float64Array.from(dy, (d, i) => {
    switch (kind) {
      case 'step': return 0;
      case 'relu': return x[i] > 0 ? d : 0;
      case 'leakyRelu': return x[i] > 0 ? d : slope * d;
      case 'sigmoid': return d * y[i] * (1 - y[i]);
      case 'tanh': return d * (1 - y[i] * y[i]);
    }
  });
}

export function biasAdd(rows: number, cols: number, y: Arr, bias: Arr): Float64Array {
  const out = Float64Array.from(y);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[r * cols + c] += bias[c];
  return out;
}

export function biasBackward(rows: number, cols: number, dy: Arr, dbias: Arr): Float64Array {
  const out = Float64Array.from(dbias);
  for (let c = 0; c < cols; c++) for (let r = 0; r < rows; r++) out[c] += dy[r * cols + c];
  return out;
}

function logSumExp(x: Arr, o: number, cols: number): number {
  let m = -Infinity;
  for (let c = 0; c < cols; c++) m = Math.max(m, x[o + c]);
  let s = 0;
  for (let c = 0; c < cols; c++) s += Math.exp(x[o + c] - m);
  return m + Math.log(s);
}

export function softmax(rows: number, cols: number, x: Arr): Float64Array {
  const y = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const lse = logSumExp(x, r * cols, cols);
    for (let c = 0; c < cols; c++) y[r * cols + c] = Math.exp(x[r * cols + c] - lse);
  }
  return y;
}

/** Mean over rows of -log softmax(x)[label]; grad = (softmax - onehot) / rows. */
export function softmaxCrossEntropyIndex(rows: number, cols: number, x: Arr, labels: Arr): [number, Float64Array] {
  const grad = softmax(rows, cols, x);
  let loss = 0;
  for (let r = 0; r < rows; r++) {
    loss += logSumExp(x, r * cols, cols) - x[r * cols + labels[r]];
    grad[r * cols + labels[r]] -= 1;
  }
  for (let i = 0; i < grad.length; i++) grad[i] /= rows;
  return [loss / rows, grad];
}

/** Mean over rows of -sum_c t log softmax(x); grad = (sum(t) softmax - t) / rows (t need not sum to 1). */
export function softmaxCrossEntropyTarget(rows: number, cols: number, x: Arr, t: Arr): [number, Float64Array] {
  const p = softmax(rows, cols, x);
  const grad = new Float64Array(rows * cols);
  let loss = 0;
  for (let r = 0; r < rows; r++) {
    const lse = logSumExp(x, r * cols, cols);
    let tsum = 0;
    for (let c = 0; c < cols; c++) {
      const i = r * cols + c;
      loss -= t[i] * (x[i] - lse);
      tsum += t[i];
    }
    for (let c = 0; c < cols; c++) {
      const i = r * cols + c;
      grad[i] = (tsum * p[i] - t[i]) / rows;
    }
  }
  return [loss / rows, grad];
}

/** dx = y (dy - sum(dy y)) per row. */
export function softmaxBackward(rows: number, cols: number, y: Arr, dy: Arr): Float64Array {
  const dx = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    let dot = 0;
    for (let c = 0; c < cols; c++) dot += dy[r * cols + c] * y[r * cols + c];
    for (let c = 0; c < cols; c++) dx[r * cols + c] = y[r * cols + c] * (dy[r * cols + c] - dot);
  }
  return dx;
}

/** The index of the first maximum of each row. */
export function argmaxRows(rows: number, cols: number, x: Arr): Int32Array {
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let c = 0; c < cols; c++) if (x[r * cols + c] > x[r * cols + best]) best = c;
    out[r] = best;
  }
  return out;
}

export function sumSquares(x: Arr): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * x[i];
  return s;
}

/** Mean over n of -t log sigmoid(x) - (1 - t) log(1 - sigmoid(x)); grad = (sigmoid(x) - t) / n. */
export function bceLogits(x: Arr, t: Arr): [number, Float64Array] {
  const n = x.length, grad = new Float64Array(n);
  let loss = 0;
  for (let i = 0; i < n; i++) {
    // log(1 + e^x) - t x, written so that neither branch overflows
    loss += Math.max(x[i], 0) + Math.log1p(Math.exp(-Math.abs(x[i]))) - t[i] * x[i];
    grad[i] = (1 / (1 + Math.exp(-x[i])) - t[i]) / n;
  }
  return [loss / n, grad];
}

/** Mean over n of the cross-entropy of p clipped to [eps, 1 - eps]; zero gradient where the clip is active. */
export function bceProbs(p: Arr, t: Arr, eps: number): [number, Float64Array] {
  const n = p.length, grad = new Float64Array(n);
  let loss = 0;
  for (let i = 0; i < n; i++) {
    const q = Math.min(Math.max(p[i], eps), 1 - eps);
    loss -= t[i] * Math.log(q) + (1 - t[i]) * Math.log(1 - q);
    grad[i] = q === p[i] ? (-t[i] / q + (1 - t[i]) / (1 - q)) / n : 0;
  }
  return [loss / n, grad];
}

/** Squared error summed over the columns, mean over the rows, halved if `half`. */
export function mse(rows: number, p: Arr, t: Arr, half: boolean): [number, Float64Array] {
  const k = half ? 0.5 : 1, grad = new Float64Array(p.length);
  let loss = 0;
  for (let i = 0; i < p.length; i++) {
    loss += k * (p[i] - t[i]) ** 2;
    grad[i] = (2 * k * (p[i] - t[i])) / rows;
  }
  return [loss / rows, grad];
}

// ---- optimizer updates: each returns the new parameters and state ----

export function sgd(p: Arr, g: Arr, lr: number): Float64Array {
  return Float64Array.from(p, (v, i) => v - lr * g[i]);
}

export function sgdMomentum(p: Arr, g: Arr, v: Arr, lr: number, momentum: number, nesterov: boolean): Float64Array[] {
  const v1 = Float64Array.from(v, (vi, i) => momentum * vi + g[i]);
  const p1 = Float64Array.from(p, (pi, i) => pi - lr * (nesterov ? g[i] + momentum * v1[i] : v1[i]));
  return [p1, v1];
}

export function adagrad(p: Arr, g: Arr, h: Arr, lr: number, eps: number): Float64Array[] {
  const h1 = Float64Array.from(h, (hi, i) => hi + g[i] * g[i]);
  return [Float64Array.from(p, (pi, i) => pi - (lr * g[i]) / (Math.sqrt(h1[i]) + eps)), h1];
}

export function rmsprop(p: Arr, g: Arr, h: Arr, lr: number, decay: number, eps: number): Float64Array[] {
  const h1 = Float64Array.from(h, (hi, i) => decay * hi + (1 - decay) * g[i] * g[i]);
  return [Float64Array.from(p, (pi, i) => pi - (lr * g[i]) / (Math.sqrt(h1[i]) + eps)), h1];
}

/** Adam at step t (1-based) with bias correction; decoupled weight decay (AdamW) when wd > 0. */
export function adam(p: Arr, g: Arr, m: Arr, v: Arr, lr: number, b1: number, b2: number, eps: number, t: number,
  wd: number): Float64Array[] {
  const m1 = Float64Array.from(m, (mi, i) => b1 * mi + (1 - b1) * g[i]);
  const v1 = Float64Array.from(v, (vi, i) => b2 * vi + (1 - b2) * g[i] * g[i]);
  const p1 = Float64Array.from(p, (pi, i) => {
    const mhat = m1[i] / (1 - b1 ** t), vhat = v1[i] / (1 - b2 ** t);
    return pi * (1 - lr * wd) - (lr * mhat) / (Math.sqrt(vhat) + eps);
  });
  return [p1, m1, v1];
}

// ---- convolution ----

export interface ConvGeometry {
  N: number; C: number; H: number; W: number; F: number; KH: number; KW: number;
  sh: number; sw: number; ph: number; pw: number;
}

export function convOutput(g: ConvGeometry): [number, number] {
  return [Math.floor((g.H + 2 * g.ph - g.KH) / g.sh) + 1, Math.floor((g.W + 2 * g.pw - g.KW) / g.sw) + 1];
}

/** The input value under tap (kh, kw) of output (oh, ow), zero in the padding. */
function inputAt(g: ConvGeometry, x: Arr, n: number, c: number, oh: number, ow: number, kh: number, kw: number): number {
  const ih = oh * g.sh - g.ph + kh, iw = ow * g.sw - g.pw + kw;
  if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) return 0;
  return x[((n * g.C + c) * g.H + ih) * g.W + iw];
}

/** y = conv(x, w) + b, then max(y, 0) if relu (NaN kept), then a 2x2 stride-2 max pooling if pool. */
export function conv2dForward(g: ConvGeometry, x: Arr, w: Arr, b: Arr | null, relu = false, pool = false): Float64Array {
  const [OH, OW] = convOutput(g);
  const y = new Float64Array(g.N * g.F * OH * OW);
  for (let n = 0; n < g.N; n++) for (let f = 0; f < g.F; f++) for (let oh = 0; oh < OH; oh++) {
    for (let ow = 0; ow < OW; ow++) {
      let s = b ? b[f] : 0;
      for (let c = 0; c < g.C; c++) for (let kh = 0; kh < g.KH; kh++) for (let kw = 0; kw < g.KW; kw++) {
        s += w[((f * g.C + c) * g.KH + kh) * g.KW + kw] * inputAt(g, x, n, c, oh, ow, kh, kw);
      }
      y[((n * g.F + f) * OH + oh) * OW + ow] = relu && s < 0 ? 0 : s;
    }
  }
  return pool ? maxPool2dForward(g.N, g.F, OH, OW, 2, 2, 2, 2, y)[0] : y;
}

/** dx[n, c, ih, iw] = sum over the taps that read x[n, c, ih, iw] of dy * w. */
export function conv2dBackwardData(g: ConvGeometry, dy: Arr, w: Arr): Float64Array {
  const [OH, OW] = convOutput(g);
  const dx = new Float64Array(g.N * g.C * g.H * g.W);
  for (let n = 0; n < g.N; n++) for (let c = 0; c < g.C; c++) for (let ih = 0; ih < g.H; ih++) {
    for (let iw = 0; iw < g.W; iw++) {
      let s = 0;
      for (let f = 0; f < g.F; f++) for (let kh = 0; kh < g.KH; kh++) for (let kw = 0; kw < g.KW; kw++) {
        // the output that reads this pixel through tap (kh, kw), if there is one
        const th = ih + g.ph - kh, tw = iw + g.pw - kw;
        if (th < 0 || tw < 0 || th % g.sh !== 0 || tw % g.sw !== 0) continue;
        const oh = th / g.sh, ow = tw / g.sw;
        if (oh >= OH || ow >= OW) continue;
        s += dy[((n * g.F + f) * OH + oh) * OW + ow] * w[((f * g.C + c) * g.KH + kh) * g.KW + kw];
      }
      dx[((n * g.C + c) * g.H + ih) * g.W + iw] = s;
    }
  }
  return dx;
}

/** dw + sum over the batch of dy (x) x, db + sum of dy per filter. */
export function conv2dBackwardFilter(g: ConvGeometry, x: Arr, dy: Arr, dw: Arr, db: Arr): [Float64Array, Float64Array] {
  const [OH, OW] = convOutput(g);
  const dwOut = Float64Array.from(dw), dbOut = Float64Array.from(db);
  for (let f = 0; f < g.F; f++) {
    for (let c = 0; c < g.C; c++) for (let kh = 0; kh < g.KH; kh++) for (let kw = 0; kw < g.KW; kw++) {
      let s = 0;
      for (let n = 0; n < g.N; n++) for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) {
        s += dy[((n * g.F + f) * OH + oh) * OW + ow] * inputAt(g, x, n, c, oh, ow, kh, kw);
      }
      dwOut[((f * g.C + c) * g.KH + kh) * g.KW + kw] += s;
    }
    for (let n = 0; n < g.N; n++) for (let q = 0; q < OH * OW; q++) dbOut[f] += dy[(n * g.F + f) * OH * OW + q];
  }
  return [dwOut, dbOut];
}

// ---- pooling (no padding) ----

function poolOutput(H: number, W: number, KH: number, KW: number, sh: number, sw: number): [number, number] {
  return [Math.floor((H - KH) / sh) + 1, Math.floor((W - KW) / sw) + 1];
}

/** Window maxima and the plane index of each: the first maximum in row-major order; a NaN beats any number. */
export function maxPool2dForward(N: number, C: number, H: number, W: number, KH: number, KW: number, sh: number,
  sw: number, x: Arr): [Float64Array, Int32Array] {
  const [OH, OW] = poolOutput(H, W, KH, KW, sh, sw);
  const y = new Float64Array(N * C * OH * OW), arg = new Int32Array(N * C * OH * OW);
  for (let p = 0; p < N * C; p++) for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) {
    let best = -1, m = 0;
    for (let kh = 0; kh < KH; kh++) for (let kw = 0; kw < KW; kw++) {
      const i = (oh * sh + kh) * W + ow * sw + kw, v = x[p * H * W + i];
      const better = best < 0 || (Number.isNaN(v) ? !Number.isNaN(m) : v > m);
      if (better) { best = i; m = v; }
    }
    y[(p * OH + oh) * OW + ow] = m;
    arg[(p * OH + oh) * OW + ow] = best;
  }
  return [y, arg];
}

/** dx[argmax] += dy, from zero. */
export function maxPool2dBackward(N: number, C: number, H: number, W: number, OH: number, OW: number, dy: Arr,
  arg: Arr): Float64Array {
  const dx = new Float64Array(N * C * H * W);
  for (let p = 0; p < N * C; p++) for (let o = 0; o < OH * OW; o++) dx[p * H * W + arg[p * OH * OW + o]] += dy[p * OH * OW + o];
  return dx;
}

export function avgPool2dForward(N: number, C: number, H: number, W: number, KH: number, KW: number, sh: number,
  sw: number, x: Arr): Float64Array {
  const [OH, OW] = poolOutput(H, W, KH, KW, sh, sw);
  const y = new Float64Array(N * C * OH * OW);
  for (let p = 0; p < N * C; p++) for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) {
    let s = 0;
    for (let kh = 0; kh < KH; kh++) for (let kw = 0; kw < KW; kw++) s += x[p * H * W + (oh * sh + kh) * W + ow * sw + kw];
    y[(p * OH + oh) * OW + ow] = s / (KH * KW);
  }
  return y;
}

/** Every input gets dy / (KH KW) from each window that holds it. */
export function avgPool2dBackward(N: number, C: number, H: number, W: number, KH: number, KW: number, sh: number,
  sw: number, dy: Arr): Float64Array {
  const [OH, OW] = poolOutput(H, W, KH, KW, sh, sw);
  const dx = new Float64Array(N * C * H * W);
  for (let p = 0; p < N * C; p++) for (let ih = 0; ih < H; ih++) for (let iw = 0; iw < W; iw++) {
    let s = 0;
    for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) {
      const inside = ih >= oh * sh && ih < oh * sh + KH && iw >= ow * sw && iw < ow * sw + KW;
      if (inside) s += dy[(p * OH + oh) * OW + ow];
    }
    dx[(p * H + ih) * W + iw] = s / (KH * KW);
  }
  return dx;
}

// ---- batch normalization over x (N, C, S) ----

export interface BatchNormForward { y: Float64Array; mean: Float64Array; invstd: Float64Array;
  runningMean: Float64Array; runningVar: Float64Array }

/** Training: batch mean and biased variance normalize; the running ones move by momentum toward the batch mean
 * and unbiased variance. Eval: the running ones normalize and stay. */
export function batchNormForward(N: number, C: number, S: number, x: Arr, gamma: Arr, beta: Arr, runningMean: Arr,
  runningVar: Arr, training: boolean, momentum: number, eps: number): BatchNormForward {
  const y = new Float64Array(N * C * S), mean = new Float64Array(C), invstd = new Float64Array(C);
  const rm = Float64Array.from(runningMean), rv = Float64Array.from(runningVar);
  const count = N * S;
  for (let c = 0; c < C; c++) {
    let mu: number, v: number;
    if (training) {
      let s = 0;
      for (let n = 0; n < N; n++) for (let i = 0; i < S; i++) s += x[(n * C + c) * S + i];
      mu = s / count;
      let q = 0;
      for (let n = 0; n < N; n++) for (let i = 0; i < S; i++) q += (x[(n * C + c) * S + i] - mu) ** 2;
      v = q / count;
      rm[c] = (1 - momentum) * rm[c] + momentum * mu;
      rv[c] = (1 - momentum) * rv[c] + momentum * (q / (count - 1));
    } else {
      mu = runningMean[c];
      v = runningVar[c];
    }
    mean[c] = mu;
    invstd[c] = 1 / Math.sqrt(v + eps);
    for (let n = 0; n < N; n++) for (let i = 0; i < S; i++) {
      const k = (n * C + c) * S + i;
      y[k] = gamma[c] * (x[k] - mu) * invstd[c] + beta[c];
    }
  }
  return { y, mean, invstd, runningMean: rm, runningVar: rv };
}

/** dx of y = gamma xhat + beta, with xhat = (x - mean) invstd; in training mean and invstd depend on x too. */
export function batchNormBackward(N: number, C: number, S: number, x: Arr, dy: Arr, gamma: Arr, mean: Arr,
  invstd: Arr, dgamma: Arr, dbeta: Arr, training: boolean): [Float64Array, Float64Array, Float64Array] {
  const dx = new Float64Array(N * C * S), dg = Float64Array.from(dgamma), dbt = Float64Array.from(dbeta);
  const m = N * S;
  for (let c = 0; c < C; c++) {
    let sdy = 0, sdyx = 0;
    for (let n = 0; n < N; n++) for (let i = 0; i < S; i++) {
      const k = (n * C + c) * S + i;
      sdy += dy[k];
      sdyx += dy[k] * (x[k] - mean[c]) * invstd[c];
    }
    dg[c] += sdyx;
    dbt[c] += sdy;
    for (let n = 0; n < N; n++) for (let i = 0; i < S; i++) {
      const k = (n * C + c) * S + i, xhat = (x[k] - mean[c]) * invstd[c];
      dx[k] = training ? (gamma[c] * invstd[c] / m) * (m * dy[k] - sdy - xhat * sdyx) : gamma[c] * invstd[c] * dy[k];
    }
  }
  return [dx, dg, dbt];
}

/** Each row of x (rows, n) normalized with its mean and biased variance, times gamma plus beta (null: 1, 0). */
export function layerNormForward(rows: number, n: number, x: Arr, gamma: Arr | null, beta: Arr | null,
  eps: number): { y: Float64Array; mean: Float64Array; rstd: Float64Array } {
  const y = new Float64Array(rows * n), mean = new Float64Array(rows), rstd = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += x[r * n + i];
    const mu = s / n;
    let q = 0;
    for (let i = 0; i < n; i++) q += (x[r * n + i] - mu) ** 2;
    mean[r] = mu;
    rstd[r] = 1 / Math.sqrt(q / n + eps);
    for (let i = 0; i < n; i++) y[r * n + i] = (x[r * n + i] - mu) * rstd[r] * (gamma ? gamma[i] : 1) + (beta ? beta[i] : 0);
  }
  return { y, mean, rstd };
}

/** dx of y = gamma xhat + beta per row (mean and rstd depend on the row); dgamma += Σ dy xhat, dbeta += Σ dy. */
export function layerNormBackward(rows: number, n: number, x: Arr, dy: Arr, gamma: Arr | null, mean: Arr, rstd: Arr,
  dgamma: Arr, dbeta: Arr): [Float64Array, Float64Array, Float64Array] {
  const dx = new Float64Array(rows * n), dg = Float64Array.from(dgamma), db = Float64Array.from(dbeta);
  for (let r = 0; r < rows; r++) {
    let sg = 0, sgx = 0;
    for (let i = 0; i < n; i++) {
      const k = r * n + i, xhat = (x[k] - mean[r]) * rstd[r], g = dy[k] * (gamma ? gamma[i] : 1);
      sg += g;
      sgx += g * xhat;
      dg[i] += dy[k] * xhat;
      db[i] += dy[k];
    }
    for (let i = 0; i < n; i++) {
      const k = r * n + i, xhat = (x[k] - mean[r]) * rstd[r], g = dy[k] * (gamma ? gamma[i] : 1);
      dx[k] = rstd[r] / n * (n * g - sg - xhat * sgx);
    }
  }
  return [dx, dg, db];
}

/** −Σ t·log(p + eps) / rows, with 0·log 0 = 0; grad = −t / (p + eps) / rows. */
export function crossEntropyProbs(rows: number, p: Arr, t: Arr, eps: number): [number, Float64Array] {
  const grad = new Float64Array(p.length);
  let loss = 0;
  for (let i = 0; i < p.length; i++) {
    if (t[i] === 0) continue;
    loss -= t[i] * Math.log(p[i] + eps);
    grad[i] = -t[i] / (p[i] + eps) / rows;
  }
  return [loss / rows, grad];
}

/** Backward of y = x^e: dx = dy·e·x^(e−1) (0 where e = 0), de = dy·x^e·ln x (0 where x = 0 and e ≥ 0). */
export function powerBackward(x: Arr, e: Arr, dy: Arr): [Float64Array, Float64Array] {
  const dx = new Float64Array(x.length), de = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    dx[i] = e[i] === 0 ? 0 : dy[i] * e[i] * x[i] ** (e[i] - 1);
    de[i] = x[i] === 0 && e[i] >= 0 ? 0 : dy[i] * x[i] ** e[i] * Math.log(x[i]);
  }
  return [dx, de];
}

// ---- broadcast element-wise operations and unary maps ----

export type BinaryOpName = 'add' | 'sub' | 'mul' | 'div' | 'pow' | 'maximum' | 'minimum' | 'gt' | 'ge' | 'lt' | 'le'
  | 'eq' | 'ne';

/** The operations as their definitions: IEEE arithmetic, NaN-propagating max/min, 0/1 comparisons. */
export function binaryScalar(op: BinaryOpName, a: number, b: number): number {
  switch (op) {
    case 'add': return a + b;
    case 'sub': return a - b;
    case 'mul': return a * b;
    case 'div': return a / b;
    case 'pow': return a === 1 || (a === -1 && Math.abs(b) === Infinity) ? 1 : a ** b;  // C99's pow (NumPy)
    case 'maximum': return Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.max(a, b);
    case 'minimum': return Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.min(a, b);
    case 'gt': return Number(a > b);
    case 'ge': return Number(a >= b);
    case 'lt': return Number(a < b);
    case 'le': return Number(a <= b);
    case 'eq': return Number(a === b);
    case 'ne': return Number(a !== b);
  }
}

/**
 * The NumPy broadcast of operands of shapes `shapes` (any ranks): every output element's multi-index, unravelled
 * and mapped into each operand (index 0 on its size-1 axes), calls f with the operands' values.
 */
export function broadcastMap(shapes: number[][], arrays: Arr[], f: (...v: number[]) => number): { shape: number[]; y: Float64Array } {
  const rank = Math.max(...shapes.map((s) => s.length));
  const padded = shapes.map((s) => [...new Array<number>(rank - s.length).fill(1), ...s]);
  const shape = Array.from({ length: rank }, (_, i) => Math.max(...padded.map((s) => s[i])));
  if (padded.some((s) => s.some((d) => d === 0))) shape.forEach((_, i) => { if (padded.some((s) => s[i] === 0)) shape[i] = 0; });
  const size = shape.reduce((p, d) => p * d, 1);
  const y = new Float64Array(size);
  const index = new Array<number>(rank).fill(0);
  for (let k = 0; k < size; k++) {
    let rest = k;
    for (let i = rank - 1; i >= 0; i--) {
      index[i] = rest % shape[i];
      rest = Math.floor(rest / shape[i]);
    }
    const values = padded.map((s, o) => {
      let off = 0;
      for (let i = 0; i < rank; i++) off = off * s[i] + (s[i] === 1 ? 0 : index[i]);
      return arrays[o][off];
    });
    y[k] = f(...values);
  }
  return { shape, y };
}

/** erf to ~1e-15: the Maclaurin series below 2.5, the continued fraction of erfc above (Lentz's method). */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  let r: number;
  if (ax < 2.5) {
    let term = ax, sum = ax;
    for (let n = 1; n < 200 && Math.abs(term) > 1e-18; n++) {
      term *= (-ax * ax) / n;
      sum += term / (2 * n + 1);
    }
    r = (2 / Math.sqrt(Math.PI)) * sum;
  } else if (ax > 27) {
    r = 1;
  } else {
    // erfc(x) = e^(-x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + ...)))))
    const tiny = 1e-300;
    let f = ax, C = ax, D = 0;
    for (let n = 1; n < 500; n++) {
      const an = n / 2;
      D = ax + an * D;
      D = D === 0 ? tiny : 1 / D;
      C = ax + an / C;
      if (C === 0) C = tiny;
      const delta = C * D;
      f *= delta;
      if (Math.abs(delta - 1) < 1e-16) break;
    }
    r = 1 - Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  }
  return x < 0 ? -r : r;
}

export type UnaryOpName = 'neg' | 'abs' | 'sign' | 'exp' | 'log' | 'log1p' | 'sqrt' | 'square' | 'relu' | 'leakyRelu'
  | 'sigmoid' | 'tanh' | 'step' | 'softplus' | 'gelu' | 'clamp';

/** The unary maps by their definitions (alpha: leakyRelu's slope and clamp's low bound; beta: clamp's high bound). */
export function unaryScalar(op: UnaryOpName, x: number, alpha: number, beta: number): number {
  switch (op) {
    case 'neg': return -x;
    case 'abs': return Math.abs(x);
    case 'sign': return Number.isNaN(x) || x === 0 ? x : Math.sign(x);
    case 'exp': return Math.exp(x);
    case 'log': return Math.log(x);
    case 'log1p': return Math.log1p(x);
    case 'sqrt': return Math.sqrt(x);
    case 'square': return x * x;
    case 'relu': return Number.isNaN(x) ? x : Math.max(x, 0);
    case 'leakyRelu': return x > 0 ? x : alpha * x;
    case 'sigmoid': return 1 / (1 + Math.exp(-x));
    case 'tanh': return Math.tanh(x);
    case 'step': return Number.isNaN(x) ? x : x > 0 ? 1 : 0;
    case 'softplus': return x > 30 ? x : Math.log(1 + Math.exp(x));
    case 'gelu': return 0.5 * x * (1 + erf(x / Math.SQRT2));
    case 'clamp': return Number.isNaN(x) ? x : Math.min(Math.max(x, alpha), beta);
  }
}

// ---- tensor operations on (outer, n, inner): the middle axis of x[(o * n + k) * inner + i]

/** The values x[o, 0..n, i] of one output position. */
function lane(x: Arr, outer: number, n: number, inner: number, o: number, i: number): number[] {
  return Array.from({ length: n }, (_, k) => x[(o * n + k) * inner + i]);
}

function perLane(outer: number, n: number, inner: number, x: Arr, f: (v: number[]) => number): Float64Array {
  const y = new Float64Array(outer * inner);
  for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) y[o * inner + i] = f(lane(x, outer, n, inner, o, i));
  return y;
}

/** y[o, i] = op of x[o, :, i]; NaN propagates; over no values the identity (mean NaN). */
export function reduceAxis(op: string, outer: number, n: number, inner: number, x: Arr): Float64Array {
  return perLane(outer, n, inner, x, (v) => {
    if (v.some(Number.isNaN)) return NaN;
    switch (op) {
      case 'sum': return v.reduce((s, a) => s + a, 0);
      case 'mean': return v.reduce((s, a) => s + a, 0) / v.length;
      case 'prod': return v.reduce((s, a) => s * a, 1);
      case 'max': return Math.max(...v);
      case 'min': return Math.min(...v);
      case 'logSumExp': {
        const m = Math.max(...v);
        if (!Number.isFinite(m)) return m;
        return m + Math.log(v.reduce((s, a) => s + Math.exp(a - m), 0));
      }
    }
    throw new Error(op);
  });
}

/** Σ (x − mean)² / max(n − ddof, 0), square-rooted if sqrt. */
export function varianceAxis(outer: number, n: number, inner: number, ddof: number, sqrt: boolean, x: Arr): Float64Array {
  return perLane(outer, n, inner, x, (v) => {
    const mean = v.reduce((s, a) => s + a, 0) / v.length;
    const r = v.reduce((s, a) => s + (a - mean) ** 2, 0) / Math.max(v.length - ddof, 0);
    return sqrt ? Math.sqrt(r) : r;
  });
}

/** The first index of the maximum (argmax) or minimum (argmin); the first NaN if any. */
export function argReduceAxis(op: string, outer: number, n: number, inner: number, x: Arr): Int32Array {
  return Int32Array.from(perLane(outer, n, inner, x, (v) => {
    const nan = v.findIndex(Number.isNaN);
    if (nan >= 0) return nan;
    const best = op === 'argmax' ? Math.max(...v) : Math.min(...v);
    return v.indexOf(best);
  }));
}

/** softmax (or log softmax) of each x[o, :, i]. */
export function softmaxAxis(log: boolean, outer: number, n: number, inner: number, x: Arr): Float64Array {
  const y = new Float64Array(outer * n * inner);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const v = lane(x, outer, n, inner, o, i);
      const m = v.reduce((a, b) => (Number.isNaN(b) || b > a ? b : a), -Infinity);
      const s = v.reduce((acc, a) => acc + Math.exp(a - m), 0);
      v.forEach((a, k) => { y[(o * n + k) * inner + i] = log ? a - m - Math.log(s) : Math.exp(a - m) / s; });
    }
  }
  return y;
}

/** C[b] = op(A[b]) op(B[b]), each through the gemm reference above. */
export function gemmBatched(transA: boolean, transB: boolean, batch: number, M: number, N: number, K: number,
  broadcastA: boolean, broadcastB: boolean, A: Arr, B: Arr): Float64Array {
  const C = new Float64Array(batch * M * N);
  const part = (a: Arr, b: number, size: number, broadcast: boolean) =>
    Array.prototype.slice.call(a, broadcast ? 0 : b * size, broadcast ? size : (b + 1) * size) as number[];
  for (let b = 0; b < batch; b++) {
    C.set(gemm(transA, transB, M, N, K, 1, part(A, b, M * K, broadcastA), part(B, b, K * N, broadcastB), 0,
      new Float64Array(M * N)), b * M * N);
  }
  return C;
}

/** x (outer, m, mid, n, inner) -> y (outer, n, mid, m, inner). */
export function swapAxes(outer: number, m: number, mid: number, n: number, inner: number, x: Arr): Float64Array {
  const y = new Float64Array(outer * m * mid * n * inner);
  let at = 0;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < m; i++) {
      for (let c = 0; c < mid; c++) {
        for (let j = 0; j < n; j++) {
          for (let k = 0; k < inner; k++) y[(((o * n + j) * mid + c) * m + i) * inner + k] = x[at++];
        }
      }
    }
  }
  return y;
}

/** y[o, j, i] = x[o, index[j], i]. */
export function gatherAxis(outer: number, n: number, inner: number, index: ArrayLike<number>, x: Arr): Float64Array {
  const y = new Float64Array(outer * index.length * inner);
  let at = 0;
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < index.length; j++) for (let i = 0; i < inner; i++) y[at++] = x[(o * n + index[j]) * inner + i];
  }
  return y;
}

/** y (given) with y[o, index[j], i] = x[o, j, i], or += when accumulate, for j in order. */
export function scatterAxis(outer: number, n: number, inner: number, index: ArrayLike<number>, x: Arr, y0: Arr,
  accumulate: boolean): Float64Array {
  const y = Float64Array.from(y0);
  let at = 0;
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < index.length; j++) {
      for (let i = 0; i < inner; i++) {
        const to = (o * n + index[j]) * inner + i;
        y[to] = accumulate ? y[to] + x[at++] : x[at++];
      }
    }
  }
  return y;
}

export function oneHot(depth: number, index: ArrayLike<number>): Float64Array {
  const y = new Float64Array(index.length * depth);
  for (let r = 0; r < index.length; r++) y[r * depth + index[r]] = 1;
  return y;
}

/** The positions of the nonzero (or NaN) values. */
export function nonzeroIndices(mask: Arr): Int32Array {
  return Int32Array.from(Array.from(mask).flatMap((v, k) => (v !== 0 ? [k] : [])));
}

// ---- image augmentation of x (N, C, H, W) ----

/** The pixel (h, w) of plane p, or 0 outside the image. */
function pixel(x: Arr, p: number, H: number, W: number, h: number, w: number): number {
  return h >= 0 && h < H && w >= 0 && w < W ? x[(p * H + h) * W + w] : 0;
}

/** y[n, c, h, w] = x[n, c, h - shiftH[n], w - shiftW[n]], 0 outside. */
export function translate2d(N: number, C: number, H: number, W: number, x: Arr, shiftH: Arr, shiftW: Arr): Float64Array {
  const y = new Float64Array(N * C * H * W);
  for (let p = 0; p < N * C; p++) {
    const n = Math.floor(p / C);
    for (let h = 0; h < H; h++) {
      for (let w = 0; w < W; w++) y[(p * H + h) * W + w] = pixel(x, p, H, W, h - shiftH[n], w - shiftW[n]);
    }
  }
  return y;
}

/** y[n, c, h, w] = x[n, c, h, W - 1 - w] where flags[n] != 0, else x[n, c, h, w]. */
export function flip2d(N: number, C: number, H: number, W: number, x: Arr, flags: Arr): Float64Array {
  const y = new Float64Array(N * C * H * W);
  for (let p = 0; p < N * C; p++) {
    const flip = flags[Math.floor(p / C)] !== 0;
    for (let h = 0; h < H; h++) {
      for (let w = 0; w < W; w++) y[(p * H + h) * W + w] = x[(p * H + h) * W + (flip ? W - 1 - w : w)];
    }
  }
  return y;
}

/** Bilinear sampling at (m0 w + m1 h + m2, m3 w + m4 h + m5) with zero padding: Σ over the four taps of weight · value. */
export function affine2d(N: number, C: number, H: number, W: number, x: Arr, m: Arr[]): Float64Array {
  const y = new Float64Array(N * C * H * W);
  for (let p = 0; p < N * C; p++) {
    const n = Math.floor(p / C);
    for (let h = 0; h < H; h++) {
      for (let w = 0; w < W; w++) {
        const sx = m[0][n] * w + m[1][n] * h + m[2][n], sy = m[3][n] * w + m[4][n] * h + m[5][n];
        let v = 0;
        const x0 = Math.floor(sx), y0 = Math.floor(sy);
        for (const [dy, dx] of [[0, 0], [0, 1], [1, 0], [1, 1]]) {
          const weight = (dy ? sy - y0 : 1 - (sy - y0)) * (dx ? sx - x0 : 1 - (sx - x0));
          if (weight !== 0) v += weight * pixel(x, p, H, W, y0 + dy, x0 + dx);
        }
        y[(p * H + h) * W + w] = Number.isFinite(sx) && Number.isFinite(sy) ? v : 0;
      }
    }
  }
  return y;
}

/** (x - mean[c]) / std[c]. */
export function normalizeChannels(N: number, C: number, S: number, x: Arr, mean: Arr, std: Arr): Float64Array {
  return Float64Array.from(x, (v, i) => (v - mean[Math.floor(i / S) % C]) / std[Math.floor(i / S) % C]);
}
