// Dataset.fromIdx streams a data set larger than the heap: one epoch of fit() over 192 MiB of idx images in a
// process whose V8 heap is limited to ~80 MiB (--max-old-space-size=32), RSS sampled throughout
// (fixtures/stream-idx-fit.cjs; bench/stream-memory.js runs the same on 1 GiB with a 256 MiB heap).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, expect, it } from 'vitest';

const sanitized = /libasan/.test(process.env.LD_PRELOAD ?? '');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodenn-stream-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

it('one epoch over a file larger than the heap: every sample seen, RSS below the file size, the files deleted', () => {
  const r = spawnSync(process.execPath, ['--max-old-space-size=32', path.join(__dirname, 'fixtures', 'stream-idx-fit.cjs'),
    path.join(__dirname, '..', 'dist', 'cjs', 'index.js'), dir, '192'], { encoding: 'utf8', timeout: 300_000 });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  const m = JSON.parse(r.stdout) as { fileBytes: number; samples: number; seen: number; loss: number; rssBefore: number; peakRss: number; heapLimit: number };
  console.log(`streamed ${(m.fileBytes / 2 ** 20).toFixed(0)} MiB with a ${(m.heapLimit / 2 ** 20).toFixed(0)} MiB heap: ` +
    `peak RSS ${(m.peakRss / 2 ** 20).toFixed(0)} MiB (${(m.rssBefore / 2 ** 20).toFixed(0)} MiB before)`);
  expect(m.fileBytes).toBe(16 + 256_794 * 784);
  expect(m.fileBytes).toBeGreaterThan(2 * m.heapLimit);
  expect(m.seen).toBe(m.samples);
  expect(Number.isFinite(m.loss)).toBe(true);
  // holding the file, even as its bytes, would take more than its size; its float32 samples four times that. Not
  // under the sanitizers (npm run test:asan preloads libasan into the child too): ASan's shadow memory and its
  // quarantine of freed blocks (256 MiB by default) are RSS that says nothing about what nodenn holds.
  if (!sanitized) expect(m.peakRss).toBeLessThan(m.fileBytes);
  expect(fs.readdirSync(dir)).toEqual([]);
});
