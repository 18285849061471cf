// What the machine gives right now, outside any library: the AVX-512 FMA rate of each core alone (12 independent
// chains of zmm FMAs, no memory: the clock's share of a GEMM), of both cores at once; the round trip of a cache
// line bounced between cpu 0 and cpu 1 (median of 9 runs of 100,000 round trips: ~0.1 us within one L3, 0.4+ us
// across L3s or sockets); and the read rate of 313 KB (a 784 x 100 float32 layer's weights) that the other cpu has
// just written (median of 400 passes: from the shared L3, or at memory speed across L3s). On this VM the host
// places the two vCPUs where it likes, and moves them over the day. Run it next to a GEMM measurement (a GEMM slower
// while the FMA rate holds is the memory side, not the clock: bench/README, "GEMM: the bench against the harness")
// and next to a two-thread MLP epoch (which hands data between the cores in every kernel: "The MLP epoch, round
// three"). bench/core-link.js reads the round trip from Node in ~1 s; `bench/run.js` prints it in its header.
//   g++ -O2 -mavx512f bench/machine-probe.cc -o /tmp/machine-probe -pthread && chrt -f 50 /tmp/machine-probe
#include <immintrin.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <thread>

static double now() {
  timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

static void pin(int cpu) {
  cpu_set_t s;
  CPU_ZERO(&s);
  CPU_SET(cpu, &s);
  pthread_setaffinity_np(pthread_self(), sizeof s, &s);
}

static const long kIters = 60000000;  // 46 GFLOP per thread: ~0.2 s at 220 GFLOP/s

// 12 chains, 2 FMA pipes of 4-cycle latency need 8: the loop is bound by the pipes. The empty asm keeps the
// accumulators in registers. Returns a sum so that nothing is optimized away.
static float fma_loop() {
  __m512 m = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-7f);
  __m512 a0 = m, a1 = c, a2 = m, a3 = c, a4 = m, a5 = c, a6 = m, a7 = c, a8 = m, a9 = c, a10 = m, a11 = c;
  for (long n = 0; n < kIters; n++) {
    a0 = _mm512_fmadd_ps(a0, m, c), a1 = _mm512_fmadd_ps(a1, m, c), a2 = _mm512_fmadd_ps(a2, m, c);
    a3 = _mm512_fmadd_ps(a3, m, c), a4 = _mm512_fmadd_ps(a4, m, c), a5 = _mm512_fmadd_ps(a5, m, c);
    a6 = _mm512_fmadd_ps(a6, m, c), a7 = _mm512_fmadd_ps(a7, m, c), a8 = _mm512_fmadd_ps(a8, m, c);
    a9 = _mm512_fmadd_ps(a9, m, c), a10 = _mm512_fmadd_ps(a10, m, c), a11 = _mm512_fmadd_ps(a11, m, c);
    __asm__(""
            : "+v"(a0), "+v"(a1), "+v"(a2), "+v"(a3), "+v"(a4), "+v"(a5), "+v"(a6), "+v"(a7), "+v"(a8), "+v"(a9),
              "+v"(a10), "+v"(a11));
  }
  __m512 s = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)),
                           _mm512_add_ps(_mm512_add_ps(a4, a5), _mm512_add_ps(a6, a7)));
  s = _mm512_add_ps(s, _mm512_add_ps(_mm512_add_ps(a8, a9), _mm512_add_ps(a10, a11)));
  float lanes[16], sum = 0;
  _mm512_storeu_ps(lanes, s);
  for (float x : lanes) sum += x;
  return sum;
}

// FMA GFLOP/s of `cpus` threads, thread i pinned to cpu i.
static double fma_rate(int first, int cpus) {
  float sink[2];
  std::thread t[2];
  double t0 = now();
  for (int i = 0; i < cpus; i++) t[i] = std::thread([&, i] { pin(first + i), sink[i] = fma_loop(); });
  for (int i = 0; i < cpus; i++) t[i].join();
  double flops = (double)cpus * kIters * 12 * 32;  // 12 FMAs of 16 lanes, 2 flops each
  if (sink[0] == 12345.f) puts("");
  return flops / (now() - t0) / 1e9;
}

static double median(double* v, int n) {
  std::sort(v, v + n);
  return v[n / 2];
}

// Round trip in ns of a cache line between cpu 0 and cpu 1: median and best of 9 runs of 100,000.
static void round_trip(double* med, double* best) {
  alignas(64) static std::atomic<long> flag{0};
  const long trips = 100000;
  const int runs = 9;
  double ns[runs];
  flag = 0;
  std::thread t([&] {
    pin(1);
    for (long i = 0; i < trips * runs; i++) {
      while (flag.load(std::memory_order_acquire) != 2 * i + 1) {
      }
      flag.store(2 * i + 2, std::memory_order_release);
    }
  });
  pin(0);
  for (int r = 0; r < runs; r++) {
    double t0 = now();
    for (long i = r * trips; i < (r + 1) * trips; i++) {
      flag.store(2 * i + 1, std::memory_order_release);
      while (flag.load(std::memory_order_acquire) != 2 * i + 2) {
      }
    }
    ns[r] = (now() - t0) / trips * 1e9;
  }
  t.join();
  *best = *std::min_element(ns, ns + runs);
  *med = median(ns, runs);
}

// GB/s at which cpu 1 reads 313 KB that cpu 0 has just written (one float per 64-byte line: every line is
// fetched), median of 400 passes.
static double handed_over_read() {
  const int floats = 78400, passes = 400;
  alignas(64) static float weights[floats];
  alignas(64) static std::atomic<int> turn{0};
  static double rate[passes];
  turn = 0;
  std::thread t([&] {
    pin(1);
    volatile float sink = 0;
    for (int p = 0; p < passes; p++) {
      while (turn.load(std::memory_order_acquire) != 2 * p + 1) {
      }
      double t0 = now();
      float s = 0;
      for (int i = 0; i < floats; i += 16) s += weights[i];
      rate[p] = sizeof(weights) / (now() - t0) / 1e9;
      sink = sink + s;
      turn.store(2 * p + 2, std::memory_order_release);
    }
  });
  pin(0);
  for (int p = 0; p < passes; p++) {
    for (int i = 0; i < floats; i++) weights[i] = (float)(p + i);
    turn.store(2 * p + 1, std::memory_order_release);
    while (turn.load(std::memory_order_acquire) != 2 * p + 2) {
    }
  }
  t.join();
  return median(rate, passes);
}

int main() {
  double c0 = fma_rate(0, 1), c1 = fma_rate(1, 1), both = fma_rate(0, 2);
  printf("FMA float32 GFLOP/s: cpu0 %.1f, cpu1 %.1f, both %.1f (%.2f GHz-equivalent per core at 64 flops a cycle)\n",
         c0, c1, both, both / 2 / 64);
  double med, best;
  round_trip(&med, &best);
  printf(
      "cache-line round trip cpu0 <-> cpu1: %.0f ns (median of 9 runs, best %.0f); 313 KB just written by cpu0 "
      "read by cpu1 at %.1f GB/s (median of 400)\n",
      med, best, handed_over_read());
}
