/**
 * SqliteStorage on real files: both contract suites in both durability modes, then the
 * SQLite-only rules (STORE-SQL-*): file format, refusing files that are not ours, closing,
 * and surviving SIGKILL.
 */
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import { tempDir } from '@orchard/workspace/testing'
import { APPLICATION_ID, SCHEMA_VERSION, SqliteStorage, StorageError, type Durability } from '../../src/storage/index.js'
import { runDocStorageContract, runRecordStorageContract } from '../../src/storage/contract/index.js'
import { builtEnv, repoRoot } from '../../../../scripts/built-packages.js'

const { dir: root, cleanup } = tempDir('orchard-sqlite-')
afterAll(cleanup)
let fileCount = 0
const freshPath = () => join(root, `relay-${++fileCount}.db`)

/** A harness over one fresh file; reopen closes the current connection and opens the file again. */
function sqliteSetup(durability: Durability) {
  return async () => {
    const path = freshPath()
    let current = new SqliteStorage({ path, durability })
    return {
      storage: current,
      reopen: async () => {
        await current.close()
        current = new SqliteStorage({ path, durability })
        return current
      },
      teardown: () => current.close()
    }
  }
}

for (const durability of ['full', 'normal'] as const) {
  runDocStorageContract(`SqliteStorage (durability ${durability})`, sqliteSetup(durability))
  runRecordStorageContract(`SqliteStorage (durability ${durability})`, sqliteSetup(durability))
}

const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex')

/** Opens the file with a plain connection, runs `read`, and closes it again. */
function inspect<R>(path: string, read: (db: Database.Database) => R): R {
  const db = new Database(path)
  try {
    return read(db)
  } finally {
    db.close()
  }
}

function openError(options: ConstructorParameters<typeof SqliteStorage>[0]): StorageError {
  try {
    new SqliteStorage(options)
  } catch (error) {
    expect(error).toBeInstanceOf(StorageError)
    return error as StorageError
  }
  throw new Error(`expected opening ${options.path} to fail`)
}

