/**
 * The disk side of projects.json: a lock file so two processes never interleave a
 * read-merge-write (FILE-4), and an atomic write so a crash leaves the old file or the
 * new one, never a torn one (FILE-5).
 */
import { closeSync, copyFileSync, existsSync, fsyncSync, openSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs'
import { open, rename, unlink } from 'node:fs/promises'
import { dirname, basename, join } from 'node:path'

/** Reads the file, or returns undefined if it does not exist. Other errors throw. */
export function readTextIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
}

let tmpCounter = 0

/** FILE-5: temp file, fsync, rename over the target, fsync the directory. */
export async function writeAtomic(path: string, text: string): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${++tmpCounter}.tmp`)
  const handle = await open(tmp, 'w', 0o600)
  try {
    await handle.writeFile(text, 'utf8')
    await handle.sync()
  } finally {
    await handle.close()
  }
  try {
    await rename(tmp, path)
  } catch (error) {
    await unlink(tmp).catch(() => undefined)
    throw error
  }
  await syncDirectory(dirname(path))
}

async function syncDirectory(dir: string): Promise<void> {
  // Makes the rename itself durable. Some filesystems refuse fsync on a directory; the
  // rename is still atomic there, only its durability across power loss is weaker.
  try {
    const handle = await open(dir, 'r')
    try {
      await handle.sync()
    } finally {
      await handle.close()
    }
  } catch {
    /* see above */
  }
}

/**
 * FILE-8: a file Orchard could not read is copied aside before anything replaces it, so
 * nothing readable is ever lost. Returns the path of the copy.
 */
export function preserveAside(path: string, reason: string): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-')
  let target = `${path}.${reason}-${stamp}`
  for (let n = 1; existsSync(target); n++) target = `${path}.${reason}-${stamp}-${n}`
  copyFileSync(path, target)
  return target
}

export interface LockOptions {
  /** Give up after this long (ms). */
  timeoutMs?: number
  /** A lock older than this whose holder cannot be checked is broken (ms). */
  staleMs?: number
}

/**
 * FILE-4: an exclusive lock file beside the target (`<file>.lock`, holding the owner's
 * pid). A lock whose process is gone (a crash, a SIGKILL) is broken at once.
 */
export async function withFileLock<T>(path: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const lockPath = `${path}.lock`
  const deadline = Date.now() + (options.timeoutMs ?? 10_000)
  const staleMs = options.staleMs ?? 30_000
  const token = `${process.pid} ${Date.now()} ${Math.random().toString(36).slice(2)}`
  let wait = 2
  for (;;) {
    try {
      const fd = openSync(lockPath, 'wx', 0o600)
      try {
        writeFileSync(fd, token)
        fsyncSync(fd)
      } finally {
        closeSync(fd)
      }
      break
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      if (breakIfStale(lockPath, staleMs)) continue
      if (Date.now() > deadline) {
        throw new Error(
          `Could not lock ${path}: ${lockPath} has been held by another process for too long. ` +
            'If no other Pear is running, delete the .lock file.'
        )
      }
      await new Promise((resolve) => setTimeout(resolve, wait))
      wait = Math.min(wait * 2, 50)
    }
  }
  try {
    return await fn()
  } finally {
    try {
      if (readFileSync(lockPath, 'utf8') === token) unlinkSync(lockPath)
    } catch {
      /* already gone: someone judged it stale */
    }
  }
}

function breakIfStale(lockPath: string, staleMs: number): boolean {
  let holder: number
  let age: number
  try {
    holder = Number.parseInt(readFileSync(lockPath, 'utf8').split(' ')[0] ?? '', 10)
    age = Date.now() - statSync(lockPath).mtimeMs
  } catch {
    return true // vanished between our open and our read: try again
  }
  const alive = Number.isInteger(holder) && holder > 0 ? processAlive(holder) : age < staleMs
  if (alive && age < staleMs) return false
  if (alive && holder === process.pid) return false
  try {
    unlinkSync(lockPath)
  } catch {
    /* someone else broke it first */
  }
  return true
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}
