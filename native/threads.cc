#include "threads.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace nodenn {
namespace {

// Set while a thread runs a pool task: a parallel_for called from inside a task (e.g. a GEMM inside a conv task
// over images) runs its tasks inline instead of waiting on the pool that is busy running its caller.
thread_local bool t_in_task = false;

// The calling environment's thread count, put in force by ThreadsInForce around each call from JS.
thread_local int t_threads = 1;

// A job is published as one atomic word, (generation << 32) | next task index; the caller and the workers claim
// tasks from it by compare-and-swap. The caller returns once every task has completed, so it never waits for a
// worker that has not started (on a busy machine a descheduled worker costs nothing; the caller does its share).
// Workers wait for a job by spinning for a short while (back-to-back calls, as in a training step, start in well
// under a microsecond), then sleep on a condition variable.
//
// One job at a time: run_mu_ is held for a whole job, and also while workers are started or stopped, so the
// worker list only ever changes between jobs, from one thread. A job admits at most the caller's thread count
// minus one workers (its seats); the others go back to waiting.
class Pool {
 public:
  // Runs a job with at most `helpers` workers besides the caller. Returns false, having run nothing, when
  // another environment's job holds the pool or no worker can be had: the caller then runs the tasks itself.
  bool run(long n_tasks, TaskFn fn, void* ctx, int helpers) {
    std::unique_lock<std::mutex> serial(run_mu_, std::try_to_lock);
    if (!serial.owns_lock()) return false;
    fit(helpers);
    helpers = std::min(helpers, (int)threads_.size());
    if (helpers == 0) return false;
    uint64_t gen = (job_.load() >> 32) + 1;
    // The slot of this generation was last used two jobs ago, which has completed; a straggler that still reads
    // it cannot claim anything, since its compare-and-swap expects an older generation (at worst it takes a seat
    // and this job runs with one worker fewer).
    Slot& slot = slots_[gen & 1];
    slot.fn.store(fn, std::memory_order_relaxed);
    slot.ctx.store(ctx, std::memory_order_relaxed);
    slot.n.store(n_tasks, std::memory_order_relaxed);
    slot.seats.store(helpers, std::memory_order_relaxed);
    done_.store(0, std::memory_order_relaxed);
    {
      // Under the lock: a worker about to sleep either sees the new job or is counted in sleepers_.
      std::lock_guard<std::mutex> lock(mu_);
      job_.store(gen << 32, std::memory_order_release);
    }
    if (sleepers_.load() > 0) cv_.notify_all();
    drain(gen);
    for (int spins = 0; done_.load(std::memory_order_acquire) != n_tasks; spins++) {
      if (spins < kSpinsBeforeYield)
        cpu_relax();
      else
        std::this_thread::yield();  // a worker is descheduled in the middle of a task: give it the core
    }
    return true;
  }

  // At most `workers` workers from now on. Extra ones are stopped now if no job runs (always, with wait: it then
  // waits for the job in flight), else by the next job.
  void set_cap(int workers, bool wait) {
    cap_.store(workers);
    std::unique_lock<std::mutex> serial(run_mu_, std::defer_lock);
    if (wait)
      serial.lock();
    else if (!serial.try_lock())
      return;
    fit(0);
  }

 private:
  struct Slot {
    std::atomic<TaskFn> fn{nullptr};
    std::atomic<void*> ctx{nullptr};
    std::atomic<long> n{0};
    std::atomic<int> seats{0};
  };

  static void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  }

  // Under run_mu_: stops every worker if there are more than the cap, then starts workers up to `want` (within
  // the cap). A thread that cannot be created leaves the pool smaller; the work still gets done.
  void fit(int want) {
    int cap = cap_.load();
    if ((int)threads_.size() > cap) stop_all();
    want = std::min(want, cap);
    uint64_t g = generation();
    try {
      while ((int)threads_.size() < want) threads_.emplace_back([this, g] { loop(g); });
    } catch (...) {
    }
  }

  void stop_all() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_.store(true);
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
    threads_.clear();
    stop_.store(false);
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
        if ((spins & (kSpinsPerClockRead - 1)) == kSpinsPerClockRead - 1 &&
            std::chrono::steady_clock::now() - t0 > std::chrono::microseconds(kSpinUs)) {
          std::unique_lock<std::mutex> lock(mu_);
          sleepers_.fetch_add(1);
          cv_.wait(lock, [&] { return posted(seen); });
          sleepers_.fetch_sub(1);
          break;
        }
      }
      if (stop_.load()) return;
      seen = generation();
      if (slots_[seen & 1].seats.fetch_sub(1, std::memory_order_acq_rel) > 0) drain(seen);
    }
  }

  // An idle worker spins this long for the next job before it sleeps: jobs of one training step follow each other
  // within microseconds, and waking a sleeper costs more. constexpr, so that the member is defined inline:
  // microseconds() takes it by reference, which needs a definition at -O0.
  static constexpr int kSpinUs = 200;
  // Reading the clock costs more than a spin: once every this many spins (a power of two).
  static constexpr int kSpinsPerClockRead = 256;
  // The caller waiting for the last tasks spins this many times, then yields its core to a descheduled worker.
  static constexpr int kSpinsBeforeYield = 4096;
  std::mutex mu_, run_mu_;
  std::condition_variable cv_;
  std::vector<std::thread> threads_;  // changed only under run_mu_
  std::atomic<int> cap_{0};
  std::atomic<bool> stop_{false};
  std::atomic<int> sleepers_{0};
  std::atomic<uint64_t> job_{0};
  std::atomic<long> done_{0};
  Slot slots_[2];
};

// Leaked on purpose, like everything below: nothing may be destroyed at exit while a worker could still use it.
Pool& pool() {
  static Pool* p = new Pool();
  return *p;
}

// The thread counts the live environments ask for.
std::mutex& requests_mu() {
  static std::mutex* m = new std::mutex();
  return *m;
}
std::multiset<int>& requests() {
  static std::multiset<int>* r = new std::multiset<int>();
  return *r;
}

}  // namespace

ThreadsInForce::ThreadsInForce(int threads) : saved_(t_threads) { t_threads = threads; }
ThreadsInForce::~ThreadsInForce() { t_threads = saved_; }

int get_threads() { return t_threads; }

void request_threads(int before, int threads) {
  std::lock_guard<std::mutex> lock(requests_mu());
  std::multiset<int>& r = requests();
  if (before > 0) {
    auto it = r.find(before);
    if (it != r.end()) r.erase(it);
  }
  if (threads > 0) r.insert(threads);
  pool().set_cap(r.empty() ? 0 : *r.rbegin() - 1, r.empty());
}

void parallel_for(long n_tasks, TaskFn fn, void* ctx) {
  if (n_tasks <= 0) return;
  long helpers = std::min((long)t_threads - 1, n_tasks - 1);
  if (helpers > 0 && !t_in_task && pool().run(n_tasks, fn, ctx, (int)helpers)) return;
  for (long t = 0; t < n_tasks; t++) fn(ctx, t);
}

}  // namespace nodenn
