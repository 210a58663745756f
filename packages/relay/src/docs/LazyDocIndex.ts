/**
 * An index over a document's stored updates that costs nothing until a question needs it:
 * built from the whole doc on first use, then fed the updates stored since only when the
 * next question comes (storing an update just queues it). Once the queue holds more than
 * the doc itself (or 64 KiB), the index is dropped and rebuilt from the doc when next
 * asked: reading the doc once is then cheaper than reading the backlog. DeletedRanges
 * (VALID-3) and TypeDepths (VALID-6) are kept this way.
 */
export interface DocIndex {
  /** Takes in updates the doc stored after the index was built, in order. */
  read(updates: readonly Uint8Array[]): void
}

export class LazyDocIndex<T extends DocIndex> {
  private index: T | null = null
  private pending: Uint8Array[] = []
  private pendingBytes = 0

  constructor(private readonly build: (full: Uint8Array) => T) {}

  /** Notes an update the doc stored; `docBytes` is the doc's size with it. */
  stored(update: Uint8Array, docBytes: number): void {
    if (!this.index) return
    this.pending.push(update)
    this.pendingBytes += update.byteLength
    if (this.pendingBytes > Math.max(docBytes, 64 * 1024)) this.drop()
  }

  /** The index, up to date with every stored update; `full` gives the doc when it must be built. */
  current(full: () => Uint8Array): T {
    if (!this.index) {
      this.index = this.build(full())
    } else if (this.pending.length > 0) {
      this.index.read(this.pending)
    }
    this.pending = []
    this.pendingBytes = 0
    return this.index
  }

  private drop(): void {
    this.index = null
    this.pending = []
    this.pendingBytes = 0
  }
}
