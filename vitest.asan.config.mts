// The suite as scripts/test-asan.js runs it against the ASan+UBSan build of the addon: each spec file in its own
// process (sharing worker processes with isolate: false was tried and made augment-checks.spec order-dependent, a
// detached buffer reported as a length mismatch after another file in the same process, CI 2026-12-02), one worker
// (with two, workers.spec's setThreads race once waited over 30 s for a round under ASan beside another file).
// test/shared-process-setup.ts resets the backend, ISA, thread count, environment and mocks before each file.
// A sanitizer report ends the run: it aborts the worker (halt_on_error, abort_on_error), which vitest reports as an
// error of the run, and the run exits non-zero.
import { type ViteUserConfig, defineConfig, mergeConfig } from 'vitest/config';
import base from './vitest.config.mts';

const config: ViteUserConfig = mergeConfig(base, defineConfig({
  test: {
    maxWorkers: 1,
    setupFiles: ['test/shared-process-setup.ts'],
  },
}));

export default config;
