// addon.cc — the only file that knows N-API. Every exported function checks each argument (kind of typed
// array, length against the sizes it claims, ranges, aliasing) and only then calls a kernel; a bad call throws
// a TypeError or RangeError that names the argument. Kernels never see unchecked sizes.
#include <napi.h>

#if defined(_WIN32)
#include <windows.h>
#else
#include <dlfcn.h>
#endif

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "dispatch.h"
#include "kernels.h"
#include "threads.h"

namespace nodenn {
namespace {

const int64_t kMaxDim = (int64_t)1 << 31;  // any single size must be below 2^31

[[noreturn]] void type_error(Napi::Env env, const std::string& msg) { throw Napi::TypeError::New(env, msg); }
[[noreturn]] void range_error(Napi::Env env, const std::string& msg) { throw Napi::RangeError::New(env, msg); }

void expect_args(const Napi::CallbackInfo& info, size_t n, const char* signature) {
  if (info.Length() < n)
    type_error(info.Env(), std::string(signature) + ": expected " + std::to_string(n) + " arguments, got " +
                               std::to_string(info.Length()));
}

std::string describe(const Napi::Value& v) {
  if (v.IsUndefined()) return "undefined";
  if (v.IsNull()) return "null";
  if (v.IsNumber()) {
    double d = v.As<Napi::Number>().DoubleValue();
    if (std::isnan(d)) return "NaN";
    if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
    return std::to_string(d);
  }
  if (v.IsTypedArray()) {
    switch (v.As<Napi::TypedArray>().TypedArrayType()) {
      case napi_float32_array: return "Float32Array";
      case napi_float64_array: return "Float64Array";
      case napi_int32_array: return "Int32Array";
      case napi_uint8_array: return "Uint8Array";
      default: return "another typed array";
    }
  }
  if (v.IsArray()) return "an Array";
  if (v.IsString()) return "a string";
  if (v.IsBoolean()) return "a boolean";
  return "an object";
}

// A size argument: an integer in [0, 2^31).
// The argument checks below ask N-API once per argument on the success path (the value's kind comes from the
// status): a batch-1 forward makes several kernel calls of a few microseconds each, and every N-API call costs.
int64_t size_arg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  Napi::Value v = info[i];
  double d;
  if (napi_get_value_double(info.Env(), v, &d) != napi_ok)
    type_error(info.Env(), std::string(name) + " must be a number, got " + describe(v));
  if (!(d >= 0) || d >= (double)kMaxDim || d != std::floor(d))
    range_error(info.Env(), std::string(name) + " must be an integer in [0, 2^31), got " + describe(v));
  return (int64_t)d;
}

double finite_arg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  Napi::Value v = info[i];
  double d;
  if (napi_get_value_double(info.Env(), v, &d) != napi_ok)
    type_error(info.Env(), std::string(name) + " must be a number, got " + describe(v));
  if (!std::isfinite(d)) range_error(info.Env(), std::string(name) + " must be a finite number, got " + describe(v));
  return d;
}

bool bool_arg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  bool b;
  if (napi_get_value_bool(info.Env(), info[i], &b) != napi_ok)
    type_error(info.Env(), std::string(name) + " must be a boolean, got " + describe(info[i]));
  return b;
}

int64_t mul(Napi::Env env, int64_t a, int64_t b, const char* what) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r) || r >= ((int64_t)1 << 53)) range_error(env, std::string(what) + " is too large");
  return r;
}

// A typed array argument as raw memory.
struct View {
  void* data;
  int64_t length;  // elements
  napi_typedarray_type type;
  const char* name;
  bool detached = false;  // its ArrayBuffer was transferred: no memory at all
  uintptr_t begin() const { return (uintptr_t)data; }
  uintptr_t end() const { return (uintptr_t)data + (uintptr_t)length * (type == napi_float64_array ? 8 : 4); }
};

View array_arg(const Napi::CallbackInfo& info, size_t i, const char* name, const char* expected) {
  Napi::Value v = info[i];
  napi_typedarray_type type;
  size_t length;
  void* data;
  napi_value buffer;
  if (napi_get_typedarray_info(info.Env(), v, &type, &length, &data, &buffer, nullptr) != napi_ok)
    type_error(info.Env(), std::string(name) + " must be " + expected + ", got " + describe(v));
  bool detached = false;
  if (data == nullptr) {
    length = 0;  // a detached buffer has no memory at all
    if (napi_is_detached_arraybuffer(info.Env(), buffer, &detached) != napi_ok) detached = false;
  }
  return View{data, (int64_t)length, type, name, detached};
}

// An array shorter than the call needs; a detached one is named as such (the same words as src/tensor.ts).
[[noreturn]] void too_short(Napi::Env env, const View& a, int64_t need) {
  if (a.detached)
    range_error(env, std::string(a.name) +
                         "'s ArrayBuffer is detached: it was transferred (postMessage to a worker, or structuredClone "
                         "with transfer) and holds no data in this thread; copy the data (e.g. with .slice()) before "
                         "transferring it");
  range_error(env, std::string(a.name) + " has " + std::to_string(a.length) + " elements, expected at least " +
                       std::to_string(need));
}

const char* type_name(napi_typedarray_type t) {
  return t == napi_float32_array ? "Float32Array" : t == napi_float64_array ? "Float64Array" : "Int32Array";
}

// A float array of the call's dtype (fixed by its first float argument) holding at least `need` elements.
View float_arg(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t need, napi_typedarray_type* dtype) {
  View a = array_arg(info, i, name, "a Float32Array or Float64Array");
  if (a.type != napi_float32_array && a.type != napi_float64_array)
    type_error(info.Env(), std::string(name) + " must be a Float32Array or Float64Array, got " + describe(info[i]));
  if (*dtype == napi_int8_array) *dtype = a.type;  // napi_int8_array marks "not fixed yet"
  if (a.type != *dtype)
    type_error(info.Env(), std::string(name) + " must be a " + type_name(*dtype) + " like the other arrays, got " +
                               type_name(a.type));
  if (a.length < need) too_short(info.Env(), a, need);
  return a;
}

View int32_arg(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t need) {
  View a = array_arg(info, i, name, "an Int32Array");
  if (a.type != napi_int32_array)
    type_error(info.Env(), std::string(name) + " must be an Int32Array, got " + describe(info[i]));
  if (a.length < need) too_short(info.Env(), a, need);
  return a;
}

// Output memory must not partly overlap an input; exactly the same memory is allowed where `same_ok`.
void check_alias(Napi::Env env, const View& out, const View& in, bool same_ok) {
  if (out.length == 0 || in.length == 0) return;
  bool overlap = out.begin() < in.end() && in.begin() < out.end();
  if (!overlap) return;
  if (same_ok && out.begin() == in.begin()) return;
  range_error(env, std::string(out.name) + " must not share memory with " + in.name +
                       (same_ok ? " (other than being the very same array)" : ""));
}

// The settings of one JS environment (the main thread or one worker): its ISA and its thread count. The JS
// loader sets them from that environment's own process.env right after loading; nothing here is process-wide
// but the thread pool they share.
struct Settings {
  const Kernels* kernels;
  int threads;
};

Settings& settings(Napi::Env env) { return *env.GetInstanceData<Settings>(); }

