import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/** TypeScript in components (Svelte 5, runes). */
export default {
  preprocess: vitePreprocess(),
};