describe('SqliteStorage', () => {
  it('[STORE-SQL-1] a new file gets the current schema, the Orchard application id and WAL mode; reopening changes nothing', async () => {
    const path = freshPath()
    const storage = new SqliteStorage({ path })
    expect(storage.status()).toEqual({ path, schemaVersion: SCHEMA_VERSION, journalMode: 'wal', synchronous: 'full', busyTimeoutMs: 5000 })
    await storage.appendUpdates([{ docId: 'a', update: Uint8Array.of(1) }])
    await storage.close()
    const header = (db: Database.Database) => ({
      version: db.pragma('user_version', { simple: true }),
      applicationId: db.pragma('application_id', { simple: true }),
      journalMode: db.pragma('journal_mode', { simple: true }),
      tables: db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name").pluck().all()
    })
    const before = inspect(path, header)
    expect(before).toEqual({ version: SCHEMA_VERSION, applicationId: APPLICATION_ID, journalMode: 'wal', tables: ['doc_seqs', 'doc_updates', 'records'] })
    const again = new SqliteStorage({ path, busyTimeoutMs: 250 })
    expect(again.status().busyTimeoutMs).toBe(250)
    expect(await again.loadDoc('a')).toEqual({ updates: [Uint8Array.of(1)], lastSeq: 1, bytes: 1 })
    await again.close()
    expect(inspect(path, header)).toEqual(before)
  })

  it("[STORE-SQL-2] durability 'full' (the default) and 'normal' set PRAGMA synchronous; anything else is refused", async () => {
    for (const [durability, synchronous] of [
      [undefined, 'full'],
      ['full', 'full'],
      ['normal', 'normal']
    ] as const) {
      const storage = new SqliteStorage({ path: freshPath(), durability })
      expect(storage.status().synchronous).toBe(synchronous)
      expect(storage.durability).toBe(synchronous)
      await storage.close()
    }
    expect(() => new SqliteStorage({ path: freshPath(), durability: 'off' as Durability })).toThrow(TypeError)
    expect(() => new SqliteStorage({ path: ':memory:' })).toThrow(/MemoryStorage/)
    expect(() => new SqliteStorage({ path: '' })).toThrow(TypeError)
    expect(() => new SqliteStorage({ path: freshPath(), busyTimeoutMs: -1 })).toThrow(TypeError)
  })

  it('[STORE-SQL-3] a file that is not a SQLite database is refused with a clear error and left unchanged', () => {
    const garbage = join(root, 'garbage.db')
    writeFileSync(garbage, 'these are not the pages you are looking for\n'.repeat(200))
    // A real SQLite header followed by noise: the damage is found in page 1.
    const badHeader = join(root, 'bad-header.db')
    const noise = Buffer.alloc(8192, 0x5a)
    noise.write('SQLite format 3\0')
    writeFileSync(badHeader, noise)
    for (const path of [garbage, badHeader]) {
      const before = sha(path)
      const error = openError({ path })
      expect(['not-a-database', 'corrupt']).toContain(error.code)
      expect(error.path).toBe(path)
      expect(error.message).toContain(path)
      expect(error.message).toMatch(/not a SQLite database|damaged/)
      expect(error.message).toMatch(/backup/)
      expect(sha(path)).toBe(before)
      expect(existsSync(`${path}-wal`)).toBe(false)
    }
  })

  it('[STORE-SQL-3] a missing directory, a directory and another application’s database are refused with a clear error', () => {
    const missing = openError({ path: join(root, 'no-such-dir', 'relay.db') })
    expect(missing.code).toBe('cannot-open')
    expect(missing.message).toMatch(/no-such-dir.*directory does not exist/)

    const directory = join(root, 'a-directory')
    mkdirSync(directory)
    const isDir = openError({ path: directory })
    expect(isDir.code).toBe('cannot-open')
    expect(isDir.message).toContain(directory)

    const foreign = freshPath()
    inspect(foreign, (db) => db.exec('CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES (1)'))
    const before = sha(foreign)
    const error = openError({ path: foreign })
    expect(error.code).toBe('foreign-database')
    expect(error.message).toContain(foreign)
    expect(error.message).toMatch(/not an Orchard relay store.*new file path/)
    expect(sha(foreign)).toBe(before)
  })

  it('[STORE-SQL-4] a file written by a newer schema is refused, naming both versions, and left unchanged', async () => {
    const path = freshPath()
    const storage = new SqliteStorage({ path })
    await storage.putRecord('k', 'a', 1)
    await storage.close()
    inspect(path, (db) => db.pragma(`user_version = ${SCHEMA_VERSION + 1}`))
    const before = sha(path)
    const error = openError({ path })
    expect(error.code).toBe('newer-schema')
    expect(error.message).toContain(path)
    expect(error.message).toContain(`schema version ${SCHEMA_VERSION + 1}`)
    expect(error.message).toContain(`up to ${SCHEMA_VERSION}`)
    expect(error.message).toMatch(/Upgrade this relay/)
    expect(sha(path)).toBe(before)
  })

  it('[STORE-SQL-6] checkpoint() empties the WAL; close() checkpoints, later calls reject as closed, and closing twice is fine', async () => {
    const path = freshPath()
    const storage = new SqliteStorage({ path })
    await storage.appendUpdates(Array.from({ length: 50 }, (_, i) => ({ docId: `d${i % 5}`, update: new Uint8Array(100).fill(i) })))
    expect(statSync(`${path}-wal`).size).toBeGreaterThan(0)
    expect(await storage.checkpoint()).toEqual({ busy: false })
    expect(statSync(`${path}-wal`).size).toBe(0)

    await storage.putRecord('k', 'a', 1)
    await storage.close()
    expect(!existsSync(`${path}-wal`) || statSync(`${path}-wal`).size === 0).toBe(true)
    await storage.close()
    const closed = [
      storage.loadDoc('d0'),
      storage.appendUpdates([{ docId: 'd0', update: Uint8Array.of(1) }]),
      storage.compactDoc('d0', Uint8Array.of(1), 1),
      storage.removeDoc('d0'),
      storage.getRecord('k', 'a'),
      storage.putRecord('k', 'a', 2),
      storage.listRecords('k'),
      storage.deleteRecord('k', 'a'),
      storage.updateRecord('k', 'a', () => 3),
      storage.checkpoint()
    ]
    for (const call of closed) await expect(call).rejects.toMatchObject({ name: 'StorageError', code: 'closed' })
    // Everything written before close() is in the main file alone.
    expect(inspect(path, (db) => db.prepare('SELECT count(*) FROM doc_updates').pluck().get())).toBe(50)
  })

  it('[STORE-SQL-7] damage found after opening surfaces as StorageError corrupt, naming the file', async () => {
    const path = freshPath()
    const storage = new SqliteStorage({ path })
    await storage.appendUpdates(Array.from({ length: 200 }, (_, i) => ({ docId: 'a', update: new Uint8Array(200).fill(i) })))
    await storage.close()
    const { rootPage, pageSize } = inspect(path, (db) => ({
      rootPage: db.prepare("SELECT rootpage FROM sqlite_schema WHERE name = 'doc_updates'").pluck().get() as number,
      pageSize: db.pragma('page_size', { simple: true }) as number
    }))
    const file = readFileSync(path)
    file.fill(0xa5, (rootPage - 1) * pageSize, rootPage * pageSize)
    writeFileSync(path, file)

    // Skip the start-up check (STORE-SQL-10) to reach damage the way a running relay meets it.
    const damaged = new SqliteStorage({ path, startupCheck: 'none' })
    await expect(damaged.loadDoc('a')).rejects.toMatchObject({ name: 'StorageError', code: 'corrupt', path })
    await expect(damaged.loadDoc('a')).rejects.toThrow(/damaged.*restore the file from a backup/)
    await damaged.close()
  })
})

