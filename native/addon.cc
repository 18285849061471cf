// addon.cc — the only file that knows N-API. Every kernel call is read by the kernel spec's table for that kernel
// (args.h, args.gen.h): each argument is checked (kind of value or typed array, ranges, length against the sizes
// it claims, aliasing, indices) before the kernel runs, and a bad call throws a TypeError or RangeError that names
// the argument, in the words of the TS backend (src/backend/ts/checks.ts reads the same spec in the same order).
// Kernels never see unchecked sizes.
#include <napi.h>

#if defined(_WIN32)
#include <windows.h>
#else
#include <dlfcn.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#endif
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <type_traits>
#include <unordered_set>
#include <vector>

#include "args.h"
#include "dispatch.h"
#include "kernels.h"
#include "threads.h"

namespace nodenn {
namespace {

// A number as JavaScript's Number.prototype.toString writes it: the shortest decimal that reads back as d, in
// plain notation from 1e-6 to 1e21 and in exponent notation outside, so that both backends' messages agree.
std::string js_number(double d) {
  if (std::isnan(d)) return "NaN";
  if (d == 0) return "0";
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  const std::string sign = d < 0 ? "-" : "";
  d = std::fabs(d);
  char buf[32];
  for (int precision = 0; precision < 17; precision++) {
    snprintf(buf, sizeof buf, "%.*e", precision, d);
    if (strtod(buf, nullptr) == d) break;
  }
  std::string digits;  // "d.ddde+x" -> "dddd", the value being 0.dddd * 10^n
  const char* c = buf;
  for (; *c != 'e'; c++)
    if (*c != '.') digits += *c;
  const int n = atoi(c + 1) + 1;
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  const int k = (int)digits.size();
  if (k <= n && n <= 21) return sign + digits + std::string(n - k, '0');
  if (0 < n && n <= 21) return sign + digits.substr(0, n) + "." + digits.substr(n);
  if (-6 < n && n <= 0) return sign + "0." + std::string(-n, '0') + digits;
  const std::string exponent = (n - 1 < 0 ? "-" : "+") + std::to_string(std::abs(n - 1));
  return sign + digits.substr(0, 1) + (k > 1 ? "." + digits.substr(1) : "") + "e" + exponent;
}

const char* typed_array_name(napi_typedarray_type t) {
  switch (t) {
    case napi_int8_array: return "Int8Array";
    case napi_uint8_array: return "Uint8Array";
    case napi_uint8_clamped_array: return "Uint8ClampedArray";
    case napi_int16_array: return "Int16Array";
    case napi_uint16_array: return "Uint16Array";
    case napi_int32_array: return "Int32Array";
    case napi_uint32_array: return "Uint32Array";
    case napi_float32_array: return "Float32Array";
    case napi_float64_array: return "Float64Array";
    case napi_bigint64_array: return "BigInt64Array";
    case napi_biguint64_array: return "BigUint64Array";
    default: return "a typed array";
  }
}

// A value as error messages show it (src/backend/ts/checks.ts describe() says the same).
std::string describe(napi_env env, napi_value v) {
  napi_valuetype t = napi_object;
  napi_typeof(env, v, &t);
  switch (t) {
    case napi_undefined: return "undefined";
    case napi_null: return "null";
    case napi_boolean: return "a boolean";
    case napi_number: {
      double d = 0;
      napi_get_value_double(env, v, &d);
      return js_number(d);
    }
    case napi_string: return "a string";
    case napi_symbol: return "a symbol";
    case napi_function: return "a function";
    case napi_bigint: return "a bigint";
    default: break;
  }
  bool is = false;
  if (napi_is_typedarray(env, v, &is) == napi_ok && is) {
    napi_typedarray_type type;
    napi_get_typedarray_info(env, v, &type, nullptr, nullptr, nullptr, nullptr);
    return typed_array_name(type);
  }
  if (napi_is_dataview(env, v, &is) == napi_ok && is) return "a DataView";
  if (napi_is_array(env, v, &is) == napi_ok && is) return "an Array";
  return "an object";
}

// ", got <the value>", the tail of most messages.
struct Got {
  napi_env env;
  napi_value value;
};

void append(std::string& s, const char* part) { s += part; }
void append(std::string& s, const std::string& part) { s += part; }
void append(std::string& s, Got got) { s += ", got " + describe(got.env, got.value); }
template <typename I, typename = std::enable_if_t<std::is_integral_v<I>>> void append(std::string& s, I part) {
  s += std::to_string(part);
}

#if defined(__GNUC__)
#define NODENN_COLD __attribute__((cold, noinline))
#define NODENN_INLINE inline __attribute__((always_inline))
#else
#define NODENN_COLD __declspec(noinline)
#define NODENN_INLINE __forceinline
#endif

// Throws a TypeError or RangeError whose message is the parts in order. Out of line and marked cold, so that the
// checks' success path stays short.
enum ErrorType { kTypeError, kRangeError };
template <typename... Parts> [[noreturn]] NODENN_COLD void fail(napi_env env, ErrorType type, const Parts&... parts) {
  std::string message;
  (append(message, parts), ...);
  if (type == kTypeError) throw Napi::TypeError::New(env, message);
  throw Napi::RangeError::New(env, message);
}

// A size: an integer in [0, 2^31).
// The checks ask N-API once per argument on the success path (the value's kind comes from the status): a
// batch-1 forward makes several kernel calls of a few microseconds each, and every N-API call costs.
NODENN_INLINE int64_t size_value(napi_env env, napi_value v, const char* name) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok) fail(env, kTypeError, name, " must be a number", Got{env, v});
  if (!(d >= 0) || d >= (double)kMaxSize || d != std::floor(d))
    fail(env, kRangeError, name, " must be an integer in [0, 2^31)", Got{env, v});
  return (int64_t)d;
}

void expect_args(const Napi::CallbackInfo& info, size_t n, const char* signature) {
  if (info.Length() < n) fail(info.Env(), kTypeError, signature, ": expected ", n, " arguments, got ", info.Length());
}

// A product of sizes: 0 when any factor is 0 (an empty array, however large the others), else below kMaxProduct.
int64_t checked_product(napi_env env, std::initializer_list<int64_t> factors, const char* text) {
  for (int64_t f : factors)
    if (f == 0) return 0;
  int64_t r = 1;
  for (int64_t f : factors)
    if (__builtin_mul_overflow(r, f, &r) || r >= kMaxProduct) fail(env, kRangeError, text, " is too large");
  return r;
}

