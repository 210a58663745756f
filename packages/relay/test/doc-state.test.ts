/**
 * DocState alone (DOCS-1, DOCS-2): the merged bytes the relay keeps for a doc, its lazy tail,
 * its state vector and the diffs it serves. (Written for the mutants the end-to-end sync
 * tests left alive: the tail's merge bounds, the state-vector cache, the diff shortcut.)
 */
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { DocState, isEmptyUpdate } from '../src/docs/DocState.js'

/** A doc that one client edits, handing out each edit as an update. */
function writer(clientID = 1) {
  const doc = new Y.Doc()
  doc.clientID = clientID
  const text = doc.getText('notes')
  return {
    doc,
    insert(value: string): Uint8Array {
      const before = Y.encodeStateVector(doc)
      text.insert(text.length, value)
      return Y.encodeStateAsUpdate(doc, before)
    },
    remove(index: number, length: number): Uint8Array {
      const before = Y.encodeStateVector(doc)
      let update: Uint8Array | null = null
      const capture = (bytes: Uint8Array) => (update = bytes)
      doc.on('update', capture)
      text.delete(index, length)
      doc.off('update', capture)
      expect(Y.encodeStateVector(doc)).toEqual(before) // a deletion adds no structs
      return update as unknown as Uint8Array
    }
  }
}

function textOf(update: Uint8Array): string {
  const doc = new Y.Doc()
  Y.applyUpdate(doc, update)
  return doc.getText('notes').toString()
}

const EMPTY = Y.encodeStateAsUpdate(new Y.Doc())

describe('DocState', () => {
  it('[DOCS-1] starts from nothing, one update as given, or several merged into one', () => {
    expect(new DocState().fullUpdate()).toEqual(EMPTY)
    expect(new DocState().bytes).toBe(EMPTY.byteLength)
    const w = writer()
    const a = w.insert('a')
    const b = w.insert('b')
    const one = new DocState([a])
    expect(one.fullUpdate()).toBe(a)
    expect(one.bytes).toBe(a.byteLength)
    const two = new DocState([a, b])
    expect(two.fullUpdate()).toEqual(Y.mergeUpdates([a, b]))
    expect(textOf(two.fullUpdate())).toBe('ab')
  })

  it('[DOCS-1] appended updates count toward bytes at once and are merged lazily: after 255 the tail stands, the 256th merges it', () => {
    const w = writer()
    const first = w.insert('x')
    const state = new DocState([first])
    let sum = first.byteLength
    for (let i = 0; i < 255; i++) {
      const update = w.insert('y')
      state.append(update)
      sum += update.byteLength
    }
    // Not merged yet: bytes is the plain sum of what was appended.
    expect(state.bytes).toBe(sum)
    const last = w.insert('z')
    state.append(last)
    // 256 in the tail: merged into one update, smaller than the parts.
    expect(state.bytes).toBeLessThan(sum + last.byteLength)
    expect(textOf(state.fullUpdate())).toBe(`x${'y'.repeat(255)}z`)
    expect(state.bytes).toBe(state.fullUpdate().byteLength)
  })

  it('[DOCS-1] a tail larger than the base and 64 KiB is merged; one at exactly 64 KiB is not', () => {
    const w = writer()
    const state = new DocState([w.insert('base')])
    const baseBytes = state.bytes
    // An update of exactly 64 KiB: measure the encoding's overhead for this doc, then size the text.
    const insertAfterBase = (length: number) => {
      const copy = writer(7)
      Y.applyUpdate(copy.doc, Y.encodeStateAsUpdate(w.doc))
      return copy.insert('q'.repeat(length))
    }
    const overhead = insertAfterBase(65_000).byteLength - 65_000
    const update = insertAfterBase(65_536 - overhead)
    expect(update.byteLength).toBe(65_536)
    state.append(update)
    expect(state.bytes).toBe(baseBytes + 65_536)
    const more = writer(3).insert('!')
    state.append(more)
    // Now over 64 KiB (and over the base): merged, so the separate headers are gone.
    expect(state.bytes).toBeLessThan(baseBytes + 65_536 + more.byteLength)
    expect(state.bytes).toBe(state.fullUpdate().byteLength)
  })

  it('[DOCS-1] a tail bigger than 64 KiB but not than the base waits; once it outgrows the base it is merged', () => {
    const big = writer().insert('b'.repeat(100_000))
    const state = new DocState([big])
    const w = writer(5)
    const chunk = w.insert('c'.repeat(60_000))
    state.append(chunk)
    const next = w.insert('c'.repeat(20_000))
    state.append(next)
    // 80 KB of tail is over 64 KiB but under the 100 KB base: still the plain sum.
    expect(state.bytes).toBe(big.byteLength + chunk.byteLength + next.byteLength)
    const last = w.insert('c'.repeat(30_000))
    state.append(last)
    expect(state.bytes).toBeLessThan(big.byteLength + chunk.byteLength + next.byteLength + last.byteLength)
    expect(state.bytes).toBe(state.fullUpdate().byteLength)
  })

  it('[DOCS-1] the state vector follows every append; an empty vector gets the whole doc, a current one only what it lacks', () => {
    const w = writer()
    const state = new DocState([w.insert('hello')])
    expect(state.stateVector()).toEqual(Y.encodeStateVector(w.doc))
    const peer = new Y.Doc()
    Y.applyUpdate(peer, state.fullUpdate())
    const peerVector = Y.encodeStateVector(peer)
    state.append(w.insert(' world'))
    expect(state.stateVector()).toEqual(Y.encodeStateVector(w.doc))
    // Asked twice: the same answer.
    expect(state.stateVector()).toEqual(Y.encodeStateVector(w.doc))
    expect(state.diff(Y.encodeStateVector(new Y.Doc()))).toBe(state.fullUpdate())
    const missing = state.diff(peerVector)
    expect(missing.byteLength).toBeLessThan(state.fullUpdate().byteLength)
    Y.applyUpdate(peer, missing)
    expect(peer.getText('notes').toString()).toBe('hello world')
    // A peer that has everything gets nothing new.
    expect(isEmptyUpdate(state.diff(Y.encodeStateVector(w.doc)))).toBe(true)
  })

  it('[DOCS-2] isEmptyUpdate: true only for no structs and no deletions; a malformed update throws', () => {
    const w = writer()
    expect(isEmptyUpdate(EMPTY)).toBe(true)
    const insert = w.insert('abc')
    expect(isEmptyUpdate(insert)).toBe(false)
    const deletion = w.remove(0, 1)
    expect(Y.decodeUpdate(deletion).structs).toHaveLength(0)
    expect(isEmptyUpdate(deletion)).toBe(false)
    expect(() => isEmptyUpdate(new Uint8Array([9, 9, 9, 9]))).toThrow()
  })
})
