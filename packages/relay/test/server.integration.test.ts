/**
 * The HTTP side of the real server, and the relay's docless state.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { WebsocketProvider } from 'y-websocket'
import { RelayProvider, webSocketTransport } from '@orchard/client'
import * as Y from 'yjs'
import { ControlDoc } from '@orchard/relay'
import { eventually, startTestRelay, type TestRelay } from '@orchard/relay/testing'

let relay: TestRelay
let http: string
beforeAll(async () => {
  relay = await startTestRelay()
  http = relay.url.replace('ws://', 'http://')
})
afterAll(() => relay.close())

describe('the server', () => {
  it('[SERVER-1] serves health, metrics, the admin API and says what exists otherwise', async () => {
    expect(await (await fetch(`${http}/healthz`)).json()).toMatchObject({ ok: true })
    const missing = await fetch(`${http}/nope`)
    expect(missing.status).toBe(404)
    expect(await missing.json()).toMatchObject({ message: expect.stringContaining('GET /healthz') })
    const refused = await fetch(`${http}/v1/workspaces`, { method: 'POST', body: '{}' })
    expect(refused.status).toBe(401)
    const created = await fetch(`${http}/v1/workspaces`, {
      method: 'POST',
      headers: { authorization: `Bearer ${relay.server.adminToken}` },
      body: JSON.stringify({ name: 'Second', ownerName: 'Zoe' })
    })
    expect(created.status).toBe(201)
    const body = (await created.json()) as { workspaceId: string; ownerCredential: string }
    const client = new RelayProvider({ transport: webSocketTransport(relay.url), credential: body.ownerCredential, instanceId: 'z', docs: { workspace: new Y.Doc() } })
    const welcome = await new Promise<{ workspaceId: string; memberName: string }>((resolve) => client.once('welcome', resolve))
    expect(welcome).toMatchObject({ workspaceId: body.workspaceId, memberName: 'Zoe' })
    client.destroy()
    const closed = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`${relay.url}/a/b/c`)
      ws.on('close', (code) => resolve(code))
      ws.on('error', () => undefined)
    })
    expect(closed).toBe(4404)
  })

  it('[METRICS-1] /metrics reports connections, docs, updates and bytes', async () => {
    const client = new RelayProvider({ transport: webSocketTransport(relay.url), credential: relay.ownerCredential, instanceId: 'm', docs: { workspace: new Y.Doc() } })
    await client.whenSynced()
    ;(client.docs.workspace as Y.Doc).getMap('m').set('k', 1)
    await client.whenPersisted()
    const text = await (await fetch(`${http}/metrics`)).text()
    expect(text).toMatch(/^# TYPE orchard_connections gauge$/m)
    expect(Number(/^orchard_connections (\d+)$/m.exec(text)?.[1])).toBeGreaterThanOrEqual(1)
    expect(Number(/^orchard_docs_loaded (\d+)$/m.exec(text)?.[1])).toBeGreaterThanOrEqual(2)
    expect(Number(/^orchard_updates_total (\d+)$/m.exec(text)?.[1])).toBeGreaterThanOrEqual(1)
    // Rates are Prometheus's rate(), not a gauge the relay computes.
    expect(text).not.toContain('orchard_updates_per_second')
    expect(text).toMatch(/^# TYPE orchard_bytes_in_total counter$/m)
    expect(Number(/^orchard_bytes_out_total (\d+)$/m.exec(text)?.[1])).toBeGreaterThan(0)
    client.destroy()
  })

  it('[DOCS-1] [CONTROL-2] the relay holds merged bytes, not a Y.Doc, and serves a full sync from them', async () => {
    const writer = new RelayProvider({ transport: webSocketTransport(relay.url), credential: relay.ownerCredential, instanceId: 'w', docs: { workspace: new Y.Doc() } })
    await writer.whenSynced()
    const doc = writer.docs.workspace as Y.Doc
    for (let n = 0; n < 50; n++) doc.getMap('docless').set(`k${n}`, n)
    await writer.whenPersisted()
    const room = await relay.core.room(relay.workspaceId)
    const first = room.workspaceDoc.fullUpdate()
    expect(room.workspaceDoc.fullUpdate()).toBe(first) // cached bytes, nothing re-encoded
    const reader = new RelayProvider({ transport: webSocketTransport(relay.url), credential: relay.ownerCredential, instanceId: 'r', docs: { workspace: new Y.Doc() } })
    await reader.whenSynced()
    expect((reader.docs.workspace as Y.Doc).getMap('docless').toJSON()).toEqual(doc.getMap('docless').toJSON())
    writer.destroy()
    reader.destroy()

    // A workspace only stock y-websocket clients write to never gets a Y.Doc on the relay.
    const plain = await relay.core.createWorkspace('Plain', 'Pat')
    const stock = new WebsocketProvider(relay.url, plain.workspace.id, new Y.Doc(), {
      WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
      params: { token: plain.credential },
      disableBc: true
    })
    stock.doc.getMap('m').set('k', 'v')
    const plainRoom = await relay.core.room(plain.workspace.id)
    await eventually(() => plainRoom.workspaceDoc.bytes > 2 && plainRoom.workspaceDoc.lastSeq > 0, { what: 'stored' })
    expect(Object.values(plainRoom.workspaceDoc).some((value) => value instanceof Y.Doc)).toBe(false)
    // [CONTROL-2] nor a control doc: a stock client's coming and going writes nothing there.
    expect(Object.values(plainRoom).some((value) => value instanceof ControlDoc)).toBe(false)
    expect(await relay.core.storage.loadDoc(`${plain.workspace.id}/control`)).toBeUndefined()
    stock.destroy()
  })
})
