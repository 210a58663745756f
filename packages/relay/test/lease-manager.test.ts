/**
 * LeaseManager alone (LEASE-1..5): a scripted room, an in-memory record store and a clock the
 * test sets, so boundaries (expiry to the millisecond), messages and notices are checked
 * exactly. Fake timers drive the expiry sweeper. (Written for the mutants the end-to-end
 * coordination tests left alive.) The room is only what leases declare they need (LeaseRoom).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { Frame } from '@orchard/protocol'
import { MemoryStorage } from '@orchard/relay'
import type { LeaseRecord } from '../src/control/ControlDoc.js'
import type { RoomPeer } from '../src/connection/types.js'
import { LeaseManager, type LeaseRoom } from '../src/coordination/LeaseManager.js'
import { RelayClock } from '../src/coordination/RelayClock.js'

interface Peer {
  /** Only Orchard-protocol connections hold leases (a stock y-websocket socket never does). */
  flavor: 'orchard'
  identity: { memberId: string; name: string; role: 'owner' | 'editor' | 'viewer'; instanceId: string; label: string }
  frames: Frame[]
  sendFrame(frame: Frame): void
}

function peer(name: string, role: Peer['identity']['role'] = 'editor', memberId = `m-${name}`, instanceId = name): Peer {
  const frames: Frame[] = []
  return { flavor: 'orchard', identity: { memberId, name, role, instanceId, label: '' }, frames, sendFrame: (frame) => frames.push(frame) }
}

let now: number
let leases: Map<string, LeaseRecord>
let activity: Array<{ by: string; type: string; data: unknown }>
let peers: Peer[]
let manager: LeaseManager

beforeEach(() => {
  vi.useFakeTimers()
  now = 1_000_000
  leases = new Map()
  activity = []
  peers = []
  const room = {
    id: 'ws',
    peers,
    control: {
      leases,
      setLease: (lease: LeaseRecord | null, agentId: string) => (lease ? leases.set(agentId, lease) : leases.delete(agentId))
    },
    recordActivity: (by: Peer, type: string, data: unknown) => activity.push({ by: by.identity.name, type, data })
  }
  manager = new LeaseManager(room as unknown as LeaseRoom, new MemoryStorage(), new RelayClock(() => now), 1_000)
})
afterEach(() => {
  manager.close()
  vi.useRealTimers()
})

const as = (p: Peer) => p as unknown as RoomPeer
const lostEvents = (p: Peer) => p.frames.filter((frame) => frame.kind === 14).map((frame) => (frame as { event: unknown }).event)

