// The gain of overlapping the next batch's augmentation with training the current one: one epoch of `nodenn train
// --augment`'s pipeline (augmentedBatches, the CLI's models) with the overlap on (augment.async(), fit's prefetch 1)
// and off (the synchronous augmentation, prefetch 0), alternated, the best of `reps` epochs each; both give the same
// weights. The last row keeps the synchronous augmentation both ways and changes only fit's prefetch (1 against 0):
// what the read-ahead costs a pipeline with nothing asynchronous to overlap. NODENN_DIST=dir: another build's
// dist/cjs. node bench/overlap.js [samples=6400] [reps=3] [threads] [model: only its rows, cnn or mlp]
'use strict';
const path = require('node:path');
const dist = process.env.NODENN_DIST ? path.resolve(process.env.NODENN_DIST) : path.join(__dirname, '..', 'dist', 'cjs');
const nn = require(path.join(dist, 'index.js'));
const { augmentedBatches, buildModel } = require(path.join(dist, 'cli.js'));
const { loadMnist } = require(path.join(dist, 'data', 'mnist.js'));

const samples = Number(process.argv[2] ?? 6400), reps = Number(process.argv[3] ?? 3);
if (process.argv[4]) nn.setThreads(Number(process.argv[4]));
const only = process.argv[5];

async function epoch(kind, model, data, overlap, asyncAugment = overlap) {
  const { net } = buildModel(model, 1, { wide: model === 'cnn' });
  const batches = augmentedBatches(data.x, data.y, kind, 64, 1, { overlap: asyncAugment });
  const t0 = performance.now();
  await net.fit(batches, { epochs: 1, optimizer: new nn.Adam({ lr: 0.002 }), prefetch: overlap ? 1 : 0 });
  return (performance.now() - t0) / 1000;
}

(async () => {
  const info = nn.backendInfo();
  console.log(`backend ${info.name}${info.isa ? ` (${info.isa}, ${info.threads} threads)` : ''}, ${samples} samples, ` +
    `batch 64, best of ${reps}`);
  console.log('| data set, model | overlap off | overlap on | gain |');
  console.log('|---|---|---|---|');
  for (const [kind, model, sync] of [['mnist', 'cnn'], ['fashion', 'cnn'], ['mnist', 'mlp'], ['mnist', 'mlp', 'sync']]) {
    if (only && model !== only) continue;
    const d = await loadMnist({ kind, flatten: model !== 'cnn', limit: { train: samples, test: 1 } });
    const data = { x: d.train.x, y: d.train.y };
    await epoch(kind, model, { x: data.x, y: data.y }, true);  // warm-up: JIT, the thread pool
    const best = { off: Infinity, on: Infinity };
    for (let r = 0; r < reps; r++) {
      for (const overlap of [false, true]) {
        const s = await epoch(kind, model, data, overlap, sync ? false : overlap);
        const k = overlap ? 'on' : 'off';
        best[k] = Math.min(best[k], s);
      }
    }
    const perEpoch = (s) => `${s.toFixed(2)} s (${(s * 55000 / samples).toFixed(1)} s per 55k epoch)`;
    const what = sync ? ', synchronous augmentation, prefetch 0 / 1' : model === 'cnn' ? ' (wide)' : '';
    console.log(`| ${kind}, ${model}${what} | ${perEpoch(best.off)} | ${perEpoch(best.on)} | ` +
      `${(100 * (1 - best.on / best.off)).toFixed(1)}% |`);
  }
})();
