/**
 * WorkspaceModel edit by edit, on one replica or two: the corners src/WorkspaceModel.test.ts
 * leaves to the store and integration tests (the implicit `general` channel, re-added roots,
 * the first entry of an array, unset fields, events, guards), so the model's own tests fail
 * when one of its edits is wrong.
 */
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { ReadOnlyWorkspaceError } from '../src/errors.js'
import { WorkspaceModel, type WorkspaceChange } from '../src/WorkspaceModel.js'
import { modelRecord } from './harness/fixtures.js'

const record = modelRecord

function model(): WorkspaceModel {
  const doc = new Y.Doc({ guid: 'ws' })
  doc.clientID = 1
  return new WorkspaceModel(doc)
}

/** Two replicas that exchange updates only when told to. */
function pair(): { a: WorkspaceModel; b: WorkspaceModel; sync: () => void } {
  const a = model()
  const docB = new Y.Doc({ guid: 'ws' })
  docB.clientID = 2
  const b = new WorkspaceModel(docB)
  const sync = () => {
    const ua = Y.encodeStateAsUpdateV2(a.doc)
    const ub = Y.encodeStateAsUpdateV2(b.doc)
    Y.applyUpdateV2(a.doc, ub, 'remote')
    Y.applyUpdateV2(b.doc, ua, 'remote')
  }
  return { a, b, sync }
}

function changes(target: WorkspaceModel): WorkspaceChange[] {
  const seen: WorkspaceChange[] = []
  target.on('change', (change) => seen.push(change))
  return seen
}

/** Counts the doc updates an action makes: zero means nothing was written. */
function updatesOf(target: WorkspaceModel, action: () => void): number {
  let count = 0
  const count1 = () => void count++
  target.doc.on('updateV2', count1)
  try {
    action()
  } finally {
    target.doc.off('updateV2', count1)
  }
  return count
}

