/**
 * The bound on terminal output held by the whole relay (TERM-9). Each ring is bounded on
 * its own (`terminalRingBytes`), and all rings together by `terminalRingBudgetBytes`: when
 * an append takes the total over it, the largest ring gives up its oldest chunks first
 * (ties: the one written least recently), until the total fits. A viewer whose position
 * was given up is skipped ahead with a gap and the host's snapshot (TERM-2), exactly as if
 * its own ring had run over; live viewers are at the end of their ring and never notice.
 */
export interface BudgetedRing {
  readonly size: number
  /** A counter value, larger for rings written more recently. */
  readonly lastWrite: number
  /** Drops the oldest chunk (all of it if it is the only one); returns the bytes freed. */
  dropOldest(): number
}

export class RingBudget {
  private readonly rings = new Set<BudgetedRing>()
  private total = 0
  private writes = 0
  /** Bytes given up to keep the total under the budget (for tests and metrics). */
  evicted = 0

  constructor(readonly limit: number) {}

  get bytes(): number {
    return this.total
  }

  add(ring: BudgetedRing): void {
    this.rings.add(ring)
    this.total += ring.size
  }

  remove(ring: BudgetedRing): void {
    if (this.rings.delete(ring)) this.total -= ring.size
  }

  /** The next write stamp, for a ring that just appended. */
  stamp(): number {
    return ++this.writes
  }

  /** A ring's size changed by `delta`; gives way across rings if the total is now over. */
  changed(delta: number): void {
    this.total += delta
    while (this.total > this.limit) {
      const victim = this.largest()
      if (!victim || victim.size === 0) return
      const freed = victim.dropOldest()
      if (freed <= 0) return
      this.total -= freed
      this.evicted += freed
    }
  }

  private largest(): BudgetedRing | null {
    let best: BudgetedRing | null = null
    for (const ring of this.rings) {
      if (!best || ring.size > best.size || (ring.size === best.size && ring.lastWrite < best.lastWrite)) best = ring
    }
    return best
  }
}
