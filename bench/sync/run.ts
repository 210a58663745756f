// Orchard relay vs peers, side by side in one run.
//   npx tsx bench/sync/run.ts [--scenario convergence|latency|rooms|fullsync|all]
//                             [--targets ywebsocket,hocuspocus3,hocuspocus4,orchard,orchard-normal]
//                             [--quick] [--seed N] [--repeats N] [--out FILE]
// Markdown report on stdout (and --out FILE); progress on stderr.
import { createHash } from 'node:crypto'
import { readFileSync, readdirSync, realpathSync, statSync, writeFileSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'
import { join } from 'node:path'
import { parseArgs as parseCli } from 'node:util'
import { REPO_ROOT, type MemSample } from './proc.js'
import {
  FULL, QUICK, Rooms, convergenceFloor, convergenceOnce, fullSync, fullSyncFloor, latencyFloor, latencyOnce, roomsOnce,
  type ConvergenceSample, type LatencySample, type RoomsSample, type Sizes,
} from './scenarios.js'
import { fmt, kb, max, mb, median, min, ratio, table } from './stats.js'
import { ALL_TARGETS, type RunningTarget, type Target } from './targets.js'

type Scenario = 'convergence' | 'latency' | 'rooms' | 'fullsync'
const SCENARIOS: Scenario[] = ['convergence', 'latency', 'rooms', 'fullsync']

interface Args { scenarios: Scenario[]; targets: Target[]; quick: boolean; seed: number; repeats: number | null; out: string | null }

const USAGE = 'npx tsx bench/sync/run.ts [--scenario convergence|latency|rooms|fullsync|all] [--targets ywebsocket,hocuspocus3,hocuspocus4,orchard,orchard-normal] [--quick] [--seed N] [--repeats N] [--out FILE]'

function parseArgs(argv: string[]): Args {
  const { values } = parseCli({
    args: argv,
    options: {
      scenario: { type: 'string', default: 'all' },
      targets: { type: 'string' },
      quick: { type: 'boolean', default: false },
      seed: { type: 'string', default: '42' },
      repeats: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false }
    }
  })
  if (values.help) {
    process.stdout.write(`${USAGE}\n`)
    process.exit(0)
  }
  const scenarios = values.scenario === 'all' ? SCENARIOS : (values.scenario.split(',') as Scenario[])
  for (const x of scenarios) if (!SCENARIOS.includes(x)) throw new Error(`unknown scenario ${x} (${SCENARIOS.join('|')}|all)`)
  const targets = values.targets === undefined
    ? ALL_TARGETS
    : values.targets.split(',').map((n) => {
      const t = ALL_TARGETS.find((x) => x.name === n)
      if (!t) throw new Error(`unknown target ${n} (${ALL_TARGETS.map((x) => x.name).join(',')})`)
      return t
    })
  const seed = Number(values.seed)
  if (!Number.isInteger(seed)) throw new Error(`--seed takes an integer; got ${values.seed}`)
  const repeats = values.repeats === undefined ? null : Math.max(1, Number(values.repeats))
  if (repeats !== null && !Number.isInteger(repeats)) throw new Error(`--repeats takes a whole number; got ${values.repeats}`)
  return { scenarios, targets, quick: values.quick, seed, repeats, out: values.out ?? null }
}

const log = (s: string) => process.stderr.write(`${s}\n`)
const out: string[] = []
const emit = (s = '') => {
  out.push(s)
  process.stdout.write(`${s}\n`)
}

// ------------------------------------------------------------------ environment

function pkgVersion(dir: string): string {
  try {
    return (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version
  } catch {
    return '?'
  }
}

function loadavg(): string {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')
  } catch {
    return '?'
  }
}

