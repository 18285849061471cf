// A run over src/data/dataset.ts without the fit()/evaluate() tests of dataset.spec.ts (minutes per mutant on a
// loaded machine): the stryker config of `npm run mutate`, less those tests.
import config from './vitest.stryker.config.mts';

config.test!.testNamePattern = /^(?!.*(fit and evaluate on datasets on|kills at random moments of save\(\)|refuses to replace a file it may not write))/;
export default config;
