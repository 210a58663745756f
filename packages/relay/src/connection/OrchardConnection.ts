/**
 * One Orchard-protocol socket: HELLO first (a credential, or an invite to join with),
 * then multiplexed frames for both docs, presence and RPC. Every bad input gets an
 * ERROR frame or a 44xx close for this socket alone (CONN-n); nothing here throws into
 * the transport.
 */
import {
  CloseCode,
  FrameDecodeError,
  FrameKind,
  PROTOCOL_VERSION,
  decodeFrame,
  errorFrame,
  rpcErrorFrame,
  rpcOkFrame,
  type Frame,
  type HelloFrame,
  type MemberRole,
  type RpcRequestFrame
} from '@orchard/protocol'
import { AuthError } from '../auth/AuthRegistry.js'
import { isInviteToken } from '@orchard/protocol'
import { RpcError } from '../rpc/RpcError.js'
import { SYNC_STEP1 } from '../docs/sync-messages.js'
import { AckTracker } from './AckTracker.js'
import type { ConnectionHost, ConnectionRoom } from './connection-port.js'
import { InboundBudget } from './InboundBudget.js'
import { OutboundBudget, type OutboundHooks } from './OutboundBudget.js'
import type { Identity, RelayPeerHandle, RelaySocket, RoomPeer } from './types.js'

type State = 'hello' | 'authenticating' | 'open' | 'closed'

const MAX_ID_LENGTH = 200

export class OrchardConnection implements RoomPeer, RelayPeerHandle, OutboundHooks {
  readonly flavor = 'orchard' as const
  identity: Identity = { memberId: '', name: '', role: 'viewer', instanceId: '', label: '' }
  private state: State = 'hello'
  private room: ConnectionRoom | null = null
  /** Frames that arrived while HELLO was being checked; handled in order once it is. */
  private readonly queued: Frame[] = []
  private readonly acks = new Map<string, AckTracker>()
  readonly inbound: InboundBudget
  readonly outbound: OutboundBudget
  /** Set while a sync step-1 answer is being sent: those bytes are the answer (LIMIT-6). */
  private answering = false
  private badFrames = 0
  private readonly helloTimer: NodeJS.Timeout

  constructor(
    private readonly core: ConnectionHost,
    private readonly socket: RelaySocket,
    readonly connectionId: number
  ) {
    const limits = core.limits
    this.inbound = new InboundBudget(limits, socket)
    this.outbound = new OutboundBudget(limits, socket, this)
    this.helloTimer = setTimeout(() => this.refuse(CloseCode.badRequest, 'bad-frame', 'No HELLO arrived in time; say HELLO first.'), limits.helloTimeoutMs)
    this.helloTimer.unref?.()
  }

  /** OutboundHooks: the socket is past its cap. */
  overflow(): void {
    // Straight to the socket: sendRaw would refuse it, and the peer should still learn why.
    this.socket.send(this.core.encode(errorFrame('rate-limited', 'This connection fell too far behind reading what the relay sent; reconnect to resync.')))
    this.close(CloseCode.tryAgain, 'slow-reader')
  }

  /** OutboundHooks: presence broadcasts were skipped; send everyone's current state. */
  resendPresence(): void {
    const presence = this.room?.presence.snapshot(this.flavor)
    if (presence) this.sendRaw(presence)
  }

  receive(data: Uint8Array): void {
    if (this.state === 'closed') return
    const limits = this.core.limits
    if (data.byteLength > limits.maxFrameBytes) {
      this.refuse(CloseCode.tooLarge, 'too-large', `A frame of ${data.byteLength} bytes is over the relay's limit of ${limits.maxFrameBytes}.`)
      return
    }
    let frame: Frame | null = null
    let decodeError: unknown = null
    try {
      frame = decodeFrame(data)
    } catch (error) {
      decodeError = error
    }
    // Terminal output from the agent's own host has its own, larger budgets (LIMIT-3,
    // LIMIT-4): a chatty agent must not get its host disconnected. Anything else, output
    // from anyone else and malformed frames included, is charged to the general budget.
    // Over budget, the socket is read more slowly; only sustained abuse is closed (LIMIT-5).
    const output = frame?.kind === FrameKind.termOutput && this.hostsAgent(frame.channel)
    if (this.inbound.admit(data.byteLength, output) === 'close') {
      this.refuse(CloseCode.rateLimited, 'rate-limited', 'Too many frames or bytes per second from this connection. Slow down and reconnect later.')
      return
    }
    this.core.metrics.bytesIn += data.byteLength
    if (!frame) {
      this.onDecodeError(decodeError)
      return
    }
    if (this.state === 'hello') {
      if (frame.kind !== FrameKind.hello) {
        this.refuse(CloseCode.badRequest, 'bad-frame', 'The first frame on a connection must be HELLO.')
        return
      }
      void this.onHello(frame)
      return
    }
    if (this.state === 'authenticating') this.queued.push(frame)
    else this.dispatchSafely(frame, data)
  }

