/**
 * `orchard relay`'s limit flags (CLI-11, CLI-12), through the real command as a child
 * process: each flag changes what the relay does to a client (a default relay next to it
 * shows the same client accepted), and a bad value is refused before any file exists.
 */
import { randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WorkspaceSession, type BrokerHost, type TerminalSink, type TerminalStream } from '@orchard/client'
import { DEFAULT_LIMITS } from '@orchard/relay'
import { formatSize } from '../src/options.js'
import { orchard, startRelay, type RelayProcess } from './harness/cli-process.js'

const MiB = 1024 * 1024
const dir = mkdtempSync(join(tmpdir(), 'orchard-cli-limits-'))
const sessions: WorkspaceSession[] = []
const relays: Record<'plain' | 'frame' | 'ring' | 'budget' | 'connects', RelayProcess> = {} as never

beforeAll(async () => {
  // One relay per flag, plus one with the defaults, started side by side.
  const started = await Promise.all([
    startRelay(['--data', join(dir, 'plain.db')]),
    startRelay(['--data', join(dir, 'frame.db'), '--max-frame', '1MiB']),
    startRelay(['--data', join(dir, 'ring.db'), '--terminal-ring', '1MiB']),
    startRelay(['--data', join(dir, 'budget.db'), '--terminal-ring', '2MiB', '--terminal-budget', '2MiB']),
    startRelay(['--data', join(dir, 'connects.db'), '--connects-per-address', '3'])
  ])
  ;[relays.plain, relays.frame, relays.ring, relays.budget, relays.connects] = started
}, 60_000)

afterAll(async () => {
  await Promise.all(sessions.splice(0).map((session) => session.close()))
  await Promise.all(Object.values(relays).map((relay) => relay.stop()))
  rmSync(dir, { recursive: true, force: true })
})

async function open(relay: RelayProcess, instanceId: string): Promise<WorkspaceSession> {
  const session = await WorkspaceSession.open({ credential: relay.info.ownerToken, relayUrl: relay.info.url, instanceId, label: instanceId })
  sessions.push(session)
  return session
}

/** A host that runs nothing: the test publishes its agents' output. */
class PrintingBroker implements BrokerHost {
  sink: TerminalSink | null = null
  attach(sink: TerminalSink): void {
    this.sink = sink
  }
  async spawn(): Promise<unknown> {
    return { pid: 1, cols: 80, rows: 24 }
  }
  async stop(): Promise<void> {}
  write(): void {}
  /** `bytes` of numbered lines, one 64 KiB chunk per event-loop turn; resolves with the text. */
  async print(agentId: string, bytes: number): Promise<string> {
    let text = ''
    let line = 0
    while (text.length < bytes) {
      let chunk = ''
      while (chunk.length < 64 * 1024) chunk += `${(line++).toString().padStart(8, '0')} ${'z'.repeat(55)}\r\n`
      this.sink?.output(agentId, new TextEncoder().encode(chunk))
      text += chunk
      await new Promise((resolve) => setImmediate(resolve))
    }
    return text
  }
}

/** Runs one agent per entry of `bytes` on `relay` (the owner's session as their host), printing that much to each in turn. */
async function agentsWithOutput(relay: RelayProcess, bytes: number[]) {
  const host = await open(relay, 'host')
  const broker = new PrintingBroker()
  host.host(broker)
  const projectId = host.store.addProject('Pear', '/src/pear').id
  host.store.setProjectHost(projectId, { instanceId: 'host' })
  await host.provider.whenPersisted()
  const agents = []
  for (const [index] of bytes.entries()) agents.push(await host.spawn(projectId, `agent-${index}`))
  const texts = []
  for (const [index, agent] of agents.entries()) texts.push(await broker.print(agent.id, bytes[index]!))
  // A request on the same socket after the output: once answered, the relay has taken it all.
  await host.createInvite('viewer')
  return { agents, texts }
}

