// Leak check: trains a small network for many steps through the public API (Sequential.fit) and watches the
// process's resident memory, sampled after a full GC every steps/30 steps. The first third of the steps is
// warm-up (JIT tiers, the thread pool, V8's heap and glibc's arenas growing to their working size: on a loaded
// 2-core CI machine that took ~800 steps of 3,000). Then the median RSS of the last five samples must be within `limit`
// (5%) of the median of the first five after warm-up. Medians, not single samples, so one allocator hiccup
// does not decide; a leak of even one activation per step (~10 KiB) grows ~130 MiB over the 13,000 measured
// steps, far past the limit, while allocator settling is flat: ~1 MiB, once a one-off step of 3 MiB (a 57 MiB process,
// 6%), so growth within `slack-mib` (6 MiB; a leak of 1 KiB per step retains 13 MiB) passes too. `--leak-kib N`
// deliberately retains N KiB per step, which this check must catch (test/leak.spec.ts runs it).
//
//   node --expose-gc bench/leak.js [--steps 20000] [--model cnn|mlp] [--backend native|ts] [--limit 0.05]
//                                  [--slack-mib 6] [--leak-kib N]
// The default model is a small CNN when the library has Conv2D, otherwise an MLP. Prints a JSON summary;
// exits 1 if the RSS grew by more than the limit and by more than the slack. Run `npm run build` first (it loads dist/).
'use strict';
const path = require('node:path');

const nn = require(path.join(__dirname, '..', 'dist', 'cjs', 'index.js'));

function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const steps = Number(option('steps', 20000));
const limit = Number(option('limit', 0.05));
const slackMiB = Number(option('slack-mib', 6));
const leakKiB = Number(option('leak-kib', 0));
const retained = [];
const model = option('model', typeof nn.Conv2D === 'function' ? 'cnn' : 'mlp');
const backend = option('backend', undefined);
if (backend) nn.setBackend(backend);

const gc = typeof global.gc === 'function' ? global.gc : null;
const mib = (b) => Math.round((b / 2 ** 20) * 10) / 10;

function data(samples, shape, classes, seed) {
  const rand = new nn.Random(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  const x = new Float32Array(samples * size);
  const y = new Int32Array(samples);
  for (let i = 0; i < samples; i++) {
    y[i] = i % classes;
    // A class-dependent bright stripe plus noise: learnable, so training does real work.
    for (let j = 0; j < size; j++) x[i * size + j] = 0.3 * rand.uniform() + ((j % classes) === y[i] ? 1 : 0);
  }
  return { x: new nn.Tensor(x, [samples, ...shape]), y };
}

function network() {
  if (model === 'cnn') {
    return new nn.Sequential([
      new nn.Conv2D(1, 4, 3, { padding: 1 }), new nn.ReLU(), new nn.MaxPool2D(2),
      new nn.Conv2D(4, 8, 3, { padding: 1 }), new nn.ReLU(), new nn.MaxPool2D(2),
      new nn.Flatten(), new nn.Dense(8 * 3 * 3, 4),
    ], { seed: 1 });
  }
  return new nn.Sequential([new nn.Dense(64, 32), new nn.ReLU(), new nn.Dense(32, 4)], { seed: 1 });
}

async function main() {
  const { x, y } = data(64, model === 'cnn' ? [1, 12, 12] : [64], 4, 7);
  const net = network();
  const batchSize = 16;
  const perEpoch = Math.ceil(64 / batchSize);
  const warmup = Math.max(1, Math.round(steps / 3));
  const every = Math.max(1, Math.round(steps / 30));
  const samples = [];
  let step = 0;
  let base = 0;
  const t0 = Date.now();
  const history = await net.fit(x, y, {
    optimizer: new nn.Adam({ lr: 1e-3 }), epochs: Math.ceil(steps / perEpoch), batchSize,
    onBatchEnd: () => {
      step++;
      if (leakKiB > 0) retained.push(new Float32Array(leakKiB * 256).fill(step));
      if (step === warmup || (step > warmup && step % every === 0) || step === steps) {
        if (gc) gc();
        const rss = process.memoryUsage().rss;
        if (step === warmup) base = rss;
        samples.push({ step, rssMiB: mib(rss) });
      }
    },
  });
  const after = samples.filter((s) => s.step >= warmup).map((s) => s.rssMiB);
  const median = (a) => { const b = [...a].sort((p, q) => p - q); return b[b.length >> 1]; };
  const k = Math.max(1, Math.min(5, after.length >> 1));
  const start = median(after.slice(0, k));
  const end = median(after.slice(-k));
  const peak = Math.max(...after);
  const growth = (end - start) / start;
  const result = {
    model, backend: nn.backendInfo().name, isa: nn.backendInfo().isa, steps: step, warmupSteps: warmup,
    gcBetweenSamples: Boolean(gc), seconds: (Date.now() - t0) / 1000,
    rssAtWarmupMiB: mib(base), rssMedianFirstMiB: start, rssMedianLastMiB: end, rssPeakAfterWarmupMiB: peak,
    rssFinalMiB: after.at(-1), leakKiBPerStep: leakKiB,
    growth: Math.round(growth * 1000) / 1000, limit, slackMiB, ok: growth <= limit || end - start <= slackMiB,
    firstLoss: history.loss[0], lastLoss: history.loss.at(-1), samples,
  };
  console.log(JSON.stringify(result, null, 2));
  process.exit(result.ok ? 0 : 1);
}

main().catch((e) => {
  console.error(e);
  process.exit(2);
});
