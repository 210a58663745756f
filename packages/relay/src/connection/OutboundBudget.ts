/**
 * What the relay lets pile up for one connection (LIMIT-6), counted by the socket's own
 * `bufferedAmount`, with one outcome per kind of traffic:
 * - sync step-1 answers (the big ones: a whole doc) wait while more than `sendPauseBytes`
 *   is queued, and of several waiting for one channel only the newest is kept, so sixty
 *   step 1s from a peer that never reads cost one answer, not sixty;
 * - presence broadcasts are skipped while the socket is past `sendPauseBytes`, and one
 *   snapshot of everyone's current state is sent once it drains;
 * - terminal output is not handled here: its channel holds a lagging viewer back at its
 *   own, smaller high-water mark and skips it ahead (TERM-3);
 * - anything else (doc updates, acks, errors, replies) sent while more than
 *   `maxSendBufferBytes` beyond the sync answers in flight is queued closes the connection
 *   with 1013:
 *   a client that is merely slow reconnects and resyncs from its state vector, which is
 *   cheaper for everyone than buffering without bound.
 */
import type { RelayLimits } from '../limits.js'
import type { RelaySocket } from './types.js'

/** How often a connection with something waiting looks at its socket again. */
const DRAIN_POLL_MS = 20

export type Outbound = 'answer' | 'presence' | 'other'

/**
 * Implemented by the connection itself (not an object literal of closures: that would be
 * two more closures per connection).
 */
export interface OutboundHooks {
  /** The socket is past its cap: close it (1013). */
  overflow(): void
  /** Sends everyone's current presence (after broadcasts were skipped). */
  resendPresence(): void
}

export class OutboundBudget {
  /**
   * Sync answers waiting for room, newest per channel, run in the order first asked. Made
   * when the first answer has to wait: most connections never fill their socket.
   */
  private waiting: Map<string, () => void> | null = null
  private presenceStale = false
  /** Bytes of the sync answers sent since the socket last drained: they may sit in the buffer. */
  private answerAllowance = 0
  private timer: NodeJS.Timeout | null = null
  private closed = false
  /** Answers deferred and presence broadcasts skipped (for tests and metrics). */
  deferred = 0
  skipped = 0

  constructor(
    private readonly limits: Pick<RelayLimits, 'sendPauseBytes' | 'maxSendBufferBytes'>,
    private readonly socket: RelaySocket,
    private readonly hooks: OutboundHooks
  ) {}

  /** Runs a sync step-1 answer now if the socket has room, otherwise once it drains. */
  answer(channel: string, run: () => void): void {
    if (this.closed) return
    if (!this.waiting?.size && this.hasRoom()) {
      run()
      return
    }
    this.deferred++
    this.waiting ??= new Map()
    this.waiting.set(channel, run)
    this.watch()
  }

  /** Whether `bytes` may be queued now; false means drop it (the outcome already happened). */
  admit(byteLength: number, kind: Outbound): boolean {
    if (this.closed) return false
    const buffered = this.socket.bufferedAmount
    if (buffered <= this.limits.sendPauseBytes) this.answerAllowance = 0
    if (kind === 'answer') {
      this.answerAllowance += byteLength
      return true
    }
    if (kind === 'presence' && buffered > this.limits.sendPauseBytes) {
      this.skipped++
      this.presenceStale = true
      this.watch()
      return false
    }
    // The backlog already queued decides, not this frame: one update larger than the cap
    // (frames may be up to maxFrameBytes) still reaches a peer that keeps up.
    if (buffered > this.limits.maxSendBufferBytes + this.answerAllowance) {
      this.dispose()
      this.hooks.overflow()
      return false
    }
    return true
  }

  dispose(): void {
    this.closed = true
    this.waiting = null
    if (this.timer) clearInterval(this.timer)
    this.timer = null
  }

  private hasRoom(): boolean {
    return this.socket.bufferedAmount <= this.limits.sendPauseBytes
  }

  private watch(): void {
    if (this.timer || this.closed) return
    this.timer = setInterval(() => this.drain(), DRAIN_POLL_MS)
    this.timer.unref?.()
  }

  private drain(): void {
    if (this.closed) return
    while (this.waiting && this.waiting.size > 0 && this.hasRoom()) {
      const [channel, answer] = this.waiting.entries().next().value as [string, () => void]
      this.waiting.delete(channel)
      answer()
    }
    if (this.waiting?.size === 0) this.waiting = null
    if (this.presenceStale && this.hasRoom()) {
      this.presenceStale = false
      this.hooks.resendPresence()
    }
    if (!this.waiting && !this.presenceStale && this.timer) {
      clearInterval(this.timer)
      this.timer = null
    }
  }
}
