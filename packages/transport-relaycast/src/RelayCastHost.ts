/**
 * The virtual relay (RC-9): the instance that hosts the broker runs Orchard's relay core in
 * process and RelayCast is its sockets. Each other instance's agent gets one virtual
 * connection, bound to the agent name RelayCast stamps on every post, so roles, leases and
 * fencing are the relay core's, unchanged. What the core sends goes out on the channel
 * with the connections it is for (encoded once, one post for all of them), except what is
 * private to one member (WELCOME with its credential, RPC traffic), which goes by DM.
 */
import type { TransportFactory } from '@orchard/client'
import { MemoryPair } from '@orchard/client'
import { FrameKind, decodeFrame, peekKind } from '@orchard/protocol'
import * as encoding from 'lib0/encoding'
import { EntryKind, type Entry } from './envelope.js'
import type { RelayCastLink } from './RelayCastLink.js'
import { closePayload, readClose } from './RelayCastTransport.js'
import { writeRoster, type Roster } from './roster.js'

/**
 * The part of a relay core the host needs, declared here so this package never imports the
 * relay (dependencies point one way): `RelayCore` from @orchard/relay fits it as it is.
 */
export interface RelaySocket {
  send(data: Uint8Array): void
  close(code: number, reason: string): void
  readonly bufferedAmount: number
}

export interface RelayPeerHandle {
  receive(data: Uint8Array): void
  closed(): void
}

export interface RelayAcceptor {
  acceptOrchard(socket: RelaySocket): RelayPeerHandle
}

export interface RelayCastHostOptions {
  /** The relay core that arbitrates (a `RelayCore` from @orchard/relay). */
  core: RelayAcceptor
  link: RelayCastLink
  /** The host says it is online this often (default 25 000 ms; clients give up after 75 000 of silence). */
  keepaliveMs?: number
  /** A connection that sends nothing for this long is closed (default 100 000 ms; clients keep alive every 30 000). */
  idleTimeoutMs?: number
}

interface VirtualConnection {
  agent: string
  conn: string
  handle: RelayPeerHandle
  lastHeard: number
  open: boolean
}

/** Frames that carry secrets or requests for one member only: never on the channel. */
const PRIVATE_KINDS = new Set<number>([FrameKind.welcome, FrameKind.rpcRequest, FrameKind.rpcResponse])

export class RelayCastHost {
  private readonly connections = new Map<string, VirtualConnection>()
  private readonly roster: Roster = {}
  /** Unknown connections already told to reconnect (once each). */
  private readonly refused = new Set<string>()
  private timer: NodeJS.Timeout | null = null
  private readonly onEntries = (sender: string, entries: Entry[]) => this.receive(sender, entries)

  constructor(private readonly options: RelayCastHostOptions) {}

  get link(): RelayCastLink {
    return this.options.link
  }

  /** Joins RelayCast and tells the channel the host is online (clients in peer mode come back). */
  async start(): Promise<void> {
    await this.options.link.start()
    this.options.link.on('entries', this.onEntries)
    this.announce()
    const every = this.options.keepaliveMs ?? 25_000
    this.timer = setInterval(() => {
      this.announce()
      const idle = this.options.idleTimeoutMs ?? 100_000
      for (const connection of [...this.connections.values()]) if (Date.now() - connection.lastHeard > idle) this.drop(connection)
    }, every)
    this.timer.unref?.()
  }

  /** A transport for this instance's own session: straight into the core, no RelayCast. */
  localTransport(): TransportFactory {
    return () => {
      const pair = new MemoryPair()
      const handle = this.options.core.acceptOrchard({
        send: (data) => pair.server.send(data),
        close: (code, reason) => pair.server.close(code, reason),
        get bufferedAmount() {
          return pair.server.bufferedAmount
        }
      })
      pair.server.onMessage((data) => handle.receive(data))
      pair.server.onClose(() => handle.closed())
      return pair.client
    }
  }

  /** Connections from other instances, by agent. */
  get agents(): string[] {
    return [...this.connections.keys()]
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
    this.options.link.off('entries', this.onEntries)
    for (const connection of [...this.connections.values()]) this.drop(connection)
  }

