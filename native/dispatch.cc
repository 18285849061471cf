#include "dispatch.h"

#include <cstdlib>

namespace nodenn {
namespace {

const Kernels* g_active = &scalar::kernels;

const Kernels* table_for(const std::string& isa) {
  if (isa == "scalar") return &scalar::kernels;
#if defined(__x86_64__) || defined(_M_X64)
  if (isa == "avx2") return &avx2::kernels;
  if (isa == "avx512") return &avx512::kernels;
#endif
  return nullptr;
}

}  // namespace

const Kernels& kernels() { return *g_active; }

bool isa_supported(const std::string& isa) {
  if (isa == "scalar") return true;
#if defined(__x86_64__) && defined(__GNUC__)
  // __builtin_cpu_supports also checks that the OS saves the wide registers (XGETBV).
  __builtin_cpu_init();
  if (isa == "avx2") return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (isa == "avx512")
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
           __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
  return false;
}

const char* best_isa() {
  if (isa_supported("avx512")) return "avx512";
  if (isa_supported("avx2")) return "avx2";
  return "scalar";
}

std::string select_isa(const std::string& isa) {
  const Kernels* t = table_for(isa);
  if (!t) return "unknown ISA '" + isa + "' (expected 'scalar', 'avx2' or 'avx512')";
  if (!isa_supported(isa)) return "this CPU does not support '" + isa + "' (best available: '" + best_isa() + "')";
  g_active = t;
  return "";
}

std::string init_dispatch() {
  const char* env = std::getenv("NODENN_ISA");
  if (env && *env) {
    std::string err = select_isa(env);
    return err.empty() ? err : "NODENN_ISA=" + std::string(env) + ": " + err;
  }
  return select_isa(best_isa());
}

}  // namespace nodenn
