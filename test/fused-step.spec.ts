// fit()'s step with fewer kernel calls: softmaxCrossEntropyArgmax (the loss, its gradient and the accuracy's
// argmax in one call) bitwise softmaxCrossEntropyIndex + argmaxRows, NaN, ties and infinities included, grad apart
// from the logits or over them; sgd2 (a weight and a bias in one call) bitwise two sgd calls, past the pool's
// threshold, on 1 and 2 threads; the SGD optimizer's pairing (odd counts, mixed dtypes, tied parameters) and fit()'s
// loss and accuracy against the separate calls.
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { Dense, ReLU, SGD, Sequential, type Tensor } from '../src/index';
import { getBackend } from '../src/backend/index';
import type { FloatArray } from '../src/tensor';
import {
  type Ctor, backends, dtypes, expectAllBitwiseEqual, nativeIsas, randn, randomArray, useBackend, withThreads,
} from './helpers';

function labelsOf(rows: number, cols: number, seed: number): Int32Array {
  const l = new Int32Array(rows);
  for (let r = 0; r < rows; r++) l[r] = (r * 7 + seed) % cols;
  return l;
}

/** softmaxCrossEntropyIndex then argmaxRows: [loss, grad, pred]. */
function separate(C: Ctor, rows: number, cols: number, x: FloatArray, labels: Int32Array): [number, FloatArray, Int32Array] {
  const k = getBackend(), grad = new C(rows * cols), pred = new Int32Array(rows);
  const loss = k.softmaxCrossEntropyIndex(rows, cols, C.from(x), labels, grad);
  k.argmaxRows(rows, cols, x, pred);
  return [loss, grad, pred];
}

function fused(C: Ctor, rows: number, cols: number, x: FloatArray, labels: Int32Array, inPlace: boolean): [number, FloatArray, Int32Array] {
  const logits = C.from(x), grad = inPlace ? logits : new C(rows * cols).fill(NaN), pred = new Int32Array(rows).fill(-1);
  const loss = getBackend().softmaxCrossEntropyArgmax(rows, cols, logits, labels, grad, pred);
  return [loss, grad, pred];
}

function expectSame(got: [number, FloatArray, Int32Array], want: [number, FloatArray, Int32Array]): void {
  expect(Object.is(got[0], want[0]), `loss ${got[0]} against ${want[0]}`).toBe(true);
  expectAllBitwiseEqual(['grad'], [got[1]], [want[1]]);
  expect(Array.from(got[2])).toEqual(Array.from(want[2]));
}

