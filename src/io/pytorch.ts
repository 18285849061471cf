// PyTorch state dicts: the names and layouts a PyTorch model with the same layers uses. Dense's weight is (in, out)
// in nodenn and Linear's (out, in) in PyTorch; convolutions and batch norms share layouts and names; PyTorch's
// BatchNorm num_batches_tracked has no nodenn counterpart (skipped when read, left out when written: PyTorch fills
// it in when it loads a state dict without it). A PyTorch module is matched to a nodenn layer by its name when it
// is the layer's index (an nn.Sequential built like the nodenn network), by an explicit map of module names to
// layer indices, or else by position among the layers that have parameters.
import type { Layer } from '../layers/layer';
import { Dense } from '../layers/dense';
import { describeValue } from '../validate';
import { Tensor, formatShape } from '../tensor';

/** Names of PyTorch modules (the key before the parameter name: 'fc1', 'features.0') → nodenn layer indices. */
export type PytorchNames = Record<string, number>;

/** Options of fromPytorchStateDict: which PyTorch module is which layer. */
export interface FromPytorchOptions {
  /** Which PyTorch module is which layer; default: by index names, else by position. */
  names?: PytorchNames;
}

/** PyTorch state entries with no nodenn counterpart, skipped when read. */
const SKIPPED = new Set(['num_batches_tracked']);

function transpose(t: Tensor): Tensor {
  const [r, c] = t.shape, out = t.data instanceof Float64Array ? new Float64Array(r * c) : new Float32Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = t.data[i * c + j];
  return new Tensor(out, [c, r]);
}

/** The layer's parameters and buffers in PyTorch's layout (copies), by name. */
function pytorchEntries(layer: Layer): [string, Tensor][] {
  const out: [string, Tensor][] = [];
  layer.params.forEach((p, j) => out.push([layer.paramNames[j], layer instanceof Dense && layer.paramNames[j] === 'weight' ? transpose(p) : p.clone()]));
  layer.buffers.forEach((b, j) => out.push([layer.bufferNames[j], b.clone()]));
  return out;
}

/** The names and PyTorch shapes of the layer's parameters and buffers. */
function pytorchShapes(layer: Layer): [string, readonly number[]][] {
  const linear = (name: string, shape: readonly number[]) => (layer instanceof Dense && name === 'weight' ? [shape[1], shape[0]] : shape);
  return [...layer.params.map((p, j): [string, readonly number[]] => [layer.paramNames[j], linear(layer.paramNames[j], p.shape)]),
    ...layer.buffers.map((b, j): [string, readonly number[]] => [layer.bufferNames[j], b.shape])];
}

/** A state dict under PyTorch's names ('0.weight', ...) and layouts (Linear weights (out, in), copies). */
export function toPytorchStateDict(layers: readonly Layer[]): Record<string, Tensor> {
  const dict: Record<string, Tensor> = {};
  layers.forEach((l, i) => {
    for (const [name, t] of pytorchEntries(l)) dict[`${i}.${name}`] = t;
  });
  return dict;
}

/** Splits 'features.3.weight' into ['features.3', 'weight']. */
function splitKey(key: string): [string, string] {
  const dot = key.lastIndexOf('.');
  return dot < 0 ? ['', key] : [key.slice(0, dot), key.slice(dot + 1)];
}

const describeLayer = (layers: readonly Layer[], i: number) => `layer ${i} (${layers[i].name})`;

/**
 * A PyTorch state dict turned into the nodenn state dict of `layers` (names and layouts), every module checked:
 * its parameter names and shapes against the layer's. Errors name the PyTorch keys and the nodenn layers.
 */
