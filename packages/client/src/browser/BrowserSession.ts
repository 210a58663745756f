/**
 * A browser's seat in a shared workspace (BROWSER-n): join with an invite or open with the
 * stored seat, then the workspace model, the control doc, presence, leases and terminals,
 * over the browser's WebSocket. Unlike WorkspaceSession there is no projects.json: the
 * workspace lives in memory and comes from the relay on every load; the seat (credential,
 * instance id) lives in a SeatStore (localStorage in the observer).
 */
import { FrameKind, parseCredential, parseInvite, type ActivityEntry, type AgentRecord, type ControlInstance, type ControlMember, type LeaseRecord, type MemberRole, type WelcomeFields } from '@orchard/protocol'
import { WorkspaceModel, WriteRefusedError } from '@orchard/workspace/browser'
import { ObservableV2 } from 'lib0/observable'
import type { Awareness } from 'y-protocols/awareness'
import * as Y from 'yjs'
import { LeaseKeeper, type LeaseLost } from '../LeaseKeeper.js'
import { PresenceView } from '../PresenceView.js'
import type { ProviderStatus, RelayProvider, StopReason } from '../RelayProvider.js'
import { ControlView } from '../session/ControlView.js'
import { MemberSeat } from '../session/MemberSeat.js'
import { SessionError } from '../session/SessionError.js'
import { sessionProvider } from '../session/session-provider.js'
import { TerminalStream } from '../terminal/TerminalStream.js'
import type { TransportFactory } from '../transport.js'
import { browserWebSocketTransport } from './BrowserWebSocketTransport.js'
import type { BrowserSeat, SeatStore } from './SeatStore.js'

export { SessionError }

export interface BrowserSessionOptions {
  seats: SeatStore
  /** Shown to others next to this instance (e.g. "browser"). */
  label?: string
  /** The relay's ws:// URL; default: the one in the invite or the stored seat. */
  relayUrl?: string
  transport?: TransportFactory
  /** How long join waits for the relay before failing (ms, default 15 000). */
  connectTimeoutMs?: number
  backoff?: { initialMs?: number; maxMs?: number }
}

export type BrowserSessionEvents = {
  status: (status: ProviderStatus) => void
  role: (role: MemberRole) => void
  stopped: (reason: StopReason) => void
  /** Anything in the control doc changed (members, instances, agents, leases, activity). */
  control: () => void
  activity: (entry: ActivityEntry) => void
  'lease-lost': (lost: LeaseLost) => void
}

export class BrowserSession extends ObservableV2<BrowserSessionEvents> {
  readonly model: WorkspaceModel
  readonly controlDoc: Y.Doc
  readonly awareness: Awareness
  readonly leases: LeaseKeeper
  readonly presence: PresenceView
  /** Why the relay stopped this session for good (a 44xx close), in words; null while it has not. */
  stopReason: StopReason | null = null
  private closingWords: string | null = null
  private readonly seat: MemberSeat<BrowserSeat>
  private readonly control: ControlView

