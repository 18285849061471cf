// Model files: the weights as float32 safetensors under PyTorch-style names ('0.weight', '0.bias', ...) and the
// architecture (Sequential.toConfig()) as JSON in the metadata, so a file is enough to rebuild the network.
// Only data is read back: the architecture is plain JSON turned into layers through the layer registry.
import { Tensor } from '../tensor';
import { VERSION } from '../version';
import type { LayerConfig } from '../layers/layer';
// the index, so that every built-in layer is registered before a file is checked against the registry
import { layerShapes, registeredLayers } from '../layers/index';
import { readSafetensorsFile, saveSafetensors, SafetensorsError, type SafetensorsHeader } from './safetensors';

/** Metadata keys nodenn writes (other keys are the caller's, kept as given). */
export const MODEL_METADATA = {
  format: 'format',
  architecture: 'nodenn.architecture',
  version: 'nodenn.version',
  /** JSON: the shape of one sample, without the batch axis ([784], [1, 28, 28]). */
  inputShape: 'nodenn.input_shape',
  /** The name of the loss the network was trained or compiled with. */
  loss: 'nodenn.loss',
  /** JSON: an array of the class names, one per class. */
  classNames: 'nodenn.class_names',
  /** The data set the network was trained on ('mnist', 'fashion', or a name of the user's). */
  dataset: 'nodenn.dataset',
} as const;
export const MODEL_FORMAT = 'nodenn';

/** The save() option that writes each of nodenn's descriptive metadata keys. */
const KEY_OPTIONS: Partial<Record<string, string>> = {
  [MODEL_METADATA.inputShape]: 'inputShape', [MODEL_METADATA.classNames]: 'classNames', [MODEL_METADATA.dataset]: 'dataset',
};

/** What a model file says about its network beyond the architecture (each only where the file records it). */
export interface ModelInfo {
  inputShape?: number[];
  loss?: string;
  classNames?: string[];
  dataset?: string;
}

export interface ModelFile {
  /** The parsed architecture JSON (what Sequential.fromConfig takes). */
  config: unknown;
  tensors: Record<string, Tensor>;
  /** All metadata, nodenn's keys included. */
  metadata: Record<string, string>;
  /** nodenn's descriptive metadata, parsed and checked. */
  info: ModelInfo;
}

/**
 * Writes weights (as float32) and the architecture atomically; `metadata` adds string entries of the caller's, and
 * `info` nodenn's descriptive entries (input shape, loss, class names, data set).
 */
export async function saveModelFile(path: string, config: unknown, stateDict: Record<string, Tensor>,
  metadata: Record<string, string> = {}, info: ModelInfo = {}): Promise<void> {
  if (metadata === null || typeof metadata !== 'object') throw new TypeError('metadata must be an object of strings');
  for (const key of Object.values(MODEL_METADATA)) {
    if (key in metadata) {
      const option = KEY_OPTIONS[key];
      throw new TypeError(`metadata key '${key}' is reserved for nodenn${option ? `: use save(path, { ${option} })` : ''}`);
    }
  }
  const tensors: Record<string, Tensor> = {};
  for (const [name, t] of Object.entries(stateDict)) tensors[name] = t.dtype === 'float32' ? t : t.astype('float32');
  const described: Record<string, string> = {};
  if (info.inputShape) described[MODEL_METADATA.inputShape] = JSON.stringify(info.inputShape);
  if (info.loss !== undefined) described[MODEL_METADATA.loss] = info.loss;
  if (info.classNames) described[MODEL_METADATA.classNames] = JSON.stringify(info.classNames);
  if (info.dataset !== undefined) described[MODEL_METADATA.dataset] = info.dataset;
  await saveSafetensors(path, tensors, {
    ...metadata,
    ...described,
    [MODEL_METADATA.format]: MODEL_FORMAT,
    [MODEL_METADATA.version]: VERSION,
    [MODEL_METADATA.architecture]: JSON.stringify(config),
  });
}

