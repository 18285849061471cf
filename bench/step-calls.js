#!/usr/bin/env node
// The MLP step's loss, accuracy and update calls, both ways: as fit() ran them before (softmaxCrossEntropyIndex and
// argmaxRows on the 100 x 10 logits; sgd of W1 78,400, b1 100, W2 1,000, b2 10: six calls) and as it runs them now
// (softmaxCrossEntropyArgmax; sgd2 of W1 + b1 and of W2 + b2: three calls), float32, lr 1e-9 (the values barely
// move). Process CPU µs per step's worth, 7 rounds alternated, min and median. node bench/step-calls.js
// (NODENN_THREADS=1|2: sgd of 78,400 goes to the pool from 65,536 elements; the CPU time then counts both threads.)
'use strict';
const path = require('path');
const { getBackend } = require(path.join(__dirname, '..', 'dist', 'cjs', 'backend', 'index.js'));
const nn = require(path.join(__dirname, '..', 'dist', 'cjs', 'index.js'));
const { cpuNow } = require('./util');

const k = getBackend();
let seed = 1;
const rand = (m) => Float32Array.from({ length: m }, () => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 2 - 1);
const logits = rand(1000), grad = new Float32Array(1000), pred = new Int32Array(100);
const labels = Int32Array.from({ length: 100 }, (_, i) => (i * 7) % 10);
const sizes = [78400, 100, 1000, 10], p = sizes.map(rand), g = sizes.map(rand), lr = 1e-9;
const cases = {
  separate: () => {
    k.softmaxCrossEntropyIndex(100, 10, logits, labels, grad);
    k.argmaxRows(100, 10, logits, pred);
    for (let i = 0; i < 4; i++) k.sgd(sizes[i], p[i], g[i], lr);
  },
  fused: () => {
    k.softmaxCrossEntropyArgmax(100, 10, logits, labels, grad, pred);
    k.sgd2(78400, p[0], g[0], 100, p[1], g[1], lr);
    k.sgd2(1000, p[2], g[2], 10, p[3], g[3], lr);
  },
};
const calls = 4000, res = { separate: [], fused: [] };
for (let round = 0; round < 7; round++) {
  for (const [name, f] of Object.entries(cases)) {
    for (let i = 0; i < 200; i++) f();
    const c0 = cpuNow();
    for (let i = 0; i < calls; i++) f();
    res[name].push((1000 * (cpuNow() - c0)) / calls);
  }
}
const info = nn.backendInfo();
console.log(`${info.name} ${info.isa ?? ''}, threads ${info.threads}:`);
for (const [name, v] of Object.entries(res)) {
  v.sort((a, b) => a - b);
  console.log(`${name.padEnd(9)} min ${v[0].toFixed(2)}  median ${v[3].toFixed(2)} µs CPU`);
}
