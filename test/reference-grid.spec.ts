// Every kernel on every backend and ISA, float32 and float64, against the plain float64 references of
// test/reference.ts, on shapes chosen to cross each blocking and threading boundary of the native code:
//   gemm.cc       register tile MR x NR (MR 6 or 12 rows, NR = 2 vectors: 4..32 columns), the half-height edge
//                 tile (MR / 2), the K block (256), the tile of MT = 8 strips by 256 KiB of B, the unpacked
//                 paths (M <= 4; B^T narrower than a vector with K >= 4 vectors), the column split of a few
//                 rows with K N >= 32768, B read in place up to 1 MiB (untransposed), the 2e6-flop threshold
//                 for threads, K = 0 and alpha = 0.
//   conv.cc       C KH KW around 16 (unpacked product vs GEMM), pointwise 1x1, the shifted im2col (stride 1,
//                 OW = W), F around the vectors and above 4096 (no gathered transpose), the pixel tail of the
//                 transposed store, fused ReLU and 2x2 pooling, batch sizes around the backward-filter chunks
//                 (at most 16 chunks: 1, 15, 16, 17, 33, 64, 65) and the images-over-threads split.
//   pool.cc       the vectorized 2x2 stride-2 path (output widths around half a vector, odd sizes), the general
//                 windows (overlapping, gapped, uneven), ties and NaN, planes grouped per task (16k elements).
//   elementwise.cc, ops.cc, loss.cc, optim.cc: lengths around the vector width (8 and 16 lanes) and the chunked
//                 threading (16384-element chunks from 65536 on; sigmoid and tanh 4096 from 8192 on).
//   batchnorm.cc  plane lengths around the vector width, channels spread over threads from 32768 elements; layer
//                 norm rows around the vector width, tasks of max(16, ceil(16384 / n)) rows (the partial sums of the
//                 weight gradients), in parallel from 65536 elements.
//   augment.cc    planes grouped per task (16k elements: 21 planes of 28x28), odd and even widths (the middle
//                 column of a mirror image), shifts and sampling points inside, across and beyond every edge.
// Outputs a kernel overwrites start as NaN / Infinity (nothing may leak from them); outputs it accumulates into
// start as random values. A kernel joins the grid by adding a row to `grid`.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { getBackend, nativeAddon, setThreads, tsBackend } from '../src/backend/index';
import type { ActivationKind, Kernels } from '../src/backend/backend';
import type { FloatArray } from '../src/tensor';
import { backends, type Ctor, dtypes, randomArray, rng, tolerance, useBackend } from './helpers';
import * as ref from './reference';
import { STEP_ACTIVATION, STEP_DENSE, STEP_SOFTMAX, slopeWords } from '../src/backend/ts/plan';

// ---- the table ----

interface Check {
  what: string;
  got: ArrayLike<number> | number;
  want: ArrayLike<number> | number;
  /** relative to max(1, |want|) */
  tol: number;
}

interface Case {
  label: string;
  /** Runs the kernel on `k`; `reference(name, f)` computes f once per case, dtype and name (shared by backends). */
  run(k: Kernels, C: Ctor, seed: number, reference: <T>(name: string, f: () => T) => T): Check[];
}

interface Row {
  kernel: string;
  cases: Case[];
}

/** An output the kernel must overwrite: NaN, Infinity and -Infinity, so that anything read from it shows. */
const poison = [NaN, Infinity, -Infinity];
function poisoned(C: Ctor, n: number): FloatArray {
  const a = new C(n);
  for (let i = 0; i < n; i++) a[i] = poison[i % 3];
  return a;
}

const cast = (C: Ctor, a: ArrayLike<number>): FloatArray => C.from(a);

/** Values in a small set (ties) with a NaN every 29 elements. */
function tiesAndNaN(C: Ctor, n: number, seed: number): FloatArray {
  const r = rng(seed), a = new C(n);
  for (let i = 0; i < n; i++) a[i] = i % 29 === 11 ? NaN : Math.floor(r() * 7) / 2 - 1.5;
  return a;
}

// ---- gemm ----

type Trans = [boolean, boolean];
const allTrans: Trans[] = [[false, false], [true, false], [false, true], [true, true]];
const bNotTransposed: Trans[] = [[false, false], [true, false]];

const gemmShapes: [M: number, N: number, K: number, trans: Trans[]][] = [
  // a few rows, no packing (M <= 4): one column, row chunks of 4 or 8 vectors and a partial last vector
  [1, 1, 1, allTrans], [1, 129, 33, allTrans], [4, 17, 300, allTrans], [3, 7, 33, allTrans], [4, 5, 31, allTrans],
  // a few rows with a large B: columns split over two tasks from K N = 32768 on, and just below
  [3, 129, 300, allTrans], [2, 33, 1000, allTrans], [1, 16, 2048, allTrans], [1, 17, 1927, allTrans],
  // B^T transposed for a few rows by tasks of 64 rows of op(B), in parallel from K N = 262144
  [2, 300, 1000, allTrans],
  // B^T narrower than a vector with K >= 4 vectors: dot products, four columns at a time and the rest
  [40, 5, 64, allTrans], [40, 16, 64, allTrans], [40, 17, 64, allTrans], [7, 3, 31, allTrans],
  // K around the K block (256): beta applied on the first block only
  [13, 17, 255, allTrans], [13, 17, 256, allTrans], [13, 17, 257, allTrans], [7, 33, 513, allTrans],
  // more strips than one tile (8 strips of MR rows; 256 float32 or 128 float64 columns of B), in parallel
  [97, 257, 40, allTrans], [49, 129, 300, allTrans],
  // B read in place up to 1 MiB: float32 at the limit and one column past, float64 likewise; a partial last strip
  [7, 1024, 256, bNotTransposed], [7, 1025, 256, bNotTransposed], [7, 512, 256, bNotTransposed],
  [7, 513, 256, bNotTransposed], [7, 1027, 255, bNotTransposed],
];
// packed: M around MR (6, 12) and MR / 2 (3, 6); N around the vector (2, 4, 8, 16) and the strip (4 .. 32)
for (const M of [5, 7, 12, 13, 18, 19]) for (const N of [3, 8, 9, 16, 17, 33]) gemmShapes.push([M, N, 20, allTrans]);

function gemmCases(): Case[] {
  const cases: Case[] = [];
  for (const [M, N, K, trans] of gemmShapes) {
    for (const [ta, tb] of trans) {
      for (const [alpha, beta] of [[1, 0], [-0.75, 0.5]]) {
        cases.push({
          label: `M ${M} N ${N} K ${K} transA ${ta} transB ${tb} alpha ${alpha} beta ${beta}`,
          run(k, C, seed, reference) {
            const A = randomArray(C, M * K, seed), B = randomArray(C, K * N, seed + 1);
            const c0 = beta === 0 ? poisoned(C, M * N) : randomArray(C, M * N, seed + 2);
            const want = reference('C', () => ref.gemm(ta, tb, M, N, K, alpha, A, B, beta, c0));
            const got = C.from(c0);
            k.gemm(ta, tb, M, N, K, alpha, A, B, beta, got);
            return [{ what: 'C', got, want, tol: tolerance(C, K) }];
          },
        });
      }
    }
  }
  // K = 0 and alpha = 0: C = beta C (zero for beta = 0, whatever C held)
  for (const [M, N, K, alpha, beta] of [[3, 5, 0, 1, 0], [3, 5, 0, 1, 2], [3, 5, 0, 1, 1], [5, 9, 7, 0, 0],
    [5, 9, 7, 0, 0.5], [1, 3, 7, 0, 0]]) {
    cases.push({
      label: `M ${M} N ${N} K ${K} alpha ${alpha} beta ${beta}`,
      run(k, C, seed, reference) {
        const A = randomArray(C, M * K, seed), B = randomArray(C, K * N, seed + 1);
        const c0 = beta === 0 ? poisoned(C, M * N) : randomArray(C, M * N, seed + 2);
        const want = reference('C', () => ref.gemm(false, false, M, N, K, alpha, A, B, beta, c0));
        const got = C.from(c0);
        k.gemm(false, false, M, N, K, alpha, A, B, beta, got);
        return [{ what: 'C', got, want, tol: tolerance(C) }];
      },
    });
  }
  return cases;
}

// ---- convolution ----

type Geometry = ref.ConvGeometry;
const geo = (N: number, C: number, H: number, W: number, F: number, KH: number, KW: number, sh: number, sw: number,
  ph: number, pw: number): Geometry => ({ N, C, H, W, F, KH, KW, sh, sw, ph, pw });
const geoArgs = (g: Geometry) => [g.N, g.C, g.H, g.W, g.F, g.KH, g.KW, g.sh, g.sw, g.ph, g.pw] as const;
const geoLabel = (g: Geometry) =>
  `N ${g.N} C ${g.C} ${g.H}x${g.W} F ${g.F} kernel ${g.KH}x${g.KW} stride ${g.sh},${g.sw} pad ${g.ph},${g.pw}`;

const convGeometries: Geometry[] = [
  geo(2, 1, 7, 9, 5, 3, 3, 1, 1, 1, 1),    // C KH KW = 9: the unpacked product; stride 1, OW = W: shifted im2col
  geo(2, 1, 8, 7, 17, 4, 4, 1, 1, 0, 0),   // C KH KW = 16, the largest unpacked
  geo(2, 2, 6, 6, 17, 3, 3, 1, 1, 1, 1),   // C KH KW = 18: the GEMMs; F one past a vector
  geo(2, 4, 7, 7, 33, 3, 3, 1, 1, 1, 1),   // F one past a strip; 49 pixels: a tail after whole vectors
  geo(2, 2, 6, 5, 8, 3, 3, 1, 1, 1, 1),    // F = 8, a whole vector
  geo(2, 17, 5, 3, 16, 1, 1, 1, 1, 0, 0),  // pointwise, C KH KW = 17 (GEMM), F = 16 (unpacked backward-data)
  geo(2, 3, 4, 5, 17, 1, 1, 1, 1, 0, 0),   // pointwise, C KH KW = 3, F = 17 (backward-data through the GEMM)
  geo(2, 3, 5, 6, 4, 1, 1, 2, 2, 0, 0),    // 1x1 with stride 2: not pointwise
  geo(2, 3, 9, 6, 4, 5, 5, 2, 2, 2, 2),    // 5x5, stride 2, padding 2, H != W
  geo(2, 2, 5, 8, 6, 2, 3, 1, 2, 0, 1),    // uneven kernel, stride and padding per axis
  geo(2, 3, 8, 5, 5, 3, 2, 2, 1, 1, 0),    // the other way round
  geo(2, 2, 3, 3, 3, 5, 5, 1, 1, 1, 1),    // the kernel covers the whole padded input: one output
  geo(2, 2, 8, 8, 3, 2, 2, 3, 3, 0, 0),    // stride past the kernel: pixels no output reads
  geo(1, 2, 4, 5, 3, 3, 3, 1, 1, 2, 2),    // padding wider than the kernel's reach: outputs over zeros only
  geo(1, 2, 4, 4, 4097, 3, 3, 1, 1, 0, 0), // more than 4096 filters: the direct product instead of the gather
  geo(1, 2, 5, 5, 4097, 3, 3, 1, 1, 1, 1),
];

/**
 * Inference's two pooled convolutions in one call: the float64 reference of the two layers, and bitwise the backend's
 * own two conv2dForward calls. Each pair: the first geometry, then the second one's filters, kernel, stride, padding.
 */
