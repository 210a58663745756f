/**
 * PROVIDER-7 with real parts: a destroyed provider stays destroyed. The relay is a real
 * process on a loopback port, the provider speaks real WebSockets, and the relay's own
 * count of open connections (GET /healthz) says whether a socket came back.
 * provider-destroy.test.ts checks the timers and the events on a fake clock.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import { RelayProvider, webSocketTransport, type Transport } from '@orchard/client'
import { startRelayChild, type RelayChild } from './harness/relay.js'

let relay: RelayChild
const providers: RelayProvider[] = []
beforeAll(async () => {
  relay = await startRelayChild()
})
afterAll(async () => {
  for (const provider of providers) provider.destroy()
  await relay.close()
})

/** Open Orchard connections, as the relay counts them. */
async function relayConnections(): Promise<number> {
  const response = await fetch(`${relay.url.replace(/^ws/, 'http')}/healthz`)
  return ((await response.json()) as { connections: number }).connections
}

/** A provider whose transports the test can count and reach. */
function provider(instanceId: string): { provider: RelayProvider; transports: Transport[] } {
  const transports: Transport[] = []
  const factory = webSocketTransport(relay.url)
  const created = new RelayProvider({
    transport: () => {
      const transport = factory()
      transports.push(transport)
      return transport
    },
    credential: relay.ownerCredential,
    instanceId,
    docs: { workspace: new Y.Doc(), control: new Y.Doc() },
    // Short, so a retry that should not happen would happen well within the test.
    backoff: { initialMs: 10, maxMs: 20 }
  })
  providers.push(created)
  return { provider: created, transports }
}

/** A second instance connects and syncs: by then the relay has seen any socket opened before it. */
async function laterConnection(): Promise<void> {
  const { provider: witness } = provider(`witness-${providers.length}`)
  await witness.whenSynced()
  expect(await relayConnections()).toBe(1)
  witness.destroy()
  await vi.waitFor(async () => expect(await relayConnections()).toBe(0), { timeout: 10_000 })
}

describe('PROVIDER-7: destroy() is final (real relay, real sockets)', () => {
  it('[PROVIDER-7] connect() after destroy() opens no socket: the relay sees the connection close and never come back, and the status stays disconnected', async () => {
    const { provider: a, transports } = provider('destroyed-then-connected')
    await a.whenSynced()
    expect(await relayConnections()).toBe(1)
    a.destroy()
    await vi.waitFor(async () => expect(await relayConnections()).toBe(0), { timeout: 10_000 })
    const statuses: string[] = []
    a.on('status', (status) => statuses.push(status))
    a.connect()
    expect(transports).toHaveLength(1)
    expect(a.status).toBe('disconnected')
    await laterConnection()
    expect(transports).toHaveLength(1)
    expect([a.status, statuses]).toEqual(['disconnected', []])
  })

  it('[PROVIDER-7] destroy() while the socket is still opening ends it, and no retry follows', async () => {
    const { provider: a, transports } = provider('destroyed-while-connecting')
    expect(a.status).toBe('connecting')
    a.destroy()
    expect(a.status).toBe('disconnected')
    // The provider no longer listens; the test takes the socket's close (one listener per transport).
    await new Promise<void>((resolve) => transports[0]!.onClose(() => resolve()))
    await laterConnection()
    expect(transports).toHaveLength(1)
    expect(a.status).toBe('disconnected')
  })
})
