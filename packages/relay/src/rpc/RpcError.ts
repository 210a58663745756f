import type { ErrorCode } from '@orchard/protocol'

/** An RPC failure the caller sees as { code, message }: say what happened and what to do. */
export class RpcError extends Error {
  override readonly name = 'RpcError'
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly data?: unknown
  ) {
    super(message)
  }
}
