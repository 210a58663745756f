/**
 * Errors Orchard's workspace layer throws itself. Pear's own errors ('Project not found',
 * 'A project must have at least one root', zod's integration error) are thrown as Pear
 * throws them, as plain Error / ZodError, so Pear's catch blocks keep working.
 */

/** PEAR-ERR-1: Pear's message, verbatim. */
export const PROJECT_NOT_FOUND = 'Project not found'
/** PEAR-ERR-2: Pear's message, verbatim. */
export const LAST_ROOT = 'A project must have at least one root'

/**
 * DOC-4: the doc or file was written by a newer major schema. Reading still works;
 * writing would rewrite data this version does not understand, so it is refused.
 */
export class ReadOnlyWorkspaceError extends Error {
  override readonly name = 'ReadOnlyWorkspaceError'
  constructor(readonly reason: string) {
    super(`This workspace is read-only here: ${reason}`)
  }
}

/** Raised to the caller of a write their role does not allow (set by the client layer). */
export class WriteRefusedError extends Error {
  override readonly name = 'WriteRefusedError'
  constructor(
    message: string,
    readonly code: string = 'forbidden'
  ) {
    super(message)
  }
}
