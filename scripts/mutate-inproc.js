#!/usr/bin/env node
// StrykerJS's mutants of one source file, run in one process instead of a vitest run per mutant (which managed some
// 10 mutants a minute on the loaded 2-core machine):
//
//   node scripts/mutate-inproc.js <file> --old <spec,...> [--new <spec,...>] [--skip <test name regex>] [--lines <a-b,...>]
//
// --lines runs and reports only the mutants that start on those lines (1-based, inclusive ranges), for the changed
// part of a big file; the score is then over those mutants only.
// Stryker makes the mutant schemata (the command runner with `true`, its sandbox kept); a child process loads the old
// and new specs once (TypeScript transpiled on require, `vitest` replaced by a shim over chai and @vitest/expect that
// runs describe/it/it.each bodies, beforeEach/afterEach, every beforeAll once up front and vi's spies, <file> replaced by Stryker's instrumented copy), records with
// Stryker's own counters which tests reach each mutant, then switches each mutant on by id and runs those tests: the
// old specs, then the new ones, each stopping at the first failure, so one pass gives the score before and after a
// new spec. Static mutants (module-level code, run once at load) are reported as Static: apply them by hand. A
// mutant evaluated more than 5 million times, or a child silent for 60 s (killed; a new child goes on with the rest),
// is timed out; a for loop's counter turned around (`i++` → `i--`) is timed out without running. Specs whose tests
// need a beforeAll of their own scope to run between tests, or spawn dist/, do not fit; leave those tests out with --skip.
// A test that fails unmutated is reported and left out. MUTATE_STATIC=<id> instead switches that one (static) mutant
// on before the specs load and prints which group's first test fails, as JSON.
// Appends to reports/mutation/inproc-<name>.jsonl (a rerun skips the ids it holds) and prints the scores.
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const argv = process.argv.slice(2);
const opt = (k) => { const i = argv.indexOf(k); return i >= 0 ? argv[i + 1] : undefined; };
const file = argv[0];
const specs = { old: (opt('--old') || '').split(',').filter(Boolean), new: (opt('--new') || '').split(',').filter(Boolean) };
const skip = opt('--skip');
// MUTATE_INPROC_SILENT_S: how long a child may run one mutant before it is killed (timed out); 60 s by default, more
// on a machine so loaded that a mutant's tests take that long unmutated
const silentMs = 1000 * Number(process.env.MUTATE_INPROC_SILENT_S || 60);
const ranges = (opt('--lines') || '').split(',').filter(Boolean).map((r) => r.split('-').map(Number));
const inRange = (m) => !ranges.length || ranges.some(([a, b = a]) => m.location.start.line >= a && m.location.start.line <= b);
const name = path.basename(file || '', '.ts');
const out = path.join(root, 'reports', 'mutation', `inproc-${name}.jsonl`);
const work = path.join(root, '.stryker-tmp', `inproc-${name}`);

if (process.env.MUTATE_INPROC_CHILD) child().catch((e) => { console.error(e); process.exit(1); });
else parent();

