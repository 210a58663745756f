/**
 * Connection handling in the core, through the in-memory transport (TRANSPORT-1): bad
 * frames, limits and HELLO rules. The offender gets an error or a close code; the relay
 * and everyone else carry on.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { MemoryPair } from '@orchard/client/testing'
import { RelayProvider } from '@orchard/client'
import { FrameKind, PROTOCOL_VERSION, decodeFrame, encodeFrame, type Frame } from '@orchard/protocol'
import * as encoding from 'lib0/encoding'
import * as syncProtocol from 'y-protocols/sync'
import * as Y from 'yjs'
import { MemoryStorage, RelayCore, type RelayLimits } from '@orchard/relay'
import { eventually } from '@orchard/relay/testing'
import { memoryTransport } from './harness/memory-transport.js'

let core: RelayCore
let ownerCredential: string

async function makeCore(limits: Partial<RelayLimits> = {}) {
  core = new RelayCore({ storage: new MemoryStorage(), limits: { unloadAfterMs: 50, ...limits }, logger: { info: () => {}, error: () => {} } })
  ownerCredential = (await core.createWorkspace('W', 'Owner')).credential
}

beforeEach(() => makeCore())
afterEach(() => core.close())

/** A raw socket into the core: what it received, and how it was closed. */
function rawClient() {
  const pair = new MemoryPair()
  const handle = core.acceptOrchard(pair.server)
  pair.server.onMessage((data) => handle.receive(data))
  pair.server.onClose(() => handle.closed())
  const frames: Frame[] = []
  let closed: { code: number; reason: string } | null = null
  pair.client.onMessage((data) => frames.push(decodeFrame(data)))
  pair.client.onClose((code, reason) => (closed = { code, reason }))
  return {
    send: (frame: Frame) => pair.client.send(encodeFrame(frame)),
    sendRaw: (bytes: Uint8Array) => pair.client.send(bytes),
    frames,
    get closed() {
      return closed
    },
    hello(credential = ownerCredential, extra: Record<string, unknown> = {}) {
      this.send({ kind: FrameKind.hello, channel: '', protocol: PROTOCOL_VERSION, credential, instanceId: 'raw', ...extra })
    }
  }
}

function provider(): RelayProvider {
  return new RelayProvider({ transport: memoryTransport(core), credential: ownerCredential, instanceId: `p-${Math.random()}`, docs: { workspace: new Y.Doc() } })
}

describe('HELLO', () => {
  it('[CONN-1] a frame before HELLO closes with 4400; another protocol version with 4426', async () => {
    const early = rawClient()
    early.send({ kind: FrameKind.event, channel: '', event: { type: 'hi' } })
    await eventually(() => early.closed, { what: 'close' })
    expect(early.closed).toEqual({ code: 4400, reason: 'bad-frame' })
    expect(early.frames[0]).toMatchObject({ kind: FrameKind.error, message: expect.stringContaining('must be HELLO') })

    const old = rawClient()
    old.hello(ownerCredential, { protocol: 99 })
    await eventually(() => old.closed, { what: 'close' })
    expect(old.closed?.code).toBe(4426)
    expect(old.frames[0]).toMatchObject({ code: 'unsupported-version', message: expect.stringContaining('Update the older side') })

    const versionByte = rawClient()
    const bytes = encodeFrame({ kind: FrameKind.hello, channel: '', protocol: 1, credential: ownerCredential, instanceId: 'x' })
    bytes[0] = 2
    versionByte.sendRaw(bytes)
    await eventually(() => versionByte.closed, { what: 'close' })
    expect(versionByte.closed?.code).toBe(4426)
  })

  it('[CONN-1] a socket that never says HELLO is closed after the timeout', async () => {
    await core.close()
    await makeCore({ helloTimeoutMs: 30 })
    const silent = rawClient()
    await eventually(() => silent.closed, { what: 'hello timeout' })
    expect(silent.closed?.code).toBe(4400)
  })
})