describe('projects', () => {
  it('[PEAR-1] a project is stored with its fields; relayWorkspaceId reads as the id unless set to something else', () => {
    const m = model()
    m.addProject(record('p', { relayWorkspaceId: 'rw', scalars: { cloudAgentWorkspaceMode: 'git', proactiveAgents: { on: true } }, extra: { colour: 'red', gone: undefined as never } }))
    expect(m.getProject('p')).toEqual({
      id: 'p',
      name: 'Project p',
      relayWorkspaceId: 'rw',
      rootPath: '/src/p',
      roots: [{ id: 'p-r1', name: 'p', path: '/src/p' }],
      channels: ['general'],
      channelPeople: {},
      integrations: [],
      cloudAgentWorkspaceMode: 'git',
      proactiveAgents: { on: true },
      colour: 'red'
    })
    m.setField('p', 'relayWorkspaceId', 'rw2')
    expect(m.getProject('p')!.relayWorkspaceId).toBe('rw2')
    m.setField('p', 'relayWorkspaceId', 'p')
    expect(m.getProject('p')!.relayWorkspaceId).toBe('p')
    // A name (or any other field) that happens to equal the id is a value like any other.
    m.setField('p', 'name', 'p')
    expect(m.getProject('p')!.name).toBe('p')
    m.setField('p', 'cloudAgentWorkspaceMode', undefined)
    expect(m.getProject('p')).not.toHaveProperty('cloudAgentWorkspaceMode')
    expect((m.doc.getMap('projects').get('p') as Y.Map<unknown>).has('cloudAgentWorkspaceMode')).toBe(false)
  })

  it('[PEAR-1] a relayWorkspaceId equal to the id is not stored, so a later change of the id default cannot disagree with it', () => {
    const m = model()
    m.addProject(record('p'))
    m.addProject(record('q', { relayWorkspaceId: 'other' }))
    const projects = m.doc.getMap('projects')
    expect((projects.get('p') as Y.Map<unknown>).has('relayWorkspaceId')).toBe(false)
    expect((projects.get('q') as Y.Map<unknown>).get('relayWorkspaceId')).toBe('other')
    m.setField('q', 'relayWorkspaceId', 'q')
    expect((projects.get('q') as Y.Map<unknown>).has('relayWorkspaceId')).toBe(false)
  })

  it('[MERGE-5] several projects added at once keep their order; an id added twice is listed once, with the later record', () => {
    const m = model()
    m.addProjects([record('b'), record('a'), record('c')])
    expect(m.listProjects().map((project) => project.id)).toEqual(['b', 'a', 'c'])
    const seen = changes(m)
    m.addProject(record('a', { name: 'Again' }))
    expect(seen.map(({ projectIds, listChanged }) => ({ projectIds, listChanged }))).toEqual([{ projectIds: ['a'], listChanged: true }])
    expect(m.listProjects().map((project) => project.id)).toEqual(['b', 'a', 'c'])
    expect(m.getProject('a')!.name).toBe('Again')
    expect(m.doc.getArray('projectOrder').toArray()).toEqual(['b', 'a', 'c'])
  })

  it('[MERGE-5] a record the order array misses is listed after the ordered ones, by id', () => {
    const m = model()
    m.addProject(record('m'))
    // As a damaged or partial doc can hold it: records with no entry in projectOrder.
    const other = model()
    other.addProjects([record('z'), record('b')])
    const projects = m.doc.getMap('projects')
    m.doc.transact(() => {
      for (const id of ['z', 'b']) {
        const copy = new Y.Map<unknown>()
        const source = other.doc.getMap('projects').get(id) as Y.Map<unknown>
        copy.set('name', source.get('name'))
        copy.set('rootPath', source.get('rootPath'))
        copy.set('roots', Y.Array.from((source.get('roots') as Y.Array<{ id: string; name: string; path: string }>).toArray()))
        copy.set('channels', Y.Array.from(['general']))
        copy.set('integrations', new Y.Array())
        projects.set(id, copy)
      }
    })
    expect(m.listProjects().map((project) => project.id)).toEqual(['m', 'b', 'z'])
    // A change to the order alone (a stray given its place) is seen at the next read.
    m.doc.getArray<string>('projectOrder').push(['z'])
    expect(m.listProjects().map((project) => project.id)).toEqual(['m', 'z', 'b'])
    m.removeProject('b')
    expect(m.listProjects().map((project) => project.id)).toEqual(['m', 'z'])
  })

  it('[MERGE-4] adding only removed ids writes nothing at all', () => {
    const fresh = model()
    fresh.removeProject('x')
    expect(updatesOf(fresh, () => fresh.addProject(record('x')))).toBe(0)
    expect(fresh.doc.getMap('meta').size).toBe(0)
    const m = model()
    m.addProject(record('p'))
    m.removeProject('p')
    expect(updatesOf(m, () => m.addProjects([record('p')]))).toBe(0)
    expect(m.isRemoved('p')).toBe(true)
    expect(m.isRemoved('q')).toBe(false)
    // A batch with one new id adds only that one.
    m.addProjects([record('p'), record('q')])
    expect(m.listProjects().map((project) => project.id)).toEqual(['q'])
  })

  it('[MERGE-4] removing a project takes every one of its entries out of the order, the first one included', () => {
    const { a, b, sync } = pair()
    a.addProject(record('p'))
    b.addProject(record('p'))
    a.addProject(record('q'))
    sync()
    expect(a.doc.getArray('projectOrder').toArray().filter((id) => id === 'p')).toHaveLength(2)
    a.removeProject('p')
    expect(a.doc.getArray('projectOrder').toArray()).toEqual(['q'])
    expect(a.doc.getMap('projects').has('p')).toBe(false)
    sync()
    expect(b.listProjects().map((project) => project.id)).toEqual(['q'])
    // Removing an id nobody had still records the removal (a later import of it stays out).
    a.removeProject('never')
    a.addProject(record('never'))
    expect(a.getProject('never')).toBeUndefined()
  })

  it('[MERGE-4] a project viewed before another replica removed it reads as gone', () => {
    const { a, b, sync } = pair()
    a.addProject(record('p'))
    sync()
    expect(b.getProject('p')).toBeDefined()
    expect(b.listProjects()).toHaveLength(1)
    a.removeProject('p')
    sync()
    expect(b.getProject('p')).toBeUndefined()
    expect(b.listProjects()).toEqual([])
  })

  it('[API-1] the views the model hands out are frozen: a caller cannot change the shared copy', () => {
    const m = model()
    m.addProject(record('p'))
    const view = m.getProject('p')!
    expect(Object.isFrozen(view)).toBe(true)
    expect(m.listProjects()[0]).toBe(view)
    m.addProject(record('q'))
    // An edit of one project does not rebuild another's view.
    expect(m.getProject('p')).toBe(view)
  })
})

