// Scenario 2: relay CPU per awareness update, 200 instances, the SAME awareness traffic
// through every target. Each instance sets one awareness field (`cursor`: {projectId, line,
// ch}, deterministic values) at `rateHz` for `windowMs`, phases spread evenly over the
// period; every change is one y-protocols awareness update on the wire (the whole local
// state, as y-protocols encodes it). Targets:
//  - the peers (bench/sync/targets.ts: y-websocket server, Hocuspocus 3 and 4) with the
//    stock y-websocket / Hocuspocus client of bench/sync/client.ts (BenchClient);
//  - orchard-yws: our relay (CLI) with the very same BenchClients over its stock
//    y-websocket endpoint /<workspaceId>?token=<owner credential>;
//  - orchard: our relay with 200 WorkspaceSessions (Orchard protocol) setting
//    session.presence.set({ cursor }).
// The CPU window runs from the first update until every client has seen every other
// client's last clock (bounded), read from /proc/<pid>/stat of the server process.
import * as decoding from 'lib0/decoding'
import type { Awareness } from 'y-protocols/awareness'
import { BenchClient, closeAll } from '../sync/client.js'
import { hocuspocus3, hocuspocus4, ywebsocket, type ClientEndpoint, type Target } from '../sync/targets.js'
import { closeSessions, nowMs, openSessions, readCpuMs, selfCpuMs, sleep, startOrchardRelay, type CountedSession } from './common.js'

export interface PresenceSizes {
  instances: number
  rateHz: number
  windowMs: number
  idleMs: number
}

export interface PresenceResult {
  target: string
  describe: string
  peer: boolean
  instances: number
  sent: number
  sendMs: number
  windowMs: number
  drainMs: number
  serverCpuMs: number
  idleCpuMsPerS: number
  benchCpuMsPerS: number
  usPerUpdate: number
  /** Awareness messages each client received during the window. */
  received: { mean: number; min: number; max: number }
  connectMs: number
}

/** One instance as the scenario drives it, whatever the protocol. */
interface PresenceInstance {
  readonly awareness: Awareness
  setCursor(cursor: Record<string, unknown>): void
  awarenessIn(): number
}

interface Running {
  pid: number
  instances: PresenceInstance[]
  close(): Promise<void>
}

interface PresenceTarget {
  name: string
  describe: string
  peer: boolean
  start(n: number, nodeFlags: string[]): Promise<Running>
}

/** A stock client that counts awareness messages (header peeked; the message is then handled as usual). */
class CountingClient extends BenchClient {
  awarenessMessages = 0
  override receive(data: Uint8Array): void {
    try {
      const d = decoding.createDecoder(data)
      if (this.endpoint.protocol === 'hocuspocus') decoding.readVarString(d)
      if (decoding.readVarUint(d) === 1) this.awarenessMessages++
    } catch {
      /* BenchClient reports malformed frames itself */
    }
    super.receive(data)
  }
}

async function connectCounting(ep: ClientEndpoint, n: number, concurrency = 16): Promise<CountingClient[]> {
  const clients = Array.from({ length: n }, (_, i) => new CountingClient(ep, { awarenessState: { user: `i-${i}` }, connectTimeoutMs: 30_000 }))
  let next = 0
  const errors: unknown[] = []
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < clients.length && errors.length === 0) {
        const c = clients[next++]!
        await c.connect().catch((e: unknown) => errors.push(e))
      }
    }),
  )
  if (errors.length > 0) {
    await closeAll(clients)
    throw errors[0]
  }
  return clients
}

function stockInstances(clients: CountingClient[]): PresenceInstance[] {
  return clients.map((c) => ({
    awareness: c.awareness!,
    setCursor: (cursor) => c.awareness!.setLocalStateField('cursor', cursor),
    awarenessIn: () => c.awarenessMessages,
  }))
}

function peerTarget(t: Target): PresenceTarget {
  return {
    name: t.name,
    describe: t.describe,
    peer: true,
    async start(n) {
      const running = await t.start()
      try {
        const clients = await connectCounting(await running.urlFor('presence-bench'), n)
        return {
          pid: running.pid,
          instances: stockInstances(clients),
          async close() {
            await closeAll(clients)
            await running.stop()
          },
        }
      } catch (e) {
        await running.stop()
        throw e
      }
    },
  }
}

const orchardYws: PresenceTarget = {
  name: 'orchard-yws',
  describe: 'Orchard relay (packages/cli/src/bin.ts relay, SQLite WAL, durability full), the same stock y-websocket BenchClients on /<workspaceId>?token=',
  peer: false,
  async start(n, nodeFlags) {
    const relay = await startOrchardRelay({ nodeFlags })
    try {
      const base = new URL(relay.url)
      const ep: ClientEndpoint = { protocol: 'y-websocket', url: `ws://${base.host}/${encodeURIComponent(relay.workspaceId)}?token=${encodeURIComponent(relay.ownerToken)}` }
      const clients = await connectCounting(ep, n)
      return {
        pid: relay.pid,
        instances: stockInstances(clients),
        async close() {
          await closeAll(clients)
          await relay.stop()
        },
      }
    } catch (e) {
      await relay.stop()
      throw e
    }
  },
}

