/**
 * RelayStorage in one SQLite file (better-sqlite3), the relay's default store.
 *
 * better-sqlite3 is synchronous: each async method runs its statements and commits before
 * it returns its promise, so "resolved" means "committed". With WAL, a commit survives a
 * killed process in both durability modes; 'full' also fsyncs the WAL on every commit, so
 * it survives power loss too. Every write that reads first runs in a BEGIN IMMEDIATE
 * transaction, which takes the write lock up front: another process on the same file then
 * waits (busy_timeout) instead of failing mid-transaction.
 */
import type Database from 'better-sqlite3'
import { StorageError } from './errors.js'
import { DataFileLock } from './DataFileLock.js'
import { failpoint } from './failpoints.js'
import { type Durability, openRelayDatabase, translateSqliteError } from './sqlite-schema.js'
import type { StartupCheck } from './startup-checks.js'
import type { RelayStorage, StoredDoc } from './types.js'
import { checkBytes, checkEntries, checkKey, checkThroughSeq, decodeValue, encodeValue } from './validate.js'

export type { Durability } from './sqlite-schema.js'
export type { StartupCheck } from './startup-checks.js'

export interface SqliteStorageOptions {
  /** The database file; created if missing (its directory must exist). */
  path: string
  /**
   * 'full' (default): PRAGMA synchronous=FULL, every commit survives a crash and power loss.
   * 'normal': synchronous=NORMAL, commits survive a crash of the process but the last ones
   * may be lost on power loss or an OS crash; appends are cheaper.
   */
  durability?: Durability
  /** How long to wait for another connection's lock before failing (PRAGMA busy_timeout). Default 5000. */
  busyTimeoutMs?: number
  /**
   * Hold the data file's lock (`<path>.lock`, STORE-SQL-9) while open, so a second relay on
   * the same file is refused. Default true; false only for a second connection of the same
   * storage (the writer thread), which runs under its owner's lock.
   */
  exclusive?: boolean
  /** The integrity check at open (STORE-SQL-10): 'quick' (default), 'full' or 'none'. */
  startupCheck?: StartupCheck
}

export interface SqliteStorageStatus {
  path: string
  schemaVersion: number
  journalMode: string
  synchronous: 'off' | 'normal' | 'full' | 'extra'
  busyTimeoutMs: number
}

export interface CheckpointResult {
  /**
   * True when another connection (a reader in another process) kept the checkpoint from
   * finishing: the WAL was not truncated, and a later checkpoint will try again.
   */
  busy: boolean
}

type Entries = ReadonlyArray<{ docId: string; update: Uint8Array }>
type RecordRow = { id: string; value: string }

const SYNCHRONOUS = ['off', 'normal', 'full', 'extra'] as const

export class SqliteStorage implements RelayStorage {
  readonly path: string
  readonly durability: Durability
  private readonly db: Database.Database
  private readonly lock: DataFileLock | null
  private readonly appendTx: (entries: Entries) => number[]
  private readonly compactTx: (docId: string, merged: Uint8Array, throughSeq: number) => void
  private readonly updateTx: (kind: string, id: string, fn: (current: string | undefined) => string | undefined) => void
  private readonly sql: ReturnType<typeof prepareStatements>

