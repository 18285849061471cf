// Every kernel on every backend (ts, and native once per ISA), float32 and float64, against naive references.
import { beforeEach, describe, expect, it } from 'vitest';
import { getBackend, nativeAddon, nativeAvailable, tsBackend } from '../src/backend/index';
import { nativeBackend } from '../src/backend/native';
import type { ActivationKind } from '../src/backend/backend';
import type { FloatArray } from '../src/tensor';
import {
  backends, dtypes, expectClose, randomArray, tolerance, useBackend,
} from './helpers';
import * as ref from './reference';
import { STEP_DENSE } from '../src/backend/ts/plan';
import { enums } from '../src/backend/spec';

const sizes = [1, 3, 17, 65, 257];

describe.each(backends)('kernels on $label', (bc) => {
  beforeEach(() => useBackend(bc));

  describe.each(dtypes)('%s', (_name, C) => {
    it('gemm matches the triple loop on odd sizes, all transposes, alpha and beta', () => {
      const shapes: [number, number, number][] = [];
      for (const m of sizes) for (const n of [1, 17, 65]) for (const k of [1, 3, 257]) shapes.push([m, n, k]);
      shapes.push([257, 257, 65], [100, 100, 784], [33, 513, 300]);
      // N a multiple of every strip width (B read in place with no packed edge strip), and a B too big for that
      shapes.push([40, 64, 300], [13, 96, 5], [20, 512, 600]);
      // a few rows with a large B: the columns split over two tasks (N odd, N below one vector of the split)
      shapes.push([1, 100, 784], [3, 129, 300], [2, 17, 2000]);
      let seed = 1;
      for (const [M, N, K] of shapes) {
        for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
          const alpha = seed % 3 === 0 ? 1 : -0.75, beta = [0, 1, 0.5][seed % 3];
          const A = randomArray(C, M * K, seed++), B = randomArray(C, K * N, seed++);
          const Cm = randomArray(C, M * N, seed++);
          const expected = ref.gemm(ta, tb, M, N, K, alpha, A, B, beta, Cm);
          getBackend().gemm(ta, tb, M, N, K, alpha, A, B, beta, Cm);
          expectClose(Cm, expected, tolerance(C, K));
        }
      }
    });

    it('gemm with beta = 0 ignores NaN in C, K = 0 only scales C, and alpha = 0 reads neither A nor B', () => {
      const A = new C([1, 2, 3, 4]), B = new C([5, 6, 7, 8]);
      const out = new C([NaN, NaN, NaN, NaN]);
      getBackend().gemm(false, false, 2, 2, 2, 1, A, B, 0, out);
      expect(Array.from(out)).toEqual([19, 22, 43, 50]);
      const c2 = new C([1, 2, 3, 4]);
      getBackend().gemm(false, false, 2, 2, 0, 1, new C(0), new C(0), 3, c2);
      expect(Array.from(c2)).toEqual([3, 6, 9, 12]);
      // as in BLAS: alpha = 0 leaves C = beta C even where A B is NaN (0 * Inf would be NaN); 5 x 5 has a 4 x 4 tile
      const bad = new C(25).fill(Infinity), c3 = new C(25).fill(2);
      bad[7] = NaN;
      getBackend().gemm(false, false, 5, 5, 5, 0, bad, bad, 0.5, c3);
      expect(Array.from(c3)).toEqual(new Array(25).fill(1));
    });

    it('gemm writes only the first M N elements of a longer C (and beta scales only those)', () => {
      // rows and columns around the 4 x 4 tile, so that an edge or tile loop running one row too far shows
      for (const [M, N, K] of [[5, 5, 3], [8, 6, 2], [3, 9, 4]]) {
        for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
          for (const beta of [0, 0.5, 1]) {
            const A = randomArray(C, M * K, M + N), B = randomArray(C, K * N, K);
            const Cm = randomArray(C, M * N + 7, 3), tail = Array.from(Cm.subarray(M * N));
            const expected = ref.gemm(ta, tb, M, N, K, -0.75, A, B, beta, Cm.subarray(0, M * N));
            getBackend().gemm(ta, tb, M, N, K, -0.75, A, B, beta, Cm);
            expectClose(Cm.subarray(0, M * N), expected, tolerance(C, K));
            expect(Array.from(Cm.subarray(M * N))).toEqual(tail);
          }
        }
      }
    });

    it('activations forward and backward match their formulas', () => {
      for (const n of sizes) {
        const x = randomArray(C, n, n, -20, 20);
        x[0] = 0;
        const dy = randomArray(C, n, n + 1);
        const cases: [ActivationKind, (v: number) => number, (v: number, y: number) => number][] = [
          ['relu', (v) => Math.max(0, v), (v) => (v > 0 ? 1 : 0)],
          ['leakyRelu', (v) => (v > 0 ? v : 0.1 * v), (v) => (v > 0 ? 1 : 0.1)],
          ['sigmoid', (v) => 1 / (1 + Math.exp(-v)), (_v, y) => y * (1 - y)],
          ['tanh', (v) => Math.tanh(v), (_v, y) => 1 - y * y],
          ['step', (v) => (v > 0 ? 1 : 0), () => 0],
        ];
        for (const [kind, f, df] of cases) {
          const y = new C(n), dx = new C(n);
          getBackend().activationForward(kind, n, x, y, 0.1);
          expectClose(y, Array.from(x, f), C === Float32Array ? 1e-6 : 1e-14);
          getBackend().activationBackward(kind, n, x, y, dy, dx, 0.1);
          expectClose(dx, Array.from(x, (v, i) => dy[i] * df(v, y[i])), C === Float32Array ? 1e-6 : 1e-14);
        }
      }
    });

    it('sigmoid is stable for large |x| and relu can run in place', () => {
      const x = new C([-1000, -50, 0, 50, 1000]);
      const y = new C(5);
      getBackend().activationForward('sigmoid', 5, x, y, 0);
      expect(Array.from(y).every(Number.isFinite)).toBe(true);
      expect(y[0]).toBe(0);
      expect(y[2]).toBe(0.5);
      expect(y[4]).toBe(1);
      expect(Math.abs(y[1] / Math.exp(-50) - 1)).toBeLessThan(1e-6);
      getBackend().activationForward('relu', 5, x, x, 0);
      expect(Array.from(x)).toEqual([0, 0, 0, 50, 1000]);
    });

    it('step: 1 above 0, 0 at and below 0 (-0 too), NaN kept, in place; its gradient is 0 even for dx over dy', () => {
      const n = 70;  // past one SIMD register, with a tail
      const x = new C(n);
      for (let i = 0; i < n; i++) x[i] = [-1, 1, 2, 0, -0, 1e-30, -1e-30, NaN, Infinity, -Infinity][i % 10];
      const y = new C(n);
      getBackend().activationForward('step', n, x, y, 0);
      expect(Array.from(y.subarray(0, 10))).toEqual([0, 1, 1, 0, 0, 1, 0, NaN, 1, 0]);
      expect(Array.from(y)).toEqual(Array.from(x, (v) => (v > 0 ? 1 : v <= 0 ? 0 : NaN)));
      const dy = randomArray(C, n, 3);
      getBackend().activationBackward('step', n, x, y, dy, dy, 0);
      expect(Array.from(dy)).toEqual(new Array(n).fill(0));
      getBackend().activationForward('step', n, x, x, 0);
      expect(Array.from(x)).toEqual(Array.from(y));
    });

    it('activations keep the sign of a zero as the native kernels do: relu, leakyRelu and tanh of -0 are -0', () => {
      const n = 37;  // vectors and a tail
      const x = new C(n);
      for (let i = 0; i < n; i++) x[i] = i % 2 ? -0 : 0;
      const signs = (a: FloatArray) => Array.from(a, (v) => (Object.is(v, -0) ? '-0' : String(v)));
      for (const kind of ['relu', 'leakyRelu', 'tanh'] as const) {
        const y = new C(n).fill(NaN);
        getBackend().activationForward(kind, n, x, y, 0.1);
        expect(signs(y)).toEqual(signs(x));
        getBackend().unary(kind, n, x, y, 0.1, 0);
        expect(signs(y)).toEqual(signs(x));
      }
      const y = new C(n).fill(NaN);
      getBackend().activationForward('sigmoid', n, x, y, 0);
      expect(Array.from(y)).toEqual(new Array(n).fill(0.5));
      getBackend().unary('step', n, x, y, 0, 0);
      expect(signs(y)).toEqual(new Array(n).fill('0'));
    });

    it('binarySame is broadcastBinary of one shape, bit for bit: every op, NaN, ±Infinity, ±0, in place', () => {
      const k = getBackend();
      const bits = (v: FloatArray) => Buffer.from(v.buffer, v.byteOffset, v.byteLength);
      const special = [NaN, Infinity, -Infinity, 0, -0, 1, -1, 2];
      // one vector and its tail; past one chunk of the pool (threaded from 65,536 on natively)
      for (const n of [0, 1, 37, 70001]) {
        const a = randomArray(C, n, 3), b = randomArray(C, n, 4);
        for (let i = 0; i < n; i += 5) [a[i], b[i]] = [special[i % 8], special[(i >> 3) % 8]];
        for (const op of enums.binaryOp.values) {
          const want = new C(n).fill(7), got = new C(n).fill(8);
          k.broadcastBinary(op, 1, 1, 1, n, 1, 1, 1, n, a, b, want);
          k.binarySame(op, n, a, b, got);
          expect(bits(got).equals(bits(want))).toBe(true);
          // the result over either operand, as a.add_(b) and ops.sub(a, b, { out: b }) write it
          const intoA = a.slice(), intoB = b.slice();
          k.binarySame(op, n, intoA, b, intoA);
          k.binarySame(op, n, a, intoB, intoB);
          expect(bits(intoA).equals(bits(want))).toBe(true);
          expect(bits(intoB).equals(bits(want))).toBe(true);
        }
      }
      expect(() => k.binarySame('add', 3, new C(3), new C(2), new C(3))).toThrow(/b/);
    });

    it('ties of zeros of either sign: maximum and minimum give b, clamp keeps x, max reductions +0 and min -0', () => {
      // NaN aside, these are the only inputs where an operator off by its equality (> for >=) changes a result.
      const n = 37;
      const a = new C(n), b = new C(n), y = new C(n);
      for (let i = 0; i < n; i++) [a[i], b[i]] = i % 2 ? [-0, 0] : [0, -0];
      const signs = (v: ArrayLike<number>) => Array.from(v, (e) => (Object.is(e, -0) ? '-0' : String(e)));
      for (const op of ['maximum', 'minimum'] as const) {
        getBackend().broadcastBinary(op, 1, 1, 1, n, 1, 1, 1, n, a, b, y);
        expect(signs(y)).toEqual(signs(b));
      }
      for (const [lo, hi] of [[0, 1], [-0, 1], [-1, 0], [-1, -0]]) {
        getBackend().unary('clamp', n, a, y, lo, hi);
        expect(signs(y)).toEqual(signs(a));
      }
      for (const op of ['max', 'min'] as const) {
        const pairs = C.from(Array.from({ length: 2 * n }, (_, i) => (i % 2 ? b : a)[i >> 1]));
        getBackend().reduceAxis(op, n, 2, 1, pairs, y);
        // whichever comes first: the reductions' tie rule does not depend on the order
        expect(signs(y)).toEqual(Array(n).fill(op === 'max' ? '0' : '-0'));
      }
    });

    it('bias add and its backward (column sums, accumulated)', () => {
      for (const [rows, cols] of [[1, 1], [3, 17], [65, 3], [257, 65]]) {
        const y = randomArray(C, rows * cols, rows), b = randomArray(C, cols, cols);
        const expected = Array.from(y, (v, i) => v + b[i % cols]);
        getBackend().biasAdd(rows, cols, y, b);
        expectClose(y, expected, tolerance(C));
        const db = new C(cols).fill(1);
        const sums = new Float64Array(cols).fill(1);
        for (let i = 0; i < rows * cols; i++) sums[i % cols] += y[i];
        getBackend().biasBackward(rows, cols, y, db);
        expectClose(db, sums, tolerance(C, rows));
      }
    });

    it('softmax is stable and rows sum to one', () => {
      const x = new C([1000, 1001, 1002, -1000, 0, 1000]);
      const y = new C(6);
      getBackend().softmax(2, 3, x, y);
      const e = [Math.exp(-2), Math.exp(-1), 1];
      const s = e[0] + e[1] + e[2];
      expectClose(y.subarray(0, 3), e.map((v) => v / s), 1e-6);
      expectClose(y.subarray(3), [0, 0, 1], 1e-6);
    });

    it('softmax, its backward, bias add and its gradient read and write only their rows x cols elements', () => {
      // A row's maximum from its own values only: the next row's 1000 would underflow every exp of this row. 1000
      // starts every odd row and lies one past the end, so the even rows, the last one included, have exp sums above 1.
      // the maximum of row 1 is its last value, which only a scan of that row's own values finds
      const two = new C(4);
      getBackend().softmax(2, 2, new C([5, 0, 0, 1000]), two);
      expectClose(two, [1 / (1 + Math.exp(-5)), 1 / (1 + Math.exp(5)), 0, 1], 1e-6);
      for (const [rows, cols] of [[3, 2], [3, 17], [5, 33]]) {
        const x = randomArray(C, rows * cols + 1, cols, -3, 3);
        for (let r = 1; r <= rows; r += 2) x[r * cols] = 1000;
        x[rows * cols] = 1000;
        const tail = [-1.5, 2.5, -3];
        const y = new C([...new Array(rows * cols).fill(NaN), ...tail]);
        getBackend().softmax(rows, cols, x, y);
        const want = ref.softmax(rows, cols, x.subarray(0, rows * cols));
        expectClose(y.subarray(0, rows * cols), want, 1e-6);
        expect(Array.from(y.subarray(rows * cols))).toEqual(tail);
        const yy = C.from(want), dy = randomArray(C, rows * cols, 7);
        const dx = new C([...new Array(rows * cols).fill(NaN), ...tail]);
        getBackend().softmaxBackward(rows, cols, yy, dy, dx);
        expectClose(dx.subarray(0, rows * cols), ref.softmaxBackward(rows, cols, yy, dy), tolerance(C, cols));
        expect(Array.from(dx.subarray(rows * cols))).toEqual(tail);
        const db = new C([...new Array(cols).fill(0.5), ...tail]);
        getBackend().biasBackward(rows, cols, dy, db);
        expectClose(db.subarray(0, cols), ref.biasBackward(rows, cols, dy, new Float64Array(cols).fill(0.5)),
          tolerance(C, rows));
        expect(Array.from(db.subarray(cols))).toEqual(tail);
        const b = randomArray(C, cols, 8), yb = new C([...dy, ...tail]);
        getBackend().biasAdd(rows, cols, yb, b);
        expectClose(yb.subarray(0, rows * cols), ref.biasAdd(rows, cols, dy, b), tolerance(C));
        expect(Array.from(yb.subarray(rows * cols))).toEqual(tail);
      }
    });

    it('activations, batch norm and batched matmul write only their outputs\' elements of longer arrays', () => {
      const tail = [-1.5, 2.5, -3];
      const longer = (n: number) => new C([...new Array(n).fill(NaN), ...tail]);
      const keepsTail = (a: FloatArray, n: number) => expect(Array.from(a.subarray(n))).toEqual(tail);
      const n = 19, x = randomArray(C, n + 3, 1, -2, 2), dy = randomArray(C, n + 3, 2);
      for (const kind of ['relu', 'leakyRelu', 'sigmoid', 'tanh', 'step'] as const) {
        const y = longer(n);
        getBackend().activationForward(kind, n, x, y, 0.1);
        expectClose(y.subarray(0, n), ref.activationForward(kind, x.subarray(0, n), 0.1), 1e-6);
        keepsTail(y, n);
        const dx = longer(n);
        getBackend().activationBackward(kind, n, x, y, dy, dx, 0.1);
        expectClose(dx.subarray(0, n), ref.activationBackward(kind, x.subarray(0, n), y.subarray(0, n),
          dy.subarray(0, n), 0.1), 1e-6);
        keepsTail(dx, n);
      }
      // batch norm (N, C, S) = (3, 2, 5): y, mean and invstd forward, dx backward
      const bx = randomArray(C, 30, 3), gamma = new C([1.5, 0.5]), beta = new C([0.25, -1]);
      for (const training of [true, false]) {
        const y = longer(30), mean = longer(2), invstd = longer(2), rm = new C([0.5, -0.5]), rv = new C([2, 0.5]);
        getBackend().batchNormForward(3, 2, 5, bx, gamma, beta, y, mean, invstd, rm, rv, training, 0.1, 1e-5);
        const want = ref.batchNormForward(3, 2, 5, bx, gamma, beta, new C([0.5, -0.5]), new C([2, 0.5]), training, 0.1,
          1e-5);
        expectClose(y.subarray(0, 30), want.y, tolerance(C, 15));
        for (const [a, len] of [[y, 30], [mean, 2], [invstd, 2]] as const) keepsTail(a, len);
        const dx = longer(30), dg = new C(2), db = new C(2);
        getBackend().batchNormBackward(3, 2, 5, bx, randomArray(C, 30, 4), gamma, mean, invstd, dx, dg, db, training);
        expect(Array.from(dx.subarray(0, 30)).every(Number.isFinite)).toBe(true);
        keepsTail(dx, 30);
      }
      // two products of (2 x 3) (3 x 4) into a C of 2 · 2 · 4 elements and 3 more
      const A = randomArray(C, 12, 5), B = randomArray(C, 24, 6), Cm = longer(16);
      getBackend().gemmBatched(false, false, 2, 2, 4, 3, false, false, A, B, Cm);
      for (let b = 0; b < 2; b++) {
        expectClose(Cm.subarray(8 * b, 8 * b + 8), ref.gemm(false, false, 2, 4, 3, 1, A.subarray(6 * b, 6 * b + 6),
          B.subarray(12 * b, 12 * b + 12), 0, new Float64Array(8)), tolerance(C, 3));
      }
      keepsTail(Cm, 16);
    });

    it('gathers rows of every width at every offset of the destination, writing nothing outside the result', () => {
      // the native copy aligns its stores to the vector width (unaligned first and last vectors overlap the rest):
      // rows of 1-40 elements and 784 at 16 offsets cover every head and tail
      const x = randomArray(C, 50 * 784, 7), index = Int32Array.from([3, 0, 49, 3, 17]);
      for (const inner of [...Array.from({ length: 40 }, (_, i) => i + 1), 784]) {
        const xs = x.subarray(0, 50 * inner), want = Array.from(ref.gatherAxis(1, 50, inner, index, xs));
        for (let offset = 0; offset < 16; offset++) {
          const buffer = new C(offset + want.length + 16).fill(-7.5);
          getBackend().gatherAxis(index.length, 1, 50, inner, xs, index, buffer.subarray(offset, offset + want.length));
          expect(Array.from(buffer.subarray(offset, offset + want.length))).toEqual(want);
          expect(buffer.subarray(0, offset).every((v) => v === -7.5)).toBe(true);
          expect(buffer.subarray(offset + want.length).every((v) => v === -7.5)).toBe(true);
        }
      }
      // 400 rows (313,600 elements): tasks of 5 rows, on two threads where there are two
      const many = Int32Array.from({ length: 400 }, (_, j) => (j * 7) % 50), size = 400 * 784;
      const want = ref.gatherAxis(1, 50, 784, many, x), buffer = new C(size + 6).fill(-7.5);
      getBackend().gatherAxis(400, 1, 50, 784, x, many, buffer.subarray(3, 3 + size));
      let wrong = 0;
      for (let i = 0; i < size; i++) wrong += buffer[3 + i] === want[i] ? 0 : 1;
      expect(wrong).toBe(0);
      expect(Array.from(buffer.subarray(0, 3)).concat(Array.from(buffer.subarray(3 + size)))).toEqual(new Array(6).fill(-7.5));
    });

    it('swaps, gathers, scatters and one-hot read only count indices and write only their outputs of longer arrays', () => {
      const tail = [-1.5, 2.5, -3];
      const longer = (a: ArrayLike<number>) => new C([...Array.from(a), ...tail]);
      // x (outer 2, m 3, mid 2, n 4, inner 2) with its axes m and n swapped
      const x = randomArray(C, 96, 1);
      const y = longer(new Array(96).fill(NaN));
      getBackend().swapAxes(2, 3, 2, 4, 2, x, y);
      expect(Array.from(y.subarray(0, 96))).toEqual(Array.from(ref.swapAxes(2, 3, 2, 4, 2, x)));
      expect(Array.from(y.subarray(96))).toEqual(tail);
      // (outer 2, n 5, inner 3): 4 indices, and a fifth (valid) past count that must not be read; index 0 first, so
      // that an outer index one too far lands in the tail
      const src = randomArray(C, 30, 2), index = Int32Array.from([0, 1, 1, 3, 4]), count = 4;
      const g = longer(new Array(24).fill(NaN));
      getBackend().gatherAxis(count, 2, 5, 3, src, index, g);
      expect(Array.from(g.subarray(0, 24))).toEqual(Array.from(ref.gatherAxis(2, 5, 3, index.subarray(0, count), src)));
      expect(Array.from(g.subarray(24))).toEqual(tail);
      for (const accumulate of [false, true]) {
        const rows = randomArray(C, 24 + 3, 3), y0 = randomArray(C, 30, 4), s = longer(y0);
        getBackend().scatterAxis(count, 2, 5, 3, rows, index, s, accumulate);
        const want = ref.scatterAxis(2, 5, 3, index.subarray(0, count), rows.subarray(0, 24), y0, accumulate);
        expectClose(s.subarray(0, 30), want, tolerance(C, 2));
        expect(Array.from(s.subarray(30))).toEqual(tail);
      }
      // one-hot rows of 3 classes for the first 2 of 3 indices
      const hot = longer(new Array(6).fill(NaN));
      getBackend().oneHot(2, 3, Int32Array.from([2, 0, 1]), hot);
      expect(Array.from(hot)).toEqual([0, 0, 1, 1, 0, 0, ...tail]);
    });

    it('axis reductions write only their outputs of longer arrays; logSumExp of only -Infinity is -Infinity', () => {
      const tail = [-1.5, 2.5, -3];
      const longer = (n: number) => new C([...new Array(n).fill(NaN), ...tail]);
      // (outer 2, n 3, inner 4); column (1, ·, 2) is all -Infinity: log Σ exp = log 0
      const x = randomArray(C, 24, 1, -2, 2);
      for (let k = 0; k < 3; k++) x[(3 + k) * 4 + 2] = -Infinity;
      for (const op of ['sum', 'mean', 'prod', 'max', 'min', 'logSumExp'] as const) {
        const y = longer(8);
        getBackend().reduceAxis(op, 2, 3, 4, x, y);
        // column (1, ·, 2) gives -Infinity for every op (prod: (-Infinity)^3); the other columns are finite
        const want = ref.reduceAxis(op, 2, 3, 4, x);
        expect(y[6]).toBe(-Infinity);
        expect(want[6]).toBe(-Infinity);
        expectClose([...y.subarray(0, 6), y[7]], [...want.subarray(0, 6), want[7]], tolerance(C, 3));
        expect(Array.from(y.subarray(8))).toEqual(tail);
      }
      const finite = randomArray(C, 24, 2, -2, 2);
      const v = longer(8);
      getBackend().varianceAxis(2, 3, 4, 1, true, finite, v);
      expectClose(v.subarray(0, 8), ref.varianceAxis(2, 3, 4, 1, true, finite), tolerance(C, 12));
      expect(Array.from(v.subarray(8))).toEqual(tail);
      for (const op of ['argmax', 'argmin'] as const) {
        const out = Int32Array.from([...new Array(8).fill(-7), 5, 6, 7]);
        getBackend().argReduceAxis(op, 2, 3, 4, finite, out);
        expect(Array.from(out)).toEqual([...Array.from(ref.argReduceAxis(op, 2, 3, 4, finite)), 5, 6, 7]);
      }
      // the maximum along the axis from that column's own values: the next block's 1000 would underflow them, and
      // a last value taken as the maximum would overflow the first
      const peaks = new C([0, 0, 3, 3, 1000, 1000, 3, 1]);
      for (const log of [false, true]) {
        const y = new C(8);
        getBackend().softmaxAxis(log, 2, 2, 2, peaks, y);
        expectClose(y, ref.softmaxAxis(log, 2, 2, 2, peaks), 1e-6);
      }
      for (const log of [false, true]) {
        const y = longer(24);
        getBackend().softmaxAxis(log, 2, 3, 4, finite, y);
        expectClose(y.subarray(0, 24), ref.softmaxAxis(log, 2, 3, 4, finite), tolerance(C, 3));
        expect(Array.from(y.subarray(24))).toEqual(tail);
      }
    });

    it('broadcast binary operations and where() write only their outputs of longer arrays', () => {
      const tail = [-1.5, 2.5, -3];
      // a (2, 1, 3, 1) with b (1, 4, 1, 2): y (2, 4, 3, 2)
      const a = randomArray(C, 6, 1), b = randomArray(C, 8, 2), y = new C([...new Array(48).fill(NaN), ...tail]);
      getBackend().broadcastBinary('sub', 2, 1, 3, 1, 1, 4, 1, 2, a, b, y);
      const want = ref.broadcastMap([[2, 1, 3, 1], [1, 4, 1, 2]], [a, b], (p, q) => p - q).y;
      expectClose(y.subarray(0, 48), want, tolerance(C));
      expect(Array.from(y.subarray(48))).toEqual(tail);
      const cond = new C([1, 0, 0, 1, 1, 0]), w = new C([...new Array(48).fill(NaN), ...tail]);
      getBackend().broadcastWhere(2, 1, 3, 1, 1, 4, 1, 2, 1, 1, 1, 1, cond, b.subarray(0, 8), new C([7]), w);
      const wantW = ref.broadcastMap([[2, 1, 3, 1], [1, 4, 1, 2], [1, 1, 1, 1]], [cond, b, [7]],
        (c, p, q) => (c !== 0 ? p : q)).y;
      expect(Array.from(w.subarray(0, 48))).toEqual(Array.from(wantW));
      expect(Array.from(w.subarray(48))).toEqual(tail);
      // cond strided on axis 1, a on axis 2: cond (1, 2, 1, 2), a (2, 1, 3, 2), b a scalar
      const c2 = new C([1, 0, 0, 1]), a2 = randomArray(C, 12, 3), w2 = new C(24);
      getBackend().broadcastWhere(1, 2, 1, 2, 2, 1, 3, 2, 1, 1, 1, 1, c2, a2, new C([7]), w2);
      expect(Array.from(w2)).toEqual(Array.from(ref.broadcastMap([[1, 2, 1, 2], [2, 1, 3, 2], [1, 1, 1, 1]],
        [c2, a2, [7]], (c, p, q) => (c !== 0 ? p : q)).y));
      // unary maps, one element past n kept
      const u = new C([...new Array(5).fill(NaN), ...tail]);
      getBackend().unary('square', 5, new C([1, -2, 3, 0.5, -1, 4, 5, 6]), u, 0, 0);
      expect(Array.from(u)).toEqual([1, 4, 9, 0.25, 1, ...tail]);
    });

    it('batched matmul with K = 0 takes empty operands as they are, even views past the end of a shrunk buffer', () => {
      // An empty view whose buffer shrank below its offset cannot be cut with subarray (a RangeError)
      const bytes = C.BYTES_PER_ELEMENT;
      type Resizable = ArrayBuffer & { resize(n: number): void };
      const rab = new (ArrayBuffer as unknown as new (n: number, o: object) => Resizable)(16 * bytes,
        { maxByteLength: 16 * bytes });
      const A = new C(rab, 8 * bytes, 0), B = new C(rab, 12 * bytes, 0);
      rab.resize(4 * bytes);
      const Cm = new C(24).fill(NaN);
      getBackend().gemmBatched(false, false, 2, 3, 4, 0, false, false, A, B, Cm);
      expect(Array.from(Cm)).toEqual(new Array(24).fill(0));
    });

    it('planForward with no rows takes a scratch past the end of a shrunk buffer as it is', () => {
      // as above: subarray() of the scratch would throw; with no rows there is nothing to compute or write
      const bytes = C.BYTES_PER_ELEMENT;
      type Resizable = ArrayBuffer & { resize(n: number): void };
      const rab = new (ArrayBuffer as unknown as new (n: number, o: object) => Resizable)(16 * bytes,
        { maxByteLength: 16 * bytes });
      const scratch = new C(rab, 8 * bytes, 0);
      rab.resize(4 * bytes);
      const y = new C(3).fill(7);
      getBackend().planForward(0, 3, 6, 4, 4, 3, 0, 0, 0, Int32Array.of(STEP_DENSE, 0, 0, 0), new C(0),
        y.subarray(0, 0), scratch, randomArray(C, 12, 1), null, null, null, null, null, null, null);
      expect(Array.from(y)).toEqual([7, 7, 7]);
    });

    it('softmax cross-entropy with index labels and with one-hot targets: loss and gradient', () => {
      for (const [rows, cols] of [[1, 1], [3, 10], [17, 3], [65, 17]]) {
        const logits = randomArray(C, rows * cols, rows + cols, -30, 30);
        const labels = Int32Array.from({ length: rows }, (_, r) => (r * 7) % cols);
        const onehot = new C(rows * cols);
        labels.forEach((l, r) => { onehot[r * cols + l] = 1; });
        let loss = 0;
        const grad = new Float64Array(rows * cols);
        for (let r = 0; r < rows; r++) {
          const row = Array.from(logits.subarray(r * cols, (r + 1) * cols));
          const m = Math.max(...row);
          const lse = m + Math.log(row.reduce((a, v) => a + Math.exp(v - m), 0));
          loss += lse - row[labels[r]];
          row.forEach((v, c) => { grad[r * cols + c] = (Math.exp(v - lse) - (c === labels[r] ? 1 : 0)) / rows; });
        }
        loss /= rows;
        const g1 = new C(rows * cols), g2 = new C(rows * cols);
        const tol = C === Float32Array ? 1e-5 : 1e-12;
        const l1 = getBackend().softmaxCrossEntropyIndex(rows, cols, logits, labels, g1);
        const l2 = getBackend().softmaxCrossEntropyTarget(rows, cols, logits, onehot, g2);
        expect(Math.abs(l1 - loss)).toBeLessThan(tol * Math.max(1, loss));
        expect(Math.abs(l2 - loss)).toBeLessThan(tol * Math.max(1, loss));
        expectClose(g1, grad, tol);
        expectClose(g2, grad, tol);
        const l3 = getBackend().softmaxCrossEntropyIndex(rows, cols, logits, labels, null);
        expect(Math.abs(l3 - l1)).toBeLessThan(tol * Math.max(1, l1));
      }
    });

    it('loss kernels write only the first rows cols elements of a longer grad', () => {
      const rows = 3, cols = 5, n = rows * cols, k = getBackend();
      const x = randomArray(C, n, 1, -3, 3), p = randomArray(C, n, 2, 0.1, 0.9), t = randomArray(C, n, 3, 0, 1);
      const labels = new Int32Array([4, 0, 2]);
      const runs: [string, (g: FloatArray) => number, [number, Float64Array]][] = [
        ['softmaxCrossEntropyIndex', (g) => k.softmaxCrossEntropyIndex(rows, cols, x, labels, g), ref.softmaxCrossEntropyIndex(rows, cols, x, labels)],
        ['softmaxCrossEntropyTarget', (g) => k.softmaxCrossEntropyTarget(rows, cols, x, t, g), ref.softmaxCrossEntropyTarget(rows, cols, x, t)],
        ['crossEntropyProbs', (g) => k.crossEntropyProbs(rows, cols, p, t, 1e-7, g), ref.crossEntropyProbs(rows, p, t, 1e-7)],
        ['mse', (g) => k.mse(rows, cols, p, t, false, g), ref.mse(rows, p, t, false)],
        ['bceLogits', (g) => k.bceLogits(n, x, t, g), ref.bceLogits(x, t)],
        ['bceProbs', (g) => k.bceProbs(n, p, t, 1e-6, g), ref.bceProbs(p, t, 1e-6)],
      ];
      for (const [name, run, [loss, want]] of runs) {
        const grad = new C(n + 3).fill(7);
        expect(Math.abs(run(grad) - loss), name).toBeLessThan(tolerance(C, n) * Math.max(1, loss));
        expectClose(grad.subarray(0, n), want, tolerance(C, n));
        expect(Array.from(grad.subarray(n)), name).toEqual([7, 7, 7]);
      }
    });

    it('softmax cross-entropy golden value: uniform logits give log(C)', () => {
      const loss = getBackend().softmaxCrossEntropyIndex(2, 4, new C(8), new Int32Array([0, 3]), null);
      expect(loss).toBeCloseTo(Math.log(4), 6);
    });

    it('sgd update', () => {
      for (const n of sizes) {
        const p = randomArray(C, n, n), g = randomArray(C, n, n + 9);
        const expected = Array.from(p, (v, i) => v - 0.1 * g[i]);
        getBackend().sgd(n, p, g, 0.1);
        expectClose(p, expected, tolerance(C));
      }
    });
  });
});

describe('kernel lists', () => {
  it.skipIf(!nativeAvailable())('the native and TS backends offer the same kernels (native also their async forms and prepared plans)', () => {
    const native = nativeBackend(nativeAddon());
    const extra = ['async', 'planPrepare', 'planRun'];
    expect(Object.keys(native).filter((k) => !extra.includes(k)).sort()).toEqual(Object.keys(tsBackend).sort());
    expect([typeof native.planPrepare, typeof native.planRun]).toEqual(['function', 'function']);
    expect(Object.keys(native.async ?? {}).sort()).toEqual(['affine2d', 'flip2d', 'normalizeChannels', 'translate2d']);
  });
});