describe('roots', () => {
  it('[MERGE-8] a project is created with its primary root, whichever root that is', () => {
    const m = model()
    m.addProject(record('p', { roots: [{ id: 'r1', name: 'one', path: '/one' }, { id: 'r2', name: 'two', path: '/two' }], rootPath: '/two' }))
    expect(m.getProject('p')!.rootPath).toBe('/two')
  })

  it('[MERGE-7] a removed root added back is shown again', () => {
    const m = model()
    m.addProject(record('p', { roots: [{ id: 'r1', name: 'one', path: '/one' }, { id: 'r2', name: 'two', path: '/two' }], rootPath: '/one' }))
    m.removeRoot('p', 'r2')
    expect(m.getProject('p')!.roots.map((root) => root.id)).toEqual(['r1'])
    m.addRoot('p', { id: 'r2', name: 'two', path: '/two' })
    expect(m.getProject('p')!.roots.map((root) => root.id)).toEqual(['r1', 'r2'])
  })

  it('[API-6] renaming a root keeps its place; an unknown root or the same name changes nothing', () => {
    const m = model()
    m.addProject(record('p', { roots: [{ id: 'r1', name: 'one', path: '/one' }, { id: 'r2', name: 'two', path: '/two' }], rootPath: '/one' }))
    m.renameRoot('p', 'r1', 'first')
    expect(m.getProject('p')!.roots).toEqual([
      { id: 'r1', name: 'first', path: '/one' },
      { id: 'r2', name: 'two', path: '/two' }
    ])
    expect(updatesOf(m, () => m.renameRoot('p', 'nope', 'x'))).toBe(0)
    expect(m.getProject('p')!.roots.map((root) => root.name)).toEqual(['first', 'two'])
    const before = Y.encodeStateVector(m.doc)
    m.renameRoot('p', 'r2', 'two')
    expect(Y.encodeStateVector(m.doc)).toEqual(before)
  })
})

describe('channels and people', () => {
  it('[PEAR-5] adding a channel to a project with none keeps the implicit general, once', () => {
    const m = model()
    m.addProject(record('p', { channels: [] }))
    expect(m.hasImplicitChannels('p')).toBe(true)
    expect(m.getProject('p')!.channels).toEqual(['general'])
    m.addChannel('p', 'ops')
    expect(m.hasImplicitChannels('p')).toBe(false)
    expect(m.doc.getMap('projects').get('p') instanceof Y.Map && ((m.doc.getMap('projects').get('p') as Y.Map<unknown>).get('channels') as Y.Array<string>).toArray()).toEqual(['general', 'ops'])
    m.addProject(record('q', { channels: [] }))
    m.addChannel('q', 'general')
    expect(((m.doc.getMap('projects').get('q') as Y.Map<unknown>).get('channels') as Y.Array<string>).toArray()).toEqual(['general'])
    expect(m.hasImplicitChannels('unknown')).toBe(false)
  })

  it('[PEAR-5] people set on the implicit general make it a real channel; clearing them does not', () => {
    const m = model()
    m.addProject(record('p', { channels: [] }))
    m.setChannelPeople('p', 'general', [])
    expect(m.hasImplicitChannels('p')).toBe(true)
    m.setChannelPeople('p', 'ops', ['ana'])
    expect(m.hasImplicitChannels('p')).toBe(true)
    m.setChannelPeople('p', 'general', ['ana'])
    expect(m.hasImplicitChannels('p')).toBe(false)
    expect(m.getProject('p')!.channelPeople).toEqual({ general: ['ana'] })
    m.addChannel('p', 'ops')
    expect(m.getProject('p')!.channels).toEqual(['general', 'ops'])
  })

  it('[MERGE-9] a project created with people keeps them; an empty list is not stored; clearing removes them', () => {
    const m = model()
    m.addProject(record('p', { channels: ['general', 'ops'], channelPeople: { ops: ['ana'], general: [] } }))
    const map = m.doc.getMap('projects').get('p') as Y.Map<unknown>
    expect(map.has('people:general')).toBe(false)
    expect(m.getProject('p')!.channelPeople).toEqual({ ops: ['ana'] })
    m.setChannelPeople('p', 'ops', [])
    expect(map.has('people:ops')).toBe(false)
    expect(m.getProject('p')!.channelPeople).toEqual({})
  })

  it('[API-3] removing a channel removes every copy of it, the first entry included', () => {
    const { a, b, sync } = pair()
    a.addProject(record('p', { channels: ['ops', 'general'] }))
    sync()
    b.addChannel('p', 'ops')
    sync()
    a.removeChannel('p', 'ops')
    expect(((a.doc.getMap('projects').get('p') as Y.Map<unknown>).get('channels') as Y.Array<string>).toArray()).toEqual(['general'])
  })
})

