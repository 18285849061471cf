// The suite as `npm run mutate` (StrykerJS, stryker.config.json) runs it against each mutant: the specs that run
// the mutated sources in-process (Stryker picks, per mutant, the tests that reached it). Left out: specs that
// only spawn the built CLI, examples, packages or bench scripts (they run dist/, which a mutant of src/ does not
// reach), the native-only thread specs, the check that the addon loaded (the runs are TS-only), and the two
// atomic-save tests whose children run dist/ (the SIGKILL rounds, the save as another user); the rest stays.
import { type ViteUserConfig, defineConfig, mergeConfig } from 'vitest/config';
import base from './vitest.config.mts';

// NODENN_MUTATE_SPECS: a comma-separated list of spec globs to run instead of the whole suite, for a run over one
// target (`NODENN_MUTATE_SPECS=test/optimizers*.spec.ts npm run mutate -- --mutate src/optimizers.ts`); a mutant
// that only the left-out specs would kill then survives, so a target's score is only final with every spec.
const only = process.env.NODENN_MUTATE_SPECS?.split(',').map((s) => s.trim()).filter(Boolean);
// NODENN_MUTATE_SKIP: a regular expression of test names to leave out as well (tests that take minutes per mutant, e.g.
// `fit and evaluate on datasets on` for a run over src/data/dataset.ts); such a run's score is a lower bound too.
const skip = process.env.NODENN_MUTATE_SKIP;

const config: ViteUserConfig = mergeConfig(base, defineConfig({
  test: {
    exclude: [
      'test/install.spec.ts', 'test/examples.spec.ts', 'test/cli.spec.ts', 'test/leak.spec.ts', 'test/process.spec.ts',
      'test/threads.spec.ts', 'test/elementwise-threads.spec.ts', 'test/native-loaded.spec.ts',
    ],
    testNamePattern: new RegExp('^(?!.*(kills at random moments of save\\(\\)|refuses to replace a file it may not write' +
      `${skip ? `|${skip}` : ''}))`),
  },
}));
// mergeConfig concatenates arrays: the list replaces the base include rather than joining it.
if (only?.length) config.test!.include = only;

export default config;
