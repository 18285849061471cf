// The suite as scripts/test-asan.js runs it against the ASan+UBSan build of the addon: each spec file in its own
// process (sharing worker processes with isolate: false was tried and made augment-checks.spec order-dependent, a
// detached buffer reported as a length mismatch after another file in the same process, CI 2026-12-02), two at a
// time as in the base config (one at a time left the second core idle for seven minutes of CI); test-asan.js runs
// test/workers.spec.ts on its own afterwards, on one worker (beside another file under ASan, its setThreads race
// once waited over 30 s for a round).
// test/shared-process-setup.ts resets the backend, ISA, thread count, environment and mocks before each file.
// A sanitizer report ends the run: it aborts the worker (halt_on_error, abort_on_error), which vitest reports as an
// error of the run, and the run exits non-zero.
import { type ViteUserConfig, defineConfig, mergeConfig } from 'vitest/config';
import base from './vitest.config.mts';

const config: ViteUserConfig = mergeConfig(base, defineConfig({
  test: {
    setupFiles: ['test/shared-process-setup.ts'],
  },
}));

export default config;
