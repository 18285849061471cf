'use strict';
// Timing helpers and the description of the machine, shared by the bench workloads.
const os = require('node:os');

/**
 * Times fn (sync or async): `warmup` untimed calls, then `reps` samples; a sample repeats fn until it has run
 * for at least minSeconds and records the mean seconds per call. Returns the samples.
 */
async function timeIt(fn, { reps = 7, minSeconds = 0.2, warmup = 1 } = {}) {
  for (let i = 0; i < warmup; i++) await fn();
  const samples = [];
  for (let r = 0; r < reps; r++) {
    let n = 0;
    let dt = 0;
    const t0 = process.hrtime.bigint();
    do {
      await fn();
      n++;
      dt = Number(process.hrtime.bigint() - t0) / 1e9;
    } while (dt < minSeconds);
    samples.push(dt / n);
  }
  return samples;
}

/** The same for synchronous functions, without an await per call (which costs about a microsecond). */
function timeItSync(fn, { reps = 7, minSeconds = 0.2, warmup = 1 } = {}) {
  for (let i = 0; i < warmup; i++) fn();
  const samples = [];
  for (let r = 0; r < reps; r++) {
    let n = 0;
    let dt = 0;
    const t0 = process.hrtime.bigint();
    do {
      fn();
      n++;
      dt = Number(process.hrtime.bigint() - t0) / 1e9;
    } while (dt < minSeconds);
    samples.push(dt / n);
  }
  return samples;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** { median, min, max } of the samples. */
function stats(xs) {
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs) };
}

function machine(nn) {
  const info = nn.backendInfo();
  const native = nn.nativeAvailable() ? require('../dist/cjs/backend/index.js').nativeAddon().info() : null;
  return {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    nodenn: info.version,
    isa: native ? native.bestIsa : null,
    supportedIsas: native ? native.supportedIsas : [],
    threads: native ? native.threads : 1,
  };
}

module.exports = { timeIt, timeItSync, median, stats, machine };
