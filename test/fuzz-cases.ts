// The fuzzer's table: one signature per exported native function, and a generator of random and hostile calls.
// A signature says how to build a VALID call from a few random sizes; each case then starts from a valid call and
// applies random mutations (wrong types, short/empty/detached/shared buffers, hostile numbers, overlapping
// outputs, missing or extra arguments). The kernels' signatures come from the kernel spec (src/backend/spec.ts):
// the arguments, their lengths and ranges; only the sizes a valid call draws (kept small so a case runs in
// microseconds) and the rules of the check hooks are written here. test/fuzz.spec.ts fails if the addon exports a
// function that has no signature here.
import {
  type ArgSpec as KernelArg, type HookName, type KernelSpec, type Length, enums, kernels, parseProduct, parseRange,
} from '../src/backend/spec';
import { ASYNC_KERNELS } from '../src/backend/backend';
import { nativeAddon } from '../src/backend/index';
import { rng } from './helpers';

/** How one argument of a valid call is made from the call's sizes. */
export type ArgSpec =
  | { t: 'size'; size: string }
  | { t: 'scalar'; lo: number; hi: number } // a finite number
  | { t: 'float'; len: (s: Sizes) => number; out?: boolean; lo?: number; hi?: number } // a float array of the call's dtype, values in [lo, hi) (default [-2, 2))
  | { t: 'optFloat'; len: (s: Sizes) => number } // a float array or null (an optional output)
  | { t: 'int32'; len: (s: Sizes) => number; lo: number; hi: (s: Sizes) => number } // Int32Array of values in [lo, hi)
  | { t: 'choice'; values: readonly unknown[] } // one of these values (strings of an enum)
  | { t: 'flag'; size: string } // a boolean drawn with the sizes: sizes[size] === 1 (lengths may depend on it)
  | { t: 'custom'; make: (s: Sizes, r: () => number, C: FloatCtor, exact: boolean) => unknown }; // a kernel's own rule

export type Sizes = Record<string, number>;

export interface Signature {
  /** Size names with their [min, max] for valid calls (kept small so a case runs in microseconds). */
  sizes: Record<string, [number, number]>;
  args: ArgSpec[];
  /** Functions that change global state (ISA, threads) are restored by the caller. */
  stateful?: boolean;
  /** Makes the random sizes consistent (e.g. a kernel no larger than its padded input) and adds derived ones. */
  fix?: (s: Sizes) => void;
}

const windowOut = (input: number, k: number, stride: number, pad: number) => 1 + Math.floor((input + 2 * pad - k) / stride);

