/**
 * VALID-3: a read-only peer's step 2 that changes nothing passes quietly, even when it is
 * not the canonical empty update. A Yjs step 2 always carries the sender's whole delete
 * set, so a viewer whose doc has deletions answers the relay's step 1 with "no structs,
 * some deletions the relay already has"; that must not come back as a read-only error.
 * Real relay, real sockets, the Orchard client and a stock y-websocket client as viewers.
 */
import { afterEach, beforeEach, describe, expect, it, onTestFinished } from 'vitest'
import { WorkspaceSession, type RelayErrorInfo } from '@orchard/client'
import { eventually, startTestRelay, type TestRelay } from '@orchard/relay/testing'
import * as encoding from 'lib0/encoding'
import WebSocket from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as syncProtocol from 'y-protocols/sync'
import * as Y from 'yjs'

let relay: TestRelay
let owner: WorkspaceSession
const open: WorkspaceSession[] = []

beforeEach(async () => {
  relay = await startTestRelay()
  owner = await WorkspaceSession.open({ credential: relay.ownerCredential, relayUrl: relay.url, label: 'owner' })
  open.push(owner)
  // Two projects, one removed again: the workspace doc now has deletions.
  owner.store.addProject('Kept', '/src/kept')
  const removed = owner.store.addProject('Removed', '/src/removed')
  owner.store.removeProject(removed.id)
  await owner.provider.whenPersisted()
})
afterEach(async () => {
  for (const session of open.splice(0)) await session.close()
  await relay.close()
})

async function viewer(): Promise<{ session: WorkspaceSession; errors: RelayErrorInfo[] }> {
  const errors: RelayErrorInfo[] = []
  const session = await WorkspaceSession.join(await owner.createInvite('viewer'), { name: 'Vera' })
  open.push(session)
  session.provider.on('error', (error: RelayErrorInfo) => errors.push(error))
  await session.provider.whenSynced()
  return { session, errors }
}

/** A step 2 on the wire, exactly these update bytes. */
function sendStep2(session: WorkspaceSession, update: Uint8Array): void {
  const body = encoding.createEncoder()
  encoding.writeVarUint(body, syncProtocol.messageYjsSyncStep2)
  encoding.writeVarUint8Array(body, update)
  session.provider.sendFrame({ kind: 2, channel: 'workspace', body: encoding.toUint8Array(body) })
}

/**
 * Frames are handled in order and a refusal is sent while its frame is handled, so once
 * the answer to a later request is back, any error about the earlier frames has arrived.
 */
async function roundTrip(session: WorkspaceSession): Promise<void> {
  await session.provider.request('invite.list').catch(() => undefined)
}

/** What the viewer's doc would send: no structs, its whole delete set. */
function deletionsOnly(doc: Y.Doc): Uint8Array {
  const update = Y.encodeStateAsUpdate(doc, Y.encodeStateVector(doc))
  expect(Y.decodeUpdate(update).structs).toHaveLength(0)
  expect(Y.decodeUpdate(update).ds.clients.size).toBeGreaterThan(0)
  return update
}

