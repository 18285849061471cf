#!/usr/bin/env node
// clang-format (the npm package's binary, so every machine runs the same version) over the C++ sources in
// native/, with the committed .clang-format. The generated native/*.gen.h are left out: scripts/gen-kernels.js
// lays them out, and a test checks that they match its output.
//   node scripts/clang-format.js          rewrites the files in place (npm run format)
//   node scripts/clang-format.js --check  changes nothing; lists each difference and fails if any (npm run lint)
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { getNativeBinary } = require('clang-format');

const root = path.join(__dirname, '..');
const check = process.argv.includes('--check');

function sources(dir) {
  return fs.readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = path.posix.join(dir, e.name);
    if (e.isDirectory()) return sources(rel);
    return /\.(cc|h)$/.test(e.name) && !e.name.endsWith('.gen.h') ? [rel] : [];
  });
}

const files = sources('native').sort();
const args = check ? ['--dry-run', '--Werror', ...files] : ['-i', ...files];
const r = spawnSync(getNativeBinary(), ['--style=file', ...args], { cwd: root, stdio: 'inherit' });
if (r.error) throw r.error;
if (r.status !== 0 && check) console.error('clang-format: native/ is not formatted; `npm run format` formats it');
process.exit(r.status ?? 1);
