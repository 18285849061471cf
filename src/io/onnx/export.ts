// ONNX export of a Sequential: one graph node (or a few) per layer, the weights as float32 initializers, written
// with protobufjs from the official onnx.proto. Inference semantics: Dropout is left out, BatchNorm uses its
// running statistics.
import type { Sequential } from '../../network';
import type { Layer } from '../../layers/layer';
import { AvgPool2D } from '../../layers/avg_pool2d';
import { BatchNorm } from '../../layers/batch_norm';
import { Conv1D } from '../../layers/conv1d';
import { Conv2D } from '../../layers/conv2d';
import { Dense } from '../../layers/dense';
import { Dropout } from '../../layers/dropout';
import { Flatten } from '../../layers/flatten';
import { GlobalAvgPool2D } from '../../layers/global_avg_pool2d';
import { LeakyReLU } from '../../layers/leaky_relu';
import { MaxPool2D } from '../../layers/max_pool2d';
import { ReLU } from '../../layers/relu';
import { Sigmoid } from '../../layers/sigmoid';
import { Softmax } from '../../layers/softmax';
import { Step } from '../../layers/step';
import { Tanh } from '../../layers/tanh';
import { describeValue, isArray, optionsObject } from '../../validate';
import { type Tensor, formatShape } from '../../tensor';
import { VERSION } from '../../version';
import { writeFileAtomic } from '../atomic';
import { DATA_TYPE, IR_VERSION, OPSET_MAX, OPSET_MIN, onnxTypes } from './proto';

/** Options of exportOnnx and encodeOnnx: the input shape, opset, batch size and the graph's input/output names. */
export interface ExportOnnxOptions {
  /** The shape of one sample, without the batch axis (default: the network's input shape, as save() finds it). */
  inputShape?: readonly number[];
  /** The opset written (default 17; 13 to 17). */
  opset?: number;
  /** Whether the batch axis is a named, free dimension 'N' (default true); false fixes it to batchSize. */
  dynamicBatch?: boolean;
  /** The batch size of a fixed batch axis (default 1). */
  batchSize?: number;
  /** Names of the graph's input and output (default 'input' and 'output'). */
  inputName?: string;
  outputName?: string;
}

const OPTIONS = ['inputShape', 'opset', 'dynamicBatch', 'batchSize', 'inputName', 'outputName'];

interface Attribute {
  name: string;
  type: 'FLOAT' | 'INT' | 'INTS';
  f?: number;
  i?: number;
  ints?: number[];
}

const ints = (name: string, v: readonly number[]): Attribute => ({ name, type: 'INTS', ints: [...v] });
const int = (name: string, v: number): Attribute => ({ name, type: 'INT', i: v });
const float = (name: string, v: number): Attribute => ({ name, type: 'FLOAT', f: v });

/** The graph while it is built: nodes in order, initializers, unique names. */
class GraphBuilder {
  readonly nodes: object[] = [];
  readonly initializers: object[] = [];
  private count = 0;

  constructor(readonly outputName: string) {}

  /** A float32 initializer from a tensor (converted from float64 if need be). */
  weight(name: string, t: Tensor, dims: readonly number[] = t.shape): string {
    const f32 = t.data instanceof Float32Array ? t.data : Float32Array.from(t.data);
    const raw = new Uint8Array(f32.byteLength);
    raw.set(new Uint8Array(f32.buffer, f32.byteOffset, f32.byteLength));
    this.initializers.push({ name, dims: [...dims], data_type: DATA_TYPE.FLOAT, raw_data: raw });
    return name;
  }

  constant(name: string, values: number[]): string {
    this.initializers.push({ name, dims: [], data_type: DATA_TYPE.FLOAT, float_data: values });
    return name;
  }

  node(op: string, inputs: string[], attributes: Attribute[] = [], prefix = op): string {
    const output = `${prefix}_${this.count++}`;
    this.nodes.push({ op_type: op, name: output, input: inputs, output: [output], attribute: attributes });
    return output;
  }
}

