// exportOnnx's checks and defaults word for word (the mutation run's survivors, test/MUTATION.md): file-level code,
// the same on every backend, so it runs once.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Module from 'node:module';
import { afterAll, describe, expect, it, vi } from 'vitest';
import {
  AvgPool2D, BatchNorm2D, Conv1D, Conv2D, Dense, Dropout, Flatten, GlobalAvgPool2D, Layer, LeakyReLU, MaxPool2D,
  Module as NnModule, ReLU, Sequential, Sigmoid, Softmax, Step, Tanh, Tensor, io,
} from '../src/index';
import { DATA_TYPE, IR_VERSION, OPSET_MAX, OPSET_MIN, OnnxError, onnxTypes } from '../src/io/onnx/proto';
import { ModelFormatError } from '../src/io/errors';
import { VERSION } from '../src/version';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodenn-onnx-checks-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

interface Dim { dim_value?: number; dim_param?: string }
interface ValueInfo { name: string; type: { tensor_type: { shape: { dim: Dim[] } } } }
interface Graph { input: ValueInfo[]; output: ValueInfo[]; node: { op_type: string }[] }
function decoded(model: Uint8Array): { graph: Graph } {
  const t = onnxTypes().ModelProto;
  return t.toObject(t.decode(model), { longs: Number }) as never;
}
const dims = (v: ValueInfo) => v.type.tensor_type.shape.dim.map((d) => (d.dim_param !== undefined && d.dim_param !== '' ? d.dim_param : d.dim_value));