// One kernel call from JS: the calling environment's table, and its thread count in force for the pool.
struct Call {
  explicit Call(const Napi::CallbackInfo& info) : Call(settings(info.Env())) {}
  explicit Call(const Settings& s) : kernels(*s.kernels), threads(s.threads) {}
  const Kernels& kernels;
  ThreadsInForce threads;
};

// Calls the float or the double kernel; the calls name the calling environment's kernel table `kern`.
#define DISPATCH(dtype, f32_call, f64_call) \
  do {                                      \
    Call call_(info);                       \
    const Kernels& kern = call_.kernels;    \
    if ((dtype) == napi_float32_array) {    \
      f32_call;                             \
    } else {                                \
      f64_call;                             \
    }                                       \
  } while (0)
#define F(v) ((float*)(v).data)
#define D(v) ((double*)(v).data)

// gemm(transA, transB, M, N, K, alpha, A, B, beta, C): C (M x N) = alpha op(A) op(B) + beta C.
Napi::Value Gemm(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  expect_args(info, 10, "gemm(transA, transB, M, N, K, alpha, A, B, beta, C)");
  bool ta = bool_arg(info, 0, "transA"), tb = bool_arg(info, 1, "transB");
  int64_t M = size_arg(info, 2, "M"), N = size_arg(info, 3, "N"), K = size_arg(info, 4, "K");
  double alpha = finite_arg(info, 5, "alpha"), beta = finite_arg(info, 8, "beta");
  napi_typedarray_type dt = napi_int8_array;
  View A = float_arg(info, 6, "A", mul(env, M, K, "M * K"), &dt);
  View B = float_arg(info, 7, "B", mul(env, K, N, "K * N"), &dt);
  View C = float_arg(info, 9, "C", mul(env, M, N, "M * N"), &dt);
  check_alias(env, C, A, false);
  check_alias(env, C, B, false);
  int64_t lda = ta ? M : K, ldb = tb ? K : N;
  bool ok;
  DISPATCH(dt, ok = kern.gemm_f32(ta, tb, M, N, K, (float)alpha, F(A), lda, F(B), ldb, (float)beta, F(C), N),
           ok = kern.gemm_f64(ta, tb, M, N, K, alpha, D(A), lda, D(B), ldb, beta, D(C), N));
  if (!ok) range_error(env, "gemm: out of memory for the packed panels");
  return env.Undefined();
}

int activation_kind(const Napi::CallbackInfo& info, size_t i) {
  if (!info[i].IsString()) type_error(info.Env(), "activation must be a string, got " + describe(info[i]));
  std::string s = info[i].As<Napi::String>().Utf8Value();
  if (s == "relu") return kRelu;
  if (s == "leakyRelu") return kLeakyRelu;
  if (s == "sigmoid") return kSigmoid;
  if (s == "tanh") return kTanh;
  if (s == "step") return kStep;
  range_error(info.Env(), "activation must be 'relu', 'leakyRelu', 'sigmoid', 'tanh' or 'step', got '" + s + "'");
}

// activationForward(kind, n, x, y, slope)
Napi::Value ActivationForward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  expect_args(info, 5, "activationForward(kind, n, x, y, slope)");
  int kind = activation_kind(info, 0);
  int64_t n = size_arg(info, 1, "n");
  napi_typedarray_type dt = napi_int8_array;
  View x = float_arg(info, 2, "x", n, &dt), y = float_arg(info, 3, "y", n, &dt);
  double slope = finite_arg(info, 4, "slope");
  check_alias(env, y, x, true);
  DISPATCH(dt, kern.activation_forward_f32(kind, n, F(x), F(y), (float)slope),
           kern.activation_forward_f64(kind, n, D(x), D(y), slope));
  return env.Undefined();
}

// activationBackward(kind, n, x, y, dy, dx, slope)
Napi::Value ActivationBackward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  expect_args(info, 7, "activationBackward(kind, n, x, y, dy, dx, slope)");
  int kind = activation_kind(info, 0);
  int64_t n = size_arg(info, 1, "n");
  napi_typedarray_type dt = napi_int8_array;
  View x = float_arg(info, 2, "x", n, &dt), y = float_arg(info, 3, "y", n, &dt);
  View dy = float_arg(info, 4, "dy", n, &dt), dx = float_arg(info, 5, "dx", n, &dt);
  double slope = finite_arg(info, 6, "slope");
  check_alias(env, dx, x, false);
  check_alias(env, dx, y, false);
  check_alias(env, dx, dy, true);
  DISPATCH(dt, kern.activation_backward_f32(kind, n, F(x), F(y), F(dy), F(dx), (float)slope),
           kern.activation_backward_f64(kind, n, D(x), D(y), D(dy), D(dx), slope));
  return env.Undefined();
}

// biasAdd(rows, cols, y, bias)
Napi::Value BiasAdd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  expect_args(info, 4, "biasAdd(rows, cols, y, bias)");
  int64_t rows = size_arg(info, 0, "rows"), cols = size_arg(info, 1, "cols");
  napi_typedarray_type dt = napi_int8_array;
  View y = float_arg(info, 2, "y", mul(env, rows, cols, "rows * cols"), &dt), b = float_arg(info, 3, "bias", cols, &dt);
  check_alias(env, y, b, false);
  DISPATCH(dt, kern.bias_add_f32(rows, cols, F(y), F(b)), kern.bias_add_f64(rows, cols, D(y), D(b)));
  return env.Undefined();
}

// biasBackward(rows, cols, dy, dbias): dbias += column sums of dy
Napi::Value BiasBackward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  expect_args(info, 4, "biasBackward(rows, cols, dy, dbias)");
  int64_t rows = size_arg(info, 0, "rows"), cols = size_arg(info, 1, "cols");
  napi_typedarray_type dt = napi_int8_array;
  View dy = float_arg(info, 2, "dy", mul(env, rows, cols, "rows * cols"), &dt);
  View db = float_arg(info, 3, "dbias", cols, &dt);
  check_alias(env, db, dy, false);
  DISPATCH(dt, kern.bias_backward_f32(rows, cols, F(dy), F(db)),
           kern.bias_backward_f64(rows, cols, D(dy), D(db)));
  return env.Undefined();
}

// softmax(rows, cols, x, y)
Napi::Value Softmax(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  expect_args(info, 4, "softmax(rows, cols, x, y)");
  int64_t rows = size_arg(info, 0, "rows"), cols = size_arg(info, 1, "cols");
  if (rows > 0 && cols == 0) range_error(env, "cols must be at least 1");
  napi_typedarray_type dt = napi_int8_array;
  int64_t n = mul(env, rows, cols, "rows * cols");
  View x = float_arg(info, 2, "x", n, &dt), y = float_arg(info, 3, "y", n, &dt);
  check_alias(env, y, x, true);
  DISPATCH(dt, kern.softmax_f32(rows, cols, F(x), F(y)), kern.softmax_f64(rows, cols, D(x), D(y)));
  return env.Undefined();
}

// The optional gradient output of the loss kernels: a float array of the call's dtype, or null/undefined.
View optional_grad(const Napi::CallbackInfo& info, size_t i, int64_t n, napi_typedarray_type* dt) {
  if (info.Length() <= i || info[i].IsNull() || info[i].IsUndefined()) return View{nullptr, 0, *dt, "grad"};
  return float_arg(info, i, "grad", n, dt);
}

