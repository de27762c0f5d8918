import js from '@eslint/js';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'out/', '.gpu-pack/', '.gpu-bundle/', 'test-results/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...svelte.configs.recommended,
  {
    rules: {
      // PyTorch names (requires_grad, log_softmax) are the public API: no camelCase rule.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Svelte components and rune modules (*.svelte.ts), with TypeScript inside.
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: { parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.svelte'] }, globals: globals.browser },
    // State here is immutable values replaced whole (a new Map, a new project), not mutated collections.
    rules: { 'svelte/prefer-svelte-reactivity': 'off' },
  },
  {
    // The renderer talks to the engine only through the protocol (and its host client): no engine internals in the page.
    files: ['renderer/**/*.ts', 'renderer/**/*.svelte'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{
          regex: '(^|/)engine/(?!protocol(\\.ts)?$)',
          message: 'The renderer imports only engine/protocol.ts of the engine (and renderer/host for the client).',
        }],
      }],
    },
  },
);
