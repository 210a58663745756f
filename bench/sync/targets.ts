// The relays under test. Every target is its own child process, started and stopped
// by the harness, listening on 127.0.0.1 on an ephemeral port that it reports on
// stdout. Peers: the y-websocket server and Hocuspocus 3 and 4. Ours: 'orchard' (default
// durability full) and 'orchard-normal' (--durability normal), one workspace per room
// (enabled only once packages/cli/src/bin.ts exists).
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { isAbsolute, join } from 'node:path'
import { REPO_ROOT, spawnNodeServer, type MemSample, type ServerProcess } from './proc.js'

/** How a bench client reaches one room. */
export type ClientEndpoint =
  /** Stock y-websocket protocol; `url` is complete (room path and any query, e.g. `?token=`). */
  | { protocol: 'y-websocket'; url: string }
  /** Hocuspocus protocol: every frame prefixed with varString(documentName), Auth(token) first. */
  | { protocol: 'hocuspocus'; url: string; documentName: string; token: string }

export interface RunningTarget {
  name: string
  /** The server process's pid: /proc/<pid>/stat and /proc/<pid>/status are read for it. */
  pid: number
  /** Where a client connects to reach `room`. May create the room server-side first. */
  urlFor(room: string): Promise<ClientEndpoint>
  /** Full GC in the server (preloaded probe) then RSS + heapUsed. */
  sampleMemory(): Promise<MemSample>
  stop(): Promise<void>
}

export interface Target {
  name: string
  /** Package/version line printed in the report. */
  describe: string
  /** false for ours: its figures are compared with the best peer, not counted as one. */
  peer: boolean
  /** null when it can run here, else why not. */
  unavailable(): string | null
  start(): Promise<RunningTarget>
}

function running(name: string, proc: ServerProcess, urlFor: (room: string) => Promise<ClientEndpoint>, cleanup?: () => void): RunningTarget {
  return {
    name,
    pid: proc.pid,
    urlFor,
    sampleMemory: () => proc.sampleMemory(),
    async stop() {
      await proc.stop()
      cleanup?.()
      const tail = proc.stderrTail().trim()
      if (tail) process.stderr.write(`  (${name} server stderr, last lines:)\n${tail.split('\n').slice(-8).map((l) => `    ${l}`).join('\n')}\n`)
    },
  }
}

function portOf(p: ServerProcess): number {
  const port = p.announcement.port
  if (typeof port !== 'number') throw new Error(`no port in ${JSON.stringify(p.announcement)}`)
  return port
}

export const ywebsocket: Target = {
  name: 'ywebsocket',
  describe: '@y/websocket-server 0.1.1 (setupWSConnection on ws 8.23.0), in memory',
  peer: true,
  unavailable: () => null,
  async start() {
    const p = await spawnNodeServer({ label: 'ywebsocket', script: 'bench/sync/servers/ywebsocket.ts' })
    const port = portOf(p)
    return running('ywebsocket', p, async (room) => ({ protocol: 'y-websocket', url: `ws://127.0.0.1:${port}/${encodeURIComponent(room)}` }))
  },
}

function hocuspocus(name: string, script: string, describe: string): Target {
  return {
    name,
    describe,
    peer: true,
    unavailable: () => null,
    async start() {
      const p = await spawnNodeServer({ label: name, script })
      const port = portOf(p)
      return running(name, p, async (room) => ({ protocol: 'hocuspocus', url: `ws://127.0.0.1:${port}`, documentName: room, token: 'bench' }))
    },
  }
}

export const hocuspocus3 = hocuspocus('hocuspocus3', 'bench/sync/servers/hocuspocus3.ts', '@hocuspocus/server 3.4.4 (http + ws 8.23.0 -> handleConnection), in memory')
export const hocuspocus4 = hocuspocus('hocuspocus4', 'bench/sync/servers/hocuspocus4.ts', '@hocuspocus/server 4.7.0 (stock Server, crossws), in memory, flushDelay 0')

/** Overridable only to exercise this plumbing before the real CLI exists. */
const ORCHARD_CLI = process.env.ORCHARD_BENCH_RELAY_CLI ?? 'packages/cli/src/bin.ts'
/**
 * Extra node flags for the orchard relay only, e.g. ORCHARD_BENCH_RELAY_NODE_FLAGS="--cpu-prof
 * --cpu-prof-dir=/tmp/prof" to profile it under the benchmark load (a profile is written
 * when the relay exits on SIGTERM). Empty by default: the figures are unprofiled.
 */
const ORCHARD_NODE_FLAGS = (process.env.ORCHARD_BENCH_RELAY_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean)

/** What `relay --json` prints first (one line). Only `url` is required to count as started. */
interface OrchardAnnouncement {
  workspaceId?: string
  url: string
  ownerToken?: string
  adminToken?: string
  [k: string]: unknown
}

