// Conv2D, Conv1D, pooling and batch-norm layers on every backend: shapes, golden values, train/eval behaviour,
// parameter layout and clear errors.
import { beforeEach, describe, expect, it } from 'vitest';
import {
  AvgPool2D, BatchNorm1D, BatchNorm2D, Conv1D, Conv2D, Dense, Flatten, GlobalAvgPool2D, MaxPool2D, ReLU, SGD,
  Sequential, Softmax, Tensor,
} from '../src/index';
import { Random } from '../src/random';
import { backends, expectClose, useBackend } from './helpers';

const t64 = (data: number[], shape: number[]) => new Tensor(Float64Array.from(data), shape);

/**
 * A Sequential of Conv2D, ReLU, MaxPool2D, Flatten, Dense and Softmax layers evaluated by plain loops in float64
 * from the layers' parameters: the reference for paths (fused, batched) that the backends share code with.
 */
function referenceForward(net: Sequential, x: Tensor): number[] {
  let shape = [...x.shape], v = Array.from(x.data);
  for (const layer of net.layers) {
    if (layer instanceof Conv2D) {
      const [N, C, H, W] = shape, F = layer.outChannels, [KH, KW] = layer.kernelSize, [sh, sw] = layer.stride, [ph, pw] = layer.padding;
      const OH = Math.floor((H + 2 * ph - KH) / sh) + 1, OW = Math.floor((W + 2 * pw - KW) / sw) + 1;
      const w = layer.weight.data, b = layer.bias?.data, y = new Array(N * F * OH * OW).fill(0);
      for (let n = 0; n < N; n++) for (let f = 0; f < F; f++) for (let i = 0; i < OH; i++) for (let j = 0; j < OW; j++) {
        let sum = b ? b[f] : 0;
        for (let c = 0; c < C; c++) for (let ki = 0; ki < KH; ki++) for (let kj = 0; kj < KW; kj++) {
          const r = i * sh - ph + ki, q = j * sw - pw + kj;
          if (r >= 0 && r < H && q >= 0 && q < W) sum += v[((n * C + c) * H + r) * W + q] * w[((f * C + c) * KH + ki) * KW + kj];
        }
        y[((n * F + f) * OH + i) * OW + j] = sum;
      }
      shape = [N, F, OH, OW]; v = y;
    } else if (layer instanceof ReLU) {
      v = v.map((a) => Math.max(a, 0));
    } else if (layer instanceof MaxPool2D) {
      const [N, C, H, W] = shape, [KH, KW] = layer.kernelSize, [sh, sw] = layer.stride;
      const OH = Math.floor((H - KH) / sh) + 1, OW = Math.floor((W - KW) / sw) + 1, y: number[] = [];
      for (let p = 0; p < N * C; p++) for (let i = 0; i < OH; i++) for (let j = 0; j < OW; j++) {
        let m = -Infinity;
        for (let ki = 0; ki < KH; ki++) for (let kj = 0; kj < KW; kj++) m = Math.max(m, v[(p * H + i * sh + ki) * W + j * sw + kj]);
        y.push(m);
      }
      shape = [N, C, OH, OW]; v = y;
    } else if (layer instanceof Flatten) {
      shape = [shape[0], shape.slice(1).reduce((a, d) => a * d, 1)];
    } else if (layer instanceof Dense) {
      const [N, K] = shape, M = layer.outFeatures, w = layer.weight.data, b = layer.bias?.data, y: number[] = [];
      for (let n = 0; n < N; n++) for (let m = 0; m < M; m++) {
        let sum = b ? b[m] : 0;
        for (let k = 0; k < K; k++) sum += v[n * K + k] * w[k * M + m];
        y.push(sum);
      }
      shape = [N, M]; v = y;
    } else if (layer instanceof Softmax) {
      const [N, M] = shape;
      for (let n = 0; n < N; n++) {
        const row = v.slice(n * M, n * M + M), top = Math.max(...row), e = row.map((a) => Math.exp(a - top));
        const total = e.reduce((a, b) => a + b, 0);
        e.forEach((a, m) => { v[n * M + m] = a / total; });
      }
    } else {
      throw new Error(`referenceForward: no reference for ${layer.constructor.name}`);
    }
  }
  return v;
}

