/**
 * TerminalRing alone (TERM-2): what it keeps, trims, drops and hands back, byte by byte.
 * (Written for the mutants the end-to-end terminal tests left alive: overlaps, skips,
 * eviction bounds, partial reads.)
 */
import { describe, expect, it } from 'vitest'
import { TerminalRing } from '../src/terminals/TerminalRing.js'

const text = (value: string) => new TextEncoder().encode(value)
const read = (bytes: Uint8Array) => new TextDecoder().decode(bytes)
/** The "frame" is the offset and text, so a test can see what was encoded for which bytes. */
const encode = (offset: number, data: Uint8Array) => text(`${offset}:${read(data)}`)
const held = (ring: TerminalRing) => ring.readFrom(ring.start, encode).map((chunk) => `${chunk.offset}:${read(chunk.data)}`)

describe('TerminalRing', () => {
  it('[TERM-2] appends in order; a repeat is ignored, an overlap trimmed to its new bytes, a skip restarts the ring', () => {
    const ring = new TerminalRing(100)
    expect(ring.append(1, 0, text('abc'), encode)).toMatchObject({ offset: 0 })
    expect(ring.append(1, 3, text('def'), encode)).toMatchObject({ offset: 3 })
    expect(ring.append(1, 0, text('abcdef'), encode)).toBeNull() // all held already
    expect(ring.append(1, 3, text('def'), encode)).toBeNull() // ends exactly at the end: nothing new
    const overlap = ring.append(1, 4, text('efgh'), encode)
    expect(overlap && { offset: overlap.offset, data: read(overlap.data), frame: read(overlap.frame) }).toEqual({ offset: 6, data: 'gh', frame: '6:gh' })
    expect([ring.start, ring.end, ring.size]).toEqual([0, 8, 8])
    expect(held(ring)).toEqual(['0:abc', '3:def', '6:gh'])
    // A chunk past the end: the host skipped bytes; the ring restarts there.
    expect(ring.append(1, 20, text('xy'), encode)).toMatchObject({ offset: 20 })
    expect([ring.start, ring.end, ring.size]).toEqual([20, 22, 2])
    expect(held(ring)).toEqual(['20:xy'])
    // Exactly at the end: appended, nothing dropped.
    ring.append(1, 22, text('z'), encode)
    expect(held(ring)).toEqual(['20:xy', '22:z'])
  })

  it('[TERM-2] an older generation is ignored; a newer one starts over at its offset; the same one continues', () => {
    const ring = new TerminalRing(100)
    ring.append(2, 5, text('abc'), encode)
    expect(ring.append(1, 8, text('old'), encode)).toBeNull()
    expect([ring.generation, ring.start, ring.end]).toEqual([2, 5, 8])
    ring.append(2, 8, text('d'), encode)
    expect(held(ring)).toEqual(['5:abc', '8:d'])
    ring.append(3, 0, text('new'), encode)
    expect([ring.generation, ring.start, ring.end]).toEqual([3, 0, 3])
    expect(held(ring)).toEqual(['0:new'])
  })

  it('[TERM-2] eviction drops whole oldest chunks only while over the limit; exactly at the limit keeps them', () => {
    const ring = new TerminalRing(6)
    ring.append(1, 0, text('abc'), encode)
    ring.append(1, 3, text('def'), encode) // exactly 6: both kept
    expect([ring.start, ring.size]).toEqual([0, 6])
    ring.append(1, 6, text('g'), encode) // 7 > 6: 'abc' goes
    expect([ring.start, ring.end, ring.size]).toEqual([3, 7, 4])
    expect(held(ring)).toEqual(['3:def', '6:g'])
  })

  it('[TERM-2] one chunk bigger than the ring keeps its tail, re-encoded', () => {
    const ring = new TerminalRing(4)
    const chunk = ring.append(1, 10, text('abcdefgh'), encode)
    expect(chunk).toMatchObject({ offset: 10 })
    expect([ring.start, ring.end, ring.size]).toEqual([14, 18, 4])
    expect(ring.readFrom(14, encode).map((entry) => read(entry.frame))).toEqual(['14:efgh'])
  })

  it('[TERM-2] holds() is exactly [start, end] of the current generation', () => {
    const ring = new TerminalRing(6)
    ring.append(1, 0, text('abc'), encode)
    ring.append(1, 3, text('def'), encode)
    ring.append(1, 6, text('g'), encode) // start 3, end 7
    expect([2, 3, 5, 7, 8].map((offset) => ring.holds(1, offset))).toEqual([false, true, true, true, false])
    expect(ring.holds(2, 3)).toBe(false)
    expect(ring.holds(0, 3)).toBe(false)
  })

  it('[TERM-2] readFrom skips chunks that end at or before the offset and slices the one it lands in', () => {
    const ring = new TerminalRing(100)
    ring.append(1, 0, text('abc'), encode)
    ring.append(1, 3, text('def'), encode)
    ring.append(1, 6, text('ghi'), encode)
    expect(ring.readFrom(3, encode).map((chunk) => read(chunk.frame))).toEqual(['3:def', '6:ghi'])
    expect(ring.readFrom(4, encode).map((chunk) => read(chunk.frame))).toEqual(['4:ef', '6:ghi'])
    expect(ring.readFrom(9, encode)).toEqual([])
    // Whole chunks go out as they are (the frame made once, TERM-3), not re-encoded.
    const [first] = ring.readFrom(0, () => text('re-encoded'))
    expect(read(first!.frame)).toBe('0:abc')
  })
})
