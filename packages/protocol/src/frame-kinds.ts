/** The frame format version written in every frame's first byte. */
export const PROTOCOL_VERSION = 1

/**
 * Frame kinds on the wire. Numbers are part of the v1 contract: never renumber or reuse one;
 * new kinds take the next free number.
 */
export const FrameKind = {
  hello: 0,
  welcome: 1,
  sync: 2,
  awareness: 3,
  rpcRequest: 4,
  rpcResponse: 5,
  error: 6,
  ack: 7,
  termSubscribe: 8,
  termUnsubscribe: 9,
  termOutput: 10,
  termGap: 11,
  termInput: 12,
  termResize: 13,
  event: 14
} as const

export type FrameKind = (typeof FrameKind)[keyof typeof FrameKind]

export type FrameKindName = keyof typeof FrameKind

const names: readonly string[] = [
  'HELLO', 'WELCOME', 'SYNC', 'AWARENESS', 'RPC_REQUEST', 'RPC_RESPONSE', 'ERROR', 'ACK',
  'TERM_SUBSCRIBE', 'TERM_UNSUBSCRIBE', 'TERM_OUTPUT', 'TERM_GAP', 'TERM_INPUT', 'TERM_RESIZE', 'EVENT'
]

export function isFrameKind(kind: number): kind is FrameKind {
  return Number.isInteger(kind) && kind >= 0 && kind < names.length
}

/** The PROTOCOL.md name of a kind ('SYNC', 'TERM_GAP', ...), for logs and error messages. */
export function frameKindLabel(kind: number): string {
  return isFrameKind(kind) ? (names[kind] as string) : `kind ${kind}`
}
