/**
 * Terminal viewers under load (issue 9, item 10): a viewer that stops reading for a while
 * catches up from the ring without a gap; only one behind by more than the ring is skipped
 * ahead; all rings together stay inside the relay's budget. The viewer's reading is held
 * and released by the test (a manual in-memory pair), never by sleeping.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { WorkspaceSession, type AgentRecord, type TerminalStream } from '@orchard/client'
import { MemoryPair } from '@orchard/client/testing'
import { DEFAULT_LIMITS, type RelayLimits } from '@orchard/relay'
import { eventually } from '@orchard/relay/testing'
import { FakeBroker } from '../harness/fake-broker.js'
import { testWorkspace, type TestWorkspace } from '../harness/workspace.js'

const MiB = 1024 * 1024
let ws: TestWorkspace | null = null
let broker: FakeBroker
const stops: Array<() => void> = []

afterEach(async () => {
  for (const stop of stops.splice(0)) stop()
  await ws?.close()
  ws = null
})

function current(): TestWorkspace {
  if (!ws) throw new Error('no workspace started')
  return ws
}

async function start(limits: Partial<RelayLimits>, names: string[] = ['alice']): Promise<AgentRecord[]> {
  const ws = await testWorkspace(limits)
  setWorkspace(ws)
  const host = await ws.session({ instanceId: 'host' })
  broker = new FakeBroker()
  host.host(broker)
  const projectId = host.store.addProject('Pear', '/src/pear').id
  host.store.setProjectHost(projectId, { instanceId: 'host' })
  await host.provider.whenPersisted()
  const agents: AgentRecord[] = []
  for (const name of names) agents.push(await host.spawn(projectId, name))
  return agents
}

/** A viewer session whose socket the test reads from, or stops reading, at will. */
async function heldViewer(name: string) {
  const ws = current()
  let pair: MemoryPair | null = null
  const reading = { on: true }
  const pump = setInterval(() => reading.on && pair?.flush(), 1)
  stops.push(() => clearInterval(pump))
  const session = await WorkspaceSession.open({
    credential: await ws.member('viewer', name),
    relayUrl: 'memory://relay',
    transport: () => {
      const fresh = new MemoryPair(true)
      pair = fresh
      const handle = ws.core.acceptOrchard(fresh.server)
      fresh.server.onMessage((data) => handle.receive(data))
      fresh.server.onClose(() => handle.closed())
      return fresh.client
    },
    instanceId: name,
    label: name
  })
  ws.sessions.push(session)
  return { session, reading }
}

function collect(stream: TerminalStream) {
  const state = { length: 0, chunks: [] as string[], gaps: [] as Array<{ from: number; to: number; snapshot: string }> }
  const decoder = new TextDecoder()
  stream.on('data', (data) => {
    state.chunks.push(decoder.decode(data))
    state.length += data.byteLength
  })
  stream.on('gap', (gap) => state.gaps.push({ from: gap.from, to: gap.to, snapshot: gap.snapshot }))
  return state
}

/** Numbered lines, so any lost or repeated byte shows. */
class Output {
  private line = 0
  text: string[] = []
  bytes = 0
  async publish(agentId: string, bytes: number): Promise<void> {
    const target = this.bytes + bytes
    while (this.bytes < target) {
      let chunk = ''
      while (chunk.length < 64 * 1024) chunk += `${(this.line++).toString().padStart(8, '0')} ${'z'.repeat(55)}\r\n`
      broker.print(agentId, chunk)
      this.text.push(chunk)
      this.bytes += chunk.length
      await new Promise((resolve) => setImmediate(resolve))
    }
  }
}

function setWorkspace(next: TestWorkspace): void {
  ws = next
}

