// The four scenarios and their client-side floors. Every wait has a deadline; every
// loop is bounded by the configured sizes.
import * as Y from 'yjs'
import * as encoding from 'lib0/encoding'
import * as syncProtocol from 'y-protocols/sync'
import { BenchClient, closeAll, connectMany } from './client.js'
import { benchGc, readCpuMs, sleep, withDeadline, type MemSample } from './proc.js'
import { max, median, percentile } from './stats.js'
import type { ClientEndpoint, RunningTarget, Target } from './targets.js'

export interface Sizes {
  convergenceN: number[]
  updates: number
  latencyN: number[]
  latencyCount: number
  latencyIntervalMs: number
  rooms: number
  /** Least time the rooms scenario waits after clients leave before it may call memory settled (every target alike). */
  roomsSettleMinMs: number
  /** Most time it waits for memory to settle. */
  roomsUnloadWaitMs: number
  projects: number
  repeats: number
}

export const FULL: Sizes = {
  convergenceN: [2, 10, 50, 200],
  updates: 1000,
  latencyN: [50, 200],
  latencyCount: 200,
  latencyIntervalMs: 20,
  rooms: 1000,
  // The orchard relay unloads a workspace 5 s after its last client leaves (limits.ts
  // unloadAfterMs), and V8 hands freed heap pages back to the OS only ~8-10 s after they
  // became garbage (its memory reducer; the probe's full GC frees the heap, not the pages).
  // Measured on orchard, 1000 rooms: RSS 142 MB at 6 s, 131 MB at 9 s (a plateau that two
  // samples 0.5 s apart call "stable"), 100 MB at 15 s (baseline 104). The peers' garbage
  // appears at 0 s, so theirs is back by ~9 s. So no target's settled sample (before the
  // baseline and after all left) is taken before 16 s; at most 30 s.
  roomsSettleMinMs: 16_000,
  roomsUnloadWaitMs: 30_000,
  projects: 10_000,
  repeats: 3,
}

export const QUICK: Sizes = {
  convergenceN: [2, 10],
  updates: 1000,
  latencyN: [10],
  latencyCount: 50,
  latencyIntervalMs: 20,
  rooms: 100,
  roomsSettleMinMs: 16_000,
  roomsUnloadWaitMs: 30_000,
  projects: 1000,
  repeats: 3,
}

export class Rooms {
  private n = 0
  constructor(private readonly seed: number) {}
  next(kind: string): string {
    return `${kind}-${this.seed}-${++this.n}`
  }
}