function convChainRow(): Row {
  const pairs: [Geometry, number[]][] = [
    [geo(3, 1, 12, 12, 16, 3, 3, 1, 1, 1, 1), [32, 3, 3, 1, 1, 1, 1]],  // the bench's CNN, smaller: both direct
    [geo(2, 2, 11, 9, 5, 3, 2, 1, 2, 1, 0), [3, 2, 3, 2, 1, 0, 1]],     // odd sizes, strides, filters off a vector
    [geo(2, 1, 10, 10, 40, 3, 3, 1, 1, 1, 1), [17, 3, 3, 1, 1, 1, 1]],  // the second inner size 360: two K blocks
  ];
  const cases: Case[] = [];
  for (const [g, [F2, KH2, KW2, sh2, sw2, ph2, pw2]] of pairs) {
    for (const [bias, relu] of [[true, true], [false, false]]) {
      const [OH, OW] = ref.convOutput(g);
      const g2 = geo(g.N, g.F, Math.floor(OH / 2), Math.floor(OW / 2), F2, KH2, KW2, sh2, sw2, ph2, pw2);
      const [OH2, OW2] = ref.convOutput(g2);
      const midLen = g.N * g.F * g2.H * g2.W, yLen = g.N * F2 * Math.floor(OH2 / 2) * Math.floor(OW2 / 2);
      cases.push({
        label: `${geoLabel(g)} then ${geoLabel(g2)}${bias ? ' bias' : ''}${relu ? ' relu' : ''}`,
        run(k, C, seed, reference) {
          const x = randomArray(C, g.N * g.C * g.H * g.W, seed), w = randomArray(C, g.F * g.C * g.KH * g.KW, seed + 1);
          const w2 = randomArray(C, F2 * g.F * KH2 * KW2, seed + 2);
          const b = bias ? randomArray(C, g.F, seed + 3) : null, b2 = bias ? randomArray(C, F2, seed + 4) : null;
          const want = reference('y', () => ref.conv2dForward(g2, ref.conv2dForward(g, x, w, b, relu, true), w2, b2, relu,
            true));
          const y = poisoned(C, yLen), mid = poisoned(C, midLen), ySep = poisoned(C, yLen);
          k.conv2dChainForward(...geoArgs(g), F2, KH2, KW2, sh2, sw2, ph2, pw2, x, w, b, w2, b2, y, relu, relu);
          k.conv2dForward(...geoArgs(g), x, w, b, mid, relu, true);
          k.conv2dForward(...geoArgs(g2), mid, w2, b2, ySep, relu, true);
          const tol = tolerance(C, g.C * g.KH * g.KW * g.F * KH2 * KW2);
          return [{ what: 'y', got: y, want, tol }, { what: 'y = separate', got: y, want: ySep, tol: 0 }];
        },
      });
    }
  }
  return { kernel: 'conv2dChainForward', cases };
}

function convCases(g: Geometry, batchBoundary = false): Row[] {
  const [OH, OW] = ref.convOutput(g);
  const CKK = g.C * g.KH * g.KW, P = OH * OW;
  const xLen = g.N * g.C * g.H * g.W, wLen = g.F * CKK, yLen = g.N * g.F * P;
  const label = geoLabel(g);
  const forward: Case[] = [];
  const fusions: [boolean, boolean, boolean][] = batchBoundary ? [[true, false, false], [true, true, true]]
    : [[true, false, false], [false, true, false], [true, false, true], [true, true, true]];
  for (const [bias, relu, pool] of fusions) {
    if (pool && (OH < 2 || OW < 2)) continue;
    forward.push({
      label: `${label}${bias ? ' bias' : ''}${relu ? ' relu' : ''}${pool ? ' pool' : ''}`,
      run(k, C, seed, reference) {
        const x = randomArray(C, xLen, seed), w = randomArray(C, wLen, seed + 1);
        const b = bias ? randomArray(C, g.F, seed + 2) : null;
        const want = reference('y', () => ref.conv2dForward(g, x, w, b, relu, pool));
        const y = poisoned(C, want.length);
        k.conv2dForward(...geoArgs(g), x, w, b, y, relu, pool);
        return [{ what: 'y', got: y, want, tol: tolerance(C, CKK) }];
      },
    });
  }
  const backwardData: Case = {
    label,
    run(k, C, seed, reference) {
      const dy = randomArray(C, yLen, seed), w = randomArray(C, wLen, seed + 1);
      const want = reference('dx', () => ref.conv2dBackwardData(g, dy, w));
      const dx = poisoned(C, xLen);
      k.conv2dBackwardData(...geoArgs(g), dy, w, dx);
      return [{ what: 'dx', got: dx, want, tol: tolerance(C, g.F * g.KH * g.KW) }];
    },
  };
  const backwardFilter: Case[] = [true, false].map((withBias) => ({
    label: `${label}${withBias ? '' : ' dbias null'}`,
    run(k, C, seed, reference) {
      const x = randomArray(C, xLen, seed), dy = randomArray(C, yLen, seed + 1);
      const dw0 = randomArray(C, wLen, seed + 2), db0 = randomArray(C, g.F, seed + 3);
      if (batchBoundary && g.N !== 16) {
        // A batch of 16 first (16 chunks of one image): the partial sums it leaves in the kernel's scratch are
        // what a kernel that miscounts its chunks for this batch would add in.
        const g16 = { ...g, N: 16 };
        const n16 = 16 * g.C * g.H * g.W;
        k.conv2dBackwardFilter(...geoArgs(g16), randomArray(C, n16, seed + 4), randomArray(C, 16 * g.F * P, seed + 5),
          new C(wLen), new C(g.F));
      }
      const [dwWant, dbWant] = reference('dw', () => ref.conv2dBackwardFilter(g, x, dy, dw0, db0));
      const dw = C.from(dw0), db = C.from(db0);
      k.conv2dBackwardFilter(...geoArgs(g), x, dy, dw, withBias ? db : null);
      const tol = tolerance(C, g.N * P);
      return withBias ? [{ what: 'dweight', got: dw, want: dwWant, tol }, { what: 'dbias', got: db, want: dbWant, tol }]
        : [{ what: 'dweight', got: dw, want: dwWant, tol }, { what: 'dbias untouched', got: db, want: db0, tol: 0 }];
    },
  }));
  const rows: Row[] = [
    { kernel: 'conv2dForward', cases: forward },
    { kernel: 'conv2dBackwardData', cases: [backwardData] },
    { kernel: 'conv2dBackwardFilter', cases: backwardFilter },
  ];
  if (OH < 2 || OW < 2) return rows;
  // training's conv + 2x2 max pooling: the reference values, and bitwise the backend's own separate kernels
  const QH = Math.floor(OH / 2), QW = Math.floor(OW / 2), qLen = g.N * g.F * QH * QW;
  const poolForward: Case[] = [true, false].map((bias) => ({
    label: `${label}${bias ? ' bias' : ''}`,
    run(k, C, seed, reference) {
      const x = randomArray(C, xLen, seed), w = randomArray(C, wLen, seed + 1);
      const b = bias ? randomArray(C, g.F, seed + 2) : null;
      const want = reference('y', () => ref.conv2dForward(g, x, w, b, false, true));
      // the first maximum of each window of the reference output: the backend's separate kernels below share the
      // fused one's pooling code (its tie rule, its window offsets), so agreeing with them alone proves little
      const argWant = reference('argmax', () =>
        ref.maxPool2dForward(g.N, g.F, OH, OW, 2, 2, 2, 2, ref.conv2dForward(g, x, w, b))[1]);
      const y = poisoned(C, qLen), arg = new Int32Array(qLen).fill(-7);
      k.conv2dPoolForward(...geoArgs(g), x, w, b, y, arg);
      const full = poisoned(C, yLen), ySep = poisoned(C, qLen), argSep = new Int32Array(qLen).fill(-7);
      k.conv2dForward(...geoArgs(g), x, w, b, full);
      k.maxPool2dForward(g.N, g.F, OH, OW, 2, 2, 2, 2, full, ySep, argSep);
      return [{ what: 'y', got: y, want, tol: tolerance(C, CKK) }, { what: 'y = separate', got: y, want: ySep, tol: 0 },
        { what: 'argmax', got: arg, want: argWant, tol: 0 }, { what: 'argmax = separate', got: arg, want: argSep, tol: 0 }];
    },
  }));
  const poolBackward: Case[] = [[true, true], [false, false]].map(([withDx, withBias]) => ({
    label: `${label}${withDx ? '' : ' dx null'}${withBias ? '' : ' dbias null'}`,
    run(k, C, seed, reference) {
      const x = randomArray(C, xLen, seed), dy = randomArray(C, qLen, seed + 1), w = randomArray(C, wLen, seed + 2);
      const dw0 = randomArray(C, wLen, seed + 3), db0 = randomArray(C, g.F, seed + 4);
      // each pooled output's maximum somewhere in its window
      const r = rng(seed + 5), arg = new Int32Array(qLen);
      for (let i = 0; i < qLen; i++) {
        const q = i % (QH * QW), qh = Math.floor(q / QW), qw = q % QW;
        arg[i] = (2 * qh + (r() < 0.5 ? 0 : 1)) * OW + 2 * qw + (r() < 0.5 ? 0 : 1);
      }
      const dfull = reference('dfull', () => ref.maxPool2dBackward(g.N, g.F, OH, OW, QH, QW, dy, arg));
      const dxWant = reference('dx', () => ref.conv2dBackwardData(g, dfull, w));
      const [dwWant, dbWant] = reference('dw', () => ref.conv2dBackwardFilter(g, x, dfull, dw0, db0));
      const dx = withDx ? poisoned(C, xLen) : null, dw = C.from(dw0), db = C.from(db0);
      k.conv2dPoolBackward(...geoArgs(g), x, dy, arg, w, dx, dw, withBias ? db : null);
      // the separate kernels of the backend
      const dfSep = poisoned(C, yLen), dxSep = poisoned(C, xLen), dwSep = C.from(dw0), dbSep = C.from(db0);
      k.maxPool2dBackward(g.N, g.F, OH, OW, 2, 2, 2, 2, dy, arg, dfSep);
      k.conv2dBackwardData(...geoArgs(g), dfSep, w, dxSep);
      k.conv2dBackwardFilter(...geoArgs(g), x, dfSep, dwSep, dbSep);
      const tol = tolerance(C, g.N * OH * OW);
      const checks: Check[] = [{ what: 'dweight', got: dw, want: dwWant, tol },
        { what: 'dweight = separate', got: dw, want: dwSep, tol: 0 }];
      if (withDx) {
        checks.push({ what: 'dx', got: dx!, want: dxWant, tol: tolerance(C, g.F * g.KH * g.KW) },
          { what: 'dx = separate', got: dx!, want: dxSep, tol: 0 });
      }
      checks.push(withBias ? { what: 'dbias = separate', got: db, want: dbSep, tol: 0 }
        : { what: 'dbias untouched', got: db, want: db0, tol: 0 });
      if (withBias) checks.push({ what: 'dbias', got: db, want: dbWant, tol });
      return checks;
    },
  }));
  rows.push({ kernel: 'conv2dPoolForward', cases: poolForward }, { kernel: 'conv2dPoolBackward', cases: poolBackward });
  return rows;
}

/** Rows with the same kernel name merge into one. */
function merge(rows: Row[]): Row[] {
  const byKernel = new Map<string, Row>();
  for (const r of rows) {
    const m = byKernel.get(r.kernel);
    if (m) m.cases.push(...r.cases);
    else byKernel.set(r.kernel, { kernel: r.kernel, cases: [...r.cases] });
  }
  return [...byKernel.values()];
}

