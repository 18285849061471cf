// nn.io: readers and writers of other frameworks' model files.
export { ModelFormatError, type ModelFormat } from './errors';
export { loadPt, decodePt, type LoadPtOptions } from './torch';
export { loadPickle, decodePickle, PickleError, MAX_PICKLE_DEPTH, type PickleValue, type NumpyArray, type LoadPickleOptions } from './pickle';
export { encodeOnnx, exportOnnx, OnnxExportError, type ExportOnnxOptions } from './onnx/export';
export { ONNX_EXPORT_OPS } from './onnx/trace';
export { OnnxError } from './onnx/proto';
export { loadOnnx, decodeOnnx, ONNX_IMPORT_OPS } from './onnx/import';
export { toPytorchStateDict, fromPytorchStateDict, type PytorchNames, type FromPytorchOptions } from './pytorch';
export {
  exportTfjs, loadTfjs, encodeTfjs, decodeTfjs, TfjsError, type ExportTfjsOptions, type TfjsModelJson, type KerasLayer,
  type TfjsWeightSpec,
} from './tfjs';
