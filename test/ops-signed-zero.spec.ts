// -0 and +0 through the tensor operations on every backend and ISA, float32 and float64: NumPy's results from
// test/fixtures/ops-signed-zero.json (made by scripts/fixtures/ops-signed-zero.py), the sign of every zero compared,
// and the places where nodenn follows a rule of its own: on purpose (relu), or because NumPy's own answer depends on
// how it is called (np.clip) or on the dtype and length (np.max, np.min).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import * as nn from '../src/index';
import { Tensor, ops, type DType } from '../src/index';
import { backends, useBackend } from './helpers';

type Stored = number | 'nan' | 'inf' | '-inf';
interface Flat { shape: number[]; values: Stored[] }
interface Case { name: string; dtype: DType; op: string; args: Record<string, unknown>; inputs: Flat[]; expected: Flat }
const fixture = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'ops-signed-zero.json'), 'utf8')) as {
  cases: Case[];
  ownRule: (Case & { numpy: Flat; why: string })[];
  print: (Flat & { dtype: DType; str: string })[];
};

const decode = (v: Stored): number => (v === 'nan' ? NaN : v === 'inf' ? Infinity : v === '-inf' ? -Infinity : v);
const fromFlat = (f: Flat, dtype: DType) => new Tensor(f.values.map(decode), f.shape, dtype);
/** A number as it prints here: -0 shown as '-0' (String(-0) is '0'). */
const show = (v: number) => (Object.is(v, -0) ? '-0' : String(v));

/** Runs one fixture case through nn.ops. */
function run(c: Case): Tensor {
  const x = c.inputs.map((f) => fromFlat(f, c.dtype));
  const a = c.args as Record<string, never>;
  switch (c.op) {
    case 'add': case 'sub': case 'mul': case 'div': case 'pow': case 'maximum': case 'minimum':
      if (a.side === 'right') return ops[c.op](x[0], a.scalar);
      if (a.side === 'left') return ops[c.op](a.scalar, x[0]);
      return ops[c.op](x[0], x[1]);
    case 'leakyRelu': return ops.leakyRelu(x[0], a.slope);
    case 'clamp': {
      const bound = (v: Stored | null) => (v === null ? null : decode(v));
      return x.length === 3 ? ops.clamp(x[0], x[1], x[2]) : ops.clamp(x[0], bound(a.min), bound(a.max));
    }
    case 'where': return ops.where(x[0], x[1], x[2]);
    case 'sum': case 'mean': case 'prod': case 'var': case 'std': case 'logSumExp': case 'max': case 'min':
      return ops[c.op](x[0], { axis: a.axis, keepdims: a.keepdims ?? false });
    case 'argmax': case 'argmin': return ops[c.op](x[0], a.axis);
    case 'transpose': return ops.transpose(x[0]);
    case 'reshape': return ops.reshape(x[0], a.shape);
    case 'concat': return ops.concat(x, a.axis);
    case 'stack': return ops.stack(x, a.axis);
    case 'gather': return ops.gather(x[0], a.indices, 0);
    case 'slice': return ops.slice(x[0], ...(a.specs as ops.SliceSpec[]));
    case 'broadcastTo': return ops.broadcastTo(x[0], a.shape);
    case 'pad': return ops.pad(x[0], a.width, a.value);
    case 'full': return ops.full(a.shape, a.value, { dtype: c.dtype });
    case 'maskedSelect': return ops.maskedSelect(x[0], x[1]);
  }
  const unary = (ops as unknown as Record<string, (t: Tensor) => Tensor>)[c.op];
  if (typeof unary !== 'function') throw new Error(`no op ${c.op}`);
  return unary(x[0]);
}

/** The elements that differ from NumPy's: a zero of the other sign, NaN for a number, or beyond the tolerance. */
function mismatches(got: Tensor, want: number[], rtol: number): string[] {
  const bad: string[] = [];
  for (let i = 0; i < want.length; i++) {
    const g = got.data[i], w = want[i];
    const ok = Number.isNaN(w) ? Number.isNaN(g)
      : w === 0 ? Object.is(g, w)
        : g === w || Math.abs(g - w) <= rtol * Math.abs(w);
    if (!ok) bad.push(`[${i}] ${show(g)} (NumPy ${show(w)})`);
  }
  return bad;
}

