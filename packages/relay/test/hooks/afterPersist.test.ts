import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import type { AfterPersistPayload } from '@orchard/relay'
import { eventually } from '@orchard/relay/testing'
import { coreWith } from './harness.js'

describe('afterPersist', () => {
  it('[HOOK-3] fires after each durable append with the doc, bytes and updates merged', async () => {
    const seen: AfterPersistPayload[] = []
    const { core, workspaceId, connect } = await coreWith({ afterPersist: (payload) => seen.push(payload) })
    const client = connect('laptop')
    await client.whenSynced()
    const before = seen.length
    const doc = client.docs.workspace as Y.Doc
    doc.getMap('m').set('a', 1)
    await new Promise((resolve) => setImmediate(resolve)) // a second turn: a second update frame
    doc.getMap('m').set('b', 2)
    await client.whenPersisted()
    await eventually(() => seen.slice(before).some((payload) => payload.docId === `${workspaceId}/workspace`), { what: 'afterPersist' })
    const workspaceAppends = seen.slice(before).filter((payload) => payload.docId === `${workspaceId}/workspace`)
    expect(workspaceAppends.reduce((sum, payload) => sum + payload.updates, 0)).toBe(2)
    expect(workspaceAppends.every((payload) => payload.bytes > 0)).toBe(true)
    const stored = await core.storage.loadDoc(`${workspaceId}/workspace`)
    expect(stored).toBeDefined()
    client.destroy()
    await core.close()
  })
})
