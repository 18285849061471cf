#!/usr/bin/env node
// Where one training step of the CLI's default CNN (`nodenn train mnist --model cnn`) spends its time: every backend
// kernel call is timed by the process CPU time around it (run with one thread, NODENN_THREADS=1, so the process CPU
// time is the calling thread's), grouped by kernel and by the layer shape it ran for, plus the JS between the calls;
// then the data loading and the test evaluation. CPU time, which the load of a shared machine inflates less than wall.
// --unfused runs every layer on its own (fit() otherwise fuses Conv2D + MaxPool2D(2)), for before/after in one build.
// --model bench profiles the benchmark's CNN instead (bench/workloads/models.js: conv-ReLU-pool twice, dense; Adam,
// batch 64 there). The last lines: the step without the timing wrapper, the JS alone (kernels as no-ops) and the
// wrapper's own cost, which the "JS around them" line includes.
// node bench/cnn-profile.js [--steps 60] [--batch 128] [--unfused] [--model cli|bench]
'use strict';
const path = require('path');
const nn = require(path.join(__dirname, '..', 'dist', 'cjs', 'index.js'));
const { buildModel } = require(path.join(__dirname, '..', 'dist', 'cjs', 'cli.js'));
const { getBackend } = require(path.join(__dirname, '..', 'dist', 'cjs', 'backend', 'index.js'));
const { loadMnist } = require(path.join(__dirname, '..', 'dist', 'cjs', 'data', 'index.js'));

const arg = (name, def) => { const i = process.argv.indexOf(`--${name}`); return i < 0 ? def : Number(process.argv[i + 1]); };
const steps = arg('steps', 60), batch = arg('batch', 128);
const modelArg = process.argv.indexOf('--model');
const model = modelArg < 0 ? 'cli' : process.argv[modelArg + 1];
if (model !== 'cli' && model !== 'bench') throw new Error(`--model must be cli or bench, got ${model}`);
if (process.argv.includes('--unfused')) require(path.join(__dirname, '..', 'dist', 'cjs', 'inference', 'plan.js')).fusablePool = () => false;
const { cpuNow, timeKernels } = require('./util');

async function main() {
  let c0 = cpuNow();
  const data = await loadMnist({ kind: 'mnist', flatten: false });
  const tLoad = cpuNow() - c0;
  const b = getBackend();
  let on = false;
  const stats = timeKernels(b, () => on);
  const net = model === 'cli' ? buildModel('cnn', 1).net : new nn.Sequential([
    new nn.Conv2D(1, 16, 3, { padding: 1 }), new nn.ReLU(), new nn.MaxPool2D(2),
    new nn.Conv2D(16, 32, 3, { padding: 1 }), new nn.ReLU(), new nn.MaxPool2D(2),
    new nn.Flatten(), new nn.Dense(1568, 10),
  ], { seed: 1 });
  const n = steps * batch;
  const x = new nn.Tensor(data.train.x.data.subarray(0, n * 784), [n, 1, 28, 28]);
  const y = data.train.y.subarray(0, n);
  const fit = (epochs) => net.fit(x, y, { optimizer: new nn.Adam({ lr: 0.001 }), epochs, batchSize: batch,
    loss: 'softmaxCrossEntropy', shuffle: false, verbose: 0 });
  await fit(1);  // warm-up: buffers, JIT
  on = true;
  c0 = cpuNow();
  await fit(1);
  const total = cpuNow() - c0;
  on = false;
  const rows = [...stats].sort((p, q) => q[1].ms - p[1].ms);
  let kern = 0;
  console.log(`CPU ms per step (batch ${batch}, ${steps} steps, threads ${nn.backendInfo().threads}):`);
  for (const [k, s] of rows) {
    kern += s.ms;
    console.log(`${(s.ms / steps).toFixed(3).padStart(8)}  ${String(s.calls / steps).padStart(4)}x  ${k}`);
  }
  console.log(`${(kern / steps).toFixed(3).padStart(8)}  kernels`);
  console.log(`${((total - kern) / steps).toFixed(3).padStart(8)}  JS around them (fit, layers, optimizer)`);
  console.log(`${(total / steps).toFixed(3).padStart(8)}  total per step`);
  c0 = cpuNow();
  net.evaluate(data.test.x, data.test.y, { batchSize: 1000 });
  console.log(`data loading ${tLoad.toFixed(0)} ms, test evaluation (10,000) ${(cpuNow() - c0).toFixed(0)} ms CPU`);

  // The timing wrapper costs CPU of its own (two process.cpuUsage() calls, a key string and a Map lookup per kernel
  // call), most of which lands in "JS around them". Without it: the whole step, then the JS alone, every kernel but
  // the loss's (whose values fit() checks) replaced by a no-op, the minimum of 5 fits after 3 that re-tune the JIT to
  // the no-ops; and that again with the wrapper on, the wrapper's own cost. Last: the no-ops leave the net untrained.
  const cpuPerStep = () => { const t = cpuNow(); return fit(1).then(() => (cpuNow() - t) / steps); };
  const minOf = async (k) => {
    let m = Infinity;
    for (let i = 0; i < k; i++) m = Math.min(m, await cpuPerStep());
    return m;
  };
  console.log(`${(await minOf(3)).toFixed(3).padStart(8)}  step without the timing wrapper (min of 3 fits)`);
  const real = { ...b };
  for (const k of Object.keys(b)) if (typeof b[k] === 'function' && !/^softmaxCrossEntropy/.test(k)) b[k] = () => {};
  await minOf(3);
  const js = await minOf(5);
  console.log(`${js.toFixed(3).padStart(8)}  JS alone (kernels as no-ops, the loss kernel kept; min of 5 fits)`);
  timeKernels(b, () => true, new Map());
  await minOf(3);
  console.log(`${((await minOf(5)) - js).toFixed(3).padStart(8)}  the timing wrapper's own cost per step`);
  Object.assign(b, real);
}
main().catch((e) => { console.error(e); process.exit(1); });
