// Times gemm's k loop alone for three register tiles of 24 accumulators (RM rows x NV vectors, float32, AVX-512):
// kc 256, A read in place (lda 1024, the strip taken from 8 in turn), a ~256 KB packed B panel streamed from L2,
// the C tile added into. Prints the best GFLOP/s of 7 samples of thread CPU time, 3 rounds. Build (one line) and run:
//   g++ -O3 -fno-math-errno -std=gnu++17 -mavx512f -mavx512bw -mavx512dq -mavx512vl -mavx2 -mfma
//     -mprefer-vector-width=512 bench/gemm-tile.cc -o /tmp/gemm-tile && chrt -f 50 /tmp/gemm-tile
// (bench/README, "Where the GEMM's time goes").
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
typedef float V __attribute__((vector_size(64)));
typedef float U __attribute__((vector_size(64), aligned(4)));
static double cpu() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}
template <int RM, int NV>
__attribute__((noinline)) void mk(long kc, const float* __restrict a, long lda, const float* __restrict b, float* C,
                                  long ldc) {
  enum { NR = NV * 16 };
  const float* a_hi = a + (RM / 2) * lda;
  V acc[RM][NV];
  for (int r = 0; r < RM; r++)
    for (int v = 0; v < NV; v++) acc[r][v] = V{};
  for (long k = 0; k < kc; k++) {
    V bv[NV];
    for (int v = 0; v < NV; v++) bv[v] = *(const U*)(b + k * NR + v * 16);
#pragma GCC unroll 16
    for (int r = 0; r < RM; r++) {
      float x = r >= RM / 2 ? a_hi[(r - RM / 2) * lda + k] : a[r * lda + k];
      V ar = x - V{};
      for (int v = 0; v < NV; v++) acc[r][v] += ar * bv[v];
    }
  }
  for (int r = 0; r < RM; r++)
    for (int v = 0; v < NV; v++) {
      U* c = (U*)(C + r * ldc + v * 16);
      *c = *c + acc[r][v];
    }
}
template <int RM, int NV> double run(float* A, float* B, float* C, int strips, int reps) {
  enum { NR = NV * 16 };
  double best = 0;
  for (int t = 0; t < 7; t++) {
    double t0 = cpu();
    for (int i = 0; i < reps; i++)
      for (int q = 0; q < strips; q++)
        mk<RM, NV>(256, A + (i % 8) * RM * 1024, 1024, B + q * 256 * NR, C + q * NR, 1024);
    double s = cpu() - t0, g = 2.0 * RM * NR * 256 * strips * reps / s / 1e9;
    if (g > best) best = g;
  }
  return best;
}
int main() {
  float* A = (float*)aligned_alloc(64, 4 << 20);
  float* B = (float*)aligned_alloc(64, 4 << 20);
  float* C = (float*)aligned_alloc(64, 4 << 20);
  for (int i = 0; i < (1 << 20); i++) {
    A[i] = (rand() % 100) * 0.01f;
    B[i] = (rand() % 100) * 0.01f;
    C[i] = 0;
  }
  for (int round = 0; round < 3; round++) {
    printf("12x2 %.1f  8x3 %.1f  6x4 %.1f  (GFLOP/s best, B panel 256 KB from L2)\n", run<12, 2>(A, B, C, 8, 400),
           run<8, 3>(A, B, C, 5, 480), run<6, 4>(A, B, C, 4, 500));
  }
}
