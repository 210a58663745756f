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

  take(amount = 1): boolean {
    const now = this.now()
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate)
    this.last = now
    if (this.tokens < amount) return false
    this.tokens -= amount
    return true
  }
}
