/**
 * FILE-11 inside one process: the beforeExit hook starts the save of every store with a
 * change pending. (snapshot-file.integration.test.ts checks the same end to end in a child
 * process on the build, which a mutation run of the sources cannot reach.) Written against
 * the survivors of a Stryker run over PearStore.ts lines 783-896 (TESTING.md, session 5).
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { PearStore } from '../src/index.js'
import { nodeDurableFs, recordingLogger, tempDir, type DurableFs } from '../src/testing/index.js'

const cleanups: Array<() => void | Promise<void>> = []
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn()
})

describe('the event loop emptying', () => {
  it('[FILE-11] with a save pending, the store starts saving when the event loop empties, without waiting for its debounce', async () => {
    const { dir, cleanup } = tempDir()
    cleanups.push(cleanup)
    const file = join(dir, 'projects.json')
    const steps: string[] = []
    // The first step of a save is creating the folder; it is called before the save's first await.
    const fs: DurableFs = { ...nodeDurableFs, mkdir: async (path) => { steps.push('mkdir'); await nodeDurableFs.mkdir(path) } }
    const store = new PearStore({ file, fs, logger: recordingLogger(), saveDelayMs: 60_000 })
    cleanups.push(() => store.close())
    store.addProject('Saved on exit', '/a')
    expect(steps).toEqual([])
    process.emit('beforeExit', 0)
    expect(steps).toEqual(['mkdir'])
    await store.flush()
    expect(JSON.parse(readFileSync(file, 'utf8')).projects.map((project: { name: string }) => project.name)).toEqual(['Saved on exit'])
  })
})
