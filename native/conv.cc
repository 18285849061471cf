// conv.cc — 2-D convolution in NCHW: forward, backward-data (dx) and backward-filter (dw, db).
// Compiled once per ISA. Each image goes through im2col into a per-thread scratch matrix and then through the
// packed GEMM of the same ISA — or, when the inner dimension is tiny (a first layer's C KH KW = 9, or few
// filters in backward-data), through a register-blocked product that needs no packing; a 1x1 convolution with
// stride 1 and no padding uses the image itself as the im2col matrix. The forward pass and backward-filter of a
// convolution with stride 1 along the width read a zero-padded copy of the image in place of the im2col matrix (the
// direct convolution and the implicit im2col), and backward-data with stride 1 is a transposed convolution without
// the dcol matrix and col2im, each with the bits of the im2col path. Inference's conv-pool-conv-pool runs both
// convolutions image by image in one call (conv2d_chain_forward), the first one's output kept in the thread's
// scratch. Training's pooled backward runs backward-filter and backward-data from the nonzeros of the unpooled
// gradient alone (the sparse products), with the same bits. Work is split over images; every output element is written
// by one task, and the batch sum of backward-filter runs in fixed chunks of images summed in chunk order, so results
// never depend on the number of threads.
#include <stdlib.h>
#include <string.h>

#include <atomic>
#include <cmath>
#include <utility>

#include "kernels.h"
#include "pool2x2.h"
#include "scratch.h"
#include "simd.h"
#include "threads.h"

