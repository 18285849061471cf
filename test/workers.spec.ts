// The native addon under worker_threads: loaded and unloaded per environment, one pool shared by every thread,
// settings that belong to the thread that made them. Every case runs in a fresh `node` process against the
// compiled package (dist/, `npm run build:ts`), so a crash or a hang fails that case (exit status, signal,
// timeout) instead of taking vitest down.
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { nativeAddon, nativeAvailable } from '../src/backend/index';

const root = path.join(__dirname, '..');
const DIST = JSON.stringify(path.join(root, 'dist/cjs/index.js'));

interface Run { status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

/** Runs `code` in a fresh node process with `env` and no NODENN_* variables but NODENN_ADDON (the binary under test); killed after `timeoutMs`. */
function runNode(code: string, env: Record<string, string> = {}, timeoutMs = 100_000): Promise<Run> {
  const base: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('NODENN_') || k === 'NODENN_ADDON') base[k] = v;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', `const DIST = ${DIST};\n${code}`],
      { cwd: root, env: { ...base, ...env }, timeout: timeoutMs, killSignal: 'SIGKILL' });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (status, signal) => resolve({ status, signal, stdout: stdout.trim(), stderr }));
  });
}

/** A clean exit: status 0, no signal (a SIGKILL here is the timeout: a hang), and the last line of stdout. */
function expectClean(r: Run, lastLine: string): void {
  expect({ status: r.status, signal: r.signal, stderr: r.stderr.slice(-2000) })
    .toEqual({ status: 0, signal: null, stderr: expect.any(String) });
  expect(r.stdout.split('\n').at(-1)).toBe(lastLine);
}

// Runs a worker from source (require and DIST available), resolving with its exit code; messages go to onMessage.
const workerHelpers = `
const { Worker } = require('node:worker_threads');
function runWorker(src, options = {}, onMessage = () => {}) {
  return new Promise((resolve, reject) => {
    const w = new Worker('const DIST = ' + JSON.stringify(DIST) + ';\\n' + src, { eval: true, ...options });
    w.on('message', onMessage);
    w.on('error', reject);
    w.on('exit', resolve);
  });
}
`;

// 4 threads, then a 256^3 GEMM of ones: every element of C is 256. The worker exits while the pool threads it
// started may still be starting or spinning.
const gemmOnes = `{
  const nn = require(DIST);
  nn.setThreads(4);
  const A = new Float32Array(65536).fill(1), C = new Float32Array(65536);
  nn.getBackend().gemm(false, false, 256, 256, 256, 1, A, A, 0, C);
  if (!C.every((v) => v === 256)) throw new Error('wrong GEMM result ' + C[0]);
}`;

// A worker that trains a small MLP forever, posting 'training' after its first epoch.
const trainForever = `
const nn = require(DIST);
nn.setThreads(4);
const N = 512, D = 64;
const x = new nn.Tensor(new Float32Array(N * D).map((_, i) => Math.sin(i)), [N, D]);
const y = new Int32Array(N).map((_, i) => i % 10);
const net = new nn.Sequential([new nn.Dense(D, 128), new nn.ReLU(), new nn.Dense(128, 10)], { seed: 1 });
(async () => {
  for (let e = 0; ; e++) {
    await net.fit(x, y, { epochs: 1, batchSize: 64, optimizer: new nn.Adam({ lr: 1e-3 }) });
    if (e === 0) require('node:worker_threads').parentPort.postMessage('training');
  }
})();
`;

