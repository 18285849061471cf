#!/usr/bin/env node
// CPU time per image of the bench's CNN inference (`cnn-infer`: predictProba of the 10,000 MNIST test images, batch
// 1000), and where it goes by kernel: the process CPU time (NODENN_THREADS=1 makes it the one thread's), the minimum
// and median of --reps repetitions. --dist DIR runs another build's dist/cjs (with NODENN_ADDON for its addon), so
// that two builds can be compared A/B, interleaved, on a loaded machine:
//   for i in 1 2 3 4 5; do NODENN_THREADS=1 node bench/cnn-infer-cpu.js; \
//     NODENN_THREADS=1 NODENN_ADDON=/tmp/main/nodenn.node node bench/cnn-infer-cpu.js --dist /tmp/main/dist; done
// node bench/cnn-infer-cpu.js [--reps 5] [--images 10000] [--dist DIR] [--kernels]
'use strict';
const path = require('path');
const { loadMnist } = require('./mnist');
const { cpuNow, timeKernels } = require('./util');

const arg = (name, def) => { const i = process.argv.indexOf(`--${name}`); return i < 0 ? def : process.argv[i + 1]; };
const dist = path.resolve(arg('dist', path.join(__dirname, '..', 'dist')));
const reps = Number(arg('reps', 5)), n = Number(arg('images', 10000));
const nn = require(path.join(dist, 'cjs', 'index.js'));
const { getBackend } = require(path.join(dist, 'cjs', 'backend', 'index.js'));

const net = new nn.Sequential([
  new nn.Conv2D(1, 16, 3, { padding: 1 }), new nn.ReLU(), new nn.MaxPool2D(2),
  new nn.Conv2D(16, 32, 3, { padding: 1 }), new nn.ReLU(), new nn.MaxPool2D(2),
  new nn.Flatten(), new nn.Dense(1568, 10),
], { seed: 1 }).eval();
const x = new nn.Tensor(loadMnist('test').x.subarray(0, n * 784), [n, 1, 28, 28]);
let on = false;
const stats = process.argv.includes('--kernels') ? timeKernels(getBackend(), () => on) : null;
net.predictProba(x, { batchSize: 1000 });  // warm-up: buffers, JIT
const us = [];
for (let r = 0; r < reps; r++) {
  on = true;
  const c0 = cpuNow();
  net.predictProba(x, { batchSize: 1000 });
  us.push((cpuNow() - c0) * 1000 / n);
  on = false;
}
us.sort((a, b) => a - b);
const info = nn.backendInfo();
console.log(`${dist}: ${info.isa ?? info.backend}, ${info.threads} thread(s): CPU µs per image min ${us[0].toFixed(2)} ` +
  `median ${us[Math.floor(us.length / 2)].toFixed(2)} (${reps} x ${n} images)`);
if (stats) {
  for (const [k, s] of [...stats].sort((p, q) => q[1].ms - p[1].ms)) {
    console.log(`${(s.ms * 1000 / (n * reps)).toFixed(2).padStart(8)} µs/image  ${String(s.calls / reps).padStart(4)}x  ${k}`);
  }
}