// softmaxCrossEntropyIndex(rows, cols, logits, labels, grad?) -> mean loss
Napi::Value SoftmaxCrossEntropyIndex(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  expect_args(info, 4, "softmaxCrossEntropyIndex(rows, cols, logits, labels, grad)");
  int64_t rows = size_arg(info, 0, "rows"), cols = size_arg(info, 1, "cols");
  if (rows == 0 || cols == 0) range_error(env, "rows and cols must be at least 1");
  int64_t n = mul(env, rows, cols, "rows * cols");
  napi_typedarray_type dt = napi_int8_array;
  View logits = float_arg(info, 2, "logits", n, &dt);
  View labels = int32_arg(info, 3, "labels", rows);
  View grad = optional_grad(info, 4, n, &dt);
  check_alias(env, grad, logits, true);
  check_alias(env, grad, labels, false);
  // The kernel indexes with the labels: it gets a private copy of the checked values, so that nothing (writes to
  // grad over the same memory, another thread writing a SharedArrayBuffer) can change them after the check.
  std::vector<int32_t> lab_copy((const int32_t*)labels.data, (const int32_t*)labels.data + rows);
  const int32_t* lab = lab_copy.data();
  for (int64_t r = 0; r < rows; r++)
    if (lab[r] < 0 || lab[r] >= cols)
      range_error(env, "labels[" + std::to_string(r) + "] = " + std::to_string(lab[r]) + " is outside [0, " +
                           std::to_string(cols) + ")");
  double loss;
  DISPATCH(dt, loss = kern.softmax_cross_entropy_index_f32(rows, cols, F(logits), lab, F(grad)),
           loss = kern.softmax_cross_entropy_index_f64(rows, cols, D(logits), lab, D(grad)));
  return Napi::Number::New(env, loss);
}

// softmaxCrossEntropyTarget(rows, cols, logits, targets, grad?) -> mean loss
Napi::Value SoftmaxCrossEntropyTarget(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  expect_args(info, 4, "softmaxCrossEntropyTarget(rows, cols, logits, targets, grad)");
  int64_t rows = size_arg(info, 0, "rows"), cols = size_arg(info, 1, "cols");
  if (rows == 0 || cols == 0) range_error(env, "rows and cols must be at least 1");
  int64_t n = mul(env, rows, cols, "rows * cols");
  napi_typedarray_type dt = napi_int8_array;
  View logits = float_arg(info, 2, "logits", n, &dt), targets = float_arg(info, 3, "targets", n, &dt);
  View grad = optional_grad(info, 4, n, &dt);
  check_alias(env, grad, logits, true);
  check_alias(env, grad, targets, true);
  double loss;
  DISPATCH(dt, loss = kern.softmax_cross_entropy_target_f32(rows, cols, F(logits), F(targets), F(grad)),
           loss = kern.softmax_cross_entropy_target_f64(rows, cols, D(logits), D(targets), D(grad)));
  return Napi::Number::New(env, loss);
}

// sgd(n, p, g, lr): p -= lr * g
Napi::Value Sgd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  expect_args(info, 4, "sgd(n, p, g, lr)");
  int64_t n = size_arg(info, 0, "n");
  napi_typedarray_type dt = napi_int8_array;
  View p = float_arg(info, 1, "p", n, &dt), g = float_arg(info, 2, "g", n, &dt);
  double lr = finite_arg(info, 3, "lr");
  check_alias(env, p, g, false);
  DISPATCH(dt, kern.sgd_f32(n, F(p), F(g), (float)lr), kern.sgd_f64(n, D(p), D(g), lr));
  return env.Undefined();
}

// ---- net kernels: ops.cc, loss.cc, optim.cc ----

// A finite scalar restricted to [lo, hi] (or (lo, hi] when open_lo).
double ranged_arg(const Napi::CallbackInfo& info, size_t i, const char* name, double lo, double hi, bool open_lo) {
  double d = finite_arg(info, i, name);
  if ((open_lo ? !(d > lo) : !(d >= lo)) || !(d <= hi))
    range_error(info.Env(), std::string(name) + " must be in " + (open_lo ? "(" : "[") + std::to_string(lo) + ", " +
                                std::to_string(hi) + "], got " + describe(info[i]));
  return d;
}

// mul(n, a, b, y) / add / div / power: y = a op b elementwise; y may be a or b.
enum BinaryOp { kMul, kAdd, kDiv, kPower };
Napi::Value Binary(const Napi::CallbackInfo& info, BinaryOp op) {
  Napi::Env env = info.Env();
  static const char* const signatures[] = {"mul(n, a, b, y)", "add(n, a, b, y)", "div(n, a, b, y)", "power(n, a, b, y)"};
  expect_args(info, 4, signatures[op]);
  int64_t n = size_arg(info, 0, "n");
  napi_typedarray_type dt = napi_int8_array;
  View a = float_arg(info, 1, "a", n, &dt), b = float_arg(info, 2, "b", n, &dt), y = float_arg(info, 3, "y", n, &dt);
  check_alias(env, y, a, true);
  check_alias(env, y, b, true);
  switch (op) {
    case kMul: DISPATCH(dt, kern.mul_f32(n, F(a), F(b), F(y)), kern.mul_f64(n, D(a), D(b), D(y))); break;
    case kAdd: DISPATCH(dt, kern.add_f32(n, F(a), F(b), F(y)), kern.add_f64(n, D(a), D(b), D(y))); break;
    case kDiv: DISPATCH(dt, kern.div_f32(n, F(a), F(b), F(y)), kern.div_f64(n, D(a), D(b), D(y))); break;
    case kPower: DISPATCH(dt, kern.power_f32(n, F(a), F(b), F(y)), kern.power_f64(n, D(a), D(b), D(y))); break;
  }
  return env.Undefined();
}
Napi::Value Mul(const Napi::CallbackInfo& info) { return Binary(info, kMul); }
Napi::Value Add(const Napi::CallbackInfo& info) { return Binary(info, kAdd); }
Napi::Value Div(const Napi::CallbackInfo& info) { return Binary(info, kDiv); }
Napi::Value Power(const Napi::CallbackInfo& info) { return Binary(info, kPower); }

// powerBackward(n, x, e, dy, dx, de): the gradients of y = x ^ e; dx and de may each be dy, x or e, not each other.
Napi::Value PowerBackward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  expect_args(info, 6, "powerBackward(n, x, e, dy, dx, de)");
  int64_t n = size_arg(info, 0, "n");
  napi_typedarray_type dt = napi_int8_array;
  View x = float_arg(info, 1, "x", n, &dt), e = float_arg(info, 2, "e", n, &dt), dy = float_arg(info, 3, "dy", n, &dt);
  View dx = float_arg(info, 4, "dx", n, &dt), de = float_arg(info, 5, "de", n, &dt);
  for (const View* in : {&x, &e, &dy}) {
    check_alias(env, dx, *in, true);
    check_alias(env, de, *in, true);
  }
  check_alias(env, de, dx, false);
  DISPATCH(dt, kern.power_backward_f32(n, F(x), F(e), F(dy), F(dx), F(de)),
           kern.power_backward_f64(n, D(x), D(e), D(dy), D(dx), D(de)));
  return env.Undefined();
}

// scale(n, x, alpha): x *= alpha
Napi::Value Scale(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  expect_args(info, 3, "scale(n, x, alpha)");
  int64_t n = size_arg(info, 0, "n");
  napi_typedarray_type dt = napi_int8_array;
  View x = float_arg(info, 1, "x", n, &dt);
  double alpha = finite_arg(info, 2, "alpha");
  DISPATCH(dt, kern.scale_f32(n, F(x), (float)alpha), kern.scale_f64(n, D(x), alpha));
  return env.Undefined();
}

