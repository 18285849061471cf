// The `nodenn` command, spawned as users run it (dist/cjs/cli.js, built by pretest), on a subset of MNIST.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { backendInfo, nativeAddon, nativeAvailable, setBackend, setThreads } from '../src/backend/index';
import { FASHION_CLASSES, asciiImage, benchCommand, formatDuration, main, progressLine, streamOutput, usageLine, type Output, type OutStream } from '../src/cli';
import { loadMnist, mnistDataPackageDir, SYSTEM_DIRS } from '../src/data/mnist';
import { saveModelFile } from '../src/io/model';
import { loadSafetensors, saveSafetensors } from '../src/io/safetensors';
import { Conv2D, Dense, Flatten, MaxPool2D, ReLU } from '../src/layers/index';
import { Sequential } from '../src/network';
import { Tensor } from '../src/tensor';

const root = path.join(__dirname, '..');
const cli = path.join(root, 'dist', 'cjs', 'cli.js');

function run(args: string[], env: Record<string, string> = {}): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [cli, ...args], {
    cwd: root, encoding: 'utf8', timeout: 120_000, env: { ...process.env, NODENN_DATA: '', ...env },
  });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

/** main() in this process: what run() gives, without starting node and loading nodenn again. */
async function inProcess(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = capture(false);
  const code = await main(args, io);
  return { code, out: io.text(), err: io.errText() };
}

function capture(isTTY: boolean): Output & { text: () => string; errText: () => string } {
  let out = '', err = '';
  return { out: (s) => { out += s; }, err: (s) => { err += s; }, isTTY, columns: 120, text: () => out, errText: () => err };
}

let dir: string;
beforeAll(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodenn-cli-')); });
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

interface Trained { model: string; plot: string; run: { code: number; out: string; err: string } }
let trained: Trained | undefined;
/**
 * The model `nodenn train` writes (a 3000-image subset, 1 epoch), trained by whichever test needs it first, so that
 * every test runs alone (vitest -t) or in any order.
 */
function trainedModel(): Trained {
  if (!trained) {
    const model = path.join(dir, 'm.safetensors'), plot = path.join(dir, 'curves.svg');
    const r = run(['train', 'mnist', '--limit', '3000', '--epochs', '1', '--batch-size', '32', '--seed', '3', '--out', model, '--plot', plot]);
    if (r.code !== 0) throw new Error(`nodenn train failed (${r.code}): ${r.err}`);
    trained = { model, plot, run: r };
  }
  return trained;
}

/**
 * Spawns `nodenn train ...` and sends `signal` once training is under way: after the first epoch line, which the
 * CLI prints from inside fit(), after its signal handlers are installed (a fixed delay after the start could land
 * before them on a slow machine, and the default action would kill the process).
 */
async function trainAndSignal(signal: 'SIGINT' | 'SIGTERM', model: string, again = false) {
  // 2,700 training images a epoch: the first epoch line comes in about a second; 1000 epochs never finish first.
  const child = spawn(process.execPath, [cli, 'train', 'mnist', '--limit', '3000', '--batch-size', '4', '--epochs', '1000', '--out', model],
    { cwd: root, env: { ...process.env, NODENN_DATA: '' } });
  let out = '', err = '', sent = false, sentAgain = false;
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    if (!sent && /^epoch 1\/1000 /m.test(out)) {
      sent = true;  // one signal: a second one quits at once
      child.kill(signal);
    } else if (again && !sentAgain && out.includes('model saved to ')) {
      sentAgain = true;  // the second, once the model trained so far is saved: during its test
      child.kill(signal);
    }
  });
  child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
  const [code, sig] = await new Promise<[number | null, string | null]>((resolve) => child.on('close', (c, s) => resolve([c, s])));
  return { out, err, code, signal: sig, sent, sentAgain };
}

const fashionDir = SYSTEM_DIRS.fashion.find((d) => fs.existsSync(path.join(d, 'train-labels-idx1-ubyte.gz')));