/** Content hash and newest mtime of the sources the relay runs (they are not committed while being worked on). */
function sourceStamp(dirs: string[]): string {
  const h = createHash('sha256')
  let newest = 0
  let files = 0
  const walk = (dir: string) => {
    let entries: string[] = []
    try {
      entries = readdirSync(dir).sort()
    } catch {
      return
    }
    for (const e of entries) {
      if (e === 'node_modules') continue
      const p = join(dir, e)
      const st = statSync(p)
      if (st.isDirectory()) walk(p)
      else if (st.isFile()) {
        h.update(p.slice(REPO_ROOT.length)).update(readFileSync(p))
        newest = Math.max(newest, st.mtimeMs)
        files++
      }
    }
  }
  for (const d of dirs) walk(join(REPO_ROOT, d))
  return files === 0 ? 'absent' : `sha256 ${h.digest('hex').slice(0, 12)} over ${files} files, newest modified ${new Date(newest).toISOString()}`
}

function environment(): string[] {
  const bench = join(REPO_ROOT, 'bench', 'node_modules')
  const cpuModel = /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpus()[0]?.model ?? '?'
  const v = (p: string) => pkgVersion(join(bench, p))
  const h4 = realpathSync(join(bench, 'hocuspocus-server-4'))
  const h3 = realpathSync(join(bench, '@hocuspocus', 'server'))
  const yjsCopies = readdirSync(join(REPO_ROOT, 'node_modules', '.pnpm')).filter((d) => d.startsWith('yjs@'))
  let commit = '?'
  try {
    commit = readFileSync(join(REPO_ROOT, '.git', 'HEAD'), 'utf8').trim()
    if (commit.startsWith('ref: ')) commit = readFileSync(join(REPO_ROOT, '.git', commit.slice(5)), 'utf8').trim()
    commit = commit.slice(0, 12)
  } catch { /* not a checkout */ }
  return [
    `- date: ${new Date().toISOString()}`,
    `- machine: ${cpuModel}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; node ${process.version}; commit ${commit}`,
    `- packages: yjs ${v('yjs')} (${yjsCopies.length} cop${yjsCopies.length === 1 ? 'y' : 'ies'} installed: ${yjsCopies.join(', ')}), y-protocols ${v('y-protocols')}, lib0 ${v('lib0')}, ws ${v('ws')}; ` +
      `@y/websocket-server ${v('@y/websocket-server')}; @hocuspocus/server ${pkgVersion(h3)} (+ @hocuspocus/common ${pkgVersion(join(h3, '..', 'common'))}); ` +
      `hocuspocus-server-4 = @hocuspocus/server ${pkgVersion(h4)} (+ @hocuspocus/common ${pkgVersion(join(h4, '..', 'common'))})`,
    `- relay sources (packages/relay/src, packages/protocol/src, packages/client/src): ${sourceStamp(['packages/relay/src', 'packages/protocol/src', 'packages/client/src'])}`,
    `- load average at start: ${loadavg()} (2 cores here are shared with whatever else runs on the machine; figures are only comparable within one run)`,
    '- clients: bench/sync/client.ts (one Y.Doc + Awareness per client, ws 8), all in the benchmark process; servers: one child process each, 127.0.0.1, ephemeral port',
  ]
}

// ------------------------------------------------------------------ orchestration

interface Outcome<T> { ok: true; value: T; }
interface Failure { ok: false; error: string }
type Result<T> = Outcome<T> | Failure

async function attempt<T>(what: string, f: () => Promise<T>): Promise<Result<T>> {
  try {
    return { ok: true, value: await f() }
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e)
    log(`  ! ${what}: ${msg}`)
    return { ok: false, error: msg.split('\n')[0]!.slice(0, 160) }
  }
}

async function withServer<T>(t: Target, f: (rt: RunningTarget) => Promise<T>): Promise<T> {
  const rt = await t.start()
  try {
    return await f(rt)
  } finally {
    await rt.stop()
  }
}

