/**
 * A stock y-websocket WebsocketProvider on `/<workspaceId>?token=<credential>` (YWS-n):
 * one doc per socket (the workspace doc), the plain y-websocket messages, the same role
 * rules. A viewer's updates are not applied (the provider is told once, through
 * y-protocols' auth message, which it logs). Stock clients echo every awareness state
 * they receive; those echoes are dropped quietly by the presence hub.
 */
import { CloseCode, FrameKind, decodeYwsMessage, encodeYwsMessage, type Frame, type MemberRole } from '@orchard/protocol'
import { REFUSALS, can } from '@orchard/protocol'
import type { MemberRecord } from '../auth/AuthRegistry.js'
import { SYNC_STEP1, decodeSyncMessage } from '../docs/sync-messages.js'
import { WORKSPACE_CHANNEL } from '../docs/channels.js'
import type { ConnectionHost, YwsRoom } from './connection-port.js'
import { InboundBudget } from './InboundBudget.js'
import { OutboundBudget, type OutboundHooks } from './OutboundBudget.js'
import type { Identity, RelayPeerHandle, RelaySocket, RoomPeer } from './types.js'

export class YwsConnection implements RoomPeer, RelayPeerHandle, OutboundHooks {
  readonly flavor = 'yws' as const
  readonly identity: Identity
  private open = true
  private toldReadOnly = false
  private answering = false
  private readonly inbound: InboundBudget
  private readonly outbound: OutboundBudget

  constructor(
    private readonly core: ConnectionHost,
    private readonly socket: RelaySocket,
    readonly connectionId: number,
    private readonly room: YwsRoom,
    member: MemberRecord
  ) {
    this.identity = { memberId: member.id, name: member.name, role: member.role, instanceId: `yws-${connectionId}`, label: 'y-websocket' }
    // LIMIT-5 / LIMIT-6: the same flow control as Orchard connections.
    this.inbound = new InboundBudget(core.limits, socket)
    this.outbound = new OutboundBudget(core.limits, socket, this)
    room.attach(this)
    const doc = room.workspaceDoc
    doc.subscribers.add(this)
    // As y-websocket's own server does: our step 1 first, then the presence we hold.
    this.sendRaw(encodeYwsMessage({ type: 'sync', body: doc.step1() }))
    const presence = room.presence.snapshot('yws')
    if (presence) this.sendRaw(presence)
    core.hooks.onConnect?.({ workspaceId: room.id, identity: { ...this.identity }, flavor: this.flavor })
  }

  receive(data: Uint8Array): void {
    if (!this.open) return
    if (data.byteLength > this.core.limits.maxFrameBytes) {
      this.close(CloseCode.tooLarge, 'too-large')
      return
    }
    if (this.inbound.admit(data.byteLength, false) === 'close') {
      this.close(CloseCode.rateLimited, 'rate-limited')
      return
    }
    this.core.metrics.bytesIn += data.byteLength
    try {
      this.handle(data)
    } catch (error) {
      // ERRORS-1: whatever went wrong with this client's bytes costs this client alone.
      this.core.connectionFault(this, 'y-websocket message', error)
    }
  }

  private handle(data: Uint8Array): void {
    let message
    try {
      message = decodeYwsMessage(data)
    } catch {
      this.close(CloseCode.badRequest, 'bad-frame')
      return
    }
    switch (message.type) {
      case 'sync':
        this.onSync(message.body)
        return
      case 'awareness': {
        // Echoes are dropped quietly (COMPAT-3); a malformed or over-limit update closes
        // the socket (PRESENCE-6), since a stock client has no other way to hear about it.
        const result = this.room.presence.apply(this, message.update)
        if (!result.ok && result.code !== 'forbidden') this.close(result.code === 'too-large' ? CloseCode.tooLarge : CloseCode.badRequest, result.code)
        return
      }
      case 'query-awareness': {
        const presence = this.room.presence.snapshot('yws')
        if (presence) this.sendRaw(presence)
        return
      }
      case 'auth':
        return
    }
  }

  private onSync(body: Uint8Array): void {
    const message = decodeSyncMessage(body)
    if (!message) {
      this.close(CloseCode.badRequest, 'bad-frame')
      return
    }
    if (message.type === SYNC_STEP1) {
      this.outbound.answer(WORKSPACE_CHANNEL, () => this.answerStep1(body))
      return
    }
    if (!can(this.identity.role, 'doc.write')) {
      // Refused before any struct is decoded (VALID-3). A stock client answers our step 1
      // with a step 2 even when it has nothing new (its whole delete set, at most): that is
      // not worth telling about; a deletion the doc does not have is.
      if (this.room.workspaceDoc.changesNothing(message.update)) return
      if (!this.toldReadOnly) this.sendRaw(encodeYwsMessage({ type: 'auth', reason: REFUSALS['doc.write'] }))
      this.toldReadOnly = true
      return
    }
    this.room.onSync(this, WORKSPACE_CHANNEL, body, null)
  }

  private answerStep1(body: Uint8Array): void {
    this.answering = true
    try {
      this.room.onSync(this, WORKSPACE_CHANNEL, body, null)
    } finally {
      this.answering = false
    }
  }

  /** OutboundHooks: the socket is past its cap. */
  overflow(): void {
    this.close(CloseCode.tryAgain, 'slow-reader')
  }

  /** OutboundHooks: presence broadcasts were skipped; send everyone's current state. */
  resendPresence(): void {
    this.sendRaw(this.room.presence.snapshot('yws') ?? new Uint8Array())
  }

  closed(): void {
    if (!this.open) return
    this.open = false
    this.inbound.dispose()
    this.outbound.dispose()
    this.room.detach(this)
    this.core.connectionClosed(this, this.room.id)
  }

  sendRaw(bytes: Uint8Array): void {
    if (!this.open || bytes.byteLength === 0) return
    // y-websocket message type 1 is awareness (presence).
    if (!this.outbound.admit(bytes.byteLength, this.answering ? 'answer' : bytes[0] === 1 ? 'presence' : 'other')) return
    this.core.metrics.bytesOut += bytes.byteLength
    this.socket.send(bytes)
  }

  /**
   * Orchard frames have no y-websocket form. An ERROR the room sends this client becomes its
   * close (YWS-3): a stock client cannot show an error, and a refusal it never hears about
   * is a silent loss. Other frames have no meaning here.
   */
  sendFrame(frame: Frame): void {
    if (frame.kind !== FrameKind.error) return
    const code = YWS_CLOSE[frame.code]
    if (code !== undefined) this.close(code, frame.code)
  }

  close(code: number, reason: string): void {
    if (!this.open) return
    this.socket.close(code, reason)
    this.closed()
  }

  get bufferedAmount(): number {
    return this.socket.bufferedAmount
  }

  setRole(role: MemberRole): void {
    ;(this.identity as { role: MemberRole }).role = role
  }
}

/** ERROR codes that end a stock client's socket, and how. Others (none today) are dropped. */
const YWS_CLOSE: Record<string, number> = {
  'bad-frame': CloseCode.badRequest,
  'too-large': CloseCode.tooLarge,
  forbidden: CloseCode.forbidden,
  'read-only': CloseCode.forbidden,
  internal: 1011
}
