// ONNX export of an nn.Module by tracing, torch.onnx.export's way: forward() runs on an example input while every
// tensor operation is reported (traceOperations), and the operations the result is reachable from become the
// graph, each through its ONNX counterpart; built-in layers used with layer.call(x) write the same nodes as in a
// Sequential, the Module's tensors become initializers named by their property paths ('blocks.0.weight').
//
// The trace runs twice: at batch sizes 2 and 3 when the batch axis is free, else twice at the fixed batch size,
// always on different values. The two graphs must agree. What may differ is a shape that follows the batch size (a
// Reshape's or Expand's target: written as -1 or 1 there, so that the graph takes any batch); anything else that
// differs is something a graph cannot stand for, and an error names it: a tensor made in forward() from the
// input's values without tensor operations (through .data, say) or with a shape taken from the batch size, or a
// forward() that runs other operations for other inputs.
import * as path from 'node:path';
import type { Module } from '../../autograd/module';
import { noGrad, traceOperations } from '../../autograd/tape';
import { Layer } from '../../layers/layer';
import type { LinearActivation, MatmulOptions } from '../../ops/linalg';
import type { Axis } from '../../ops/reduce';
import { normalizeAxes } from '../../ops/shape';
import { Random } from '../../random';
import { type DType, Tensor, allocate, formatShape, sizeOf } from '../../tensor';
import { describeValue, isArray } from '../../validate';
import {
  type CheckedOptions, type Dim, EXPORTED_LAYERS, type ExportOnnxOptions, GraphBuilder, type InitializerNote,
  OnnxExportError, checkOptions, encodeModel, float, int, ints, layerExports, layerNodes, stepNodes,
} from './builder';
import { DATA_TYPE } from './proto';

/** One operation as the tracer heard it, and where forward() called it. */
interface TracedOp {
  op: string;
  inputs: readonly unknown[];
  attrs: unknown;
  seq: number;
  /** Where forward() called it (the stack is formatted only when an error needs it). */
  at: () => string;
}

/** What an operation's emitter gets. */
interface Emit {
  g: GraphBuilder;
  /** The graph value of operand i (a number or a tensor the trace did not compute becomes an initializer). */
  x: (i: number) => string;
  /** The shape of operand i ([] for a number). */
  shapeOf: (i: number) => readonly number[];
  op: TracedOp;
  /** The result. */
  y: Tensor;
  /** The prefix of the node names. */
  p: string;
  /** The operation in messages: "add (at model.js:12:20)" (a function: finding the place costs a stack trace). */
  what: () => string;
  layerPath: (layer: Layer) => string;
}

type Emitter = (e: Emit) => string;

const node1 = (onnx: string): Emitter => (e) => e.g.node(onnx, [e.x(0)], [], e.p);
const node2 = (onnx: string): Emitter => (e) => e.g.node(onnx, [e.x(0), e.x(1)], [], e.p);

/** A comparison: ONNX gives booleans, nodenn a 0/1 mask of floats. */
const compare = (onnx: string, negate = false): Emitter => (e) => {
  let b = e.g.node(onnx, [e.x(0), e.x(1)], [], e.p);
  if (negate) b = e.g.node('Not', [b], [], e.p);
  return e.g.node('Cast', [b], [int('to', DATA_TYPE.FLOAT)], e.p);
};

const scalar = (e: Emit, name: string, v: number) => e.g.constant(`${e.p}.${name}`, [v]);

function reduceAxes(e: Emit): { axes: number[]; keepdims: boolean } {
  const a = (e.op.attrs ?? {}) as { axis?: Axis; keepdims?: boolean };
  return { axes: normalizeAxes(a.axis, e.shapeOf(0).length), keepdims: a.keepdims ?? false };
}

/** A reduction; opsets 13–17 take ReduceSum's axes as an input and the others' as an attribute. */
const reduce = (onnx: string): Emitter => (e) => {
  const { axes, keepdims } = reduceAxes(e);
  // ONNX reads no axes as all of them
  if (axes.length === 0) return e.g.node('Identity', [e.x(0)], [], e.p);
  if (onnx === 'ReduceSum') {
    const axesInput = e.g.int64s(`${e.p}.axes`, axes, { role: 'index', what: () => `the axes of ${e.what()}`, op: e.op.op });
    return e.g.node(onnx, [e.x(0), axesInput], [int('keepdims', keepdims ? 1 : 0)], e.p);
  }
  return e.g.node(onnx, [e.x(0)], [ints('axes', axes), int('keepdims', keepdims ? 1 : 0)], e.p);
};

