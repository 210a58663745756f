/**
 * One ws socket as the relay core sees it (RelaySocket). A class, not an object literal of
 * arrow functions: there is one of these per open connection, and a literal costs five
 * closures and their context per socket (under tsx's keepNames, each closure also carries
 * its own property dictionary: some 2 KB per connection in the rooms benchmark), where
 * the class costs one small object.
 */
import type { RelaySocket } from '../connection/types.js'
import type { RelayWebSocket } from './RelayWebSocket.js'

export class WsRelaySocket implements RelaySocket {
  constructor(
    private readonly ws: RelayWebSocket,
    /** How long a closed peer has to answer the close handshake before it is cut off. */
    private readonly closeGraceMs: number
  ) {}

  send(data: Uint8Array): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(data, { binary: true })
  }

  close(code: number, reason: string): void {
    const ws = this.ws
    // A socket paused by flow control (LIMIT-5) must read again to finish the handshake.
    ws.resume()
    ws.close(code, reason.slice(0, 120))
    // A peer that does not read never answers the close either; ws would hold its socket
    // and everything queued on it for 30 s (LIMIT-6).
    const timer = setTimeout(() => ws.terminate(), this.closeGraceMs)
    timer.unref?.()
    ws.once('close', () => clearTimeout(timer))
  }

  get bufferedAmount(): number {
    return this.ws.bufferedAmount
  }

  pause(): void {
    this.ws.pause()
  }

  resume(): void {
    this.ws.resume()
  }
}
