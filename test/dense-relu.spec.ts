// Dense followed by ReLU in training (biasRelu / reluBiasBackward, which fit() runs for the pair): bitwise the
// bias and ReLU kernels one after the other, NaN, -0 and infinities included, on every backend, ISA and thread
// count; fit()'s gradients bitwise those of the layers one by one (lossAndGradients); float64 gradients of
// Dense.forwardRelu against central differences. The MLP fit fingerprints (test/fit-fingerprint.spec.ts) run it too.
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { Dense, ReLU, SGD, Sequential, Tensor, type DType } from '../src/index';
import { getBackend } from '../src/backend/index';
import type { FloatArray } from '../src/tensor';
import {
  type Ctor, backends, dtypes, expectAllBitwiseEqual, expectClose, nativeIsas, randomArray, useBackend, withThreads,
} from './helpers';

/** biasAdd, ReLU forward; ReLU backward (reading its input), biasBackward: [y, dx, dbias]. */
function separate(C: Ctor, rows: number, cols: number, z: FloatArray, bias: FloatArray, dy: FloatArray,
  dbias: FloatArray): FloatArray[] {
  const k = getBackend(), n = rows * cols;
  const pre = C.from(z), y = new C(n), dx = new C(n), db = C.from(dbias);
  k.biasAdd(rows, cols, pre, bias);
  k.activationForward('relu', n, pre, y, 0);
  k.activationBackward('relu', n, pre, y, dy, dx, 0);
  k.biasBackward(rows, cols, dx, db);
  return [y, dx, db];
}

/** The fused kernels; the backward writes dx over a copy of dy when inPlace (dx may be dy). */
function fused(C: Ctor, rows: number, cols: number, z: FloatArray, bias: FloatArray, dy: FloatArray,
  dbias: FloatArray, inPlace: boolean): FloatArray[] {
  const k = getBackend(), n = rows * cols;
  const y = C.from(z), db = C.from(dbias), dx = inPlace ? C.from(dy) : new C(n).fill(NaN);
  k.biasRelu(rows, cols, y, bias);
  k.reluBiasBackward(rows, cols, y, inPlace ? dx : dy, dx, db);
  return [y, dx, db];
}

function expectSame(got: FloatArray[], want: FloatArray[]): void {
  expectAllBitwiseEqual(['y', 'dx', 'dbias'], got, want);
}

