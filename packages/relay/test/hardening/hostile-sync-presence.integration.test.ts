/**
 * Issue 9, items 2 and 8: a viewer's malformed sync step 1 or hostile presence, on the
 * Orchard protocol and on the stock y-websocket endpoint, against a real relay on a real
 * port. The sender gets an error (or a 44xx close on y-websocket); nothing is stored or
 * broadcast; the relay and every other client carry on.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FrameKind, encodeYwsMessage, type Frame } from '@orchard/protocol'
import { WorkspaceSession } from '@orchard/client'
import { eventually, startTestRelay, type TestRelay } from '@orchard/relay/testing'
import { awarenessBody, isError, rawOrchard, rawYws, syncBody, type RawOrchard } from './raw-clients.js'

let relay: TestRelay
let owner: WorkspaceSession
let viewerCredential: string

beforeAll(async () => {
  relay = await startTestRelay()
  owner = await WorkspaceSession.open({ credential: relay.ownerCredential, relayUrl: relay.url, label: 'owner' })
  owner.store.addProject('Before', '/src/before')
  await owner.provider.whenPersisted()
  viewerCredential = (await relay.core.auth.addMember(relay.workspaceId, 'Vic', 'viewer')).credential
})
afterAll(async () => {
  await owner.close()
  await relay.close()
})

/** The relay still serves: the owner's edit is stored and reaches a fresh reader. */
async function relayStillServes(label: string): Promise<void> {
  owner.store.addProject(`After ${label}`, `/src/${label}`)
  await owner.provider.whenPersisted()
  const reader = await WorkspaceSession.open({ credential: relay.ownerCredential, relayUrl: relay.url, label: `reader-${label}`, instanceId: `reader-${label}` })
  try {
    await reader.provider.whenSynced()
    expect(reader.store.loadStore().projects.map((project) => project.name)).toContain(`After ${label}`)
  } finally {
    await reader.close()
  }
}

const TRUNCATED_STATE_VECTOR = new Uint8Array([3, 0x80]) // claims 3 clients, then ends mid-varint

function awarenessFrames(client: RawOrchard): Frame[] {
  return client.frames.filter((frame) => frame.kind === FrameKind.awareness)
}

describe('sync step 1', () => {
  it('[VALID-2] a truncated state vector from a viewer gets ERROR bad-frame; the relay and others carry on', async () => {
    const viewer = await rawOrchard(relay.url, viewerCredential, 'viewer-sv')
    viewer.send({ kind: FrameKind.sync, channel: 'workspace', body: syncBody(0, TRUNCATED_STATE_VECTOR) })
    const error = await viewer.next(isError('bad-frame'), 'ERROR bad-frame')
    // What the viewer sees: which channel, and what to send instead.
    expect(error).toMatchObject({ channel: 'workspace', message: expect.stringContaining('malformed state vector') })
    expect(viewer.closed).toBeNull()
    await relayStillServes('sv')
    viewer.close()
  })

  it('[VALID-2] [COMPAT-4] over y-websocket, a truncated state vector closes that socket with 4400 bad-frame; others carry on', async () => {
    const stock = await rawYws(relay.url, relay.workspaceId, viewerCredential)
    stock.send(encodeYwsMessage({ type: 'sync', body: syncBody(0, TRUNCATED_STATE_VECTOR) }))
    // What a stock client sees: the close code (do not retry) and the reason.
    expect(await stock.waitClosed()).toEqual({ code: 4400, reason: 'bad-frame' })
    await relayStillServes('yws-sv')
  })
})

