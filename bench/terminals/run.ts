// Terminal fan-out and keystroke latency: the Orchard relay against a plain ws
// broadcast server (the physical ceiling), in the same run, on this machine.
//   npx tsx bench/terminals/run.ts [--quick] [--seed N] [--runs N] [--no-profile]
// Prints the machine, the inputs and markdown tables ready for bench/RESULTS.md.
// See bench/terminals/README.md for what is measured and why it is set up this way.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { TerminalMirror, WorkspaceSession } from '@orchard/client'
import { busyMsOf, selfByArea, topSelf } from './cpuprofile-top.js'
import { RelayFanout, drive, rawSetup, type FanoutResult, type FanoutSetup } from './fanout.js'
import { floodAlone, floodThroughRelay, type FloodThrough } from './flood.js'
import { echoFloor, echoThroughRelay, type EchoResult } from './latency.js'
import { killAllChildren, machineCpu, memory, sampled, sleep, startServer, waitQuiet, withDeadline, type ServerProcess } from './proc.js'
import { fixed, median, mib, pct, quantile, rng, table } from './stats.js'

const { values: flags } = parseArgs({ options: { quick: { type: 'boolean' }, seed: { type: 'string' }, runs: { type: 'string' }, 'no-profile': { type: 'boolean' } } })
const quick = flags.quick ?? false
const seed = Number(flags.seed ?? 20_240_611)
const CHUNK = 64 * 1024
const WINDOW = 512 * 1024
const config = quick
  ? { total: 16 * 1024 * 1024, runs: 3, ns: [1, 10, 50], stallNs: [10], noAckNs: [] as number[], quietWaitMs: 0, echoCount: 100, rateLimitBytes: 0, mirrorBytes: 4 * 1024 * 1024, floodBytes: 16 * 1024 * 1024, profile: false }
  : { total: 64 * 1024 * 1024, runs: 3, ns: [1, 10, 50], stallNs: [10, 50], noAckNs: [1, 10], quietWaitMs: 1_500, echoCount: 500, rateLimitBytes: 256 * 1024 * 1024, mirrorBytes: 16 * 1024 * 1024, floodBytes: 64 * 1024 * 1024, profile: !flags['no-profile'] }
if (flags.runs) config.runs = Math.max(1, Number(flags.runs))

const out = (text = '') => console.log(text)
const tmp = mkdtempSync(join(tmpdir(), 'orchard-term-bench-'))
const servers: ServerProcess[] = []
let cleaned = false
async function cleanup(): Promise<void> {
  if (cleaned) return
  cleaned = true
  await Promise.all(servers.map((server) => server.stop().catch(() => undefined)))
  killAllChildren()
  rmSync(tmp, { recursive: true, force: true })
}
process.once('SIGINT', () => void cleanup().then(() => process.exit(130)))

let gcFn: (() => void) | null | undefined
function benchGc(): void {
  if (gcFn === undefined) {
    try {
      setFlagsFromString('--expose-gc')
      gcFn = runInNewContext('gc') as () => void
    } catch {
      gcFn = null
    }
  }
  gcFn?.()
}

/** 64 KiB chunks of terminal-like text (base64 lines of 100 columns), from the seed. */
function makeChunks(count: number, random: () => number): Uint8Array[] {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
  return Array.from({ length: count }, () => {
    const chunk = new Uint8Array(CHUNK)
    for (let i = 0; i < CHUNK; i++) {
      const column = i % 102
      chunk[i] = column === 100 ? 13 : column === 101 ? 10 : alphabet.charCodeAt(Math.floor(random() * 64))
    }
    return chunk
  })
}

function startRelay(label: string, nodeFlags: string[] = []): Promise<ServerProcess> {
  return startServer({
    label,
    script: 'packages/cli/src/bin.ts',
    args: ['relay', '--json', '--port', '0', '--data', join(tmp, `${label}.db`)],
    nodeFlags,
    isReady: (line) => typeof line.url === 'string'
  })
}

