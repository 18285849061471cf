// Leaky ReLU: y = x for x > 0, slope·x otherwise.
import { finiteNumber } from '../validate';
import type { LayerConfig } from './layer';
import { Activation } from './activation';
import { registerLayer } from './registry';

/** Leaky ReLU: y = x for x > 0, slope·x otherwise (default slope 0.01). */
export class LeakyReLU extends Activation {
  constructor(slope = 0.01) {
    super('leakyRelu', finiteNumber(slope, 'LeakyReLU slope'));
  }

  config(): LayerConfig {
    return { type: 'LeakyReLU', slope: this.slope };
  }
}

registerLayer('LeakyReLU', (c) => new LeakyReLU(c.slope as number | undefined));
