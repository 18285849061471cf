// Rectified linear unit: y = max(x, 0).
import type { LayerConfig } from './layer';
import { Activation } from './activation';
import { registerLayer } from './registry';
import { noArguments } from '../validate';

/** Rectified linear unit: y = max(x, 0). */
export class ReLU extends Activation {
  constructor(...args: never[]) {
    super('relu');
    noArguments(args, 'ReLU', 'it has no options');
  }

  config(): LayerConfig {
    return { type: 'ReLU' };
  }
}

registerLayer('ReLU', () => new ReLU());
