// The inference plan: how predict() and evaluate() run a Sequential's layers in eval mode, worked out once when
// the network is put in eval mode rather than on every call. A Conv2D followed by a ReLU and/or a 2x2 stride-2
// MaxPool2D runs as one kernel call, the ReLU and the pooling fused into the convolution's last pass, so that its
// full output is never written out and read back; every other layer runs its own forward(). Large inputs are cut
// into parts whose activations stay in cache. The values are those of the layers one after the other; a fused
// step's output is not what the layers' backward() expects, so no backward pass may follow.
//
// Only the exact classes fuse: a subclass may override forward(), which the fused kernel would skip. The plan
// holds the layers, not copies of their parameters.
import { Conv2D } from '../layers/conv2d';
import type { Layer } from '../layers/layer';
import { MaxPool2D } from '../layers/max_pool2d';
import { ReLU } from '../layers/relu';
import { type DType, type Tensor, sizeOf } from '../tensor';

/**
 * The largest activation of one eval-mode pass, in bytes: about what a core's share of the last-level cache holds,
 * so that each layer's output is still in cache when the next layer reads it (a CNN's first feature maps are 50 KB
 * per MNIST image: 1000 images at once stream 50 MB through memory per layer).
 */
export const EVAL_CACHE_BYTES = 6 * 2 ** 20;
/** The fewest rows of one eval-mode pass, whatever the cache budget: fewer cost the kernels their efficiency. */
export const MIN_ROWS_PER_PASS = 16;

/** One step of a plan: a layer's own forward(), or a Conv2D with the ReLU and the pooling after it fused. */
export type PlanStep =
  | { kind: 'layer'; layer: Layer }
  | { kind: 'conv'; conv: Conv2D; relu: ReLU | null; pool: MaxPool2D | null };

function isExactly<T extends object>(l: object, Class: abstract new (...args: never[]) => T): l is T {
  return Object.getPrototypeOf(l) === Class.prototype;
}

/** A MaxPool2D that the convolution kernel can do itself: 2x2 windows, stride 2. */
function fusablePool(l: Layer | undefined): l is MaxPool2D {
  return l !== undefined && isExactly(l, MaxPool2D) && l.kernelSize.every((k) => k === 2) && l.stride.every((s) => s === 2);
}

function planSteps(layers: readonly Layer[]): PlanStep[] {
  const steps: PlanStep[] = [];
  for (let i = 0; i < layers.length; i++) {
    const conv = layers[i];
    if (!isExactly(conv, Conv2D)) {
      steps.push({ kind: 'layer', layer: conv });
      continue;
    }
    const relu = layers[i + 1] !== undefined && isExactly(layers[i + 1], ReLU) ? layers[i + 1] as ReLU : null;
    const next = layers[i + (relu ? 2 : 1)];
    const pool = fusablePool(next) ? next : null;
    steps.push({ kind: 'conv', conv, relu, pool });
    i += (relu ? 1 : 0) + (pool ? 1 : 0);
  }
  return steps;
}

/**
 * How a Sequential's layers run in eval mode: the steps, with Conv2D (+ ReLU) (+ 2x2 MaxPool2D) fused into one kernel
 * call. Forward only: no backward pass may follow it.
 */
export class InferencePlan {
  readonly steps: readonly PlanStep[];
  private readonly layers: readonly Layer[];

  constructor(layers: readonly Layer[]) {
    this.layers = [...layers];
    this.steps = planSteps(this.layers);
  }

  /** Whether the plan was made for these layers, in this order (a network's layers may change after it was made). */
  isFor(layers: readonly Layer[]): boolean {
    if (layers.length !== this.layers.length) return false;
    for (let i = 0; i < layers.length; i++) if (layers[i] !== this.layers[i]) return false;
    return true;
  }

  /** The steps by name: 'Conv2D+ReLU+MaxPool2D', 'Flatten', 'Dense', ... */
  describe(): string[] {
    return this.steps.map((s) => (s.kind === 'layer' ? s.layer.name
      : [s.conv.name, ...(s.relu ? [s.relu.name] : []), ...(s.pool ? [s.pool.name] : [])].join('+')));
  }

  /** The output for a batch x (the last step's buffer, valid until the plan or its layers run again). */
  run(x: Tensor): Tensor {
    let y = x;
    for (const s of this.steps) {
      if (s.kind === 'layer') {
        y = s.layer.forward(y);
        continue;
      }
      let pool = s.pool !== null;
      if (pool && y.ndim === 4) {
        const [, , oh, ow] = s.conv.outputShape(y.shape);
        pool = oh >= 2 && ow >= 2;  // else the pooling layer itself reports the error
      }
      y = s.conv.forwardFused(y, s.relu !== null, pool);
      if (s.pool && !pool) y = s.pool.forward(y);
    }
    return y;
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
