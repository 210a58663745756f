/**
 * A Pear instance's seat in a shared workspace (SESSION-n): join with an invite or open
 * with a stored credential, then the workspace model, Pear's store bound to the shared
 * doc and the local projects.json, the control doc, presence and the member's role.
 * Writes the role forbids are refused locally with the relay's own words (ROLE-3).
 */
import { hostname } from 'node:os'
import {
  FrameKind,
  parseCredential,
  parseInvite,
  type ActivityEntry,
  type AgentRecord,
  type LeaseRecord,
  type MemberRole,
  type WelcomeFields
} from '@orchard/protocol'
import { existsSync, readFileSync } from 'node:fs'
import {
  PearStore,
  normalizeRelayWorkspace,
  parseSnapshot,
  type PearStoreOptions,
  type WorkspaceModel
} from '@orchard/workspace'
import { ObservableV2 } from 'lib0/observable'
import type { Awareness } from 'y-protocols/awareness'
import * as Y from 'yjs'
import { HostBinding, type BrokerHost } from './BrokerHost.js'
import { InputAcks } from './InputAcks.js'
import { NotHolderError } from './input-errors.js'
import { LeaseKeeper, type LeaseLost } from './LeaseKeeper.js'
import { PresenceView } from './PresenceView.js'
import { RelayRequestError, type RelayProvider, type StopReason } from './RelayProvider.js'
import { ControlView } from './session/ControlView.js'
import { MemberSeat, type SeatIdentity } from './session/MemberSeat.js'
import { SessionError } from './session/SessionError.js'
import { sessionProvider } from './session/session-provider.js'
import { TerminalStream } from './terminal/TerminalStream.js'
import type { TransportFactory } from './transport.js'
import { webSocketTransport } from './WebSocketTransport.js'

/** Kept in projects.json (never shared): who this instance is in the workspace. */
export const MEMBER_KEY = 'orchardMember'
export const INSTANCE_KEY = 'orchardInstanceId'

export interface StoredMember extends SeatIdentity {
  relayUrl: string
}

export interface SessionOptions {
  /** projects.json for this instance; omit to keep everything in memory. */
  file?: string
  /** Shown to others next to this instance (default: the host name). */
  label?: string
  /** Stable id of this instance (default: one generated once and kept in projects.json). */
  instanceId?: string
  /**
   * How to reach the relay (default: a WebSocket to the relay URL). A factory with a
   * `status` (RelayCast's says when posts are rate limited) shows in `transportStatus`.
   */
  transport?: TransportFactory & { readonly status?: Record<string, unknown> }
  /** How long join/open wait for the relay before failing (ms, default 15 000). */
  connectTimeoutMs?: number
  store?: Omit<PearStoreOptions, 'file' | 'doc'>
}

export { SessionError }

export type WorkspaceSessionEvents = {
  role: (role: MemberRole) => void
  stopped: (reason: StopReason) => void
  /** A new entry in the workspace's activity feed (spawn, stop, takeover, join, ...), for notifications. */
  activity: (entry: ActivityEntry) => void
  /** The agents list changed (spawned, status changed, stopped). */
  agents: (agents: AgentRecord[]) => void
  /** A lease this instance held ended: taken over, expired, or refused on renewal. */
  'lease-lost': (lost: LeaseLost) => void
}

export { InputRefusedError, NotHolderError, StaleEpochError } from './input-errors.js'

export class WorkspaceSession extends ObservableV2<WorkspaceSessionEvents> {
  readonly controlDoc: Y.Doc
  readonly awareness: Awareness
  readonly leases: LeaseKeeper
  readonly presence: PresenceView
  private readonly inputs: InputAcks
  private readonly member: MemberSeat<StoredMember>
  private readonly control: ControlView
  private hostBinding: HostBinding | null = null

  private constructor(
    readonly store: PearStore,
    readonly provider: RelayProvider,
    member: StoredMember,
    private readonly transport?: SessionOptions['transport']
  ) {
    super()
    this.controlDoc = provider.docs.control as Y.Doc
    this.awareness = provider.awareness as Awareness
    this.member = new MemberSeat(provider, member, (seat) => store.setLocalValue(MEMBER_KEY, seat))
    this.member.on('role', (role) => this.emit('role', [role]))
    // ROLE-3: refuse locally what the relay would refuse, with the same message.
    store.model.setWriteGuard(() => this.member.refuseUnless('doc.write', 'read-only'))
    provider.on('stopped', (reason) => this.emit('stopped', [reason]))
    this.inputs = new InputAcks(provider)
    this.leases = new LeaseKeeper(provider)
    this.leases.on('lost', (lost) => this.emit('lease-lost', [lost]))
    this.presence = new PresenceView(this.awareness, () => ({
      memberId: this.member.value.memberId,
      name: this.member.value.name,
      role: this.member.role,
      instanceId: provider.instanceId,
      label: provider.label
    }))
    this.control = new ControlView(this.controlDoc)
    this.control.on('activity', (entry) => this.emit('activity', [entry]))
    this.controlDoc.getMap<AgentRecord>('agents').observe(() => this.emit('agents', [this.agents()]))
  }

