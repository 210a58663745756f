/**
 * Watching an agent's terminal (TERM-5): every byte once and in order, resuming from
 * where it left off after a reconnect, with gap markers (and a screen snapshot) when the
 * relay had to skip this viewer ahead.
 */
import { FrameKind, type Frame } from '@orchard/protocol'
import { ObservableV2 } from 'lib0/observable'
import type { RelayErrorInfo, RelayProvider } from '../RelayProvider.js'
import { OutputReassembler, type Delivery } from './OutputReassembler.js'

/** At most this long between output arriving and the ACK for it (TERM-8). */
export const ACK_INTERVAL_MS = 20
/** The relay's window when it does not say (its default `viewerHighWaterBytes`). */
const DEFAULT_WINDOW_BYTES = 1024 * 1024

export type TerminalStreamEvents = {
  /** Output bytes, at their offset in `generation`. */
  data: (data: Uint8Array, position: { generation: number; offset: number }) => void
  /** Bytes [from, to) were skipped; `snapshot` redraws the screen as it is at `to`. */
  gap: (gap: Extract<Delivery, { kind: 'gap' }>) => void
  /** The agent restarted: a new generation begins (clear the screen). */
  generation: (generation: number) => void
  error: (error: RelayErrorInfo) => void
}

export class TerminalStream extends ObservableV2<TerminalStreamEvents> {
  private readonly reassembler: OutputReassembler
  private readonly onFrame: (frame: Frame) => void
  private readonly onWelcome: () => void
  private readonly onError: (error: RelayErrorInfo) => void
  private closed = false
  private ackTimer: NodeJS.Timeout | null = null
  private ackImmediate: NodeJS.Immediate | null = null
  /** The offset (in the current generation) this viewer last acknowledged. */
  private ackedOffset = 0

  constructor(
    private readonly provider: RelayProvider,
    readonly agentId: string,
    from: { generation: number; offset: number } = { generation: 0, offset: 0 }
  ) {
    super()
    this.reassembler = new OutputReassembler(from)
    this.onFrame = (frame) => {
      if (frame.channel !== agentId) return
      if (frame.kind === FrameKind.termOutput) this.deliver(this.reassembler.output(frame.generation, frame.offset, frame.data))
      else if (frame.kind === FrameKind.termGap) this.deliver(this.reassembler.gap(frame.generation, frame.from, frame.to, frame.cols, frame.rows, frame.snapshot))
    }
    this.onWelcome = () => this.subscribe()
    this.onError = (error) => {
      if (error.channel === agentId) this.emit('error', [error])
    }
    provider.on('frame', this.onFrame)
    provider.on('welcome', this.onWelcome)
    provider.on('error', this.onError)
    if (provider.status === 'connected') this.subscribe()
  }

  /** Where this viewer is: the next byte it expects. */
  get position(): { generation: number; offset: number } {
    return { generation: this.reassembler.generation, offset: this.reassembler.next }
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    this.ack() // clears pending ACK timers; sends nothing once closed
    this.provider.sendFrame({ kind: FrameKind.termUnsubscribe, channel: this.agentId })
    this.provider.off('frame', this.onFrame)
    this.provider.off('welcome', this.onWelcome)
    this.provider.off('error', this.onError)
    super.destroy()
  }

  private subscribe(): void {
    const { generation, offset } = this.position
    this.provider.sendFrame({ kind: FrameKind.termSubscribe, channel: this.agentId, generation, offset })
    this.ack()
  }

  /**
   * TERM-3 / TERM-8: tells the relay how far this viewer has got, so it can bound the bytes
   * in flight to this viewer and skip it ahead if it stalls (socket buffers alone would hide
   * a stalled reader). An ACK per delivered turn would, under a chatty agent, be thousands
   * of frames a second and get this viewer closed by the relay's frame limit (LIMIT-1), so
   * ACKs are paced: one per ACK_INTERVAL_MS, or at once when a quarter of the window
   * the relay announced in WELCOME is unacknowledged, so the window never throttles throughput.
   */
  private noteReceived(): void {
    if (this.ackImmediate) return
    const unacked = this.position.offset - this.ackedOffset
    // A quarter of the relay's window unacknowledged: ACK now, long before the relay holds back.
    const window = this.provider.welcome?.limits.viewerWindowBytes ?? DEFAULT_WINDOW_BYTES
    if (unacked >= window / 4 || unacked < 0) {
      this.ackImmediate = setImmediate(() => this.ack())
      return
    }
    if (!this.ackTimer) this.ackTimer = setTimeout(() => this.ack(), ACK_INTERVAL_MS)
  }

  private ack(): void {
    if (this.ackTimer) clearTimeout(this.ackTimer)
    if (this.ackImmediate) clearImmediate(this.ackImmediate)
    this.ackTimer = null
    this.ackImmediate = null
    if (this.closed) return
    this.ackedOffset = this.position.offset
    this.provider.sendFrame({ kind: FrameKind.ack, channel: this.agentId, seq: this.ackedOffset })
  }

  private deliver(deliveries: Delivery[]): void {
    for (const delivery of deliveries) {
      if (delivery.kind === 'data') this.emit('data', [delivery.data, { generation: delivery.generation, offset: delivery.offset }])
      else if (delivery.kind === 'gap') this.emit('gap', [delivery])
      else if (delivery.kind === 'generation') this.emit('generation', [delivery.generation])
      else this.provider.sendFrame({ kind: FrameKind.termSubscribe, channel: this.agentId, generation: delivery.generation, offset: delivery.offset })
    }
    if (deliveries.length > 0) this.noteReceived()
  }
}
