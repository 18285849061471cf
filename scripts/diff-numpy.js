#!/usr/bin/env node
// A differential test of nodenn's tensor operations against NumPy (issue 15's "NumPy semantics"), as a hostile
// tester runs it: seeded random cases over the operations (broadcasting corners, NaN, ±Infinity, -0, huge and tiny
// values, float32 and float64, bad shapes and indices), each run in NumPy (scripts/diff-numpy.py, one process for
// all cases) and in nodenn on `ts` and on native with every ISA this CPU has. Compared: shape, dtype, and values
// (bitwise where NumPy is exact, within a stated tolerance where it is not, NaN positions always), and errors
// (NumPy raises <-> nodenn throws a TypeError or RangeError that is not one of V8's own). Prints a summary table;
// exits 1 on any mismatch.
//
//   node scripts/diff-numpy.js [--cases 3000] [--seed 1] [--backends ts,native/avx2] [--show 20] [--op add]
//
// Needs `npm run build:ts` (it loads dist/cjs) and python3 with NumPy. Where nodenn deliberately differs from
// NumPy (float32 sums: double on ts, float32 lanes on native; the ±0 tie of max/min; indices checked even for an
// empty take), the expectation is nodenn's documented rule (scripts/diff-numpy.py says which) and the summary
// counts those cases as "deliberate".
'use strict';
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const { parseArgs } = require('node:util');

const { values: opts } = parseArgs({
  options: {
    cases: { type: 'string', default: '3000' },
    seed: { type: 'string', default: '1' },
    backends: { type: 'string' },
    show: { type: 'string', default: '15' },
    op: { type: 'string' },
  },
});
const nn = require(path.join(__dirname, '..', 'dist', 'cjs', 'index.js'));
const { ops, Tensor } = nn;

// ---- tolerances (relative to max(|want|, tiny); "scaled" ones to Σ|terms|)
const TOL = {
  close: { float32: 4 * 2 ** -23, float64: 4 * 2 ** -52 },    // 4 ulps: exp, log, tanh, pow, softmax, ...
  scaled: { float32: 2 ** -20, float64: 2 ** -48 },          // sums, matmul: any order of n ≤ 64 terms
};
const TINY = { float32: 2 ** -126, float64: 2 ** -1022 };   // results below the normal range may flush to 0
const MAX = { float32: 3.4028234663852886e38, float64: Number.MAX_VALUE };

// ---- seeded generation: nodenn's own PRNG (nn.Random)
const generator = new nn.Random(Number(opts.seed));
const random = () => generator.uniform();
const int = (lo, hi) => lo + Math.floor(random() * (hi - lo + 1));      // lo..hi inclusive
const pick = (xs) => xs[Math.floor(random() * xs.length)];
const chance = (p) => random() < p;

const SPECIALS = [NaN, Infinity, -Infinity, -0, 0, 1e30, -1e30, 3e38, -3e38, 1e-40, -1e-42, 1e-30, 1e308, -1e308,
  5e-324, 1.5, 0.5, 2, -1, 100, -100, 88.7, -103.5, 1e-8, 700, -745];
function value(flavor) {
  if (flavor === 'special' && chance(0.35)) return pick(SPECIALS);
  if (flavor === 'nonfinite' && chance(0.1)) return pick([NaN, Infinity, -Infinity, -0]);
  if (flavor === 'positive') return int(1, 512) / 64;
  return int(-256, 256) / 64;
}
const sizeOf = (shape) => shape.reduce((s, d) => s * d, 1);
/** Mostly small sizes; one axis in ten of 17-70 so that native's vector lanes and their tails run too. */
function randShape(rank, allowZero = true) {
  let long = false;
  return Array.from({ length: rank }, () => {
    if (allowZero && chance(0.04)) return 0;
    if (!long && chance(0.1)) {
      long = true;
      return pick([17, 33, 70]);
    }
    return pick([1, 1, 2, 3, 4, 5]);
  });
}
function makeTensor(shape, dtype, flavor = pick(['plain', 'special', 'special'])) {
  const C = dtype === 'float32' ? Float32Array : Float64Array;
  const data = C.from({ length: sizeOf(shape) }, () => value(flavor));
  return { dtype, shape, data };
}
/** A shape b that broadcasts with a: a suffix of a's rank, some axes set to 1 (or, rarely, to a size that does not fit). */
function broadcastPartner(shape, bad) {
  const rank = chance(0.3) ? int(0, shape.length) : shape.length;
  const s = shape.slice(shape.length - rank).map((d) => (chance(0.3) ? 1 : d));
  if (chance(0.2)) { // longer on this side: the result grows new leading axes
    s.unshift(...randShape(int(1, 2), false));
  }
  if (bad && s.length > 0) {
    const i = int(0, s.length - 1);
    s[i] = s[i] + 2;
  }
  return s;
}
const dtypePair = () => (chance(0.1) ? ['float32', 'float64'] : chance(0.5) ? ['float32', 'float32'] : ['float64', 'float64']);

