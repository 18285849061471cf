// PyTorch weights: state dicts written by PyTorch 1.13 as safetensors (test/fixtures/interop/make_fixtures.py) load
// into nodenn networks of the same layers and give PyTorch's outputs to 1e-5 on every backend; stateDict({ to:
// 'pytorch' }) gives PyTorch's names and layouts back.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  AvgPool2D, BatchNorm1D, BatchNorm2D, Conv1D, Conv2D, Dense, Dropout, Flatten, GlobalAvgPool2D, LeakyReLU, MaxPool2D,
  ReLU, Sequential, SafetensorsError, Sigmoid, Softmax, Tanh, Tensor, loadSafetensors, saveSafetensors,
} from '../src/index';
import { backends, expectClose, useBackend } from './helpers';

const FIXTURES = path.join(__dirname, 'fixtures', 'interop');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodenn-pytorch-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function expected(name: string): { x: Tensor; y: Tensor } {
  const j = JSON.parse(fs.readFileSync(path.join(FIXTURES, `${name}.json`), 'utf8'));
  return { x: new Tensor(Float32Array.from(j.input.data), j.input.shape), y: new Tensor(Float32Array.from(j.output.data), j.output.shape) };
}

// the nodenn twins of make_fixtures.py's models
const mlp = () => new Sequential([new Dense(20, 16), new ReLU(), new Dense(16, 8), new LeakyReLU(0.1), new Dense(8, 4), new Softmax()]);
const cnnLayers = () => [new Conv2D(1, 4, 3, { padding: 1 }), new BatchNorm2D(4), new ReLU(), new MaxPool2D(2),
  new Conv2D(4, 6, 3, { stride: 2, padding: 1 }), new Tanh(), new AvgPool2D(2), new Dropout(0.3), new Flatten(), new Dense(24, 10), new Sigmoid()];
const conv1d = () => new Sequential([new Conv1D(3, 5, 3, { padding: 1 }), new BatchNorm1D(5), new ReLU(), new Conv1D(5, 4, 2, { stride: 2, bias: false }),
  new Flatten(), new Dense(24, 3)]);
const gap = () => new Sequential([new Conv2D(2, 8, 3), new ReLU(), new GlobalAvgPool2D(), new Flatten(), new BatchNorm1D(8), new Dense(8, 3)]);

function check(net: Sequential, name: string): void {
  const { x, y } = expected(name);
  net.eval();
  expectClose(net.forward(x).data, y.data, 1e-5);
}

describe.each(backends)('PyTorch safetensors → nodenn ($label)', (c) => {
  it('fc1/fc2/fc3 of a PyTorch module, matched by position: loadStateDict(dict, { from: "pytorch" })', async () => {
    useBackend(c);
    const { tensors } = await loadSafetensors(path.join(FIXTURES, 'mlp.safetensors'));
    expect(Object.keys(tensors)).toEqual(['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias', 'fc3.weight', 'fc3.bias']);
    const net = mlp();
    net.loadStateDict(tensors, { from: 'pytorch' });
    check(net, 'mlp');
    // the same by an explicit map, whatever the order of the entries
    const shuffled = Object.fromEntries(Object.entries(tensors).reverse());
    const named = mlp();
    named.loadStateDict(shuffled, { from: 'pytorch', names: { fc3: 4, fc1: 0, fc2: 2 } });
    check(named, 'mlp');
  });

  it('Sequential.load(path, { architecture }) of an nn.Sequential state dict (BatchNorm, num_batches_tracked)', async () => {
    useBackend(c);
    const { tensors } = await loadSafetensors(path.join(FIXTURES, 'cnn.safetensors'));
    expect(Object.keys(tensors)).toContain('1.num_batches_tracked');
    const file = path.join(FIXTURES, 'cnn.safetensors');
    await expect(Sequential.load(file)).rejects.toThrow("no 'nodenn.architecture' metadata: not a nodenn model file (weights only, " +
      "such as PyTorch's, load with Sequential.load(path, { architecture }); plain tensors with loadSafetensors)");
    const net = await Sequential.load(file, { architecture: cnnLayers().map((l) => l.config()) });
    check(net, 'cnn');
    check(await Sequential.load(path.join(FIXTURES, 'conv1d.safetensors'), { architecture: conv1d() }), 'conv1d');
    check(await Sequential.load(path.join(FIXTURES, 'gap.safetensors'), { architecture: gap().toConfig() }), 'gap');
  });
});

