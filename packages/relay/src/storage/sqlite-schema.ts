/**
 * Opening the relay's SQLite file: refuse files that are not ours before writing a single
 * byte to them, switch to WAL, and bring the schema up to date. Kept apart from
 * SqliteStorage so the storage class is only statements and transactions.
 */
import Database from 'better-sqlite3'
import { StorageError } from './errors.js'
import { checkIntegrity, createDataFile, probeWritable, readOnly, refuseEmptyFile, type StartupCheck } from './startup-checks.js'

/** Marks the file as an Orchard relay store (PRAGMA application_id, ASCII "ORCH"). */
export const APPLICATION_ID = 0x4f524348

/**
 * MIGRATIONS[i] takes the schema from version i to i + 1 (PRAGMA user_version). Append new
 * steps; never edit a released one, since files in the field were made by it.
 */
const MIGRATIONS: readonly string[] = [
  `
  -- One row per stored update. seq is per doc; a compacted snapshot keeps the seq of the
  -- last update it absorbed, so it sorts first and later updates keep their place.
  CREATE TABLE doc_updates (
    doc_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (doc_id, seq)
  ) STRICT;
  -- The last seq handed out per doc. Separate from doc_updates because compaction and
  -- removal delete rows there, and seqs must still never be reused.
  CREATE TABLE doc_seqs (
    doc_id TEXT NOT NULL PRIMARY KEY,
    last_seq INTEGER NOT NULL
  ) STRICT, WITHOUT ROWID;
  CREATE TABLE records (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (kind, id)
  ) STRICT;
  `
]

export const SCHEMA_VERSION = MIGRATIONS.length

export type Durability = 'full' | 'normal'

export interface OpenOptions {
  durability: Durability
  busyTimeoutMs: number
  /** The start-up integrity check (STORE-SQL-10); 'none' for a second connection to a file already checked. */
  startupCheck: StartupCheck
}

/**
 * Opens (creating if needed, STORE-SQL-11) and prepares the database, or throws a
 * StorageError saying what to do. Order matters: every check that only reads runs before
 * the first write, so a file that is refused is left byte for byte as it was.
 */
export function openRelayDatabase(path: string, options: OpenOptions): Database.Database {
  refuseEmptyFile(path)
  try {
    createDataFile(path, (temp) => {
      const db = new Database(temp)
      try {
        prepare(db, temp, options.durability)
      } finally {
        db.close()
      }
    })
  } catch (error) {
    const code = String((error as { code?: unknown }).code ?? '')
    if (/^(SQLITE_(READONLY|CANTOPEN|PERM)|EACCES|EPERM|EROFS)/.test(code)) throw readOnly(path, error)
    throw translateSqliteError(path, error)
  }
  let db: Database.Database
  try {
    db = new Database(path)
  } catch (error) {
    throw translateSqliteError(path, error)
  }
  try {
    db.pragma(`busy_timeout = ${options.busyTimeoutMs}`)
    // Read-only inspection first: a file that is not ours, or a damaged one, is refused unchanged.
    refuseForeignFile(db, path)
    checkIntegrity(db, path, options.startupCheck)
    prepare(db, path, options.durability)
    if (options.startupCheck !== 'none') probeWritable(db, path, APPLICATION_ID)
    return db
  } catch (error) {
    db.close()
    throw translateSqliteError(path, error)
  }
}

/** WAL, durability and the schema: the same steps for a new file and for an existing one. */
function prepare(db: Database.Database, path: string, durability: Durability): void {
  const mode = db.pragma('journal_mode = WAL', { simple: true })
  if (mode !== 'wal') {
    throw new StorageError(
      'cannot-open',
      `Cannot open relay storage at ${path}: SQLite could not switch it to WAL journal mode (it reports "${String(mode)}"). ` +
        'Put the database on a local disk; network file systems do not support WAL.',
      path
    )
  }
  db.pragma(`synchronous = ${durability === 'full' ? 'FULL' : 'NORMAL'}`)
  migrate(db, path)
}

