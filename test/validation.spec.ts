// The public API's argument checks (src/validate.ts): every option is checked where it is given, with the house
// message `<name> must be <expected>, got <value>` (a TypeError for a value of the wrong type, else a
// RangeError), and the optimizer, batch-norm and loss hyper-parameters accept exactly what their kernels accept.
import { describe, expect, it } from 'vitest';
import { getBackend } from '../src/backend/index';
import { EarlyStopping, ModelCheckpoint, ReduceLROnPlateau } from '../src/callbacks';
import { type KernelName, kernels, parseRange } from '../src/backend/spec';
import { loadMnist } from '../src/data/mnist';
import { spiral } from '../src/data/toy';
import {
  AvgPool2D, BatchNorm1D, BatchNorm2D, Conv1D, Conv2D, Dense, Dropout, Flatten, GlobalAvgPool2D, LeakyReLU, MaxPool2D, ReLU,
  Softmax,
} from '../src/layers/index';
import { binaryCrossEntropy, crossEntropy, mse } from '../src/losses';
import { Sequential } from '../src/network';
import { ProgressBar } from '../src/progress';
import {
  AdaGrad, Adam, AdamW, type Optimizer, RMSProp, SGD, cosineDecay, exponentialDecay, oneCycle, optimizerFromName,
  stepDecay, warmupCosine,
} from '../src/optimizers';
import { Tensor } from '../src/tensor';
import {
  batchNormCanTrain, batchNormSizes, choicesText, describeValue, invalid, isInRange, isPlainObject, isPositiveInt,
  isShape, kernelRange, knownOptions, numberIn, oneOf, rangeText, sizePair, positiveInt, windowCount,
} from '../src/validate';
import { backends, useBackend } from './helpers';

/** The error fn throws: its class and its exact message. */
function thrown(fn: () => unknown): [string, string] {
  try {
    fn();
  } catch (e) {
    return [(e as Error).constructor.name, (e as Error).message];
  }
  return ['nothing', ''];
}

async function rejected(p: () => Promise<unknown>): Promise<[string, string]> {
  try {
    await p();
  } catch (e) {
    return [(e as Error).constructor.name, (e as Error).message];
  }
  return ['nothing', ''];
}

const T = 'TypeError', R = 'RangeError';