describe('nodenn → PyTorch layout', () => {
  it("stateDict({ to: 'pytorch' }) gives back PyTorch's own tensors (Linear weights (out, in))", async () => {
    const { tensors } = await loadSafetensors(path.join(FIXTURES, 'mlp.safetensors'));
    const net = mlp();
    net.loadStateDict(tensors, { from: 'pytorch' });
    const out = net.stateDict({ to: 'pytorch' });
    expect(Object.keys(out)).toEqual(['0.weight', '0.bias', '2.weight', '2.bias', '4.weight', '4.bias']);
    expect(out['0.weight'].shape).toEqual([16, 20]);
    expect(net.stateDict()['0.weight'].shape).toEqual([20, 16]);
    for (const [k, t] of Object.entries(out)) expect(t.data).toEqual(tensors[k.replace(/^(\d)/, (i) => `fc${Number(i) / 2 + 1}`)].data);
    // the nodenn tensors themselves are untouched
    expect(net.stateDict()['0.weight'].data[1]).toBe(tensors['fc1.weight'].data[20]);
  });

  it('a safetensors file of stateDict({ to: "pytorch" }) loads back with Sequential.load({ architecture })', async () => {
    const net = new Sequential(cnnLayers(), { seed: 5 });
    const bn = net.layers[1] as BatchNorm2D;
    bn.runningMean.data.set([0.1, -0.2, 0.3, 0.4]);
    const file = path.join(dir, 'cnn.safetensors');
    await saveSafetensors(file, net.stateDict({ to: 'pytorch' }), { format: 'pt' });
    const back = await Sequential.load(file, { architecture: net });
    expect(Object.keys(back.stateDict())).toEqual(Object.keys(net.stateDict()));
    for (const [k, t] of Object.entries(net.stateDict())) expect(back.stateDict()[k].data, k).toEqual(t.data);
    // a nodenn model file with an architecture given: nodenn's layout, from its metadata
    const own = path.join(dir, 'own.safetensors');
    await net.save(own, { inputShape: [1, 16, 16] });
    const again = await Sequential.load(own, { architecture: net.toConfig() });
    expect(again.stateDict()['9.weight'].data).toEqual(net.stateDict()['9.weight'].data);
  });
});

describe('PyTorch state dicts that do not fit are refused, naming keys and layers', () => {
  it('shapes, counts, parameter names, maps and options', async () => {
    const { tensors } = await loadSafetensors(path.join(FIXTURES, 'mlp.safetensors'));
    const net = mlp();
    expect(() => net.loadStateDict(tensors, { from: 'pytorch', names: { fc1: 0, fc2: 2, fc3: 4, fc4: 5 } }))
      .toThrow("names maps 'fc4', which the state dict has no entries of (its modules: fc1, fc2, fc3)");
    expect(() => net.loadStateDict(tensors, { from: 'pytorch', names: { fc1: 0, fc2: 1, fc3: 4 } }))
      .toThrow("names maps 'fc2' to 1, not the index of a layer with parameters (layer 0 (Dense), layer 2 (Dense), layer 4 (Dense))");
    expect(() => net.loadStateDict(tensors, { from: 'pytorch', names: { fc1: 0, fc2: 2 } })).toThrow("the state dict's module 'fc3' is not in names");
    expect(() => net.loadStateDict(tensors, { from: 'pytorch', names: { fc1: 0, fc2: 0, fc3: 4 } }))
      .toThrow("'fc1' and 'fc2' are both mapped to layer 0 (Dense)");
    expect(() => net.loadStateDict(tensors, { from: 'pytorch', names: { fc1: 2, fc2: 0, fc3: 4 } }))
      .toThrow("'fc1.weight' has shape [16, 20], layer 2 (Dense) needs [8, 16] (a Linear weight is (out, in))");
    const two = new Sequential([new Dense(20, 16), new Dense(16, 4)]);
    expect(() => two.loadStateDict(tensors, { from: 'pytorch' })).toThrow("the state dict has 3 modules with weights ('fc1', 'fc2', 'fc3') " +
      'but the network has 2 layers with parameters (layer 0 (Dense), layer 1 (Dense)); pass { names } to say which is which');
    const noBias = { ...tensors };
    delete noBias['fc1.bias'];
    expect(() => mlp().loadStateDict(noBias, { from: 'pytorch' }))
      .toThrow("'fc1' (weight) does not match layer 0 (Dense), which has weight, bias; missing fc1.bias");
    expect(() => net.loadStateDict(tensors, { from: 'keras' as never })).toThrow("loadStateDict(): from must be 'nodenn' or 'pytorch', got the string 'keras'");
    expect(() => net.stateDict({ to: 'onnx' as never })).toThrow("stateDict(): to must be 'nodenn' or 'pytorch', got the string 'onnx'");
    // x @ W with W (in, out), which is not a Linear's layout
    const file = path.join(FIXTURES, 'matmul.safetensors');
    await expect(Sequential.load(file, { architecture: [new Dense(6, 5).config(), new Sigmoid().config()] }))
      .rejects.toThrow(new SafetensorsError("'weight' has shape [6, 5], layer 0 (Dense) needs [5, 6] (a Linear weight is (out, in))", file));
  });
});
