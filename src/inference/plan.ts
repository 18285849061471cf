// The inference plan: how predict() and evaluate() run a Sequential's layers in eval mode, worked out once when
// the network is put in eval mode rather than on every call. A Conv2D followed by a ReLU and/or a 2x2 stride-2
// MaxPool2D runs as one kernel call, the ReLU and the pooling fused into the convolution's last pass, so that its
// full output is never written out and read back; a BatchNorm followed by a ReLU runs as one call likewise
// (batchNormReluForward); every other layer runs its own forward(). Two such convolution steps in a row,
// each with its pooling (a small CNN's conv-pool-conv-pool), run as one call, conv2dChainForward, image by image: the
// first one's output stays in cache for the second instead of going to memory. Large inputs are cut
// into parts whose activations stay in cache. The values are those of the layers one after the other; a fused
// step's output is not what the layers' backward() expects, so no backward pass may follow.
//
// A small network of Dense layers with activations and softmax between them (an MLP, Flattens and Dropouts
// aside) runs as one kernel call, planForward, with predictProba's softmax or sigmoid as its last step: a batch-1
// predict then crosses into the backend once rather than once per layer and kernel, and allocates nothing but
// its result. Its values are those of the layers' kernels one after the other, bit for bit.
//
// Only the exact classes fuse: a subclass may override forward(), which the fused kernel would skip. The plan
// holds the layers, not copies of their parameters: the kernels read the weights where they are at each call, so
// nothing goes stale when they change (fit, an optimizer step, loadStateDict, a write to a weight's data). On a
// backend that prepares plans (native: planPrepare), the first call hands the backend the program, the sizes and the
// weight arrays, and the calls after it pass only x and y (planRun), while the layers' parameters are still those
// arrays (compared at each call; else the plan is prepared again); the addon checks that each weight's memory is
// still there before reading it (native/addon.cc).
import type { Backend, PreparedPlan } from '../backend/backend';
import { getBackend } from '../backend/index';
import { enums } from '../backend/spec';
import { STEP_ACTIVATION, STEP_DENSE, STEP_SOFTMAX, slopeWords } from '../backend/ts/plan';
import { Activation } from '../layers/activation';
import type { BatchNorm } from '../layers/batch_norm';
import { BatchNorm1D } from '../layers/batch_norm1d';
import { BatchNorm2D } from '../layers/batch_norm2d';
import { ReusableTensor } from '../layers/buffers';
import { Conv2D } from '../layers/conv2d';
import { Dense } from '../layers/dense';
import { Dropout } from '../layers/dropout';
import { Flatten } from '../layers/flatten';
import type { Layer } from '../layers/layer';
import { LeakyReLU } from '../layers/leaky_relu';
import { MaxPool2D } from '../layers/max_pool2d';
import { ReLU } from '../layers/relu';
import { Sigmoid } from '../layers/sigmoid';
import { Softmax } from '../layers/softmax';
import { Step } from '../layers/step';
import { Tanh } from '../layers/tanh';
import { type DType, type Tensor, sizeOf } from '../tensor';

/**
 * The largest activation of one eval-mode pass, in bytes: about what a core's share of the last-level cache holds,
 * so that each layer's output is still in cache when the next layer reads it (a CNN's first feature maps are 50 KB
 * per MNIST image: 1000 images at once stream 50 MB through memory per layer).
 */
export const EVAL_CACHE_BYTES = 6 * 2 ** 20;
/** The fewest rows of one eval-mode pass, whatever the cache budget: fewer cost the kernels their efficiency. */
export const MIN_ROWS_PER_PASS = 16;

/** A Conv2D with the ReLU and the pooling after it fused. */
export interface ConvStep { kind: 'conv'; conv: Conv2D; relu: ReLU | null; pool: MaxPool2D | null }
/** Two pooled ConvSteps in a row, as one conv2dChainForward call into `out`. */
export interface ChainStep { kind: 'chain'; first: ConvStep; second: ConvStep; out: ReusableTensor }
/** A BatchNorm1D or BatchNorm2D with the ReLU after it fused (BatchNorm.forwardRelu). */
export interface NormStep { kind: 'norm'; norm: BatchNorm; relu: ReLU }
/**
 * One step of a plan: a layer's own forward(), a Conv2D with the ReLU and the pooling after it fused, or two, or a
 * BatchNorm with the ReLU after it.
 */
export type PlanStep = { kind: 'layer'; layer: Layer } | ConvStep | ChainStep | NormStep;

export function isExactly<T extends object>(l: object, Class: abstract new (...args: never[]) => T): l is T {
  return Object.getPrototypeOf(l) === Class.prototype;
}

