/**
 * Relay memory under the hostile-client cases of issue 9, item 5: not a test (it takes about
 * a minute and reports numbers), run with `pnpm --filter @orchard/relay memory`.
 *
 *   tsx packages/relay/test/flow/memory.ts [--repo <checkout>] [--only flood|step1|writers]
 *
 * Each case starts a fresh `orchard relay` child process from `--repo` (default: this
 * checkout, so the same script measures another branch's relay) and reads its resident set
 * (VmRSS) from /proc before the case, at its peak while sampling every 100 ms, and after
 * the case has settled. Clients run in this process and speak the wire directly.
 *   flood   a viewer sends tiny TERM_OUTPUT frames as fast as it can for up to 40 s and never reads
 *   step1   sixty sync step-1 requests against an 8 MiB doc from a viewer that never reads
 *   writers five viewers that never read while an editor writes 29 MiB (writers58: 58 MiB,
 *           control58: 58 MiB with no stalled viewer, the doc's own cost)
 */
import type { ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import WebSocket from 'ws'
import * as encoding from 'lib0/encoding'
import * as syncProtocol from 'y-protocols/sync'
import * as Y from 'yjs'
import { FrameKind, PROTOCOL_VERSION, decodeFrame, encodeFrame, type Frame } from '@orchard/protocol'
import { startRelayCli } from '../../../../scripts/relay-cli-process.js'

const MiB = 1024 * 1024
const here = fileURLToPath(new URL('../../../..', import.meta.url))
const { values } = parseArgs({ options: { repo: { type: 'string', default: here }, only: { type: 'string' } } })
const repo = values.repo as string

interface Relay {
  child: ChildProcess
  url: string
  ownerToken: string
  viewerInvite: string
  rssMiB(): number
  stop(): Promise<void>
}

async function startRelay(): Promise<Relay> {
  const dir = mkdtempSync(join(tmpdir(), 'orchard-memory-'))
  // The CLI moved to its own package; an older checkout (--repo) still has it in the relay.
  const cli = join(repo, 'packages/cli/src/bin.ts')
  const entry = existsSync(cli) ? ['--conditions=@orchard/source', '--import', 'tsx', cli] : ['--import', 'tsx', join(repo, 'packages/relay/src/cli.ts')]
  const relay = await startRelayCli<{ url: string; ownerToken: string; viewerInvite: string }>(['--data', join(dir, 'relay.db')], {
    command: [process.execPath, ...entry],
    cwd: repo,
    env: process.env,
    timeoutMs: 30_000
  })
  const { child } = relay
  return {
    child,
    ...relay.info,
    rssMiB: () => {
      try {
        const status = readFileSync(`/proc/${child.pid}/status`, 'utf8')
        return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024
      } catch {
        return Number.NaN // the process is gone
      }
    },
    stop: async () => {
      await relay.stop('SIGKILL')
      rmSync(dir, { recursive: true, force: true })
    }
  }
}

interface Client {
  ws: WebSocket
  frames: Frame[]
  closed: { code: number; reason: string } | null
  welcome: Extract<Frame, { kind: 1 }>
  /** Stops reading the socket: the relay's bytes pile up on its side. */
  stopReading(): void
  send(frame: Frame): void
}

async function connect(url: string, credential: string, instanceId: string): Promise<Client> {
  const ws = new WebSocket(`${url}/orchard`)
  const client = { ws, frames: [] as Frame[], closed: null as Client['closed'] } as Client
  ws.on('message', (data: Buffer) => {
    const frame = decodeFrame(new Uint8Array(data))
    if (frame.kind !== FrameKind.sync) client.frames.push(frame)
  })
  ws.on('close', (code, reason) => (client.closed = { code, reason: reason.toString() }))
  ws.on('error', () => undefined)
  await new Promise((resolve, reject) => {
    ws.once('open', resolve)
    ws.once('error', reject)
  })
  client.send = (frame) => ws.send(encodeFrame(frame))
  // A paused socket is what a peer that never reads looks like to the relay.
  client.stopReading = () => ws.pause()
  client.send({ kind: FrameKind.hello, channel: '', protocol: PROTOCOL_VERSION, credential, instanceId })
  client.welcome = await waitFor(() => client.frames.find((frame): frame is Extract<Frame, { kind: 1 }> => frame.kind === FrameKind.welcome), `welcome for ${instanceId}`)
  return client
}

async function relayConnections(relay: Relay): Promise<number> {
  const text = await (await fetch(`${relay.url.replace('ws://', 'http://')}/metrics`)).text()
  return Number(/^orchard_connections (\d+)$/m.exec(text)?.[1] ?? -1)
}

async function waitFor<T>(check: () => T | undefined | null | false, what: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = check()
    if (value) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

function syncBody(write: (encoder: encoding.Encoder) => void): Uint8Array {
  const encoder = encoding.createEncoder()
  write(encoder)
  return encoding.toUint8Array(encoder)
}

/** Writes `bytes` of text into the workspace doc in 256 KiB updates and waits for the ACKs. */
async function write(editor: Client, doc: Y.Doc, bytes: number, key: string): Promise<void> {
  let seq = 0
  const updates: Uint8Array[] = []
  const off = (update: Uint8Array) => updates.push(update)
  doc.on('update', off)
  for (let written = 0, n = 0; written < bytes; written += 256 * 1024, n++) {
    doc.getMap(key).set(`${n}`, 'w'.repeat(256 * 1024))
    const update = updates.shift() as Uint8Array
    while (editor.ws.bufferedAmount > 4 * MiB && !editor.closed) await new Promise((resolve) => setTimeout(resolve, 5))
    editor.send({ kind: FrameKind.sync, channel: 'workspace', body: syncBody((encoder) => syncProtocol.writeUpdate(encoder, update)) })
    seq++
  }
  doc.off('update', off)
  await waitFor(() => editor.closed || editor.frames.some((frame) => frame.kind === FrameKind.ack && frame.channel === 'workspace' && frame.seq >= seq), 'acks for the writes')
}

interface Result {
  case: string
  before: number
  peak: number
  after: number
  note: string
}

/** A case: `setup` builds the scene (not measured), then `attack` runs while RSS is sampled. */
interface Case {
  setup?(relay: Relay): Promise<unknown>
  attack(relay: Relay, scene: unknown): Promise<string>
}

async function measure(name: string, { setup, attack }: Case): Promise<Result> {
  const relay = await startRelay()
  try {
    const scene = await setup?.(relay)
    await new Promise((resolve) => setTimeout(resolve, 1_000))
    const before = relay.rssMiB()
    let peak = before
    const sampler = setInterval(() => (peak = Math.max(peak, relay.rssMiB() || peak)), 100)
    const note = await attack(relay, scene)
    await new Promise((resolve) => setTimeout(resolve, 2_000)) // let the case settle before "after"
    clearInterval(sampler)
    const after = relay.rssMiB()
    peak = Math.max(peak, after || peak)
    return { case: name, before, peak, after, note: relay.child.exitCode !== null ? `relay EXITED (${relay.child.exitCode}); ${note}` : note }
  } finally {
    await relay.stop()
  }
}

const cases: Record<string, Case> = {
  flood: {
    async attack(relay) {
      const viewer = await connect(relay.url, relay.viewerInvite, 'flooder')
      viewer.stopReading()
      const frame = encodeFrame({ kind: FrameKind.termOutput, channel: 'ag_nobody', generation: 1, offset: 0, data: new Uint8Array([120]) })
      let sent = 0
      const end = Date.now() + 40_000
      while (Date.now() < end && !viewer.closed) {
        if (viewer.ws.bufferedAmount < MiB) for (let n = 0; n < 1_000; n++, sent++) viewer.ws.send(frame)
        await new Promise((resolve) => setImmediate(resolve))
      }
      return `${sent.toLocaleString('en')} frames sent; offender ${viewer.closed ? `closed ${viewer.closed.code} ${viewer.closed.reason}` : 'still open'}`
    }
  },

  step1: {
    async setup(relay) {
      const editor = await connect(relay.url, relay.ownerToken, 'editor')
      await write(editor, new Y.Doc(), 8 * MiB, 'big')
      return editor
    },
    async attack(relay) {
      const viewer = await connect(relay.url, relay.viewerInvite, 'hoarder')
      viewer.stopReading()
      const body = syncBody((encoder) => syncProtocol.writeSyncStep1(encoder, new Y.Doc()))
      for (let n = 0; n < 60; n++) viewer.send({ kind: FrameKind.sync, channel: 'workspace', body })
      await new Promise((resolve) => setTimeout(resolve, 5_000))
      return `60 step 1s sent; relay sockets open after: ${await relayConnections(relay)} of 2`
    }
  },

  writers: stalledWriters(29),
  // Loopback TCP buffers take up to ~36 MiB per stalled reader here (tcp_rmem max 32 MiB +
  // tcp_wmem 4 MiB), so 29 MiB never reaches the relay's own buffers; 58 MiB does.
  writers58: stalledWriters(58),
  // The same writes with nobody stalled: what the doc itself costs.
  control58: stalledWriters(58, 0)
}

function stalledWriters(mib: number, viewers = 5): Case {
  return {
    async setup(relay) {
      const editor = await connect(relay.url, relay.ownerToken, 'editor')
      const stalled: Client[] = []
      let credential = relay.viewerInvite
      for (let n = 0; n < viewers; n++) {
        const viewer = await connect(relay.url, credential, `stalled-${n}`)
        credential = viewer.welcome.credential ?? credential
        stalled.push(viewer)
      }
      const step1 = syncBody((encoder) => syncProtocol.writeSyncStep1(encoder, new Y.Doc()))
      for (const viewer of stalled) viewer.send({ kind: FrameKind.sync, channel: 'workspace', body: step1 })
      return { editor, stalled }
    },
    async attack(_relay, scene) {
      const { editor, stalled } = scene as { editor: Client; stalled: Client[] }
      for (const viewer of stalled) viewer.stopReading()
      await write(editor, new Y.Doc(), mib * MiB, 'stream')
      await new Promise((resolve) => setTimeout(resolve, 3_000))
      // A paused client cannot see its own close; the relay's count of open sockets can.
      const open = await relayConnections(_relay)
      for (const viewer of stalled) viewer.ws.resume()
      await waitFor(() => stalled.every((viewer) => viewer.closed) || undefined, 'stalled viewers', 10_000).catch(() => undefined)
      const codes = [...new Set(stalled.filter((viewer) => viewer.closed).map((viewer) => viewer.closed!.code))]
      return `${mib} MiB written; editor ${editor.closed ? `closed ${editor.closed.code}` : 'open'}; relay sockets open after: ${open} of ${viewers + 1}${codes.length ? ` (stalled closed with ${codes.join(', ')})` : ''}`
    }
  }
}

const results: Result[] = []
for (const [name, entry] of Object.entries(cases)) {
  if (values.only && values.only !== name) continue
  results.push(await measure(name, entry))
  console.error(`done: ${name}`)
}
console.log(`relay at ${repo}\n`)
console.log('| case | RSS before (MiB) | peak | after | outcome |')
console.log('| --- | --- | --- | --- | --- |')
for (const result of results) console.log(`| ${result.case} | ${result.before.toFixed(0)} | ${result.peak.toFixed(0)} | ${result.after.toFixed(0)} | ${result.note} |`)
