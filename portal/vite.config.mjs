import { defineConfig } from 'vite';

// The platform serves dist/ at / (it lands in the portal jar under static/); routing is by hash,
// so every asset path is relative and no server fallback is needed.
export default defineConfig({
  base: './',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    assetsInlineLimit: 0,
  },
  server: {
    // `npm run dev` against a platform on :8080 (or AIRLOCK_URL).
    proxy: { '/api': process.env.AIRLOCK_URL ?? 'http://localhost:8080' },
  },
});
