// Flatten: (N, ...) -> (N, prod(...)); a view, no copy. Backward gives dout the input's shape back.
import { Tensor, checkAttached, sizeOf } from '../tensor';
import { Layer, type LayerConfig } from './layer';
import { registerLayer } from './registry';
import { noArguments } from '../validate';

/** Flattens (N, ...) to (N, product of the rest), without a copy. */
export class Flatten extends Layer {
  private inputShape: readonly number[] | null = null;

  constructor(...args: never[]) {
    super();
    noArguments(args, 'Flatten', 'it flattens every axis after the first');
  }

  forward(x: Tensor): Tensor {
    if (!(x instanceof Tensor) || x.ndim < 1) throw new TypeError('Flatten: input must be a Tensor (N, ...)');
    checkAttached(x, 'Flatten: input');
    this.inputShape = x.shape;
    return x.reshape([x.shape[0], sizeOf(x.shape.slice(1))]);
  }

  backward(dout: Tensor): Tensor {
    if (!this.inputShape) throw new Error('Flatten: backward() called before forward()');
    return dout.reshape(this.inputShape);
  }

  outputShape(inputShape: readonly number[]): number[] {
    return [inputShape[0], sizeOf(inputShape.slice(1))];
  }

  config(): LayerConfig {
    return { type: 'Flatten' };
  }
}

registerLayer('Flatten', () => new Flatten());
