/**
 * LeaseKeeper alone (LEASE-9), with a scripted provider and fake timers: when it renews, what
 * it does with each answer, and when it says a lease was lost.
 */
import type { LeaseRecord } from '@orchard/protocol'
import { ObservableV2 } from 'lib0/observable'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { LeaseKeeper, type LeaseLost } from './LeaseKeeper.js'
import { RelayRequestError, type RelayProvider, type RelayProviderEvents } from './RelayProvider.js'

type Answer = (params: { agentId: string; epoch?: number }) => unknown

class ScriptedProvider extends ObservableV2<RelayProviderEvents> {
  readonly calls: Array<{ method: string; params: { agentId: string; epoch?: number } }> = []
  answers: Record<string, Answer> = {}
  async request<T>(method: string, params: { agentId: string; epoch?: number }): Promise<T> {
    this.calls.push({ method, params })
    const answer = this.answers[method]
    if (!answer) throw new Error(`unscripted ${method}`)
    return answer(params) as T
  }
}

const lease = (epoch: number, ttlMs = 3_000): LeaseRecord => ({
  agentId: 'agent',
  holderInstanceId: 'me',
  memberId: 'm',
  memberName: 'Me',
  epoch,
  expiresAt: Date.now() + ttlMs,
  ttlMs
})

let provider: ScriptedProvider
let keeper: LeaseKeeper
let lost: LeaseLost[]

beforeEach(() => {
  vi.useFakeTimers()
  provider = new ScriptedProvider()
  provider.answers['lease.claim'] = () => ({ lease: lease(4) })
  provider.answers['lease.renew'] = ({ epoch }) => ({ lease: lease(epoch ?? 0) })
  keeper = new LeaseKeeper(provider as unknown as RelayProvider)
  lost = []
  keeper.on('lost', (entry) => lost.push(entry))
})
afterEach(() => {
  keeper.destroyAll()
  vi.useRealTimers()
})

const renewals = () => provider.calls.filter((call) => call.method === 'lease.renew').length

