/**
 * The terminals of one workspace (TERM-n): routes output from hosts and subscriptions
 * from viewers to each agent's TerminalChannel. Only the agent's host may publish its
 * output; any member may watch; unknown agents (including another workspace's) are
 * refused by name.
 */
import { errorFrame, type Frame } from '@orchard/protocol'
import type { RoomPeer } from '../connection/types.js'
import type { AgentRecord } from '../control/ControlDoc.js'
import type { HostRequests } from '../coordination/HostRequests.js'
import type { RingBudget } from './RingBudget.js'
import { TerminalChannel, type HostSnapshot } from './TerminalChannel.js'

/**
 * What terminals need of their workspace room, declared here so this module imports nothing
 * above it: which agents exist, who hosts them, and the relay-wide ring budget (TERM-9).
 */
export interface TerminalRoom {
  readonly core: { readonly ringBudget: RingBudget }
  readonly agents: { get(agentId: string): AgentRecord | undefined }
  /** IDENT-2: whether `peer` speaks for `instanceId` (member and instance both). */
  isInstance(peer: RoomPeer, instanceId: string): boolean
  peerForInstance(instanceId: string): RoomPeer | undefined
}

export interface TerminalLimits {
  terminalRingBytes: number
  viewerHighWaterBytes: number
}

export class TerminalHub {
  readonly channels = new Map<string, TerminalChannel>()

  constructor(
    private readonly room: TerminalRoom,
    private readonly hosts: HostRequests,
    private readonly limits: TerminalLimits
  ) {}

  handle(peer: RoomPeer, frame: Frame, raw?: Uint8Array): boolean {
    switch (frame.kind) {
      case 11:
        peer.sendFrame(errorFrame('bad-frame', 'Only the relay sends gap markers.', undefined, frame.channel))
        return true
      case 10: {
        const agent = this.room.agents.get(frame.channel)
        if (!agent) {
          peer.sendFrame(errorFrame('not-found', `There is no agent ${frame.channel} in this workspace; its output was dropped.`, undefined, frame.channel))
          return true
        }
        if (!this.room.isInstance(peer, agent.hostInstanceId)) {
          peer.sendFrame(errorFrame('forbidden', `Only the instance running "${agent.name}" can publish its output.`, undefined, frame.channel))
          return true
        }
        this.channel(frame.channel).output(frame.generation, frame.offset, frame.data, raw)
        return true
      }
      case 8: {
        if (!this.room.agents.get(frame.channel)) {
          peer.sendFrame(errorFrame('not-found', `There is no agent ${frame.channel} in this workspace to watch.`, undefined, frame.channel))
          return true
        }
        this.channel(frame.channel).subscribe(peer, frame.generation, frame.offset)
        return true
      }
      case 9:
        this.channels.get(frame.channel)?.unsubscribe(peer)
        return true
      case 7:
        // TERM-3: a viewer acknowledging output (flow control), on the agent's channel.
        this.channels.get(frame.channel)?.ack(peer, frame.seq)
        return true
      default:
        return false
    }
  }

  /** STOP-1/STOP-4: a stopped agent's terminal is freed (its ring, its viewers). */
  drop(agentId: string): void {
    this.channels.get(agentId)?.close()
    this.channels.delete(agentId)
  }

  /** A socket went away: it watches nothing any more. */
  detach(peer: RoomPeer): void {
    for (const channel of this.channels.values()) channel.unsubscribe(peer)
  }

  /** Bytes held in rings, for the memory bound (TERM-3) and metrics. */
  get bufferedBytes(): number {
    let sum = 0
    for (const channel of this.channels.values()) sum += channel.ring.size
    return sum
  }

  close(): void {
    for (const channel of this.channels.values()) channel.close()
    this.channels.clear()
  }

  private channel(agentId: string): TerminalChannel {
    let channel = this.channels.get(agentId)
    if (!channel) {
      channel = new TerminalChannel(agentId, {
        ringBytes: this.limits.terminalRingBytes,
        highWaterBytes: this.limits.viewerHighWaterBytes,
        budget: this.room.core.ringBudget,
        snapshot: () => this.snapshot(agentId)
      })
      this.channels.set(agentId, channel)
    }
    return channel
  }

  private async snapshot(agentId: string): Promise<HostSnapshot | null> {
    const agent = this.room.agents.get(agentId)
    const host = agent && this.room.peerForInstance(agent.hostInstanceId)
    if (!host) return null
    const result = (await this.hosts.request(host, 'host.snapshot', { agentId }, 5_000)) as HostSnapshot | null
    return result && typeof result.offset === 'number' ? result : null
  }
}
