/**
 * Storage faults at start (issue 9 item 7), first on SqliteStorage, then through the real
 * `orchard relay` process as an operator meets them: a second relay on one file, a damaged
 * page, a 0-byte or foreign file, an unwritable file or directory. Each is refused at start
 * with exit code 1 and one clear line naming the file (no stack trace), and the file is
 * left as it was.
 */
import { createHash } from 'node:crypto'
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { RelayProvider, webSocketTransport } from '@orchard/client'
import { tempDir } from '@orchard/workspace/testing'
import { SqliteStorage, StorageError, ThreadedSqliteStorage } from '../../src/storage/index.js'
import { startRelay } from '../../../cli/test/harness/cli-process.js'
import { hasStackTrace, runRelayUntilExit } from './relay-cli.js'

const { dir: root, cleanup } = tempDir('orchard-startup-')
afterAll(cleanup)
// The read-only cases run the relay as an unprivileged user (root may write anything), who must reach the files.
chmodSync(root, 0o777)
let fileCount = 0
const freshPath = () => join(root, `relay-${++fileCount}.db`)
const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex')
const NOBODY = 65534
const asRoot = process.getuid?.() === 0

function openError(options: ConstructorParameters<typeof SqliteStorage>[0]): StorageError {
  try {
    const storage = new SqliteStorage(options)
    void storage.close()
  } catch (error) {
    expect(error).toBeInstanceOf(StorageError)
    return error as StorageError
  }
  throw new Error(`expected opening ${options.path} to fail`)
}

/**
 * A relay store made by the real relay: a workspace and `edits` separate updates from a
 * client. The relay is killed rather than stopped, so its unload compaction does not merge
 * the rows into one, and the WAL is then folded into the file so its pages are the file's.
 */
async function relayStore(edits: number): Promise<string> {
  const path = freshPath()
  const relay = await startRelay(['--data', path])
  const writer = new RelayProvider({ transport: webSocketTransport(relay.info.url), credential: relay.info.ownerToken, instanceId: 'w', docs: { workspace: new Y.Doc() } })
  await writer.whenSynced()
  const map = (writer.docs.workspace as Y.Doc).getMap<string>('m')
  for (let n = 0; n < edits; n++) {
    map.set(`k${n}`, 'x'.repeat(1000))
    // One durable frame per edit, so the store holds many rows over many pages.
    await writer.whenPersisted()
  }
  writer.destroy()
  await relay.stop('SIGKILL')
  const db = new Database(path)
  db.pragma('wal_checkpoint(TRUNCATE)')
  db.close()
  return path
}

/** Overwrites one leaf page of the stored updates (not the first) with noise, as a bad sector would. */
function damageDataPage(path: string): number {
  const { page, pageSize } = (() => {
    const db = new Database(path, { readonly: true })
    try {
      return {
        page: db.prepare("SELECT pageno FROM dbstat WHERE name = 'doc_updates' AND pagetype = 'leaf' ORDER BY pageno LIMIT 1 OFFSET 2").pluck().get() as number,
        pageSize: db.pragma('page_size', { simple: true }) as number
      }
    } finally {
      db.close()
    }
  })()
  expect(page).toBeGreaterThan(1)
  const file = readFileSync(path)
  file.fill(0xa5, (page - 1) * pageSize, page * pageSize)
  writeFileSync(path, file)
  return page
}

