/**
 * Agents and leases across instances (issue: multi-instance coordination), through the
 * relay core with sessions over the in-memory transport and a fake broker host.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { NotHolderError, type AgentRecord, type WorkspaceSession } from '@orchard/client'
import { WriteRefusedError } from '@orchard/workspace'
import { eventually } from '@orchard/relay/testing'
import { FakeBroker } from './harness/fake-broker.js'
import { testWorkspace, type TestWorkspace } from './harness/workspace.js'

let ws: TestWorkspace
let host: WorkspaceSession
let broker: FakeBroker
let projectId: string

beforeEach(async () => {
  ws = await testWorkspace({ leaseTtlMs: 1_000, hostTimeoutMs: 2_000 })
  host = await ws.session({ instanceId: 'host-machine', label: 'ana-desktop' })
  broker = new FakeBroker()
  host.host(broker)
  projectId = host.store.addProject('Pear', '/src/pear').id
  host.store.setProjectHost(projectId, { instanceId: 'host-machine', label: 'ana-desktop' })
  await host.provider.whenPersisted()
})
afterEach(() => ws.close())

async function editor(name: string, instanceId = name): Promise<WorkspaceSession> {
  return ws.session({ credential: await ws.member('editor', name), instanceId })
}

describe('spawn', () => {
  it('[SPAWN-4] [CONTROL-3] the host runs the agent and everyone sees it in the control doc', async () => {
    const ben = await editor('ben')
    const agent = await ben.spawn(projectId, 'alice', { options: { cli: 'claude' } })
    expect(agent).toMatchObject({ name: 'alice', projectId, status: 'running', hostInstanceId: 'host-machine', spawnedBy: { name: 'ben' }, info: { pid: 1001 } })
    expect(broker.spawned).toEqual([{ agentId: agent.id, projectId, name: 'alice', options: { cli: 'claude' } }])
    await eventually(() => host.agent(agent.id)?.status === 'running', { what: 'host sees it' })
    expect(ben.agents().map((entry) => entry.id)).toEqual([agent.id])
  })

  it('[SPAWN-4] no host, host offline, host failure and host timeout each fail clearly', async () => {
    const ben = await editor('ben')
    const orphan = ben.store.addProject('Orphan', '/src/o').id
    await ben.provider.whenPersisted()
    await expect(ben.spawn(orphan, 'a')).rejects.toMatchObject({ code: 'conflict', message: expect.stringContaining('has no host instance') })
    broker.failWith = 'claude: command not found'
    const failure = await ben.spawn(projectId, 'bad').catch((error: unknown) => error)
    expect(failure).toMatchObject({ code: 'host-error', message: 'The host could not start "bad": claude: command not found' })
    await eventually(() => ben.agents().find((agent) => agent.name === 'bad')?.status === 'failed', { what: 'failed status' })
    expect(ben.agents().find((agent) => agent.name === 'bad')?.error).toBe('claude: command not found')
    broker.failWith = null
    broker.delayMs = 5_000
    await expect(ben.spawn(projectId, 'slow')).rejects.toMatchObject({ code: 'timeout', message: expect.stringContaining('did not answer host.spawn') })
    broker.delayMs = 0
    await host.close()
    ws.sessions.splice(ws.sessions.indexOf(host), 1)
    const started = Date.now()
    await expect(ben.spawn(projectId, 'late')).rejects.toMatchObject({ code: 'host-offline', message: expect.stringContaining('ana-desktop) is offline') })
    expect(Date.now() - started).toBeLessThan(500)
  })

  it('[SPAWN-1] identical spawns racing from five instances start one agent that all of them get', async () => {
    const racers = await Promise.all(['b', 'c', 'd', 'e', 'f'].map((name) => editor(name)))
    broker.delayMs = 30
    for (let round = 0; round < 5; round++) {
      const agents = await Promise.all(racers.map((racer) => racer.spawn(projectId, `round-${round}`)))
      expect(new Set(agents.map((agent) => agent.id)).size).toBe(1)
    }
    expect(broker.spawned.map((request) => request.name)).toEqual(['round-0', 'round-1', 'round-2', 'round-3', 'round-4'])
  })

  it('[SPAWN-2] [SPAWN-5] a key, or onExisting reuse, returns the live agent instead of a second one', async () => {
    const ben = await editor('ben')
    const first = await ben.spawn(projectId, 'worker', { key: 'auto:worker' })
    const retry = await host.spawn(projectId, 'worker', { key: 'auto:worker' })
    expect(retry.id).toBe(first.id)
    const reused = await host.spawn(projectId, 'worker', { onExisting: 'reuse' })
    expect(reused.id).toBe(first.id)
    expect(broker.spawned).toHaveLength(1)
  })

  it('[SPAWN-3] taken names get the next free one, never duplicated, even racing', async () => {
    const ben = await editor('ben')
    const names: string[] = []
    for (let n = 0; n < 3; n++) names.push((await ben.spawn(projectId, 'alice')).name)
    expect(names).toEqual(['alice', 'alice-2', 'alice-3'])
    broker.delayMs = 20
    const racing = await Promise.all(Array.from({ length: 6 }, (_, n) => ben.spawn(projectId, 'bob', { key: `distinct-${n}` })))
    const raced = racing.map((agent) => agent.name).sort()
    expect(raced).toEqual(['bob', 'bob-2', 'bob-3', 'bob-4', 'bob-5', 'bob-6'])
    const live = ben.agents().filter((agent) => agent.status === 'running').map((agent) => agent.name)
    expect(new Set(live).size).toBe(live.length)
  })
})

describe('stop', () => {
  it('[STOP-1] [STOP-2] any editor can stop any agent; stopping twice succeeds; viewers are refused', async () => {
    const ben = await editor('ben')
    const carol = await editor('carol')
    const viewer = await ws.session({ credential: await ws.member('viewer', 'vic'), instanceId: 'vic' })
    const agent = await ben.spawn(projectId, 'alice')
    await expect(viewer.stop(agent.id)).rejects.toThrow(WriteRefusedError)
    await expect(viewer.provider.request('agent.stop', { agentId: agent.id })).rejects.toMatchObject({ code: 'forbidden', message: expect.stringContaining('Viewers cannot stop') })
    const [first, second] = await Promise.all([carol.stop(agent.id), ben.stop(agent.id)])
    expect(first.status).toBe('stopped')
    expect(second.status).toBe('stopped')
    expect((await carol.stop(agent.id)).status).toBe('stopped')
    expect(broker.stopped).toEqual([agent.id])
    await expect(ben.stop('no-such-agent')).rejects.toMatchObject({ code: 'not-found' })
  })

  it('[STOP-3] a stop while the spawn is in flight stops the agent once it starts', async () => {
    const ben = await editor('ben')
    broker.delayMs = 100
    const spawning = ben.spawn(projectId, 'quick')
    const agentId = await eventually(() => ben.agents().find((agent) => agent.name === 'quick' && agent.status === 'spawning')?.id, { what: 'spawning' })
    const stopped = await host.stop(agentId)
    expect(stopped.status).toBe('stopped')
    expect((await spawning).status).toBe('running')
    expect(broker.isRunning(agentId)).toBe(false)
    await eventually(() => ben.agent(agentId)?.status === 'stopped', { what: 'final status' })
    broker.failWith = 'boom'
    const failing = ben.spawn(projectId, 'doomed').catch(() => undefined)
    const doomedId = await eventually(() => ben.agents().find((agent) => agent.name === 'doomed')?.id, { what: 'doomed' })
    expect((await host.stop(doomedId)).status).toBe('failed')
    await failing
  })
})

describe('leases and input', () => {
  async function runningAgent(): Promise<AgentRecord> {
    return host.spawn(projectId, `agent-${Math.random().toString(36).slice(2, 6)}`)
  }

  it('[LEASE-1] [LEASE-3] [HOST-1] [INPUT-1] only the holder types; others are refused explicitly', async () => {
    const ben = await editor('ben')
    const carol = await editor('carol')
    const agent = await runningAgent()
    expect(() => ben.sendInput(agent.id, 'ls\r')).toThrow(NotHolderError)
    const lease = await ben.claim(agent.id)
    expect(lease).toMatchObject({ holderInstanceId: 'ben', memberName: 'ben', epoch: 1 })
    await expect(carol.claim(agent.id)).rejects.toMatchObject({ code: 'conflict', message: expect.stringContaining('ben holds this agent') })
    ben.sendInput(agent.id, 'ls\r')
    ben.resize(agent.id, 100, 30)
    await eventually(() => broker.written.length === 1 && broker.resized.length === 1, { what: 'input reached the host' })
    expect(broker.written[0]).toEqual({ agentId: agent.id, text: 'ls\r' })
    // Carol forges a frame with Ben's epoch: the relay refuses it and it never reaches the host.
    const refused = new Promise<{ code: string; message: string }>((resolve) => carol.provider.once('error', resolve))
    carol.provider.sendFrame({ kind: 12, channel: agent.id, epoch: lease.epoch, data: new TextEncoder().encode('rm -rf /\r') })
    expect(await refused).toMatchObject({ code: 'not-holder', message: expect.stringContaining('ben holds this agent') })
    expect(broker.written.map((entry) => entry.text)).toEqual(['ls\r'])
    expect((await ben.claim(agent.id)).epoch).toBe(1) // re-claiming your own lease keeps the epoch
  })

  it('[LEASE-2] [LEASE-5] renew needs the current epoch; release is idempotent and stale releases are no-ops', async () => {
    const ben = await editor('ben')
    const agent = await runningAgent()
    const lease = await ben.claim(agent.id)
    await expect(ben.provider.request('lease.renew', { agentId: agent.id, epoch: lease.epoch + 5 })).rejects.toMatchObject({ code: 'stale-epoch' })
    expect(await ben.provider.request('lease.release', { agentId: agent.id, epoch: lease.epoch - 1 })).toEqual({ released: false })
    expect(ws.core.clock.now()).toBeGreaterThan(0)
    expect(await ben.release(agent.id)).toBe(true)
    expect(await ben.release(agent.id)).toBe(false)
    expect(await ben.provider.request('lease.release', { agentId: agent.id, epoch: lease.epoch })).toEqual({ released: false })
    await eventually(() => ben.leaseOf(agent.id) === undefined, { what: 'lease gone from control doc' })
  })

  it('[LEASE-4] [LEASE-9] an owner takes over: new epoch, the old holder is told and its input refused from then on', async () => {
    const ben = await editor('ben')
    const agent = await runningAgent()
    const old = await ben.claim(agent.id)
    const lost = new Promise<{ reason: string; epoch: number }>((resolve) => ben.once('lease-lost', resolve))
    await expect(ben.claim(agent.id, { takeover: true })).rejects.toThrow(WriteRefusedError)
    const taken = await host.claim(agent.id, { takeover: true })
    expect(taken.epoch).toBe(old.epoch + 1)
    expect(await lost).toMatchObject({ reason: 'taken-over', epoch: old.epoch })
    expect(() => ben.sendInput(agent.id, 'late')).toThrow(NotHolderError)
    // Ben's client held on to a frame with the old epoch and sends it anyway.
    const refused = new Promise<{ code: string }>((resolve) => ben.provider.once('error', resolve))
    ben.provider.sendFrame({ kind: 12, channel: agent.id, epoch: old.epoch, data: new TextEncoder().encode('stale') })
    expect((await refused).code).toBe('not-holder')
    host.sendInput(agent.id, 'fresh')
    await eventually(() => broker.written.some((entry) => entry.text === 'fresh'), { what: 'new holder types' })
    expect(broker.written.map((entry) => entry.text)).not.toContain('stale')
  })

  it('[HOST-2] the host refuses a delayed frame from an old holder even if it got past the relay', async () => {
    const agent = await runningAgent()
    const binding = host.host(broker)
    const ben = await editor('ben')
    await ben.claim(agent.id)
    await host.claim(agent.id, { takeover: true })
    await eventually(() => binding.epochOf(agent.id) === 2, { what: 'host learned epoch 2 from the control doc' })
    const refusals: number[] = []
    binding.on('input-refused', ({ epoch }) => refusals.push(epoch))
    // Straight into the host's provider, as if the relay had forwarded an old frame.
    host.provider.emit('frame', [{ kind: 12, channel: agent.id, epoch: 1, data: new TextEncoder().encode('old') }])
    host.provider.emit('frame', [{ kind: 12, channel: agent.id, epoch: 2, data: new TextEncoder().encode('new') }])
    expect(refusals).toEqual([1])
    expect(broker.written.map((entry) => entry.text)).toEqual(['new'])
  })

  it('[LEASE-6] epochs are durable and only grow across relay restarts; a clock stepped back cannot stretch a lease', async () => {
    const ben = await editor('ben')
    const agent = await runningAgent()
    const first = await ben.claim(agent.id)
    await ben.release(agent.id)
    await host.provider.whenPersisted()
    await ws.restart()
    await eventually(() => ben.provider.status === 'connected' && host.provider.status === 'connected', { what: 'reconnected to the new relay' })
    const second = await ben.claim(agent.id)
    expect(second.epoch).toBeGreaterThan(first.epoch)
    // Step the relay's wall clock back an hour: the lease still ends on time.
    ws.clock.offset -= 3_600_000
    const renewed = await ben.provider.request<{ lease: { expiresAt: number } }>('lease.renew', { agentId: agent.id, epoch: second.epoch })
    expect(renewed.lease.expiresAt).toBeLessThanOrEqual(Date.now() + 1_000 + 50)
    expect(renewed.lease.expiresAt).toBeGreaterThanOrEqual(second.expiresAt)
    ben.leases.destroyAll() // stop renewing: let it expire
    ws.clock.offset += 3_600_000 + 1_500
    await expect(host.claim(agent.id)).resolves.toMatchObject({ epoch: second.epoch + 1 })
  })

  it('[LEASE-7] a dropped socket keeps its lease until expiry; reconnecting renews it with the same epoch', async () => {
    const ben = await editor('ben')
    const agent = await runningAgent()
    const lease = await ben.claim(agent.id)
    ben.provider.disconnect()
    await expect(host.claim(agent.id)).rejects.toMatchObject({ code: 'conflict' })
    ben.provider.connect()
    await eventually(() => ben.provider.status === 'connected', { what: 'reconnected' })
    await eventually(() => (ben.leaseOf(agent.id)?.expiresAt ?? 0) > lease.expiresAt, { what: 'renewed after reconnect' })
    expect(ben.leases.get(agent.id)?.epoch).toBe(lease.epoch)
    ben.sendInput(agent.id, 'still mine')
    await eventually(() => broker.written.some((entry) => entry.text === 'still mine'), { what: 'input after reconnect' })
  })

  it('[LEASE-8] viewers cannot claim, type, spawn or stop; each refusal says why', async () => {
    const viewer = await ws.session({ credential: await ws.member('viewer', 'vic'), instanceId: 'vic' })
    const agent = await runningAgent()
    await expect(viewer.claim(agent.id)).rejects.toThrow("Viewers cannot take over an agent's terminal")
    await expect(viewer.provider.request('lease.claim', { agentId: agent.id })).rejects.toMatchObject({ code: 'forbidden' })
    expect(() => viewer.sendInput(agent.id, 'x')).toThrow('Viewers can watch terminals but not type into them.')
    await expect(viewer.spawn(projectId, 'x')).rejects.toThrow('Viewers cannot start agents')
    await expect(viewer.provider.request('agent.spawn', { projectId, name: 'x' })).rejects.toMatchObject({ code: 'forbidden' })
    const refused = new Promise<{ code: string }>((resolve) => viewer.provider.once('error', resolve))
    viewer.provider.sendFrame({ kind: 12, channel: agent.id, epoch: 1, data: new Uint8Array([65]) })
    expect((await refused).code).toBe('forbidden')
  })
})

describe('presence and activity', () => {
  it('[SESSION-4] presence lists everyone with stamped identity and what they look at', async () => {
    const ben = await editor('ben')
    ben.presence.set({ projectId, agentId: null })
    await eventually(() => host.presence.list().some((entry) => entry.name === 'ben' && entry.state.projectId === projectId), { what: 'host sees ben' })
    const entries = host.presence.list()
    expect(entries.find((entry) => entry.self)).toMatchObject({ name: 'Ana', role: 'owner', instanceId: 'host-machine' })
    expect(entries.find((entry) => entry.name === 'ben')).toMatchObject({ role: 'editor', instanceId: 'ben', self: false })
  })

  it('[SESSION-5] [ACTIVITY-1] spawns, stops, claims and takeovers become activity, as events', async () => {
    const ben = await editor('ben')
    const seen: string[] = []
    host.on('activity', (entry) => seen.push(`${entry.type}:${entry.actor?.name ?? 'relay'}`))
    const agentsEvents: number[] = []
    host.on('agents', (agents) => agentsEvents.push(agents.length))
    const agent = await ben.spawn(projectId, 'alice')
    await ben.claim(agent.id)
    await host.claim(agent.id, { takeover: true })
    await ben.stop(agent.id)
    await eventually(() => seen.includes('stopped:ben'), { what: 'stop activity' })
    expect(seen).toEqual(expect.arrayContaining(['spawned:ben', 'claimed:ben', 'takeover:Ana', 'stopped:ben']))
    expect(agentsEvents.length).toBeGreaterThan(0)
    const room = await ws.core.room(ws.workspaceId)
    expect(room.control.activity.length).toBeLessThanOrEqual(ws.core.limits.activityLimit)
  })
})

describe('project edits in the activity feed', () => {
  it('[ACTIVITY-1] a burst of project edits by one member becomes one entry naming the projects', async () => {
    const ben = await editor('ben')
    const other = ben.store.addProject('Website', '/src/site').id
    ben.store.addProjectChannel(projectId, 'ops')
    ben.store.updateProject(other, { name: 'Site' })
    await ben.provider.whenPersisted()
    const entries = () => (host.controlDoc.getArray('activity').toJSON() as Array<{ type: string; actor: { name: string }; projectIds: string[]; projectNames: string[] }>).filter((entry) => entry.type === 'project-edited')
    await eventually(() => entries().some((entry) => entry.actor.name === 'ben' && entry.projectIds.includes(projectId) && entry.projectIds.includes(other)), { what: 'ben\'s edit entry' })
    const bens = entries().filter((entry) => entry.actor.name === 'ben')
    expect(bens).toHaveLength(1)
    expect(bens[0]!.projectNames).toEqual(expect.arrayContaining(['Pear', 'Site']))
  })
})
