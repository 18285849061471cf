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

/**
 * The same for synchronous functions, without an await per call (which costs about a microsecond). The clock is
 * read after a run of calls, not after each: the run doubles (up to 1024 calls) while a run takes under 1 ms, so a
 * call of a microsecond is not charged the ~0.2 µs of `process.hrtime.bigint()`. bench/timing.py does the same for
 * the Python peers.
 */
function timeItSync(fn, { reps = 7, minSeconds = 0.2, warmup = 1 } = {}) {
  for (let i = 0; i < warmup; i++) fn();
  const samples = [];
  for (let r = 0; r < reps; r++) {
    let n = 0;
    let dt = 0;
    let run = 1;
    const t0 = process.hrtime.bigint();
    do {
      for (let i = 0; i < run; i++) fn();
      n += run;
      const before = dt;
      dt = Number(process.hrtime.bigint() - t0) / 1e9;
      if (dt - before < 1e-3 && run < 1024) run *= 2;
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

/** CPU time of this process so far, in ms (user + system). */
const cpuNow = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };

/**
 * Wraps every kernel of `backend` so that each call adds its CPU time to `stats`, keyed by the kernel's name and its
 * leading numeric and boolean arguments (its geometry): Map<key, { ms, calls }>. Calls are timed only while
 * `enabled()` is true. `clock` (ms) is the process CPU time unless given (performance.now() for wall time).
 * Returns stats.
 */
function timeKernels(backend, enabled = () => true, stats = new Map(), clock = cpuNow) {
  for (const name of Object.keys(backend)) {
    const f = backend[name];
    if (typeof f !== 'function') continue;
    backend[name] = function (...a) {
      if (!enabled()) return f.apply(this, a);
      const shape = a.slice(0, 6).filter((v) => typeof v === 'number' || typeof v === 'boolean').map(Number).join(',');
      const t = clock();
      const r = f.apply(this, a);
      const dt = clock() - t;
      const key = `${name}(${shape})`;
      const s = stats.get(key) ?? { ms: 0, calls: 0 };
      s.ms += dt; s.calls++;
      stats.set(key, s);
      return r;
    };
  }
  return stats;
}

module.exports = { timeIt, timeItSync, median, stats, machine, cpuNow, timeKernels };
