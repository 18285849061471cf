// Empty tensors with long other axes: [2^27, 0, 2^27] holds no element, but the product of its other axes (2^54)
// is more than any size a kernel takes and more iterations than a loop can make. Every operation of nn.ops and every
// Tensor method must give the right empty result at once (no index of a long axis listed, no loop over it, no
// "too large" for an empty array), or a typed error naming what is wrong when the result is not empty. On every
// backend and ISA. Each case must also stay within a CPU-time bound: a loop of 2^27 passes took 140 ms before.
import { describe, expect, it } from 'vitest';
import { getBackend } from '../src/backend/index';
import * as ops from '../src/ops/index';
import { Tensor } from '../src/tensor';
import { backends, useBackend } from './helpers';

const H = 2 ** 27;
const z = (shape: number[]): Tensor => Tensor.zeros(shape);
/** [H, 0, H]: no element, 2^54 elements in the product of its other axes. */
const e3 = (): Tensor => z([H, 0, H]);
const grad = (x: Tensor, f: (x: Tensor) => Tensor): Tensor => {
  x.requiresGrad_();
  f(x).sum().backward();
  return x.grad!;
};

type Expect = number[] | { shape: number[]; values: number[] } | RegExp;

const cases: [string, () => unknown, Expect][] = [
  // element-wise and broadcasting
  ['neg', () => e3().neg(), [H, 0, H]],
  ['add broadcast', () => ops.add(z([H, 0, 1]), z([1, 0, H])), [H, 0, H]],
  ['where broadcast', () => ops.where(z([H, 0, 1]), z([1, 0, H]), 0), [H, 0, H]],
  ['clamp by tensors', () => ops.clamp(e3(), z([1, 0, H]), z([H, 0, 1])), [H, 0, H]],
  // reductions
  ['sum over all', () => e3().sum(), { shape: [], values: [0] }],
  ['sum over axes 0 and 2 (not neighbours)', () => e3().sum([0, 2]), [0]],
  ['sum over axis 0', () => e3().sum(0), [0, H]],
  ['prod over axes 0 and 1 of [H, 0, 3]', () => z([H, 0, 3]).prod([0, 1]), { shape: [3], values: [1, 1, 1] }],
  ['mean over axes 0 and 1 of [H, 0, 3]', () => z([H, 0, 3]).mean([0, 1]), { shape: [3], values: [NaN, NaN, NaN] }],
  ['max over axes 0 and 2', () => e3().max([0, 2]), [0]],
  ['var over axes 0 and 2', () => e3().var([0, 2]), [0]],
  ['logSumExp over axes 0 and 2', () => e3().logSumExp([0, 2]), [0]],
  ['argmax along axis 2', () => e3().argmax(2), [H, 0]],
  ['softmax along axis 0', () => e3().softmax(0), [H, 0, H]],
  ['logSoftmax along the empty axis', () => e3().logSoftmax(1), [H, 0, H]],
  // not empty: a typed error, not an allocation failure
  ['sum over the empty axis: [H, H] zeros', () => e3().sum(1), /the result of shape \[134217728, 134217728\] would hold 18014398509481984 elements: a tensor holds fewer than 2\^31/],
  ['max over the empty axis', () => e3().max(1), /max of an empty axis \(shape \[134217728, 0, 134217728\]\)/],
  ['argmax along the empty axis', () => e3().argmax(1), /argmax of an empty sequence/],
  ['pad the empty axis', () => e3().pad([[0, 0], [1, 1], [0, 0]]), /the result of shape \[134217728, 2, 134217728\] would hold/],
  // linear algebra
  ['matmul, batch axes broadcast', () => ops.matmul(z([H, 1, 0, 3]), z([1, H, 3, 0])), [H, H, 0, 0]],
  ['matmul [H, 0, 3] @ [3, 2]', () => ops.matmul(z([H, 0, 3]), z([3, 2])), [H, 0, 2]],
  ['matmul [0, H] @ [H, 0]', () => ops.matmul(z([0, H]), z([H, 0])), [0, 0]],
  ['dot [H, 0, 3] . [2, 3, 0]', () => ops.dot(z([H, 0, 3]), z([2, 3, 0])), [H, 0, 2, 0]],
  // shape
  ['transpose', () => e3().transpose(), [H, 0, H]],
  ['permute', () => e3().permute(2, 0, 1), [H, H, 0]],
  ['swapaxes 0 and 2', () => ops.swapaxes(e3(), 0, 2), [H, 0, H]],
  ['swapaxes of [H, 2, 0, 3, H]', () => ops.swapaxes(z([H, 2, 0, 3, H]), 0, 4), [H, 2, 0, 3, H]],
  ['concat along axis 0', () => ops.concat([e3(), e3()], 0), [2 * H, 0, H]],
  ['concat along axis 2', () => ops.concat([e3(), z([H, 0, 5])], 2), [H, 0, H + 5]],
  ['stack', () => ops.stack([e3(), e3()], 1), [H, 2, 0, H]],
  ['split in 2 along axis 0', () => (e3().split(2, 0)).map((t) => t.shape), [[H / 2, 0, H], [H / 2, 0, H]] as never],
  ['split at points along axis 2', () => e3().split([1, 5], 2).map((t) => t.shape), [[H, 0, 1], [H, 0, 4], [H, 0, H - 5]] as never],
  ['broadcastTo [1, 0, 1] -> [H, 0, H]', () => z([1, 0, 1]).broadcastTo([H, 0, H]), [H, 0, H]],
  ['broadcastTo [H, 0, 1] -> [H, 0, H]', () => z([H, 0, 1]).broadcastTo([H, 0, H]), [H, 0, H]],
  ['broadcastTo [1, 3] -> [0, 3]', () => ops.broadcastTo(z([1, 3]), [0, 3]), [0, 3]],
  ['pad axes 0 and 2', () => e3().pad([[1, 1], [0, 0], [0, 2]]), [H + 2, 0, H + 2]],
  // indexing
  ['slice, reversed long axis', () => e3().slice([1, 3], null, [null, null, -1]), [2, 0, H]],
  ['slice with a step', () => e3().slice([null, null, 2], null, [5, null]), [H / 2, 0, H - 5]],
  ['slice, an integer index', () => e3().slice(-1), [0, H]],
  ['take along axis 0', () => e3().take([0, -1], 0), [2, 0, H]],
  ['take, flattened', () => e3().take([], null), [0]],
  ['gather along axis 2', () => e3().gather([-1], 2), [H, 0, 1]],
  ['maskedSelect by leading axes', () => e3().maskedSelect(z([H, 0])), [0, H]],
  ['oneHot of no indices, long depth', () => ops.oneHot(new Int32Array(0), H), [0, H]],
  ['oneHot of [H, 0] indices', () => ops.oneHot(z([H, 0]), H), [H, 0, H]],
  ['scatterAdd along axis 2', () => e3().scatterAdd([1], z([H, 0, 1]), 2), [H, 0, H]],
  ['take from the empty axis is out of bounds', () => e3().take([0], 1), /index 0 is out of bounds for axis 1 with size 0/],
  // format
  ['toString', () => e3().toString(), /^\[\]$/],
  ['toNested of [0, H, H]', () => z([0, H, H]).toNested(), [] as never],
  ['toNested of [H, 0, H]', () => e3().toNested(), /toNested: the empty tensor of shape \[134217728, 0, 134217728\] would be 134217729 nested empty arrays, more than 16777216/],
  // autograd: the backward passes run the same operations
  ['grad of transpose', () => grad(e3(), (x) => x.transpose()), [H, 0, H]],
  ['grad of softmax', () => grad(e3(), (x) => x.softmax(0)), [H, 0, H]],
  ['grad of matmul', () => grad(z([H, 0, 3]), (x) => ops.matmul(x, z([3, 2]))), [H, 0, 3]],
  ['grad of broadcastTo', () => grad(z([1, 0, 1]), (x) => x.broadcastTo([H, 0, H])), [1, 0, 1]],
  ['grad of max', () => grad(e3(), (x) => x.max(0)), [H, 0, H]],
  ['grad of concat', () => grad(e3(), (x) => ops.concat([x, x], 2)), [H, 0, H]],
  ['grad of pad', () => grad(e3(), (x) => x.pad([[1, 1], [0, 0], [0, 0]])), [H, 0, H]],
  ['grad of slice', () => grad(e3(), (x) => x.slice(null, null, [null, null, -1])), [H, 0, H]],
];