describe('nodenn CLI', () => {
  it('--help and --version; no command prints the usage and exits 2', () => {
    const h = run(['--help']);
    expect(h.code).toBe(0);
    expect(h.out).toContain('nodenn train mnist|fashion');
    expect(h.out).toContain('--batch-size');
    const v = run(['--version']);
    expect(v.code).toBe(0);
    expect(v.out.trim()).toMatch(/^\d+\.\d+\.\d+/);
    const none = run([]);
    expect(none.code).toBe(2);
    expect(none.out).toBe('');
    expect(none.err).toContain('Usage:');
  });

  it('train (subset, 1 epoch) → eval → predict, with the model file and the plot', () => {
    const { model, plot, run: t } = trainedModel();
    expect(t.err).toBe('');
    expect(t.code).toBe(0);
    // Not a terminal: one line per epoch, no carriage returns.
    expect(t.out).not.toContain('\r');
    expect(t.out).toMatch(/data: 2700 train \+ 300 validation, 3000 test/);
    expect(t.out).toMatch(/^epoch 1\/1 {2}loss \d\.\d{4} {2}acc \d+\.\d\d% {2}val_loss \d\.\d{4} {2}val_acc \d+\.\d\d% /m);
    const acc = Number(/test accuracy (\d+\.\d\d)%/.exec(t.out)![1]);
    expect(acc).toBeGreaterThan(75);
    expect(t.out).toMatch(/wall time \d+\.\d\ds \(data \d+\.\d\ds, training \d+\.\d\ds; cpu \d+\.\d\ds\)/);
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

  it('predict: the top 3 classes, most probable first, as the saved model computes them', async () => {
    const { model } = trainedModel();
    const io = capture(false);
    expect(await main(['predict', model, '--index', '8'], io)).toBe(0);
    // the saved model's probabilities for test image 8: the softmax of its logits
    const net = await Sequential.load(model);
    const { test } = await loadMnist({ limit: { train: 1, test: 9 } });
    net.eval();
    const logits = Array.from(net.forward(new Tensor(test.x.data.slice(8 * 784, 9 * 784), [1, 784])).data);
    const top = Math.max(...logits), e = logits.map((z) => Math.exp(z - top)), total = e.reduce((a, b) => a + b, 0);
    const order = e.map((v, k) => [100 * v / total, k]).sort((a, b) => b[0] - a[0]).slice(0, 3);
    const m = /^top 3: (\d) (\d+\.\d)%, (\d) (\d+\.\d)%, (\d) (\d+\.\d)%$/m.exec(io.text());
    expect(m, io.text()).not.toBeNull();
    expect([m![1], m![3], m![5]].map(Number)).toEqual(order.map(([, k]) => k));
    [m![2], m![4], m![6]].forEach((shown, i) => expect(Math.abs(Number(shown) - order[i][0])).toBeLessThanOrEqual(0.051));
    expect(io.text()).toMatch(new RegExp(`test image 8: predicted ${order[0][1]} with probability ${m![2]}%, label ${test.y[8]} [✓✗]`));
  });

  it('--model cnn: trains on images (N, 1, 28, 28), saves, and eval reads the input shape back', () => {
    const model = path.join(dir, 'cnn.safetensors');
    const t = run(['train', 'mnist', '--model', 'cnn', '--limit', '1000', '--epochs', '1', '--batch-size', '32', '--out', model]);
    expect(t.err).toBe('');
    expect(t.code).toBe(0);
    const acc = Number(/test accuracy (\d+\.\d\d)%/.exec(t.out)![1]);
    expect(acc).toBeGreaterThan(40);
    const e = run(['eval', model, '--limit', '1000']);
    expect(e.code).toBe(0);
    expect(e.out).toContain(`mnist test accuracy ${acc.toFixed(2)}%`);
  });

  it('the model file is safetensors with the architecture and the run in its metadata', async () => {
    const { model } = trainedModel();
    const f = await loadSafetensors(model);
    expect(Object.keys(f.tensors)).toEqual(['0.weight', '0.bias', '2.weight', '2.bias', '4.weight', '4.bias']);
    expect(f.tensors['0.weight'].shape).toEqual([784, 256]);
    expect(Object.values(f.dtypes).every((d) => d === 'F32')).toBe(true);
    expect(JSON.parse(f.metadata['nodenn.architecture']).layers.map((l: { type: string }) => l.type))
      .toEqual(['Dense', 'ReLU', 'Dense', 'ReLU', 'Dense']);
    expect(f.metadata['nodenn.dataset']).toBe('mnist');
    expect(JSON.parse(f.metadata['nodenn.input_shape'])).toEqual([784]);
    expect(f.metadata['nodenn.loss']).toBe('softmaxCrossEntropy');
    expect(JSON.parse(f.metadata['nodenn.class_names'])).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
  });

  it('Ctrl-C stops after the current batch and saves before testing; a second Ctrl-C quits; exit 130', async () => {
    const model = path.join(dir, 'interrupted.safetensors');
    const r = await trainAndSignal('SIGINT', model, true);
    expect([r.sent, r.sentAgain]).toEqual([true, true]);
    expect(r.err).toBe('');
    // saved right after the interruption, before any test line (the second Ctrl-C may then end the test)
    expect(r.out).toMatch(/interrupted by SIGINT: fit\(\) was aborted before epoch \d+, batch \d+; testing the model as it is/);
    expect(r.out).toContain(`testing the model as it is\nmodel saved to ${model}\n`);
    expect([r.code, r.signal]).toEqual([130, null]);
    expect((await loadSafetensors(model)).metadata['nodenn.dataset']).toBe('mnist');
  });

  it('a terminal gets a live progress bar', async () => {
    const io = capture(true);
    const code = await main(['train', 'mnist', '--limit', '1200', '--epochs', '1', '--batch-size', '10', '--validation', '0'], io);
    expect(io.errText()).toBe('');
    expect(code).toBe(0);
    const text = io.text();
    expect(text).toContain('\r\x1b[2K');
    expect(text).toMatch(/epoch 1\/1 \[[=> ]+\] \d+\/120 {2}loss \d\.\d{4} {2}acc \d+\.\d\d% {2}[\d,]+ samples\/s {2}ETA /);
    // eslint-disable-next-line no-control-regex -- the progress line's ANSI erase-line sequence
    expect(text).toMatch(/\r\x1b\[2Kepoch 1\/1 {2}loss .* samples\/s\n/);
    expect(text).not.toContain('val_acc');
  });

  it.each([
    [['train', 'mnist', '--model', 'rnn'], /--model must be 'mlp' or 'cnn'/],
    [['train', 'cifar'], /data set must be 'mnist' or 'fashion'/],
    [['train', 'mnist', '--epochs', '0'], /--epochs must be an integer ≥ 1, got '0'/],
    [['train', 'mnist', '--epochs', '2.5'], /--epochs must be an integer/],
    [['train', 'mnist', '--lr', '0'], /--lr must be a positive number/],
    [['train', 'mnist', '--label-smoothing', '1.5'], /--label-smoothing must be a non-negative number from 0 to 1, got '1\.5'/],
    [['train', 'mnist', '--label-smoothing=-0.1'], /--label-smoothing must be a non-negative number from 0 to 1, got '-0\.1'/],
    [['eval', 'm.safetensors', '--label-smoothing', '0.1'], /eval does not take --label-smoothing \(an option of train\)/],
    [['train', 'mnist', '--optimizer', 'lion'], /--optimizer must be/],
    [['train', 'mnist', '--backend', 'gpu'], /--backend must be 'native' or 'ts'/],
    [['train', 'mnist', '--limit', '100', '--validation', '100'], /leaves no training samples/],
    [['train', 'mnist', '--frobnicate'], /unknown option '--frobnicate'/],
    [['eval'], /a model file is needed/],
    [['eval', '/no/such/model.safetensors'], /no such file/],
    [['predict', 'x.safetensors'], /predict needs --index/],
    [['dance'], /unknown command 'dance'/],
    [['train', 'mnist', '--threads', '100000'], /--threads must be an integer from 1 to \d+, got '100000'/],
    [['train', 'mnist', '--threads', '0'], /--threads must be an integer from 1 to \d+, got '0'/],
    [['eval', 'x.safetensors', '--threads', '2000'], /--threads must be an integer from 1 to \d+, got '2000'/],
  ])('usage error %j → exit 2 and a clear message', async (args, message) => {
    const io = capture(false);
    expect(await main(args, io)).toBe(2);
    expect(io.errText()).toMatch(message);
    expect(io.errText()).toMatch(/\nUsage: nodenn .*\nRun 'nodenn --help' for the options\.\n$/);
  });

  it.each([
    [['train', 'mnist', '--frobnicate'], "unknown option '--frobnicate'", 'train'],
    [['train', '--epoch', '3'], "unknown option '--epoch' (did you mean --epochs?)", 'train'],
    [['train', '--batchsize', '3'], "unknown option '--batchsize' (did you mean --batch-size?)", 'train'],
    [['eval', 'm.safetensors', '-x'], "unknown option '-x'", 'eval'],
    [['train', 'mnist', '--epochs'], '--epochs needs a value: --epochs N', 'train'],
    [['train', '--epochs', '--lr', '0.1'], '--epochs needs a value: --epochs N', 'train'],
    [['predict', 'm.safetensors', '--index'], '--index needs a value: --index I', 'predict'],
    [['train', '--quiet=yes'], "--quiet takes no value, got '--quiet=yes'", 'train'],
    // a negative number after the option is its value (util.parseArgs alone throws its own TypeError for it)
    [['train', 'mnist', '--lr', '-1'], "--lr must be a positive number, got '-1'", 'train'],
    [['train', '--seed', '-3', 'mnist'], "--seed must be an integer ≥ 0, got '-3'", 'train'],
    [['eval', 'm.safetensors', '--epochs', '3'], 'eval does not take --epochs (an option of train)', 'eval'],
    [['predict', 'm.safetensors', '--limit', '3'], 'predict does not take --limit (an option of train and eval)', 'predict'],
    [['--frobnicate'], "unknown option '--frobnicate'", undefined],
  ])('command line %j → exit 2, in nodenn\'s words, with the usage line', async (args, message, command) => {
    const io = capture(false);
    expect(await main(args, io)).toBe(2);
    expect(io.text()).toBe('');
    expect(io.errText()).toBe(`nodenn: ${message}\n${usageLine(command)}\nRun 'nodenn --help' for the options.\n`);
    expect(usageLine(command)).toMatch(command ? new RegExp(`^Usage: nodenn ${command} `) : /^Usage: nodenn train .* \| eval .* \| predict .* \| bench/);
  });

  it('a spawned nodenn with an unknown option: exit 2, nodenn\'s words on stderr, nothing from util.parseArgs', () => {
    const r = run(['train', 'mnist', '--epoch', '2']);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toBe("nodenn: unknown option '--epoch' (did you mean --epochs?)\n" +
      'Usage: nodenn train mnist|fashion [--model mlp|cnn] [--epochs N] [--batch-size N] [options]\n' +
      "Run 'nodenn --help' for the options.\n");
  });

  it('bench runs bench/run.js with its arguments', () => {
    // one small workload on nodenn's engines keeps this fast; the whole bench is npm run bench
    const r = run(['bench', '--quick', '--only', 'gemm-100x100x784-f32', '--engines', 'native,ts']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^\| GEMM 100×784·784×100 float32 \| ts \| [\d.]+ GFLOP\/s \|/m);
  });

  it('bench runs the bench script with the arguments after the command', () => {
    const script = path.join(dir, 'fake-bench.js');
    const marker = path.join(dir, 'bench-args.json');
    fs.writeFileSync(script, `require('fs').writeFileSync(${JSON.stringify(marker)}, JSON.stringify(process.argv.slice(2))); process.exitCode = 3;`);
    const io = capture(false);
    expect(benchCommand(['--quick', '--only', 'gemm'], io, script)).toBe(3);
    expect(JSON.parse(fs.readFileSync(marker, 'utf8'))).toEqual(['--quick', '--only', 'gemm']);
    expect(benchCommand([], io, path.join(dir, 'missing.js'))).toBe(1);
    expect(io.errText()).toMatch(/missing\.js is not part of this installation/);
    // The real one ships in the source tree.
    expect(fs.existsSync(path.join(root, 'bench', 'run.js'))).toBe(true);
  });

  it('a corrupted model file is refused with exit 1 and the reason', () => {
    const bad = path.join(dir, 'bad.safetensors');
    const good = fs.readFileSync(trainedModel().model);
    const b = Buffer.from(good);
    b.writeBigUInt64LE(BigInt(good.length), 0);
    fs.writeFileSync(bad, b);
    const r = run(['eval', bad]);
    expect(r.code).toBe(1);
    expect(r.err).toBe(`nodenn: ${bad}: header length ${good.length} runs past the end of the ${good.length}-byte file (truncated?)\n`);
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

/** A stand-in for process.stdout: records what is written; `fail` makes writes fail like a closed pipe or a full disk. */
function fakeStream(opts: { isTTY?: boolean; columns?: number } = {}) {
  let text = '';
  const listeners: ((e: Error) => void)[] = [];
  const stream = {
    isTTY: opts.isTTY, columns: opts.columns,
    write(s: string) { text += s; return true; },
    on(_event: 'error', listener: (e: Error) => void) { listeners.push(listener); return stream; },
    fail(code: string) {
      stream.write = () => { throw Object.assign(new Error(`write ${code}`), { code }); };
    },
    emitError(code: string) {
      for (const l of listeners) l(Object.assign(new Error(`write ${code}`), { code }));
    },
    text: () => text,
  };
  return stream satisfies OutStream;
}

describe('nodenn CLI: broken output, output paths, signals', () => {
  it('stdout closed by its reader (| head -1): training goes on, the model is saved, exit 0, nothing on stderr', async () => {
    const model = path.join(dir, 'piped.safetensors');
    const child = spawn(process.execPath, [cli, 'train', 'mnist', '--limit', '3000', '--epochs', '2', '--batch-size', '32', '--out', model],
      { cwd: root, env: { ...process.env, NODENN_DATA: '' } });
    let first = '', err = '';
    // Like `head -1`: read the first line, then close the pipe; every later write of the CLI fails with EPIPE.
    child.stdout.on('data', (d: Buffer) => {
      first += d.toString();
      if (first.includes('\n')) child.stdout.destroy();
    });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(first).toMatch(/^nodenn \d+\.\d+\.\d+ · mnist · mlp/);
    expect(err).toBe('');
    expect(code).toBe(0);
    const f = await loadSafetensors(model);
    expect(f.tensors['0.weight'].shape).toEqual([784, 256]);
    expect(Number(f.metadata['nodenn.test_accuracy'])).toBeGreaterThan(0.75);
  });

  it.skipIf(!fs.existsSync('/dev/full'))('stdout on a full disk (> /dev/full): the model is saved, exit 0, one note on stderr', () => {
    const model = path.join(dir, 'full.safetensors');
    const fd = fs.openSync('/dev/full', 'w');
    try {
      const r = spawnSync(process.execPath, [cli, 'train', 'mnist', '--limit', '3000', '--epochs', '2', '--batch-size', '32', '--out', model], {
        cwd: root, encoding: 'utf8', timeout: 120_000, env: { ...process.env, NODENN_DATA: '' }, stdio: ['ignore', fd, 'pipe'],
      });
      expect(r.stderr).toMatch(/^nodenn: cannot write to stdout \(ENOSPC: no space left on device, write\); the run goes on without it\n$/);
      expect(r.status).toBe(0);
    } finally {
      fs.closeSync(fd);
    }
    expect(fs.statSync(model).size).toBeGreaterThan(784 * 256 * 4);
  });

  it('streamOutput: a stream that failed is written no more; EPIPE passes silently, other errors are noted on the other stream', () => {
    const out = fakeStream({ isTTY: true, columns: 90 }), err = fakeStream();
    const io = streamOutput(out, err);
    expect([io.isTTY, io.columns]).toEqual([true, 90]);
    io.out('a');
    out.emitError('EPIPE');
    io.out('b');
    io.err('e1');
    expect([out.text(), err.text()]).toEqual(['a', 'e1']);
    // A write that throws (a synchronous file descriptor) counts as a failure too.
    const out2 = fakeStream(), err2 = fakeStream();
    const io2 = streamOutput(out2, err2);
    out2.fail('ENOSPC');
    io2.out('x');
    io2.out('y');
    expect(err2.text()).toBe('nodenn: cannot write to stdout (write ENOSPC); the run goes on without it\n');
    err2.emitError('EIO');
    io2.err('lost');
    expect(err2.text()).not.toContain('lost');
    expect(streamOutput(fakeStream(), fakeStream()).columns).toBe(100);
  });

  it.each([
    [['--out', '/nonexistent/dir/m.safetensors'], /--out \/nonexistent\/dir\/m\.safetensors: the directory \/nonexistent\/dir does not exist \(ENOENT\)/],
    [['--plot', '/nonexistent/curves.svg'], /--plot \/nonexistent\/curves\.svg: the directory \/nonexistent does not exist/],
    [['--out', '<dir>'], /--out .* is a directory; give a file name/],
    [['--plot', '<dir>/'], /--plot .* is a directory; give a file name/],
    // A FIFO of our own, not a system device: before the check, the run ended by renaming its file over the target.
    [['--out', '<dir>/fifo'], /--out .*fifo is not a regular file/],
    [['--out', '<dir>/file.txt/m.safetensors'], /--out .*file\.txt\/m\.safetensors: .*file\.txt is not a directory/],
    [['--out', '<dir>/same', '--plot', '<dir>/same'], /--out and --plot name the same file/],
    [['--out', ''], /--out needs a file name/],
  ])('output path %j is refused before the data is loaded → exit 2', async (opts, message) => {
    fs.writeFileSync(path.join(dir, 'file.txt'), 'x');
    if (!fs.existsSync(path.join(dir, 'fifo'))) execFileSync('mkfifo', [path.join(dir, 'fifo')]);
    const io = capture(false);
    const args = opts.map((a) => a.replace('<dir>', dir));
    expect(await main(['train', 'mnist', '--limit', '100', ...args], io)).toBe(2);
    expect(io.errText()).toMatch(message);
    expect(io.text()).toBe('');
  });

  it('a plot that cannot be written after training costs the plot only: the model is saved first, exit 1', async () => {
    const model = path.join(dir, 'before-plot.safetensors');
    const plotDir = path.join(dir, 'plots');
    fs.mkdirSync(plotDir);
    const io = capture(false);
    const out = io.out;
    // The directory passes the check before training and is gone when the curves are written.
    io.out = (s) => { out(s); if (s.startsWith('training:')) fs.rmSync(plotDir, { recursive: true }); };
    const code = await main(['train', 'mnist', '--limit', '600', '--epochs', '1', '--validation', '0', '--out', model,
      '--plot', path.join(plotDir, 'c.svg')], io);
    expect(io.text()).toContain(`model saved to ${model}`);
    expect(io.errText()).toMatch(/^nodenn: cannot write the curves to .*plots\/c\.svg: ENOENT/);
    expect(code).toBe(1);
    expect((await loadSafetensors(model)).metadata['nodenn.dataset']).toBe('mnist');
  });

  it('SIGTERM stops after the current batch, saves, tests, saves again with the accuracy; exit 143', async () => {
    const model = path.join(dir, 'terminated.safetensors');
    const r = await trainAndSignal('SIGTERM', model);
    expect(r.sent).toBe(true);
    expect(r.err).toBe('');
    expect(r.out).toMatch(/interrupted by SIGTERM: fit\(\) was aborted before epoch \d+, batch \d+; testing the model as it is/);
    const acc = /test accuracy (\d+\.\d\d)%/.exec(r.out);
    expect(acc).not.toBeNull();
    expect(r.out.split(`model saved to ${model}\n`).length - 1).toBe(2);
    expect([r.code, r.signal]).toEqual([143, null]);
    const saved = Number((await loadSafetensors(model)).metadata['nodenn.test_accuracy']);
    expect((100 * saved).toFixed(2)).toBe(acc![1]);
  });

  it('the progress bar fits a narrow terminal (no wrapped live line)', async () => {
    const term = fakeStream({ isTTY: true, columns: 40 }), err = fakeStream();
    const code = await main(['train', 'mnist', '--limit', '1200', '--epochs', '1', '--batch-size', '10', '--validation', '0'], streamOutput(term, err));
    expect(err.text()).toBe('');
    expect(code).toBe(0);
    // Each live line is what follows a carriage return and the erase code, up to the next one or the newline.
    const live = term.text().split('\r\x1b[2K').slice(1).map((l) => l.split('\n')[0]).filter((l) => l.includes('/120'));
    expect(live.length).toBeGreaterThan(0);
    for (const l of live) {
      expect(l.length).toBeLessThanOrEqual(39);
      expect(l).toMatch(/^epoch 1\/1 \d+\/120 {2}loss \d\.\d{4}/);
    }
  });

  it.each([
    [80, /^epoch 2\/5 \[=+> +\] 50\/100 {2}loss 0\.1235 {2}acc 95\.12% {2}ETA 1m15s$/],
    [60, /^epoch 2\/5 \[=+> +\] 50\/100 {2}loss 0\.1235 {2}acc 95\.12%$/],
    [40, /^epoch 2\/5 50\/100 {2}loss 0\.1235$/],
    [20, /^epoch 2\/5 50\/100$/],
    [8, /^epoch 2$/],
  ])('progressLine at %i columns', (columns, expected) => {
    const line = progressLine({ epoch: 2, epochs: 5, batch: 50, batches: 100, loss: 0.1234567, accuracy: 0.9512,
      samplesPerSec: 31234.4, eta: 75, columns });
    expect(line).toMatch(expected);
    expect(line.length).toBeLessThan(columns);
  });

  it.each([
    ['[784', /bad-shape-0\.safetensors: the 'nodenn\.input_shape' metadata must be a JSON array of positive integers \(the shape of one sample\), got "\[784"/],
    ['[3, 32, 32]', /bad-shape-1\.safetensors: the 'nodenn\.input_shape' metadata \[3, 32, 32\] does not fit the architecture's layers/],
    ['{"a": 1}', /bad-shape-2\.safetensors: the 'nodenn\.input_shape' metadata must be a JSON array/],
  ])('eval: bad nodenn.input_shape metadata %j → exit 1 naming the file', async (shape, message) => {
    const f = await loadSafetensors(trainedModel().model);
    const index = ['[784', '[3, 32, 32]', '{"a": 1}'].indexOf(shape);
    const bad = path.join(dir, `bad-shape-${index}.safetensors`);
    await saveSafetensors(bad, f.tensors, { ...f.metadata, 'nodenn.input_shape': shape });
    const io = capture(false);
    expect(await main(['eval', bad, '--limit', '10'], io)).toBe(1);
    expect(io.errText()).toMatch(message);
  });

  it('eval: an unknown nodenn.dataset in the metadata → exit 1 naming the file', async () => {
    const f = await loadSafetensors(trainedModel().model);
    const bad = path.join(dir, 'bad-dataset.safetensors');
    await saveSafetensors(bad, f.tensors, { ...f.metadata, 'nodenn.dataset': 'cifar' });
    const io = capture(false);
    expect(await main(['eval', bad, '--limit', '10'], io)).toBe(1);
    expect(io.errText()).toMatch(/bad-dataset\.safetensors: the model was trained on the data set 'cifar'; nodenn eval and predict score MNIST and Fashion-MNIST models only/);
  });

  it('eval and predict on models saved from the API: the input shape from the file, the data set from the file or --data', async () => {
    const { train } = await loadMnist({ flatten: false, limit: { train: 600, test: 1 } });
    const cnn = new Sequential([
      new Conv2D(1, 4, 3, { padding: 1 }), new ReLU(), new MaxPool2D(2), new Flatten(), new Dense(4 * 14 * 14, 10),
    ], { seed: 1 });
    await cnn.fit(train.x, train.y, { optimizer: 'adam', epochs: 2 });
    const file = path.join(dir, 'api-cnn.safetensors');
    await cnn.save(file);  // no data set: eval must not guess one
    const none = await inProcess(['eval', file, '--limit', '200']);
    expect(none.code).toBe(2);
    expect(none.err).toContain(`${file} does not record the data set it was trained on: give it with --data mnist or --data fashion`);
    const e = run(['eval', file, '--limit', '200', '--data', 'mnist']);
    expect(e.err).toBe('');
    expect(e.code).toBe(0);
    expect(Number(/mnist test accuracy (\d+\.\d\d)%/.exec(e.out)![1])).toBeGreaterThan(50);
    const p = await inProcess(['predict', file, '--index', '0', '--data', 'mnist']);
    expect(p.code).toBe(0);
    expect(p.out).toMatch(/test image 0: predicted \d with probability \d+\.\d%, label 7 [✓✗]/);
    // recorded as Fashion-MNIST: never scored on MNIST (scored on Fashion-MNIST: the next test)
    const fashion = path.join(dir, 'api-fashion.safetensors');
    await cnn.save(fashion, { dataset: 'fashion', classNames: FASHION_CLASSES });
    const mismatch = await inProcess(['eval', fashion, '--data', 'mnist']);
    expect(mismatch.code).toBe(2);
    expect(mismatch.err).toContain(`${fashion} was trained on fashion, but --data says mnist`);
    // a file written before nodenn recorded input shapes: a first Conv2D layer takes images
    const old = path.join(dir, 'api-old.safetensors');
    await saveModelFile(old, cnn.toConfig(), cnn.stateDict(), {}, { dataset: 'mnist' });
    const o = await inProcess(['eval', old, '--limit', '200']);
    expect(o.code).toBe(0);
    expect(o.out).toContain(/mnist test accuracy (\d+\.\d\d)%/.exec(e.out)![0]);
    // a model that is not an MNIST classifier
    const wide = path.join(dir, 'api-wide.safetensors');
    await new Sequential([new Dense(784, 3)]).save(wide, { dataset: 'mnist' });
    const w = await inProcess(['eval', wide]);
    expect(w.code).toBe(1);
    expect(w.err).toContain(`${wide}: the model has 3 outputs; MNIST has 10 classes`);
    const small = path.join(dir, 'api-small.safetensors');
    await new Sequential([new Dense(16, 10)]).save(small, { dataset: 'mnist' });
    expect((await inProcess(['eval', small])).err).toContain(`${small}: the model takes samples of shape [16], not MNIST images`);
  });

  // Fashion-MNIST is read from Debian's dataset-fashion-mnist (never downloaded): without it, this test cannot run
  it.skipIf(!fashionDir)('eval and predict on a model recorded as Fashion-MNIST: scored on Fashion-MNIST, named with the file\'s class names', async () => {
    const net = new Sequential([new Flatten(), new Dense(784, 10)], { seed: 1 });
    const fashion = path.join(dir, 'api-fashion-only.safetensors');
    await net.save(fashion, { dataset: 'fashion', classNames: FASHION_CLASSES, inputShape: [1, 28, 28] });
    const f = await inProcess(['eval', fashion, '--limit', '200']);
    expect(f.code).toBe(0);
    expect(f.out).toMatch(/api-fashion-only\.safetensors: fashion test accuracy \d+\.\d\d% {2}\(loss \d+\.\d{4}, 200 samples/);
    const fp = await inProcess(['predict', fashion, '--index', '0']);
    expect(fp.code).toBe(0);
    expect(fp.out).toMatch(/label 9 \(Ankle boot\)/);
  });

  it('--data names the data set or a directory; --data-dir a directory', async () => {
    const io = capture(false);
    expect(await main(['eval', trainedModel().model, '--data', './nowhere', '--data-dir', './elsewhere'], io)).toBe(2);
    expect(io.errText()).toMatch(/--data \.\/nowhere and --data-dir \.\/elsewhere both name a directory; --data takes mnist or fashion/);
    const t = capture(false);
    expect(await main(['train', 'mnist', '--data', 'fashion'], t)).toBe(2);
    expect(t.errText()).toMatch(/train mnist --data fashion: two different data sets/);
    // a directory through either flag
    const d = capture(false);
    expect(await main(['eval', trainedModel().model, '--data-dir', path.join(dir, 'no-idx'), '--limit', '10'], d)).toBe(1);
    expect(d.errText()).toMatch(/no mnist idx files in dir/);
    const d2 = capture(false);
    expect(await main(['eval', trainedModel().model, '--data', path.join(dir, 'no-idx'), '--limit', '10'], d2)).toBe(1);
    expect(d2.errText()).toMatch(/no mnist idx files in dir/);
  });
});

describe('nodenn train options, in-process', () => {
  const savedData = process.env.NODENN_DATA;
  const threadsBefore = nativeAvailable() ? nativeAddon().info().threads : 1;
  // The first 500 training and test images of MNIST in a directory of their own: loaded in milliseconds.
  let subset = '';
  beforeAll(() => {
    delete process.env.NODENN_DATA;
    subset = path.join(dir, 'mnist-500');
    fs.mkdirSync(subset, { recursive: true });
    const from = mnistDataPackageDir()!;
    for (const [name, header, bytes] of [['train-images-idx3-ubyte', 16, 784], ['train-labels-idx1-ubyte', 8, 1],
      ['t10k-images-idx3-ubyte', 16, 784], ['t10k-labels-idx1-ubyte', 8, 1]] as const) {
      const b = fs.readFileSync(path.join(from, name)).subarray(0, header + 500 * bytes);
      b.writeUInt32BE(500, 4);
      fs.writeFileSync(path.join(subset, name), b);
    }
  });
  afterAll(() => { if (savedData !== undefined) process.env.NODENN_DATA = savedData; });
  // --backend and --threads set process-wide state: put it back for the other tests of this file
  afterEach(() => {
    setBackend(nativeAvailable() ? 'native' : 'ts');
    if (nativeAvailable()) setThreads(threadsBefore);
  });

  /** `nodenn train mnist` on 500 images (no validation), 2 epochs of batch 25; the output lines. */
  async function train(args: string[], data = 'mnist') {
    const io = capture(false);
    const source = data === 'mnist' ? ['--data', subset] : [];
    const code = await main(['train', data, ...source, '--limit', '500', '--validation', '0', '--epochs', '2', '--batch-size', '25', ...args], io);
    expect(io.errText()).toBe('');
    expect(code).toBe(0);
    const out = io.text();
    const result = /^test accuracy (\d+\.\d\d)% {2}\(loss (\d\.\d{4}), (\d+) samples\)$/m.exec(out);
    expect(result, out).not.toBeNull();
    return { out, lines: out.trimEnd().split('\n'), accuracy: Number(result![1]), loss: Number(result![2]), result: result![0] };
  }

  it('--optimizer: each one trains with its own default learning rate, and they train differently', async () => {
    const defaults: [string, number][] = [['adam', 0.012], ['adamw', 0.012], ['sgd', 0.2], ['momentum', 0.1], ['rmsprop', 0.002], ['adagrad', 0.05]];
    const results: string[] = [];
    for (const [name, lr] of defaults) {
      const r = await train(['--optimizer', name]);
      expect(r.out).toContain(`training: 2 epochs, batch 25, ${name} lr ${lr} (one-cycle), label smoothing 0.1, seed 1\n`);
      expect(r.accuracy, name).toBeGreaterThan(30);  // chance is 10%; sgd, the slowest, reaches about 61% here
      results.push(r.result);  // adam and adamw can agree on the loss to 4 decimals here, not on the accuracy too
    }
    expect(new Set(results).size).toBe(defaults.length);
  });

  it('--no-decay keeps the learning rate constant: another run, and the line says so', async () => {
    const decayed = await train([]), constant = await train(['--no-decay']);
    expect(decayed.out).toContain('training: 2 epochs, batch 25, adam lr 0.012 (one-cycle), label smoothing 0.1, seed 1\n');
    expect(constant.out).toContain('training: 2 epochs, batch 25, adam lr 0.012, label smoothing 0.1, seed 1\n');
    expect(constant.loss).not.toBe(decayed.loss);
  });

  it('--label-smoothing X: the mlp trains with 0.1 by default, 0 turns it off; the line and the training loss say so', async () => {
    const smoothed = await train([]), plain = await train(['--label-smoothing', '0']), half = await train(['--label-smoothing', '0.5']);
    expect(plain.out).toContain('training: 2 epochs, batch 25, adam lr 0.012 (one-cycle), seed 1\n');
    expect(half.out).toContain('training: 2 epochs, batch 25, adam lr 0.012 (one-cycle), label smoothing 0.5, seed 1\n');
    expect(smoothed.result).toBe((await train(['--label-smoothing', '0.1'])).result);
    expect(plain.result).not.toBe(smoothed.result);
    // the epoch lines' training loss is against the smoothed targets: it cannot fall below their entropy
    const epochLoss = (r: { out: string }) => Number(/^epoch 2\/2 {2}loss (\d\.\d{4})/m.exec(r.out)![1]);
    const entropy = (e: number) => -((1 - e + e / 10) * Math.log(1 - e + e / 10) + 9 * (e / 10) * Math.log(e / 10));
    expect(epochLoss(half)).toBeGreaterThan(entropy(0.5));
    expect(epochLoss(smoothed)).toBeGreaterThan(entropy(0.1));
    expect(epochLoss(plain)).toBeLessThan(entropy(0.1));
    // --augment trains without it unless asked
    const io = capture(false);
    expect(await main(['train', 'mnist', '--data', subset, '--limit', '40', '--validation', '8', '--augment', '--epochs', '1'], io)).toBe(0);
    expect(io.text()).toMatch(/^training: 1 epoch, batch 128, adam lr 0\.002, seed 1$/m);
  });

  it('one-cycle needs 4 steps or more (both its phases): a shorter run trains at the constant rate, as --no-decay', async () => {
    const short = await train(['--epochs', '1', '--batch-size', '250']);
    const constant = await train(['--epochs', '1', '--batch-size', '250', '--no-decay']);
    expect(short.out).toContain('training: 1 epoch, batch 250, adam lr 0.012, label smoothing 0.1, seed 1\n');
    expect(short.result).toBe(constant.result);
    const four = await train(['--epochs', '2', '--batch-size', '250']);
    expect(four.out).toContain('training: 2 epochs, batch 250, adam lr 0.012 (one-cycle), label smoothing 0.1, seed 1\n');
  });

  it.skipIf(!nativeAvailable())('--threads N: the native backend runs N threads, with the very same result', async () => {
    const one = await train(['--threads', '1']), two = await train(['--threads', '2']);
    expect(one.lines[0]).toMatch(/ · backend native \(\w+, 1 thread\)$/);
    expect(two.lines[0]).toMatch(/ · backend native \(\w+, 2 threads\)$/);
    expect(two.result).toBe(one.result);
  });

  it('--backend ts: the TypeScript kernels train the same network to the same accuracy (float32 rounding aside)', async () => {
    const ts = await train(['--backend', 'ts']);
    expect(ts.lines[0]).toMatch(/ · backend ts \(pure TypeScript\)$/);
    expect(backendInfo().name).toBe('ts');
    if (nativeAvailable()) {
      const native = await train(['--backend', 'native']);
      expect(native.lines[0]).toMatch(/ · backend native \(/);
      expect(Math.abs(ts.accuracy - native.accuracy)).toBeLessThanOrEqual(1);
      expect(Math.abs(ts.loss - native.loss)).toBeLessThanOrEqual(0.01);
    }
  });

  it('--quiet: only the result lines', async () => {
    const model = path.join(dir, 'quiet.safetensors');
    const r = await train(['--quiet', '--out', model]);
    expect(r.lines).toHaveLength(2);
    expect(r.lines[0]).toBe(r.result);
    expect(r.lines[1]).toMatch(/^wall time \d+\.\d\ds \(data \d+\.\d\ds, training \d+\.\d\ds; cpu \d+\.\d\ds\)$/);
    expect(fs.existsSync(model)).toBe(true);
  });

  it('--data DIR: the idx files of that directory', async () => {
    const data = path.join(dir, 'tiny-mnist');
    fs.mkdirSync(data, { recursive: true });
    const u32 = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32BE(n); return b; };
    const images = (n: number) => Buffer.concat([u32(0x803), u32(n), u32(28), u32(28), Buffer.alloc(n * 784, 9)]);
    const labels = (ls: number[]) => Buffer.concat([u32(0x801), u32(ls.length), Buffer.from(ls)]);
    fs.writeFileSync(path.join(data, 'train-images-idx3-ubyte'), images(40));
    fs.writeFileSync(path.join(data, 'train-labels-idx1-ubyte'), labels(Array.from({ length: 40 }, (_, i) => i % 10)));
    fs.writeFileSync(path.join(data, 't10k-images-idx3-ubyte'), images(10));
    fs.writeFileSync(path.join(data, 't10k-labels-idx1-ubyte'), labels([3, 3, 3, 3, 3, 3, 3, 3, 3, 3]));
    const io = capture(false);
    expect(await main(['train', 'mnist', '--data', data, '--validation', '0', '--epochs', '1', '--batch-size', '8'], io)).toBe(0);
    expect(io.text()).toMatch(new RegExp(`^data: 40 train, 10 test \\(from ${data}, \\d+\\.\\d\\ds\\)$`, 'm'));
    expect(io.text()).toMatch(/^test accuracy \d+\.\d\d% {2}\(loss \d\.\d{4}, 10 samples\)$/m);
  });

  it.skipIf(!fashionDir)('train fashion: Fashion-MNIST from the system directory (Debian dataset-fashion-mnist)', async () => {
    const r = await train([], 'fashion');
    expect(r.lines[0]).toMatch(/^nodenn \d+\.\d+\.\d+ · fashion · mlp · backend /);
    expect(r.out).toContain(`data: 500 train, 500 test (from ${fashionDir}, `);
    expect(r.accuracy).toBeGreaterThan(50);
  });
});