const orchardNative: PresenceTarget = {
  name: 'orchard',
  describe: 'Orchard relay (same CLI), 200 WorkspaceSessions over the Orchard protocol (/orchard), session.presence.set({ cursor })',
  peer: false,
  async start(n, nodeFlags) {
    const relay = await startOrchardRelay({ nodeFlags })
    let sessions: CountedSession[] = []
    try {
      sessions = await openSessions({ relayUrl: relay.url, credential: relay.ownerToken, count: n, prefix: 'presence' })
      sessions.forEach((s, i) => s.session.presence.set({ user: `i-${i}` }))
      return {
        pid: relay.pid,
        instances: sessions.map((s) => ({
          awareness: s.session.awareness,
          setCursor: (cursor) => s.session.presence.set({ cursor }),
          awarenessIn: () => s.counts.awareness,
        })),
        async close() {
          await closeSessions(sessions)
          await relay.stop()
        },
      }
    } catch (e) {
      await closeSessions(sessions)
      await relay.stop()
      throw e
    }
  },
}

export const PRESENCE_TARGETS: PresenceTarget[] = [peerTarget(ywebsocket), peerTarget(hocuspocus3), peerTarget(hocuspocus4), orchardYws, orchardNative]

/** True when every instance has seen every other instance's clock up to `finals`. */
function drained(instances: PresenceInstance[], finals: Array<[number, number]>): boolean {
  for (const inst of instances) {
    const meta = inst.awareness.meta
    const self = inst.awareness.clientID
    for (const [id, clock] of finals) {
      if (id === self) continue
      if ((meta.get(id)?.clock ?? -1) < clock) return false
    }
  }
  return true
}

export async function runPresence(target: PresenceTarget, sizes: PresenceSizes, opts: { nodeFlags?: string[]; log: (s: string) => void }): Promise<PresenceResult> {
  const n = sizes.instances
  const c0 = Date.now()
  const running = await target.start(n, opts.nodeFlags ?? [])
  const connectMs = Date.now() - c0
  try {
    const { instances, pid } = running
    // Everyone must know everyone's initial state before the window (bounded).
    const initial = (): Array<[number, number]> => instances.map((i) => [i.awareness.clientID, i.awareness.meta.get(i.awareness.clientID)!.clock])
    const settleDeadline = Date.now() + 30_000
    while (!drained(instances, initial())) {
      if (Date.now() > settleDeadline) throw new Error(`${target.name}: initial presence not everywhere after 30 s`)
      await sleep(50)
    }
    await sleep(500)
    const idle0 = readCpuMs(pid)
    await sleep(sizes.idleMs)
    const idleCpuMsPerS = ((readCpuMs(pid) - idle0) * 1000) / sizes.idleMs

    const base = instances.map((i) => i.awarenessIn())
    const period = 1000 / sizes.rateHz
    const perInstance = Math.floor((sizes.windowMs / 1000) * sizes.rateHz)
    const done = new Array<number>(n).fill(0)
    let sent = 0
    const server0 = readCpuMs(pid)
    const bench0 = selfCpuMs()
    const start = nowMs()
    await new Promise<void>((resolve) => {
      const tick = () => {
        const elapsed = nowMs() - start
        let pending = false
        for (let i = 0; i < n; i++) {
          const due = Math.min(perInstance, Math.floor((elapsed - (i / n) * period) / period) + 1)
          while (done[i]! < due) {
            const k = done[i]!++
            instances[i]!.setCursor({ projectId: `p${(i * 7 + k) % 20}`, line: k, ch: (i * 31 + k * 17) % 80 })
            sent++
          }
          if (done[i]! < perInstance) pending = true
        }
        if (pending) setTimeout(tick, 2)
        else resolve()
      }
      tick()
    })
    const sendMs = nowMs() - start
    const finals = initial()
    const drainDeadline = Date.now() + 30_000
    while (!drained(instances, finals)) {
      if (Date.now() > drainDeadline) throw new Error(`${target.name}: updates not everywhere 30 s after the last one`)
      await sleep(5)
    }
    const windowMs = nowMs() - start
    const serverCpuMs = readCpuMs(pid) - server0
    const benchCpuMs = selfCpuMs() - bench0
    const received = instances.map((inst, i) => inst.awarenessIn() - base[i]!)
    const result: PresenceResult = {
      target: target.name,
      describe: target.describe,
      peer: target.peer,
      instances: n,
      sent,
      sendMs,
      windowMs,
      drainMs: windowMs - sendMs,
      serverCpuMs,
      idleCpuMsPerS,
      benchCpuMsPerS: (benchCpuMs * 1000) / windowMs,
      usPerUpdate: (serverCpuMs * 1000) / sent,
      received: { mean: received.reduce((a, b) => a + b, 0) / n, min: Math.min(...received), max: Math.max(...received) },
      connectMs,
    }
    opts.log(`    ${target.name}: ${sent} updates in ${Math.round(sendMs)} ms, drained +${Math.round(result.drainMs)} ms, server ${Math.round(serverCpuMs)} ms CPU = ${result.usPerUpdate.toFixed(0)} µs/update, bench ${result.benchCpuMsPerS.toFixed(0)} ms/s`)
    return result
  } finally {
    await running.close()
  }
}