// the batch sum of backward-filter runs in at most 16 chunks of ceil(N / 16) images; images spread over threads
const batchSizes = [1, 15, 16, 17, 33, 64, 65];
const batchGeometries = [
  (N: number) => geo(N, 1, 5, 5, 3, 3, 3, 1, 1, 1, 1),  // C KH KW = 9: the unpacked product
  (N: number) => geo(N, 2, 8, 8, 3, 3, 3, 1, 1, 1, 1),  // F = 3 <= a vector, 64 pixels: the dot-product GEMM
  (N: number) => geo(N, 2, 4, 4, 17, 3, 3, 1, 1, 1, 1), // F = 17: the packed GEMM (native: the implicit im2col)
];

// ---- pooling ----

type PoolGeometry = [N: number, C: number, H: number, W: number, KH: number, KW: number, sh: number, sw: number];
const poolGeometries: PoolGeometry[] = [
  // 2x2 stride 2 (vectorized, half a vector of outputs per step): output widths 1, 2, 4, 8, 9, 17, odd sizes
  [1, 2, 2, 2, 2, 2, 2, 2], [2, 3, 5, 5, 2, 2, 2, 2], [1, 2, 4, 9, 2, 2, 2, 2], [1, 2, 3, 17, 2, 2, 2, 2],
  [1, 1, 4, 18, 2, 2, 2, 2], [1, 2, 5, 35, 2, 2, 2, 2], [2, 2, 28, 28, 2, 2, 2, 2],
  // the general windows: overlapping, gapped, uneven, 1x1, a stride that is 2 on one axis only
  [2, 3, 7, 9, 3, 3, 2, 2], [1, 2, 5, 6, 3, 3, 1, 1], [1, 2, 4, 5, 2, 2, 1, 1], [1, 2, 5, 8, 2, 3, 1, 2],
  [1, 2, 7, 5, 3, 2, 2, 1], [1, 2, 3, 3, 1, 1, 1, 1], [1, 2, 9, 9, 4, 4, 4, 4], [1, 2, 8, 8, 2, 2, 3, 3],
  [1, 2, 6, 6, 2, 2, 2, 1],
  // more planes than one task takes (21 planes of 28x28 per task)
  [3, 8, 28, 28, 2, 2, 2, 2], [3, 8, 28, 28, 3, 3, 2, 2],
];

function poolRows(): Row[] {
  const maxF: Case[] = [], maxB: Case[] = [], avgF: Case[] = [], avgB: Case[] = [];
  for (const g of poolGeometries) {
    const [N, Ch, H, W, KH, KW, sh, sw] = g;
    const OH = Math.floor((H - KH) / sh) + 1, OW = Math.floor((W - KW) / sw) + 1;
    const label = `N ${N} C ${Ch} ${H}x${W} window ${KH}x${KW} stride ${sh},${sw}`;
    maxF.push({
      label,
      run(k, C, seed, reference) {
        const x = tiesAndNaN(C, N * Ch * H * W, seed);
        const [yWant, argWant] = reference('y', () => ref.maxPool2dForward(...g, x));
        const y = poisoned(C, yWant.length), arg = new Int32Array(yWant.length).fill(-7);
        k.maxPool2dForward(...g, x, y, arg);
        return [{ what: 'y', got: y, want: yWant, tol: 0 }, { what: 'argmax', got: arg, want: argWant, tol: 0 }];
      },
    });
    maxB.push({
      label,
      run(k, C, seed, reference) {
        const [, arg] = reference('arg', () => ref.maxPool2dForward(...g, tiesAndNaN(C, N * Ch * H * W, seed)));
        const dy = randomArray(C, N * Ch * OH * OW, seed + 1);
        const want = reference('dx', () => ref.maxPool2dBackward(N, Ch, H, W, OH, OW, dy, arg));
        const dx = poisoned(C, N * Ch * H * W);
        k.maxPool2dBackward(...g, dy, arg, dx);
        return [{ what: 'dx', got: dx, want, tol: tolerance(C, KH * KW) }];
      },
    });
    avgF.push({
      label,
      run(k, C, seed, reference) {
        const x = randomArray(C, N * Ch * H * W, seed);
        const want = reference('y', () => ref.avgPool2dForward(...g, x));
        const y = poisoned(C, want.length);
        k.avgPool2dForward(...g, x, y);
        return [{ what: 'y', got: y, want, tol: tolerance(C, KH * KW) }];
      },
    });
    avgB.push({
      label,
      run(k, C, seed, reference) {
        const dy = randomArray(C, N * Ch * OH * OW, seed);
        const want = reference('dx', () => ref.avgPool2dBackward(...g, dy));
        const dx = poisoned(C, N * Ch * H * W);
        k.avgPool2dBackward(...g, dy, dx);
        return [{ what: 'dx', got: dx, want, tol: tolerance(C, KH * KW) }];
      },
    });
  }
  return [
    { kernel: 'maxPool2dForward', cases: maxF }, { kernel: 'maxPool2dBackward', cases: maxB },
    { kernel: 'avgPool2dForward', cases: avgF }, { kernel: 'avgPool2dBackward', cases: avgB },
  ];
}

// ---- element-wise kernels, reductions, losses, optimizer updates ----

// around 8 and 16 lanes; around the threaded chunks (16384 elements from 65536 on; 4096 from 8192 for exp/tanh)
const lengths = [1, 7, 8, 9, 15, 16, 17, 31, 33, 8191, 8193, 65535, 65537];
// rows x cols for the row-wise kernels (single-threaded): columns around the vector width
const rowShapes: [number, number][] = [[1, 1], [3, 7], [5, 8], [4, 9], [2, 16], [3, 17], [2, 33], [1, 1000], [64, 10]];
// rows x cols for the bias kernels: the chunking by rows (16384 / cols rows per chunk; one row past 16384 columns)
const biasShapes: [number, number][] = [[1, 1], [3, 7], [5, 8], [4, 9], [2, 17], [3, 33], [5000, 13], [5042, 13],
  [4, 16383], [5, 16385]];

/** A case for each length: `f` runs the kernel and returns its checks. */
function perLength(f: (n: number) => Case['run'], ns = lengths): Case[] {
  return ns.map((n) => ({ label: `n ${n}`, run: f(n) }));
}

function activationRows(): Row[] {
  const kinds: ActivationKind[] = ['relu', 'leakyRelu', 'sigmoid', 'tanh', 'step'];
  const input = (C: Ctor, n: number, seed: number) => {
    const x = randomArray(C, n, seed, -6, 6);
    x[0] = 0;
    if (n > 2) x[2] = NaN;
    return x;
  };
  const tol = (C: Ctor) => (C === Float32Array ? 2e-6 : 1e-14);
  return [
    {
      kernel: 'activationForward',
      cases: kinds.flatMap((kind) => perLength((n) => (k, C, seed, reference) => {
        const x = input(C, n, seed);
        const want = reference(kind, () => ref.activationForward(kind, x, 0.1));
        const y = poisoned(C, n);
        k.activationForward(kind, n, x, y, 0.1);
        const inPlace = C.from(x);
        k.activationForward(kind, n, inPlace, inPlace, 0.1);
        return [{ what: `${kind} y`, got: y, want, tol: tol(C) }, { what: `${kind} in place`, got: inPlace, want, tol: tol(C) }];
      })),
    },
    {
      kernel: 'activationBackward',
      cases: kinds.flatMap((kind) => perLength((n) => (k, C, seed, reference) => {
        const x = input(C, n, seed), dy = randomArray(C, n, seed + 1);
        const y = reference(`${kind} y`, () => cast(C, ref.activationForward(kind, x, 0.1)));
        const want = reference(kind, () => ref.activationBackward(kind, x, y, dy, 0.1));
        const dx = poisoned(C, n);
        k.activationBackward(kind, n, x, y, dy, dx, 0.1);
        return [{ what: `${kind} dx`, got: dx, want, tol: tol(C) }];
      })),
    },
  ];
}

function biasRows(): Row[] {
  return [
    {
      kernel: 'biasAdd',
      cases: biasShapes.map(([rows, cols]) => ({
        label: `${rows} x ${cols}`,
        run(k, C, seed, reference) {
          const y0 = randomArray(C, rows * cols, seed), b = randomArray(C, cols, seed + 1);
          const want = reference('y', () => ref.biasAdd(rows, cols, y0, b));
          const y = C.from(y0);
          k.biasAdd(rows, cols, y, b);
          return [{ what: 'y', got: y, want, tol: tolerance(C) }];
        },
      })),
    },
    {
      kernel: 'biasBackward',
      cases: biasShapes.map(([rows, cols]) => ({
        label: `${rows} x ${cols}`,
        run(k, C, seed, reference) {
          const dy = randomArray(C, rows * cols, seed), db0 = randomArray(C, cols, seed + 1);
          const want = reference('db', () => ref.biasBackward(rows, cols, dy, db0));
          const db = C.from(db0);
          k.biasBackward(rows, cols, dy, db);
          return [{ what: 'dbias', got: db, want, tol: tolerance(C, rows) }];
        },
      })),
    },
    {
      kernel: 'biasRelu',
      cases: biasShapes.map(([rows, cols]) => ({
        label: `${rows} x ${cols}`,
        run(k, C, seed, reference) {
          const y0 = randomArray(C, rows * cols, seed), b = randomArray(C, cols, seed + 1);
          const want = reference('y', () => ref.activationForward('relu', ref.biasAdd(rows, cols, y0, b), 0));
          const y = C.from(y0);
          k.biasRelu(rows, cols, y, b);
          return [{ what: 'y', got: y, want, tol: tolerance(C) }];
        },
      })),
    },
    {
      kernel: 'reluBiasBackward',
      cases: biasShapes.map(([rows, cols]) => ({
        label: `${rows} x ${cols}`,
        run(k, C, seed, reference) {
          // y: a ReLU's output (a quarter of it 0); the mask is y > 0
          const y = randomArray(C, rows * cols, seed, -0.5, 1.5).map((v) => (v < 0 ? 0 : v));
          const dy = randomArray(C, rows * cols, seed + 1), db0 = randomArray(C, cols, seed + 2);
          const wantDx = reference('dx', () => ref.activationBackward('relu', y, y, dy, 0));
          const wantDb = reference('db', () => ref.biasBackward(rows, cols, wantDx, db0));
          const dx = poisoned(C, rows * cols), db = C.from(db0);
          k.reluBiasBackward(rows, cols, y, dy, dx, db);
          return [{ what: 'dx', got: dx, want: wantDx, tol: 0 }, { what: 'dbias', got: db, want: wantDb, tol: tolerance(C, rows) }];
        },
      })),
    },
  ];
}

/** Soft targets: rows summing to 0.6, 1.7 and 1 in turn (the loss and its gradient scale with the sum). */
function softTargets(C: Ctor, rows: number, cols: number, seed: number): FloatArray {
  const t = randomArray(C, rows * cols, seed, 0, 1);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let c = 0; c < cols; c++) s += t[r * cols + c];
    const want = [0.6, 1.7, 1][r % 3];
    for (let c = 0; c < cols; c++) t[r * cols + c] *= want / s;
  }
  return t;
}