describe('SqliteStorage at start', () => {
  it('[STORE-SQL-9] a second storage on one file is refused as locked, naming the process; closing lets the next one in', async () => {
    const path = freshPath()
    const first = new SqliteStorage({ path })
    const error = openError({ path })
    expect(error.code).toBe('locked')
    expect(error.path).toBe(path)
    expect(error.message).toContain(path)
    expect(error.message).toContain(`process ${process.pid}`)
    expect(error.message).toContain(`${path}.lock`)
    expect(error.message).toMatch(/Stop that relay first, or give this one its own --data file/)
    // The threaded storage the CLI uses takes the same lock.
    expect(() => new ThreadedSqliteStorage({ path })).toThrow(expect.objectContaining({ code: 'locked' }) as Error)
    await first.close()
    const second = new ThreadedSqliteStorage({ path })
    expect(() => new SqliteStorage({ path })).toThrow(expect.objectContaining({ code: 'locked' }) as Error)
    await second.appendUpdates([{ docId: 'd', update: Uint8Array.of(1) }])
    await second.close()
  })

  it('[STORE-SQL-10] a damaged data page is refused at open as corrupt, naming the file and the check, and left unchanged', async () => {
    const path = freshPath()
    const storage = new SqliteStorage({ path })
    await storage.appendUpdates(Array.from({ length: 400 }, (_, i) => ({ docId: 'a', update: new Uint8Array(300).fill(i) })))
    await storage.close()
    damageDataPage(path)
    const before = sha(path)
    for (const startupCheck of ['quick', 'full'] as const) {
      const error = openError({ path, startupCheck })
      expect(error.code).toBe('corrupt')
      expect(error.path).toBe(path)
      expect(error.message).toContain(path)
      expect(error.message).toContain(startupCheck === 'quick' ? 'PRAGMA quick_check' : 'PRAGMA integrity_check')
      expect(error.message).toMatch(/did not start and wrote nothing.*backup.*\.recover/)
    }
    expect(sha(path)).toBe(before)
    // The lock was released with the refusal: a healthy file at the same path opens.
    await new SqliteStorage({ path: freshPath() }).close()
  })

  it('[STORE-SQL-11] a 0-byte file is refused as empty and stays 0 bytes; a new file appears whole, with no leftovers', async () => {
    const path = freshPath()
    writeFileSync(path, '')
    const error = openError({ path })
    expect(error.code).toBe('empty-file')
    expect(error.message).toContain(path)
    expect(error.message).toMatch(/0 bytes.*never leaves its store empty.*Restore it from a backup/)
    expect(statSync(path).size).toBe(0)
    expect(existsSync(`${path}-wal`)).toBe(false)

    const dir = join(root, 'fresh')
    mkdirSync(dir)
    const created = join(dir, 'relay.db')
    const storage = new SqliteStorage({ path: created })
    await storage.close()
    // Only the store and its lock: the temporary file it was built in is gone.
    expect(readdirSync(dir).sort()).toEqual(['relay.db', 'relay.db.lock'])
    expect(statSync(created).size).toBeGreaterThan(0)
  })
})

