// Model files: net.save / Sequential.load round trip (bitwise-identical predictions on the MNIST test set),
// what the file holds, and refusal of corrupted or foreign files.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMnist } from '../src/data/mnist';
import { loadModelFile, saveModelFile } from '../src/io/model';
import { loadSafetensors, saveSafetensors, SafetensorsError } from '../src/io/safetensors';
import { Dense, Dropout, ReLU, Sigmoid, Tanh } from '../src/layers/index';
import { Sequential } from '../src/network';
import { Adam } from '../src/optimizers';
import { Tensor } from '../src/tensor';
import { backends, useBackend } from './helpers';

let dir: string;
beforeAll(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodenn-model-')); });
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function sameBits(a: Tensor, b: Tensor): boolean {
  return a.dtype === b.dtype && a.shape.join() === b.shape.join() &&
    Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength).equals(Buffer.from(b.data.buffer, b.data.byteOffset, b.data.byteLength));
}

describe.each(backends)('model save/load ($label)', (bc) => {
  beforeAll(() => useBackend(bc));

  it('save → load gives bitwise-identical predictions on the MNIST test set', async () => {
    const { train, test } = await loadMnist({ limit: { train: 2000 } });
    const net = new Sequential([new Dense(784, 64), new ReLU(), new Dropout(0.2), new Dense(64, 32), new Tanh(), new Dense(32, 10)], { seed: 7 });
    await net.fit(train.x, train.y, { optimizer: new Adam({ lr: 0.003 }), epochs: 1, batchSize: 100 });
    net.eval();
    const before = net.predictProba(test.x);
    const file = path.join(dir, `mnist-${bc.label.replace('/', '-')}.safetensors`);
    await net.save(file, { metadata: { note: 'test' } });
    const back = await Sequential.load(file);
    back.eval();
    expect(back.layers.map((l) => l.name)).toEqual(['Dense', 'ReLU', 'Dropout', 'Dense', 'Tanh', 'Dense']);
    const after = back.predictProba(test.x);
    expect(after.shape).toEqual([10000, 10]);
    expect(sameBits(before, after)).toBe(true);
    expect(Array.from(back.predict(test.x))).toEqual(Array.from(net.predict(test.x)));
    for (const [k, t] of Object.entries(net.stateDict())) expect(sameBits(t, back.stateDict()[k])).toBe(true);
    const { metadata } = await loadModelFile(file);
    expect(metadata.note).toBe('test');
    expect(metadata.format).toBe('nodenn');
  });
});

describe('model files', () => {
  it('stores float32 weights under PyTorch-style names, even for a float64 network', async () => {
    const net = new Sequential([new Dense(3, 4), new Sigmoid(), new Dense(4, 2)], { seed: 1, dtype: 'float64' });
    const file = path.join(dir, 'f64.safetensors');
    await net.save(file);
    const f = await loadSafetensors(file);
    expect(Object.keys(f.tensors)).toEqual(['0.weight', '0.bias', '2.weight', '2.bias']);
    expect(Object.values(f.dtypes)).toEqual(['F32', 'F32', 'F32', 'F32']);
    expect(f.tensors['0.weight'].shape).toEqual([3, 4]);
    const arch = JSON.parse(f.metadata['nodenn.architecture']);
    expect(arch.dtype).toBe('float64');
    const back = await Sequential.load(file);
    expect(back.dtype).toBe('float64');
    const w = net.stateDict()['0.weight'].data, wb = back.stateDict()['0.weight'].data;
    for (let i = 0; i < w.length; i++) expect(wb[i]).toBe(Math.fround(w[i]));
    expect(fs.readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('refuses corrupted headers, foreign files, mismatched weights and reserved metadata', async () => {
    const net = new Sequential([new Dense(2, 3), new ReLU(), new Dense(3, 2)], { seed: 2 });
    const file = path.join(dir, 'ok.safetensors');
    await net.save(file);
    const good = fs.readFileSync(file);

    const corrupt = path.join(dir, 'corrupt.safetensors');
    const b = Buffer.from(good);
    b[8] = 0x5b; // '[' where the header's '{' was
    fs.writeFileSync(corrupt, b);
    await expect(Sequential.load(corrupt)).rejects.toThrow(SafetensorsError);
    await expect(Sequential.load(corrupt)).rejects.toThrow(/must start with '\{'/);

    const offsets = Buffer.from(good.toString('latin1').replace('"data_offsets":[0,', '"data_offsets":[4,'), 'latin1');
    fs.writeFileSync(corrupt, offsets);
    await expect(Sequential.load(corrupt)).rejects.toThrow(/corrupt\.safetensors: tensor '0\.weight'/);

    const plain = path.join(dir, 'plain.safetensors');
    await saveSafetensors(plain, { w: Tensor.zeros([2]) });
    await expect(Sequential.load(plain)).rejects.toThrow(/not a nodenn model file/);

    const badArch = path.join(dir, 'arch.safetensors');
    await saveSafetensors(badArch, net.stateDict(), { 'nodenn.architecture': '{"layers": 5}' });
    await expect(Sequential.load(badArch)).rejects.toThrow(/layers array/);
    await saveSafetensors(badArch, net.stateDict(), { 'nodenn.architecture': '{nope' });
    await expect(Sequential.load(badArch)).rejects.toThrow(/not valid JSON/);

    // Architecture says Dense(2, 3) but the weights are (2, 5): the state dict check names the entry.
    const wrong = path.join(dir, 'wrong.safetensors');
    const sd = { ...net.stateDict(), '0.weight': Tensor.zeros([2, 5]) };
    await saveModelFile(wrong, net.toConfig(), sd);
    await expect(Sequential.load(wrong)).rejects.toThrow(/0\.weight/);

    await expect(net.save(path.join(dir, 'r.safetensors'), { metadata: { format: 'x' } })).rejects.toThrow(/reserved/);
  });
});
