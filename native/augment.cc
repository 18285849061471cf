// augment.cc — image augmentation of a batch x (N, C, H, W): shifts with zero fill, mirror images, affine maps with
// bilinear sampling, per-channel normalization. Compiled once per ISA. The random parameters of each sample are
// drawn by the caller (src/data/augment.ts) and arrive as arrays. Planes are independent tasks whose boundaries
// depend on the sizes only, and every value is computed in the same order as src/backend/ts/augment.ts, so the
// results are bitwise the same on every backend, ISA and thread count.
#include <math.h>
#include <string.h>

#include "chunks.h"
#include "kernels.h"
#include "threads.h"

// The bilinear weights and coordinates must round exactly as the TypeScript reference does: no fused multiply-adds.
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

namespace nodenn {
namespace NODENN_ISA_NS {
namespace {

template <typename T> struct PlaneJob {
  long C, H, W, planes, planes_per_task;
  const T* x;
  T* y;
  const int32_t *ints0, *ints1;
  const T* m[6];
  const T *mean, *std;
};

// Planes in groups of at least kChunk elements per task (chunks.h), so that waking the pool pays off.
template <typename T> void run_planes(PlaneJob<T>& j, TaskFn fn) {
  const long hw = j.H * j.W > 0 ? j.H * j.W : 1;
  j.planes_per_task = (kChunk + hw - 1) / hw;
  const long tasks = (j.planes + j.planes_per_task - 1) / j.planes_per_task;
  if (tasks == 1)
    fn(&j, 0);
  else
    parallel_for(tasks, fn, &j);
}

template <typename T> void plane_range(const PlaneJob<T>& j, long t, long* p0, long* p1) {
  *p0 = t * j.planes_per_task;
  *p1 = *p0 + j.planes_per_task < j.planes ? *p0 + j.planes_per_task : j.planes;
}

// One plane shifted by (sh, sw). Rows are copied with memmove in the order that never overwrites a row still to be
// read, so y may be x.
template <typename T> void translate_plane(long H, long W, const T* x, T* y, long sh, long sw) {
  const long len = W - (sw < 0 ? -sw : sw);
  for (long i = 0; i < H; i++) {
    const long h = sh > 0 ? H - 1 - i : i, from = h - sh;
    T* row = y + h * W;
    if (from < 0 || from >= H || len <= 0) {
      memset(row, 0, W * sizeof(T));
      continue;
    }
    const T* src = x + from * W;
    if (sw >= 0) {
      memmove(row + sw, src, len * sizeof(T));
      memset(row, 0, sw * sizeof(T));
    } else {
      memmove(row, src - sw, len * sizeof(T));
      memset(row + len, 0, -sw * sizeof(T));
    }
  }
}

template <typename T> void translate_task(void* ctx, long t) {
  const PlaneJob<T>& j = *(const PlaneJob<T>*)ctx;
  long p0, p1;
  plane_range(j, t, &p0, &p1);
  for (long p = p0; p < p1; p++) {
    const long n = p / j.C, off = p * j.H * j.W;
    translate_plane(j.H, j.W, j.x + off, j.y + off, (long)j.ints0[n], (long)j.ints1[n]);
  }
}

template <typename T> void flip_task(void* ctx, long t) {
  const PlaneJob<T>& j = *(const PlaneJob<T>*)ctx;
  long p0, p1;
  plane_range(j, t, &p0, &p1);
  for (long p = p0; p < p1; p++) {
    const bool flip = j.ints0[p / j.C] != 0;
    for (long h = 0; h < j.H; h++) {
      const T* a = j.x + (p * j.H + h) * j.W;
      T* b = j.y + (p * j.H + h) * j.W;
      if (!flip) {
        if (a != b) memcpy(b, a, j.W * sizeof(T));
        continue;
      }
      for (long w = 0; w < j.W - 1 - w; w++) {
        const T l = a[w], r = a[j.W - 1 - w];
        b[w] = r;
        b[j.W - 1 - w] = l;
      }
      if (j.W % 2 == 1) b[j.W / 2] = a[j.W / 2];
    }
  }
}

// The four taps around (sx, sy) weigh (1 - fy)(1 - fx), (1 - fy) fx, fy (1 - fx), fy fx, summed in that order; a tap
// outside the image reads 0.
template <typename T> void affine_task(void* ctx, long t) {
  const PlaneJob<T>& j = *(const PlaneJob<T>*)ctx;
  long p0, p1;
  plane_range(j, t, &p0, &p1);
  const long H = j.H, W = j.W;
  for (long p = p0; p < p1; p++) {
    const long n = p / j.C;
    const double m0 = j.m[0][n], m1 = j.m[1][n], m2 = j.m[2][n], m3 = j.m[3][n], m4 = j.m[4][n], m5 = j.m[5][n];
    const T* x = j.x + p * H * W;
    T* y = j.y + p * H * W;
    for (long h = 0; h < H; h++) {
      for (long w = 0; w < W; w++) {
        const double sx = m0 * (double)w + m1 * (double)h + m2;
        const double sy = m3 * (double)w + m4 * (double)h + m5;
        if (!(sx > -1.0 && sx < (double)W && sy > -1.0 && sy < (double)H)) {
          y[h * W + w] = 0;
          continue;
        }
        const double fx0 = floor(sx), fy0 = floor(sy);
        const long x0 = (long)fx0, y0 = (long)fy0;
        const double fx = sx - fx0, fy = sy - fy0;
        const bool inx0 = x0 >= 0, inx1 = x0 + 1 < W, iny0 = y0 >= 0, iny1 = y0 + 1 < H;
        const double v00 = iny0 && inx0 ? (double)x[y0 * W + x0] : 0.0;
        const double v01 = iny0 && inx1 ? (double)x[y0 * W + x0 + 1] : 0.0;
        const double v10 = iny1 && inx0 ? (double)x[(y0 + 1) * W + x0] : 0.0;
        const double v11 = iny1 && inx1 ? (double)x[(y0 + 1) * W + x0 + 1] : 0.0;
        const double v = (1.0 - fy) * (1.0 - fx) * v00 + (1.0 - fy) * fx * v01 + fy * (1.0 - fx) * v10 + fy * fx * v11;
        y[h * W + w] = (T)v;
      }
    }
  }
}

template <typename T> void normalize_task(void* ctx, long t) {
  const PlaneJob<T>& j = *(const PlaneJob<T>*)ctx;
  long p0, p1;
  plane_range(j, t, &p0, &p1);
  const long S = j.H * j.W;
  for (long p = p0; p < p1; p++) {
    const double mean = j.mean[p % j.C], std = j.std[p % j.C];
    const T* x = j.x + p * S;
    T* y = j.y + p * S;
    for (long s = 0; s < S; s++) y[s] = (T)(((double)x[s] - mean) / std);
  }
}

template <typename T> PlaneJob<T> plane_job(long N, long C, long H, long W, const T* x, T* y) {
  PlaneJob<T> j{};
  j.C = C;
  j.H = H;
  j.W = W;
  j.planes = N * C;
  j.x = x;
  j.y = y;
  return j;
}

}  // namespace

template <typename T>
void translate2d(long N, long C, long H, long W, const T* x, const int32_t* shiftH, const int32_t* shiftW, T* y) {
  if (N * C * H * W == 0) return;
  PlaneJob<T> j = plane_job(N, C, H, W, x, y);
  j.ints0 = shiftH;
  j.ints1 = shiftW;
  run_planes(j, translate_task<T>);
}

template <typename T> void flip2d(long N, long C, long H, long W, const T* x, const int32_t* flags, T* y) {
  if (N * C * H * W == 0) return;
  PlaneJob<T> j = plane_job(N, C, H, W, x, y);
  j.ints0 = flags;
  run_planes(j, flip_task<T>);
}

template <typename T>
void affine2d(long N, long C, long H, long W, const T* x, const T* m0, const T* m1, const T* m2, const T* m3,
              const T* m4, const T* m5, T* y) {
  if (N * C * H * W == 0) return;
  PlaneJob<T> j = plane_job(N, C, H, W, x, y);
  j.m[0] = m0;
  j.m[1] = m1;
  j.m[2] = m2;
  j.m[3] = m3;
  j.m[4] = m4;
  j.m[5] = m5;
  run_planes(j, affine_task<T>);
}

template <typename T> void normalize_channels(long N, long C, long S, const T* x, const T* mean, const T* std, T* y) {
  if (N * C * S == 0) return;
  PlaneJob<T> j = plane_job(N, C, 1, S, x, y);
  j.mean = mean;
  j.std = std;
  run_planes(j, normalize_task<T>);
}

NODENN_KERNELS_AUGMENT(NODENN_INSTANTIATE)

}  // namespace NODENN_ISA_NS
}  // namespace nodenn
