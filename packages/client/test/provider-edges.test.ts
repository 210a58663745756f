/**
 * RelayProvider at its edges, against the scripted relay: frames that come before the
 * WELCOME, listeners that tear the provider down mid-step, what a join's HELLO carries, and
 * what a settled request leaves behind. Each test was written for a mutant that survived the
 * other provider tests (TESTING.md, "Surviving mutants").
 */
import { FrameKind, PROTOCOL_VERSION, encodeFrame, errorFrame, eventFrame } from '@orchard/protocol'
import * as encoding from 'lib0/encoding'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { Awareness, applyAwarenessUpdate, encodeAwarenessUpdate } from 'y-protocols/awareness'
import * as syncProtocol from 'y-protocols/sync'
import * as Y from 'yjs'
import { RelayProvider, RelayRequestError, type Transport, type TransportFactory } from '@orchard/client'
import { deepEmbedUpdate } from '@orchard/protocol/testing'
import { ScriptedRelay } from './harness/scripted-relay.js'
import { scriptedProviders } from './harness/scripted-providers.js'

const providers = scriptedProviders({ initialMs: 1, maxMs: 5 })
afterEach(() => {
  vi.useRealTimers()
  providers.destroyAll()
})

const provider = providers.provider

/**
 * The scripted relay's transports, with whatever the provider's message handler throws caught
 * and kept: a throw there would otherwise escape into the transport's delivery, not the test.
 */
function catching(relay: ScriptedRelay, thrown: unknown[]): TransportFactory {
  const factory = relay.transport()
  return () => {
    const transport = factory()
    return {
      send: (data) => transport.send(data),
      close: (code, reason) => transport.close(code, reason),
      onOpen: (listener) => transport.onOpen(listener),
      onClose: (listener) => transport.onClose(listener),
      onMessage: (listener) =>
        transport.onMessage((data) => {
          try {
            listener(data)
          } catch (error) {
            thrown.push(error)
          }
        })
    }
  }
}

const step1Of = (doc: Y.Doc): Uint8Array => {
  const encoder = encoding.createEncoder()
  syncProtocol.writeSyncStep1(encoder, doc)
  return encoding.toUint8Array(encoder)
}

describe('the HELLO of a join', () => {
  it('[SESSION-1] previousCredential rides on the invite\'s HELLO only: once the WELCOME earned a credential, reconnects send that one and no previous', async () => {
    const relay = new ScriptedRelay({ credential: 'orc_m.ws-1.member-9.earned' })
    const a = provider(relay, { credential: 'orc_i.invite-token', name: 'Ben', previousCredential: 'orc_m.ws-1.member-3.old' })
    await a.whenSynced()
    expect(relay.last.hello).toMatchObject({ credential: 'orc_i.invite-token', previousCredential: 'orc_m.ws-1.member-3.old' })
    relay.last.cut()
    await vi.waitFor(() => expect(relay.connections).toHaveLength(2))
    await a.whenSynced()
    expect(relay.last.hello?.credential).toBe('orc_m.ws-1.member-9.earned')
    expect(relay.last.hello).not.toHaveProperty('previousCredential')
  })

  it('[SESSION-2] an empty label, name or previousCredential counts as none: the HELLO leaves them out', async () => {
    const relay = new ScriptedRelay()
    const a = provider(relay, { label: '', name: '', previousCredential: '' })
    await a.whenSynced()
    expect(Object.keys(relay.last.hello ?? {}).sort()).toEqual(['channel', 'client', 'credential', 'instanceId', 'kind', 'protocol'])
  })

  it('[SESSION-1] without a previousCredential the HELLO has none', async () => {
    const relay = new ScriptedRelay()
    const a = provider(relay, { credential: 'orc_i.invite-token', name: 'Ben' })
    await a.whenSynced()
    expect(relay.last.hello).not.toHaveProperty('previousCredential')
  })
})

