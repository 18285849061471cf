// unary.cc — element-wise maps y = op(x) for the tensor operations (neg, abs, exp, the activations, clamp, ...).
// One kernel with an op enum; each op is a plain loop the compiler vectorizes for the ISA this file is compiled
// for (the libm calls stay scalar). Large inputs run in fixed chunks on the pool (chunks.h), so results never
// depend on the thread count.
#include <math.h>
#include <stdint.h>

#include "chunks.h"
#include "kernels.h"
#include "simd.h"

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

typedef int32_t vi32 __attribute__((vector_size(NODENN_VEC_BYTES)));

// e^x for a vector of floats whose lanes all lie in [-87, 88] (normal results): Cephes' expf, x = n ln 2 + r with
// |r| <= ln 2 / 2, e^r by a degree-7 polynomial (about 1 ulp), times 2^n put straight into the exponent bits.
inline vf32 exp_vec(vf32 x) {
  const vf32 t = x * 1.44269504088896341f + 0.5f;
  vf32 n = __builtin_convertvector(__builtin_convertvector(t, vi32), vf32);  // truncated
  n = n > t ? n - 1.0f : n;                                                  // floor(x log2 e + 1/2)
  vf32 r = x - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  const vf32 z = r * r;
  vf32 p = vf32{} + 1.9875691500E-4f;
  p = p * r + 1.3981999507E-3f;
  p = p * r + 8.3334519073E-3f;
  p = p * r + 4.1665795894E-2f;
  p = p * r + 1.6666665459E-1f;
  p = p * r + 5.0000001201E-1f;
  p = p * z + r + 1.0f;
  return (vf32)((vi32)p + (__builtin_convertvector(n, vi32) << 23));
}

// Whether every lane of x lies in [lo, hi] (NaN does not).
inline bool all_within(vf32 x, float lo, float hi) {
  const vi32 in = (x >= lo) & (x <= hi);
  for (int i = 0; i < Vec<float>::L; i++)
    if (!in[i]) return false;
  return true;
}

// y = f(x) by vectors where every lane is within [lo, hi], by the scalar g elsewhere and in the tail.
template <typename FV, typename FS>
inline void map_vec(long n, const float* x, float* y, float lo, float hi, FV fv, FS fs) {
  for_chunks(
      n,
      [=](long b, long e) {
        const long L = Vec<float>::L;
        long i = b;
        for (; i + L <= e; i += L) {
          const vf32 v = *(const vf32u*)(x + i);
          if (all_within(v, lo, hi)) {
            *(vf32u*)(y + i) = fv(v);
          } else {
            for (long j = i; j < i + L; j++) y[j] = fs(x[j]);
          }
        }
        for (; i < e; i++) y[i] = fs(x[i]);
      },
      kChunk / 4, kChunk / 2);
}

// The float32 maps with a vector form; false for the others (and for double).
inline bool unary_vec(int op, long n, const float* x, float* y) {
  switch (op) {
    case kUnaryExp:
      map_vec(
          n, x, y, -87.0f, 88.0f, [](vf32 v) { return exp_vec(v); }, [](float v) { return expf(v); });
      return true;
    case kUnarySigmoid:  // e = e^-|x|, never below e^-87
      map_vec(
          n, x, y, -87.0f, 87.0f,
          [](vf32 v) {
            const vf32 a = v < 0 ? -v : v;
            const vf32 e = exp_vec(-a);
            return (v >= 0 ? (vf32{} + 1.0f) : e) / (1.0f + e);
          },
          [](float v) {
            const float e = expf(-fabsf(v));
            return v >= 0 ? 1 / (1 + e) : e / (1 + e);
          });
      return true;
  }
  return false;
}
inline bool unary_vec(int, long, const double*, double*) { return false; }

}  // namespace

// y = op(x) (y may be x): leakyRelu's slope is alpha; clamp is min(max(x, alpha), beta) with NaN kept
template <typename T> void unary(int op, long n, const T* x, T* y, T alpha, T beta) {
  if (unary_vec(op, n, x, y)) return;
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
          n, x, y, [](T v) { return v > 0    ? T(1)
                                    : v < 0  ? T(-1)
                                    : v == 0 ? T(0)
                                             : v; }, false);
      break;  // +0 for ±0 (NumPy's sign), NaN kept
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
      break;  // NaN and -0 pass through, as in the ReLU layer's kernels (NumPy's maximum(x, 0) gives +0)
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
