/**
 * file-io.ts on its own: what a durable write leaves behind when a step fails, the copy a
 * problem file gets before anything replaces it, and the lock's rules, with the real file
 * system in a temp folder. The order of the durable steps is in src/file-io.test.ts; the
 * lock across real processes in file-lock.integration.test.ts.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { nodeDurableFs, preserveAside, readTextIfExists, withFileLock, writeAtomic, type DurableFs, type DurableHandle } from '../src/file-io.js'
import { tempDir } from '../src/testing/index.js'

const cleanups: Array<() => void | Promise<void>> = []
afterEach(async () => {
  vi.useRealTimers()
  for (const fn of cleanups.splice(0).reverse()) await fn()
})

function folder(): string {
  const { dir, cleanup } = tempDir('orchard-fileio-')
  cleanups.push(cleanup)
  return dir
}

/** The real file system with some steps replaced; every close is counted. */
function fsWith(overrides: { sync?: (path: string) => Promise<void>; rename?: DurableFs['rename']; openDir?: () => Promise<DurableHandle> }, closed: string[] = []): DurableFs {
  return {
    ...nodeDurableFs,
    open: async (path, flags) => {
      if (flags === 'r' && overrides.openDir) return overrides.openDir()
      const handle = await nodeDurableFs.open(path, flags)
      return {
        writeFile: (text) => handle.writeFile(text),
        sync: overrides.sync ? () => overrides.sync!(path) : () => handle.sync(),
        close: async () => {
          closed.push(flags)
          await handle.close()
        }
      }
    },
    ...(overrides.rename ? { rename: overrides.rename } : {})
  }
}

const tempFiles = (dir: string) => readdirSync(dir).filter((name) => name.endsWith('.tmp'))

describe('reading', () => {
  it('[FILE-13] a file that does not exist reads as undefined; any other failure is thrown', () => {
    const dir = folder()
    expect(readTextIfExists(join(dir, 'missing.json'))).toBeUndefined()
    writeFileSync(join(dir, 'projects.json'), '{"a":1}')
    expect(readTextIfExists(join(dir, 'projects.json'))).toBe('{"a":1}')
    // A folder where the file should be is a real problem, not "no file yet".
    expect(() => readTextIfExists(dir)).toThrow(expect.objectContaining({ code: 'EISDIR' }))
  })
})

describe('a durable write that fails on the way', () => {
  it('[FILE-5] a write lands whole and replaces the old file, with no temp file left', async () => {
    const dir = folder()
    const file = join(dir, 'projects.json')
    writeFileSync(file, 'old')
    await writeAtomic(file, 'new ✓')
    expect(readFileSync(file, 'utf8')).toBe('new ✓')
    expect(readdirSync(dir)).toEqual(['projects.json'])
  })

  it('[FILE-13] the folder of the file, with its parents, is created by the first write', async () => {
    const file = join(folder(), 'config', 'Pear', 'projects.json')
    await writeAtomic(file, '{}')
    expect(readFileSync(file, 'utf8')).toBe('{}')
  })

  it('[FILE-16] projects.json is written readable by its owner only, since it holds the relay key', async () => {
    const file = join(folder(), 'projects.json')
    await writeAtomic(file, '{}')
    expect(statSync(file).mode & 0o777).toBe(0o600)
  })

  it('[FILE-5] a failed fsync of the temp file is an error, the old file stays, and the temp file is closed', async () => {
    const dir = folder()
    const file = join(dir, 'projects.json')
    writeFileSync(file, 'old')
    const closed: string[] = []
    const fs = fsWith({ sync: () => Promise.reject(new Error('EIO: disk full')) }, closed)
    await expect(writeAtomic(file, 'new', fs)).rejects.toThrow('EIO: disk full')
    expect(readFileSync(file, 'utf8')).toBe('old')
    expect(closed).toEqual(['w'])
  })

  it('[FILE-5] a failed rename is an error, the old file stays, and the temp file is removed', async () => {
    const dir = folder()
    const file = join(dir, 'projects.json')
    writeFileSync(file, 'old')
    const fs = fsWith({ rename: () => Promise.reject(new Error('EXDEV: cross-device link')) })
    await expect(writeAtomic(file, 'new', fs)).rejects.toThrow('EXDEV: cross-device link')
    expect(readFileSync(file, 'utf8')).toBe('old')
    expect(tempFiles(dir)).toEqual([])
  })

  it('[FILE-5] a folder that cannot be opened or fsynced still gets the write: the rename is atomic without it', async () => {
    const dir = folder()
    const file = join(dir, 'projects.json')
    await writeAtomic(file, 'a', fsWith({ openDir: () => Promise.reject(new Error('EISDIR: not supported')) }))
    expect(readFileSync(file, 'utf8')).toBe('a')
    const closed: string[] = []
    const refusing: DurableHandle = {
      writeFile: () => Promise.resolve(),
      sync: () => Promise.reject(new Error('EINVAL: fsync on a directory')),
      close: () => {
        closed.push('dir')
        return Promise.reject(new Error('EBADF'))
      }
    }
    await writeAtomic(file, 'b', fsWith({ openDir: () => Promise.resolve(refusing) }))
    expect(readFileSync(file, 'utf8')).toBe('b')
    // The folder's handle is closed even though its fsync failed (and a failing close is not an error).
    expect(closed).toEqual(['dir'])
    expect(tempFiles(dir)).toEqual([])
  })

  it('[FILE-4] two writes at once from one process use their own temp files and both land whole', async () => {
    const dir = folder()
    const file = join(dir, 'projects.json')
    const seen: string[] = []
    const fs: DurableFs = { ...nodeDurableFs, open: (path, flags) => (seen.push(path), nodeDurableFs.open(path, flags)) }
    await Promise.all([writeAtomic(file, 'x'.repeat(10_000), fs), writeAtomic(file, 'y'.repeat(10_000), fs)])
    const temps = seen.filter((path) => path.endsWith('.tmp'))
    expect(new Set(temps).size).toBe(2)
    for (const temp of temps) expect(temp).toMatch(new RegExp(`^${dir}/\\.projects\\.json\\.${process.pid}\\.\\d+\\.tmp$`))
    expect(['x'.repeat(10_000), 'y'.repeat(10_000)]).toContain(readFileSync(file, 'utf8'))
  })
})

