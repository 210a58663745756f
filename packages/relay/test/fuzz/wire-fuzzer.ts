/**
 * The wire fuzzer: hostile sessions against the real relay process over loopback (FUZZ-1).
 * It starts `orchard relay` on a temp file, makes an owner, an editor and a viewer, has a
 * sentinel client store known content, then runs seeded sessions (generators.ts) several at
 * a time until it has delivered its frame budget. After every session it checks the relay
 * process is alive; at the end a fresh client must read the sentinel content unchanged.
 * The report says what happened to each session and what the relay's memory did.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import WebSocket from 'ws'
import * as Y from 'yjs'
import { RelayProvider, webSocketTransport } from '@orchard/client'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import * as syncProtocol from 'y-protocols/sync'
import { decodeFrame, encodeFrame, FrameKind } from '@orchard/protocol'
import { startRelayProcess, type RelayProcess } from '../harness/relay-process.js'
import { FRAME_CLASSES, helloBytes, hex, sessionArbitrary, type FrameClass, type Principal, type Session } from './generators.js'

export interface FuzzOptions {
  seed: number
  /** Frames to deliver (sent on an open socket) before stopping. */
  frames: number
  /** Sessions in flight at once. */
  concurrency: number
  /** Most frames in one session. */
  maxFramesPerSession: number
  exclude: ReadonlySet<FrameClass>
  /** Each session must finish (its frames sent, the relay's answer to a ping seen, closed) within this. */
  sessionTimeoutMs: number
  log?: (line: string) => void
}

export interface CrashReport {
  seed: number
  /** Every session in flight when the relay died (the culprit is among them), frames as hex. */
  inFlight: Array<{ index: number; protocol: string; principal: Principal; hello: string; path?: string; frames: Array<{ cls: FrameClass; hex: string }> }>
  stderr: string
  exit: { code: number | null; signal: NodeJS.Signals | null }
  file: string
}

export interface FuzzReport {
  seed: number
  sessions: number
  framesSent: number
  framesByClass: Partial<Record<FrameClass, number>>
  byProtocol: Record<'orchard' | 'yws', number>
  /** Close codes of sessions the relay closed, code -> count. */
  relayCloses: Record<string, number>
  /** Sessions the fuzzer closed itself after its frames (the relay kept them open). */
  keptOpen: number
  /** Sessions that did not finish within sessionTimeoutMs. */
  hung: number
  relayExits: number
  crash: CrashReport | null
  sentinelIntact: boolean
  rssBeforeMiB: number
  rssAfterMiB: number
  ms: number
  excluded: FrameClass[]
}

export interface Principals {
  url: string
  workspaceId: string
  /** The first of each role is the one pinned regressions use. */
  credentials: Record<Exclude<Principal, 'anonymous'>, string>
  /**
   * Several members per role, so a long run stays under the per-member connection rate
   * (LIMIT-8: a burst of 300, then 5/s) and exercises the relay rather than that limit.
   */
  pool: Record<Exclude<Principal, 'anonymous'>, string[]>
}

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0)
  return Math.round((kb / 1024) * 10) / 10
}

