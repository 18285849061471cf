// The kernel table. Every kernel exists once per ISA (namespaces scalar, avx2, avx512), compiled from the same
// sources with different flags; dispatch.cc picks one table at load time. All sizes are validated by addon.cc
// before a kernel is called: kernels trust their arguments.
#pragma once
#include <stdint.h>

namespace nodenn {

enum Activation { kRelu = 0, kLeakyRelu = 1, kSigmoid = 2, kTanh = 3, kStep = 4 };

// conv kernels: the geometry of one convolution / pooling call, validated by addon.cc.
struct ConvShape {
  long N, C, H, W;    // input
  long F, KH, KW;     // filters
  long sh, sw, ph, pw;  // stride and zero padding per axis
  long OH, OW;        // output: 1 + (H + 2 ph - KH) / sh, ...
};
struct PoolShape {
  long N, C, H, W;  // input
  long KH, KW, sh, sw;
  long OH, OW;      // 1 + (H - KH) / sh, ...
};

#define NODENN_KERNELS_FOR(T, S)                                                                              \
  /* C = alpha op(A) op(B) + beta C; op(A) M x K, op(B) K x N; row-major; false when out of memory */\
  bool (*gemm_##S)(bool trans_a, bool trans_b, long M, long N, long K, T alpha, const T* A, long lda,         \
                   const T* B, long ldb, T beta, T* C, long ldc);                                            \
  /* y = act(x) over n elements (y may be x) */                                                              \
  void (*activation_forward_##S)(int kind, long n, const T* x, T* y, T slope);                               \
  /* dx = dy * act'(x) (relu, leaky relu use x; sigmoid, tanh use y; step: 0); dx may be dy */               \
  void (*activation_backward_##S)(int kind, long n, const T* x, const T* y, const T* dy, T* dx, T slope);    \
  /* y[r, c] += bias[c] */                                                                                   \
  void (*bias_add_##S)(long rows, long cols, T* y, const T* bias);                                           \
  /* dbias[c] += sum_r dy[r, c], summed in row order */                                                      \
  void (*bias_backward_##S)(long rows, long cols, const T* dy, T* dbias);                                    \
  /* y = softmax(x) row by row */                                                                            \
  void (*softmax_##S)(long rows, long cols, const T* x, T* y);                                               \
  /* mean cross-entropy of softmax(logits) against label indices; grad = (p - onehot) / rows if not null */  \
  double (*softmax_cross_entropy_index_##S)(long rows, long cols, const T* logits, const int32_t* labels,    \
                                            T* grad);                                                        \
  /* the same against target distributions (one-hot or soft) */                                             \
  double (*softmax_cross_entropy_target_##S)(long rows, long cols, const T* logits, const T* targets,        \
                                             T* grad);                                                       \
  /* p -= lr * g */                                                                                          \
  void (*sgd_##S)(long n, T* p, const T* g, T lr);                                                           \
  /* net kernels: ops.cc */                                                                                  \
  void (*mul_##S)(long n, const T* a, const T* b, T* y);                                                     \
  void (*add_##S)(long n, const T* a, const T* b, T* y);                                                     \
  void (*div_##S)(long n, const T* a, const T* b, T* y);                                                     \
  void (*power_##S)(long n, const T* a, const T* b, T* y);                                                   \
  void (*power_backward_##S)(long n, const T* x, const T* e, const T* dy, T* dx, T* de);                     \
  void (*scale_##S)(long n, T* x, T alpha);                                                                  \
  void (*axpy_##S)(long n, T alpha, const T* x, T* y);                                                       \
  double (*sum_squares_##S)(long n, const T* x);                                                             \
  void (*argmax_rows_##S)(long rows, long cols, const T* x, int32_t* out);                                   \
  void (*softmax_backward_##S)(long rows, long cols, const T* y, const T* dy, T* dx);                        \
  /* net kernels: loss.cc (mean loss; grad written unless null) */                                          \
  double (*bce_logits_##S)(long n, const T* logits, const T* targets, T* grad);                              \
  double (*bce_probs_##S)(long n, const T* probs, const T* targets, double eps, T* grad);                     \
  double (*mse_##S)(long rows, long cols, const T* pred, const T* target, bool half, T* grad);               \
  double (*cross_entropy_probs_##S)(long rows, long cols, const T* probs, const T* targets, double eps,      \
                                    T* grad);                                                                \
  /* net kernels: optim.cc (fused, in place) */                                                              \
  void (*sgd_momentum_##S)(long n, T* p, const T* g, T* v, double lr, double momentum, bool nesterov);       \
  void (*adagrad_##S)(long n, T* p, const T* g, T* h, double lr, double eps);                                \
  void (*rmsprop_##S)(long n, T* p, const T* g, T* h, double lr, double decay, double eps);                  \
  void (*adam_##S)(long n, T* p, const T* g, T* m, T* v, double lr, double beta1, double beta2, double eps,  \
                   long t, double weight_decay);                                                              \
  /* conv kernels: x (N,C,H,W), w (F,C,KH,KW), y (N,F,OH,OW); false when out of memory */                   \
  /* y = conv(x, w) + b (b may be null) */                                                                   \
  bool (*conv2d_forward_##S)(const ConvShape& g, const T* x, const T* w, const T* b, T* y, bool relu, bool pool);                  \
  /* dx = conv_transpose(dy, w) (overwrites dx) */                                                           \
  bool (*conv2d_backward_data_##S)(const ConvShape& g, const T* dy, const T* w, T* dx);                      \
  /* dw += sum_n dy_n (x) x_n, db += sum dy (db may be null); batch summed in fixed chunks, in order */      \
  bool (*conv2d_backward_filter_##S)(const ConvShape& g, const T* x, const T* dy, T* dw, T* db);             \
  /* pooling over (N*C) planes of H x W; windows KH x KW every (sh, sw); argmax = first max, plane index */  \
  void (*max_pool2d_forward_##S)(const PoolShape& g, const T* x, T* y, int32_t* argmax);                     \
  /* dx = 0, then dx[argmax] += dy */                                                                        \
  void (*max_pool2d_backward_##S)(const PoolShape& g, const T* dy, const int32_t* argmax, T* dx);           \
  void (*avg_pool2d_forward_##S)(const PoolShape& g, const T* x, T* y);                                      \
  /* dx = 0, then every window's dx += dy / (KH KW) */                                                       \
  void (*avg_pool2d_backward_##S)(const PoolShape& g, const T* dy, T* dx);                                   \
  /* batch norm per channel of x (N, C, S): train uses batch statistics (and updates running ones), eval */ \
  /* uses running ones; writes the mean and 1/sqrt(var + eps) used, for backward */                          \
  void (*batch_norm_forward_##S)(long N, long C, long S, const T* x, const T* gamma, const T* beta, T* y,     \
                                 T* mean, T* invstd, T* running_mean, T* running_var, bool training,         \
                                 T momentum, T eps);                                                         \
  /* dx (overwritten, may be dy), dgamma += sum dy xhat, dbeta += sum dy */                                  \
  void (*batch_norm_backward_##S)(long N, long C, long S, const T* x, const T* dy, const T* gamma,            \
                                  const T* mean, const T* invstd, T* dx, T* dgamma, T* dbeta, bool training);

struct Kernels {
  const char* isa;
  NODENN_KERNELS_FOR(float, f32)
  NODENN_KERNELS_FOR(double, f64)
};

namespace scalar { extern const Kernels kernels; }
namespace avx2 { extern const Kernels kernels; }
namespace avx512 { extern const Kernels kernels; }

#ifdef NODENN_ISA_NS
// Declarations of the per-ISA implementations (generic in T), visible to the sources compiled for one ISA.
namespace NODENN_ISA_NS {
template <typename T>
bool gemm(bool trans_a, bool trans_b, long M, long N, long K, T alpha, const T* A, long lda, const T* B, long ldb,
          T beta, T* C, long ldc);
template <typename T> void activation_forward(int kind, long n, const T* x, T* y, T slope);
template <typename T> void activation_backward(int kind, long n, const T* x, const T* y, const T* dy, T* dx, T slope);
template <typename T> void bias_add(long rows, long cols, T* y, const T* bias);
template <typename T> void bias_backward(long rows, long cols, const T* dy, T* dbias);
template <typename T> void softmax(long rows, long cols, const T* x, T* y);
template <typename T>
double softmax_cross_entropy_index(long rows, long cols, const T* logits, const int32_t* labels, T* grad);
template <typename T>
double softmax_cross_entropy_target(long rows, long cols, const T* logits, const T* targets, T* grad);
template <typename T> void sgd(long n, T* p, const T* g, T lr);
// net kernels
template <typename T> void mul(long n, const T* a, const T* b, T* y);
template <typename T> void add(long n, const T* a, const T* b, T* y);
template <typename T> void div(long n, const T* a, const T* b, T* y);
template <typename T> void power(long n, const T* a, const T* b, T* y);
template <typename T> void power_backward(long n, const T* x, const T* e, const T* dy, T* dx, T* de);
template <typename T> void scale(long n, T* x, T alpha);
template <typename T> void axpy(long n, T alpha, const T* x, T* y);
template <typename T> double sum_squares(long n, const T* x);
template <typename T> void argmax_rows(long rows, long cols, const T* x, int32_t* out);
template <typename T> void softmax_backward(long rows, long cols, const T* y, const T* dy, T* dx);
template <typename T> double bce_logits(long n, const T* logits, const T* targets, T* grad);
template <typename T> double bce_probs(long n, const T* probs, const T* targets, double eps, T* grad);
template <typename T> double mse(long rows, long cols, const T* pred, const T* target, bool half, T* grad);
template <typename T>
double cross_entropy_probs(long rows, long cols, const T* probs, const T* targets, double eps, T* grad);
template <typename T> void sgd_momentum(long n, T* p, const T* g, T* v, double lr, double momentum, bool nesterov);
template <typename T> void adagrad(long n, T* p, const T* g, T* h, double lr, double eps);
template <typename T> void rmsprop(long n, T* p, const T* g, T* h, double lr, double decay, double eps);
template <typename T>
void adam(long n, T* p, const T* g, T* m, T* v, double lr, double beta1, double beta2, double eps, long t,
          double weight_decay);
// conv kernels
template <typename T>
bool conv2d_forward(const ConvShape& g, const T* x, const T* w, const T* b, T* y, bool relu, bool pool);
template <typename T> bool conv2d_backward_data(const ConvShape& g, const T* dy, const T* w, T* dx);
template <typename T> bool conv2d_backward_filter(const ConvShape& g, const T* x, const T* dy, T* dw, T* db);
template <typename T> void max_pool2d_forward(const PoolShape& g, const T* x, T* y, int32_t* argmax);
template <typename T> void max_pool2d_backward(const PoolShape& g, const T* dy, const int32_t* argmax, T* dx);
template <typename T> void avg_pool2d_forward(const PoolShape& g, const T* x, T* y);
template <typename T> void avg_pool2d_backward(const PoolShape& g, const T* dy, T* dx);
template <typename T>
void batch_norm_forward(long N, long C, long S, const T* x, const T* gamma, const T* beta, T* y, T* mean, T* invstd,
                        T* running_mean, T* running_var, bool training, T momentum, T eps);
template <typename T>
void batch_norm_backward(long N, long C, long S, const T* x, const T* dy, const T* gamma, const T* mean,
                         const T* invstd, T* dx, T* dgamma, T* dbeta, bool training);
}  // namespace NODENN_ISA_NS
#endif

}  // namespace nodenn
