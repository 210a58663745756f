/**
 * One loaded workspace: its two docs, its connections, presence, and the rules that
 * apply to them (roles, the read-only control doc). Loaded when the first connection
 * arrives, unloaded when the last leaves (DOCS-5).
 */
import { CloseCode, REFUSALS, can, errorFrame, eventFrame, type MemberRole } from '@orchard/protocol'
import * as Y from 'yjs'
import type { AuthRegistry, MemberRecord, WorkspaceRecord } from './auth/AuthRegistry.js'
import type { AckTracker } from './connection/AckTracker.js'
import type { RoomPeer } from './connection/types.js'
import { ControlDoc, RELAY_ORIGIN, type ActivityEntry } from './control/ControlDoc.js'
import { CONTROL_CHANNEL, WORKSPACE_CHANNEL, docId } from './docs/channels.js'
import { checkUpdate, isWellFormedStateVector } from './docs/validate-update.js'
import { nestingRefusal } from './docs/doc-nesting.js'
import { loadVerified } from './docs/load-verified.js'
import { SharedDoc, type WireFlavor } from './docs/SharedDoc.js'
import { SYNC_STEP1, decodeSyncMessage } from './docs/sync-messages.js'
import type { UpdatePipeline } from './docs/UpdatePipeline.js'
import { AgentCoordinator } from './coordination/AgentCoordinator.js'
import type { HostRequests } from './coordination/HostRequests.js'
import { LeaseManager } from './coordination/LeaseManager.js'
import type { RelayClock } from './coordination/RelayClock.js'
import type { RelayHooks } from './hooks.js'
import type { RelayLimits } from './limits.js'
import { PresenceHub } from './presence/PresenceHub.js'
import type { RelayStorage } from './storage/types.js'
import type { RingBudget } from './terminals/RingBudget.js'
import { TerminalHub } from './terminals/TerminalHub.js'
// The file-free entry: the relay needs the model, not projects.json I/O and its file lock
// (proper-lockfile, graceful-fs), which cost start time and memory (issue 12).
import { WorkspaceModel } from '@orchard/workspace/browser'

export { CONTROL_CHANNEL, WORKSPACE_CHANNEL, docId }
const EDIT_BURST_MS = 15_000

/**
 * What a room needs of the relay core above it, declared here so this module does not
 * import RelayCore (which loads and unloads rooms): RelayCore satisfies it by its shape.
 * `auth`, `publicUrl`, `ringBudget` and `limits` are also what the parts below the room
 * read through `room.core` (RpcRoom, TerminalRoom, InputRoom).
 */
export interface RoomHost {
  readonly limits: RelayLimits
  readonly storage: RelayStorage
  readonly clock: RelayClock
  readonly auth: AuthRegistry
  readonly hooks: Pick<RelayHooks, 'onActivity'>
  readonly pipeline: Pick<UpdatePipeline, 'submit'>
  readonly hostRequests: HostRequests
  /** TERM-9: terminal output held across all workspaces. */
  readonly ringBudget: RingBudget
  /** The URL invites carry. */
  readonly publicUrl: string
  /** DOCS-5: the last connection left; unload after a grace period. */
  scheduleUnload(room: WorkspaceRoom): void
  /** ERRORS-1: a failure handling one connection's input is answered on that connection alone. */
  connectionFault(peer: RoomPeer, where: string, error: unknown): void
  logError(where: string, error: unknown): void
  /** A sync message in the peer's wire flavor. */
  frameSync(flavor: WireFlavor, channel: string, body: Uint8Array): Uint8Array
}

export class WorkspaceRoom {
  readonly peers = new Set<RoomPeer>()
  readonly presence: PresenceHub
  readonly leases: LeaseManager
  readonly agents: AgentCoordinator
  readonly terminals: TerminalHub
  unloadTimer: NodeJS.Timeout | null = null
  private model: WorkspaceModel | null = null

  private constructor(
    readonly core: RoomHost,
    readonly workspace: WorkspaceRecord,
    readonly workspaceDoc: SharedDoc,
    readonly controlDoc: SharedDoc
  ) {
    const limits = core.limits
    this.presence = new PresenceHub(
      () => this.peers,
      WORKSPACE_CHANNEL,
      {
        intervalMs: limits.awarenessIntervalMs,
        maxStateBytes: limits.maxPresenceStateBytes,
        maxDepth: limits.maxPresenceDepth,
        maxStatesPerConnection: limits.maxPresenceStatesPerConnection
      },
      (peer, error) => {
        // ERRORS-1: its state could not be sent after all; it alone pays, at once.
        this.core.connectionFault(peer as RoomPeer, 'presence broadcast', error)
        ;(peer as RoomPeer).close(CloseCode.badRequest, 'bad-frame')
      }
    )
    this.leases = new LeaseManager(this, core.storage, core.clock, core.limits.leaseTtlMs)
    this.agents = new AgentCoordinator(this, core.hostRequests, this.leases, core.limits.hostTimeoutMs)
    this.terminals = new TerminalHub(this, core.hostRequests, core.limits)
  }

