import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import * as syncProtocol from 'y-protocols/sync'
import * as awarenessProtocol from 'y-protocols/awareness'
import { FrameKind, awarenessFrame, decodeFrame, encodeFrame, syncFrame } from '../src/index.js'

/** Sends a y-protocols sync message through a SYNC frame; returns the receiver's reply (may be empty). */
function deliverSync(body: Uint8Array, to: Y.Doc, channel = 'workspace'): Uint8Array {
  const frame = decodeFrame(encodeFrame(syncFrame(channel, body)))
  if (frame.kind !== FrameKind.sync) throw new Error(`expected SYNC, got ${frame.kind}`)
  expect(frame.channel).toBe(channel)
  expect(frame.body).toEqual(body)
  const reply = encoding.createEncoder()
  syncProtocol.readSyncMessage(decoding.createDecoder(frame.body), reply, to, 'remote')
  return encoding.toUint8Array(reply)
}

const awarenesses: awarenessProtocol.Awareness[] = []
afterEach(() => {
  // Awareness starts an interval timer; stop it so the worker can exit.
  for (const a of awarenesses.splice(0)) a.destroy()
})

describe('y-protocols bodies embedded unchanged', () => {
  it('[WIRE-8] a sync step 1 / step 2 exchange through SYNC frames converges two real docs', () => {
    const a = new Y.Doc()
    const b = new Y.Doc()
    a.getText('notes').insert(0, 'from a')
    b.getMap('projects').set('p1', 'from b')

    const step1 = encoding.createEncoder()
    syncProtocol.writeSyncStep1(step1, a)
    const step2 = deliverSync(encoding.toUint8Array(step1), b)
    expect(decoding.readVarUint(decoding.createDecoder(step2))).toBe(syncProtocol.messageYjsSyncStep2)
    expect(deliverSync(step2, a)).toHaveLength(0)

    const back = encoding.createEncoder()
    syncProtocol.writeSyncStep1(back, b)
    deliverSync(deliverSync(encoding.toUint8Array(back), a), b)

    expect(a.getMap('projects').get('p1')).toBe('from b')
    expect(b.getText('notes').toString()).toBe('from a')
    expect(Y.encodeStateVector(a)).toEqual(Y.encodeStateVector(b))
  })

  it('[WIRE-8] an incremental update travels in a SYNC frame', () => {
    const a = new Y.Doc()
    const b = new Y.Doc()
    a.on('update', (update: Uint8Array, origin: unknown) => {
      if (origin === 'remote') return
      const message = encoding.createEncoder()
      syncProtocol.writeUpdate(message, update)
      deliverSync(encoding.toUint8Array(message), b, 'control')
    })
    a.getArray('feed').push(['spawned alice'])
    a.getArray('feed').push(['stopped alice'])
    expect(b.getArray('feed').toArray()).toEqual(['spawned alice', 'stopped alice'])
  })

  it('[WIRE-8] an awareness update travels in an AWARENESS frame', () => {
    const a = new awarenessProtocol.Awareness(new Y.Doc())
    const b = new awarenessProtocol.Awareness(new Y.Doc())
    awarenesses.push(a, b)
    a.setLocalState({ member: 'ada', project: 'p1' })
    const update = awarenessProtocol.encodeAwarenessUpdate(a, [a.clientID])
    const frame = decodeFrame(encodeFrame(awarenessFrame('workspace', update)))
    if (frame.kind !== FrameKind.awareness) throw new Error('expected AWARENESS')
    awarenessProtocol.applyAwarenessUpdate(b, frame.body, 'remote')
    expect(b.getStates().get(a.clientID)).toEqual({ member: 'ada', project: 'p1' })
  })

  it('[WIRE-7] the frame is header + the y-protocols bytes, with no length prefix', () => {
    const doc = new Y.Doc()
    doc.getText('t').insert(0, 'x')
    const step1 = encoding.createEncoder()
    syncProtocol.writeSyncStep1(step1, doc)
    const body = encoding.toUint8Array(step1)
    const bytes = encodeFrame(syncFrame('workspace', body))
    const header = [1, FrameKind.sync, 9, ...new TextEncoder().encode('workspace')]
    expect(Array.from(bytes)).toEqual([...header, ...body])
  })
})