describe.skipIf(!nativeAvailable())('the native addon in worker threads', { timeout: 120_000 }, () => {
  it('workers-only use: 20 workers in turn load the addon and run a GEMM; the main thread never loads it', async () => {
    const r = await runNode(`${workerHelpers}
      (async () => {
        for (let i = 0; i < 20; i++) {
          const code = await runWorker(${JSON.stringify(gemmOnes)});
          if (code !== 0) throw new Error('worker ' + i + ' exited with ' + code);
        }
        console.log('done 20');
      })();`);
    expectClean(r, 'done 20');
  });

  it('worker churn: 24 workers, 4 at a time, each loading the addon and running GEMMs, main thread off the addon', async () => {
    const r = await runNode(`${workerHelpers}
      const src = ${JSON.stringify(gemmOnes)}.repeat(3);
      (async () => {
        let started = 0, finished = 0;
        async function lane() {
          while (started < 24) {
            started++;
            const code = await runWorker(src);
            if (code !== 0) throw new Error('a worker exited with ' + code);
            finished++;
          }
        }
        await Promise.all([lane(), lane(), lane(), lane()]);
        console.log('done ' + finished);
      })();`);
    expectClean(r, 'done 24');
  });

  it.each([['off', ''], ['on', 'require(DIST).getBackend();']])(
    'process.exit() while two workers train (main thread %s the addon) exits with status 0', async (_on, mainUse) => {
      const runs = await Promise.all([0, 1].map(() => runNode(`${workerHelpers}
        ${mainUse}
        let training = 0;
        for (let i = 0; i < 2; i++) {
          runWorker(${JSON.stringify(trainForever)}, {}, () => {
            if (++training === 2) { console.log('exiting'); process.exit(0); }
          });
        }`)));
      for (const r of runs) expectClean(r, 'exiting');
    });

  it('setThreads race: the main thread and 4 workers each set their own thread count and run a GEMM, 200 rounds in lock step', async () => {
    // Nobody touches the addon before the first round: its first load and the pool's first start race too.
    // Each thread checks every round that its GEMM is bitwise what it computed alone and that its own thread
    // count is the one it set.
    const round = `
      function rounds(id, sab) {
        const nn = require(DIST);
        const sync = new Int32Array(sab);
        const parties = 5;
        // A thread that never arrives (it crashed, or hangs in the addon) fails the run instead of hanging it.
        // The generation is checked again after every wake-up: the last arriver of round r can be descheduled
        // between its increment and its notify, and that late notify then wakes a thread already waiting in round
        // r + 1 (the lock step slipped by one thread until the last round: 1 run in ~16 on a loaded machine).
        function barrier(round) {
          const gen = Atomics.load(sync, 1);
          if (Atomics.add(sync, 0, 1) === parties - 1) {
            Atomics.store(sync, 0, 0);
            Atomics.add(sync, 1, 1);
            Atomics.notify(sync, 1);
            return;
          }
          const deadline = Date.now() + 30000;
          while (Atomics.load(sync, 1) === gen) {
            if (Atomics.wait(sync, 1, gen, Math.max(0, deadline - Date.now())) === 'timed-out') {
              throw new Error('thread ' + id + ', round ' + round + ': the other threads did not arrive within 30 s');
            }
          }
        }
        const M = 96, N = 80, K = 120;
        const A = new Float32Array(M * K).map((_, i) => Math.sin(i + id)), B = new Float32Array(K * N).map((_, i) => Math.cos(i));
        let expected = null, wrongC = 0, wrongThreads = 0;
        for (let r = 0; r < 200; r++) {
          barrier(r);
          const t = 1 + ((r * 5 + id) % 4);
          nn.setThreads(t);
          const C = new Float32Array(M * N);
          nn.getBackend().gemm(false, false, M, N, K, 1, A, B, 0, C);
          if (expected === null) expected = C;
          else if (!C.every((v, i) => Object.is(v, expected[i]))) wrongC++;
          if (nn.backendInfo().threads !== t) wrongThreads++;
        }
        return { id, wrongC, wrongThreads };
      }`;
    const r = await runNode(`${workerHelpers}
      ${round}
      const sab = new SharedArrayBuffer(8);
      const results = [];
      const workers = [1, 2, 3, 4].map((id) => runWorker(${JSON.stringify(round)} +
        '\\nrequire("node:worker_threads").parentPort.postMessage(rounds(' + id + ', require("node:worker_threads").workerData));',
        { workerData: sab }, (m) => results.push(m)).catch((e) => { console.error('worker ' + id + ': ' + e.stack); process.exit(2); }));
      results.push(rounds(0, sab));
      Promise.all(workers).then((codes) => {
        results.sort((a, b) => a.id - b.id);
        console.log(JSON.stringify({ codes, results }));
        console.log('done');
      });`);
    expectClean(r, 'done');
    const { codes, results } = JSON.parse(r.stdout.split('\n').at(-2) as string);
    expect(codes).toEqual([0, 0, 0, 0]);
    expect(results).toEqual([0, 1, 2, 3, 4].map((id) => ({ id, wrongC: 0, wrongThreads: 0 })));
  });

  it('each worker frees its GEMM scratch at exit: 16 workers (two at a time) with a 32 MB packed panel each grow RSS by < 250 MB', async () => {
    const r = await runNode(`${workerHelpers}
      require(DIST).getBackend();  // the main thread holds the addon: only the scratch can leak
      const src = \`
        const b = require(DIST).getBackend();
        const M = 8, N = 4096, K = 2048;
        const A = new Float32Array(M * K).fill(1), B = new Float32Array(K * N), C = new Float32Array(M * N);
        B[0] = 1;
        b.gemm(false, false, M, N, K, 1, A, B, 0, C);
        if (C[0] !== 1 || C[1] !== 0) throw new Error('wrong GEMM result');\`;
      const pair = async () => { for (const code of await Promise.all([runWorker(src), runWorker(src)])) if (code !== 0) throw new Error('worker failed'); };
      (async () => {
        await pair();
        const before = process.memoryUsage().rss;
        for (let i = 0; i < 8; i++) await pair();
        console.log(Math.round((process.memoryUsage().rss - before) / 2 ** 20));
      })();`);
    expect({ status: r.status, signal: r.signal }).toEqual({ status: 0, signal: null });
    expect(Number(r.stdout)).toBeLessThan(250);
  });
});

