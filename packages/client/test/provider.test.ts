/**
 * RelayProvider's own rules (PROVIDER-1..6), against a scripted relay on the in-memory
 * transport: the test decides when the link drops, how the relay closes, when it ACKs and
 * what it answers, and reads every frame the client sent. (The relay's tests drive the same
 * provider against the real relay core; these say what the client itself must do.)
 */
import { FrameKind, ackFrame, errorFrame, eventFrame, type Frame, type OrchardEvent } from '@orchard/protocol'
import * as decoding from 'lib0/decoding'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { Awareness } from 'y-protocols/awareness'
import * as syncProtocol from 'y-protocols/sync'
import * as Y from 'yjs'
import { RelayProvider, RelayRequestError, type ProviderStatus, type RelayErrorInfo, type StopReason } from '@orchard/client'
import { ScriptedRelay, type RelayConnection } from './harness/scripted-relay.js'
import { scriptedProviders } from './harness/scripted-providers.js'

const providers = scriptedProviders({ initialMs: 5, maxMs: 20 })
afterEach(() => {
  vi.useRealTimers()
  vi.restoreAllMocks()
  providers.destroyAll()
})

const provider = providers.provider

const workspace = (p: RelayProvider) => p.docs.workspace as Y.Doc

/** The sync messages a connection received from the client on a channel, by type. */
function syncMessages(connection: RelayConnection, channel = 'workspace'): Array<{ type: number; payload: Uint8Array }> {
  return connection.framesOf(FrameKind.sync, channel).map((frame) => {
    const decoder = decoding.createDecoder(frame.body)
    const type = decoding.readVarUint(decoder)
    return { type, payload: decoding.readVarUint8Array(decoder) }
  })
}

const updatesSent = (connection: RelayConnection, channel = 'workspace') =>
  syncMessages(connection, channel).filter((message) => message.type !== syncProtocol.messageYjsSyncStep1)

const turn = () => new Promise<void>((resolve) => setImmediate(resolve))

