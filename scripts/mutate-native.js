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
 * id, file (relative to the repository), the exact text to replace (must occur once), its replacement, specs, and
 * `tests`: the reference grid's rows that exercise the code (a test-name pattern, vitest -t; the grid has a test
 * per kernel, backend and dtype, and running only the rows of the mutated kernels keeps a mutant to a minute or two).
 */
const MUTATIONS = [
  // ---- gemm.cc ----
  { id: 'gemm: packed path reads C when beta = 0 (overwrite forced off)', file: 'native/gemm.cc',
    search: 'bool overwrite = pc == 0 && j.beta == 0;', replace: 'bool overwrite = false;', specs: [GRID], tests: "'gemm'|conv2d" },
  { id: 'gemm: beta applied on every K block', file: 'native/gemm.cc',
    search: 'T beta = pc == 0 ? j.beta : (T)1;', replace: 'T beta = j.beta;', specs: [GRID], tests: "'gemm'|conv2d" },
  { id: 'gemm: a transposed B read in place', file: 'native/gemm.cc',
    search: 'j.b_inplace = !trans_b && (double)K * N * sizeof(T) <= kInplaceBytes;',
    replace: 'j.b_inplace = (double)K * N * sizeof(T) <= kInplaceBytes;', specs: [GRID], tests: "'gemm'|conv2d" },
  { id: 'gemm: the last, partial B strip not packed when B is read in place', file: 'native/gemm.cc',
    search: 'if (N % Bk::NR != 0) pack_task<T>(&j, j.n_strips - 1);', replace: '', specs: [GRID], tests: "'gemm'|conv2d" },
  { id: 'gemm: packed K block at the full-block stride', file: 'native/gemm.cc',
    search: 'T* dst = j.b_pack + pc * j.n_pad + q * NR * kc;', replace: 'T* dst = j.b_pack + pc * j.n_pad + q * NR * Bk::KC;',
    specs: [GRID], tests: "'gemm'|conv2d" },
  { id: 'gemm: half-height edge tile computes one vector of columns', file: 'native/gemm.cc',
    search: 'micro_kernel<T, MR / 2, 2, kPacked>(kc, a, lda, b, ldbk, C, ldc, rows, cols, alpha, beta, overwrite);',
    replace: 'micro_kernel<T, MR / 2, 1, kPacked>(kc, a, lda, b, ldbk, C, ldc, rows, cols, alpha, beta, overwrite);',
    specs: [GRID], tests: "'gemm'|conv2d" },
  { id: 'gemm: last column tile dropped (floor instead of ceiling)', file: 'native/gemm.cc',
    search: 'j.n_tiles = (j.n_strips + j.nt - 1) / j.nt;', replace: 'j.n_tiles = j.n_strips / j.nt > 0 ? j.n_strips / j.nt : 1;',
    specs: [GRID], tests: "'gemm'|conv2d" },
  { id: 'gemm: small-M path reads C when beta = 0', file: 'native/gemm.cc',
    search: 'if (j.beta != 0) out += j.beta', replace: 'out += j.beta', specs: [GRID], tests: "'gemm'|conv2d" },
  { id: 'gemm: dot products drop the last element of the K tail', file: 'native/gemm.cc',
    search: 'for (long kk = k; kk < j.K; kk++) s += arow[kk] * brow[c][kk];',
    replace: 'for (long kk = k; kk + 1 < j.K; kk++) s += arow[kk] * brow[c][kk];', specs: [GRID], tests: "'gemm'|conv2d" },
  { id: 'gemm: K = 0 with beta = 0 scales C instead of zeroing it', file: 'native/gemm.cc',
    search: 'if (j.beta == 0)\n    for (long x = 0; x < j.N; x++) c[x] = 0;\n  else\n', replace: '', specs: [GRID], tests: "'gemm'|conv2d" },
  // ---- conv.cc ----
  { id: 'conv: backward-filter chunk count not recomputed from the chunk size', file: 'native/conv.cc',
    search: '  chunks = (g.N + j.chunk - 1) / j.chunk;\n', replace: '', specs: [GRID], tests: 'conv2d' },
  { id: 'conv: backward-filter overwrites instead of summing the images of a chunk', file: 'native/conv.cc',
    search: 'n == n0 ? 0 : 1, part, g.F)', replace: '0, part, g.F)', specs: [GRID], tests: 'conv2d' },
  { id: 'conv: bias gradient drops the pixel tail after whole vectors', file: 'native/conv.cc',
    search: 'for (long k = nv; k < n; k++) sum += a[k];', replace: 'for (long k = nv + 1; k < n; k++) sum += a[k];',
    specs: [GRID], tests: 'conv2d' },
  { id: 'conv: shifted im2col taken without OW = W', file: 'native/conv.cc',
    search: 'const bool shifted = g.sh == 1 && g.sw == 1 && g.OW == g.W;', replace: 'const bool shifted = g.sh == 1 && g.sw == 1;',
    specs: [GRID], tests: 'conv2d' },
  { id: 'conv: last valid output of a tap dropped (floor instead of ceiling)', file: 'native/conv.cc',
    search: '*hi = ceil_div(n + p - k, s);', replace: '*hi = (n + p - k) / s;', specs: [GRID], tests: 'conv2d' },
  { id: 'conv: fused ReLU skipped on whole vectors of pixels', file: 'native/conv.cc',
    search: '      if (j.relu) v = v < 0 ? V{} : v;\n', replace: '', specs: [GRID], tests: 'conv2d' },
  { id: 'conv: fused pooling reads the lower row at a pixel stride', file: 'native/conv.cc',
    search: 'const T* r10 = r00 + OW * F;', replace: 'const T* r10 = r00 + OW;', specs: [GRID], tests: 'conv2d' },
  // ---- pool.cc, pool2x2.h ----
  { id: 'pool: 2x2 fast path taken for stride (2, 1)', file: 'native/pool.cc',
    search: 'const bool two = g.KH == 2 && g.KW == 2 && g.sh == 2 && g.sw == 2;',
    replace: 'const bool two = g.KH == 2 && g.KW == 2 && g.sh == 2;', specs: [GRID], tests: 'Pool2d' },
  { id: 'pool: 2x2 argmax of the lower right reported as the lower left', file: 'native/pool2x2.h',
    search: 'k = t ? w1 : k;', replace: 'k = t ? w0 : k;', specs: [GRID], tests: 'Pool2d' },
  { id: 'pool: average backward steps columns by the row stride', file: 'native/pool.cc',
    search: 'T* row = dx + (oh * g.sh + kh) * g.W + ow * g.sw;', replace: 'T* row = dx + (oh * g.sh + kh) * g.W + ow * g.sh;',
    specs: [GRID], tests: 'Pool2d' },
  { id: 'pool: task count rounded down', file: 'native/pool.cc',
    search: 'long tasks = (planes + j.planes_per_task - 1) / j.planes_per_task;',
    replace: 'long tasks = planes / j.planes_per_task > 0 ? planes / j.planes_per_task : 1;', specs: [GRID], tests: 'Pool2d' },
  // ---- elementwise.cc, chunks.h, ops.cc, loss.cc ----
  { id: 'softmax-CE: soft-target gradient without the target sum', file: 'native/loss.cc',
    search: 'g[c] = (T)((tsum * exp((double)x[c] - lse) - t[c]) / (double)rows);',
    replace: 'g[c] = (T)((exp((double)x[c] - lse) - t[c]) / (double)rows);', specs: [GRID], tests: 'softmaxCrossEntropy' },
  { id: 'softmax-CE: index gradient subtracts 1 instead of 1 / rows', file: 'native/loss.cc',
    search: 'g[labels[r]] -= (T)(1.0 / (double)rows);', replace: 'g[labels[r]] -= 1;', specs: [GRID], tests: 'softmaxCrossEntropy' },
  { id: 'relu backward passes the gradient at x = 0', file: 'native/elementwise.cc',
    search: 'dx[i] = x[i] > 0 ? d : 0;', replace: 'dx[i] = x[i] >= 0 ? d : 0;', specs: [GRID], tests: 'activationBackward' },
  { id: 'chunks: the last, partial chunk of a threaded loop dropped', file: 'native/chunks.h',
    search: 'parallel_for((n + chunk - 1) / chunk, chunk_task<F>, &j);', replace: 'parallel_for(n / chunk, chunk_task<F>, &j);',
    specs: [GRID], tests: 'activation|mul and add|broadcast|unary' },
  { id: 'argmax: the last maximum wins a tie', file: 'native/ops.cc',
    search: 'if (row[c] > row[best]) best = c;', replace: 'if (row[c] >= row[best]) best = c;', specs: [GRID], tests: 'argmaxRows' },
  { id: 'bce from probabilities: gradient not zeroed where clipped', file: 'native/loss.cc',
    search: 'grad[i] = (T)(pc == p ? (p - t) / (p * (1 - p)) / (double)n : 0.0);',
    replace: 'grad[i] = (T)((pc - t) / (pc * (1 - pc)) / (double)n);', specs: [GRID], tests: 'bceProbs' },
  { id: 'mse: gradient divided by the element count, not the rows', file: 'native/loss.cc',
    search: 'if (grad) grad[i] = (T)(k * d / (double)rows);', replace: 'if (grad) grad[i] = (T)(k * d / (double)n);', specs: [GRID], tests: 'mse' },
  // ---- optim.cc ----
  { id: 'adam: second-moment correction with beta1', file: 'native/optim.cc',
    search: 'c2 = 1 / (1 - pow(beta2, (double)t));', replace: 'c2 = 1 / (1 - pow(beta1, (double)t));', specs: [GRID], tests: 'sgd|adam' },
  { id: 'sgd momentum: Nesterov step without the momentum factor', file: 'native/optim.cc',
    search: '(double)g[i] + momentum * (double)v[i]', replace: '(double)g[i] + (double)v[i]', specs: [GRID], tests: 'sgd|adam' },
  // ---- batchnorm.cc ----
  { id: 'batch norm: running variance updated with the biased variance', file: 'native/batchnorm.cc',
    search: 'm * (q / (count - 1))', replace: 'm * (q / count)', specs: [GRID], tests: 'batchNorm' },
  { id: 'batch norm: plane sums drop the last tail element', file: 'native/batchnorm.cc',
    search: 'for (long l = 0; l < S - Sv; l++) s += t[l];', replace: 'for (long l = 0; l + 1 < S - Sv; l++) s += t[l];',
    specs: [GRID], tests: 'batchNorm' },
  { id: 'batch norm: eval backward subtracts the batch means', file: 'native/batchnorm.cc',
    search: 'const T mean_dy = (T)(j.training ? sum_dy / count : 0)', replace: 'const T mean_dy = (T)(sum_dy / count)',
    specs: [GRID], tests: 'batchNorm' },
  // ---- broadcast.cc ----
  { id: 'broadcast: the scalar tail of a contiguous run drops its last element', file: 'native/broadcast.cc',
    search: 'for (; i < n; i++) y[i] = Op::s(a[i], b[i]);', replace: 'for (; i + 1 < n; i++) y[i] = Op::s(a[i], b[i]);',
    specs: [GRID], tests: 'broadcast' },
  { id: 'broadcast: a run that starts inside a row read from the row\'s start (innermost stride dropped)',
    file: 'native/broadcast.cc',
    search: 'for (int k = 0; k < K; k++) off[k] = i0 * w.s[k][0] + i1 * w.s[k][1] + i2 * w.s[k][2] + c * w.s[k][3];',
    replace: 'for (int k = 0; k < K; k++) off[k] = i0 * w.s[k][0] + i1 * w.s[k][1] + i2 * w.s[k][2];', specs: [GRID], tests: 'broadcast' },
  { id: 'broadcast: where() takes the contiguous loop with a broadcast a', file: 'native/broadcast.cc',
    search: 'if (sc && sa && sb) {', replace: 'if (sc && sb) {', specs: [GRID], tests: 'broadcast' },
  // ---- reduce.cc ----
  { id: 'reduce: the partial vector after whole vectors loads one element short', file: 'native/reduce.cc',
    search: 'if (i < n) a1 += load_partial(x + i, (int)(n - i));', replace: 'if (i < n) a1 += load_partial(x + i, (int)(n - i - 1));',
    specs: [GRID], tests: 'reduceAxis|argReduceAxis' },
  { id: 'reduce: each task of rows skips its last row', file: 'native/reduce.cc',
    search: 'for (long r = t * per; r < e; r++) row(r, false);', replace: 'for (long r = t * per; r + 1 < e; r++) row(r, false);',
    specs: [GRID], tests: 'reduceAxis|argReduceAxis' },
  { id: 'reduce: argmax over columns lets a later NaN replace the first', file: 'native/reduce.cc',
    search: 'if ((v != v && bv[i] == bv[i]) || (is_max ? v > bv[i] : v < bv[i])) {',
    replace: 'if (v != v || (is_max ? v > bv[i] : v < bv[i])) {', specs: [GRID], tests: 'reduceAxis|argReduceAxis' },
  // ---- unary.cc ----
  { id: 'unary: the scalar tail of the vector maps drops its last element', file: 'native/unary.cc',
    search: 'for (; i < e; i++) y[i] = fs(x[i]);', replace: 'for (; i + 1 < e; i++) y[i] = fs(x[i]);', specs: [GRID], tests: 'unary|few ulps' },
  { id: 'unary: vector exp taken down to -88, where its result is subnormal', file: 'native/unary.cc',
    search: 'n, x, y, -87.0f, 88.0f,', replace: 'n, x, y, -88.0f, 88.0f,', specs: [GRID], tests: 'unary|few ulps' },
  // ---- shape.cc ----
  { id: 'shape: swapAxes drops the last tile of rows (tile loop bound off by one tile)', file: 'native/shape.cc',
    search: 'for (long i0 = 0; i0 < m; i0 += kTile) {', replace: 'for (long i0 = 0; i0 + kTile < m; i0 += kTile) {',
    specs: [GRID], tests: 'swapAxes|scatterAxis|nonzeroIndices' },
  { id: 'shape: scatter writes every column strip at the first strip\'s columns', file: 'native/shape.cc',
    search: 'T* dst = yo + (long)index[j] * inner + i0;', replace: 'T* dst = yo + (long)index[j] * inner;', specs: [GRID], tests: 'swapAxes|scatterAxis|nonzeroIndices' },
  { id: 'shape: nonzeroIndices counts only positive values (NaN and negatives dropped)', file: 'native/shape.cc',
    search: 'count += mask[k] != 0;', replace: 'count += mask[k] > 0;', specs: [GRID], tests: 'swapAxes|scatterAxis|nonzeroIndices' },
  // ---- linalg.cc ----
  { id: 'linalg: batched A matrices stepped by M instead of M * K', file: 'native/linalg.cc',
    search: 'const T* a = broadcastA ? A : A + b * M * K;', replace: 'const T* a = broadcastA ? A : A + b * M;', specs: [GRID], tests: 'gemmBatched' },
  // ---- augment.cc ----
  { id: 'augment: flip leaves the middle column of an odd width unwritten', file: 'native/augment.cc',
    search: 'if (j.W % 2 == 1) b[j.W / 2] = a[j.W / 2];', replace: '', specs: [GRID], tests: 'flip2d|translate2d|affine2d|normalizeChannels' },
  { id: 'augment: plane task count rounded down (the last, partial task dropped)', file: 'native/augment.cc',
    search: 'const long tasks = (j.planes + j.planes_per_task - 1) / j.planes_per_task;',
    replace: 'const long tasks = j.planes / j.planes_per_task > 0 ? j.planes / j.planes_per_task : 1;', specs: [GRID], tests: 'flip2d|translate2d|affine2d|normalizeChannels' },
  { id: 'augment: normalization reads the channel statistics by sample', file: 'native/augment.cc',
    search: 'const double mean = j.mean[p % j.C], std = j.std[p % j.C];',
    replace: 'const double mean = j.mean[p / j.C % j.C], std = j.std[p / j.C % j.C];', specs: [GRID], tests: 'flip2d|translate2d|affine2d|normalizeChannels' },
  // ---- addon.cc (argument checks: the reader of the spec's tables) and the generated tables ----
  { id: 'addon: an index equal to its bound accepted (a label equal to cols, an argmax equal to H * W)',
    file: 'native/addon.cc', search: 'if (index_copy_[k] < 0 || index_copy_[k] >= bound) {',
    replace: 'if (index_copy_[k] < 0 || index_copy_[k] > bound) {', specs: ['test/native-args.spec.ts'] },
  { id: 'addon: arrays one element short accepted', file: 'native/addon.cc',
    search: 'if (a.length < need)', replace: 'if (a.length + 1 < need)', specs: ['test/native-args.spec.ts'] },
  { id: 'addon: an output that may be an input also accepted partly over it', file: 'native/addon.cc',
    search: 'if (rule.same_ok && out.begin() == in.begin()) return;', replace: 'if (rule.same_ok) return;',
    specs: ['test/native-args.spec.ts'] },
  { id: 'addon: a size\'s minimum not enforced', file: 'native/addon.cc',
    search: 'if (slot_[i] < s.size.min &&', replace: 'if (slot_[i] < 0 &&', specs: ['test/native-args.spec.ts'] },
  { id: 'addon: gemm output aliasing B accepted (its memory rule dropped from the table)', file: 'native/args.gen.h',
    search: '{{9, 6, false}, {9, 7, false}}, 2', replace: '{{9, 6, false}}, 1', specs: ['test/native-args.spec.ts'] },
  { id: 'addon: the window rule counts the padding once', file: 'native/addon.cc',
    search: 'if (in + 2 * pad < k)', replace: 'if (in + pad < k)', specs: ['test/native-args.spec.ts', GRID], tests: 'Pool2d|conv2d' },
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