/** Valid sizes of each check hook's arguments, and the rule that keeps them valid (adding the derived sizes). */
const hookSizes: { [K in HookName]: Pick<Signature, 'sizes' | 'fix'> } = {
  conv: {
    sizes: { N: [0, 2], C: [1, 3], H: [1, 6], W: [1, 6], F: [1, 3], KH: [1, 3], KW: [1, 3], strideH: [1, 2],
      strideW: [1, 2], padH: [0, 1], padW: [0, 1] },
    fix: (s) => {
      s.H = Math.max(s.H, s.KH); s.W = Math.max(s.W, s.KW);
      s.OH = windowOut(s.H, s.KH, s.strideH, s.padH); s.OW = windowOut(s.W, s.KW, s.strideW, s.padW);
    },
  },
  // both outputs at least 2 x 2 (each is pooled): an input at least 5 more than the first window, so that the first
  // output is at least 6 and its pooling at least 3, which a second window of 1 or 2 leaves at least 2
  convChain: {
    sizes: { N: [0, 2], C: [1, 3], H: [1, 9], W: [1, 9], F: [1, 3], KH: [1, 3], KW: [1, 3], strideH: [1, 1],
      strideW: [1, 1], padH: [0, 1], padW: [0, 1], F2: [1, 3], KH2: [1, 2], KW2: [1, 2], strideH2: [1, 1],
      strideW2: [1, 1], padH2: [0, 1], padW2: [0, 1] },
    fix: (s) => {
      s.H = Math.max(s.H, s.KH + 5); s.W = Math.max(s.W, s.KW + 5);
      s.OH = windowOut(s.H, s.KH, s.strideH, s.padH); s.OW = windowOut(s.W, s.KW, s.strideW, s.padW);
      s.OH2 = windowOut(Math.floor(s.OH / 2), s.KH2, s.strideH2, s.padH2);
      s.OW2 = windowOut(Math.floor(s.OW / 2), s.KW2, s.strideW2, s.padW2);
    },
  },
  pool: {
    sizes: { N: [0, 2], C: [1, 3], H: [1, 6], W: [1, 6], KH: [1, 3], KW: [1, 3], strideH: [1, 2], strideW: [1, 2] },
    fix: (s) => {
      s.H = Math.max(s.H, s.KH); s.W = Math.max(s.W, s.KW);
      s.OH = windowOut(s.H, s.KH, s.strideH, 0); s.OW = windowOut(s.W, s.KW, s.strideW, 0);
    },
  },
  // training needs two values per channel: N * S >= 2
  batchNorm: { sizes: { N: [1, 3], C: [0, 3], S: [1, 4] }, fix: (s) => { if (s.N * s.S < 2) s.S = 2; } },
  // each axis: equal sizes or a 1 (an odd pair becomes a 1 on one side, so both kinds of axis occur)
  broadcast: {
    sizes: Object.fromEntries(['a', 'b'].flatMap((p) => [0, 1, 2, 3].map((i) => [`${p}${i}`, [0, 3]]))),
    fix: (s) => broadcastFix(s, ['a', 'b']),
  },
  broadcastWhere: {
    sizes: Object.fromEntries(['c', 'a', 'b'].flatMap((p) => [0, 1, 2, 3].map((i) => [`${p}${i}`, [0, 3]]))),
    fix: (s) => broadcastFix(s, ['c', 'a', 'b']),
  },
};

/** Makes the operands' sizes broadcast (a size other than the first one found, and other than 1, becomes 1). */
function broadcastFix(s: Sizes, operands: string[]): void {
  for (let i = 0; i < 4; i++) {
    let y = 1;
    for (const p of operands) {
      const d = s[`${p}${i}`];
      if (d === 1) continue;
      if (y === 1) y = d;
      else if (d !== y) s[`${p}${i}`] = 1;
    }
    s[`y${i}`] = y;
  }
}

/** A length of the spec over the drawn sizes. */
function lengthOf(l: Length): (s: Sizes) => number {
  const product = (text: string) => {
    const { factors } = parseProduct(text);
    return (s: Sizes) => factors.reduce((r, f) => r * Math.floor(s[f.name] / f.div), 1);
  };
  if (typeof l === 'string') return product(l);
  const [cond, then, otherwise] = [l.if, product(l.then), product(l.else)];
  return (s) => (s[cond] ? then(s) : otherwise(s));
}

/** How a valid value of a spec'd argument is drawn. */
function argOf(a: KernelArg): ArgSpec {
  switch (a.kind) {
    case 'size': return { t: 'size', size: a.name };
    case 'number': {
      if (!a.range) return { t: 'scalar', lo: -2, hi: 2 };
      const r = parseRange(a.range);
      return { t: 'scalar', lo: Math.max(r.lo, -2) + (r.loOpen ? 1e-6 : 0), hi: Math.min(r.hi, 2) };
    }
    case 'bool': return { t: 'flag', size: a.name };
    case 'enum': return { t: 'choice', values: enums[a.enum].values };
    case 'floats':
      if (a.nullable) return { t: 'optFloat', len: lengthOf(a.length) };
      // probabilities: [0, 1); anything else in [-2, 2)
      return a.check ? { t: 'float', len: lengthOf(a.length), lo: 0, hi: 1 } : { t: 'float', len: lengthOf(a.length), out: a.output };
    case 'int32s': return { t: 'int32', len: lengthOf(a.length), lo: 0, hi: a.index ? lengthOf(a.index) : () => 1 };
  }
}