describe('ring and window', () => {
  it('[TERM-9] the default ring is far larger than the viewer window', () => {
    expect(DEFAULT_LIMITS.terminalRingBytes).toBeGreaterThanOrEqual(16 * DEFAULT_LIMITS.viewerHighWaterBytes)
    expect(DEFAULT_LIMITS.terminalRingBudgetBytes).toBeGreaterThanOrEqual(4 * DEFAULT_LIMITS.terminalRingBytes)
  })

  it('[TERM-9] [TERM-3] a viewer that stops reading while 8 MiB flows (of 20 MiB) catches up from the ring: every byte, no gap', async () => {
    const [agent] = await start({})
    const viewer = await heldViewer('vic')
    const seen = collect(viewer.session.terminal(agent!.id))
    const output = new Output()
    await output.publish(agent!.id, 2 * MiB)
    await eventually(() => seen.length === output.bytes, { what: 'the first 2 MiB at the viewer' })
    // The viewer's event loop stalls: it reads nothing (and so acknowledges nothing).
    viewer.reading.on = false
    await output.publish(agent!.id, 8 * MiB)
    const room = await current().core.room(current().workspaceId)
    expect(seen.length).toBeLessThanOrEqual(2 * MiB + 2 * DEFAULT_LIMITS.viewerHighWaterBytes)
    expect(room.terminals.channels.get(agent!.id)!.ring.size).toBeLessThanOrEqual(DEFAULT_LIMITS.terminalRingBytes)
    viewer.reading.on = true
    await output.publish(agent!.id, 10 * MiB)
    await eventually(() => seen.length === output.bytes || seen.gaps.length > 0, { timeoutMs: 20_000, what: 'all 20 MiB at the viewer' })
    expect(seen.gaps).toEqual([])
    expect(seen.length).toBe(output.bytes)
    expect(seen.chunks.join('') === output.text.join('')).toBe(true)
  })

  it('[TERM-2] [TERM-9] only a viewer behind by more than the ring is skipped ahead: gap, snapshot, then live', async () => {
    const [agent] = await start({ terminalRingBytes: 256 * 1024, viewerHighWaterBytes: 32 * 1024 })
    const viewer = await heldViewer('vic')
    const seen = collect(viewer.session.terminal(agent!.id))
    const output = new Output()
    await output.publish(agent!.id, 128 * 1024)
    await eventually(() => seen.length === output.bytes, { what: 'the start at the viewer' })
    viewer.reading.on = false
    await output.publish(agent!.id, 1 * MiB)
    viewer.reading.on = true
    await eventually(() => seen.gaps.length === 1, { what: 'one gap' })
    expect(seen.gaps[0]!.snapshot).toContain(output.text.at(-1)!.trim().split('\r\n').at(-1)!.slice(0, 8))
    await output.publish(agent!.id, 64 * 1024)
    const tail = output.text.join('').slice(seen.gaps[0]!.to)
    await eventually(() => seen.chunks.join('').endsWith(tail), { what: 'live after the gap' })
  })
})

describe('ring budget', () => {
  it('[TERM-9] all rings together stay inside terminalRingBudgetBytes: the largest gives way, its late joiner gets a snapshot', async () => {
    const agents = await start({ terminalRingBytes: 256 * 1024, terminalRingBudgetBytes: 384 * 1024 }, ['alice', 'bob', 'carol'])
    const output = new Output()
    for (const agent of agents) await output.publish(agent.id, 300 * 1024)
    const room = await current().core.room(current().workspaceId)
    await eventually(() => agents.every((agent) => (room.terminals.channels.get(agent.id)?.ring.end ?? 0) >= 300 * 1024), { what: 'output at the relay' })
    expect(current().core.ringBudget.bytes).toBeLessThanOrEqual(384 * 1024)
    expect(room.terminals.bufferedBytes).toBe(current().core.ringBudget.bytes)
    // Alice's ring gave way first (largest, written least recently): a late joiner of hers
    // gets a gap and the host's screen, then live output.
    const viewer = await heldViewer('late')
    const seen = collect(viewer.session.terminal(agents[0]!.id))
    await eventually(() => seen.gaps.length === 1, { what: 'gap for the late joiner' })
    expect(seen.gaps[0]!.snapshot.length).toBeGreaterThan(0)
    broker.print(agents[0]!.id, 'after the gap')
    await eventually(() => seen.chunks.join('').endsWith('after the gap'), { what: 'live after the gap' })
    // A stopped agent's ring no longer counts.
    const before = current().core.ringBudget.bytes
    await current().sessions[0]!.stop(agents[2]!.id)
    expect(current().core.ringBudget.bytes).toBeLessThan(before)
  })
})
