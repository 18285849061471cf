// The kernel spec: every kernel declared once, with its arguments in order, what each must be, the length each
// array needs (an expression of the size arguments), which outputs may be which inputs, and the numeric ranges.
// Everything else derives from it:
//   - the `Kernels` interface (src/backend/kernels.gen.ts) and the C++ kernel signatures, per-ISA table and
//     explicit instantiations (native/kernels.gen.h), written by `npm run gen` (scripts/gen-kernels.js);
//   - the argument checks of both backends: src/backend/ts/checks.ts and native/addon.cc read every call by this
//     spec (the addon through the tables in native/args.gen.h), in the same order and with the same words;
//   - the fuzzer's valid calls (test/fuzz-cases.ts).
// test/kernel-spec.spec.ts fails when a generated file is stale or a kernel is missing from a backend.
//
// The rules every kernel follows, in the order both backends check them:
//   1. the argument count (trailing nullable arrays and optional flags may be left out);
//   2. the scalars, in order: sizes (integers in [0, 2^31), with a minimum where declared), numbers (finite, in
//      their range), flags (booleans) and enums (one of the names);
//   3. the kernel's check hook, if any (geometry: window sizes, derived output sizes);
//   4. the arrays, in order: kind (a float array, all of one dtype, or an Int32Array), not detached, and at least
//      the declared length (products of sizes must stay below 2^53);
//   5. memory: an output shares no memory with any other array argument, except that it may be the very same
//      array as an input named in its `sameAs`;
//   6. contents: index arrays hold valid indices (the addon checks a private copy, which the kernel then reads),
//      and value checks (probabilities).

/** A product of sizes, e.g. 'N * C * H * W'; a factor may be floor(X / k). */
export type Expr = string;
/** A length, or one of two chosen by a flag argument. */
export type Length = Expr | { if: string; then: Expr; else: Expr };

export type ArgSpec =
  /** An integer in [0, 2^31); at least `min` unless the size named by `unlessZero` is 0. */
  | { kind: 'size'; name: string; min?: number; unlessZero?: string }
  /**
   * A finite number, in `range` if given: '[lo, hi]' (either end may be open: '(lo, hi)'), '>= lo' or '> lo'.
   * The C++ kernel takes it as the array type T unless `double`.
   */
  | { kind: 'number'; name: string; range?: string; double?: boolean }
  /** A boolean; an optional one may be left out (false). */
  | { kind: 'bool'; name: string; optional?: boolean }
  /** One of an enum's names (the C++ kernel gets its index). */
  | { kind: 'enum'; name: string; enum: EnumName }
  /**
   * A Float32Array or Float64Array of the call's dtype (fixed by the first float array) holding `length`
   * elements; written by the kernel if `output`; a nullable one may be null or left out (absent).
   */
  | {
    kind: 'floats'; name: string; length: Length; output?: boolean; sameAs?: string[]; nullable?: boolean;
    check?: ValueCheckName;
  }
  /** An Int32Array; an input with `index` holds values in [0, index), one with `check` passes that value check. */
  | { kind: 'int32s'; name: string; length: Length; output?: boolean; index?: Expr; check?: ValueCheckName };

export interface KernelSpec {
  /** The TSDoc of the kernel (one line or a few). */
  doc: string;
  /** The file that implements it: native/<source>.cc and src/backend/ts/<source>.ts. */
  source: Source;
  args: ArgSpec[];
  /** 'number': the kernel returns a number (a loss, a sum); else nothing. */
  returns?: 'number';
  /** The C++ kernel returns false when it cannot allocate this scratch memory (a RangeError then says so). */
  oom?: string;
  /** A hand-written check run after the scalars (both backends implement it). */
  hook?: HookName;
  /**
   * The C++ kernel's parameters when they are not the arguments in order: names of arguments, or 'name = expr'
   * for a derived size. A hook with a shape passes its sizes as one struct in place of them (no `cpp` needed).
   */
  cpp?: string[];
}

/**
 * Numbers both backends hold to. The TS side reads them here; `npm run gen` writes them into native/kernels.gen.h as
 * constants named after the key (maxSize -> kMaxSize).
 */
export const limits = {
  maxSize: { value: 2 ** 31, doc: 'every size argument is an integer below this (rule 2), so that it fits an int32' },
  maxProduct: {
    value: 2 ** 53,
    doc: 'every product of sizes (rule 4) stays below this: the largest range of integers a JS number holds exactly',
  },
  maxThreads: {
    value: 1024,
    doc: 'the most threads one JS environment may ask the native pool for; setThreads() and NODENN_THREADS allow ' +
      'fewer, from the CPUs available (src/backend/threads.ts)',
  },
} as const;

export type Source = 'gemm' | 'elementwise' | 'ops' | 'loss' | 'optim' | 'conv' | 'pool' | 'batchnorm' | 'broadcast'
  | 'unary' | 'reduce' | 'linalg' | 'shape' | 'augment' | 'plan';

export const enums = {
  activation: {
    ts: 'ActivationKind',
    cpp: 'Activation',
    doc: 'step: y = 1 for x > 0, 0 for x ≤ 0 (NaN kept), with a zero gradient (the perceptron\'s step function).',
    values: ['relu', 'leakyRelu', 'sigmoid', 'tanh', 'step'],
  },
  binaryOp: {
    ts: 'BinaryOp',
    cpp: 'BinaryOp',
    prefix: 'Binary',
    doc: 'The operation of broadcastBinary. Comparisons give 1 or 0 in the float dtype (NaN compares false, so ' +
      '`ne` gives 1); maximum and minimum propagate NaN; pow is computed in double.',
    values: ['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum', 'gt', 'ge', 'lt', 'le', 'eq', 'ne'],
  },
  unaryOp: {
    ts: 'UnaryOp',
    cpp: 'UnaryOp',
    prefix: 'Unary',
    doc: 'The operation of unary. leakyRelu uses alpha as its slope; clamp is min(max(x, alpha), beta) (NaN ' +
      'kept); gelu is the exact one, x Φ(x); step is 1 for x > 0, 0 for x ≤ 0 (NaN kept).',
    values: ['neg', 'abs', 'sign', 'exp', 'log', 'log1p', 'sqrt', 'square', 'relu', 'leakyRelu', 'sigmoid', 'tanh',
      'step', 'softplus', 'gelu', 'clamp'],
  },
  reduceOp: {
    ts: 'ReduceOpKind',
    cpp: 'ReduceOp',
    prefix: 'Reduce',
    doc: 'An axis reduction: NaN propagates through every one; over no values sum = 0, prod = 1, mean = NaN, ' +
      'max = -Infinity, min = Infinity, logSumExp = -Infinity.',
    values: ['sum', 'mean', 'prod', 'max', 'min', 'logSumExp'],
  },
  argReduceOp: {
    ts: 'ArgReduceOpKind',
    cpp: 'ArgReduceOp',
    doc: 'The index of the first maximum or minimum along an axis; a NaN counts as the extreme (NumPy\'s rule).',
    values: ['argmax', 'argmin'],
  },
} as const;
export type EnumName = keyof typeof enums;

