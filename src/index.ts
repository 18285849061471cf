// nodenn — the public API (re-exports only).
export { Tensor, type DType, type FloatArray, type Shape } from './tensor';
export {
  getBackend, setBackend, backendInfo, setThreads, setIsa, nativeAvailable,
  type Backend, type BackendInfo, type BackendName, type Isa, type ActivationKind, type Kernels,
} from './backend/index';
export { VERSION as version } from './version';
// conv layers
export { Conv2D, type Conv2DOptions, type ConvInit } from './layers/conv2d';
export { Conv1D, type Conv1DOptions } from './layers/conv1d';
export { MaxPool2D, Pool2D, type PoolOptions } from './layers/max_pool2d';
export { AvgPool2D } from './layers/avg_pool2d';
export { GlobalAvgPool2D } from './layers/global_avg_pool2d';
export { BatchNorm, type BatchNormOptions } from './layers/batch_norm';
export { BatchNorm1D } from './layers/batch_norm1d';
export { BatchNorm2D } from './layers/batch_norm2d';
