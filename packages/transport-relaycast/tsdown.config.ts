import { defineConfig } from 'tsdown'

// ESM and CommonJS side by side, like client/workspace/protocol: Pear's Electron main
// process is bundled as CommonJS with its dependencies left external, so it require()s
// this package. @relaycast/sdk (a peer, never bundled: its tarball carries no licence) is
// ESM-only; the CommonJS build require()s it, which Node 20.19+ and Electron's Node do.
export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  fixedExtension: true,
  platform: 'node',
  target: 'node20'
})
