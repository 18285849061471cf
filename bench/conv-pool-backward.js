#!/usr/bin/env node
// CPU time of training's pooled convolution backward (conv2dPoolBackward) on the bench CNN's second layer, with the
// sparsity a real step gives it: x a ReLU'd pooled activation (about half zeros), dy the pooled gradient masked by
// the forward's ReLU. Process CPU time per image, the minimum over --reps calls; run with NODENN_THREADS=1 and
// NODENN_ADDON=... for A/B against another build.
// node bench/conv-pool-backward.js [--reps 30] [--batch 64] [--c 16] [--f 32] [--hw 14] [--no-dx]
'use strict';
const path = require('path');
const { getBackend } = require(path.join(__dirname, '..', 'dist', 'cjs', 'backend', 'index.js'));
const { cpuNow } = require('./util');

const arg = (name, def) => { const i = process.argv.indexOf(`--${name}`); return i < 0 ? def : Number(process.argv[i + 1]); };
const reps = arg('reps', 30), N = arg('batch', 64), C = arg('c', 16), F = arg('f', 32), H = arg('hw', 14), W = H;
const b = getBackend();
let seed = 12345;
const rnd = () => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed / 2 ** 32 - 0.5; };
const x = new Float32Array(N * C * H * W).map(() => Math.max(0, rnd()));
const w = new Float32Array(F * C * 9).map(() => rnd() * 0.2);
const bias = new Float32Array(F).map(() => rnd() * 0.1);
const Q = (H >> 1) * (W >> 1);
const y = new Float32Array(N * F * Q), argmax = new Int32Array(N * F * Q);
const g = [N, C, H, W, F, 3, 3, 1, 1, 1, 1];
b.conv2dPoolForward(...g, x, w, bias, y, argmax, true);
const dy = y.map((v) => (v > 0 && rnd() < 0.3 ? rnd() : 0));  // ~70% nonzero, as in the bench CNN's training
const dx = process.argv.includes('--no-dx') ? null : new Float32Array(N * C * H * W);
const dw = new Float32Array(F * C * 9), db = new Float32Array(F);
let best = Infinity;
for (let r = 0; r < reps; r++) {
  const c0 = cpuNow();
  b.conv2dPoolBackward(...g, x, dy, argmax, w, dx, dw, db);
  best = Math.min(best, cpuNow() - c0);
}
const nz = dy.reduce((s, v) => s + (v !== 0), 0) / dy.length;
console.log(`conv2dPoolBackward ${N}x${C}x${H}x${W} -> ${F}: ${(best * 1000 / N).toFixed(2)} us CPU per image ` +
  `(min of ${reps}; pooled dy ${(100 * nz).toFixed(0)}% nonzero)`);
