// Conv and pooling throughput at the MNIST-CNN shapes, native (each ISA) against the TS backend: conv forward,
// backward-data and backward-filter (batch 64, 3x3, pad 1: 1->16 at 28x28 and 16->32 at 14x14) and 2x2 max-pool
// forward + backward. GFLOP/s count 2 flops per multiply-add of the direct formula (padding taps included, as
// is usual); pooling is reported in input elements per ns (Gelem/s). Medians of repeated runs after warm-up.
// Usage: node bench/conv.js [--quick] [--threads N]
'use strict';
const nn = require('..');
const { median, timeItSync } = require('./util');

const quick = process.argv.includes('--quick');
const threadsArg = process.argv.indexOf('--threads');
if (threadsArg > 0) nn.setThreads(Number(process.argv[threadsArg + 1]));

const convShapes = [
  { name: '1->16 28x28', N: 64, C: 1, H: 28, W: 28, F: 16 },
  { name: '16->32 14x14', N: 64, C: 16, H: 14, W: 14, F: 32 },
];
const poolShapes = [
  { name: 'max 2x2 16x28x28', N: 64, C: 16, H: 28, W: 28 },
  { name: 'max 2x2 32x14x14', N: 64, C: 32, H: 14, W: 14 },
];

function rand(n, C) {
  const a = new C(n);
  for (let i = 0; i < n; i++) a[i] = Math.random() * 2 - 1;
  return a;
}

function convOps(s, C) {
  const { N, H, W, F } = s, K = 3, OH = H, OW = W;
  const g = [N, s.C, H, W, F, K, K, 1, 1, 1, 1];
  const x = rand(N * s.C * H * W, C), w = rand(F * s.C * K * K, C), b = rand(F, C), dy = rand(N * F * OH * OW, C);
  const y = new C(dy.length), dx = new C(x.length), dw = new C(w.length), db = new C(F);
  const flops = 2 * N * F * OH * OW * s.C * K * K;
  return [
    ['forward', flops, () => nn.getBackend().conv2dForward(...g, x, w, b, y)],
    ['backward-data', flops, () => nn.getBackend().conv2dBackwardData(...g, dy, w, dx)],
    ['backward-filter', flops, () => nn.getBackend().conv2dBackwardFilter(...g, x, dy, dw, db)],
  ];
}

function poolOps(s, C) {
  const { N, H, W } = s, g = [N, s.C, H, W, 2, 2, 2, 2];
  const x = rand(N * s.C * H * W, C), out = N * s.C * (H / 2) * (W / 2);
  const y = new C(out), arg = new Int32Array(out), dy = rand(out, C), dx = new C(x.length);
  return [['forward+backward', x.length, () => {
    nn.getBackend().maxPool2dForward(...g, x, y, arg);
    nn.getBackend().maxPool2dBackward(...g, dy, arg, dx);
  }]];
}

function measure(fn, slow) {
  return median(timeItSync(fn, { reps: quick || slow ? 3 : 7, minSeconds: quick ? 0.05 : slow ? 0.2 : 0.3 }));
}

function main() {
  const engines = [['ts', null]];
  let best = null;
  if (nn.nativeAvailable()) {
    nn.setBackend('native');
    const info = require('../dist/cjs/backend/index.js').nativeAddon().info();
    best = info.bestIsa;
    for (const isa of info.supportedIsas.slice().reverse()) engines.unshift(['native', isa]);
  }
  const rows = [];
  for (const C of [Float32Array, Float64Array]) {
    if (quick && C === Float64Array) continue;
    const dtype = C === Float32Array ? 'float32' : 'float64';
    const cases = [
      ...convShapes.flatMap((s) => convOps(s, C).map(([op, work, fn]) => ({ shape: s.name, op, work, fn, unit: 'GFLOP/s' }))),
      ...poolShapes.flatMap((s) => poolOps(s, C).map(([op, work, fn]) => ({ shape: s.name, op, work, fn, unit: 'Gelem/s' }))),
    ];
    for (const c of cases) {
      for (const [backend, isa] of engines) {
        if (quick && backend === 'native' && isa !== best) continue;
        nn.setBackend(backend);
        if (isa) nn.setIsa(isa);
        const sec = measure(c.fn, backend === 'ts');
        rows.push({ shape: c.shape, op: c.op, dtype, engine: isa ? `native/${isa}` : 'ts', rate: c.work / sec / 1e9,
          ms: sec * 1e3, unit: c.unit });
      }
    }
  }
  if (nn.nativeAvailable()) nn.setBackend('native');
  const info = nn.backendInfo();
  console.log(`conv bench, batch 64, 3x3 pad 1 — threads: ${info.threads}, node ${process.version}, ${require('node:os').cpus()[0].model}`);
  console.log('| shape | op | dtype | engine | rate | ms/call | vs ts |');
  console.log('|---|---|---|---|---:|---:|---:|');
  for (const r of rows) {
    const ts = rows.find((x) => x.shape === r.shape && x.op === r.op && x.dtype === r.dtype && x.engine === 'ts');
    console.log(`| ${r.shape} | ${r.op} | ${r.dtype} | ${r.engine} | ${r.rate.toFixed(2)} ${r.unit} | ${r.ms.toFixed(3)} | ` +
      `${(r.rate / ts.rate).toFixed(1)}× |`);
  }
  return rows;
}

module.exports = { main };
if (require.main === module) main();
