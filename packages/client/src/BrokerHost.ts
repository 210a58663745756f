/**
 * The side that runs agents (HOST-n). The embedding app implements BrokerHost on the
 * instance that hosts a project's agents (Pear wraps its broker); `session.host(broker)`
 * connects it: the relay's spawn and stop requests reach it, and so does input from the
 * lease holder, checked here once more against the highest epoch seen (a delayed frame
 * from an old holder is refused by the host even if it got past the relay).
 */
import { FrameKind, type Frame, type LeaseRecord } from '@orchard/protocol'
import { ObservableV2 } from 'lib0/observable'
import type * as Y from 'yjs'
import { RelayRequestError, type RelayProvider } from './RelayProvider.js'
import { TerminalMirror } from './terminal/TerminalMirror.js'

export interface SpawnRequest {
  agentId: string
  projectId: string
  name: string
  options: unknown
}

/**
 * What a broker calls as its agents run (TERM-1): output is published as numbered bytes,
 * a restart starts a new generation, an exit and a size change are reported.
 */
export interface TerminalSink {
  output(agentId: string, data: Uint8Array): void
  /** The agent's process restarted: a new generation starts at offset 0. */
  restarted(agentId: string): void
  exited(agentId: string, exitCode: number | null, signal: number | null): void
  resized(agentId: string, cols: number, rows: number): void
}

export interface BrokerHost {
  /** Called once when the broker is connected: where to publish output. */
  attach?(sink: TerminalSink): void
  /** Starts the agent. Resolve with what others should see about it (pid, size); reject with an Error whose message they see. */
  spawn(request: SpawnRequest): Promise<unknown>
  /** Stops the agent. Stopping one that is not running must succeed. */
  stop(agentId: string): Promise<void>
  /** Writes to the agent's terminal; only ever called with input that passed both fences. */
  write(agentId: string, data: Uint8Array): void
  resize?(agentId: string, cols: number, rows: number): void
}

export type HostBindingEvents = {
  /** Input refused by the host's own fence: a delayed frame from an earlier holder. */
  'input-refused': (refused: { agentId: string; epoch: number; highest: number }) => void
}

interface PublishedTerminal {
  generation: number
  /** Offset of the next byte to publish (after `pending`). */
  offset: number
  mirror: TerminalMirror
  /** Output of this event-loop turn, sent as one frame at its end. */
  pending: Uint8Array[]
  pendingBytes: number
}

/** Output is sent as one frame per agent per turn, split past this size. */
const MAX_OUTPUT_FRAME = 256 * 1024

export class HostBinding extends ObservableV2<HostBindingEvents> implements TerminalSink {
  private readonly highest = new Map<string, number>()
  private readonly terminals = new Map<string, PublishedTerminal>()
  private readonly offFrame: () => void
  private readonly offLeases: () => void
  refusedInputs = 0

  constructor(
    private readonly provider: RelayProvider,
    private readonly broker: BrokerHost,
    controlDoc: Y.Doc
  ) {
    super()
    provider.onRequest(async (method, params) => {
      const request = params as Partial<SpawnRequest>
      if (method === 'host.spawn') {
        if (typeof request.agentId !== 'string') throw new RelayRequestError('invalid-params', 'host.spawn needs an agentId')
        return (await broker.spawn({ agentId: request.agentId, projectId: String(request.projectId), name: String(request.name), options: request.options ?? null })) ?? null
      }
      if (method === 'host.stop') {
        if (typeof request.agentId !== 'string') throw new RelayRequestError('invalid-params', 'host.stop needs an agentId')
        await broker.stop(request.agentId)
        return null
      }
      if (method === 'host.snapshot') {
        const terminal = typeof request.agentId === 'string' ? this.terminals.get(request.agentId) : undefined
        if (!terminal) throw new RelayRequestError('not-found', `This host has no terminal for ${String(request.agentId)}.`)
        // The relay must have every byte the snapshot covers before it hears the answer.
        this.flushOutput(request.agentId as string, terminal)
        const generation = terminal.generation
        return { generation, ...(await terminal.mirror.snapshot()) }
      }
      throw new RelayRequestError('not-found', `This host does not serve "${method}".`)
    })
    const onFrame = (frame: Frame) => this.onFrame(frame)
    provider.on('frame', onFrame)
    this.offFrame = () => provider.off('frame', onFrame)
    // The relay's word on epochs raises our fence even before any input arrives.
    const leases = controlDoc.getMap<LeaseRecord>('leases')
    const onLeases = () => {
      for (const [agentId, lease] of leases) this.raise(agentId, lease.epoch)
    }
    leases.observe(onLeases)
    onLeases()
    this.offLeases = () => leases.unobserve(onLeases)
    broker.attach?.(this)
  }

