// The kernel argument checks' exact words, on every backend (src/backend/ts/checks.ts and native/addon.cc read
// the same spec and must say the same): how each kind of bad value is described, the call's signature when
// arguments are missing, the window and pooling hooks, the batch-norm hook, index bounds named by their product,
// the probability check's full message, and the memory rules that allow the very same array.
import { beforeEach, describe, expect, it } from 'vitest';
import { getBackend } from '../src/backend/index';
import type { Kernels } from '../src/backend/backend';
import { slopeWords } from '../src/backend/ts/plan';
import { backends, useBackend } from './helpers';

const f32 = (n: number) => new Float32Array(n);
const f64 = (n: number) => new Float64Array(n);

type Refusal = [string, (k: Kernels) => unknown, ErrorConstructor, string];

const refused: Refusal[] = [
  // how a bad value is described, as a size and as an array
  ['a bigint size', (k) => k.sgd(1n as never, f64(1), f64(1), 0.1), TypeError, 'n must be a number, got a bigint'],
  ['a symbol size', (k) => k.sgd(Symbol('n') as never, f64(1), f64(1), 0.1), TypeError, 'n must be a number, got a symbol'],
  ['a function size', (k) => k.sgd((() => 1) as never, f64(1), f64(1), 0.1), TypeError, 'n must be a number, got a function'],
  ['a boolean size', (k) => k.sgd(true as never, f64(1), f64(1), 0.1), TypeError, 'n must be a number, got a boolean'],
  ['a string size', (k) => k.sgd('1' as never, f64(1), f64(1), 0.1), TypeError, 'n must be a number, got a string'],
  ['an undefined size', (k) => k.sgd(undefined as never, f64(1), f64(1), 0.1), TypeError, 'n must be a number, got undefined'],
  ['a null size', (k) => k.sgd(null as never, f64(1), f64(1), 0.1), TypeError, 'n must be a number, got null'],
  ['an object size', (k) => k.sgd({} as never, f64(1), f64(1), 0.1), TypeError, 'n must be a number, got an object'],
  ['an Array as an array', (k) => k.sgd(1, [0] as never, f64(1), 0.1), TypeError, 'p must be a Float32Array or Float64Array, got an Array'],
  ['a DataView as an array', (k) => k.sgd(1, new DataView(new ArrayBuffer(8)) as never, f64(1), 0.1), TypeError,
    'p must be a Float32Array or Float64Array, got a DataView'],
  ['an Int32Array as a float array', (k) => k.sgd(1, new Int32Array(1) as never, f64(1), 0.1), TypeError,
    'p must be a Float32Array or Float64Array, got Int32Array'],
  ['a Float64Array as labels', (k) => k.softmaxCrossEntropyIndex(1, 2, f64(2), f64(1) as never, null), TypeError,
    'labels must be an Int32Array, got Float64Array'],
  ['mixed dtypes', (k) => k.sgd(1, f32(1), f64(1), 0.1), TypeError, 'g must be a Float32Array like the other arrays, got Float64Array'],
  ['a fractional size', (k) => k.sgd(1.5, f64(2), f64(2), 0.1), RangeError, 'n must be an integer in [0, 2^31), got 1.5'],
  ['a string number', (k) => k.sgd(1, f64(1), f64(1), '0.1' as never), TypeError, 'lr must be a number, got a string'],
  ['an infinite number', (k) => k.sgd(1, f64(1), f64(1), -Infinity), RangeError, 'lr must be a finite number, got -Infinity'],
  ['a required flag left undefined', (k) => k.mse(1, 1, f64(1), f64(1), undefined as never, null), TypeError, 'half must be a boolean, got undefined'],
  ['a flag that is not a boolean', (k) => k.mse(1, 1, f64(1), f64(1), 0 as never, null), TypeError, 'half must be a boolean, got 0'],
  ['an optional flag that is not a boolean',
    (k) => k.conv2dForward(1, 1, 2, 2, 1, 1, 1, 1, 1, 0, 0, f64(4), f64(1), null, f64(4), 'yes' as never), TypeError,
    'relu must be a boolean, got a string'],
  ['an enum that is not a string', (k) => k.activationForward(1 as never, 1, f64(1), f64(1), 0), TypeError,
    'activation must be a string, got 1'],
  ['an enum outside its names', (k) => k.activationForward('gelu' as never, 1, f64(1), f64(1), 0), RangeError,
    "activation must be 'relu', 'leakyRelu', 'sigmoid', 'tanh' or 'step', got 'gelu'"],
  ['an enum name with a NUL after a valid one', (k) => k.activationForward('relu\0x' as never, 1, f64(1), f64(1), 0),
    RangeError, "activation must be 'relu', 'leakyRelu', 'sigmoid', 'tanh' or 'step', got 'relu\0x'"],
  ['an enum name longer than any', (k) => k.activationForward('relu'.repeat(20) as never, 1, f64(1), f64(1), 0),
    RangeError, `activation must be 'relu', 'leakyRelu', 'sigmoid', 'tanh' or 'step', got '${'relu'.repeat(20)}'`],
  // missing arguments: the call's signature
  ['missing arguments', (k) => (k.sgd as (...a: unknown[]) => unknown)(1, f64(1)), TypeError, 'sgd(n, p, g, lr): expected 4 arguments, got 2'],
  // products of sizes
  ['a size product of exactly 2^53', (k) => k.biasAdd(2 ** 30, 2 ** 23, f64(1), f64(1)), RangeError, 'rows * cols is too large'],
  ['softmax with rows but no cols', (k) => k.softmax(1, 0, f64(0), f64(0)), RangeError, 'cols must be at least 1, got 0'],
  ['a size product past 2^53', (k) => k.biasAdd(2 ** 30, 2 ** 30, f64(1), f64(1)), RangeError, 'rows * cols is too large'],
  // windows: kernel, stride, the padded input, with and without padding
  ['conv KH 0', (k) => k.conv2dForward(1, 1, 4, 4, 1, 0, 1, 1, 1, 0, 0, f64(16), f64(0), null, f64(16)), RangeError, 'KH must be at least 1, got 0'],
  ['conv strideW 0', (k) => k.conv2dForward(1, 1, 4, 4, 1, 1, 1, 1, 0, 0, 0, f64(16), f64(1), null, f64(16)), RangeError, 'strideW must be at least 1, got 0'],
  ['conv KH larger than the padded H', (k) => k.conv2dForward(1, 1, 2, 4, 1, 5, 1, 1, 1, 1, 0, f64(8), f64(5), null, f64(8)), RangeError,
    'KH = 5 is larger than H + 2 * padH = 4'],
  ['pool KW larger than W', (k) => k.avgPool2dForward(1, 1, 4, 2, 1, 3, 1, 1, f64(8), f64(8)), RangeError, 'KW = 3 is larger than W = 2'],
  ['pool KH 0', (k) => k.avgPool2dForward(1, 1, 4, 4, 0, 1, 1, 1, f64(16), f64(16)), RangeError, 'KH must be at least 1, got 0'],
  ['pool strideH 0', (k) => k.avgPool2dForward(1, 1, 4, 4, 1, 1, 0, 1, f64(16), f64(16)), RangeError, 'strideH must be at least 1, got 0'],
  ['pool plane of 2^31 values', (k) => k.avgPool2dForward(0, 1, 2 ** 16, 2 ** 15, 2 ** 16, 2 ** 15, 1, 1, f64(0), f64(0)), RangeError,
    'H * W must be below 2^31 (argmax holds plane indices)'],
  ['the im2col matrix past 2^53', (k) => k.conv2dForward(0, 2 ** 20, 2 ** 20, 2 ** 20, 1, 2 ** 10, 1, 1, 1, 0, 0, f64(0), f64(0), null, f64(0)),
    RangeError, 'C * KH * KW * OH * OW is too large'],
  // indices bounded by a product of sizes
  ['an argmax outside the plane', (k) => k.maxPool2dBackward(1, 1, 2, 2, 1, 1, 1, 1, f64(4), new Int32Array([0, 1, 4, 0]), f64(4)),
    RangeError, 'argmax[2] = 4 is outside [0, H * W = 4)'],
  ['a negative argmax', (k) => k.maxPool2dBackward(1, 1, 2, 2, 1, 1, 1, 1, f64(4), new Int32Array([0, -1, 0, 0]), f64(4)),
    RangeError, 'argmax[1] = -1 is outside [0, H * W = 4)'],
  ['a label outside the classes', (k) => k.softmaxCrossEntropyIndex(1, 2, f64(2), new Int32Array([2]), null), RangeError,
    'labels[0] = 2 is outside [0, 2)'],
  // batch norm in training needs two values per channel
  ['batch norm training on one value per channel',
    (k) => k.batchNormForward(1, 2, 1, f64(2), f64(2), f64(2), f64(2), f64(2), f64(2), f64(2), f64(2), true, 0.1, 1e-5),
    RangeError, 'batch norm in training needs more than one value per channel, got N * S = 1'],
  ['batch norm training on an empty batch',
    (k) => k.batchNormForward(3, 2, 0, f64(0), f64(2), f64(2), f64(0), f64(2), f64(2), f64(2), f64(2), true, 0.1, 1e-5),
    RangeError, 'batch norm in training needs more than one value per channel, got N * S = 0'],
  // probabilities
  ['a probability above 1', (k) => k.crossEntropyProbs(1, 2, Float64Array.of(0.5, 2), Float64Array.of(0, 1), 0, null), RangeError,
    'probs[1] = 2 is outside [0, 1]: cross-entropy takes probabilities (e.g. a Softmax output); for logits use softmaxCrossEntropy'],
  // the memory rules: any overlap where none is allowed, a partial one where the very same array is allowed
  ['an output over an input', (k) => {
    const a = f64(4);
    return k.gemm(false, false, 2, 2, 2, 1, a, f64(4), 0, a);
  }, RangeError, 'C must not share memory with A'],
  ['a partial overlap where the same array is allowed', (k) => {
    const b = f64(3);
    return k.mul(2, b.subarray(0, 2), f64(2), b.subarray(1, 3));
  }, RangeError, 'y must not share memory with a (other than being the very same array)'],
  ['an input that begins where the output does but is shorter (a row of it, broadcast)', (k) => {
    const y = f64(4);
    return k.broadcastBinary('add', 1, 1, 2, 2, 1, 1, 1, 2, y, y.subarray(0, 2), y);
  }, RangeError, 'y must not share memory with b (other than being the very same array)'],
];

