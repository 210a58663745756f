/**
 * Issue 9, "errors belong to the connection that caused them" and item 3's client side.
 * A relay whose handler fails on one socket's frame answers that socket alone (real relay,
 * real port); a client sent an update it cannot apply reports it instead of crashing (a
 * hand-driven relay end, since a real relay no longer stores such an update).
 */
import { afterEach, describe, expect, it } from 'vitest'
import { FrameKind, PROTOCOL_VERSION, decodeFrame, encodeFrame, type Frame } from '@orchard/protocol'
import { RelayProvider, WorkspaceSession, type RelayErrorInfo } from '@orchard/client'
import { MemoryPair } from '@orchard/client/testing'
import { eventually, startTestRelay, type TestRelay } from '@orchard/relay/testing'
import * as Y from 'yjs'
import { deepEmbedUpdate } from '@orchard/protocol/testing'
import { awarenessBody, isError, rawOrchard, syncBody } from './raw-clients.js'

let relay: TestRelay | null = null
afterEach(async () => {
  await relay?.close()
  relay = null
})

describe('faults', () => {
  it('[ERRORS-1] a handler that fails on one socket\'s frame answers that socket with ERROR internal and, after three, closes it 4400; the relay and others carry on', async () => {
    relay = await startTestRelay()
    const owner = await WorkspaceSession.open({ credential: relay.ownerCredential, relayUrl: relay.url, label: 'owner', instanceId: 'owner-1' })
    const room = await relay.core.room(relay.workspaceId)
    const culprit = await rawOrchard(relay.url, relay.ownerCredential, 'culprit')
    // A bug in a handler, triggered by this socket's frames only.
    const original = room.terminals.handle.bind(room.terminals)
    room.terminals.handle = (peer, frame, raw) => {
      if (peer.identity.instanceId === 'culprit') throw new Error('simulated handler bug')
      return original(peer, frame, raw)
    }
    culprit.send({ kind: FrameKind.termSubscribe, channel: 'agent-x', generation: 0, offset: 0 })
    // What the culprit sees: ERROR internal, and the socket stays open.
    expect(await culprit.next(isError('internal'), 'ERROR internal')).toMatchObject({ message: expect.stringContaining('it was logged') })
    expect(culprit.closed).toBeNull()
    culprit.send({ kind: FrameKind.termSubscribe, channel: 'agent-x', generation: 0, offset: 0 })
    culprit.send({ kind: FrameKind.termSubscribe, channel: 'agent-x', generation: 0, offset: 0 })
    expect(await culprit.waitClosed()).toEqual({ code: 4400, reason: 'bad-frame' })
    // Everyone else: the owner's edit is stored and read back by a fresh session.
    owner.store.addProject('Still here', '/src/still')
    await owner.provider.whenPersisted()
    const reader = await WorkspaceSession.open({ credential: relay.ownerCredential, relayUrl: relay.url, label: 'reader', instanceId: 'reader-1' })
    await reader.provider.whenSynced()
    expect(reader.store.loadStore().projects.map((project) => project.name)).toEqual(['Still here'])
    await reader.close()
    await owner.close()
  })
})

describe('the presence broadcast timer', () => {
  it('[ERRORS-1] a state that cannot be encoded at broadcast time closes its owner (4400) alone; everyone else still gets the broadcast', async () => {
    relay = await startTestRelay()
    const room = await relay.core.room(relay.workspaceId)
    const watcher = await rawOrchard(relay.url, relay.ownerCredential, 'watcher')
    const culprit = await rawOrchard(relay.url, relay.ownerCredential, 'culprit')
    const bystander = await rawOrchard(relay.url, relay.ownerCredential, 'bystander')
    culprit.send({ kind: FrameKind.awareness, channel: 'workspace', body: awarenessBody([{ clientID: 71, clock: 1, json: '{"cursor":1}' }]) })
    await eventually(() => room.presence.list().some((entry) => entry.clientID === 71), { what: 'the culprit\'s state stored' })
    // Fault injection: input can no longer produce such a state (PRESENCE-6), so make one.
    const states = (room.presence as unknown as { states: Map<number, { state: Record<string, unknown>; clock: number }>; changed: Set<number> })
    const held = states.states.get(71)
    if (!held) throw new Error('state 71 missing')
    held.state = { ...held.state, self: null }
    held.state.self = held.state
    states.changed.add(71)
    bystander.send({ kind: FrameKind.awareness, channel: 'workspace', body: awarenessBody([{ clientID: 72, clock: 1, json: '{"cursor":2}' }]) })
    // What the culprit sees: ERROR internal, then close 4400.
    expect(await culprit.waitClosed()).toEqual({ code: 4400, reason: 'bad-frame' })
    expect(culprit.frames.find(isError('internal'))).toBeDefined()
    await eventually(
      () => watcher.frames.some((frame) => frame.kind === FrameKind.awareness && Buffer.from(frame.body).toString('latin1').includes('"cursor":2')),
      { what: 'the watcher gets the bystander\'s state' }
    )
    expect(bystander.closed).toBeNull()
    watcher.close()
    bystander.close()
  })
})

describe('a client sent an update it cannot apply', () => {
  it('[VALID-5] RelayProvider refuses it and reports an error event (bad-update); the doc stays usable and later updates apply', async () => {
    const pair = new MemoryPair()
    const fromClient: Frame[] = []
    pair.server.onMessage((data) => fromClient.push(decodeFrame(data)))
    const doc = new Y.Doc()
    const provider = new RelayProvider({ transport: () => pair.client, credential: 'unused', instanceId: 'guarded', docs: { workspace: doc } })
    const errors: RelayErrorInfo[] = []
    provider.on('error', (error) => errors.push(error))
    await eventually(() => fromClient.some((frame) => frame.kind === FrameKind.hello), { what: 'HELLO' })
    pair.server.send(
      encodeFrame({
        kind: FrameKind.welcome,
        channel: '',
        workspaceId: 'w',
        memberId: 'm',
        memberName: 'M',
        role: 'owner',
        instanceId: 'guarded',
        limits: { maxFrameBytes: 1 << 20, maxDocBytes: 1 << 26 },
        server: `fake/${PROTOCOL_VERSION}`
      })
    )
    await eventually(() => provider.status === 'connected', { what: 'connected' })
    pair.server.send(encodeFrame({ kind: FrameKind.sync, channel: 'workspace', body: syncBody(2, deepEmbedUpdate(100_000)) }))
    await eventually(() => errors.length > 0, { what: 'an error event' })
    // What the application sees: an error naming the channel and what to do, no exception.
    expect(errors[0]).toMatchObject({ code: 'bad-update', channel: 'workspace', message: expect.stringContaining('could not apply') })
    expect(provider.status).toBe('connected')
    // The doc is intact and can still be written out (a save would have thrown before).
    expect(() => Y.encodeStateAsUpdate(doc)).not.toThrow()
    const good = new Y.Doc()
    good.getMap('plain').set('after', 1)
    pair.server.send(encodeFrame({ kind: FrameKind.sync, channel: 'workspace', body: syncBody(2, Y.encodeStateAsUpdate(good)) }))
    await eventually(() => doc.getMap('plain').get('after') === 1, { what: 'a later update applies' })
    provider.destroy()
  })
})
