import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vite'

/** The ceiling page, built like the observer (no inline script) into bench/observer/artifacts. */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  logLevel: 'warn',
  build: { outDir: fileURLToPath(new URL('../artifacts/ceiling-dist', import.meta.url)), emptyOutDir: true, target: 'es2022', modulePreload: { polyfill: false } }
})
