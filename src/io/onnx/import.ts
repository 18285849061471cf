// ONNX import: a graph that is a chain of the operators nodenn has layers for (what PyTorch, Keras converters and
// nodenn's own exportOnnx write for feed-forward networks) becomes a Sequential with the graph's weights. Every
// node is checked before a layer is built: each operator and attribute nodenn cannot read is named, all at once.
import { promises as fs } from 'node:fs';
import { Sequential } from '../../network';
import type { Layer } from '../../layers/layer';
import { AvgPool2D } from '../../layers/avg_pool2d';
import { BatchNorm1D } from '../../layers/batch_norm1d';
import { BatchNorm2D } from '../../layers/batch_norm2d';
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
import { Tanh } from '../../layers/tanh';
import { describeValue } from '../../validate';
import { Tensor, formatShape } from '../../tensor';
import { sampleTooLarge } from '../errors';
import { DATA_TYPE, OnnxError, onnxTypes } from './proto';

/** The operators loadOnnx reads (Pad only with zero pads: PyTorch writes one before each AvgPool2d). */
export const ONNX_IMPORT_OPS = [
  'Gemm', 'MatMul', 'Add', 'Conv', 'MaxPool', 'AveragePool', 'GlobalAveragePool', 'Relu', 'LeakyRelu', 'Sigmoid', 'Tanh',
  'Softmax', 'Flatten', 'Reshape', 'BatchNormalization', 'Dropout', 'Identity', 'Constant', 'Pad',
] as const;

interface TensorProto {
  name?: string;
  dims?: number[];
  data_type?: number;
  raw_data?: Uint8Array;
  float_data?: number[];
  double_data?: number[];
  int64_data?: number[];
  int32_data?: number[];
  data_location?: number;
}

interface AttributeProto {
  name: string;
  type?: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: TensorProto;
  floats?: number[];
  ints?: number[];
}

interface NodeProto {
  name?: string;
  op_type: string;
  domain?: string;
  input?: string[];
  output?: string[];
  attribute?: AttributeProto[];
}

interface ValueInfo {
  name: string;
  type?: { tensor_type?: { elem_type?: number; shape?: { dim?: { dim_value?: number; dim_param?: string }[] } } };
}

interface ModelProto {
  ir_version?: number;
  opset_import?: { domain?: string; version?: number }[];
  graph?: { node?: NodeProto[]; initializer?: TensorProto[]; input?: ValueInfo[]; output?: ValueInfo[] };
}

/** A constant: its dims and values (float as Float32Array, integers as numbers). */
interface Constant {
  dims: number[];
  values: Float32Array | number[];
}

const sizeOfDims = (dims: number[]) => dims.reduce((a, b) => a * b, 1);

function constantOf(t: TensorProto, file: string): Constant {
  const dims = (t.dims ?? []).map(Number), n = sizeOfDims(dims), name = t.name ?? '(unnamed)';
  if (t.data_location === 1) throw new OnnxError(`the tensor '${name}' keeps its data in an external file, which loadOnnx does not read`, file);
  if (!dims.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new OnnxError(`the tensor '${name}' has dims ${formatShape(dims)}: each must be a non-negative integer`, file);
  }
  const raw = t.raw_data && t.raw_data.length ? t.raw_data : null;
  const dtype = t.data_type ?? 0;
  const check = (got: number) => {
    if (got !== n) throw new OnnxError(`the tensor '${name}' of shape ${formatShape(dims)} holds ${got} values, not ${n}`, file);
  };
  const bytes = (size: number) => {
    check(raw!.length / size);
    return new DataView(raw!.buffer, raw!.byteOffset, raw!.byteLength);
  };
  if (dtype === DATA_TYPE.FLOAT || dtype === DATA_TYPE.DOUBLE) {
    const dbl = dtype === DATA_TYPE.DOUBLE;
    // the count is checked before the array is made: a file cannot announce more values than it holds
    if (raw) {
      const v = bytes(dbl ? 8 : 4), out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = dbl ? v.getFloat64(8 * i, true) : v.getFloat32(4 * i, true);
      return { dims, values: out };
    }
    const src = (dbl ? t.double_data : t.float_data) ?? [];
    check(src.length);
    return { dims, values: Float32Array.from(src) };
  }
  if (dtype === DATA_TYPE.INT64 || dtype === DATA_TYPE.INT32) {
    if (raw) {
      const v = bytes(dtype === DATA_TYPE.INT64 ? 8 : 4), out: number[] = [];
      for (let i = 0; i < n; i++) out.push(dtype === DATA_TYPE.INT64 ? Number(v.getBigInt64(8 * i, true)) : v.getInt32(4 * i, true));
      return { dims, values: out };
    }
    const src = ((dtype === DATA_TYPE.INT64 ? t.int64_data : t.int32_data) ?? []).map(Number);
    check(src.length);
    return { dims, values: src };
  }
  if (dtype === DATA_TYPE.BOOL) {
    const src = raw ? [...raw] : (t.int32_data ?? []).map(Number);
    check(src.length);
    return { dims, values: src };
  }
  throw new OnnxError(`the tensor '${name}' has ONNX data type ${dtype}; loadOnnx reads float, double, int32, int64 and bool`, file);
}