// ---- the cases: each a plain object both sides read; tensors as { dtype, shape, data }
const BINARY = ['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum', 'gt', 'ge', 'lt', 'le', 'eq', 'ne'];
const UNARY = ['neg', 'abs', 'exp', 'log', 'log1p', 'sqrt', 'square', 'relu', 'leakyRelu', 'sigmoid', 'tanh', 'step',
  'softplus', 'gelu'];
const REDUCE = ['sum', 'mean', 'prod', 'max', 'min', 'var', 'std', 'logSumExp'];

function reduceAxis(ndim) {
  const r = random();
  if (r < 0.2 || ndim === 0) return null;
  if (r < 0.6) return int(-ndim, ndim - 1);
  if (r < 0.67) return [];  // no axis: NumPy reduces nothing
  const axes = [];
  for (let i = 0; i < ndim; i++) if (chance(0.5)) axes.push(chance(0.3) ? i - ndim : i);
  if (chance(0.05)) axes.push(axes.length ? axes[0] : 0);  // a repeated axis: an error
  return axes;
}

const generators = {
  binary() {
    const [da, db] = dtypePair();
    const shape = randShape(int(0, 4));
    const bad = chance(0.04);
    const a = makeTensor(shape, da);
    const b = chance(0.15) ? value(pick(['plain', 'special'])) : makeTensor(broadcastPartner(shape, bad), db);
    return chance(0.5) ? { op: pick(BINARY), a, b } : { op: pick(BINARY), a: b, b: a };
  },
  unary() {
    const f = pick(UNARY);
    const shape = randShape(int(0, 3));
    return { op: 'unary', f, x: makeTensor(shape, pick(['float32', 'float64']), f === 'log' || f === 'sqrt' ? pick(['positive', 'special']) : pick(['plain', 'special'])) };
  },
  where() {
    const [da, db] = dtypePair();
    const shape = randShape(int(0, 3));
    const cond = makeTensor(broadcastPartner(shape, chance(0.03)), pick(['float32', 'float64']), 'special');
    for (let i = 0; i < cond.data.length; i++) if (chance(0.5)) cond.data[i] = pick([0, -0, 1]);
    const a = makeTensor(shape, da), b = chance(0.2) ? value('special') : makeTensor(broadcastPartner(shape, false), db);
    return { op: 'where', cond, a, b };
  },
  clamp() {
    const dt = pick(['float32', 'float64']);
    const shape = randShape(int(0, 3));
    const bound = () => (chance(0.25) ? null : chance(0.6) ? pick([NaN, -1, 0.5, 2, -Infinity, Infinity, -0, 0])
      : makeTensor(broadcastPartner(shape, false), chance(0.8) ? dt : 'float64', 'special'));
    let lo = bound(), hi = bound();
    if (lo === null && hi === null) hi = 1;
    return { op: 'clamp', x: makeTensor(shape, dt), lo, hi };
  },
  reduce() {
    const op = pick(REDUCE);
    const shape = randShape(int(0, 4));
    const c = { op, x: makeTensor(shape, pick(['float32', 'float64']), pick(['plain', 'plain', 'special'])), axis: reduceAxis(shape.length), keepdims: chance(0.4) };
    if (op === 'prod') c.x.data = c.x.data.map((v) => (Math.abs(v) < 4 ? 1 + v / 8 : v));
    if (op === 'var' || op === 'std') c.ddof = pick([0, 0, 1, 2]);
    return c;
  },
  huge() {  // float32 sums and means near the overflow threshold: the deliberate difference
    const op = pick(['sum', 'mean', 'var']);
    const n = int(2, 6);
    const x = { dtype: 'float32', shape: [n], data: Float32Array.from({ length: n }, () => pick([3e38, 2e38, -1e38, 1e38, 1.7e38])) };
    return { op, x, axis: null, keepdims: false };
  },
  arg() {
    const shape = randShape(int(0, 3));
    const x = makeTensor(shape, pick(['float32', 'float64']), pick(['plain', 'special']));
    for (let i = 0; i < x.data.length; i++) if (chance(0.3)) x.data[i] = pick([0, -0, 1, 1]);  // ties
    return { op: pick(['argmax', 'argmin']), x, axis: chance(0.3) || shape.length === 0 ? null : int(-shape.length, shape.length - 1), keepdims: chance(0.3) };
  },
  softmax() {
    const shape = randShape(int(1, 3));
    const x = makeTensor(shape, pick(['float32', 'float64']), pick(['plain', 'special']));
    const axis = int(-shape.length, shape.length - 1);
    // rows of -Infinity, and rows with one +Infinity
    if (chance(0.4)) for (let i = 0; i < x.data.length; i++) if (chance(0.6)) x.data[i] = -Infinity;
    return { op: pick(['softmax', 'logSoftmax']), x, axis };
  },
  matmul() {
    const [da, db] = dtypePair();
    const m = int(1, 4), k = chance(0.05) ? 0 : int(1, 5), n = int(1, 4);
    const batchA = randShape(int(0, 2), false), batchB = broadcastPartner(batchA, false);
    let sa = chance(0.2) ? [k] : [...batchA, m, k], sb = chance(0.2) ? [k] : [...batchB, k, n];
    if (chance(0.05)) sb = sb.map((d, i) => (i === sb.length - (sb.length === 1 ? 1 : 2) ? d + 1 : d));  // k does not fit
    if (chance(0.03)) sa = [];
    return { op: 'matmul', a: makeTensor(sa, da, pick(['plain', 'nonfinite'])), b: makeTensor(sb, db, pick(['plain', 'nonfinite'])) };
  },
  shape() {
    const shape = randShape(int(0, 4));
    const x = makeTensor(shape, pick(['float32', 'float64']), 'special');
    const nd = shape.length;
    const kind = pick(['reshape', 'transpose', 'permute', 'squeeze', 'unsqueeze', 'flatten', 'broadcastTo', 'pad']);
    switch (kind) {
      case 'reshape': {
        const s = chance(0.5) ? [sizeOf(shape)] : [...shape].reverse();
        if (s.length && chance(0.6)) s[int(0, s.length - 1)] = -1;
        if (chance(0.1)) s.push(-1);  // two -1, or one -1 that does not divide
        if (chance(0.05)) s.push(3);
        return { op: 'reshape', x, shape: s };
      }
      case 'transpose': return { op: 'transpose', x };
      case 'permute': {
        const axes = shape.map((_, i) => i).sort(() => random() - 0.5).map((a) => (chance(0.2) ? a - nd : a));
        if (chance(0.05) && nd > 1) axes[0] = axes[1];
        return { op: 'permute', x, axes };
      }
      case 'squeeze': {
        const axis = chance(0.5) || nd === 0 ? null : int(-nd, nd - 1);
        return { op: 'squeeze', x, axis };
      }
      case 'unsqueeze': return { op: 'unsqueeze', x, axis: int(-nd - 1 - (chance(0.05) ? 1 : 0), nd) };
      case 'flatten': return { op: 'flatten', x, start: nd ? int(-nd, nd - 1) : 0, end: nd ? int(-nd, nd - 1) : -1 };
      case 'broadcastTo': return { op: 'broadcastTo', x, shape: broadcastPartner(shape, chance(0.1)).map((d, i, s) => (i >= s.length - nd ? Math.max(d, shape[nd - s.length + i] ?? d) : d)) };
      case 'pad': {
        const width = pick([int(0, 2), [int(0, 2)], [int(0, 2), int(0, 2)], [[int(0, 2), int(0, 2)]],
          shape.map(() => [int(0, 2), int(0, 2)])]);
        return { op: 'pad', x, width, value: pick([0, -1, 2.5, NaN, Infinity]) };
      }
    }
  },
  join() {
    const dt = pick(['float32', 'float64']);
    const shape = randShape(int(1, 3));
    const nd = shape.length;
    const kind = pick(['concat', 'stack', 'split']);
    if (kind === 'split') {
      const axis = int(-nd, nd - 1);
      const size = shape[(axis + nd) % nd];
      const sections = chance(0.5) ? pick([1, 2, 3]) : Array.from({ length: int(0, 3) }, () => int(-size - 1, size + 2));
      return { op: 'split', x: makeTensor(shape, dt), sections, axis };
    }
    const axis = kind === 'concat' ? int(-nd, nd - 1) : int(-nd - 1, nd);
    const count = int(1, 3);
    const xs = Array.from({ length: count }, () => {
      const s = [...shape];
      if (kind === 'concat') s[(axis + nd) % nd] = int(0, 3);
      if (chance(0.04)) s[0] += 1;  // does not fit
      return makeTensor(s, chance(0.1) ? 'float64' : dt);
    });
    return { op: kind, xs, axis };
  },
  slice() {
    const shape = randShape(int(1, 4));
    const x = makeTensor(shape, pick(['float32', 'float64']));
    const n = int(0, shape.length);
    const bound = (d) => (chance(0.3) ? null : int(-d - 2, d + 2));
    const specs = Array.from({ length: n }, (_, i) => {
      const d = shape[i];
      if (chance(0.25)) return chance(0.1) ? d + int(0, 1) : int(-d, d - 1);   // an integer (rarely out of range)
      if (chance(0.15)) return null;
      return [bound(d), bound(d), chance(0.3) ? null : pick([1, 2, 3, -1, -2, -3])];
    });
    return { op: 'slice', x, specs };
  },
  take() {
    const shape = randShape(int(1, 3));
    const x = makeTensor(shape, pick(['float32', 'float64']));
    const axis = chance(0.3) ? null : int(-shape.length, shape.length - 1);
    const n = axis === null ? sizeOf(shape) : shape[(axis + shape.length) % shape.length];
    const one = () => (n === 0 || chance(0.03) ? int(n, n + 2) * (chance(0.5) ? 1 : -1) - (chance(0.5) ? 1 : 0) : int(-n, n - 1));
    const count = int(0, 5);
    const indices = chance(0.2) ? [Array.from({ length: count }, one), Array.from({ length: count }, one)] : Array.from({ length: count }, one);
    return { op: 'take', x, indices, axis };
  },
  maskedSelect() {
    const shape = randShape(int(1, 3));
    const x = makeTensor(shape, pick(['float32', 'float64']), 'special');
    const lead = int(1, shape.length);
    const ms = shape.slice(0, lead);
    if (chance(0.05)) ms[0] += 1;
    const mask = makeTensor(ms, x.dtype, 'plain');
    for (let i = 0; i < mask.data.length; i++) mask.data[i] = pick([0, 1, -0, NaN, 2]);
    return { op: 'maskedSelect', x, mask };
  },
  oneHot() {
    const depth = int(0, 5);
    const indices = Array.from({ length: int(0, 4) }, () => (chance(0.05) ? pick([-1, depth]) : int(0, Math.max(depth - 1, 0))));
    return { op: 'oneHot', indices: chance(0.2) ? [indices, indices] : indices, depth, dtype: pick(['float32', 'float64']) };
  },
  scatterAdd() {
    const shape = randShape(int(1, 3));
    const dt = pick(['float32', 'float64']);
    const x = makeTensor(shape, dt);
    const nd = shape.length;
    const axis = int(-nd, nd - 1);
    const n = shape[(axis + nd) % nd];
    const indices = Array.from({ length: int(0, 5) }, () => (n === 0 || chance(0.03) ? n : int(-n, n - 1)));
    const us = shape.map((d, i) => (i === (axis + nd) % nd ? indices.length : d));
    if (chance(0.04)) us[0] += 1;
    return { op: 'scatterAdd', x, indices, updates: makeTensor(us, chance(0.1) ? 'float64' : dt), axis };
  },
};
const WEIGHTS = { binary: 18, unary: 10, where: 4, clamp: 4, reduce: 16, huge: 1, arg: 5, softmax: 4, matmul: 7, shape: 10,
  join: 6, slice: 6, take: 4, maskedSelect: 2, oneHot: 1, scatterAdd: 2 };

