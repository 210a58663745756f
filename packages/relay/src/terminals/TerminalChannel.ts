/**
 * One agent's terminal on the relay (TERM-n): output from the host goes into a bounded
 * ring and out to every viewer as the same encoded bytes. A viewer resumes from any
 * offset the ring still holds; one that asks for bytes the ring has lost, or whose socket
 * backs up past the high-water mark, is skipped ahead to a screen snapshot from the host
 * (a gap marker), so nobody waits for a slow viewer and memory stays bounded.
 */
import { FrameKind, encodeFrame, errorFrame } from '@orchard/protocol'
import type { RoomPeer } from '../connection/types.js'
import type { RingBudget } from './RingBudget.js'
import { TerminalRing, type OutputChunk } from './TerminalRing.js'

export interface HostSnapshot {
  generation: number
  offset: number
  cols: number
  rows: number
  data: string
}

export interface TerminalChannelOptions {
  ringBytes: number
  highWaterBytes: number
  /** The relay-wide bound on all rings together (TERM-9). */
  budget?: RingBudget
  /** Asks the agent's host for its current screen; null if the host cannot be reached. */
  snapshot: () => Promise<HostSnapshot | null>
}

interface Viewer {
  generation: number
  next: number
  /**
   * The offset the viewer last acknowledged, or null if it never sends ACKs. Socket
   * buffers alone hide a stalled reader (loopback TCP buffers grow to tens of MB), so a
   * viewer that acknowledges is held to a bound on bytes in flight (TERM-3).
   */
  acked: number | null
  /** Not sent to until it is caught up again: its socket backed up, or it waits for a snapshot. */
  state: 'live' | 'lagging' | 'awaiting-snapshot'
}

export class TerminalChannel {
  readonly ring: TerminalRing
  readonly viewers = new Map<RoomPeer, Viewer>()
  private snapshotting: Promise<void> | null = null
  private drainTimer: NodeJS.Timeout | null = null
  /** How many times viewers were skipped ahead (for tests and metrics). */
  gaps = 0

  constructor(
    readonly agentId: string,
    private readonly options: TerminalChannelOptions
  ) {
    this.ring = new TerminalRing(options.ringBytes, options.budget)
  }

  /**
   * Output from the host. `raw` is the host's frame as received: when the ring keeps the
   * chunk whole, those very bytes are what viewers get (no re-encoding, one copy held).
   */
  output(generation: number, offset: number, data: Uint8Array, raw?: Uint8Array): void {
    const chunk = this.ring.append(generation, offset, data, (at, bytes) =>
      raw && at === offset && bytes.byteLength === data.byteLength ? raw : this.encode(generation, at, bytes)
    )
    if (!chunk) return
    for (const [peer, viewer] of this.viewers) {
      if (viewer.state !== 'live') continue
      if (viewer.generation !== chunk.generation) {
        // A viewer from before this generation (or before any output): a generation that
        // the ring holds from its first byte is simply replayed; otherwise skip ahead.
        if (viewer.generation > chunk.generation || this.ring.start !== 0) {
          this.skipAhead(viewer)
          continue
        }
        viewer.generation = chunk.generation
        viewer.next = 0
        if (viewer.acked !== null) viewer.acked = 0
      }
      if (viewer.next === chunk.offset) this.send(peer, viewer, [chunk])
      else if (this.ring.holds(viewer.generation, viewer.next)) this.send(peer, viewer, this.ring.readFrom(viewer.next, (at, bytes) => this.encode(chunk.generation, at, bytes)))
      else this.skipAhead(viewer)
    }
  }

  /** TERM-1: subscribe from a resume point; 0/0 means from the oldest byte available. */
  subscribe(peer: RoomPeer, generation: number, offset: number): void {
    const fresh = generation === 0 && offset === 0
    // A fresh viewer has seen nothing: it stands at 0 and, if the ring starts later, misses [0, start).
    const previous = this.viewers.get(peer)
    const acked = previous?.acked ?? null
    const viewer: Viewer = fresh ? { generation: this.ring.generation, next: 0, acked, state: 'live' } : { generation, next: offset, acked, state: 'live' }
    if (viewer.acked !== null) viewer.acked = viewer.next
    this.viewers.set(peer, viewer)
    // No output yet: the first chunk starts this viewer.
    if (this.ring.generation === 0) return
    if (fresh && this.ring.start > 0) {
      // Joining late: the beginning is gone; start from the screen as it is now (TERM-4).
      this.skipAhead(viewer)
      return
    }
    if (this.ring.holds(viewer.generation, viewer.next)) {
      this.send(peer, viewer, this.ring.readFrom(viewer.next, (at, bytes) => this.encode(this.ring.generation, at, bytes)))
      return
    }
    this.skipAhead(viewer)
  }

  unsubscribe(peer: RoomPeer): void {
    this.viewers.delete(peer)
  }

