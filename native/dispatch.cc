#include "dispatch.h"

namespace nodenn {
namespace {

const Kernels* table_for(const std::string& isa) {
  if (isa == "scalar") return &scalar::kernels;
#if defined(__x86_64__) || defined(_M_X64)
  if (isa == "avx2") return &avx2::kernels;
  if (isa == "avx512") return &avx512::kernels;
#endif
  return nullptr;
}

}  // namespace

bool isa_supported(const std::string& isa) {
  if (isa == "scalar") return true;
#if defined(__x86_64__) && defined(__GNUC__)
  // __builtin_cpu_supports also checks that the OS saves the wide registers (XGETBV).
  __builtin_cpu_init();
  if (isa == "avx2") return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (isa == "avx512")
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx2") &&
           __builtin_cpu_supports("fma");
#endif
  return false;
}

const char* best_isa() {
  if (isa_supported("avx512")) return "avx512";
  if (isa_supported("avx2")) return "avx2";
  return "scalar";
}

const Kernels* isa_table(const std::string& isa, std::string* err) {
  const Kernels* t = table_for(isa);
  if (!t) {
    *err = "unknown ISA '" + isa + "' (expected 'scalar', 'avx2' or 'avx512')";
    return nullptr;
  }
  if (!isa_supported(isa)) {
    *err = "this CPU does not support '" + isa + "' (best available: '" + best_isa() + "')";
    return nullptr;
  }
  return t;
}

}  // namespace nodenn
