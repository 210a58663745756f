/**
 * saveStore and the relay-record functions as Pear calls them, on real projects.json files
 * shared by two stores (two processes on one machine): which fields a save takes from its
 * argument and which it leaves to another process, what a save that changes nothing writes,
 * and which key order the file keeps. Written against the survivors of a Stryker run over
 * PearStore.ts lines 1-352 (TESTING.md, session 5).
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import type { StoreData } from '@orchard/workspace'
import { storePair } from './harness/fixtures.js'
import { legacyFile, pearEntry, storeFiles } from './harness/store-files.js'

const { setup, open } = storeFiles()
const twoProjects = legacyFile([pearEntry('p1', 'One', '/src/p1'), pearEntry('p2', 'Two', '/src/p2')], { activeProjectId: 'p1' })

/** The object with its keys in the order given (same values). */
function reorder<T extends object>(value: T, keys: readonly string[]): T {
  return Object.fromEntries(keys.map((key) => [key, (value as Record<string, unknown>)[key]])) as T
}

describe('saveStore and another process\'s edits', () => {
  it('[STORE-1] a save of data loaded before another process changed the active project keeps that change', async () => {
    const { file } = setup(twoProjects)
    const { store: a } = open(file)
    const { store: b } = open(file)
    const data = a.loadStore()
    b.setActiveProject('p2')
    await b.flush()
    data.projects[1]!.name = 'Two renamed'
    a.saveStore(data)
    const view = a.loadStore()
    expect(view.activeProjectId).toBe('p2')
    expect(view.projects[1]!.name).toBe('Two renamed')
  })

  it('[STORE-2] data that did not come from loadStore is compared with the file as it is now: its active project is applied', async () => {
    const { file } = setup(twoProjects)
    const { store: a } = open(file)
    const { store: b } = open(file)
    // A copy: the store cannot know what the caller started from.
    const copy = structuredClone(a.loadStore())
    b.setActiveProject('p2')
    await b.flush()
    // The copy says p1, the file now says p2: the caller's p1 is the change.
    a.saveStore(copy)
    expect(a.loadStore().activeProjectId).toBe('p1')
    const next = structuredClone(a.loadStore())
    next.activeProjectId = 'p2'
    a.saveStore(next)
    expect(a.loadStore().activeProjectId).toBe('p2')
    await a.flush()
    expect(JSON.parse(readFileSync(file, 'utf8')).activeProjectId).toBe('p2')
  })

  it('[PEAR-14] a save of data loaded before another process wrote a duplicate keeps that duplicate: the caller never saw it', async () => {
    const { file } = setup(twoProjects)
    const { store: a } = open(file)
    const { store: b } = open(file)
    const data = a.loadStore()
    const other = b.loadStore()
    other.projects.push(pearEntry('p1', 'Copy of one', '/src/p1-copy') as never)
    b.saveStore(other)
    await b.flush()
    data.activeProjectId = 'p2'
    a.saveStore(data)
    const names = (view: StoreData) => view.projects.map((project) => `${project.id}:${project.name}`)
    expect(names(a.loadStore())).toEqual(['p1:One', 'p2:Two', 'p1:Copy of one'])
    await a.flush()
    const { store: reopened } = open(file)
    expect(names(reopened.loadStore())).toEqual(['p1:One', 'p2:Two', 'p1:Copy of one'])
    expect(reopened.loadStore().activeProjectId).toBe('p2')
  })

  it('[LOCAL-2] a root moved by a save is written, and another process\'s write before that save does not undo it', async () => {
    const roots = [
      { id: 'p1-root', name: 'p1', path: '/src/p1' },
      { id: 'p1-docs', name: 'docs', path: '/src/p1-docs' }
    ]
    const { file } = setup(legacyFile([pearEntry('p1', 'One', '/src/p1', { roots }), pearEntry('p2', 'Two', '/src/p2')]))
    // A long debounce: the other process writes while this save is still pending.
    const { store: a } = open(file, { saveDelayMs: 60_000 })
    const data = a.loadStore()
    data.projects[0]!.roots[1]!.path = '/moved/p1-docs'
    a.saveStore(data)
    const { store: b } = open(file)
    b.addProjectChannel('p2', 'from-b')
    await b.flush()
    const view = a.loadStore()
    expect(view.projects[0]!.roots[1]!.path).toBe('/moved/p1-docs')
    expect(view.projects[1]!.channels).toEqual(['general', 'from-b'])
    await a.flush()
    const { store: reopened } = open(file)
    expect(reopened.loadStore().projects[0]!.roots.map((root) => root.path)).toEqual(['/src/p1', '/moved/p1-docs'])
  })

  it('[LOCAL-2] [STORE-1] an entry for a project that arrived after the caller\'s load is an edit of it: its root path stays this machine\'s', () => {
    const { a, b, sync } = storePair()
    const data = a.loadStore()
    b.saveStore({ ...b.loadStore(), projects: [pearEntry('p1', 'One', '/src/p1') as never] })
    sync()
    data.projects.push(pearEntry('p1', 'One', '/home/a/p1') as never)
    a.saveStore(data)
    sync()
    expect(a.loadStore().projects.map((project) => project.roots[0]!.path)).toEqual(['/home/a/p1'])
    expect(b.loadStore().projects.map((project) => project.roots[0]!.path)).toEqual(['/src/p1'])
  })
})

