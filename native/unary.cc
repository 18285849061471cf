// unary.cc — element-wise maps y = op(x) for the tensor operations (neg, abs, exp, the activations, clamp, ...).
// One kernel with an op enum; each op is a plain loop the compiler vectorizes for the ISA this file is compiled
// for (the libm calls stay scalar). Large inputs run in fixed chunks on the pool (chunks.h), so results never
// depend on the thread count.
#include <math.h>

#include "chunks.h"
#include "kernels.h"

namespace nodenn {
namespace NODENN_ISA_NS {
namespace {

inline float exp_(float x) { return expf(x); }
inline double exp_(double x) { return exp(x); }
inline float log_(float x) { return logf(x); }
inline double log_(double x) { return log(x); }
inline float log1p_(float x) { return log1pf(x); }
inline double log1p_(double x) { return log1p(x); }
inline float sqrt_(float x) { return sqrtf(x); }
inline double sqrt_(double x) { return sqrt(x); }
inline float tanh_(float x) { return tanhf(x); }
inline double tanh_(double x) { return tanh(x); }
inline float fabs_(float x) { return fabsf(x); }
inline double fabs_(double x) { return fabs(x); }

// f applied to x[0, n) into y; the loop in chunks (those with a libm call are worth threads from fewer elements on)
template <typename T, typename F> inline void map(long n, const T* x, T* y, F f, bool heavy) {
  for_chunks(
      n,
      [=](long b, long e) {
        for (long i = b; i < e; i++) y[i] = f(x[i]);
      },
      heavy ? (long)kChunk / 4 : (long)kChunk, heavy ? (long)kChunk / 2 : (long)kParallelMin);
}

}  // namespace

// y = op(x) (y may be x): leakyRelu's slope is alpha; clamp is min(max(x, alpha), beta) with NaN kept
template <typename T> void unary(int op, long n, const T* x, T* y, T alpha, T beta) {
  switch (op) {
    case kUnaryNeg:
      map(
          n, x, y, [](T v) { return -v; }, false);
      break;
    case kUnaryAbs:
      map(
          n, x, y, [](T v) { return fabs_(v); }, false);
      break;
    case kUnarySign:
      map(
          n, x, y, [](T v) { return v > 0   ? T(1)
                                    : v < 0 ? T(-1)
                                            : v; }, false);
      break;  // ±0, NaN kept
    case kUnaryExp:
      map(
          n, x, y, [](T v) { return exp_(v); }, true);
      break;
    case kUnaryLog:
      map(
          n, x, y, [](T v) { return log_(v); }, true);
      break;
    case kUnaryLog1p:
      map(
          n, x, y, [](T v) { return log1p_(v); }, true);
      break;
    case kUnarySqrt:
      map(
          n, x, y, [](T v) { return sqrt_(v); }, false);
      break;
    case kUnarySquare:
      map(
          n, x, y, [](T v) { return v * v; }, false);
      break;
    case kUnaryRelu:
      map(
          n, x, y, [](T v) { return v < 0 ? T(0) : v; }, false);
      break;  // NaN passes through
    case kUnaryLeakyRelu:
      map(
          n, x, y, [=](T v) { return v > 0 ? v : alpha * v; }, false);
      break;
    case kUnarySigmoid:  // exp only ever sees a non-positive argument
      map(
          n, x, y,
          [](T v) {
            const T e = exp_(-fabs_(v));
            return v >= 0 ? 1 / (1 + e) : e / (1 + e);
          },
          true);
      break;
    case kUnaryTanh:
      map(
          n, x, y, [](T v) { return tanh_(v); }, true);
      break;
    case kUnaryStep:
      map(
          n, x, y, [](T v) { return v > 0    ? T(1)
                                    : v <= 0 ? T(0)
                                             : v; }, false);
      break;
    case kUnarySoftplus:  // log(1 + e^x) = max(x, 0) + log1p(e^-|x|): no overflow
      map(
          n, x, y, [](T v) { return (T)((v > 0 ? (double)v : 0.0) + ::log1p(::exp(-::fabs((double)v)))); }, true);
      break;
    case kUnaryGelu:  // x Φ(x), in double
      map(
          n, x, y, [](T v) { return (T)(0.5 * (double)v * (1 + ::erf((double)v * M_SQRT1_2))); }, true);
      break;
    case kUnaryClamp:
      map(
          n, x, y,
          [=](T v) {
            const T lo = v < alpha ? alpha : v;  // NaN fails both tests and stays
            return lo > beta ? beta : lo;
          },
          false);
      break;
  }
}

NODENN_KERNELS_UNARY(NODENN_INSTANTIATE)

}  // namespace NODENN_ISA_NS
}  // namespace nodenn
