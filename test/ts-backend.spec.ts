// The TS backend as src/backend/ts/index.ts wires it: named 'ts' (backendInfo() tells the backends apart by the
// name), and every kernel of the spec present and behind its argument checks, which refuse a call before the kernel
// runs. (The checks themselves: backend-checks.spec.ts; the kernels' values: reference-grid.spec.ts.)
import { describe, expect, it } from 'vitest';
import { backendInfo, getBackend, setBackend, tsBackend } from '../src/backend/index';
import { kernelNames } from '../src/backend/spec';

describe('the TS backend object', () => {
  it("is named 'ts', and backendInfo() reports it so", () => {
    expect(tsBackend.name).toBe('ts');
    const before = getBackend();
    setBackend('ts');
    try {
      expect(backendInfo()).toMatchObject({ name: 'ts', isa: null, threads: 1 });
    } finally {
      setBackend(before.name);
    }
  });

  it('has every kernel of the spec, each checking its arguments first', () => {
    const kernels = tsBackend as unknown as Record<string, (...args: unknown[]) => unknown>;
    expect(Object.keys(kernels).filter((k) => k !== 'name').sort()).toEqual([...kernelNames].sort());
    for (const name of kernelNames) {
      expect(() => kernels[name](), name).toThrow(new RegExp(`^${name}\\(.*\\): expected \\d+ arguments, got 0$`));
    }
    const out = new Float64Array(4);
    kernels.gemm(false, false, 2, 2, 1, 1, Float64Array.of(1, 2), Float64Array.of(3, 4), 0, out);
    expect(Array.from(out)).toEqual([3, 4, 6, 8]);
  });
});
