// nodenn — the public API (re-exports only).
export { Tensor, type DType, type FloatArray, type Shape } from './tensor';
export {
  getBackend, setBackend, backendInfo, setThreads, setIsa, nativeAvailable,
  type Backend, type BackendInfo, type BackendName, type Isa, type ActivationKind, type Kernels,
} from './backend/index';
export { VERSION as version } from './version';
export * as gradcheck from './gradcheck';
export { Layer, type LayerConfig, type InitContext } from './layers/layer';
export { registerLayer, layerFromConfig, registeredLayers, type LayerFactory } from './layers/registry';
export { Random } from './random';