// axpy(n, alpha, x, y): y += alpha x
Napi::Value Axpy(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  expect_args(info, 4, "axpy(n, alpha, x, y)");
  int64_t n = size_arg(info, 0, "n");
  double alpha = finite_arg(info, 1, "alpha");
  napi_typedarray_type dt = napi_int8_array;
  View x = float_arg(info, 2, "x", n, &dt), y = float_arg(info, 3, "y", n, &dt);
  check_alias(env, y, x, false);
  DISPATCH(dt, kern.axpy_f32(n, (float)alpha, F(x), F(y)), kern.axpy_f64(n, alpha, D(x), D(y)));
  return env.Undefined();
}

// sumSquares(n, x) -> sum of x^2
Napi::Value SumSquares(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  expect_args(info, 2, "sumSquares(n, x)");
  int64_t n = size_arg(info, 0, "n");
  napi_typedarray_type dt = napi_int8_array;
  View x = float_arg(info, 1, "x", n, &dt);
  double s;
  DISPATCH(dt, s = kern.sum_squares_f32(n, F(x)), s = kern.sum_squares_f64(n, D(x)));
  return Napi::Number::New(env, s);
}

// argmaxRows(rows, cols, x, out): out[r] = first index of the row maximum
Napi::Value ArgmaxRows(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  expect_args(info, 4, "argmaxRows(rows, cols, x, out)");
  int64_t rows = size_arg(info, 0, "rows"), cols = size_arg(info, 1, "cols");
  if (rows > 0 && cols == 0) range_error(env, "cols must be at least 1");
  napi_typedarray_type dt = napi_int8_array;
  View x = float_arg(info, 2, "x", mul(env, rows, cols, "rows * cols"), &dt);
  View out = int32_arg(info, 3, "out", rows);
  check_alias(env, out, x, false);
  DISPATCH(dt, kern.argmax_rows_f32(rows, cols, F(x), (int32_t*)out.data),
           kern.argmax_rows_f64(rows, cols, D(x), (int32_t*)out.data));
  return env.Undefined();
}

// softmaxBackward(rows, cols, y, dy, dx): dx = y (dy - sum(dy y)) per row; dx may be dy
Napi::Value SoftmaxBackward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  expect_args(info, 5, "softmaxBackward(rows, cols, y, dy, dx)");
  int64_t rows = size_arg(info, 0, "rows"), cols = size_arg(info, 1, "cols");
  int64_t n = mul(env, rows, cols, "rows * cols");
  napi_typedarray_type dt = napi_int8_array;
  View y = float_arg(info, 2, "y", n, &dt), dy = float_arg(info, 3, "dy", n, &dt), dx = float_arg(info, 4, "dx", n, &dt);
  check_alias(env, dx, y, false);
  check_alias(env, dx, dy, true);
  DISPATCH(dt, kern.softmax_backward_f32(rows, cols, F(y), F(dy), F(dx)),
           kern.softmax_backward_f64(rows, cols, D(y), D(dy), D(dx)));
  return env.Undefined();
}

// bceLogits(n, logits, targets, grad?) / bceProbs(n, probs, targets, eps, grad?) -> mean loss
Napi::Value Bce(const Napi::CallbackInfo& info, bool from_logits) {
  Napi::Env env = info.Env();
  const char* x_name = from_logits ? "logits" : "probs";
  expect_args(info, from_logits ? 3 : 4,
              from_logits ? "bceLogits(n, logits, targets, grad)" : "bceProbs(n, probs, targets, eps, grad)");
  int64_t n = size_arg(info, 0, "n");
  if (n == 0) range_error(env, "n must be at least 1");
  napi_typedarray_type dt = napi_int8_array;
  View x = float_arg(info, 1, x_name, n, &dt), t = float_arg(info, 2, "targets", n, &dt);
  double eps = from_logits ? 0 : ranged_arg(info, 3, "eps", 0, 0.5, true);
  View grad = optional_grad(info, from_logits ? 3 : 4, n, &dt);
  check_alias(env, grad, x, true);
  check_alias(env, grad, t, true);
  double loss;
  if (from_logits)
    DISPATCH(dt, loss = kern.bce_logits_f32(n, F(x), F(t), F(grad)),
             loss = kern.bce_logits_f64(n, D(x), D(t), D(grad)));
  else
    DISPATCH(dt, loss = kern.bce_probs_f32(n, F(x), F(t), eps, F(grad)),
             loss = kern.bce_probs_f64(n, D(x), D(t), eps, D(grad)));
  return Napi::Number::New(env, loss);
}
Napi::Value BceLogits(const Napi::CallbackInfo& info) { return Bce(info, true); }
Napi::Value BceProbs(const Napi::CallbackInfo& info) { return Bce(info, false); }

// mse(rows, cols, pred, target, half, grad?) -> loss (sum over cols, mean over rows)
Napi::Value Mse(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  expect_args(info, 5, "mse(rows, cols, pred, target, half, grad)");
  int64_t rows = size_arg(info, 0, "rows"), cols = size_arg(info, 1, "cols");
  if (rows == 0 || cols == 0) range_error(env, "rows and cols must be at least 1");
  int64_t n = mul(env, rows, cols, "rows * cols");
  napi_typedarray_type dt = napi_int8_array;
  View p = float_arg(info, 2, "pred", n, &dt), t = float_arg(info, 3, "target", n, &dt);
  bool half = bool_arg(info, 4, "half");
  View grad = optional_grad(info, 5, n, &dt);
  check_alias(env, grad, p, true);
  check_alias(env, grad, t, true);
  double loss;
  DISPATCH(dt, loss = kern.mse_f32(rows, cols, F(p), F(t), half, F(grad)),
           loss = kern.mse_f64(rows, cols, D(p), D(t), half, D(grad)));
  return Napi::Number::New(env, loss);
}

// The shortest decimal that reads back as d, as JavaScript prints a number (so both backends' messages agree).
std::string js_number(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  char buf[32];
  for (int digits = 1; digits <= 17; digits++) {
    snprintf(buf, sizeof buf, "%.*g", digits, d);
    if (strtod(buf, nullptr) == d) break;
  }
  return buf;
}

// crossEntropyProbs(rows, cols, probs, targets, eps, grad?) -> -sum t log(p + eps) / rows; every p in [0, 1]
// (1e-6 of rounding above 1 allowed; NaN passes through to the loss).
Napi::Value CrossEntropyProbs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  expect_args(info, 5, "crossEntropyProbs(rows, cols, probs, targets, eps, grad)");
  int64_t rows = size_arg(info, 0, "rows"), cols = size_arg(info, 1, "cols");
  if (rows == 0 || cols == 0) range_error(env, "rows and cols must be at least 1");
  int64_t n = mul(env, rows, cols, "rows * cols");
  napi_typedarray_type dt = napi_int8_array;
  View p = float_arg(info, 2, "probs", n, &dt), t = float_arg(info, 3, "targets", n, &dt);
  double eps = finite_arg(info, 4, "eps");
  if (!(eps >= 0 && eps < 1)) range_error(env, "eps must be in [0, 1), got " + describe(info[4]));
  View grad = optional_grad(info, 5, n, &dt);
  check_alias(env, grad, p, false);  // unlike the other losses: the probabilities stay intact for the caller
  check_alias(env, grad, t, true);
  for (int64_t i = 0; i < n; i++) {
    double v = dt == napi_float32_array ? (double)F(p)[i] : D(p)[i];
    if (v < 0 || v > 1 + 1e-6)
      range_error(env, "probs[" + std::to_string(i) + "] = " + js_number(v) +
                           " is outside [0, 1]: cross-entropy takes probabilities (e.g. a Softmax output); for logits "
                           "use softmaxCrossEntropy");
  }
  double loss;
  DISPATCH(dt, loss = kern.cross_entropy_probs_f32(rows, cols, F(p), F(t), eps, F(grad)),
           loss = kern.cross_entropy_probs_f64(rows, cols, D(p), D(t), eps, D(grad)));
  return Napi::Number::New(env, loss);
}

