// The model-file readers' errors share one base, ModelFormatError (file, reason, format), and keep their own classes
// and messages: each reader refuses a bad file with an error that is both.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelFormatError, SafetensorsError, io, loadSafetensors } from '../src/index';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodenn-io-errors-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** What fn throws (or rejects with). */
async function caught(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected an error');
}

describe('ModelFormatError', () => {
  const bad = path.join(dir, 'bad.bin');
  fs.writeFileSync(bad, Uint8Array.of(0x08, 0, 0, 0, 0, 0, 0, 0, 0x7b, 0x7d));  // an 8-byte header, 2 bytes there

  const cases: [string, unknown, () => unknown, string, RegExp][] = [
    ['safetensors', SafetensorsError, () => loadSafetensors(bad), bad, /^header length 8 runs past the end of the 10-byte file/],
    ['pickle', io.PickleError, () => io.decodePickle(Uint8Array.of(0x80, 0x02, 0x63), 'w.pkl'), 'w.pkl', /^truncated: GLOBAL at byte 2/],
    ['onnx', io.OnnxError, () => io.decodeOnnx(Uint8Array.of(0xff, 0xff, 0xff), 'm.onnx'), 'm.onnx', /^not an ONNX model \(the protobuf does not decode/],
    ['tfjs', io.TfjsError, () => io.decodeTfjs({}, new Map(), 'model.json'), 'model.json', /^no modelTopology: not a TensorFlow.js Layers model.json$/],
  ];

  it.each(cases)('%s: the reader\'s own class and the base, one message shape', async (format, Specific, fn, file, reason) => {
    const e = await caught(fn) as ModelFormatError;
    expect(e).toBeInstanceOf(Specific as typeof Error);
    expect(e).toBeInstanceOf(ModelFormatError);
    expect(e).toBeInstanceOf(io.ModelFormatError);
    expect(e).toBeInstanceOf(Error);
    expect(e.format).toBe(format);
    expect(e.file).toBe(file);
    expect(e.reason).toMatch(reason);
    expect(e.message).toBe(`${file}: ${e.reason}`);
    expect(e.name).toBe((Specific as { name: string }).name);
  });

  it('the classes are distinct: one format\'s error is not another\'s', () => {
    const e = new io.OnnxError('no graph', 'm.onnx');
    expect(e).not.toBeInstanceOf(io.PickleError);
    expect(e).not.toBeInstanceOf(SafetensorsError);
    expect(e).not.toBeInstanceOf(io.TfjsError);
    expect(e.message).toBe('m.onnx: no graph');
    expect(new ModelFormatError('x', 'f', 'pickle').name).toBe('ModelFormatError');
  });
});