describe('validate.ts', () => {
  it('describeValue names a value as messages show it', () => {
    expect([-0, NaN, 'a\nb', true, null, undefined, 3n, () => 1, [1, 2], {}, new Map(), new Float32Array(2)].map(describeValue))
      .toEqual(['-0', 'NaN', "the string 'a\\nb'", 'true', 'null', 'undefined', 'the bigint 3n', 'a function',
        'an array of length 2', 'an object', 'a Map', 'a Float32Array']);
  });

  it('invalid() is the one error: the wording, and TypeError or RangeError by kind', () => {
    const t = invalid('lr', 'a positive number', '0.1', 'type'), r = invalid('lr', 'a positive number', -1, 'range');
    expect([t.constructor.name, t.message]).toEqual([T, "lr must be a positive number, got the string '0.1'"]);
    expect([r.constructor.name, r.message]).toEqual([R, 'lr must be a positive number, got -1']);
  });

  it('ranges: both ends, open and closed, and how messages state them', () => {
    expect([0, 1e-300, 1, 1 + 2 ** -52, NaN, Infinity, '0.5'].map((v) => isInRange(v, '(0, 1]')))
      .toEqual([false, true, true, false, false, false, false]);
    expect([-1e-300, 0, 1 - 2 ** -53, 1].map((v) => isInRange(v, '[0, 1)'))).toEqual([false, true, true, false]);
    expect([-0, 0, Infinity].map((v) => isInRange(v, '>= 0'))).toEqual([true, true, false]);
    expect(['[0, 1)', '(0, 1]', '> 0', '>= 0', '> 2', '>= 2'].map(rangeText)).toEqual(
      ['in [0, 1)', 'in (0, 1]', 'a positive number', 'a non-negative number', 'a number greater than 2', 'a number at least 2']);
    expect(thrown(() => numberIn(2, 'p', '[0, 1)', 'a probability'))).toEqual([R, 'p must be in [0, 1) (a probability), got 2']);
    expect(thrown(() => numberIn(null, 'p', '[0, 1)'))).toEqual([T, 'p must be in [0, 1), got null']);
  });

  it('predicates', () => {
    expect([1, 0, 1.5, '1', 2 ** 53].map(isPositiveInt)).toEqual([true, false, false, false, true]);
    expect([{}, Object.create(null), [], new Map(), null, new Float32Array(1), () => 1].map(isPlainObject))
      .toEqual([true, true, false, false, false, false, false]);
    expect([[2, 0], [], [1.5], [-1], 'ab', [2, '3']].map(isShape)).toEqual([true, true, false, false, false, false]);
  });

  it('choices: two, three, and a list', () => {
    expect(choicesText(['a', 'b'])).toBe("'a' or 'b'");
    expect(choicesText(['a', 'b', 'c'])).toBe("'a', 'b' or 'c'");
    expect(choicesText(['a', 'b', 'c', 'd'])).toBe("one of 'a', 'b', 'c', 'd'");
    expect(thrown(() => oneOf('x', ['a', 'b'], 'k'))).toEqual([R, "k must be 'a' or 'b', got the string 'x'"]);
    expect(thrown(() => oneOf(1, ['a', 'b'], 'k'))).toEqual([T, "k must be 'a' or 'b', got 1"]);
  });

  it('integers, size pairs and unknown options', () => {
    expect(thrown(() => positiveInt(0, 'n'))).toEqual([R, 'n must be a positive integer, got 0']);
    expect(thrown(() => positiveInt('3', 'n'))).toEqual([T, "n must be a positive integer, got the string '3'"]);
    expect(sizePair(3, 'k', positiveInt)).toEqual([3, 3]);
    expect(sizePair([2, 5], 'k', positiveInt)).toEqual([2, 5]);
    expect(thrown(() => sizePair([2, 0], 'k', positiveInt))).toEqual([R, 'k[1] must be a positive integer, got 0']);
    expect(thrown(() => sizePair([1, 2, 3], 'k', positiveInt))).toEqual([R, 'k must be a number or [height, width], got an array of length 3']);
    expect(thrown(() => knownOptions({ a: 1, c: 2 }, ['a', 'b'], 'f()'))).toEqual([T, "unknown f() option 'c'; the options are a, b"]);
  });

  it('the size rules: windows along an axis and the values batch norm needs', () => {
    expect([windowCount(5, 3, 1), windowCount(5, 3, 2), windowCount(2, 3, 1), windowCount(2, 3, 1, 1), windowCount(7, 2, 2)])
      .toEqual([3, 2, 0, 2, 3]);
    expect(batchNormSizes([4, 3, 5, 2])).toEqual([4, 3, 10]);
    expect(batchNormSizes([4, 3])).toEqual([4, 3, 1]);
    expect([batchNormCanTrain(1, 1), batchNormCanTrain(2, 1), batchNormCanTrain(1, 2)]).toEqual([false, true, true]);
  });

  it('kernelRange reads the kernel spec', () => {
    expect(kernelRange('adam', 'eps')).toEqual(parseRange('(0, 1]'));
    expect(() => kernelRange('adam', 'lr')).toThrow(/adam has no ranged number 'lr'/);
  });
});

type Row = [string, () => unknown, string, string];

