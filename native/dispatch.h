// Picks the kernel table for this CPU once at load; NODENN_ISA=scalar|avx2|avx512 forces one.
#pragma once
#include <string>

#include "kernels.h"

namespace nodenn {

// The active table. Never null after init_dispatch() succeeded.
const Kernels& kernels();

// The best ISA this CPU and OS support ("avx512", "avx2" or "scalar").
const char* best_isa();
bool isa_supported(const std::string& isa);

// Selects an ISA by name. Returns an empty string on success, else the reason it was refused.
std::string select_isa(const std::string& isa);

// Reads NODENN_ISA (if set) or picks the best; returns an error message, empty on success.
std::string init_dispatch();

}  // namespace nodenn