/**
 * The shortest decimal that a float32 attribute rounds from: ONNX stores float attributes as float32, so a slope of
 * 0.05 comes back as 0.05000000074505806 unless read this way.
 */
function shortestFloat32(x: number): number {
  for (let p = 1; p <= 9; p++) {
    const v = Number(x.toPrecision(p));
    if (Math.fround(v) === Math.fround(x)) return v;
  }
  return x;
}

/** A node's attributes by name, and the check that only known ones are there. */
class Attributes {
  private readonly map = new Map<string, AttributeProto>();
  constructor(node: NodeProto, private readonly where: string, private readonly problems: string[]) {
    for (const a of node.attribute ?? []) this.map.set(a.name, a);
  }

  int(name: string, fallback: number): number {
    const a = this.map.get(name);
    return a ? Number(a.i ?? 0) : fallback;
  }

  float(name: string, fallback: number): number {
    const a = this.map.get(name);
    return a ? shortestFloat32(Number(a.f ?? 0)) : fallback;
  }

  ints(name: string): number[] | null {
    const a = this.map.get(name);
    return a ? (a.ints ?? []).map(Number) : null;
  }

  string(name: string, fallback: string): string {
    const a = this.map.get(name);
    return a?.s ? Buffer.from(a.s).toString('utf8') : fallback;
  }

  /** Names each attribute outside `known` as a problem. */
  only(known: string[]): void {
    for (const name of this.map.keys()) {
      if (!known.includes(name)) this.problems.push(`${this.where}: the attribute '${name}' is not supported`);
    }
  }

  /** A problem unless the attribute is absent or has the value nodenn's layer implies. */
  expect(name: string, ok: boolean, value: unknown, wanted: string): void {
    if (this.map.has(name) && !ok) this.problems.push(`${this.where}: ${name} = ${JSON.stringify(value)} is not supported (only ${wanted})`);
  }
}

/** What the walk through the graph keeps: layers, their weights by state-dict name, the current value. */
interface Walk {
  layers: Layer[];
  weights: Record<string, Tensor>;
  /** The name of the value the next node must read. */
  current: string;
  /** One sample's shape as nodenn sees it (GlobalAveragePool gives (C) where ONNX has (C, 1, 1)). */
  shape: number[];
  /** Set after a GlobalAveragePool, until a Flatten or Reshape: ONNX's value then has two more axes of 1. */
  squeezed: boolean;
}

function tensorOf(c: Constant, dims: number[] = c.dims): Tensor {
  return new Tensor(Float32Array.from(c.values as ArrayLike<number>), dims);
}

function transpose2d(c: Constant): Tensor {
  const [r, k] = c.dims, out = new Float32Array(r * k), v = c.values;
  for (let i = 0; i < r; i++) for (let j = 0; j < k; j++) out[j * r + i] = v[i * k + j];
  return new Tensor(out, [k, r]);
}

/**
 * Builds a Sequential from a decoded model. First every node is checked (operator, attributes, that the graph is
 * a chain from the input to the output, the weights' shapes); the problems found are reported together.
 */
