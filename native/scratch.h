// scratch.h — per-thread scratch memory of the per-ISA kernels (GEMM's packed panels, convolution's im2col matrix
// and partial sums): grown on demand and kept between calls, so that steady-state calls allocate nothing. Each
// buffer is a thread_local of its source file, freed when its thread ends (a worker_threads Worker that ran one
// large call would otherwise leave its memory behind for the life of the process).
#pragma once
#include <stdlib.h>

namespace nodenn {
namespace NODENN_ISA_NS {

// Alignment of scratch memory and of the kernels' stack tiles: one cache line, which is also the widest vector
// (AVX-512).
enum { kCacheLine = 64 };
// Scratch sizes are rounded up to whole pages: a buffer that grows a little at a time is not reallocated each time.
enum { kPageBytes = 4096 };

struct Scratch {
  void* ptr = nullptr;
  size_t bytes = 0;
  ~Scratch() { free(ptr); }
  // At least `need` bytes, cache-line aligned; null when out of memory (the old buffer is gone then too).
  void* reserve(size_t need) {
    if (need == 0) need = kCacheLine;  // an empty matrix still gets a valid pointer
    if (bytes < need) {
      free(ptr);
      need = (need + kPageBytes - 1) & ~(size_t)(kPageBytes - 1);
      ptr = aligned_alloc(kCacheLine, need);
      bytes = ptr ? need : 0;
    }
    return ptr;
  }
};

}  // namespace NODENN_ISA_NS
}  // namespace nodenn
