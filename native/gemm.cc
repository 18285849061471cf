// gemm.cc — C = alpha * op(A) op(B) + beta * C, packed and cache-blocked (Goto/BLIS scheme).
// Compiled once per ISA; the register tile follows the vector width (simd.h), so the AVX-512 code is the AVX2
// code with wider vectors and more rows.
//
// One parallel pass per call, one pool wake-up: tiles of C (a few MR-row strips of A x a few NR-column strips of
// op(B)), each task walking the K blocks in order. op(B) is packed by the tasks themselves: before a K block, a
// task packs the blocks of its B strips that no task has packed yet and waits only for those another task is
// packing, so the packing is shared out with the tiles (no pack pass and barrier of its own) and a block is in
// its packer's L2 at its first use. Consecutive tasks take the A strips of the same B strips, so that the two
// tasks running at once share the packing and the B panel in L3. (A small B that is not transposed is read in
// place, see gemm().) A is read in place, transposed or not: the micro-kernel broadcasts its elements straight
// from the matrix (MR rows, or MR contiguous elements per k), which measured faster than packing it at every size
// tried (100 to 1024, both dtypes; also a plain row copy of each strip into an L1 buffer: 1024³ -4% float32,
// -7% float64); the last, partial strip too (last_strip).
// Every element of C is produced by exactly one task, tile boundaries depend only on the problem size and K is
// always walked in the same blocks in the same order, so the result does not depend on the number of threads.
// Problems with a handful of rows (a batch-1 forward) skip packing (B transposed is transposed into scratch first);
// each element of C is still summed in the packed path's order, so a row's result does not depend on the other
// rows of the call.
// Products of one B strip and one K block below the threading threshold (a batched matmul's 16 x 16 x 16) skip
// packing as well (tiny_product), through the same micro-kernel.
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include <utility>

#include "kernels.h"
#include "scratch.h"
#include "simd.h"
#include "threads.h"

