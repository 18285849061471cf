// A small persistent thread pool. Work is split into tasks whose boundaries depend only on the problem size,
// never on the number of threads, so every result is bitwise identical whatever NODENN_THREADS says.
#pragma once

namespace nodenn {

// Runs fn(ctx, task) for task in [0, n_tasks) on the pool (the calling thread takes part). Blocks until done.
// A plain function pointer, not std::function: this header is included by the per-ISA objects, which must not
// instantiate templates that the linker could merge with baseline code.
typedef void (*TaskFn)(void* ctx, long task);
void parallel_for(long n_tasks, TaskFn fn, void* ctx);

int get_threads();
void set_threads(int n);  // n >= 1; takes effect for the next parallel_for
int default_threads();

}  // namespace nodenn