/** nodenn's descriptive metadata of a file, each entry checked for its form (the network checks the values). */
function readModelInfo(metadata: Record<string, string>, file: string): ModelInfo {
  const info: ModelInfo = {};
  const json = (key: string): unknown => {
    try {
      return JSON.parse(metadata[key]);
    } catch {
      return undefined;
    }
  };
  if (metadata[MODEL_METADATA.inputShape] !== undefined) {
    const shape = json(MODEL_METADATA.inputShape);
    if (!Array.isArray(shape) || shape.length === 0 || !shape.every((d) => Number.isInteger(d) && d > 0)) {
      throw new SafetensorsError(`the '${MODEL_METADATA.inputShape}' metadata must be a JSON array of positive integers ` +
        `(the shape of one sample), got ${JSON.stringify(metadata[MODEL_METADATA.inputShape])}`, file);
    }
    info.inputShape = shape as number[];
  }
  if (metadata[MODEL_METADATA.classNames] !== undefined) {
    const names = json(MODEL_METADATA.classNames);
    if (!Array.isArray(names) || !names.every((n) => typeof n === 'string')) {
      throw new SafetensorsError(`the '${MODEL_METADATA.classNames}' metadata must be a JSON array of strings, got ` +
        `${JSON.stringify(metadata[MODEL_METADATA.classNames])}`, file);
    }
    info.classNames = names as string[];
  }
  if (metadata[MODEL_METADATA.loss] !== undefined) info.loss = metadata[MODEL_METADATA.loss];
  if (metadata[MODEL_METADATA.dataset] !== undefined) info.dataset = metadata[MODEL_METADATA.dataset];
  return info;
}

/** The architecture format Sequential.toConfig() writes, and the newest version of it this nodenn reads. */
export const ARCHITECTURE_FORMAT = 'nodenn.Sequential' as const;
export const ARCHITECTURE_VERSION = 1 as const;

function majorOf(version: string): number | null {
  const m = /^(\d+)\.\d+\.\d+/.exec(version);
  return m ? Number(m[1]) : null;
}

const shapeText = (s: readonly number[]) => `[${s.join(', ')}]`;

/** Format and version: the metadata save() writes, and the architecture's own. */
function checkFormat(metadata: Record<string, string>, config: Record<string, unknown>, file: string): void {
  const format = metadata[MODEL_METADATA.format];
  if (format !== MODEL_FORMAT) {
    throw new SafetensorsError(`the '${MODEL_METADATA.format}' metadata is ${JSON.stringify(format ?? null)}, not ` +
      `'${MODEL_FORMAT}': not a nodenn model file`, file);
  }
  const written = metadata[MODEL_METADATA.version];
  const major = written === undefined ? null : majorOf(written);
  if (major === null) {
    throw new SafetensorsError(`the '${MODEL_METADATA.version}' metadata must be a version like '${VERSION}', got ` +
      `${JSON.stringify(written ?? null)}`, file);
  }
  if (major > (majorOf(VERSION) as number)) {
    throw new SafetensorsError(`written by nodenn ${written}, a newer major version than this nodenn ${VERSION}; ` +
      `upgrade nodenn to load it`, file);
  }
  if (config.format !== ARCHITECTURE_FORMAT) {
    throw new SafetensorsError(`the architecture's format is ${JSON.stringify(config.format ?? null)}, expected ` +
      `'${ARCHITECTURE_FORMAT}'`, file);
  }
  const v = config.version;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw new SafetensorsError(`the architecture's version must be a positive integer, got ${JSON.stringify(v ?? null)}`, file);
  }
  if (v > ARCHITECTURE_VERSION) {
    throw new SafetensorsError(`the architecture is version ${v} (written by nodenn ${written}); this nodenn ${VERSION} ` +
      `reads up to version ${ARCHITECTURE_VERSION}: upgrade nodenn to load it`, file);
  }
}

/**
 * The file's tensors against the parameter and buffer shapes the architecture implies (layers/registry.ts
 * layerShapes), before any layer is built and before any tensor data is read: every tensor a layer needs is
 * there with its exact shape, and every tensor in the file belongs to a layer. Layer types registered without
 * a shape function are checked when they are built (loadStateDict).
 */
