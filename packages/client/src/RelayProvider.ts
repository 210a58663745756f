/**
 * Binds a workspace's docs and presence to the relay over one transport (PROVIDER-n).
 * Reconnects with jittered backoff, stops on 44xx and says why, re-syncs with state
 * vectors so edits made offline merge, and reports when the relay has stored everything
 * sent ('persisted'). Also carries RPC both ways and, for upper layers, raw frames.
 */
import {
  FrameKind,
  PROTOCOL_VERSION,
  decodeFrame,
  encodeFrame,
  isRetryableClose,
  rpcErrorFrame,
  rpcOkFrame,
  type Frame,
  type OrchardEvent,
  type RpcRequestFrame,
  type WelcomeFields
} from '@orchard/protocol'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { ObservableV2 } from 'lib0/observable'
import { Awareness, applyAwarenessUpdate, encodeAwarenessUpdate, removeAwarenessStates } from 'y-protocols/awareness'
import * as syncProtocol from 'y-protocols/sync'
import * as Y from 'yjs'
import type { Transport, TransportFactory } from './transport.js'

export type ProviderStatus = 'connecting' | 'connected' | 'disconnected' | 'stopped'

/** Why the provider stopped for good (a 44xx close): show `message` to the user. */
export interface StopReason {
  code: number
  reason: string
  message: string
}

export interface RelayErrorInfo {
  code: string
  message: string
  channel: string
  data?: unknown
}

export class RelayRequestError extends Error {
  override readonly name = 'RelayRequestError'
  constructor(
    readonly code: string,
    message: string,
    readonly data?: unknown
  ) {
    super(message)
  }
}

export type RelayProviderEvents = {
  status: (status: ProviderStatus) => void
  welcome: (welcome: WelcomeFields) => void
  /** A doc channel finished its initial sync with the relay (after every (re)connect). */
  synced: (channel: string) => void
  /** Everything sent so far has been stored (or refused with an 'error') by the relay. */
  persisted: () => void
  error: (error: RelayErrorInfo) => void
  event: (event: OrchardEvent) => void
  stopped: (reason: StopReason) => void
  /** Frames the provider does not handle itself (terminal streams). */
  frame: (frame: Frame) => void
}

export interface RelayProviderOptions {
  transport: TransportFactory
  /** A member credential, or an invite token (then `name` names the new member). */
  credential: string
  instanceId: string
  label?: string
  name?: string
  /**
   * With an invite: the member credential this instance held before in the workspace, so a
   * member removed and invited again keeps its instance id (the relay's IDENT-3). Sent only
   * while joining; once welcomed the provider speaks with its new credential.
   */
  previousCredential?: string
  /** Docs by channel: 'workspace' is written by members, 'control' is read-only. */
  docs: Record<string, Y.Doc>
  awareness?: Awareness
  /** Channels the relay writes alone: never sent upstream. */
  readOnlyChannels?: string[]
  backoff?: { initialMs?: number; maxMs?: number }
  /** Don't connect until connect() is called. */
  manual?: boolean
  requestTimeoutMs?: number
}

export type RequestHandler = (method: string, params: unknown) => Promise<unknown> | unknown

const PROVIDER_ORIGIN = Symbol('orchard:provider')
const EMPTY_STATE_VECTOR = Y.encodeStateVector(new Y.Doc())

export class RelayProvider extends ObservableV2<RelayProviderEvents> {
  readonly docs: Record<string, Y.Doc>
  readonly awareness: Awareness | null
  /** This instance's id and the label it shows others. */
  readonly instanceId: string
  readonly label: string
  status: ProviderStatus = 'disconnected'
  welcome: WelcomeFields | null = null
  stopReason: StopReason | null = null
  private transport: Transport | null = null
  private credential: string
  private attempt = 0
  private reconnectTimer: NodeJS.Timeout | null = null
  private shouldConnect = false
  /** Set by destroy(), never cleared: a destroyed provider opens nothing again (PROVIDER-7). */
  private destroyed = false
  private lastError: RelayErrorInfo | null = null
  private readonly sent = new Map<string, number>()
  private readonly acked = new Map<string, number>()
  private readonly syncedChannels = new Set<string>()
  /** TERM_INPUT/TERM_RESIZE frames sent per channel on this connection (LEASE-11's numbering). */
  private readonly inputsSent = new Map<string, number>()
  private readonly pendingRequests = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>()
  private nextRequestId = 1
  private requestHandler: RequestHandler | null = null
  private readonly cleanups: Array<() => void> = []
  /** Local updates of this turn, per channel, sent merged at its end. */
  private readonly queued = new Map<string, Uint8Array[]>()
  private flushQueued = false

