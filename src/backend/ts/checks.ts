// The argument checks of the TS kernels, read from the kernel spec (../spec.ts): the same rules, in the same
// order and with the same words as native/addon.cc, so both backends reject a bad call alike. The kernels
// themselves trust their arguments, as the C++ ones do.
import { detachedMessage, isDetached } from '../../tensor';
import { slopeOf } from './plan';
import { batchNormCanTrain, windowCount } from '../../validate';
import {
  type ArgSpec, type HookName, type KernelName, type KernelSpec, type Length, type Product, type Range,
  type ValueCheckName, enumChoices, enums, hooks, inRange, kernels, limits, parseProduct, parseRange, plan,
  requiredArgs, signature,
} from '../spec';

/** Sizes are integers below this; products of sizes below MAX_PRODUCT. */
const MAX_SIZE = limits.maxSize.value;
const MAX_PRODUCT = limits.maxProduct.value;

// The typed-array accessors of the intrinsic %TypedArray%.prototype, which an object cannot fake (a Proxy or an
// object with a typed array's prototype has no [[TypedArrayName]]): what N-API sees as a typed array.
const TypedArrayPrototype = Object.getPrototypeOf(Int8Array.prototype) as object;
// eslint-disable-next-line @typescript-eslint/unbound-method -- each accessor is called on a view with .call()
const getter = (key: PropertyKey) => Object.getOwnPropertyDescriptor(TypedArrayPrototype, key)!.get!;
const typedArrayName = getter(Symbol.toStringTag) as (this: unknown) => string | undefined;
const lengthOf = getter('length') as (this: ArrayBufferView) => number;
const bufferOf = getter('buffer') as (this: ArrayBufferView) => ArrayBufferLike;
const byteOffsetOf = getter('byteOffset') as (this: ArrayBufferView) => number;
const byteLengthOf = getter('byteLength') as (this: ArrayBufferView) => number;

/** A value as error messages show it (the addon's describe() says the same). */
function describe(v: unknown): string {
  switch (typeof v) {
    case 'undefined': return 'undefined';
    case 'number': return String(v);
    case 'string': return 'a string';
    case 'boolean': return 'a boolean';
    case 'bigint': return 'a bigint';
    case 'symbol': return 'a symbol';
    case 'function': return 'a function';
  }
  if (v === null) return 'null';
  const name = typedArrayName.call(v);
  if (name !== undefined) return name;
  if (ArrayBuffer.isView(v)) return 'a DataView';
  if (Array.isArray(v)) return 'an Array';
  return 'an object';
}

// ---- the spec, compiled once per kernel: names resolved to slots (argument positions, then derived sizes)

interface CompiledProduct { text: string; slots: number[]; divs: number[] }
interface CompiledLength { cond: number; then: CompiledProduct; else: CompiledProduct }
type CompiledArg =
  | { kind: 'size'; name: string; min: number; unlessZero: number }
  | { kind: 'number'; name: string; range: Range | null }
  | { kind: 'bool'; name: string; optional: boolean }
  | { kind: 'enum'; name: string; values: readonly string[]; choices: string }
  | {
    kind: 'floats' | 'int32s'; name: string; length: CompiledLength; nullable: boolean; index: CompiledProduct | null;
    check: ValueCheckName | null;
  };

interface CompiledKernel {
  signature: string;
  required: number;
  args: CompiledArg[];
  scalars: number[];
  arrays: number[];
  hook: { check: (v: number[]) => number[]; args: number[]; derived: number } | null;
  /** Memory rules: [named first, the other, the very same array allowed]. */
  pairs: [number, number, boolean][];
  contents: number[];
  /** Values of the current call by slot (sizes, numbers, flags as 0/1, enum indices, then derived sizes). */
  values: number[];
  /** The slot of each name. */
  slot: ReadonlyMap<string, number>;
}

