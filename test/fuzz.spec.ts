// Fuzzing the native addon: every exported function, random and hostile arguments (see test/fuzz-cases.ts).
// Each call must either return or throw a TypeError/RangeError; the process must survive (a crash fails the
// file). The TS backend is the oracle: both backends must accept or reject each kernel call alike, with the same
// error, word for word, so a check that addon.cc misses shows up as a disagreement even when it does not crash.
// NODENN_FUZZ_CASES sets the number of cases per ISA (CI default below; `npm run fuzz` runs 10,000).
import { afterAll, describe, expect, it } from 'vitest';
import { getBackend, nativeAddon, nativeAvailable, tsBackend } from '../src/backend/index';
import { backends, nativeIsas, useBackend } from './helpers';
import { blindCase, caseStream, makeCase, signatures, validCall, type Case } from './fuzz-cases';

const CASES = Number(process.env.NODENN_FUZZ_CASES || 3000);
const SEED = Number(process.env.NODENN_FUZZ_SEED || 20261125);

type Outcome = { kind: 'ok'; value?: unknown } | { kind: 'threw'; error: unknown };

function call(fn: (...a: unknown[]) => unknown, args: unknown[]): Outcome {
  try {
    return { kind: 'ok', value: fn(...args) };
  } catch (error) {
    return { kind: 'threw', error };
  }
}

