// The suite as `npm run mutate` (StrykerJS, stryker.config.json) runs it against each mutant: the specs that run
// the mutated sources in-process. Left out: specs that spawn the built CLI, examples or packages (they run
// dist/, which a mutant of src/ does not reach), the leak and install checks, and native-only specs.
import { defineConfig, mergeConfig } from 'vitest/config';
import base from './vitest.config.mts';

export default mergeConfig(base, defineConfig({
  test: {
    exclude: [
      'test/install.spec.ts', 'test/examples.spec.ts', 'test/cli.spec.ts', 'test/atomic-save.spec.ts', 'test/leak.spec.ts',
      'test/process.spec.ts', 'test/fuzz.spec.ts', 'test/native-args.spec.ts', 'test/threads.spec.ts',
      'test/elementwise-threads.spec.ts', 'test/plot.spec.ts', 'test/native-loaded.spec.ts',
    ],
  },
}));