  constructor(private readonly options: RelayProviderOptions) {
    super()
    this.docs = options.docs
    this.awareness = options.awareness ?? null
    this.instanceId = options.instanceId
    this.label = options.label ?? ''
    this.credential = options.credential
    const readOnly = new Set(options.readOnlyChannels ?? ['control'])
    for (const [channel, doc] of Object.entries(this.docs)) {
      if (readOnly.has(channel)) continue
      const onUpdate = (update: Uint8Array, origin: unknown) => {
        if (origin === PROVIDER_ORIGIN || this.status !== 'connected') return
        this.queueUpdate(channel, update)
      }
      doc.on('update', onUpdate)
      this.cleanups.push(() => doc.off('update', onUpdate))
    }
    if (this.awareness) {
      const awareness = this.awareness
      const onAwareness = ({ added, updated, removed }: { added: number[]; updated: number[]; removed: number[] }, origin: unknown) => {
        if (origin === PROVIDER_ORIGIN || this.status !== 'connected') return
        const changed = added.concat(updated, removed)
        this.sendFrame({ kind: FrameKind.awareness, channel: 'workspace', body: encodeAwarenessUpdate(awareness, changed) })
      }
      awareness.on('update', onAwareness)
      this.cleanups.push(() => awareness.off('update', onAwareness))
    }
    if (!options.manual) this.connect()
  }

  get synced(): boolean {
    return Object.keys(this.docs).every((channel) => this.syncedChannels.has(channel))
  }

  /** True once the relay has settled every update sent so far (and none waits to be sent). */
  get persisted(): boolean {
    if (this.queued.size > 0) return false
    for (const [channel, sent] of this.sent) if ((this.acked.get(channel) ?? 0) < sent) return false
    return true
  }

  /** Update frames sent on a channel over the current connection (a write's sequence number). */
  sentUpdates(channel = 'workspace'): number {
    return this.sent.get(channel) ?? 0
  }

  /**
   * The sequence number the frame carrying an update made now will have: updates of one
   * event-loop turn go out merged, as one frame, at the end of the turn (PROVIDER-6).
   */
  nextUpdateSeq(channel = 'workspace'): number {
    return this.sentUpdates(channel) + 1
  }

  /** How many of them the relay has settled (stored, or refused with an error). */
  ackedUpdates(channel = 'workspace'): number {
    return this.acked.get(channel) ?? 0
  }

  /**
   * Opens the connection (at once) and keeps it open. A no-op after a 44xx stop (PROVIDER-2)
   * and after destroy() (PROVIDER-7): like y-websocket's, it never throws, since apps call it
   * from 'online' and focus handlers that can race their own teardown.
   */
  connect(): void {
    if (this.destroyed || this.status === 'stopped') return
    this.shouldConnect = true
    if (this.transport) return
    this.open()
  }