function rowwiseRows(): Row[] {
  const perShape = (f: (rows: number, cols: number) => Case['run']): Case[] =>
    rowShapes.map(([rows, cols]) => ({ label: `${rows} x ${cols}`, run: f(rows, cols) }));
  const lossTol = (C: Ctor, cols: number) => (C === Float32Array ? 1e-6 * Math.max(8, cols) : 1e-13 * Math.max(8, cols));
  return [
    {
      kernel: 'softmax',
      cases: perShape((rows, cols) => (k, C, seed, reference) => {
        const x = randomArray(C, rows * cols, seed, -20, 20);
        const want = reference('y', () => ref.softmax(rows, cols, x));
        const y = poisoned(C, rows * cols);
        k.softmax(rows, cols, x, y);
        return [{ what: 'y', got: y, want, tol: lossTol(C, cols) }];
      }),
    },
    {
      kernel: 'softmaxBackward',
      cases: perShape((rows, cols) => (k, C, seed, reference) => {
        const y = cast(C, ref.softmax(rows, cols, randomArray(C, rows * cols, seed, -3, 3)));
        const dy = randomArray(C, rows * cols, seed + 1);
        const want = reference('dx', () => ref.softmaxBackward(rows, cols, y, dy));
        const dx = poisoned(C, rows * cols);
        k.softmaxBackward(rows, cols, y, dy, dx);
        return [{ what: 'dx', got: dx, want, tol: lossTol(C, cols) }];
      }),
    },
    {
      kernel: 'softmaxCrossEntropyIndex',
      cases: perShape((rows, cols) => (k, C, seed, reference) => {
        const x = randomArray(C, rows * cols, seed, -20, 20);
        const labels = Int32Array.from({ length: rows }, (_, r) => (r * 7 + seed) % cols);
        const [loss, gradWant] = reference('ce', () => ref.softmaxCrossEntropyIndex(rows, cols, x, labels));
        const grad = poisoned(C, rows * cols);
        const got = k.softmaxCrossEntropyIndex(rows, cols, x, labels, grad);
        const lossOnly = k.softmaxCrossEntropyIndex(rows, cols, x, labels, null);
        const tol = lossTol(C, cols);
        return [{ what: 'loss', got, want: loss, tol }, { what: 'loss (no grad)', got: lossOnly, want: loss, tol },
          { what: 'grad', got: grad, want: gradWant, tol }];
      }),
    },
    {
      kernel: 'softmaxCrossEntropyArgmax (ties: the first maximum)',
      cases: perShape((rows, cols) => (k, C, seed, reference) => {
        const r = rng(seed), x = new C(rows * cols).map(() => Math.floor(r() * 4) - 2);
        const labels = Int32Array.from({ length: rows }, (_, i) => (i * 7 + seed) % cols);
        const [loss, gradWant] = reference('ce', () => ref.softmaxCrossEntropyIndex(rows, cols, x, labels));
        const want = reference('arg', () => ref.argmaxRows(rows, cols, x));
        const grad = poisoned(C, rows * cols), pred = new Int32Array(rows).fill(-7);
        const got = k.softmaxCrossEntropyArgmax(rows, cols, x, labels, grad, pred);
        const tol = lossTol(C, cols);
        return [{ what: 'loss', got, want: loss, tol }, { what: 'grad', got: grad, want: gradWant, tol },
          { what: 'argmax', got: pred, want, tol: 0 }];
      }),
    },
    {
      kernel: 'softmaxCrossEntropyTarget (soft targets summing to 0.6, 1.7, 1)',
      cases: perShape((rows, cols) => (k, C, seed, reference) => {
        const x = randomArray(C, rows * cols, seed, -20, 20), t = softTargets(C, rows, cols, seed + 1);
        const [loss, gradWant] = reference('ce', () => ref.softmaxCrossEntropyTarget(rows, cols, x, t));
        const grad = poisoned(C, rows * cols);
        const got = k.softmaxCrossEntropyTarget(rows, cols, x, t, grad);
        const lossOnly = k.softmaxCrossEntropyTarget(rows, cols, x, t, null);
        const tol = lossTol(C, cols);
        return [{ what: 'loss', got, want: loss, tol }, { what: 'loss (no grad)', got: lossOnly, want: loss, tol },
          { what: 'grad', got: grad, want: gradWant, tol }];
      }),
    },
    {
      kernel: 'argmaxRows (ties: the first maximum)',
      cases: perShape((rows, cols) => (k, C, seed, reference) => {
        const r = rng(seed), x = new C(rows * cols).map(() => Math.floor(r() * 4));
        const want = reference('arg', () => ref.argmaxRows(rows, cols, x));
        const out = new Int32Array(rows).fill(-7);
        k.argmaxRows(rows, cols, x, out);
        return [{ what: 'argmax', got: out, want, tol: 0 }];
      }),
    },
    {
      kernel: 'crossEntropyProbs (soft targets, zero probabilities)',
      cases: perShape((rows, cols) => (k, C, seed, reference) => {
        const p = cast(C, ref.softmax(rows, cols, randomArray(C, rows * cols, seed, -4, 4)));
        p[0] = 0;
        const t = softTargets(C, rows, cols, seed + 1);
        // 0 log 0 = 0: with eps 0, a class of no target mass at p = 0 adds nothing (not NaN) to loss and gradient
        t[0] = 0;
        const checks: Check[] = [];
        for (const eps of [0, 1e-7, 0.25]) {
          const [loss, gradWant] = reference(`${eps}`, () => ref.crossEntropyProbs(rows, p, t, eps));
          const grad = poisoned(C, rows * cols);
          const got = k.crossEntropyProbs(rows, cols, p, t, eps, grad);
          const lossOnly = k.crossEntropyProbs(rows, cols, p, t, eps, null);
          const tol = lossTol(C, cols);
          checks.push({ what: `loss eps ${eps}`, got, want: loss, tol }, { what: `loss (no grad) eps ${eps}`, got: lossOnly, want: loss, tol },
            { what: `grad eps ${eps}`, got: grad, want: gradWant, tol });
        }
        return checks;
      }),
    },
    {
      kernel: 'mse',
      cases: perShape((rows, cols) => (k, C, seed, reference) => {
        const p = randomArray(C, rows * cols, seed), t = randomArray(C, rows * cols, seed + 1);
        const checks: Check[] = [];
        for (const half of [false, true]) {
          const [loss, gradWant] = reference(`${half}`, () => ref.mse(rows, p, t, half));
          const grad = poisoned(C, rows * cols);
          const got = k.mse(rows, cols, p, t, half, grad);
          const lossOnly = k.mse(rows, cols, p, t, half, null);
          checks.push({ what: `loss half ${half}`, got, want: loss, tol: tolerance(C, rows * cols) },
            { what: `loss (no grad) half ${half}`, got: lossOnly, want: loss, tol: tolerance(C, rows * cols) },
            { what: `grad half ${half}`, got: grad, want: gradWant, tol: tolerance(C) });
        }
        return checks;
      }),
    },
  ];
}

function vectorRows(): Row[] {
  const tol = (C: Ctor) => tolerance(C);
  const bceLengths = [1, 7, 8, 9, 16, 17, 33, 1000];
  return [
    {
      kernel: 'mul and add (also in place)',
      cases: perLength((n) => (k, C, seed, reference) => {
        const a = randomArray(C, n, seed), b = randomArray(C, n, seed + 1);
        const prod = reference('mul', () => Float64Array.from(a, (v, i) => v * b[i]));
        const sum = reference('add', () => Float64Array.from(a, (v, i) => v + b[i]));
        const y1 = poisoned(C, n), y2 = poisoned(C, n), inPlace = C.from(b);
        k.mul(n, a, b, y1);
        k.add(n, a, b, y2);
        k.mul(n, a, inPlace, inPlace);
        return [{ what: 'a * b', got: y1, want: prod, tol: tol(C) }, { what: 'a + b', got: y2, want: sum, tol: tol(C) },
          { what: 'b = a * b', got: inPlace, want: prod, tol: tol(C) }];
      }),
    },
    {
      kernel: 'div and power (also in place)',
      cases: perLength((n) => (k, C, seed, reference) => {
        // positive bases: a fractional exponent of a negative base is NaN on every backend alike, and tests nothing
        const a = randomArray(C, n, seed, 0.1, 3), b = randomArray(C, n, seed + 1, -2, 2);
        if (n > 2) b[1] = 0;  // x / 0 = ±Infinity, x ^ 0 = 1
        const quot = reference('div', () => Float64Array.from(a, (v, i) => v / b[i]));
        const pow = reference('power', () => Float64Array.from(a, (v, i) => v ** b[i]));
        const y1 = poisoned(C, n), y2 = poisoned(C, n), inPlace = C.from(a);
        k.div(n, a, b, y1);
        k.power(n, a, b, y2);
        k.power(n, inPlace, b, inPlace);
        // power is computed in double, then rounded once
        const powTol = C === Float32Array ? 1e-6 : 1e-14;
        return [{ what: 'a / b', got: y1, want: quot, tol: tol(C) }, { what: 'a ^ b', got: y2, want: pow, tol: powTol },
          { what: 'a = a ^ b', got: inPlace, want: pow, tol: powTol }];
      }),
    },
    {
      kernel: 'powerBackward (x = 0 and e = 0 corners)',
      cases: perLength((n) => (k, C, seed, reference) => {
        const x = randomArray(C, n, seed, 0.1, 3), e = randomArray(C, n, seed + 1, -2, 2), dy = randomArray(C, n, seed + 2);
        if (n > 2) { x[0] = 0; e[0] = 2; e[2] = 0; }
        const [dxWant, deWant] = reference('pb', () => ref.powerBackward(x, e, dy));
        const dx = poisoned(C, n), de = poisoned(C, n);
        k.powerBackward(n, x, e, dy, dx, de);
        const powTol = C === Float32Array ? 1e-6 : 1e-14;
        return [{ what: 'dx', got: dx, want: dxWant, tol: powTol }, { what: 'de', got: de, want: deWant, tol: powTol }];
      }),
    },
    {
      kernel: 'scale and axpy',
      cases: perLength((n) => (k, C, seed, reference) => {
        const x = randomArray(C, n, seed), y0 = randomArray(C, n, seed + 1);
        const scaled = reference('scale', () => Float64Array.from(x, (v) => v * -1.5));
        const axpy = reference('axpy', () => Float64Array.from(y0, (v, i) => v + 0.75 * x[i]));
        const s = C.from(x), y = C.from(y0);
        k.scale(n, s, -1.5);
        k.axpy(n, 0.75, x, y);
        return [{ what: 'x * alpha', got: s, want: scaled, tol: tol(C) }, { what: 'y + alpha x', got: y, want: axpy, tol: tol(C) }];
      }),
    },
    {
      kernel: 'sumSquares',
      cases: perLength((n) => (k, C, seed, reference) => {
        const x = randomArray(C, n, seed);
        const want = reference('s', () => ref.sumSquares(x));
        return [{ what: 'sum', got: k.sumSquares(n, x), want, tol: 1e-13 * Math.max(8, n) }];
      }),
    },
    {
      kernel: 'bceLogits',
      cases: perLength((n) => (k, C, seed, reference) => {
        const x = randomArray(C, n, seed, -30, 30), t = randomArray(C, n, seed + 1, 0, 1);
        const [loss, gradWant] = reference('bce', () => ref.bceLogits(x, t));
        const grad = poisoned(C, n);
        const got = k.bceLogits(n, x, t, grad);
        const lossOnly = k.bceLogits(n, x, t, null);
        return [{ what: 'loss', got, want: loss, tol: tolerance(C, n) }, { what: 'loss (no grad)', got: lossOnly, want: loss, tol: tolerance(C, n) },
          { what: 'grad', got: grad, want: gradWant, tol: tol(C) }];
      }, bceLengths),
    },
    {
      kernel: 'bceProbs (clipped at eps and 1 - eps)',
      cases: perLength((n) => (k, C, seed, reference) => {
        const p = randomArray(C, n, seed, 0, 1), t = randomArray(C, n, seed + 1, 0, 1);
        [0, 1, 0.5, 1e-9, 1 - 1e-9].forEach((v, i) => { if (i < n) p[i] = v; });
        const [loss, gradWant] = reference('bce', () => ref.bceProbs(p, t, 1e-6));
        const grad = poisoned(C, n);
        const got = k.bceProbs(n, p, t, 1e-6, grad);
        const lossOnly = k.bceProbs(n, p, t, 1e-6, null);
        return [{ what: 'loss', got, want: loss, tol: tolerance(C, n) }, { what: 'loss (no grad)', got: lossOnly, want: loss, tol: tolerance(C, n) },
          { what: 'grad', got: grad, want: gradWant, tol: tol(C) }];
      }, bceLengths),
    },
  ];
}

