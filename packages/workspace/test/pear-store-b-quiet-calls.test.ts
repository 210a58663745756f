/**
 * FILE-14: projects.json is written when something changed, never for a call that changes
 * nothing and never for merging what another Orchard process already wrote: no rewrite
 * churn in a dotfile repo, no update sent for nothing. Each test waits on `flush()`, which
 * saves at once whatever is pending, so a write that should not happen would be seen.
 */
import { readFileSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import type { PearStore, StoreData } from '@orchard/workspace'
import { storePair } from './harness/fixtures.js'
import { cleanupAll, openStore, projectEntry, sampleText, tempProjectsFile } from './harness/store-files.js'

afterEach(cleanupAll)

/** A store on the sample file after one real, saved change (so the file is Orchard's own). */
async function savedStore() {
  const file = tempProjectsFile(sampleText)
  const opened = openStore(file)
  opened.store.addProjectChannel('infra', 'ops')
  await opened.store.flush()
  expect(opened.saves()).toBe(1)
  return { ...opened, file, text: readFileSync(file, 'utf8') }
}

describe('FILE-14: a call that changes nothing writes nothing', () => {
  const noOps: Array<[string, (store: PearStore) => void]> = [
    ['removeProject of an id the store does not have', (store) => store.removeProject('no-such-project')],
    ['removeProjectRoot of a root id the project does not have', (store) => store.removeProjectRoot('pear-app', 'no-such-root')],
    ['addProjectChannel of a channel the project has (any spelling)', (store) => store.addProjectChannel('pear-app', 'FrontEnd')],
    ['addProjectChannel of a name that slugs to nothing', (store) => store.addProjectChannel('pear-app', ' !! ')]
  ]
  for (const [what, call] of noOps) {
    it(`[FILE-14] ${what}: no save, the file is as it was`, async () => {
      const { store, saves, file, text } = await savedStore()
      const before = store.loadStore()
      call(store)
      await store.flush()
      expect(saves()).toBe(1)
      expect(readFileSync(file, 'utf8')).toBe(text)
      expect(store.loadStore()).toEqual(before)
    })
  }

  it('[API-3] adding a channel the project already has keeps the people on it', () => {
    const file = tempProjectsFile(sampleText)
    const { store } = openStore(file)
    store.addProjectChannel('pear-app', 'Frontend')
    const project = store.loadStore().projects[0]!
    expect(project.channels).toEqual(['general', 'frontend', 'release-notes'])
    expect(project.channelPeople).toEqual({ frontend: ['ana', 'Ben'], 'release-notes': ['ana'] })
  })

  it('[API-7] removing a root id the project does not have leaves alone a root another machine adds with that id meanwhile', () => {
    const { a, b, sync } = storePair()
    const { id } = a.addProject('P', '/src/p')
    a.addProjectRoot(id, '/src/p-docs')
    sync()
    a.removeProjectRoot(id, 'later-root')
    const data = b.loadStore()
    data.projects[0]!.roots.push({ id: 'later-root', name: 'later', path: '/src/later' })
    b.saveStore(data)
    sync()
    for (const store of [a, b]) expect(store.loadStore().projects[0]!.roots.map((root) => root.path)).toEqual(['/src/p', '/src/p-docs', '/src/later'])
  })
})

describe('FILE-14: merging another Orchard process\'s save writes nothing here', () => {
  it('[FILE-14] an edit another Orchard process saved is merged and shown, and this store does not write the file again', async () => {
    const { store, saves, changes, file } = await savedStore()
    const other = openStore(file).store
    other.addProjectChannel('pear-app', 'design')
    await other.flush()
    const written = readFileSync(file, 'utf8')
    expect(store.loadStore().projects[0]!.channels).toContain('design')
    expect(changes).toEqual([{ projectIds: ['pear-app'], source: 'file' }])
    await store.flush()
    expect(saves()).toBe(1)
    expect(readFileSync(file, 'utf8')).toBe(written)
  })

  it('[FILE-14] [PEAR-14] a duplicate entry another Orchard process saved is merged and shown, and this store does not write the file again', async () => {
    const { store, saves, file } = await savedStore()
    const other = openStore(file).store
    const data = other.loadStore()
    data.projects.push(projectEntry('infra', { name: 'Infra again' }) as StoreData['projects'][number])
    other.saveStore(data)
    await other.flush()
    const written = readFileSync(file, 'utf8')
    expect(store.loadStore().projects.map((project) => project.name)).toEqual(['Pear App', 'Infra', 'Infra again'])
    await store.flush()
    expect(saves()).toBe(1)
    expect(readFileSync(file, 'utf8')).toBe(written)
  })
})