// The settings of one JS environment (the main thread or one worker): its ISA and its thread count. The JS
// loader sets them from that environment's own process.env right after loading; nothing here is process-wide
// but the thread pool they share.
struct AsyncQueue;
struct PreparedPlan;
struct Settings {
  const Kernels* kernels;
  int threads;
  std::shared_ptr<AsyncQueue> queue;
  // the live plans of planPrepare: a run takes only these (an external of another kind is never read)
  std::unordered_set<const PreparedPlan*> plans;
};

Settings& settings(Napi::Env env) { return *env.GetInstanceData<Settings>(); }

// One kernel call from JS: the calling environment's table, and its thread count in force for the pool.
struct Call {
  explicit Call(const Settings& s) : kernels(*s.kernels), threads(s.threads) {}
  const Kernels& kernels;
  ThreadsInForce threads;
};

// A typed array argument as raw memory.
struct View {
  void* data;
  int64_t length;  // elements
  napi_typedarray_type type;
  uintptr_t begin() const { return (uintptr_t)data; }
  uintptr_t end() const { return (uintptr_t)data + (uintptr_t)length * (type == napi_float64_array ? 8 : 4); }
};

}  // namespace

// One kernel call read by its table: every argument checked, in the spec's order (see src/backend/spec.ts).
class Args {
 public:
  Args(const Napi::CallbackInfo& info, const KernelSpec& spec) : info_(info), env_(info.Env()), spec_(spec) {
    if (info.Length() < spec.required)
      fail(env_, kTypeError, spec.signature, ": expected ", spec.required, " arguments, got ", info.Length());
    const Plan& plan = spec.plan;
    for (int k = 0; k < plan.scalar_count; k++) read_scalar(plan.scalars[k]);
    if (spec.hook) {
      int64_t in[kMaxSlots];
      for (int j = 0; j < spec.hook->arg_count; j++) in[j] = slot_[spec.hook->args[j]];
      spec.hook->check(*this, in, slot_ + spec.arg_count);
    }
    for (int k = 0; k < plan.array_count; k++) read_array(plan.arrays[k]);
    for (int k = 0; k < plan.memory_count; k++) check_memory(plan.memory[k]);
    for (int k = 0; k < plan.content_count; k++) {
      const int i = plan.contents[k];
      if (spec.args[i].array.has_index) check_indices(i);
      if (spec.args[i].array.check) spec.args[i].array.check(*this, i);
    }
  }

  // The values a kernel call takes (args.gen.h, NODENN_KERNEL_CALLS).
  long size(int i) const { return (long)slot_[i]; }
  bool flag(int i) const { return slot_[i] != 0; }
  int choice(int i) const { return (int)slot_[i]; }
  double number(int i) const { return number_[i]; }
  template <typename T> const T* in(int i) const { return (const T*)view_[i].data; }
  template <typename T> T* out(int i) const { return (T*)view_[i].data; }
  const int32_t* in_int32(int i) const { return (const int32_t*)view_[i].data; }
  int32_t* out_int32(int i) const { return (int32_t*)view_[i].data; }
  // Filled by the conv and pool hooks.
  ConvShape conv;
  ConvChainShape convChain;
  PoolShape pool;

  // For hooks and value checks.
  napi_env env() const { return env_; }
  const View& view(int i) const { return view_[i]; }
  const char* name(int i) const { return spec_.args[i].name; }
  int64_t needed(int i) const { return length(spec_.args[i].array.length); }
  bool present(int i) const { return (present_ >> i) & 1; }
  // The position of the argument so named (-1 if none).
  int index_of(const char* name) const {
    for (int i = 0; i < spec_.arg_count; i++)
      if (strcmp(spec_.args[i].name, name) == 0) return i;
    return -1;
  }
  // A value check that reads an Int32Array's values has the kernel read a private copy of them, as for indices.
  // A short array (planForward's program: a few steps of 4 words) is copied into the Args itself: a vector would
  // allocate and free at every call (~2% of a batch-1 predictProba).
  const int32_t* keep_copy(int i) {
    const int32_t* x = (const int32_t*)view_[i].data;
    const int64_t n = needed(i);
    int32_t* copy = value_inline_;
    if (n > kInlineCopy) {
      value_copy_.assign(x, x + n);
      copy = value_copy_.data();
    } else if (n > 0) {
      memcpy(copy, x, sizeof(int32_t) * (size_t)n);
    }
    view_[i].data = copy;
    return copy;
  }

  // The kernel of the calling environment's table bound to this call's values, to run later (see js_*Async): fn
  // (kernels, T{}) returns it, float or double as the arrays are.
  template <typename Fn> std::function<void()> bind(Fn&& fn) const {
    const Kernels& kernels = *settings(env_).kernels;
    return dtype_ == napi_float32_array ? fn(kernels, float{}) : fn(kernels, double{});
  }

  // Runs the kernel of the calling environment's table, float or double as the arrays are: fn(kernels, T{})
  // returns nothing, a number, or false when the kernel ran out of memory.
  template <typename Fn> Napi::Value run(Fn&& fn) const {
    Call call(settings(env_));
    using R = decltype(fn(call.kernels, float{}));
    const bool f32 = dtype_ == napi_float32_array;
    if constexpr (std::is_void_v<R>) {
      f32 ? fn(call.kernels, float{}) : fn(call.kernels, double{});
      return Napi::Env(env_).Undefined();
    } else if constexpr (std::is_same_v<R, double>) {
      return Napi::Number::New(env_, f32 ? fn(call.kernels, float{}) : fn(call.kernels, double{}));
    } else {
      if (!(f32 ? fn(call.kernels, float{}) : fn(call.kernels, double{})))
        fail(env_, kRangeError, spec_.name, ": out of memory for ", spec_.oom);
      return Napi::Env(env_).Undefined();
    }
  }

