// Child processes for the terminal benchmark: start a Node server as its own process
// (`node [flags] --import tsx --import probe.ts <script>`, so the pid is the server
// itself and /proc shows its own CPU and memory), wait (bounded) for its JSON line, read
// /proc, take the probe's heap reports over IPC, and stop it (SIGTERM, then SIGKILL).
// Every child is registered so the benchmark never leaves one behind.
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))
const PROBE = fileURLToPath(new URL('./probe.ts', import.meta.url))
const CLK_TCK = 100 // Linux USER_HZ; /proc/<pid>/stat times are in these ticks

const live = new Set<ChildProcess>()
export function killAllChildren(): void {
  for (const child of live) {
    try {
      child.kill('SIGKILL')
    } catch {
      /* already gone */
    }
  }
}
process.on('exit', killAllChildren)

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

export async function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms)))])
  } finally {
    clearTimeout(timer)
  }
}

/** utime + stime of a process (all threads), ms. */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK
}

/** VmRSS and VmHWM (peak RSS since start or the last resetPeak) in bytes. */
export function memory(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') }
}

/** Resets VmHWM to the current RSS (writing 5 to clear_refs); false if the kernel refuses. */
export function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5')
    return true
  } catch {
    return false
  }
}

export interface ProbeSample {
  gc: boolean
  at: number
  rss: number
  heapUsed: number
  heapTotal: number
  external: number
  arrayBuffers: number
  elu: number
}

export interface ServerProcess {
  pid: number
  announcement: Record<string, unknown>
  /** The newest report from the preloaded probe (null before the first). */
  lastProbe: ProbeSample | null
  /** Called with every probe report. */
  onProbe: ((sample: ProbeSample) => void) | null
  /** Called with every later JSON line the process prints. */
  onLine: ((line: Record<string, unknown>) => void) | null
  stderrTail(): string
  /** Full GC inside the server, then its memory (null if it did not answer in time). */
  afterGc(timeoutMs?: number): Promise<ProbeSample | null>
  exited: boolean
  stop(): Promise<void>
}

export interface StartOptions {
  label: string
  script: string
  args?: string[]
  nodeFlags?: string[]
  readyTimeoutMs?: number
  isReady?: (line: Record<string, unknown>) => boolean
}

export async function startServer(options: StartOptions): Promise<ServerProcess> {
  const child = spawn(process.execPath, [...(options.nodeFlags ?? []), '--expose-gc', '--conditions=@orchard/source', '--import', 'tsx', '--import', PROBE, options.script, ...(options.args ?? [])], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: { ...process.env, NODE_ENV: 'production' }
  })
  live.add(child)
  let stderr = ''
  child.stderr!.setEncoding('utf8')
  child.stderr!.on('data', (text: string) => (stderr = (stderr + text).slice(-8000)))
  let exitedFlag = false
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exitedFlag = true
      live.delete(child)
      resolve()
    })
  )
  const lines = createInterface({ input: child.stdout! })
  const gcWaiters: Array<(sample: ProbeSample) => void> = []
  const isReady = options.isReady ?? ((line) => line.ready === true)
  const announcement = await withDeadline(
    new Promise<Record<string, unknown>>((resolve, reject) => {
      lines.on('line', (line) => {
        if (!line.startsWith('{')) return
        try {
          const parsed = JSON.parse(line) as Record<string, unknown>
          if (isReady(parsed)) resolve(parsed)
        } catch {
          /* not the announcement */
        }
      })
      void exited.then(() => reject(new Error(`${options.label} exited before it was ready:\n${stderr}`)))
    }),
    options.readyTimeoutMs ?? 30_000,
    `${options.label} to start`
  ).catch((error: unknown) => {
    child.kill('SIGKILL')
    throw error
  })
  const server: ServerProcess = {
    pid: child.pid!,
    announcement,
    lastProbe: null,
    onProbe: null,
    onLine: null,
    stderrTail: () => stderr,
    afterGc(timeoutMs = 5_000) {
      return withDeadline(
        new Promise<ProbeSample>((resolve) => {
          gcWaiters.push(resolve)
          child.send({ type: 'gc' })
        }),
        timeoutMs,
        `${options.label} GC sample`
      ).catch(() => null)
    },
    get exited() {
      return exitedFlag
    },
    async stop() {
      if (!exitedFlag) {
        child.kill('SIGTERM')
        await Promise.race([exited, sleep(10_000)])
        if (!exitedFlag) {
          child.kill('SIGKILL')
          await Promise.race([exited, sleep(2_000)])
        }
      }
      lines.close()
    }
  }
  lines.on('line', (line) => {
    if (!server.onLine || !line.startsWith('{')) return
    try {
      server.onLine(JSON.parse(line) as Record<string, unknown>)
    } catch {
      /* not JSON */
    }
  })
  child.on('message', (message: { type?: string } & ProbeSample) => {
    if (message?.type !== 'probe') return
    if (message.gc) for (const waiter of gcWaiters.splice(0)) waiter(message)
    server.lastProbe = message
    server.onProbe?.(message)
  })
  return server
}