/** A MaxPool2D that the convolution kernel can do itself: 2x2 windows, stride 2. */
export function fusablePool(l: Layer | undefined): l is MaxPool2D {
  return l !== undefined && isExactly(l, MaxPool2D) && l.kernelSize.every((k) => k === 2) && l.stride.every((s) => s === 2);
}

/** A BatchNorm1D or BatchNorm2D that runs fused with the layer after it, an exact ReLU (fit() and the plan). */
export function fusableNorm(l: Layer, next: Layer | undefined): l is BatchNorm {
  return (isExactly(l, BatchNorm2D) || isExactly(l, BatchNorm1D)) && next !== undefined && isExactly(next, ReLU);
}

/** A Dense that fit() runs fused with the layer after it, an exact ReLU (Dense.forwardRelu). */
export function fusableDense(l: Layer, next: Layer | undefined): l is Dense {
  return isExactly(l, Dense) && next !== undefined && isExactly(next, ReLU);
}

function planSteps(layers: readonly Layer[]): PlanStep[] {
  const steps: PlanStep[] = [];
  for (let i = 0; i < layers.length; i++) {
    const conv = layers[i];
    if (fusableNorm(conv, layers[i + 1])) {
      steps.push({ kind: 'norm', norm: conv, relu: layers[++i] as ReLU });
      continue;
    }
    if (!isExactly(conv, Conv2D)) {
      steps.push({ kind: 'layer', layer: conv });
      continue;
    }
    const relu = layers[i + 1] !== undefined && isExactly(layers[i + 1], ReLU) ? layers[i + 1] as ReLU : null;
    const next = layers[i + (relu ? 2 : 1)];
    const pool = fusablePool(next) ? next : null;
    const step: ConvStep = { kind: 'conv', conv, relu, pool };
    const last = steps.at(-1);
    if (pool && last?.kind === 'conv' && last.pool) {
      steps[steps.length - 1] = { kind: 'chain', first: last, second: step, out: new ReusableTensor() };
    } else {
      steps.push(step);
    }
    i += (relu ? 1 : 0) + (pool ? 1 : 0);
  }
  return steps;
}

function convStepName(s: ConvStep): string {
  return [s.conv.name, ...(s.relu ? [s.relu.name] : []), ...(s.pool ? [s.pool.name] : [])].join('+');
}

/** A ConvStep as it runs on its own: the layer reports a bad x. */
function runConv(s: ConvStep, x: Tensor): Tensor {
  let pool = s.pool !== null;
  if (pool && x.ndim === 4) {
    const [, , oh, ow] = s.conv.outputShape(x.shape);
    pool = oh >= 2 && ow >= 2;  // else the pooling layer itself reports the error
  }
  const y = s.conv.forwardFused(x, s.relu !== null, pool);
  return s.pool && !pool ? s.pool.forward(y) : y;
}

/** The output shape of a pooled ConvStep for input shape x, or null where the step on its own would throw. */
function pooledShape(conv: Conv2D, x: readonly number[]): number[] | null {
  let y: number[];
  try {
    y = conv.outputShape(x);
  } catch {
    return null;
  }
  return y[2] >= 2 && y[3] >= 2 ? [y[0], y[1], Math.floor(y[2] / 2), Math.floor(y[3] / 2)] : null;
}

/**
 * A ChainStep in one conv2dChainForward call, when x is what both convolutions take (else the two steps one after
 * the other, whose layers report what is wrong): bitwise the two steps' values.
 */
function runChain(s: ChainStep, x: Tensor): Tensor {
  const a = s.first.conv, b = s.second.conv, dtype = a.weight.dtype;
  const mid = x.ndim === 4 && x.dtype === dtype && b.weight.dtype === dtype && x.shape[1] === a.inChannels &&
    b.inChannels === a.outChannels && x.data.length === sizeOf(x.shape) ? pooledShape(a, x.shape) : null;
  const shape = mid && pooledShape(b, mid);
  if (!shape) return runConv(s.second, runConv(s.first, x));
  const y = s.out.take(shape, dtype, true);
  const [N, C, H, W] = x.shape;
  getBackend().conv2dChainForward(N, C, H, W, a.outChannels, ...a.kernelSize, ...a.stride, ...a.padding,
    b.outChannels, ...b.kernelSize, ...b.stride, ...b.padding, x.data, a.weight.data, a.bias?.data ?? null,
    b.weight.data, b.bias?.data ?? null, y.data, s.first.relu !== null, s.second.relu !== null);
  return y;
}

/** The most Dense layers one planForward call runs (the kernel takes up to four weights and biases). */
export const MAX_CHAIN_DENSE = 4;

/** What a chain may end with besides its layers: predictProba's squashing of the output into probabilities. */
export type Squash = 'softmax' | 'sigmoid';

const ACTIVATIONS = [ReLU, LeakyReLU, Sigmoid, Tanh, Step];