describe('PROVIDER-1: reconnect and re-sync', () => {
  it('[PROVIDER-1] after a drop it reconnects on a fresh transport, sends its state vector, and sends back only what the relay lacks: offline edits on both sides merge', async () => {
    const relay = new ScriptedRelay()
    const a = provider(relay)
    const statuses: ProviderStatus[] = []
    a.on('status', (status) => statuses.push(status))
    await a.whenSynced()
    workspace(a).getMap('m').set('before', 1)
    await a.whenPersisted()
    const first = relay.last
    const relayAtCut = Y.encodeStateAsUpdate(relay.docs.workspace!)
    const clockAtCut = Y.getState(workspace(a).store, workspace(a).clientID)
    first.cut()
    expect(a.status).toBe('disconnected')
    expect(a.synced).toBe(false)
    // Offline: this side edits, and the relay gets an edit from someone else.
    workspace(a).getMap('m').set('offline-a', 'A')
    relay.docs.workspace!.getMap('m').set('online-b', 'B')
    await vi.waitFor(() => expect(a.status === 'connected' && a.synced).toBe(true), { timeout: 5_000 })
    const second = relay.last
    expect(second).not.toBe(first)
    expect(statuses).toEqual(['connected', 'disconnected', 'connecting', 'connected'])
    // The new connection opens with a state vector: the relay answers with just what this side lacks.
    const [step1] = syncMessages(second)
    expect(step1?.type).toBe(syncProtocol.messageYjsSyncStep1)
    // Its answer to the relay's step 1 carries the offline edit and not what the relay already had.
    await relay.until(() => updatesSent(second).length === 1, 'the client\'s step 2')
    const [answer] = updatesSent(second)
    expect(answer?.type).toBe(syncProtocol.messageYjsSyncStep2)
    const { structs } = Y.decodeUpdate(answer!.payload)
    expect(structs.length).toBeGreaterThan(0)
    for (const struct of structs) expect([struct.id.client, struct.id.clock >= clockAtCut]).toEqual([workspace(a).clientID, true])
    const carried = new Y.Doc()
    Y.applyUpdate(carried, relayAtCut)
    Y.applyUpdate(carried, answer!.payload)
    expect(carried.getMap('m').toJSON()).toEqual({ before: 1, 'offline-a': 'A' })
    await a.whenPersisted()
    expect(relay.docs.workspace!.getMap('m').toJSON()).toEqual({ before: 1, 'offline-a': 'A', 'online-b': 'B' })
    expect(workspace(a).getMap('m').toJSON()).toEqual({ before: 1, 'offline-a': 'A', 'online-b': 'B' })
    // The count restarts with the connection: the relay numbers this connection's frames from 1.
    expect([a.sentUpdates(), a.ackedUpdates()]).toEqual([1, 1])
  })

  it('[PROVIDER-1] a read-only channel (control) is synced down but never sent up, not even in answer to the relay\'s step 1', async () => {
    const relay = new ScriptedRelay()
    relay.docs.control!.getMap('agents').set('x', { id: 'x' })
    const a = provider(relay)
    await a.whenSynced()
    expect((a.docs.control as Y.Doc).getMap('agents').get('x')).toEqual({ id: 'x' })
    ;(a.docs.control as Y.Doc).getMap('agents').set('local', { id: 'local' })
    workspace(a).getMap('m').set('k', 1)
    await a.whenPersisted()
    expect(updatesSent(relay.last, 'control')).toEqual([])
    expect(updatesSent(relay.last, 'workspace')).toHaveLength(2) // the step 2 answer and the edit
  })

  it('[PROVIDER-1] backoff is full-jitter exponential: attempt n waits random × min(max, initial × 2^n), and a WELCOME starts it over', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] })
    vi.spyOn(Math, 'random').mockReturnValue(0.5)
    const relay = new ScriptedRelay()
    relay.answerHello = false
    const opened: number[] = []
    const factory = relay.transport()
    const start = Date.now()
    const a = provider(relay, { transport: () => (opened.push(Date.now() - start), factory()), backoff: { initialMs: 100, maxMs: 1_000 } })
    expect(a.status).toBe('connecting')
    // Each attempt dies before the relay answers: waits of 0.5 × 100, 200, 400, 800, then the 1000 cap.
    const waits = [50, 100, 200, 400, 500, 500]
    for (const wait of waits) {
      relay.last.cut()
      const attempts = relay.connections.length
      await vi.advanceTimersByTimeAsync(wait - 1)
      expect(relay.connections.length).toBe(attempts)
      await vi.advanceTimersByTimeAsync(1)
      expect(relay.connections.length).toBe(attempts + 1)
    }
    expect(opened.slice(1).map((at, n) => at - (opened[n] as number))).toEqual(waits)
    // The next attempt gets through: the drop after it waits a first attempt's time again.
    relay.answerHello = true
    relay.last.cut()
    await vi.advanceTimersByTimeAsync(500)
    await vi.waitFor(() => expect(a.status).toBe('connected'))
    relay.last.cut()
    const attempts = relay.connections.length
    await vi.advanceTimersByTimeAsync(49)
    expect(relay.connections.length).toBe(attempts)
    await vi.advanceTimersByTimeAsync(1)
    expect(relay.connections.length).toBe(attempts + 1)
  })

  it('[PROVIDER-1] the default backoff starts at 250 ms and is capped at 10 s', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    vi.spyOn(Math, 'random').mockReturnValue(0.999)
    const relay = new ScriptedRelay()
    relay.answerHello = false
    provider(relay, { backoff: {} })
    const waitFor = async (upTo: number) => {
      relay.last.cut()
      const attempts = relay.connections.length
      await vi.advanceTimersByTimeAsync(Math.floor(upTo * 0.999) - 1)
      expect(relay.connections.length).toBe(attempts)
      await vi.advanceTimersByTimeAsync(1)
      expect(relay.connections.length).toBe(attempts + 1)
    }
    await waitFor(250)
    for (let attempt = 1; attempt < 6; attempt++) await waitFor(Math.min(10_000, 250 * 2 ** attempt))
    await waitFor(10_000)
  })

  it('[PROVIDER-1] disconnect() stops reconnecting and ignores the old socket\'s late close; connect() opens at once, and only once', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    const relay = new ScriptedRelay()
    const a = provider(relay)
    await vi.waitFor(() => expect(a.status).toBe('connected'))
    const statuses: ProviderStatus[] = []
    a.on('status', (status) => statuses.push(status))
    relay.last.cut()
    expect(a.status).toBe('disconnected')
    a.disconnect() // while a reconnect is scheduled: it must not happen
    await vi.advanceTimersByTimeAsync(60_000)
    expect(relay.connections).toHaveLength(1)
    a.connect()
    expect(relay.connections).toHaveLength(2)
    a.connect()
    expect(relay.connections).toHaveLength(2)
    await vi.waitFor(() => expect(a.status).toBe('connected'))
    a.disconnect()
    expect(relay.last.closed).toEqual({ code: 1000, reason: 'client disconnect' })
    expect(a.status).toBe('disconnected')
    await vi.advanceTimersByTimeAsync(60_000)
    expect(relay.connections).toHaveLength(2)
    expect(statuses).toEqual(['disconnected', 'connecting', 'connected', 'disconnected'])
  })

  it('[PROVIDER-1] manual: nothing connects until connect(); frames sent while disconnected are dropped, not queued', async () => {
    const relay = new ScriptedRelay()
    const a = provider(relay, { manual: true })
    expect(relay.connections).toHaveLength(0)
    a.sendFrame(eventFrame({ type: 'x' }))
    workspace(a).getMap('m').set('offline', true)
    expect(a.persisted).toBe(true)
    a.connect()
    await a.whenSynced()
    await a.whenPersisted()
    expect(relay.last.framesOf(FrameKind.event)).toEqual([])
    expect(relay.docs.workspace!.getMap('m').get('offline')).toBe(true)
  })
})