function compile(name: KernelName, k: KernelSpec): CompiledKernel {
  const hook = k.hook ? hooks[k.hook] : null;
  const slot = new Map<string, number>(k.args.map((a, i) => [a.name, i]));
  hook?.derived.forEach((d, j) => slot.set(d, k.args.length + j));
  const at = (name: string): number => {
    const i = slot.get(name);
    if (i === undefined) throw new Error(`kernel spec: unknown name '${name}'`);
    return i;
  };
  const product = (p: Product): CompiledProduct =>
    ({ text: p.text, slots: p.factors.map((f) => at(f.name)), divs: p.factors.map((f) => f.div) });
  const length = (l: Length): CompiledLength => typeof l === 'string'
    ? { cond: -1, then: product(parseProduct(l)), else: product(parseProduct(l)) }
    : { cond: at(l.if), then: product(parseProduct(l.then)), else: product(parseProduct(l.else)) };
  const args = k.args.map((a: ArgSpec): CompiledArg => {
    switch (a.kind) {
      case 'size': return { kind: 'size', name: a.name, min: a.min ?? 0, unlessZero: a.unlessZero ? at(a.unlessZero) : -1 };
      case 'number': return { kind: 'number', name: a.name, range: a.range ? parseRange(a.range) : null };
      case 'bool': return { kind: 'bool', name: a.name, optional: a.optional ?? false };
      case 'enum': return { kind: 'enum', name: a.name, values: enums[a.enum].values, choices: enumChoices(a.enum) };
      case 'floats': case 'int32s': return {
        kind: a.kind, name: a.name, length: length(a.length), nullable: a.kind === 'floats' && !!a.nullable,
        index: a.kind === 'int32s' && a.index ? product(parseProduct(a.index)) : null,
        check: a.check ?? null,
      };
    }
  });
  const order = plan(k);
  return {
    signature: signature(name, k),
    required: requiredArgs(k),
    args,
    scalars: order.scalars,
    arrays: order.arrays,
    hook: k.hook ? { check: hookChecks[k.hook], args: hook!.args.map(at), derived: hook!.derived.length } : null,
    pairs: order.memory,
    contents: order.contents,
    values: new Array<number>(k.args.length + (hook?.derived.length ?? 0)).fill(0),
    slot,
  };
}

// ---- reading a call

/** A product of sizes: 0 when any factor is 0 (an empty array, however large the others), else below MAX_PRODUCT. */
function product(p: CompiledProduct, v: number[]): number {
  let r = 1;
  for (let f = 0; f < p.slots.length; f++) {
    r *= Math.floor(v[p.slots[f]] / p.divs[f]);
    if (r >= MAX_PRODUCT) {
      for (let g = f + 1; g < p.slots.length; g++) if (Math.floor(v[p.slots[g]] / p.divs[g]) === 0) return 0;
      throw new RangeError(`${p.text} is too large`);
    }
  }
  return r;
}

function needed(l: CompiledLength, v: number[]): number {
  return product(l.cond < 0 || v[l.cond] !== 0 ? l.then : l.else, v);
}

function scalar(a: CompiledArg, x: unknown, v: number[]): number {
  switch (a.kind) {
    case 'size': {
      if (typeof x !== 'number') throw new TypeError(`${a.name} must be a number, got ${describe(x)}`);
      if (!(x >= 0) || x >= MAX_SIZE || !Number.isInteger(x)) {
        throw new RangeError(`${a.name} must be an integer in [0, 2^31), got ${describe(x)}`);
      }
      if (x < a.min && (a.unlessZero < 0 || v[a.unlessZero] !== 0)) {
        throw new RangeError(`${a.name} must be at least ${a.min}, got ${x}`);
      }
      return x;
    }
    case 'number': {
      if (typeof x !== 'number') throw new TypeError(`${a.name} must be a number, got ${describe(x)}`);
      if (!Number.isFinite(x)) throw new RangeError(`${a.name} must be a finite number, got ${describe(x)}`);
      if (a.range && !inRange(x, a.range)) throw new RangeError(`${a.name} must be ${a.range.text}, got ${describe(x)}`);
      return x;
    }
    case 'bool':
      if (a.optional && x === undefined) return 0;
      if (typeof x !== 'boolean') throw new TypeError(`${a.name} must be a boolean, got ${describe(x)}`);
      return x ? 1 : 0;
    case 'enum': {
      if (typeof x !== 'string') throw new TypeError(`${a.name} must be a string, got ${describe(x)}`);
      const i = a.values.indexOf(x);
      if (i < 0) throw new RangeError(`${a.name} must be ${a.choices}, got '${x}'`);
      return i;
    }
    default:
      throw new Error('not a scalar');
  }
}

