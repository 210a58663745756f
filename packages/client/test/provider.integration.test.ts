/**
 * PROVIDER-1 with real parts: two providers over real WebSockets to a real relay process,
 * one behind a proxy that drops its TCP connection. Offline edits on both sides merge after
 * the provider reconnects by itself. (provider.test.ts checks the timing and the frames.)
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import { RelayProvider, webSocketTransport, type ProviderStatus } from '@orchard/client'
import { startCutProxy, type CutProxy } from './harness/cut-proxy.js'
import { startRelayChild, type RelayChild } from './harness/relay.js'

let relay: RelayChild
let proxy: CutProxy
const providers: RelayProvider[] = []
beforeAll(async () => {
  relay = await startRelayChild()
  proxy = await startCutProxy(relay.url)
})
afterAll(async () => {
  for (const provider of providers) provider.destroy()
  await proxy.close()
  await relay.close()
})

function provider(url: string, instanceId: string): RelayProvider {
  const created = new RelayProvider({
    transport: webSocketTransport(url),
    credential: relay.ownerCredential,
    instanceId,
    docs: { workspace: new Y.Doc(), control: new Y.Doc() },
    backoff: { initialMs: 50, maxMs: 500 }
  })
  providers.push(created)
  return created
}

describe('PROVIDER-1 (real relay, real sockets)', () => {
  it('[PROVIDER-1] a dropped TCP connection: the provider reconnects by itself and edits made offline on both sides merge', async () => {
    const a = provider(proxy.url, 'behind-proxy')
    const b = provider(relay.url, 'direct')
    await Promise.all([a.whenSynced(), b.whenSynced()])
    const docA = a.docs.workspace as Y.Doc
    const docB = b.docs.workspace as Y.Doc
    docA.getMap('m').set('before', 1)
    await vi.waitFor(() => expect(docB.getMap('m').get('before')).toBe(1), { timeout: 10_000 })
    const statuses: ProviderStatus[] = []
    // The offline edits are made in the 'disconnected' event itself: with a 50 ms backoff the
    // provider can be connected again before a poll of its status would see it offline.
    let offlineEdits = false
    a.on('status', (status) => {
      statuses.push(status)
      if (status !== 'disconnected' || offlineEdits) return
      offlineEdits = true
      docA.getMap('m').set('offline-a', 'A')
      docA.getArray('list').push(['a1'])
    })
    proxy.cut()
    await vi.waitFor(() => expect(offlineEdits).toBe(true), { timeout: 10_000 })
    docB.getMap('m').set('online-b', 'B')
    docB.getArray('list').push(['b1'])
    await vi.waitFor(() => expect(a.status === 'connected' && a.synced).toBe(true), { timeout: 15_000 })
    await a.whenPersisted()
    await vi.waitFor(() => expect(docB.getMap('m').get('offline-a')).toBe('A'), { timeout: 10_000 })
    await vi.waitFor(() => expect(docA.getMap('m').get('online-b')).toBe('B'), { timeout: 10_000 })
    expect(docA.getArray('list').toArray().sort()).toEqual(['a1', 'b1'])
    expect(Y.encodeStateVector(docA)).toEqual(Y.encodeStateVector(docB))
    expect(statuses.slice(0, 3)).toEqual(['disconnected', 'connecting', 'connected'])
  }, 60_000)
})
