// Scenario 1: claim and renew round trips with N connected instances.
// N counts every connected instance: the host (instant broker), the claimer, and N-2 idle
// ones. One claimer (connected last, so it is the last subscriber the relay writes the
// control-doc broadcast to) runs, one at a time:
//  - claim cycles: session.claim(agent) [a fresh grant: the relay stores the new epoch
//    (SQLite updateRecord) before answering] -> wait until the claimer's control doc shows
//    the lease -> session.release(agent) -> wait until it is gone;
//  - renew round trips: lease.renew with the held epoch (the RPC LeaseKeeper sends at
//    ttl/3) -> wait until the claimer's control doc shows the new expiry.
// "visible" = from the request until the claimer's own control doc shows the outcome: the
// relay has stored the control-doc update (pipeline append) and written the broadcast to
// every subscriber before the claimer's socket. The next round trip starts after that,
// plus `gapMs`, so each one meets an idle relay.
import type { LeaseRecord } from '@orchard/client'
import { nowMs, openSessions, selfCpuMs, sleep, withDeadline } from './common.js'
import { addCrowd, startWorld, waitLease, type CrowdWhere } from './world.js'

export interface LeaseSizes {
  n: number[]
  count: number
  warmup: number
  gapMs: number
}

export interface LeaseResult {
  n: number
  durability: 'full' | 'normal'
  crowd: CrowdWhere
  claim: number[]
  claimVisible: number[]
  release: number[]
  renew: number[]
  renewVisible: number[]
  /** Relay CPU over the claim phase divided by claim cycles (claim + release and their broadcasts). */
  relayCpuPerClaimCycleMs: number
  relayCpuPerRenewMs: number
  benchCpuPerRenewMs: number
  crowdCpuPerRenewMs: number | null
  /** Control-doc update frames one idle instance received per claim cycle and per renew. */
  framesPerClaimCycle: number
  framesPerRenew: number
  connectMs: number
}

export async function runLeases(n: number, sizes: LeaseSizes, opts: { durability?: 'full' | 'normal'; crowd: CrowdWhere; crowdChildren?: number; nodeFlags?: string[]; log: (s: string) => void }): Promise<LeaseResult> {
  const world = await startWorld({ durability: opts.durability ?? 'full', nodeFlags: opts.nodeFlags ?? [] })
  try {
    const host = world.host.session
    const agent = await withDeadline(host.spawn(world.projectId, 'lease-bench'), 15_000, 'spawn the agent under lease')
    const t0 = Date.now()
    await addCrowd(world, n - 2, opts.crowd, opts.crowdChildren ?? 1)
    const [claimer] = await openSessions({ relayUrl: world.relay.url, credential: world.relay.ownerToken, count: 1, prefix: 'claimer' })
    world.crowd.push(claimer!)
    const connectMs = Date.now() - t0
    const me = claimer!.session
    const agentId = agent.id
    const probe = claimer! // counts the control-doc frames every instance gets
    opts.log(`    N=${n} (${opts.durability ?? 'full'}, crowd in ${opts.crowd}): ${n} instances connected in ${connectMs} ms`)

    const claimCycle = async (out?: { claim: number[]; claimVisible: number[]; release: number[] }) => {
      const a = nowMs()
      const lease = await me.claim(agentId)
      const b = nowMs()
      await waitLease(me, agentId, (l) => l?.epoch === lease.epoch && l.holderInstanceId === me.instanceId)
      const c = nowMs()
      const released = await me.release(agentId)
      const d = nowMs()
      if (!released) throw new Error('release returned false')
      await waitLease(me, agentId, (l) => l === undefined)
      out?.claim.push(b - a)
      out?.claimVisible.push(c - a)
      out?.release.push(d - c)
    }
    for (let i = 0; i < sizes.warmup; i++) await claimCycle()

    const claims = { claim: [] as number[], claimVisible: [] as number[], release: [] as number[] }
    const childCpu = () => world.crowdChildren.reduce((sum, c) => sum + c.cpuMs(), 0)
    let relay0 = world.relay.cpuMs()
    let frames0 = probe.counts.sync
    for (let i = 0; i < sizes.count; i++) {
      await claimCycle(claims)
      if (sizes.gapMs > 0) await sleep(sizes.gapMs)
    }
    const relayCpuPerClaimCycleMs = (world.relay.cpuMs() - relay0) / sizes.count
    const framesPerClaimCycle = (probe.counts.sync - frames0) / sizes.count

    // Renew: hold one lease and renew it with its epoch, as LeaseKeeper does.
    let lease = await me.claim(agentId)
    await waitLease(me, agentId, (l) => l?.epoch === lease.epoch)
    const renew: number[] = []
    const renewVisible: number[] = []
    for (let i = 0; i < sizes.warmup; i++) {
      lease = (await me.provider.request<{ lease: LeaseRecord }>('lease.renew', { agentId, epoch: lease.epoch })).lease
      const want = lease.expiresAt
      await waitLease(me, agentId, (l) => (l?.expiresAt ?? 0) >= want)
    }
    relay0 = world.relay.cpuMs()
    frames0 = probe.counts.sync
    const bench0 = selfCpuMs()
    const crowd0 = childCpu()
    for (let i = 0; i < sizes.count; i++) {
      const a = nowMs()
      lease = (await me.provider.request<{ lease: LeaseRecord }>('lease.renew', { agentId, epoch: lease.epoch })).lease
      const b = nowMs()
      const want = lease.expiresAt
      await waitLease(me, agentId, (l) => (l?.expiresAt ?? 0) >= want)
      const c = nowMs()
      renew.push(b - a)
      renewVisible.push(c - a)
      if (sizes.gapMs > 0) await sleep(sizes.gapMs)
    }
    const relayCpuPerRenewMs = (world.relay.cpuMs() - relay0) / sizes.count
    const benchCpuPerRenewMs = (selfCpuMs() - bench0) / sizes.count
    const crowdCpuPerRenewMs = world.crowdChildren.length > 0 ? (childCpu() - crowd0) / sizes.count : null
    const framesPerRenew = (probe.counts.sync - frames0) / sizes.count
    await me.release(agentId)
    return {
      n,
      durability: opts.durability ?? 'full',
      crowd: opts.crowd,
      ...claims,
      renew,
      renewVisible,
      relayCpuPerClaimCycleMs,
      relayCpuPerRenewMs,
      benchCpuPerRenewMs,
      crowdCpuPerRenewMs,
      framesPerClaimCycle,
      framesPerRenew,
      connectMs,
    }
  } finally {
    await world.close()
  }
}
