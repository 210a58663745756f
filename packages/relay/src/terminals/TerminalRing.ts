/**
 * The recent output of one terminal (TERM-2): chunks of one generation with their byte
 * offsets, bounded by total bytes, and with every other ring by a shared RingBudget
 * (TERM-9). The oldest chunks fall off; what remains is a contiguous range [start, end)
 * that a viewer can resume from.
 */
import type { BudgetedRing, RingBudget } from './RingBudget.js'

export interface OutputChunk {
  generation: number
  offset: number
  data: Uint8Array
  /** The encoded TERM_OUTPUT frame, made once and sent to every viewer (TERM-3). */
  frame: Uint8Array
}

export class TerminalRing implements BudgetedRing {
  generation = 0
  private chunks: OutputChunk[] = []
  private bytes = 0
  /** First offset still held (after eviction) and the end of the stream. */
  start = 0
  end = 0
  lastWrite = 0

  constructor(
    private readonly limit: number,
    private readonly budget?: RingBudget
  ) {
    budget?.add(this)
  }

  /** The ring is gone (its terminal closed): it no longer counts against the budget. */
  release(): void {
    this.budget?.remove(this)
  }

  /** TERM-9: gives up the oldest chunk for the relay-wide budget. */
  dropOldest(): number {
    const dropped = this.chunks.shift()
    if (!dropped) return 0
    this.bytes -= dropped.data.byteLength
    this.start = this.chunks[0]?.offset ?? this.end
    return dropped.data.byteLength
  }

  get size(): number {
    return this.bytes
  }

  /**
   * Adds a chunk. A new generation starts over; a chunk that repeats bytes already held is
   * trimmed to its new part (or ignored); a chunk past the end means the host skipped
   * bytes, so the ring restarts at it (viewers behind it get a gap).
   * Returns the part that is new, or null.
   */
  append(generation: number, offset: number, data: Uint8Array, encode: (offset: number, data: Uint8Array) => Uint8Array): OutputChunk | null {
    const before = this.bytes
    const chunk = this.appendWithin(generation, offset, data, encode)
    if (chunk && this.budget) {
      this.lastWrite = this.budget.stamp()
      this.budget.changed(this.bytes - before)
    } else if (this.budget && this.bytes !== before) this.budget.changed(this.bytes - before)
    return chunk
  }

  private appendWithin(generation: number, offset: number, data: Uint8Array, encode: (offset: number, data: Uint8Array) => Uint8Array): OutputChunk | null {
    if (generation < this.generation) return null
    // Generations start at 1, so the first chunk ever also starts the ring at its offset.
    if (generation > this.generation) this.reset(generation, offset)
    if (offset + data.byteLength <= this.end) return null
    if (offset < this.end) {
      data = data.subarray(this.end - offset)
      offset = this.end
    } else if (offset > this.end) {
      this.chunks = []
      this.bytes = 0
      this.start = offset
      this.end = offset
    }
    const chunk: OutputChunk = { generation, offset, data, frame: encode(offset, data) }
    this.chunks.push(chunk)
    this.bytes += data.byteLength
    this.end = offset + data.byteLength
    while (this.bytes > this.limit && this.chunks.length > 1) {
      const dropped = this.chunks.shift() as OutputChunk
      this.bytes -= dropped.data.byteLength
      this.start = (this.chunks[0] as OutputChunk).offset
    }
    if (this.bytes > this.limit) {
      // One chunk bigger than the whole ring: keep its tail (re-encoded; rare, hosts send
      // at most a few hundred KiB per frame).
      const only = this.chunks[0] as OutputChunk
      const excess = this.bytes - this.limit
      const data = only.data.subarray(excess)
      const trimmed: OutputChunk = { generation, offset: only.offset + excess, data, frame: encode(only.offset + excess, data) }
      this.chunks[0] = trimmed
      this.bytes = data.byteLength
      this.start = trimmed.offset
    }
    return chunk
  }

  /** Can a viewer at this position be served from the ring alone? */
  holds(generation: number, offset: number): boolean {
    return generation === this.generation && offset >= this.start && offset <= this.end
  }

  /** The chunks from `offset` on; the first one sliced to start exactly there. */
  readFrom(offset: number, encode: (offset: number, data: Uint8Array) => Uint8Array): OutputChunk[] {
    const out: OutputChunk[] = []
    for (const chunk of this.chunks) {
      const chunkEnd = chunk.offset + chunk.data.byteLength
      if (chunkEnd <= offset) continue
      if (chunk.offset >= offset) out.push(chunk)
      else {
        const data = chunk.data.subarray(offset - chunk.offset)
        out.push({ generation: chunk.generation, offset, data, frame: encode(offset, data) })
      }
    }
    return out
  }

  private reset(generation: number, offset: number): void {
    this.generation = generation
    this.chunks = []
    this.bytes = 0
    this.start = offset
    this.end = offset
  }
}
