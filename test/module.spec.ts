// nn.Module (src/autograd/module.ts): parameters and sub-modules found from properties with PyTorch's names,
// train()/eval(), stateDict()/loadStateDict(); optimizers stepping a parameter list that autograd filled.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as nn from '../src/index';
import { Tensor } from '../src/index';
import { backends, expectClose, useBackend } from './helpers';

class Affine extends nn.Module {
  weight: Tensor;
  bias: Tensor;
  constructor(nIn: number, nOut: number, seed: number) {
    super();
    this.weight = nn.randn([nIn, nOut], { dtype: 'float64', seed }).mul(0.5).detach().requiresGrad_();
    this.bias = nn.zeros([nOut], { dtype: 'float64' }).requiresGrad_();
  }

  forward(x: Tensor): Tensor { return x.matmul(this.weight).add(this.bias); }
}

class Block extends nn.Module {
  fc: Affine;
  blocks: Affine[];
  scale = nn.tensor(2, { dtype: 'float64' });  // a constant: needs no gradient, so not a parameter
  constructor() {
    super();
    this.fc = new Affine(3, 3, 1);
    this.blocks = [new Affine(3, 3, 2), new Affine(3, 1, 3)];
  }

  forward(x: Tensor): Tensor {
    const h = this.fc.call(x).tanh().add(x);  // residual
    return this.blocks[1].call(this.blocks[0].call(h).relu().mul(this.scale));
  }
}

describe('nn.Module', () => {
  it('finds parameters and sub-modules from properties, PyTorch-style names, each parameter once', () => {
    const m = new Block();
    expect(m.namedParameters().map(([n]) => n)).toEqual([
      'fc.weight', 'fc.bias', 'blocks.0.weight', 'blocks.0.bias', 'blocks.1.weight', 'blocks.1.bias',
    ]);
    expect(m.parameters()[0]).toBe(m.fc.weight);
    expect(m.namedModules().map(([n]) => n)).toEqual(['', 'fc', 'blocks.0', 'blocks.1']);
    // a shared parameter is listed once
    m.blocks[0].bias = m.fc.bias;
    expect(m.parameters()).toHaveLength(5);
    // a reference back to a parent is no sub-module twice (no endless walk)
    (m.fc as unknown as { parent: nn.Module }).parent = m;
    expect(m.namedModules().map(([n]) => n)).toEqual(['', 'fc', 'blocks.0', 'blocks.1']);
  });

  it('train() and eval() set every sub-module\'s mode', () => {
    const m = new Block();
    expect(m.eval()).toBe(m);
    expect(m.namedModules().map(([, s]) => s.training)).toEqual([false, false, false, false]);
    m.train();
    expect(m.blocks[1].training).toBe(true);
    expect(() => m.train('no' as unknown as boolean)).toThrow(TypeError);
  });

  it('stateDict() and loadStateDict() round-trip; a wrong name or shape is an error and changes nothing', () => {
    const a = new Block(), b = new Block();
    b.fc.weight.data.fill(7);
    const state = a.stateDict();
    expect(Object.keys(state)).toHaveLength(6);
    expect(state['fc.weight'].requiresGrad).toBe(false);
    expect(() => b.loadStateDict({ ...state, extra: state['fc.bias'] })).toThrow(/unexpected extra/);
    const { 'fc.bias': _dropped, ...partial } = state;
    expect(() => b.loadStateDict(partial)).toThrow(/missing fc\.bias/);
    expect(() => b.loadStateDict({ ...state, 'fc.bias': nn.zeros([4], { dtype: 'float64' }) }))
      .toThrow(/fc\.bias has shape \[4\] but the parameter has \[3\]/);
    expect(b.fc.weight.data[0]).toBe(7);
    b.loadStateDict(state);
    const x = nn.randn([4, 3], { dtype: 'float64', seed: 5 });
    expect(b.call(x).toArray()).toEqual(a.call(x).toArray());
  });

  it('gradients of a module match central differences (residual block, float64)', () => {
    const m = new Block();
    const x = nn.randn([4, 3], { dtype: 'float64', seed: 9 });
    m.call(x).square().mean().backward();
    for (const [name, p] of m.namedParameters()) {
      const numeric = nn.noGrad(() => nn.gradcheck.numericalGradient(() => m.call(x).square().mean().item(), p, { h: 1e-6 }));
      expect(nn.gradcheck.relativeError(p.grad!, numeric), name).toBeLessThanOrEqual(1e-7);
    }
  });
});

