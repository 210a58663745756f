/**
 * ThreadedSqliteStorage: the same contract suites as SqliteStorage, with doc writes on a
 * worker thread; and the point of it: the event loop keeps turning during a commit.
 */
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { tempDir } from '@orchard/workspace/testing'
import { StorageError, ThreadedSqliteStorage } from '../../src/storage/index.js'
import { runDocStorageContract, runRecordStorageContract } from '../../src/storage/contract/index.js'

const { dir: root, cleanup } = tempDir('orchard-threaded-')
afterAll(cleanup)
let fileCount = 0

function threadedSetup() {
  return async () => {
    const path = join(root, `threaded-${++fileCount}.db`)
    let current = new ThreadedSqliteStorage({ path })
    return {
      storage: current,
      reopen: async () => {
        await current.close()
        current = new ThreadedSqliteStorage({ path })
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