function parent() {
  if (!file || !specs.old.length) {
    console.error('usage: node scripts/mutate-inproc.js <file> --old <spec,...> [--new <spec,...>] [--skip <regex>]');
    process.exit(2);
  }
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const list = path.join(work, 'mutants.json');
  if (!fs.existsSync(list)) {
    fs.rmSync(work, { recursive: true, force: true });
    fs.mkdirSync(work, { recursive: true });
    const base = JSON.parse(fs.readFileSync(path.join(root, 'stryker.config.json'), 'utf8'));
    delete base.$schema; delete base.vitest;
    const cfg = { ...base, mutate: [file], testRunner: 'command', commandRunner: { command: 'true' }, coverageAnalysis: 'off',
      ignoreStatic: false, tempDirName: path.relative(root, path.join(work, 'stryker')), cleanTempDir: false, reporters: ['json'],
      concurrency: 1, thresholds: { high: 80, low: 60, break: null }, jsonReporter: { fileName: list } };
    fs.writeFileSync(path.join(work, 'stryker.json'), JSON.stringify(cfg));
    const r = spawnSync('npx', ['stryker', 'run', path.join(work, 'stryker.json')], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
    const sandbox = fs.readdirSync(path.join(work, 'stryker')).find((d) => d.startsWith('sandbox-'));
    if (r.status !== 0 || !sandbox) process.exit(1);
    fs.copyFileSync(path.join(work, 'stryker', sandbox, file), path.join(work, 'instrumented.ts'));
    fs.rmSync(path.join(work, 'stryker'), { recursive: true, force: true });
  }
  const mutants = Object.values(JSON.parse(fs.readFileSync(list, 'utf8')).files)[0].mutants.filter(inRange);
  const src = fs.readFileSync(path.join(root, file), 'utf8').split('\n');
  const done = new Set(fs.existsSync(out) ? fs.readFileSync(out, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l).id) : []);
  for (const m of mutants) {
    const line = src[m.location.start.line - 1];
    if (!done.has(m.id) && m.mutatorName === 'UpdateOperator' && /\bfor \(/.test(line)) {
      fs.appendFileSync(out, JSON.stringify({ id: m.id, old: 'Timeout', new: 'Timeout', note: 'loop counter turned around: not run' }) + '\n');
      done.add(m.id);
    }
  }
  let todo = mutants.map((m) => m.id).filter((id) => !done.has(id));
  const next = () => {
    if (!todo.length) return report(mutants);
    const c = spawn(process.execPath, ['--max-old-space-size=3000', __filename, ...argv], {
      cwd: root, env: { ...process.env, MUTATE_INPROC_CHILD: '1', MUTATE_INPROC_IDS: todo.join(',') }, stdio: ['ignore', 'pipe', 'inherit'] });
    let current = null, timer = null, buf = '';
    const arm = () => { clearTimeout(timer); timer = setTimeout(() => c.kill('SIGKILL'), current ? silentMs : 900_000); };
    arm();
    c.stdout.on('data', (d) => {
      buf += d;
      for (let k; (k = buf.indexOf('\n')) >= 0;) {
        const line = buf.slice(0, k);
        buf = buf.slice(k + 1);
        if (line.startsWith('START ')) { current = line.slice(6); arm(); continue; }
        if (!line.startsWith('{')) { console.error(line); continue; }
        const r = JSON.parse(line);
        fs.appendFileSync(out, line + '\n');
        todo = todo.filter((x) => x !== r.id);
        console.log(r.id, r.old, r.new, r.oldTest || '', '|', r.newTest || '');
        current = null;
        arm();
      }
    });
    c.on('exit', () => {
      clearTimeout(timer);
      if (current) {
        fs.appendFileSync(out, JSON.stringify({ id: current, old: 'Timeout', new: 'Timeout', note: 'child silent for 60 s' }) + '\n');
        todo = todo.filter((x) => x !== current);
      }
      next();
    });
  };
  next();
}

function report(mutants) {
  const res = new Map(fs.readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l)).map((r) => [r.id, r]));
  const detected = (s) => s === 'Killed' || s === 'Timeout';
  const counted = mutants.filter((m) => res.get(m.id) && res.get(m.id).old !== 'Static');
  const before = counted.filter((m) => detected(res.get(m.id).old)).length;
  const after = counted.filter((m) => detected(res.get(m.id).old) || detected(res.get(m.id).new)).length;
  const pct = (n) => `${(100 * n / counted.length).toFixed(1)}%`;
  console.log(`${mutants.length} mutants, ${mutants.length - counted.length} static; old specs ${before} (${pct(before)}), ` +
    `with the new ${after} (${pct(after)})`);
  for (const m of counted) {
    const r = res.get(m.id);
    if (!detected(r.old) && !detected(r.new)) console.log('survived', m.id, `line ${m.location.start.line}`, m.mutatorName, '->', m.replacement.slice(0, 60));
  }
}

