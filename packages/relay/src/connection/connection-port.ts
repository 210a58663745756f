/**
 * What a connection needs of the relay core above it (ConnectionHost) and of the workspace
 * room it joins (ConnectionRoom), declared here so the connection modules import neither:
 * RelayCore and WorkspaceRoom satisfy these by their shape, and a test can pass a scripted
 * object. Everything named here lives below the connections.
 */
import type { Frame, RpcResponseFrame } from '@orchard/protocol'
import type { AuthRegistry } from '../auth/AuthRegistry.js'
import type { ControlDoc } from '../control/ControlDoc.js'
import type { InputRoom } from '../coordination/input.js'
import type { SharedDoc } from '../docs/SharedDoc.js'
import type { RelayHooks } from '../hooks.js'
import type { RelayLimits } from '../limits.js'
import type { PresenceHub } from '../presence/PresenceHub.js'
import type { RpcRoom } from '../rpc/rpc-port.js'
import type { RpcRouter } from '../rpc/RpcRouter.js'
import type { AckTracker } from './AckTracker.js'
import type { RoomPeer } from './types.js'

/**
 * The room as a connection sees it. It is also what the connection hands on with its RPCs
 * (RpcRoom) and its terminal and input frames (InputRoom), so it includes both.
 */
export type ConnectionRoom = RpcRoom &
  InputRoom & {
    readonly id: string
    readonly presence: Pick<PresenceHub, 'apply' | 'snapshot'>
    readonly workspaceDoc: Pick<SharedDoc, 'subscribers' | 'step1' | 'changesNothing'>
    /** An invite redeemed on HELLO adds its member to the control doc at once. */
    readonly control: Pick<ControlDoc, 'setMember'>
    channel(name: string): SharedDoc | undefined
    attach(peer: RoomPeer): void
    detach(peer: RoomPeer): void
    onSync(peer: RoomPeer, channel: string, body: Uint8Array, acks: AckTracker | null): void
  }

/** What a stock y-websocket connection uses of its room: one doc, presence, sync. */
export type YwsRoom = Pick<ConnectionRoom, 'id' | 'presence' | 'workspaceDoc' | 'attach' | 'detach' | 'onSync'>

/** What a connection needs of the relay core: limits, accounting, auth, its room, and where to hand frames. */
export interface ConnectionHost {
  readonly limits: RelayLimits
  /** Byte counters (RelayMetrics; only these two are written by connections). */
  readonly metrics: { bytesIn: number; bytesOut: number }
  readonly hooks: Pick<RelayHooks, 'onConnect'>
  readonly auth: Pick<AuthRegistry, 'authenticate' | 'redeemInvite' | 'bindInstance'>
  /** LIMIT-8: authenticated connections per member; returns ms to wait, 0 if admitted. */
  readonly memberConnects: { take(memberId: string): number }
  readonly serverName: string
  readonly rpc: Pick<RpcRouter, 'handle'>
  /** The loaded room for a workspace, loading it if needed. */
  room(workspaceId: string): Promise<ConnectionRoom>
  encode(frame: Frame): Uint8Array
  /** Answers to the relay's own requests (hosts answering spawn, stop, snapshot). */
  rpcResponse(peer: RoomPeer, frame: RpcResponseFrame): void
  /** Terminal frames and input: `raw` is the frame as received, for forwarding unchanged. */
  handleStreamFrame(room: ConnectionRoom, peer: RoomPeer, frame: Frame, raw?: Uint8Array): void
  /** ERRORS-1: a failure handling one connection's input is answered on that connection alone. */
  connectionFault(peer: RoomPeer, where: string, error: unknown): void
  connectionClosed(peer: RoomPeer, workspaceId: string | null): void
  logError(where: string, error: unknown): void
}
