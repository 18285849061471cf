// nn.Module (src/autograd/module.ts): parameters and sub-modules found from properties with PyTorch's names,
// train()/eval(), stateDict()/loadStateDict(); optimizers stepping a parameter list that autograd filled.
import { describe, expect, it } from 'vitest';
import * as nn from '../src/index';
import { Tensor } from '../src/index';
import { backends, useBackend } from './helpers';

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
