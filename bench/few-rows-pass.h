// few-rows-pass.h: the loop of native/gemm.cc's small_row_blocks for one row of A (K = 784), as the C drivers
// bench/few-rows-l2.cc and bench/handoff.cc time it: K blocks of KC, G blocks summed at once, NV AVX-512 accumulators
// each (the last one masked to `last`), every block summed from zero and then added to c (as gemm merges them).
#pragma once
#include <immintrin.h>

typedef float V __attribute__((vector_size(64)));
typedef float U __attribute__((vector_size(64), aligned(4)));
enum { K = 784, KC = 256, L = 16 };

// K blocks blk0 .. blk0 + G - 1 of the row against NV vectors of B's columns (rows ldb apart).
template <int G, int NV>
__attribute__((noinline)) void pass(const float* a, const float* B, long ldb, float* c, long blk0, __mmask16 last) {
  V acc[G][NV];
#pragma GCC unroll 16
  for (int g = 0; g < G; g++)
#pragma GCC unroll 16
    for (int v = 0; v < NV; v++) acc[g][v] = V{};
  const long pc0 = blk0 * KC, gb = KC * ldb;
  const long kc_last = K - (pc0 + (G - 1) * KC) < KC ? K - (pc0 + (G - 1) * KC) : (long)KC;
  const float* aa = a + pc0;
  const float* b = B + pc0 * ldb;
  long k = 0;
  for (; k < kc_last; k++, aa++, b += ldb) {
#pragma GCC unroll 4
    for (int g = 0; g < G; g++) {
      V ak = aa[g * KC] - V{};
      const float* bg = b + g * gb;
#pragma GCC unroll 16
      for (int v = 0; v < NV - 1; v++) acc[g][v] += ak * *(const U*)(bg + v * L);
      acc[g][NV - 1] += ak * (V)_mm512_maskz_loadu_ps(last, bg + (NV - 1) * L);
    }
  }
  for (; k < KC && G > 1; k++, aa++, b += ldb) {
#pragma GCC unroll 4
    for (int g = 0; g < G - 1; g++) {
      V ak = aa[g * KC] - V{};
      const float* bg = b + g * gb;
#pragma GCC unroll 16
      for (int v = 0; v < NV - 1; v++) acc[g][v] += ak * *(const U*)(bg + v * L);
      acc[g][NV - 1] += ak * (V)_mm512_maskz_loadu_ps(last, bg + (NV - 1) * L);
    }
  }
#pragma GCC unroll 4
  for (int g = 0; g < G; g++)
#pragma GCC unroll 16
    for (int v = 0; v < NV; v++) *(U*)(c + L * v) += acc[g][v];
}