describe('copying a problem file aside', () => {
  it('[FILE-8] the copy is named after the file, the reason and the time, and holds the same bytes', () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(new Date('2026-12-04T10:20:30.456Z'))
    const dir = folder()
    const file = join(dir, 'projects.json')
    writeFileSync(file, '{"torn": ')
    const copy = preserveAside(file, 'corrupt')
    expect(copy).toBe(join(dir, 'projects.json.corrupt-2026-12-04T10-20-30-456Z'))
    expect(readFileSync(copy, 'utf8')).toBe('{"torn": ')
    expect(readFileSync(file, 'utf8')).toBe('{"torn": ')
  })

  it('[FILE-14] the same file copied again finds its earlier copy instead of adding one', () => {
    const dir = folder()
    const file = join(dir, 'projects.json')
    writeFileSync(file, 'broken')
    const first = preserveAside(file, 'corrupt')
    expect(preserveAside(file, 'corrupt')).toBe(first)
    expect(readdirSync(dir).sort()).toEqual([first.slice(dir.length + 1), 'projects.json'].sort())
  })

  it('[FILE-8] a different problem, or the same reason with other bytes, gets its own copy; none is overwritten', () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(new Date('2026-12-04T10:20:30.456Z'))
    const dir = folder()
    const file = join(dir, 'projects.json')
    writeFileSync(file, 'one')
    const first = preserveAside(file, 'corrupt')
    // Same length, other bytes, the same millisecond: a second name, the first copy untouched.
    writeFileSync(file, 'two')
    const second = preserveAside(file, 'corrupt')
    expect(second).toBe(`${first}-1`)
    writeFileSync(file, 'three')
    expect(preserveAside(file, 'corrupt')).toBe(`${first}-2`)
    expect(preserveAside(file, 'invalid')).toBe(join(dir, 'projects.json.invalid-2026-12-04T10-20-30-456Z'))
    expect(readFileSync(first, 'utf8')).toBe('one')
    expect(readFileSync(second, 'utf8')).toBe('two')
    // A copy for another file in the folder is not taken for this one's.
    const other = join(dir, 'other.json')
    writeFileSync(other, 'three')
    expect(preserveAside(other, 'corrupt')).toBe(join(dir, 'other.json.corrupt-2026-12-04T10-20-30-456Z'))
  })

  it('[FILE-8] a folder named like a copy is skipped, not taken for one', () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(new Date('2026-12-04T10:20:30.456Z'))
    const dir = folder()
    const file = join(dir, 'projects.json')
    writeFileSync(file, 'x')
    mkdirSync(join(dir, 'projects.json.corrupt-old'))
    expect(existsSync(preserveAside(file, 'corrupt'))).toBe(true)
    expect(preserveAside(file, 'corrupt')).toBe(join(dir, 'projects.json.corrupt-2026-12-04T10-20-30-456Z'))
  })
})

