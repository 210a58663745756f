/**
 * FILE-5 through the file-system seam: every durable write is synced before it is
 * renamed into place, the directory is synced after the rename, and the store reports a
 * save durable (flush resolves, 'saved' fires) only after both fsyncs returned.
 */
import { basename, join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { PearStore } from './PearStore.js'
import { nodeDurableFs, writeAtomic, type DurableFs } from './file-io.js'
import { recordingLogger, tempDir } from './testing/index.js'

const cleanups: Array<() => void | Promise<void>> = []
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn()
})

/** The real file system, with every step logged (and a hook run when a step starts). */
function watchedFs(log: string[], onStep: (step: string) => Promise<void> | void = () => undefined): DurableFs {
  const name = (path: string) => (basename(path).endsWith('.tmp') ? 'tmp' : basename(path) === 'projects.json' ? 'file' : 'dir')
  return {
    mkdir: (path) => nodeDurableFs.mkdir(path),
    open: async (path, flags) => {
      const handle = await nodeDurableFs.open(path, flags)
      const what = name(path)
      return {
        writeFile: async (text) => {
          log.push(`write ${what}`)
          await handle.writeFile(text)
        },
        sync: async () => {
          await onStep(`sync ${what}`)
          await handle.sync()
          log.push(`sync ${what}`)
        },
        close: () => handle.close()
      }
    },
    rename: async (from, to) => {
      await nodeDurableFs.rename(from, to)
      log.push(`rename ${name(from)}->${name(to)}`)
    },
    unlink: (path) => nodeDurableFs.unlink(path)
  }
}

describe('durable writes through the seam', () => {
  it('[FILE-5] a write is synced before its rename, and the directory after it', async () => {
    const { dir, cleanup } = tempDir()
    cleanups.push(cleanup)
    const log: string[] = []
    await writeAtomic(join(dir, 'projects.json'), '{}', watchedFs(log))
    expect(log).toEqual(['write tmp', 'sync tmp', 'rename tmp->file', 'sync dir'])
  })

  it('[FILE-5] every save is reported durable only after both of its fsyncs returned', async () => {
    const { dir, cleanup } = tempDir()
    cleanups.push(cleanup)
    const log: string[] = []
    let durable = 0
    // At the start of each fsync, nothing written by it may already have been reported durable.
    const reportedAtSync: number[] = []
    const store = new PearStore({
      file: join(dir, 'projects.json'),
      logger: recordingLogger(),
      saveDelayMs: 1,
      fs: watchedFs(log, () => void reportedAtSync.push(durable))
    })
    cleanups.push(() => store.close())
    store.on('saved', () => log.push('saved'))
    for (let n = 1; n <= 3; n++) {
      store.addProject(`p${n}`, `/src/p${n}`)
      await store.flush()
      log.push('flushed')
      durable = n
    }
    const expected = ['write tmp', 'sync tmp', 'rename tmp->file', 'sync dir', 'saved', 'flushed']
    expect(log).toEqual([...expected, ...expected, ...expected])
    expect(reportedAtSync).toEqual([0, 0, 1, 1, 2, 2])
  })
})