namespace nodenn {
namespace NODENN_ISA_NS {
namespace {

// Register tile: MR rows of C by NR = NV vectors of columns: NV * MR accumulators, NV B vectors, and A elements
// broadcast straight from memory. 6 x 4 = 24 of 32 registers with AVX-512: per k 4 B loads and 6 broadcasts for
// 24 FMAs where the 12 x 2 tile before it needed 2 and 12, and A's strip is 6 rows (6 lines of an L1 set at
// lda = 4 KB, not 12). Zen 5, 1024^3, 2 threads, median: float32 +3-6%, float64 +6%; one thread +3-4%; but 784 x
// 128 x 256 (A transposed) -3-6% and 100 x 100 x 784 float64 -4-7% (bench/README "GEMM, round 6"), won back by
// 12 x 2 tiles where B is read in place and narrow (gemm(), "GEMM, round 7").
// 6 x 2 = 12 of 16 otherwise.
template <typename T> struct Blocking {
  typedef typename Vec<T>::V V;
  typedef typename Vec<T>::U U;
  enum {
    L = Vec<T>::L,
    NV = NODENN_REGS == 32 ? 4 : 2,
    NR = NV * L,
    MR = 6,
    KC = 256,  // depth of a K block: the MR x KC A strip of the inner loop stays in L1
    // Largest tile of one compute task: MT A strips by NT B strips. The NT B strips of one K block
    // (KC x NT*NR, L2_BYTES) stay in L2 while the task walks its A strips (144 rows of them, 24 strips of 6 or 12
    // of 12: the B panel is fetched into L2 once per 144 rows; 96 rows measured 3% slower at 1024³, 192 no
    // faster). With AVX-512, half of the 1 MB
    // or more of L2 those cores have (Zen 4/5, Intel server cores): an A strip, once in L1, then serves 16 B
    // strips before the next is fetched, so A is read from L3/memory half as often as with 256 KB (Zen 5, 2
    // threads, float32, median: 1024³ +2% on average, 2048 x 2048 x 512 +3%; one thread and float64 unchanged;
    // bench/README "Wider B panels"). 256 KB otherwise (AVX2 cores with 256 or 512 KB of L2).
    MT = NODENN_REGS == 32 ? 24 : 12,
    L2_BYTES = (NODENN_REGS == 32 ? 512 : 256) * 1024,
    NT = L2_BYTES / (KC * NR * (int)sizeof(T)),
    SMALL_M = 4,  // at most this many rows: no packing (batch-1 forward, GEMV)
  };
};

// The packed panels of B, per calling thread (scratch.h).
thread_local Scratch scratch;

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
  // Packed B: K block starting at pc, strip q at b_pack[pc * n_pad + q * NR * kc], element (k, c) at [k * ld + c]
  // with ld = packed_ld(cols): NR, or fewer whole vectors for a last, narrower strip.
  T* b_pack;
  // Whether K block b's strip q is packed, at b_ready[b * n_strips + q]: kBlockUnpacked, kBlockPacking or kBlockReady.
  // The compute tasks pack the blocks they need as they go (see need_b_blocks); null when B is read in place.
  int* b_ready;
  // B read in place (not transposed, small): every strip is read from B with stride ldb, a last strip that ends
  // inside a vector with that vector masked (rows_in_place); nothing is packed.
  bool b_inplace;
  // Rows per A strip: MR, or 2 * MR for a B read in place with AVX-512 (tall: the 12 x 2 tile, see gemm()).
  bool tall;
  long mr;
  long m_strips, n_strips, n_pad;
  long mt, nt, m_tiles, n_tiles;  // strips per tile (at most; see compute_task), tiles
};

// Row stride of a packed strip of `cols` columns: its columns rounded up to whole vectors, NR for a full strip (the
// micro-kernel reads that many vectors per k: packing a narrower last strip to NR would write and fetch lines it
// never uses; the 4 columns past 96 of a 100-wide layer take one vector).
template <typename T> inline long packed_ld(long cols) {
  enum { L = Vec<T>::L };
  return (cols + L - 1) / L * L;
}

// Packs strip q of op(B), K block [pc, pc + kc), zero-padded past N to packed_ld(cols) columns.
template <typename T> void pack_b_block(const GemmJob<T>& j, long pc, long kc, long q) {
  enum { NR = Blocking<T>::NR };
  long j0 = q * NR, cols = j.N - j0 < NR ? j.N - j0 : (long)NR;
  const long ld = packed_ld<T>(cols);
  T* dst = j.b_pack + pc * j.n_pad + q * NR * kc;
  if (!j.trans_b) {
    if (cols == NR) {
      for (long k = 0; k < kc; k++) {
        const T* src = j.B + (pc + k) * j.ldb + j0;
        for (int c = 0; c < NR; c++) dst[k * NR + c] = src[c];
      }
    } else {
      for (long k = 0; k < kc; k++) {
        const T* src = j.B + (pc + k) * j.ldb + j0;
        long c = 0;
        for (; c < cols; c++) dst[k * ld + c] = src[c];
        for (; c < ld; c++) dst[k * ld + c] = 0;
      }
    }
  } else {
    for (long c = 0; c < cols; c++) {
      const T* src = j.B + (j0 + c) * j.ldb + pc;
      for (long k = 0; k < kc; k++) dst[k * ld + c] = src[k];
    }
    for (long c = cols; c < ld; c++)
      for (long k = 0; k < kc; k++) dst[k * ld + c] = 0;
  }
}

enum { kBlockUnpacked = 0, kBlockPacking = 1, kBlockReady = 2 };

inline void spin_pause() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// Makes sure strips [q_begin, q_end) of K block [pc, pc + kc) are packed before a task reads them. Whichever task
// first needs a block packs it, so the packing is shared out with the tiles, in the same pool job, and a block is
// packed right before its first use (it is then in that core's L2). A block that another task is packing is
// waited for, after this task has packed every block of the range that nobody had begun. The wait cannot deadlock:
// a packer waits for nothing while it packs, and when the tasks run one after another (one thread, or a nested
// call) nothing is ever waited for.
template <typename T> void need_b_blocks(const GemmJob<T>& j, long pc, long kc, long q_begin, long q_end) {
  int* state = j.b_ready + (pc / Blocking<T>::KC) * j.n_strips;
  bool busy = false;
  for (long q = q_begin; q < q_end; q++) {
    int s = __atomic_load_n(state + q, __ATOMIC_ACQUIRE);
    if (s == kBlockReady) continue;
    if (s == kBlockUnpacked &&
        __atomic_compare_exchange_n(state + q, &s, (int)kBlockPacking, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
      pack_b_block(j, pc, kc, q);
      __atomic_store_n(state + q, (int)kBlockReady, __ATOMIC_RELEASE);
    } else {
      busy = true;
    }
  }
  if (!busy) return;
  for (long q = q_begin; q < q_end; q++)
    for (int spins = 0; __atomic_load_n(state + q, __ATOMIC_ACQUIRE) != kBlockReady; spins++) {
      if (spins < 4096)
        spin_pause();
      else
        sched_yield();  // the packer was descheduled: give it the core
    }
}

// The register tile: acc = a_strip (RM x kc) * b_strip (kc x NV vectors), then merged into C (rows x cols of it).
// The full tile is RM = MR, NV = Blocking::NV; the edges of C use the smaller tiles (the last strip's rows: RM =
// MR / 2, 4, 2, 1; a narrower last strip: as many vectors as its columns take, strip_kernel) so that little of the work
// is spent on padding. A packed B strip keeps its NR stride. AM: where A's (r, k) is, A being read in place: kRows a[r
// * lda + k] (A not transposed) or kCols a[k * lda + r] (A transposed). overwrite: C = alpha * acc (beta == 0 on the
// first K block: C is not read, NaN in C does not leak); otherwise C = beta * C + alpha * acc.
enum { kRows = 1, kCols = 2 };

// A K block's sums acc merged into C's values c. Every path of gemm merges through this one expression, in vectors
// (a partial vector for the edges): whether the compiler fuses the multiply-add with beta's product or with alpha's
// is then the same for every element of C, which a scalar copy of the expression would not promise.
// NODENN_FUSED_MERGE (arm64's neon objects): the multiply-add with alpha's product is fused explicitly. Left to the
// compiler there, GCC 12 fused alpha's product in some inlined copies and beta's in others: a row computed alone
// differed from the same row in a batch by an ulp in the last, one-lane column (gemm-rows.spec, float64, both
// transposed, K = 257, N = 33).
template <typename V, typename T> inline V merge_block(V c, V acc, T alpha, T beta, bool overwrite) {
#if defined(NODENN_FUSED_MERGE)
  if (!overwrite) return fused_mul_add(alpha - V{}, acc, beta * c);
#endif
  return overwrite ? alpha * acc : beta * c + alpha * acc;
}

// PB: B is read in place and the tile's last vector of columns is partial (cols < NV * L): that vector is loaded with
// its lanes past cols zero, as the packed strip's zero padding would give them.
// BS: B's stride when the caller knows it at compile time (a packed strip: NR), else 0 and ldbk_.
// The inner loop's addresses: A's rows (A not transposed) from two base pointers, rows [0, RM / 2) and [RM / 2, RM)
// RM / 2 rows apart, so that one scaled index register serves a row of each half. From one base, the 12 rows of the
// AVX-512 tile wanted 11 index registers: GCC kept the 12th in a vector register (a vmovq back every k) and B's
// stride on the stack (a load every k). With both gone the loop is the 2 B loads, 12 broadcasts, 24 FMAs and 5
// integer instructions: 1024^3 float32 +3.5% on one thread, +2-3% on two, float64 +3% (bench/README, "where the GEMM's
// time goes"). AVX-512 only: with 16 registers (AVX2) GCC then kept one of the 6 x 2 tile's B vectors on the stack
// (scripts/check-fma-spills.js).
template <typename T, int RM, int NV, int AM, bool PB = false, int BS = 0>
inline void micro_kernel(long kc, const T* __restrict a, long lda, const T* __restrict b, long ldbk_, T* C, long ldc,
                         long rows, long cols, T alpha, T beta, bool overwrite) {
  const long ldbk = BS ? (long)BS : ldbk_;
  const T* a_hi = a + (AM == kRows && NODENN_REGS == 32 ? (RM / 2) * lda : 0);
  typedef Blocking<T> Bk;
  typedef typename Bk::V V;
  typedef typename Bk::U U;
  enum { L = Bk::L };
  V acc[RM][NV];
#pragma GCC unroll 16
  for (int r = 0; r < RM; r++)
    for (int v = 0; v < NV; v++) acc[r][v] = V{};
  for (long k = 0; k < kc; k++) {
    V bv[NV];
    for (int v = 0; v < NV; v++)
      bv[v] = PB && v == NV - 1 ? load_partial(b + k * ldbk + v * L, (int)(cols - v * L))
                                : *(const U*)(b + k * ldbk + v * L);
#pragma GCC unroll 16
    for (int r = 0; r < RM; r++) {
      T x = AM == kRows ? (NODENN_REGS == 32 && r >= RM / 2 ? a_hi[(r - RM / 2) * lda + k] : a[r * lda + k])
                        : a[k * lda + r];
      V ar = x - V{};  // x - 0 is exactly x: a broadcast load, no arithmetic
      for (int v = 0; v < NV; v++) acc[r][v] += ar * bv[v];
    }
  }
  if (rows == RM && cols == NV * L) {
#pragma GCC unroll 16
    for (int r = 0; r < RM; r++) {
      U* c = (U*)(C + r * ldc);
      for (int v = 0; v < NV; v++) c[v] = merge_block((V)c[v], acc[r][v], alpha, beta, overwrite);
    }
    return;
  }
  // AVX-512, and AVX2's tiles with a partial B vector: unrolled, the accumulators indexed by constants only: with
  // run-time indices GCC stored all of them to the stack at every k (the 6 x 3 tile of a 36-column last strip ran at
  // half speed; AVX2's 6 x 1 with a masked B vector too). Not AVX2's other tiles, where the unrolled merge made GCC
  // keep an operand of the 6 x 2 tile's k loop on the stack.
  if (NODENN_REGS != 32 && !PB) {
    for (long r = 0; r < rows; r++)
      for (int v = 0; v < NV && v * L < cols; v++) {
        T* p = C + r * ldc + v * L;
        const int n = cols - v * L < L ? (int)(cols - v * L) : (int)L;
        store_partial(p, merge_block(overwrite ? V{} : load_partial(p, n), acc[r][v], alpha, beta, overwrite), n);
      }
    return;
  }
#pragma GCC unroll 16
  for (int r = 0; r < RM; r++) {
    if (r >= rows) break;
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) {
      if (v * L >= cols) break;
      T* p = C + r * ldc + v * L;
      const int n = cols - v * L < L ? (int)(cols - v * L) : (int)L;
      store_partial(p, merge_block(overwrite ? V{} : load_partial(p, n), acc[r][v], alpha, beta, overwrite), n);
    }
  }
}

// micro_kernel for a strip of `cols` columns (1 to NR): as many vectors as the columns take.
template <typename T, int RM, int AM, bool PB = false>
inline void strip_kernel(long kc, const T* a, long lda, const T* b, long ldbk, T* c, long ldc, long cols, T alpha,
                         T beta, bool overwrite) {
  enum { L = Vec<T>::L, NV = Blocking<T>::NV, NV3 = NV < 3 ? NV : 3 };
  if (NV > 3 && cols > 3 * L)
    micro_kernel<T, RM, NV, AM, PB>(kc, a, lda, b, ldbk, c, ldc, RM, cols, alpha, beta, overwrite);
  else if (NV > 2 && cols > 2 * L)
    micro_kernel<T, RM, NV3, AM, PB>(kc, a, lda, b, ldbk, c, ldc, RM, cols, alpha, beta, overwrite);
  else if (cols > L && (NODENN_REGS == 32 || !PB))
    micro_kernel<T, RM, 2, AM, PB>(kc, a, lda, b, ldbk, c, ldc, RM, cols, alpha, beta, overwrite);
  else if (cols > L) {
    // AVX2, the last vector partial: as two tiles of one vector (the second masked). The 6 x 2 one needs its 12
    // accumulators, 2 B vectors, the broadcast and the mask: 16 registers, and GCC kept an FMA operand on the stack
    // (with its merge looping at run time: all 12 accumulators stored to the stack at every k; 128 x 10 x 128
    // float32, 1 thread: 9.0 us, 6.5 split; scripts/check-fma-spills.js)
    micro_kernel<T, RM, 1, AM>(kc, a, lda, b, ldbk, c, ldc, RM, L, alpha, beta, overwrite);
    micro_kernel<T, RM, 1, AM, PB>(kc, a, lda, b + L, ldbk, c + L, ldc, RM, cols - L, alpha, beta, overwrite);
  } else
    micro_kernel<T, RM, 1, AM, PB>(kc, a, lda, b, ldbk, c, ldc, RM, cols, alpha, beta, overwrite);
}

// A product of one B strip (N <= NR, B not transposed) and one K block (K <= KC), too small for threads: the 16 x 16
// x 16 products of a batched matmul. Nothing is packed: B is read in place, its last vector masked when N is not a
// whole number of vectors, and A in place, in tiles of MR rows and then of fewer (MR / 2, 4, 2, 1) for the last
// rows. The accumulators and the merge are micro_kernel's for K block 0, so every element gets the packed path's
// bits (the tile's height decides which elements share a pass, not how one is summed).
template <typename T, int RM, int AM, bool PB> inline void tiny_tile(const GemmJob<T>& j, long row0) {
  const T* a = AM == kCols ? j.A + row0 : j.A + row0 * j.lda;
  strip_kernel<T, RM, AM, PB>(j.K, a, j.lda, j.B, j.ldb, j.C + row0 * j.ldc, j.ldc, j.N, j.alpha, j.beta, j.beta == 0);
}

template <typename T, int AM, bool PB> void tiny_rows(const GemmJob<T>& j) {
  enum { MR = Blocking<T>::MR, HALF = MR / 2, FOUR = HALF > 4 ? 4 : 1 };
  long i = 0;
  for (; i + MR <= j.M; i += MR) tiny_tile<T, MR, AM, PB>(j, i);
  while (i < j.M) {
    const long rest = j.M - i;
    if (rest >= HALF) {
      tiny_tile<T, HALF, AM, PB>(j, i);
      i += HALF;
    } else if (HALF > 4 && rest >= 4) {
      tiny_tile<T, FOUR, AM, PB>(j, i);
      i += FOUR;
    } else if (rest >= 2) {
      tiny_tile<T, 2, AM, PB>(j, i);
      i += 2;
    } else {
      tiny_tile<T, 1, AM, PB>(j, i);
      i += 1;
    }
  }
}

template <typename T> void tiny_product(const GemmJob<T>& j) {
  const bool partial = j.N % Vec<T>::L != 0;
  if (j.trans_a)
    partial ? tiny_rows<T, kCols, true>(j) : tiny_rows<T, kCols, false>(j);
  else
    partial ? tiny_rows<T, kRows, true>(j) : tiny_rows<T, kRows, false>(j);
}

// C's tile (RM rows of cols) is read after the K loop when this is not the first K block (or beta != 0): fetched
// meanwhile (it comes from L2 or further: the tile's previous K block merged it a whole pass over the task's strips
// ago). Here, not in micro_kernel: there, GCC kept one of the 12 x 2 tile's B vectors on the stack with A transposed
// (every other FMA from memory: 784 x 256 x 128, A transposed, 1 thread, 1.6x the CPU time). When C is only
// written, the prefetch bought nothing measurable.
template <typename T, int RM> inline void prefetch_tile(const T* c, long ldc, long cols) {
  enum { L = Vec<T>::L };
  for (int r = 0; r < RM; r++)
    for (long v = 0; v * L < cols; v++) __builtin_prefetch(c + r * ldc + v * L, 1, 3);
}

// Rows [row0, row0 + RM) of C, columns of B strips [q_begin, q_end), K block pc: A read in place (AM kRows or kCols).
template <typename T, int RM, int AM>
inline void rows_in_place(const GemmJob<T>& j, long row0, long pc, long kc, long q_begin, long q_end, T beta,
                          bool overwrite) {
  enum { NR = Blocking<T>::NR, NV = Blocking<T>::NV, L = Vec<T>::L };
  const T* a = AM == kCols ? j.A + pc * j.lda + row0 : j.A + row0 * j.lda + pc;
  T* c = j.C + row0 * j.ldc;
  for (long q = q_begin; q < q_end; q++) {
    const long cols = j.N - q * NR < NR ? j.N - q * NR : (long)NR;
    if (!overwrite) prefetch_tile<T, RM>(c + q * NR, j.ldc, cols);
    T* cq = c + q * NR;
    if (j.b_inplace) {
      // B read in place, stride ldb; a last strip that ends inside a vector has that vector's lanes past N loaded
      // as zeros (what packing would have padded them with)
      const T* b = j.B + pc * j.ldb + q * NR;
      if (cols % L == 0)
        strip_kernel<T, RM, AM>(kc, a, j.lda, b, j.ldb, cq, j.ldc, cols, j.alpha, beta, overwrite);
      else
        strip_kernel<T, RM, AM, true>(kc, a, j.lda, b, j.ldb, cq, j.ldc, cols, j.alpha, beta, overwrite);
      continue;
    }
    const T* b = j.b_pack + pc * j.n_pad + q * NR * kc;
    if (NODENN_REGS == 32 && cols == NR)
      micro_kernel<T, RM, NV, AM, false, NR>(kc, a, j.lda, b, NR, cq, j.ldc, RM, cols, j.alpha, beta, overwrite);
    else
      strip_kernel<T, RM, AM>(kc, a, j.lda, b, packed_ld<T>(cols), cq, j.ldc, cols, j.alpha, beta, overwrite);
  }
}

// Rows [row0, row0 + 2 MR) of C, columns of B strips [q_begin, q_end), K block pc, B read in place (AVX-512 only):
// the 12 x 2 tile, each B strip as two strips of 2 vectors (the second one narrower, or none, at the end of N).
// Per k 2 B loads for 24 FMAs where 6 x 4 needs 4: B is read from L2 once per 12 rows, not 6 (see gemm()).
template <typename T, int AM>
inline void rows_in_place_tall(const GemmJob<T>& j, long row0, long pc, long kc, long q_begin, long q_end, T beta,
                               bool overwrite) {
  enum { NR = Blocking<T>::NR, L = Vec<T>::L, MR = Blocking<T>::MR, RM = 2 * MR, HR = 2 * L };
  const T* a = AM == kCols ? j.A + pc * j.lda + row0 : j.A + row0 * j.lda + pc;
  T* c = j.C + row0 * j.ldc;
  for (long q = q_begin; q < q_end; q++) {
    const long cols = j.N - q * NR < NR ? j.N - q * NR : (long)NR;
    if (!overwrite) prefetch_tile<T, RM>(c + q * NR, j.ldc, cols);
    if (cols < NR) {
      // a last, narrower strip: two 6-row tiles of as many vectors as its columns take (12 x 2 and 12 x 1 tiles
      // would leave a 12 x 1 one for 4 columns past 96, 12 broadcasts for 12 FMAs)
      const T* b = j.B + pc * j.ldb + q * NR;
      for (int h = 0; h < 2; h++) {
        const T* ah = a + (AM == kCols ? h * MR : h * MR * j.lda);
        T* ch = c + h * MR * j.ldc + q * NR;
        if (cols % L == 0)
          strip_kernel<T, MR, AM>(kc, ah, j.lda, b, j.ldb, ch, j.ldc, cols, j.alpha, beta, overwrite);
        else
          strip_kernel<T, MR, AM, true>(kc, ah, j.lda, b, j.ldb, ch, j.ldc, cols, j.alpha, beta, overwrite);
      }
      continue;
    }
    for (long h = 0; h * HR < cols; h++) {
      const long hc = cols - h * HR < HR ? cols - h * HR : (long)HR, j0 = q * NR + h * HR;
      const T* b = j.B + pc * j.ldb + j0;
      T* ch = c + j0;
      if (hc == HR)
        micro_kernel<T, RM, 2, AM>(kc, a, j.lda, b, j.ldb, ch, j.ldc, RM, hc, j.alpha, beta, overwrite);
      else if (hc > L)
        micro_kernel<T, RM, 2, AM, true>(kc, a, j.lda, b, j.ldb, ch, j.ldc, RM, hc, j.alpha, beta, overwrite);
      else if (hc == L)
        micro_kernel<T, RM, 1, AM>(kc, a, j.lda, b, j.ldb, ch, j.ldc, RM, hc, j.alpha, beta, overwrite);
      else
        micro_kernel<T, RM, 1, AM, true>(kc, a, j.lda, b, j.ldb, ch, j.ldc, RM, hc, j.alpha, beta, overwrite);
    }
  }
}

template <typename T, int AM>
void last_strip_in_place(const GemmJob<T>& j, long row0, long rows, long pc, long kc, long q_begin, long q_end, T beta,
                         bool overwrite) {
  enum { MR = Blocking<T>::MR, HALF = MR / 2, FOUR = HALF > 4 ? 4 : 1 };
  for (long i = row0, end = row0 + rows; i < end;) {
    const long rest = end - i;
    if (rest >= HALF) {
      rows_in_place<T, HALF, AM>(j, i, pc, kc, q_begin, q_end, beta, overwrite);
      i += HALF;
    } else if (HALF > 4 && rest >= 4) {
      rows_in_place<T, FOUR, AM>(j, i, pc, kc, q_begin, q_end, beta, overwrite);
      i += FOUR;
    } else if (rest >= 2) {
      rows_in_place<T, 2, AM>(j, i, pc, kc, q_begin, q_end, beta, overwrite);
      i += 2;
    } else {
      rows_in_place<T, 1, AM>(j, i, pc, kc, q_begin, q_end, beta, overwrite);
      i += 1;
    }
  }
}

// The last strip of C, fewer than MR rows (the 4 rows left of a batch of 100), K block pc. A is read in place in
// tiles of MR / 2, 4, 2 and 1 rows, as tiny_rows does: packing it (zero-padded to MR rows, once per B tile) and
// running a half-height tile over the padding cost 15 us of a 100 x 100 x 784 product's 110 (AVX-512, one
// thread). Every element is still summed as in a full strip (same accumulators, k order and merge).
template <typename T>
void last_strip(const GemmJob<T>& j, long row0, long rows, long pc, long kc, long q_begin, long q_end, T beta,
                bool overwrite) {
  if (j.trans_a)
    last_strip_in_place<T, kCols>(j, row0, rows, pc, kc, q_begin, q_end, beta, overwrite);
  else
    last_strip_in_place<T, kRows>(j, row0, rows, pc, kc, q_begin, q_end, beta, overwrite);
}

// Compute task t: the tile of about m_strips / m_tiles A strips by nt B strips, all K blocks in order. The A strips
// are shared out as evenly as whole strips allow: 1024 rows (86 strips) in tiles of 11 and 10, not 11 and 9 (1024^3
// float32, 2 threads, +1.5-4% median; float64 +1-2%); 100 rows in 4 and 4 + 1, not 5 and 3 + 1 (100 x 100 x 784:
// +23% in one run).
template <typename T> void compute_task(void* ctx, long t) {
  typedef Blocking<T> Bk;
  enum { MR = Bk::MR };
  const GemmJob<T>& j = *(const GemmJob<T>*)ctx;
  const long mi = t % j.m_tiles, q_begin = (t / j.m_tiles) * j.nt;
  const long s_begin = mi * j.m_strips / j.m_tiles, s_end = (mi + 1) * j.m_strips / j.m_tiles;
  long q_end = q_begin + j.nt < j.n_strips ? q_begin + j.nt : j.n_strips;
  for (long pc = 0; pc < j.K; pc += Bk::KC) {
    long kc = j.K - pc < Bk::KC ? j.K - pc : (long)Bk::KC;
    if (j.b_ready) need_b_blocks(j, pc, kc, q_begin, q_end);
    bool overwrite = pc == 0 && j.beta == 0;
    T beta = pc == 0 ? j.beta : (T)1;
    for (long s = s_begin; s < s_end; s++) {
      long row0 = s * j.mr;
      if constexpr (NODENN_REGS == 32) {
        if (j.tall) {
          if (j.M - row0 >= 2 * MR) {
            if (j.trans_a)
              rows_in_place_tall<T, kCols>(j, row0, pc, kc, q_begin, q_end, beta, overwrite);
            else
              rows_in_place_tall<T, kRows>(j, row0, pc, kc, q_begin, q_end, beta, overwrite);
            continue;
          }
          // the last strip, fewer than 12 rows: a 6 x 4 strip, then the rest as below
          if (j.M - row0 >= MR) {
            if (j.trans_a)
              rows_in_place<T, MR, kCols>(j, row0, pc, kc, q_begin, q_end, beta, overwrite);
            else
              rows_in_place<T, MR, kRows>(j, row0, pc, kc, q_begin, q_end, beta, overwrite);
            row0 += MR;
            if (row0 == j.M) continue;
          }
        }
      }
      if (j.M - row0 < MR)
        last_strip(j, row0, j.M - row0, pc, kc, q_begin, q_end, beta, overwrite);
      else if (j.trans_a)
        rows_in_place<T, MR, kCols>(j, row0, pc, kc, q_begin, q_end, beta, overwrite);
      else
        rows_in_place<T, MR, kRows>(j, row0, pc, kc, q_begin, q_end, beta, overwrite);
    }
  }
}

// A few rows without packing, summed exactly as the packed path sums them: each element of C over each K block
// from zero accumulators, k in order, one multiply-add at a time, then the block's sum merged into C with the
// micro-kernel's expression, block after block. So a row's bits do not depend on how many rows share the call
// (a sample predicted alone is that sample in a batch). The accumulators of a chunk of columns are only a few
// dependency chains when the chunk is narrow (100 columns are 7 AVX-512 vectors), so G blocks are summed at once,
// each its own accumulators and its own stream of B's rows: G * NV independent chains. (G up to 4 measured the
// same as 2: 1 x 784 x 100 is then bound by reading B, 2.0 us against 2.9 for one block at a time.)

// Vector v of op(B)'s row k, columns from j0 (b: the element (k, j0)); the last vector PART has n lanes.
template <typename T, bool PART> inline typename Vec<T>::V b_vector(const T* b, int v, int n) {
  typedef typename Vec<T>::U U;
  enum { L = Vec<T>::L };
  return PART ? load_partial(b + v * L, n) : *(const U*)(b + v * L);
}

// C row i, columns [j0, j0 + (NV - 1) * L + last), K blocks [blk0, blk0 + G), A and B (not transposed) read in
// place. PARTIAL: the last vector has last < L lanes.
template <typename T, int G, int NV, bool PARTIAL>
inline void small_row_blocks(const GemmJob<T>& j, long i, long j0, int last, long blk0) {
  typedef typename Vec<T>::V V;
  typedef typename Vec<T>::U U;
  enum { L = Vec<T>::L, KC = Blocking<T>::KC };
  V acc[G][NV];
#pragma GCC unroll 16
  for (int g = 0; g < G; g++)
    for (int v = 0; v < NV; v++) acc[g][v] = V{};
  const long a_step = j.trans_a ? j.lda : 1, pc0 = blk0 * KC, b_step = j.ldb;
  const T* a = (j.trans_a ? j.A + i : j.A + i * j.lda) + pc0 * a_step;
  const T* b = j.B + pc0 * j.ldb + j0;
  const long ga = KC * a_step, gb = KC * b_step;
  // blocks blk0 .. blk0 + G - 2 are full; the last one may be shorter (the end of K)
  const long kc_last = j.K - (pc0 + (G - 1) * KC) < KC ? j.K - (pc0 + (G - 1) * KC) : (long)KC;
  long k = 0;
  for (; k < kc_last; k++, a += a_step, b += b_step) {
#pragma GCC unroll 4
    for (int g = 0; g < G; g++) {
      V ak = a[g * ga] - V{};  // a broadcast (x - 0 is exactly x)
      const T* bg = b + g * gb;
#pragma GCC unroll 16
      for (int v = 0; v < NV - 1; v++) acc[g][v] += ak * b_vector<T, false>(bg, v, L);
      acc[g][NV - 1] += ak * b_vector<T, PARTIAL>(bg, NV - 1, last);
    }
  }
  for (; k < KC && G > 1; k++, a += a_step, b += b_step) {
#pragma GCC unroll 4
    for (int g = 0; g < G - 1; g++) {
      V ak = a[g * ga] - V{};
      const T* bg = b + g * gb;
#pragma GCC unroll 16
      for (int v = 0; v < NV - 1; v++) acc[g][v] += ak * b_vector<T, false>(bg, v, L);
      acc[g][NV - 1] += ak * b_vector<T, PARTIAL>(bg, NV - 1, last);
    }
  }
  // merged block after block, as compute_task and micro_kernel do
  T* c = j.C + i * j.ldc + j0;
  // unrolled: a loop over g would index acc at run time and keep it on the stack (every FMA of the k loop then read
  // and wrote memory; scripts/check-fma-spills.js)
#pragma GCC unroll 4
  for (int g = 0; g < G; g++) {
    const bool overwrite = blk0 + g == 0 && j.beta == 0;
    const T beta = blk0 + g == 0 ? j.beta : (T)1, alpha = j.alpha;
#pragma GCC unroll 16
    for (int v = 0; v < NV; v++) {
      if (PARTIAL && v == NV - 1) {
        V cv = overwrite ? V{} : load_partial(c + v * L, last);
        store_partial(c + v * L, merge_block(cv, acc[g][v], alpha, beta, overwrite), last);
      } else {
        U* cv = (U*)(c + v * L);
        *cv = merge_block((V)*cv, acc[g][v], alpha, beta, overwrite);
      }
    }
  }
}

// The accumulators one pass of small_row_blocks may hold (G * NV): the rest of the registers take B and A.
enum { kSmallAccs = NODENN_REGS == 32 ? 28 : 12, kSmallMaxNV = NODENN_REGS == 32 ? 16 : 12, kSmallMaxG = 2 };

// small_row_blocks<T, G, nv> for a run-time nv in 1 .. NV.
template <typename T, int G, int NV> struct SmallRowBlocks {
  static void run(const GemmJob<T>& j, long i, long j0, int nv, int last, long blk0) {
    if (nv < NV) {
      SmallRowBlocks<T, G, NV - 1>::run(j, i, j0, nv, last, blk0);
    } else if (last == Vec<T>::L) {
      small_row_blocks<T, G, NV, false>(j, i, j0, last, blk0);
    } else {
      small_row_blocks<T, G, NV, true>(j, i, j0, last, blk0);
    }
  }
};
template <typename T, int G> struct SmallRowBlocks<T, G, 0> {
  static void run(const GemmJob<T>&, long, long, int, int, long) {}
};

template <typename T>
inline void small_row_pass(const GemmJob<T>& j, long i, long j0, int g, int nv, int last, long blk) {
  static_assert(kSmallMaxG == 2, "a pass of g blocks for each g up to kSmallMaxG");
  if (g == 2)
    SmallRowBlocks<T, 2, kSmallAccs / 2>::run(j, i, j0, nv, last, blk);
  else
    SmallRowBlocks<T, 1, kSmallMaxNV>::run(j, i, j0, nv, last, blk);
}

// Columns [c0, c1) of row i: chunks of at most kSmallMaxNV vectors (as even as they come), each
// walking K in passes of G blocks, as many as the accumulators allow.
template <typename T> void small_row_columns(const GemmJob<T>& j, long i, long c0, long c1) {
  enum { L = Vec<T>::L, KC = Blocking<T>::KC };
  const long vectors = (c1 - c0 + L - 1) / L, chunks = (vectors + kSmallMaxNV - 1) / kSmallMaxNV;
  const long per_chunk = (vectors + chunks - 1) / chunks, blocks = (j.K + KC - 1) / KC;
  for (long j0 = c0; j0 < c1; j0 += per_chunk * L) {
    const long rest = c1 - j0;
    const int nv = rest >= per_chunk * L ? (int)per_chunk : (int)((rest + L - 1) / L);
    const int last = (int)(rest - (long)(nv - 1) * L < L ? rest - (long)(nv - 1) * L : (long)L);
    const int most = kSmallAccs / nv < kSmallMaxG ? kSmallAccs / nv : kSmallMaxG;
    for (long blk = 0; blk < blocks;) {
      const int g = blocks - blk < most ? (int)(blocks - blk) : most;
      small_row_pass<T>(j, i, j0, g, nv, last, blk);
      blk += g;
    }
  }
}

// C[i][c0 .. c0 + NC) as dot products of row i of A with rows c0.. of B (op(B) = B^T): contiguous vectors along
// K, two accumulators per column, lanes summed in a fixed order. Only for narrow_bt, whatever M.
template <typename T, int NC> inline void small_dots(const GemmJob<T>& j, const T* arow, long i, long c0) {
  typedef typename Vec<T>::V V;
  typedef typename Vec<T>::U U;
  enum { L = Vec<T>::L };
  V acc[NC][2];
  for (int c = 0; c < NC; c++) acc[c][0] = acc[c][1] = V{};
  const T* brow[NC];
  for (int c = 0; c < NC; c++) brow[c] = j.B + (c0 + c) * j.ldb;
  long k = 0;
  for (; k + 2 * L <= j.K; k += 2 * L) {
    V a0 = *(const U*)(arow + k), a1 = *(const U*)(arow + k + L);
#pragma GCC unroll 4
    for (int c = 0; c < NC; c++) {
      acc[c][0] += a0 * *(const U*)(brow[c] + k);
      acc[c][1] += a1 * *(const U*)(brow[c] + k + L);
    }
  }
  T* crow = j.C + i * j.ldc + c0;
  for (int c = 0; c < NC; c++) {
    V v = acc[c][0] + acc[c][1];
    T s = 0;
    for (int l = 0; l < L; l++) s += v[l];
    for (long kk = k; kk < j.K; kk++) s += arow[kk] * brow[c][kk];
    crow[c] = j.beta == 0 ? j.alpha * s : j.beta * crow[c] + j.alpha * s;
  }
}

// Task t of a GEMV-like product split by columns too (op(B) = B, B large): row t / 2, half t % 2 of the columns
// (cut at a whole vector, so every column's sum is formed exactly as without the split). Each half of a row of B
// is read by one thread: two cores' caches and load ports stream the weights.
template <typename T> void small_row_half_task(void* ctx, long t) {
  enum { L = Vec<T>::L };
  const GemmJob<T>& j = *(const GemmJob<T>*)ctx;
  const long mid = ((j.N + 2 * L - 1) / (2 * L)) * L;
  if (t % 2 == 0)
    small_row_columns(j, t / 2, 0, mid < j.N ? mid : j.N);
  else if (mid < j.N)
    small_row_columns(j, t / 2, mid, j.N);
}

// Whether op(B) = B^T is narrower than a vector with a long K and A is not transposed (a convolution's filter
// gradient): then every M takes the dot products of small_dots (see gemm()).
template <typename T> inline bool narrow_bt(bool trans_a, bool trans_b, long N, long K) {
  enum { L = Vec<T>::L };
  return trans_b && !trans_a && N <= L && K >= 4 * L;
}

template <typename T> void small_row_task(void* ctx, long i) {
  const GemmJob<T>& j = *(const GemmJob<T>*)ctx;
  if (!narrow_bt<T>(j.trans_a, j.trans_b, j.N, j.K)) {
    small_row_columns(j, i, 0, j.N);
  } else {
    const T* arow = j.A + i * j.lda;
    long c0 = 0;
    for (; c0 + 4 <= j.N; c0 += 4) small_dots<T, 4>(j, arow, i, c0);
    for (; c0 < j.N; c0++) small_dots<T, 1>(j, arow, i, c0);
  }
}

// A few rows with op(B) = B^T (a Dense backward's dX, `linear` with transposed weights, at batch 1 to 4): B^T is
// transposed into scratch as op(B) (K x N, rows N apart) and the rows run as if B were not transposed. Moving the
// values changes no sum: each element of C gets the packed path's bits. Gathering op(B)'s rows with strided loads
// instead cost ~10x more (1 x 784 x 100 on AVX-512: 23 us), packing B for 2 to 4 rows ~20x.

// The lanes of op(B)'s tile written as vectors: in-register transposes of L x L tiles (16 x 16 floats with AVX-512,
// 8 x 8 with AVX2, 4 x 4 with SSE2), log2(L) rounds of interleaving rows i and i + L / 2.
template <typename T> struct MaskOf;
template <> struct MaskOf<float> {
  typedef int32_t M __attribute__((vector_size(NODENN_VEC_BYTES)));
};
template <> struct MaskOf<double> {
  typedef int64_t M __attribute__((vector_size(NODENN_VEC_BYTES)));
};

// Lanes [from, from + L / 2) of a and of b, interleaved: a[from], b[from], a[from + 1], ...
template <typename T, int From, int... I>
inline typename Vec<T>::V zip(typename Vec<T>::V a, typename Vec<T>::V b, std::integer_sequence<int, I...>) {
  enum { L = Vec<T>::L };
  return __builtin_shuffle(a, b, (typename MaskOf<T>::M){(I % 2 ? From + I / 2 + L : From + I / 2)...});
}

// dst[c * ldd + r] = src[r * lds + c] for r < rows, c < cols (both at most L). FULL: rows == cols == L.
template <typename T, bool FULL>
inline void transpose_tile(const T* src, long lds, int rows, int cols, T* dst, long ldd) {
  typedef typename Vec<T>::V V;
  typedef typename Vec<T>::U U;
  enum { L = Vec<T>::L };
  const auto lanes = std::make_integer_sequence<int, L>();
  V v[L];
#pragma GCC unroll 16
  for (int r = 0; r < L; r++)
    v[r] = FULL ? *(const U*)(src + r * lds) : r < rows ? load_partial(src + r * lds, cols) : V{};
#pragma GCC unroll 4
  for (int round = 1; round < L; round *= 2) {
    V w[L];
#pragma GCC unroll 16
    for (int r = 0; r < L / 2; r++) {
      w[2 * r] = zip<T, 0>(v[r], v[r + L / 2], lanes);
      w[2 * r + 1] = zip<T, L / 2>(v[r], v[r + L / 2], lanes);
    }
#pragma GCC unroll 16
    for (int r = 0; r < L; r++) v[r] = w[r];
  }
  if (FULL) {
#pragma GCC unroll 16
    for (int c = 0; c < L; c++) *(U*)(dst + c * ldd) = v[c];
  } else {
    for (int c = 0; c < cols; c++) store_partial(dst + c * ldd, v[c], rows);
  }
}

#if defined(__AVX512F__)
// The full 16 x 16 float tile with AVX-512: the 128-bit quarters of 4 rows gathered into one vector by loads (a
// quarter broadcast into its lane under a mask), then 4 x 4 transposes within each quarter (unpacks, which cost
// less than the cross-lane permutes of the generic rounds).
template <> inline void transpose_tile<float, true>(const float* src, long lds, int, int, float* dst, long ldd) {
#pragma GCC unroll 4
  for (int j = 0; j < 4; j++) {
    __m512 y[4];
#pragma GCC unroll 4
    for (int r = 0; r < 4; r++) {
      const float* p = src + r * lds + 4 * j;
      __m512 v = _mm512_castps128_ps512(_mm_loadu_ps(p));
      v = _mm512_mask_broadcast_f32x4(v, 0x00f0, _mm_loadu_ps(p + 4 * lds));
      v = _mm512_mask_broadcast_f32x4(v, 0x0f00, _mm_loadu_ps(p + 8 * lds));
      y[r] = _mm512_mask_broadcast_f32x4(v, 0xf000, _mm_loadu_ps(p + 12 * lds));
    }
    const __m512 t0 = _mm512_unpacklo_ps(y[0], y[1]), t1 = _mm512_unpackhi_ps(y[0], y[1]);
    const __m512 t2 = _mm512_unpacklo_ps(y[2], y[3]), t3 = _mm512_unpackhi_ps(y[2], y[3]);
    float* d = dst + 4 * j * ldd;
    _mm512_storeu_ps(d, _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(t0), _mm512_castps_pd(t2))));
    _mm512_storeu_ps(d + ldd, _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(t0), _mm512_castps_pd(t2))));
    _mm512_storeu_ps(d + 2 * ldd, _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(t1), _mm512_castps_pd(t3))));
    _mm512_storeu_ps(d + 3 * ldd, _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(t1), _mm512_castps_pd(t3))));
  }
}
#endif

