// softmax.h — the stable softmax of one row, shared by the softmax kernel (elementwise.cc) and the softmax
// cross-entropy losses (loss.cc), so that both compute it alike. Included by the per-ISA sources only.
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
