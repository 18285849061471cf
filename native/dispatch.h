// The kernel tables by ISA, and which ones this CPU runs. Each JS environment holds its own choice (addon.cc); the
// JS loader applies NODENN_ISA from that environment's process.env.
#pragma once
#include <string>

#include "kernels.h"

namespace nodenn {

// The ISAs this build has kernels for, weakest first, then nullptr: scalar, avx2, avx512 on x86-64; scalar, neon
// on arm64.
extern const char* const kIsas[];

// The best ISA this CPU and OS support ("avx512", "avx2" or "scalar" on x86-64; "neon" on arm64).
const char* best_isa();
bool isa_supported(const std::string& isa);

// The table of an ISA by name; null when unknown or not supported here, with the reason in *err.
const Kernels* isa_table(const std::string& isa, std::string* err);

}  // namespace nodenn