describe('PROVIDER-2: a 44xx close stops it', () => {
  const refusal = { code: 'unauthorized', message: 'This relay does not recognize this credential. Ask for a new invite.', closeCode: 4401, closeReason: 'unauthorized' }

  it('[PROVIDER-2] a 44xx close stops it for good: status stopped, one stopped event with the code and the relay\'s sentence, and no retry ever', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    const relay = new ScriptedRelay()
    relay.refusal = refusal
    const a = provider(relay)
    const stops: StopReason[] = []
    const statuses: ProviderStatus[] = []
    a.on('stopped', (reason) => stops.push(reason))
    a.on('status', (status) => statuses.push(status))
    await vi.waitFor(() => expect(a.status).toBe('stopped'))
    expect(stops).toEqual([{ code: 4401, reason: 'unauthorized', message: refusal.message }])
    expect(a.stopReason).toEqual(stops[0])
    expect(statuses).toEqual(['stopped'])
    relay.refusal = null // even a relay that would now accept is not retried
    await vi.advanceTimersByTimeAsync(600_000)
    a.connect()
    await vi.advanceTimersByTimeAsync(600_000)
    expect(relay.connections).toHaveLength(1)
    expect(a.status).toBe('stopped')
    expect(stops).toHaveLength(1)
  })

  it('[PROVIDER-2] without an ERROR frame the close reason is the message; an error from an earlier connection is not reused', async () => {
    const { relay, a, errors } = await providers.synced()
    relay.last.send(errorFrame('rate-limited', 'Slow down: too many updates.'))
    await vi.waitFor(() => expect(errors).toMatchObject([{ code: 'rate-limited' }]))
    relay.last.cut()
    await vi.waitFor(() => expect(relay.connections).toHaveLength(2))
    await a.whenSynced()
    const stopped = new Promise<StopReason>((resolve) => a.once('stopped', resolve))
    relay.last.close(4409, 'replaced by a newer connection of this instance')
    expect(await stopped).toEqual({ code: 4409, reason: 'replaced by a newer connection of this instance', message: 'replaced by a newer connection of this instance' })
  })

  it('[PROVIDER-2] a close outside 44xx (1011, 1006) is retried, not a stop', async () => {
    const { relay, a } = await providers.synced()
    relay.last.close(1011, 'internal error')
    await vi.waitFor(() => expect(relay.connections).toHaveLength(2))
    await a.whenSynced()
    expect(a.stopReason).toBeNull()
    expect(a.status).toBe('connected')
  })
})