  /** ERRORS-1: a failure handling this socket's frame is answered on this socket alone. */
  private dispatchSafely(frame: Frame, raw?: Uint8Array): void {
    try {
      this.dispatch(frame, raw)
    } catch (error) {
      this.core.connectionFault(this, `frame kind ${frame.kind} on "${frame.channel}"`, error)
    }
  }

  closed(): void {
    if (this.state === 'closed') return
    this.state = 'closed'
    clearTimeout(this.helloTimer)
    this.inbound.dispose()
    this.outbound.dispose()
    this.room?.detach(this)
    this.core.connectionClosed(this, this.room?.id ?? null)
  }

  sendRaw(bytes: Uint8Array): void {
    if (this.state === 'closed') return
    if (!this.outbound.admit(bytes.byteLength, this.answering ? 'answer' : bytes[1] === FrameKind.awareness ? 'presence' : 'other')) return
    this.core.metrics.bytesOut += bytes.byteLength
    this.socket.send(bytes)
  }

  sendFrame(frame: Frame): void {
    this.sendRaw(this.core.encode(frame))
  }

  close(code: number, reason: string): void {
    if (this.state === 'closed') return
    this.socket.close(code, reason)
    this.closed()
  }

  setRole(role: MemberRole): void {
    this.identity = { ...this.identity, role }
    this.sendFrame({ kind: FrameKind.event, channel: '', event: { type: 'role-changed', role } })
  }

  get bufferedAmount(): number {
    return this.socket.bufferedAmount
  }

  /** LIMIT-1: the transport refused a frame over its size bound before reading it. */
  tooLarge(): void {
    this.refuse(CloseCode.tooLarge, 'too-large', `A frame over the relay's limit of ${this.core.limits.maxFrameBytes} bytes was refused; send smaller frames.`)
  }

  private async onHello(hello: HelloFrame): Promise<void> {
    clearTimeout(this.helloTimer)
    if (hello.protocol !== PROTOCOL_VERSION) {
      this.refuse(CloseCode.versionMismatch, 'unsupported-version', `This relay speaks protocol ${PROTOCOL_VERSION}; the client speaks ${hello.protocol}. Update the older side.`)
      return
    }
    if (!hello.instanceId || hello.instanceId.length > MAX_ID_LENGTH) {
      this.refuse(CloseCode.badRequest, 'bad-frame', `HELLO needs an instanceId of 1 to ${MAX_ID_LENGTH} characters.`)
      return
    }
    this.state = 'authenticating'
    let issuedCredential: string | undefined
    try {
      const joining = isInviteToken(hello.credential)
      const name = (hello.name ?? hello.label ?? '').trim().slice(0, MAX_ID_LENGTH) || 'Guest'
      let member
      if (joining) {
        const created = await this.core.auth.redeemInvite(hello.credential, name, hello.instanceId, hello.previousCredential)
        member = created.member
        issuedCredential = created.credential
      } else {
        member = await this.core.auth.authenticate(hello.credential)
      }
      // LIMIT-8: a reconnect storm is refused before it costs a control-doc write.
      const waitMs = this.core.memberConnects.take(member.id)
      if (waitMs > 0) {
        this.refuse(CloseCode.tryAgain, 'rate-limited', `Too many connections for this member in a short time; try again in ${Math.ceil(waitMs / 1000)} s.`, { retryAfterMs: waitMs }, 'connect-rate-limited')
        return
      }
      // IDENT-1: an instance id belongs to the member that first used it.
      await this.core.auth.bindInstance(member.workspaceId, hello.instanceId, member.id)
      const room = await this.core.room(member.workspaceId)
      if ((this.state as State) === 'closed') return
      if (joining) {
        room.control.setMember(member.id, { name: member.name, role: member.role, joinedAt: member.createdAt })
        room.recordActivity(null, 'member-joined', { memberId: member.id, memberName: member.name, role: member.role })
      }
      this.identity = {
        memberId: member.id,
        name: member.name,
        role: member.role,
        instanceId: hello.instanceId,
        label: (hello.label ?? '').slice(0, MAX_ID_LENGTH)
      }
      this.room = room
      this.state = 'open'
      room.attach(this)
      this.sendFrame({
        kind: FrameKind.welcome,
        channel: '',
        workspaceId: room.id,
        memberId: member.id,
        memberName: member.name,
        role: member.role,
        instanceId: hello.instanceId,
        limits: { maxFrameBytes: this.core.limits.maxFrameBytes, maxDocBytes: this.core.limits.maxDocBytes, viewerWindowBytes: this.core.limits.viewerHighWaterBytes },
        server: this.core.serverName,
        ...(issuedCredential ? { credential: issuedCredential } : {})
      })
      this.core.hooks.onConnect?.({ workspaceId: room.id, identity: { ...this.identity }, flavor: this.flavor })
    } catch (error) {
      if (error instanceof AuthError) {
        const forbidden = error.failure === 'instance-taken'
        this.refuse(forbidden ? CloseCode.forbidden : CloseCode.unauthorized, forbidden ? 'forbidden' : 'unauthorized', error.message, { reason: error.failure }, error.failure)
        return
      }
      this.core.logError('hello', error)
      this.refuse(CloseCode.tryAgain, 'internal', 'The relay could not open this workspace right now; try again shortly.')
      return
    }
    for (const frame of this.queued.splice(0)) if (this.state === 'open') this.dispatchSafely(frame)
  }

