// Model files: the weights as float32 safetensors under PyTorch-style names ('0.weight', '0.bias', ...) and the
// architecture (Sequential.toConfig()) as JSON in the metadata, so a file is enough to rebuild the network.
// Only data is read back: the architecture is plain JSON turned into layers through the layer registry.
import { Tensor } from '../tensor';
import { VERSION } from '../version';
import { loadSafetensors, saveSafetensors, SafetensorsError } from './safetensors';

/** Metadata keys nodenn writes (other keys are the caller's, kept as given). */
export const MODEL_METADATA = {
  format: 'format',
  architecture: 'nodenn.architecture',
  version: 'nodenn.version',
} as const;
export const MODEL_FORMAT = 'nodenn';

export interface ModelFile {
  /** The parsed architecture JSON (what Sequential.fromConfig takes). */
  config: unknown;
  tensors: Record<string, Tensor>;
  /** All metadata, nodenn's keys included. */
  metadata: Record<string, string>;
}

/** Writes weights (as float32) and the architecture atomically; `metadata` adds string entries of the caller's. */
export async function saveModelFile(path: string, config: unknown, stateDict: Record<string, Tensor>,
  metadata: Record<string, string> = {}): Promise<void> {
  if (metadata === null || typeof metadata !== 'object') throw new TypeError('metadata must be an object of strings');
  for (const key of Object.values(MODEL_METADATA)) {
    if (key in metadata) throw new TypeError(`metadata key '${key}' is reserved for nodenn`);
  }
  const tensors: Record<string, Tensor> = {};
  for (const [name, t] of Object.entries(stateDict)) tensors[name] = t.dtype === 'float32' ? t : t.astype('float32');
  await saveSafetensors(path, tensors, {
    ...metadata,
    [MODEL_METADATA.format]: MODEL_FORMAT,
    [MODEL_METADATA.version]: VERSION,
    [MODEL_METADATA.architecture]: JSON.stringify(config),
  });
}

/** Reads a model file; a safetensors file without nodenn's architecture metadata is refused with a clear error. */
export async function loadModelFile(path: string): Promise<ModelFile> {
  const { tensors, metadata } = await loadSafetensors(path);
  const arch = metadata[MODEL_METADATA.architecture];
  if (arch === undefined) {
    throw new SafetensorsError(`no '${MODEL_METADATA.architecture}' metadata: not a nodenn model file (plain tensors ` +
      `can be read with loadSafetensors)`, path);
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
  return { config, tensors, metadata };
}
