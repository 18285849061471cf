// softmax.h — the stable softmax of one row, shared by the softmax kernel (elementwise.cc) and the softmax
// cross-entropy losses (loss.cc), so that both compute it alike, and a row's argmax (argmax_rows in ops.cc and
// softmax_cross_entropy_argmax in loss.cc). Included by the per-ISA sources only.
#pragma once
#include <math.h>

namespace nodenn {
namespace NODENN_ISA_NS {
namespace {

inline float exp_(float x) { return expf(x); }
inline double exp_(double x) { return exp(x); }

template <typename T> inline T row_max(long cols, const T* x) {
  T m = x[0];
  for (long c = 1; c < cols; c++) m = x[c] > m ? x[c] : m;
  return m;
}

// Index of the first maximum of a row (a leading NaN wins: nothing compares greater); x[that] is row_max's value.
template <typename T> inline long row_argmax(long cols, const T* x) {
  long best = 0;
  for (long c = 1; c < cols; c++)
    if (x[c] > x[best]) best = c;
  return best;
}

// Stable softmax of one row: p = exp(x - max); returns the sum of p (accumulated in double).
template <typename T> inline double row_exp(long cols, const T* x, T m, T* p) {
  double s = 0;
  for (long c = 0; c < cols; c++) {
    p[c] = exp_(x[c] - m);
    s += p[c];
  }
  return s;
}

}  // namespace
}  // namespace NODENN_ISA_NS
}  // namespace nodenn