/**
 * Check hooks: hand-written checks of a few size arguments, after the scalars. `derived` sizes become names the
 * lengths may use; a hook with a `shape` hands its sizes to the C++ kernel as that struct.
 */
export const hooks = {
  conv: {
    doc: 'window rules of a zero-padded convolution; OH = 1 + floor((H + 2 padH - KH) / strideH), OW alike',
    args: ['N', 'C', 'H', 'W', 'F', 'KH', 'KW', 'strideH', 'strideW', 'padH', 'padW'],
    derived: ['OH', 'OW'],
    shape: 'ConvShape',
  },
  convChain: {
    doc: 'the conv rules for both convolutions of conv2dChainForward, the second one\'s input being the first\'s ' +
      'pooled output (F, floor(OH / 2), floor(OW / 2)); both outputs at least 2 x 2 (each is pooled); OH2, OW2 ' +
      'the second\'s output',
    args: ['N', 'C', 'H', 'W', 'F', 'KH', 'KW', 'strideH', 'strideW', 'padH', 'padW', 'F2', 'KH2', 'KW2', 'strideH2',
      'strideW2', 'padH2', 'padW2'],
    derived: ['OH', 'OW', 'OH2', 'OW2'],
    shape: 'ConvChainShape',
  },
  pool: {
    doc: 'window rules of pooling (no padding); OH = 1 + floor((H - KH) / strideH), OW alike; H * W < 2^31',
    args: ['N', 'C', 'H', 'W', 'KH', 'KW', 'strideH', 'strideW'],
    derived: ['OH', 'OW'],
    shape: 'PoolShape',
  },
  batchNorm: {
    doc: 'training needs more than one value per channel',
    args: ['N', 'C', 'S', 'training'],
    derived: [],
    shape: null,
  },
  broadcast: {
    doc: 'NumPy broadcasting of a (a0..a3) with b (b0..b3): on each axis the sizes are equal or one is 1; ' +
      'y_i = b_i where a_i = 1, else a_i',
    args: ['a0', 'a1', 'a2', 'a3', 'b0', 'b1', 'b2', 'b3'],
    derived: ['y0', 'y1', 'y2', 'y3'],
    shape: null,
  },
  broadcastWhere: {
    doc: 'NumPy broadcasting of cond (c0..c3), a (a0..a3) and b (b0..b3) together, as for broadcast',
    args: ['c0', 'c1', 'c2', 'c3', 'a0', 'a1', 'a2', 'a3', 'b0', 'b1', 'b2', 'b3'],
    derived: ['y0', 'y1', 'y2', 'y3'],
    shape: null,
  },
} as const;
export type HookName = keyof typeof hooks;

/** Checks of an array's values, after everything else. */
export const valueChecks = {
  probabilities: { doc: 'every value in [0, 1 + 1e-6] (NaN passes): cross-entropy of probabilities, not logits' },
  planProgram: {
    doc: 'the steps of planForward: whole steps of 4 words, each a known step with its unused words 0; Dense ' +
      'layers 0, 1, ... in order, each with its weight given, at least one, before any other step; every Dense ' +
      'output at most floor(width / 2) wide; a finite slope; the last Dense output as wide as `outputs` (the ' +
      'program is read from a private copy)',
  },
} as const;
export type ValueCheckName = keyof typeof valueChecks;

// Shorthands for the table below.
const size = (name: string, opts: { min?: number; unlessZero?: string } = {}): ArgSpec => ({ kind: 'size', name, ...opts });
const sizes = (...names: string[]): ArgSpec[] => names.map((n) => size(n));
const num = (name: string, range?: string): ArgSpec => ({ kind: 'number', name, range });
/** A number the C++ kernel takes as a double whatever the dtype. */
const dbl = (name: string, range?: string): ArgSpec => ({ kind: 'number', name, range, double: true });
const flag = (name: string, optional = false): ArgSpec => ({ kind: 'bool', name, optional });
const input = (name: string, length: Length, opts: { nullable?: boolean; check?: ValueCheckName } = {}): ArgSpec =>
  ({ kind: 'floats', name, length, ...opts });
const output = (name: string, length: Length, opts: { sameAs?: string[]; nullable?: boolean } = {}): ArgSpec =>
  ({ kind: 'floats', name, length, output: true, ...opts });
/** The optional gradient of a loss: null, or written with the loss. */
const grad = (length: Length, sameAs: string[]): ArgSpec => output('grad', length, { sameAs, nullable: true });
const activation: ArgSpec = { kind: 'enum', name: 'activation', enum: 'activation' };

const convSizes = sizes(...hooks.conv.args);
const convChainSizes = sizes(...hooks.convChain.args);
const poolSizes = sizes(...hooks.pool.args);
const binary = (doc: string) => ({
  doc, source: 'ops' as const,
  args: [size('n'), input('a', 'n'), input('b', 'n'), output('y', 'n', { sameAs: ['a', 'b'] })],
});

