import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.spec.ts'],
    // Separate processes: the native addon and its thread pool stay out of worker_threads.
    pool: 'forks',
    // Timeouts only catch hangs: generous, so that a loaded 2-core CI machine never fails a slow test by chance.
    testTimeout: 180_000,
    hookTimeout: 180_000,
  },
});
