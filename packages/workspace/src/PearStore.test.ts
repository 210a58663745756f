import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { ZodError } from 'zod'
import { PearStore } from './PearStore.js'
import { recordingLogger } from './testing/index.js'
import { memoryStore, storePair } from '../test/harness/fixtures.js'

const pair = storePair

describe("Pear's store API", () => {
  it('[PEAR-13] addProject returns Pear\'s project and skips ones Pear would not load', () => {
    const store = memoryStore()
    const project = store.addProject('Pear', '/home/ana/code/pear')
    expect(project).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      name: 'Pear',
      relayWorkspaceId: project.id,
      rootPath: '/home/ana/code/pear',
      roots: [{ id: expect.stringMatching(/^[0-9a-f-]{36}$/), name: 'pear', path: '/home/ana/code/pear' }],
      channels: ['general'],
      channelPeople: {},
      integrations: []
    })
    expect(store.loadStore().projects).toEqual([project])
    const nameless = store.addProject('', '/tmp/x')
    expect(nameless.name).toBe('')
    expect(store.loadStore().projects).toHaveLength(1)
  })

  it('[API-1] loadStore returns fresh copies; mutating one changes nothing', () => {
    const store = memoryStore()
    store.addProject('A', '/a')
    const first = store.loadStore()
    first.projects[0]!.name = 'mutated'
    first.projects[0]!.channels.push('x')
    first.projects.pop()
    const second = store.loadStore()
    expect(second.projects).toHaveLength(1)
    expect(second.projects[0]!.name).toBe('A')
    expect(second.projects[0]!.channels).toEqual(['general'])
    expect(second).toEqual({ projects: second.projects, activeProjectId: null })
  })

  it('[API-2] removeProject removes it and clears the active project', () => {
    const store = memoryStore()
    const a = store.addProject('A', '/a')
    const b = store.addProject('B', '/b')
    store.setActiveProject(a.id)
    store.removeProject('no-such-id')
    store.removeProject(a.id)
    expect(store.loadStore()).toMatchObject({ activeProjectId: null, projects: [{ id: b.id }] })
    store.setActiveProject(b.id)
    store.removeProject(a.id)
    expect(store.loadStore().activeProjectId).toBe(b.id)
  })

  it('[API-3] channels are slugged on add and removed with their people', () => {
    const store = memoryStore()
    const { id } = store.addProject('A', '/a')
    store.addProjectChannel(id, 'Front End')
    store.addProjectChannel(id, 'front-end')
    store.addProjectChannel(id, '!!!')
    store.addProjectChannel('missing', 'x')
    store.setProjectChannelPeople(id, 'front-end', ['ana'])
    expect(store.loadStore().projects[0]).toMatchObject({ channels: ['general', 'front-end'], channelPeople: { 'front-end': ['ana'] } })
    store.removeProjectChannel(id, 'FRONT END')
    expect(store.loadStore().projects[0]).toMatchObject({ channels: ['general'], channelPeople: {} })
  })

  it('[API-4] setProjectChannelPeople returns what it stored, or [] for unknown targets', () => {
    const store = memoryStore()
    const { id } = store.addProject('A', '/a')
    expect(store.setProjectChannelPeople(id, 'General', [' ana ', 'ANA', 'ben', ''])).toEqual(['ANA', 'ben'])
    expect(store.setProjectChannelPeople(id, 'nope', ['x'])).toEqual([])
    expect(store.setProjectChannelPeople('missing', 'general', ['x'])).toEqual([])
    expect(store.loadStore().projects[0]!.channelPeople).toEqual({ general: ['ANA', 'ben'] })
    expect(store.setProjectChannelPeople(id, 'general', [])).toEqual([])
    expect(store.loadStore().projects[0]!.channelPeople).toEqual({})
  })

  it('[API-5] findProjectsWithPath compares resolved paths', () => {
    const store = memoryStore()
    const a = store.addProject('A', '/src/a')
    store.addProject('B', '/src/b')
    store.addProjectRoot(a.id, '/shared/lib')
    expect(store.findProjectsWithPath('/src/a/')).toEqual([{ id: a.id, name: 'A' }])
    expect(store.findProjectsWithPath('/shared/x/../lib')).toEqual([{ id: a.id, name: 'A' }])
    expect(store.findProjectsWithPath('/nowhere')).toEqual([])
  })

  it('[API-6] addProjectRoot throws for unknown projects and returns an existing root by path', () => {
    const store = memoryStore()
    const { id, roots } = store.addProject('A', '/src/a')
    expect(() => store.addProjectRoot('missing', '/x')).toThrow(new Error('Project not found'))
    expect(store.addProjectRoot(id, '/src/a')).toEqual(roots[0])
    const added = store.addProjectRoot(id, '/src/docs', '  Docs  ')
    expect(added).toEqual({ id: expect.any(String), name: 'Docs', path: '/src/docs' })
    expect(store.addProjectRoot(id, '/src/tools/').name).toBe('tools')
    expect(store.loadStore().projects[0]!.roots.map((root) => root.path)).toEqual(['/src/a', '/src/docs', '/src/tools/'])
  })

  it('[API-7] removeProjectRoot keeps at least one root and moves the primary', () => {
    const store = memoryStore()
    const { id, roots } = store.addProject('A', '/src/a')
    store.removeProjectRoot('missing', 'x')
    expect(() => store.removeProjectRoot(id, roots[0]!.id)).toThrow(new Error('A project must have at least one root'))
    const docs = store.addProjectRoot(id, '/src/docs')
    store.removeProjectRoot(id, roots[0]!.id)
    expect(store.loadStore().projects[0]).toMatchObject({ rootPath: '/src/docs', roots: [docs] })
  })

  it('[API-8] addProjectIntegration validates like Pear; removeProjectIntegration removes by id', () => {
    const store = memoryStore()
    const { id } = store.addProject('A', '/a')
    expect(() => store.addProjectIntegration('missing', 'GitHub')).toThrow(new Error('Project not found'))
    expect(() => store.addProjectIntegration(id, '   ')).toThrow(ZodError)
    const integration = store.addProjectIntegration(id, ' GitHub ', ' github ')
    expect(integration).toEqual({ id: expect.any(String), name: 'GitHub', type: 'github' })
    expect(store.addProjectIntegration(id, 'Notes').type).toBe('custom')
    store.removeProjectIntegration(id, integration.id)
    store.removeProjectIntegration('missing', integration.id)
    expect(store.loadStore().projects[0]!.integrations.map((entry) => entry.name)).toEqual(['Notes'])
  })

  it('[API-9] updateProject applies only name and cloudAgentWorkspaceMode', () => {
    const store = memoryStore()
    const { id } = store.addProject('A', '/a')
    store.updateProject(id, { name: '  B  ', rootPath: '/evil', channels: ['x'], cloudAgentWorkspaceMode: 'git' })
    store.updateProject(id, { name: '   ' })
    store.updateProject(id, { cloudAgentWorkspaceMode: 'bogus' as never })
    store.updateProject('missing', { name: 'x' })
    expect(store.loadStore().projects[0]).toMatchObject({ name: 'B', rootPath: '/a', channels: ['general'], cloudAgentWorkspaceMode: 'git' })
  })

  it('[API-10] relay workspace get/set/clear behave as Pear', () => {
    const store = memoryStore()
    expect(store.getRelayWorkspace()).toBeNull()
    store.setRelayWorkspaceRecord({ id: ' rw ', createdAt: '2026-10-01', apiUrl: 'https://relay.dev/', authKey: 'secret' })
    expect(store.getRelayWorkspace()).toEqual({ id: 'rw', createdAt: '2026-10-01T00:00:00.000Z' })
    expect(store.getRelayWorkspaceRecord()).toEqual({ id: 'rw', createdAt: '2026-10-01T00:00:00.000Z', apiUrl: 'https://relay.dev', authKey: 'secret' })
    store.setRelayWorkspace({ id: 'rw2', createdAt: '2026-10-02T00:00:00.000Z' })
    expect(store.getRelayWorkspaceRecord()).toEqual({ id: 'rw2', createdAt: '2026-10-02T00:00:00.000Z' })
    store.setRelayWorkspaceRecord(null)
    expect(store.getRelayWorkspaceRecord()).toBeUndefined()
    store.setRelayWorkspace({ id: 'rw3', createdAt: 'x' })
    store.clearRelayWorkspace()
    expect(store.loadStore().relayWorkspace).toBeUndefined()
  })

  it('[API-11] setActiveProject sets the active project, locally only', () => {
    const { a, b, sync } = pair()
    const project = a.addProject('A', '/a')
    a.setActiveProject(project.id)
    sync()
    expect(a.loadStore().activeProjectId).toBe(project.id)
    expect(b.loadStore().activeProjectId).toBeNull()
    a.setActiveProject(null)
    expect(a.loadStore().activeProjectId).toBeNull()
  })
})

