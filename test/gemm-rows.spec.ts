// A row of a product gives the same bits whatever rows share the call: a sample predicted alone is the same
// sample inside a batch (tasks, callbacks and dataset specs rely on it for the layers). The native gemm takes
// another path for a few rows (no packing) than for many; both must sum each element of C over K in the same
// order, with K cut into the same blocks.
import { beforeEach, describe, expect, it } from 'vitest';
import { getBackend } from '../src/backend/index';
import { Dense } from '../src/layers/dense';
import { ReLU } from '../src/layers/relu';
import { Sequential } from '../src/network';
import { Tensor, type FloatArray } from '../src/tensor';
import { backends, dtypes, randomArray, useBackend, withThreads } from './helpers';

type Ctor = Float32ArrayConstructor | Float64ArrayConstructor;

/** Rows [r0, r0 + m) of op(A), as its own op(A) (A is K x M when transposed: the rows are columns). */
function rowsOf(C: Ctor, A: FloatArray, transA: boolean, M: number, K: number, r0: number, m: number): FloatArray {
  if (!transA) return A.slice(r0 * K, (r0 + m) * K);
  const out = new C(K * m);
  for (let k = 0; k < K; k++) for (let r = 0; r < m; r++) out[k * m + r] = A[k * M + r0 + r];
  return out;
}

/** The first index where a and b differ as bit patterns (NaN payloads and -0 included), or -1. */
function firstDifference(a: FloatArray, b: FloatArray): number {
  const bits = (v: FloatArray) => (v instanceof Float64Array
    ? new BigUint64Array(v.buffer as ArrayBuffer, v.byteOffset, v.length)
    : new Uint32Array(v.buffer as ArrayBuffer, v.byteOffset, v.length));
  if (a.length !== b.length) return Math.min(a.length, b.length);
  const x = bits(a), y = bits(b);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return i;
  return -1;
}

interface Case { transA: boolean; transB: boolean; alpha: number; beta: number }

/**
 * For each batch size and each m, the m rows starting at each offset computed alone against the same rows of the
 * whole batch: the bits must be equal. Returns the first mismatch described, or null.
 */
function compareRows(C: Ctor, K: number, N: number, bigs: number[], ms: number[], c: Case,
  seed: number): string | null {
  const B = randomArray(C, K * N, seed + 1);
  for (const M of bigs) {
    const A = randomArray(C, M * K, seed + M);
    const C0 = randomArray(C, M * N, seed + 2 * M);
    const all = C0.slice();
    getBackend().gemm(c.transA, c.transB, M, N, K, c.alpha, A, B, c.beta, all);
    for (const m of ms) {
      for (const r0 of new Set([0, Math.min(13, M - m), M - m])) {
        const alone = C0.slice(r0 * N, (r0 + m) * N);
        getBackend().gemm(c.transA, c.transB, m, N, K, c.alpha, rowsOf(C, A, c.transA, M, K, r0, m), B, c.beta, alone);
        const d = firstDifference(alone, all.subarray(r0 * N, (r0 + m) * N));
        if (d >= 0) {
          return `${JSON.stringify(c)} K=${K} N=${N}: rows ${r0}..${r0 + m - 1} alone differ from batch ${M} at ` +
            `row ${r0 + Math.floor(d / N)} column ${d % N}: ${alone[d]} vs ${all[r0 * N + d]}`;
        }
      }
    }
  }
  return null;
}

// K crossing the K blocks (256 deep) by one, and more blocks than one pass of a few rows sums at once; N below,
// at and across the vector and tile widths of every ISA.
const shapes: [number, number][] = [[784, 100], [257, 33], [600, 256], [1100, 70], [513, 7], [100, 10], [300, 129]];

