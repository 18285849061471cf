// Peak RSS of one epoch of fit() streaming 1 GiB of idx images (Dataset.fromIdx) in a process with a 256 MiB heap:
// node bench/stream-memory.js [MiB] [dir]. The files are written to dir (default the OS temp dir) and deleted.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const mib = process.argv[2] ?? '1024';
const dir = fs.mkdtempSync(path.join(process.argv[3] ?? os.tmpdir(), 'nodenn-stream-'));
try {
  const r = spawnSync(process.execPath, ['--max-old-space-size=256', path.join(__dirname, '..', 'test', 'fixtures', 'stream-idx-fit.cjs'),
    path.join(__dirname, '..', 'dist', 'cjs', 'index.js'), dir, mib], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) process.exit(r.status ?? 1);
  const m = JSON.parse(r.stdout);
  const MiB = (b) => `${(b / 2 ** 20).toFixed(0)} MiB`;
  console.log(`streamed ${MiB(m.fileBytes)} (${m.samples} images) through one epoch in ${m.seconds.toFixed(1)} s with a ` +
    `${MiB(m.heapLimit)} heap: peak RSS ${MiB(m.peakRss)} (${MiB(m.rssBefore)} before the epoch)`);
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
