// Rectified linear unit: y = max(x, 0).
import type { LayerConfig } from './layer';
import { Activation } from './activation';
import { registerLayer } from './registry';

export class ReLU extends Activation {
  constructor() {
    super('relu');
  }

  config(): LayerConfig {
    return { type: 'ReLU' };
  }
}

registerLayer('ReLU', () => new ReLU());