describe('bad frames', () => {
  it('[CONN-2] malformed frames and unknown kinds get an ERROR; the socket and others carry on', async () => {
    const good = provider()
    await good.whenSynced()
    const bad = rawClient()
    bad.hello()
    await eventually(() => bad.frames.some((frame) => frame.kind === FrameKind.welcome), { what: 'welcome' })
    bad.sendRaw(new Uint8Array([1, 99, 0]))
    bad.sendRaw(new Uint8Array([1, 2]))
    bad.send({ kind: FrameKind.sync, channel: 'workspace', body: new Uint8Array([7, 7, 7]) })
    bad.send({ kind: FrameKind.sync, channel: 'nowhere', body: new Uint8Array([0, 0]) })
    await eventually(() => bad.frames.filter((frame) => frame.kind === FrameKind.error).length >= 4, { what: 'four errors' })
    const errors = bad.frames.filter((frame): frame is Extract<Frame, { kind: 6 }> => frame.kind === FrameKind.error)
    expect(errors.map((frame) => frame.code)).toEqual(['unknown-kind', 'bad-frame', 'bad-frame', 'not-found'])
    expect(errors[0]!.data).toEqual({ kind: 99 })
    expect(bad.closed).toBeNull()
    ;(good.docs.workspace as Y.Doc).getMap('m').set('k', 'still fine')
    await good.whenPersisted()
    good.destroy()
  })

  it('[CONN-2] too many malformed frames close the socket with 4400', async () => {
    await core.close()
    await makeCore({ maxBadFrames: 3 })
    const bad = rawClient()
    bad.hello()
    await eventually(() => bad.frames.length > 0, { what: 'welcome' })
    for (let n = 0; n < 5; n++) bad.sendRaw(new Uint8Array([1, 99, 0]))
    await eventually(() => bad.closed, { what: 'close' })
    expect(bad.closed?.code).toBe(4400)
  })

  it('[DOCS-2] a malformed Yjs update is refused and never stored', async () => {
    const bad = rawClient()
    bad.hello()
    await eventually(() => bad.frames.length > 0, { what: 'welcome' })
    const encoder = encoding.createEncoder()
    syncProtocol.writeUpdate(encoder, new Uint8Array([5, 200, 1, 2, 3]))
    bad.send({ kind: FrameKind.sync, channel: 'workspace', body: encoding.toUint8Array(encoder) })
    await eventually(() => bad.frames.find((frame) => frame.kind === FrameKind.error), { what: 'error' })
    expect(bad.frames.find((frame) => frame.kind === FrameKind.error)).toMatchObject({ code: 'bad-frame', data: { seq: 1 } })
    await eventually(() => bad.frames.find((frame) => frame.kind === FrameKind.ack), { what: 'ack settles the refused frame' })
    expect(await core.storage.loadDoc(`${(await core.listWorkspaces())[0]!.id}/workspace`)).toBeUndefined()
  })
})

describe('limits', () => {
  it('[LIMIT-1] an oversize frame gets too-large and 4413', async () => {
    await core.close()
    await makeCore({ maxFrameBytes: 1024 })
    const big = rawClient()
    big.hello()
    await eventually(() => big.frames.length > 0, { what: 'welcome' })
    big.send({ kind: FrameKind.sync, channel: 'workspace', body: new Uint8Array(2048) })
    await eventually(() => big.closed, { what: 'close' })
    expect(big.closed).toEqual({ code: 4413, reason: 'too-large' })
    expect(big.frames.at(-1)).toMatchObject({ code: 'too-large', message: expect.stringContaining('over the relay\'s limit of 1024') })
  })

  it('[LIMIT-2] an update that would grow the doc past maxDocBytes is refused; the doc is unchanged', async () => {
    await core.close()
    await makeCore({ maxDocBytes: 4096 })
    const writer = provider()
    await writer.whenSynced()
    const errors: string[] = []
    writer.on('error', (error) => errors.push(error.code))
    const doc = writer.docs.workspace as Y.Doc
    doc.getMap('m').set('small', 'ok')
    await writer.whenPersisted()
    doc.getMap('m').set('huge', 'x'.repeat(10_000))
    await writer.whenPersisted()
    expect(errors).toEqual(['too-large'])
    const reader = provider()
    await reader.whenSynced()
    expect((reader.docs.workspace as Y.Doc).getMap('m').toJSON()).toEqual({ small: 'ok' })
    writer.destroy()
    reader.destroy()
  })

  it('[LIMIT-3] a connection over its frame rate is closed with 4429', async () => {
    await core.close()
    await makeCore({ framesPerSecond: 5 })
    const flood = rawClient()
    flood.hello()
    for (let n = 0; n < 50; n++) flood.send({ kind: FrameKind.awareness, channel: 'workspace', body: new Uint8Array([0]) })
    await eventually(() => flood.closed, { what: 'close' })
    expect(flood.closed).toEqual({ code: 4429, reason: 'rate-limited' })
  })
})