describe('LeaseManager', () => {
  it('[LEASE-1] a lease is in force until the millisecond it expires; the same holder re-claims with its epoch; another is refused naming the holder', async () => {
    const ben = peer('ben')
    const carol = peer('carol')
    const granted = await manager.claim(as(ben), 'a', false)
    expect(granted).toMatchObject({ epoch: 1, holderInstanceId: 'ben', memberName: 'ben', expiresAt: now + 1_000, ttlMs: 1_000 })
    expect(activity).toEqual([{ by: 'ben', type: 'claimed', data: { agentId: 'a', epoch: 1 } }])
    now += 999
    expect(manager.current('a')?.epoch).toBe(1)
    expect((await manager.claim(as(ben), 'a', false)).epoch).toBe(1) // mine: extended, same epoch
    const refusal = await manager.claim(as(carol), 'a', false).catch((error: unknown) => error)
    expect(refusal).toMatchObject({ code: 'conflict', data: { holder: 'ben', expiresAt: now + 1_000 } })
    expect((refusal as Error).message).toBe(`ben holds this agent's terminal until ${new Date(now + 1_000).toISOString()}. Ask them to release it.`)
    const owner = peer('ana', 'owner')
    const ownerRefusal = (await manager.claim(as(owner), 'a', false).then(() => undefined, (error: unknown) => error)) as Error
    expect(ownerRefusal.message).toMatch(/Ask them to release it, or take it over\.$/)
    now += 1_000
    expect(manager.current('a')).toBeUndefined() // expiresAt == now: over
    expect((await manager.claim(as(carol), 'a', false)).epoch).toBe(2)
  })

  it('[LEASE-1] the same instance id under another member is not the holder', async () => {
    const ben = peer('ben', 'editor', 'm-ben', 'shared-box')
    const eve = peer('eve', 'editor', 'm-eve', 'shared-box')
    await manager.claim(as(ben), 'a', false)
    await expect(manager.claim(as(eve), 'a', false)).rejects.toMatchObject({ code: 'conflict' })
    expect(() => manager.checkInput(as(eve), 'a', 1)).toThrow(expect.objectContaining({ code: 'not-holder' }))
  })

  it('[LEASE-4] a takeover gets the next epoch, records who it came from, and tells only the old holder, naming who took it', async () => {
    const ben = peer('ben')
    const bystander = peer('dan')
    const ana = peer('ana', 'owner')
    peers.push(ben, bystander, ana)
    await manager.claim(as(ben), 'a', false)
    const taken = await manager.claim(as(ana), 'a', true)
    expect(taken.epoch).toBe(2)
    expect(activity.at(-1)).toEqual({ by: 'ana', type: 'takeover', data: { agentId: 'a', from: 'ben', epoch: 2 } })
    expect(lostEvents(ben)).toEqual([{ type: 'lease-lost', agentId: 'a', epoch: 1, reason: 'taken-over', by: 'ana' }])
    expect(lostEvents(bystander)).toEqual([])
  })

  it('[LEASE-2] renew needs the holder and the current epoch; the refusal says who holds it now', async () => {
    const ben = peer('ben')
    const carol = peer('carol')
    await manager.claim(as(ben), 'a', false)
    now += 500
    expect(manager.renew(as(ben), 'a', 1).expiresAt).toBe(now + 1_000)
    expect(() => manager.renew(as(ben), 'a', 2)).toThrow(expect.objectContaining({ code: 'stale-epoch', data: { epoch: 1 }, message: "Your hold on this agent's terminal (epoch 2) has ended; ben holds it now (epoch 1). Claim it again to type." }))
    expect(() => manager.renew(as(carol), 'a', 1)).toThrow(expect.objectContaining({ code: 'stale-epoch' }))
    now += 1_000
    expect(() => manager.renew(as(ben), 'a', 1)).toThrow(expect.objectContaining({ code: 'stale-epoch', data: { epoch: null }, message: "Your hold on this agent's terminal (epoch 1) has ended. Claim it again to type." }))
  })

  it('[LEASE-5] release frees it once and records it; a stale or foreign release changes nothing', async () => {
    const ben = peer('ben')
    const carol = peer('carol')
    await manager.claim(as(ben), 'a', false)
    expect(manager.release(as(carol), 'a', 1)).toEqual({ released: false })
    expect(manager.release(as(ben), 'a', 2)).toEqual({ released: false })
    expect(leases.has('a')).toBe(true)
    expect(manager.release(as(ben), 'a', 1)).toEqual({ released: true })
    expect(leases.has('a')).toBe(false)
    expect(activity.at(-1)).toEqual({ by: 'ben', type: 'released', data: { agentId: 'a', epoch: 1 } })
    expect(manager.release(as(ben), 'a', 1)).toEqual({ released: false })
  })

  it('[LEASE-3] input: nobody holding, another holder and an old epoch are each refused in words', async () => {
    const ben = peer('ben')
    const carol = peer('carol')
    expect(() => manager.checkInput(as(ben), 'a', 0)).toThrow(expect.objectContaining({ code: 'not-holder', message: "Nobody holds this agent's terminal; claim it before typing." }))
    await manager.claim(as(ben), 'a', false)
    expect(() => manager.checkInput(as(carol), 'a', 1)).toThrow(expect.objectContaining({ code: 'not-holder', message: "ben holds this agent's terminal; your input was not sent. Claim it to type." }))
    expect(() => manager.checkInput(as(ben), 'a', 0)).toThrow(expect.objectContaining({ code: 'stale-epoch', message: 'That input carried epoch 0, but the lease is at epoch 1; it was not sent.' }))
    expect(() => manager.checkInput(as(ben), 'a', 1)).not.toThrow()
  })

  it('[STOP-1] drop() ends a lease; dropping none is a no-op', async () => {
    await manager.claim(as(peer('ben')), 'a', false)
    manager.drop('b', 'stopped', null)
    expect(leases.has('a')).toBe(true)
    manager.drop('a', 'stopped', null)
    expect(leases.has('a')).toBe(false)
  })

  it('[LEASE-1] the sweeper removes expired leases, tells their holders, and stops when none are left', async () => {
    // Counted from here, so the test states only its own timers (this file runs in a worker
    // of its own: vitest.config.ts moves every file that counts fake timers there).
    const others = vi.getTimerCount()
    const ben = peer('ben')
    const carol = peer('carol')
    peers.push(ben, carol)
    await manager.claim(as(ben), 'a', false)
    now += 500
    await manager.claim(as(carol), 'b', false)
    expect(vi.getTimerCount() - others).toBe(1) // one sweeper for all leases
    now += 500 // a expires exactly now; b has 500 ms left
    await vi.advanceTimersByTimeAsync(250) // ttl / 4
    expect([...leases.keys()]).toEqual(['b'])
    expect(lostEvents(ben)).toEqual([{ type: 'lease-lost', agentId: 'a', epoch: 1, reason: 'expired', by: null }])
    expect(lostEvents(carol)).toEqual([])
    now += 500
    await vi.advanceTimersByTimeAsync(250)
    expect(leases.size).toBe(0)
    expect(vi.getTimerCount() - others).toBe(0) // nothing left to sweep: the timer is gone
  })

  it('[LEASE-6] a failed claim does not block the next one for the same agent (claims are serialized, failures included)', async () => {
    const ben = peer('ben')
    await manager.claim(as(ben), 'a', false)
    const carol = peer('carol')
    await expect(manager.claim(as(carol), 'a', false)).rejects.toMatchObject({ code: 'conflict' })
    expect((await manager.claim(as(ben), 'a', false)).epoch).toBe(1)
  })

  it('[LEASE-1] the same member on another instance is not the holder either', async () => {
    const laptop = peer('ben', 'editor', 'm-ben', 'laptop')
    const desktop = peer('ben', 'editor', 'm-ben', 'desktop')
    await manager.claim(as(laptop), 'a', false)
    await expect(manager.claim(as(desktop), 'a', false)).rejects.toMatchObject({ code: 'conflict' })
  })

  it('[LEASE-6] concurrent claims for one agent are serialized: exactly one is granted', async () => {
    const results = await Promise.allSettled([peer('ben'), peer('carol'), peer('dan')].map((p) => manager.claim(as(p), 'a', false)))
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1)
    expect(results.filter((result) => result.status === 'rejected').map((result) => (result as PromiseRejectedResult).reason.code)).toEqual(['conflict', 'conflict'])
  })

  it('[LEASE-1] the sweeper runs every ttl/4 (250 ms here), its notice is connection-level, and close() stops it', async () => {
    const others = vi.getTimerCount() // as above
    const ben = peer('ben')
    peers.push(ben)
    await manager.claim(as(ben), 'a', false)
    now += 1_000 // expired by the clock; the sweeper has not run yet
    await vi.advanceTimersByTimeAsync(249)
    expect(leases.has('a')).toBe(true)
    await vi.advanceTimersByTimeAsync(1)
    expect(leases.has('a')).toBe(false)
    expect(ben.frames.map((frame) => frame.channel)).toEqual([''])
    await manager.claim(as(ben), 'b', false)
    expect(vi.getTimerCount() - others).toBe(1)
    manager.close()
    expect(vi.getTimerCount() - others).toBe(0)
  })
})
