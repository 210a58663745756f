/**
 * What RPC handlers need of the workspace room a call arrives in, declared here (below the
 * room and the connections) so the rpc modules import nothing above them. The room passes
 * itself; a test can pass a scripted object.
 */
import type { AuthRegistry, MemberRecord } from '../auth/AuthRegistry.js'
import type { RoomPeer } from '../connection/types.js'
import type { AgentCoordinator } from '../coordination/AgentCoordinator.js'
import type { LeaseManager } from '../coordination/LeaseManager.js'

export interface RpcRoom {
  readonly id: string
  /** Invites and members are the relay's records (AUTH-n); invites carry its public URL. */
  readonly core: { readonly auth: AuthRegistry; readonly publicUrl: string }
  readonly agents: Pick<AgentCoordinator, 'get' | 'spawn' | 'stop' | 'exited' | 'resized'>
  readonly leases: Pick<LeaseManager, 'claim' | 'renew' | 'release'>
  /** IDENT-2: whether `peer` speaks for `instanceId` (member and instance both). */
  isInstance(peer: RoomPeer, instanceId: string): boolean
  recordActivity(peer: RoomPeer | null, type: string, fields: Record<string, unknown>): void
  /** ROLE-2 / AUTH-5: a changed or removed member reaches its live sockets at once. */
  applyRole(member: MemberRecord): void
  applyRemoval(member: MemberRecord): void
}

/** One call: the room it arrived in and the connection that made it. */
export interface RpcContext {
  room: RpcRoom
  peer: RoomPeer
}