/** What a viewer who opens the terminal now gets: resolves at the first gap, or once it has all of `text`. */
async function lateViewer(relay: RelayProcess, agentId: string, text: string): Promise<{ gaps: number; complete: boolean }> {
  const viewer = await WorkspaceSession.join(relay.info.viewerInvite!, { name: `Late ${agentId.slice(0, 4)}` })
  sessions.push(viewer)
  const stream: TerminalStream = viewer.terminal(agentId)
  const decoder = new TextDecoder()
  let seen = ''
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the late viewer got ${seen.length} of ${text.length} bytes and no gap`)), 20_000)
    stream.on('gap', () => {
      clearTimeout(timer)
      resolve({ gaps: 1, complete: false })
    })
    stream.on('data', (data) => {
      seen += decoder.decode(data, { stream: true })
      if (seen.length >= text.length) {
        clearTimeout(timer)
        resolve({ gaps: 0, complete: seen === text })
      }
    })
  })
}

describe('orchard relay limit flags', () => {
  it('[CLI-11] orchard relay --help lists the limit flags with the relay\'s own defaults', async () => {
    const help = await orchard(['relay', '--help'])
    expect(help.code).toBe(0)
    const text = help.stdout.replace(/\s+/g, ' ')
    expect(text).toContain('Limits (sizes: 512KiB, 16MiB, 1GiB; K, M and G are 1024-based):')
    expect(text).toContain(`--max-frame <size> largest frame a client may send`)
    expect(text).toContain(`close 4413 (default ${formatSize(DEFAULT_LIMITS.maxFrameBytes)})`)
    expect(text).toContain(`--terminal-ring <size> output kept per terminal`)
    expect(text).toContain(`snapshot (default ${formatSize(DEFAULT_LIMITS.terminalRingBytes)})`)
    expect(text).toContain(`--terminal-budget <size> output kept across all terminals`)
    expect(text).toContain(`oldest output (default ${formatSize(DEFAULT_LIMITS.terminalRingBudgetBytes)})`)
    expect(text).toContain(
      `--connects-per-address <n> new connections one IP address may open per minute: <n> at once, refilling at <n> a minute; more are answered HTTP 429 (default ${DEFAULT_LIMITS.addressConnectBurst} at once, refilling at ${DEFAULT_LIMITS.addressConnectsPerSecond * 60} a minute`
    )
  }, 30_000)

  it('[CLI-11] --max-frame 1MiB: an update of 1.5 MiB, stored by a default relay, is refused with close 4413', async () => {
    const blob = 'x'.repeat(1.5 * MiB)
    const [plain, small] = await Promise.all([open(relays.plain, 'writer'), open(relays.frame, 'writer')])
    const stopped = new Promise<{ code: number }>((resolve) => small.provider.once('stopped', resolve))
    plain.store.doc.getMap('cli-limits').set('blob', blob)
    small.store.doc.getMap('cli-limits').set('blob', blob)
    await plain.provider.whenPersisted()
    expect((await stopped).code).toBe(4413)
    expect(plain.provider.status).toBe('connected')
  }, 30_000)

  it('[CLI-11] --terminal-ring 1MiB: a late viewer of 1.5 MiB of output gets a gap and a snapshot, where a default relay replays it all', async () => {
    const [plain, ring] = await Promise.all([agentsWithOutput(relays.plain, [1.5 * MiB]), agentsWithOutput(relays.ring, [1.5 * MiB])])
    const [fromPlain, fromRing] = await Promise.all([
      lateViewer(relays.plain, plain.agents[0]!.id, plain.texts[0]!),
      lateViewer(relays.ring, ring.agents[0]!.id, ring.texts[0]!)
    ])
    expect(fromPlain).toEqual({ gaps: 0, complete: true })
    expect(fromRing).toEqual({ gaps: 1, complete: false })
  }, 60_000)

  it('[CLI-11] --terminal-budget 2MiB: terminals of 1.75 and 0.5 MiB (each inside its 2 MiB ring) go over it; the largest gives way (a gap for its late viewer), the other is kept', async () => {
    const { agents, texts } = await agentsWithOutput(relays.budget, [1.75 * MiB, 0.5 * MiB])
    const [largest, smaller] = await Promise.all([lateViewer(relays.budget, agents[0]!.id, texts[0]!), lateViewer(relays.budget, agents[1]!.id, texts[1]!)])
    expect(largest).toEqual({ gaps: 1, complete: false })
    expect(smaller).toEqual({ gaps: 0, complete: true })
  }, 60_000)

  it('[CLI-11] --connects-per-address 3: the fourth connection from one address within the minute is answered HTTP 429', async () => {
    // Plain WebSocket upgrade requests: 101 is a connection, anything else is the refusal.
    const upgrade = () =>
      new Promise<number>((resolve, reject) => {
        const req = request(`${relays.connects.info.url.replace('ws://', 'http://')}/orchard`, {
          headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': randomBytes(16).toString('base64') }
        })
        req.once('upgrade', (_response, socket) => {
          socket.destroy()
          resolve(101)
        })
        req.once('response', (response) => {
          response.resume()
          resolve(response.statusCode ?? 0)
        })
        req.once('error', reject)
        req.end()
      })
    const statuses = []
    for (let attempt = 0; attempt < 4; attempt++) statuses.push(await upgrade())
    expect(statuses).toEqual([101, 101, 101, 429])
  }, 30_000)
})

describe('bad limit values', () => {
  it('[CLI-12] bad limit values are refused with the range to use, before any file is created', async () => {
    const data = join(dir, 'never.db')
    const runs = await Promise.all([
      orchard(['relay', '--port', '0', '--data', data, '--max-frame', 'lots']),
      orchard(['relay', '--port', '0', '--data', data, '--max-frame', '64KiB']),
      orchard(['relay', '--port', '0', '--data', data, '--terminal-ring', '512k']),
      orchard(['relay', '--port', '0', '--data', data, '--connects-per-address', '2.5']),
      orchard(['relay', '--port', '0', '--data', data, '--terminal-ring', '64MiB', '--terminal-budget', '32MiB']),
      orchard(['relay', '--port', '0', '--data', data, '--terminal-budget', '8MiB'])
    ])
    const [notSize, smallFrame, smallRing, fraction, budgetBelowRing, budgetBelowDefaultRing] = runs
    expect(notSize.stderr).toContain(`option '--max-frame <size>' argument 'lots' is invalid. "lots" is not a size. Use a size from 1MiB to 1GiB, e.g. --max-frame 16MiB.`)
    expect(smallFrame.stderr).toContain('64KiB is out of range. Use a size from 1MiB to 1GiB')
    expect(smallRing.stderr).toContain(`option '--terminal-ring <size>' argument '512k' is invalid. 512KiB is out of range. Use a size from 1MiB to 4GiB`)
    expect(fraction.stderr).toContain(`option '--connects-per-address <n>' argument '2.5' is invalid. Use a whole number from 1 to 1000000`)
    expect(budgetBelowRing.stderr).toBe('orchard: --terminal-budget (32MiB) is smaller than --terminal-ring (64MiB): one terminal could never keep its ring. Give --terminal-budget at least 64MiB, or a smaller --terminal-ring.\n')
    expect(budgetBelowDefaultRing.stderr).toContain('orchard: --terminal-budget (8MiB) is smaller than the default terminal ring (32MiB)')
    for (const run of [notSize, smallFrame, smallRing, fraction]) expect(run.code).toBe(1)
    for (const run of [budgetBelowRing, budgetBelowDefaultRing]) expect(run.code).toBe(2)
    for (const run of runs) {
      expect(run.stdout).toBe('')
      expect(run.stderr).not.toMatch(/\n\s+at /) // no stack trace
    }
    expect(existsSync(data)).toBe(false)
    expect(existsSync(`${data}.owner.json`)).toBe(false)
  }, 60_000)
})
