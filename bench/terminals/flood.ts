// A chatty agent through the relay with real PTYs: the host process (pty-host.ts --flood)
// runs `yes` into a PTY, HostBinding publishes every PTY read as one TERM_OUTPUT frame,
// and a TerminalStream viewer in this process watches. Also the PTY alone (no relay):
// how fast, and in how many reads per second, the same program's output arrives.
import { WorkspaceSession, type TerminalSink } from '@orchard/client'
import { NodePtyBroker } from '@orchard/client/pty'
import { floodCommand } from './echo-command.js'
import { sleep, withDeadline, type ServerProcess } from './proc.js'

export interface FloodAlone {
  bytes: number
  reads: number
  seconds: number
}

export async function floodAlone(bytes: number): Promise<FloodAlone> {
  const broker = new NodePtyBroker()
  let reads = 0
  let total = 0
  let text = ''
  let started = 0
  let finished = 0
  let resolveDone: () => void = () => {}
  const done = new Promise<void>((resolve) => (resolveDone = resolve))
  const sink: TerminalSink = {
    output: (_agentId, data) => {
      if (started) {
        reads++
        total += data.byteLength
      }
      text = (text + Buffer.from(data).toString('latin1')).slice(-64)
      if (!started && text.includes('READY')) {
        text = ''
        started = performance.now()
        broker.write('alone', new TextEncoder().encode('g'))
      } else if (started && text.includes('FLOOD-DONE')) {
        finished = performance.now()
        resolveDone()
      }
    },
    restarted: () => {},
    exited: () => {},
    resized: () => {}
  }
  broker.attach(sink)
  try {
    await broker.spawn({ agentId: 'alone', projectId: 'alone', name: 'alone', options: floodCommand(bytes) })
    await withDeadline(done, 60_000, 'PTY flood without the relay')
    return { bytes: total, reads, seconds: (finished - started) / 1000 }
  } finally {
    await broker.stopAll()
  }
}

export interface FloodThrough {
  published: number
  delivered: number
  gaps: number
  seconds: number
  finished: boolean
  hostEvents: string[]
  viewerEvents: string[]
}

export async function floodThroughRelay(url: string, credential: string, host: ServerProcess, agentId: string, timeoutMs: number): Promise<FloodThrough> {
  const hostEvents: string[] = []
  const viewerEvents: string[] = []
  let published = 0
  let lastProgress = performance.now()
  const t0 = performance.now()
  const since = () => `${((performance.now() - t0) / 1000).toFixed(2)} s`
  let recording = true
  host.onLine = (line) => {
    if (!recording) return
    if (line.event === 'published') {
      if (Number(line.offset) > published) lastProgress = performance.now()
      published = Math.max(published, Number(line.offset))
    } else if (line.event === 'status') hostEvents.push(`${since()} ${String(line.status)}`)
    else hostEvents.push(`${since()} ${String(line.event)} ${String(line.code)}: ${String(line.message)}`)
  }
  const viewer = await WorkspaceSession.open({ credential, relayUrl: url, instanceId: 'bench-flood-viewer', label: 'bench-flood-viewer', connectTimeoutMs: 10_000 })
  viewer.provider.on('status', (status) => recording && viewerEvents.push(`${since()} ${status}`))
  viewer.provider.on('stopped', (reason) => recording && viewerEvents.push(`${since()} stopped ${reason.code}: ${reason.message}`))
  try {
    await withDeadline(viewer.claim(agentId), 10_000, 'claim the flood agent')
    const stream = viewer.terminal(agentId)
    let delivered = 0
    let gaps = 0
    let text = ''
    let ready = false
    let finished = false
    let finishedAt = 0
    const finish = () => {
      if (finished) return
      finished = true
      finishedAt = performance.now()
    }
    stream.on('data', (data) => {
      text = (text + Buffer.from(data).toString('latin1')).slice(-64)
      if (ready) delivered += data.byteLength
      else if (text.includes('READY')) ready = true
      if (text.includes('FLOOD-DONE')) finish()
    })
    stream.on('gap', (gap) => {
      gaps++
      if (gap.snapshot.includes('FLOOD-DONE')) finish()
    })
    stream.on('error', (error) => recording && viewerEvents.push(`${since()} terminal error ${error.code}: ${error.message}`))
    const deadline = performance.now() + 15_000
    while (!ready && performance.now() < deadline) await sleep(20)
    if (!ready) throw new Error('the flood program never said READY through the relay')
    const start = performance.now()
    lastProgress = start
    viewer.sendInput(agentId, 'g')
    // Until the viewer has seen the end, or nothing has been published for 3 s (the host stopped), bounded.
    while (!finished && performance.now() - start < timeoutMs && performance.now() - lastProgress < 3_000) await sleep(50)
    // The host reports how far it published every 200 ms: take the report after the end.
    await sleep(450)
    recording = false
    return { published, delivered, gaps, seconds: ((finished ? finishedAt : lastProgress) - start) / 1000, finished, hostEvents, viewerEvents }
  } finally {
    host.onLine = null
    await viewer.close()
  }
}
