// MNIST with a small convolutional network: two blocks (conv 3x3, batch norm, ReLU, max-pool 2) and a dense head.
//   node examples/mnist-cnn.js [--quick] [--out mnist-cnn.safetensors]
'use strict';
const nn = require('nodenn');

const quick = process.argv.includes('--quick') || process.env.NODENN_QUICK === '1';
const outIndex = process.argv.indexOf('--out');
const out = outIndex > 0 ? process.argv[outIndex + 1] : 'mnist-cnn.safetensors';

async function main() {
  // flatten: false gives images as (N, 1, 28, 28), the NCHW layout convolutions take.
  const { train, test } = await nn.data.loadMnist({ flatten: false, limit: quick ? { train: 2000, test: 500 } : undefined });
  const net = new nn.Sequential([
    new nn.Conv2D(1, 16, 3, { padding: 1 }), new nn.BatchNorm2D(16), new nn.ReLU(), new nn.MaxPool2D(2),
    new nn.Conv2D(16, 32, 3, { padding: 1 }), new nn.BatchNorm2D(32), new nn.ReLU(), new nn.MaxPool2D(2),
    new nn.Flatten(),
    new nn.Dense(32 * 7 * 7, 128), new nn.ReLU(),
    new nn.Dense(128, 10),
  ], { seed: 1 });
  console.log(net.summary([1, 28, 28]));

  const epochs = quick ? 2 : 3;
  await net.fit(train.x, train.y, {
    optimizer: new nn.Adam({ lr: 0.002, schedule: nn.cosineDecay({ tMax: epochs, minLr: 1e-4 }) }),
    epochs, batchSize: quick ? 32 : 64,
    onEpochEnd: (e) => console.log(`epoch ${e.epoch + 1}: loss ${e.loss.toFixed(4)}, accuracy ${(100 * e.accuracy).toFixed(2)}%`),
  });
  const { accuracy } = net.evaluate(test.x, test.y);
  console.log(`test accuracy ${(100 * accuracy).toFixed(2)}%`);
  await net.save(out, { dataset: 'mnist' });
  console.log(`model saved to ${out}`);
}

main().catch((e) => { console.error(e); process.exitCode = 1; });
