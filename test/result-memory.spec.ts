// The memory of operation results on the native backend: the addon tunes glibc's malloc at load so that the
// memory of collected results is reused rather than handed back to the system and faulted in afresh (see
// tune_malloc in native/addon.cc); NODENN_MALLOC_TUNING=0 and a user's own GLIBC_TUNABLES turn that off. Reused
// memory must never be a live tensor's: results stay correct, and a tensor kept alive keeps its bits while many
// others are made and collected, on the main thread and in workers at once. Every case runs in a fresh `node`
// process against the compiled package (dist/, `npm run build:ts`), with --expose-gc where it collects.
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { nativeAvailable } from '../src/backend/index';

const root = path.join(__dirname, '..');
const DIST = JSON.stringify(path.join(root, 'dist/cjs/index.js'));
// glibc's own malloc: not under a sanitizer's (npm run test:asan preloads libasan, whose mallopt does nothing)
const glibc = Boolean((process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)
  ?.header?.glibcVersionRuntime) && !/san/.test(process.env.LD_PRELOAD ?? '');

interface Run { status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

/** Runs `code` in a fresh node process (NODENN_* and GLIBC_TUNABLES cleared but NODENN_ADDON, then `env`). */
function runNode(code: string, env: Record<string, string> = {}, flags: string[] = []): Promise<Run> {
  const base: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if ((!k.startsWith('NODENN_') || k === 'NODENN_ADDON') && k !== 'GLIBC_TUNABLES') base[k] = v;
  }
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...flags, '-e', `const DIST = ${DIST};\n${code}`],
      { cwd: root, env: { ...base, ...env }, timeout: 100_000, killSignal: 'SIGKILL' });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (status, signal) => resolve({ status, signal, stdout: stdout.trim(), stderr }));
  });
}

/** A clean exit (status 0, no signal) and the last line of stdout, parsed as JSON. */
function lastJson(r: Run): unknown {
  expect({ status: r.status, signal: r.signal, stderr: r.stderr.slice(-2000) })
    .toEqual({ status: 0, signal: null, stderr: expect.any(String) });
  return JSON.parse(r.stdout.split('\n').at(-1)!);
}

const tuned = `const { nativeAddon } = require(DIST.replace(/index\\.js$/, 'backend/index.js'));
console.log(JSON.stringify(nativeAddon().info().mallocTuned));`;

// 16 results of 4 MiB (a + b on 10^6 floats) made, dropped and collected, three times: the page faults per result
// in each round. A result's 1024 pages all fault when its memory comes fresh from the system; the rounds after the
// first reuse the memory of the last one's results if malloc kept it.
const rounds = `const nn = require(DIST); nn.setBackend('native');
const a = nn.ones([1000000]), b = nn.full([1000000], 2);
function round() {
  const kept = [];
  const before = process.resourceUsage().minorPageFault;
  for (let i = 0; i < 16; i++) kept.push(a.add(b));
  const faults = (process.resourceUsage().minorPageFault - before) / 16;
  return { faults, bad: kept.filter((c) => c.data[0] !== 3 || c.data[999999] !== 3).length };
}
const wait = () => new Promise((resolve) => setTimeout(resolve, 200));
(async () => {
  const faults = [];
  let bad = 0;
  for (let r = 0; r < 3; r++) {
    const got = round();
    faults.push(got.faults);
    bad += got.bad;
    await wait();
    gc();
    await wait();  // V8 frees the buffers on a background thread
  }
  console.log(JSON.stringify({ faults, bad }));
})();`;

// A result kept alive (large, and small from the slab) while results of many sizes are made, checked in full and
// collected: every result holds exactly its value, and the kept ones keep their bits. Runs as a function so that a
// worker can run it too.
const churn = `function churn(nn, rounds) {
  const big = nn.full([1000000], 1.5).add(nn.full([1000000], 0.25));          // 1.75
  const mid = nn.full([64, 784], 3).mul(2);                                    // 6, 200 KB
  const small = nn.full([7], 2).sub(0.5);                                      // 1.5, from the slab
  const snapshot = [big, mid, small].map((t) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).toString('base64'));
  const sizes = [1000000, 250000, 50176, 4096, 1000, 33, 1];
  const x = new nn.Tensor(Float32Array.from({ length: 60000 * 8 }, (_, i) => Math.floor(i / 8)), [60000, 8]);
  let wrong = 0;
  for (let r = 0; r < rounds; r++) {
    for (const n of sizes) {
      const v = (r % 97) + n % 13;
      const y = nn.full([n], v).add(1);
      for (let i = 0; i < n; i++) if (y.data[i] !== v + 1) { wrong++; break; }
    }
    const rows = Int32Array.from({ length: 64 }, (_, j) => (r * 7919 + j * 104729) % 60000);
    const g = x.take(rows, 0);
    for (let j = 0; j < 64; j++) for (let k = 0; k < 8; k++) if (g.data[j * 8 + k] !== rows[j]) { wrong++; break; }
    if (r % 10 === 9 && typeof gc === 'function') gc();
  }
  const kept = [big, mid, small].map((t) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).toString('base64'));
  return { wrong, kept: kept.every((s, i) => s === snapshot[i]), values: [big.data[999999], mid.data[50175], small.data[6]] };
}`;

