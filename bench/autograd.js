'use strict';
// Autograd's cost, ratios within one run:
//  (a) the README's MNIST MLP (784-256-128-10, ReLU, softmax cross-entropy, Adam, batch 128) trained with fit():
//      as an nn.Module of tensor operations (nn.ops.linear with its ReLU fused; x.matmul(w).add(b).relu() before it,
//      shown too) differentiated by autograd, against the same network as a Sequential of built-in layers (fused
//      forward, hand-written backward); time per epoch of 60,000 images, scaled from a part of an epoch per call;
//  (b) the tape per recorded operation: a chain of additions on one-element tensors (whose kernels cost almost
//      nothing and whose backward is the incoming gradient as it is), forward with recording against forward in
//      noGrad, and backward per node, in CPU time of this process.
//   node bench/autograd.js [--quick]
const nn = require('..');
const { stats } = require('./util');
const { loadMnist } = require('./mnist');

class TensorMlp extends nn.Module {
  /** fused: nn.ops.linear (one recorded operation a layer); else matmul, add and relu (three). */
  constructor(seed, fused = true) {
    super();
    this.fused = fused;
    const layer = (nIn, nOut, s) => {
      // He-normal weights, as the built-in Dense draws by default, zero bias
      const w = nn.randn([nIn, nOut], { seed: s }).mul(Math.sqrt(2 / nIn)).detach().requiresGrad_();
      return [w, nn.zeros([nOut]).requiresGrad_()];
    };
    [this.w1, this.b1] = layer(784, 256, seed);
    [this.w2, this.b2] = layer(256, 128, seed + 1);
    [this.w3, this.b3] = layer(128, 10, seed + 2);
  }

  forward(x) {
    if (this.fused) {
      const { linear } = nn.ops;
      const h1 = linear(x, this.w1, this.b1, { activation: 'relu' });
      const h2 = linear(h1, this.w2, this.b2, { activation: 'relu' });
      return linear(h2, this.w3, this.b3);
    }
    const h1 = x.matmul(this.w1).add(this.b1).relu();
    const h2 = h1.matmul(this.w2).add(this.b2).relu();
    return h2.matmul(this.w3).add(this.b3);
  }
}

function sequentialMlp() {
  return new nn.Sequential([
    new nn.Dense(784, 256), new nn.ReLU(), new nn.Dense(256, 128), new nn.ReLU(), new nn.Dense(128, 10),
  ], { seed: 1 });
}

const median = (xs) => stats(xs).median;

async function epochTimes(quick) {
  const d = loadMnist('train');
  const n = quick ? 3200 : 12800;  // a part of an epoch per call (batches of 128), scaled to 60,000 images
  const x = new nn.Tensor(d.x.subarray(0, n * 784), [n, 784]), y = d.y.subarray(0, n);
  // wall time per epoch, and CPU time of the process (all threads) beside it: less moved by other processes
  const cpu = { module: [], unfused: [], sequential: [] };
  const fitOnce = async (model, into) => {
    const t0 = process.hrtime.bigint(), c0 = process.cpuUsage();
    await model.fit(x, y, { epochs: 1, batchSize: 128, optimizer: new nn.Adam({ lr: 1e-3 }), shuffle: false });
    const c = process.cpuUsage(c0);
    if (into) into.push((c.user + c.system) / 1e6 * (60000 / n));
    return Number(process.hrtime.bigint() - t0) / 1e9 * (60000 / n);
  };
  const module = new TensorMlp(1), unfused = new TensorMlp(1, false), seq = sequentialMlp();
  await fitOnce(module);  // warm-up (JIT, buffers)
  await fitOnce(unfused);
  await fitOnce(seq);
  const reps = quick ? 3 : 7, tm = [], tu = [], ts = [];
  for (let r = 0; r < reps; r++) {  // interleaved, so that load on the machine hits all alike
    tm.push(await fitOnce(module, cpu.module));
    tu.push(await fitOnce(unfused, cpu.unfused));
    ts.push(await fitOnce(seq, cpu.sequential));
  }
  return {
    module: median(tm), unfused: median(tu), sequential: median(ts),
    cpu: { module: median(cpu.module), unfused: median(cpu.unfused), sequential: median(cpu.sequential) },
  };
}

