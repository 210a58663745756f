/**
 * A client transport straight into a core, no sockets: for unit tests of the protocol.
 * It lives with the relay's tests, not in `@orchard/relay/testing`, because it needs the
 * client (a dev dependency of the relay): the relay package itself never imports the client.
 */
import type { TransportFactory } from '@orchard/client'
import { MemoryPair } from '@orchard/client/testing'
import type { RelayCore } from '../../src/RelayCore.js'

export function memoryTransport(core: RelayCore, pairs: MemoryPair[] = []): TransportFactory {
  return () => {
    const pair = new MemoryPair()
    pairs.push(pair)
    const handle = core.acceptOrchard(pair.server)
    pair.server.onMessage((data) => handle.receive(data))
    pair.server.onClose(() => handle.closed())
    return pair.client
  }
}
