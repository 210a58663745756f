/**
 * Terminal fan-out through the relay core: resuming, the bounded ring, slow viewers
 * skipped ahead with a snapshot, shared sizes, exits and bad input.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { AgentRecord, TerminalStream, WorkspaceSession } from '@orchard/client'
import { MemoryPair } from '@orchard/client/testing'
import { FrameKind, PROTOCOL_VERSION, decodeFrame, encodeFrame, type Frame } from '@orchard/protocol'
import { eventually } from '@orchard/relay/testing'
import { FakeBroker } from './harness/fake-broker.js'
import { testWorkspace, type TestWorkspace } from './harness/workspace.js'

let ws: TestWorkspace
let host: WorkspaceSession
let broker: FakeBroker
let projectId: string
let agent: AgentRecord

/** A workspace on a relay with `limits`, a host instance and one running agent. */
async function start(limits: Parameters<typeof testWorkspace>[0], agentName: string): Promise<void> {
  ws = await testWorkspace(limits)
  host = await ws.session({ instanceId: 'host' })
  broker = new FakeBroker()
  host.host(broker)
  projectId = host.store.addProject('Pear', '/src/pear').id
  host.store.setProjectHost(projectId, { instanceId: 'host' })
  await host.provider.whenPersisted()
  agent = await host.spawn(projectId, agentName)
}

beforeEach(() => start({ terminalRingBytes: 4_096, viewerHighWaterBytes: 2_048 }, 'alice'))
afterEach(() => ws.close())

function collect(stream: TerminalStream) {
  const state = { text: '', gaps: [] as Array<{ from: number; to: number; snapshot: string }> }
  stream.on('data', (data) => (state.text += new TextDecoder().decode(data)))
  stream.on('gap', (gap) => {
    state.gaps.push({ from: gap.from, to: gap.to, snapshot: gap.snapshot })
    state.text = '' // a real viewer would redraw from the snapshot here
  })
  return state
}

/** A raw viewer on a manual pair: nothing reaches it until the test flushes (a stalled socket). */
async function stalledViewer(credential: string) {
  const pair = new MemoryPair(true)
  const handle = ws.core.acceptOrchard(pair.server)
  pair.server.onMessage((data) => handle.receive(data))
  pair.server.onClose(() => handle.closed())
  const frames: Frame[] = []
  pair.client.onMessage((data) => frames.push(decodeFrame(data)))
  pair.client.send(encodeFrame({ kind: FrameKind.hello, channel: '', protocol: PROTOCOL_VERSION, credential, instanceId: 'stalled' }))
  pair.flush()
  await eventually(() => (pair.flush(), frames.some((frame) => frame.kind === FrameKind.welcome)), { what: 'stalled viewer welcomed' })
  pair.client.send(encodeFrame({ kind: FrameKind.termSubscribe, channel: agent.id, generation: 0, offset: 0 }))
  pair.flush()
  return { pair, frames }
}

