// ops.cc — small tensor operations the layers and the training loop need: elementwise products and sums
// (Mul/Add graph nodes, dropout masks), quotients and powers (Div/Pow graph nodes), scaling and axpy (weight
// decay, gradient clipping), sums of squares (L2 term, global gradient norm) and row argmax (predict, accuracy).
// Compiled once per ISA. The elementwise loops run in fixed chunks on the pool when large (chunks.h); the
// reductions are single-threaded with a fixed summation order, so results never depend on threads.
#include <math.h>

#include "chunks.h"
#include "kernels.h"
#include "softmax.h"

namespace nodenn {
namespace NODENN_ISA_NS {

// y = a * b elementwise (y may be a or b)
template <typename T> void mul(long n, const T* a, const T* b, T* y) {
  for_chunks(n, [=](long b0, long e0) {
    for (long i = b0; i < e0; i++) y[i] = a[i] * b[i];
  });
}

// y = a + b elementwise (y may be a or b)
template <typename T> void add(long n, const T* a, const T* b, T* y) {
  for_chunks(n, [=](long b0, long e0) {
    for (long i = b0; i < e0; i++) y[i] = a[i] + b[i];
  });
}

// y = a / b elementwise (y may be a or b)
template <typename T> void div(long n, const T* a, const T* b, T* y) {
  for_chunks(n, [=](long b0, long e0) {
    for (long i = b0; i < e0; i++) y[i] = a[i] / b[i];
  });
}

// y = a ^ b elementwise, in double as the TS backend (y may be a or b)
template <typename T> void power(long n, const T* a, const T* b, T* y) {
  for_chunks(
      n,
      [=](long b0, long e0) {
        for (long i = b0; i < e0; i++) y[i] = (T)::pow((double)a[i], (double)b[i]);
      },
      kCostlyChunk, kCostlyParallelMin);
}

// Backward of y = x ^ e, PyTorch's rules: dx = dy e x^(e-1), 0 where e = 0; de = dy x^e ln x, 0 where x = 0 and
// e >= 0. Each element's inputs are read before its outputs are written (dx, de may be dy, x or e).
template <typename T> void power_backward(long n, const T* x, const T* e, const T* dy, T* dx, T* de) {
  for_chunks(
      n,
      [=](long b0, long e0) {
        for (long i = b0; i < e0; i++) {
          const double xi = x[i], ei = e[i], d = dy[i];
          dx[i] = (T)(ei == 0 ? 0.0 : d * ei * ::pow(xi, ei - 1));
          de[i] = (T)(xi == 0 && ei >= 0 ? 0.0 : d * ::pow(xi, ei) * ::log(xi));
        }
      },
      kCostlyChunk, kCostlyParallelMin);
}

// x *= alpha
template <typename T> void scale(long n, T* x, T alpha) {
  for_chunks(n, [=](long b0, long e0) {
    for (long i = b0; i < e0; i++) x[i] *= alpha;
  });
}

// y += alpha * x
template <typename T> void axpy(long n, T alpha, const T* x, T* y) {
  for_chunks(n, [=](long b0, long e0) {
    for (long i = b0; i < e0; i++) y[i] += alpha * x[i];
  });
}

// sum of x^2, accumulated in double in index order
template <typename T> double sum_squares(long n, const T* x) {
  double s = 0;
  for (long i = 0; i < n; i++) s += (double)x[i] * (double)x[i];
  return s;
}

// out[r] = index of the first maximum of row r
template <typename T> void argmax_rows(long rows, long cols, const T* x, int32_t* out) {
  for (long r = 0; r < rows; r++) out[r] = (int32_t)row_argmax(cols, x + r * cols);
}

NODENN_KERNELS_OPS(NODENN_INSTANTIATE)

}  // namespace NODENN_ISA_NS
}  // namespace nodenn