function bestPeer<T>(targets: Target[], results: Map<string, Result<T>>, metric: (v: T) => number): number | null {
  let best: number | null = null
  for (const t of targets) {
    if (!t.peer) continue
    const r = results.get(t.name)
    if (!r?.ok) continue
    const x = metric(r.value)
    if (Number.isFinite(x) && (best === null || x < best)) best = x
  }
  return best
}

const spread = (xs: number[]) => (xs.length > 1 ? `${fmt(min(xs))}–${fmt(max(xs))}` : '')

// ------------------------------------------------------------------ scenarios

async function runConvergence(sizes: Sizes, targets: Target[], rooms: Rooms): Promise<void> {
  const reps = sizes.repeats
  emit(`## 1. Convergence: one writer × ${sizes.updates} map sets, N clients in one room`)
  emit()
  emit(`Time from the writer's first set until all N−1 readers have all ${sizes.updates} keys. Relay CPU = on-CPU time of the server process over that window (sum of /proc/<pid>/task/*/schedstat, ns resolution; the same quantity as utime+stime without its 10 ms ticks), divided by N×${sizes.updates}. Floor = the same client code in this process without a server: the writer makes the ${sizes.updates} updates and N−1 docs apply them one by one (merged floor: N−1 docs apply one merged update). Median of ${reps}; the spread column is min–max.`)
  emit()
  const perTarget = new Map<string, Map<number, Result<ConvergenceSample[]>>>()
  for (const t of targets) {
    const byN = new Map<number, Result<ConvergenceSample[]>>()
    perTarget.set(t.name, byN)
    log(`[convergence] ${t.name}`)
    const started = await attempt(`${t.name} start`, () => withServer(t, async (rt) => {
      // JIT warm-up of server and clients, not reported
      for (const n of [2, 2, Math.min(10, Math.max(...sizes.convergenceN))]) await convergenceOnce(rt, rooms.next('conv-warm'), n, sizes.updates)
      for (const n of sizes.convergenceN) {
        byN.set(n, await attempt(`${t.name} N=${n}`, async () => {
          const xs: ConvergenceSample[] = []
          for (let r = 0; r < reps; r++) {
            const s = await convergenceOnce(rt, rooms.next(`conv${n}`), n, sizes.updates)
            log(`  N=${n} #${r + 1}: ${fmt(s.ms)} ms, cpu ${fmt(s.cpuMs)} ms, ${fmt(s.framesPerReader)} frames/reader`)
            xs.push(s)
          }
          return xs
        }))
      }
    }))
    if (!started.ok) for (const n of sizes.convergenceN) if (!byN.has(n)) byN.set(n, started)
  }
  const rows: string[][] = []
  const floors: string[][] = []
  for (const n of sizes.convergenceN) {
    const floor = convergenceFloor(n, sizes.updates, reps)
    floors.push([String(n), fmt(floor.individualMs), fmt(floor.mergedMs)])
    const results = new Map<string, Result<{ ms: number; cpu: number }>>()
    for (const t of targets) {
      const r = perTarget.get(t.name)!.get(n)!
      results.set(t.name, r.ok ? { ok: true, value: { ms: median(r.value.map((s) => s.ms)), cpu: median(r.value.map((s) => s.cpuMs)) } } : r)
    }
    const bestMs = bestPeer(targets, results, (v) => v.ms)
    const bestCpu = bestPeer(targets, results, (v) => v.cpu)
    for (const t of targets) {
      const r = perTarget.get(t.name)!.get(n)!
      if (!r.ok) {
        rows.push([String(n), t.name, `error: ${r.error}`, '', '', '', '', '', '', '', ''])
        continue
      }
      const ms = median(r.value.map((s) => s.ms))
      const cpu = median(r.value.map((s) => s.cpuMs))
      rows.push([
        String(n), t.name, fmt(ms), spread(r.value.map((s) => s.ms)), ratio(ms, floor.individualMs), ratio(ms, floor.mergedMs), ratio(ms, bestMs),
        fmt(cpu), fmt((cpu * 1000) / (n * sizes.updates)), ratio(cpu, bestCpu), fmt(median(r.value.map((s) => s.framesPerReader))),
      ])
    }
  }
  const exts = targets.map((t) => {
    const any = [...perTarget.get(t.name)!.values()].find((r) => r.ok)
    return `${t.name}: ${any?.ok ? any.value[0]?.extensions || 'none' : '?'}`
  })
  emit(`Negotiated WebSocket extensions (the client offers permessage-deflate, like a browser): ${exts.join('; ')}.`)
  emit()
  emit(table(['N', 'target', 'converge ms', 'spread', '× floor', '× merged floor', 'vs best peer', 'relay CPU ms', 'CPU µs / (N×updates)', 'CPU vs best peer', 'frames in / reader'], rows))
  emit()
  emit('Client-side floor (this process, no server):')
  emit()
  emit(table(['N', 'floor ms (1 update per message)', 'floor ms (one merged message)'], floors))
  emit()
}