 private:
  NODENN_INLINE void read_scalar(int i) {
    const ArgSpec& s = spec_.args[i];
    napi_value v = info_[i];
    switch (s.kind) {
      case kSize: {
        slot_[i] = size_value(env_, v, s.name);
        if (slot_[i] < s.size.min && (s.size.unless_zero < 0 || slot_[s.size.unless_zero] != 0))
          fail(env_, kRangeError, s.name, " must be at least ", s.size.min, ", got ", slot_[i]);
        break;
      }
      case kNumber: {
        double d;
        if (napi_get_value_double(env_, v, &d) != napi_ok)
          fail(env_, kTypeError, s.name, " must be a number", Got{env_, v});
        if (!std::isfinite(d)) fail(env_, kRangeError, s.name, " must be a finite number", Got{env_, v});
        const NumberRule& r = s.number;
        if (r.text && !((r.lo_open ? d > r.lo : d >= r.lo) && (r.hi_open ? d < r.hi : d <= r.hi)))
          fail(env_, kRangeError, s.name, " must be ", r.text, Got{env_, v});
        number_[i] = d;
        break;
      }
      case kFlag: {
        bool b = false;
        if (s.optional && (size_t)i >= info_.Length()) {
          slot_[i] = 0;  // left out
          break;
        }
        if (napi_get_value_bool(env_, v, &b) != napi_ok && !(s.optional && Napi::Value(env_, v).IsUndefined()))
          fail(env_, kTypeError, s.name, " must be a boolean", Got{env_, v});
        slot_[i] = b;
        break;
      }
      case kEnum: {
        // one N-API call into a buffer on the stack: every choice is shorter, so a longer string matches none
        char name[32];
        size_t length = 0;
        if (napi_get_value_string_utf8(env_, v, name, sizeof name, &length) != napi_ok)
          fail(env_, kTypeError, s.name, " must be a string", Got{env_, v});
        for (int k = 0; k < s.choice.count; k++)
          if (strcmp(name, s.choice.values[k]) == 0 && strlen(name) == length) {
            slot_[i] = k;
            return;
          }
        fail(env_, kRangeError, s.name, " must be ", s.choice.choices, ", got '",
             Napi::Value(env_, v).As<Napi::String>().Utf8Value(), "'");
      }
      default: break;
    }
  }

  // A product of slots: a length or an index bound. It divides only where the spec says floor(X / k): a division
  // costs more than the rest of a factor (and `div > 1`, unlike `div != 1`, keeps the compiler from dividing always).
  // A product that is 0 when any factor is 0 (an empty array, however large the others); only a too large one
  // looks at the factors after the one that passed the limit.
  int64_t product(const P& p) const {
    int64_t r = 1;
    for (int f = 0; f < p.count; f++) {
      const int64_t v = factor(p.factors[f]);
      if (__builtin_mul_overflow(r, v, &r) || r >= kMaxProduct) {
        for (int g = f + 1; g < p.count; g++)
          if (factor(p.factors[g]) == 0) return 0;
        fail(env_, kRangeError, p.text, " is too large");
      }
    }
    return r;
  }

  int64_t factor(const Factor& x) const { return x.div > 1 ? slot_[x.slot] / x.div : slot_[x.slot]; }

  int64_t length(const Length& l) const { return product(l.cond < 0 || slot_[l.cond] ? l.then : l.otherwise); }

  void read_array(int i) {
    const ArgSpec& s = spec_.args[i];
    View& a = view_[i];
    a = View{nullptr, 0, napi_int8_array};
    // left out (a trailing nullable array): absent, without asking N-API (planForward's unused layers)
    if (s.optional && (size_t)i >= info_.Length()) return;
    napi_value v = info_[i];
    size_t length;
    napi_value buffer;
    const bool floats = s.kind == kFloats;
    const bool typed = napi_get_typedarray_info(env_, v, &a.type, &length, &a.data, &buffer, nullptr) == napi_ok;
    if (!typed && s.optional) {
      napi_valuetype t;
      napi_typeof(env_, v, &t);
      if (t == napi_null || t == napi_undefined) return;  // absent
    }
    if (!typed || (floats ? a.type != napi_float32_array && a.type != napi_float64_array : a.type != napi_int32_array))
      fail(env_, kTypeError, s.name, floats ? " must be a Float32Array or Float64Array" : " must be an Int32Array",
           Got{env_, v});
    present_ |= 1u << i;
    if (floats) {
      if (dtype_ == napi_int8_array) dtype_ = a.type;  // napi_int8_array marks "not fixed yet"
      if (a.type != dtype_)
        fail(env_, kTypeError, s.name, " must be a ", typed_array_name(dtype_), " like the other arrays, got ",
             typed_array_name(a.type));
    }
    if (a.data == nullptr) {
      length = 0;  // a detached buffer has no memory at all; say so (the same words as src/tensor.ts)
      bool detached = false;
      if (napi_is_detached_arraybuffer(env_, buffer, &detached) == napi_ok && detached)
        fail(env_, kRangeError, s.name,
             "'s ArrayBuffer is detached: it was transferred (postMessage to a worker, or "
             "structuredClone with transfer) or given back by dispose(), and holds no data in this thread; "
             "copy the data (e.g. with .slice()) before transferring it");
    }
    a.length = (int64_t)length;
    const int64_t need = this->length(s.array.length);
    if (a.length < need) fail(env_, kRangeError, s.name, " has ", a.length, " elements, expected at least ", need);
  }

  // An output shares no memory with another array, unless it is the very same array as an input it may be: the
  // same memory from end to end (an input that only begins where the output does, a row of it, would be read
  // after the kernel overwrote it).
  void check_memory(const MemoryRule& rule) const {
    if (!(present_ & (1u << rule.out)) || !(present_ & (1u << rule.other))) return;
    const View &out = view_[rule.out], &in = view_[rule.other];
    if (out.length == 0 || in.length == 0 || !(out.begin() < in.end() && in.begin() < out.end())) return;
    if (rule.same_ok && out.begin() == in.begin() && out.end() == in.end()) return;
    fail(env_, kRangeError, spec_.args[rule.out].name, " must not share memory with ", spec_.args[rule.other].name,
         rule.same_ok ? " (other than being the very same array)" : "");
  }

  // The kernel reads by these indices: it gets a private copy of the checked values, so that nothing (writes to an
  // output over the same memory, another thread writing a SharedArrayBuffer) can change them after the check. The
  // copy goes to a buffer the thread keeps (one a call: no spec has two index arguments), not a fresh vector of 0.4
  // and 0.8 MB for the bench CNN's two pooled backward calls of a step, while the pool's other threads wait. One pass
  // copies and flags a value outside [0, bound) (compared as unsigned: a negative value is above any bound; a loop
  // without an exit, which vectorizes); the first such value is looked for only then. On the bench CNN's second
  // pooled backward (100,352 indices) Args' instructions went from 1.1 M to 0.25 M a call (callgrind).
  void check_indices(int i) {
    const ArrayRule& s = spec_.args[i].array;
    const int64_t bound = product(s.index), n = length(s.length);
    const int32_t* x = (const int32_t*)view_[i].data;
    static thread_local std::vector<int32_t> copy;
    if ((int64_t)copy.size() < n) copy.resize((size_t)n);
    int32_t* c = copy.data();
    const uint32_t ub = bound > ((int64_t)1 << 31) ? (uint32_t)1 << 31 : (uint32_t)bound;
    uint32_t bad = 0;
    for (int64_t k = 0; k < n; k++) {
      const int32_t v = x[k];
      c[k] = v;
      bad |= (uint32_t)v >= ub;
    }
    if (bad)
      for (int64_t k = 0; k < n; k++)
        if (c[k] < 0 || c[k] >= bound) {
          const bool one_size = s.index.count == 1 && s.index.factors[0].div == 1;
          fail(env_, kRangeError, spec_.args[i].name, "[", k, "] = ", c[k], " is outside [0, ",
               one_size ? "" : s.index.text, one_size ? "" : " = ", bound, ")");
        }
    view_[i].data = c;
  }