class DenseBlock extends nn.Module {
  fc = new nn.Dense(4, 4, { dtype: 'float64', seed: 3 });
  drop = new nn.Dropout(0.5);
  forward(x: Tensor): Tensor { return this.fc.call(x).relu().add(x); }
}

describe.each(backends)('built-in layers inside a Module on $label', (bc) => {
  it('the issue\'s residual block: fc.weight/fc.bias found; gradients through Dense\'s own backward match central differences', () => {
    useBackend(bc);
    const m = new DenseBlock();
    expect(m.namedParameters().map(([n]) => n)).toEqual(['fc.weight', 'fc.bias']);
    expect(m.parameters()[0]).toBe(m.fc.weight);
    const x = nn.randn([3, 4], { dtype: 'float64', seed: 11 }).requiresGrad_();
    const loss = () => m.call(x).square().mean();
    loss().backward();
    expect(m.fc.weight.grad!.shape).toEqual([4, 4]);
    for (const [name, p] of [...m.namedParameters(), ['x', x] as [string, Tensor]]) {
      const numeric = nn.noGrad(() => nn.gradcheck.numericalGradient(() => loss().item(), p, { h: 1e-6 }));
      expect(nn.gradcheck.relativeError(p.grad!, numeric), name).toBeLessThanOrEqual(1e-7);
    }
  });

  it('eval() reaches built-in layers; a layer called twice before backward is a clear error', () => {
    useBackend(bc);
    const m = new DenseBlock();
    m.eval();
    expect(m.drop.training).toBe(false);
    const x = nn.randn([2, 4], { dtype: 'float64', seed: 1 });
    const first = m.call(x);
    m.call(x);
    expect(() => first.sum().backward()).toThrow(/Dense: the layer was called again .* once per backward pass/);
    // a layer returning its input (Dropout at inference) leaves the caller's tensor a leaf
    const d = nn.tensor([1, 2], { requiresGrad: true });
    expect(m.drop.call(d)).not.toBe(d);
    expect(d.isLeaf).toBe(true);
  });
});

describe.each(backends)('gradients of built-in layers in a Module, into .grad in place, on $label', (bc) => {
  class ConvHead extends nn.Module {
    conv = new nn.Conv2D(2, 3, 3, { padding: 1, seed: 4 });
    fc = new nn.Dense(3 * 4 * 4, 2, { seed: 5 });
    forward(x: Tensor): Tensor { return this.fc.call(this.conv.call(x).relu()); }
  }
  const data = () => nn.randn([2, 2, 4, 4], { seed: 6 });

  it('a second backward adds the layers\' gradients into the .grad tensors of the first, doubling them', () => {
    useBackend(bc);
    const m = new ConvHead(), x = data();
    const y = m.call(x);
    const g = nn.randn(y.shape, { seed: 7 });
    y.backward(g);
    const grads = m.parameters().map((p) => p.grad!);
    const once = grads.map((t) => Float64Array.from(t.data));
    y.backward(g);
    m.parameters().forEach((p, i) => {
      expect(p.grad).toBe(grads[i]);
      expectClose(p.grad!.data, once[i].map((v) => 2 * v), 1e-5);
    });
  });

  it('fit() on the Module gives the parameters fit() on the same layers in a Sequential gives (3 SGD steps)', async () => {
    useBackend(bc);
    const m = new ConvHead();
    const seq = new nn.Sequential([new nn.Conv2D(2, 3, 3, { padding: 1 }), new nn.ReLU(), new nn.Flatten(), new nn.Dense(48, 2)]);
    seq.parameters().forEach((q, i) => q.param.data.set(m.parameters()[i].data));
    const x = nn.randn([12, 2, 4, 4], { seed: 8 }), y = Int32Array.from({ length: 12 }, (_, i) => i % 2);
    const opts = { epochs: 1, batchSize: 4, shuffle: false, verbose: 0 as const };
    await m.fit(x, y, { ...opts, optimizer: new nn.SGD({ lr: 0.1, momentum: 0.5 }) });
    await seq.fit(x, y, { ...opts, optimizer: new nn.SGD({ lr: 0.1, momentum: 0.5 }) });
    const want = seq.parameters();
    m.parameters().forEach((p, i) => expectClose(p.data, want[i].param.data, 1e-5));
  });
});

