/**
 * A client transport straight into a relay core, no sockets: for tests of anything above the
 * transport. The core is taken as the one method it needs, so this never imports the relay.
 */
import type { TransportFactory } from '../transport.js'
import { MemoryPair, type MemoryEnd } from './MemoryTransport.js'

/** What a relay core offers a transport (`RelayCore` from @orchard/relay fits it). */
export interface MemoryAcceptor {
  acceptOrchard(socket: MemoryEnd): { receive(data: Uint8Array): void; closed(): void }
}

/** Each call opens a fresh pair into `core`; `pairs` collects them for tests that cut links. */
export function memoryTransport(core: MemoryAcceptor, pairs: MemoryPair[] = []): TransportFactory {
  return () => {
    const pair = new MemoryPair()
    pairs.push(pair)
    const handle = core.acceptOrchard(pair.server)
    pair.server.onMessage((data) => handle.receive(data))
    pair.server.onClose(() => handle.closed())
    return pair.client
  }
}
