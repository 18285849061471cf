'use strict';
// Tensor operations against NumPy in the same run, float32: element-wise (a + b on 10^6 elements, a row broadcast
// over 1000 x 1000, exp), each also into a preallocated result (out=, as NumPy's out=); the per-call overhead of
// adding two 4-element tensors; reductions on 1000 x 1000; matmul 512³ and a batch of 1000 products of 16³;
// gathering 64 rows of 784 from 60000 (x_train[batch_mask]); softmax, argmax and a transpose copy for context. Rows
// "each result disposed" give every result back (Tensor#dispose) as NumPy frees one the moment it is dropped; rows
// "in tidy()" leave it to nn.tidy().
// nodenn on the native backend (best ISA, 2 threads), NumPy through bench/ops.py with OpenBLAS at 2 threads
// (skipped with a note when python3 cannot import numpy). Every number is the median of the samples (7 of at least
// 0.2 s; `--quick`: 3 of 0.05 s). Ratios, not absolute times, are what compare.
//   node bench/ops.js [--quick]            (after npm run build)
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const nn = require('../dist/cjs/index.js');
const { getBackend } = require('../dist/cjs/backend/index.js');
const { timeItSync, median } = require('./util');

const quick = process.argv.includes('--quick');
const timing = quick ? { reps: 3, minSeconds: 0.05 } : { reps: 7, minSeconds: 0.2 };
nn.setBackend('native');
nn.setThreads(2);
const info = nn.backendInfo();
const k = getBackend();

const a = nn.randn([1000000], { seed: 1 }), b = nn.randn([1000000], { seed: 2 }), y = nn.zeros([1000000]);
const m = a.reshape([1000, 1000]), row = nn.randn([1000], { seed: 3 }), ym = y.reshape([1000, 1000]);
const t1 = nn.ones([4]), t2 = nn.ones([4]), y4 = new Float32Array(4);
const ma = nn.randn([512, 512], { seed: 4 }), mb = nn.randn([512, 512], { seed: 5 });
const ba = nn.randn([1000, 16, 16], { seed: 7 }), bb = nn.randn([1000, 16, 16], { seed: 8 });
const xTrain = nn.ones([60000, 784]);
const batchMask = Int32Array.from(nn.randint(0, 60000, [64], { seed: 6 }).data);
const gatherOut = nn.zeros([64, 784]);

// [label, key (NumPy's, from bench/ops.py; null: nodenn only), the call]
const workloads = [
  ['a + b (10^6, same shape)', 'add', () => a.add(b)],
  ['a + b into out', 'addOut', () => nn.ops.add(a, b, { out: y })],
  ['a + b, each result disposed', 'add', () => a.add(b).dispose()],
  ['a + b in tidy()', 'add', () => nn.tidy(() => { a.add(b); })],
  ['a + row (1000 x 1000 + 1000)', 'addRow', () => m.add(row)],
  ['a + row into out', 'addRowOut', () => nn.ops.add(m, row, { out: ym })],
  ['a + row in tidy()', 'addRow', () => nn.tidy(() => { m.add(row); })],
  ['exp(a) (10^6)', 'exp', () => a.exp()],
  ['exp(a) into out', 'expOut', () => nn.ops.exp(a, { out: y })],
  ['tiny add (4 + 4 elements), per call', 'tiny', () => t1.add(t2)],
  ['  the kernel call alone', null, () => k.broadcastBinary('add', 1, 1, 1, 4, 1, 1, 1, 4, t1.data, t2.data, y4)],
  ['a.sum() (1000 x 1000)', 'sum', () => m.sum()],
  ['a.sum(axis=1) (1000 x 1000)', 'sum1', () => m.sum(1)],
  ['a.sum(axis=0) (1000 x 1000)', 'sum0', () => m.sum(0)],
  ['a.matmul(b) (512³)', 'matmul', () => ma.matmul(mb)],
  ['batched matmul (1000 x 16³)', 'bmm', () => ba.matmul(bb)],
  ['  each result disposed', 'bmm', () => ba.matmul(bb).dispose()],
  ['  in tidy()', 'bmm', () => nn.tidy(() => { ba.matmul(bb); })],
  ['x_train[batch_mask] (64 rows of 784 from 60000)', 'gather', () => xTrain.take(batchMask, 0)],
  ['  each result disposed', 'gather', () => xTrain.take(batchMask, 0).dispose()],
  ['  in tidy()', 'gather', () => nn.tidy(() => { xTrain.take(batchMask, 0); })],
  ['  into out (take\'s out=)', 'gather', () => xTrain.take(batchMask, 0, { out: gatherOut })],
  ['softmax(a, axis=1) (1000 x 1000)', 'softmax', () => m.softmax(1)],
  ['a.argmax(axis=1) (1000 x 1000)', 'argmax', () => m.argmax(1)],
  ['a.T copied (1000 x 1000)', 'transpose', () => m.T],
];
const ours = workloads.map(([, , f]) => median(timeItSync(f, timing)));

const env = { ...process.env, OPENBLAS_NUM_THREADS: '2', OMP_NUM_THREADS: '2' };
const py = spawnSync('python3', [path.join(__dirname, 'ops.py'), String(timing.reps), String(timing.minSeconds)],
  { encoding: 'utf8', env });
let numpy = null, note = '';
if (py.status === 0) numpy = JSON.parse(py.stdout.trim().split('\n').pop());
else note = `NumPy skipped: python3 bench/ops.py failed (${(py.stderr || py.error?.message || '').trim().split('\n').pop()})`;

const fmt = (s) => (s >= 1e-3 ? `${(s * 1e3).toFixed(3)} ms` : `${(s * 1e6).toFixed(2)} µs`);
console.log(`nodenn ${nn.version} native/${info.isa}, ${info.threads} threads · Node ${process.version}` +
  (numpy ? ` · NumPy ${numpy.numpy}` : '') + (process.env.GLIBC_TUNABLES ? ` · GLIBC_TUNABLES=${process.env.GLIBC_TUNABLES}` : ''));
console.log('');
console.log('| workload | nodenn | NumPy | NumPy time / nodenn time |');
console.log('|---|---:|---:|---:|');
workloads.forEach(([label, key], i) => {
  const np = numpy && key ? numpy[key] : null;
  console.log(`| ${label} | ${fmt(ours[i])} | ${np ? fmt(np) : '—'} | ${np ? `${(np / ours[i]).toFixed(2)}×` : '—'} |`);
});
if (note) console.log(`\n${note}`);
