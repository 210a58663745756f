// Shared pieces of the coordination benchmark: the orchard relay as its own process (the
// real CLI), Orchard sessions that count what they receive, a broker that "spawns"
// instantly, and small helpers. The peers are started by bench/sync (targets.ts, imported);
// our relay is started here, without bench/sync's preloaded probe (see startOrchardRelay).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { WorkspaceSession, webSocketTransport, type BrokerHost, type SpawnRequest, type TransportFactory } from '@orchard/client'
import { isInviteToken } from '@orchard/protocol'
import { sleep, withDeadline } from '../sync/proc.js'

export { sleep, withDeadline }

let clkTck = 0
/** utime+stime of a process (all its threads) from /proc/<pid>/stat, in ms (CLK_TCK ticks, usually 10 ms). */
export function readCpuMs(pid: number): number {
  if (clkTck === 0) {
    try {
      clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
    } catch {
      clkTck = 100
    }
  }
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ') // from field 3 (state) on
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / clkTck // fields 14 (utime) and 15 (stime)
}

export const RELAY_CLI = 'packages/cli/src/bin.ts'
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))

/** The last stderr lines of every relay that wrote any (the report shows them). */
export const relayStderr: string[] = []

const liveRelays = new Set<ChildProcess>()
process.on('exit', () => {
  for (const c of liveRelays) {
    try {
      c.kill('SIGKILL')
    } catch {
      /* gone */
    }
  }
})

export interface OrchardRelay {
  pid: number
  url: string
  httpBase: string
  workspaceId: string
  ownerToken: string
  adminToken: string
  durability: 'full' | 'normal'
  /** utime+stime of the relay process so far (ms). */
  cpuMs(): number
  stop(): Promise<void>
}

/**
 * `node [nodeFlags] --import tsx packages/cli/src/bin.ts relay --json --port 0 --data
 * <tmp>/orchard.db --durability <d>` (what `npx tsx packages/cli/src/bin.ts relay` runs),
 * as its own process so its CPU is read from /proc/<pid>/stat. Nothing else is preloaded:
 * the relay's SQLite writer thread inherits the process's execArgv, and a preloaded .ts
 * module (bench/sync's probe.ts) does not load there. `nodeFlags` (e.g. --cpu-prof) go to
 * the relay only; with any set, stop() waits up to 120 s for the relay to store, compact
 * and exit (that is when a profile is written).
 */
export async function startOrchardRelay(opts: { durability?: 'full' | 'normal'; nodeFlags?: string[] } = {}): Promise<OrchardRelay> {
  const durability = opts.durability ?? 'full'
  const dataDir = mkdtempSync(join(tmpdir(), 'orchard-coord-'))
  const nodeFlags = opts.nodeFlags ?? []
  const child = spawn(process.execPath, [...nodeFlags, '--conditions=@orchard/source', '--import', 'tsx', RELAY_CLI, 'relay', '--port', '0', '--data', join(dataDir, 'orchard.db'), '--json', '--durability', durability], {
    cwd: REPO_ROOT,
    env: { ...process.env, NODE_ENV: 'production' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  liveRelays.add(child)
  let stderr = ''
  child.stderr!.setEncoding('utf8')
  child.stderr!.on('data', (d: string) => (stderr = (stderr + d).slice(-8000)))
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      liveRelays.delete(child)
      resolve()
    }),
  )
  const lines = createInterface({ input: child.stdout! })
  const stop = async (timeoutMs: number) => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      if ((await Promise.race([exited.then(() => 'exited' as const), sleep(timeoutMs).then(() => 'timeout' as const)])) === 'timeout') {
        child.kill('SIGKILL')
        await Promise.race([exited, sleep(2_000)])
      }
    }
    lines.close()
    rmSync(dataDir, { recursive: true, force: true })
  }
  let info: { url: string; workspaceId: string; ownerToken: string; adminToken: string }
  try {
    info = await withDeadline(
      new Promise((resolve, reject) => {
        lines.on('line', (line) => {
          if (!line.startsWith('{')) return
          try {
            const o = JSON.parse(line) as { url?: unknown }
            if (typeof o.url === 'string') resolve(o as typeof info)
          } catch {
            /* not the announcement */
          }
        })
        void exited.then(() => reject(new Error(`the relay exited before announcing: ${stderr}`)))
      }),
      30_000,
      'relay start',
    )
  } catch (e) {
    await stop(2_000)
    throw e
  }
  const base = new URL(info.url)
  if (base.hostname !== '127.0.0.1') {
    await stop(5_000)
    throw new Error(`the relay announced a non-loopback url ${info.url}`)
  }
  const pid = child.pid!
  return {
    pid,
    url: info.url,
    httpBase: `http://${base.host}`,
    workspaceId: info.workspaceId,
    ownerToken: info.ownerToken,
    adminToken: info.adminToken,
    durability,
    cpuMs: () => readCpuMs(pid),
    async stop() {
      await stop(nodeFlags.length > 0 ? 120_000 : 10_000)
      const tail = stderr.trim()
      if (tail) relayStderr.push(tail.split('\n').slice(-3).join(' | ').slice(0, 400))
      if (tail) process.stderr.write(`  (relay stderr, last lines:)\n${tail.split('\n').slice(-8).map((l) => `    ${l}`).join('\n')}\n`)
    },
  }
}

