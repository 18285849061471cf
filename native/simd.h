// Vector types for the kernels. Each kernel source is compiled once per ISA (see CMakeLists.txt); the width
// follows the flags of that compilation, so one generic source gives SSE2/NEON, AVX2+FMA and AVX-512 code.
#pragma once

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

}  // namespace NODENN_ISA_NS
}  // namespace nodenn
