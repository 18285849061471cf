// Every layer on every backend: float64 gradient checks of dx and each parameter gradient (≤ 1e-6), shapes,
// modes, initializations, configs, and the "apple price" graph of Mul and Add nodes.
import { beforeEach, describe, expect, it } from 'vitest';
import { checkLayer, numericalGradientFromUpstream, relativeError } from '../src/gradcheck';
import { initWeight } from '../src/init';
import {
  Add, BatchNorm1D, Conv1D, Conv2D, Dense, Div, Dropout, Flatten, LeakyReLU, MaxPool2D, Mul, Pow, ReLU, Sigmoid, Softmax,
  Step, Sub, Tanh, layerFromConfig, type Layer,
} from '../src/layers/index';
import { Random } from '../src/random';
import { Sequential } from '../src/network';
import { Tensor } from '../src/tensor';
import { backends, randn, uniform, useBackend } from './helpers';

const layerCases: [string, () => Layer, number[]][] = [
  ['Dense 2-D input', () => new Dense(5, 4, { dtype: 'float64', init: 'he', seed: 1 }), [3, 5]],
  ['Dense 4-D input', () => new Dense(12, 3, { dtype: 'float64', init: 'xavier', seed: 2 }), [2, 3, 2, 2]],
  ['Dense without bias', () => new Dense(4, 2, { dtype: 'float64', bias: false, seed: 3 }), [3, 4]],
  ['ReLU', () => new ReLU(), [4, 5]],
  ['LeakyReLU', () => new LeakyReLU(0.1), [2, 3, 4]],
  ['Sigmoid', () => new Sigmoid(), [4, 5]],
  ['Tanh', () => new Tanh(), [4, 5]],
  ['Step', () => new Step(), [4, 5]],
  ['Softmax', () => new Softmax(), [4, 6]],
  ['Flatten', () => new Flatten(), [2, 3, 2, 2]],
  ['Dropout (eval)', () => { const d = new Dropout(0.5); d.training = false; return d; }, [3, 4]],
];