const optimizerRows: Row[] = [
  ['Adam eps above the kernel range', () => new Adam({ eps: 2 }), R, 'eps must be in (0, 1], got 2'],
  ['Adam eps 0', () => new Adam({ eps: 0 }), R, 'eps must be in (0, 1], got 0'],
  ['Adam eps NaN', () => new Adam({ eps: NaN }), R, 'eps must be in (0, 1], got NaN'],
  ['Adam beta1 1', () => new Adam({ beta1: 1 }), R, 'beta1 must be in [0, 1), got 1'],
  ['Adam beta2 -0.1', () => new Adam({ beta2: -0.1 }), R, 'beta2 must be in [0, 1), got -0.1'],
  ['Adam beta1 a string', () => new Adam({ beta1: '0.9' as never }), T, "beta1 must be in [0, 1), got the string '0.9'"],
  ['Adam lr 0', () => new Adam({ lr: 0 }), R, 'lr must be a positive number, got 0'],
  ['Adam lr Infinity', () => new Adam({ lr: Infinity }), R, 'lr must be a positive number, got Infinity'],
  ['Adam an unknown option', () => new Adam({ betas: [0.9, 0.99] } as never), T,
    "unknown Adam option 'betas'; the options are lr, schedule, clipNorm, beta1, beta2, eps"],
  ['Adam options not an object', () => new Adam(5 as never), T, 'optimizer options must be an options object, got 5'],
  ['AdamW weightDecay -1', () => new AdamW({ weightDecay: -1 }), R, 'weightDecay must be a non-negative number, got -1'],
  ['AdamW weightDecay Infinity', () => new AdamW({ weightDecay: Infinity }), R, 'weightDecay must be a non-negative number, got Infinity'],
  ['AdamW eps 2', () => new AdamW({ eps: 2 }), R, 'eps must be in (0, 1], got 2'],
  ['SGD lr a string', () => new SGD({ lr: '0.1' as never }), T, "lr must be a positive number, got the string '0.1'"],
  ['SGD momentum 1.5', () => new SGD({ momentum: 1.5 }), R, 'momentum must be in [0, 1], got 1.5'],
  ['SGD nesterov a string', () => new SGD({ momentum: 0.9, nesterov: 'yes' as never }), T, "nesterov must be true or false, got the string 'yes'"],
  ['SGD nesterov without momentum', () => new SGD({ nesterov: true }), R, 'nesterov needs a momentum above 0'],
  ['SGD schedule a number', () => new SGD({ schedule: 5 as never }), T, 'schedule must be a function (epoch, lr, position) => lr, got 5'],
  ['SGD clipNorm 0', () => new SGD({ clipNorm: 0 }), R, 'clipNorm must be a positive number, got 0'],
  ['SGD an unknown option', () => new SGD({ weightDecay: 0.1 } as never), T,
    "unknown SGD option 'weightDecay'; the options are lr, schedule, clipNorm, momentum, nesterov"],
  ['AdaGrad eps 1.5', () => new AdaGrad({ eps: 1.5 }), R, 'eps must be in (0, 1], got 1.5'],
  ['RMSProp decay 1.01', () => new RMSProp({ decay: 1.01 }), R, 'decay must be in [0, 1], got 1.01'],
  ['RMSProp eps -1', () => new RMSProp({ eps: -1 }), R, 'eps must be in (0, 1], got -1'],
  ['optimizerFromName unknown', () => optimizerFromName('nadam' as never), R,
    "optimizer must be one of 'sgd', 'momentum', 'adam', 'adamw', 'rmsprop', 'adagrad', got the string 'nadam'"],
  ['stepDecay stepSize 0', () => stepDecay({ stepSize: 0 }), R, 'stepDecay stepSize must be a positive integer, got 0'],
  ['exponentialDecay gamma 0', () => exponentialDecay({ gamma: 0 }), R, 'exponentialDecay gamma must be a positive number, got 0'],
  ['cosineDecay minLr -1', () => cosineDecay({ tMax: 3, minLr: -1 }), R, 'cosineDecay minLr must be a non-negative number, got -1'],
  ['warmupCosine startFactor 2', () => warmupCosine({ warmupSteps: 1, startFactor: 2 }), R, 'warmupCosine startFactor must be in [0, 1], got 2'],
  ['warmupCosine warmupFraction 1', () => warmupCosine({ warmupFraction: 1 }), R, 'warmupCosine warmupFraction must be in [0, 1), got 1'],
  ['oneCycle pctStart 1', () => oneCycle({ pctStart: 1 }), R, 'oneCycle pctStart must be in (0, 1), got 1'],
  ['oneCycle anneal', () => oneCycle({ anneal: 'exp' as never }), R, "oneCycle anneal must be 'cos' or 'linear', got the string 'exp'"],
];