describe.each(backends)('conv layers on $label', (bc) => {
  beforeEach(() => useBackend(bc));

  it('Conv2D: output size 1 + floor((H + 2p - k) / s) per axis, H != W, parameters (F, C, KH, KW) and (F)', () => {
    const conv = new Conv2D(3, 5, [3, 2], { stride: [2, 1], padding: [1, 0], seed: 1 });
    expect(conv.weight.shape).toEqual([5, 3, 3, 2]);
    expect(conv.bias?.shape).toEqual([5]);
    expect(conv.paramNames).toEqual(['weight', 'bias']);
    const y = conv.forward(Tensor.zeros([2, 3, 7, 9]));
    expect(y.shape).toEqual([2, 5, 1 + Math.floor((7 + 2 - 3) / 2), 1 + Math.floor((9 - 2) / 1)]);
    expect(conv.outputShape([2, 3, 7, 9])).toEqual(y.shape);
    // zero input: the output is the bias
    for (let f = 0; f < 5; f++) expect(y.get(1, f, 2, 3)).toBeCloseTo(conv.bias!.data[f], 6);
    const dx = conv.backward(Tensor.full(y.shape, 1));
    expect(dx.shape).toEqual([2, 3, 7, 9]);
    // dbias accumulates the sum of dout over batch and positions, twice after two backward calls
    conv.backward(Tensor.full(y.shape, 1));
    expectClose(conv.grads[1].data, new Array(5).fill(2 * 2 * 4 * 8), 1e-6);
    conv.zeroGrad();
    expect(conv.grads.every((g) => g.data.every((v) => v === 0))).toBe(true);
  });

  it('Conv2D golden value: a 2x2 difference kernel, no bias, float64', () => {
    const conv = new Conv2D(1, 1, 2, { bias: false, dtype: 'float64' });
    conv.weight.data.set([1, 0, 0, -1]);
    const y = conv.forward(t64([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 1, 3, 3]));
    expect(y.toArray()).toEqual([-4, -4, -4, -4]);
    expect(conv.backward(Tensor.full([1, 1, 2, 2], 1, 'float64')).toArray()).toEqual([1, 1, 0, 1, 0, -1, 0, -1, -1]);
    expect(conv.grads[0].toArray()).toEqual([12, 16, 24, 28]);
  });

  it("Conv2D inits: kaimingUniform within ±1/√fanIn (weight and bias), 'he' with zero bias; same seed, same weights", () => {
    const ku = new Conv2D(4, 8, 3, { seed: 3 });
    const bound = 1 / Math.sqrt(4 * 9);
    expect(ku.weight.data.every((v) => Math.abs(v) <= bound)).toBe(true);
    expect(ku.bias!.data.every((v) => Math.abs(v) <= bound)).toBe(true);
    expect(Math.max(...ku.weight.data)).toBeGreaterThan(bound * 0.8);
    expect(new Conv2D(4, 8, 3, { seed: 3 }).weight.toArray()).toEqual(ku.weight.toArray());
    const he = new Conv2D(4, 8, 3, { init: 'he', seed: 3 });
    expect(he.bias!.data.every((v) => v === 0)).toBe(true);
    const std = Math.sqrt(Array.from(he.weight.data).reduce((a, v) => a + v * v, 0) / he.weight.size);
    expect(std).toBeGreaterThan(Math.sqrt(2 / 36) * 0.8);
    expect(std).toBeLessThan(Math.sqrt(2 / 36) * 1.2);
    he.initialize({ rng: new Random(5), dtype: 'float64' });
    expect(he.weight.dtype).toBe('float64');
  });

  it('Conv2D errors name the argument', () => {
    expect(() => new Conv2D(0, 1, 3)).toThrow(/Conv2D inChannels must be a positive integer, got 0/);
    expect(() => new Conv2D(1, 1, [3, 0])).toThrow(/Conv2D kernelSize\[1\] must be a positive integer/);
    expect(() => new Conv2D(1, 1, 3, { stride: 0 })).toThrow(/Conv2D stride must be a positive integer/);
    expect(() => new Conv2D(1, 1, 3, { padding: -1 })).toThrow(/Conv2D padding must be a non-negative integer/);
    expect(() => new Conv2D(1, 1, 3, { init: 'xavier' as never })).toThrow(/Conv2D init must be 'kaimingUniform' or 'he'/);
    expect(() => new Conv2D(1, 1, 3, { bias: 'no' as never })).toThrow(/Conv2D bias must be true or false, got the string 'no'/);
    const conv = new Conv2D(3, 2, 5);
    expect(() => conv.forward(Tensor.zeros([1, 3, 4, 8]))).toThrow(/Conv2D: the kernel height 5 is larger than the input height 4/);
    expect(() => conv.forward(Tensor.zeros([1, 2, 8, 8]))).toThrow(/\(N, C, H, W\) with C = 3, got shape \[1, 2, 8, 8\]/);
    expect(() => conv.forward(Tensor.zeros([3, 8, 8]))).toThrow(/input must be \(N, C, H, W\)/);
    expect(() => conv.forward(Tensor.zeros([1, 3, 8, 8], 'float64'))).toThrow(/input is float64 but the layer's parameters are float32/);
    expect(() => conv.backward(Tensor.zeros([1, 2, 4, 4]))).toThrow(/before forward/);
    conv.forward(Tensor.zeros([1, 3, 8, 8]));
    expect(() => conv.backward(Tensor.zeros([1, 2, 4, 5]))).toThrow(/dout must be float32 of shape \[1, 2, 4, 4\]/);
  });

  it("Conv1D is the course's 1-D conv_backward(dz, x, w, pad, s) in one call", () => {
    // x = 1..5, w = [1, 0, -1], pad 1, stride 2: the padded signal 0 1 2 3 4 5 0 gives windows at 0, 2, 4
    const conv = new Conv1D(1, 1, 3, { stride: 2, padding: 1, bias: false, dtype: 'float64' });
    expect(conv.weight.shape).toEqual([1, 1, 3]);
    conv.weight.data.set([1, 0, -1]);
    const z = conv.forward(t64([1, 2, 3, 4, 5], [1, 1, 5]));
    expect(z.shape).toEqual([1, 1, 3]);
    expect(z.toArray()).toEqual([-2, -2, 4]);
    const dx = conv.backward(t64([1, 2, 3], [1, 1, 3]));
    expect(dx.shape).toEqual([1, 1, 5]);
    expect(dx.toArray()).toEqual([0, 1, 0, 1, 0]);    // dxpad = 1 0 1 0 1 0 -3, without the padding
    expect(conv.grads[0].toArray()).toEqual([16, 22, 10]);
    expect(conv.config()).toEqual({ type: 'Conv1D', inChannels: 1, outChannels: 1, kernelSize: 3, stride: 2, padding: 1, bias: false, init: 'kaimingUniform' });
    expect(conv.outputShape([4, 1, 9])).toEqual([4, 1, 5]);
    expect(() => new Conv1D(1, 1, 3).forward(Tensor.zeros([1, 1, 2]))).toThrow(/Conv1D: the kernel length 3 is larger than the input length 2/);
    expect(() => conv.forward(Tensor.zeros([1, 1, 1, 5], 'float64'))).toThrow(/Conv1D: input must be \(N, C, L\)/);
    expect(() => new Conv1D(1, 1, 3, { init: 'zeros' as never })).toThrow(/Conv1D init must be 'kaimingUniform' or 'he'/);
    expect(() => new Conv1D(1, 1, 0)).toThrow(/Conv1D kernelSize must be a positive integer/);
  });

  it('MaxPool2D: first maximum wins, gradients of overlapping windows add up; stride defaults to the kernel', () => {
    const pool = new MaxPool2D(2);
    expect(pool.stride).toEqual([2, 2]);
    const x = t64([1, 5, 2, 2, 3, 5, 0, 2, -1, -2, 7, 8, -3, -1, 9, 9], [1, 1, 4, 4]);
    expect(pool.forward(x).toArray()).toEqual([5, 2, -1, 9]);
    expect(pool.backward(t64([1, 2, 3, 4], [1, 1, 2, 2])).toArray())
      .toEqual([0, 1, 2, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 4, 0]);
    const overlap = new MaxPool2D(3, { stride: 1 });
    expect(overlap.forward(x).toArray()).toEqual([7, 8, 9, 9]);
    expect(overlap.backward(t64([1, 1, 1, 1], [1, 1, 2, 2])).data[14]).toBe(2);
    // uneven: 5x7 with 2x2 windows, stride 2 -> 2x3, the last row and column unused
    expect(new MaxPool2D(2).outputShape([3, 4, 5, 7])).toEqual([3, 4, 2, 3]);
    expect(new MaxPool2D([2, 3], { stride: [1, 2] }).config()).toEqual({ type: 'MaxPool2D', kernelSize: [2, 3], stride: [1, 2] });
    expect(() => pool.forward(Tensor.zeros([1, 1, 1, 4]))).toThrow(/MaxPool2D: the kernel height 2 is larger than the input height 1/);
  });

  it('AvgPool2D and GlobalAvgPool2D', () => {
    const x = t64([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], [1, 1, 3, 4]);
    const avg = new AvgPool2D(2, { stride: 1 });
    expect(avg.forward(x).toArray()).toEqual([3.5, 4.5, 5.5, 7.5, 8.5, 9.5]);
    expect(avg.backward(Tensor.full([1, 1, 2, 3], 4, 'float64')).toArray()).toEqual([1, 2, 2, 1, 2, 4, 4, 2, 1, 2, 2, 1]);
    const gap = new GlobalAvgPool2D();
    const g = gap.forward(new Tensor(Float64Array.from([...x.data, ...x.data.map((v) => -v)]), [1, 2, 3, 4]));
    expect(g.shape).toEqual([1, 2]);
    expect(g.toArray()).toEqual([6.5, -6.5]);
    expect(gap.backward(t64([12, 24], [1, 2])).toArray()).toEqual([...new Array(12).fill(1), ...new Array(12).fill(2)]);
    expect(gap.outputShape([8, 16, 7, 7])).toEqual([8, 16]);
  });

  it('BatchNorm2D: batch statistics in training, running statistics (PyTorch momentum 0.1, unbiased) in eval', () => {
    const bn = new BatchNorm2D(2, { dtype: 'float64' });
    expect(bn.paramNames).toEqual(['weight', 'bias']);
    expect(bn.bufferNames).toEqual(['running_mean', 'running_var']);
    // channel 0 holds 1..4 over N = 2 and H x W = 1 x 2, channel 1 holds 10 everywhere
    const x = t64([1, 2, 10, 10, 3, 4, 10, 10], [2, 2, 1, 2]);
    const y = bn.forward(x);
    const inv = 1 / Math.sqrt(1.25 + 1e-5);
    expectClose(y.data, [-1.5 * inv, -0.5 * inv, 0, 0, 0.5 * inv, 1.5 * inv, 0, 0], 1e-12);
    expectClose(bn.runningMean.data, [0.25, 1], 1e-12);
    expectClose(bn.runningVar.data, [0.9 + 0.1 * 5 / 3, 0.9], 1e-12);
    bn.training = false;
    const e = bn.forward(t64([0.25, 0.25, 1, 1], [1, 2, 1, 2]));
    expectClose(e.data, [0, 0, 0, 0], 1e-12);
    // eval backward: dx = weight / sqrt(running_var + eps) dout
    const dx = bn.backward(Tensor.full([1, 2, 1, 2], 1, 'float64'));
    expectClose(dx.data, [1, 1, 1, 1].map((_, i) => 1 / Math.sqrt(bn.runningVar.data[i >> 1] + 1e-5)), 1e-12);
    expect(() => new BatchNorm2D(2).forward(Tensor.zeros([1, 2, 4]))).toThrow(/BatchNorm2D: input must be \(N, C, H, W\)/);
    expect(() => new BatchNorm2D(3).forward(Tensor.zeros([2, 2, 1, 1]))).toThrow(/input has 2 channels, expected 3/);
    expect(() => new BatchNorm2D(2, { momentum: 2 })).toThrow('BatchNorm2D momentum must be in [0, 1], got 2');
  });

  it('BatchNorm1D on (N, C) and (N, C, L); one sample in training is refused', () => {
    const bn = new BatchNorm1D(3, { momentum: 0.5, eps: 1e-3, dtype: 'float64' });
    const y = bn.forward(t64([1, 0, 5, 3, 0, 5], [2, 3]));
    expectClose(y.data, [-1 / Math.sqrt(1.001), 0, 0, 1 / Math.sqrt(1.001), 0, 0], 1e-12);
    expectClose(bn.runningMean.data, [1, 0, 2.5], 1e-12);
    expectClose(bn.runningVar.data, [0.5 + 0.5 * 2, 0.5, 0.5], 1e-12);
    expect(bn.forward(Tensor.zeros([2, 3, 4], 'float64')).shape).toEqual([2, 3, 4]);
    expect(() => bn.forward(Tensor.zeros([1, 3], 'float64'))).toThrow(/more than one value per channel/);
    bn.training = false;
    expect(bn.forward(Tensor.zeros([1, 3], 'float64')).shape).toEqual([1, 3]);
    expect(bn.config()).toEqual({ type: 'BatchNorm1D', numFeatures: 3, momentum: 0.5, eps: 1e-3 });
  });
});

describe.each(backends)('CNNs in Sequential on $label', (bc) => {
  beforeEach(() => useBackend(bc));

  const cnn = () => new Sequential([
    new Conv2D(1, 4, 3, { padding: 1, bias: false }), new BatchNorm2D(4), new ReLU(), new MaxPool2D(2),
    new Conv2D(4, 6, 3, { stride: [1, 2] }), new ReLU(), new AvgPool2D(2, { stride: 1 }), new Flatten(), new Dense(6 * 1 * 1, 3),
  ], { seed: 11 });

  it('summary shows every output shape; stateDict holds the running statistics; config round-trips', () => {
    const net = cnn();
    const text = net.summary([1, 8, 10]);
    for (const s of ['(N, 4, 8, 10)', '(N, 4, 4, 5)', '(N, 6, 2, 2)', '(N, 6, 1, 1)', '(N, 6)', '(N, 3)']) expect(text).toContain(s);
    expect(text).toMatch(/BatchNorm2D/);
    const x = Tensor.full([5, 1, 8, 10], 0);
    x.data.forEach((_, i) => { x.data[i] = Math.sin(i); });
    net.forward(x);
    const dict = net.stateDict();
    expect(Object.keys(dict)).toEqual(['0.weight', '1.weight', '1.bias', '1.running_mean', '1.running_var', '4.weight',
      '4.bias', '8.weight', '8.bias']);
    expect(dict['1.running_mean'].data.some((v) => v !== 0)).toBe(true);
    const copy = Sequential.fromConfig(JSON.parse(JSON.stringify(net.toConfig())));
    copy.loadStateDict(dict);
    net.eval(); copy.eval();
    expect(copy.forward(x).toArray()).toEqual(net.forward(x).toArray());
    // one sample without the batch dimension
    const one = net.predict(new Tensor(x.data.slice(0, 80), [1, 8, 10]));
    expect(one.shape).toEqual(net.predict(x).shape.slice(1));
    expect(net.predictClasses(new Tensor(x.data.slice(0, 80), [1, 8, 10])).length).toBe(1);
  });

  it('predict and evaluate run big batches in cache-sized parts, Conv2D-ReLU-MaxPool2D fused, with exactly the results of one plain pass', () => {
    // 32 x 48 x 48 floats = 288 KiB per sample in the first layer's output: a 6 MiB budget gives 21 rows, so 50
    // samples go in 3 parts of 17, 17, 16
    const net = new Sequential([
      new Conv2D(1, 32, 3, { padding: 1 }), new ReLU(), new MaxPool2D(2), new Flatten(), new Dense(32 * 24 * 24, 3),
      new Softmax(),
    ], { seed: 5 });
    const x = Tensor.zeros([50, 1, 48, 48]);
    x.data.forEach((_, i) => { x.data[i] = Math.sin(i * 0.013); });
    const y = Int32Array.from({ length: 50 }, (_, i) => i % 3);
    net.eval();
    const whole = net.forward(x);
    // (Conv2D-ReLU-MaxPool2D runs fused: count the rows reaching the Flatten layer)
    const flat = net.layers[3], rows: number[] = [], forward = flat.forward.bind(flat);
    flat.forward = (t: Tensor) => { rows.push(t.shape[0]); return forward(t); };
    const p = net.predictProba(x);
    expect(rows).toEqual([17, 17, 16]);
    expect(Array.from(p.data)).toEqual(Array.from(whole.data));
    rows.length = 0;
    // (crossEntropy: the loss on the probabilities of a final Softmax)
    const r = net.evaluate(x, y, { batchSize: 1000, loss: 'crossEntropy' });
    expect(rows).toEqual([17, 17, 16]);
    let ce = 0;
    y.forEach((k, i) => { ce -= Math.log(whole.data[3 * i + k] + 1e-7); });
    expect(r.loss).toBeCloseTo(ce / 50, 5);
    const classes = net.predictClasses(x);
    expect(r.accuracy).toBe(classes.reduce((a, c, i) => a + (c === y[i] ? 1 : 0), 0) / 50);
    classes.forEach((c, i) => {
      const row = Array.from(whole.data.subarray(3 * i, 3 * i + 3));
      expect(c).toBe(row.indexOf(Math.max(...row)));
    });
    // a batchSize below the cache size is kept
    rows.length = 0;
    net.predictProba(x, { batchSize: 10 });
    expect(rows).toEqual([10, 10, 10, 10, 10]);
  });

  it('inference fusion: every Conv2D / ReLU / MaxPool2D combination predicts exactly what forward() gives', () => {
    const nets: [string, () => Sequential, number[]][] = [
      ['conv-pool2', () => new Sequential([new Conv2D(2, 5, 3, { padding: 1 }), new MaxPool2D(2), new Flatten(), new Dense(5 * 3 * 4, 3), new Softmax()], { seed: 1 }), [2, 7, 9]],
      ['conv-relu-pool2 stride 1 (not fused)', () => new Sequential([new Conv2D(2, 5, 3), new ReLU(), new MaxPool2D(2, { stride: 1 }), new Flatten(), new Dense(5 * 4 * 6, 3), new Softmax()], { seed: 2 }), [2, 7, 9]],
      ['conv stride 2, odd output, relu-pool2', () => new Sequential([new Conv2D(2, 33, 3, { stride: 2, padding: 1 }), new ReLU(), new MaxPool2D(2), new Flatten(), new Dense(33 * 2 * 2, 3), new Softmax()], { seed: 3 }), [2, 9, 10]],
      ['3x3 pooling (not fused)', () => new Sequential([new Conv2D(2, 4, 3, { padding: 1 }), new ReLU(), new MaxPool2D(3), new Flatten(), new Dense(4 * 2 * 3, 3), new Softmax()], { seed: 4 }), [2, 7, 9]],
    ];
    for (const [name, make, inShape] of nets) {
      const net = make();
      const x = Tensor.zeros([6, ...inShape]);
      x.data.forEach((_, i) => { x.data[i] = Math.sin(i * 0.7) * 2; });
      net.eval();
      const want = Array.from(net.forward(x).data);
      const fused = Array.from(net.predictProba(x).data);
      expect({ name, p: fused }).toEqual({ name, p: want });
      // and both are the network's function, computed here by plain loops in float64 (not by any backend)
      expectClose(fused, referenceForward(net, x), 1e-5);
    }
    // a 1 x 1 convolution output cannot be pooled: the pooling layer reports it, fused or not
    const tiny = new Sequential([new Conv2D(1, 2, 3), new ReLU(), new MaxPool2D(2), new Flatten()]);
    expect(() => tiny.predictProba(Tensor.zeros([2, 1, 3, 3]))).toThrow(/MaxPool2D/);
  });

  it('the same seeded CNN trains to the same parameters on this backend as on ts (float32 rounding)', async () => {
    const x = Tensor.zeros([16, 1, 8, 10]);
    x.data.forEach((_, i) => { x.data[i] = Math.cos(i * 0.37); });
    const y = Int32Array.from({ length: 16 }, (_, i) => i % 3);
    const train = async (backend: 'ts' | 'native') => {
      useBackend(backend === 'ts' ? { label: 'ts', backend: 'ts' } : bc);
      const net = cnn();
      await net.fit(x, y, { epochs: 3, batchSize: 4, optimizer: new SGD({ lr: 0.05, momentum: 0.9 }) });
      return net.stateDict();
    };
    const here = await train(bc.backend), ref = await train('ts');
    for (const [k, t] of Object.entries(ref)) expectClose(here[k].data, t.data, 1e-4);
  });
});
