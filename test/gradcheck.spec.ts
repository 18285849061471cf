// nn.gradcheck: numerical gradients by central differences, checkLayer on users' own layers (a correct one
// passes, a wrong one is caught and the wrong gradient is named), checkNetwork, and the layer registry.
import { beforeEach, describe, expect, it } from 'vitest';
import { getBackend } from '../src/backend/index';
import {
  checkLayer, checkNetwork, numericalGradient, numericalGradientFromUpstream, numericalGradients, relativeError,
} from '../src/gradcheck';
import { Dense, ReLU } from '../src/layers/index';
import { Sequential } from '../src/network';
import { Layer, type InitContext, type LayerConfig } from '../src/layers/layer';
import { layerFromConfig, registerLayer, registeredLayers } from '../src/layers/registry';
import { Random } from '../src/random';
import { Tensor } from '../src/tensor';
import { backends, uniform, useBackend } from './helpers';

// y = x W + b through the backend's gemm; `wrongBias` makes the bias gradient twice what it should be.
class Affine extends Layer {
  private x: Tensor | null = null;
  constructor(readonly inF: number, readonly outF: number, readonly wrongBias = false) {
    super();
  }

  override initialize(ctx: InitContext): void {
    const w = Tensor.zeros([this.inF, this.outF], ctx.dtype), b = Tensor.zeros([this.outF], ctx.dtype);
    for (let i = 0; i < w.size; i++) w.data[i] = ctx.rng.normal();
    for (let i = 0; i < b.size; i++) b.data[i] = ctx.rng.normal();
    this.setParams(['weight', 'bias'], [w, b]);
  }

  forward(x: Tensor): Tensor {
    this.x = x;
    const n = x.shape[0], y = Tensor.zeros([n, this.outF], x.dtype);
    getBackend().gemm(false, false, n, this.outF, this.inF, 1, x.data, this.params[0].data, 0, y.data);
    getBackend().biasAdd(n, this.outF, y.data, this.params[1].data);
    return y;
  }

  backward(dout: Tensor): Tensor {
    const x = this.x!, n = x.shape[0], dx = Tensor.zeros(x.shape, x.dtype);
    getBackend().gemm(false, true, n, this.inF, this.outF, 1, dout.data, this.params[0].data, 0, dx.data);
    getBackend().gemm(true, false, this.inF, this.outF, n, 1, x.data, dout.data, 1, this.grads[0].data);
    getBackend().biasBackward(n, this.outF, dout.data, this.grads[1].data);
    if (this.wrongBias) getBackend().biasBackward(n, this.outF, dout.data, this.grads[1].data);
    return dx;
  }

  outputShape(s: readonly number[]): number[] {
    return [s[0], this.outF];
  }

  config(): LayerConfig {
    return { type: 'TestAffine', inF: this.inF, outF: this.outF };
  }
}

function randn(shape: number[], seed: number): Tensor {
  const t = Tensor.zeros(shape, 'float64');
  let s = seed;
  for (let i = 0; i < t.size; i++) { s = (s * 16807) % 2147483647; t.data[i] = (s / 2147483647) * 2 - 1; }
  return t;
}