const layerRows: Row[] = [
  ['Dense inFeatures 0', () => new Dense(0, 2), R, 'Dense inFeatures must be a positive integer, got 0'],
  ['Dense outFeatures 2.5', () => new Dense(2, 2.5), R, 'Dense outFeatures must be a positive integer, got 2.5'],
  ['Dense units a string', () => new Dense(2, '3' as never), T, "Dense outFeatures must be a positive integer, got the string '3'"],
  ['Dense init', () => new Dense(2, 3, { init: 'glorot' as never }), R,
    "Dense init must be one of 'random', 'he', 'xavier', 'zeros', 'kaimingUniform', got the string 'glorot'"],
  ['Dense std -1', () => new Dense(2, 3, { init: 'random', std: -1 }), R, 'Dense std must be a non-negative number, got -1'],
  ['Dense bias', () => new Dense(2, 3, { bias: 1 as never }), T, 'Dense bias must be true or false, got 1'],
  ['Dense biasInit', () => new Dense(2, 3, { biasInit: 'ones' as never }), R, "Dense biasInit must be 'zeros' or 'random', got the string 'ones'"],
  ['Dense dtype', () => new Dense(2, 3, { dtype: 'float16' as never }), R, "Dense dtype must be 'float32' or 'float64', got the string 'float16'"],
  ['Dense seed', () => new Dense(2, 3, { seed: NaN }), R, 'Dense seed must be a finite number, got NaN'],
  ['Dense an unknown option', () => new Dense(2, 3, { activation: 'relu' } as never), T,
    "unknown Dense option 'activation'; the options are init, std, bias, biasInit, dtype, seed"],
  ['Dense options an array', () => new Dense(2, 3, [] as never), T, 'Dense options must be an options object, got an array of length 0'],
  ['Conv2D filters 0', () => new Conv2D(1, 0, 3), R, 'Conv2D outChannels must be a positive integer, got 0'],
  ['Conv2D kernelSize [3]', () => new Conv2D(1, 2, [3] as never), R, 'Conv2D kernelSize must be a number or [height, width], got an array of length 1'],
  ['Conv2D stride [1, 0]', () => new Conv2D(1, 2, 3, { stride: [1, 0] }), R, 'Conv2D stride[1] must be a positive integer, got 0'],
  ['Conv2D padding -1', () => new Conv2D(1, 2, 3, { padding: -1 }), R, 'Conv2D padding must be a non-negative integer, got -1'],
  ['Conv2D padding "same"', () => new Conv2D(1, 2, 3, { padding: 'same' as never }), T, "Conv2D padding must be a non-negative integer, got the string 'same'"],
  ['Conv2D dilation (not supported)', () => new Conv2D(1, 2, 3, { dilation: 2 } as never), T,
    "unknown Conv2D option 'dilation'; the options are stride, padding, bias, init, dtype, seed"],
  ['Conv2D init', () => new Conv2D(1, 2, 3, { init: 'xavier' as never }), R, "Conv2D init must be 'kaimingUniform' or 'he', got the string 'xavier'"],
  ['Conv1D kernelSize 0', () => new Conv1D(1, 2, 0), R, 'Conv1D kernelSize must be a positive integer, got 0'],
  ['Conv1D stride 1.5', () => new Conv1D(1, 2, 3, { stride: 1.5 }), R, 'Conv1D stride must be a positive integer, got 1.5'],
  ['Conv1D dilation', () => new Conv1D(1, 2, 3, { dilation: 2 } as never), T,
    "unknown Conv1D option 'dilation'; the options are stride, padding, bias, init, dtype, seed"],
  ['MaxPool2D kernelSize 0', () => new MaxPool2D(0), R, 'MaxPool2D kernelSize must be a positive integer, got 0'],
  ['MaxPool2D padding', () => new MaxPool2D(2, { padding: 1 } as never), T, "unknown MaxPool2D option 'padding'; the options are stride"],
  ['AvgPool2D stride a string', () => new AvgPool2D(2, { stride: '2' as never }), T, "AvgPool2D stride must be a positive integer, got the string '2'"],
  ['Dropout rate 1', () => new Dropout(1), R, 'Dropout p must be in [0, 1), got 1'],
  ['Dropout rate -0.1', () => new Dropout(-0.1), R, 'Dropout p must be in [0, 1), got -0.1'],
  ['Dropout rate a string', () => new Dropout('0.5' as never), T, "Dropout p must be in [0, 1), got the string '0.5'"],
  ['BatchNorm1D numFeatures 0', () => new BatchNorm1D(0), R, 'BatchNorm1D numFeatures must be a positive integer, got 0'],
  ['BatchNorm1D momentum 1.5', () => new BatchNorm1D(2, { momentum: 1.5 }), R, 'BatchNorm1D momentum must be in [0, 1], got 1.5'],
  ['BatchNorm2D eps 0', () => new BatchNorm2D(2, { eps: 0 }), R, 'BatchNorm2D eps must be a positive number, got 0'],
  ['BatchNorm2D eps Infinity', () => new BatchNorm2D(2, { eps: Infinity }), R, 'BatchNorm2D eps must be a positive number, got Infinity'],
  ['BatchNorm2D affine', () => new BatchNorm2D(2, { affine: false } as never), T, "unknown BatchNorm2D option 'affine'; the options are momentum, eps, dtype"],
  ['Sequential dtype', () => new Sequential([], { dtype: 'float16' as never }), R,
    "Sequential dtype must be 'float32' or 'float64', got the string 'float16'"],
  ['Sequential seed', () => new Sequential([], { seed: 'x' as never }), T, "Sequential seed must be a finite number, got the string 'x'"],
  ['Sequential an unknown option', () => new Sequential([], { inputShape: [2] } as never), T,
    "unknown Sequential option 'inputShape'; the options are seed, dtype"],
  ['Softmax axis (it has none)', () => new (Softmax as new (o: unknown) => Softmax)({ axis: 1 }), T,
    'Softmax() must be called without arguments (it normalizes over the last axis), got an object'],
  ['Flatten startDim', () => new (Flatten as new (o: unknown) => Flatten)(2), T,
    'Flatten() must be called without arguments (it flattens every axis after the first), got 2'],
  ['GlobalAvgPool2D options', () => new (GlobalAvgPool2D as new (o: unknown) => GlobalAvgPool2D)({ keepDims: true }), T,
    'GlobalAvgPool2D() must be called without arguments (it averages each channel over the whole image), got an object'],
  ['ReLU maxValue', () => new (ReLU as new (o: unknown) => ReLU)(6), T, 'ReLU() must be called without arguments (it has no options), got 6'],
  ['LeakyReLU slope NaN', () => new LeakyReLU(NaN), R, 'LeakyReLU slope must be a finite number, got NaN'],
  ['LeakyReLU slope an object', () => new LeakyReLU({ alpha: 0.1 } as never), T, 'LeakyReLU slope must be a finite number, got an object'],
];

