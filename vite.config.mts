/**
 * Vite serves and builds the browser demo (demos/browser/). The page imports `tfjs-neural-de` by
 * name and vite resolves it as a package referring to itself: through package.json's `exports`,
 * with the `browser` and `import` conditions, to dist/tfjs-neural-de.esm.mjs (made by
 * `npm run build`), as it would for an app with the package installed. (No alias to the
 * repository folder: a folder import skips `exports` and would take the UMD `browser` field.)
 *
 *   npm run demo:browser      # dev server on http://localhost:5173
 *   npm run build:browser     # static build in demo-output/browser/site (used by the browser tests)
 */
import { defineConfig } from 'vite';

export default defineConfig({
  root: 'demos/browser',
  base: './',
  build: {
    outDir: '../../demo-output/browser/site',
    emptyOutDir: true,
    // The browser tests read the source map to check which build of the package was bundled.
    sourcemap: true,
    // tfjs is large; one chunk is fine for a demo page.
    chunkSizeWarningLimit: 4096,
  },
  server: { port: 5173 },
  preview: { port: 4173 },
});
