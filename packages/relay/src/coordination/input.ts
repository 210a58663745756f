/**
 * Keystrokes and resizes on their way to the host (INPUT-n): accepted only from the
 * lease holder with the current epoch, then forwarded to the agent's host unchanged
 * (epoch included, so the host can fence too). Anything else gets an explicit refusal.
 * INPUT-2: every input or resize frame is answered with an ACK on its channel carrying its
 * number on this connection (1, 2, ... per channel), after the refusal if there was one
 * (the refusal's data carries the same `seq`), so a sender knows each frame's fate.
 */
import { REFUSALS, can, errorFrame, type Frame } from '@orchard/protocol'
import type { RoomPeer } from '../connection/types.js'
import type { AgentRecord } from '../control/ControlDoc.js'
import type { RelayLimits } from '../limits.js'
import { RpcError } from '../rpc/RpcError.js'
import type { LeaseManager } from './LeaseManager.js'

/**
 * What routing stream frames needs of the workspace room, declared here so this module
 * imports nothing above it: its terminals (output, watching), agents and leases (input).
 */
export interface InputRoom {
  readonly core: { readonly limits: Pick<RelayLimits, 'maxInputBytes'> }
  readonly terminals: { handle(peer: RoomPeer, frame: Frame, raw?: Uint8Array): boolean }
  readonly agents: { get(agentId: string): AgentRecord | undefined }
  readonly leases: Pick<LeaseManager, 'checkInput'>
  peerForInstance(instanceId: string): RoomPeer | undefined
}

/** Input frames per connection and channel: the relay's half of INPUT-2's numbering. */
const inputCounts = new WeakMap<RoomPeer, Map<string, number>>()

function nextInputSeq(peer: RoomPeer, channel: string): number {
  let counts = inputCounts.get(peer)
  if (!counts) inputCounts.set(peer, (counts = new Map()))
  const seq = (counts.get(channel) ?? 0) + 1
  counts.set(channel, seq)
  return seq
}

export function routeStreamFrame(room: InputRoom, peer: RoomPeer, frame: Frame, raw?: Uint8Array): void {
  if (room.terminals.handle(peer, frame, raw)) return
  if (frame.kind !== 12 && frame.kind !== 13) {
    peer.sendFrame(errorFrame('bad-frame', `This relay does not accept frame kind ${frame.kind} from clients.`, { kind: frame.kind }, frame.channel))
    return
  }
  const agentId = frame.channel
  const seq = nextInputSeq(peer, agentId)
  try {
    if (!can(peer.identity.role, 'terminal.input')) throw new RpcError('forbidden', REFUSALS['terminal.input'])
    if (frame.kind === 12 && frame.data.byteLength > room.core.limits.maxInputBytes) {
      throw new RpcError('too-large', `${frame.data.byteLength} bytes of input in one frame is over the relay's limit of ${room.core.limits.maxInputBytes}; send it in smaller pieces.`)
    }
    const agent = room.agents.get(agentId)
    if (!agent) throw new RpcError('not-found', `There is no agent ${agentId} in this workspace.`)
    room.leases.checkInput(peer, agentId, frame.epoch)
    const host = room.peerForInstance(agent.hostInstanceId)
    if (!host) throw new RpcError('host-offline', `The instance running "${agent.name}" is offline; your input was not delivered.`)
    host.sendFrame(frame)
  } catch (error) {
    if (!(error instanceof RpcError)) throw error
    peer.sendFrame(errorFrame(error.code, error.message, { epoch: frame.epoch, kind: frame.kind, seq }, agentId))
  }
  peer.sendFrame({ kind: 7, channel: agentId, seq })
}
