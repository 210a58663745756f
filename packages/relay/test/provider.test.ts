/**
 * The client's RelayProvider against the real relay core over the in-memory transport,
 * where the test controls cuts and reconnects.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { RelayProvider, RelayRequestError, type ProviderStatus } from '@orchard/client'
import { MemoryPair } from '@orchard/client/testing'
import { FrameKind, decodeFrame, encodeFrame } from '@orchard/protocol'
import { Awareness } from 'y-protocols/awareness'
import * as Y from 'yjs'
import { MemoryStorage, RelayCore } from '@orchard/relay'
import { eventually } from '@orchard/relay/testing'
import { memoryTransport } from './harness/memory-transport.js'

let core: RelayCore
let credential: string
let pairs: MemoryPair[]
const providers: RelayProvider[] = []

beforeEach(async () => {
  core = new RelayCore({ storage: new MemoryStorage(), limits: { unloadAfterMs: 1_000 }, logger: { info: () => {}, error: () => {} } })
  credential = (await core.createWorkspace('W', 'Owner')).credential
  pairs = []
})
afterEach(async () => {
  for (const provider of providers.splice(0)) provider.destroy()
  await core.close()
})

function provider(instanceId: string, extra: Partial<ConstructorParameters<typeof RelayProvider>[0]> = {}): RelayProvider {
  const created = new RelayProvider({
    transport: memoryTransport(core, pairs),
    credential,
    instanceId,
    docs: { workspace: new Y.Doc(), control: new Y.Doc() },
    backoff: { initialMs: 5, maxMs: 20 },
    ...extra
  })
  providers.push(created)
  return created
}

const docOf = (p: RelayProvider) => p.docs.workspace as Y.Doc

describe('RelayProvider', () => {
  it('[PROVIDER-1] after a cut it reconnects and edits made offline on both sides merge', async () => {
    const a = provider('a')
    const b = provider('b')
    await Promise.all([a.whenSynced(), b.whenSynced()])
    docOf(a).getMap('m').set('before', 1)
    await eventually(() => docOf(b).getMap('m').get('before') === 1, { what: 'initial sync' })
    const aPair = pairs[0] as MemoryPair
    const statuses: ProviderStatus[] = []
    a.on('status', (status) => statuses.push(status))
    aPair.cut()
    docOf(a).getMap('m').set('offline-a', 'A')
    docOf(a).getArray('list').push(['a1'])
    docOf(b).getMap('m').set('online-b', 'B')
    docOf(b).getArray('list').push(['b1'])
    await eventually(() => a.status === 'connected' && a.synced && pairs.length === 3, { what: 'a reconnected' })
    await eventually(() => docOf(b).getMap('m').get('offline-a') === 'A' && docOf(a).getMap('m').get('online-b') === 'B', { what: 'merge' })
    expect(docOf(a).getArray('list').toArray().sort()).toEqual(['a1', 'b1'])
    expect(Y.encodeStateVector(docOf(a))).toEqual(Y.encodeStateVector(docOf(b)))
    expect(statuses).toEqual(['disconnected', 'connecting', 'connected'])
  })

  it('[PROVIDER-2] a 44xx close stops it for good, with the relay\'s message', async () => {
    const bad = provider('bad', { credential: 'orc_m.x.y.z' })
    const stopped = await new Promise<{ code: number; message: string }>((resolve) => bad.once('stopped', resolve))
    expect(stopped).toMatchObject({ code: 4401, message: expect.stringContaining('does not recognize this credential') })
    expect(bad.status).toBe('stopped')
    const attempts = pairs.length
    // Fake timers: a retry would be a backoff timer (at most maxMs = 10 s away); run every
    // timer a minute ahead and no new connection attempt may appear.
    vi.useFakeTimers({ toFake: ['setTimeout', 'setInterval'] })
    try {
      bad.connect()
      vi.advanceTimersByTime(60_000)
      expect(pairs.length).toBe(attempts)
      expect(bad.status).toBe('stopped')
    } finally {
      vi.useRealTimers()
    }
  })

  it('[PROVIDER-3] persisted fires once the relay has settled everything sent', async () => {
    const a = provider('a')
    await a.whenSynced()
    let persistedEvents = 0
    a.on('persisted', () => persistedEvents++)
    for (let n = 0; n < 25; n++) docOf(a).getMap('m').set(`k${n}`, n)
    expect(a.persisted).toBe(false)
    await a.whenPersisted()
    expect(a.persisted).toBe(true)
    expect(a.ackedUpdates()).toBe(a.sentUpdates())
    expect(persistedEvents).toBeGreaterThan(0)
    const stored = await core.storage.loadDoc(`${(await core.listWorkspaces())[0]!.id}/workspace`)
    const check = new Y.Doc()
    for (const update of stored!.updates) Y.applyUpdate(check, update)
    expect(check.getMap('m').size).toBe(25)
  })

  it('[PROVIDER-6] the updates of one turn go out as one merged frame, stored and acked once', async () => {
    const a = provider('a')
    await a.whenSynced()
    const before = a.sentUpdates()
    expect(a.nextUpdateSeq()).toBe(before + 1)
    for (let n = 0; n < 100; n++) docOf(a).getMap('burst').set(`k${n}`, n)
    expect(a.persisted).toBe(false) // queued, not yet sent
    await a.whenPersisted()
    expect(a.sentUpdates()).toBe(before + 1)
    const b = provider('b')
    await b.whenSynced()
    expect(docOf(b).getMap('burst').size).toBe(100)
  })

  it('[PROVIDER-4] requests resolve, fail with the relay\'s code, time out, and reject on disconnect', async () => {
    const a = provider('a', { requestTimeoutMs: 50 })
    await a.whenSynced()
    await expect(a.request('member.list')).resolves.toEqual([expect.objectContaining({ name: 'Owner', role: 'owner' })])
    await expect(a.request('no.such.method')).rejects.toMatchObject({ code: 'not-found', message: expect.stringContaining('no method "no.such.method"') })
    await expect(a.request('invite.create', { role: 'king' })).rejects.toMatchObject({ code: 'invalid-params' })
    // A request the relay never answers: the connection is cut before it can.
    const pending = a.request('member.list', {}, 5_000)
    ;(pairs[0] as MemoryPair).cut()
    await expect(pending).rejects.toBeInstanceOf(RelayRequestError)
    await expect(pending).rejects.toMatchObject({ code: 'disconnected' })
    await expect(new RelayProvider({ transport: memoryTransport(core), credential, instanceId: 'x', docs: {}, manual: true }).request('member.list')).rejects.toMatchObject({ code: 'disconnected' })
  })

  it('[PROVIDER-4] it serves requests from the relay with onRequest', async () => {
    const pair = new MemoryPair()
    const served = new RelayProvider({ transport: () => pair.client, credential, instanceId: 'host', docs: {} })
    providers.push(served)
    served.onRequest((method, params) => {
      if (method === 'echo') return { echoed: params }
      throw new RelayRequestError('invalid-params', 'nope')
    })
    const replies: unknown[] = []
    pair.server.onMessage((data) => {
      const frame = decodeFrame(data)
      if (frame.kind === FrameKind.hello) {
        pair.server.send(encodeFrame({ kind: FrameKind.welcome, channel: '', workspaceId: 'w', memberId: 'm', memberName: 'n', role: 'editor', instanceId: 'host', limits: { maxFrameBytes: 1, maxDocBytes: 1 }, server: 'fake' }))
        pair.server.send(encodeFrame({ kind: FrameKind.rpcRequest, channel: '', id: 7, method: 'echo', params: { x: 1 } }))
        pair.server.send(encodeFrame({ kind: FrameKind.rpcRequest, channel: '', id: 8, method: 'other', params: {} }))
      } else if (frame.kind === FrameKind.rpcResponse) replies.push(frame)
    })
    await eventually(() => replies.length === 2, { what: 'two replies' })
    expect([...replies].sort((x, y) => (x as { id: number }).id - (y as { id: number }).id)).toEqual([
      expect.objectContaining({ id: 7, ok: true, result: { echoed: { x: 1 } } }),
      expect.objectContaining({ id: 8, ok: false, code: 'invalid-params', message: 'nope' })
    ])
  })

  it('[PROVIDER-5] on disconnect, other instances\' presence is dropped locally', async () => {
    const awarenessA = new Awareness(new Y.Doc())
    const a = provider('a', { awareness: awarenessA })
    const b = provider('b', { awareness: new Awareness(new Y.Doc()) })
    b.awareness!.setLocalStateField('viewing', 'p1')
    await eventually(() => awarenessA.getStates().size === 2, { what: 'a sees b' })
    ;(pairs[0] as MemoryPair).cut()
    await eventually(() => a.status !== 'connected', { what: 'a disconnected' })
    expect([...awarenessA.getStates().keys()]).toEqual([awarenessA.clientID])
  })

  it('[TRANSPORT-2] a transport is one attempt: each reconnect asks the factory for a new one', async () => {
    let made = 0
    const factory = memoryTransport(core, pairs)
    const a = provider('a', { transport: () => (made++, factory()) })
    await a.whenSynced()
    ;(pairs.at(-1) as MemoryPair).cut()
    await eventually(() => a.status === 'connected' && made === 2, { what: 'second transport' })
  })
})
