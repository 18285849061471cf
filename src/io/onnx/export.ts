// ONNX export: a Sequential becomes one graph node (or a few) per layer, a Module the graph of the tensor operations
// its forward runs (traced, see trace.ts); weights are float32 initializers, written with protobufjs from the
// official onnx.proto. Inference semantics: Dropout is left out, BatchNorm uses its running statistics.
import type { Sequential } from '../../network';
import type { Module } from '../../autograd/module';
import { Dense } from '../../layers/dense';
import { describeValue, isArray } from '../../validate';
import { formatShape } from '../../tensor';
import { writeFileAtomic } from '../atomic';
import { type Dim, type ExportOnnxOptions, GraphBuilder, checkOptions, encodeModel, layerNodes } from './builder';
import { encodeModuleOnnx } from './trace';

export { type ExportOnnxOptions, OnnxExportError } from './builder';

const dimsOf = (shape: readonly number[], dynamic: boolean): Dim[] =>
  shape.map((d, k) => (k === 0 && dynamic ? { dim_param: 'N' } : { dim_value: d }));

/** Whether net is an nn.Module (told by its methods: this file cannot import the class without a cycle). */
function isModule(net: unknown): net is Module {
  return typeof net === 'object' && net !== null && typeof (net as Module).forward === 'function' &&
    typeof (net as Module).namedModules === 'function';
}

function encodeSequential(net: Sequential, options: ExportOnnxOptions): Uint8Array {
  const o = checkOptions(options);
  let sample = (o.inputShape as readonly number[] | undefined) ?? net.inputShape ??
    (net.layers[0] instanceof Dense ? [net.layers[0].inFeatures] : null);
  if (sample === null) {
    throw new TypeError('exportOnnx: the network\'s input shape is unknown (it has not run, and its first layer does not fix ' +
      'it): pass exportOnnx(path, { inputShape }) with the shape of one sample, e.g. [1, 28, 28]');
  }
  if (!isArray(sample) || sample.length === 0 || !sample.every((d) => Number.isInteger(d) && d > 0)) {
    throw new TypeError(`exportOnnx: inputShape must be an array of positive integers (one sample, without the batch axis), ` +
      `got ${describeValue(o.inputShape)}`);
  }
  sample = [...sample];
  if (net.layers.length === 0) throw new RangeError('exportOnnx: the network has no layers');

  const g = new GraphBuilder();
  let shape = [o.batch, ...sample], x = o.inputName;
  net.layers.forEach((layer, i) => {
    let next: number[];
    try {
      next = layer.outputShape(shape);
    } catch (e) {
      throw new RangeError(`exportOnnx: the input shape ${formatShape(sample as number[])} does not fit layer ${i} ` +
        `(${layer.name}): ${(e as Error).message}`);
    }
    x = layerNodes(g, layer, `${i}`, `layer ${i} (${layer.name})`, x, shape);
    shape = next;
  });
  return encodeModel(g, o, 'nodenn.Sequential', x, dimsOf([o.batch, ...sample], o.dynamic), dimsOf(shape, o.dynamic));
}

/**
 * The ONNX model of a Sequential or an nn.Module as bytes (what exportOnnx writes). A Module needs
 * options.inputShape: its forward runs on example inputs of that shape and the operations it runs become the graph.
 */
export function encodeOnnx(net: Sequential | Module, options: ExportOnnxOptions = {}): Uint8Array {
  if (isModule(net)) return encodeModuleOnnx(net, options);
  if (typeof net !== 'object' || net === null || !Array.isArray((net as Sequential).layers)) {
    throw new TypeError(`exportOnnx: net must be a Sequential or an nn.Module, got ${describeValue(net)}`);
  }
  return encodeSequential(net, options);
}

/** Writes the network (a Sequential or an nn.Module) as an ONNX model (atomically). */
export async function exportOnnx(net: Sequential | Module, path: string,
  options: ExportOnnxOptions = {}): Promise<void> {
  if (typeof path !== 'string' || path === '') throw new TypeError(`exportOnnx: path must be a non-empty string, got ${describeValue(path)}`);
  writeFileAtomic(path, encodeOnnx(net, options));
}