/** A kernel's signature from its spec: sizes of at most 6 (40 for a kernel of one size), those of its hook. */
function kernelSignature(k: KernelSpec): Signature {
  const sizeArgs = k.args.filter((a) => a.kind === 'size');
  const sizes: Record<string, [number, number]> = {};
  for (const a of k.args) {
    if (a.kind === 'size') sizes[a.name] = [a.min ?? 0, sizeArgs.length === 1 ? 40 : 6];
    if (a.kind === 'bool') sizes[a.name] = [0, 1];
  }
  const hook = k.hook ? hookSizes[k.hook] : null;
  return { sizes: { ...sizes, ...hook?.sizes }, args: k.args.map(argOf), fix: hook?.fix };
}

type FloatCtor = Float32ArrayConstructor | Float64ArrayConstructor;

function floats(C: FloatCtor, n: number, r: () => number): Float32Array | Float64Array {
  const x = new C(n);
  for (let i = 0; i < x.length; i++) x[i] = 4 * r() - 2;
  return x;
}

/**
 * planForward: its program (the value check planProgram) is drawn with the sizes: `layers` Dense layers, after layer
 * i `after<i>` activation or softmax steps; outputs and width follow from the widths d0 .. d4. The weights of the
 * layers the program runs are always given, the others and the biases may be null.
 */
function planSignature(k: KernelSpec): Signature {
  const base = kernelSignature(k);
  const at = (name: string) => k.args.findIndex((a) => a.name === name);
  const args = [...base.args];
  args[at('program')] = {
    t: 'custom',
    make: (s, r) => {
      const words: number[] = [];
      for (let i = 0; i < s.layers; i++) {
        words.push(0, i, 0, 0);
        for (let j = 0; j < s[`after${i}`]; j++) {
          if (r() < 0.2) { words.push(2, 0, 0, 0); continue; }
          const kind = Math.floor(r() * 5), slope = new Float64Array([kind === 1 ? 2 * r() - 1 : 0]);
          words.push(1, kind, ...new Int32Array(slope.buffer));
        }
      }
      return Int32Array.from(words);
    },
  };
  for (let i = 0; i < 4; i++) {
    args[at(`w${i}`)] = {
      t: 'custom',
      make: (s, r, C, exact) => (i >= s.layers && !exact && r() < 0.3 ? null : floats(C, s[`d${i}`] * s[`d${i + 1}`], r)),
    };
    args[at(`b${i}`)] = { t: 'custom', make: (s, r, C, exact) => (!exact && r() < 0.3 ? null : floats(C, s[`d${i + 1}`], r)) };
  }
  return {
    sizes: { ...base.sizes, rows: [0, 3], d0: [1, 6], d1: [1, 6], d2: [1, 6], d3: [1, 6], d4: [1, 6], layers: [1, 4], after0: [0, 2], after1: [0, 2], after2: [0, 2], after3: [0, 2],
      extraWidth: [0, 2] },
    args,
    fix: (s) => {
      s.outputs = s[`d${s.layers}`];
      s.width = 2 * Math.max(...[1, 2, 3, 4].slice(0, s.layers).map((i) => s[`d${i}`])) + s.extraWidth;
      let steps = s.layers;
      for (let i = 0; i < s.layers; i++) steps += s[`after${i}`];
      s.programLength = 4 * steps;
    },
  };
}

/** A plan of planPrepare for planRun's valid calls: up to `rows` rows, the float type C. */
function preparedPlan(rows: number, C: FloatCtor, r: () => number): unknown {
  const prepare = nativeAddon().planPrepare as unknown as (...a: unknown[]) => unknown;
  return prepare(rows, 2, 6, 16, 2, 3, 2, 0, 0, Int32Array.from([0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 2, 0, 0, 0]),
    floats(C, 2 * rows, r), new C(2 * rows), new C(6 * rows), floats(C, 6, r), floats(C, 3, r), floats(C, 6, r),
    floats(C, 2, r));
}

