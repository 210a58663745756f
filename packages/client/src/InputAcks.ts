/**
 * INPUT-2: settles each input or resize frame by the relay's answer. The relay numbers those
 * frames per connection and channel and answers each with an ACK carrying its number, after
 * an ERROR with `data.seq` if it refused it (LEASE-11); the provider counts what it sent the
 * same way, so frame n here is frame n there.
 */
import { FrameKind, type Frame, type TermInputFrame, type TermResizeFrame } from '@orchard/protocol'
import { refusalError } from './input-errors.js'
import { RelayRequestError, type RelayErrorInfo, type RelayProvider } from './RelayProvider.js'

interface Pending {
  seq: number
  resolve: () => void
  reject: (error: Error) => void
}

export class InputAcks {
  private readonly pending = new Map<string, Pending[]>()
  private readonly offs: Array<() => void> = []

  constructor(private readonly provider: RelayProvider) {
    const onFrame = (frame: Frame) => {
      if (frame.kind === FrameKind.ack) this.settleUpTo(frame.channel, frame.seq)
    }
    const onError = (error: RelayErrorInfo) => {
      const seq = (error.data as { seq?: unknown } | undefined)?.seq
      if (typeof seq === 'number') this.refuse(error.channel, seq, refusalError(error.code, error.message))
    }
    const onStatus = (status: string) => {
      if (status !== 'connected') this.failAll('The connection to the relay ended before it answered this input; it may not have reached the agent.')
    }
    provider.on('frame', onFrame)
    provider.on('error', onError)
    provider.on('status', onStatus)
    this.offs.push(
      () => provider.off('frame', onFrame),
      () => provider.off('error', onError),
      () => provider.off('status', onStatus)
    )
  }

  /**
   * Sends one input or resize frame and returns its fate. Already handled, so a caller that
   * fires and forgets gets no unhandled rejection (the refusal still reaches `error` listeners).
   */
  send(frame: TermInputFrame | TermResizeFrame): Promise<void> {
    const outcome = this.track(frame)
    outcome.catch(() => undefined)
    return outcome
  }

  destroy(): void {
    for (const off of this.offs.splice(0)) off()
    this.failAll('The session closed before the relay answered this input.')
  }

  private track(frame: TermInputFrame | TermResizeFrame): Promise<void> {
    if (this.provider.status !== 'connected') {
      return Promise.reject(new RelayRequestError('disconnected', 'Not connected to the relay, so this input was not sent. Try again when connected.'))
    }
    const before = this.provider.sentInputs(frame.channel)
    this.provider.sendFrame(frame)
    const seq = this.provider.sentInputs(frame.channel)
    if (seq === before) return Promise.reject(new RelayRequestError('disconnected', 'The connection closed, so this input was not sent.'))
    return new Promise<void>((resolve, reject) => {
      const list = this.pending.get(frame.channel) ?? []
      list.push({ seq, resolve, reject })
      this.pending.set(frame.channel, list)
    })
  }

  private settleUpTo(channel: string, seq: number): void {
    const list = this.pending.get(channel)
    if (!list) return
    while (list.length > 0 && (list[0] as Pending).seq <= seq) (list.shift() as Pending).resolve()
    if (list.length === 0) this.pending.delete(channel)
  }

  private refuse(channel: string, seq: number, error: Error): void {
    const list = this.pending.get(channel)
    const index = list?.findIndex((entry) => entry.seq === seq) ?? -1
    if (!list || index < 0) return
    const [entry] = list.splice(index, 1)
    entry?.reject(error)
    if (list.length === 0) this.pending.delete(channel)
  }

  private failAll(message: string): void {
    const lists = [...this.pending.values()]
    this.pending.clear()
    for (const list of lists) for (const entry of list) entry.reject(new RelayRequestError('disconnected', message))
  }
}
