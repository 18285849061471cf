// The pure-TypeScript backend: the readable reference, and the fallback when the addon cannot load.
import type { Backend } from '../backend';
import { gemm } from './gemm';
import {
  activationBackward, activationForward, biasAdd, biasBackward, sgd, softmax, softmaxCrossEntropyIndex,
  softmaxCrossEntropyTarget,
} from './elementwise';
// net kernels
import { add, argmaxRows, axpy, div, mul, power, powerBackward, scale, softmaxBackward, sumSquares } from './ops';
import { bceLogits, bceProbs, crossEntropyProbs, mse } from './loss';
import { adagrad, adam, rmsprop, sgdMomentum } from './optim';
// conv kernels
import { conv2dBackwardData, conv2dBackwardFilter, conv2dForward } from './conv';
import { avgPool2dBackward, avgPool2dForward, maxPool2dBackward, maxPool2dForward } from './pool';
import { batchNormBackward, batchNormForward } from './batchnorm';

export const tsBackend: Backend = {
  name: 'ts',
  gemm,
  activationForward,
  activationBackward,
  biasAdd,
  biasBackward,
  softmax,
  softmaxCrossEntropyIndex,
  softmaxCrossEntropyTarget,
  sgd,
  // net kernels
  mul, add, div, power, powerBackward, scale, axpy, sumSquares, argmaxRows, softmaxBackward,
  bceLogits, bceProbs, mse, crossEntropyProbs,
  sgdMomentum, adagrad, rmsprop, adam,
  // conv kernels
  conv2dForward,
  conv2dBackwardData,
  conv2dBackwardFilter,
  maxPool2dForward,
  maxPool2dBackward,
  avgPool2dForward,
  avgPool2dBackward,
  batchNormForward,
  batchNormBackward,
};
