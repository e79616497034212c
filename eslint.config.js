import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Imports a layer may not make: Node's APIs (the core also runs in a browser) and layers above it. */
function layer(files, forbidden) {
  return {
    files,
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*'], message: 'The core runs in a browser too: Node APIs belong in src/cli/.' },
            ...forbidden.map((dir) => ({
              group: [`**/${dir}/*`, `**/${dir}/**`],
              message: `Dependencies point down (cli -> session -> check -> kernel -> hw): this layer may not import ${dir}/.`,
            })),
          ],
        },
      ],
    },
  };
}

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'web/dist/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  layer(['src/hw/**/*.ts'], ['kernel', 'check', 'session', 'cli']),
  layer(['src/kernel/**/*.ts'], ['check', 'session', 'cli']),
  layer(['src/check/**/*.ts'], ['session', 'cli']),
  layer(['src/session/**/*.ts'], ['cli']),
  {
    files: ['bin/*', '**/*.js', '**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
);
