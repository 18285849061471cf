#!/usr/bin/env node
// Mutation testing of the native kernels: `npm run mutate:native`.
//
// Each entry of MUTATIONS below is one small, realistic bug (an off-by-one in a loop bound or a tail, a wrong
// stride, a dropped accumulation, a swapped index, a skipped check in addon.cc). For each, this script applies it
// to a copy of the native sources, rebuilds the addon from that copy, runs the entry's spec files against the
// mutant (NODENN_ADDON points at it; NODENN_BACKEND is unset, so every backend and ISA runs) and records whether
// a test failed (killed) or not (survived). The repository's own files are never modified: the copy lives in
// a directory of its own under the system's temporary directory (kept between runs, so that rebuilds are
// incremental), and Ctrl-C or a failure leaves the checkout as it was.
//
// Exits 1 if any mutant survives, if an entry's search text no longer occurs exactly once in its file (the
// list must not rot silently as the sources change), if a mutant does not compile, or if the unmutated build
// fails one of the specs (a mutant is only "killed" against a green baseline).
//
// Too slow for every CI run (per mutant: one file rebuilt for every ISA, and the spec files or grid rows of the
// mutated code: one to four minutes on 2 cores, an hour or more for the whole list); run it before resolving kernel
// work, and add a mutant here with every kernel bug fixed.
//
//   node scripts/mutate-native.js [--list] [--only <regular expression>]
//     --list        print the mutations and exit
//     --only re     run only the mutations whose id matches the regular expression re
'use strict';
const { spawnSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const GRID = 'test/reference-grid.spec.ts';

/**
 * The mutants of one file: rows of [id, the exact text to replace (must occur once), its replacement], the spec files
 * they run (the reference grid unless given), and `tests`: the grid's rows that exercise the code (a test-name
 * pattern, vitest -t; the grid has a test per kernel, backend and dtype, and running only the rows of the mutated
 * kernels keeps a mutant to a minute or two), or null for every test of the specs.
 */
function on(file, tests, rows, specs = [GRID]) {
  return rows.map(([id, search, replace]) => ({ id, file, search, replace, specs, ...(tests === null ? {} : { tests }) }));
}

const MUTATIONS = [
  // ---- gemm.cc ----
  ...on('native/gemm.cc', "'gemm'|conv2d", [
    ['gemm: packed path reads C when beta = 0 (overwrite forced off)',
      'bool overwrite = pc == 0 && j.beta == 0;',
      'bool overwrite = false;'],
    ['gemm: beta applied on every K block', 'T beta = pc == 0 ? j.beta : (T)1;', 'T beta = j.beta;'],
    ['gemm: a transposed B read in place',
      'j.b_inplace = !trans_b && (double)K * N * sizeof(T) <= kInplaceBytes;',
      'j.b_inplace = (double)K * N * sizeof(T) <= kInplaceBytes;'],
    ['gemm: the last, partial B strip not packed when B is read in place',
      'pack_b_block(j, pc, K - pc < Bk::KC ? K - pc : (long)Bk::KC, j.n_strips - 1);',
      ';'],
    ['gemm: packed K block at the full-block stride',
      'T* dst = j.b_pack + pc * j.n_pad + q * NR * kc;',
      'T* dst = j.b_pack + pc * j.n_pad + q * NR * Blocking<T>::KC;'],
    ['gemm: a narrow last B strip read at the full strip stride (packed at one vector)',
      '*ldbk = packed_ld<T>(cols);',
      '*ldbk = NR;'],
    ['gemm: the last, partial row strip computes one vector of columns',
      'micro_kernel<T, RM, 2, AM>(kc, a, j.lda, b, ldbk, c + q * NR, j.ldc, RM, cols, j.alpha, beta, overwrite);',
      'micro_kernel<T, RM, 1, AM>(kc, a, j.lda, b, ldbk, c + q * NR, j.ldc, RM, cols, j.alpha, beta, overwrite);'],
    ['gemm: last column tile dropped (floor instead of ceiling)',
      'j.n_tiles = (j.n_strips + j.nt - 1) / j.nt;',
      'j.n_tiles = j.n_strips / j.nt > 0 ? j.n_strips / j.nt : 1;'],
    ['gemm: small-M path reads C when beta = 0',
      'const bool overwrite = blk0 + g == 0 && j.beta == 0;',
      'const bool overwrite = false;'],
    ['gemm: dot products drop the last element of the K tail',
      'for (long kk = k; kk < j.K; kk++) s += arow[kk] * brow[c][kk];',
      'for (long kk = k; kk + 1 < j.K; kk++) s += arow[kk] * brow[c][kk];'],
    ['gemm: K = 0 with beta = 0 scales C instead of zeroing it',
      'if (j.beta == 0)\n    for (long x = 0; x < j.N; x++) c[x] = 0;\n  else\n',
      ''],
  ]),
  // tiny_product (gemm.cc): one B strip and one K block, unpacked (a batched matmul's small products)
  ...on('native/gemm.cc', "'gemm'|gemmBatched", [
    ['gemm: tiny product offsets a transposed A by whole rows (row0 * lda, not row0)',
      'const T* a = AM == kCols ? j.A + row0 : j.A + row0 * j.lda;',
      'const T* a = j.A + row0 * j.lda;'],
    ['gemm: tiny product drops the K tail after whole vectors',
      '  if (j.N > L)\n    micro_kernel<T, RM, 2, AM, PB>(j.K, a, j.lda, j.B, j.ldb, c, j.ldc, RM, j.N, j.alpha, j.beta, j.beta == 0);\n  else\n    micro_kernel<T, RM, 1, AM, PB>(j.K, a, j.lda, j.B, j.ldb, c, j.ldc, RM, j.N, j.alpha, j.beta, j.beta == 0);\n',
      '  if (j.N > L)\n    micro_kernel<T, RM, 2, AM, PB>(j.K / L * L, a, j.lda, j.B, j.ldb, c, j.ldc, RM, j.N, j.alpha, j.beta, j.beta == 0);\n  else\n    micro_kernel<T, RM, 1, AM, PB>(j.K / L * L, a, j.lda, j.B, j.ldb, c, j.ldc, RM, j.N, j.alpha, j.beta, j.beta == 0);\n'],
    ['gemm: tiny product reads C when beta = 0',
      '  if (j.N > L)\n    micro_kernel<T, RM, 2, AM, PB>(j.K, a, j.lda, j.B, j.ldb, c, j.ldc, RM, j.N, j.alpha, j.beta, j.beta == 0);\n  else\n    micro_kernel<T, RM, 1, AM, PB>(j.K, a, j.lda, j.B, j.ldb, c, j.ldc, RM, j.N, j.alpha, j.beta, j.beta == 0);\n',
      '  if (j.N > L)\n    micro_kernel<T, RM, 2, AM, PB>(j.K, a, j.lda, j.B, j.ldb, c, j.ldc, RM, j.N, j.alpha, j.beta, false);\n  else\n    micro_kernel<T, RM, 1, AM, PB>(j.K, a, j.lda, j.B, j.ldb, c, j.ldc, RM, j.N, j.alpha, j.beta, false);\n'],
    ['gemm: tiny product reads B at the stride of a strip (2 L) instead of ldb',
      '  if (j.N > L)\n    micro_kernel<T, RM, 2, AM, PB>(j.K, a, j.lda, j.B, j.ldb, c, j.ldc, RM, j.N, j.alpha, j.beta, j.beta == 0);\n  else\n    micro_kernel<T, RM, 1, AM, PB>(j.K, a, j.lda, j.B, j.ldb, c, j.ldc, RM, j.N, j.alpha, j.beta, j.beta == 0);\n',
      '  if (j.N > L)\n    micro_kernel<T, RM, 2, AM, PB>(j.K, a, j.lda, j.B, 2 * L, c, j.ldc, RM, j.N, j.alpha, j.beta, j.beta == 0);\n  else\n    micro_kernel<T, RM, 1, AM, PB>(j.K, a, j.lda, j.B, 2 * L, c, j.ldc, RM, j.N, j.alpha, j.beta, j.beta == 0);\n'],
    ['gemm: tiny product skips a last single row',
      '      tiny_tile<T, 1, AM, PB>(j, i);\n',
      ''],
    ['gemm: tiny product taken for a transposed B',
      'if (!trans_b && N <= Bk::NR && K <= Bk::KC && !parallel) {',
      'if (N <= Bk::NR && K <= Bk::KC && !parallel) {'],
  ]),
  // ---- conv.cc ----
  ...on('native/conv.cc', 'conv2d', [
    ['conv: backward-filter chunk count not recomputed from the chunk size',
      '  chunks = (g.N + j.chunk - 1) / j.chunk;\n',
      ''],
    ['conv: backward-filter overwrites instead of summing the images of a chunk',
      'n == n0 ? 0 : 1, part, g.F)',
      '0, part, g.F)'],
    ['conv: bias gradient drops the pixel tail after whole vectors',
      'for (long k = nv; k < P; k++) s += dy[(f0 + i) * P + k];',
      'for (long k = nv + 1; k < P; k++) s += dy[(f0 + i) * P + k];'],
    ['conv: shifted im2col taken without OW = W',
      'const bool shifted = g.sh == 1 && g.sw == 1 && g.OW == g.W;',
      'const bool shifted = g.sh == 1 && g.sw == 1;'],
    ['conv: last valid output of a tap dropped (floor instead of ceiling)',
      '*hi = ceil_div(n + p - k, s);',
      '*hi = (n + p - k) / s;'],
    ['conv: fused ReLU skipped on whole vectors of pixels',
      '    if (relu) v = v < 0 ? V{} : v;\n    store(l, v);', '    store(l, v);'],
    ['conv: fused pooling reads the lower row at a pixel stride',
      'const T* r10 = r00 + OW * F;',
      'const T* r10 = r00 + OW;'],
  ]),
  // training's fused conv + 2x2 max pooling (conv2d_pool_forward / conv2d_pool_backward)
  ...on('native/conv.cc', 'conv2dPool', [
    ['conv pool: forward pools each plane as if OW were 2 QW (odd widths read from the wrong row)',
      'for (long f = 0; f < F; f++) max_pool_2x2<T, true>(g.OW, QH, QW, full + f * P, y + f * Q, arg + f * Q);',
      'for (long f = 0; f < F; f++) max_pool_2x2<T, true>(2 * QW, QH, QW, full + f * P, y + f * Q, arg + f * Q);'],
    ['conv pool: forward adds the bias after the maximum (argmax of values the bias rounds to a tie)',
      '  const T *w = j.w, *b = j.b;\n  const long P = g.OH * g.OW, CKK = g.C * g.KH * g.KW, F = g.F;\n  if (!j.direct && (CKK <= kSmallK || F > kGatherMaxF)) {\n    const T* col = columns(g, j.x + n * g.C * g.H * g.W, j.failed);\n    if (!col) return false;\n    if (CKK <= kSmallK) {\n      small_k_product(false, F, P, CKK, w, col, full);\n    } else if (!product<T>(false, F, P, CKK, w, col, full)) {\n      return false;\n    }\n    bias_relu_rows(full, F, P, b, j.relu);\n    return true;\n  }\n  if (!transposed_product(j, j.x + n * g.C * g.H * g.W, yt)) return false;\n  transpose_bias_relu(yt, P, F, b, j.relu, full);\n  return true;\n}\n\n// Training\'s conv (+ ReLU) + 2x2 max pooling: the full output of one image, with the ReLU applied as the layer applies\n// it, stays in the thread\'s scratch (in cache), and only the pooled values and their indices go to memory, as\n// MaxPool2D\'s kernel computes them from it. (The ReLU before the maximum, not after: the pooling of the ReLU\'s output\n// takes the first of a window\'s zeros, relu(-0) = -0 included, where the ReLU of the maximum would keep a -0 maximum.)\ntemplate <typename T> void forward_image_pooled(ConvJob<T>& j, long n) {\n  const ConvShape& g = *j.g;\n  const long P = g.OH * g.OW, F = g.F, QH = g.OH / 2, QW = g.OW / 2, Q = QH * QW;\n  T* full = (T*)out_buffer.reserve(sizeof(T) * 2 * (size_t)P * (size_t)F);\n  if (!full || !conv_image_full(j, n, full, full + P * F)) {\n    j.failed = true;\n    return;\n  }\n  T* y = j.out + n * F * Q;\n  int32_t* arg = j.argmax + n * F * Q;\n  for (long f = 0; f < F; f++) max_pool_2x2<T, true>(g.OW, QH, QW, full + f * P, y + f * Q, arg + f * Q);\n',
      '  const T *w = j.w, *b = (const T*)nullptr;\n  const long P = g.OH * g.OW, CKK = g.C * g.KH * g.KW, F = g.F;\n  if (!j.direct && (CKK <= kSmallK || F > kGatherMaxF)) {\n    const T* col = columns(g, j.x + n * g.C * g.H * g.W, j.failed);\n    if (!col) return false;\n    if (CKK <= kSmallK) {\n      small_k_product(false, F, P, CKK, w, col, full);\n    } else if (!product<T>(false, F, P, CKK, w, col, full)) {\n      return false;\n    }\n    bias_relu_rows(full, F, P, b, j.relu);\n    return true;\n  }\n  if (!transposed_product(j, j.x + n * g.C * g.H * g.W, yt)) return false;\n  transpose_bias_relu(yt, P, F, b, j.relu, full);\n  return true;\n}\n\n// Training\'s conv (+ ReLU) + 2x2 max pooling: the full output of one image, with the ReLU applied as the layer applies\n// it, stays in the thread\'s scratch (in cache), and only the pooled values and their indices go to memory, as\n// MaxPool2D\'s kernel computes them from it. (The ReLU before the maximum, not after: the pooling of the ReLU\'s output\n// takes the first of a window\'s zeros, relu(-0) = -0 included, where the ReLU of the maximum would keep a -0 maximum.)\ntemplate <typename T> void forward_image_pooled(ConvJob<T>& j, long n) {\n  const ConvShape& g = *j.g;\n  const long P = g.OH * g.OW, F = g.F, QH = g.OH / 2, QW = g.OW / 2, Q = QH * QW;\n  T* full = (T*)out_buffer.reserve(sizeof(T) * 2 * (size_t)P * (size_t)F);\n  if (!full || !conv_image_full(j, n, full, full + P * F)) {\n    j.failed = true;\n    return;\n  }\n  T* y = j.out + n * F * Q;\n  int32_t* arg = j.argmax + n * F * Q;\n  for (long f = 0; f < F; f++) max_pool_2x2<T, true>(g.OW, QH, QW, full + f * P, y + f * Q, arg + f * Q);\n  bias_relu_rows(y, F, Q, j.b, false);\n'],
    ['conv pool: backward leaves the unpooled gradient scratch unzeroed',
      '    for (long i = 0; i < P; i++) df[i] = 0;\n',
      ''],
    ['conv pool: backward computes dx after columns() took the scratch its dcol uses',
      '    // the pooled backward\'s dx of this image: before columns() takes the scratch its dcol uses\n    if (j.out2 && !backward_data_one(g, j.data, j.w, dy, j.out2 + n * g.C * g.H * g.W)) {\n      j.failed = true;\n      return;\n    }\n    if (j.filter) {\n      if (!direct_filter_image(*j.filter, j.x + n * g.C * g.H * g.W, dy, part, n == n0)) {\n        j.failed = true;\n        return;\n      }\n      add_row_sums(dy, g.F, P, db);\n      continue;\n    }\n    const T* col = columns(g, j.x + n * g.C * g.H * g.W, j.failed);\n    if (!col) return;\n',
      '    if (j.filter) {\n      if (j.out2 && !backward_data_one(g, j.data, j.w, dy, j.out2 + n * g.C * g.H * g.W)) {\n        j.failed = true;\n        return;\n      }\n      if (!direct_filter_image(*j.filter, j.x + n * g.C * g.H * g.W, dy, part, n == n0)) {\n        j.failed = true;\n        return;\n      }\n      add_row_sums(dy, g.F, P, db);\n      continue;\n    }\n    const T* col = columns(g, j.x + n * g.C * g.H * g.W, j.failed);\n    if (!col) return;\n    if (j.out2 && !backward_data_one(g, j.data, j.w, dy, j.out2 + n * g.C * g.H * g.W)) {\n      j.failed = true;\n      return;\n    }\n'],
    ['conv pool: backward ignores the folded ReLU\'s mask',
      'df[arg[f * Q + q]] += yq[f * Q + q] > 0 ? dq[f * Q + q] : T(0);',
      'df[arg[f * Q + q]] += dq[f * Q + q];'],
    ['conv pool: backward\'s folded ReLU passes the gradient at zeros',
      'df[arg[f * Q + q]] += yq[f * Q + q] > 0 ? dq[f * Q + q] : T(0);',
      'df[arg[f * Q + q]] += yq[f * Q + q] >= 0 ? dq[f * Q + q] : T(0);'],
    ['conv pool: backward\'s folded ReLU multiplies by its mask (a masked NaN stays NaN)',
      'df[arg[f * Q + q]] += yq[f * Q + q] > 0 ? dq[f * Q + q] : T(0);',
      'df[arg[f * Q + q]] += T(yq[f * Q + q] > 0) * dq[f * Q + q];'],
    ['conv pool: backward with no pooled output leaves dx as it was',
      '    if (dx) memset(dx, 0, sizeof(T) * (size_t)(g.N * g.C * g.H * g.W));\n',
      ''],
  ], [GRID, 'test/conv-pool-fused.spec.ts']),
  // the pooled backward's sparse products (conv.cc, sparse_filter_chunk)
  ...on('native/conv.cc', 'conv2dPool', [
    ['conv pool sparse: the lists miss a nonzero in a row\'s tail (past its last whole vector)',
      'for (long p = nv; p < P; p++)\n      if (d[p] != 0) {',
      'for (long p = nv + 1; p < P; p++)\n      if (d[p] != 0) {'],
    ['conv pool sparse: the packed nonzeros\' pixels one lane off (AVX-512)',
      '_mm512_add_epi32(iota, _mm512_set1_epi32((int)p0))',
      '_mm512_add_epi32(iota, _mm512_set1_epi32((int)p0 + 1))'],
    ['conv pool sparse: backward-filter\'s first K block takes the next block\'s first pixel',
      'for (; e + n < e1 && si.fp[e + n] < end; n++)',
      'for (; e + n < e1 && si.fp[e + n] <= end; n++)'],
    ['conv pool sparse: backward-data drops each row\'s last tap',
      'for (long kw = kw0; kw <= kw1; kw++)',
      'for (long kw = kw0; kw < kw1; kw++)'],
    ['conv pool sparse: an image with an infinite pixel skips the zeros of dy',
      'if (j.sparse && images_finite(g, j.x, n0, n1)) {',
      'if (j.sparse) {'],
    ['conv pool sparse: backward-filter: each image of a chunk overwrites the sums of the ones before',
      '      const bool store = first && pc == 0;\n      if (n == 0 && !store) continue;',
      '      const bool store = pc == 0;\n      if (n == 0 && !store) continue;'],
    ['conv pool sparse: an infinite weight skips the zeros of dy',
      'if (!std::isfinite(w[i])) return true;',
      'if (!std::isfinite(w[i])) break;'],
  ], [GRID, 'test/conv-pool-fused.spec.ts']),
  ...on('native/pool2x2.h', 'conv2dPool', [
    ['conv pool: the 2x2 maximum takes a later equal value (>= for >)',
      'takes_lanes(V v, V m) -> decltype(v > m) { return (v > m) |',
      'takes_lanes(V v, V m) -> decltype(v > m) { return (v >= m) |'],
    ['conv pool: argmax one column to the right (window offsets from 1)',
      'step[l] = (E)(2 * l);',
      'step[l] = (E)(2 * l + 1);'],
  ], [GRID, 'test/conv-pool-fused.spec.ts']),
  // last session's direct paths (conv.cc): the direct convolution and its row-pair pooling, conv2dChainForward,
  // backward-data as a transposed convolution, backward-filter's implicit im2col
  ...on('native/conv.cc', 'conv2d', [
    ['conv filter: each image of a chunk overwrites the sum of the ones before',
      '    const bool store = first && pc == 0;\n#pragma GCC unroll 16',
      '    const bool store = pc == 0;\n#pragma GCC unroll 16'],
    ["conv chain: the second convolution's weights packed into the first one's scratch",
      'if (!prepare_direct(g.b, w2, &db, chain_weights)) return false;',
      'if (!prepare_direct(g.b, w2, &db, direct_weights)) return false;'],
    ["conv chain: the second convolution takes the first one's ReLU flag",
      'c.b.relu = relu2;',
      'c.b.relu = relu;'],
    ['conv direct: no input channels (K = 0) stores no zero sums',
      'for (long pc = 0; pc == 0 || pc < K; pc += kGemmKC) {',
      'for (long pc = 0; pc < K; pc += kGemmKC) {'],
    ["conv filter: a block of pixels that starts inside a row read from the row's start",
      'for (long p = pc, oh = pc / OW, ow = pc % OW; p < end; oh++, ow = 0) {',
      'for (long p = pc, oh = pc / OW, ow = 0; p < end; oh++, ow = 0) {'],
    ['conv filter: the last single tap dropped',
      '  if (r0 < CKK) filter_rows<T, 1>(d, xp, dyt, part, r0, first);',
      ''],
    ['conv filter: a last single vector of filters taken as a pair',
      'for (; f0 + L < F; f0 += 2 * L)',
      'for (; f0 + 2 * L <= F; f0 += 2 * L)'],
    ['conv data: taps outside the output added (0 times the weight: NaN for an infinite weight)',
      'const I exists = (ow >= none) & (ow < ow_end);',
      'const I exists = ow == ow;'],
    ['conv data: a later block of filters overwrites the earlier ones (F > 256)',
      'for (int i = 0; i < RC; i++) sum[r][i] = pc == 0 ? acc[r][i] : sum[r][i] + acc[r][i];',
      'for (int i = 0; i < RC; i++) sum[r][i] = acc[r][i];'],
    ['conv data: the last single channel dropped',
      '  if (c0 < g.C) data_rows<T, 1>(d, dp, dxs, c0);',
      ''],
    ["conv data: dy's rows copied one column short",
      'const long copy = g.OW < row_len + g.pw ? g.OW : row_len + g.pw;',
      'const long copy = (g.OW < row_len + g.pw ? g.OW : row_len + g.pw) - 1;'],
    ['conv direct: a later K block overwrites the earlier ones (C KH KW > 256)',
      '*(U*)p = pc == 0 ? acc[i][v] : (V) * (const U*)p + acc[i][v];',
      '*(U*)p = acc[i][v];'],
    ['conv direct: the last single pixel of an output row dropped',
      '  for (; ow < OW; ow++) direct_tile<T, 1, NV>(d, K, xrow + ow, wp, c + ow * F, cols);',
      '  for (; ow + 1 < OW; ow++) direct_tile<T, 1, NV>(d, K, xrow + ow, wp, c + ow * F, cols);'],
    ['conv direct: the last single vector of filters dropped',
      '  if (v < vectors) direct_row<T, 1>(d, xrow, yrow, v * L, F - v * L, oh);',
      ''],
    ['conv direct pooled: the second row of each pair computed as the first',
      'direct_output_row(*j.direct, xp, 2 * qh + 1, rows + g.OW * F);',
      'direct_output_row(*j.direct, xp, 2 * qh, rows + g.OW * F);'],
  ], [GRID, 'test/conv.spec.ts', 'test/conv-chain.spec.ts']),
  // AVX-512's three-tap tiles skip the rows of zeros (the chain and the layers would share a wrong skip: the test
  // compares with the products that sum every zero)
  ...on('native/conv.cc', 'rows of zeros', [
    ['conv kw3: a row skipped as zeros when its last pixel is not',
      'if (d.finite && all_zero(x + P0, P1 - P0)) continue;',
      'if (d.finite && all_zero(x + P0, P1 - P0 - 1)) continue;'],
    ['conv kw3: rows of zeros skipped under an infinite weight (0 x Inf is a NaN)',
      'if (d.finite && all_zero(x + P0, P1 - P0)) continue;',
      'if (all_zero(x + P0, P1 - P0)) continue;'],
  ], ['test/conv.spec.ts']),
  // ---- pool.cc, pool2x2.h ----
  ...on('native/pool.cc', 'Pool2d', [
    ['pool: 2x2 fast path taken for stride (2, 1)',
      'const bool two = g.KH == 2 && g.KW == 2 && g.sh == 2 && g.sw == 2;',
      'const bool two = g.KH == 2 && g.KW == 2 && g.sh == 2;'],
  ]),
  ...on('native/pool2x2.h', 'Pool2d', [
    ['pool: 2x2 argmax of the lower right reported as the lower left', 'k = t ? w1 : k;', 'k = t ? w0 : k;'],
  ]),
  ...on('native/pool.cc', 'Pool2d', [
    ['pool: average backward steps columns by the row stride',
      'T* row = dx + (oh * g.sh + kh) * g.W + ow * g.sw;',
      'T* row = dx + (oh * g.sh + kh) * g.W + ow * g.sh;'],
    ['pool: task count rounded down',
      'long tasks = (planes + j.planes_per_task - 1) / j.planes_per_task;',
      'long tasks = planes / j.planes_per_task > 0 ? planes / j.planes_per_task : 1;'],
  ]),
  // ---- elementwise.cc, chunks.h, ops.cc, loss.cc ----
  ...on('native/loss.cc', 'softmaxCrossEntropy', [
    ['softmax-CE: soft-target gradient without the target sum',
      'g[c] = (T)((tsum * exp((double)x[c] - lse) - t[c]) / (double)rows);',
      'g[c] = (T)((exp((double)x[c] - lse) - t[c]) / (double)rows);'],
    ['softmax-CE: index gradient subtracts 1 instead of 1 / rows',
      'g[labels[r]] -= (T)(1.0 / (double)rows);',
      'g[labels[r]] -= 1;'],
  ]),
  ...on('native/elementwise.cc', 'activationBackward', [
    ['relu backward passes the gradient at x = 0', 'dx[i] = x[i] > 0 ? d : 0;', 'dx[i] = x[i] >= 0 ? d : 0;'],
  ]),
  ...on('native/chunks.h', 'activation|mul and add|broadcast|unary', [
    ['chunks: the last, partial chunk of a threaded loop dropped',
      'parallel_for((n + chunk - 1) / chunk, chunk_task<F>, &j);',
      'parallel_for(n / chunk, chunk_task<F>, &j);'],
  ]),
  ...on('native/ops.cc', 'argmaxRows', [
    ['argmax: the last maximum wins a tie', 'if (row[c] > row[best]) best = c;', 'if (row[c] >= row[best]) best = c;'],
  ]),
  ...on('native/loss.cc', 'bceProbs', [
    ['bce from probabilities: gradient not zeroed where clipped',
      'grad[i] = (T)(pc == p ? (p - t) / (p * (1 - p)) / (double)n : 0.0);',
      'grad[i] = (T)((pc - t) / (pc * (1 - pc)) / (double)n);'],
  ]),
  ...on('native/loss.cc', 'mse', [
    ['mse: gradient divided by the element count, not the rows',
      'if (grad) grad[i] = (T)(k * d / (double)rows);',
      'if (grad) grad[i] = (T)(k * d / (double)n);'],
  ]),
  // ---- optim.cc ----
  ...on('native/optim.cc', 'sgd|adam', [
    ['adam: second-moment correction with beta1',
      'c2 = (U)(1 / (1 - pow(beta2, (double)t)));',
      'c2 = (U)(1 / (1 - pow(beta1, (double)t)));'],
    ['sgd momentum: Nesterov step without the momentum factor',
      '(double)g[i] + momentum * (double)v[i]',
      '(double)g[i] + (double)v[i]'],
  ]),
  // ---- batchnorm.cc ----
  ...on('native/batchnorm.cc', 'batchNorm', [
    ['batch norm: running variance updated with the biased variance', 'm * (q / (count - 1))', 'm * (q / count)'],
    ['batch norm: plane sums drop the last tail element',
      'for (long l = 0; l < S - Sv; l++) s += t[l];',
      'for (long l = 0; l + 1 < S - Sv; l++) s += t[l];'],
    ['batch norm: eval backward subtracts the batch means',
      'const T mean_dy = (T)(j.training ? sum_dy / count : 0)',
      'const T mean_dy = (T)(sum_dy / count)'],
    ['batch norm + relu: backward passes the gradient where the output is 0', 'return v > 0 ? dy : V{};',
      'return v >= 0 ? dy : V{};'],
  ]),
  // ---- broadcast.cc ----
  ...on('native/broadcast.cc', 'broadcast', [
    ['broadcast: the scalar tail of a contiguous run drops its last element',
      'for (; i < n; i++) y[i] = Op::s(a[i], b[i]);',
      'for (; i + 1 < n; i++) y[i] = Op::s(a[i], b[i]);'],
    ["broadcast: a run that starts inside a row read from the row's start (innermost stride dropped)",
      'for (int k = 0; k < K; k++) off[k] = i0 * w.s[k][0] + i1 * w.s[k][1] + i2 * w.s[k][2] + c * w.s[k][3];',
      'for (int k = 0; k < K; k++) off[k] = i0 * w.s[k][0] + i1 * w.s[k][1] + i2 * w.s[k][2];'],
    ['broadcast: where() takes the contiguous loop with a broadcast a', 'if (sc && sa && sb) {', 'if (sc && sb) {'],
  ]),
  // ---- reduce.cc ----
  ...on('native/reduce.cc', 'reduceAxis|argReduceAxis', [
    ['reduce: the partial vector after whole vectors loads one element short',
      'if (i < n) a1 += load_partial(x + i, (int)(n - i));',
      'if (i < n) a1 += load_partial(x + i, (int)(n - i - 1));'],
    ['reduce: each task of rows skips its last row',
      'for (long r = t * per; r < e; r++) row(r, false);',
      'for (long r = t * per; r + 1 < e; r++) row(r, false);'],
    ['reduce: argmax over columns lets a later NaN replace the first',
      'if ((v != v && bv[i] == bv[i]) || (is_max ? v > bv[i] : v < bv[i])) {',
      'if (v != v || (is_max ? v > bv[i] : v < bv[i])) {'],
  ]),
  // ---- unary.cc ----
  ...on('native/unary.cc', 'unary|few ulps', [
    ['unary: the scalar tail of the vector maps drops its last element',
      'for (; i < e; i++) y[i] = fs(x[i]);',
      'for (; i + 1 < e; i++) y[i] = fs(x[i]);'],
    ['unary: vector exp taken down to -88, where its result is subnormal',
      'n, x, y, -87.0f, 88.0f,',
      'n, x, y, -88.0f, 88.0f,'],
  ]),
  // ---- shape.cc ----
  ...on('native/shape.cc', 'swapAxes|scatterAxis|nonzeroIndices', [
    ['shape: swapAxes drops the last tile of rows (tile loop bound off by one tile)',
      'for (long i0 = 0; i0 < m; i0 += kTile) {',
      'for (long i0 = 0; i0 + kTile < m; i0 += kTile) {'],
    ["shape: scatter writes every column strip at the first strip's columns",
      'T* dst = yo + (long)index[j] * inner + i0;',
      'T* dst = yo + (long)index[j] * inner;'],
    ['shape: nonzeroIndices counts only positive values (NaN and negatives dropped)',
      'count += mask[k] != 0;',
      'count += mask[k] > 0;'],
  ]),
  // ---- linalg.cc ----
  ...on('native/linalg.cc', 'gemmBatched', [
    ['linalg: batched A matrices stepped by M instead of M * K',
      'const T* a = broadcastA ? A : A + b * M * K;',
      'const T* a = broadcastA ? A : A + b * M;'],
  ]),
  // ---- augment.cc ----
  ...on('native/augment.cc', 'flip2d|translate2d|affine2d|normalizeChannels', [
    ['augment: flip leaves the middle column of an odd width unwritten',
      'if (j.W % 2 == 1) b[j.W / 2] = a[j.W / 2];',
      ''],
    ['augment: plane task count rounded down (the last, partial task dropped)',
      'const long tasks = (j.planes + j.planes_per_task - 1) / j.planes_per_task;',
      'const long tasks = j.planes / j.planes_per_task > 0 ? j.planes / j.planes_per_task : 1;'],
    ['augment: normalization reads the channel statistics by sample',
      'const double mean = j.mean[p % j.C], std = j.std[p % j.C];',
      'const double mean = j.mean[p / j.C % j.C], std = j.std[p / j.C % j.C];'],
  ]),
  // ---- addon.cc (argument checks: the reader of the spec's tables) and the generated tables ----
  ...on('native/addon.cc', null, [
    ['addon: an index equal to its bound accepted (a label equal to cols, an argmax equal to H * W)',
      'bad |= (uint32_t)v >= ub;',
      'bad |= (uint32_t)v > ub;'],
    ['addon: a negative index accepted (the range check compares as signed)',
      'bad |= (uint32_t)v >= ub;',
      'bad |= (int64_t)v >= (int64_t)ub;'],
    ['addon: arrays one element short accepted', 'if (a.length < need)', 'if (a.length + 1 < need)'],
    ['addon: an output that may be an input also accepted partly over it',
      'if (rule.same_ok && out.begin() == in.begin()) return;',
      'if (rule.same_ok) return;'],
    ["addon: a size's minimum not enforced", 'if (slot_[i] < s.size.min &&', 'if (slot_[i] < 0 &&'],
  ], ['test/native-args.spec.ts']),
  ...on('native/args.gen.h', null, [
    ['addon: gemm output aliasing B accepted (its memory rule dropped from the table)',
      '{{9, 6, false}, {9, 7, false}}, 2',
      '{{9, 6, false}}, 1'],
  ], ['test/native-args.spec.ts']),
  ...on('native/addon.cc', 'Pool2d|conv2d', [
    ['addon: the window rule counts the padding once', 'if (in + 2 * pad < k)', 'if (in + pad < k)'],
  ], ['test/native-args.spec.ts', GRID]),
];

const root = path.join(__dirname, '..');
const args = process.argv.slice(2);
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : null;
const selected = MUTATIONS.filter((m) => !only || new RegExp(only).test(m.id));

if (args.includes('--list')) {
  for (const m of selected) console.log(`${m.id}\n    ${m.file}: ${JSON.stringify(m.search)} -> ${JSON.stringify(m.replace)}`);
  process.exit(0);
}

// The copy: CMakeLists.txt, package.json (cmake-js reads its napi_versions) and native/, with node_modules linked.
// NODENN_MUTATE_WORK: another directory for the copy (two runs at once, each with --only, need one each).
const work = process.env.NODENN_MUTATE_WORK ||
  path.join(os.tmpdir(), `nodenn-mutate-${crypto.createHash('sha1').update(root).digest('hex').slice(0, 10)}`);
const addon = path.join(work, 'build', 'Release', 'nodenn.node');

/** Copies a file unless the copy already has its content (an unchanged mtime keeps the rebuild incremental). */
function sync(rel) {
  const src = path.join(root, rel), dst = path.join(work, rel);
  const data = fs.readFileSync(src);
  if (fs.existsSync(dst) && fs.readFileSync(dst).equals(data)) return;
  fs.mkdirSync(path.dirname(dst), { recursive: true });
  fs.writeFileSync(dst, data);
}

function syncSources() {
  fs.mkdirSync(work, { recursive: true });
  sync('CMakeLists.txt');
  sync('package.json');
  const walk = (dir) => {
    for (const e of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
      const rel = path.join(dir, e.name);
      if (e.isDirectory()) walk(rel);
      else sync(rel);
    }
  };
  walk('native');
  const link = path.join(work, 'node_modules');
  if (!fs.existsSync(link)) fs.symlinkSync(path.join(root, 'node_modules'), link, 'dir');
}

function build() {
  const cmakeJs = path.join(root, 'node_modules', 'cmake-js', 'bin', 'cmake-js');
  const r = spawnSync(process.execPath, [cmakeJs, 'build', '--CDCMAKE_BUILD_TYPE=Release', '-p', String(os.availableParallelism())],
    { cwd: work, encoding: 'utf8', maxBuffer: 64 << 20 });
  return { ok: r.status === 0, log: `${r.stdout}\n${r.stderr}` };
}

/** Runs one spec file (the grid: the rows that match `tests`) against the built addon; null if it passed, else the
 * first failing test's name. */
function runSpec(spec, tests) {
  const out = path.join(work, 'result.json');
  fs.rmSync(out, { force: true });
  const env = { ...process.env, NODENN_ADDON: addon };
  delete env.NODENN_BACKEND;
  delete env.NODENN_ISA;
  const vitest = path.join(root, 'node_modules', 'vitest', 'vitest.mjs');
  const filter = spec === GRID && tests ? ['-t', tests] : [];
  const r = spawnSync(process.execPath, [vitest, 'run', spec, ...filter, '--bail=1', '--reporter=json', `--outputFile=${out}`],
    { cwd: root, env, encoding: 'utf8', maxBuffer: 64 << 20, timeout: 20 * 60_000 });
  if (r.status === 0) return null;
  let name = r.signal ? `(killed by ${r.signal})` : `(exit ${r.status}: ${(r.stderr || '').trim().split('\n').slice(-1)[0]})`;
  try {
    const report = JSON.parse(fs.readFileSync(out, 'utf8'));
    for (const file of report.testResults) {
      const failed = file.assertionResults.find((a) => a.status === 'failed');
      if (failed) {
        const msg = (failed.failureMessages[0] || '').split('\n')[0].slice(0, 160);
        name = `${failed.fullName} -- ${msg}`;
        break;
      }
      if (file.status === 'failed') name = `${path.basename(file.name)}: ${(file.message || '').split('\n')[0]}`;
    }
  } catch {
    // no report: the process crashed or timed out; `name` says how
  }
  return name;
}

let interrupted = false;
process.on('SIGINT', () => { interrupted = true; });

function main() {
  const problems = [];
  for (const m of MUTATIONS) {
    const text = fs.readFileSync(path.join(root, m.file), 'utf8');
    const count = text.split(m.search).length - 1;
    if (count !== 1) problems.push(`${m.id}: the search text occurs ${count} times in ${m.file} (must be once)`);
  }
  if (problems.length) {
    console.error(`mutate-native: the list is out of date with the sources:\n  ${problems.join('\n  ')}`);
    process.exit(1);
  }

  console.log(`mutate-native: copy and build in ${work}`);
  syncSources();
  let b = build();
  if (!b.ok) {
    console.error(`mutate-native: the unmutated sources do not build:\n${b.log.slice(-4000)}`);
    process.exit(1);
  }
  const specs = [...new Set(selected.flatMap((m) => m.specs))];
  // the grid's baseline: every row some selected mutant runs (all of it if one runs it whole)
  const rows = selected.filter((m) => m.specs.includes(GRID)).map((m) => m.tests);
  const gridTests = rows.every(Boolean) ? [...new Set(rows)].join('|') : undefined;
  for (const spec of specs) {
    const failed = runSpec(spec, gridTests);
    if (failed) {
      console.error(`mutate-native: ${spec} fails without any mutation: ${failed}`);
      process.exit(1);
    }
  }
  console.log(`baseline: ${specs.join(', ')} pass\n`);

  const results = [];
  for (const m of selected) {
    if (interrupted) break;
    const file = path.join(work, m.file);
    const original = fs.readFileSync(file, 'utf8');
    const t0 = Date.now();
    let verdict, by = '';
    try {
      fs.writeFileSync(file, original.replace(m.search, () => m.replace));
      b = build();
      if (!b.ok) {
        verdict = 'does not compile';
        by = b.log.split('\n').filter((l) => /error/.test(l)).slice(0, 2).join(' | ');
      } else {
        for (const spec of m.specs) {
          const failed = runSpec(spec, m.tests);
          if (failed) {
            verdict = 'killed';
            by = `${spec}: ${failed}`;
            break;
          }
        }
        verdict = verdict || 'SURVIVED';
      }
    } finally {
      fs.writeFileSync(file, original);
    }
    results.push({ ...m, verdict, by });
    console.log(`${verdict.padEnd(16)} ${m.id}  [${Math.round((Date.now() - t0) / 1000)} s]${by ? `\n                 ${by}` : ''}`);
  }
  // leave the copy built from the unmutated sources for the next run
  build();

  const bad = results.filter((r) => r.verdict !== 'killed');
  console.log(`\n${results.length - bad.length} of ${results.length} mutants killed` +
    (interrupted ? ` (interrupted: ${selected.length - results.length} not run)` : ''));
  for (const r of bad) console.log(`  ${r.verdict}: ${r.id}${r.note ? ` (${r.note})` : ''}`);
  process.exit(bad.length || interrupted ? 1 : 0);
}

main();
