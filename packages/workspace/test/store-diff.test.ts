/**
 * store-diff.ts on its own: what a whole-store save (STORE-1, STORE-2) turns into. The
 * first part calls applyProjectsDiff on a bare model and checks the edits it makes and what
 * it reports (rejected entries, PEAR-14 duplicates, whether this machine's state changed, so
 * the store knows to write it). The second part is two replicas: every kind of edit that
 * arrives between a caller's load and save must survive a save that changed something else.
 * Written against the survivors of Stryker's first run over this module (TESTING.md).
 */
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { docParts } from '../src/doc-layout.js'
import { emptyLocalState, viewProject, type LocalState } from '../src/local-state.js'
import { addWholeProject, applyProjectsDiff, holdsProject } from '../src/store-diff.js'
import type { Project } from '../src/types.js'
import { WorkspaceModel } from '../src/WorkspaceModel.js'
import { storePair, storeProject } from './harness/fixtures.js'

const project = storeProject

/** A model holding `projects`, and a save that diffs `target` against what was loaded. */
function workspace(...projects: Project[]) {
  const model = new WorkspaceModel(new Y.Doc())
  const local: LocalState = emptyLocalState()
  for (const entry of projects) addWholeProject(model, local, entry)
  const view = (id: string) => {
    const shared = model.getProject(id)
    return shared && viewProject(shared, local.projects[id])
  }
  /** What loadStore would hand the caller: plain JSON copies it may change. */
  const load = (): Project[] => model.listProjects().map((shared) => JSON.parse(JSON.stringify(viewProject(shared, local.projects[shared.id]))) as Project)
  const save = (target: unknown[], base: Project[] = load(), skip?: ReadonlySet<number>) =>
    applyProjectsDiff(model, local, base, target, view, skip)
  return { model, local, view, load, save }
}

describe('a save on one replica', () => {
  it('[STORE-1] a save that changes a shared field makes that edit and reports no change to local state', () => {
    const ws = workspace(project('p1'))
    // addWholeProject leaves nothing local behind for a project without a cloud agent.
    expect(ws.local.projects).toEqual({})
    const data = ws.load()
    data[0]!.name = 'Renamed'
    expect(ws.save(data)).toEqual({ rejected: [], localChanged: false, duplicates: [] })
    expect(ws.view('p1')?.name).toBe('Renamed')
    expect(ws.local.projects).toEqual({})
  })

  it('[STORE-1] an entry that normalizes to what was loaded is no edit and no local change', () => {
    const ws = workspace(project('p1'))
    const data = ws.load()
    data[0]!.channels = ['General']
    const before = Y.encodeStateVector(ws.model.doc)
    expect(ws.save(data).localChanged).toBe(false)
    expect(Y.encodeStateVector(ws.model.doc)).toEqual(before)
  })

  it('[STORE-1] a project left out of the data is removed, with its local state; one without local state changes nothing local', () => {
    const ws = workspace(project('p1'), project('p2'), project('p3'))
    ws.local.projects.p2 = { roots: { 'p2-r1': '/moved/p2' } }
    const data = ws.load()
    expect(ws.save(data.filter((entry) => entry.id !== 'p1')).localChanged).toBe(false)
    expect(ws.model.isRemoved('p1')).toBe(true)
    expect(ws.model.listProjects().map((entry) => entry.id)).toEqual(['p2', 'p3'])
    expect(ws.save(ws.load().filter((entry) => entry.id !== 'p2')).localChanged).toBe(true)
    expect(ws.local.projects).toEqual({})
    expect(ws.model.listProjects().map((entry) => entry.id)).toEqual(['p3'])
  })

  it('[STORE-1] a new project in the data is added, and its local state is reported changed', () => {
    const ws = workspace(project('p1'))
    const data = ws.load()
    const result = ws.save([...data, project('p2')])
    expect(result.localChanged).toBe(true)
    expect(ws.model.listProjects().map((entry) => entry.id)).toEqual(['p1', 'p2'])
  })

  it('[STORE-2] data not from loadStore is diffed against the current view: a rename is an edit, not a new project', () => {
    const ws = workspace(project('p1'))
    const data = ws.load()
    data[0]!.name = 'Renamed'
    expect(ws.save(data, [])).toEqual({ rejected: [], localChanged: false, duplicates: [] })
    expect(ws.view('p1')?.name).toBe('Renamed')
  })

  it('[MERGE-4] a project removed between the load and the save stays removed, and takes nothing local with it', () => {
    const ws = workspace(project('p1'))
    const base = ws.load()
    const data = ws.load()
    ws.model.removeProject('p1')
    data[0]!.cloudAgent = null
    data[0]!.roots[0]!.path = '/moved'
    expect(ws.save(data, base).localChanged).toBe(false)
    expect(ws.local.projects).toEqual({})
    // Nor does data that never had it bring it back.
    expect(ws.save([project('p1')], []).localChanged).toBe(false)
    expect(ws.model.getProject('p1')).toBeUndefined()
  })

  it('[PEAR-14] a repeated id is reported as a duplicate whether or not it repeats the first entry; the first is the edit', () => {
    const ws = workspace(project('p1'))
    const data = ws.load()
    const copy = JSON.parse(JSON.stringify(data[0])) as Project
    expect(ws.save([data[0], copy]).duplicates).toEqual([{ index: 1, entry: copy }])
    const other = { ...copy, name: 'Second entry' }
    const first = { ...copy, name: 'First entry' }
    expect(ws.save([first, other]).duplicates).toEqual([{ index: 1, entry: other }])
    expect(ws.view('p1')?.name).toBe('First entry')
  })

  it('[PEAR-14] an entry at a position the caller says is a kept duplicate is neither an edit nor reported again', () => {
    const ws = workspace(project('p1'))
    const data = ws.load()
    const kept = { ...data[0], name: 'Kept duplicate' }
    expect(ws.save([data[0], kept], undefined, new Set([1]))).toEqual({ rejected: [], localChanged: false, duplicates: [] })
    expect(ws.view('p1')?.name).toBe('Project p1')
  })
})