  /** The workspace doc read through the model, for the few decisions that need it (a project's host). */
  workspaceModel(): WorkspaceModel {
    if (!this.model) {
      this.model = new WorkspaceModel(this.workspaceDoc.materialize())
      this.model.on('change', (change) => {
        const peer = change.origin
        if (!this.peers.has(peer as RoomPeer) || change.projectIds.length === 0) return
        this.recordProjectEdit(peer as RoomPeer, change.projectIds)
      })
    }
    return this.model
  }

  /** ACTIVITY-1: one entry per member per burst of edits, listing the projects touched. */
  private recordProjectEdit(peer: RoomPeer, projectIds: string[]): void {
    const now = Date.now()
    const names = projectIds.map((id) => this.model?.getProject(id)?.name ?? null)
    const entry: ActivityEntry = {
      at: now,
      type: 'project-edited',
      actor: { memberId: peer.identity.memberId, name: peer.identity.name, instanceId: peer.identity.instanceId },
      projectIds,
      projectNames: names
    }
    this.control.record(entry, (last) => {
      if (last.type !== 'project-edited' || last.actor?.instanceId !== peer.identity.instanceId || now - last.at > EDIT_BURST_MS) return null
      const ids = [...new Set([...(last.projectIds as string[]), ...projectIds])]
      return { ...entry, projectIds: ids, projectNames: ids.map((id) => this.model?.getProject(id)?.name ?? null), since: (last.since as number | undefined) ?? last.at }
    })
    this.core.hooks.onActivity?.({ workspaceId: this.id, entry })
  }

  /** The Orchard connection of an instance, if it is connected (as the member it is bound to, IDENT-2). */
  peerForInstance(instanceId: string): RoomPeer | undefined {
    for (const peer of this.peers) if (this.isInstance(peer, instanceId)) return peer
    return undefined
  }

  /**
   * IDENT-2: whether `peer` speaks for `instanceId`: an Orchard connection with that
   * instance id AND the member the id is bound to. Every frame and RPC about an instance
   * (its output, size, exit, input, record, leases) asks this, never the id alone.
   */
  isInstance(peer: RoomPeer, instanceId: string): boolean {
    if (peer.flavor !== 'orchard' || peer.identity.instanceId !== instanceId) return false
    return this.core.auth.instanceMember(this.id, instanceId) === peer.identity.memberId
  }

  static async load(core: RoomHost, workspace: WorkspaceRecord): Promise<WorkspaceRoom> {
    // VALID-4: each doc opens at its last good state; a stored update that cannot be read is quarantined.
    const limits = { maxJsonDepth: core.limits.maxUpdateDepth, maxTypeDepth: core.limits.maxUpdateDepth }
    const log = (message: string) => core.logError('quarantine', message)
    const [workspaceStored, controlStored] = await Promise.all([
      loadVerified(core.storage, docId(workspace.id, WORKSPACE_CHANNEL), limits, log),
      loadVerified(core.storage, docId(workspace.id, CONTROL_CHANNEL), limits, log)
    ])
    const room = new WorkspaceRoom(
      core,
      workspace,
      new SharedDoc(docId(workspace.id, WORKSPACE_CHANNEL), WORKSPACE_CHANNEL, workspaceStored.updates, workspaceStored.lastSeq, workspaceStored.storedUpdates),
      new SharedDoc(docId(workspace.id, CONTROL_CHANNEL), CONTROL_CHANNEL, controlStored.updates, controlStored.lastSeq, controlStored.storedUpdates)
    )
    room.members = await core.auth.listMembers(workspace.id)
    return room
  }

  /** Members as loaded, for reconciling the control doc when it is first built. */
  private members: MemberRecord[] = []
  private controlState: ControlDoc | null = null

  /**
   * The control doc, built on first use (CONTROL-2): by an Orchard client attaching or by
   * coordination. A workspace only stock y-websocket clients use never builds one and
   * never writes to it.
   */
  get control(): ControlDoc {
    if (!this.controlState) {
      const control = new ControlDoc(this.id, [this.controlDoc.fullUpdate()], this.core.limits.activityLimit)
      // Everything the relay writes to the control doc is stored, then broadcast, like any update.
      control.doc.on('update', (update: Uint8Array, origin: unknown) => {
        if (origin === RELAY_ORIGIN) this.core.pipeline.submit(this.controlDoc, update, null)
      })
      this.controlState = control
      this.reconcileControl()
    }
    return this.controlState
  }

