// reduce.cc — axis reductions (sum, mean, prod, max, min, logSumExp, variance, argmax, argmin) and softmax along
// an axis. Every kernel sees its tensor as (outer, n, inner) and works along the middle axis.
//   inner == 1 (the axis is the last one, rows are contiguous): a row is cut into blocks of kBlock elements (the
//     boundaries depend on n only); each block is folded with vector accumulators in a fixed lane order, and the
//     block results are combined in double, in block order. Many rows: rows spread over threads; few long rows:
//     the blocks of a row spread over threads. Either way every block and every combination is the same, so the
//     result is bitwise the same for any thread count.
//   inner > 1: each output column is folded over k in index order (as NumPy does), a strip of columns at a time
//     with the strip in vector registers; strips spread over threads.
// Compiled once per ISA.
#include <math.h>
#include <stdlib.h>

#include "chunks.h"
#include "kernels.h"
#include "simd.h"

namespace nodenn {
namespace NODENN_ISA_NS {
namespace {

enum { kBlock = 4096, kStrip = 256 };

#if defined(__GNUC__)
#define NODENN_STRIP_INLINE inline __attribute__((always_inline))
#else
#define NODENN_STRIP_INLINE inline
#endif

inline float exp_(float x) { return expf(x); }
inline double exp_(double x) { return exp(x); }

// ---- folding one contiguous block of at most kBlock elements

// Σ x[0, n) with 4 vector accumulators, the lanes added in a fixed order; returned in double.
template <typename T> double block_sum(const T* x, long n) {
  typedef typename Vec<T>::V V;
  typedef typename Vec<T>::U U;
  const long L = Vec<T>::L;
  V a0 = {}, a1 = {}, a2 = {}, a3 = {};
  long i = 0;
  for (; i + 4 * L <= n; i += 4 * L) {
    a0 += *(const U*)(x + i);
    a1 += *(const U*)(x + i + L);
    a2 += *(const U*)(x + i + 2 * L);
    a3 += *(const U*)(x + i + 3 * L);
  }
  for (; i + L <= n; i += L) a0 += *(const U*)(x + i);
  if (i < n) a1 += load_partial(x + i, (int)(n - i));
  const V a = (a0 + a1) + (a2 + a3);
  double s = 0;
  for (long l = 0; l < L; l++) s += (double)a[l];
  return s;
}

// Σ (x − mean)² over x[0, n), in double.
template <typename T> double block_squared_deviations(const T* x, long n, double mean) {
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  long i = 0;
  for (; i + 4 <= n; i += 4) {
    const double d0 = x[i] - mean, d1 = x[i + 1] - mean, d2 = x[i + 2] - mean, d3 = x[i + 3] - mean;
    s0 += d0 * d0;
    s1 += d1 * d1;
    s2 += d2 * d2;
    s3 += d3 * d3;
  }
  for (; i < n; i++) {
    const double d = x[i] - mean;
    s0 += d * d;
  }
  return (s0 + s1) + (s2 + s3);
}

// Π x[0, n), in T with 4 vector accumulators as NumPy's float32 product; returned in double.
template <typename T> double block_prod(const T* x, long n) {
  typedef typename Vec<T>::V V;
  typedef typename Vec<T>::U U;
  const long L = Vec<T>::L;
  V a0, a1, a2, a3;
  for (long l = 0; l < L; l++) a0[l] = a1[l] = a2[l] = a3[l] = 1;
  long i = 0;
  for (; i + 4 * L <= n; i += 4 * L) {
    a0 *= *(const U*)(x + i);
    a1 *= *(const U*)(x + i + L);
    a2 *= *(const U*)(x + i + 2 * L);
    a3 *= *(const U*)(x + i + 3 * L);
  }
  for (; i + L <= n; i += L) a0 *= *(const U*)(x + i);
  const V a = (a0 * a1) * (a2 * a3);
  T p = 1;
  for (long l = 0; l < L; l++) p *= a[l];
  for (; i < n; i++) p *= x[i];
  return (double)p;
}

// Whether v replaces m as the running maximum (kIsMax) or minimum: greater (less), or equal with the zero's sign
// that max (min) prefers, +0 over -0 for max and -0 over +0 for min (IEEE 754-2019 maximum and minimum). With the
// tie rule the answer does not depend on the order in which lanes, blocks and threads see the values.
template <bool kIsMax, typename T> inline bool beats(T v, T m) {
  return kIsMax ? v > m || (v == m && signbit(m) && !signbit(v)) : v < m || (v == m && signbit(v) && !signbit(m));
}
// The same lane by lane: a ±0 tie is told by the bits read as integers (-0 is the most negative).
template <bool kIsMax, typename V> inline auto beats_lanes(V v, V m) {
  typedef decltype(v > m) I;
  return kIsMax ? (v > m) | ((v == m) & ((I)m < (I)v)) : (v < m) | ((v == m) & ((I)v < (I)m));
}

// max (or min) of x[0, n), NaN if any element is NaN; n >= 1.
template <typename T, bool kIsMax> T block_extreme(const T* x, long n) {
  typedef typename Vec<T>::V V;
  typedef typename Vec<T>::U U;
  const long L = Vec<T>::L;
  T m = x[0];
  bool nan = false;
  long i = 0;
  if (n >= 2 * L) {
    V m0 = *(const U*)x, m1 = *(const U*)(x + L);
    auto bad = (m0 != m0) | (m1 != m1);  // all ones in a lane that has seen a NaN
    for (i = 2 * L; i + 2 * L <= n; i += 2 * L) {
      const V v0 = *(const U*)(x + i), v1 = *(const U*)(x + i + L);
      m0 = beats_lanes<kIsMax>(v0, m0) ? v0 : m0;
      m1 = beats_lanes<kIsMax>(v1, m1) ? v1 : m1;
      bad |= (v0 != v0) | (v1 != v1);
    }
    for (long l = 0; l < L; l++) {
      nan |= bad[l] != 0;
      if (beats<kIsMax>(m0[l], m)) m = m0[l];
      if (beats<kIsMax>(m1[l], m)) m = m1[l];
    }
  }
  for (; i < n; i++) {
    nan |= x[i] != x[i];
    if (beats<kIsMax>(x[i], m)) m = x[i];
  }
  return nan || m != m ? (T)NAN : m;
}

// k of the first maximum (kIsMax) or minimum of x[0, n), or of the first NaN; n >= 1. One pass: each lane of each
// accumulator keeps its extreme and the first k holding it (a later equal value does not replace it); they are then
// combined by value and, among equal values, by the smaller k: the first k whose value equals the extreme, as NumPy.
template <typename T, bool kIsMax> long block_arg_extreme(const T* x, long n) {
  typedef typename Vec<T>::V V;
  typedef typename Vec<T>::U U;
  typedef decltype(V{} < V{}) K;  // integer lanes as wide as T's: the indices
  const long L = Vec<T>::L;
  enum { A = 4 };  // independent accumulators, so that a compare does not wait for the previous one
  T m = x[0];
  long best = 0, i = 0;
  if (n >= L) {
    const V first = *(const U*)x;
    V mv[A];
    K kv[A], at, step;
    for (long l = 0; l < L; l++) {
      at[l] = l;
      step[l] = L;
    }
    for (int a = 0; a < A; a++) {
      mv[a] = first;
      kv[a] = at;
    }
    auto bad = first != first;
    for (i = L; i + A * L <= n; i += A * L) {
      for (int a = 0; a < A; a++) {
        const V v = *(const U*)(x + i + a * L);
        at += step;
        const auto better = kIsMax ? v > mv[a] : v < mv[a];
        mv[a] = better ? v : mv[a];
        kv[a] = better ? at : kv[a];
        bad |= v != v;
      }
    }
    for (; i + L <= n; i += L) {
      const V v = *(const U*)(x + i);
      at += step;
      const auto better = kIsMax ? v > mv[0] : v < mv[0];
      mv[0] = better ? v : mv[0];
      kv[0] = better ? at : kv[0];
      bad |= v != v;
    }
    bool nan = false;
    for (long l = 0; l < L; l++) nan |= bad[l] != 0;
    if (nan) {
      long k = 0;
      while (x[k] == x[k]) k++;
      return k;
    }
    for (int a = 1; a < A; a++) {  // lane by lane into the first accumulator, then its lanes one by one
      const auto take = (kIsMax ? mv[a] > mv[0] : mv[a] < mv[0]) | ((mv[a] == mv[0]) & (kv[a] < kv[0]));
      mv[0] = take ? mv[a] : mv[0];
      kv[0] = take ? kv[a] : kv[0];
    }
    m = mv[0][0];
    best = kv[0][0];
    for (long l = 1; l < L; l++) {
      if ((kIsMax ? mv[0][l] > m : mv[0][l] < m) || (mv[0][l] == m && kv[0][l] < best)) {
        m = mv[0][l];
        best = kv[0][l];
      }
    }
  }
  for (; i < n; i++) {
    if (x[i] != x[i]) return i;
    if (kIsMax ? x[i] > m : x[i] < m) {
      m = x[i];
      best = i;
    }
  }
  return best;
}

// Σ exp(x − m) over x[0, n), in double.
template <typename T> double block_sum_exp(const T* x, long n, T m) {
  double s = 0;
  for (long i = 0; i < n; i++) s += exp_((double)x[i] - (double)m);
  return s;
}

// ---- one contiguous row, folded block by block (blocks of kBlock elements, combined in order)

// The blocks of a row of n elements folded by block(begin, length), the results handed to combine() in block order.
// With `parallel`, the blocks spread over threads into a scratch array first (if it cannot be had, they run here):
// the same block results, combined in the same order, whatever runs them.
template <typename F, typename C> void fold_row(long n, bool parallel, const F& block, const C& combine) {
  const long blocks = (n + kBlock - 1) / kBlock;
  double* part = parallel && blocks > 1 ? (double*)malloc(sizeof(double) * blocks) : nullptr;
  auto length = [&](long b) { return n - b * kBlock < kBlock ? n - b * kBlock : (long)kBlock; };
  if (part) {
    for_tasks(blocks, n, [&](long b) { part[b] = block(b * kBlock, length(b)); });
    for (long b = 0; b < blocks; b++) combine(part[b]);
    free(part);
  } else {
    for (long b = 0; b < blocks; b++) combine(block(b * kBlock, length(b)));
  }
}

template <typename T> double row_reduce(int op, const T* x, long n, bool parallel) {
  switch (op) {
    case kReduceSum:
    case kReduceMean: {
      double s = 0;
      fold_row(
          n, parallel, [&](long b, long len) { return block_sum(x + b, len); }, [&](double v) { s += v; });
      return op == kReduceMean ? s / (double)n : s;
    }
    case kReduceProd: {
      T r = 1;
      fold_row(
          n, parallel, [&](long b, long len) { return block_prod(x + b, len); }, [&](double v) { r *= (T)v; });
      return r;
    }
    case kReduceMax:
    case kReduceMin: {
      if (n == 0) return op == kReduceMax ? -INFINITY : INFINITY;
      double m = x[0];
      auto combine = [&](double v) {
        if (v != v || m != m)
          m = NAN;
        else if (op == kReduceMax ? beats<true>(v, m) : beats<false>(v, m))
          m = v;
      };
      if (op == kReduceMax) {
        fold_row(
            n, parallel, [&](long b, long len) { return (double)block_extreme<T, true>(x + b, len); }, combine);
      } else {
        fold_row(
            n, parallel, [&](long b, long len) { return (double)block_extreme<T, false>(x + b, len); }, combine);
      }
      return m;
    }
    case kReduceLogSumExp: {
      const double m = row_reduce(kReduceMax, x, n, parallel);
      // NaN, no values (log 0 = -Infinity), or an infinite maximum: the answer, without x − m = NaN
      if (m != m || m == INFINITY || m == -INFINITY) return m;
      double s = 0;
      fold_row(
          n, parallel, [&](long b, long len) { return block_sum_exp(x + b, len, (T)m); }, [&](double v) { s += v; });
      return m + log(s);
    }
  }
  return 0;
}

template <typename T> double row_variance(const T* x, long n, double divisor, bool parallel) {
  const double mean = row_reduce(kReduceMean, x, n, parallel);
  double s = 0;
  fold_row(
      n, parallel, [&](long b, long len) { return block_squared_deviations(x + b, len, mean); },
      [&](double v) { s += v; });
  return s / divisor;
}

// Rows of n contiguous elements: row(r, parallel) for r < rows.
template <typename F> void for_rows(long rows, long n, const F& row) {
  if (rows >= 4 || n < 2 * kBlock) {
    // rows over threads, a chunk of rows per task
    const long per = n >= kChunk ? 1 : (kChunk + n) / (n + 1);
    const long tasks = (rows + per - 1) / per;
    for_tasks(tasks, rows * n, [&](long t) {
      const long e = (t + 1) * per < rows ? (t + 1) * per : rows;
      for (long r = t * per; r < e; r++) row(r, false);
    });
  } else {
    // few long rows: the blocks of each row over threads
    for (long r = 0; r < rows; r++) row(r, true);
  }
}

// Strips of columns: f(o, i0, i1) over every o < outer and strip [i0, i1) of the inner axis.
template <typename F> void for_strips(long outer, long n, long inner, const F& f) {
  const long strips = (inner + kStrip - 1) / kStrip;
  for_tasks(outer * strips, outer * n * inner, [&](long t) {
    const long o = t / strips, i0 = (t % strips) * kStrip, i1 = i0 + kStrip < inner ? i0 + kStrip : inner;
    f(o, i0, i1);
  });
}

// f(i, k, x[o, k, i0 + i]) for k in [k0, n) in order, and i < w for each k: the walk every strip kernel makes
// down the columns of its strip (xo = x + o n inner), inlined into a loop over contiguous memory.
template <typename T, typename F>
NODENN_STRIP_INLINE void walk_strip(const T* xo, long k0, long n, long inner, long i0, long w, const F& f) {
  for (long k = k0; k < n; k++) {
    const T* xk = xo + k * inner + i0;
    for (long i = 0; i < w; i++) f(i, k, xk[i]);
  }
}

}  // namespace

// y[o, i] = op over k of x[o, k, i]
template <typename T> void reduce_axis(int op, long outer, long n, long inner, const T* x, T* y) {
  if (outer == 0 || inner == 0) return;
  if (inner == 1) {
    for_rows(outer, n, [&](long r, bool parallel) { y[r] = (T)row_reduce(op, x + r * n, n, parallel); });
    return;
  }
  for_strips(outer, n, inner, [&](long o, long i0, long i1) {
    const T* xo = x + o * n * inner;
    T* yo = y + o * inner;
    const long w = i1 - i0;
    T acc[kStrip];
    switch (op) {
      case kReduceSum:
      case kReduceMean: {
        for (long i = 0; i < w; i++) acc[i] = 0;
        walk_strip(xo, 0, n, inner, i0, w, [&](long i, long, T v) { acc[i] += v; });
        if (op == kReduceMean)
          for (long i = 0; i < w; i++) acc[i] = (T)((double)acc[i] / (double)n);
        break;
      }
      case kReduceProd: {
        for (long i = 0; i < w; i++) acc[i] = 1;
        walk_strip(xo, 0, n, inner, i0, w, [&](long i, long, T v) { acc[i] *= v; });
        break;
      }
      case kReduceMax:
      case kReduceMin:
      case kReduceLogSumExp: {
        // a NaN, once in acc, stays: v > NaN and v < NaN are false, and v != v catches a NaN v
        const bool is_min = op == kReduceMin;
        for (long i = 0; i < w; i++) acc[i] = is_min ? (T)INFINITY : (T)-INFINITY;
        if (is_min)
          walk_strip(xo, 0, n, inner, i0, w,
                     [&](long i, long, T v) { acc[i] = beats<false>(v, acc[i]) || v != v ? v : acc[i]; });
        else
          walk_strip(xo, 0, n, inner, i0, w,
                     [&](long i, long, T v) { acc[i] = beats<true>(v, acc[i]) || v != v ? v : acc[i]; });
        if (op == kReduceLogSumExp) {
          double s[kStrip];
          for (long i = 0; i < w; i++) s[i] = 0;
          walk_strip(xo, 0, n, inner, i0, w, [&](long i, long, T v) { s[i] += exp_((double)v - (double)acc[i]); });
          for (long i = 0; i < w; i++) {
            const double m = acc[i];
            acc[i] = m != m || m == INFINITY || m == -INFINITY ? (T)m : (T)(m + log(s[i]));
          }
        }
        break;
      }
    }
    for (long i = 0; i < w; i++) yo[i0 + i] = acc[i];
  });
}

// y[o, i] = Σ_k (x[o, k, i] − mean)² / max(n − ddof, 0), its square root if sqrt
template <typename T> void variance_axis(long outer, long n, long inner, double ddof, bool sqrt_, const T* x, T* y) {
  if (outer == 0 || inner == 0) return;
  const double divisor = n - ddof > 0 ? n - ddof : 0;
  if (inner == 1) {
    for_rows(outer, n, [&](long r, bool parallel) {
      const double v = row_variance(x + r * n, n, divisor, parallel);
      y[r] = (T)(sqrt_ ? sqrt(v) : v);
    });
    return;
  }
  for_strips(outer, n, inner, [&](long o, long i0, long i1) {
    const T* xo = x + o * n * inner;
    const long w = i1 - i0;
    double mean[kStrip], ss[kStrip];
    for (long i = 0; i < w; i++) mean[i] = ss[i] = 0;
    walk_strip(xo, 0, n, inner, i0, w, [&](long i, long, T v) { mean[i] += v; });
    for (long i = 0; i < w; i++) mean[i] /= (double)n;
    walk_strip(xo, 0, n, inner, i0, w, [&](long i, long, T v) {
      const double d = v - mean[i];
      ss[i] += d * d;
    });
    for (long i = 0; i < w; i++) {
      const double v = ss[i] / divisor;
      y[o * inner + i0 + i] = (T)(sqrt_ ? sqrt(v) : v);
    }
  });
}

// out[o, i] = k of the first maximum (argmax) or minimum (argmin) of x[o, k, i]; the first NaN wins
template <typename T> void arg_reduce_axis(int op, long outer, long n, long inner, const T* x, int32_t* out) {
  if (outer == 0 || inner == 0) return;
  const bool is_max = op == kArgmax;
  if (inner == 1) {
    for_rows(outer, n, [&](long r, bool) {
      const T* row = x + r * n;
      out[r] = (int32_t)(is_max ? block_arg_extreme<T, true>(row, n) : block_arg_extreme<T, false>(row, n));
    });
    return;
  }
  for_strips(outer, n, inner, [&](long o, long i0, long i1) {
    const T* xo = x + o * n * inner;
    const long w = i1 - i0;
    T bv[kStrip];
    int32_t best[kStrip];
    for (long i = 0; i < w; i++) {
      bv[i] = xo[i0 + i];
      best[i] = 0;
    }
    walk_strip(xo, 1, n, inner, i0, w, [&](long i, long k, T v) {
      // a NaN held in bv is never replaced (v > NaN is false, and v != v only for a NaN v while bv is a number)
      if ((v != v && bv[i] == bv[i]) || (is_max ? v > bv[i] : v < bv[i])) {
        bv[i] = v;
        best[i] = (int32_t)k;
      }
    });
    for (long i = 0; i < w; i++) out[o * inner + i0 + i] = best[i];
  });
}

// y = softmax(x) along the middle axis, stable: exp(x − max) / Σ exp(x − max); log: x − max − log Σ exp(x − max)
template <typename T> void softmax_axis(bool log_, long outer, long n, long inner, const T* x, T* y) {
  if (outer == 0 || inner == 0 || n == 0) return;
  if (inner == 1) {
    for_rows(outer, n, [&](long r, bool) {
      const T* xr = x + r * n;
      T* yr = y + r * n;
      T m = xr[0];
      for (long k = 1; k < n; k++) m = xr[k] > m || xr[k] != xr[k] ? xr[k] : m;
      double s = 0;
      if (log_) {
        for (long k = 0; k < n; k++) s += exp_((double)xr[k] - (double)m);
        // (x − max) − log Σ: max + log Σ first would round log Σ away for a large max (2^33 + log 2 keeps 6 digits)
        const double ls = log(s);
        for (long k = 0; k < n; k++) yr[k] = (T)(((double)xr[k] - (double)m) - ls);
      } else {
        for (long k = 0; k < n; k++) {
          yr[k] = exp_(xr[k] - m);
          s += yr[k];
        }
        const T inv = (T)(1.0 / s);
        for (long k = 0; k < n; k++) yr[k] *= inv;
      }
    });
    return;
  }
  for_strips(outer, n, inner, [&](long o, long i0, long i1) {
    const T* xo = x + o * n * inner;
    T* yo = y + o * n * inner;
    const long w = i1 - i0;
    T m[kStrip];
    double s[kStrip];
    for (long i = 0; i < w; i++) {
      m[i] = xo[i0 + i];
      s[i] = 0;
    }
    walk_strip(xo, 1, n, inner, i0, w, [&](long i, long, T v) { m[i] = v > m[i] || v != v ? v : m[i]; });
    walk_strip(xo, 0, n, inner, i0, w, [&](long i, long, T v) { s[i] += exp_((double)v - (double)m[i]); });
    for (long k = 0; k < n; k++) {
      const T* xk = xo + k * inner + i0;
      T* yk = yo + k * inner + i0;
      for (long i = 0; i < w; i++) {
        const double d = (double)xk[i] - (double)m[i];
        yk[i] = (T)(log_ ? d - log(s[i]) : exp_(d) / s[i]);
      }
    }
  });
}

NODENN_KERNELS_REDUCE(NODENN_INSTANTIATE)

}  // namespace NODENN_ISA_NS
}  // namespace nodenn
