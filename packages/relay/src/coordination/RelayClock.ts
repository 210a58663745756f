/**
 * The relay's clock for leases (LEASE-6): wall time that never runs backwards. A clock
 * stepped back would otherwise stretch a lease; stepped forward, leases only expire
 * sooner, which fencing makes safe.
 */
export class RelayClock {
  private last = 0

  constructor(private readonly source: () => number = Date.now) {}

  now(): number {
    const value = this.source()
    if (value > this.last) this.last = value
    return this.last
  }
}
