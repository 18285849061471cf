// The layer contract. forward(x) caches what backward needs; backward(dout) returns dx and ACCUMULATES (+=)
// into the parameter gradients; zeroGrad() clears them. Layers never loop over numbers: they call kernels.
import type { Random } from '../random';
import type { DType } from '../tensor';
import { Tensor } from '../tensor';

/** Everything needed to rebuild a layer (stored as JSON in saved models). */
export interface LayerConfig {
  type: string;
  [option: string]: unknown;
}

export interface InitContext {
  rng: Random;
  dtype: DType;
}

export abstract class Layer {
  /** Parameters and their gradients, same order; names are 'weight', 'bias', ... */
  params: Tensor[] = [];
  grads: Tensor[] = [];
  paramNames: string[] = [];
  /** Non-trained state saved with the model (e.g. BatchNorm running statistics). */
  buffers: Tensor[] = [];
  bufferNames: string[] = [];
  training = true;
  /**
   * Whether forward()/backward() may return tensors the layer reuses on its next call (see buffers.ts): set by
   * Sequential for the layers it owns, so training allocates nothing per step. False for a layer on its own.
   */
  reuseBuffers = false;

  abstract forward(x: Tensor): Tensor;
  abstract backward(dout: Tensor): Tensor;

  /** (Re)creates parameters from the given generator and dtype. Layers without parameters keep the default. */
  initialize(_ctx: InitContext): void {}

  /** The output shape for an input shape (batch dimension included), for summary() and shape checks. */
  abstract outputShape(inputShape: readonly number[]): number[];

  /** Constructor arguments as JSON, for save/load. */
  abstract config(): LayerConfig;

  zeroGrad(): void {
    for (const g of this.grads) g.data.fill(0);
  }

  /** Sets parameters and gradients together, gradients zeroed. */
  protected setParams(names: string[], params: Tensor[]): void {
    this.paramNames = names;
    this.params = params;
    this.grads = params.map((p) => Tensor.zeros(p.shape, p.dtype));
  }

  get name(): string {
    return this.config().type;
  }
}
