/**
 * The relay's log: pino, one JSON object per line on stderr (stdout carries what the user
 * or a script reads: the banner, or the --json line). pino because it is structured, fast
 * and the usual choice for Node servers; writes are synchronous so nothing is lost when
 * the process exits on a fatal storage error.
 */
import { destination, pino, type Logger } from 'pino'
import type { RelayLogger } from '@orchard/relay'

export function createLogger(level: string): Logger {
  return pino({ name: 'orchard-relay', level }, destination({ fd: 2, sync: true }))
}

/** The relay core's two-method logger, on pino. */
export function relayLogger(logger: Logger): RelayLogger {
  return {
    info: (message) => logger.info(message),
    error: (message) => logger.error(message)
  }
}