describe('PROVIDER-3: persisted', () => {
  it('[PROVIDER-3] persisted fires (once) and whenPersisted resolves only when the relay has ACKed every update sent, not at the first ACK', async () => {
    const { relay, a } = await providers.synced()
    await a.whenPersisted()
    relay.holdAcks = true
    let events = 0
    a.on('persisted', () => events++)
    workspace(a).getMap('m').set('one', 1)
    expect(a.persisted).toBe(false) // queued for the end of the turn: not even sent yet
    let resolved = false
    const whenPersisted = a.whenPersisted().then(() => (resolved = true))
    await relay.until(() => (relay.last.updates.get('workspace') ?? 0) === 2, 'the first update') // 1 is the step 2 answer
    workspace(a).getMap('m').set('two', 2)
    await relay.until(() => (relay.last.updates.get('workspace') ?? 0) === 3, 'the second update')
    expect([a.sentUpdates(), a.ackedUpdates(), a.persisted]).toEqual([3, 1, false])
    // The relay settles the first of the two: still not persisted.
    relay.last.send(ackFrame('workspace', 2))
    await vi.waitFor(() => expect(a.ackedUpdates()).toBe(2))
    expect([a.persisted, resolved, events]).toEqual([false, false, 0])
    // The second is refused (an ERROR, then its ACK as settled): now everything sent is settled.
    const errors: RelayErrorInfo[] = []
    a.on('error', (error) => errors.push(error))
    relay.last.send(errorFrame('read-only', 'You can only view this workspace.', { seq: 3 }, 'workspace'))
    relay.last.send(ackFrame('workspace', 3))
    await whenPersisted
    expect([a.persisted, events]).toEqual([true, 1])
    expect(errors).toEqual([{ code: 'read-only', message: 'You can only view this workspace.', channel: 'workspace', data: { seq: 3 } }])
    // An older ACK arriving late never lowers the count.
    relay.last.send(ackFrame('workspace', 1))
    await vi.waitFor(() => expect(events).toBe(2)) // a settled provider may say so again
    expect([a.ackedUpdates(), a.persisted]).toEqual([3, true])
  })

  it('[PROVIDER-3] an ACK on a terminal channel is not a doc\'s: it goes to the frame listeners and counts nothing', async () => {
    const { relay, a } = await providers.synced()
    await a.whenPersisted()
    const frames: Frame[] = []
    a.on('frame', (frame) => frames.push(frame))
    relay.last.send(ackFrame('agent-1', 4))
    await vi.waitFor(() => expect(frames).toEqual([ackFrame('agent-1', 4)]))
    expect([a.ackedUpdates('agent-1'), a.sentUpdates('agent-1')]).toEqual([0, 0])
  })

  it('[PROVIDER-3] whenPersisted() waits across a drop: the reconnect\'s step 2 carries the unsettled edit and its ACK settles it', async () => {
    const { relay, a } = await providers.synced()
    relay.holdAcks = true
    workspace(a).getMap('m').set('k', 'v')
    await relay.until(() => (relay.last.updates.get('workspace') ?? 0) === 2, 'the update')
    const persisted = a.whenPersisted()
    relay.holdAcks = false
    relay.last.cut()
    await persisted
    expect(relay.docs.workspace!.getMap('m').get('k')).toBe('v')
    expect(relay.connections).toHaveLength(2)
  })
})

