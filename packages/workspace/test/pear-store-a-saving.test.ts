/**
 * When and how a store saves projects.json: an update still waiting for the one before it,
 * a save that fails, the lock's stale time and the debounce the caller chose, and a process
 * that exits without flushing. Written against the survivors of a Stryker run over
 * PearStore.ts lines 1-352 (the constructor's writer setup; TESTING.md, session 5).
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, utimesSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import { nodeDurableFs, type DurableFs } from '@orchard/workspace/testing'
import { memoryStore } from './harness/fixtures.js'
import { storeFiles } from './harness/store-files.js'

const { setup, open } = storeFiles()
const repo = fileURLToPath(new URL('../../../', import.meta.url))

/** Two updates of one project: its creation, then a rename that cannot apply without it. */
function creationThenRename(): { creation: Uint8Array; rename: Uint8Array } {
  const source = memoryStore(7)
  const updates: Uint8Array[] = []
  source.doc.on('updateV2', (update: Uint8Array) => updates.push(update))
  const { id } = source.addProject('Before the rename', '/src/pending')
  source.updateProject(id, { name: 'Renamed' })
  expect(updates).toHaveLength(2)
  return { creation: updates[0]!, rename: updates[1]! }
}

describe('updates waiting for the one before them', () => {
  it('[FILE-14] a provider\'s update that waits for an earlier one is saved, so a restart still has it; merging it from the file writes nothing', async () => {
    const { creation, rename } = creationThenRename()
    const { file } = setup()
    const first = open(file)
    Y.applyUpdateV2(first.store.doc, rename, 'relay')
    // Nothing visible yet: the rename has no project to apply to.
    expect(first.store.loadStore().projects).toEqual([])
    await first.store.flush()
    expect(first.saves()).toBe(1)
    await first.store.close()

    // A restart: the rename comes back from the file, and applies once its creation arrives.
    const a = open(file)
    const b = open(file)
    Y.applyUpdateV2(b.store.doc, creation, 'relay')
    expect(b.store.loadStore().projects.map((project) => project.name)).toEqual(['Renamed'])
    await b.store.flush()
    expect(a.store.loadStore().projects.map((project) => project.name)).toEqual(['Renamed'])
    // What a merged from b's file is in that file already: a has nothing to write.
    await a.store.flush()
    expect(a.saves()).toBe(0)
  })
})

describe('a save that fails', () => {
  it('[FILE-17] is reported with its cause, flush rejects, and the change is written by the next save', async () => {
    const { file } = setup()
    let failures = 1
    const fs: DurableFs = {
      ...nodeDurableFs,
      rename: async (from, to) => {
        if (failures-- > 0) throw new Error('EROFS: read-only file system')
        await nodeDurableFs.rename(from, to)
      }
    }
    const { store, errors, logger } = open(file, { fs, saveDelayMs: 60_000 })
    store.addProject('Kept', '/src/kept')
    await expect(store.flush()).rejects.toThrow('EROFS: read-only file system')
    expect(errors).toEqual([{ kind: 'save-failed', file, message: 'could not save it: EROFS: read-only file system' }])
    expect(store.problems).toEqual(errors)
    expect(logger.lines).toEqual([`error [orchard] ${file}: could not save it: EROFS: read-only file system`])
    expect(existsSync(file)).toBe(false)
    await store.flush()
    expect(JSON.parse(readFileSync(file, 'utf8')).projects.map((project: { name: string }) => project.name)).toEqual(['Kept'])
  })
})

describe('the writer\'s options', () => {
  it('[FILE-4] a lock older than lockStaleMs is broken, though the default stale time (10 s) has not passed', async () => {
    const { file } = setup()
    const lock = `${file}.lock`
    mkdirSync(lock)
    const threeSecondsAgo = new Date(Date.now() - 3_000)
    utimesSync(lock, threeSecondsAgo, threeSecondsAgo)
    // The clock stands still, so only the 2 s stale time the store was given can make this lock stale.
    vi.useFakeTimers({ toFake: ['Date'] })
    try {
      const { store, errors } = open(file, { lockStaleMs: 2_000 })
      store.addProject('After a crash', '/src/crash')
      await store.flush()
      expect(JSON.parse(readFileSync(file, 'utf8')).projects.map((project: { name: string }) => project.name)).toEqual(['After a crash'])
      expect(errors).toEqual([])
    } finally {
      vi.useRealTimers()
    }
  }, 30_000)

  it('[FILE-4] a save waits saveDelayMs after a change (the debounce the caller chose), then writes', async () => {
    const { file } = setup()
    const steps: string[] = []
    const fs: DurableFs = { ...nodeDurableFs, mkdir: (path) => (steps.push('mkdir'), nodeDurableFs.mkdir(path)) }
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] })
    try {
      const { store } = open(file, { fs, saveDelayMs: 500 })
      store.addProject('Debounced', '/src/debounced')
      // A save starts with its folder (FILE-13); none has started 100 ms after the change.
      vi.advanceTimersByTime(100)
      expect(steps).toEqual([])
      vi.advanceTimersByTime(400)
      expect(steps).toEqual(['mkdir'])
      await store.flush()
      expect(JSON.parse(readFileSync(file, 'utf8')).projects.map((project: { name: string }) => project.name)).toEqual(['Debounced'])
    } finally {
      vi.useRealTimers()
    }
  })
})

describe('exiting without flush', () => {
  it('[FILE-11] a process that ends with twelve stores unsaved saves each of them, with one exit listener (no listener-leak warning)', () => {
    const { dir } = setup()
    // Runs the sources under tsx (not the build, as the other exit test does), so a change to
    // PearStore.ts is what this process runs.
    const script = `
      import { join } from 'node:path'
      import { PearStore } from ${JSON.stringify(join(repo, 'packages/workspace/src/PearStore.ts'))}
      const dir = ${JSON.stringify(dir)}
      for (let n = 0; n < 12; n++) {
        const store = new PearStore({ file: join(dir, 'projects-' + n + '.json'), saveDelayMs: 60_000, logger: { warn() {}, error() {} } })
        store.addProject('Saved on exit ' + n, '/src/exit-' + n)
      }
      console.log('beforeExit listeners: ' + process.listenerCount('beforeExit'))
    `
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: repo, encoding: 'utf8', timeout: 20_000 })
    expect(run.status, run.stderr).toBe(0)
    expect(run.stdout).toContain('beforeExit listeners: 1')
    expect(run.stderr).not.toContain('MaxListenersExceededWarning')
    for (let n = 0; n < 12; n++) {
      const saved = JSON.parse(readFileSync(join(dir, `projects-${n}.json`), 'utf8'))
      expect(saved.projects.map((project: { name: string }) => project.name)).toEqual([`Saved on exit ${n}`])
    }
  }, 30_000)
})
