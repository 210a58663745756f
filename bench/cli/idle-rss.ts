/**
 * Idle RSS of the relay beside its peers: each target a plain-Node process on an ephemeral
 * port, started, left idle with no client, then VmRSS (and its anonymous and file-backed
 * parts, and its thread count) read from /proc/<pid>/status. Targets interleave within each
 * round so drift in the machine hits all alike.
 *
 *   orchard         `orchard relay` as users run it: SQLite WAL, its writer thread, the demo workspace
 *   orchard-memory  the relay from the library on in-memory storage (no SQLite, no writer thread)
 *   ywebsocket      @y/websocket-server's own bin, in memory
 *   hocuspocus3/4   Hocuspocus's stock Server, in memory
 *   node            `node -e` with one timer: the floor every target pays
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { median } from '../stats.js'

const bench = fileURLToPath(new URL('..', import.meta.url))
const IDLE_MS = 5_000
export const PEERS = ['ywebsocket', 'hocuspocus3', 'hocuspocus4'] as const

interface Launch {
  command: string
  args: string[]
  cwd: string
  env?: Record<string, string>
}

export interface IdleSample {
  rss: number
  anon: number
  file: number
  threads: number
}

/** One numeric field of /proc/<pid>/status (kB for the memory fields, a count for Threads). */
export function procStatusField(status: string, name: string): number {
  const match = new RegExp(`${name}:\\s+(\\d+)`).exec(status)
  if (!match) throw new Error(`no ${name} in /proc/<pid>/status`)
  return Number(match[1])
}

async function measure(name: string, launch: Launch, env: NodeJS.ProcessEnv): Promise<IdleSample> {
  const child = spawn(launch.command, launch.args, { cwd: launch.cwd, env: { ...env, ...launch.env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()))
  const exited = new Promise((resolve) => child.once('exit', resolve))
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${name} printed nothing in 30 s: ${err}`)), 30_000)
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString()
        // Every target prints one line once it listens (@y/websocket-server: "running at …").
        if (out.includes('\n')) {
          clearTimeout(timer)
          resolve()
        }
      })
      child.once('exit', (code) => reject(new Error(`${name} exited with ${code}: ${err}`)))
    })
    await new Promise((resolve) => setTimeout(resolve, IDLE_MS)) // idle on purpose: memory at rest
    const status = readFileSync(`/proc/${child.pid}/status`, 'utf8')
    return { rss: procStatusField(status, 'VmRSS') / 1024, anon: procStatusField(status, 'RssAnon') / 1024, file: procStatusField(status, 'RssFile') / 1024, threads: procStatusField(status, 'Threads') }
  } finally {
    child.kill('SIGTERM')
    await exited
  }
}

/** Median idle figures per target over `rounds` rounds. `orchard` is the CLI command under test. */
export async function idleRssBesidePeers(orchard: { command: string; prefix: string[]; cwd: string }, rounds: number, env: NodeJS.ProcessEnv): Promise<Map<string, IdleSample>> {
  const node = process.execPath
  const launches: Record<string, (dir: string) => Launch> = {
    orchard: (dir) => ({ command: orchard.command, args: [...orchard.prefix, 'relay', '--json', '--port', '0', '--data', join(dir, 'relay.db')], cwd: orchard.cwd }),
    'orchard-memory': () => ({ command: node, args: [join(bench, 'cli/servers/orchard-memory.mjs')], cwd: bench }),
    ywebsocket: () => ({ command: node, args: [join(bench, 'node_modules/@y/websocket-server/src/server.js')], cwd: bench, env: { HOST: '127.0.0.1', PORT: '0' } }),
    hocuspocus3: () => ({ command: node, args: [join(bench, 'cli/servers/hocuspocus3.mjs')], cwd: bench }),
    hocuspocus4: () => ({ command: node, args: [join(bench, 'cli/servers/hocuspocus4.mjs')], cwd: bench }),
    node: () => ({ command: node, args: ['-e', 'setInterval(() => {}, 1000); console.log("listening")'], cwd: bench })
  }
  const samples = new Map<string, IdleSample[]>(Object.keys(launches).map((name) => [name, []]))
  for (let round = 0; round < rounds; round++) {
    for (const [name, launch] of Object.entries(launches)) {
      const dir = mkdtempSync(join(tmpdir(), 'orchard-bench-idle-'))
      try {
        samples.get(name)?.push(await measure(name, launch(dir), env))
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    }
  }
  const medians = new Map<string, IdleSample>()
  for (const [name, list] of samples) {
    medians.set(name, {
      rss: median(list.map((s) => s.rss)),
      anon: median(list.map((s) => s.anon)),
      file: median(list.map((s) => s.file)),
      threads: median(list.map((s) => s.threads))
    })
  }
  return medians
}
