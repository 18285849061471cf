// Hyperbolic tangent.
import type { LayerConfig } from './layer';
import { Activation } from './activation';
import { registerLayer } from './registry';
import { noArguments } from '../validate';

/** Hyperbolic tangent: y = tanh(x). */
export class Tanh extends Activation {
  constructor(...args: never[]) {
    super('tanh');
    noArguments(args, 'Tanh', 'it has no options');
  }

  config(): LayerConfig {
    return { type: 'Tanh' };
  }
}

registerLayer('Tanh', () => new Tanh());
