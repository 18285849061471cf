// linalg.cc — batched matrix products: one gemm (gemm.cc: packed, blocked, threaded over M and N) per matrix of
// the batch, the transposes passed on as gemm's flags. A broadcast operand is the same matrix for every product.
// Compiled once per ISA.
#include "kernels.h"

namespace nodenn {
namespace NODENN_ISA_NS {

// C[b] = op(A[b]) op(B[b]) for b < batch; false if gemm could not allocate its packed panels
template <typename T>
bool gemm_batched(bool transA, bool transB, long batch, long M, long N, long K, bool broadcastA, bool broadcastB,
                  const T* A, const T* B, T* C) {
  const long lda = transA ? M : K, ldb = transB ? K : N;
  for (long b = 0; b < batch; b++) {
    const T* a = broadcastA ? A : A + b * M * K;
    const T* bm = broadcastB ? B : B + b * K * N;
    if (!gemm<T>(transA, transB, M, N, K, (T)1, a, lda, bm, ldb, (T)0, C + b * M * N, N)) return false;
  }
  return true;
}

NODENN_KERNELS_LINALG(NODENN_INSTANTIATE)

}  // namespace NODENN_ISA_NS
}  // namespace nodenn