/**
 * Seconds of CPU time (this process: user + system) per call of fn, the median of `reps` samples of `calls` calls:
 * CPU time, not wall time, so that other processes on a loaded machine do not count.
 */
function cpuSeconds(fn, reps, calls) {
  for (let i = 0; i < calls; i++) fn();
  const samples = [];
  for (let r = 0; r < reps; r++) {
    const c0 = process.cpuUsage();
    for (let i = 0; i < calls; i++) fn();
    const c = process.cpuUsage(c0);
    samples.push((c.user + c.system) / 1e6 / calls);
  }
  return median(samples);
}

function tapeCosts(quick) {
  const ops = 1000;
  const chain = (x) => {
    let y = x;
    for (let i = 0; i < ops; i++) y = y.add(1);
    return y;
  };
  const reps = quick ? 5 : 9, calls = quick ? 20 : 100;
  const leaf = nn.tensor([1], { requiresGrad: true });
  const recorded = cpuSeconds(() => chain(leaf), reps, calls) / ops;
  const plain = cpuSeconds(() => nn.noGrad(() => chain(leaf)), reps, calls) / ops;
  const graph = chain(leaf);
  const backward = cpuSeconds(() => { leaf.grad = null; graph.backward(); }, reps, calls) / ops;
  return { recordPerOp: recorded - plain, opRecorded: recorded, opWithoutTape: plain, backwardPerNode: backward };
}

async function main(argv = process.argv.slice(2)) {
  const quick = argv.includes('--quick');
  const info = nn.backendInfo();
  const e = await epochTimes(quick);
  const t = tapeCosts(quick);
  const before = nn.getBackend().name;
  nn.setBackend('ts');
  const tTs = tapeCosts(quick);
  nn.setBackend(before);
  const us = (s) => `${(s * 1e6).toFixed(2)} µs`;
  console.log(`autograd (${info.name}${info.isa ? `/${info.isa}` : ''}${quick ? ', quick' : ''}):`);
  console.log('| measure | value | goal |');
  console.log('|---|---:|---:|');
  console.log(`| MNIST MLP epoch, Sequential of built-in layers | ${e.sequential.toFixed(2)} s | |`);
  console.log(`| MNIST MLP epoch, Module of tensor ops + autograd (linear, ReLU fused) | ${e.module.toFixed(2)} s | |`);
  console.log(`| ratio Module / Sequential | ${(e.module / e.sequential).toFixed(2)}× | ≤ 1.3× |`);
  console.log(`| MNIST MLP epoch, Module of matmul, add, relu | ${e.unfused.toFixed(2)} s (${(e.unfused / e.sequential).toFixed(2)}×) | |`);
  console.log(`| the same in CPU time: Sequential / linear Module / matmul Module | ${e.cpu.sequential.toFixed(2)} s / ` +
    `${e.cpu.module.toFixed(2)} s (${(e.cpu.module / e.cpu.sequential).toFixed(2)}×) / ${e.cpu.unfused.toFixed(2)} s ` +
    `(${(e.cpu.unfused / e.cpu.sequential).toFixed(2)}×) | |`);
  console.log(`| tape: recording, per op (recorded − noGrad; within noise when ≤ 0) | ${us(t.recordPerOp)} | ≤ 2 µs |`);
  console.log(`| tape: backward, per node (add: no kernel) | ${us(t.backwardPerNode)} | ≤ 2 µs |`);
  console.log(`| one-element add, recorded / in noGrad | ${us(t.opRecorded)} / ${us(t.opWithoutTape)} | |`);
  console.log(`| tape on the ts backend: recording / backward per node | ${us(tTs.recordPerOp)} / ${us(tTs.backwardPerNode)} | ≤ 2 µs |`);
  return { epoch: e, tape: t, tapeTs: tTs };
}

if (require.main === module) main().catch((err) => { console.error(err); process.exitCode = 1; });
module.exports = { main };
