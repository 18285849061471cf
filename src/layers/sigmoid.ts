// Logistic sigmoid: y = 1 / (1 + e^-x), computed without overflow.
import type { LayerConfig } from './layer';
import { Activation } from './activation';
import { registerLayer } from './registry';

/** Logistic sigmoid: y = 1 / (1 + e^−x). */
export class Sigmoid extends Activation {
  constructor() {
    super('sigmoid');
  }

  config(): LayerConfig {
    return { type: 'Sigmoid' };
  }
}

registerLayer('Sigmoid', () => new Sigmoid());
