// The leak check in CI (bench/leak.js, `npm run leak`) must be able to fail: here it is given a network that
// deliberately retains memory every step, and it has to report the growth and exit 1. (The clean run is the
// last step of .ci/run.)
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const script = path.join(__dirname, '..', 'bench', 'leak.js');

function run(args: string[]): { code: number; result: { growth: number; limit: number; ok: boolean; leakKiBPerStep: number } } {
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
    // 2,000 measured steps x 16 KiB = ~31 MiB on a ~65 MiB process.
    expect(result.growth).toBeGreaterThan(0.25);
    expect(result.ok).toBe(false);
    expect(code).toBe(1);
  }, 60_000);
});