describe('before the WELCOME', () => {
  it('[PROVIDER-1] a sync step 1 before the WELCOME is not answered and counts nothing; an event does not make up a welcome', async () => {
    const relay = new ScriptedRelay()
    relay.answerHello = false
    const a = provider(relay)
    const events: unknown[] = []
    a.on('event', (event) => events.push(event))
    const connection = relay.last
    await relay.until(() => connection.received.length === 1, 'the HELLO')
    connection.send({ kind: FrameKind.sync, channel: 'workspace', body: step1Of(relay.docs.workspace!) })
    connection.send(eventFrame({ type: 'role-changed', role: 'viewer' }))
    await vi.waitFor(() => expect(events).toHaveLength(1))
    a.sendFrame(eventFrame({ type: 'too-early' })) // the socket is open, but not yet welcomed: dropped
    await new Promise<void>((resolve) => setImmediate(resolve)) // the in-memory link delivers within the turn
    expect([a.status, a.welcome, a.sentUpdates()]).toEqual(['connecting', null, 0])
    expect(connection.received.map((frame) => frame.kind)).toEqual([FrameKind.hello])
  })
})

describe('listeners that tear down mid-step', () => {
  it('[PROVIDER-7] destroy() from a welcome listener: no throw, and nothing more goes out on that connection', async () => {
    const relay = new ScriptedRelay()
    const awareness = new Awareness(new Y.Doc())
    awareness.setLocalStateField('viewing', 'p1')
    const thrown: unknown[] = []
    const a = provider(relay, { awareness, transport: catching(relay, thrown) })
    await new Promise<void>((resolve) =>
      a.on('welcome', () => {
        a.destroy()
        resolve()
      })
    )
    const connection = relay.last
    await relay.until(() => connection.closed !== null, 'the close')
    expect(connection.received.map((frame) => frame.kind)).toEqual([FrameKind.hello])
    expect([thrown, a.status]).toEqual([[], 'disconnected'])
  })
})

describe('presence', () => {
  it('[PROVIDER-5] presence frames reach a provider without an awareness harmlessly; a local state cleared goes out as a removal', async () => {
    const relay = new ScriptedRelay()
    const thrown: unknown[] = []
    const bare = provider(relay, { instanceId: 'bare', transport: catching(relay, thrown) })
    const awareness = new Awareness(new Y.Doc())
    awareness.setLocalStateField('viewing', 'p1')
    const a = provider(relay, { awareness })
    await Promise.all([bare.whenSynced(), a.whenSynced()])
    const [bareConnection, aConnection] = relay.connections
    // The relay forwards a's presence to the bare provider, which has nowhere to put it.
    await relay.until(() => aConnection!.framesOf(FrameKind.awareness, 'workspace').length === 1, 'a announces itself')
    bareConnection!.send({ kind: FrameKind.awareness, channel: 'workspace', body: encodeAwarenessUpdate(awareness, [awareness.clientID]) })
    await bareConnection!.request('ping', {})
    expect([thrown, bare.status]).toEqual([[], 'connected'])
    // a leaves: its removal travels (a state of null), so the others drop it at once.
    awareness.setLocalState(null)
    await relay.until(() => aConnection!.framesOf(FrameKind.awareness, 'workspace').length === 2, 'the removal')
    expect(aConnection!.framesOf(FrameKind.awareness)).toHaveLength(2) // both on the workspace channel
    const seen = new Awareness(new Y.Doc())
    const [announced, removal] = aConnection!.framesOf(FrameKind.awareness)
    applyAwarenessUpdate(seen, announced!.body, 'relay') // the announcement on connect carries a's own state
    expect(seen.getStates().get(awareness.clientID)).toEqual({ viewing: 'p1' })
    applyAwarenessUpdate(seen, removal!.body, 'relay')
    expect(seen.getStates().has(awareness.clientID)).toBe(false)
  })
})

