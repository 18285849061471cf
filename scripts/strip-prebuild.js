#!/usr/bin/env node
// prebuildify's --strip-bin: keeps an unstripped copy of the binary (build-prebuild/<platform>-<arch>/, not
// shipped) for scripts/check-portability.js, whose per-function check needs the symbols, then runs `strip`
// with prebuildify's arguments. The shipped and the kept binary have the same .text (the check verifies it).
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const args = process.argv.slice(2);
const file = args.find((a) => !a.startsWith('-'));
if (!file) {
  console.error('strip-prebuild: no file given');
  process.exit(2);
}
// The target: PREBUILD_ARCH=arm64 when cross-compiling on x86-64 (npm run build:prebuilds:arm64; prebuildify reads it
// from its environment, which this script inherits), else this machine's.
const target = `${process.env.PREBUILD_PLATFORM || process.platform}-${process.env.PREBUILD_ARCH || process.arch}`;
const keep = path.join(process.cwd(), 'build-prebuild', target);
fs.mkdirSync(keep, { recursive: true });
// Copy rather than link: strip may rewrite the file in place, and node-gyp hard-links its outputs.
fs.copyFileSync(file, path.join(keep, path.basename(file)));
const r = spawnSync(process.env.NODENN_STRIP || 'strip', args, { stdio: 'inherit' });
process.exit(r.status === null ? 1 : r.status);
