// Training's Conv2D + MaxPool2D(2) in one kernel call (conv2dPoolForward / conv2dPoolBackward, which fit() runs for
// the pair): the same numbers as the two layers one after the other, bitwise, on every backend and thread count;
// float64 gradients against central differences. The kernels against the float64 references: test/reference-grid.
// The network's BatchNorm2D + ReLU, which fit() runs fused as well (batchNormRelu*: test/batchnorm-relu.spec.ts),
// is held to the layers' gradients and running statistics here too.
import { beforeEach, describe, expect, it, vi } from 'vitest';
import {
  BatchNorm2D, Conv2D, Dense, Flatten, MaxPool2D, ReLU, SGD, Sequential, Tensor, gradcheck, type DType,
} from '../src/index';
import { Random } from '../src/random';
import { getBackend, nativeAddon, setThreads } from '../src/backend/index';
import { backends, dtypes, nativeIsas, randomArray, useBackend } from './helpers';

/** A network with both pairs the fit() loop fuses: odd sizes (the last row and column no window reads). */
function network(dtype: DType, seed: number): Sequential {
  return new Sequential([
    new Conv2D(2, 5, 3, { padding: 1 }), new MaxPool2D(2), new BatchNorm2D(5), new ReLU(),
    new Conv2D(5, 17, 3, { padding: 1 }), new MaxPool2D(2), new ReLU(),
    new Flatten(), new Dense(17 * 2 * 2, 3),
  ], { seed, dtype });
}

/** The benchmark's layout: Conv2D, ReLU, MaxPool2D twice (fit() fuses each triple); odd sizes, as network(). */
function reluNetwork(dtype: DType, seed: number): Sequential {
  return new Sequential([
    new Conv2D(2, 5, 3, { padding: 1 }), new ReLU(), new MaxPool2D(2),
    new Conv2D(5, 17, 3, { padding: 1 }), new ReLU(), new MaxPool2D(2),
    new Flatten(), new Dense(17 * 2 * 2, 3),
  ], { seed, dtype });
}

function data(dtype: DType, N: number, seed: number): [Tensor, Int32Array] {
  const C = dtype === 'float64' ? Float64Array : Float32Array;
  const x = new Tensor(randomArray(C, N * 2 * 9 * 9, seed), [N, 2, 9, 9]);
  const r = new Random(seed);
  return [x, Int32Array.from({ length: N }, () => Math.floor(r.uniform() * 3))];
}

