// Logistic sigmoid: y = 1 / (1 + e^-x), computed without overflow.
import type { LayerConfig } from './layer';
import { Activation } from './activation';
import { registerLayer } from './registry';
import { noArguments } from '../validate';

/** Logistic sigmoid: y = 1 / (1 + e^−x). */
export class Sigmoid extends Activation {
  constructor(...args: never[]) {
    super('sigmoid');
    noArguments(args, 'Sigmoid', 'it has no options');
  }

  config(): LayerConfig {
    return { type: 'Sigmoid' };
  }
}

registerLayer('Sigmoid', () => new Sigmoid());
