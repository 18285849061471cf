// loss.cc — losses that return the mean loss and write its gradient in the same pass (grad may be null): binary
// cross-entropy, mean squared error, cross-entropy of probabilities and softmax cross-entropy.
// Sums are accumulated in double in index order. Compiled once per ISA.
#include <math.h>

#include "kernels.h"
#include "softmax.h"

namespace nodenn {
namespace NODENN_ISA_NS {

// Binary cross-entropy from logits, mean over n: max(x, 0) - x t + log(1 + e^-|x|) (never overflows);
// grad = (sigmoid(x) - t) / n.
template <typename T> double bce_logits(long n, const T* logits, const T* targets, T* grad) {
  double total = 0;
  for (long i = 0; i < n; i++) {
    double x = logits[i], t = targets[i];
    double e = exp(-fabs(x));
    total += (x > 0 ? x : 0) - x * t + log1p(e);
    if (grad) {
      double s = x >= 0 ? 1 / (1 + e) : e / (1 + e);
      grad[i] = (T)((s - t) / (double)n);
    }
  }
  return total / (double)n;
}

// Binary cross-entropy from probabilities clipped to [eps, 1 - eps], mean over n; the gradient is zero where
// the clip is active (the clipped function is flat there).
template <typename T> double bce_probs(long n, const T* probs, const T* targets, double eps, T* grad) {
  double total = 0;
  for (long i = 0; i < n; i++) {
    double p = probs[i], t = targets[i];
    double pc = p < eps ? eps : p > 1 - eps ? 1 - eps : p;
    total -= t * log(pc) + (1 - t) * log(1 - pc);
    if (grad) grad[i] = (T)(pc == p ? (p - t) / (p * (1 - p)) / (double)n : 0.0);
  }
  return total / (double)n;
}

// Mean squared error: sum over the cols features, mean over the rows; halved if `half`.
// grad = (half ? 1 : 2) (pred - target) / rows.
template <typename T> double mse(long rows, long cols, const T* pred, const T* target, bool half, T* grad) {
  double total = 0, k = half ? 1.0 : 2.0;
  long n = rows * cols;
  for (long i = 0; i < n; i++) {
    double d = (double)pred[i] - (double)target[i];
    total += d * d;
    if (grad) grad[i] = (T)(k * d / (double)rows);
  }
  return (half ? 0.5 : 1.0) * total / (double)rows;
}

// Cross-entropy of probabilities, -sum t log(p + eps) / rows (the course's cross_entropy_error); grad =
// -t / (p + eps) / rows. addon.cc has checked that every p is a probability.
template <typename T>
double cross_entropy_probs(long rows, long cols, const T* probs, const T* targets, double eps, T* grad) {
  double total = 0;
  long n = rows * cols;
  for (long i = 0; i < n; i++) {
    double p = (double)probs[i] + eps, t = targets[i];
    if (t == 0) {  // 0 log 0 = 0: a class with no target mass adds nothing, even at p = 0
      if (grad) grad[i] = 0;
      continue;
    }
    total -= t * log(p);
    if (grad) grad[i] = (T)(-t / p / (double)rows);
  }
  return total / (double)rows;
}

template <typename T>
double softmax_cross_entropy_index(long rows, long cols, const T* logits, const int32_t* labels, T* grad) {
  double total = 0;
  for (long r = 0; r < rows; r++) {
    const T* x = logits + r * cols;
    T m = row_max(cols, x);
    T label = x[labels[r]];  // read before the row's grad is written: grad may be the logits
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
    total += (double)m + log(s) - (double)label;
  }
  return total / (double)rows;
}

// softmax_cross_entropy_index (grad written) and argmax_rows in one pass: each row's argmax (the first maximum, as
// argmax_rows) is taken before that row's grad is written (grad may be the logits), and the row's loss and grad are
// computed exactly as softmax_cross_entropy_index computes them.
template <typename T>
double softmax_cross_entropy_argmax(long rows, long cols, const T* logits, const int32_t* labels, T* grad,
                                    int32_t* pred) {
  double total = 0;
  for (long r = 0; r < rows; r++) {
    const T* x = logits + r * cols;
    long best = row_argmax(cols, x);
    pred[r] = (int32_t)best;
    T m = x[best];  // row_max's value: the same comparisons in the same order
    T label = x[labels[r]];
    T* g = grad + r * cols;
    double s = row_exp(cols, x, m, g);
    T scale = (T)(1.0 / (s * (double)rows));  // softmax / rows
    for (long c = 0; c < cols; c++) g[c] *= scale;
    g[labels[r]] -= (T)(1.0 / (double)rows);
    total += (double)m + log(s) - (double)label;
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

NODENN_KERNELS_LOSS(NODENN_INSTANTIATE)

}  // namespace NODENN_ISA_NS
}  // namespace nodenn