/** Joins with an invite over a raw socket and returns the new member's credential. */
function joinWithInvite(url: string, invite: string, name: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${url}/orchard`)
    const timer = setTimeout(() => {
      ws.terminate()
      reject(new Error(`joining as ${name} got no WELCOME`))
    }, 10_000)
    ws.on('open', () => ws.send(helloBytes(invite, `fuzz-join-${name}`, name)))
    ws.on('message', (data: Buffer) => {
      const frame = decodeFrame(new Uint8Array(data))
      if (frame.kind === FrameKind.welcome && frame.credential) {
        clearTimeout(timer)
        ws.close(1000)
        resolve(frame.credential)
      }
    })
    ws.on('close', (code) => reject(new Error(`joining as ${name} was closed with ${code}`)))
    ws.on('error', reject)
  })
}

function provider(url: string, credential: string, instanceId: string): RelayProvider {
  return new RelayProvider({ transport: webSocketTransport(url), credential, instanceId, docs: { workspace: new Y.Doc() }, backoff: { initialMs: 50, maxMs: 200 } })
}

const SENTINEL_KEYS = 100
const POOL_SIZE = 4

/** Joins `count` more members and makes them owners (member.setRole, as the first owner). */
async function promoteToOwners(url: string, ownerToken: string, count: number, invite: string): Promise<string[]> {
  const credentials: string[] = []
  const admin = provider(url, ownerToken, 'fuzz-admin')
  try {
    await admin.whenSynced()
    for (let n = 0; n < count; n++) {
      const credential = await joinWithInvite(url, invite, `fuzz-owner-${n}`)
      // A member credential reads orc_m.<workspace>.<member>.<secret>.
      await admin.request('member.setRole', { memberId: credential.split('.')[2], role: 'owner' })
      credentials.push(credential)
    }
  } finally {
    admin.destroy()
  }
  return credentials
}

/** Known content written by an honest owner before the fuzz: it must read back unchanged after. */
async function writeSentinel(url: string, credential: string): Promise<Record<string, unknown>> {
  const writer = provider(url, credential, 'fuzz-sentinel')
  await writer.whenSynced()
  const doc = writer.docs.workspace as Y.Doc
  const map = doc.getMap<string>('sentinel')
  for (let n = 0; n < SENTINEL_KEYS; n++) map.set(`key-${n}`, `value-${n}`)
  doc.getText('sentinel-text').insert(0, 'the quick brown fox')
  await writer.whenPersisted()
  const expected = { map: map.toJSON(), text: doc.getText('sentinel-text').toString() }
  writer.destroy()
  return expected
}

/**
 * Reads the sentinel content back over a raw socket (HELLO, then sync step 1 with an empty
 * state vector) and applies the relay's answer to a fresh Y.Doc inside try/catch: a stored
 * update that cannot be applied is reported as "docs not intact", not thrown into the test.
 */
function readSentinel(url: string, credential: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${url}/orchard`)
    const doc = new Y.Doc()
    const timer = setTimeout(() => {
      ws.terminate()
      reject(new Error('the relay did not answer a fresh reader within 20 s after the fuzz'))
    }, 20_000)
    let settled = false
    const done = (result: Record<string, unknown> | Error) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      ws.close(1000)
      if (result instanceof Error) reject(result)
      else resolve(result)
    }
    ws.on('open', () => ws.send(helloBytes(credential, 'fuzz-reader')))
    ws.on('message', (data: Buffer) => {
      const frame = decodeFrame(new Uint8Array(data))
      if (frame.kind === FrameKind.welcome) {
        const e = encoding.createEncoder()
        syncProtocol.writeSyncStep1(e, doc)
        ws.send(encodeFrame({ kind: FrameKind.sync, channel: 'workspace', body: encoding.toUint8Array(e) }))
        return
      }
      if (frame.kind !== FrameKind.sync || frame.channel !== 'workspace') return
      const decoder = decoding.createDecoder(frame.body)
      if (decoding.readVarUint(decoder) !== syncProtocol.messageYjsSyncStep2) return
      try {
        Y.applyUpdate(doc, decoding.readVarUint8Array(decoder))
        done({ map: doc.getMap('sentinel').toJSON(), text: doc.getText('sentinel-text').toString() })
      } catch (error) {
        done(new Error(`the stored workspace doc cannot be applied by a client: ${(error as Error).message}`))
      }
    })
    ws.on('error', (error) => done(error))
    ws.on('close', (code, reason) => done(new Error(`the relay closed a fresh reader's socket (${code} ${reason.toString()}) before it could sync`)))
  })
}

function credentialFor(session: Session, index: number, principals: Principals): string {
  if (session.hello === 'valid' && session.principal !== 'anonymous') {
    const pool = principals.pool[session.principal]
    return pool[index % pool.length] as string
  }
  // A credential-shaped string that is not one, or a member credential with its secret changed.
  return session.hello === 'bad' ? `${principals.credentials.owner.slice(0, -4)}AAAA` : ''
}

interface SessionOutcome {
  sent: number
  byClass: Partial<Record<FrameClass, number>>
  relayClose: number | null
  reason?: string
  hung: boolean
}

