// Every example runs (short mode) and prints what it should.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMnist } from '../src/data/mnist';
import * as layers from '../src/layers/index';
import { Sequential } from '../src/network';

const root = path.join(__dirname, '..');
let dir: string;
beforeAll(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodenn-examples-')); });
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function example(name: string, args: string[] = []): string {
  const r = spawnSync(process.execPath, [path.join(root, 'examples', `${name}.js`), '--quick', ...args], {
    cwd: dir, encoding: 'utf8', timeout: 120_000, env: { ...process.env, NODENN_DATA: '' },
  });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return r.stdout;
}

const hasConv = 'Conv2D' in layers && 'MaxPool2D' in layers;

describe('examples', () => {
  it('spiral: learns the arms and writes the decision regions', () => {
    const out = example('spiral', ['--out', 'spiral.svg']);
    // seeded: 98.0% on every backend today; a few points of slack for float rounding in other kernels
    const acc = Number(/training accuracy (\d+\.\d)%/.exec(out)![1]);
    expect(acc).toBeGreaterThanOrEqual(95);
    const svg = fs.readFileSync(path.join(dir, 'spiral.svg'), 'utf8');
    expect(svg.match(/<circle /g)).toHaveLength(300);
    expect(svg).toContain('<g class="regions"');
  });

  it('xor: all four cases', () => {
    const out = example('xor');
    expect(out).toContain('all four correct');
    expect(out).toMatch(/1 XOR 1 = 0/);
  });

  it('logic-gates: truth tables', () => {
    const out = example('logic-gates');
    expect(out).toMatch(/ 1 1 \| +1 +0 +1 +0\n/);
    expect(out).toContain('every gate matches its truth table');
  });

  it('apple-price: forward and backward values', () => {
    const out = example('apple-price');
    expect(out).toContain('price: 715');
    expect(out).toContain('dApple: 2.2, dAppleNum: 110, dOrange: 3.3, dOrangeNum: 165, dTax: 650');
  });

  it('autograd-basics: gradients of x0² + x1², gradient descent to ~(0, 0) and the apple/orange graph match by hand', () => {
    const out = example('autograd-basics');
    expect(out).toContain('f(3, 4) = 25: autograd gradient (6, 8), numerical (6, 8)\n');
    expect(out).toContain('f(0, 2) = 4: autograd gradient (0, 4), numerical (0, 4)\n');
    expect(out).toContain('nn.grad(f)(3, 4) = (6, 8)\n');
    // the course material's result: [-6.11110793e-10  8.14814391e-10]
    expect(out).toContain('gradient descent from (-3, 4): autograd (-6.111e-10, 8.148e-10), numerical (-6.111e-10, 8.148e-10)\n');
    expect(out).toContain('autograd price: 715\n');
    expect(out).toContain('autograd dApple: 2.2, dAppleNum: 110, dOrange: 3.3, dOrangeNum: 165, dTax: 650\n');
    expect(out).toContain('Mul/Add dApple: 2.2, dAppleNum: 110, dOrange: 3.3, dOrangeNum: 165, dTax: 650\n');
    expect(out).toContain('autograd and the Mul/Add layers agree');
  });

  it('custom-layer: a Module of tensor ops passes the float64 gradient check, trains, and reloads from safetensors', () => {
    const out = example('custom-layer');
    const errors = [...out.matchAll(/^(\w+): max relative error (\S+)$/gm)];
    expect(errors.map((m) => m[1])).toEqual(['weight', 'bias', 'scale']);
    for (const m of errors) expect(Number(m[2])).toBeLessThanOrEqual(1e-7);
    expect(out).toMatch(/gradient check passed: max relative error \S+\n/);
    expect(out).toContain('step 0: loss 4.574762\n');
    // seeded: 0.000797 on every backend; the loss must at least fall below 1e-3 from 4.57
    const [, final, first] = /after 20 steps: loss (\S+) \(from (\S+)\)/.exec(out)!;
    expect(Number(first)).toBe(4.574762);
    expect(Number(final)).toBeCloseTo(0.000797, 5);
    expect(out).toContain('reloaded from scaled-tanh.safetensors: outputs identical\n');
  });

  it('numpy-basics: the course material\'s NumPy cells print NumPy\'s values; x_train[batch_mask] takes those rows', async () => {
    const out = example('numpy-basics');
    // chapter 1, as NumPy prints float arrays
    for (const cell of [
      'x\n[1. 2. 3.]\n', 'x + y\n[3. 6. 9.]\n', 'x - y\n[-1. -2. -3.]\n', 'x * y\n[ 2.  8. 18.]\n', 'x / y\n[0.5 0.5 0.5]\n',
      'x / 2.0\n[0.5 1.  1.5]\n', 'A.shape (2, 2)\n', 'A + B\n[[ 4.  2.]\n [ 3. 10.]]\n', 'A * B\n[[ 3.  0.]\n [ 0. 24.]]\n',
      'A * 10\n[[10. 20.]\n [30. 40.]]\n', 'A * B (broadcast)\n[[10. 40.]\n [30. 80.]]\n', 'X[0]\n[51. 55.]\n',
      'X[0][1] 55\n', 'row [51. 55.]\nrow [14. 19.]\nrow [0. 4.]\n', 'X.flatten()\n[51. 55. 14. 19.  0.  4.]\n',
      'X[np.array([0, 2, 4])]\n[51. 14.  0.]\n', 'X > 15\n[1. 1. 0. 1. 0. 0.]\n', 'X[X > 15]\n[51. 55. 19.]\n',
      'x_train.shape (60000, 784)\n', 't_train.shape (60000, 10)\n', 'x_batch.shape (10, 784)\n', 't_batch.shape (10, 10)\n',
    ]) expect(out).toContain(cell);
    // chapter 4: the rows printed for the sampled indices are the training set's rows at those indices
    const numbers = (label: string) => {
      const m = new RegExp(`${label.replace(/[()[\]]/g, '\\$&')}\\n\\[([^\\]]*)\\]`).exec(out);
      return m![1].trim().split(/\s+/).map(Number);
    };
    const mask = numbers('batch_mask'), labels = numbers('np.argmax(t_batch, axis=1)');
    const ink = numbers('x_batch.sum(axis=1) (ink per image)');
    expect(mask).toHaveLength(10);
    const { train } = await loadMnist();
    mask.forEach((row, i) => {
      expect(Number.isInteger(row) && row >= 0 && row < 60000).toBe(true);
      expect(labels[i]).toBe(train.y[row]);
      let sum = 0;
      for (let k = 0; k < 784; k++) sum += train.x.data[row * 784 + k];
      expect(Math.abs(ink[i] - sum)).toBeLessThan(1e-3);
    });
  });

  it('residual-mlp: a Module of Dense layers and skip connections trains with fit, saves and reloads', () => {
    const out = example('residual-mlp', ['--out', 'residual.safetensors']);
    expect(out).toMatch(/^blocks\.1\.fc2 +Dense +\(N, 256\) +65792$/m);
    expect(out).toContain('Total parameters: 466698 (float32)');
    // seeded: 86.70% (2 epochs on 3,000 images) today
    const acc = /test accuracy (\d+\.\d\d)%/.exec(out)![1];
    expect(Number(acc)).toBeGreaterThanOrEqual(83);
    expect(out).toContain(`reloaded ResidualMLP from residual.safetensors: test accuracy ${acc}%`);
    expect(fs.existsSync(path.join(dir, 'residual.safetensors'))).toBe(true);
  });

  it('mnist-mlp then inference on its model', () => {
    const out = example('mnist-mlp', ['--out', 'mlp.safetensors']);
    // seeded: 86.60% (2 epochs on 2,500 images) on every backend today
    const acc = /test accuracy (\d+\.\d\d)%/.exec(out)![1];
    expect(Number(acc)).toBeGreaterThanOrEqual(84);
    expect(fs.existsSync(path.join(dir, 'mlp-curves.svg'))).toBe(true);
    const inf = example('inference', ['mlp.safetensors']);
    // Same 1000 test images in quick mode: the loaded model scores exactly what the trained one did.
    expect(inf).toContain(`accuracy ${acc}%`);
    expect(inf).toMatch(/confusion matrix/);
  });

  it.skipIf(!hasConv)('mnist-cnn then inference on its model', async () => {
    // seeded: 95.20% on its 500 test images on every backend today
    const out = example('mnist-cnn', ['--out', 'cnn.safetensors']);
    expect(Number(/test accuracy (\d+\.\d\d)%/.exec(out)![1])).toBeGreaterThanOrEqual(92);
    // inference --quick scores the first 1000 test images: exactly what the saved model scores on them here
    const inf = example('inference', ['cnn.safetensors']);
    const net = await Sequential.load(path.join(dir, 'cnn.safetensors'));
    const { test } = await loadMnist({ flatten: false, limit: { train: 1, test: 1000 } });
    const correct = Math.round((net.evaluate(test.x, test.y).accuracy ?? NaN) * 1000);
    expect(correct).toBeGreaterThan(900);
    expect(inf).toContain(`${correct}/1000 correct, accuracy ${(correct / 10).toFixed(2)}%`);
    expect(inf).toMatch(/confusion matrix/);
  });
});
