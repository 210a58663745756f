// Terminal fan-out load: one publisher and N viewers, all in this (the benchmark's)
// process, against either the raw ws broadcast server or the Orchard relay, both running
// as their own processes.
//
// Publishing is closed-loop: the publisher keeps at most `windowBytes` published beyond
// what the slowest healthy viewer has received. That measures the throughput each server
// sustains without losing bytes (an open-loop publisher would only measure how fast
// bytes can be held back and dropped: the relay holds a viewer at its 1 MiB window and
// skips it ahead to a snapshot once it is behind by more than the 32 MiB ring, TERM-3,
// TERM-9), and keeps the raw server from queueing without bound. The window is below the
// relay's 1 MiB high-water mark so a healthy viewer is never held back or skipped.
import WebSocket from 'ws'
import { ACK_INTERVAL_MS, WorkspaceSession, type BrokerHost } from '@orchard/client'
import { FrameKind, PROTOCOL_VERSION, decodeFrame, encodeFrame, type Frame } from '@orchard/protocol'
import { sleep, withDeadline } from './proc.js'

export interface Viewer {
  received: number
  /** Output frames received and ACK frames sent (relay viewers). */
  frames: number
  acks: number
  doneAt: number
  gaps: number
  errors: string[]
  closeCode: number | null
  onProgress: (() => void) | null
  close(): Promise<void>
}

export interface Publisher {
  publish(chunk: Uint8Array): void
  /** Something that ended the publisher's connection (e.g. a relay close code), or null. */
  failure(): string | null
  close(): Promise<void>
}

export interface FanoutSetup {
  publisher: Publisher
  healthy: Viewer[]
  stalled: Viewer | null
  teardown(): Promise<void>
}

export interface FanoutResult {
  n: number
  totalBytes: number
  /** MB/s (10^6 bytes) delivered to all healthy viewers together. */
  aggregateMBps: number
  /** Median, over healthy viewers, of each viewer's own MB/s. */
  perViewerMBps: number
  minPerViewerMBps: number
  wallMs: number
  gaps: number
  /** ACK frames the viewers sent per TERM_OUTPUT frame they received. */
  acksPerFrame: number
  errors: string[]
}

function openSocket(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url, { perMessageDeflate: false })
  ws.binaryType = 'nodebuffer'
  return withDeadline(
    new Promise<WebSocket>((resolve, reject) => {
      ws.once('open', () => resolve(ws))
      ws.once('error', reject)
    }),
    10_000,
    `connect ${url}`
  )
}

function closeSocket(ws: WebSocket): Promise<void> {
  if (ws.readyState === WebSocket.CLOSED) return Promise.resolve()
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      ws.terminate()
      resolve()
    }, 2_000)
    ws.once('close', () => {
      clearTimeout(timer)
      resolve()
    })
    const socket = (ws as unknown as { _socket?: { resume(): void } })._socket
    socket?.resume()
    if (ws.readyState === WebSocket.CONNECTING) ws.terminate()
    else ws.close()
  })
}

function pauseSocket(ws: WebSocket): void {
  ;(ws as unknown as { _socket: { pause(): void } })._socket.pause()
}

/** A viewer's counters, all zero, on socket `ws`. */
function newViewer(ws: WebSocket): Viewer {
  return { received: 0, frames: 0, acks: 0, doneAt: 0, gaps: 0, errors: [], closeCode: null, onProgress: null, close: () => closeSocket(ws) }
}

// ------------------------------------------------------------------ raw ws server

async function rawViewer(url: string, stalled: boolean): Promise<Viewer> {
  const ws = await openSocket(`${url}/view`)
  const viewer = newViewer(ws)
  ws.on('message', (data: Buffer) => {
    viewer.received += data.byteLength
    viewer.onProgress?.()
  })
  ws.on('close', (code) => (viewer.closeCode = code))
  ws.on('error', (error) => viewer.errors.push(String(error)))
  if (stalled) pauseSocket(ws)
  return viewer
}

export async function rawSetup(url: string, n: number, withStalled: boolean): Promise<FanoutSetup> {
  const healthy = await Promise.all(Array.from({ length: n }, () => rawViewer(url, false)))
  const stalled = withStalled ? await rawViewer(url, true) : null
  const ws = await openSocket(`${url}/pub`)
  let failure: string | null = null
  ws.on('close', (code) => (failure = `publisher closed ${code}`))
  // The server adds a viewer when its upgrade completes, before the client sees 'open'.
  await sleep(20)
  return {
    publisher: {
      publish: (chunk) => ws.send(chunk, { binary: true }),
      failure: () => failure,
      close: () => closeSocket(ws)
    },
    healthy,
    stalled,
    async teardown() {
      await closeSocket(ws)
      await Promise.all([...healthy, ...(stalled ? [stalled] : [])].map((viewer) => viewer.close()))
    }
  }
}

// ------------------------------------------------------------------ Orchard relay

