// The elementwise activations (ReLU, LeakyReLU, Sigmoid, Tanh, Step) share one shape: y = act(x) through the
// activation kernels; backward reads x (ReLU, LeakyReLU) or y (Sigmoid, Tanh); Step's gradient is 0.
import type { ActivationKind } from '../backend/backend';
import { getBackend } from '../backend/index';
import { Tensor, checkAttached, formatShape } from '../tensor';
import { ReusableTensor } from './buffers';
import { Layer } from './layer';

/** The base of the elementwise activations: y = act(x), no parameters. */
export abstract class Activation extends Layer {
  private x: Tensor | null = null;
  private y: Tensor | null = null;
  private readonly out = new ReusableTensor();
  private readonly dxBuf = new ReusableTensor();

  protected constructor(private readonly kind: ActivationKind, protected readonly slope = 0) {
    super();
  }

  /** The activation kernel's kind and slope, for the inference plan, which calls the kernel itself. */
  get activation(): { kind: ActivationKind; slope: number } {
    return { kind: this.kind, slope: this.slope };
  }

  forward(x: Tensor): Tensor {
    if (!(x instanceof Tensor)) throw new TypeError(`${this.name}: input must be a Tensor`);
    checkAttached(x, `${this.name}: input`);
    const y = this.out.take(x.shape, x.dtype, this.reuseBuffers);
    getBackend().activationForward(this.kind, x.size, x.data, y.data, this.slope);
    this.x = x;
    this.y = y;
    return y;
  }

  backward(dout: Tensor): Tensor {
    const x = this.x, y = this.y;
    if (!x || !y) throw new Error(`${this.name}: backward() called before forward()`);
    if (dout.size !== x.size || dout.dtype !== x.dtype) {
      throw new RangeError(`${this.name}: dout must be ${x.dtype} of shape ${formatShape(x.shape)}, got ${dout.dtype} ${formatShape(dout.shape)}`);
    }
    const dx = this.dxBuf.take(x.shape, x.dtype, this.reuseBuffers);
    getBackend().activationBackward(this.kind, x.size, x.data, y.data, dout.data, dx.data, this.slope);
    return dx;
  }

  outputShape(inputShape: readonly number[]): number[] {
    return [...inputShape];
  }
}