// The parameter, gradient and state arrays of an optimizer update: same dtype, n elements, no overlaps.
struct OptimArgs {
  int64_t n;
  napi_typedarray_type dt;
  View p, g, s1, s2;
};
OptimArgs optim_args(const Napi::CallbackInfo& info, const char* s1_name, const char* s2_name) {
  Napi::Env env = info.Env();
  OptimArgs a;
  a.n = size_arg(info, 0, "n");
  a.dt = napi_int8_array;
  a.p = float_arg(info, 1, "p", a.n, &a.dt);
  a.g = float_arg(info, 2, "g", a.n, &a.dt);
  a.s1 = float_arg(info, 3, s1_name, a.n, &a.dt);
  a.s2 = s2_name ? float_arg(info, 4, s2_name, a.n, &a.dt) : View{nullptr, 0, a.dt, "none"};
  const View* all[4] = {&a.p, &a.g, &a.s1, &a.s2};
  for (int i = 0; i < 4; i++)
    for (int j = i + 1; j < 4; j++) check_alias(env, *all[i], *all[j], false);
  return a;
}

// sgdMomentum(n, p, g, v, lr, momentum, nesterov)
Napi::Value SgdMomentum(const Napi::CallbackInfo& info) {
  expect_args(info, 7, "sgdMomentum(n, p, g, v, lr, momentum, nesterov)");
  OptimArgs a = optim_args(info, "v", nullptr);
  double lr = finite_arg(info, 4, "lr"), mom = ranged_arg(info, 5, "momentum", 0, 1, false);
  bool nesterov = bool_arg(info, 6, "nesterov");
  DISPATCH(a.dt, kern.sgd_momentum_f32(a.n, F(a.p), F(a.g), F(a.s1), lr, mom, nesterov),
           kern.sgd_momentum_f64(a.n, D(a.p), D(a.g), D(a.s1), lr, mom, nesterov));
  return info.Env().Undefined();
}

// adagrad(n, p, g, h, lr, eps)
Napi::Value Adagrad(const Napi::CallbackInfo& info) {
  expect_args(info, 6, "adagrad(n, p, g, h, lr, eps)");
  OptimArgs a = optim_args(info, "h", nullptr);
  double lr = finite_arg(info, 4, "lr"), eps = ranged_arg(info, 5, "eps", 0, 1, true);
  DISPATCH(a.dt, kern.adagrad_f32(a.n, F(a.p), F(a.g), F(a.s1), lr, eps),
           kern.adagrad_f64(a.n, D(a.p), D(a.g), D(a.s1), lr, eps));
  return info.Env().Undefined();
}

// rmsprop(n, p, g, h, lr, decay, eps)
Napi::Value Rmsprop(const Napi::CallbackInfo& info) {
  expect_args(info, 7, "rmsprop(n, p, g, h, lr, decay, eps)");
  OptimArgs a = optim_args(info, "h", nullptr);
  double lr = finite_arg(info, 4, "lr"), decay = ranged_arg(info, 5, "decay", 0, 1, false);
  double eps = ranged_arg(info, 6, "eps", 0, 1, true);
  DISPATCH(a.dt, kern.rmsprop_f32(a.n, F(a.p), F(a.g), F(a.s1), lr, decay, eps),
           kern.rmsprop_f64(a.n, D(a.p), D(a.g), D(a.s1), lr, decay, eps));
  return info.Env().Undefined();
}

// adam(n, p, g, m, v, lr, beta1, beta2, eps, step, weightDecay)
Napi::Value Adam(const Napi::CallbackInfo& info) {
  expect_args(info, 11, "adam(n, p, g, m, v, lr, beta1, beta2, eps, step, weightDecay)");
  OptimArgs a = optim_args(info, "m", "v");
  double lr = finite_arg(info, 5, "lr");
  double b1 = ranged_arg(info, 6, "beta1", 0, 1, false), b2 = ranged_arg(info, 7, "beta2", 0, 1, false);
  if (b1 >= 1 || b2 >= 1) range_error(info.Env(), "beta1 and beta2 must be below 1");
  double eps = ranged_arg(info, 8, "eps", 0, 1, true);
  int64_t step = size_arg(info, 9, "step");
  if (step < 1) range_error(info.Env(), "step must be at least 1, got 0");
  double wd = finite_arg(info, 10, "weightDecay");
  if (wd < 0) range_error(info.Env(), "weightDecay must be non-negative, got " + describe(info[10]));
  DISPATCH(a.dt, kern.adam_f32(a.n, F(a.p), F(a.g), F(a.s1), F(a.s2), lr, b1, b2, eps, step, wd),
           kern.adam_f64(a.n, D(a.p), D(a.g), D(a.s1), D(a.s2), lr, b1, b2, eps, step, wd));
  return info.Env().Undefined();
}

// ---- end of net kernels ----


// conv kernels ------------------------------------------------------------------------------------------------

int64_t prod(Napi::Env env, std::initializer_list<int64_t> sizes, const char* what) {
  int64_t r = 1;
  for (int64_t s : sizes) r = mul(env, r, s, what);
  return r;
}

// Output length of a sliding window along one axis: 1 + (in + 2 pad - k) / stride, every rule checked.
int64_t window_output(Napi::Env env, int64_t in, int64_t k, int64_t stride, int64_t pad, const char* in_name,
                      const char* k_name, const char* stride_name, const char* pad_name) {
  if (k < 1) range_error(env, std::string(k_name) + " must be at least 1, got " + std::to_string(k));
  if (stride < 1) range_error(env, std::string(stride_name) + " must be at least 1, got " + std::to_string(stride));
  if (in + 2 * pad < k) {
    std::string room = pad_name ? std::string(in_name) + " + 2 * " + pad_name : std::string(in_name);
    range_error(env, std::string(k_name) + " = " + std::to_string(k) + " is larger than " + room + " = " +
                         std::to_string(in + 2 * pad));
  }
  return 1 + (in + 2 * pad - k) / stride;
}

// The 11 leading size arguments of the conv kernels: N, C, H, W, F, KH, KW, strideH, strideW, padH, padW.
ConvShape conv_shape(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ConvShape g;
  g.N = size_arg(info, 0, "N");
  g.C = size_arg(info, 1, "C");
  g.H = size_arg(info, 2, "H");
  g.W = size_arg(info, 3, "W");
  g.F = size_arg(info, 4, "F");
  g.KH = size_arg(info, 5, "KH");
  g.KW = size_arg(info, 6, "KW");
  g.sh = size_arg(info, 7, "strideH");
  g.sw = size_arg(info, 8, "strideW");
  g.ph = size_arg(info, 9, "padH");
  g.pw = size_arg(info, 10, "padW");
  g.OH = window_output(env, g.H, g.KH, g.sh, g.ph, "H", "KH", "strideH", "padH");
  g.OW = window_output(env, g.W, g.KW, g.sw, g.pw, "W", "KW", "strideW", "padW");
  // the im2col matrix of one image, (C KH KW) x (OH OW), must be addressable
  prod(env, {g.C, g.KH, g.KW, g.OH, g.OW}, "C * KH * KW * OH * OW");
  return g;
}

