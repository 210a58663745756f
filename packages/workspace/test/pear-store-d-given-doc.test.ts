/**
 * A legacy projects.json opened with a workspace doc the caller gave (a member whose
 * replica is already synced from the relay): how its plain projects meet the doc's.
 * Written against the survivors of a Stryker run over PearStore.ts lines 783-896
 * (TESTING.md, session 5).
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { PearStore, ReadOnlyWorkspaceError, SCHEMA_MAJOR } from '../src/index.js'
import { recordingLogger, tempDir } from '../src/testing/index.js'

const cleanups: Array<() => void | Promise<void>> = []
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn()
})

function legacyFile(projects: unknown[]): string {
  const { dir, cleanup } = tempDir()
  cleanups.push(cleanup)
  const file = join(dir, 'projects.json')
  writeFileSync(file, JSON.stringify({ projects, activeProjectId: null }, null, 2))
  return file
}

function open(options: ConstructorParameters<typeof PearStore>[0]): PearStore {
  const store = new PearStore({ logger: recordingLogger(), saveDelayMs: 5, ...options })
  cleanups.push(() => store.close())
  return store
}

describe('a legacy file opened with a synced doc', () => {
  it('[LOCAL-2] [FILE-2] a project the doc already holds is not added again: this machine\'s root path stays its own, the other machine keeps its path', () => {
    // Machine 1 shared project p1 with its root at /home/ana/app.
    let n = 0
    const first = open({ doc: new Y.Doc({ guid: 'ws-given' }), newId: () => ['p1', 'r1'][n++] ?? `id-${n}` })
    first.addProject('App', '/home/ana/app')
    // Machine 2 had the same project in its own Pear file, with its root elsewhere.
    const synced = new Y.Doc({ guid: 'ws-given' })
    Y.applyUpdateV2(synced, Y.encodeStateAsUpdateV2(first.doc), 'relay')
    const file = legacyFile([{ id: 'p1', name: 'App', rootPath: '/Users/ana/app', roots: [{ id: 'r1', name: 'app', path: '/Users/ana/app' }] }])
    const second = open({ file, doc: synced })
    expect(second.loadStore().projects.map(({ id, rootPath }) => ({ id, rootPath }))).toEqual([{ id: 'p1', rootPath: '/Users/ana/app' }])
    Y.applyUpdateV2(first.doc, Y.encodeStateAsUpdateV2(second.doc), 'relay')
    expect(first.loadStore().projects.map(({ id, rootPath }) => ({ id, rootPath }))).toEqual([{ id: 'p1', rootPath: '/home/ana/app' }])
  })

  it('[DOC-4] with a doc from a newer Orchard the store still opens: it reads the doc and refuses writes, saying why', () => {
    const newer = new Y.Doc({ guid: 'ws-newer' })
    newer.getMap('meta').set('schemaMajor', SCHEMA_MAJOR + 1)
    const file = legacyFile([{ id: 'p1', name: 'App', roots: [{ path: '/home/ana/app' }] }])
    const store = open({ file, doc: newer })
    expect(store.readOnlyReason).toMatch(/Update Orchard/)
    expect(store.loadStore().projects).toEqual([])
    expect(() => store.addProject('B', '/b')).toThrow(ReadOnlyWorkspaceError)
  })

  it('[DOC-4] with a doc from a newer Orchard, the legacy file is never rewritten: a local change (the active project) stays in memory, and the projects it holds are not lost', async () => {
    const newer = new Y.Doc({ guid: 'ws-newer' })
    newer.getMap('meta').set('schemaMajor', SCHEMA_MAJOR + 1)
    const file = legacyFile([{ id: 'p1', name: 'App', roots: [{ path: '/home/ana/app' }] }])
    const before = readFileSync(file, 'utf8')
    const store = open({ file, doc: newer })
    store.setActiveProject('p1')
    store.setLocalValue('theme', 'dark')
    newer.getMap('meta').set('touched', true) // a change to the doc, as a relay's update would be
    await store.flush()
    await store.close()
    expect(readFileSync(file, 'utf8')).toBe(before)
  })
})