/** POST /v1/workspaces (admin API) → 201 {workspaceId, ownerCredential, url}. */
async function createWorkspace(httpBase: string, adminToken: string, name: string): Promise<{ workspaceId: string; credential: string }> {
  const res = await fetch(`${httpBase}/v1/workspaces`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name, ownerName: 'bench' }),
    signal: AbortSignal.timeout(30_000),
  })
  const text = await res.text()
  if (res.status !== 201) throw new Error(`POST /v1/workspaces -> ${res.status}: ${text.slice(0, 200)}`)
  const j = JSON.parse(text) as { workspaceId?: unknown; ownerCredential?: unknown }
  if (typeof j.workspaceId !== 'string' || typeof j.ownerCredential !== 'string') throw new Error(`POST /v1/workspaces: unexpected body ${text.slice(0, 200)}`)
  return { workspaceId: j.workspaceId, credential: j.ownerCredential }
}

function orchardTarget(name: string, durability: 'full' | 'normal', describe: string): Target {
  return {
    name,
    describe: `Orchard relay (${ORCHARD_CLI} relay --durability ${durability}), SQLite WAL: ${describe}`,
    peer: false,
    unavailable: () => (existsSync(isAbsolute(ORCHARD_CLI) ? ORCHARD_CLI : join(REPO_ROOT, ORCHARD_CLI)) ? null : `${ORCHARD_CLI} does not exist yet`),
    async start() {
      const dataDir = mkdtempSync(join(tmpdir(), 'orchard-relay-'))
      // Started exactly like the peers: node --expose-gc --import tsx --import <probe> <script> ...
      // i.e. `node --import tsx packages/cli/src/bin.ts relay --port 0 --data <tmpdir>/orchard.db --json`
      // The probe's SIGUSR2 handler is the only one in the process (the relay installs SIGINT/SIGTERM only).
      const cleanup = () => rmSync(dataDir, { recursive: true, force: true })
      let p: ServerProcess
      try {
        p = await spawnNodeServer({
          label: name,
          script: ORCHARD_CLI,
          args: ['relay', '--port', '0', '--data', join(dataDir, 'orchard.db'), '--json', '--durability', durability],
          nodeFlags: ORCHARD_NODE_FLAGS,
          // a profiled relay writes its .cpuprofile on exit: give it time to store everything first
          ...(ORCHARD_NODE_FLAGS.length > 0 ? { stopTimeoutMs: 120_000 } : {}),
          isReady: (o) => typeof o.url === 'string',
        })
      } catch (e) {
        cleanup()
        throw e
      }
      const info = p.announcement as OrchardAnnouncement
      const base = new URL(info.url) // ws://127.0.0.1:PORT (a path, if any, is ignored)
      if (base.hostname !== '127.0.0.1' && base.hostname !== 'localhost' && base.hostname !== '[::1]') {
        await p.stop()
        cleanup()
        throw new Error(`${name} announced a non-loopback url ${info.url}`)
      }
      const adminToken = info.adminToken
      if (typeof adminToken !== 'string' || adminToken === '') {
        await p.stop()
        cleanup()
        throw new Error(`${name} announced no adminToken: cannot create one workspace per room`)
      }
      const wsBase = `ws://${base.host}`
      const httpBase = `http://${base.host}`
      // One workspace per room, created through the admin API and remembered. The workspace
      // the relay made on first start serves the first room asked for.
      const byRoom = new Map<string, Promise<ClientEndpoint>>()
      let spare: { workspaceId: string; credential: string } | null =
        typeof info.workspaceId === 'string' && typeof info.ownerToken === 'string' && info.ownerToken !== ''
          ? { workspaceId: info.workspaceId, credential: info.ownerToken }
          : null
      const urlFor = (room: string): Promise<ClientEndpoint> => {
        let ep = byRoom.get(room)
        if (!ep) {
          const taken = spare
          spare = null
          ep = (async () => {
            const ws = taken ?? (await createWorkspace(httpBase, adminToken, room))
            return { protocol: 'y-websocket', url: `${wsBase}/${encodeURIComponent(ws.workspaceId)}?token=${encodeURIComponent(ws.credential)}` } as const
          })()
          byRoom.set(room, ep)
          ep.catch(() => byRoom.delete(room))
        }
        return ep
      }
      return running(name, p, urlFor, cleanup)
    },
  }
}

export const orchard = orchardTarget('orchard', 'full', 'default `--durability full` = synchronous=FULL, every commit fsynced before the update is broadcast (survives power loss)')
export const orchardNormal = orchardTarget('orchard-normal', 'normal', '`--durability normal` = synchronous=NORMAL, every commit written before broadcast but not fsynced (survives a crash of the relay process, not power loss)')

export const ALL_TARGETS: Target[] = [ywebsocket, hocuspocus3, hocuspocus4, orchard, orchardNormal]