/** The nodes of one layer, from input x; returns the layer's output name. */
function layerNodes(g: GraphBuilder, layer: Layer, i: number, x: string, shape: readonly number[], opset: number): string {
  const p = `${i}`;
  if (layer instanceof Dense) {
    const flat = shape.length === 2 ? x : g.node('Flatten', [x], [int('axis', 1)], `${p}.flatten`);
    const inputs = [flat, g.weight(`${p}.weight`, layer.weight)];
    if (layer.bias) inputs.push(g.weight(`${p}.bias`, layer.bias));
    return g.node('Gemm', inputs, [], p);
  }
  if (layer instanceof Conv1D || layer instanceof Conv2D) {
    const oneD = layer instanceof Conv1D, k = oneD ? [layer.kernelSize[1]] : layer.kernelSize;
    const stride = oneD ? [layer.stride[1]] : layer.stride, pad = oneD ? [layer.padding[1]] : layer.padding;
    const inputs = [x, g.weight(`${p}.weight`, layer.weight)];
    if (layer.bias) inputs.push(g.weight(`${p}.bias`, layer.bias));
    return g.node('Conv', inputs, [ints('kernel_shape', k), ints('strides', stride), ints('pads', [...pad, ...pad])], p);
  }
  if (layer instanceof MaxPool2D || layer instanceof AvgPool2D) {
    return g.node(layer instanceof MaxPool2D ? 'MaxPool' : 'AveragePool', [x],
      [ints('kernel_shape', layer.kernelSize), ints('strides', layer.stride)], p);
  }
  if (layer instanceof GlobalAvgPool2D) {
    // nodenn's output is (N, C); ONNX's (N, C, 1, 1)
    return g.node('Flatten', [g.node('GlobalAveragePool', [x], [], p)], [int('axis', 1)], `${p}.flatten`);
  }
  if (layer instanceof LeakyReLU) return g.node('LeakyRelu', [x], [float('alpha', layer.config().slope as number)], p);
  if (layer instanceof ReLU) return g.node('Relu', [x], [], p);
  if (layer instanceof Sigmoid) return g.node('Sigmoid', [x], [], p);
  if (layer instanceof Tanh) return g.node('Tanh', [x], [], p);
  if (layer instanceof Step) {
    // ONNX has no step function: 1 where x > 0, else 0, NaN kept as nodenn keeps it
    const zero = g.constant(`${p}.zero`, [0]);
    const step = g.node('Cast', [g.node('Greater', [x, zero], [], `${p}.greater`)], [int('to', DATA_TYPE.FLOAT)], `${p}.cast`);
    return g.node('Where', [g.node('IsNaN', [x], [], `${p}.isnan`), x, step], [], p);
  }
  if (layer instanceof Softmax) return g.node('Softmax', [x], [int('axis', -1)], p);
  if (layer instanceof Flatten) return g.node('Flatten', [x], [int('axis', 1)], p);
  if (layer instanceof BatchNorm) {
    const inputs = [x, g.weight(`${p}.weight`, layer.weight), g.weight(`${p}.bias`, layer.bias),
      g.weight(`${p}.running_mean`, layer.runningMean), g.weight(`${p}.running_var`, layer.runningVar)];
    // ONNX's momentum weighs the running statistics, PyTorch's and nodenn's the batch's
    return g.node('BatchNormalization', inputs, [float('epsilon', layer.eps), float('momentum', 1 - layer.momentum)], p);
  }
  if (layer instanceof Dropout) return x;
  void opset;
  throw new TypeError(`exportOnnx: layer ${i} (${layer.name}) has no ONNX counterpart; the built-in layers that export ` +
    'are Dense, Conv1D, Conv2D, MaxPool2D, AvgPool2D, GlobalAvgPool2D, ReLU, LeakyReLU, Sigmoid, Tanh, Step, Softmax, ' +
    'Flatten, BatchNorm1D, BatchNorm2D and Dropout');
}

const dimsOf = (shape: readonly number[], dynamic: boolean) =>
  shape.map((d, k) => (k === 0 && dynamic ? { dim_param: 'N' } : { dim_value: d }));