describe('what a save writes', () => {
  it('[FILE-14] [STORE-2] a saveStore that changes nothing writes nothing, whether its data came from loadStore or not', async () => {
    const { file } = setup(twoProjects)
    const before = readFileSync(file, 'utf8')
    const { store, saves } = open(file)
    store.saveStore(store.loadStore())
    await store.flush()
    store.saveStore(structuredClone(store.loadStore()))
    await store.flush()
    expect(saves()).toBe(0)
    expect(readFileSync(file, 'utf8')).toBe(before)
  })

  it('[PEAR-15] the file keeps the key order of the entry saveStore was given, not that of a later duplicate of it', async () => {
    const { file } = setup(legacyFile([pearEntry('p1', 'One', '/src/p1'), pearEntry('p2', 'Two', '/src/p2'), pearEntry('p1', 'One again', '/src/p1-again')]))
    const { store } = open(file)
    const data = store.loadStore()
    const keys = Object.keys(data.projects[0]!)
    const given = [...keys].reverse()
    const duplicateOrder = [...keys].sort()
    data.projects[0] = reorder({ ...data.projects[0]!, name: 'One renamed' }, given)
    data.projects[2] = reorder(data.projects[2]!, duplicateOrder)
    store.saveStore(data)
    await store.flush()
    const written = JSON.parse(readFileSync(file, 'utf8')) as { projects: Array<Record<string, unknown>> }
    expect(written.projects.map((project) => project.name)).toEqual(['One renamed', 'Two', 'One again'])
    expect(Object.keys(written.projects[0]!)).toEqual(given)
  })

  it('[FILE-1] [LOCAL-1] an "orchard" key in saveStore\'s data (a Pear that read the file itself) is not kept as a local value', async () => {
    const { file } = setup(twoProjects)
    const { store } = open(file)
    const data = store.loadStore() as StoreData & { orchard?: unknown }
    data.orchard = { format: 1, workspaceId: 'not-this-one' }
    data.theme = 'dark'
    store.saveStore(data)
    expect(store.getLocalValue('orchard')).toBeUndefined()
    expect(store.getLocalValue('theme')).toBe('dark')
    expect('orchard' in store.loadStore()).toBe(false)
    await store.flush()
    expect(JSON.parse(readFileSync(file, 'utf8')).orchard.workspaceId).toBe(store.workspaceId)
  })
})

describe('the relay record', () => {
  it('[API-1] [API-10] loadStore has a relayWorkspace key only while there is a record, as Pear\'s parsed file has', () => {
    const { a: store } = storePair()
    expect(Object.keys(store.loadStore())).toEqual(['projects', 'activeProjectId'])
    store.setRelayWorkspace({ id: 'rw-1', createdAt: '2026-01-01T00:00:00.000Z' })
    expect(Object.keys(store.loadStore())).toEqual(['projects', 'activeProjectId', 'relayWorkspace'])
    store.clearRelayWorkspace()
    expect(Object.keys(store.loadStore())).toEqual(['projects', 'activeProjectId'])
  })

  it('[FILE-12] each relay-record function merges another process\'s write before it answers, with its change event', async () => {
    const { file } = setup(twoProjects)
    const { store: a } = open(file)
    const { store: b } = open(file)
    const changes: string[] = []
    a.onChange((change) => changes.push(`${change.source}:${change.projectIds.join(',')}`))
    const record = (id: string) => ({ id, createdAt: '2026-01-01T00:00:00.000Z' })
    const calls: Array<[string, () => unknown]> = [
      ['getRelayWorkspaceRecord', () => a.getRelayWorkspaceRecord()],
      ['getRelayWorkspace', () => a.getRelayWorkspace()],
      ['setRelayWorkspace', () => a.setRelayWorkspace(record('rw-a'))],
      ['clearRelayWorkspace', () => a.clearRelayWorkspace()],
      ['setRelayWorkspaceRecord', () => a.setRelayWorkspaceRecord(record('rw-a2'))]
    ]
    const answers: unknown[] = []
    for (const [index, [what, call]] of calls.entries()) {
      // Nothing of a's own pending: its save would merge b's write before the call does.
      await a.flush()
      b.setRelayWorkspace(record(`rw-b${index}`))
      b.addProjectChannel('p2', `from-b-${index}`)
      await b.flush()
      answers.push(call())
      expect(changes.splice(0), what).toEqual(['file:p2'])
    }
    // The getters answer with the record the other process had just written.
    expect(answers.slice(0, 2)).toEqual([record('rw-b0'), record('rw-b1')])
  })
})
