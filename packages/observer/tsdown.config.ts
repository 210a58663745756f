import { defineConfig } from 'tsdown'

// The Node entry only (where the built page is, and the invite-link helpers); the page
// itself is Vite's (vite.config.ts -> dist/). It goes to lib/, not dist/: the relay serves
// dist/ wholesale as the page, and Node code, declarations and maps have no place there.
// lib/ sits beside src/, so `new URL('../dist', import.meta.url)` finds the page from both.
export default defineConfig({
  entry: { index: 'src/dist-path.ts' },
  outDir: 'lib',
  format: ['esm'],
  dts: true,
  sourcemap: true,
  fixedExtension: true,
  platform: 'node',
  target: 'node20'
})
