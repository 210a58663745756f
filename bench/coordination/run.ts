// Coordination benchmark: lease round trips, presence CPU against the peers, spawn races.
//   npx tsx bench/coordination/run.ts [--quick] [--only leases,presence,spawn] [--out FILE]
//                                     [--profile DIR]   (relay under --cpu-prof, profiles in DIR)
// The markdown report goes to stdout (and --out FILE); progress to stderr.
import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { parseArgs } from 'node:util'
import { fmt, median, percentile, table } from '../sync/stats.js'
import { REPO_ROOT, relayStderr } from './common.js'
import { runLeases, type LeaseResult, type LeaseSizes } from './leases.js'
import { PRESENCE_TARGETS, runPresence, type PresenceResult, type PresenceSizes } from './presence.js'
import { runSpawnRace, type SpawnResult, type SpawnSizes } from './spawn.js'

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean' },
    only: { type: 'string' },
    out: { type: 'string' },
    profile: { type: 'string' },
  },
})

interface Sizes {
  leases: LeaseSizes
  /** Extra lease rows: [N, durability, where the idle instances run]. */
  leaseExtras: Array<[number, 'full' | 'normal', 'bench' | 'child']>
  presence: PresenceSizes
  spawn: SpawnSizes
  spawnWhere: Array<'processes' | 'in-process'>
  /** Each spawn row is run this many times (a fresh relay each): median rounds/s, min–max. */
  spawnRepeats: number
}

const FULL: Sizes = {
  leases: { n: [2, 50, 200], count: 300, warmup: 20, gapMs: 2 },
  leaseExtras: [
    [200, 'full', 'bench'],
    [2, 'normal', 'child'],
    [200, 'normal', 'child'],
  ],
  presence: { instances: 200, rateHz: 1, windowMs: 10_000, idleMs: 2_000 },
  spawn: { n: [2, 5], rounds: 300, warmup: 20 },
  spawnWhere: ['processes', 'in-process'],
  spawnRepeats: 3,
}

const QUICK: Sizes = {
  leases: { n: [2, 200], count: 40, warmup: 5, gapMs: 2 },
  leaseExtras: [],
  presence: { instances: 200, rateHz: 1, windowMs: 2_000, idleMs: 500 },
  spawn: { n: [2, 5], rounds: 50, warmup: 5 },
  spawnWhere: ['processes'],
  spawnRepeats: 1,
}

const sizes = values.quick ? QUICK : FULL
const only = new Set((values.only ?? 'leases,presence,spawn').split(','))
const nodeFlags = values.profile ? ['--cpu-prof', `--cpu-prof-dir=${values.profile}`] : []
const log = (s: string) => process.stderr.write(`${s}\n`)
const ms = (x: number) => fmt(x, 3)
const p = (xs: number[], q: number) => ms(percentile(xs, q))

function revision(): string {
  try {
    const git = (...args: string[]) => execFileSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8' })
    const dirty = git('status', '--porcelain', '--', 'packages').split('\n').filter(Boolean).map((l) => l.slice(3))
    return `${git('rev-parse', '--short', 'HEAD').trim()}${dirty.length > 0 ? ` + uncommitted changes in ${dirty.join(', ')}` : ' (packages/ clean)'}`
  } catch {
    return 'unknown (no git)'
  }
}
const rev0 = revision()
const load0 = loadavg()
const started = Date.now()
const out: string[] = []

// ------------------------------------------------------------------ 1. leases
const leaseResults: LeaseResult[] = []
if (only.has('leases')) {
  log('1. claim / renew round trips')
  for (const n of sizes.leases.n) leaseResults.push(await runLeases(n, sizes.leases, { crowd: 'child', nodeFlags, log }))
  for (const [n, durability, crowd] of sizes.leaseExtras) leaseResults.push(await runLeases(n, sizes.leases, { durability, crowd, nodeFlags, log }))
}

// ------------------------------------------------------------------ 2. presence
const presenceResults: PresenceResult[] = []
if (only.has('presence')) {
  log('2. presence: relay CPU per awareness update')
  for (const target of PRESENCE_TARGETS) presenceResults.push(await runPresence(target, sizes.presence, { nodeFlags, log }))
}

// ------------------------------------------------------------------ 3. spawn races
const spawnResults: SpawnResult[][] = []
if (only.has('spawn')) {
  log('3. spawn races')
  for (const where of sizes.spawnWhere) {
    for (const n of sizes.spawn.n) {
      const runs: SpawnResult[] = []
      for (let r = 0; r < sizes.spawnRepeats; r++) runs.push(await runSpawnRace(n, where, sizes.spawn, { nodeFlags, log }))
      spawnResults.push(runs)
    }
  }
}

const load1 = loadavg()
const elapsed = (Date.now() - started) / 1000

