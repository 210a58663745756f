import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { ReadOnlyWorkspaceError } from './errors.js'
import { WorkspaceModel } from './WorkspaceModel.js'
import { modelRecord } from '../test/harness/fixtures.js'

const record = modelRecord

/** Replicas that exchange updates only when told to: "offline" until sync(). */
function replicas(count: number) {
  const models = Array.from({ length: count }, (_, index) => {
    const doc = new Y.Doc({ guid: 'ws' })
    doc.clientID = index + 1 // deterministic tie-breaks
    return new WorkspaceModel(doc)
  })
  const sync = () => {
    const updates = models.map((model) => Y.encodeStateAsUpdateV2(model.doc))
    for (const model of models) for (const update of updates) Y.applyUpdateV2(model.doc, update, 'remote')
  }
  return { models, sync }
}

describe('WorkspaceModel merges', () => {
  it('[MERGE-1] concurrent adds of different channels, roots and integrations all survive', () => {
    const { models: [a, b], sync } = replicas(2)
    a!.addProject(record('p'))
    sync()
    a!.addChannel('p', 'frontend')
    b!.addChannel('p', 'backend')
    a!.addRoot('p', { id: 'ra', name: 'a', path: '/a' })
    b!.addRoot('p', { id: 'rb', name: 'b', path: '/b' })
    a!.addIntegration('p', { id: 'ia', name: 'GitHub', type: 'github' })
    b!.addIntegration('p', { id: 'ib', name: 'Slack', type: 'slack' })
    sync()
    for (const model of [a!, b!]) {
      const project = model.getProject('p')!
      expect([...project.channels].sort()).toEqual(['backend', 'frontend', 'general'])
      expect(project.roots.map((root) => root.id).sort()).toEqual(['p-r1', 'ra', 'rb'])
      expect(project.integrations.map((entry) => entry.id).sort()).toEqual(['ia', 'ib'])
    }
    expect(a!.getProject('p')).toEqual(b!.getProject('p'))
  })

  it('[MERGE-2] the same channel added on two replicas reads once', () => {
    const { models: [a, b], sync } = replicas(2)
    a!.addProject(record('p'))
    sync()
    a!.addChannel('p', 'ops')
    b!.addChannel('p', 'ops')
    sync()
    expect(a!.getProject('p')!.channels).toEqual(['general', 'ops'])
    expect(b!.getProject('p')!.channels).toEqual(['general', 'ops'])
  })

  it('[MERGE-3] concurrent renames keep one name everywhere', () => {
    const { models, sync } = replicas(3)
    models[0]!.addProject(record('p'))
    sync()
    models.forEach((model, index) => model.setField('p', 'name', `Name ${index}`))
    sync()
    const seen = new Set(models.map((model) => model.getProject('p')!.name))
    expect(seen.size).toBe(1)
    expect(['Name 0', 'Name 1', 'Name 2']).toContain([...seen][0])
  })

  it('[MERGE-4] removing a project wins over concurrent edits and re-imports', () => {
    const { models: [a, b], sync } = replicas(2)
    a!.addProject(record('p'))
    sync()
    a!.removeProject('p')
    b!.setField('p', 'name', 'Edited while removed')
    b!.addChannel('p', 'late')
    sync()
    expect(a!.getProject('p')).toBeUndefined()
    expect(b!.getProject('p')).toBeUndefined()
    // a replica that never saw the removal imports the same project again
    const c = new WorkspaceModel(new Y.Doc())
    c.addProject(record('p'))
    Y.applyUpdateV2(a!.doc, Y.encodeStateAsUpdateV2(c.doc))
    expect(a!.getProject('p')).toBeUndefined()
    expect(a!.listProjects()).toEqual([])
    // and edits to a removed project are dropped locally too
    a!.setField('p', 'name', 'ghost')
    expect(a!.listProjects()).toEqual([])
  })

  it('[MERGE-5] project order is add order, the same on every replica', () => {
    const { models: [a, b, c], sync } = replicas(3)
    a!.addProject(record('first'))
    sync()
    b!.addProject(record('b1'))
    c!.addProject(record('c1'))
    a!.addProject(record('a2'))
    sync()
    const order = a!.listProjects().map((project) => project.id)
    expect(order[0]).toBe('first')
    expect(order).toHaveLength(4)
    expect(b!.listProjects().map((project) => project.id)).toEqual(order)
    expect(c!.listProjects().map((project) => project.id)).toEqual(order)
    // the same id added twice (two replicas importing one legacy file) reads once
    a!.addProject(record('dup'))
    b!.addProject(record('dup'))
    sync()
    expect(a!.listProjects().filter((project) => project.id === 'dup')).toHaveLength(1)
    expect(a!.listProjects().map((project) => project.id)).toEqual(b!.listProjects().map((project) => project.id))
  })

  it('[MERGE-6] roots added concurrently with the same path read as one', () => {
    const { models: [a, b], sync } = replicas(2)
    a!.addProject(record('p'))
    sync()
    a!.addRoot('p', { id: 'x1', name: 'lib', path: '/lib' })
    b!.addRoot('p', { id: 'x2', name: 'lib', path: '/lib' })
    sync()
    const roots = a!.getProject('p')!.roots
    expect(roots.filter((root) => root.path === '/lib')).toHaveLength(1)
    expect(b!.getProject('p')!.roots).toEqual(roots)
  })

  it('[MERGE-7] concurrent removal of every root keeps the first root', () => {
    const { models: [a, b], sync } = replicas(2)
    a!.addProject(record('p', { roots: [{ id: 'r1', name: 'one', path: '/one' }, { id: 'r2', name: 'two', path: '/two' }], rootPath: '/one' }))
    sync()
    a!.removeRoot('p', 'r1')
    b!.removeRoot('p', 'r2')
    sync()
    expect(a!.getProject('p')!.roots).toEqual([{ id: 'r1', name: 'one', path: '/one' }])
    expect(b!.getProject('p')).toEqual(a!.getProject('p'))
  })

  it('[MERGE-8] removing the primary root makes the first remaining root primary', () => {
    const { models: [a, b], sync } = replicas(2)
    a!.addProject(record('p', { roots: [{ id: 'r1', name: 'one', path: '/one' }, { id: 'r2', name: 'two', path: '/two' }], rootPath: '/one' }))
    sync()
    b!.removeRoot('p', 'r1')
    sync()
    expect(a!.getProject('p')!.rootPath).toBe('/two')
    expect(b!.getProject('p')!.rootPath).toBe('/two')
    // a rootPath that never named a root is kept verbatim (PEAR-3)
    a!.setRootPath('p', '/outside')
    expect(a!.getProject('p')!.rootPath).toBe('/outside')
  })

  it('[MERGE-9] removing a channel wins over a concurrent people set; re-adding starts empty', () => {
    const { models: [a, b], sync } = replicas(2)
    a!.addProject(record('p', { channels: ['general', 'ops'] }))
    sync()
    a!.removeChannel('p', 'ops')
    b!.setChannelPeople('p', 'ops', ['ana', 'ben'])
    sync()
    for (const model of [a!, b!]) {
      expect(model.getProject('p')!.channels).toEqual(['general'])
      expect(model.getProject('p')!.channelPeople).toEqual({})
    }
    b!.addChannel('p', 'ops')
    sync()
    expect(a!.getProject('p')!.channels).toEqual(['general', 'ops'])
    expect(a!.getProject('p')!.channelPeople).toEqual({})
  })

  it('[MERGE-10] concurrent people sets keep one list everywhere', () => {
    const { models: [a, b], sync } = replicas(2)
    a!.addProject(record('p', { channels: ['general', 'ops'] }))
    sync()
    a!.setChannelPeople('p', 'ops', ['ana'])
    b!.setChannelPeople('p', 'ops', ['ben'])
    sync()
    const people = a!.getProject('p')!.channelPeople.ops
    expect(people === undefined ? [] : people).toHaveLength(1)
    expect(b!.getProject('p')!.channelPeople).toEqual(a!.getProject('p')!.channelPeople)
  })

  it('[MERGE-11] integration fields merge per key; removal wins over concurrent edits', () => {
    const { models: [a, b], sync } = replicas(2)
    a!.addProject(record('p', { integrations: [{ id: 'i', name: 'GitHub', type: 'github' }, { id: 'j', name: 'Slack', type: 'slack' }] }))
    sync()
    a!.setIntegrationField('p', 'i', 'lastSyncAt', '2026-11-25T10:00:00.000Z')
    b!.setIntegrationField('p', 'i', 'name', 'GitHub Enterprise')
    a!.removeIntegration('p', 'j')
    b!.setIntegrationField('p', 'j', 'lastError', 'boom')
    sync()
    for (const model of [a!, b!]) {
      expect(model.getProject('p')!.integrations).toEqual([
        { id: 'i', name: 'GitHub Enterprise', type: 'github', lastSyncAt: '2026-11-25T10:00:00.000Z' }
      ])
    }
  })
})