// Rows of op(B) per transpose task.
enum { kTransposeRows = 64 };

// Task t: rows [t * kTransposeRows, ...) of op(B) (columns of B^T) into b_pack, rows n_pad apart. Row after row of
// tiles across all of N: each line of b_pack is written whole while it is in L1 (a strip of columns at a time
// over all K would come back to each line once per strip: 2 x 2 doubles with SSE2 ran 3x slower).
template <typename T> void transpose_task(void* ctx, long t) {
  enum { L = Vec<T>::L };
  const GemmJob<T>& j = *(const GemmJob<T>*)ctx;
  // the job's fields in locals: the stores below could alias them for all the compiler knows
  const long N = j.N, ldb = j.ldb, ldt = j.n_pad,
             k_end = (t + 1) * kTransposeRows < j.K ? (t + 1) * kTransposeRows : j.K;
  const T* B = j.B;
  T* bt = j.b_pack;
  for (long k0 = t * kTransposeRows; k0 < k_end; k0 += L) {
    const int cols = k_end - k0 < L ? (int)(k_end - k0) : (int)L;
    long n0 = 0;
    if (cols == L) {
#pragma GCC unroll 4
      for (; n0 + L <= N; n0 += L) transpose_tile<T, true>(B + n0 * ldb + k0, ldb, L, L, bt + k0 * ldt + n0, ldt);
    }
    for (; n0 < N; n0 += L)
      transpose_tile<T, false>(B + n0 * ldb + k0, ldb, N - n0 < L ? (int)(N - n0) : (int)L, cols, bt + k0 * ldt + n0,
                               ldt);
  }
}

