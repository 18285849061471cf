// The `nodenn` command, spawned as users run it (dist/cjs/cli.js, built by pretest), on a subset of MNIST.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asciiImage, formatDuration, main, progressLine, type Output } from '../src/cli';
import { loadSafetensors } from '../src/io/safetensors';

const root = path.join(__dirname, '..');
const cli = path.join(root, 'dist', 'cjs', 'cli.js');

function run(args: string[], env: Record<string, string> = {}): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [cli, ...args], {
    cwd: root, encoding: 'utf8', timeout: 120_000, env: { ...process.env, NODENN_DATA: '', ...env },
  });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

function capture(isTTY: boolean): Output & { text: () => string; errText: () => string } {
  let out = '', err = '';
  return { out: (s) => { out += s; }, err: (s) => { err += s; }, isTTY, columns: 120, text: () => out, errText: () => err };
}

let dir: string;
beforeAll(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodenn-cli-')); });
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('nodenn CLI', () => {
  it('--help and --version; no command prints the usage and exits 2', () => {
    const h = run(['--help']);
    expect(h.code).toBe(0);
    expect(h.out).toContain('nodenn train mnist|fashion');
    expect(h.out).toContain('--batch-size');
    const v = run(['--version']);
    expect(v.code).toBe(0);
    expect(v.out.trim()).toMatch(/^\d+\.\d+\.\d+/);
    expect(run([]).code).toBe(2);
  });

  it('train (subset, 1 epoch) → eval → predict, with the model file and the plot', () => {
    const model = path.join(dir, 'm.safetensors');
    const plot = path.join(dir, 'curves.svg');
    const t = run(['train', 'mnist', '--limit', '3000', '--epochs', '1', '--batch-size', '32', '--seed', '3', '--out', model, '--plot', plot]);
    expect(t.err).toBe('');
    expect(t.code).toBe(0);
    // Not a terminal: one line per epoch, no carriage returns.
    expect(t.out).not.toContain('\r');
    expect(t.out).toMatch(/data: 2700 train \+ 300 validation, 3000 test/);
    expect(t.out).toMatch(/^epoch 1\/1 {2}loss \d\.\d{4} {2}acc \d+\.\d\d% {2}val_loss \d\.\d{4} {2}val_acc \d+\.\d\d% /m);
    const acc = Number(/test accuracy (\d+\.\d\d)%/.exec(t.out)![1]);
    expect(acc).toBeGreaterThan(75);
    expect(t.out).toMatch(/wall time \d+\.\d\ds \(data \d+\.\d\ds, training \d+\.\d\ds\)/);
    expect(fs.readFileSync(plot, 'utf8')).toMatch(/^<\?xml[\s\S]*<polyline[\s\S]*<\/svg>\n$/);

    const e = run(['eval', model, '--limit', '3000']);
    expect(e.code).toBe(0);
    // The saved model reproduces the accuracy measured right after training, on the same 3000 test images.
    expect(e.out).toContain(`mnist test accuracy ${acc.toFixed(2)}%`);

    const p = run(['predict', model, '--index', '0']);
    expect(p.code).toBe(0);
    expect(p.out).toMatch(/test image 0: predicted \d with probability \d+\.\d%, label 7 [✓✗]/);
    expect(p.out.split('\n').filter((l) => /[@%#]/.test(l)).length).toBeGreaterThan(10);
  });

  it('the model file is safetensors with the architecture and the run in its metadata', async () => {
    const model = path.join(dir, 'm.safetensors');
    const f = await loadSafetensors(model);
    expect(Object.keys(f.tensors)).toEqual(['0.weight', '0.bias', '2.weight', '2.bias', '4.weight', '4.bias']);
    expect(f.tensors['0.weight'].shape).toEqual([784, 256]);
    expect(Object.values(f.dtypes).every((d) => d === 'F32')).toBe(true);
    expect(JSON.parse(f.metadata['nodenn.architecture']).layers.map((l: { type: string }) => l.type))
      .toEqual(['Dense', 'ReLU', 'Dense', 'ReLU', 'Dense']);
    expect(f.metadata['nodenn.dataset']).toBe('mnist');
    expect(JSON.parse(f.metadata['nodenn.input_shape'])).toEqual([784]);
  });

  it('a terminal gets a live progress bar', async () => {
    const io = capture(true);
    const code = await main(['train', 'mnist', '--limit', '1200', '--epochs', '1', '--batch-size', '10', '--validation', '0'], io);
    expect(io.errText()).toBe('');
    expect(code).toBe(0);
    const text = io.text();
    expect(text).toContain('\r\x1b[2K');
    expect(text).toMatch(/epoch 1\/1 \[[=> ]+\] \d+\/120 {2}loss \d\.\d{4} {2}acc \d+\.\d\d% {2}[\d,]+ samples\/s {2}ETA /);
    expect(text).toMatch(/\r\x1b\[2Kepoch 1\/1 {2}loss .* samples\/s\n/);
    expect(text).not.toContain('val_acc');
  });

  it.each([
    [['train', 'mnist', '--model', 'rnn'], /--model must be 'mlp' or 'cnn'/],
    [['train', 'cifar'], /data set must be 'mnist' or 'fashion'/],
    [['train', 'mnist', '--epochs', '0'], /--epochs must be an integer ≥ 1, got '0'/],
    [['train', 'mnist', '--epochs', '2.5'], /--epochs must be an integer/],
    [['train', 'mnist', '--lr', '0'], /--lr must be a positive number/],
    [['train', 'mnist', '--optimizer', 'lion'], /--optimizer must be/],
    [['train', 'mnist', '--backend', 'gpu'], /--backend must be 'native' or 'ts'/],
    [['train', 'mnist', '--limit', '100', '--validation', '100'], /leaves no training samples/],
    [['train', 'mnist', '--frobnicate'], /Unknown option '--frobnicate'/],
    [['eval'], /a model file is needed/],
    [['eval', '/no/such/model.safetensors'], /no such file/],
    [['predict', 'x.safetensors'], /predict needs --index/],
    [['dance'], /unknown command 'dance'/],
  ])('usage error %j → exit 2 and a clear message', async (args, message) => {
    const io = capture(false);
    expect(await main(args, io)).toBe(2);
    expect(io.errText()).toMatch(message);
    expect(io.errText()).toContain("Run 'nodenn --help'");
  });

  it('bench runs bench/run.js with its arguments', () => {
    // one small workload on nodenn's engines keeps this fast; the whole bench is npm run bench
    const r = run(['bench', '--quick', '--only', 'gemm-100x100x784-f32', '--engines', 'native,ts']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^\| GEMM 100×784·784×100 float32 \| ts \| [\d.]+ GFLOP\/s \|/m);
  });

  it('a corrupted model file is refused with exit 1 and the reason', () => {
    const bad = path.join(dir, 'bad.safetensors');
    const good = fs.readFileSync(path.join(dir, 'm.safetensors'));
    const b = Buffer.from(good);
    b.writeBigUInt64LE(BigInt(good.length), 0);
    fs.writeFileSync(bad, b);
    const r = run(['eval', bad]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/bad\.safetensors: header length \d+ runs past the end/);
  });

  it('helpers: progress line, durations, ASCII art', () => {
    const line = progressLine({ epoch: 2, epochs: 5, batch: 50, batches: 100, loss: 0.1234567, accuracy: 0.9512,
      samplesPerSec: 31234.4, eta: 75, columns: 125 });
    expect(line).toMatch(/^epoch 2\/5 \[=+> +\] 50\/100 {2}loss 0\.1235 {2}acc 95\.12% {2}31,234 samples\/s {2}ETA 1m15s$/);
    expect(line.length).toBeLessThanOrEqual(125);
    expect(/\[([^\]]*)\]/.exec(line)![1]).toHaveLength(30);
    const bar = /\[([^\]]*)\]/.exec(line)![1];
    expect(bar.replace(/ /g, '').length).toBe(bar.length / 2);
    expect(formatDuration(3.21)).toBe('3.2s');
    expect(formatDuration(42)).toBe('42s');
    expect(formatDuration(125)).toBe('2m05s');
    const img = new Float32Array(4).fill(0);
    img[3] = 1;
    img[1] = 0.5;
    expect(asciiImage(img, 2, 2)).toBe('  ++\n  @@');
  });
});
