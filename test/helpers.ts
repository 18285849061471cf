// Shared by the specs: the backends every spec runs against, seeded test data and comparisons. The naive kernel
// references are test/reference.ts, the fuzzer's calls test/fuzz-cases.ts.
import { type Isa, nativeAddon, nativeAvailable, setBackend, setIsa, setThreads } from '../src/backend/index';
import { Random } from '../src/random';
import { type FloatArray, Tensor } from '../src/tensor';

export interface BackendCase {
  label: string;
  backend: 'ts' | 'native';
  isa?: Isa;
}

/**
 * 'ts', then native once per ISA this CPU supports (every dispatch path runs the same specs). NODENN_TEST_ROWS=native
 * leaves out the ts rows (the sanitizer run: they never enter the addon); it needs the addon.
 */
export const backends: BackendCase[] = (() => {
  const list: BackendCase[] = [];
  const nativeOnly = process.env.NODENN_TEST_ROWS === 'native';
  if (nativeOnly && !nativeAvailable()) throw new Error('NODENN_TEST_ROWS=native: the native addon did not load');
  if (!nativeOnly) list.push({ label: 'ts', backend: 'ts' });
  if (process.env.NODENN_BACKEND === 'ts' || !nativeAvailable()) return list;
  for (const isa of nativeAddon().info().supportedIsas) list.push({ label: `native/${isa}`, backend: 'native', isa });
  return list;
})();

export const nativeIsas = backends.filter((b) => b.backend === 'native');

export function useBackend(c: BackendCase): void {
  setBackend(c.backend);
  if (c.isa) setIsa(c.isa);
}

export function withThreads<T>(n: number, f: () => T): T {
  const before = nativeAddon().info().threads;
  setThreads(n);
  try {
    return f();
  } finally {
    setThreads(before);
  }
}

/** mulberry32: small, seeded, good enough for test data. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Ctor = Float32ArrayConstructor | Float64ArrayConstructor;
export const dtypes: [string, Ctor][] = [['float32', Float32Array], ['float64', Float64Array]];

export function randomArray(C: Ctor, n: number, seed: number, lo = -1, hi = 1): FloatArray {
  const r = rng(seed);
  const a = new C(n);
  for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * r();
  return a;
}

/** Tolerance for comparing with a float64 reference: float32 rounding grows with the length of a sum. */
export function tolerance(C: Ctor, terms = 1): number {
  return C === Float32Array ? 2e-6 * Math.max(8, Math.sqrt(terms) * 4) : 1e-13 * Math.max(8, terms);
}

/** Asserts |a - b| <= tol * max(1, |b|) elementwise, naming the first bad index. */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number): void {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} != ${expected.length}`);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i], b = expected[i];
    if (!(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)))) {
      throw new Error(`element ${i}: got ${a}, expected ${b} (tolerance ${tol})`);
    }
  }
}

export function expectBitwiseEqual(a: FloatArray, b: FloatArray): void {
  const ua = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const ub = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  if (ua.length !== ub.length) throw new Error('lengths differ');
  for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) throw new Error(`byte ${i} differs`);
}

/** expectBitwiseEqual over lists of arrays; a difference names the array (names[i]). */
export function expectAllBitwiseEqual(names: string[], got: FloatArray[], want: FloatArray[]): void {
  got.forEach((g, i) => {
    try {
      expectBitwiseEqual(g, want[i]);
    } catch (e) {
      throw new Error(`${names[i]}: ${(e as Error).message}`);
    }
  });
}

/** Normal float64 data, nudged away from 0 so that ReLU's kink is never inside ±h. */
export function randn(shape: number[], seed: number, scale = 1): Tensor {
  const r = new Random(seed), t = Tensor.zeros(shape, 'float64');
  for (let i = 0; i < t.size; i++) {
    let v = r.normal() * scale;
    if (Math.abs(v) < 1e-3) v += 1e-2;
    t.data[i] = v;
  }
  return t;
}

/** Uniform float64 data in [lo, hi). */
export function uniform(shape: number[], seed: number, lo: number, hi: number): Tensor {
  const r = new Random(seed), t = Tensor.zeros(shape, 'float64');
  for (let i = 0; i < t.size; i++) t.data[i] = lo + (hi - lo) * r.uniform();
  return t;
}

/** A safetensors file from a header object (or its raw text) and a data region, laid out as the format says. */
export function safetensorsFile(header: unknown, data: Uint8Array | number, headerText?: string): Uint8Array {
  const json = Buffer.from(headerText ?? JSON.stringify(header), 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([len, json, typeof data === 'number' ? Buffer.alloc(data) : data]);
}
