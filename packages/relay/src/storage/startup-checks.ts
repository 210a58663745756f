/**
 * What a relay checks about its data file before it serves anyone (STORE-SQL-10..12): a
 * file it would otherwise fail on later, at the first sync or the first write, is refused
 * at start with a message that names the file. Each check reads or writes as little as it
 * can; the integrity check is the one that costs (bench numbers in SPEC STORE-SQL-10).
 */
import { closeSync, fstatSync, fsyncSync, linkSync, openSync, statSync, unlinkSync } from 'node:fs'
import { dirname } from 'node:path'
import type Database from 'better-sqlite3'
import { StorageError } from './errors.js'

/** 'quick' = PRAGMA quick_check (default), 'full' = PRAGMA integrity_check, 'none' = skip (a second connection to a file already checked). */
export type StartupCheck = 'quick' | 'full' | 'none'

/** How many problems SQLite lists at most; the first few are enough to tell an operator. */
const MAX_PROBLEMS = 5

/**
 * A 0-byte file is refused (STORE-SQL-11). SQLite would treat it as an empty database and a
 * relay would create a new workspace in it, so a store truncated by a bad disk, a bad copy
 * or a full disk would silently become a different workspace. The relay itself never leaves
 * a 0-byte file behind: it creates its file complete (createDataFile below).
 */
export function refuseEmptyFile(path: string): void {
  let size: number
  try {
    const stat = statSync(path)
    if (!stat.isFile()) return // a directory and friends get SQLite's own cannot-open
    size = stat.size
  } catch {
    return // missing: createDataFile makes it
  }
  if (size > 0) return
  throw new StorageError(
    'empty-file',
    `Cannot open relay storage at ${path}: the file is empty (0 bytes). A relay never leaves its store empty, so it was ` +
      'truncated or replaced outside the relay; nothing was written to it. Restore it from a backup. ' +
      'If you really want a new, empty workspace here, delete the file and start again.',
    path
  )
}

/**
 * PRAGMA quick_check (or integrity_check) at start (STORE-SQL-10): damaged pages are found
 * now, with a message naming the file, instead of at the first sync of the doc they hold.
 */
export function checkIntegrity(db: Database.Database, path: string, check: StartupCheck): void {
  if (check === 'none') return
  const pragma = check === 'full' ? 'integrity_check' : 'quick_check'
  let problems: string[]
  try {
    const rows = db.pragma(`${pragma}(${MAX_PROBLEMS})`, { simple: false }) as Array<Record<string, string>>
    problems = rows.map((row) => Object.values(row)[0] ?? '').filter((line) => line !== 'ok')
  } catch (error) {
    // Some damage (a page header that is not a b-tree page) stops the check itself.
    if (!/^SQLITE_(CORRUPT|NOTADB)/.test(String((error as { code?: unknown }).code))) throw error
    problems = [(error as Error).message]
  }
  if (problems.length === 0) return
  throw new StorageError(
    'corrupt',
    `Relay storage at ${path} is damaged (PRAGMA ${pragma}: ${problems.join('; ')}). The relay did not start and wrote nothing. ` +
      `Restore the file from a backup, or salvage what is left with: sqlite3 '${path}' .recover | sqlite3 recovered.db, ` +
      'then start the relay with --data recovered.db.',
    path
  )
}

/**
 * Writes one header field back unchanged (STORE-SQL-12). SQLite opens a file it may not write
 * read-only without a word and fails each write later; a relay on such a file would answer
 * every edit `internal`. This write fails at start instead, while the operator is watching.
 */
export function probeWritable(db: Database.Database, path: string, applicationId: number): void {
  try {
    db.transaction(() => db.pragma(`application_id = ${applicationId}`)).immediate()
  } catch (error) {
    const code = String((error as { code?: unknown }).code ?? '')
    if (!code.startsWith('SQLITE_READONLY') && !code.startsWith('SQLITE_CANTOPEN') && !code.startsWith('SQLITE_PERM')) throw error
    throw readOnly(path, error)
  }
}

export function readOnly(path: string, cause: unknown): StorageError {
  return new StorageError(
    'read-only',
    `Cannot open relay storage at ${path}: it cannot be written (${(cause as Error).message}). A relay must store every edit ` +
      'before it acknowledges it, so it does not start read-only. Make the file and its directory writable by this user ' +
      `(the relay also writes ${path}-wal and ${path}-shm next to it), or choose a writable --data path.`,
    path,
    { cause }
  )
}

/**
 * Creates the data file complete, or not at all: the schema is built in a temporary file next
 * to it, synced, and hard-linked into place (link fails if the name exists, so two relays
 * creating at once cannot replace each other's file). A crash leaves no file or a whole one,
 * never the 0-byte file that refuseEmptyFile refuses. Returns false if the file existed.
 */
export function createDataFile(path: string, build: (tempPath: string) => void): boolean {
  try {
    statSync(path)
    return false
  } catch {
    // missing: create it
  }
  const temp = `${path}.creating-${process.pid}-${Math.random().toString(36).slice(2, 8)}`
  try {
    build(temp)
    fsyncPath(temp)
    try {
      linkSync(temp, path)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false
      throw error
    }
    fsyncPath(dirname(path))
    return true
  } finally {
    for (const leftover of [temp, `${temp}-wal`, `${temp}-shm`]) {
      try {
        unlinkSync(leftover)
      } catch {
        // already gone
      }
    }
  }
}

function fsyncPath(path: string): void {
  const fd = openSync(path, 'r')
  try {
    if (fstatSync(fd).isFile() || process.platform !== 'win32') fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}