// ------------------------------------------------------------------ report
const cpu = cpus()
out.push(`# Coordination benchmark${values.quick ? ' (--quick)' : ''}`)
out.push('')
out.push(`- date: ${new Date(started).toISOString()}, ${elapsed.toFixed(0)} s`)
out.push(`- command: \`npx tsx bench/coordination/run.ts ${process.argv.slice(2).join(' ')}\``.replace(/ `$/, '`'))
out.push(`- machine: ${cpu[0]?.model ?? '?'}, ${cpu.length} cores, node ${process.version}; load average (1/5/15 min) at start ${load0.map((x) => x.toFixed(2)).join(' / ')}, at end ${load1.map((x) => x.toFixed(2)).join(' / ')}`)
out.push(
  `- code: ${rev0}${revision() === rev0 ? '' : ` (changed during the run: now ${revision()})`}`,
)
out.push(
  '- relay: `node --import tsx packages/cli/src/bin.ts relay --json --port 0 --data <tmp>/orchard.db` as its own process (default limits: awarenessIntervalMs 20, leaseTtlMs 30 000; `--durability full` unless a row says `normal`); its CPU is utime+stime of all its threads (SQLite writer thread included) from /proc/<pid>/stat, 10 ms ticks. A fresh relay for every row.' +
    (values.profile ? ` **Profiled** (--cpu-prof into ${values.profile}): figures are slower than unprofiled.` : ''),
)
out.push(
  `- sizes: leases N=${sizes.leases.n.join(', ')} × ${sizes.leases.count} round trips each (after ${sizes.leases.warmup} unreported), ${sizes.leases.gapMs} ms apart; presence ${sizes.presence.instances} instances × ${sizes.presence.rateHz} Hz × ${sizes.presence.windowMs / 1000} s; spawn races N=${sizes.spawn.n.join(', ')} × ${sizes.spawn.rounds} rounds (after ${sizes.spawn.warmup}), ${sizes.spawnRepeats} run(s) per row.`,
)
out.push('')

if (leaseResults.length > 0) {
  out.push('## 1. Claim and renew round trips')
  out.push('')
  out.push(
    'N connected instances = the host (instant broker), one claimer (connected last) and N−2 idle instances. A **claim** is a fresh grant each time (claim, then release): the relay stores the new epoch (SQLite `updateRecord`, fsynced with `full`) before it answers. A **renew** is `lease.renew` with the held epoch (what LeaseKeeper sends every ttl/3); the relay answers at once and stores + broadcasts the new expiry after. **visible** = request → the claimer\'s own control doc shows the outcome (the relay has stored the control-doc update and written the broadcast to every instance; the claimer is the last subscriber). One round trip at a time, each after the previous one is visible. Times in ms.',
  )
  out.push('')
  out.push(
    table(
      ['N', 'durability', 'idle instances run in', 'claim p50', 'claim p99', 'claim visible p50 / p99', 'release p50', 'renew p50', 'renew p99', 'renew visible p50 / p99', 'relay CPU per claim+release', 'relay CPU per renew', 'control frames per instance per claim+release / renew', 'connect all'],
      leaseResults.map((r) => [
        String(r.n),
        r.durability,
        r.n <= 2 ? '–' : r.crowd === 'child' ? '1 child process' : 'the bench process',
        p(r.claim, 50),
        p(r.claim, 99),
        `${p(r.claimVisible, 50)} / ${p(r.claimVisible, 99)}`,
        p(r.release, 50),
        p(r.renew, 50),
        p(r.renew, 99),
        `${p(r.renewVisible, 50)} / ${p(r.renewVisible, 99)}`,
        ms(r.relayCpuPerClaimCycleMs),
        ms(r.relayCpuPerRenewMs),
        `${fmt(r.framesPerClaimCycle)} / ${fmt(r.framesPerRenew)}`,
        `${(r.connectMs / 1000).toFixed(1)} s`,
      ]),
    ),
  )
  out.push('')
  const child = leaseResults.filter((r) => r.crowdCpuPerRenewMs !== null && r.n > 2)
  if (child.length > 0) {
    out.push(
      `Client side (where the idle instances run, per renew): ${leaseResults
        .filter((r) => r.n > 2)
        .map((r) => `N=${r.n} ${r.durability} ${r.crowd === 'child' ? `child ${ms(r.crowdCpuPerRenewMs ?? NaN)} ms CPU, bench process ${ms(r.benchCpuPerRenewMs)} ms` : `bench process ${ms(r.benchCpuPerRenewMs)} ms CPU`}`)
        .join('; ')}.`,
    )
    out.push('')
  }
}

if (presenceResults.length > 0) {
  const peers = presenceResults.filter((r) => r.peer)
  const best = peers.reduce<PresenceResult | null>((b, r) => (b === null || r.usPerUpdate < b.usPerUpdate ? r : b), null)
  out.push('## 2. Presence: server CPU per awareness update')
  out.push('')
  out.push(
    `${sizes.presence.instances} instances each set one awareness field (\`cursor\`) ${sizes.presence.rateHz}×/s for ${sizes.presence.windowMs / 1000} s, phases spread evenly: the same updates through every server. Server CPU from the first update until every client has seen every other client's last clock, divided by the updates sent. Peers and orchard-yws use bench/sync/client.ts (stock y-websocket / Hocuspocus framing, y-protocols Awareness); orchard uses WorkspaceSessions. All clients live in the bench process (its CPU is the last column: it kept up, see drain).`,
  )
  out.push('')
  out.push(
    table(
      ['server', 'µs CPU per update', 'vs best peer', 'updates sent', 'sent over', 'drain after last', 'awareness msgs received per client (min–max)', 'per client per s', 'server idle CPU', 'bench CPU'],
      presenceResults.map((r) => [
        r.target,
        fmt(r.usPerUpdate),
        best ? `${fmt(r.usPerUpdate / best.usPerUpdate)}×` : '–',
        String(r.sent),
        `${(r.sendMs / 1000).toFixed(2)} s`,
        `${fmt(r.drainMs)} ms`,
        `${fmt(r.received.mean)} (${r.received.min}–${r.received.max})`,
        fmt((r.received.mean * 1000) / r.windowMs),
        `${fmt(r.idleCpuMsPerS)} ms/s`,
        `${fmt(r.benchCpuMsPerS)} ms/s`,
      ]),
    ),
  )
  out.push('')
  for (const r of presenceResults) out.push(`- ${r.target}: ${r.describe}`)
  out.push('')
  if (best) {
    for (const r of presenceResults.filter((x) => !x.peer)) {
      const pass = r.usPerUpdate <= best.usPerUpdate
      out.push(`**Goal (${r.target} ≤ best peer, ${best.target} ${fmt(best.usPerUpdate)} µs): ${pass ? 'PASS' : 'MISS'}** (${fmt(r.usPerUpdate)} µs, ${fmt(r.usPerUpdate / best.usPerUpdate)}×).`)
      out.push('')
    }
  }
}

if (spawnResults.length > 0) {
  out.push('## 3. Spawn races')
  out.push('')
  out.push(
    'N instances (each a member joined with an editor invite) call `session.spawn(project, name, { onExisting: \'reuse\' })` with the same new name every round; a round ends when all have their answer. The host instance (bench process) runs a broker that "spawns" at once. Checked every round: every racer got the same agent id and the broker was asked exactly once. "processes": one child process per racer, the round\'s start and end are one stdin/stdout round trip to each (IPC floor: the same barrier with a no-op command). A fresh relay per run; with several runs per row, round p50/p99 are over all their rounds and relay CPU per round is the median run\'s.',
  )
  out.push('')
  out.push(
    table(
      ['N', 'racers', 'rounds', 'rounds/s median (min–max)', 'round p50', 'round p99', 'exactly one spawn', 'broker spawns', 'relay CPU per round', 'IPC floor rounds/s'],
      spawnResults.map((runs) => {
        const r = runs[0]!
        const rps = runs.map((x) => x.roundsPerS)
        const rounds = runs.reduce((a, x) => a + x.rounds, 0)
        const ok = runs.reduce((a, x) => a + x.exactlyOne, 0)
        const all = runs.flatMap((x) => x.roundMs)
        const ipc = runs.map((x) => x.ipcRoundsPerS).filter((x): x is number => x !== null)
        return [
          String(r.n),
          r.where,
          runs.length > 1 ? `${runs.length} × ${r.rounds}` : String(r.rounds),
          runs.length > 1 ? `${fmt(median(rps))} (${fmt(Math.min(...rps))}–${fmt(Math.max(...rps))})` : fmt(rps[0]!),
          `${p(all, 50)} ms`,
          `${p(all, 99)} ms`,
          `${ok}/${rounds}${ok === rounds ? '' : ' **FAIL**'}`,
          String(runs.reduce((a, x) => a + x.spawnsTotal, 0)),
          `${ms(median(runs.map((x) => x.relayCpuPerRoundMs)))} ms`,
          ipc.length === 0 ? '–' : fmt(median(ipc)),
        ]
      }),
    ),
  )
  out.push('')
}

if (relayStderr.length > 0) {
  out.push('## Relay stderr')
  out.push('')
  for (const line of relayStderr) out.push(`- \`${line.replace(/`/g, "'")}\``)
  out.push('')
}

const report = out.join('\n')
process.stdout.write(report + '\n')
if (values.out) writeFileSync(values.out, report + '\n')
const failed = spawnResults.flat().some((r) => r.exactlyOne !== r.rounds)
process.exit(failed ? 1 : 0)
