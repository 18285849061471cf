// A Module seen as a Layer: what lets a Module sit in a Sequential (and so in fit, evaluate, predict, save and
// load) next to built-in layers. forward() runs the Module's forward with recording on, from a fresh leaf holding
// the input; backward(dout) runs autograd from the output and hands the Layer contract back: dx, and the
// parameter gradients added (+=) into grads — the tape accumulates straight into them, so nothing is copied (and in
// a training loop overwrites them, backwardTrain, so that nothing zeroes them first).
import { Tensor, formatShape } from '../tensor';
import { Layer, type InitContext, type LayerConfig } from '../layers/layer';
import { backward as tapeBackward, enableGrad, isGradEnabled, noGrad } from './tape';
import { markStale, takeStale } from './grads';
import type { TrainBackward } from '../layers/buffers';
import { type Module, inEvalMode } from './module';

/** A Module as a Layer (its parameters and buffers under the Module's names, 'fc.weight'); see Module.asLayer(). */
export class ModuleLayer extends Layer implements TrainBackward {
  /** The input leaf and the output of the last forward that recorded (backward differentiates them). */
  private input: Tensor | null = null;
  private output: Tensor | null = null;
  /**
   * Whether the next forward's input needs a gradient: a network's training loop sets false, for that one forward,
   * on its first layer with parameters, whose dx nothing uses (as built-in layers skip theirs).
   */
  inputGradNeeded = true;
  private zeroInput: Tensor | null = null;
  private held = false;
  /** Output shapes by input sample shape, found by running the Module once on a batch of one. */
  private readonly shapes = new Map<string, number[]>();

  constructor(readonly module: Module) {
    super();
    // the layer's mode is the module's: a network switching the layer (train, eval, predict) switches the module
    Object.defineProperty(this, 'training', {
      get: () => this.module.training,
      set: (mode: boolean) => { if (this.module.training !== mode) this.module.train(mode); },
      enumerable: true, configurable: true,
    });
    this.sync();
  }

  /** The Module's parameters and buffers now (a Module may replace them after it was wrapped). */
  private sync(): void {
    const named = this.module.namedParameters();
    const same = named.length === this.params.length && named.every(([n, p], i) => p === this.params[i] && n === this.paramNames[i]);
    if (!same) {
      this.paramNames = named.map(([n]) => n);
      this.params = named.map(([, p]) => p);
      this.grads = this.params.map((p) => Tensor.zeros(p.shape, p.dtype));
    }
    const buffers = this.module.namedBuffers();
    this.bufferNames = buffers.map(([n]) => n);
    this.buffers = buffers.map(([, b]) => b);
  }

  /** A Module makes its own parameters: a network takes them as they are (its dtype must match theirs). */
  override get parametersInUse(): boolean {
    return true;
  }

  override initialize(_ctx: InitContext): void {}

  /**
   * While a network's fit() runs, the parameters are those found when it began (the ones its optimizer updates),
   * not looked for again at every forward.
   */
  holdParameters(on: boolean): void {
    if (on) this.sync();
    this.held = on;
  }

  forward(x: Tensor): Tensor {
    if (!this.held) this.sync();
    if (!isGradEnabled()) {
      this.input = this.output = null;
      return this.module.call(x);
    }
    const input = x.detach().requiresGrad_(this.inputGradNeeded);
    this.inputGradNeeded = true;
    const y = enableGrad(() => this.module.call(input));
    if (!(y instanceof Tensor)) throw new TypeError(`${this.name}: forward() must return a Tensor, got ${typeof y}`);
    this.input = input;
    this.output = y;
    this.shapes.set(input.shape.slice(1).join(','), [1, ...y.shape.slice(1)]);
    return y;
  }

  backward(dout: Tensor): Tensor {
    return this.backwardTrain(dout, true, true) as Tensor;
  }

  /**
   * backward() for the training loop (TrainBackward): with accumulate false the parameter gradients are
   * overwritten, not added to, so that the loop need not zero them first (the tape writes the first gradient into
   * each with beta 0; one the graph does not reach is zeroed); inputGrad false returns null instead of dx.
   */
  backwardTrain(dout: Tensor, accumulate: boolean, inputGrad: boolean): Tensor | null {
    const { input, output } = this;
    if (input === null || output === null) {
      throw new Error(`${this.name}: backward() needs a forward() first, with recording on (not inside noGrad)`);
    }
    if (!accumulate) for (const g of this.grads) markStale(g);
    // the tape adds into .grad in place: point each parameter's .grad at this layer's gradient for the pass
    const saved = this.params.map((p) => p.grad);
    this.params.forEach((p, i) => { p.grad = this.grads[i]; });
    input.grad = null;
    try {
      if (output.requiresGrad) tapeBackward(output, dout.dtype === output.dtype ? dout : dout.astype(output.dtype));
    } finally {
      this.params.forEach((p, i) => { p.grad = saved[i]; });
      for (const g of this.grads) if (takeStale(g)) g.data.fill(0);
    }
    if (!inputGrad) return null;
    return input.grad ?? this.zerosLike(input);
  }

  /** dx when the input needed no gradient (nothing reads it then): one zero tensor kept per shape, not one per step. */
  private zerosLike(x: Tensor): Tensor {
    const z = this.zeroInput;
    if (z !== null && z.dtype === x.dtype && z.shape.length === x.shape.length && z.shape.every((d, i) => d === x.shape[i])) {
      z.data.fill(0);
      return z;
    }
    this.zeroInput = Tensor.zeros(x.shape, x.dtype);
    return this.zeroInput;
  }

  /**
   * The Module's own outputShape(inputShape) if it has one; else the shape its forward gave for samples of this
   * shape, found (once per sample shape) by running it on a batch of one zeros, in eval mode, recording nothing.
   */
  outputShape(inputShape: readonly number[]): number[] {
    const own = (this.module as { outputShape?: (s: readonly number[]) => number[] }).outputShape;
    if (typeof own === 'function') return own.call(this.module, inputShape);
    const key = inputShape.slice(1).join(',');
    let sample = this.shapes.get(key);
    if (sample === undefined) {
      const dtype = this.params[0]?.dtype ?? 'float32';
      const y = inEvalMode(this.module, () => noGrad(() => this.module.call(Tensor.zeros([1, ...inputShape.slice(1)], dtype))));
      sample = [1, ...y.shape.slice(1)];
      this.shapes.set(key, sample);
    }
    if (inputShape.length < 1) throw new RangeError(`${this.name}: input shape ${formatShape(inputShape)} has no batch axis`);
    return [inputShape[0], ...sample.slice(1)];
  }

  config(): LayerConfig {
    return this.module.config();
  }
}
