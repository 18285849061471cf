import { availableParallelism } from 'node:os';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { defineConfig } from 'vitest/config';

// The spec files that take longest, longest first (seconds on a quiet 2-core CI machine, 2026-12-03: `npm test`,
// then under ASan where it differs). They start first, so that none of them starts last and runs on while the other
// worker has nothing left; in a fresh clone (CI) vitest knows no durations and would start them in whatever order
// it lists the files, as it did install.spec (257 s) two minutes into the run.
const longestFirst = [
  'install', // 257
  'dispose', // 4.6; ASan 32
  'workers', // 30; ASan 30
  'reference-grid', // 15; ASan 21
  'elementwise-threads', // 5.3; ASan 17
  'atomic-save', // 15
  'cli', // 14
  'safetensors', // 13
  'examples', // 13
  'result-memory', // 12; ASan 13
  'process', // 10
  'threads', // 4; ASan 9.2
  'ops-reduce-shape', // 4.9; ASan 7.1
  'conv', // 4.3; ASan 6.1
  // fuzz.spec took 84 s (ASan 123) before batchNormBackward and softmaxBackward stopped walking 2^30 empty planes
];
const rank = (spec: TestSpecification) => {
  const name = /([^/\\]+)\.spec\.ts$/.exec(spec.moduleId)?.[1] ?? '';
  const i = longestFirst.indexOf(name);
  return i < 0 ? longestFirst.length : i;
};

/** vitest's order (failed, then longer, first, by its cache of earlier runs), with the files above put first. */
class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    return (await super.sort(files)).sort((a, b) => rank(a) - rank(b));
  }
}

export default defineConfig({
  test: {
    include: ['test/**/*.spec.ts'],
    // Separate processes: the native addon and its thread pool stay out of worker_threads.
    pool: 'forks',
    // Two spec files at a time at least. vitest's default (one worker per CPU, less one for itself) runs the files one
    // after another on a 2-core machine such as CI's, where the per-file start-up, the spawned builds and the
    // single-threaded TS kernels then leave the second core idle most of the time.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    sequence: { sequencer: LongestFirst },
    // Timeouts only catch hangs: generous, so that a loaded 2-core CI machine never fails a slow test by chance.
    testTimeout: 180_000,
    hookTimeout: 180_000,
  },
});
