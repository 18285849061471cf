// elementwise.cc — activations, bias, softmax cross-entropy and optimizer updates. Compiled once per ISA; the
// loops are written so the compiler vectorizes them. Large elementwise loops run in fixed chunks on the pool
// (chunks.h: every output element depends on its own inputs only); reductions (bias backward, softmax, losses)
// run single-threaded in a fixed order. Either way the results never depend on the thread count.
#include <math.h>

#include "chunks.h"
#include "kernels.h"
#include "simd.h"

namespace nodenn {
namespace NODENN_ISA_NS {
namespace {

inline float exp_(float x) { return expf(x); }
inline double exp_(double x) { return exp(x); }
inline float tanh_(float x) { return tanhf(x); }
inline double tanh_(double x) { return tanh(x); }

// 1 / (1 + e^-x) without overflow: exp only ever sees a non-positive argument.
template <typename T> inline T sigmoid_(T x) {
  T e = exp_(-(x < 0 ? -x : x));
  return x >= 0 ? 1 / (1 + e) : e / (1 + e);
}

template <typename T> inline T row_max(long cols, const T* x) {
  T m = x[0];
  for (long c = 1; c < cols; c++) m = x[c] > m ? x[c] : m;
  return m;
}

// Stable softmax of one row: p = exp(x - max); returns the sum of p (accumulated in double).
template <typename T> inline double row_exp(long cols, const T* x, T m, T* p) {
  double s = 0;
  for (long c = 0; c < cols; c++) {
    p[c] = exp_(x[c] - m);
    s += p[c];
  }
  return s;
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
      for_chunks(n, [=](long b, long e) {
        for (long i = b; i < e; i++) y[i] = sigmoid_(x[i]);
      }, kChunk / 4, kChunk / 2);
      break;
    case kTanh:
      for_chunks(n, [=](long b, long e) {
        for (long i = b; i < e; i++) y[i] = tanh_(x[i]);
      }, kChunk / 4, kChunk / 2);
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
  if (rows <= 0 || cols <= 0) return;
  // chunks of whole rows
  long per = cols >= kChunk ? 1 : kChunk / cols;
  for_chunks(rows, [=](long r0, long r1) {
    for (long r = r0; r < r1; r++) {
      T* row = y + r * cols;
      for (long c = 0; c < cols; c++) row[c] += bias[c];
    }
  }, per, rows * cols >= kParallelMin ? 2 * per : rows + 1);
}

template <typename T> void bias_backward(long rows, long cols, const T* dy, T* dbias) {
  for (long r = 0; r < rows; r++) {
    const T* row = dy + r * cols;
    for (long c = 0; c < cols; c++) dbias[c] += row[c];
  }
}

template <typename T> void softmax(long rows, long cols, const T* x, T* y) {
  for (long r = 0; r < rows; r++) {
    T* p = y + r * cols;
    T inv = (T)(1.0 / row_exp(cols, x + r * cols, row_max(cols, x + r * cols), p));
    for (long c = 0; c < cols; c++) p[c] *= inv;
  }
}

template <typename T>
double softmax_cross_entropy_index(long rows, long cols, const T* logits, const int32_t* labels, T* grad) {
  double total = 0;
  for (long r = 0; r < rows; r++) {
    const T* x = logits + r * cols;
    T m = row_max(cols, x);
    double s = 0;
    if (grad) {
      T* g = grad + r * cols;
      s = row_exp(cols, x, m, g);
      T scale = (T)(1.0 / (s * (double)rows));  // softmax / rows
      for (long c = 0; c < cols; c++) g[c] *= scale;
      g[labels[r]] -= (T)(1.0 / (double)rows);
    } else {
      for (long c = 0; c < cols; c++) s += exp_(x[c] - m);
    }
    total += (double)m + log(s) - (double)x[labels[r]];
  }
  return total / (double)rows;
}

template <typename T>
double softmax_cross_entropy_target(long rows, long cols, const T* logits, const T* targets, T* grad) {
  double total = 0;
  for (long r = 0; r < rows; r++) {
    const T* x = logits + r * cols;
    const T* t = targets + r * cols;
    T m = row_max(cols, x);
    double s = 0;
    for (long c = 0; c < cols; c++) s += exp_(x[c] - m);
    double lse = (double)m + log(s);
    double tsum = 0, tx = 0;
    for (long c = 0; c < cols; c++) {
      tsum += t[c];
      tx += (double)t[c] * x[c];
    }
    total += tsum * lse - tx;
    if (grad) {
      // d/dx of (sum t) * lse - t.x  =  (sum t) * softmax - t
      T* g = grad + r * cols;
      for (long c = 0; c < cols; c++) g[c] = (T)((tsum * exp((double)x[c] - lse) - t[c]) / (double)rows);
    }
  }
  return total / (double)rows;
}

template <typename T> void sgd(long n, T* p, const T* g, T lr) {
  for_chunks(n, [=](long b, long e) {
    for (long i = b; i < e; i++) p[i] -= lr * g[i];
  });
}

NODENN_KERNELS_ELEMENTWISE(NODENN_INSTANTIATE)

}  // namespace NODENN_ISA_NS
}  // namespace nodenn