async function runLatency(sizes: Sizes, targets: Target[], rooms: Rooms): Promise<void> {
  const reps = sizes.repeats
  emit(`## 2. Idle latency: one writer, ${sizes.latencyCount} single-key updates, one every ${sizes.latencyIntervalMs} ms`)
  emit()
  emit(`Send-to-applied time at each of the N−1 other clients (all clients share this process's clock). p50/p99/max over all (N−1)×${sizes.latencyCount} arrivals of a run; median of ${reps} runs. Floor = time for this process alone to apply one update to N−1 docs, serially (what the last reader waits for even with a zero-cost relay).`)
  emit()
  const res = new Map<string, Map<number, Result<LatencySample[]>>>()
  for (const t of targets) {
    const byN = new Map<number, Result<LatencySample[]>>()
    res.set(t.name, byN)
    log(`[latency] ${t.name}`)
    const started = await attempt(`${t.name} start`, () => withServer(t, async (rt) => {
      await latencyOnce(rt, rooms.next('lat-warm'), 2, 20, 5)
      for (const n of sizes.latencyN) {
        byN.set(n, await attempt(`${t.name} N=${n}`, async () => {
          const xs: LatencySample[] = []
          for (let r = 0; r < reps; r++) {
            const s = await latencyOnce(rt, rooms.next(`lat${n}`), n, sizes.latencyCount, sizes.latencyIntervalMs)
            log(`  N=${n} #${r + 1}: p50 ${fmt(s.p50)} ms, p99 ${fmt(s.p99)} ms, max ${fmt(s.max)} ms (${s.samples} samples)`)
            xs.push(s)
          }
          return xs
        }))
      }
    }))
    if (!started.ok) for (const n of sizes.latencyN) if (!byN.has(n)) byN.set(n, started)
  }
  const rows: string[][] = []
  for (const n of sizes.latencyN) {
    const floor = latencyFloor(n)
    const agg = new Map<string, Result<{ p50: number; p99: number; max: number }>>()
    for (const t of targets) {
      const r = res.get(t.name)!.get(n)!
      agg.set(t.name, r.ok ? { ok: true, value: { p50: median(r.value.map((s) => s.p50)), p99: median(r.value.map((s) => s.p99)), max: median(r.value.map((s) => s.max)) } } : r)
    }
    const b50 = bestPeer(targets, agg, (v) => v.p50)
    const b99 = bestPeer(targets, agg, (v) => v.p99)
    for (const t of targets) {
      const r = agg.get(t.name)!
      if (!r.ok) {
        rows.push([String(n), t.name, `error: ${r.error}`, '', '', '', '', '', '', ''])
        continue
      }
      const v = r.value
      rows.push([String(n), t.name, fmt(v.p50), fmt(v.p99), fmt(v.max), ratio(v.p50, b50), ratio(v.p99, b99), fmt(floor), ratio(v.p50, floor), ratio(v.p99, floor)])
    }
  }
  emit(table(['N', 'target', 'p50 ms', 'p99 ms', 'max ms', 'p50 vs best peer', 'p99 vs best peer', 'floor ms', 'p50 × floor', 'p99 × floor'], rows))
  emit()
}

