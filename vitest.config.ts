import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vitest/config';

// Dawn reaches Mesa's software GPU through EGL without a display; EGL reads this from the real
// process environment, so it must be set here, before the test workers start.
process.env.EGL_PLATFORM ??= 'surfaceless';

export default defineConfig({
  // Compiles the renderer's rune modules (*.svelte.ts) for its unit tests.
  plugins: [svelte({ configFile: false })],
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'threads',
  },
});
