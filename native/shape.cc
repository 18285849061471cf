// shape.cc — copies between shapes: axis swaps (the transposes), gathers and scatters of blocks along an axis
// (take, slicing, concatenation, padding, mini-batch selection), one-hot rows and the indices of a mask's nonzero
// elements. Tensors are seen as (outer, n, inner): a block is `inner` contiguous elements. Large copies spread
// over threads in tasks whose boundaries depend on the sizes only; each output element is written by one task, so
// the results never depend on the thread count (scatter accumulates each element in index order within a task).
// Compiled once per ISA.
#include <stdint.h>
#include <string.h>

#include "chunks.h"
#include "kernels.h"
#include "simd.h"

namespace nodenn {
namespace NODENN_ISA_NS {
namespace {

enum { kTile = 16, kStrip = 1024, kCopyChunk = kChunk / 4, kCopyParallelMin = 16 * kChunk };

// `inner` contiguous elements: a plain assignment for one, vectors for more.
template <typename T> inline void copy_block(T* dst, const T* src, long inner) {
  if (inner == 1)
    *dst = *src;
  else
    copy_lanes(dst, src, inner);
}

// A gathered row of n >= 2 * L elements into dst, which shares no memory with src, its stores aligned to the vector
// width: one unaligned vector at each end, overlapping the aligned ones between with the same values. Node's large
// ArrayBuffers are 16-byte aligned, so a row of 784 floats stored from its start puts every AVX-512 store across two
// cache lines. The 64 x 784 mini-batch (CPU per call, median of 5 minima): into one buffer 3.57 -> 3.18 us, into 160
// buffers in turn (a fresh result's cold memory) 7.17 -> 6.57 us.
template <typename T> inline void copy_row(T* dst, const T* src, long n) {
  typedef typename Vec<T>::U U;
  typedef typename Vec<T>::V V;
  const long L = Vec<T>::L;
  *(U*)dst = *(const U*)src;
  long i = L - (long)(((uintptr_t)dst % sizeof(V)) / sizeof(T));  // the first aligned element, in (0, L]
  for (; i + L <= n; i += L) *(V*)(dst + i) = *(const U*)(src + i);
  if (i < n) *(U*)(dst + n - L) = *(const U*)(src + n - L);
}

}  // namespace

// y[o, j, c, i, k] = x[o, i, c, j, k]: per (o, c) a transpose of an m x n matrix of blocks of `inner` elements,
// in kTile x kTile tiles so both sides stay in cache. A task writes a band of kTile rows of y from start to end:
// each output page is first touched by one thread, in order (a fresh result's page faults cost more than the
// copy when threads fault the same pages in scattered order).
template <typename T> void swap_axes(long outer, long m, long mid, long n, long inner, const T* x, T* y) {
  // an empty result first: with a zero size the others may be huge (the addon checks only the non-zero product)
  if (outer == 0 || m == 0 || mid == 0 || n == 0 || inner == 0) return;
  const long total = outer * m * mid * n * inner;
  const long xrow = mid * n * inner, yrow = mid * m * inner;  // the strides of i in x and of j in y
  const long bands = (n + kTile - 1) / kTile;
  for_tasks(outer * bands, total, [&](long t) {
    const long o = t / bands, j0 = (t % bands) * kTile, j1 = j0 + kTile < n ? j0 + kTile : n;
    for (long c = 0; c < mid; c++) {
      const T* xs = x + ((o * m) * mid + c) * n * inner;
      T* ys = y + ((o * n) * mid + c) * m * inner;
      for (long i0 = 0; i0 < m; i0 += kTile) {
        const long i1 = i0 + kTile < m ? i0 + kTile : m;
        if (inner == 1) {
          for (long j = j0; j < j1; j++)
            for (long i = i0; i < i1; i++) ys[j * yrow + i] = xs[i * xrow + j];
        } else {
          for (long j = j0; j < j1; j++)
            for (long i = i0; i < i1; i++) copy_block(ys + j * yrow + i * inner, xs + i * xrow + j * inner, inner);
        }
      }
    }
  });
}

// y[o, j, i] = x[o, index[j], i]
template <typename T>
void gather_axis(long count, long outer, long n, long inner, const T* x, const int32_t* index, T* y) {
  if (outer == 0 || count == 0 || inner == 0) return;  // the others may be huge (see swap_axes)
  const long total = outer * count * inner;
  // tasks of about kCopyChunk elements: a run of j within one o. A mini-batch of 64 MNIST rows (50,176 elements)
  // runs on the calling thread: its copy takes a few microseconds, about what waking the pool costs; from
  // kCopyParallelMin elements on, a copy into a fresh result, bound by the writes' cache misses, takes both cores.
  const long per = inner >= kCopyChunk ? 1 : kCopyChunk / inner;
  const long runs = (count + per - 1) / per;
  const auto task = [&](long t) {
    const long o = t / runs, j0 = (t % runs) * per, j1 = j0 + per < count ? j0 + per : count;
    const T* xo = x + o * n * inner;
    T* yo = y + o * count * inner;
    if (inner == 1) {
      for (long j = j0; j < j1; j++) yo[j] = xo[index[j]];
    } else if (inner >= 2 * Vec<T>::L) {
      for (long j = j0; j < j1; j++) copy_row(yo + j * inner, xo + (long)index[j] * inner, inner);
    } else {
      for (long j = j0; j < j1; j++) copy_block(yo + j * inner, xo + (long)index[j] * inner, inner);
    }
  };
  for_tasks(outer * runs, total, task, kCopyParallelMin);
}

// y[o, index[j], i] = x[o, j, i], or += if accumulate; a task owns a strip of columns of one o and walks every j
// in order, so repeated indices add up in the order of j and no two tasks write the same element
template <typename T>
void scatter_axis(long count, long outer, long n, long inner, const T* x, const int32_t* index, T* y, bool accumulate) {
  if (outer == 0 || count == 0 || inner == 0) return;  // the others may be huge (see swap_axes)
  const long total = outer * count * inner;
  const long strips = (inner + kStrip - 1) / kStrip;
  for_tasks(outer * strips, total, [&](long t) {
    const long o = t / strips, i0 = (t % strips) * kStrip, i1 = i0 + kStrip < inner ? i0 + kStrip : inner;
    const T* xo = x + o * count * inner;
    T* yo = y + o * n * inner;
    for (long j = 0; j < count; j++) {
      const T* src = xo + j * inner + i0;
      T* dst = yo + (long)index[j] * inner + i0;
      if (accumulate) {
        for (long i = 0; i < i1 - i0; i++) dst[i] += src[i];
      } else if (i1 - i0 == 1) {
        *dst = *src;
      } else {
        copy_lanes(dst, src, i1 - i0);
      }
    }
  });
}

// y (n, depth) = 1 at [r, index[r]], 0 elsewhere
template <typename T> void one_hot(long n, long depth, const int32_t* index, T* y) {
  for_chunks(n * depth, [=](long b, long e) { memset(y + b, 0, (size_t)(e - b) * sizeof(T)); });
  for (long r = 0; r < n; r++) y[r * depth + index[r]] = 1;
}

// the indices of the nonzero mask[k] (NaN counts), in order; returns how many (out has room for n)
template <typename T> double nonzero_indices(long n, const T* mask, int32_t* out) {
  long count = 0;
  for (long k = 0; k < n; k++) {
    out[count] = (int32_t)k;
    count += mask[k] != 0;
  }
  return (double)count;
}

NODENN_KERNELS_SHAPE(NODENN_INSTANTIATE)

}  // namespace NODENN_ISA_NS
}  // namespace nodenn