describe('PROVIDER-4: RPC both ways', () => {
  it('[PROVIDER-4] request() resolves with the relay\'s result and rejects with its code, message and data', async () => {
    const relay = new ScriptedRelay()
    relay.methods['member.list'] = (params) => ({ result: [{ name: 'Owner', asked: params }] })
    relay.methods['invite.create'] = () => ({ code: 'invalid-params', message: 'role must be editor or viewer' })
    const a = provider(relay)
    await a.whenSynced()
    await expect(a.request('member.list', { all: true })).resolves.toEqual([{ name: 'Owner', asked: { all: true } }])
    await expect(a.request('member.list')).resolves.toEqual([{ name: 'Owner', asked: {} }])
    const refused = a.request('invite.create', { role: 'king' })
    await expect(refused).rejects.toBeInstanceOf(RelayRequestError)
    await expect(refused).rejects.toMatchObject({ name: 'RelayRequestError', code: 'invalid-params', message: 'role must be editor or viewer' })
    await expect(a.request('no.such')).rejects.toMatchObject({ code: 'not-found', message: 'The relay has no method "no.such".' })
    // Each request has its own id; an answer to an id nobody asked is ignored.
    const ids = relay.last.framesOf(FrameKind.rpcRequest).map((frame) => frame.id)
    expect(new Set(ids).size).toBe(ids.length)
    relay.last.send({ kind: FrameKind.rpcResponse, channel: '', id: 999, ok: true, result: 'stray' })
    await expect(a.request('member.list')).resolves.toHaveLength(1)
  })

  it('[PROVIDER-4] an unanswered request times out (the per-call timeout over the provider\'s) with a message naming it', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    const relay = new ScriptedRelay()
    relay.methods['slow'] = () => undefined
    const a = provider(relay, { requestTimeoutMs: 1_000 })
    await vi.waitFor(() => expect(a.status).toBe('connected'))
    const byDefault = a.request('slow')
    const byCall = a.request('slow', {}, 300)
    const outcomes: string[] = []
    byDefault.catch((error: RelayRequestError) => outcomes.push(`default:${error.code}`))
    byCall.catch((error: RelayRequestError) => outcomes.push(`call:${error.code}`))
    await vi.advanceTimersByTimeAsync(299)
    expect(outcomes).toEqual([])
    await vi.advanceTimersByTimeAsync(1)
    expect(outcomes).toEqual(['call:timeout'])
    await vi.advanceTimersByTimeAsync(699)
    expect(outcomes).toEqual(['call:timeout'])
    await vi.advanceTimersByTimeAsync(1)
    expect(outcomes).toEqual(['call:timeout', 'default:timeout'])
    await expect(byCall).rejects.toMatchObject({ code: 'timeout', message: 'The relay did not answer "slow" within 300 ms.' })
  })

  it('[PROVIDER-4] the 15 s default timeout applies when neither the call nor the provider sets one', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    const relay = new ScriptedRelay()
    relay.methods['slow'] = () => undefined
    const a = provider(relay)
    await vi.waitFor(() => expect(a.status).toBe('connected'))
    let code = ''
    a.request('slow').catch((error: RelayRequestError) => (code = error.code))
    await vi.advanceTimersByTimeAsync(14_999)
    expect(code).toBe('')
    await vi.advanceTimersByTimeAsync(1)
    expect(code).toBe('timeout')
  })

  it('[PROVIDER-4] a request rejects at once when not connected (nothing sent), on a drop, and on destroy', async () => {
    const relay = new ScriptedRelay()
    relay.methods['slow'] = () => undefined
    const a = provider(relay, { manual: true })
    const early = a.request('member.list')
    await expect(early).rejects.toBeInstanceOf(RelayRequestError)
    await expect(early).rejects.toMatchObject({ code: 'disconnected', message: 'Not connected to the relay, so "member.list" was not sent. Try again when connected.' })
    a.connect()
    await a.whenSynced()
    const inFlight = a.request('slow')
    await relay.until(() => relay.last.framesOf(FrameKind.rpcRequest).length === 1, 'the request')
    relay.last.cut()
    await expect(inFlight).rejects.toMatchObject({ code: 'disconnected', message: 'The connection to the relay closed before it answered.' })
    await vi.waitFor(() => expect(a.status).toBe('connected'))
    const beforeDestroy = a.request('slow')
    await relay.until(() => relay.last.framesOf(FrameKind.rpcRequest).length === 1, 'the second request')
    a.destroy()
    await expect(beforeDestroy).rejects.toMatchObject({ code: 'disconnected' })
    expect(relay.connections.filter((connection) => connection.framesOf(FrameKind.rpcRequest).some((frame) => frame.method === 'member.list'))).toEqual([])
  })

  it('[PROVIDER-4] onRequest serves the relay\'s requests: a result (null for none), the handler\'s code, internal for a plain error, not-found without a handler', async () => {
    const { relay, a } = await providers.synced()
    const conn = relay.last
    expect(await conn.request('echo', { x: 1 })).toMatchObject({ ok: false, code: 'not-found', message: 'This instance does not serve "echo".' })
    a.onRequest(async (method, params) => {
      if (method === 'echo') return { echoed: params }
      if (method === 'nothing') return undefined
      if (method === 'refuse') throw new RelayRequestError('invalid-params', 'nope')
      throw new Error('the broker crashed')
    })
    expect(await conn.request('echo', { x: 1 })).toMatchObject({ ok: true, result: { echoed: { x: 1 } } })
    expect(await conn.request('nothing', {})).toMatchObject({ ok: true, result: null })
    expect(await conn.request('refuse', {})).toMatchObject({ ok: false, code: 'invalid-params', message: 'nope' })
    expect(await conn.request('boom', {})).toMatchObject({ ok: false, code: 'internal', message: 'the broker crashed' })
    a.onRequest(() => {
      throw 'a string' // eslint-disable-line no-throw-literal -- what a careless handler throws
    })
    expect(await conn.request('any', {})).toMatchObject({ ok: false, code: 'internal', message: 'a string' })
    a.onRequest(null)
    expect(await conn.request('echo', {})).toMatchObject({ ok: false, code: 'not-found' })
  })
})