  constructor(options: SqliteStorageOptions) {
    const { path, durability = 'full', busyTimeoutMs = 5000, exclusive = true, startupCheck = 'quick' } = options ?? ({} as SqliteStorageOptions)
    if (typeof path !== 'string' || path === '' || path === ':memory:') {
      throw new TypeError(`SqliteStorage needs a file path, got ${JSON.stringify(path)}; use MemoryStorage for a store that is not kept`)
    }
    if (durability !== 'full' && durability !== 'normal') {
      throw new TypeError(`SqliteStorage durability must be 'full' or 'normal', got ${JSON.stringify(durability)}`)
    }
    if (!Number.isSafeInteger(busyTimeoutMs) || busyTimeoutMs < 0) {
      throw new TypeError(`SqliteStorage busyTimeoutMs must be a non-negative integer, got ${String(busyTimeoutMs)}`)
    }
    if (startupCheck !== 'quick' && startupCheck !== 'full' && startupCheck !== 'none') {
      throw new TypeError(`SqliteStorage startupCheck must be 'quick', 'full' or 'none', got ${JSON.stringify(startupCheck)}`)
    }
    this.path = path
    this.durability = durability
    // The lock comes first: only its holder may create, check or migrate the file.
    this.lock = exclusive ? DataFileLock.acquire(path) : null
    let sql: ReturnType<typeof prepareStatements>
    try {
      this.db = openRelayDatabase(path, { durability, busyTimeoutMs, startupCheck })
      try {
        sql = this.sql = prepareStatements(this.db)
      } catch (error) {
        this.db.close()
        throw translateSqliteError(path, error)
      }
    } catch (error) {
      this.lock?.release()
      throw error
    }

    this.appendTx = this.db.transaction((entries: Entries) =>
      entries.map(({ docId, update }) => {
        const seq = sql.nextSeq.get(docId) as number
        sql.insertUpdate.run(docId, seq, update)
        failpoint('append-mid')
        return seq
      })
    ).immediate

    this.compactTx = this.db.transaction((docId: string, merged: Uint8Array, throughSeq: number) => {
      checkThroughSeq(docId, throughSeq, (sql.lastSeq.get(docId) as number | undefined) ?? 0)
      const oldest = sql.oldestSeq.get(docId) as number | null
      // Nothing at or below throughSeq: the doc was removed, or a later compaction already
      // covered these seqs. Writing `merged` now would resurrect or regress it (STORE-DOC-7).
      if (oldest === null || oldest > throughSeq) return
      sql.deleteThrough.run(docId, throughSeq)
      failpoint('compact-mid')
      sql.insertUpdate.run(docId, throughSeq, merged)
    }).immediate

    this.updateTx = this.db.transaction((kind: string, id: string, fn: (current: string | undefined) => string | undefined) => {
      const next = fn(sql.getRecord.get(kind, id) as string | undefined)
      if (next === undefined) sql.deleteRecord.run(kind, id)
      else sql.putRecord.run(kind, id, next)
    }).immediate
  }

  async loadDoc(docId: string): Promise<StoredDoc | undefined> {
    checkKey('loadDoc: docId', docId)
    const rows = this.run(() => this.sql.selectUpdates.all(docId) as Array<{ seq: number; data: Buffer }>)
    if (rows.length === 0) return undefined
    let bytes = 0
    const updates = rows.map(({ data }) => {
      bytes += data.byteLength
      // better-sqlite3 hands out a fresh, unpooled Buffer per blob, so viewing it as a plain
      // Uint8Array costs no copy. Should a Buffer ever share its ArrayBuffer (Node's pool),
      // copy instead, so `.buffer` never exposes bytes that are not this update's.
      const owned = data.byteOffset === 0 && data.buffer.byteLength === data.byteLength
      return owned ? new Uint8Array(data.buffer) : new Uint8Array(data)
    })
    return { updates, lastSeq: (rows[rows.length - 1] as { seq: number }).seq, bytes }
  }

  async appendUpdates(entries: Entries): Promise<number[]> {
    checkEntries(entries)
    if (entries.length === 0) return []
    const seqs = this.run(() => this.appendTx(entries))
    failpoint('append-committed')
    return seqs
  }

  async compactDoc(docId: string, merged: Uint8Array, throughSeq: number): Promise<void> {
    checkKey('compactDoc: docId', docId)
    checkBytes(`compactDoc(${JSON.stringify(docId)}): merged`, merged)
    this.run(() => this.compactTx(docId, merged, throughSeq))
    failpoint('compact-committed')
  }

  async removeDoc(docId: string): Promise<void> {
    checkKey('removeDoc: docId', docId)
    // doc_seqs keeps its row so the id never reuses a seq (STORE-DOC-5).
    this.run(() => this.sql.deleteDoc.run(docId))
  }

  async getRecord<T>(kind: string, id: string): Promise<T | undefined> {
    checkKey('getRecord: kind', kind)
    checkKey('getRecord: id', id)
    const json = this.run(() => this.sql.getRecord.get(kind, id) as string | undefined)
    return json === undefined ? undefined : decodeValue<T>(json)
  }

  async putRecord<T>(kind: string, id: string, value: T): Promise<void> {
    checkKey('putRecord: kind', kind)
    checkKey('putRecord: id', id)
    const json = encodeValue(`putRecord(${JSON.stringify(kind)}, ${JSON.stringify(id)})`, value)
    this.run(() => this.sql.putRecord.run(kind, id, json))
  }

  async listRecords<T>(kind: string, idPrefix = ''): Promise<Array<{ id: string; value: T }>> {
    checkKey('listRecords: kind', kind)
    if (typeof idPrefix !== 'string') throw new TypeError(`listRecords: idPrefix must be a string, got ${typeof idPrefix}`)
    return this.run(() => {
      const out: Array<{ id: string; value: T }> = []
      // Ids sharing a prefix are contiguous in byte order and start at the prefix itself, so
      // an index range scan from idPrefix can stop at the first id that does not match.
      // (LIKE would be case-insensitive and treat % and _ as wildcards.)
      for (const row of this.sql.listFrom.iterate(kind, idPrefix) as IterableIterator<RecordRow>) {
        if (!row.id.startsWith(idPrefix)) break
        out.push({ id: row.id, value: decodeValue<T>(row.value) })
      }
      return out
    })
  }

