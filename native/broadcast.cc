// broadcast.cc — element-wise binary operations and where() with NumPy broadcasting, over shapes of 4 axes (the
// TS ops collapse longer shapes into 4 first). Each operand is read through strides that are 0 on the axes it is
// broadcast along. The output is walked in row-major order, one run of the innermost axis at a time, each run a
// contiguous loop vectorized for the four cases of the inner strides (both contiguous, a scalar on either side,
// both scalars). Compiled once per ISA (simd.h picks the width). Large outputs run in fixed chunks on the pool
// (chunks.h): every output element depends on its own inputs only, so results never depend on the thread count.
#include <math.h>

#include "chunks.h"
#include "kernels.h"
#include "simd.h"

namespace nodenn {
namespace NODENN_ISA_NS {
namespace {

// The operations, each as a scalar function and (where the vector form is exact) a vector one. NaN rules: the
// arithmetic is IEEE; maximum/minimum return NaN if either side is NaN; comparisons with NaN are false (ne true).
template <typename T> struct Ops {
  typedef typename Vec<T>::V V;
  // x in every lane; not V{} + x, which turns -0 into +0 (+0 + -0 is +0 in IEEE arithmetic)
  static V splat(T x) { return x - V{}; }
  struct Add {
    enum { vec = 1 };
    static T s(T a, T b) { return a + b; }
    static V v(V a, V b) { return a + b; }
  };
  struct Sub {
    enum { vec = 1 };
    static T s(T a, T b) { return a - b; }
    static V v(V a, V b) { return a - b; }
  };
  struct Mul {
    enum { vec = 1 };
    static T s(T a, T b) { return a * b; }
    static V v(V a, V b) { return a * b; }
  };
  struct Div {
    enum { vec = 1 };
    static T s(T a, T b) { return a / b; }
    static V v(V a, V b) { return a / b; }
  };
  struct Pow {  // in double, as the TS backend's Math.pow
    enum { vec = 0 };
    static T s(T a, T b) { return (T)::pow((double)a, (double)b); }
    static V v(V a, V) { return a; }
  };
  struct Maximum {
    enum { vec = 1 };
    static T s(T a, T b) { return (a > b || a != a) ? a : b; }
    static V v(V a, V b) { return (a > b || a != a) ? a : b; }
  };
  struct Minimum {
    enum { vec = 1 };
    static T s(T a, T b) { return (a < b || a != a) ? a : b; }
    static V v(V a, V b) { return (a < b || a != a) ? a : b; }
  };
#define NODENN_COMPARISON(Name, op)                                 \
  struct Name {                                                     \
    enum { vec = 1 };                                               \
    static T s(T a, T b) { return a op b ? T(1) : T(0); }           \
    static V v(V a, V b) { return (a op b) ? splat(1) : splat(0); } \
  };
  NODENN_COMPARISON(Gt, >)
  NODENN_COMPARISON(Ge, >=)
  NODENN_COMPARISON(Lt, <)
  NODENN_COMPARISON(Le, <=)
  NODENN_COMPARISON(Eq, ==)
  NODENN_COMPARISON(Ne, !=)
#undef NODENN_COMPARISON
};

// y[0, n) = op(a[i * sa], b[i * sb]) with sa, sb in {0, 1}: a contiguous run, each side contiguous or one value.
template <typename Op, typename T> inline void binary_run(long n, const T* a, long sa, const T* b, long sb, T* y) {
  typedef typename Vec<T>::V V;
  typedef typename Vec<T>::U U;
  const long L = Vec<T>::L;
  long i = 0;
  if (sa && sb) {
    if (Op::vec)
      for (; i + L <= n; i += L) *(U*)(y + i) = Op::v(*(const U*)(a + i), *(const U*)(b + i));
    for (; i < n; i++) y[i] = Op::s(a[i], b[i]);
  } else if (sa) {
    const T bs = b[0];
    if (Op::vec) {
      const V bv = Ops<T>::splat(bs);
      for (; i + L <= n; i += L) *(U*)(y + i) = Op::v(*(const U*)(a + i), bv);
    }
    for (; i < n; i++) y[i] = Op::s(a[i], bs);
  } else if (sb) {
    const T as = a[0];
    if (Op::vec) {
      const V av = Ops<T>::splat(as);
      for (; i + L <= n; i += L) *(U*)(y + i) = Op::v(av, *(const U*)(b + i));
    }
    for (; i < n; i++) y[i] = Op::s(as, b[i]);
  } else {
    const T v = Op::s(a[0], b[0]);
    for (; i < n; i++) y[i] = v;
  }
}

// The walk over a broadcast 4-axis shape: the output's sizes and each operand's strides (0 where broadcast).
struct Walk {
  long y[4];
  long s[3][4];  // strides of up to three operands
  long count;    // elements of y
};

// Sets w.count to the elements of y and says whether there are any. A 0 size is looked for before multiplying: an
// empty output's other sizes are not bounded by any array (they may be 2^30 each), so their product could overflow.
// Without a 0, the product is y's length, which the argument checks have bounded.
inline bool output_count(Walk& w) {
  w.count = 0;
  for (int i = 0; i < 4; i++)
    if (w.y[i] == 0) return false;
  w.count = w.y[0] * w.y[1] * w.y[2] * w.y[3];
  return true;
}

// Strides of an operand of sizes d (row-major) read as the output's shape: 0 on its size-1 axes.
inline void operand_strides(const long* d, long* s) {
  long stride = 1;
  for (int i = 3; i >= 0; i--) {
    s[i] = d[i] == 1 ? 0 : stride;
    stride *= d[i];
  }
}

// Calls run(i, offsets, len) for every maximal run [i, i + len) of [begin, end) within one innermost row, with the
// operands' offsets at its first element.
template <int K, typename F> inline void walk_runs(const Walk& w, long begin, long end, const F& run) {
  const long inner = w.y[3];
  long i = begin;
  while (i < end) {
    const long row = i / inner, c = i - row * inner;
    const long len = inner - c < end - i ? inner - c : end - i;
    const long i2 = row % w.y[2], r1 = row / w.y[2];
    const long i1 = r1 % w.y[1], i0 = r1 / w.y[1];
    long off[K];
    for (int k = 0; k < K; k++) off[k] = i0 * w.s[k][0] + i1 * w.s[k][1] + i2 * w.s[k][2] + c * w.s[k][3];
    run(i, off, len);
    i += len;
  }
}

template <typename Op, typename T> void binary_walk(const Walk& w, const T* a, const T* b, T* y) {
  const long sa = w.s[0][3], sb = w.s[1][3];
  for_chunks(
      w.count,
      [&](long begin, long end) {
        walk_runs<2>(w, begin, end, [&](long i, const long* off, long len) {
          binary_run<Op>(len, a + off[0], sa, b + off[1], sb, y + i);
        });
      },
      Op::vec ? (long)kChunk : (long)kChunk / 4, Op::vec ? (long)kParallelMin : (long)kChunk / 2);
}

}  // namespace

// y = op(a, b) with NumPy broadcasting of a (a0..a3) and b (b0..b3); y may be a or b (then of y's shape, and each
// element is read before it is written)
template <typename T>
void broadcast_binary(int op, long a0, long a1, long a2, long a3, long b0, long b1, long b2, long b3, const T* a,
                      const T* b, T* y) {
  const long da[4] = {a0, a1, a2, a3}, db[4] = {b0, b1, b2, b3};
  Walk w;
  for (int i = 0; i < 4; i++) w.y[i] = da[i] == 1 ? db[i] : da[i];
  if (!output_count(w)) return;
  operand_strides(da, w.s[0]);
  operand_strides(db, w.s[1]);
  typedef Ops<T> O;
  switch (op) {
    case kBinaryAdd: binary_walk<typename O::Add>(w, a, b, y); break;
    case kBinarySub: binary_walk<typename O::Sub>(w, a, b, y); break;
    case kBinaryMul: binary_walk<typename O::Mul>(w, a, b, y); break;
    case kBinaryDiv: binary_walk<typename O::Div>(w, a, b, y); break;
    case kBinaryPow: binary_walk<typename O::Pow>(w, a, b, y); break;
    case kBinaryMaximum: binary_walk<typename O::Maximum>(w, a, b, y); break;
    case kBinaryMinimum: binary_walk<typename O::Minimum>(w, a, b, y); break;
    case kBinaryGt: binary_walk<typename O::Gt>(w, a, b, y); break;
    case kBinaryGe: binary_walk<typename O::Ge>(w, a, b, y); break;
    case kBinaryLt: binary_walk<typename O::Lt>(w, a, b, y); break;
    case kBinaryLe: binary_walk<typename O::Le>(w, a, b, y); break;
    case kBinaryEq: binary_walk<typename O::Eq>(w, a, b, y); break;
    case kBinaryNe: binary_walk<typename O::Ne>(w, a, b, y); break;
  }
}

// broadcast_binary for operands of one shape (n elements each): the same walk, hence the same bits
template <typename T> void binary_same(int op, long n, const T* a, const T* b, T* y) {
  broadcast_binary<T>(op, 1, 1, 1, n, 1, 1, 1, n, a, b, y);
}

// y = cond != 0 ? a : b (NaN counts as true) with NumPy broadcasting of cond, a and b; y may be a or b
template <typename T>
void broadcast_where(long c0, long c1, long c2, long c3, long a0, long a1, long a2, long a3, long b0, long b1, long b2,
                     long b3, const T* cond, const T* a, const T* b, T* y) {
  const long d[3][4] = {{c0, c1, c2, c3}, {a0, a1, a2, a3}, {b0, b1, b2, b3}};
  Walk w;
  for (int i = 0; i < 4; i++) {
    w.y[i] = 1;
    for (int k = 0; k < 3; k++)
      if (d[k][i] != 1) w.y[i] = d[k][i];
  }
  if (!output_count(w)) return;
  for (int k = 0; k < 3; k++) operand_strides(d[k], w.s[k]);
  const long sc = w.s[0][3], sa = w.s[1][3], sb = w.s[2][3];
  for_chunks(w.count, [&](long begin, long end) {
    walk_runs<3>(w, begin, end, [&](long i, const long* off, long len) {
      const T* cr = cond + off[0];
      const T* ar = a + off[1];
      const T* br = b + off[2];
      T* yr = y + i;
      if (sc && sa && sb) {
        for (long j = 0; j < len; j++) yr[j] = cr[j] != 0 ? ar[j] : br[j];
      } else {
        for (long j = 0; j < len; j++) yr[j] = cr[j * sc] != 0 ? ar[j * sa] : br[j * sb];
      }
    });
  });
}

NODENN_KERNELS_BROADCAST(NODENN_INSTANTIATE)

}  // namespace NODENN_ISA_NS
}  // namespace nodenn
