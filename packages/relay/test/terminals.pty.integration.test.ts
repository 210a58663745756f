/**
 * Real PTYs through the real relay on a real port: a command writing several MB watched
 * by three viewers, one of them stalled on purpose; and input fencing end to end.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { WorkspaceSession, type AgentRecord } from '@orchard/client'
import { NodePtyBroker } from '@orchard/client/pty'
import { FrameKind, PROTOCOL_VERSION, decodeFrame, encodeFrame, type Frame } from '@orchard/protocol'
import { eventually, startTestRelay, type TestRelay } from '@orchard/relay/testing'

const RING = 512 * 1024
const HIGH_WATER = 256 * 1024
let relay: TestRelay
let host: WorkspaceSession
let broker: NodePtyBroker
let projectId: string
const sessions: WorkspaceSession[] = []

beforeAll(async () => {
  relay = await startTestRelay({ limits: { terminalRingBytes: RING, viewerHighWaterBytes: HIGH_WATER } })
  host = await WorkspaceSession.open({ credential: relay.ownerCredential, relayUrl: relay.url, instanceId: 'pty-host', label: 'pty-host' })
  broker = new NodePtyBroker()
  host.host(broker)
  projectId = host.store.addProject('Pear', '/src/pear').id
  host.store.setProjectHost(projectId, { instanceId: 'pty-host', label: 'pty-host' })
  await host.provider.whenPersisted()
}, 30_000)

afterAll(async () => {
  await broker.stopAll()
  for (const session of sessions) await session.close()
  await host.close()
  await relay.close()
})

async function member(role: 'editor' | 'viewer', name: string): Promise<WorkspaceSession> {
  const session = await WorkspaceSession.join(await host.createInvite(role), { name })
  sessions.push(session)
  return session
}

/** A viewer on a raw socket that stops reading (its TCP receive window fills up). */
async function rawViewer(credential: string, agentId: string) {
  const ws = new WebSocket(`${relay.url}/orchard`)
  const frames: Frame[] = []
  ws.on('message', (data: Buffer) => frames.push(decodeFrame(new Uint8Array(data))))
  await new Promise((resolve, reject) => {
    ws.once('open', resolve)
    ws.once('error', reject)
  })
  ws.send(encodeFrame({ kind: FrameKind.hello, channel: '', protocol: PROTOCOL_VERSION, credential, instanceId: 'stalled-raw' }))
  await eventually(() => frames.some((frame) => frame.kind === FrameKind.welcome), { what: 'raw welcome' })
  ws.send(encodeFrame({ kind: FrameKind.termSubscribe, channel: agentId, generation: 0, offset: 0 }))
  // It acknowledges (opting in to flow control) and then stops reading.
  ws.send(encodeFrame({ kind: FrameKind.ack, channel: agentId, seq: 0 }))
  const socket = (ws as unknown as { _socket: { pause(): void; resume(): void } })._socket
  return { ws, frames, pause: () => socket.pause(), resume: () => socket.resume() }
}