async function child() {
  const Module = require('node:module');
  const ts = require('typescript');
  const chai = await import(require.resolve('chai', { paths: [root] }));
  const ve = await import(require.resolve('@vitest/expect', { paths: [root] }));
  chai.use(ve.JestExtend);
  chai.use(ve.JestChaiExpect);
  chai.use(ve.JestAsymmetricMatchers);
  const skipRe = skip ? new RegExp(skip) : null;
  const spy = await import(require.resolve('@vitest/spy', { paths: [root] }));
  const tests = [], stack = [], hooks = [{ before: [], after: [] }];
  let group = 'old';
  const title = (t, row, j) => `${String(t).replace(/\$(\w+)/g, (_, k) => (row && typeof row === 'object' ? String(row[k]) : ''))
    .replace(/%[sdi]/, () => String(Array.isArray(row) ? row[0] : row))} #${j}`;
  const describe = (t, fn) => { stack.push(t); hooks.push({ before: [], after: [] }); fn(); hooks.pop(); stack.pop(); };
  // a test runs its scopes' beforeEach hooks (outermost first), then its body, then the afterEach hooks (innermost first)
  const it = (t, body) => {
    const full = [...stack, t].join(' > ');
    const scopes = hooks.slice();
    const fn = async () => {
      try {
        for (const h of scopes) for (const b of h.before) await b();
        await body();
      } finally {
        for (const h of scopes.slice().reverse()) for (const a of h.after) await a();
      }
    };
    if (!skipRe || !skipRe.test(full)) tests.push({ name: full, fn, group });
  };
  const each = (f) => (table) => (t, fn) => table.forEach((row, j) => f(title(t, row, j), () => (Array.isArray(row) ? fn(...row) : fn(row))));
  describe.each = each(describe);
  it.each = each(it);
  const skipped = Object.assign(() => {}, { each: () => () => {} });
  describe.skip = skipped;
  it.skip = skipped;
  for (const f of [describe, it]) {
    f.skipIf = (c) => (c ? skipped : f);
    f.runIf = (c) => (c ? f : skipped);
  }
  const expect = Object.setPrototypeOf((v, m) => chai.expect(v, m), chai.expect);
  const beforeEach = (f) => hooks[hooks.length - 1].before.push(f);
  const afterEach = (f) => hooks[hooks.length - 1].after.push(f);
  const vi = { spyOn: spy.spyOn, fn: spy.fn, restoreAllMocks: spy.restoreAllMocks, clearAllMocks: spy.clearAllMocks };
  // beforeAll hooks all run once, in order, after the specs load and before any test; afterAll hooks once at the end
  const onceBefore = [], onceAfter = [];
  const runOnce = async (list) => { for (const f of list) await f(); };
  const shim = { describe, it, test: it, expect, vi, beforeAll: (f) => onceBefore.push(f), afterAll: (f) => onceAfter.push(f),
    beforeEach, afterEach };
  const resolve = Module._resolveFilename;
  Module._resolveFilename = function (req, ...rest) { return req === 'vitest' ? 'vitest-shim' : resolve.call(this, req, ...rest); };
  require.cache['vitest-shim'] = { id: 'vitest-shim', filename: 'vitest-shim', loaded: true, exports: shim };
  const target = path.join(root, file);
  require.extensions['.ts'] = (m, f) => {
    const text = fs.readFileSync(f === target ? path.join(work, 'instrumented.ts') : f, 'utf8');
    const js = ts.transpileModule(text, { fileName: f, compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true } });
    m._compile(js.outputText, f);
  };
  process.env.NODENN_BACKEND = 'ts';
  if (process.env.MUTATE_STATIC) {
    globalThis.__stryker__ = { activeMutant: process.env.MUTATE_STATIC };
    for (const g of ['old', 'new']) { group = g; for (const s of specs[g]) require(path.join(root, s)); }
    await runOnce(onceBefore);
    const r = { id: process.env.MUTATE_STATIC };
    for (const g of ['old', 'new']) {
      r[g] = 'Survived';
      for (const t of tests) {
        if (t.group !== g) continue;
        try { await t.fn(); } catch { r[g] = 'Killed'; r[`${g}Test`] = t.name.slice(0, 120); break; }
      }
    }
    console.log(JSON.stringify(r));
    process.exit(0);
  }
  for (const g of ['old', 'new']) {
    group = g;
    for (const s of specs[g]) require(path.join(root, s));
  }
  await runOnce(onceBefore);
  const ns = (globalThis.__stryker__ ??= {});
  const statics = new Set(Object.keys(ns.mutantCoverage?.static ?? {}));
  ns.mutantCoverage ??= { static: {}, perTest: {} };
  ns.mutantCoverage.perTest = {};
  for (const t of tests) {
    ns.currentTestId = t.name;
    try { await t.fn(); } catch (e) {
      // a test that fails without a mutant would count every mutant it reaches as killed: it is left out
      t.broken = true;
      console.error('fails unmutated, left out:', t.name, String(e && e.message).slice(0, 200));
    }
  }
  ns.currentTestId = undefined;
  for (const t of tests) t.reaches = new Set(t.broken ? [] : Object.keys(ns.mutantCoverage.perTest[t.name] || {}));
  for (const id of process.env.MUTATE_INPROC_IDS.split(',')) {
    console.log(`START ${id}`);
    const r = { id };
    if (statics.has(id)) r.old = r.new = 'Static';
    else if (!tests.some((t) => t.reaches.has(id))) r.old = r.new = 'NoCoverage';
    else {
      for (const g of ['old', 'new']) {
        ns.activeMutant = id;
        ns.hitCount = 0;
        ns.hitLimit = 5e6;
        r[g] = 'Survived';
        for (const t of tests) {
          if (t.group !== g || !t.reaches.has(id)) continue;
          try {
            await t.fn();
          } catch {
            r[g] = ns.hitCount > ns.hitLimit ? 'Timeout' : 'Killed';
            r[`${g}Test`] = t.name.slice(0, 120);
            break;
          }
        }
      }
      ns.activeMutant = undefined;
      ns.hitCount = undefined;
    }
    console.log(JSON.stringify(r));
  }
  await runOnce(onceAfter).catch(() => {});
  process.exit(0);
}
