// Results are taken uninitialized (allocateUninitialized: slab pieces and Buffer.allocUnsafeSlow): every operation
// must write every element of its result. With the uninitialized memory filled first with NaN, then with another
// value, every operation must give bitwise the same result as without the fill; an element left unwritten shows
// the fill. Also the out= and in-place forms of the element-wise operations, on every backend and ISA.
import { afterEach, describe, expect, it } from 'vitest';
import { Tensor, noGrad, ops } from '../src/index';
import { setUninitializedFill } from '../src/tensor';
import { backends, rng, useBackend } from './helpers';

function randomTensor(shape: number[], seed: number, dtype: 'float32' | 'float64' = 'float32'): Tensor {
  const r = rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const data = dtype === 'float32' ? new Float32Array(n) : new Float64Array(n);
  for (let i = 0; i < n; i++) data[i] = r() * 4 - 2;
  return new Tensor(data, shape);
}

/** Every operation that makes a new result, on small (slab) and large (allocUnsafeSlow) tensors. */
function operations(size: number, dtype: 'float32' | 'float64'): [string, () => Tensor | Tensor[]][] {
  const a = randomTensor([size, 33], 1, dtype), b = randomTensor([size, 33], 2, dtype), row = randomTensor([33], 3, dtype);
  const six = randomTensor([2, 3, 2, 3, 2, Math.max(1, size >> 3)], 4, dtype), sixB = randomTensor([3, 1, 3, 1, 1], 5, dtype);
  const sq = randomTensor([33, 33], 6, dtype), idx = Int32Array.from({ length: size }, (_, i) => (i * 7) % size);
  return [
    ...(['add', 'sub', 'mul', 'div', 'maximum', 'minimum', 'gt', 'eq'] as const).flatMap((op) => [
      [`${op} same shape`, () => ops[op](a, b)],
      [`${op} row`, () => ops[op](a, row)],
      [`${op} scalar`, () => ops[op](2, a)],
      [`${op} 6-d broadcast`, () => ops[op](six, sixB)],
    ] as [string, () => Tensor][]),
    ...(['neg', 'abs', 'exp', 'log1p', 'sqrt', 'square', 'relu', 'sigmoid', 'tanh', 'gelu'] as const)
      .map((op) => [op, () => ops[op](a)] as [string, () => Tensor]),
    ['clamp', () => ops.clamp(a, -1, 1)],
    ['clamp by tensors', () => ops.clamp(a, row, 1.5)],
    ['where', () => ops.where(ops.gt(a, 0), a, row)],
    ...(['sum', 'mean', 'prod', 'max', 'min', 'logSumExp', 'std'] as const).flatMap((op) => [
      [`${op} all`, () => ops[op](a)],
      [`${op} axis 0`, () => ops[op](a, 0)],
      [`${op} axis 1`, () => ops[op](a, 1)],
      [`${op} axes 0, 2`, () => ops[op](six, [0, 2])],
    ] as [string, () => Tensor][]),
    ['argmax 0', () => ops.argmax(a, 0)],
    ['argmin 1', () => ops.argmin(a, 1)],
    ['softmax', () => ops.softmax(a, 0)],
    ['logSoftmax', () => ops.logSoftmax(a)],
    ['matmul', () => ops.matmul(a, sq)],
    ['matmul batched', () => ops.matmul(six.reshape([-1, 2, six.shape[5]]), six.reshape([-1, six.shape[5], 2]))],
    ['outer', () => ops.outer(row, row)],
    ['transpose', () => ops.transpose(a)],
    ['permute', () => ops.permute(six, [5, 3, 1, 0, 2, 4])],
    ['concat', () => ops.concat([a, b], 1)],
    ['stack', () => ops.stack([a, b], 1)],
    ['split', () => ops.split(a, 3, 1)],
    ['pad', () => ops.pad(a, [[1, 2], [0, 3]], 5)],
    ['broadcastTo', () => ops.broadcastTo(row, [size, 33])],
    ['slice', () => ops.slice(a, [1, null, 2], [null, null, -3])],
    ['take', () => ops.take(a, idx, 0)],
    ['gather', () => ops.gather(a, idx.map((i) => i % 33), 1)],
    ['maskedSelect', () => ops.maskedSelect(a, ops.gt(a, 0))],
    ['oneHot', () => ops.oneHot(idx.map((i) => i % 10), 10, dtype)],
    ['scatterAdd', () => ops.scatterAdd(a, idx.subarray(0, 4), b.slice([0, 4]), 0)],
  ];
}

function bits(t: Tensor | Tensor[]): Uint8Array[] {
  return (Array.isArray(t) ? t : [t]).map((x) => new Uint8Array(x.data.buffer, x.data.byteOffset, x.data.byteLength).slice());
}

afterEach(() => { setUninitializedFill(null); });