// ---- JSON encoding (NaN, ±Infinity, -0 as strings)
const encNum = (v) => (Number.isNaN(v) ? 'nan' : v === Infinity ? 'inf' : v === -Infinity ? '-inf' : Object.is(v, -0) ? '-0' : v);
const decNum = (v) => (typeof v === 'number' ? v : { nan: NaN, inf: Infinity, '-inf': -Infinity, '-0': -0 }[v]);
function toJson(c) {
  return JSON.stringify(c, (k, v) => {
    if (v instanceof Float32Array || v instanceof Float64Array) return Array.from(v, encNum);
    if (typeof v === 'number') return encNum(v);
    return v;
  });
}

// ---- running a case in nodenn
const T = (t) => (t && typeof t === 'object' && 'shape' in t ? new Tensor(t.data.slice(), t.shape) : t);
function runNodenn(c) {
  switch (c.op) {
    case 'unary': return c.f === 'leakyRelu' ? ops.leakyRelu(T(c.x)) : ops[c.f](T(c.x));
    case 'where': return ops.where(T(c.cond), T(c.a), T(c.b));
    case 'clamp': return ops.clamp(T(c.x), T(c.lo), T(c.hi));
    case 'var': case 'std': return ops[c.op](T(c.x), { axis: c.axis, keepdims: c.keepdims, ddof: c.ddof ?? 0 });
    case 'sum': case 'mean': case 'prod': case 'max': case 'min': case 'logSumExp':
      return ops[c.op](T(c.x), { axis: c.axis, keepdims: c.keepdims });
    case 'argmax': case 'argmin': return ops[c.op](T(c.x), { axis: c.axis, keepdims: c.keepdims });
    case 'softmax': case 'logSoftmax': return ops[c.op](T(c.x), c.axis);
    case 'matmul': return ops.matmul(T(c.a), T(c.b));
    case 'reshape': return ops.reshape(T(c.x), c.shape);
    case 'transpose': return ops.transpose(T(c.x));
    case 'permute': return ops.permute(T(c.x), c.axes);
    case 'squeeze': return ops.squeeze(T(c.x), c.axis);
    case 'unsqueeze': return ops.unsqueeze(T(c.x), c.axis);
    case 'flatten': return ops.flatten(T(c.x), c.start, c.end);
    case 'broadcastTo': return ops.broadcastTo(T(c.x), c.shape);
    case 'pad': return ops.pad(T(c.x), c.width, c.value);
    case 'concat': case 'stack': return ops[c.op](c.xs.map(T), c.axis);
    case 'split': return ops.split(T(c.x), c.sections, c.axis);
    case 'slice': return ops.slice(T(c.x), ...c.specs);
    case 'take': return ops.take(T(c.x), c.indices, c.axis);
    case 'maskedSelect': return ops.maskedSelect(T(c.x), T(c.mask));
    case 'oneHot': return ops.oneHot(c.indices, c.depth, c.dtype);
    case 'scatterAdd': return ops.scatterAdd(T(c.x), c.indices, T(c.updates), c.axis);
    default: return ops[c.op](T(c.a), T(c.b));  // binary
  }
}

