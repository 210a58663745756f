/**
 * Turns the terminal frames a viewer receives into one byte stream (TERM-5): each byte
 * once, in order, across reconnects and duplicate deliveries. Dedup is by generation and
 * offset, never by content, so output that repeats itself is never dropped. Pure.
 */
export type Delivery =
  | { kind: 'data'; generation: number; offset: number; data: Uint8Array }
  | { kind: 'gap'; generation: number; from: number; to: number; cols: number; rows: number; snapshot: string }
  | { kind: 'generation'; generation: number }
  /** Bytes are missing before this chunk: ask the relay again from `offset`. */
  | { kind: 'resync'; generation: number; offset: number }

export class OutputReassembler {
  generation = 0
  /** The next byte offset expected in `generation`. */
  next = 0

  constructor(from: { generation: number; offset: number } = { generation: 0, offset: 0 }) {
    this.generation = from.generation
    this.next = from.offset
  }

  output(generation: number, offset: number, data: Uint8Array): Delivery[] {
    if (generation < this.generation) return []
    const out: Delivery[] = []
    if (generation > this.generation) {
      // A new generation (the agent restarted, or our first output): the relay starts us
      // at a resumable point, so this chunk's offset is where we are.
      this.generation = generation
      this.next = offset
      out.push({ kind: 'generation', generation })
    }
    const end = offset + data.byteLength
    if (end <= this.next) return out
    if (offset > this.next) {
      out.push({ kind: 'resync', generation, offset: this.next })
      return out
    }
    out.push({ kind: 'data', generation, offset: this.next, data: offset === this.next ? data : data.subarray(this.next - offset) })
    this.next = end
    return out
  }

  gap(generation: number, from: number, to: number, cols: number, rows: number, snapshot: string): Delivery[] {
    if (generation < this.generation || (generation === this.generation && to <= this.next)) return []
    const out: Delivery[] = []
    if (generation > this.generation) out.push({ kind: 'generation', generation })
    out.push({ kind: 'gap', generation, from: generation === this.generation ? this.next : from, to, cols, rows, snapshot })
    this.generation = generation
    this.next = to
    return out
  }
}
