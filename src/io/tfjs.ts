// TensorFlow.js Layers format: model.json (a Keras Sequential topology and a weights manifest) and weights.bin,
// what tf.loadLayersModel reads. nodenn's NCHW layout is kept: convolutions and pools are written channels-first
// (TF.js transposes around its NHWC kernels), Flatten without a data format (so it flattens in nodenn's order),
// Conv2D's padding as a ZeroPadding2D before it and Conv1D as a Conv2D with a 1 x K kernel between two Reshapes.
// Reading takes what this writes, and Keras Sequential models of the same layers (Dense with its activation,
// Conv2D and pools channels-first).
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Sequential } from '../network';
import type { Layer } from '../layers/layer';
import { Activation } from '../layers/activation';
import { AvgPool2D } from '../layers/avg_pool2d';
import { BatchNorm } from '../layers/batch_norm';
import { BatchNorm1D } from '../layers/batch_norm1d';
import { BatchNorm2D } from '../layers/batch_norm2d';
import { Conv1D } from '../layers/conv1d';
import { Conv2D } from '../layers/conv2d';
import { Dense } from '../layers/dense';
import { Dropout } from '../layers/dropout';
import { Flatten } from '../layers/flatten';
import { GlobalAvgPool2D } from '../layers/global_avg_pool2d';
import { LeakyReLU } from '../layers/leaky_relu';
import { MaxPool2D } from '../layers/max_pool2d';
import { ReLU } from '../layers/relu';
import { Sigmoid } from '../layers/sigmoid';
import { Softmax } from '../layers/softmax';
import { Tanh } from '../layers/tanh';
import { describeValue, isArray, isPlainObject, isShape, isString } from '../validate';
import { Tensor, formatShape } from '../tensor';
import { VERSION } from '../version';
import { writeFileAtomic } from './atomic';
import { ModelFormatError, sampleTooLarge } from './errors';

/** A TensorFlow.js model.json or weight file that loadTfjs cannot read, naming the file. */
export class TfjsError extends ModelFormatError {
  constructor(message: string, file: string) {
    super(message, file, 'tfjs');
    this.name = 'TfjsError';
  }
}

/** One layer of a Keras model: its class name ('Dense', 'Conv2D', ...) and its config as Keras writes it. */
export interface KerasLayer {
  class_name: string;
  config: Record<string, unknown>;
}

/** One weight in model.json's weightsManifest: its name, shape and dtype, in the order of the weight bytes. */
export interface TfjsWeightSpec {
  name: string;
  shape: number[];
  dtype: string;
}

/** What model.json holds. */
export interface TfjsModelJson {
  format: 'layers-model';
  generatedBy: string;
  convertedBy: null;
  modelTopology: { class_name: 'Sequential'; config: { name: string; layers: KerasLayer[] }; keras_version: string; backend: string };
  weightsManifest: { paths: string[]; weights: TfjsWeightSpec[] }[];
}

/** Options of exportTfjs and encodeTfjs. */
export interface ExportTfjsOptions {
  /** The shape of one sample, without the batch axis (default: the network's, as save() finds it). */
  inputShape?: readonly number[];
}

/** (F, C, KH, KW) → (KH, KW, C, F). */
function kernelToHwio(w: Tensor): Float32Array {
  const [F, C, KH, KW] = w.shape.length === 4 ? w.shape : [w.shape[0], w.shape[1], 1, w.shape[2]];
  const out = new Float32Array(w.size);
  for (let f = 0; f < F; f++) for (let c = 0; c < C; c++) for (let i = 0; i < KH; i++) for (let j = 0; j < KW; j++) {
    out[((i * KW + j) * C + c) * F + f] = w.data[((f * C + c) * KH + i) * KW + j];
  }
  return out;
}

/** (KH, KW, C, F) → (F, C, KH, KW). */
function kernelFromHwio(data: Float32Array, [KH, KW, C, F]: number[]): Float32Array {
  const out = new Float32Array(data.length);
  for (let f = 0; f < F; f++) for (let c = 0; c < C; c++) for (let i = 0; i < KH; i++) for (let j = 0; j < KW; j++) {
    out[((f * C + c) * KH + i) * KW + j] = data[((i * KW + j) * C + c) * F + f];
  }
  return out;
}

