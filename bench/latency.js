'use strict';
// Batch-1 latency in detail: predictProba of one MNIST-sized row on the 784-100-10 MLP, the inference plan's
// one kernel call (planForward) under it, the first layer's 1x784x100 gemm alone, and the same product with B
// transposed (a Dense backward's dX at batch 1 and 4), with 1 and 2 threads. Each sample is the mean of `calls` calls; prints the min and
// median of the samples (the min is the figure to compare on a loaded machine), and CPU time per call.
//   node bench/latency.js [--samples 200] [--calls 200] [--isa avx512]
const nn = require('..');

function arg(name, dflt) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
}
const samples = Number(arg('samples', 200)), calls = Number(arg('calls', 200));
if (arg('isa', null)) nn.setIsa(arg('isa'));

function measure(fn) {
  for (let i = 0; i < 2000; i++) fn();
  const means = [];
  const cpu0 = process.cpuUsage();
  for (let s = 0; s < samples; s++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) fn();
    means.push(Number(process.hrtime.bigint() - t0) / 1e3 / calls);
  }
  const cpu = process.cpuUsage(cpu0);
  means.sort((a, b) => a - b);
  return { min: means[0], p10: means[Math.floor(samples / 10)], median: means[samples >> 1],
    cpu: (cpu.user + cpu.system) / (samples * calls) };
}

let s = 1;
const rand = (n) => Float32Array.from({ length: n }, () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32 - 0.5));
const net = new nn.Sequential([new nn.Dense(784, 100), new nn.ReLU(), new nn.Dense(100, 10)], { seed: 1 }).eval();
const x = new nn.Tensor(rand(784).map((v) => v + 0.5), [1, 784]);
const k = nn.getBackend();
const w = rand(784 * 100), h = new Float32Array(100), x4 = rand(4 * 784), h4 = new Float32Array(4 * 100);
const rows = [];
for (const threads of [1, 2]) {
  nn.setThreads(threads);
  rows.push([`predictProba, ${threads} thread(s)`, measure(() => net.predictProba(x))]);
  const plan = net.eval().inferencePlan;
  rows.push([`plan (planForward), ${threads} thread(s)`, measure(() => plan.runProbabilities(x, 'softmax'))]);
  rows.push([`gemm 1x784x100, ${threads} thread(s)`, measure(() => k.gemm(false, false, 1, 100, 784, 1, x.data, w, 0, h))]);
  rows.push([`gemm 1x784x100 B^T, ${threads} thread(s)`, measure(() => k.gemm(false, true, 1, 100, 784, 1, x.data, w, 0, h))]);
  rows.push([`gemm 4x784x100 B^T, ${threads} thread(s)`, measure(() => k.gemm(false, true, 4, 100, 784, 1, x4, w, 0, h4))]);
}
console.log(`${nn.backendInfo().name} ${nn.backendInfo().isa ?? ''}: µs per call, samples of ${calls} calls`);
for (const [name, r] of rows) {
  console.log(`${name.padEnd(36)} min ${r.min.toFixed(2)}  p10 ${r.p10.toFixed(2)}  median ${r.median.toFixed(2)}  cpu ${r.cpu.toFixed(2)}`);
}
