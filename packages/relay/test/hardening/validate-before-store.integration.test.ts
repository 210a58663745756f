/**
 * Issue 9, items 3 and 8: every update is validated before it is stored, acknowledged or
 * broadcast, on every channel and both protocols, the way later merges and diffs will read
 * it; roles are checked from the envelope before any decoding. Real relay, real port, real
 * SQLite file.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { FrameKind, encodeYwsMessage } from '@orchard/protocol'
import { WorkspaceSession } from '@orchard/client'
import { SqliteStorage } from '@orchard/relay'
import { eventually, startTestRelay, type TestRelay } from '@orchard/relay/testing'
import * as Y from 'yjs'
import { deepEmbedUpdate } from '@orchard/protocol/testing'
import { isError, rawOrchard, rawYws, syncBody } from './raw-clients.js'

// Counts every Yjs update decode in this process (the relay runs in it), to show what is
// and is not decoded.
vi.mock('yjs', async (importOriginal) => {
  const original = await importOriginal<typeof import('yjs')>()
  return { ...original, decodeUpdate: vi.fn(original.decodeUpdate) }
})

let relay: TestRelay
let owner: WorkspaceSession
let editorCredential: string
let viewerCredential: string

beforeAll(async () => {
  relay = await startTestRelay()
  owner = await WorkspaceSession.open({ credential: relay.ownerCredential, relayUrl: relay.url, label: 'owner' })
  owner.store.addProject('Kept', '/src/kept')
  await owner.provider.whenPersisted()
  editorCredential = (await relay.core.auth.addMember(relay.workspaceId, 'Eda', 'editor')).credential
  viewerCredential = (await relay.core.auth.addMember(relay.workspaceId, 'Vic', 'viewer')).credential
})
afterAll(async () => {
  await owner.close()
  await relay.close()
})

async function storedBytes(channel: 'workspace' | 'control'): Promise<number> {
  await relay.core.pipeline.drain()
  return (await relay.core.storage.loadDoc(`${relay.workspaceId}/${channel}`))?.bytes ?? 0
}

function subdocUpdate(count: number): Uint8Array {
  const doc = new Y.Doc()
  const map = doc.getMap('docs')
  doc.transact(() => {
    for (let index = 0; index < count; index++) map.set(`d${index}`, new Y.Doc())
  })
  return Y.encodeStateAsUpdate(doc)
}

describe('updates are validated before they are stored', () => {
  it('[VALID-1] an editor\'s update with a deeply nested JSON embed is refused bad-frame with its seq, never stored, ACKed as settled, and the workspace still opens', async () => {
    const before = await storedBytes('workspace')
    const editor = await rawOrchard(relay.url, editorCredential, 'editor-deep')
    editor.send({ kind: FrameKind.sync, channel: 'workspace', body: syncBody(2, deepEmbedUpdate(100_000)) })
    const error = await editor.next(isError('bad-frame'), 'ERROR bad-frame')
    // What the editor sees: the frame's seq, and why nothing was stored.
    expect(error).toMatchObject({ channel: 'workspace', data: { seq: 1 }, message: expect.stringContaining('nested deeper than 64 levels') })
    await editor.next((frame): frame is never => frame.kind === FrameKind.ack && frame.seq === 1, 'ACK 1')
    expect(await storedBytes('workspace')).toBe(before)
    // Nobody else was sent it, and a full sync after it (a diff against a state vector) works.
    const reader = await WorkspaceSession.open({ credential: relay.ownerCredential, relayUrl: relay.url, label: 'reader', instanceId: 'reader-deep' })
    await reader.provider.whenSynced()
    expect(reader.store.doc.getText('poison').length).toBe(0)
    expect(reader.store.loadStore().projects.map((project) => project.name)).toContain('Kept')
    await reader.close()
    editor.close()
  })

  it('[VALID-1] an update carrying a subdocument is refused bad-frame and not stored', async () => {
    const before = await storedBytes('workspace')
    const editor = await rawOrchard(relay.url, editorCredential, 'editor-subdoc')
    editor.send({ kind: FrameKind.sync, channel: 'workspace', body: syncBody(2, subdocUpdate(3)) })
    expect(await editor.next(isError('bad-frame'), 'ERROR bad-frame')).toMatchObject({ message: expect.stringContaining('subdocument') })
    expect(await storedBytes('workspace')).toBe(before)
    editor.close()
  })

  it('[VALID-3] a write to the read-only control channel is refused from the envelope: 1,000 subdocuments are never decoded', async () => {
    const owner2 = await rawOrchard(relay.url, relay.ownerCredential, 'owner-control')
    const decodeUpdate = vi.mocked(Y.decodeUpdate)
    const hostile = subdocUpdate(1_000)
    decodeUpdate.mockClear()
    owner2.send({ kind: FrameKind.sync, channel: 'control', body: syncBody(2, hostile) })
    expect(await owner2.next(isError(), 'an ERROR')).toMatchObject({ code: 'forbidden', channel: 'control', data: { seq: 1 } })
    expect(decodeUpdate.mock.calls.filter(([update]) => update.byteLength === hostile.byteLength)).toHaveLength(0)
    // A viewer's write to the workspace doc, likewise: read-only, and not decoded.
    const viewer = await rawOrchard(relay.url, viewerCredential, 'viewer-write')
    decodeUpdate.mockClear()
    viewer.send({ kind: FrameKind.sync, channel: 'workspace', body: syncBody(2, hostile) })
    expect(await viewer.next(isError(), 'an ERROR')).toMatchObject({ code: 'read-only' })
    expect(decodeUpdate.mock.calls.filter(([update]) => update.byteLength === hostile.byteLength)).toHaveLength(0)
    owner2.close()
    viewer.close()
  })

  it('[VALID-1] [COMPAT-4] over y-websocket, an update with a garbage body or a deep embed closes that socket with 4400 bad-frame, not stored', async () => {
    const before = await storedBytes('workspace')
    const garbage = await rawYws(relay.url, relay.workspaceId, editorCredential)
    garbage.send(encodeYwsMessage({ type: 'sync', body: syncBody(2, new Uint8Array([9, 200, 1, 2, 3])) }))
    // What a stock client sees: 4400 with the reason; y-websocket does not retry a 44xx.
    expect(await garbage.waitClosed()).toEqual({ code: 4400, reason: 'bad-frame' })
    const deep = await rawYws(relay.url, relay.workspaceId, editorCredential)
    deep.send(encodeYwsMessage({ type: 'sync', body: syncBody(2, deepEmbedUpdate(100_000)) }))
    expect(await deep.waitClosed()).toEqual({ code: 4400, reason: 'bad-frame' })
    expect(await storedBytes('workspace')).toBe(before)
    // An honest stock client is untouched by either.
    const honest = await rawYws(relay.url, relay.workspaceId, editorCredential)
    const doc = new Y.Doc()
    doc.getMap('plain').set('ok', true)
    honest.send(encodeYwsMessage({ type: 'sync', body: syncBody(2, Y.encodeStateAsUpdate(doc)) }))
    await eventually(() => owner.store.doc.getMap('plain').get('ok') === true, { what: 'the honest edit reaches the owner' })
    expect(honest.closed).toBeNull()
    honest.close()
  })
})

describe('stock clients hear their refusals', () => {
  it('[COMPAT-4] [LIMIT-2] a stock client\'s update over the doc size limit closes that socket with 4413 too-large; the doc is unchanged', async () => {
    const small = await startTestRelay({ limits: { maxDocBytes: 4_096 } })
    try {
      const editor = (await small.core.auth.addMember(small.workspaceId, 'Eda', 'editor')).credential
      const stock = await rawYws(small.url, small.workspaceId, editor)
      const doc = new Y.Doc()
      doc.getText('big').insert(0, 'x'.repeat(8_000))
      stock.send(encodeYwsMessage({ type: 'sync', body: syncBody(2, Y.encodeStateAsUpdate(doc)) }))
      // What a stock client sees: 4413 with the reason, instead of an edit silently dropped.
      expect(await stock.waitClosed()).toEqual({ code: 4413, reason: 'too-large' })
      await small.core.pipeline.drain()
      expect(await small.core.storage.loadDoc(`${small.workspaceId}/workspace`)).toBeUndefined()
    } finally {
      await small.close()
    }
  })
})

describe('a poisoned stored record', () => {
  it('[VALID-4] is quarantined at load with a clear log line; the workspace opens at its last good state and HELLO works', async () => {
    const poisoned = await startTestRelay()
    const dataDir = poisoned.dataDir
    const session = await WorkspaceSession.open({ credential: poisoned.ownerCredential, relayUrl: poisoned.url, label: 'before' })
    session.store.addProject('Survivor', '/src/survivor')
    await session.provider.whenPersisted()
    await session.close()
    const { workspaceId, ownerCredential } = poisoned
    await poisoned.stop()

    // Straight into the real SQLite file, as damage or an older relay would have left it.
    const storage = new SqliteStorage({ path: poisoned.dbPath })
    await storage.appendUpdates([{ docId: `${workspaceId}/workspace`, update: deepEmbedUpdate(100_000) }])
    await storage.close()

    const logged: string[] = []
    const spy = vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void logged.push(args.join(' ')))
    const restarted = await startTestRelay({ dataDir, quiet: false })
    try {
      const reader = await WorkspaceSession.open({ credential: ownerCredential, relayUrl: restarted.url, label: 'after', instanceId: 'after-restart' })
      await reader.provider.whenSynced()
      expect(reader.status).toBe('connected')
      expect(reader.store.loadStore().projects.map((project) => project.name)).toEqual(['Survivor'])
      // The doc serves a diff against a real state vector too (what broke before).
      reader.store.addProject('Later', '/src/later')
      await reader.provider.whenPersisted()
      await reader.close()
      const line = logged.find((entry) => entry.includes('quarantined stored update'))
      expect(line).toContain(`${workspaceId}/workspace`)
      expect(line).toContain('the doc opens at its last good state')
      const kept = await restarted.core.storage.listRecords<{ docId: string; reason: string }>('quarantine')
      expect(kept).toHaveLength(1)
      expect(kept[0]?.value).toMatchObject({ docId: `${workspaceId}/workspace`, reason: expect.stringContaining('nested deeper') })
    } finally {
      spy.mockRestore()
      await restarted.close()
    }
  })
})