const ACTIVATIONS: [new () => Layer, string][] = [[ReLU, 'relu'], [Sigmoid, 'sigmoid'], [Tanh, 'tanh']];

/** The Keras layers and weights of a network (what exportTfjs writes). */
export function encodeTfjs(net: Sequential, options: ExportTfjsOptions = {}): { modelJson: TfjsModelJson; weightData: Uint8Array } {
  if (options === null || typeof options !== 'object') throw new TypeError(`exportTfjs options must be an object, got ${describeValue(options)}`);
  const sample = options.inputShape ?? net.inputShape ?? (net.layers[0] instanceof Dense ? [net.layers[0].inFeatures] : null);
  if (!sample) {
    throw new TypeError('exportTfjs: the network\'s input shape is unknown: pass { inputShape } with the shape of one sample, e.g. [1, 28, 28]');
  }
  if (!isArray(sample) || sample.length === 0 || !sample.every((d) => Number.isInteger(d) && d > 0)) {
    throw new TypeError(`exportTfjs: inputShape must be an array of positive integers, got ${describeValue(sample)}`);
  }
  if (net.layers.length === 0) throw new RangeError('exportTfjs: the network has no layers');
  const layers: KerasLayer[] = [], specs: TfjsWeightSpec[] = [], chunks: Float32Array[] = [];
  const add = (class_name: string, name: string, config: Record<string, unknown> = {}) => {
    const c: Record<string, unknown> = { name, trainable: true, ...config };
    if (layers.length === 0) Object.assign(c, { batch_input_shape: [null, ...sample], dtype: 'float32' });
    layers.push({ class_name, config: c });
  };
  const weight = (name: string, shape: number[], data: ArrayLike<number>) => {
    specs.push({ name, shape, dtype: 'float32' });
    chunks.push(Float32Array.from(data));
  };
  let shape = [1, ...sample];
  net.layers.forEach((layer, i) => {
    let next: number[];
    try {
      next = layer.outputShape(shape);
    } catch (e) {
      throw new RangeError(`exportTfjs: the input shape ${formatShape(sample)} does not fit layer ${i} (${layer.name}): ${(e as Error).message}`);
    }
    if (layer instanceof Dense) {
      if (shape.length > 2) add('Flatten', `flatten_${i}_in`);
      add('Dense', `dense_${i}`, { units: layer.outFeatures, activation: 'linear', use_bias: layer.hasBias });
      weight(`dense_${i}/kernel`, [layer.inFeatures, layer.outFeatures], layer.weight.data);
      if (layer.bias) weight(`dense_${i}/bias`, [layer.outFeatures], layer.bias.data);
    } else if (layer instanceof Conv2D) {
      const oneD = layer instanceof Conv1D;
      if (oneD) add('Reshape', `conv1d_${i}_in`, { target_shape: [shape[1], 1, shape[2]] });
      const [ph, pw] = layer.padding;
      if (ph || pw) add('ZeroPadding2D', `conv_${i}_pad`, { padding: [[ph, ph], [pw, pw]], data_format: 'channels_first' });
      const [KH, KW] = layer.kernelSize;
      add('Conv2D', `conv_${i}`, {
        filters: layer.outChannels, kernel_size: [KH, KW], strides: layer.stride, padding: 'valid', data_format: 'channels_first',
        dilation_rate: [1, 1], activation: 'linear', use_bias: layer.hasBias,
      });
      weight(`conv_${i}/kernel`, [KH, KW, layer.inChannels, layer.outChannels], kernelToHwio(layer.weight));
      if (layer.bias) weight(`conv_${i}/bias`, [layer.outChannels], layer.bias.data);
      if (oneD) add('Reshape', `conv1d_${i}_out`, { target_shape: next.slice(1) });
    } else if (layer instanceof MaxPool2D || layer instanceof AvgPool2D) {
      add(layer instanceof MaxPool2D ? 'MaxPooling2D' : 'AveragePooling2D', `pool_${i}`,
        { pool_size: layer.kernelSize, strides: layer.stride, padding: 'valid', data_format: 'channels_first' });
    } else if (layer instanceof GlobalAvgPool2D) {
      add('GlobalAveragePooling2D', `pool_${i}`, { data_format: 'channels_first' });
    } else if (layer instanceof LeakyReLU) {
      add('LeakyReLU', `act_${i}`, { alpha: layer.config().slope });
    } else if (layer instanceof Activation && ACTIVATIONS.some(([L]) => layer instanceof L)) {
      add('Activation', `act_${i}`, { activation: ACTIVATIONS.find(([L]) => layer instanceof L)![1] });
    } else if (layer instanceof Softmax) {
      add('Activation', `act_${i}`, { activation: 'softmax' });
    } else if (layer instanceof Flatten) {
      add('Flatten', `flatten_${i}`);
    } else if (layer instanceof Dropout) {
      add('Dropout', `dropout_${i}`, { rate: layer.p });
    } else if (layer instanceof BatchNorm) {
      // channels last, between two Permutes: TF.js's CPU batch norm applies its parameters along the last axis only
      const rank = shape.length;
      if (rank > 2) add('Permute', `bn_${i}_in`, { dims: rank === 3 ? [2, 1] : [2, 3, 1] });
      add('BatchNormalization', `bn_${i}`, { axis: -1, epsilon: layer.eps, momentum: 1 - layer.momentum, center: true, scale: true });
      if (rank > 2) add('Permute', `bn_${i}_out`, { dims: rank === 3 ? [2, 1] : [3, 1, 2] });
      const C = [layer.numFeatures];
      weight(`bn_${i}/gamma`, C, layer.weight.data);
      weight(`bn_${i}/beta`, C, layer.bias.data);
      weight(`bn_${i}/moving_mean`, C, layer.runningMean.data);
      weight(`bn_${i}/moving_variance`, C, layer.runningVar.data);
    } else {
      throw new TypeError(`exportTfjs: layer ${i} (${layer.name}) has no TensorFlow.js counterpart`);
    }
    shape = next;
  });
  const bytes = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let at = 0;
  for (const c of chunks) {
    bytes.set(new Uint8Array(c.buffer, c.byteOffset, c.byteLength), at);
    at += c.byteLength;
  }
  return {
    modelJson: {
      format: 'layers-model', generatedBy: `nodenn ${VERSION}`, convertedBy: null,
      modelTopology: {
        class_name: 'Sequential', config: { name: 'nodenn_sequential', layers },
        keras_version: 'tfjs-layers 4.22.0', backend: 'tensor_flow.js',
      },
      weightsManifest: [{ paths: ['weights.bin'], weights: specs }],
    },
    weightData: bytes,
  };
}