describe.each(backends)('fused Dense bias + ReLU kernels on $label', (bc) => {
  beforeEach(() => useBackend(bc));

  describe.each(dtypes)('%s', (_name, C) => {
    // columns around the vector widths (tails), the MLP's 100 x 100, one row, no rows
    it('bitwise biasAdd, ReLU forward and backward, biasBackward one after the other (dx apart or over dy)', () => {
      for (const [rows, cols] of [[3, 5], [7, 17], [2, 33], [100, 100], [1, 8], [0, 4]]) {
        const n = rows * cols, seed = rows * 31 + cols;
        const z = randomArray(C, n, seed), bias = randomArray(C, cols, seed + 1, -0.5, 0.5);
        const dy = randomArray(C, n, seed + 2), dbias = randomArray(C, cols, seed + 3);
        const want = separate(C, rows, cols, z, bias, dy, dbias);
        if (n > 20) expect(want[0].some((v) => v === 0) && want[0].some((v) => v > 0), 'both sides').toBe(true);
        for (const inPlace of [false, true]) expectSame(fused(C, rows, cols, z, bias, dy, dbias, inPlace), want);
      }
    });

    it('NaN, -0 and infinities as the layers: NaN and -0 kept, masked NaN gradients give 0 before the sums', () => {
      const rows = 4, cols = 6;
      const z = C.of(NaN, -0, 0, Infinity, -Infinity, 1, -1, 2, -0, 0.5, -3, NaN,
        1, 1, 1, 1, 1, 1, -2, -2, -2, -2, -2, -2);
      const bias = C.of(0, -0, -0, 1, 1, -1);  // -0 + -0 = -0 reaches the ReLU: relu(-0) = -0
      const dy = randomArray(C, rows * cols, 5);
      dy[4] = NaN; dy[8] = Infinity; dy[19] = NaN;  // masked (y <= 0): 0 in dx and the sums
      dy[3] = NaN;  // unmasked (y = Infinity): NaN in dx and in dbias[3]
      const want = separate(C, rows, cols, z, bias, dy, new C(cols));
      expect(Object.is(want[0][1], -0) && Number.isNaN(want[0][0]) && want[0][3] === Infinity).toBe(true);
      expect(Number.isNaN(want[2][3]) && !Number.isNaN(want[2][4]) && !Number.isNaN(want[2][2])).toBe(true);
      for (const inPlace of [false, true]) expectSame(fused(C, rows, cols, z, bias, dy, new C(cols), inPlace), want);
    });
  });

  it.each(['float32', 'float64'] as DType[])('%s: fit() runs one kernel call each way per Dense + ReLU and has the gradients of the layers, bitwise', async (dtype) => {
    const net = mlp(dtype), [x, y] = data(dtype), b = getBackend();
    const calls = ['biasRelu', 'reluBiasBackward', 'biasAdd', 'biasBackward', 'activationForward',
      'activationBackward'] as const;
    const spies = calls.map((k) => vi.spyOn(b, k));
    try {
      await net.fit(x, y, { optimizer: new SGD({ lr: 0.05 }), epochs: 1, batchSize: 13, shuffle: false, verbose: 0 });
      // the bias Dense + ReLU fused; the bias-free Dense's ReLU in place; the last Dense's bias on its own
      expect(spies.map((s) => s.mock.calls.length)).toEqual([1, 1, 1, 1, 1, 1]);
    } finally {
      spies.forEach((s) => s.mockRestore());
    }
    const grads = net.parameters().map((p) => bits(p.grad));
    expect(grads.every((g) => g.some((v) => v !== 0))).toBe(true);
    const ref = mlp(dtype);
    ref.lossAndGradients(x, y, { loss: 'softmaxCrossEntropy' });
    ref.parameters().forEach((p, i) => expect(grads[i], p.name).toEqual(bits(p.grad)));
  });

  it('float64: Dense.forwardRelu\'s backward matches central differences of sum(dy * relu(x W + b))', () => {
    const layer = new Dense(3, 4, { dtype: 'float64', seed: 2 }), n = 5;
    const x = new Tensor(randomArray(Float64Array, n * 3, 8, -2, 2), [n, 3]);
    const dy = randomArray(Float64Array, n * 4, 9);
    const loss = () => {
      const y = layer.forwardRelu(x);
      let s = 0;
      for (let i = 0; i < y.size; i++) s += y.data[i] * dy[i];
      return s;
    };
    const numeric = (p: FloatArray) => Float64Array.from(p, (_v, i) => {
      const keep = p[i];
      p[i] = keep + 1e-6; const up = loss();
      p[i] = keep - 1e-6; const down = loss();
      p[i] = keep;
      return (up - down) / 2e-6;
    });
    const y = layer.forwardRelu(x);
    expect(y.data.filter((v) => v === 0).length, 'the ReLU masks some values').toBeGreaterThan(3);
    layer.zeroGrad();
    const dx = layer.backward(new Tensor(dy, [n, 4]));
    expectClose(dx.data, numeric(x.data), 1e-7);
    expectClose(layer.grads[0].data, numeric(layer.weight.data), 1e-7);
    expectClose(layer.grads[1].data, numeric(layer.bias!.data), 1e-7);
  });
});

/** Dense + ReLU (fused), a bias-free Dense + ReLU (fused, the ReLU in place), Dense. */
function mlp(dtype: DType): Sequential {
  return new Sequential([new Dense(6, 9), new ReLU(), new Dense(9, 7, { bias: false }), new ReLU(), new Dense(7, 3)],
    { seed: 4, dtype });
}

function data(dtype: DType): [Tensor, Int32Array] {
  const C = dtype === 'float64' ? Float64Array : Float32Array, N = 13;
  return [new Tensor(randomArray(C, N * 6, 11, -2, 2), [N, 6]), Int32Array.from({ length: N }, (_v, i) => i % 3)];
}

function bits(t: Tensor): number[] {
  return Array.from(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
}

describe.skipIf(nativeIsas.length === 0).each(nativeIsas)('fused Dense bias + ReLU threads on $label', (bc) => {
  beforeEach(() => useBackend(bc));

  it.each(dtypes)('1 and 2 threads give bitwise-identical results, on the pool from 65,536 values (%s)', (_n, C) => {
    const rows = 300, cols = 250, n = rows * cols;
    const z = randomArray(C, n, 3), bias = randomArray(C, cols, 4), dy = randomArray(C, n, 5);
    const run = () => fused(C, rows, cols, z, bias, dy, new C(cols), false);
    const one = withThreads(1, run), two = withThreads(2, run);
    expectSame(two, one);
    expectSame(one, separate(C, rows, cols, z, bias, dy, new C(cols)));
  });
});