  const Napi::CallbackInfo& info_;
  napi_env env_;
  const KernelSpec& spec_;
  // every slot is written before it is read: scalars in order, then derived sizes (nothing zeroed per call)
  int64_t slot_[kMaxSlots];
  double number_[kMaxSlots];
  View view_[kMaxSlots];
  uint32_t present_ = 0;  // arrays given (not null)
  napi_typedarray_type dtype_ = napi_int8_array;
  std::vector<int32_t> value_copy_;
  static const int kInlineCopy = 64;
  int32_t value_inline_[kInlineCopy];
};

namespace {

// ---- the check hooks and value checks the spec names (src/backend/ts/checks.ts has the same)

// Output length of a sliding window along one axis: 1 + (in + 2 pad - k) / stride, every rule checked.
int64_t window_output(napi_env env, int64_t in, int64_t k, int64_t stride, int64_t pad, const char* in_name,
                      const char* k_name, const char* stride_name, const char* pad_name) {
  if (k < 1) fail(env, kRangeError, k_name, " must be at least 1, got ", k);
  if (stride < 1) fail(env, kRangeError, stride_name, " must be at least 1, got ", stride);
  if (in + 2 * pad < k)
    fail(env, kRangeError, k_name, " = ", k, " is larger than ", in_name, pad_name ? " + 2 * " : "",
         pad_name ? pad_name : "", " = ", in + 2 * pad);
  return 1 + (in + 2 * pad - k) / stride;
}

// N, C, H, W, F, KH, KW, strideH, strideW, padH, padW -> OH, OW
void hook_conv(Args& a, const int64_t* v, int64_t* derived) {
  ConvShape& g = a.conv;
  g = ConvShape{v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], 0, 0};
  g.OH = window_output(a.env(), g.H, g.KH, g.sh, g.ph, "H", "KH", "strideH", "padH");
  g.OW = window_output(a.env(), g.W, g.KW, g.sw, g.pw, "W", "KW", "strideW", "padW");
  // the im2col matrix of one image, (C KH KW) x (OH OW), must be addressable
  checked_product(a.env(), {g.C, g.KH, g.KW, g.OH, g.OW}, "C * KH * KW * OH * OW");
  derived[0] = g.OH;
  derived[1] = g.OW;
}

// N, C, H, W, F, KH, KW, strideH, strideW, padH, padW, F2, KH2, KW2, strideH2, strideW2, padH2, padW2 -> OH, OW, OH2,
// OW2: the first convolution as hook_conv, its output pooled 2x2 the second one's input
void hook_conv_chain(Args& a, const int64_t* v, int64_t* derived) {
  hook_conv(a, v, derived);
  ConvChainShape& s = a.convChain;
  s.a = a.conv;
  if (s.a.OH < 2 || s.a.OW < 2)
    fail(a.env(), kRangeError, "the first convolution's output must be at least 2 x 2 to be pooled, got ", s.a.OH,
         " x ", s.a.OW);
  const int64_t in2[11] = {v[0], v[4], s.a.OH / 2, s.a.OW / 2, v[11], v[12], v[13], v[14], v[15], v[16], v[17]};
  ConvShape& b = s.b;
  b = ConvShape{in2[0], in2[1], in2[2], in2[3], in2[4], in2[5], in2[6], in2[7], in2[8], in2[9], in2[10], 0, 0};
  b.OH = window_output(a.env(), b.H, b.KH, b.sh, b.ph, "floor(OH / 2)", "KH2", "strideH2", "padH2");
  b.OW = window_output(a.env(), b.W, b.KW, b.sw, b.pw, "floor(OW / 2)", "KW2", "strideW2", "padW2");
  if (b.OH < 2 || b.OW < 2)
    fail(a.env(), kRangeError, "the second convolution's output must be at least 2 x 2 to be pooled, got ", b.OH, " x ",
         b.OW);
  checked_product(a.env(), {b.C, b.KH, b.KW, b.OH, b.OW}, "F * KH2 * KW2 * OH2 * OW2");
  derived[2] = b.OH;
  derived[3] = b.OW;
}

// N, C, H, W, KH, KW, strideH, strideW -> OH, OW
void hook_pool(Args& a, const int64_t* v, int64_t* derived) {
  PoolShape& g = a.pool;
  g = PoolShape{v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], 0, 0};
  g.OH = window_output(a.env(), g.H, g.KH, g.sh, 0, "H", "KH", "strideH", nullptr);
  g.OW = window_output(a.env(), g.W, g.KW, g.sw, 0, "W", "KW", "strideW", nullptr);
  if (g.H * g.W >= kMaxSize) fail(a.env(), kRangeError, "H * W must be below 2^31 (argmax holds plane indices)");
  derived[0] = g.OH;
  derived[1] = g.OW;
}

// N, C, S, training
void hook_batch_norm(Args& a, const int64_t* v, int64_t*) {
  const int64_t N = v[0], C = v[1], S = v[2];
  if (v[3] && C > 0 && N * S < 2)
    fail(a.env(), kRangeError, "batch norm in training needs more than one value per channel, got N * S = ", N * S);
}

// The broadcast size of one axis over `count` operands named by `names` (their sizes in `d`): each is 1 or the
// one size that is not.
int64_t broadcast_axis(napi_env env, int axis, int count, const char* const* names, const int64_t* d) {
  int64_t y = 1;
  for (int k = 0; k < count; k++)
    if (d[k] != 1) y = d[k];
  for (int k = 0; k < count; k++) {
    if (d[k] == 1 || d[k] == y) continue;
    if (count == 2)
      fail(env, kRangeError, names[0], axis, " = ", d[0], " and ", names[1], axis, " = ", d[1],
           " do not broadcast: each axis needs equal sizes or a 1");
    fail(env, kRangeError, names[0], axis, " = ", d[0], ", ", names[1], axis, " = ", d[1], " and ", names[2], axis,
         " = ", d[2], " do not broadcast: each axis needs equal sizes or a 1");
  }
  return y;
}

