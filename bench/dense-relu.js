#!/usr/bin/env node
// The MLP step's bias and ReLU work, both ways, as fit() ran it before (biasAdd, activationForward relu,
// activationBackward relu, biasBackward: four calls) and as it runs it now for a Dense followed by a ReLU (biasRelu,
// reluBiasBackward: two calls), on the step's 100 x 100 float32 (a copy of the product first, timed alone as `copy`).
// Process CPU µs per pair of passes, 7 rounds alternated, min and median. node bench/dense-relu.js
'use strict';
const path = require('path');
const { getBackend } = require(path.join(__dirname, '..', 'dist', 'cjs', 'backend', 'index.js'));
const { cpuNow } = require('./util');

const k = getBackend(), rows = 100, cols = 100, n = rows * cols;
let seed = 1;
const rand = (m) => Float32Array.from({ length: m }, () => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 2 - 1);
const z = rand(n), b = rand(cols), dy = rand(n), y = new Float32Array(n), dx = new Float32Array(n);
const db = new Float32Array(cols);
const cases = {
  separate: () => {
    y.set(z);
    k.biasAdd(rows, cols, y, b);
    k.activationForward('relu', n, y, y, 0);
    k.activationBackward('relu', n, y, y, dy, dx, 0);
    k.biasBackward(rows, cols, dx, db);
  },
  fused: () => {
    y.set(z);
    k.biasRelu(rows, cols, y, b);
    k.reluBiasBackward(rows, cols, y, dy, dx, db);
  },
  copy: () => y.set(z),
};
const calls = 20000, res = { separate: [], fused: [], copy: [] };
for (let round = 0; round < 7; round++) {
  for (const [name, f] of Object.entries(cases)) {
    for (let i = 0; i < 500; i++) f();
    const c0 = cpuNow();
    for (let i = 0; i < calls; i++) f();
    res[name].push((1000 * (cpuNow() - c0)) / calls);
  }
}
for (const [name, v] of Object.entries(res)) {
  v.sort((p, q) => p - q);
  console.log(`${name.padEnd(9)} min ${v[0].toFixed(2)}  median ${v[3].toFixed(2)} µs CPU`);
}
