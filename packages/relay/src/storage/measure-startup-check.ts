/**
 * Micro-measurement, not a test: what the start-up integrity check (STORE-SQL-10) costs.
 * Builds a relay store of about 50 MiB (docs of 1 KiB updates, as a busy workspace leaves
 * them before compaction), then times opening it with startupCheck 'none', 'quick' and
 * 'full', cold (after the file was just written) and warm, median of a few runs each.
 *
 *   npx tsx packages/relay/src/storage/measure-startup-check.ts [MiB = 50] [directory = os.tmpdir()]
 *
 * Run it on the disk the relay will use: a cold check reads the whole file.
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SqliteStorage, type StartupCheck } from './SqliteStorage.js'

const mib = Number(process.argv[2] ?? 50)
const dir = mkdtempSync(join(process.argv[3] ?? tmpdir(), 'orchard-measure-check-'))
const path = join(dir, 'relay.db')
const RUNS = 5

try {
  const build = new SqliteStorage({ path, durability: 'normal', startupCheck: 'none' })
  const update = randomBytes(1024)
  let written = 0
  for (let batch = 0; written < mib * 1024 * 1024; batch++) {
    await build.appendUpdates(Array.from({ length: 200 }, (_, i) => ({ docId: `ws-${(batch * 200 + i) % 40}/workspace`, update })))
    written += 200 * update.byteLength
  }
  await build.close()
  const size = statSync(path).size
  console.log(`store: ${(size / 1024 / 1024).toFixed(1)} MiB, ${written / 1024} updates of 1 KiB`)
  for (const check of ['none', 'quick', 'full'] as StartupCheck[]) {
    const times: number[] = []
    for (let run = 0; run < RUNS; run++) {
      const started = performance.now()
      const storage = new SqliteStorage({ path, startupCheck: check })
      times.push(performance.now() - started)
      await storage.close()
    }
    times.sort((a, b) => a - b)
    console.log(`open with startupCheck '${check}': median ${times[RUNS >> 1]?.toFixed(1)} ms (min ${times[0]?.toFixed(1)}, max ${times[RUNS - 1]?.toFixed(1)})`)
  }
} finally {
  rmSync(dir, { recursive: true, force: true })
}
