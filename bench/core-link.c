// How fast the machine's two cores reach each other's caches: the round trip of one cache line between two threads
// (each waits for the other's store, then stores; the median of 9 runs of 100,000 round trips), and the read rate
// of 313 KB (a 784 x 100 float32 layer's weights) that the other thread has just written (median of 400 passes).
// On this VM the host places the two vCPUs where it likes: within one core complex a round trip is ~0.1 us and the
// handed-over data comes from the shared L3; across complexes ~0.45 us, and the data at memory speed. The MLP
// epoch's two-thread step hands data between the cores in every kernel (bench/README, "The MLP epoch, round
// three"), so run this next to a bench to know which machine it ran on.
//   cc -O2 -pthread bench/core-link.c -o /tmp/core-link && chrt -f 50 /tmp/core-link
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

enum { kTrips = 100000, kRuns = 9, kFloats = 78400, kPasses = 400 };

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

static int by_value(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return x < y ? -1 : x > y;
}

static _Alignas(64) _Atomic long ball;  // odd: the main thread's turn is over; even: the other thread's
static _Alignas(64) float weights[kFloats];
static _Alignas(64) _Atomic int turn;
static double rate[kPasses];

static void* returner(void* arg) {
  (void)arg;
  for (long i = 0; i < (long)kTrips * kRuns; i++) {
    while (atomic_load(&ball) != 2 * i + 1) {
    }
    atomic_store(&ball, 2 * i + 2);
  }
  return NULL;
}

static void* reader(void* arg) {
  volatile float sink = 0;
  (void)arg;
  for (int p = 0; p < kPasses; p++) {
    while (atomic_load(&turn) != 2 * p + 1) {
    }
    double t0 = now();
    float s = 0;
    for (int i = 0; i < kFloats; i += 16) s += weights[i];  // one float per 64-byte line: every line is fetched
    rate[p] = sizeof(weights) / (now() - t0) / 1e9;
    sink += s;
    atomic_store(&turn, 2 * p + 2);
  }
  return NULL;
}

int main(void) {
  pthread_t t;
  double trip[kRuns];
  pthread_create(&t, NULL, returner, NULL);
  for (int r = 0; r < kRuns; r++) {
    double t0 = now();
    for (long i = (long)r * kTrips; i < (long)(r + 1) * kTrips; i++) {
      atomic_store(&ball, 2 * i + 1);
      while (atomic_load(&ball) != 2 * i + 2) {
      }
    }
    trip[r] = (now() - t0) / kTrips * 1e9;
  }
  pthread_join(t, NULL);
  pthread_create(&t, NULL, reader, NULL);
  for (int p = 0; p < kPasses; p++) {
    for (int i = 0; i < kFloats; i++) weights[i] = (float)(p + i);
    atomic_store(&turn, 2 * p + 1);
    while (atomic_load(&turn) != 2 * p + 2) {
    }
  }
  pthread_join(t, NULL);
  qsort(trip, kRuns, sizeof(double), by_value);
  qsort(rate, kPasses, sizeof(double), by_value);
  printf(
      "cache-line round trip between the threads: %.0f ns (median of %d runs, min %.0f); 313 KB just written by "
      "the other thread read at %.1f GB/s (median of %d)\n",
      trip[kRuns / 2], kRuns, trip[0], rate[kPasses / 2], kPasses);
  return 0;
}
