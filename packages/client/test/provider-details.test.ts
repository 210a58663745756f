/**
 * What else RelayProvider promises the layers above it, against the scripted relay: what its
 * HELLO says (and the credential a join earned, used on every reconnect), when it counts a doc
 * as synced, the input numbering terminal streams rely on, no echo of what the relay sent, and
 * a bad update refused without a crash.
 */
import { FrameKind, PROTOCOL_VERSION } from '@orchard/protocol'
import * as encoding from 'lib0/encoding'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { Awareness } from 'y-protocols/awareness'
import * as syncProtocol from 'y-protocols/sync'
import * as Y from 'yjs'
import { ScriptedRelay } from './harness/scripted-relay.js'
import { scriptedProviders } from './harness/scripted-providers.js'

const providers = scriptedProviders({ initialMs: 1, maxMs: 5 })
afterEach(() => {
  providers.destroyAll()
})

const provider = providers.provider

describe('HELLO and the credential', () => {
  it('[SESSION-1] the HELLO carries the protocol, credential, instance, label and name; a WELCOME\'s credential replaces an invite for every reconnect', async () => {
    const relay = new ScriptedRelay({ credential: 'orc_m.ws-1.member-9.earned' })
    const a = provider(relay, { credential: 'orc_i.invite-token', name: 'Ben', label: 'ben-laptop' })
    await a.whenSynced()
    expect(relay.last.hello).toEqual({
      kind: FrameKind.hello,
      channel: '',
      protocol: PROTOCOL_VERSION,
      credential: 'orc_i.invite-token',
      instanceId: 'inst-a',
      label: 'ben-laptop',
      name: 'Ben',
      client: 'orchard-client/0.1.0'
    })
    expect([a.instanceId, a.label]).toEqual(['inst-a', 'ben-laptop'])
    relay.last.cut()
    await vi.waitFor(() => expect(relay.connections).toHaveLength(2))
    await a.whenSynced()
    expect(relay.last.hello?.credential).toBe('orc_m.ws-1.member-9.earned')
  })

  it('[SESSION-2] without a label or name the HELLO has neither; a WELCOME without a credential keeps the one given', async () => {
    const { relay, a } = await providers.synced()
    expect(relay.last.hello).not.toHaveProperty('label')
    expect(relay.last.hello).not.toHaveProperty('name')
    expect(a.label).toBe('')
    expect(a.welcome).toMatchObject({ workspaceId: 'ws-1', memberId: 'member-1', role: 'owner', instanceId: 'inst-a' })
    relay.last.cut()
    await vi.waitFor(() => expect(relay.connections).toHaveLength(2))
    await a.whenSynced()
    expect(relay.last.hello?.credential).toBe('orc_m.ws-1.member-1.secret')
  })
})

describe('synced', () => {
  it('[PROVIDER-1] a doc counts as synced at the relay\'s step 2 (once per connection, per channel); whenSynced waits for every doc', async () => {
    const relay = new ScriptedRelay()
    relay.holdAcks = false
    const a = provider(relay, { manual: true })
    expect(a.synced).toBe(false)
    const synced: string[] = []
    a.on('synced', (channel) => synced.push(channel))
    let resolved = false
    const whenSynced = a.whenSynced().then(() => (resolved = true))
    a.connect()
    await whenSynced
    expect(resolved).toBe(true)
    expect([...synced].sort()).toEqual(['control', 'workspace'])
    // Later updates (not step 2) do not say synced again; an already synced provider resolves at once.
    relay.docs.workspace!.getMap('m').set('x', 1)
    await vi.waitFor(() => expect((a.docs.workspace as Y.Doc).getMap('m').get('x')).toBe(1))
    expect(synced).toHaveLength(2)
    // Nor does a second step 2 on the same connection.
    const step2 = encoding.createEncoder()
    syncProtocol.writeSyncStep2(step2, relay.docs.workspace!)
    relay.last.send({ kind: FrameKind.sync, channel: 'workspace', body: encoding.toUint8Array(step2) })
    await relay.last.request('ping', {})
    expect(synced).toHaveLength(2)
    await a.whenSynced()
    // A reconnect syncs again.
    relay.last.cut()
    expect(a.synced).toBe(false)
    await a.whenSynced()
    expect(synced).toHaveLength(4)
  })

  it('[PROVIDER-1] readOnlyChannels names which docs are never sent up (control by default)', async () => {
    const relay = new ScriptedRelay()
    const a = provider(relay, { readOnlyChannels: ['workspace'] })
    await a.whenSynced()
    ;(a.docs.workspace as Y.Doc).getMap('m').set('local', 1)
    ;(a.docs.control as Y.Doc).getMap('m').set('local', 2)
    await a.whenPersisted()
    expect(relay.docs.workspace!.getMap('m').get('local')).toBeUndefined()
    expect(relay.docs.control!.getMap('m').get('local')).toBe(2)
  })
})

