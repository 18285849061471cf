// The step function of the perceptron: y = 1 for x > 0, 0 otherwise (NaN passes through). Its gradient is 0
// everywhere, so no error flows back through it: use it for perceptrons and plots, Sigmoid or ReLU to train.
import type { LayerConfig } from './layer';
import { Activation } from './activation';
import { registerLayer } from './registry';
import { noArguments } from '../validate';

/** The perceptron's step function: y = 1 for x > 0, else 0; its gradient is 0, so it does not train. */
export class Step extends Activation {
  constructor(...args: never[]) {
    super('step');
    noArguments(args, 'Step', 'it has no options');
  }

  config(): LayerConfig {
    return { type: 'Step' };
  }
}

registerLayer('Step', () => new Step());
