/**
 * The disk side of projects.json: a lock so two processes never interleave a
 * read-merge-write (FILE-4), and an atomic write so a crash leaves the old file or the
 * new one, never a torn one (FILE-5). Every step that makes a write durable goes through
 * a small file-system seam, so a test can see that each write is synced before it is
 * reported durable, and a crash test can stop a process between the steps.
 */
import { copyFileSync, existsSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { mkdir, open, rename, unlink } from 'node:fs/promises'
import { dirname, basename, join } from 'node:path'
import lockfile from 'proper-lockfile'

/** Reads the file, or returns undefined if it does not exist. Other errors throw. */
export function readTextIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
}

/** An open file as the durable write needs it. */
export interface DurableHandle {
  writeFile(text: string): Promise<void>
  /** fsync: returns once the data is on the disk, not just in the page cache. */
  sync(): Promise<void>
  close(): Promise<void>
}

/** The file-system steps of a durable write; tests replace it to watch or stop them. */
export interface DurableFs {
  /** Creates a folder and its parents (Pear creates its config folder too). */
  mkdir(path: string): Promise<void>
  /** Opens a file for writing (`'w'`, mode 0600) or a directory for fsync (`'r'`). */
  open(path: string, flags: 'w' | 'r'): Promise<DurableHandle>
  rename(from: string, to: string): Promise<void>
  unlink(path: string): Promise<void>
}

/** The real file system (node:fs/promises). */
export const nodeDurableFs: DurableFs = {
  mkdir: async (path) => {
    await mkdir(path, { recursive: true })
  },
  open: async (path, flags) => {
    const handle = await open(path, flags, 0o600)
    return {
      writeFile: (text) => handle.writeFile(text, 'utf8'),
      sync: () => handle.sync(),
      close: () => handle.close()
    }
  },
  rename: (from, to) => rename(from, to),
  unlink: (path) => unlink(path)
}

let tmpCounter = 0

/**
 * FILE-5: temp file, fsync, rename over the target, fsync the directory. Creates the
 * folder first if it is missing (a first run before Pear ever made its config folder).
 */
export async function writeAtomic(path: string, text: string, fs: DurableFs = nodeDurableFs): Promise<void> {
  const dir = dirname(path)
  await fs.mkdir(dir)
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${++tmpCounter}.tmp`)
  const handle = await fs.open(tmp, 'w')
  try {
    await handle.writeFile(text)
    // Without this the rename can reach the disk before the data: a power cut then
    // leaves an empty or partial projects.json in place of the old one.
    await handle.sync()
  } finally {
    await handle.close()
  }
  try {
    await fs.rename(tmp, path)
  } catch (error) {
    await fs.unlink(tmp).catch(() => undefined)
    throw error
  }
  await syncDirectory(dir, fs)
}

async function syncDirectory(dir: string, fs: DurableFs): Promise<void> {
  // Makes the rename itself durable. Some filesystems refuse fsync on a directory; the
  // rename is still atomic there, only its durability across power loss is weaker.
  let handle: DurableHandle
  try {
    handle = await fs.open(dir, 'r')
  } catch {
    return
  }
  try {
    await handle.sync()
  } catch {
    /* see above */
  } finally {
    await handle.close().catch(() => undefined)
  }
}

/**
 * FILE-8: a file Orchard could not read is copied aside before anything replaces it, so
 * nothing readable is ever lost. Returns the path of the copy. Opening the same file
 * again (nothing rewrote it: FILE-14) finds the copy it made before instead of adding one.
 */
export function preserveAside(path: string, reason: string): string {
  const bytes = readFileSync(path)
  const prefix = `${basename(path)}.${reason}-`
  for (const name of readdirSync(dirname(path))) {
    if (!name.startsWith(prefix)) continue
    const existing = join(dirname(path), name)
    try {
      if (statSync(existing).size === bytes.length && readFileSync(existing).equals(bytes)) return existing
    } catch {
      /* vanished meanwhile: not a copy we can count on */
    }
  }
  const stamp = new Date().toISOString().replace(/[:.]/g, '-')
  let target = `${path}.${reason}-${stamp}`
  for (let n = 1; existsSync(target); n++) target = `${path}.${reason}-${stamp}-${n}`
  copyFileSync(path, target)
  return target
}

export interface LockOptions {
  /**
   * A lock not refreshed for this long is stale and broken (ms, at least 2000). A live
   * holder refreshes it every stale/2, so a live holder's lock is never taken.
   */
  staleMs?: number
  /** How long to wait for another process's lock before giving up (about, ms). */
  timeoutMs?: number
}

/**
 * FILE-4: an exclusive lock beside the target (`<file>.lock`, a directory kept fresh by
 * its holder; proper-lockfile). A lock whose holder died (a crash, a SIGKILL) stops being
 * refreshed and is broken once stale; a live holder's lock is waited for, never taken.
 */
export async function withFileLock<T>(path: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 20_000
  let compromised: Error | null = null
  let release: () => Promise<void>
  try {
    release = await lockfile.lock(path, {
      lockfilePath: `${path}.lock`,
      // The file may not exist yet (first save), and realpath would fail on it.
      realpath: false,
      stale: options.staleMs ?? 10_000,
      retries: { retries: Math.ceil(timeoutMs / 100), factor: 1.2, minTimeout: 5, maxTimeout: 100 },
      // The default throws from a timer and kills the process; a save reports it instead.
      onCompromised: (error) => {
        compromised = error
      }
    })
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') throw error
    throw new Error(
      `Could not lock ${path}: another process has held ${path}.lock for about ${Math.round(timeoutMs / 1000)} s and is still alive. ` +
        'Close the other Pear or wait for it to finish saving; nothing was written.'
    )
  }
  try {
    const result = await fn()
    if (compromised) throw new Error(`The lock on ${path} was lost while saving (${(compromised as Error).message}); the save will be retried.`)
    return result
  } finally {
    await release().catch(() => undefined)
  }
}
