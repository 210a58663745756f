import { readFileSync } from 'node:fs'
import { defineConfig } from 'tsdown'

const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as { version: string }

// The command only: plain Node runs dist/bin.mjs (no tsx at run time). Each command's
// module is its own chunk, loaded when that command runs, so `orchard invite` never loads
// the relay and SQLite.
export default defineConfig({
  entry: ['src/bin.ts'],
  format: ['esm'],
  dts: false,
  sourcemap: true,
  fixedExtension: true,
  platform: 'node',
  target: 'node20',
  define: { __ORCHARD_VERSION__: JSON.stringify(version) }
})