describe('a read-only peer\'s step 2 that changes nothing', () => {
  it('[VALID-3] a viewer whose doc has deletions syncs without a read-only error', async () => {
    const { session, errors } = await viewer()
    await eventually(() => session.store.loadStore().projects.length === 1, { what: 'viewer sees the one kept project' })
    // What its provider sends answering the relay's step 1, sent again on purpose.
    sendStep2(session, deletionsOnly(session.store.doc))
    await roundTrip(session)
    expect(errors).toEqual([])
  })

  it('[VALID-3] the same deletions split into single-item ranges (another encoding) pass quietly too', async () => {
    const { session, errors } = await viewer()
    const ds = Y.decodeUpdate(deletionsOnly(session.store.doc)).ds
    const encoder = new Y.UpdateEncoderV1()
    encoding.writeVarUint(encoder.restEncoder, 0) // no structs
    const split = new Map<number, Array<{ clock: number; len: number }>>()
    for (const [client, ranges] of ds.clients) {
      split.set(client, ranges.flatMap((r) => Array.from({ length: r.len }, (_, i) => ({ clock: r.clock + i, len: 1 }))))
    }
    encoding.writeVarUint(encoder.restEncoder, split.size)
    for (const [client, ranges] of split) {
      encoding.writeVarUint(encoder.restEncoder, client)
      encoding.writeVarUint(encoder.restEncoder, ranges.length)
      for (const r of ranges) {
        encoding.writeVarUint(encoder.restEncoder, r.clock)
        encoding.writeVarUint(encoder.restEncoder, r.len)
      }
    }
    sendStep2(session, encoder.toUint8Array())
    await roundTrip(session)
    expect(errors).toEqual([])
  })

  it('[VALID-3] deletions stored after the relay first looked are known too', async () => {
    const { session, errors } = await viewer()
    sendStep2(session, deletionsOnly(session.store.doc)) // the relay reads the doc's deletions now
    await roundTrip(session)
    const another = owner.store.addProject('Another', '/src/another')
    owner.store.removeProject(another.id)
    await owner.provider.whenPersisted()
    const deletions = (doc: Y.Doc) => Y.decodeUpdate(deletionsOnly(doc)).ds
    await eventually(() => Y.equalDeleteSets(deletions(session.store.doc), deletions(owner.store.doc)), { what: 'viewer has the new deletions' })
    sendStep2(session, deletionsOnly(session.store.doc))
    await roundTrip(session)
    expect(errors).toEqual([])
  })

  it('[ROLE-1] a viewer\'s step 2 deleting something the relay still has is refused read-only, nothing changes', async () => {
    const { session, errors } = await viewer()
    const kept = owner.store.loadStore().projects[0]!
    const scratch = new Y.Doc()
    Y.applyUpdate(scratch, Y.encodeStateAsUpdate(session.store.doc))
    scratch.getMap('projects').delete(scratch.getMap('projects').keys().next().value as string)
    sendStep2(session, deletionsOnly(scratch))
    await roundTrip(session)
    expect(errors.map((e) => e.code)).toEqual(['read-only'])
    const stored = (await relay.core.room(relay.workspaceId)).buildWorkspaceDoc()
    expect([...stored.getMap('projects').keys()]).toEqual([...owner.store.doc.getMap('projects').keys()])
    expect(owner.store.loadStore().projects.map((p) => p.id)).toEqual([kept.id])
  })
})

describe('a stock y-websocket viewer', () => {
  const providers: WebsocketProvider[] = []
  afterEach(() => {
    for (const provider of providers.splice(0)) provider.destroy()
  })

  async function stockViewer(): Promise<{ provider: WebsocketProvider; warnings: string[] }> {
    const session = await WorkspaceSession.join(await owner.createInvite('viewer'), { name: 'stock-viewer' })
    const credential = session.store.getRelayWorkspaceRecord()!.authKey!
    await session.close()
    // The viewer's doc starts with the deletions, as a returning client's would.
    const doc = new Y.Doc()
    Y.applyUpdate(doc, Y.encodeStateAsUpdate(owner.store.doc))
    const provider = new WebsocketProvider(relay.url, relay.workspaceId, doc, {
      WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
      params: { token: credential },
      disableBc: true
    })
    providers.push(provider)
    // y-websocket logs the relay's permission-denied auth message with console.warn.
    const warnings: string[] = []
    const original = console.warn
    console.warn = (...args: unknown[]) => warnings.push(args.join(' '))
    onTestFinished(() => {
      console.warn = original
    })
    await eventually(() => provider.synced, { what: 'stock viewer synced' })
    return { provider, warnings }
  }

  /** A stock client has no request to round-trip: an editor's edit reaching it comes after. */
  async function roundTripStock(provider: WebsocketProvider, key: string): Promise<void> {
    owner.store.doc.getMap('plain').set(key, true)
    await eventually(() => provider.doc.getMap('plain').get(key) === true, { what: `${key} reaches the stock viewer` })
  }

  it('[COMPAT-2] its step 2 carrying deletions the relay has is not answered with permission denied', async () => {
    const { provider, warnings } = await stockViewer()
    const { ds } = Y.decodeUpdate(Y.encodeStateAsUpdate(provider.doc, Y.encodeStateVector(provider.doc)))
    expect(ds.clients.size).toBeGreaterThan(0)
    await roundTripStock(provider, 'after-sync')
    expect(warnings).toEqual([])
  })

  it('[COMPAT-2] a deletion it makes is refused and it is told', async () => {
    const { provider, warnings } = await stockViewer()
    const projects = provider.doc.getMap('projects')
    projects.delete(projects.keys().next().value as string)
    await eventually(() => warnings.some((line) => line.includes('Viewers can read')), { what: 'permission denied logged' })
    expect(owner.store.loadStore().projects).toHaveLength(1)
  })
})