describe.each(backends)('gemm: rows alone and in a batch on $label', (bc) => {
  beforeEach(() => useBackend(bc));

  describe.each(dtypes)('%s', (_name, C) => {
    it('rows 1..8 alone give the bits they have in batches of 64, 100 and 257 (a layer forward), 1 and 2 threads', () => {
      const dense: Case = { transA: false, transB: false, alpha: 1, beta: 0 };
      let seed = 1;
      for (const threads of bc.backend === 'native' ? [1, 2] : [1]) {
        withThreads(threads, () => {
          for (const [K, N] of shapes) {
            expect(compareRows(C, K, N, [64, 100, 257], [1, 2, 3, 4, 5, 6, 7, 8], dense, seed += 1000)).toBeNull();
          }
        });
      }
    });

    it('the same with A or B transposed, accumulating into C, and alpha, beta other than 1, 0', () => {
      const cases: Case[] = [
        { transA: true, transB: false, alpha: 1, beta: 0 },
        { transA: false, transB: true, alpha: 1, beta: 0 },
        { transA: false, transB: false, alpha: 1, beta: 1 },
        { transA: false, transB: false, alpha: -0.75, beta: 0.5 },
        { transA: true, transB: false, alpha: 0.3, beta: 1 },
        { transA: true, transB: true, alpha: -0.75, beta: 0.5 },
      ];
      let seed = 7;
      for (const c of cases) {
        for (const [K, N] of [[784, 100], [257, 33], [600, 256]]) {
          expect(compareRows(C, K, N, [100], [1, 3, 4, 5], c, seed += 1000)).toBeNull();
        }
      }
    });
  });

  it('a product narrow and shallow enough to skip packing (N <= 32, K <= 256: the batched 16³ products) gives its ' +
    'rows\' bits in a product large enough to be packed and threaded', () => {
    const cases: Case[] = [
      { transA: false, transB: false, alpha: 1, beta: 0 },
      { transA: true, transB: false, alpha: 1, beta: 0 },
      { transA: false, transB: false, alpha: -0.75, beta: 0.5 },
    ];
    let seed = 31;
    for (const C of [Float32Array, Float64Array]) {
      for (const c of cases) {
        for (const [K, N] of [[16, 16], [256, 32], [100, 10], [3, 17], [200, 9], [7, 24], [64, 8]]) {
          // at least 2e6 flops: the packed, threaded path
          const big = Math.ceil(1e6 / (N * K)) + 5;
          expect(compareRows(C, K, N, [big], [5, 11, 12, 13, 16, 25], c, seed += 1000)).toBeNull();
        }
      }
    }
  });

  it('predictProba of one MNIST-sized row (784-100-10) is that row of a batch of 64, bit for bit', () => {
    for (const dtype of ['float32', 'float64'] as const) {
      const net = new Sequential([new Dense(784, 100), new ReLU(), new Dense(100, 10)], { seed: 3, dtype }).eval();
      const x = new Tensor(randomArray(dtype === 'float32' ? Float32Array : Float64Array, 64 * 784, 11), [64, 784]);
      const all = net.predictProba(x).data.slice();
      for (const i of [0, 5, 63]) {
        const one = net.predictProba(new Tensor(x.data.slice(i * 784, (i + 1) * 784), [1, 784])).data;
        expect(firstDifference(one, all.subarray(i * 10, (i + 1) * 10))).toBe(-1);
      }
    }
  });
});

/** A 53-bit hash of the bits of a float array. */
function hashBits(v: FloatArray): string {
  const words = new Int32Array(v.buffer as ArrayBuffer, v.byteOffset, v.byteLength >> 2);
  let h1 = 0x811c9dc5, h2 = 0x01000193;
  for (let i = 0; i < words.length; i++) {
    h1 = Math.imul(h1 ^ words[i], 0x9e3779b1);
    h1 ^= h1 >>> 15;
    h2 = Math.imul((h2 + words[i]) | 0, 0xc2b2ae35);
    h2 ^= h2 >>> 13;
  }
  return ((h1 >>> 0) * 2 ** 21 + (h2 >>> 11)).toString(16);
}

// Products large enough for the packed, threaded path with op(B) packed (B over 1 MB, or transposed), edges in every
// direction (M, N and K not multiples of the tiles and K blocks). Their bits were recorded before the packing of B
// moved into the compute tasks, which must change how the work is shared out, never a bit; 1 and 2 threads alike.
// NODENN_GEMM_RECORD=1 prints the hashes instead of checking them.
const pinned: [M: number, N: number, K: number, transA: boolean, transB: boolean, alpha: number, beta: number][] = [
  [300, 520, 600, false, false, 1, 0],
  [150, 70, 530, false, true, 0.5, 0.25],
  [131, 97, 300, true, true, 1, 1],
];
// Each element is one chain of multiply-adds over k, whatever the vector width: the ISAs with FMA (avx2, avx512,
// and arm64's neon, recorded under qemu-aarch64) give the same bits, and arm64's scalar (no contraction) gives x86
// scalar's (SSE2, no FMA).
const fusedHashes = ['d4a9ad89d3b39', '14bf3951ffa9cd', '1bfafd247f8ce2', '1fbb69901e4fad', '1a21ad1eaedbf1', '1267bd21fb272f'];
const pinnedHashes: Record<string, string[]> = {
  'native/scalar': ['2f85b92b4c300', '3e1a5218ce443', '1a37c37e3fe070', '1ddd775bc3335', '8f015add159d9', 'a1dd9bb64c5b0'],
  'native/avx2': fusedHashes,
  'native/avx512': fusedHashes,
  'native/neon': fusedHashes,
};

describe.each(backends.filter((b) => b.backend === 'native'))('gemm: packed products\' bits on $label', (bc) => {
  beforeEach(() => useBackend(bc));

  it('equal the recorded ones for float32 and float64, 1 and 2 threads', () => {
    const got: string[] = [];
    for (const [, C] of dtypes) {
      for (const [M, N, K, transA, transB, alpha, beta] of pinned) {
        const A = randomArray(C, M * K, M + K), B = randomArray(C, K * N, N + K), C0 = randomArray(C, M * N, M + N);
        const hashes = [1, 2].map((threads) => withThreads(threads, () => {
          const out = C0.slice();
          getBackend().gemm(transA, transB, M, N, K, alpha, A, B, beta, out);
          return hashBits(out);
        }));
        expect(hashes[1]).toBe(hashes[0]);
        got.push(hashes[0]);
      }
    }
    if (process.env.NODENN_GEMM_RECORD) console.log(`'${bc.label}': ${JSON.stringify(got)},`);
    else expect(got).toEqual(pinnedHashes[bc.label]);
  });
});