  private constructor(
    readonly provider: RelayProvider,
    seat: BrowserSeat,
    private readonly seats: SeatStore
  ) {
    super()
    const doc = provider.docs.workspace as Y.Doc
    this.model = new WorkspaceModel(doc)
    this.controlDoc = provider.docs.control as Y.Doc
    this.awareness = provider.awareness as Awareness
    // ROLE-3 in the browser too: refuse locally what the relay would refuse, in its words.
    this.model.setWriteGuard(() => this.seat.refuseUnless('doc.write'))
    this.leases = new LeaseKeeper(provider)
    this.leases.on('lost', (lost) => this.emit('lease-lost', [lost]))
    this.presence = new PresenceView(this.awareness, () => ({
      memberId: this.seat.value.memberId,
      name: this.seat.value.name,
      role: this.seat.role,
      instanceId: provider.instanceId,
      label: provider.label
    }))
    provider.on('status', (status) => this.emit('status', [status]))
    provider.on('stopped', (reason) => {
      // The provider's message is the last ERROR it got, which may be an older, unrelated
      // one (a viewer's refused sync reply); a 'removed' event or a connection-level ERROR
      // just before the close says why better.
      this.stopReason = { ...reason, message: this.closingWords ?? reason.message }
      this.emit('stopped', [this.stopReason])
    })
    provider.on('error', (error) => {
      if (error.channel === '') this.closingWords = error.message
    })
    provider.on('welcome', () => {
      this.closingWords = null
    })
    // A seat the page left (leave(), or another tab joined elsewhere) is not written back.
    this.seat = new MemberSeat(provider, seat, (current) => {
      if (seats.load()?.credential === current.credential) seats.save(current)
    })
    this.seat.on('role', (role) => this.emit('role', [role]))
    provider.on('event', (event) => {
      if (event.type === 'removed' && typeof event.message === 'string') this.closingWords = event.message
    })
    this.controlDoc.on('update', () => this.emit('control', []))
    this.control = new ControlView(this.controlDoc)
    this.control.on('activity', (entry) => this.emit('activity', [entry]))
  }

  /** BROWSER-1: redeems an invite once; the credential it earns is kept in `seats`. */
  static async join(invite: string, options: BrowserSessionOptions & { name: string }): Promise<BrowserSession> {
    const parsed = parseInvite(invite)
    if (!parsed) throw new SessionError('This is not a valid Orchard invite. Check that you copied the whole link.', 'invite-malformed')
    const relayUrl = options.relayUrl ?? parsed.relay
    const instanceId = options.seats.load()?.instanceId ?? crypto.randomUUID()
    const provider = BrowserSession.provider(parsed.workspaceId, invite, relayUrl, instanceId, options, options.name)
    let welcome: WelcomeFields
    try {
      welcome = await welcomed(provider, options.connectTimeoutMs ?? 15_000, relayUrl)
      if (!welcome.credential) throw new SessionError('The relay accepted the invite but sent no credential; update the relay.', 'internal')
    } catch (error) {
      provider.destroy()
      throw error
    }
    const seat: BrowserSeat = { credential: welcome.credential, relayUrl, workspaceId: welcome.workspaceId, memberId: welcome.memberId, name: welcome.memberName, role: welcome.role, instanceId }
    options.seats.save(seat)
    return new BrowserSession(provider, seat, options.seats)
  }

  /**
   * BROWSER-2: reconnects with the stored seat without waiting for the relay (the page
   * shows "offline" until it answers). Null when this browser has not joined.
   */
  static open(options: BrowserSessionOptions): BrowserSession | null {
    const stored = options.seats.load()
    if (!stored || !parseCredential(stored.credential)) return null
    const seat = options.relayUrl ? { ...stored, relayUrl: options.relayUrl } : stored
    const provider = BrowserSession.provider(seat.workspaceId, seat.credential, seat.relayUrl, seat.instanceId, options)
    return new BrowserSession(provider, seat, options.seats)
  }

  get role(): MemberRole {
    return this.seat.role
  }

  get memberName(): string {
    return this.seat.value.name
  }

  get memberId(): string {
    return this.seat.value.memberId
  }

  get instanceId(): string {
    return this.provider.instanceId
  }

  get status(): ProviderStatus {
    return this.provider.status
  }

  /** Resolves when both docs have synced (again after each reconnect). */
  whenSynced(): Promise<void> {
    return this.provider.whenSynced()
  }

  members(): Map<string, ControlMember> {
    return this.control.members()
  }

  /** Instances connected now, by instance id. */
  instances(): Map<string, ControlInstance> {
    return this.control.instances()
  }

  /** Every agent the relay knows, newest first. */
  agents(): AgentRecord[] {
    return this.control.agents()
  }

  leaseOf(agentId: string): LeaseRecord | undefined {
    return this.control.leaseOf(agentId)
  }

