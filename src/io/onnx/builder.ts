// What both ONNX exporters (a Sequential's layers, a Module's traced operations) share: the options, a graph under
// construction (nodes, initializers with a note of what each stands for, unique names), the nodes of each built-in
// layer, and the ModelProto written with protobufjs from the official onnx.proto.
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
import type { Tensor } from '../../tensor';
import { describeValue, optionsObject } from '../../validate';
import { VERSION } from '../../version';
import { DATA_TYPE, IR_VERSION, OPSET_MAX, OPSET_MIN, onnxTypes } from './proto';

/** Options of exportOnnx and encodeOnnx: the input shape, opset, batch size and the graph's input/output names. */
export interface ExportOnnxOptions {
  /**
   * The shape of one sample, without the batch axis (a Sequential's default: its input shape, as save() finds it;
   * a Module has none, so it is required there: the forward is traced on an example input of this shape).
   */
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

/** The options checked, defaults filled in (inputShape is left to each exporter: their defaults differ). */
export interface CheckedOptions {
  opset: number;
  dynamic: boolean;
  batch: number;
  inputName: string;
  outputName: string;
  inputShape: unknown;
}

export function checkOptions(options: ExportOnnxOptions | undefined): CheckedOptions {
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
  return { opset, dynamic, batch, inputName: names[0], outputName: names[1], inputShape: opts.inputShape };
}

/**
 * A model that has no ONNX counterpart for one of its parts: a layer or tensor operation ONNX lacks, or a forward
 * that a traced graph cannot stand for. `op` names the part (the layer's or operation's name). A TypeError, as
 * exportOnnx threw before it had its own class.
 */
export class OnnxExportError extends TypeError {
  readonly op: string;
  constructor(message: string, op: string) {
    super(message);
    this.name = 'OnnxExportError';
    this.op = op;
  }
}

export interface Attribute {
  name: string;
  type: 'FLOAT' | 'INT' | 'INTS';
  f?: number;
  i?: number;
  ints?: number[];
}

export const ints = (name: string, v: readonly number[]): Attribute => ({ name, type: 'INTS', ints: [...v] });
export const int = (name: string, v: number): Attribute => ({ name, type: 'INT', i: v });
export const float = (name: string, v: number): Attribute => ({ name, type: 'FLOAT', f: v });

export interface NodeSpec {
  op_type: string;
  name: string;
  input: string[];
  output: string[];
  attribute: Attribute[];
}

export interface InitializerSpec {
  name: string;
  dims: number[];
  data_type: number;
  raw_data?: Uint8Array;
  float_data?: number[];
  int64_data?: number[];
}

/**
 * What an initializer stands for, so that two traces of a Module at different batch sizes can be told apart:
 * 'weight' a parameter, 'constant' a tensor forward() made, 'shape' a Reshape's target, 'expand' an Expand's (with
 * the shape it expands from), 'index' indices, axes or slice bounds, 'count' a number of elements reduced. `what`
 * describes it for error messages.
 */
export interface InitializerNote {
  role: 'weight' | 'constant' | 'shape' | 'expand' | 'index' | 'count';
  what: () => string;
  op: string;
  from?: readonly number[];
}

/** The graph while it is built: nodes in order, initializers (each with its note), unique names. */
export class GraphBuilder {
  readonly nodes: NodeSpec[] = [];
  readonly initializers: InitializerSpec[] = [];
  readonly notes: InitializerNote[] = [];
  private readonly owners = new Map<string, unknown>();
  private count = 0;

  /** name, or name_2, name_3, ... if it is taken. */
  private unique(name: string): string {
    if (!this.owners.has(name)) return name;
    for (let k = 2; ; k++) if (!this.owners.has(`${name}_${k}`)) return `${name}_${k}`;
  }

  private add(init: InitializerSpec, owner: unknown, note: InitializerNote): string {
    this.owners.set(init.name, owner);
    this.initializers.push(init);
    this.notes.push(note);
    return init.name;
  }

  /**
   * A float32 initializer from a tensor (converted from float64 if need be); the same tensor under the same name
   * (a layer called twice) is written once.
   */
  weight(name: string, t: Tensor, dims: readonly number[] = t.shape, note?: InitializerNote): string {
    if (this.owners.get(name) === t) return name;
    const f32 = t.data instanceof Float32Array ? t.data : Float32Array.from(t.data);
    const raw = new Uint8Array(f32.byteLength);
    raw.set(new Uint8Array(f32.buffer, f32.byteOffset, f32.byteLength));
    return this.add({ name: this.unique(name), dims: [...dims], data_type: DATA_TYPE.FLOAT, raw_data: raw }, t,
      note ?? { role: 'weight', what: () => `the parameter ${name}`, op: name });
  }

  /** A float32 scalar. */
  constant(name: string, values: number[], note?: InitializerNote): string {
    return this.add({ name: this.unique(name), dims: [], data_type: DATA_TYPE.FLOAT, float_data: values }, null,
      note ?? { role: 'constant', what: () => `the constant ${name}`, op: name });
  }