describe.each(backends)('uninitialized results on $label', (bc) => {
  it.each([[1, 'float32'], [4, 'float64'], [64, 'float32']] as const)(
    'every operation writes every element of its result (%i rows, %s)', (size, dtype) => {
      useBackend(bc);
      for (const [name, run] of operations(size, dtype)) {
        setUninitializedFill(null);
        const want = bits(run());
        for (const fill of [NaN, 7.25]) {
          setUninitializedFill(fill);
          const got = bits(run());
          expect(got.length, name).toBe(want.length);
          got.forEach((g, k) => { if (Buffer.compare(g, want[k]) !== 0) expect.fail(`${name} (fill ${fill}): result ${k} differs`); });
        }
      }
    });
});

describe.each(backends)('out= and in place on $label', (bc) => {
  it('write into out, return it, and equal the fresh result bitwise; in place on either operand', () => {
    useBackend(bc);
    const a = randomTensor([40, 33], 1), b = randomTensor([40, 33], 2), row = randomTensor([33], 3);
    for (const [op, x, y] of [['add', a, b], ['mul', a, row], ['div', row, a], ['pow', a, 2], ['maximum', 0, a]] as const) {
      const out = Tensor.zeros([40, 33]);
      expect(ops[op](x, y, { out }), op).toBe(out);
      expect(out.equal(ops[op](x, y)), op).toBe(true);
    }
    const out = Tensor.zeros([40, 33]);
    expect(ops.exp(a, { out })).toBe(out);
    expect(out.equal(ops.exp(a))).toBe(true);
    expect(ops.leakyRelu(a, 0.2, { out }).equal(ops.leakyRelu(a, 0.2))).toBe(true);
    expect(ops.clamp(a, row, null, { out }).equal(ops.clamp(a, row))).toBe(true);

    const want = a.add(row).mul(3).exp_().clamp(0.5, 2);
    const c = a.clone();
    expect(c.add_(row).mul_(3).exp_().clamp_(0.5, 2)).toBe(c);
    expect(c.equal(want)).toBe(true);
    // the operand that is written may be the second one
    const d = b.clone();
    ops.sub(a, d, { out: d });
    expect(d.equal(a.sub(b))).toBe(true);
    // out's dtype decides: the operands are converted to it
    const a64 = a.astype('float64'), out32 = Tensor.zeros([40, 33]);
    ops.add(a64, b, { out: out32 });
    expect(out32.equal(a64.add(b).astype('float32'))).toBe(true);
    const e = a.clone().astype('float64');
    e.mul_(b);
    expect(e.dtype).toBe('float64');
    expect(e.equal(a.astype('float64').mul(b))).toBe(true);
  });

  it('errors: out of the wrong shape, not a Tensor, sharing part of an operand, or under autograd', () => {
    useBackend(bc);
    const a = randomTensor([4, 3], 1), row = randomTensor([3], 2);
    expect(() => ops.add(a, row, { out: Tensor.zeros([3]) }))
      .toThrow(new RangeError('add: out has shape [3] but the result has shape [4, 3]'));
    expect(() => row.add_(a)).toThrow(new RangeError('add: out has shape [3] but the result has shape [4, 3]'));
    expect(() => ops.exp(a, { out: [1, 2] as unknown as Tensor })).toThrow(new TypeError('exp: out must be a Tensor, got an array of length 2'));
    expect(() => ops.exp(a, 5 as never)).toThrow(new TypeError('exp: options must be an object, got 5'));
    const inner = new Tensor(a.data.subarray(3, 6), [3]);
    expect(() => ops.add(new Tensor(a.data.subarray(2, 5), [3]), row, { out: inner })).toThrow(/y must not share memory with a/);

    const w = randomTensor([4, 3], 3).requiresGrad_();
    const message = 'add: writing into out (or in place) is not recorded by autograd, and b requires a gradient; use ' +
      'the operation without out, or run it inside noGrad()';
    expect(() => a.clone().add_(w)).toThrow(new Error(message));
    expect(() => w.mul_(2)).toThrow(/mul: writing into out \(or in place\) is not recorded by autograd, and out requires/);
    expect(() => ops.exp(w, { out: Tensor.zeros([4, 3]) })).toThrow(/and x requires a gradient/);
    // a tensor a recorded operation saved for its backward, modified in place afterwards: backward refuses
    const x = a.clone(), y = w.mul(x), z = w.mul(a.clone());
    x.mul_(2);
    expect(() => y.sum().backward()).toThrow(new Error('backward: a tensor that mul needs for its gradient was ' +
      'modified in place (add_, mul_, ..., or out=) after the operation ran; clone() it before modifying it'));
    z.sum().backward();
    expect(w.grad!.equal(a)).toBe(true);
    // without recording, a parameter update in place is what an optimizer does
    const before = w.clone();
    noGrad(() => w.sub_(w.mul(0.5)));
    expect(w.equal(before.mul(0.5))).toBe(true);
  });
});
