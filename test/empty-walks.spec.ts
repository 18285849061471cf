// Empty arrays of long sizes: every kernel called with one size 0 (two for gemm) and the others as large as the spec
// allows without allocating (2^30 wherever a size only multiplies the empty one), on every backend. Such a call has
// nothing to do, so it must cost next to nothing: a kernel that walks 2^30 empty rows or planes spends seconds
// (batchNormBackward with S = 0 and softmaxBackward with cols = 0 did, found by the fuzz; this spec found
// batchNormForward and batchNormReluForward in eval with S = 0, and native gemmBatched with M or N 0). The calls are
// built from the spec (src/backend/spec.ts): from a small valid call, each other size in turn is raised to 2^30 where
// the checks still accept it with arrays of at most LIMIT elements, until none more can be.
import { beforeEach, describe, expect, it } from 'vitest';
import { getBackend, tsBackend } from '../src/backend/index';
import { checker } from '../src/backend/ts/checks';
import { type ArgSpec, kernelNames, kernels, type KernelName, parseRange } from '../src/backend/spec';
import { backends, type Ctor, dtypes, useBackend } from './helpers';

const BIG = 2 ** 30;
/** The longest array a call may need: anything longer is not 'without allocating'. */
const LIMIT = 256;
/** CPU time one call may take (ms): an empty call costs microseconds, a walk over 2^30 empty rows seconds. */
const CALL_MS = 25;

/** The sizes of a small valid call where the default (2 for every size) is not one. */
const baselines: Partial<Record<KernelName, Record<string, number>>> = {
  conv2dChainForward: { H: 6, W: 6, KH: 1, KW: 1, strideH: 1, strideW: 1, padH: 0, padW: 0, KH2: 1, KW2: 1,
    strideH2: 1, strideW2: 1, padH2: 0, padW2: 0 },
  broadcastBinary: { a0: 1, a1: 1, a2: 1, a3: 1, b0: 1, b1: 1, b2: 1, b3: 1 },
  broadcastWhere: { c0: 1, c1: 1, c2: 1, c3: 1, a0: 1, a1: 1, a2: 1, a3: 1, b0: 1, b1: 1, b2: 1, b3: 1 },
  planForward: { rows: 3, outputs: 1, width: 2, programLength: 4, d0: 1, d1: 1, d2: 0, d3: 0, d4: 0 },
};

interface Call { name: KernelName; sizes: Record<string, number>; flags: boolean }

function scalarValue(a: ArgSpec, sizes: Record<string, number>, flags: boolean): unknown {
  switch (a.kind) {
    case 'size': return sizes[a.name];
    case 'bool': return flags;
    case 'enum': return { activation: 'relu', binaryOp: 'add', unaryOp: 'exp', reduceOp: 'sum', argReduceOp: 'argmax' }[a.enum];
    case 'number': {
      if (!a.range) return 0.5;
      const r = parseRange(a.range);
      return r.hi === Infinity ? r.lo + 0.5 : (r.lo + r.hi) / 2;
    }
    default: return undefined;
  }
}

/**
 * The arguments of a call: scalars as given, each array as long as the checks ask (found by asking them: an array
 * of 0 elements draws 'expected at least n'); null when the checks refuse the sizes or an array would be too long.
 * Each array is a view of LIMIT + 1 elements' memory, the element after it a sentinel (view).
 */
function build(name: KernelName, sizes: Record<string, number>, flags: boolean, C: Ctor): unknown[] | null {
  const spec = kernels[name];
  const check = checker(name);
  const args: unknown[] = spec.args.map((a) => {
    if (a.kind === 'floats' || a.kind === 'int32s') return view(a.kind, 0, C);
    return scalarValue(a, sizes, flags);
  });
  if (name === 'planForward') {
    args[spec.args.findIndex((a) => a.name === 'program')] = view('int32s', 4, C);  // one step: Dense layer 0
  }
  for (let tries = 0; tries <= spec.args.length; tries++) {
    try {
      check(args);
      return args;
    } catch (e) {
      const m = /^(\w+) has \d+ elements, expected at least (\d+)$/.exec((e as Error).message);
      if (!m) return null;
      const n = Number(m[2]);
      if (n > LIMIT) return null;
      const i = spec.args.findIndex((a) => a.name === m[1]);
      args[i] = view(spec.args[i].kind as 'floats' | 'int32s', n, C);
    }
  }
  return null;
}

