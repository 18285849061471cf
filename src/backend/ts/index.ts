// The pure-TypeScript backend: the readable reference, and the fallback when the addon cannot load. Each kernel
// is the plain function of the file the spec names (trusting its arguments, like the C++ kernels) behind the
// spec's checks.
import type { Backend, Kernels } from '../backend';
import { type KernelName, type Source, kernelNames, kernels as spec } from '../spec';
import { checker } from './checks';
import * as augment from './augment';
import * as batchnorm from './batchnorm';
import * as broadcast from './broadcast';
import * as conv from './conv';
import * as elementwise from './elementwise';
import * as gemm from './gemm';
import * as linalg from './linalg';
import * as loss from './loss';
import * as ops from './ops';
import * as optim from './optim';
import * as plan from './plan';
import * as pool from './pool';
import * as reduce from './reduce';
import * as shape from './shape';
import * as unary from './unary';

const sources = {
  augment, batchnorm, broadcast, conv, elementwise, gemm, loss, ops, optim, pool, unary, reduce, linalg, shape, plan,
} satisfies Record<Source, object>;

/** Each kernel as its source file exports it: the type fails to compile if a file lacks one, or has it wrong. */
type Exports<S extends Source> = (typeof sources)[S];
type Found = {
  [K in KernelName]: K extends keyof Exports<(typeof spec)[K]['source']> ? Exports<(typeof spec)[K]['source']>[K]
    : `${K} is not exported by src/backend/ts/${(typeof spec)[K]['source']}.ts`;
};
const found: Kernels = Object.fromEntries(kernelNames.map((name) => {
  const file: Record<string, unknown> = sources[spec[name].source];
  return [name, file[name]];
})) as Found;

function checked(): Kernels {
  const out: Record<string, (...args: unknown[]) => unknown> = {};
  for (const name of kernelNames) {
    const check = checker(name);
    // eslint-disable-next-line @typescript-eslint/unbound-method -- the TS kernels are plain functions
    const kernel = found[name] as (...args: unknown[]) => unknown;
    out[name] = (...args: unknown[]) => {
      check(args);
      return kernel(...args);
    };
  }
  return out as unknown as Kernels;
}

export const tsBackend: Backend = { name: 'ts', ...checked() };