function optimizerRows(): Row[] {
  const tol = (C: Ctor) => tolerance(C);
  const state = (C: Ctor, n: number, seed: number) =>
    [randomArray(C, n, seed), randomArray(C, n, seed + 1), randomArray(C, n, seed + 2, 0, 1), randomArray(C, n, seed + 3, 0, 1)];
  return [
    {
      kernel: 'sgd',
      cases: perLength((n) => (k, C, seed, reference) => {
        const [p0, g] = state(C, n, seed);
        const want = reference('p', () => ref.sgd(p0, g, 0.1));
        const p = C.from(p0);
        k.sgd(n, p, g, 0.1);
        return [{ what: 'p', got: p, want, tol: tol(C) }];
      }),
    },
    {
      kernel: 'sgd2',
      cases: perLength((n) => (k, C, seed, reference) => {
        const [p0, g, q0, h] = state(C, n, seed), m = Math.max(0, n - 3);
        const wantP = reference('p', () => ref.sgd(p0, g, 0.1)), wantQ = reference('q', () => ref.sgd(q0.subarray(0, m), h.subarray(0, m), 0.1));
        const p = C.from(p0), q = C.from(q0.subarray(0, m));
        k.sgd2(n, p, g, m, q, h, 0.1);
        return [{ what: 'p', got: p, want: wantP, tol: tol(C) }, { what: 'q', got: q, want: wantQ, tol: tol(C) }];
      }),
    },
    {
      kernel: 'sgdMomentum (plain and Nesterov)',
      cases: perLength((n) => (k, C, seed, reference) => {
        const [p0, g, v0] = state(C, n, seed);
        const checks: Check[] = [];
        for (const nesterov of [false, true]) {
          const [pw, vw] = reference(`${nesterov}`, () => ref.sgdMomentum(p0, g, v0, 0.1, 0.9, nesterov));
          const p = C.from(p0), v = C.from(v0);
          k.sgdMomentum(n, p, g, v, 0.1, 0.9, nesterov);
          checks.push({ what: `p nesterov ${nesterov}`, got: p, want: pw, tol: tol(C) },
            { what: `v nesterov ${nesterov}`, got: v, want: vw, tol: tol(C) });
        }
        return checks;
      }),
    },
    {
      kernel: 'adagrad',
      cases: perLength((n) => (k, C, seed, reference) => {
        const [p0, g, h0] = state(C, n, seed);
        const [pw, hw] = reference('p', () => ref.adagrad(p0, g, h0, 0.1, 1e-8));
        const p = C.from(p0), h = C.from(h0);
        k.adagrad(n, p, g, h, 0.1, 1e-8);
        return [{ what: 'p', got: p, want: pw, tol: tol(C) }, { what: 'h', got: h, want: hw, tol: tol(C) }];
      }),
    },
    {
      kernel: 'rmsprop',
      cases: perLength((n) => (k, C, seed, reference) => {
        const [p0, g, h0] = state(C, n, seed);
        const [pw, hw] = reference('p', () => ref.rmsprop(p0, g, h0, 0.1, 0.9, 1e-8));
        const p = C.from(p0), h = C.from(h0);
        k.rmsprop(n, p, g, h, 0.1, 0.9, 1e-8);
        return [{ what: 'p', got: p, want: pw, tol: tol(C) }, { what: 'h', got: h, want: hw, tol: tol(C) }];
      }),
    },
    {
      kernel: 'adam (steps 1 and 3, weight decay 0 and 0.01)',
      cases: perLength((n) => (k, C, seed, reference) => {
        const [p0, g, m0, v0] = state(C, n, seed);
        const checks: Check[] = [];
        for (const [step, wd] of [[1, 0], [3, 0.01]]) {
          const [pw, mw, vw] = reference(`${step}`, () => ref.adam(p0, g, m0, v0, 0.01, 0.9, 0.999, 1e-8, step, wd));
          const p = C.from(p0), m = C.from(m0), v = C.from(v0);
          k.adam(n, p, g, m, v, 0.01, 0.9, 0.999, 1e-8, step, wd);
          checks.push({ what: `p step ${step}`, got: p, want: pw, tol: tol(C) },
            { what: `m step ${step}`, got: m, want: mw, tol: tol(C) }, { what: `v step ${step}`, got: v, want: vw, tol: tol(C) });
        }
        return checks;
      }),
    },
  ];
}

// ---- batch normalization ----

// N x C x S: plane lengths around the vector width; channels spread over threads from 32768 elements
const normShapes: [number, number, number][] = [[2, 3, 1], [1, 2, 7], [3, 2, 8], [2, 3, 9], [2, 2, 16], [2, 2, 17],
  [2, 2, 33], [4, 3, 49], [4, 3, 2731]];

function batchNormRows(): Row[] {
  const fwd: Case[] = [], bwd: Case[] = [], reluFwd: Case[] = [], reluBwd: Case[] = [];
  for (const [N, Ch, S] of normShapes) {
    for (const training of [true, false]) {
      const label = `N ${N} C ${Ch} S ${S} ${training ? 'training' : 'eval'}`;
      const inputs = (C: Ctor, seed: number) => ({
        x: randomArray(C, N * Ch * S, seed, -2, 3), gamma: randomArray(C, Ch, seed + 1, 0.5, 2),
        beta: randomArray(C, Ch, seed + 2), rm: randomArray(C, Ch, seed + 3), rv: randomArray(C, Ch, seed + 4, 0.5, 2),
      });
      fwd.push({
        label,
        run(k, C, seed, reference) {
          const { x, gamma, beta, rm, rv } = inputs(C, seed);
          const want = reference('fwd', () => ref.batchNormForward(N, Ch, S, x, gamma, beta, rm, rv, training, 0.1, 1e-5));
          const y = poisoned(C, x.length), mean = poisoned(C, Ch), invstd = poisoned(C, Ch);
          const runningMean = C.from(rm), runningVar = C.from(rv);
          k.batchNormForward(N, Ch, S, x, gamma, beta, y, mean, invstd, runningMean, runningVar, training, 0.1, 1e-5);
          const tol = tolerance(C, N * S);
          return [{ what: 'y', got: y, want: want.y, tol }, { what: 'mean', got: mean, want: want.mean, tol },
            { what: 'invstd', got: invstd, want: want.invstd, tol },
            { what: 'runningMean', got: runningMean, want: want.runningMean, tol },
            { what: 'runningVar', got: runningVar, want: want.runningVar, tol }];
        },
      });
      bwd.push({
        label,
        run(k, C, seed, reference) {
          const { x, gamma, beta, rm, rv } = inputs(C, seed);
          const f = ref.batchNormForward(N, Ch, S, x, gamma, beta, rm, rv, training, 0.1, 1e-5);
          const mean = cast(C, f.mean), invstd = cast(C, f.invstd);
          const dy = randomArray(C, x.length, seed + 5), dg0 = randomArray(C, Ch, seed + 6), db0 = randomArray(C, Ch, seed + 7);
          const [dxW, dgW, dbW] = reference('bwd', () =>
            ref.batchNormBackward(N, Ch, S, x, dy, gamma, mean, invstd, dg0, db0, training));
          const dx = poisoned(C, x.length), dgamma = C.from(dg0), dbeta = C.from(db0);
          k.batchNormBackward(N, Ch, S, x, dy, gamma, mean, invstd, dx, dgamma, dbeta, training);
          const tol = tolerance(C, N * S);
          return [{ what: 'dx', got: dx, want: dxW, tol }, { what: 'dgamma', got: dgamma, want: dgW, tol },
            { what: 'dbeta', got: dbeta, want: dbW, tol }];
        },
      });
      // fused with the ReLU after it: the reference's y through max(y, 0), dy masked where that is positive
      reluFwd.push({
        label,
        run(k, C, seed, reference) {
          const { x, gamma, beta, rm, rv } = inputs(C, seed);
          const want = reference('fwd', () => ref.batchNormForward(N, Ch, S, x, gamma, beta, rm, rv, training, 0.1, 1e-5));
          const y = poisoned(C, x.length), mean = poisoned(C, Ch), invstd = poisoned(C, Ch);
          const runningMean = C.from(rm), runningVar = C.from(rv);
          k.batchNormReluForward(N, Ch, S, x, gamma, beta, y, mean, invstd, runningMean, runningVar, training, 0.1, 1e-5);
          const tol = tolerance(C, N * S);
          return [{ what: 'y', got: y, want: Array.from(want.y, (v) => Math.max(v, 0)), tol },
            { what: 'mean', got: mean, want: want.mean, tol }, { what: 'invstd', got: invstd, want: want.invstd, tol },
            { what: 'runningMean', got: runningMean, want: want.runningMean, tol },
            { what: 'runningVar', got: runningVar, want: want.runningVar, tol }];
        },
      });
      reluBwd.push({
        label,
        run(k, C, seed, reference) {
          const { x, gamma, beta, rm, rv } = inputs(C, seed);
          const f = ref.batchNormForward(N, Ch, S, x, gamma, beta, rm, rv, training, 0.1, 1e-5);
          const mean = cast(C, f.mean), invstd = cast(C, f.invstd), y = cast(C, Array.from(f.y, (v) => Math.max(v, 0)));
          const dy = randomArray(C, x.length, seed + 5);
          const dg0 = randomArray(C, Ch, seed + 6), db0 = randomArray(C, Ch, seed + 7);
          const [dxW, dgW, dbW] = reference('bwd', () => ref.batchNormBackward(N, Ch, S, x,
            dy.map((v, i) => (y[i] > 0 ? v : 0)), gamma, mean, invstd, dg0, db0, training));
          const dx = poisoned(C, x.length), dgamma = C.from(dg0), dbeta = C.from(db0);
          k.batchNormReluBackward(N, Ch, S, x, y, dy, gamma, mean, invstd, dx, dgamma, dbeta, training);
          const tol = tolerance(C, N * S);
          return [{ what: 'dx', got: dx, want: dxW, tol }, { what: 'dgamma', got: dgamma, want: dgW, tol },
            { what: 'dbeta', got: dbeta, want: dbW, tol }];
        },
      });
    }
  }
  return [{ kernel: 'batchNormForward', cases: fwd }, { kernel: 'batchNormBackward', cases: bwd },
    { kernel: 'batchNormReluForward', cases: reluFwd }, { kernel: 'batchNormReluBackward', cases: reluBwd }];
}

// ---- broadcast element-wise operations and unary maps (broadcast.cc, unary.cc) ----

const binaryOps: ref.BinaryOpName[] = ['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum', 'gt', 'ge', 'lt', 'le',
  'eq', 'ne'];
// a and b as 4 axes: same shapes around the vector widths and the threaded chunks (16384 elements from 65536 on,
// 4096 from 8192 for pow); inner runs of each kind (both contiguous, a scalar on either side, both scalars); rows
// that straddle chunk boundaries; all four axes broadcast both ways; no elements
const broadcastShapes: [number[], number[]][] = [
  ...[1, 7, 8, 9, 17, 33, 8193, 65537].map((n): [number[], number[]] => [[1, 1, 1, n], [1, 1, 1, n]]),
  [[1, 1, 1, 65537], [1, 1, 1, 1]], [[1, 1, 1, 1], [1, 1, 1, 33]], [[1, 1, 1, 1], [1, 1, 1, 1]],
  [[1, 1, 3, 17], [1, 1, 1, 17]], [[1, 1, 100, 700], [1, 1, 1, 700]], [[1, 1, 5, 33], [1, 1, 5, 1]],
  [[1, 1, 1000, 67], [1, 1, 1000, 1]], [[1, 1, 1, 9], [1, 1, 17, 1]], [[1, 1, 260, 1], [1, 1, 1, 257]],
  [[2, 1, 3, 1], [1, 4, 1, 5]], [[3, 4, 5, 6], [3, 1, 5, 1]], [[1, 7, 1, 1], [2, 7, 3, 9]],
  [[0, 1, 1, 3], [1, 1, 2, 3]], [[1, 1, 2, 0], [1, 1, 1, 1]],
];