/** Checks one call of a kernel (its arguments as passed); throws the TypeError or RangeError the addon throws. */
function check(c: CompiledKernel, args: ArrayLike<unknown>): void {
  if (args.length < c.required) {
    throw new TypeError(`${c.signature}: expected ${c.required} arguments, got ${args.length}`);
  }
  const v = c.values;
  for (const i of c.scalars) v[i] = scalar(c.args[i], args[i], v);
  if (c.hook) {
    const derived = c.hook.check(c.hook.args.map((i) => v[i]));
    for (let j = 0; j < c.hook.derived; j++) v[c.args.length + j] = derived[j];
  }
  let dtype: string | undefined;
  for (const i of c.arrays) {
    const a = c.args[i] as Extract<CompiledArg, { kind: 'floats' | 'int32s' }>;
    const x = args[i];
    if (a.nullable && (x === null || x === undefined)) continue;
    const name = typedArrayName.call(x);
    if (a.kind === 'floats') {
      if (name !== 'Float32Array' && name !== 'Float64Array') {
        throw new TypeError(`${a.name} must be a Float32Array or Float64Array, got ${describe(x)}`);
      }
      if (dtype === undefined) dtype = name;
      else if (name !== dtype) throw new TypeError(`${a.name} must be a ${dtype} like the other arrays, got ${name}`);
    } else if (name !== 'Int32Array') {
      throw new TypeError(`${a.name} must be an Int32Array, got ${describe(x)}`);
    }
    const view = x as ArrayBufferView;
    if (isDetached(view)) throw new RangeError(detachedMessage(a.name));
    const need = needed(a.length, v);
    const length = lengthOf.call(view);
    if (length < need) throw new RangeError(`${a.name} has ${length} elements, expected at least ${need}`);
  }
  for (const [o, i, sameOk] of c.pairs) {
    const out = args[o] as ArrayBufferView | null | undefined, other = args[i] as ArrayBufferView | null | undefined;
    if (out == null || other == null || bufferOf.call(out) !== bufferOf.call(other)) continue;
    const o0 = byteOffsetOf.call(out), o1 = o0 + byteLengthOf.call(out);
    const i0 = byteOffsetOf.call(other), i1 = i0 + byteLengthOf.call(other);
    if (o0 === o1 || i0 === i1 || !(o0 < i1 && i0 < o1) || (sameOk && o0 === i0 && o1 === i1)) continue;
    throw new RangeError(`${c.args[o].name} must not share memory with ${c.args[i].name}` +
      (sameOk ? ' (other than being the very same array)' : ''));
  }
  for (const i of c.contents) {
    const a = c.args[i] as Extract<CompiledArg, { kind: 'floats' | 'int32s' }>;
    if (a.index) {
      const bound = product(a.index, v), n = needed(a.length, v), x = args[i] as Int32Array;
      const shown = a.index.slots.length === 1 && a.index.divs[0] === 1 ? `${bound}` : `${a.index.text} = ${bound}`;
      for (let k = 0; k < n; k++) {
        if (!(x[k] >= 0 && x[k] < bound)) throw new RangeError(`${a.name}[${k}] = ${x[k]} is outside [0, ${shown})`);
      }
    }
    if (a.check) valueChecks[a.check](a.name, args[i] as ArrayLike<number>, needed(a.length, v), { args, c });
  }
}

// ---- the hand-written checks the spec names (native/addon.cc has the same)