describe('integrations and extra keys', () => {
  it('[MERGE-11] removing the first integration removes it; an unset field is deleted, not stored as undefined', () => {
    const m = model()
    m.addProject(record('p', { integrations: [{ id: 'i', name: 'GitHub', type: 'github', note: undefined as never }, { id: 'j', name: 'Slack', type: 'slack' }] }))
    const first = (m.doc.getMap('projects').get('p') as Y.Map<unknown>).get('integrations') as Y.Array<Y.Map<unknown>>
    expect([...first.get(0).keys()].sort()).toEqual(['id', 'name', 'type'])
    m.setIntegrationField('p', 'j', 'lastError', 'boom')
    m.setIntegrationField('p', 'j', 'lastError', undefined)
    expect(m.getProject('p')!.integrations[1]).toStrictEqual({ id: 'j', name: 'Slack', type: 'slack' })
    expect([...first.get(1).keys()].sort()).toEqual(['id', 'name', 'type'])
    m.setIntegrationField('p', 'i', 'name', 'GitHub EE')
    expect(m.getProject('p')!.integrations.map((entry) => entry.name)).toEqual(['GitHub EE', 'Slack'])
    m.removeIntegration('p', 'i')
    expect(m.getProject('p')!.integrations.map((entry) => entry.id)).toEqual(['j'])
  })

  it('[PEAR-11] an unknown key set and unset again is gone', () => {
    const m = model()
    m.addProject(record('p'))
    m.setExtra('p', 'colour', 'red')
    expect(m.getProject('p')!.colour).toBe('red')
    m.setExtra('p', 'colour', undefined)
    expect(m.getProject('p')).not.toHaveProperty('colour')
    expect((m.doc.getMap('projects').get('p') as Y.Map<unknown>).has('x:colour')).toBe(false)
  })
})