describe('numerical gradients', () => {
  it('central differences of a scalar function match the analytic gradient', () => {
    const x = new Tensor(new Float64Array([0.5, -1.5, 2]), [3]);
    // f = sum(x^3) + x0 x1  ->  df = 3x^2 + (x1, x0, 0)
    const g = numericalGradient((t) => t.data[0] ** 3 + t.data[1] ** 3 + t.data[2] ** 3 + t.data[0] * t.data[1], x);
    expect(relativeError(g, [3 * 0.25 - 1.5, 3 * 2.25 + 0.5, 12])).toBeLessThan(1e-9);
    expect(Array.from(x.data)).toEqual([0.5, -1.5, 2]);  // restored
  });

  it('the upstream variant sums (f(x+h) - f(x-h)) . dout / 2h', () => {
    const x = new Tensor(new Float64Array([1, 2]), [2]);
    const dout = new Tensor(new Float64Array([1, 10, 100]), [3]);
    // f(x) = (x0 x1, x0^2, sin x1)
    const f = (t: Tensor) => new Tensor(new Float64Array([t.data[0] * t.data[1], t.data[0] ** 2, Math.sin(t.data[1])]), [3]);
    const g = numericalGradientFromUpstream(f, x, dout);
    expect(relativeError(g, [2 + 10 * 2, 1 + 100 * Math.cos(2)])).toBeLessThan(1e-9);
  });

  it('relative error uses max(1e-8, |a| + |b|) and reports NaN as the worst', () => {
    expect(relativeError([1, 0], [1.1, 0])).toBeCloseTo(0.1 / 2.1, 12);
    expect(relativeError([1e-12], [0])).toBeCloseTo(1e-4, 12);
    expect(relativeError([NaN], [1])).toBeNaN();
  });

  it('rejects bad arguments', () => {
    const x = Tensor.zeros([2], 'float64');
    expect(() => numericalGradient((() => 0) as never, x, { h: 0 })).toThrow(/h must be a positive/);
    expect(() => numericalGradient(0 as never, x)).toThrow(TypeError);
    expect(() => numericalGradient(() => 0, [1, 2] as never)).toThrow(/x must be a Tensor/);
    expect(() => numericalGradientFromUpstream(() => Tensor.zeros([3], 'float64'), x, Tensor.zeros([2], 'float64')))
      .toThrow(/f returned shape \[3\] but dout has shape \[2\]/);
  });
});

