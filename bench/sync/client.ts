// A lightweight Yjs client over `ws`: one Y.Doc (and optionally one Awareness) per
// client, sync step1/step2/update via y-protocols/sync, awareness via
// y-protocols/awareness. Two framings of the same messages:
//  - 'y-websocket': [varUint type][payload]            (y-websocket server, our relay)
//  - 'hocuspocus':  [varString documentName][varUint type][payload], Auth(token) first
// The message handling (`receive`) is transport-free so the floor measurements can
// drive the very same code path without a server.
import WebSocket from 'ws'
import * as Y from 'yjs'
import * as syncProtocol from 'y-protocols/sync'
import * as awarenessProtocol from 'y-protocols/awareness'
import * as encoding from 'lib0/encoding'
import * as decoding from 'lib0/decoding'
import type { ClientEndpoint } from './targets.js'

// message types shared by both protocols
const MSG_SYNC = 0
const MSG_AWARENESS = 1
const MSG_AUTH = 2
const MSG_QUERY_AWARENESS = 3
// Hocuspocus-only message types (@hocuspocus/server src/types.ts MessageType)
const HP_SYNC_REPLY = 4
const HP_STATELESS = 5
const HP_CLOSE = 7
const HP_SYNC_STATUS = 8
const HP_PING = 9
const HP_PONG = 10
// @hocuspocus/common AuthMessageType
const AUTH_TOKEN = 0
const AUTH_PERMISSION_DENIED = 1
const AUTH_AUTHENTICATED = 2

export interface ClientOptions {
  /** Local awareness state set on connect (null: no Awareness instance at all). */
  awarenessState?: Record<string, unknown> | null
  connectTimeoutMs?: number
  /** Detached mode (no socket): outgoing frames go here. Used by the floor measurements. */
  sink?: (frame: Uint8Array) => void
}

type Waiter = () => boolean

export class BenchClient {
  readonly doc = new Y.Doc()
  readonly awareness: awarenessProtocol.Awareness | null
  /** Frames received / sent (all types). */
  framesIn = 0
  framesOut = 0
  /** Sync step2 frames received: the first one means "synced". */
  step2In = 0
  /** performance.now() when the first sync step2 frame arrived, before it was applied (0: none yet). */
  firstStep2At = 0
  /** How long applying that first step2 took in this process (ms). */
  firstStep2ApplyMs = 0
  /** Hocuspocus SyncStatus acks received. */
  acks = 0
  authenticated = false
  /** The permessage extensions the server agreed to ('' = none). */
  extensions = ''
  private ws: WebSocket | null = null
  private readonly waiters = new Set<Waiter>()
  private readonly docName: string
  private closed = false
  private failure: Error | null = null

  constructor(readonly endpoint: ClientEndpoint, private readonly opts: ClientOptions = {}) {
    this.docName = endpoint.protocol === 'hocuspocus' ? endpoint.documentName : ''
    this.awareness = opts.awarenessState === undefined || opts.awarenessState === null ? null : new awarenessProtocol.Awareness(this.doc)
    this.doc.on('update', (update: Uint8Array, origin: unknown) => {
      if (origin === this) return
      this.send(this.frame(MSG_SYNC, (e) => syncProtocol.writeUpdate(e, update)))
    })
    // Like the stock providers: forward every local awareness 'update' (changes and the
    // 15 s renewals, which also keep Hocuspocus 4's idle timeout from firing).
    this.awareness?.on('update', ({ added, updated, removed }: { added: number[]; updated: number[]; removed: number[] }, origin: unknown) => {
      if (origin !== 'local') return
      const changed = added.concat(updated, removed)
      this.send(this.frame(MSG_AWARENESS, (e) => encoding.writeVarUint8Array(e, awarenessProtocol.encodeAwarenessUpdate(this.awareness!, changed))))
    })
  }

  get synced(): boolean {
    return this.step2In > 0
  }

