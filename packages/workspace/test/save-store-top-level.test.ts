/**
 * saveStore's handling of everything beside the projects, on a store without a file (the
 * file-backed versions of these checks are in pear-fidelity.integration.test.ts, which the
 * mutation run cannot load): what a wrong-typed argument is reported as, and which local
 * fields a save changes. Written against the survivors of a Stryker run over PearStore.ts
 * lines 201-380 (TESTING.md).
 */
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { PearStore } from '../src/PearStore.js'
import { recordingLogger } from '../src/testing/index.js'
import type { StoreData, StoreProblem } from '../src/index.js'

function memoryStore() {
  const store = new PearStore({ doc: new Y.Doc({ guid: 'ws-top' }), logger: recordingLogger() })
  const errors: StoreProblem[] = []
  store.on('error', (problem) => errors.push(problem))
  return { store, errors }
}

describe('saveStore beside the projects', () => {
  it('[API-12] a non-object, a mistyped "projects" or "activeProjectId" is reported with what was given and changes nothing', () => {
    const { store, errors } = memoryStore()
    const { id } = store.addProject('P', '/p')
    store.setActiveProject(id)
    const before = store.loadStore()
    expect(() => store.saveStore(undefined as unknown as StoreData)).toThrow(new TypeError('saveStore needs the store object loadStore() returned, and was given undefined. Nothing was written.'))
    store.saveStore('str' as unknown as StoreData)
    store.saveStore({ ...store.loadStore(), projects: 'x' as never, activeProjectId: 7 as never })
    expect(store.loadStore()).toEqual(before)
    expect(errors.map((error) => [error.kind, error.message])).toEqual([
      ['bad-argument', expect.stringMatching(/^saveStore was given the string "str" instead of the store object/)],
      ['bad-argument', expect.stringMatching(/^saveStore was given "projects" as the string "x", not a list/)],
      ['bad-argument', expect.stringMatching(/^saveStore was given "activeProjectId" as a number; the active project was left as it is$/)]
    ])
  })

  it('[API-11] [LOCAL-1] the active project, relay record and unknown top-level keys are set, changed and cleared by a save', () => {
    const { store, errors } = memoryStore()
    const { id } = store.addProject('P', '/p')
    const data = store.loadStore()
    data.activeProjectId = id
    data.relayWorkspace = { id: 'rw', createdAt: '2026-01-01T00:00:00.000Z', authKey: 'k' }
    data.theme = 'dark'
    store.saveStore(data)
    expect(store.loadStore()).toEqual({ projects: data.projects, activeProjectId: id, relayWorkspace: data.relayWorkspace, theme: 'dark' })
    const next = store.loadStore()
    Reflect.deleteProperty(next, 'activeProjectId') // a required field, left out as a caller may
    delete next.relayWorkspace
    delete next.theme
    store.saveStore(next)
    expect(store.loadStore()).toEqual({ projects: data.projects, activeProjectId: null })
    expect(errors).toEqual([])
  })
})
