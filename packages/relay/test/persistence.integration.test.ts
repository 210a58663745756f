/**
 * Durability through real processes and a real SQLite file, with the relay as the CLI runs
 * it (doc writes on its SQLite writer thread): a relay SIGKILLed in a write storm keeps
 * every update its client saw acknowledged, whether the kill comes from outside at a
 * seeded point of the storm or from inside, aimed at the windows that matter (inside an
 * append or a compaction transaction, after a commit nobody was told about); a graceful
 * stop keeps everything.
 *
 * The relay runs as users run it: the built `orchard relay` (../../cli/test/harness, rebuilt
 * before the tests when a source changed). The default run kills the storm once and aims
 * the append windows at one of the first 100 appends; `pnpm test:extensive`
 * (ORCHARD_EXTENSIVE=1) kills it at ten seeded points and aims up to the 400th.
 */
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import { RelayProvider, webSocketTransport } from '@orchard/client'
import * as Y from 'yjs'
import { MemoryStorage, RelayCore } from '@orchard/relay'
import { eventually } from '@orchard/relay/testing'
import type { Failpoint } from '../src/storage/failpoints.js'
import { startRelay, type RelayProcess } from '../../cli/test/harness/cli-process.js'
import { memoryTransport } from './harness/memory-transport.js'

