/**
 * An in-memory connection with two ends, for tests: one end is a client Transport, the
 * other is what a relay core accepts. Delivery is asynchronous (a microtask), or held
 * until flush() in manual mode, so a test can choose order, drops and disconnects.
 */
import { BaseTransport } from '../BaseTransport.js'
import type { CloseOutcome } from '../CloseLatch.js'

export class MemoryEnd extends BaseTransport {
  peer!: MemoryEnd
  /** Bytes sent by this end not yet delivered (what a socket would report as buffered). */
  bufferedAmount = 0

  constructor(private readonly pair: MemoryPair) {
    super()
  }

  /** How this end was closed, or null while it is open. */
  get closedWith(): CloseOutcome | null {
    return this.closing.closed
  }

  send(data: Uint8Array): void {
    if (this.closedWith) return
    const copy = data.slice()
    this.bufferedAmount += copy.byteLength
    this.pair.enqueue(() => {
      this.bufferedAmount -= copy.byteLength
      if (!this.peer.closedWith) this.peer.deliver(copy)
    })
  }

  close(code = 1000, reason = ''): void {
    this.pair.closeBoth(code, reason)
  }

  /** @internal */
  fireOpen(): void {
    this.opened()
  }

  /** @internal */
  fireClose(code: number, reason: string): void {
    this.closing.close(code, reason)
  }
}

export class MemoryPair {
  readonly client: MemoryEnd
  readonly server: MemoryEnd
  private readonly queue: Array<() => void> = []
  private scheduled = false

  constructor(private readonly manual = false) {
    this.client = new MemoryEnd(this)
    this.server = new MemoryEnd(this)
    this.client.peer = this.server
    this.server.peer = this.client
    queueMicrotask(() => this.client.fireOpen())
  }

  /** @internal */
  enqueue(deliver: () => void): void {
    this.queue.push(deliver)
    if (this.manual || this.scheduled) return
    this.scheduled = true
    queueMicrotask(() => {
      this.scheduled = false
      this.flush()
    })
  }

  /** Delivers everything queued (in manual mode, the test calls this). */
  flush(): void {
    while (this.queue.length > 0) (this.queue.shift() as () => void)()
  }

  /** Drops whatever is queued: as if the network lost it. */
  drop(): void {
    this.queue.length = 0
  }

  /** A network cut: what is in flight is lost and both ends see 1006, as with a dead socket. */
  cut(): void {
    this.drop()
    this.closeBoth(1006, '')
  }

  closeBoth(code: number, reason: string): void {
    this.flush()
    this.client.fireClose(code, reason)
    this.server.fireClose(code, reason)
  }
}
