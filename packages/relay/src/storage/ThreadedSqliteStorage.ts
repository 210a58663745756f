/**
 * SQLite storage whose doc writes happen on a worker thread (STORE-SQL-8): appends,
 * compactions and removals go to the worker's own connection, so an fsync never blocks
 * the relay's event loop, while reads and the rare record writes (members, invites,
 * epochs) stay on this thread's connection. With the update pipeline's group commit,
 * whatever arrives during one append's fsync goes out as the next transaction. Same
 * contract as SqliteStorage; the relay CLI uses it.
 */
import { Worker } from 'node:worker_threads'
import { StorageError } from './errors.js'
import { SqliteStorage, type SqliteStorageOptions } from './SqliteStorage.js'
import type { WriterReply, WriterRequest } from './sqlite-writer-thread.js'
import type { RelayStorage, StoredDoc } from './types.js'
import { checkBytes, checkEntries, checkKey } from './validate.js'

type Outgoing = WriterRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never

export class ThreadedSqliteStorage implements RelayStorage {
  readonly path: string
  private readonly main: SqliteStorage
  private readonly worker: Worker
  private readonly ready: Promise<void>
  private readonly waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>()
  private nextId = 1
  private closed = false
  private broken: Error | null = null
  private closing = false
  /** Called once if the writer thread dies: the relay can no longer store anything. */
  onFatal: ((error: Error) => void) | null = null

  /** Opens (and migrates) the file on this thread first, so errors surface here, then starts the writer. */
  constructor(options: SqliteStorageOptions) {
    this.main = new SqliteStorage(options)
    this.path = this.main.path
    this.worker = new Worker(new URL('./sqlite-writer.worker.mjs', import.meta.url), {
      workerData: { path: this.main.path, durability: this.main.durability, busyTimeoutMs: options.busyTimeoutMs ?? 5000 },
      // The worker sets up its own loader; the process's --import flags (a profiler, a .ts
      // preload) are not for it and could keep it from starting at all.
      execArgv: []
    })
    this.ready = new Promise((resolve, reject) => this.waiting.set(0, { resolve: () => resolve(), reject }))
    this.worker.on('message', (reply: WriterReply) => {
      const entry = this.waiting.get(reply.id)
      if (!entry) return
      this.waiting.delete(reply.id)
      // An idle writer does not keep the process alive; one with work in flight does.
      if (this.waiting.size === 0) this.worker.unref()
      if (reply.ok) entry.resolve(reply.result)
      else entry.reject(this.revive(reply))
    })
    this.worker.on('error', (error) => this.fail(error))
    this.worker.on('exit', (code) => {
      if (!this.closed && !this.closing) this.fail(new Error(`The SQLite writer thread for ${this.path} stopped (exit ${code}); restart the relay.`))
    })
  }

  loadDoc(docId: string): Promise<StoredDoc | undefined> {
    return this.main.loadDoc(docId)
  }

  async appendUpdates(entries: ReadonlyArray<{ docId: string; update: Uint8Array }>): Promise<number[]> {
    checkEntries(entries)
    if (entries.length === 0) return []
    return (await this.send({ op: 'append', entries: entries.map(({ docId, update }) => ({ docId, update })) })) as number[]
  }

  async compactDoc(docId: string, merged: Uint8Array, throughSeq: number): Promise<void> {
    checkKey('compactDoc: docId', docId)
    checkBytes(`compactDoc(${JSON.stringify(docId)}): merged`, merged)
    await this.send({ op: 'compact', docId, merged, throughSeq })
  }

  async removeDoc(docId: string): Promise<void> {
    checkKey('removeDoc: docId', docId)
    await this.send({ op: 'remove', docId })
  }

  getRecord<T>(kind: string, id: string): Promise<T | undefined> {
    return this.main.getRecord<T>(kind, id)
  }

  putRecord<T>(kind: string, id: string, value: T): Promise<void> {
    return this.main.putRecord(kind, id, value)
  }

  listRecords<T>(kind: string, idPrefix?: string): Promise<Array<{ id: string; value: T }>> {
    return this.main.listRecords<T>(kind, idPrefix)
  }

  deleteRecord(kind: string, id: string): Promise<void> {
    return this.main.deleteRecord(kind, id)
  }

  updateRecord<T>(kind: string, id: string, fn: (current: T | undefined) => T | undefined): Promise<T | undefined> {
    return this.main.updateRecord(kind, id, fn)
  }

  async close(): Promise<void> {
    if (this.closed || this.closing) return
    this.closing = true
    await this.ready.catch(() => undefined)
    await this.send({ op: 'close' }).catch(() => undefined)
    this.closed = true
    await this.worker.terminate()
    await this.main.close()
  }

  private async send(request: Outgoing): Promise<unknown> {
    if (this.closed) throw new StorageError('closed', `ThreadedSqliteStorage for ${this.path} is closed; open a new one`, this.path)
    if (this.broken) throw this.broken
    await this.ready
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject })
      this.worker.ref()
      this.worker.postMessage({ ...request, id } as WriterRequest)
    })
  }

  /** Errors cross the thread as data; give them back the class callers check for. */
  private revive(reply: Extract<WriterReply, { ok: false }>): Error {
    if (reply.name === 'StorageError' && reply.code) return new StorageError(reply.code as StorageError['code'], reply.message, this.path)
    if (reply.name === 'RangeError') return new RangeError(reply.message)
    if (reply.name === 'TypeError') return new TypeError(reply.message)
    return Object.assign(new Error(reply.message), { name: reply.name })
  }

  /**
   * STORE-SQL-8: a writer thread that dies fails every pending and later write at once
   * (nothing is acknowledged that was not stored) and tells the owner, who should stop.
   */
  private fail(error: Error): void {
    if (!this.broken) {
      this.broken = error
      this.onFatal?.(error)
    }
    for (const [id, entry] of this.waiting) {
      this.waiting.delete(id)
      entry.reject(error)
    }
  }
}
