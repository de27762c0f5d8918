import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'out/', '.gpu-pack/', '.gpu-bundle/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      // PyTorch names (requires_grad, log_softmax) are the public API: no camelCase rule.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
);
