/**
 * FILE-11 in the process that runs the stores: when the event loop empties (Node's
 * `beforeExit`) every open store with a save pending saves, a closed store no longer
 * counts, and once the last store is closed the process carries no listener of ours.
 * `beforeExit` is emitted by hand here: it is the event Node emits when the loop empties.
 */
import { readFileSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import type { PearStore } from '@orchard/workspace'
import { nodeDurableFs, type DurableFs } from '@orchard/workspace/testing'
import { cleanupAll, openStore, sampleText, tempProjectsFile } from './harness/store-files.js'

afterEach(cleanupAll)

const nextSave = (store: PearStore) => new Promise<void>((resolve) => store.once('saved', () => resolve()))
/** The real file system, noting when a save starts (its first step makes the folder). */
function watchedFs(): { fs: DurableFs; started: () => number } {
  let started = 0
  const fs: DurableFs = {
    ...nodeDurableFs,
    mkdir: (path) => {
      started++
      return nodeDurableFs.mkdir(path)
    }
  }
  return { fs, started: () => started }
}

const infraChannels = (file: string) => JSON.parse(readFileSync(file, 'utf8')).projects[1].channels as string[]

describe('FILE-11: saving when the event loop empties', () => {
  it('[FILE-11] a store whose save is still waiting on its debounce starts it when the event loop empties, without flush or close', async () => {
    const file = tempProjectsFile(sampleText)
    const { fs, started } = watchedFs()
    const { store, saves } = openStore(file, { saveDelayMs: 60_000, fs })
    store.addProjectChannel('infra', 'ops')
    const saved = nextSave(store)
    expect(started()).toBe(0)
    // The save starts within the emit, not when the debounce (capped at a second) runs out.
    process.emit('beforeExit', 0)
    expect(started()).toBe(1)
    await saved
    expect(saves()).toBe(1)
    expect(infraChannels(file)).toEqual(['general', 'ops'])
  })

  it('[FILE-11] closing one store keeps the exit save of the others; closing the last leaves no beforeExit listener behind', async () => {
    const before = process.listenerCount('beforeExit')
    const first = openStore(tempProjectsFile(sampleText)).store
    const secondFile = tempProjectsFile(sampleText)
    const { fs, started } = watchedFs()
    const second = openStore(secondFile, { saveDelayMs: 60_000, fs }).store
    expect(process.listenerCount('beforeExit')).toBe(before + 1)

    await first.close()
    expect(process.listenerCount('beforeExit')).toBe(before + 1)
    second.addProjectChannel('infra', 'ops')
    const saved = nextSave(second)
    process.emit('beforeExit', 0)
    expect(started()).toBe(1)
    await saved
    expect(infraChannels(secondFile)).toEqual(['general', 'ops'])

    await second.close()
    expect(process.listenerCount('beforeExit')).toBe(before)
  })
})
