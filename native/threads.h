// A small persistent thread pool. Work is split into tasks whose boundaries depend only on the problem size,
// never on the number of threads, so every result is bitwise identical whatever the thread count.
//
// The pool is shared by every JS environment of the process (the main thread and each worker), while the thread
// count belongs to the environment: the addon puts the caller's count in force for each call (ThreadsInForce),
// and the pool never keeps more workers than the largest count an environment still asks for.
#pragma once

namespace nodenn {

// Runs fn(ctx, task) for task in [0, n_tasks) with up to get_threads() threads (the calling thread takes part).
// Blocks until done. When another environment's job holds the pool, the calling thread runs every task itself.
// A plain function pointer, not std::function: this header is included by the per-ISA objects, which must not
// instantiate templates that the linker could merge with baseline code.
typedef void (*TaskFn)(void* ctx, long task);
void parallel_for(long n_tasks, TaskFn fn, void* ctx);

// The thread count in force on the calling thread (1 outside a call from JS).
int get_threads();

// Puts an environment's thread count in force on this thread for the lifetime of the object (one call from JS).
class ThreadsInForce {
 public:
  explicit ThreadsInForce(int threads);
  ~ThreadsInForce();
  ThreadsInForce(const ThreadsInForce&) = delete;
  ThreadsInForce& operator=(const ThreadsInForce&) = delete;

 private:
  int saved_;
};

// An environment asks for `threads` instead of `before` (0: it did not exist / it is gone). When the largest
// count asked for drops, the extra workers stop (now if the pool is idle, else at its next job); when no
// environment is left, every worker is stopped and joined before this returns.
void request_threads(int before, int threads);

}  // namespace nodenn
