// The first layer's share of an MLP training step (784 -> 100, batch 100, float32, SGD) on two threads, outside
// Node, two ways, alternated in one process (bench/README, "The MLP epoch, round three"):
//   pool:   as the library runs it today: the forward H = x W and the weight gradient gW = x^T dH each a GEMM
//           shared out by the pool in tiles, then sgd W -= lr gW in chunks on the pool;
//   affine: the same three kernels split by W's columns, core 0 columns [0, 48), core 1 [48, 100), each thread
//           calling the GEMM on one thread with ldb/ldc 100 and updating its own columns, so that W, gW and x stay
//           in the core that uses them from one step to the next.
// Between the forward and the weight gradient the caller alone derives dH from H (a stand-in for bias, ReLU, the
// second layer and the loss, which run on the caller today). Each step takes the next batch of x (600 batches,
// 188 MB: x comes from memory as in an epoch). The two ways must agree bit for bit (checked: H, gW and W after
// every sample), since each element is summed over the same K blocks in the same order.
//   F="-mavx512f -mavx512bw -mavx512dq -mavx512vl -mavx2 -mfma -mf16c -mprefer-vector-width=512"
//   g++ -O3 -fno-math-errno -std=gnu++17 -DNODENN_ISA_NS=v0 $F -Inative -c native/gemm.cc -o /tmp/v0.o
//   g++ -O3 -std=gnu++17 -Inative bench/mlp-affine.cc native/threads.cc /tmp/v0.o -o /tmp/mlp-affine -pthread
//   chrt -f 50 /tmp/mlp-affine [samples]
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

struct Net {
  std::vector<float> W, gW, H, dH;
  Net() : W(kIn * kOut), gW(kIn * kOut), H(kB * kOut), dH(kB * kOut) {
    for (long i = 0; i < kIn * kOut; i++) W[i] = (float)((i * 104729) % 1000) / 1000 - 0.5f;
  }
};

// dH from H on the caller: H > 0 ? H / 64 : 0 (deterministic, reads and writes all of H)
static void backward_stub(Net& n) {
  for (long i = 0; i < kB * kOut; i++) n.dH[i] = n.H[i] > 0 ? n.H[i] * (1.0f / 64) : 0.0f;
}

static void sgd_cols(Net& n, long c0, long c1, float lr) {
  for (long r = 0; r < kIn; r++)
    for (long c = c0; c < c1; c++) n.W[r * kOut + c] -= lr * n.gW[r * kOut + c];
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

static void step_pool(Net& n, const float* x) {
  nodenn::ThreadsInForce two(2);
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
  Net* n = nullptr;
  const float* x = nullptr;
  std::thread worker;

  void forward(long c0, long c1) {
    nodenn::v0::gemm<float>(false, false, kB, c1 - c0, kIn, 1, x, kIn, n->W.data() + c0, kOut, 0, n->H.data() + c0,
                            kOut);
  }
  void backward(long c0, long c1) {
    nodenn::v0::gemm<float>(true, false, kIn, c1 - c0, kB, 1, x, kIn, n->dH.data() + c0, kOut, 0, n->gW.data() + c0,
                            kOut);
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
        forward(kSplit, kOut);
        done.store(2 * s + 1, std::memory_order_release);
        wait_phase(2 * s + 2);
        if (stop.load()) return;
        backward(kSplit, kOut);
        done.store(2 * s + 2, std::memory_order_release);
      }
    });
  }
  ~Affine() {
    stop.store(true);
    worker.join();
  }
  long s = 0;
  void step(Net& net, const float* batch) {
    n = &net;
    x = batch;
    phase.store(2 * s + 1, std::memory_order_release);
    forward(0, kSplit);
    wait_done(2 * s + 1);
    backward_stub(net);
    phase.store(2 * s + 2, std::memory_order_release);
    backward(0, kSplit);
    wait_done(2 * s + 2);
    s++;
  }
};

static bool same(const std::vector<float>& a, const std::vector<float>& b) {
  return memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

int main(int argc, char** argv) {
  const int samples = argc > 1 ? atoi(argv[1]) : 7;
  nodenn::request_threads(0, 2);
  std::vector<float> X((size_t)kBatches * kB * kIn);
  for (size_t i = 0; i < X.size(); i++) X[i] = (float)((i * 7919) % 1000) / 1000 - 0.5f;
  Net a, b;
  std::vector<double> tp, ta;
  int bad = 0;
  for (int r = -1; r < samples; r++) {  // r = -1: warm-up
    double t0 = now();
    for (long i = 0; i < kBatches; i++) step_pool(a, X.data() + i * kB * kIn);
    double t1 = now(), t2;
    {
      Affine affine;  // its worker spins only during its own epoch, not during the pool's
      t1 = now();
      for (long i = 0; i < kBatches; i++) affine.step(b, X.data() + i * kB * kIn);
      t2 = now();
    }
    if (!same(a.H, b.H) || !same(a.gW, b.gW) || !same(a.W, b.W)) bad++;
    if (r >= 0) {
      tp.push_back((t1 - t0) / kBatches * 1e6);
      ta.push_back((t2 - t1) / kBatches * 1e6);
    }
  }
  std::sort(tp.begin(), tp.end());
  std::sort(ta.begin(), ta.end());
  printf("us per step (min / median of %d epochs of %d steps): pool %.1f / %.1f, affine %.1f / %.1f; bits %s\n",
         samples, kBatches, tp[0], tp[samples / 2], ta[0], ta[samples / 2], bad ? "DIFFER" : "identical");
  return bad ? 1 : 0;
}