/**
 * A network of Dense layers (at most MAX_CHAIN_DENSE, the first layer with arithmetic being one) with ReLU,
 * LeakyReLU, Sigmoid, Tanh, Step and Softmax layers after them, and Flattens and Dropouts (identities in eval mode)
 * anywhere: the whole forward pass as one planForward call.
 */
class DenseChain {
  private readonly dense: Dense[] = [];
  private readonly dropouts: Dropout[] = [];
  /** d0 .. d4: the widths, 0 past the last layer. */
  private readonly dims = [0, 0, 0, 0, 0];
  /** The program without squashing, and with each. */
  private readonly programs: Record<'none' | Squash, Int32Array>;
  readonly outputs: number;
  /** Twice the widest activation: scratch holds two rows of it per sample. */
  private readonly width: number;
  private readonly out = new ReusableTensor();
  private readonly scratch = new ReusableTensor();
  /** The backend's prepared plan of each program (planPrepare), with what it was prepared with. */
  private readonly prepared: Record<'none' | Squash, Prepared | null> = { none: null, softmax: null, sigmoid: null };

  private constructor(layers: readonly Layer[]) {
    const steps: number[] = [];
    for (const l of layers) {
      if (isExactly(l, Dense)) {
        steps.push(STEP_DENSE, this.dense.length, 0, 0);
        this.dims[this.dense.length] = l.inFeatures;
        this.dims[this.dense.length + 1] = l.outFeatures;
        this.dense.push(l);
      } else if (l instanceof Activation) {
        const { kind, slope } = l.activation;
        steps.push(STEP_ACTIVATION, enums.activation.values.indexOf(kind), ...slopeWords(slope));
      } else if (isExactly(l, Softmax)) {
        steps.push(STEP_SOFTMAX, 0, 0, 0);
      } else if (isExactly(l, Dropout)) {
        this.dropouts.push(l);
      }
    }
    this.outputs = this.dims[this.dense.length];
    this.width = 2 * Math.max(...this.dims.slice(1));
    const sigmoid = enums.activation.values.indexOf('sigmoid');
    this.programs = {
      none: Int32Array.from(steps),
      // as predictProba squashes a row: sigmoid for a single column, whatever the rule
      softmax: Int32Array.from([...steps, ...(this.outputs === 1 ? [STEP_ACTIVATION, sigmoid, 0, 0] : [STEP_SOFTMAX, 0, 0, 0])]),
      sigmoid: Int32Array.from([...steps, STEP_ACTIVATION, sigmoid, 0, 0]),
    };
  }

  /** The chain of these layers, or null if they are not one. */
  static of(layers: readonly Layer[]): DenseChain | null {
    let dense = 0;
    for (const l of layers) {
      if (isExactly(l, Dense)) dense++;
      else if (isExactly(l, Flatten) || isExactly(l, Dropout)) continue;
      else if (dense === 0 || !(ACTIVATIONS.some((A) => isExactly(l, A)) || isExactly(l, Softmax))) return null;
    }
    return dense > 0 && dense <= MAX_CHAIN_DENSE ? new DenseChain(layers) : null;
  }

  /**
   * The output for a batch x (squashed into probabilities if asked), in the chain's buffer (valid until its next
   * run), or null when x is not what the first Dense layer takes (its forward() then reports what is wrong) or a
   * Dropout is in training mode.
   */
  run(x: Tensor, squash: Squash | null): Tensor | null {
    const l = this.dense, first = l[0], dtype = first.weight.dtype;
    if (x.ndim < 2 || x.dtype !== dtype) return null;
    const n = x.shape[0];
    if (n === 0 || x.size !== n * this.dims[0]) return null;
    for (const d of this.dropouts) if (d.training) return null;
    const program = this.programs[squash ?? 'none'];
    const y = this.out.take([n, this.outputs], dtype, true);
    const b = getBackend(), key = squash ?? 'none', p = this.prepared[key];
    // a prepared plan runs while it was made on this backend, for as many rows, with these very weight arrays (a
    // layer's parameters may have been replaced since): then only x and y cross into the backend
    if (p !== null && p.backend === b && n <= p.rows && this.sameWeights(p.weights)) {
      (b.planRun as NonNullable<Backend['planRun']>)(p.plan, n, x.data, y.data);
      return y;
    }
    const scratch = this.scratch.take([n * this.width], dtype, true);
    const [d0, d1, d2, d3, d4] = this.dims, outputs = this.outputs;
    // the weights as they are now; the layers past the last are left out of the call, not passed as nulls: each null
    // costs the addon two N-API calls (~200 instructions) to find out that it is one
    const weights: (Float32Array | Float64Array | null)[] = [];
    for (const d of l) weights.push(d.params[0].data, d.hasBias ? d.params[1].data : null);
    const args = [n, outputs, this.width, program.length, d0, d1, d2, d3, d4, program, x.data, y.data, scratch.data,
      ...weights] as Parameters<Backend['planForward']>;
    // only small batches: a plan keeps a scratch of its rows, and a large batch's crossing is a small part of its time
    if (b.planPrepare && n <= MIN_ROWS_PER_PASS) {
      this.prepared[key] = { plan: b.planPrepare(...args), backend: b, rows: n, weights };
    } else {
      b.planForward(...args);
    }
    return y;
  }

