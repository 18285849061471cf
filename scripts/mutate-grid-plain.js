#!/usr/bin/env node
// StrykerJS's mutants of a TS backend kernel file against the reference grid, without Stryker's instrumentation:
// `node scripts/mutate-grid-plain.js src/backend/ts/gemm.ts[:lines] --rows '<grid kernel names>'`.
//
// scripts/mutate-grid.js runs the instrumented file (every mutant compiled in, one switched on by id): each
// expression of the file becomes a call to Stryker's switch and counters, a hundred times slower in a kernel's
// innermost loop, and a nice 19 run on a loaded machine gets through a few mutants a minute. Here Stryker only makes
// the mutant list (the command runner with `true`); the sources are transpiled once (TypeScript's transpileModule,
// into .stryker-tmp/plain-<name>); one worker thread loads the grid's table, computes the references once, and then
// loads each mutant (its file's text with the mutation, transpiled) as a fresh module, puts its exports in place of
// the TS backend's kernels of the same names (unchecked) and runs the rows, float32 and float64.
//
// Killed: a row's check or the kernel threw. A for loop's counter turned around (`i++` → `i--`) is timed out without
// running, as in mutate-grid.js; a mutant still running after 4 times the unmutated rows (at least 20 s) is stopped
// (the worker terminated, a new one goes on with the rest) and counted as timed out: read each such one. A mutant in
// code the test table itself imports (e.g. plan.ts's slopeWords, used to build the grid's programs) is not seen by
// the table: apply it by hand. Only the grid runs, so a survivor may still die in another spec.
//
//   node scripts/mutate-grid-plain.js <file>[:<from>-<to>] [--rows <regular expression of grid kernel names>]
// Appends to reports/mutation/plain-<name>.jsonl (a rerun skips the mutants it holds: delete it to start over) and
// prints the score and the survivors.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { Worker } = require('node:worker_threads');
const ts = require('typescript');

const root = path.resolve(__dirname, '..');
const args = process.argv.slice(2);
const target = args.find((a, i) => !a.startsWith('--') && args[i - 1] !== '--rows');
const rowsAt = args.indexOf('--rows');
const rows = rowsAt >= 0 ? args[rowsAt + 1] : '.';
if (!target) {
  console.error('usage: node scripts/mutate-grid-plain.js <file>[:<from>-<to>] [--rows <regular expression>]');
  process.exit(2);
}
const out = path.join(root, 'reports', 'mutation');
fs.mkdirSync(out, { recursive: true });
const name = path.basename(target.split(':')[0], '.ts') + (target.includes(':') ? `-${target.split(':')[1]}` : '');

// 1. the mutant list: Stryker with the command runner's `true` (every mutant "survives" in seconds)
const listFile = path.join(out, `plain-list-${name}.json`);
const base = JSON.parse(fs.readFileSync(path.join(root, 'stryker.config.json'), 'utf8'));
delete base.$schema;
delete base.vitest;
const listConfig = {
  ...base, mutate: [target], testRunner: 'command', commandRunner: { command: 'true' }, coverageAnalysis: 'off',
  ignoreStatic: false, tempDirName: `.stryker-tmp/plain-list-${name}`, reporters: ['json'],
  thresholds: { high: 80, low: 60, break: null }, jsonReporter: { fileName: path.relative(root, listFile) },
};
const configFile = path.join(out, `plain-list-${name}.config.json`);
fs.writeFileSync(configFile, JSON.stringify(listConfig, null, 1));
const listed = spawnSync('npx', ['stryker', 'run', configFile], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
if (listed.status !== 0) process.exit(listed.status ?? 1);
const report = JSON.parse(fs.readFileSync(listFile, 'utf8'));
const [file] = Object.keys(report.files);
const mutants = report.files[file].mutants;

// 2. the sources transpiled once, and the harness: the grid spec's table, then the worker's loop
const work = path.join(root, '.stryker-tmp', `plain-${name}`);
const transpile = (src, fileName) => ts.transpileModule(src, { fileName, compilerOptions: {
  module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true } }).outputText;
const walk = (d) => fs.readdirSync(d, { withFileTypes: true })
  .flatMap((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)]));
