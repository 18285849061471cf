// The ONNX protobuf messages, from the official onnx.proto through protobufjs (a dependency: exportOnnx and loadOnnx
// are core API), loaded on first use, so that require('nodenn') does not pay for it in programs without ONNX.
import type * as Protobuf from 'protobufjs';
import { ONNX_PROTO_JSON } from './onnx-proto.gen';
import { ModelFormatError } from '../errors';

export interface OnnxTypes {
  ModelProto: Protobuf.Type;
}

let types: OnnxTypes | null = null;

export function onnxTypes(): OnnxTypes {
  if (!types) {
    let protobuf: typeof Protobuf;
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      protobuf = require('protobufjs') as typeof Protobuf;
    } catch (e) {
      throw new Error(`ONNX files need the protobufjs package, a dependency of nodenn, which cannot be loaded (a broken ` +
        `install? reinstall nodenn): ${(e as Error).message.split('\n')[0]}`);
    }
    const root = protobuf.Root.fromJSON(ONNX_PROTO_JSON as Protobuf.INamespace);
    types = { ModelProto: root.lookupType('onnx.ModelProto') };
  }
  return types;
}

/** TensorProto.DataType values nodenn reads or writes. */
export const DATA_TYPE = { FLOAT: 1, INT32: 6, INT64: 7, BOOL: 9, DOUBLE: 11 } as const;
/** The IR version of ONNX 1.12 (opsets up to 17); readers of newer IRs read it. */
export const IR_VERSION = 8;
/** The opsets exportOnnx writes: 13 (Softmax over one axis) to 17, the newest of this onnx.proto's ONNX. */
export const OPSET_MIN = 13;
export const OPSET_MAX = 17;

/** An ONNX file that loadOnnx cannot read (malformed, or an operator or attribute nodenn lacks), naming the file. */
export class OnnxError extends ModelFormatError {
  constructor(message: string, file: string) {
    super(message, file, 'onnx');
    this.name = 'OnnxError';
  }
}