describe.each(backends)('softmaxCrossEntropyArgmax and sgd2 on $label', (bc) => {
  beforeEach(() => useBackend(bc));

  describe.each(dtypes)('%s', (_name, C) => {
    it('softmaxCrossEntropyArgmax: bitwise the loss, gradient and argmax of the two separate calls', () => {
      for (const [rows, cols] of [[1, 2], [3, 5], [7, 17], [100, 10], [2, 33]]) {
        const seed = rows * 13 + cols, x = randomArray(C, rows * cols, seed, -4, 4), labels = labelsOf(rows, cols, seed);
        const want = separate(C, rows, cols, x, labels);
        expect(new Set(want[2]).size > 1 || rows < 3, 'several classes').toBe(true);
        for (const inPlace of [false, true]) expectSame(fused(C, rows, cols, x, labels, inPlace), want);
      }
    });

    it('softmaxCrossEntropyIndex with grad over the logits: the loss of grad apart (native read the label after)', () => {
      const k = getBackend(), x = randomArray(C, 12, 3, -3, 3), labels = Int32Array.of(2, 0, 3);
      const apart = new C(12), loss = k.softmaxCrossEntropyIndex(3, 4, C.from(x), labels, apart);
      const over = C.from(x), lossOver = k.softmaxCrossEntropyIndex(3, 4, over, labels, over);
      expect(Object.is(lossOver, loss), `${lossOver} against ${loss}`).toBe(true);
      expectAllBitwiseEqual(['grad'], [over], [apart]);
    });

    it('ties take the first maximum, a leading NaN wins, infinities as the separate calls', () => {
      const rows = 5, cols = 4;
      const x = C.of(1, 3, 3, 2, /* tie */ NaN, 5, 1, 0, /* NaN first */ 0, Infinity, 1, 2,
        -Infinity, -1, -1, -2, /* tie after -inf */ 2, 2, 2, 2);
      const labels = Int32Array.of(2, 0, 1, 3, 1);
      const want = separate(C, rows, cols, x, labels);
      expect(Array.from(want[2])).toEqual([1, 0, 1, 1, 0]);
      for (const inPlace of [false, true]) expectSame(fused(C, rows, cols, x, labels, inPlace), want);
    });

    it('checks its arguments: labels in range, pred as long as the rows', () => {
      const k = getBackend(), x = randomArray(C, 6, 1), g = new C(6);
      expect(() => k.softmaxCrossEntropyArgmax(2, 3, x, Int32Array.of(0, 3), g, new Int32Array(2))).toThrow(/labels/);
      expect(() => k.softmaxCrossEntropyArgmax(2, 3, x, Int32Array.of(0, 1), g, new Int32Array(1))).toThrow(/pred/);
    });

    it('sgd2: bitwise sgd of each array, either size 0 included', () => {
      const k = getBackend();
      for (const [n, m] of [[5, 3], [78400, 100], [0, 4], [4, 0], [1000, 10]]) {
        const p = randomArray(C, n, n + 1), g = randomArray(C, n, n + 2), q = randomArray(C, m, m + 3), h = randomArray(C, m, m + 4);
        const p1 = C.from(p), q1 = C.from(q), p2 = C.from(p), q2 = C.from(q);
        k.sgd(n, p1, g, 0.1);
        k.sgd(m, q1, h, 0.1);
        k.sgd2(n, p2, g, m, q2, h, 0.1);
        expectAllBitwiseEqual(['p', 'q'], [p2, q2], [p1, q1]);
        if (n > 0) expect(p2[0]).not.toBe(p[0]);
        if (m > 0) expect(q2[m - 1]).not.toBe(q[m - 1]);
      }
    });

    it('SGD pairs the parameters (a tied pair, mixed dtypes, an odd one last): the values of one sgd call each', () => {
      const dtype = C === Float32Array ? 'float32' : 'float64', other = dtype === 'float32' ? 'float64' : 'float32';
      const make = (): Tensor[] => [randn([30, 7], 1).astype(dtype), randn([7], 2).astype(dtype),
        randn([5], 3).astype(other), randn([4], 4).astype(dtype), randn([3, 3], 5).astype(dtype)];
      const grads = make().map((t, i) => randn([...t.shape], 10 + i).astype(t.dtype));
      // pairs: (0, 0) one tensor twice (tied: updated twice), (1, 2) two dtypes, (3, 4) an sgd2 call; 1 alone last
      const order = [0, 0, 1, 2, 3, 4, 1];
      const got = make(), want = make(), k = getBackend();
      new SGD({ lr: 0.3 }).step(order.map((i) => ({ param: got[i], grad: grads[i] })));
      for (const i of order) k.sgd(want[i].size, want[i].data, grads[i].data, 0.3);
      expectAllBitwiseEqual(want.map((_, i) => `param ${i}`), got.map((t) => t.data), want.map((t) => t.data));
    });

    it('a subclass of SGD with its own update() is called for every parameter, not paired', () => {
      const seen: number[] = [];
      class Counting extends SGD {
        protected override update(p: Tensor, g: Tensor, lr: number): void {
          seen.push(p.size);
          super.update(p, g, lr);
        }
      }
      const dtype = C === Float32Array ? 'float32' : 'float64';
      const ps = [randn([3, 2], 1).astype(dtype), randn([2], 2).astype(dtype)];
      new Counting({ lr: 0.1 }).step(ps.map((param, i) => ({ param, grad: randn([...param.shape], 5 + i).astype(dtype) })));
      expect(seen).toEqual([6, 2]);
    });

    it("fit() takes its loss and accuracy from softmaxCrossEntropyArgmax, sgd2 a layer's pair; label smoothing not", async () => {
      const dtype = C === Float32Array ? 'float32' : 'float64';
      const x = randn([40, 6], 7).astype(dtype), y = labelsOf(40, 3, 1), k = getBackend();
      const losses: number[] = [], correct: number[] = [];
      const fusedSpy = vi.spyOn(k, 'softmaxCrossEntropyArgmax').mockImplementation((rows, cols, logits, labels, grad, pred) => {
        const [l, g, p] = separate(C, rows, cols, logits, labels);
        grad.set(g);
        pred.set(p);
        losses.push(l * rows);
        correct.push(p.filter((c, r) => c === labels[r]).length);
        return l;
      });
      const sgd2 = vi.spyOn(k, 'sgd2'), sgd = vi.spyOn(k, 'sgd'), index = vi.spyOn(k, 'softmaxCrossEntropyIndex');
      try {
        const net = new Sequential([new Dense(6, 8), new ReLU(), new Dense(8, 3)], { seed: 1, dtype });
        const h = await net.fit(x, y, { optimizer: new SGD({ lr: 0.1 }), epochs: 1, batchSize: 16, shuffle: false });
        expect(fusedSpy).toHaveBeenCalledTimes(3);
        expect(sgd2).toHaveBeenCalledTimes(6);  // 3 steps of 2 Dense layers
        expect(sgd).not.toHaveBeenCalled();
        expect(h.loss[0]).toBe(losses.reduce((a, b) => a + b) / 40);
        expect(h.accuracy?.[0]).toBe(correct.reduce((a, b) => a + b) / 40);
        fusedSpy.mockClear();
        index.mockClear();
        await net.fit(x, y, { optimizer: new SGD({ lr: 0.1 }), epochs: 1, batchSize: 16, shuffle: false, labelSmoothing: 0.1 });
        expect(fusedSpy).not.toHaveBeenCalled();
        expect(index).not.toHaveBeenCalled();  // smoothing: the target form
      } finally {
        vi.restoreAllMocks();
      }
    });
  });
});

describe.skipIf(nativeIsas.length === 0).each(nativeIsas)('sgd2 and softmaxCrossEntropyArgmax threads on $label', (bc) => {
  beforeEach(() => useBackend(bc));

  it('the same bits on 1 and 2 threads, sgd2 past the pool threshold (65,536)', () => {
    const C = Float32Array, n = 78400, m = 100, k = getBackend();
    const run = (): FloatArray[] => {
      const p = randomArray(C, n, 1), q = randomArray(C, m, 2);
      k.sgd2(n, p, randomArray(C, n, 3), m, q, randomArray(C, m, 4), 0.1);
      const [loss, grad] = fused(C, 100, 10, randomArray(C, 1000, 5, -4, 4), labelsOf(100, 10, 2), false);
      return [p, q, grad, C.of(loss)];
    };
    const one = withThreads(1, run), two = withThreads(2, run);
    expectAllBitwiseEqual(['p', 'q', 'grad', 'loss'], two, one);
  });
});
