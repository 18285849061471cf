// handoff.cc: what it costs to hand half of the batch-1 first layer (1 x 784 x 100 float32) to the second core, and
// what the split gains. Two handoffs are timed against one core doing the whole product:
//  - pool: nodenn's thread pool (native/threads.cc, linked in), parallel_for over the two column halves, as gemm's
//    split (small_row_half_task) runs them;
//  - flag: a dedicated worker that spins on one cache line (`go`) between calls; the second half is claimed by a
//    compare-and-swap on a word in that line, by the worker or, if it has not come, by the caller after its own half,
//    so that a call never waits for a worker that is not on a core; the worker reports on a line of its own (`done`).
//    "round trip": the caller leaves the (empty) second half to the worker and waits for it.
// Each mode is timed with no work (the round trip alone) and with the product (columns 0..63 and 64..99, as gemm's
// split cuts them; the K blocks of 256 summed two at a time, as gemm's few-rows loop does). Prints the best and the
// median of the calls in TSC ticks and in microseconds at the TSC rate given (this VM: 2096 MHz; `dmesg | grep tsc`),
// and in how many calls the caller ran the second half itself (the worker was not there in time).
//   g++ -O2 -mavx512f -mavx512vl -mfma -pthread -Inative bench/handoff.cc native/threads.cc -o /tmp/handoff
//   /tmp/handoff 2096 [calls] [pool-first|flag-first] [pin]
#include <immintrin.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <x86intrin.h>

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

#include "few-rows-pass.h"
#include "threads.h"

enum { N = 100 };

float* B;
float* a;
alignas(64) float c[2 * 128];

template <int NV> void columns(long c0, __mmask16 last) {
  pass<2, NV>(a, B + c0, N, c + c0, 0, last);
  pass<2, NV>(a, B + c0, N, c + c0, 2, last);
}
void whole() { columns<7>(0, 0x000f); }
void half(long h) { h == 0 ? columns<4>(0, 0xffff) : columns<3>(64, 0x000f); }
void both_halves() { half(0), half(1); }

bool pin = false;
// With `pin`: the calling thread on CPU 0, a worker on CPU 1 (the pool's worker: pinned from its first task).
void pin_to(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

void nothing(void*, long) {}
// How often the caller ran the second half itself (the worker did not come in time).
thread_local bool t_caller = false;
std::atomic<long> by_caller[2];
thread_local bool t_pinned = false;
void half_task(void*, long t) {
  if (pin && !t_caller && !t_pinned) pin_to(1), t_pinned = true;
  half(t);
  if (t_caller) by_caller[t].fetch_add(1, std::memory_order_relaxed);
}

// The dedicated worker's lines: go and claimed written by the caller (go) and by both (claimed), done by the worker.
struct alignas(64) Go {
  std::atomic<long> go{0};
  std::atomic<long> claimed{0};
  std::atomic<bool> work{false};
};
Go g;
alignas(64) std::atomic<long> done{0};
alignas(64) char pad[64];

void worker() {
  if (pin) pin_to(1);
  long seen = 0;
  for (;;) {
    long n;
    while ((n = g.go.load(std::memory_order_acquire)) == seen) __builtin_ia32_pause();
    if (n < 0) return;
    seen = n;
    long expect = n - 1;
    if (g.claimed.compare_exchange_strong(expect, n, std::memory_order_acq_rel)) {
      if (g.work.load(std::memory_order_relaxed)) half(1);
      done.store(n, std::memory_order_release);
    }
  }
}

long seq = 0;
// forced: the caller leaves the second half to the worker and waits for it (the round trip through both lines)
void flag_call(bool work, bool forced = false) {
  const long n = ++seq;
  g.go.store(n, std::memory_order_release);
  if (work) half(0);
  long expect = n - 1;
  if (!forced && g.claimed.compare_exchange_strong(expect, n, std::memory_order_acq_rel)) {
    if (work) half(1);  // the worker did not come: the caller does its half
    by_caller[1].fetch_add(1, std::memory_order_relaxed);
  } else {
    while (done.load(std::memory_order_acquire) != n) __builtin_ia32_pause();
  }
}

template <typename F> void time(const char* name, F&& call, long calls, double mhz) {
  std::vector<unsigned long> t((size_t)calls);
  for (long i = 0; i < calls / 10; i++) call();
  for (long i = 0; i < calls; i++) {
    const unsigned long t0 = __rdtsc();
    call();
    t[(size_t)i] = __rdtsc() - t0;
  }
  std::sort(t.begin(), t.end());
  const unsigned long best = t[0], p10 = t[(size_t)calls / 10], median = t[(size_t)calls / 2];
  printf("%-28s best %6lu (%.3f us)  p10 %6lu (%.3f us)  median %6lu (%.3f us)\n", name, best, best / mhz, p10,
         p10 / mhz, median, median / mhz);
}

void pool_modes(long calls, double mhz) {
  nodenn::request_threads(0, 2);
  {
    nodenn::ThreadsInForce two(2);
    time(
        "pool, no work", [] { nodenn::parallel_for(2, nothing, nullptr); }, calls, mhz);
    t_caller = true;
    by_caller[0] = by_caller[1] = 0;
    time(
        "pool, halves", [] { nodenn::parallel_for(2, half_task, nullptr); }, calls, mhz);
    printf("  the caller ran half 0 in %ld, half 1 in %ld of %ld calls\n", by_caller[0].load(), by_caller[1].load(),
           calls + calls / 10);
    t_caller = false;
  }
  nodenn::request_threads(2, 0);  // stops the pool's worker
}

void flag_modes(long calls, double mhz) {
  std::thread w(worker);
  g.work = false;
  time(
      "flag, no work", [] { flag_call(false); }, calls, mhz);
  time(
      "flag, round trip", [] { flag_call(false, true); }, calls, mhz);
  g.work = true;
  by_caller[1] = 0;
  time(
      "flag, halves", [] { flag_call(true); }, calls, mhz);
  printf("  the caller ran half 1 in %ld of %ld calls\n", by_caller[1].load(), calls + calls / 10);
  g.go.store(-1);
  w.join();
}

int main(int argc, char** argv) {
  const double mhz = argc > 1 ? atof(argv[1]) : 2096;
  const long calls = argc > 2 ? atol(argv[2]) : 200000;
  B = (float*)aligned_alloc(64, sizeof(float) * K * N);
  a = (float*)aligned_alloc(64, sizeof(float) * 1024);
  for (long i = 0; i < K * N; i++) B[i] = (float)(i % 7) * 0.1f;
  for (int i = 0; i < 1024; i++) a[i] = (float)i * 0.001f;

  time("one core, whole product", whole, calls, mhz);
  time("one core, both halves", both_halves, calls, mhz);

  // argv[3] "flag-first": the flag modes before the pool's (the scheduler's placement of a new thread matters)
  const bool flag_first = argc > 3 && argv[3][0] == 'f';
  // argv[4] "pin": the caller on CPU 0, the worker on CPU 1
  pin = argc > 4 && argv[4][0] == 'p';
  if (pin) pin_to(0);
  if (flag_first) flag_modes(calls, mhz);
  pool_modes(calls, mhz);
  if (!flag_first) flag_modes(calls, mhz);
  printf("checksum %g\n", c[0] + c[99]);
  return 0;
}
