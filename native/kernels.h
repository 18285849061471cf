// The kernel table. Every kernel exists once per ISA (namespaces scalar, avx2, avx512 on x86-64; scalar, neon on
// arm64), compiled from the same sources with different flags; dispatch.cc picks one table at load time. The signatures
// come from the kernel spec (kernels.gen.h). All sizes are validated by addon.cc before a kernel is called: kernels
// trust their arguments.
#pragma once
#include <stdint.h>

#include "kernels.gen.h"

namespace nodenn {

// The geometry of one convolution / pooling call, validated by addon.cc.
struct ConvShape {
  long N, C, H, W;      // input
  long F, KH, KW;       // filters
  long sh, sw, ph, pw;  // stride and zero padding per axis
  long OH, OW;          // output: 1 + (H + 2 ph - KH) / sh, ...
};
// The two convolutions of conv2dChainForward: b's input is a's output pooled 2x2 (b.N = a.N, b.C = a.F,
// b.H = a.OH / 2, b.W = a.OW / 2).
struct ConvChainShape {
  ConvShape a, b;
};
struct PoolShape {
  long N, C, H, W;  // input
  long KH, KW, sh, sw;
  long OH, OW;  // 1 + (H - KH) / sh, ...
};

// The type of each kernel for one float type: KernelTypes<float>::gemm is bool(bool, bool, long, ...).
template <typename T> struct KernelTypes {
#define NODENN_KERNEL_TYPE(name, Ret, params) using name = Ret params;
  NODENN_KERNELS(NODENN_KERNEL_TYPE)
#undef NODENN_KERNEL_TYPE
};

// One ISA's kernels, a float and a double version of each, filled by name (isa/table.cc).
struct Kernels {
  const char* isa;
#define NODENN_KERNEL_MEMBERS(name, Ret, params) \
  KernelTypes<float>::name* name##_f32;          \
  KernelTypes<double>::name* name##_f64;
  NODENN_KERNELS(NODENN_KERNEL_MEMBERS)
#undef NODENN_KERNEL_MEMBERS
};

namespace scalar {
extern const Kernels kernels;
}
namespace avx2 {
extern const Kernels kernels;
}
namespace avx512 {
extern const Kernels kernels;
}
namespace neon {
extern const Kernels kernels;
}

#ifdef NODENN_ISA_NS
// The per-ISA implementations (generic in T), visible to the sources compiled for one ISA. Each source file ends
// with its list of explicit instantiations: NODENN_KERNELS_OPS(NODENN_INSTANTIATE) in ops.cc.
namespace NODENN_ISA_NS {
#define NODENN_KERNEL_DECLARE(name, Ret, params) template <typename T> Ret name params;
NODENN_KERNELS(NODENN_KERNEL_DECLARE)
#undef NODENN_KERNEL_DECLARE
}  // namespace NODENN_ISA_NS
#define NODENN_INSTANTIATE(name, Ret, params)    \
  template KernelTypes<float>::name name<float>; \
  template KernelTypes<double>::name name<double>;
#endif

}  // namespace nodenn