describe.each(backends)('signed zeros on $label', (bc) => {
  beforeEach(() => useBackend(bc));

  it.each(['float32', 'float64'] as const)('NumPy 2.4 cases, the sign of every zero compared (%s)', (dtype) => {
    const failed: string[] = [];
    for (const c of fixture.cases.filter((k) => k.dtype === dtype)) {
      const y = run(c);
      expect(y.shape, c.name).toEqual(c.expected.shape);
      // away from zero, libm and NumPy's own vector math differ in the last bits (exp, log, tanh, ...); gelu's
      // 1 + erf(x / √2) cancels at x = -4 (the TS erf series and libm's erf differ in erf's last bit)
      const rtol = dtype === 'float32' ? 1e-6 : c.op === 'gelu' ? 1e-11 : 1e-14;
      const bad = mismatches(y, c.expected.values.map(decode), rtol);
      if (bad.length > 0) failed.push(`${c.name}: ${bad.slice(0, 4).join(', ')}${bad.length > 4 ? ', ...' : ''}`);
    }
    expect(failed).toEqual([]);
  });

  it('sign and sum: NumPy\'s +0 for -0 (np.sign(-0.0) is 0.0, a sum starts at +0); relu(-0) is -0 on purpose', () => {
    for (const dtype of ['float32', 'float64'] as const) {
      const z = nn.tensor([-0, 0], { dtype });
      expect(z.sign().toArray().map(show)).toEqual(['0', '0']);
      expect(ops.sign(z).toArray().map(show)).toEqual(['0', '0']);
      // x < 0 ? 0 : x, as the ReLU layer's kernel (NumPy's maximum(x, 0) would give +0)
      expect(z.relu().toArray().map(show)).toEqual(['-0', '0']);
      expect(new nn.ReLU().forward(z).toArray().map(show)).toEqual(['-0', '0']);
      expect(z.step().toArray().map(show)).toEqual(['0', '0']);
      expect(z.abs().toArray().map(show)).toEqual(['0', '0']);
      expect(z.neg().toArray().map(show)).toEqual(['0', '-0']);
      expect(z.sqrt().toArray().map(show)).toEqual(['-0', '0']);  // IEEE 754: √−0 is −0
      expect(show(nn.tensor([-0, -0], { dtype }).sum().item())).toBe('0');
      expect(show(nn.tensor([-0], { dtype }).sum().item())).toBe('0');
      expect(show(nn.tensor([-0], { dtype }).prod().item())).toBe('-0');  // a product starts at 1: 1 · −0
    }
  });

  it('clamp keeps x where it equals a bound (np.clip with number bounds), with number, infinite and tensor bounds', () => {
    const z = nn.tensor([-0, 0]);
    for (const [lo, hi] of [[0, 1], [-0, 1], [-1, 0], [-1, -0], [0, Infinity], [-Infinity, -0]] as const) {
      expect(z.clamp(lo, hi).toArray().map(show), `clamp(${show(lo)}, ${show(hi)})`).toEqual(['-0', '0']);
      expect(z.clamp(nn.tensor(lo), nn.tensor(hi)).toArray().map(show), 'tensor bounds').toEqual(['-0', '0']);
    }
    expect(z.clamp(0).toArray().map(show)).toEqual(['-0', '0']);
    expect(z.clamp(null, -0).toArray().map(show)).toEqual(['-0', '0']);
  });

  it.each(['float32', 'float64'] as const)('nodenn\'s own rules, where NumPy gives the other zero (%s)', (dtype) => {
    // relu(-0) is -0 on purpose; clamp keeps x on a tie in every form (np.clip: only with two scalar bounds; with one
    // bound left out or bounds that broadcast it gives the bound's zero); max is +0 and min -0 on a ±0 tie (IEEE
    // 754-2019; np.max's answer depends on the dtype and the length)
    const failed: string[] = [];
    let numpyDiffers = 0;
    for (const c of fixture.ownRule.filter((k) => k.dtype === dtype)) {
      const y = run(c);
      expect(y.shape, c.name).toEqual(c.expected.shape);
      const bad = mismatches(y, c.expected.values.map(decode), 1e-6);
      if (bad.length > 0) failed.push(`${c.name}: ${bad.slice(0, 4).join(', ')}`);
      const numpy = new Tensor(c.numpy.values.map(decode), c.numpy.shape, dtype);
      if (mismatches(numpy, c.expected.values.map(decode), 0).length > 0) numpyDiffers++;
    }
    expect(failed).toEqual([]);
    expect(numpyDiffers, 'cases where NumPy gives the other zero').toBeGreaterThan(3);
  });

  it('max and min of ±0 ties along axes; the element-wise maximum and minimum (NumPy\'s: the second operand)', () => {
    for (const dtype of ['float32', 'float64'] as const) {
      const x = nn.tensor([[-0, 0], [0, -0]], { dtype });
      expect(x.max(1).toArray().map(show)).toEqual(['0', '0']);
      expect(x.min(0).toArray().map(show)).toEqual(['-0', '-0']);
      expect(ops.maximum(x, nn.tensor([[0, -0], [-0, 0]], { dtype })).toArray().map(show))
        .toEqual(['0', '-0', '-0', '0']);
      expect(ops.minimum(nn.tensor([-0, 0], { dtype }), nn.tensor([0, -0], { dtype })).toArray().map(show))
        .toEqual(['0', '-0']);
    }
  });

  it.each(fixture.print.map((p) => ({ ...p, name: `${p.dtype} ${JSON.stringify(p.shape)}` })))(
    'round trips keep -0: tensor(), data, toNested(), item(), toString() as NumPy\'s str(): $name', (p) => {
      const values = p.values.map(decode);
      const x = nn.tensor(p.shape.length === 0 ? values[0] : values, { dtype: p.dtype });
      expect(Array.from(x.data, show)).toEqual(values.map(show));
      expect(String(x)).toBe(p.str);
      const nested = x.toNested();
      if (p.shape.length === 0) {
        expect(show(nested as number)).toBe(show(values[0]));
        expect(show(x.item())).toBe(show(values[0]));
      } else {
        expect((nested as number[]).map(show)).toEqual(values.map(show));
        expect(nn.tensor(nested as number[], { dtype: p.dtype }).toArray().map(show)).toEqual(values.map(show));
      }
      expect(x.clone().toArray().map(show)).toEqual(values.map(show));
      expect(x.astype(p.dtype === 'float32' ? 'float64' : 'float32').toArray().map(show)).toEqual(values.map(show));
    });
});