/** Writes dir/model.json and dir/weights.bin (each atomically; the folder is made if need be). */
export async function exportTfjs(net: Sequential, dir: string, options: ExportTfjsOptions = {}): Promise<void> {
  if (typeof dir !== 'string' || dir === '') throw new TypeError(`exportTfjs: dir must be a non-empty string, got ${describeValue(dir)}`);
  const { modelJson, weightData } = encodeTfjs(net, options);
  await fs.mkdir(dir, { recursive: true });
  writeFileAtomic(path.join(dir, 'weights.bin'), weightData);
  writeFileAtomic(path.join(dir, 'model.json'), new TextEncoder().encode(`${JSON.stringify(modelJson)}\n`));
}

const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
const pairOf = (v: unknown): [number, number] | null => {
  const a = typeof v === 'number' ? [v, v] : v;
  return Array.isArray(a) && a.length === 2 && a.every((d) => Number.isInteger(d) && d > 0) ? [a[0], a[1]] : null;
};

/** Builds a Sequential from model.json's topology and the weights by name. */
export function decodeTfjs(modelJson: unknown, weights: Map<string, { shape: number[]; data: Float32Array }>, file = '<memory>'): Sequential {
  const fail = (why: string): never => { throw new TfjsError(why, file); };
  const mj = modelJson as { modelTopology?: Record<string, unknown> } | null;
  let topo = mj?.modelTopology as Record<string, unknown> | undefined;
  if (topo && topo.model_config) topo = topo.model_config as Record<string, unknown>;
  if (!topo || typeof topo !== 'object') return fail('no modelTopology: not a TensorFlow.js Layers model.json');
  if (topo.class_name !== 'Sequential') fail(`the model is a ${String(topo.class_name)}; loadTfjs reads Sequential models`);
  const cfg = topo.config as { layers?: unknown } | unknown[];
  const list = (Array.isArray(cfg) ? cfg : (cfg as { layers?: unknown })?.layers) as KerasLayer[] | undefined;
  if (!Array.isArray(list) || list.length === 0) return fail('the Sequential has no layers');
  list.forEach((l, k) => {
    if (!isPlainObject(l) || !isPlainObject(l.config)) fail(`layer ${k} is not a Keras layer: { class_name, config }`);
  });
  const first = list[0].config;
  const bis = (first?.batch_input_shape ?? first?.batchInputShape) as unknown[] | undefined;
  if (!Array.isArray(bis) || bis.length < 2 || !bis.slice(1).every((d) => Number.isInteger(d) && (d as number) > 0)) {
    fail(`the first layer must give batch_input_shape [null, ...] with fixed sizes, got ${JSON.stringify(bis ?? null)}`);
  }
  const sample = (bis as number[]).slice(1);
  const inputTooLarge = sampleTooLarge(sample);
  if (inputTooLarge) fail(`the input of sample shape ${inputTooLarge}`);
  const layers: Layer[] = [], state: Record<string, Tensor> = {};
  let shape = [1, ...sample];
  const push = (layer: Layer, params: Record<string, Tensor> = {}) => {
    const i = layers.length;
    for (const [k, t] of Object.entries(params)) state[`${i}.${k}`] = t;
    shape = layer.outputShape(shape);
    const tooLarge = sampleTooLarge(shape.slice(1));
    if (tooLarge) throw new Error(`its output of sample shape ${tooLarge}`);
    layers.push(layer);
  };
  const take = (name: string, want: number[]): Float32Array => {
    const w = weights.get(name) ?? fail(`the weight '${name}' is not in the weights manifest`);
    if (w.shape.join() !== want.join()) fail(`the weight '${name}' has shape ${formatShape(w.shape)}, expected ${formatShape(want)}`);
    return w.data;
  };
  // a string field of a layer's config: absent or null is Keras's default, anything else but a string is refused
  const text = (c: Record<string, unknown>, field: string, where: string, absent: string): string => {
    const v = c[field];
    if (v === undefined || v === null) return absent;
    if (typeof v !== 'string') fail(`${where}: ${field} must be a string, got ${describeValue(v)}`);
    return v as string;
  };
  const activation = (c: Record<string, unknown>, where: string) => {
    const a = text(c, 'activation', where, 'linear');
    if (a === 'linear') return;
    const L = { relu: ReLU, sigmoid: Sigmoid, tanh: Tanh, softmax: Softmax }[a];
    if (!L) fail(`${where}: the activation '${a}' is not supported (relu, sigmoid, tanh, softmax, linear)`);
    push(new L!());
  };
  const count = (v: unknown, what: string, where: string): number => {
    if (!Number.isInteger(v) || (v as number) < 1) fail(`${where}: ${what} must be a positive integer, got ${describeValue(v)}`);
    return v as number;
  };
  const channelsFirst = (c: Record<string, unknown>, where: string) => {
    const f = text(c, 'data_format', where, 'channels_last');
    if (f !== 'channels_first') fail(`${where}: data_format '${f}' is not supported: nodenn is NCHW, only channels_first is read`);
  };
  const batchNorm = (c: Record<string, unknown>, where: string) => {
    if (c.center === false || c.scale === false) fail(`${where}: center and scale must be true`);
    const C = shape[1], name = str(c.name) ?? '';
    const opts = { eps: typeof c.epsilon === 'number' ? c.epsilon : 1e-3, momentum: 1 - (typeof c.momentum === 'number' ? c.momentum : 0.99) };
    // the weights first: they exist in the files, while the layer's size is only the config's word
    const t = (n: string) => new Tensor(take(`${name}/${n}`, [C]), [C]);
    const params = { weight: t('gamma'), bias: t('beta'), running_mean: t('moving_mean'), running_var: t('moving_variance') };
    push(shape.length === 4 ? new BatchNorm2D(C, opts) : new BatchNorm1D(C, opts), params);
  };
  for (let k = 0; k < list.length; k++) {
    const { class_name: cls, config: c } = list[k];
    const name = str(c?.name) ?? `#${k}`, where = `layer ${k} (${cls} '${name}')`;
    try {
      switch (cls) {
        case 'InputLayer': break;
        case 'Dense': {
          if (shape.length !== 2) fail(`${where}: Dense on an input of shape ${formatShape(shape)} (Flatten first)`);
          const units = count(c.units, 'units', where), inF = shape[1], bias = c.use_bias !== false;
          const params = {
            weight: new Tensor(take(`${name}/kernel`, [inF, units]), [inF, units]),
            ...(bias ? { bias: new Tensor(take(`${name}/bias`, [units]), [units]) } : {}),
          };
          push(new Dense(inF, units, { bias }), params);
          activation(c, where);
          break;
        }
        case 'ZeroPadding2D': case 'Conv2D': {
          // [Reshape (C, 1, L)] [ZeroPadding2D] Conv2D [Reshape]: Conv1D when a Reshape to (C, 1, L) came before
          let conv = list[k], pad: [number, number] = [0, 0];
          if (cls === 'ZeroPadding2D') {
            channelsFirst(c, where);
            const p = c.padding as unknown;
            const pp = typeof p === 'number' ? [[p, p], [p, p]] : Array.isArray(p) && p.every((q) => typeof q === 'number') ? [[p[0], p[0]], [p[1], p[1]]] : p as number[][];
            if (!Array.isArray(pp) || pp.length !== 2 || pp.some((q) => !Array.isArray(q) || q[0] !== q[1])) fail(`${where}: only the same padding at both ends is read`);
            pad = [pp[0][0], pp[1][0]];
            conv = list[++k] ?? fail(`${where}: a ZeroPadding2D is read only before a Conv2D`);
            if (conv.class_name !== 'Conv2D') fail(`${where}: a ZeroPadding2D is read only before a Conv2D`);
          }
          const cc = conv.config, cname = str(cc.name) ?? `#${k}`, cwhere = `layer ${k} (Conv2D '${cname}')`;
          channelsFirst(cc, cwhere);
          if ((str(cc.padding) ?? 'valid') !== 'valid') fail(`${cwhere}: padding '${String(cc.padding)}' is not supported (valid, with a ZeroPadding2D)`);
          const dil = pairOf(cc.dilation_rate ?? 1);
          if (!dil || dil[0] !== 1 || dil[1] !== 1) fail(`${cwhere}: dilation_rate ${JSON.stringify(cc.dilation_rate)} is not supported (1)`);
          const ks = pairOf(cc.kernel_size) ?? fail(`${cwhere}: kernel_size must be a number or [h, w]`);
          const strides = pairOf(cc.strides ?? 1) ?? fail(`${cwhere}: strides must be a number or [h, w]`);
          const F = count(cc.filters, 'filters', cwhere), bias = cc.use_bias !== false;
          const C = shape[1];
          if (shape.length !== 4) fail(`${cwhere}: Conv2D on an input of shape ${formatShape(shape)}`);
          const kernel = take(`${cname}/kernel`, [ks[0], ks[1], C, F]);
          const b: Record<string, Tensor> = bias ? { bias: new Tensor(take(`${cname}/bias`, [F]), [F]) } : {};
          push(new Conv2D(C, F, ks, { stride: strides, padding: pad, bias }), { weight: new Tensor(kernelFromHwio(kernel, [ks[0], ks[1], C, F]), [F, C, ks[0], ks[1]]), ...b });
          activation(cc, cwhere);
          break;
        }
        case 'Reshape': {
          const t = c.target_shape as number[];
          if (!Array.isArray(t)) fail(`${where}: target_shape must be an array`);
          const features = shape.slice(1).reduce((a, b) => a * b, 1);
          if (t.length === 1 && (t[0] === features || t[0] === -1)) {
            if (shape.length > 2) push(new Flatten());
            break;
          }
          // the Conv1D pattern: (C, L) → (C, 1, L), a Conv2D with a 1 x K kernel, (F, 1, L') → (F, L')
          if (shape.length === 3 && t.length === 3 && t[0] === shape[1] && t[1] === 1 && t[2] === shape[2]) {
            let j = k + 1, pad = 0;
            if (list[j]?.class_name === 'ZeroPadding2D') {
              const p = list[j].config.padding as number[][];
              if (!Array.isArray(p) || p.length !== 2 || !p.every(isArray) || p[0][0] !== 0 || p[0][1] !== 0 || p[1][0] !== p[1][1] ||
                !Number.isInteger(p[1][0]) || p[1][0] < 0) fail(`${where}: unsupported padding of a 1-D convolution`);
              pad = p[1][0];
              j++;
            }
            const conv = list[j], back = list[j + 1];
            if (conv?.class_name !== 'Conv2D' || back?.class_name !== 'Reshape') fail(`${where}: a Reshape to (C, 1, L) is read only around a Conv2D (a 1-D convolution)`);
            const cc = conv.config, cname = str(cc.name) ?? '', ks = pairOf(cc.kernel_size), st = pairOf(cc.strides ?? 1);
            channelsFirst(cc, where);
            if (!ks || ks[0] !== 1 || !st || st[0] !== 1 || (str(cc.padding) ?? 'valid') !== 'valid') fail(`${where}: a Conv2D between Reshapes must have a 1 x K kernel, valid padding`);
            const C = shape[1], F = count(cc.filters, 'filters', where), K = ks![1], bias = cc.use_bias !== false;
            const kernel = take(`${cname}/kernel`, [1, K, C, F]);
            push(new Conv1D(C, F, K, { stride: st![1], padding: pad, bias }), {
              weight: new Tensor(kernelFromHwio(kernel, [1, K, C, F]), [F, C, K]),
              ...(bias ? { bias: new Tensor(take(`${cname}/bias`, [F]), [F]) } : {}),
            });
            activation(cc, where);
            const tb = back.config.target_shape as number[];
            if (!Array.isArray(tb) || tb.join() !== shape.slice(1).join()) fail(`layer ${j + 1} (Reshape): expected the 1-D convolution's output ${formatShape(shape.slice(1))}`);
            k = j + 1;
            break;
          }
          fail(`${where}: a Reshape to [${t.join(', ')}] is not supported (only flattening, and around a 1-D convolution)`);
          break;
        }
        case 'MaxPooling2D': case 'AveragePooling2D': {
          channelsFirst(c, where);
          if ((str(c.padding) ?? 'valid') !== 'valid') fail(`${where}: padding '${String(c.padding)}' is not supported (valid)`);
          const ps = pairOf(c.pool_size ?? 2) ?? fail(`${where}: pool_size must be a number or [h, w]`);
          const st = c.strides == null ? ps : pairOf(c.strides) ?? fail(`${where}: strides must be a number or [h, w]`);
          push(cls === 'MaxPooling2D' ? new MaxPool2D(ps, { stride: st }) : new AvgPool2D(ps, { stride: st }));
          break;
        }
        case 'GlobalAveragePooling2D':
          channelsFirst(c, where);
          push(new GlobalAvgPool2D());
          break;
        case 'Activation': activation(c, where); break;
        case 'ReLU':
          if (c.max_value != null) fail(`${where}: max_value is not supported`);
          push(new ReLU());
          break;
        case 'LeakyReLU': push(new LeakyReLU(typeof c.alpha === 'number' ? c.alpha : 0.3)); break;
        case 'Softmax':
          if (c.axis != null && c.axis !== -1 && c.axis !== shape.length - 1) fail(`${where}: softmax over axis ${describeValue(c.axis)} (only the last axis)`);
          push(new Softmax());
          break;
        case 'Flatten':
          if (str(c.data_format) === 'channels_first' && shape.length > 2) fail(`${where}: a channels_first Flatten reorders the features, which nodenn does not`);
          if (shape.length > 2) push(new Flatten());
          break;
        case 'Dropout': push(new Dropout(typeof c.rate === 'number' ? c.rate : 0.5)); break;
        case 'Permute': {
          // Permute to channels last, BatchNormalization over the last axis, Permute back: a batch norm of channels
          const dims = JSON.stringify(c.dims), rank = shape.length;
          const [there, back] = rank === 3 ? ['[2,1]', '[2,1]'] : ['[2,3,1]', '[3,1,2]'];
          const norm = list[k + 1], after = list[k + 2];
          if (rank < 3 || dims !== there || norm?.class_name !== 'BatchNormalization' || after?.class_name !== 'Permute' ||
            JSON.stringify(after.config.dims) !== back || ![-1, rank - 1].includes((norm.config.axis ?? -1) as number)) {
            fail(`${where}: a Permute is read only around a BatchNormalization of the last axis (a batch norm of channels)`);
          }
          k++;
          batchNorm(norm.config, `layer ${k} (BatchNormalization '${String(norm.config.name)}')`);
          k++;
          break;
        }
        case 'BatchNormalization': {
          const axis = c.axis ?? -1;
          if (!(axis === 1 || (shape.length === 2 && axis === -1))) fail(`${where}: axis ${JSON.stringify(axis)} is not supported (the channel axis 1)`);
          batchNorm(c, where);
          break;
        }

        default:
          fail(`${where}: the layer class ${cls} is not supported`);
      }
    } catch (e) {
      if (e instanceof TfjsError) throw e;
      throw new TfjsError(`${where}: ${(e as Error).message}`, file);
    }
  }
  const net = new Sequential(layers);
  net.loadStateDict(state);
  net.eval();
  net.forward(Tensor.zeros([1, ...sample]));
  return net;
}

