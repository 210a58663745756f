import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import * as encoding from 'lib0/encoding'
import * as authProtocol from 'y-protocols/auth'
import * as syncProtocol from 'y-protocols/sync'
import { FrameDecodeError, FrameKind, decodeFrame, decodeYwsMessage, encodeFrame, encodeYwsMessage, syncFrame, type YwsMessage } from './index.js'
import { fuzzParams } from './testing/index.js'
import { raw, thrown } from '../test/harness/raw.js'

// Each helper writes a message exactly as y-websocket's provider (src/y-websocket.js) and
// server (bin/utils.js, @y/websocket-server src/utils.js) do.
function stockSyncStep1(doc: Y.Doc): Uint8Array {
  const e = encoding.createEncoder()
  encoding.writeVarUint(e, 0) // messageSync
  syncProtocol.writeSyncStep1(e, doc)
  return encoding.toUint8Array(e)
}

function stockAwareness(update: Uint8Array): Uint8Array {
  const e = encoding.createEncoder()
  encoding.writeVarUint(e, 1) // messageAwareness
  encoding.writeVarUint8Array(e, update)
  return encoding.toUint8Array(e)
}

function stockPermissionDenied(reason: string): Uint8Array {
  const e = encoding.createEncoder()
  encoding.writeVarUint(e, 2) // messageAuth
  authProtocol.writePermissionDenied(e, reason)
  return encoding.toUint8Array(e)
}

function refusal(bytes: Uint8Array): FrameDecodeError {
  const err = thrown(() => decodeYwsMessage(bytes))
  if (!(err instanceof FrameDecodeError)) throw new Error(`expected FrameDecodeError, got ${String(err)}`)
  return err
}

const bytes = fc.uint8Array({ maxLength: 48 })
const ywsMessage: fc.Arbitrary<YwsMessage> = fc.oneof(
  bytes.map((body) => ({ type: 'sync' as const, body })),
  bytes.map((update) => ({ type: 'awareness' as const, update })),
  fc.string({ unit: 'binary', maxLength: 24 }).map((reason) => ({ type: 'auth' as const, reason })),
  fc.constant({ type: 'query-awareness' as const })
)

describe('y-websocket messages', () => {
  it('[YWS-1] encodes byte-identically to the stock y-websocket writers', () => {
    const doc = new Y.Doc()
    doc.getText('t').insert(0, 'hello')
    const step1 = stockSyncStep1(doc)
    expect(encodeYwsMessage({ type: 'sync', body: step1.subarray(1) })).toEqual(step1)
    const update = Uint8Array.of(1, 5, 9, 2, 123, 125)
    expect(encodeYwsMessage({ type: 'awareness', update })).toEqual(stockAwareness(update))
    expect(encodeYwsMessage({ type: 'auth', reason: 'read-only' })).toEqual(stockPermissionDenied('read-only'))
    expect(encodeYwsMessage({ type: 'query-awareness' })).toEqual(Uint8Array.of(3))
  })

  it('[YWS-2] a sync payload is the SYNC frame body, so bridging copies no bytes of it', () => {
    const doc = new Y.Doc()
    doc.getMap('m').set('k', 1)
    const stock = stockSyncStep1(doc)
    const message = decodeYwsMessage(stock)
    if (message.type !== 'sync') throw new Error('expected sync')
    const frame = decodeFrame(encodeFrame(syncFrame('workspace', message.body)))
    if (frame.kind !== FrameKind.sync) throw new Error('expected SYNC')
    expect(encodeYwsMessage({ type: 'sync', body: frame.body })).toEqual(stock)
    expect(decodeYwsMessage(Uint8Array.of(0))).toEqual({ type: 'sync', body: new Uint8Array() })
  })

  it('[YWS-3] the awareness payload is length-prefixed and nothing may follow it', () => {
    const update = Uint8Array.of(1, 7, 1, 2, 123, 125)
    expect(decodeYwsMessage(stockAwareness(update))).toEqual({ type: 'awareness', update })
    expect(refusal(raw({ uint: 1 }, { uint: 6 }, { raw: update }, { raw: [0] })).code).toBe('bad-frame')
    expect(refusal(raw({ uint: 1 }, { uint: 7 }, { raw: update })).code).toBe('bad-frame')
    expect(refusal(raw({ uint: 1 })).code).toBe('bad-frame')
  })

  it('[YWS-4] auth is permission-denied with a reason; query-awareness is empty', () => {
    expect(decodeYwsMessage(stockPermissionDenied('viewer'))).toEqual({ type: 'auth', reason: 'viewer' })
    expect(refusal(raw({ uint: 2 }, { uint: 1 }, { str: 'x' })).code).toBe('bad-frame')
    expect(refusal(raw({ uint: 2 }, { uint: 0 }, { str: 'x' }, { raw: [0] })).code).toBe('bad-frame')
    expect(refusal(raw({ uint: 2 }, { uint: 0 })).code).toBe('bad-frame')
    expect(decodeYwsMessage(Uint8Array.of(3))).toEqual({ type: 'query-awareness' })
    expect(refusal(Uint8Array.of(3, 0)).code).toBe('bad-frame')
    expect(thrown(() => encodeYwsMessage({ type: 'auth', reason: '\ud800' }))).toBeInstanceOf(TypeError)
  })

  it('[YWS-5] unknown message types are unknown-kind; malformed input is bad-frame', () => {
    const unknown = refusal(Uint8Array.of(4, 1, 2))
    expect(unknown.code).toBe('unknown-kind')
    expect(unknown.kind).toBe(4)
    expect(refusal(new Uint8Array()).code).toBe('bad-frame')
    expect(refusal(Uint8Array.of(0x80)).code).toBe('bad-frame')
    expect(refusal('sync' as unknown as Uint8Array).code).toBe('bad-frame')
  })

  it('[YWS-5] arbitrary and mutated bytes decode or throw FrameDecodeError', () => {
    const inputs = fc.oneof(
      fc.uint8Array({ maxLength: 64 }),
      fc.tuple(ywsMessage, fc.nat(), fc.uint8Array({ maxLength: 4 })).map(([m, at, extra]) => {
        const b = Array.from(encodeYwsMessage(m))
        b.splice(at % (b.length + 1), at % 3, ...extra)
        return Uint8Array.from(b)
      })
    )
    fc.assert(
      fc.property(inputs, (input) => {
        const err = thrown(() => decodeYwsMessage(input))
        if (err !== undefined) expect(err).toBeInstanceOf(FrameDecodeError)
      }),
      fuzzParams(1000)
    )
  })

  it('[YWS-6] decode(encode(m)) deep-equals m', () => {
    fc.assert(
      fc.property(ywsMessage, (message) => {
        expect(decodeYwsMessage(encodeYwsMessage(message))).toEqual(message)
      }),
      fuzzParams(500)
    )
  })
})