describe('WorkspaceModel doc', () => {
  it('[DOC-1] the first write records the schema version', () => {
    const model = new WorkspaceModel(new Y.Doc())
    expect(model.doc.getMap('meta').get('schemaMajor')).toBeUndefined()
    model.addProject(record('p'))
    expect(model.doc.getMap('meta').toJSON()).toEqual({ schemaMajor: 1, schemaMinor: 0 })
  })

  it('[DOC-2] nested types exist from creation, so concurrent first edits do not lose each other', () => {
    const { models: [a, b], sync } = replicas(2)
    a!.addProject(record('p'))
    sync()
    // both replicas' first-ever integration and extra key on the project
    a!.addIntegration('p', { id: 'ia', name: 'A', type: 'custom' })
    b!.addIntegration('p', { id: 'ib', name: 'B', type: 'custom' })
    a!.setExtra('p', 'colour', 'red')
    b!.setExtra('p', 'emoji', 'pear')
    sync()
    const project = a!.getProject('p')!
    expect(project.integrations.map((entry) => entry.id).sort()).toEqual(['ia', 'ib'])
    expect(project.colour).toBe('red')
    expect(project.emoji).toBe('pear')
    const map = a!.doc.getMap('projects').get('p') as Y.Map<unknown>
    expect(map.get('roots')).toBeInstanceOf(Y.Array)
    expect(map.get('channels')).toBeInstanceOf(Y.Array)
    expect(map.get('integrations')).toBeInstanceOf(Y.Array)
  })

  it('[DOC-4] a doc with a newer schema major is read-only with a clear error', () => {
    const model = new WorkspaceModel(new Y.Doc())
    model.addProject(record('p'))
    model.doc.getMap('meta').set('schemaMajor', 2)
    expect(model.readOnlyReason).toMatch(/schema 2\.0.*understands 1\.x.*Update Orchard/)
    expect(() => model.setField('p', 'name', 'x')).toThrow(ReadOnlyWorkspaceError)
    expect(() => model.addProject(record('q'))).toThrow(/read-only here/)
    expect(model.getProject('p')!.name).toBe('Project p')
  })

  it('[STORE-3] change events name the projects touched and tell local from remote', () => {
    const { models: [a, b], sync } = replicas(2)
    const seen: Array<{ ids: string[]; local: boolean }> = []
    b!.on('change', (change) => seen.push({ ids: change.projectIds, local: change.local }))
    a!.addProject(record('p'))
    a!.addProject(record('q'))
    sync()
    a!.addChannel('q', 'deep-edit')
    sync()
    b!.setField('p', 'name', 'mine')
    expect(seen[0]).toEqual({ ids: expect.arrayContaining(['p', 'q']), local: false })
    expect(seen[1]).toEqual({ ids: ['q'], local: false })
    expect(seen[2]).toEqual({ ids: ['p'], local: true })
  })
})
