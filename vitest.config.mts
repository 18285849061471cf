import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.spec.ts'],
    // Separate processes: the native addon and its thread pool stay out of worker_threads.
    pool: 'forks',
    // Two spec files at a time at least. vitest's default (one worker per CPU, less one for itself) runs the files one
    // after another on a 2-core machine such as CI's, where the per-file start-up, the spawned builds and the
    // single-threaded TS kernels then leave the second core idle most of the time.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    // Timeouts only catch hangs: generous, so that a loaded 2-core CI machine never fails a slow test by chance.
    testTimeout: 180_000,
    hookTimeout: 180_000,
  },
});
