/**
 * Issue 9, items 4, 6, 8 (invites) and 11: who may speak for an instance, what a closed
 * socket leaves behind, and what a lease holder hears. A real relay on a real port, real
 * SQLite, sessions over WebSocket, and a broker host that runs nothing (FakeBroker).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { FrameKind, type Frame } from '@orchard/protocol'
import { WorkspaceSession, type AgentRecord, type LeaseLost } from '@orchard/client'
import type { RoomPeer } from '../../src/connection/types.js'
import { eventually, startTestRelay, type TestRelay } from '@orchard/relay/testing'
import { FakeBroker } from '../harness/fake-broker.js'
import { isError, rawOrchard, type RawOrchard } from './raw-clients.js'

let relay: TestRelay
let host: WorkspaceSession
let broker: FakeBroker
let projectId: string
const sessions: WorkspaceSession[] = []

beforeEach(async () => {
  relay = await startTestRelay({ limits: { hostTimeoutMs: 20_000 } })
  host = await open(relay.ownerCredential, 'host-machine')
  broker = new FakeBroker()
  host.host(broker)
  projectId = host.store.addProject('Pear', '/src/pear').id
  host.store.setProjectHost(projectId, { instanceId: 'host-machine', label: 'ana-desktop' })
  await host.provider.whenPersisted()
})
afterEach(async () => {
  for (const session of sessions.splice(0)) await session.close()
  await relay.close()
})

async function open(credential: string, instanceId: string): Promise<WorkspaceSession> {
  const session = await WorkspaceSession.open({ credential, relayUrl: relay.url, instanceId, label: instanceId })
  sessions.push(session)
  return session
}

async function member(role: 'owner' | 'editor' | 'viewer', name: string) {
  return relay.core.auth.addMember(relay.workspaceId, name, role)
}

async function runningAgent(): Promise<AgentRecord> {
  return host.spawn(projectId, 'alice')
}

describe('instance identity', () => {
  it('[IDENT-1] a viewer connecting with the host\'s instance id is refused (4403 instance-taken), also after a relay restart', async () => {
    const viewer = await member('viewer', 'Vic')
    const impostor = await rawOrchard(relay.url, viewer.credential, 'host-machine', { refusedOk: true })
    // What the impostor sees: ERROR forbidden saying why, then close 4403 (do not retry).
    expect(impostor.frames.find(isError())).toMatchObject({ code: 'forbidden', message: expect.stringContaining('already uses this instance id'), data: { reason: 'instance-taken' } })
    expect(await impostor.waitClosed()).toEqual({ code: 4403, reason: 'instance-taken' })
    expect(impostor.frames.some((frame) => frame.kind === FrameKind.welcome)).toBe(false)
    // The real host is untouched: still connected, still the instance record's member.
    expect(host.status).toBe('connected')
    const room = await relay.core.room(relay.workspaceId)
    expect(room.control.instances.get('host-machine')).toMatchObject({ memberId: host.memberId })
    // Joining with an invite and the host's instance id is refused before the invite is spent.
    const invite = await host.createInvite('viewer', { maxUses: 1 })
    const joiner = await rawOrchard(relay.url, invite, 'host-machine', { refusedOk: true })
    expect(await joiner.waitClosed()).toEqual({ code: 4403, reason: 'instance-taken' })
    const fresh = await rawOrchard(relay.url, invite, 'joiner-own')
    expect(fresh.welcome.role).toBe('viewer')
    fresh.close()
    // Spawning still reaches the real host only.
    const agent = await runningAgent()
    expect(broker.spawned.map((request) => request.agentId)).toEqual([agent.id])

    // The binding is durable: with the host offline and the relay restarted, still refused.
    for (const session of sessions.splice(0)) await session.close()
    const dataDir = relay.dataDir
    await relay.stop()
    relay = await startTestRelay({ dataDir })
    const again = await rawOrchard(relay.url, viewer.credential, 'host-machine', { refusedOk: true })
    expect(await again.waitClosed()).toEqual({ code: 4403, reason: 'instance-taken' })
    const own = await rawOrchard(relay.url, viewer.credential, 'vic-laptop')
    expect(own.welcome.instanceId).toBe('vic-laptop')
    own.close()
  })

  it('[IDENT-1] an editor connecting with another editor\'s instance id is refused, and that editor\'s lease is untouched', async () => {
    const agent = await runningAgent()
    const ann = await open((await member('editor', 'Ann')).credential, 'ann-laptop')
    const lease = await ann.claim(agent.id)
    const ben = await member('editor', 'Ben')
    const impostor = await rawOrchard(relay.url, ben.credential, 'ann-laptop', { refusedOk: true })
    expect(await impostor.waitClosed()).toEqual({ code: 4403, reason: 'instance-taken' })
    expect(ann.leaseOf(agent.id)).toMatchObject({ epoch: lease.epoch, memberId: ann.memberId })
  })

  it('[IDENT-2] frames and RPCs about an instance check member AND instance: a connection with the right id but another member can do nothing', async () => {
    const agent = await runningAgent()
    const ann = await open((await member('editor', 'Ann')).credential, 'ann-laptop')
    const lease = await ann.claim(agent.id)
    const ben = await member('editor', 'Ben')
    const room = await relay.core.room(relay.workspaceId)
    // As if HELLO's check had been bypassed: Ben's connection claiming Ann's and the host's ids.
    const sent: Frame[] = []
    const fake = (instanceId: string): RoomPeer => ({
      flavor: 'orchard',
      connectionId: 99_999,
      identity: { memberId: ben.member.id, name: 'Ben', role: 'owner', instanceId, label: 'fake' },
      sendFrame: (frame) => void sent.push(frame),
      sendRaw: () => {},
      close: () => {},
      setRole: () => {},
      bufferedAmount: 0
    })
    const asAnn = { room, peer: fake('ann-laptop') }
    await expect(relay.core.rpc.handle(asAnn, 'lease.renew', { agentId: agent.id, epoch: lease.epoch })).rejects.toMatchObject({ code: 'stale-epoch' })
    await expect(relay.core.rpc.handle(asAnn, 'lease.release', { agentId: agent.id, epoch: lease.epoch })).resolves.toEqual({ released: false })
    await expect(relay.core.rpc.handle(asAnn, 'lease.claim', { agentId: agent.id })).rejects.toMatchObject({ code: 'conflict' })
    expect(room.leases.current(agent.id)).toMatchObject({ memberId: ann.memberId, epoch: lease.epoch })
    const asHost = { room, peer: fake('host-machine') }
    await expect(relay.core.rpc.handle(asHost, 'agent.exited', { agentId: agent.id, exitCode: 0 })).rejects.toMatchObject({ code: 'forbidden' })
    await expect(relay.core.rpc.handle(asHost, 'terminal.size', { agentId: agent.id, cols: 10, rows: 5 })).rejects.toMatchObject({ code: 'forbidden' })
    room.terminals.handle(asHost.peer, { kind: FrameKind.termOutput, channel: agent.id, generation: 1, offset: 0, data: new Uint8Array([65]) })
    expect(sent.find(isError())).toMatchObject({ code: 'forbidden', message: expect.stringContaining('Only the instance running') })
    expect(room.peerForInstance('host-machine')).not.toBe(asHost.peer)
    expect(room.agents.get(agent.id)?.status).toBe('running')
  })
})

describe('leases', () => {
  it('[LEASE-10] when an agent is stopped, its lease holder hears lease-lost with reason stopped at once', async () => {
    const agent = await runningAgent()
    const ann = await open((await member('editor', 'Ann')).credential, 'ann-laptop')
    await ann.claim(agent.id)
    const lost: LeaseLost[] = []
    ann.on('lease-lost', (event) => lost.push(event))
    await host.stop(agent.id)
    // The TTL is 30 s and renewals every 10 s: only the stop itself can tell Ann this soon.
    await eventually(() => lost.length > 0, { what: 'lease-lost', timeoutMs: 3_000 })
    expect(lost[0]).toMatchObject({ agentId: agent.id, reason: 'stopped' })
  })
})

describe('what a closed socket leaves behind', () => {
  it('[LEAK-1] 200 terminal viewers connect, watch and leave: the relay holds 0 of them', async () => {
    const agent = await runningAgent()
    const viewer = await member('viewer', 'Vic')
    const room = await relay.core.room(relay.workspaceId)
    const viewers: RawOrchard[] = []
    for (let batch = 0; batch < 4; batch++) {
      const opened = await Promise.all(Array.from({ length: 50 }, (_, index) => rawOrchard(relay.url, viewer.credential, `watch-${batch}-${index}`)))
      for (const client of opened) client.send({ kind: FrameKind.termSubscribe, channel: agent.id, generation: 0, offset: 0 })
      viewers.push(...opened)
    }
    await eventually(() => room.terminals.channels.get(agent.id)?.viewers.size === 200, { what: '200 viewers watching' })
    for (const client of viewers) client.close()
    await eventually(() => room.terminals.channels.get(agent.id)?.viewers.size === 0, { what: 'no viewer held', timeoutMs: 10_000 })
  })

  it('[LEAK-2] a host whose socket closes with a spawn pending fails the caller at once with host-offline, not timeout', async () => {
    const ben = await open((await member('editor', 'Ben')).credential, 'ben-laptop')
    broker.delayMs = 60_000
    const started = Date.now()
    const pending = ben.spawn(projectId, 'never').catch((error: unknown) => error)
    await eventually(() => broker.spawned.length === 1, { what: 'the host was asked' })
    sessions.splice(sessions.indexOf(host), 1)
    await host.close()
    const failure = await pending
    // What the caller sees: host-offline naming the host, well before the 20 s host timeout.
    expect(failure).toMatchObject({ code: 'host-offline', message: expect.stringContaining('disconnected before answering') })
    expect(Date.now() - started).toBeLessThan(15_000)
  })
})

describe('invites', () => {
  it('[AUTH-8] an invite made by an owner who was later removed, or demoted, no longer redeems', async () => {
    const second = await open((await member('owner', 'Olga')).credential, 'olga-laptop')
    const removedInvite = await second.createInvite('editor')
    const third = await open((await member('owner', 'Otto')).credential, 'otto-laptop')
    const demotedInvite = await third.createInvite('viewer')
    const stillGood = await host.createInvite('viewer')
    await host.removeMember(second.memberId)
    await host.setMemberRole(third.memberId, 'editor')
    for (const token of [removedInvite, demotedInvite]) {
      const joiner = await rawOrchard(relay.url, token, `joiner-${token.length}-${Math.random()}`, { refusedOk: true })
      // What the joiner sees: why, and what to do.
      expect(joiner.frames.find(isError())).toMatchObject({ code: 'unauthorized', message: expect.stringContaining('Ask a current owner for a new invite') })
      expect(await joiner.waitClosed()).toEqual({ code: 4401, reason: 'invite-creator-removed' })
    }
    const good = await rawOrchard(relay.url, stillGood, 'joiner-good')
    expect(good.welcome.role).toBe('viewer')
    good.close()
  })
})
