#!/usr/bin/env node
// Process CPU time per training step of the benchmark's CNN (bench/run.js's cnn-train: conv-ReLU-pool twice, dense;
// Adam, batch 64, 20 steps per fit() call, MNIST), the mean over --reps calls after one warm-up call. With two threads
// it is both threads' CPU. For A/B against another build: NODENN_ADDON=... (and --dist for another dist/).
// node bench/cnn-train-cpu.js [--reps 10] [--dist DIR]
'use strict';
const path = require('path');
const distArg = process.argv.indexOf('--dist');
const dist = distArg < 0 ? path.join(__dirname, '..', 'dist') : path.resolve(process.argv[distArg + 1]);
const nn = require(path.join(dist, 'cjs', 'index.js'));
const { loadMnist } = require(path.join(dist, 'cjs', 'data', 'index.js'));
const repsArg = process.argv.indexOf('--reps');
const reps = repsArg < 0 ? 10 : Number(process.argv[repsArg + 1]);

async function main() {
  const data = await loadMnist({ kind: 'mnist', flatten: false });
  const net = new nn.Sequential([
    new nn.Conv2D(1, 16, 3, { padding: 1 }), new nn.ReLU(), new nn.MaxPool2D(2),
    new nn.Conv2D(16, 32, 3, { padding: 1 }), new nn.ReLU(), new nn.MaxPool2D(2),
    new nn.Flatten(), new nn.Dense(1568, 10),
  ], { seed: 1 });
  const steps = 20, n = 64 * steps;
  const x = new nn.Tensor(data.train.x.data.subarray(0, n * 784), [n, 1, 28, 28]);
  const y = data.train.y.subarray(0, n);
  const fitOpts = { loss: 'softmaxCrossEntropy', optimizer: new nn.Adam({ lr: 1e-3 }), epochs: 1, batchSize: 64,
    shuffle: false, verbose: 0 };
  await net.fit(x, y, fitOpts);
  const c0 = process.cpuUsage();
  for (let r = 0; r < reps; r++) await net.fit(x, y, fitOpts);
  const c = process.cpuUsage(c0);
  console.log(`CPU ms per step (batch 64, threads ${nn.backendInfo().threads}): ` +
    `${((c.user + c.system) / 1000 / (reps * steps)).toFixed(3)}`);
}
main().catch((e) => { console.error(e); process.exit(1); });
