// The recorded graph and reverse-mode differentiation, PyTorch's semantics. An operation whose inputs include a
// tensor that requires a gradient (while recording is on) calls record(): its output gets a Node (its `gradFn`)
// naming the operation, its inputs and whatever the backward needs. There is no global list: the graph is the
// Nodes reachable from the tensor whose backward() runs, so a result nobody keeps costs nothing after it goes.
// backward() walks them in reverse topological order, calling each operation's backward (src/autograd/grads.ts,
// itself written with tensor operations, so on backend kernels) and sums the gradients reaching each tensor;
// leaves (tensors that require a gradient and have no gradFn) accumulate theirs into `.grad`.
import { type FloatArray, Tensor, formatShape, keep } from '../tensor';
import { describeValue } from '../validate';
import { gradFunctions, takeFresh, takeStale } from './grads';
import { getBackend } from '../backend/index';

/** A recorded operation (a tensor's gradFn): its name, its inputs and what its backward needs. */
export interface Node {
  /** The operation's name ('add', 'matmul', ...): its entry in the backward table. */
  readonly op: string;
  /** The operands as given (numbers included: they get no gradient). */
  readonly inputs: readonly unknown[];
  /** What the backward needs besides inputs and output: axes, options. */
  readonly attrs: unknown;
  /** The write versions (see markWritten) of the inputs' data and the output's when recorded. */
  readonly versions?: readonly number[];
}

/** How many times each array was written in place (out=, add_, ...): absent is 0. */
const writes = new WeakMap<FloatArray, number>();

/** Notes a write in place into `data`: a recorded operation that saved a tensor over it can no longer use it. */
export function markWritten(data: FloatArray): void {
  writes.set(data, (writes.get(data) ?? 0) + 1);
}

function versionsOf(inputs: readonly unknown[], output: Tensor): number[] {
  return [...inputs.map((x) => (x instanceof Tensor ? writes.get(x.data) ?? 0 : 0)), writes.get(output.data) ?? 0];
}

let enabled = true;

/** What a tracer hears: each operation as it runs, its operands, result and attributes. */
export type OperationListener = (op: string, inputs: readonly unknown[], output: Tensor, attrs: unknown) => void;

let listener: OperationListener | null = null;

/**
 * Runs fn while `onOperation` hears every tensor operation, recorded for autograd or not (comparisons, argmax,
 * operations inside noGrad): how exportOnnx traces a Module's forward. One tracer at a time.
 */
export function traceOperations<T>(fn: () => T, onOperation: OperationListener): T {
  if (listener !== null) throw new Error('traceOperations: a trace is already running (exportOnnx inside a forward?)');
  listener = onOperation;
  try {
    return fn();
  } finally {
    listener = null;
  }
}

/** Whether a tracer runs (traceOperations): operations then go through record() even when nothing needs a gradient. */
export function isTracing(): boolean {
  return listener !== null;
}

/** Tells the tracer, if one runs, of an operation that autograd does not record (it has no gradient). */
export function notifyTracer(op: string, inputs: readonly unknown[], output: Tensor, attrs?: unknown): void {
  if (listener !== null) listener(op, inputs, output, attrs);
}

/** Whether operations record themselves now (false inside noGrad). */
export function isGradEnabled(): boolean {
  return enabled;
}

/**
 * Runs fn with recording off: no result inside needs a gradient (PyTorch's torch.no_grad()). For inference and for
 * updating parameters in place. fn is called synchronously; recording is back on when it returns or throws.
 */
export function noGrad<T>(fn: () => T): T {
  if (typeof fn !== 'function') throw new TypeError(`noGrad: fn must be a function, got ${describeValue(fn)}`);
  const before = enabled;
  enabled = false;
  try {
    return fn();
  } finally {
    enabled = before;
  }
}

