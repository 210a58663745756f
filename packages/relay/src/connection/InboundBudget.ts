/**
 * What one connection may send (LIMIT-3, LIMIT-4, LIMIT-5): every frame is charged to a
 * frame budget and a byte budget; terminal output to its own, larger pair. A sender over
 * budget is first slowed the way TCP slows a sender: the relay stops reading its socket
 * until the budget has refilled, so an honest burst (a stock y-websocket client pushing
 * 10,000 updates) arrives in full, a little later. Only a sender kept at its limit for
 * `maxThrottledMs` without easing off is closed (4429), and one on a transport that cannot
 * pause is closed once it is over budget, as before. Terminal output is only ever slowed:
 * a chatty agent never gets its host disconnected.
 */
import type { RelayLimits } from '../limits.js'
import { RateLimiter } from './RateLimiter.js'
import type { RelaySocket } from './types.js'

export type Admission = 'ok' | 'close'

type Budgets = Pick<RelayLimits, 'framesPerSecond' | 'bytesPerSecond' | 'outputFramesPerSecond' | 'outputBytesPerSecond' | 'maxThrottledMs'>

/** One clock for every budget: a default `() => performance.now()` would be a closure per connection. */
const monotonicNow = (): number => performance.now()

export class InboundBudget {
  private readonly frames: RateLimiter
  private readonly bytes: RateLimiter
  /**
   * Made at the first terminal-output frame: only an agent's host ever sends one, and a
   * pair of buckets per connection adds up over thousands of idle connections.
   */
  private output: { frames: RateLimiter; bytes: RateLimiter } | null = null
  private resumeTimer: NodeJS.Timeout | null = null
  /** When the sender was first held at its limit, if it has not eased off since. */
  private throttledSince: number | null = null
  /** Times the socket was paused (for tests and metrics). */
  pauses = 0

  constructor(
    private readonly limits: Budgets,
    private readonly socket: RelaySocket,
    private readonly now: () => number = monotonicNow
  ) {
    this.frames = new RateLimiter(limits.framesPerSecond, limits.framesPerSecond * 2, now)
    this.bytes = new RateLimiter(limits.bytesPerSecond, limits.bytesPerSecond * 2, now)
  }

  /** Charges one frame that has arrived; 'close' means close the sender with 4429. */
  admit(byteLength: number, output: boolean): Admission {
    const waitMs = output ? this.chargeOutput(byteLength) : Math.max(this.frames.charge(1), this.bytes.charge(byteLength))
    if (waitMs === 0) {
      if (this.throttledSince !== null && this.frames.eased && this.bytes.eased) this.throttledSince = null
      return 'ok'
    }
    if (!this.socket.pause || !this.socket.resume) return 'close'
    if (!output) {
      const now = this.now()
      this.throttledSince ??= now
      if (now - this.throttledSince > this.limits.maxThrottledMs) return 'close'
    }
    this.pauseFor(waitMs)
    return 'ok'
  }

  get paused(): boolean {
    return this.resumeTimer !== null
  }

  dispose(): void {
    if (this.resumeTimer) clearTimeout(this.resumeTimer)
    this.resumeTimer = null
  }

  private chargeOutput(byteLength: number): number {
    const { limits, now } = this
    this.output ??= {
      frames: new RateLimiter(limits.outputFramesPerSecond, limits.outputFramesPerSecond * 2, now),
      bytes: new RateLimiter(limits.outputBytesPerSecond, limits.outputBytesPerSecond * 2, now)
    }
    return Math.max(this.output.frames.charge(1), this.output.bytes.charge(byteLength))
  }

  /** Stops reading until the debt is paid; frames already read still arrive (and are charged). */
  private pauseFor(waitMs: number): void {
    if (this.resumeTimer) return
    this.pauses++
    this.socket.pause?.()
    this.resumeTimer = setTimeout(() => {
      this.resumeTimer = null
      this.socket.resume?.()
    }, Math.ceil(waitMs))
  }
}