/** n elements (in [0, 1): probabilities; index 0), in memory of LIMIT + 1 holding a sentinel 77 after them. */
function view(kind: 'floats' | 'int32s', n: number, C: Ctor): Float32Array | Float64Array | Int32Array {
  const memory = kind === 'int32s' ? new Int32Array(LIMIT + 1) : new C(LIMIT + 1);
  for (let k = 0; k < memory.length; k++) memory[k] = kind === 'int32s' ? 0 : ((k * 7) % 5) / 5;
  memory[n] = 77;
  return memory.subarray(0, n);
}

/** The call with `zeros` 0 and every other size 2^30 that can be (raised in turn until none more can), or null. */
function grow(name: KernelName, base: Record<string, number>, zeros: string[], flags: boolean): Call | null {
  const sizes = { ...base };
  for (const z of zeros) sizes[z] = 0;
  if (!build(name, sizes, flags, Float64Array)) return null;
  for (let changed = true; changed;) {
    changed = false;
    for (const s of Object.keys(sizes)) {
      if (zeros.includes(s) || sizes[s] === BIG) continue;
      const before = sizes[s];
      sizes[s] = BIG;
      if (build(name, sizes, flags, Float64Array)) changed = true;
      else sizes[s] = before;
    }
  }
  return Object.values(sizes).includes(BIG) ? { name, sizes, flags } : null;
}

/**
 * Every kernel, each size made 0 in turn (where the spec allows), flags all false and all true; two sizes 0 where
 * one leaves no other size free to grow (gemm: M = 0 still needs K N elements of B).
 */
function calls(): Call[] {
  const out: Call[] = [];
  for (const name of kernelNames) {
    const sizeNames = kernels[name].args.filter((a) => a.kind === 'size').map((a) => a.name);
    const found = (zeroSets: string[][]) => {
      const n = out.length;
      for (const flags of [false, true]) {
        const base = { ...Object.fromEntries(sizeNames.map((s) => [s, 2])), ...baselines[name] };
        if (!build(name, base, flags, Float64Array)) continue;
        for (const zeros of zeroSets) {
          const c = grow(name, base, zeros, flags);
          if (c) out.push(c);
        }
      }
      return out.length > n;
    };
    if (!found(sizeNames.map((s) => [s]))) {
      found(sizeNames.flatMap((s, i) => sizeNames.slice(i + 1).map((t) => [s, t])));
    }
  }
  return out;
}

const cases = calls();

function label(c: Call): string {
  const spec = kernels[c.name];
  const sizes = spec.args.filter((a) => a.kind === 'size')
    .map((a) => `${a.name} ${c.sizes[a.name] === BIG ? '2^30' : c.sizes[a.name]}`);
  return `${c.name}(${sizes.join(', ')}${c.flags ? ', flags true' : ''})`;
}

describe('the empty-walk calls', () => {
  it('cover every kernel with two sizes or more but those where a 0 leaves no other size free to grow', () => {
    const covered = new Set(cases.map((c) => c.name));
    const uncovered = kernelNames.filter((k) => !covered.has(k) &&
      kernels[k].args.filter((a) => a.kind === 'size').length > 1);
    // the losses take no empty arrays (rows and cols at least 1); sgd2's two sizes each size only their own arrays,
    // so a 0 leaves no other size free to grow without allocating; layerNorm's rows size mean and rstd and its n
    // gamma (n is at least 1 unless rows is 0), so likewise
    expect(uncovered).toEqual(['softmaxCrossEntropyIndex', 'softmaxCrossEntropyArgmax', 'softmaxCrossEntropyTarget',
      'mse', 'crossEntropyProbs', 'sgd2', 'layerNormForward', 'layerNormBackward']);
  });
});

/** The float and int arrays of a call, with the whole memory each is a view of (its sentinel after it). */
function arrays(args: unknown[]): { view: ArrayLike<number>; memory: ArrayLike<number> }[] {
  return args.filter((a) => ArrayBuffer.isView(a)).map((a) => {
    const v = a as Float64Array;
    return { view: v, memory: new (v.constructor as Float64ArrayConstructor)(v.buffer) };
  });
}

