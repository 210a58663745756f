/**
 * The listening half of a Transport (TRANSPORT-2), for transports that tell their listeners
 * themselves (an in-memory pair, RelayCast's virtual connection) rather than hand them to a
 * socket: open and message listeners are told in the order they were added, and the end
 * once, also to a listener added after it (TRANSPORT-3, through a CloseLatch). A subclass
 * writes send() and close() and calls opened(), deliver() and closing.close().
 */
import { CloseLatch } from './CloseLatch.js'
import type { Transport } from './transport.js'

export abstract class BaseTransport implements Transport {
  /** How the connection ended; a subclass ends it with `closing.close(code, reason)`. */
  protected readonly closing = new CloseLatch()
  private readonly openListeners: Array<() => void> = []
  private readonly messageListeners: Array<(data: Uint8Array) => void> = []

  abstract send(data: Uint8Array): void
  abstract close(code?: number, reason?: string): void

  onOpen(listener: () => void): void {
    this.openListeners.push(listener)
  }

  onMessage(listener: (data: Uint8Array) => void): void {
    this.messageListeners.push(listener)
  }

  onClose(listener: (code: number, reason: string) => void): void {
    this.closing.listen(listener)
  }

  /** Tells every open listener the connection is up. */
  protected opened(): void {
    for (const listener of this.openListeners) listener()
  }

  /** Hands one received frame to every message listener. */
  protected deliver(data: Uint8Array): void {
    for (const listener of this.messageListeners) listener(data)
  }
}