  /** Opens the socket and resolves once the first sync step2 has been applied. */
  async connect(): Promise<void> {
    const timeout = this.opts.connectTimeoutMs ?? 30_000
    const ws = new WebSocket(this.endpoint.url)
    this.ws = ws
    ws.on('message', (data: WebSocket.RawData) => {
      const buf = Array.isArray(data) ? Buffer.concat(data) : data instanceof ArrayBuffer ? new Uint8Array(data) : data
      try {
        this.receive(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength))
      } catch (e) {
        this.fail(e instanceof Error ? e : new Error(String(e)))
      }
    })
    ws.on('error', (e) => this.fail(e))
    ws.on('close', () => {
      if (!this.closed) this.fail(new Error('server closed the connection'))
    })
    ws.on('open', () => {
      this.extensions = Object.keys(ws.extensions ?? {}).join(',')
      if (this.endpoint.protocol === 'hocuspocus') {
        // Auth first (the server queues everything else until it has run onAuthenticate),
        // then sync step1 pipelined behind it instead of waiting a round trip.
        this.send(this.frame(MSG_AUTH, (e) => {
          encoding.writeVarUint(e, AUTH_TOKEN)
          encoding.writeVarString(e, (this.endpoint as { token: string }).token)
        }))
      }
      this.send(this.frame(MSG_SYNC, (e) => syncProtocol.writeSyncStep1(e, this.doc)))
      if (this.awareness && this.opts.awarenessState) this.awareness.setLocalState(this.opts.awarenessState)
    })
    await this.waitUntil(() => this.synced, timeout, `connect+sync ${this.endpoint.url} ${this.docName}`)
  }

  /** Round trip: a fresh step1 answered by step2 proves the server has applied everything sent before. */
  async flush(timeoutMs = 30_000): Promise<void> {
    const want = this.step2In + 1
    this.send(this.frame(MSG_SYNC, (e) => syncProtocol.writeSyncStep1(e, this.doc)))
    await this.waitUntil(() => this.step2In >= want, timeoutMs, 'flush')
  }

  /** Resolves when `cond` holds (checked after every received frame); rejects at the deadline or on failure. */
  waitUntil(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (this.failure) return Promise.reject(this.failure)
    if (cond()) return Promise.resolve()
    return new Promise<void>((resolve, reject) => {
      const w: Waiter = () => {
        if (this.failure) {
          done()
          reject(this.failure)
          return true
        }
        if (!cond()) return false
        done()
        resolve()
        return true
      }
      const timer = setTimeout(() => {
        done()
        reject(new Error(`timeout after ${timeoutMs} ms: ${what}`))
      }, timeoutMs)
      const done = () => {
        clearTimeout(timer)
        this.waiters.delete(w)
      }
      this.waiters.add(w)
    })
  }

  async close(timeoutMs = 5000): Promise<void> {
    this.closed = true
    this.awareness?.destroy()
    const ws = this.ws
    if (ws && ws.readyState !== WebSocket.CLOSED) {
      const closed = new Promise<void>((r) => ws.once('close', () => r()))
      ws.close()
      const t = setTimeout(() => ws.terminate(), timeoutMs)
      await closed
      clearTimeout(t)
    }
    this.doc.destroy()
    this.notify()
  }

  /** Handles one incoming frame: the whole client-side protocol path. */
  receive(data: Uint8Array): void {
    this.framesIn++
    const decoder = decoding.createDecoder(data)
    if (this.endpoint.protocol === 'hocuspocus') decoding.readVarString(decoder) // document name
    const type = decoding.readVarUint(decoder)
    switch (type) {
      case MSG_SYNC:
      case HP_SYNC_REPLY: {
        const encoder = this.header(MSG_SYNC)
        const empty = encoding.length(encoder)
        const firstStep2 = this.firstStep2At === 0 && decoding.peekVarUint(decoder) === syncProtocol.messageYjsSyncStep2
        const t0 = firstStep2 ? performance.now() : 0
        const syncType = syncProtocol.readSyncMessage(decoder, encoder, this.doc, this)
        if (firstStep2) {
          this.firstStep2At = t0
          this.firstStep2ApplyMs = performance.now() - t0
        }
        if (encoding.length(encoder) > empty) this.send(encoding.toUint8Array(encoder))
        if (syncType === syncProtocol.messageYjsSyncStep2) this.step2In++
        break
      }
      case MSG_AWARENESS:
        if (this.awareness) awarenessProtocol.applyAwarenessUpdate(this.awareness, decoding.readVarUint8Array(decoder), this)
        break
      case MSG_AUTH:
        if (this.endpoint.protocol === 'hocuspocus') {
          const authType = decoding.readVarUint(decoder)
          if (authType === AUTH_AUTHENTICATED) this.authenticated = true
          else if (authType === AUTH_PERMISSION_DENIED) this.fail(new Error(`permission denied: ${decoding.readVarString(decoder)}`))
          else if (authType === AUTH_TOKEN) {
            this.send(this.frame(MSG_AUTH, (e) => {
              encoding.writeVarUint(e, AUTH_TOKEN)
              encoding.writeVarString(e, (this.endpoint as { token: string }).token)
            }))
          }
        }
        break
      case MSG_QUERY_AWARENESS:
        if (this.awareness) {
          const aw = this.awareness
          this.send(this.frame(MSG_AWARENESS, (e) => encoding.writeVarUint8Array(e, awarenessProtocol.encodeAwarenessUpdate(aw, Array.from(aw.getStates().keys())))))
        }
        break
      case HP_SYNC_STATUS:
        this.acks++
        break
      case HP_PING:
        this.send(this.frame(HP_PONG, () => {}))
        break
      case HP_CLOSE:
        this.fail(new Error('server sent CLOSE'))
        break
      case HP_STATELESS:
      default:
        break
    }
    this.notify()
  }

  private notify(): void {
    if (this.waiters.size === 0) return
    for (const w of [...this.waiters]) w()
  }

  private fail(e: Error): void {
    if (this.closed) return
    if (!this.failure) this.failure = e
    this.notify()
  }

  private header(type: number): encoding.Encoder {
    const e = encoding.createEncoder()
    if (this.endpoint.protocol === 'hocuspocus') encoding.writeVarString(e, this.docName)
    encoding.writeVarUint(e, type)
    return e
  }

  private frame(type: number, body: (e: encoding.Encoder) => void): Uint8Array {
    const e = this.header(type)
    body(e)
    return encoding.toUint8Array(e)
  }

  private send(m: Uint8Array): void {
    const ws = this.ws
    if (ws === null) {
      if (this.opts.sink) {
        this.framesOut++
        this.opts.sink(m)
      }
      return
    }
    if (ws.readyState !== WebSocket.OPEN) return
    this.framesOut++
    ws.send(m)
  }
}

/** Connects `n` clients with at most `concurrency` handshakes in flight; all or nothing. */
export async function connectMany(endpoints: ClientEndpoint[], opts: (i: number) => ClientOptions, concurrency = 32): Promise<BenchClient[]> {
  const clients = endpoints.map((ep, i) => new BenchClient(ep, opts(i)))
  let next = 0
  const errors: Error[] = []
  const worker = async () => {
    while (next < clients.length && errors.length === 0) {
      const c = clients[next++]!
      try {
        await c.connect()
      } catch (e) {
        errors.push(e instanceof Error ? e : new Error(String(e)))
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, clients.length) }, worker))
  if (errors.length > 0) {
    await closeAll(clients)
    throw errors[0]!
  }
  return clients
}

export async function closeAll(clients: BenchClient[]): Promise<void> {
  await Promise.all(clients.map((c) => c.close()))
}
