// torch.save files and PyTorch state dicts, word for word: every refusal of decodePt and loadPt (src/io/torch.ts)
// with its exact reason, on archives built here entry by entry (a hand-written data.pkl, storages whose declared
// and real sizes differ, a corrupt entry), and the checks of fromPytorchStateDict and toPytorchStateDict
// (src/io/pytorch.ts). test/pytorch-pt.spec.ts and test/pytorch.spec.ts cover the real PyTorch files.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import AdmZip from 'adm-zip';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchNorm1D, Conv2D, Dense, ReLU, Tensor, io } from '../src/index';

let dir: string;
beforeAll(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodenn-torch-checks-')); });
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const ascii = (s: string) => [...Buffer.from(s, 'utf8')];
const unicode = (s: string) => { const b = Buffer.from(s, 'utf8'); return [0x58, b.length & 255, b.length >> 8, 0, 0, ...b]; };
const global = (mod: string, name: string) => [0x63, ...ascii(`${mod}\n${name}\n`)];

/**
 * A protocol 2 data.pkl: { w: a float32 tensor of `size` over storage `key` of `numel` elements } (torch.save's
 * layout: _rebuild_tensor_v2 with a persistent id), or `{ n: 1 }` with no key.
 */
function dataPkl(key?: string, numel = 2, size = numel): Buffer {
  if (key === undefined) return Buffer.from([0x80, 2, 0x7d, ...unicode('n'), 0x4b, 1, 0x73, 0x2e]);
  return Buffer.from([0x80, 2, 0x7d, ...unicode('w'), ...global('torch._utils', '_rebuild_tensor_v2'), 0x28,
    0x28, ...unicode('storage'), ...global('torch', 'FloatStorage'), ...unicode(key), ...unicode('cpu'), 0x4b, numel, 0x74, 0x51,
    0x4b, 0, 0x4b, size, 0x85, 0x4b, 1, 0x85, 0x89, ...global('collections', 'OrderedDict'), 0x29, 0x52,
    0x74, 0x52, 0x73, 0x2e]);
}

/** A zip archive of these entries (stored: not deflated, when `stored`). */
function archive(entries: Record<string, Uint8Array>, stored = false): Buffer {
  const zip = new AdmZip();
  for (const [name, data] of Object.entries(entries)) {
    zip.addFile(name, Buffer.from(data));
    if (stored) zip.getEntry(name)!.header.method = 0;
  }
  return zip.toBuffer();
}

/** The archive with the uncompressed size its central directory declares for `name` set to `size`. */
function declareSize(zip: Buffer, name: string, size: number): Buffer {
  const b = Buffer.from(zip);
  for (let i = 0; i + 46 <= b.length; i++) {
    if (b.readUInt32LE(i) === 0x02014b50 && b.toString('latin1', i + 46, i + 46 + b.readUInt16LE(i + 28)) === name) {
      b.writeUInt32LE(size, i + 24);
      return b;
    }
  }
  throw new Error(`no ${name} in the central directory`);
}

const floats = (...v: number[]) => new Uint8Array(Float32Array.from(v).buffer);

/** The message decodePt refuses `bytes` with (a PickleError), or the value it read. */
function reasonOf(bytes: unknown, file = 'x.pt'): string {
  try {
    io.decodePt(bytes as Uint8Array, file);
  } catch (e) {
    expect(e).toBeInstanceOf(io.PickleError);
    return (e as Error).message;
  }
  throw new Error('decodePt read it');
}

describe('decodePt refuses, word for word', () => {
  it('what is not a zip archive, or not a Uint8Array', () => {
    expect(() => io.decodePt('PK' as never)).toThrow(new TypeError('bytes must be a Uint8Array'));
    expect(() => io.decodePt([0x50, 0x4b, 3, 4] as never)).toThrow(new TypeError('bytes must be a Uint8Array'));
    expect(reasonOf(new Uint8Array(0))).toBe('x.pt: not a torch.save file (not a zip archive)');
    expect(() => io.decodePt(Uint8Array.of(1, 2))).toThrow(new io.PickleError('not a torch.save file (not a zip archive)', '<buffer>'));
    expect(reasonOf(Uint8Array.of(0x50, 0x4c, 3, 4))).toBe('x.pt: not a torch.save file (not a zip archive)');
    expect(reasonOf(Uint8Array.of(0x51, 0x4b, 3, 4))).toBe('x.pt: not a torch.save file (not a zip archive)');
    expect(reasonOf(Uint8Array.of(0x80, 2, 0x7d, 0x2e), 'old.pt')).toBe('old.pt: this is torch.save\'s legacy format (PyTorch ' +
      'before 1.6, or _use_new_zipfile_serialization=False), which loadPt does not read: save it again with a recent PyTorch');
    expect(reasonOf(Buffer.from('PK\x03\x04 not a zip'))).toBe('x.pt: not a readable zip archive: ADM-ZIP: Invalid or ' +
      'unsupported zip format. No END header found');
  });

  it('an archive without exactly one <name>/data.pkl', () => {
    expect(io.decodePt(archive({ 'my_model/data.pkl': dataPkl() }))).toEqual({ n: 1 });
    const none = 'x.pt: a torch.save archive holds one <name>/data.pkl, this one none';
    expect(reasonOf(archive({ 'data.pkl': dataPkl() }))).toBe(none);
    expect(reasonOf(archive({ 'a/b/data.pkl': dataPkl() }))).toBe(none);
    expect(reasonOf(archive({ 'a/data.pkl2': dataPkl() }))).toBe(none);
    expect(reasonOf(archive({ 'a/xdata.pkl': dataPkl() }))).toBe(none);
    expect(reasonOf(archive({ 'a/data-pkl': dataPkl() }))).toBe(none);
    expect(reasonOf(archive({ 'a/data.pkl': dataPkl(), 'b/data.pkl': dataPkl() })))
      .toBe('x.pt: a torch.save archive holds one <name>/data.pkl, this one 2');
  });

  it('storages that are not little-endian', () => {
    const pkl = dataPkl('0');
    const read = io.decodePt(archive({ 'a/data.pkl': pkl, 'a/byteorder': Buffer.from('little'), 'a/data/0': floats(1.5, -2) }));
    expect(((read as Record<string, Tensor>).w).toArray()).toEqual([1.5, -2]);
    const big = 'x.pt: the storages are not little-endian, which loadPt does not read';
    expect(reasonOf(archive({ 'a/data.pkl': pkl, 'a/byteorder': Buffer.from('big'), 'a/data/0': floats(1.5, -2) }))).toBe(big);
    expect(reasonOf(archive({ 'a/data.pkl': pkl, 'a/byteorder': Buffer.from('little'.repeat(3)), 'a/data/0': floats(1, 2) }))).toBe(big);
    // the size its central directory declares is checked first: more than 16 bytes is refused unread
    const little = archive({ 'a/data.pkl': dataPkl(), 'a/byteorder': Buffer.from('little') });
    expect(io.decodePt(declareSize(little, 'a/byteorder', 16))).toEqual({ n: 1 });
    expect(reasonOf(declareSize(little, 'a/byteorder', 17))).toBe(big);
    // the byteorder of the archive's own prefix only
    expect(io.decodePt(archive({ 'a/data.pkl': dataPkl(), 'b/byteorder': Buffer.from('big') }))).toEqual({ n: 1 });
  });

  it('a data.pkl that declares more than 256 MiB, before inflating it', () => {
    const zip = archive({ 'a/data.pkl': dataPkl() });
    expect(reasonOf(declareSize(zip, 'a/data.pkl', 256 * 2 ** 20 + 1))).toBe('x.pt: data.pkl inflates to more than 268435456 bytes');
    // the declared size is only a bound: adm-zip reads the entry's real bytes
    expect(io.decodePt(declareSize(zip, 'a/data.pkl', 256 * 2 ** 20))).toEqual({ n: 1 });
  });

  it('an entry that does not inflate, naming it', () => {
    const zip = archive({ 'a/data.pkl': dataPkl('0'), 'a/data/0': floats(3, 4) }, true);
    const at = zip.indexOf(Buffer.from(floats(3, 4)));
    zip[at] ^= 1;
    expect(reasonOf(zip)).toMatch(/^x\.pt: a\/data\/0 does not read: ADM-ZIP: CRC32 checksum failed/);
  });

  it('a storage key that is not a plain name, or a storage of another size, declared or real', () => {
    const missing = (key: string, numel: number) => `x.pt: the storage '${key}' (${numel} elements of float32) is missing from ` +
      'the archive or has another size';
    expect((io.decodePt(archive({ 'a/data.pkl': dataPkl('k_12', 2), 'a/data/k_12': floats(5, 6) })) as Record<string, Tensor>).w.toArray())
      .toEqual([5, 6]);
    expect(reasonOf(archive({ 'a/data.pkl': dataPkl('k.2', 2), 'a/data/k.2': floats(5, 6) }))).toBe(missing('k.2', 2));
    expect(reasonOf(archive({ 'a/data.pkl': dataPkl('k', 2), 'a/data/k': floats(5, 6, 7) }))).toBe(missing('k', 2));
    expect(reasonOf(archive({ 'a/data.pkl': dataPkl('k', 2), 'b/data/k': floats(5, 6) }))).toBe(missing('k', 2));
    // the size the central directory declares is checked first, the size read after
    const two = archive({ 'a/data.pkl': dataPkl('k', 2), 'a/data/k': floats(5, 6) });
    expect(reasonOf(declareSize(two, 'a/data/k', 16))).toBe(missing('k', 2));
    const four = archive({ 'a/data.pkl': dataPkl('k', 4), 'a/data/k': floats(5, 6) });
    expect(reasonOf(declareSize(four, 'a/data/k', 16))).toBe(missing('k', 4));
  });
});

describe('loadPt checks its arguments and the file size', () => {
  it('path, options and maxBytes', async () => {
    const file = path.join(dir, 'n.pt');
    fs.writeFileSync(file, archive({ 'a/data.pkl': dataPkl() }));
    const size = fs.statSync(file).size;
    await expect(io.loadPt('')).rejects.toThrow(new TypeError('loadPt: path must be a non-empty string'));
    await expect(io.loadPt(5 as never)).rejects.toThrow(new TypeError('loadPt: path must be a non-empty string'));
    await expect(io.loadPt(file, null as never)).rejects.toThrow(new TypeError('loadPt: options must be an object'));
    await expect(io.loadPt(file, 5 as never)).rejects.toThrow(new TypeError('loadPt: options must be an object'));
    for (const [v, shown] of [[0, '0'], [-1, '-1'], [NaN, 'NaN'], ['100', '100']] as const) {
      await expect(io.loadPt(file, { maxBytes: v as number })).rejects.toThrow(new RangeError(`loadPt: maxBytes must be a positive number, got ${shown}`));
    }
    await expect(io.loadPt(file, { maxBytes: size - 1 })).rejects.toThrow(new io.PickleError(`the file has ${size} bytes, more than maxBytes ${size - 1}`, file));
    expect(await io.loadPt(file, { maxBytes: size })).toEqual({ n: 1 });
    expect(await io.loadPt(file)).toEqual({ n: 1 });
  });
});

describe('fromPytorchStateDict and toPytorchStateDict', () => {
  const range = (n: number, f64 = false) =>
    new Tensor((f64 ? Float64Array : Float32Array).from(Array.from({ length: n }, (_, i) => i + 1)), [n]);
  /** A PyTorch Linear(in, out)'s entries, weight (out, in) holding 1, 2, ... in order. */
  const linear = (inF: number, outF: number, f64 = false) =>
    ({ weight: range(inF * outF, f64).reshape([outF, inF]), bias: range(outF, f64) });
  const prefixed = (prefix: string, e: Record<string, Tensor>) => Object.fromEntries(Object.entries(e).map(([k, t]) => [`${prefix}.${k}`, t]));

  it('Dense weights are transposed, in float32 and float64, and everything else copied', () => {
    const d = new Dense(2, 3, { dtype: 'float64' });
    const out = io.fromPytorchStateDict([d], prefixed('fc', linear(2, 3, true)));
    expect(Object.keys(out)).toEqual(['0.weight', '0.bias']);
    expect(out['0.weight'].dtype).toBe('float64');
    expect(out['0.weight'].shape).toEqual([2, 3]);
    expect(out['0.weight'].toArray()).toEqual([1, 3, 5, 2, 4, 6]);
    d.weight.data.set([1, 3, 5, 2, 4, 6]);
    const back = io.toPytorchStateDict([new ReLU(), d]);
    expect(Object.keys(back)).toEqual(['1.weight', '1.bias']);
    expect(back['1.weight'].dtype).toBe('float64');
    expect(back['1.weight'].toArray()).toEqual([1, 2, 3, 4, 5, 6]);
    expect(back['1.bias'] === d.bias, 'a copy').toBe(false);
    expect(back['1.bias'].data).toEqual(d.bias!.data);
    // a BatchNorm's buffers, copies in its own layout
    const bn = new BatchNorm1D(2);
    bn.runningMean.data.set([0.5, -1]);
    const st = io.toPytorchStateDict([bn]);
    expect(Object.keys(st)).toEqual(['0.weight', '0.bias', '0.running_mean', '0.running_var']);
    expect(st['0.running_mean'] === bn.runningMean, 'a copy').toBe(false);
    expect(st['0.running_mean'].toArray()).toEqual([0.5, -1]);
  });

  it('keys without a module, index names from 10 up, and names that only look like indices', () => {
    const d = new Dense(2, 3);
    // 'weight' and 'bias' alone: a module of no name, matched by position
    expect(io.fromPytorchStateDict([new ReLU(), d], linear(2, 3))['1.weight'].toArray()).toEqual([1, 3, 5, 2, 4, 6]);
    expect(() => io.fromPytorchStateDict([d], { weight: range(6).reshape([2, 3]), bias: range(3) }))
      .toThrow(new RangeError("'weight' has shape [2, 3], layer 0 (Dense) needs [3, 2] (a Linear weight is (out, in))"));
    // '.weight': a module named '' too
    expect(Object.keys(io.fromPytorchStateDict([d], { '.weight': linear(2, 3).weight, '.bias': range(3) }))).toEqual(['0.weight', '0.bias']);
    const layers = [new Dense(2, 3), ...Array.from({ length: 9 }, () => new ReLU()), new Dense(3, 4)];
    const byIndex = io.fromPytorchStateDict(layers, { ...prefixed('10', linear(3, 4)), ...prefixed('0', linear(2, 3)) });
    expect(Object.keys(byIndex)).toEqual(['10.weight', '10.bias', '0.weight', '0.bias']);
    // '1e0' and ' 1' are not index names (Number() reads them as 1): matched by position
    for (const name of ['1e0', ' 1', '1 ']) {
      const two = [new Dense(2, 3), new Dense(3, 4)];
      const got = io.fromPytorchStateDict(two, { ...prefixed(name, linear(2, 3)), ...prefixed('0', linear(3, 4)) });
      expect(got['0.weight'].shape, name).toEqual([2, 3]);
      expect(got['1.weight'].shape, name).toEqual([3, 4]);
    }
  });

  it('refusals, word for word', () => {
    const net = () => [new Dense(2, 3), new ReLU(), new Dense(3, 4)];
    const ok = { ...prefixed('a', linear(2, 3)), ...prefixed('b', linear(3, 4)) };
    expect(() => io.fromPytorchStateDict(net(), null as never)).toThrow(new TypeError('state dict must be an object of tensors, got null'));
    expect(() => io.fromPytorchStateDict(net(), 5 as never)).toThrow(new TypeError('state dict must be an object of tensors, got 5'));
    expect(() => io.fromPytorchStateDict(net(), { ...ok, 'b.bias': [1, 2] as never }))
      .toThrow(new TypeError("state dict entry 'b.bias' must be a Tensor, got an array of length 2"));
    expect(() => io.fromPytorchStateDict(net(), {})).toThrow(new RangeError('the state dict has 0 modules with weights () but the ' +
      'network has 2 layers with parameters (layer 0 (Dense), layer 2 (Dense)); pass { names } to say which is which'));
    expect(() => io.fromPytorchStateDict(net(), prefixed('a', linear(2, 3)))).toThrow(new RangeError('the state dict has 1 module ' +
      "with weights ('a') but the network has 2 layers with parameters (layer 0 (Dense), layer 2 (Dense)); pass { names } to say which is which"));
    expect(() => io.fromPytorchStateDict([new ReLU(), new Dense(2, 3)], ok)).toThrow(new RangeError('the state dict has 2 modules ' +
      "with weights ('a', 'b') but the network has 1 layer with parameters (layer 1 (Dense)); pass { names } to say which is which"));
    expect(() => io.fromPytorchStateDict(net(), ok, { names: null as never }))
      .toThrow(new TypeError('names must be an object of module names to layer indices, got null'));
    expect(() => io.fromPytorchStateDict(net(), ok, { names: 'a' as never }))
      .toThrow(new TypeError("names must be an object of module names to layer indices, got the string 'a'"));
    expect(() => io.fromPytorchStateDict(net(), ok, { names: { a: '0' as never, b: 2 } }))
      .toThrow(new RangeError("names maps 'a' to the string '0', not the index of a layer with parameters (layer 0 (Dense), layer 2 (Dense))"));
    expect(() => io.fromPytorchStateDict(net(), { ...ok, ...prefixed('c', linear(1, 1)) }, { names: { a: 0 } }))
      .toThrow(new RangeError("the state dict's modules 'b', 'c' are not in names"));
    expect(() => io.fromPytorchStateDict(net(), { ...ok, 'a.gamma': range(3) }))
      .toThrow(new RangeError("'a' (weight, bias, gamma) does not match layer 0 (Dense), which has weight, bias; unexpected a.gamma"));
    expect(() => io.fromPytorchStateDict(net(), { ...ok, 'b.gamma': range(4), 'b.beta': range(4) }))
      .toThrow(new RangeError("'b' (weight, bias, gamma, beta) does not match layer 2 (Dense), which has weight, bias; unexpected b.gamma, b.beta"));
    expect(() => io.fromPytorchStateDict(net(), { 'a.bias': ok['a.bias'], 'b.weight': ok['b.weight'], 'b.bias': ok['b.bias'] }))
      .toThrow(new RangeError("'a' (bias) does not match layer 0 (Dense), which has weight, bias; missing a.weight"));
    expect(() => io.fromPytorchStateDict(net(), { 'a.gamma': range(3), 'b.weight': ok['b.weight'], 'b.bias': ok['b.bias'] }))
      .toThrow(new RangeError("'a' (gamma) does not match layer 0 (Dense), which has weight, bias; missing a.weight, a.bias; " +
        'unexpected a.gamma'));
    expect(() => io.fromPytorchStateDict(net(), { 'a.weight': ok['a.weight'], 'a.gamma': range(3), 'b.weight': ok['b.weight'], 'b.bias': ok['b.bias'] }))
      .toThrow(new RangeError("'a' (weight, gamma) does not match layer 0 (Dense), which has weight, bias; missing a.bias; unexpected a.gamma"));
    expect(() => io.fromPytorchStateDict(net(), { ...ok, 'b.bias': range(3) }))
      .toThrow(new RangeError("'b.bias' has shape [3], layer 2 (Dense) needs [4]"));
    expect(() => io.fromPytorchStateDict([new Conv2D(1, 2, 3)], { 'c.weight': range(18).reshape([2, 1, 3, 3, 1]), 'c.bias': range(2) }))
      .toThrow(new RangeError("'c.weight' has shape [2, 1, 3, 3, 1], layer 0 (Conv2D) needs [2, 1, 3, 3]"));
  });
});
