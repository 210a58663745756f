/**
 * The client's transport over RelayCast (RC-9, RC-10, RC-11): one virtual connection to the
 * instance that hosts the relay core, carried by DMs to the host's agent and by the host's
 * posts on the channel. When the host does not answer, the connection opens in peer mode:
 * the workspace doc still merges with the other instances over the channel, and everything
 * that needs the host (presence, claims, spawns, terminals) waits for it to come back.
 */
import { randomBytes } from 'node:crypto'
import { BaseTransport, type TransportFactory } from '@orchard/client'
import { FrameKind, decodeFrame, encodeFrame, peekKind, rpcErrorFrame, type Frame, type WelcomeFrame } from '@orchard/protocol'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { EntryKind, type Entry, type Envelope } from './envelope.js'
import type { LinkStatus, RelayCastLink } from './RelayCastLink.js'
import { readRoster, type Roster } from './roster.js'

export interface RelayCastTransportOptions {
  link: RelayCastLink
  /** The agent name of the instance that hosts the relay core (the invite's relaycast:// URL names it). */
  host: string
  /** How long the host has to accept a connection before peer mode (default 5 000 ms). */
  openTimeoutMs?: number
  /** Silence from the host after which the connection counts as lost (default 75 000 ms). */
  hostSilenceMs?: number
  /** A client with nothing to send tells the host it is still there this often (default 30 000 ms). */
  keepaliveMs?: number
  /** Open in peer mode when the host does not answer (default true; needs an earlier WELCOME in this process). */
  peerFallback?: boolean
}

/** What the transports of one factory remember between connections. */
export interface HostMemory {
  welcome: WelcomeFrame | null
  roster: Roster
  hostEpoch: number | null
}

type Mode = 'opening' | 'host' | 'peer' | 'closed'

const SYNC_STEP1 = 0

export type RelayCastTransportFactory = TransportFactory & {
  /** What this instance remembers of the host between connections (for peer mode). */
  readonly memory: HostMemory
  /** The link's status: WorkspaceSession shows it as `transportStatus` (RC-8). */
  readonly status: LinkStatus
  /** The latest connection made (its `mode` says host or peer). */
  readonly current: RelayCastTransport | null
}

/** A transport factory for WorkspaceSession.join/open: every connection goes through `options.link`. */
export function relayCastTransport(options: RelayCastTransportOptions): RelayCastTransportFactory {
  const memory: HostMemory = { welcome: null, roster: {}, hostEpoch: null }
  let current: RelayCastTransport | null = null
  const factory = () => (current = new RelayCastTransport(options, memory))
  return Object.defineProperties(factory, {
    memory: { value: memory, enumerable: true },
    current: { get: () => current, enumerable: true },
    status: { get: () => options.link.status, enumerable: true }
  }) as unknown as RelayCastTransportFactory
}

export class RelayCastTransport extends BaseTransport {
  /** This connection's id: the host addresses it as `<agent>/<conn>`. */
  readonly conn = randomBytes(6).toString('base64url')
  mode: Mode = 'opening'
  private readonly timers = new Set<NodeJS.Timeout>()
  private silenceTimer: NodeJS.Timeout | null = null
  private lastSentAt = Date.now()
  /** RC-7: merged update frames are acked once by the relay; the provider counts what it sent. */
  private readonly ackMap = new Map<string, { wire: number; client: number; map: Map<number, number> }>()
  private readonly unsubscribe: () => void

  constructor(
    private readonly options: RelayCastTransportOptions,
    private readonly memory: HostMemory
  ) {
    super()
    const onEntries = (sender: string, entries: Entry[], envelope: Envelope) => this.receive(sender, entries, envelope.epoch)
    options.link.on('entries', onEntries)
    this.unsubscribe = () => options.link.off('entries', onEntries)
    void this.begin()
  }

  private get address(): string {
    return `${this.options.link.name}/${this.conn}`
  }

  send(data: Uint8Array): void {
    if (this.mode === 'host') return this.sendToHost(data)
    if (this.mode === 'peer') return this.sendAsPeer(data)
  }

