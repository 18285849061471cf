// The kernel spec (src/backend/spec.ts) and what derives from it: the generated files are current, every list of
// kernels (TS backend, addon exports, fuzz signatures) is the spec's, and every rule the spec states is enforced
// by every backend with the same error, word for word.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { getBackend, nativeAddon, nativeAvailable, tsBackend } from '../src/backend/index';
import { ADDON_ASYNC, ADDON_CONTROLS, ADDON_OPTIONAL, missingExports } from '../src/backend/native';
import * as spec from '../src/backend/spec';
import { type ArgSpec, type KernelSpec, kernelNames, kernels, parseProduct, parseRange } from '../src/backend/spec';
import { backends, rng, useBackend } from './helpers';
import { signatures, validCall } from './fuzz-cases';

const root = path.join(__dirname, '..');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const gen = require('../scripts/gen-kernels.js') as { generate(s: typeof spec): Record<string, string> };

describe('the kernel spec', () => {
  it('the generated files are what `npm run gen` writes from the spec', () => {
    const stale = Object.entries(gen.generate(spec))
      .filter(([file, content]) => fs.readFileSync(path.join(root, file), 'utf8') !== content)
      .map(([file]) => file);
    expect(stale, 'run `npm run gen` and commit the result').toEqual([]);
  });

  it('the TS backend has exactly the spec\'s kernels', () => {
    expect(Object.keys(tsBackend).filter((k) => k !== 'name').sort()).toEqual([...kernelNames].sort());
  });

  it.skipIf(!nativeAvailable())('the addon exports exactly the spec\'s kernels and its controls', () => {
    const exported = Object.keys(nativeAddon()).sort();
    expect(exported).toEqual([...kernelNames, ...ADDON_CONTROLS, ...ADDON_OPTIONAL, ...ADDON_ASYNC].sort());
  });

  it('the fuzzer has a signature for every kernel of the spec and the controls, and no other', () => {
    expect(Object.keys(signatures).sort()).toEqual([...kernelNames, ...ADDON_CONTROLS, ...ADDON_OPTIONAL, ...ADDON_ASYNC].sort());
  });

  it('an addon that lacks a kernel is refused by name', () => {
    const addon: Record<string, unknown> = Object.fromEntries([...kernelNames, ...ADDON_CONTROLS, ...ADDON_ASYNC].map((k) => [k, () => 0]));
    expect(missingExports(addon)).toEqual([]);
    delete addon.mul;
    delete addon.avgPool2dBackward;
    expect(missingExports(addon)).toEqual(['mul', 'avgPool2dBackward']);
  });

  it('the generator refuses a spec that contradicts itself', () => {
    const bad = (k: KernelSpec) => () => gen.generate({ ...spec, kernels: { broken: k } as never });
    const ok: KernelSpec = { doc: 'x', source: 'ops', args: [{ kind: 'size', name: 'n' }, { kind: 'floats', name: 'x', length: 'n' }] };
    expect(bad(ok)).not.toThrow();
    expect(bad({ ...ok, args: [{ kind: 'size', name: 'n' }, { kind: 'floats', name: 'x', length: 'm' }] }))
      .toThrow(/'m' names no size/);
    expect(bad({ ...ok, args: [{ kind: 'size', name: 'n' }, { kind: 'floats', name: 'x', length: 'n', sameAs: ['n'] }] }))
      .toThrow(/x is not an output/);
    expect(bad({ ...ok, args: [{ kind: 'size', name: 'n' }, { kind: 'int32s', name: 'x', length: 'n' }] }))
      .toThrow(/no float array sets the dtype/);
    expect(bad({ ...ok, args: [{ kind: 'size', name: 'n' }, { kind: 'size', name: 'n' }, { kind: 'floats', name: 'x', length: 'n' }] }))
      .toThrow(/two arguments named n/);
  });
});

// ---- every rule of the spec, broken on every backend

interface Violation {
  kernel: string;
  what: string;
  args: unknown[];
  type: ErrorConstructor;
  message: string;
}

/** A valid call of a kernel with every size at least 1 and every array exactly as long as needed. */
function valid(name: string, seed: number): { args: unknown[]; sizes: Record<string, number> } {
  return validCall(signatures[name], rng(seed), { nonEmpty: true, exact: true });
}

const isArray = (a: ArgSpec) => a.kind === 'floats' || a.kind === 'int32s';

