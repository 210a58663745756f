/**
 * The one error class storage throws for conditions an operator has to act on. Each message
 * says which file, what happened and what to do, because it usually ends up as the last
 * line a relay prints before it exits. Caller bugs (a bad doc id, a non-JSON value) are
 * plain TypeError / RangeError instead: there is nothing an operator can do about those.
 */

export type StorageErrorCode =
  /** The path cannot be opened or created (missing directory, permissions, a directory). */
  | 'cannot-open'
  /** The file exists but is not a SQLite database (or is encrypted). */
  | 'not-a-database'
  /** A SQLite database whose pages are damaged. */
  | 'corrupt'
  /** A healthy SQLite database that belongs to some other application. */
  | 'foreign-database'
  /** Written by a newer Orchard relay whose schema this code does not know. */
  | 'newer-schema'
  /** The storage was closed; nothing more can be read or written through it. */
  | 'closed'
  /** Another relay (another process, or another storage in this one) has the file open. */
  | 'locked'
  /** The file or its directory cannot be written, so nothing could ever be stored. */
  | 'read-only'
  /** The file exists but holds 0 bytes: never the state a relay leaves its store in. */
  | 'empty-file'

/**
 * Every code above is something an operator fixes outside the relay (a file, a directory, a
 * second process), so a front end prints `message` alone, without a stack trace, and exits.
 */
export function isStorageError(error: unknown): error is StorageError {
  return error instanceof StorageError
}

export class StorageError extends Error {
  override readonly name = 'StorageError'
  constructor(
    readonly code: StorageErrorCode,
    message: string,
    /** The backing file, when there is one. */
    readonly path?: string,
    options?: { cause?: unknown }
  ) {
    super(message, options)
  }
}
