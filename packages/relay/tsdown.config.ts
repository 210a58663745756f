import { defineConfig } from 'tsdown'

// ESM only: the relay is a server (and the CLI's library), started from ESM. The SQLite
// writer thread is its own entry at dist/sqlite-writer.worker.mjs, next to the chunk that
// starts it, so a built relay never needs tsx (the .mjs shim in src/ is for the sources).
export default defineConfig({
  entry: {
    index: 'src/index.ts',
    'testing/index': 'src/testing/index.ts',
    'sqlite-writer.worker': 'src/storage/sqlite-writer-thread.ts'
  },
  format: ['esm'],
  dts: true,
  sourcemap: true,
  fixedExtension: true,
  platform: 'node',
  target: 'node20'
})
