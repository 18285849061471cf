// The pure-TypeScript backend: the readable reference, and the fallback when the addon cannot load. Each kernel
// is the plain function of its file (trusting its arguments, like the C++ kernels) behind the spec's checks.
import type { Backend, Kernels } from '../backend';
import { kernelNames } from '../spec';
import { checker } from './checks';
import { gemm } from './gemm';
import {
  activationBackward, activationForward, biasAdd, biasBackward, sgd, softmax, softmaxCrossEntropyIndex,
  softmaxCrossEntropyTarget,
} from './elementwise';
import { add, argmaxRows, axpy, div, mul, power, powerBackward, scale, softmaxBackward, sumSquares } from './ops';
import { bceLogits, bceProbs, crossEntropyProbs, mse } from './loss';
import { adagrad, adam, rmsprop, sgdMomentum } from './optim';
import { conv2dBackwardData, conv2dBackwardFilter, conv2dForward } from './conv';
import { avgPool2dBackward, avgPool2dForward, maxPool2dBackward, maxPool2dForward } from './pool';
import { batchNormBackward, batchNormForward } from './batchnorm';

/** The kernels as written, unchecked (the type makes it list every kernel of the spec, and only those). */
const kernels: Kernels = {
  gemm,
  activationForward, activationBackward, biasAdd, biasBackward,
  softmax, softmaxBackward,
  mul, add, div, power, powerBackward, scale, axpy, sumSquares, argmaxRows,
  softmaxCrossEntropyIndex, softmaxCrossEntropyTarget, bceLogits, bceProbs, mse, crossEntropyProbs,
  sgd, sgdMomentum, adagrad, rmsprop, adam,
  conv2dForward, conv2dBackwardData, conv2dBackwardFilter,
  maxPool2dForward, maxPool2dBackward, avgPool2dForward, avgPool2dBackward,
  batchNormForward, batchNormBackward,
};

function checked(): Kernels {
  const out: Record<string, (...args: unknown[]) => unknown> = {};
  for (const name of kernelNames) {
    const check = checker(name);
    const kernel = kernels[name] as (...args: unknown[]) => unknown;
    out[name] = (...args: unknown[]) => {
      check(args);
      return kernel(...args);
    };
  }
  return out as unknown as Kernels;
}

export const tsBackend: Backend = { name: 'ts', ...checked() };
