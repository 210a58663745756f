/**
 * Coordination between instances in separate processes over a real relay: spawn races
 * and a kill -9 leaving no ghost.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PROVIDER_ORIGIN, WorkspaceSession } from '@orchard/client'
import { eventually, startTestRelay, type TestRelay } from '@orchard/relay/testing'
import { FakeBroker } from './harness/fake-broker.js'
import { startInstance, type InstanceProcess } from './harness/instance-process.js'

let relay: TestRelay
let host: WorkspaceSession
let broker: FakeBroker
let projectId: string
const instances: InstanceProcess[] = []

beforeAll(async () => {
  relay = await startTestRelay()
  host = await WorkspaceSession.open({ credential: relay.ownerCredential, relayUrl: relay.url, instanceId: 'host', label: 'host' })
  broker = new FakeBroker()
  broker.delayMs = 40
  host.host(broker)
  projectId = host.store.addProject('Pear', '/src/pear').id
  host.store.setProjectHost(projectId, { instanceId: 'host', label: 'host' })
  await host.provider.whenPersisted()
  const credentials = await Promise.all([1, 2, 3, 4, 5].map(async (n) => (await relay.core.auth.addMember(relay.workspaceId, `p${n}`, 'editor')).credential))
  instances.push(...(await Promise.all(credentials.map((credential, n) => startInstance(relay.url, `proc-${n + 1}`, credential)))))
}, 60_000)

afterAll(async () => {
  await Promise.all(instances.map((instance) => instance.call({ cmd: 'exit' }).catch(() => instance.kill9())))
  await host.close()
  await relay.close()
})

async function race(racers: InstanceProcess[], rounds: number, prefix: string): Promise<void> {
  for (let round = 0; round < rounds; round++) {
    const before = broker.spawned.length
    const results = await Promise.all(racers.map((racer) => racer.call({ cmd: 'spawn', projectId, name: `${prefix}-${round}`, onExisting: 'reuse' })))
    expect(results.every((result) => result.ok), JSON.stringify(results)).toBe(true)
    const ids = new Set(results.map((result) => (result.agent as { id: string }).id))
    expect(ids.size, `round ${round}: everyone gets the same agent`).toBe(1)
    expect(broker.spawned.length - before, `round ${round}: exactly one spawn`).toBe(1)
  }
}

describe('instances in separate processes', () => {
  it('[SPAWN-1] [SPAWN-5] two instances race to spawn the same agent, many rounds: one spawn each round', async () => {
    await race(instances.slice(0, 2), 8, 'pair')
  }, 60_000)

  it('[SPAWN-1] five instances race to spawn the same agent, many rounds: one spawn each round', async () => {
    await race(instances, 8, 'five')
  }, 60_000)

  it('[SPAWN-3] five instances each wanting their own worker get distinct names, no duplicates', async () => {
    const results = await Promise.all(instances.map((instance, n) => instance.call({ cmd: 'spawn', projectId, name: 'worker', key: `own-${n}` })))
    const names = results.map((result) => (result.agent as { name: string }).name).sort()
    expect(names).toEqual(['worker', 'worker-2', 'worker-3', 'worker-4', 'worker-5'])
    const seen = (await instances[0]!.call({ cmd: 'agents' })).agents as Array<{ id: string; name: string }>
    await eventually(() => host.agents().length === seen.length, { what: 'same agents everywhere' })
    const hostView = host.agents()
    expect(hostView.map((agent) => agent.id).sort()).toEqual(seen.map((agent) => agent.id).sort())
  }, 60_000)

  it('[PRESENCE-4] an instance killed with kill -9 leaves no ghost', async () => {
    const victim = instances.at(-1)!
    await victim.call({ cmd: 'presence', state: { projectId } })
    await eventually(() => host.presence.list().some((entry) => entry.instanceId === 'proc-5'), { what: 'host sees proc-5' })
    const victimClient = [...host.awareness.getStates()].find(([, state]) => (state as { orchard?: { instanceId?: string } }).orchard?.instanceId === 'proc-5')?.[0]
    expect(victimClient).toBeDefined()
    // Who removed the ghost: the relay (its update arrives through the provider) or y-protocols'
    // own 30 s timeout (origin 'timeout')? The origin says so, with no clock to read.
    let removedBy: unknown = 'nobody'
    host.awareness.on('update', ({ removed }: { removed: number[] }, origin: unknown) => {
      if (removed.includes(victimClient as number)) removedBy = origin
    })
    await victim.kill9()
    instances.pop()
    await eventually(() => !host.presence.list().some((entry) => entry.instanceId === 'proc-5'), { what: 'ghost gone', timeoutMs: 30_000 })
    expect(removedBy).toBe(PROVIDER_ORIGIN)
    await eventually(() => !Object.keys(host.controlDoc.getMap('instances').toJSON()).includes('proc-5'), { what: 'instance gone from control doc' })
  }, 60_000)
})
