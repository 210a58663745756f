/**
 * The relay's core: auth, roles, sync, storage and rooms, behind a transport-agnostic
 * seam (TRANSPORT-1). The WebSocket server is one thin front for it; the same core can run
 * inside the instance that hosts the broker, with RelayCast (or anything that moves bytes)
 * as its connection layer.
 */
import {
  CloseCode,
  encodeFrame,
  encodeYwsMessage,
  errorFrame,
  syncFrame,
  type Frame,
  type RpcResponseFrame
} from '@orchard/protocol'
import { AuthError, AuthRegistry, type WorkspaceRecord } from './auth/AuthRegistry.js'
import { KeyedRateLimiter } from './connection/KeyedRateLimiter.js'
import { OrchardConnection } from './connection/OrchardConnection.js'
import type { RelayPeerHandle, RelaySocket, RoomPeer } from './connection/types.js'
import { YwsConnection } from './connection/YwsConnection.js'
import type { SharedDoc, WireFlavor } from './docs/SharedDoc.js'
import { UpdatePipeline } from './docs/UpdatePipeline.js'
import { guardHooks, type RelayHooks } from './hooks.js'
import { DEFAULT_LIMITS, type RelayLimits } from './limits.js'
import { RelayMetrics } from './metrics.js'
import { HostRequests } from './coordination/HostRequests.js'
import { RelayClock } from './coordination/RelayClock.js'
import { routeStreamFrame, type InputRoom } from './coordination/input.js'
import { registerCoordination } from './rpc/coordination.js'
import { registerMembership } from './rpc/membership.js'
import { RpcRouter } from './rpc/RpcRouter.js'
import { RingBudget } from './terminals/RingBudget.js'
import type { RelayStorage } from './storage/types.js'
import { CONTROL_CHANNEL, WORKSPACE_CHANNEL, WorkspaceRoom, docId } from './WorkspaceRoom.js'
import * as Y from 'yjs'

export interface RelayLogger {
  info(message: string): void
  error(message: string): void
}

export interface RelayCoreOptions {
  storage: RelayStorage
  limits?: Partial<RelayLimits>
  hooks?: RelayHooks
  logger?: RelayLogger
  /** The URL clients reach this relay at; invites carry it. The WebSocket front sets it once listening. */
  publicUrl?: string
  /** Wall clock for leases (tests step it); made monotonic by RelayClock. */
  now?: () => number
}

export class RelayCore {
  readonly storage: RelayStorage
  readonly limits: RelayLimits
  readonly hooks: RelayHooks
  readonly auth: AuthRegistry
  readonly pipeline: UpdatePipeline
  readonly rpc = new RpcRouter()
  readonly metrics = new RelayMetrics()
  readonly hostRequests = new HostRequests()
  readonly clock: RelayClock
  /** LIMIT-8: authenticated connections per member. */
  readonly memberConnects: KeyedRateLimiter
  /** TERM-9: terminal output held across all workspaces. */
  readonly ringBudget: RingBudget
  readonly serverName = 'orchard-relay/0.1.0'
  publicUrl: string
  private readonly logger: RelayLogger
  private readonly rooms = new Map<string, Promise<WorkspaceRoom>>()
  private readonly loaded = new Map<string, WorkspaceRoom>()
  private readonly peers = new Set<RelayPeerHandle & { close(code: number, reason: string): void }>()
  private readonly compacting = new Set<SharedDoc>()
  /** Input-handling failures per connection (ERRORS-1); forgotten with the connection. */
  private readonly faults = new WeakMap<RoomPeer, number>()
  private nextConnectionId = 1
  private closing = false

  constructor(options: RelayCoreOptions) {
    this.storage = options.storage
    this.limits = { ...DEFAULT_LIMITS, ...options.limits }
    this.memberConnects = new KeyedRateLimiter(this.limits.memberConnectsPerSecond, this.limits.memberConnectBurst)
    this.ringBudget = new RingBudget(this.limits.terminalRingBudgetBytes)
    this.logger = options.logger ?? { info: (m) => console.log(m), error: (m) => console.error(m) }
    this.hooks = guardHooks(options.hooks ?? {}, (where, error) => this.logError(where, error))
    this.publicUrl = options.publicUrl ?? 'ws://127.0.0.1:4455'
    this.clock = new RelayClock(options.now)
    // Invite expiry reads the relay's clock too, so it can be injected (tests step it instead of sleeping).
    this.auth = new AuthRegistry(this.storage, () => this.clock.now())
    this.pipeline = new UpdatePipeline(this.storage, {
      maxDocBytes: this.limits.maxDocBytes,
      onError: (error) => this.logError('storage', error),
      afterPersist: (doc, bytes, updates) => {
        this.metrics.countUpdates(updates)
        this.metrics.persistedBytes += bytes
        this.hooks.afterPersist?.({ docId: doc.docId, bytes, updates })
        if (doc.storedUpdates >= this.limits.compactAfterUpdates) this.scheduleCompaction(doc)
      }
    })
    registerMembership(this.rpc)
    registerCoordination(this.rpc)
  }

