// Vector types for the kernels. Each kernel source is compiled once per ISA (see CMakeLists.txt); the width
// follows the flags of that compilation, so one generic source gives SSE2/NEON, AVX2+FMA and AVX-512 code.
#pragma once

#if defined(__AVX2__) || defined(__AVX512F__)
#include <immintrin.h>
#endif
#if defined(NODENN_FUSED_MERGE)
#include <arm_neon.h>
#endif

#if defined(__AVX512F__)
#define NODENN_VEC_BYTES 64
#elif defined(__AVX2__)
#define NODENN_VEC_BYTES 32
#else
#define NODENN_VEC_BYTES 16
#endif

#if defined(__AVX512F__)
#define NODENN_REGS 32
#else
#define NODENN_REGS 16
#endif

namespace nodenn {
namespace NODENN_ISA_NS {

typedef float vf32 __attribute__((vector_size(NODENN_VEC_BYTES)));
typedef double vf64 __attribute__((vector_size(NODENN_VEC_BYTES)));
// Unaligned views used to load and store vectors from user memory.
typedef float vf32u __attribute__((vector_size(NODENN_VEC_BYTES), aligned(4), may_alias));
typedef double vf64u __attribute__((vector_size(NODENN_VEC_BYTES), aligned(8), may_alias));

template <typename T> struct Vec;
template <> struct Vec<float> {
  typedef vf32 V;
  typedef vf32u U;
  enum { L = NODENN_VEC_BYTES / 4 };
};
template <> struct Vec<double> {
  typedef vf64 V;
  typedef vf64u U;
  enum { L = NODENN_VEC_BYTES / 8 };
};

// The first n lanes (0 < n <= L) of a vector from p, zeros in the others; memory past p + n is not touched.
// Stores write the first n lanes only.
#if defined(__AVX512F__)
inline vf32 load_partial(const float* p, int n) { return (vf32)_mm512_maskz_loadu_ps((__mmask16)((1u << n) - 1), p); }
inline vf64 load_partial(const double* p, int n) { return (vf64)_mm512_maskz_loadu_pd((__mmask8)((1u << n) - 1), p); }
inline void store_partial(float* p, vf32 v, int n) { _mm512_mask_storeu_ps(p, (__mmask16)((1u << n) - 1), (__m512)v); }
inline void store_partial(double* p, vf64 v, int n) { _mm512_mask_storeu_pd(p, (__mmask8)((1u << n) - 1), (__m512d)v); }
#elif defined(__AVX2__)
inline __m256i lanes_below(int n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
inline __m256i lanes_below64(int n) {
  return _mm256_cmpgt_epi64(_mm256_set1_epi64x(n), _mm256_setr_epi64x(0, 1, 2, 3));
}
inline vf32 load_partial(const float* p, int n) { return (vf32)_mm256_maskload_ps(p, lanes_below(n)); }
inline vf64 load_partial(const double* p, int n) { return (vf64)_mm256_maskload_pd(p, lanes_below64(n)); }
inline void store_partial(float* p, vf32 v, int n) { _mm256_maskstore_ps(p, lanes_below(n), (__m256)v); }
inline void store_partial(double* p, vf64 v, int n) { _mm256_maskstore_pd(p, lanes_below64(n), (__m256d)v); }
#else
template <typename V, typename T> inline V load_partial_lanes(const T* p, int n) {
  V v = {};
  for (int i = 0; i < n; i++) v[i] = p[i];
  return v;
}
inline vf32 load_partial(const float* p, int n) { return load_partial_lanes<vf32>(p, n); }
inline vf64 load_partial(const double* p, int n) { return load_partial_lanes<vf64>(p, n); }
template <typename V, typename T> inline void store_partial(T* p, V v, int n) {
  for (int i = 0; i < n; i++) p[i] = v[i];
}
#endif

// The L elements p[0], p[stride], ..., p[(L - 1) * stride] as a vector (stride * L must fit an int32). The masked
// forms with a zero source: the plain ones start from an "undefined" register that GCC 12 warns about.
#if defined(__AVX512F__)
inline vf32 gather_stride(const float* p, long stride) {
  const __m512i idx = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                         _mm512_set1_epi32((int)stride));
  return (vf32)_mm512_mask_i32gather_ps(_mm512_setzero_ps(), (__mmask16)0xffff, idx, p, 4);
}
inline vf64 gather_stride(const double* p, long stride) {
  const __m256i idx = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32((int)stride));
  return (vf64)_mm512_mask_i32gather_pd(_mm512_setzero_pd(), (__mmask8)0xff, idx, p, 8);
}
#elif defined(__AVX2__)
inline vf32 gather_stride(const float* p, long stride) {
  const __m256i idx = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32((int)stride));
  return (vf32)_mm256_mask_i32gather_ps(_mm256_setzero_ps(), p, idx, _mm256_castsi256_ps(_mm256_set1_epi32(-1)), 4);
}
inline vf64 gather_stride(const double* p, long stride) {
  const __m128i idx = _mm_mullo_epi32(_mm_setr_epi32(0, 1, 2, 3), _mm_set1_epi32((int)stride));
  return (vf64)_mm256_mask_i32gather_pd(_mm256_setzero_pd(), p, idx, _mm256_castsi256_pd(_mm256_set1_epi64x(-1)), 8);
}
#else
template <typename V, typename T> inline V gather_stride_lanes(const T* p, long stride) {
  V v;
  for (int i = 0; i < (int)(sizeof(V) / sizeof(T)); i++) v[i] = p[i * stride];
  return v;
}
inline vf32 gather_stride(const float* p, long stride) { return gather_stride_lanes<vf32>(p, stride); }
inline vf64 gather_stride(const double* p, long stride) { return gather_stride_lanes<vf64>(p, stride); }
#endif

#if defined(NODENN_FUSED_MERGE)
// a * b + c rounded once (NEON's FMLA), whatever the compiler's contraction would do with the expression.
inline vf32 fused_mul_add(vf32 a, vf32 b, vf32 c) {
  return (vf32)vfmaq_f32((float32x4_t)c, (float32x4_t)a, (float32x4_t)b);
}
inline vf64 fused_mul_add(vf64 a, vf64 b, vf64 c) {
  return (vf64)vfmaq_f64((float64x2_t)c, (float64x2_t)a, (float64x2_t)b);
}
#endif

// dst[0, n) = src[0, n) in vectors, the tail through a partial load and store.
template <typename T> inline void copy_lanes(T* dst, const T* src, long n) {
  typedef typename Vec<T>::U U;
  const long L = Vec<T>::L;
  long i = 0;
  for (; i + L <= n; i += L) *(U*)(dst + i) = *(const U*)(src + i);
  if (i < n) store_partial(dst + i, load_partial(src + i, (int)(n - i)), (int)(n - i));
}

}  // namespace NODENN_ISA_NS
}  // namespace nodenn