  /** `raw` is the frame as received, when it can be forwarded unchanged (terminal output). */
  private dispatch(frame: Frame, raw?: Uint8Array): void {
    const room = this.room as ConnectionRoom
    switch (frame.kind) {
      case FrameKind.sync:
        if (frame.body[0] === SYNC_STEP1 && room.channel(frame.channel)) {
          // LIMIT-6: an answer (possibly the whole doc) waits while this socket is backed up.
          this.outbound.answer(frame.channel, () => this.answerStep1(frame.channel, frame.body))
          return
        }
        room.onSync(this, frame.channel, frame.body, this.ackTracker(frame.channel))
        return
      case FrameKind.awareness: {
        if (frame.channel !== 'workspace') {
          this.sendFrame(errorFrame('not-found', 'Presence is only kept on the workspace channel.', undefined, frame.channel))
          return
        }
        const result = room.presence.apply(this, frame.body)
        if (!result.ok) this.sendFrame(errorFrame(result.code, result.message, undefined, frame.channel))
        return
      }
      case FrameKind.rpcRequest:
        void this.onRpc(room, frame)
        return
      case FrameKind.rpcResponse:
        this.core.rpcResponse(this, frame)
        return
      case FrameKind.hello:
        this.sendFrame(errorFrame('bad-frame', 'HELLO was already received on this connection; it was ignored.'))
        return
      case FrameKind.ack:
        if (frame.channel === 'workspace' || frame.channel === 'control') return
        this.core.handleStreamFrame(room, this, frame)
        return
      default:
        this.core.handleStreamFrame(room, this, frame, raw)
    }
  }

  /** Whether this connection's instance is the host of `agentId` (LIMIT-4: whose output budget applies). */
  private hostsAgent(agentId: string): boolean {
    return this.state === 'open' && this.room?.agents.get(agentId)?.hostInstanceId === this.identity.instanceId
  }

  private answerStep1(channel: string, body: Uint8Array): void {
    if (this.state !== 'open' || !this.room) return
    this.answering = true
    try {
      this.room.onSync(this, channel, body, null)
    } finally {
      this.answering = false
    }
  }

  private async onRpc(room: ConnectionRoom, request: RpcRequestFrame): Promise<void> {
    try {
      const result = await this.core.rpc.handle({ room, peer: this }, request.method, request.params)
      this.sendFrame(rpcOkFrame(request.id, result ?? null, request.channel))
    } catch (error) {
      if (error instanceof RpcError) {
        this.sendFrame(rpcErrorFrame(request.id, error.code, error.message, error.data, request.channel))
        return
      }
      this.core.logError(`rpc ${request.method}`, error)
      this.sendFrame(rpcErrorFrame(request.id, 'internal', `The relay failed while handling ${request.method}; it was logged.`, undefined, request.channel))
    }
  }

  private ackTracker(channel: string): AckTracker {
    let tracker = this.acks.get(channel)
    if (!tracker) {
      tracker = new AckTracker((seq) => this.sendFrame({ kind: FrameKind.ack, channel, seq }))
      this.acks.set(channel, tracker)
    }
    return tracker
  }

  private onDecodeError(error: unknown): void {
    if (!(error instanceof FrameDecodeError)) {
      this.core.logError('decode', error)
      this.refuse(CloseCode.badRequest, 'bad-frame', 'The relay could not read that frame.')
      return
    }
    if (error.code === 'unsupported-version') {
      this.refuse(CloseCode.versionMismatch, 'unsupported-version', `${error.message} This relay speaks version ${PROTOCOL_VERSION}; update the older side.`)
      return
    }
    if (this.state === 'hello') {
      this.refuse(CloseCode.badRequest, error.code, `${error.message} The first frame must be a valid HELLO.`)
      return
    }
    // CONN-2: an unknown kind or one malformed frame is answered, not fatal; many are.
    this.sendFrame(errorFrame(error.code, error.message, error.kind !== undefined ? { kind: error.kind } : undefined, error.channel ?? ''))
    if (++this.badFrames > this.core.limits.maxBadFrames) {
      this.refuse(CloseCode.badRequest, 'bad-frame', 'Too many malformed frames; closing this connection.')
    }
  }

  /** Tells the peer why, then closes with a code that says whether to retry. */
  private refuse(code: number, errorCode: string, message: string, data?: unknown, closeReason = errorCode): void {
    if (this.state === 'closed') return
    this.sendFrame(errorFrame(errorCode, message, data))
    this.close(code, closeReason)
  }
}