  /** An Orchard-protocol connection: the peer says HELLO first. */
  acceptOrchard(socket: RelaySocket): RelayPeerHandle {
    if (this.closing) {
      socket.close(CloseCode.tryAgain, 'relay shutting down')
      return { receive: () => {}, closed: () => {} }
    }
    const connection = new OrchardConnection(this, socket, this.nextConnectionId++)
    this.peers.add(connection)
    this.metrics.connections++
    return connection
  }

  /**
   * A stock y-websocket client for `workspaceId`, authenticated by `token` (YWS-1). Bytes
   * that arrive while the token is checked are kept and handled in order.
   */
  acceptYws(socket: RelaySocket, workspaceId: string, token: string): RelayPeerHandle {
    const queued: Uint8Array[] = []
    let connection: YwsConnection | null = null
    let gone = false
    const handle: RelayPeerHandle & { close(code: number, reason: string): void } = {
      receive: (data) => (connection ? connection.receive(data) : queued.push(data)),
      closed: () => {
        gone = true
        connection?.closed()
        this.peers.delete(handle)
      },
      close: (code, reason) => (connection ? connection.close(code, reason) : socket.close(code, reason))
    }
    if (this.closing) {
      socket.close(CloseCode.tryAgain, 'relay shutting down')
      return handle
    }
    this.peers.add(handle)
    // LIMIT-5: nothing more is read from the socket until its token is checked; `queued`
    // holds only what was already read.
    socket.pause?.()
    void (async () => {
      try {
        const member = await this.auth.authenticate(token)
        if (member.workspaceId !== workspaceId) throw new AuthError('credential-unknown')
        if (this.memberConnects.take(member.id) > 0) return socket.close(CloseCode.tryAgain, 'connect-rate-limited')
        const room = await this.room(workspaceId)
        if (gone) return
        connection = new YwsConnection(this, socket, this.nextConnectionId++, room, member)
        this.metrics.connections++
        // Resumed first: new messages arrive on a later turn, after the queued ones.
        socket.resume?.()
        for (const data of queued.splice(0)) connection.receive(data)
      } catch (error) {
        if (!(error instanceof AuthError)) this.logError('y-websocket auth', error)
        // After the upgrade, so the client sees the code instead of a bare 1006 (YWS-2).
        socket.close(error instanceof AuthError ? CloseCode.unauthorized : CloseCode.tryAgain, error instanceof AuthError ? error.failure : 'internal')
      }
    })()
    return handle
  }

  /** The loaded room for a workspace, loading it if needed; concurrent callers share one load. */
  room(workspaceId: string): Promise<WorkspaceRoom> {
    let pending = this.rooms.get(workspaceId)
    if (!pending) {
      pending = (async () => {
        const workspace = await this.auth.getWorkspace(workspaceId)
        if (!workspace) throw new AuthError('workspace-unknown')
        const room = await WorkspaceRoom.load(this, workspace)
        this.loaded.set(workspaceId, room)
        return room
      })()
      this.rooms.set(workspaceId, pending)
      pending.catch(() => this.rooms.delete(workspaceId))
    }
    return pending
  }

  /** DOCS-5: a room with nobody in it is unloaded after a grace period (a quick reconnect keeps it). */
  scheduleUnload(room: WorkspaceRoom): void {
    if (room.unloadTimer) clearTimeout(room.unloadTimer)
    room.unloadTimer = setTimeout(() => void this.unload(room), this.limits.unloadAfterMs)
    room.unloadTimer.unref?.()
  }

  private async unload(room: WorkspaceRoom): Promise<void> {
    room.unloadTimer = null
    if (room.peers.size > 0 || this.loaded.get(room.id) !== room) return
    this.rooms.delete(room.id)
    this.loaded.delete(room.id)
    await this.pipeline.drain()
    room.close()
    // Compacting on the way out keeps the next load to one stored update per doc.
    for (const doc of [room.workspaceDoc, room.controlDoc]) {
      if (doc.storedUpdates > 1) await this.compact(doc, true)
    }
  }

  /** Loaded workspaces and docs, for metrics. */
  get loadedRooms(): number {
    return this.loaded.size
  }

