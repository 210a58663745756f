/**
 * One token bucket per key (a remote address, a member), for connection rates (LIMIT-7,
 * LIMIT-8). Keys whose bucket has refilled are forgotten, so the map stays as small as the
 * set of keys active in the last burst / rate seconds, whatever an attacker sends.
 */
import { RateLimiter } from './RateLimiter.js'

const PRUNE_EVERY = 1_000

export class KeyedRateLimiter {
  private readonly buckets = new Map<string, RateLimiter>()
  private takes = 0

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    private readonly now: () => number = () => performance.now()
  ) {}

  /** Takes one for `key`: 0 if allowed, otherwise the milliseconds until it would be. */
  take(key: string): number {
    if (++this.takes % PRUNE_EVERY === 0) this.prune()
    let bucket = this.buckets.get(key)
    if (!bucket) {
      bucket = new RateLimiter(this.rate, this.burst, this.now)
      this.buckets.set(key, bucket)
    }
    if (bucket.take()) return 0
    return Math.max(1, Math.ceil(bucket.waitMs()))
  }

  get size(): number {
    return this.buckets.size
  }

  private prune(): void {
    for (const [key, bucket] of this.buckets) if (bucket.full) this.buckets.delete(key)
  }
}