function refuseForeignFile(db: Database.Database, path: string): void {
  const applicationId = db.pragma('application_id', { simple: true }) as number
  const version = db.pragma('user_version', { simple: true }) as number
  if (applicationId === APPLICATION_ID) {
    if (version > SCHEMA_VERSION) {
      throw new StorageError(
        'newer-schema',
        `Cannot open relay storage at ${path}: it was written by a newer Orchard relay (schema version ${version}; ` +
          `this relay knows versions up to ${SCHEMA_VERSION}). Nothing was changed. Upgrade this relay; ` +
          'do not run an older relay on this file.',
        path
      )
    }
    return
  }
  const tables = db.prepare("SELECT count(*) FROM sqlite_schema WHERE type = 'table'").pluck().get() as number
  if (applicationId !== 0 || version !== 0 || tables > 0) {
    throw new StorageError(
      'foreign-database',
      `Cannot open relay storage at ${path}: it is a SQLite database, but not an Orchard relay store ` +
        `(application_id ${applicationId}, user_version ${version}, ${tables} tables). Nothing was changed. ` +
        'Point the relay at a new file path.',
      path
    )
  }
}

function migrate(db: Database.Database, path: string): void {
  // IMMEDIATE takes the write lock before reading the version, so two processes opening a
  // fresh file at once cannot both run the same migration.
  db.transaction(() => {
    const from = db.pragma('user_version', { simple: true }) as number
    if (from > SCHEMA_VERSION) {
      throw new StorageError('newer-schema', `Cannot open relay storage at ${path}: a newer relay migrated it to schema version ${from} while this one was opening it. Upgrade this relay.`, path)
    }
    for (let version = from; version < SCHEMA_VERSION; version++) db.exec(MIGRATIONS[version] as string)
    if (from < SCHEMA_VERSION) {
      // Both header fields are part of this transaction: a crash leaves the old version or the new one.
      db.pragma(`application_id = ${APPLICATION_ID}`)
      db.pragma(`user_version = ${SCHEMA_VERSION}`)
    }
  }).immediate()
}

/**
 * Turns the SQLite failures an operator can act on into a StorageError that names the file
 * and the next step; anything else is returned unchanged. Once the file is open (`phase`
 * 'use') only damage is translated: other failures there are not about opening.
 */
export function translateSqliteError(path: string, error: unknown, phase: 'open' | 'use' = 'open'): unknown {
  if (error instanceof StorageError) return error
  const extended = String((error as { code?: unknown }).code ?? '')
  // better-sqlite3 reports extended codes (SQLITE_CORRUPT_INDEX, SQLITE_READONLY_DIRECTORY...).
  // Their base code is the part before the second underscore.
  const code = /^SQLITE_[A-Z]+/.exec(extended)?.[0] ?? extended
  const detail = (error as Error).message
  const at = `Cannot open relay storage at ${path}`
  if (phase === 'use' && code !== 'SQLITE_CORRUPT' && code !== 'SQLITE_NOTADB') return error
  if (phase === 'use') return corrupt(path, detail, error)
  if (code === 'SQLITE_READONLY') return readOnly(path, error)
  if (error instanceof TypeError && /directory does not exist/.test(detail)) {
    return new StorageError('cannot-open', `${at}: its directory does not exist. Create the directory or choose another path.`, path, { cause: error })
  }
  switch (code) {
    case 'SQLITE_NOTADB':
      return new StorageError(
        'not-a-database',
        `${at}: the file is not a SQLite database (or it is encrypted). Nothing was written to it. ` +
          "If the file is someone else's, point the relay at another path; if it was the relay's database, " +
          'restore it from a backup or move it aside to start with an empty store.',
        path,
        { cause: error }
      )
    case 'SQLITE_CORRUPT':
      return corrupt(path, detail, error)
    case 'SQLITE_CANTOPEN':
    case 'SQLITE_PERM':
    case 'SQLITE_AUTH':
      return new StorageError(
        'cannot-open',
        `${at}: ${detail} (${code}). Check that the path is a file, not a directory, and that this process may read and write it and its directory.`,
        path,
        { cause: error }
      )
    case 'SQLITE_BUSY':
      return new StorageError(
        'cannot-open',
        `${at}: another process kept it locked for longer than the busy timeout. Stop the other relay using this file, or give this one its own file.`,
        path,
        { cause: error }
      )
    default:
      return error
  }
}

function corrupt(path: string, detail: string, cause: unknown): StorageError {
  return new StorageError(
    'corrupt',
    `Relay storage at ${path} is damaged (${detail}). Stop the relay and restore the file from a backup, ` +
      `or salvage what is left with: sqlite3 '${path}' .recover | sqlite3 recovered.db, then point the relay at recovered.db.`,
    path,
    { cause }
  )
}
