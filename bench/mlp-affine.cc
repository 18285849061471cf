// The first layer's share of an MLP training step (784 -> 100, batch 100, float32, SGD) on two threads, outside
// Node, two ways, alternated in one process (bench/README, "The MLP epoch, round three"):
//   pool:   as the library runs it today: the forward H = x W and the weight gradient gW = x^T dH each a GEMM
//           shared out by the pool in tiles, then sgd W -= lr gW in chunks on the pool;
//   affine: the same three kernels split by W's columns, core 0 columns [0, 48), core 1 [48, 100), each thread
//           calling the GEMM on one thread with ldb/ldc 100 and updating its own columns, so that each core's
//           columns of W and gW stay in its own caches from one step to the next (x is read by both);
//   one thread: today's way on one thread, for the speed of a core at the moment.
// Between the forward and the weight gradient the caller alone derives dH from H (a stand-in for bias, ReLU, the
// second layer and the loss, which run on the caller today). Each step takes the next batch of x (600 batches,
// 188 MB: x comes from memory as in an epoch). The two ways must agree bit for bit (checked: H, gW and W after
// every sample), since each element is summed over the same K blocks in the same order. Options: warm (the same
// batch every step), padded (the affine run's W, gW, H and dH rows 112 floats apart, 64-byte aligned: the column
// halves share no cache line), solo (the affine worker skips its half: the caller's half timed with the other core
// idle; its results are then wrong and not checked). Prints the caller's time per phase of the affine run.
//   F="-mavx512f -mavx512bw -mavx512dq -mavx512vl -mavx2 -mfma -mf16c -mprefer-vector-width=512"
//   g++ -O3 -fno-math-errno -std=gnu++17 -DNODENN_ISA_NS=v0 $F -Inative -c native/gemm.cc -o /tmp/v0.o
//   g++ -O3 -std=gnu++17 -Inative bench/mlp-affine.cc native/threads.cc /tmp/v0.o -o /tmp/mlp-affine -pthread
//   chrt -f 50 /tmp/mlp-affine [samples] [warm] [padded] [solo]
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

#include "threads.h"

namespace nodenn {
namespace v0 {
template <typename T> bool gemm(bool, bool, long, long, long, T, const T*, long, const T*, long, T, T*, long);
}
}  // namespace nodenn

enum { kB = 100, kIn = 784, kOut = 100, kBatches = 600, kSplit = 48, kSgdChunks = 5 };

