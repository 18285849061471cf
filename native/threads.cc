#include "threads.h"

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

namespace nodenn {
namespace {

// Set while a thread runs pool tasks: a parallel_for called from inside a task (e.g. a GEMM inside a conv task
// over images) runs its tasks inline instead of waiting on the pool that is busy running its caller.
thread_local bool t_in_task = false;

// Workers sleep on a condition variable between jobs; a job is a task counter the workers and the caller drain.
class Pool {
 public:
  ~Pool() { resize(0); }

  void resize(int workers) {
    std::unique_lock<std::mutex> lock(mu_);
    if ((int)threads_.size() == workers) return;
    stop_ = true;
    cv_.notify_all();
    lock.unlock();
    for (auto& t : threads_) t.join();
    lock.lock();
    threads_.clear();
    stop_ = false;
    // Each worker starts from the current generation so that a job posted before it first runs is not missed.
    for (int i = 0; i < workers; i++) threads_.emplace_back([this, g = generation_] { loop(g); });
  }

  int workers() {
    std::lock_guard<std::mutex> lock(mu_);
    return (int)threads_.size();
  }

  void run(long n_tasks, TaskFn fn, void* ctx) {
    std::lock_guard<std::mutex> serial(run_mu_);  // one job at a time (N-API calls come from one thread anyway)
    {
      std::lock_guard<std::mutex> lock(mu_);
      fn_ = fn;
      ctx_ = ctx;
      n_tasks_ = n_tasks;
      next_.store(0);
      pending_ = (long)threads_.size();
      generation_++;
    }
    cv_.notify_all();
    drain();
    std::unique_lock<std::mutex> lock(mu_);
    done_cv_.wait(lock, [this] { return pending_ == 0; });
  }

 private:
  void drain() {
    t_in_task = true;
    for (;;) {
      long t = next_.fetch_add(1);
      if (t >= n_tasks_) break;
      fn_(ctx_, t);
    }
    t_in_task = false;
  }

  void loop(unsigned long seen) {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      cv_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
      lock.unlock();
      drain();
      lock.lock();
      if (--pending_ == 0) done_cv_.notify_one();
    }
  }

  std::mutex mu_, run_mu_;
  std::condition_variable cv_, done_cv_;
  std::vector<std::thread> threads_;
  bool stop_ = false;
  unsigned long generation_ = 0;
  TaskFn fn_ = nullptr;
  void* ctx_ = nullptr;
  long n_tasks_ = 0;
  long pending_ = 0;
  std::atomic<long> next_{0};
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