describe('exportOnnx checks word for word', () => {
  it('net must be a Sequential or an nn.Module', () => {
    for (const [v, got] of [[null, 'null'], [undefined, 'undefined'], [5, '5'], [{}, 'an object'], [{ layers: 3 }, 'an object'],
      [{ forward: () => 0 }, 'an object'], [{ namedModules: () => [] }, 'an object'],
      [Object.assign(() => 0, { forward: () => 0, namedModules: () => [], layers: [] }), 'a function']] as const) {
      expect(() => io.encodeOnnx(v as never)).toThrow(new TypeError(`exportOnnx: net must be a Sequential or an nn.Module, got ${got}`));
    }
  });

  it('the input shape: its message, its sources in order, and a network without layers', () => {
    const net = new Sequential([new Dense(3, 2)]);
    for (const [v, got] of [[[], 'an array of length 0'], [[1.5], 'an array of length 1'], [[3, -1], 'an array of length 2'],
      ['3', "the string '3'"], [[0], 'an array of length 1']] as const) {
      expect(() => io.encodeOnnx(net, { inputShape: v as never })).toThrow(new TypeError('exportOnnx: inputShape must be an array of ' +
        `positive integers (one sample, without the batch axis), got ${got}`));
    }
    expect(() => io.encodeOnnx(new Sequential([new Conv2D(1, 1, 1)]))).toThrow(new TypeError('exportOnnx: the network\'s input ' +
      'shape is unknown (it has not run, and its first layer does not fix it): pass exportOnnx(path, { inputShape }) with the ' +
      'shape of one sample, e.g. [1, 28, 28]'));
    expect(() => io.encodeOnnx(new Sequential([]), { inputShape: [2] })).toThrow(new RangeError('exportOnnx: the network has no layers'));
    expect(() => io.encodeOnnx(new Sequential([]))).toThrow("exportOnnx: the network's input shape is unknown");
    expect(() => io.encodeOnnx(net, { inputShape: [2, 4] })).toThrow(/^exportOnnx: the input shape \[2, 4\] does not fit layer 0 \(Dense\): \S/);
    // a first Dense gives [inFeatures]; a shape seen comes before it; the option before both
    expect(dims(decoded(io.encodeOnnx(net)).graph.input[0])).toEqual(['N', 3]);
    const flat = new Sequential([new Flatten(), new Dense(6, 2)]);
    expect(() => io.encodeOnnx(flat)).toThrow("exportOnnx: the network's input shape is unknown");
    flat.predict(new Tensor(new Float32Array(12), [2, 2, 3]));
    expect(dims(decoded(io.encodeOnnx(flat)).graph.input[0])).toEqual(['N', 2, 3]);
    expect(dims(decoded(io.encodeOnnx(flat, { inputShape: [3, 2] })).graph.input[0])).toEqual(['N', 3, 2]);
    const dense = new Sequential([new Flatten(), new Dense(6, 2)]);
    expect(dims(decoded(io.encodeOnnx(new Sequential([new Dense(4, 2), new ReLU()]))).graph.input[0])).toEqual(['N', 4]);
    dense.predict(new Tensor(new Float32Array(12), [2, 6]));
    expect(dims(decoded(io.encodeOnnx(dense)).graph.input[0])).toEqual(['N', 6]);
  });

  it('the batch axis is N only when dynamic, in the input and the output alone', () => {
    const net = new Sequential([new Conv2D(1, 2, 3), new ReLU(), new Flatten()], { seed: 1 });
    const dyn = decoded(io.encodeOnnx(net, { inputShape: [1, 4, 5] })).graph;
    expect([dims(dyn.input[0]), dims(dyn.output[0])]).toEqual([['N', 1, 4, 5], ['N', 12]]);
    const fixed = decoded(io.encodeOnnx(net, { inputShape: [1, 4, 5], dynamicBatch: false, batchSize: 3 })).graph;
    expect([dims(fixed.input[0]), dims(fixed.output[0])]).toEqual([[3, 1, 4, 5], [3, 12]]);
    expect(fixed.node.map((n) => n.op_type)).toEqual(['Conv', 'Relu', 'Flatten']);
  });

  it('the graph\'s name and the names of its nodes and weights carry the layer index', () => {
    const t = onnxTypes().ModelProto;
    const bytes = io.encodeOnnx(new Sequential([new Dense(3, 2), new ReLU(), new Dense(2, 2)]));
    const m = t.toObject(t.decode(bytes), { longs: Number }) as {
      graph: {
        name: string; node: { name: string; input: string[]; output: string[] }[]; initializer: { name: string }[];
      };
    };
    expect(m.graph.name).toBe('nodenn.Sequential');
    expect([m.graph.node.map((n) => [n.name, n.input, n.output]), m.graph.initializer.map((i) => i.name)]).toEqual([
      [['0_0', ['input', '0.weight', '0.bias'], ['0_0']], ['1_1', ['0_0'], ['1_1']], ['2_2', ['1_1', '2.weight', '2.bias'], ['output']]],
      ['0.weight', '0.bias', '2.weight', '2.bias'],
    ]);
  });

  it('the inputShape option is not kept by reference', () => {
    const shape = [1, 4, 5];
    const net = new Sequential([new Conv2D(1, 2, 3), new Flatten()], { seed: 1 });
    const a = io.encodeOnnx(net, { inputShape: shape });
    expect(shape).toEqual([1, 4, 5]);
    expect(io.encodeOnnx(net, { inputShape: shape })).toEqual(a);
  });

  it('exportOnnx writes encodeOnnx\'s bytes and checks its path', async () => {
    const net = new Sequential([new Dense(3, 2)], { seed: 2 });
    const file = path.join(dir, 'dense.onnx');
    await io.exportOnnx(net, file);
    expect(Buffer.from(fs.readFileSync(file)).equals(Buffer.from(io.encodeOnnx(net)))).toBe(true);
    for (const [v, got] of [['', "the string ''"], [5, '5'], [undefined, 'undefined']] as const) {
      await expect(io.exportOnnx(net, v as never)).rejects.toThrow(new TypeError(`exportOnnx: path must be a non-empty string, got ${got}`));
    }
  });
});

