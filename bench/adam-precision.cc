// Adam's float32 update computed in float (native/optim.cc today) against the same update computed in double (as
// the TS backend computes it), outside Node, one thread, calls alternating between the two in one process (a loaded
// machine slows them alike). One "step" updates every parameter tensor of the CLI's default CNN (`--model cnn`:
// conv 1->16, batch norm, conv 16->32, batch norm, dense 1568->128, dense 128->10; 207,018 parameters), each
// tensor as its own call, the way fit() calls the kernel. Prints the CPU time of a step, best and median of the
// samples, for each variant, and their ratio; and the largest difference of p between the two after the steps.
//   g++ -O3 -fno-math-errno -std=gnu++17 -mavx512f -mavx512bw -mavx512dq -mavx512vl -mavx2 -mfma -mf16c \
//     -mprefer-vector-width=512 bench/adam-precision.cc -o /tmp/adam-precision && /tmp/adam-precision 200 20
// (arguments: samples, steps per sample). With AVX2 flags only, the 8-lane case.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <algorithm>
#include <vector>

// The loop of native/optim.cc's adam<float>, its arithmetic in U.
template <typename U>
__attribute__((noinline)) void adam(long n, float* p, const float* g, float* m, float* v, double lr, double beta1,
                                    double beta2, double eps, long t, double weight_decay) {
  const U c1 = (U)(1 / (1 - pow(beta1, (double)t))), c2 = (U)(1 / (1 - pow(beta2, (double)t)));
  const U ulr = (U)lr, b1 = (U)beta1, b2 = (U)beta2, e = (U)eps, decay = (U)(lr * weight_decay);
  const U a1 = (U)(1 - beta1), a2 = (U)(1 - beta2);
  for (long i = 0; i < n; i++) {
    U gi = g[i], pi = p[i];
    if (weight_decay != 0) pi -= decay * pi;
    U mi = b1 * (U)m[i] + a1 * gi;
    U vi = b2 * (U)v[i] + a2 * gi * gi;
    m[i] = (float)mi;
    v[i] = (float)vi;
    p[i] = (float)(pi - ulr * (mi * c1) / (sqrt(vi * c2) + e));
  }
}

static double cpu() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

struct State {
  std::vector<float> p, g, m, v;
};

int main(int argc, char** argv) {
  const int samples = argc > 1 ? atoi(argv[1]) : 200, steps = argc > 2 ? atoi(argv[2]) : 20;
  const long sizes[] = {144, 16, 16, 16, 4608, 32, 32, 32, 200704, 128, 1280, 10};
  State s[2];
  long total = 0;
  for (long n : sizes) total += n;
  srand(1);
  for (State& x : s) x.p.resize(total), x.g.resize(total), x.m.assign(total, 0), x.v.assign(total, 0);
  for (long i = 0; i < total; i++) {
    s[0].p[i] = s[1].p[i] = (float)rand() / RAND_MAX - 0.5f;
    s[0].g[i] = s[1].g[i] = ((float)rand() / RAND_MAX - 0.5f) * 1e-2f;
  }
  std::vector<double> t[2];
  long step = 0;
  for (int k = 0; k < samples; k++) {
    for (int which = 0; which < 2; which++) {
      State& x = s[(k + which) % 2];  // alternate which variant goes first
      const bool dbl = (k + which) % 2 == 1;
      double t0 = cpu();
      for (int r = 0; r < steps; r++) {
        long off = 0;
        for (long n : sizes) {
          if (dbl)
            adam<double>(n, &x.p[off], &x.g[off], &x.m[off], &x.v[off], 1e-3, 0.9, 0.999, 1e-8, step + r + 1, 0);
          else
            adam<float>(n, &x.p[off], &x.g[off], &x.m[off], &x.v[off], 1e-3, 0.9, 0.999, 1e-8, step + r + 1, 0);
          off += n;
        }
      }
      t[dbl].push_back((cpu() - t0) / steps);
    }
    step += steps;
  }
  double diff = 0, scale = 0;
  for (long i = 0; i < total; i++) {
    diff = std::max(diff, (double)fabsf(s[0].p[i] - s[1].p[i]));
    scale = std::max(scale, (double)fabsf(s[0].p[i]));
  }
  const char* name[2] = {"float ", "double"};
  double med[2];
  for (int d = 0; d < 2; d++) {
    std::sort(t[d].begin(), t[d].end());
    med[d] = t[d][t[d].size() / 2];
    printf("%s: %ld parameters, best %.1f us, median %.1f us a step\n", name[d], total, t[d][0] * 1e6, med[d] * 1e6);
  }
  printf("double / float: best %.3f, median %.3f; max |p_float - p_double| after %ld steps: %.3g (max |p| %.3g)\n",
         t[1][0] / t[0][0], med[1] / med[0], step, diff, scale);
  return 0;
}