  close(code = 1000, reason = ''): void {
    if (this.mode === 'host') this.post({ kind: EntryKind.close, targets: [], conn: this.conn, payload: closePayload(code, reason) })
    this.finish(code, reason)
  }

  private async begin(): Promise<void> {
    try {
      await this.options.link.start()
    } catch (error) {
      this.finish(1013, `RelayCast is not reachable: ${(error as Error).message}`)
      return
    }
    if (this.mode !== 'opening') return
    this.post({ kind: EntryKind.open, targets: [], conn: this.conn, payload: new Uint8Array() })
    this.timer(this.options.openTimeoutMs ?? 5_000, () => {
      if (this.mode !== 'opening') return
      // RC-11: no host; the doc can still merge with the other instances.
      if ((this.options.peerFallback ?? true) && this.memory.welcome) {
        this.mode = 'peer'
        this.opened()
      } else this.finish(1013, `The host instance (${this.options.host}) did not answer on RelayCast; trying again later.`)
    })
  }

  private receive(sender: string, entries: Entry[], epoch: number): void {
    if (this.mode === 'closed') return
    if (sender !== this.options.host) {
      // RC-10: only the host speaks for the relay; peers are heard only in peer mode.
      if (this.mode === 'peer') for (const entry of entries) if (entry.kind === EntryKind.peer) this.fromPeer(sender, entry)
      return
    }
    this.heardFromHost()
    // RC-13: a post from a newer host epoch means the host restarted and forgot this connection.
    const known = this.memory.hostEpoch
    this.memory.hostEpoch = Math.max(known ?? 0, epoch)
    if (known !== null && epoch > known && this.mode === 'host') return this.finish(1012, 'The host instance restarted; reconnecting.')
    for (const entry of entries) {
      if (this.closing.closed) return
      if (entry.kind === EntryKind.roster) {
        this.memory.roster = readRoster(entry.payload)
        continue
      }
      if (entry.kind === EntryKind.hostOnline) {
        if (this.mode === 'peer') this.finish(1013, 'The host is back online; reconnecting to it.')
        continue
      }
      if (entry.targets.length > 0 && !entry.targets.includes(this.address)) continue
      if (entry.kind === EntryKind.opened && this.mode === 'opening') {
        this.mode = 'host'
        if (entry.payload.byteLength > 0) this.options.link.startChannelAt(sender, epoch, decoding.readVarUint(decoding.createDecoder(entry.payload)))
        this.keepalive()
        this.opened()
      } else if (entry.kind === EntryKind.close) {
        const { code, reason } = readClose(entry.payload)
        this.finish(code, reason)
      } else if (entry.kind === EntryKind.frame && this.mode === 'host') {
        this.deliver(this.fromHost(entry.payload))
      }
    }
  }

  private fromHost(data: Uint8Array): Uint8Array {
    const kind = peekKind(data)
    if (kind === FrameKind.welcome) {
      const frame = decodeFrame(data) as WelcomeFrame
      // Kept for peer mode, without the credential (that lives in projects.json only).
      const { credential: _credential, ...rest } = frame
      this.memory.welcome = rest
      return data
    }
    if (kind !== FrameKind.ack) return data
    const frame = decodeFrame(data)
    if (frame.kind !== FrameKind.ack) return data
    const counts = this.ackMap.get(frame.channel)
    const client = counts?.map.get(frame.seq)
    if (!counts || client === undefined) return data
    for (const wire of counts.map.keys()) if (wire < frame.seq) counts.map.delete(wire)
    return encodeFrame({ ...frame, seq: client })
  }

