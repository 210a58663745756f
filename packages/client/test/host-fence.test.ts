/**
 * HOST-2 on the client: the host's own epoch fence, fed by the frames the relay forwards and
 * by the leases in the control doc, against a scripted relay (which can forward what a real
 * relay would only forward by mistake or late: an old holder's frame).
 */
import { FrameKind, type LeaseRecord } from '@orchard/protocol'
import { afterEach, describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import { HostBinding, RelayProvider, type BrokerHost } from '@orchard/client'
import { ScriptedRelay } from './harness/scripted-relay.js'

class RecordingBroker implements BrokerHost {
  readonly log: string[] = []
  async spawn(): Promise<unknown> {
    return null
  }
  async stop(): Promise<void> {}
  write(agentId: string, data: Uint8Array): void {
    this.log.push(`${agentId} write ${new TextDecoder().decode(data)}`)
  }
  resize(agentId: string, cols: number, rows: number): void {
    this.log.push(`${agentId} resize ${cols}x${rows}`)
  }
}

const cleanups: Array<() => void> = []
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup()
})

async function hosted(relay: ScriptedRelay): Promise<{ binding: HostBinding; broker: RecordingBroker; refused: Array<{ agentId: string; epoch: number; highest: number }> }> {
  const provider = new RelayProvider({
    transport: relay.transport(),
    credential: 'orc_m.ws-1.member-1.secret',
    instanceId: 'host',
    docs: { workspace: new Y.Doc(), control: new Y.Doc() }
  })
  await provider.whenSynced()
  const broker = new RecordingBroker()
  const binding = new HostBinding(provider, broker, provider.docs.control as Y.Doc)
  const refused: Array<{ agentId: string; epoch: number; highest: number }> = []
  binding.on('input-refused', (entry) => refused.push(entry))
  cleanups.push(() => provider.destroy(), () => binding.destroy())
  return { binding, broker, refused }
}

const input = (channel: string, epoch: number, text: string) => ({ kind: FrameKind.termInput, channel, epoch, data: new TextEncoder().encode(text) }) as const
const resize = (channel: string, epoch: number, cols: number, rows: number) => ({ kind: FrameKind.termResize, channel, epoch, cols, rows }) as const

const lease = (agentId: string, epoch: number): LeaseRecord => ({ agentId, holderInstanceId: 'x', memberId: 'm', memberName: 'M', epoch, expiresAt: Date.now() + 3_000, ttlMs: 3_000 })

describe('HOST-2: the host\'s own epoch fence', () => {
  it('[HOST-2] input and resizes below the highest epoch seen for that agent are refused and reported, never written; equal or higher pass and raise the fence', async () => {
    const relay = new ScriptedRelay()
    const { binding, broker, refused } = await hosted(relay)
    const frames = [
      input('agent-1', 3, 'new holder'),
      input('agent-1', 2, 'old holder, delayed'),
      input('agent-1', 3, 'same epoch again'),
      resize('agent-1', 2, 10, 5),
      resize('agent-1', 4, 100, 30),
      input('agent-1', 3, 'now old too'),
      // Another agent has its own fence.
      input('agent-2', 1, 'first on agent-2')
    ]
    for (const frame of frames) relay.last.send(frame)
    await vi.waitFor(() => expect(broker.log.length + refused.length).toBe(frames.length))
    expect(broker.log).toEqual(['agent-1 write new holder', 'agent-1 write same epoch again', 'agent-1 resize 100x30', 'agent-2 write first on agent-2'])
    expect(refused).toEqual([
      { agentId: 'agent-1', epoch: 2, highest: 3 },
      { agentId: 'agent-1', epoch: 2, highest: 3 },
      { agentId: 'agent-1', epoch: 3, highest: 4 }
    ])
    expect(binding.refusedInputs).toBe(3)
    expect([binding.epochOf('agent-1'), binding.epochOf('agent-2'), binding.epochOf('agent-3')]).toEqual([4, 1, 0])
  })

  it('[HOST-2] the relay\'s leases in the control doc raise the fence before any input arrives, and never lower it', async () => {
    const relay = new ScriptedRelay()
    // A lease already in force when the host connects counts from the start.
    relay.docs.control!.getMap<LeaseRecord>('leases').set('agent-1', lease('agent-1', 5))
    const { binding, broker, refused } = await hosted(relay)
    expect(binding.epochOf('agent-1')).toBe(5)
    relay.docs.control!.getMap<LeaseRecord>('leases').set('agent-2', lease('agent-2', 7))
    await vi.waitFor(() => expect(binding.epochOf('agent-2')).toBe(7))
    relay.last.send(input('agent-2', 6, 'from the holder before the takeover'))
    relay.last.send(input('agent-1', 5, 'holder of 5'))
    await vi.waitFor(() => expect(broker.log.length + refused.length).toBe(2))
    expect(refused).toEqual([{ agentId: 'agent-2', epoch: 6, highest: 7 }])
    expect(broker.log).toEqual(['agent-1 write holder of 5'])
    // A lower epoch written later (a stale view) does not lower the fence.
    relay.docs.control!.getMap<LeaseRecord>('leases').set('agent-2', lease('agent-2', 2))
    await relay.last.request('ping', {}) // answered only after the lease update before it was applied
    relay.last.send(input('agent-2', 6, 'still old'))
    await vi.waitFor(() => expect(refused).toHaveLength(2))
    expect(binding.epochOf('agent-2')).toBe(7)
  })

  it('[HOST-2] after destroy() the binding writes nothing and stops watching leases', async () => {
    const relay = new ScriptedRelay()
    const { binding, broker } = await hosted(relay)
    binding.destroy()
    relay.last.send(input('agent-1', 9, 'after destroy'))
    relay.docs.control!.getMap<LeaseRecord>('leases').set('agent-1', lease('agent-1', 9))
    // The relay's next answer proves both arrived before we look.
    await expect(relay.last.request('ping', {})).resolves.toMatchObject({ ok: false, code: 'not-found' })
    expect(broker.log).toEqual([])
    expect(binding.epochOf('agent-1')).toBe(0)
  })
})