async function runRooms(sizes: Sizes, targets: Target[], rooms: Rooms): Promise<void> {
  const reps = sizes.repeats
  emit(`## 3. ${sizes.rooms} rooms, one client each writing a small doc (5 keys)`)
  emit()
  emit(`A fresh server per run: 20 warm-up rooms come and go; the ${sizes.rooms} room endpoints are created (for orchard, one workspace each through the admin API; untimed); memory settles, then baseline; ${sizes.rooms} clients connect (32 handshakes in flight), each writes its doc and round-trips a sync step1 so the relay has applied it ("load ms"); then all leave and memory is polled every 0.5 s until two samples agree within 1 %, never before ${sizes.roomsSettleMinMs / 1000} s (the orchard relay unloads a workspace 5 s after its last client leaves, and V8 returns freed heap pages to the OS some 8–10 s after they become garbage; the same minimum applies to every target, before the baseline too) and at most ${sizes.roomsUnloadWaitMs / 1000} s. Every sample is taken right after a full GC inside the server (preloaded probe, --expose-gc), RSS from /proc/<pid>/status VmRSS. "per doc" = (loaded − baseline) / ${sizes.rooms}, so it includes the open connection. Finally one fresh client per room reconnects ("reload"): "intact" counts the rooms whose doc came back with all 5 keys. The peers keep documents in memory only: y-websocket-server without persistence never unloads a doc, Hocuspocus without an extension drops a doc when its last client leaves, so its reload finds nothing. Median of ${reps} runs.`)
  emit()
  const res = new Map<string, Result<RoomsSample[]>>()
  for (const t of targets) {
    log(`[rooms] ${t.name}`)
    res.set(t.name, await attempt(`${t.name} rooms`, async () => {
      const xs: RoomsSample[] = []
      for (let r = 0; r < reps; r++) {
        const s = await roomsOnce(t, rooms, sizes.rooms, sizes.roomsSettleMinMs, sizes.roomsUnloadWaitMs)
        log(`  #${r + 1}: load ${fmt(s.loadMs)} ms, rss ${fmt(mb(s.base.rss))} -> ${fmt(mb(s.loaded.rss))} -> ${fmt(mb(s.after.rss))} MB, heap ${fmt(mb(s.base.heapUsed))} -> ${fmt(mb(s.loaded.heapUsed))} -> ${fmt(mb(s.after.heapUsed))} MB (${s.stable ? 'stable' : 'not stable'} after ${fmt(s.unloadWaitMs)} ms), reload ${s.reloadIntact}/${sizes.rooms} intact in ${fmt(s.reloadMs)} ms`)
        xs.push(s)
      }
      return xs
    }))
  }
  const per = (s: RoomsSample, k: keyof MemSample) => {
    const a0 = s.base[k], a1 = s.loaded[k]
    return typeof a0 === 'number' && typeof a1 === 'number' ? (a1 - a0) / sizes.rooms : Number.NaN
  }
  const diff = (s: RoomsSample, k: 'rss' | 'heapUsed') => {
    const a0 = s.base[k], a2 = s.after[k]
    return typeof a0 === 'number' && typeof a2 === 'number' ? a2 - a0 : Number.NaN
  }
  const agg = new Map<string, Result<{ rssPer: number; heapPer: number }>>()
  for (const t of targets) {
    const r = res.get(t.name)!
    agg.set(t.name, r.ok ? { ok: true, value: { rssPer: median(r.value.map((s) => per(s, 'rss'))), heapPer: median(r.value.map((s) => per(s, 'heapUsed'))) } } : r)
  }
  const bRss = bestPeer(targets, agg, (v) => v.rssPer)
  const bHeap = bestPeer(targets, agg, (v) => v.heapPer)
  const rows: string[][] = []
  for (const t of targets) {
    const r = res.get(t.name)!
    if (!r.ok) {
      rows.push([t.name, `error: ${r.error}`, '', '', '', '', '', '', '', '', '', '', ''])
      continue
    }
    const xs = r.value
    const m = (f: (s: RoomsSample) => number) => median(xs.map(f))
    rows.push([
      t.name, fmt(m((s) => s.loadMs)), fmt(m((s) => mb(s.base.rss)!)),
      fmt(kb(m((s) => per(s, 'rss')))), ratio(m((s) => per(s, 'rss')), bRss),
      fmt(kb(m((s) => per(s, 'heapUsed')))), ratio(m((s) => per(s, 'heapUsed')), bHeap),
      fmt(m((s) => mb(s.after.rss)!)), fmt(mb(m((s) => diff(s, 'rss')))), fmt(mb(m((s) => diff(s, 'heapUsed')))),
      `${fmt(m((s) => s.unloadWaitMs / 1000))}${xs.every((s) => s.stable) ? '' : ' (not stable)'}`,
      `${min(xs.map((s) => s.reloadIntact))}/${sizes.rooms}`, fmt(m((s) => s.reloadMs)),
    ])
  }
  emit(table(['target', 'load ms', 'baseline RSS MB', 'RSS / loaded doc KB', 'vs best peer', 'heap / loaded doc KB', 'vs best peer', 'RSS after all left MB', 'RSS after − baseline MB', 'heap after − baseline MB', 'unload wait s', 'reload intact (worst run)', 'reload ms'], rows))
  emit()
}

