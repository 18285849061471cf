#include "threads.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

namespace nodenn {
namespace {

// Set while a thread runs a pool task: a parallel_for called from inside a task (e.g. a GEMM inside a conv task
// over images) runs its tasks inline instead of waiting on the pool that is busy running its caller.
thread_local bool t_in_task = false;

// A job is published as one atomic word, (generation << 32) | next task index; the caller and the workers claim
// tasks from it by compare-and-swap. The caller returns once every task has completed, so it never waits for a
// worker that has not started (on a busy machine a descheduled worker costs nothing; the caller does its share).
// Workers wait for a job by spinning for a short while (back-to-back calls, as in a training step, start in well
// under a microsecond), then sleep on a condition variable.
class Pool {
 public:
  ~Pool() { resize(0); }

  void resize(int workers) {
    std::unique_lock<std::mutex> lock(mu_);
    if ((int)threads_.size() == workers) return;
    stop_.store(true);
    cv_.notify_all();
    lock.unlock();
    for (auto& t : threads_) t.join();
    lock.lock();
    threads_.clear();
    stop_.store(false);
    unsigned long g = job_.load() >> 32;
    for (int i = 0; i < workers; i++) threads_.emplace_back([this, g] { loop(g); });
  }

  int workers() {
    std::lock_guard<std::mutex> lock(mu_);
    return (int)threads_.size();
  }

  void run(long n_tasks, TaskFn fn, void* ctx) {
    std::lock_guard<std::mutex> serial(run_mu_);  // one job at a time (N-API calls come from one thread anyway)
    uint64_t gen = (job_.load() >> 32) + 1;
    // The slot of this generation was last used two jobs ago, which has completed; a straggler that still reads
    // it cannot claim anything, since its compare-and-swap expects an older generation.
    Slot& slot = slots_[gen & 1];
    slot.fn.store(fn, std::memory_order_relaxed);
    slot.ctx.store(ctx, std::memory_order_relaxed);
    slot.n.store(n_tasks, std::memory_order_relaxed);
    done_.store(0, std::memory_order_relaxed);
    {
      // Under the lock: a worker about to sleep either sees the new job or is counted in sleepers_.
      std::lock_guard<std::mutex> lock(mu_);
      job_.store(gen << 32, std::memory_order_release);
    }
    if (sleepers_.load() > 0) cv_.notify_all();
    drain(gen);
    for (int spins = 0; done_.load(std::memory_order_acquire) != n_tasks; spins++) {
      if (spins < 4096)
        cpu_relax();
      else
        std::this_thread::yield();  // a worker is descheduled in the middle of a task: give it the core
    }
  }

 private:
  struct Slot {
    std::atomic<TaskFn> fn{nullptr};
    std::atomic<void*> ctx{nullptr};
    std::atomic<long> n{0};
  };

  static void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  }

  // Claims and runs tasks of generation gen until none is left (or a newer job replaced it).
  void drain(uint64_t gen) {
    uint64_t cur = job_.load(std::memory_order_acquire);
    for (;;) {
      if ((cur >> 32) != gen) return;
      const Slot& slot = slots_[gen & 1];
      long t = (long)(cur & 0xffffffffu);
      if (t >= slot.n.load(std::memory_order_relaxed)) return;
      if (!job_.compare_exchange_weak(cur, cur + 1, std::memory_order_acq_rel, std::memory_order_acquire)) continue;
      t_in_task = true;
      slot.fn.load(std::memory_order_relaxed)(slot.ctx.load(std::memory_order_relaxed), t);
      t_in_task = false;
      done_.fetch_add(1, std::memory_order_release);
      cur = job_.load(std::memory_order_acquire);
    }
  }

  uint64_t generation() { return job_.load(std::memory_order_acquire) >> 32; }
  bool posted(uint64_t seen) { return stop_.load() || generation() != seen; }

  void loop(uint64_t seen) {
    for (;;) {
      auto t0 = std::chrono::steady_clock::now();
      for (int spins = 0; !posted(seen); spins++) {
        cpu_relax();
        if ((spins & 255) == 255 && std::chrono::steady_clock::now() - t0 > std::chrono::microseconds(kSpinUs)) {
          std::unique_lock<std::mutex> lock(mu_);
          sleepers_.fetch_add(1);
          cv_.wait(lock, [&] { return posted(seen); });
          sleepers_.fetch_sub(1);
          break;
        }
      }
      if (stop_.load()) return;
      seen = generation();
      drain(seen);
    }
  }

  static constexpr int kSpinUs = 200;  // constexpr: an inline definition (odr-used by microseconds(const int&); a Debug or ASan build failed to link)
  std::mutex mu_, run_mu_;
  std::condition_variable cv_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stop_{false};
  std::atomic<int> sleepers_{0};
  std::atomic<uint64_t> job_{0};
  std::atomic<long> done_{0};
  Slot slots_[2];
};

Pool& pool() {
  static Pool* p = new Pool();  // leaked on purpose: joining threads during static destruction can deadlock
  return *p;
}

int g_threads = 0;

}  // namespace

int default_threads() {
  if (const char* env = std::getenv("NODENN_THREADS")) {
    int n = std::atoi(env);
    if (n >= 1 && n <= 1024) return n;
  }
  unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : (int)hw;
}

int get_threads() {
  if (g_threads == 0) set_threads(default_threads());
  return g_threads;
}

void set_threads(int n) {
  if (n < 1) n = 1;
  g_threads = n;
  pool().resize(n - 1);
}

void parallel_for(long n_tasks, TaskFn fn, void* ctx) {
  if (n_tasks <= 0) return;
  if (n_tasks == 1 || t_in_task || get_threads() == 1) {
    for (long t = 0; t < n_tasks; t++) fn(ctx, t);
    return;
  }
  pool().run(n_tasks, fn, ctx);
}

}  // namespace nodenn
