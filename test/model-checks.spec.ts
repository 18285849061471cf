// Model files, word for word: every refusal of saveModelFile and loadModelFile (src/io/model.ts) with its exact
// reason, and the boundaries of each check (the forms of a version, an input shape, class names; the shapes and
// names of tensors), on every backend. test/model.spec.ts covers the round trips; this file the checks.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModelFile, saveModelFile } from '../src/io/model';
import { loadSafetensors, saveSafetensors, SafetensorsError } from '../src/io/safetensors';
import { registeredLayers } from '../src/layers/index';
import { Tensor } from '../src/tensor';
import { VERSION } from '../src/version';
import { backends, useBackend } from './helpers';

let dir: string;
beforeAll(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodenn-model-checks-')); });
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const dense = (i: number, o: number) => ({ type: 'Dense', inFeatures: i, outFeatures: o });
const small = () => ({ '0.weight': Tensor.zeros([2, 3]), '0.bias': Tensor.zeros([3]) });

/** A model file written field by field: nodenn's metadata (each overridable, undefined drops it) and tensors. */
async function modelFile(name: string, opts: {
  layers?: unknown; tensors?: Record<string, Tensor>; meta?: Record<string, string | undefined>;
  arch?: Record<string, unknown>; archText?: string;
} = {}): Promise<string> {
  const file = path.join(dir, name);
  const arch = opts.archText ?? JSON.stringify({ format: 'nodenn.Sequential', version: 1, dtype: 'float32', seed: 0,
    layers: opts.layers ?? [dense(2, 3)], ...opts.arch });
  const metadata: Record<string, string | undefined> = {
    format: 'nodenn', 'nodenn.version': VERSION, 'nodenn.architecture': arch, ...opts.meta,
  };
  for (const k of Object.keys(metadata)) if (metadata[k] === undefined) delete metadata[k];
  await saveSafetensors(file, opts.tensors ?? small(), metadata as Record<string, string>);
  return file;
}

/** The reason loadModelFile refuses `file` with (a SafetensorsError naming the file), or the file it read. */
async function reasonOf(file: string): Promise<string> {
  let err: unknown;
  try {
    await loadModelFile(file);
  } catch (e) {
    err = e;
  }
  if (err === undefined) return 'loaded';
  expect(err).toBeInstanceOf(SafetensorsError);
  expect((err as SafetensorsError).file).toBe(file);
  expect((err as Error).message).toBe(`${file}: ${(err as SafetensorsError).reason}`);
  return (err as SafetensorsError).reason;
}

describe.each(backends)('model file checks word for word ($label)', (bc) => {
  beforeAll(() => useBackend(bc));
  const major = Number(VERSION.split('.')[0]);

  it('saveModelFile: metadata not an object, each reserved key (with the save() option that writes it)', async () => {
    const file = path.join(dir, `save-${bc.label.replace('/', '-')}.safetensors`);
    const save = (metadata: unknown) => saveModelFile(file, { layers: [] }, {}, metadata as Record<string, string>);
    await expect(save(null)).rejects.toThrow(new TypeError('metadata must be an object of strings'));
    await expect(save('x')).rejects.toThrow(new TypeError('metadata must be an object of strings'));
    const reserved: [string, string][] = [
      ['format', "metadata key 'format' is reserved for nodenn"],
      ['nodenn.architecture', "metadata key 'nodenn.architecture' is reserved for nodenn"],
      ['nodenn.version', "metadata key 'nodenn.version' is reserved for nodenn"],
      ['nodenn.loss', "metadata key 'nodenn.loss' is reserved for nodenn"],
      ['nodenn.input_shape', "metadata key 'nodenn.input_shape' is reserved for nodenn: use save(path, { inputShape })"],
      ['nodenn.class_names', "metadata key 'nodenn.class_names' is reserved for nodenn: use save(path, { classNames })"],
      ['nodenn.dataset', "metadata key 'nodenn.dataset' is reserved for nodenn: use save(path, { dataset })"],
    ];
    for (const [key, message] of reserved) await expect(save({ [key]: 'x' })).rejects.toThrow(new TypeError(message));
    expect(fs.existsSync(file)).toBe(false);
  });

  it('saveModelFile writes exactly the descriptive entries it is given (an empty loss and data set included)', async () => {
    const file = path.join(dir, `info-${bc.label.replace('/', '-')}.safetensors`);
    const config = { format: 'nodenn.Sequential', version: 1, layers: [dense(2, 3)] };
    await saveModelFile(file, config, small(), { mine: 'kept' });
    let { metadata } = await loadSafetensors(file);
    expect(metadata).toEqual({ mine: 'kept', format: 'nodenn', 'nodenn.version': VERSION,
      'nodenn.architecture': JSON.stringify(config) });
    await saveModelFile(file, config, small(), {}, { inputShape: [2], loss: '', classNames: ['a', 'b', 'c'], dataset: '' });
    ({ metadata } = await loadSafetensors(file));
    expect(metadata).toEqual({ format: 'nodenn', 'nodenn.version': VERSION, 'nodenn.architecture': JSON.stringify(config),
      'nodenn.input_shape': '[2]', 'nodenn.loss': '', 'nodenn.class_names': '["a","b","c"]', 'nodenn.dataset': '' });
    const back = await loadModelFile(file);
    expect(back.info).toEqual({ inputShape: [2], loss: '', classNames: ['a', 'b', 'c'], dataset: '' });
    expect(back.config).toEqual(config);
    // float64 weights are stored as float32
    await saveModelFile(file, config, { '0.weight': new Tensor([0.1, 0.2, 0.3, 0.4, 0.5, 0.6], [2, 3], 'float64'),
      '0.bias': Tensor.zeros([3]) });
    const f = await loadModelFile(file);
    expect(f.tensors['0.weight'].dtype).toBe('float32');
    expect(Array.from(f.tensors['0.weight'].data)).toEqual([0.1, 0.2, 0.3, 0.4, 0.5, 0.6].map(Math.fround));
    expect(Object.keys(f.info)).toEqual([]);
  });

  it('the architecture: missing, not JSON, not an object with a layers array', async () => {
    expect(await reasonOf(await modelFile('noarch.safetensors', { meta: { 'nodenn.architecture': undefined } })))
      .toBe("no 'nodenn.architecture' metadata: not a nodenn model file (weights only, such as PyTorch's, load with " +
        'Sequential.load(path, { architecture }); plain tensors with loadSafetensors)');
    expect(await reasonOf(await modelFile('notjson.safetensors', { archText: '{nope' })))
      .toMatch(/^the 'nodenn\.architecture' metadata is not valid JSON: \S/);
    for (const text of ['null', '5', '"layers"', '{"layers": {}}', '{}']) {
      expect(await reasonOf(await modelFile('notobj.safetensors', { archText: text })), text)
        .toBe("the 'nodenn.architecture' metadata must be an object with a layers array");
    }
  });

  it('format and versions: the exact reasons, and the forms a version may take', async () => {
    const meta = (m: Record<string, string | undefined>) => modelFile('v.safetensors', { meta: m });
    expect(await reasonOf(await meta({ format: 'pt' }))).toBe(`the 'format' metadata is "pt", not 'nodenn': not a nodenn model file`);
    expect(await reasonOf(await meta({ format: undefined }))).toBe(`the 'format' metadata is null, not 'nodenn': not a nodenn model file`);
    const badVersion = (got: string) => `the 'nodenn.version' metadata must be a version like '${VERSION}', got ${got}`;
    expect(await reasonOf(await meta({ 'nodenn.version': undefined }))).toBe(badVersion('null'));
    for (const v of ['banana', '1.2', 'v0.1.0', '0.1.x', '']) {
      expect(await reasonOf(await meta({ 'nodenn.version': v })), v).toBe(badVersion(JSON.stringify(v)));
    }
    // anything after major.minor.patch is allowed (a prerelease, a build)
    for (const v of [VERSION, `${major}.0.0-beta.1`, `${major}.99.99+build`, '0.0.1']) {
      expect(await reasonOf(await meta({ 'nodenn.version': v })), v).toBe('loaded');
    }
    for (const v of [`${major + 1}.0.0`, `${major + 10}.2.3`]) {
      expect(await reasonOf(await meta({ 'nodenn.version': v })), v)
        .toBe(`written by nodenn ${v}, a newer major version than this nodenn ${VERSION}; upgrade nodenn to load it`);
    }
    const arch = (a: Record<string, unknown>) => modelFile('a.safetensors', { arch: a });
    expect(await reasonOf(await arch({ format: undefined })))
      .toBe("the architecture's format is null, expected 'nodenn.Sequential'");
    expect(await reasonOf(await arch({ format: 'keras' })))
      .toBe(`the architecture's format is "keras", expected 'nodenn.Sequential'`);
    for (const [v, shown] of [[undefined, 'null'], ['1', '"1"'], [1.5, '1.5'], [0, '0'], [-1, '-1'], [null, 'null']] as const) {
      expect(await reasonOf(await arch({ version: v })), String(v))
        .toBe(`the architecture's version must be a positive integer, got ${shown}`);
    }
    expect(await reasonOf(await arch({ version: 2 })))
      .toBe(`the architecture is version 2 (written by nodenn ${VERSION}); this nodenn ${VERSION} reads up to version 1: ` +
        'upgrade nodenn to load it');
    expect(await reasonOf(await arch({ version: 1 }))).toBe('loaded');
  });

  it('layers: not an object with a string type, unknown types, missing and misshapen tensors, unused names', async () => {
    const layers = (l: unknown[], tensors: Record<string, Tensor> = small()) => modelFile('l.safetensors', { layers: l, tensors });
    for (const [l, shown] of [[null, 'null'], ['Dense', '"Dense"'], [{ type: 5 }, '{"type":5}'], [{}, '{}']] as const) {
      expect(await reasonOf(await layers([dense(2, 3), l])), shown)
        .toBe(`layer 1 must be an object with a string 'type', got ${shown}`);
    }
    expect(await reasonOf(await layers([{ type: 'Nope' }]))).toBe(`layer 0 has the unknown type 'Nope' (registered: ` +
      `${registeredLayers().join(', ')}; register a custom layer with registerLayer before loading)`);
    // a tensor of the right size but another rank, and of the right rank but another size
    expect(await reasonOf(await layers([dense(2, 3)], { ...small(), '0.weight': Tensor.zeros([6]) })))
      .toBe("layer 0 (Dense) needs '0.weight' of shape [2, 3]; the file's is [6]");
    expect(await reasonOf(await layers([dense(2, 3)], { ...small(), '0.weight': Tensor.zeros([2, 3, 1]) })))
      .toBe("layer 0 (Dense) needs '0.weight' of shape [2, 3]; the file's is [2, 3, 1]");
    expect(await reasonOf(await layers([dense(2, 3)], { ...small(), '0.weight': Tensor.zeros([3, 2]) })))
      .toBe("layer 0 (Dense) needs '0.weight' of shape [2, 3]; the file's is [3, 2]");
    expect(await reasonOf(await layers([dense(2, 3)], { '0.bias': Tensor.zeros([3]) })))
      .toBe("layer 0 (Dense) needs a tensor '0.weight' of shape [2, 3]; the file has none");
    // a tensor of fewer axes whose sizes start as the needed ones
    expect(await reasonOf(await layers([dense(2, 3)], { ...small(), '0.weight': Tensor.zeros([2]) })))
      .toBe("layer 0 (Dense) needs '0.weight' of shape [2, 3]; the file's is [2]");
    // a layer config its type refuses
    expect(await reasonOf(await layers([dense(-1, 3)])))
      .toBe('layer 0 (Dense): Dense inFeatures must be a positive integer, got -1');
    // names the architecture does not use: no layer index (also next to a layer whose tensors are checked when it is
    // built), an index past the layers, a parameter a layer lacks
    for (const [name, why] of [['weight', 'names are <layer index>.<name>'], ['x.weight', 'names are <layer index>.<name>'],
      ['w0.gamma', 'names are <layer index>.<name>'], ['1.weight', 'there is no layer 1'], ['10.weight', 'there is no layer 10'],
      ['0.gamma', 'layer 0 (Dense) has no such parameter']]) {
      expect(await reasonOf(await layers([dense(2, 3)], { ...small(), [name]: Tensor.zeros([1]) })), name)
        .toBe(`the file has a tensor '${name}' that the architecture does not use (${why})`);
    }
    // a layer type registered without a shape function (ReLU) is checked when it is built, not here
    expect(await reasonOf(await layers([{ type: 'ReLU' }], { '0.weight': Tensor.zeros([1]) }))).toBe('loaded');
    expect(await reasonOf(await layers([dense(2, 3), { type: 'ReLU' }], { ...small(), weight: Tensor.zeros([1]) })))
      .toBe("the file has a tensor 'weight' that the architecture does not use (names are <layer index>.<name>)");
    expect(await reasonOf(await layers([{ type: 'ReLU' }, dense(2, 3)], { '1.weight': Tensor.zeros([2, 3]), '1.bias': Tensor.zeros([3]) })))
      .toBe('loaded');
  });

  it('descriptive entries: the forms an input shape and class names may take; a loss and a data set as written', async () => {
    const meta = (key: string, value: string) => modelFile('d.safetensors', { meta: { [key]: value } });
    const shapeReason = (v: string) => "the 'nodenn.input_shape' metadata must be a JSON array of positive integers " +
      `(the shape of one sample), got ${JSON.stringify(v)}`;
    for (const v of ['[2', '[]', '[0]', '[2, -1]', '[2.5]', '["2"]', '{"0": 2}', '2', 'null']) {
      expect(await reasonOf(await meta('nodenn.input_shape', v)), v).toBe(shapeReason(v));
    }
    for (const v of ['[2]', '[1, 28, 28]']) {
      const f = await meta('nodenn.input_shape', v);
      expect((await loadModelFile(f)).info, v).toEqual({ inputShape: JSON.parse(v) });
    }
    const namesReason = (v: string) => `the 'nodenn.class_names' metadata must be a JSON array of strings, got ${JSON.stringify(v)}`;
    for (const v of ['["a"', '[1]', '["a", null]', '{"0": "a"}', '"a"', 'null']) {
      expect(await reasonOf(await meta('nodenn.class_names', v)), v).toBe(namesReason(v));
    }
    for (const v of ['[]', '["a", "b"]']) {
      expect((await loadModelFile(await meta('nodenn.class_names', v))).info, v).toEqual({ classNames: JSON.parse(v) });
    }
    // loadModelFile passes the loss and the data set on as written (Sequential.load checks the loss's name)
    expect((await loadModelFile(await meta('nodenn.loss', 'hinge'))).info).toEqual({ loss: 'hinge' });
    expect((await loadModelFile(await meta('nodenn.dataset', 'my data'))).info).toEqual({ dataset: 'my data' });
    const plain = await loadModelFile(await modelFile('plain.safetensors', { meta: { mine: 'x' } }));
    expect(Object.keys(plain.info)).toEqual([]);
    expect(plain.metadata.mine).toBe('x');
    expect(plain.config).toEqual({ format: 'nodenn.Sequential', version: 1, dtype: 'float32', seed: 0, layers: [dense(2, 3)] });
    expect(Object.keys(plain.tensors)).toEqual(['0.weight', '0.bias']);
  });
});
