import type { Frame, MemberRole } from '@orchard/protocol'
import type { DocSubscriber } from '../docs/SharedDoc.js'
import type { PresencePeer } from '../presence/PresenceHub.js'

/** What a transport gives the relay core for one connection (TRANSPORT-1): three members. */
export interface RelaySocket {
  send(data: Uint8Array): void
  close(code: number, reason: string): void
  /** Bytes queued and not yet written; 0 where the transport cannot tell. */
  readonly bufferedAmount: number
  /**
   * Stop reading from the peer until resume(), as TCP does when a receiver is busy (LIMIT-5).
   * Transports that cannot (an in-memory pair) leave these out; their senders are closed
   * with 4429 where a pausable one would only be slowed.
   */
  pause?(): void
  resume?(): void
}

/** What the transport calls as things happen on the connection. */
export interface RelayPeerHandle {
  receive(data: Uint8Array): void
  closed(): void
  /**
   * The transport refused a frame over its own size bound before reading it (LIMIT-1); the
   * handle says why and closes with 4413. Without it the transport closes with 4413 itself.
   */
  tooLarge?(): void
}

export interface Identity {
  memberId: string
  name: string
  role: MemberRole
  instanceId: string
  label: string
}

/** A connection as a workspace room sees it. */
export interface RoomPeer extends DocSubscriber, PresencePeer {
  readonly connectionId: number
  readonly identity: Identity
  sendFrame(frame: Frame): void
  close(code: number, reason: string): void
  /** ROLE-2: a role change applies to a live socket at once. */
  setRole(role: MemberRole): void
  /** Bytes queued on the socket (TERM-3: a backed-up viewer is skipped ahead). */
  readonly bufferedAmount: number
}
