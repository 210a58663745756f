/**
 * WebSocket close codes the relay uses. 44xx mirror HTTP statuses so logs read naturally;
 * the client's retry decision depends only on the range (see isRetryableClose).
 */
export const CloseCode = {
  normal: 1000,
  tryAgain: 1013,
  badRequest: 4400,
  unauthorized: 4401,
  forbidden: 4403,
  notFound: 4404,
  tooLarge: 4413,
  rateLimited: 4429,
  versionMismatch: 4426,
  replaced: 4409
} as const

export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode]

/**
 * Whether a client should reconnect (with backoff) after the socket closed with `code`.
 * 4400-4499 mean "retrying cannot help" (bad credential, role, version, replaced by a newer
 * connection of the same instance), and 1000 is a deliberate close. Everything else, including
 * 1006 (dropped without a close frame) and codes we do not know, is treated as transient, so a
 * client never gives up on a relay because of a network blip or a newer relay's new code.
 */
export function isRetryableClose(code: number): boolean {
  if (code === CloseCode.normal) return false
  return !(code >= 4400 && code <= 4499)
}