template <typename T> void scale_rows_task(void* ctx, long r) {
  const GemmJob<T>& j = *(const GemmJob<T>*)ctx;
  T* c = j.C + r * j.ldc;
  if (j.beta == 0)
    for (long x = 0; x < j.N; x++) c[x] = 0;
  else
    for (long x = 0; x < j.N; x++) c[x] *= j.beta;
}

// Elements of B (K x N) from which a product of a few rows splits its columns over two tasks (see gemm()): below,
// the pool's round trip and the half rows' extra cache lines cost more than the second core saves (1 x 784 x 256:
// 4.3 us on one thread, 8.4 split; 1 x 784 x 512: 21 us, 11 split).
const double kSplitColumns = 262144;

// Largest B (K x N, bytes) read in place instead of packed (see gemm()).
const double kInplaceBytes = 1 << 20;

// B read in place by 12 x 2 tiles (AVX-512) when it is at most this wide and a strip's K block exceeds kL1Bytes.
const long kTallMaxN = 128;
const double kL1Bytes = 48 * 1024;

// Below this many flops the pool's wake-up costs more than a second thread gains.
const double kParallelFlops = 2e6;

// C scaled by beta alone (K = 0 or alpha = 0) goes to the pool from this many elements of C.
const double kParallelScale = 1e6;

