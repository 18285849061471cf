// Compares variants of native/gemm.cc outside Node, calls alternating between them in one process (a loaded or
// noisy machine then slows them alike), float32 or float64, row-major, alpha 1, beta 0. Each variant is a copy of
// gemm.cc compiled into its own namespace v0 .. v3 with the AVX-512 flags of CMakeLists.txt:
//   for i in 0 1 2 3; do cp variant$i.cc native/gemm_v$i.cc; g++ -O3 -fno-math-errno -std=gnu++17 \
//     -DNODENN_ISA_NS=v$i -mavx512f -mavx512bw -mavx512dq -mavx512vl -mavx2 -mfma -mf16c \
//     -mprefer-vector-width=512 -Inative -c native/gemm_v$i.cc -o /tmp/v$i.o; rm native/gemm_v$i.cc; done
//   g++ -O3 -std=gnu++17 -Inative bench/gemm-variants.cc native/threads.cc /tmp/v[0-3].o -o /tmp/gemm-variants -pthread
//   /tmp/gemm-variants M N K threads reps calls-per-sample variants [nn|tn|nt|tt] [f32|f64] [beta]
// (the same file four times for fewer variants). Prints the best and the median sample, in GFLOP/s and µs, and
// the process's CPU time per call (all threads: a spinning or waiting worker counts), min and median.
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <algorithm>
#include <vector>

#include "threads.h"

#define NODENN_DECLARE_GEMM(ns)                                                                                  \
  namespace nodenn {                                                                                             \
  namespace ns {                                                                                                 \
  template <typename T> bool gemm(bool, bool, long, long, long, T, const T*, long, const T*, long, T, T*, long); \
  }                                                                                                              \
  }
NODENN_DECLARE_GEMM(v0)
NODENN_DECLARE_GEMM(v1)
NODENN_DECLARE_GEMM(v2)
NODENN_DECLARE_GEMM(v3)

static double now() {
  timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

// CPU time of the whole process (every thread): a spinning or waiting worker counts.
static double cpu_now() {
  timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

template <typename T>
using Gemm = bool (*)(bool, bool, long, long, long, T, const T*, long, const T*, long, T, T*, long);

template <typename T>
int run(long M, long N, long K, int threads, int reps, int calls, int variants, bool ta, bool tb, T beta) {
  Gemm<T> gemm[4] = {nodenn::v0::gemm<T>, nodenn::v1::gemm<T>, nodenn::v2::gemm<T>, nodenn::v3::gemm<T>};
  int code = 0;
  nodenn::ThreadsInForce in_force(threads);
  std::vector<T> A(M * K), B(K * N), C(M * N);
  for (auto& x : A) x = (T)rand() / RAND_MAX - (T)0.5;
  for (auto& x : B) x = (T)rand() / RAND_MAX - (T)0.5;
  long lda = ta ? M : K, ldb = tb ? K : N;
  std::vector<std::vector<double>> seconds(variants), cpu(variants);
  for (int r = -1; r < reps; r++)  // r = -1: warm-up
    for (int v = 0; v < variants; v++) {
      double t0 = now(), c0 = cpu_now();
      for (int i = 0; i < calls; i++)
        if (!gemm[v](ta, tb, M, N, K, 1, A.data(), lda, B.data(), ldb, beta, C.data(), N)) code = 1;
      if (r >= 0) {
        seconds[v].push_back((now() - t0) / calls);
        cpu[v].push_back((cpu_now() - c0) / calls);
      }
    }
  double flops = 2.0 * M * N * K;
  for (int v = 0; v < variants; v++) {
    std::sort(seconds[v].begin(), seconds[v].end());
    std::sort(cpu[v].begin(), cpu[v].end());
    printf(
        "v%d %s %ldx%ldx%ld %d thread(s): best %.1f GFLOP/s (%.3f us), median %.1f (%.3f us), CPU min %.3f us median "
        "%.3f us\n",
        v, sizeof(T) == 4 ? "f32" : "f64", M, N, K, threads, flops / seconds[v][0] / 1e9, seconds[v][0] * 1e6,
        flops / seconds[v][reps / 2] / 1e9, seconds[v][reps / 2] * 1e6, cpu[v][0] * 1e6, cpu[v][reps / 2] * 1e6);
  }
  return code;
}

int main(int argc, char** argv) {
  if (argc < 8) {
    fprintf(stderr, "usage: %s M N K threads reps calls variants [nn|tn|nt|tt] [f32|f64] [beta]\n", argv[0]);
    return 2;
  }
  long M = atol(argv[1]), N = atol(argv[2]), K = atol(argv[3]);
  int threads = atoi(argv[4]), reps = atoi(argv[5]), calls = atoi(argv[6]), variants = atoi(argv[7]);
  bool ta = argc > 8 && argv[8][0] == 't', tb = argc > 8 && argv[8][1] == 't';
  bool f64 = argc > 9 && argv[9][1] == '6';
  double beta = argc > 10 ? atof(argv[10]) : 0;
  nodenn::request_threads(0, threads);
  int code = f64 ? run<double>(M, N, K, threads, reps, calls, variants, ta, tb, beta)
                 : run<float>(M, N, K, threads, reps, calls, variants, ta, tb, (float)beta);
  nodenn::request_threads(threads, 0);
  return code;
}
