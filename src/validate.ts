// The checks of the public API, in one place: predicates (is...), checks that throw the house error and return
// the value, and the size rules that layers and kernels share. Every layer, optimizer, loss, data loader and
// fit() option is checked here at construction (or call start), so a bad value is named where it was given, not
// where a kernel first reads it. One wording for every message: `<name> must be <expected>, got <value>`, a
// TypeError when the value is not even of the expected type, else a RangeError; values are shown by
// describeValue (numbers as they are, strings quoted and called strings, objects by their kind). The ranges of
// optimizer and batch-norm hyper-parameters are read from the kernel spec, so the public checks accept exactly
// what the kernels accept.
import { type KernelName, type Range, inRange, kernels, parseRange } from './backend/spec';
import type { DType } from './tensor';

// ---- how a value is shown, and the one error

/** A value as an error message names it: `-5`, `NaN`, `the string '0.1'`, `true`, `a function`, `an object`. */
export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  switch (typeof v) {
    case 'number': return Object.is(v, -0) ? '-0' : String(v);
    case 'string': return `the string ${JSON.stringify(v).replace(/^"|"$/g, "'")}`;
    case 'boolean': return String(v);
    case 'bigint': return `the bigint ${v}n`;
    case 'symbol': return 'a symbol';
    case 'function': return 'a function';
  }
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  const name = (v as object).constructor?.name;
  if (!name || name === 'Object') return 'an object';
  return `${/^[AEIOU]/.test(name) ? 'an' : 'a'} ${name}`;
}

/** 'type': the value is not of the expected type (a TypeError); 'range': it is, but not an accepted one (a RangeError). */
export type ErrorKind = 'type' | 'range';

/** The house error: `${name} must be ${expected}, got ${describeValue(value)}`. */
export function invalid(name: string, expected: string, value: unknown, kind: ErrorKind): TypeError | RangeError {
  const message = `${name} must be ${expected}, got ${describeValue(value)}`;
  return kind === 'type' ? new TypeError(message) : new RangeError(message);
}

// ---- predicates

export const isNumber = (v: unknown): v is number => typeof v === 'number';
export const isFiniteNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
export const isInteger = (v: unknown): v is number => Number.isInteger(v);
export const isPositiveInt = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 1;
export const isNonNegativeInt = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0;
export const isBoolean = (v: unknown): v is boolean => typeof v === 'boolean';
export const isString = (v: unknown): v is string => typeof v === 'string';
export const isNonEmptyString = (v: unknown): v is string => typeof v === 'string' && v !== '';
export const isFunction = (v: unknown): v is (...args: never[]) => unknown => typeof v === 'function';

/** An object literal or a class instance: not null, an array, a typed array, a Map, a Date or a function. */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return Object.prototype.toString.call(v) === '[object Object]';
}

/** Array.isArray narrowed to elements of unknown type, so that checks on them stay type-safe. */
export function isArray(v: unknown): v is readonly unknown[] {
  return Array.isArray(v);
}

export function isOneOf<T>(v: unknown, values: readonly T[]): v is T {
  return values.includes(v as T);
}

/** A range as the kernel spec writes it ('[0, 1)', '(0, 1]', '> 0', '>= 0'), parsed. */
function toRange(range: string | Range): Range {
  return typeof range === 'string' ? parseRange(range) : range;
}

/** Whether v is a finite number in the range ('[0, 1)', '(0, 1]', '> 0', '>= 0', or a parsed Range). */
export function isInRange(v: unknown, range: string | Range): v is number {
  return isFiniteNumber(v) && inRange(v, toRange(range));
}

/** An array of non-negative integers (a tensor's shape). */
export function isShape(v: unknown): v is number[] {
  return Array.isArray(v) && v.every(isNonNegativeInt);
}

/** An AbortSignal, or an object with its members (from another realm or a polyfill). */
export function isAbortSignal(v: unknown): v is AbortSignal {
  if (typeof AbortSignal === 'function' && v instanceof AbortSignal) return true;
  const s = v as { aborted?: unknown; addEventListener?: unknown } | null;
  return s !== null && typeof s === 'object' && typeof s.aborted === 'boolean' && typeof s.addEventListener === 'function';
}

// ---- checks: each throws the house error naming the argument, or returns the value

export function positiveInt(v: unknown, name: string): number {
  if (!isPositiveInt(v)) throw invalid(name, 'a positive integer', v, isNumber(v) ? 'range' : 'type');
  return v;
}

export function nonNegativeInt(v: unknown, name: string): number {
  if (!isNonNegativeInt(v)) throw invalid(name, 'a non-negative integer', v, isNumber(v) ? 'range' : 'type');
  return v;
}

export function finiteNumber(v: unknown, name: string): number {
  if (!isFiniteNumber(v)) throw invalid(name, 'a finite number', v, isNumber(v) ? 'range' : 'type');
  return v;
}

/** How a message states a range: 'in [0, 1)', 'a positive number', 'a non-negative number', 'a number at least 2'. */
export function rangeText(range: string | Range): string {
  const r = toRange(range);
  if (r.hi !== Infinity) return r.text;
  if (r.lo === 0) return r.loOpen ? 'a positive number' : 'a non-negative number';
  return `a number ${r.loOpen ? 'greater than' : 'at least'} ${r.lo}`;
}

/**
 * A finite number in the range ('[0, 1)', '(0, 1]', '> 0', '>= 0', or a parsed Range); `meaning`, if given, says
 * in the message what the number is ('in (0, 1) (it multiplies the rate)').
 */