describe('terminal fan-out', () => {
  it('[TERM-1] viewers get output from the start, and a viewer resumes from its offset', async () => {
    const viewer = await ws.session({ credential: await ws.member('viewer', 'vic'), instanceId: 'vic' })
    const stream = viewer.terminal(agent.id)
    const seen = collect(stream)
    broker.print(agent.id, 'hello ')
    broker.print(agent.id, 'world\r\n')
    await eventually(() => seen.text === 'hello world\r\n', { what: 'output reached the viewer' })
    const position = stream.position
    expect(position).toEqual({ generation: 1, offset: 13 })
    stream.close()
    broker.print(agent.id, 'while away')
    const resumed = viewer.terminal(agent.id, position)
    const later = collect(resumed)
    await eventually(() => later.text === 'while away', { what: 'resumed from its offset' })
    expect(later.gaps).toEqual([])
  })

  it('[TERM-2] the ring is bounded; a viewer whose offset left it gets a gap and the host\'s snapshot', async () => {
    for (let n = 0; n < 100; n++) broker.print(agent.id, `line ${n} ${'x'.repeat(80)}\r\n`)
    const room = await ws.core.room(ws.workspaceId)
    await eventually(() => (room.terminals.channels.get(agent.id)?.ring.end ?? 0) > 8_000, { what: 'output at the relay' })
    expect(room.terminals.bufferedBytes).toBeLessThanOrEqual(4_096 + 100)
    const viewer = await ws.session({ credential: await ws.member('viewer', 'late'), instanceId: 'late' })
    const seen = collect(viewer.terminal(agent.id))
    await eventually(() => seen.gaps.length === 1, { what: 'gap for a late joiner' })
    expect(seen.gaps[0]!.from).toBe(0)
    expect(seen.gaps[0]!.snapshot).toContain('line 99')
    broker.print(agent.id, 'after the gap')
    await eventually(() => seen.text.endsWith('after the gap'), { what: 'live after the snapshot' })
  })

  it('[TERM-3] [WIRE-20] a stalled viewer is skipped ahead; the others get every byte and memory stays bounded', async () => {
    const watcher = await ws.session({ credential: await ws.member('viewer', 'watcher'), instanceId: 'watcher' })
    const seen = collect(watcher.terminal(agent.id))
    const stalled = await stalledViewer(await ws.member('viewer', 'slow'))
    let expected = ''
    for (let n = 0; n < 200; n++) {
      const line = `${n.toString().padStart(4, '0')} ${'y'.repeat(60)}\r\n`
      expected += line
      broker.print(agent.id, line)
      await new Promise((resolve) => setImmediate(resolve))
    }
    await eventually(() => seen.text === expected, { what: 'the watcher got every byte' })
    const room = await ws.core.room(ws.workspaceId)
    expect(stalled.pair.server.bufferedAmount).toBeLessThanOrEqual(2_048 + 200)
    expect(room.terminals.bufferedBytes).toBeLessThanOrEqual(4_096 + 100)
    // The stalled viewer comes back: it is skipped to a snapshot, then live.
    stalled.pair.flush()
    await eventually(() => (stalled.pair.flush(), stalled.frames.some((frame) => frame.kind === FrameKind.termGap)), { what: 'gap for the stalled viewer' })
    const gap = stalled.frames.find((frame) => frame.kind === FrameKind.termGap) as Extract<Frame, { kind: 11 }>
    expect(gap.snapshot).toContain('0199')
    broker.print(agent.id, 'LIVE')
    await eventually(() => (stalled.pair.flush(), stalled.frames.some((frame) => frame.kind === FrameKind.termOutput && new TextDecoder().decode(frame.data).includes('LIVE'))), { what: 'live again' })
  })

  it('[TERM-3] one encoded frame serves every viewer', async () => {
    const sent: Uint8Array[][] = [[], []]
    for (const [index, bucket] of sent.entries()) {
      const handle = ws.core.acceptOrchard({ send: (data) => bucket.push(data), close: () => {}, bufferedAmount: 0 })
      handle.receive(encodeFrame({ kind: FrameKind.hello, channel: '', protocol: PROTOCOL_VERSION, credential: ws.ownerCredential, instanceId: `raw-${index}` }))
      await eventually(() => bucket.length > 0, { what: 'welcome' })
      handle.receive(encodeFrame({ kind: FrameKind.termSubscribe, channel: agent.id, generation: 0, offset: 0 }))
    }
    broker.print(agent.id, 'same bytes')
    const output = (bucket: Uint8Array[]) => bucket.find((bytes) => decodeFrame(bytes).kind === FrameKind.termOutput)
    await eventually(() => output(sent[0]!) && output(sent[1]!), { what: 'both got output' })
    expect(output(sent[0]!)).toBe(output(sent[1]!))
  })

  it('[TERM-7] [STOP-4] the host\'s terminal size is shared, and an exit stops the agent for everyone', async () => {
    const viewer = await ws.session({ credential: await ws.member('viewer', 'vic'), instanceId: 'vic' })
    broker.sink!.resized(agent.id, 132, 40)
    await eventually(() => (viewer.agent(agent.id)?.info as { cols?: number } | undefined)?.cols === 132, { what: 'size shared' })
    expect(viewer.agent(agent.id)?.info).toMatchObject({ cols: 132, rows: 40 })
    broker.sink!.exited(agent.id, 3, null)
    await eventually(() => viewer.agent(agent.id)?.status === 'stopped', { what: 'stopped after exit' })
    expect(viewer.agent(agent.id)?.info).toMatchObject({ exitCode: 3 })
  })

  it('[TERM-6] bad terminal input gets clear errors: unknown agents, another workspace\'s agent, non-host output, oversize input', async () => {
    const errors: Array<{ code: string; message: string }> = []
    const ben = await ws.session({ credential: await ws.member('editor', 'ben'), instanceId: 'ben' })
    ben.provider.on('error', (error) => errors.push(error))
    ben.terminal('ag_nope')
    const other = await ws.core.createWorkspace('Other', 'Zed')
    void other
    ben.terminal('ag_from_another_workspace')
    ben.provider.sendFrame({ kind: FrameKind.termOutput, channel: agent.id, generation: 1, offset: 0, data: new Uint8Array([65]) })
    await ben.claim(agent.id)
    ben.sendInput(agent.id, new Uint8Array(70 * 1024))
    await eventually(() => errors.length >= 4, { what: 'four errors' })
    expect(errors.map((error) => error.code)).toEqual(['not-found', 'not-found', 'forbidden', 'too-large'])
    expect(errors[2]!.message).toContain('Only the instance running "alice"')
    expect(errors[3]!.message).toContain('over the relay\'s limit of 65536')
    expect(broker.written).toEqual([])
  })
})

