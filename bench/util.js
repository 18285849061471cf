'use strict';
// Timing helpers for the bench: warm-up, then `reps` samples of at least `minSeconds` each (seconds per call).
function timeIt(fn, { reps = 7, minSeconds = 0.2, warmup = 1 } = {}) {
  for (let i = 0; i < warmup; i++) fn();
  const samples = [];
  for (let r = 0; r < reps; r++) {
    let n = 0;
    const t0 = process.hrtime.bigint();
    let dt = 0;
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

module.exports = { timeIt, median };