/** The sizes of the call with every 2^30 put back to its small value, when the arrays come out the same lengths. */
function smallArgs(c: Call, big: unknown[], C: Ctor): unknown[] | null {
  const sizes = { ...c.sizes };
  for (const s of Object.keys(sizes)) if (sizes[s] === BIG) sizes[s] = (baselines[c.name] ?? {})[s] ?? 2;
  const args = build(c.name, sizes, c.flags, C);
  if (!args) return null;
  const a = arrays(args), b = arrays(big);
  return a.every((x, i) => x.view.length === b[i].view.length) ? args : null;
}

/** The same values: NaN for NaN, else within tol relatively (the backends may sum in other orders). */
function sameValues(what: string, got: ArrayLike<number>, want: ArrayLike<number>, tol: number): void {
  for (let i = 0; i < want.length; i++) {
    const a = got[i], b = want[i];
    if (!(Number.isNaN(a) && Number.isNaN(b)) && !(a === b || Math.abs(a - b) <= tol * Math.abs(b))) {
      throw new Error(`${what}: element ${i} is ${a}, expected ${b}`);
    }
  }
}

type Fn = (...a: unknown[]) => unknown;
const kernelOf = (b: unknown, name: KernelName) => (b as Record<string, Fn>)[name];

describe.each(backends)('empty arrays of long sizes on $label', (bc) => {
  beforeEach(() => useBackend(bc));

  it.each(dtypes)('%s: every kernel returns at once, with the values of the same call with small sizes', (_, C) => {
    const slow: string[] = [], wrong: string[] = [];
    const tol = C === Float32Array ? 1e-6 : 1e-14;
    let small = 0;
    for (const c of cases) {
      const args = build(c.name, c.sizes, c.flags, C)!;
      const f = kernelOf(getBackend(), c.name);
      const cpuMs = (a: unknown[]) => {
        const cpu = process.cpuUsage();
        const r = f(...a);
        const used = process.cpuUsage(cpu);
        return { r, ms: (used.user + used.system) / 1000 };
      };
      const { r: result, ms } = cpuMs(args);
      // a slow call is timed again (a walk is slow every time; a garbage collection that fell in it is not)
      if (ms > CALL_MS) {
        const again = cpuMs(build(c.name, c.sizes, c.flags, C)!).ms;
        if (again > CALL_MS) slow.push(`${label(c)}: ${ms.toFixed(0)} and ${again.toFixed(0)} ms`);
      }
      // The values: those of the TS backend's call with small sizes where the arrays keep their lengths (sizes that
      // only multiply the empty one), else of its call with the same sizes (the native rows against TS).
      let want = smallArgs(c, args, C);
      if (want) small++;
      else want = build(c.name, c.sizes, c.flags, C)!;
      const wantResult = kernelOf(tsBackend, c.name)(...want);
      const got = arrays(args), expected = arrays(want);
      try {
        if (typeof wantResult === 'number') sameValues('the result', [result as number], [wantResult], tol);
        got.forEach((g, i) => {
          sameValues(`array ${i}`, g.memory, expected[i].memory, tol);
          expect(g.memory[g.view.length]).toBe(77);  // nothing written after the array
        });
      } catch (e) {
        wrong.push(`${label(c)}: ${(e as Error).message}`);
      }
    }
    expect(wrong).toEqual([]);
    expect(slow).toEqual([]);
    expect(small).toBeGreaterThan(cases.length / 2);
  });
});

describe.each(backends.filter((b) => b.backend === 'native'))('planPrepare and planRun on $label', (bc) => {
  beforeEach(() => useBackend(bc));

  it('prepare and run a plan of no rows as wide as 2^30 at once, writing nothing', () => {
    const plans = cases.filter((c) => c.name === 'planForward');
    expect(plans.length).toBeGreaterThan(0);
    const { planPrepare, planRun } = getBackend();
    for (const c of plans) {
      const args = build(c.name, c.sizes, c.flags, Float64Array)!;
      const [x, y] = [args[10], args[11]] as Float64Array[];
      const cpu = process.cpuUsage();
      const plan = planPrepare!(...(args as Parameters<NonNullable<typeof planPrepare>>));
      planRun!(plan, 0, x, y);
      const used = process.cpuUsage(cpu);
      for (const a of arrays(args)) expect(a.memory[a.view.length]).toBe(77);
      expect((used.user + used.system) / 1000).toBeLessThan(2 * CALL_MS);
    }
  });
});