function checkTensors(layers: unknown[], header: SafetensorsHeader, file: string): void {
  const known = new Set(registeredLayers());
  const unchecked = new Set<number>();
  const claimed = new Set<string>();
  layers.forEach((c, i) => {
    const type = c !== null && typeof c === 'object' ? (c as { type?: unknown }).type : undefined;
    if (typeof type !== 'string') throw new SafetensorsError(`layer ${i} must be an object with a string 'type', got ${JSON.stringify(c)}`, file);
    if (!known.has(type)) {
      throw new SafetensorsError(`layer ${i} has the unknown type '${type}' (registered: ${[...known].join(', ')}; ` +
        'register a custom layer with registerLayer before loading)', file);
    }
    const what = `layer ${i} (${type})`;
    let shapes: Record<string, number[]> | undefined;
    try {
      shapes = layerShapes(c as LayerConfig);
    } catch (e) {
      throw new SafetensorsError(`${what}: ${(e as Error).message}`, file);
    }
    if (!shapes) {
      unchecked.add(i);
      return;
    }
    for (const [name, shape] of Object.entries(shapes)) {
      const key = `${i}.${name}`, t = header.tensors[key];
      if (!t) throw new SafetensorsError(`${what} needs a tensor '${key}' of shape ${shapeText(shape)}; the file has none`, file);
      if (t.shape.length !== shape.length || t.shape.some((d, k) => d !== shape[k])) {
        throw new SafetensorsError(`${what} needs '${key}' of shape ${shapeText(shape)}; the file's is ${shapeText(t.shape)}`, file);
      }
      claimed.add(key);
    }
  });
  for (const key of Object.keys(header.tensors)) {
    if (claimed.has(key)) continue;
    const m = /^(\d+)\./.exec(key);
    const i = m ? Number(m[1]) : -1;
    if (unchecked.has(i)) continue;
    const why = !m ? 'names are <layer index>.<name>' : i < layers.length
      ? `layer ${i} (${(layers[i] as LayerConfig).type}) has no such parameter` : `there is no layer ${i}`;
    throw new SafetensorsError(`the file has a tensor '${key}' that the architecture does not use (${why})`, file);
  }
}

/**
 * Reads a model file. Before any tensor data is read (or any layer is built), the metadata must say a nodenn
 * model (format 'nodenn', a version whose major is not newer than this nodenn's, an architecture of a known
 * format and version, every layer type registered, nodenn's descriptive entries well formed) and the file's
 * tensors must have exactly the names and shapes the architecture implies; anything else is a SafetensorsError
 * naming the file (and the layer).
 */
export async function loadModelFile(path: string): Promise<ModelFile> {
  let config: unknown, info: ModelInfo = {};
  const { tensors, metadata } = await readSafetensorsFile(path, {
    beforeData: (header) => {
      config = checkModelHeader(header, path);
      info = readModelInfo(header.metadata, path);
    },
  });
  return { config, tensors, metadata, info };
}

/** The architecture of a model file's header, after every check loadModelFile makes before the data. */
function checkModelHeader(header: SafetensorsHeader, path: string): unknown {
  const { metadata } = header;
  const arch = metadata[MODEL_METADATA.architecture];
  if (arch === undefined) {
    throw new SafetensorsError(`no '${MODEL_METADATA.architecture}' metadata: not a nodenn model file (weights only, ` +
      `such as PyTorch's, load with Sequential.load(path, { architecture }); plain tensors with loadSafetensors)`, path);
  }
  let config: unknown;
  try {
    config = JSON.parse(arch);
  } catch (e) {
    throw new SafetensorsError(`the '${MODEL_METADATA.architecture}' metadata is not valid JSON: ${(e as Error).message}`, path);
  }
  if (config === null || typeof config !== 'object' || !Array.isArray((config as { layers?: unknown }).layers)) {
    throw new SafetensorsError(`the '${MODEL_METADATA.architecture}' metadata must be an object with a layers array`, path);
  }
  checkFormat(metadata, config as Record<string, unknown>, path);
  checkTensors((config as { layers: unknown[] }).layers, header, path);
  return config;
}