/** fn with recording on, whatever the caller's state (PyTorch's torch.enable_grad()). */
export function enableGrad<T>(fn: () => T): T {
  const before = enabled;
  enabled = true;
  try {
    return fn();
  } finally {
    enabled = before;
  }
}

/**
 * Marks `output` as computed by `op` from `inputs` when recording is on and some input requires a gradient, and an
 * operation of that name has a backward; returns output. Operations without a backward (comparisons, argmax)
 * give tensors that need no gradient, as in PyTorch.
 */
export function record(op: string, inputs: readonly unknown[], output: Tensor, attrs?: unknown): Tensor {
  if (listener !== null) listener(op, inputs, output, attrs);
  if (!enabled) return output;
  let needed = false;
  for (let i = 0; i < inputs.length; i++) {
    const x = inputs[i];
    if (x instanceof Tensor && x.requiresGrad) { needed = true; break; }
  }
  if (!needed || gradFunctions[op] === undefined) return output;
  output.gradFn = new RecordedNode(op, inputs, attrs, versionsOf(inputs, output));
  return output;
}

/** Every Node is made here, of one class: one object shape for the engine, whatever the operation. */
class RecordedNode implements Node {
  constructor(readonly op: string, readonly inputs: readonly unknown[], readonly attrs: unknown,
    readonly versions: readonly number[]) {}
}

/** The tensors reachable from root through gradFn, each after every tensor computed from it (root first). */
function reverseTopological(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  seen.add(root);
  // iterative depth-first post-order (long chains, an unrolled loop, must not overflow the stack); two parallel
  // stacks, the tensors and how many of their inputs were visited, so that a step allocates nothing
  const nodes: Tensor[] = [root];
  const next: number[] = [0];
  while (nodes.length > 0) {
    const top = nodes.length - 1;
    const t = nodes[top];
    const inputs = t.gradFn === null ? NO_INPUTS : t.gradFn.inputs;
    let i = next[top];
    let pushed = false;
    while (i < inputs.length) {
      const x = inputs[i++];
      if (x instanceof Tensor && x.requiresGrad && !seen.has(x)) {
        seen.add(x);
        next[top] = i;
        nodes.push(x);
        next.push(0);
        pushed = true;
        break;
      }
    }
    if (!pushed) {
      order.push(t);
      nodes.pop();
      next.pop();
    }
  }
  return order.reverse();
}

const NO_INPUTS: readonly unknown[] = [];

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function checkGradient(g: Tensor, t: Tensor, what: string): Tensor {
  if (!sameShape(g.shape, t.shape)) {
    throw new RangeError(`${what} has shape ${formatShape(g.shape)} but the tensor has shape ${formatShape(t.shape)}`);
  }
  return g.dtype === t.dtype ? g : g.astype(t.dtype);
}

/**
 * leaf.grad += g, in place as PyTorch does (a layer's gradient tensor set as .grad fills without a copy; one marked
 * stale is overwritten); a first gradient is a copy, or the gradient itself when a backward made it for this leaf
 * alone (takeFresh), and a .grad of another shape or dtype (set by hand) is replaced by the sum. A new .grad is
 * kept from tidy() scopes: it outlives the backward() that made it.
 */
function accumulate(leaf: Tensor, g: Tensor): void {
  const prev = leaf.grad;
  if (prev === null) {
    leaf.grad = keep(takeFresh(g) ? g : g.clone());
  } else if (prev.dtype === g.dtype && sameShape(prev.shape, g.shape)) {
    if (takeStale(prev)) prev.data.set(g.data);
    else if (g.size > 0) getBackend().axpy(g.size, 1, g.data, prev.data);
  } else {
    leaf.grad = keep(takeStale(prev) ? g.clone() : prev.add(g));
  }
}

/**
 * d root / d leaf for every leaf root depends on, accumulated into leaf.grad. `grad` is d loss / d root; it may
 * be left out only for a tensor of one element (then 1). The graph is kept: backward may run again over it (the
 * gradients add up), unlike PyTorch's default of freeing it.
 */
