#!/usr/bin/env node
// Where one step of the bench's mlp-epoch workload (MLP 784-100(ReLU)-10, SGD lr 0.1, batch 100, fit(x, y) on the
// first 60,000 MNIST training images, no shuffle) spends its CPU time: every backend kernel call is timed by the
// process CPU time around it, grouped by kernel and geometry, plus the JS between the calls. Run with one thread
// (NODENN_THREADS=1) so that the process CPU time is the calling thread's; --wall times the calls by the wall clock
// instead (for two threads, on a machine with nothing else running, or under `chrt -f 50` on a loaded one).
// --epochs n measures n epochs after one of warm-up; --plain times whole epochs only (no wrapping, CPU and wall per
// epoch, the minimum of --reps).
// node bench/mlp-profile.js [--epochs 1] [--wall] [--plain --reps 5]
'use strict';
const path = require('path');
const nn = require(path.join(__dirname, '..', 'dist', 'cjs', 'index.js'));
const { getBackend } = require(path.join(__dirname, '..', 'dist', 'cjs', 'backend', 'index.js'));
const { loadMnist } = require('./mnist');

const arg = (name, def) => { const i = process.argv.indexOf(`--${name}`); return i < 0 ? def : Number(process.argv[i + 1]); };
const epochs = arg('epochs', 1), reps = arg('reps', 5), plain = process.argv.includes('--plain');
const wall = process.argv.includes('--wall');
const { cpuNow, timeKernels } = require('./util');

async function main() {
  const d = loadMnist('train');
  const steps = 600, n = steps * 100;
  const x = new nn.Tensor(d.x.subarray(0, n * 784), [n, 784]), y = d.y.subarray(0, n);
  const net = new nn.Sequential([new nn.Dense(784, 100), new nn.ReLU(), new nn.Dense(100, 10)], { seed: 1 });
  const fit = (e) => net.fit(x, y, { loss: 'softmaxCrossEntropy', optimizer: new nn.SGD({ lr: 0.1 }), epochs: e,
    batchSize: 100, shuffle: false });
  await fit(1);  // warm-up: buffers, JIT
  if (plain) {
    let cpu = Infinity, wall = Infinity;
    for (let r = 0; r < reps; r++) {
      const c0 = cpuNow(), t0 = performance.now();
      await fit(epochs);
      cpu = Math.min(cpu, (cpuNow() - c0) / epochs);
      wall = Math.min(wall, (performance.now() - t0) / epochs);
    }
    console.log(`epoch: ${cpu.toFixed(1)} ms CPU, ${wall.toFixed(1)} ms wall (min of ${reps}; threads ${nn.backendInfo().threads}, ${nn.backendInfo().isa})`);
    return;
  }
  const b = getBackend();
  const clock = wall ? () => performance.now() : cpuNow;
  const stats = timeKernels(b, () => true, new Map(), clock);
  await fit(1);  // warm-up of the wrappers
  stats.clear();
  const c0 = clock();
  await fit(epochs);
  const total = clock() - c0, all = steps * epochs;
  const rows = [...stats].sort((p, q) => q[1].ms - p[1].ms);
  let kern = 0;
  console.log(`${wall ? 'wall' : 'CPU'} µs per step (batch 100, ${all} steps, threads ${nn.backendInfo().threads}, ${nn.backendInfo().isa}):`);
  for (const [k, s] of rows) {
    kern += s.ms;
    console.log(`${(1000 * s.ms / all).toFixed(1).padStart(8)}  ${String(s.calls / all).padStart(4)}x  ${k}`);
  }
  console.log(`${(1000 * kern / all).toFixed(1).padStart(8)}  kernels`);
  console.log(`${(1000 * (total - kern) / all).toFixed(1).padStart(8)}  JS around them (fit, layers, optimizer, timing)`);
  console.log(`${(1000 * total / all).toFixed(1).padStart(8)}  total per step`);
}
main().catch((e) => { console.error(e); process.exit(1); });