/** var and std: the mean of the squared deviations, times n / (n − ddof). */
const variance = (std: boolean): Emitter => (e) => {
  const { axes, keepdims } = reduceAxes(e);
  const ddof = ((e.op.attrs ?? {}) as { ddof?: number }).ddof ?? 0;
  const mean = (t: string, keep: boolean) => (axes.length === 0 ? t
    : e.g.node('ReduceMean', [t], [ints('axes', axes), int('keepdims', keep ? 1 : 0)], e.p));
  const d = e.g.node('Sub', [e.x(0), mean(e.x(0), true)], [], e.p);
  let v = mean(e.g.node('Mul', [d, d], [], e.p), keepdims);
  if (ddof !== 0) {
    const n = axes.reduce((s, a) => s * e.shapeOf(0)[a], 1);
    const scale = e.g.constant(`${e.p}.scale`, [n / (n - ddof)],
      { role: 'count', what: () => `the count n − ddof of ${e.what()}`, op: e.op.op });
    v = e.g.node('Mul', [v, scale], [], e.p);
  }
  return std ? e.g.node('Sqrt', [v], [], e.p) : v;
};

/** Operand i transposed on its last two axes (matmul's transposeA/B flags; a 1-D operand is left as it is). */
function lastTwoSwapped(e: Emit, i: number): string {
  const n = e.shapeOf(i).length;
  const perm = Array.from({ length: n }, (_, k) => (k === n - 2 ? n - 1 : k === n - 1 ? n - 2 : k));
  return e.g.node('Transpose', [e.x(i)], [ints('perm', perm)], e.p);
}

/** slice, take, gather, split: Slice for a run of consecutive indices, else Gather. */
const gatherAxis: Emitter = (e) => {
  const { axis, index } = e.op.attrs as { axis: number; index: Int32Array };
  const note = (what: string): InitializerNote => ({ role: 'index', what: () => `${what} of ${e.what()}`, op: e.op.op });
  let run = index.length > 0;
  for (let j = 1; j < index.length && run; j++) run = index[j] === index[j - 1] + 1;
  if (run) {
    const begin = index[0], end = index[index.length - 1] + 1;
    // a slice to the end is written open-ended, so that it follows the axis' size (the batch's, say)
    const stop = end === e.shapeOf(0)[axis] ? Number.MAX_SAFE_INTEGER : end;
    return e.g.node('Slice', [e.x(0), e.g.int64s(`${e.p}.starts`, [begin], note('the start')),
      e.g.int64s(`${e.p}.ends`, [stop], note('the end')), e.g.int64s(`${e.p}.axes`, [axis], note('the axis'))], [], e.p);
  }
  return e.g.node('Gather', [e.x(0), e.g.int64s(`${e.p}.indices`, [...index], note('the indices'))], [int('axis', axis)], e.p);
};

/** argmax/argmin: ONNX gives int64 indices, nodenn floats; no axis means the flattened tensor. */
const argReduce = (onnx: string): Emitter => (e) => {
  const { axis, keepdims } = e.op.attrs as { axis: number | null; keepdims: boolean };
  const shape = e.shapeOf(0);
  const reshape = (t: string, to: number[]) =>
    e.g.node('Reshape', [t, e.g.int64s(`${e.p}.shape`, to, { role: 'shape', what: () => `the shape of ${e.what()}`, op: e.op.op })], [], e.p);
  let r: string;
  if (axis === null) {
    r = e.g.node(onnx, [reshape(e.x(0), [-1])], [int('axis', 0), int('keepdims', 0)], e.p);
    if (keepdims) r = reshape(r, shape.map(() => 1));
  } else {
    r = e.g.node(onnx, [e.x(0)], [int('axis', normalizeAxes(axis, shape.length)[0]), int('keepdims', keepdims ? 1 : 0)], e.p);
  }
  return e.g.node('Cast', [r], [int('to', DATA_TYPE.FLOAT)], e.p);
};

const LINEAR_ACTIVATIONS: Record<LinearActivation, string> = { relu: 'Relu', sigmoid: 'Sigmoid', tanh: 'Tanh' };

