// The layer contract. forward(x) caches what backward needs; backward(dout) returns dx and ACCUMULATES (+=)
// into the parameter gradients; zeroGrad() clears them. Layers never loop over numbers: they call kernels.
//
// Initialization happens once. A layer draws provisional parameters when it is built (from its own seed, so it
// works on its own); the first network that takes it draws them again from the network's seed and in its
// dtype (initializeOnce), so a seed gives the same network whatever the layers' seeds. From then on the
// parameters are kept: a second network that takes the layer shares them, and a layer whose parameters were
// trained or set on its own before (they no longer match what it drew) keeps them too.
import type { Random } from '../random';
import type { DType } from '../tensor';
import { Tensor } from '../tensor';

/** Everything needed to rebuild a layer (stored as JSON in saved models). */
export interface LayerConfig {
  type: string;
  [option: string]: unknown;
}

/** What a layer draws its parameters from: the network's generator and dtype. */
export interface InitContext {
  rng: Random;
  dtype: DType;
}

/**
 * The base of every layer: forward(x) caches what backward needs, backward(dout) returns dx and accumulates (+=) the
 * parameter gradients, zeroGrad() clears them.
 */
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
  /** Whether a network has initialized this layer (or taken it as it was). */
  private initializedByNetwork = false;
  /** A fingerprint of the parameters and buffers as the layer last drew them (setParams), if it drew any. */
  private drawnFingerprint: number | null = null;

  /** The output for input x, caching what backward() needs (in training mode). */
  abstract forward(x: Tensor): Tensor;
  /** The gradient of the input for dout, the gradient of the last forward()'s output; adds (+=) the parameter gradients into grads. */
  abstract backward(dout: Tensor): Tensor;

  /** (Re)creates parameters from the given generator and dtype. Layers without parameters keep the default. */
  initialize(_ctx: InitContext): void {}

  /**
   * Whether the parameters are in use, so that nothing may draw them again implicitly: a network has taken the
   * layer, or they were trained or set since the layer drew them.
   */
  get parametersInUse(): boolean {
    if (this.initializedByNetwork) return true;
    return this.drawnFingerprint !== null && this.drawnFingerprint !== fingerprint([...this.params, ...this.buffers]);
  }

  /**
   * What a network calls when it takes the layer: initialize(ctx) unless the parameters are already in use — a
   * network initialized them before, or they were trained or set since the layer drew them. Returns whether it
   * initialized; a layer it did not initialize keeps its parameters (and their dtype) as they are.
   */
  initializeOnce(ctx: InitContext): boolean {
    if (this.initializedByNetwork) return false;
    const untouched = !this.parametersInUse;
    this.initializedByNetwork = true;  // first, so that setParams skips the fingerprint
    this.drawnFingerprint = null;
    if (untouched) {
      try {
        this.initialize(ctx);
      } catch (e) {
        this.initializedByNetwork = false;
        throw e;
      }
    }
    return untouched;
  }

  /** The output shape for an input shape (batch dimension included), for summary() and shape checks. */
  abstract outputShape(inputShape: readonly number[]): number[];

  /** Constructor arguments as JSON, for save/load. */
  abstract config(): LayerConfig;

  /** Sets every parameter gradient to zero. */
  zeroGrad(): void {
    for (const g of this.grads) g.data.fill(0);
  }

  /**
   * Sets parameters and gradients together, gradients zeroed. Layers with buffers set them first: until a
   * network takes the layer, the values here (and in the buffers) count as drawn, not yet trained.
   */
  protected setParams(names: string[], params: Tensor[]): void {
    this.paramNames = names;
    this.params = params;
    this.grads = params.map((p) => Tensor.zeros(p.shape, p.dtype));
    if (!this.initializedByNetwork) this.drawnFingerprint = fingerprint([...params, ...this.buffers]);
  }

  /** The layer's type name, as in its config ('Dense', 'ReLU', ...). */
  get name(): string {
    return this.config().type;
  }
}

/**
 * A 53-bit hash of the tensors' bits (two multiplicative 32-bit lanes over the words): tells whether the
 * parameters changed since they were drawn, without keeping a copy of them.
 */
function fingerprint(tensors: Tensor[]): number {
  let h1 = 0x2545f491, h2 = 0x9e3779b9;
  for (const t of tensors) {
    const d = t.data;
    if (d.byteLength === 0) continue;
    const words = new Int32Array(d.buffer, d.byteOffset, d.byteLength >> 2);
    h1 = Math.imul(h1 ^ words.length, 0x85ebca6b);
    for (let i = 0; i < words.length; i++) {
      const w = words[i];
      h1 = Math.imul(h1 ^ w, 0x9e3779b1);
      h1 ^= h1 >>> 15;
      h2 = Math.imul((h2 + w) | 0, 0xc2b2ae35);
      h2 ^= h2 >>> 13;
    }
  }
  return (h1 >>> 0) * 2 ** 21 + (h2 >>> 11);
}