/** Bytes received by one Orchard session, by frame kind (byte 1 of a v1 frame is its kind). */
export interface FrameCounts {
  frames: number
  awareness: number
  sync: number
  bytes: number
}

export function newCounts(): FrameCounts {
  return { frames: 0, awareness: 0, sync: 0, bytes: 0 }
}

/** The stock WebSocket transport, with every incoming frame counted (no extra decoding). */
export function countingTransport(relayUrl: string, counts: FrameCounts): TransportFactory {
  const factory = webSocketTransport(relayUrl)
  return () => {
    const t = factory()
    const onMessage = t.onMessage.bind(t)
    t.onMessage = (listener) =>
      onMessage((data) => {
        counts.frames++
        counts.bytes += data.byteLength
        if (data[1] === 3) counts.awareness++
        else if (data[1] === 2) counts.sync++
        listener(data)
      })
    return t
  }
}

export interface CountedSession {
  session: WorkspaceSession
  counts: FrameCounts
}

/** Opens `count` Orchard sessions (one instance each) with at most `concurrency` handshakes in flight. */
export async function openSessions(opts: {
  relayUrl: string
  credential: string
  count: number
  prefix: string
  concurrency?: number
  timeoutMs?: number
}): Promise<CountedSession[]> {
  const out: CountedSession[] = new Array(opts.count)
  let next = 0
  const errors: unknown[] = []
  const worker = async () => {
    while (next < opts.count && errors.length === 0) {
      const i = next++
      const counts = newCounts()
      try {
        const common = {
          instanceId: `${opts.prefix}-${i}`,
          label: `${opts.prefix}-${i}`,
          transport: countingTransport(opts.relayUrl, counts),
          connectTimeoutMs: opts.timeoutMs ?? 30_000,
        }
        // An invite joins as a new member (then count must be 1); a credential opens.
        const session = isInviteToken(opts.credential)
          ? await WorkspaceSession.join(opts.credential, { ...common, name: `${opts.prefix}-${i}` })
          : await WorkspaceSession.open({ ...common, credential: opts.credential, relayUrl: opts.relayUrl })
        if (session.status !== 'connected') throw new Error(`session ${opts.prefix}-${i} did not connect (${session.status})`)
        out[i] = { session, counts }
      } catch (e) {
        errors.push(e)
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? 16, opts.count) }, worker))
  if (errors.length > 0) {
    await closeSessions(out.filter(Boolean))
    throw errors[0]
  }
  return out
}

export async function closeSessions(sessions: CountedSession[]): Promise<void> {
  await Promise.all(sessions.map((s) => withDeadline(s.session.close(), 10_000, 'session close').catch(() => undefined)))
}

/** A broker that runs nothing and answers at once (like the tests' FakeBroker with delayMs 0). */
export class InstantBroker implements BrokerHost {
  readonly spawned: SpawnRequest[] = []
  readonly stopped: string[] = []

  async spawn(request: SpawnRequest): Promise<unknown> {
    this.spawned.push(request)
    return { pid: 1000 + this.spawned.length, cols: 80, rows: 24 }
  }

  async stop(agentId: string): Promise<void> {
    this.stopped.push(agentId)
  }

  write(): void {}
}

/** Resolves when `cond()` holds, polling every `everyMs`; rejects at the deadline. */
export async function until(cond: () => boolean, timeoutMs: number, what: string, everyMs = 2): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timeout after ${timeoutMs} ms: ${what}`)
    await sleep(everyMs)
  }
}

export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6
}

/** Event-loop-friendly CPU of this process (user+system, ms). */
export function selfCpuMs(): number {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}