describe('whole-store saves', () => {
  it('[STORE-1] read-modify-write on two replicas keeps both changes', () => {
    const { a, b, sync } = pair()
    const { id } = a.addProject('Shared', '/src/shared')
    sync()
    const dataA = a.loadStore()
    const dataB = b.loadStore()
    dataA.projects[0]!.name = 'Renamed by A'
    dataB.projects[0]!.channels.push('from-b')
    dataB.projects[0]!.integrations.push({ id: 'int-b', name: 'Linear', type: 'linear' })
    a.saveStore(dataA)
    b.saveStore(dataB)
    sync()
    for (const store of [a, b]) {
      expect(store.loadStore().projects).toEqual([
        expect.objectContaining({ id, name: 'Renamed by A', channels: ['general', 'from-b'], integrations: [{ id: 'int-b', name: 'Linear', type: 'linear' }] })
      ])
    }
  })

  it('[STORE-1] an edit that arrives between a load and a save survives it', () => {
    const { a, b, sync } = pair()
    const { id } = a.addProject('P', '/p')
    sync()
    const stale = a.loadStore()
    b.addProjectChannel(id, 'arrived-meanwhile')
    b.updateProject(id, { name: 'Remote name' })
    sync()
    stale.activeProjectId = id
    a.saveStore(stale)
    sync()
    expect(a.loadStore().projects[0]).toMatchObject({ name: 'Remote name', channels: ['general', 'arrived-meanwhile'] })
    expect(a.loadStore().activeProjectId).toBe(id)
  })

  it('[STORE-2] data not from loadStore is diffed against the current view; rejected entries are dropped and logged', () => {
    const logger = recordingLogger()
    const store = new PearStore({ logger })
    const { id } = store.addProject('P', '/p')
    store.saveStore({
      projects: [
        { id, name: 'P2', relayWorkspaceId: id, rootPath: '/p', roots: [{ id: 'x', name: 'p', path: '/p' }], channels: ['general'], channelPeople: {}, integrations: [] },
        { id: 'rootless', name: 'R', relayWorkspaceId: 'rootless', rootPath: '', roots: [], channels: [], channelPeople: {}, integrations: [] }
      ],
      activeProjectId: null
    })
    const projects = store.loadStore().projects
    expect(projects.map((project) => project.name)).toEqual(['P2'])
    expect(logger.lines.some((line) => line.includes('no usable root'))).toBe(true)
  })

  it('[STORE-3] onChange fires for remote edits with their project ids, not for local ones', () => {
    const { a, b, sync } = pair()
    const changes: string[][] = []
    const off = b.onChange((change) => changes.push(change.projectIds))
    const { id } = a.addProject('P', '/p')
    b.addProject('Local', '/l')
    sync()
    expect(changes).toEqual([[id]])
    off()
    a.updateProject(id, { name: 'x' })
    sync()
    expect(changes).toHaveLength(1)
  })
})