const x = new Tensor([[0.2, 0.8]]), y = new Int32Array([1]);
const lossRows: Row[] = [
  ['binaryCrossEntropy eps 0.7', () => binaryCrossEntropy(x, new Tensor([[0, 1]]), { fromLogits: false, eps: 0.7 }), R,
    'binaryCrossEntropy eps must be in (0, 0.5], got 0.7'],
  ['binaryCrossEntropy fromLogits', () => binaryCrossEntropy(x, new Tensor([[0, 1]]), { fromLogits: 'no' as never }), T,
    "binaryCrossEntropy fromLogits must be true or false, got the string 'no'"],
  ['binaryCrossEntropy an unknown option', () => binaryCrossEntropy(x, new Tensor([[0, 1]]), { reduction: 'sum' } as never), T,
    "unknown binaryCrossEntropy option 'reduction'; the options are fromLogits, eps"],
  ['crossEntropy eps 1', () => crossEntropy(x, y, { eps: 1 }), R, 'crossEntropy eps must be in [0, 1), got 1'],
  ['mse reduction', () => mse(x, x, { reduction: 'avg' as never }), R, "mse reduction must be 'batchMean', 'mean' or 'sum', got the string 'avg'"],
  ['mse half', () => mse(x, x, { half: 1 as never }), T, 'mse half must be true or false, got 1'],
];

