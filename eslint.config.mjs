/**
 * ESLint (flat config): JavaScript's and typescript-eslint's recommended rules, without the
 * type-checked ones (fast, no project graph). Formatting is Prettier's job: eslint-config-prettier
 * switches off every rule that would disagree with it. `npm run lint` runs both.
 */
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import { defineConfig, globalIgnores } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  globalIgnores(['dist/', 'demo-output/', 'docs/api/', 'coverage/', '.scratch/']),
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    rules: {
      // `_name` marks a deliberately unused parameter or binding (e.g. `(_t, y) => ...`).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      // tsconfig's lib is ES2020, whose Error constructor takes no { cause } option.
      'preserve-caught-error': 'off',
    },
  },
  {
    // Build scripts and configs are CommonJS (package.json has no "type": "module").
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: globals.node },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  { files: ['**/*.mjs'], languageOptions: { globals: globals.node } },
  { files: ['demos/browser/**'], languageOptions: { globals: globals.browser } },
  prettier,
);