  /**
   * SESSION-1: joins with a pasted invite. The member credential it earns is stored in
   * this instance's projects.json (Pear's relayWorkspace record), never in a shared doc.
   */
  static async join(invite: string, options: SessionOptions & { name: string }): Promise<WorkspaceSession> {
    const parsed = parseInvite(invite)
    if (!parsed) throw new SessionError('This is not a valid Orchard invite. Check that you pasted the whole token.', 'invite-malformed')
    const local = readSessionFile(options.file)
    const instanceId = options.instanceId ?? local.instanceId ?? crypto.randomUUID()
    const doc = new Y.Doc({ guid: parsed.workspaceId })
    // A member removed and invited again rejoins from the same machine: its old credential
    // proves the instance id is its own (the relay's IDENT-3). Only for this workspace.
    const previous = local.credential && parseCredential(local.credential)?.workspaceId === parsed.workspaceId ? local.credential : undefined
    const provider = WorkspaceSession.provider(doc, invite, parsed.relay, instanceId, { ...options, ...(previous ? { previousCredential: previous } : {}) }, options.name)
    let welcome: WelcomeFields
    try {
      welcome = await WorkspaceSession.welcomed(provider, options.connectTimeoutMs)
      if (!welcome.credential) throw new SessionError('The relay accepted the invite but sent no credential; update the relay.', 'internal')
    } catch (error) {
      // Nothing was written: a failed join leaves projects.json exactly as it was.
      // SESSION-7: and nothing keeps running (the awareness check timer would hold the process open).
      WorkspaceSession.discard(provider)
      throw error
    }
    const store = new PearStore({ ...options.store, ...(options.file ? { file: options.file } : {}), doc, importLegacyProjects: false })
    const member: StoredMember = { workspaceId: welcome.workspaceId, memberId: welcome.memberId, name: welcome.memberName, role: welcome.role, relayUrl: parsed.relay }
    store.setRelayWorkspaceRecord({ id: welcome.workspaceId, createdAt: new Date().toISOString(), apiUrl: parsed.relay, authKey: welcome.credential })
    store.setLocalValue(MEMBER_KEY, member)
    store.setLocalValue(INSTANCE_KEY, instanceId)
    await store.flush()
    return new WorkspaceSession(store, provider, member, options.transport)
  }

  /**
   * SESSION-2: opens the workspace this projects.json belongs to, with the credential
   * stored there (or one given). Works offline: the session starts from the file and
   * syncs when the relay is reachable; only a refused credential fails.
   */
  static async open(options: SessionOptions & { credential?: string; relayUrl?: string; waitForRelay?: boolean }): Promise<WorkspaceSession> {
    const local = readSessionFile(options.file)
    const stored = local.member
    const credential = options.credential ?? local.credential
    if (credential && !parseCredential(credential)) {
      throw new SessionError('This is not an Orchard credential. Paste the whole credential or join again with an invite.', 'credential-malformed')
    }
    const relayUrl = options.relayUrl ?? local.relayUrl ?? stored?.relayUrl
    const workspaceId = (credential && parseCredential(credential)?.workspaceId) ?? stored?.workspaceId
    if (!credential || !relayUrl || !workspaceId) {
      throw new SessionError('This projects.json has no Orchard workspace yet. Join one with an invite first.', 'not-joined')
    }
    const instanceId = options.instanceId ?? local.instanceId ?? crypto.randomUUID()
    const store = new PearStore({ ...options.store, ...(options.file ? { file: options.file } : {}), doc: new Y.Doc({ guid: workspaceId }) })
    if (store.getLocalValue(INSTANCE_KEY) !== instanceId) store.setLocalValue(INSTANCE_KEY, instanceId)
    if (options.credential) store.setRelayWorkspaceRecord({ id: workspaceId, createdAt: new Date().toISOString(), apiUrl: relayUrl, authKey: credential })
    const provider = WorkspaceSession.provider(store.doc, credential, relayUrl, instanceId, options)
    const member: StoredMember = stored ?? { workspaceId, memberId: '', name: '', role: 'viewer', relayUrl }
    const session = new WorkspaceSession(store, provider, member, options.transport)
    if (options.waitForRelay ?? true) {
      try {
        await WorkspaceSession.welcomed(provider, options.connectTimeoutMs)
      } catch (error) {
        if (error instanceof SessionError && error.code !== 'timeout') {
          await session.close()
          throw error
        }
      }
    }
    return session
  }