describe('connections', () => {
  it('[CONN-3] a newer connection from the same instance replaces the older one', async () => {
    const first = rawClient()
    first.hello(ownerCredential, { instanceId: 'laptop' })
    await eventually(() => first.frames.length > 0, { what: 'first welcome' })
    const second = rawClient()
    second.hello(ownerCredential, { instanceId: 'laptop' })
    await eventually(() => first.closed, { what: 'first replaced' })
    expect(first.closed).toEqual({ code: 4409, reason: 'replaced by a newer connection from the same instance' })
    expect(second.closed).toBeNull()
  })

  it('[TRANSPORT-1] the core syncs clients over any transport', async () => {
    const a = provider()
    const b = provider()
    await Promise.all([a.whenSynced(), b.whenSynced()])
    ;(a.docs.workspace as Y.Doc).getMap('m').set('from', 'a')
    await eventually(() => (b.docs.workspace as Y.Doc).getMap('m').get('from') === 'a', { what: 'b gets a\'s edit' })
    a.destroy()
    b.destroy()
  })

  it('[DOCS-4] one broadcast is encoded once for all sockets, and never sent back to its sender', async () => {
    const sockets = ['sender', 'r1', 'r2'].map((name) => {
      const sent: Uint8Array[] = []
      const handle = core.acceptOrchard({ send: (data) => sent.push(data), close: () => {}, bufferedAmount: 0 })
      handle.receive(encodeFrame({ kind: FrameKind.hello, channel: '', protocol: PROTOCOL_VERSION, credential: ownerCredential, instanceId: name }))
      return { name, sent, handle }
    })
    await eventually(() => sockets.every((socket) => socket.sent.length > 0), { what: 'welcomes' })
    for (const socket of sockets) {
      const step1 = encoding.createEncoder()
      syncProtocol.writeSyncStep1(step1, new Y.Doc())
      socket.handle.receive(encodeFrame({ kind: FrameKind.sync, channel: 'workspace', body: encoding.toUint8Array(step1) }))
    }
    await eventually(() => sockets.every((socket) => socket.sent.length >= 3), { what: 'sync replies' })
    const counts = sockets.map((socket) => socket.sent.length)
    const doc = new Y.Doc()
    doc.getMap('m').set('k', 'v')
    const body = encoding.createEncoder()
    syncProtocol.writeUpdate(body, Y.encodeStateAsUpdate(doc))
    sockets[0]!.handle.receive(encodeFrame({ kind: FrameKind.sync, channel: 'workspace', body: encoding.toUint8Array(body) }))
    await eventually(() => sockets[1]!.sent.length > counts[1]! && sockets[2]!.sent.length > counts[2]!, { what: 'broadcast' })
    const r1 = sockets[1]!.sent.at(-1)!
    const r2 = sockets[2]!.sent.at(-1)!
    expect(r1).toBe(r2) // the very same bytes object
    expect(decodeFrame(r1)).toMatchObject({ kind: FrameKind.sync, channel: 'workspace' })
    await eventually(() => sockets[0]!.sent.slice(counts[0]).some((bytes) => decodeFrame(bytes).kind === FrameKind.ack), { what: 'sender ack' })
    const toSender = sockets[0]!.sent.slice(counts[0]).map((bytes) => decodeFrame(bytes).kind)
    expect(toSender).toEqual([FrameKind.ack])
    for (const socket of sockets) socket.handle.closed()
  })
})
