// Preloaded (`node --expose-gc --import tsx --import <this file>`) into EVERY target
// server the harness starts, peers and orchard alike. It changes nothing in the
// server: on SIGUSR2 it runs a full GC (when --expose-gc is set) and writes
// process.memoryUsage() to $ORCHARD_BENCH_PROBE_FILE, so the harness can read live
// heap and post-GC RSS of any Node-based relay without knowing its internals.
import { renameSync, writeFileSync } from 'node:fs'

const file = process.env.ORCHARD_BENCH_PROBE_FILE
if (file) {
  let seq = 0
  process.on('SIGUSR2', () => {
    seq++
    const gc = (globalThis as { gc?: () => void }).gc
    let gcRan = false
    if (typeof gc === 'function') {
      gc()
      gcRan = true
    }
    const m = process.memoryUsage()
    const tmp = `${file}.tmp`
    writeFileSync(tmp, JSON.stringify({ seq, gcRan, rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers }))
    renameSync(tmp, file)
  })
}