  private announce(): void {
    const payload = encoding.encode((encoder) => encoding.writeVarUint(encoder, this.options.link.epoch))
    this.options.link.send({ kind: EntryKind.hostOnline, targets: [], conn: '', payload })
  }

  private receive(agent: string, entries: Entry[]): void {
    for (const entry of entries) {
      if (entry.kind === EntryKind.open) {
        this.open(agent, entry.conn)
        continue
      }
      const connection = this.connections.get(agent)
      // RC-9: frames are bound to the stamped agent and its current connection; others are stale.
      if (!connection || connection.conn !== entry.conn) {
        // RC-13: a connection this host does not know (it restarted): tell the client to reconnect.
        if (entry.kind === EntryKind.frame && !this.refused.has(`${agent}/${entry.conn}`)) {
          this.refused.add(`${agent}/${entry.conn}`)
          this.options.link.send({ kind: EntryKind.close, targets: [`${agent}/${entry.conn}`], conn: '', payload: closePayload(1012, 'The host does not know this connection (it restarted); reconnecting.') }, agent)
        }
        continue
      }
      connection.lastHeard = Date.now()
      if (entry.kind === EntryKind.frame) connection.handle.receive(entry.payload)
      else if (entry.kind === EntryKind.close) {
        readClose(entry.payload)
        this.drop(connection)
      }
    }
  }

  private open(agent: string, conn: string): void {
    const previous = this.connections.get(agent)
    if (previous) this.drop(previous)
    const address = `${agent}/${conn}`
    const connection: VirtualConnection = { agent, conn, handle: { receive: () => {}, closed: () => {} }, lastHeard: Date.now(), open: true }
    const socket: RelaySocket = {
      send: (data) => {
        if (connection.open) this.sendTo(connection, address, data)
      },
      close: (code, reason) => {
        if (!connection.open) return
        this.options.link.send({ kind: EntryKind.close, targets: [address], conn: '', payload: closePayload(code, reason) }, agent)
        if (code >= 4400 && code < 4500) this.forget(agent)
        this.drop(connection)
      },
      bufferedAmount: 0
    }
    this.connections.set(agent, connection)
    // Where the channel stands: the client starts reading it there, without a gap wait (RC-5).
    const payload = encoding.encode((encoder) => encoding.writeVarUint(encoder, this.options.link.nextChannelSeq()))
    this.options.link.send({ kind: EntryKind.opened, targets: [address], conn: '', payload }, agent)
    connection.handle = this.options.core.acceptOrchard(socket)
  }

  private sendTo(connection: VirtualConnection, address: string, data: Uint8Array): void {
    const kind = peekKind(data)
    if (kind === FrameKind.welcome || kind === FrameKind.event) this.learnRole(connection.agent, data)
    const entry: Entry = { kind: EntryKind.frame, targets: [address], conn: '', payload: data }
    if (kind !== undefined && PRIVATE_KINDS.has(kind)) this.options.link.send(entry, connection.agent)
    else this.options.link.send(entry)
  }

  /** RC-12: who may write, as the core decided it, for peers to check while the host is away. */
  private learnRole(agent: string, data: Uint8Array): void {
    const frame = decodeFrame(data)
    let next: Roster[string] | null = null
    if (frame.kind === FrameKind.welcome) next = { memberId: frame.memberId, role: frame.role }
    else if (frame.kind === FrameKind.event && frame.event.type === 'role-changed' && this.roster[agent]) {
      const role = frame.event.role
      if (role === 'owner' || role === 'editor' || role === 'viewer') next = { memberId: this.roster[agent].memberId, role }
    }
    if (!next) return
    const known = this.roster[agent]
    if (known && known.role === next.role && known.memberId === next.memberId) return
    this.roster[agent] = next
    this.options.link.send({ kind: EntryKind.roster, targets: [], conn: '', payload: writeRoster(this.roster) })
  }

  private forget(agent: string): void {
    if (!this.roster[agent]) return
    delete this.roster[agent]
    this.options.link.send({ kind: EntryKind.roster, targets: [], conn: '', payload: writeRoster(this.roster) })
  }

  private drop(connection: VirtualConnection): void {
    if (!connection.open) return
    connection.open = false
    if (this.connections.get(connection.agent) === connection) this.connections.delete(connection.agent)
    connection.handle.closed()
  }
}
