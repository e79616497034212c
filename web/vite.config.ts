/**
 * The web view's build: web/ is the root, the model's modules come from ../src (their `.js` imports
 * resolve to the `.ts` sources). Relative base so web/dist works from any URL path or a file server.
 */
import { defineConfig } from 'vite';

export default defineConfig({
  base: './',
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 2000 },
  server: { host: '127.0.0.1', fs: { allow: ['..'] } },
});
