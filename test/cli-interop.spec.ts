// nodenn export (ONNX, TensorFlow.js) and nodenn eval of an ONNX or TensorFlow.js model: the course's pickled MLP
// saved by nodenn, exported, run by ONNX Runtime and TensorFlow.js, and scored again by `nodenn eval`.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main, type Output } from '../src/cli';
import { Dense, Sequential, Sigmoid, Softmax, Step, Tensor, data, io, loadOnnx, loadTfjs } from '../src/index';
import { expectClose, randomArray } from './helpers';

function capture(): Output & { text: () => string; errText: () => string } {
  let out = '', err = '';
  return { out: (s) => { out += s; }, err: (s) => { err += s; }, isTTY: false, columns: 120, text: () => out, errText: () => err };
}

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const o = capture();
  const code = await main(args, o);
  return { code, out: o.text(), err: o.errText() };
}

let dir: string, model: string, net: Sequential;
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodenn-cli-interop-'));
  // the course's MLP, on pixels in [0, 1] here (what nodenn eval feeds): 0.9352 as the course prints for them
  const d = await io.loadPickle(path.join(__dirname, 'fixtures', 'sample_weight.pkl')) as Record<string, Tensor>;
  net = new Sequential([new Dense(784, 50), new Sigmoid(), new Dense(50, 100), new Sigmoid(), new Dense(100, 10), new Softmax()]);
  net.loadStateDict({ '0.weight': d.W1, '0.bias': d.b1, '2.weight': d.W2, '2.bias': d.b2, '4.weight': d.W3, '4.bias': d.b3 });
  model = path.join(dir, 'course.safetensors');
  await net.save(model, { dataset: 'mnist' });
}, 60_000);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('nodenn export and eval across formats', () => {
  it('export --format onnx: ONNX Runtime gives nodenn\'s outputs and the course\'s 0.9352 on MNIST, and nodenn eval model.onnx scores it (93.52%)', async () => {
    const onnx = path.join(dir, 'course.onnx');
    const r = await cli(['export', model, '--format', 'onnx', '--out', onnx]);
    expect(r).toMatchObject({ code: 0, err: '' });
    expect(r.out).toBe(`${model}: wrote ${onnx} (ONNX opset 17, input [784])\n`);
    const x = new Tensor(randomArray(Float32Array, 5 * 784, 3, 0, 1) as Float32Array, [5, 784]);
    const s = await ort.InferenceSession.create(onnx, { intraOpNumThreads: 1 });
    const y = (await s.run({ input: new ort.Tensor('float32', x.data as Float32Array, [5, 784]) })).output;
    await s.release();
    expectClose(y.data as Float32Array, net.predict(x).data, 1e-5);
    // ONNX Runtime on the whole MNIST test set: the course's accuracy
    const { test } = await data.loadMnist({ limit: { train: 1, test: 10000 } });
    const all = await ort.InferenceSession.create(onnx, { intraOpNumThreads: 1 });
    const p = (await all.run({ input: new ort.Tensor('float32', test.x.data as Float32Array, [10000, 784]) })).output.data as Float32Array;
    await all.release();
    let correct = 0;
    for (let i = 0; i < 10000; i++) {
      let best = 0;
      for (let k = 1; k < 10; k++) if (p[i * 10 + k] > p[i * 10 + best]) best = k;
      if (best === test.y[i]) correct++;
    }
    expect(correct / 10000).toBe(0.9352);
    const e = await cli(['eval', onnx, '--data', 'mnist']);
    expect(e.code).toBe(0);
    expect(e.out).toMatch(new RegExp(`^${onnx.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: mnist test accuracy 93\\.52%`));
    // an ONNX file records no data set
    const none = await cli(['eval', onnx]);
    expect(none.code).toBe(2);
    expect(none.err).toContain('does not record the data set it was trained on: give it with --data mnist or --data fashion');
    expect((await loadOnnx(onnx)).layers.map((l) => l.name)).toEqual(net.layers.map((l) => l.name));
  }, 60_000);

  it('export --format tfjs writes a folder that loadTfjs and nodenn eval read', async () => {
    const out = path.join(dir, 'tfjs-course');
    const r = await cli(['export', model, '--format', 'tfjs', '--out', out]);
    expect(r).toMatchObject({ code: 0, err: '' });
    expect(fs.readdirSync(out).sort()).toEqual(['model.json', 'weights.bin']);
    const back = await loadTfjs(out);
    const x = new Tensor(randomArray(Float32Array, 3 * 784, 4, 0, 1) as Float32Array, [3, 784]);
    expectClose(back.predict(x).data, net.predict(x).data, 1e-6);
    const e = await cli(['eval', path.join(out, 'model.json'), '--data', 'mnist', '--limit', '1000']);
    expect(e.code).toBe(0);
    expect(e.out).toContain('mnist test accuracy');
  }, 60_000);

  it('refuses what it cannot do, with the usage line (exit 2) or the reason (exit 1)', async () => {
    const usage = async (args: string[], message: string) => {
      const r = await cli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err).toContain(message);
      expect(r.err).toContain('Usage: nodenn export <model.safetensors> --format onnx|tfjs --out PATH [--opset N]');
    };
    await usage(['export', model, '--out', 'x.onnx'], 'export needs --format onnx or --format tfjs');
    await usage(['export', model, '--format', 'keras', '--out', 'x'], "--format must be 'onnx' or 'tfjs', got 'keras'");
    await usage(['export', model, '--format', 'onnx'], 'export needs --out FILE.onnx');
    await usage(['export', model, '--format', 'onnx', '--out', path.join(dir, 'x.onnx'), '--opset', '11'], '--opset must be an integer from 13 to 17');
    await usage(['export', model, '--format', 'tfjs', '--out', path.join(dir, 'x'), '--opset', '17'], '--opset is an option of --format onnx');
    await usage(['export', model, '--format', 'onnx', '--out', path.join(dir, 'no', 'x.onnx')], 'does not exist');
    await usage(['export', path.join(dir, 'missing.safetensors'), '--format', 'onnx', '--out', path.join(dir, 'm.onnx')], 'no such file');
    await usage(['export', model, '--format', 'tfjs', '--out', model], 'is a file; TensorFlow.js needs a folder');
    await usage(['export', model, '--format', 'onnx', '--out', path.join(dir, 'y.onnx'), '--epochs', '3'], 'export does not take --epochs');
    const step = path.join(dir, 'step.safetensors');
    await new Sequential([new Dense(2, 2), new Step()]).save(step);
    const r = await cli(['export', step, '--format', 'onnx', '--out', path.join(dir, 'step.onnx')]);
    expect(r.code).toBe(0);
    const t = await cli(['export', step, '--format', 'tfjs', '--out', path.join(dir, 'step-tfjs')]);
    expect(t).toMatchObject({ code: 1, err: 'nodenn: exportTfjs: layer 1 (Step) has no TensorFlow.js counterpart\n' });
  });
});