export function fromPytorchStateDict(layers: readonly Layer[], dict: Record<string, Tensor>, opts: FromPytorchOptions = {}): Record<string, Tensor> {
  if (dict === null || typeof dict !== 'object') throw new TypeError(`state dict must be an object of tensors, got ${describeValue(dict)}`);
  const modules = new Map<string, Map<string, Tensor>>();
  for (const [key, t] of Object.entries(dict)) {
    if (!(t instanceof Tensor)) throw new TypeError(`state dict entry '${key}' must be a Tensor, got ${describeValue(t)}`);
    const [prefix, name] = splitKey(key);
    if (SKIPPED.has(name)) continue;
    if (!modules.has(prefix)) modules.set(prefix, new Map());
    modules.get(prefix)!.set(name, t);
  }
  const withParams = layers.map((l, i) => i).filter((i) => layers[i].params.length + layers[i].buffers.length > 0);
  const prefixes = [...modules.keys()];
  let assignment: [string, number][];
  if (opts.names !== undefined) {
    if (opts.names === null || typeof opts.names !== 'object') throw new TypeError(`names must be an object of module names to layer indices, got ${describeValue(opts.names)}`);
    assignment = Object.entries(opts.names).map(([prefix, i]) => {
      if (!modules.has(prefix)) throw new RangeError(`names maps '${prefix}', which the state dict has no entries of (its modules: ${prefixes.join(', ')})`);
      if (typeof i !== 'number' || !withParams.includes(i)) {
        throw new RangeError(`names maps '${prefix}' to ${describeValue(i)}, not the index of a layer with parameters (${withParams.map((k) => describeLayer(layers, k)).join(', ')})`);
      }
      return [prefix, i];
    });
    const unmapped = prefixes.filter((p) => !(p in opts.names!));
    if (unmapped.length) throw new RangeError(`the state dict's module${unmapped.length > 1 ? 's' : ''} ${unmapped.map((p) => `'${p}'`).join(', ')} ${unmapped.length > 1 ? 'are' : 'is'} not in names`);
  } else if (prefixes.length > 0 && prefixes.every((p) => /^\d+$/.test(p) && withParams.includes(Number(p)))) {
    assignment = prefixes.map((p) => [p, Number(p)]);
  } else {
    if (prefixes.length !== withParams.length) {
      throw new RangeError(`the state dict has ${prefixes.length} module${prefixes.length === 1 ? '' : 's'} with weights ` +
        `(${prefixes.map((p) => `'${p}'`).join(', ')}) but the network has ${withParams.length} layer${withParams.length === 1 ? '' : 's'} ` +
        `with parameters (${withParams.map((k) => describeLayer(layers, k)).join(', ')}); pass { names } to say which is which`);
    }
    assignment = prefixes.map((p, k) => [p, withParams[k]]);
  }
  const seen = new Map<number, string>();
  const out: Record<string, Tensor> = {};
  for (const [prefix, i] of assignment) {
    if (seen.has(i)) throw new RangeError(`'${seen.get(i)}' and '${prefix}' are both mapped to ${describeLayer(layers, i)}`);
    seen.set(i, prefix);
    const entries = modules.get(prefix)!, layer = layers[i], key = (name: string) => (prefix ? `${prefix}.${name}` : name);
    const expected = pytorchShapes(layer);
    const names = expected.map(([n]) => n);
    const extra = [...entries.keys()].filter((n) => !names.includes(n)), missing = names.filter((n) => !entries.has(n));
    if (extra.length || missing.length) {
      throw new RangeError(`'${prefix}' (${[...entries.keys()].join(', ')}) does not match ${describeLayer(layers, i)}, which has ` +
        `${names.join(', ')}${missing.length ? `; missing ${missing.map(key).join(', ')}` : ''}${extra.length ? `; unexpected ${extra.map(key).join(', ')}` : ''}`);
    }
    for (const [name, want] of expected) {
      const t = entries.get(name)!;
      if (t.shape.join() !== want.join()) {
        const linear = layer instanceof Dense && name === 'weight' ? ' (a Linear weight is (out, in))' : '';
        throw new RangeError(`'${key(name)}' has shape ${formatShape(t.shape)}, ${describeLayer(layers, i)} needs ` +
          `${formatShape(want)}${linear}`);
      }
      out[`${i}.${name}`] = layer instanceof Dense && name === 'weight' ? transpose(t) : t;
    }
  }
  return out;
}