/** Values with ties (so equality shows), zeros, NaN and ±Infinity at fixed places. */
function specialValues(C: Ctor, n: number, seed: number): FloatArray {
  const r = rng(seed), a = new C(n);
  const special = [0, -0, NaN, Infinity, -Infinity, 1, -1];
  for (let i = 0; i < n; i++) a[i] = i % 13 === 5 ? special[(i / 13 | 0) % special.length] : Math.round(r() * 8 - 4) / 2;
  return a;
}

function broadcastRows(): Row[] {
  const sizeOf = (d: number[]) => d.reduce((p, v) => p * v, 1);
  const label = (d: number[]) => `(${d.join(', ')})`;
  return [
    {
      kernel: 'broadcastBinary (every op; NaN, ±Infinity, ties; in place)',
      cases: broadcastShapes.map(([da, db]) => ({
        label: `${label(da)} with ${label(db)}`,
        run(k, C, seed, reference) {
          const a = specialValues(C, sizeOf(da), seed), b = specialValues(C, sizeOf(db), seed + 1);
          b[0] = 2;  // a nonzero divisor and exponent somewhere
          const checks: Check[] = [];
          // the threaded sizes: one op of each kind (vectorized, scalar loop, comparison)
          for (const op of sizeOf(da) + sizeOf(db) > 20000 ? ['add', 'pow', 'maximum', 'ne'] as const : binaryOps) {
            const want = reference(op, () => ref.broadcastMap([da, db], [a, b], (x, y) => ref.binaryScalar(op, x, y)));
            const y = poisoned(C, want.y.length);
            k.broadcastBinary(op, da[0], da[1], da[2], da[3], db[0], db[1], db[2], db[3], a, b, y);
            // pow in double, rounded once; the rest exact up to the dtype's rounding
            const tol = op === 'pow' ? (C === Float32Array ? 1e-6 : 1e-14) : tolerance(C);
            checks.push({ what: op, got: y, want: want.y, tol });
            if (sizeOf(da) === want.y.length && want.y.length > 0) {
              const inPlace = C.from(a);
              k.broadcastBinary(op, da[0], da[1], da[2], da[3], db[0], db[1], db[2], db[3], inPlace, b, inPlace);
              checks.push({ what: `${op} in place`, got: inPlace, want: want.y, tol });
            }
          }
          return checks;
        },
      })),
    },
    {
      kernel: 'binarySame (every op; NaN, ±Infinity, ties; in place over a and b)',
      cases: [1, 37, 70001].map((n) => ({
        label: `${n} elements`,
        run(k, C, seed, reference) {
          const a = specialValues(C, n, seed), b = specialValues(C, n, seed + 1);
          b[0] = 2;
          const checks: Check[] = [];
          for (const op of n > 20000 ? ['add', 'pow', 'maximum', 'ne'] as const : binaryOps) {
            const want = reference(op, () => ref.broadcastMap([[1, 1, 1, n], [1, 1, 1, n]], [a, b],
              (x, y) => ref.binaryScalar(op, x, y)));
            const tol = op === 'pow' ? (C === Float32Array ? 1e-6 : 1e-14) : tolerance(C);
            const y = poisoned(C, n), intoA = C.from(a), intoB = C.from(b);
            k.binarySame(op, n, a, b, y);
            k.binarySame(op, n, intoA, b, intoA);
            k.binarySame(op, n, a, intoB, intoB);
            checks.push({ what: op, got: y, want: want.y, tol }, { what: `${op} into a`, got: intoA, want: want.y, tol },
              { what: `${op} into b`, got: intoB, want: want.y, tol });
          }
          return checks;
        },
      })),
    },
    {
      kernel: 'broadcastWhere',
      cases: ([[[1, 1, 1, 65537], [1, 1, 1, 65537], [1, 1, 1, 65537]], [[1, 1, 1, 17], [1, 1, 1, 1], [1, 1, 3, 17]],
        [[1, 1, 300, 1], [1, 1, 1, 301], [1, 1, 1, 1]], [[2, 1, 3, 1], [1, 4, 1, 5], [2, 4, 1, 1]],
        [[1, 1, 0, 3], [1, 1, 1, 3], [1, 1, 1, 1]]] as number[][][]).map(([dc, da, db]) => ({
        label: `${label(dc)}, ${label(da)}, ${label(db)}`,
        run(k, C, seed, reference) {
          const c = specialValues(C, sizeOf(dc), seed), a = randomArray(C, sizeOf(da), seed + 1);
          const b = randomArray(C, sizeOf(db), seed + 2);
          const want = reference('where', () => ref.broadcastMap([dc, da, db], [c, a, b], (x, p, q) => (x !== 0 ? p : q)));
          const y = poisoned(C, want.y.length);
          k.broadcastWhere(dc[0], dc[1], dc[2], dc[3], da[0], da[1], da[2], da[3], db[0], db[1], db[2], db[3], c, a, b, y);
          return [{ what: 'y', got: y, want: want.y, tol: 0 }];
        },
      })),
    },
  ];
}

function unaryRows(): Row[] {
  const ops: ref.UnaryOpName[] = ['neg', 'abs', 'sign', 'exp', 'log', 'log1p', 'sqrt', 'square', 'relu', 'leakyRelu',
    'sigmoid', 'tanh', 'step', 'softplus', 'gelu', 'clamp'];
  const input = (C: Ctor, n: number, seed: number) => {
    const x = randomArray(C, n, seed, -6, 6);
    const special = [0, -0, NaN, Infinity, -Infinity, -1, 1e-7];
    for (let i = 0; i < Math.min(n, special.length); i++) x[i * 3 % n] = special[i];
    return x;
  };
  return [{
    kernel: 'unary (every op; NaN, ±Infinity, ±0; in place)',
    cases: perLength((n) => (k, C, seed, reference) => {
      const x = input(C, n, seed);
      return (n > 10000 ? ['exp', 'relu', 'clamp', 'gelu'] as const : ops).flatMap((op): Check[] => {
        const [alpha, beta] = op === 'clamp' ? [-0.5, 2] : [0.1, 0];
        const want = reference(op, () => Float64Array.from(x, (v) => ref.unaryScalar(op, v, C === Float32Array ? Math.fround(alpha) : alpha, beta)));
        const y = poisoned(C, n);
        k.unary(op, n, x, y, alpha, beta);
        const inPlace = C.from(x);
        k.unary(op, n, inPlace, inPlace, alpha, beta);
        // one rounding of a libm result (float32), within a few ulps (float64); gelu's 1 + erf(x / √2) cancels for
        // negative x, where the erf of each side (libm, the TS series, the reference's) differ by 1e-16 absolute
        const tol = C === Float32Array ? 2e-6 : op === 'gelu' ? 1e-12 : 1e-14;
        return [{ what: op, got: y, want, tol }, { what: `${op} in place`, got: inPlace, want, tol }];
      });
    }, [1, 7, 8, 9, 17, 33, 4097, 8193, 65537]),
  }];
}

// ---- tensor operations: reduce.cc (rows in blocks of 4096, few long rows split by block from 8192 on, strips of
// 256 columns, threads from 65536 elements), linalg.cc, shape.cc (16 x 16 tiles, 1024-column scatter strips,
// threads from 65536 elements) ----

/** Random values with ±Infinity at two places (they reach max, min and logSumExp without a NaN). */
function withInfinities(C: Ctor, n: number, seed: number): FloatArray {
  const a = randomArray(C, n, seed, -3, 3);
  if (n > 3) {
    a[Math.floor(n / 3)] = Infinity;
    a[n - 2] = -Infinity;
  }
  return a;
}

/** Random indices in [0, n) (repeats included). */
function randomIndices(count: number, n: number, seed: number): Int32Array {
  const r = rng(seed), a = new Int32Array(count);
  for (let j = 0; j < count; j++) a[j] = Math.floor(r() * n);
  return a;
}

