// The network's kernels (ops, losses, optimizer updates) on every backend and dtype against plain formulas,
// plus: native and TS agree, and 1 and 2 threads give bitwise-identical results.
import { beforeEach, describe, expect, it } from 'vitest';
import { getBackend, tsBackend } from '../src/backend/index';
import type { Kernels } from '../src/backend/backend';
import type { FloatArray } from '../src/tensor';
import {
  backends, dtypes, expectBitwiseEqual, expectClose, nativeIsas, randomArray, useBackend, withThreads, type Ctor,
} from './helpers';

const n = 1037;

function tol(C: Ctor): number {
  return C === Float32Array ? 2e-6 : 1e-13;
}

describe.each(backends)('ops, softmax backward and losses on $label', (bc) => {
  beforeEach(() => useBackend(bc));

  describe.each(dtypes)('%s', (_name, C) => {
    it('mul, add, scale, axpy and sumSquares match their formulas', () => {
      const a = randomArray(C, n, 1), b = randomArray(C, n, 2), y = new C(n);
      const k = getBackend();
      k.mul(n, a, b, y);
      expectClose(y, Array.from(a, (v, i) => v * b[i]), tol(C));
      k.add(n, a, b, y);
      expectClose(y, Array.from(a, (v, i) => v + b[i]), tol(C));
      const inPlace = a.slice();
      k.mul(n, inPlace, b, inPlace);
      expectClose(inPlace, Array.from(a, (v, i) => v * b[i]), tol(C));
      const s = a.slice();
      k.scale(n, s, -0.5);
      expectClose(s, Array.from(a, (v) => v * -0.5), tol(C));
      const ax = b.slice();
      k.axpy(n, 0.25, a, ax);
      expectClose(ax, Array.from(a, (v, i) => b[i] + 0.25 * v), tol(C));
      let sq = 0;
      for (const v of a) sq += v * v;
      expect(k.sumSquares(n, a)).toBeCloseTo(sq, 9);
      expect(k.sumSquares(0, a)).toBe(0);
    });

    it('div, power and powerBackward match their formulas (PyTorch\'s rules where a derivative is undefined)', () => {
      const a = randomArray(C, n, 1, 0.1, 3), b = randomArray(C, n, 2, -2, 2), y = new C(n);
      const k = getBackend();
      k.div(n, a, b, y);
      expectClose(y, Array.from(a, (v, i) => v / b[i]), tol(C) * 1e3);  // |a / b| reaches 1e3 near b = 0
      k.power(n, a, b, y);
      expectClose(y, Array.from(a, (v, i) => Math.pow(v, b[i])), tol(C) * 100);
      const dy = randomArray(C, n, 3), dx = new C(n), de = new C(n);
      k.powerBackward(n, a, b, dy, dx, de);
      expectClose(dx, Array.from(a, (v, i) => dy[i] * b[i] * Math.pow(v, b[i] - 1)), tol(C) * 1e3);
      expectClose(de, Array.from(a, (v, i) => dy[i] * Math.pow(v, b[i]) * Math.log(v)), tol(C) * 100);
      const x = new C([0, 0, 0, -2, 2]), e = new C([2, 0, -1, 3, 0]), ones = new C([1, 1, 1, 1, 1]);
      k.power(5, x, e, y);
      expect(Array.from(y.subarray(0, 5))).toEqual([0, 1, Infinity, -8, 1]);
      k.powerBackward(5, x, e, ones, dx, de);
      expect(Array.from(dx.subarray(0, 5))).toEqual([0, 0, -Infinity, 12, 0]);
      expect(Array.from(de.subarray(0, 5))).toEqual([0, 0, -Infinity, NaN, expect.closeTo(Math.LN2, 6)]);  // 0^-1 ln 0 = ∞ · −∞
      // the quotient and its gradients may overwrite an input; the two gradients may not share memory
      const q = a.slice(); k.div(n, q, b, q);
      expectClose(q, Array.from(a, (v, i) => v / b[i]), tol(C) * 1e3);
      expect(() => k.powerBackward(n, a, b, dy, dx, dx)).toThrow(/de must not share memory with dx/);
    });

    it('relu lets NaN through (a NaN input must reach the loss)', () => {
      const y = new C(3);
      getBackend().activationForward('relu', 3, new C([NaN, -1, 2]), y, 0);
      expect(Array.from(y)).toEqual([NaN, 0, 2]);
    });

    it('argmaxRows returns the first maximum of each row', () => {
      const x = new C([1, 3, 3, 0, -1, -2, -3, -1, 5, 5, 5, 5]);
      const out = new Int32Array(3);
      getBackend().argmaxRows(3, 4, x, out);
      expect(Array.from(out)).toEqual([1, 0, 0]);
      const big = randomArray(C, 64 * 10, 3), idx = new Int32Array(64);
      getBackend().argmaxRows(64, 10, big, idx);
      for (let r = 0; r < 64; r++) {
        const row = Array.from(big.subarray(r * 10, r * 10 + 10));
        expect(idx[r]).toBe(row.indexOf(Math.max(...row)));
      }
    });

    it('softmaxBackward gives y (dy - Σ dy y)', () => {
      const rows = 7, cols = 13;
      const x = randomArray(C, rows * cols, 4), y = new C(rows * cols), dy = randomArray(C, rows * cols, 5);
      getBackend().softmax(rows, cols, x, y);
      const dx = new C(rows * cols);
      getBackend().softmaxBackward(rows, cols, y, dy, dx);
      const want: number[] = [];
      for (let r = 0; r < rows; r++) {
        let dot = 0;
        for (let c = 0; c < cols; c++) dot += dy[r * cols + c] * y[r * cols + c];
        for (let c = 0; c < cols; c++) want.push(y[r * cols + c] * (dy[r * cols + c] - dot));
      }
      expectClose(dx, want, tol(C));
    });

    it('softmaxBackward of 2^30 rows of no columns writes nothing, at once (it walked the empty rows for seconds)', () => {
      const dx = new C([7]);
      const cpu = process.cpuUsage();
      getBackend().softmaxBackward(2 ** 30, 0, new C(0), new C(0), dx.subarray(0, 0));
      const used = process.cpuUsage(cpu);
      expect(Array.from(dx)).toEqual([7]);
      expect((used.user + used.system) / 1000).toBeLessThan(50);  // old native: 0.51-0.63 s (ts 1.6 s)
    });

    it('loss kernels match their formulas', () => {
      const rows = 9, cols = 5, m = rows * cols;
      const x = randomArray(C, m, 6, -30, 30), t = randomArray(C, m, 7, 0, 1), g = new C(m);
      const k = getBackend();
      let want = 0;
      for (let i = 0; i < m; i++) want += Math.max(x[i], 0) - x[i] * t[i] + Math.log1p(Math.exp(-Math.abs(x[i])));
      expect(k.bceLogits(m, x, t, g)).toBeCloseTo(want / m, 6);
      expectClose(g, Array.from(x, (v, i) => (1 / (1 + Math.exp(-v)) - t[i]) / m), tol(C));
      const p = randomArray(C, m, 8, 0.01, 0.99);
      want = 0;
      for (let i = 0; i < m; i++) want -= t[i] * Math.log(p[i]) + (1 - t[i]) * Math.log(1 - p[i]);
      expect(k.bceProbs(m, p, t, 1e-7, null)).toBeCloseTo(want / m, 6);
      want = 0;
      for (let i = 0; i < m; i++) want += (x[i] - t[i]) ** 2;
      expect(k.mse(rows, cols, x, t, false, g) / (want / rows)).toBeCloseTo(1, 6);
      expectClose(g, Array.from(x, (v, i) => (2 * (v - t[i])) / rows), tol(C));
    });
  });
});

