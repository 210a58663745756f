/**
 * A token bucket (RC-6): `perMinute` posts a minute on average, `burst` at once. RelayCast
 * counts posts per workspace in fixed one-minute windows shared with Pear's agents, so each
 * instance spends only its share and smooths it, instead of emptying the window in a burst.
 */
export class TokenBucket {
  private tokens: number
  private last: number

  constructor(
    readonly perMinute: number,
    readonly burst: number,
    private readonly now: () => number = Date.now
  ) {
    if (!(perMinute > 0) || !(burst >= 1)) throw new RangeError(`A token bucket needs perMinute > 0 and burst >= 1 (got ${perMinute}, ${burst}).`)
    this.tokens = burst
    this.last = now()
  }

  /** Takes a token if one is there. */
  take(): boolean {
    this.refill()
    if (this.tokens < 1) return false
    this.tokens -= 1
    return true
  }

  /** Milliseconds until a token is there (0 if one is). */
  waitMs(): number {
    this.refill()
    return this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) * 60_000) / this.perMinute)
  }

  /** After a rate_limited reply the server's window is spent: start again from empty. */
  drain(): void {
    this.refill()
    this.tokens = 0
  }

  private refill(): void {
    const now = this.now()
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.perMinute) / 60_000)
    this.last = now
  }
}