describe('the doc', () => {
  it('[DOC-1] a doc whose meta an older writer left at a lower minor is brought up to date by the next edit, and only once', () => {
    const m = model()
    m.addProject(record('p'))
    const meta = m.doc.getMap('meta')
    meta.set('schemaMinor', -1)
    meta.delete('schemaMajor')
    m.setField('p', 'name', 'n')
    expect(meta.toJSON()).toEqual({ schemaMajor: 1, schemaMinor: 0 })
    meta.set('schemaMinor', 'x')
    m.setField('p', 'name', 'n2')
    expect(meta.get('schemaMinor')).toBe(0)
    // Up to date: an edit touches the project only, not meta.
    const metaEvents: number[] = []
    meta.observe(() => metaEvents.push(1))
    m.setField('p', 'name', 'n3')
    expect(metaEvents).toEqual([])
    // A newer minor is never lowered.
    meta.set('schemaMinor', 5)
    m.setField('p', 'name', 'n4')
    expect(meta.get('schemaMinor')).toBe(5)
  })

  it('[DOC-4] a doc of a newer major says which version wrote it and which this Orchard reads; an older or equal one is writable', () => {
    const m = model()
    m.addProject(record('p'))
    expect(m.readOnlyReason).toBeNull()
    m.doc.getMap('meta').set('schemaMajor', 0)
    expect(m.readOnlyReason).toBeNull()
    m.doc.getMap('meta').set('schemaMajor', 3)
    m.doc.getMap('meta').set('schemaMinor', 4)
    expect(m.readOnlyReason).toBe('it was written with workspace schema 3.4, and this Orchard understands 1.x. Update Orchard to edit it.')
    for (const edit of [() => m.removeProject('p'), () => m.addChannel('p', 'x'), () => m.addProject(record('q'))]) {
      expect(edit).toThrow(ReadOnlyWorkspaceError)
    }
    expect(m.listProjects().map((project) => project.id)).toEqual(['p'])
  })

  it('[ROLE-3] a write guard refuses every edit before it touches the doc; removing it allows them again', () => {
    const m = model()
    m.addProject(record('p'))
    m.setWriteGuard(() => {
      throw new Error('viewers cannot edit')
    })
    const before = Y.encodeStateVector(m.doc)
    for (const edit of [() => m.addProject(record('q')), () => m.removeProject('p'), () => m.setField('p', 'name', 'x'), () => m.addChannel('p', 'x')]) {
      expect(edit).toThrow('viewers cannot edit')
    }
    expect(Y.encodeStateVector(m.doc)).toEqual(before)
    m.setWriteGuard(null)
    m.setField('p', 'name', 'x')
    expect(m.getProject('p')!.name).toBe('x')
  })
})

describe('change events', () => {
  it('[STORE-3] removal names the project and changes the list; a deep edit does not change the list', () => {
    const { a, b, sync } = pair()
    a.addProject(record('p', { integrations: [{ id: 'i', name: 'GitHub', type: 'github' }] }))
    sync()
    const seen = changes(b)
    a.setIntegrationField('p', 'i', 'name', 'GitHub EE')
    sync()
    a.removeProject('p')
    sync()
    expect(seen).toEqual([
      { projectIds: ['p'], listChanged: false, local: false, origin: 'remote' },
      { projectIds: ['p'], listChanged: true, local: false, origin: 'remote' }
    ])
  })

  it('[STORE-3] a local edit is reported with this model as its origin, or the origin given; a removal from the tombstone alone names it', () => {
    const m = model()
    const seen = changes(m)
    m.addProject(record('p'))
    m.transact(() => m.setField('p', 'name', 'n'), 'importer')
    expect(seen.map(({ projectIds, listChanged, local }) => ({ projectIds, listChanged, local }))).toEqual([
      { projectIds: ['p'], listChanged: true, local: true },
      { projectIds: ['p'], listChanged: false, local: true }
    ])
    expect(seen[0]!.origin).toBe(m)
    expect(seen[1]!.origin).toBe('importer')
    expect(m.transact(() => 42)).toBe(42)
    // A tombstone arriving for a project this replica never had still names it.
    const other = new WorkspaceModel(new Y.Doc({ guid: 'ws' }))
    other.removeProject('ghost')
    Y.applyUpdateV2(m.doc, Y.encodeStateAsUpdateV2(other.doc))
    expect(seen.at(-1)).toMatchObject({ projectIds: ['ghost'], listChanged: true, local: false })
  })

  it('[STORE-3] edits outside any project (meta only) fire nothing; a destroyed model stops listening', () => {
    const m = model()
    m.addProject(record('p'))
    const seen = changes(m)
    m.doc.getMap('meta').set('note', 1)
    m.doc.getMap('elsewhere').set('k', 1)
    expect(seen).toEqual([])
    m.destroy()
    m.doc.transact(() => m.doc.getMap('projects').delete('p'))
    expect(seen).toEqual([])
  })
})
