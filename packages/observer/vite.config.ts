/**
 * Builds the observer page ahead of time into dist/ (the relay serves it; no dev server
 * at run time). One JS and one CSS file under assets/ with hashed names, no inline script
 * (the relay's CSP forbids it), no source maps shipped.
 */
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vite'

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  logLevel: 'warn',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    // Everything inlined as data: would need a looser CSP; nothing is, at 0.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    reportCompressedSize: false
  }
})