// The 8 leading size arguments of the pooling kernels: N, C, H, W, KH, KW, strideH, strideW.
PoolShape pool_shape(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  PoolShape g;
  g.N = size_arg(info, 0, "N");
  g.C = size_arg(info, 1, "C");
  g.H = size_arg(info, 2, "H");
  g.W = size_arg(info, 3, "W");
  g.KH = size_arg(info, 4, "KH");
  g.KW = size_arg(info, 5, "KW");
  g.sh = size_arg(info, 6, "strideH");
  g.sw = size_arg(info, 7, "strideW");
  g.OH = window_output(env, g.H, g.KH, g.sh, 0, "H", "KH", "strideH", nullptr);
  g.OW = window_output(env, g.W, g.KW, g.sw, 0, "W", "KW", "strideW", nullptr);
  if (g.H * g.W >= kMaxDim) range_error(env, "H * W must be below 2^31 (argmax holds plane indices)");
  return g;
}

// An optional float argument (null or undefined: absent).
View optional_float(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t need,
                    napi_typedarray_type* dt) {
  if (info.Length() <= i || info[i].IsNull() || info[i].IsUndefined()) return View{nullptr, 0, *dt, name};
  return float_arg(info, i, name, need, dt);
}

// No output may overlap an input or another output.
void check_disjoint(Napi::Env env, std::initializer_list<const View*> outs, std::initializer_list<const View*> ins) {
  size_t k = 0;
  for (const View* o : outs) {
    for (const View* i : ins) check_alias(env, *o, *i, false);
    size_t m = 0;
    for (const View* p : outs)
      if (m++ < k) check_alias(env, *o, *p, false);
    k++;
  }
}

#define CONV_SIGNATURE(name, arrays) name "(N, C, H, W, F, KH, KW, strideH, strideW, padH, padW, " arrays ")"

// conv2dForward(N, C, H, W, F, KH, KW, strideH, strideW, padH, padW, x, weight, bias, y[, relu[, pool]]); bias
// may be null; relu (a boolean, default false) applies max(., 0) to the output (the ReLU layer's rule, NaN kept);
// pool (default false) fuses a 2x2 stride-2 max pooling: y is then (N, F, floor(OH/2), floor(OW/2)).
Napi::Value Conv2dForward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  expect_args(info, 15, CONV_SIGNATURE("conv2dForward", "x, weight, bias, y"));
  ConvShape g = conv_shape(info);
  napi_typedarray_type dt = napi_int8_array;
  View x = float_arg(info, 11, "x", prod(env, {g.N, g.C, g.H, g.W}, "N * C * H * W"), &dt);
  View w = float_arg(info, 12, "weight", prod(env, {g.F, g.C, g.KH, g.KW}, "F * C * KH * KW"), &dt);
  View b = optional_float(info, 13, "bias", g.F, &dt);
  const bool relu = info.Length() > 15 && !info[15].IsUndefined() ? bool_arg(info, 15, "relu") : false;
  const bool pool = info.Length() > 16 && !info[16].IsUndefined() ? bool_arg(info, 16, "pool") : false;
  View y = pool ? float_arg(info, 14, "y", prod(env, {g.N, g.F, g.OH / 2, g.OW / 2}, "N * F * floor(OH / 2) * floor(OW / 2)"), &dt)
                : float_arg(info, 14, "y", prod(env, {g.N, g.F, g.OH, g.OW}, "N * F * OH * OW"), &dt);
  check_disjoint(env, {&y}, {&x, &w, &b});
  bool ok;
  DISPATCH(dt, ok = kern.conv2d_forward_f32(g, F(x), F(w), F(b), F(y), relu, pool),
           ok = kern.conv2d_forward_f64(g, D(x), D(w), D(b), D(y), relu, pool));
  if (!ok) range_error(env, "conv2dForward: out of memory for the im2col matrix");
  return env.Undefined();
}

// conv2dBackwardData(N, C, H, W, F, KH, KW, strideH, strideW, padH, padW, dy, weight, dx): dx is overwritten
Napi::Value Conv2dBackwardData(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  expect_args(info, 14, CONV_SIGNATURE("conv2dBackwardData", "dy, weight, dx"));
  ConvShape g = conv_shape(info);
  napi_typedarray_type dt = napi_int8_array;
  View dy = float_arg(info, 11, "dy", prod(env, {g.N, g.F, g.OH, g.OW}, "N * F * OH * OW"), &dt);
  View w = float_arg(info, 12, "weight", prod(env, {g.F, g.C, g.KH, g.KW}, "F * C * KH * KW"), &dt);
  View dx = float_arg(info, 13, "dx", prod(env, {g.N, g.C, g.H, g.W}, "N * C * H * W"), &dt);
  check_disjoint(env, {&dx}, {&dy, &w});
  bool ok;
  DISPATCH(dt, ok = kern.conv2d_backward_data_f32(g, F(dy), F(w), F(dx)),
           ok = kern.conv2d_backward_data_f64(g, D(dy), D(w), D(dx)));
  if (!ok) range_error(env, "conv2dBackwardData: out of memory for the im2col matrix");
  return env.Undefined();
}

// conv2dBackwardFilter(N, C, H, W, F, KH, KW, strideH, strideW, padH, padW, x, dy, dweight, dbias):
// dweight and dbias (may be null) accumulate
Napi::Value Conv2dBackwardFilter(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  expect_args(info, 14, CONV_SIGNATURE("conv2dBackwardFilter", "x, dy, dweight, dbias"));  // dbias optional
  ConvShape g = conv_shape(info);
  napi_typedarray_type dt = napi_int8_array;
  View x = float_arg(info, 11, "x", prod(env, {g.N, g.C, g.H, g.W}, "N * C * H * W"), &dt);
  View dy = float_arg(info, 12, "dy", prod(env, {g.N, g.F, g.OH, g.OW}, "N * F * OH * OW"), &dt);
  View dw = float_arg(info, 13, "dweight", prod(env, {g.F, g.C, g.KH, g.KW}, "F * C * KH * KW"), &dt);
  View db = optional_float(info, 14, "dbias", g.F, &dt);
  check_disjoint(env, {&dw, &db}, {&x, &dy});
  bool ok;
  DISPATCH(dt, ok = kern.conv2d_backward_filter_f32(g, F(x), F(dy), F(dw), F(db)),
           ok = kern.conv2d_backward_filter_f64(g, D(x), D(dy), D(dw), D(db)));
  if (!ok) range_error(env, "conv2dBackwardFilter: out of memory for the im2col matrix");
  return env.Undefined();
}

#define POOL_SIGNATURE(name, arrays) name "(N, C, H, W, KH, KW, strideH, strideW, " arrays ")"

