/**
 * Outbound buffers per connection (issue 9, item 5; LIMIT-6), counted by the socket's own
 * bufferedAmount: sync answers wait, presence is skipped then resent, and a peer that does
 * not read doc updates is closed at the cap. The peers that never read are sockets whose
 * queue the test drains (or not) by hand, so nothing depends on timing.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { RelayProvider } from '@orchard/client'
import { FrameKind, PROTOCOL_VERSION, decodeFrame, encodeFrame, type Frame } from '@orchard/protocol'
import { Awareness, applyAwarenessUpdate } from 'y-protocols/awareness'
import * as encoding from 'lib0/encoding'
import * as syncProtocol from 'y-protocols/sync'
import * as Y from 'yjs'
import { MemoryStorage, RelayCore, type RelayLimits } from '@orchard/relay'
import { eventually } from '@orchard/relay/testing'
import { memoryTransport } from '@orchard/client/testing'

let core: RelayCore
let workspaceId: string
let ownerCredential: string
const providers: RelayProvider[] = []

async function makeCore(limits: Partial<RelayLimits>): Promise<void> {
  core = new RelayCore({ storage: new MemoryStorage(), limits: { awarenessIntervalMs: 0, unloadAfterMs: 60_000, ...limits }, logger: { info: () => {}, error: () => {} } })
  const created = await core.createWorkspace('W', 'Owner')
  workspaceId = created.workspace.id
  ownerCredential = created.credential
}

afterEach(async () => {
  for (const provider of providers.splice(0)) provider.destroy()
  await core.close()
})

function provider(credential = ownerCredential, awareness = false): RelayProvider {
  const created = new RelayProvider({
    transport: memoryTransport(core),
    credential,
    instanceId: `p-${providers.length}`,
    docs: { workspace: new Y.Doc() },
    ...(awareness ? { awareness: new Awareness(new Y.Doc()) } : {})
  })
  providers.push(created)
  return created
}

/**
 * A peer that never reads: whatever the relay sends stays queued (bufferedAmount grows)
 * until the test calls read().
 */
async function neverReading(name: string) {
  const queued: Uint8Array[] = []
  const received: Frame[] = []
  const state = { buffered: 0, extra: 0, closed: null as { code: number; reason: string } | null }
  const handle = core.acceptOrchard({
    send: (data) => {
      queued.push(data)
      state.buffered += data.byteLength
    },
    close: (code, reason) => (state.closed ??= { code, reason }),
    get bufferedAmount() {
      return state.buffered + state.extra
    }
  })
  const credential = (await core.auth.addMember(workspaceId, name, 'viewer')).credential
  const peer = {
    state,
    received,
    /** Reads everything queued so far (the peer catches up). */
    read() {
      for (const bytes of queued.splice(0)) received.push(decodeFrame(bytes))
      state.buffered = 0
    },
    send(frame: Frame) {
      handle.receive(encodeFrame(frame))
    },
    /** A sync step 1 with `known`'s state vector (by default nothing: the answer is the whole doc). */
    step1(channel = 'workspace', known = new Y.Doc()) {
      const encoder = encoding.createEncoder()
      syncProtocol.writeSyncStep1(encoder, known)
      handle.receive(encodeFrame({ kind: FrameKind.sync, channel, body: encoding.toUint8Array(encoder) }))
    },
    close: () => handle.closed()
  }
  peer.send({ kind: FrameKind.hello, channel: '', protocol: PROTOCOL_VERSION, credential, instanceId: name })
  await eventually(() => (peer.read(), received.some((frame) => frame.kind === FrameKind.welcome)), { what: `${name} welcomed` })
  return peer
}

function step2Answers(frames: Frame[]): number {
  // A sync body starting with 1 is step 2: the answer to a step 1.
  return frames.filter((frame) => frame.kind === FrameKind.sync && frame.body[0] === 1).length
}

describe('sync answers', () => {
  it('[LIMIT-6] sixty step-1 requests against a big doc from a peer that never reads queue one answer, not sixty', async () => {
    await makeCore({ sendPauseBytes: 64 * 1024, maxSendBufferBytes: 256 * 1024 })
    const writer = provider()
    await writer.whenSynced()
    ;(writer.docs.workspace as Y.Doc).getText('big').insert(0, 'x'.repeat(512 * 1024))
    await writer.whenPersisted()
    const viewer = await neverReading('hoarder')
    for (let n = 0; n < 60; n++) viewer.step1()
    await new Promise((resolve) => setImmediate(resolve))
    // One whole-doc answer is queued; the other 59 wait, and only the newest is kept.
    expect(viewer.state.buffered).toBeLessThan(2 * 512 * 1024)
    expect(viewer.state.closed).toBeNull()
    viewer.read()
    expect(step2Answers(viewer.received)).toBe(1)
    // Once it has read, the newest waiting request is answered: two answers in all.
    await eventually(() => (viewer.read(), step2Answers(viewer.received) === 2), { what: 'the waiting answer after the drain' })
    // None of the other 58 is answered later: a last request from a doc that already has
    // everything gets a tiny answer, queued after anything still waiting. Once it is in, the
    // count is final.
    viewer.step1('workspace', writer.docs.workspace as Y.Doc)
    const tiny = (frame: Frame) => frame.kind === FrameKind.sync && frame.body[0] === 1 && frame.body.length < 1024
    await eventually(() => (viewer.read(), viewer.received.some(tiny)), { what: 'the answer to the last request' })
    expect(step2Answers(viewer.received)).toBe(3)
  })
})