/**
 * planForward over 1 row of 2 inputs through Dense layers of width 2 (d0 .. d4 as given; width 4: two activations of
 * 2 columns), every weight given unless `missing` names one, with `program` as the program.
 */
function plan(k: Kernels, program: number[], { dims = [2, 2, 2, 2, 2], outputs = 2, missing = -1, length = program.length } = {}) {
  const w = (i: number) => (i === missing ? null : f64(Math.max(1, dims[i] * dims[i + 1])));
  return k.planForward(1, outputs, 4, length, dims[0], dims[1], dims[2], dims[3], dims[4], Int32Array.from(program),
    f64(dims[0]), f64(outputs), f64(4), w(0)!, null, w(1), null, w(2), null, w(3), null);
}
const D = (i: number) => [0, i, 0, 0];
const R = 'the first step must be Dense layer 0';

// the inference plan's program (its value check, planProgram in checks.ts), each rule's message
refused.push(
  ['a program of 5 words', (k) => plan(k, [...D(0), 0], { length: 5 }), RangeError, 'programLength must be a multiple of 4 (steps of 4 words), got 5'],
  ['a step 3', (k) => plan(k, [3, 0, 0, 0]), RangeError, 'program[0] = 3 is not a step (0 Dense, 1 activation, 2 softmax)'],
  ['a step -1', (k) => plan(k, [...D(0), -1, 0, 0, 0]), RangeError, 'program[4] = -1 is not a step (0 Dense, 1 activation, 2 softmax)'],
  ['a softmax first', (k) => plan(k, [2, 0, 0, 0]), RangeError, `program[0] = 2: ${R}`],
  ['a word of a Dense step', (k) => plan(k, [0, 0, 0, 7]), RangeError, 'program[3] = 7 must be 0 (an unused word of a Dense step)'],
  ['a word of a softmax step', (k) => plan(k, [...D(0), 2, 0, 5, 0]), RangeError, 'program[6] = 5 must be 0 (an unused word of a softmax step)'],
  ['the first word of a softmax step', (k) => plan(k, [...D(0), 2, 5, 0, 0]), RangeError, 'program[5] = 5 must be 0 (an unused word of a softmax step)'],
  ['a fifth Dense step', (k) => plan(k, [...D(0), ...D(1), ...D(2), ...D(3), ...D(4)]), RangeError,
    'program[17] = 4: Dense steps run layers 0 to 3 in order'],
  ['a Dense layer of no outputs', (k) => plan(k, D(0), { dims: [2, 0, 0, 0, 0], outputs: 0 }), RangeError,
    'Dense layer 0 needs d0 and d1 of at least 1, got 2 and 0'],
  ['a second Dense layer of no outputs', (k) => plan(k, [...D(0), ...D(1)], { dims: [2, 2, 0, 2, 0] }), RangeError,
    'Dense layer 1 needs d1 and d2 of at least 1, got 2 and 0'],
  ['a Dense layer of no inputs', (k) => plan(k, D(0), { dims: [0, 2, 0, 0, 0] }), RangeError,
    'Dense layer 0 needs d0 and d1 of at least 1, got 0 and 2'],
  ['w1 missing', (k) => plan(k, [...D(0), ...D(1)], { missing: 1 }), RangeError, 'w1 is missing: program[4] runs Dense layer 1'],
  ['an activation 5', (k) => plan(k, [...D(0), 1, 5, 0, 0]), RangeError,
    "program[5] = 5 is not an activation (0 to 4: 'relu', 'leakyRelu', 'sigmoid', 'tanh' or 'step')"],
  ['an activation -1', (k) => plan(k, [...D(0), 1, -1, 0, 0]), RangeError,
    "program[5] = -1 is not an activation (0 to 4: 'relu', 'leakyRelu', 'sigmoid', 'tanh' or 'step')"],
  ['an infinite slope', (k) => plan(k, [...D(0), 1, 1, ...slopeWords(Infinity)]), RangeError, 'program[6..7] = Infinity: a slope must be finite'],
  // a NaN whose low word is not 0: its words read from anywhere else would not make a NaN
  ['a NaN slope', (k) => plan(k, [...D(0), 1, 1, 1, 0x7ff00000]), RangeError, 'program[6..7] = NaN: a slope must be finite'],
);

