/**
 * ThreadedSqliteStorage: the same contract suites as SqliteStorage, with doc writes on a
 * worker thread; and the point of it: the event loop keeps turning during a commit.
 * The contract suites run the built class (./built-storage.ts: the same sources, without
 * tsx in each of their dozens of writer threads); the rules below run the sources' own
 * start-up path, the .mjs shim that loads the thread's TypeScript.
 */
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { tempDir } from '@orchard/workspace/testing'
import { StorageError, ThreadedSqliteStorage } from '../../src/storage/index.js'
import { runDocStorageContract, runRecordStorageContract } from '../../src/storage/contract/index.js'
import { builtStorage } from './built-storage.js'

const built = await builtStorage()

const { dir: root, cleanup } = tempDir('orchard-threaded-')
afterAll(cleanup)
let fileCount = 0

function threadedSetup() {
  return async () => {
    const path = join(root, `threaded-${++fileCount}.db`)
    let current = new built.ThreadedSqliteStorage({ path })
    return {
      storage: current,
      reopen: async () => {
        await current.close()
        current = new built.ThreadedSqliteStorage({ path })
        return current
      },
      teardown: () => current.close()
    }
  }
}

runDocStorageContract('ThreadedSqliteStorage', threadedSetup())
runRecordStorageContract('ThreadedSqliteStorage', threadedSetup())

describe('ThreadedSqliteStorage', () => {
  it('[STORE-SQL-8] appends commit on the writer thread: the event loop keeps turning meanwhile, and reads see them after', async () => {
    const storage = new ThreadedSqliteStorage({ path: join(root, 'loop.db') })
    let ticks = 0
    const ticker = setInterval(() => ticks++, 0)
    const started = ticks
    const pending = Array.from({ length: 50 }, (_, n) => storage.appendUpdates([{ docId: 'd', update: new Uint8Array([n]) }]))
    const seqs = await Promise.all(pending)
    clearInterval(ticker)
    expect(seqs.flat()).toEqual(Array.from({ length: 50 }, (_, n) => n + 1))
    expect(ticks).toBeGreaterThan(started)
    expect((await storage.loadDoc('d'))?.updates).toHaveLength(50)
    await storage.close()
    await expect(storage.appendUpdates([{ docId: 'd', update: new Uint8Array([1]) }])).rejects.toBeInstanceOf(StorageError)
  })
})

describe('the writer thread and the process around it', () => {
  it('[STORE-SQL-8] starts under a process with a .ts preload, and keeps the process alive while it has work', async () => {
    const { execFileSync } = await import('node:child_process')
    const { fileURLToPath } = await import('node:url')
    const repo = fileURLToPath(new URL('../../../..', import.meta.url))
    const preload = fileURLToPath(new URL('./fixtures/preload.ts', import.meta.url))
    const dbPath = join(root, 'preloaded.db')
    const script = `import { ThreadedSqliteStorage } from './packages/relay/src/storage/index.ts'
const s = new ThreadedSqliteStorage({ path: ${JSON.stringify(dbPath)} })
console.log(JSON.stringify(await s.appendUpdates([{ docId: 'd', update: new Uint8Array([1]) }])))
await s.close()`
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--import', preload, '--input-type=module', '-e', script], { cwd: repo, encoding: 'utf8', timeout: 20_000 })
    expect(out.trim()).toBe('[1]')
  }, 30_000)
})