async function runFullSync(a: Args, sizes: Sizes, targets: Target[], rooms: Rooms): Promise<void> {
  const reps = sizes.repeats
  const floor = fullSyncFloor(sizes.projects, reps, a.seed)
  emit(`## 4. Full sync of a ${sizes.projects.toLocaleString('en-US')}-project workspace doc`)
  emit()
  emit(`Root map \`projects\` with ${sizes.projects} Y.Maps (name, rootPath, channels: Y.Array of 2 strings); v1 state update ${fmt(kb(floor.updateBytes))} KB. One client loads it into the room and stays; then a fresh client connects: time from \`new WebSocket\` until its doc holds all ${sizes.projects} projects, and relay CPU over that window. Floor = one fresh doc applying the server's sync step2 frame through the same client code (${fmt(floor.ms)} ms). Median of ${reps} fresh clients.`)
  emit()
  const res = new Map<string, Result<{ ms: number[]; cpuMs: number[]; step2AtMs: number[]; applyMs: number[] }>>()
  for (const t of targets) {
    log(`[fullsync] ${t.name}`)
    res.set(t.name, await attempt(`${t.name} fullsync`, () => withServer(t, async (rt) => {
      const r = await fullSync(rt, rooms, sizes.projects, reps, a.seed)
      log(`  ${r.ms.map((x) => fmt(x)).join(', ')} ms; step2 arrived at ${r.step2AtMs.map((x) => fmt(x)).join(', ')} ms, applied in ${r.applyMs.map((x) => fmt(x)).join(', ')} ms; cpu ${r.cpuMs.map((x) => fmt(x)).join(', ')} ms`)
      return r
    })))
  }
  const agg = new Map<string, Result<{ ms: number; cpu: number }>>()
  for (const t of targets) {
    const r = res.get(t.name)!
    agg.set(t.name, r.ok ? { ok: true, value: { ms: median(r.value.ms), cpu: median(r.value.cpuMs) } } : r)
  }
  const bMs = bestPeer(targets, agg, (v) => v.ms)
  const bCpu = bestPeer(targets, agg, (v) => v.cpu)
  const bAt = bestPeer(targets, res, (v) => median(v.step2AtMs))
  const rows: string[][] = []
  for (const t of targets) {
    const r = res.get(t.name)!
    if (!r.ok) {
      rows.push([t.name, `error: ${r.error}`, '', '', '', '', '', '', '', ''])
      continue
    }
    const ms = median(r.value.ms), cpu = median(r.value.cpuMs)
    const at = median(r.value.step2AtMs), apply = median(r.value.applyMs)
    rows.push([t.name, fmt(ms), spread(r.value.ms), ratio(ms, floor.ms), ratio(ms, bMs), fmt(at), ratio(at, bAt), fmt(apply), fmt(cpu), ratio(cpu, bCpu)])
  }
  emit(table(['target', 'full sync ms', 'spread', '× floor', 'vs best peer', 'step2 arrived ms', 'vs best peer', 'client apply ms', 'relay CPU ms', 'CPU vs best peer'], rows))
  emit()
  emit('"step2 arrived" = from `new WebSocket` until the whole step2 frame is in this process (connect, the relay\'s work, transport), before the client applies it; "client apply" = this process applying that frame during the run (the floor measures the same apply in isolation, on a quiet, warmed-up heap).')
  emit()
}