describe('terminal load', () => {
  it('[LIMIT-3] [TERM-1] a chatty agent does not get its host rate-limited: output has its own budget and each turn is one frame', async () => {
    await ws.close()
    await start({ framesPerSecond: 50 }, 'yes') // burst: 100 frames
    const viewer = await ws.session({ credential: await ws.member('viewer', 'vic'), instanceId: 'vic' })
    const seen = collect(viewer.terminal(agent.id))
    let expected = ''
    for (let turn = 0; turn < 40; turn++) {
      for (let read = 0; read < 100; read++) {
        broker.print(agent.id, 'y\n')
        expected += 'y\n'
      }
      await new Promise((resolve) => setImmediate(resolve))
    }
    await eventually(() => seen.text.length === expected.length, { what: 'every byte of 4,000 reads' })
    expect(host.provider.status).toBe('connected')
    expect(seen.gaps).toEqual([])
  })

  it('[TERM-8] [LIMIT-3] a viewer of a chatty agent is not rate-limited: its ACKs are paced, not one per turn', async () => {
    await ws.close()
    await start({ framesPerSecond: 50 }, 'yes') // burst: 100 frames
    const viewer = await ws.session({ credential: await ws.member('viewer', 'vic'), instanceId: 'vic' })
    const errors: string[] = []
    viewer.provider.on('error', (error) => errors.push(error.message))
    const seen = collect(viewer.terminal(agent.id))
    // 300 turns of output over about half a second: an ACK per turn would be 300 frames,
    // over the burst of 100 this relay allows, and the viewer would be closed with 4429.
    let expected = ''
    for (let turn = 0; turn < 300; turn++) {
      broker.print(agent.id, `line ${turn}\n`)
      expected += `line ${turn}\n`
      await new Promise((resolve) => setTimeout(resolve, turn % 2 === 0 ? 1 : 2))
    }
    await eventually(() => seen.text === expected, { what: 'all 300 turns at the viewer, in order' })
    expect(errors).toEqual([])
    expect(viewer.provider.status).toBe('connected')
  })

  it('[STOP-1] [TERM-3] a stopped agent\'s terminal is freed; ring chunks hold the host\'s bytes once', async () => {
    broker.print(agent.id, 'x'.repeat(1_000))
    const room = await ws.core.room(ws.workspaceId)
    await eventually(() => room.terminals.channels.get(agent.id)?.ring.end === 1_000, { what: 'output at the relay' })
    const [chunk] = room.terminals.channels.get(agent.id)!.ring.readFrom(0, () => new Uint8Array())
    expect(chunk!.data.buffer).toBe(chunk!.frame.buffer) // the data is a view into the forwarded frame
    await host.stop(agent.id)
    expect(room.terminals.channels.has(agent.id)).toBe(false)
  })
})