const dataRows: Row[] = [
  ['spiral n 0', () => spiral({ n: 0 }), R, 'spiral n must be a positive integer, got 0'],
  ['spiral k 1.5', () => spiral({ k: 1.5 }), R, 'spiral k must be a positive integer, got 1.5'],
  ['spiral d 3', () => spiral({ d: 3 }), R, 'spiral d must be 2 (the only dimension defined), got 3'],
  ['spiral noise -1', () => spiral({ noise: -1 }), R, 'spiral noise must be a non-negative number, got -1'],
  ['spiral seed', () => spiral({ seed: '1' as never }), T, "spiral seed must be a finite number, got the string '1'"],
  ['spiral an unknown option', () => spiral({ classes: 3 } as never), T, "unknown spiral option 'classes'; the options are n, d, k, noise, seed"],
];

const callbackRows: Row[] = [
  ['EarlyStopping patience -1', () => new EarlyStopping({ patience: -1 }), R, 'EarlyStopping patience must be a non-negative integer, got -1'],
  ['EarlyStopping an unknown option', () => new EarlyStopping({ minDelta: 0, verbose: 1 } as never), T,
    "unknown EarlyStopping option 'verbose'; the options are monitor, patience, minDelta, mode, restoreBestWeights, baseline"],
  ['ReduceLROnPlateau factor 1', () => new ReduceLROnPlateau({ factor: 1 }), R, 'ReduceLROnPlateau factor must be in (0, 1) (it multiplies the rate), got 1'],
  ['ModelCheckpoint an unknown option', () => new ModelCheckpoint({ path: 'm.safetensors', saveWeightsOnly: true } as never), T,
    "unknown ModelCheckpoint option 'saveWeightsOnly'; the options are path, monitor, saveBestOnly, mode"],
  ['ProgressBar verbose 3', () => new ProgressBar({ verbose: 3 as never }), R, 'ProgressBar verbose must be 1 or 2, got 3'],
];

describe('every option is checked at construction, naming it', () => {
  it.each([...optimizerRows, ...layerRows, ...lossRows, ...dataRows, ...callbackRows])('%s', (_label, fn, cls, message) => {
    expect(thrown(fn)).toEqual([cls, message]);
  });
});

// Every check rejects before reading a file: nothing here is read or downloaded.
const mnistRows: [string, unknown, string, string][] = [
  ['kind', { kind: 'cifar' }, R, "kind must be 'mnist' or 'fashion', got the string 'cifar'"],
  ['dtype', { dtype: 'int8' }, R, "dtype must be 'float32' or 'float64', got the string 'int8'"],
  ['limit 0', { limit: 0 }, R, 'limit must be a positive integer, got 0'],
  ['limit.test 1.5', { limit: { test: 1.5 } }, R, 'limit.test must be a positive integer, got 1.5'],
  ['limit a string', { limit: '10' }, T, "limit must be a positive integer or { train, test }, got the string '10'"],
  ['limit with an unknown key', { limit: { valid: 10 } }, T, "unknown loadMnist limit option 'valid'; the options are train, test"],
  ['normalize', { normalize: 1 }, T, 'normalize must be true or false, got 1'],
  ['flatten', { flatten: 'yes' }, T, "flatten must be true or false, got the string 'yes'"],
  ['oneHot', { oneHot: null }, T, 'oneHot must be true or false, got null'],
  ['dir', { dir: '' }, T, "dir must be a non-empty string, got the string ''"],
  ['timeoutMs 0', { timeoutMs: 0 }, R, 'timeoutMs must be in (0, 2147483647], got 0'],
  ['timeoutMs beyond setTimeout', { timeoutMs: 2 ** 31 }, R, 'timeoutMs must be in (0, 2147483647], got 2147483648'],
  ['signal', { signal: {} }, T, 'signal must be an AbortSignal, got an object'],
  ['onProgress', { onProgress: 'log' }, T, "onProgress must be a function, got the string 'log'"],
  ['sha256', { sha256: 'abc' }, T, "sha256 must be an object of checksums by file name, got the string 'abc'"],
  ['an unknown option', { path: '/tmp' }, T, "unknown loadMnist option 'path'; the options are dir, kind, normalize, flatten, " +
  'oneHot, dtype, limit, baseUrl, cacheDir, local, download, timeoutMs, sha256, signal, onProgress'],
  ['not an object', 'mnist', T, "loadMnist options must be an options object, got the string 'mnist'"],
];