// V8's and Node's own messages: a crash in disguise, not a typed error naming the argument
const UNTYPED = /Invalid array length|Invalid typed array length|is not iterable|Cannot read propert|Cannot convert|is not a function|Maximum call stack|undefined|out of memory|must be of type|ERR_/;

function closeValue(g, w, mode, dtype, scale, ulps = 4, zeroSign = true) {
  // Σ|terms| past the largest float: partial sums overflow, and inf - inf (NaN) or ±inf depends on the order
  if (mode === 'scaled' && !(scale <= MAX[dtype]) && !Number.isFinite(w) && !Number.isFinite(g)) return true;
  if (Number.isNaN(w) || Number.isNaN(g)) return Number.isNaN(w) && Number.isNaN(g);
  if (mode === 'exact') return zeroSign ? Object.is(g, w) : g === w;
  if (g === w) return true;
  if (!Number.isFinite(w) || !Number.isFinite(g)) {
    // an overflow at the edge of the range: the finite side must be within the tolerance of the largest float
    const f = Number.isFinite(w) ? w : g, inf = Number.isFinite(w) ? g : w;
    if (!Number.isFinite(f) || Math.sign(f) !== Math.sign(inf)) return false;
    return Math.abs(f) >= MAX[dtype] * (1 - 8 * TOL.close[dtype]);
  }
  const tol = mode === 'scaled' ? TOL.scaled[dtype] * Math.max(scale, TINY[dtype]) : (ulps / 4) * TOL.close[dtype] * Math.abs(w);
  return Math.abs(g - w) <= Math.max(tol, TINY[dtype]);
}

