// batchnorm.cc — batch normalization per channel of x (N, C, S): S = H*W for images, 1 for (N, C) features.
// Compiled once per ISA. Channels are independent tasks and each channel's sums run in a fixed order in double,
// so results never depend on the number of threads. As in PyTorch: the batch variance normalizing in training
// is the biased one, the running variance is updated with the unbiased one, and
// running = (1 - momentum) running + momentum batch.
#include <math.h>

#include "kernels.h"
#include "threads.h"

namespace nodenn {
namespace NODENN_ISA_NS {
namespace {

template <typename T> struct NormJob {
  long N, C, S;
  const T *x, *dy, *gamma, *beta;
  T *y, *dx, *mean, *invstd, *running_mean, *running_var, *dgamma, *dbeta;
  bool training;
  T momentum, eps;
};

template <typename T> void forward_channel(void* ctx, long c) {
  NormJob<T>& j = *(NormJob<T>*)ctx;
  const long count = j.N * j.S;
  double mean, invstd;
  if (j.training) {
    double s = 0;
    for (long n = 0; n < j.N; n++) {
      const T* x = j.x + (n * j.C + c) * j.S;
      for (long i = 0; i < j.S; i++) s += x[i];
    }
    mean = s / count;
    double q = 0;
    for (long n = 0; n < j.N; n++) {
      const T* x = j.x + (n * j.C + c) * j.S;
      for (long i = 0; i < j.S; i++) q += (x[i] - mean) * (x[i] - mean);
    }
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
  const double scale = j.gamma[c] * invstd, shift = j.beta[c];
  for (long n = 0; n < j.N; n++) {
    const T* x = j.x + (n * j.C + c) * j.S;
    T* y = j.y + (n * j.C + c) * j.S;
    for (long i = 0; i < j.S; i++) y[i] = (T)((x[i] - mean) * scale + shift);
  }
}

// Training: dx = gamma invstd / m (m dy - sum dy - xhat sum(dy xhat)), m = N*S; eval: dx = gamma invstd dy.
template <typename T> void backward_channel(void* ctx, long c) {
  NormJob<T>& j = *(NormJob<T>*)ctx;
  const long count = j.N * j.S;
  const double mean = j.mean[c], invstd = j.invstd[c];
  double sum_dy = 0, sum_dy_xhat = 0;
  for (long n = 0; n < j.N; n++) {
    const T* x = j.x + (n * j.C + c) * j.S;
    const T* dy = j.dy + (n * j.C + c) * j.S;
    for (long i = 0; i < j.S; i++) {
      sum_dy += dy[i];
      sum_dy_xhat += dy[i] * ((x[i] - mean) * invstd);
    }
  }
  j.dbeta[c] += (T)sum_dy;
  j.dgamma[c] += (T)sum_dy_xhat;
  const double k = j.gamma[c] * invstd;
  const double mean_dy = j.training ? sum_dy / count : 0, mean_dy_xhat = j.training ? sum_dy_xhat / count : 0;
  for (long n = 0; n < j.N; n++) {
    const T* x = j.x + (n * j.C + c) * j.S;
    const T* dy = j.dy + (n * j.C + c) * j.S;
    T* dx = j.dx + (n * j.C + c) * j.S;
    for (long i = 0; i < j.S; i++) {
      const double xhat = (x[i] - mean) * invstd;
      dx[i] = (T)(k * (dy[i] - mean_dy - xhat * mean_dy_xhat));
    }
  }
}

template <typename T> void run_channels(NormJob<T>& j, TaskFn fn) {
  if ((double)j.N * j.S * j.C < 32768) {
    for (long c = 0; c < j.C; c++) fn(&j, c);
  } else {
    parallel_for(j.C, fn, &j);
  }
}

}  // namespace

template <typename T>
void batch_norm_forward(long N, long C, long S, const T* x, const T* gamma, const T* beta, T* y, T* mean, T* invstd,
                        T* running_mean, T* running_var, bool training, T momentum, T eps) {
  NormJob<T> j{};
  j.N = N;
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
  run_channels(j, forward_channel<T>);
}

template <typename T>
void batch_norm_backward(long N, long C, long S, const T* x, const T* dy, const T* gamma, const T* mean,
                         const T* invstd, T* dx, T* dgamma, T* dbeta, bool training) {
  NormJob<T> j{};
  j.N = N;
  j.C = C;
  j.S = S;
  j.x = x;
  j.dy = dy;
  j.gamma = gamma;
  j.mean = (T*)mean;
  j.invstd = (T*)invstd;
  j.dx = dx;
  j.dgamma = dgamma;
  j.dbeta = dbeta;
  j.training = training;
  run_channels(j, backward_channel<T>);
}

#define NODENN_NORM_INSTANTIATE(T)                                                                          \
  template void batch_norm_forward<T>(long, long, long, const T*, const T*, const T*, T*, T*, T*, T*, T*, bool, \
                                      T, T);                                                                 \
  template void batch_norm_backward<T>(long, long, long, const T*, const T*, const T*, const T*, const T*, T*, \
                                       T*, T*, bool);
NODENN_NORM_INSTANTIATE(float)
NODENN_NORM_INSTANTIATE(double)

}  // namespace NODENN_ISA_NS
}  // namespace nodenn
