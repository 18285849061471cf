// plan.cc — a small network's eval-mode forward pass in one call from JS (src/inference/plan.ts compiles it).
// A batch-1 predict of an MLP costs a few microseconds of arithmetic; crossing N-API once per layer and kernel
// (and the layers' JS around each call) cost as much again. Here the whole chain runs behind one crossing, with
// the very kernels the layers call (gemm, bias_add, activation_forward, softmax) in the same order on the same
// values, so the result is bitwise theirs. The weights are read where they are (the layers' own arrays): a product
// of a few rows reads B in place without packing (gemm.cc), so a packed copy would gain nothing and could go stale.
// The activations ping-pong between the two halves of the caller's scratch: nothing is allocated per call.
#include <string.h>

#include "kernels.h"

namespace nodenn {
namespace NODENN_ISA_NS {

// The program's step kinds (the value check planProgram in addon.cc has validated every step).
enum { kStepDense = 0, kStepActivation = 1, kStepSoftmax = 2 };

template <typename T>
bool plan_forward(long rows, long outputs, long width, long program_length, long d0, long d1, long d2, long d3, long d4,
                  const int32_t* program, const T* x, T* y, T* scratch, const T* w0, const T* b0, const T* w1,
                  const T* b1, const T* w2, const T* b2, const T* w3, const T* b3) {
  const long d[5] = {d0, d1, d2, d3, d4};
  const T* const w[4] = {w0, w1, w2, w3};
  const T* const b[4] = {b0, b1, b2, b3};
  T* const half[2] = {scratch, scratch + rows * (width / 2)};
  const T* cur = x;
  long cols = d0;
  int next = 0;
  for (long s = 0; s + 4 <= program_length; s += 4) {
    const int32_t* step = program + s;
    switch (step[0]) {
      case kStepDense: {
        const int i = step[1];
        const long out = d[i + 1];
        T* dst = half[next];
        next ^= 1;
        if (!gemm<T>(false, false, rows, out, cols, (T)1, cur, cols, w[i], out, (T)0, dst, out)) return false;
        if (b[i]) bias_add<T>(rows, out, dst, b[i]);
        cur = dst;
        cols = out;
        break;
      }
      case kStepActivation: {
        const uint64_t bits = (uint64_t)(uint32_t)step[2] | (uint64_t)(uint32_t)step[3] << 32;
        double slope;
        memcpy(&slope, &bits, sizeof slope);
        activation_forward<T>(step[1], rows * cols, cur, (T*)cur, (T)slope);
        break;
      }
      default: softmax<T>(rows, cols, cur, (T*)cur); break;
    }
  }
  // the check saw to it that a Dense step came first (cur is scratch) and that cols == outputs; an empty y may be a
  // null pointer, which memcpy must not see even for 0 bytes
  if (rows * outputs > 0) memcpy(y, cur, sizeof(T) * (size_t)(rows * outputs));
  return true;
}

NODENN_KERNELS_PLAN(NODENN_INSTANTIATE)

}  // namespace NODENN_ISA_NS
}  // namespace nodenn
