// chunks.h — elementwise loops on the thread pool. The range [0, n) is cut into chunks of kChunk elements (the
// boundaries depend only on n, never on the thread count) and each chunk runs f(begin, end) on some thread.
// Only for loops whose every output element depends on its own inputs alone: their results are then bitwise
// the same whatever the number of threads. Small ranges run inline, without waking the pool.
#pragma once

#include "threads.h"

namespace nodenn {
namespace NODENN_ISA_NS {

// kChunk elements per task; from kParallelMin elements on, a loop goes to the pool (below, waking it costs more
// than the other threads save). A loop that calls exp, tanh or pow per element costs several times more per
// element: it is worth threads from fewer elements on (kCostlyChunk, kCostlyParallelMin).
enum {
  kChunk = 16384,
  kParallelMin = 4 * kChunk,
  kCostlyChunk = kChunk / 4,
  kCostlyParallelMin = kChunk / 2,
};

template <typename F> struct ChunkJob {
  const F* f;
  long n, chunk;
};

template <typename F> void chunk_task(void* ctx, long t) {
  const ChunkJob<F>* j = (const ChunkJob<F>*)ctx;
  long b = t * j->chunk, e = b + j->chunk < j->n ? b + j->chunk : j->n;
  (*j->f)(b, e);
}

// f(begin, end) over [0, n) in chunks of `chunk` (default kChunk); parallel from `min_parallel` elements on.
template <typename F>
inline void for_chunks(long n, const F& f, long chunk = kChunk, long min_parallel = kParallelMin) {
  if (n < min_parallel || n <= chunk) {
    if (n > 0) f(0, n);
    return;
  }
  ChunkJob<F> j = {&f, n, chunk};
  parallel_for((n + chunk - 1) / chunk, chunk_task<F>, &j);
}

template <typename F> struct TaskJob {
  const F* f;
};
template <typename F> void task_fn(void* ctx, long t) { (*((const TaskJob<F>*)ctx)->f)(t); }

// f(t) for t in [0, tasks), on the pool when `work` (elements touched by all tasks) reaches `min_parallel`. The
// caller cuts the work into tasks by the sizes alone, so that the result does not depend on the thread count.
template <typename F> inline void for_tasks(long tasks, long work, const F& f, long min_parallel = kParallelMin) {
  if (tasks <= 1 || work < min_parallel) {
    for (long t = 0; t < tasks; t++) f(t);
    return;
  }
  TaskJob<F> j = {&f};
  parallel_for(tasks, task_fn<F>, &j);
}

}  // namespace NODENN_ISA_NS
}  // namespace nodenn