// maxPool2dForward(N, C, H, W, KH, KW, strideH, strideW, x, y, argmax)
Napi::Value MaxPool2dForward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  expect_args(info, 11, POOL_SIGNATURE("maxPool2dForward", "x, y, argmax"));
  PoolShape g = pool_shape(info);
  int64_t out = prod(env, {g.N, g.C, g.OH, g.OW}, "N * C * OH * OW");
  napi_typedarray_type dt = napi_int8_array;
  View x = float_arg(info, 8, "x", prod(env, {g.N, g.C, g.H, g.W}, "N * C * H * W"), &dt);
  View y = float_arg(info, 9, "y", out, &dt);
  View arg = int32_arg(info, 10, "argmax", out);
  check_disjoint(env, {&y, &arg}, {&x});
  DISPATCH(dt, kern.max_pool2d_forward_f32(g, F(x), F(y), (int32_t*)arg.data),
           kern.max_pool2d_forward_f64(g, D(x), D(y), (int32_t*)arg.data));
  return env.Undefined();
}

// maxPool2dBackward(N, C, H, W, KH, KW, strideH, strideW, dy, argmax, dx): dx is overwritten
Napi::Value MaxPool2dBackward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  expect_args(info, 11, POOL_SIGNATURE("maxPool2dBackward", "dy, argmax, dx"));
  PoolShape g = pool_shape(info);
  int64_t out = prod(env, {g.N, g.C, g.OH, g.OW}, "N * C * OH * OW");
  napi_typedarray_type dt = napi_int8_array;
  View dy = float_arg(info, 8, "dy", out, &dt);
  View arg = int32_arg(info, 9, "argmax", out);
  View dx = float_arg(info, 10, "dx", prod(env, {g.N, g.C, g.H, g.W}, "N * C * H * W"), &dt);
  check_disjoint(env, {&dx}, {&dy, &arg});
  // The kernel writes at these indices: it gets a private copy of the checked values (a SharedArrayBuffer could
  // change under it after the check).
  std::vector<int32_t> arg_copy((const int32_t*)arg.data, (const int32_t*)arg.data + out);
  const int32_t* a = arg_copy.data();
  for (int64_t i = 0; i < out; i++)
    if (a[i] < 0 || a[i] >= g.H * g.W)
      range_error(env, "argmax[" + std::to_string(i) + "] = " + std::to_string(a[i]) + " is outside [0, H * W = " +
                           std::to_string(g.H * g.W) + ")");
  DISPATCH(dt, kern.max_pool2d_backward_f32(g, F(dy), a, F(dx)),
           kern.max_pool2d_backward_f64(g, D(dy), a, D(dx)));
  return env.Undefined();
}

// avgPool2dForward(N, C, H, W, KH, KW, strideH, strideW, x, y)
Napi::Value AvgPool2dForward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  expect_args(info, 10, POOL_SIGNATURE("avgPool2dForward", "x, y"));
  PoolShape g = pool_shape(info);
  napi_typedarray_type dt = napi_int8_array;
  View x = float_arg(info, 8, "x", prod(env, {g.N, g.C, g.H, g.W}, "N * C * H * W"), &dt);
  View y = float_arg(info, 9, "y", prod(env, {g.N, g.C, g.OH, g.OW}, "N * C * OH * OW"), &dt);
  check_disjoint(env, {&y}, {&x});
  DISPATCH(dt, kern.avg_pool2d_forward_f32(g, F(x), F(y)), kern.avg_pool2d_forward_f64(g, D(x), D(y)));
  return env.Undefined();
}

// avgPool2dBackward(N, C, H, W, KH, KW, strideH, strideW, dy, dx): dx is overwritten
Napi::Value AvgPool2dBackward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  expect_args(info, 10, POOL_SIGNATURE("avgPool2dBackward", "dy, dx"));
  PoolShape g = pool_shape(info);
  napi_typedarray_type dt = napi_int8_array;
  View dy = float_arg(info, 8, "dy", prod(env, {g.N, g.C, g.OH, g.OW}, "N * C * OH * OW"), &dt);
  View dx = float_arg(info, 9, "dx", prod(env, {g.N, g.C, g.H, g.W}, "N * C * H * W"), &dt);
  check_disjoint(env, {&dx}, {&dy});
  DISPATCH(dt, kern.avg_pool2d_backward_f32(g, F(dy), F(dx)), kern.avg_pool2d_backward_f64(g, D(dy), D(dx)));
  return env.Undefined();
}

// batchNormForward(N, C, S, x, gamma, beta, y, mean, invstd, runningMean, runningVar, training, momentum, eps)
Napi::Value BatchNormForward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  expect_args(info, 14,
              "batchNormForward(N, C, S, x, gamma, beta, y, mean, invstd, runningMean, runningVar, training, "
              "momentum, eps)");
  int64_t N = size_arg(info, 0, "N"), C = size_arg(info, 1, "C"), S = size_arg(info, 2, "S");
  int64_t n = prod(env, {N, C, S}, "N * C * S");
  napi_typedarray_type dt = napi_int8_array;
  View x = float_arg(info, 3, "x", n, &dt);
  View gamma = float_arg(info, 4, "gamma", C, &dt), beta = float_arg(info, 5, "beta", C, &dt);
  View y = float_arg(info, 6, "y", n, &dt);
  View mean = float_arg(info, 7, "mean", C, &dt), invstd = float_arg(info, 8, "invstd", C, &dt);
  View rm = float_arg(info, 9, "runningMean", C, &dt), rv = float_arg(info, 10, "runningVar", C, &dt);
  bool training = bool_arg(info, 11, "training");
  double momentum = finite_arg(info, 12, "momentum"), eps = finite_arg(info, 13, "eps");
  if (momentum < 0 || momentum > 1) range_error(env, "momentum must be in [0, 1], got " + describe(info[12]));
  if (!(eps > 0)) range_error(env, "eps must be positive, got " + describe(info[13]));
  if (training && C > 0 && N * S < 2)
    range_error(env, "batch norm in training needs more than one value per channel, got N * S = " +
                         std::to_string(N * S));
  check_alias(env, y, x, true);
  check_disjoint(env, {&y, &mean, &invstd, &rm, &rv}, {&gamma, &beta});
  check_disjoint(env, {&mean, &invstd, &rm, &rv}, {&x});
  DISPATCH(dt,
           kern.batch_norm_forward_f32(N, C, S, F(x), F(gamma), F(beta), F(y), F(mean), F(invstd), F(rm), F(rv),
                                            training, (float)momentum, (float)eps),
           kern.batch_norm_forward_f64(N, C, S, D(x), D(gamma), D(beta), D(y), D(mean), D(invstd), D(rm), D(rv),
                                            training, momentum, eps));
  return env.Undefined();
}