interface Measured {
  result: FanoutResult
  serverCpu: number
  benchCpu: number
  /** CPU (in cores) used by every other process on the machine during the run. */
  otherCpu: number
  softirqCpu: number
  stealCpu: number
  maxRss: number
  startRss: number
  maxHeapUsed: number
  maxArrayBuffers: number
  /** heapUsed and ArrayBuffers after a full GC at the end of the run (connections still open), minus the same before the run. */
  liveHeap: number
  liveArrayBuffers: number
}

const quietness = { runs: 0, quiet: 0 }

async function measure(server: ServerProcess, setup: FanoutSetup, chunks: Uint8Array[], total: number): Promise<Measured> {
  benchGc()
  quietness.runs++
  if (config.quietWaitMs > 0 && (await waitQuiet(config.quietWaitMs))) quietness.quiet++
  const benchCpu0 = process.cpuUsage()
  const machine0 = machineCpu()
  try {
    const sample = await sampled(server, () => drive(setup, chunks, total, WINDOW, 120_000))
    const benchCpuUsage = process.cpuUsage(benchCpu0)
    const machine1 = machineCpu()
    const benchCpu = (benchCpuUsage.user + benchCpuUsage.system) / 1000 / sample.wallMs
    const serverCpu = sample.cpuMs / sample.wallMs
    return {
      result: sample.result,
      serverCpu,
      benchCpu,
      otherCpu: Math.max(0, (machine1.processes - machine0.processes) / sample.wallMs - serverCpu - benchCpu),
      softirqCpu: (machine1.softirq - machine0.softirq) / sample.wallMs,
      stealCpu: (machine1.steal - machine0.steal) / sample.wallMs,
      maxRss: sample.maxRss,
      startRss: sample.startRss,
      maxHeapUsed: sample.maxHeapUsed,
      maxArrayBuffers: sample.maxArrayBuffers,
      liveHeap: (sample.live?.heapUsed ?? NaN) - (sample.liveBefore?.heapUsed ?? NaN),
      liveArrayBuffers: (sample.live?.arrayBuffers ?? NaN) - (sample.liveBefore?.arrayBuffers ?? NaN)
    }
  } finally {
    await setup.teardown()
  }
}

function pickMedian(runs: Measured[], key: (m: Measured) => number): Measured {
  const sorted = [...runs].sort((a, b) => key(a) - key(b))
  return sorted[Math.floor(sorted.length / 2)] as Measured
}

