/**
 * The end of one connection, told once (TRANSPORT-3). Every transport must call its close
 * listeners exactly once, with the first outcome, also for a listener added after the end;
 * sockets report an end more than once (an error then a close, a local close() then the
 * peer's) and a late listener would otherwise never hear it. Each transport keeps one latch.
 */

export type CloseListener = (code: number, reason: string) => void

export interface CloseOutcome {
  readonly code: number
  readonly reason: string
}

export class CloseLatch {
  private outcome: CloseOutcome | null = null
  private readonly listeners: CloseListener[] = []

  /** How the connection ended, or null while it is open (or still opening). */
  get closed(): CloseOutcome | null {
    return this.outcome
  }

  /**
   * Adds a listener; one added after the end (even by a listener being told) is called at
   * once with the outcome, and only then.
   */
  listen(listener: CloseListener): void {
    if (this.outcome) listener(this.outcome.code, this.outcome.reason)
    else this.listeners.push(listener)
  }

  /** Records the end and tells every listener; a later call changes nothing. */
  close(code: number, reason: string): void {
    if (this.outcome) return
    this.outcome = { code, reason }
    for (const listener of this.listeners) listener(code, reason)
  }
}
