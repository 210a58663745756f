/**
 * A stock y-websocket WebsocketProvider (the y-websocket package, unchanged) against the
 * relay, beside Orchard's own client.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
import { WorkspaceSession } from '@orchard/client'
import { eventually, startTestRelay, type TestRelay } from '@orchard/relay/testing'

let relay: TestRelay
let owner: WorkspaceSession
const providers: WebsocketProvider[] = []

beforeAll(async () => {
  relay = await startTestRelay()
  owner = await WorkspaceSession.open({ credential: relay.ownerCredential, relayUrl: relay.url, label: 'owner' })
})
afterAll(async () => {
  for (const provider of providers) provider.destroy()
  await owner.close()
  await relay.close()
})

function stock(token: string, doc = new Y.Doc()): WebsocketProvider {
  const provider = new WebsocketProvider(relay.url, relay.workspaceId, doc, {
    WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
    params: { token },
    disableBc: true
  })
  providers.push(provider)
  return provider
}

async function memberCredential(role: 'editor' | 'viewer'): Promise<string> {
  const session = await WorkspaceSession.join(await owner.createInvite(role), { name: `stock-${role}` })
  const credential = session.store.getRelayWorkspaceRecord()!.authKey!
  await session.close()
  return credential
}

describe('stock y-websocket clients', () => {
  it('[COMPAT-1] a stock WebsocketProvider syncs the workspace doc with Orchard clients, both ways', async () => {
    owner.store.addProject('From Orchard', '/src/a')
    const provider = stock(await memberCredential('editor'))
    const doc = provider.doc
    await eventually(() => provider.synced, { what: 'stock provider synced' })
    await eventually(() => doc.getMap('projects').size === 1, { what: 'stock client sees the project' })
    doc.getMap('plain').set('hello', 'from plain yjs')
    await eventually(() => owner.store.doc.getMap('plain').get('hello') === 'from plain yjs', { what: 'orchard sees the plain edit' })
    owner.store.doc.getMap('plain').set('reply', 'from orchard')
    await eventually(() => doc.getMap('plain').get('reply') === 'from orchard', { what: 'stock client sees the reply' })
  })

  it('[COMPAT-2] a viewer\'s stock client reads but its updates are not applied', async () => {
    const provider = stock(await memberCredential('viewer'))
    await eventually(() => provider.synced, { what: 'viewer synced' })
    const denied: string[] = []
    const original = console.warn
    console.warn = (...args: unknown[]) => denied.push(args.join(' '))
    try {
      provider.doc.getMap('plain').set('viewer', 'should not land')
      await eventually(() => denied.some((line) => line.includes('Viewers can read')), { what: 'permission denied logged' })
    } finally {
      console.warn = original
    }
    const probe = stock(await memberCredential('editor'))
    await eventually(() => probe.synced, { what: 'probe synced' })
    expect(probe.doc.getMap('plain').has('viewer')).toBe(false)
    expect(owner.store.doc.getMap('plain').has('viewer')).toBe(false)
  })

  it('[COMPAT-3] awareness echoes from stock clients are dropped quietly; the socket stays', async () => {
    const a = stock(await memberCredential('editor'))
    const b = stock(await memberCredential('editor'))
    await eventually(() => a.wsconnected && b.wsconnected, { what: 'both connected' })
    a.awareness.setLocalStateField('cursor', { x: 1 })
    await eventually(() => [...b.awareness.getStates().values()].some((state) => (state.cursor as { x: number } | undefined)?.x === 1), { what: 'b sees a\'s cursor' })
    const stateOfA = b.awareness.getStates().get(a.awareness.clientID) as { orchard?: { name: string } }
    expect(stateOfA.orchard?.name).toBe('stock-editor')
    // b echoed a's state back to the relay when it received it; nobody was closed for it.
    a.awareness.setLocalStateField('cursor', { x: 2 })
    await eventually(() => (b.awareness.getStates().get(a.awareness.clientID)?.cursor as { x: number } | undefined)?.x === 2, { what: 'second move' })
    expect(a.wsconnected && b.wsconnected).toBe(true)
  })

  it('[SERVER-2] a stock client with a bad token is closed with 4401 after the upgrade', async () => {
    const codes: number[] = []
    const provider = stock('orc_m.nope.nope.nope')
    provider.on('connection-close', (event: { code: number } | null) => {
      if (event) codes.push(event.code)
    })
    await eventually(() => codes.length > 0, { what: 'close event' })
    expect(codes[0]).toBe(4401)
    provider.shouldConnect = false
  })
})