function violations(): Violation[] {
  const out: Violation[] = [];
  kernelNames.forEach((name, n) => {
    const k: KernelSpec = kernels[name];
    const { args, sizes } = valid(name, 1000 + n);
    const broken = (what: string, i: number, value: unknown, type: ErrorConstructor, message: string) => {
      const a = [...args];
      a[i] = value;
      out.push({ kernel: name, what, args: a, type, message });
    };
    const firstFloat = k.args.findIndex((a) => a.kind === 'floats' && !a.nullable);
    k.args.forEach((a, i) => {
      switch (a.kind) {
        case 'size':
          broken(`${a.name} = '3'`, i, '3', TypeError, `${a.name} must be a number, got a string`);
          broken(`${a.name} = 2^31`, i, 2 ** 31, RangeError, `${a.name} must be an integer in [0, 2^31), got 2147483648`);
          broken(`${a.name} = 1.5`, i, 1.5, RangeError, `${a.name} must be an integer in [0, 2^31), got 1.5`);
          if (a.min) broken(`${a.name} below its minimum`, i, a.min - 1, RangeError, `${a.name} must be at least ${a.min}, got ${a.min - 1}`);
          break;
        case 'number': {
          broken(`${a.name} = true`, i, true, TypeError, `${a.name} must be a number, got a boolean`);
          broken(`${a.name} = NaN`, i, NaN, RangeError, `${a.name} must be a finite number, got NaN`);
          if (!a.range) break;
          const r = parseRange(a.range);
          const outside = [r.loOpen ? r.lo : r.lo - 0.25, ...(r.hi === Infinity ? [] : [r.hiOpen ? r.hi : r.hi + 1.5])];
          for (const v of outside) broken(`${a.name} = ${v}`, i, v, RangeError, `${a.name} must be ${r.text}, got ${v}`);
          break;
        }
        case 'bool':
          broken(`${a.name} = 1`, i, 1, TypeError, `${a.name} must be a boolean, got 1`);
          break;
        case 'enum':
          broken(`${a.name} = 3`, i, 3, TypeError, `${a.name} must be a string, got 3`);
          broken(`${a.name} = 'cube'`, i, 'cube', RangeError, `${a.name} must be ${spec.enumChoices(a.enum)}, got 'cube'`);
          break;
        case 'floats': case 'int32s': {
          const x = args[i] as Float32Array;
          const expected = a.kind === 'floats' ? 'a Float32Array or Float64Array' : 'an Int32Array';
          broken(`${a.name} as an Array`, i, Array.from(x), TypeError, `${a.name} must be ${expected}, got an Array`);
          if (a.kind === 'int32s') {
            broken(`${a.name} as a Float32Array`, i, new Float32Array(x.length), TypeError, `${a.name} must be an Int32Array, got Float32Array`);
          } else if (i !== firstFloat) {
            const other = x instanceof Float32Array ? Float64Array : Float32Array;
            broken(`${a.name} of the other dtype`, i, new other(x.length), TypeError,
              `${a.name} must be a ${x.constructor.name} like the other arrays, got ${other.name}`);
          }
          if (x.length > 0) {
            broken(`${a.name} one short`, i, x.subarray(0, x.length - 1), RangeError,
              `${a.name} has ${x.length - 1} elements, expected at least ${x.length}`);
          }
          if (a.kind === 'int32s' && a.index && x.length > 0) {
            const bound = parseProduct(a.index).factors.reduce((p, f) => p * Math.floor(sizes[f.name] / f.div), 1);
            const bad = Int32Array.from(x);
            bad[x.length - 1] = bound;
            const shown = /^\w+$/.test(a.index) ? `${bound}` : `${a.index} = ${bound}`;
            broken(`${a.name} holding its bound`, i, bad, RangeError, `${a.name}[${x.length - 1}] = ${bound} is outside [0, ${shown})`);
          }
          break;
        }
      }
    });
    // memory: each output as the very same array as each other array of its length and kind
    k.args.forEach((o, j) => {
      if (!isArray(o) || !(o as { output?: boolean }).output) return;
      k.args.forEach((b, i) => {
        if (i === j || !isArray(b) || b.kind !== o.kind) return;
        const x = args[i] as Float32Array, y = args[j] as Float32Array;
        if (x.length !== y.length || x.length === 0) return;
        const a = [...args];
        a[j] = x;
        const bothOut = (b as { output?: boolean }).output;
        const named = bothOut && i > j ? b.name : o.name, other = named === o.name ? b.name : o.name;
        const sameOk = ((kernels[name].args.find((c) => c.name === named) as { sameAs?: string[] }).sameAs ?? []).includes(other);
        if (sameOk) return; // the very same array is allowed: the valid-call tests run it
        out.push({ kernel: name, what: `${o.name} the same array as ${b.name}`, args: a, type: RangeError,
          message: `${named} must not share memory with ${other}` });
      });
    });
    if (k.args.length > 0) {
      const required = spec.requiredArgs(k);
      out.push({ kernel: name, what: 'one argument too few', args: args.slice(0, required - 1), type: TypeError,
        message: `${spec.signature(name, k)}: expected ${required} arguments, got ${required - 1}` });
    }
  });
  return out;
}