/** nodenn's tensor operations and their ONNX counterparts (operation names as autograd records them). */
const EMITTERS: Record<string, Emitter> = {
  add: node2('Add'),
  sub: node2('Sub'),
  mul: node2('Mul'),
  div: node2('Div'),
  pow: node2('Pow'),
  maximum: node2('Max'),
  minimum: node2('Min'),
  gt: compare('Greater'),
  ge: compare('GreaterOrEqual'),
  lt: compare('Less'),
  le: compare('LessOrEqual'),
  eq: compare('Equal'),
  ne: compare('Equal', true),
  // nodenn's condition is a float mask: non-zero (NaN included) is true, as Cast to bool reads it
  where: (e) => e.g.node('Where', [e.g.node('Cast', [e.x(0)], [int('to', DATA_TYPE.BOOL)], e.p), e.x(1), e.x(2)], [], e.p),
  neg: node1('Neg'),
  abs: node1('Abs'),
  sign: node1('Sign'),
  exp: node1('Exp'),
  log: node1('Log'),
  log1p: (e) => e.g.node('Log', [e.g.node('Add', [e.x(0), scalar(e, 'one', 1)], [], e.p)], [], e.p),
  sqrt: node1('Sqrt'),
  square: (e) => e.g.node('Mul', [e.x(0), e.x(0)], [], e.p),
  relu: node1('Relu'),
  leakyRelu: (e) => e.g.node('LeakyRelu', [e.x(0)], [float('alpha', (e.op.attrs as number[])[0])], e.p),
  sigmoid: node1('Sigmoid'),
  tanh: node1('Tanh'),
  step: (e) => stepNodes(e.g, e.x(0), e.p),
  softplus: node1('Softplus'),
  // x Φ(x) = x (1 + erf(x / √2)) / 2: ONNX's Gelu comes with opset 20
  gelu: (e) => {
    const erf = e.g.node('Erf', [e.g.node('Div', [e.x(0), scalar(e, 'sqrt2', Math.SQRT2)], [], e.p)], [], e.p);
    const half = e.g.node('Mul', [e.x(0), scalar(e, 'half', 0.5)], [], e.p);
    return e.g.node('Mul', [half, e.g.node('Add', [erf, scalar(e, 'one', 1)], [], e.p)], [], e.p);
  },
  clamp: (e) => {
    const [lo, hi] = e.op.attrs as [number, number];
    return e.g.node('Clip', [e.x(0), scalar(e, 'min', lo), scalar(e, 'max', hi)], [], e.p);
  },
  sum: reduce('ReduceSum'),
  mean: reduce('ReduceMean'),
  max: reduce('ReduceMax'),
  min: reduce('ReduceMin'),
  prod: reduce('ReduceProd'),
  logSumExp: reduce('ReduceLogSumExp'),
  var: variance(false),
  std: variance(true),
  argmax: argReduce('ArgMax'),
  argmin: argReduce('ArgMin'),
  softmax: (e) => e.g.node('Softmax', [e.x(0)], [int('axis', e.op.attrs as number)], e.p),
  logSoftmax: (e) => e.g.node('LogSoftmax', [e.x(0)], [int('axis', e.op.attrs as number)], e.p),
  matmul: (e) => {
    const { transposeA = false, transposeB = false } = (e.op.attrs ?? {}) as MatmulOptions;
    const a = transposeA && e.shapeOf(0).length > 1 ? lastTwoSwapped(e, 0) : e.x(0);
    const b = transposeB && e.shapeOf(1).length > 1 ? lastTwoSwapped(e, 1) : e.x(1);
    return e.g.node('MatMul', [a, b], [], e.p);
  },
  // a 2-D x: one Gemm (transB for a weight (out, in)), as a Dense layer; else MatMul and Add; then the activation
  linear: (e) => {
    const { transposeWeight, activation } = e.op.attrs as { transposeWeight: boolean; activation: LinearActivation | null };
    const hasBias = e.op.inputs[2] instanceof Tensor;
    let y: string;
    if (e.shapeOf(0).length === 2) {
      const inputs = [e.x(0), e.x(1), ...(hasBias ? [e.x(2)] : [])];
      y = e.g.node('Gemm', inputs, transposeWeight ? [int('transB', 1)] : [], e.p);
    } else {
      y = e.g.node('MatMul', [e.x(0), transposeWeight ? lastTwoSwapped(e, 1) : e.x(1)], [], e.p);
      if (hasBias) y = e.g.node('Add', [y, e.x(2)], [], e.p);
    }
    return activation === null ? y : e.g.node(LINEAR_ACTIVATIONS[activation], [y], [], e.p);
  },
  reshape: (e) => e.g.node('Reshape', [e.x(0), e.g.int64s(`${e.p}.shape`, e.y.shape,
    { role: 'shape', what: () => `the target shape of ${e.what()}`, op: e.op.op })], [], e.p),
  permute: (e) => e.g.node('Transpose', [e.x(0)], [ints('perm', e.op.attrs as number[])], e.p),
  broadcastTo: (e) => e.g.node('Expand', [e.x(0), e.g.int64s(`${e.p}.shape`, e.y.shape,
    { role: 'expand', what: () => `the target shape of ${e.what()}`, op: e.op.op, from: e.shapeOf(0) })], [], e.p),
  identity: node1('Identity'),
  detach: node1('Identity'),
  concat: (e) => e.g.node('Concat', e.op.inputs.map((_, i) => e.x(i)), [int('axis', e.op.attrs as number)], e.p),
  gatherAxis,
  pad: (e) => {
    const widths = e.op.attrs as [number, number][];
    const pads = e.g.int64s(`${e.p}.pads`, [...widths.map((w) => w[0]), ...widths.map((w) => w[1])],
      { role: 'index', what: () => `the pad widths of ${e.what()}`, op: e.op.op });
    return e.g.node('Pad', [e.x(0), pads, e.x(1)], [], e.p);
  },
  layer: (e) => {
    const { layer } = e.op.attrs as { layer: Layer };
    const p = e.layerPath(layer);
    return layerNodes(e.g, layer, p, `layer ${p} (${layer.name})`, e.x(0), e.shapeOf(0));
  },
};

