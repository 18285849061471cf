// Model files: net.save / Sequential.load round trip (bitwise-identical predictions on the MNIST test set),
// what the file holds, and refusal of corrupted or foreign files.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMnist } from '../src/data/mnist';
import { loadModelFile, saveModelFile } from '../src/io/model';
import { loadSafetensors, saveSafetensors, SafetensorsError } from '../src/io/safetensors';
import * as L from '../src/layers/index';
import { Dense, Dropout, ReLU, Sigmoid, Tanh } from '../src/layers/index';
import { Sequential } from '../src/network';
import { Adam } from '../src/optimizers';
import { mse } from '../src/losses';
import { Tensor } from '../src/tensor';
import { VERSION } from '../src/version';
import { backends, randn, useBackend } from './helpers';

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
    expect(Array.from(back.predictClasses(test.x))).toEqual(Array.from(net.predictClasses(test.x)));
    for (const [k, t] of Object.entries(net.stateDict())) expect(sameBits(t, back.stateDict()[k])).toBe(true);
    const { metadata } = await loadModelFile(file);
    expect(metadata.note).toBe('test');
    expect(metadata.format).toBe('nodenn');
  });
});

const hasConv = 'Conv2D' in L && 'MaxPool2D' in L && 'BatchNorm2D' in L;
describe.skipIf(!hasConv)('CNN save/load', () => {
  it('conv, batch norm (running statistics as buffers), pooling: bitwise-identical predictions after load', async () => {
    const C = L as unknown as Record<string, new (...a: unknown[]) => L.Layer>;
    const { train, test } = await loadMnist({ flatten: false, limit: { train: 300, test: 500 } });
    const net = new Sequential([
      new C.Conv2D(1, 4, 3, { padding: 1 }), new C.BatchNorm2D(4), new ReLU(), new C.MaxPool2D(2),
      new L.Flatten(), new Dense(4 * 14 * 14, 10),
    ], { seed: 3 });
    await net.fit(train.x, train.y, { optimizer: new Adam({ lr: 0.003 }), epochs: 1, batchSize: 50 });
    const file = path.join(dir, 'cnn.safetensors');
    await net.save(file);
    const names = Object.keys((await loadSafetensors(file)).tensors);
    expect(names).toContain('1.running_mean');
    expect(names).toContain('0.weight');
    const back = await Sequential.load(file);
    expect(sameBits(net.predictProba(test.x), back.predictProba(test.x))).toBe(true);
    for (const [k, t] of Object.entries(net.stateDict())) expect(sameBits(t, back.stateDict()[k])).toBe(true);
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

describe.each(backends)('what a model file records of its use ($label)', (bc) => {
  beforeAll(() => useBackend(bc));

  it('save records the input shape, the loss, the class names and the data set; load restores them', async () => {
    const net = new Sequential([new L.Conv2D(1, 2, 3), new ReLU(), new L.Flatten(), new Dense(2 * 4 * 4, 3)], { seed: 1 });
    const x = randn([6, 1, 6, 6], 3).astype('float32'), y = new Int32Array([0, 1, 2, 0, 1, 2]);
    const file = path.join(dir, `uses-${bc.label.replace('/', '-')}.safetensors`);
    // a convolutional network that has not run cannot tell its input's height and width
    await expect(net.save(file)).rejects.toThrow(/save\(\): the network's input shape is unknown \(it has not run, and its first layer, Conv2D, does not fix it\): .* save\(path, \{ inputShape \}\)/);
    await net.fit(x, y, { loss: 'softmaxCrossEntropy', epochs: 1, dataset: 'shapes' });
    expect(net.dataset).toBe('shapes');
    await net.save(file, { classNames: ['circle', 'square', 'star'] });
    const { metadata } = await loadModelFile(file);
    expect(metadata['nodenn.input_shape']).toBe('[1,6,6]');
    expect(metadata['nodenn.loss']).toBe('softmaxCrossEntropy');
    expect(metadata['nodenn.class_names']).toBe('["circle","square","star"]');
    expect(metadata['nodenn.dataset']).toBe('shapes');
    const back = await Sequential.load(file);
    expect(back.inputShape).toEqual([1, 6, 6]);
    expect(back.loss).toBe('softmaxCrossEntropy');
    expect(back.classNames).toEqual(['circle', 'square', 'star']);
    expect(back.dataset).toBe('shapes');
    expect(back.evaluate(x, y)).toEqual(net.evaluate(x, y));  // the file's loss, no option needed
    expect(back.predict(new Tensor(x.data.slice(0, 36), [1, 6, 6])).shape).toEqual([3]);  // one image: the file's rank
    // save's options are checked against the network
    await expect(net.save(file, { classNames: ['a', 'b'] })).rejects.toThrow(/save\(\): classNames has 2 names but the network's 3 outputs make 3 classes/);
    await expect(net.save(file, { inputShape: [1, 5, 5] })).rejects.toThrow(/save\(\): the input shape \[1, 5, 5\] does not fit layer 3 \(Dense\)/);
    await expect(net.save(file, { inputShape: [1, 0, 6] })).rejects.toThrow(/inputShape must be an array of positive integers/);
    await expect(net.save(file, { dataset: '' })).rejects.toThrow(/dataset must be a non-empty string/);
    await expect(net.save(file, { metadata: { 'nodenn.dataset': 'mnist' } })).rejects.toThrow(/'nodenn.dataset' is reserved for nodenn: use save\(path, \{ dataset \}\)/);
    await expect(net.save(file, { metadata: { 'nodenn.loss': 'mse' } })).rejects.toThrow(/'nodenn.loss' is reserved for nodenn/);
    await expect(net.save(file, { extra: 1 } as never)).rejects.toThrow(/unknown save\(\) option 'extra'/);
    // one output column: two class names (labels 0 and 1)
    const bin = new Sequential([new Dense(4, 1)], { seed: 1 });
    await expect(bin.save(file, { classNames: ['no', 'yes', 'maybe'] })).rejects.toThrow(/3 names but the network's 1 output make 2 classes/);
    await bin.save(file, { classNames: ['no', 'yes'] });
    expect((await Sequential.load(file)).inputShape).toEqual([4]);  // a first Dense layer fixes it
    // a loss function is not recorded: the loaded network has none, and evaluate asks for one
    bin.compile({ loss: (o, t) => mse(o, t) });
    await bin.save(file);
    const fnBack = await Sequential.load(file);
    expect(fnBack.loss).toBeNull();
    expect(() => fnBack.evaluate(randn([2, 4], 1), new Int32Array([0, 1]))).toThrow(/evaluate\(\) needs a loss/);
  });

  it('descriptive metadata that is malformed or does not fit the network is refused, naming the file', async () => {
    const net = new Sequential([new Dense(4, 3)], { seed: 1 });
    const file = path.join(dir, `bad-uses-${bc.label.replace('/', '-')}.safetensors`);
    const write = (info: object) => saveModelFile(file, net.toConfig(), net.stateDict(), {}, info);
    await write({ loss: 'hinge' });
    await expect(Sequential.load(file)).rejects.toThrow(SafetensorsError);
    await expect(Sequential.load(file)).rejects.toThrow(/bad-uses.*\.safetensors: the 'nodenn.loss' metadata names the loss "hinge", which this nodenn does not know/);
    await write({ inputShape: [5] });
    await expect(Sequential.load(file)).rejects.toThrow(/\.safetensors: the 'nodenn.input_shape' metadata \[5\] does not fit the architecture's layers/);
    await write({ inputShape: [4], classNames: ['a', 'b'] });
    await expect(Sequential.load(file)).rejects.toThrow(/\.safetensors: the 'nodenn.class_names' metadata has 2 names but the network's 3 outputs make 3 classes/);
    const raw = async (key: string, value: string) => {
      await saveModelFile(file, net.toConfig(), net.stateDict());
      const f = await loadSafetensors(file);
      await saveSafetensors(file, f.tensors, { ...f.metadata, [key]: value });
    };
    await raw('nodenn.input_shape', '[4, "x"]');
    await expect(Sequential.load(file)).rejects.toThrow(/\.safetensors: the 'nodenn.input_shape' metadata must be a JSON array of positive integers/);
    await raw('nodenn.class_names', '{"a": 1}');
    await expect(Sequential.load(file)).rejects.toThrow(/\.safetensors: the 'nodenn.class_names' metadata must be a JSON array of strings/);
  });
});

describe('model files: what load checks before building anything', () => {
  const major = Number(VERSION.split('.')[0]);

  /** A model file written field by field: nodenn's metadata (overridable), an architecture and tensors. */
  async function modelFile(name: string, layers: unknown[], tensors: Record<string, Tensor>,
    meta: Record<string, string | undefined> = {}, arch: Record<string, unknown> = {}): Promise<string> {
    const file = path.join(dir, name);
    const metadata: Record<string, string | undefined> = {
      format: 'nodenn', 'nodenn.version': VERSION,
      'nodenn.architecture': JSON.stringify({ format: 'nodenn.Sequential', version: 1, dtype: 'float32', seed: 0, layers, ...arch }),
      ...meta,
    };
    for (const k of Object.keys(metadata)) if (metadata[k] === undefined) delete metadata[k];
    await saveSafetensors(file, tensors, metadata as Record<string, string>);
    return file;
  }
  const dense = (i: number, o: number) => ({ type: 'Dense', inFeatures: i, outFeatures: o });
  const small = { '0.weight': Tensor.zeros([2, 3]), '0.bias': Tensor.zeros([3]) };

  async function expectRefused(file: string, pattern: RegExp): Promise<void> {
    const rss = process.memoryUsage().rss;
    let err: unknown;
    try { await Sequential.load(file); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(SafetensorsError);
    expect((err as Error).message.startsWith(`${file}: `), (err as Error).message).toBe(true);
    expect((err as Error).message).toMatch(pattern);
    expect(process.memoryUsage().rss - rss, 'memory allocated before refusing').toBeLessThan(64 * 2 ** 20);
  }

  it('a small file that declares a huge architecture is refused, naming the file and the layer, before any allocation', async () => {
    const f1 = await modelFile('dense20k.safetensors', [dense(20000, 20000)], small);
    expect(fs.statSync(f1).size).toBeLessThan(1024);
    await expectRefused(f1, /layer 0 \(Dense\) needs '0\.weight' of shape \[20000, 20000\]; the file's is \[2, 3\]/);
    const f2 = await modelFile('dense1e9.safetensors', [dense(1e9, 1e9)], small);
    await expectRefused(f2, /layer 0 \(Dense\) needs '0\.weight' of shape \[1000000000, 1000000000\]/);
    const f3 = await modelFile('third.safetensors', [dense(2, 3), { type: 'ReLU' }, dense(3, 50000)],
      { ...small, '2.weight': Tensor.zeros([3, 2]), '2.bias': Tensor.zeros([2]) });
    await expectRefused(f3, /layer 2 \(Dense\) needs '2\.weight' of shape \[3, 50000\]; the file's is \[3, 2\]/);
    const f4 = await modelFile('bn.safetensors', [{ type: 'BatchNorm2D', numFeatures: 1e8 }], {});
    await expectRefused(f4, /layer 0 \(BatchNorm2D\) needs a tensor '0\.weight' of shape \[100000000\]; the file has none/);
    const f5 = await modelFile('conv.safetensors', [{ type: 'Conv2D', inChannels: 3, outChannels: 4096, kernelSize: [64, 64] }],
      { '0.weight': Tensor.zeros([1, 1, 1, 1]), '0.bias': Tensor.zeros([1]) });
    await expectRefused(f5, /layer 0 \(Conv2D\) needs '0\.weight' of shape \[4096, 3, 64, 64\]; the file's is \[1, 1, 1, 1\]/);
  });

  it('missing, unused and unknown tensors, bad layer configs and unknown layer types name the file and the layer', async () => {
    await expectRefused(await modelFile('nobias.safetensors', [dense(2, 3)], { '0.weight': small['0.weight'] }),
      /layer 0 \(Dense\) needs a tensor '0\.bias' of shape \[3\]; the file has none/);
    await expectRefused(await modelFile('extra.safetensors', [dense(2, 3)], { ...small, '0.extra': Tensor.zeros([1]) }),
      /a tensor '0\.extra' that the architecture does not use \(layer 0 \(Dense\) has no such parameter\)/);
    await expectRefused(await modelFile('beyond.safetensors', [dense(2, 3)], { ...small, '5.weight': Tensor.zeros([1]) }),
      /a tensor '5\.weight' that the architecture does not use \(there is no layer 5\)/);
    await expectRefused(await modelFile('badcfg.safetensors', [dense(-1, 3)], small),
      /layer 0 \(Dense\): Dense inFeatures must be a positive integer, got -1/);
    await expectRefused(await modelFile('unknown.safetensors', [dense(2, 3), { type: 'Nope' }], small),
      /layer 1 has the unknown type 'Nope' \(registered: .*Dense.*\)/);
    await expectRefused(await modelFile('dtype.safetensors', [dense(2, 3)], small, {}, { dtype: 'float16' }),
      /dtype must be 'float32' or 'float64'/);
  });

  it('refuses another format, a newer major version or a newer architecture version, naming the file', async () => {
    const layers = [dense(2, 3)];
    await expectRefused(await modelFile('pt.safetensors', layers, small, { format: 'pt' }),
      /the 'format' metadata is "pt", not 'nodenn': not a nodenn model file/);
    await expectRefused(await modelFile('noformat.safetensors', layers, small, { format: undefined }),
      /the 'format' metadata is null, not 'nodenn'/);
    const newer = `${major + 1}.0.0`;
    await expectRefused(await modelFile('newer.safetensors', layers, small, { 'nodenn.version': newer }),
      new RegExp(`written by nodenn ${newer.replace(/\./g, '\\.')}, a newer major version than this nodenn`));
    await expectRefused(await modelFile('noversion.safetensors', layers, small, { 'nodenn.version': 'banana' }),
      /the 'nodenn\.version' metadata must be a version like '\d+\.\d+\.\d+', got "banana"/);
    await expectRefused(await modelFile('arch2.safetensors', layers, small, {}, { version: 2 }),
      /the architecture is version 2 .*reads up to version 1/);
    await expectRefused(await modelFile('keras.safetensors', layers, small, {}, { format: 'keras' }),
      /the architecture's format is "keras", expected 'nodenn\.Sequential'/);
    // an older (or the same) version loads
    const older = await modelFile('older.safetensors', layers, small, { 'nodenn.version': '0.0.1' });
    expect((await Sequential.load(older)).stateDict()['0.weight'].shape).toEqual([2, 3]);
    const config = new Sequential([new Dense(2, 3)]).toConfig();
    expect(() => Sequential.fromConfig({ ...config, version: 2 as 1 })).toThrow(/config\.version 2 is not one this nodenn reads/);
    expect(() => Sequential.fromConfig({ ...config, format: 'keras' as 'nodenn.Sequential' })).toThrow(TypeError);
    expect(() => Sequential.fromConfig({ ...config, layers: [dense(2, 3), dense(3, 0)] }))
      .toThrow(/^layer 1 \(Dense\): Dense outFeatures must be a positive integer, got 0$/);
  });

  it('the shape functions of the built-in layers give the shapes of the layers they build', () => {
    const layers = [new Dense(3, 4), new Dense(3, 4, { bias: false }), new L.Conv2D(2, 3, [3, 5]),
      new L.Conv2D(2, 3, 1, { bias: false }), new L.Conv1D(2, 3, 4), new L.Conv1D(2, 3, 4, { bias: false }),
      new L.BatchNorm1D(5), new L.BatchNorm2D(6)];
    for (const l of layers) {
      const built: Record<string, number[]> = {};
      l.params.forEach((p, j) => { built[l.paramNames[j]] = [...p.shape]; });
      l.buffers.forEach((b, j) => { built[l.bufferNames[j]] = [...b.shape]; });
      expect(L.layerShapes(l.config()), JSON.stringify(l.config())).toEqual(built);
    }
  });

  it('a custom layer registered without a shape function loads; its tensors are checked when it is built', async () => {
    class Scale extends L.Layer {
      constructor(readonly n: number) { super(); this.setParams(['gain'], [Tensor.full([n], 1)]); }
      forward(x: Tensor): Tensor { return x; }
      backward(d: Tensor): Tensor { return d; }
      outputShape(s: readonly number[]): number[] { return [...s]; }
      config() { return { type: 'TestScale', n: this.n }; }
    }
    L.registerLayer('TestScale', (c) => new Scale(c.n as number));
    const net = new Sequential([new Dense(2, 3), new Scale(3)]);
    net.stateDict()['1.gain'].data.set([1, 2, 3]);
    const file = path.join(dir, 'custom.safetensors');
    await net.save(file);
    expect(Array.from((await Sequential.load(file)).stateDict()['1.gain'].data)).toEqual([1, 2, 3]);
    const wrong = await modelFile('custom-wrong.safetensors', [dense(2, 3), { type: 'TestScale', n: 3 }],
      { ...small, '1.gain': Tensor.zeros([4]) });
    await expectRefused(wrong, /state dict entry '1\.gain' has shape \[4\], expected \[3\]/);
  });
});
