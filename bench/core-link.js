'use strict';
// The round trip of one cache line between two threads (the main thread and a worker spinning on a shared
// Int32Array), median ns of `runs` runs of `trips` round trips: the JS twin of bench/machine-probe.cc's, printed in
// the bench's header. On the 2-vCPU development VM it separates the host's two placements of the cores (bench/README,
// "The MLP epoch, round three"): ~0.1 µs in C (both in one core complex: two threads speed the MLP step up) or
// ~0.45 µs (handed-over data at memory speed: they do not). Blocks the calling thread while it measures (about 1 s
// at most: each of the 6 runs stops after 100 ms); NaN on one core.
//   node bench/core-link.js
const os = require('node:os');
const { Worker } = require('node:worker_threads');

const READY = 16;  // the worker's flag, a cache line (64 bytes) away from the ball at index 0

async function coreLinkNs({ trips = 20000, runs = 5, budgetMs = 100 } = {}) {
  if (os.cpus().length < 2) return NaN;
  const shared = new Int32Array(new SharedArrayBuffer(128));
  const worker = new Worker(`
    const { workerData } = require('node:worker_threads');
    const f = new Int32Array(workerData.buffer);
    Atomics.store(f, ${READY}, 1);
    for (let i = 0; ; i++) {  // until terminated
      while (Atomics.load(f, 0) !== 2 * i + 1) { /* spin */ }
      Atomics.store(f, 0, 2 * i + 2);
    }`, { eval: true, workerData: { buffer: shared.buffer } });
  while (Atomics.load(shared, READY) !== 1) await new Promise((resolve) => setTimeout(resolve, 1));
  const ns = [];
  let i = 0;
  for (let r = 0; r <= runs; r++) {  // r = 0: warm-up (the loops reach optimized code)
    // a run stops early after budgetMs (on a loaded machine a descheduled thread makes each trip take a time slice)
    const t0 = process.hrtime.bigint(), deadline = t0 + BigInt(budgetMs * 1e6);
    let done = 0;
    for (; done < trips; done++, i++) {
      Atomics.store(shared, 0, 2 * i + 1);
      while (Atomics.load(shared, 0) !== 2 * i + 2) { /* spin */ }
      if ((done & 15) === 15 && process.hrtime.bigint() > deadline) { done++, i++; break; }
    }
    if (r > 0) ns.push(Number(process.hrtime.bigint() - t0) / done);
  }
  await worker.terminate();
  ns.sort((p, q) => p - q);
  return ns[ns.length >> 1];
}

module.exports = { coreLinkNs };

if (require.main === module) {
  coreLinkNs().then((ns) => console.log(`cache-line round trip between two threads: ${ns.toFixed(0)} ns (median of 5 runs)`));
}