// batchNormBackward(N, C, S, x, dy, gamma, mean, invstd, dx, dgamma, dbeta, training): dx is overwritten (it may
// be dy), dgamma and dbeta accumulate
Napi::Value BatchNormBackward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  expect_args(info, 12, "batchNormBackward(N, C, S, x, dy, gamma, mean, invstd, dx, dgamma, dbeta, training)");
  int64_t N = size_arg(info, 0, "N"), C = size_arg(info, 1, "C"), S = size_arg(info, 2, "S");
  int64_t n = prod(env, {N, C, S}, "N * C * S");
  napi_typedarray_type dt = napi_int8_array;
  View x = float_arg(info, 3, "x", n, &dt), dy = float_arg(info, 4, "dy", n, &dt);
  View gamma = float_arg(info, 5, "gamma", C, &dt);
  View mean = float_arg(info, 6, "mean", C, &dt), invstd = float_arg(info, 7, "invstd", C, &dt);
  View dx = float_arg(info, 8, "dx", n, &dt);
  View dgamma = float_arg(info, 9, "dgamma", C, &dt), dbeta = float_arg(info, 10, "dbeta", C, &dt);
  bool training = bool_arg(info, 11, "training");
  check_alias(env, dx, dy, true);
  check_disjoint(env, {&dx, &dgamma, &dbeta}, {&x, &gamma, &mean, &invstd});
  check_disjoint(env, {&dgamma, &dbeta}, {&dy});
  DISPATCH(dt,
           kern.batch_norm_backward_f32(N, C, S, F(x), F(dy), F(gamma), F(mean), F(invstd), F(dx), F(dgamma),
                                             F(dbeta), training),
           kern.batch_norm_backward_f64(N, C, S, D(x), D(dy), D(gamma), D(mean), D(invstd), D(dx), D(dgamma),
                                             D(dbeta), training));
  return env.Undefined();
}

Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Settings& s = settings(env);
  Napi::Object o = Napi::Object::New(env);
  o.Set("isa", s.kernels->isa);
  o.Set("bestIsa", best_isa());
  Napi::Array supported = Napi::Array::New(env);
  uint32_t k = 0;
  for (const char* isa : {"scalar", "avx2", "avx512"})
    if (isa_supported(isa)) supported.Set(k++, isa);
  o.Set("supportedIsas", supported);
  o.Set("threads", s.threads);
  o.Set("napiVersion", NAPI_VERSION);
  return o;
}

// setIsa(name): this environment's ISA; throws if unknown or not supported by this CPU.
Napi::Value SetIsa(const Napi::CallbackInfo& info) {
  expect_args(info, 1, "setIsa(isa)");
  if (!info[0].IsString()) type_error(info.Env(), "isa must be a string, got " + describe(info[0]));
  std::string err;
  const Kernels* table = isa_table(info[0].As<Napi::String>().Utf8Value(), &err);
  if (!table) range_error(info.Env(), "isa: " + err);
  settings(info.Env()).kernels = table;
  return info.Env().Undefined();
}

// setThreads(n), 1 <= n <= kMaxThreads: this environment's thread count.
Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  expect_args(info, 1, "setThreads(n)");
  int64_t n = size_arg(info, 0, "n");
  if (n < 1 || n > kMaxThreads)
    range_error(info.Env(), "n must be between 1 and " + std::to_string(kMaxThreads) + ", got " + std::to_string(n));
  Settings& s = settings(info.Env());
  request_threads(s.threads, (int)n);
  s.threads = (int)n;
  return info.Env().Undefined();
}

// Keeps this module loaded until the process ends. Node unloads an addon when the last environment that loaded
// it goes away (a worker that exits while the main thread never loaded it); the pool's workers would then run
// unmapped code, and a later load would start a second pool beside them.
void stay_resident() {
#if defined(_WIN32)
  HMODULE self;
  GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS | GET_MODULE_HANDLE_EX_FLAG_PIN,
                     (LPCWSTR)(void*)&stay_resident, &self);
#else
  Dl_info self;
  if (dladdr((void*)&stay_resident, &self) && self.dli_fname)
    dlopen(self.dli_fname, RTLD_LAZY | RTLD_NOLOAD | RTLD_NODELETE);  // never closed
#endif
}

// At the environment's teardown: its thread count no longer counts (with no environment left, the pool stops).
void release_settings(Napi::Env, Settings* s) {
  request_threads(s->threads, 0);
  delete s;
}

// Runs once per environment that loads the addon. Until the JS loader says otherwise: the best ISA, and as many
// threads as the hardware has.
Napi::Object Init(Napi::Env env, Napi::Object exports) {
  static std::once_flag resident;
  std::call_once(resident, stay_resident);
  std::string err;
  unsigned hw = std::thread::hardware_concurrency();
  Settings* s = new Settings{isa_table(best_isa(), &err), std::max(1, std::min((int)hw, kMaxThreads))};
  request_threads(0, s->threads);
  env.SetInstanceData<Settings, release_settings>(s);
  exports.Set("info", Napi::Function::New(env, Info));
  exports.Set("setIsa", Napi::Function::New(env, SetIsa));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads));
  exports.Set("gemm", Napi::Function::New(env, Gemm));
  exports.Set("activationForward", Napi::Function::New(env, ActivationForward));
  exports.Set("activationBackward", Napi::Function::New(env, ActivationBackward));
  exports.Set("biasAdd", Napi::Function::New(env, BiasAdd));
  exports.Set("biasBackward", Napi::Function::New(env, BiasBackward));
  exports.Set("softmax", Napi::Function::New(env, Softmax));
  exports.Set("softmaxCrossEntropyIndex", Napi::Function::New(env, SoftmaxCrossEntropyIndex));
  exports.Set("softmaxCrossEntropyTarget", Napi::Function::New(env, SoftmaxCrossEntropyTarget));
  exports.Set("sgd", Napi::Function::New(env, Sgd));
  // net kernels
  exports.Set("mul", Napi::Function::New(env, Mul));
  exports.Set("add", Napi::Function::New(env, Add));
  exports.Set("div", Napi::Function::New(env, Div));
  exports.Set("power", Napi::Function::New(env, Power));
  exports.Set("powerBackward", Napi::Function::New(env, PowerBackward));
  exports.Set("scale", Napi::Function::New(env, Scale));
  exports.Set("axpy", Napi::Function::New(env, Axpy));
  exports.Set("sumSquares", Napi::Function::New(env, SumSquares));
  exports.Set("argmaxRows", Napi::Function::New(env, ArgmaxRows));
  exports.Set("softmaxBackward", Napi::Function::New(env, SoftmaxBackward));
  exports.Set("bceLogits", Napi::Function::New(env, BceLogits));
  exports.Set("bceProbs", Napi::Function::New(env, BceProbs));
  exports.Set("mse", Napi::Function::New(env, Mse));
  exports.Set("crossEntropyProbs", Napi::Function::New(env, CrossEntropyProbs));
  exports.Set("sgdMomentum", Napi::Function::New(env, SgdMomentum));
  exports.Set("adagrad", Napi::Function::New(env, Adagrad));
  exports.Set("rmsprop", Napi::Function::New(env, Rmsprop));
  exports.Set("adam", Napi::Function::New(env, Adam));
  // conv kernels
  exports.Set("conv2dForward", Napi::Function::New(env, Conv2dForward));
  exports.Set("conv2dBackwardData", Napi::Function::New(env, Conv2dBackwardData));
  exports.Set("conv2dBackwardFilter", Napi::Function::New(env, Conv2dBackwardFilter));
  exports.Set("maxPool2dForward", Napi::Function::New(env, MaxPool2dForward));
  exports.Set("maxPool2dBackward", Napi::Function::New(env, MaxPool2dBackward));
  exports.Set("avgPool2dForward", Napi::Function::New(env, AvgPool2dForward));
  exports.Set("avgPool2dBackward", Napi::Function::New(env, AvgPool2dBackward));
  exports.Set("batchNormForward", Napi::Function::New(env, BatchNormForward));
  exports.Set("batchNormBackward", Napi::Function::New(env, BatchNormBackward));
  return exports;
}

}  // namespace
}  // namespace nodenn

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return nodenn::Init(env, exports); }
NODE_API_MODULE(nodenn, InitAddon)