/** The windows along one axis (validate.ts windowCount), after the checks that the kernel and stride are sizes. */
function windowOutput(input: number, k: number, stride: number, pad: number, inName: string, kName: string,
  strideName: string, padName: string | null): number {
  if (k < 1) throw new RangeError(`${kName} must be at least 1, got ${k}`);
  if (stride < 1) throw new RangeError(`${strideName} must be at least 1, got ${stride}`);
  const n = windowCount(input, k, stride, pad);
  if (n === 0) {
    const room = padName ? `${inName} + 2 * ${padName}` : inName;
    throw new RangeError(`${kName} = ${k} is larger than ${room} = ${input + 2 * pad}`);
  }
  return n;
}

const hookChecks: { [K in HookName]: (v: number[]) => number[] } = {
  conv([, C, H, W, , KH, KW, strideH, strideW, padH, padW]) {
    const OH = windowOutput(H, KH, strideH, padH, 'H', 'KH', 'strideH', 'padH');
    const OW = windowOutput(W, KW, strideW, padW, 'W', 'KW', 'strideW', 'padW');
    // the im2col matrix of one image, (C KH KW) x (OH OW), must be addressable
    product({ text: 'C * KH * KW * OH * OW', slots: [0, 1, 2, 3, 4], divs: [1, 1, 1, 1, 1] }, [C, KH, KW, OH, OW]);
    return [OH, OW];
  },
  convChain(v) {
    const [OH, OW] = hookChecks.conv(v);
    if (OH < 2 || OW < 2) {
      throw new RangeError(`the first convolution's output must be at least 2 x 2 to be pooled, got ${OH} x ${OW}`);
    }
    const [, , , , F, , , , , , , , KH2, KW2, strideH2, strideW2, padH2, padW2] = v;
    const H2 = Math.floor(OH / 2), W2 = Math.floor(OW / 2);
    const OH2 = windowOutput(H2, KH2, strideH2, padH2, 'floor(OH / 2)', 'KH2', 'strideH2', 'padH2');
    const OW2 = windowOutput(W2, KW2, strideW2, padW2, 'floor(OW / 2)', 'KW2', 'strideW2', 'padW2');
    if (OH2 < 2 || OW2 < 2) {
      throw new RangeError(`the second convolution's output must be at least 2 x 2 to be pooled, got ${OH2} x ${OW2}`);
    }
    product({ text: 'F * KH2 * KW2 * OH2 * OW2', slots: [0, 1, 2, 3, 4], divs: [1, 1, 1, 1, 1] }, [F, KH2, KW2, OH2, OW2]);
    return [OH, OW, OH2, OW2];
  },
  pool([, , H, W, KH, KW, strideH, strideW]) {
    const OH = windowOutput(H, KH, strideH, 0, 'H', 'KH', 'strideH', null);
    const OW = windowOutput(W, KW, strideW, 0, 'W', 'KW', 'strideW', null);
    if (H * W >= MAX_SIZE) throw new RangeError('H * W must be below 2^31 (argmax holds plane indices)');
    return [OH, OW];
  },
  batchNorm([N, C, S, training]) {
    if (training && C > 0 && !batchNormCanTrain(N, S)) {
      throw new RangeError(`batch norm in training needs more than one value per channel, got N * S = ${N * S}`);
    }
    return [];
  },
  broadcast(v) {
    return [0, 1, 2, 3].map((i) => broadcastAxis(i, ['a', 'b'], [v[i], v[4 + i]]));
  },
  broadcastWhere(v) {
    return [0, 1, 2, 3].map((i) => broadcastAxis(i, ['c', 'a', 'b'], [v[i], v[4 + i], v[8 + i]]));
  },
};

/** The broadcast size of one axis over operands named `names` with sizes `d`: each is 1 or the one size that is not. */
function broadcastAxis(axis: number, names: string[], d: number[]): number {
  let y = 1;
  for (const s of d) if (s !== 1) y = s;
  if (d.every((s) => s === 1 || s === y)) return y;
  const parts = names.map((n, k) => `${n}${axis} = ${d[k]}`);
  const list = parts.length === 2 ? parts.join(' and ') : `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}`;
  throw new RangeError(`${list} do not broadcast: each axis needs equal sizes or a 1`);
}