  private sendToHost(data: Uint8Array): void {
    let onCommit: ((weight: number) => void) | undefined
    if (peekKind(data) === FrameKind.sync) {
      const frame = decodeFrame(data)
      if (frame.kind === FrameKind.sync && frame.body[0] !== SYNC_STEP1) {
        let counts = this.ackMap.get(frame.channel)
        if (!counts) this.ackMap.set(frame.channel, (counts = { wire: 0, client: 0, map: new Map() }))
        const tally = counts
        onCommit = (weight) => {
          tally.wire += 1
          tally.client += weight
          tally.map.set(tally.wire, tally.client)
        }
      }
    }
    this.post({ kind: EntryKind.frame, targets: [], conn: this.conn, payload: data }, onCommit)
  }

  /** Peer mode: the provider talks to "a relay" that is the other instances. */
  private sendAsPeer(data: Uint8Array): void {
    let frame: Frame
    try {
      frame = decodeFrame(data)
    } catch {
      return
    }
    if (frame.kind === FrameKind.hello && this.memory.welcome) {
      const welcome = encodeFrame({ ...this.memory.welcome, instanceId: frame.instanceId })
      queueMicrotask(() => this.deliver(welcome))
    } else if (frame.kind === FrameKind.sync && frame.channel === 'workspace') {
      this.options.link.send({ kind: EntryKind.peer, targets: [], conn: this.conn, payload: data })
    } else if (frame.kind === FrameKind.rpcRequest) {
      const refusal = rpcErrorFrame(frame.id, 'host-offline', `The host instance (${this.options.host}) is offline, so "${frame.method}" cannot run now. Edits still sync; try again when it is back.`)
      queueMicrotask(() => this.deliver(encodeFrame(refusal)))
    }
  }

  /** RC-12: a peer's doc frame is applied only if the host's roster lets that agent write. */
  private fromPeer(sender: string, entry: Entry): void {
    let frame: Frame
    try {
      frame = decodeFrame(entry.payload)
    } catch {
      return
    }
    if (frame.kind !== FrameKind.sync || frame.channel !== 'workspace') return
    const member = this.memory.roster[sender]
    if (!member) return
    const isStep1 = frame.body[0] === SYNC_STEP1
    if (!isStep1 && member.role === 'viewer') return
    this.deliver(entry.payload)
  }

  private post(entry: Entry, onCommit?: (weight: number) => void): void {
    this.lastSentAt = Date.now()
    try {
      this.options.link.send(entry, this.options.host, onCommit ? { onCommit } : {})
    } catch {
      // The link is not started: nothing to do; begin() reports it.
    }
  }

  private heardFromHost(): void {
    if (this.mode !== 'host' && this.mode !== 'opening') return
    if (this.silenceTimer) clearTimeout(this.silenceTimer)
    this.silenceTimer = setTimeout(() => this.finish(1006, 'The host instance went silent on RelayCast.'), this.options.hostSilenceMs ?? 75_000)
    this.silenceTimer.unref?.()
  }

  private keepalive(): void {
    const every = this.options.keepaliveMs ?? 30_000
    this.timer(every, () => {
      if (this.mode !== 'host') return
      if (Date.now() - this.lastSentAt >= every * 0.9) this.post({ kind: EntryKind.keepalive, targets: [], conn: this.conn, payload: new Uint8Array() })
      this.keepalive()
    })
  }

  private timer(ms: number, run: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer)
      run()
    }, ms)
    timer.unref?.()
    this.timers.add(timer)
  }

  private finish(code: number, reason: string): void {
    if (this.closing.closed) return
    this.mode = 'closed'
    for (const timer of this.timers) clearTimeout(timer)
    if (this.silenceTimer) clearTimeout(this.silenceTimer)
    this.unsubscribe()
    this.closing.close(code, reason)
  }
}

export function closePayload(code: number, reason: string): Uint8Array {
  return encoding.encode((encoder) => {
    encoding.writeVarUint(encoder, code)
    encoding.writeVarString(encoder, reason)
  })
}

export function readClose(payload: Uint8Array): { code: number; reason: string } {
  try {
    const decoder = decoding.createDecoder(payload)
    return { code: decoding.readVarUint(decoder), reason: decoding.readVarString(decoder) }
  } catch {
    return { code: 1006, reason: 'malformed close' }
  }
}
