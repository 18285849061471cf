#!/usr/bin/env node
// StrykerJS's mutants of a TS backend kernel file, run in one process against the reference grid:
// `npm run mutate:grid -- src/backend/ts/conv.ts[:lines]`.
//
// `npm run mutate` (Stryker's vitest runner) starts a fresh vitest run for every mutant: a module graph to load and
// every reference of the grid to recompute, some 10 s a mutant on a quiet machine and a minute on the loaded 2-core
// one, hours for one kernel file. The kernels keep no state, so their mutants can share one process: this script
// lets Stryker make and instrument the mutants (its mutant schemata: every mutant compiled in, one switched on by
// id), without testing them (the command runner with `true`), then runs one vitest process in Stryker's sandbox
// that computes the grid's references once, records which grid rows reach each mutant (Stryker's own coverage
// counters), and runs each mutant against only those rows, float32 and float64, on the TS backend.
//
// A mutant is killed when a row's check or the kernel throws; timed out when it evaluates its mutated code more than
// 10 times as often as the unmutated run did, or runs 5 times as long (an endless loop); a static mutant (in code run
// when the module loads) cannot be switched on in a loaded module and is reported as such, to be applied by hand.
// Only the grid runs, so a survivor may still die in another spec: apply it by hand against the kernel's specs.
//
//   node scripts/mutate-grid.js <file>[:<from>-<to>] [--rows <regular expression of grid kernel names>]
//     [--resume <the .jsonl results of an interrupted run over the same file and lines> [--reuse]]
// Writes reports/mutation/grid-<name>.json (Stryker's report format, statuses filled in) and prints the survivors.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const args = process.argv.slice(2);
const target = args.find((a, i) => !a.startsWith('--') && !['--rows', '--resume'].includes(args[i - 1]));
const rowsAt = args.indexOf('--rows');
const rows = rowsAt >= 0 ? args[rowsAt + 1] : '.';
// --resume <file>: the results (.jsonl) of an interrupted run over the same file; its mutants are not run again
const resumeAt = args.indexOf('--resume');
const resumed = resumeAt >= 0 ? fs.readFileSync(args[resumeAt + 1], 'utf8') : '';
if (!target) {
  console.error('usage: node scripts/mutate-grid.js <file>[:<from>-<to>] [--rows <regular expression>]');
  process.exit(2);
}

const out = path.join(root, 'reports', 'mutation');
fs.mkdirSync(out, { recursive: true });
const name = path.basename(target.split(':')[0], '.ts') + (target.includes(':') ? `-${target.split(':')[1]}` : '');

