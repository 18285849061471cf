// The layer registry: every layer type registers how to rebuild itself from its config() JSON, so a saved
// model's architecture can be turned back into layers (Sequential.fromConfig, model loading). Layers written
// elsewhere (Conv2D, BatchNorm, users' own) register the same way:
//   registerLayer('Dense', (c) => new Dense(c.inFeatures as number, c.outFeatures as number, c));
import type { Layer, LayerConfig } from './layer';

export type LayerFactory = (config: LayerConfig) => Layer;

const factories = new Map<string, LayerFactory>();

/** Registers the factory of a layer type; registering a type twice replaces the earlier factory. */
export function registerLayer(type: string, fromConfig: LayerFactory): void {
  if (typeof type !== 'string' || type.length === 0) throw new TypeError('type must be a non-empty string');
  if (typeof fromConfig !== 'function') throw new TypeError(`fromConfig for '${type}' must be a function`);
  factories.set(type, fromConfig);
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
  const layer = factory(config);
  if (layer === null || typeof layer !== 'object' || typeof layer.forward !== 'function') {
    throw new TypeError(`the factory of '${config.type}' did not return a layer`);
  }
  return layer;
}
