// The suite as scripts/test-asan.js runs it against the ASan+UBSan build of the addon. Under the sanitizers each
// spec file's own process (the base config's isolation) costs seconds of start-up and imports for nothing it could
// report, so the files share their worker process (isolate: false: one worker runs the files one after another in
// one process). One worker, not the base config's two: with two, workers.spec's setThreads race (5 JS threads with
// their pools, in lock step) once waited over 30 s for a round under ASan beside another file (CI, 2026-12-02). test/shared-process-setup.ts gives each file what a fresh process would have had: the
// backend, ISA and thread count of first load, the environment variables, and no mocks left over.
// A sanitizer report still ends the run: it aborts the worker (halt_on_error, abort_on_error), which vitest reports
// as an error of the run, and the run exits non-zero.
import { type ViteUserConfig, defineConfig, mergeConfig } from 'vitest/config';
import base from './vitest.config.mts';

const config: ViteUserConfig = mergeConfig(base, defineConfig({
  test: {
    isolate: false,
    maxWorkers: 1,
    setupFiles: ['test/shared-process-setup.ts'],
  },
}));

export default config;
