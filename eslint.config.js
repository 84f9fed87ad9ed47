// typescript-eslint flat config (modelled on Temporal's): type-aware rules for promises,
// import cycles banned, drivers and tasks barred from transports/timers/Math.random.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { importX } from 'eslint-plugin-import-x';
import globals from 'globals';

const transportImports = {
  patterns: [
    {
      group: [
        '@optfleet/worker',
        '@optfleet/coordinator',
        '@grpc/*',
        'nats',
        '@nats-io/*',
        'piscina',
        'prom-client',
        'node:net',
        'node:timers',
        'node:timers/*',
        '**/transport/**',
      ],
      message: 'algorithm drivers and tasks never see a transport, a pool, metrics or timers',
    },
  ],
};

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'proto/src/gen/**', 'bench/results/**', 'eslint.config.js', 'vitest.config.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { ...globals.node },
      parserOptions: { projectService: { allowDefaultProject: ['cli/bin/*.js'] }, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { 'import-x': importX },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      eqeqeq: ['error', 'always'],
      'import-x/no-cycle': 'error',
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['@optfleet/*/src/*', '@optfleet/*/dist/*'], message: 'import packages through their entry point' }] },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'it', property: 'only', message: 'no focused tests' },
        { object: 'describe', property: 'only', message: 'no focused tests' },
        { object: 'test', property: 'only', message: 'no focused tests' },
      ],
    },
  },
  {
    files: ['coordinator/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['@optfleet/worker', '@optfleet/worker/*'], message: 'coordinator and worker never import each other' }] },
      ],
    },
  },
  {
    files: ['worker/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@optfleet/coordinator', '@optfleet/coordinator/*'], message: 'coordinator and worker never import each other' },
          ],
        },
      ],
    },
  },
  {
    files: ['coordinator/src/algorithms/**/*.ts', 'worker/src/tasks/**/*.ts', 'worker/src/kernels/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', transportImports],
      'no-restricted-properties': [
        'error',
        { object: 'Math', property: 'random', message: 'use KeyedRng (seed, round, shard, purpose): results must be reproducible' },
      ],
      'no-restricted-globals': ['error', 'setTimeout', 'setInterval', 'setImmediate', 'Date'],
    },
  },
);
