/**
 * Requests from the relay to an instance (a broker host): spawn and stop. Answers come
 * back as RPC_RESPONSE frames; a host that disconnects fails its pending requests at once
 * rather than leaving callers hanging.
 */
import type { RpcResponseFrame } from '@orchard/protocol'
import type { RoomPeer } from '../connection/types.js'
import { RpcError } from '../rpc/RpcError.js'

interface Pending {
  resolve: (value: unknown) => void
  reject: (error: RpcError) => void
  timer: NodeJS.Timeout
}

export class HostRequests {
  private nextId = 1
  private readonly pending = new Map<RoomPeer, Map<number, Pending>>()

  request(peer: RoomPeer, method: string, params: unknown, timeoutMs: number): Promise<unknown> {
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      const forPeer = this.pending.get(peer) ?? new Map<number, Pending>()
      this.pending.set(peer, forPeer)
      const timer = setTimeout(() => {
        forPeer.delete(id)
        reject(new RpcError('timeout', `The host instance "${peer.identity.label || peer.identity.instanceId}" did not answer ${method} within ${timeoutMs} ms.`))
      }, timeoutMs)
      forPeer.set(id, { resolve, reject, timer })
      peer.sendFrame({ kind: 4, channel: '', id, method, params })
    })
  }

  answer(peer: RoomPeer, frame: RpcResponseFrame): void {
    const entry = this.pending.get(peer)?.get(frame.id)
    if (!entry) return
    this.pending.get(peer)?.delete(frame.id)
    clearTimeout(entry.timer)
    if (frame.ok) entry.resolve(frame.result)
    else entry.reject(new RpcError('host-error', frame.message, { hostCode: frame.code }))
  }

  /** The host went away: everything it owed fails now. */
  peerClosed(peer: RoomPeer): void {
    const forPeer = this.pending.get(peer)
    if (!forPeer) return
    this.pending.delete(peer)
    for (const entry of forPeer.values()) {
      clearTimeout(entry.timer)
      entry.reject(new RpcError('host-offline', `The host instance "${peer.identity.label || peer.identity.instanceId}" disconnected before answering.`))
    }
  }
}
