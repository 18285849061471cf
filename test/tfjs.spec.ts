// TensorFlow.js Layers format: what net.exportTfjs writes, tf.loadLayersModel (@tensorflow/tfjs, CPU) loads and runs
// to nodenn's outputs (1e-5); nn.loadTfjs reads it back (nodenn → tfjs → nodenn) on every backend.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AvgPool2D, BatchNorm1D, BatchNorm2D, Conv1D, Conv2D, Dense, Dropout, Flatten, GlobalAvgPool2D, LeakyReLU, MaxPool2D,
  ReLU, Sequential, Sigmoid, Softmax, Step, Tanh, Tensor, io, loadTfjs,
} from '../src/index';
import { backends, expectClose, randomArray, useBackend } from './helpers';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodenn-tfjs-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
beforeAll(async () => {
  await tf.setBackend('cpu');
});

function bn<T extends BatchNorm1D | BatchNorm2D>(b: T, seed: number): T {
  b.runningMean.data.set(randomArray(Float32Array, b.numFeatures, seed));
  b.runningVar.data.set(randomArray(Float32Array, b.numFeatures, seed + 1, 0.5, 2));
  b.weight.data.set(randomArray(Float32Array, b.numFeatures, seed + 2, 0.5, 2));
  b.bias.data.set(randomArray(Float32Array, b.numFeatures, seed + 3));
  return b;
}

const nets: { name: string; make: () => Sequential; inputShape: number[]; back?: string[] }[] = [
  {
    name: 'MLP (Dense, BatchNorm1D, activations, Dropout, Softmax)', inputShape: [12],
    make: () => new Sequential([new Dense(12, 10), bn(new BatchNorm1D(10, { eps: 1e-3 }), 1), new ReLU(), new Dropout(0.3),
      new Dense(10, 8, { bias: false }), new LeakyReLU(0.1), new Dense(8, 6), new Tanh(), new Dense(6, 4), new Sigmoid(), new Dense(4, 3), new Softmax()], { seed: 1 }),
  },
  {
    name: 'CNN (Conv2D with padding and strides, BatchNorm2D, pools, Flatten)', inputShape: [2, 12, 10],
    make: () => new Sequential([new Conv2D(2, 4, 3, { padding: [1, 2], stride: [2, 1] }), bn(new BatchNorm2D(4), 2), new ReLU(), new MaxPool2D(2),
      new Conv2D(4, 3, [2, 3], { bias: false }), new AvgPool2D([2, 1], { stride: 1 }), new Flatten(), new Dense(12, 5), new Softmax()], { seed: 2 }),
  },
  { name: 'Dense straight on images, GlobalAvgPool2D', inputShape: [3, 5, 5], make: () => new Sequential([new Conv2D(3, 4, 3), new GlobalAvgPool2D(), new Dense(4, 2)], { seed: 3 }) },
  { name: 'Dense on (N, C, H, W) (read back with a Flatten)', inputShape: [2, 3, 3], make: () => new Sequential([new Dense(18, 4)], { seed: 4 }), back: ['Flatten', 'Dense'] },
  {
    name: 'Conv1D (a Conv2D between Reshapes)', inputShape: [3, 11],
    make: () => new Sequential([new Conv1D(3, 4, 3, { stride: 2, padding: 1 }), bn(new BatchNorm1D(4), 5), new Tanh(), new Conv1D(4, 2, 2), new Flatten(), new Dense(10, 3)], { seed: 5 }),
  },
];

describe('nodenn → TensorFlow.js: tf.loadLayersModel runs what exportTfjs writes', () => {
  it.each(nets)('$name', async ({ make, inputShape }) => {
    const net = make();
    const out = path.join(dir, make.name + inputShape.join('x'));
    await net.exportTfjs(out, { inputShape });
    const modelJson = JSON.parse(fs.readFileSync(path.join(out, 'model.json'), 'utf8'));
    const weightData = new Uint8Array(fs.readFileSync(path.join(out, 'weights.bin'))).buffer;
    const model = await tf.loadLayersModel(tf.io.fromMemory({
      modelTopology: modelJson.modelTopology, weightSpecs: modelJson.weightsManifest[0].weights, weightData,
    }));
    const x = new Tensor(randomArray(Float32Array, 4 * inputShape.reduce((a, b) => a * b), 9) as Float32Array, [4, ...inputShape]);
    const y = model.predict(tf.tensor(Array.from(x.data), [...x.shape])) as tf.Tensor;
    const want = net.eval().forward(x);
    expect(y.shape).toEqual([...want.shape]);
    expectClose(await y.data(), want.data, 1e-5);
    model.dispose();
  });
});

describe.each(backends)('nodenn → tfjs → nodenn ($label)', (c) => {
  it.each(nets)('$name', async ({ make, inputShape, back: backLayers }) => {
    useBackend(c);
    const net = make();
    const out = path.join(dir, `rt-${c.label.replace('/', '-')}-${inputShape.join('x')}`);
    await net.exportTfjs(out, { inputShape });
    const back = await loadTfjs(out);
    expect(back.layers.map((l) => l.name)).toEqual(backLayers ?? net.layers.map((l) => l.name));
    expect(back.inputShape).toEqual(inputShape);
    const x = new Tensor(randomArray(Float32Array, 3 * inputShape.reduce((a, b) => a * b), 8) as Float32Array, [3, ...inputShape]);
    expectClose(back.forward(x).data, net.eval().forward(x).data, 1e-6);
  });
});

