// Hyperbolic tangent.
import type { LayerConfig } from './layer';
import { Activation } from './activation';
import { registerLayer } from './registry';

/** Hyperbolic tangent: y = tanh(x). */
export class Tanh extends Activation {
  constructor() {
    super('tanh');
  }

  config(): LayerConfig {
    return { type: 'Tanh' };
  }
}

registerLayer('Tanh', () => new Tanh());
