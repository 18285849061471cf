'use strict';
// Model-level workloads on real MNIST, with the same architecture, hyper-parameters and data on every engine:
//   MLP 784-100(ReLU)-10, softmax cross-entropy, SGD lr 0.1, batch 100: one epoch (600 steps);
//   MLP predict, batch 1;
//   CNN conv(1→16, 3×3, pad 1)-ReLU-maxpool 2-conv(16→32, 3×3, pad 1)-ReLU-maxpool 2-dense(1568→10),
//     training with Adam (lr 1e-3) at batch 64, and inference on the 10,000 test images at batch 1000.
// Slow engines run a fixed part of an epoch per call (noted in the table); times per epoch are scaled from it.
// ONNX Runtime runs inference only, on nodenn's own network exported to ONNX (the same weights), with a final
// Softmax layer for the probabilities.
const { loadMnist } = require('../mnist');
const { ortSession } = require('../engines');

const SLOW = new Set(['ts', 'tfjs-cpu', 'native/scalar']);

function hasConv(nn) {
  return typeof nn.Conv2D === 'function' && typeof nn.MaxPool2D === 'function';
}

// ---- the networks, on each side

function nodennMlp(nn) {
  return new nn.Sequential([new nn.Dense(784, 100), new nn.ReLU(), new nn.Dense(100, 10)], { seed: 1 });
}

function tfMlp(tf) {
  const m = tf.sequential();
  m.add(tf.layers.dense({ inputShape: [784], units: 100, activation: 'relu' }));
  m.add(tf.layers.dense({ units: 10 }));
  return m;
}

function nodennCnn(nn) {
  return new nn.Sequential([
    new nn.Conv2D(1, 16, 3, { padding: 1 }), new nn.ReLU(), new nn.MaxPool2D(2),
    new nn.Conv2D(16, 32, 3, { padding: 1 }), new nn.ReLU(), new nn.MaxPool2D(2),
    new nn.Flatten(), new nn.Dense(1568, 10),
  ], { seed: 1 });
}

function tfCnn(tf) {
  const m = tf.sequential();
  m.add(tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 16, kernelSize: 3, padding: 'same', activation: 'relu' }));
  m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  m.add(tf.layers.conv2d({ filters: 32, kernelSize: 3, padding: 'same', activation: 'relu' }));
  m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  m.add(tf.layers.flatten());
  m.add(tf.layers.dense({ units: 10 }));
  return m;
}

// softmax cross-entropy from logits against one-hot labels, as nodenn's 'softmaxCrossEntropy'
function tfLoss(tf) {
  return (yTrue, yPred) => tf.losses.softmaxCrossEntropy(yTrue, yPred);
}

/** The first n training images as the engine's tensors: nodenn (x, labels) or TF.js (x, one-hot y). */
function trainData(engine, nn, n, shape) {
  const d = loadMnist('train');
  const x = d.x.subarray(0, n * 784), y = d.y.subarray(0, n);
  if (engine.kind === 'nodenn') return { x: new nn.Tensor(x, [n, ...shape]), y };
  const tf = engine.tf;
  return { x: tf.tensor(x, [n, ...shape]), y: tf.oneHot(tf.tensor1d(y, 'int32'), 10).toFloat() };
}

function disposeAll(...ts) {
  for (const t of ts) if (t && typeof t.dispose === 'function') t.dispose();
}

// ---- workloads

const mlpEpoch = {
  id: 'mlp-epoch',
  title: 'MLP 784-100-10 train, SGD, batch 100, one epoch',
  unit: 's/epoch',
  lowerIsBetter: true,
  timing: { reps: 5, minSeconds: 0, warmup: 1 },
  engines: (engine) => engine.kind !== 'ort',
  async setup(engine, nn, opts) {
    const steps = SLOW.has(engine.id) ? (opts.quick ? 5 : 30) : (opts.quick ? 60 : 600);
    const n = steps * 100;
    const { x, y } = trainData(engine, nn, n, [784]);
    const note = steps < 600 ? `${steps} of 600 steps per call, scaled` : '';
    if (engine.kind === 'nodenn') {
      const net = nodennMlp(nn);
      const optimizer = new nn.SGD({ lr: 0.1 });
      const fitOpts = { loss: 'softmaxCrossEntropy', optimizer, epochs: 1, batchSize: 100, shuffle: false };
      return { run: () => net.fit(x, y, fitOpts), scale: 600 / steps, note };
    }
    const tf = engine.tf;
    const model = tfMlp(tf);
    model.compile({ optimizer: tf.train.sgd(0.1), loss: tfLoss(tf) });
    return {
      run: () => model.fit(x, y, { epochs: 1, batchSize: 100, shuffle: false, verbose: 0 }),
      scale: 600 / steps, note,
      dispose: () => { disposeAll(x, y); model.dispose(); },
    };
  },
};

const mlpPredict = {
  id: 'mlp-predict-1',
  title: 'MLP 784-100-10 predict (probabilities), batch 1',
  unit: 'µs/call',
  lowerIsBetter: true,
  timing: { reps: 7, minSeconds: 0.2, warmup: 200 },
  engines: () => true,
  async setup(engine, nn) {
    const d = loadMnist('test');
    const sample = d.x.slice(0, 784);
    if (engine.kind === 'nodenn') {
      const net = nodennMlp(nn).eval();
      const x = new nn.Tensor(sample, [1, 784]);
      return { run: () => net.predictProba(x), scale: 1e6, sync: true };
    }
    if (engine.kind === 'ort') {
      const session = await ortSession(engine, nn, new nn.Sequential([...nodennMlp(nn).layers, new nn.Softmax()]), [784]);
      const feeds = { input: new engine.ort.Tensor('float32', sample, [1, 784]) };
      return { run: () => session.run(feeds), scale: 1e6, note: 'async run()' };
    }
    const tf = engine.tf;
    const model = tfMlp(tf);
    const x = tf.tensor2d(sample, [1, 784]);
    return {
      run: () => { const p = tf.tidy(() => tf.softmax(model.predict(x))); p.dataSync(); p.dispose(); },
      scale: 1e6, sync: true,
      dispose: () => { x.dispose(); model.dispose(); },
    };
  },
};

