// gemm.cc — C = alpha * op(A) op(B) + beta * C, packed and cache-blocked (Goto/BLIS scheme).
// Compiled once per ISA. Every output element is produced by exactly one task, and K is always walked in the
// same blocks in the same order, so the result does not depend on the number of threads.
#include <stdlib.h>
#include <string.h>

#include "kernels.h"
#include "simd.h"
#include "threads.h"

namespace nodenn {
namespace NODENN_ISA_NS {
namespace {

// Register tile: MR rows of C by NR = 2 vectors of columns. MR * 2 accumulators + 2 B vectors + 1 broadcast
// must fit in the register file (32 with AVX-512, 16 otherwise).
template <typename T> struct Blocking {
  typedef typename Vec<T>::V V;
  typedef typename Vec<T>::U U;
  enum {
    L = Vec<T>::L,
    NR = 2 * L,
    MR = NODENN_REGS == 32 ? 12 : 6,
    KC = 256,             // depth of one packed block: an MR x KC and a KC x NR panel stay in L1
    MC = MR * 12,         // rows of packed A per task: MC x KC stays in L2
    NC = NR * 16,         // columns per task
  };
};

// Scratch for the packed panels, kept per calling thread and grown on demand: no allocation per call.
struct Scratch {
  void* ptr;
  size_t bytes;
};
thread_local Scratch scratch_a = {nullptr, 0}, scratch_b = {nullptr, 0};

void* grow(Scratch& s, size_t bytes) {
  if (s.bytes < bytes) {
    free(s.ptr);
    bytes = (bytes + 4095) & ~(size_t)4095;
    s.ptr = aligned_alloc(64, bytes);
    s.bytes = s.ptr ? bytes : 0;
  }
  return s.ptr;
}

template <typename T> struct GemmJob {
  bool trans_a, trans_b;
  long M, N, K;
  T alpha;
  const T* A;
  long lda;
  const T* B;
  long ldb;
  T beta;
  T* C;
  long ldc;
  // current K block
  long pc, kc;
  bool first;  // first K block: C is scaled by beta (or overwritten when beta == 0)
  T* a_pack;   // ceil(M / MR) strips of kc x MR
  T* b_pack;   // ceil(N / NR) strips of kc x NR
  long m_strips, n_strips, m_tiles, n_tiles;
};

// a_pack strip s holds op(A)[s*MR + r][pc + k] at [k * MR + r], zero-padded past M.
template <typename T> void pack_a_task(void* ctx, long s) {
  typedef Blocking<T> Bk;
  GemmJob<T>& j = *(GemmJob<T>*)ctx;
  T* dst = j.a_pack + s * Bk::MR * j.kc;
  long i0 = s * Bk::MR, rows = j.M - i0 < Bk::MR ? j.M - i0 : Bk::MR;
  if (!j.trans_a) {
    for (long r = 0; r < rows; r++) {
      const T* src = j.A + (i0 + r) * j.lda + j.pc;
      for (long k = 0; k < j.kc; k++) dst[k * Bk::MR + r] = src[k];
    }
  } else {
    for (long k = 0; k < j.kc; k++) {
      const T* src = j.A + (j.pc + k) * j.lda + i0;
      for (long r = 0; r < rows; r++) dst[k * Bk::MR + r] = src[r];
    }
  }
  if (rows < Bk::MR)
    for (long k = 0; k < j.kc; k++)
      for (long r = rows; r < Bk::MR; r++) dst[k * Bk::MR + r] = 0;
}

// b_pack strip s holds op(B)[pc + k][s*NR + c] at [k * NR + c], zero-padded past N.
template <typename T> void pack_b_task(void* ctx, long s) {
  typedef Blocking<T> Bk;
  GemmJob<T>& j = *(GemmJob<T>*)ctx;
  T* dst = j.b_pack + s * Bk::NR * j.kc;
  long j0 = s * Bk::NR, cols = j.N - j0 < Bk::NR ? j.N - j0 : Bk::NR;
  if (!j.trans_b) {
    for (long k = 0; k < j.kc; k++) {
      const T* src = j.B + (j.pc + k) * j.ldb + j0;
      long c = 0;
      for (; c < cols; c++) dst[k * Bk::NR + c] = src[c];
      for (; c < Bk::NR; c++) dst[k * Bk::NR + c] = 0;
    }
  } else {
    for (long c = 0; c < cols; c++) {
      const T* src = j.B + (j0 + c) * j.ldb + j.pc;
      for (long k = 0; k < j.kc; k++) dst[k * Bk::NR + c] = src[k];
    }
    for (long c = cols; c < Bk::NR; c++)
      for (long k = 0; k < j.kc; k++) dst[k * Bk::NR + c] = 0;
  }
}

// The register tile: acc[MR][2] = a_strip (MR x kc) * b_strip (kc x NR), then merged into C.
template <typename T>
inline void micro_kernel(long kc, const T* __restrict a, const T* __restrict b, T* C, long ldc, long rows, long cols,
                         T alpha, T beta, bool overwrite) {
  typedef Blocking<T> Bk;
  typedef typename Bk::V V;
  typedef typename Bk::U U;
  enum { MR = Bk::MR, NR = Bk::NR, L = Bk::L };
  V acc[MR][2];
#pragma GCC unroll 16
  for (int r = 0; r < MR; r++) acc[r][0] = acc[r][1] = V{} ;
  for (long k = 0; k < kc; k++) {
    V b0 = *(const V*)(b + k * NR), b1 = *(const V*)(b + k * NR + L);
#pragma GCC unroll 16
    for (int r = 0; r < MR; r++) {
      V ar = V{} + a[k * MR + r];
      acc[r][0] += ar * b0;
      acc[r][1] += ar * b1;
    }
  }
  if (rows == MR && cols == NR) {
#pragma GCC unroll 16
    for (int r = 0; r < MR; r++) {
      U* c = (U*)(C + r * ldc);
      if (overwrite) {
        c[0] = alpha * acc[r][0];
        c[1] = alpha * acc[r][1];
      } else {
        c[0] = beta * c[0] + alpha * acc[r][0];
        c[1] = beta * c[1] + alpha * acc[r][1];
      }
    }
    return;
  }
  T tile[MR * NR] __attribute__((aligned(64)));
  for (int r = 0; r < MR; r++) {
    *(V*)(tile + r * NR) = acc[r][0];
    *(V*)(tile + r * NR + L) = acc[r][1];
  }
  for (long r = 0; r < rows; r++)
    for (long c = 0; c < cols; c++) {
      T* p = C + r * ldc + c;
      *p = overwrite ? alpha * tile[r * NR + c] : beta * *p + alpha * tile[r * NR + c];
    }
}

// One task: an MC x NC tile of C for the current K block.
template <typename T> void compute_task(void* ctx, long t) {
  typedef Blocking<T> Bk;
  GemmJob<T>& j = *(GemmJob<T>*)ctx;
  long mt = t / j.n_tiles, nt = t % j.n_tiles;
  long s_begin = mt * (Bk::MC / Bk::MR), s_end = s_begin + Bk::MC / Bk::MR;
  if (s_end > j.m_strips) s_end = j.m_strips;
  long q_begin = nt * (Bk::NC / Bk::NR), q_end = q_begin + Bk::NC / Bk::NR;
  if (q_end > j.n_strips) q_end = j.n_strips;
  bool overwrite = j.first && j.beta == 0;
  T beta = j.first ? j.beta : (T)1;
  for (long q = q_begin; q < q_end; q++) {
    const T* b = j.b_pack + q * Bk::NR * j.kc;
    long col0 = q * Bk::NR, cols = j.N - col0 < Bk::NR ? j.N - col0 : Bk::NR;
    for (long s = s_begin; s < s_end; s++) {
      long row0 = s * Bk::MR, rows = j.M - row0 < Bk::MR ? j.M - row0 : Bk::MR;
      micro_kernel<T>(j.kc, j.a_pack + s * Bk::MR * j.kc, b, j.C + row0 * j.ldc + col0, j.ldc, rows, cols, j.alpha,
                      beta, overwrite);
    }
  }
}

template <typename T> void scale_rows_task(void* ctx, long r) {
  GemmJob<T>& j = *(GemmJob<T>*)ctx;
  T* c = j.C + r * j.ldc;
  if (j.beta == 0)
    for (long x = 0; x < j.N; x++) c[x] = 0;
  else
    for (long x = 0; x < j.N; x++) c[x] *= j.beta;
}

// Tasks are worth handing to the pool only when they carry enough work to pay for the wake-up.
inline void run_tasks(long n, TaskFn fn, void* ctx, double flops_per_task) {
  if (flops_per_task < 2e4 || n == 1) {
    for (long t = 0; t < n; t++) fn(ctx, t);
  } else {
    parallel_for(n, fn, ctx);
  }
}

}  // namespace

template <typename T>
bool gemm(bool trans_a, bool trans_b, long M, long N, long K, T alpha, const T* A, long lda, const T* B, long ldb,
          T beta, T* C, long ldc) {
  typedef Blocking<T> Bk;
  if (M == 0 || N == 0) return true;
  GemmJob<T> j;
  j.trans_a = trans_a;
  j.trans_b = trans_b;
  j.M = M;
  j.N = N;
  j.K = K;
  j.alpha = alpha;
  j.A = A;
  j.lda = lda;
  j.B = B;
  j.ldb = ldb;
  j.beta = beta;
  j.C = C;
  j.ldc = ldc;
  if (K == 0 || alpha == 0) {
    if (beta != 1) run_tasks(M, scale_rows_task<T>, &j, (double)N * 1000);
    return true;
  }
  j.m_strips = (M + Bk::MR - 1) / Bk::MR;
  j.n_strips = (N + Bk::NR - 1) / Bk::NR;
  j.m_tiles = (j.m_strips + Bk::MC / Bk::MR - 1) / (Bk::MC / Bk::MR);
  j.n_tiles = (j.n_strips + Bk::NC / Bk::NR - 1) / (Bk::NC / Bk::NR);
  long kc_max = K < Bk::KC ? K : Bk::KC;
  j.a_pack = (T*)grow(scratch_a, sizeof(T) * j.m_strips * Bk::MR * kc_max);
  j.b_pack = (T*)grow(scratch_b, sizeof(T) * j.n_strips * Bk::NR * kc_max);
  if (!j.a_pack || !j.b_pack) return false;
  for (long pc = 0; pc < K; pc += Bk::KC) {
    j.pc = pc;
    j.kc = K - pc < Bk::KC ? K - pc : Bk::KC;
    j.first = pc == 0;
    run_tasks(j.m_strips, pack_a_task<T>, &j, (double)Bk::MR * j.kc * 8);
    run_tasks(j.n_strips, pack_b_task<T>, &j, (double)Bk::NR * j.kc * 8);
    double tile_flops = 2.0 * j.kc * (M < Bk::MC ? M : Bk::MC) * (N < Bk::NC ? N : Bk::NC);
    run_tasks(j.m_tiles * j.n_tiles, compute_task<T>, &j, tile_flops);
  }
  return true;
}

template bool gemm<float>(bool, bool, long, long, long, float, const float*, long, const float*, long, float, float*,
                          long);
template bool gemm<double>(bool, bool, long, long, long, double, const double*, long, const double*, long, double,
                           double*, long);

}  // namespace NODENN_ISA_NS
}  // namespace nodenn