async function pool<T>(items: readonly T[], concurrency: number, fn: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0
  const errors: unknown[] = []
  const worker = async () => {
    while (next < items.length && errors.length === 0) {
      const i = next++
      try {
        await fn(items[i]!, i)
      } catch (e) {
        errors.push(e)
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker))
  if (errors.length > 0) throw errors[0]
}

/** Connects n clients to one room and waits until every client sees all n awareness states. */
async function joinRoom(rt: RunningTarget, room: string, n: number): Promise<BenchClient[]> {
  benchGc() // clean heap before each run (not right before the timed window: a fresh GC'd heap runs slower for a while)
  const ep = await rt.urlFor(room)
  const clients = await connectMany(Array.from({ length: n }, () => ep), (i) => ({ awarenessState: { user: `u${i}`, color: '#30bced' } }))
  try {
    await Promise.all(clients.map((c) => c.waitUntil(() => (c.awareness?.getStates().size ?? 0) >= n, 30_000 + n * 200, `awareness settle in ${room}`)))
    await sleep(100)
    return clients
  } catch (e) {
    await closeAll(clients)
    throw e
  }
}

// ---------------------------------------------------------------- 1. convergence

export interface ConvergenceSample { ms: number; cpuMs: number; framesPerReader: number; extensions: string }

export async function convergenceOnce(rt: RunningTarget, room: string, n: number, updates: number): Promise<ConvergenceSample> {
  const clients = await joinRoom(rt, room, n)
  try {
    const [writer, ...readers] = clients
    const framesBefore = readers.map((c) => c.framesIn)
    let remaining = readers.length
    let tDone = 0
    const all = new Promise<void>((resolve) => {
      for (const r of readers) {
        let got = 0
        r.doc.getMap('m').observe((e) => {
          got += e.keysChanged.size
          if (got === updates && --remaining === 0) {
            tDone = performance.now()
            resolve()
          }
        })
      }
    })
    const cpu0 = readCpuMs(rt.pid)
    const t0 = performance.now()
    const m = writer!.doc.getMap('m')
    for (let i = 0; i < updates; i++) m.set(`k${i}`, i) // one transaction (= one update message) per set
    await withDeadline(all, 60_000 + n * updates * 0.5, `convergence n=${n}`)
    const cpu1 = readCpuMs(rt.pid)
    return {
      ms: tDone - t0,
      cpuMs: cpu1 - cpu0,
      framesPerReader: median(readers.map((c, i) => c.framesIn - framesBefore[i]!)),
      extensions: writer!.extensions,
    }
  } finally {
    await closeAll(clients)
  }
}

export interface Floor { individualMs: number; mergedMs: number }

/** Same client code path, no server: the writer makes `updates` sets; n-1 reader docs apply them. */
export function convergenceFloor(n: number, updates: number, repeats: number): Floor {
  const ep: ClientEndpoint = { protocol: 'y-websocket', url: 'floor' }
  const ind: number[] = []
  const mer: number[] = []
  benchGc()
  const WARM = n >= 50 ? 1 : 3
  for (let r = 0; r < repeats + WARM; r++) {
    const frames: Uint8Array[] = []
    const updatesRaw: Uint8Array[] = []
    const writer = new BenchClient(ep, { sink: (f) => frames.push(f) })
    writer.doc.on('update', (u: Uint8Array) => updatesRaw.push(u))
    const readers = Array.from({ length: n - 1 }, () => new BenchClient(ep))
    const t0 = performance.now()
    const m = writer.doc.getMap('m')
    for (let i = 0; i < updates; i++) m.set(`k${i}`, i)
    for (const rd of readers) for (const f of frames) rd.receive(f)
    const t1 = performance.now()
    if (readers[0] && readers[0].doc.getMap('m').size !== updates) throw new Error('floor did not converge')
    // merged: what a relay that merges the whole burst into one message would deliver
    const mergedFrame = (() => {
      const w2: Uint8Array[] = []
      const c = new BenchClient(ep, { sink: (f) => w2.push(f) })
      Y.applyUpdate(c.doc, Y.mergeUpdates(updatesRaw)) // origin null: forwarded to sink as one update frame
      return w2[0]!
    })()
    const readers2 = Array.from({ length: n - 1 }, () => new BenchClient(ep))
    const t2 = performance.now()
    for (const rd of readers2) rd.receive(mergedFrame)
    const t3 = performance.now()
    if (r >= WARM) { // first rounds are JIT warm-up
      ind.push(t1 - t0)
      mer.push(t3 - t2)
    }
    for (const c of [writer, ...readers, ...readers2]) c.doc.destroy()
  }
  return { individualMs: median(ind), mergedMs: median(mer) }
}

// ---------------------------------------------------------------- 2. latency

export interface LatencySample { p50: number; p99: number; max: number; samples: number }

export async function latencyOnce(rt: RunningTarget, room: string, n: number, count: number, intervalMs: number): Promise<LatencySample> {
  const clients = await joinRoom(rt, room, n)
  try {
    const [writer, ...readers] = clients
    const sentAt = new Float64Array(count)
    const lat: number[] = []
    let remaining = readers.length
    const all = new Promise<void>((resolve) => {
      for (const r of readers) {
        let got = 0
        r.doc.getMap('l').observe((e) => {
          const now = performance.now()
          for (const k of e.keysChanged) {
            lat.push(now - sentAt[Number(k.slice(1))]!)
            got++
          }
          if (got === count && --remaining === 0) resolve()
        })
      }
    })
    const m = writer!.doc.getMap('l')
    const t0 = performance.now()
    for (let i = 0; i < count; i++) {
      const wait = t0 + i * intervalMs - performance.now()
      if (wait > 0) await sleep(wait)
      sentAt[i] = performance.now()
      m.set(`l${i}`, i)
    }
    await withDeadline(all, 30_000 + n * 100, `latency n=${n}`)
    return { p50: percentile(lat, 50), p99: percentile(lat, 99), max: max(lat), samples: lat.length }
  } finally {
    await closeAll(clients)
  }
}

/** Client-side cost of delivering one small update to n-1 docs in this process, serially (ms). */
export function latencyFloor(n: number, samples = 50): number {
  const ep: ClientEndpoint = { protocol: 'y-websocket', url: 'floor' }
  const frames: Uint8Array[] = []
  const writer = new BenchClient(ep, { sink: (f) => frames.push(f) })
  const readers = Array.from({ length: n - 1 }, () => new BenchClient(ep))
  const dts: number[] = []
  benchGc()
  const m = writer.doc.getMap('l')
  for (let i = 0; i < samples + 5; i++) {
    const t0 = performance.now()
    m.set(`l${i}`, i)
    const f = frames[frames.length - 1]!
    for (const rd of readers) rd.receive(f)
    if (i >= 5) dts.push(performance.now() - t0)
  }
  for (const c of [writer, ...readers]) c.doc.destroy()
  return median(dts)
}

// ---------------------------------------------------------------- 3. rooms

const META_KEYS = 5

/** The endpoints for `count` new rooms (may create them server-side: not part of any timed window). */
export async function endpointsFor(rt: RunningTarget, rooms: Rooms, count: number, kind: string): Promise<ClientEndpoint[]> {
  const eps: ClientEndpoint[] = []
  for (let i = 0; i < count; i++) eps.push(await rt.urlFor(rooms.next(kind)))
  return eps
}

export async function loadRooms(eps: ClientEndpoint[]): Promise<BenchClient[]> {
  const clients = eps.map((ep, i) => new BenchClient(ep, { awarenessState: { user: `owner${i}` } }))
  try {
    await pool(clients, 32, async (c, i) => {
      await c.connect()
      c.doc.transact(() => {
        const meta = c.doc.getMap('meta')
        meta.set('name', `Project ${i}`)
        meta.set('rootPath', `/home/ana/code/project-${i}`)
        meta.set('createdAt', 1_700_000_000_000 + i)
        meta.set('channels', ['general', 'frontend'])
        meta.set('owner', 'ana')
      })
      await c.flush()
    })
    return clients
  } catch (e) {
    await closeAll(clients)
    throw e
  }
}

/** Reconnects one fresh client per room and counts the rooms whose doc came back whole. */
async function reloadRooms(eps: ClientEndpoint[]): Promise<{ intact: number; ms: number }> {
  const clients = eps.map((ep) => new BenchClient(ep, { awarenessState: { user: 'reload' } }))
  let intact = 0
  const t0 = performance.now()
  try {
    await pool(clients, 32, async (c, i) => {
      await c.connect()
      const meta = c.doc.getMap('meta')
      if (meta.size === META_KEYS && meta.get('name') === `Project ${i}` && meta.get('createdAt') === 1_700_000_000_000 + i) intact++
    })
    return { intact, ms: performance.now() - t0 }
  } finally {
    await closeAll(clients)
  }
}

/**
 * Polls memory (GC'd) every 0.5 s until two consecutive samples differ by <1 %, but never
 * before `minMs` (so a delayed unload is not mistaken for "settled"), at most `deadlineMs`.
 */
async function waitStable(rt: RunningTarget, minMs: number, deadlineMs: number): Promise<{ sample: MemSample; waitedMs: number; stable: boolean }> {
  const t0 = Date.now()
  let prev = await rt.sampleMemory()
  while (Date.now() - t0 < deadlineMs) {
    await sleep(500)
    const cur = await rt.sampleMemory()
    const close = (a: number | null, b: number | null) => a === null || b === null || Math.abs(a - b) <= 0.01 * Math.max(a, b)
    if (Date.now() - t0 >= Math.max(1000, minMs) && close(cur.rss, prev.rss) && close(cur.heapUsed, prev.heapUsed)) {
      return { sample: cur, waitedMs: Date.now() - t0, stable: true }
    }
    prev = cur
  }
  return { sample: prev, waitedMs: Date.now() - t0, stable: false }
}

export interface RoomsSample {
  loadMs: number
  base: MemSample
  loaded: MemSample
  after: MemSample
  unloadWaitMs: number
  stable: boolean
  /** Rooms whose doc a fresh client got back whole after everyone had left and memory settled. */
  reloadIntact: number
  reloadMs: number
}

/**
 * One fresh server per call: warm up (20 rooms come and go, settle), create the endpoints
 * (untimed), baseline, load `count` rooms (timed), sample, everyone leaves, settle and
 * sample, then reconnect to every room and check its doc.
 */
export async function roomsOnce(target: Target, rooms: Rooms, count: number, settleMinMs: number, unloadWaitMs: number): Promise<RoomsSample> {
  benchGc()
  const rt = await target.start()
  try {
    const warm = await loadRooms(await endpointsFor(rt, rooms, 20, 'warm'))
    await closeAll(warm)
    const eps = await endpointsFor(rt, rooms, count, 'room')
    await waitStable(rt, settleMinMs, unloadWaitMs)
    const base = await rt.sampleMemory()
    const t0 = performance.now()
    const clients = await loadRooms(eps)
    const loadMs = performance.now() - t0
    await sleep(200)
    const loaded = await rt.sampleMemory()
    await closeAll(clients)
    const w = await waitStable(rt, settleMinMs, unloadWaitMs)
    const reload = await reloadRooms(eps)
    return { loadMs, base, loaded, after: w.sample, unloadWaitMs: w.waitedMs, stable: w.stable, reloadIntact: reload.intact, reloadMs: reload.ms }
  } finally {
    await rt.stop()
  }
}

// ---------------------------------------------------------------- 4. full sync

export function buildProjects(doc: Y.Doc, projects: number, seed: number): void {
  doc.transact(() => {
    const root = doc.getMap<Y.Map<unknown>>('projects')
    for (let i = 0; i < projects; i++) {
      const p = new Y.Map<unknown>()
      p.set('name', `Project ${i}`)
      p.set('rootPath', `/home/ana/code/project-${i}`)
      const ch = new Y.Array<string>()
      ch.push(['general', 'frontend'])
      p.set('channels', ch)
      root.set(`p-${seed.toString(36)}-${i.toString(36).padStart(4, '0')}`, p)
    }
  })
}

export interface FullSyncResult {
  ms: number[]
  cpuMs: number[]
  /** From `new WebSocket` until the step2 frame had arrived (relay + transport, before the client applies it). */
  step2AtMs: number[]
  /** The client applying that step2 frame (this process's share). */
  applyMs: number[]
  updateBytes: number
}

export async function fullSync(rt: RunningTarget, rooms: Rooms, projects: number, repeats: number, seed: number): Promise<FullSyncResult> {
  const once = async (room: string, p: number, reps: number): Promise<FullSyncResult> => {
    benchGc()
    const ep = await rt.urlFor(room)
    const loader = new BenchClient(ep, { awarenessState: { user: 'loader' } })
    buildProjects(loader.doc, p, seed)
    const updateBytes = Y.encodeStateAsUpdate(loader.doc).length
    try {
      await loader.connect()
      await loader.flush(60_000) // the server now holds the whole doc
      const ms: number[] = []
      const cpuMs: number[] = []
      const step2AtMs: number[] = []
      const applyMs: number[] = []
      for (let r = 0; r < reps; r++) {
        const cpu0 = readCpuMs(rt.pid)
        const t0 = performance.now()
        const fresh = new BenchClient(ep, { awarenessState: { user: `fresh${r}` }, connectTimeoutMs: 60_000 })
        try {
          await fresh.connect()
          const projectsMap = fresh.doc.getMap('projects')
          await fresh.waitUntil(() => projectsMap.size >= p, 60_000, 'full sync')
          ms.push(performance.now() - t0)
          cpuMs.push(readCpuMs(rt.pid) - cpu0)
          step2AtMs.push(fresh.firstStep2At - t0)
          applyMs.push(fresh.firstStep2ApplyMs)
        } finally {
          await fresh.close()
        }
      }
      return { ms, cpuMs, step2AtMs, applyMs, updateBytes }
    } finally {
      await loader.close()
    }
  }
  await once(rooms.next('fullsync-warm'), projects, 3) // JIT warm-up of server and client paths at full size
  return once(rooms.next('fullsync'), projects, repeats)
}

/** One fresh doc applying the full state (as the server's sync step2 frame) via the client path. */
export function fullSyncFloor(projects: number, repeats: number, seed: number): { ms: number; updateBytes: number } {
  const ep: ClientEndpoint = { protocol: 'y-websocket', url: 'floor' }
  const ms: number[] = []
  let updateBytes = 0
  benchGc()
  const WARM = 3
  for (let r = 0; r < repeats + WARM; r++) {
    const toClient: Uint8Array[] = []
    const server = new BenchClient(ep, { sink: (f) => toClient.push(f) })
    buildProjects(server.doc, projects, seed)
    updateBytes = Y.encodeStateAsUpdate(server.doc).length
    toClient.length = 0
    const fresh = new BenchClient(ep)
    // the fresh client's step1, answered with step2 by the "server" doc (untimed: that part is the relay's work)
    server.receive(syncStep1Frame(fresh.doc))
    const step2 = toClient[toClient.length - 1]!
    const t0 = performance.now()
    fresh.receive(step2)
    const ok = fresh.doc.getMap('projects').size >= projects
    const dt = performance.now() - t0
    if (!ok) throw new Error('fullsync floor incomplete')
    if (r >= WARM) ms.push(dt) // first rounds are JIT warm-up
    server.doc.destroy()
    fresh.doc.destroy()
  }
  return { ms: median(ms), updateBytes }
}

function syncStep1Frame(doc: Y.Doc): Uint8Array {
  const e = encoding.createEncoder()
  encoding.writeVarUint(e, 0) // y-websocket messageSync
  syncProtocol.writeSyncStep1(e, doc)
  return encoding.toUint8Array(e)
}