export function numberIn(v: unknown, name: string, range: string | Range, meaning?: string): number {
  if (!isInRange(v, range)) {
    throw invalid(name, rangeText(range) + (meaning ? ` (${meaning})` : ''), v, isNumber(v) ? 'range' : 'type');
  }
  return v;
}

/** A finite number > 0. */
export function positiveNumber(v: unknown, name: string): number {
  return numberIn(v, name, '> 0');
}

/** A finite number >= 0. */
export function nonNegativeNumber(v: unknown, name: string): number {
  return numberIn(v, name, '>= 0');
}

/** How messages list choices: 'a' or 'b'; 'a', 'b' or 'c'; from four on, one of 'a', 'b', 'c', 'd'. */
export function choicesText(values: readonly unknown[]): string {
  const q = values.map((v) => (typeof v === 'string' ? `'${v}'` : String(v)));
  if (q.length > 3) return `one of ${q.join(', ')}`;
  return q.length === 1 ? q[0] : `${q.slice(0, -1).join(', ')} or ${q[q.length - 1]}`;
}

/** One of the values (a string that is none of them is a RangeError; anything else a TypeError). */
export function oneOf<T>(v: unknown, values: readonly T[], name: string): T {
  if (!isOneOf(v, values)) throw invalid(name, choicesText(values), v, typeof v === typeof values[0] ? 'range' : 'type');
  return v;
}

export function optionalBoolean(v: unknown, name: string): boolean | undefined {
  if (v !== undefined && !isBoolean(v)) throw invalid(name, 'true or false', v, 'type');
  return v;
}

export function optionalFunction<T>(v: T | undefined, name: string): T | undefined {
  if (v !== undefined && !isFunction(v)) throw invalid(name, 'a function', v, 'type');
  return v;
}

export function optionalString(v: unknown, name: string): string | undefined {
  if (v !== undefined && !isNonEmptyString(v)) throw invalid(name, 'a non-empty string', v, 'type');
  return v;
}

/** undefined or a plain options object; returns it (or {}). */
export function optionsObject<T extends object>(opts: T | undefined, name: string): T {
  if (opts === undefined) return {} as T;
  if (!isPlainObject(opts)) throw invalid(name, 'an options object', opts, 'type');
  return opts;
}

/**
 * Refuses an option the caller does not have (a misspelt or another library's option would else be ignored
 * silently): `unknown Conv2D option 'dilation'; the options are stride, padding, ...`. `known` lists the names, or
 * is an object keyed by them.
 */
export function knownOptions(opts: object, known: readonly string[] | object, caller: string): void {
  const names = Array.isArray(known) ? known as readonly string[] : Object.keys(known);
  for (const k of Object.keys(opts)) {
    if (!names.includes(k)) throw new TypeError(`unknown ${caller} option '${k}'; the options are ${names.join(', ')}`);
  }
}

/**
 * Refuses arguments to a constructor that takes none (a layer without options), which would else be ignored:
 * `Softmax() must be called without arguments (it normalizes over the last axis), got an object`.
 */
export function noArguments(args: readonly unknown[], caller: string, why: string): void {
  const given = args.find((a) => a !== undefined);
  if (given !== undefined) throw invalid(`${caller}()`, `called without arguments (${why})`, given, 'type');
}

/** undefined or a finite number (a seed). */
export function optionalSeed(v: unknown, name: string): number | undefined {
  if (v !== undefined && !isFiniteNumber(v)) throw invalid(name, 'a finite number', v, isNumber(v) ? 'range' : 'type');
  return v;
}

export const DTYPES: readonly DType[] = ['float32', 'float64'];

/** A size given as one number (both axes) or [height, width], each passing `check`. */
export function sizePair(v: unknown, name: string, check: (v: unknown, name: string) => number): [number, number] {
  if (Array.isArray(v)) {
    if (v.length !== 2) throw invalid(name, 'a number or [height, width]', v, 'range');
    return [check(v[0], `${name}[0]`), check(v[1], `${name}[1]`)];
  }
  const n = check(v, name);
  return [n, n];
}

// ---- the kernels' ranges

/** The range the kernel spec gives a number argument of a kernel (a hyper-parameter the kernel checks). */
export function kernelRange(kernel: KernelName, arg: string): Range {
  const a = (kernels[kernel].args as readonly { kind: string; name: string; range?: string }[])
    .find((x) => x.name === arg);
  if (!a || a.kind !== 'number' || a.range === undefined) throw new Error(`kernel spec: ${kernel} has no ranged number '${arg}'`);
  return parseRange(a.range);
}

/** A hyper-parameter that a kernel takes: a finite number in the range the kernel spec gives it. */
export function kernelNumber(v: unknown, name: string, kernel: KernelName, arg: string): number {
  return numberIn(v, name, kernelRange(kernel, arg));
}

// ---- size rules shared by the layers and the kernels

/**
 * Windows of length k every `stride` over an input of length `input` zero-padded by `pad` on each side:
 * 1 + floor((input + 2 pad - k) / stride), or 0 when not even one fits.
 */
export function windowCount(input: number, k: number, stride: number, pad = 0): number {
  return input + 2 * pad < k ? 0 : 1 + Math.floor((input + 2 * pad - k) / stride);
}

/** A batch norm over axis 1 of (N, C, ...): N, C and S, the values of one channel in one sample. */
export function batchNormSizes(shape: readonly number[]): [number, number, number] {
  const N = shape[0], C = shape[1];
  let S = 1;
  for (let i = 2; i < shape.length; i++) S *= shape[i];
  return [N, C, S];
}

/** Whether batch-norm training has the two values per channel that a variance needs. */
export function batchNormCanTrain(N: number, S: number): boolean {
  return N * S >= 2;
}
