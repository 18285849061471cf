// Leaky ReLU: y = x for x > 0, slope·x otherwise.
import { describeValue } from '../options';
import type { LayerConfig } from './layer';
import { Activation } from './activation';
import { registerLayer } from './registry';

/** Leaky ReLU: y = x for x > 0, slope·x otherwise (default slope 0.01). */
export class LeakyReLU extends Activation {
  constructor(slope = 0.01) {
    if (typeof slope !== 'number' || !Number.isFinite(slope)) throw new RangeError(`LeakyReLU slope must be a finite number, got ${describeValue(slope)}`);
    super('leakyRelu', slope);
  }

  config(): LayerConfig {
    return { type: 'LeakyReLU', slope: this.slope };
  }
}

registerLayer('LeakyReLU', (c) => new LeakyReLU(c.slope as number | undefined));
