// nodenn — the public API (re-exports only).
export { Tensor, type DType, type FloatArray, type Shape } from './tensor';
export {
  getBackend, setBackend, backendInfo, setThreads, setIsa, nativeAvailable,
  type Backend, type BackendInfo, type BackendName, type Isa, type ActivationKind, type Kernels,
} from './backend/index';
export { VERSION as version } from './version';
// model files and data (issue 5)
export { saveSafetensors, loadSafetensors, SafetensorsError, type SafetensorsFile, type SafetensorsDType } from './io/safetensors';
export * as plot from './plot';
