// The kernel tables by ISA, and which ones this CPU runs. Each JS environment holds its own choice (addon.cc); the
// JS loader applies NODENN_ISA from that environment's process.env.
#pragma once
#include <string>

#include "kernels.h"

namespace nodenn {

// The best ISA this CPU and OS support ("avx512", "avx2" or "scalar").
const char* best_isa();
bool isa_supported(const std::string& isa);

// The table of an ISA by name; null when unknown or not supported here, with the reason in *err.
const Kernels* isa_table(const std::string& isa, std::string* err);

}  // namespace nodenn
