// pool.cc — max and average pooling over the (N*C) planes of an NCHW tensor, forward and backward, no padding.
// Compiled once per ISA. Planes are independent: tasks take whole planes, so results never depend on the
// number of threads.
#include <string.h>

#include "chunks.h"
#include "kernels.h"
#include "pool2x2.h"
#include "simd.h"
#include "threads.h"

namespace nodenn {
namespace NODENN_ISA_NS {
namespace {

template <typename T> struct PoolJob {
  const PoolShape* g;
  long planes_per_task;
  const T* in;
  T* out;
  const int32_t* index_in;
  int32_t* index_out;
};

// Planes in groups of at least kChunk input elements per task (chunks.h), so that waking the pool pays off.
template <typename T> void run_planes(const PoolShape& g, PoolJob<T>& j, TaskFn fn) {
  long planes = g.N * g.C, hw = g.H * g.W > 0 ? g.H * g.W : 1;
  j.g = &g;
  j.planes_per_task = (kChunk + hw - 1) / hw;
  long tasks = (planes + j.planes_per_task - 1) / j.planes_per_task;
  parallel_for(tasks, fn, &j);
}

inline void plane_range(long t, long per, long planes, long* p0, long* p1) {
  *p0 = t * per;
  *p1 = *p0 + per < planes ? *p0 + per : planes;
}

// y = the largest value of each window; argmax = its index h*W + w in the plane. The first maximum in row-major
// window order wins; a NaN wins over numbers (the first NaN), so NaN propagates.
template <typename T> void max_forward_task(void* ctx, long t) {
  PoolJob<T>& j = *(PoolJob<T>*)ctx;
  const PoolShape& g = *j.g;
  long p0, p1;
  plane_range(t, j.planes_per_task, g.N * g.C, &p0, &p1);
  const bool two = g.KH == 2 && g.KW == 2 && g.sh == 2 && g.sw == 2;
  for (long p = p0; p < p1; p++) {
    const T* x = j.in + p * g.H * g.W;
    T* y = j.out + p * g.OH * g.OW;
    int32_t* arg = j.index_out + p * g.OH * g.OW;
    if (two) {
      max_pool_2x2<T, true>(g.W, g.OH, g.OW, x, y, arg);
      continue;
    }
    for (long oh = 0; oh < g.OH; oh++)
      for (long ow = 0; ow < g.OW; ow++) {
        long best = oh * g.sh * g.W + ow * g.sw;
        T m = x[best];
        for (long kh = 0; kh < g.KH; kh++) {
          const long row = (oh * g.sh + kh) * g.W + ow * g.sw;
          for (long kw = 0; kw < g.KW; kw++) {
            const T v = x[row + kw];
            const bool t = takes(v, m);
            m = t ? v : m;
            best = t ? row + kw : best;
          }
        }
        y[oh * g.OW + ow] = m;
        arg[oh * g.OW + ow] = (int32_t)best;
      }
  }
}

template <typename T> void max_backward_task(void* ctx, long t) {
  PoolJob<T>& j = *(PoolJob<T>*)ctx;
  const PoolShape& g = *j.g;
  long p0, p1;
  plane_range(t, j.planes_per_task, g.N * g.C, &p0, &p1);
  for (long p = p0; p < p1; p++) {
    const T* dy = j.in + p * g.OH * g.OW;
    const int32_t* arg = j.index_in + p * g.OH * g.OW;
    T* dx = j.out + p * g.H * g.W;
    for (long i = 0; i < g.H * g.W; i++) dx[i] = 0;
    for (long o = 0; o < g.OH * g.OW; o++) dx[arg[o]] += dy[o];
  }
}

template <typename T> void avg_forward_task(void* ctx, long t) {
  PoolJob<T>& j = *(PoolJob<T>*)ctx;
  const PoolShape& g = *j.g;
  const T scale = (T)1 / (T)(g.KH * g.KW);
  long p0, p1;
  plane_range(t, j.planes_per_task, g.N * g.C, &p0, &p1);
  for (long p = p0; p < p1; p++) {
    const T* x = j.in + p * g.H * g.W;
    T* y = j.out + p * g.OH * g.OW;
    for (long oh = 0; oh < g.OH; oh++)
      for (long ow = 0; ow < g.OW; ow++) {
        T s = 0;
        for (long kh = 0; kh < g.KH; kh++) {
          const T* row = x + (oh * g.sh + kh) * g.W + ow * g.sw;
          for (long kw = 0; kw < g.KW; kw++) s += row[kw];
        }
        y[oh * g.OW + ow] = s * scale;
      }
  }
}

template <typename T> void avg_backward_task(void* ctx, long t) {
  PoolJob<T>& j = *(PoolJob<T>*)ctx;
  const PoolShape& g = *j.g;
  const T scale = (T)1 / (T)(g.KH * g.KW);
  long p0, p1;
  plane_range(t, j.planes_per_task, g.N * g.C, &p0, &p1);
  for (long p = p0; p < p1; p++) {
    const T* dy = j.in + p * g.OH * g.OW;
    T* dx = j.out + p * g.H * g.W;
    for (long i = 0; i < g.H * g.W; i++) dx[i] = 0;
    for (long oh = 0; oh < g.OH; oh++)
      for (long ow = 0; ow < g.OW; ow++) {
        const T d = dy[oh * g.OW + ow] * scale;
        for (long kh = 0; kh < g.KH; kh++) {
          T* row = dx + (oh * g.sh + kh) * g.W + ow * g.sw;
          for (long kw = 0; kw < g.KW; kw++) row[kw] += d;
        }
      }
  }
}

}  // namespace

template <typename T> void max_pool2d_forward(const PoolShape& g, const T* x, T* y, int32_t* argmax) {
  PoolJob<T> j{};
  j.in = x;
  j.out = y;
  j.index_out = argmax;
  run_planes(g, j, max_forward_task<T>);
}

template <typename T> void max_pool2d_backward(const PoolShape& g, const T* dy, const int32_t* argmax, T* dx) {
  PoolJob<T> j{};
  j.in = dy;
  j.out = dx;
  j.index_in = argmax;
  run_planes(g, j, max_backward_task<T>);
}

template <typename T> void avg_pool2d_forward(const PoolShape& g, const T* x, T* y) {
  PoolJob<T> j{};
  j.in = x;
  j.out = y;
  run_planes(g, j, avg_forward_task<T>);
}

template <typename T> void avg_pool2d_backward(const PoolShape& g, const T* dy, T* dx) {
  PoolJob<T> j{};
  j.in = dy;
  j.out = dx;
  run_planes(g, j, avg_backward_task<T>);
}

NODENN_KERNELS_POOL(NODENN_INSTANTIATE)

}  // namespace NODENN_ISA_NS
}  // namespace nodenn