describe.each(backends)('a model made and saved by TensorFlow.js → nodenn ($label)', (c) => {
  it('Dense layers with their activations (relu, tanh, softmax), Dropout and a BatchNormalization, as tf.Sequential saves them', async () => {
    useBackend(c);
    const model = tf.sequential({
      layers: [
        tf.layers.dense({ units: 8, activation: 'relu', inputShape: [5], name: 'hidden1' }),
        tf.layers.batchNormalization({ name: 'norm' }),
        tf.layers.dropout({ rate: 0.25 }),
        tf.layers.dense({ units: 6, activation: 'tanh', useBias: false }),
        tf.layers.dense({ units: 3, activation: 'softmax' }),
      ],
    });
    // statistics away from their defaults
    const norm = model.getLayer('norm');
    norm.setWeights(norm.getWeights().map((w, k) => tf.add(w, tf.mul(tf.randomUniform(w.shape, 0, 1, 'float32', 7 + k), k === 3 ? 1 : 0.5))));
    let saved: tf.io.ModelArtifacts | null = null;
    await model.save(tf.io.withSaveHandler(async (a) => { saved = a; return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }; }));
    const a = saved as unknown as tf.io.ModelArtifacts;
    const out = path.join(dir, `made-by-tfjs-${c.label.replace('/', '-')}`);
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, 'weights.bin'), new Uint8Array(a.weightData as ArrayBuffer));
    fs.writeFileSync(path.join(out, 'model.json'), JSON.stringify({ format: 'layers-model', modelTopology: a.modelTopology,
      weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs }] }));
    const net = await loadTfjs(path.join(out, 'model.json'));
    expect(net.layers.map((l) => l.name)).toEqual(['Dense', 'ReLU', 'BatchNorm1D', 'Dropout', 'Dense', 'Tanh', 'Dense', 'Softmax']);
    const x = new Tensor(randomArray(Float32Array, 4 * 5, 11) as Float32Array, [4, 5]);
    const want = model.predict(tf.tensor(Array.from(x.data), [4, 5])) as tf.Tensor;
    expectClose(net.predict(x).data, await want.data(), 1e-5);
    model.dispose();
  });
});

describe('TensorFlow.js: what has no counterpart is refused, naming it', () => {
  it('export: Step; import: channels_last convolutions, unknown classes, missing weights', async () => {
    expect(() => io.encodeTfjs(new Sequential([new Dense(2, 2), new Step()]))).toThrow('exportTfjs: layer 1 (Step) has no TensorFlow.js counterpart');
    expect(() => io.encodeTfjs(new Sequential([new Conv2D(1, 1, 1)]))).toThrow("exportTfjs: the network's input shape is unknown");
    const { modelJson } = io.encodeTfjs(new Sequential([new Conv2D(1, 2, 3), new Flatten(), new Dense(2, 2)]), { inputShape: [1, 3, 3] });
    const conv = modelJson.modelTopology.config.layers[0].config;
    const weights = new Map([['conv_0/kernel', { shape: [3, 3, 1, 2], data: new Float32Array(18) }]]);
    expect(() => io.decodeTfjs({ modelTopology: { ...modelJson.modelTopology, config: { layers: [{ class_name: 'Conv2D', config: { ...conv, data_format: 'channels_last' } }] } } }, weights, 'm.json'))
      .toThrow("m.json: layer 0 (Conv2D 'conv_0'): data_format 'channels_last' is not supported: nodenn is NCHW, only channels_first is read");
    expect(() => io.decodeTfjs({ modelTopology: { class_name: 'Sequential', config: { layers: [{ class_name: 'LSTM', config: { name: 'l', batch_input_shape: [null, 3, 4] } }] } } }, new Map()))
      .toThrow("layer 0 (LSTM 'l'): the layer class LSTM is not supported");
    expect(() => io.decodeTfjs(modelJson, weights)).toThrow("the weight 'conv_0/bias' is not in the weights manifest");
    expect(() => io.decodeTfjs({ modelTopology: { class_name: 'Model', config: {} } }, new Map())).toThrow('the model is a Model; loadTfjs reads Sequential models');
    const bad = path.join(dir, 'bad');
    fs.mkdirSync(bad);
    fs.writeFileSync(path.join(bad, 'model.json'), '{ nope');
    await expect(loadTfjs(bad)).rejects.toThrow(`${path.join(bad, 'model.json')}: model.json is not valid JSON`);
  });

  it('a malformed weightsManifest is a TfjsError naming model.json', async () => {
    const { modelJson } = io.encodeTfjs(new Sequential([new Dense(2, 2)]), { inputShape: [2] });
    const want = 'weightsManifest must be a list of { paths: string[], weights: { name, shape, dtype }[] }';
    const manifests: unknown[] = [
      { paths: 'weights.bin', weights: [] },
      [{ paths: ['weights.bin'], weights: [{ name: 'dense_0/kernel', shape: [2, -1], dtype: 'float32' }] }],
      [{ paths: ['weights.bin'] }],
      [null],
    ];
    for (const [k, weightsManifest] of manifests.entries()) {
      const at = path.join(dir, `manifest-${k}`);
      fs.mkdirSync(at);
      fs.writeFileSync(path.join(at, 'model.json'), JSON.stringify({ ...modelJson, weightsManifest }));
      const err = await loadTfjs(at).then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(io.TfjsError);
      expect((err as Error).message).toBe(`${path.join(at, 'model.json')}: ${want}`);
    }
  });
});