describe('the relay process at start', () => {
  it('[STORE-SQL-9] a second relay on the same --data exits 1 naming the file and the running relay; after kill -9 a relay starts at once', async () => {
    const path = freshPath()
    const first = await startRelay(['--data', path])
    try {
      const second = await runRelayUntilExit(['--data', path])
      expect(second.code).toBe(1)
      expect(second.stderr).toContain(path)
      expect(second.stderr).toContain(`process ${first.child.pid}`)
      expect(second.stderr).toMatch(/already running a relay on it/)
      expect(hasStackTrace(second.stderr)).toBe(false)
    } finally {
      await first.stop('SIGKILL')
    }
    // The lock died with the process: no stale lock to wait out or delete by hand.
    const third = await startRelay(['--data', path])
    expect(third.info.workspaceId).toBe(first.info.workspaceId)
    // A synced client first: it proves the relay serves the stored workspace, and that the
    // relay got past installing its SIGTERM handler (it prints its ready line just before).
    const reader = new RelayProvider({ transport: webSocketTransport(third.info.url), credential: first.info.ownerToken, instanceId: 'r', docs: { workspace: new Y.Doc() } })
    await reader.whenSynced()
    reader.destroy()
    expect(await third.stop()).toBe(0)
  }, 60_000)

  it('[STORE-SQL-10] a relay store with a damaged data page: the relay exits 1 at start with a corrupt message, not a crash at the first sync', async () => {
    const path = await relayStore(40)
    damageDataPage(path)
    const before = sha(path)
    const run = await runRelayUntilExit(['--data', path])
    expect(run.code).toBe(1)
    expect(run.stderr).toContain(`Relay storage at ${path} is damaged`)
    expect(run.stderr).toMatch(/quick_check/)
    expect(hasStackTrace(run.stderr)).toBe(false)
    expect(sha(path)).toBe(before)
  }, 60_000)

  it('[STORE-SQL-11] a 0-byte data file: the relay exits 1 and creates nothing (no new workspace, owner.json untouched)', async () => {
    const path = freshPath()
    writeFileSync(path, '')
    const run = await runRelayUntilExit(['--data', path])
    expect(run.code).toBe(1)
    expect(run.stderr).toContain(path)
    expect(run.stderr).toMatch(/empty \(0 bytes\)/)
    expect(hasStackTrace(run.stderr)).toBe(false)
    expect(statSync(path).size).toBe(0)
    expect(existsSync(`${path}.owner.json`)).toBe(false)
  }, 30_000)

  it("[STORE-SQL-3] a text file and another application's SQLite database: the relay exits 1 and leaves them unchanged", async () => {
    const text = freshPath()
    writeFileSync(text, 'shopping list\n- apples\n'.repeat(50))
    const foreign = freshPath()
    const db = new Database(foreign)
    db.exec('CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES (1)')
    db.close()
    for (const [path, expected] of [
      [text, /not a SQLite database/],
      [foreign, /not an Orchard relay store/]
    ] as const) {
      const before = sha(path)
      const run = await runRelayUntilExit(['--data', path])
      expect(run.code).toBe(1)
      expect(run.stderr).toContain(path)
      expect(run.stderr).toMatch(expected)
      expect(hasStackTrace(run.stderr)).toBe(false)
      expect(sha(path)).toBe(before)
    }
  }, 30_000)

  it.runIf(asRoot)('[STORE-SQL-12] an unwritable data file or directory: the relay (as an unprivileged user) exits 1 saying it cannot be written', async () => {
    const readOnlyFile = await relayStore(3)
    chmodSync(readOnlyFile, 0o444)
    // Its lock file stays writable, so what is refused is the store itself; owner.json is
    // the unprivileged user's own (the CLI reads it before it opens the store).
    chmodSync(`${readOnlyFile}.lock`, 0o666)
    if (existsSync(`${readOnlyFile}.owner.json`)) chownSync(`${readOnlyFile}.owner.json`, NOBODY, NOBODY)
    const before = sha(readOnlyFile)
    const fileRun = await runRelayUntilExit(['--data', readOnlyFile], { uid: NOBODY })
    expect(fileRun.code).toBe(1)
    expect(fileRun.stderr).toContain(`Cannot open relay storage at ${readOnlyFile}: it cannot be written`)
    expect(fileRun.stderr).toMatch(/does not start read-only/)
    expect(hasStackTrace(fileRun.stderr)).toBe(false)
    expect(sha(readOnlyFile)).toBe(before)

    const dir = join(root, 'read-only-dir')
    mkdirSync(dir)
    const inReadOnlyDir = join(dir, 'relay.db')
    await new SqliteStorage({ path: inReadOnlyDir }).close()
    chmodSync(inReadOnlyDir, 0o666)
    chmodSync(dir, 0o555)
    const dirRun = await runRelayUntilExit(['--data', inReadOnlyDir], { uid: NOBODY })
    expect(dirRun.code).toBe(1)
    expect(dirRun.stderr).toContain(inReadOnlyDir)
    expect(dirRun.stderr).toMatch(/cannot be (created or )?written/)
    expect(hasStackTrace(dirRun.stderr)).toBe(false)
    chmodSync(dir, 0o755)
  }, 60_000)
})