export function backward(root: Tensor, grad?: Tensor | null): void {
  if (!(root instanceof Tensor)) throw new TypeError(`backward: expected a Tensor, got ${describeValue(root)}`);
  if (!root.requiresGrad) {
    throw new Error('backward: the tensor does not require a gradient and has no gradFn: no input of the ' +
      'operations that computed it has requiresGrad set (or they ran inside noGrad)');
  }
  let seed: Tensor;
  if (grad === undefined || grad === null) {
    if (root.size !== 1) {
      throw new RangeError(`backward: a gradient can be left out only for a tensor of one element (a scalar loss); ` +
        `this one has shape ${formatShape(root.shape)}, so pass backward(grad) with d loss / d tensor of that shape`);
    }
    seed = Tensor.full(root.shape, 1, root.dtype);
  } else {
    if (!(grad instanceof Tensor)) throw new TypeError(`backward: grad must be a Tensor, got ${describeValue(grad)}`);
    seed = checkGradient(grad, root, 'backward: grad');
  }
  noGrad(() => {
    const grads = new Map<Tensor, Tensor>([[root, seed]]);
    for (const t of reverseTopological(root)) {
      const g = grads.get(t);
      if (g === undefined) continue;
      grads.delete(t);
      const node = t.gradFn;
      if (node === null) {
        accumulate(t, g);
        continue;
      }
      if (node.versions !== undefined && versionsOf(node.inputs, t).some((v, i) => v !== node.versions![i])) {
        throw new Error(`backward: a tensor that ${node.op} needs for its gradient was modified in place (add_, ` +
          'mul_, ..., or out=) after the operation ran; clone() it before modifying it');
      }
      const inputGrads = gradFunctions[node.op](g, node.inputs, t, node.attrs);
      const inputs = node.inputs;
      for (let i = 0; i < inputs.length; i++) {
        const x = inputs[i], gi = inputGrads[i];
        if (!(x instanceof Tensor) || !x.requiresGrad || gi === null || gi === undefined) continue;
        const gx = gi.dtype === x.dtype && sameShape(gi.shape, x.shape) ? gi
          : checkGradient(gi, x, `the gradient ${node.op} gives its input ${i}`);
        const prev = grads.get(x);
        grads.set(x, prev === undefined ? gx : prev.add(gx));
      }
    }
  });
}

/**
 * f's gradient as a function (JAX's grad, PyTorch's torch.func.grad): `nn.grad(f)(x)` is d f(x) / dx, and
 * `nn.grad(f)(x, y)` an array of the gradients for each argument (null for one that is not a tensor). f must
 * return a tensor of one element. The arguments are not changed and their .grad is left alone.
 */
export function grad(f: (...xs: Tensor[]) => Tensor): (...xs: Tensor[]) => Tensor | (Tensor | null)[] {
  if (typeof f !== 'function') throw new TypeError(`grad: f must be a function, got ${describeValue(f)}`);
  return (...xs: Tensor[]) => {
    if (xs.length === 0) throw new TypeError('grad: call the returned function with at least one tensor');
    const leaves = xs.map((x) => (x instanceof Tensor ? x.detach().requiresGrad_() : x));
    const y = enableGrad(() => f(...leaves));
    if (!(y instanceof Tensor)) throw new TypeError(`grad: f must return a Tensor, got ${describeValue(y)}`);
    if (y.size !== 1) {
      throw new RangeError(`grad: f must return a tensor of one element (a scalar), got shape ${formatShape(y.shape)}`);
    }
    const grads = leaves.map((x) => {
      if (!(x instanceof Tensor)) return null;
      return x;
    });
    if (y.requiresGrad) backward(y);
    const out = grads.map((x) => (x === null ? null : x.grad ?? Tensor.zeros(x.shape, x.dtype)));
    return xs.length === 1 ? out[0]! : out;
  };
}
