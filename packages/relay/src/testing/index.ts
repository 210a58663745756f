/**
 * Test harness: a real relay (HTTP + WebSocket on an ephemeral loopback port, SQLite in a
 * temp dir) that owns its teardown, a deadline-bound wait, and the storage contract suites.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { RelayLimits } from '../limits.js'
import { RelayCore, type RelayCoreOptions } from '../RelayCore.js'
import { RelayServer } from '../server/RelayServer.js'
import { MemoryStorage } from '../storage/MemoryStorage.js'
import { SqliteStorage } from '../storage/SqliteStorage.js'
import type { RelayStorage } from '../storage/types.js'

export interface TestRelay {
  core: RelayCore
  server: RelayServer
  url: string
  dataDir: string
  dbPath: string
  workspaceId: string
  ownerCredential: string
  /** Stops the relay (gracefully) but keeps its data, for restart tests. */
  stop(): Promise<void>
  /** Stops the relay and deletes its data. */
  close(): Promise<void>
}

export interface TestRelayOptions {
  storage?: 'sqlite' | 'memory'
  limits?: Partial<RelayLimits>
  dataDir?: string
  hooks?: RelayCoreOptions['hooks']
  quiet?: boolean
  /** The relay's clock (invite expiry, leases): tests step it rather than sleep. */
  now?: () => number
}

export async function startTestRelay(options: TestRelayOptions = {}): Promise<TestRelay> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'orchard-relay-'))
  const dbPath = join(dataDir, 'orchard.db')
  const storage: RelayStorage = options.storage === 'memory' ? new MemoryStorage() : new SqliteStorage({ path: dbPath })
  const core = new RelayCore({
    storage,
    limits: { unloadAfterMs: 200, ...options.limits },
    ...(options.hooks ? { hooks: options.hooks } : {}),
    ...(options.now ? { now: options.now } : {}),
    logger: options.quiet === false ? undefined : { info: () => {}, error: (m) => (process.env.ORCHARD_DEBUG ? console.error(m) : undefined) }
  })
  const server = new RelayServer(core, { port: 0 })
  const url = await server.listen()
  // A restart on the same data dir finds its owner in owner.json, as the CLI does.
  const ownerFile = join(dataDir, 'owner.json')
  let workspaceId: string
  let ownerCredential: string
  if (existsSync(ownerFile)) {
    ;({ workspaceId, ownerCredential } = JSON.parse(readFileSync(ownerFile, 'utf8')) as { workspaceId: string; ownerCredential: string })
  } else {
    const created = await core.createWorkspace('Test workspace', 'Owner')
    workspaceId = created.workspace.id
    ownerCredential = created.credential
    writeFileSync(ownerFile, JSON.stringify({ workspaceId, ownerCredential }))
  }
  let stopped = false
  const stop = async () => {
    if (stopped) return
    stopped = true
    await server.close()
  }
  return {
    core,
    server,
    url,
    dataDir,
    dbPath,
    workspaceId,
    ownerCredential,
    stop,
    close: async () => {
      await stop()
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true })
    }
  }
}

/** Waits for a condition, polling, with a deadline (no bare sleeps in tests). */
export async function eventually<T>(
  check: () => T | Promise<T>,
  { timeoutMs = 5_000, intervalMs = 10, what = 'condition' } = {}
): Promise<Exclude<T, false | null | undefined>> {
  const deadline = Date.now() + timeoutMs
  let lastError: unknown
  for (;;) {
    try {
      const value = await check()
      if (value !== false && value !== undefined && value !== null) return value as Exclude<T, false | null | undefined>
    } catch (error) {
      lastError = error
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${(lastError as Error).message}` : ''}`)
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}

export { runDocStorageContract, runRecordStorageContract } from '../storage/contract/index.js'