// a0..a3, b0..b3 -> y0..y3
void hook_broadcast(Args& a, const int64_t* v, int64_t* derived) {
  static const char* const names[] = {"a", "b"};
  for (int i = 0; i < 4; i++) {
    const int64_t d[] = {v[i], v[4 + i]};
    derived[i] = broadcast_axis(a.env(), i, 2, names, d);
  }
}

// c0..c3, a0..a3, b0..b3 -> y0..y3
void hook_broadcast_where(Args& a, const int64_t* v, int64_t* derived) {
  static const char* const names[] = {"c", "a", "b"};
  for (int i = 0; i < 4; i++) {
    const int64_t d[] = {v[i], v[4 + i], v[8 + i]};
    derived[i] = broadcast_axis(a.env(), i, 3, names, d);
  }
}

// Every value in [0, 1], with 1e-6 of rounding above 1; NaN passes through (to the loss).
void check_probabilities(Args& a, int i) {
  const View& p = a.view(i);
  const int64_t n = a.needed(i);
  for (int64_t k = 0; k < n; k++) {
    double v = p.type == napi_float32_array ? (double)((const float*)p.data)[k] : ((const double*)p.data)[k];
    if (v < 0 || v > 1 + 1e-6)
      fail(a.env(), kRangeError, a.name(i), "[", k, "] = ", js_number(v),
           " is outside [0, 1]: cross-entropy takes probabilities (e.g. a Softmax output); for logits use "
           "softmaxCrossEntropy");
  }
}

// planForward's program (plan.cc): steps of 4 words, Dense layers 0, 1, ... in order and first, each with its
// weight, at most floor(width / 2) wide, finite slopes, the last Dense as wide as outputs. The kernel reads the copy.
void check_plan_program(Args& a, int i) {
  static const int kOutputs = a.index_of("outputs"), kWidth = a.index_of("width"),
                   kLength = a.index_of("programLength"), kD0 = a.index_of("d0"), kW0 = a.index_of("w0");
  napi_env env = a.env();
  const int64_t length = a.size(kLength), half = a.size(kWidth) / 2;
  if (length % 4 != 0) fail(env, kRangeError, "programLength must be a multiple of 4 (steps of 4 words), got ", length);
  const int32_t* p = a.keep_copy(i);
  int dense = 0;
  for (int64_t k = 0; k < length; k += 4) {
    const int32_t op = p[k];
    if (op < 0 || op > 2)
      fail(env, kRangeError, "program[", k, "] = ", op, " is not a step (0 Dense, 1 activation, 2 softmax)");
    if (op != 0 && dense == 0)
      fail(env, kRangeError, "program[", k, "] = ", op, ": the first step must be Dense layer 0");
    for (int64_t j = op == 1 ? 4 : op == 0 ? 2 : 1; j < 4; j++)
      if (p[k + j] != 0)
        fail(env, kRangeError, "program[", k + j, "] = ", p[k + j], " must be 0 (an unused word of a ",
             op == 0 ? "Dense" : "softmax", " step)");
    if (op == 0) {
      if (p[k + 1] != dense)
        fail(env, kRangeError, "program[", k + 1, "] = ", p[k + 1],
             ": Dense steps run layers 0 to 3 in order, expected ", dense);
      if (dense > 3)
        fail(env, kRangeError, "program[", k + 1, "] = ", p[k + 1], ": Dense steps run layers 0 to 3 in order");
      const int64_t in = a.size(kD0 + dense), out = a.size(kD0 + dense + 1);
      if (in < 1 || out < 1)
        fail(env, kRangeError, "Dense layer ", dense, " needs d", dense, " and d", dense + 1, " of at least 1, got ",
             in, " and ", out);
      if (!a.present(kW0 + 2 * dense))
        fail(env, kRangeError, a.name(kW0 + 2 * dense), " is missing: program[", k, "] runs Dense layer ", dense);
      if (out > half)
        fail(env, kRangeError, "Dense layer ", dense, " is ", out, " wide, more than floor(width / 2) = ", half,
             ": scratch holds two activations of rows x floor(width / 2)");
      dense++;
    } else if (op == 1) {
      if (p[k + 1] < 0 || p[k + 1] > 4)
        fail(env, kRangeError, "program[", k + 1, "] = ", p[k + 1],
             " is not an activation (0 to 4: 'relu', 'leakyRelu', 'sigmoid', 'tanh' or 'step')");
      const uint64_t bits = (uint64_t)(uint32_t)p[k + 2] | (uint64_t)(uint32_t)p[k + 3] << 32;
      double slope;
      memcpy(&slope, &bits, sizeof slope);
      if (!std::isfinite(slope))
        fail(env, kRangeError, "program[", k + 2, "..", k + 3, "] = ", js_number(slope), ": a slope must be finite");
    }
  }
  if (dense == 0) fail(env, kRangeError, "program has no Dense step");
  if (a.size(kOutputs) != a.size(kD0 + dense))
    fail(env, kRangeError, "outputs must be ", a.size(kD0 + dense), " (d", dense, ", the width of Dense layer ",
         dense - 1, "), got ", a.size(kOutputs));
}

#include "args.gen.h"

template <typename T, typename F32, typename F64> constexpr auto pick(F32 f32, F64 f64) {
  if constexpr (std::is_same_v<T, float>)
    return f32;
  else
    return f64;
}

