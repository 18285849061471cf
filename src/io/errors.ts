// The one shape of every model-file reader's error: the file, the reason, the format. Each format keeps its own
// class (SafetensorsError, PickleError, OnnxError, TfjsError) for those who catch one; ModelFormatError catches all.

/** The formats whose readers throw a ModelFormatError. */
export type ModelFormat = 'safetensors' | 'pickle' | 'onnx' | 'tfjs';

/**
 * A model file that nodenn cannot read (malformed, unsafe or unsupported): the base of SafetensorsError,
 * PickleError, OnnxError and TfjsError. The message is `${file}: ${reason}`.
 */
export class ModelFormatError extends Error {
  /** The file, as the caller named it. */
  readonly file: string;
  /** The message without the file name. */
  readonly reason: string;
  /** Which reader refused it. */
  readonly format: ModelFormat;
  constructor(message: string, file: string, format: ModelFormat) {
    super(`${file}: ${message}`);
    this.name = 'ModelFormatError';
    this.file = file;
    this.reason = message;
    this.format = format;
  }
}

/**
 * The most values one sample may have at an imported model's input or at any layer's output: the importers run one
 * sample forward to fix the network's shapes, and 2^26 float32 values (256 MiB) per activation is far beyond what a
 * CPU network is run on; a graph that declares more is refused before anything is allocated.
 */
export const MAX_IMPORT_SAMPLE_VALUES = 2 ** 26;

/** Why one sample of `shape` (without the batch axis) is too large to import, or null when it is not. */
export function sampleTooLarge(shape: readonly number[]): string | null {
  const values = shape.reduce((a, b) => a * b, 1);
  return values > MAX_IMPORT_SAMPLE_VALUES
    ? `[${shape.join(', ')}] is ${values} values per sample, more than the ${MAX_IMPORT_SAMPLE_VALUES} an import allows`
    : null;
}