describe('the ONNX protobuf types and constants', () => {
  it('onnxTypes() loads once; the data types are onnx.proto\'s', () => {
    const t = onnxTypes();
    // not toBe: its failure message diffs two whole protobufjs Roots, which takes minutes
    expect(onnxTypes() === t, 'the same object').toBe(true);
    expect(t.ModelProto.fullName).toBe('.onnx.ModelProto');
    const values = t.ModelProto.root.lookupEnum('onnx.TensorProto.DataType').values;
    expect(DATA_TYPE).toEqual({
      FLOAT: values.FLOAT, INT32: values.INT32, INT64: values.INT64, BOOL: values.BOOL, DOUBLE: values.DOUBLE,
    });
    expect(Object.values(DATA_TYPE)).toEqual([1, 6, 7, 9, 11]);
  });

  it('the IR version and the opsets written', () => {
    const net = new Sequential([new Dense(3, 2)]);
    const opsets: number[][] = [];
    for (let v = OPSET_MIN; v <= OPSET_MAX; v++) {
      const { ModelProto } = onnxTypes();
      const m = ModelProto.toObject(ModelProto.decode(io.encodeOnnx(net, { opset: v })), { longs: Number }) as {
        ir_version: number; opset_import: { domain?: string; version: number }[];
      };
      expect(m.ir_version).toBe(IR_VERSION);
      opsets.push(m.opset_import.map((o) => o.version));
    }
    expect([IR_VERSION, opsets]).toEqual([8, [[13], [14], [15], [16], [17]]]);
    for (const v of [OPSET_MIN - 1, OPSET_MAX + 1, 13.5]) {
      expect(() => io.encodeOnnx(net, { opset: v })).toThrow(new RangeError(`exportOnnx: opset must be an integer from 13 to 17, got ${v}`));
    }
  });

  it('a protobufjs that cannot load is named, with the first line of its error', async () => {
    const M = Module as unknown as { _load: (request: string, ...rest: unknown[]) => unknown };
    const load = M._load;
    M._load = function (request: string, ...rest: unknown[]) {
      if (request === 'protobufjs') throw new Error('Cannot find module \'protobufjs\'\nRequire stack:\n- x.js');
      return load.call(this, request, ...rest);
    };
    try {
      vi.resetModules();
      const fresh = await vi.importActual<typeof import('../src/io/onnx/proto')>('../src/io/onnx/proto');
      expect(() => fresh.onnxTypes()).toThrow(new Error('ONNX files need the protobufjs package, a dependency of nodenn, which ' +
        "cannot be loaded (a broken install? reinstall nodenn): Cannot find module 'protobufjs'"));
    } finally {
      M._load = load;
      vi.resetModules();
    }
  });

  it('OnnxError names the file and keeps the reason', () => {
    const e = new OnnxError('a reason', 'm.onnx');
    expect(e).toBeInstanceOf(ModelFormatError);
    expect([e.name, e.message, e.reason, e.file, e.format]).toEqual(['OnnxError', 'm.onnx: a reason', 'a reason', 'm.onnx', 'onnx']);
  });
});

interface Attr { name: string; type: string; f?: number; i?: number; ints?: number[] }
interface Node { op_type: string; name: string; input: string[]; output: string[]; attribute?: Attr[] }
interface Init { name: string; dims?: number[]; data_type: number; raw_data?: Uint8Array; float_data?: number[]; int64_data?: number[] }
function model(bytes: Uint8Array): { producer_name: string; producer_version: string; opset_import: { domain?: string; version: number }[];
  graph: { name: string; node: Node[]; initializer: Init[] } } {
  const t = onnxTypes().ModelProto;
  return t.toObject(t.decode(bytes), { longs: Number, enums: String, bytes: Array }) as never;
}
const nodes = (bytes: Uint8Array) => model(bytes).graph.node.map((n) => [n.op_type, n.name, n.input, n.output,
  (n.attribute ?? []).map((a) => [a.name, a.type, a.ints ?? a.i ?? a.f])]);

