/** Error codes carried by ERROR frames and failed RPC_RESPONSE frames. */
export type ErrorCode =
  | 'bad-frame'
  | 'unknown-kind'
  | 'unsupported-version'
  | 'unauthorized'
  | 'forbidden'
  | 'read-only'
  | 'too-large'
  | 'rate-limited'
  | 'not-found'
  | 'invalid-params'
  | 'stale-epoch'
  | 'not-holder'
  | 'host-offline'
  | 'host-error'
  | 'conflict'
  | 'timeout'
  | 'internal'

export const ERROR_CODES: readonly ErrorCode[] = [
  'bad-frame', 'unknown-kind', 'unsupported-version', 'unauthorized', 'forbidden', 'read-only',
  'too-large', 'rate-limited', 'not-found', 'invalid-params', 'stale-epoch', 'not-holder',
  'host-offline', 'host-error', 'conflict', 'timeout', 'internal'
]

const known: ReadonlySet<string> = new Set(ERROR_CODES)

/** Frames keep `code` as a plain string so a newer peer's codes still decode; narrow with this. */
export function isErrorCode(code: string): code is ErrorCode {
  return known.has(code)
}

export type FrameDecodeErrorCode = Extract<ErrorCode, 'bad-frame' | 'unknown-kind' | 'unsupported-version'>

export interface FrameDecodeErrorDetails {
  /** The kind number, when the frame got far enough to name one. */
  kind?: number
  /** The channel, when it could be read (set for unknown kinds so the reply can name it). */
  channel?: string
  /** The version byte, for 'unsupported-version'. */
  version?: number
}

/**
 * The only error decodeFrame and decodeYwsMessage throw. It carries what the relay needs to
 * answer with an ERROR frame (code, and kind/channel when known) instead of crashing.
 */
export class FrameDecodeError extends Error {
  override readonly name = 'FrameDecodeError'
  readonly code: FrameDecodeErrorCode
  readonly kind: number | undefined
  readonly channel: string | undefined
  readonly version: number | undefined

  constructor(code: FrameDecodeErrorCode, message: string, details: FrameDecodeErrorDetails = {}) {
    super(message)
    this.code = code
    this.kind = details.kind
    this.channel = details.channel
    this.version = details.version
  }
}
