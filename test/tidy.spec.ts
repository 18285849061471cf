// nn.tidy(fn) and nn.keep(t), TensorFlow.js's: the results of 4 KiB or more made inside fn are given back when it
// returns, except what it returns (a tensor, or tensors in arrays, plain objects and Maps), what keep() marked and
// a leaf's .grad; nested scopes hand their returned results to the enclosing one; an async fn is a TypeError that
// gives nothing back; a throwing fn gives everything back. Results under 4 KiB (shared slab) are left alone.
import { describe, expect, it } from 'vitest';
import * as nn from '../src/index';
import { Tensor, ops } from '../src/index';
import { backends, randn, useBackend } from './helpers';

// 32 x 64 float32: 8 KiB, a result that can be given back
const big = (seed: number): Tensor => randn([32, 64], seed);

describe.each(backends)('tidy on $label', (bc) => {
  it('gives back what fn made and did not return; the returned tensor keeps its values', () => {
    useBackend(bc);
    const a = big(1), b = big(2);
    const want = Array.from(ops.exp(ops.add(a, b)).data);
    let inner: Tensor | null = null;
    const y = nn.tidy(() => {
      inner = ops.add(a, b);
      return ops.exp(inner);
    });
    expect(inner!.isDisposed).toBe(true);
    expect(inner!.data.length).toBe(0);
    expect(y.isDisposed).toBe(false);
    expect(Array.from(y.data)).toEqual(want);
    // the inputs, made outside, are untouched
    expect([a.isDisposed, b.isDisposed, a.data.length]).toEqual([false, false, 32 * 64]);
  });

  it('keeps tensors returned in an array, an object or a Map, and a view of a result', () => {
    useBackend(bc);
    const a = big(3);
    const made: Tensor[] = [];
    const mk = (): Tensor => { const t = ops.mul(a, 2); made.push(t); return t; };
    const r = nn.tidy(() => {
      const v = mk();
      return { list: [mk(), { deep: mk() }], map: new Map([['m', mk()]]), view: v.reshape([64, 32]), dropped: null };
    });
    const dropped = nn.tidy(() => { mk(); return 1; });
    expect(dropped).toBe(1);
    expect(made.map((t) => t.isDisposed)).toEqual([false, false, false, false, true]);
    expect(r.view.data.length).toBe(32 * 64);
    expect(r.view.get(0, 0)).toBe(a.get(0, 0) * 2);
  });

  it('keep() saves a tensor from its scope and the enclosing ones; dispose() still gives it back', () => {
    useBackend(bc);
    const a = big(4), want = Array.from(ops.sub(a, 1).data);
    let kept: Tensor | null = null, other: Tensor | null = null;
    nn.tidy(() => {
      nn.tidy(() => {
        kept = nn.keep(ops.sub(a, 1));
        other = ops.sub(a, 2);
      });
      expect(other!.isDisposed).toBe(true);
    });
    expect(kept!.isDisposed).toBe(false);
    expect(Array.from(kept!.data)).toEqual(want);
    expect(kept!.dispose()).toBe(true);
    expect(kept!.isDisposed).toBe(true);
  });

  it('nested: what the inner scope returns belongs to the outer one, which gives it back unless it returns it too', () => {
    useBackend(bc);
    const a = big(5);
    let fromInner: Tensor | null = null, returnedOut: Tensor | null = null;
    const out = nn.tidy(() => {
      fromInner = nn.tidy(() => ops.relu(a));
      expect(fromInner.isDisposed).toBe(false);  // still alive in the outer scope
      returnedOut = nn.tidy(() => ops.abs(a));
      return returnedOut;
    });
    expect(fromInner!.isDisposed).toBe(true);
    expect(out).toBe(returnedOut);
    expect(out.isDisposed).toBe(false);
    expect(out.get(3, 4)).toBe(Math.abs(a.get(3, 4)));
  });

  it('gives back what fn made when it throws, and passes the error on', () => {
    useBackend(bc);
    const a = big(6);
    let t: Tensor | null = null;
    expect(() => nn.tidy(() => { t = ops.neg(a); throw new RangeError('boom'); })).toThrow('boom');
    expect(t!.isDisposed).toBe(true);
    // the scope is closed: a result made afterwards is not given back by anything
    const later = ops.neg(a);
    nn.tidy(() => 0);
    expect(later.isDisposed).toBe(false);
  });

  it('refuses an async fn with a TypeError and gives nothing back', async () => {
    useBackend(bc);
    const a = big(7);
    let before: Tensor | null = null;
    const f = async (): Promise<Tensor> => {
      before = ops.square(a);
      await Promise.resolve();
      return ops.add(before, 1);
    };
    expect(() => nn.tidy(f)).toThrow(/returned a Promise: tidy\(\) takes a synchronous function/);
    expect(before!.isDisposed).toBe(false);
    await Promise.resolve();
  });

  it('takes a name as TensorFlow.js does; bad arguments are TypeErrors naming them', () => {
    useBackend(bc);
    const a = big(8);
    let t: Tensor | null = null;
    expect(nn.tidy('step', () => { t = ops.add(a, a); return 2; })).toBe(2);
    expect(t!.isDisposed).toBe(true);
    expect(() => nn.tidy(3 as unknown as () => void)).toThrow(/fn must be a function, got 3/);
    expect(() => nn.tidy('x', undefined as unknown as () => void)).toThrow(/fn must be a function/);
    expect(() => nn.tidy((() => 1) as unknown as string, () => 2)).toThrow(/takes a function, or a name and a function/);
    expect(() => nn.keep([1, 2] as unknown as Tensor)).toThrow(/t must be a Tensor/);
  });

  it('leaves small results (a shared slab) and memory that layers and optimizers keep', () => {
    useBackend(bc);
    const small = nn.tidy(() => { const s = ops.add(nn.ones([4]), 1); return [s]; })[0];
    let s2: Tensor | null = null;
    nn.tidy(() => { s2 = ops.add(nn.ones([4]), 1); });
    expect(s2!.isDisposed).toBe(false);
    expect(Array.from(s2!.data)).toEqual([2, 2, 2, 2]);
    expect(Array.from(small.data)).toEqual([2, 2, 2, 2]);
    // zeros() (a layer's or an optimizer's state) is not a result: never given back
    let z: Tensor | null = null;
    nn.tidy(() => { z = nn.zeros([32, 64]); });
    expect(z!.isDisposed).toBe(false);
  });

  it('backward() inside tidy(): the leaf .grad outlives the scope, the graph\'s results do not', () => {
    useBackend(bc);
    const w = big(9).requiresGrad_();
    const x = big(10);
    let h: Tensor | null = null;
    for (let step = 0; step < 2; step++) {
      nn.tidy(() => {
        h = ops.relu(w);  // relu's backward hands its fresh result to w.grad as it is (no copy)
        ops.mul(h, x).sum().backward();
      });
      expect(h!.isDisposed).toBe(true);
      expect(w.grad!.isDisposed).toBe(false);
    }
    // two accumulated steps: d/dw sum(relu(w) x) = x where w > 0, else 0, twice
    const want = Array.from(w.data, (v, i) => (v > 0 ? 2 * x.data[i] : 0));
    expect(Array.from(w.grad!.data)).toEqual(want);
  });
});
