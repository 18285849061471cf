'use strict';
// Thread scaling of the native backend (best ISA): the same workloads on 1, 2, 4, ... threads in one run, with the
// speed-up over one thread and the parallel efficiency (speed-up / threads). Results do not depend on the thread
// count (tested), so only the time changes. The rows: the GEMM shapes and model workloads of `npm run bench`, and
// tensor operations whose limit is memory bandwidth (a + b and exp into a preallocated result, 12 MB and 8 MB a
// call: their GB/s is printed) or a reduction (sum, softmax over 1000 x 1000).
//   node bench/scaling.js [--quick] [--threads 1,2,4,8,16]     (default: 1 up to the CPU count, in powers of 2)
// Thread counts above the CPU count are allowed up to setThreads' limit, but measure oversubscription, not scaling.
const os = require('node:os');
const nn = require('..');
const { timeIt, stats } = require('./util');

const gemm = require('./workloads/gemm');
const models = require('./workloads/models');

function parseArgs(argv) {
  const i = argv.indexOf('--threads');
  let threads;
  if (i >= 0) {
    threads = (argv[i + 1] || '').split(',').map(Number);
    if (!threads.length || threads.some((t) => !Number.isInteger(t) || t < 1)) {
      throw new RangeError(`--threads must be a comma-separated list of positive integers, got '${argv[i + 1]}'`);
    }
  } else {
    threads = [];
    for (let t = 1; t < os.cpus().length; t *= 2) threads.push(t);
    threads.push(os.cpus().length);
  }
  return { quick: argv.includes('--quick'), threads };
}

/** Tensor operations as workloads of the bench's shape: { id, title, unit, setup } (nodenn only). */
function opWorkloads() {
  const op = (id, title, unit, work, make) => ({
    id, title, unit, engines: () => true,
    setup() {
      const run = make();
      return { run, work, sync: true };
    },
  });
  const n = 1e6;
  return [
    op('add-out', 'a + b into out (10^6 float32; 12 MB moved)', 'GB/s', 12e6 / 1e9, () => {
      const a = nn.randn([n], { seed: 1 }), b = nn.randn([n], { seed: 2 }), y = nn.zeros([n]);
      return () => nn.ops.add(a, b, { out: y });
    }),
    op('add-out-big', 'a + b into out (2^24 float32; 192 MiB moved, past every cache)', 'GB/s', 3 * 4 * 2 ** 24 / 1e9, () => {
      const a = nn.randn([2 ** 24], { seed: 1 }), b = nn.randn([2 ** 24], { seed: 2 }), y = nn.zeros([2 ** 24]);
      return () => nn.ops.add(a, b, { out: y });
    }),
    op('exp-out', 'exp(a) into out (10^6 float32; 8 MB moved)', 'GB/s', 8e6 / 1e9, () => {
      const a = nn.randn([n], { seed: 1 }), y = nn.zeros([n]);
      return () => nn.ops.exp(a, { out: y });
    }),
    op('sum', 'a.sum(axis=1) (1000 x 1000 float32)', 'GB/s', 4e6 / 1e9, () => {
      const m = nn.randn([1000, 1000], { seed: 1 });
      return () => m.sum(1);
    }),
    op('softmax', 'softmax(a, axis=1) (1000 x 1000 float32)', 'rows/s', 1000, () => {
      const m = nn.randn([1000, 1000], { seed: 1 });
      return () => m.softmax(1);
    }),
  ];
}

async function main(argv = process.argv.slice(2)) {
  const opts = parseArgs(argv);
  if (!nn.nativeAvailable()) {
    console.log('bench/scaling.js: the native backend is not available; nothing to scale.');
    return null;
  }
  nn.setBackend('native');
  const info = nn.backendInfo();
  const engine = { id: `native/${info.isa}`, kind: 'nodenn', isa: info.isa };
  const workloads = [
    ...gemm.filter((w) => ['gemm-1024x1024x1024-f32', 'gemm-100x100x784-f32', 'gemm-1024x1024x1024-f64'].includes(w.id)),
    ...models.filter((w) => ['mlp-epoch', 'cnn-train', 'cnn-infer'].includes(w.id)),
    ...opWorkloads(),
  ];
  const timing = { reps: opts.quick ? 3 : 5, minSeconds: opts.quick ? 0.05 : 0.25, warmup: 1 };
  const rows = [];
  for (const w of workloads) {
    const row = { w, values: [] };
    for (const t of opts.threads) {
      nn.setThreads(t);
      const s = await w.setup(engine, nn, opts);
      try {
        const samples = await timeIt(s.run, { ...timing, ...(w.timing || {}), reps: timing.reps });
        const med = stats(samples).median;
        // a rate (work per second) or, for lower-is-better units, seconds scaled to the unit
        row.values.push(w.lowerIsBetter ? { value: med * (s.scale || 1), seconds: med } : { value: s.work / med, seconds: med });
      } finally {
        if (s.dispose) s.dispose();
      }
      process.stderr.write(`${w.id} on ${t} thread${t > 1 ? 's' : ''}: ${row.values.at(-1).value.toPrecision(4)} ${w.unit}\n`);
    }
    rows.push(row);
  }
  nn.setThreads(info.threads);
  const fmt = (v) => (v >= 100 ? Math.round(v).toLocaleString('en-US') : v.toPrecision(3));
  console.log(`thread scaling, native/${info.isa} · ${os.cpus()[0]?.model ?? 'unknown CPU'} (${os.cpus().length} CPUs) · ` +
    `Node ${process.version}${opts.quick ? ' · quick' : ''}`);
  console.log('');
  console.log(`| workload | unit | ${opts.threads.map((t) => `${t} thr`).join(' | ')} | ` +
    `${opts.threads.slice(1).map((t) => `speed-up ${t} (eff.)`).join(' | ')} |`);
  console.log(`|---|---|${opts.threads.map(() => '---:').join('|')}|${opts.threads.slice(1).map(() => '---:').join('|')}|`);
  for (const { w, values } of rows) {
    const speedups = values.slice(1).map((v, i) => {
      const s = values[0].seconds / v.seconds;
      return `${s.toFixed(2)}× (${Math.round(100 * s / opts.threads[i + 1])}%)`;
    });
    console.log(`| ${w.title} | ${w.unit} | ${values.map((v) => fmt(v.value)).join(' | ')} | ${speedups.join(' | ')} |`);
  }
  return rows.map(({ w, values }) => ({ id: w.id, unit: w.unit, threads: opts.threads, values }));
}

if (require.main === module) main().catch((err) => { console.error(err); process.exitCode = 1; });
module.exports = { main };