describe('the lock', () => {
  it('[FILE-4] the lock is <file>.lock, held while the save runs, gone after, even for a file not yet written', async () => {
    const file = join(folder(), 'projects.json')
    const result = await withFileLock(file, async () => {
      expect(existsSync(`${file}.lock`)).toBe(true)
      expect(existsSync(file)).toBe(false)
      return 42
    })
    expect(result).toBe(42)
    expect(existsSync(`${file}.lock`)).toBe(false)
  })

  it('[FILE-4] a save that fails releases the lock and its error reaches the caller', async () => {
    const file = join(folder(), 'projects.json')
    await expect(withFileLock(file, () => Promise.reject(new Error('render failed')))).rejects.toThrow('render failed')
    expect(existsSync(`${file}.lock`)).toBe(false)
  })

  it('[FILE-4] a live holder is waited for: the next save runs once it lets go, never alongside it', async () => {
    const file = join(folder(), 'projects.json')
    const order: string[] = []
    let letGo!: () => void
    const holding = new Promise<void>((resolve) => (letGo = resolve))
    let entered!: () => void
    const inside = new Promise<void>((resolve) => (entered = resolve))
    const first = withFileLock(file, async () => {
      order.push('first in')
      entered()
      await holding
      order.push('first out')
    })
    await inside
    const second = withFileLock(file, async () => void order.push('second in'))
    // A third save, started later and given up after its short wait, proves the lock was
    // being polled meanwhile: had the second not waited, it would have run by now.
    await expect(withFileLock(file, async () => void order.push('third in'), { timeoutMs: 300 })).rejects.toThrow('Could not lock')
    order.push('third refused')
    letGo()
    await Promise.all([first, second])
    expect(order).toEqual(['first in', 'third refused', 'first out', 'second in'])
  })

  it('[FILE-4] a lock held past the wait is refused with what happened and what to do; nothing runs', async () => {
    const file = join(folder(), 'projects.json')
    let letGo!: () => void
    const holding = new Promise<void>((resolve) => (letGo = resolve))
    let entered!: () => void
    const inside = new Promise<void>((resolve) => (entered = resolve))
    const holder = withFileLock(file, async () => {
      entered()
      await holding
    })
    await inside
    let ran = false
    await expect(withFileLock(file, async () => void (ran = true), { timeoutMs: 1_000 })).rejects.toThrow(
      `Could not lock ${file}: another process has held ${file}.lock for about 1 s and is still alive. Close the other Pear or wait for it to finish saving; nothing was written.`
    )
    expect(ran).toBe(false)
    letGo()
    await holder
  })

  it('[FILE-4] a lock not refreshed for 10 s (the default stale time) is broken; a younger one is waited for', async () => {
    const file = join(folder(), 'projects.json')
    mkdirSync(`${file}.lock`)
    const age = (ms: number) => {
      const then = new Date(Date.now() - ms)
      utimesSync(`${file}.lock`, then, then)
    }
    age(6_000)
    await expect(withFileLock(file, async () => 'ran', { timeoutMs: 500 })).rejects.toThrow(`Could not lock ${file}`)
    age(11_000)
    await expect(withFileLock(file, async () => 'ran', { timeoutMs: 500 })).resolves.toBe('ran')
    // With a shorter stale time, the 6 s old lock is a dead process's.
    mkdirSync(`${file}.lock`)
    age(6_000)
    await expect(withFileLock(file, async () => 'ran', { timeoutMs: 500, staleMs: 5_000 })).resolves.toBe('ran')
  })

  it('[FILE-4] a lock lost while saving fails that save with why and that it will be retried', async () => {
    const file = join(folder(), 'projects.json')
    const lockfile = (await import('proper-lockfile')).default
    const lock = vi.spyOn(lockfile, 'lock')
    cleanups.push(() => lock.mockRestore())
    await expect(
      withFileLock(file, async () => {
        // What proper-lockfile does when it finds the lock gone or taken at a refresh.
        const options = lock.mock.calls[0]![1]!
        options.onCompromised!(new Error('Unable to update lock within the stale threshold'))
        return 'written'
      })
    ).rejects.toThrow(`The lock on ${file} was lost while saving (Unable to update lock within the stale threshold); the save will be retried.`)
  })

  it('[FILE-4] a lock that cannot be made for another reason is that error, not "held by another process"', async () => {
    const dir = folder()
    // The folder does not exist, so the lock directory cannot be created in it.
    const file = join(dir, 'missing', 'projects.json')
    await expect(withFileLock(file, async () => 'ran', { timeoutMs: 300 })).rejects.toThrow(expect.objectContaining({ code: 'ENOENT' }))
  })
})