/**
 * A viewer on a raw Orchard socket that does on the wire what TerminalStream does:
 * subscribes from 0/0, acknowledges right after subscribing, decodes every frame, checks
 * (generation, offset) continuity, and paces its ACKs as TerminalStream.noteReceived does
 * (TERM-8): at once (next turn) when a quarter of the window the relay announced is
 * unacknowledged, else at most ACK_INTERVAL_MS after the output arrived.
 * A stalled viewer acknowledges once, then stops reading its socket.
 */
async function orchardViewer(url: string, credential: string, instanceId: string, agentId: string, stalled: boolean, acking: boolean): Promise<Viewer> {
  const ws = await openSocket(`${url}/orchard`)
  let next = 0
  let generation = 0
  let acked = 0
  let window = 1024 * 1024
  let ackTimer: NodeJS.Timeout | null = null
  let ackImmediate: NodeJS.Immediate | null = null
  let welcomed: () => void = () => {}
  const welcome = new Promise<void>((resolve) => (welcomed = resolve))
  const viewer = newViewer(ws)
  const ack = () => {
    if (ackTimer) clearTimeout(ackTimer)
    if (ackImmediate) clearImmediate(ackImmediate)
    ackTimer = null
    ackImmediate = null
    acked = next
    viewer.acks++
    if (ws.readyState === WebSocket.OPEN) ws.send(encodeFrame({ kind: FrameKind.ack, channel: agentId, seq: next }))
  }
  ws.on('message', (data: Buffer) => {
    let frame: Frame
    try {
      frame = decodeFrame(new Uint8Array(data.buffer, data.byteOffset, data.byteLength))
    } catch (error) {
      viewer.errors.push(`undecodable frame: ${String(error)}`)
      return
    }
    if (frame.kind === FrameKind.termOutput) {
      if (frame.generation !== generation) {
        generation = frame.generation
        next = frame.offset
      }
      if (frame.offset !== next) viewer.errors.push(`expected offset ${next}, got ${frame.offset}`)
      next = frame.offset + frame.data.byteLength
      viewer.received = next
      viewer.frames++
      if (acking && !ackImmediate) {
        if (next - acked >= window / 4 || next < acked) ackImmediate = setImmediate(ack)
        else ackTimer ??= setTimeout(ack, ACK_INTERVAL_MS)
      }
      viewer.onProgress?.()
    } else if (frame.kind === FrameKind.termGap) {
      viewer.gaps++
      generation = frame.generation
      next = frame.to
    } else if (frame.kind === FrameKind.welcome) {
      window = frame.limits.viewerWindowBytes ?? window
      welcomed()
    }
    else if (frame.kind === FrameKind.error) viewer.errors.push(`${frame.code}: ${frame.message}`)
  })
  ws.on('close', (code) => (viewer.closeCode = code))
  ws.on('error', (error) => viewer.errors.push(String(error)))
  ws.send(encodeFrame({ kind: FrameKind.hello, channel: '', protocol: PROTOCOL_VERSION, credential, instanceId }))
  await withDeadline(welcome, 10_000, `welcome for ${instanceId}`)
  ws.send(encodeFrame({ kind: FrameKind.termSubscribe, channel: agentId, generation: 0, offset: 0 }))
  if (acking) ws.send(encodeFrame({ kind: FrameKind.ack, channel: agentId, seq: 0 }))
  if (stalled) {
    // Let the subscribe and the ACK leave before the socket stops being read.
    await sleep(20)
    pauseSocket(ws)
  }
  return viewer
}

/** A broker that runs nothing: the benchmark publishes the agent's output itself. */
class SilentBroker implements BrokerHost {
  async spawn(): Promise<unknown> {
    return { silent: true }
  }
  async stop(): Promise<void> {}
  write(): void {}
}

export interface RelayInfo {
  url: string
  ownerToken: string
  viewerInvite: string
}

export class RelayFanout {
  private projectId: string | null = null
  private viewerCredential: string | null = null
  private runs = 0

  constructor(private readonly relay: RelayInfo) {}

  /** A viewer-role credential, earned once by redeeming the relay's viewer invite. */
  private async credential(): Promise<string> {
    if (this.viewerCredential) return this.viewerCredential
    const ws = await openSocket(`${this.relay.url}/orchard`)
    const welcome = withDeadline(
      new Promise<string>((resolve, reject) => {
        ws.on('message', (data: Buffer) => {
          const frame = decodeFrame(new Uint8Array(data))
          if (frame.kind === FrameKind.welcome && frame.credential) resolve(frame.credential)
          else if (frame.kind === FrameKind.error) reject(new Error(`${frame.code}: ${frame.message}`))
        })
      }),
      10_000,
      'viewer invite redeemed'
    )
    ws.send(encodeFrame({ kind: FrameKind.hello, channel: '', protocol: PROTOCOL_VERSION, credential: this.relay.viewerInvite, instanceId: 'bench-viewer-join', name: 'bench viewer' }))
    this.viewerCredential = await welcome
    await closeSocket(ws)
    return this.viewerCredential
  }