// The floor under a batch-1 predict on nodenn: the same arithmetic as direct kernel calls on preallocated
// buffers (gemm, bias, ReLU, gemm, bias, softmax), i.e. the N-API boundary and the kernels without the layers.
const mlpPredictKernels = {
  id: 'mlp-predict-1-kernels',
  title: 'MLP 784-100-10 predict, batch 1, as 6 direct kernel calls',
  unit: 'µs/call',
  lowerIsBetter: true,
  timing: { reps: 7, minSeconds: 0.2, warmup: 200 },
  engines: (engine) => engine.kind === 'nodenn',
  async setup(engine, nn) {
    const k = nn.getBackend();
    const d = loadMnist('test');
    const x = d.x.slice(0, 784);
    const w1 = new Float32Array(784 * 100).fill(0.01), b1 = new Float32Array(100).fill(0.1);
    const w2 = new Float32Array(100 * 10).fill(0.02), b2 = new Float32Array(10);
    const h = new Float32Array(100), o = new Float32Array(10);
    return {
      run: () => {
        k.gemm(false, false, 1, 100, 784, 1, x, w1, 0, h);
        k.biasAdd(1, 100, h, b1);
        k.activationForward('relu', 100, h, h, 0);
        k.gemm(false, false, 1, 10, 100, 1, h, w2, 0, o);
        k.biasAdd(1, 10, o, b2);
        k.softmax(1, 10, o, o);
      },
      scale: 1e6, sync: true,
    };
  },
};

const cnnTrain = {
  id: 'cnn-train',
  title: 'CNN train, Adam, batch 64',
  unit: 'img/s',
  timing: { reps: 5, minSeconds: 0, warmup: 1 },
  engines: (engine, opts, nn) => engine.kind !== 'ort' && (engine.kind === 'tfjs' || hasConv(nn)) && !(opts.quick && SLOW.has(engine.id)),
  async setup(engine, nn, opts) {
    const steps = SLOW.has(engine.id) ? 1 : (opts.quick ? 4 : 20);
    const n = steps * 64;
    const note = `${steps} step${steps > 1 ? 's' : ''} of 64 per call`;
    if (engine.kind === 'nodenn') {
      const { x, y } = trainData(engine, nn, n, [1, 28, 28]);
      const net = nodennCnn(nn);
      const fitOpts = { loss: 'softmaxCrossEntropy', optimizer: new nn.Adam({ lr: 1e-3 }), epochs: 1, batchSize: 64, shuffle: false };
      return { run: () => net.fit(x, y, fitOpts), work: n, note };
    }
    const tf = engine.tf;
    const { x, y } = trainData(engine, nn, n, [28, 28, 1]);
    const model = tfCnn(tf);
    model.compile({ optimizer: tf.train.adam(1e-3), loss: tfLoss(tf) });
    return {
      run: () => model.fit(x, y, { epochs: 1, batchSize: 64, shuffle: false, verbose: 0 }),
      work: n, note,
      dispose: () => { disposeAll(x, y); model.dispose(); },
    };
  },
};

const cnnInference = {
  id: 'cnn-infer',
  title: 'CNN inference, batch 1000',
  unit: 'img/s',
  timing: { reps: 5, minSeconds: 0, warmup: 1 },
  engines: (engine, opts, nn) => (engine.kind === 'tfjs' || hasConv(nn)) && !(opts.quick && SLOW.has(engine.id)),
  async setup(engine, nn, opts) {
    const n = SLOW.has(engine.id) ? 1000 : (opts.quick ? 2000 : 10000);
    const d = loadMnist('test');
    const note = n < 10000 ? `${n} of the 10,000 test images per call` : '';
    if (engine.kind === 'nodenn') {
      const net = nodennCnn(nn).eval();
      const x = new nn.Tensor(d.x.subarray(0, n * 784), [n, 1, 28, 28]);
      return { run: () => net.predictProba(x, { batchSize: 1000 }), work: n, note, sync: true };
    }
    if (engine.kind === 'ort') {
      const session = await ortSession(engine, nn, new nn.Sequential([...nodennCnn(nn).layers, new nn.Softmax()]), [1, 28, 28]);
      const feeds = [];
      for (let i = 0; i < n; i += 1000) {
        feeds.push({ input: new engine.ort.Tensor('float32', d.x.subarray(i * 784, (i + 1000) * 784), [1000, 1, 28, 28]) });
      }
      return {
        run: async () => { for (const f of feeds) await session.run(f); },
        work: n, note: [note, 'batches of 1000'].filter(Boolean).join('; '),
      };
    }
    const tf = engine.tf;
    const model = tfCnn(tf);
    const x = tf.tensor4d(d.x.subarray(0, n * 784), [n, 28, 28, 1]);
    return {
      run: () => { const p = tf.tidy(() => tf.softmax(model.predict(x, { batchSize: 1000 }))); p.dataSync(); p.dispose(); },
      work: n, note, sync: true,
      dispose: () => { x.dispose(); model.dispose(); },
    };
  },
};

module.exports = [mlpEpoch, mlpPredict, mlpPredictKernels, cnnTrain, cnnInference];