export const kernels = {
  // ---- matrix product
  gemm: {
    doc: 'C (M x N) = alpha * op(A) op(B) + beta * C; op(A) is M x K, op(B) is K x N; row-major, contiguous.',
    source: 'gemm',
    args: [flag('transA'), flag('transB'), ...sizes('M', 'N', 'K'), num('alpha'), input('A', 'M * K'),
      input('B', 'K * N'), num('beta'), output('C', 'M * N')],
    oom: 'the packed panels',
    cpp: ['transA', 'transB', 'M', 'N', 'K', 'alpha', 'A', 'lda = transA ? M : K', 'B', 'ldb = transB ? K : N', 'beta',
      'C', 'ldc = N'],
  },

  // ---- activations and bias
  activationForward: {
    doc: 'y = act(x) over n elements; y may be x.',
    source: 'elementwise',
    args: [activation, size('n'), input('x', 'n'), output('y', 'n', { sameAs: ['x'] }), num('slope')],
  },
  activationBackward: {
    doc: 'dx = dy * act\'(x): relu and leaky relu read x, sigmoid and tanh read y, step writes 0; dx may be dy.',
    source: 'elementwise',
    args: [activation, size('n'), input('x', 'n'), input('y', 'n'), input('dy', 'n'),
      output('dx', 'n', { sameAs: ['dy'] }), num('slope')],
  },
  biasAdd: {
    doc: 'y[r, c] += bias[c]',
    source: 'elementwise',
    args: [...sizes('rows', 'cols'), output('y', 'rows * cols'), input('bias', 'cols')],
  },
  biasBackward: {
    doc: 'dbias[c] += sum over r of dy[r, c] (accumulates)',
    source: 'elementwise',
    args: [...sizes('rows', 'cols'), input('dy', 'rows * cols'), output('dbias', 'cols')],
  },

  biasRelu: {
    doc: 'y[r, c] = relu(y[r, c] + bias[c]): biasAdd then activationForward relu in one pass, the same values (NaN ' +
      'kept, -0 kept) (a Dense layer followed by a ReLU in training).',
    source: 'elementwise',
    args: [...sizes('rows', 'cols'), output('y', 'rows * cols'), input('bias', 'cols')],
  },
  reluBiasBackward: {
    doc: 'The backward of biasRelu given its output y: dx = dy where y > 0, else 0 (activationBackward relu: y > 0 ' +
      'exactly when its input is), then dbias[c] += sum over r of dx[r, c] as biasBackward (accumulates); dx may be dy.',
    source: 'elementwise',
    args: [...sizes('rows', 'cols'), input('y', 'rows * cols'), input('dy', 'rows * cols'),
      output('dx', 'rows * cols', { sameAs: ['dy'] }), output('dbias', 'cols')],
  },

  // ---- softmax
  softmax: {
    doc: 'y = softmax(x) row by row (stable); y may be x.',
    source: 'elementwise',
    args: [size('rows'), size('cols', { min: 1, unlessZero: 'rows' }), input('x', 'rows * cols'),
      output('y', 'rows * cols', { sameAs: ['x'] })],
  },
  softmaxBackward: {
    doc: 'dx = y * (dy - Σ dy·y) per row (backward of softmax); dx may be dy.',
    source: 'elementwise',
    args: [...sizes('rows', 'cols'), input('y', 'rows * cols'), input('dy', 'rows * cols'),
      output('dx', 'rows * cols', { sameAs: ['dy'] })],
  },

  // ---- elementwise operations and reductions
  mul: binary('y = a * b elementwise; y may be a or b.'),
  add: binary('y = a + b elementwise; y may be a or b.'),
  div: binary('y = a / b elementwise (IEEE: x / 0 is ±Infinity or NaN); y may be a or b.'),
  power: binary('y = a ^ b elementwise (computed in double); y may be a or b.'),
  powerBackward: {
    doc: 'Backward of y = x ^ e: dx = dy · e · x^(e−1) (0 where e = 0), de = dy · x^e · ln x (0 where x = 0 and ' +
      'e ≥ 0), PyTorch\'s rules. dx and de may each be dy, x or e, never each other.',
    source: 'ops',
    args: [size('n'), input('x', 'n'), input('e', 'n'), input('dy', 'n'),
      output('dx', 'n', { sameAs: ['x', 'e', 'dy'] }), output('de', 'n', { sameAs: ['x', 'e', 'dy'] })],
  },
  scale: {
    doc: 'x *= alpha',
    source: 'ops',
    args: [size('n'), output('x', 'n'), num('alpha')],
  },
  axpy: {
    doc: 'y += alpha * x',
    source: 'ops',
    args: [size('n'), num('alpha'), input('x', 'n'), output('y', 'n')],
  },
  sumSquares: {
    doc: 'Σ x², accumulated in double in index order.',
    source: 'ops',
    args: [size('n'), input('x', 'n')],
    returns: 'number',
  },
  argmaxRows: {
    doc: 'out[r] = index of the first maximum of row r.',
    source: 'ops',
    args: [size('rows'), size('cols', { min: 1, unlessZero: 'rows' }), input('x', 'rows * cols'),
      { kind: 'int32s', name: 'out', length: 'rows', output: true }],
  },

  // ---- losses: each returns the mean loss and writes its gradient unless grad is null
  softmaxCrossEntropyIndex: {
    doc: 'Mean softmax cross-entropy against label indices; writes grad = (softmax - onehot) / rows unless null.',
    source: 'loss',
    args: [size('rows', { min: 1 }), size('cols', { min: 1 }), input('logits', 'rows * cols'),
      { kind: 'int32s', name: 'labels', length: 'rows', index: 'cols' }, grad('rows * cols', ['logits'])],
    returns: 'number',
  },
  softmaxCrossEntropyArgmax: {
    doc: 'softmaxCrossEntropyIndex and argmaxRows in one pass over the logits (fit()\'s loss and accuracy): the same ' +
      'loss and grad, and pred[r] = index of the first maximum of row r, read before row r\'s grad is written.',
    source: 'loss',
    args: [size('rows', { min: 1 }), size('cols', { min: 1 }), input('logits', 'rows * cols'),
      { kind: 'int32s', name: 'labels', length: 'rows', index: 'cols' }, output('grad', 'rows * cols', { sameAs: ['logits'] }),
      { kind: 'int32s', name: 'pred', length: 'rows', output: true }],
    returns: 'number',
  },
  softmaxCrossEntropyTarget: {
    doc: 'The same against target distributions (one-hot or soft): grad = (sum(t) softmax - t) / rows.',
    source: 'loss',
    args: [size('rows', { min: 1 }), size('cols', { min: 1 }), input('logits', 'rows * cols'),
      input('targets', 'rows * cols'), grad('rows * cols', ['logits', 'targets'])],
    returns: 'number',
  },
  bceLogits: {
    doc: 'Binary cross-entropy from logits (stable), mean over n.',
    source: 'loss',
    args: [size('n', { min: 1 }), input('logits', 'n'), input('targets', 'n'), grad('n', ['logits', 'targets'])],
    returns: 'number',
  },
  bceProbs: {
    doc: 'Binary cross-entropy from probabilities clipped to [eps, 1 - eps], mean over n.',
    source: 'loss',
    args: [size('n', { min: 1 }), input('probs', 'n'), input('targets', 'n'), dbl('eps', '(0, 0.5]'),
      grad('n', ['probs', 'targets'])],
    returns: 'number',
  },
  mse: {
    doc: 'Squared error summed over cols, mean over rows; halved if half.',
    source: 'loss',
    args: [size('rows', { min: 1 }), size('cols', { min: 1 }), input('pred', 'rows * cols'),
      input('target', 'rows * cols'), flag('half'), grad('rows * cols', ['pred', 'target'])],
    returns: 'number',
  },
  crossEntropyProbs: {
    doc: 'Cross-entropy of probabilities, −Σ t · log(p + eps) / rows; grad = −t / (p + eps) / rows. Every p must ' +
      'lie in [0, 1 + 1e-6] (NaN passes through): anything else is not a probability (logits go to ' +
      'softmaxCrossEntropy). grad may be targets, never probs.',
    source: 'loss',
    args: [size('rows', { min: 1 }), size('cols', { min: 1 }), input('probs', 'rows * cols', { check: 'probabilities' }),
      input('targets', 'rows * cols'), dbl('eps', '[0, 1)'), grad('rows * cols', ['targets'])],
    returns: 'number',
  },

  // ---- optimizer updates, fused and in place
  sgd: {
    doc: 'p -= lr * g',
    source: 'optim',
    args: [size('n'), output('p', 'n'), input('g', 'n'), num('lr')],
  },
  sgd2: {
    doc: 'sgd of two parameters in one call (a layer\'s weight and bias): p -= lr * g over n, then q -= lr * h over m',
    source: 'optim',
    args: [size('n'), output('p', 'n'), input('g', 'n'), size('m'), output('q', 'm'), input('h', 'm'), num('lr')],
  },
  sgdMomentum: {
    doc: 'v = momentum v + g; p -= lr (nesterov ? g + momentum v : v)',
    source: 'optim',
    args: [size('n'), output('p', 'n'), input('g', 'n'), output('v', 'n'), dbl('lr'), dbl('momentum', '[0, 1]'),
      flag('nesterov')],
  },
  adagrad: {
    doc: 'h += g²; p -= lr g / (√h + eps)',
    source: 'optim',
    args: [size('n'), output('p', 'n'), input('g', 'n'), output('h', 'n'), dbl('lr'), dbl('eps', '(0, 1]')],
  },
  rmsprop: {
    doc: 'h = decay h + (1 - decay) g²; p -= lr g / (√h + eps)',
    source: 'optim',
    args: [size('n'), output('p', 'n'), input('g', 'n'), output('h', 'n'), dbl('lr'), dbl('decay', '[0, 1]'),
      dbl('eps', '(0, 1]')],
  },
  adam: {
    doc: 'Adam step (1-based) with decoupled weight decay (AdamW) when weightDecay > 0.',
    source: 'optim',
    args: [size('n'), output('p', 'n'), input('g', 'n'), output('m', 'n'), output('v', 'n'), dbl('lr'),
      dbl('beta1', '[0, 1)'), dbl('beta2', '[0, 1)'), dbl('eps', '(0, 1]'), size('step', { min: 1 }),
      dbl('weightDecay', '>= 0')],
  },

  // ---- convolution. x (N, C, H, W), weight (F, C, KH, KW), y (N, F, OH, OW), zero padding.
  conv2dForward: {
    doc: 'y = conv(x, weight) + bias (bias may be null); relu: then y = max(y, 0) as the ReLU layer (NaN kept); ' +
      'pool: then a 2x2 stride-2 max pooling as MaxPool2D(2), y being (N, F, floor(OH / 2), floor(OW / 2)) ' +
      '(inference).',
    source: 'conv',
    args: [...convSizes, input('x', 'N * C * H * W'), input('weight', 'F * C * KH * KW'),
      input('bias', 'F', { nullable: true }),
      output('y', { if: 'pool', then: 'N * F * floor(OH / 2) * floor(OW / 2)', else: 'N * F * OH * OW' }),
      flag('relu', true), flag('pool', true)],
    hook: 'conv',
    oom: 'the im2col matrix',
  },
  conv2dBackwardData: {
    doc: 'dx = d conv / dx applied to dy (dx is overwritten).',
    source: 'conv',
    args: [...convSizes, input('dy', 'N * F * OH * OW'), input('weight', 'F * C * KH * KW'),
      output('dx', 'N * C * H * W')],
    hook: 'conv',
    oom: 'the im2col matrix',
  },
  conv2dBackwardFilter: {
    doc: 'dweight += d conv / dweight applied to dy, dbias += sums of dy (dbias may be null); same for any thread ' +
      'count.',
    source: 'conv',
    args: [...convSizes, input('x', 'N * C * H * W'), input('dy', 'N * F * OH * OW'),
      output('dweight', 'F * C * KH * KW'), output('dbias', 'F', { nullable: true })],
    hook: 'conv',
    oom: 'the im2col matrix',
  },

  conv2dPoolForward: {
    doc: 'Training\'s Conv2D-MaxPool2D(2): y = the 2x2 stride-2 max pooling of conv(x, weight) + bias (bias may be ' +
      'null), (N, F, floor(OH / 2), floor(OW / 2)), and argmax its index in the (OH, OW) plane, the values of ' +
      'conv2dForward then maxPool2dForward; relu: the pooling of max(conv + bias, 0) as the ReLU layer gives it ' +
      '(NaN kept), the values of conv2dForward with relu then maxPool2dForward (Conv2D-ReLU-MaxPool2D(2)).',
    source: 'conv',
    args: [...convSizes, input('x', 'N * C * H * W'), input('weight', 'F * C * KH * KW'),
      input('bias', 'F', { nullable: true }), output('y', 'N * F * floor(OH / 2) * floor(OW / 2)'),
      { kind: 'int32s', name: 'argmax', length: 'N * F * floor(OH / 2) * floor(OW / 2)', output: true },
      flag('relu', true)],
    hook: 'conv',
    oom: 'the im2col matrix',
  },
  conv2dPoolBackward: {
    doc: 'The backward of conv2dPoolForward, dy (N, F, floor(OH / 2), floor(OW / 2)): the values of ' +
      'maxPool2dBackward into the conv output, then conv2dBackwardData into dx (overwritten; may be null: not ' +
      'computed) and conv2dBackwardFilter (dweight +=, dbias += ; dbias may be null); same for any thread count. ' +
      'y (may be null or left out): conv2dPoolForward\'s output with relu; dy then passes only where y > 0, as ' +
      'activationBackward(\'relu\') on y gives it (Conv2D-ReLU-MaxPool2D(2) with the ReLU\'s backward folded in).',
    source: 'conv',
    args: [...convSizes, input('x', 'N * C * H * W'), input('dy', 'N * F * floor(OH / 2) * floor(OW / 2)'),
      { kind: 'int32s', name: 'argmax', length: 'N * F * floor(OH / 2) * floor(OW / 2)', index: 'OH * OW' },
      input('weight', 'F * C * KH * KW'), output('dx', 'N * C * H * W', { nullable: true }),
      output('dweight', 'F * C * KH * KW'), output('dbias', 'F', { nullable: true }),
      input('y', 'N * F * floor(OH / 2) * floor(OW / 2)', { nullable: true })],
    hook: 'conv',
    oom: 'the im2col matrix',
  },

  conv2dChainForward: {
    doc: 'Inference\'s two Conv2D(+ReLU)+MaxPool2D(2) in a row, image by image (the first one\'s output stays in ' +
      'cache): y = pool(relu2?(conv(pool(relu?(conv(x, weight) + bias)), weight2) + bias2)), (N, F2, ' +
      'floor(OH2 / 2), floor(OW2 / 2)); bitwise what two conv2dForward calls with pool give.',
    source: 'conv',
    args: [...convChainSizes, input('x', 'N * C * H * W'), input('weight', 'F * C * KH * KW'),
      input('bias', 'F', { nullable: true }), input('weight2', 'F2 * F * KH2 * KW2'),
      input('bias2', 'F2', { nullable: true }), output('y', 'N * F2 * floor(OH2 / 2) * floor(OW2 / 2)'),
      flag('relu'), flag('relu2')],
    hook: 'convChain',
    oom: 'the im2col matrix',
  },

  // ---- pooling, no padding: OH = 1 + floor((H - KH) / strideH)
  maxPool2dForward: {
    doc: 'y = window maxima; argmax = index h * W + w in the plane of the first maximum (a NaN wins: it propagates).',
    source: 'pool',
    args: [...poolSizes, input('x', 'N * C * H * W'), output('y', 'N * C * OH * OW'),
      { kind: 'int32s', name: 'argmax', length: 'N * C * OH * OW', output: true }],
    hook: 'pool',
  },
  maxPool2dBackward: {
    doc: 'dx = 0, then dx[argmax] += dy (dx is overwritten).',
    source: 'pool',
    args: [...poolSizes, input('dy', 'N * C * OH * OW'),
      { kind: 'int32s', name: 'argmax', length: 'N * C * OH * OW', index: 'H * W' }, output('dx', 'N * C * H * W')],
    hook: 'pool',
  },
  avgPool2dForward: {
    doc: 'y = window means.',
    source: 'pool',
    args: [...poolSizes, input('x', 'N * C * H * W'), output('y', 'N * C * OH * OW')],
    hook: 'pool',
  },
  avgPool2dBackward: {
    doc: 'dx = 0, then each window\'s inputs += dy / (KH KW) (dx is overwritten).',
    source: 'pool',
    args: [...poolSizes, input('dy', 'N * C * OH * OW'), output('dx', 'N * C * H * W')],
    hook: 'pool',
  },

  // ---- batch normalization over x (N, C, S)
  batchNormForward: {
    doc: 'Batch norm per channel of x (N, C, S): training normalizes with batch statistics (biased variance) and ' +
      'updates the running ones (unbiased variance, running = (1 - momentum) running + momentum batch); eval uses ' +
      'the running ones. Writes the mean and invstd = 1 / sqrt(var + eps) used, for backward. y may be x.',
    source: 'batchnorm',
    args: [...sizes('N', 'C', 'S'), input('x', 'N * C * S'), input('gamma', 'C'), input('beta', 'C'),
      output('y', 'N * C * S', { sameAs: ['x'] }), output('mean', 'C'), output('invstd', 'C'),
      output('runningMean', 'C'), output('runningVar', 'C'), flag('training'), num('momentum', '[0, 1]'),
      num('eps', '> 0')],
    hook: 'batchNorm',
  },
  batchNormBackward: {
    doc: 'dx (overwritten; may be dy), dgamma += sum dy xhat, dbeta += sum dy.',
    source: 'batchnorm',
    args: [...sizes('N', 'C', 'S'), input('x', 'N * C * S'), input('dy', 'N * C * S'), input('gamma', 'C'),
      input('mean', 'C'), input('invstd', 'C'), output('dx', 'N * C * S', { sameAs: ['dy'] }), output('dgamma', 'C'),
      output('dbeta', 'C'), flag('training')],
  },
  batchNormReluForward: {
    doc: 'y = max(batch norm of x, 0) as the ReLU layer applies it (NaN kept): the values of batchNormForward then ' +
      'activationForward relu in one pass, the same statistics and running updates (BatchNorm-ReLU). y may be x.',
    source: 'batchnorm',
    args: [...sizes('N', 'C', 'S'), input('x', 'N * C * S'), input('gamma', 'C'), input('beta', 'C'),
      output('y', 'N * C * S', { sameAs: ['x'] }), output('mean', 'C'), output('invstd', 'C'),
      output('runningMean', 'C'), output('runningVar', 'C'), flag('training'), num('momentum', '[0, 1]'),
      num('eps', '> 0')],
    hook: 'batchNorm',
  },
  batchNormReluBackward: {
    doc: 'The backward of batchNormReluForward given its output y: batchNormBackward of dy masked where y > 0 (the ' +
      'ReLU layer\'s gradient: y > 0 exactly when the normalized value is); dx (overwritten; may be dy), dgamma += ' +
      'sum dy xhat, dbeta += sum dy over the unmasked values.',
    source: 'batchnorm',
    args: [...sizes('N', 'C', 'S'), input('x', 'N * C * S'), input('y', 'N * C * S'), input('dy', 'N * C * S'),
      input('gamma', 'C'), input('mean', 'C'), input('invstd', 'C'), output('dx', 'N * C * S', { sameAs: ['dy'] }),
      output('dgamma', 'C'), output('dbeta', 'C'), flag('training')],
  },

  // ---- layer normalization over the last axis of x (rows, n)
  layerNormForward: {
    doc: 'Layer norm of each row of x (rows, n): y = (x - mean) rstd gamma + beta with the row\'s mean and biased ' +
      'variance, rstd = 1 / sqrt(var + eps); gamma or beta null: 1 or 0 (no affine). Writes each row\'s mean and ' +
      'rstd, for backward. y may be x.',
    source: 'batchnorm',
    args: [size('rows'), size('n', { min: 1, unlessZero: 'rows' }), input('x', 'rows * n'),
      input('gamma', 'n', { nullable: true }), input('beta', 'n', { nullable: true }),
      output('y', 'rows * n', { sameAs: ['x'] }), output('mean', 'rows'), output('rstd', 'rows'), num('eps', '> 0')],
  },
  layerNormBackward: {
    doc: 'The backward of layerNormForward: dx = rstd (g - mean(g) - xhat mean(g xhat)) per row, g = dy gamma, ' +
      'xhat = (x - mean) rstd (dx overwritten; may be dy); dgamma += Σ_rows dy xhat, dbeta += Σ_rows dy (either may ' +
      'be null: not computed), summed in blocks of rows fixed by the sizes, so the same for any thread count.',
    source: 'batchnorm',
    args: [size('rows'), size('n', { min: 1, unlessZero: 'rows' }), input('x', 'rows * n'), input('dy', 'rows * n'),
      input('gamma', 'n', { nullable: true }), input('mean', 'rows'), input('rstd', 'rows'),
      output('dx', 'rows * n', { sameAs: ['dy'] }), output('dgamma', 'n', { nullable: true }),
      output('dbeta', 'n', { nullable: true })],
    oom: 'the partial sums',
  },

  // ---- tensor operations (src/ops/elementwise.ts): element-wise with NumPy broadcasting over up to 4 axes (the
  // ops collapse longer shapes first), and unary maps
  broadcastBinary: {
    doc: 'y = op(a, b) with NumPy broadcasting: a is (a0, a1, a2, a3), b is (b0, b1, b2, b3), y is their ' +
      'broadcast shape (y0, y1, y2, y3), all row-major; y may be a or b (then of y\'s shape).',
    source: 'broadcast',
    args: [{ kind: 'enum', name: 'op', enum: 'binaryOp' }, ...sizes('a0', 'a1', 'a2', 'a3', 'b0', 'b1', 'b2', 'b3'),
      input('a', 'a0 * a1 * a2 * a3'), input('b', 'b0 * b1 * b2 * b3'),
      output('y', 'y0 * y1 * y2 * y3', { sameAs: ['a', 'b'] })],
    hook: 'broadcast',
  },
  binarySame: {
    doc: 'y = op(a, b) element-wise over n elements of each: broadcastBinary for operands of one shape, with fewer ' +
      'arguments (the call costs less); bitwise the same results. y may be a or b.',
    source: 'broadcast',
    args: [{ kind: 'enum', name: 'op', enum: 'binaryOp' }, size('n'), input('a', 'n'), input('b', 'n'),
      output('y', 'n', { sameAs: ['a', 'b'] })],
  },
  broadcastWhere: {
    doc: 'y = cond ≠ 0 ? a : b (NaN counts as true) with NumPy broadcasting of cond (c0..c3), a (a0..a3) and ' +
      'b (b0..b3) to y (y0..y3); y may be a or b (then of y\'s shape).',
    source: 'broadcast',
    args: [...sizes('c0', 'c1', 'c2', 'c3', 'a0', 'a1', 'a2', 'a3', 'b0', 'b1', 'b2', 'b3'),
      input('cond', 'c0 * c1 * c2 * c3'), input('a', 'a0 * a1 * a2 * a3'), input('b', 'b0 * b1 * b2 * b3'),
      output('y', 'y0 * y1 * y2 * y3', { sameAs: ['a', 'b'] })],
    hook: 'broadcastWhere',
  },
  unary: {
    doc: 'y = op(x) over n elements (alpha, beta: see UnaryOp); y may be x.',
    source: 'unary',
    args: [{ kind: 'enum', name: 'op', enum: 'unaryOp' }, size('n'), input('x', 'n'),
      output('y', 'n', { sameAs: ['x'] }), num('alpha'), num('beta')],
  },

  // ---- tensor operations on a canonical (outer, n, inner) view: the axis of size n between two blocks of axes.
  // Reductions, the gathers and scatters along an axis, and the axis swaps of transposes.
  reduceAxis: {
    doc: 'y[o, i] = op over k of x[o, k, i] (op: sum, mean, prod, max, min, logSumExp), summed in a fixed blocked ' +
      'order that does not depend on the thread count.',
    source: 'reduce',
    args: [{ kind: 'enum', name: 'op', enum: 'reduceOp' }, ...sizes('outer', 'n', 'inner'),
      input('x', 'outer * n * inner'), output('y', 'outer * inner')],
  },
  varianceAxis: {
    doc: 'y[o, i] = Σ_k (x[o, k, i] − mean)² / max(n − ddof, 0) (two passes), its square root if sqrt.',
    source: 'reduce',
    args: [...sizes('outer', 'n', 'inner'), dbl('ddof', '>= 0'), flag('sqrt'), input('x', 'outer * n * inner'),
      output('y', 'outer * inner')],
  },
  argReduceAxis: {
    doc: 'out[o, i] = k of the first maximum (argmax) or minimum (argmin) of x[o, k, i]; a NaN wins.',
    source: 'reduce',
    args: [{ kind: 'enum', name: 'op', enum: 'argReduceOp' }, size('outer'),
      size('n', { min: 1, unlessZero: 'outer' }), size('inner'), input('x', 'outer * n * inner'),
      { kind: 'int32s', name: 'out', length: 'outer * inner', output: true }],
  },
  softmaxAxis: {
    doc: 'y = softmax(x) along the middle axis of (outer, n, inner), stable (x − max); log: logSoftmax. y may be x.',
    source: 'reduce',
    args: [flag('log'), ...sizes('outer', 'n', 'inner'), input('x', 'outer * n * inner'),
      output('y', 'outer * n * inner', { sameAs: ['x'] })],
  },
  gemmBatched: {
    doc: 'C[b] = op(A[b]) op(B[b]) for b < batch (op(A) M x K, op(B) K x N, as gemm); broadcastA: one A for every b, ' +
      'broadcastB alike.',
    source: 'linalg',
    args: [flag('transA'), flag('transB'), ...sizes('batch', 'M', 'N', 'K'), flag('broadcastA'), flag('broadcastB'),
      input('A', { if: 'broadcastA', then: 'M * K', else: 'batch * M * K' }),
      input('B', { if: 'broadcastB', then: 'K * N', else: 'batch * K * N' }), output('C', 'batch * M * N')],
    oom: 'the packed panels',
  },
  swapAxes: {
    doc: 'y[o, j, c, i, k] = x[o, i, c, j, k]: x (outer, m, mid, n, inner) with its axes of sizes m and n swapped.',
    source: 'shape',
    args: [...sizes('outer', 'm', 'mid', 'n', 'inner'), input('x', 'outer * m * mid * n * inner'),
      output('y', 'outer * m * mid * n * inner')],
  },
  gatherAxis: {
    doc: 'y[o, j, i] = x[o, index[j], i]: x (outer, n, inner), y (outer, count, inner).',
    source: 'shape',
    args: [...sizes('count', 'outer'), size('n', { min: 1, unlessZero: 'count' }), size('inner'),
      input('x', 'outer * n * inner'), { kind: 'int32s', name: 'index', length: 'count', index: 'n' },
      output('y', 'outer * count * inner')],
  },
  scatterAxis: {
    doc: 'y[o, index[j], i] = x[o, j, i], or += if accumulate (repeated indices add up in the order of j): ' +
      'x (outer, count, inner), y (outer, n, inner); the rest of y is left as it is.',
    source: 'shape',
    args: [...sizes('count', 'outer'), size('n', { min: 1, unlessZero: 'count' }), size('inner'),
      input('x', 'outer * count * inner'), { kind: 'int32s', name: 'index', length: 'count', index: 'n' },
      output('y', 'outer * n * inner'), flag('accumulate')],
  },
  oneHot: {
    doc: 'y (n, depth) = 1 at [r, index[r]], 0 elsewhere.',
    source: 'shape',
    args: [size('n'), size('depth', { min: 1, unlessZero: 'n' }), { kind: 'int32s', name: 'index', length: 'n', index: 'depth' },
      output('y', 'n * depth')],
  },
  nonzeroIndices: {
    doc: 'Writes the indices k of the nonzero mask[k] (NaN counts as nonzero) in increasing order to out; returns ' +
      'how many.',
    source: 'shape',
    args: [size('n'), input('mask', 'n'), { kind: 'int32s', name: 'out', length: 'n', output: true }],
    returns: 'number',
  },

  // ---- image augmentation of a batch x (N, C, H, W), per-sample parameters drawn by the caller
  translate2d: {
    doc: 'y[n, c, h, w] = x[n, c, h - shiftH[n], w - shiftW[n]], 0 where that falls outside the image (a random ' +
      'crop of the zero-padded image is such a shift); y may be x.',
    source: 'augment',
    args: [...sizes('N', 'C', 'H', 'W'), input('x', 'N * C * H * W'), { kind: 'int32s', name: 'shiftH', length: 'N' },
      { kind: 'int32s', name: 'shiftW', length: 'N' }, output('y', 'N * C * H * W', { sameAs: ['x'] })],
  },
  flip2d: {
    doc: 'y[n] = x[n] mirrored left to right where flags[n] is not 0, else x[n] as it is; y may be x.',
    source: 'augment',
    args: [...sizes('N', 'C', 'H', 'W'), input('x', 'N * C * H * W'), { kind: 'int32s', name: 'flags', length: 'N' },
      output('y', 'N * C * H * W', { sameAs: ['x'] })],
  },
  affine2d: {
    doc: 'y[n, c, h, w] = x[n, c] sampled bilinearly at (sx, sy) = (m0 w + m1 h + m2, m3 w + m4 h + m5), each m ' +
      'read at [n] (a map from output to input pixel indices); taps outside the image read 0, and y is 0 where ' +
      '(sx, sy) lies a pixel or more outside. Computed in double in a fixed order: bitwise the same on every backend.',
    source: 'augment',
    args: [...sizes('N', 'C', 'H', 'W'), input('x', 'N * C * H * W'),
      ...['m0', 'm1', 'm2', 'm3', 'm4', 'm5'].map((m) => input(m, 'N')), output('y', 'N * C * H * W')],
  },
  normalizeChannels: {
    doc: 'y[n, c, s] = (x[n, c, s] - mean[c]) / std[c], computed in double; y may be x.',
    source: 'augment',
    args: [...sizes('N', 'C', 'S'), input('x', 'N * C * S'), input('mean', 'C'), input('std', 'C'),
      output('y', 'N * C * S', { sameAs: ['x'] })],
  },

  // ---- the inference plan (src/inference/plan.ts)
  planForward: {
    doc: 'A small network\'s eval-mode forward pass in one call: up to 4 Dense layers, layer i with weight wi ' +
      '(di x di+1, row-major) and bias bi (or null), and the activations and softmax after them, as `program` says ' +
      'in steps of 4 words: [0, i, 0, 0] Dense layer i (gemm, then biasAdd); [1, activation, lo, hi] ' +
      'activationForward, with the slope the float64 whose low and high 32 bits are lo and hi; [2, 0, 0, 0] softmax ' +
      'of each row. x is (rows, d0), y (rows, outputs); scratch holds two activations of rows x floor(width / 2). ' +
      'Bitwise what those kernels give when called one after another.',
    source: 'plan',
    args: [...sizes('rows', 'outputs', 'width', 'programLength', 'd0', 'd1', 'd2', 'd3', 'd4'),
      { kind: 'int32s', name: 'program', length: 'programLength', check: 'planProgram' }, input('x', 'rows * d0'),
      output('y', 'rows * outputs'), output('scratch', 'rows * width'),
      input('w0', 'd0 * d1', { nullable: true }), input('b0', 'd1', { nullable: true }),
      input('w1', 'd1 * d2', { nullable: true }), input('b1', 'd2', { nullable: true }),
      input('w2', 'd2 * d3', { nullable: true }), input('b2', 'd3', { nullable: true }),
      input('w3', 'd3 * d4', { nullable: true }), input('b3', 'd4', { nullable: true })],
    oom: 'the packed panels',
  },
} satisfies Record<string, KernelSpec>;