function tensorOpRows(): Row[] {
  const reduceShapes: [number, number, number][] = [
    [3, 0, 1], [0, 5, 1], [2, 0, 3], [1, 1, 1], [5, 7, 1], [4, 15, 1], [4, 16, 1], [3, 17, 1], [3, 33, 1],
    [2, 4095, 1], [2, 4097, 1], [2, 9000, 1], [1, 70000, 1], [40, 2000, 1], [3, 5, 255], [2, 5, 256], [2, 7, 257],
    [1, 300, 300], [3, 1, 5],
    // 29 columns: tiesAndNaN puts a NaN in column 11 at every k (the first NaN of a column must win, not the last)
    [2, 9, 29],
  ];
  const ops = ['sum', 'mean', 'prod', 'max', 'min', 'logSumExp'] as const;
  const reduce: Case[] = [], variance: Case[] = [], arg: Case[] = [], soft: Case[] = [];
  for (const [outer, n, inner] of reduceShapes) {
    const len = outer * n * inner, shape = `(${outer}, ${n}, ${inner})`;
    for (const op of ops) {
      const data = [['random', (C: Ctor, seed: number) => op === 'prod' ? randomArray(C, len, seed, 0.99, 1.01)
        : randomArray(C, len, seed)]] as [string, (C: Ctor, seed: number) => FloatArray][];
      if (n <= 33) data.push(['ties and NaN', (C, seed) => tiesAndNaN(C, len, seed)]);
      if (op !== 'prod' && op !== 'mean' && op !== 'sum') data.push(['±Infinity', (C, seed) => withInfinities(C, len, seed)]);
      for (const [what, make] of data) {
        reduce.push({
          label: `${op} ${shape} ${what}`,
          run(k, C, seed, reference) {
            const x = make(C, seed);
            const want = reference('y', () => ref.reduceAxis(op, outer, n, inner, x));
            const y = poisoned(C, outer * inner);
            k.reduceAxis(op, outer, n, inner, x, y);
            const tol = op === 'prod' ? (C === Float32Array ? 1e-5 + 1e-6 * n : 1e-13 * Math.max(8, n)) : tolerance(C, n);
            return [{ what: 'y', got: y, want, tol: op === 'logSumExp' ? Math.max(tol, tolerance(C, 16)) : tol }];
          },
        });
      }
    }
    for (const [ddof, sqrt] of [[0, false], [1, true], [2.5, false]] as const) {
      variance.push({
        label: `${shape} ddof ${ddof}${sqrt ? ' sqrt' : ''}`,
        run(k, C, seed, reference) {
          const x = randomArray(C, len, seed, 2, 4);
          const want = reference('y', () => ref.varianceAxis(outer, n, inner, ddof, sqrt, x));
          const y = poisoned(C, outer * inner);
          k.varianceAxis(outer, n, inner, ddof, sqrt, x, y);
          return [{ what: 'y', got: y, want, tol: tolerance(C, 4 * n) }];
        },
      });
    }
    if (n > 0 || outer === 0) {
      for (const op of ['argmax', 'argmin'] as const) {
        for (const [what, make] of [['random', randomArray], ['ties and NaN', tiesAndNaN]] as const) {
          if (what !== 'random' && n > 33) continue;
          arg.push({
            label: `${op} ${shape} ${what}`,
            run(k, C, seed, reference) {
              const x = make(C, len, seed);
              const want = reference('out', () => ref.argReduceAxis(op, outer, n, inner, x));
              const out = new Int32Array(outer * inner).fill(-7);
              k.argReduceAxis(op, outer, n, inner, x, out);
              return [{ what: 'out', got: out, want, tol: 0 }];
            },
          });
        }
      }
    }
    for (const log of [false, true]) {
      for (const inPlace of [false, true]) {
        soft.push({
          label: `${log ? 'log ' : ''}${shape}${inPlace ? ' in place' : ''}`,
          run(k, C, seed, reference) {
            const x = randomArray(C, len, seed, -5, 5);
            const want = reference('y', () => ref.softmaxAxis(log, outer, n, inner, x));
            const y = inPlace ? x : poisoned(C, len);
            k.softmaxAxis(log, outer, n, inner, x, y);
            return [{ what: 'y', got: y, want, tol: tolerance(C, n) }];
          },
        });
      }
    }
  }
  const matmul: Case[] = [];
  for (const [batch, M, N, K] of [[3, 5, 7, 4], [1, 13, 17, 20], [4, 2, 3, 1], [0, 3, 3, 3], [2, 3, 4, 0], [2, 40, 33, 64]]) {
    for (const [ta, tb] of allTrans) {
      for (const [ba, bb] of [[false, false], [true, false], [false, true], [true, true]]) {
        matmul.push({
          label: `batch ${batch} M ${M} N ${N} K ${K} trans ${ta},${tb} broadcast ${ba},${bb}`,
          run(k, C, seed, reference) {
            const A = randomArray(C, (ba ? 1 : batch) * M * K, seed), B = randomArray(C, (bb ? 1 : batch) * K * N, seed + 1);
            const want = reference('C', () => ref.gemmBatched(ta, tb, batch, M, N, K, ba, bb, A, B));
            const got = poisoned(C, batch * M * N);
            k.gemmBatched(ta, tb, batch, M, N, K, ba, bb, A, B, got);
            return [{ what: 'C', got, want, tol: tolerance(C, K) }];
          },
        });
      }
    }
  }
  const swap: Case[] = [[1, 17, 1, 33, 1], [2, 16, 1, 16, 1], [2, 3, 4, 5, 6], [1, 300, 1, 300, 1], [3, 5, 2, 7, 17],
    [0, 3, 1, 3, 1], [2, 1, 3, 1, 4], [1, 2, 3, 40000, 1]].map(([outer, m, mid, n, inner]) => ({
    label: `(${outer}, ${m}, ${mid}, ${n}, ${inner})`,
    run(k, C, seed, reference) {
      const len = outer * m * mid * n * inner, x = randomArray(C, len, seed);
      const want = reference('y', () => ref.swapAxes(outer, m, mid, n, inner, x));
      const y = poisoned(C, len);
      k.swapAxes(outer, m, mid, n, inner, x, y);
      return [{ what: 'y', got: y, want, tol: 0 }];
    },
  }));
  const axisShapes: [number, number, number, number][] = [
    [3, 10, 1, 7], [2, 10, 784, 64], [1, 1000, 100, 700], [1, 100, 1, 70000], [2, 10, 1025, 12], [70, 5, 1000, 8],
    [2, 5, 3, 0], [0, 5, 3, 4], [2, 0, 3, 0], [1, 1, 1, 1], [2, 6, 17, 30],
  ];
  const gather: Case[] = axisShapes.map(([outer, n, inner, count]) => ({
    label: `(${outer}, ${n}, ${inner}) count ${count}`,
    run(k, C, seed, reference) {
      const x = randomArray(C, outer * n * inner, seed), index = randomIndices(count, n, seed + 1);
      const want = reference('y', () => ref.gatherAxis(outer, n, inner, index, x));
      const y = poisoned(C, outer * count * inner);
      k.gatherAxis(count, outer, n, inner, x, index, y);
      return [{ what: 'y', got: y, want, tol: 0 }];
    },
  }));
  const scatter: Case[] = axisShapes.flatMap(([outer, n, inner, count]) => [false, true].map((accumulate) => ({
    label: `(${outer}, ${n}, ${inner}) count ${count}${accumulate ? ' accumulate' : ''}`,
    run(k, C, seed, reference) {
      const x = randomArray(C, outer * count * inner, seed), y0 = randomArray(C, outer * n * inner, seed + 2);
      // assignment with repeated indices: the last j wins in both, so the indices may repeat there too
      const index = randomIndices(count, n, seed + 1);
      const want = reference('y', () => ref.scatterAxis(outer, n, inner, index, x, y0, accumulate));
      const y = C.from(y0);
      k.scatterAxis(count, outer, n, inner, x, index, y, accumulate);
      return [{ what: 'y', got: y, want, tol: accumulate ? tolerance(C, count) : 0 }];
    },
  })));
  const hot: Case[] = [[5, 3], [0, 4], [4, 0], [70, 1000]].map(([n, depth]) => ({
    label: `n ${n} depth ${depth}`,
    run(k, C, seed, reference) {
      const index = depth > 0 ? randomIndices(n, depth, seed) : new Int32Array(0);
      const rows = depth > 0 ? n : 0;
      const want = reference('y', () => ref.oneHot(depth, index));
      const y = poisoned(C, rows * depth);
      k.oneHot(rows, depth, index, y);
      return [{ what: 'y', got: y, want, tol: 0 }];
    },
  }));
  const nonzero: Case[] = [0, 1, 7, 17, 1000].map((n) => ({
    label: `n ${n} (zeros, -0, NaN, ±Infinity)`,
    run(k, C, seed, reference) {
      const r = rng(seed), mask = new C(n);
      const pick = [0, -0, 1, NaN, Infinity, -Infinity, 0.5, 0];
      for (let i = 0; i < n; i++) mask[i] = pick[Math.floor(r() * pick.length)];
      const want = reference('out', () => ref.nonzeroIndices(mask));
      const out = new Int32Array(n).fill(-7);
      const count = k.nonzeroIndices(n, mask, out);
      return [{ what: 'count', got: count, want: want.length, tol: 0 },
        { what: 'out', got: out.subarray(0, count), want, tol: 0 }];
    },
  }));
  return [
    { kernel: 'reduceAxis', cases: reduce }, { kernel: 'varianceAxis', cases: variance },
    { kernel: 'argReduceAxis (ties: the first; NaN wins)', cases: arg }, { kernel: 'softmaxAxis', cases: soft },
    { kernel: 'gemmBatched', cases: matmul }, { kernel: 'swapAxes', cases: swap }, { kernel: 'gatherAxis', cases: gather },
    { kernel: 'scatterAxis', cases: scatter }, { kernel: 'oneHot', cases: hot }, { kernel: 'nonzeroIndices', cases: nonzero },
  ];
}

// ---- image augmentation ----

// N x C x H x W: one pixel, odd and even widths, 24 planes of 28x28 (two tasks), planes longer than a task
const augmentShapes: [number, number, number, number][] = [[1, 1, 1, 1], [2, 3, 5, 7], [3, 2, 4, 4], [2, 1, 6, 1],
  [3, 8, 28, 28], [2, 2, 1, 20000]];

/** Per-sample shifts: inside, past the edges by one and far beyond, and the int32 extremes. */
function shiftsFor(N: number, extent: number, seed: number): Int32Array {
  const r = rng(seed), s = new Int32Array(N);
  for (let n = 0; n < N; n++) {
    const k = Math.floor(r() * 10);
    s[n] = k === 0 ? -(2 ** 31) : k === 1 ? 2 ** 31 - 1 : k === 2 ? extent + 1 : Math.round((r() * 2 - 1) * (extent + 1));
  }
  return s;
}

/** Per-sample maps: random rotation, zoom and shift about the center; the identity; far outside; NaN. */
function matricesFor(C: Ctor, N: number, H: number, W: number, seed: number): FloatArray[] {
  const r = rng(seed), m = Array.from({ length: 6 }, () => new C(N));
  for (let n = 0; n < N; n++) {
    const kind = n % 5, a = (r() * 2 - 1) * Math.PI, s = 0.5 + r(), cx = (W - 1) / 2, cy = (H - 1) / 2;
    const tx = (r() * 2 - 1) * W / 2, ty = (r() * 2 - 1) * H / 2;
    const rows = kind === 1 ? [1, 0, 0, 0, 1, 0]
      : kind === 3 ? [1, 0, 1e30, 0, 1, 0]
        : kind === 4 ? [NaN, 0, 0, 0, 1, 0]
          : [s * Math.cos(a), s * Math.sin(a), cx + tx, -s * Math.sin(a), s * Math.cos(a), cy + ty];
    if (kind === 0 || kind === 2) {
      rows[2] -= rows[0] * cx + rows[1] * cy;
      rows[5] -= rows[3] * cx + rows[4] * cy;
    }
    rows.forEach((v, i) => { m[i][n] = v; });
  }
  return m;
}

function augmentRows(): Row[] {
  const tr: Case[] = [], fl: Case[] = [], af: Case[] = [], no: Case[] = [];
  for (const [N, Ch, H, W] of augmentShapes) {
    const label = `N ${N} C ${Ch} ${H}x${W}`, size = N * Ch * H * W;
    tr.push({
      label,
      run(k, C, seed, reference) {
        const x = randomArray(C, size, seed), shiftH = shiftsFor(N, H, seed + 1), shiftW = shiftsFor(N, W, seed + 2);
        const want = reference('y', () => ref.translate2d(N, Ch, H, W, x, shiftH, shiftW));
        const y = poisoned(C, size);
        k.translate2d(N, Ch, H, W, x, shiftH, shiftW, y);
        const inPlace = C.from(x);
        k.translate2d(N, Ch, H, W, inPlace, shiftH, shiftW, inPlace);
        return [{ what: 'y', got: y, want, tol: 0 }, { what: 'y (in place)', got: inPlace, want, tol: 0 }];
      },
    });
    fl.push({
      label,
      run(k, C, seed, reference) {
        const x = randomArray(C, size, seed), flags = shiftsFor(N, 1, seed + 1);
        const want = reference('y', () => ref.flip2d(N, Ch, H, W, x, flags));
        const y = poisoned(C, size);
        k.flip2d(N, Ch, H, W, x, flags, y);
        const inPlace = C.from(x);
        k.flip2d(N, Ch, H, W, inPlace, flags, inPlace);
        return [{ what: 'y', got: y, want, tol: 0 }, { what: 'y (in place)', got: inPlace, want, tol: 0 }];
      },
    });
    af.push({
      label,
      run(k, C, seed, reference) {
        const x = randomArray(C, size, seed), m = matricesFor(C, N, H, W, seed + 1);
        const want = reference('y', () => ref.affine2d(N, Ch, H, W, x, m));
        const y = poisoned(C, size);
        k.affine2d(N, Ch, H, W, x, m[0], m[1], m[2], m[3], m[4], m[5], y);
        return [{ what: 'y', got: y, want, tol: tolerance(C, 4) }];
      },
    });
    no.push({
      label,
      run(k, C, seed, reference) {
        const x = randomArray(C, size, seed, -2, 3), mean = randomArray(C, Ch, seed + 1);
        const std = randomArray(C, Ch, seed + 2, 0.1, 2);
        const want = reference('y', () => ref.normalizeChannels(N, Ch, H * W, x, mean, std));
        const y = poisoned(C, size);
        k.normalizeChannels(N, Ch, H * W, x, mean, std, y);
        const inPlace = C.from(x);
        k.normalizeChannels(N, Ch, H * W, inPlace, mean, std, inPlace);
        return [{ what: 'y', got: y, want, tol: tolerance(C) }, { what: 'y (in place)', got: inPlace, want: y, tol: 0 }];
      },
    });
  }
  return [{ kernel: 'translate2d', cases: tr }, { kernel: 'flip2d', cases: fl }, { kernel: 'affine2d', cases: af },
    { kernel: 'normalizeChannels', cases: no }];
}

