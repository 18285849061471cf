#include "dispatch.h"

namespace nodenn {
namespace {

const Kernels* table_for(const std::string& isa) {
  if (isa == "scalar") return &scalar::kernels;
#if defined(__x86_64__) || defined(_M_X64)
  if (isa == "avx2") return &avx2::kernels;
  if (isa == "avx512") return &avx512::kernels;
#elif defined(__aarch64__)
  if (isa == "neon") return &neon::kernels;
#endif
  return nullptr;
}

}  // namespace

#if defined(__x86_64__) || defined(_M_X64)
const char* const kIsas[] = {"scalar", "avx2", "avx512", nullptr};
#elif defined(__aarch64__)
const char* const kIsas[] = {"scalar", "neon", nullptr};
#else
const char* const kIsas[] = {"scalar", nullptr};
#endif

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
#elif defined(__aarch64__)
  // Advanced SIMD (NEON) is part of the AArch64 baseline: every arm64 CPU has it.
  if (isa == "neon") return true;
#endif
  return false;
}

const char* best_isa() {
  const char* best = "scalar";
  for (const char* const* isa = kIsas; *isa; isa++)
    if (isa_supported(*isa)) best = *isa;
  return best;
}

const Kernels* isa_table(const std::string& isa, std::string* err) {
  const Kernels* t = table_for(isa);
  if (!t) {
    std::string names;
    for (const char* const* n = kIsas; *n; n++)
      names += std::string(names.empty() ? "" : n[1] ? ", " : " or ") + "'" + *n + "'";
    *err = "unknown ISA '" + isa + "' (expected " + names + ")";
    return nullptr;
  }
  if (!isa_supported(isa)) {
    *err = "this CPU does not support '" + isa + "' (best available: '" + best_isa() + "')";
    return nullptr;
  }
  return t;
}

}  // namespace nodenn