function show(v: unknown): string {
  if (ArrayBuffer.isView(v)) {
    const a = v as Float32Array;
    const shared = a.buffer instanceof SharedArrayBuffer ? ' shared' : '';
    return `${v.constructor.name}(${a.length}${shared}${a.byteOffset ? ` @${a.byteOffset}` : ''})`;
  }
  if (typeof v === 'string') return JSON.stringify(v.length > 20 ? `${v.slice(0, 20)}...` : v);
  if (typeof v === 'symbol' || typeof v === 'bigint' || typeof v === 'function') return typeof v;
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

function label(c: Case): string {
  return `${c.name}(${c.args.map(show).join(', ')}) [${c.mutations.join('; ') || 'valid'}]`;
}

const isTypedError = (e: unknown) => e instanceof TypeError || e instanceof RangeError;

describe.skipIf(!nativeAvailable())('native addon fuzz', () => {
  const addon = nativeAvailable() ? (nativeAddon() as unknown as Record<string, unknown>) : {};
  const exported = Object.keys(addon).filter((k) => typeof addon[k] === 'function');
  const before = nativeAvailable() ? nativeAddon().info() : undefined;

  afterAll(() => {
    if (!before) return;
    nativeAddon().setIsa(before.isa);
    nativeAddon().setThreads(before.threads);
  });

  it('every exported native function has a fuzz signature (add new kernels to test/fuzz-cases.ts)', () => {
    expect(exported.filter((k) => !(k in signatures))).toEqual([]);
    expect(Object.keys(signatures).filter((k) => !exported.includes(k))).toEqual([]);
  });

  // Once per ISA: the stream calls setIsa and setThreads too, so the ISA under test is put back after each of
  // those calls and checked before every other one (else the first setIsa would decide the rest of the run).
  // An Async kernel checks its arguments at once (throwing as the kernel does) and runs later: each promise it returns
  // is awaited after the stream and must resolve to undefined (a rejection, or an error inside, would be lost else).
  it.each(nativeIsas)(`${CASES} random and hostile calls on $label: each returns or throws the TypeError/RangeError the TS backend throws`, async (bc) => {
    const isa = bc.isa!;
    nativeAddon().setIsa(isa);
    const r = caseStream(SEED);
    const problems: string[] = [];
    const counts = { ok: 0, threw: 0, blind: 0, validOk: 0, onIsa: 0, emptyLong: 0, async: 0 };
    const pending: Array<{ label: string; promise: Promise<unknown> }> = [];
    const names = exported;
    for (let i = 0; i < CASES; i++) {
      const name = names[i % names.length];
      const sig = signatures[name];
      const c = sig && r() > 0.05 ? makeCase(name, sig, r) : blindCase(name, r);
      if (c.mutations[0] === 'blind') counts.blind++;
      if (c.mutations.some((m) => m.endsWith(' 2^30'))) counts.emptyLong++;
      if (name !== 'setIsa' && name !== 'setThreads') {
        if (nativeAddon().info().isa !== isa) problems.push(`${name} would run on ${nativeAddon().info().isa}, not ${isa}`);
        else counts.onIsa++;
      }
      const native = call(addon[name] as (...a: unknown[]) => unknown, c.args);
      if (name === 'setIsa' || name === 'setThreads') nativeAddon().setIsa(isa);
      if (native.kind === 'threw') {
        counts.threw++;
        if (!isTypedError(native.error)) problems.push(`native threw ${String(native.error)}: ${label(c)}`);
        else if (!(native.error as Error).message) problems.push(`native threw an empty message: ${label(c)}`);
      } else {
        counts.ok++;
        if (name.endsWith('Async')) {
          if (native.value instanceof Promise) pending.push({ label: label(c), promise: native.value });
          else problems.push(`${name} returned ${show(native.value)}, not a Promise: ${label(c)}`);
        }
      }
      if (c.mutations.length === 0) {
        if (native.kind === 'threw') problems.push(`a valid call threw ${String(native.error)}: ${label(c)}`);
        else counts.validOk++;
      }
      const ts = (tsBackend as unknown as Record<string, unknown>)[name];
      if (typeof ts === 'function' && !sig?.stateful) {
        const other = call(ts as (...a: unknown[]) => unknown, c.args);
        // Both read the call by the kernel spec in the same order: the same error, word for word, or none.
        if (other.kind === 'threw' && !isTypedError(other.error)) problems.push(`ts threw ${String(other.error)}: ${label(c)}`);
        const said = (o: Outcome) => (o.kind === 'ok' ? 'ok'
          : `${(o.error as Error)?.constructor?.name ?? 'non-error'}: ${(o.error as Error)?.message}`);
        if (said(other) !== said(native)) problems.push(`native ${said(native)} but ts ${said(other)}: ${label(c)}`);
      }
      if (problems.length >= 20) break;
    }
    const settled = await Promise.allSettled(pending.map((p) => p.promise));
    settled.forEach((s, k) => {
      if (s.status === 'rejected') problems.push(`the promise rejected with ${String(s.reason)}: ${pending[k].label}`);
      else if (s.value !== undefined) problems.push(`the promise resolved to ${show(s.value)}: ${pending[k].label}`);
      else counts.async++;
    });
    expect(problems).toEqual([]);
    // Async kernels' calls that passed their checks ran to the end
    expect(counts.async).toBeGreaterThan(0);
    // The stream reaches both sides: many calls rejected, many accepted, valid calls all accepted.
    expect(counts.threw).toBeGreaterThan(CASES / 4);
    expect(counts.ok).toBeGreaterThan(CASES / 20);
    expect(counts.validOk).toBeGreaterThan(0);
    expect(counts.onIsa).toBeGreaterThan(CASES / 2);
    // calls with a size 0 and another 2^30 (an empty array of long sizes) are among them
    expect(counts.emptyLong).toBeGreaterThan(CASES / 100);
    console.log(`fuzz on ${isa}: ${CASES} cases over ${names.length} functions (seed ${SEED}): ${counts.threw} threw a ` +
      `TypeError/RangeError, ${counts.ok} returned (${counts.validOk} unmutated valid calls), ${counts.blind} blind, ` +
      `${counts.emptyLong} with a size 0 and another 2^30, ${counts.async} Async kernels awaited`);
  }, 600_000);
});

// Holes the fuzzer's cross-type alias mutation points at, pinned: an Int32 input read by index while a float output
// is written over the same memory (the labels changed under the kernel: an out-of-bounds write, a crash before).
describe.each(backends)('an output over an Int32 argument\'s memory on $label', (bc) => {
  it('softmaxCrossEntropyIndex: grad over labels is refused', () => {
    useBackend(bc);
    const buf = new ArrayBuffer(64);
    const labels = new Int32Array(buf, 0, 2);
    expect(() => getBackend().softmaxCrossEntropyIndex(2, 2, new Float32Array([1, 2, 3, 4]), labels,
      new Float32Array(buf, 0, 4))).toThrow(/grad must not share memory with labels/);
    expect(Array.from(labels)).toEqual([0, 0]);
  });

  it('argmaxRows: out over x is refused', () => {
    useBackend(bc);
    const x = new Float32Array([1, 5, 2, 0]);
    expect(() => getBackend().argmaxRows(2, 2, x, new Int32Array(x.buffer, 0, 2))).toThrow(/out must not share memory with x/);
  });
});

// planForward reads a program of steps (src/backend/spec.ts): beyond the generic stream above, each case here takes
// a valid call and rewrites program words (a step kind, a layer index, an activation, a slope's bits, an unused
// word), breaks the widths the program implies, or drops a weight the program needs. Each call must run or throw
// the TS backend's error word for word, on every ISA.
describe.skipIf(!nativeAvailable())('native addon fuzz: planForward programs', () => {
  const addon = nativeAvailable() ? (nativeAddon() as unknown as Record<string, (...a: unknown[]) => unknown>) : {};
  const before = nativeAvailable() ? nativeAddon().info() : undefined;
  afterAll(() => { if (before) nativeAddon().setIsa(before.isa); });
  const CASES_PLAN = Math.max(500, Math.floor(CASES / 3));
  const names = ['rows', 'outputs', 'width', 'programLength', 'd0', 'd1', 'd2', 'd3', 'd4'];
  const words = [-1, 0, 1, 2, 3, 4, 5, 2 ** 31 - 1, -(2 ** 31), 0x7ff00000 /* the high word of Infinity */, 0x7ff80000];

  it.each(nativeIsas)(`${CASES_PLAN} mutated programs on $label: run, or the TS backend's error`, (bc) => {
    nativeAddon().setIsa(bc.isa!);
    const r = caseStream(SEED + 19);
    const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
    const problems: string[] = [];
    const counts = { ok: 0, threw: 0 };
    for (let i = 0; i < CASES_PLAN && problems.length < 20; i++) {
      const { args } = validCall(signatures.planForward, r);
      const program = Int32Array.from(args[9] as Int32Array);
      const what: string[] = [];
      for (let m = int(1, 3); m > 0; m--) {
        const kind = int(0, 3);
        if (kind <= 1 && program.length > 0) {
          const k = int(0, program.length - 1);
          program[k] = words[int(0, words.length - 1)];
          what.push(`program[${k}] = ${program[k]}`);
        } else if (kind === 2) {
          const n = int(0, names.length - 1);
          args[n] = Math.max(0, (args[n] as number) + int(-2, 2));
          what.push(`${names[n]} = ${String(args[n])}`);
        } else {
          const w = 13 + 2 * int(0, 3);
          args[w] = null;
          what.push(`arg ${w} null`);
        }
      }
      args[9] = program;
      const native = call(addon.planForward, args);
      const ts = call((tsBackend as unknown as Record<string, (...a: unknown[]) => unknown>).planForward, args);
      const said = (o: Outcome) => (o.kind === 'ok' ? 'ok' : `${(o.error as Error)?.constructor?.name}: ${(o.error as Error)?.message}`);
      if (native.kind === 'threw' && !isTypedError(native.error)) problems.push(`native threw ${String(native.error)}`);
      if (said(native) !== said(ts)) problems.push(`native ${said(native)} but ts ${said(ts)}: ${what.join('; ')} ${label({ name: 'planForward', args, mutations: what })}`);
      counts[native.kind === 'ok' ? 'ok' : 'threw']++;
    }
    expect(problems).toEqual([]);
    expect(counts.threw).toBeGreaterThan(CASES_PLAN / 4);
    expect(counts.ok).toBeGreaterThan(CASES_PLAN / 20);
  }, 600_000);
});