// One exported function per kernel: read the call by its table, then run the float or the double kernel.
#define NODENN_WRAPPER(name, js, call)                  \
  Napi::Value js_##js(const Napi::CallbackInfo& info) { \
    Args a(info, kSpec_##js);                           \
    return a.run([&](const Kernels& k, auto type) {     \
      using T = decltype(type);                         \
      return pick<T>(k.name##_f32, k.name##_f64) call;  \
    });                                                 \
  }
NODENN_KERNEL_CALLS(NODENN_WRAPPER)
#undef NODENN_WRAPPER

// ---- a prepared plan: planForward's sizes, program and weights taken once (src/inference/plan.ts), so that a batch-1
// predict passes only x and y. planPrepare(...) takes planForward's arguments, checks them as planForward does, runs
// the pass (y is its result) and returns the plan, an external; planRun(plan, rows, x, y) runs it again for up to
// the prepared rows. The weights are read in place at every run (a write to them shows), through pointers taken at
// planPrepare, and a run reads them only after checking that each one's memory is still there: the plan holds a
// reference to each weight's ArrayBuffer (materialised off the V8 heap by the typed array's info: it cannot move),
// and a run asks N-API for that buffer's data and length: a detached buffer (transferred, or given back by
// dispose()) has no data, a shrunk resizable one a shorter length, and either is an error, never a read. A weight
// over a SharedArrayBuffer needs no check: shared memory cannot be detached, shrink or move. A plan does not know
// whether a network's parameters are still these arrays: its caller compares them with those it prepared with.
struct PreparedPlan {
  struct Weight {
    napi_ref ref = nullptr;  // the ArrayBuffer (shared memory: the typed array, only kept alive)
    bool shared = false;
    const char* base = nullptr;  // the ArrayBuffer's data
    size_t end = 0;              // byte offset + the bytes the plan reads
    const void* data = nullptr;  // null: absent
    size_t bytes = 0;            // the bytes the plan reads from data
  };
  napi_typedarray_type dtype;
  int64_t rows, outputs, width, program_length, d[5];
  std::vector<int32_t> program;
  Weight w[8];
  std::vector<double> scratch;  // rows x width elements of the dtype (doubles: aligned for either)
};

const int kPlanFirstWeight = 13;  // planForward's w0

void delete_prepared_plan(napi_env env, void* data, void*) {
  PreparedPlan* p = (PreparedPlan*)data;
  settings(Napi::Env(env)).plans.erase(p);
  for (auto& w : p->w)
    if (w.ref) napi_delete_reference(env, w.ref);
  delete p;
}

template <typename T> bool run_prepared(const Kernels& k, const PreparedPlan& p, int64_t rows, const T* x, T* y) {
  const T* v[8];
  for (int i = 0; i < 8; i++) v[i] = (const T*)p.w[i].data;
  return pick<T>(k.plan_forward_f32, k.plan_forward_f64)(
      rows, p.outputs, p.width, p.program_length, p.d[0], p.d[1], p.d[2], p.d[3], p.d[4], p.program.data(), x, y,
      (T*)p.scratch.data(), v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]);
}

// planPrepare(rows, outputs, width, programLength, d0, d1, d2, d3, d4, program, x, y, scratch, w0, b0, ..., b3):
// planForward (the same checks, the same pass into y), and the plan of it for planRun.
Napi::Value PlanPrepare(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Args a(info, kSpec_planForward);
  auto plan = std::make_unique<PreparedPlan>();
  PreparedPlan& p = *plan;
  p.dtype = a.view(10).type;
  p.rows = a.size(0);
  p.outputs = a.size(1);
  p.width = a.size(2);
  p.program_length = a.size(3);
  for (int i = 0; i < 5; i++) p.d[i] = a.size(4 + i);
  const int32_t* program = a.in_int32(9);  // the checked copy
  p.program.assign(program, program + p.program_length);
  const size_t elem = p.dtype == napi_float64_array ? 8 : 4;
  p.scratch.resize((size_t)((p.rows * p.width * (int64_t)elem + 7) / 8));
  napi_value keep[8] = {};
  for (int i = 0; i < 8; i++) {
    const int arg = kPlanFirstWeight + i;
    if (!a.present(arg)) continue;
    PreparedPlan::Weight& w = p.w[i];
    napi_value buffer;
    size_t offset = 0;
    void* data = nullptr;
    bool is_ab = false;
    if (napi_get_typedarray_info(env, info[arg], nullptr, nullptr, &data, &buffer, &offset) != napi_ok ||
        napi_is_arraybuffer(env, buffer, &is_ab) != napi_ok)
      fail(env, kTypeError, a.name(arg), ": cannot read its buffer");
    w.data = data;
    w.bytes = (size_t)a.needed(arg) * elem;
    w.shared = !is_ab;
    keep[i] = is_ab ? buffer : info[arg];
    if (is_ab) {
      void* base = nullptr;
      size_t bytes = 0;
      if (napi_get_arraybuffer_info(env, buffer, &base, &bytes) != napi_ok)
        fail(env, kTypeError, a.name(arg), ": cannot read its buffer");
      w.base = (const char*)base;
      w.end = offset + w.bytes;
    }
  }
  a.run([&](const Kernels& k, auto type) {
    using T = decltype(type);
    return pick<T>(k.plan_forward_f32, k.plan_forward_f64)(
        a.size(0), a.size(1), a.size(2), a.size(3), a.size(4), a.size(5), a.size(6), a.size(7), a.size(8),
        a.in_int32(9), a.in<T>(10), a.out<T>(11), a.out<T>(12), a.in<T>(13), a.in<T>(14), a.in<T>(15), a.in<T>(16),
        a.in<T>(17), a.in<T>(18), a.in<T>(19), a.in<T>(20));
  });
  napi_value external = nullptr;
  bool ok = true;
  for (int i = 0; i < 8; i++)
    if (keep[i] && napi_create_reference(env, keep[i], 1, &p.w[i].ref) != napi_ok) ok = false;
  if (ok) ok = napi_create_external(env, &p, delete_prepared_plan, nullptr, &external) == napi_ok;
  if (!ok) {
    for (auto& w : p.w)
      if (w.ref) napi_delete_reference(env, w.ref);
    fail(env, kRangeError, "planPrepare: out of memory for the plan");
  }
  settings(env).plans.insert(plan.release());
  return Napi::Value(env, external);
}

// One array of a run: a typed array of the plan's dtype with at least `need` elements.
void* run_array(napi_env env, napi_value v, const PreparedPlan& p, int64_t need, const char* name, int64_t* length) {
  napi_typedarray_type type;
  size_t n;
  void* data;
  napi_value buffer;
  if (napi_get_typedarray_info(env, v, &type, &n, &data, &buffer, nullptr) != napi_ok ||
      (type != napi_float32_array && type != napi_float64_array))
    fail(env, kTypeError, name, " must be a Float32Array or Float64Array", Got{env, v});
  if (type != p.dtype)
    fail(env, kTypeError, name, " must be a ", typed_array_name(p.dtype), " like the plan's weights, got ",
         typed_array_name(type));
  if (data == nullptr) n = 0;
  if ((int64_t)n < need) fail(env, kRangeError, name, " has ", (int64_t)n, " elements, expected at least ", need);
  *length = (int64_t)n;
  return data;
}