describe.skipIf(!nativeAvailable())('settings belong to the thread that makes them', { timeout: 120_000 }, () => {
  const best = nativeAvailable() ? nativeAddon().info().bestIsa : 'scalar';

  it.skipIf(best === 'scalar')('a worker loading nodenn, or calling setIsa/setThreads, leaves the main thread\'s ISA, threads and results alone', async () => {
    const r = await runNode(`${workerHelpers}
      const nn = require(DIST);
      nn.setIsa('scalar');
      nn.setThreads(2);
      const M = 64, N = 64, K = 300;
      const A = new Float64Array(M * K).map((_, i) => Math.sin(i) / 3), B = new Float64Array(K * N).map((_, i) => Math.cos(i) / 7);
      const gemm = () => { const C = new Float64Array(M * N); nn.getBackend().gemm(false, false, M, N, K, 1, A, B, 0, C); return C; };
      const before = gemm();
      const seen = [];
      runWorker(\`
        const nn = require(DIST);
        const { parentPort } = require('node:worker_threads');
        parentPort.postMessage(nn.backendInfo());
        nn.setThreads(1);
        nn.setIsa(${JSON.stringify(best)});
        parentPort.postMessage(nn.backendInfo());\`, {}, (m) => seen.push(m)).then((code) => {
          const after = gemm();
          const info = nn.backendInfo();
          console.log(JSON.stringify({ code, seen: seen.map((i) => [i.isa, i.threads]), main: [info.isa, info.threads],
            same: after.every((v, i) => Object.is(v, before[i])) }));
        });`);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      code: 0, seen: [[best, expect.any(Number)], [best, 1]], main: ['scalar', 2], same: true,
    });
  });

  it('a worker reads NODENN_ISA, NODENN_THREADS and NODENN_BACKEND from its own env option', async () => {
    const r = await runNode(`${workerHelpers}
      const nn = require(DIST);
      nn.setThreads(2);
      const report = \`
        const nn = require(DIST);
        const i = nn.backendInfo();
        require('node:worker_threads').parentPort.postMessage([i.name, i.isa, i.threads]);\`;
      const seen = {};
      (async () => {
        await runWorker(report, { env: { ...process.env, NODENN_ISA: 'scalar', NODENN_THREADS: '1' } }, (m) => { seen.scalar = m; });
        await runWorker(report, { env: { ...process.env, NODENN_BACKEND: 'ts' } }, (m) => { seen.ts = m; });
        const i = nn.backendInfo();
        seen.main = [i.name, i.isa, i.threads];
        console.log(JSON.stringify(seen));
      })();`);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      scalar: ['native', 'scalar', 1], ts: ['ts', null, 1], main: ['native', best, 2],
    });
  });
});
