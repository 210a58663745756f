/**
 * ACK frames are cumulative (WIRE: "frames 1..seq settled"), but updates settle out of
 * order: a refused one at once, a stored one a turn later. This advances the acknowledged
 * point only over a contiguous run, and coalesces the ACKs of one turn into one frame.
 */
export class AckTracker {
  private received = 0
  private acked = 0
  private readonly settled = new Set<number>()
  private scheduled = false

  constructor(private readonly sendAck: (seq: number) => void) {}

  /** Numbers the next update frame from the peer. */
  next(): number {
    return ++this.received
  }

  settle(seq: number): void {
    this.settled.add(seq)
    while (this.settled.has(this.acked + 1)) this.settled.delete(++this.acked)
    if (this.scheduled) return
    this.scheduled = true
    setImmediate(() => {
      this.scheduled = false
      this.sendAck(this.acked)
    })
  }
}
