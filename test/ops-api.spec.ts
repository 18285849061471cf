// The tensor section of the API contract (/work/shared/API.md, issue 15) as users spell it: every operation as
// t.op(...) and nn.ops.op(t, ...), and as nn.op(...) where the contract names it at the top level (where, concat,
// stack, split). On every backend and ISA: each method gives the same values as its nn.ops function, the entry
// points added as aliases (outer, oneHot, swapaxes, booleanMask, nn.concat / stack / split) give hand-worked
// values, and no nn.ops function on a tensor is left without its method unless the list below says why.
import { beforeEach, describe, expect, it } from 'vitest';
import * as nn from '../src/index';
import { Tensor, ops } from '../src/index';
import { backends, useBackend } from './helpers';

/** Same shape, dtype and bits (NaN equal to NaN, -0 apart from +0). */
function expectSame(got: Tensor | Tensor[], want: Tensor | Tensor[], what: string): void {
  const g = Array.isArray(got) ? got : [got], w = Array.isArray(want) ? want : [want];
  expect(g.length, what).toBe(w.length);
  g.forEach((t, i) => {
    expect(t.shape, what).toEqual(w[i].shape);
    expect(t.dtype, what).toBe(w[i].dtype);
    expect(Array.from(t.data), what).toEqual(Array.from(w[i].data));  // toEqual tells -0 from +0 and NaN equals NaN
  });
}

// x: a (2, 3) tensor with a negative, a zero and a non-integer; y: a broadcasting row
const x = () => nn.tensor([[1.5, -2, 0], [3, 0.25, -0.5]]);
const y = () => nn.tensor([2, -1, 0.5]);
const positive = () => nn.tensor([[1.5, 2, 0.5], [3, 0.25, 4]]);

/** [name, the method call, the nn.ops call]: each operation of the contract with representative arguments. */
const pairs: [string, () => unknown, () => unknown][] = [
  ...(['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum', 'gt', 'ge', 'lt', 'le', 'eq', 'ne'] as const)
    .map((op): [string, () => unknown, () => unknown] => [op, () => x()[op](y()), () => ops[op](x(), y())]),
  ...(['neg', 'abs', 'sign', 'exp', 'tanh', 'relu', 'sigmoid', 'step', 'softplus', 'gelu', 'square'] as const)
    .map((op): [string, () => unknown, () => unknown] => [op, () => x()[op](), () => ops[op](x())]),
  ...(['log', 'log1p', 'sqrt'] as const)
    .map((op): [string, () => unknown, () => unknown] => [op, () => positive()[op](), () => ops[op](positive())]),
  ['leakyRelu', () => x().leakyRelu(0.1), () => ops.leakyRelu(x(), 0.1)],
  ['clamp', () => x().clamp(-1, 1), () => ops.clamp(x(), -1, 1)],
  ...(['sum', 'mean', 'max', 'min', 'prod', 'var', 'std', 'logSumExp'] as const)
    .map((op): [string, () => unknown, () => unknown] => [op, () => x()[op](1, true), () => ops[op](x(), 1, true)]),
  ['argmax', () => x().argmax(1), () => ops.argmax(x(), 1)],
  ['argmin', () => x().argmin(0), () => ops.argmin(x(), 0)],
  ['softmax', () => x().softmax(0), () => ops.softmax(x(), 0)],
  ['logSoftmax', () => x().logSoftmax(), () => ops.logSoftmax(x())],
  ['matmul', () => x().matmul(x().T), () => ops.matmul(x(), ops.transpose(x()))],
  ['dot', () => y().dot(y()), () => ops.dot(y(), y())],
  ['outer', () => y().outer(x()), () => ops.outer(y(), x())],
  ['reshape', () => x().reshape([3, -1]), () => ops.reshape(x(), [3, 2])],
  ['transpose', () => x().transpose(), () => ops.transpose(x())],
  ['permute', () => x().permute(1, 0), () => ops.permute(x(), [1, 0])],
  ['swapaxes', () => x().swapaxes(0, 1), () => ops.swapaxes(x(), 0, 1)],
  ['squeeze', () => x().reshape([2, 1, 3]).squeeze(), () => ops.squeeze(x().reshape([2, 1, 3]))],
  ['unsqueeze', () => x().unsqueeze(1), () => ops.unsqueeze(x(), 1)],
  ['flatten', () => x().flatten(), () => ops.flatten(x())],
  ['broadcastTo', () => y().broadcastTo([2, 3]), () => ops.broadcastTo(y(), [2, 3])],
  ['pad', () => x().pad(1, -1), () => ops.pad(x(), 1, -1)],
  ['split', () => x().split(3, 1), () => ops.split(x(), 3, 1)],
  ['slice', () => x().slice(null, [null, null, -1]), () => ops.slice(x(), null, [null, null, -1])],
  ['take', () => x().take([5, 0]), () => ops.take(x(), [5, 0])],
  ['gather', () => x().gather([1, 1, 0]), () => ops.gather(x(), [1, 1, 0])],
  ['maskedSelect', () => x().maskedSelect(x().gt(0)), () => ops.maskedSelect(x(), ops.gt(x(), 0))],
  ['booleanMask', () => x().booleanMask(x().gt(0)), () => ops.booleanMask(x(), ops.gt(x(), 0))],
  ['oneHot', () => nn.tensor([2, 0]).oneHot(3), () => ops.oneHot(nn.tensor([2, 0]), 3)],
  ['scatterAdd', () => x().scatterAdd([1], nn.ones([1, 3])), () => ops.scatterAdd(x(), [1], nn.ones([1, 3]))],
  ['toNested', () => x().toNested(), () => ops.toNested(x())],
  ['item', () => y().sum().item(), () => ops.item(ops.sum(y()))],
  ['equal', () => x().equal(x()), () => ops.equal(x(), x())],
  ['allClose', () => x().allClose(x().add(1e-9)), () => ops.allClose(x(), x().add(1e-9))],
];