/** Samples a server's RSS (from /proc) and heap (from the probe) while `work` runs. */
export async function sampled<T>(
  server: ServerProcess,
  work: () => Promise<T>
): Promise<{ result: T; cpuMs: number; wallMs: number; maxRss: number; hwm: number; maxHeapUsed: number; maxArrayBuffers: number; startRss: number; endRss: number; meanElu: number; live: ProbeSample | null; liveBefore: ProbeSample | null }> {
  // What the server holds before the run, after a full GC (also keeps old garbage out of the run).
  const liveBefore = await server.afterGc()
  resetPeak(server.pid)
  const startRss = memory(server.pid).rss
  let maxRss = startRss
  let maxHeapUsed = server.lastProbe?.heapUsed ?? 0
  let maxArrayBuffers = server.lastProbe?.arrayBuffers ?? 0
  const elus: number[] = []
  server.onProbe = (sample) => {
    maxHeapUsed = Math.max(maxHeapUsed, sample.heapUsed)
    maxArrayBuffers = Math.max(maxArrayBuffers, sample.arrayBuffers)
    elus.push(sample.elu)
  }
  const timer = setInterval(() => {
    try {
      maxRss = Math.max(maxRss, memory(server.pid).rss)
    } catch {
      /* exited */
    }
  }, 25)
  const cpu0 = cpuMs(server.pid)
  const t0 = performance.now()
  try {
    const result = await work()
    const wallMs = performance.now() - t0
    const cpu = cpuMs(server.pid) - cpu0
    const end = memory(server.pid)
    // What the server still holds at the end of the run (connections still open), after a full GC.
    const live = await server.afterGc()
    return { result, cpuMs: cpu, wallMs, maxRss: Math.max(maxRss, end.rss), hwm: end.hwm, maxHeapUsed, maxArrayBuffers, startRss, endRss: end.rss, meanElu: elus.length ? elus.reduce((a, b) => a + b, 0) / elus.length : NaN, live, liveBefore }
  } finally {
    clearInterval(timer)
    server.onProbe = null
  }
}

/** Whole-machine CPU time from /proc/stat, in ms (all cores summed). */
export interface MachineCpu {
  busy: number
  processes: number
  softirq: number
  steal: number
}

export function machineCpu(): MachineCpu {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] as string
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map((v) => (Number(v) * 1000) / CLK_TCK) as number[]
  return { busy: user! + nice! + system! + irq! + softirq! + steal!, processes: user! + nice! + system!, softirq: irq! + softirq!, steal: steal! }
}

/**
 * Waits (at most maxWaitMs) for the machine to be quiet: less than `thresholdCores` of CPU
 * busy over a 250 ms window while the benchmark itself is idle, so that other work on a
 * shared machine lands in fewer measured runs. Returns whether it got quiet.
 */
export async function waitQuiet(maxWaitMs: number, thresholdCores = 0.3): Promise<boolean> {
  const deadline = performance.now() + maxWaitMs
  do {
    const before = machineCpu()
    const t0 = performance.now()
    await sleep(250)
    const busyCores = (machineCpu().busy - before.busy) / (performance.now() - t0)
    if (busyCores < thresholdCores) return true
  } while (performance.now() < deadline)
  return false
}