// planRun(plan, rows, x, y): the prepared pass over `rows` rows of x (rows x d0) into y (rows x outputs), rows at most
// the prepared rows; bitwise planForward with the plan's program and weights as they are now.
Napi::Value PlanRun(const Napi::CallbackInfo& info) {
  napi_env env = info.Env();
  if (info.Length() < 4) fail(env, kTypeError, "planRun(plan, rows, x, y): expected 4 arguments, got ", info.Length());
  void* ptr = nullptr;
  Settings& s = settings(info.Env());
  if (napi_get_value_external(env, info[0], &ptr) != napi_ok || !s.plans.count((const PreparedPlan*)ptr))
    fail(env, kTypeError, "plan must be a plan of planPrepare", Got{env, info[0]});
  const PreparedPlan& p = *(const PreparedPlan*)ptr;
  const int64_t rows = size_value(env, info[1], "rows");
  if (rows > p.rows) fail(env, kRangeError, "rows must be at most the prepared ", p.rows, ", got ", rows);
  int64_t nx, ny;
  const size_t elem = p.dtype == napi_float64_array ? 8 : 4;
  const char* x = (const char*)run_array(env, info[2], p, rows * p.d[0], "x", &nx);
  char* y = (char*)run_array(env, info[3], p, rows * p.outputs, "y", &ny);
  const uintptr_t y0 = (uintptr_t)y, y1 = y0 + (uintptr_t)ny * elem;
  if (ny > 0 && nx > 0 && y0 < (uintptr_t)x + (uintptr_t)nx * elem && (uintptr_t)x < y1)
    fail(env, kRangeError, "y must not share memory with x");
  static const char* const names[8] = {"w0", "b0", "w1", "b1", "w2", "b2", "w3", "b3"};
  for (int i = 0; i < 8; i++) {
    const PreparedPlan::Weight& w = p.w[i];
    if (!w.data) continue;
    const uintptr_t w0 = (uintptr_t)w.data, w1 = w0 + w.bytes;
    if (ny > 0 && y0 < w1 && w0 < y1) fail(env, kRangeError, "y must not share memory with ", names[i]);
    if (w.shared) continue;
    napi_value buffer;
    void* base = nullptr;
    size_t bytes = 0;
    if (napi_get_reference_value(env, w.ref, &buffer) != napi_ok || buffer == nullptr ||
        napi_get_arraybuffer_info(env, buffer, &base, &bytes) != napi_ok || base != w.base || bytes < w.end)
      fail(env, kRangeError, names[i],
           "'s ArrayBuffer was detached or shrunk after planPrepare (transferred, given back by dispose(), or "
           "resized): the plan no longer has its weights; prepare it again");
  }
  Call call(s);
  const bool ok = p.dtype == napi_float32_array
                      ? run_prepared<float>(call.kernels, p, rows, (const float*)x, (float*)y)
                      : run_prepared<double>(call.kernels, p, rows, (const double*)x, (double*)y);
  if (!ok) fail(env, kRangeError, "planRun: out of memory for the packed panels");
  return Napi::Env(env).Undefined();
}

// ---- kernels off the main thread: <kernel>Async(...) takes the kernel's arguments, checks them at once (throwing
// as the kernel does), and returns a Promise that resolves once the kernel has run on the libuv pool. The calls of
// one environment run one after another in the order they were made (a FIFO drained by one pool thread at a time),
// so a transform can queue its kernels without waiting; each runs on that thread alone (its thread count is 1
// there: the calling thread keeps the nodenn pool), which gives the same bits as on the main thread, since no
// kernel's result depends on its thread count. The typed arrays are kept from the garbage collector until then;
// the caller must leave them alone meanwhile.

struct AsyncJob {
  std::function<void()> run;
  std::vector<Napi::Reference<Napi::Value>> keep;
  Napi::Promise::Deferred done;
  explicit AsyncJob(Napi::Env env) : done(Napi::Promise::Deferred::New(env)) {}
};

struct AsyncQueue {
  std::mutex mu;
  std::deque<std::unique_ptr<AsyncJob>> pending;
  bool draining = false;
};

// Runs queued jobs until the queue is empty, then settles their promises on the environment's thread.
class Drain : public Napi::AsyncWorker {
 public:
  Drain(Napi::Env env, std::shared_ptr<AsyncQueue> queue) : Napi::AsyncWorker(env, "nodenn.async"), queue_(queue) {}

  void Execute() override {
    for (;;) {
      std::unique_ptr<AsyncJob> job;
      {
        std::lock_guard<std::mutex> lock(queue_->mu);
        if (queue_->pending.empty()) {
          queue_->draining = false;
          return;
        }
        job = std::move(queue_->pending.front());
        queue_->pending.pop_front();
      }
      job->run();
      ran_.push_back(std::move(job));
    }
  }

  void OnOK() override {
    for (auto& job : ran_) job->done.Resolve(Env().Undefined());
    ran_.clear();  // the references go here, on the environment's thread
  }

 private:
  std::shared_ptr<AsyncQueue> queue_;
  std::vector<std::unique_ptr<AsyncJob>> ran_;
};

template <typename F> auto binder(F f) {
  return [f](auto... args) { return std::function<void()>([f, args...]() { f(args...); }); };
}

