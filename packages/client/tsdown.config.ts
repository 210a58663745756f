import { defineConfig } from 'tsdown'

// ESM and CommonJS side by side: Pear's Electron main process is bundled as CommonJS with
// its dependencies left external, so it require()s this package (see the README).
export default defineConfig({
  entry: ['src/index.ts', 'src/browser.ts', 'src/provider.ts', 'src/testing/index.ts', 'src/pty/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  fixedExtension: true,
  platform: 'node',
  target: 'node20',
  // The testing entry's transport contract runs under the app's own vitest; bundling it
  // put ~14k lines of vitest internals into dist/testing.
  external: ['vitest']
})