// ------------------------------------------------------------------ main

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2))
  const sizes: Sizes = { ...(a.quick ? QUICK : FULL) }
  if (a.repeats !== null) sizes.repeats = a.repeats
  const targets: Target[] = []
  const skipped: string[] = []
  for (const t of a.targets) {
    const why = t.unavailable()
    if (why === null) targets.push(t)
    else skipped.push(`${t.name} (${why})`)
  }
  const rooms = new Rooms(a.seed)
  const t0 = Date.now()
  emit(`# Sync relay benchmark${a.quick ? ' (--quick)' : ''}`)
  emit()
  for (const l of environment()) emit(l)
  emit(`- seed ${a.seed}; sizes: convergence N=${sizes.convergenceN.join(',')} × ${sizes.updates} sets; latency N=${sizes.latencyN.join(',')} × ${sizes.latencyCount} updates every ${sizes.latencyIntervalMs} ms; rooms ${sizes.rooms}; full sync ${sizes.projects} projects; ${sizes.repeats} repeats, median`)
  emit(`- targets: ${targets.map((t) => `**${t.name}** = ${t.describe}`).join('; ')}${skipped.length ? `; skipped: ${skipped.join(', ')}` : ''}`)
  emit('- **Persistence is not equal.** The peers persist nothing: their documents live in process memory only, a restart loses them all. orchard and orchard-normal write every update to SQLite (WAL) and commit it before broadcasting it: **orchard** (our default, `--durability full`) = synchronous=FULL, an fsync per commit, survives power loss; **orchard-normal** (`--durability normal`) = synchronous=NORMAL, survives a crash of the relay process but not a power loss or OS crash. Goals are judged on **orchard** (full).')
  emit(`- "vs best peer" divides by the best of ${targets.filter((t) => t.peer).map((t) => t.name).join(', ') || '(no peer)'} on that row (lower is better everywhere)`)
  emit()
  const run: Record<Scenario, () => Promise<void>> = {
    convergence: () => runConvergence(sizes, targets, rooms),
    latency: () => runLatency(sizes, targets, rooms),
    rooms: () => runRooms(sizes, targets, rooms),
    fullsync: () => runFullSync(a, sizes, targets, rooms),
  }
  for (const s of a.scenarios) {
    const ts = Date.now()
    await run[s]()
    log(`[${s}] done in ${((Date.now() - ts) / 1000).toFixed(1)} s`)
  }
  emit(`_Total wall time ${((Date.now() - t0) / 1000).toFixed(0)} s; load average at end: ${loadavg()}._`)
  if (a.out) writeFileSync(a.out, `${out.join('\n')}\n`)
}

process.on('SIGINT', () => process.exit(130)) // children are SIGKILLed from proc.ts's exit hook
main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e)
    process.exit(1)
  },
)