describe('real PTYs through the real relay', () => {
  it('[TERM-3] [TERM-1] several MB to three viewers, one stalled: the others get every byte, the stalled one a gap and a snapshot; memory stays bounded', async () => {
    const agent: AgentRecord = await host.spawn(projectId, 'writer', {
      options: { command: 'bash', args: ['-c', 'sleep 0.5; head -c 3000000 /dev/urandom | base64 -w 100; echo; echo DONE-WRITING; sleep 30'], cols: 120, rows: 30 }
    })
    const viewers = [await member('viewer', 'v1'), await member('viewer', 'v2')]
    const received = viewers.map(() => ({ bytes: [] as Uint8Array[], total: 0, gaps: 0 }))
    viewers.forEach((viewer, index) => {
      const stream = viewer.terminal(agent.id)
      stream.on('data', (data) => {
        received[index]!.bytes.push(data.slice())
        received[index]!.total += data.byteLength
      })
      stream.on('gap', () => received[index]!.gaps++)
    })
    const stalled = await rawViewer(viewers[0]!.store.getRelayWorkspaceRecord()!.authKey!, agent.id)
    stalled.pause()

    const room = await relay.core.room(relay.workspaceId)
    let maxRing = 0
    let maxStalledBuffer = 0
    const sampler = setInterval(() => {
      const channel = room.terminals.channels.get(agent.id)
      maxRing = Math.max(maxRing, channel?.ring.size ?? 0)
      for (const [peer, viewer] of channel?.viewers ?? []) {
        if (peer.identity.instanceId !== 'stalled-raw') continue
        const inFlight = (viewer as unknown as { next: number; acked: number }).next - (viewer as unknown as { acked: number }).acked
        maxStalledBuffer = Math.max(maxStalledBuffer, peer.bufferedAmount, inFlight)
      }
    }, 5)
    const text = () => Buffer.concat(received[0]!.bytes).toString('utf8')
    await eventually(() => text().includes('DONE-WRITING'), { what: 'viewer 1 saw the end', timeoutMs: 60_000, intervalMs: 50 })
    await eventually(() => received[1]!.total === received[0]!.total, { what: 'viewer 2 caught up', timeoutMs: 30_000, intervalMs: 50 })
    clearInterval(sampler)

    const published = room.terminals.channels.get(agent.id)?.ring.end ?? 0
    expect(received[0]!.total).toBeGreaterThan(3_900_000)
    expect(received[0]!.total).toBe(published)
    expect(Buffer.concat(received[0]!.bytes).equals(Buffer.concat(received[1]!.bytes))).toBe(true)
    expect(received.map((viewer) => viewer.gaps)).toEqual([0, 0])
    expect(maxRing).toBeLessThanOrEqual(RING + 64 * 1024)
    expect(maxStalledBuffer).toBeLessThanOrEqual(HIGH_WATER + 64 * 1024)

    stalled.resume()
    // Reading again, it says how far it got, as a viewer does: the relay finds it far behind
    // (what it missed has left the ring) and skips it ahead to a snapshot.
    await eventually(
      () => {
        const lastOffset = stalled.frames
          .filter((frame): frame is Extract<Frame, { kind: 10 }> => frame.kind === FrameKind.termOutput)
          .reduce((end, frame) => Math.max(end, frame.offset + frame.data.byteLength), 0)
        stalled.ws.send(encodeFrame({ kind: FrameKind.ack, channel: agent.id, seq: lastOffset }))
        return stalled.frames.some((frame) => frame.kind === FrameKind.termGap)
      },
      { what: 'gap for the stalled viewer', timeoutMs: 20_000, intervalMs: 50 }
    )
    const gap = stalled.frames.find((frame): frame is Extract<Frame, { kind: 11 }> => frame.kind === FrameKind.termGap)!
    expect(gap.snapshot).toContain('DONE-WRITING')
    expect(gap.cols).toBe(120)
    stalled.ws.close()
    await host.stop(agent.id)
  }, 120_000)

  it('[LEASE-4] [HOST-2] with a real PTY: the holder\'s keystrokes arrive, an old holder\'s do not', async () => {
    const agent = await host.spawn(projectId, 'shell', { options: { command: 'bash', args: ['--noprofile', '--norc', '-i'] } })
    const ben = await member('editor', 'ben')
    const watcher = host.terminal(agent.id)
    let screen = ''
    watcher.on('data', (data) => (screen += new TextDecoder().decode(data)))
    const lease = await ben.claim(agent.id)
    ben.sendInput(agent.id, 'echo from-$((20+22))-ben\r')
    await eventually(() => screen.includes('from-42-ben'), { what: 'holder input echoed', timeoutMs: 15_000 })
    await host.claim(agent.id, { takeover: true })
    // Ben's stale frame, sent after the takeover, must never reach the shell.
    ben.provider.sendFrame({ kind: FrameKind.termInput, channel: agent.id, epoch: lease.epoch, data: new TextEncoder().encode('echo stale-$((1+1))\r') })
    host.sendInput(agent.id, 'echo fresh-$((3+4))\r')
    await eventually(() => screen.includes('fresh-7'), { what: 'new holder input echoed', timeoutMs: 15_000 })
    expect(screen).not.toContain('stale-2')
    await host.stop(agent.id)
    await eventually(() => host.agent(agent.id)?.status === 'stopped', { what: 'stopped' })
  }, 60_000)
})
