// MNIST with a multilayer perceptron, from a script: load, train with validation, test, save, plot.
//   node examples/mnist-mlp.js [--quick] [--out mnist-mlp.safetensors]
'use strict';
const fs = require('node:fs');
const nn = require('nodenn');

const quick = process.argv.includes('--quick') || process.env.NODENN_QUICK === '1';
const outIndex = process.argv.indexOf('--out');
const out = outIndex > 0 ? process.argv[outIndex + 1] : 'mnist-mlp.safetensors';

async function main() {
  // 60000 training and 10000 test images, (N, 784) in [0, 1]; labels as Int32Array.
  const { train, test } = await nn.data.loadMnist({ limit: quick ? { train: 3000, test: 1000 } : undefined });
  const nVal = quick ? 500 : 5000, nTrain = train.x.shape[0] - nVal;
  const rows = (t, a, b) => new nn.Tensor(t.data.subarray(a * 784, b * 784), [b - a, 784]);

  const net = new nn.Sequential([
    new nn.Dense(784, 256), new nn.ReLU(),
    new nn.Dense(256, 128), new nn.ReLU(),
    new nn.Dense(128, 10),
  ], { seed: 1 });
  console.log(net.summary());

  const epochs = quick ? 2 : 5;
  const history = await net.fit(rows(train.x, 0, nTrain), train.y.subarray(0, nTrain), {
    optimizer: new nn.Adam({ lr: 0.002, schedule: nn.cosineDecay({ tMax: epochs, minLr: 1e-4 }) }),
    epochs, batchSize: quick ? 64 : 128,
    validationData: [rows(train.x, nTrain, train.x.shape[0]), train.y.subarray(nTrain)],
    onEpochEnd: (e) => console.log(`epoch ${e.epoch + 1}: loss ${e.loss.toFixed(4)}, ` +
      `validation accuracy ${(100 * e.valAccuracy).toFixed(2)}%`),
  });
  const { accuracy } = net.evaluate(test.x, test.y);
  console.log(`test accuracy ${(100 * accuracy).toFixed(2)}%`);

  await net.save(out, { dataset: 'mnist' });  // the data set in the file: `nodenn eval` scores it on MNIST
  fs.writeFileSync(out.replace(/\.safetensors$/, '') + '-curves.svg', nn.plot.trainingCurvesSvg(history, { title: 'MNIST MLP' }));
  console.log(`model saved to ${out}`);
}

main().catch((e) => { console.error(e); process.exitCode = 1; });