/** The tensor operations that export, for the error naming one that does not. */
export const ONNX_EXPORT_OPS = Object.keys(EMITTERS).filter((k) => k !== 'layer' && k !== 'identity' && k !== 'detach');

/** The Module's tensors and built-in layers by property path, PyTorch's state-dict names ('blocks.0.fc.weight'). */
function propertyPaths(module: Module): { tensors: Map<Tensor, string>; layers: Map<Layer, string> } {
  const tensors = new Map<Tensor, string>(), layers = new Map<Layer, string>();
  for (const [prefix, m] of module.namedModules()) {
    for (const [name, v] of Object.entries(m)) {
      const entries: [string, unknown][] = Array.isArray(v) ? v.map((x, i) => [`${name}.${i}`, x]) : [[name, v]];
      for (const [n, x] of entries) {
        const full = prefix === '' ? n : `${prefix}.${n}`;
        if (x instanceof Tensor && !tensors.has(x)) tensors.set(x, full);
        if (x instanceof Layer && !layers.has(x)) {
          layers.set(x, full);
          x.params.forEach((t, i) => { if (!tensors.has(t)) tensors.set(t, `${full}.${x.paramNames[i]}`); });
          x.buffers.forEach((t, i) => { if (!tensors.has(t)) tensors.set(t, `${full}.${x.bufferNames[i]}`); });
        }
      }
    }
  }
  return { tensors, layers };
}

// nodenn's own frames, left out when naming where forward() called an operation
const LIBRARY_DIR = path.resolve(__dirname, '..', '..');

/** The first stack frame outside nodenn: where the user's forward() called the operation. */
function callerOf(stack: string | undefined): string {
  for (const line of (stack ?? '').split('\n').slice(1)) {
    if (line.includes(LIBRARY_DIR) || line.includes('node:internal') || line.includes('node_modules')) continue;
    const m = /\(?([^()\s]+:\d+:\d+)\)?\s*$/.exec(line);
    if (m) return path.relative(process.cwd(), m[1]) || m[1];
  }
  return 'an unknown place';
}

interface Trace {
  root: Tensor;
  ops: Map<Tensor, TracedOp>;
}

function traceForward(module: Module, x: Tensor): Trace {
  const ops = new Map<Tensor, TracedOp>();
  let seq = 0;
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 30;
  let root: unknown;
  try {
    root = traceOperations(() => noGrad(() => module.call(x)), (op, inputs, output, attrs) => {
      if (inputs.includes(output)) return;
      // a later report of the same tensor (reshape, then the permute built on it; a layer's insides, then the
      // layer) is the one that made it
      const stack = new Error();
      let at: string | null = null;
      ops.set(output, { op, inputs, attrs, seq: ++seq, at: () => (at ??= callerOf(stack.stack)) });
    });
  } finally {
    Error.stackTraceLimit = limit;
  }
  if (!(root instanceof Tensor)) {
    throw new TypeError(`exportOnnx: the Module's forward() must return a Tensor, got ${describeValue(root)}`);
  }
  return { root, ops };
}