  /** A 1-D int64 tensor: shapes, axes, pads, indices. */
  int64s(name: string, values: readonly number[], note: InitializerNote): string {
    return this.add({ name: this.unique(name), dims: [values.length], data_type: DATA_TYPE.INT64, int64_data: [...values] },
      null, note);
  }

  node(op: string, inputs: string[], attributes: Attribute[] = [], prefix = op): string {
    const output = `${prefix}_${this.count++}`;
    this.nodes.push({ op_type: op, name: output, input: inputs, output: [output], attribute: attributes });
    return output;
  }
}

/** The built-in layers with an ONNX counterpart. */
export const EXPORTED_LAYERS = 'Dense, Conv1D, Conv2D, MaxPool2D, AvgPool2D, GlobalAvgPool2D, ReLU, LeakyReLU, Sigmoid, ' +
  'Tanh, Step, Softmax, Flatten, BatchNorm1D, BatchNorm2D and Dropout';

const EXPORTED_LAYER_CLASSES = [Dense, Conv1D, Conv2D, MaxPool2D, AvgPool2D, GlobalAvgPool2D, LeakyReLU, ReLU, Sigmoid, Tanh,
  Step, Softmax, Flatten, BatchNorm, Dropout];

/** Whether layerNodes can write the layer. */
export function layerExports(layer: Layer): boolean {
  return EXPORTED_LAYER_CLASSES.some((C) => layer instanceof C);
}

/**
 * The nodes of one layer, from input x of shape `shape` (batch included); returns the layer's output name. `p`
 * prefixes its names ('3', 'conv1'), `where` names the layer in errors ('layer 3 (Foo)').
 */
export function layerNodes(g: GraphBuilder, layer: Layer, p: string, where: string, x: string, shape: readonly number[]): string {
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
  if (layer instanceof Step) return stepNodes(g, x, p);
  if (layer instanceof Softmax) return g.node('Softmax', [x], [int('axis', -1)], p);
  if (layer instanceof Flatten) return g.node('Flatten', [x], [int('axis', 1)], p);
  if (layer instanceof BatchNorm) {
    const inputs = [x, g.weight(`${p}.weight`, layer.weight), g.weight(`${p}.bias`, layer.bias),
      g.weight(`${p}.running_mean`, layer.runningMean), g.weight(`${p}.running_var`, layer.runningVar)];
    // ONNX's momentum weighs the running statistics, PyTorch's and nodenn's the batch's
    return g.node('BatchNormalization', inputs, [float('epsilon', layer.eps), float('momentum', 1 - layer.momentum)], p);
  }
  if (layer instanceof Dropout) return x;
  throw new OnnxExportError(`exportOnnx: ${where} has no ONNX counterpart; the built-in layers that export are ` +
    `${EXPORTED_LAYERS}`, layer.name);
}

/** ONNX has no step function: 1 where x > 0, else 0, NaN kept as nodenn keeps it. */
export function stepNodes(g: GraphBuilder, x: string, p: string): string {
  const zero = g.constant(`${p}.zero`, [0]);
  const step = g.node('Cast', [g.node('Greater', [x, zero], [], `${p}.greater`)], [int('to', DATA_TYPE.FLOAT)], `${p}.cast`);
  return g.node('Where', [g.node('IsNaN', [x], [], `${p}.isnan`), x, step], [], p);
}

/** A dimension of the graph's input or output: a size, a named free one, or an unnamed free one. */
export interface Dim {
  dim_value?: number;
  dim_param?: string;
}

/**
 * The model's bytes. The node computing `output` is renamed to the graph's output name when it is the last
 * (nothing else reads it then), else an Identity writes it.
 */
export function encodeModel(g: GraphBuilder, o: CheckedOptions, graphName: string, output: string, inputDims: Dim[],
  outputDims: Dim[]): Uint8Array {
  const last = g.nodes[g.nodes.length - 1];
  if (last !== undefined && last.output[0] === output) last.output = [o.outputName];
  else g.nodes.push({ op_type: 'Identity', name: 'output', input: [output], output: [o.outputName], attribute: [] });
  const tensorType = (dim: Dim[]) => ({ tensor_type: { elem_type: DATA_TYPE.FLOAT, shape: { dim } } });
  const model = {
    ir_version: IR_VERSION,
    producer_name: 'nodenn',
    producer_version: VERSION,
    opset_import: [{ domain: '', version: o.opset }],
    graph: {
      name: graphName,
      node: g.nodes,
      initializer: g.initializers,
      input: [{ name: o.inputName, type: tensorType(inputDims) }],
      output: [{ name: o.outputName, type: tensorType(outputDims) }],
    },
  };
  const { ModelProto } = onnxTypes();
  return ModelProto.encode(ModelProto.fromObject(model)).finish();
}
