// The layer registry: every layer type registers how to rebuild itself from its config() JSON, so a saved
// model's architecture can be turned back into layers (Sequential.fromConfig, model loading). Layers written
// elsewhere (Conv2D, BatchNorm, users' own) register the same way:
//   registerLayer('Dense', (c) => new Dense(c.inFeatures as number, c.outFeatures as number, c));
// A layer type with parameters should also say which parameter and buffer shapes a config implies, computed
// without allocating anything: loading a model file checks the file's tensors against them before building a
// single layer, so a small file cannot make the loader allocate (and randomly initialize) gigabytes.
import type { Layer, LayerConfig } from './layer';
import type { Module } from '../autograd/module';

/** Builds a layer (or a Module, taken as module.asLayer()) from its config (for fromConfig() and model loading). */
export type LayerFactory = (config: LayerConfig) => Layer | Module;
/**
 * The shapes of the parameters and buffers a layer built from `config` has, by name ('weight', 'bias',
 * 'running_mean', ...); throws as the factory would on a bad config. Must not allocate them.
 */
export type LayerShapes = (config: LayerConfig) => Record<string, number[]>;

/** What registerLayer() may know of a layer type besides its factory. */
export interface LayerRegistration {
  /** Parameter and buffer shapes of a config, without building the layer. */
  shapes?: LayerShapes;
}

const factories = new Map<string, LayerFactory>();
const shapeFunctions = new Map<string, LayerShapes>();

/** Registers the factory of a layer type; registering a type twice replaces the earlier registration. */
export function registerLayer(type: string, fromConfig: LayerFactory, opts: LayerRegistration = {}): void {
  if (typeof type !== 'string' || type.length === 0) throw new TypeError('type must be a non-empty string');
  if (typeof fromConfig !== 'function') throw new TypeError(`fromConfig for '${type}' must be a function`);
  if (opts === null || typeof opts !== 'object') throw new TypeError(`options for '${type}' must be an object`);
  if (opts.shapes !== undefined && typeof opts.shapes !== 'function') throw new TypeError(`shapes for '${type}' must be a function`);
  factories.set(type, fromConfig);
  if (opts.shapes) shapeFunctions.set(type, opts.shapes);
  else shapeFunctions.delete(type);
}

/**
 * The parameter and buffer shapes a layer config implies, without building the layer; undefined when its type
 * registered no shape function (or is unknown).
 */
export function layerShapes(config: LayerConfig): Record<string, number[]> | undefined {
  if (config === null || typeof config !== 'object' || typeof config.type !== 'string') return undefined;
  return shapeFunctions.get(config.type)?.(config);
}

/** The layer types that can be rebuilt from a config. */
export function registeredLayers(): string[] {
  return [...factories.keys()].sort();
}

/** Rebuilds a layer from its config() JSON; throws naming the known types if the type is not registered. */
export function layerFromConfig(config: LayerConfig): Layer {
  if (config === null || typeof config !== 'object' || typeof config.type !== 'string') {
    throw new TypeError(`a layer config must be an object with a string 'type', got ${JSON.stringify(config)}`);
  }
  const factory = factories.get(config.type);
  if (!factory) {
    throw new RangeError(`unknown layer type '${config.type}'; registered types: ${registeredLayers().join(', ') || '(none)'}`);
  }
  const made = factory(config);
  const layer = made !== null && typeof made === 'object' && typeof (made as Module).asLayer === 'function'
    ? (made as Module).asLayer() : made as Layer;
  if (layer === null || typeof layer !== 'object' || typeof layer.forward !== 'function') {
    throw new TypeError(`the factory of '${config.type}' did not return a layer`);
  }
  return layer;
}
