// few-rows-l2.cc: is the batch-1 first layer (1 x 784 x 100 float32, gemm's few-rows loop) bound by reading its
// 313 KB of weights from L2? The loop of native/gemm.cc's small_row_blocks (few-rows-pass.h: K blocks of 256, G
// blocks summed at once, 7 AVX-512 accumulators each, the last one masked to 4 lanes), timed with B from L2 (ldb 100,
// or 112: rows on whole cache lines) and from L1 (ldb 0: every row the same 400 bytes). Prints the best of 100,000
// calls in TSC ticks and in microseconds at the TSC rate given (this VM: 2.096 GHz; `dmesg | grep tsc`).
//   g++ -O2 -mavx512f -mavx512vl -mfma bench/few-rows-l2.cc -o /tmp/few-rows && /tmp/few-rows 100 2 2096
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <x86intrin.h>

#include "few-rows-pass.h"

enum { NV = 7 };

int main(int argc, char** argv) {
  const long ldb = argc > 1 ? atol(argv[1]) : 100;
  const int G = argc > 2 ? atoi(argv[2]) : 2;
  const double tsc_mhz = argc > 3 ? atof(argv[3]) : 2096;
  float* B = (float*)aligned_alloc(64, sizeof(float) * (K * ldb + 1024));
  float* a = (float*)aligned_alloc(64, sizeof(float) * 1024);
  for (long i = 0; i < K * ldb + 1024; i++) B[i] = (float)(i % 7) * 0.1f;
  for (int i = 0; i < 1024; i++) a[i] = (float)i * 0.001f;
  static float c[L * NV];
  unsigned long best = ~0ul;
  for (int r = 0; r < 100000; r++) {
    const unsigned long t0 = __rdtsc();
    if (G == 4) {
      pass<4, NV>(a, B, ldb, c, 0, 15);
    } else if (G == 2) {
      pass<2, NV>(a, B, ldb, c, 0, 15);
      pass<2, NV>(a, B, ldb, c, 2, 15);
    } else {
      for (int blk = 0; blk < 4; blk++) pass<1, NV>(a, B, ldb, c, blk, 15);
    }
    const unsigned long t = __rdtsc() - t0;
    if (t < best) best = t;
  }
  printf("ldb %ld, G %d: best %lu ticks = %.2f us (checksum %g)\n", ldb, G, best, best / tsc_mhz, c[0]);
  return 0;
}
