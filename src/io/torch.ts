// torch.save's files (.pt, .pth, .bin): a zip archive of `<name>/data.pkl`, a pickle whose tensors refer to their
// storages by persistent id, and `<name>/data/<key>`, each storage's raw little-endian elements. The pickle is read
// by the safe reader (pickle.ts), which here also lets persistent ids name storages (and nothing else) and rebuilds
// tensors from them; it never runs anything the file names. The archive is read with adm-zip: a maintained zip
// library already in nodenn's dependency tree (through onnxruntime-node), synchronous and in memory as
// decodePickle is, with CRC checks; every entry's size is checked before it is inflated.
import { promises as fs } from 'node:fs';
import type AdmZipType from 'adm-zip';
import { PickleError, type PickleValue, decodePickleWith } from './pickle';

/** Options of loadPt. */
export interface LoadPtOptions {
  /** The largest file read, in bytes (default 2 GiB). */
  maxBytes?: number;
}

/** The most bytes data.pkl may inflate to (the tensors' data is in the storages, not in it). */
const MAX_PICKLE_BYTES = 256 * 2 ** 20;

/**
 * Reads a torch.save file held in memory: a state_dict (or a dict, list or tuple of tensors and numbers) with
 * float tensors as Tensors (float16 widened to float32) and integer and bool tensors as NumpyArrays, as
 * decodePickle gives them. `file` names it in errors (PickleErrors).
 */
export function decodePt(bytes: Uint8Array, file = '<buffer>'): PickleValue {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('bytes must be a Uint8Array');
  const fail = (why: string): never => { throw new PickleError(why, file); };
  if (bytes[0] === 0x80) {
    fail('this is torch.save\'s legacy format (PyTorch before 1.6, or _use_new_zipfile_serialization=False), which ' +
      'loadPt does not read: save it again with a recent PyTorch');
  }
  if (bytes[0] !== 0x50 || bytes[1] !== 0x4b) fail('not a torch.save file (not a zip archive)');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const AdmZip = require('adm-zip') as typeof AdmZipType;
  let entries: AdmZipType.IZipEntry[];
  try {
    entries = new AdmZip(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)).getEntries();
  } catch (e) {
    return fail(`not a readable zip archive: ${(e as Error).message}`);
  }
  const byName = new Map(entries.map((e) => [e.entryName, e]));
  const pickles = entries.filter((e) => /^[^/]+\/data\.pkl$/.test(e.entryName));
  if (pickles.length !== 1) {
    fail(`a torch.save archive holds one <name>/data.pkl, this one ${pickles.length === 0 ? 'none' : pickles.length}`);
  }
  const prefix = pickles[0].entryName.slice(0, -'data.pkl'.length);
  const read = (entry: AdmZipType.IZipEntry): Uint8Array => {
    try {
      const data = entry.getData();
      return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    } catch (e) {
      return fail(`${entry.entryName} does not read: ${(e as Error).message}`);
    }
  };
  const order = byName.get(`${prefix}byteorder`);
  if (order !== undefined && (order.header.size > 16 || Buffer.from(read(order)).toString('latin1') !== 'little')) {
    fail('the storages are not little-endian, which loadPt does not read');
  }
  if (pickles[0].header.size > MAX_PICKLE_BYTES) fail(`data.pkl inflates to more than ${MAX_PICKLE_BYTES} bytes`);
  return decodePickleWith(read(pickles[0]), file, (key, byteLength) => {
    const entry = /^\w+$/.test(key) ? byName.get(`${prefix}data/${key}`) : undefined;
    // the size the central directory declares, checked before anything is inflated
    if (entry === undefined || entry.isDirectory || entry.header.size !== byteLength) return undefined;
    const raw = read(entry);
    return raw.byteLength === byteLength ? raw : undefined;
  });
}

/** Reads a torch.save file (.pt, .pth), see decodePt; errors are PickleErrors naming the file. */
export async function loadPt(path: string, options: LoadPtOptions = {}): Promise<PickleValue> {
  if (typeof path !== 'string' || path === '') throw new TypeError(`loadPt: path must be a non-empty string`);
  if (options === null || typeof options !== 'object') throw new TypeError('loadPt: options must be an object');
  const max = options.maxBytes ?? 2 ** 31;
  if (typeof max !== 'number' || !(max > 0)) throw new RangeError(`loadPt: maxBytes must be a positive number, got ${String(max)}`);
  const { size } = await fs.stat(path);
  if (size > max) throw new PickleError(`the file has ${size} bytes, more than maxBytes ${max}`, path);
  return decodePt(await fs.readFile(path), path);
}
