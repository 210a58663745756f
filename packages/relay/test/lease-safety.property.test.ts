/**
 * Lease safety (LEASE-3, LEASE-6): random claims, takeovers, releases, input, disconnects,
 * clock steps (both ways) and relay restarts. Whatever happens, at no epoch does input
 * from two instances reach the host, input epochs never go back at the host, and the
 * epochs the relay grants never go back. Seeds replay with ORCHARD_SEED.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { WorkspaceSession } from '@orchard/client'
import { fuzzParams } from '@orchard/protocol/testing'
import { eventually } from '@orchard/relay/testing'
import { FakeBroker } from './harness/fake-broker.js'
import { testWorkspace } from './harness/workspace.js'

type Step =
  | { t: 'claim'; i: number; takeover: boolean }
  | { t: 'release'; i: number }
  | { t: 'input'; i: number }
  | { t: 'forge'; i: number; delta: number }
  | { t: 'drop'; i: number }
  | { t: 'reconnect'; i: number }
  | { t: 'clock'; ms: number }
  | { t: 'wait'; ms: number }
  | { t: 'restart' }

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ t: fc.constant('claim' as const), i: fc.nat(2), takeover: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('release' as const), i: fc.nat(2) }) },
  { weight: 6, arbitrary: fc.record({ t: fc.constant('input' as const), i: fc.nat(2) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('forge' as const), i: fc.nat(2), delta: fc.integer({ min: -2, max: 1 }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('drop' as const), i: fc.nat(2) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('reconnect' as const), i: fc.nat(2) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('clock' as const), ms: fc.integer({ min: -5_000, max: 5_000 }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('wait' as const), ms: fc.integer({ min: 0, max: 40 }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('restart' as const) }) }
)

async function run(steps: Step[]): Promise<void> {
  const ws = await testWorkspace({ leaseTtlMs: 400, hostTimeoutMs: 2_000 })
  try {
    const host = await ws.session({ instanceId: 'host' })
    const broker = new FakeBroker()
    host.host(broker)
    const projectId = host.store.addProject('P', '/p').id
    host.store.setProjectHost(projectId, { instanceId: 'host' })
    await host.provider.whenPersisted()
    const agent = await host.spawn(projectId, 'agent')
    const clients: WorkspaceSession[] = [
      await ws.session({ instanceId: 'a' }),
      await ws.session({ credential: await ws.member('editor', 'b'), instanceId: 'b' }),
      await ws.session({ credential: await ws.member('editor', 'c'), instanceId: 'c' })
    ]
    const granted: number[] = []
    let sent = 0
    let lastEpochSeen = 0
    for (const s of steps) {
      const client = 'i' in s ? (clients[s.i] as WorkspaceSession) : undefined
      switch (s.t) {
        case 'claim':
          await client!
            .claim(agent.id, { takeover: s.takeover && client === clients[0] })
            .then((lease) => {
              granted.push(lease.epoch)
              lastEpochSeen = Math.max(lastEpochSeen, lease.epoch)
            })
            .catch(() => undefined)
          break
        case 'release':
          await client!.release(agent.id).catch(() => undefined)
          break
        case 'input': {
          const lease = client!.leases.get(agent.id)
          if (lease) client!.sendInput(agent.id, `${client!.instanceId}|${lease.epoch}|${++sent}`)
          break
        }
        case 'forge': {
          // A frame from a client that believes (wrongly, perhaps) it holds some epoch.
          const epoch = Math.max(0, lastEpochSeen + s.delta)
          client!.provider.sendFrame({ kind: 12, channel: agent.id, epoch, data: new TextEncoder().encode(`${client!.instanceId}|${epoch}|${++sent}`) })
          break
        }
        case 'drop':
          client!.provider.disconnect()
          break
        case 'reconnect':
          client!.provider.connect()
          break
        case 'clock':
          ws.clock.offset += s.ms
          break
        case 'wait':
          await new Promise((resolve) => setTimeout(resolve, s.ms))
          break
        case 'restart':
          await ws.restart()
          await eventually(() => host.provider.status === 'connected', { what: 'host back after restart' })
          break
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 20))

    // Oracle: per epoch, one sender; epochs at the host never go back; grants only grow.
    const senders = new Map<number, Set<string>>()
    let previous = 0
    for (const { text } of broker.written) {
      const [sender, epochText] = text.split('|')
      const epoch = Number(epochText)
      expect(epoch, `input went back from epoch ${previous} to ${epoch}`).toBeGreaterThanOrEqual(previous)
      previous = epoch
      const set = senders.get(epoch) ?? new Set<string>()
      set.add(sender as string)
      senders.set(epoch, set)
    }
    for (const [epoch, set] of senders) expect([...set], `epoch ${epoch} accepted input from ${[...set].join(' and ')}`).toHaveLength(1)
    for (let n = 1; n < granted.length; n++) expect(granted[n]!).toBeGreaterThanOrEqual(granted[n - 1]!)
  } finally {
    await ws.close()
  }
}

describe('lease safety', () => {
  it('[LEASE-3] [LEASE-6] no epoch ever accepts input from two instances, and epochs never go back', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 5, maxLength: 40 }), (steps) => run(steps)),
      fuzzParams(25)
    )
  }, 120_000)
})