describe('local-only state', () => {
  it('[DOC-3] no local-only value ever enters the shared doc', () => {
    const store = memoryStore()
    const { id } = store.addProject('P', '/p')
    store.setActiveProject(id)
    store.setRelayWorkspaceRecord({ id: 'rw', createdAt: '2026-01-01', authKey: 'TOP-SECRET-KEY' })
    const data = store.loadStore()
    data.projects[0]!.cloudAgent = { id: 'ca', sandboxId: 'sb', relayfileMountPath: '/mnt/LOCAL-MOUNT', attachedAt: 'now', autoPullAfterRun: true }
    data.projects[0]!.roots[0]!.path = '/moved/LOCAL-PATH'
    data.topLevelSecret = 'TOP-LEVEL-LOCAL'
    store.saveStore(data)
    const bytes = Buffer.from(Y.encodeStateAsUpdate(store.doc)).toString('latin1')
    for (const secret of ['TOP-SECRET-KEY', 'LOCAL-MOUNT', 'LOCAL-PATH', 'TOP-LEVEL-LOCAL', 'activeProjectId']) {
      expect(bytes).not.toContain(secret)
    }
    expect(store.loadStore()).toMatchObject({ topLevelSecret: 'TOP-LEVEL-LOCAL', activeProjectId: id })
  })

  it('[LOCAL-1] active project, relay record and unknown top-level keys stay on this machine', () => {
    const { a, b, sync } = pair()
    const { id } = a.addProject('P', '/p')
    a.setActiveProject(id)
    a.setRelayWorkspaceRecord({ id: 'rw', createdAt: '2026-01-01', authKey: 'k' })
    const data = a.loadStore()
    data.uiTheme = 'dark'
    a.saveStore(data)
    sync()
    expect(b.loadStore()).toEqual({ projects: a.loadStore().projects, activeProjectId: null })
    expect(a.loadStore().uiTheme).toBe('dark')
  })

  it('[LOCAL-2] a moved root keeps its own path on this machine only', () => {
    const { a, b, sync } = pair()
    const { id, roots } = a.addProject('P', '/home/ana/p')
    sync()
    const data = b.loadStore()
    data.projects[0]!.roots[0]!.path = '/Users/ben/p'
    data.projects[0]!.rootPath = '/Users/ben/p'
    b.saveStore(data)
    sync()
    expect(b.loadStore().projects[0]).toMatchObject({ rootPath: '/Users/ben/p', roots: [{ id: roots[0]!.id, path: '/Users/ben/p' }] })
    expect(a.loadStore().projects[0]).toMatchObject({ rootPath: '/home/ana/p', roots: [{ id: roots[0]!.id, path: '/home/ana/p' }] })
    expect(b.findProjectsWithPath('/Users/ben/p')).toEqual([{ id, name: 'P' }])
    b.setLocalRootPath(id, roots[0]!.id, null)
    expect(b.loadStore().projects[0]!.roots[0]!.path).toBe('/home/ana/p')
    // a root added on b is created with b's path, which is what a sees too
    b.addProjectRoot(id, '/Users/ben/docs')
    sync()
    expect(a.loadStore().projects[0]!.roots.map((root) => root.path)).toEqual(['/home/ana/p', '/Users/ben/docs'])
  })

  it('[LOCAL-3] cloudAgent stays local; workspace mode, proactive agents and host are shared', () => {
    const { a, b, sync } = pair()
    const { id } = a.addProject('P', '/p')
    const data = a.loadStore()
    const cloudAgent = { id: 'ca', sandboxId: 'sb', relayfileMountPath: '/mnt/x', attachedAt: '2026-01-01T00:00:00.000Z', autoPullAfterRun: true }
    data.projects[0]!.cloudAgent = cloudAgent
    data.projects[0]!.proactiveAgents = [{ personaId: 'reviewer' }]
    a.saveStore(data)
    a.updateProject(id, { cloudAgentWorkspaceMode: 'relayfile' })
    a.setProjectHost(id, { instanceId: 'inst-1', label: 'ana-laptop' })
    sync()
    expect(a.loadStore().projects[0]!.cloudAgent).toEqual(cloudAgent)
    const remote = b.loadStore().projects[0]!
    expect(remote.cloudAgent).toBeUndefined()
    expect(remote).toMatchObject({ cloudAgentWorkspaceMode: 'relayfile', proactiveAgents: [{ personaId: 'reviewer' }], host: { instanceId: 'inst-1', label: 'ana-laptop' } })
  })

  it('[PEAR-11] unknown project keys survive saves and sync', () => {
    const { a, b, sync } = pair()
    a.addProject('P', '/p')
    const data = a.loadStore()
    data.projects[0]!.teamNote = 'keep'
    data.projects[0]!.integrations.push({ id: 'i', name: 'X', type: 'custom', webhook: { url: 'https://x' } })
    a.saveStore(data)
    sync()
    const remote = b.loadStore()
    expect(remote.projects[0]!.teamNote).toBe('keep')
    expect(remote.projects[0]!.integrations[0]).toEqual({ id: 'i', name: 'X', type: 'custom', webhook: { url: 'https://x' } })
    remote.projects[0]!.teamNote = undefined
    b.saveStore(remote)
    sync()
    expect('teamNote' in a.loadStore().projects[0]!).toBe(false)
  })
})
