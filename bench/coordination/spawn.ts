// Scenario 3: spawn races. N instances (each its own member, joined with an editor invite)
// race to spawn the same agent every round, `onExisting: 'reuse'`, a new name per round;
// the host (this process) answers host.spawn through a broker that "spawns" at once.
// Every round checks that all racers got the same agent id and that the broker was asked
// exactly once. Racers run either as separate processes (instances.ts, one per racer,
// driven over stdin/stdout: the round's barrier is one IPC round trip) or as sessions in
// this process over real sockets. A fresh relay per variant, so the control doc starts
// equally small each time.
import type { WorkspaceSession } from '@orchard/client'
import { startInstances, type InstancesChild } from './children.js'
import { closeSessions, nowMs, openSessions, withDeadline, type CountedSession } from './common.js'
import { editorInvites, startWorld } from './world.js'

export interface SpawnSizes {
  n: number[]
  rounds: number
  warmup: number
}

export interface SpawnResult {
  n: number
  where: 'processes' | 'in-process'
  rounds: number
  totalMs: number
  roundsPerS: number
  roundMs: number[]
  /** Rounds in which the broker was asked exactly once and every racer got the same agent. */
  exactlyOne: number
  spawnsTotal: number
  relayCpuPerRoundMs: number
  /** The same barrier with a no-op command instead of a spawn (processes only): the IPC floor. */
  ipcRoundsPerS: number | null
  agentsAtEnd: number
}

type Racer = (name: string) => Promise<string>

export async function runSpawnRace(n: number, where: 'processes' | 'in-process', sizes: SpawnSizes, opts: { durability?: 'full' | 'normal'; nodeFlags?: string[]; log: (s: string) => void }): Promise<SpawnResult> {
  const world = await startWorld({ durability: opts.durability ?? 'full', nodeFlags: opts.nodeFlags ?? [] })
  const children: InstancesChild[] = []
  let sessions: CountedSession[] = []
  try {
    const invites = await editorInvites(world, n)
    const projectId = world.projectId
    let racers: Racer[]
    let ping: (() => Promise<void>) | null = null
    if (where === 'processes') {
      children.push(...(await Promise.all(invites.map((invite, i) => startInstances(world.relay.url, [invite], `racer${i}`)))))
      racers = children.map((child) => async (name) => {
        const r = await child.call<{ agentId: string }>({ cmd: 'spawn', i: 0, projectId, name, onExisting: 'reuse' }, 15_000)
        if (!r.ok) throw new Error(`spawn refused: ${r.message}`)
        return r.agentId
      })
      ping = async () => {
        await Promise.all(children.map((child) => child.call({ cmd: 'ping' }, 15_000)))
      }
    } else {
      sessions = (await Promise.all(invites.map((invite, i) => openSessions({ relayUrl: world.relay.url, credential: invite, count: 1, prefix: `racer${i}` })))).flat()
      racers = sessions.map(({ session }: { session: WorkspaceSession }) => async (name) => (await withDeadline(session.spawn(projectId, name, { onExisting: 'reuse' }), 15_000, 'spawn')).id)
    }
    const broker = world.broker
    const round = async (name: string): Promise<boolean> => {
      const before = broker.spawned.length
      const ids = await Promise.all(racers.map((race) => race(name)))
      const asked = broker.spawned.length - before
      return new Set(ids).size === 1 && asked === 1 && broker.spawned.at(-1)?.name === name
    }
    for (let r = 0; r < sizes.warmup; r++) await round(`warm-${r}`)
    let exactlyOne = 0
    const roundMs: number[] = []
    const spawned0 = broker.spawned.length
    const relay0 = world.relay.cpuMs()
    const t0 = nowMs()
    for (let r = 0; r < sizes.rounds; r++) {
      const a = nowMs()
      if (await round(`race-${r}`)) exactlyOne++
      roundMs.push(nowMs() - a)
    }
    const totalMs = nowMs() - t0
    const relayCpuPerRoundMs = (world.relay.cpuMs() - relay0) / sizes.rounds
    const spawnsTotal = broker.spawned.length - spawned0
    let ipcRoundsPerS: number | null = null
    if (ping) {
      const p0 = nowMs()
      for (let r = 0; r < sizes.rounds; r++) await ping()
      ipcRoundsPerS = (sizes.rounds * 1000) / (nowMs() - p0)
    }
    const result: SpawnResult = {
      n,
      where,
      rounds: sizes.rounds,
      totalMs,
      roundsPerS: (sizes.rounds * 1000) / totalMs,
      roundMs,
      exactlyOne,
      spawnsTotal,
      relayCpuPerRoundMs,
      ipcRoundsPerS,
      agentsAtEnd: world.host.session.agents().length,
    }
    opts.log(`    N=${n} ${where}: ${sizes.rounds} rounds in ${Math.round(totalMs)} ms = ${result.roundsPerS.toFixed(0)} rounds/s, exactly one spawn in ${exactlyOne}/${sizes.rounds}`)
    return result
  } finally {
    await Promise.all(children.map((c) => c.stop()))
    await closeSessions(sessions)
    await world.close()
  }
}