describe('errors and requests', () => {
  it('[PROVIDER-2] an ERROR without data is reported without a data key', async () => {
    const { relay, errors } = await providers.synced()
    relay.last.send(errorFrame('rate-limited', 'Slow down: too many updates.'))
    await vi.waitFor(() => expect(errors).toHaveLength(1))
    expect(errors[0]).toStrictEqual({ code: 'rate-limited', message: 'Slow down: too many updates.', channel: '' })
  })

  it('[PROVIDER-4] a request the relay answered leaves no timer behind (its timeout is cleared), whether it resolved or was refused', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    const relay = new ScriptedRelay()
    relay.methods['member.list'] = () => ({ result: [] })
    relay.methods['invite.create'] = () => ({ code: 'forbidden', message: 'Only owners invite.' })
    const a = provider(relay)
    await vi.waitFor(() => expect(a.status).toBe('connected'))
    expect(vi.getTimerCount()).toBe(0)
    await expect(a.request('member.list')).resolves.toEqual([])
    expect(vi.getTimerCount()).toBe(0)
    expect(relay.last.framesOf(FrameKind.rpcRequest, '')).toHaveLength(1) // requests to the relay itself travel on channel ''
    await expect(a.request('invite.create')).rejects.toMatchObject({ code: 'forbidden' })
    expect(vi.getTimerCount()).toBe(0)
    // In flight when the connection closes: refused, and its timeout cleared too.
    relay.methods['slow'] = () => undefined
    const inFlight = a.request('slow')
    await relay.until(() => relay.last.framesOf(FrameKind.rpcRequest).length === 3, 'the slow request')
    expect(vi.getTimerCount()).toBe(1)
    a.disconnect()
    await expect(inFlight).rejects.toMatchObject({ code: 'disconnected' })
    expect(vi.getTimerCount()).toBe(0)
  })
})

describe('stops and drops in awkward order', () => {
  it('[PROVIDER-2] a stop on a connection opened during a backoff also ends the retry that was pending: nothing reconnects', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    vi.spyOn(Math, 'random').mockReturnValue(0.5)
    try {
      const relay = new ScriptedRelay()
      const a = provider(relay, { backoff: { initialMs: 1_000, maxMs: 1_000 } })
      await vi.waitFor(() => expect(a.status).toBe('connected'))
      relay.last.cut() // a retry is now pending, 500 ms out
      relay.refusal = { code: 'unauthorized', message: 'This credential was revoked.', closeCode: 4401, closeReason: 'unauthorized' }
      a.connect() // opens at once; the relay refuses it
      await vi.waitFor(() => expect(a.status).toBe('stopped'))
      await vi.advanceTimersByTimeAsync(60_000)
      expect([relay.connections.length, a.status, a.stopReason?.message]).toEqual([2, 'stopped', 'This credential was revoked.'])
    } finally {
      vi.restoreAllMocks()
    }
  })

  it('[PROVIDER-1] a provider given no backoff option at all retries on the default schedule (within 250 ms at first)', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    const relay = new ScriptedRelay()
    const a = provider(relay, { backoff: undefined })
    await vi.waitFor(() => expect(a.status).toBe('connected'))
    relay.last.cut()
    await vi.advanceTimersByTimeAsync(250)
    expect(relay.connections).toHaveLength(2)
  })

  it('[PROVIDER-2] a 44xx close with neither an ERROR nor a reason still says what happened', async () => {
    const { relay, a } = await providers.synced()
    relay.last.close(4403, '')
    await vi.waitFor(() => expect(a.status).toBe('stopped'))
    expect(a.stopReason).toEqual({ code: 4403, reason: '', message: 'The relay closed the connection (code 4403) without saying why.' })
  })

  it('[PROVIDER-4] a request made while the connection is closing (from a presence listener during the drop) is refused at once, not left to time out', async () => {
    const relay = new ScriptedRelay()
    relay.methods['slow'] = () => undefined
    const awarenessA = new Awareness(new Y.Doc())
    const awarenessB = new Awareness(new Y.Doc())
    const a = provider(relay, { awareness: awarenessA, requestTimeoutMs: 60_000 })
    provider(relay, { instanceId: 'inst-b', awareness: awarenessB })
    awarenessB.setLocalStateField('viewing', 'pB')
    await vi.waitFor(() => expect(awarenessA.getStates().has(awarenessB.clientID)).toBe(true))
    const outcomes: string[] = []
    awarenessA.on('change', ({ removed }: { removed: number[] }) => {
      if (removed.length > 0) a.request('slow').then(() => outcomes.push('resolved'), (error: RelayRequestError) => outcomes.push(`${error.code}: ${error.message}`))
    })
    relay.connections[0]!.cut()
    await new Promise<void>((resolve) => setImmediate(resolve))
    expect(outcomes).toEqual(['disconnected: Not connected to the relay, so "slow" was not sent. Try again when connected.'])
  })

  it('[PROVIDER-3] an edit still queued when the link drops is not counted as sent: persisted at once, and the next step 2 carries it', async () => {
    const { relay, a } = await providers.synced()
    await a.whenPersisted()
    ;(a.docs.workspace as Y.Doc).getMap('m').set('queued', 1)
    expect(a.persisted).toBe(false)
    relay.last.cut()
    expect(a.persisted).toBe(true)
    await vi.waitFor(() => expect(relay.docs.workspace!.getMap('m').get('queued')).toBe(1))
  })

  it('[PROVIDER-1] a repeated WELCOME on the same connection starts the sync over: not synced until the relay\'s step 2 again', async () => {
    const { relay, a } = await providers.synced()
    const synced: string[] = []
    a.on('synced', (channel) => synced.push(channel))
    const seenAtWelcome: boolean[] = []
    a.on('welcome', () => seenAtWelcome.push(a.synced))
    const statuses: string[] = []
    a.on('status', (status) => statuses.push(status))
    relay.last.send({ kind: FrameKind.welcome, channel: '', ...relay.welcomeFor(relay.last.hello!) })
    await vi.waitFor(() => expect(synced.sort()).toEqual(['control', 'workspace']))
    // Still connected all along: no status event says it again.
    expect([seenAtWelcome, a.synced, statuses]).toEqual([[false], true, []])
  })
})