describe('loadMnist checks every option before looking for files', () => {
  it.each(mnistRows)('%s', async (_label, opts, cls, message) => {
    expect(await rejected(() => loadMnist(opts as never))).toEqual([cls, message]);
  });
});

describe('fit, evaluate and predict check their options at call start', () => {
  const net = () => new Sequential([new Dense(2, 2)], { seed: 1 });
  const xs = new Tensor([[0, 1], [1, 0], [1, 1], [0, 0]]), ys = new Int32Array([1, 1, 0, 0]);
  const fitRows: [string, object, string, string][] = [
    ['epochs 0', { epochs: 0 }, R, 'epochs must be a positive integer, got 0'],
    ['batchSize 1.5', { batchSize: 1.5 }, R, 'batchSize must be a positive integer, got 1.5'],
    ['batchSize a string', { batchSize: '32' }, T, "batchSize must be a positive integer, got the string '32'"],
    ['weightDecay -1', { weightDecay: -1 }, R, 'weightDecay must be a non-negative number, got -1'],
    ['shuffle', { shuffle: 'no' }, T, "shuffle must be true or false, got the string 'no'"],
    ['validationSplit 1', { validationSplit: 1 }, R, 'validationSplit must be in (0, 1) (the fraction of the samples held out), got 1'],
    ['onEpochEnd', { onEpochEnd: 1 }, T, 'onEpochEnd must be a function, got 1'],
    ['signal', { signal: {} }, T, 'signal must be an AbortSignal (new AbortController().signal), got an object'],
    ['dataset', { dataset: '' }, T, "dataset must be a non-empty string, got the string ''"],
    ['an optimizer with a bad option', { optimizer: 'nadam' }, T, "optimizer must be an Optimizer (new Adam({ lr: 0.001 }), ...) or one of 'sgd', 'momentum', 'adam', 'adamw', 'rmsprop', 'adagrad', got the string 'nadam'"],
  ];
  it.each(fitRows)('fit %s', async (_label, opts, cls, message) => {
    const n = net(), before = n.stateDict()['0.weight'].toArray();
    expect(await rejected(() => n.fit(xs, ys, opts as never))).toEqual([cls, message]);
    expect(n.stateDict()['0.weight'].toArray()).toEqual(before);  // refused before any step
  });

  it('fit of an optimizer whose eps the kernel would refuse never starts: the optimizer is refused when built', () => {
    expect(thrown(() => new Adam({ eps: 2 }))).toEqual([R, 'eps must be in (0, 1], got 2']);
  });

  it('evaluate and predict: batchSize and unknown options', () => {
    const n = net();
    expect(thrown(() => n.evaluate(xs, ys, { loss: 'softmaxCrossEntropy', batchSize: 0 }))).toEqual([R, 'batchSize must be a positive integer, got 0']);
    expect(thrown(() => n.evaluate(xs, ys, { loss: 'softmaxCrossEntropy', batchsize: 8 } as never))).toEqual([T,
      "unknown evaluate() option 'batchsize'; the options are loss, batchSize, metrics"]);
    expect(thrown(() => n.predict(xs, { batchSize: -1 }))).toEqual([R, 'batchSize must be a positive integer, got -1']);
    expect(thrown(() => n.predict(xs, { verbose: 1 } as never))).toEqual([T, "unknown predict() option 'verbose'; the options are batchSize"]);
  });
});

// The public checks of a kernel's hyper-parameters accept exactly the values its kernel accepts: at each end of
// each range (and just past it), the constructor accepts a value iff a step with it (forced past the
// constructor) passes the kernel's own check.
interface Knob { label: string; kernel: KernelName; arg: string; build: (v: number) => unknown; force: (v: number) => () => void }

