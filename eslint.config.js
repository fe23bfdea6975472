import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'coverage/**', 'test-artifacts/**', '.scratch/**', 'bench/results/**', '.dependency-cruiser.cjs'] },
  js.configs.recommended,
  { languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly', fetch: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly' } } },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  {
    // Tooling and product report through process.stdout / stderr or the logger, never console.
    files: ['src/**/*.ts', 'devkit/**/*.ts'],
    rules: { 'no-console': 'error' },
  },
  {
    // Node 20's V8 builds `{ ...base, more }` from a map outside its transition tree: new maps on
    // every call, 10-170x slower, young objects kept until a full GC (src/runtime/objects.ts).
    files: ['src/**/*.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: 'ObjectExpression > SpreadElement:first-child:not([argument.type="ObjectExpression"][argument.properties.length=0]) + *',
          message: 'An object literal that starts with a spread and goes on is slow on Node 20: use extend(base, extra) from src/runtime/objects.ts, Object.assign({}, …), or put a property first.',
        },
      ],
    },
  },
);