function buildNetwork(model: ModelProto, file: string): Sequential {
  const graph = model.graph;
  if (!graph) throw new OnnxError('the model has no graph', file);
  const opset = (model.opset_import ?? []).find((o) => !o.domain || o.domain === 'ai.onnx')?.version;
  if (opset === undefined) throw new OnnxError('the model imports no version of the default ONNX operator set', file);
  const constants = new Map<string, Constant>();
  // '' names an input that is not given, never a tensor: an unnamed initializer is read (checked) but bound to nothing,
  // as onnxruntime drops it
  const bind = (name: string | null | undefined, t: TensorProto) => {
    const c = constantOf(t, file);
    if (name) constants.set(name, c);
  };
  for (const t of graph.initializer ?? []) bind(t.name, t);
  const problems: string[] = [];
  const nodes = graph.node ?? [];
  for (const [k, n] of nodes.entries()) {
    if (n.op_type !== 'Constant') continue;
    const value = (n.attribute ?? []).find((a) => a.name === 'value')?.t;
    if (!value || (n.attribute ?? []).length !== 1) problems.push(`node ${k} (Constant): only a 'value' tensor is read`);
    else bind(n.output?.[0], value);
  }
  const inputs = (graph.input ?? []).filter((v) => !constants.has(v.name));
  if (inputs.length !== 1) throw new OnnxError(`the graph must have one input, it has ${inputs.length} (${inputs.map((v) => v.name).join(', ')})`, file);
  const outputs = graph.output ?? [];
  if (outputs.length !== 1) throw new OnnxError(`the graph must have one output, it has ${outputs.length}`, file);
  const tt = inputs[0].type?.tensor_type;
  if (tt?.elem_type !== undefined && tt.elem_type !== DATA_TYPE.FLOAT && tt.elem_type !== DATA_TYPE.DOUBLE) {
    throw new OnnxError(`the input '${inputs[0].name}' has ONNX data type ${tt.elem_type}; loadOnnx reads float inputs`, file);
  }
  const dims = tt?.shape?.dim ?? [];
  const sample = dims.slice(1).map((d) => Number(d.dim_value ?? 0));
  if (dims.length < 2 || sample.some((d) => !(d > 0))) {
    const shown = dims.map((d) => d.dim_param || (d.dim_value ?? '?'));
    throw new OnnxError(`the input '${inputs[0].name}' must be (batch, ...) with every axis but the first fixed, got ` +
      `[${shown.join(', ')}]`, file);
  }
  const tooLarge = sampleTooLarge(sample);
  if (tooLarge) throw new OnnxError(`the input '${inputs[0].name}' of sample shape ${tooLarge}`, file);

  const w: Walk = { layers: [], weights: {}, current: inputs[0].name, shape: sample, squeezed: false };
  const add = (layer: Layer, weights: Record<string, Tensor> = {}) => {
    const i = w.layers.length;
    for (const [k, t] of Object.entries(weights)) w.weights[`${i}.${k}`] = t;
    w.layers.push(layer);
  };
  nodes.forEach((node, k) => {
    if (node.op_type === 'Constant') return;
    const where = `node ${k} (${node.op_type}${node.name ? ` '${node.name}'` : ''})`;
    if (node.domain && node.domain !== 'ai.onnx') {
      problems.push(`${where}: the operator domain '${node.domain}' is not supported`);
      return;
    }
    if (!(ONNX_IMPORT_OPS as readonly string[]).includes(node.op_type)) {
      problems.push(`${where}: the operator ${node.op_type} is not supported (loadOnnx reads ${ONNX_IMPORT_OPS.join(', ')})`);
      return;
    }
    if (problems.length) return;  // after an unreadable node, only operators and attributes are checked
    const ins = node.input ?? [];
    const dataIn = node.op_type === 'Add' ? ins.find((n) => !constants.has(n)) : ins[0];
    if (dataIn !== w.current) {
      problems.push(`${where} reads '${dataIn}', not the output of the node before it: loadOnnx reads graphs that are a chain`);
      return;
    }
    const attrs = new Attributes(node, where, problems);
    const before = problems.length;
    const weight = (j: number, what: string, rank: number | null): Constant | null => {
      if (!ins[j]) {
        problems.push(`${where}: the ${what} (input ${j}) is not given`);
        return null;
      }
      const c = constants.get(ins[j]);
      if (!c) {
        problems.push(`${where}: the ${what} '${ins[j] ?? ''}' must be a constant (an initializer)`);
        return null;
      }
      if (rank !== null && c.dims.length !== rank) {
        problems.push(`${where}: the ${what} '${ins[j]}' has shape ${formatShape(c.dims)}, expected ${rank} axes`);
        return null;
      }
      return c;
    };
    const spatialOnly = () => {
      if (w.squeezed) problems.push(`${where}: after a GlobalAveragePool only Flatten, Reshape and elementwise operators are read`);
    };
    const C = w.shape[0];
    const expectChannels = (c: Constant | null, what: string) => {
      if (c && sizeOfDims(c.dims) !== C) problems.push(`${where}: the ${what} has ${sizeOfDims(c.dims)} values for ${C} channels`);
    };
    // a value the layer refuses (a stride of 0, a negative eps, a kernel longer than the input) is the node's problem
    try {
      switch (node.op_type) {
        case 'Identity':
          attrs.only([]);
          break;
        case 'Pad': {
          attrs.only(['mode', 'pads', 'value']);
          const pads = ins.length > 1 && ins[1] ? weight(1, 'pads', 1)?.values : attrs.ints('pads');
          if (pads && !Array.from(pads).every((p) => p === 0)) {
            problems.push(`${where}: padding [${Array.from(pads).join(', ')}] is not supported (only a Pad of zeros, which does nothing)`);
          }
          break;
        }
        case 'Relu': case 'Sigmoid': case 'Tanh':
          attrs.only([]);
          if (problems.length === before) add(node.op_type === 'Relu' ? new ReLU() : node.op_type === 'Sigmoid' ? new Sigmoid() : new Tanh());
          break;
        case 'LeakyRelu':
          attrs.only(['alpha']);
          add(new LeakyReLU(attrs.float('alpha', 0.01)));
          break;
        case 'Softmax': {
          attrs.only(['axis']);
          const rank = w.shape.length + 1, axis = attrs.int('axis', opset >= 13 ? -1 : 1);
          const last = axis === -1 || axis === rank - 1;
          // before opset 13, Softmax works on the input seen as 2-D at the axis: the last axis of a 2-D input
          if (!last || (opset < 13 && rank !== 2) || w.squeezed) {
            problems.push(`${where}: softmax over axis ${axis} of a ${rank}-axis input is not supported (only the last axis)`);
          } else add(new Softmax());
          break;
        }
        case 'Flatten': {
          attrs.only(['axis']);
          attrs.expect('axis', attrs.int('axis', 1) === 1, attrs.int('axis', 1), '1');
          if (problems.length === before && w.shape.length > 1) {
            add(new Flatten());
            w.shape = [sizeOfDims(w.shape)];
          }
          w.squeezed = false;
          break;
        }
        case 'Reshape': {
          attrs.only(['allowzero']);
          attrs.expect('allowzero', attrs.int('allowzero', 0) === 0, attrs.int('allowzero', 0), '0');
          const target = weight(1, 'shape', 1);
          if (!target) break;
          const t = target.values as number[], features = sizeOfDims(w.shape);
          const flat = t.length === 2 && (t[0] === -1 || t[0] === 0) && (t[1] === features || (t[1] === -1 && t[0] === 0));
          if (!flat) {
            problems.push(`${where}: a Reshape to [${t.join(', ')}] is not supported (only flattening each sample: [-1, ${features}] or [0, -1])`);
            break;
          }
          if (w.shape.length > 1) add(new Flatten());
          w.shape = [features];
          w.squeezed = false;
          break;
        }
        case 'Gemm': {
          attrs.only(['alpha', 'beta', 'transA', 'transB']);
          attrs.expect('alpha', attrs.float('alpha', 1) === 1, attrs.float('alpha', 1), '1');
          attrs.expect('beta', attrs.float('beta', 1) === 1, attrs.float('beta', 1), '1');
          attrs.expect('transA', attrs.int('transA', 0) === 0, attrs.int('transA', 0), '0');
          const transB = attrs.int('transB', 0) === 1;
          const b = weight(1, 'weight', 2), c = ins.length > 2 && ins[2] ? weight(2, 'bias', null) : null;
          if (w.shape.length !== 1) problems.push(`${where}: Gemm needs a 2-D input, this one is (N, ${w.shape.join(', ')})`);
          if (!b || problems.length !== before) break;
          const W = transB ? transpose2d(b) : tensorOf(b);
          const [inF, outF] = W.shape;
          if (inF !== w.shape[0]) problems.push(`${where}: the weight takes ${inF} features, the input has ${w.shape[0]}`);
          if (c && sizeOfDims(c.dims) !== outF) problems.push(`${where}: the bias has ${sizeOfDims(c.dims)} values for ${outF} outputs`);
          if (problems.length !== before) break;
          add(new Dense(inF, outF, { bias: c !== null }), c ? { weight: W, bias: tensorOf(c, [outF]) } : { weight: W });
          w.shape = [outF];
          break;
        }
        case 'MatMul': {
          attrs.only([]);
          const b = weight(1, 'weight', 2);
          if (w.shape.length !== 1) problems.push(`${where}: MatMul is read as a Dense layer on a 2-D input; this one is (N, ${w.shape.join(', ')})`);
          if (!b || problems.length !== before) break;
          const [inF, outF] = b.dims;
          if (inF !== w.shape[0]) {
            problems.push(`${where}: the weight takes ${inF} features, the input has ${w.shape[0]}`);
            break;
          }
          add(new Dense(inF, outF, { bias: false }), { weight: tensorOf(b) });
          w.shape = [outF];
          break;
        }
        case 'Add': {
          // x W + b: the bias of the MatMul before it
          attrs.only([]);
          const prev = w.layers[w.layers.length - 1], i = w.layers.length - 1;
          const bias = ins.find((n) => constants.has(n));
          const c = bias === undefined ? null : constants.get(bias)!;
          const afterMatMul = k > 0 && nodes[k - 1].op_type === 'MatMul' && prev instanceof Dense && !prev.hasBias;
          if (!afterMatMul || !c || sizeOfDims(c.dims) !== (prev as Dense).outFeatures) {
            problems.push(`${where}: Add is read only as the bias of the MatMul just before it (a constant of its ${w.shape[0]} outputs)`);
            break;
          }
          const d = prev as Dense;
          w.layers[i] = new Dense(d.inFeatures, d.outFeatures);
          w.weights[`${i}.bias`] = tensorOf(c, [d.outFeatures]);
          break;
        }
        case 'Conv': {
          attrs.only(['kernel_shape', 'strides', 'pads', 'dilations', 'group', 'auto_pad']);
          spatialOnly();
          const W = weight(1, 'weight', null), B = ins.length > 2 && ins[2] ? weight(2, 'bias', 1) : null;
          if (!W) break;
          const sd = W.dims.length - 2;
          if (sd !== 1 && sd !== 2) {
            problems.push(`${where}: a ${sd}-D convolution is not supported (Conv1D and Conv2D only)`);
            break;
          }
          const kernel = W.dims.slice(2);
          const ks = attrs.ints('kernel_shape');
          attrs.expect('kernel_shape', !ks || ks.join() === kernel.join(), ks, `the weight's [${kernel.join(', ')}]`);
          const strides = attrs.ints('strides') ?? new Array<number>(sd).fill(1), pads = attrs.ints('pads') ?? new Array<number>(2 * sd).fill(0);
          const dil = attrs.ints('dilations');
          attrs.expect('dilations', !dil || dil.every((d) => d === 1), dil, 'all 1');
          attrs.expect('group', attrs.int('group', 1) === 1, attrs.int('group', 1), '1');
          const autoPad = attrs.string('auto_pad', 'NOTSET');
          attrs.expect('auto_pad', autoPad === 'NOTSET' || autoPad === 'VALID', autoPad, "'NOTSET' or 'VALID' (give the pads)");
          attrs.expect('pads', pads.slice(0, sd).join() === pads.slice(sd).join(), pads, 'the same padding at both ends');
          if (w.shape.length !== sd + 1) problems.push(`${where}: a ${sd}-D convolution of an input of shape (N, ${w.shape.join(', ')})`);
          else if (W.dims[1] !== C) problems.push(`${where}: the weight takes ${W.dims[1]} channels, the input has ${C}`);
          if (B && sizeOfDims(B.dims) !== W.dims[0]) problems.push(`${where}: the bias has ${sizeOfDims(B.dims)} values for ${W.dims[0]} filters`);
          if (problems.length !== before) break;
          const F = W.dims[0], opts = { bias: B !== null };
          const layer = sd === 1
            ? new Conv1D(C, F, kernel[0], { ...opts, stride: strides[0], padding: pads[0] })
            : new Conv2D(C, F, kernel as [number, number], { ...opts, stride: strides as [number, number], padding: [pads[0], pads[1]] });
          w.shape = layer.outputShape([1, ...w.shape]).slice(1);
          add(layer, B ? { weight: tensorOf(W), bias: tensorOf(B) } : { weight: tensorOf(W) });
          break;
        }
        case 'MaxPool': case 'AveragePool': {
          const max = node.op_type === 'MaxPool';
          attrs.only(['kernel_shape', 'strides', 'pads', 'ceil_mode', 'auto_pad', ...(max ? ['dilations', 'storage_order'] : ['count_include_pad'])]);
          spatialOnly();
          const ks = attrs.ints('kernel_shape');
          if (!ks || ks.length !== 2 || w.shape.length !== 3) {
            problems.push(`${where}: only 2-D pooling of (N, C, H, W) inputs is supported (kernel_shape ${JSON.stringify(ks)})`);
            break;
          }
          const strides = attrs.ints('strides') ?? [1, 1], pads = attrs.ints('pads');
          attrs.expect('pads', !pads || pads.every((p) => p === 0), pads, 'no padding');
          attrs.expect('ceil_mode', attrs.int('ceil_mode', 0) === 0, attrs.int('ceil_mode', 0), '0');
          const autoPad = attrs.string('auto_pad', 'NOTSET');
          attrs.expect('auto_pad', autoPad === 'NOTSET' || autoPad === 'VALID', autoPad, "'NOTSET' or 'VALID'");
          const dil = attrs.ints('dilations');
          attrs.expect('dilations', !dil || dil.every((d) => d === 1), dil, 'all 1');
          attrs.expect('storage_order', attrs.int('storage_order', 0) === 0, attrs.int('storage_order', 0), '0');
          if ((node.output ?? []).length > 1 && node.output![1]) problems.push(`${where}: the Indices output is not supported`);
          if (problems.length !== before) break;
          const layer = max ? new MaxPool2D(ks as [number, number], { stride: strides as [number, number] })
            : new AvgPool2D(ks as [number, number], { stride: strides as [number, number] });
          w.shape = layer.outputShape([1, ...w.shape]).slice(1);
          add(layer);
          break;
        }
        case 'GlobalAveragePool':
          attrs.only([]);
          spatialOnly();
          if (w.shape.length !== 3) {
            problems.push(`${where}: only (N, C, H, W) inputs are supported, got (N, ${w.shape.join(', ')})`);
            break;
          }
          add(new GlobalAvgPool2D());
          w.shape = [C];
          w.squeezed = true;
          break;
        case 'BatchNormalization': {
          attrs.only(['epsilon', 'momentum', 'training_mode', 'spatial']);
          spatialOnly();
          attrs.expect('training_mode', attrs.int('training_mode', 0) === 0, attrs.int('training_mode', 0), '0 (inference)');
          attrs.expect('spatial', attrs.int('spatial', 1) === 1, attrs.int('spatial', 1), '1');
          const [scale, bias, mean, variance] = [1, 2, 3, 4].map((j) => weight(j, ['scale', 'B', 'input_mean', 'input_var'][j - 1], null));
          [scale, bias, mean, variance].forEach((c, j) => expectChannels(c, ['scale', 'B', 'input_mean', 'input_var'][j]));
          if (w.shape.length > 3) problems.push(`${where}: inputs of more than 2 spatial axes are not supported`);
          if ((node.output ?? []).slice(1).some((o) => o)) problems.push(`${where}: the training outputs (running mean and variance) are not supported`);
          if (problems.length !== before) break;
          const eps = attrs.float('epsilon', 1e-5), momentum = shortestFloat32(1 - attrs.float('momentum', 0.9));
          const opts = { eps, momentum: Math.min(1, Math.max(0, momentum)) };
          const layer = w.shape.length === 3 ? new BatchNorm2D(C, opts) : new BatchNorm1D(C, opts);
          add(layer, { weight: tensorOf(scale!, [C]), bias: tensorOf(bias!, [C]), running_mean: tensorOf(mean!, [C]), running_var: tensorOf(variance!, [C]) });
          break;
        }
        case 'Dropout': {
          attrs.only(['ratio', 'seed', 'is_test']);
          let ratio = attrs.float('ratio', 0.5);
          if (ins.length > 1 && ins[1]) {
            const r = weight(1, 'ratio', null);
            if (r) ratio = shortestFloat32(Number(r.values[0]));
          }
          if (ins.length > 2 && ins[2]) {
            const t = weight(2, 'training_mode', null);
            if (t && Number(t.values[0]) !== 0) problems.push(`${where}: training_mode = true is not supported (inference only)`);
          }
          if ((node.output ?? []).length > 1 && node.output![1]) problems.push(`${where}: the mask output is not supported`);
          if (!(ratio >= 0 && ratio < 1)) problems.push(`${where}: ratio ${ratio} is not supported (0 <= ratio < 1)`);
          if (problems.length === before) add(new Dropout(ratio));
          break;
        }
      }
    } catch (e) {
      if (e instanceof OnnxError) throw e;
      problems.push(`${where}: ${(e as Error).message}`);
    }
    const outputTooLarge = sampleTooLarge(w.shape);
    if (outputTooLarge) problems.push(`${where}: its output of sample shape ${outputTooLarge}`);
    if (problems.length === before) w.current = node.output?.[0] ?? '';
  });
  if (problems.length) {
    throw new OnnxError(`cannot read this graph:\n  ${problems.join('\n  ')}`, file);
  }
  if (w.current !== outputs[0].name) {
    throw new OnnxError(`the graph's output '${outputs[0].name}' is not the end of the chain of nodes (which ends at '${w.current}')`, file);
  }
  if (w.layers.length === 0) throw new OnnxError('the graph computes nothing nodenn has a layer for (it has no operator but Identity)', file);
  const net = new Sequential(w.layers);
  net.loadStateDict(w.weights);
  net.eval();
  // fixes the network's input shape (save(), summary() and single samples use it)
  net.forward(Tensor.zeros([1, ...sample]));
  return net;
}

/** Reads an ONNX model held in memory; `file` names it in errors. */
export function decodeOnnx(bytes: Uint8Array, file = '<buffer>'): Sequential {
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`bytes must be a Uint8Array, got ${describeValue(bytes)}`);
  const { ModelProto } = onnxTypes();
  let model: ModelProto;
  try {
    model = ModelProto.toObject(ModelProto.decode(bytes), { longs: Number, arrays: true }) as ModelProto;
  } catch (e) {
    throw new OnnxError(`not an ONNX model (the protobuf does not decode: ${(e as Error).message})`, file);
  }
  return buildNetwork(model, file);
}

/**
 * Reads an ONNX model into a Sequential in eval mode, its input shape set from the graph's input. The graph must be
 * a chain of the operators in ONNX_IMPORT_OPS; every unsupported operator or attribute is named in one OnnxError.
 */
export async function loadOnnx(path: string): Promise<Sequential> {
  if (typeof path !== 'string' || path === '') throw new TypeError(`loadOnnx: path must be a non-empty string, got ${describeValue(path)}`);
  return decodeOnnx(await fs.readFile(path), path);
}
