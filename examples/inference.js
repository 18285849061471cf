// Inference: load a saved model and classify the MNIST test set in batches.
//   node examples/inference.js model.safetensors [--quick]
// (make a model first: node examples/mnist-mlp.js, or npx nodenn train mnist --out model.safetensors)
'use strict';
const nn = require('nodenn');

const quick = process.argv.includes('--quick') || process.env.NODENN_QUICK === '1';
const file = process.argv.slice(2).find((a) => !a.startsWith('--')) ?? 'mnist-mlp.safetensors';

async function main() {
  const net = await nn.Sequential.load(file);
  net.eval();
  // the file records the shape of one sample: [784] for an MLP, [1, 28, 28] for a CNN
  const { test } = await nn.data.loadMnist({ flatten: net.inputShape.length === 1, limit: quick ? { train: 1, test: 1000 } : undefined });
  const n = test.x.shape[0], sample = test.x.size / n, batch = 500;
  const confusion = Array.from({ length: 10 }, () => new Array(10).fill(0));
  const t0 = performance.now();
  for (let start = 0; start < n; start += batch) {
    const end = Math.min(n, start + batch);
    const x = new nn.Tensor(test.x.data.subarray(start * sample, end * sample), [end - start, ...test.x.shape.slice(1)]);
    const pred = net.predictClasses(x);
    for (let i = 0; i < pred.length; i++) confusion[test.y[start + i]][pred[i]]++;
  }
  const ms = performance.now() - t0;
  const correct = confusion.reduce((s, row, k) => s + row[k], 0);
  console.log(`${file}: ${correct}/${n} correct, accuracy ${(100 * correct / n).toFixed(2)}% ` +
    `(${Math.round(n / (ms / 1000)).toLocaleString('en-US')} images/s)`);
  console.log('confusion matrix (rows: label, columns: prediction)');
  console.log('     ' + [...Array(10).keys()].map((k) => String(k).padStart(5)).join(''));
  confusion.forEach((row, k) => console.log(String(k).padStart(5) + row.map((c) => String(c).padStart(5)).join('')));
}

main().catch((e) => { console.error(e); process.exitCode = 1; });