describe('roots, channels, people and integrations in a save', () => {
  const rich = () =>
    project('p1', {
      roots: [
        { id: 'r1', name: 'app', path: '/src/app' },
        { id: 'r2', name: 'docs', path: '/src/docs' }
      ],
      rootPath: '/src/app',
      channels: ['general', 'design', 'ops'],
      channelPeople: { design: ['ana'], ops: ['ben'] },
      integrations: [
        { id: 'i1', name: 'Linear', type: 'linear' },
        { id: 'i2', name: 'Sentry', type: 'custom', url: 'https://a' }
      ]
    })

  it('[STORE-1] roots added, removed and renamed in the data become those edits', () => {
    const ws = workspace(rich())
    const data = ws.load()
    data[0]!.roots = [{ id: 'r1', name: 'application', path: '/src/app' }, { id: 'r3', name: 'web', path: '/src/web' }]
    expect(ws.save(data).localChanged).toBe(false)
    expect(ws.view('p1')?.roots).toEqual([
      { id: 'r1', name: 'application', path: '/src/app' },
      { id: 'r3', name: 'web', path: '/src/web' }
    ])
  })

  it('[STORE-1] a new rootPath makes the named root primary', () => {
    const ws = workspace(rich())
    const data = ws.load()
    data[0]!.rootPath = '/src/docs'
    ws.save(data)
    expect(ws.view('p1')?.rootPath).toBe('/src/docs')
  })

  it('[LOCAL-2] a root moved in the data gets a local path; moved back, the overlay is gone', () => {
    const ws = workspace(rich())
    const moved = ws.load()
    moved[0]!.roots[1]!.path = '/elsewhere/docs'
    expect(ws.save(moved).localChanged).toBe(true)
    expect(ws.local.projects.p1?.roots).toEqual({ r2: '/elsewhere/docs' })
    expect(ws.model.getProject('p1')?.roots[1]?.path).toBe('/src/docs')
    const back = ws.load()
    back[0]!.roots[1]!.path = '/src/docs'
    expect(ws.save(back).localChanged).toBe(true)
    expect(ws.local.projects.p1?.roots).toEqual({})
    expect(ws.view('p1')?.roots[1]?.path).toBe('/src/docs')
  })

  it('[STORE-1] channels removed and added, and their people set or cleared, become those edits', () => {
    const ws = workspace(rich())
    const data = ws.load()
    data[0]!.channels = ['general', 'ops', 'support']
    data[0]!.channelPeople = { general: ['cy'], support: ['dee'] }
    expect(ws.save(data).localChanged).toBe(false)
    // ops kept its channel and lost its people (ben); design went with its people (ana).
    expect(ws.view('p1')?.channels).toEqual(['general', 'ops', 'support'])
    expect(ws.view('p1')?.channelPeople).toEqual({ general: ['cy'], support: ['dee'] })
  })

  it('[STORE-1] integrations removed, added and edited field by field become those edits', () => {
    const ws = workspace(rich())
    const data = ws.load()
    data[0]!.integrations = [
      { id: 'i2', name: 'Sentry EU', type: 'custom' },
      { id: 'i3', name: 'GitHub', type: 'github' }
    ]
    ws.save(data)
    expect(ws.view('p1')?.integrations).toEqual([
      { id: 'i2', name: 'Sentry EU', type: 'custom' },
      { id: 'i3', name: 'GitHub', type: 'github' }
    ])
  })

  it('[LOCAL-3] a cloud agent set or cleared in the data is this machine\'s state, reported changed, never in the doc', () => {
    const ws = workspace(project('p1'))
    const data = ws.load()
    data[0]!.cloudAgent = { id: 'ca', sandboxId: 'sb', relayfileMountPath: '/mnt/LOCAL-MOUNT', attachedAt: 'now', autoPullAfterRun: true }
    expect(ws.save(data).localChanged).toBe(true)
    expect(ws.view('p1')?.cloudAgent).toEqual(data[0]!.cloudAgent)
    const added = project('p2', { cloudAgent: { id: 'cb', sandboxId: 'sb', relayfileMountPath: '/mnt/NEW-MOUNT', attachedAt: 'now', autoPullAfterRun: false } })
    ws.save([...ws.load(), added])
    const bytes = Buffer.from(Y.encodeStateAsUpdate(ws.model.doc)).toString('latin1')
    expect(bytes).not.toContain('LOCAL-MOUNT')
    expect(bytes).not.toContain('NEW-MOUNT')
    const cleared = ws.load()
    delete cleared[0]!.cloudAgent
    expect(ws.save(cleared).localChanged).toBe(true)
    expect(ws.view('p1')?.cloudAgent).toBeUndefined()
  })
})

