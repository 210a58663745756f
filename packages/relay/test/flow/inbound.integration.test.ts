/**
 * Inbound budgets (issue 9, items 5 and 9): every frame kind is charged, an honest burst is
 * slowed (the relay stops reading the socket, as TCP would) rather than closed, and only a
 * sender kept at its limit is closed with 4429.
 */
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as encoding from 'lib0/encoding'
import * as syncProtocol from 'y-protocols/sync'
import * as Y from 'yjs'
import type { AgentRecord } from '@orchard/client'
import { MemoryPair } from '@orchard/client/testing'
import { FrameKind, PROTOCOL_VERSION, decodeFrame, encodeFrame, type Frame } from '@orchard/protocol'
import { eventually, startTestRelay } from '@orchard/relay/testing'
import { FakeBroker } from '../harness/fake-broker.js'
import { testWorkspace } from '../harness/workspace.js'

const cleanup: Array<() => Promise<unknown> | void> = []
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step()
})

function syncBody(write: (encoder: encoding.Encoder) => void): Uint8Array {
  const encoder = encoding.createEncoder()
  write(encoder)
  return encoding.toUint8Array(encoder)
}

function stock(url: string, room: string, token: string): WebsocketProvider {
  const provider = new WebsocketProvider(url, room, new Y.Doc(), {
    WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
    params: { token },
    disableBc: true
  })
  cleanup.push(() => provider.destroy())
  return provider
}

describe('honest bursts', () => {
  it('[LIMIT-5] a stock y-websocket writer bursting 10,000 updates is slowed, not closed: every update arrives', async () => {
    const relay = await startTestRelay()
    cleanup.push(() => relay.close())
    const writer = stock(relay.url, relay.workspaceId, relay.ownerCredential)
    const reader = stock(relay.url, relay.workspaceId, relay.ownerCredential)
    const closes: number[] = []
    writer.on('connection-close', (event: { code: number } | null) => closes.push(event?.code ?? 0))
    await eventually(() => writer.synced && reader.synced, { what: 'both synced' })
    // One transaction per update: 10,000 y-websocket messages, 2.5 times the frame burst.
    const map = writer.doc.getMap<number>('burst')
    for (let n = 0; n < 10_000; n++) map.set(`k${n}`, n)
    const seen = reader.doc.getMap<number>('burst')
    await eventually(() => seen.size === 10_000, { timeoutMs: 25_000, what: 'all 10,000 updates at the reader' })
    expect(closes).toEqual([])
    expect(writer.wsconnected).toBe(true)
    expect(seen.get('k9999')).toBe(9_999)
    // What the user does not see: the relay paused reading the writer's socket meanwhile.
    const room = await relay.core.room(relay.workspaceId)
    expect([...room.peers].length).toBe(2)
  })
})

describe('before authentication', () => {
  it('[LIMIT-5] a stock client is not read while its token is checked; what it sent meanwhile is handled once it is in', async () => {
    const ws = await testWorkspace({})
    cleanup.push(() => ws.close())
    const calls: string[] = []
    const sent: Uint8Array[] = []
    const handle = ws.core.acceptYws(
      { send: (data) => sent.push(data), close: (code) => calls.push(`close ${code}`), bufferedAmount: 0, pause: () => calls.push('pause'), resume: () => calls.push('resume') },
      ws.workspaceId,
      ws.ownerCredential
    )
    // Paused at once, before the token lookup has had a chance to finish.
    expect(calls).toEqual(['pause'])
    const step1 = new Uint8Array(syncBody((encoder) => syncProtocol.writeSyncStep1(encoder, new Y.Doc())))
    handle.receive(new Uint8Array([0, ...step1]))
    await eventually(() => calls.includes('resume'), { what: 'resumed once authenticated' })
    expect(calls).toEqual(['pause', 'resume'])
    // The queued step 1 was answered (a step 2: y-websocket message 0, sync message 1).
    await eventually(() => sent.some((bytes) => bytes[0] === 0 && bytes[1] === 1), { what: 'the queued step 1 answered' })
  })
})