describe('presence', () => {
  const deep = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)

  it('[PRESENCE-6] a deeply nested presence state (~10 KB) is refused with bad-frame before it is stored or broadcast', async () => {
    const watcher = await rawOrchard(relay.url, relay.ownerCredential, 'watcher-deep')
    const viewer = await rawOrchard(relay.url, viewerCredential, 'viewer-deep')
    const json = deep(2_000)
    expect(json.length).toBeGreaterThan(10_000)
    viewer.send({ kind: FrameKind.awareness, channel: 'workspace', body: awarenessBody([{ clientID: 777001, clock: 1, json }]) })
    const error = await viewer.next(isError(), 'an ERROR')
    expect(error).toMatchObject({ code: 'bad-frame', message: expect.stringContaining('at most 32 levels') })
    const room = await relay.core.room(relay.workspaceId)
    expect(room.presence.list().some((entry) => entry.clientID === 777001)).toBe(false)
    // A good state after it travels, so the bad one was not merely late.
    viewer.send({ kind: FrameKind.awareness, channel: 'workspace', body: awarenessBody([{ clientID: 777002, clock: 1, json: '{"cursor":1}' }]) })
    await eventually(() => room.presence.list().some((entry) => entry.clientID === 777002), { what: 'the good state stored' })
    await eventually(() => awarenessFrames(watcher).length > 0, { what: 'the watcher gets a broadcast' })
    const seen = awarenessFrames(watcher).map((frame) => Buffer.from((frame as { body: Uint8Array }).body).toString('latin1'))
    expect(seen.some((text) => text.includes('{"a":{"a":'))).toBe(false)
    viewer.close()
    watcher.close()
    await relayStillServes('deep-presence')
  })

  it('[PRESENCE-6] one connection cannot hold more than 16 presence client ids, nor a state over 32 KiB', async () => {
    const watcher = await rawOrchard(relay.url, relay.ownerCredential, 'watcher-many')
    const viewer = await rawOrchard(relay.url, viewerCredential, 'viewer-many')
    const many = Array.from({ length: 40_000 }, (_, index) => ({ clientID: 900_000 + index, clock: 1, json: '{"c":1}' }))
    viewer.send({ kind: FrameKind.awareness, channel: 'workspace', body: awarenessBody(many) })
    expect(await viewer.next(isError(), 'an ERROR')).toMatchObject({ code: 'too-large', message: expect.stringContaining('at most 16') })
    const few = Array.from({ length: 17 }, (_, index) => ({ clientID: 800_000 + index, clock: 1, json: '{"c":1}' }))
    viewer.send({ kind: FrameKind.awareness, channel: 'workspace', body: awarenessBody(few) })
    await eventually(() => viewer.frames.filter(isError('too-large')).length === 2, { what: 'the second refusal' })
    expect(viewer.frames.filter(isError('too-large'))[1]).toMatchObject({ message: expect.stringContaining('at most 16 presence client ids') })
    viewer.send({ kind: FrameKind.awareness, channel: 'workspace', body: awarenessBody([{ clientID: 800_100, clock: 1, json: JSON.stringify({ big: 'x'.repeat(40_000) }) }]) })
    await eventually(() => viewer.frames.filter(isError('too-large')).length === 3, { what: 'the third refusal' })
    const room = await relay.core.room(relay.workspaceId)
    const held = room.presence.list().filter((entry) => (entry.state.orchard as { instanceId: string }).instanceId === 'viewer-many')
    expect(held).toHaveLength(0)
    expect(awarenessFrames(watcher).every((frame) => (frame as { body: Uint8Array }).body.byteLength < 4_096)).toBe(true)
    viewer.close()
    watcher.close()
  })

  it('[PRESENCE-7] a malformed presence update is answered bad-frame, not forbidden', async () => {
    const viewer = await rawOrchard(relay.url, viewerCredential, 'viewer-malformed')
    viewer.send({ kind: FrameKind.awareness, channel: 'workspace', body: awarenessBody([{ clientID: 5, clock: 1, json: '{not json' }]) })
    expect(await viewer.next(isError(), 'an ERROR')).toMatchObject({ code: 'bad-frame', message: expect.stringContaining('malformed') })
    expect(viewer.closed).toBeNull()
    viewer.close()
  })

  it('[PRESENCE-6] [COMPAT-4] over y-websocket, a deep presence state or bad presence JSON closes that socket with 4400 bad-frame', async () => {
    const deepOne = await rawYws(relay.url, relay.workspaceId, viewerCredential)
    deepOne.send(encodeYwsMessage({ type: 'awareness', update: awarenessBody([{ clientID: 61, clock: 1, json: deep(2_000) }]) }))
    // What a stock client sees: 4400 (y-websocket does not retry it) with the reason.
    expect(await deepOne.waitClosed()).toEqual({ code: 4400, reason: 'bad-frame' })
    const badJson = await rawYws(relay.url, relay.workspaceId, viewerCredential)
    badJson.send(encodeYwsMessage({ type: 'awareness', update: awarenessBody([{ clientID: 62, clock: 1, json: '{"cursor":' }]) }))
    expect(await badJson.waitClosed()).toEqual({ code: 4400, reason: 'bad-frame' })
    await relayStillServes('yws-presence')
  })

  it('[PRESENCE-6] [COMPAT-3] a stock client echoing a near-limit state (larger once stamped) is not refused', async () => {
    const talker = await rawOrchard(relay.url, relay.ownerCredential, 'talker-big')
    const stock = await rawYws(relay.url, relay.workspaceId, viewerCredential)
    const json = JSON.stringify({ note: 'n'.repeat(32_700) })
    expect(json.length).toBeLessThan(32 * 1024)
    talker.send({ kind: FrameKind.awareness, channel: 'workspace', body: awarenessBody([{ clientID: 555_001, clock: 1, json }]) })
    const received = await eventually(
      () => stock.messages.find((message) => message.type === 'awareness' && Buffer.from(message.update).toString('latin1').includes('"note"')),
      { what: 'the stock client gets the big state' }
    )
    if (received.type !== 'awareness') throw new Error('unreachable')
    expect(received.update.byteLength).toBeGreaterThan(32 * 1024)
    const before = stock.messages.length
    stock.send(encodeYwsMessage({ type: 'awareness', update: received.update }))
    stock.send(encodeYwsMessage({ type: 'query-awareness' }))
    // The answer to the query comes after the echo was handled: the socket is still open.
    await eventually(() => stock.messages.length > before || stock.closed, { what: 'an answer to the query' })
    expect(stock.closed).toBeNull()
    stock.close()
    talker.close()
  })
})