  /** The activity feed, oldest first. */
  activity(): ActivityEntry[] {
    return this.control.activity()
  }

  /** LEASE-n from a browser: an editor asks for input ownership (renewed until released). */
  claim(agentId: string, options: { takeover?: boolean } = {}): Promise<LeaseRecord> {
    this.seat.refuseUnless(options.takeover ? 'agent.takeover' : 'agent.claim')
    return this.leases.claim(agentId, options.takeover ?? false)
  }

  release(agentId: string): Promise<boolean> {
    return this.leases.release(agentId)
  }

  /** INPUT-1: keystrokes with this instance's epoch; refused here, unsent, without a lease. */
  sendInput(agentId: string, data: Uint8Array | string): void {
    this.seat.refuseUnless('terminal.input')
    const lease = this.leases.get(agentId)
    if (!lease) throw new WriteRefusedError('You do not hold this agent\'s terminal; claim it before typing.', 'forbidden')
    const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data
    this.provider.sendFrame({ kind: FrameKind.termInput, channel: agentId, epoch: lease.epoch, data: bytes })
  }

  /** TERM-5: watches an agent's terminal from the oldest byte the relay still has. */
  terminal(agentId: string, from?: { generation: number; offset: number }): TerminalStream {
    return new TerminalStream(this.provider, agentId, from)
  }

  /** BROWSER-3: forgets this browser's seat (the credential) and disconnects. */
  leave(): void {
    this.seats.clear()
    this.close()
  }

  close(): void {
    this.leases.destroyAll()
    this.presence.destroy()
    this.control.destroy()
    this.seat.destroy()
    this.provider.destroy()
    this.awareness.destroy()
    this.model.destroy()
    this.controlDoc.destroy()
    super.destroy()
  }

  private static provider(workspaceId: string, credential: string, relayUrl: string, instanceId: string, options: BrowserSessionOptions, name?: string): RelayProvider {
    return sessionProvider(new Y.Doc({ guid: workspaceId }), {
      transport: options.transport ?? browserWebSocketTransport(relayUrl),
      credential,
      instanceId,
      label: options.label ?? 'browser',
      ...(name ? { name } : {}),
      ...(options.backoff ? { backoff: options.backoff } : {})
    })
  }
}

/** Failed connection attempts in a row, with no answer at all, before join says "unreachable". */
const UNREACHABLE_AFTER = 3

/** Resolves once the relay welcomed us and both docs synced; rejects in words. */
function welcomed(provider: RelayProvider, timeoutMs: number, relayUrl: string): Promise<WelcomeFields> {
  return new Promise((resolve, reject) => {
    let failedAttempts = 0
    const unreachable = () => new SessionError(`Cannot reach the relay at ${relayUrl}. Check that it is running and that this address is right, then try again.`, 'unreachable')
    const timer = setTimeout(() => {
      cleanup()
      reject(provider.welcome ? new SessionError(`The relay at ${relayUrl} did not finish answering within ${Math.round(timeoutMs / 1000)} s. Check your network and try again.`, 'timeout') : unreachable())
    }, timeoutMs)
    const onStatus = (status: ProviderStatus) => {
      // A join is something a person waits for: a relay that is down is said in seconds,
      // not after the whole timeout (the provider would keep retrying forever).
      if (status !== 'disconnected' || provider.welcome || ++failedAttempts < UNREACHABLE_AFTER) return
      cleanup()
      reject(unreachable())
    }
    const onStopped = (reason: StopReason) => {
      cleanup()
      reject(SessionError.refused(reason))
    }
    const onSynced = () => {
      if (!provider.synced || !provider.welcome) return
      cleanup()
      resolve(provider.welcome)
    }
    const cleanup = () => {
      clearTimeout(timer)
      provider.off('status', onStatus)
      provider.off('stopped', onStopped)
      provider.off('synced', onSynced)
    }
    provider.on('status', onStatus)
    provider.on('stopped', onStopped)
    provider.on('synced', onSynced)
  })
}
