// nodenn — the public API (re-exports only).
export { Tensor, tidy, keep, type DType, type FloatArray, type Shape, type NestedArray, type TensorOptions } from './tensor';
export * as ops from './ops/index';
export {
  tensor, zeros, ones, full, arange, linspace, eye, rand, randn, randint, zerosLike, onesLike, fullLike, manualSeed,
  where, concat, stack, split, type CreationOptions, type RandomOptions, type TensorLike,
} from './ops/index';
export {
  getBackend, setBackend, backendInfo, setThreads, setIsa, nativeAvailable,
  type Backend, type BackendInfo, type BackendName, type Isa, type ActivationKind, type BinaryOp, type UnaryOp,
  type Kernels, type ReduceOpKind, type ArgReduceOpKind, type AsyncKernels, type AsyncKernelName, type PreparedPlan,
} from './backend/index';
export { VERSION as version } from './version';
export * as gradcheck from './gradcheck';
export { noGrad, enableGrad, isGradEnabled, grad, type Node as GradNode } from './autograd/tape';
export { Module } from './autograd/module';
export { ModuleLayer } from './autograd/module-layer';
export { Random } from './random';
export * from './layers/index';
export { initWeight, initBias, type InitKind, type InitSpec } from './init';
export * as losses from './losses';
export type { LossResult, LossName, LossFunction, MseOptions, MseReduction, CrossEntropyOptions, SoftmaxCrossEntropyOptions } from './losses';
export {
  Optimizer, SGD, AdaGrad, RMSProp, Adam, AdamW, clipGradNorm, schedules, stepDecay, exponentialDecay, cosineDecay,
  warmupCosine, oneCycle, optimizerFromName, OPTIMIZER_NAMES,
  type OptimizerOptions, type SGDOptions, type AdamOptions, type LrSchedule, type SchedulePosition, type ParamRef,
  type ParamState, type OptimizerName,
} from './optimizers';
export {
  Sequential, FitAbortedError, type SequentialOptions, type SequentialConfig, type FitOptions, type History,
  type NamedParameter, type BatchInfo, type EpochInfo, type EvaluateOptions, type EvaluateResult, type TrainOptions,
  type CompileOptions, type SaveOptions, type Targets, type Input,
  type StateDictLayout, type StateDictOptions, type LoadStateDictOptions, type LoadOptions,
} from './network';
export {
  EarlyStopping, ModelCheckpoint, ReduceLROnPlateau,
  type Callback, type FitContext, type TrainBeginInfo, type EpochBeginInfo, type TrainEndInfo, type Direction,
  type EarlyStoppingOptions, type ModelCheckpointOptions, type ReduceLROnPlateauOptions,
} from './callbacks';
export { ProgressBar, type ProgressBarOptions, type ProgressSink } from './progress';
export type { MetricSpec } from './fit-metrics';
export { type ChainStep, type ConvStep, InferencePlan, type NormStep, type PlanStep, type Squash } from './inference/plan';
export * as data from './data/index';
// model files, plots and metrics
export { saveSafetensors, loadSafetensors, SafetensorsError, type SafetensorsFile, type SafetensorsDType } from './io/safetensors';
export { ModelFormatError, type ModelFormat } from './io/errors';
export * as plot from './plot';
export * as io from './io/index';
export { loadOnnx } from './io/onnx/import';
export { loadTfjs } from './io/tfjs';
export * as metrics from './metrics';
export type { Metric, MetricName, MetricKind, MetricOptions } from './metrics';
