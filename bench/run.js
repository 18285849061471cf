'use strict';
// npm run bench: every workload on every engine (nodenn native per ISA, nodenn ts, TensorFlow.js wasm and cpu),
// medians of repeated timings after warm-up, ratios within this run. Prints a markdown table and writes
// bench/results/<date>.json.
//   node bench/run.js [--quick] [--only <id substring>[,...]] [--engines <id substring>[,...]] [--all-isas]
// --quick: CI-sized (fewer steps per call, slow engines skipped on the heaviest workloads; still 5 samples).
// A workload module (bench/workloads/*.js) exports a list of
//   { id, title, unit, lowerIsBetter?, allIsas?, timing?, engines(engine, opts, nn) -> bool,
//     setup(engine, nn, opts) -> { run, work | scale, sync?, note?, dispose? } }
// where run() is one call (may return a promise), work is what a call does in `unit` per second (a rate),
// or scale turns seconds per call into `unit` (a time: 1e6 for µs).
const fs = require('node:fs');
const path = require('node:path');
const nn = require('..');
const { timeIt, timeItSync, stats, machine } = require('./util');
const { listEngines, tfInfo } = require('./engines');

const WORKLOADS = [...require('./workloads/gemm'), ...require('./workloads/models')];
const REFERENCE = 'tfjs-wasm';  // ratios are against this engine (the fastest TensorFlow.js has in Node)

function parseArgs(argv) {
  const list = (flag) => {
    const i = argv.indexOf(flag);
    return i >= 0 && argv[i + 1] ? argv[i + 1].split(',') : null;
  };
  return { quick: argv.includes('--quick'), only: list('--only'), engines: list('--engines'), allIsas: argv.includes('--all-isas') };
}

function fmt(v) {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  return a >= 1000 ? Math.round(v).toLocaleString('en-US') : a >= 100 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : a >= 1 ? v.toFixed(2) : v.toPrecision(2);
}

function fmtTime(s) {
  return s >= 1 ? `${s.toFixed(2)} s` : s >= 1e-3 ? `${(s * 1e3).toFixed(2)} ms` : `${(s * 1e6).toFixed(1)} µs`;
}

async function runOne(w, engine, opts) {
  await engine.activate();
  const s = await w.setup(engine, nn, opts);
  try {
    const timing = { reps: opts.quick ? 5 : 7, minSeconds: opts.quick ? 0.05 : 0.25, warmup: 1, ...(w.timing || {}) };
    if (opts.quick) timing.reps = Math.max(5, Math.min(timing.reps, 5));
    const samples = s.sync ? timeItSync(s.run, timing) : await timeIt(s.run, timing);
    const t = stats(samples);
    // the metric: a rate (work / seconds: higher is better) or a scaled time (lower is better)
    const value = s.scale
      ? { median: t.median * s.scale, min: t.min * s.scale, max: t.max * s.scale }
      : { median: s.work / t.median, min: s.work / t.max, max: s.work / t.min };
    return { workload: w.id, engine: engine.id, unit: w.unit, value, secondsPerCall: t, samples, note: s.note || '' };
  } finally {
    if (s.dispose) s.dispose();
  }
}

function table(results, meta) {
  const lines = [];
  lines.push(`nodenn ${meta.machine.nodenn} · ${meta.machine.cpu} (${meta.machine.cores} cores) · ISA ${meta.machine.isa} ` +
    `(${meta.machine.supportedIsas.join(', ')}) · ${meta.machine.threads} threads · Node ${meta.machine.node}` +
    (meta.tfjs ? ` · TensorFlow.js ${meta.tfjs.version} (wasm threads: ${meta.tfjs.wasmThreads ?? 'n/a'})` : ''));
  lines.push('');
  lines.push(`| workload | engine | median | min–max | time per call | × ${REFERENCE} | note |`);
  lines.push('|---|---|---:|---:|---:|---:|---|');
  for (const w of WORKLOADS) {
    const rows = results.filter((r) => r.workload === w.id);
    if (!rows.length) continue;
    const ref = rows.find((r) => r.engine === REFERENCE);
    for (const r of rows) {
      let ratio = '';
      if (ref) ratio = (w.lowerIsBetter ? ref.value.median / r.value.median : r.value.median / ref.value.median).toFixed(2) + '×';
      lines.push(`| ${w.title} | ${r.engine} | ${fmt(r.value.median)} ${w.unit} | ${fmt(r.value.min)}–${fmt(r.value.max)} | ` +
        `${fmtTime(r.secondsPerCall.median)} | ${ratio} | ${r.note} |`);
    }
  }
  return lines.join('\n');
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const engines = await listEngines(nn);
  const bestNative = engines.find((e) => e.id.startsWith('native/'));
  const results = [];
  for (const w of WORKLOADS) {
    if (opts.only && !opts.only.some((s) => w.id.includes(s))) continue;
    for (const engine of engines) {
      if (opts.engines && !opts.engines.some((s) => engine.id.includes(s))) continue;
      // model workloads run on the best ISA only (the others are covered by the GEMM rows) unless --all-isas
      if (engine.isa && engine !== bestNative && !w.id.startsWith('gemm') && !opts.allIsas) continue;
      if (engine.scaling && !w.id.startsWith('gemm')) continue;
      if (!w.engines(engine, opts, nn)) continue;
      process.stderr.write(`${w.id} on ${engine.id} ... `);
      try {
        const r = await runOne(w, engine, opts);
        results.push(r);
        process.stderr.write(`${fmt(r.value.median)} ${w.unit}\n`);
      } catch (e) {
        process.stderr.write(`failed: ${e && e.message}\n`);
        results.push({ workload: w.id, engine: engine.id, error: String(e && e.message) });
      }
    }
  }
  if (bestNative) bestNative.activate();
  const meta = { date: new Date().toISOString(), quick: opts.quick, machine: machine(nn), tfjs: await tfInfo() };
  const ok = results.filter((r) => !r.error);
  console.log(table(ok, meta));
  for (const r of results.filter((x) => x.error)) console.log(`\n${r.workload} on ${r.engine} failed: ${r.error}`);
  const dir = path.join(__dirname, 'results');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${meta.date.replace(/[:.]/g, '-')}${opts.quick ? '-quick' : ''}.json`);
  fs.writeFileSync(file, JSON.stringify({ ...meta, reference: REFERENCE, results }, null, 2));
  console.log(`\nwritten ${path.relative(process.cwd(), file)}`);
  // conv and pooling kernels, native per ISA against the TS backend (bench/conv.js prints its own table)
  if (!opts.only || opts.only.some((s) => 'conv'.includes(s) || s.includes('conv'))) {
    console.log('');
    require('./conv').main();
  }
  // autograd: a Module of tensor ops against the same Sequential, and the tape's cost per op (prints its own table)
  if (!opts.only || opts.only.some((s) => 'autograd'.includes(s) || s.includes('autograd'))) {
    console.log('');
    await require('./autograd').main(opts.quick ? ['--quick'] : []);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
