// optim.cc — optimizer updates, fused and in place: one pass over the parameters updates the state and the
// parameters together. The stateful updates run in double and round once when stored, like the TS reference,
// so both backends agree to float32 rounding. Compiled once per ISA; large tensors are updated in fixed chunks
// on the pool (chunks.h: each element's update reads only its own state), so results never depend on threads.
#include <math.h>

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

// Adam at step t (1-based), with decoupled weight decay (AdamW) when weight_decay > 0:
// p -= lr wd p; m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2; p -= lr m^ / (sqrt(v^) + eps),
// m^ = m / (1 - b1^t), v^ = v / (1 - b2^t).
template <typename T>
void adam(long n, T* p, const T* g, T* m, T* v, double lr, double beta1, double beta2, double eps, long t,
          double weight_decay) {
  double c1 = 1 / (1 - pow(beta1, (double)t)), c2 = 1 / (1 - pow(beta2, (double)t));
  for_chunks(n, [=](long b, long e) {
    for (long i = b; i < e; i++) {
      double gi = g[i], pi = p[i];
      if (weight_decay != 0) pi -= lr * weight_decay * pi;
      m[i] = (T)(beta1 * (double)m[i] + (1 - beta1) * gi);
      v[i] = (T)(beta2 * (double)v[i] + (1 - beta2) * gi * gi);
      p[i] = (T)(pi - lr * ((double)m[i] * c1) / (sqrt((double)v[i] * c2) + eps));
    }
  });
}

NODENN_KERNELS_OPTIM(NODENN_INSTANTIATE)

}  // namespace NODENN_ISA_NS
}  // namespace nodenn