  // ------------------------------------------------------------ TerminalSink

  /**
   * TERM-1: publishes output with its generation and byte offset, and keeps the screen
   * for snapshots. A chatty process reads its PTY thousands of times a second; the reads
   * of one turn go out as one frame, so the host stays well inside the relay's limits.
   */
  output(agentId: string, data: Uint8Array): void {
    if (data.byteLength === 0) return
    const terminal = this.terminal(agentId)
    terminal.mirror.write(data)
    terminal.pending.push(data)
    terminal.pendingBytes += data.byteLength
    if (terminal.pendingBytes >= MAX_OUTPUT_FRAME) this.flushOutput(agentId, terminal)
    else this.scheduleFlush()
  }

  restarted(agentId: string): void {
    const previous = this.terminals.get(agentId)
    if (previous) this.flushOutput(agentId, previous)
    previous?.mirror.dispose()
    this.terminals.set(agentId, { generation: (previous?.generation ?? 0) + 1, offset: 0, mirror: new TerminalMirror(), pending: [], pendingBytes: 0 })
  }

  private flushScheduled = false

  private scheduleFlush(): void {
    if (this.flushScheduled) return
    this.flushScheduled = true
    setImmediate(() => {
      this.flushScheduled = false
      for (const [agentId, terminal] of this.terminals) this.flushOutput(agentId, terminal)
    })
  }

  private flushOutput(agentId: string, terminal: PublishedTerminal): void {
    if (terminal.pendingBytes === 0) return
    const data = terminal.pending.length === 1 ? (terminal.pending[0] as Uint8Array) : Buffer.concat(terminal.pending)
    terminal.pending = []
    terminal.pendingBytes = 0
    this.provider.sendFrame({ kind: FrameKind.termOutput, channel: agentId, generation: terminal.generation, offset: terminal.offset, data })
    // Offsets advance even while disconnected: viewers then get a gap and a snapshot.
    terminal.offset += data.byteLength
  }

  exited(agentId: string, exitCode: number | null, signal: number | null): void {
    const terminal = this.terminals.get(agentId)
    if (terminal) this.flushOutput(agentId, terminal)
    void this.provider.request('agent.exited', { agentId, exitCode, signal }).catch(() => undefined)
  }

  resized(agentId: string, cols: number, rows: number): void {
    this.terminal(agentId).mirror.resize(cols, rows)
    void this.provider.request('terminal.size', { agentId, cols, rows }).catch(() => undefined)
  }

  /** Where an agent's published stream is: generation and next byte offset (output of this turn included). */
  published(agentId: string): { generation: number; offset: number } | undefined {
    const terminal = this.terminals.get(agentId)
    return terminal ? { generation: terminal.generation, offset: terminal.offset + terminal.pendingBytes } : undefined
  }

  private terminal(agentId: string): PublishedTerminal {
    let terminal = this.terminals.get(agentId)
    if (!terminal) {
      terminal = { generation: 1, offset: 0, mirror: new TerminalMirror(), pending: [], pendingBytes: 0 }
      this.terminals.set(agentId, terminal)
    }
    return terminal
  }

  /** The highest epoch this host has seen for an agent (0 if none). */
  epochOf(agentId: string): number {
    return this.highest.get(agentId) ?? 0
  }

  override destroy(): void {
    for (const terminal of this.terminals.values()) terminal.mirror.dispose()
    this.terminals.clear()
    this.provider.onRequest(null)
    this.offFrame()
    this.offLeases()
    super.destroy()
  }

  private onFrame(frame: Frame): void {
    if (frame.kind !== FrameKind.termInput && frame.kind !== FrameKind.termResize) return
    const agentId = frame.channel
    const highest = this.epochOf(agentId)
    // HOST-2: an epoch below one already seen is an old holder's frame: refused here too.
    if (frame.epoch < highest) {
      this.refusedInputs++
      this.emit('input-refused', [{ agentId, epoch: frame.epoch, highest }])
      return
    }
    this.raise(agentId, frame.epoch)
    if (frame.kind === FrameKind.termInput) this.broker.write(agentId, frame.data)
    else this.broker.resize?.(agentId, frame.cols, frame.rows)
  }

  private raise(agentId: string, epoch: number): void {
    if (epoch > this.epochOf(agentId)) this.highest.set(agentId, epoch)
  }
}