// 1. Stryker makes the mutants and the sandbox; the command runner's `true` "tests" each (all survive) in seconds
const base = JSON.parse(fs.readFileSync(path.join(root, 'stryker.config.json'), 'utf8'));
delete base.$schema;
delete base.vitest;
const listConfig = {
  ...base, mutate: [target], testRunner: 'command', commandRunner: { command: 'true' }, coverageAnalysis: 'off',
  ignoreStatic: false, cleanTempDir: false, tempDirName: `.stryker-tmp/grid-${name}`, reporters: ['json'],
  thresholds: { high: 80, low: 60, break: null },
  jsonReporter: { fileName: path.join('reports', 'mutation', `list-${name}.json`) },
};
const configFile = path.join(out, `list-${name}.config.json`);
fs.writeFileSync(configFile, JSON.stringify(listConfig, null, 1));
const tmp = path.join(root, '.stryker-tmp', `grid-${name}`);
// --reuse: the sandbox and mutant list that an interrupted run left (with --resume: the source must be unchanged)
let r;
if (!(args.includes('--reuse') && fs.existsSync(tmp) && fs.existsSync(path.join(out, `list-${name}.json`)))) {
  fs.rmSync(tmp, { recursive: true, force: true });
  r = spawnSync('npx', ['stryker', 'run', configFile], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
const sandbox = path.join(tmp, fs.readdirSync(tmp)[0]);
const report = JSON.parse(fs.readFileSync(path.join(out, `list-${name}.json`), 'utf8'));
const [file] = Object.keys(report.files);
const mutants = report.files[file].mutants;

// 2. the harness: the grid spec's table (everything before its tests), then the sweep
const grid = fs.readFileSync(path.join(root, 'test', 'reference-grid.spec.ts'), 'utf8');
const table = grid.slice(0, grid.indexOf("describe('reference grid', () => {"));
const results = path.join(out, `grid-${name}.jsonl`);
fs.writeFileSync(results, resumed);
const harness = `${table}
import { appendFileSync, readFileSync } from 'node:fs';

const references = new Map<string, unknown>();

it('mutant sweep', () => {
  const ns = (globalThis as any).__stryker__ ??= {};
  // the instrumented module keeps the object it first counted into: clear it in place, never replace it
  const cov = ns.mutantCoverage ??= { static: {}, perTest: {} };
  const staticHits: Record<string, number> = { ...cov.static };
  const ids: string[] = JSON.parse(readFileSync(${JSON.stringify(path.join(out, `ids-${name}.json`))}, 'utf8'));
  const record = (o: object) => appendFileSync(${JSON.stringify(results)}, JSON.stringify(o) + '\\n');
  useBackend({ label: 'ts', backend: 'ts' });
  const tests: { id: string; run: () => void }[] = [];
  for (const [dtype, C] of dtypes) {
    for (const row of grid.filter((g) => new RegExp(${JSON.stringify(rows)}).test(g.kernel))) {
      tests.push({ id: \`\${row.kernel} \${dtype}\`, run: () => row.cases.forEach((c, i) => {
        const reference = <T>(name: string, f: () => T): T => {
          const key = \`\${row.kernel}|\${i}|\${c.label}|\${dtype}|\${name}\`;
          if (!references.has(key)) references.set(key, f());
          return references.get(key) as T;
        };
        for (const check of c.run(getBackend(), C, 1 + 16 * i, reference)) verify(row, c, check);
      }) });
    }
  }
  // the unmutated run: the references, and which tests reach which mutant how often
  ns.activeMutant = undefined;
  cov.static = {};
  cov.perTest = {};
  const ms = new Map<string, number>();
  for (const t of tests) {
    ns.currentTestId = t.id;
    const t0 = performance.now();
    t.run();
    ms.set(t.id, performance.now() - t0);
  }
  ns.currentTestId = undefined;
  // the quickest rows first: most mutants die in the first row that reaches them
  tests.sort((a, b) => ms.get(a.id)! - ms.get(b.id)!);
  const perTest: Record<string, Record<string, number>> = cov.perTest;
  let limit = 0, deadline = 0;
  // read by the instrumented code at every evaluation of the active mutant: past 10 times the unmutated run's count,
  // or 5 times its time (and at least 10 s), the mutant throws "Hit count limit reached": an endless loop
  Object.defineProperty(ns, 'hitLimit', { configurable: true,
    get: () => (ns.hitCount > limit || Date.now() > deadline ? 0 : Infinity) });
  for (const id of ids) {
    const reach = tests.filter((t) => perTest[t.id]?.[id]);
    const hits = reach.reduce((s, t) => s + perTest[t.id][id], 0);
    if (staticHits[id]) { record({ id, status: 'Static' }); continue; }
    if (reach.length === 0) { record({ id, status: 'NoCoverage' }); continue; }
    ns.activeMutant = id;
    ns.hitCount = 0;
    limit = 1000 + 10 * hits;
    deadline = Date.now() + Math.max(10_000, 5 * reach.reduce((s, t) => s + ms.get(t.id)!, 0));
    let status = 'Survived', by = '';
    for (const t of reach) {
      try {
        t.run();
      } catch (e) {
        status = /Hit count limit/.test(String((e as Error)?.message)) ? 'Timeout' : 'Killed';
        by = \`\${t.id}: \${String((e as Error)?.message).slice(0, 200)}\`;
        break;
      }
    }
    ns.activeMutant = undefined;
    ns.hitCount = undefined;
    record({ id, status, by, tests: reach.map((t) => t.id) });
  }
}, 24 * 3600_000);
`;
fs.writeFileSync(path.join(sandbox, 'test', 'mutant-sweep.spec.ts'), harness);
// A for loop's counter turned from i++ to i-- (or its condition i < n to true) never ends once the loop is entered:
// such a mutant is reported as timed out without running it (each would hold the sweep for its whole time limit).
const source = fs.readFileSync(path.join(root, file), 'utf8').split('\n');
const endless = (m) => {
  const line = source[m.location.start.line - 1];
  const loop = /for \(let (\w+) = [^;]+; (\w+) < [^;]+; (\w+)\+\+\)/.exec(line);
  if (!loop || loop[1] !== loop[2] || loop[1] !== loop[3]) return false;
  const text = line.slice(m.location.start.column - 1, m.location.end.column - 1);
  return (m.mutatorName === 'UpdateOperator' && m.replacement === `${loop[1]}--` && text === `${loop[1]}++`) ||
    (m.mutatorName === 'ConditionalExpression' && m.replacement === 'true' && m.location.start.line === m.location.end.line &&
      line.slice(0, m.location.start.column - 1).endsWith(`; `) && text.startsWith(`${loop[1]} < `) && line.includes(`; ${text}; `));
};
let skipped = '';
for (const m of mutants) {
  if (endless(m) && !resumed.includes(`"id":"${m.id}"`)) {
    skipped += `${JSON.stringify({ id: m.id, status: 'Timeout', by: 'endless loop: not run' })}\n`;
  }
}
fs.appendFileSync(results, skipped);
const done = new Set((resumed + skipped).split('\n').filter(Boolean).map((l) => JSON.parse(l).id));
fs.writeFileSync(path.join(out, `ids-${name}.json`), JSON.stringify(mutants.map((m) => m.id).filter((id) => !done.has(id))));

// 3. one vitest process over every mutant
r = spawnSync('npx', ['vitest', 'run', 'test/mutant-sweep.spec.ts'], {
  cwd: sandbox, stdio: 'inherit', env: { ...process.env, NODENN_BACKEND: 'ts' },
});
const got = new Map(fs.readFileSync(results, 'utf8').trim().split('\n').filter(Boolean).map((l) => {
  const o = JSON.parse(l);
  return [o.id, o];
}));
for (const m of mutants) {
  const g = got.get(m.id);
  m.status = g ? ({ Static: 'Ignored', NoCoverage: 'NoCoverage' }[g.status] ?? g.status) : 'Pending';
  if (g?.status === 'Static') m.statusReason = 'static: apply by hand';
  if (g?.by) m.killedBy = [g.by];
  m.coveredBy = g?.tests;
}
fs.writeFileSync(path.join(out, `grid-${name}.json`), JSON.stringify(report));
fs.rmSync(sandbox, { recursive: true, force: true });

const count = (s) => mutants.filter((m) => m.status === s).length;
const detected = count('Killed') + count('Timeout'), undetected = count('Survived') + count('NoCoverage');
console.log(`${file}: ${mutants.length} mutants, ${count('Killed')} killed, ${count('Timeout')} timed out, ` +
  `${count('Survived')} survived, ${count('NoCoverage')} no coverage, ${count('Ignored')} static, ` +
  `${count('Pending')} not run; score ${(100 * detected / (detected + undetected)).toFixed(1)}%`);
const src = fs.readFileSync(path.join(root, file), 'utf8').split('\n');
for (const m of mutants.filter((x) => ['Survived', 'NoCoverage', 'Ignored', 'Pending'].includes(x.status))) {
  const { start, end } = m.location;
  const text = start.line === end.line ? src[start.line - 1].slice(start.column - 1, end.column - 1)
    : `${src[start.line - 1].slice(start.column - 1)} ...`;
  console.log(`  ${m.status} #${m.id} line ${start.line}: ${m.mutatorName} ${JSON.stringify(text)} -> ` +
    `${JSON.stringify(m.replacement)}`);
}
process.exit(r.status === 0 ? 0 : 1);