// The compute pass wants at least this many tiles to share out (see choose_tiles).
const long kTilesWanted = 8;

inline void run_tasks(long n, TaskFn fn, void* ctx, bool parallel) {
  if (parallel && n > 1) {
    parallel_for(n, fn, ctx);
  } else {
    for (long t = 0; t < n; t++) fn(ctx, t);
  }
}

// Tiles of C for the compute pass: start from MT x NT strips and halve the longer side until there are enough
// tasks to share out (a fixed count, not the thread count: the tiling, hence the result, depends on sizes only).
template <typename T> void choose_tiles(GemmJob<T>& j) {
  typedef Blocking<T> Bk;
  const long mt_max = Bk::MT * Bk::MR / j.mr;  // a tile is MT * MR rows at most, whatever the strip's height
  j.mt = j.m_strips < mt_max ? j.m_strips : mt_max;
  j.nt = j.n_strips < Bk::NT ? j.n_strips : (long)Bk::NT;
  for (;;) {
    j.m_tiles = (j.m_strips + j.mt - 1) / j.mt;
    j.n_tiles = (j.n_strips + j.nt - 1) / j.nt;
    if (j.m_tiles * j.n_tiles >= kTilesWanted || (j.mt == 1 && j.nt == 1)) break;
    if ((j.mt * j.mr >= j.nt * Bk::NR && j.mt > 1) || j.nt == 1)
      j.mt = (j.mt + 1) / 2;
    else
      j.nt = (j.nt + 1) / 2;
  }
  // The same number of tiles, as even as they come, so that two threads run out of tiles together: compute_task
  // shares the A strips out evenly over m_tiles (86 strips, 1024 rows, in 8 tiles of 11 and 10 rather than 7 of 12
  // and one of 2: 1024^3 float32, 2 threads, +3%, then +1.5-4% against 11 and 9), and the B strips as below.
  const long nt = (j.n_strips + j.n_tiles - 1) / j.n_tiles;
  if ((j.n_strips + nt - 1) / nt == j.n_tiles) j.nt = nt;
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
  double flops = 2.0 * M * N * K;
  bool parallel = flops >= kParallelFlops;
  if (K == 0 || alpha == 0) {
    if (beta != 1) run_tasks(M, scale_rows_task<T>, &j, (double)M * N >= kParallelScale);
    return true;
  }
  // A few rows (a batch-1 forward; with op(B) = B^T, B^T transposed first), or op(B) = B^T narrower than a vector
  // with a long K (a convolution's filter gradient, whatever M): no packing, which would be mostly padding.
  const bool narrow = narrow_bt<T>(trans_a, trans_b, N, K);
  if (M <= Bk::SMALL_M || narrow) {
    if (trans_b && !narrow) {
      // rows of whole vectors, on cache lines of their own: the tiles' stores and the rows' loads are aligned
      j.n_pad = (N + Bk::L - 1) / Bk::L * Bk::L;
      j.b_pack = (T*)scratch.reserve(sizeof(T) * (size_t)K * j.n_pad);
      if (!j.b_pack) return false;
      run_tasks((K + kTransposeRows - 1) / kTransposeRows, transpose_task<T>, &j, (double)K * N >= kSplitColumns);
      j.B = j.b_pack;
      j.ldb = j.n_pad;
      j.trans_b = trans_b = false;
    }
    // a large B (a layer's weights at batch 1: 784 x 100) is split by columns over two tasks, run in parallel
    // (fewer flops than kParallelFlops, but the time goes to streaming B, which two cores do twice as fast); on one
    // thread the halves would only read B twice, each half row from its own cache lines (same bits either way)
    if (!trans_b && (double)K * N >= kSplitColumns && N > Bk::L && get_threads() > 1) {
      run_tasks(2 * M, small_row_half_task<T>, &j, true);
    } else {
      run_tasks(M, small_row_task<T>, &j, parallel);
    }
    return true;
  }
  if (!trans_b && N <= Bk::NR && K <= Bk::KC && !parallel) {
    tiny_product(j);
    return true;
  }
  j.b_inplace = !trans_b && (double)K * N * sizeof(T) <= kInplaceBytes;
  // With AVX-512 such a B is read by 12 x 2 tiles (12-row A strips) when a strip's K block is more than L1 holds
  // and N is at most 128: a 64-column strip of a 256-deep block is 64 KB, read from L2 for every A strip, and the 12
  // x 2 tile reads it once per 12 rows, not 6 (Zen 5, median of 5 x 15 samples: 784 x 128 x 256 float32, A
  // transposed, +8.5-9% on 1 and 2 threads; 100 x 100 x 784 float64 +5-7%, float32 +2% on 2 threads, the same on
  // one). Not where B's block fits L1 (784 x 100 x 100, A transposed: 12 x 2 -1.5 to -6%) nor for wider B (256^3:
  // -2 to +2%); bench/README "GEMM, round 7". Same bits: the tile's height decides which elements share a pass, not
  // how one is summed.
  j.tall = NODENN_REGS == 32 && j.b_inplace && N <= kTallMaxN &&
           (double)(K < Bk::KC ? K : (long)Bk::KC) * Bk::NR * sizeof(T) > kL1Bytes;
  j.mr = j.tall ? 2 * Bk::MR : Bk::MR;
  j.m_strips = (M + j.mr - 1) / j.mr;
  j.n_strips = (N + Bk::NR - 1) / Bk::NR;
  j.n_pad = j.n_strips * Bk::NR;
  const long k_blocks = (K + Bk::KC - 1) / Bk::KC, flags = j.n_strips * k_blocks;
  // the packed panels, then the blocks' states (ints) at the next cache line
  const size_t pack_bytes = (sizeof(T) * (size_t)j.n_pad * K + kCacheLine - 1) & ~(size_t)(kCacheLine - 1);
  char* mem = (char*)scratch.reserve(pack_bytes + sizeof(int) * (size_t)flags);
  if (!mem) return false;
  j.b_pack = (T*)mem;
  choose_tiles(j);
  // A small B that is not transposed (a layer's weights, K x N within kInplaceBytes) is read in place: packing it
  // would copy all of it on every call (every forward of a training step) for little gain. Its last strip is read
  // in place too, masked: packed, it was a serial pass before the pool job (a 36-column strip at NR = 64: ~25 us of
  // 100 x 100 x 784's 54 on 2 threads). The choice depends on the sizes only.
  j.b_ready = nullptr;
  if (!j.b_inplace) {
    j.b_ready = (int*)(mem + pack_bytes);
    memset(j.b_ready, 0, sizeof(int) * (size_t)flags);
  }
  run_tasks(j.m_tiles * j.n_tiles, compute_task<T>, &j, parallel);
  return true;
}

NODENN_KERNELS_GEMM(NODENN_INSTANTIATE)

}  // namespace NODENN_ISA_NS
}  // namespace nodenn
