// GEMM throughput, native (each ISA) against the TS backend: medians of repeated runs after warm-up.
// Usage: node bench/gemm.js [--quick]
'use strict';
const nn = require('..');
const { median, timeIt } = require('./util');

const quick = process.argv.includes('--quick');
const shapes = [[1024, 1024, 1024], [100, 100, 784], [64, 784, 100]];

function rand(n, C) {
  const a = new C(n);
  for (let i = 0; i < n; i++) a[i] = Math.random() * 2 - 1;
  return a;
}

function gflops(backend, M, N, K, C) {
  const A = rand(M * K, C), B = rand(K * N, C), out = new C(M * N);
  const flops = 2 * M * N * K;
  const slow = backend === 'ts';
  const times = timeIt(() => nn.getBackend().gemm(false, false, M, N, K, 1, A, B, 0, out),
    { reps: quick || slow ? 3 : 7, minSeconds: slow ? 0.05 : 0.2 });
  return { median: flops / median(times) / 1e9, min: flops / Math.max(...times) / 1e9, max: flops / Math.min(...times) / 1e9 };
}

function main() {
  const rows = [];
  const engines = [['ts', null]];
  if (nn.nativeAvailable()) {
    nn.setBackend('native');
    const isas = require('../dist/cjs/backend/index.js').nativeAddon().info().supportedIsas;
    for (const isa of isas.slice().reverse()) engines.unshift(['native', isa]);
  }
  for (const [M, N, K] of shapes) {
    for (const C of [Float32Array, Float64Array]) {
      if (quick && C === Float64Array) continue;
      for (const [backend, isa] of engines) {
        if (backend === 'ts' && M * N * K > 2e8 && quick) continue;
        nn.setBackend(backend);
        if (isa) nn.setIsa(isa);
        const r = gflops(backend, M, N, K, C);
        rows.push({ shape: `${M}x${N}x${K}`, dtype: C === Float32Array ? 'float32' : 'float64', engine: isa ? `native/${isa}` : 'ts', ...r });
      }
    }
  }
  if (nn.nativeAvailable()) nn.setBackend('native');
  const info = nn.backendInfo();
  console.log(`threads: ${info.threads}, node ${process.version}, ${require('node:os').cpus()[0].model}`);
  console.log('| shape (MxNxK) | dtype | engine | GFLOP/s median | min–max | vs ts |');
  console.log('|---|---|---|---:|---:|---:|');
  for (const r of rows) {
    const ts = rows.find((x) => x.shape === r.shape && x.dtype === r.dtype && x.engine === 'ts');
    const ratio = ts ? (r.median / ts.median).toFixed(1) + '×' : '';
    console.log(`| ${r.shape} | ${r.dtype} | ${r.engine} | ${r.median.toFixed(2)} | ${r.min.toFixed(2)}–${r.max.toFixed(2)} | ${ratio} |`);
  }
  return rows;
}

module.exports = { main };
if (require.main === module) main();
