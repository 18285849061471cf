// The leak check in CI (bench/leak.js, `npm run leak`) must be able to fail: here it is given a network that
// deliberately retains memory every step, and it has to report the growth and exit 1. (The clean run is the
// last step of .ci/run.)
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const script = path.join(__dirname, '..', 'bench', 'leak.js');

interface LeakResult {
  growth: number; limit: number; ok: boolean; leakKiBPerStep: number; rssMedianFirstMiB: number; rssMedianLastMiB: number;
}

function run(args: string[]): { code: number; result: LeakResult } {
  try {
    const out = execFileSync(process.execPath, ['--expose-gc', script, ...args], { encoding: 'utf8' });
    return { code: 0, result: JSON.parse(out) };
  } catch (e) {
    const err = e as { status: number; stdout: string };
    return { code: err.status, result: JSON.parse(err.stdout) };
  }
}

describe('bench/leak.js', () => {
  it('catches 16 KiB retained per step: reports the growth past the limit and exits 1', () => {
    const { code, result } = run(['--steps', '3000', '--model', 'mlp', '--leak-kib', '16']);
    expect(result.leakKiBPerStep).toBe(16);
    expect(result.ok).toBe(false);
    expect(code).toBe(1);
    expect(result.growth).toBeGreaterThan(result.limit);
    // Between the medians of the first and last five samples (steps ~1,200 and ~2,800) 1,600 steps x 16 KiB = 25 MiB
    // were retained: the growth is measured in MiB, whatever the size of the process around it.
    expect(result.rssMedianLastMiB - result.rssMedianFirstMiB).toBeGreaterThan(12.5);
  }, 300_000);
});