/** Runs one session: connect, authenticate or not, send its frames, then see how the relay took them. */
export function runSession(session: Session, index: number, principals: Principals, timeoutMs: number): Promise<SessionOutcome> {
  return new Promise((resolve) => {
    const credential = credentialFor(session, index, principals)
    const path =
      session.path ??
      (session.protocol === 'orchard' ? '/orchard' : `/${encodeURIComponent(principals.workspaceId)}${session.hello === 'none' ? '' : `?token=${encodeURIComponent(credential)}`}`)
    const outcome: SessionOutcome = { sent: 0, byClass: {}, relayClose: null, hung: false }
    let weClosed = false
    let done = false
    let ws: WebSocket
    const finish = () => {
      if (done) return
      done = true
      clearTimeout(timer)
      resolve(outcome)
    }
    const timer = setTimeout(() => {
      outcome.hung = true
      ws?.terminate()
      finish()
    }, timeoutMs)
    if (session.path !== undefined) {
      // The hostile input here is the upgrade request itself.
      outcome.sent++
      outcome.byClass['upgrade-path'] = 1
    }
    try {
      ws = new WebSocket(`${principals.url}${path}`, { maxPayload: 64 * 1024 * 1024 })
    } catch {
      // The URL itself is unusable (the ws client refused it): nothing reached the relay.
      finish()
      return
    }
    const sendAll = () => {
      for (const frame of session.frames) {
        if (frame.cls === 'upgrade-path') continue
        if (ws.readyState !== WebSocket.OPEN) break
        ws.send(frame.bytes)
        outcome.sent++
        outcome.byClass[frame.cls] = (outcome.byClass[frame.cls] ?? 0) + 1
      }
      if (ws.readyState !== WebSocket.OPEN) return
      // A pong comes back after the relay has read every frame before the ping.
      ws.ping()
      ws.once('pong', () => {
        weClosed = true
        ws.close(1000, 'fuzz session done')
      })
    }
    let welcomed = session.protocol === 'yws' || session.hello === 'none'
    ws.on('open', () => {
      if (session.protocol === 'orchard' && session.hello !== 'none') {
        ws.send(helloBytes(credential, `fuzz-${index}`))
        // 'bad' HELLOs get an ERROR and a close; send the frames anyway, as an attacker would.
        if (session.hello === 'bad') sendAll()
        return
      }
      sendAll()
    })
    ws.on('message', () => {
      if (!welcomed) {
        welcomed = true
        sendAll()
      }
    })
    ws.on('unexpected-response', () => finish())
    ws.on('error', () => undefined)
    ws.on('close', (code, reason) => {
      if (!weClosed) outcome.relayClose = code
      outcome.reason = reason.toString()
      finish()
    })
  })
}

export interface FuzzTarget {
  relay: RelayProcess
  principals: Principals
  /** The sentinel content as written; compare with readSentinel() at the end. */
  expected: Record<string, unknown>
  /** Set once the relay process has exited. */
  exit(): { code: number | null; signal: NodeJS.Signals | null } | null
  rssMiB(): number
  readSentinel(): Promise<Record<string, unknown>>
  close(): Promise<void>
}

/** A fresh relay process on a temp file, with an owner, an editor, a viewer and the sentinel content. */
export async function startFuzzTarget(): Promise<FuzzTarget> {
  const dir = mkdtempSync(join(tmpdir(), 'orchard-wire-fuzz-'))
  // Durability 'normal': the fuzz is about hostile bytes, not power loss, and an fsync per
  // stored update would make the frame budget cost disk time instead of relay code.
  const relay = await startRelayProcess(['--data', join(dir, 'fuzz.db'), '--durability', 'normal'])
  let exit: { code: number | null; signal: NodeJS.Signals | null } | null = null
  relay.child.once('exit', (code, signal) => (exit = { code, signal }))
  const { url, workspaceId, ownerToken, editorInvite, viewerInvite } = relay.info
  if (!editorInvite || !viewerInvite) throw new Error('the relay printed no invites on its first start')
  const editors: string[] = []
  const viewers: string[] = []
  for (let n = 0; n < POOL_SIZE; n++) {
    editors.push(await joinWithInvite(url, editorInvite, `fuzz-editor-${n}`))
    viewers.push(await joinWithInvite(url, viewerInvite, `fuzz-viewer-${n}`))
  }
  const owners = [ownerToken, ...(await promoteToOwners(url, ownerToken, POOL_SIZE - 1, editorInvite))]
  const principals: Principals = {
    url,
    workspaceId,
    credentials: { owner: ownerToken, editor: editors[0] as string, viewer: viewers[0] as string },
    pool: { owner: owners, editor: editors, viewer: viewers }
  }
  const expected = await writeSentinel(url, ownerToken)
  return {
    relay,
    principals,
    expected,
    exit: () => exit,
    rssMiB: () => rssMiB(relay.child.pid as number),
    readSentinel: () => readSentinel(url, ownerToken),
    close: async () => {
      if (exit === null) await relay.stop()
      rmSync(dir, { recursive: true, force: true })
    }
  }
}

