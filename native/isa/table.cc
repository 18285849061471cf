// The kernel table of one ISA. Compiled once per ISA with that ISA's flags, like the kernel sources. Every entry
// is set by its name from the spec's list, so two kernels of the same type cannot trade places.
#include "../kernels.h"

namespace nodenn {
namespace NODENN_ISA_NS {

#define NODENN_STR2(x) #x
#define NODENN_STR(x) NODENN_STR2(x)

constexpr Kernels make_table() {
  Kernels k{};
  k.isa = NODENN_STR(NODENN_ISA_NS);
#define NODENN_TABLE_ENTRY(name, Ret, params) \
  k.name##_f32 = &name<float>;                \
  k.name##_f64 = &name<double>;
  NODENN_KERNELS(NODENN_TABLE_ENTRY)
#undef NODENN_TABLE_ENTRY
  return k;
}

extern const Kernels kernels = make_table();

}  // namespace NODENN_ISA_NS
}  // namespace nodenn