// Memory that held garbage (NaN bytes in buffers of the results' sizes, freed and collected) reused for results:
// a + b, a + row and exp of 10^6 elements, a mini-batch gather and argmax, all kept alive together and then
// checked element by element against values computed here.
const garbage = `const nn = require(DIST); nn.setBackend('native');
const wait = () => new Promise((resolve) => setTimeout(resolve, 200));
(async () => {
  for (const bytes of [4000000, 4000000, 200704, 4000]) {
    for (let i = 0; i < 24; i++) Buffer.allocUnsafeSlow(bytes).fill(0xff);
  }
  await wait(); gc(); await wait();
  const a = nn.randn([1000000], { seed: 1 }), b = nn.randn([1000000], { seed: 2 }), row = nn.randn([1000], { seed: 3 });
  const x = new nn.Tensor(Float32Array.from({ length: 6000 * 784 }, (_, i) => i % 7919), [6000, 784]);
  const rows = Int32Array.from({ length: 64 }, (_, j) => (j * 104729) % 6000);
  const m = a.reshape([1000, 1000]);
  const results = [];
  for (let r = 0; r < 4; r++) results.push([a.add(b), m.add(row), a.exp(), x.take(rows, 0), m.argmax(1)]);
  const f = Math.fround;
  let wrong = 0;
  for (const [sum, shifted, e, batch, arg] of results) {
    for (let i = 0; i < 1000000; i++) {
      if (sum.data[i] !== f(a.data[i] + b.data[i]) || shifted.data[i] !== f(a.data[i] + row.data[i % 1000])) wrong++;
      if (!(Math.abs(e.data[i] - Math.exp(a.data[i])) <= 1e-6 * Math.exp(a.data[i]))) wrong++;
    }
    for (let j = 0; j < 64; j++) for (let k = 0; k < 784; k++) if (batch.data[j * 784 + k] !== (rows[j] * 784 + k) % 7919) wrong++;
    for (let r = 0; r < 1000; r++) {
      let best = 0;
      for (let k = 1; k < 1000; k++) if (a.data[r * 1000 + k] > a.data[r * 1000 + best]) best = k;
      if (arg.data[r] !== best) wrong++;
    }
  }
  console.log(JSON.stringify({ wrong }));
})();`;

describe.skipIf(!nativeAvailable())('result memory on the native backend', { timeout: 200_000 }, () => {
  it('results in memory that held garbage are written in full, and results kept together do not share memory', async () => {
    expect(lastJson(await runNode(garbage, {}, ['--expose-gc']))).toEqual({ wrong: 0 });
  });

  it('glibc malloc is tuned at load, unless NODENN_MALLOC_TUNING=0 or GLIBC_TUNABLES tunes malloc itself', async () => {
    const runs = await Promise.all([
      runNode(tuned),
      runNode(tuned, { NODENN_MALLOC_TUNING: '0' }),
      runNode(tuned, { NODENN_MALLOC_TUNING: 'off' }),
      runNode(tuned, { GLIBC_TUNABLES: 'glibc.malloc.trim_threshold=1048576' }),
      runNode(tuned, { GLIBC_TUNABLES: 'glibc.cpu.hwcaps=-AVX512F_Usable' }),
    ]);
    expect(runs.map(lastJson)).toEqual([glibc, false, false, false, glibc]);
  });

  it.skipIf(!glibc)('the memory of collected 4 MiB results is reused, not faulted in afresh from the system', async () => {
    const on = lastJson(await runNode(rounds, {}, ['--expose-gc'])) as { faults: number[]; bad: number };
    expect(on.bad).toBe(0);
    expect(on.faults[0]).toBeGreaterThan(512);  // the first round's memory is new
    expect(on.faults.slice(1).map((f) => f < 64)).toEqual([true, true]);
    // the control: without the tuning, glibc hands the 64 MiB freed at once back to the system (it trims the
    // heap's top beyond twice the largest block freed so far), and every round faults in all of it again
    const off = lastJson(await runNode(rounds, { NODENN_MALLOC_TUNING: '0' }, ['--expose-gc'])) as { faults: number[] };
    expect(off.faults.map((f) => f > 512)).toEqual([true, true, true]);
  });

  it('a live tensor keeps its bits while results of every size are made and collected', async () => {
    const r = await runNode(`${churn}
      console.log(JSON.stringify(churn(require(DIST), 50)));`, {}, ['--expose-gc']);
    expect(lastJson(r)).toEqual({ wrong: 0, kept: true, values: [1.75, 6, 1.5] });
  });

  it('three workers and the main thread churn results at once: every result right, every kept tensor intact', async () => {
    const r = await runNode(`${churn}
      const { Worker } = require('node:worker_threads');
      const src = 'const DIST = ' + JSON.stringify(DIST) + ';\\n' + churn.toString() +
        '\\nrequire("node:worker_threads").parentPort.postMessage(churn(require(DIST), 15));';
      const workers = [0, 1, 2].map(() => new Promise((resolve, reject) => {
        const w = new Worker(src, { eval: true });
        let result = null;
        w.on('message', (m) => { result = m; });
        w.on('error', reject);
        w.on('exit', (code) => resolve({ code, result }));
      }));
      const main = churn(require(DIST), 15);
      Promise.all(workers).then((ws) => console.log(JSON.stringify({ main, workers: ws })));`, {}, ['--expose-gc']);
    const ok = { wrong: 0, kept: true, values: [1.75, 6, 1.5] };
    expect(lastJson(r)).toEqual({ main: ok, workers: [0, 1, 2].map(() => ({ code: 0, result: ok })) });
  });
});
