/** The WebSocket transport passes the transport contract against a real relay process. */
import { afterAll, beforeAll } from 'vitest'
import { webSocketTransport } from '@orchard/client'
import { runTransportContract } from '@orchard/client/testing'
import { startRelayChild, type RelayChild } from './harness/relay.js'

// One relay for the file: each contract test opens its own connections to it.
let relay: RelayChild
beforeAll(async () => {
  relay = await startRelayChild()
})
afterAll(() => relay.close())

runTransportContract(async () => ({ connect: webSocketTransport(relay.url), credential: relay.ownerCredential, teardown: () => undefined }), 'websocket')