export const signatures: Record<string, Signature> = {
  info: { sizes: {}, args: [] },
  // this architecture's ISAs (the other's names are unknown ISAs: test/process.spec.ts)
  setIsa: {
    sizes: {},
    args: [{ t: 'choice', values: process.arch === 'arm64' ? ['scalar', 'neon'] : ['scalar', 'avx2', 'avx512'] }],
    stateful: true,
  },
  setThreads: { sizes: { n: [1, 3] }, args: [{ t: 'size', size: 'n' }], stateful: true },
  // a regular file, a missing one, an empty path, a directory, a device and a file whose size stat reports as 0
  mapFile: { sizes: {}, args: [{ t: 'choice', values: ['package.json', 'no-such-file', '', 'test', '/dev/null', '/proc/self/maps'] }] },
  ...Object.fromEntries(Object.entries(kernels).map(([name, k]: [string, KernelSpec]) => [name, kernelSignature(k)])),
  planForward: planSignature(kernels.planForward),
  // planForward's call, keeping its plan; planRun takes a plan of up to `cap` rows (2 -> 3 -> 2 wide, ReLU, softmax)
  planPrepare: planSignature(kernels.planForward),
  planRun: {
    sizes: { rows: [0, 3], cap: [0, 3] },
    fix: (s) => { s.cap = Math.max(s.cap, s.rows); },
    args: [{ t: 'custom', make: (s, r, C) => preparedPlan(s.cap, C, r) }, { t: 'size', size: 'rows' },
      { t: 'float', len: (s) => 2 * s.rows }, { t: 'float', len: (s) => 2 * s.rows, out: true }],
  },
  // the Async forms read their arguments as the kernels do
  ...Object.fromEntries(ASYNC_KERNELS.map((k) => [`${k}Async`, kernelSignature(kernels[k])])),
};

/** Numbers no size or scalar should survive unchecked. */
export const hostileNumbers = [-1, -0, 0.5, -2.5, NaN, Infinity, -Infinity, 2 ** 31, 2 ** 31 - 1, 2 ** 32, 2 ** 32 + 1,
  2 ** 53, 2 ** 53 + 2, -(2 ** 53), 2 ** 63, Number.MAX_VALUE, Number.MIN_VALUE, Number.EPSILON, 1e300, -1e-300, 65536,
  46341 /* 46341^2 > 2^31 */, 3037000500 /* its square passes 2^63 */];

const FloatCtors = [Float32Array, Float64Array];

export interface Case {
  name: string;
  args: unknown[];
  /** What was done to the valid call, for the failure message. */
  mutations: string[];
}

function detached(len: number, C: Float32ArrayConstructor | Float64ArrayConstructor) {
  const a = new C(len);
  structuredClone(a.buffer, { transfer: [a.buffer] });
  return a;
}

export interface ValidCallOptions {
  /** Every size at least 1 (so that a size's minimum can be broken). */
  nonEmpty?: boolean;
  /** Arrays of exactly the needed length, optional ones never null. */
  exact?: boolean;
}

/** A valid call of a signature: the arguments, with the sizes drawn for it. */
export function validCall(sig: Signature, r: () => number, opts: ValidCallOptions = {}): { args: unknown[]; sizes: Sizes } {
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
  const sizes: Sizes = {};
  for (const [k, [lo, hi]] of Object.entries(sig.sizes)) sizes[k] = opts.nonEmpty ? int(Math.max(lo, 1), Math.max(hi, 1)) : int(lo, hi);
  sig.fix?.(sizes);
  const C = pick(FloatCtors);
  const args: unknown[] = sig.args.map((a) => {
    switch (a.t) {
      case 'size': return sizes[a.size];
      case 'scalar': return a.lo + (a.hi - a.lo) * r();
      case 'float': case 'optFloat': {
        if (a.t === 'optFloat' && r() < 0.3 && !opts.exact) return null;
        const x = new C(a.len(sizes) + (r() < 0.2 && !opts.exact ? int(1, 3) : 0));
        const lo = a.t === 'float' ? a.lo ?? -2 : -2, hi = a.t === 'float' ? a.hi ?? 2 : 2;
        for (let i = 0; i < x.length; i++) x[i] = lo + (hi - lo) * r();
        return x;
      }
      case 'int32': return Int32Array.from({ length: a.len(sizes) }, () => int(a.lo, a.hi(sizes) - 1));
      case 'choice': return pick(a.values);
      case 'flag': return sizes[a.size] === 1;
      case 'custom': return a.make(sizes, r, C, opts.exact ?? false);
    }
  });
  return { args, sizes };
}

