/**
 * Joining or opening a workspace failed (SESSION-1, SESSION-2, BROWSER-1): `message` is what
 * to show the user, `code` says which case (the relay's refusal reason, 'timeout',
 * 'invite-malformed', ...), `closeCode` the relay's close code when it refused. One class for
 * the Node and the browser sessions, so `instanceof SessionError` holds whichever entry an
 * app imported it from.
 */
import type { StopReason } from '../RelayProvider.js'

export class SessionError extends Error {
  override readonly name = 'SessionError'
  constructor(
    message: string,
    readonly code: string,
    readonly closeCode?: number
  ) {
    super(message)
  }

  /** The relay stopped the connection while we waited (a refused invite or credential): its words. */
  static refused(reason: StopReason): SessionError {
    return new SessionError(reason.message, reason.reason || 'refused', reason.code)
  }
}
