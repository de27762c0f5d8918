import { defineConfig } from 'vitest/config';

// Dawn reaches Mesa's software GPU through EGL without a display; EGL reads this from the real
// process environment, so it must be set here, before the test workers start.
process.env.EGL_PLATFORM ??= 'surfaceless';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'threads',
  },
});