/** A deterministic stream of cases for one function. */
export function makeCase(name: string, sig: Signature, r: () => number): Case {
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
  const { args } = validCall(sig, r);
  const mutations: string[] = [];
  const nMut = r() < 0.1 ? 0 : int(1, 3);
  for (let attempt = 0; attempt < 30 && mutations.length < nMut && args.length > 0; attempt++) {
    const i = int(0, args.length - 1);
    const spec = sig.args[i];
    const cur = args[i];
    const kind = int(0, 16);
    let desc = '';
    try {
      desc = mutate();
    } catch {
      desc = ''; // the mutation does not apply to this value (e.g. a detached array cannot be copied)
    }
    if (desc) mutations.push(`arg ${i}: ${desc}`);

    function mutate(): string {
      let desc = '';
      if (kind === 0) { args[i] = pick(hostileNumbers); desc = `${String(args[i])}`; } else if (kind === 1) {
        const junk: unknown[] = [undefined, null, true, 'x', '3', {}, [], [1, 2, 3], 10n, Symbol('s'), () => 1,
          new Date(0), new ArrayBuffer(16), new DataView(new ArrayBuffer(16)), { length: 4 },
          Object.create(Float32Array.prototype), new Proxy(new Float32Array(4), {})];
        const j = int(0, junk.length - 1);
        args[i] = junk[j];
        desc = `junk #${j}`;
      } else if (kind === 2 && ArrayBuffer.isView(cur)) {
        const kinds = [Int32Array, Uint8Array, Uint8ClampedArray, Int16Array, Float32Array, Float64Array, BigInt64Array];
        const K = pick(kinds);
        args[i] = new K((cur as Float32Array).length);
        desc = `as ${K.name}`;
      } else if (kind === 3 && ArrayBuffer.isView(cur)) {
        const a = cur as Float32Array;
        args[i] = a.subarray(0, Math.max(0, a.length - int(1, 3)));
        desc = 'shortened';
      } else if (kind === 4 && ArrayBuffer.isView(cur)) {
        args[i] = new ((cur as Float32Array).constructor as Float32ArrayConstructor)(0);
        desc = 'empty';
      } else if (kind === 5 && ArrayBuffer.isView(cur)) {
        const a = cur as Float32Array;
        const ctor = a.constructor as Float32ArrayConstructor | Float64ArrayConstructor;
        args[i] = ctor === Float32Array || ctor === Float64Array ? detached(a.length, ctor) : new ctor(0);
        desc = 'detached';
      } else if (kind === 6 && ArrayBuffer.isView(cur)) {
        const a = cur as Float32Array;
        const ctor = a.constructor as Float32ArrayConstructor;
        const s = new ctor(new SharedArrayBuffer(a.byteLength + ctor.BYTES_PER_ELEMENT));
        s.set(a);
        args[i] = s.subarray(0, a.length);
        desc = 'SharedArrayBuffer-backed';
      } else if (kind === 7 && ArrayBuffer.isView(cur)) {
      // Alias another array argument: the very same array, or a window partly overlapping it.
        const others = args.map((v, k) => [v, k] as const).filter(([v, k]) => k !== i && ArrayBuffer.isView(v));
        if (others.length) {
          const [o, k] = pick(others);
          const arr = o as Float32Array;
          args[i] = r() < 0.5 ? arr : arr.subarray(Math.min(arr.length, int(0, 2)));
          desc = `aliases arg ${k}`;
        }
      } else if (kind === 8 && spec && spec.t === 'size') {
        args[i] = (cur as number) + pick([1, 2, 1000, 2 ** 20, 2 ** 30]);
        desc = 'size grown';
      } else if (kind === 9) { args.length = int(0, args.length - 1); desc = `only ${args.length} args`; } else if (kind === 10) { args.push(pick([1, null, new Float32Array(2)])); desc = 'extra arg'; } else if (kind === 11 && cur instanceof Int32Array) {
        const a = Int32Array.from(cur);
        if (a.length) a[int(0, a.length - 1)] = pick([-1, -(2 ** 31), 2 ** 31 - 1, 1000]);
        args[i] = a;
        desc = 'label out of range';
      } else if (kind === 12 && ArrayBuffer.isView(cur)) {
        const a = cur as Float32Array;
        if (a.length) a[int(0, a.length - 1)] = pick([NaN, Infinity, -Infinity, 3e38, -3e38, 1e-45]);
        desc = 'non-finite element';
      } else if (kind === 14 && ArrayBuffer.isView(cur)) {
      // This argument's kind of array over ANOTHER argument's memory (e.g. a float output over Int32 labels).
        const others = args.map((v, k) => [v, k] as const).filter(([v, k]) => k !== i && ArrayBuffer.isView(v) &&
          (v as Float32Array).byteLength > 0);
        if (others.length) {
          const [o, k] = pick(others);
          const ov = o as Float32Array;
          const ctor = (cur as Float32Array).constructor as Float32ArrayConstructor;
          const bytes = ctor.BYTES_PER_ELEMENT;
          const start = Math.ceil(ov.byteOffset / bytes) * bytes;
          const room = Math.floor((ov.buffer.byteLength - start) / bytes);
          args[i] = new ctor(ov.buffer, start, Math.min(room, Math.max((cur as Float32Array).length, 1)));
          desc = `${ctor.name} over arg ${k}'s memory`;
        }
      } else if (kind === 15 && ArrayBuffer.isView(cur)) {
      // Over a resizable ArrayBuffer, then shrunk: a fixed-length view goes out of bounds (length 0), a
      // length-tracking one follows the new size.
        const a = cur as Float32Array;
        const ctor = a.constructor as Float32ArrayConstructor;
        const bytes = ctor.BYTES_PER_ELEMENT;
        const buf = new (ArrayBuffer as unknown as new (n: number, o: object) => ArrayBuffer & { resize(n: number): void })(
          (a.length + 2) * bytes, { maxByteLength: (a.length + 8) * bytes });
        const tracking = r() < 0.5;
        args[i] = tracking ? new ctor(buf, bytes) : new ctor(buf, bytes, a.length);
        buf.resize(int(0, a.length + 1) * bytes);
        desc = `${tracking ? 'length-tracking' : 'fixed'} view of a shrunk resizable buffer`;
      } else if (kind === 16 && spec && spec.t === 'size') {
      // An empty array of long sizes: this size 0, another one 2^30 (their product is 0, not too large; no
      // kernel may loop over the long one)
        const others = sig.args.map((a, k) => [a, k] as const).filter(([a, k]) => k !== i && a.t === 'size');
        if (others.length) {
          const [, k] = pick(others);
          args[i] = 0;
          args[k] = 2 ** 30;
          desc = `0, arg ${k} 2^30`;
        }
      } else if (kind === 13 && typeof cur === 'string') {
        args[i] = pick(['', 'RELU', 'avx1024', 'relu\0x', 'x'.repeat(10000)]);
        desc = 'bad string';
      }
      return desc;
    }
  }
  return { name, args, mutations };
}

/** Arguments that are hostile through and through, for a function with no signature (or as extra cases). */
export function blindCase(name: string, r: () => number): Case {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
  const values: unknown[] = [...hostileNumbers, 0, 1, 2, 3, true, false, null, undefined, 'relu', '', {},
    new Float32Array(0), new Float32Array(3), new Float64Array(5), new Int32Array(2), new Uint8Array(7),
    detached(4, Float32Array)];
  const n = Math.floor(r() * 14);
  return { name, args: Array.from({ length: n }, () => pick(values)), mutations: ['blind'] };
}

export function caseStream(seed: number) {
  return rng(seed);
}
