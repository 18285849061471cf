// linalg.cc — batched matrix products: one gemm (gemm.cc: packed, blocked, threaded over M and N) per matrix of
// the batch, the transposes passed on as gemm's flags. A broadcast operand is the same matrix for every product.
// A batch of small products spreads its matrices over the threads instead (a gemm inside a pool task runs on that
// thread alone); either way each product is computed the same, so the result does not depend on the threads.
// Compiled once per ISA.
#include <atomic>

#include "chunks.h"
#include "kernels.h"

namespace nodenn {
namespace NODENN_ISA_NS {

// C[b] = op(A[b]) op(B[b]) for b < batch; false if gemm could not allocate its packed panels
template <typename T>
bool gemm_batched(bool transA, bool transB, long batch, long M, long N, long K, bool broadcastA, bool broadcastB,
                  const T* A, const T* B, T* C) {
  // C is empty: nothing to write, and 2^30 empty products (M or N 0) would cost seconds
  if (batch == 0 || M == 0 || N == 0) return true;
  const long lda = transA ? M : K, ldb = transB ? K : N;
  auto product = [&](long b) {
    const T* a = broadcastA ? A : A + b * M * K;
    const T* bm = broadcastB ? B : B + b * K * N;
    return gemm<T>(transA, transB, M, N, K, (T)1, a, lda, bm, ldb, (T)0, C + b * M * N, N);
  };
  // below about 64³ multiply-adds a gemm has too little work to share between threads
  const long flops = M * N * K;
  if (batch > 1 && flops < 64 * 64 * 64) {
    // a task takes a run of products of about 64³ multiply-adds in all: one 16³ product (~85 ns) a task spent
    // as long again taking the task from the pool, on each thread
    const long per = 64 * 64 * 64 / (flops > 0 ? flops : 1), tasks = (batch + per - 1) / per;
    std::atomic<bool> ok{true};
    for_tasks(tasks, batch * flops / 8, [&](long t) {
      const long end = (t + 1) * per < batch ? (t + 1) * per : batch;
      for (long b = t * per; b < end; b++)
        if (!product(b)) ok.store(false, std::memory_order_relaxed);
    });
    return ok.load();
  }
  for (long b = 0; b < batch; b++)
    if (!product(b)) return false;
  return true;
}

NODENN_KERNELS_LINALG(NODENN_INSTANTIATE)

}  // namespace NODENN_ISA_NS
}  // namespace nodenn
