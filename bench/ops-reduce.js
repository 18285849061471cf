'use strict';
// Reductions, matmul and gathers against NumPy in the same run: a.sum() and a.sum(axis=1) on 1000 x 1000, matmul
// 512³, gathering 64 rows of 784 from 60000 (x_train[batch_mask]), and a few more for context (sum over axis 0,
// softmax along rows, argmax along rows, a 1000 x 1000 transpose copy). float32; nodenn on the native backend
// (best ISA, 2 threads); NumPy through bench/ops-reduce.py (skipped with a note when python3 cannot import numpy).
// Every number is the median of 7 samples of at least 0.2 s. Ratios, not absolute times, are what compare: run
// both in one go on an otherwise idle machine.
//   node bench/ops-reduce.js            (after npm run build)
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const nn = require('../dist/cjs/index.js');
const { getBackend } = require('../dist/cjs/backend/index.js');
const { timeItSync, median } = require('./util');

nn.setBackend('native');
nn.setThreads(2);
const info = nn.backendInfo();

const m = nn.randn([1000, 1000], { seed: 1 });
const a = nn.randn([512, 512], { seed: 2 }), b = nn.randn([512, 512], { seed: 3 });
const xTrain = nn.ones([60000, 784]);
const batchMask = nn.randint(0, 60000, [64], { seed: 4 });
const maskInt = Int32Array.from(batchMask.data);

const ours = {
  sum: median(timeItSync(() => m.sum())),
  sum1: median(timeItSync(() => m.sum(1))),
  sum0: median(timeItSync(() => m.sum(0))),
  matmul: median(timeItSync(() => a.matmul(b))),
  gather: median(timeItSync(() => xTrain.take(maskInt, 0))),
  softmax: median(timeItSync(() => m.softmax(1))),
  argmax: median(timeItSync(() => m.argmax(1))),
  transpose: median(timeItSync(() => m.T)),
};
// the kernels alone, writing into one reused output: what the operation costs without a fresh result (a fresh
// result's first touch of its pages is what dominates some rows on a sandboxed machine)
const k = getBackend();
const out1 = new Float32Array(1000), outMat = new Float32Array(512 * 512), outRows = new Float32Array(64 * 784);
const outT = new Float32Array(1000 * 1000);
Object.assign(ours, {
  sum1Kernel: median(timeItSync(() => k.reduceAxis('sum', 1000, 1000, 1, m.data, out1))),
  matmulKernel: median(timeItSync(() => k.gemmBatched(false, false, 1, 512, 512, 512, false, false, a.data, b.data, outMat))),
  gatherKernel: median(timeItSync(() => k.gatherAxis(64, 1, 60000, 784, xTrain.data, maskInt, outRows))),
  transposeKernel: median(timeItSync(() => k.swapAxes(1, 1000, 1, 1000, 1, m.data, outT))),
  alloc: median(timeItSync(() => new Float32Array(64 * 784).fill(1))),
});

// NumPy with OpenBLAS free to pick its AVX-512 kernels (DESIGN.md: peers), 2 threads like nodenn
const env = { ...process.env, OPENBLAS_NUM_THREADS: '2', OMP_NUM_THREADS: '2' };
delete env.OPENBLAS_CORETYPE;
delete env.OPENBLAS_L2_SIZE;
const py = spawnSync('python3', [path.join(__dirname, 'ops-reduce.py')], { encoding: 'utf8', env });
let numpy = null, note = '';
if (py.status === 0) numpy = JSON.parse(py.stdout.trim().split('\n').pop());
else note = `NumPy skipped: python3 bench/ops-reduce.py failed (${(py.stderr || py.error?.message || '').trim().split('\n').pop()})`;

const fmt = (s) => (s >= 1e-3 ? `${(s * 1e3).toFixed(3)} ms` : `${(s * 1e6).toFixed(2)} µs`);
const rows = [
  ['a.sum() (1000 x 1000)', 'sum'],
  ['a.sum(axis=1) (1000 x 1000)', 'sum1'],
  ['a.matmul(b) (512³)', 'matmul'],
  ['x_train[batch_mask] (64 rows of 784 from 60000)', 'gather'],
  ['a.sum(axis=0) (1000 x 1000)', 'sum0'],
  ['softmax(a, axis=1) (1000 x 1000)', 'softmax'],
  ['a.argmax(axis=1) (1000 x 1000)', 'argmax'],
  ['a.T copied (1000 x 1000)', 'transpose'],
  ['a.sum(axis=1), kernel into a reused output', 'sum1Kernel'],
  ['a.matmul(b), kernel into a reused output', 'matmulKernel'],
  ['x_train[batch_mask], kernel into a reused output', 'gatherKernel'],
  ['a.T, kernel into a reused output', 'transposeKernel'],
  ['a fresh Float32Array(64 x 784), filled (the gather\'s result)', 'alloc'],
];
console.log(`nodenn ${nn.version} native/${info.isa}, ${info.threads} threads · Node ${process.version}` +
  (numpy ? ` · NumPy ${numpy.numpy}` : ''));
console.log('');
console.log('| workload | nodenn | NumPy | NumPy time / nodenn time |');
console.log('|---|---:|---:|---:|');
for (const [label, key] of rows) {
  const np = numpy && key !== 'alloc' ? numpy[key.replace('Kernel', '')] : null;
  console.log(`| ${label} | ${fmt(ours[key])} | ${np ? fmt(np) : '—'} | ${np ? `${(np / ours[key]).toFixed(2)}×` : '—'} |`);
}
if (note) console.log(`\n${note}`);
