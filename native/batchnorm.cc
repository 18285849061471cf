// batchnorm.cc — batch normalization per channel of x (N, C, S): S = H*W for images, 1 for (N, C) features.
// Compiled once per ISA. Channels are independent tasks. Each plane of a channel is summed in vector lanes of T
// (at most S / L elements per lane), the lanes in order, and the planes into a double: a fixed order per ISA, so
// results never depend on the number of threads. The elementwise passes run in T. As in PyTorch: the batch variance
// normalizing in training is the biased one, the running variance is updated with the unbiased one, and running = (1 -
// momentum) running + momentum batch. The _relu kernels are BatchNorm followed by ReLU in one pass each way: the same
// operations as the two layers' kernels, the ReLU applied in register (forward) and its mask read from the fused
// output (backward), so the same bits without the intermediate arrays.
// Layer norm (below the batch norm) normalizes each row of x (rows, n) instead: see layer_norm_forward.
#include <math.h>

#include "chunks.h"
#include "kernels.h"
#include "scratch.h"
#include "simd.h"
#include "threads.h"

namespace nodenn {
namespace NODENN_ISA_NS {
namespace {

template <typename T> struct NormJob {
  long N, C, S;
  const T *x, *dy, *gamma, *beta, *y_in;
  T *y, *dx, *mean, *invstd, *running_mean, *running_var, *dgamma, *dbeta;
  bool training;
  T momentum, eps;
};

// The sums over one plane: of f(lanes of x) (a vector function), in lanes, then the lanes in order, then the tail.
template <typename T, typename F> inline double plane_sum(const T* x, long S, const F& f) {
  typedef typename Vec<T>::V V;
  typedef typename Vec<T>::U U;
  const long L = Vec<T>::L, Sv = S - S % L;
  V acc = V{};
  for (long i = 0; i < Sv; i += L) acc += f(*(const U*)(x + i), i);
  double s = 0;
  for (long l = 0; l < L; l++) s += acc[l];
  if (Sv < S) {
    const V t = f(load_partial(x + Sv, (int)(S - Sv)), Sv);
    for (long l = 0; l < S - Sv; l++) s += t[l];
  }
  return s;
}

// Relu: y = max(y, 0) as the ReLU layer applies it to the normalized value (NaN kept), in the same pass.
template <typename T, bool Relu> void forward_channel(void* ctx, long c) {
  typedef typename Vec<T>::V V;
  typedef typename Vec<T>::U U;
  NormJob<T>& j = *(NormJob<T>*)ctx;
  const long count = j.N * j.S, S = j.S, L = Vec<T>::L;
  double mean, invstd;
  if (j.training) {
    double s = 0;
    for (long n = 0; n < j.N; n++) s += plane_sum(j.x + (n * j.C + c) * S, S, [](V v, long) { return v; });
    mean = s / count;
    const T mt = (T)mean;
    double q = 0;
    for (long n = 0; n < j.N; n++)
      q += plane_sum(j.x + (n * j.C + c) * S, S, [mt](V v, long) {
        const V d = v - mt;
        return d * d;
      });
    const double var = q / count;
    invstd = 1 / sqrt(var + (double)j.eps);
    const double m = j.momentum;
    j.running_mean[c] = (T)((1 - m) * j.running_mean[c] + m * mean);
    j.running_var[c] = (T)((1 - m) * j.running_var[c] + m * (q / (count - 1)));
  } else {
    mean = j.running_mean[c];
    invstd = 1 / sqrt((double)j.running_var[c] + (double)j.eps);
  }
  j.mean[c] = (T)mean;
  j.invstd[c] = (T)invstd;
  const T mt = (T)mean, scale = (T)(j.gamma[c] * invstd), shift = j.beta[c];
  const long Sv = S - S % L;
  for (long n = 0; n < j.N; n++) {
    const T* x = j.x + (n * j.C + c) * S;
    T* y = j.y + (n * j.C + c) * S;
    for (long i = 0; i < Sv; i += L) {
      const V v = (*(const U*)(x + i) - mt) * scale + shift;
      *(U*)(y + i) = Relu && v < 0 ? V{} : v;
    }
    for (long i = Sv; i < S; i++) {
      const T v = (x[i] - mt) * scale + shift;
      y[i] = Relu && v < 0 ? 0 : v;
    }
  }
}

// Relu: dy where the fused forward's output y (n lanes of it, n <= L) is positive, else 0: the ReLU layer's gradient
// (relu(v) > 0 exactly when v > 0). Without, dy (y is not read).
template <bool Relu, typename V, typename T> inline V relu_mask(V dy, const T* y, long n) {
  if constexpr (Relu) {
    typedef typename Vec<T>::U U;
    const V v = n == Vec<T>::L ? *(const U*)y : load_partial(y, (int)n);
    return v > 0 ? dy : V{};
  } else {
    return dy;
  }
}

// Training: dx = gamma invstd / m (m dy - sum dy - xhat sum(dy xhat)), m = N*S; eval: dx = gamma invstd dy.
// Relu: dy is first masked to y_in > 0, as the ReLU layer's backward writes it (y_in the fused forward's output).
template <typename T, bool Relu> void backward_channel(void* ctx, long c) {
  typedef typename Vec<T>::V V;
  typedef typename Vec<T>::U U;
  NormJob<T>& j = *(NormJob<T>*)ctx;
  const long count = j.N * j.S, S = j.S, L = Vec<T>::L, Sv = S - S % L;
  const T mt = j.mean[c], it = j.invstd[c];
  // both sums in one pass over dy and x (lanes, then the lanes in order, then the planes in double)
  double sum_dy = 0, sum_dy_xhat = 0;
  for (long n = 0; n < j.N; n++) {
    const T* x = j.x + (n * j.C + c) * S;
    const T* dy = j.dy + (n * j.C + c) * S;
    const T* y = (Relu ? j.y_in : j.dy) + (n * j.C + c) * S;  // without Relu: not read
    V a = V{}, b = V{};
    for (long i = 0; i < Sv; i += L) {
      const V d = relu_mask<Relu>(*(const U*)(dy + i), y + i, L);
      a += d;
      b += d * ((*(const U*)(x + i) - mt) * it);
    }
    if (Sv < S) {  // the partial loads give zero lanes past S, which add nothing
      const V d = relu_mask<Relu>(load_partial(dy + Sv, (int)(S - Sv)), y + Sv, S - Sv);
      a += d;
      b += d * ((load_partial(x + Sv, (int)(S - Sv)) - mt) * it);
    }
    double sa = 0, sb = 0;
    for (long l = 0; l < L; l++) {
      sa += a[l];
      sb += b[l];
    }
    sum_dy += sa;
    sum_dy_xhat += sb;
  }
  j.dbeta[c] += (T)sum_dy;
  j.dgamma[c] += (T)sum_dy_xhat;
  const T k = (T)(j.gamma[c] * (double)it);
  const T mean_dy = (T)(j.training ? sum_dy / count : 0), mean_dy_xhat = (T)(j.training ? sum_dy_xhat / count : 0);
  for (long n = 0; n < j.N; n++) {
    const T* x = j.x + (n * j.C + c) * S;
    const T* dy = j.dy + (n * j.C + c) * S;
    const T* y = (Relu ? j.y_in : j.dy) + (n * j.C + c) * S;  // without Relu: not read
    T* dx = j.dx + (n * j.C + c) * S;
    for (long i = 0; i < Sv; i += L) {
      const V xhat = (*(const U*)(x + i) - mt) * it;
      *(U*)(dx + i) = k * (relu_mask<Relu>(*(const U*)(dy + i), y + i, L) - mean_dy - xhat * mean_dy_xhat);
    }
    for (long i = Sv; i < S; i++) {
      const T xhat = (x[i] - mt) * it;
      const T d = dy[i];
      dx[i] = k * ((!Relu || y[i] > 0 ? d : 0) - mean_dy - xhat * mean_dy_xhat);
    }
  }
}

// Below this many elements (N C S), the channels run on the calling thread: waking the pool would cost more.
const double kParallelElements = 32768;

template <typename T> void run_channels(NormJob<T>& j, TaskFn fn) {
  if ((double)j.N * j.S * j.C < kParallelElements) {
    for (long c = 0; c < j.C; c++) fn(&j, c);
  } else {
    parallel_for(j.C, fn, &j);
  }
}

template <typename T>
NormJob<T> forward_job(long N, long C, long S, const T* x, const T* gamma, const T* beta, T* y, T* mean, T* invstd,
                       T* running_mean, T* running_var, bool training, T momentum, T eps) {
  NormJob<T> j{};
  // No elements (eval allows S = 0): N empty planes (up to 2^30) would cost seconds per channel.
  j.N = S == 0 ? 0 : N;
  j.C = C;
  j.S = S;
  j.x = x;
  j.gamma = gamma;
  j.beta = beta;
  j.y = y;
  j.mean = mean;
  j.invstd = invstd;
  j.running_mean = running_mean;
  j.running_var = running_var;
  j.training = training;
  j.momentum = momentum;
  j.eps = eps;
  return j;
}

template <typename T>
NormJob<T> backward_job(long N, long C, long S, const T* x, const T* y, const T* dy, const T* gamma, const T* mean,
                        const T* invstd, T* dx, T* dgamma, T* dbeta, bool training) {
  NormJob<T> j{};
  // No elements: the sums are +0 either way, and N empty planes (up to 2^30) would cost seconds per channel.
  j.N = S == 0 ? 0 : N;
  j.C = C;
  j.S = S;
  j.x = x;
  j.y_in = y;
  j.dy = dy;
  j.gamma = gamma;
  j.mean = (T*)mean;
  j.invstd = (T*)invstd;
  j.dx = dx;
  j.dgamma = dgamma;
  j.dbeta = dbeta;
  j.training = training;
  return j;
}

// ---- layer norm of the rows of x (rows, n). Rows run in tasks of j.block rows (layer_norm_job: fixed by the sizes);
// a row's sums run in vector lanes of T, the lanes then in order into a double, the tail after them. The weight
// gradients are summed per task into its own partial sums (T), which the calling thread then adds in task order
// (double): results never depend on the number of threads.

template <typename T> struct LayerNormJob {
  long rows, n, block, tasks;
  const T *x, *dy, *gamma, *beta;
  T *y, *dx, *mean, *rstd;
  // per task: n sums of dy xhat, then n of dy (null when neither weight gradient is asked for)
  T* partial;
  T eps;
};

// A job over the rows of x (rows, n), the fields both directions share set and the others null. Rows per task: about
// kChunk elements, and at least 16 rows, so that the partial sums stay small next to x.
template <typename T>
LayerNormJob<T> layer_norm_job(long rows, long n, const T* x, const T* gamma, const T* mean, const T* rstd) {
  LayerNormJob<T> j{};
  j.rows = rows;
  j.n = n;
  const long block = (kChunk + n - 1) / (n > 0 ? n : 1);
  j.block = block < 16 ? 16 : block;
  j.tasks = (rows + j.block - 1) / j.block;
  j.x = x;
  j.gamma = gamma;
  j.mean = (T*)mean;
  j.rstd = (T*)rstd;
  return j;
}

template <typename T> void layer_norm_forward_row(const LayerNormJob<T>& j, long r) {
  typedef typename Vec<T>::V V;
  typedef typename Vec<T>::U U;
  const long n = j.n, L = Vec<T>::L, nv = n - n % L;
  const T* x = j.x + r * n;
  T* y = j.y + r * n;
  const double mean = plane_sum(x, n, [](V v, long) { return v; }) / n;
  const T mt = (T)mean;
  const double q = plane_sum(x, n, [mt](V v, long) {
    const V d = v - mt;
    return d * d;
  });
  const T it = (T)(1 / sqrt(q / n + (double)j.eps));
  j.mean[r] = mt;
  j.rstd[r] = it;
  const T *g = j.gamma, *b = j.beta;
  for (long i = 0; i < nv; i += L) {
    V v = (*(const U*)(x + i) - mt) * it;
    if (g) v *= *(const U*)(g + i);
    if (b) v += *(const U*)(b + i);
    *(U*)(y + i) = v;
  }
  for (long i = nv; i < n; i++) {
    T v = (x[i] - mt) * it;
    if (g) v *= g[i];
    if (b) v += b[i];
    y[i] = v;
  }
}

// dx = rstd (g - mean(g) - xhat mean(g xhat)) per row, g = dy gamma; the task's partial sums of dy xhat and dy.
template <typename T> void layer_norm_backward_task(const LayerNormJob<T>& j, long t) {
  typedef typename Vec<T>::V V;
  typedef typename Vec<T>::U U;
  const long n = j.n, L = Vec<T>::L, nv = n - n % L;
  const long first = t * j.block, end = first + j.block < j.rows ? first + j.block : j.rows;
  T* pg = j.partial ? j.partial + t * 2 * n : nullptr;
  T* pb = pg ? pg + n : nullptr;
  if (pg)
    for (long i = 0; i < 2 * n; i++) pg[i] = 0;
  const T* gamma = j.gamma;
  for (long r = first; r < end; r++) {
    const T* x = j.x + r * n;
    const T* dy = j.dy + r * n;
    T* dx = j.dx + r * n;
    const T mt = j.mean[r], it = j.rstd[r];
    // both row sums in one pass, with the task's weight-gradient sums (dx may be dy: written in the second pass)
    V a = V{}, b = V{};
    for (long i = 0; i < nv; i += L) {
      const V d = *(const U*)(dy + i), xhat = (*(const U*)(x + i) - mt) * it;
      const V g = gamma ? d * *(const U*)(gamma + i) : d;
      a += g;
      b += g * xhat;
      if (pg) {
        *(U*)(pg + i) += d * xhat;
        *(U*)(pb + i) += d;
      }
    }
    double sum_g = 0, sum_g_xhat = 0;
    for (long l = 0; l < L; l++) {
      sum_g += a[l];
      sum_g_xhat += b[l];
    }
    for (long i = nv; i < n; i++) {
      const T d = dy[i], xhat = (x[i] - mt) * it;
      const T g = gamma ? d * gamma[i] : d;
      sum_g += g;
      sum_g_xhat += g * xhat;
      if (pg) {
        pg[i] += d * xhat;
        pb[i] += d;
      }
    }
    const T mean_g = (T)(sum_g / n), mean_g_xhat = (T)(sum_g_xhat / n);
    for (long i = 0; i < nv; i += L) {
      const V d = *(const U*)(dy + i), xhat = (*(const U*)(x + i) - mt) * it;
      const V g = gamma ? d * *(const U*)(gamma + i) : d;
      *(U*)(dx + i) = it * (g - mean_g - xhat * mean_g_xhat);
    }
    for (long i = nv; i < n; i++) {
      const T d = dy[i], xhat = (x[i] - mt) * it;
      const T g = gamma ? d * gamma[i] : d;
      dx[i] = it * (g - mean_g - xhat * mean_g_xhat);
    }
  }
}

thread_local Scratch layer_norm_partial;

}  // namespace

template <typename T>
void batch_norm_forward(long N, long C, long S, const T* x, const T* gamma, const T* beta, T* y, T* mean, T* invstd,
                        T* running_mean, T* running_var, bool training, T momentum, T eps) {
  NormJob<T> j =
      forward_job(N, C, S, x, gamma, beta, y, mean, invstd, running_mean, running_var, training, momentum, eps);
  run_channels(j, forward_channel<T, false>);
}

template <typename T>
void batch_norm_backward(long N, long C, long S, const T* x, const T* dy, const T* gamma, const T* mean,
                         const T* invstd, T* dx, T* dgamma, T* dbeta, bool training) {
  NormJob<T> j = backward_job<T>(N, C, S, x, nullptr, dy, gamma, mean, invstd, dx, dgamma, dbeta, training);
  run_channels(j, backward_channel<T, false>);
}

template <typename T>
void batch_norm_relu_forward(long N, long C, long S, const T* x, const T* gamma, const T* beta, T* y, T* mean,
                             T* invstd, T* running_mean, T* running_var, bool training, T momentum, T eps) {
  NormJob<T> j =
      forward_job(N, C, S, x, gamma, beta, y, mean, invstd, running_mean, running_var, training, momentum, eps);
  run_channels(j, forward_channel<T, true>);
}

template <typename T>
void batch_norm_relu_backward(long N, long C, long S, const T* x, const T* y, const T* dy, const T* gamma,
                              const T* mean, const T* invstd, T* dx, T* dgamma, T* dbeta, bool training) {
  NormJob<T> j = backward_job(N, C, S, x, y, dy, gamma, mean, invstd, dx, dgamma, dbeta, training);
  run_channels(j, backward_channel<T, true>);
}

template <typename T>
void layer_norm_forward(long rows, long n, const T* x, const T* gamma, const T* beta, T* y, T* mean, T* rstd, T eps) {
  LayerNormJob<T> j = layer_norm_job(rows, n, x, gamma, mean, rstd);
  j.beta = beta;
  j.y = y;
  j.eps = eps;
  for_tasks(j.tasks, rows * n, [&j](long t) {
    const long end = (t + 1) * j.block < j.rows ? (t + 1) * j.block : j.rows;
    for (long r = t * j.block; r < end; r++) layer_norm_forward_row(j, r);
  });
}

template <typename T>
bool layer_norm_backward(long rows, long n, const T* x, const T* dy, const T* gamma, const T* mean, const T* rstd,
                         T* dx, T* dgamma, T* dbeta) {
  LayerNormJob<T> j = layer_norm_job(rows, n, x, gamma, mean, rstd);
  j.dy = dy;
  j.dx = dx;
  if (j.tasks > 0 && (dgamma || dbeta)) {
    j.partial = (T*)layer_norm_partial.reserve((size_t)j.tasks * 2 * n * sizeof(T));
    if (!j.partial) return false;
  }
  for_tasks(j.tasks, rows * n, [&j](long t) { layer_norm_backward_task(j, t); });
  if (!j.partial) return true;
  for (long i = 0; i < n; i++) {
    double sg = 0, sb = 0;
    for (long t = 0; t < j.tasks; t++) {
      sg += j.partial[t * 2 * n + i];
      sb += j.partial[t * 2 * n + n + i];
    }
    if (dgamma) dgamma[i] += (T)sg;
    if (dbeta) dbeta[i] += (T)sb;
  }
  return true;
}

NODENN_KERNELS_BATCHNORM(NODENN_INSTANTIATE)

}  // namespace NODENN_ISA_NS
}  // namespace nodenn