describe('no echo', () => {
  it('[PROVIDER-6] what the relay sent (doc updates, presence) is applied and never sent back', async () => {
    const relay = new ScriptedRelay()
    const awarenessA = new Awareness(new Y.Doc())
    const awarenessB = new Awareness(new Y.Doc())
    const a = provider(relay, { awareness: awarenessA })
    const b = provider(relay, { instanceId: 'inst-b', awareness: awarenessB })
    await Promise.all([a.whenSynced(), b.whenSynced()])
    await a.whenPersisted()
    const aConnection = relay.connections[0]!
    const framesBefore = aConnection.received.length
    relay.docs.workspace!.getMap('m').set('from-relay', true)
    awarenessB.setLocalStateField('viewing', 'p')
    await vi.waitFor(() => expect(awarenessA.getStates().get(awarenessB.clientID)).toEqual({ viewing: 'p' }))
    await vi.waitFor(() => expect((a.docs.workspace as Y.Doc).getMap('m').get('from-relay')).toBe(true))
    // A round trip later, a has sent nothing back.
    await aConnection.request('ping', {})
    expect(aConnection.received.slice(framesBefore).map((frame) => frame.kind)).toEqual([FrameKind.rpcResponse])
    expect(a.sentUpdates()).toBe(1) // only its step 2 answer at connect
  })
})

describe('input numbering', () => {
  it('[INPUT-2] sentInputs counts the input and resize frames sent per channel on this connection; a reconnect starts again', async () => {
    const { relay, a } = await providers.synced()
    a.sendFrame({ kind: FrameKind.termInput, channel: 'agent-1', epoch: 1, data: new Uint8Array([1]) })
    a.sendFrame({ kind: FrameKind.termResize, channel: 'agent-1', epoch: 1, cols: 80, rows: 24 })
    a.sendFrame({ kind: FrameKind.termInput, channel: 'agent-2', epoch: 1, data: new Uint8Array([2]) })
    a.sendFrame({ kind: FrameKind.termSubscribe, channel: 'agent-1', generation: 0, offset: 0 })
    expect([a.sentInputs('agent-1'), a.sentInputs('agent-2'), a.sentInputs('agent-3')]).toEqual([2, 1, 0])
    await relay.until(() => relay.last.framesOf(FrameKind.termSubscribe).length === 1, 'the frames')
    expect(relay.last.framesOf(FrameKind.termInput).map((frame) => frame.channel)).toEqual(['agent-1', 'agent-2'])
    relay.last.cut()
    expect(a.sentInputs('agent-1')).toBe(0)
    // Not sent while disconnected, so not counted.
    a.sendFrame({ kind: FrameKind.termInput, channel: 'agent-1', epoch: 1, data: new Uint8Array([3]) })
    expect(a.sentInputs('agent-1')).toBe(0)
  })
})

describe('VALID-5 on the client', () => {
  it('[VALID-5] an update the client cannot apply is reported as bad-update naming the channel; the provider stays connected and later updates apply', async () => {
    const { relay, a, errors } = await providers.synced()
    const encoder = encoding.createEncoder()
    encoding.writeVarUint(encoder, syncProtocol.messageYjsUpdate)
    encoding.writeVarUint8Array(encoder, new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x01]))
    relay.last.send({ kind: FrameKind.sync, channel: 'workspace', body: encoding.toUint8Array(encoder) })
    relay.last.send({ kind: FrameKind.sync, channel: 'no-such-doc', body: encoding.toUint8Array(encoder) })
    await vi.waitFor(() => expect(errors).toHaveLength(1))
    expect(errors[0]).toMatchObject({ code: 'bad-update', channel: 'workspace', message: expect.stringContaining('The relay sent a "workspace" update this client could not apply') })
    relay.docs.workspace!.getMap('m').set('after', 1)
    await vi.waitFor(() => expect((a.docs.workspace as Y.Doc).getMap('m').get('after')).toBe(1))
    expect(a.status).toBe('connected')
    expect(errors).toHaveLength(1)
  })
})

describe('reconnect edges', () => {
  it('[PROVIDER-1] connect() during a backoff opens at once, and the pending retry then opens nothing more', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    try {
      const relay = new ScriptedRelay()
      const a = provider(relay, { backoff: { initialMs: 1_000, maxMs: 1_000 } })
      await vi.waitFor(() => expect(a.status).toBe('connected'))
      relay.last.cut()
      a.connect()
      expect(relay.connections).toHaveLength(2)
      await vi.advanceTimersByTimeAsync(5_000)
      expect(relay.connections).toHaveLength(2)
      expect(a.status).toBe('connected')
    } finally {
      vi.useRealTimers()
    }
  })

  it('[PROVIDER-5] an instance with no presence of its own announces none on connect', async () => {
    const relay = new ScriptedRelay()
    const awareness = new Awareness(new Y.Doc())
    awareness.setLocalState(null)
    const a = provider(relay, { awareness })
    await a.whenSynced()
    await relay.last.request('ping', {})
    expect(relay.last.framesOf(FrameKind.awareness)).toEqual([])
  })
})
