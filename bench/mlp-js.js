#!/usr/bin/env node
// The JS of the bench's mlp-epoch step alone: fit() of the MLP 784-100(ReLU)-10, SGD lr 0.1, batch 100, 600 steps,
// with every backend kernel replaced by a no-op (a loss kernel returns 1), so what is left is fit()'s own work per
// step: CPU µs per step, the minimum of --reps epochs. Under `node --cpu-prof` it shows where that time goes.
// node bench/mlp-js.js [--reps 7]
'use strict';
const path = require('path');
const nn = require(path.join(__dirname, '..', 'dist', 'cjs', 'index.js'));
const { getBackend } = require(path.join(__dirname, '..', 'dist', 'cjs', 'backend', 'index.js'));
const { cpuNow } = require('./util');

async function main() {
  const i = process.argv.indexOf('--reps'), reps = i < 0 ? 7 : Number(process.argv[i + 1]);
  const steps = 600, n = steps * 100;
  const x = new nn.Tensor(new Float32Array(n * 784), [n, 784]), y = new Int32Array(n);
  const net = new nn.Sequential([new nn.Dense(784, 100), new nn.ReLU(), new nn.Dense(100, 10)], { seed: 1 });
  const fit = () => net.fit(x, y, { loss: 'softmaxCrossEntropy', optimizer: new nn.SGD({ lr: 0.1 }), epochs: 1,
    batchSize: 100, shuffle: false });
  await fit();  // the first: buffers, JIT, with the real kernels
  const b = getBackend();
  for (const k of Object.keys(b)) if (typeof b[k] === 'function' && !/^(info|set|get|plan)/.test(k)) b[k] = () => 1;
  let best = Infinity;
  for (let r = 0; r < reps; r++) {
    const c0 = cpuNow();
    await fit();
    best = Math.min(best, (cpuNow() - c0) * 1000 / steps);
  }
  console.log(`JS of a step: ${best.toFixed(1)} µs CPU (min of ${reps} epochs of ${steps} steps, kernels no-ops)`);
}
main().catch((e) => { console.error(e); process.exit(1); });
