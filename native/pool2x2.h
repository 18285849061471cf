// pool2x2.h — the 2x2, stride-2 max pooling of one plane, vectorized; with ARG the index of each maximum too.
// Shared by the MaxPool2D kernels (pool.cc) and the convolution that inference runs fused with its pooling
// (conv.cc). Included by files compiled once per ISA.
#pragma once

#include <stdint.h>
#include <string.h>

#include "simd.h"

namespace nodenn {
namespace NODENN_ISA_NS {

// Whether v replaces the running maximum m: a larger number, or the first NaN (once m is NaN nothing replaces
// it). Branch-free, so random data costs no mispredictions and the 2x2 loop below vectorizes.
template <typename T> inline bool takes(T v, T m) { return (v > m) | ((v != v) & (m == m)); }
// The same rule lane by lane: a mask (-1 where v replaces m) for vectors of the same width.
template <typename V> inline auto takes_lanes(V v, V m) -> decltype(v > m) { return (v > m) | ((v != v) & (m == m)); }

// Integer vectors as wide as Vec<T>: comparison masks and window offsets; I32 holds L int32 lanes (argmax).
template <typename T> struct PoolVec;
template <> struct PoolVec<float> {
  typedef int32_t E;
  typedef int32_t I __attribute__((vector_size(NODENN_VEC_BYTES)));
  typedef int32_t I32 __attribute__((vector_size(NODENN_VEC_BYTES)));
};
template <> struct PoolVec<double> {
  typedef int64_t E;
  typedef int64_t I __attribute__((vector_size(NODENN_VEC_BYTES)));
  typedef int32_t I32 __attribute__((vector_size(NODENN_VEC_BYTES / 2)));
};

// The 2x2 window with stride 2 (windows side by side) over a plane W wide, OH x OW outputs: one output row reads
// two input rows. Each window's four values are visited in row-major order with the rule of takes(), as in the
// general loop of pool.cc, so both give the same y and argmax. L/2 outputs at a time (MNIST's rows are 28 and 14 wide,
// shorter than two AVX-512 vectors): one vector load per input row, split into its even and odd columns; the last step
// loads and stores partially.
template <typename T, bool ARG> inline void max_pool_2x2(long W, long OH, long OW, const T* x, T* y, int32_t* arg) {
  typedef typename Vec<T>::V V;
  typedef typename Vec<T>::U U;
  typedef typename PoolVec<T>::I I;
  typedef typename PoolVec<T>::I32 I32;
  typedef typename PoolVec<T>::E E;
  const long L = Vec<T>::L, H = L / 2;
  I even, odd, step;
  for (long l = 0; l < L; l++) {
    even[l] = (E)(2 * l % L);
    odd[l] = (E)((2 * l + 1) % L);
    step[l] = (E)(2 * l);
  }
  const I zero = I{}, one = zero + (E)1, w0 = zero + (E)W, w1 = zero + (E)(W + 1);
  for (long oh = 0; oh < OH; oh++) {
    const T* r0 = x + 2 * oh * W;
    const T* r1 = r0 + W;
    T* yr = y + oh * OW;
    int32_t* ar = ARG ? arg + oh * OW : nullptr;
    const int32_t base = (int32_t)(2 * oh * W);
    for (long ow = 0; ow < OW; ow += H) {
      const long n = OW - ow < H ? OW - ow : H;
      V p, q;
      if (n == H) {  // 2 ow + L <= 2 OW <= W: inside the rows
        p = *(const U*)(r0 + 2 * ow);
        q = *(const U*)(r1 + 2 * ow);
      } else {
        p = load_partial(r0 + 2 * ow, (int)(2 * n));
        q = load_partial(r1 + 2 * ow, (int)(2 * n));
      }
      const V a = __builtin_shuffle(p, even), b = __builtin_shuffle(p, odd);
      const V c = __builtin_shuffle(q, even), d = __builtin_shuffle(q, odd);
      V m = a;
      I k = zero;
      I t = takes_lanes(b, m);
      m = t ? b : m;
      k = t ? one : k;
      t = takes_lanes(c, m);
      m = t ? c : m;
      k = t ? w0 : k;
      t = takes_lanes(d, m);
      m = t ? d : m;
      k = t ? w1 : k;
      store_partial(yr + ow, m, (int)n);
      if (ARG) {
        const I32 idx = __builtin_convertvector(k + step + (E)(base + 2 * ow), I32);
        memcpy(ar + ow, &idx, sizeof(int32_t) * (size_t)n);
      }
    }
  }
}

}  // namespace NODENN_ISA_NS
}  // namespace nodenn
