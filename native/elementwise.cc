// elementwise.cc — activations (softmax included: forward and backward) and bias. Compiled once per ISA; the
// loops are written so the compiler vectorizes them. Large elementwise loops run in fixed chunks on the pool
// (chunks.h: every output element depends on its own inputs only); reductions (bias backward, softmax) run
// single-threaded in a fixed order. Either way the results never depend on the thread count.
#include <math.h>

#include "chunks.h"
#include "kernels.h"
#include "simd.h"
#include "softmax.h"

namespace nodenn {
namespace NODENN_ISA_NS {
namespace {

inline float tanh_(float x) { return tanhf(x); }
inline double tanh_(double x) { return tanh(x); }

// 1 / (1 + e^-x) without overflow: exp only ever sees a non-positive argument.
template <typename T> inline T sigmoid_(T x) {
  T e = exp_(-(x < 0 ? -x : x));
  return x >= 0 ? 1 / (1 + e) : e / (1 + e);
}

// f(r0, r1) over the rows [r0, r1) of a rows x cols matrix, in chunks of whole rows of about kChunk elements (bias_add,
// bias_relu: each row depends on its own inputs only), on the pool from kParallelMin elements on; nothing when empty.
template <typename F> void for_row_chunks(long rows, long cols, const F& f) {
  if (rows <= 0 || cols <= 0) return;
  long per = cols >= kChunk ? 1 : kChunk / cols;
  for_chunks(rows, f, per, rows * cols >= kParallelMin ? 2 * per : rows + 1);
}

}  // namespace

template <typename T> void activation_forward(int kind, long n, const T* x, T* y, T slope) {
  switch (kind) {
    case kRelu:  // written so that NaN passes through (a NaN input must reach the loss, not become 0)
      for_chunks(n, [=](long b, long e) {
        for (long i = b; i < e; i++) y[i] = x[i] < 0 ? 0 : x[i];
      });
      break;
    case kLeakyRelu:
      for_chunks(n, [=](long b, long e) {
        for (long i = b; i < e; i++) y[i] = x[i] > 0 ? x[i] : slope * x[i];
      });
      break;
    case kSigmoid:  // exp per element: worth threads from fewer elements on
      for_chunks(
          n,
          [=](long b, long e) {
            for (long i = b; i < e; i++) y[i] = sigmoid_(x[i]);
          },
          kCostlyChunk, kCostlyParallelMin);
      break;
    case kTanh:
      for_chunks(
          n,
          [=](long b, long e) {
            for (long i = b; i < e; i++) y[i] = tanh_(x[i]);
          },
          kCostlyChunk, kCostlyParallelMin);
      break;
    case kStep:  // NaN passes through, as for ReLU
      for_chunks(n, [=](long b, long e) {
        for (long i = b; i < e; i++) y[i] = x[i] > 0 ? T(1) : x[i] <= 0 ? T(0) : x[i];
      });
      break;
  }
}

template <typename T> void activation_backward(int kind, long n, const T* x, const T* y, const T* dy, T* dx, T slope) {
  switch (kind) {
    case kRelu:
      for_chunks(n, [=](long b, long e) {
        // dy read unconditionally: a load under the condition keeps the loop from vectorizing
        for (long i = b; i < e; i++) {
          const T d = dy[i];
          dx[i] = x[i] > 0 ? d : 0;
        }
      });
      break;
    case kLeakyRelu:
      for_chunks(n, [=](long b, long e) {
        for (long i = b; i < e; i++) dx[i] = x[i] > 0 ? dy[i] : slope * dy[i];
      });
      break;
    case kSigmoid:
      for_chunks(n, [=](long b, long e) {
        for (long i = b; i < e; i++) dx[i] = dy[i] * y[i] * (1 - y[i]);
      });
      break;
    case kTanh:
      for_chunks(n, [=](long b, long e) {
        for (long i = b; i < e; i++) dx[i] = dy[i] * (1 - y[i] * y[i]);
      });
      break;
    case kStep:  // flat on both sides of 0 (undefined at 0, taken as 0 there too)
      for_chunks(n, [=](long b, long e) {
        for (long i = b; i < e; i++) dx[i] = 0;
      });
      break;
  }
}

template <typename T> void bias_add(long rows, long cols, T* y, const T* bias) {
  for_row_chunks(rows, cols, [=](long r0, long r1) {
    for (long r = r0; r < r1; r++) {
      T* row = y + r * cols;
      for (long c = 0; c < cols; c++) row[c] += bias[c];
    }
  });
}

template <typename T> void bias_backward(long rows, long cols, const T* dy, T* dbias) {
  if (cols == 0) return;  // no elements: 2^30 empty rows cost ~0.6 s where the compiler keeps the loop (ASan build)
  for (long r = 0; r < rows; r++) {
    const T* row = dy + r * cols;
    for (long c = 0; c < cols; c++) dbias[c] += row[c];
  }
}

// bias_add then activation_forward kRelu, element by element in one pass: the same sum, the same comparison
template <typename T> void bias_relu(long rows, long cols, T* y, const T* bias) {
  for_row_chunks(rows, cols, [=](long r0, long r1) {
    for (long r = r0; r < r1; r++) {
      T* row = y + r * cols;
      for (long c = 0; c < cols; c++) {
        const T v = row[c] + bias[c];
        row[c] = v < 0 ? 0 : v;  // NaN passes through, as activation_forward's
      }
    }
  });
}

// activation_backward kRelu given the ReLU's output (y > 0 exactly when its input is), then bias_backward of the
// masked values, row by row in one pass: each dbias[c] sums the same values in the same order
template <typename T> void relu_bias_backward(long rows, long cols, const T* y, const T* dy, T* dx, T* dbias) {
  if (cols == 0) return;  // no elements, as bias_backward
  for (long r = 0; r < rows; r++) {
    const T* yr = y + r * cols;
    const T* dyr = dy + r * cols;
    T* dxr = dx + r * cols;
    for (long c = 0; c < cols; c++) {
      const T d = dyr[c];  // read unconditionally (dx may be dy), as activation_backward
      const T m = yr[c] > 0 ? d : 0;
      dxr[c] = m;
      dbias[c] += m;
    }
  }
}

template <typename T> void softmax(long rows, long cols, const T* x, T* y) {
  for (long r = 0; r < rows; r++) {
    T* p = y + r * cols;
    T inv = (T)(1.0 / row_exp(cols, x + r * cols, row_max(cols, x + r * cols), p));
    for (long c = 0; c < cols; c++) p[c] *= inv;
  }
}

// dx = y * (dy - sum(dy * y)) row by row, the backward pass of y = softmax(x) (dx may be dy)
template <typename T> void softmax_backward(long rows, long cols, const T* y, const T* dy, T* dx) {
  if (cols == 0) return;  // no elements: 2^30 empty rows would cost seconds
  for (long r = 0; r < rows; r++) {
    const T* yr = y + r * cols;
    const T* dyr = dy + r * cols;
    T* dxr = dx + r * cols;
    double dot = 0;
    for (long c = 0; c < cols; c++) dot += (double)dyr[c] * (double)yr[c];
    for (long c = 0; c < cols; c++) dxr[c] = (T)((double)yr[c] * ((double)dyr[c] - dot));
  }
}

NODENN_KERNELS_ELEMENTWISE(NODENN_INSTANTIATE)

}  // namespace NODENN_ISA_NS
}  // namespace nodenn