/** undefined when nodenn's result matches NumPy's answer, else [category, detail]. */
function compare(c, answer, run) {
  if (answer.error !== undefined) {
    if (!run.error) return ['NumPy raises, nodenn returns', `NumPy: ${answer.error}; nodenn: shape [${describeResult(run.result)}]`];
    if (!(run.error instanceof TypeError || run.error instanceof RangeError) || UNTYPED.test(run.error.message)) {
      return ['untyped or V8 error', `${run.error.name}: ${run.error.message} (NumPy: ${answer.error})`];
    }
    return undefined;
  }
  if (run.error) return ['nodenn throws, NumPy succeeds', `${run.error.name}: ${run.error.message}`];
  const bad = compareValues(c, answer.out, answer, run);
  // a documented difference with two accepted answers (float32 sums past 3.4e38: ts finite, native as NumPy)
  return bad && answer.alt && !compareValues(c, answer.alt, answer, run) ? undefined : bad;
}

function compareValues(c, out, answer, run) {
  const got = Array.isArray(run.result) ? run.result : [run.result];
  if (got.length !== out.length) return ['wrong number of results', `${got.length} vs ${out.length}`];
  let at = 0;
  for (let r = 0; r < got.length; r++) {
    const g = got[r], w = out[r];
    if (g.shape.length !== w.shape.length || g.shape.some((d, i) => d !== w.shape[i])) {
      return ['shape', `[${g.shape}] vs NumPy [${w.shape}]`];
    }
    if (g.dtype !== w.dtype && !(c.op === 'argmax' || c.op === 'argmin')) return ['dtype', `${g.dtype} vs NumPy ${w.dtype}`];
    for (let i = 0; i < w.data.length; i++, at++) {
      const want = decNum(w.data[i]), have = g.data[i];
      if (!closeValue(have, want, answer.mode, g.dtype, answer.scale ? decNum(answer.scale[at]) : 0, answer.ulps,
        answer.zeroSign ?? true)) {
        const cat = Number.isNaN(want) !== Number.isNaN(have) ? 'NaN position'
          : !Number.isFinite(want) || !Number.isFinite(have) ? '±Infinity'
              : Object.is(want, -0) !== Object.is(have, -0) && want === have ? 'sign of zero'
                : answer.mode === 'exact' ? 'exact value' : 'beyond tolerance';
        return [cat, `element ${i} of result ${r}: ${fmt(have)} vs NumPy ${fmt(want)}${answer.mode !== 'exact' ? ` (${answer.mode})` : ''}`];
      }
    }
  }
  return undefined;
}
const fmt = (v) => (Object.is(v, -0) ? '-0' : String(v));
const describeResult = (r) => (Array.isArray(r) ? r.map((t) => `[${t.shape}]`).join(' ') : String(r.shape));
function opName(c) {
  if (c.op === 'unary') return c.f;
  if (c.op === 'split' || c.op === 'concat' || c.op === 'stack') return c.op;
  return c.op;
}