describe.each(backends)('kernel checks word for word on $label', (bc) => {
  beforeEach(() => useBackend(bc));

  it.each(refused)('%s', (_name, call, type, message) => {
    let thrown: unknown;
    try { call(getBackend()); } catch (e) { thrown = e; }
    expect(thrown).toBeInstanceOf(type);
    expect((thrown as Error).message).toBe(message);
  });

  it('planForward takes a Dense layer of one input, a leaky ReLU of a finite slope, a softmax after it', () => {
    const k = getBackend();
    const y = f64(2);
    // x = [3]; w0 = [2, -1] (1 x 2): [6, -3]; leakyRelu 0.5: [6, -1.5]; softmax over the row
    k.planForward(1, 2, 4, 12, 1, 2, 0, 0, 0, Int32Array.from([...D(0), 1, 1, ...slopeWords(0.5), 2, 0, 0, 0]),
      Float64Array.of(3), y, f64(4), Float64Array.of(2, -1), null, null, null, null, null, null, null);
    const e = Math.exp(-7.5);
    expect(Array.from(y)).toEqual([1 / (1 + e), e / (1 + e)]);
  });

  it('what the checks let through: the very same array, empty arrays, disjoint views, batch norm in eval', () => {
    const k = getBackend();
    const a = Float64Array.of(2, 3);
    k.mul(2, a, a, a);
    expect(Array.from(a)).toEqual([4, 9]);
    // two halves of one buffer do not overlap
    const buf = Float64Array.of(1, 2, 3, 4);
    k.add(2, buf.subarray(0, 2), buf.subarray(0, 2), buf.subarray(2, 4));
    expect(Array.from(buf)).toEqual([1, 2, 2, 4]);
    k.add(2, buf.subarray(2, 4), buf.subarray(2, 4), buf.subarray(0, 2));
    expect(Array.from(buf)).toEqual([4, 8, 2, 4]);
    // an empty view inside another array's memory shares none of it, as output or as input
    k.add(0, buf, buf, buf.subarray(1, 1));
    k.add(0, buf.subarray(1, 1), buf.subarray(1, 1), buf);
    // softmax of no rows may have no cols
    k.softmax(0, 0, f64(0), f64(0));
    // conv with a null bias; fused 2x2 pooling needs y of only the pooled size (3x3 -> 1x1)
    const pooled = f64(1);
    k.conv2dForward(1, 1, 3, 3, 1, 1, 1, 1, 1, 0, 0, Float64Array.of(1, 2, 0, 3, 4, 0, 0, 0, 9), Float64Array.of(1), null, pooled, false, true);
    expect(pooled[0]).toBe(4);
    // a channel with one value is fine in eval, and in training when there are no channels
    const y = f64(1);
    k.batchNormForward(1, 1, 1, Float64Array.of(3), Float64Array.of(1), Float64Array.of(0), y, f64(1), f64(1),
      Float64Array.of(1), Float64Array.of(3), false, 0.1, 1);
    expect(y[0]).toBe(1);
    k.batchNormForward(1, 0, 1, f64(0), f64(0), f64(0), f64(0), f64(0), f64(0), f64(0), f64(0), true, 0.1, 1e-5);
    // two values per channel are enough in training
    const y2 = f64(2);
    k.batchNormForward(2, 1, 1, Float64Array.of(1, 3), Float64Array.of(1), Float64Array.of(0), y2, f64(1), f64(1),
      f64(1), Float64Array.of(1), true, 0.1, 1e-12);
    expect(y2[0]).toBeCloseTo(-1, 9);
    expect(y2[1]).toBeCloseTo(1, 9);
    // a kernel the size of the padded input, and a pool window the size of the plane
    const out = f64(1);
    k.conv2dForward(1, 1, 1, 1, 1, 3, 3, 1, 1, 1, 1, Float64Array.of(2), Float64Array.of(0, 0, 0, 0, 5, 0, 0, 0, 0), null, out);
    expect(out[0]).toBe(10);
    k.avgPool2dForward(1, 1, 2, 2, 2, 2, 1, 1, Float64Array.of(1, 2, 3, 6), out);
    expect(out[0]).toBe(3);
    // indices up to H * W - 1, labels up to cols - 1
    const dx = f64(4);
    k.maxPool2dBackward(1, 1, 2, 2, 1, 1, 1, 1, Float64Array.of(1, 2, 3, 4), new Int32Array([3, 2, 1, 0]), dx);
    expect(Array.from(dx)).toEqual([4, 3, 2, 1]);
    expect(k.softmaxCrossEntropyIndex(1, 2, Float64Array.of(0, 0), new Int32Array([1]), null)).toBeCloseTo(Math.log(2), 15);
  });
});