/** model.json's weightsManifest (none: no weights), each group's weight files and the weights they hold, checked. */
function weightGroups(mj: unknown, file: string): { paths: readonly string[]; weights: (TfjsWeightSpec & { quantization?: unknown })[] }[] {
  const manifest = isPlainObject(mj) ? mj.weightsManifest : undefined;
  if (manifest === undefined) return [];
  const bad = (): never => { throw new TfjsError('weightsManifest must be a list of { paths: string[], weights: { name, shape, dtype }[] }', file); };
  if (!isArray(manifest)) return bad();
  return manifest.map((g) => {
    if (!isPlainObject(g)) return bad();
    const paths = g.paths, specs = g.weights;
    if (!isArray(paths) || !paths.every(isString) || !isArray(specs)) return bad();
    const weights = specs.map((w) => (isPlainObject(w) && typeof w.name === 'string' && typeof w.dtype === 'string' && isShape(w.shape)
      ? { name: w.name, shape: w.shape, dtype: w.dtype, quantization: w.quantization } : bad()));
    return { paths, weights };
  });
}

/** Reads model.json (a path to it, or the folder holding it) and its weight files into a Sequential (eval mode). */
export async function loadTfjs(location: string): Promise<Sequential> {
  if (typeof location !== 'string' || location === '') throw new TypeError(`loadTfjs: path must be a non-empty string, got ${describeValue(location)}`);
  const file = (await fs.stat(location)).isDirectory() ? path.join(location, 'model.json') : location;
  let mj: unknown;
  try {
    mj = JSON.parse(await fs.readFile(file, 'utf8'));
  } catch (e) {
    throw new TfjsError(`model.json is not valid JSON: ${(e as Error).message}`, file);
  }
  const weights = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const group of weightGroups(mj, file)) {
    const parts = await Promise.all(group.paths.map((p) => fs.readFile(path.join(path.dirname(file), p))));
    const bytes = Buffer.concat(parts);
    let at = 0;
    for (const spec of group.weights) {
      if (spec.dtype !== 'float32' || spec.quantization) {
        throw new TfjsError(`the weight '${spec.name}' is ${spec.dtype}${spec.quantization ? ' (quantized)' : ''}; loadTfjs reads float32`, file);
      }
      const n = spec.shape.reduce((a, b) => a * b, 1);
      if (at + 4 * n > bytes.length) throw new TfjsError(`the weight files end before the weight '${spec.name}' (${group.paths.join(', ')})`, file);
      const data = new Float32Array(n);
      new Uint8Array(data.buffer).set(bytes.subarray(at, at + 4 * n));
      weights.set(spec.name, { shape: spec.shape, data });
      at += 4 * n;
    }
  }
  return decodeTfjs(mj, weights, file);
}
