/**
 * Input ownership of agents (LEASE-n): one holder per agent at a time, with an epoch
 * that only grows, stored durably before it is granted, so a delayed frame from an old
 * holder is refused by the relay and by the host (fencing). A dropped socket keeps its
 * lease until it expires, so a quick reconnect resumes; an owner may take over.
 */
import type { ControlDoc, LeaseRecord } from '../control/ControlDoc.js'
import type { RoomPeer } from '../connection/types.js'
import { RpcError } from '../rpc/RpcError.js'
import type { RecordStorage } from '../storage/types.js'
import type { RelayClock } from './RelayClock.js'

const EPOCH = 'lease-epoch'

/**
 * What leases need of their workspace room, declared here so this module imports nothing
 * above it (the room passes itself; a test passes a scripted object).
 */
export interface LeaseRoom {
  readonly id: string
  /** Connections in the room: a lost lease's holder is told on each of its sockets (LEASE-10). */
  readonly peers: Iterable<RoomPeer>
  readonly control: Pick<ControlDoc, 'leases' | 'setLease'>
  recordActivity(peer: RoomPeer | null, type: string, fields: Record<string, unknown>): void
}

export class LeaseManager {
  /** Claims of one agent run one at a time: the epoch increment is a storage round trip. */
  private readonly queues = new Map<string, Promise<unknown>>()
  private sweeper: NodeJS.Timeout | null = null

  constructor(
    private readonly room: LeaseRoom,
    private readonly records: RecordStorage,
    private readonly clock: RelayClock,
    private readonly ttlMs: number
  ) {}

  /** The lease in force now, or undefined if there is none or it expired. */
  current(agentId: string): LeaseRecord | undefined {
    const lease = this.room.control.leases.get(agentId)
    return lease && lease.expiresAt > this.clock.now() ? lease : undefined
  }

  /**
   * LEASE-1: granted if free, expired, or already ours; LEASE-4: an owner asking with
   * `takeover` gets it from another holder, who is told at once.
   */
  claim(peer: RoomPeer, agentId: string, takeover: boolean): Promise<LeaseRecord> {
    return this.serialize(agentId, async () => {
      const held = this.current(agentId)
      const mine = held && holds(held, peer)
      if (held && mine) return this.extend(held)
      if (held && !takeover) {
        throw new RpcError('conflict', `${held.memberName} holds this agent's terminal until ${new Date(held.expiresAt).toISOString()}. Ask them to release it${peer.identity.role === 'owner' ? ', or take it over' : ''}.`, {
          holder: held.holderInstanceId,
          expiresAt: held.expiresAt
        })
      }
      const { epoch } = (await this.records.updateRecord<{ epoch: number }>(EPOCH, `${this.room.id}/${agentId}`, (current) => ({
        epoch: Math.max(current?.epoch ?? 0, this.room.control.leases.get(agentId)?.epoch ?? 0) + 1
      }))) as { epoch: number }
      const lease: LeaseRecord = {
        agentId,
        holderInstanceId: peer.identity.instanceId,
        memberId: peer.identity.memberId,
        memberName: peer.identity.name,
        epoch,
        expiresAt: this.clock.now() + this.ttlMs,
        ttlMs: this.ttlMs
      }
      this.room.control.setLease(lease, agentId)
      if (held) {
        this.notifyLost(held, 'taken-over', peer)
        this.room.recordActivity(peer, 'takeover', { agentId, from: held.memberName, epoch })
      } else {
        this.room.recordActivity(peer, 'claimed', { agentId, epoch })
      }
      this.ensureSweeper()
      return lease
    })
  }

  /** LEASE-2: the holder renews with its epoch; anyone else, or an old epoch, is refused. */
  renew(peer: RoomPeer, agentId: string, epoch: number): LeaseRecord {
    const held = this.current(agentId)
    if (!held || held.epoch !== epoch || !holds(held, peer)) {
      throw new RpcError('stale-epoch', `Your hold on this agent's terminal (epoch ${epoch}) has ended${held ? `; ${held.memberName} holds it now (epoch ${held.epoch})` : ''}. Claim it again to type.`, {
        epoch: held?.epoch ?? null
      })
    }
    return this.extend(held)
  }

  /** LEASE-5: release is idempotent; a stale epoch releases nothing and is not an error. */
  release(peer: RoomPeer, agentId: string, epoch: number): { released: boolean } {
    const held = this.room.control.leases.get(agentId)
    if (!held || held.epoch !== epoch || !holds(held, peer)) return { released: false }
    this.room.control.setLease(null, agentId)
    this.room.recordActivity(peer, 'released', { agentId, epoch })
    return { released: true }
  }

  /** Stopping an agent ends its lease (STOP-1); its holder hears why at once (LEASE-10). */
  drop(agentId: string, reason: 'stopped' | 'exited', by: RoomPeer | null): void {
    const held = this.room.control.leases.get(agentId)
    if (!held) return
    this.room.control.setLease(null, agentId)
    this.notifyLost(held, reason, by)
  }

  /** LEASE-3: input is accepted only from the current holder with the current epoch. */
  checkInput(peer: RoomPeer, agentId: string, epoch: number): void {
    const held = this.current(agentId)
    if (!held || !holds(held, peer)) {
      throw new RpcError('not-holder', held ? `${held.memberName} holds this agent's terminal; your input was not sent. Claim it to type.` : 'Nobody holds this agent\'s terminal; claim it before typing.')
    }
    if (held.epoch !== epoch) throw new RpcError('stale-epoch', `That input carried epoch ${epoch}, but the lease is at epoch ${held.epoch}; it was not sent.`)
  }

  close(): void {
    if (this.sweeper) clearInterval(this.sweeper)
    this.sweeper = null
  }

  private extend(lease: LeaseRecord): LeaseRecord {
    const next = { ...lease, expiresAt: this.clock.now() + this.ttlMs, ttlMs: this.ttlMs }
    this.room.control.setLease(next, lease.agentId)
    return next
  }

  private notifyLost(lease: LeaseRecord, reason: string, by: RoomPeer | null): void {
    for (const peer of this.room.peers) {
      if (!holds(lease, peer)) continue
      peer.sendFrame({ kind: 14, channel: '', event: { type: 'lease-lost', agentId: lease.agentId, epoch: lease.epoch, reason, by: by?.identity.name ?? null } })
    }
  }

  /** Expired leases leave the control doc (their holders were told by their own clocks). */
  private ensureSweeper(): void {
    if (this.sweeper) return
    this.sweeper = setInterval(() => {
      const now = this.clock.now()
      const expired = [...this.room.control.leases.values()].filter((lease) => lease.expiresAt <= now)
      for (const lease of expired) {
        this.room.control.setLease(null, lease.agentId)
        this.notifyLost(lease, 'expired', null)
      }
      if (this.room.control.leases.size === 0 && this.sweeper) {
        clearInterval(this.sweeper)
        this.sweeper = null
      }
    }, Math.max(50, Math.min(1_000, this.ttlMs / 4)))
    this.sweeper.unref?.()
  }

  private serialize<T>(agentId: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(agentId) ?? Promise.resolve()
    const next = previous.then(fn, fn)
    this.queues.set(agentId, next.catch(() => undefined))
    return next
  }
}

/** IDENT-2: a lease is held by an instance AND the member that claimed it, never by an id alone. */
function holds(lease: LeaseRecord, peer: RoomPeer): boolean {
  return peer.flavor === 'orchard' && lease.holderInstanceId === peer.identity.instanceId && lease.memberId === peer.identity.memberId
}