const dir = mkdtempSync(join(tmpdir(), 'orchard-durability-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const seed = Number(process.env.ORCHARD_SEED ?? 7)
/** Kills of the DOCS-3 storm: each is one more seeded point; the default run keeps one. */
const STORM_KILLS = process.env.ORCHARD_EXTENSIVE === '1' ? 10 : 1

/** SIGKILL and wait for the process to be gone. */
async function kill(relay: RelayProcess): Promise<void> {
  await relay.stop('SIGKILL')
}

function client(url: string, credential: string, instanceId: string): RelayProvider {
  return new RelayProvider({ transport: webSocketTransport(url), credential, instanceId, docs: { workspace: new Y.Doc() }, backoff: { initialMs: 20, maxMs: 100 } })
}

/** Most keys one storm writes: a bound on the loop, far above what any round needs. */
const MAX_KEYS = 500_000

/**
 * A writer that sets map keys `<label>-1`, `<label>-2`, ... as fast as the event loop turns
 * (each turn's sets go out as one update frame) until stopped or disconnected, and knows
 * which keys the relay has acknowledged: key k is acknowledged once the ACK covers the
 * frame that carried it.
 */
class Storm {
  readonly writer: RelayProvider
  written = 0
  private readonly seqOf: number[] = [0]
  private acknowledged = 0
  private readonly timer: ReturnType<typeof setInterval>

  constructor(url: string, credential: string, readonly label: string) {
    this.writer = client(url, credential, `writer-${label}`)
    const map = (this.writer.docs.workspace as Y.Doc).getMap<number>('storm')
    this.timer = setInterval(() => {
      for (let n = 0; n < 20 && this.writer.status === 'connected' && this.written < MAX_KEYS; n++) {
        map.set(`${label}-${++this.written}`, this.written)
        this.seqOf[this.written] = this.writer.nextUpdateSeq()
      }
    }, 1)
  }

  /** Keys 1..n are acknowledged (acks only grow, so this is counted once). */
  ackedKeys(): number {
    const acked = this.writer.ackedUpdates()
    while (this.acknowledged < this.written && (this.seqOf[this.acknowledged + 1] ?? Infinity) <= acked) this.acknowledged++
    return this.acknowledged
  }

  stop(): number {
    clearInterval(this.timer)
    const acked = this.ackedKeys()
    this.writer.destroy()
    return acked
  }
}

/** Starts the relay CLI with ORCHARD_FAILPOINT set (spawn copies the environment as it is then). */
async function startWithFailpoint(data: string, failpoint: string): Promise<RelayProcess> {
  process.env.ORCHARD_FAILPOINT = failpoint
  try {
    return await startRelay(['--data', data])
  } finally {
    delete process.env.ORCHARD_FAILPOINT
  }
}

/** The storm keys of one label a fresh reader finds after a restart, then the relay is stopped. */
async function storedKeys(data: string, credential: string, label: string): Promise<Set<number>> {
  const relay = await startRelay(['--data', data])
  const reader = client(relay.info.url, credential, `reader-${label}`)
  await reader.whenSynced()
  const keys = new Set<number>()
  for (const key of (reader.docs.workspace as Y.Doc).getMap<number>('storm').keys()) {
    if (key.startsWith(`${label}-`)) keys.add(Number(key.slice(label.length + 1)))
  }
  reader.destroy()
  expect(await relay.stop()).toBe(0)
  return keys
}

function expectNoneLost(keys: Set<number>, acked: number, label: string): void {
  const lost: number[] = []
  for (let n = 1; n <= acked; n++) if (!keys.has(n)) lost.push(n)
  expect(lost, `${label}: acknowledged keys missing after the restart`).toEqual([])
}

describe('durability', () => {
  it('[DOCS-3] a relay SIGKILLed during a write storm keeps every acknowledged update', async () => {
    const data = join(dir, 'storm.db')
    // Where in the storm the kill lands: after this many keys were acknowledged (seeded).
    // The storm keeps writing meanwhile, so frames are in flight and appends in progress.
    const targets = fc.sample(fc.integer({ min: 1, max: 2_000 }), { numRuns: STORM_KILLS, seed })
    let credential = ''
    let total = 0
    for (const [round, target] of targets.entries()) {
      const relay = await startRelay(['--data', data])
      credential ||= relay.info.ownerToken
      const storm = new Storm(relay.info.url, credential, `r${round}`)
      await eventually(() => storm.ackedKeys() >= target, { what: `${target} acknowledged keys (seed ${seed})`, timeoutMs: 60_000, intervalMs: 1 })
      await kill(relay)
      const acked = storm.stop()
      expect(acked).toBeGreaterThanOrEqual(target)
      total += acked
      expectNoneLost(await storedKeys(data, credential, `r${round}`), acked, `round ${round} (seed ${seed})`)
    }
    console.log(`[DOCS-3] kill -9 mid-storm: ${total} acked, 0 lost (seed ${seed}, ${targets.length} kills)`)
  }, 60_000 * STORM_KILLS)

  // Each window as the CLI's writer thread meets it. The n-th time is seeded for appends
  // (the storm runs from the first append, so any n >= 10 lands with frames in flight; a
  // later n costs a longer storm, so the wider range is for the extensive run); the first
  // compaction comes after compactAfterUpdates (500) stored updates of the doc.
  const lastAppend = process.env.ORCHARD_EXTENSIVE === '1' ? 400 : 100
  const windows: Array<{ point: Failpoint; nth: number }> = [
    { point: 'append-mid', nth: fc.sample(fc.integer({ min: 10, max: lastAppend }), { numRuns: 1, seed })[0] as number },
    { point: 'append-committed', nth: fc.sample(fc.integer({ min: 10, max: lastAppend }), { numRuns: 1, seed: seed + 1 })[0] as number },
    { point: 'compact-mid', nth: 1 },
    { point: 'compact-committed', nth: 1 }
  ]
  // The store exists before the failpoint is armed, so starting up (creating the workspace)
  // never counts towards it. One relay makes it, once; each window starts from a copy.
  let base: { data: string; credential: string } | undefined
  async function copyOfBaseStore(data: string): Promise<string> {
    if (!base) {
      const first = await startRelay(['--data', join(dir, 'base.db')])
      const probe = client(first.info.url, first.info.ownerToken, 'probe')
      await probe.whenSynced()
      probe.destroy()
      expect(await first.stop()).toBe(0)
      base = { data: join(dir, 'base.db'), credential: first.info.ownerToken }
    }
    // A clean stop checkpointed the WAL into the file (STORE-SQL-6); a leftover WAL is copied too.
    for (const suffix of ['', '-wal', '.owner.json']) if (existsSync(`${base.data}${suffix}`)) copyFileSync(`${base.data}${suffix}`, `${data}${suffix}`)
    return base.credential
  }

  for (const { point, nth } of windows) {
    it(`[STORE-SQL-13] a relay killed ${point} (time ${nth}) in a write storm loses no acknowledged update`, async () => {
      const data = join(dir, `${point}.db`)
      const credential = await copyOfBaseStore(data)

      const relay = await startWithFailpoint(data, `${point}:${nth}`)
      const died = new Promise<NodeJS.Signals | null>((resolve) => relay.child.once('exit', (_code, signal) => resolve(signal)))
      const storm = new Storm(relay.info.url, credential, point)
      // The relay kills itself when it reaches the point; the test never signals it.
      const signal = await Promise.race([died, eventually(() => storm.written >= MAX_KEYS, { what: `the relay to reach ${point}`, timeoutMs: 90_000, intervalMs: 50 })])
      expect(signal, `the relay died at ${point}`).toBe('SIGKILL')
      const acked = storm.stop()
      const keys = await storedKeys(data, credential, point)
      expectNoneLost(keys, acked, point)
      if (point === 'append-committed') {
        // The kill came after a commit that was never acknowledged: more is stored than acked.
        expect(keys.size).toBeGreaterThan(acked)
      }
      const db = new Database(data, { readonly: true })
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok')
      db.close()
      console.log(`[STORE-SQL-13] kill -9 at ${point}:${nth}: ${acked} acked, ${keys.size} stored, 0 lost`)
    }, 120_000)
  }

  it('[SERVER-3] a graceful stop stores everything and clients are told to come back', async () => {
    const data = join(dir, 'graceful.db')
    const relay = await startRelay(['--data', data])
    const writer = client(relay.info.url, relay.info.ownerToken, 'w')
    await writer.whenSynced()
    const statuses: string[] = []
    writer.on('status', (status) => statuses.push(status))
    for (let n = 0; n < 200; n++) (writer.docs.workspace as Y.Doc).getMap('m').set(`k${n}`, n)
    await writer.whenPersisted()
    expect(await relay.stop()).toBe(0)
    await eventually(() => statuses.includes('disconnected'), { what: 'disconnected, not stopped' })
    expect(statuses).not.toContain('stopped')
    writer.destroy()
    const again = await startRelay(['--data', data])
    const reader = client(again.info.url, relay.info.ownerToken, 'r')
    await reader.whenSynced()
    expect((reader.docs.workspace as Y.Doc).getMap('m').size).toBe(200)
    reader.destroy()
    await again.stop()
  }, 60_000)
})

describe('loading and unloading', () => {
  it('[DOCS-5] [DOCS-6] an empty workspace unloads, compacts, and reloads with nothing lost', async () => {
    const storage = new MemoryStorage()
    const core = new RelayCore({ storage, limits: { unloadAfterMs: 20, compactAfterUpdates: 10 }, logger: { info: () => {}, error: () => {} } })
    const { credential, workspace } = await core.createWorkspace('W', 'Owner')
    const writer = new RelayProvider({ transport: memoryTransport(core), credential, instanceId: 'w', docs: { workspace: new Y.Doc() } })
    await writer.whenSynced()
    const doc = writer.docs.workspace as Y.Doc
    for (let n = 0; n < 60; n++) {
      doc.getMap('m').set(`k${n}`, n)
      if (n % 7 === 0) doc.getMap('m').delete(`k${n - 1}`)
      await writer.whenPersisted()
    }
    const expected = doc.getMap('m').toJSON()
    await eventually(async () => ((await storage.loadDoc(`${workspace.id}/workspace`))?.updates.length ?? 99) < 20, { what: 'compaction while loaded' })
    writer.destroy()
    await eventually(() => core.loadedRooms === 0, { what: 'unload' })
    await eventually(async () => (await storage.loadDoc(`${workspace.id}/workspace`))?.updates.length === 1, { what: 'compacted to one update' })
    expect(await core.metricsText()).toContain('orchard_docs_loaded 0')
    const reader = new RelayProvider({ transport: memoryTransport(core), credential, instanceId: 'r', docs: { workspace: new Y.Doc() } })
    await reader.whenSynced()
    expect((reader.docs.workspace as Y.Doc).getMap('m').toJSON()).toEqual(expected)
    reader.destroy()
    await core.close()
  })
})