describe.each(backends)('checkLayer and checkNetwork on $label', (bc) => {
  beforeEach(() => useBackend(bc));

  it('a correct layer passes with float64 errors far below 1e-6, re-initialized from float32', () => {
    const layer = new Affine(4, 3);
    layer.initialize({ rng: new Random(1), dtype: 'float32' });
    const r = checkLayer(layer, randn([5, 4], 7), { dtype: 'float64' });
    expect(layer.params[0].dtype).toBe('float64');
    expect(Object.keys(r.params)).toEqual(['weight', 'bias']);
    expect(r.maxRelError).toBeLessThan(1e-7);
    expect(r.input).toBeLessThan(1e-7);
  });

  it('checkLayer does not re-create the parameters of a layer a network holds', () => {
    const net = new Sequential([new Dense(4, 3)], { seed: 1 });
    const before = Array.from(net.parameters()[0].param.data);
    expect(() => checkLayer(net.layers[0], randn([5, 4], 7)))
      .toThrow(/checkLayer runs in float64 but the layer's parameters are float32 and in use .*check a new layer/);
    expect(Array.from(net.parameters()[0].param.data)).toEqual(before);
    expect(net.parameters()[0].param.dtype).toBe('float32');
  });

  it('a wrong bias gradient is caught and named', () => {
    const layer = new Affine(4, 3, true);
    layer.initialize({ rng: new Random(3), dtype: 'float64' });
    const r = checkLayer(layer, randn([5, 4], 3));
    expect(r.params.bias).toBeGreaterThan(0.1);
    expect(r.params.weight).toBeLessThan(1e-7);
    expect(r.maxRelError).toBe(r.params.bias);
  });

  it('checkNetwork checks every named parameter of a whole network', () => {
    const a = new Affine(3, 2);
    a.initialize({ rng: new Random(2), dtype: 'float64' });
    // loss = 0.5 * sum(y^2) (+ 0.5 * wd * |W|^2 when weightDecay is given)
    const net = {
      parameters: () => a.params.map((p, i) => ({ name: `0.${a.paramNames[i]}`, param: p, grad: a.grads[i] })),
      lossAndGradients(x: Tensor, _y: Tensor | Int32Array, opts: Record<string, unknown>) {
        a.zeroGrad();
        const out = a.forward(x);
        let loss = 0;
        for (const v of out.data) loss += 0.5 * v * v;
        a.backward(out);
        const wd = (opts.weightDecay as number) ?? 0;
        for (let i = 0; i < a.params[0].size; i++) {
          loss += 0.5 * wd * a.params[0].data[i] ** 2;
          a.grads[0].data[i] += wd * a.params[0].data[i];
        }
        return loss;
      },
    };
    const r = checkNetwork(net, randn([4, 3], 11), new Int32Array(4), { weightDecay: 0.3 });
    expect(Object.keys(r.params)).toEqual(['0.weight', '0.bias']);
    expect(r.maxRelError).toBeLessThan(1e-7);
    expect(Object.keys(r.meanAbsError)).toEqual(['0.weight', '0.bias']);
    expect(r.meanAbsError['0.weight']).toBeLessThan(1e-9);
  });

  // The course's gradient_check.py on TwoLayerNet (Affine, ReLU, Affine, SoftmaxWithLoss; weights randn · 0.01,
  // biases zero) prints np.average(np.abs(grad_backprop[key] - grad_numerical[key])) of about 1e-10 to 1e-13.
  it('numericalGradients of a TwoLayerNet-style network, and checkNetwork\'s mean absolute difference per parameter', () => {
    const net = new Sequential([
      new Dense(40, 12, { init: 'random', std: 0.01 }), new ReLU(), new Dense(12, 10, { init: 'random', std: 0.01 }),
    ], { dtype: 'float64', seed: 1 });
    const x = uniform([3, 40], 5, 0, 1), t = new Int32Array([7, 2, 1]);  // pixel-like inputs
    const params = net.parameters().map((e) => e.param.clone());
    const numerical = numericalGradients(net, x, t, { loss: 'softmaxCrossEntropy' });
    expect(Object.keys(numerical)).toEqual(['0.weight', '0.bias', '2.weight', '2.bias']);
    expect(numerical['0.weight'].shape).toEqual([40, 12]);
    expect(numerical['2.bias'].shape).toEqual([10]);
    // parameters untouched; the analytic gradients are left in place
    net.parameters().forEach((e, i) => expect(Array.from(e.param.data)).toEqual(Array.from(params[i].data)));
    for (const e of net.parameters()) {
      let diff = 0;
      for (let i = 0; i < e.grad.size; i++) diff += Math.abs(e.grad.data[i] - numerical[e.name].data[i]);
      expect(diff / e.grad.size, e.name).toBeLessThan(1e-10);
    }
    // the output bias gradient is Σ (softmax − onehot) / 3 over the batch, softmax ≈ 0.1 from tiny weights
    expect(numerical['2.bias'].data[7]).toBeCloseTo((3 * 0.1 - 1) / 3, 3);
    expect(numerical['2.bias'].data[9]).toBeCloseTo(0.1, 3);
    const r = checkNetwork(net, x, t, { loss: 'softmaxCrossEntropy' });
    expect(Object.keys(r.meanAbsError)).toEqual(['0.weight', '0.bias', '2.weight', '2.bias']);
    for (const [name, e] of Object.entries(r.meanAbsError)) expect(e, name).toBeLessThan(1e-10);
    expect(r.maxRelError).toBeLessThan(1e-6);
  });

  it('numericalGradients refuses a float32 network and a bad step', () => {
    const net = new Sequential([new Dense(2, 2)], { seed: 1 });
    expect(() => numericalGradients(net, Tensor.zeros([1, 2]), new Int32Array(1))).toThrow(
      /numericalGradients needs a float64 network \('0.weight' is float32\): build it with \{ dtype: 'float64' \}/);
    const net64 = new Sequential([new Dense(2, 2)], { dtype: 'float64', seed: 1 });
    expect(() => numericalGradients(net64, Tensor.zeros([1, 2], 'float64'), new Int32Array(1), { h: 0 })).toThrow(/h must be a positive/);
    expect(() => numericalGradients(net64, Tensor.zeros([1, 2], 'float64'), new Int32Array(1), { loss: 'hinge' })).toThrow(/loss must be one of/);
  });
});

describe('layer registry', () => {
  it('rebuilds a registered layer from its config and names the known types otherwise', () => {
    registerLayer('TestAffine', (c) => new Affine(c.inF as number, c.outF as number));
    const layer = layerFromConfig(new Affine(5, 2).config());
    expect(layer).toBeInstanceOf(Affine);
    expect((layer as Affine).outF).toBe(2);
    expect(registeredLayers()).toContain('TestAffine');
    expect(() => layerFromConfig({ type: 'Nope' })).toThrow(/unknown layer type 'Nope'; registered types: .*TestAffine/);
    expect(() => layerFromConfig(null as never)).toThrow(TypeError);
    expect(() => registerLayer('', () => new Affine(1, 1))).toThrow(TypeError);
  });
});