  /** Whether the Dense layers' weights and biases are these arrays (null: no bias), in order. */
  private sameWeights(w: readonly (Float32Array | Float64Array | null)[]): boolean {
    const l = this.dense;
    for (let i = 0; i < l.length; i++) {
      const d = l[i];
      if (d.params[0].data !== w[2 * i] || (d.hasBias ? d.params[1].data : null) !== w[2 * i + 1]) return false;
    }
    return true;
  }
}

/** A DenseChain's plan prepared by a backend (planPrepare), with what it was prepared with. */
interface Prepared {
  plan: PreparedPlan;
  backend: Backend;
  rows: number;
  weights: (Float32Array | Float64Array | null)[];
}

/**
 * How a Sequential's layers run in eval mode: the steps, with Conv2D (+ ReLU) (+ 2x2 MaxPool2D) and BatchNorm + ReLU
 * fused into one kernel call each, or a small chain of Dense layers as one call. Forward only: no backward pass may follow it.
 */
export class InferencePlan {
  readonly steps: readonly PlanStep[];
  private readonly layers: readonly Layer[];
  private readonly chain: DenseChain | null;

  constructor(layers: readonly Layer[]) {
    this.layers = [...layers];
    this.steps = planSteps(this.layers);
    this.chain = DenseChain.of(this.layers);
  }

  /** Whether the whole forward pass is one planForward call (a small chain of Dense layers). */
  get oneCall(): boolean {
    return this.chain !== null;
  }

  /** Whether the plan was made for these layers, in this order (a network's layers may change after it was made). */
  isFor(layers: readonly Layer[]): boolean {
    if (layers.length !== this.layers.length) return false;
    for (let i = 0; i < layers.length; i++) if (layers[i] !== this.layers[i]) return false;
    return true;
  }

  /** The steps by name: 'Conv2D+ReLU+MaxPool2D', 'Flatten', 'Dense', ... (a chain: its two steps' names joined by '+') */
  describe(): string[] {
    return this.steps.map((s) => (s.kind === 'layer' ? s.layer.name : s.kind === 'conv' ? convStepName(s)
      : s.kind === 'norm' ? `${s.norm.name}+${s.relu.name}` : `${convStepName(s.first)}+${convStepName(s.second)}`));
  }

  /** The output for a batch x (the last step's buffer, valid until the plan or its layers run again). */
  run(x: Tensor): Tensor {
    const fused = this.chain?.run(x, null);
    if (fused) return fused;
    let y = x;
    for (const s of this.steps) {
      y = s.kind === 'layer' ? s.layer.forward(y) : s.kind === 'conv' ? runConv(s, y)
        : s.kind === 'norm' ? s.norm.forwardRelu(y) : runChain(s, y);
    }
    return y;
  }

  /**
   * The output for a batch x squashed into probabilities as predictProba does (softmax over each row, a sigmoid for a
   * single column; or a sigmoid per element; null: as it is) in the same call, when the plan is one call for x; else
   * null.
   */
  runProbabilities(x: Tensor, squash: Squash | null): Tensor | null {
    return this.chain?.run(x, squash) ?? null;
  }

  /**
   * Rows per eval-mode pass over n samples like x's: as many as keep the largest activation of a pass within
   * EVAL_CACHE_BYTES, at least MIN_ROWS_PER_PASS, the n rows cut into equal parts. Each sample's result does not
   * depend on its batch, so this changes speed only.
   */
  rowsPerPass(x: Tensor, n: number, dtype: DType): number {
    if (x.ndim < 1 || n <= MIN_ROWS_PER_PASS) return Math.max(1, n);
    let shape = [1, ...x.shape.slice(1)], largest = sizeOf(shape);
    try {
      for (const l of this.layers) {
        shape = l.outputShape(shape);
        largest = Math.max(largest, sizeOf(shape));
      }
    } catch {
      return n;  // a shape the layers reject: running them reports it
    }
    const rows = Math.max(MIN_ROWS_PER_PASS, Math.floor(EVAL_CACHE_BYTES / (largest * (dtype === 'float64' ? 8 : 4))));
    return Math.ceil(n / Math.ceil(n / rows));
  }
}
