// Child-process plumbing for the targets: spawn a Node server, wait (bounded) for its
// one-line JSON announcement on stdout, read its CPU and RSS from /proc, ask the
// preloaded probe (servers/probe.ts) for a GC'd memory sample, stop it (SIGTERM,
// then SIGKILL after a deadline). Every child is registered so an exiting harness
// never leaves one behind.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))
export const PROBE_URL = pathToFileURL(fileURLToPath(new URL('./servers/probe.ts', import.meta.url))).href

const live = new Set<ChildProcess>()
process.on('exit', () => {
  for (const c of live) {
    try { c.kill('SIGKILL') } catch { /* already gone */ }
  }
})

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}

/** Rejects after `ms` unless `p` settles first; the timer never outlives the race. */
export async function withDeadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const t = new Promise<never>((_, rej) => {
    timer = setTimeout(() => rej(new Error(`timeout after ${ms} ms: ${what}`)), ms)
  })
  try {
    return await Promise.race([p, t])
  } finally {
    clearTimeout(timer)
  }
}

let clkTck = 0
function ticksPerSecond(): number {
  if (clkTck === 0) {
    try {
      clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
    } catch {
      clkTck = 100
    }
  }
  return clkTck
}

/** utime+stime of a process (all its threads) from /proc/<pid>/stat, in ms (10 ms granularity at CLK_TCK=100). */
export function readCpuTicksMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ') // fields from #3 (state) on
  const utime = Number(rest[11]) // field 14
  const stime = Number(rest[12]) // field 15
  return ((utime + stime) * 1000) / ticksPerSecond()
}

/**
 * CPU time of a process in ms, at ns resolution: the sum over its live threads of the
 * first field of /proc/<pid>/task/<tid>/schedstat (time spent on a CPU). The same quantity
 * as utime+stime, without the 10 ms ticks, which decide a ratio when a window costs 20 or
 * 30 ms. (A thread that exited inside a window would be missed; Node's threads live as
 * long as the process.) Falls back to /proc/<pid>/stat ticks.
 */
export function readCpuMs(pid: number): number {
  try {
    let ns = 0
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0])
      } catch { /* thread gone */ }
    }
    if (ns > 0) return ns / 1e6
  } catch { /* no schedstat */ }
  return readCpuTicksMs(pid)
}

/** VmRSS from /proc/<pid>/status, in bytes. */
export function readRssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)
  if (!m?.[1]) throw new Error(`no VmRSS for pid ${pid}`)
  return Number(m[1]) * 1024
}

export interface MemSample {
  /** VmRSS read from /proc right after the probe answered (post-GC when gcRan). */
  rss: number
  /** V8 heapUsed after the GC, from the probe; null if the probe did not answer. */
  heapUsed: number | null
  gcRan: boolean
}

export interface ServerProcess {
  pid: number
  /** The first stdout line that parsed as JSON and satisfied `isReady`. */
  announcement: Record<string, unknown>
  /** Full GC inside the server (via the probe) then RSS + heapUsed. Bounded. */
  sampleMemory(timeoutMs?: number): Promise<MemSample>
  stderrTail(): string
  stop(): Promise<void>
}

export interface SpawnOptions {
  label: string
  /** Script (path relative to the repo root, or absolute) and its arguments. */
  script: string
  args?: string[]
  isReady?: (obj: Record<string, unknown>) => boolean
  readyTimeoutMs?: number
  env?: Record<string, string>
  /** Extra node flags placed before the preloads (e.g. --cpu-prof). */
  nodeFlags?: string[]
  /** How long stop() waits after SIGTERM before SIGKILL (default 5 s). */
  stopTimeoutMs?: number
}

/**
 * Starts `node --expose-gc --import tsx --import <probe> <script> ...args` with the
 * repo root as cwd. The pid returned is the node process itself (no npx/tsx wrapper),
 * so /proc figures are the server's own.
 */
export async function spawnNodeServer(opts: SpawnOptions): Promise<ServerProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'orchard-bench-'))
  const probeFile = join(dir, 'probe.json')
  const child = spawn(
    process.execPath,
    [...(opts.nodeFlags ?? []), '--expose-gc', '--conditions=@orchard/source', '--import', 'tsx', '--import', PROBE_URL, opts.script, ...(opts.args ?? [])],
    {
      cwd: REPO_ROOT,
      env: { ...process.env, ...opts.env, ORCHARD_BENCH_PROBE_FILE: probeFile, NODE_ENV: 'production' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  live.add(child)
  let stderr = ''
  child.stderr?.setEncoding('utf8')
  child.stderr?.on('data', (d: string) => {
    stderr = (stderr + d).slice(-4000)
  })
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      live.delete(child)
      resolve(code)
    })
  })
  const isReady = opts.isReady ?? ((o) => o.ready === true)
  const rl = createInterface({ input: child.stdout! })
  const announcement = await withDeadline(
    new Promise<Record<string, unknown>>((resolve, reject) => {
      rl.on('line', (line) => {
        const s = line.trim()
        if (!s.startsWith('{')) return
        try {
          const obj = JSON.parse(s) as Record<string, unknown>
          if (isReady(obj)) resolve(obj)
        } catch { /* not our line */ }
      })
      void exited.then((code) => reject(new Error(`${opts.label} exited (${code}) before announcing: ${stderr}`)))
    }),
    opts.readyTimeoutMs ?? 30_000,
    `${opts.label} start`,
  ).catch((e: unknown) => {
    child.kill('SIGKILL')
    throw e
  })
  // keep draining stdout so a chatty server never blocks on a full pipe
  rl.on('line', () => {})

  const pid = child.pid!
  let seq = 0
  return {
    pid,
    announcement,
    stderrTail: () => stderr,
    async sampleMemory(timeoutMs = 5000): Promise<MemSample> {
      seq++
      const want = seq
      child.kill('SIGUSR2')
      const deadline = Date.now() + timeoutMs
      while (Date.now() < deadline) {
        if (existsSync(probeFile)) {
          try {
            const j = JSON.parse(readFileSync(probeFile, 'utf8')) as { seq: number; gcRan: boolean; heapUsed: number }
            if (j.seq >= want) return { rss: readRssBytes(pid), heapUsed: j.heapUsed, gcRan: j.gcRan }
          } catch { /* being replaced */ }
        }
        await sleep(20)
      }
      return { rss: readRssBytes(pid), heapUsed: null, gcRan: false }
    },
    async stop(): Promise<void> {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM')
        const code = await Promise.race([exited, sleep(opts.stopTimeoutMs ?? 5000).then(() => 'timeout' as const)])
        if (code === 'timeout') {
          child.kill('SIGKILL')
          await Promise.race([exited, sleep(2000)])
        }
      }
      rl.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

// Full GC of the benchmark process itself, run before every timed window (never inside
// one) so that garbage from earlier scenarios does not land a major GC in the next
// measurement. Works without --expose-gc on the command line.
let benchGcFn: (() => void) | null | undefined
export function benchGc(): void {
  if (benchGcFn === undefined) {
    try {
      setFlagsFromString('--expose-gc')
      benchGcFn = runInNewContext('gc') as () => void
    } catch {
      benchGcFn = null
    }
  }
  benchGcFn?.()
}
