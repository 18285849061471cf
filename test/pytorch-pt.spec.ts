// nn.io.loadPt: torch.save files (test/fixtures/interop/state.pt, written by PyTorch 1.13 with make_pt.py) read
// through the safe pickle reader, whose persistent ids may name the archive's storages and nothing else: every
// tensor comes back with PyTorch's values (strided views, shared storages, float16/64, int64, bool), the Linear
// loads into a Dense, and hostile or broken archives are refused with a PickleError naming the problem.
import * as fs from 'node:fs';
import * as path from 'node:path';
import AdmZip from 'adm-zip';
import { describe, expect, it } from 'vitest';
import { Dense, ModelFormatError, Sequential, Tensor, io } from '../src/index';
import { backends, expectClose, useBackend } from './helpers';

const dir = path.join(__dirname, 'fixtures', 'interop');
const expected = JSON.parse(fs.readFileSync(path.join(dir, 'state.json'), 'utf8')) as
  Record<string, { dtype: string; shape: number[]; data: (number | boolean)[] }>;

/** What rejects (or throws). */
async function refusal(fn: () => unknown): Promise<Error> {
  try {
    await fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

describe('nn.io.loadPt', () => {
  it('reads every tensor of a torch.save state_dict with PyTorch\'s values, dtypes and shapes', async () => {
    const state = await io.loadPt(path.join(dir, 'state.pt')) as Record<string, unknown>;
    expect(Object.keys(state)).toEqual(Object.keys(expected));
    for (const [name, want] of Object.entries(expected)) {
      const got = state[name];
      if (['float32', 'float64', 'float16'].includes(want.dtype)) {
        expect(got, name).toBeInstanceOf(Tensor);
        const t = got as Tensor;
        expect(t.dtype, name).toBe(want.dtype === 'float64' ? 'float64' : 'float32');
        expect(t.shape, name).toEqual(want.shape);
        expect(Array.from(t.data), name).toEqual(want.data);
      } else {
        const a = got as io.NumpyArray;
        expect(a.dtype, name).toBe(want.dtype === 'int64' ? 'int64' : 'bool');
        expect(a.shape, name).toEqual(want.shape);
        expect(Array.from(a.data as ArrayLike<number | bigint>, (v) => (want.dtype === 'bool' ? v === 1 : Number(v))), name).toEqual(want.data);
      }
    }
    // a strided view and two views of one storage at different offsets
    expect((state['extra.shared_a'] as Tensor).toArray()).toEqual([0.5, 0.75, 1, 1.25]);
    expect((state['extra.shared_b'] as Tensor).shape).toEqual([5, 1]);
    expect((state['2.num_batches_tracked'] as io.NumpyArray).data).toEqual(BigInt64Array.of(7n));
  });

  it.each(backends)('the Linear loads into a Dense and computes PyTorch\'s x Wᵀ + b ($label)', async (bk) => {
    useBackend(bk);
    const state = await io.loadPt(path.join(dir, 'state.pt')) as Record<string, Tensor>;
    const net = new Sequential([new Dense(4, 3)]);
    net.loadStateDict({ '0.weight': state['0.weight'], '0.bias': state['0.bias'] }, { from: 'pytorch' });
    const x = new Tensor([[1, -2, 0.5, 3]]);
    const w = expected['0.weight'].data as number[], b = expected['0.bias'].data as number[];
    const want = [0, 1, 2].map((o) => b[o] + [1, -2, 0.5, 3].reduce((s, v, i) => s + v * w[o * 4 + i], 0));
    expectClose(net.predict(x).data, want, 1e-6);
  });

  it('refuses a data.pkl that calls posix.system, and a persistent id that is not a storage', async () => {
    const evil = await refusal(() => io.loadPt(path.join(dir, 'evil.pt')));
    expect(evil).toBeInstanceOf(io.PickleError);
    expect(evil).toBeInstanceOf(ModelFormatError);
    expect(evil.message).toMatch(/evil\.pt: refused the global 'posix\.system': a pickle may name numpy arrays, dtypes, scalars and OrderedDict only \(and, in a \.pt, torch storages and tensors\)/);
    const badPid = await refusal(() => io.loadPt(path.join(dir, 'badpid.pt')));
    expect(badPid.message).toMatch(/badpid\.pt: the persistent ID at byte \d+ is not a torch storage/);
  });

  it('refuses broken archives: a missing or resized storage, no data.pkl, the legacy format, not a zip', async () => {
    const zip = new AdmZip(path.join(dir, 'state.pt'));
    zip.deleteFile('state/data/3');
    const missing = await refusal(() => io.decodePt(zip.toBuffer(), 'missing.pt'));
    expect(missing.message).toMatch(/^missing\.pt: the storage '3' \(\d+ elements of float32\) is missing from the archive/);
    const resized = new AdmZip(path.join(dir, 'state.pt'));
    resized.updateFile('state/data/3', Buffer.alloc(4));
    expect((await refusal(() => io.decodePt(resized.toBuffer(), 'r.pt'))).message).toMatch(/the storage '3' .* has another size/);
    const noPickle = new AdmZip();
    noPickle.addFile('archive/version', Buffer.from('3\n'));
    expect((await refusal(() => io.decodePt(noPickle.toBuffer(), 'n.pt'))).message)
      .toBe('n.pt: a torch.save archive holds one <name>/data.pkl, this one none');
    expect((await refusal(() => io.decodePt(fs.readFileSync(path.join(__dirname, 'fixtures', 'sample_weight.pkl')), 'old.pt')))
      .message).toMatch(/^old\.pt: this is torch\.save's legacy format/);
    expect((await refusal(() => io.decodePt(Uint8Array.of(1, 2, 3), 'x.pt'))).message).toBe('x.pt: not a torch.save file (not a zip archive)');
    // data.pkl on its own: the plain pickle reader refuses its persistent ids
    const pkl = new AdmZip(path.join(dir, 'state.pt')).getEntry('state/data.pkl')!.getData();
    expect(() => io.decodePickle(pkl, 'data.pkl')).toThrow(/^data\.pkl: refused the global 'torch\._utils\._rebuild_tensor_v2'.*\(a torch\.save file: read it with nn\.io\.loadPt\)$/);
  });
});
