/**
 * Crash points for durability tests (STORE-SQL-13). With ORCHARD_FAILPOINT=<point>:<n> in
 * its environment, a process (the relay CLI included, and its SQLite writer thread, which
 * shares the environment) kills itself with SIGKILL the n-th time it reaches <point>. That
 * lets a test aim `kill -9` at the instants that matter, which a kill from outside at a
 * random moment hits only by luck: inside an append or a compaction transaction, and after
 * a commit but before anyone was told. Unset (always, outside tests) it costs one compare.
 */

export type Failpoint =
  /** Inside an append transaction, after its first row was written, before COMMIT. */
  | 'append-mid'
  /** An append has committed; nobody has been told (no ACK can have been sent for it). */
  | 'append-committed'
  /** Inside a compaction transaction, after the old rows were deleted, before the merged row is written. */
  | 'compact-mid'
  /** A compaction has committed; the relay does not know yet. */
  | 'compact-committed'

const FAILPOINTS: readonly Failpoint[] = ['append-mid', 'append-committed', 'compact-mid', 'compact-committed']

const armed = parse(process.env.ORCHARD_FAILPOINT)
let reached = 0

export function failpoint(point: Failpoint): void {
  if (armed === null || armed.point !== point) return
  if (++reached < armed.nth) return
  // process.kill from a worker thread still kills the whole process, as a crash would.
  process.kill(process.pid, 'SIGKILL')
}

function parse(value: string | undefined): { point: Failpoint; nth: number } | null {
  if (!value) return null
  const [point, nth = '1'] = value.split(':')
  if (!FAILPOINTS.includes(point as Failpoint) || !/^[1-9]\d*$/.test(nth)) {
    throw new Error(`ORCHARD_FAILPOINT=${value} is not <point>:<n> with point one of ${FAILPOINTS.join(', ')}; unset it outside tests.`)
  }
  return { point: point as Failpoint, nth: Number(nth) }
}
