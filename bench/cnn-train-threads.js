#!/usr/bin/env node
// The bench CNN's training step (bench/run.js's cnn-train: conv-ReLU-pool twice, dense; Adam, batch 64, 20 steps per
// fit() call) at 1 and 2 threads, alternated in one process (setThreads) round by round: the step's wall time, each
// kernel's wall time (performance.now() around every backend call) and the wall time between the kernel calls (the
// JS of the step, plus this wrapper's own ~1 µs a call). Per kernel, the minimum over the rounds. Synthetic images
// (80% zeros, as MNIST), so no data files are read.
// node bench/cnn-train-threads.js [--rounds 8]
'use strict';
const path = require('path');
const nn = require(path.join(__dirname, '..', 'dist', 'cjs', 'index.js'));
const { getBackend } = require(path.join(__dirname, '..', 'dist', 'cjs', 'backend', 'index.js'));

const roundsArg = process.argv.indexOf('--rounds');
const rounds = roundsArg < 0 ? 8 : Number(process.argv[roundsArg + 1]);

async function main() {
  const net = new nn.Sequential([
    new nn.Conv2D(1, 16, 3, { padding: 1 }), new nn.ReLU(), new nn.MaxPool2D(2),
    new nn.Conv2D(16, 32, 3, { padding: 1 }), new nn.ReLU(), new nn.MaxPool2D(2),
    new nn.Flatten(), new nn.Dense(1568, 10),
  ], { seed: 1 });
  const steps = 20, n = 64 * steps, reps = 3;
  const xd = new Float32Array(n * 784);
  let s = 12345;
  for (let i = 0; i < xd.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    xd[i] = (s >>> 8) / 16777216 < 0.8 ? 0 : ((s >>> 4) & 255) / 255;
  }
  const x = new nn.Tensor(xd, [n, 1, 28, 28]);
  const y = new Int32Array(n).map((_, i) => (i * 7) % 10);
  const fitOpts = { loss: 'softmaxCrossEntropy', optimizer: new nn.Adam({ lr: 1e-3 }), epochs: 1, batchSize: 64,
    shuffle: false, verbose: 0 };
  const b = getBackend();
  let cur = { kernels: 0, per: new Map() };
  for (const k of Object.keys(b)) {
    const f = b[k];
    if (typeof f !== 'function' || k === 'info' || k === 'setThreads') continue;
    const conv = k.startsWith('conv');
    b[k] = function (...a) {
      const t = performance.now();
      const r = f.apply(this, a);
      const d = performance.now() - t;
      cur.kernels += d;
      const key = conv ? `${k}(C ${a[1]})` : k;  // the two convolutions apart
      cur.per.set(key, (cur.per.get(key) ?? 0) + d);
      return r;
    };
  }
  const all = { 1: [], 2: [] };
  await net.fit(x, y, fitOpts);
  for (let round = 0; round < rounds; round++) {
    for (const T of [1, 2]) {
      nn.setThreads(T);
      cur = { kernels: 0, per: new Map() };  // a throw-away, so that the rounds kept stay as they were
      await net.fit(x, y, fitOpts);  // the pool settles
      cur = { kernels: 0, per: new Map() };
      const t0 = performance.now();
      for (let r = 0; r < reps; r++) await net.fit(x, y, fitOpts);
      const per = reps * steps;
      cur.step = (performance.now() - t0) / per;
      cur.kernels /= per;
      for (const [k, v] of cur.per) cur.per.set(k, v / per);
      all[T].push(cur);
    }
  }
  const min = (a) => Math.min(...a);
  const med = (a) => [...a].sort((p, q) => p - q)[a.length >> 1];
  console.log(`wall ms per step of 64 (${rounds} rounds of ${reps} fits): min / median`);
  for (const T of [1, 2]) {
    const r = all[T];
    console.log(`threads ${T}: step ${min(r.map((c) => c.step)).toFixed(3)} / ${med(r.map((c) => c.step)).toFixed(3)}, ` +
      `kernels ${min(r.map((c) => c.kernels)).toFixed(3)} / ${med(r.map((c) => c.kernels)).toFixed(3)}, between them ` +
      `${min(r.map((c) => c.step - c.kernels)).toFixed(3)} / ${med(r.map((c) => c.step - c.kernels)).toFixed(3)}`);
  }
  console.log('per kernel, min over rounds: 1 thread / 2 threads, ms per step, and 1-thread / 2-thread time');
  const keys = [...all[1][0].per.keys()].sort((p, q) => all[1][0].per.get(q) - all[1][0].per.get(p));
  for (const k of keys) {
    const m1 = min(all[1].map((c) => c.per.get(k))), m2 = min(all[2].map((c) => c.per.get(k)));
    console.log(`  ${k.padEnd(28)} ${m1.toFixed(4)} / ${m2.toFixed(4)}  ${(m1 / m2).toFixed(2)}x`);
  }
}
main().catch((e) => { console.error(e); process.exit(1); });