// Every kernel of this file once, on fixed data; returns all outputs concatenated for comparisons.
function runAll(k: Kernels, C: Ctor): FloatArray[] {
  const m = 4099, a = randomArray(C, m, 1), b = randomArray(C, m, 2), out: FloatArray[] = [];
  const y = new C(m); k.mul(m, a, b, y); out.push(y);
  const z = new C(m); k.add(m, a, b, z); out.push(z);
  const q = new C(m); k.div(m, a, b, q); out.push(q);
  const pw = new C(m), pa = Array.from(a, Math.abs); k.power(m, C.from(pa), b, pw); out.push(pw);
  const pdx = new C(m), pde = new C(m); k.powerBackward(m, C.from(pa), b, a, pdx, pde); out.push(pdx, pde);
  const s = a.slice(); k.scale(m, s, 0.3); out.push(s);
  const ax = b.slice(); k.axpy(m, 0.7, a, ax); out.push(ax);
  out.push(new C([k.sumSquares(m, a)]));
  const sm = new C(m - 4099 % 17); k.softmax((m - 4099 % 17) / 17, 17, a, sm);
  const dx = new C(sm.length); k.softmaxBackward(sm.length / 17, 17, sm, b, dx); out.push(dx);
  const g = new C(m);
  out.push(new C([k.bceLogits(m, a, randomArray(C, m, 3, 0, 1), g)]), g.slice());
  out.push(new C([k.mse(m, 1, a, b, true, g)]), g.slice());
  const p = a.slice(), v = new C(m), h = new C(m), mm = new C(m), vv = new C(m);
  for (let step = 1; step <= 3; step++) {
    k.sgdMomentum(m, p, b, v, 0.1, 0.9, step === 2);
    k.adagrad(m, p, b, h, 0.01, 1e-7);
    k.rmsprop(m, p, b, h, 0.01, 0.9, 1e-7);
    k.adam(m, p, b, mm, vv, 0.01, 0.9, 0.999, 1e-8, step, 0.01);
  }
  out.push(p, v, h, mm, vv);
  return out;
}

describe.skipIf(nativeIsas.length === 0).each(nativeIsas)('ops, softmax backward and losses: threads and agreement on $label', (bc) => {
  beforeEach(() => useBackend(bc));

  it.each(dtypes)('1 and 2 threads give bitwise-identical results (%s)', (_n, C) => {
    const one = withThreads(1, () => runAll(getBackend(), C)), two = withThreads(2, () => runAll(getBackend(), C));
    one.forEach((a, i) => expectBitwiseEqual(a, two[i]));
  });

  it.each(dtypes)('agree with the TS reference (%s)', (_n, C) => {
    const nat = runAll(getBackend(), C), ref = runAll(tsBackend, C);
    nat.forEach((a, i) => expectClose(a, ref[i], C === Float32Array ? 1e-5 : 1e-12));
  });
});
