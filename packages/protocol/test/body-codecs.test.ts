/**
 * The sync and awareness body codecs the relay uses to serve stored bytes and stamp
 * presence without building a Y.Doc: checked byte for byte against y-protocols.
 */
import * as encoding from 'lib0/encoding'
import * as awarenessProtocol from 'y-protocols/awareness'
import * as syncProtocol from 'y-protocols/sync'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { SYNC_STEP1, SYNC_STEP2, SYNC_UPDATE, decodeAwarenessUpdate, decodeSyncMessage, encodeAwarenessUpdate, encodeSyncMessage } from '../src/index.js'

const cleanup: Array<() => void> = []
afterEach(() => {
  for (const done of cleanup.splice(0)) done()
})

function written(write: (encoder: encoding.Encoder) => void): Uint8Array {
  const encoder = encoding.createEncoder()
  write(encoder)
  return encoding.toUint8Array(encoder)
}

describe('sync and awareness bodies', () => {
  it('[WIRE-22] sync step 1, step 2 and update bodies are byte-identical to y-protocols and decode back', () => {
    const doc = new Y.Doc()
    cleanup.push(() => doc.destroy())
    doc.getText('t').insert(0, 'hello')
    const stateVector = Y.encodeStateVector(doc)
    const update = Y.encodeStateAsUpdate(doc)

    expect(encodeSyncMessage(SYNC_STEP1, stateVector)).toEqual(written((e) => syncProtocol.writeSyncStep1(e, doc)))
    expect(encodeSyncMessage(SYNC_STEP2, update)).toEqual(written((e) => syncProtocol.writeSyncStep2(e, doc)))
    expect(encodeSyncMessage(SYNC_UPDATE, update)).toEqual(written((e) => syncProtocol.writeUpdate(e, update)))

    expect(decodeSyncMessage(written((e) => syncProtocol.writeSyncStep1(e, doc)))).toEqual({ type: SYNC_STEP1, stateVector })
    expect(decodeSyncMessage(written((e) => syncProtocol.writeUpdate(e, update)))).toEqual({ type: SYNC_UPDATE, update })
  })

  it('[WIRE-22] malformed sync bodies decode to undefined instead of throwing', () => {
    const valid = encodeSyncMessage(SYNC_UPDATE, new Uint8Array([1, 2, 3]))
    expect(decodeSyncMessage(new Uint8Array([...valid, 0]))).toBeUndefined()
    expect(decodeSyncMessage(encodeSyncMessage(3 as 2, new Uint8Array()))).toBeUndefined()
    expect(decodeSyncMessage(new Uint8Array([0, 200]))).toBeUndefined()
    expect(decodeSyncMessage(new Uint8Array())).toBeUndefined()
  })

  it('[WIRE-22] awareness updates are byte-identical to y-protocols both ways; bad states decode to undefined', () => {
    const doc = new Y.Doc()
    const awareness = new awarenessProtocol.Awareness(doc)
    cleanup.push(() => {
      awareness.destroy()
      doc.destroy()
    })
    awareness.setLocalState({ user: { name: 'Ana' }, cursor: 3 })
    const theirs = awarenessProtocol.encodeAwarenessUpdate(awareness, [doc.clientID])
    const entries = decodeAwarenessUpdate(theirs)
    expect(entries).toEqual([{ clientID: doc.clientID, clock: 1, state: { user: { name: 'Ana' }, cursor: 3 } }])
    expect(encodeAwarenessUpdate(entries!)).toEqual(theirs)

    const left = encodeAwarenessUpdate([{ clientID: 7, clock: 2, state: null }])
    expect(decodeAwarenessUpdate(left)).toEqual([{ clientID: 7, clock: 2, state: null }])

    const arrayState = written((e) => {
      encoding.writeVarUint(e, 1)
      encoding.writeVarUint(e, 1)
      encoding.writeVarUint(e, 1)
      encoding.writeVarString(e, '[1,2]')
    })
    expect(decodeAwarenessUpdate(arrayState)).toBeUndefined()
    expect(decodeAwarenessUpdate(new Uint8Array([...left, 9]))).toBeUndefined()
    expect(decodeAwarenessUpdate(new Uint8Array([5]))).toBeUndefined()
  })
})
