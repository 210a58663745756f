import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { RelayProvider } from '@orchard/client'
import { MemoryStorage, RelayCore, type AfterPersistPayload } from '@orchard/relay'
import { memoryTransport } from '@orchard/client/testing'
import { eventually } from '@orchard/relay/testing'

/**
 * A MemoryStorage whose appends take a turn to become durable and say when they are: the
 * hook and the storage write one log, so the test can see which came first.
 */
class LoggingStorage extends MemoryStorage {
  constructor(private readonly log: string[]) {
    super()
  }

  override async appendUpdates(entries: ReadonlyArray<{ docId: string; update: Uint8Array }>): Promise<number[]> {
    const docs = [...new Set(entries.map((entry) => entry.docId))]
    this.log.push(...docs.map((docId) => `append-start ${docId}`))
    // Not durable yet: a hook fired now (before the append resolves) would show up here.
    await new Promise((resolve) => setImmediate(resolve))
    const seqs = await super.appendUpdates(entries)
    this.log.push(...docs.map((docId) => `durable ${docId}`))
    return seqs
  }
}

describe('afterPersist', () => {
  it('[HOOK-3] fires after each durable append, never before it, with the doc, bytes and updates merged', async () => {
    const log: string[] = []
    const seen: AfterPersistPayload[] = []
    const storage = new LoggingStorage(log)
    const core = new RelayCore({
      storage,
      hooks: {
        afterPersist: (payload) => {
          seen.push(payload)
          log.push(`hook ${payload.docId}`)
        }
      },
      logger: { info: () => {}, error: () => {} }
    })
    const { credential, workspace } = await core.createWorkspace('W', 'Owner')
    const docId = `${workspace.id}/workspace`
    const client = new RelayProvider({ transport: memoryTransport(core), credential, instanceId: 'laptop', docs: { workspace: new Y.Doc() } })
    await client.whenSynced()
    const before = seen.length
    const mark = log.length
    const doc = client.docs.workspace as Y.Doc
    doc.getMap('m').set('a', 1)
    await new Promise((resolve) => setImmediate(resolve)) // a second turn: a second update frame
    doc.getMap('m').set('b', 2)
    await client.whenPersisted()
    await eventually(() => seen.slice(before).reduce((sum, payload) => sum + (payload.docId === docId ? payload.updates : 0), 0) === 2, { what: 'afterPersist for both updates' })

    // Order: every hook for the doc follows its own durable append (one hook per append, in order).
    const events = log.slice(mark).filter((entry) => entry.endsWith(docId) && !entry.startsWith('append-start'))
    expect(events.length).toBeGreaterThan(0)
    for (let n = 0; n < events.length; n += 2) {
      expect(events.slice(n, n + 2), `event ${n} of ${JSON.stringify(events)}`).toEqual([`durable ${docId}`, `hook ${docId}`])
    }
    const appends = seen.slice(before).filter((payload) => payload.docId === docId)
    expect(appends.length).toBe(events.length / 2)
    expect(appends.every((payload) => payload.bytes > 0)).toBe(true)
    const stored = await storage.loadDoc(docId)
    expect(stored).toBeDefined()
    client.destroy()
    await core.close()
  })
})