  /**
   * A fresh host session and agent per run (a new connection, so one run's bytes never
   * count against the next run's per-connection rate limit), with N viewers subscribed
   * before the first byte. The host publishes TERM_OUTPUT frames on its RelayProvider:
   * exactly the frames HostBinding.output sends, without HostBinding's xterm mirror
   * (its parsing cost is measured separately).
   */
  async setup(n: number, withStalled: boolean, acking = true): Promise<FanoutSetup> {
    const run = ++this.runs
    const instanceId = `bench-host-${run}`
    const host = await WorkspaceSession.open({ credential: this.relay.ownerToken, relayUrl: this.relay.url, instanceId, label: instanceId, connectTimeoutMs: 10_000 })
    let failure: string | null = null
    let lastError = ''
    host.provider.on('error', (error) => (lastError = `${error.code}: ${error.message}`))
    host.provider.on('status', (status) => {
      if (status !== 'connected') failure ??= `host connection ${status} (${lastError || 'no error frame'})`
    })
    host.host(new SilentBroker())
    await withDeadline(host.provider.whenSynced(), 10_000, 'host synced')
    this.projectId ??= host.store.addProject('Terminal bench', '/tmp/orchard-terminal-bench').id
    host.store.setProjectHost(this.projectId, { instanceId, label: instanceId })
    await withDeadline(host.provider.whenPersisted(), 10_000, 'project host stored')
    const agent = await withDeadline(host.spawn(this.projectId, `fanout-${run}`), 10_000, 'spawn')
    const credential = await this.credential()
    const healthy = await Promise.all(Array.from({ length: n }, (_, index) => orchardViewer(this.relay.url, credential, `viewer-${run}-${index}`, agent.id, false, acking)))
    // The stalled viewer always ACKs once: the relay bounds a viewer by un-acked bytes only if it ACKs.
    const stalled = withStalled ? await orchardViewer(this.relay.url, credential, `stalled-${run}`, agent.id, true, true) : null
    await sleep(50) // subscriptions are handled in order after each HELLO; let them land
    let offset = 0
    return {
      publisher: {
        publish: (chunk) => {
          host.provider.sendFrame({ kind: FrameKind.termOutput, channel: agent.id, generation: 1, offset, data: chunk })
          offset += chunk.byteLength
        },
        failure: () => failure,
        close: async () => {}
      },
      healthy,
      stalled,
      async teardown() {
        await Promise.all([...healthy, ...(stalled ? [stalled] : [])].map((viewer) => viewer.close()))
        await withDeadline(host.stop(agent.id), 10_000, 'stop agent').catch(() => undefined)
        await host.close()
      }
    }
  }
}

// ------------------------------------------------------------------ the closed loop

export async function drive(setup: FanoutSetup, chunks: Uint8Array[], totalBytes: number, windowBytes: number, timeoutMs: number): Promise<FanoutResult> {
  const { publisher, healthy } = setup
  let sent = 0
  let index = 0
  let finished = 0
  let watch: NodeJS.Timeout | undefined
  const t0 = performance.now()
  await withDeadline(
    new Promise<void>((resolve, reject) => {
      const pump = () => {
        let slowest = Infinity
        for (const viewer of healthy) if (viewer.received < slowest) slowest = viewer.received
        while (sent < totalBytes && sent - slowest < windowBytes) {
          const chunk = chunks[index++ % chunks.length] as Uint8Array
          publisher.publish(chunk)
          sent += chunk.byteLength
        }
      }
      for (const viewer of healthy) {
        viewer.onProgress = () => {
          if (viewer.doneAt === 0 && viewer.received >= totalBytes) {
            viewer.doneAt = performance.now()
            if (++finished === healthy.length) resolve()
          }
          pump()
        }
      }
      watch = setInterval(() => {
        const closed = healthy.find((viewer) => viewer.closeCode !== null)
        const failure = publisher.failure() ?? (closed ? `a viewer was closed with ${closed.closeCode} (${closed.errors.at(-1) ?? ''})` : null)
        if (failure) {
          clearInterval(watch)
          reject(new Error(`connection lost during the run: ${failure}`))
        }
      }, 50)
      pump()
    }),
    timeoutMs,
    `fan-out of ${totalBytes} bytes to ${healthy.length} viewers`
  ).finally(() => {
    clearInterval(watch)
    for (const viewer of healthy) viewer.onProgress = null
  })
  const end = Math.max(...healthy.map((viewer) => viewer.doneAt))
  const wallMs = end - t0
  const perViewer = healthy.map((viewer) => totalBytes / 1e6 / ((viewer.doneAt - t0) / 1000)).sort((a, b) => a - b)
  return {
    n: healthy.length,
    totalBytes,
    aggregateMBps: (healthy.length * totalBytes) / 1e6 / (wallMs / 1000),
    perViewerMBps: perViewer[Math.floor(perViewer.length / 2)] as number,
    minPerViewerMBps: perViewer[0] as number,
    wallMs,
    gaps: healthy.reduce((sum, viewer) => sum + viewer.gaps, 0),
    acksPerFrame: healthy.reduce((sum, viewer) => sum + viewer.acks, 0) / Math.max(1, healthy.reduce((sum, viewer) => sum + viewer.frames, 0)),
    errors: healthy.flatMap((viewer) => viewer.errors)
  }
}
