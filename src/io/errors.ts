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