describe.each(backends)('optimizers over a parameter list on $label', (bc) => {
  it('SGD step(model.parameters()) is p − lr · grad; zeroGrad() clears the gradients of the last step', () => {
    useBackend(bc);
    const m = new Affine(2, 1, 4);
    const before = m.weight.toArray();
    const x = nn.tensor([[1, 2], [3, -1]], { dtype: 'float64' });
    m.call(x).sum().backward();
    const g = m.weight.grad!.toArray();
    expect(g).toEqual([4, 1]);
    const opt = new nn.SGD({ lr: 0.1 });
    opt.step(m.parameters());
    expect(m.weight.toArray()).toEqual(before.map((w, i) => w - 0.1 * g[i]));
    expect(m.bias.toArray()).toEqual([-0.2]);
    opt.zeroGrad();
    expect(m.weight.grad).toBeNull();
    expect(m.bias.grad).toBeNull();
    // a parameter without a gradient is skipped
    opt.step(m.parameters());
    expect(m.bias.toArray()).toEqual([-0.2]);
    expect(() => opt.step([3 as unknown as Tensor])).toThrow(/Tensor or a \{ param, grad \} pair/);
  });

  it('Adam fits y = 3 x0 − 2 x1 + 1 with a Module in 300 steps (loss < 1e-6)', () => {
    useBackend(bc);
    const m = new Affine(2, 1, 6);
    const x = nn.randn([32, 2], { dtype: 'float64', seed: 8 });
    const y = x.matmul(nn.tensor([[3], [-2]], { dtype: 'float64' })).add(1);
    const opt = new nn.Adam({ lr: 0.05 });
    let loss = Infinity;
    for (let i = 0; i < 300; i++) {
      const l = m.call(x).sub(y).square().mean();
      loss = l.item();
      l.backward();
      opt.step(m.parameters());
      opt.zeroGrad();
    }
    expect(loss).toBeLessThan(1e-6);
    expect(m.weight.toArray().map((v) => +v.toFixed(3))).toEqual([3, -2]);
    expect(+m.bias.item().toFixed(3)).toBe(1);
  });
});

// A residual block of a built-in Dense (fused forward, own backward) and tensor ops; registered for save/load.
class ResBlock extends nn.Module {
  fc: nn.Dense;
  gain: Tensor;
  constructor(readonly width: number, dtype: nn.DType = 'float64', seed = 1) {
    super();
    this.fc = new nn.Dense(width, width, { dtype, seed });
    this.gain = nn.full([width], 0.5, { dtype }).requiresGrad_();
  }

  forward(x: Tensor): Tensor { return this.fc.call(x).tanh().mul(this.gain).add(x); }
  override config(): nn.LayerConfig { return { type: 'TestResBlock', width: this.width }; }
}
nn.registerLayer('TestResBlock', (c) => new ResBlock(c.width as number, 'float32'));

// A Module holding a Sequential (PyTorch's nn.Sequential attribute) and a head of tensor ops.
class SeqHolder extends nn.Module {
  body: nn.Sequential;
  head: Tensor;
  constructor(dtype: nn.DType = 'float64') {
    super();
    this.body = new nn.Sequential([new nn.Dense(3, 5), new nn.Tanh(), new nn.Dense(5, 4)], { dtype, seed: 2 });
    this.head = nn.randn([4, 2], { dtype, seed: 3 }).detach().requiresGrad_();
  }

  forward(x: Tensor): Tensor { return this.body.call(x).relu().matmul(this.head); }
}

