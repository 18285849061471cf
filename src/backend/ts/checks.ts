// Argument checks of the TS kernels: the same rules and the same error types as native/addon.cc, so that
// both backends reject a bad call alike.

import { type FloatArray, detachedMessage, isDetached } from '../../tensor';

const MAX_DIM = 2 ** 31;

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'number') return String(v);
  if (ArrayBuffer.isView(v)) return v.constructor.name;
  if (Array.isArray(v)) return 'an Array';
  return typeof v;
}

export function size(v: unknown, name: string): number {
  if (typeof v !== 'number') throw new TypeError(`${name} must be a number, got ${describe(v)}`);
  if (!(v >= 0) || v >= MAX_DIM || !Number.isInteger(v)) {
    throw new RangeError(`${name} must be an integer in [0, 2^31), got ${describe(v)}`);
  }
  return v;
}

export function finite(v: unknown, name: string): number {
  if (typeof v !== 'number') throw new TypeError(`${name} must be a number, got ${describe(v)}`);
  if (!Number.isFinite(v)) throw new RangeError(`${name} must be a finite number, got ${describe(v)}`);
  return v;
}

export function bool(v: unknown, name: string): boolean {
  if (typeof v !== 'boolean') throw new TypeError(`${name} must be a boolean, got ${describe(v)}`);
  return v;
}

export function product(a: number, b: number, what: string): number {
  const r = a * b;
  if (r >= 2 ** 53) throw new RangeError(`${what} is too large`);
  return r;
}

/** Checks that every array is a float array of the first one's kind, holding at least its needed length. */
export function floats(...args: [unknown, string, number][]): void {
  let kind: string | undefined;
  for (const [v, name, need] of args) {
    if (!(v instanceof Float32Array || v instanceof Float64Array)) {
      throw new TypeError(`${name} must be a Float32Array or Float64Array, got ${describe(v)}`);
    }
    const k = v.constructor.name;
    if (kind === undefined) kind = k;
    else if (k !== kind) throw new TypeError(`${name} must be a ${kind} like the other arrays, got ${k}`);
    short(v, name, need);
  }
}

/** Throws a RangeError unless the array holds need elements (as addon.cc), saying so if its buffer is detached. */
function short(v: ArrayBufferView & { length: number }, name: string, need: number): void {
  if (v.length >= need) return;
  if (isDetached(v)) throw new RangeError(detachedMessage(name));
  throw new RangeError(`${name} has ${v.length} elements, expected at least ${need}`);
}

export function int32s(v: unknown, name: string, need: number): Int32Array {
  if (!(v instanceof Int32Array)) throw new TypeError(`${name} must be an Int32Array, got ${describe(v)}`);
  short(v, name, need);
  return v;
}

/** An output must not partly overlap an input; the very same memory is allowed where sameOk. */
export function noAlias(out: ArrayBufferView | null, outName: string, input: ArrayBufferView, inName: string,
  sameOk: boolean): void {
  if (out === null || out.byteLength === 0 || input.byteLength === 0 || out.buffer !== input.buffer) return;
  const a0 = out.byteOffset, a1 = a0 + out.byteLength, b0 = input.byteOffset, b1 = b0 + input.byteLength;
  if (!(a0 < b1 && b0 < a1)) return;
  if (sameOk && a0 === b0) return;
  throw new RangeError(`${outName} must not share memory with ${inName}` +
    (sameOk ? ' (other than being the very same array)' : ''));
}

export function activation(kind: unknown): void {
  if (typeof kind !== 'string') throw new TypeError(`activation must be a string, got ${describe(kind)}`);
  if (!['relu', 'leakyRelu', 'sigmoid', 'tanh', 'step'].includes(kind)) {
    throw new RangeError(`activation must be 'relu', 'leakyRelu', 'sigmoid', 'tanh' or 'step', got '${kind}'`);
  }
}

// conv kernels

/** Output length of a sliding window along one axis, 1 + floor((input + 2 pad - k) / stride), as addon.cc checks it. */
export function windowOutput(input: number, k: number, stride: number, pad: number, inName: string, kName: string,
  strideName: string, padName: string | null): number {
  if (k < 1) throw new RangeError(`${kName} must be at least 1, got ${k}`);
  if (stride < 1) throw new RangeError(`${strideName} must be at least 1, got ${stride}`);
  if (input + 2 * pad < k) {
    const room = padName ? `${inName} + 2 * ${padName}` : inName;
    throw new RangeError(`${kName} = ${k} is larger than ${room} = ${input + 2 * pad}`);
  }
  return 1 + Math.floor((input + 2 * pad - k) / stride);
}

/** The product of sizes, with the same overflow rule as addon.cc. */
export function productOf(sizes: number[], what: string): number {
  let r = 1;
  for (const s of sizes) r = product(r, s, what);
  return r;
}

/** No output may overlap an input or another output (arrays given as [array, name]; null entries are absent). */
export function disjoint(outs: [ArrayBufferView | null, string][], ins: [ArrayBufferView | null, string][]): void {
  outs.forEach(([o, oName], k) => {
    if (o === null) return;
    for (const [i, iName] of ins) if (i !== null) noAlias(o, oName, i, iName, false);
    for (let m = 0; m < k; m++) {
      const [p, pName] = outs[m];
      if (p !== null) noAlias(o, oName, p, pName, false);
    }
  });
}