  async deleteRecord(kind: string, id: string): Promise<void> {
    checkKey('deleteRecord: kind', kind)
    checkKey('deleteRecord: id', id)
    this.run(() => this.sql.deleteRecord.run(kind, id))
  }

  async updateRecord<T>(kind: string, id: string, fn: (current: T | undefined) => T | undefined): Promise<T | undefined> {
    checkKey('updateRecord: kind', kind)
    checkKey('updateRecord: id', id)
    const where = `updateRecord(${JSON.stringify(kind)}, ${JSON.stringify(id)})`
    let result: T | undefined
    this.run(() =>
      this.updateTx(kind, id, (json) => {
        result = fn(json === undefined ? undefined : decodeValue<T>(json))
        return result === undefined ? undefined : encodeValue(where, result)
      })
    )
    return result
  }

  /** Copies the WAL into the database file and truncates it (PRAGMA wal_checkpoint(TRUNCATE)). */
  async checkpoint(): Promise<CheckpointResult> {
    // The frame counts it also returns are 0 after a successful TRUNCATE, so only busy says anything.
    const [row] = this.run(() => this.db.pragma('wal_checkpoint(TRUNCATE)') as Array<{ busy: number }>)
    return { busy: row?.busy === 1 }
  }

  /** The settings in effect on this connection, read back from SQLite (for startup logs and tests). */
  status(): SqliteStorageStatus {
    return this.run(() => ({
      path: this.path,
      schemaVersion: this.db.pragma('user_version', { simple: true }) as number,
      journalMode: this.db.pragma('journal_mode', { simple: true }) as string,
      synchronous: SYNCHRONOUS[this.db.pragma('synchronous', { simple: true }) as number] ?? 'full',
      busyTimeoutMs: this.db.pragma('busy_timeout', { simple: true }) as number
    }))
  }

  /** Checkpoints and closes. Later calls reject with StorageError 'closed'; closing twice is fine. */
  async close(): Promise<void> {
    if (!this.db.open) return
    try {
      // A busy checkpoint is not a reason to keep the file open: the WAL is replayed on next open.
      this.db.pragma('wal_checkpoint(TRUNCATE)')
    } finally {
      this.db.close()
      this.lock?.release()
    }
  }

  private run<R>(work: () => R): R {
    if (!this.db.open) throw new StorageError('closed', `Relay storage at ${this.path} is closed; open a new SqliteStorage to use it again.`, this.path)
    try {
      return work()
    } catch (error) {
      throw translateSqliteError(this.path, error, 'use')
    }
  }
}

/** Every statement is prepared once, when the storage opens. */
function prepareStatements(db: Database.Database) {
  return {
    nextSeq: db
      .prepare('INSERT INTO doc_seqs (doc_id, last_seq) VALUES (?, 1) ON CONFLICT (doc_id) DO UPDATE SET last_seq = last_seq + 1 RETURNING last_seq')
      .pluck(),
    lastSeq: db.prepare('SELECT last_seq FROM doc_seqs WHERE doc_id = ?').pluck(),
    insertUpdate: db.prepare('INSERT INTO doc_updates (doc_id, seq, data) VALUES (?, ?, ?)'),
    selectUpdates: db.prepare('SELECT seq, data FROM doc_updates WHERE doc_id = ? ORDER BY seq'),
    oldestSeq: db.prepare('SELECT min(seq) FROM doc_updates WHERE doc_id = ?').pluck(),
    deleteThrough: db.prepare('DELETE FROM doc_updates WHERE doc_id = ? AND seq <= ?'),
    deleteDoc: db.prepare('DELETE FROM doc_updates WHERE doc_id = ?'),
    getRecord: db.prepare('SELECT value FROM records WHERE kind = ? AND id = ?').pluck(),
    putRecord: db.prepare('INSERT INTO records (kind, id, value) VALUES (?, ?, ?) ON CONFLICT (kind, id) DO UPDATE SET value = excluded.value'),
    listFrom: db.prepare('SELECT id, value FROM records WHERE kind = ? AND id >= ? ORDER BY id'),
    deleteRecord: db.prepare('DELETE FROM records WHERE kind = ? AND id = ?')
  }
}