  get id(): string {
    return this.workspace.id
  }

  channel(name: string): SharedDoc | undefined {
    if (name === WORKSPACE_CHANNEL) return this.workspaceDoc
    if (name === CONTROL_CHANNEL) return this.controlDoc
    return undefined
  }

  attach(peer: RoomPeer): void {
    if (this.unloadTimer) {
      clearTimeout(this.unloadTimer)
      this.unloadTimer = null
    }
    // CONN-3: one socket per instance; a reconnect replaces a socket the relay has not seen close.
    for (const other of this.peers) {
      if (other.identity.instanceId === peer.identity.instanceId && other.identity.memberId === peer.identity.memberId) {
        other.close(4409, 'replaced by a newer connection from the same instance')
      }
    }
    this.peers.add(peer)
    // Stock y-websocket clients are not Orchard instances: they appear in presence only,
    // and their comings and goings cost no control-doc write (CONTROL-2).
    if (peer.flavor !== 'orchard') return
    const { identity } = peer
    this.control.addInstance(identity.instanceId, {
      memberId: identity.memberId,
      name: identity.name,
      role: identity.role,
      label: identity.label,
      since: Date.now()
    })
    this.recordActivity(peer, 'joined', { label: identity.label })
  }

  detach(peer: RoomPeer): void {
    if (!this.peers.delete(peer)) return
    for (const doc of [this.workspaceDoc, this.controlDoc]) doc.subscribers.delete(peer)
    this.presence.removePeer(peer)
    // LEAK-1: a closed socket watches nothing and owes nothing; whoever waits on it hears now.
    this.terminals.detach(peer)
    this.core.hostRequests.peerClosed(peer)
    const stillThere = [...this.peers].some((other) => other.identity.instanceId === peer.identity.instanceId)
    if (!stillThere && peer.flavor === 'orchard') {
      this.control.removeInstance(peer.identity.instanceId)
      this.recordActivity(peer, 'left', {})
    }
    if (this.peers.size === 0) this.core.scheduleUnload(this)
  }

  /**
   * A SYNC frame from a peer. Step 1 subscribes it and answers; step 2 and updates are
   * checked against the channel and its role from the envelope alone (CONTROL-1, ROLE-1,
   * VALID-3), then validated as later merges will read them (VALID-1), then stored.
   */
  onSync(peer: RoomPeer, channel: string, body: Uint8Array, acks: AckTracker | null): void {
    const doc = this.channel(channel)
    if (!doc) {
      peer.sendFrame(errorFrame('not-found', `There is no document "${channel}" in this workspace.`, undefined, channel))
      return
    }
    // The envelope only: a type and a view of the payload, no copy and no Yjs decoding.
    const message = decodeSyncMessage(body)
    if (!message) {
      peer.sendFrame(errorFrame('bad-frame', 'That sync message is malformed; it was ignored.', undefined, channel))
      return
    }
    if (message.type === SYNC_STEP1) {
      this.answerStep1(peer, doc, message.stateVector)
      return
    }
    const seq = acks?.next() ?? 0
    const settle = (error?: { code: string; message: string }) => {
      if (error) peer.sendFrame(errorFrame(error.code, error.message, { seq }, channel))
      acks?.settle(seq)
    }
    if (channel === CONTROL_CHANNEL) {
      if (doc.changesNothing(message.update)) settle()
      else settle({ code: 'forbidden', message: 'The control document is written by the relay only; ask the relay through its methods instead.' })
      return
    }
    if (!can(peer.identity.role, 'doc.write')) {
      if (doc.changesNothing(message.update)) settle()
      else settle({ code: 'read-only', message: REFUSALS['doc.write'] })
      return
    }
    const check = checkUpdate(message.update, { maxJsonDepth: this.core.limits.maxUpdateDepth, maxTypeDepth: this.core.limits.maxUpdateDepth })
    if (!check.ok) {
      settle({ code: 'bad-frame', message: `That ${channel} update was refused and not stored: ${check.message}` })
      return
    }
    const tooDeep = check.nestsIntoDoc ? nestingRefusal(doc, message.update, this.core.limits.maxUpdateDepth) : null
    if (tooDeep) {
      settle({ code: 'bad-frame', message: `That ${channel} update was refused and not stored: ${tooDeep}` })
      return
    }
    // An empty one still takes the pipeline's turn, so its ACK is ordered with the
    // stored updates around it, as before validation was added.
    // An Orchard client edits project definitions: keep a readable mirror so the relay can
    // say who changed which project. Stock y-websocket rooms stay bytes-only (DOCS-1).
    if (peer.flavor === 'orchard' && channel === WORKSPACE_CHANNEL) this.workspaceModel()
    this.core.pipeline.submit(doc, message.update, { subscriber: peer, settle, checked: !check.empty })
  }