  connectionClosed(peer: RoomPeer, workspaceId: string | null): void {
    this.peers.delete(peer as unknown as RelayPeerHandle & { close(code: number, reason: string): void })
    this.metrics.connections = Math.max(0, this.metrics.connections - 1)
    if (workspaceId) this.hooks.onDisconnect?.({ workspaceId, identity: { ...peer.identity }, flavor: peer.flavor })
  }

  /** Creates a workspace with its owner; `seed` (a Yjs update) becomes the workspace doc's first content. */
  async createWorkspace(name: string, ownerName: string, seed?: Uint8Array) {
    const created = await this.auth.createWorkspace(name, ownerName)
    if (seed) await this.storage.appendUpdates([{ docId: docId(created.workspace.id, WORKSPACE_CHANNEL), update: seed }])
    return created
  }

  async listWorkspaces(): Promise<WorkspaceRecord[]> {
    return this.auth.listWorkspaces()
  }

  encode(frame: Frame): Uint8Array {
    return encodeFrame(frame)
  }

  frameSync(flavor: WireFlavor, channel: string, body: Uint8Array): Uint8Array {
    return flavor === 'orchard' ? encodeFrame(syncFrame(channel, body)) : encodeYwsMessage({ type: 'sync', body })
  }

  /** Answers to the relay's own requests (hosts answering spawn, stop, snapshot). */
  rpcResponse(peer: RoomPeer, frame: RpcResponseFrame): void {
    this.hostRequests.answer(peer, frame)
  }

  /** Terminal frames and input: `raw` is the frame as received, for forwarding unchanged. */
  handleStreamFrame(room: InputRoom, peer: RoomPeer, frame: Frame, raw?: Uint8Array): void {
    routeStreamFrame(room, peer, frame, raw)
  }

  metricsText(): Promise<string> {
    return this.metrics.render({ docsLoaded: this.loaded.size * 2, workspacesLoaded: this.loaded.size })
  }

  /**
   * ERRORS-1: a failure while handling one connection's input is that connection's: logged
   * with who it was, answered with an ERROR (`internal`) on that socket alone, and after
   * repeated failures the socket is closed. The relay and every other connection go on.
   */
  connectionFault(peer: RoomPeer, where: string, error: unknown): void {
    const { memberId, instanceId } = peer.identity
    this.logError(`${where} (connection ${peer.connectionId}, member ${memberId || '-'}, instance ${instanceId || '-'})`, error)
    const faults = (this.faults.get(peer) ?? 0) + 1
    this.faults.set(peer, faults)
    peer.sendFrame(errorFrame('internal', 'The relay failed while handling your last frame; it was logged and nothing else was affected.'))
    if (faults >= 3) peer.close(CloseCode.badRequest, 'bad-frame')
  }

  logError(where: string, error: unknown): void {
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error)
    this.logger.error(`[orchard relay] ${where}: ${message}`)
  }

  logInfo(message: string): void {
    this.logger.info(message)
  }

  /**
   * Graceful shutdown: refuse new connections, tell clients to come back (1012 service
   * restart, which they retry), store everything pending, compact, close storage.
   */
  async close(): Promise<void> {
    if (this.closing) return
    this.closing = true
    for (const peer of [...this.peers]) peer.close(1012, 'relay restarting')
    await this.pipeline.drain()
    for (const room of [...this.loaded.values()]) {
      if (room.unloadTimer) clearTimeout(room.unloadTimer)
      await this.unload(room)
    }
    await this.storage.close()
  }

  private scheduleCompaction(doc: SharedDoc): void {
    if (this.compacting.has(doc)) return
    this.compacting.add(doc)
    // Off the hot path: after the current burst has been handled.
    setTimeout(() => void this.compact(doc, false).finally(() => this.compacting.delete(doc)), 50).unref?.()
  }

  /**
   * DOCS-6: merges a doc's stored updates into one. On unload it also passes the state
   * through a Y.Doc, which drops the content of deleted items (merging alone keeps it).
   */
  private async compact(doc: SharedDoc, collectGarbage: boolean): Promise<void> {
    try {
      let merged = doc.fullUpdate()
      const throughSeq = doc.lastSeq
      if (collectGarbage) {
        const ydoc = new Y.Doc()
        Y.applyUpdate(ydoc, merged)
        merged = Y.encodeStateAsUpdate(ydoc)
        ydoc.destroy()
      }
      await this.storage.compactDoc(doc.docId, merged, throughSeq)
      doc.storedUpdates = 1
    } catch (error) {
      this.logError(`compacting ${doc.docId}`, error)
    }
  }
}

export { CONTROL_CHANNEL, WORKSPACE_CHANNEL }
