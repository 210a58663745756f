/**
 * VALID-1 and VALID-2 at the function level: which updates and state vectors the relay's
 * check passes, and what it says about the ones it refuses.
 */
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { checkUpdate, isWellFormedStateVector } from '../../src/docs/validate-update.js'
import { deepEmbedUpdate } from '@orchard/protocol/testing'

function nested(depth: number, kind: 'any' | 'types'): Uint8Array {
  const doc = new Y.Doc()
  doc.transact(() => {
    if (kind === 'any') {
      let value: unknown = 1
      for (let level = 0; level < depth; level++) value = { v: value }
      doc.getMap('m').set('deep', value)
      return
    }
    let map = doc.getMap('m')
    for (let level = 0; level < depth; level++) {
      const child = new Y.Map<unknown>()
      map.set('child', child)
      map = child as Y.Map<unknown>
    }
  })
  return Y.encodeStateAsUpdate(doc)
}

describe('checkUpdate', () => {
  it('[VALID-1] passes ordinary edits and refuses deep JSON (any, embed, format) and deeply nested shared types, saying which', () => {
    const doc = new Y.Doc()
    const projects = doc.getMap('projects')
    const project = new Y.Map<unknown>()
    projects.set('p1', project)
    project.set('integrations', [{ id: 'i', type: 'github', settings: { a: { b: { c: [1, 2, 3] } } } }])
    const text = doc.getText('notes')
    text.insert(0, 'hello', { bold: true })
    text.insertEmbed(5, { image: { src: 'x', size: { w: 1, h: 2 } } })
    expect(checkUpdate(Y.encodeStateAsUpdate(doc))).toEqual({ ok: true, empty: false })
    expect(checkUpdate(Y.encodeStateAsUpdate(new Y.Doc()))).toEqual({ ok: true, empty: true })

    expect(checkUpdate(nested(60, 'any')).ok).toBe(true)
    expect(checkUpdate(nested(65, 'any'))).toMatchObject({ ok: false, message: expect.stringContaining('nested deeper than 64 levels') })
    expect(checkUpdate(deepEmbedUpdate(100_000))).toMatchObject({ ok: false, message: expect.stringContaining('nested deeper than 64 levels') })
    const formatted = new Y.Doc()
    let format: unknown = true
    for (let level = 0; level < 80; level++) format = { f: format }
    formatted.getText('t').insert(0, 'x', { deep: format })
    expect(checkUpdate(Y.encodeStateAsUpdate(formatted)).ok).toBe(false)

    expect(checkUpdate(nested(60, 'types')).ok).toBe(true)
    expect(checkUpdate(nested(70, 'types'))).toMatchObject({ ok: false, message: expect.stringContaining('nests shared types deeper than 64') })
    expect(checkUpdate(new Uint8Array([1, 2, 3, 250, 250]))).toMatchObject({ ok: false, message: expect.stringContaining('not a valid Yjs update') })
  })

  it('[VALID-1] refuses an item that names a later change of its own client as its origin (decodes and merges, but no client can apply it)', () => {
    // Wire fuzzer, seed 417631688: item 119080341:1 has origin 119080341:8.
    const update = new Uint8Array(Buffer.from('0102958be4380001010966757a7a2d746578740184958be43808017801958be438010001', 'hex'))
    expect(() => Y.applyUpdate(new Y.Doc(), update)).toThrow()
    const check = checkUpdate(update)
    expect(check).toEqual({ ok: false, message: expect.stringContaining('names 119080341:8, a later change of its own client, as its origin') as string })
    // An honest client's items do name earlier items of their own client: those still pass.
    const doc = new Y.Doc()
    doc.getText('t').insert(0, 'ab')
    doc.getText('t').insert(1, 'c')
    doc.getText('t').insert(0, 'd')
    expect(checkUpdate(Y.encodeStateAsUpdate(doc))).toEqual({ ok: true, empty: false })
  })

  it('[VALID-1] refuses a change of length 0 (it decodes, merges and re-encodes, but a client applying it throws)', () => {
    // Wire fuzzer, seed 423958772, session 158 frame 24: an array item holding no values.
    const fuzzed = new Uint8Array(Buffer.from('0102d3a6d088060028010466757a7a0129017e08010466757a7a00017503750377035446227b31be6d4f1c9800bd7e760104565b20557b6a9d77fe0405f3277602067c4a296d6258770005452f3253547bc621ab334d74c4b400', 'hex'))
    // And by hand: text 'a' then an empty string at the next clock, from client 7.
    const emptyString = new Uint8Array(Buffer.from('01020700040101740161040101740000', 'hex'))
    for (const update of [fuzzed, emptyString]) {
      expect(() => Y.applyUpdate(new Y.Doc(), update)).toThrow()
      expect(checkUpdate(update)).toEqual({ ok: false, message: expect.stringMatching(/^It holds a change of length 0 \(\d+:1\); no client could apply it\.$/) as string })
    }
  })

  it('[VALID-2] a state vector must read in full', () => {
    const doc = new Y.Doc()
    doc.getMap('m').set('a', 1)
    expect(isWellFormedStateVector(Y.encodeStateVector(doc))).toBe(true)
    expect(isWellFormedStateVector(Y.encodeStateVector(new Y.Doc()))).toBe(true)
    expect(isWellFormedStateVector(new Uint8Array([3, 0x80]))).toBe(false)
    expect(isWellFormedStateVector(new Uint8Array([1, 5, 6, 7]))).toBe(false)
    expect(isWellFormedStateVector(new Uint8Array([]))).toBe(false)
  })
})
