import type { FrameKind } from './frame-kinds.js'

type K = typeof FrameKind

interface FrameOf<Kind extends FrameKind> {
  kind: Kind
  /** 'workspace' | 'control' for the docs, an agent/terminal id for streams, '' for the connection. */
  channel: string
}

export type MemberRole = 'owner' | 'editor' | 'viewer'

export const MEMBER_ROLES: readonly MemberRole[] = ['owner', 'editor', 'viewer']

export interface HelloFields {
  protocol: number
  /** A member credential, or an invite token to join with (then `name` is the new member's name). */
  credential: string
  instanceId: string
  label?: string
  client?: string
  /** Display name for a member joining with an invite. */
  name?: string
  /**
   * Joining with an invite only: the member credential this instance held before in the
   * same workspace (a member removed and invited again). Proves the instance id is its
   * own, so the relay hands the id's binding to the new member (IDENT-3).
   */
  previousCredential?: string
}

export interface WelcomeLimits {
  maxFrameBytes: number
  maxDocBytes: number
  /**
   * Bytes of terminal output the relay sends a viewer beyond its last ACK before it holds
   * back (TERM-3); viewers ACK well before it (TERM-8). Absent from relays before it was added.
   */
  viewerWindowBytes?: number
}

export interface WelcomeFields {
  workspaceId: string
  memberId: string
  memberName: string
  role: MemberRole
  instanceId: string
  limits: WelcomeLimits
  server: string
  /** Set only when the HELLO joined with an invite: the new member's credential, to store locally. */
  credential?: string
}

/** An EVENT body: a JSON object with a string `type`; other fields depend on the type. */
export interface OrchardEvent {
  type: string
  [field: string]: unknown
}

export interface HelloFrame extends FrameOf<K['hello']>, HelloFields {}

export interface WelcomeFrame extends FrameOf<K['welcome']>, WelcomeFields {}

/** `body` is a y-protocols sync message (step 1, step 2 or update), byte for byte. */
export interface SyncFrame extends FrameOf<K['sync']> {
  body: Uint8Array
}

/** `body` is a y-protocols awareness update (encodeAwarenessUpdate output), byte for byte. */
export interface AwarenessFrame extends FrameOf<K['awareness']> {
  body: Uint8Array
}

export interface RpcRequestFrame extends FrameOf<K['rpcRequest']> {
  id: number
  method: string
  params: unknown
}

export interface RpcOkResponseFrame extends FrameOf<K['rpcResponse']> {
  id: number
  ok: true
  result: unknown
}

export interface RpcErrorResponseFrame extends FrameOf<K['rpcResponse']> {
  id: number
  ok: false
  code: string
  message: string
  data?: unknown
}

export type RpcResponseFrame = RpcOkResponseFrame | RpcErrorResponseFrame

export interface ErrorFrame extends FrameOf<K['error']> {
  code: string
  message: string
  data?: unknown
}

/** The relay durably stored this connection's update frames 1..seq on this channel. */
export interface AckFrame extends FrameOf<K['ack']> {
  seq: number
}

/** Resume point; generation 0 / offset 0 means "from the oldest byte still available". */
export interface TermSubscribeFrame extends FrameOf<K['termSubscribe']> {
  generation: number
  offset: number
}

export interface TermUnsubscribeFrame extends FrameOf<K['termUnsubscribe']> {}

/** `offset` is the byte offset of data[0] within the generation. */
export interface TermOutputFrame extends FrameOf<K['termOutput']> {
  generation: number
  offset: number
  data: Uint8Array
}

/** Bytes [from, to) were skipped; `snapshot` is the screen as escape text, valid at `to`. */
export interface TermGapFrame extends FrameOf<K['termGap']> {
  generation: number
  from: number
  to: number
  cols: number
  rows: number
  snapshot: string
}

export interface TermInputFrame extends FrameOf<K['termInput']> {
  epoch: number
  data: Uint8Array
}

export interface TermResizeFrame extends FrameOf<K['termResize']> {
  epoch: number
  cols: number
  rows: number
}

export interface EventFrame extends FrameOf<K['event']> {
  event: OrchardEvent
}

export type Frame =
  | HelloFrame
  | WelcomeFrame
  | SyncFrame
  | AwarenessFrame
  | RpcRequestFrame
  | RpcResponseFrame
  | ErrorFrame
  | AckFrame
  | TermSubscribeFrame
  | TermUnsubscribeFrame
  | TermOutputFrame
  | TermGapFrame
  | TermInputFrame
  | TermResizeFrame
  | EventFrame

/** The frame type for a given kind number, e.g. FrameOfKind<typeof FrameKind.sync> = SyncFrame. */
export type FrameOfKind<Kind extends FrameKind> = Extract<Frame, { kind: Kind }>
