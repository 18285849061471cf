// The physical limits the bench's GEMM and CNN rows are compared with (bench/README.md): the AVX-512 FMA peak
// (12 independent accumulators per thread, so that FMA latency never stalls the two FMA pipes) and the read
// bandwidth at a few working-set sizes (L2, L3, memory). Each number is the best of many short windows, so that a
// loaded machine still shows what a core can do when it has one.
//   cc -O2 -mavx512f -mfma -pthread bench/limits.c -o /tmp/limits && /tmp/limits [threads]
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

static double best[64];
static long bytes;
static int passes;

// float32 FLOP/s of the best of 400 windows of 20,000 x 12 FMAs on 16 lanes
static void* fma_peak(void* arg) {
  __m512 c0 = _mm512_set1_ps(0.0f), c1 = _mm512_set1_ps(0.1f), c2 = _mm512_set1_ps(0.2f), c3 = _mm512_set1_ps(0.3f);
  __m512 c4 = _mm512_set1_ps(0.4f), c5 = _mm512_set1_ps(0.5f), c6 = _mm512_set1_ps(0.6f), c7 = _mm512_set1_ps(0.7f);
  __m512 c8 = _mm512_set1_ps(0.8f), c9 = _mm512_set1_ps(0.9f), c10 = _mm512_set1_ps(1.0f), c11 = _mm512_set1_ps(1.1f);
  const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
  double top = 0;
  for (int w = 0; w < 400; w++) {
    const long iters = 20000;
    double t0 = now();
    for (long k = 0; k < iters; k++) {
      c0 = _mm512_fmadd_ps(c0, a, b), c1 = _mm512_fmadd_ps(c1, a, b), c2 = _mm512_fmadd_ps(c2, a, b);
      c3 = _mm512_fmadd_ps(c3, a, b), c4 = _mm512_fmadd_ps(c4, a, b), c5 = _mm512_fmadd_ps(c5, a, b);
      c6 = _mm512_fmadd_ps(c6, a, b), c7 = _mm512_fmadd_ps(c7, a, b), c8 = _mm512_fmadd_ps(c8, a, b);
      c9 = _mm512_fmadd_ps(c9, a, b), c10 = _mm512_fmadd_ps(c10, a, b), c11 = _mm512_fmadd_ps(c11, a, b);
    }
    double f = iters * 12.0 * 16 * 2 / (now() - t0);
    if (f > top) top = f;
  }
  __m512 t = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(c0, c1), _mm512_add_ps(c2, c3)),
                           _mm512_add_ps(_mm512_add_ps(c4, c5), _mm512_add_ps(c6, c7)));
  t = _mm512_add_ps(t, _mm512_add_ps(_mm512_add_ps(c8, c9), _mm512_add_ps(c10, c11)));
  if (_mm512_reduce_add_ps(t) == 12345) printf(" ");  // keeps the loop
  best[(long)arg] = top;
  return 0;
}

// bytes/s of the best pass summing `bytes` of floats
static void* read_bandwidth(void* arg) {
  const long n = bytes / 4;
  float* x = aligned_alloc(64, (size_t)bytes);
  for (long i = 0; i < n; i++) x[i] = 1e-9f * (float)i;
  __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
  double top = 0;
  for (int p = 0; p < passes; p++) {
    double t0 = now();
    for (long i = 0; i < n; i += 64) {
      s0 = _mm512_add_ps(s0, _mm512_load_ps(x + i)), s1 = _mm512_add_ps(s1, _mm512_load_ps(x + i + 16));
      s2 = _mm512_add_ps(s2, _mm512_load_ps(x + i + 32)), s3 = _mm512_add_ps(s3, _mm512_load_ps(x + i + 48));
    }
    double bw = bytes / (now() - t0);
    if (bw > top) top = bw;
  }
  if (_mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3))) == 1) printf(" ");
  free(x);
  best[(long)arg] = top;
  return 0;
}

static double on_threads(int n, void* (*fn)(void*)) {
  pthread_t t[64];
  for (long i = 0; i < n; i++) pthread_create(&t[i], 0, fn, (void*)i);
  double sum = 0;
  for (int i = 0; i < n; i++) {
    pthread_join(t[i], 0);
    sum += best[i];
  }
  return sum;
}

int main(int argc, char** argv) {
  int threads = argc > 1 ? atoi(argv[1]) : 2;
  if (threads < 1 || threads > 64) threads = 2;
  for (int n = 1; n <= threads; n *= 2) {
    double f = on_threads(n, fma_peak);
    printf("FMA peak, %d thread(s): %.1f GFLOP/s float32 (%.1f float64), %.2f GHz x 64 flop/cycle per core\n", n,
           f / 1e9, f / 2e9, f / 1e9 / n / 64);
  }
  const long sizes[] = {320000, 4000000, 64000000};
  for (int k = 0; k < 3; k++)
    for (int n = 1; n <= threads; n *= 2) {
      bytes = sizes[k] / n / 256 * 256;
      passes = sizes[k] > 10000000 ? 30 : 2000;
      printf("read bandwidth, %ld bytes per thread, %d thread(s): %.1f GB/s\n", bytes, n,
             on_threads(n, read_bandwidth) / 1e9);
    }
  return 0;
}
