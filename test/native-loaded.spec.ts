// `npm test` runs every kernel and layer spec on the native backend too, once per ISA, but helpers.ts lists only
// the backends that load: without the addon (not built, a broken build, a bad NODENN_ADDON) every native row of
// every spec silently disappears and the suite still passes. This spec fails then, unless the run says on purpose
// that it goes without: NODENN_BACKEND=ts (the TS rows only) or NODENN_EXPECT_NATIVE=0.
import { describe, expect, it } from 'vitest';
import { nativeAddon, nativeAvailable } from '../src/backend/index';
import { loadAddon } from '../src/backend/native';
import { backends } from './helpers';

const optedOut = process.env.NODENN_BACKEND === 'ts' || process.env.NODENN_EXPECT_NATIVE === '0';

describe.skipIf(optedOut)('the native backend is under test', () => {
  it('the addon loaded, and the specs run it on every ISA this CPU supports', () => {
    const loaded = loadAddon();
    const why = 'error' in loaded ? loaded.error : '';
    expect(why, 'the native addon did not load: build it (npm run build:native), or run with NODENN_BACKEND=ts ' +
    'or NODENN_EXPECT_NATIVE=0 to test without it').toBe('');
    expect(nativeAvailable()).toBe(true);
    const isas = nativeAddon().info().supportedIsas;
    expect(isas).toContain('scalar');
    const tsRow = process.env.NODENN_TEST_ROWS === 'native' ? [] : ['ts'];
    expect(backends.map((b) => b.label)).toEqual([...tsRow, ...isas.map((i) => `native/${i}`)]);
  });
});