describe('abuse', () => {
  it('[LIMIT-5] a sender kept at its frame limit past maxThrottledMs is closed with 4429 and told why', async () => {
    const relay = await startTestRelay({ limits: { framesPerSecond: 100, maxThrottledMs: 500 } })
    cleanup.push(() => relay.close())
    const ws = new WebSocket(`${relay.url}/orchard`)
    cleanup.push(() => ws.terminate())
    const frames: Frame[] = []
    let closed: { code: number; reason: string } | null = null
    ws.on('message', (data: Buffer) => frames.push(decodeFrame(new Uint8Array(data))))
    ws.on('close', (code, reason) => (closed = { code, reason: reason.toString() }))
    ws.on('error', () => undefined)
    await new Promise((resolve) => ws.once('open', resolve))
    ws.send(encodeFrame({ kind: FrameKind.hello, channel: '', protocol: PROTOCOL_VERSION, credential: relay.ownerCredential, instanceId: 'flood' }))
    await eventually(() => frames.some((frame) => frame.kind === FrameKind.welcome), { what: 'welcome' })
    const frame = encodeFrame({ kind: FrameKind.event, channel: '', event: { type: 'noise' } })
    // Far over 100 frames/s, for as long as it takes (bounded): only keeping at it gets it closed.
    for (let round = 0; round < 1_000 && !closed; round++) {
      if (ws.bufferedAmount < 256 * 1024) for (let n = 0; n < 50; n++) ws.send(frame)
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    expect(closed).toEqual({ code: 4429, reason: 'rate-limited' })
    expect(frames.find((entry) => entry.kind === FrameKind.error && entry.code === 'rate-limited')).toMatchObject({ message: expect.stringContaining('Too many frames') })
  })

  /** A workspace with a host session running one agent, and a raw socket that cannot pause. */
  async function withAgent(limits: Parameters<typeof testWorkspace>[0]) {
    const ws = await testWorkspace(limits)
    cleanup.push(() => ws.close())
    const host = await ws.session({ instanceId: 'host' })
    host.host(new FakeBroker())
    const projectId = host.store.addProject('Pear', '/src/pear').id
    host.store.setProjectHost(projectId, { instanceId: 'host' })
    await host.provider.whenPersisted()
    const agent: AgentRecord = await host.spawn(projectId, 'alice')
    const raw = async (credential: string, instanceId: string) => {
      const pair = new MemoryPair()
      const handle = ws.core.acceptOrchard(pair.server)
      pair.server.onMessage((data) => handle.receive(data))
      pair.server.onClose(() => handle.closed())
      const state = { closed: null as { code: number; reason: string } | null, frames: [] as Frame[] }
      pair.client.onMessage((data) => state.frames.push(decodeFrame(data)))
      pair.client.onClose((code, reason) => (state.closed = { code, reason }))
      pair.client.send(encodeFrame({ kind: FrameKind.hello, channel: '', protocol: PROTOCOL_VERSION, credential, instanceId }))
      await eventually(() => state.frames.some((frame) => frame.kind === FrameKind.welcome), { what: 'welcome' })
      const flood = async (count: number) => {
        const tiny = encodeFrame({ kind: FrameKind.termOutput, channel: agent.id, generation: 1, offset: 0, data: new Uint8Array([1]) })
        for (let n = 0; n < count && !state.closed; n++) {
          pair.client.send(tiny)
          if (n % 100 === 99) await new Promise((resolve) => setImmediate(resolve))
        }
        await eventually(() => state.closed, { what: 'closed' })
      }
      return { state, flood }
    }
    return { ws, agent, raw }
  }

  it('[LIMIT-4] tiny terminal-output frames from a viewer are charged to the frame budget: the flood is closed with 4429', async () => {
    const { ws, raw } = await withAgent({ framesPerSecond: 50 })
    const viewer = await raw(await ws.member('viewer', 'vic'), 'vic')
    await viewer.flood(2_000)
    expect(viewer.state.closed).toEqual({ code: 4429, reason: 'rate-limited' })
  })

  it('[LIMIT-4] the agent\'s own host has an output frame budget too: a flood of tiny frames is bounded (closed here, on a transport that cannot pause)', async () => {
    const { ws, raw } = await withAgent({ outputFramesPerSecond: 100 })
    // The same member and instance as the host session: this socket now is the host (CONN-3).
    const host = await raw(ws.ownerCredential, 'host')
    await host.flood(2_000)
    expect(host.state.closed).toEqual({ code: 4429, reason: 'rate-limited' })
  })
})