describe('PROVIDER-5: no ghosts', () => {
  it('[PROVIDER-5] on a drop, other instances\' presence is removed locally (own state kept), and re-announced on reconnect', async () => {
    const relay = new ScriptedRelay()
    const awarenessA = new Awareness(new Y.Doc())
    const awarenessB = new Awareness(new Y.Doc())
    awarenessA.setLocalStateField('viewing', 'pA')
    const a = provider(relay, { awareness: awarenessA })
    const b = provider(relay, { instanceId: 'inst-b', awareness: awarenessB })
    await Promise.all([a.whenSynced(), b.whenSynced()])
    awarenessB.setLocalStateField('viewing', 'pB')
    await vi.waitFor(() => expect(awarenessA.getStates().get(awarenessB.clientID)).toEqual({ viewing: 'pB' }))
    const removed: number[][] = []
    awarenessA.on('change', ({ removed: gone }: { removed: number[] }) => gone.length && removed.push(gone))
    const aConnection = relay.connections[0] as RelayConnection
    aConnection.cut()
    expect([...awarenessA.getStates().keys()]).toEqual([awarenessA.clientID])
    expect(awarenessA.getLocalState()).toEqual({ viewing: 'pA' })
    expect(removed).toEqual([[awarenessB.clientID]])
    // Back online: this instance says again who it is, and sees the others again.
    await vi.waitFor(() => expect(relay.connections).toHaveLength(3))
    await a.whenSynced()
    await relay.until(() => relay.last.framesOf(FrameKind.awareness).length > 0, 'a announces itself')
    // Local changes travel only while connected.
    const bConnection = relay.connections[1] as RelayConnection
    const seenByRelay = bConnection.framesOf(FrameKind.awareness).length
    b.disconnect()
    awarenessB.setLocalStateField('viewing', 'offline')
    expect(bConnection.framesOf(FrameKind.awareness)).toHaveLength(seenByRelay)
  })
})

