/**
 * The envelope, the receive order and the merging, without RelayCast: pure functions and
 * one small class, so each rule is checked exactly.
 */
import { FrameKind, decodeFrame, encodeFrame, syncFrame, type Frame } from '@orchard/protocol'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { afterEach, describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import { Awareness, applyAwarenessUpdate, encodeAwarenessUpdate } from 'y-protocols/awareness'
import {
  ENVELOPE_PREFIX,
  EntryKind,
  EnvelopeError,
  decodeEntries,
  decodeEnvelope,
  encodeEntries,
  encodeEnvelope,
  mergePending,
  packEnvelopes,
  type Entry,
  type Envelope,
  type Pending
} from '../src/index.js'
import { InboundStreams } from '../src/InboundStreams.js'

const frameEntry = (frame: Frame, targets: string[] = []): Entry => ({ kind: EntryKind.frame, targets, conn: 'c1', payload: encodeFrame(frame) })

function updateFrame(doc: Y.Doc, edit: () => void): Frame {
  let update: Uint8Array | null = null
  doc.once('update', (u: Uint8Array) => (update = u))
  edit()
  const body = encoding.encode((encoder) => {
    encoding.writeVarUint(encoder, 2)
    encoding.writeVarUint8Array(encoder, update as unknown as Uint8Array)
  })
  return syncFrame('workspace', body)
}

describe('envelope', () => {
  it('[RC-1] frames round-trip byte for byte inside orc1 text; other text is ignored; another version is refused with advice', () => {
    const entries = [frameEntry({ kind: FrameKind.ack, channel: 'workspace', seq: 3 }, ['orc-ben/x']), { kind: EntryKind.open, targets: [], conn: 'c2', payload: new Uint8Array() }]
    const text = encodeEnvelope({ version: 1, sender: 'orc-ana', epoch: 42, stream: 'dm', seq: 7, body: encodeEntries(entries as Entry[]) })
    expect(text.startsWith(ENVELOPE_PREFIX)).toBe(true)
    expect(text).not.toContain('@')
    const back = decodeEnvelope(text) as Envelope
    expect(back).toMatchObject({ sender: 'orc-ana', epoch: 42, stream: 'dm', seq: 7 })
    expect(decodeEntries(back.body)).toEqual(entries)
    expect(decodeEnvelope('hello @ana, the build is green')).toBeNull()
    const future = ENVELOPE_PREFIX + Buffer.from([9, 0]).toString('base64')
    expect(() => decodeEnvelope(future)).toThrow(/envelope version 9; this build reads 1. Update Orchard/)
    expect(() => decodeEnvelope(ENVELOPE_PREFIX + 'AQ')).toThrow(EnvelopeError)
  })

  it('[RC-3] a batch longer than the cap is split into numbered fragments that join back into the same entries', () => {
    const big = new Uint8Array(50_000).map((_, i) => i % 251)
    const body = encodeEntries([{ kind: EntryKind.frame, targets: [], conn: 'c', payload: big }])
    let seq = 0
    const texts = packEnvelopes({ sender: 'orc-ana', epoch: 1, stream: 'channel' }, body, 8_000, () => ++seq)
    expect(texts.length).toBeGreaterThan(5)
    for (const text of texts) expect(text.length).toBeLessThanOrEqual(8_000)
    const pieces = texts.map((text) => decodeEnvelope(text) as Envelope)
    expect(pieces.map((piece) => piece.seq)).toEqual(texts.map((_, i) => 1 + i))
    const delivered: Entry[][] = []
    const inbound = new InboundStreams({ gapTimeoutMs: 1_000, deliver: (_s, _e, entries) => delivered.push(entries), dropped: () => {} })
    for (const piece of pieces) inbound.accept('orc-ana', piece)
    expect(delivered).toHaveLength(1)
    expect(delivered[0]?.[0]?.payload).toEqual(big)
    inbound.clear()
  })
})

describe('receive order', () => {
  afterEach(() => vi.useRealTimers())

  const envelope = (seq: number, epoch = 5, marker = seq): Envelope => ({
    version: 1,
    sender: 'orc-ben',
    epoch,
    stream: 'channel',
    seq,
    body: encodeEntries([{ kind: EntryKind.keepalive, targets: [], conn: String(marker), payload: new Uint8Array() }])
  })

  it('[RC-5] reordered and duplicated posts come out once, in order; an older epoch is a replay and is dropped', () => {
    const out: string[] = []
    const dropped: string[] = []
    const inbound = new InboundStreams({ gapTimeoutMs: 10_000, deliver: (_s, _e, entries) => out.push(entries[0]?.conn ?? ''), dropped: (reason) => dropped.push(reason) })
    for (const seq of [1, 3, 2, 2, 5, 4, 1]) inbound.accept('orc-ben', envelope(seq))
    expect(out).toEqual(['1', '2', '3', '4', '5'])
    inbound.accept('orc-ben', envelope(1, 6, 100))
    inbound.accept('orc-ben', envelope(6, 5))
    expect(out).toEqual(['1', '2', '3', '4', '5', '100'])
    expect(dropped).toEqual(['duplicate', 'duplicate', 'replay'])
    inbound.clear()
  })

  it('[RC-5] a joiner told where the host\'s channel stands reads from there at once; earlier posts are not for it', () => {
    const out: string[] = []
    const inbound = new InboundStreams({ gapTimeoutMs: 60_000, deliver: (_s, _e, entries) => out.push(entries[0]?.conn ?? ''), dropped: () => {} })
    inbound.accept('orc-ben', envelope(8))
    inbound.accept('orc-ben', envelope(7))
    inbound.accept('orc-ben', envelope(9))
    expect(out).toEqual([]) // where does the stream start? unknown: held
    inbound.startAt('orc-ben', 'channel', 5, 8)
    expect(out).toEqual(['8', '9'])
    inbound.clear()
  })

  it('[RC-5] a gap that stays open past the timeout is skipped, and what was held comes out in order', () => {
    vi.useFakeTimers()
    const out: string[] = []
    const dropped: string[] = []
    const inbound = new InboundStreams({ gapTimeoutMs: 1_500, deliver: (_s, _e, entries) => out.push(entries[0]?.conn ?? ''), dropped: (reason) => dropped.push(reason) })
    for (const seq of [1, 2, 4, 5]) inbound.accept('orc-ben', envelope(seq))
    expect(out).toEqual(['1', '2'])
    vi.advanceTimersByTime(1_499)
    expect(out).toEqual(['1', '2'])
    vi.advanceTimersByTime(1)
    expect(out).toEqual(['1', '2', '4', '5'])
    expect(dropped).toEqual(['gap-skipped'])
    inbound.accept('orc-ben', envelope(3))
    expect(out).toHaveLength(4)
    inbound.clear()
  })
})

describe('merging', () => {
  it('[RC-7] queued doc updates for one doc and receiver become one update that yields the same doc', () => {
    const doc = new Y.Doc()
    const frames = [1, 2, 3].map((n) => updateFrame(doc, () => doc.getMap('m').set(`k${n}`, n)))
    const commits: number[] = []
    const pending: Pending[] = frames.map((frame) => ({ entry: frameEntry(frame), weight: 1, onCommit: (weight) => commits.push(weight) }))
    const merged = mergePending(pending)
    expect(merged).toHaveLength(1)
    expect(merged[0]?.weight).toBe(3)
    merged[0]?.onCommit?.(merged[0].weight)
    expect(commits).toEqual([3])
    const replica = new Y.Doc()
    const frame = decodeFrame((merged[0] as Pending).entry.payload)
    if (frame.kind !== FrameKind.sync) throw new Error('expected a sync frame')
    const decoder = decoding.createDecoder(frame.body)
    expect(decoding.readVarUint(decoder)).toBe(2)
    Y.applyUpdate(replica, decoding.readVarUint8Array(decoder))
    expect(replica.getMap('m').toJSON()).toEqual({ k1: 1, k2: 2, k3: 3 })
  })

  it('[RC-7] presence keeps each client latest state; an RPC between terminal chunks keeps them apart', () => {
    const doc = new Y.Doc()
    const awareness = new Awareness(doc)
    const states: Uint8Array[] = []
    for (const cursor of [1, 2, 3]) {
      awareness.setLocalState({ cursor })
      states.push(encodeAwarenessUpdate(awareness, [doc.clientID]))
    }
    const merged = mergePending(states.map((body) => ({ entry: frameEntry({ kind: FrameKind.awareness, channel: 'workspace', body }), weight: 1 })))
    expect(merged).toHaveLength(1)
    const frame = decodeFrame((merged[0] as Pending).entry.payload)
    if (frame.kind !== FrameKind.awareness) throw new Error('expected awareness')
    const other = new Awareness(new Y.Doc())
    applyAwarenessUpdate(other, frame.body, null)
    expect(other.getStates().get(doc.clientID)).toEqual({ cursor: 3 })

    const chunk = (offset: number, text: string): Pending => ({
      entry: frameEntry({ kind: FrameKind.termOutput, channel: 'agent-1', generation: 1, offset, data: new TextEncoder().encode(text) }, ['v/1']),
      weight: 1
    })
    const joined = mergePending([chunk(0, 'ab'), chunk(2, 'cd'), chunk(4, 'ef')])
    expect(joined).toHaveLength(1)
    const out = decodeFrame((joined[0] as Pending).entry.payload)
    expect(out.kind === FrameKind.termOutput && new TextDecoder().decode(out.data)).toBe('abcdef')
    const rpc: Pending = { entry: frameEntry({ kind: FrameKind.rpcRequest, channel: '', id: 1, method: 'x', params: {} }, ['v/1']), weight: 1 }
    expect(mergePending([chunk(0, 'ab'), rpc, chunk(2, 'cd')])).toHaveLength(3)
  })

  it('[RC-7] the same frame for two connections goes once with both addresses', () => {
    const payload = encodeFrame({ kind: FrameKind.ack, channel: 'workspace', seq: 1 })
    const merged = mergePending([
      { entry: { kind: EntryKind.frame, targets: ['a/1'], conn: '', payload }, weight: 1 },
      { entry: { kind: EntryKind.frame, targets: ['b/1'], conn: '', payload: payload.slice() }, weight: 1 }
    ])
    expect(merged.map((item) => item.entry.targets)).toEqual([['a/1', 'b/1']])
  })
})
