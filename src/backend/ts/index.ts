// The pure-TypeScript backend: the readable reference, and the fallback when the addon cannot load.
import type { Backend } from '../backend';
import { gemm } from './gemm';
import {
  activationBackward, activationForward, biasAdd, biasBackward, sgd, softmax, softmaxCrossEntropyIndex,
  softmaxCrossEntropyTarget,
} from './elementwise';

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
};