  /** VALID-2: a malformed state vector costs its sender an error, never the room. */
  private answerStep1(peer: RoomPeer, doc: SharedDoc, stateVector: Uint8Array): void {
    if (!isWellFormedStateVector(stateVector)) {
      peer.sendFrame(errorFrame('bad-frame', 'That sync step 1 carries a malformed state vector; it was not answered. Send a state vector as Y.encodeStateVector writes it.', undefined, doc.channel))
      return
    }
    let answer: { step2: Uint8Array; step1: Uint8Array }
    try {
      answer = doc.answerStep1(stateVector)
    } catch (error) {
      this.core.logError(`answering sync step 1 on ${doc.docId} for connection ${peer.connectionId}`, error)
      peer.sendFrame(errorFrame('bad-frame', 'The relay could not answer that sync step 1; it was logged.', undefined, doc.channel))
      return
    }
    const firstTime = !doc.subscribers.has(peer)
    doc.subscribers.add(peer)
    peer.sendRaw(this.core.frameSync(peer.flavor, doc.channel, answer.step2))
    if (peer.flavor === 'orchard') peer.sendRaw(this.core.frameSync(peer.flavor, doc.channel, answer.step1))
    if (firstTime && doc.channel === WORKSPACE_CHANNEL) {
      const presence = this.presence.snapshot(peer.flavor)
      if (presence) peer.sendRaw(presence)
    }
  }

  /** ROLE-2: a changed role applies to the member's live sockets at once, and everyone sees it. */
  applyRole(member: MemberRecord): void {
    this.control.setMember(member.id, { name: member.name, role: member.role, joinedAt: member.createdAt })
    for (const peer of this.peers) {
      if (peer.identity.memberId !== member.id) continue
      peer.setRole(member.role)
      const instance = this.control.instances.get(peer.identity.instanceId)
      if (instance) this.control.addInstance(peer.identity.instanceId, { ...instance, role: member.role })
    }
    this.presence.restamp(member.id, member.role)
  }

  /** AUTH-5: a removed member's sockets are closed at once (4401). */
  applyRemoval(member: MemberRecord): void {
    this.control.deleteMember(member.id)
    for (const peer of [...this.peers]) {
      if (peer.identity.memberId !== member.id) continue
      peer.sendFrame(eventFrame({ type: 'removed', message: 'You were removed from this workspace.' }))
      peer.close(4401, 'member-removed')
    }
  }

  recordActivity(peer: RoomPeer | null, type: string, fields: Record<string, unknown>): void {
    const entry: ActivityEntry = {
      at: Date.now(),
      type,
      actor: peer ? { memberId: peer.identity.memberId, name: peer.identity.name, instanceId: peer.identity.instanceId } : null,
      ...fields
    }
    this.control.record(entry)
    this.core.hooks.onActivity?.({ workspaceId: this.id, entry })
  }

  /** Relay-side view of the workspace doc (for activity about project edits and the CLI). */
  buildWorkspaceDoc(): Y.Doc {
    const doc = new Y.Doc({ guid: this.id })
    Y.applyUpdate(doc, this.workspaceDoc.fullUpdate())
    return doc
  }

  close(): void {
    this.presence.close()
    this.leases.close()
    this.terminals.close()
    this.model?.destroy()
    this.workspaceDoc.dispose()
    this.controlState?.doc.destroy()
  }

  /** CONTROL-2: members mirror the auth records; instances left by a previous run are cleared. */
  private reconcileControl(): void {
    const members = this.members
    const connected = new Set([...this.peers].filter((peer) => peer.flavor === 'orchard').map((peer) => peer.identity.instanceId))
    this.control.write(() => {
      for (const member of members) {
        if (member.removedAt !== undefined) this.control.members.delete(member.id)
        else {
          const current = this.control.members.get(member.id)
          if (!current || current.role !== member.role || current.name !== member.name) {
            this.control.members.set(member.id, { name: member.name, role: member.role as MemberRole, joinedAt: member.createdAt })
          }
        }
      }
      for (const instanceId of [...this.control.instances.keys()]) {
        if (!connected.has(instanceId)) this.control.instances.delete(instanceId)
      }
    })
  }
}
