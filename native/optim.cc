// optim.cc — optimizer updates, fused and in place: one pass over the parameters updates the state and the
// parameters together. The stateful updates run in double and round once when stored, like the TS reference,
// so both backends agree to float32 rounding; Adam's float32 update computes in float (AdamMath), within a few
// roundings of the reference. Compiled once per ISA; large tensors are updated in fixed chunks on the pool
// (chunks.h: each element's update reads only its own state), so results never depend on threads.
#include <math.h>

#include <cmath>

#include "chunks.h"
#include "kernels.h"

namespace nodenn {
namespace NODENN_ISA_NS {

// Plain SGD: p -= lr g, in T (it keeps no state); the updates below run in double.
template <typename T> void sgd(long n, T* p, const T* g, T lr) {
  for_chunks(n, [=](long b, long e) {
    for (long i = b; i < e; i++) p[i] -= lr * g[i];
  });
}

// sgd of two parameters (a layer's weight and bias) in one call: each as sgd alone, one after the other.
template <typename T> void sgd2(long n, T* p, const T* g, long m, T* q, const T* h, T lr) {
  sgd(n, p, g, lr);
  sgd(m, q, h, lr);
}

// SGD with momentum (PyTorch form): v = momentum v + g; p -= lr (nesterov ? g + momentum v : v)
template <typename T> void sgd_momentum(long n, T* p, const T* g, T* v, double lr, double momentum, bool nesterov) {
  for_chunks(n, [=](long b, long e) {
    for (long i = b; i < e; i++) {
      double vi = momentum * (double)v[i] + (double)g[i];
      v[i] = (T)vi;
      double step = nesterov ? (double)g[i] + momentum * (double)v[i] : (double)v[i];
      p[i] = (T)((double)p[i] - lr * step);
    }
  });
}

// AdaGrad: h += g^2; p -= lr g / (sqrt(h) + eps)
template <typename T> void adagrad(long n, T* p, const T* g, T* h, double lr, double eps) {
  for_chunks(n, [=](long b, long e) {
    for (long i = b; i < e; i++) {
      double gi = g[i];
      h[i] = (T)((double)h[i] + gi * gi);
      p[i] = (T)((double)p[i] - lr * gi / (sqrt((double)h[i]) + eps));
    }
  });
}

// RMSProp: h = decay h + (1 - decay) g^2; p -= lr g / (sqrt(h) + eps)
template <typename T> void rmsprop(long n, T* p, const T* g, T* h, double lr, double decay, double eps) {
  for_chunks(n, [=](long b, long e) {
    for (long i = b; i < e; i++) {
      double gi = g[i];
      h[i] = (T)(decay * (double)h[i] + (1 - decay) * gi * gi);
      p[i] = (T)((double)p[i] - lr * gi / (sqrt((double)h[i]) + eps));
    }
  });
}

// The arithmetic of Adam's update: float for float32 parameters, as PyTorch's Adam computes it. In double it cost a
// fifth of an MLP's training step (the square root and the division of 8 lanes a vector instead of 16); the results
// differ from the double reference by a few float32 roundings of the step, far below the step itself.
template <typename T> struct AdamMath {
  using type = double;
};
template <> struct AdamMath<float> {
  using type = float;
};

// Adam at step t (1-based), with decoupled weight decay (AdamW) when weight_decay > 0:
// p -= lr wd p; m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2; p -= lr m^ / (sqrt(v^) + eps),
// m^ = m / (1 - b1^t), v^ = v / (1 - b2^t).
template <typename T>
void adam(long n, T* p, const T* g, T* m, T* v, double lr, double beta1, double beta2, double eps, long t,
          double weight_decay) {
  using U = typename AdamMath<T>::type;
  const U c1 = (U)(1 / (1 - pow(beta1, (double)t))), c2 = (U)(1 / (1 - pow(beta2, (double)t)));
  const U ulr = (U)lr, b1 = (U)beta1, b2 = (U)beta2, e = (U)eps, decay = (U)(lr * weight_decay);
  const U a1 = (U)(1 - beta1), a2 = (U)(1 - beta2);
  for_chunks(n, [=](long b, long end) {
    for (long i = b; i < end; i++) {
      U gi = g[i], pi = p[i];
      if (weight_decay != 0) pi -= decay * pi;
      U mi = b1 * (U)m[i] + a1 * gi;
      U vi = b2 * (U)v[i] + a2 * gi * gi;
      m[i] = (T)mi;
      v[i] = (T)vi;
      p[i] = (T)(pi - ulr * (mi * c1) / (std::sqrt(vi * c2) + e));
    }
  });
}

NODENN_KERNELS_OPTIM(NODENN_INSTANTIATE)

}  // namespace NODENN_ISA_NS
}  // namespace nodenn