describe('the graph builder: each layer\'s nodes and attributes, the options word for word', () => {
  it('checkOptions: each option\'s message', () => {
    const net = new Sequential([new Dense(3, 2)]);
    expect(() => io.encodeOnnx(net, { opset: 17, dynamic: true } as never)).toThrow(new TypeError('exportOnnx: unknown option ' +
      "'dynamic' (known: inputShape, opset, dynamicBatch, batchSize, inputName, outputName)"));
    for (const [v, got] of [['17', "the string '17'"], [16.5, '16.5']] as const) {
      expect(() => io.encodeOnnx(net, { opset: v as never })).toThrow(new RangeError(`exportOnnx: opset must be an integer from 13 to 17, got ${got}`));
    }
    for (const [v, got] of [['yes', "the string 'yes'"], [1, '1']] as const) {
      expect(() => io.encodeOnnx(net, { dynamicBatch: v as never })).toThrow(new TypeError(`exportOnnx: dynamicBatch must be a boolean, got ${got}`));
    }
    for (const [v, got] of [[0, '0'], [1.5, '1.5'], ['2', "the string '2'"]] as const) {
      expect(() => io.encodeOnnx(net, { batchSize: v as never })).toThrow(new RangeError(`exportOnnx: batchSize must be a positive integer, got ${got}`));
    }
    for (const k of ['inputName', 'outputName'] as const) {
      for (const [v, got] of [['', "the string ''"], [5, '5']] as const) {
        expect(() => io.encodeOnnx(net, { [k]: v as never })).toThrow(new TypeError(`exportOnnx: ${k} must be a non-empty string, got ${got}`));
      }
    }
    expect(() => io.encodeOnnx(net, { inputName: 'x', outputName: 'x' })).toThrow(new RangeError("exportOnnx: inputName and outputName must differ, both are 'x'"));
    expect(() => io.encodeOnnx(net, { outputName: 'input' })).toThrow(new RangeError("exportOnnx: inputName and outputName must differ, both are 'input'"));
    expect(() => io.encodeOnnx(net, null as never)).toThrow(/^exportOnnx options must be/);
    const m = model(io.encodeOnnx(net, { opset: 13, batchSize: 1, dynamicBatch: true, inputName: 'a', outputName: 'b', inputShape: [3] }));
    expect([m.producer_name, m.producer_version, m.opset_import]).toEqual(['nodenn', VERSION, [{ domain: '', version: 13 }]]);
    expect(model(io.encodeOnnx(net)).opset_import).toEqual([{ domain: '', version: 17 }]);
  });

  it('the nodes of every layer with their attributes, in order', () => {
    const net = new Sequential([
      new Conv2D(1, 2, [3, 2], { stride: [1, 2], padding: [1, 0] }), new BatchNorm2D(2, { eps: 0.001, momentum: 0.2 }),
      new MaxPool2D([2, 1], { stride: [2, 1] }), new AvgPool2D([1, 3], { stride: [1, 2] }), new LeakyReLU(0.25), new Dropout(0.5), new Step(),
      new Flatten(), new Sigmoid(), new Tanh(), new Dense(6, 4), new Softmax(),
    ], { seed: 1 });
    const f = Math.fround;
    expect(nodes(io.encodeOnnx(net, { inputShape: [1, 6, 6] }))).toEqual([
      ['Conv', '0_0', ['input', '0.weight', '0.bias'], ['0_0'], [['kernel_shape', 'INTS', [3, 2]], ['strides', 'INTS', [1, 2]], ['pads', 'INTS', [1, 0, 1, 0]]]],
      ['BatchNormalization', '1_1', ['0_0', '1.weight', '1.bias', '1.running_mean', '1.running_var'], ['1_1'],
        [['epsilon', 'FLOAT', f(0.001)], ['momentum', 'FLOAT', f(0.8)]]],
      ['MaxPool', '2_2', ['1_1'], ['2_2'], [['kernel_shape', 'INTS', [2, 1]], ['strides', 'INTS', [2, 1]]]],
      ['AveragePool', '3_3', ['2_2'], ['3_3'], [['kernel_shape', 'INTS', [1, 3]], ['strides', 'INTS', [1, 2]]]],
      ['LeakyRelu', '4_4', ['3_3'], ['4_4'], [['alpha', 'FLOAT', 0.25]]],
      ['Greater', '6.greater_5', ['4_4', '6.zero'], ['6.greater_5'], []],
      ['Cast', '6.cast_6', ['6.greater_5'], ['6.cast_6'], [['to', 'INT', 1]]],
      ['IsNaN', '6.isnan_7', ['4_4'], ['6.isnan_7'], []],
      ['Where', '6_8', ['6.isnan_7', '4_4', '6.cast_6'], ['6_8'], []],
      ['Flatten', '7_9', ['6_8'], ['7_9'], [['axis', 'INT', 1]]],
      ['Sigmoid', '8_10', ['7_9'], ['8_10'], []],
      ['Tanh', '9_11', ['8_10'], ['9_11'], []],
      ['Gemm', '10_12', ['9_11', '10.weight', '10.bias'], ['10_12'], []],
      ['Softmax', '11_13', ['10_12'], ['output'], [['axis', 'INT', -1]]],
    ]);
    const inits = model(io.encodeOnnx(net, { inputShape: [1, 6, 6] })).graph.initializer;
    expect(inits.map((i) => [i.name, i.dims ?? [], i.data_type])).toEqual([
      ['0.weight', [2, 1, 3, 2], 1], ['0.bias', [2], 1], ['1.weight', [2], 1], ['1.bias', [2], 1], ['1.running_mean', [2], 1], ['1.running_var', [2], 1],
      ['6.zero', [], 1], ['10.weight', [6, 4], 1], ['10.bias', [4], 1]]);
    expect(inits[6].float_data).toEqual([0]);
    const w = (net.layers[10] as Dense).weight.data;
    expect(Array.from(inits[7].raw_data!)).toEqual(Array.from(new Uint8Array(w.buffer, w.byteOffset, w.byteLength)));
    // Conv1D: one kernel size, stride and pad (twice); Dense on (N, C, L) through a Flatten; GlobalAvgPool2D then a Flatten
    const oneD = new Sequential([new Conv1D(2, 3, 2, { stride: 2, padding: 1, bias: false }), new ReLU(), new Dense(9, 2, { bias: false })], { seed: 2 });
    expect(nodes(io.encodeOnnx(oneD, { inputShape: [2, 5] }))).toEqual([
      ['Conv', '0_0', ['input', '0.weight'], ['0_0'], [['kernel_shape', 'INTS', [2]], ['strides', 'INTS', [2]], ['pads', 'INTS', [1, 1]]]],
      ['Relu', '1_1', ['0_0'], ['1_1'], []],
      ['Flatten', '2.flatten_2', ['1_1'], ['2.flatten_2'], [['axis', 'INT', 1]]],
      ['Gemm', '2_3', ['2.flatten_2', '2.weight'], ['output'], []],
    ]);
    expect(nodes(io.encodeOnnx(new Sequential([new GlobalAvgPool2D()]), { inputShape: [2, 3, 3] }))).toEqual([
      ['GlobalAveragePool', '0_0', ['input'], ['0_0'], []],
      ['Flatten', '0.flatten_1', ['0_0'], ['output'], [['axis', 'INT', 1]]],
    ]);
    // the output not written by the last node (Dropout alone): an Identity named 'output'; a Dropout last, none
    expect(nodes(io.encodeOnnx(new Sequential([new Dropout()]), { inputShape: [3], outputName: 'y' }))).toEqual([
      ['Identity', 'output', ['input'], ['y'], []]]);
    expect(nodes(io.encodeOnnx(new Sequential([new ReLU(), new Dropout()]), { inputShape: [3], outputName: 'y' }))).toEqual([
      ['Relu', '0_0', ['input'], ['y'], []]]);
  });

  it('a float64 network is written as float32; a layer without a counterpart names the ones that export', () => {
    const net = new Sequential([new Dense(2, 1, { dtype: 'float64' })], { seed: 3 });
    const init = model(io.encodeOnnx(net)).graph.initializer[0];
    expect(Array.from(new Float32Array(Uint8Array.from(init.raw_data!).buffer))).toEqual(Array.from(Float32Array.from(net.layers[0].params[0].data)));
    expect(init.data_type).toBe(1);
    class Square extends Layer {
      forward(x: Tensor) { return x; }
      backward(d: Tensor) { return d; }
      outputShape(s: readonly number[]) { return [...s]; }
      config() { return { type: 'Square' }; }
    }
    const e = (() => { try { io.encodeOnnx(new Sequential([new Dense(2, 2), new Square()])); } catch (err) { return err as Error & { op: string }; } return null; })();
    expect(e?.name).toBe('OnnxExportError');
    expect(e).toBeInstanceOf(TypeError);
    expect(e?.op).toBe('Square');
    expect(e?.message).toBe('exportOnnx: layer 1 (Square) has no ONNX counterpart; the built-in layers that export are Dense, Conv1D, Conv2D, ' +
      'MaxPool2D, AvgPool2D, GlobalAvgPool2D, ReLU, LeakyReLU, Sigmoid, Tanh, Step, Softmax, Flatten, BatchNorm1D, BatchNorm2D and Dropout');
  });

  it('a taken name gets _2, _3; a layer called twice writes its parameters once', () => {
    const c = (v: number) => new Tensor(Float32Array.of(v, v, v), [3]);
    class Constants extends NnModule {
      forward(x: Tensor): Tensor { return x.add(c(1)).mul(c(2)).sub(c(3)); }
    }
    const m = model(io.encodeOnnx(new Constants(), { inputShape: [3] })).graph;
    expect(m.initializer.map((i) => i.name)).toEqual(['constant', 'constant_2', 'constant_3']);
    expect(m.node.map((n) => n.input[1])).toEqual(['constant', 'constant_2', 'constant_3']);
    class Twice extends NnModule {
      d = new Dense(3, 3, { seed: 4 });
      forward(x: Tensor): Tensor { return this.d.call(this.d.call(x)); }
    }
    const t = model(io.encodeOnnx(new Twice(), { inputShape: [3] })).graph;
    expect(t.initializer.map((i) => i.name)).toEqual(['d.weight', 'd.bias']);
    expect(t.node.map((n) => [n.op_type, n.input])).toEqual([['Gemm', ['input', 'd.weight', 'd.bias']], ['Gemm', ['d_0', 'd.weight', 'd.bias']]]);
  });

  it('a layer\'s parameter or a scalar that changes between the two traces is named', () => {
    class NewLayer extends NnModule {
      forward(x: Tensor): Tensor { return new Dense(3, 2, { seed: x.shape[0] }).call(x); }
    }
    const err = (f: () => void) => { try { f(); } catch (e) { return e as Error & { op: string }; } return null; };
    const tail = ' changes with the input\'s values but no traced tensor operation computes it from the input (it was made through .data, toArray(), ' +
      'a random draw, a Sequential\'s forward() rather than its layers\' call(), or another operation the trace does not see); a graph ' +
      'would freeze the value it had in one trace: compute it with tensor operations';
    const e = err(() => io.encodeOnnx(new NewLayer(), { inputShape: [3] }));
    expect([e?.name, e?.message, e?.op]).toEqual(['OnnxExportError', `exportOnnx: the parameter layer0.weight${tail}`, 'layer0.weight']);
    class DataBound extends NnModule {
      forward(x: Tensor): Tensor { return x.clamp(Math.min(...x.data), 10); }
    }
    const f = err(() => io.encodeOnnx(new DataBound(), { inputShape: [3] }));
    expect([f?.name, f?.message, f?.op]).toEqual(['OnnxExportError', `exportOnnx: the constant clamp_0.min${tail}`, 'clamp_0.min']);
  });
});