  get workspaceId(): string {
    return this.member.value.workspaceId
  }

  get memberId(): string {
    return this.member.value.memberId
  }

  get role(): MemberRole {
    return this.member.role
  }

  get model(): WorkspaceModel {
    return this.store.model
  }

  get instanceId(): string {
    return this.provider.instanceId
  }

  get status(): RelayProvider['status'] {
    return this.provider.status
  }

  /** The transport's own status, when it reports one (e.g. RelayCast posting rate-limited); else null. */
  get transportStatus(): Record<string, unknown> | null {
    return this.transport?.status ?? null
  }

  /** Owner: an invite token to hand to someone (role, optional expiry and use limit). */
  async createInvite(role: 'editor' | 'viewer', options: { expiresInMs?: number; maxUses?: number } = {}): Promise<string> {
    const result = await this.provider.request<{ token: string }>('invite.create', { role, ...options })
    return result.token
  }

  listInvites(): Promise<unknown[]> {
    return this.provider.request('invite.list')
  }

  revokeInvite(inviteId: string): Promise<unknown> {
    return this.provider.request('invite.revoke', { inviteId })
  }

  listMembers(): Promise<Array<{ id: string; name: string; role: MemberRole }>> {
    return this.provider.request('member.list')
  }

  setMemberRole(memberId: string, role: MemberRole): Promise<unknown> {
    return this.provider.request('member.setRole', { memberId, role })
  }

  removeMember(memberId: string): Promise<unknown> {
    return this.provider.request('member.remove', { memberId })
  }

  // ------------------------------------------------------------ agents

  /** Every agent the relay knows, newest first. */
  agents(): AgentRecord[] {
    return this.control.agents()
  }

  agent(agentId: string): AgentRecord | undefined {
    return this.control.agent(agentId)
  }

  /**
   * SPAWN-n: asks the relay to start an agent on the project's host. Identical spawns in
   * flight coalesce; `key` makes retries and racing instances get the same agent; a taken
   * name gets the next free one unless `onExisting: 'reuse'`.
   */
  async spawn(projectId: string, name: string, options: { options?: unknown; key?: string; onExisting?: 'suffix' | 'reuse' } = {}): Promise<AgentRecord> {
    this.member.refuseUnless('agent.spawn')
    const { agent } = await this.provider.request<{ agent: AgentRecord }>('agent.spawn', { projectId, name, ...options })
    return agent
  }

  /** STOP-n: stops an agent; stopping a stopped agent succeeds. */
  async stop(agentId: string): Promise<AgentRecord> {
    this.member.refuseUnless('agent.stop')
    const { agent } = await this.provider.request<{ agent: AgentRecord }>('agent.stop', { agentId })
    return agent
  }

  /** LEASE-n: asks for input ownership; kept renewed until released, lost or closed. */
  async claim(agentId: string, options: { takeover?: boolean } = {}): Promise<LeaseRecord> {
    this.member.refuseUnless(options.takeover ? 'agent.takeover' : 'agent.claim')
    return this.leases.claim(agentId, options.takeover ?? false)
  }

  release(agentId: string): Promise<boolean> {
    return this.leases.release(agentId)
  }

  /** The lease the relay says is in force for an agent (anyone's), if any. */
  leaseOf(agentId: string): LeaseRecord | undefined {
    return this.control.leaseOf(agentId)
  }

  /**
   * INPUT-1: keystrokes, with this instance's epoch. Without a lease they are refused here,
   * unsent (a synchronous NotHolderError). INPUT-2: the promise settles by the relay's answer:
   * resolved once it forwarded them to the host, rejected with NotHolderError / StaleEpochError /
   * InputRefusedError if it refused them, or RelayRequestError('disconnected').
   */
  sendInput(agentId: string, data: Uint8Array | string): Promise<void> {
    const lease = this.heldLease(agentId)
    const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data
    return this.inputs.send({ kind: FrameKind.termInput, channel: agentId, epoch: lease.epoch, data: bytes })
  }

