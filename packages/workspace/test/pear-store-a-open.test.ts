/**
 * What opening a store does with projects.json and its options: which workspace it joins,
 * when the open itself leads to a write, and whose local fields win afterwards. Written
 * against the survivors of a Stryker run over PearStore.ts lines 1-352 (the constructor;
 * TESTING.md, session 5).
 */
import { existsSync, readFileSync } from 'node:fs'
import { describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import { PearStore } from '@orchard/workspace'
import { legacyFile, pearEntry, storeFiles } from './harness/store-files.js'

const { setup, open } = storeFiles()
const twoProjects = legacyFile([pearEntry('p1', 'One', '/src/p1'), pearEntry('p2', 'Two', '/src/p2')])

describe('opening projects.json', () => {
  it('[FILE-14] a store opened on a missing projects.json, read and closed, creates no file', async () => {
    const { file } = setup()
    const { store, saves } = open(file)
    expect(store.loadStore().projects).toEqual([])
    await store.close()
    expect(existsSync(file)).toBe(false)
    expect(saves()).toBe(0)
  })

  it('[FILE-14] a legacy file opened with a workspaceId joins that workspace, not the one its text would give', () => {
    const { file } = setup(twoProjects)
    const { store } = open(file, { workspaceId: 'ws-given' })
    expect(store.workspaceId).toBe('ws-given')
    expect(store.loadStore().projects.map((project) => project.id)).toEqual(['p1', 'p2'])
    // Without the option, the id comes from the file's text (the same in every process).
    const { store: plain } = open(file)
    expect(plain.workspaceId).not.toBe('ws-given')
  })

  it('[FILE-14] a legacy file imported into a doc the caller gave is saved with its replica at once', async () => {
    const { file } = setup(twoProjects)
    const { store, saves } = open(file, { doc: new Y.Doc({ guid: 'ws-given-doc' }) })
    await store.flush()
    expect(saves()).toBe(1)
    const written = JSON.parse(readFileSync(file, 'utf8'))
    expect(written.orchard.workspaceId).toBe('ws-given-doc')
    expect(written.projects.map((project: { id: string }) => project.id)).toEqual(['p1', 'p2'])
  })

  it('[LOCAL-2] [FILE-12] right after opening a legacy file, another process\'s move of a root on this machine is taken', async () => {
    const { file } = setup(twoProjects)
    const { store: a } = open(file)
    const { store: b } = open(file)
    b.setLocalRootPath('p1', 'p1-root', '/moved/p1')
    await b.flush()
    expect(a.loadStore().projects[0]!.roots[0]!.path).toBe('/moved/p1')
    expect(a.loadStore().projects[0]!.rootPath).toBe('/moved/p1')
  })

  it('[FILE-12] [API-11] once this store\'s active project is saved, another process\'s later choice wins', async () => {
    const { file } = setup(twoProjects)
    const { store: a } = open(file)
    a.setActiveProject('p1')
    await a.flush()
    const { store: b } = open(file)
    b.setActiveProject('p2')
    await b.flush()
    expect(a.loadStore().activeProjectId).toBe('p2')
  })
})

describe('the logger option', () => {
  it('[API-13] with no logger given, warnings go to console.warn and problems to console.error', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined)
    const error = vi.spyOn(console, 'error').mockImplementation(() => undefined)
    try {
      const store = new PearStore({ doc: new Y.Doc({ guid: 'ws-console' }) })
      store.addProject('', '/src/nameless')
      expect(warn).toHaveBeenCalledWith(expect.stringMatching(/^\[orchard\] addProject: not adding a project Pear would not load/))
      store.setActiveProject(5 as unknown as string)
      expect(error).toHaveBeenCalledWith(expect.stringMatching(/^\[orchard\] \(memory\): setActiveProject was given a number/))
    } finally {
      warn.mockRestore()
      error.mockRestore()
    }
  })
})