describe('which projects a removal reaches', () => {
  it('[MERGE-4] a project is held while the doc has its record, readable or not; an unknown or removed one is not', () => {
    const ws = workspace(project('p1'))
    expect(holdsProject(ws.model, 'p1')).toBe(true)
    expect(holdsProject(ws.model, 'never-added')).toBe(false)
    // A record whose name has not arrived yet: not shown, still held.
    ws.model.doc.transact(() => docParts(ws.model.doc).projects.set('unreadable', new Y.Map()))
    expect(ws.model.getProject('unreadable')).toBeUndefined()
    expect(holdsProject(ws.model, 'unreadable')).toBe(true)
    ws.model.removeProject('p1')
    expect(holdsProject(ws.model, 'p1')).toBe(false)
  })
})

describe('two replicas: a save keeps what arrived after its load', () => {
  const pair = storePair

  it('[STORE-1] [MERGE-11] root, primary, channel, people, integration, scalar and unknown-key edits made meanwhile all survive a rename', () => {
    const { a, b, sync } = pair()
    const { id } = a.addProject('P', '/src/app')
    const docs = a.addProjectRoot(id, '/src/docs', 'docs')
    a.addProjectChannel(id, 'design')
    a.setProjectChannelPeople(id, 'design', ['ana'])
    const integration = a.addProjectIntegration(id, 'Sentry')
    const seeded = a.loadStore()
    seeded.projects[0]!.settings = { theme: 'dark' }
    a.saveStore(seeded)
    sync()

    const stale = a.loadStore()
    const appRoot = stale.projects[0]!.roots[0]!
    const data = b.loadStore()
    data.projects[0]!.roots[0]!.name = 'application'
    data.projects[0]!.rootPath = '/src/docs'
    data.projects[0]!.channels = ['general']
    data.projects[0]!.settings = { theme: 'light' }
    data.projects[0]!.integrations[0]!.url = 'https://sentry.example'
    data.projects[0]!.integrations[0]!.name = 'Sentry EU'
    b.saveStore(data)
    b.updateProject(id, { cloudAgentWorkspaceMode: 'relayfile' })
    b.addProjectChannel(id, 'design')
    b.setProjectChannelPeople(id, 'design', ['ben'])
    sync()

    stale.projects[0]!.name = 'Renamed by A'
    a.saveStore(stale)
    sync()
    for (const store of [a, b]) {
      expect(store.loadStore().projects[0]).toEqual({
        id,
        name: 'Renamed by A',
        relayWorkspaceId: id,
        rootPath: '/src/docs',
        roots: [{ ...appRoot, name: 'application' }, docs],
        channels: ['general', 'design'],
        channelPeople: { design: ['ben'] },
        integrations: [{ ...integration, name: 'Sentry EU', url: 'https://sentry.example' }],
        cloudAgentWorkspaceMode: 'relayfile',
        settings: { theme: 'light' }
      })
    }
  })
})
