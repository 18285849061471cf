#!/usr/bin/env node
// Times one float32 gemm shape on the backend in force, the same data every call: 2,000 calls of warm-up, then 7
// samples of 500 calls each; prints the min and median µs per call. For thread scaling of small products run it
// with NODENN_THREADS=1 and 2 alternately (under `chrt -f 50` on a loaded machine).
// node bench/gemm-shape.js M N K [transA 0|1]
'use strict';
const path = require('path');
const nn = require(path.join(__dirname, '..', 'dist', 'cjs', 'index.js'));
const { getBackend } = require(path.join(__dirname, '..', 'dist', 'cjs', 'backend', 'index.js'));

const [M, N, K, ta = 0] = process.argv.slice(2).map(Number);
if (!(M > 0 && N > 0 && K > 0)) {
  console.error('usage: node bench/gemm-shape.js M N K [transA 0|1]');
  process.exit(2);
}
const b = getBackend();
const A = Float32Array.from({ length: M * K }, (_, i) => ((i * 7919) % 1000) / 1000 - 0.5);
const B = Float32Array.from({ length: K * N }, (_, i) => ((i * 104729) % 1000) / 1000 - 0.5);
const C = new Float32Array(M * N);
const call = () => b.gemm(ta === 1, false, M, N, K, 1, A, B, 0, C);
for (let i = 0; i < 2000; i++) call();
const us = [];
for (let r = 0; r < 7; r++) {
  const t0 = performance.now();
  for (let i = 0; i < 500; i++) call();
  us.push(((performance.now() - t0) / 500) * 1000);
}
us.sort((p, q) => p - q);
const info = nn.backendInfo();
console.log(`${M}x${N}x${K}${ta ? ' (A transposed)' : ''}, threads ${info.threads}, ${info.isa}: min ${us[0].toFixed(1)} µs, median ${us[3].toFixed(1)} µs`);