function bits(t: Tensor): number[] {
  return Array.from(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
}

/** One fit() step's gradients: fit runs the fused pairs. */
async function fusedGradients(dtype: DType, N: number, make = network): Promise<number[][]> {
  const net = make(dtype, 3), [x, y] = data(dtype, N, 4);
  await net.fit(x, y, { optimizer: new SGD({ lr: 0.01 }), epochs: 1, batchSize: N, shuffle: false, verbose: 0 });
  return net.parameters().map((p) => bits(p.grad));
}

/** fusedGradients() against lossAndGradients(), which runs every layer's own forward and backward: bitwise. */
function expectSeparateGradients(fused: number[][], dtype: DType, N: number, make: typeof network): void {
  const net = make(dtype, 3), [x, y] = data(dtype, N, 4);
  net.lossAndGradients(x, y, { loss: 'softmaxCrossEntropy' });
  const separate = net.parameters().map((p) => bits(p.grad));
  fused.forEach((g, i) => expect(g, `parameter ${net.parameters()[i].name}`).toEqual(separate[i]));
}

describe.each(backends)('fused Conv2D + MaxPool2D in training on $label', (bc) => {
  beforeEach(() => useBackend(bc));

  it.each(['float32', 'float64'] as DType[])('%s: fit() has the gradients of the layers one by one, bitwise', async (dtype) => {
    const N = 19, b = getBackend();
    // BatchNorm2D + ReLU as one kernel call each way (batchNormRelu*), the second ReLU as its own layer
    const calls = ['batchNormForward', 'batchNormBackward', 'batchNormReluForward', 'batchNormReluBackward',
      'activationForward'] as const;
    const spies = calls.map((k) => vi.spyOn(b, k));
    let fused: number[][];
    try {
      fused = await fusedGradients(dtype, N);
      expect(spies.map((s) => s.mock.calls.length)).toEqual([0, 0, 1, 1, 1]);
    } finally {
      spies.forEach((s) => s.mockRestore());
    }
    expect(fused.length).toBe(8);
    expect(fused.some((g) => g.some((b) => b !== 0))).toBe(true);
    expectSeparateGradients(fused, dtype, N, network);
  });

  it.each(['float32', 'float64'] as DType[])('%s: Conv2D, ReLU, MaxPool2D: fit() runs one kernel call each way and has the gradients of the layers, bitwise', async (dtype) => {
    const N = 19, b = getBackend();
    const pools = vi.spyOn(b, 'maxPool2dForward'), fusedCalls = vi.spyOn(b, 'conv2dPoolForward');
    const backwards = vi.spyOn(b, 'conv2dPoolBackward');
    // the ReLU layers' calls drop out: the fused backward applies their mask (its last argument, the pooled output)
    const acts = [vi.spyOn(b, 'activationForward'), vi.spyOn(b, 'activationBackward')];
    let fused: number[][];
    try {
      fused = await fusedGradients(dtype, N, reluNetwork);
      expect(pools).not.toHaveBeenCalled();
      expect(fusedCalls.mock.calls.map((c) => c.at(-1))).toEqual([true, true]);
      // backward in reverse order, each with its forward's y (argument 14)
      const ys = fusedCalls.mock.calls.map((c) => c[14]).reverse();
      expect(backwards.mock.calls.map((c, i) => c.at(-1) === ys[i])).toEqual([true, true]);
      expect(acts.map((a) => a.mock.calls.length)).toEqual([0, 0]);
    } finally {
      [pools, fusedCalls, backwards, ...acts].forEach((m) => m.mockRestore());
    }
    expect(fused.length).toBe(6);
    expect(fused.every((g) => g.some((v) => v !== 0))).toBe(true);
    expectSeparateGradients(fused, dtype, N, reluNetwork);
  });

  it.each(dtypes)('%s: relu: the maximum of the ReLU\'s outputs, as the layers (-0, ties of zeros, NaN, infinities)',
    (_name, C) => {
      // a 1x1 convolution of weight 1, no bias: each 2x2 window of the 2 x 8 image is one case
      const x = C.of(-1, -0, -3, 5, NaN, -1, 2, -Infinity, -2, -3, -0, 7, 3, 4, Infinity, 1);
      const y = new C(5).fill(7), argmax = new Int32Array(5).fill(-7);
      getBackend().conv2dPoolForward(1, 1, 2, 8, 1, 1, 1, 1, 1, 0, 0, x, C.of(1), null, y.subarray(0, 4),
        argmax.subarray(0, 4), true);
      // the layers: ReLU (x < 0 ? 0 : x), then the pooling of its output
      const r = new C(16), y2 = new C(4), a2 = new Int32Array(4);
      getBackend().activationForward('relu', 16, x, r, 0);
      getBackend().maxPool2dForward(1, 1, 2, 8, 2, 2, 2, 2, r, y2, a2);
      // [-1, -0 / -2, -3]: +0 at 0 (the maximum's ReLU, relu(-0), would be -0 at 1)
      expect(Object.is(y[0], 0)).toBe(true);
      expect(Array.from(y.subarray(0, 4))).toEqual([0, 7, NaN, Infinity]);
      expect(Array.from(argmax)).toEqual([0, 11, 4, 14, -7]);
      expect(Array.from(y.subarray(0, 4)).every((v, i) => Object.is(v, y2[i]))).toBe(true);
      expect(Array.from(argmax.subarray(0, 4))).toEqual(Array.from(a2));
      expect(y[4]).toBe(7);
    });

  // conv2dPoolBackward's y: the ReLU's backward on the pooled output folded in. y with zeros (ReLU off, or ties of
  // zeros) and a NaN; dy nonzero everywhere, with -0 and a NaN where the mask is off (the ReLU's backward gives +0
  // there, not a product); the second shape takes native's sparse products (F 33, C KH KW 27), 2 images a chunk.
  it.each(dtypes)('%s: conv2dPoolBackward with y is the ReLU\'s backward on y, then the call without y, bitwise', (_name, C) => {
    for (const [N, Ch, H, W, F] of [[3, 2, 7, 6, 5], [18, 3, 17, 18, 33]]) {
      const g = [N, Ch, H, W, F, 3, 3, 1, 1, 1, 1] as const;
      const b = getBackend(), Q = N * F * (H >> 1) * (W >> 1);
      const x = randomArray(C, N * Ch * H * W, 51), w = randomArray(C, F * Ch * 9, 52);
      const y = new C(Q), argmax = new Int32Array(Q);
      b.conv2dPoolForward(...g, x, w, randomArray(C, F, 53), y, argmax, true);
      y[2] = NaN;
      const dy = randomArray(C, Q, 54).map((v) => v + 2);
      const off = Array.from(y.keys()).filter((i) => !(y[i] > 0));
      expect(off.length).toBeGreaterThan(Q / 20);
      expect(off.length).toBeLessThan(Q - 10);
      dy[off[0]] = NaN;
      dy[off[1]] = -0;
      const run = (d: InstanceType<typeof C>, mask: InstanceType<typeof C> | null) => {
        const dx = new C(N * Ch * H * W).fill(7), dw = new C(F * Ch * 9).fill(0.5), db = new C(F).fill(0.25);
        b.conv2dPoolBackward(...g, x, d, argmax, w, dx, dw, db, mask);
        return [dx, dw, db].map((t) => Array.from(t));
      };
      const masked = new C(Q);
      b.activationBackward('relu', Q, y, y, dy, masked, 0);
      const at = `N ${N} C ${Ch} ${H}x${W} F ${F}`;
      const folded = run(dy, y), separate = run(masked, null);
      folded.forEach((v, i) => expect(v, `${at} output ${i}`).toEqual(separate[i]));
      expect(folded[1].every(Number.isFinite), at).toBe(true);  // the masked NaN reaches nothing
      expect(run(dy, null)[1], at).not.toEqual(folded[1]);  // the mask matters
    }
  });

  it('a network trained by fit() with the fused pairs ends where the separate layers end', async () => {
    const [x, y] = data('float32', 40, 5);
    const a = network('float32', 6), b = network('float32', 6);
    await a.fit(x, y, { optimizer: new SGD({ lr: 0.05 }), epochs: 2, batchSize: 8, shuffle: false, verbose: 0 });
    // the same steps through lossAndGradients (no fusion) and the same optimizer
    const opt = new SGD({ lr: 0.05 });
    const params = b.parameters().map((p) => ({ param: p.param, grad: p.grad }));
    for (let e = 0; e < 2; e++) {
      for (let i = 0; i < 40; i += 8) {
        const xb = new Tensor(x.data.subarray(i * 162, (i + 8) * 162), [8, 2, 9, 9]);
        b.lossAndGradients(xb, y.subarray(i, i + 8), { loss: 'softmaxCrossEntropy' });
        opt.step(params);
      }
    }
    a.parameters().forEach((p, i) => expect(bits(p.param), p.name).toEqual(bits(b.parameters()[i].param)));
    // BatchNorm2D's running statistics (fit() runs it fused with the ReLU after it)
    const [na, nb] = [a.layers[2], b.layers[2]] as BatchNorm2D[];
    expect(bits(na.runningMean)).toEqual(bits(nb.runningMean));
    expect(bits(na.runningVar)).toEqual(bits(nb.runningVar));
    expect(na.runningMean.data.some((v) => v !== 0)).toBe(true);
  });

  it('conv2dPoolForward/Backward through a layer: float64 gradients against central differences', () => {
    // Conv2D's forward() as the fused pair; backward() then takes the pooled gradient
    class PooledConv extends Conv2D {
      override forward(x: Tensor): Tensor { return this.forwardPooled(x); }
    }
    const configs = [[2, 2, 3, 7, 6, 3, 1, 1], [3, 1, 17, 9, 8, 2, 1, 0], [1, 3, 2, 11, 9, 3, 2, 1]];
    for (const [N, C, F, H, W, k, s, p] of configs) {
      const layer = new PooledConv(C, F, k, { stride: s, padding: p, dtype: 'float64', seed: N + F });
      const x = new Tensor(randomArray(Float64Array, N * C * H * W, 7 + F), [N, C, H, W]);
      const r = gradcheck.checkLayer(layer, x, { dtype: 'float64', seed: 3 });
      expect(r.maxRelError, JSON.stringify(r)).toBeLessThan(1e-6);
    }
  });

  it.each(dtypes)('%s: the bias is added before the maximum (values it rounds to a tie keep the first index)',
    (_name, C) => {
      // a 1x1 convolution of weight 1: the window [0.25, 0.5, -1, 0.125] + 2^(mantissa + 1) is [b, b, b - 1, b]
      const b = C === Float32Array ? 2 ** 24 : 2 ** 53;
      const y = new C(2).fill(7), argmax = new Int32Array(2).fill(-7);
      getBackend().conv2dPoolForward(1, 1, 2, 2, 1, 1, 1, 1, 1, 0, 0, C.of(0.25, 0.5, -1, 0.125), C.of(1), C.of(b),
        y.subarray(0, 1), argmax.subarray(0, 1));
      expect(Array.from(y)).toEqual([b, 7]);
      expect(Array.from(argmax)).toEqual([0, -7]);
    });

  it.each(dtypes)('%s: backward without pooled outputs or images: dx is zero, dweight and dbias keep their bits',
    (_name, C) => {
      // OW = 1, OH = 1, no filter (floor(OH / 2) floor(OW / 2) F = 0 pooled outputs), and no image; -0 in dweight
      // and dbias stays -0 (a sum of no terms added to it would make it +0)
      for (const [N, Ch, H, W, F] of [[2, 3, 4, 1, 2], [3, 2, 1, 5, 2], [2, 2, 3, 3, 0], [0, 2, 3, 3, 2]]) {
        const n = N * Ch * H * W, dx = new C(n + H * W).fill(NaN);
        const dw = randomArray(C, F * Ch, 1), db = randomArray(C, F, 2);
        if (F > 0) dw[0] = db[0] = -0;
        const dw0 = Array.from(dw), db0 = Array.from(db);
        getBackend().conv2dPoolBackward(N, Ch, H, W, F, 1, 1, 1, 1, 0, 0, randomArray(C, n, 3), new C(0),
          new Int32Array(0), randomArray(C, F * Ch, 4), dx, dw, db);
        const at = `N ${N} C ${Ch} ${H}x${W} F ${F}`;
        expect(Array.from(dx.subarray(0, n)), at).toEqual(new Array(n).fill(0));
        expect(dx.subarray(n).every(Number.isNaN), at).toBe(true);
        expect(Array.from(dw).every((v, i) => Object.is(v, dw0[i])), at).toBe(true);
        expect(Array.from(db).every((v, i) => Object.is(v, db0[i])), at).toBe(true);
        // without dx
        getBackend().conv2dPoolBackward(N, Ch, H, W, F, 1, 1, 1, 1, 0, 0, randomArray(C, n, 3), new C(0),
          new Int32Array(0), randomArray(C, F * Ch, 4), null, dw, db);
        expect(Array.from(dw).every((v, i) => Object.is(v, dw0[i])), at).toBe(true);
        expect(Array.from(db).every((v, i) => Object.is(v, db0[i])), at).toBe(true);
      }
    });

  it.each(dtypes)('%s: an empty pooled output of a huge image allocates nothing the size of the image', (_name, C) => {
    // One output row or column, pooled away: the checks allow it (no array holds a plane), but a full-size conv
    // output of 2^11 x 2^11 planes of 2^30 pixels cannot be allocated, so a kernel that made one would throw.
    const db = new C(2 ** 11).fill(7), y = new C(1).fill(7);
    for (const [H, W] of [[1, 2 ** 30], [2 ** 30, 1]]) {
      getBackend().conv2dPoolForward(2 ** 11, 0, H, W, 2 ** 11, 1, 1, 1, 1, 0, 0, new C(0), new C(0), null,
        y.subarray(0, 0), new Int32Array(0));
      getBackend().conv2dPoolBackward(2 ** 11, 0, H, W, 2 ** 11, 1, 1, 1, 1, 0, 0, new C(0), new C(0),
        new Int32Array(0), new C(0), new C(0), new C(0), db);
    }
    expect(Array.from(y)).toEqual([7]);
    expect(db.every((v) => v === 7)).toBe(true);
  });

  it('refuses a convolution output smaller than 2 x 2 for the fused pooling', () => {
    const conv = new Conv2D(1, 2, 3);
    expect(() => conv.forwardPooled(Tensor.zeros([1, 1, 4, 3]))).toThrow(
      new RangeError('Conv2D: a fused 2x2 pooling needs an output of at least 2 x 2, got 2 x 1'));
  });
});

describe.each(nativeIsas)('fused Conv2D + MaxPool2D on $label: the same for 1 and 2 threads', (bc) => {
  beforeEach(() => useBackend(bc));

  it('gradients of a batch of 37 (backward-filter chunks of 3 images, images over threads)', async () => {
    const before = nativeAddon().info().threads;
    const grads: number[][][] = [];
    try {
      for (const n of [1, 2]) {
        setThreads(n);
        grads.push(await fusedGradients('float32', 37));
      }
    } finally {
      setThreads(before);
    }
    grads[0].forEach((g, i) => expect(g).toEqual(grads[1][i]));
  });
});

// The pooled backward's sparse products (native/conv.cc, sparse_filter_image and sparse_data_image): with more
// filters than a vector and C KH KW above 16 they skip the zeros of the full gradient (three quarters and more)
// and must keep the bits of the separate kernels (MaxPool2D's backward, then backward-data and backward-filter);
// the TS backend has no sparse path.
// 18 images (backward-filter's chunks of 2), 306 output pixels (two K blocks of 256 pixels); dy with zeros, -0 and a
// NaN; an image with an infinite pixel (its chunk takes the dense path) and, second, an infinite weight (dense
// backward-data).
describe.each(nativeIsas)('conv2dPoolBackward\'s sparse products on $label', (bc) => {
  beforeEach(() => useBackend(bc));

  // [N, C, H, W, F]: the first as above; the second with 17 channels, past a vector (channel blocks, and up to 45
  // accumulators per filter: several passes of sparse_sums)
  it.each(dtypes)('%s: bitwise the separate kernels, 1 and 2 threads', (_name, C) => {
    for (const [N, Ch, H, W, F] of [[18, 3, 17, 18, 33], [3, 17, 9, 10, 20]]) {
      const g = [N, Ch, H, W, F, 3, 3, 1, 1, 1, 1] as const;
      const [QH, QW, P] = [H >> 1, W >> 1, H * W];
      const b = getBackend();
      const x = randomArray(C, N * Ch * H * W, 41);
      const bias = randomArray(C, F, 42);
      const y = new C(N * F * QH * QW), argmax = new Int32Array(y.length);
      const r = new Random(43);
      for (const infinite of [false, true]) {
        const w = randomArray(C, F * Ch * 9, 44);
        const xi = C.from(x);
        if (infinite) {
          w[5] = Infinity;
        } else {
          xi[(N - 2) * Ch * H * W + 7] = -Infinity;
        }
        b.conv2dPoolForward(...g, xi, w, bias, y, argmax, true);
        const dy = y.map((v) => (v > 0 && r.uniform() < 0.8 ? r.uniform() - 0.5 : 0));
        dy[1] = -0;
        dy[40] = NaN;
        const results: number[][][] = [];
        const before = nativeAddon().info().threads;
        try {
          for (const n of [1, 2]) {
            setThreads(n);
            const dx = new C(N * Ch * H * W).fill(7), dw = new C(F * Ch * 9).fill(0.5), db = new C(F).fill(0.25);
            b.conv2dPoolBackward(...g, xi, dy, argmax, w, dx, dw, db);
            const full = new C(N * F * P);
            b.maxPool2dBackward(N, F, H, W, 2, 2, 2, 2, dy, argmax, full);
            const dx2 = new C(N * Ch * H * W), dw2 = new C(F * Ch * 9).fill(0.5), db2 = new C(F).fill(0.25);
            b.conv2dBackwardData(...g, full, w, dx2);
            b.conv2dBackwardFilter(...g, xi, full, dw2, db2);
            expect(Array.from(dx)).toEqual(Array.from(dx2));
            expect(Array.from(dw)).toEqual(Array.from(dw2));
            expect(Array.from(db)).toEqual(Array.from(db2));
            results.push([Array.from(dx), Array.from(dw), Array.from(db)]);
          }
        } finally {
          setThreads(before);
        }
        results.slice(1).forEach((res) => res.forEach((v, i) => expect(v).toEqual(results[0][i])));
        expect(results[0][1].some((v) => Number.isNaN(v))).toBe(true);  // the NaN reaches dweight
      }
    }
  });
});
