// The argument tables of the kernels, as the kernel spec (src/backend/spec.ts) declares them: args.gen.h holds one
// per kernel, addon.cc reads every call by its table. The rules and their order are the spec's (the TS backend's
// src/backend/ts/checks.ts reads the same spec alike).
#pragma once
#include <stdint.h>

#include <limits>

namespace nodenn {

// The capacities of the tables below. scripts/gen-kernels.js reads them from here (in this form,
// `const int kName = n;`) and refuses a spec that needs more.
// Slots: a kernel's arguments by position, then the sizes its check hook derives (OH, OW).
const int kMaxSlots = 32;
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
// A check of an array's values (args.gen.h names those of the spec; addon.cc defines them). It may have the kernel
// read a private copy of what it checked (Args::keep_copy).
typedef void (*ValueCheck)(Args& a, int arg);
// A kernel's check hook: reads its size arguments `in` (in the order the spec lists them), writes the sizes it
// derives, and may fill the shape the C++ kernel takes.
typedef void (*Hook)(Args& a, const int64_t* in, int64_t* derived);

// size: at least min, unless the size in slot unless_zero (if >= 0) is 0
struct SizeRule {
  int64_t min;
  int8_t unless_zero;
};
// number: in [lo, hi] with open ends as flagged; text states the rule ("in (0, 1]", "non-negative"), null: any
struct NumberRule {
  double lo, hi;
  bool lo_open, hi_open;
  const char* text;
};
// enum: one of values (the kernel gets the index); choices lists them for the message
struct EnumRule {
  const char* const* values;
  uint8_t count;
  const char* choices;
};
// arrays: written if kOut; an output may be exactly the arguments in same_as (a bit per position); has_index: an
// Int32Array of indices in [0, index)
struct ArrayRule {
  Io io;
  uint32_t same_as;
  Length length;
  bool has_index;
  P index;
  ValueCheck check;
};

struct ArgSpec {
  const char* name;
  ArgKind kind;
  bool optional;  // a flag that may be left out (false), an array that may be null or left out
  SizeRule size;
  NumberRule number;
  EnumRule choice;
  ArrayRule array;
};

constexpr ArgSpec size_arg(const char* name, int64_t min = 0, int unless_zero = -1) {
  return {name, kSize, false, {min, (int8_t)unless_zero}, {}, {}, {}};
}
constexpr ArgSpec number_arg(const char* name, NumberRule rule = {-kInf, kInf, true, true, nullptr}) {
  return {name, kNumber, false, {}, rule, {}, {}};
}
constexpr ArgSpec flag_arg(const char* name, bool optional = false) { return {name, kFlag, optional, {}, {}, {}, {}}; }
constexpr ArgSpec enum_arg(const char* name, EnumRule rule) { return {name, kEnum, false, {}, {}, rule, {}}; }
constexpr ArgSpec floats_arg(const char* name, Io io, Length length, uint32_t same_as = 0, bool nullable = false,
                             ValueCheck check = nullptr) {
  return {name, kFloats, nullable, {}, {}, {}, {io, same_as, length, false, {}, check}};
}
constexpr ArgSpec int32s_arg(const char* name, Io io, Length length) {
  return {name, kInt32s, false, {}, {}, {}, {io, 0, length, false, {}, nullptr}};
}
constexpr ArgSpec int32s_arg(const char* name, Io io, Length length, P index) {
  return {name, kInt32s, false, {}, {}, {}, {io, 0, length, true, index, nullptr}};
}
constexpr ArgSpec int32s_arg(const char* name, Io io, Length length, ValueCheck check) {
  return {name, kInt32s, false, {}, {}, {}, {io, 0, length, false, {}, check}};
}

// A hook as kernels use it: its check, the slots of the sizes it reads, and how many sizes it derives.
struct HookUse {
  Hook check;
  uint8_t args[kMaxSlots];
  uint8_t arg_count;
  uint8_t derived_count;
};

// An output and another array that must not overlap, unless same_ok and they are the very same array.
struct MemoryRule {
  uint8_t out, other;
  bool same_ok;
};
const int kMaxMemoryRules = 32;

// The order of the checks, by argument position (spec.ts plan()): lists of positions, each with its count.
struct Plan {
  uint8_t scalars[kMaxSlots], scalar_count;
  uint8_t arrays[kMaxSlots], array_count;
  MemoryRule memory[kMaxMemoryRules];
  uint8_t memory_count;
  uint8_t contents[kMaxSlots], content_count;
};

struct KernelSpec {
  const char* name;
  const char* signature;  // "gemm(transA, transB, M, ...)", as the argument-count error names the call
  const ArgSpec* args;
  uint8_t arg_count;
  uint8_t required;  // trailing nullable arrays and optional flags may be left out
  const HookUse* hook;
  const char* oom;  // the kernel returns false when out of memory for this scratch (null: it returns no bool)
  Plan plan;
};

}  // namespace nodenn