// Only kernels whose arguments are the caller's own arrays (no private copies of checked indices) may run later.
#define NODENN_ASYNC_WRAPPER(name, js, call)                                    \
  [[maybe_unused]] Napi::Value js_##js##Async(const Napi::CallbackInfo& info) { \
    Args a(info, kSpec_##js);                                                   \
    auto job = std::make_unique<AsyncJob>(info.Env());                          \
    job->run = a.bind([&](const Kernels& k, auto type) {                        \
      using T = decltype(type);                                                 \
      return binder(pick<T>(k.name##_f32, k.name##_f64)) call;                  \
    });                                                                         \
    return enqueue(info, std::move(job));                                       \
  }

Napi::Value enqueue(const Napi::CallbackInfo& info, std::unique_ptr<AsyncJob> job) {
  for (size_t i = 0; i < info.Length(); i++)
    if (info[i].IsTypedArray()) job->keep.push_back(Napi::Persistent(info[i]));
  Napi::Promise promise = job->done.Promise();
  std::shared_ptr<AsyncQueue> queue = settings(info.Env()).queue;
  bool start = false;
  {
    std::lock_guard<std::mutex> lock(queue->mu);
    queue->pending.push_back(std::move(job));
    if (!queue->draining) start = queue->draining = true;
  }
  if (start) (new Drain(info.Env(), queue))->Queue();
  return promise;
}

NODENN_KERNEL_CALLS(NODENN_ASYNC_WRAPPER)
#undef NODENN_ASYNC_WRAPPER

// The kernels that have an Async form.
#define NODENN_ASYNC_KERNELS(X) X(translate2d) X(flip2d) X(affine2d) X(normalizeChannels)

// ---- the functions that are not kernels

// glibc's malloc, as it comes, hands memory back to the system as soon as it is free: a block above the mmap
// threshold is unmapped, and the top of the heap is trimmed once 128 KiB of it are free. A tensor's result is
// malloc's memory (an ArrayBuffer), freed only when V8 collects it, which it does once ~64 MiB of external memory
// have piled up; by then the dynamic thresholds have either not risen yet or the dozens of blocks freed together
// exceed the trim threshold, so every result lands in memory fresh from the system, and its page faults cost
// 2-100 times the arithmetic (bench/README.md). NumPy escapes this by freeing each result at once.
// The fix: keep blocks up to 32 MiB (glibc's own ceiling for its dynamic threshold) in the heap, and trim the heap
// only when more than 128 MiB of it are free, which exceeds what V8 frees in one collection. Freed results are
// then reused by the next ones. The cost: the process keeps up to 128 MiB of free memory for reuse instead of
// returning it. Process-wide, so it is skipped when the user tuned malloc (GLIBC_TUNABLES names glibc.malloc) or
// turned it off (NODENN_MALLOC_TUNING=0); other allocators (musl, macOS, Windows) are left alone.
const size_t kMmapThreshold = size_t(32) << 20;
const size_t kTrimThreshold = size_t(128) << 20;
bool malloc_tuned = false;

void tune_malloc() {
#if defined(__GLIBC__)
  const char* off = getenv("NODENN_MALLOC_TUNING");
  if (off && (strcmp(off, "0") == 0 || strcmp(off, "off") == 0 || strcmp(off, "false") == 0)) return;
  const char* tunables = getenv("GLIBC_TUNABLES");
  if (tunables && strstr(tunables, "glibc.malloc.")) return;
  malloc_tuned =
      mallopt(M_MMAP_THRESHOLD, (int)kMmapThreshold) == 1 && mallopt(M_TRIM_THRESHOLD, (int)kTrimThreshold) == 1;
#endif
}

Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Settings& s = settings(env);
  Napi::Object o = Napi::Object::New(env);
  o.Set("isa", s.kernels->isa);
  o.Set("bestIsa", best_isa());
  Napi::Array supported = Napi::Array::New(env);
  uint32_t k = 0;
  for (const char* const* isa = kIsas; *isa; isa++)
    if (isa_supported(*isa)) supported.Set(k++, *isa);
  o.Set("supportedIsas", supported);
  o.Set("threads", s.threads);
  o.Set("napiVersion", NAPI_VERSION);
  o.Set("mallocTuned", malloc_tuned);
  return o;
}

// setIsa(name): this environment's ISA; throws if unknown or not supported by this CPU.
Napi::Value SetIsa(const Napi::CallbackInfo& info) {
  expect_args(info, 1, "setIsa(isa)");
  if (!info[0].IsString()) fail(info.Env(), kTypeError, "isa must be a string", Got{info.Env(), info[0]});
  std::string err;
  const Kernels* table = isa_table(info[0].As<Napi::String>().Utf8Value(), &err);
  if (!table) fail(info.Env(), kRangeError, "isa: ", err);
  settings(info.Env()).kernels = table;
  return info.Env().Undefined();
}

// setThreads(n), 1 <= n <= kMaxThreads: this environment's thread count.
Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  expect_args(info, 1, "setThreads(n)");
  int64_t n = size_value(info.Env(), info[0], "n");
  if (n < 1 || n > kMaxThreads) fail(info.Env(), kRangeError, "n must be between 1 and ", kMaxThreads, ", got ", n);
  Settings& s = settings(info.Env());
  request_threads(s.threads, (int)n);
  s.threads = (int)n;
  return info.Env().Undefined();
}

// mapFile(path): a regular file's bytes as an ArrayBuffer over a private mapping of it, or null where it cannot be
// mapped (missing, not a regular file, mmap refused, Windows): the caller then reads the file, and reports its
// errors. Reading a file into fresh memory costs its page faults, which on the VMs measured are ~6 ms per MB
// (MNIST's 47 MB of training images: 0.30 s of CPU); mapping the pages the page cache holds and reading them all
// took 0.035 s.
// Private and writable: a write copies its page and stays in this process, never reaching the file. The mapping
// goes when V8 collects the buffer. The file must not shrink while mapped (a read past its new end is a SIGBUS).
Napi::Value MapFile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  expect_args(info, 1, "mapFile(path)");
  if (!info[0].IsString()) fail(env, kTypeError, "path must be a string", Got{env, info[0]});
#if defined(_WIN32)
  return env.Null();
#else
  const std::string file = info[0].As<Napi::String>().Utf8Value();
  int fd = open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return env.Null();
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 || (uint64_t)st.st_size > (uint64_t)SIZE_MAX) {
    close(fd);
    return env.Null();
  }
  size_t n = (size_t)st.st_size;
  // No MAP_POPULATE: on a writable private mapping it copies every page at once (as fresh memory: 0.12 s for
  // MNIST's images). Read faults map the page cache's pages, with the kernel's fault-around 16 at a time.
  void* p = mmap(nullptr, n, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  close(fd);
  if (p == MAP_FAILED) return env.Null();
  size_t* hint = new size_t(n);
  try {
    return Napi::ArrayBuffer::New(
        env, p, n,
        [](Napi::Env, void* data, size_t* size) {
          munmap(data, *size);
          delete size;
        },
        hint);
  } catch (const Napi::Error&) {  // a runtime that refuses external buffers: read instead
    munmap(p, n);
    delete hint;
    return env.Null();
  }
#endif
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
  std::call_once(resident, [] {
    stay_resident();
    tune_malloc();
  });
  std::string err;
  unsigned hw = std::thread::hardware_concurrency();
  Settings* s = new Settings{isa_table(best_isa(), &err), std::max(1, std::min((int)hw, kMaxThreads)),
                             std::make_shared<AsyncQueue>()};
  request_threads(0, s->threads);
  env.SetInstanceData<Settings, release_settings>(s);
  exports.Set("info", Napi::Function::New(env, Info));
  exports.Set("setIsa", Napi::Function::New(env, SetIsa));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads));
  exports.Set("mapFile", Napi::Function::New(env, MapFile));
  exports.Set("planPrepare", Napi::Function::New(env, PlanPrepare));
  exports.Set("planRun", Napi::Function::New(env, PlanRun));
#define NODENN_EXPORT(name, js, call) exports.Set(#js, Napi::Function::New(env, js_##js));
  NODENN_KERNEL_CALLS(NODENN_EXPORT)
#undef NODENN_EXPORT
#define NODENN_EXPORT_ASYNC(js) exports.Set(#js "Async", Napi::Function::New(env, js_##js##Async));
  NODENN_ASYNC_KERNELS(NODENN_EXPORT_ASYNC)
#undef NODENN_EXPORT_ASYNC
  return exports;
}

}  // namespace
}  // namespace nodenn

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return nodenn::Init(env, exports); }
NODE_API_MODULE(nodenn, InitAddon)
