'use strict';
// Where the time of a fresh result goes (issue 15's rows "x_train[batch_mask]" and "a + b" with a new tensor per
// call), measured in one run beside NumPy's. A fresh result's memory comes from V8: V8 frees an ArrayBuffer only
// when it collects the young generation, which it starts for array buffers after 2 × its default semi-space of them
// (32 MiB on 64-bit, whatever --max-semi-space-size says), so a fresh result is written into memory last written
// 32 MiB of results earlier. NumPy frees its previous result the moment it is dropped (reference counting) and
// malloc hands the same, cached block back. The rows:
// - the kernel into one preallocated result (`out`), then into N results used in turn, N chosen so that the
//   results span 0.2 to 61 MiB: where the cache stops holding them, against V8's 32 MiB;
// - the allocation alone (Buffer.allocUnsafeSlow, as the ops allocate a result of 4 KiB or more);
// - fresh results, disposed results (Tensor#dispose gives the memory back for the next result: NumPy's reuse);
// - for a + b, fresh results again in a child `node --single-threaded-gc`: V8's GC threads share the machine's
//   cores with the kernel's two threads;
// - the collections V8 made per 1000 fresh results (performance entries of type 'gc': minor and major).
// Medians of samples as bench/ops.js (7 of 0.2 s; --quick: 3 of 0.05 s), native backend, best ISA, 2 threads.
//   node bench/fresh-results.js [--quick]          (after npm run build)
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const { PerformanceObserver, constants } = require('node:perf_hooks');
const nn = require('../dist/cjs/index.js');
const { timeItSync, median } = require('./util');

const quick = process.argv.includes('--quick');
const timing = quick ? { reps: 3, minSeconds: 0.05 } : { reps: 7, minSeconds: 0.2 };
nn.setBackend('native');
nn.setThreads(2);
const time = (f) => median(timeItSync(f, timing));
const fmt = (s) => (s >= 1e-3 ? `${(s * 1e3).toFixed(3)} ms` : `${(s * 1e6).toFixed(2)} µs`);
const MiB = (bytes) => `${(bytes / 1048576).toFixed(1)} MiB`;

/**
 * Makes fresh results for a second (--quick: 0.3 s) before they are timed: glibc's heap grows to what the results
 * between two collections need (its first ~3000 results of 4 MB fault their pages in); the rows time the steady state.
 */
function warm(fresh) {
  for (const t0 = Date.now(); Date.now() - t0 < (quick ? 300 : 1000);) fresh();
}

// The child: times only `a.add(b)` fresh and prints seconds per call (run with --single-threaded-gc).
if (process.argv.includes('--child-add')) {
  const a = nn.randn([1000000], { seed: 1 }), b = nn.randn([1000000], { seed: 2 });
  const fresh = () => a.add(b);
  warm(fresh);
  console.log(JSON.stringify(time(fresh)));
  process.exit(0);
}

/** Counts V8's collections by kind while fn runs `calls` times; returns [minor, major] per 1000 calls. */
async function collections(fn, calls) {
  const kinds = { minor: 0, major: 0 };
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = e.detail?.kind ?? e.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MINOR) kinds.minor++;
      else if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) kinds.major++;
    }
  });
  obs.observe({ entryTypes: ['gc'] });
  for (let i = 0; i < calls; i++) fn();
  await new Promise((resolve) => setTimeout(resolve, 50)); // the entries arrive after the loop yields
  obs.disconnect();
  return [kinds.minor * 1000 / calls, kinds.major * 1000 / calls];
}

/** Rows for one operation: into out, into N outs in turn, allocation alone, fresh, disposed. */
async function rowsFor(label, shape, intoOut, fresh) {
  const rows = [];
  const bytes = shape.reduce((p, d) => p * d, 4);
  const one = nn.zeros(shape);
  rows.push([`${label} into one out`, time(() => intoOut(one))]);
  const counts = [...new Set([1, 8, 16, 32, 64].map((m) => Math.max(2, Math.round(m * 1048576 / bytes))))];
  for (const n of counts) {
    const outs = Array.from({ length: n }, () => nn.zeros(shape));
    let j = 0;
    rows.push([`${label} into ${n} outs in turn (${MiB(n * bytes)})`, time(() => { intoOut(outs[j]); j = (j + 1) % n; })]);
  }
  rows.push([`Buffer.allocUnsafeSlow(${bytes}) alone`, time(() => Buffer.allocUnsafeSlow(bytes))]);
  warm(fresh);
  rows.push([`${label}, fresh result`, time(fresh)]);
  rows.push([`${label}, each result disposed`, time(() => fresh().dispose())]);
  const [minor, major] = await collections(fresh, quick ? 2000 : 10000);
  return { rows, minor, major };
}

async function main() {
  const xTrain = nn.ones([60000, 784]);
  const mask = Int32Array.from(nn.randint(0, 60000, [64], { seed: 6 }).data);
  const a = nn.randn([1000000], { seed: 1 }), b = nn.randn([1000000], { seed: 2 });
  const gather = await rowsFor('x_train[batch_mask]', [64, 784], (out) => xTrain.take(mask, 0, { out }),
    () => xTrain.take(mask, 0));
  const add = await rowsFor('a + b', [1000000], (out) => nn.ops.add(a, b, { out }), () => a.add(b));
  const child = spawnSync(process.execPath, ['--single-threaded-gc', __filename, '--child-add', ...(quick ? ['--quick'] : [])],
    { encoding: 'utf8' });
  const singleGc = child.status === 0 ? JSON.parse(child.stdout.trim()) : null;
  add.rows.push(['a + b, fresh result, node --single-threaded-gc', singleGc]);

  const env = { ...process.env, OPENBLAS_NUM_THREADS: '2', OMP_NUM_THREADS: '2' };
  const py = spawnSync('python3', [path.join(__dirname, 'ops.py'), String(timing.reps), String(timing.minSeconds), 'add,gather'],
    { encoding: 'utf8', env });
  const numpy = py.status === 0 ? JSON.parse(py.stdout.trim().split('\n').pop()) : null;

  const info = nn.backendInfo();
  console.log(`nodenn ${nn.version} native/${info.isa}, ${info.threads} threads · Node ${process.version}` +
    (numpy ? ` · NumPy ${numpy.numpy}` : ' · NumPy skipped (python3 bench/ops.py failed)'));
  console.log('');
  console.log('| workload | time per call | NumPy time / this |');
  console.log('|---|---:|---:|');
  for (const [section, key, npLabel] of [[gather, 'gather', 'x_train[batch_mask]'], [add, 'add', 'a + b']]) {
    const np = numpy ? numpy[key] : null;
    if (np) console.log(`| NumPy ${npLabel} (fresh result) | ${fmt(np)} | 1.00× |`);
    for (const [label, t] of section.rows) {
      console.log(`| ${label} | ${t === null ? '—' : fmt(t)} | ${np && t ? `${(np / t).toFixed(2)}×` : '—'} |`);
    }
    console.log(`| V8 collections per 1000 fresh results: minor / major | ${section.minor.toFixed(1)} / ` +
      `${section.major.toFixed(1)} | |`);
  }
  if (child.status !== 0) console.log(`\nThe --single-threaded-gc child failed: ${(child.stderr || '').trim().split('\n').pop()}`);
}

main();
