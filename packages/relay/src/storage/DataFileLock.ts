/**
 * One relay per data file (STORE-SQL-9). The lock is SQLite's own file locking on a small
 * sidecar database, `<data>.lock`: the holder keeps a write transaction open (a RESERVED
 * lock, an fcntl lock underneath) for as long as the storage is open. The kernel drops it
 * when the process dies, however it dies, so a relay restarted right after `kill -9` is
 * never refused by a stale lock (a lock file with a timeout would refuse it, or would let
 * two relays in after the timeout). It cannot live on the data file itself: the storage
 * uses two connections there (main thread and writer thread) that must both write.
 *
 * Before it takes the lock the holder writes its pid, host and start time into the sidecar,
 * so the relay that is refused can say which process to stop. A RESERVED lock still lets
 * others read, which is how the refused relay reads them.
 */
import { hostname } from 'node:os'
import Database from 'better-sqlite3'
import { StorageError } from './errors.js'
import { translateSqliteError } from './sqlite-schema.js'

interface Holder {
  pid: number
  host: string
  started: string
}

export class DataFileLock {
  private constructor(
    readonly path: string,
    private readonly db: Database.Database
  ) {}

  /** Takes the lock for `dataPath` or throws StorageError 'locked' naming the process that holds it. */
  static acquire(dataPath: string): DataFileLock {
    const path = `${dataPath}.lock`
    let db: Database.Database
    try {
      db = new Database(path)
    } catch (error) {
      throw lockFileError(dataPath, path, error)
    }
    try {
      // The sidecar holds nothing worth an fsync: losing it loses only the holder's pid.
      db.pragma('synchronous = OFF')
      // Reading the holder may meet its commit; wait that long, never for the lock itself.
      db.pragma('busy_timeout = 500')
      db.exec('CREATE TABLE IF NOT EXISTS holder (pid INTEGER NOT NULL, host TEXT NOT NULL, started TEXT NOT NULL)')
      if (!tryBegin(db)) throw locked(dataPath, path, readHolder(db))
      db.exec('DELETE FROM holder')
      db.prepare('INSERT INTO holder (pid, host, started) VALUES (?, ?, ?)').run(process.pid, hostname(), new Date().toISOString())
      db.exec('COMMIT')
      // Between that COMMIT and this BEGIN another relay may have won; then it is the holder.
      if (!tryBegin(db)) throw locked(dataPath, path, readHolder(db))
      return new DataFileLock(path, db)
    } catch (error) {
      if (db.inTransaction) db.exec('ROLLBACK')
      db.close()
      throw error instanceof StorageError ? error : lockFileError(dataPath, path, error)
    }
  }

  /** Lets the next relay in. Releasing twice is fine. */
  release(): void {
    if (!this.db.open) return
    if (this.db.inTransaction) this.db.exec('ROLLBACK')
    this.db.close()
  }
}

/** BEGIN IMMEDIATE without waiting: false when another connection holds the lock. */
function tryBegin(db: Database.Database): boolean {
  db.pragma('busy_timeout = 0')
  try {
    db.exec('BEGIN IMMEDIATE')
    return true
  } catch (error) {
    if (String((error as { code?: unknown }).code).startsWith('SQLITE_BUSY')) return false
    throw error
  } finally {
    db.pragma('busy_timeout = 500')
  }
}

function readHolder(db: Database.Database): Holder | undefined {
  try {
    return db.prepare('SELECT pid, host, started FROM holder').get() as Holder | undefined
  } catch {
    // The holder is between creating the sidecar and writing its row: say so without a pid.
    return undefined
  }
}

function locked(dataPath: string, lockPath: string, holder: Holder | undefined): StorageError {
  const who = holder ? `process ${holder.pid} on ${holder.host} (running since ${holder.started})` : 'another process'
  return new StorageError(
    'locked',
    `Cannot open relay storage at ${dataPath}: ${who} is already running a relay on it (lock: ${lockPath}). ` +
      'Two relays on one file would diverge. Stop that relay first, or give this one its own --data file.',
    dataPath
  )
}

function lockFileError(dataPath: string, lockPath: string, error: unknown): StorageError {
  const code = String((error as { code?: unknown }).code ?? '')
  const detail = (error as Error).message
  if (code.startsWith('SQLITE_READONLY') || code.startsWith('SQLITE_CANTOPEN') || code.startsWith('SQLITE_PERM') || code === 'SQLITE_AUTH') {
    return new StorageError(
      'read-only',
      `Cannot open relay storage at ${dataPath}: its lock file ${lockPath} cannot be created or written (${detail}). ` +
        'The relay needs to write in the directory of its --data file: fix its permissions, or choose a writable path.',
      dataPath,
      { cause: error }
    )
  }
  const translated = translateSqliteError(dataPath, error)
  if (translated instanceof StorageError && !code.startsWith('SQLITE_NOTADB') && !code.startsWith('SQLITE_CORRUPT')) return translated
  return new StorageError('cannot-open', `Cannot open relay storage at ${dataPath}: its lock file ${lockPath} is unusable (${detail}). Delete ${lockPath} while no relay runs, then start again.`, dataPath, {
    cause: error
  })
}
