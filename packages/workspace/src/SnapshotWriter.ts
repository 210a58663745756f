/**
 * Debounced saving of one file (FILE-4, FILE-5). A save takes the lock, lets the owner
 * merge whatever another process wrote since we last looked, renders, and writes
 * atomically. `flush()` resolves once everything changed before the call is durable.
 * It knows nothing about Yjs: the owner supplies `merge` and `render`.
 */
import { statSync } from 'node:fs'
import { dirname } from 'node:path'
import { nodeDurableFs, readTextIfExists, withFileLock, writeAtomic, type DurableFs, type LockOptions } from './file-io.js'

export interface SnapshotWriterOptions {
  /** Called under the lock with the file's current text, if it differs from what we last saw. */
  merge: (diskText: string) => void
  /** Called under the lock after merge; returns the text to write. */
  render: () => string
  onError: (error: Error) => void
  onSaved?: () => void
  delayMs?: number
  /** Upper bound on how long a stream of changes can postpone a save. */
  maxDelayMs?: number
  /** The file-system steps of a durable write (tests watch or stop them). */
  fs?: DurableFs
  lock?: LockOptions
}

export class SnapshotWriter {
  private readonly path: string
  private readonly options: SnapshotWriterOptions
  private changeSeq = 0
  private savedSeq = 0
  private timer: NodeJS.Timeout | null = null
  private firstPendingAt = 0
  private running: Promise<void> | null = null
  private waiters: Array<{ seq: number; resolve: () => void; reject: (error: Error) => void }> = []
  private lastSeenText: string | undefined
  /** The file's identity right after our last write: unchanged means nobody else wrote. */
  private lastStat: string | null = null
  private closed = false

  constructor(path: string, options: SnapshotWriterOptions, initialText?: string) {
    this.path = path
    this.options = options
    this.lastSeenText = initialText
    if (initialText !== undefined) this.lastStat = statKey(path)
  }

  /**
   * FILE-12: if another process replaced the file since we last read or wrote it, merge
   * it now (synchronously, so the caller's answer includes it). A stat per call; the
   * file is read only when its identity changed. Safe while our own save runs: writes are
   * atomic renames, so this reads the file before or after it, and merging our own
   * output changes nothing.
   */
  checkDisk(): void {
    if (this.closed) return
    const now = statKey(this.path)
    if (now === null || now === this.lastStat) return
    const disk = readTextIfExists(this.path)
    this.lastStat = now
    if (disk === undefined || disk === this.lastSeenText) return
    this.lastSeenText = disk
    this.options.merge(disk)
  }

  /** Notes that something changed; a save follows after the debounce delay. */
  markDirty(): void {
    if (this.closed) return
    this.changeSeq++
    this.schedule()
  }

  private schedule(): void {
    if (this.firstPendingAt === 0) this.firstPendingAt = Date.now()
    const delay = this.options.delayMs ?? 50
    const maxDelay = this.options.maxDelayMs ?? 1000
    const wait = Math.max(0, Math.min(delay, this.firstPendingAt + maxDelay - Date.now()))
    if (this.timer) clearTimeout(this.timer)
    this.timer = setTimeout(() => this.kick(), wait)
    this.timer.unref?.()
  }

  get dirty(): boolean {
    return this.savedSeq < this.changeSeq
  }

  /** Resolves once every change made before this call is on disk (rejects if saving fails). */
  flush(): Promise<void> {
    const seq = this.changeSeq
    if (this.savedSeq >= seq) return this.running ?? Promise.resolve()
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ seq, resolve, reject }))
    this.kick()
    return done
  }

  /** Saves what is pending, then stops accepting changes. */
  async close(): Promise<void> {
    if (this.dirty) await this.flush()
    else if (this.running) await this.running
    this.closed = true
    if (this.timer) clearTimeout(this.timer)
  }

  /** Remembers text we read ourselves, so the next save does not merge it back in. */
  noteSeen(text: string): void {
    this.lastSeenText = text
  }

  private kick(): void {
    if (this.timer) {
      clearTimeout(this.timer)
      this.timer = null
    }
    if (this.running || !this.dirty) return
    this.running = this.saveOnce().finally(() => {
      this.running = null
      // Changes that arrived while we were writing: at once if someone waits, else debounced.
      if (this.dirty && this.waiters.length > 0) this.kick()
      else if (this.dirty && !this.closed) this.schedule()
    })
  }

  private async saveOnce(): Promise<void> {
    let seq = this.changeSeq
    this.firstPendingAt = 0
    try {
      const fs = this.options.fs ?? nodeDurableFs
      // The lock lives beside the file, so its folder must exist first (FILE-13).
      await fs.mkdir(dirname(this.path))
      await withFileLock(this.path, async () => {
        // Always read under the lock: a stat cannot prove nobody else wrote. File times
        // tick coarsely (a few ms), a renamed-in temp file can reuse the inode number just
        // freed, and two processes' saves are often the same size, so two different files
        // can share one stat key and an edit would be lost (FILE-4). The save writes the
        // whole file anyway; reading it first costs about as much again.
        const disk = readTextIfExists(this.path)
        if (disk !== undefined && disk !== this.lastSeenText) {
          this.lastSeenText = disk
          this.options.merge(disk)
        }
        // Everything changed up to here, the merge included, is in this render.
        seq = this.changeSeq
        const text = this.options.render()
        await writeAtomic(this.path, text, fs)
        this.lastSeenText = text
        this.lastStat = statKey(this.path)
      }, this.options.lock)
      this.savedSeq = Math.max(this.savedSeq, seq)
      this.options.onSaved?.()
      this.settle(null)
    } catch (error) {
      const err = error instanceof Error ? error : new Error(String(error))
      this.options.onError(err)
      this.settle(err)
    }
  }

  private settle(error: Error | null): void {
    const remaining: typeof this.waiters = []
    for (const waiter of this.waiters) {
      if (error) waiter.reject(error)
      else if (waiter.seq <= this.savedSeq) waiter.resolve()
      else remaining.push(waiter)
    }
    this.waiters = remaining
  }
}

function statKey(path: string): string | null {
  try {
    const stat = statSync(path, { bigint: true })
    return `${stat.ino}:${stat.size}:${stat.mtimeNs}`
  } catch {
    return null
  }
}