describe('doc updates', () => {
  it('[LIMIT-6] five never-reading viewers are closed with 1013 at the cap while an editor writes; the editor and a reading viewer are unaffected', async () => {
    await makeCore({ sendPauseBytes: 64 * 1024, maxSendBufferBytes: 256 * 1024 })
    const editor = provider()
    const reader = provider((await core.auth.addMember(workspaceId, 'reader', 'viewer')).credential)
    await Promise.all([editor.whenSynced(), reader.whenSynced()])
    const stalled = []
    for (let n = 0; n < 5; n++) {
      const peer = await neverReading(`stalled-${n}`)
      peer.step1()
      stalled.push(peer)
    }
    const doc = editor.docs.workspace as Y.Doc
    const chunk = 'y'.repeat(32 * 1024)
    for (let n = 0; n < 64; n++) {
      doc.getMap('m').set(`k${n}`, chunk)
      if (n % 8 === 7) await editor.whenPersisted()
    }
    await editor.whenPersisted()
    for (const peer of stalled) {
      expect(peer.state.closed).toEqual({ code: 1013, reason: 'slow-reader' })
      // Held back at the cap: never more than the cap plus one update queued.
      expect(peer.state.buffered).toBeLessThanOrEqual(256 * 1024 + 40 * 1024)
    }
    await eventually(() => (reader.docs.workspace as Y.Doc).getMap('m').size === 64, { what: 'the reading viewer got every update' })
    expect(editor.status).toBe('connected')
    expect(reader.status).toBe('connected')
  })
})

describe('one big update', () => {
  it('[LIMIT-6] an update larger than maxSendBufferBytes still reaches viewers that keep up: the backlog decides, not the frame', async () => {
    await makeCore({ sendPauseBytes: 16 * 1024, maxSendBufferBytes: 64 * 1024 })
    const editor = provider()
    const reader = provider((await core.auth.addMember(workspaceId, 'reader', 'viewer')).credential)
    await Promise.all([editor.whenSynced(), reader.whenSynced()])
    const statuses: string[] = []
    reader.on('status', (status) => statuses.push(String(status)))
    ;(editor.docs.workspace as Y.Doc).getText('paste').insert(0, 'p'.repeat(200 * 1024))
    await editor.whenPersisted()
    await eventually(() => (reader.docs.workspace as Y.Doc).getText('paste').length === 200 * 1024, { what: 'the big paste at the reader' })
    // Not closed and resynced: the same connection got it.
    expect(statuses).toEqual([])
    expect(reader.status).toBe('connected')
  })
})

describe('presence', () => {
  it('[LIMIT-6] presence to a backed-up socket is skipped, then one snapshot of the current states follows once it drains', async () => {
    await makeCore({ sendPauseBytes: 64 * 1024, maxSendBufferBytes: 1024 * 1024 })
    const watcher = await neverReading('watcher')
    watcher.step1()
    await eventually(() => (watcher.read(), step2Answers(watcher.received) === 1), { what: 'watcher synced' })
    watcher.state.extra = 100 * 1024 // something big is still on its way out
    const mover = provider(ownerCredential, true)
    await mover.whenSynced()
    for (let n = 0; n < 20; n++) {
      mover.awareness!.setLocalStateField('cursor', n)
      await new Promise((resolve) => setImmediate(resolve))
    }
    const room = await core.room(workspaceId)
    await eventually(() => room.presence.list().some((entry) => entry.state.cursor === 19), { what: 'the relay holds the last cursor' })
    const awarenessFrames = () => watcher.received.filter((frame): frame is Extract<Frame, { kind: 3 }> => frame.kind === FrameKind.awareness)
    watcher.read()
    expect(awarenessFrames()).toEqual([])
    watcher.state.extra = 0
    // Once drained it is brought up to date by a snapshot, not by the twenty skipped deltas.
    const known = new Awareness(new Y.Doc())
    await eventually(
      () => {
        watcher.read()
        for (const frame of awarenessFrames()) applyAwarenessUpdate(known, frame.body, 'relay')
        return (known.getStates().get(mover.awareness!.clientID) as { cursor?: number } | undefined)?.cursor === 19
      },
      { what: 'the current presence after the drain' }
    )
    expect(watcher.received.filter((frame) => frame.kind === FrameKind.awareness).length).toBeLessThanOrEqual(2)
    expect(watcher.state.closed).toBeNull()
  })
})
