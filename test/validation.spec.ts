// The public API's argument checks (src/validate.ts): every option is checked where it is given, with the house
// message `<name> must be <expected>, got <value>` (a TypeError for a value of the wrong type, else a
// RangeError), and the optimizer and batch-norm hyper-parameters accept exactly what their kernels accept.
import { describe, expect, it } from 'vitest';
import { Adam } from '../src/optimizers';

/** The error fn throws: its class and its exact message. */
function thrown(fn: () => unknown): [string, string] {
  try {
    fn();
  } catch (e) {
    return [(e as Error).constructor.name, (e as Error).message];
  }
  return ['nothing', ''];
}

describe('optimizers check their options at construction', () => {
  it('Adam eps outside the kernel range (0, 1] throws at construction', () => {
    expect(thrown(() => new Adam({ eps: 2 }))).toEqual(['RangeError', 'eps must be in (0, 1], got 2']);
  });
});
