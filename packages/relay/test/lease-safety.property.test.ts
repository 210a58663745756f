/**
 * Lease safety (LEASE-3, LEASE-6): random claims, takeovers, releases, input, disconnects,
 * clock steps (both ways) and relay restarts. Whatever happens, at no epoch does input
 * from two instances reach the host, input epochs never go back at the host, and the
 * epochs the relay grants never go back. Every run grants a lease and delivers input (it
 * opens with a claim and an input), every refused call must have a reason the run explains
 * (EXPECTED_REFUSALS), and every input is followed to its end by the relay's answer
 * (INPUT-2) rather than by a sleep. Seeds replay with ORCHARD_SEED.
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
  | { t: 'input'; i: number; settle?: boolean }
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

/** Why a call was refused: every refusal must be one the scenario can cause, or the run fails. */
const EXPECTED_REFUSALS: Record<string, readonly string[]> = {
  // Another instance holds it; we were offline (dropped, or the relay restarting).
  claim: ['conflict', 'disconnected'],
  release: ['disconnected'],
  // The lease moved on (expired, taken over), we were offline, or the host was (a restart).
  input: ['not-holder', 'stale-epoch', 'disconnected', 'host-offline']
}

function codeOf(error: unknown): string {
  return typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'string' ? (error as { code: string }).code : String(error)
}

async function run(steps: Step[]): Promise<void> {
  const ws = await testWorkspace({ leaseTtlMs: 400, hostTimeoutMs: 2_000 })
  try {
    const host = await ws.session({ instanceId: 'host' })
    const broker = new FakeBroker()
    const binding = host.host(broker)
    let hostRefused = 0
    binding.on('input-refused', () => hostRefused++)
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
    const refused: Array<{ call: string; code: string }> = []
    const refuse = (call: string) => (error: unknown) => {
      refused.push({ call, code: codeOf(error) })
    }
    // Every input's fate, as the relay answered it (INPUT-2): no sleeping for in-flight input.
    const inputs: Array<Promise<void>> = []
    const accepted: string[] = []
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
            }, refuse('claim'))
          break
        case 'release':
          await client!.release(agent.id).then(() => undefined, refuse('release'))
          break
        case 'input': {
          const lease = client!.leases.get(agent.id)
          if (!lease) break
          const text = `${client!.instanceId}|${lease.epoch}|${++sent}`
          const outcome = client!.sendInput(agent.id, text).then(() => void accepted.push(text), refuse('input'))
          inputs.push(outcome)
          // The opening input is answered before anything else happens, so every run delivers one.
          if (s.settle) await outcome
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
          // Time passing is a move in the game (renewals, expiry by the relay's sweeper), not a wait for a result.
          await new Promise((resolve) => setTimeout(resolve, s.ms))
          break
        case 'restart':
          await ws.restart()
          await eventually(() => host.provider.status === 'connected', { what: 'host back after restart' })
          break
      }
    }
    // Each input settles by the relay's ACK or refusal, or by its connection ending.
    await Promise.all(inputs)

    // Every refused call is one the scenario explains; nothing is swallowed.
    for (const { call, code } of refused) {
      expect(EXPECTED_REFUSALS[call], `${call} refused with ${code}, which nothing in this run explains`).toContain(code)
    }
    // A run that grants nothing or delivers nothing proves nothing (the scenario starts with a claim and an input).
    expect(granted.length, 'no claim was ever granted').toBeGreaterThan(0)
    expect(accepted.length, 'the relay accepted no input').toBeGreaterThan(0)
    // Accepted means forwarded: each accepted input reaches the host, or the host's own fence refuses it (HOST-2).
    await eventually(() => accepted.filter((text) => !broker.written.some((w) => w.text === text)).length <= hostRefused, {
      what: 'every input the relay accepted to reach the host'
    })
    expect(broker.written.length, 'no input reached the host').toBeGreaterThan(0)

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

/** Every scenario opens with a claim and an input by the owner, so grants and deliveries are required, not hoped for. */
const scenario = fc
  .array(step, { minLength: 5, maxLength: 40 })
  .map((steps): Step[] => [{ t: 'claim', i: 0, takeover: false }, { t: 'input', i: 0, settle: true }, ...steps])

describe('lease safety', () => {
  it('[LEASE-3] [LEASE-6] no epoch ever accepts input from two instances, and epochs never go back', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, (steps) => run(steps)),
      fuzzParams(25)
    )
  }, 120_000)
})