  /** Resizes the agent's terminal; the same rules (and the same promise) as input. */
  resize(agentId: string, cols: number, rows: number): Promise<void> {
    const lease = this.heldLease(agentId)
    return this.inputs.send({ kind: FrameKind.termResize, channel: agentId, epoch: lease.epoch, cols, rows })
  }

  /** TERM-5: watches an agent's terminal, from the oldest byte available or from a saved position. */
  terminal(agentId: string, from?: { generation: number; offset: number }): TerminalStream {
    return new TerminalStream(this.provider, agentId, from)
  }

  /** HOST-1: makes this instance the one that runs agents for projects whose host it is. */
  host(broker: BrokerHost): HostBinding {
    this.hostBinding?.destroy()
    this.hostBinding = new HostBinding(this.provider, broker, this.controlDoc)
    return this.hostBinding
  }

  private heldLease(agentId: string): LeaseRecord {
    this.member.refuseUnless('terminal.input')
    const lease = this.leases.get(agentId)
    if (!lease) throw new NotHolderError('You do not hold this agent\'s terminal; claim it before typing.')
    return lease
  }

  async close(): Promise<void> {
    this.hostBinding?.destroy()
    this.leases.destroyAll()
    this.inputs.destroy()
    this.presence.destroy()
    this.control.destroy()
    this.member.destroy()
    this.provider.destroy()
    // Awareness keeps a timer alive; a closed session must let the process exit.
    this.awareness.destroy()
    this.controlDoc.destroy()
    await this.store.close()
    super.destroy()
  }

  private static provider(doc: Y.Doc, credential: string, relayUrl: string, instanceId: string, options: SessionOptions & { previousCredential?: string }, name?: string): RelayProvider {
    return sessionProvider(doc, {
      transport: options.transport ?? webSocketTransport(relayUrl),
      credential,
      instanceId,
      label: options.label ?? hostname(),
      ...(name ? { name } : {}),
      ...(options.previousCredential ? { previousCredential: options.previousCredential } : {})
    })
  }

  /** Everything a provider made for a session that never started: socket, timers, docs. */
  private static discard(provider: RelayProvider): void {
    provider.destroy()
    provider.awareness?.destroy()
    for (const doc of Object.values(provider.docs)) doc.destroy()
  }

  /** Resolves once the relay welcomed us and both docs have synced, so views are complete. */
  private static async welcomed(provider: RelayProvider, timeoutMs = 15_000): Promise<WelcomeFields> {
    const deadline = Date.now() + timeoutMs
    const welcome = await WorkspaceSession.welcome(provider, timeoutMs)
    const remaining = Math.max(0, deadline - Date.now())
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new SessionError(`The relay did not finish syncing within ${timeoutMs} ms. Check your network.`, 'timeout')), remaining)
      void provider.whenSynced().then(() => {
        clearTimeout(timer)
        resolve()
      })
    })
    return welcome
  }

  private static welcome(provider: RelayProvider, timeoutMs: number): Promise<WelcomeFields> {
    if (provider.welcome) return Promise.resolve(provider.welcome)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup()
        reject(new SessionError(`The relay did not answer within ${timeoutMs} ms. Check the relay address and your network.`, 'timeout'))
      }, timeoutMs)
      const onWelcome = (welcome: WelcomeFields) => {
        cleanup()
        resolve(welcome)
      }
      const onStopped = (reason: StopReason) => {
        cleanup()
        reject(SessionError.refused(reason))
      }
      const cleanup = () => {
        clearTimeout(timer)
        provider.off('welcome', onWelcome)
        provider.off('stopped', onStopped)
      }
      provider.on('welcome', onWelcome)
      provider.on('stopped', onStopped)
    })
  }
}

export { RelayRequestError }

interface SessionFile {
  credential?: string
  relayUrl?: string
  instanceId?: string
  member?: StoredMember
}

/** What a projects.json says about this instance's workspace seat, read without opening a store. */
function readSessionFile(file: string | undefined): SessionFile {
  if (!file || !existsSync(file)) return {}
  const outcome = parseSnapshot(readFileSync(file, 'utf8'))
  if (!outcome.ok) return {}
  const { local } = outcome.snapshot
  const record = normalizeRelayWorkspace(local.relayWorkspace)
  const instanceId = local.topLevel[INSTANCE_KEY]
  const member = local.topLevel[MEMBER_KEY]
  return {
    ...(record?.authKey ? { credential: record.authKey } : {}),
    ...(record?.apiUrl ? { relayUrl: record.apiUrl } : {}),
    ...(typeof instanceId === 'string' ? { instanceId } : {}),
    ...(member && typeof member === 'object' ? { member: member as StoredMember } : {})
  }
}
