/**
 * Durability through real processes and a real SQLite file: a relay SIGKILLed in a write
 * storm keeps every update its client saw acknowledged; a graceful stop keeps everything.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import { RelayProvider, webSocketTransport } from '@orchard/client'
import * as Y from 'yjs'
import { MemoryStorage, RelayCore } from '@orchard/relay'
import { eventually, memoryTransport } from '@orchard/relay/testing'
import { startRelayProcess } from './harness/relay-process.js'

const dir = mkdtempSync(join(tmpdir(), 'orchard-durability-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function client(url: string, credential: string, instanceId: string): RelayProvider {
  return new RelayProvider({ transport: webSocketTransport(url), credential, instanceId, docs: { workspace: new Y.Doc() }, backoff: { initialMs: 20, maxMs: 100 } })
}

describe('durability', () => {
  it('[DOCS-3] a relay SIGKILLed during a write storm keeps every acknowledged update', async () => {
    const data = join(dir, 'storm.db')
    const delays = fc.sample(fc.integer({ min: 50, max: 400 }), { numRuns: 3, seed: Number(process.env.ORCHARD_SEED ?? 7) })
    let credential = ''
    let total = 0
    for (const [round, delay] of delays.entries()) {
      const relay = await startRelayProcess(['--data', data])
      credential ||= relay.info.ownerToken
      const writer = client(relay.info.url, credential, `writer-${round}`)
      await writer.whenSynced()
      const map = (writer.docs.workspace as Y.Doc).getMap<number>('storm')
      // Each set is one update frame; remember which frame carried which key.
      const seqOf: number[] = [0]
      let written = 0
      const storm = setInterval(() => {
        for (let n = 0; n < 20 && writer.status === 'connected'; n++) {
          map.set(`r${round}-${++written}`, written)
          seqOf[written] = writer.nextUpdateSeq()
        }
      }, 1)
      // The kill lands at a random moment after the relay has acknowledged some of the storm:
      // frame 1 is the writer's (empty) step 2, which says nothing about storing the storm,
      // and a fresh relay's first write can take seconds on a loaded machine.
      await eventually(() => writer.ackedUpdates() > 1, { what: 'a first acknowledged storm frame', timeoutMs: 20_000 })
      await new Promise((resolve) => setTimeout(resolve, delay))
      const ackedBeforeKill = writer.ackedUpdates()
      await relay.kill()
      clearInterval(storm)
      const acked = Math.max(ackedBeforeKill, writer.ackedUpdates())
      writer.destroy()
      let acknowledged = 0
      while (acknowledged + 1 <= written && (seqOf[acknowledged + 1] ?? Infinity) <= acked) acknowledged++
      expect(acknowledged).toBeGreaterThan(0)
      total += acknowledged

      const restarted = await startRelayProcess(['--data', data])
      const reader = client(restarted.info.url, credential, `reader-${round}`)
      await reader.whenSynced()
      const seen = (reader.docs.workspace as Y.Doc).getMap<number>('storm')
      for (let n = 1; n <= acknowledged; n++) expect(seen.has(`r${round}-${n}`), `r${round}-${n} was acknowledged before the kill`).toBe(true)
      reader.destroy()
      expect(await restarted.stop()).toBe(0)
    }
    expect(total).toBeGreaterThan(20)
  }, 120_000)

  it('[SERVER-3] a graceful stop stores everything and clients are told to come back', async () => {
    const data = join(dir, 'graceful.db')
    const relay = await startRelayProcess(['--data', data])
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
    const again = await startRelayProcess(['--data', data])
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
    expect(core.metricsText()).toContain('orchard_docs_loaded 0')
    const reader = new RelayProvider({ transport: memoryTransport(core), credential, instanceId: 'r', docs: { workspace: new Y.Doc() } })
    await reader.whenSynced()
    expect((reader.docs.workspace as Y.Doc).getMap('m').toJSON()).toEqual(expected)
    reader.destroy()
    await core.close()
  })
})