describe('PROVIDER-6: one frame per turn', () => {
  it('[PROVIDER-6] a burst of edits in one turn goes out as one merged frame, numbered nextUpdateSeq(), stored and ACKed once', async () => {
    const { relay, a } = await providers.synced()
    await a.whenPersisted()
    const before = updatesSent(relay.last).length
    const seq = a.nextUpdateSeq()
    expect(seq).toBe(a.sentUpdates() + 1)
    for (let n = 0; n < 100; n++) workspace(a).getMap('burst').set(`k${n}`, n)
    workspace(a).getArray('list').push(['x'])
    expect(a.persisted).toBe(false)
    await a.whenPersisted()
    expect(updatesSent(relay.last).length - before).toBe(1)
    expect(relay.last.updates.get('workspace')).toBe(seq)
    expect([a.sentUpdates(), a.ackedUpdates()]).toEqual([seq, seq])
    expect(relay.docs.workspace!.getMap('burst').size).toBe(100)
    expect(relay.docs.workspace!.getArray('list').toArray()).toEqual(['x'])
    // The next turn's edit is the next frame.
    workspace(a).getMap('burst').set('later', true)
    await a.whenPersisted()
    expect(updatesSent(relay.last).length - before).toBe(2)
    expect(a.nextUpdateSeq()).toBe(seq + 2)
  })

  it('[PROVIDER-6] each doc channel gets its own frame; a single update is sent as made', async () => {
    const relay = new ScriptedRelay()
    relay.docs['notes'] = new Y.Doc()
    const a = provider(relay, { docs: { workspace: new Y.Doc(), notes: new Y.Doc(), control: new Y.Doc() } })
    await a.whenSynced()
    await a.whenPersisted()
    const updates: Uint8Array[] = []
    workspace(a).on('update', (update: Uint8Array) => updates.push(update))
    workspace(a).getMap('m').set('w', 1)
    ;(a.docs.notes as Y.Doc).getText('t').insert(0, 'hello')
    await a.whenPersisted()
    expect([a.sentUpdates('workspace'), a.sentUpdates('notes')]).toEqual([2, 2])
    expect(updatesSent(relay.last, 'workspace').at(-1)?.payload).toEqual(updates[0])
    expect(relay.docs['notes']!.getText('t').toString()).toBe('hello')
  })

  it('[PROVIDER-6] updates queued in a turn that ends offline are not sent on the dead link; they travel in the next step 2', async () => {
    const { relay, a } = await providers.synced()
    const first = relay.last
    const sentBefore = updatesSent(first).length
    workspace(a).getMap('m').set('queued', 1)
    first.cut()
    await turn()
    expect(updatesSent(first).length).toBe(sentBefore)
    await vi.waitFor(() => expect(relay.connections).toHaveLength(2))
    await a.whenSynced()
    await a.whenPersisted()
    expect(relay.docs.workspace!.getMap('m').get('queued')).toBe(1)
  })
})

describe('frames the provider does not own', () => {
  it('[SESSION-3] a role-changed event updates the provider\'s welcome.role; other events and frames reach their listeners; unreadable bytes are an error event, not a crash', async () => {
    const { relay, a } = await providers.synced()
    expect(a.welcome?.role).toBe('owner')
    const events: OrchardEvent[] = []
    const frames: Frame[] = []
    const errors: RelayErrorInfo[] = []
    a.on('event', (event) => events.push(event))
    a.on('frame', (frame) => frames.push(frame))
    a.on('error', (error) => errors.push(error))
    relay.last.send(eventFrame({ type: 'role-changed', role: 'viewer' }))
    relay.last.send(eventFrame({ type: 'role-changed', role: 42 }))
    relay.last.send({ kind: FrameKind.termOutput, channel: 'agent-1', generation: 1, offset: 0, data: new Uint8Array([65]) })
    relay.last.pair.server.send(new Uint8Array([0xff, 0xff, 0xff]))
    await vi.waitFor(() => expect(errors).toHaveLength(1))
    expect(events).toEqual([{ type: 'role-changed', role: 'viewer' }, { type: 'role-changed', role: 42 }])
    expect(a.welcome?.role).toBe('viewer')
    expect(frames).toMatchObject([{ kind: FrameKind.termOutput, channel: 'agent-1' }])
    expect(errors[0]).toMatchObject({ code: 'bad-frame', channel: '', message: expect.stringContaining('The relay sent a frame this client cannot read') })
    expect(a.status).toBe('connected')
  })
})
