/**
 * Agent names and spawn coalescing as Pear makes them (issue 10, item 11): the pure rules,
 * then the same rules through a real relay core with sessions and a broker host.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { WorkspaceSession } from '@orchard/client'
import { FakeBroker } from '../../test/harness/fake-broker.js'
import { testWorkspace, type TestWorkspace } from '../../test/harness/workspace.js'
import { availableAgentName, normalizeSpawnOptions, spawnCoalesceKey } from './agent-names.js'

describe('agent names as Pear allocates them', () => {
  it('[SPAWN-3] a taken name with a numeric suffix counts on from it', () => {
    expect(availableAgentName('alice', new Set())).toBe('alice')
    expect(availableAgentName(' alice ', new Set())).toBe('alice')
    expect(availableAgentName('alice', new Set(['alice']))).toBe('alice-2')
    expect(availableAgentName('alice', new Set(['alice', 'alice-2']))).toBe('alice-3')
    expect(availableAgentName('alice-2', new Set(['alice', 'alice-2']))).toBe('alice-3')
    expect(availableAgentName('alice-2', new Set(['alice-2', 'alice-3', 'alice-4']))).toBe('alice-5')
    expect(availableAgentName('build-2024', new Set(['build-2024']))).toBe('build-2025')
    expect(availableAgentName('-7', new Set(['-7']))).toBe('-8')
  })

  it('[SPAWN-3] always finds a free name within one more try than there are taken names', () => {
    const taken = new Set(Array.from({ length: 500 }, (_, n) => (n === 0 ? 'w' : `w-${n + 1}`)))
    expect(availableAgentName('w', taken)).toBe('w-501')
    expect(availableAgentName('w-2', taken)).toBe('w-501')
  })

  it('[SPAWN-1] missing spawn fields are the same request as their defaults, as Pear keys them', () => {
    expect(normalizeSpawnOptions(undefined)).toEqual(normalizeSpawnOptions({ args: [] }))
    expect(normalizeSpawnOptions({ cli: 'claude' })).toEqual(normalizeSpawnOptions({ cli: 'claude', args: [], cwd: '', task: '', model: '', broker: 'auto' }))
    expect(spawnCoalesceKey('p', 'alice', undefined, 'suffix')).toBe(spawnCoalesceKey('p', 'alice', { args: [] }, 'suffix'))
    expect(spawnCoalesceKey('p', 'alice', null, 'suffix')).toBe(spawnCoalesceKey('p', 'alice', { parentAgentName: '' }, 'suffix'))
    expect(spawnCoalesceKey('p', 'alice', { args: ['--x'] }, 'suffix')).not.toBe(spawnCoalesceKey('p', 'alice', {}, 'suffix'))
    expect(spawnCoalesceKey('p', 'alice', { cli: 'codex' }, 'suffix')).not.toBe(spawnCoalesceKey('p', 'alice', { cli: 'claude' }, 'suffix'))
    expect(normalizeSpawnOptions('opaque')).toBe('opaque')
  })
})

describe('through the relay', () => {
  let ws: TestWorkspace
  let host: WorkspaceSession
  let broker: FakeBroker
  let projectId: string

  beforeEach(async () => {
    ws = await testWorkspace({ leaseTtlMs: 1_000, hostTimeoutMs: 2_000 })
    host = await ws.session({ instanceId: 'host-machine', label: 'ana-desktop' })
    broker = new FakeBroker()
    host.host(broker)
    projectId = host.store.addProject('Pear', '/src/pear').id
    host.store.setProjectHost(projectId, { instanceId: 'host-machine' })
    await host.provider.whenPersisted()
  })
  afterEach(() => ws.close())

  it('[SPAWN-3] alice-2 requested while alice-2 is live starts alice-3, as in Pear', async () => {
    const ben = await ws.session({ credential: await ws.member('editor', 'ben'), instanceId: 'ben' })
    expect((await ben.spawn(projectId, 'alice')).name).toBe('alice')
    expect((await ben.spawn(projectId, 'alice')).name).toBe('alice-2')
    expect((await ben.spawn(projectId, 'alice-2')).name).toBe('alice-3')
  })

  it('[SPAWN-1] a spawn without args and one with args: [] in flight together start one agent', async () => {
    const ben = await ws.session({ credential: await ws.member('editor', 'ben'), instanceId: 'ben' })
    broker.delayMs = 20
    const [a, b] = await Promise.all([
      ben.spawn(projectId, 'alice', { options: { cli: 'claude' } }),
      ben.spawn(projectId, 'alice', { options: { cli: 'claude', args: [] } })
    ])
    expect(b.id).toBe(a.id)
    expect(broker.spawned).toHaveLength(1)
  })
})