describe.each(backends)('layers on $label', (bc) => {
  beforeEach(() => useBackend(bc));

  it.each(layerCases)('%s passes the float64 gradient check (dx and every parameter)', (_name, make, shape) => {
    const layer = make();
    const r = checkLayer(layer, randn(shape, 5));
    expect(r.input).toBeLessThanOrEqual(1e-6);
    for (const [name, e] of Object.entries(r.params)) expect(e, name).toBeLessThanOrEqual(1e-6);
    expect(Object.keys(r.params)).toEqual(layer.paramNames);
    expect(r.maxRelError).toBeLessThanOrEqual(1e-6);
  });

  it('Dropout in training passes the gradient check with its mask held fixed', () => {
    const d = new Dropout(0.3);
    const x = randn([4, 5], 9), dout = randn([4, 5], 10);
    const f = (t: Tensor) => { d.setRandom(new Random(7)); return d.forward(t); };
    f(x);
    const dx = d.backward(dout);
    expect(relativeError(dx, numericalGradientFromUpstream(f, x, dout))).toBeLessThanOrEqual(1e-6);
  });

  it('Dense maps (N, ...) to (N, out), computes x W + b and restores the input shape in backward', () => {
    const d = new Dense(4, 2, { dtype: 'float64' });
    d.weight.data.set([1, 2, 3, 4, 5, 6, 7, 8]);
    d.bias!.data.set([0.5, -1]);
    const x = new Tensor(new Float64Array([1, 0, -1, 2, 0, 1, 1, 1]), [2, 1, 2, 2]);
    const y = d.forward(x);
    expect(y.shape).toEqual([2, 2]);
    expect(Array.from(y.data)).toEqual([1 - 5 + 14 + 0.5, 2 - 6 + 16 - 1, 3 + 5 + 7 + 0.5, 4 + 6 + 8 - 1]);
    const dx = d.backward(new Tensor(new Float64Array([1, 0, 0, 1]), [2, 2]));
    expect(dx.shape).toEqual([2, 1, 2, 2]);
    expect(Array.from(dx.data)).toEqual([1, 3, 5, 7, 2, 4, 6, 8]);
    expect(Array.from(d.grads[1].data)).toEqual([1, 1]);
    d.backward(new Tensor(new Float64Array([1, 0, 0, 1]), [2, 2]));  // accumulates
    expect(Array.from(d.grads[1].data)).toEqual([2, 2]);
    d.zeroGrad();
    expect(Array.from(d.grads[1].data)).toEqual([0, 0]);
  });

  it('layers reject bad input with named errors', () => {
    const d = new Dense(4, 2);
    expect(() => d.forward(Tensor.zeros([3, 5]))).toThrow(/Dense: input shape \[3, 5\] must be \(N, \.\.\.\) with 4 features/);
    expect(() => d.forward(Tensor.zeros([3, 4], 'float64'))).toThrow(/input is float64 but the layer's parameters are float32/);
    expect(() => new Dense(0, 2)).toThrow(/inFeatures must be a positive integer/);
    expect(() => new Dense(2, 2, { init: 'bogus' as never })).toThrow(/init must be one of .*, got the string 'bogus'/);
    expect(() => new Dropout(1)).toThrow(/p must be in \[0, 1\)/);
    expect(() => new ReLU().backward(Tensor.zeros([1]))).toThrow(/before forward/);
    d.forward(Tensor.zeros([3, 4]));
    expect(() => d.backward(Tensor.zeros([3, 3]))).toThrow(/dout must be float32 of shape \[3, 2\]/);
  });

  it('layer options are type-checked: booleans must be booleans, numbers numbers, options an object', () => {
    expect(() => new Dense(2, 2, { bias: 'no' as never })).toThrow(TypeError);
    expect(() => new Dense(2, 2, { bias: 'no' as never })).toThrow(/Dense bias must be true or false, got the string 'no'/);
    expect(() => new Dense(2, 2, { bias: 0 as never })).toThrow(/Dense bias must be true or false, got 0/);
    expect(() => new Dense(2, 2, { std: '0.5' as never })).toThrow(/Dense std must be a non-negative number, got the string '0.5'/);
    expect(() => new Dense(2, 2, { seed: '1' as never })).toThrow(/Dense seed must be a finite number, got the string '1'/);
    expect(() => new Dense(2, 2, 'he' as never)).toThrow(/Dense options must be an options object, got the string 'he'/);
    expect(() => new Dense('2' as never, 2)).toThrow(/Dense inFeatures must be a positive integer, got the string '2'/);
    expect(() => new Conv2D(1, 2, 3, { bias: 'no' as never })).toThrow(/Conv2D bias must be true or false, got the string 'no'/);
    expect(() => new Conv1D(1, 2, 3, { bias: 1 as never })).toThrow(/Conv1D bias must be true or false, got 1/);
    expect(() => new Conv2D(1, 2, 3, { stride: '2' as never })).toThrow(/Conv2D stride must be a positive integer, got the string '2'/);
    expect(() => new Dropout('0.5' as never)).toThrow(/Dropout p must be in \[0, 1\), got the string '0.5'/);
    expect(() => new Dropout(0.5, { seed: 'x' as never })).toThrow(/Dropout seed must be a finite number, got the string 'x'/);
    expect(() => new LeakyReLU('0.1' as never)).toThrow(/LeakyReLU slope must be a finite number, got the string '0.1'/);
    expect(() => new BatchNorm1D(4, { momentum: '0.1' as never })).toThrow(new TypeError("BatchNorm1D momentum must be in [0, 1], got the string '0.1'"));
    expect(() => new MaxPool2D(2, 'x' as never)).toThrow(/MaxPool2D options must be an options object/);
  });

  it('Dropout keeps about 1 - p of the elements scaled by 1/(1-p), and is the identity in eval mode', () => {
    const d = new Dropout(0.25);
    d.setRandom(new Random(3));
    const x = Tensor.full([100, 100], 2);
    const y = d.forward(x);
    let kept = 0;
    for (const v of y.data) {
      if (v !== 0) { kept++; expect(v).toBeCloseTo(2 / 0.75, 6); }
    }
    expect(kept / 10000).toBeGreaterThan(0.73);
    expect(kept / 10000).toBeLessThan(0.77);
    d.training = false;
    expect(d.forward(x)).toBe(x);
    expect(d.backward(x)).toBe(x);
  });

  it('the same seed draws the same dropout mask', () => {
    const masks = [0, 1].map(() => { const d = new Dropout(0.5); d.setRandom(new Random(11)); return Array.from(d.forward(Tensor.full([50], 1)).data); });
    expect(masks[0]).toEqual(masks[1]);
  });

  it('Step is the perceptron\'s step function: step_function(np.array([-1.0, 1.0, 2.0])) is [0, 1, 1]', () => {
    const step = new Step();
    for (const dtype of ['float32', 'float64'] as const) {
      const y = step.forward(new Tensor(dtype === 'float32' ? new Float32Array([-1, 1, 2]) : new Float64Array([-1, 1, 2]), [3]));
      expect(y.dtype).toBe(dtype);
      expect(y.shape).toEqual([3]);
      expect(Array.from(y.data)).toEqual([0, 1, 1]);
      expect(Array.from(step.backward(new Tensor(dtype === 'float32' ? new Float32Array([5, 6, 7]) : new Float64Array([5, 6, 7]), [3])).data))
        .toEqual([0, 0, 0]);
    }
    expect(step.config()).toEqual({ type: 'Step' });
  });

  it('Softmax rows sum to 1 and survive huge logits', () => {
    const y = new Softmax().forward(new Tensor(new Float32Array([1000, 1000, -1000, 1, 2, 3]), [2, 3]));
    expect(y.data[0]).toBeCloseTo(0.5, 6);
    expect(y.data[2]).toBe(0);
    expect(y.data[3] + y.data[4] + y.data[5]).toBeCloseTo(1, 6);
  });

  it('the apple price graph gives 715 and the gradients 110, 2.2, 3.3, 165, 650', () => {
    const mulApple = new Mul(), mulOrange = new Mul(), addFruit = new Add(), mulTax = new Mul();
    const apple = mulApple.forward(100, 2), orange = mulOrange.forward(150, 3);
    const all = addFruit.forward(apple, orange);
    const price = mulTax.forward(all, 1.1);
    expect(price.data[0]).toBeCloseTo(715, 10);
    const [dAll, dTax] = mulTax.backward(1);
    const [dApple, dOrange] = addFruit.backward(dAll);
    const [dApplePrice, dAppleNum] = mulApple.backward(dApple);
    const [dOrangePrice, dOrangeNum] = mulOrange.backward(dOrange);
    expect(dAppleNum.data[0]).toBeCloseTo(110, 10);
    expect(dApplePrice.data[0]).toBeCloseTo(2.2, 10);
    expect(dOrangePrice.data[0]).toBeCloseTo(3.3, 10);
    expect(dOrangeNum.data[0]).toBeCloseTo(165, 10);
    expect(dTax.data[0]).toBeCloseTo(650, 10);
  });

  it('Mul and Add pass the gradient check for both inputs', () => {
    const x = randn([3, 4], 1), y = randn([3, 4], 2), dout = randn([3, 4], 3);
    for (const node of [new Mul(), new Add()]) {
      node.forward(x, y);
      const [dx, dy] = node.backward(dout);
      expect(relativeError(dx, numericalGradientFromUpstream((t) => node.forward(t, y), x, dout))).toBeLessThanOrEqual(1e-6);
      expect(relativeError(dy, numericalGradientFromUpstream((t) => node.forward(x, t), y, dout))).toBeLessThanOrEqual(1e-6);
    }
    expect(() => new Mul().forward(Tensor.zeros([2]), Tensor.zeros([3]))).toThrow(/same shape and dtype/);
  });

  it('Sub, Div and Pow give the hand-derived values and gradients', () => {
    const s = new Sub();
    expect(s.forward(5, 3).data[0]).toBe(2);
    expect(s.backward(1.5).map((t) => t.data[0])).toEqual([1.5, -1.5]);
    const d = new Div();
    expect(d.forward(6, 3).data[0]).toBe(2);
    const [dx, dy] = d.backward(1);
    expect(dx.data[0]).toBeCloseTo(1 / 3, 15);         // 1 / y
    expect(dy.data[0]).toBeCloseTo(-6 / 9, 15);        // −x / y²
    const p = new Pow();
    expect(p.forward(2, 3).data[0]).toBe(8);
    const [px, pe] = p.backward(1);
    expect(px.data[0]).toBe(12);                       // 3 · 2²
    expect(pe.data[0]).toBeCloseTo(8 * Math.LN2, 14);  // 2³ · ln 2
    // where a derivative is undefined: PyTorch's rules
    const x = new Tensor(new Float64Array([0, 0, -2, 4]), [4]), e = new Tensor(new Float64Array([2, 0, 3, 0.5]), [4]);
    expect(Array.from(p.forward(x, e).data)).toEqual([0, 1, -8, 2]);
    const [gx, ge] = p.backward(new Tensor(new Float64Array([1, 1, 1, 1]), [4]));
    expect(Array.from(gx.data)).toEqual([0, 0, 12, 0.25]);
    expect(Array.from(ge.data.subarray(0, 3))).toEqual([0, 0, NaN]);
    expect(ge.data[3]).toBeCloseTo(2 * Math.log(4), 14);
    expect(new Div().forward(1, 0).data[0]).toBe(Infinity);
    expect(() => new Div().backward(1)).toThrow(/Div: backward\(\) called before forward\(\)/);
    expect(() => new Pow().forward(Tensor.zeros([2]), Tensor.zeros([2], 'float64'))).toThrow(/Pow: x \(float32 \[2\]\) and y \(float64 \[2\]\) must have the same shape and dtype/);
    expect(() => new Sub().forward('1' as never, 2)).toThrow(/x must be a Tensor or a number/);
  });

  it('(x − y)^k / z through Sub, Pow and Div: 1 and the gradients 1, −1, ln 2, −0.25 at x=5, y=3, k=2, z=4', () => {
    const sub = new Sub(), pow = new Pow(), div = new Div();
    const f = div.forward(pow.forward(sub.forward(5, 3), 2), 4);
    expect(f.data[0]).toBe(1);
    const [dPow, dz] = div.backward(1);
    const [dSub, dk] = pow.backward(dPow);
    const [dx, dy] = sub.backward(dSub);
    expect(dx.data[0]).toBeCloseTo(1, 15);         // 2 (x − y) / z
    expect(dy.data[0]).toBeCloseTo(-1, 15);
    expect(dk.data[0]).toBeCloseTo(Math.LN2, 15);  // (x − y)^k ln(x − y) / z
    expect(dz.data[0]).toBeCloseTo(-0.25, 15);     // −(x − y)^k / z²
  });

  it('Sub, Div and Pow pass the gradient check for both inputs', () => {
    const x = uniform([3, 4], 1, 0.5, 2), y = uniform([3, 4], 2, 0.5, 2), dout = randn([3, 4], 3);
    for (const node of [new Sub(), new Div(), new Pow()]) {
      node.forward(x, y);
      const [dx, dy] = node.backward(dout);
      expect(relativeError(dx, numericalGradientFromUpstream((t) => node.forward(t, y), x, dout)), node.constructor.name).toBeLessThanOrEqual(1e-8);
      expect(relativeError(dy, numericalGradientFromUpstream((t) => node.forward(x, t), y, dout)), node.constructor.name).toBeLessThanOrEqual(1e-8);
    }
  });
});

describe('initializations', () => {
  function stats(t: Tensor): [number, number] {
    let s = 0, s2 = 0;
    for (const v of t.data) { s += v; s2 += v * v; }
    const m = s / t.size;
    return [m, Math.sqrt(s2 / t.size - m * m)];
  }

  it('draw the documented distributions from the seeded generator', () => {
    const draw = (kind: 'random' | 'he' | 'xavier' | 'zeros' | 'kaimingUniform') =>
      initWeight([200, 100], { kind, fanIn: 200, std: 0.01 }, new Random(1), 'float64');
    const near = (v: number, want: number) => expect(Math.abs(v / want - 1)).toBeLessThan(0.02);
    near(stats(draw('random'))[1], 0.01);
    near(stats(draw('he'))[1], Math.sqrt(2 / 200));
    near(stats(draw('xavier'))[1], Math.sqrt(1 / 200));
    expect(draw('zeros').data.every((v) => v === 0)).toBe(true);
    const ku = draw('kaimingUniform');
    const bound = 1 / Math.sqrt(200);
    expect(Math.max(...ku.data)).toBeLessThanOrEqual(bound);
    expect(Math.min(...ku.data)).toBeGreaterThanOrEqual(-bound);
    near(stats(ku)[1], bound / Math.sqrt(3));  // uniform std = b/√3
    expect(Array.from(draw('he').data)).toEqual(Array.from(draw('he').data));
  });

  it('Dense biasInit: zeros by default (the course\'s inits), random draws the weights\' distribution, seeded', () => {
    const spec = (init: 'random' | 'he', std = 0.01) => ({ kind: init, fanIn: 4, std });
    // default: zeros for 'random', 'he' and 'xavier'
    for (const init of ['random', 'he', 'xavier'] as const) {
      expect(Array.from(new Dense(4, 3, { init, seed: 1 }).bias!.data)).toEqual([0, 0, 0]);
    }
    // 'random': the draws that follow the weights from the same seeded generator, with the weights' std
    for (const [init, std] of [['random', 0.01], ['random', 0.5], ['he', 0.01]] as const) {
      const d = new Dense(4, 3, { init, std, biasInit: 'random', dtype: 'float64', seed: 7 });
      const rng = new Random(7);
      const w = initWeight([4, 3], spec(init, std), rng, 'float64'), b = initWeight([3], spec(init, std), rng, 'float64');
      expect(Array.from(d.weight.data)).toEqual(Array.from(w.data));
      expect(Array.from(d.bias!.data)).toEqual(Array.from(b.data));
      expect(d.bias!.data.every((v) => v !== 0)).toBe(true);
    }
    const wide = new Dense(2, 20000, { init: 'random', std: 0.01, biasInit: 'random', dtype: 'float64' });
    expect(Math.abs(stats(wide.bias!)[1] / 0.01 - 1)).toBeLessThan(0.03);
    expect(Math.abs(stats(new Dense(8, 20000, { init: 'he', biasInit: 'random', dtype: 'float64' }).bias!)[1] / Math.sqrt(2 / 8) - 1))
      .toBeLessThan(0.03);
    // kaimingUniform keeps PyTorch's uniform bias by default; 'zeros' turns it off
    const ku = new Dense(4, 1000, { seed: 2 });
    expect(ku.biasInit).toBe('random');
    expect(Math.max(...ku.bias!.data.map(Math.abs))).toBeLessThanOrEqual(0.5);
    expect(ku.bias!.data.some((v) => v !== 0)).toBe(true);
    expect(new Dense(4, 3, { biasInit: 'zeros' }).bias!.data.every((v) => v === 0)).toBe(true);
    expect(new Dense(4, 3, { bias: false, biasInit: 'random' }).params.length).toBe(1);
  });

  it('Dense biasInit is checked and survives toConfig/fromConfig (and a Sequential\'s re-initialization)', () => {
    expect(() => new Dense(4, 3, { biasInit: 'ones' as never })).toThrow(new RangeError("Dense biasInit must be 'zeros' or 'random', got the string 'ones'"));
    expect(() => new Dense(4, 3, { bias: 'yes' as never })).toThrow(/Dense bias must be true or false, got the string 'yes'/);
    const d = new Dense(4, 3, { init: 'random', biasInit: 'random', seed: 3 });
    const cfg = JSON.parse(JSON.stringify(d.config()));
    expect(cfg).toEqual({ type: 'Dense', inFeatures: 4, outFeatures: 3, init: 'random', std: 0.01, bias: true, biasInit: 'random' });
    const copy = layerFromConfig(cfg) as Dense;
    expect(copy.biasInit).toBe('random');
    // a config saved before biasInit existed gets the old behaviour
    const { biasInit: _, ...old } = new Dense(4, 3, { init: 'he' }).config();
    expect((layerFromConfig(old) as Dense).biasInit).toBe('zeros');
    const net = new Sequential([new Dense(4, 3, { init: 'random', biasInit: 'random' })], { seed: 5 });
    const rebuilt = Sequential.fromConfig(JSON.parse(JSON.stringify(net.toConfig())));
    expect(Array.from(rebuilt.parameters()[1].param.data)).toEqual(Array.from(net.parameters()[1].param.data));
    expect(net.parameters()[1].param.data.every((v) => v !== 0)).toBe(true);
  });

  it('every layer rebuilds from its config through the registry', () => {
    for (const [, make] of layerCases) {
      const layer = make(), copy = layerFromConfig(JSON.parse(JSON.stringify(layer.config())));
      expect(copy.config()).toEqual(layer.config());
      expect(copy.constructor).toBe(layer.constructor);
    }
  });
});