/** Above 1 by at most this, a probability is 1 with float rounding (a softmax output may be 1 + 1 ulp). */
const PROB_SLACK = 1e-6;

/** The call a value check belongs to: its arguments as passed, and the kernel (values by slot, slots by name). */
interface CheckedCall { args: ArrayLike<unknown>; c: CompiledKernel }

const valueChecks: { [K in ValueCheckName]: (name: string, x: ArrayLike<number>, n: number, call: CheckedCall) => void } = {
  probabilities(name, x, n) {
    for (let i = 0; i < n; i++) {
      if (x[i] < 0 || x[i] > 1 + PROB_SLACK) {
        throw new RangeError(`${name}[${i}] = ${x[i]} is outside [0, 1]: cross-entropy takes probabilities (e.g. a ` +
          'Softmax output); for logits use softmaxCrossEntropy');
      }
    }
  },
  planProgram(_name, p, _n, { args, c }) {
    const size = (name: string) => c.values[c.slot.get(name)!];
    const length = size('programLength'), half = Math.floor(size('width') / 2), w0 = c.slot.get('w0')!;
    if (length % 4 !== 0) throw new RangeError(`programLength must be a multiple of 4 (steps of 4 words), got ${length}`);
    let dense = 0;
    for (let k = 0; k < length; k += 4) {
      const op = p[k];
      if (op < 0 || op > 2) throw new RangeError(`program[${k}] = ${op} is not a step (0 Dense, 1 activation, 2 softmax)`);
      if (op !== 0 && dense === 0) throw new RangeError(`program[${k}] = ${op}: the first step must be Dense layer 0`);
      for (let j = op === 1 ? 4 : op === 0 ? 2 : 1; j < 4; j++) {
        if (p[k + j] !== 0) {
          throw new RangeError(`program[${k + j}] = ${p[k + j]} must be 0 (an unused word of a ${op === 0 ? 'Dense' : 'softmax'} step)`);
        }
      }
      if (op === 0) {
        if (p[k + 1] !== dense) {
          throw new RangeError(`program[${k + 1}] = ${p[k + 1]}: Dense steps run layers 0 to 3 in order, expected ${dense}`);
        }
        if (dense > 3) throw new RangeError(`program[${k + 1}] = ${p[k + 1]}: Dense steps run layers 0 to 3 in order`);
        const inputs = size(`d${dense}`), out = size(`d${dense + 1}`);
        if (inputs < 1 || out < 1) {
          throw new RangeError(`Dense layer ${dense} needs d${dense} and d${dense + 1} of at least 1, got ${inputs} and ${out}`);
        }
        if (args[w0 + 2 * dense] == null) throw new RangeError(`w${dense} is missing: program[${k}] runs Dense layer ${dense}`);
        if (out > half) {
          throw new RangeError(`Dense layer ${dense} is ${out} wide, more than floor(width / 2) = ${half}: scratch holds ` +
            'two activations of rows x floor(width / 2)');
        }
        dense++;
      } else if (op === 1) {
        if (p[k + 1] < 0 || p[k + 1] > 4) {
          throw new RangeError(`program[${k + 1}] = ${p[k + 1]} is not an activation (0 to 4: 'relu', 'leakyRelu', ` +
            '\'sigmoid\', \'tanh\' or \'step\')');
        }
        const slope = slopeOf(p[k + 2], p[k + 3]);
        if (!Number.isFinite(slope)) throw new RangeError(`program[${k + 2}..${k + 3}] = ${slope}: a slope must be finite`);
      }
    }
    if (dense === 0) throw new RangeError('program has no Dense step');
    if (size('outputs') !== size(`d${dense}`)) {
      throw new RangeError(`outputs must be ${size(`d${dense}`)} (d${dense}, the width of Dense layer ${dense - 1}), ` +
        `got ${size('outputs')}`);
    }
  },
};

// ---- the checked kernels

/** The checks of one kernel: a function of the call's arguments that throws what the addon would. */
export function checker(name: KernelName): (args: ArrayLike<unknown>) => void {
  const c = compile(name, kernels[name]);
  return (args) => check(c, args);
}