describe.each(backends)('Modules with Sequential, fit and gradcheck on $label', (bc) => {
  it('a Module inside a Sequential: named \'<index>.<module name>\', gradients match central differences (checkNetwork)', () => {
    useBackend(bc);
    const net = new nn.Sequential([new nn.Dense(3, 4), new ResBlock(4), new nn.Dense(4, 2)], { dtype: 'float64', seed: 4 });
    expect(net.parameters().map((p) => p.name)).toEqual(['0.weight', '0.bias', '1.fc.weight', '1.fc.bias', '1.gain', '2.weight', '2.bias']);
    expect(Object.keys(net.stateDict())).toContain('1.fc.weight');
    const x = nn.randn([5, 3], { dtype: 'float64', seed: 5 });
    const y = new Int32Array([0, 1, 1, 0, 1]);
    const r = nn.gradcheck.checkNetwork(net, x, y, { loss: 'softmaxCrossEntropy' });
    expect(r.maxRelError, JSON.stringify(r.params)).toBeLessThanOrEqual(1e-7);
    expect(Object.keys(r.params)).toContain('1.gain');
    // forward/backward of the network as Layers: dx of the whole stack against central differences
    const dout = nn.randn([5, 2], { dtype: 'float64', seed: 6 });
    net.forward(x);
    const dx = net.backward(dout);
    const numeric = nn.gradcheck.numericalGradientFromUpstream(() => net.forward(x), x, dout);
    expect(nn.gradcheck.relativeError(dx, numeric)).toBeLessThanOrEqual(1e-7);
  });

  it('a Sequential inside a Module: its layers\' parameters named body.0.weight …, gradients match central differences', () => {
    useBackend(bc);
    const m = new SeqHolder();
    expect(m.namedParameters().map(([n]) => n)).toEqual(['body.0.weight', 'body.0.bias', 'body.2.weight', 'body.2.bias', 'head']);
    expect(m.namedLayers().map(([n, l]) => `${n}:${l.name}`)).toEqual(['body.0:Dense', 'body.1:Tanh', 'body.2:Dense']);
    const x = nn.randn([4, 3], { dtype: 'float64', seed: 7 }).requiresGrad_();
    const loss = () => m.call(x).square().mean();
    loss().backward();
    for (const [name, p] of [...m.namedParameters(), ['x', x] as [string, Tensor]]) {
      const numeric = nn.noGrad(() => nn.gradcheck.numericalGradient(() => loss().item(), p, { h: 1e-6 }));
      expect(nn.gradcheck.relativeError(p.grad!, numeric), name).toBeLessThanOrEqual(1e-7);
    }
    // each call's result is its own: a second call does not overwrite the first (the layers reuse their buffers)
    const x1 = nn.randn([2, 3], { dtype: 'float64', seed: 10 }), x2 = nn.randn([2, 3], { dtype: 'float64', seed: 11 });
    const first = m.body.call(x1), before = first.toArray();
    m.body.call(x2);
    expect(first.toArray()).toEqual(before);
    // eval() reaches the Sequential and its layers
    m.eval();
    expect(m.body.isTraining).toBe(false);
    expect(m.body.layers[0].training).toBe(false);
  });

  it('gradcheck.checkLayer takes a Module (float64): input and every parameter by name', () => {
    useBackend(bc);
    const r = nn.gradcheck.checkLayer(new ResBlock(3), nn.randn([4, 3], { dtype: 'float64', seed: 8 }));
    expect(Object.keys(r.params)).toEqual(['fc.weight', 'fc.bias', 'gain']);
    expect(r.maxRelError).toBeLessThanOrEqual(1e-7);
    expect(nn.gradcheck.checkLayer(new SeqHolder(), nn.randn([2, 3], { dtype: 'float64', seed: 9 })).maxRelError).toBeLessThanOrEqual(1e-7);
    // a float32 module in a float64 check is refused with the way out
    expect(() => nn.gradcheck.checkLayer(new ResBlock(3, 'float32'), nn.randn([2, 3], { dtype: 'float64' })))
      .toThrow(/float32 and in use.*dtype: 'float32'/);
    expect(() => nn.gradcheck.checkLayer(3 as unknown as nn.Layer, nn.zeros([1]))).toThrow(TypeError);
  });

  it('fit, evaluate and predict work for a Module directly (spiral, 3 classes): loss falls, callbacks run, accuracy > 0.9', async () => {
    useBackend(bc);
    class Classifier extends nn.Module {
      inp = new nn.Dense(2, 32, { seed: 1 });
      block = new ResBlock(32, 'float32', 2);
      out = new nn.Dense(32, 3, { seed: 3 });
      forward(x: Tensor): Tensor { return this.out.call(this.block.call(this.inp.call(x).relu())); }
    }
    const { x, y } = nn.data.spiral({ n: 100, k: 3, seed: 1 });
    const m = new Classifier();
    const epochs: number[] = [];
    const history = await m.fit(x, y, {
      epochs: 60, batchSize: 30, optimizer: new nn.Adam({ lr: 0.02 }),
      onEpochEnd: (e) => { epochs.push(e.epoch); },
    });
    expect(epochs).toHaveLength(60);
    expect(history.loss.at(-1)!).toBeLessThan(history.loss[0] / 3);
    const { accuracy } = m.evaluate(x, y);
    expect(accuracy).toBeGreaterThan(0.9);
    expect(m.predict(x).shape).toEqual([300, 3]);
    expect(m.predict(nn.tensor([0.1, 0.2])).shape).toEqual([3]);  // one sample
    expect(Array.from(m.predictClasses(x.slice([0, 3])))).toHaveLength(3);
    expect(m.training).toBe(true);  // evaluate and predict leave the module's mode as it was
  });
});