namespace nodenn {
namespace NODENN_ISA_NS {
namespace {

// The im2col matrix of one image (scratch.h).
thread_local Scratch col_buffer;
// The forward output of one image as (P, F), before it is transposed into y (forward_image).
thread_local Scratch out_buffer;
// The per-chunk partial sums of backward-filter, kept by the calling thread (fresh memory would cost page faults).
thread_local Scratch partial_buffer;
// Their sum (sum_partials; calling thread).
thread_local Scratch reduce_buffer;
// The direct convolution's zero-padded image, and the packed weights and tap offsets of its call (calling thread).
thread_local Scratch direct_input;
thread_local Scratch direct_weights;
// Backward-data's transposed convolution: the weights as (tap, f, c) (calling thread), and an image's dy with zero
// margins and its dx rows (each thread).
thread_local Scratch data_weights;
thread_local Scratch data_image;
// Backward-filter's implicit im2col: the tap offsets (calling thread), and an image's dy transposed (each thread; its
// padded image goes to direct_input).
thread_local Scratch filter_offsets;
thread_local Scratch filter_dyt;
// conv2dChainForward: the second convolution's packed weights (calling thread), and the first one's pooled output of
// one image, which the second reads while it is in cache (each thread).
thread_local Scratch chain_weights;
thread_local Scratch chain_buffer;
// The pooled backward's sparse products: the offsets and weights of the call (calling thread), an image's lists of
// dy's nonzeros, its channel-last padded copy, its f-sums and dx (backward-data), and a chunk's partial sums (each
// thread).
thread_local Scratch sparse_offsets;
thread_local Scratch sparse_weights;
thread_local Scratch sparse_image;
thread_local Scratch sparse_input;
thread_local Scratch sparse_sums_buffer;
thread_local Scratch sparse_partial;

inline long ceil_div(long a, long s) { return a <= 0 ? 0 : (a + s - 1) / s; }

// The outputs o in [lo, hi) whose input index o*s - p + k falls inside [0, n).
inline void valid_outputs(long k, long s, long p, long n, long out, long* lo, long* hi) {
  *lo = ceil_div(p - k, s);
  *hi = ceil_div(n + p - k, s);
  if (*lo > out) *lo = out;
  if (*hi > out) *hi = out;
  if (*hi < *lo) *hi = *lo;
}

inline bool is_pointwise(const ConvShape& g) {
  return g.KH == 1 && g.KW == 1 && g.sh == 1 && g.sw == 1 && g.ph == 0 && g.pw == 0;
}

// col (C*KH*KW, OH*OW): col[(c, kh, kw), (oh, ow)] = x[c, oh*sh - ph + kh, ow*sw - pw + kw], zero outside.
// With stride 1 and "same" width (OW = W, e.g. 3x3 with padding 1), a row of col is the input plane shifted by a
// constant: one contiguous copy for all its valid output rows, then the few columns that fell outside the input
// zeroed; otherwise one copy per output row.
template <typename T> void im2col(const ConvShape& g, const T* x, T* col) {
  const long P = g.OH * g.OW;
  const bool shifted = g.sh == 1 && g.sw == 1 && g.OW == g.W;
  for (long c = 0; c < g.C; c++)
    for (long kh = 0; kh < g.KH; kh++) {
      long oh0, oh1;
      valid_outputs(kh, g.sh, g.ph, g.H, g.OH, &oh0, &oh1);
      for (long kw = 0; kw < g.KW; kw++) {
        long ow0, ow1;
        valid_outputs(kw, g.sw, g.pw, g.W, g.OW, &ow0, &ow1);
        T* row = col + ((c * g.KH + kh) * g.KW + kw) * P;
        if (shifted) {
          const long iw0 = kw - g.pw;
          for (long i = 0; i < oh0 * g.OW; i++) row[i] = 0;
          for (long i = oh1 * g.OW; i < P; i++) row[i] = 0;
          if (oh1 > oh0 && ow1 > ow0) {
            // from (oh0, ow0) to (oh1 - 1, ow1 - 1): every source index lies inside the plane
            const long first = oh0 * g.OW + ow0, last = (oh1 - 1) * g.OW + ow1;
            copy_lanes(row + first, x + (c * g.H + oh0 - g.ph + kh) * g.W + ow0 + iw0, last - first);
          }
          for (long oh = oh0; oh < oh1; oh++) {
            T* r = row + oh * g.OW;
            for (long ow = 0; ow < ow0; ow++) r[ow] = 0;
            for (long ow = ow1 < ow0 ? ow0 : ow1; ow < g.OW; ow++) r[ow] = 0;
          }
          continue;
        }
        for (long oh = 0; oh < g.OH; oh++) {
          T* r = row + oh * g.OW;
          if (oh < oh0 || oh >= oh1) {
            for (long ow = 0; ow < g.OW; ow++) r[ow] = 0;
            continue;
          }
          const T* xr = x + (c * g.H + oh * g.sh - g.ph + kh) * g.W;
          const long iw0 = kw - g.pw;  // input column of output column 0
          for (long ow = 0; ow < ow0; ow++) r[ow] = 0;
          if (g.sw == 1) {
            copy_lanes(r + ow0, xr + ow0 + iw0, ow1 - ow0);
          } else {
            for (long ow = ow0; ow < ow1; ow++) r[ow] = xr[ow * g.sw + iw0];
          }
          for (long ow = ow1; ow < g.OW; ow++) r[ow] = 0;
        }
      }
    }
}

// The adjoint of im2col: dx[c, ih, iw] += every col entry that was read from it. dx must be zeroed first.
template <typename T> void col2im(const ConvShape& g, const T* col, T* dx) {
  const long P = g.OH * g.OW;
  for (long c = 0; c < g.C; c++)
    for (long kh = 0; kh < g.KH; kh++) {
      long oh0, oh1;
      valid_outputs(kh, g.sh, g.ph, g.H, g.OH, &oh0, &oh1);
      for (long kw = 0; kw < g.KW; kw++) {
        long ow0, ow1;
        valid_outputs(kw, g.sw, g.pw, g.W, g.OW, &ow0, &ow1);
        const T* row = col + ((c * g.KH + kh) * g.KW + kw) * P;
        for (long oh = oh0; oh < oh1; oh++) {
          const T* r = row + oh * g.OW;
          T* xr = dx + (c * g.H + oh * g.sh - g.ph + kh) * g.W;
          const long iw0 = kw - g.pw;
          if (g.sw == 1) {
            for (long ow = ow0; ow < ow1; ow++) xr[ow + iw0] += r[ow];
          } else {
            for (long ow = ow0; ow < ow1; ow++) xr[ow * g.sw + iw0] += r[ow];
          }
        }
      }
    }
}

// An inner dimension (C KH KW, or F in backward-data) up to kSmallK goes through the unpacked products below: the
// packed GEMM's packing would cost more than it saves. Above kGatherMaxF filters, forward writes y directly: the
// rows of its transposed output lie too far apart to gather from.
enum { kSmallK = 16, kGatherMaxF = 4096 };

// Backward-filter sums the batch in at most kFilterChunks chunks of images (the tasks), each into its own partial
// dweight and dbias, and keeps the partials within kFilterPartials elements.
enum { kFilterChunks = 16 };
const long kFilterPartials = (long)1 << 24;

// C (M x N) = op(A) (M x K) B (K x N) for K <= kSmallK, without packing: each vector of columns of B is loaded
// once and reused for every row of C. op(A) = A (M x K, row-major) or, with trans_a, A^T for A (K x M).
// B and C are row-major with N columns. Each element is summed over k in order, whatever the ISA's width.
template <typename T> void small_k_product(bool trans_a, long M, long N, long K, const T* A, const T* B, T* C) {
  typedef typename Vec<T>::V V;
  typedef typename Vec<T>::U U;
  const long L = Vec<T>::L, sm = trans_a ? 1 : K, sk = trans_a ? M : 1;  // op(A)[m][k] = A[m sm + k sk]
  long j = 0;
  for (; j + L <= N; j += L) {
    V b[kSmallK];
    for (long k = 0; k < K; k++) b[k] = *(const U*)(B + k * N + j);
    for (long m = 0; m < M; m++) {
      V acc = V{};
      for (long k = 0; k < K; k++) acc += A[m * sm + k * sk] * b[k];
      *(U*)(C + m * N + j) = acc;
    }
  }
  for (; j < N; j++)
    for (long m = 0; m < M; m++) {
      T acc = 0;
      for (long k = 0; k < K; k++) acc += A[m * sm + k * sk] * B[k * N + j];
      C[m * N + j] = acc;
    }
}

// Rows [m0, m0 + MR) of small_n_product_bt for N = NN known when compiling: the accumulators stay in registers (a
// run-time N leaves them on the stack, a load and a store around every multiply-add), and each vector of B serves
// MR rows of A. Every element is summed exactly as in the general loop below.
template <typename T, int NN, int MR> void small_n_rows_bt(long m0, long K, const T* A, const T* B, T* C) {
  typedef typename Vec<T>::V V;
  typedef typename Vec<T>::U U;
  const long L = Vec<T>::L, Kv = K - K % L;
  V acc[MR][NN];
#pragma GCC unroll 32
  for (int i = 0; i < MR; i++)
    for (int n = 0; n < NN; n++) acc[i][n] = V{};
  for (long k = 0; k < Kv; k += L) {
    V av[MR];
#pragma GCC unroll 4
    for (int i = 0; i < MR; i++) av[i] = *(const U*)(A + (m0 + i) * K + k);
#pragma GCC unroll 16
    for (int n = 0; n < NN; n++) {
      const V bv = *(const U*)(B + n * K + k);
#pragma GCC unroll 4
      for (int i = 0; i < MR; i++) acc[i][n] += av[i] * bv;
    }
  }
  for (int i = 0; i < MR; i++) {
    const T* a = A + (m0 + i) * K;
    for (int n = 0; n < NN; n++) {
      T sum = 0;
      for (long l = 0; l < L; l++) sum += acc[i][n][l];
      for (long k = Kv; k < K; k++) sum += a[k] * B[n * K + k];
      C[(m0 + i) * NN + n] += sum;
    }
  }
}

// C (M x N) += A (M x K) B^T for B (N x K) with N <= kSmallK and a long K, without packing: each vector of a row
// of A is loaded once and multiplied with all N rows of B; every element ends as its lanes summed in order, then
// the tail of K. (Backward-filter of a first layer: N = C KH KW = 9, K = OH OW, which small_n_rows_bt runs.)
template <typename T> void small_n_product_bt(long M, long N, long K, const T* A, const T* B, T* C) {
  typedef typename Vec<T>::V V;
  typedef typename Vec<T>::U U;
  const long L = Vec<T>::L, Kv = K - K % L;
  if (N == 9) {  // 3 x 3 taps of one channel: two rows at a time where 18 accumulators fit in the registers
    enum { MR = NODENN_REGS == 32 ? 2 : 1 };
    long m = 0;
    for (; m + MR <= M; m += MR) small_n_rows_bt<T, 9, MR>(m, K, A, B, C);
    for (; m < M; m++) small_n_rows_bt<T, 9, 1>(m, K, A, B, C);
    return;
  }
  for (long m = 0; m < M; m++) {
    const T* a = A + m * K;
    V acc[kSmallK];
    for (long n = 0; n < N; n++) acc[n] = V{};
    for (long k = 0; k < Kv; k += L) {
      const V av = *(const U*)(a + k);
      for (long n = 0; n < N; n++) acc[n] += av * *(const U*)(B + n * K + k);
    }
    for (long n = 0; n < N; n++) {
      T sum = 0;
      for (long l = 0; l < L; l++) sum += acc[n][l];
      for (long k = Kv; k < K; k++) sum += a[k] * B[n * K + k];
      C[m * N + n] += sum;
    }
  }
}

// C (M x N) = op(A) B: the unpacked product for a tiny K, else the packed GEMM. The choice depends on the shape
// only, so results stay independent of the thread count.
template <typename T> bool product(bool trans_a, long M, long N, long K, const T* A, const T* B, T* C) {
  if (K <= kSmallK) {
    small_k_product(trans_a, M, N, K, A, B, C);
    return true;
  }
  return gemm<T>(trans_a, false, M, N, K, 1, A, trans_a ? M : K, B, N, 0, C, N);
}

// ---- the direct convolution ----
// With stride 1 along the width, the A operand of forward_image's transposed GEMM, col[(c, kh, kw), (oh, ow)], is
// the zero-padded image at (c, oh sh + kh, ow + kw): a run of output pixels along a row reads a run of one padded
// row, the same for every k but for an offset. So the product reads the padded image in place (C x HP x WP, 16 KB
// for MNIST's 16 x 16 x 16 in L1) instead of an im2col matrix written and read back (113 KB per image, 9 times the
// image), with the weights packed once per call as (k, F). The register tile is PX pixels of an output row by NV
// vectors of filters (AVX-512: 14 x 2, a 14-wide row whole): per k, NV weight vectors loaded and PX broadcasts of
// the padded row. Each element is summed as the GEMM sums it (gemm.cc, micro_kernel and compute_task): K blocks of
// kGemmKC from zero accumulators, k in order, one multiply-add at a time, the first block stored, the next ones
// added; the padding's zeros are multiplied like col's. So y keeps the GEMM path's bits on every ISA.

// The GEMM's K block (gemm.cc, Blocking<T>::KC, the same for both float types).
enum { kGemmKC = 256 };

// Accumulators of a direct tile (PX x NV), leaving registers for the NV weight vectors and a broadcast.
enum { kDirectAccs = NODENN_REGS == 32 ? 28 : 12 };

template <typename T> struct DirectConv {
  const ConvShape* g;
  long HP, WP;      // the padded image: HP = (OH - 1) sh + KH rows of WP = W + 2 pw
  long fpad;        // F rounded up to whole vectors: the row length of wp
  const long* off;  // off[k], k = (c, kh, kw): (c HP + kh) WP + kw, the tap's offset in the padded image
  const T* wp;      // wp[k fpad + f] = w[f][k], zeros past F
  // every weight finite (prepare_direct): a tap on the zero padding adds 0 w = +-0, which leaves each (never -0)
  // sum as it was, so direct_tile_kw3 may skip such taps and keep the bits (0 x Inf would be a NaN)
  bool finite = false;
};

// Whether forward_image takes the direct convolution: stride 1 along the width, not a 1x1 (which reads the image as
// it is) and few enough filters for the gathered transpose. A tiny inner size (a first layer's C KH KW = 9) has the
// unpacked product, which writes y (F, P) without a transpose: the direct convolution wins there only when the
// transpose is a quarter of the pixels (inference's fused pooling, `pooled`) and the filters fill a vector (fewer
// would leave most of its lanes empty, where the unpacked product fills its vectors with pixels); its sums are the
// unpacked product's too (from zero, k in order, one multiply-add at a time), and its pooling, bias and ReLU give
// the same values in the same order. One image on each thread: a call with fewer images than threads leaves a
// large image to the products, which spread it over the threads. The results are the same bits either way.
template <typename T> inline bool use_direct(const ConvShape& g, bool pooled) {
  const long CKK = g.C * g.KH * g.KW;
  if (g.sw != 1 || g.F > kGatherMaxF || is_pointwise(g)) return false;
  if (CKK <= kSmallK && (!pooled || g.F < Vec<T>::L)) return false;
  return g.N >= get_threads() || 2.0 * (double)(g.OH * g.OW) * (double)g.F * (double)CKK < 2e6;
}

// The padded copy of one image (C, H, W) into xp (C, HP, WP, then a vector of slack). A row's last, partial vector
// is stored whole, its lanes past the row zero: they land on padding, or on the start of a row copied after it.
// (Masked stores cost tens of cycles on AMD's cores; a 14-wide row is all tail with AVX-512.)
template <typename T> void pad_image(const DirectConv<T>& d, const T* x, T* xp) {
  typedef typename Vec<T>::U U;
  const ConvShape& g = *d.g;
  const long L = Vec<T>::L, W = g.W;
  memset(xp, 0, sizeof(T) * (size_t)(g.C * d.HP * d.WP + L));
  const long rows = g.H < d.HP - g.ph ? g.H : d.HP - g.ph;
  for (long c = 0; c < g.C; c++)
    for (long ih = 0; ih < rows; ih++) {
      T* dst = xp + (c * d.HP + ih + g.ph) * d.WP + g.pw;
      const T* src = x + (c * g.H + ih) * W;
      long i = 0;
      for (; i + L <= W; i += L) *(U*)(dst + i) = *(const U*)(src + i);
      if (i < W) *(U*)(dst + i) = load_partial(src + i, (int)(W - i));
    }
}

// yt's PX pixels from c (rows of F) by the filters [f0, f0 + cols), cols <= NV L: xp is the padded image at the tile's
// first pixel's first tap, wp the packed weights at column f0.
template <typename T, int PX, int NV>
inline void direct_tile(const DirectConv<T>& d, long K, const T* xp, const T* wp, T* c, long cols) {
  typedef typename Vec<T>::V V;
  typedef typename Vec<T>::U U;
  enum { L = Vec<T>::L };
  const long F = d.g->F, fpad = d.fpad;
  // K = 0 (no input channels) stores the zero sums once
  for (long pc = 0; pc == 0 || pc < K; pc += kGemmKC) {
    const long kc = K - pc < kGemmKC ? K - pc : (long)kGemmKC;
    V acc[PX][NV];
#pragma GCC unroll 32
    for (int i = 0; i < PX; i++)
      for (int v = 0; v < NV; v++) acc[i][v] = V{};
    const long* off = d.off + pc;
    const T* w = wp + pc * fpad;
    for (long k = 0; k < kc; k++, w += fpad) {
      const T* x = xp + off[k];
      V wv[NV];
      for (int v = 0; v < NV; v++) wv[v] = *(const U*)(w + v * L);
#pragma GCC unroll 32
      for (int i = 0; i < PX; i++) {
        const V xi = x[i] - V{};  // a broadcast (x - 0 is exactly x, -0 included)
        for (int v = 0; v < NV; v++) acc[i][v] += xi * wv[v];
      }
    }
#pragma GCC unroll 32
    for (int i = 0; i < PX; i++)
      for (int v = 0; v < NV; v++) {
        T* p = c + i * F + v * L;
        const long n = cols - v * L;
        if (n >= L) {
          *(U*)p = pc == 0 ? acc[i][v] : (V) * (const U*)p + acc[i][v];
        } else if (n > 0) {
          store_partial(p, pc == 0 ? acc[i][v] : load_partial(p, (int)n) + acc[i][v], (int)n);
        }
      }
  }
}

// direct_tile for a 3-wide kernel (KW = 3) and one K block (K <= kGemmKC): the three taps (c, kh, 0..2) of a row of
// the padded image as one step, their 3 NV weight vectors in registers, each of the row's PX + 2 pixels broadcast
// once for the (up to) three outputs that read it, where direct_tile broadcasts it once per tap: PX + 2 broadcasts
// per 3 PX NV multiply-adds rather than 3 PX (direct_tile's 28 x 1 tile, a first layer's, broadcasts once per FMA,
// which the FMAs then wait on). Pixel i
// takes tap kw from pixel p = i + kw: as p rises, its taps come in the order kw = 0, 1, 2, so every element is
// summed as direct_tile sums it (from zero, k in order, one multiply-add at a time): the same bits.
// With SKIPL (SKIPR) the tile's first (last) padded pixel is padding, and the rows of the taps kh set in skip are
// padding rows: their taps are not summed, which keeps the bits where d.finite (the callers' condition). Where
// d.finite, a row whose pixels the tile reads are all zeros (+-0) is skipped as well, for the same reason: a ReLU's
// pooled output (the second convolution's input in inference's chain) and an image's background have many.
// Whether p[0, n) are all zeros (+0 or -0; a NaN is not), 0 < n.
template <typename T> inline bool all_zero(const T* p, long n) {
#if defined(__AVX512F__)
  enum { L = Vec<T>::L };
  for (long i = 0; i < n; i += L) {
    const long m = n - i < L ? n - i : (long)L;
    const unsigned mask = (unsigned)((1ul << m) - 1);
    if constexpr (sizeof(T) == 4) {
      const __m512 v = _mm512_maskz_loadu_ps((__mmask16)mask, p + i);
      if (_mm512_mask_cmp_ps_mask((__mmask16)mask, v, _mm512_setzero_ps(), _CMP_NEQ_UQ)) return false;
    } else {
      const __m512d v = _mm512_maskz_loadu_pd((__mmask8)mask, p + i);
      if (_mm512_mask_cmp_pd_mask((__mmask8)mask, v, _mm512_setzero_pd(), _CMP_NEQ_UQ)) return false;
    }
  }
  return true;
#else
  for (long i = 0; i < n; i++)
    if (p[i] != 0) return false;
  return true;
#endif
}

template <typename T, int PX, int NV, bool SKIPL = false, bool SKIPR = false>
inline void direct_tile_kw3(const DirectConv<T>& d, long K, const T* xp, const T* wp, T* c, long cols,
                            unsigned skip = 0) {
  typedef typename Vec<T>::V V;
  typedef typename Vec<T>::U U;
  // the padded pixels [P0, P1) of a row that the tile reads
  enum { L = Vec<T>::L, P0 = SKIPL ? 1 : 0, P1 = SKIPR ? PX + 1 : PX + 2 };
  const long F = d.g->F, fpad = d.fpad;
  V acc[PX][NV];
#pragma GCC unroll 32
  for (int i = 0; i < PX; i++)
    for (int v = 0; v < NV; v++) acc[i][v] = V{};
  const T* w = wp;
  const long KH = d.g->KH;
  for (long k = 0, kh = 0; k < K; k += 3, w += 3 * fpad, kh = kh + 1 == KH ? 0 : kh + 1) {
    if (kh < 32 && ((skip >> kh) & 1)) continue;
    const T* x = xp + d.off[k];
    if (d.finite && all_zero(x + P0, P1 - P0)) continue;
    V wv[3][NV];
#pragma GCC unroll 3
    for (int t = 0; t < 3; t++)
      for (int v = 0; v < NV; v++) wv[t][v] = *(const U*)(w + t * fpad + v * L);
#pragma GCC unroll 40
    for (int p = P0; p < P1; p++) {
      const V xi = x[p] - V{};  // a broadcast (x - 0 is exactly x, -0 included)
#pragma GCC unroll 3
      for (int t = 0; t < 3; t++)
        if (p - t >= 0 && p - t < PX)
          for (int v = 0; v < NV; v++) acc[p - t][v] += xi * wv[t][v];
    }
  }
#pragma GCC unroll 32
  for (int i = 0; i < PX; i++)
    for (int v = 0; v < NV; v++) {
      T* p = c + i * F + v * L;
      const long n = cols - v * L;
      if (n >= L) {
        *(U*)p = acc[i][v];
      } else if (n > 0) {
        store_partial(p, acc[i][v], (int)n);
      }
    }
}

// Whether d's rows take direct_tile_kw3: a 3-wide kernel, one K block, and registers for its tiles.
template <typename T> inline bool use_kw3(const DirectConv<T>& d) {
  const long K = d.g->C * d.g->KH * d.g->KW;
  return NODENN_REGS == 32 && d.g->KW == 3 && K > 0 && K <= kGemmKC;
}

// direct_tile_kw3 for PX pixels from ow on, skipping the padding it reads where the weights are finite: a first
// pixel left of the image, a last one right of it, and the taps' rows above or below it (skip).
template <typename T, int PX, int NV>
inline void kw3_tile(const DirectConv<T>& d, long K, const T* xrow, const T* wp, T* c, long cols, long ow,
                     unsigned skip) {
  const ConvShape& g = *d.g;
  const bool l = d.finite && ow < g.pw, r = d.finite && ow + PX + 1 >= g.pw + g.W;
  const T* x = xrow + ow;
  T* y = c + ow * g.F;
  if (l && r)
    direct_tile_kw3<T, PX, NV, true, true>(d, K, x, wp, y, cols, skip);
  else if (l)
    direct_tile_kw3<T, PX, NV, true, false>(d, K, x, wp, y, cols, skip);
  else if (r)
    direct_tile_kw3<T, PX, NV, false, true>(d, K, x, wp, y, cols, skip);
  else
    direct_tile_kw3<T, PX, NV>(d, K, x, wp, y, cols, skip);
}

// direct_row's pixels with direct_tile_kw3 for output row oh: tiles of PX, then the rest in smaller ones.
template <typename T, int NV>
void direct_row_kw3(const DirectConv<T>& d, const T* xrow, const T* wp, T* c, long cols, long OW, long K, long oh) {
  // 14 accumulators, 3 NV weight vectors and a broadcast: a third of the 32 registers free, which the register
  // allocator needs (28 accumulators had it copy registers in the loop)
  enum { PX = 14 / NV };
  const ConvShape& g = *d.g;
  unsigned skip = 0;  // the taps kh whose padded row oh sh + kh is a padding row
  if (d.finite && g.KH <= 32)
    for (long kh = 0; kh < g.KH; kh++)
      if (oh * g.sh + kh < g.ph || oh * g.sh + kh >= g.ph + g.H) skip |= 1u << kh;
  long ow = 0;
  for (; ow + PX <= OW; ow += PX) kw3_tile<T, PX, NV>(d, K, xrow, wp, c, cols, ow, skip);
  if (PX > 8 && ow + 8 <= OW) {
    kw3_tile<T, 8, NV>(d, K, xrow, wp, c, cols, ow, skip);
    ow += 8;
  }
  for (; ow + 4 <= OW; ow += 4) kw3_tile<T, 4, NV>(d, K, xrow, wp, c, cols, ow, skip);
  for (; ow + 2 <= OW; ow += 2) kw3_tile<T, 2, NV>(d, K, xrow, wp, c, cols, ow, skip);
  for (; ow < OW; ow++) kw3_tile<T, 1, NV>(d, K, xrow, wp, c, cols, ow, skip);
}

// One output row of yt (OW rows of F, from yrow) for the filters [f0, f0 + cols): tiles of PX pixels, then the rest
// in smaller ones (the tile's width decides which pixels share a pass, not how one is summed).
template <typename T, int NV>
void direct_row(const DirectConv<T>& d, const T* xrow, T* yrow, long f0, long cols, long oh) {
  enum { PX = kDirectAccs / NV, HALF = PX / 2 };
  const ConvShape& g = *d.g;
  const long OW = g.OW, F = g.F, K = g.C * g.KH * g.KW;
  const T* wp = d.wp + f0;
  T* c = yrow + f0;
  long ow = 0;
  if (use_kw3(d)) {
    direct_row_kw3<T, NV>(d, xrow, wp, c, cols, OW, K, oh);
    return;
  }
  for (; ow + PX <= OW; ow += PX) direct_tile<T, PX, NV>(d, K, xrow + ow, wp, c + ow * F, cols);
  if (HALF > 4 && ow + HALF <= OW) {
    direct_tile<T, HALF, NV>(d, K, xrow + ow, wp, c + ow * F, cols);
    ow += HALF;
  }
  for (; ow + 4 <= OW; ow += 4) direct_tile<T, 4, NV>(d, K, xrow + ow, wp, c + ow * F, cols);
  for (; ow + 2 <= OW; ow += 2) direct_tile<T, 2, NV>(d, K, xrow + ow, wp, c + ow * F, cols);
  for (; ow < OW; ow++) direct_tile<T, 1, NV>(d, K, xrow + ow, wp, c + ow * F, cols);
}

// The padded copy of image x_n in the thread's scratch; null when out of memory.
template <typename T> const T* padded_image(const DirectConv<T>& d, const T* x_n) {
  const ConvShape& g = *d.g;
  T* xp = (T*)direct_input.reserve(sizeof(T) * (size_t)(g.C * d.HP * d.WP + Vec<T>::L));
  if (xp) pad_image(d, x_n, xp);
  return xp;
}

// Output row oh of yt (OW rows of F, from yrow) from the padded image xp, all filters.
template <typename T> void direct_output_row(const DirectConv<T>& d, const T* xp, long oh, T* yrow) {
  const ConvShape& g = *d.g;
  const long L = Vec<T>::L, F = g.F, vectors = (F + L - 1) / L;
  const T* xrow = xp + oh * g.sh * d.WP;
  long v = 0;
  for (; v + 2 <= vectors; v += 2) direct_row<T, 2>(d, xrow, yrow, v * L, F - v * L < 2 * L ? F - v * L : 2 * L, oh);
  if (v < vectors) direct_row<T, 1>(d, xrow, yrow, v * L, F - v * L, oh);
}

// yt (P, F) = col_n^T w^T for image x_n, as forward_image's GEMM computes it, without the col matrix.
template <typename T> bool direct_image(const DirectConv<T>& d, const T* x_n, T* yt) {
  const ConvShape& g = *d.g;
  const T* xp = padded_image(d, x_n);
  if (!xp) return false;
  for (long oh = 0; oh < g.OH; oh++) direct_output_row(d, xp, oh, yt + oh * g.OW * g.F);
  return true;
}

// The padded image's shape, F rounded up to multiples of `round`, and the tap offsets into off (CKK of them).
template <typename T> void padded_geometry(const ConvShape& g, long round, long* off, DirectConv<T>* d) {
  d->g = &g;
  d->HP = (g.OH - 1) * g.sh + g.KH;
  d->WP = g.W + 2 * g.pw;
  d->fpad = (g.F + round - 1) / round * round;
  for (long c = 0; c < g.C; c++)
    for (long kh = 0; kh < g.KH; kh++)
      for (long kw = 0; kw < g.KW; kw++) off[(c * g.KH + kh) * g.KW + kw] = (c * d->HP + kh) * d->WP + kw;
  d->off = off;
}

// The packed weights and tap offsets of a call's direct convolution, in the calling thread's scratch mem_buffer;
// false when out of memory.
template <typename T> bool prepare_direct(const ConvShape& g, const T* w, DirectConv<T>* d, Scratch& mem_buffer) {
  const long L = Vec<T>::L, CKK = g.C * g.KH * g.KW;
  d->fpad = (g.F + L - 1) / L * L;
  const size_t wbytes = ((sizeof(T) * (size_t)(CKK * d->fpad) + kCacheLine - 1) / kCacheLine) * kCacheLine;
  char* mem = (char*)mem_buffer.reserve(wbytes + sizeof(long) * (size_t)CKK);
  if (!mem) return false;
  T* wp = (T*)mem;
  long* off = (long*)(mem + wbytes);
  bool finite = true;
  for (long k = 0; k < CKK; k++) {
    for (long f = 0; f < g.F; f++) {
      wp[k * d->fpad + f] = w[f * CKK + k];
      finite &= std::isfinite(w[f * CKK + k]);
    }
    for (long f = g.F; f < d->fpad; f++) wp[k * d->fpad + f] = 0;
  }
  padded_geometry(g, L, off, d);
  d->wp = wp;
  d->finite = finite;
  return true;
}

// ---- backward-data as a transposed convolution ----
// With stride 1, col2im adds dcol[(c, kh, kw), (oh, ow)] = sum over f of w[f][c, kh, kw] dy[f][oh][ow] to
// dx[c][oh - ph + kh][ow - pw + kw]: dx[c][ih][iw] is the sum of the f-sums of the taps (kh, kw), in row-major order,
// whose output pixel (ih + ph - kh, iw + pw - kw) exists, added one after the other to a zero. The direct path forms
// exactly these, without the dcol matrix (113 KB per image of MNIST's second layer, written and read back) and the
// col2im pass: for a strip of RC channels and a vector of pixels along a row of dx (two rows at a time, which share
// each broadcast of a weight: 10 loads per 16 multiply-adds for 8 channels, 17 for one row of 16), per tap, the
// f-sums in registers as the GEMM forms each dcol element (gemm.cc: K blocks of kGemmKC from zero accumulators, f in
// order, one multiply-add at a time, block sums added in order; the unpacked product of F <= kSmallK sums the same
// way), then added to the row's running dx in the lanes whose tap exists (a row's missing taps are skipped whole). dy
// is read from a copy whose rows have zero margins, so that every vector load stays inside it. So dx keeps the bits
// of the im2col path on every ISA.

// Channels per strip of the transposed convolution: two rows of accumulators, leaving registers for two vectors of
// dy and a broadcast.
enum { kDataRows = NODENN_REGS == 32 ? 8 : 4 };

template <typename T> struct DirectData {
  const ConvShape* g;
  long WV;      // vectors per row of dx (W rounded up)
  long RL;      // a row of the padded dy: KW - 1 zeros, dy's row (ow up to WV L + pw), zeros, WV L + pw + KW - 1 in all
  const T* wt;  // wt[(t F + f) C + c] = w[f][c][t] for the tap t = kh KW + kw
};

// Whether backward-data takes the transposed convolution: stride 1 both ways (a stride would leave each pixel its own
// subset of taps), not a 1x1 (whose dcol is dx itself). One task (image, or chunk of images) on each thread, as
// use_direct: fewer leave a large image to the GEMM, which spreads it over the threads (the same bits either way).
inline bool use_direct_data(const ConvShape& g, long tasks) {
  if (g.sh != 1 || g.sw != 1 || is_pointwise(g)) return false;
  return tasks >= get_threads() || 2.0 * (double)(g.OH * g.OW) * (double)g.F * (double)(g.C * g.KH * g.KW) < 2e6;
}

// The weights of a call's transposed convolution, in the calling thread's scratch; false when out of memory.
template <typename T> bool prepare_direct_data(const ConvShape& g, const T* w, DirectData<T>* d) {
  const long L = Vec<T>::L, taps = g.KH * g.KW, CKK = g.C * taps;
  d->g = &g;
  d->WV = (g.W + L - 1) / L;
  d->RL = d->WV * L + g.pw + g.KW - 1;
  T* wt = (T*)data_weights.reserve(sizeof(T) * (size_t)(CKK * g.F));
  if (!wt) return false;
  for (long f = 0; f < g.F; f++)
    for (long c = 0; c < g.C; c++)
      for (long t = 0; t < taps; t++) wt[(t * g.F + f) * g.C + c] = w[f * CKK + c * taps + t];
  d->wt = wt;
  return true;
}

// One tap's f-sums for channels [c0, c0 + RC) at a vector of pixels of R rows of dx (dy's vectors at dyv[r], the
// weights at wf), added to the rows' running sums out[r] (channel planes `plane` apart) in the lanes where the tap
// exists. The R rows share every broadcast of a weight.
template <typename T, int RC, int R>
inline void data_tap(const T* const* dyv, const T* wf, long F, long C, long fstride, T* const* out, long plane,
                     typename PoolVec<T>::I exists) {
  typedef typename Vec<T>::V V;
  typedef typename Vec<T>::U U;
  V sum[R][RC];
  // F = 0 does not come here (conv2d_backward_data)
  for (long pc = 0; pc < F; pc += kGemmKC) {
    const long kc = F - pc < kGemmKC ? F - pc : (long)kGemmKC;
    V acc[R][RC];
#pragma GCC unroll 16
    for (int r = 0; r < R; r++)
      for (int i = 0; i < RC; i++) acc[r][i] = V{};
    const T* w = wf + pc * C;
    for (long f = 0, at = pc * fstride; f < kc; f++, at += fstride, w += C) {
      V y[R];
#pragma GCC unroll 4
      for (int r = 0; r < R; r++) y[r] = *(const U*)(dyv[r] + at);
#pragma GCC unroll 16
      for (int i = 0; i < RC; i++) {
        const V wi = w[i] - V{};  // a broadcast (w - 0 is exactly w, -0 included)
#pragma GCC unroll 4
        for (int r = 0; r < R; r++) acc[r][i] += wi * y[r];
      }
    }
#pragma GCC unroll 16
    for (int r = 0; r < R; r++)
      for (int i = 0; i < RC; i++) sum[r][i] = pc == 0 ? acc[r][i] : sum[r][i] + acc[r][i];
  }
#pragma GCC unroll 16
  for (int r = 0; r < R; r++)
    for (int i = 0; i < RC; i++) {
      U* o = (U*)(out[r] + i * plane);
      const V cur = *o;
      *o = exists ? cur + sum[r][i] : cur;
    }
}

// Channels [c0, c0 + RC) of dx's rows [ih, ih + R), R = 1 or 2, pixels [v L, v L + L) of them (dxs: C planes of H
// rows of WV L), from the padded dy dp (F planes of OH rows of RL). Each row takes its taps in row-major order, as
// alone; a tap whose dy row exists for one of the two rows only runs for that one.
template <typename T, int RC, int R>
inline void data_tile(const DirectData<T>& d, const T* dp, T* dxs, long ih, long v, long c0) {
  typedef typename PoolVec<T>::I I;
  typedef typename PoolVec<T>::E E;
  enum { L = Vec<T>::L };
  const ConvShape& g = *d.g;
  const long F = g.F, C = g.C, iw0 = v * L, fstride = g.OH * d.RL, plane = g.H * d.WV * L, row = d.WV * L;
  T* const out[2] = {dxs + (c0 * g.H + ih) * row + iw0, R == 2 ? dxs + (c0 * g.H + ih + 1) * row + iw0 : nullptr};
  I iota;
  for (int l = 0; l < L; l++) iota[l] = (E)l;
  const I none = I{}, ow_end = none + (E)g.OW;
  for (long kh = 0; kh < g.KH; kh++) {
    const long oh = ih + g.ph - kh;
    const bool first = oh >= 0 && oh < g.OH, second = R == 2 && oh + 1 >= 0 && oh + 1 < g.OH;
    if (!first && !second) continue;
    for (long kw = 0; kw < g.KW; kw++) {
      // lane l's output column, iw0 + l + pw - kw, at index KW - 1 + ow of dp's row
      const I ow = iota + (E)(iw0 + g.pw - kw);
      const I exists = (ow >= none) & (ow < ow_end);
      // dy's row oh (or oh + 1 for the second row alone)
      const T* dyv = dp + (first ? oh : oh + 1) * d.RL + (g.KW - 1) + iw0 + g.pw - kw;
      const T* wf = d.wt + (kh * g.KW + kw) * F * C + c0;
      if (first && second) {
        const T* const rows[2] = {dyv, dyv + d.RL};
        data_tap<T, RC, 2>(rows, wf, F, C, fstride, out, plane, exists);
      } else {
        data_tap<T, RC, 1>(&dyv, wf, F, C, fstride, out + (first ? 0 : 1), plane, exists);
      }
    }
  }
}

// Channels [c0, c0 + RC) of dx: its rows in pairs (each weight broadcast serves two rows), then an odd last one.
template <typename T, int RC> void data_rows(const DirectData<T>& d, const T* dp, T* dxs, long c0) {
  const long H = d.g->H;
  long ih = 0;
  for (; ih + 2 <= H; ih += 2)
    for (long v = 0; v < d.WV; v++) data_tile<T, RC, 2>(d, dp, dxs, ih, v, c0);
  if (ih < H)
    for (long v = 0; v < d.WV; v++) data_tile<T, RC, 1>(d, dp, dxs, ih, v, c0);
}

// dx_n (C, H, W) from dy_n (F, OH, OW) through the transposed convolution; false when out of memory.
template <typename T> bool direct_data_image(const DirectData<T>& d, const T* dy, T* dx) {
  typedef typename Vec<T>::U U;
  const ConvShape& g = *d.g;
  const long L = Vec<T>::L, rows = g.F * g.OH, row_len = d.WV * L, dxs_len = g.C * g.H * row_len;
  T* dp = (T*)data_image.reserve(sizeof(T) * (size_t)(rows * d.RL + dxs_len));
  if (!dp) return false;
  T* dxs = dp + rows * d.RL;
  // dy's rows: the columns that a load reads past the row's end come from the zeros after it
  const long copy = g.OW < row_len + g.pw ? g.OW : row_len + g.pw;
  memset(dp, 0, sizeof(T) * (size_t)(rows * d.RL + dxs_len));
  for (long r = 0; r < rows; r++) memcpy(dp + r * d.RL + g.KW - 1, dy + r * g.OW, sizeof(T) * (size_t)copy);
  long c0 = 0;
  for (; c0 + kDataRows <= g.C; c0 += kDataRows) data_rows<T, kDataRows>(d, dp, dxs, c0);
  if (c0 + 4 <= g.C) {
    data_rows<T, 4>(d, dp, dxs, c0);
    c0 += 4;
  }
  if (c0 + 2 <= g.C) {
    data_rows<T, 2>(d, dp, dxs, c0);
    c0 += 2;
  }
  if (c0 < g.C) data_rows<T, 1>(d, dp, dxs, c0);
  // dx's rows in order, whole vectors: a last partial one lands on the rows after it, written after it; not past the
  // image's end (another task's image)
  const long W = g.W, end = g.C * g.H * W;
  for (long r = 0; r < g.C * g.H; r++) {
    const T* src = dxs + r * row_len;
    T* dst = dx + r * W;
    long i = 0;
    for (; i + L <= W; i += L) *(U*)(dst + i) = *(const U*)(src + i);
    if (i < W && r * W + i + L <= end) {
      *(U*)(dst + i) = *(const U*)(src + i);
    } else {
      for (; i < W; i++) dst[i] = src[i];
    }
  }
  return true;
}

// ---- backward-filter with an implicit im2col ----
// Backward-filter's GEMM, part (CKK, F) (+)= col (CKK, P) dy_n^T, reads col[(c, kh, kw), (oh, ow)] row by row: with
// stride 1 along the width that is the zero-padded image at (c, oh sh + kh, ow + kw) (the direct convolution's
// padded copy and tap offsets), a run of pixels along an output row a run of a padded row. So the product reads the
// padded image in place of the im2col matrix (written and read back, 113 KB per image of MNIST's second layer), with
// dy transposed per image as the GEMM packs it, (P, F rounded up to vectors, zeros past F). The register tile is RM
// taps by NV vectors of filters; each element is summed as the GEMM sums it (gemm.cc: K blocks of kGemmKC pixels from
// zero accumulators, pixels in order, one multiply-add at a time; a block's sum stored on the chunk's first image's
// first block, added to the partial sum otherwise), so dweight keeps the GEMM path's bits on every ISA.

// Taps per tile of the implicit product (each its own row pointer), by 2 vectors of filters.
enum { kFilterRows = NODENN_REGS == 32 ? 8 : 6 };

// Whether backward-filter takes the implicit im2col, where the GEMM takes its packed path: stride 1 along the width,
// not a 1x1 (whose col is the image itself), C KH KW above the unpacked product's kSmallK, and more filters than a
// vector (op(B) narrower than a vector takes the GEMM's dot products, another order). Each chunk of images on its own
// thread, as use_direct.
template <typename T> inline bool use_direct_filter(const ConvShape& g, long chunks) {
  const long CKK = g.C * g.KH * g.KW, P = g.OH * g.OW;
  if (g.sw != 1 || is_pointwise(g) || CKK <= kSmallK || g.F <= Vec<T>::L || P == 0) return false;
  return chunks >= get_threads() || 2.0 * (double)P * (double)g.F * (double)CKK < 2e6;
}

// The padded image's shape and the tap offsets of a call's implicit im2col (the calling thread's scratch), as
// prepare_direct sets them up; false when out of memory.
template <typename T> bool prepare_direct_filter(const ConvShape& g, DirectConv<T>* d) {
  long* off = (long*)filter_offsets.reserve(sizeof(long) * (size_t)(g.C * g.KH * g.KW));
  if (!off) return false;
  padded_geometry(g, 2 * Vec<T>::L, off, d);  // whole pairs of vectors: the tile's loads of dy's rows
  d->wp = nullptr;
  return true;
}

// part's taps [r0, r0 + RM) by the filters [f0, f0 + cols), cols <= NV L, for one image: xp its padded image, dyt its
// dy transposed; first: the chunk's first image (the first K block's sums are stored).
template <typename T, int RM, int NV>
inline void filter_tile(const DirectConv<T>& d, const T* xp, const T* dyt, T* part, long r0, long f0, long cols,
                        bool first) {
  typedef typename Vec<T>::V V;
  typedef typename Vec<T>::U U;
  enum { L = Vec<T>::L };
  const ConvShape& g = *d.g;
  const long P = g.OH * g.OW, OW = g.OW, F = g.F, fpad = d.fpad, row_step = g.sh * d.WP;
  const T* a[RM];
  for (int i = 0; i < RM; i++) a[i] = xp + d.off[r0 + i];
  for (long pc = 0; pc < P; pc += kGemmKC) {
    const long end = P - pc < kGemmKC ? P : pc + kGemmKC;
    V acc[RM][NV];
#pragma GCC unroll 16
    for (int i = 0; i < RM; i++)
      for (int v = 0; v < NV; v++) acc[i][v] = V{};
    const T* b = dyt + pc * fpad + f0;
    // the block's pixels, a run of an output row at a time
    for (long p = pc, oh = pc / OW, ow = pc % OW; p < end; oh++, ow = 0) {
      const long run = OW - ow < end - p ? OW - ow : end - p, at = oh * row_step + ow;
      for (long s = 0; s < run; s++, b += fpad) {
        V bv[NV];
        for (int v = 0; v < NV; v++) bv[v] = *(const U*)(b + v * L);
#pragma GCC unroll 16
        for (int i = 0; i < RM; i++) {
          const V ai = a[i][at + s] - V{};  // a broadcast (x - 0 is exactly x, -0 included)
          for (int v = 0; v < NV; v++) acc[i][v] += ai * bv[v];
        }
      }
      p += run;
    }
    const bool store = first && pc == 0;
#pragma GCC unroll 16
    for (int i = 0; i < RM; i++)
      for (int v = 0; v < NV; v++) {
        T* c = part + (r0 + i) * F + f0 + v * L;
        const long n = cols - v * L;
        if (n >= L) {
          *(U*)c = store ? acc[i][v] : (V) * (const U*)c + acc[i][v];
        } else if (n > 0) {
          store_partial(c, store ? acc[i][v] : load_partial(c, (int)n) + acc[i][v], (int)n);
        }
      }
  }
}

// Taps [r0, r0 + RM) by all the filters.
template <typename T, int RM>
void filter_rows(const DirectConv<T>& d, const T* xp, const T* dyt, T* part, long r0, bool first) {
  const long L = Vec<T>::L, F = d.g->F;
  long f0 = 0;
  for (; f0 + L < F; f0 += 2 * L)
    filter_tile<T, RM, 2>(d, xp, dyt, part, r0, f0, F - f0 < 2 * L ? F - f0 : 2 * L, first);
  if (f0 < F) filter_tile<T, RM, 1>(d, xp, dyt, part, r0, f0, F - f0, first);
}

// part (CKK, F) (+)= col_n dy_n^T for image x_n, as backward_filter_chunk's GEMM computes it, without the col matrix;
// false when out of memory.
template <typename T> bool direct_filter_image(const DirectConv<T>& d, const T* x_n, const T* dy, T* part, bool first) {
  const ConvShape& g = *d.g;
  const long L = Vec<T>::L, P = g.OH * g.OW, F = g.F, CKK = g.C * g.KH * g.KW;
  T* xp = (T*)direct_input.reserve(sizeof(T) * (size_t)(g.C * d.HP * d.WP + L));
  T* dyt = (T*)filter_dyt.reserve(sizeof(T) * (size_t)(P * d.fpad));
  if (!xp || !dyt) return false;
  pad_image(d, x_n, xp);
  for (long p = 0; p < P; p++) {
    T* row = dyt + p * d.fpad;
    for (long f = 0; f < F; f++) row[f] = dy[f * P + p];
    for (long f = F; f < d.fpad; f++) row[f] = 0;
  }
  long r0 = 0;
  for (; r0 + kFilterRows <= CKK; r0 += kFilterRows) filter_rows<T, kFilterRows>(d, xp, dyt, part, r0, first);
  if (r0 + 4 <= CKK) {
    filter_rows<T, 4>(d, xp, dyt, part, r0, first);
    r0 += 4;
  }
  if (r0 + 2 <= CKK) {
    filter_rows<T, 2>(d, xp, dyt, part, r0, first);
    r0 += 2;
  }
  if (r0 < CKK) filter_rows<T, 1>(d, xp, dyt, part, r0, first);
  return true;
}

template <typename T> struct SparsePool;

template <typename T> struct ConvJob {
  const ConvShape* g;
  const T* x;
  const T* w;
  const T* b;
  const T* dy;
  T* out;             // y (forward), dx (backward-data), or the per-chunk partial sums (backward-filter)
  long chunk;         // images per chunk (backward-filter)
  bool relu = false;  // forward: y = max(conv + b, 0), NaN kept (the ReLU layer's rule), fused into the last pass
  bool pool = false;  // forward: a 2x2 stride-2 max pooling fused too; y is (N, F, OH/2, OW/2)
  // Training's fused pooling: forward writes the index of each maximum here (with pool); backward reads it, dy being
  // the pooled gradient
  int32_t* argmax = nullptr;
  const int32_t* argmax_in = nullptr;
  const T* relu_y = nullptr;  // the pooled backward: the forward's output with relu; dy passes where it is > 0
  T* out2 = nullptr;          // the pooled backward's dx (null: not computed)
  const DirectConv<T>* direct = nullptr;  // forward: the direct convolution, set up for the call (use_direct)
  const DirectData<T>* data = nullptr;    // backward-data: the transposed convolution (use_direct_data)
  const DirectConv<T>* filter = nullptr;  // backward-filter: the implicit im2col (use_direct_filter)
  const SparsePool<T>* sparse = nullptr;  // the pooled backward's sparse products (use_sparse_pool)
  std::atomic<bool> failed{false};
};

// The fields every kernel's job sets; the rest keep their defaults until the caller sets them.
template <typename T>
void make_job(ConvJob<T>& j, const ConvShape& g, const T* x, const T* w, const T* b, const T* dy, T* out) {
  j.g = &g;
  j.x = x;
  j.w = w;
  j.b = b;
  j.dy = dy;
  j.out = out;
}

// The im2col matrix of image n: the image itself for a pointwise convolution, else the thread's scratch.
template <typename T> const T* columns(const ConvShape& g, const T* x_n, std::atomic<bool>& failed) {
  if (is_pointwise(g)) return x_n;
  T* col = (T*)col_buffer.reserve(sizeof(T) * (size_t)(g.C * g.KH * g.KW) * (size_t)(g.OH * g.OW));
  if (!col) {
    failed = true;
    return nullptr;
  }
  im2col(g, x_n, col);
  return col;
}

// yt (P, F) = col_n^T w^T for image x_n (the transposed product of forward_image): the direct convolution when the
// call set one up, else the im2col matrix and the GEMM.
template <typename T> bool transposed_product(ConvJob<T>& j, const T* x_n, T* yt) {
  const ConvShape& g = *j.g;
  if (j.direct) return direct_image(*j.direct, x_n, yt);
  const T* col = columns(g, x_n, j.failed);
  const long P = g.OH * g.OW, CKK = g.C * g.KH * g.KW;
  return col && gemm<T>(true, true, P, g.F, CKK, 1, col, P, j.w, CKK, 0, yt, g.F);
}

// y[f][q] = max(y[f][q] + b[f], 0) (relu) or y[f][q] + b[f], over F rows of Q.
template <typename T> void bias_relu_rows(T* y, long F, long Q, const T* b, bool relu) {
  if (!b && !relu) return;
  for (long f = 0; f < F; f++) {
    const T bf = b ? b[f] : (T)0;
    T* yf = y + f * Q;
    if (relu) {
      for (long q = 0; q < Q; q++) {
        const T v = yf[q] + bf;
        yf[q] = v < 0 ? 0 : v;
      }
    } else {
      for (long q = 0; q < Q; q++) yf[q] += bf;
    }
  }
}

// The lane masks of transpose_pass: for lane j of a group of 2H lanes, row i (HIGH false) takes its own lane j in
// the group's first half and lane j - H of row i + H in the second; row i + H (HIGH) takes lane j + H of row i, then
// its own.
template <typename T, int H, bool HIGH, size_t... J>
inline typename PoolVec<T>::I swap_mask(std::index_sequence<J...>) {
  typedef typename PoolVec<T>::E E;
  enum { L = Vec<T>::L };
  return typename PoolVec<T>::I{(E)(HIGH ? ((J & H) == 0 ? J + H : L + J) : ((J & H) == 0 ? J : L + J - H))...};
}

// Transposes the L x L block r (row i = r[i]) in place: each 2H x 2H block's off-diagonal H x H halves swapped,
// for H = L / 2 down to 1 (log2 L passes of L two-vector shuffles with constant masks, instead of L gathers).
template <typename T, int H> inline void transpose_pass(typename Vec<T>::V* r) {
  typedef typename Vec<T>::V V;
  enum { L = Vec<T>::L };
  const typename PoolVec<T>::I lo = swap_mask<T, H, false>(std::make_index_sequence<L>());
  const typename PoolVec<T>::I hi = swap_mask<T, H, true>(std::make_index_sequence<L>());
#pragma GCC unroll 16
  for (int i = 0; i < L; i++)
    if ((i & H) == 0) {
      const V a = r[i], c = r[i + H];
      r[i] = __builtin_shuffle(a, c, lo);
      r[i + H] = __builtin_shuffle(a, c, hi);
    }
  if constexpr (H > 1) transpose_pass<T, H / 2>(r);
}

// y[f][q] = src[q][f] + b[f] (then the ReLU, NaN kept), for Q rows of F in src: L x L blocks transposed in registers,
// the filters past them gathered L pixels at a time, the pixels past those one by one.
// One L x L block of src (pixels q0.. as rows of F, filters f0..) transposed in registers, + b, then the ReLU (NaN
// kept): filter f0 + l's L pixels as one vector, handed to store(l, v). The pixels from n on are read as zeros.
template <typename T, typename Store>
inline void transpose_block(const T* src, long F, long q0, long f0, long n, const T* b, bool relu, Store store) {
  typedef typename Vec<T>::V V;
  typedef typename Vec<T>::U U;
  enum { L = Vec<T>::L };
  V r[L];
#pragma GCC unroll 16
  for (int i = 0; i < L; i++) r[i] = i < n ? (V) * (const U*)(src + (q0 + i) * F + f0) : V{};
  transpose_pass<T, L / 2>(r);
#pragma GCC unroll 16
  for (int l = 0; l < L; l++) {
    V v = r[l] + (b ? b[f0 + l] : (T)0);
    if (relu) v = v < 0 ? V{} : v;
    store(l, v);
  }
}

template <typename T> void transpose_bias_relu(const T* src, long Q, long F, const T* b, bool relu, T* y) {
  typedef typename Vec<T>::V V;
  typedef typename Vec<T>::U U;
  enum { L = Vec<T>::L };
  long q0 = 0;
  for (; q0 + L <= Q; q0 += L) {
    long f0 = 0;
    for (; f0 + L <= F; f0 += L)
      transpose_block(src, F, q0, f0, L, b, relu, [&](int l, V v) { *(U*)(y + (f0 + l) * Q + q0) = v; });
    for (long f = f0; f < F; f++) {
      V v = gather_stride(src + q0 * F + f, F) + (b ? b[f] : (T)0);
      if (relu) v = v < 0 ? V{} : v;
      *(U*)(y + f * Q + q0) = v;
    }
  }
  for (long f = 0; f < F; f++) {
    const T bf = b ? b[f] : (T)0;
    for (long q = q0; q < Q; q++) {
      const T v = src[q * F + f] + bf;
      y[f * Q + q] = relu && v < 0 ? 0 : v;
    }
  }
}

// The 2x2 stride-2 max pooling of yt (P = OH x OW rows of F, pixel-major) into yq (OH/2 x OW/2 rows of F):
// whole rows of F at a time, the four in row-major window order with the rule of takes() (pool2x2.h).
template <typename T> void max_pool_rows(const T* yt, long OW, long QH, long QW, long F, T* yq) {
  typedef typename Vec<T>::V V;
  typedef typename Vec<T>::U U;
  const long L = Vec<T>::L;
  for (long qh = 0; qh < QH; qh++)
    for (long qw = 0; qw < QW; qw++) {
      const T* r00 = yt + (2 * qh * OW + 2 * qw) * F;
      const T* r01 = r00 + F;
      const T* r10 = r00 + OW * F;
      const T* r11 = r10 + F;
      T* out = yq + (qh * QW + qw) * F;
      long f = 0;
      for (; f + L <= F; f += L) {
        const V a = *(const U*)(r00 + f), b = *(const U*)(r01 + f), c = *(const U*)(r10 + f);
        const V d = *(const U*)(r11 + f);
        // takes() in window order is v > m while no NaN has come (ties keep the earlier value), and a NaN, once
        // taken, is never replaced: the maximum of the four, or the first NaN among them. Those two apart, and
        // the NaN only where there is one: fewer operations, and the two chains independent.
        V m = b > a ? b : a;
        m = c > m ? c : m;
        m = d > m ? d : m;
        V nan = c != c ? c : d;
        nan = b != b ? b : nan;
        nan = a != a ? a : nan;
        *(U*)(out + f) = nan != nan ? nan : m;
      }
      for (; f < F; f++) {
        T m = r00[f];
        m = takes(r01[f], m) ? r01[f] : m;
        m = takes(r10[f], m) ? r10[f] : m;
        m = takes(r11[f], m) ? r11[f] : m;
        out[f] = m;
      }
    }
}

// y_n (F, P) = w col_n + b into full, exactly as forward_image writes y_n without relu and pool (the same products,
// the same transposition), so that pooling it gives the values and indices of the separate MaxPool2D layer.
// yt: scratch of P x F for the transposed GEMM.
template <typename T> bool conv_image_full(ConvJob<T>& j, long n, T* full, T* yt) {
  const ConvShape& g = *j.g;
  const T *w = j.w, *b = j.b;
  const long P = g.OH * g.OW, CKK = g.C * g.KH * g.KW, F = g.F;
  if (!j.direct && (CKK <= kSmallK || F > kGatherMaxF)) {
    const T* col = columns(g, j.x + n * g.C * g.H * g.W, j.failed);
    if (!col) return false;
    if (CKK <= kSmallK) {
      small_k_product(false, F, P, CKK, w, col, full);
    } else if (!product<T>(false, F, P, CKK, w, col, full)) {
      return false;
    }
    bias_relu_rows(full, F, P, b, j.relu);
    return true;
  }
  if (!transposed_product(j, j.x + n * g.C * g.H * g.W, yt)) return false;
  transpose_bias_relu(yt, P, F, b, j.relu, full);
  return true;
}

// Training's conv (+ ReLU) + 2x2 max pooling: the full output of one image, with the ReLU applied as the layer applies
// it, stays in the thread's scratch (in cache), and only the pooled values and their indices go to memory, as
// MaxPool2D's kernel computes them from it. (The ReLU before the maximum, not after: the pooling of the ReLU's output
// takes the first of a window's zeros, relu(-0) = -0 included, where the ReLU of the maximum would keep a -0 maximum.)
template <typename T> void forward_image_pooled(ConvJob<T>& j, long n) {
  const ConvShape& g = *j.g;
  const long P = g.OH * g.OW, F = g.F, QH = g.OH / 2, QW = g.OW / 2, Q = QH * QW;
  T* full = (T*)out_buffer.reserve(sizeof(T) * 2 * (size_t)P * (size_t)F);
  if (!full || !conv_image_full(j, n, full, full + P * F)) {
    j.failed = true;
    return;
  }
  T* y = j.out + n * F * Q;
  int32_t* arg = j.argmax + n * F * Q;
  for (long f = 0; f < F; f++) max_pool_2x2<T, true>(g.OW, QH, QW, full + f * P, y + f * Q, arg + f * Q);
}

// Where a pooled output goes straight into the next convolution's zero-padded image (conv2d_chain_forward): its
// geometry, and the padded image (C = this output's F planes of HP rows of WP).
template <typename T> struct PaddedTarget {
  const DirectConv<T>* d;
  T* xp;
};

// Whether a pooled output QW pixels wide can be written into d's padded image a vector at a time: the lanes of a
// row's last, partial vector past QW are stored as zeros and must land on padding only — the row's right padding,
// or the next row's left padding (which is the next plane's top padding after a plane's last row: ph >= 1).
template <typename T> bool fits_padded(const DirectConv<T>& d) {
  const ConvShape& g = *d.g;
  const long L = Vec<T>::L, spill = (g.W + L - 1) / L * L - g.W;
  return spill <= g.pw || (spill <= 2 * g.pw && g.ph >= 1);
}

// Pooled row src (QW pixels of F, pixel-major) + b, then the ReLU (NaN kept), into row `row` of each of the F planes
// of t's padded image (at column pw), transposed in L x L blocks in registers as transpose_bias_relu does, with the
// same sums (src + b, or src + 0 without a bias); the lanes past QW are stored as zeros (fits_padded). Rows past the
// padded image (which no window reads) are not written.
template <typename T>
void transpose_row_padded(const T* src, long QW, long F, const T* b, bool relu, long row, const PaddedTarget<T>& t) {
  typedef typename Vec<T>::V V;
  typedef typename Vec<T>::U U;
  typedef typename PoolVec<T>::I I;
  typedef typename PoolVec<T>::E E;
  enum { L = Vec<T>::L };
  const DirectConv<T>& d = *t.d;
  const ConvShape& g = *d.g;
  if (row >= d.HP - g.ph) return;
  const long plane = d.HP * d.WP;
  T* dst = t.xp + (g.ph + row) * d.WP + g.pw;
  I iota;
  for (int l = 0; l < L; l++) iota[l] = (E)l;
  for (long q0 = 0; q0 < QW; q0 += L) {
    const long n = QW - q0 < L ? QW - q0 : (long)L;
    const I keep = iota < (E)n;
    long f0 = 0;
    for (; f0 + L <= F; f0 += L)
      transpose_block(src, F, q0, f0, n, b, relu,
                      [&](int l, V v) { *(U*)(dst + (f0 + l) * plane + q0) = keep ? v : V{}; });
    for (long f = f0; f < F; f++) {
      const T bf = b ? b[f] : (T)0;
      T* out = dst + f * plane + q0;
      for (long i = 0; i < L; i++) {
        const T v = i < n ? src[(q0 + i) * F + f] + bf : (T)0;
        out[i] = relu && v < 0 ? 0 : v;
      }
    }
  }
}

// The pooled output of the direct convolution from the padded image xp: the output rows in pairs, each pair pooled as
// soon as it is computed: two rows of scratch (in L1) rather than the whole output (784 x 16 floats for MNIST's
// first layer, 50 KB); the rows no window reads (an odd last one) are not computed. The same sums, so the same bits.
// Then + b and the ReLU, transposed into y (F, OH/2 x OW/2), or with `next`, each pooled row as soon as it is
// pooled, into the next convolution's padded image (its zero padding kept).
template <typename T> void direct_pooled(ConvJob<T>& j, const T* xp, T* y, const PaddedTarget<T>* next) {
  const ConvShape& g = *j.g;
  const long F = g.F, QH = g.OH / 2, QW = g.OW / 2, Q = QH * QW;
  T* rows = (T*)out_buffer.reserve(sizeof(T) * (size_t)(2 * g.OW + Q) * (size_t)F);
  if (!rows) {
    j.failed = true;
    return;
  }
  T* yq = rows + 2 * g.OW * F;
  for (long qh = 0; qh < QH; qh++) {
    direct_output_row(*j.direct, xp, 2 * qh, rows);
    direct_output_row(*j.direct, xp, 2 * qh + 1, rows + g.OW * F);
    max_pool_rows(rows, g.OW, 1, QW, F, yq + qh * QW * F);
    if (next) transpose_row_padded(yq + qh * QW * F, QW, F, j.b, j.relu, qh, *next);
  }
  if (!next) transpose_bias_relu(yq, Q, F, j.b, j.relu, y);
}

// y_n (F, P) = w (F, CKK) col_n (CKK, P) + b, then the ReLU (j.relu), or, for inference fused with a following
// 2x2 stride-2 max pooling (j.pool), y_n (F, OH/2 x OW/2) = relu(maxpool(w col_n) + b): the same values as the
// three layers one after the other (rounding x -> x + b is monotone, so the maximum commutes with the bias, and
// the ReLU with the maximum; a NaN stays NaN either way).
// A tiny CKK (a first layer) with few filters takes the unpacked product straight into y. Otherwise the product runs
// transposed, y_n^T (P, F) = col_n^T w^T: the direct convolution (use_direct), or the GEMM, where the long side P
// becomes the rows, which the GEMM reads in place from col, and only w (F x CKK, small) is packed, instead of the
// whole col matrix; F columns fill the register tile (32 = 2 AVX-512 vectors). Then one pass transposes into y with
// the bias (and ReLU) applied. x_n is the image (C, H, W), y its output.
template <typename T> void forward_one(ConvJob<T>& j, const T* x_n, T* y) {
  const ConvShape& g = *j.g;
  const long P = g.OH * g.OW, CKK = g.C * g.KH * g.KW, F = g.F;
  const long QH = j.pool ? g.OH / 2 : g.OH, QW = j.pool ? g.OW / 2 : g.OW, Q = QH * QW;
  if (!j.direct && (CKK <= kSmallK || F > kGatherMaxF)) {
    // very many filters: rows of yt too far apart to gather from; the direct product, as for a tiny CKK
    const T* col = columns(g, x_n, j.failed);
    if (!col) return;
    T* full = j.pool ? (T*)out_buffer.reserve(sizeof(T) * (size_t)P * (size_t)F) : y;
    if (!full) {
      j.failed = true;
      return;
    }
    if (CKK <= kSmallK) {
      small_k_product(false, F, P, CKK, j.w, col, full);
    } else if (!product<T>(false, F, P, CKK, j.w, col, full)) {
      j.failed = true;
      return;
    }
    if (j.pool)
      for (long f = 0; f < F; f++) max_pool_2x2<T, false>(g.OW, QH, QW, full + f * P, y + f * Q, nullptr);
    bias_relu_rows(y, F, Q, j.b, j.relu);
    return;
  }
  if (j.direct && j.pool) {
    const T* xp = padded_image(*j.direct, x_n);
    if (!xp) {
      j.failed = true;
      return;
    }
    direct_pooled<T>(j, xp, y, nullptr);
    return;
  }
  T* yt = (T*)out_buffer.reserve(sizeof(T) * (size_t)(P + (j.pool ? Q : 0)) * (size_t)F);
  if (!yt || !transposed_product(j, x_n, yt)) {
    j.failed = true;
    return;
  }
  const T* src = yt;
  if (j.pool) {
    max_pool_rows(yt, g.OW, QH, QW, F, yt + P * F);
    src = yt + P * F;
  }
  transpose_bias_relu(src, Q, F, j.b, j.relu, y);
}

// forward_one for image n of the call (or training's fused pooling, with argmax).
template <typename T> void forward_image(void* ctx, long n) {
  ConvJob<T>& j = *(ConvJob<T>*)ctx;
  const ConvShape& g = *j.g;
  if (j.argmax) {
    forward_image_pooled(j, n);
    return;
  }
  const long Q = j.pool ? (g.OH / 2) * (g.OW / 2) : g.OH * g.OW;
  forward_one(j, j.x + n * g.C * g.H * g.W, j.out + n * g.F * Q);
}

// dcol (CKK, P) = w^T dy_n, then dx_n = col2im(dcol); or the transposed convolution where the call set it up
template <typename T>
bool backward_data_one(const ConvShape& g, const DirectData<T>* data, const T* w, const T* dy, T* dx) {
  const long P = g.OH * g.OW, CKK = g.C * g.KH * g.KW, HW = g.H * g.W;
  if (data) return direct_data_image(*data, dy, dx);
  if (is_pointwise(g)) return product<T>(true, CKK, P, g.F, w, dy, dx);
  T* dcol = (T*)col_buffer.reserve(sizeof(T) * (size_t)CKK * (size_t)P);
  if (!dcol || !product<T>(true, CKK, P, g.F, w, dy, dcol)) return false;
  for (long i = 0; i < g.C * HW; i++) dx[i] = 0;
  col2im(g, dcol, dx);
  return true;
}

template <typename T> void backward_data_image(void* ctx, long n) {
  ConvJob<T>& j = *(ConvJob<T>*)ctx;
  const ConvShape& g = *j.g;
  if (!backward_data_one(g, j.data, j.w, j.dy + n * g.F * g.OH * g.OW, j.out + n * g.C * g.H * g.W)) j.failed = true;
}

// db[f] += the sum of row f of dy (F rows of P), in a fixed order per ISA: the row's lane-wise sums over its vectors,
// then the lanes in order, then the tail. L rows' lane sums at a time are transposed in registers and summed side by
// side rather than one chain per row. (The lane sums, from +0, are never -0: the transpose's + 0 keeps them.)
template <typename T> void add_row_sums(const T* dy, long F, long P, T* db) {
  typedef typename Vec<T>::V V;
  typedef typename Vec<T>::U U;
  enum { L = Vec<T>::L };
  const long nv = P - P % L;
  for (long f0 = 0; f0 < F; f0 += L) {
    const long n = F - f0 < L ? F - f0 : (long)L;
    alignas(kCacheLine) T lanes[L * L];
    for (long i = 0; i < n; i++) {
      const T* a = dy + (f0 + i) * P;
      V acc = V{};
      for (long k = 0; k < nv; k += L) acc += *(const U*)(a + k);
      *(U*)(lanes + i * L) = acc;
    }
    V sum = V{};
    transpose_block(lanes, (long)L, 0, 0, n, (const T*)nullptr, false, [&](int, V v) { sum += v; });
    for (long i = 0; i < n; i++) {
      T s = sum[i];
      for (long k = nv; k < P; k++) s += dy[(f0 + i) * P + k];
      db[f0 + i] += s;
    }
  }
}

// The gradient of the full conv output of image n from the pooled one, as MaxPool2D's backward computes it
// (zeros, then += at each window's maximum), into the thread's scratch. With relu_y, the pooled gradient first goes
// through the ReLU's backward on the pooled output (relu_y > 0 ? dy : +0, as activationBackward gives it).
template <typename T> const T* unpooled_dy(const ConvJob<T>& j, long n) {
  const ConvShape& g = *j.g;
  const long P = g.OH * g.OW, Q = (g.OH / 2) * (g.OW / 2);
  T* d = (T*)out_buffer.reserve(sizeof(T) * (size_t)P * (size_t)g.F);
  if (!d) return nullptr;
  const T* dq = j.dy + n * g.F * Q;
  const int32_t* arg = j.argmax_in + n * g.F * Q;
  const T* yq = j.relu_y ? j.relu_y + n * g.F * Q : nullptr;
  for (long f = 0; f < g.F; f++) {
    T* df = d + f * P;
    for (long i = 0; i < P; i++) df[i] = 0;
    if (yq) {
      for (long q = 0; q < Q; q++) df[arg[f * Q + q]] += yq[f * Q + q] > 0 ? dq[f * Q + q] : T(0);
    } else {
      for (long q = 0; q < Q; q++) df[arg[f * Q + q]] += dq[f * Q + q];
    }
  }
  return d;
}

// ---- the pooled backward's sparse gradient ----
// In training's fused Conv2D [+ ReLU] + MaxPool2D(2) backward, the gradient of the full output has at most one
// nonzero per 2x2 window and filter (the window's maximum), and none where the ReLU was off: three quarters or more
// of dy are zeros, and every product with a zero of dy is a zero. A zero product leaves each sum as it was where
// the other factor is finite (a sum from zero accumulators is never -0, and s + +-0 = s), so both products skip them
// and keep the dense paths' bits: the same sums in the same order, less the zeros.
// - backward-filter (where the implicit im2col runs, filter_tile): part[(c, t), f] sums x at tap t of pixel p times
//   dy[f][p] over p in order, in K blocks of kGemmKC pixels. Here, per filter, its nonzeros of dy in pixel order:
//   per nonzero a broadcast of dy and one multiply-add for each (tap, vector of channels), the image read from a
//   channel-last zero-padded copy (HP x WP pixels of CV channels, C rounded up to vectors) where a tap row of
//   channels is a vector. Every x must be finite (checked per chunk of images, else the chunk runs the dense path).
// - backward-data (where the transposed convolution runs, data_tap): dx[c][ih][iw] adds, tap by tap in row-major
//   order, the f-sum of w[f][c][t] dy[f][oh][ow] (from zero, f in order) over the taps whose output pixel exists.
//   Here each output pixel's f-sums for all taps come from its nonzeros in filter order (none: the sums are zeros,
//   not added), then each dx pixel adds its taps' sums in order. Every weight must be finite (checked per call).

// Accumulators of one pass of sparse_sums (a broadcast and the loaded operand take the other registers).
enum { kSparseAcc = 12 };

// out[a] = sum over the entries e in order of val[e] * base[at[e] + off[a], a vector], from zero, one multiply-add
// at a time, for G accumulators.
template <typename T, int G>
inline void sparse_sums(const int32_t* at, const T* val, long n, const T* base, const long* off,
                        typename Vec<T>::V* out) {
  typedef typename Vec<T>::V V;
  typedef typename Vec<T>::U U;
  V acc[G];
#pragma GCC unroll 16
  for (int a = 0; a < G; a++) acc[a] = V{};
  for (long e = 0; e < n; e++) {
    const V v = val[e] - V{};  // a broadcast (v - 0 is exactly v, -0 included)
    const T* b = base + at[e];
#pragma GCC unroll 16
    for (int a = 0; a < G; a++) acc[a] += v * *(const U*)(b + off[a]);
  }
#pragma GCC unroll 16
  for (int a = 0; a < G; a++) out[a] = acc[a];
}

// sparse_sums for NA accumulators (any number), in passes of at most kSparseAcc, as even as they come.
template <typename T>
void sparse_sums_any(const int32_t* at, const T* val, long n, const T* base, const long* off, long NA,
                     typename Vec<T>::V* out) {
  const long passes = (NA + kSparseAcc - 1) / kSparseAcc;
  for (long a0 = 0, k = 0; k < passes; k++) {
    const long g = (NA - a0) / (passes - k);
    switch (g) {
#define NODENN_SPARSE_CASE(G) \
  case G: sparse_sums<T, G>(at, val, n, base, off + a0, out + a0); break;
      NODENN_SPARSE_CASE(1)
      NODENN_SPARSE_CASE(2)
      NODENN_SPARSE_CASE(3)
      NODENN_SPARSE_CASE(4)
      NODENN_SPARSE_CASE(5)
      NODENN_SPARSE_CASE(6)
      NODENN_SPARSE_CASE(7)
      NODENN_SPARSE_CASE(8)
      NODENN_SPARSE_CASE(9)
      NODENN_SPARSE_CASE(10)
      NODENN_SPARSE_CASE(11)
      NODENN_SPARSE_CASE(12)
#undef NODENN_SPARSE_CASE
      default: break;
    }
    a0 += g;
  }
}

template <typename T> struct SparsePool {
  const ConvShape* g;
  long CV;           // C rounded up to vectors
  long KK;           // taps, KH KW
  long NA;           // accumulators per filter (backward-filter) or per output pixel (backward-data): KK CV / L
  long HP, WP;       // the channel-last padded image's rows and pixels per row
  const long* xoff;  // backward-filter: (tap, vector of channels) a's offset in the padded image, from a pixel's tap 0
  const long* woff;  // backward-data: a L (the weights' rows are contiguous)
  const T* wc;       // backward-data: wc[(f KK + t) CV + c] = w[f][c][t], zeros past C; null: dense backward-data
  const int32_t* pixel;  // backward-filter: output pixel p's tap 0 in the padded image
};

// Whether the pooled backward takes the sparse backward-filter and backward-data: where the implicit im2col and the
// transposed convolution run (their sums are the references), with F within one K block (backward-data's f-sums),
// and accumulator offsets that fit int32 indices.
template <typename T> inline bool use_sparse_pool(const ConvShape& g, bool filter, bool data) {
  if (!filter) return false;
  if (data && g.F > kGemmKC) return false;
  const long L = Vec<T>::L, CV = (g.C + L - 1) / L * L;
  const long HP = (g.OH - 1) * g.sh + g.KH, WP = (g.OW - 1) * g.sw + g.KW;
  return (double)HP * (double)WP * (double)CV < 2e9 && (double)g.F * (double)g.KH * g.KW * CV < 2e9;
}

// The call's offsets (and, for backward-data with finite weights, its weights) in the calling thread's scratch;
// false when out of memory.
template <typename T> bool prepare_sparse_pool(const ConvShape& g, const T* w, bool data, SparsePool<T>* s) {
  const long L = Vec<T>::L, CV = (g.C + L - 1) / L * L, KK = g.KH * g.KW, NA = KK * CV / L;
  s->g = &g;
  s->CV = CV;
  s->KK = KK;
  s->NA = NA;
  s->HP = (g.OH - 1) * g.sh + g.KH;
  s->WP = (g.OW - 1) * g.sw + g.KW;
  const long P = g.OH * g.OW;
  long* off = (long*)sparse_offsets.reserve(sizeof(long) * (size_t)(2 * NA) + sizeof(int32_t) * (size_t)P);
  if (!off) return false;
  int32_t* pixel = (int32_t*)(off + 2 * NA);
  for (long p = 0; p < P; p++) pixel[p] = (int32_t)(((p / g.OW) * g.sh * s->WP + (p % g.OW) * g.sw) * CV);
  s->pixel = pixel;
  for (long kh = 0, a = 0; kh < g.KH; kh++)
    for (long kw = 0; kw < g.KW; kw++)
      for (long v = 0; v < CV; v += L, a++) {
        off[a] = (kh * s->WP + kw) * CV + v;
        off[NA + a] = a * L;
      }
  s->xoff = off;
  s->woff = off + NA;
  s->wc = nullptr;
  if (!data) return true;
  const long CKK = g.C * KK;
  for (long i = 0; i < g.F * CKK; i++)
    if (!std::isfinite(w[i])) return true;
  T* wc = (T*)sparse_weights.reserve(sizeof(T) * (size_t)(g.F * KK * CV));
  if (!wc) return false;
  for (long f = 0; f < g.F; f++)
    for (long t = 0; t < KK; t++)
      for (long c = 0; c < CV; c++) wc[(f * KK + t) * CV + c] = c < g.C ? w[f * CKK + c * KK + t] : (T)0;
  s->wc = wc;
  return true;
}

// Whether the images [n0, n1) of x are all finite: 0 x is 0 for a finite x, NaN for an infinite one or a NaN, and
// a sum of zeros and a NaN is NaN (lane-wise sums: the order does not matter here).
template <typename T> bool images_finite(const ConvShape& g, const T* x, long n0, long n1) {
  typedef typename Vec<T>::V V;
  typedef typename Vec<T>::U U;
  const long L = Vec<T>::L, n = (n1 - n0) * g.C * g.H * g.W;
  const T* p = x + n0 * g.C * g.H * g.W;
  V acc = V{};
  long i = 0;
  for (; i + L <= n; i += L) acc += *(const U*)(p + i) * (T)0;
  T tail = 0;
  for (; i < n; i++) tail += p[i] * (T)0;
  for (long l = 0; l < L; l++) tail += acc[l];
  return tail == tail;
}

// One image's nonzeros of dy (F, P, the full output's gradient): by filter in pixel order (fp: the pixel, fv: the
// value, from fstart[f]) and by pixel in filter order (pf: the filter's row f KK CV in s.wc, pv, from pstart[p]).
template <typename T> struct SparseImage {
  const long* fstart;
  const int32_t* fp;
  const T* fv;
  const long* pstart;
  const int32_t* pf;
  const T* pv;
};

// Bit l set where lane l of v is not zero (+-0; a NaN is not).
template <typename T> inline unsigned long nonzero_lanes(typename Vec<T>::V v) {
#if defined(__AVX512F__)
  if constexpr (sizeof(T) == 4)
    return _mm512_cmp_ps_mask((__m512)v, _mm512_setzero_ps(), _CMP_NEQ_UQ);
  else
    return _mm512_cmp_pd_mask((__m512d)v, _mm512_setzero_pd(), _CMP_NEQ_UQ);
#elif defined(__AVX2__)
  if constexpr (sizeof(T) == 4)
    return (unsigned)_mm256_movemask_ps(_mm256_cmp_ps((__m256)v, _mm256_setzero_ps(), _CMP_NEQ_UQ));
  else
    return (unsigned)_mm256_movemask_pd(_mm256_cmp_pd((__m256d)v, _mm256_setzero_pd(), _CMP_NEQ_UQ));
#else
  unsigned long bits = 0;
  for (int l = 0; l < Vec<T>::L; l++) bits |= (unsigned long)(v[l] != 0) << l;
  return bits;
#endif
}

// The lists of dy's nonzeros (F, P: the full output's gradient, as unpooled_dy writes it) in the thread's scratch;
// false when out of memory.
template <typename T> bool sparse_lists(const SparsePool<T>& s, const T* dy, bool by_pixel, SparseImage<T>* si) {
  typedef typename Vec<T>::U U;
  const ConvShape& g = *s.g;
  const long L = Vec<T>::L, F = g.F, P = g.OH * g.OW, nv = P - P % L;
  const size_t idx = sizeof(long) * (size_t)(F + 1 + 2 * (P + 1)), ent = (size_t)(F * P + L);
  char* mem = (char*)sparse_image.reserve(idx + ent * 2 * (sizeof(int32_t) + sizeof(T)));
  if (!mem) return false;
  long* fstart = (long*)mem;
  long* pstart = fstart + F + 1;
  long* pfill = pstart + P + 1;
  T* fv = (T*)(mem + idx);
  T* pv = fv + ent;
  int32_t* fp = (int32_t*)(pv + ent);
  int32_t* pf = fp + ent;
  long nnz = 0;
  for (long f = 0; f < F; f++) {
    fstart[f] = nnz;
    const T* d = dy + f * P;
    long p0 = 0;
#if defined(__AVX512F__)
    // the nonzero lanes packed to the front of a register and stored whole (the lanes past them are overwritten
    // next, or lie in the lists' slack), without a branch per lane
    if constexpr (sizeof(T) == 4) {
      const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
      for (; p0 < nv; p0 += L) {
        const __m512 v = _mm512_loadu_ps(d + p0);
        const __mmask16 m = _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_NEQ_UQ);
        _mm512_storeu_ps(fv + nnz, _mm512_maskz_compress_ps(m, v));
        _mm512_storeu_si512(fp + nnz,
                            _mm512_maskz_compress_epi32(m, _mm512_add_epi32(iota, _mm512_set1_epi32((int)p0))));
        nnz += __builtin_popcount(m);
      }
    }
#endif
    for (; p0 < nv; p0 += L)
      for (unsigned long bits = nonzero_lanes<T>(*(const U*)(d + p0)); bits; bits &= bits - 1) {
        const long p = p0 + __builtin_ctzl(bits);
        fp[nnz] = (int32_t)p;
        fv[nnz++] = d[p];
      }
    for (long p = nv; p < P; p++)
      if (d[p] != 0) {
        fp[nnz] = (int32_t)p;
        fv[nnz++] = d[p];
      }
  }
  fstart[F] = nnz;
  si->fstart = fstart;
  si->fp = fp;
  si->fv = fv;
  si->pstart = pstart;
  si->pf = pf;
  si->pv = pv;
  if (!by_pixel) return true;
  for (long p = 0; p <= P; p++) pstart[p] = 0;
  for (long e = 0; e < nnz; e++) pstart[fp[e] + 1]++;
  for (long p = 0; p < P; p++) pstart[p + 1] += pstart[p];
  for (long p = 0; p < P; p++) pfill[p] = pstart[p];
  const int32_t frow = (int32_t)(s.KK * s.CV);
  for (long f = 0; f < F; f++)
    for (long e = fstart[f]; e < fstart[f + 1]; e++) {
      const long at = pfill[fp[e]]++;
      pf[at] = (int32_t)f * frow;
      pv[at] = fv[e];
    }
  return true;
}

// The channel-last zero-padded copy of image x_n: xc[(hp WP + wp) CV + c] = x[c][hp - ph][wp - pw], zero outside.
template <typename T> void channel_last_padded(const SparsePool<T>& s, const T* x_n, T* xc) {
  const ConvShape& g = *s.g;
  const long CV = s.CV;
  memset(xc, 0, sizeof(T) * (size_t)(s.HP * s.WP * CV));
  const long h1 = g.H < s.HP - g.ph ? g.H : s.HP - g.ph, w1 = g.W < s.WP - g.pw ? g.W : s.WP - g.pw;
  const long L = Vec<T>::L, HW = g.H * g.W;
  for (long c0 = 0; c0 < g.C; c0 += L) {
    const long n = g.C - c0 < L ? g.C - c0 : L;
    for (long ih = 0; ih < h1; ih++)
      for (long iw0 = 0; iw0 < w1; iw0 += L) {
        T* dst = xc + ((ih + g.ph) * s.WP + g.pw + iw0) * CV + c0;
        const long m = w1 - iw0 < L ? w1 - iw0 : L;
        if ((c0 + n - 1) * HW + ih * g.W + iw0 + L <= g.C * HW) {
          // L channels by L pixels transposed in registers (+ 0 turns a -0 pixel into +0, whose products with dy
          // add to the sums as the -0's do: nothing), the pixels past the row (read from the next one) dropped, the
          // channels past C zeros
          transpose_block(x_n + ih * g.W + iw0, HW, c0, 0, n, (const T*)nullptr, false,
                          [&](int l, typename Vec<T>::V v) {
                            if (l < m) *(typename Vec<T>::U*)(dst + l * CV) = v;
                          });
        } else {
          // the image's last pixels: a vector from there would read past it
          for (long c = c0; c < c0 + n; c++)
            for (long i = 0; i < m; i++) dst[i * CV + c - c0] = x_n[c * HW + ih * g.W + iw0 + i];
        }
      }
  }
}

// Backward-filter of one image from its nonzeros: sp[f][a L + l] (f, tap, channel; the chunk's partial sums in this
// layout) (+)= as filter_tile sums part[(c, t), f]. first: the chunk's first image (its first block's sums stored).
template <typename T>
bool sparse_filter_image(const SparsePool<T>& s, const SparseImage<T>& si, const T* x_n, T* sp, bool first) {
  typedef typename Vec<T>::V V;
  typedef typename Vec<T>::U U;
  const ConvShape& g = *s.g;
  const long L = Vec<T>::L, P = g.OH * g.OW, NA = s.NA, CV = s.CV;
  T* xc = (T*)sparse_input.reserve(sizeof(T) * (size_t)(s.HP * s.WP * CV + P) + sizeof(V) * (size_t)(NA + 1));
  int32_t* at = xc ? (int32_t*)(xc + s.HP * s.WP * CV) : nullptr;
  if (!xc) return false;
  V* acc = (V*)(xc + s.HP * s.WP * CV + P);
  if ((uintptr_t)acc % sizeof(V)) acc = (V*)((uintptr_t)acc + sizeof(V) - (uintptr_t)acc % sizeof(V));
  channel_last_padded(s, x_n, xc);
  for (long f = 0; f < g.F; f++) {
    T* out = sp + f * NA * L;
    const long e0 = si.fstart[f], e1 = si.fstart[f + 1];
    for (long pc = 0, e = e0; pc < P; pc += kGemmKC) {
      const long end = P - pc < kGemmKC ? P : pc + kGemmKC;
      long n = 0;
      for (; e + n < e1 && si.fp[e + n] < end; n++) {
        at[n] = s.pixel[si.fp[e + n]];
      }
      const bool store = first && pc == 0;
      if (n == 0 && !store) continue;  // no nonzero in this block: the sums are zeros, + 0 changes nothing
      sparse_sums_any(at, si.fv + e, n, xc, s.xoff, NA, acc);
      for (long a = 0; a < NA; a++) {
        U* o = (U*)(out + a * L);
        *o = store ? acc[a] : (V)*o + acc[a];
      }
      e += n;
    }
  }
  return true;
}

// Backward-data of one image from its nonzeros (s.wc set): each output pixel's f-sums of all taps, then dx.
template <typename T> bool sparse_data_image(const SparsePool<T>& s, const SparseImage<T>& si, T* dx) {
  typedef typename Vec<T>::V V;
  typedef typename Vec<T>::U U;
  const ConvShape& g = *s.g;
  const long L = Vec<T>::L, P = g.OH * g.OW, NA = s.NA, CV = s.CV, CVL = CV / L, HW = g.H * g.W;
  // the f-sums, (P, KK, CV), then dx channel-last (H W, CV)
  T* gs = (T*)sparse_sums_buffer.reserve(sizeof(T) * (size_t)((P * NA + CVL) * L + HW * CV));
  if (!gs) return false;
  T* dxc = gs + P * NA * L;
  for (long p = 0; p < P; p++) {
    const long n = si.pstart[p + 1] - si.pstart[p];
    V* gp = (V*)(gs + p * NA * L);
    if (n > 0) {
      sparse_sums_any(si.pf + si.pstart[p], si.pv + si.pstart[p], n, s.wc, s.woff, NA, gp);
    } else {
      for (long a = 0; a < NA; a++) gp[a] = V{};  // + 0 leaves a running sum (never -0) as it is
    }
  }
  for (long ih = 0; ih < g.H; ih++) {
    // the taps whose output row exists: oh = ih + ph - kh in [0, OH)
    const long kh0 = ih + g.ph - g.OH + 1 > 0 ? ih + g.ph - g.OH + 1 : 0;
    const long kh1 = ih + g.ph < g.KH - 1 ? ih + g.ph : g.KH - 1;
    for (long iw = 0; iw < g.W; iw++) {
      const long kw0 = iw + g.pw - g.OW + 1 > 0 ? iw + g.pw - g.OW + 1 : 0;
      const long kw1 = iw + g.pw < g.KW - 1 ? iw + g.pw : g.KW - 1;
      T* o = dxc + (ih * g.W + iw) * CV;
      for (long v = 0; v < CVL; v++) {
        V run = V{};
        for (long kh = kh0; kh <= kh1; kh++) {
          const T* row = gs + ((ih + g.ph - kh) * g.OW + iw + g.pw) * NA * L + (kh * g.KW * CVL + v) * L;
          for (long kw = kw0; kw <= kw1; kw++) run += *(const U*)(row + (kw * CVL - kw * NA) * L);
        }
        *(U*)(o + v * L) = run;
      }
    }
  }
  // dx (C, H W) from dxc, L x L blocks transposed in registers (+ 0 leaves each value: a sum, never -0)
  for (long q0 = 0; q0 < HW; q0 += L) {
    const long n = HW - q0 < L ? HW - q0 : L;
    for (long c0 = 0; c0 < g.C; c0 += L)
      transpose_block(dxc, CV, q0, c0, n, (const T*)nullptr, false, [&](int l, V v) {
        if (c0 + l >= g.C) return;
        T* d = dx + (c0 + l) * HW + q0;
        if (n == L) {
          *(U*)d = v;
        } else {
          for (long i = 0; i < n; i++) d[i] = v[i];
        }
      });
  }
  return true;
}

// backward_filter_chunk's images [n0, n1) through the sparse products (their images all finite): part's dw (CKK, F)
// and db; false when out of memory.
template <typename T> bool sparse_filter_chunk(ConvJob<T>& j, long n0, long n1, T* part) {
  const ConvShape& g = *j.g;
  const SparsePool<T>& s = *j.sparse;
  const long L = Vec<T>::L, P = g.OH * g.OW, F = g.F, KK = s.KK, CV = s.CV, NA = s.NA;
  T* db = part + F * g.C * KK;
  T* sp = (T*)sparse_partial.reserve(sizeof(T) * (size_t)(F * NA * L));
  if (!sp) return false;
  const bool data = j.out2 && j.data && s.wc;
  for (long n = n0; n < n1; n++) {
    const T* dy = unpooled_dy(j, n);
    SparseImage<T> si;
    if (!dy || !sparse_lists(s, dy, data, &si)) return false;
    T* dx = j.out2 ? j.out2 + n * g.C * g.H * g.W : nullptr;
    if (data ? !sparse_data_image(s, si, dx) : dx && !backward_data_one(g, j.data, j.w, dy, dx)) return false;
    if (!sparse_filter_image(s, si, j.x + n * g.C * g.H * g.W, sp, n == n0)) return false;
    add_row_sums(dy, F, P, db);
  }
  for (long f = 0; f < F; f++)
    for (long c = 0; c < g.C; c++)
      for (long t = 0; t < KK; t++) part[(c * KK + t) * F + f] = sp[f * NA * L + t * CV + c];
  return true;
}

// partial k = [dw | db (F)] summed over the images of chunk k, in image order. dw is (F, CKK) for a tiny CKK (the
// unpacked product), else transposed, (CKK, F) = col (CKK, P) dy^T: the GEMM then reads col in place and packs
// only dy (F x P), instead of packing the whole col matrix transposed; conv2d_backward_filter transposes back.
template <typename T> void backward_filter_chunk(void* ctx, long k) {
  ConvJob<T>& j = *(ConvJob<T>*)ctx;
  const ConvShape& g = *j.g;
  const long P = g.OH * g.OW, CKK = g.C * g.KH * g.KW;
  T* part = j.out + k * (g.F * CKK + g.F);
  T* db = part + g.F * CKK;
  for (long f = 0; f < g.F; f++) db[f] = 0;
  long n0 = k * j.chunk, n1 = n0 + j.chunk < g.N ? n0 + j.chunk : g.N;
  if (j.sparse && images_finite(g, j.x, n0, n1)) {
    if (!sparse_filter_chunk(j, n0, n1, part)) j.failed = true;
    return;
  }
  for (long n = n0; n < n1; n++) {
    const T* dy = j.argmax_in ? unpooled_dy(j, n) : j.dy + n * g.F * P;
    if (!dy) {
      j.failed = true;
      return;
    }
    // the pooled backward's dx of this image: before columns() takes the scratch its dcol uses
    if (j.out2 && !backward_data_one(g, j.data, j.w, dy, j.out2 + n * g.C * g.H * g.W)) {
      j.failed = true;
      return;
    }
    if (j.filter) {
      if (!direct_filter_image(*j.filter, j.x + n * g.C * g.H * g.W, dy, part, n == n0)) {
        j.failed = true;
        return;
      }
      add_row_sums(dy, g.F, P, db);
      continue;
    }
    const T* col = columns(g, j.x + n * g.C * g.H * g.W, j.failed);
    if (!col) return;
    if (CKK <= kSmallK) {
      if (n == n0)
        for (long i = 0; i < g.F * CKK; i++) part[i] = 0;
      small_n_product_bt(g.F, CKK, P, dy, col, part);
    } else if (!gemm<T>(false, true, CKK, g.F, P, 1, col, P, dy, P, n == n0 ? 0 : 1, part, g.F)) {
      j.failed = true;
      return;
    }
    add_row_sums(dy, g.F, P, db);
  }
}

// Images are spread over the pool when there are enough of them; otherwise the GEMM inside spreads its own
// work. Either way each image's result is computed the same way.
inline void over_images(long n, TaskFn fn, void* ctx) {
  if (n >= get_threads()) {
    parallel_for(n, fn, ctx);
  } else {
    for (long i = 0; i < n; i++) fn(ctx, i);
  }
}

// Per-image work (each image's output written by its own task, so the grouping changes no result) in runs of
// consecutive images, largest first: claiming a task from the pool costs a cache line's round trip between the
// cores or two (0.1-0.85 us, by where the host puts them), against 7-12 us an image in the bench CNN's
// convolutions: with one task per image, an estimated 10-20% of the work in the far placement. Runs that shrink
// towards one image (each 1 / (2 threads) of what is left) keep the threads finishing together: 16 tasks for 64
// images on 2 threads. The runs depend on the thread count, the results do not.
enum { kMaxImageRuns = 256 };
struct ImageRuns {
  TaskFn fn;
  void* ctx;
  long start[kMaxImageRuns + 1];
};
inline void image_run(void* ctx, long t) {
  const ImageRuns& r = *(const ImageRuns*)ctx;
  for (long i = r.start[t]; i < r.start[t + 1]; i++) r.fn(r.ctx, i);
}
inline void over_image_runs(long n, TaskFn fn, void* ctx) {
  const long threads = get_threads();
  if (n < threads || threads <= 1) {
    over_images(n, fn, ctx);
    return;
  }
  ImageRuns r;
  r.fn = fn;
  r.ctx = ctx;
  long runs = 0, at = 0;
  while (at < n) {
    long size = (n - at) / (2 * threads);
    if (size < 1 || runs == kMaxImageRuns - 1) size = runs == kMaxImageRuns - 1 ? n - at : 1;
    r.start[runs++] = at;
    at += size;
  }
  r.start[runs] = n;
  parallel_for(runs, image_run, &r);
}

// The forward pass of a call over its images, through the direct convolution where it applies.
template <typename T> bool run_forward(ConvJob<T>& j) {
  DirectConv<T> d;
  if (use_direct<T>(*j.g, j.pool && !j.argmax)) {
    if (!prepare_direct(*j.g, j.w, &d, direct_weights)) return false;
    j.direct = &d;
  }
  over_image_runs(j.g->N, forward_image<T>, &j);
  return !j.failed;
}

}  // namespace

template <typename T>
bool conv2d_forward(const ConvShape& g, const T* x, const T* w, const T* b, T* y, bool relu, bool pool) {
  if (g.N == 0 || g.F == 0 || g.OH * g.OW == 0 || (pool && (g.OH < 2 || g.OW < 2))) return true;
  ConvJob<T> j;
  make_job<T>(j, g, x, w, b, nullptr, y);
  j.relu = relu;
  j.pool = pool;
  return run_forward(j);
}

namespace {
// conv2dChainForward's call: each convolution's job (a's out unused: its output of image n goes to chain_buffer).
template <typename T> struct ChainJob {
  ConvJob<T> a, b;
  // Both convolutions direct and the first one's pooled rows written straight into the second one's padded image
  // (fits_padded): the number of this call, by which each thread knows when to zero its padded image.
  bool padded = false;
  long call = 0;
};

// The calls of conv2d_chain_forward, numbered; and the call for which this thread last zeroed chain_buffer (its
// padding stays zero through the call: the images write only inside it, and zeros).
std::atomic<long> chain_calls{0};
thread_local long chain_zeroed = -1;

// Image n through both convolutions, each exactly as forward_image runs it (the same products and epilogue, so the
// same bits), the first one's pooled output (F x OH/2 x OW/2: 12.5 KB for MNIST's 16 x 14 x 14) in the thread's
// scratch, in cache when the second convolution reads it, instead of in y's memory.
template <typename T> void chain_image(void* ctx, long n) {
  ChainJob<T>& c = *(ChainJob<T>*)ctx;
  const ConvShape &ga = *c.a.g, &gb = *c.b.g;
  if (c.padded) {
    // the first convolution's pooled rows go straight into the second one's padded image, zeroed once per call
    const DirectConv<T>& db = *c.b.direct;
    const size_t bytes = sizeof(T) * (size_t)(gb.C * db.HP * db.WP + Vec<T>::L);
    T* xp2 = (T*)chain_buffer.reserve(bytes);
    const T* xp = xp2 ? padded_image(*c.a.direct, c.a.x + n * ga.C * ga.H * ga.W) : nullptr;
    if (!xp) {
      c.a.failed = true;
      return;
    }
    if (chain_zeroed != c.call) {
      memset(xp2, 0, bytes);
      chain_zeroed = c.call;
    }
    const PaddedTarget<T> next{&db, xp2};
    direct_pooled<T>(c.a, xp, nullptr, &next);
    if (!c.a.failed) direct_pooled<T>(c.b, xp2, c.b.out + n * gb.F * (gb.OH / 2) * (gb.OW / 2), nullptr);
    return;
  }
  T* mid = (T*)chain_buffer.reserve(sizeof(T) * (size_t)(gb.C * gb.H * gb.W));
  if (!mid) {
    c.a.failed = true;
    return;
  }
  if (ga.F > 0) forward_one(c.a, c.a.x + n * ga.C * ga.H * ga.W, mid);
  if (c.a.failed) return;
  forward_one(c.b, mid, c.b.out + n * gb.F * (gb.OH / 2) * (gb.OW / 2));
}
}  // namespace

// Both convolutions take the path (direct or not) that conv2d_forward would take for them on this batch, with their
// weights packed once per call; the images are spread over the threads as conv2d_forward spreads them.
template <typename T>
bool conv2d_chain_forward(const ConvChainShape& g, const T* x, const T* w, const T* b, const T* w2, const T* b2, T* y,
                          bool relu, bool relu2) {
  if (g.a.N == 0 || g.b.F == 0) return true;
  ChainJob<T> c;
  make_job<T>(c.a, g.a, x, w, b, nullptr, nullptr);
  make_job<T>(c.b, g.b, nullptr, w2, b2, nullptr, y);
  c.a.relu = relu;
  c.b.relu = relu2;
  c.a.pool = c.b.pool = true;
  DirectConv<T> da, db;
  if (use_direct<T>(g.a, true)) {
    if (!prepare_direct(g.a, w, &da, direct_weights)) return false;
    c.a.direct = &da;
  }
  if (use_direct<T>(g.b, true)) {
    if (!prepare_direct(g.b, w2, &db, chain_weights)) return false;
    c.b.direct = &db;
  }
  c.padded = c.a.direct && c.b.direct && fits_padded(db);
  if (c.padded) c.call = chain_calls.fetch_add(1) + 1;
  over_image_runs(g.a.N, chain_image<T>, &c);
  return !c.a.failed && !c.b.failed;
}

template <typename T> bool conv2d_backward_data(const ConvShape& g, const T* dy, const T* w, T* dx) {
  if (g.N == 0 || g.C * g.H * g.W == 0) return true;
  if (g.F == 0 || g.OH * g.OW == 0) {
    memset(dx, 0, sizeof(T) * (size_t)(g.N * g.C * g.H * g.W));
    return true;
  }
  ConvJob<T> j;
  make_job<T>(j, g, nullptr, w, nullptr, dy, dx);
  DirectData<T> d;
  if (use_direct_data(g, g.N)) {
    if (!prepare_direct_data(g, w, &d)) return false;
    j.data = &d;
  }
  over_image_runs(g.N, backward_data_image<T>, &j);
  return !j.failed;
}

namespace {
// dw (+)= the chunks' partials in chunk order, and db too unless null: each element's sum as the loop
// "for k: dw[f, i] += part_k[...]" forms it, the same bits. The sums run over acc, a copy of dw (and db) in the
// partials' layout ((CKK, F) where backward_filter_chunk transposes), a vector of elements at a time: one strided
// pass over dw each way instead of one per chunk (a cache line read per element, with 32 filters).
template <typename T> void sum_partials(const ConvShape& g, long chunks, const T* parts, T* acc, T* dw, T* db) {
  typedef typename Vec<T>::U U;
  const long L = Vec<T>::L, CKK = g.C * g.KH * g.KW, FC = g.F * CKK, part_len = FC + g.F;
  const bool transposed = CKK > kSmallK;
  if (transposed) {
    for (long f = 0; f < g.F; f++)
      for (long i = 0; i < CKK; i++) acc[i * g.F + f] = dw[f * CKK + i];
  } else {
    copy_lanes(acc, dw, FC);
  }
  for (long f = 0; f < g.F; f++) acc[FC + f] = db ? db[f] : 0;
  for (long k = 0; k < chunks; k++) {
    const T* part = parts + k * part_len;
    long e = 0;
    for (; e + L <= part_len; e += L) *(U*)(acc + e) += *(const U*)(part + e);
    for (; e < part_len; e++) acc[e] += part[e];
  }
  if (transposed) {
    for (long f = 0; f < g.F; f++)
      for (long i = 0; i < CKK; i++) dw[f * CKK + i] = acc[i * g.F + f];
  } else {
    copy_lanes(dw, acc, FC);
  }
  if (db) copy_lanes(db, acc + FC, g.F);
}

// Backward-filter over fixed chunks of images (and, for the pooled backward, dx of each image in its chunk's task).
template <typename T> bool backward_filter_run(ConvJob<T>& j, T* dw, T* db) {
  const ConvShape& g = *j.g;
  const long CKK = g.C * g.KH * g.KW, part_len = g.F * CKK + g.F;
  // Fixed chunking that depends on the problem only: at most kFilterChunks chunks, and at most
  // kFilterPartials partial elements.
  long chunks = g.N < kFilterChunks ? g.N : kFilterChunks;
  long cap = kFilterPartials / part_len;
  if (chunks > cap) chunks = cap < 1 ? 1 : cap;
  j.chunk = (g.N + chunks - 1) / chunks;
  chunks = (g.N + j.chunk - 1) / j.chunk;
  j.out = (T*)partial_buffer.reserve(sizeof(T) * (size_t)(chunks * part_len));
  if (!j.out) return false;
  DirectConv<T> d;
  if (use_direct_filter<T>(g, chunks)) {
    if (!prepare_direct_filter(g, &d)) return false;
    j.filter = &d;
  }
  // the pooled backward's dx, in the chunks' tasks
  DirectData<T> dd;
  if (j.out2 && use_direct_data(g, chunks)) {
    if (!prepare_direct_data(g, j.w, &dd)) return false;
    j.data = &dd;
  }
  // the pooled backward's sparse products
  SparsePool<T> sp;
  if (j.argmax_in && use_sparse_pool<T>(g, j.filter != nullptr, j.data != nullptr)) {
    if (!prepare_sparse_pool(g, j.w, j.data != nullptr, &sp)) return false;
    j.sparse = &sp;
  }
  T* acc = (T*)reduce_buffer.reserve(sizeof(T) * (size_t)part_len);
  if (!acc) return false;
  over_images(chunks, backward_filter_chunk<T>, &j);
  if (!j.failed) sum_partials(g, chunks, j.out, acc, dw, db);
  return !j.failed;
}
}  // namespace

template <typename T> bool conv2d_backward_filter(const ConvShape& g, const T* x, const T* dy, T* dw, T* db) {
  if (g.N == 0 || g.F == 0) return true;
  ConvJob<T> j;
  make_job<T>(j, g, x, nullptr, nullptr, dy, nullptr);
  return backward_filter_run(j, dw, db);
}

template <typename T>
bool conv2d_pool_forward(const ConvShape& g, const T* x, const T* w, const T* b, T* y, int32_t* argmax, bool relu) {
  if (g.N == 0 || g.F == 0 || g.OH < 2 || g.OW < 2) return true;
  ConvJob<T> j;
  make_job<T>(j, g, x, w, b, nullptr, y);
  j.pool = true;
  j.relu = relu;
  j.argmax = argmax;
  return run_forward(j);
}

template <typename T>
bool conv2d_pool_backward(const ConvShape& g, const T* x, const T* dy, const int32_t* argmax, const T* w, T* dx, T* dw,
                          T* db, const T* y) {
  if (g.N == 0) return true;
  if (g.F == 0 || g.OH < 2 || g.OW < 2) {
    // no pooled output: a zero gradient everywhere (dweight and dbias get += 0)
    if (dx) memset(dx, 0, sizeof(T) * (size_t)(g.N * g.C * g.H * g.W));
    return true;
  }
  ConvJob<T> j;
  make_job<T>(j, g, x, w, nullptr, dy, nullptr);
  j.argmax_in = argmax;
  j.relu_y = y;
  j.out2 = dx;
  return backward_filter_run(j, dw, db);
}

NODENN_KERNELS_CONV(NODENN_INSTANTIATE)

}  // namespace NODENN_ISA_NS
}  // namespace nodenn