describe('VALID-5: updates that cannot be written back', () => {
  it('[VALID-5] an update that applies but could not be saved again (an embed nested 100 000 deep) is refused as bad-update before it touches the doc', async () => {
    const { relay, a, errors } = await providers.synced()
    const encoder = encoding.createEncoder()
    syncProtocol.writeUpdate(encoder, deepEmbedUpdate(100_000))
    relay.last.send({ kind: FrameKind.sync, channel: 'workspace', body: encoding.toUint8Array(encoder) })
    await vi.waitFor(() => expect(errors).toHaveLength(1))
    expect(errors[0]).toMatchObject({ code: 'bad-update', channel: 'workspace' })
    const doc = a.docs.workspace as Y.Doc
    expect(Y.getState(doc.store, 4242)).toBe(0)
    expect(() => Y.encodeStateAsUpdate(doc)).not.toThrow()
  })
})

describe('waiting', () => {
  /** lib0 observables keep their listeners per event name in `_observers`. */
  const listeners = (a: RelayProvider, event: string): number => (a as unknown as { _observers: Map<string, Set<unknown>> })._observers.get(event)?.size ?? 0

  const step2 = (doc: Y.Doc): Uint8Array => {
    const encoder = encoding.createEncoder()
    syncProtocol.writeSyncStep2(encoder, doc)
    return encoding.toUint8Array(encoder)
  }

  it('[PROVIDER-1] whenSynced waits for the last doc: a doc the relay has not answered yet keeps it waiting, and a plain update on it does not count as its sync', async () => {
    const relay = new ScriptedRelay() // knows workspace and control, not notes: it never answers the notes step 1
    const a = provider(relay, { docs: { workspace: new Y.Doc(), control: new Y.Doc(), notes: new Y.Doc() } })
    const synced: string[] = []
    a.on('synced', (channel) => synced.push(channel))
    let resolved = false
    const whenSynced = a.whenSynced().then(() => (resolved = true))
    await vi.waitFor(() => expect(synced.sort()).toEqual(['control', 'workspace']))
    const notes = new Y.Doc()
    notes.getText('t').insert(0, 'hi')
    const update = encoding.createEncoder()
    syncProtocol.writeUpdate(update, Y.encodeStateAsUpdate(notes))
    relay.last.send({ kind: FrameKind.sync, channel: 'notes', body: encoding.toUint8Array(update) })
    await relay.last.request('ping', {}) // answered after the update was handled
    expect([resolved, a.synced, synced.length]).toEqual([false, false, 2])
    expect((a.docs.notes as Y.Doc).getText('t').toString()).toBe('hi')
    relay.last.send({ kind: FrameKind.sync, channel: 'notes', body: step2(notes) })
    await whenSynced
    expect([a.synced, synced.sort()]).toEqual([true, ['control', 'notes', 'workspace']])
  })

  it('[PROVIDER-3] whenPersisted() and whenSynced() take their listener away once they resolve', async () => {
    const relay = new ScriptedRelay()
    const a = provider(relay, { manual: true })
    const before = [listeners(a, 'synced'), listeners(a, 'persisted')]
    const synced = a.whenSynced()
    expect(listeners(a, 'synced')).toBe(before[0]! + 1)
    a.connect()
    await synced
    expect(listeners(a, 'synced')).toBe(before[0])
    relay.holdAcks = true
    ;(a.docs.workspace as Y.Doc).getMap('m').set('k', 1)
    const persisted = a.whenPersisted()
    expect(listeners(a, 'persisted')).toBe(before[1]! + 1)
    await relay.until(() => (relay.last.updates.get('workspace') ?? 0) === 2, 'the update')
    relay.last.releaseAcks()
    await persisted
    expect(listeners(a, 'persisted')).toBe(before[1])
  })

  it('[PROVIDER-6] a burst of edits schedules one flush for its turn, not one per edit', async () => {
    const { a } = await providers.synced()
    await a.whenPersisted()
    const immediates = () => process.getActiveResourcesInfo().filter((type) => type === 'Immediate').length
    const before = immediates()
    for (let n = 0; n < 50; n++) (a.docs.workspace as Y.Doc).getMap('m').set(`k${n}`, n)
    expect(immediates()).toBe(before + 1)
    await a.whenPersisted()
  })
})