  /** The viewer has everything before `offset` (an ACK on the terminal channel). */
  ack(peer: RoomPeer, offset: number): void {
    const viewer = this.viewers.get(peer)
    if (!viewer) return
    viewer.acked = Math.min(offset, viewer.next)
    if (viewer.state === 'lagging' && !this.backedUp(peer, viewer, 4)) this.resume(peer, viewer)
  }

  close(): void {
    if (this.drainTimer) clearInterval(this.drainTimer)
    this.drainTimer = null
    this.viewers.clear()
    this.ring.release()
  }

  /** Sends chunks in order, stopping (lagging) as soon as the socket is past the high-water mark. */
  private send(peer: RoomPeer, viewer: Viewer, chunks: OutputChunk[]): void {
    for (const chunk of chunks) {
      if (this.backedUp(peer, viewer, 1)) {
        viewer.state = 'lagging'
        this.watchDrain()
        return
      }
      peer.sendRaw(chunk.frame)
      viewer.generation = chunk.generation
      viewer.next = chunk.offset + chunk.data.byteLength
    }
  }

  /** TERM-3: lagging viewers are polled; once drained they catch up from the ring or skip ahead. */
  private watchDrain(): void {
    if (this.drainTimer) return
    this.drainTimer = setInterval(() => {
      let lagging = 0
      for (const [peer, viewer] of this.viewers) {
        if (viewer.state !== 'lagging') continue
        if (this.backedUp(peer, viewer, 4)) {
          lagging++
          continue
        }
        this.resume(peer, viewer)
        if ((viewer.state as Viewer['state']) === 'lagging') lagging++
      }
      if (lagging === 0 && this.drainTimer) {
        clearInterval(this.drainTimer)
        this.drainTimer = null
      }
    }, 20)
    this.drainTimer.unref?.()
  }

  /** Past the high-water mark (divided by `slack` to resume only with room to spare). */
  private backedUp(peer: RoomPeer, viewer: Viewer, slack: number): boolean {
    const limit = this.options.highWaterBytes / slack
    if (peer.bufferedAmount > limit) return true
    return viewer.acked !== null && viewer.next - viewer.acked > limit
  }

  /** A lagging viewer with room again: from the ring if it still holds its place, else skip ahead. */
  private resume(peer: RoomPeer, viewer: Viewer): void {
    viewer.state = 'live'
    if (this.ring.holds(viewer.generation, viewer.next)) {
      this.send(peer, viewer, this.ring.readFrom(viewer.next, (at, bytes) => this.encode(this.ring.generation, at, bytes)))
    } else this.skipAhead(viewer)
  }

  /**
   * TERM-4: a gap marker with the host's screen snapshot, then the live stream from the
   * snapshot's offset. Viewers waiting at the same time share one snapshot request.
   */
  private skipAhead(viewer: Viewer): void {
    viewer.state = 'awaiting-snapshot'
    this.snapshotting ??= this.takeSnapshot().finally(() => {
      this.snapshotting = null
    })
  }

  private async takeSnapshot(): Promise<void> {
    let snapshot: HostSnapshot | null = null
    for (let attempt = 0; attempt < 3 && !snapshot; attempt++) {
      const candidate = await this.options.snapshot().catch(() => null)
      if (!candidate) break
      // Output can race past a snapshot under heavy load; one the ring can continue is needed.
      if (this.ring.holds(candidate.generation, candidate.offset) || candidate.generation !== this.ring.generation) snapshot = candidate
    }
    for (const [peer, viewer] of this.viewers) {
      if (viewer.state !== 'awaiting-snapshot') continue
      const generation = snapshot?.generation ?? this.ring.generation
      const to = snapshot && this.ring.holds(snapshot.generation, snapshot.offset) ? snapshot.offset : this.ring.start
      this.gaps++
      peer.sendRaw(
        encodeFrame({
          kind: FrameKind.termGap,
          channel: this.agentId,
          generation,
          from: viewer.generation === generation ? Math.min(viewer.next, to) : 0,
          to,
          cols: snapshot?.cols ?? 80,
          rows: snapshot?.rows ?? 24,
          snapshot: snapshot?.data ?? ''
        })
      )
      if (!snapshot) peer.sendFrame(errorFrame('host-offline', 'The host could not send the screen; showing output from where the relay still has it.', undefined, this.agentId))
      viewer.generation = generation
      viewer.next = to
      // The gap resets what counts as in flight: everything before it is settled.
      if (viewer.acked !== null) viewer.acked = to
      viewer.state = 'live'
      this.send(peer, viewer, this.ring.readFrom(to, (at, bytes) => this.encode(generation, at, bytes)))
    }
  }

  private encode(generation: number, offset: number, data: Uint8Array): Uint8Array {
    return encodeFrame({ kind: FrameKind.termOutput, channel: this.agentId, generation, offset, data })
  }
}
