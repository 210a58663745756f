// A workspace ready for coordination: the relay (CLI child process), a host instance with
// an instant broker, a project hosted by it, and a crowd of idle instances either in this
// process or in child processes. Instance counts include the host.
import type { LeaseRecord, WorkspaceSession } from '@orchard/client'
import { startInstances, type InstancesChild } from './children.js'
import { InstantBroker, closeSessions, openSessions, startOrchardRelay, withDeadline, type CountedSession, type OrchardRelay } from './common.js'

export type CrowdWhere = 'bench' | 'child'

export interface World {
  relay: OrchardRelay
  host: CountedSession
  broker: InstantBroker
  projectId: string
  crowd: CountedSession[]
  crowdChildren: InstancesChild[]
  close(): Promise<void>
}

export async function startWorld(opts: { durability?: 'full' | 'normal'; nodeFlags?: string[] } = {}): Promise<World> {
  const relay = await startOrchardRelay(opts)
  const world: World = {
    relay,
    host: undefined as unknown as CountedSession,
    broker: new InstantBroker(),
    projectId: '',
    crowd: [],
    crowdChildren: [],
    async close() {
      await Promise.all(world.crowdChildren.splice(0).map((c) => c.stop()))
      await closeSessions(world.crowd.splice(0))
      if (world.host) await closeSessions([world.host])
      await relay.stop()
    },
  }
  try {
    world.host = (await openSessions({ relayUrl: relay.url, credential: relay.ownerToken, count: 1, prefix: 'host' }))[0]!
    const host = world.host.session
    host.host(world.broker)
    world.projectId = host.store.addProject('Bench', '/src/bench').id
    host.store.setProjectHost(world.projectId, { instanceId: host.instanceId, label: 'host' })
    await withDeadline(host.provider.whenPersisted(), 15_000, 'project stored')
  } catch (e) {
    await world.close()
    throw e
  }
  return world
}

/** Adds `count` idle instances (owner credential, distinct instance ids), here or in `children` child processes. */
export async function addCrowd(world: World, count: number, where: CrowdWhere, children = 1): Promise<void> {
  if (count <= 0) return
  if (where === 'bench') {
    world.crowd.push(...(await openSessions({ relayUrl: world.relay.url, credential: world.relay.ownerToken, count, prefix: `crowd${world.crowd.length}` })))
    return
  }
  const per = Math.ceil(count / children)
  const started = await Promise.all(
    Array.from({ length: children }, (_, c) => {
      const k = Math.min(per, count - c * per)
      return k > 0 ? startInstances(world.relay.url, Array(k).fill(world.relay.ownerToken), `crowdp${c}`) : null
    }),
  )
  world.crowdChildren.push(...started.filter((c): c is InstancesChild => c !== null))
}

/** Invites `count` editors (one member each) through the owner session; returns their credentials after one join each. */
export async function editorInvites(world: World, count: number): Promise<string[]> {
  const out: string[] = []
  for (let i = 0; i < count; i++) out.push(await world.host.session.createInvite('editor', { maxUses: 1 }))
  return out
}

/** Resolves once `session`'s control doc shows a lease for `agentId` matching `pred` (event-driven, bounded). */
export function waitLease(session: WorkspaceSession, agentId: string, pred: (lease: LeaseRecord | undefined) => boolean, timeoutMs = 10_000): Promise<void> {
  const leases = session.controlDoc.getMap<LeaseRecord>('leases')
  if (pred(leases.get(agentId))) return Promise.resolve()
  return new Promise((resolve, reject) => {
    const check = () => {
      if (!pred(leases.get(agentId))) return
      done()
      resolve()
    }
    const timer = setTimeout(() => {
      done()
      reject(new Error(`timeout after ${timeoutMs} ms: lease of ${agentId} in ${session.instanceId}'s control doc`))
    }, timeoutMs)
    const done = () => {
      clearTimeout(timer)
      leases.unobserve(check)
    }
    leases.observe(check)
  })
}
