'use strict';
// Element-wise tensor operations against NumPy in the same run: a + b (10^6 float32, same shape), a + row (a row
// broadcast over 1000 x 1000), exp(a) (10^6) and the per-call overhead of adding two 4-element tensors. nodenn
// runs on the native backend (best ISA, 2 threads); NumPy through bench/ops.py (skipped with a note when python3
// cannot import numpy). Every number is the median of 7 samples of at least 0.2 s.
//   node bench/ops.js            (after npm run build)
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const nn = require('../dist/cjs/index.js');
const { getBackend } = require('../dist/cjs/backend/index.js');
const { timeItSync, median } = require('./util');

nn.setBackend('native');
nn.setThreads(2);
const info = nn.backendInfo();

const a = nn.randn([1000000], { seed: 1 }), b = nn.randn([1000000], { seed: 2 });
const m = a.reshape([1000, 1000]), row = nn.randn([1000], { seed: 3 });
const t1 = nn.ones([4]), t2 = nn.ones([4]);
const y4 = new Float32Array(4), y = new Float32Array(1000000);
const k = getBackend();

const ours = {
  add: median(timeItSync(() => a.add(b))),
  addRow: median(timeItSync(() => m.add(row))),
  exp: median(timeItSync(() => a.exp())),
  tiny: median(timeItSync(() => t1.add(t2))),
  tinyKernel: median(timeItSync(() => k.broadcastBinary('add', 1, 1, 1, 4, 1, 1, 1, 4, t1.data, t2.data, y4))),
  // the kernels alone, writing into one reused output: what the operation costs without allocating its result
  addKernel: median(timeItSync(() => k.broadcastBinary('add', 1, 1, 1, 1e6, 1, 1, 1, 1e6, a.data, b.data, y))),
  addRowKernel: median(timeItSync(() => k.broadcastBinary('add', 1, 1, 1000, 1000, 1, 1, 1, 1000, a.data, row.data, y))),
  expKernel: median(timeItSync(() => k.unary('exp', 1e6, a.data, y, 0, 0))),
  alloc: median(timeItSync(() => new Float32Array(1000000))),
};

const py = spawnSync('python3', [path.join(__dirname, 'ops.py')], { encoding: 'utf8', env: { ...process.env } });
let numpy = null, note = '';
if (py.status === 0) numpy = JSON.parse(py.stdout.trim().split('\n').pop());
else note = `NumPy skipped: python3 bench/ops.py failed (${(py.stderr || py.error?.message || '').trim().split('\n').pop()})`;

const fmt = (s) => (s >= 1e-3 ? `${(s * 1e3).toFixed(3)} ms` : `${(s * 1e6).toFixed(2)} µs`);
const rows = [
  ['a + b (10^6, same shape)', 'add'],
  ['a + row (1000 x 1000 + 1000)', 'addRow'],
  ['exp(a) (10^6)', 'exp'],
  ['tiny add (4 + 4 elements), per call', 'tiny'],
  ['  of which the kernel call alone', 'tinyKernel'],
  ['a + b, kernel into a reused output', 'addKernel'],
  ['a + row, kernel into a reused output', 'addRowKernel'],
  ['exp(a), kernel into a reused output', 'expKernel'],
  ['new Float32Array(10^6) (the result\'s allocation)', 'alloc'],
];
console.log(`nodenn ${nn.version} native/${info.isa}, ${info.threads} threads · Node ${process.version}` +
  (numpy ? ` · NumPy ${numpy.numpy}` : ''));
console.log('');
console.log('| workload | nodenn | NumPy | NumPy time / nodenn time |');
console.log('|---|---:|---:|---:|');
for (const [label, key] of rows) {
  const np = numpy && (key.replace('Kernel', '') in numpy) && key !== 'tinyKernel' ? numpy[key.replace('Kernel', '')] : null;
  console.log(`| ${label} | ${fmt(ours[key])} | ${np ? fmt(np) : '—'} | ${np ? `${(np / ours[key]).toFixed(2)}×` : '—'} |`);
}
if (note) console.log(`\n${note}`);