  /** Closes the connection; connect() opens it again (at once, even before the old socket has finished closing). */
  disconnect(): void {
    this.shouldConnect = false
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer)
    this.reconnectTimer = null
    const transport = this.transport
    if (!transport) return
    // Detached first: its late close event belongs to no one.
    this.detach()
    transport.close(1000, 'client disconnect')
    // Never 'stopped' here: a stop forgets its transport, so we returned above.
    this.setStatus('disconnected')
  }

  /** Final (PROVIDER-7): closes the connection, cancels a retry, lets go of the docs and presence. */
  override destroy(): void {
    this.destroyed = true
    this.disconnect()
    for (const cleanup of this.cleanups.splice(0)) cleanup()
    super.destroy()
  }

  /** Serves requests the relay sends to this instance (a broker host answering spawn). */
  onRequest(handler: RequestHandler | null): void {
    this.requestHandler = handler
  }

  /** An RPC to the relay. Rejects with RelayRequestError carrying the relay's code and message. */
  request<T = unknown>(method: string, params: unknown = {}, timeoutMs = this.options.requestTimeoutMs ?? 15_000): Promise<T> {
    if (this.destroyed) {
      return Promise.reject(new RelayRequestError('disconnected', `This provider was destroyed, so "${method}" was not sent. Create a new provider to reach the relay.`))
    }
    // No transport while still 'connected': the connection is closing right now (a presence
    // listener running during the drop); sent nowhere, the request would wait out its timeout.
    if (this.status !== 'connected' || !this.transport) {
      return Promise.reject(new RelayRequestError('disconnected', `Not connected to the relay, so "${method}" was not sent. Try again when connected.`))
    }
    const id = this.nextRequestId++
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pendingRequests.delete(id)
        reject(new RelayRequestError('timeout', `The relay did not answer "${method}" within ${timeoutMs} ms.`))
      }, timeoutMs)
      this.pendingRequests.set(id, { resolve: resolve as (v: unknown) => void, reject, timer })
      this.sendFrame({ kind: FrameKind.rpcRequest, channel: '', id, method, params })
    })
  }

  /** Sends any frame (terminal streams use this). Dropped until the relay has welcomed this connection. */
  sendFrame(frame: Frame): void {
    if (!this.transport || this.status !== 'connected') return
    this.transport.send(encodeFrame(frame))
    if (frame.kind === FrameKind.termInput || frame.kind === FrameKind.termResize) {
      this.inputsSent.set(frame.channel, this.sentInputs(frame.channel) + 1)
    }
  }

  /** Input and resize frames sent on a channel over this connection: the last one's number (INPUT-2). */
  sentInputs(channel: string): number {
    return this.inputsSent.get(channel) ?? 0
  }

  /** Resolves when every update sent so far has been stored by the relay. */
  whenPersisted(): Promise<void> {
    if (this.persisted) return Promise.resolve()
    return new Promise((resolve) => {
      const listener = () => {
        this.off('persisted', listener)
        resolve()
      }
      this.on('persisted', listener)
    })
  }

  /** Resolves when every doc has synced with the relay. */
  whenSynced(): Promise<void> {
    if (this.synced) return Promise.resolve()
    return new Promise((resolve) => {
      const listener = () => {
        if (!this.synced) return
        this.off('synced', listener)
        resolve()
      }
      this.on('synced', listener)
    })
  }

  private open(): void {
    this.setStatus('connecting')
    const transport = this.options.transport()
    this.transport = transport
    transport.onOpen(() => {
      if (this.transport !== transport) return
      transport.send(
        encodeFrame({
          kind: FrameKind.hello,
          channel: '',
          protocol: PROTOCOL_VERSION,
          credential: this.credential,
          instanceId: this.options.instanceId,
          ...(this.options.label ? { label: this.options.label } : {}),
          ...(this.options.name ? { name: this.options.name } : {}),
          ...(this.options.previousCredential && this.credential === this.options.credential ? { previousCredential: this.options.previousCredential } : {}),
          client: 'orchard-client/0.1.0'
        })
      )
    })
    transport.onMessage((data) => {
      if (this.transport === transport) this.onMessage(data)
    })
    transport.onClose((code, reason) => {
      if (this.transport === transport) this.onClose(code, reason)
    })
  }

  private onMessage(data: Uint8Array): void {
    let frame: Frame
    try {
      frame = decodeFrame(data)
    } catch (error) {
      this.emit('error', [{ code: 'bad-frame', message: `The relay sent a frame this client cannot read: ${(error as Error).message}`, channel: '' }])
      return
    }
    switch (frame.kind) {
      case FrameKind.welcome:
        this.onWelcome(frame)
        return
      case FrameKind.sync:
        this.onSync(frame.channel, frame.body)
        return
      case FrameKind.awareness:
        if (this.awareness) applyAwarenessUpdate(this.awareness, frame.body, PROVIDER_ORIGIN)
        return
      case FrameKind.ack:
        // An ACK on a terminal channel answers input frames (INPUT-2): not a doc's business.
        if (!(frame.channel in this.docs)) {
          this.emit('frame', [frame])
          return
        }
        this.acked.set(frame.channel, Math.max(this.acked.get(frame.channel) ?? 0, frame.seq))
        if (this.persisted) this.emit('persisted', [])
        return
      case FrameKind.error: {
        const info: RelayErrorInfo = { code: frame.code, message: frame.message, channel: frame.channel, ...(frame.data !== undefined ? { data: frame.data } : {}) }
        this.lastError = info
        this.emit('error', [info])
        return
      }
      case FrameKind.rpcResponse: {
        const pending = this.pendingRequests.get(frame.id)
        if (!pending) return
        this.pendingRequests.delete(frame.id)
        clearTimeout(pending.timer)
        if (frame.ok) pending.resolve(frame.result)
        else pending.reject(new RelayRequestError(frame.code, frame.message, frame.data))
        return
      }
      case FrameKind.rpcRequest:
        void this.serveRequest(frame)
        return
      case FrameKind.event:
        this.emit('event', [frame.event])
        if (frame.event.type === 'role-changed' && this.welcome && typeof frame.event.role === 'string') {
          this.welcome = { ...this.welcome, role: frame.event.role as WelcomeFields['role'] }
        }
        return
      default:
        this.emit('frame', [frame])
    }
  }

  private onWelcome(welcome: WelcomeFields): void {
    // A join's invite is spent; reconnects use the credential it earned.
    if (welcome.credential) this.credential = welcome.credential
    this.welcome = welcome
    this.attempt = 0
    this.lastError = null
    this.sent.clear()
    this.acked.clear()
    this.syncedChannels.clear()
    this.setStatus('connected')
    this.emit('welcome', [welcome])
    for (const [channel, doc] of Object.entries(this.docs)) {
      this.sendFrameNow({ kind: FrameKind.sync, channel, body: encode((encoder) => syncProtocol.writeSyncStep1(encoder, doc)) })
    }
    if (this.awareness?.getLocalState()) {
      this.sendFrame({ kind: FrameKind.awareness, channel: 'workspace', body: encodeAwarenessUpdate(this.awareness, [this.awareness.clientID]) })
    }
  }

  private onSync(channel: string, body: Uint8Array): void {
    const doc = this.docs[channel]
    if (!doc) return
    try {
      this.applySync(channel, doc, body)
    } catch (error) {
      // VALID-5: an update this client cannot apply is refused and reported, never a crash;
      // the doc keeps what it had, and the relay's next full sync can bring it up to date.
      this.emit('error', [
        {
          code: 'bad-update',
          message: `The relay sent a "${channel}" update this client could not apply (${error instanceof Error ? error.message : String(error)}); it was ignored. Reconnect to sync again, and tell the relay's operator.`,
          channel
        }
      ])
    }
  }

  private applySync(channel: string, doc: Y.Doc, body: Uint8Array): void {
    const decoder = decoding.createDecoder(body)
    const type = decoding.readVarUint(decoder)
    if (type === syncProtocol.messageYjsSyncStep1) {
      // The relay asks for what it lacks: our offline edits travel here.
      const stateVector = decoding.readVarUint8Array(decoder)
      if ((this.options.readOnlyChannels ?? ['control']).includes(channel)) return
      this.sendSync(channel, (encoder) => syncProtocol.writeSyncStep2(encoder, doc, stateVector))
      return
    }
    const update = decoding.readVarUint8Array(decoder)
    // Re-encoded first, as every later save of this doc will: an update that cannot be
    // written back (JSON nested past the stack) would break the local file, not just this call.
    Y.diffUpdate(update, EMPTY_STATE_VECTOR)
    Y.applyUpdate(doc, update, PROVIDER_ORIGIN)
    if (type === syncProtocol.messageYjsSyncStep2 && !this.syncedChannels.has(channel)) {
      this.syncedChannels.add(channel)
      this.emit('synced', [channel])
    }
  }

  /**
   * PROVIDER-6: a burst of edits (Pear's saveStore, a paste) makes many Yjs updates in one
   * turn; they go to the relay as one merged frame, which the relay stores and acks once.
   */
  private queueUpdate(channel: string, update: Uint8Array): void {
    const list = this.queued.get(channel)
    if (list) list.push(update)
    else this.queued.set(channel, [update])
    if (this.flushQueued) return
    this.flushQueued = true
    setImmediate(() => {
      this.flushQueued = false
      // After a drop the queue is already empty: detach() cleared it, and nothing queues while
      // disconnected (those edits travel in the next sync's step 2).
      const queued = [...this.queued]
      this.queued.clear()
      for (const [queuedChannel, updates] of queued) {
        // A lone update comes back from mergeUpdates as is.
        const merged = Y.mergeUpdates(updates)
        this.sendSync(queuedChannel, (encoder) => syncProtocol.writeUpdate(encoder, merged))
      }
    })
  }

  private sendSync(channel: string, write: (encoder: encoding.Encoder) => void): void {
    if (this.status !== 'connected') return
    this.sent.set(channel, (this.sent.get(channel) ?? 0) + 1)
    this.sendFrame({ kind: FrameKind.sync, channel, body: encode(write) })
  }

  private sendFrameNow(frame: Frame): void {
    this.transport?.send(encodeFrame(frame))
  }

  private async serveRequest(request: RpcRequestFrame): Promise<void> {
    if (!this.requestHandler) {
      this.sendFrame(rpcErrorFrame(request.id, 'not-found', `This instance does not serve "${request.method}".`, undefined, request.channel))
      return
    }
    try {
      const result = await this.requestHandler(request.method, request.params)
      this.sendFrame(rpcOkFrame(request.id, result ?? null, request.channel))
    } catch (error) {
      const code = error instanceof RelayRequestError ? error.code : 'internal'
      this.sendFrame(rpcErrorFrame(request.id, code, error instanceof Error ? error.message : String(error), undefined, request.channel))
    }
  }

  /** Forgets the current transport and everything tied to it. */
  private detach(): void {
    this.transport = null
    this.queued.clear()
    this.syncedChannels.clear()
    this.inputsSent.clear()
    this.rejectPending('disconnected', 'The connection to the relay closed before it answered.')
    const awareness = this.awareness
    if (awareness) {
      // No ghosts: others' states are dropped until the relay sends them again.
      const others = [...awareness.getStates().keys()].filter((id) => id !== awareness.clientID)
      removeAwarenessStates(awareness, others, PROVIDER_ORIGIN)
    }
  }

  private onClose(code: number, reason: string): void {
    this.detach()
    if (!isRetryableClose(code)) {
      // PROVIDER-2: 44xx means retrying cannot help; say why and stop.
      this.stopReason = { code, reason, message: this.lastError?.message ?? (reason || `The relay closed the connection (code ${code}) without saying why.`) }
      this.shouldConnect = false
      this.setStatus('stopped')
      this.emit('stopped', [this.stopReason])
      return
    }
    this.setStatus('disconnected')
    // A status listener may have called disconnect() or destroy(): then no retry, and no timer
    // left behind to hold the process (PROVIDER-7).
    if (!this.shouldConnect) return
    // PROVIDER-1: full-jitter exponential backoff.
    const initial = this.options.backoff?.initialMs ?? 250
    const max = this.options.backoff?.maxMs ?? 10_000
    const delay = Math.random() * Math.min(max, initial * 2 ** this.attempt++)
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null
      if (this.shouldConnect && !this.transport) this.open()
    }, delay)
  }

  private rejectPending(code: string, message: string): void {
    for (const [id, pending] of this.pendingRequests) {
      clearTimeout(pending.timer)
      pending.reject(new RelayRequestError(code, message))
      this.pendingRequests.delete(id)
    }
  }

  private setStatus(status: ProviderStatus): void {
    if (this.status === status) return
    this.status = status
    this.emit('status', [status])
  }
}

function encode(write: (encoder: encoding.Encoder) => void): Uint8Array {
  const encoder = encoding.createEncoder()
  write(encoder)
  return encoding.toUint8Array(encoder)
}

export { PROVIDER_ORIGIN }