describe('events', () => {
  it('[SESSION-3] only a role-changed event changes the role: another event that carries a role does not', async () => {
    const { relay, a } = await providers.synced()
    const events: unknown[] = []
    a.on('event', (event) => events.push(event))
    relay.last.send(eventFrame({ type: 'member-joined', role: 'viewer' }))
    await vi.waitFor(() => expect(events).toHaveLength(1))
    expect(a.welcome?.role).toBe('owner')
  })
})

describe('what listeners and transports see', () => {
  it('[PROVIDER-3] the persisted event carries no arguments', async () => {
    const { a } = await providers.synced()
    await a.whenPersisted()
    const calls: unknown[][] = []
    a.on('persisted', (...args: unknown[]) => calls.push(args))
    ;(a.docs.workspace as Y.Doc).getMap('m').set('k', 1)
    await vi.waitFor(() => expect(calls).toEqual([[]]))
  })

  it('[PROVIDER-7] destroy() drops the provider\'s own listeners too: nothing the app registered is kept alive by it', async () => {
    const relay = new ScriptedRelay()
    const a = provider(relay)
    a.on('status', () => undefined)
    a.on('error', () => undefined)
    await a.whenSynced()
    a.destroy()
    expect((a as unknown as { _observers: Map<string, Set<unknown>> })._observers.size).toBe(0)
  })

  it('[INPUT-2] only input and resize frames are numbered: resizes alone count, subscriptions never', async () => {
    const { a } = await providers.synced()
    a.sendFrame({ kind: FrameKind.termResize, channel: 'agent-9', epoch: 1, cols: 80, rows: 24 })
    a.sendFrame({ kind: FrameKind.termResize, channel: 'agent-9', epoch: 1, cols: 100, rows: 30 })
    a.sendFrame({ kind: FrameKind.termResize, channel: 'agent-9', epoch: 1, cols: 120, rows: 40 })
    a.sendFrame({ kind: FrameKind.termSubscribe, channel: 'agent-9', generation: 0, offset: 0 })
    expect(a.sentInputs('agent-9')).toBe(3)
  })

  it('[TRANSPORT-2] a transport that still fires open, or delivers a frame, after the provider closed it is not listened to', () => {
    const sent: Uint8Array[] = []
    const listeners: { open?: () => void; message?: (data: Uint8Array) => void } = {}
    const lazy: Transport = {
      send: (data) => sent.push(data),
      close: () => undefined, // a transport whose close takes effect later
      onOpen: (listener) => (listeners.open = listener),
      onMessage: (listener) => (listeners.message = listener),
      onClose: () => undefined
    }
    const relay = new ScriptedRelay()
    const a = provider(relay, { transport: () => lazy, manual: true })
    a.connect()
    a.disconnect()
    listeners.open?.()
    listeners.message?.(encodeFrame({ kind: FrameKind.welcome, channel: '', ...relay.welcomeFor({ kind: FrameKind.hello, channel: '', protocol: PROTOCOL_VERSION, credential: 'c', instanceId: 'inst-a' }) }))
    expect([sent, a.status, a.welcome]).toEqual([[], 'disconnected', null])
  })
})