fs.rmSync(work, { recursive: true, force: true });
for (const f of walk(path.join(root, 'src')).filter((f) => f.endsWith('.ts'))) {
  const o = path.join(work, path.relative(root, f)).replace(/\.ts$/, '.js');
  fs.mkdirSync(path.dirname(o), { recursive: true });
  fs.writeFileSync(o, transpile(fs.readFileSync(f, 'utf8'), f));
}
fs.mkdirSync(path.join(work, 'test'));
for (const f of ['helpers', 'reference']) {
  fs.writeFileSync(path.join(work, 'test', `${f}.js`), transpile(fs.readFileSync(path.join(root, 'test', `${f}.ts`), 'utf8'), `${f}.ts`));
}
for (const l of ['build', 'node_modules', 'package.json']) fs.symlinkSync(path.join(root, l), path.join(work, l));
const grid = fs.readFileSync(path.join(root, 'test', 'reference-grid.spec.ts'), 'utf8');
const table = grid.slice(0, grid.indexOf("describe('reference grid', () => {")).replace(/^import .* from 'vitest';$/m, '');
const harness = `${table}
import { parentPort, workerData } from 'node:worker_threads';
import { createRequire } from 'node:module';

const selected = grid.filter((g) => new RegExp(workerData.rows).test(g.kernel));
useBackend({ label: 'ts', backend: 'ts' });
const unmutated = getBackend();
const references = new Map<string, unknown>(workerData.references ?? []);
const requireFrom = createRequire(workerData.modulePath);
function runRows(k: Kernels): void {
  for (const [dtype, C] of dtypes) {
    for (const row of selected) {
      row.cases.forEach((c, i) => {
        const reference = <T>(name: string, f: () => T): T => {
          const key = \`\${row.kernel}|\${i}|\${c.label}|\${dtype}|\${name}\`;
          if (!references.has(key)) references.set(key, f());
          return references.get(key) as T;
        };
        for (const check of c.run(k, C, 1 + 16 * i, reference)) verify(row, c, check);
      });
    }
  }
}
if (!workerData.references) {
  runRows(unmutated);
  const t0 = Date.now();
  runRows(unmutated);
  parentPort!.postMessage({ unmutatedMs: Date.now() - t0, references: [...references] });
}
for (const m of workerData.mutants as { id: string; js: string }[]) {
  parentPort!.postMessage({ start: m.id });
  const module = { exports: {} as Record<string, unknown> };
  let status = 'Survived', by = '';
  try {
    new Function('exports', 'require', 'module', m.js)(module.exports, requireFrom, module);
    const k: Record<string, unknown> = { ...unmutated };
    for (const [name, f] of Object.entries(module.exports)) if (typeof f === 'function' && name in k) k[name] = f;
    runRows(k as unknown as Kernels);
  } catch (e) {
    status = 'Killed';
    by = String((e as Error)?.message ?? e).slice(0, 200);
  }
  parentPort!.postMessage({ id: m.id, status, by });
}
`;
fs.writeFileSync(path.join(work, 'test', 'harness.js'), transpile(harness, 'harness.ts'));

// 3. the mutants, in one worker at a time
const source = fs.readFileSync(path.join(root, file), 'utf8');
const lines = source.split('\n');
const offset = (l) => lines.slice(0, l.line - 1).reduce((s, x) => s + x.length + 1, 0) + l.column - 1;
const results = path.join(out, `plain-${name}.jsonl`);
const done = new Set(fs.existsSync(results)
  ? fs.readFileSync(results, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l).id) : []);
const record = (m, status, by) => {
  const text = source.slice(offset(m.location.start), offset(m.location.end));
  fs.appendFileSync(results, `${JSON.stringify({ id: m.id, status, by, line: m.location.start.line, mutator: m.mutatorName,
    text: text.slice(0, 80), replacement: m.replacement.slice(0, 80) })}\n`);
};
const endless = (m) => {
  const line = lines[m.location.start.line - 1];
  const loop = /for \(let (\w+) = [^;]+; (\w+) < [^;]+; (\w+)\+\+/.exec(line);
  if (!loop || loop[1] !== loop[2] || loop[1] !== loop[3]) return false;
  const text = line.slice(m.location.start.column - 1, m.location.end.column - 1);
  return m.mutatorName === 'UpdateOperator' && m.replacement === `${loop[1]}--` && text === `${loop[1]}++`;
};
let todo = [];
for (const m of mutants) {
  if (done.has(m.id)) continue;
  if (endless(m)) {
    record(m, 'Timeout', 'endless loop: not run');
    continue;
  }
  const mutated = source.slice(0, offset(m.location.start)) + m.replacement + source.slice(offset(m.location.end));
  todo.push({ m, js: transpile(mutated, file) });
}
const modulePath = path.join(work, file).replace(/\.ts$/, '.js');
let limit = 0, references;
function next() {
  if (todo.length === 0) return summary();
  const w = new Worker(path.join(work, 'test', 'harness.js'), { workerData: {
    rows, modulePath, references, mutants: todo.map((t) => ({ id: t.m.id, js: t.js })) } });
  let current = null, since = 0;
  const timer = setInterval(() => {
    if (current === null || Date.now() - since <= limit) return;
    clearInterval(timer);
    record(todo.find((t) => t.m.id === current).m, 'Timeout', `stopped after ${limit} ms`);
    todo = todo.filter((t) => t.m.id !== current);
    current = null;
    void w.terminate().then(next);
  }, 500);
  w.on('message', (msg) => {
    if (msg.unmutatedMs !== undefined) {
      limit = Math.max(20_000, 4 * msg.unmutatedMs);
      references = msg.references;
    } else if (msg.start !== undefined) {
      current = msg.start;
      since = Date.now();
    } else {
      record(todo.find((t) => t.m.id === msg.id).m, msg.status, msg.by);
      todo = todo.filter((t) => t.m.id !== msg.id);
      current = null;
      if (todo.length === 0) clearInterval(timer);
    }
  });
  w.on('error', (e) => {
    clearInterval(timer);
    console.error(e);
    process.exitCode = 1;
  });
  w.on('exit', () => { if (todo.length === 0) summary(); });
}
let summarized = false;
function summary() {
  if (summarized) return;
  summarized = true;
  const got = fs.readFileSync(results, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const count = (s) => got.filter((g) => g.status === s).length;
  const detected = count('Killed') + count('Timeout');
  console.log(`${file}: ${got.length} mutants, ${count('Killed')} killed, ${count('Timeout')} timed out, ` +
    `${count('Survived')} survived; score ${(100 * detected / got.length).toFixed(1)}%`);
  for (const g of got.filter((x) => x.status !== 'Killed')) {
    console.log(`  ${g.status} #${g.id} line ${g.line}: ${g.mutator} ${JSON.stringify(g.text)} -> ` +
      `${JSON.stringify(g.replacement)}${g.by ? ` (${g.by})` : ''}`);
  }
  fs.rmSync(work, { recursive: true, force: true });
}
next();