export type KernelName = keyof typeof kernels;
export const kernelNames = Object.keys(kernels) as KernelName[];

// ---- the small languages of the spec, parsed once (by the TS checks and by the generator)

export interface Factor { name: string; div: number }
export interface Product { text: string; factors: Factor[] }

/** 'N * F * floor(OH / 2)' -> its factors. */
export function parseProduct(text: Expr): Product {
  const factors = text.split(' * ').map((f): Factor => {
    const m = /^floor\((\w+) \/ (\d+)\)$/.exec(f);
    if (m) return { name: m[1], div: Number(m[2]) };
    if (!/^\w+$/.test(f)) throw new Error(`kernel spec: bad factor '${f}' in '${text}'`);
    return { name: f, div: 1 };
  });
  return { text, factors };
}

export interface Range { lo: number; hi: number; loOpen: boolean; hiOpen: boolean; text: string }

/** '[0, 1)', '(0, 0.5]', '>= 0', '> 0' -> bounds; the text is how the error message states the rule ('in [0, 1)'). */
export function parseRange(s: string): Range {
  let m = /^([[(])(-?[\d.e+-]+), (-?[\d.e+-]+)([\])])$/.exec(s);
  if (m) {
    const lo = Number(m[2]), hi = Number(m[3]);
    return { lo, hi, loOpen: m[1] === '(', hiOpen: m[4] === ')', text: `in ${m[1]}${lo}, ${hi}${m[4]}` };
  }
  m = /^(>=?) (-?[\d.e+-]+)$/.exec(s);
  if (m) {
    const lo = Number(m[2]);
    const open = m[1] === '>';
    const text = lo === 0 ? (open ? 'positive' : 'non-negative') : `${open ? 'greater than' : 'at least'} ${lo}`;
    return { lo, hi: Infinity, loOpen: open, hiOpen: true, text };
  }
  throw new Error(`kernel spec: bad range '${s}'`);
}