function optimizerKnob(label: string, kernel: KernelName, arg: string, make: (v?: number) => Optimizer, field: string): Knob {
  const step = (o: Optimizer) => {
    const p = new Tensor([1, 2]), g = new Tensor([0.5, -0.5]);
    o.step([{ param: p, grad: g }]);
  };
  return {
    label, kernel, arg, build: (v) => make(v),
    force: (v) => () => {
      const o = make();
      (o as unknown as Record<string, number>)[field] = v;
      if (field === 'weightDecay') (o as unknown as Record<string, number>).decoupledDecay = v;
      step(o);
    },
  };
}

function batchNormKnob(arg: 'momentum' | 'eps'): Knob {
  return {
    label: `BatchNorm1D ${arg}`, kernel: 'batchNormForward', arg, build: (v) => new BatchNorm1D(2, { [arg]: v }),
    force: (v) => () => {
      const bn = new BatchNorm1D(2);
      (bn as unknown as Record<string, number>)[arg] = v;
      bn.forward(new Tensor([[1, 2], [3, 5]]));
    },
  };
}

const knobs: Knob[] = [
  optimizerKnob('SGD momentum', 'sgdMomentum', 'momentum', (v) => new SGD({ momentum: v ?? 0.5 }), 'momentum'),
  optimizerKnob('AdaGrad eps', 'adagrad', 'eps', (v) => new AdaGrad({ eps: v }), 'eps'),
  optimizerKnob('RMSProp decay', 'rmsprop', 'decay', (v) => new RMSProp({ decay: v }), 'decay'),
  optimizerKnob('RMSProp eps', 'rmsprop', 'eps', (v) => new RMSProp({ eps: v }), 'eps'),
  optimizerKnob('Adam beta1', 'adam', 'beta1', (v) => new Adam({ beta1: v }), 'beta1'),
  optimizerKnob('Adam beta2', 'adam', 'beta2', (v) => new Adam({ beta2: v }), 'beta2'),
  optimizerKnob('Adam eps', 'adam', 'eps', (v) => new Adam({ eps: v }), 'eps'),
  optimizerKnob('AdamW weightDecay', 'adam', 'weightDecay', (v) => new AdamW({ weightDecay: v }), 'weightDecay'),
  batchNormKnob('momentum'),
  batchNormKnob('eps'),
  {
    label: 'binaryCrossEntropy eps', kernel: 'bceProbs', arg: 'eps',
    build: (v) => binaryCrossEntropy(x, new Tensor([[0, 1]]), { fromLogits: false, eps: v }),
    force: (v) => () => getBackend().bceProbs(2, x.data, new Float32Array([0, 1]), v, null),
  },
  {
    label: 'crossEntropy eps', kernel: 'crossEntropyProbs', arg: 'eps',
    build: (v) => crossEntropy(x, y, { eps: v }),
    force: (v) => () => getBackend().crossEntropyProbs(1, 2, x.data, new Float32Array([0, 1]), v, null),
  },
];

/** Each end of the range, and the nearest doubles on either side of it. */
function probes(range: string): number[] {
  const r = parseRange(range), out: number[] = [];
  for (const end of [r.lo, r.hi]) {
    if (!Number.isFinite(end)) continue;
    const ulp = end === 0 ? Number.MIN_VALUE : Math.abs(end) * 2 ** -52;
    out.push(end - ulp, end, end + ulp);
  }
  return [...out, Infinity, -Infinity, NaN];
}

describe.each(backends)('public checks accept exactly what the kernels accept on $label', (c) => {
  it.each(knobs)('$label', (k) => {
    useBackend(c);
    const spec = kernels[k.kernel].args.find((a) => a.name === k.arg) as { range: string };
    for (const v of probes(spec.range)) {
      const publicOk = thrown(() => k.build(v))[0] === 'nothing';
      const kernelOk = thrown(k.force(v))[0] === 'nothing';
      expect([v, publicOk], `${k.label} = ${v}`).toEqual([v, kernelOk]);
    }
  });
});
