/**
 * PEAR-14 after the file is open: a project entry that repeats an earlier one's id, given to
 * `saveStore` or written by another process, is kept, saved, shown and reported (once, when
 * the id gains an entry); `removeProject` removes every entry of its id and no other.
 */
import { readFileSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import type { StoreData } from '@orchard/workspace'
import { cleanupAll, openStore, projectEntry, sampleText, tempProjectsFile } from './harness/store-files.js'

afterEach(cleanupAll)

type Entry = StoreData['projects'][number]
const entry = (id: string, name: string) => projectEntry(id, { name }) as Entry

const SHARE_HINT =
  'Pear shows both, and so does this store; only the first is shared with the workspace, the others stay in this file as they are. ' +
  'Give each project its own id to share it'

describe('PEAR-14: duplicates given to saveStore', () => {
  it('[PEAR-14] one entry repeating an id is saved, shown after a reopening, and reported in the singular with the id and what to do', async () => {
    const file = tempProjectsFile(sampleText)
    const { store, errors } = openStore(file)
    const data = store.loadStore()
    data.projects.push(entry('infra', 'Infra copy'))
    store.saveStore(data)
    expect(errors.map((problem) => [problem.kind, problem.message])).toEqual([
      ['duplicate-ids', `1 project entry has the id of an earlier project (infra). ${SHARE_HINT}`]
    ])
    await store.close()
    const reopened = openStore(file).store
    expect(reopened.loadStore().projects.map((project) => project.name)).toEqual(['Pear App', 'Infra', 'Infra copy'])
  })

  it('[PEAR-14] [PEAR-15] a duplicate given back with its keys in another order is written in that order, as Pear writes what it is given', async () => {
    const file = tempProjectsFile(sampleText)
    const { store } = openStore(file)
    const data = store.loadStore()
    data.projects.push(entry('infra', 'Infra copy'))
    store.saveStore(data)
    await store.flush()
    const again = store.loadStore()
    const copy = again.projects[2] as unknown as Record<string, unknown>
    again.projects[2] = Object.fromEntries(Object.entries(copy).reverse()) as unknown as Entry
    store.saveStore(again)
    await store.flush()
    const written = (JSON.parse(readFileSync(file, 'utf8')) as { projects: Array<Record<string, unknown>> }).projects[2]!
    expect(Object.keys(written)).toEqual(Object.keys(copy).reverse())
  })

  it('[PEAR-14] two entries repeating two ids in one save are reported in one plural message naming both ids', () => {
    const { store, errors } = openStore(tempProjectsFile(sampleText))
    const data = store.loadStore()
    data.projects.push(entry('pear-app', 'Pear copy'), entry('infra', 'Infra copy'))
    store.saveStore(data)
    expect(errors.map((problem) => problem.message)).toEqual([`2 project entries have the id of an earlier project (pear-app, infra). ${SHARE_HINT}`])
  })

  it('[PEAR-14] a second copy of an id that already has one is reported again; editing a known copy is not reported', () => {
    const { store, errors } = openStore(tempProjectsFile(sampleText))
    const first = store.loadStore()
    first.projects.push(entry('infra', 'Infra copy'))
    store.saveStore(first)
    expect(errors).toHaveLength(1)

    const second = store.loadStore()
    second.projects.push(entry('infra', 'Infra copy 2'))
    store.saveStore(second)
    expect(errors.map((problem) => problem.message)).toEqual([
      `1 project entry has the id of an earlier project (infra). ${SHARE_HINT}`,
      `1 project entry has the id of an earlier project (infra). ${SHARE_HINT}`
    ])

    const edited = store.loadStore()
    edited.projects[2]!.name = 'Infra copy, renamed'
    store.saveStore(edited)
    expect(errors).toHaveLength(2)
    expect(store.loadStore().projects.map((project) => project.name)).toEqual(['Pear App', 'Infra', 'Infra copy, renamed', 'Infra copy 2'])
  })

  it('[PEAR-14] [FILE-14] saving back what loadStore returned, duplicates included, writes nothing and reports nothing new', async () => {
    const file = tempProjectsFile(sampleText)
    const { store, saves, errors } = openStore(file)
    const data = store.loadStore()
    data.projects.push(entry('infra', 'Infra copy'))
    store.saveStore(data)
    await store.flush()
    expect(saves()).toBe(1)
    const text = readFileSync(file, 'utf8')
    store.saveStore(store.loadStore())
    await store.flush()
    expect(saves()).toBe(1)
    expect(readFileSync(file, 'utf8')).toBe(text)
    expect(errors).toHaveLength(1)
  })

  it('[PEAR-14] a duplicate another Orchard process saved is reported here at the next call', async () => {
    const file = tempProjectsFile(sampleText)
    const here = openStore(file)
    const other = openStore(file).store
    const data = other.loadStore()
    data.projects.push(entry('pear-app', 'Pear copy'))
    other.saveStore(data)
    await other.flush()
    expect(here.errors).toEqual([])
    expect(here.store.loadStore().projects.map((project) => project.name)).toEqual(['Pear App', 'Infra', 'Pear copy'])
    expect(here.errors.map((problem) => problem.message)).toEqual([`1 project entry has the id of an earlier project (pear-app). ${SHARE_HINT}`])
  })
})

describe('PEAR-14: a duplicate given here and another process\'s save', () => {
  it('[PEAR-14] [FILE-4] a duplicate given to saveStore here survives another process saving the file before this store does', async () => {
    const file = tempProjectsFile(sampleText)
    // This store's save waits for flush(), so the other process's save lands first.
    const here = openStore(file, { saveDelayMs: 60_000 }).store
    const other = openStore(file).store
    const data = here.loadStore()
    data.projects.push(entry('infra', 'Infra copy'))
    here.saveStore(data)
    other.addProjectChannel('pear-app', 'design')
    await other.flush()
    expect(here.loadStore().projects.map((project) => project.name)).toEqual(['Pear App', 'Infra', 'Infra copy'])
    await here.close()
    const reopened = openStore(file).store.loadStore()
    expect(reopened.projects.map((project) => project.name)).toEqual(['Pear App', 'Infra', 'Infra copy'])
    expect(reopened.projects[0]!.channels).toContain('design')
  })
})

describe('PEAR-14: removeProject and duplicates', () => {
  it('[PEAR-14] removeProject removes every entry of its id, keeps the copies of other ids, and reports nothing', async () => {
    const file = tempProjectsFile(sampleText)
    const { store, errors } = openStore(file)
    const data = store.loadStore()
    data.projects.push(entry('pear-app', 'Pear copy'), entry('infra', 'Infra copy'), entry('infra', 'Infra copy 2'))
    store.saveStore(data)
    expect(errors).toHaveLength(1)
    store.removeProject('infra')
    expect(store.loadStore().projects.map((project) => project.name)).toEqual(['Pear App', 'Pear copy'])
    expect(errors).toHaveLength(1)
    await store.close()
    expect(openStore(file).store.loadStore().projects.map((project) => project.name)).toEqual(['Pear App', 'Pear copy'])
  })
})
