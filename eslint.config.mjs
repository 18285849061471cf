// ESLint: the linter and, through @stylistic, the formatter of the TypeScript and JavaScript sources.
// `npm run lint` checks (with the C++ through clang-format), `npm run format` rewrites. The style rules describe
// the code as it is written (2 spaces, single quotes, semicolons, compact one-line blocks allowed), so that
// `eslint --fix` changes little.
import js from '@eslint/js';
import stylistic from '@stylistic/eslint-plugin';
import globals from 'globals';
import tseslint from 'typescript-eslint';

// Besides the primitives, what a template literal may print: the defaults, and Tensor (its toString names its shape).
const TEMPLATE_ALLOWED = [
  { from: 'lib', name: ['Error', 'URL', 'URLSearchParams'] },
  { from: 'file', name: 'Tensor', path: 'src/tensor.ts' },
];

const style = stylistic.configs.customize({ indent: 2, quotes: 'single', semi: true, braceStyle: '1tbs', arrowParens: true });

export default tseslint.config(
  { ignores: ['dist/', 'build/', 'build-*/', 'prebuilds/', 'coverage/', 'docs/', 'reports/', '.stryker-tmp/'] },

  js.configs.recommended,
  {
    rules: {
      'no-unused-vars': ['error', {
        argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true,
      }],
    },
  },

  // Type-aware rules on the TypeScript (tsconfig.json covers src, test, bench, examples and vitest.config.mts).
  {
    files: ['**/*.ts', '**/*.mts'],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['vitest.stryker.config.mts', 'vitest.asan.config.mts'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      'no-unused-vars': 'off',
      '@typescript-eslint/no-unused-vars': ['error', {
        argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true,
      }],
      // A promise returned from inside try must be awaited there, or its rejection escapes the catch/finally.
      '@typescript-eslint/return-await': ['error', 'in-try-catch'],
      // The public API validates what plain-JavaScript callers pass: a value the types say cannot occur (`never`)
      // is exactly what an error message must print. A Tensor prints as `Tensor((2, 3), float32)`.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNever: true, allow: TEMPLATE_ALLOWED }],
      // `const self = this` is how an `async function*` (there is no generator arrow) reaches its object.
      '@typescript-eslint/no-this-alias': ['error', { allowedNames: ['self'] }],
      // Off: async on purpose is common here (bad arguments reject like I/O errors; async generators that
      // yield without awaiting); a missing await is what no-floating-promises and await-thenable catch.
      '@typescript-eslint/require-await': 'off',
      // Cosmetic, and its fix can break the build: with TypeScript 6 it calls casts such as `v as T | null` of an
      // `unknown` v unnecessary (typescript-eslint#12249), and `eslint --fix` would remove them.
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
    },
  },
  {
    // Tests read JSON (saved files, child processes' stdout) and check it with expect(); typing every parse would
    // add casts, not safety. A failure message may print an array as `1,2,3`.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/restrict-template-expressions': ['error', {
        allowNever: true, allowArray: true, allow: TEMPLATE_ALLOWED,
      }],
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },

  // Scripts, benchmarks, examples and test fixtures: CommonJS run by Node.
  {
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: globals.node },
  },
  {
    files: ['**/*.mjs'],
    languageOptions: { sourceType: 'module', globals: globals.node },
  },

  // Formatting.
  style,
  {
    rules: {
      // 120 columns, but a warning only (shown by editors and `npx eslint .`; npm run lint/format pass --quiet):
      // --fix cannot wrap a line, and about 170 lines are longer today, string literals aside.
      '@stylistic/max-len': ['warn', {
        code: 120, ignoreStrings: true, ignoreTemplateLiterals: true, ignoreRegExpLiterals: true, ignoreUrls: true,
      }],
      '@stylistic/function-call-spacing': ['error', 'never'],
      // Type literals that wrap keep their closing brace on the last member's line: `{ a: number;\n b: number }`.
      '@stylistic/member-delimiter-style': ['error', { multilineDetection: 'last-member' }],
      // Trailing comments are set off by two spaces, as in the C++.
      '@stylistic/no-multi-spaces': ['error', { ignoreEOLComments: true }],
      '@stylistic/quotes': ['error', 'single', { avoidEscape: true, allowTemplateLiterals: 'always' }],
      '@stylistic/quote-props': ['error', 'as-needed', { keywords: false, unnecessary: false }],
      // Lines break after an operator, before `?`/`:` of a ternary, and before `|` of a union type.
      '@stylistic/operator-linebreak': ['error', 'after', { overrides: { '?': 'before', ':': 'before', '|': 'before' } }],
      // Left to the author: short statements share a line (`if (x) return y;`, `{ a(); b(); }`), lists are packed
      // to the line length, and ternaries wrap where they read best.
      '@stylistic/max-statements-per-line': 'off',
      '@stylistic/list-style': 'off',
      '@stylistic/multiline-ternary': 'off',
    },
  },
);