/**
 * The nn.ops functions that have no Tensor method, and why: creation takes no tensor; the broadcasting and dtype
 * helpers compute shapes; where, concat and stack are nn.where / nn.concat / nn.stack (where's first operand is the
 * condition: cond.where(a, b) would read as PyTorch's x.where(cond, y), which means the opposite); toText and
 * toRepr are String(t) and util.inspect(t); variance is t.var(); linear(x, weight, bias) is a layer's product.
 */
const withoutMethod = [
  'tensor', 'zeros', 'ones', 'full', 'zerosLike', 'onesLike', 'fullLike', 'arange', 'linspace', 'eye', 'rand', 'randn',
  'randint', 'manualSeed', 'broadcastShapes', 'broadcastStrides', 'contiguousStrides', 'resultDType', 'where', 'concat',
  'stack', 'toText', 'toRepr', 'variance', 'linear',
];

describe('the API contract\'s entry points', () => {
  it('every nn.ops function on a tensor is a Tensor method of the same name, but for the listed ones', () => {
    const fns = Object.keys(ops).filter((k) => typeof (ops as Record<string, unknown>)[k] === 'function');
    const methods = Tensor.prototype as unknown as Record<string, unknown>;
    const missing = fns.filter((k) => typeof methods[k] !== 'function');
    expect(missing.sort()).toEqual([...withoutMethod].sort());
    // and the pairs below cover every method that has an nn.ops function (toString is String(t))
    const covered = new Set(pairs.map(([name]) => name));
    expect(fns.filter((k) => !withoutMethod.includes(k) && !covered.has(k))).toEqual([]);
  });

  it('the top-level names of the contract are nn.ops\' functions themselves', () => {
    for (const name of ['where', 'concat', 'stack', 'split', 'tensor', 'zeros', 'ones', 'full', 'arange', 'linspace',
      'eye', 'rand', 'randn', 'randint'] as const) {
      expect(nn[name], `nn.${name}`).toBe(ops[name]);
    }
  });
});

describe.each(backends)('tensor entry points on $label', (bc) => {
  beforeEach(() => useBackend(bc));

  it.each(pairs)('t.%s(...) gives nn.ops\' values', (name, method, fn) => {
    const a = method(), b = fn();
    const tensors = a instanceof Tensor || (Array.isArray(a) && a[0] instanceof Tensor);
    if (tensors) expectSame(a as Tensor | Tensor[], b as Tensor | Tensor[], name);
    else expect(a, name).toEqual(b);
  });

  it('t.outer(u): the outer product of the flattened operands', () => {
    const p = nn.tensor([1, 2, 3]).outer(nn.tensor([10, -20]));
    expect(p.shape).toEqual([3, 2]);
    expect(p.toNested()).toEqual([[10, -20], [20, -40], [30, -60]]);
    const q = nn.tensor([[1, 2], [3, 4]], { dtype: 'float64' }).outer(nn.tensor([1, -1]));
    expect(q.dtype).toBe('float64');  // float64 wins
    expect(q.toNested()).toEqual([[1, -1], [2, -2], [3, -3], [4, -4]]);
    expect(() => nn.tensor([1]).outer(3 as unknown as Tensor)).toThrow(/b must be a Tensor/);
  });

  it('t.oneHot(depth, dtype?): one row per index, the tensor\'s shape kept', () => {
    const h = nn.tensor([2, 0, 1]).oneHot(3);
    expect(h.dtype).toBe('float32');
    expect(h.toNested()).toEqual([[0, 0, 1], [1, 0, 0], [0, 1, 0]]);
    const h2 = nn.tensor([[1], [0]]).oneHot(2, 'float64');
    expect(h2.shape).toEqual([2, 1, 2]);
    expect(h2.dtype).toBe('float64');
    expect(h2.toNested()).toEqual([[[0, 1]], [[1, 0]]]);
    expect(() => nn.tensor([3]).oneHot(3)).toThrow(/index 3 .* out of bounds for oneHot depth 3/);
    expect(() => nn.tensor([0.5]).oneHot(3)).toThrow(/indices\[0\] must be an integer, got 0.5/);
  });

  it('t.swapaxes(a, b) and t.booleanMask(mask)', () => {
    const s = nn.arange(6).reshape([1, 2, 3]).swapaxes(0, -1);
    expect(s.shape).toEqual([3, 2, 1]);
    expect(s.toNested()).toEqual([[[0], [3]], [[1], [4]], [[2], [5]]]);
    expect(() => nn.arange(6).swapaxes(0, 1)).toThrow(/axis2/);
    expect(x().booleanMask(x().lt(0)).toArray()).toEqual([-2, -0.5]);
  });

  it('nn.concat, nn.stack and nn.split at the top level', () => {
    const a = nn.tensor([[1, 2]]), b = nn.tensor([[3, 4]]);
    expect(nn.concat([a, b]).toNested()).toEqual([[1, 2], [3, 4]]);
    expect(nn.concat([a, b], 1).toNested()).toEqual([[1, 2, 3, 4]]);
    expect(nn.stack([a, b], 1).shape).toEqual([1, 2, 2]);
    expect(nn.stack([a, b], 1).toNested()).toEqual([[[1, 2], [3, 4]]]);
    const parts = nn.split(nn.arange(6), [1, 4]);
    expect(parts.map((p) => p.toArray())).toEqual([[0], [1, 2, 3], [4, 5]]);
    expect(nn.where(nn.tensor([1, 0]), a.flatten(), b.flatten()).toArray()).toEqual([1, 4]);
  });
});
