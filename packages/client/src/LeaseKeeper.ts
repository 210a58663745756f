/**
 * The leases this instance holds (LEASE-n on the client): claimed through the relay,
 * renewed automatically at a third of their TTL, renewed at once after a reconnect (a
 * quick reconnect resumes without losing ownership), and dropped with a 'lost' event
 * when the relay says they ended (taken over, expired, stale).
 */
import type { LeaseRecord } from '@orchard/protocol'
import { ObservableV2 } from 'lib0/observable'
import { RelayRequestError, type RelayProvider } from './RelayProvider.js'

export interface LeaseLost {
  agentId: string
  epoch: number
  /** 'taken-over' | 'expired' | 'stale' | 'released' | 'stopped' */
  reason: string
  by?: string | null
}

export type LeaseKeeperEvents = {
  lost: (lost: LeaseLost) => void
  claimed: (lease: LeaseRecord) => void
}

export class LeaseKeeper extends ObservableV2<LeaseKeeperEvents> {
  private readonly held = new Map<string, { lease: LeaseRecord; timer: NodeJS.Timeout | null }>()

  constructor(private readonly provider: RelayProvider) {
    super()
    provider.on('event', (event) => {
      if (event.type !== 'lease-lost' || typeof event.agentId !== 'string') return
      const held = this.held.get(event.agentId)
      if (held && held.lease.epoch === event.epoch) this.lose(event.agentId, String(event.reason ?? 'taken-over'), (event.by as string | null) ?? null)
    })
    provider.on('welcome', () => {
      for (const agentId of this.held.keys()) void this.renew(agentId)
    })
  }

  get(agentId: string): LeaseRecord | undefined {
    return this.held.get(agentId)?.lease
  }

  all(): LeaseRecord[] {
    return [...this.held.values()].map((entry) => entry.lease)
  }

  async claim(agentId: string, takeover = false): Promise<LeaseRecord> {
    const { lease } = await this.provider.request<{ lease: LeaseRecord }>('lease.claim', { agentId, takeover })
    this.hold(lease)
    this.emit('claimed', [lease])
    return lease
  }

  async release(agentId: string): Promise<boolean> {
    const held = this.held.get(agentId)
    if (!held) return false
    this.stopTimer(agentId)
    this.held.delete(agentId)
    try {
      const { released } = await this.provider.request<{ released: boolean }>('lease.release', { agentId, epoch: held.lease.epoch })
      return released
    } catch (error) {
      if (error instanceof RelayRequestError && error.code === 'disconnected') return false
      throw error
    }
  }

  /** Stops renewing everything (session closing); the relay lets the leases expire. */
  destroyAll(): void {
    for (const agentId of this.held.keys()) this.stopTimer(agentId)
    this.held.clear()
    super.destroy()
  }

  private hold(lease: LeaseRecord): void {
    this.stopTimer(lease.agentId)
    const timer = setTimeout(() => void this.renew(lease.agentId), Math.max(10, lease.ttlMs / 3))
    timer.unref?.()
    this.held.set(lease.agentId, { lease, timer })
  }

  private async renew(agentId: string): Promise<void> {
    const held = this.held.get(agentId)
    if (!held) return
    try {
      const { lease } = await this.provider.request<{ lease: LeaseRecord }>('lease.renew', { agentId, epoch: held.lease.epoch })
      if (this.held.get(agentId) === held) this.hold(lease)
    } catch (error) {
      if (this.held.get(agentId) !== held) return
      if (error instanceof RelayRequestError && (error.code === 'disconnected' || error.code === 'timeout')) {
        // Offline: keep it; the relay keeps it until it expires, and we renew on reconnect.
        this.hold(held.lease)
        return
      }
      this.lose(agentId, error instanceof RelayRequestError && error.code === 'stale-epoch' ? 'stale' : 'expired', null)
    }
  }

  private lose(agentId: string, reason: string, by: string | null): void {
    const held = this.held.get(agentId)
    if (!held) return
    this.stopTimer(agentId)
    this.held.delete(agentId)
    this.emit('lost', [{ agentId, epoch: held.lease.epoch, reason, by }])
  }

  private stopTimer(agentId: string): void {
    const held = this.held.get(agentId)
    if (held?.timer) clearTimeout(held.timer)
  }
}
