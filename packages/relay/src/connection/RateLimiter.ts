/** A token bucket: `rate` per second sustained, `burst` at once. */
export class RateLimiter {
  private tokens: number
  private last: number

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    private readonly now: () => number = () => performance.now()
  ) {
    this.tokens = burst
    this.last = now()
  }

  /** Takes `amount` if the bucket holds it; otherwise takes nothing and says no. */
  take(amount = 1): boolean {
    this.refill()
    if (this.tokens < amount) return false
    this.tokens -= amount
    return true
  }

  /**
   * Takes `amount` even if that leaves the bucket in debt (for input already received, which
   * cannot be refused, only paid for). Returns how long until the bucket is out of debt (ms).
   */
  charge(amount: number): number {
    this.refill()
    this.tokens -= amount
    return this.tokens >= 0 ? 0 : this.rate > 0 ? (-this.tokens / this.rate) * 1000 : Number.POSITIVE_INFINITY
  }

  /** Milliseconds until `amount` could be taken (0: now). */
  waitMs(amount = 1): number {
    this.refill()
    if (this.tokens >= amount) return 0
    return this.rate > 0 ? ((amount - this.tokens) / this.rate) * 1000 : Number.POSITIVE_INFINITY
  }

  /** The bucket is full again: its owner has been quiet long enough to forget. */
  get full(): boolean {
    this.refill()
    return this.tokens >= this.burst
  }

  /** At least half the burst is back: the sender has eased off (LIMIT-5). */
  get eased(): boolean {
    this.refill()
    return this.tokens >= this.burst / 2
  }

  private refill(): void {
    const now = this.now()
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate)
    this.last = now
  }
}