/** The tensors an operation reads as graph edges (a layer's parameters are written by layerNodes). */
const edges = (t: TracedOp): readonly unknown[] => (t.op === 'layer' ? t.inputs.slice(0, 1) : t.inputs);

/** The tensors root is computed from, each after the tensors it is computed from (root last). */
function topological(trace: Trace): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>([trace.root]);
  const stack: [Tensor, number][] = [[trace.root, 0]];
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const t = trace.ops.get(top[0]);
    const inputs = t ? edges(t) : [];
    let pushed = false;
    while (top[1] < inputs.length) {
      const x = inputs[top[1]++];
      if (x instanceof Tensor && !seen.has(x)) {
        seen.add(x);
        stack.push([x, 0]);
        pushed = true;
        break;
      }
    }
    if (!pushed) {
      order.push(top[0]);
      stack.pop();
    }
  }
  return order;
}

interface Paths {
  tensors: Map<Tensor, string>;
  layers: Map<Layer, string>;
}

/** The first operation (in the order forward() ran them) that has no ONNX counterpart, as an error. */
function checkSupported(trace: Trace, order: Tensor[], paths: Paths): void {
  let first: TracedOp | null = null;
  for (const t of order) {
    const op = trace.ops.get(t);
    if (op === undefined || (first !== null && op.seq > first.seq)) continue;
    const supported = op.op === 'layer' ? layerExports((op.attrs as { layer: Layer }).layer) : op.op in EMITTERS;
    if (!supported) first = op;
  }
  if (first === null) return;
  if (first.op === 'layer') {
    const layer = (first.attrs as { layer: Layer }).layer;
    throw new OnnxExportError(`exportOnnx: forward() calls layer ${paths.layers.get(layer) ?? layer.name} (${layer.name}) ` +
      `at ${first.at()}, which has no ONNX counterpart; the built-in layers that export are ${EXPORTED_LAYERS}`, layer.name);
  }
  throw new OnnxExportError(`exportOnnx: forward() uses the tensor operation ${first.op} at ${first.at()}, which has no ONNX ` +
    `counterpart; the operations that export are ${ONNX_EXPORT_OPS.join(', ')} and the built-in layers (layer.call(x))`,
  first.op);
}

/** One trace as a graph. */
interface Traced {
  g: GraphBuilder;
  /** The name of the value forward() returned. */
  output: string;
  /** For each node, the operation (or the layer's path) that wrote it. */
  parts: string[];
}

function emitTrace(trace: Trace, input: Tensor, inputName: string, paths: Paths): Traced {
  const order = topological(trace);
  checkSupported(trace, order, paths);
  const g = new GraphBuilder();
  const values = new Map<Tensor, string>([[input, inputName]]);
  const inline = new Map<Layer, string>();
  const layerPath = (layer: Layer) => {
    const known = paths.layers.get(layer) ?? inline.get(layer);
    if (known !== undefined) return known;
    const name = `layer${inline.size}`;
    inline.set(layer, name);
    return name;
  };
  const parts: string[] = [];
  let count = 0;
  for (const t of order) {
    const op = trace.ops.get(t);
    if (op === undefined) continue;
    const p = `${op.op}_${count++}`, what = () => `${op.op} (at ${op.at()})`;
    const e: Emit = {
      g, op, y: t, p, what, layerPath,
      shapeOf: (i) => (op.inputs[i] instanceof Tensor ? (op.inputs[i] as Tensor).shape : []),
      x: (i) => {
        const v = op.inputs[i];
        if (typeof v === 'number') return g.constant(`${p}.c${i}`, [v], { role: 'constant', what: () => `operand ${i} of ${what()}`, op: op.op });
        if (!(v instanceof Tensor)) {
          throw new OnnxExportError(`exportOnnx: operand ${i} of ${what()} is ${describeValue(v)}, not a tensor or a number`, op.op);
        }
        const known = values.get(v);
        if (known !== undefined) return known;
        const name = paths.tensors.get(v);
        const made = name !== undefined
          ? g.weight(name, v, v.shape, { role: 'weight', what: () => `the tensor ${name}`, op: op.op })
          : g.weight('constant', v, v.shape, { role: 'constant', what: () => `operand ${i} of ${what()}, a tensor of shape ` +
            `${formatShape(v.shape)}`, op: op.op });
        values.set(v, made);
        return made;
      },
    };
    const before = g.nodes.length;
    values.set(t, EMITTERS[op.op](e));
    const part = op.op === 'layer' ? layerPath((op.attrs as { layer: Layer }).layer) : op.op;
    for (let k = before; k < g.nodes.length; k++) parts.push(part);
  }
  const root = trace.root;
  let output = values.get(root);
  if (output === undefined) {
    // forward() returned a tensor no operation computed: a constant
    const name = paths.tensors.get(root) ?? 'constant';
    output = g.weight(name, root, root.shape, { role: 'constant', what: () => 'the tensor forward() returns', op: 'forward' });
  }
  return { g, output, parts };
}