static double now() {
  timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

// Floats on a cache-line boundary.
struct Buf {
  float* p;
  explicit Buf(long n) : p((float*)aligned_alloc(64, (n * sizeof(float) + 63) / 64 * 64)) { memset(p, 0, n * 4); }
  ~Buf() { free(p); }
  Buf(const Buf&) = delete;
  float& operator[](long i) { return p[i]; }
  const float& operator[](long i) const { return p[i]; }
  float* data() { return p; }
  const float* data() const { return p; }
};

// ld: the row stride of W, gW, H and dH in floats: 100, or 112 (rows of 7 whole cache lines, so that the columns
// [0, 48) and [48, 100) share no line: the "padded" run).
struct Net {
  long ld;
  Buf W, gW, H, dH;
  explicit Net(long ld_ = kOut) : ld(ld_), W(kIn * ld_), gW(kIn * ld_), H(kB * ld_), dH(kB * ld_) {
    for (long r = 0; r < kIn; r++)
      for (long c = 0; c < kOut; c++) W[r * ld + c] = (float)(((r * kOut + c) * 104729) % 1000) / 1000 - 0.5f;
  }
};

// dH from H on the caller: H > 0 ? H / 64 : 0 (deterministic, reads and writes all of H)
static void backward_stub(Net& n) {
  for (long r = 0; r < kB; r++)
    for (long c = 0; c < kOut; c++) {
      const float h = n.H[r * n.ld + c];
      n.dH[r * n.ld + c] = h > 0 ? h * (1.0f / 64) : 0.0f;
    }
}

static void sgd_cols(Net& n, long c0, long c1, float lr) {
  for (long r = 0; r < kIn; r++)
    for (long c = c0; c < c1; c++) n.W[r * n.ld + c] -= lr * n.gW[r * n.ld + c];
}

struct SgdJob {
  Net* n;
  float lr;
};
static void sgd_chunk(void* ctx, long t) {
  SgdJob& j = *(SgdJob*)ctx;
  const long total = (long)kIn * kOut, b = t * total / kSgdChunks, e = (t + 1) * total / kSgdChunks;
  for (long i = b; i < e; i++) j.n->W[i] -= j.lr * j.n->gW[i];
}

static void step_pool(Net& n, const float* x, int threads) {
  nodenn::ThreadsInForce in_force(threads);
  nodenn::v0::gemm<float>(false, false, kB, kOut, kIn, 1, x, kIn, n.W.data(), kOut, 0, n.H.data(), kOut);
  backward_stub(n);
  nodenn::v0::gemm<float>(true, false, kIn, kOut, kB, 1, x, kIn, n.dH.data(), kOut, 0, n.gW.data(), kOut);
  SgdJob j{&n, 0.01f};
  nodenn::parallel_for(kSgdChunks, sgd_chunk, &j);
}

// Two threads in lock step: the worker spins on `phase` (as the pool's workers spin between a step's jobs).
struct Affine {
  std::atomic<long> phase{0}, done{0};
  std::atomic<bool> stop{false};
  bool solo = false;  // the worker only answers: the caller's half timed with the other core idle (wrong results)
  Net* n = nullptr;
  const float* x = nullptr;
  std::thread worker;

  void forward(long c0, long c1) {
    nodenn::v0::gemm<float>(false, false, kB, c1 - c0, kIn, 1, x, kIn, n->W.data() + c0, n->ld, 0, n->H.data() + c0,
                            n->ld);
  }
  void backward(long c0, long c1) {
    nodenn::v0::gemm<float>(true, false, kIn, c1 - c0, kB, 1, x, kIn, n->dH.data() + c0, n->ld, 0, n->gW.data() + c0,
                            n->ld);
    sgd_cols(*n, c0, c1, 0.01f);
  }
  void wait_phase(long p) {
    while (phase.load(std::memory_order_acquire) < p && !stop.load(std::memory_order_relaxed)) {
    }
  }
  void wait_done(long d) {
    while (done.load(std::memory_order_acquire) < d) {
    }
  }
  Affine() {
    worker = std::thread([this] {
      for (long s = 0;; s++) {
        wait_phase(2 * s + 1);
        if (stop.load()) return;
        if (!solo) forward(kSplit, kOut);
        done.store(2 * s + 1, std::memory_order_release);
        wait_phase(2 * s + 2);
        if (stop.load()) return;
        if (!solo) backward(kSplit, kOut);
        done.store(2 * s + 2, std::memory_order_release);
      }
    });
  }
  ~Affine() {
    stop.store(true);
    worker.join();
  }
  long s = 0;
  double spent[5] = {0, 0, 0, 0, 0};  // the caller's forward, wait, stub, backward + sgd, wait (seconds)
  void step(Net& net, const float* batch) {
    n = &net;
    x = batch;
    double t[6];
    t[0] = now();
    phase.store(2 * s + 1, std::memory_order_release);
    forward(0, kSplit);
    t[1] = now();
    wait_done(2 * s + 1);
    t[2] = now();
    backward_stub(net);
    t[3] = now();
    phase.store(2 * s + 2, std::memory_order_release);
    backward(0, kSplit);
    t[4] = now();
    wait_done(2 * s + 2);
    t[5] = now();
    for (int i = 0; i < 5; i++) spent[i] += t[i + 1] - t[i];
    s++;
  }
};

// the logical rows x kOut elements of a (row stride la) and b (stride lb), bit for bit
static bool same(const Buf& a, long la, const Buf& b, long lb, long rows) {
  for (long r = 0; r < rows; r++)
    if (memcmp(a.data() + r * la, b.data() + r * lb, kOut * sizeof(float)) != 0) return false;
  return true;
}
static bool same(const Net& a, const Net& b) {
  return same(a.H, a.ld, b.H, b.ld, kB) && same(a.gW, a.ld, b.gW, b.ld, kIn) && same(a.W, a.ld, b.W, b.ld, kIn);
}

int main(int argc, char** argv) {
  const int samples = argc > 1 ? atoi(argv[1]) : 7;
  bool warm = false, padded = false, solo = false;
  for (int i = 2; i < argc; i++) {
    warm = warm || !strcmp(argv[i], "warm");        // the same batch every step
    padded = padded || !strcmp(argv[i], "padded");  // the affine run's rows 112 floats apart
    solo = solo || !strcmp(argv[i], "solo");
  }
  const long batches = warm ? 1 : kBatches;
  nodenn::request_threads(0, 2);
  std::vector<float> X((size_t)kBatches * kB * kIn);
  for (size_t i = 0; i < X.size(); i++) X[i] = (float)((i * 7919) % 1000) / 1000 - 0.5f;
  Net a, b(padded ? 112 : kOut), c;
  std::vector<double> tp, ta, t1s;
  double spent[5] = {0, 0, 0, 0, 0};
  int bad = 0;
  for (int r = -1; r < samples; r++) {  // r = -1: warm-up
    double t0 = now();
    for (long i = 0; i < kBatches; i++) step_pool(a, X.data() + i % batches * kB * kIn, 2);
    double t1 = now(), t2;
    {
      Affine affine;  // its worker spins only during its own epoch, not during the pool's
      affine.solo = solo;
      t1 = now();
      for (long i = 0; i < kBatches; i++) affine.step(b, X.data() + i % batches * kB * kIn);
      t2 = now();
      if (r >= 0)
        for (int i = 0; i < 5; i++) spent[i] += affine.spent[i];
    }
    double t3 = now();
    for (long i = 0; i < kBatches; i++) step_pool(c, X.data() + i % batches * kB * kIn, 1);  // the speed of a core
    if (r >= 0) t1s.push_back((now() - t3) / kBatches * 1e6);
    if ((!solo && !same(a, b)) || !same(a, c)) bad++;
    if (r >= 0) {
      tp.push_back((t1 - t0) / kBatches * 1e6);
      ta.push_back((t2 - t1) / kBatches * 1e6);
    }
  }
  std::sort(tp.begin(), tp.end());
  std::sort(ta.begin(), ta.end());
  std::sort(t1s.begin(), t1s.end());
  printf(
      "us per step (min / median of %d epochs of %d steps): pool %.1f / %.1f, affine %.1f / %.1f, one thread %.1f / "
      "%.1f; bits %s\n",
      samples, kBatches, tp[0], tp[samples / 2], ta[0], ta[samples / 2], t1s[0], t1s[samples / 2],
      bad ? "DIFFER" : "identical");
  const double per = 1e6 / ((double)samples * kBatches);
  printf(
      "affine, the caller's mean us per step: forward %.1f, waiting %.1f, dH %.1f, weight gradient + sgd %.1f, "
      "waiting %.1f\n",
      spent[0] * per, spent[1] * per, spent[2] * per, spent[3] * per, spent[4] * per);
  return bad ? 1 : 0;
}
