import { describe, expect, it } from 'vitest'
import { LazyDocIndex, type DocIndex } from './LazyDocIndex.js'

/** Records what it was built from and what it read, by update size. */
class Recorder implements DocIndex {
  readonly reads: number[][] = []
  constructor(readonly builtFrom: number) {}
  read(updates: readonly Uint8Array[]): void {
    this.reads.push(updates.map((update) => update.byteLength))
  }
}

describe('LazyDocIndex', () => {
  it('[VALID-3] [VALID-6] the index is built from the doc only when first asked, then reads the updates stored since in one batch at the next question', () => {
    const builds: number[] = []
    const lazy = new LazyDocIndex((full) => {
      builds.push(full.byteLength)
      return new Recorder(full.byteLength)
    })
    lazy.stored(new Uint8Array(5), 100) // no index yet: nothing is queued
    expect(builds).toEqual([])
    const index = lazy.current(() => new Uint8Array(100))
    expect([builds, index.reads]).toEqual([[100], []])
    lazy.stored(new Uint8Array(3), 103)
    lazy.stored(new Uint8Array(4), 107)
    expect(index.reads).toEqual([]) // storing only queues
    expect(lazy.current(() => new Uint8Array(107))).toBe(index)
    expect(index.reads).toEqual([[3, 4]])
    lazy.current(() => new Uint8Array(107))
    expect(index.reads).toEqual([[3, 4]]) // nothing new: nothing read again
  })

  it('[VALID-3] [VALID-6] a backlog larger than the doc (and 64 KiB) drops the index; the next question rebuilds it from the doc', () => {
    let builds = 0
    const lazy = new LazyDocIndex((full) => {
      builds++
      return new Recorder(full.byteLength)
    })
    const first = lazy.current(() => new Uint8Array(10))
    lazy.stored(new Uint8Array(60 * 1024), 100 * 1024) // 60 KiB queued, the doc 100 KiB: kept
    const kept = lazy.current(() => new Uint8Array(100 * 1024))
    expect([kept, builds, first.reads]).toEqual([first, 1, [[60 * 1024]]])
    lazy.stored(new Uint8Array(80 * 1024), 100 * 1024) // 80 KiB queued: kept
    lazy.stored(new Uint8Array(30 * 1024), 100 * 1024) // 110 KiB queued > 100 KiB: dropped
    const rebuilt = lazy.current(() => new Uint8Array(100 * 1024))
    expect(builds).toBe(2)
    expect(rebuilt).not.toBe(first)
    expect([rebuilt.builtFrom, rebuilt.reads]).toEqual([100 * 1024, []])
  })
})