async function main(): Promise<void> {
  const startedAt = new Date()
  const load0 = loadavg()
  const machineStart = machineCpu()
  out('# Terminal fan-out and keystroke latency')
  out()
  out(`- date: ${startedAt.toISOString()}`)
  out(`- command: \`npx tsx bench/terminals/run.ts${process.argv.slice(2).length ? ' ' + process.argv.slice(2).join(' ') : ''}\``)
  out(`- machine: ${cpus()[0]?.model ?? 'unknown cpu'}, ${cpus().length} cores, node ${process.version}, ${process.platform} ${process.arch}`)
  out(`- load average at start: ${load0.map((v) => v.toFixed(2)).join(' ')}`)
  out(`- seed: ${seed}; chunks: 64 KiB of 100-column base64-alphabet lines (16 distinct, cycled); ${mib(config.total)} MiB published per run; median of ${config.runs} runs, raw and relay runs interleaved, after one unmeasured warm-up run of each`)
  out(`- closed-loop publishing: at most ${WINDOW / 1024} KiB published beyond what the slowest healthy viewer has received (below the relay's 1 MiB viewer high-water mark, so no healthy viewer is skipped)`)
  out(`- relay: its own process (\`node --import tsx packages/cli/src/bin.ts relay --json --port 0 --data <tmp>\`), default limits (terminal ring 32 MiB, TERM-9; viewer high-water 1 MiB; the CLI has no flag for them)`)
  out(`- raw ceiling: its own process (\`node --import tsx bench/terminals/raw-broadcast-server.ts\`, ws 8.23.0, the received Buffer sent to every viewer, no flow control)`)
  out(`- load side: the publisher and all viewers in this benchmark process, so exactly two busy processes share the two cores`)
  out(`- relay publisher: a host WorkspaceSession (fresh per run, with a fresh agent) sending TERM_OUTPUT frames on its RelayProvider, i.e. HostBinding.output's frames without its xterm mirror (measured separately below)`)
  out(`- relay viewers: raw Orchard sockets doing what TerminalStream does on the wire: subscribe 0/0, ACK on subscribe, decode every frame, check (generation, offset) continuity, pace their ACKs as TerminalStream does (TERM-8: next turn once a quarter of the relay's window is unacknowledged, else within 20 ms)`)
  out()

  const chunks = makeChunks(16, rng(seed))
  const relay = await startRelay('relay')
  servers.push(relay)
  const raw = await startServer({ label: 'raw', script: 'bench/terminals/raw-broadcast-server.ts' })
  servers.push(raw)
  const info = relay.announcement as { url: string; ownerToken: string; viewerInvite: string }
  const rawUrl = String(raw.announcement.url)
  const fanout = new RelayFanout(info)
  // Someone stays in the workspace all along, as in real use (an idle room is unloaded after 5 s).
  const keeper = await WorkspaceSession.open({ credential: info.ownerToken, relayUrl: info.url, instanceId: 'bench-keeper', label: 'bench-keeper', connectTimeoutMs: 10_000 })
  await sleep(300)
  const relayIdle = { rss: memory(relay.pid).rss, probe: await relay.afterGc() }

  // Warm-up (JIT, socket paths) for both servers and for this process; not reported.
  await measure(raw, await rawSetup(rawUrl, 10, false), chunks, Math.min(config.total, 16 * 1024 * 1024))
  await measure(relay, await fanout.setup(10, false), chunks, Math.min(config.total, 16 * 1024 * 1024))

  // ---------------------------------------------------------------- 1. throughput
  const byN = new Map<number, { raw: Measured[]; relay: Measured[] }>()
  for (const n of config.ns) {
    const entry = { raw: [] as Measured[], relay: [] as Measured[] }
    byN.set(n, entry)
    for (let run = 0; run < config.runs; run++) {
      entry.raw.push(await measure(raw, await rawSetup(rawUrl, n, false), chunks, config.total))
      entry.relay.push(await measure(relay, await fanout.setup(n, false), chunks, config.total))
    }
  }
  const cpuPerGB = (m: Measured) => (m.serverCpu * m.result.wallMs) / ((m.result.n * m.result.totalBytes) / 1e9)
  out('## 1. Fan-out throughput: relay vs the raw ws ceiling')
  out()
  out(`${mib(config.total)} MiB published in 64 KiB chunks to N viewers. MB/s = 10^6 bytes/s delivered, aggregate over viewers; per viewer = median over viewers of each one's own rate. Median run by aggregate; all runs listed. CPU = share of one core over the run, for the server process and for the benchmark process (publisher + viewers); "other" = CPU of every other process on the machine in the same interval. Server CPU per GB = server CPU-ms spent per 10^9 bytes delivered (its efficiency, whoever is the bottleneck).`)
  out()
  // Diagnostic: the same relay fan-out with viewers that never ACK (the relay then bounds them by socket buffer only).
  const noAck = new Map<number, Measured[]>()
  for (const n of config.noAckNs) {
    const list: Measured[] = []
    for (let run = 0; run < config.runs; run++) list.push(await measure(relay, await fanout.setup(n, false, false), chunks, config.total))
    noAck.set(n, list)
  }
  const rows1: Array<Array<string | number>> = []
  for (const [n, entry] of byN) {
    const r = pickMedian(entry.raw, (m) => m.result.aggregateMBps)
    const o = pickMedian(entry.relay, (m) => m.result.aggregateMBps)
    const runsText = (list: Measured[]) => list.map((m) => fixed(m.result.aggregateMBps, 0)).join(', ')
    rows1.push([
      n,
      fixed(r.result.aggregateMBps, 0),
      fixed(o.result.aggregateMBps, 0),
      `**${pct(o.result.aggregateMBps / r.result.aggregateMBps)}**`,
      `${fixed(r.result.perViewerMBps, 1)} / ${fixed(o.result.perViewerMBps, 1)}`,
      `${runsText(entry.raw)} / ${runsText(entry.relay)}`,
      `${pct(r.serverCpu)}, ${pct(r.benchCpu)}, ${pct(r.otherCpu)}`,
      `${pct(o.serverCpu)}, ${pct(o.benchCpu)}, ${pct(o.otherCpu)}`,
      `${fixed(median(entry.raw.map(cpuPerGB)), 0)} / ${fixed(median(entry.relay.map(cpuPerGB)), 0)}`,
      fixed(median(entry.relay.map((m) => m.result.acksPerFrame)), 2),
      entry.relay.reduce((sum, m) => sum + m.result.gaps, 0)
    ])
  }
  out(table(['N viewers', 'raw MB/s', 'relay MB/s', 'relay % of raw', 'per-viewer MB/s raw / relay', 'all runs raw / relay', 'CPU raw: server, bench, other', 'CPU relay: server, bench, other', 'server CPU-ms per GB raw / relay', 'relay: viewer ACKs per output frame', 'relay gaps'], rows1))
  out()
  if (noAck.size) out('Diagnostic, where the relay\'s extra CPU goes: the same relay runs with viewers that never send ACKs (as TerminalStream would if it did not acknowledge), same N, run after the table above:')
  out()
  if (noAck.size) out(
    table(
      ['N viewers', 'relay MB/s, ACKing viewers', 'relay MB/s, no ACKs', 'relay CPU-ms per GB, ACKing', 'relay CPU-ms per GB, no ACKs', 'raw CPU-ms per GB'],
      [...noAck].map(([n, list]) => {
        const entry = byN.get(n)!
        return [n, fixed(median(entry.relay.map((m) => m.result.aggregateMBps)), 0), fixed(median(list.map((m) => m.result.aggregateMBps)), 0), fixed(median(entry.relay.map(cpuPerGB)), 0), fixed(median(list.map(cpuPerGB)), 0), fixed(median(entry.raw.map(cpuPerGB)), 0)]
      })
    )
  )
  out()
  const errors1 = [...byN.values()].flatMap((entry) => [...entry.raw, ...entry.relay].flatMap((m) => m.result.errors))
  if (errors1.length) out(`Viewer errors: ${[...new Set(errors1)].slice(0, 5).join('; ')} (${errors1.length})\n`)

  // ---------------------------------------------------------------- 2. stalled viewer
  const rows2: Array<Array<string | number>> = []
  const rows2mem: Array<Array<string | number>> = []
  const stallLoss = new Map<number, number>()
  for (const n of config.stallNs) {
    const entry = { raw: [] as Measured[], relay: [] as Measured[], rawBase: [] as Measured[], relayBase: [] as Measured[] }
    for (let run = 0; run < config.runs; run++) {
      // Each stalled run next to a run without the stalled viewer, alternating the order.
      const pair = async (target: 'raw' | 'relay') => {
        const setup = (stalled: boolean) => (target === 'raw' ? rawSetup(rawUrl, n, stalled) : fanout.setup(n, stalled))
        const server = target === 'raw' ? raw : relay
        const base = target === 'raw' ? entry.rawBase : entry.relayBase
        if (run % 2 === 0) {
          base.push(await measure(server, await setup(false), chunks, config.total))
          entry[target].push(await measure(server, await setup(true), chunks, config.total))
        } else {
          entry[target].push(await measure(server, await setup(true), chunks, config.total))
          base.push(await measure(server, await setup(false), chunks, config.total))
        }
      }
      await pair('raw')
      await pair('relay')
    }
    for (const target of ['raw', 'relay'] as const) {
      const stalledRuns = entry[target]
      const baseRuns = target === 'raw' ? entry.rawBase : entry.relayBase
      const perViewer = median(stalledRuns.map((m) => m.result.perViewerMBps))
      const basePerViewer = median(baseRuns.map((m) => m.result.perViewerMBps))
      // Each stalled run against the run next to it, so drift on a shared machine cancels out.
      const loss = 1 - median(stalledRuns.map((m, i) => m.result.perViewerMBps / (baseRuns[i] as Measured).result.perViewerMBps))
      if (target === 'relay') stallLoss.set(n, loss)
      rows2.push([
        target === 'raw' ? 'raw ws' : 'relay',
        n,
        `${fixed(basePerViewer, 1)} (${baseRuns.map((m) => fixed(m.result.perViewerMBps, 1)).join(', ')})`,
        `${fixed(perViewer, 1)} (${stalledRuns.map((m) => fixed(m.result.perViewerMBps, 1)).join(', ')})`,
        `**${pct(loss)}**`,
        `${fixed(median(baseRuns.map((m) => m.result.aggregateMBps)), 0)} / ${fixed(median(stalledRuns.map((m) => m.result.aggregateMBps)), 0)}`,
        stalledRuns.reduce((sum, m) => sum + m.result.gaps, 0)
      ])
      const m = pickMedian(stalledRuns, (x) => x.maxRss - x.startRss)
      rows2mem.push([
        target === 'raw' ? 'raw ws' : 'relay',
        n,
        `+${mib(median(stalledRuns.map((x) => x.liveArrayBuffers)))} (no stall: +${mib(median(baseRuns.map((x) => x.liveArrayBuffers)))})`,
        `+${mib(median(stalledRuns.map((x) => x.liveHeap)))} (no stall: +${mib(median(baseRuns.map((x) => x.liveHeap)))})`,
        `${mib(m.maxArrayBuffers)} / ${mib(m.maxHeapUsed)}`,
        `${mib(m.startRss)} -> ${mib(m.maxRss)}`,
        `${stalledRuns.map((x) => `+${mib(x.maxRss - x.startRss)}`).join(', ')} (no stall: ${baseRuns.map((x) => `+${mib(x.maxRss - x.startRss)}`).join(', ')})`
      ])
    }
  }
  out('## 2. One stalled viewer')
  out()
  out(`N healthy viewers plus one that subscribes (relay: and ACKs offset 0, as TerminalStream does on subscribe, as in terminals.pty.integration.test.ts) and then stops reading its socket (socket.pause()). Each stalled run is paired with a run without the stalled viewer, same N, order alternating. Loss = 1 - median over pairs of (healthy per-viewer MB/s with the stalled viewer / per-viewer MB/s in the paired run without); per-run values in parentheses, in pair order.`)
  out()
  out(table(['server', 'N healthy', 'per-viewer MB/s, no stall', 'per-viewer MB/s, 1 stalled', 'loss', 'aggregate MB/s no stall / stalled', 'gaps to healthy viewers'], rows2))
  out()
  out(`Server memory (MiB) in the stalled runs, ${mib(config.total)} MiB published per run. Held = process.memoryUsage() inside the server after a full GC at the end of the run, all sockets (the stalled one too) still open, minus the same just before the run: what the run left the server holding (for the relay this includes the run's own ring, which it keeps after the agent stops, see Notes). Peak = highest sample every 100 ms during the run (garbage included). RSS from /proc/<pid>/status every 25 ms; it is not returned to the OS between runs, so growth shows mostly in the first run that needs it.`)
  out()
  out(table(['server', 'N healthy', 'held ArrayBuffers', 'held heapUsed', 'peak ArrayBuffers / heapUsed', 'RSS before -> max (median run)', 'RSS growth per run'], rows2mem))
  out()

  // ---------------------------------------------------------------- extra relay observations
  const notes: string[] = []
  await sleep(500)
  const relayAfter = { rss: memory(relay.pid).rss, probe: await relay.afterGc() }
  const agentsSpawned = 2 + config.ns.length * config.runs + noAck.size * config.runs + config.stallNs.length * config.runs * 2
  notes.push(
    `Relay memory, idle before vs idle after the ${agentsSpawned} fan-out agents above were spawned, fed ${mib(config.total)} MiB each and stopped (their sessions closed): RSS ${mib(relayIdle.rss)} -> ${mib(relayAfter.rss)} MiB, ArrayBuffers ${mib(relayIdle.probe?.arrayBuffers ?? NaN)} -> ${mib(relayAfter.probe?.arrayBuffers ?? NaN)} MiB, heapUsed ${mib(relayIdle.probe?.heapUsed ?? NaN)} -> ${mib(relayAfter.probe?.heapUsed ?? NaN)} MiB (${mib(((relayAfter.probe?.arrayBuffers ?? NaN) - (relayIdle.probe?.arrayBuffers ?? NaN)) / agentsSpawned)} MiB of ArrayBuffers per stopped agent; both after a full GC; a keeper session stays connected all along, so the workspace stays loaded as in real use).`
  )
  if (config.rateLimitBytes > 0) {
    const setup = await fanout.setup(1, false)
    const t0 = performance.now()
    try {
      const result = await measure(relay, setup, chunks, config.rateLimitBytes)
      notes.push(`One host connection publishing ${mib(config.rateLimitBytes)} MiB in 64 KiB frames as fast as one viewer takes it: ${fixed(result.result.aggregateMBps, 0)} MB/s, not disconnected.`)
    } catch (error) {
      const received = Math.max(...setup.healthy.map((viewer) => viewer.received))
      const seconds = (performance.now() - t0) / 1000
      notes.push(`One host connection publishing ${mib(config.rateLimitBytes)} MiB in 64 KiB frames as fast as one viewer takes it: cut off after ${mib(received)} MiB in ${fixed(seconds, 1)} s (${fixed(received / 1e6 / seconds, 0)} MB/s average): ${(error as Error).message}.`)
      await setup.teardown().catch(() => undefined)
    }
  }
  {
    const mirror = new TerminalMirror(120, 30)
    const t0 = performance.now()
    for (let written = 0; written < config.mirrorBytes; written += CHUNK) mirror.write(chunks[(written / CHUNK) % chunks.length] as Uint8Array)
    await withDeadline(mirror.snapshot(), 120_000, 'mirror parse')
    const seconds = (performance.now() - t0) / 1000
    mirror.dispose()
    notes.push(`Host side: HostBinding.output also feeds every byte to an xterm mirror (TerminalMirror, for snapshots), which parses this output at ${fixed(config.mirrorBytes / 1e6 / seconds, 0)} MB/s on one core (${mib(config.mirrorBytes)} MiB), a ceiling on what one host publishes.`)
  }

  // ---------------------------------------------------------------- 3. keystroke -> echo
  const echoRandom = rng(seed + 1)
  const floor = await echoFloor(config.echoCount, echoRandom)
  const echoHost = await startServer({ label: 'pty-echo-host', script: 'bench/terminals/pty-host.ts', args: ['--url', info.url, '--token', info.ownerToken], isReady: (line) => typeof line.agentId === 'string' })
  servers.push(echoHost)
  let through: EchoResult
  try {
    through = await echoThroughRelay(info.url, info.ownerToken, String(echoHost.announcement.agentId), config.echoCount, echoRandom)
  } finally {
    await echoHost.stop()
  }
  out('## 3. Keystroke -> echo latency (real PTY)')
  out()
  out(`\`bash -c 'stty raw -echo; exec cat'\` in a node-pty PTY, so each keystroke is echoed by the program. ${config.echoCount} keystrokes (after 20 warm-up), one at a time, 5-10 ms apart (seeded), relay otherwise idle. Through the relay: a holder session (claimed the agent) \`sendInput\` -> relay -> host process (pty-host.ts: NodePtyBroker + HostBinding) -> PTY -> host -> relay -> the holder's TerminalStream 'data'. Floor: the same NodePtyBroker and program in one process, \`write\` -> its output callback.`)
  out()
  const echoRow = (label: string, result: EchoResult) => [label, result.latenciesMs.length, fixed(quantile(result.latenciesMs, 0.5), 2), fixed(quantile(result.latenciesMs, 0.9), 2), fixed(quantile(result.latenciesMs, 0.99), 2), fixed(Math.max(...result.latenciesMs), 2), result.timeouts]
  out(table(['path', 'keystrokes', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'timeouts (2 s)'], [echoRow('no relay (floor)', floor), echoRow('through the relay', through)]))
  out()

  // ---------------------------------------------------------------- 4. chatty real PTY
  const alone = await floodAlone(config.floodBytes)
  const floodHost = await startServer({ label: 'pty-flood-host', script: 'bench/terminals/pty-host.ts', args: ['--url', info.url, '--token', info.ownerToken, '--flood', String(config.floodBytes)], isReady: (line) => typeof line.agentId === 'string' })
  servers.push(floodHost)
  let flood: FloodThrough
  try {
    flood = await floodThroughRelay(info.url, info.ownerToken, floodHost, String(floodHost.announcement.agentId), 60_000)
  } finally {
    await floodHost.stop()
  }
  out('## 4. A chatty program in a real PTY (host publishes every PTY read)')
  out()
  out(`\`yes <99 digits> | head -c ${config.floodBytes}\` in a node-pty PTY (bytes counted after the tty's \\n -> \\r\\n). Alone: NodePtyBroker in one process. Through the relay: host process (pty-host.ts --flood) with HostBinding, one TerminalStream viewer (holder) in this process; relay default limits (framesPerSecond ${2000}, burst x2; bytesPerSecond 32 MiB, burst x2, per connection).`)
  out()
  out(
    table(
      ['path', 'bytes', 'seconds', 'MB/s', 'PTY reads (= TERM_OUTPUT frames) per s', 'mean bytes per read', 'finished'],
      [
        ['PTY alone', mib(alone.bytes) + ' MiB', fixed(alone.seconds, 2), fixed(alone.bytes / 1e6 / alone.seconds, 0), fixed(alone.reads / alone.seconds, 0), fixed(alone.bytes / alone.reads, 0), 'yes'],
        ['through the relay: published by the host', mib(flood.published) + ' MiB', fixed(flood.seconds, 2), fixed(flood.published / 1e6 / flood.seconds, 0), '', '', flood.finished ? 'yes' : '**no**'],
        ['through the relay: delivered to the viewer', mib(flood.delivered) + ' MiB', '', fixed(flood.delivered / 1e6 / flood.seconds, 0), '', '', `gaps: ${flood.gaps}`]
      ]
    )
  )
  out()
  out(`Host connection events: ${flood.hostEvents.length ? flood.hostEvents.join('; ') : 'none'}. Viewer connection events: ${flood.viewerEvents.length ? flood.viewerEvents.join('; ') : 'none'}.`)
  out()

  // ---------------------------------------------------------------- profile
  let profileText = ''
  if (config.profile) {
    // Fresh servers under `node --cpu-prof`, one fan-out each (two runs: a warm-up and the measured one).
    const profile = async (target: 'raw' | 'relay', n: number) => {
      const profDir = join(tmp, `prof-${target}-${n}`)
      const flagsProf = ['--cpu-prof', `--cpu-prof-dir=${profDir}`]
      const server = target === 'relay' ? await startRelay(`relay-prof-${n}`, flagsProf) : await startServer({ label: `raw-prof-${n}`, script: 'bench/terminals/raw-broadcast-server.ts', nodeFlags: flagsProf })
      servers.push(server)
      const profFanout = target === 'relay' ? new RelayFanout(server.announcement as { url: string; ownerToken: string; viewerInvite: string }) : null
      const setupFor = () => (profFanout ? profFanout.setup(n, false) : rawSetup(String(server.announcement.url), n, false))
      await measure(server, await setupFor(), chunks, config.total)
      const measured = await measure(server, await setupFor(), chunks, config.total)
      await server.stop()
      const file = readdirSync(profDir)
        .filter((name) => name.endsWith('.cpuprofile'))
        .map((name) => ({ name, size: readFileSync(join(profDir, name)).length }))
        .sort((a, b) => b.size - a.size)[0]?.name
      const parsed = file ? (JSON.parse(readFileSync(join(profDir, file), 'utf8')) as Parameters<typeof topSelf>[0]) : null
      return { measured, top: parsed ? topSelf(parsed, 12) : [], busyMs: parsed ? busyMsOf(parsed) : NaN, areas: parsed ? selfByArea(parsed) : new Map<string, number>() }
    }
    const relay1 = await profile('relay', 1)
    const raw1 = await profile('raw', 1)
    const relay50 = await profile('relay', 50)
    const section = (title: string, p: Awaited<ReturnType<typeof profile>>) =>
      [`${title}: ${fixed(p.measured.result.aggregateMBps, 0)} MB/s under the profiler; main thread busy ${fixed(p.busyMs, 0)} ms over the process lifetime (startup and a warm-up run included).`, '', table(['function', 'where', 'self ms', 'self %'], p.top.map((row) => [row.name, row.where, fixed(row.selfMs, 0), pct(row.share)])), ''].join('\n')
    const areaNames = [...new Set([...relay1.areas.keys(), ...raw1.areas.keys()])].sort((a, b) => (relay1.areas.get(b) ?? 0) - (relay1.areas.get(a) ?? 0))
    const areaTable = table(
      ['self time by area, ms', 'relay N = 1', 'raw N = 1', 'relay - raw', 'relay N = 50'],
      [
        ...areaNames.map((area) => {
          const a = relay1.areas.get(area) ?? 0
          const b = raw1.areas.get(area) ?? 0
          return [area, fixed(a, 0), fixed(b, 0), fixed(a - b, 0), fixed(relay50.areas.get(area) ?? 0, 0)]
        }),
        ['**total (main thread busy)**', fixed(relay1.busyMs, 0), fixed(raw1.busyMs, 0), fixed(relay1.busyMs - raw1.busyMs, 0), fixed(relay50.busyMs, 0)]
      ]
    )
    profileText = [
      '## CPU profiles',
      '',
      `\`node --cpu-prof\`, a fresh server each, two fan-outs of ${mib(config.total)} MiB (warm-up + one more), so the same bytes go through relay and raw server at N = 1; self time of the main thread (non-idle samples). Line numbers in .ts files are those of tsx's transform.`,
      '',
      areaTable,
      '',
      section('Relay, N = 1', relay1),
      section('Raw ws server, N = 1', raw1),
      section('Relay, N = 50', relay50)
    ].join('\n')
  }

  await keeper.close()

  // ---------------------------------------------------------------- goals
  const ratio = (n: number) => {
    const entry = byN.get(n)!
    return pickMedian(entry.relay, (m) => m.result.aggregateMBps).result.aggregateMBps / pickMedian(entry.raw, (m) => m.result.aggregateMBps).result.aggregateMBps
  }
  out('## Goals')
  out()
  const goalRows: Array<Array<string | number>> = []
  for (const n of config.ns) goalRows.push([`relay >= 70% of the raw ceiling, N = ${n}`, pct(ratio(n)), ratio(n) >= 0.7 ? 'pass' : '**MISS**'])
  for (const [n, loss] of stallLoss) goalRows.push([`a stalled viewer costs the others < 10%, N = ${n}`, pct(loss), loss < 0.1 ? 'pass' : '**MISS**'])
  out(table(['goal', 'measured', 'result'], goalRows))
  out()
  if (notes.length) {
    out('## Notes')
    out()
    for (const note of notes) out(`- ${note}`)
    out()
  }
  if (profileText) out(profileText)
  const machineEnd = machineCpu()
  const wallMs = Date.now() - startedAt.getTime()
  out(`- load average at end: ${loadavg().map((v) => v.toFixed(2)).join(' ')}`)
  out(`- whole run: machine CPU busy ${fixed((machineEnd.busy - machineStart.busy) / wallMs, 2)} of ${cpus().length} cores (softirq ${fixed((machineEnd.softirq - machineStart.softirq) / wallMs, 2)}, steal ${fixed((machineEnd.steal - machineStart.steal) / wallMs, 2)})`)
  if (config.quietWaitMs > 0) out(`- ${quietness.quiet} of ${quietness.runs} fan-out runs started on a quiet machine (< 0.3 cores busy over 250 ms, waiting at most ${config.quietWaitMs / 1000} s); the "other" CPU columns show what ran beside the measured runs`)
  else out('- --quick does not wait for a quiet machine before each run; the "other" CPU columns show what ran beside the measured runs')
  out(`- wall time: ${fixed(wallMs / 1000, 0)} s`)
}

try {
  await main()
} catch (error) {
  console.error(error)
  for (const server of servers) if (server.stderrTail()) console.error(`--- stderr of pid ${server.pid}:\n${server.stderrTail()}`)
  process.exitCode = 1
} finally {
  await cleanup()
  // Sessions that outlive a failure would keep reconnecting; nothing is left to wait for.
  process.exit(process.exitCode ?? 0)
}
