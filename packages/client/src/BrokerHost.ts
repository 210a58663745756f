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

export interface SpawnRequest {
  agentId: string
  projectId: string
  name: string
  options: unknown
}

export interface BrokerHost {
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

export class HostBinding extends ObservableV2<HostBindingEvents> {
  private readonly highest = new Map<string, number>()
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
  }

  /** The highest epoch this host has seen for an agent (0 if none). */
  epochOf(agentId: string): number {
    return this.highest.get(agentId) ?? 0
  }

  override destroy(): void {
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