// ---- main
function main() {
  const total = Number(opts.cases);
  const kinds = Object.entries(WEIGHTS).flatMap(([k, w]) => new Array(w).fill(k));
  const cases = [];
  while (cases.length < total) {
    const c = generators[pick(kinds)]();
    if (opts.op && opName(c) !== opts.op) continue;
    cases.push(c);
  }
  const py = spawnSync('python3', [path.join(__dirname, 'diff-numpy.py')], { input: toJson(cases), maxBuffer: 1 << 30, encoding: 'utf8' });
  if (py.status !== 0) {
    process.stderr.write(py.stderr);
    throw new Error(`diff-numpy.py exited with ${py.status}`);
  }
  const { numpy, answers } = JSON.parse(py.stdout);

  const rows = [{ label: 'ts', backend: 'ts' }];
  if (nn.nativeAvailable()) {
    for (const isa of ['scalar', 'avx2', 'avx512']) {
      try {
        nn.setBackend('native');
        nn.setIsa(isa);
        rows.push({ label: `native/${isa}`, backend: 'native', isa });
      } catch { /* this CPU lacks it */ }
    }
  }
  const wanted = opts.backends ? new Set(opts.backends.split(',')) : null;
  const backends = rows.filter((b) => !wanted || wanted.has(b.label));

  const stats = new Map();  // op -> { cases, deliberate, errors, mismatches per backend }
  const failures = [];
  const started = Date.now();
  for (const b of backends) {
    nn.setBackend(b.backend);
    if (b.isa) nn.setIsa(b.isa);
    cases.forEach((c, i) => {
      const name = opName(c);
      if (!stats.has(name)) stats.set(name, { cases: 0, deliberate: 0, raises: 0, bad: {} });
      const s = stats.get(name);
      if (b === backends[0]) {
        s.cases++;
        if (answers[i].deliberate) s.deliberate++;
        if (answers[i].error !== undefined) s.raises++;
      }
      let run;
      try {
        run = { result: runNodenn(c) };
      } catch (error) {
        run = { error };
      }
      const bad = compare(c, answers[i], run);
      if (bad) {
        s.bad[b.label] = (s.bad[b.label] ?? 0) + 1;
        failures.push({ backend: b.label, index: i, op: name, category: bad[0], detail: bad[1], c });
      }
    });
  }
  const seconds = (Date.now() - started) / 1000;

  // ---- report
  const labels = backends.map((b) => b.label);
  const header = ['op', 'cases', 'NumPy raises', 'deliberate', ...labels];
  const table = [...stats.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([op, s]) =>
    [op, s.cases, s.raises, s.deliberate, ...labels.map((l) => s.bad[l] ?? 0)]);
  const totals = ['total', cases.length, table.reduce((t, r) => t + r[2], 0), table.reduce((t, r) => t + r[3], 0),
    ...labels.map((_, j) => table.reduce((t, r) => t + r[4 + j], 0))];
  const widths = header.map((h, j) => Math.max(String(h).length, ...[...table, totals].map((r) => String(r[j]).length)));
  const line = (r) => r.map((v, j) => (j === 0 ? String(v).padEnd(widths[j]) : String(v).padStart(widths[j]))).join('  ');
  console.log(`nodenn ${nn.backendInfo().version} against NumPy ${numpy}: ${cases.length} cases, seed ${opts.seed}, ` +
    `${backends.length} backends, ${seconds.toFixed(1)} s (mismatches per backend in the last columns)`);
  console.log(line(header));
  table.forEach((r) => console.log(line(r)));
  console.log(line(totals));
  const byCategory = new Map();
  for (const f of failures) byCategory.set(f.category, (byCategory.get(f.category) ?? 0) + 1);
  if (failures.length) {
    console.log(`\nmismatches by category: ${[...byCategory].map(([k, v]) => `${k} ${v}`).join(', ')}`);
    const seen = new Set();
    const show = Number(opts.show);
    let shown = 0;
    for (const f of failures) {
      const key = `${f.op}|${f.category}|${f.backend.startsWith('native') ? 'native' : 'ts'}`;
      if (seen.has(key) || shown >= show) continue;
      seen.add(key);
      shown++;
      console.log(`\n[${f.backend}] case ${f.index} ${f.op}: ${f.category}: ${f.detail}`);
      console.log(`  ${toJson(f.c).slice(0, 600)}`);
    }
  }
  process.exitCode = failures.length ? 1 : 0;
}

main();
