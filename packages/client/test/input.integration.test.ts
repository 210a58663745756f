/**
 * Input Pear can drive (issue 12): sendInput's promise settles by the relay's answer, and
 * release() resolves once the lease is free. Against a real relay process over WebSocket.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import {
  NotHolderError,
  RelayRequestError,
  WorkspaceSession,
  type AgentRecord,
  type BrokerHost
} from '@orchard/client'
import { FrameKind, type Frame } from '@orchard/protocol'
import { startRelayChild, type RelayChild } from './harness/relay.js'

/** Runs nothing; records what reached it. */
class RecordingBroker implements BrokerHost {
  readonly written: string[] = []
  readonly resized: Array<[number, number]> = []
  async spawn(): Promise<unknown> {
    return { pid: 1 }
  }
  async stop(): Promise<void> {}
  write(_agentId: string, data: Uint8Array): void {
    this.written.push(new TextDecoder().decode(data))
  }
  resize(_agentId: string, cols: number, rows: number): void {
    this.resized.push([cols, rows])
  }
}

let relay: RelayChild
let owner: WorkspaceSession
let broker: RecordingBroker
let projectId: string
const sessions: WorkspaceSession[] = []

beforeAll(async () => {
  relay = await startRelayChild()
  owner = await WorkspaceSession.open({ credential: relay.ownerCredential, relayUrl: relay.url, instanceId: 'owner-host' })
  broker = new RecordingBroker()
  owner.host(broker)
  projectId = owner.store.addProject('Pear', '/src/pear').id
  owner.store.setProjectHost(projectId, { instanceId: 'owner-host' })
  await owner.provider.whenPersisted()
})
afterEach(async () => {
  for (const session of sessions.splice(0)) await session.close()
})
afterAll(async () => {
  await owner.close()
  await relay.close()
})

async function editor(name: string): Promise<WorkspaceSession> {
  const session = await WorkspaceSession.join(await owner.createInvite('editor'), { name, instanceId: name })
  sessions.push(session)
  return session
}

async function agent(): Promise<AgentRecord> {
  return owner.spawn(projectId, 'agent', { onExisting: 'suffix' })
}

describe('input', () => {
  it('[INPUT-2] [LEASE-11] sendInput and resize resolve once the relay accepted them, each answered by an ACK with its number', async () => {
    const ben = await editor('ben')
    const { id } = await agent()
    await ben.claim(id)
    const acks: number[] = []
    ben.provider.on('frame', (frame: Frame) => {
      if (frame.kind === FrameKind.ack && frame.channel === id) acks.push(frame.seq)
    })
    await expect(ben.sendInput(id, 'ls\r')).resolves.toBeUndefined()
    await expect(ben.resize(id, 100, 30)).resolves.toBeUndefined()
    await expect(ben.sendInput(id, 'pwd\r')).resolves.toBeUndefined()
    expect(acks).toEqual([1, 2, 3])
    // Accepted means forwarded: the host gets them, in order.
    await vi.waitFor(() => expect(broker.written.slice(-2)).toEqual(['ls\r', 'pwd\r']), { timeout: 5_000 })
    expect(broker.resized.at(-1)).toEqual([100, 30])
  })

  it('[INPUT-2] [LEASE-11] input the relay refuses rejects with the typed error, in the relay\'s words; offline input rejects as disconnected', async () => {
    const ben = await editor('ben2')
    const { id } = await agent()
    await ben.claim(id)
    ben.provider.disconnect()
    // Not connected: nothing is sent and the promise says so.
    const offline = ben.sendInput(id, 'x')
    await expect(offline).rejects.toBeInstanceOf(RelayRequestError)
    await expect(offline).rejects.toMatchObject({ code: 'disconnected' })
    await owner.claim(id, { takeover: true })
    // Ben's client still thinks it holds the lease until the relay tells it otherwise: its
    // first keystroke after reconnecting (sent on WELCOME, before the renewal's answer) is refused.
    const refused = new Promise<unknown>((resolve) => {
      ben.provider.once('welcome', () => resolve(ben.sendInput(id, 'rm -rf /\r').then(() => 'accepted', (error: unknown) => error)))
    })
    ben.provider.connect()
    const error = await refused
    expect(error).toBeInstanceOf(NotHolderError)
    expect(error).toMatchObject({ code: 'not-holder', message: expect.stringContaining('holds this agent') })
    expect(broker.written).not.toContain('rm -rf /\r')
  })

  it('[INPUT-2] [LEASE-5] release() resolves once the relay has released the lease: a claim right after it, from anyone, is granted', async () => {
    const ben = await editor('ben3')
    const carol = await editor('carol3')
    const { id } = await agent()
    for (let round = 0; round < 5; round++) {
      const held = await ben.claim(id)
      expect(await ben.release(id)).toBe(true)
      // No wait in between: the release's answer is the relay's word that the lease is free.
      const taken = await carol.claim(id)
      expect(taken.epoch).toBeGreaterThan(held.epoch)
      expect(await carol.release(id)).toBe(true)
    }
  })
})