export async function runWireFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const log = options.log ?? (() => undefined)
  const started = performance.now()
  const report: FuzzReport = {
    seed: options.seed,
    sessions: 0,
    framesSent: 0,
    framesByClass: {},
    byProtocol: { orchard: 0, yws: 0 },
    relayCloses: {},
    keptOpen: 0,
    hung: 0,
    relayExits: 0,
    crash: null,
    sentinelIntact: false,
    rssBeforeMiB: 0,
    rssAfterMiB: 0,
    ms: 0,
    excluded: FRAME_CLASSES.filter((c) => options.exclude.has(c))
  }
  const target = await startFuzzTarget()
  try {
    report.rssBeforeMiB = target.rssMiB()
    const arbitrary = sessionArbitrary({ exclude: options.exclude, maxFrames: options.maxFramesPerSession })
    const inFlight = new Map<number, Session>()
    let next = 0
    // Bounded: at most one session per frame of the budget (a session delivers 0+ frames).
    const maxSessions = options.frames
    const worker = async () => {
      while (report.framesSent < options.frames && next < maxSessions && target.exit() === null) {
        const index = next++
        // Each session has its own seed, so one can be replayed alone (replay.ts).
        const session = fc.sample(arbitrary, { numRuns: 1, seed: sessionSeed(options.seed, index) })[0] as Session
        inFlight.set(index, session)
        const outcome = await runSession(session, index, target.principals, options.sessionTimeoutMs)
        report.sessions++
        report.byProtocol[session.protocol]++
        report.framesSent += outcome.sent
        for (const [cls, n] of Object.entries(outcome.byClass)) report.framesByClass[cls as FrameClass] = (report.framesByClass[cls as FrameClass] ?? 0) + n
        if (process.env.ORCHARD_FUZZ_DEBUG) log(`session ${index} ${session.protocol} ${session.principal} ${session.hello} -> ${outcome.relayClose} ${outcome.reason} after ${outcome.sent}: ${session.frames.slice(0, outcome.sent + 1).map((f) => f.cls).join(' ')}`)
        if (outcome.hung) report.hung++
        else if (outcome.relayClose === null) report.keptOpen++
        else report.relayCloses[String(outcome.relayClose)] = (report.relayCloses[String(outcome.relayClose)] ?? 0) + 1
        const exit = target.exit()
        if (exit !== null && !report.crash) {
          // Every session still in flight is a suspect; replay.ts finds the one.
          const file = join(tmpdir(), `orchard-fuzz-crash-${options.seed}-${index}.json`)
          report.crash = {
            seed: options.seed,
            inFlight: [...inFlight.entries()].map(([i, s]) => ({
              index: i,
              protocol: s.protocol,
              principal: s.principal,
              hello: s.hello,
              ...(s.path !== undefined ? { path: s.path } : {}),
              frames: s.frames.map((f) => ({ cls: f.cls, hex: hex(f.bytes) }))
            })),
            stderr: target.relay.stderr().slice(-4000),
            exit,
            file
          }
          writeFileSync(file, JSON.stringify(report.crash, null, 1))
        }
        inFlight.delete(index)
        if (report.sessions % 2000 === 0) log(`fuzz: ${report.sessions} sessions, ${report.framesSent} frames, rss ${target.rssMiB()} MiB`)
      }
    }
    await Promise.all(Array.from({ length: options.concurrency }, worker))
    if (target.exit() === null) {
      report.rssAfterMiB = target.rssMiB()
      const actual = await target.readSentinel().catch((error: Error) => {
        log(`fuzz: other clients' docs are NOT intact: ${error.message}`)
        return null
      })
      report.sentinelIntact = JSON.stringify(actual) === JSON.stringify(target.expected)
    } else {
      report.relayExits = 1
    }
  } finally {
    await target.close()
    report.ms = Math.round(performance.now() - started)
  }
  return report
}

/** Session i of run `seed`: mixed so that runs with nearby seeds do not share sessions. */
export function sessionSeed(seed: number, index: number): number {
  return (Math.imul(seed ^ 0x5bd1e995, 0x9e3779b1) + Math.imul(index, 0x85ebca6b)) | 0
}

export function formatReport(r: FuzzReport): string {
  const closes44 = Object.entries(r.relayCloses).filter(([code]) => code.startsWith('44'))
  const other = Object.entries(r.relayCloses).filter(([code]) => !code.startsWith('44'))
  return [
    `wire fuzz, seed ${r.seed} (ORCHARD_SEED=${r.seed} replays): ${r.framesSent} frames in ${r.sessions} sessions (orchard ${r.byProtocol.orchard}, y-websocket ${r.byProtocol.yws}) in ${r.ms} ms`,
    `  relay exits: ${r.relayExits}${r.crash ? ` (exit ${JSON.stringify(r.crash.exit)}; inputs in ${r.crash.file})` : ''}`,
    `  closed by the relay with 44xx: ${closes44.reduce((n, [, c]) => n + c, 0)} (${closes44.map(([code, n]) => `${code}: ${n}`).join(', ') || 'none'}); other closes: ${other.map(([code, n]) => `${code}: ${n}`).join(', ') || 'none'}; kept open until the fuzzer closed: ${r.keptOpen}; hung: ${r.hung}`,
    `  other clients' docs intact: ${r.sentinelIntact ? 'yes' : 'NO'}; relay RSS ${r.rssBeforeMiB} MiB before, ${r.rssAfterMiB} MiB after`,
    `  frames by class: ${Object.entries(r.framesByClass).map(([cls, n]) => `${cls} ${n}`).join(', ')}`,
    `  left out (known broken until fixed): ${r.excluded.join(', ') || 'none'}`
  ].join('\n')
}
