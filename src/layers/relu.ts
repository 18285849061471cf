// Rectified linear unit: y = max(x, 0).
import type { LayerConfig } from './layer';
import { Activation } from './activation';
import { registerLayer } from './registry';

/** Rectified linear unit: y = max(x, 0). */
export class ReLU extends Activation {
  constructor() {
    super('relu');
  }

  config(): LayerConfig {
    return { type: 'ReLU' };
  }
}

registerLayer('ReLU', () => new ReLU());