describe.each(backends)('empty tensors with long axes on $label', (bc) => {
  it.each(cases)('%s', (name, f, want) => {
    useBackend(bc);
    const t0 = process.cpuUsage();
    let result: unknown, error: unknown;
    try {
      result = f();
    } catch (e) {
      error = e;
    }
    const cpu = process.cpuUsage(t0);
    expect((cpu.user + cpu.system) / 1000).toBeLessThan(100);
    if (want instanceof RegExp) {
      if (typeof result === 'string') return expect(result).toMatch(want);
      expect(error).toBeInstanceOf(RangeError);
      expect((error as Error).message).toMatch(want);
      return;
    }
    expect(error).toBeUndefined();
    if (!(result instanceof Tensor)) return expect(result).toEqual(want);
    const shape = Array.isArray(want) ? want : want.shape;
    expect(result.shape).toEqual(shape);
    // argmax along an axis longer than 2^24 gives float64 indices
    expect(result.dtype).toBe(name.startsWith('argmax') ? 'float64' : 'float32');
    if (!Array.isArray(want)) expect(Array.from(result.data)).toEqual(want.values);
    else expect(result.size).toBe(0);
  });
});

// The kernels themselves: an array whose length is a product of sizes with a zero among them is empty, however large
// the other sizes (it was "outer * n * inner is too large" on both backends); the TS kernels return without looping
// over the non-empty sizes (2^54 passes for the calls below).
describe.each(backends)('kernels with an empty array of long sizes on $label', (bc) => {
  const big = 2 ** 30, none = new Float32Array(0);
  const calls: [string, (inner: number) => unknown, RegExp][] = [
    ['reduceAxis', (inner) => getBackend().reduceAxis('sum', big, big, inner, none, none), /outer \* n \* inner is too large/],
    ['softmaxAxis', (inner) => getBackend().softmaxAxis(true, big, big, inner, none, none), /outer \* n \* inner is too large/],
    ['varianceAxis', (inner) => getBackend().varianceAxis(big, big, inner, 0, false, none, none), /outer \* n \* inner is too large/],
    ['swapAxes', (inner) => getBackend().swapAxes(big, big, 1, big, inner, none, none), /outer \* m \* mid \* n \* inner is too large/],
  ];
  it.each(calls)('%s: the zero size makes the arrays empty, a one is too large', (_, call, tooLarge) => {
    useBackend(bc);
    const t0 = process.cpuUsage();
    expect(call(0)).toBeUndefined();
    const cpu = process.cpuUsage(t0);
    expect((cpu.user + cpu.system) / 1000).toBeLessThan(100);
    expect(() => call(1)).toThrow(RangeError);
    expect(() => call(1)).toThrow(tooLarge);
  });
});