const sameList = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((v, i) => v === b[i]);

/** The positions where two lists of one length differ. */
const differences = (a: readonly number[], b: readonly number[]) => a.map((_, i) => i).filter((i) => a[i] !== b[i]);

/**
 * Checks that two traces are the same graph and keeps the first, with the targets of Reshape and Expand that
 * follow the batch size made free (-1 and 1); anything else that differs is an error naming it.
 */
function merge(ta: Traced, tb: Traced, o: CheckedOptions, batches: [number, number]): void {
  const a = ta.g, b = tb.g;
  const why = `forward() ran other operations on two example inputs (${o.dynamic ? `batch sizes ${batches[0]} and ` +
    `${batches[1]}` : 'two draws of values'}): a graph holds one path, so forward() must not branch on the input's ` +
    `values${o.dynamic ? ' or its batch size (or export with { dynamicBatch: false })' : ''}`;
  const n = Math.max(a.nodes.length, b.nodes.length);
  for (let i = 0; i < n; i++) {
    const x = a.nodes[i], y = b.nodes[i];
    if (x === undefined || y === undefined || JSON.stringify(x) !== JSON.stringify(y)) {
      const name = x !== undefined ? ta.parts[i] : tb.parts[i];
      throw new OnnxExportError(`exportOnnx: ${why}; the first that differs is ${name}`, name);
    }
  }
  const names = (g: GraphBuilder) => g.initializers.map((t) => t.name).join('\n');
  if (names(a) !== names(b)) {
    throw new OnnxExportError(`exportOnnx: ${why}`, 'forward');
  }
  const batchAdvice = 'export with { dynamicBatch: false } to fix the batch size';
  a.initializers.forEach((ta, i) => {
    const tb = b.initializers[i], note = a.notes[i];
    const dataA = [...(ta.raw_data ?? ta.float_data ?? ta.int64_data ?? [])];
    const dataB = [...(tb.raw_data ?? tb.float_data ?? tb.int64_data ?? [])];
    if (sameList(ta.dims, tb.dims) && sameList(dataA, dataB)) return;
    const shapeA = ta.int64_data ?? [], shapeB = tb.int64_data ?? [];
    if (o.dynamic && note.role === 'shape' && shapeA.length === shapeB.length) {
      const at = differences(shapeA, shapeB);
      if (at.length === 1) {
        ta.int64_data![at[0]] = -1;
        return;
      }
      throw new OnnxExportError(`exportOnnx: ${note.what()} follows the batch size in ${at.length} axes ` +
        `(${formatShape(shapeA)} at batch ${batches[0]}, ${formatShape(shapeB)} at batch ${batches[1]}); a Reshape ` +
        `can leave one free: keep the batch in one axis, or ${batchAdvice}`, note.op);
    }
    if (o.dynamic && note.role === 'expand' && shapeA.length === shapeB.length) {
      const fromA = note.from ?? [], fromB = b.notes[i].from ?? [];
      const lead = shapeA.length - fromA.length;
      const at = differences(shapeA, shapeB);
      // an axis that grows with the batch in the expanded tensor too: Expand keeps it with a 1
      if (at.every((k) => k >= lead && fromA[k - lead] !== fromB[k - lead])) {
        for (const k of at) ta.int64_data![k] = 1;
        return;
      }
      throw new OnnxExportError(`exportOnnx: ${note.what()} broadcasts to the batch size (${formatShape(shapeA)} at batch ` +
        `${batches[0]}, ${formatShape(shapeB)} at batch ${batches[1]}), which a graph with a free batch axis cannot hold ` +
        `here: broadcast with an operation on the input instead (x.mul(0).add(t)), or ${batchAdvice}`, note.op);
    }
    if (note.role === 'constant' && !sameList(ta.dims, tb.dims)) {
      throw new OnnxExportError(`exportOnnx: ${note.what()} was made in forward() with a shape that follows the batch size ` +
        `(${formatShape(ta.dims)} at batch ${batches[0]}, ${formatShape(tb.dims)} at batch ${batches[1]}); a graph ` +
        `would freeze it: compute it from the input with tensor operations (nn.zerosLike(x) is a constant too: ` +
        `x.mul(0) is not), or ${batchAdvice}`, note.op);
    }
    if (note.role === 'constant' || note.role === 'weight') {
      throw new OnnxExportError(`exportOnnx: ${note.what()} changes with the input's values but no traced tensor operation ` +
        'computes it from the input (it was made through .data, toArray(), a random draw, a Sequential\'s forward() ' +
        'rather than its layers\' call(), or another operation the trace does not see); a graph would freeze the value ' +
        'it had in one trace: compute it with tensor operations', note.op);
    }
    throw new OnnxExportError(`exportOnnx: ${note.what()} follows the batch size, which a graph with a free batch axis ` +
      `cannot hold here: ${batchAdvice}`, note.op);
  });
}