describe('LeaseKeeper', () => {
  it('[LEASE-9] renews a held lease at a third of its TTL, again and again, with its epoch', async () => {
    await keeper.claim('agent')
    await vi.advanceTimersByTimeAsync(999)
    expect(renewals()).toBe(0)
    await vi.advanceTimersByTimeAsync(1)
    expect(renewals()).toBe(1)
    await vi.advanceTimersByTimeAsync(1_000)
    expect(renewals()).toBe(2)
    expect(provider.calls.at(-1)).toEqual({ method: 'lease.renew', params: { agentId: 'agent', epoch: 4 } })
    expect(lost).toEqual([])
  })

  it('[LEASE-9] renews at once after a reconnect (the relay\'s WELCOME), not a third of a TTL later', async () => {
    await keeper.claim('agent')
    provider.emit('welcome', [{} as never])
    await vi.advanceTimersByTimeAsync(0)
    expect(renewals()).toBe(1)
  })

  it('[LEASE-9] a renewal refused as stale loses the lease with reason "stale"; offline renewals keep it', async () => {
    await keeper.claim('agent')
    provider.answers['lease.renew'] = () => {
      throw new RelayRequestError('disconnected', 'offline')
    }
    await vi.advanceTimersByTimeAsync(1_000)
    expect(keeper.get('agent')?.epoch).toBe(4)
    expect(lost).toEqual([])
    provider.answers['lease.renew'] = () => {
      throw new RelayRequestError('stale-epoch', 'your hold has ended')
    }
    await vi.advanceTimersByTimeAsync(1_000)
    expect(lost).toEqual([{ agentId: 'agent', epoch: 4, reason: 'stale', by: null }])
    expect(keeper.get('agent')).toBeUndefined()
    // Lost means no more renewals.
    const after = renewals()
    await vi.advanceTimersByTimeAsync(10_000)
    expect(renewals()).toBe(after)
  })

  it('[LEASE-9] the relay\'s lease-lost event for the held epoch emits lost with its reason and who; another epoch\'s is ignored', async () => {
    await keeper.claim('agent')
    provider.emit('event', [{ type: 'lease-lost', agentId: 'agent', epoch: 3, reason: 'expired' }])
    expect(lost).toEqual([])
    provider.emit('event', [{ type: 'lease-lost', agentId: 'agent', epoch: 4, reason: 'taken-over', by: 'Ana' }])
    expect(lost).toEqual([{ agentId: 'agent', epoch: 4, reason: 'taken-over', by: 'Ana' }])
    expect(keeper.all()).toEqual([])
  })

  it('[INPUT-2] release() resolves with the relay\'s answer, only after it, and stops renewing', async () => {
    await keeper.claim('agent')
    let answer: (value: { released: boolean }) => void = () => undefined
    provider.answers['lease.release'] = () => new Promise((resolve) => (answer = resolve))
    let settled = false
    const released = keeper.release('agent').then((value) => {
      settled = true
      return value
    })
    await vi.advanceTimersByTimeAsync(0)
    expect(settled).toBe(false)
    answer({ released: true })
    expect(await released).toBe(true)
    await vi.advanceTimersByTimeAsync(10_000)
    expect(renewals()).toBe(0)
  })

  it('[LEASE-9] claim() asks the relay with the agent and whether to take over, holds what it grants and says so', async () => {
    const claimed: LeaseRecord[] = []
    keeper.on('claimed', (granted) => claimed.push(granted))
    await keeper.claim('agent')
    await keeper.claim('agent', true)
    expect(provider.calls).toEqual([
      { method: 'lease.claim', params: { agentId: 'agent', takeover: false } },
      { method: 'lease.claim', params: { agentId: 'agent', takeover: true } }
    ])
    expect(claimed.map((granted) => granted.epoch)).toEqual([4, 4])
    // Claimed twice, renewed once per third of the TTL: the first timer was replaced, not doubled.
    await vi.advanceTimersByTimeAsync(1_000)
    expect(renewals()).toBe(1)
  })

  it('[LEASE-9] only a lease-lost event for a held agent and epoch loses it; without a reason it was taken over', async () => {
    await keeper.claim('agent')
    provider.emit('event', [{ type: 'agent-exited', agentId: 'agent', epoch: 4, reason: 'expired' }])
    provider.emit('event', [{ type: 'lease-lost', agentId: 42, epoch: 4 }])
    provider.emit('event', [{ type: 'lease-lost', agentId: 'other', epoch: 4 }])
    expect(lost).toEqual([])
    provider.emit('event', [{ type: 'lease-lost', agentId: 'agent', epoch: 4 }])
    expect(lost).toEqual([{ agentId: 'agent', epoch: 4, reason: 'taken-over', by: null }])
    expect(vi.getTimerCount()).toBe(0)
  })

  it('[LEASE-9] offline renewals keep the lease (disconnected or timed out); any other refusal ends it as expired', async () => {
    await keeper.claim('agent')
    provider.answers['lease.renew'] = () => {
      throw new RelayRequestError('timeout', 'no answer')
    }
    await vi.advanceTimersByTimeAsync(1_000)
    expect(renewals()).toBe(1)
    expect(keeper.get('agent')?.epoch).toBe(4)
    // Kept means still renewed: the next attempt comes a third of a TTL later.
    await vi.advanceTimersByTimeAsync(1_000)
    expect(renewals()).toBe(2)
    provider.answers['lease.renew'] = () => {
      throw new RelayRequestError('conflict', 'someone else holds it')
    }
    await vi.advanceTimersByTimeAsync(1_000)
    expect(lost).toEqual([{ agentId: 'agent', epoch: 4, reason: 'expired', by: null }])
    await keeper.claim('agent')
    provider.answers['lease.renew'] = () => {
      throw new Error('a socket error, not the relay')
    }
    await vi.advanceTimersByTimeAsync(1_000)
    expect(lost.at(-1)).toEqual({ agentId: 'agent', epoch: 4, reason: 'expired', by: null })
  })

  it('[LEASE-9] a renewal answered after release() does not bring the lease back, whether granted or failed', async () => {
    for (const outcome of ['granted', 'disconnected', 'stale-epoch'] as const) {
      await keeper.claim('agent')
      let answer: (value: unknown) => void = () => undefined
      let fail: (error: Error) => void = () => undefined
      provider.answers['lease.renew'] = () => new Promise((resolve, reject) => ((answer = resolve), (fail = reject)))
      provider.answers['lease.release'] = () => ({ released: true })
      await vi.advanceTimersByTimeAsync(1_000) // the renewal is now in flight
      expect(await keeper.release('agent')).toBe(true)
      if (outcome === 'granted') answer({ lease: lease(4) })
      else fail(new RelayRequestError(outcome, outcome))
      await vi.advanceTimersByTimeAsync(10_000)
      expect(keeper.get('agent'), outcome).toBeUndefined()
      expect(lost, outcome).toEqual([])
    }
  })

  it('[INPUT-2] release() of a lease not held asks nothing and is false; it forgets the lease at once, sends its epoch, and is false when disconnected', async () => {
    expect(await keeper.release('agent')).toBe(false)
    expect(provider.calls).toEqual([])
    await keeper.claim('agent')
    provider.answers['lease.release'] = () => {
      throw new RelayRequestError('disconnected', 'offline')
    }
    const released = keeper.release('agent')
    expect(keeper.get('agent')).toBeUndefined()
    expect(vi.getTimerCount()).toBe(0)
    expect(await released).toBe(false)
    expect(provider.calls.at(-1)).toEqual({ method: 'lease.release', params: { agentId: 'agent', epoch: 4 } })
    await keeper.claim('agent')
    provider.answers['lease.release'] = () => {
      throw new RelayRequestError('not-holder', 'you do not hold it')
    }
    await expect(keeper.release('agent')).rejects.toMatchObject({ code: 'not-holder' })
  })

  it('[SESSION-6] destroyAll() stops every renewal, forgets every lease and every listener', async () => {
    await keeper.claim('agent')
    provider.answers['lease.claim'] = () => ({ lease: { ...lease(2), agentId: 'other' } })
    await keeper.claim('other')
    keeper.destroyAll()
    expect(keeper.all()).toEqual([])
    expect(vi.getTimerCount()).toBe(0) // no renewal timer left to wake the process
    await vi.advanceTimersByTimeAsync(10_000)
    expect(renewals()).toBe(0)
    // A destroyed keeper tells no one anything: its listeners are gone.
    const claimed: LeaseRecord[] = []
    keeper.on('claimed', (granted) => claimed.push(granted))
    keeper.destroyAll()
    await keeper.claim('agent')
    expect(claimed).toEqual([])
  })
})
