// Model save is atomic: a child process saves a network over the same file again and again (each save with its
// own generation number, every weight set to that number) and is killed with SIGKILL at a random moment; then
// the file must load (Sequential.load) and hold exactly one whole generation. Repeated many times, the kills
// land at every stage of save(): encoding, writing the temporary file, fsync, rename.
// NODENN_KILL_ROUNDS sets the number of kills (CI default below).
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Sequential } from '../src/index';
import { loadSafetensors } from '../src/io/safetensors';
import { rng } from './helpers';

const ROUNDS = Number(process.env.NODENN_KILL_ROUNDS || 24);
const root = path.join(__dirname, '..');

// A few MB of weights, so that a save spends real time writing.
const child = `
const nn = require(${JSON.stringify(path.join(root, 'dist/cjs/index.js'))});
const file = process.argv[1];
const net = new nn.Sequential([new nn.Dense(256, 1024), new nn.ReLU(), new nn.Dense(1024, 512)], { seed: 1 });
(async () => {
  for (let g = Number(process.argv[2]); ; g++) {
    for (const p of net.parameters()) p.param.data.fill(g);
    await net.save(file, { metadata: { generation: String(g) } });
    if (g === Number(process.argv[2])) process.stdout.write('saved\\n');
  }
})();
`;

function runAndKill(file: string, firstGeneration: number, delayMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['-e', child, file, String(firstGeneration)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => { err += d; });
    p.stdout.once('data', () => setTimeout(() => p.kill('SIGKILL'), delayMs));
    p.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`child exited ${code}: ${err}`))));
  });
}

describe('atomic model save under SIGKILL', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodenn-kill-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it(`${ROUNDS} kills at random moments of save(): the file always loads whole`, async () => {
    const r = rng(99);
    const seen = new Set<number>();
    // Four files side by side, each with its own sequence of killed savers.
    const lanes = [0, 1, 2, 3].map((i) => ({ file: path.join(dir, `model${i}.safetensors`), generation: 1 }));
    for (let round = 0; round < ROUNDS; round += lanes.length) {
      await Promise.all(lanes.map((l) => runAndKill(l.file, l.generation, Math.floor(r() * 60))));
      for (const lane of lanes) {
        const net = await Sequential.load(lane.file); // throws on a torn file
        const g = Number((await loadSafetensors(lane.file)).metadata.generation);
        expect(g).toBeGreaterThanOrEqual(lane.generation);
        for (const { name, param } of net.parameters()) {
          const bad = param.data.findIndex((v) => v !== g);
          expect(bad, `${name}[${bad}] is not generation ${g}`).toBe(-1);
        }
        seen.add(g - lane.generation); // saves completed after the first one in this round
        lane.generation = g + 1;
      }
    }
    // The kills did not all land at the same point: different numbers of completed saves per round.
    expect(seen.size).toBeGreaterThan(1);
    // Temporary files of killed saves stay behind (nothing runs after SIGKILL), never under a model's name.
    const stray = fs.readdirSync(dir).filter((f) => !/^model\d\.safetensors$/.test(f));
    expect(stray.every((f) => /^\.model\d\.safetensors\.\d+\.[0-9a-f]+\.tmp$/.test(f))).toBe(true);
    expect(stray.length, "some kills landed while a temporary file was being written").toBeGreaterThan(0);
  }, 300_000);
});