// Plain Node on the relay's build (rebuilt before the tests when a source is newer).
const child = fileURLToPath(new URL('./fixtures/append-until-killed.mjs', import.meta.url))
const seed = Number(process.env.ORCHARD_SEED ?? 20260611)
/**
 * Kill rounds on one file, alternating full and normal durability: the default run keeps
 * one of each (the first, 65 steps with the default seed, lands past two compactions);
 * `pnpm test:extensive` (ORCHARD_EXTENSIVE=1) runs twelve.
 */
const KILL_ROUNDS = process.env.ORCHARD_EXTENSIVE === '1' ? 12 : 2

/**
 * Runs the child on `path`, SIGKILLs it once it has reported `killAfter` durable appends,
 * and returns the largest n it reported (reading stdout to the end, so a line written just
 * before the kill still counts).
 */
function runAndKill(path: string, round: number, durability: Durability, killAfter: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [child, path, String(round), durability], { cwd: repoRoot, env: builtEnv(), stdio: ['ignore', 'pipe', 'pipe'] })
    let durable = 0
    let stderr = ''
    const deadline = setTimeout(() => {
      proc.kill('SIGKILL')
      reject(new Error(`child reported only ${durable} durable appends in 20 s: ${stderr}`))
    }, 20_000)
    proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    createInterface({ input: proc.stdout }).on('line', (line) => {
      if (!line.startsWith('durable ')) return
      durable = Math.max(durable, Number(line.slice(8)))
      if (durable >= killAfter) proc.kill('SIGKILL')
    })
    proc.on('close', (_code, signal) => {
      clearTimeout(deadline)
      if (signal === 'SIGKILL') resolve(durable)
      else reject(new Error(`child exited on its own (${String(signal)}): ${stderr}`))
    })
  })
}

/** The labels ("round:n") a doc holds, expanding compacted snapshots (JSON lists). */
function labels(updates: readonly Uint8Array[]): string[] {
  const decoder = new TextDecoder()
  return updates.flatMap((u) => {
    const text = decoder.decode(u)
    return text.startsWith('[') ? (JSON.parse(text) as string[]) : [text.split(':').slice(0, 2).join(':')]
  })
}

describe('SqliteStorage under SIGKILL', () => {
  it(`[STORE-SQL-5] a process killed at random moments loses no resolved append and no part of a batch (seed ${seed})`, async () => {
    const path = freshPath()
    const kills = fc.sample(fc.integer({ min: 1, max: 120 }), { numRuns: KILL_ROUNDS, seed })
    const expected: string[] = []
    for (const [round, killAfter] of kills.entries()) {
      const durability: Durability = round % 2 === 0 ? 'full' : 'normal'
      const durable = await runAndKill(path, round, durability, killAfter)
      expect(durable, `round ${round} (${durability}) reported progress`).toBeGreaterThanOrEqual(killAfter)

      const storage = new SqliteStorage({ path })
      const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((docId) => storage.loadDoc(docId)))
      await storage.close()
      const stored = labels(a?.updates ?? [])
      // All or nothing: each batch wrote the same update to a, b and c in one transaction,
      // and c's compactions kept every label they absorbed.
      expect(labels(b?.updates ?? [])).toEqual(stored)
      expect(labels(c?.updates ?? [])).toEqual(stored)
      expect(a?.lastSeq).toBe(stored.length)
      // Every append the child saw resolve is there, in order; at most one more (committed
      // but killed before it could print) may follow.
      const thisRound = stored.slice(expected.length)
      for (let n = 1; n <= durable; n++) expected.push(`${round}:${n}`)
      expect(stored.slice(0, expected.length)).toEqual(expected)
      expect(thisRound.length - durable, `round ${round}: commits beyond the last reported one`).toBeLessThanOrEqual(1)
      if (thisRound.length > durable) expected.push(`${round}:${durable + 1}`)
      expect(inspect(path, (db) => db.pragma('integrity_check', { simple: true }))).toBe('ok')
    }
  }, 30_000 * KILL_ROUNDS)
})