describe('Module save/load and summary', () => {
  let dir = '';
  beforeAll(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodenn-module-')); });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('a registered Module saves as a model file and loads back (Module.load and Sequential.load) with identical outputs', async () => {
    const m = new ResBlock(4, 'float32', 7);
    const x = nn.randn([3, 4], { seed: 1 });
    m.predict(x);
    const file = path.join(dir, 'block.safetensors');
    await m.save(file);
    const { tensors, metadata } = await nn.loadSafetensors(file);
    expect(Object.keys(tensors).sort()).toEqual(['0.fc.bias', '0.fc.weight', '0.gain']);
    expect(JSON.parse(metadata['nodenn.architecture']).layers).toEqual([{ type: 'TestResBlock', width: 4 }]);
    const back = await nn.Module.load(file);
    expect(back).toBeInstanceOf(ResBlock);
    expect(back.predict(x).toArray()).toEqual(m.predict(x).toArray());
    const net = await nn.Sequential.load(file);
    expect(net.predict(x).toArray()).toEqual(m.predict(x).toArray());
    // in a Sequential next to built-in layers
    const seq = new nn.Sequential([new nn.Dense(4, 4), new ResBlock(4, 'float32', 8), new nn.Dense(4, 2)], { seed: 3 });
    seq.predict(x);
    await seq.save(path.join(dir, 'seq.safetensors'));
    const seqBack = await nn.Sequential.load(path.join(dir, 'seq.safetensors'));
    expect(seqBack.layers.map((l) => l.name)).toEqual(['Dense', 'TestResBlock', 'Dense']);
    expect(seqBack.predict(x).toArray()).toEqual(seq.predict(x).toArray());
    await expect(nn.Module.load(path.join(dir, 'seq.safetensors'))).rejects.toThrow(/Sequential of 3 layer\(s\).*Sequential\.load/);
  });

  it('saving a Module of an unregistered type is a TypeError naming registerLayer; nothing is written', async () => {
    class Unregistered extends nn.Module {
      w = nn.ones([2, 2]).requiresGrad_();
      forward(x: Tensor): Tensor { return x.matmul(this.w); }
    }
    const file = path.join(dir, 'nope.safetensors');
    await expect(new Unregistered().save(file, { inputShape: [2] })).rejects.toThrow(/'Unregistered', which is not registered.*registerLayer\('Unregistered'/);
    expect(fs.existsSync(file)).toBe(false);
  });

  it('summary(): sub-modules and layers by name, output shapes (traced on one sample), parameter counts', () => {
    const m = new SeqHolder('float32');
    const text = m.summary([3]);
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^Name\s+Type\s+Output shape\s+Params$/);
    expect(lines[2]).toMatch(/^\(root\)\s+SeqHolder\s+\(N, 2\)\s+8$/);  // head: 4 × 2
    expect(lines[3]).toMatch(/^body\.0\s+Dense\s+\(N, 5\)\s+20$/);
    expect(lines[4]).toMatch(/^body\.1\s+Tanh\s+\(N, 5\)\s+0$/);
    expect(lines[5]).toMatch(/^body\.2\s+Dense\s+\(N, 4\)\s+24$/);
    expect(lines.at(-1)).toBe('Total parameters: 52 (float32)');
    // without an input shape, and before any call: shapes unknown
    expect(new SeqHolder('float32').summary().split('\n')[3]).toMatch(/^body\.0\s+Dense\s+\?\s+20$/);
    // a Module in a Sequential: its own row, its output shape and count
    const seq = new nn.Sequential([new nn.Dense(4, 4), new ResBlock(4, 'float32')]);
    expect(seq.summary([4]).split('\n')[3]).toMatch(/^1\s+TestResBlock\s+\(N, 4\)\s+24$/);
    expect(m.training).toBe(true);  // tracing ran in eval mode and restored the mode
    expect(m.body.isTraining).toBe(true);
  });
});