const cases = violations();

describe.each(backends)('every rule of the spec, broken, on $label', (bc) => {
  it(`${cases.length} broken calls throw the spec's error, word for word`, () => {
    useBackend(bc);
    const k = getBackend() as unknown as Record<string, (...a: unknown[]) => unknown>;
    const wrong: string[] = [];
    for (const c of cases) {
      let thrown: unknown;
      try {
        k[c.kernel](...c.args);
      } catch (e) {
        thrown = e;
      }
      const said = thrown instanceof Error ? `${thrown.constructor.name}: ${thrown.message}` : `no error (${String(thrown)})`;
      if (said !== `${c.type.name}: ${c.message}`) wrong.push(`${c.kernel} ${c.what}: ${said}, expected ${c.message}`);
    }
    expect(wrong).toEqual([]);
    // every kernel, every kind of rule
    expect(new Set(cases.map((c) => c.kernel))).toEqual(new Set(kernelNames));
  });

  it('the valid calls the rules start from are accepted', () => {
    useBackend(bc);
    const k = getBackend() as unknown as Record<string, (...a: unknown[]) => unknown>;
    kernelNames.forEach((name, n) => expect(() => k[name](...valid(name, 1000 + n).args), name).not.toThrow());
  });
});

describe.each(backends)('numbers in messages as JavaScript writes them, on $label', (bc) => {
  // a number out of its range, said as String(v) says it: never 2.000000 nor 1e+21 where JS writes 1e+21
  const values = [2, 1.5, -0.25, 1e21, 123456789012345680000, -1e-7, 0.1 + 0.2 + 1, 1 / 3 + 1, -5e-324, 2 ** 53,
    -1e300, 1.7976931348623157e308, 100, 1e6 + 0.5];
  it.each(values)('momentum = %s', (v) => {
    useBackend(bc);
    const f = () => new Float32Array(2);
    expect(() => getBackend().sgdMomentum(2, f(), f(), f(), 0.1, v, false))
      .toThrow(new RangeError(`momentum must be in [0, 1], got ${String(v)}`));
  });

  it('3000 random doubles (random bit patterns: subnormals, powers of two, huge and tiny) as String(v) writes them', () => {
    useBackend(bc);
    const r = rng(77);
    const bits = new Float64Array(1), words = new Uint32Array(bits.buffer);
    const wrong: string[] = [];
    for (let i = 0; i < 3000; i++) {
      words[0] = Math.floor(r() * 2 ** 32);
      words[1] = Math.floor(r() * 2 ** 32);
      const v = bits[0];
      if (!Number.isFinite(v) || (v >= 0 && v <= 1)) continue;
      try {
        getBackend().sgdMomentum(1, new Float32Array(1), new Float32Array(1), new Float32Array(1), 0.1, v, false);
        wrong.push(`${v}: accepted`);
      } catch (e) {
        if ((e as Error).message !== `momentum must be in [0, 1], got ${String(v)}`) wrong.push((e as Error).message);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('sizes and probabilities too', () => {
    useBackend(bc);
    expect(() => getBackend().sgd(1.25e-7, new Float32Array(1), new Float32Array(1), 0.1))
      .toThrow(new RangeError('n must be an integer in [0, 2^31), got 1.25e-7'));
    expect(() => getBackend().crossEntropyProbs(1, 2, new Float64Array([0.1, 1.0000011]), new Float64Array(2), 0, null))
      .toThrow(new RangeError('probs[1] = 1.0000011 is outside [0, 1]: cross-entropy takes probabilities (e.g. a ' +
        'Softmax output); for logits use softmaxCrossEntropy'));
    expect(() => getBackend().adagrad(1, new Float32Array(1), new Float32Array(1), new Float32Array(1), 0.1, 2))
      .toThrow(new RangeError('eps must be in (0, 1], got 2'));
  });
});