/** An example input: normal draws from a fixed seed, so that exporting twice writes the same file. */
function exampleInput(shape: number[], dtype: DType, seed: number): Tensor {
  const rng = new Random(seed), data = allocate(dtype, sizeOf(shape));
  for (let i = 0; i < data.length; i++) data[i] = rng.normal();
  return new Tensor(data, shape);
}

/** The ONNX model of an nn.Module: its forward traced on example inputs of options.inputShape. */
export function encodeModuleOnnx(module: Module, options: ExportOnnxOptions): Uint8Array {
  const o = checkOptions(options);
  const sample = o.inputShape as readonly number[] | null | undefined;
  if (sample === undefined || sample === null) {
    throw new TypeError('exportOnnx: a Module needs options.inputShape, the shape of one sample without the batch axis ' +
      '(e.g. { inputShape: [1, 28, 28] }): its forward() is traced on an example input of that shape');
  }
  if (!isArray(sample) || !sample.every((d) => Number.isInteger(d) && d > 0)) {
    throw new TypeError(`exportOnnx: inputShape must be an array of positive integers (one sample, without the batch axis), ` +
      `got ${describeValue(sample)}`);
  }
  const paths = propertyPaths(module);
  const first = paths.tensors.keys().next();
  const dtype: DType = first.done === true ? 'float32' : first.value.dtype;
  // inference, as torch.onnx.export: dropout off, batch norm on its running statistics; the modes come back after
  const modes: [Module | Layer, boolean][] = [
    ...module.namedModules().map(([, m]): [Module, boolean] => [m, m.training]),
    ...[...paths.layers.keys()].map((l): [Layer, boolean] => [l, l.training]),
  ];
  const batches: [number, number] = o.dynamic ? [2, 3] : [o.batch, o.batch];
  let graphs: (Traced & { shape: readonly number[] })[];
  module.eval();
  try {
    graphs = batches.map((n, k) => {
      const x = exampleInput([n, ...sample], dtype, 1000 + k);
      const trace = traceForward(module, x);
      return { ...emitTrace(trace, x, o.inputName, paths), shape: trace.root.shape };
    });
  } finally {
    for (const [m, mode] of modes) m.training = mode;
  }
  const [a, b] = graphs;
  merge(a, b, o, batches);
  if (a.shape.length !== b.shape.length) {
    throw new OnnxExportError(`exportOnnx: forward() returned a tensor of shape ${formatShape(a.shape)} at batch ` +
      `${batches[0]} and ${formatShape(b.shape)} at batch ${batches[1]}: its rank must not follow the batch size`, 'forward');
  }
  const outputDims: Dim[] = a.shape.map((d, k) => {
    if (d === b.shape[k]) return { dim_value: d };
    return k === 0 && d === batches[0] && b.shape[k] === batches[1] ? { dim_param: 'N' } : {};
  });
  const inputDims: Dim[] = [o.dynamic ? { dim_param: 'N' } : { dim_value: o.batch }, ...sample.map((d) => ({ dim_value: d }))];
  return encodeModel(a.g, o, `nodenn.${module.constructor.name}`, a.output, inputDims, outputDims);
}