/** Whether v lies in the range. */
export function inRange(v: number, r: Range): boolean {
  return (r.loOpen ? v > r.lo : v >= r.lo) && (r.hiOpen ? v < r.hi : v <= r.hi);
}

/** How many arguments a call must pass: trailing nullable arrays and optional flags may be left out. */
export function requiredArgs(k: KernelSpec): number {
  let n = k.args.length;
  while (n > 0) {
    const a = k.args[n - 1];
    if (!((a.kind === 'floats' && a.nullable) || (a.kind === 'bool' && a.optional))) break;
    n--;
  }
  return n;
}

/**
 * The order in which a call is checked (rules 2, 4, 5 and 6 above), by argument position: the scalars, the arrays,
 * the memory rules [output, other array, may be the very same array] (for each array, each earlier one, when
 * either is an output; the message names the output, the later one if both are), the arrays whose contents are
 * checked.
 */
export interface Plan {
  scalars: number[];
  arrays: number[];
  memory: [number, number, boolean][];
  contents: number[];
}

export function plan(k: KernelSpec): Plan {
  const isArray = (a: ArgSpec) => a.kind === 'floats' || a.kind === 'int32s';
  const output = (a: ArgSpec) => (a.kind === 'floats' || a.kind === 'int32s') && !!a.output;
  const arrays = k.args.flatMap((a, i) => (isArray(a) ? [i] : []));
  const memory: [number, number, boolean][] = [];
  for (const j of arrays) {
    for (const i of arrays) {
      if (i >= j) break;
      if (!output(k.args[i]) && !output(k.args[j])) continue;
      const [o, other] = output(k.args[j]) ? [j, i] : [i, j];
      const out = k.args[o];
      memory.push([o, other, out.kind === 'floats' && (out.sameAs ?? []).includes(k.args[other].name)]);
    }
  }
  return {
    scalars: k.args.flatMap((a, i) => (isArray(a) ? [] : [i])),
    arrays,
    memory,
    contents: k.args.flatMap((a, i) => ((a.kind === 'int32s' && (a.index || a.check)) || (a.kind === 'floats' && a.check)
      ? [i] : [])),
  };
}

/** 'gemm(transA, transB, M, N, K, alpha, A, B, beta, C)', as error messages name a call. */
export function signature(name: string, k: KernelSpec): string {
  return `${name}(${k.args.map((a) => a.name).join(', ')})`;
}

/** The message of an enum argument outside its names: 'a', 'b' or 'c'. */
export function enumChoices(e: EnumName): string {
  const q = enums[e].values.map((v) => `'${v}'`);
  return q.length === 1 ? q[0] : `${q.slice(0, -1).join(', ')} or ${q[q.length - 1]}`;
}
