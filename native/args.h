// The argument tables of the kernels, as the kernel spec (src/backend/spec.ts) declares them: args.gen.h holds one
// per kernel, addon.cc reads every call by its table. The rules and their order are the spec's (the TS backend's
// src/backend/ts/checks.ts reads the same spec alike).
#pragma once
#include <stdint.h>

#include <limits>

namespace nodenn {

// Slots: a kernel's arguments by position, then the sizes its check hook derives (OH, OW).
const int kMaxSlots = 24;
const int kMaxFactors = 6;
constexpr double kInf = std::numeric_limits<double>::infinity();

// A product of slots, each divided (rounded down) by div: "N * F * floor(OH / 2)".
struct Factor {
  uint8_t slot, div;
};
struct P {
  const char* text;
  uint8_t count;
  Factor factors[kMaxFactors];
};
// An array's length: `then` when the flag in slot `cond` is set or cond < 0, else `otherwise`.
struct Length {
  int8_t cond;
  P then, otherwise;
};
constexpr Length len(P p) { return Length{-1, p, p}; }
constexpr Length len_if(int cond, P then, P otherwise) { return Length{(int8_t)cond, then, otherwise}; }

enum ArgKind : uint8_t { kSize, kNumber, kFlag, kEnum, kFloats, kInt32s };
enum Io : bool { kIn = false, kOut = true };

class Args;
// A check of an array's values (args.gen.h names those of the spec; addon.cc defines them).
typedef void (*ValueCheck)(const Args& a, int arg);
// A kernel's check hook: reads its size arguments `in` (in the order the spec lists them), writes the sizes it
// derives, and may fill the shape the C++ kernel takes.
typedef void (*Hook)(Args& a, const int64_t* in, int64_t* derived);

struct ArgSpec {
  const char* name;
  ArgKind kind;
  bool optional;  // a flag that may be left out (false), an array that may be null or left out
  // size: at least min, unless the size in slot unless_zero (if >= 0) is 0
  int64_t min;
  int8_t unless_zero;
  // number: in [lo, hi] with open ends as flagged; range_text states the rule ("in (0, 1]", "at least 0")
  double lo, hi;
  bool lo_open, hi_open;
  const char* range_text;
  // enum: one of values (the kernel gets the index); choices lists them for the message
  const char* const* values;
  uint8_t value_count;
  const char* choices;
  // arrays
  Io io;
  uint32_t same_as;  // arguments (a bit per position) this output may be, exactly
  Length length;
  bool has_index;  // an Int32Array of indices in [0, index)
  P index;
  ValueCheck check;
};

constexpr ArgSpec arg(const char* name, ArgKind kind) {
  ArgSpec a{};
  a.name = name;
  a.kind = kind;
  a.unless_zero = -1;
  a.lo = -kInf;
  a.hi = kInf;
  a.lo_open = a.hi_open = true;
  return a;
}
constexpr ArgSpec size_arg(const char* name, int64_t min = 0, int unless_zero = -1) {
  ArgSpec a = arg(name, kSize);
  a.min = min;
  a.unless_zero = (int8_t)unless_zero;
  return a;
}
constexpr ArgSpec number_arg(const char* name) { return arg(name, kNumber); }
constexpr ArgSpec number_arg(const char* name, double lo, double hi, bool lo_open, bool hi_open, const char* text) {
  ArgSpec a = arg(name, kNumber);
  a.lo = lo;
  a.hi = hi;
  a.lo_open = lo_open;
  a.hi_open = hi_open;
  a.range_text = text;
  return a;
}
constexpr ArgSpec flag_arg(const char* name, bool optional = false) {
  ArgSpec a = arg(name, kFlag);
  a.optional = optional;
  return a;
}
constexpr ArgSpec enum_arg(const char* name, const char* const* values, int count, const char* choices) {
  ArgSpec a = arg(name, kEnum);
  a.values = values;
  a.value_count = (uint8_t)count;
  a.choices = choices;
  return a;
}
constexpr ArgSpec floats_arg(const char* name, Io io, Length length, uint32_t same_as = 0, bool nullable = false,
                             ValueCheck check = nullptr) {
  ArgSpec a = arg(name, kFloats);
  a.io = io;
  a.length = length;
  a.same_as = same_as;
  a.optional = nullable;
  a.check = check;
  return a;
}
constexpr ArgSpec int32s_arg(const char* name, Io io, Length length) {
  ArgSpec a = arg(name, kInt32s);
  a.io = io;
  a.length = length;
  return a;
}
constexpr ArgSpec int32s_arg(const char* name, Io io, Length length, P index) {
  ArgSpec a = int32s_arg(name, io, length);
  a.has_index = true;
  a.index = index;
  return a;
}

struct KernelSpec {
  const char* name;
  const char* signature;  // "gemm(transA, transB, M, ...)", as the argument-count error names the call
  const ArgSpec* args;
  uint8_t arg_count;
  uint8_t required;  // trailing nullable arrays and optional flags may be left out
  Hook hook;
  uint8_t hook_args[kMaxSlots];
  uint8_t hook_arg_count;
  uint8_t derived_count;
  const char* oom;  // the kernel returns false when out of memory for this scratch (null: it returns no bool)
};

}  // namespace nodenn