/** The ONNX model of a network as bytes (what exportOnnx writes). */
export function encodeOnnx(net: Sequential, options: ExportOnnxOptions = {}): Uint8Array {
  const opts = optionsObject(options, 'exportOnnx options') as ExportOnnxOptions;
  for (const k of Object.keys(opts)) {
    if (!OPTIONS.includes(k)) throw new TypeError(`exportOnnx: unknown option '${k}' (known: ${OPTIONS.join(', ')})`);
  }
  const opset = opts.opset ?? 17;
  if (typeof opset !== 'number' || !Number.isInteger(opset) || opset < OPSET_MIN || opset > OPSET_MAX) {
    throw new RangeError(`exportOnnx: opset must be an integer from ${OPSET_MIN} to ${OPSET_MAX}, got ${describeValue(opts.opset)}`);
  }
  const dynamic = opts.dynamicBatch ?? true;
  if (typeof dynamic !== 'boolean') throw new TypeError(`exportOnnx: dynamicBatch must be a boolean, got ${describeValue(dynamic)}`);
  const batch = opts.batchSize ?? 1;
  if (typeof batch !== 'number' || !Number.isInteger(batch) || batch < 1) {
    throw new RangeError(`exportOnnx: batchSize must be a positive integer, got ${describeValue(opts.batchSize)}`);
  }
  const names = [opts.inputName ?? 'input', opts.outputName ?? 'output'];
  for (const [k, v] of [['inputName', names[0]], ['outputName', names[1]]]) {
    if (typeof v !== 'string' || v === '') throw new TypeError(`exportOnnx: ${k} must be a non-empty string, got ${describeValue(v)}`);
  }
  if (names[0] === names[1]) throw new RangeError(`exportOnnx: inputName and outputName must differ, both are '${names[0]}'`);
  let sample = opts.inputShape ?? net.inputShape ?? (net.layers[0] instanceof Dense ? [net.layers[0].inFeatures] : null);
  if (sample === null) {
    throw new TypeError('exportOnnx: the network\'s input shape is unknown (it has not run, and its first layer does not fix ' +
      'it): pass exportOnnx(path, { inputShape }) with the shape of one sample, e.g. [1, 28, 28]');
  }
  if (!isArray(sample) || sample.length === 0 || !sample.every((d) => Number.isInteger(d) && d > 0)) {
    throw new TypeError(`exportOnnx: inputShape must be an array of positive integers (one sample, without the batch axis), ` +
      `got ${describeValue(opts.inputShape)}`);
  }
  sample = [...sample];
  if (net.layers.length === 0) throw new RangeError('exportOnnx: the network has no layers');

  const g = new GraphBuilder(names[1]);
  let shape = [batch, ...sample], x = names[0];
  net.layers.forEach((layer, i) => {
    let next: number[];
    try {
      next = layer.outputShape(shape);
    } catch (e) {
      throw new RangeError(`exportOnnx: the input shape ${formatShape(sample as number[])} does not fit layer ${i} ` +
        `(${layer.name}): ${(e as Error).message}`);
    }
    x = layerNodes(g, layer, i, x, shape, opset);
    shape = next;
  });
  const last = g.nodes[g.nodes.length - 1] as { output: string[] } | undefined;
  if (!last || last.output[0] !== x) g.node('Identity', [x]);
  // the last node writes the graph's output
  (g.nodes[g.nodes.length - 1] as { output: string[] }).output = [names[1]];
  const tensorType = (s: readonly number[]) => ({ tensor_type: { elem_type: DATA_TYPE.FLOAT, shape: { dim: dimsOf(s, dynamic) } } });
  const model = {
    ir_version: IR_VERSION,
    producer_name: 'nodenn',
    producer_version: VERSION,
    opset_import: [{ domain: '', version: opset }],
    graph: {
      name: 'nodenn.Sequential',
      node: g.nodes,
      initializer: g.initializers,
      input: [{ name: names[0], type: tensorType([batch, ...sample]) }],
      output: [{ name: names[1], type: tensorType(shape) }],
    },
  };
  const { ModelProto } = onnxTypes();
  return ModelProto.encode(ModelProto.fromObject(model)).finish();
}

/** Writes the network as an ONNX model (atomically). */
export async function exportOnnx(net: Sequential, path: string, options: ExportOnnxOptions = {}): Promise<void> {
  if (typeof path !== 'string' || path === '') throw new TypeError(`exportOnnx: path must be a non-empty string, got ${describeValue(path)}`);
  writeFileAtomic(path, encodeOnnx(net, options));
}
