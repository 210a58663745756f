/**
 * Micro-measurement, not a test: how long one appendUpdates call takes with durability
 * 'full' vs 'normal', for a batch of 1 and of 50 small (100-byte) updates, on a temp file.
 * It informs the default durability and how much the relay should batch.
 *
 *   npx tsx packages/relay/src/storage/measure-append.ts [calls per case = 300] [directory = os.tmpdir()]
 *
 * Put the directory on the disk the relay will use: fsync cost is a property of the disk.
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { SqliteStorage, type Durability } from './SqliteStorage.js'

const calls = Number(process.argv[2] ?? 300)
const dir = mkdtempSync(join(process.argv[3] ?? tmpdir(), 'orchard-measure-append-'))
const WARMUP = 20
const UPDATE_BYTES = 100

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number
}

async function measure(durability: Durability, batch: number): Promise<{ median: number; mean: number; p90: number; p99: number }> {
  const storage = new SqliteStorage({ path: join(dir, `${durability}-${batch}.db`), durability })
  // Ten docs, so a batch of 50 looks like the relay flushing edits to several docs at once.
  const entries = Array.from({ length: batch }, (_, i) => ({ docId: `doc-${i % 10}`, update: new Uint8Array(randomBytes(UPDATE_BYTES)) }))
  const times: number[] = []
  for (let i = 0; i < WARMUP + calls; i++) {
    const start = process.hrtime.bigint()
    await storage.appendUpdates(entries)
    if (i >= WARMUP) times.push(Number(process.hrtime.bigint() - start) / 1e6)
  }
  await storage.close()
  times.sort((a, b) => a - b)
  const mean = times.reduce((sum, t) => sum + t, 0) / times.length
  return { median: percentile(times, 0.5), mean, p90: percentile(times, 0.9), p99: percentile(times, 0.99) }
}

try {
  const probe = new Database(':memory:')
  const sqliteVersion = probe.prepare('SELECT sqlite_version()').pluck().get() as string
  probe.close()
  console.log(`node ${process.version}, SQLite ${sqliteVersion}, WAL, ${calls} calls per case after ${WARMUP} warm-up, ${UPDATE_BYTES}-byte updates, dir ${dir}`)
  console.log('')
  // The mean matters as much as the median: fsync latency has a long tail, and the mean is what sets throughput.
  console.log('| durability | batch | median ms/call | mean ms | p90 ms | p99 ms | median µs/update | calls/s at mean |')
  console.log('|---|---|---|---|---|---|---|---|')
  for (const durability of ['full', 'normal'] as const) {
    for (const batch of [1, 50]) {
      const { median, mean, p90, p99 } = await measure(durability, batch)
      const perUpdate = ((median * 1000) / batch).toFixed(1)
      const ms = (t: number) => t.toFixed(3)
      console.log(`| ${durability} | ${batch} | ${ms(median)} | ${ms(mean)} | ${ms(p90)} | ${ms(p99)} | ${perUpdate} | ${Math.round(1000 / mean)} |`)
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true })
}
