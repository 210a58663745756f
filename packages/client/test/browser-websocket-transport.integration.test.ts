/**
 * The browser's WebSocket transport passes the transport contract (TRANSPORT-3) against a
 * real relay process. Node 20 has no DOM WebSocket, so `ws` stands in for it: it speaks the
 * same EventTarget surface (addEventListener, binaryType 'arraybuffer', close events with
 * code and reason), and is lent to the transport only while it is made, so no other test
 * in this worker sees a global WebSocket.
 */
import { afterAll, beforeAll } from 'vitest'
import WebSocket from 'ws'
import { browserWebSocketTransport, type Transport } from '@orchard/client/browser'
import { runTransportContract } from '@orchard/client/testing'
import { startRelayChild, type RelayChild } from './harness/relay.js'

let relay: RelayChild
beforeAll(async () => {
  relay = await startRelayChild()
})
afterAll(() => relay.close())

/** Makes one transport with `ws` as the page's WebSocket, then puts the global back. */
function withDomWebSocket(make: () => Transport): Transport {
  const scope = globalThis as { WebSocket?: unknown }
  const had = Object.prototype.hasOwnProperty.call(scope, 'WebSocket')
  const previous = scope.WebSocket
  scope.WebSocket = WebSocket
  try {
    return make()
  } finally {
    if (had) scope.WebSocket = previous
    else delete scope.WebSocket
  }
}

runTransportContract(async () => {
  const factory = browserWebSocketTransport(relay.url)
  return { connect: () => withDomWebSocket(factory), credential: relay.ownerCredential, teardown: () => undefined }
}, 'browser websocket')
