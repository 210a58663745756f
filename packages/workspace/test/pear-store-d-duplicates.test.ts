/**
 * PEAR-14 with FILE-14: a saveStore of data loaded before another process's write, that
 * changes nothing, writes nothing, even when the duplicates it keeps (its own and one that
 * arrived since) come to it out of order. Written against the survivors of a Stryker run
 * over PearStore.ts lines 783-896 (TESTING.md, session 5).
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { PearStore } from '../src/index.js'
import { recordingLogger, tempDir } from '../src/testing/index.js'
import { pearEntry } from './harness/store-files.js'

const cleanups: Array<() => void | Promise<void>> = []
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn()
})

/** A project as Pear writes it (every key, in its loader's order: a save keeps that order, PEAR-15). */
const project = (id: string, name: string) => pearEntry(id, name, `/src/${id}`)

describe('duplicates kept by a saveStore', () => {
  it('[PEAR-14] [FILE-14] a saveStore that changes nothing writes nothing, though a duplicate arrived before its own one since its load', async () => {
    const { dir, cleanup } = tempDir()
    cleanups.push(cleanup)
    const file = join(dir, 'projects.json')
    const p = project('p', 'P')
    const r = project('r', 'R')
    const secondP = project('p', 'P copy 2')
    writeFileSync(file, JSON.stringify({ projects: [p, project('q', 'Q'), r, secondP], activeProjectId: null }, null, 2))
    const store = new PearStore({ file, logger: recordingLogger(), saveDelayMs: 5 })
    cleanups.push(() => store.close())
    let saves = 0
    store.on('saved', () => saves++)
    const data = store.loadStore()

    // Another program replaces Q with a second copy of P, ahead of the one the caller holds.
    const firstP = project('p', 'P copy 1')
    writeFileSync(file, JSON.stringify({ projects: [p, firstP, r, secondP], activeProjectId: null }, null, 2))
    expect(store.loadStore().projects.map((entry) => entry.name)).toEqual(['P', 'P copy 1', 'R', 'P copy 2'])
    await store.flush()
    expect(saves).toBe(1)
    const written = readFileSync(file, 'utf8')

    store.saveStore(data)
    expect(store.loadStore().projects.map((entry) => entry.name)).toEqual(['P', 'P copy 1', 'R', 'P copy 2'])
    await store.flush()
    expect(saves).toBe(1)
    expect(readFileSync(file, 'utf8')).toBe(written)
  })
})
