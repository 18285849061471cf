// The gradient-check error table: max relative error |a − b| / max(1e-8, |a| + |b|) of every layer (dx and all
// parameter gradients), every loss and whole networks, float64, per backend (ts and each native ISA).
// Usage: npm run build && node bench/gradcheck-table.js   (prints a markdown table)
'use strict';
const nn = require('..');
const { nativeAddon, nativeAvailable, setIsa } = require('../dist/cjs/backend/index.js');

function randn(shape, seed, scale = 1) {
  const r = new nn.Random(seed), t = nn.Tensor.zeros(shape, 'float64');
  for (let i = 0; i < t.size; i++) {
    let v = r.normal() * scale;
    if (Math.abs(v) < 1e-3) v += 1e-2;
    t.data[i] = v;
  }
  return t;
}

function uniform(shape, seed, lo, hi) {
  const r = new nn.Random(seed), t = nn.Tensor.zeros(shape, 'float64');
  for (let i = 0; i < t.size; i++) t.data[i] = lo + (hi - lo) * r.uniform();
  return t;
}

const { gradcheck } = nn;
const layer = (make, shape) => () => gradcheck.checkLayer(make(), randn(shape, 5)).maxRelError;
const loss = (f, x) => () => gradcheck.relativeError(f(x).grad, gradcheck.numericalGradient((t) => f(t).loss, x));
const labels = new Int32Array([2, 0, 1, 2, 1]);
const net = (make, y, opts) => () => gradcheck.checkNetwork(make(), randn([5, 4], 9), y, opts).maxRelError;
const f64 = { dtype: 'float64' };

const rows = [
  ['Dense (2-D input)', layer(() => new nn.Dense(5, 4, { ...f64, init: 'he', seed: 1 }), [3, 5])],
  ['Dense (4-D input)', layer(() => new nn.Dense(12, 3, { ...f64, init: 'xavier', seed: 2 }), [2, 3, 2, 2])],
  ['ReLU', layer(() => new nn.ReLU(), [4, 5])],
  ['LeakyReLU(0.1)', layer(() => new nn.LeakyReLU(0.1), [2, 3, 4])],
  ['Sigmoid', layer(() => new nn.Sigmoid(), [4, 5])],
  ['Tanh', layer(() => new nn.Tanh(), [4, 5])],
  ['Softmax', layer(() => new nn.Softmax(), [4, 6])],
  ['Flatten', layer(() => new nn.Flatten(), [2, 3, 2, 2])],
  ['Dropout(0.3), mask fixed', () => {
    const d = new nn.Dropout(0.3), x = randn([4, 5], 9), dout = randn([4, 5], 10);
    const f = (t) => { d.setRandom(new nn.Random(7)); return d.forward(t); };
    f(x);
    return gradcheck.relativeError(d.backward(dout), gradcheck.numericalGradientFromUpstream(f, x, dout));
  }],
  ['Mul (both inputs)', () => {
    const m = new nn.Mul(), x = randn([3, 4], 1), y = randn([3, 4], 2), dout = randn([3, 4], 3);
    m.forward(x, y);
    const [dx, dy] = m.backward(dout);
    return Math.max(gradcheck.relativeError(dx, gradcheck.numericalGradientFromUpstream((t) => m.forward(t, y), x, dout)),
      gradcheck.relativeError(dy, gradcheck.numericalGradientFromUpstream((t) => m.forward(x, t), y, dout)));
  }],
  ['softmax CE, index labels', loss((x) => nn.losses.softmaxCrossEntropy(x, labels), randn([5, 3], 3, 2))],
  ['softmax CE, one-hot', loss((x) => nn.losses.softmaxCrossEntropy(x, nn.losses.targetTensor(x, labels)), randn([5, 3], 3, 2))],
  ['BCE from logits', loss((x) => nn.losses.binaryCrossEntropy(x, uniform([5, 3], 5, 0, 1)), randn([5, 3], 3, 2))],
  ['BCE from probabilities', loss((x) => nn.losses.binaryCrossEntropy(x, uniform([4, 3], 8, 0, 1), { fromLogits: false }), uniform([4, 3], 9, 0.05, 0.95))],
  ['MSE', loss((x) => nn.losses.mse(x, uniform([5, 3], 6, -1, 1)), randn([5, 3], 3, 2))],
  ['MSE, one-hot from labels', loss((x) => nn.losses.mse(x, labels), randn([5, 3], 3, 2))],
  ['L2 term reg·ΣW²', () => {
    const w = randn([4, 3], 12), g = nn.Tensor.zeros([4, 3], 'float64');
    nn.losses.l2Penalty([w], 0.3, [g]);
    return gradcheck.relativeError(g, gradcheck.numericalGradient(() => nn.losses.l2Penalty([w], 0.3), w));
  }],
  ['net Dense-ReLU-Dense + softmax CE', net(() => new nn.Sequential([new nn.Dense(4, 6), new nn.ReLU(), new nn.Dense(6, 3)], { ...f64, seed: 2 }), labels, { loss: 'softmaxCrossEntropy' })],
  ['net Dense-Sigmoid-Dense + MSE', net(() => new nn.Sequential([new nn.Dense(4, 6, { init: 'xavier' }), new nn.Sigmoid(), new nn.Dense(6, 2)], { ...f64, seed: 4 }), uniform([5, 2], 1, -1, 1), { loss: 'mse' })],
  ['net Dense-ReLU-Dense + CE, weight decay 0.01', net(() => new nn.Sequential([new nn.Dense(4, 6), new nn.ReLU(), new nn.Dense(6, 3)], { ...f64, seed: 3 }), labels, { loss: 'softmaxCrossEntropy', weightDecay: 0.01 })],
  ['net Dense-Sigmoid-Dense + MSE, weight decay 0.1', net(() => new nn.Sequential([new nn.Dense(4, 6, { init: 'xavier' }), new nn.Sigmoid(), new nn.Dense(6, 2)], { ...f64, seed: 5 }), uniform([5, 2], 2, -1, 1), { loss: 'mse', weightDecay: 0.1 })],
];

function main() {
  const cols = [['ts', () => nn.setBackend('ts')]];
  if (nativeAvailable()) {
    for (const isa of nativeAddon().info().supportedIsas) cols.push([`native/${isa}`, () => { nn.setBackend('native'); setIsa(isa); }]);
  }
  console.log(`| check (float64, h = 1e-5) | ${cols.map((c) => c[0]).join(' | ')} |`);
  console.log(`|---|${cols.map(() => '---:').join('|')}|`);
  let worst = 0;
  for (const [name, run] of rows) {
    const cells = cols.map(([, use]) => { use(); const e = run(); worst = Math.max(worst, e); return e.toExponential(1); });
    console.log(`| ${name} | ${cells.join(' | ')} |`);
  }
  console.log(`\nworst: ${worst.toExponential(2)} (pass mark 1e-6)`);
}

if (require.main === module) main();
module.exports = { main };
