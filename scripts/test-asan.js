#!/usr/bin/env node
// Runs the test suite against the ASan+UBSan build of the addon (`npm run build:asan` -> build-asan/).
// Node itself is not instrumented, so the ASan runtime is preloaded (LD_PRELOAD, the very libasan the addon
// links to) and leak detection is off (Node's own allocations at exit are not ours to judge). Any ASan or UBSan
// report aborts the process (halt_on_error, -fno-sanitize-recover=all), which fails the run. Each spec file runs in
// its own worker process (vitest.asan.config.mts): an abort ends the worker, which vitest reports as an error.
// Extra arguments go to vitest (e.g. a spec file). test/install.spec.ts is left out: it packs and compiles its
// own binaries with npm and node-gyp, and does not load this addon; so are the specs listed in notHere below.
'use strict';
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const addon = path.join(root, 'build-asan', 'Release', 'nodenn.node');
if (!fs.existsSync(addon)) {
  console.error(`test-asan: ${addon} is missing; run \`npm run build:asan\` first`);
  process.exit(2);
}
const ldd = execFileSync('ldd', [addon], { encoding: 'utf8' });
const libasan = /libasan\.so[.\d]*\s*=>\s*(\S+)/.exec(ldd);
if (!libasan || !/libubsan/.test(ldd)) {
  console.error(`test-asan: ${addon} is not linked against libasan and libubsan:\n${ldd}`);
  process.exit(2);
}
const env = {
  ...process.env,
  NODENN_ADDON: addon,
  // The specs' ts rows never enter the addon: the sanitizers have nothing to watch there.
  NODENN_TEST_ROWS: 'native',
  LD_PRELOAD: libasan[1],
  ASAN_OPTIONS: 'detect_leaks=0:halt_on_error=1:abort_on_error=1:detect_stack_use_after_return=0:allocator_may_return_null=1',
  UBSAN_OPTIONS: 'halt_on_error=1:abort_on_error=1:print_stacktrace=1',
};
// The addon really is the instrumented one, with the sanitizer runtimes in the process.
const probe = spawnSync(process.execPath, ['-e', `
  const nn = require(${JSON.stringify(path.join(root, 'dist/cjs/index.js'))});
  const backend = nn.backendInfo().name;
  const maps = require('fs').readFileSync('/proc/self/maps', 'utf8');
  console.log(JSON.stringify({ backend, asan: /libasan/.test(maps), ubsan: /libubsan/.test(maps),
    addon: maps.includes(${JSON.stringify(addon)}) }));`], { env, encoding: 'utf8' });
const seen = probe.status === 0 ? JSON.parse(probe.stdout) : null;
if (!seen || !seen.asan || !seen.ubsan || !seen.addon || seen.backend !== 'native') {
  console.error(`test-asan: the instrumented addon did not load: ${probe.stdout}${probe.stderr}`);
  process.exit(1);
}
const vitest = path.join(root, 'node_modules', 'vitest', 'vitest.mjs');
// Left out as well: the specs that never reach the addon with inputs of their own — file formats and atomic writes
// (pure TS), and the CLI, examples, process-environment, event-loop and streaming runs, which train through the
// same kernel calls that the layer, network and model specs make directly (and take minutes under ASan).
// Then the specs of TS code that makes Tensors or checks arguments and files, and calls no kernel or only the
// kernels of a small forward pass or fit() that the layer, ops, network and train-loop specs run here: the data
// pipeline and its checks (batches, dataset, csv, toy), the readers' and writers' word-for-word checks (torch,
// pickle, tfjs, onnx export, import and trace, mnist files, io-errors), Tensor's and initBias's argument checks,
// the learning-rate schedules, and the leak check's own ability to fail (bench/leak.js, which `npm run leak` runs
// in CI). Each costs two seconds of process start and imports under ASan, for nothing it could report.
const notHere = ['install', 'cli', 'cli-augment', 'cli-interop', 'examples', 'process', 'event-loop', 'stream-memory',
  'mnist', 'atomic-save', 'atomic-checks', 'safetensors', 'safetensors-checks', 'file-fuzz', 'plot', 'csv',
  'batches', 'batches-checks', 'dataset-checks', 'csv-checks', 'toy', 'torch-checks', 'pickle-checks', 'tfjs-checks',
  'onnx-checks', 'onnx-import-checks', 'onnx-trace-checks', 'mnist-checks', 'io-errors', 'tensor-errors', 'init',
  'schedules', 'leak'];
// vitest.asan.config.mts: the base config (two spec files at a time, each in its own process) and the setup file
// test/shared-process-setup.ts. test/workers.spec.ts then runs alone, on one worker: its setThreads race, 200 rounds in lock step with a 30 s limit
// per round, once waited over 30 s for a round under ASan beside another file. With arguments (e.g. a spec file) the
// run is the one vitest run of old, one file at a time.
const exclude = notHere.flatMap((name) => ['--exclude', `test/${name}.spec.ts`]);
const run = (args) => {
  const r = spawnSync(process.execPath, [vitest, 'run', '--config', 'vitest.asan.config.mts', ...exclude, ...args],
    { env, stdio: 'inherit', cwd: root });
  return r.status === null ? 1 : r.status;
};
const extra = process.argv.slice(2);
if (extra.length > 0) process.exit(run(['--maxWorkers=1', ...extra]));
const both = run(['--exclude', 'test/workers.spec.ts']);
const alone = run(['--maxWorkers=1', 'test/workers.spec.ts']);
process.exit(both || alone);
