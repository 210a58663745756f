/**
 * Per-sender ordering for what arrives (RC-4, RC-5): RelayCast delivers at least once and
 * in no promised order, so each (sender, stream) is put back in sequence order here.
 * Duplicates and envelopes from an older epoch of the sender (replays) are dropped; a gap
 * that stays open past `gapTimeoutMs` is skipped, because the Yjs sync on every (re)connect
 * repairs whatever a lost post carried. Fragments are joined once all pieces are in.
 */
import { decodeEntries, EnvelopeError, type Entry, type Envelope } from './envelope.js'

export interface InboundOptions {
  gapTimeoutMs: number
  /** Held envelopes per stream before the gap is skipped regardless of the timer. */
  maxHeld?: number
  deliver(sender: string, envelope: Envelope, entries: Entry[]): void
  dropped(reason: 'duplicate' | 'replay' | 'gap-skipped' | 'malformed', sender: string, detail?: string): void
}

interface StreamState {
  epoch: number
  /** The next sequence number to deliver; null until the stream's start is known. */
  next: number | null
  held: Map<number, Envelope>
  pieces: Uint8Array[]
  timer: NodeJS.Timeout | null
}

export class InboundStreams {
  private readonly streams = new Map<string, StreamState>()

  constructor(private readonly options: InboundOptions) {}

  accept(sender: string, envelope: Envelope): void {
    const key = `${sender}\u0000${envelope.stream}`
    let state = this.streams.get(key)
    if (state && envelope.epoch < state.epoch) return this.options.dropped('replay', sender, `epoch ${envelope.epoch} < ${state.epoch}`)
    if (!state || envelope.epoch > state.epoch) {
      if (state?.timer) clearTimeout(state.timer)
      state = { epoch: envelope.epoch, next: envelope.seq === 1 ? 1 : null, held: new Map(), pieces: [], timer: null }
      this.streams.set(key, state)
    }
    if ((state.next !== null && envelope.seq < state.next) || state.held.has(envelope.seq)) return this.options.dropped('duplicate', sender, `seq ${envelope.seq}`)
    state.held.set(envelope.seq, envelope)
    this.drain(sender, state)
    if (state.held.size > (this.options.maxHeld ?? 512)) this.skipGap(sender, state)
    else this.awaitGap(sender, state)
  }

  /**
   * The sender said where its stream stands (the host's channel when it accepts a
   * connection): start there at once instead of waiting out the gap timer, dropping what
   * came before, which was not for this connection.
   */
  startAt(sender: string, stream: Envelope['stream'], epoch: number, seq: number): void {
    const key = `${sender}\u0000${stream}`
    let state = this.streams.get(key)
    if (state && (state.epoch > epoch || state.next !== null)) return
    if (!state || state.epoch < epoch) {
      if (state?.timer) clearTimeout(state.timer)
      state = { epoch, next: null, held: new Map(), pieces: [], timer: null }
      this.streams.set(key, state)
    }
    state.next = seq
    for (const held of [...state.held.keys()]) if (held < seq) state.held.delete(held)
    this.drain(sender, state)
  }

  /** Forgets everything (the link closed). */
  clear(): void {
    for (const state of this.streams.values()) if (state.timer) clearTimeout(state.timer)
    this.streams.clear()
  }

  private skipGap(sender: string, state: StreamState): void {
    if (state.held.size === 0) return
    const lowest = Math.min(...state.held.keys())
    if (state.next !== null) this.options.dropped('gap-skipped', sender, `seq ${state.next}..${lowest - 1}`)
    state.next = lowest
    state.pieces = []
    this.drain(sender, state)
    this.awaitGap(sender, state)
  }

  /** Envelopes held behind a gap wait at most gapTimeoutMs for it to fill, then it is skipped. */
  private awaitGap(sender: string, state: StreamState): void {
    if (state.held.size === 0 || state.timer) return
    state.timer = setTimeout(() => {
      state.timer = null
      this.skipGap(sender, state)
    }, this.options.gapTimeoutMs)
    state.timer.unref?.()
  }

  private drain(sender: string, state: StreamState): void {
    if (state.next === null) return
    let envelope = state.held.get(state.next)
    while (envelope) {
      state.held.delete(state.next)
      state.next++
      this.take(sender, state, envelope)
      envelope = state.held.get(state.next)
    }
    if (state.held.size === 0 && state.timer) {
      clearTimeout(state.timer)
      state.timer = null
    }
  }

  private take(sender: string, state: StreamState, envelope: Envelope): void {
    let body = envelope.body
    if (envelope.fragment) {
      // A piece out of place means earlier pieces were lost: start over from piece 0.
      if (envelope.fragment.index !== state.pieces.length) state.pieces = []
      if (envelope.fragment.index !== state.pieces.length) return
      state.pieces.push(envelope.body)
      if (state.pieces.length < envelope.fragment.total) return
      body = concat(state.pieces)
      state.pieces = []
    } else state.pieces = []
    let entries: Entry[]
    try {
      entries = decodeEntries(body)
    } catch (error) {
      this.options.dropped('malformed', sender, error instanceof EnvelopeError ? error.message : String(error))
      return
    }
    this.options.deliver(sender, envelope, entries)
  }
}

function concat(pieces: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(pieces.reduce((sum, piece) => sum + piece.byteLength, 0))
  let offset = 0
  for (const piece of pieces) {
    out.set(piece, offset)
    offset += piece.byteLength
  }
  return out
}