/** planForward: chains of Dense layers (with and without bias), activations and softmax, rows across the gemm paths. */
function planRows(): Row[] {
  const kinds: ActivationKind[] = ['relu', 'leakyRelu', 'sigmoid', 'tanh', 'step'];
  // [layer sizes d0..dn, activation after each hidden layer, bias per layer, softmax at the end]
  const nets: [number[], ActivationKind[], boolean[], boolean][] = [
    [[33, 20, 9, 10], ['relu', 'leakyRelu'], [true, true, true], true],
    [[7, 16, 5, 12, 3], ['tanh', 'sigmoid', 'step'], [false, true, false, true], false],
    [[4, 3], [], [true], true],
  ];
  const cases: Case[] = nets.flatMap(([d, acts, bias, soft]) => [1, 5, 17].map((rows): Case => ({
    label: `${d.join('-')} (${acts.join(', ') || 'no activation'}${soft ? ', softmax' : ''}), ${rows} rows`,
    run: (k, C, seed, reference) => {
      const layers = d.length - 1;
      const w = d.slice(0, -1).map((n, i) => randomArray(C, n * d[i + 1], seed + 10 * i, -1, 1));
      const b = d.slice(1).map((n, i) => (bias[i] ? randomArray(C, n, seed + 10 * i + 1, -1, 1) : null));
      const x = randomArray(C, rows * d[0], seed + 99, -2, 2);
      const program: number[] = [];
      for (let i = 0; i < layers; i++) {
        program.push(STEP_DENSE, i, 0, 0);
        if (i < acts.length) program.push(STEP_ACTIVATION, kinds.indexOf(acts[i]), ...slopeWords(0.1));
      }
      if (soft) program.push(STEP_SOFTMAX, 0, 0, 0);
      const want = reference('y', () => {
        let h: Float64Array = Float64Array.from(x);
        for (let i = 0; i < layers; i++) {
          h = ref.gemm(false, false, rows, d[i + 1], d[i], 1, h, w[i], 0, new Float64Array(rows * d[i + 1]));
          if (b[i]) h = ref.biasAdd(rows, d[i + 1], h, b[i]!);
          if (i < acts.length) h = ref.activationForward(acts[i] as ref.Activation, h, 0.1);
        }
        return soft ? ref.softmax(rows, d[layers], h) : h;
      });
      const width = 2 * Math.max(...d.slice(1));
      const y = poisoned(C, rows * d[layers]), scratch = poisoned(C, rows * width);
      const dims = [0, 1, 2, 3, 4].map((i) => d[i] ?? 0);
      const wb = [0, 1, 2, 3].flatMap((i) => [w[i] ?? null, b[i] ?? null]);
      k.planForward(rows, d[layers], width, program.length, dims[0], dims[1], dims[2], dims[3], dims[4],
        Int32Array.from(program), x, y, scratch, wb[0], wb[1], wb[2], wb[3], wb[4], wb[5], wb[6], wb[7]);
      return [{ what: 'y', got: y, want, tol: C === Float32Array ? 3e-5 : 1e-12 }];
    },
  })));
  return [{ kernel: 'planForward', cases }];
}

// ---- layer normalization ----

// rows x n: n around the vector widths; rows around the task of 16 rows (n >= 1024) and of ceil(16384 / n) rows,
// threaded from 65536 elements (1024 x 65, 300 x 221: 4 tasks of 55 rows and one of 1)
const layerNormShapes: [number, number][] = [[1, 1], [3, 7], [2, 8], [5, 9], [4, 16], [3, 17], [2, 33], [15, 1024],
  [17, 1024], [65, 1024], [221, 300], [1, 4099]];

function layerNormRows(): Row[] {
  const fwd: Case[] = [], bwd: Case[] = [];
  for (const [rows, n] of layerNormShapes) {
    for (const affine of [true, false]) {
      const label = `rows ${rows} n ${n}${affine ? '' : ' no affine'}`;
      const inputs = (C: Ctor, seed: number) => ({
        x: randomArray(C, rows * n, seed, -2, 3), gamma: affine ? randomArray(C, n, seed + 1, 0.5, 2) : null,
        beta: affine ? randomArray(C, n, seed + 2) : null,
      });
      fwd.push({
        label,
        run(k, C, seed, reference) {
          const { x, gamma, beta } = inputs(C, seed);
          const want = reference('fwd', () => ref.layerNormForward(rows, n, x, gamma, beta, 1e-5));
          const y = poisoned(C, x.length), mean = poisoned(C, rows), rstd = poisoned(C, rows);
          k.layerNormForward(rows, n, x, gamma, beta, y, mean, rstd, 1e-5);
          const tol = tolerance(C, n);
          return [{ what: 'y', got: y, want: want.y, tol }, { what: 'mean', got: mean, want: want.mean, tol },
            { what: 'rstd', got: rstd, want: want.rstd, tol }];
        },
      });
      bwd.push({
        label,
        run(k, C, seed, reference) {
          const { x, gamma, beta } = inputs(C, seed);
          const f = ref.layerNormForward(rows, n, x, gamma, beta, 1e-5);
          const mean = cast(C, f.mean), rstd = cast(C, f.rstd);
          const dy = randomArray(C, x.length, seed + 5), dg0 = randomArray(C, n, seed + 6), db0 = randomArray(C, n, seed + 7);
          const [dxW, dgW, dbW] = reference('bwd', () => ref.layerNormBackward(rows, n, x, dy, gamma, mean, rstd, dg0, db0));
          const dx = poisoned(C, x.length), dgamma = C.from(dg0), dbeta = C.from(db0);
          k.layerNormBackward(rows, n, x, dy, gamma, mean, rstd, dx, dgamma, dbeta);
          const tol = tolerance(C, Math.max(n, rows));
          return [{ what: 'dx', got: dx, want: dxW, tol }, { what: 'dgamma', got: dgamma, want: dgW, tol },
            { what: 'dbeta', got: dbeta, want: dbW, tol }];
        },
      });
    }
  }
  return [{ kernel: 'layerNormForward', cases: fwd }, { kernel: 'layerNormBackward', cases: bwd }];
}

// ---- the grid ----

const grid: Row[] = [
  { kernel: 'gemm', cases: gemmCases() },
  ...merge([
    ...convGeometries.flatMap((g) => convCases(g)),
    ...batchGeometries.flatMap((make) => batchSizes.flatMap((N) => convCases(make(N), true))),
    convChainRow(),
  ]),
  ...poolRows(),
  ...activationRows(),
  ...biasRows(),
  ...rowwiseRows(),
  ...vectorRows(),
  ...optimizerRows(),
  ...batchNormRows(),
  ...layerNormRows(),
  ...broadcastRows(),
  ...unaryRows(),
  ...tensorOpRows(),
  ...augmentRows(),
  ...planRows(),
];

function near(got: number, want: number, tol: number): boolean {
  if (Number.isNaN(want)) return Number.isNaN(got);
  return got === want || Math.abs(got - want) <= tol * Math.max(1, Math.abs(want));
}

function verify(row: Row, c: Case, check: Check): void {
  const where = `${row.kernel}, ${c.label}: ${check.what}`;
  if (typeof check.want === 'number' || typeof check.got === 'number') {
    if (typeof check.got !== 'number' || typeof check.want !== 'number' || !near(check.got, check.want, check.tol)) {
      const show = (v: ArrayLike<number> | number) => (typeof v === 'number' ? String(v) : `[${Array.from(v).join(', ')}]`);
      throw new Error(`${where} = ${show(check.got)}, expected ${show(check.want)} (tolerance ${check.tol})`);
    }
    return;
  }
  const { got, want } = check;
  if (got.length !== want.length) throw new Error(`${where} has ${got.length} elements, expected ${want.length}`);
  for (let i = 0; i < want.length; i++) {
    if (!near(got[i], want[i], check.tol)) {
      throw new Error(`${where}[${i}] = ${got[i]}, expected ${want[i]} (tolerance ${check.tol})`);
    }
  }
}

describe('reference grid', () => {
  it('has a row for every kernel of the backend interface', () => {
    const named = new Set(grid.flatMap((row) => row.kernel.split(/\W+/)));
    const missing = Object.keys(tsBackend).filter((k) => k !== 'name' && !named.has(k));
    expect(missing).toEqual([]);
  });
});

// the references of each case and dtype, computed by the first backend and reused by the others
const references = new Map<string, unknown>();

describe.each(backends)('reference grid on $label', (bc) => {
  let threadsBefore = 0;
  beforeAll(() => {
    // two threads whatever the machine: the threaded paths run (their splits depend on sizes only)
    if (bc.backend === 'native') {
      threadsBefore = nativeAddon().info().threads;
      setThreads(2);
    }
  });
  afterAll(() => {
    if (bc.backend === 'native') setThreads(threadsBefore);
  });
  beforeEach(() => useBackend(bc));

  describe.each(dtypes)('%s', (dtype, C) => {
    it.each(grid)('$kernel', (row) => {
      row.cases.forEach((c, i) => {
        const seed = 1 + 16 * i;
        const reference = <T>(name: string, f: () => T): T => {
          const key = `${row.kernel}|${i}|${c.label}|${dtype}|${name}`;
          if (!references.has(key)) references.set(key, f());
          return references.get(key) as T;
        };
        for (const check of c.run(getBackend(), C, seed, reference)) verify(row, c, check);
      });
    });
  });
});

// The grid's tolerance is absolute below 1, so it cannot see a wrong result near the bottom of the range. exp and
// sigmoid in float32 take a vector path where every lane lies in its range ([-87, 88] and [-87, 87]) and libm
// elsewhere; here each result is held to a few units in the last place of Math.exp rounded to the dtype, over the
// whole range: subnormal and underflowing results, both edges of the vector path, overflow.
describe.each(backends)('exp and sigmoid to a few ulps over their whole range ($label)', (bc) => {
  beforeEach(() => useBackend(bc));

  /** Units in the last place between two non-negative values of the dtype (their bit patterns are ordered). */
  function ulps(C: Ctor, a: number, b: number): number {
    if (C === Float32Array) {
      const bits = new Int32Array(new Float32Array([a, b]).buffer);
      return Math.abs(bits[0] - bits[1]);
    }
    const bits = new BigInt64Array(new Float64Array([a, b]).buffer);
    return Number(bits[0] > bits[1] ? bits[0] - bits[1] : bits[1] - bits[0]);
  }

  it.each(dtypes)('%s', (_, C) => {
    // float32: multiples of 1/64, 64 consecutive inputs per unit, so whole vectors of lanes lie in [-88, -87], just
    // below the vector path, and in every other unit interval; float64 (libm only): multiples of 1/4
    const [lo, hi, per] = C === Float32Array ? [-104, 89, 64] : [-746, 710, 4];
    const n = (hi - lo) * per + 1;
    const x = new C(n);
    for (let i = 0; i < n; i++) x[i] = lo + i / per;
    const wants = {
      exp: (v: number) => Math.exp(v),
      sigmoid: (v: number) => (v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v))),
    };
    for (const [op, f] of Object.entries(wants) as [keyof typeof wants, (v: number) => number][]) {
      const y = new C(n);
      getBackend().unary(op, n, x, y, 0, 0);
      const want = C.from(Float64Array.from(x, f));  // the float64 value rounded once to the dtype
      for (let i = 0; i < n; i++) {
        if (ulps(C, y[i], want[i]) > 4) throw new Error(`${op}(${x[i]}) = ${y[i]}, expected ${want[i]} (within 4 ulps)`);
      }
    }
  });
});
