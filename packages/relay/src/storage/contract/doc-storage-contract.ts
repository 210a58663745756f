/**
 * The DocStorage contract (RULES.md, STORE-DOC-*). Every implementation runs it, the
 * in-memory reference included; behaviour that only durable stores have is gated on the
 * `reopen` capability, never on which implementation this is.
 */
import fc from 'fast-check'
import * as Y from 'yjs'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { DocStorage } from '../types.js'
import { bytes, docFrom, fuzzParams, sameYjsDoc, yjsHistory } from './helpers.js'

export interface DocStorageHarness {
  storage: DocStorage
  /** Closes whatever storage the harness currently holds and removes its files. */
  teardown: () => Promise<void>
  /** Durable stores only: closes the storage and opens the same backing file again. */
  reopen?: () => Promise<DocStorage>
}

export function runDocStorageContract(title: string, setup: () => Promise<DocStorageHarness>): void {
  describe(`DocStorage contract: ${title}`, () => {
    let harness: DocStorageHarness
    let storage: DocStorage
    beforeEach(async () => {
      harness = await setup()
      storage = harness.storage
    })
    afterEach(async () => {
      await harness.teardown()
    })

    const append = (docId: string, ...updates: Uint8Array[]) => storage.appendUpdates(updates.map((update) => ({ docId, update })))

    it('[STORE-DOC-1] a doc that was never stored loads as undefined', async () => {
      expect(await storage.loadDoc('never')).toBeUndefined()
    })

    it('[STORE-DOC-1] an empty batch returns [] and stores nothing', async () => {
      expect(await storage.appendUpdates([])).toEqual([])
      expect(await storage.loadDoc('a')).toBeUndefined()
      expect(await append('a', bytes(1))).toEqual([1])
    })

    it('[STORE-DOC-2] updates load oldest first, byte for byte, with lastSeq and bytes', async () => {
      const updates = [bytes(1), bytes(2, 2), bytes(3, 3, 3), bytes(4), bytes(5, 5)]
      await append('a', updates[0] as Uint8Array)
      await append('a', updates[1] as Uint8Array)
      await append('a', ...updates.slice(2))
      const doc = await storage.loadDoc('a')
      expect(doc).toEqual({ updates, lastSeq: 5, bytes: 9 })
      for (const update of doc?.updates ?? []) {
        expect(Object.getPrototypeOf(update)).toBe(Uint8Array.prototype)
        expect([update.byteOffset, update.buffer.byteLength]).toEqual([0, update.byteLength])
      }
    })

    it('[STORE-DOC-2] only the bytes inside a view are stored, Buffers and empty arrays included', async () => {
      const backing = bytes(9, 9, 1, 2, 3, 9)
      await append('a', backing.subarray(2, 5), Buffer.from([7, 8]), new Uint8Array(0))
      expect(await storage.loadDoc('a')).toEqual({ updates: [bytes(1, 2, 3), bytes(7, 8), bytes()], lastSeq: 3, bytes: 5 })
    })

    it('[STORE-DOC-3] seqs start at 1 per doc and count up within and across calls', async () => {
      expect(await append('a', bytes(1))).toEqual([1])
      expect(await append('a', bytes(2), bytes(3), bytes(4))).toEqual([2, 3, 4])
      expect(await append('b', bytes(1))).toEqual([1])
      expect(await append('a', bytes(5))).toEqual([5])
    })

    it("[STORE-DOC-3] a multi-doc batch returns each entry's per-doc seq, in entry order", async () => {
      await append('a', bytes(0))
      const seqs = await storage.appendUpdates([
        { docId: 'a', update: bytes(1) },
        { docId: 'b', update: bytes(2) },
        { docId: 'a', update: bytes(3) },
        { docId: 'c', update: bytes(4) },
        { docId: 'b', update: bytes(5) }
      ])
      expect(seqs).toEqual([2, 1, 3, 1, 2])
      expect((await storage.loadDoc('a'))?.updates).toEqual([bytes(0), bytes(1), bytes(3)])
      expect((await storage.loadDoc('b'))?.updates).toEqual([bytes(2), bytes(5)])
      expect((await storage.loadDoc('c'))?.updates).toEqual([bytes(4)])
    })

    it('[STORE-DOC-3] concurrent appends get distinct seqs and load in seq order', async () => {
      const calls = Array.from({ length: 20 }, (_, i) => [
        { docId: 'a', update: bytes(i, 0) },
        { docId: 'b', update: bytes(i) },
        { docId: 'a', update: bytes(i, 1) }
      ])
      const results = await Promise.all(calls.map((entries) => storage.appendUpdates(entries)))
      const bySeq = new Map<number, Uint8Array>()
      results.forEach((seqs, i) => {
        bySeq.set(seqs[0] as number, bytes(i, 0))
        bySeq.set(seqs[2] as number, bytes(i, 1))
        expect(seqs[2]).toBe((seqs[0] as number) + 1)
      })
      expect([...bySeq.keys()].sort((x, y) => x - y)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1))
      expect((await storage.loadDoc('a'))?.updates).toEqual(Array.from({ length: 40 }, (_, i) => bySeq.get(i + 1)))
      expect((await storage.loadDoc('b'))?.lastSeq).toBe(20)
    })

    it('[STORE-DOC-4] a batch with an invalid entry rejects, stores nothing and uses up no seq', async () => {
      await append('a', bytes(1))
      const bad: unknown[] = [
        [{ docId: 'a', update: bytes(2) }, { docId: 'b', update: bytes(3) }, { docId: 'c', update: 'not bytes' }],
        [{ docId: 'b', update: bytes(3) }, { docId: '', update: bytes(4) }],
        [{ docId: 'b', update: bytes(3) }, { docId: 'lone \uD800', update: bytes(4) }],
        [{ docId: 'b', update: bytes(3) }, null],
        'not an array'
      ]
      for (const entries of bad) {
        await expect(storage.appendUpdates(entries as never)).rejects.toThrow(TypeError)
      }
      expect(await storage.loadDoc('a')).toEqual({ updates: [bytes(1)], lastSeq: 1, bytes: 1 })
      expect(await storage.loadDoc('b')).toBeUndefined()
      expect(await storage.loadDoc('c')).toBeUndefined()
      expect(await storage.appendUpdates([{ docId: 'a', update: bytes(2) }, { docId: 'b', update: bytes(3) }])).toEqual([2, 1])
    })

    it('[STORE-DOC-4] every method refuses a docId that is not a non-empty, well-formed string', async () => {
      await append('a', bytes(1))
      for (const docId of ['', 42, undefined, 'x\uDC00y'] as unknown as string[]) {
        await expect(storage.loadDoc(docId)).rejects.toThrow(TypeError)
        await expect(storage.removeDoc(docId)).rejects.toThrow(TypeError)
        await expect(storage.compactDoc(docId, bytes(1), 1)).rejects.toThrow(TypeError)
      }
      // A well-formed astral character is fine; only unpaired surrogates are refused.
      expect(await append('emoji \u{1F600}', bytes(1))).toEqual([1])
      expect(await storage.loadDoc('a')).toEqual({ updates: [bytes(1)], lastSeq: 1, bytes: 1 })
    })

    it('[STORE-DOC-5] seqs keep growing after compaction', async () => {
      await append('a', bytes(1), bytes(2), bytes(3))
      await storage.compactDoc('a', bytes(6), 3)
      expect(await append('a', bytes(4))).toEqual([4])
      await storage.compactDoc('a', bytes(10), 4)
      expect(await storage.loadDoc('a')).toEqual({ updates: [bytes(10)], lastSeq: 4, bytes: 1 })
      expect(await append('a', bytes(5))).toEqual([5])
    })

    it('[STORE-DOC-5] a removed doc that is written again continues its seqs', async () => {
      await append('a', bytes(1), bytes(2), bytes(3))
      await storage.removeDoc('a')
      expect(await append('a', bytes(4))).toEqual([4])
      expect(await storage.loadDoc('a')).toEqual({ updates: [bytes(4)], lastSeq: 4, bytes: 1 })
    })

    it('[STORE-DOC-6] compaction replaces the updates through throughSeq by merged and keeps later ones', async () => {
      await append('a', bytes(1), bytes(2), bytes(3), bytes(4), bytes(5))
      await storage.compactDoc('a', bytes(1, 2, 3), 3)
      expect(await storage.loadDoc('a')).toEqual({ updates: [bytes(1, 2, 3), bytes(4), bytes(5)], lastSeq: 5, bytes: 5 })
      // Compacting again covers the earlier snapshot too.
      await storage.compactDoc('a', bytes(1, 2, 3, 4), 4)
      expect(await storage.loadDoc('a')).toEqual({ updates: [bytes(1, 2, 3, 4), bytes(5)], lastSeq: 5, bytes: 5 })
      await storage.compactDoc('a', bytes(15), 5)
      expect(await storage.loadDoc('a')).toEqual({ updates: [bytes(15)], lastSeq: 5, bytes: 1 })
    })

    it('[STORE-DOC-6] a compacted doc loads as the same Yjs document, also with updates appended meanwhile', async () => {
      const { updates, expected } = yjsHistory(30)
      const cut = Math.floor(updates.length / 2)
      await append('y', ...updates.slice(0, cut))
      // The compactor's loop: load, merge off the hot path, and meanwhile more updates arrive.
      const loaded = await storage.loadDoc('y')
      await append('y', ...updates.slice(cut, cut + 5))
      await storage.compactDoc('y', Y.mergeUpdates(loaded?.updates ?? []), loaded?.lastSeq ?? 0)
      await append('y', ...updates.slice(cut + 5))

      const stored = await storage.loadDoc('y')
      expect(stored?.updates.length).toBe(1 + updates.length - cut)
      expect(stored?.lastSeq).toBe(updates.length)
      const rebuilt = docFrom(stored?.updates ?? [])
      expect(rebuilt.getText('text').toString()).toBe(expected.getText('text').toString())
      expect(rebuilt.getMap('map').toJSON()).toEqual(expected.getMap('map').toJSON())
      expect(sameYjsDoc(rebuilt, expected)).toBe(true)
    })

    it('[STORE-DOC-7] compacting a removed doc does not bring it back', async () => {
      await append('a', bytes(1), bytes(2))
      await storage.removeDoc('a')
      await storage.compactDoc('a', bytes(1, 2), 2)
      expect(await storage.loadDoc('a')).toBeUndefined()
      // Written again, its new updates are above the stale throughSeq and stay untouched.
      await append('a', bytes(3))
      await storage.compactDoc('a', bytes(1, 2), 2)
      expect(await storage.loadDoc('a')).toEqual({ updates: [bytes(3)], lastSeq: 3, bytes: 1 })
    })

    it('[STORE-DOC-7] a stale compaction does not overwrite a newer snapshot', async () => {
      await append('a', bytes(1), bytes(2), bytes(3), bytes(4))
      await storage.compactDoc('a', bytes(1, 2, 3, 4), 4)
      await storage.compactDoc('a', bytes(1, 2), 2)
      expect(await storage.loadDoc('a')).toEqual({ updates: [bytes(1, 2, 3, 4)], lastSeq: 4, bytes: 4 })
    })

    it('[STORE-DOC-7] throughSeq beyond the last assigned seq, or not a positive integer, is refused and changes nothing', async () => {
      await append('a', bytes(1), bytes(2))
      for (const throughSeq of [3, 0, -1, 1.5, Number.NaN, '2' as unknown as number]) {
        await expect(storage.compactDoc('a', bytes(9), throughSeq)).rejects.toThrow(RangeError)
      }
      await expect(storage.compactDoc('never', bytes(9), 1)).rejects.toThrow(RangeError)
      await expect(storage.compactDoc('a', 'merged' as unknown as Uint8Array, 2)).rejects.toThrow(TypeError)
      expect(await storage.loadDoc('a')).toEqual({ updates: [bytes(1), bytes(2)], lastSeq: 2, bytes: 2 })
      expect(await storage.loadDoc('never')).toBeUndefined()
    })

    it('[STORE-DOC-8] changing an array after passing it in changes nothing stored', async () => {
      const update = bytes(1, 2, 3)
      await append('a', update)
      update.fill(0)
      expect((await storage.loadDoc('a'))?.updates).toEqual([bytes(1, 2, 3)])
      const merged = bytes(4, 5)
      await storage.compactDoc('a', merged, 1)
      merged.fill(0)
      expect((await storage.loadDoc('a'))?.updates).toEqual([bytes(4, 5)])
    })

    it('[STORE-DOC-8] changing a loaded array changes nothing stored', async () => {
      await append('a', bytes(1, 2, 3), bytes(4))
      const first = await storage.loadDoc('a')
      for (const update of first?.updates ?? []) update.fill(0)
      first?.updates.push(bytes(9))
      expect(await storage.loadDoc('a')).toEqual({ updates: [bytes(1, 2, 3), bytes(4)], lastSeq: 2, bytes: 4 })
    })

    it('[STORE-DOC-9] removeDoc deletes that doc only', async () => {
      await storage.appendUpdates([
        { docId: 'a', update: bytes(1) },
        { docId: 'b', update: bytes(2) },
        { docId: 'a', update: bytes(3) }
      ])
      await storage.removeDoc('a')
      expect(await storage.loadDoc('a')).toBeUndefined()
      expect(await storage.loadDoc('b')).toEqual({ updates: [bytes(2)], lastSeq: 1, bytes: 1 })
    })

    it('[STORE-DOC-9] removing a doc that holds nothing is a no-op', async () => {
      await storage.removeDoc('never')
      await append('a', bytes(1))
      await storage.removeDoc('a')
      await storage.removeDoc('a')
      expect(await storage.loadDoc('a')).toBeUndefined()
      expect(await storage.loadDoc('never')).toBeUndefined()
    })

    it('[STORE-DOC-10] a reopened store has every update, compaction and removal, and seqs continue', async (context) => {
      if (harness.reopen === undefined) return context.skip('no reopen capability: this store is not durable')
      const { updates, expected } = yjsHistory(12)
      await append('y', ...updates)
      const loaded = await storage.loadDoc('y')
      await storage.compactDoc('y', Y.mergeUpdates(loaded?.updates ?? []), loaded?.lastSeq ?? 0)
      await storage.appendUpdates([
        { docId: 'a', update: bytes(1) },
        { docId: 'gone', update: bytes(2) },
        { docId: 'a', update: bytes(3) }
      ])
      await storage.removeDoc('gone')

      storage = await harness.reopen()
      expect(await storage.loadDoc('a')).toEqual({ updates: [bytes(1), bytes(3)], lastSeq: 2, bytes: 2 })
      expect(await storage.loadDoc('gone')).toBeUndefined()
      const y = await storage.loadDoc('y')
      expect(y?.updates.length).toBe(1)
      expect(sameYjsDoc(docFrom(y?.updates ?? []), expected)).toBe(true)
      expect(await storage.appendUpdates([{ docId: 'a', update: bytes(4) }, { docId: 'gone', update: bytes(5) }, { docId: 'y', update: bytes(6) }])).toEqual([
        3,
        2,
        updates.length + 1
      ])
    })

    it('[STORE-DOC-11] random appends, compactions and removals leave the store equal to a list model', async () => {
      const docIds = ['d0', 'd1', 'd2']
      const op = fc.oneof(
        {
          arbitrary: fc.record({
            type: fc.constant('append' as const),
            entries: fc.array(fc.record({ doc: fc.nat(2), update: fc.uint8Array({ minLength: 1, maxLength: 8 }) }), { minLength: 1, maxLength: 4 })
          }),
          weight: 4
        },
        { arbitrary: fc.record({ type: fc.constant('compact' as const), doc: fc.nat(2), pick: fc.nat(), merged: fc.uint8Array({ minLength: 1, maxLength: 8 }) }), weight: 2 },
        { arbitrary: fc.record({ type: fc.constant('remove' as const), doc: fc.nat(2) }), weight: 1 }
      )
      let run = 0
      await fc.assert(
        fc.asyncProperty(fc.array(op, { maxLength: 20 }), async (ops) => {
          // One storage for all runs, fresh doc ids per run: setting a store up per run would dominate the time.
          const prefix = `run${run++}/`
          const model = new Map<string, { last: number; entries: Array<{ seq: number; data: Uint8Array }> }>()
          const state = (doc: number) => {
            const id = `${prefix}${docIds[doc]}`
            let entry = model.get(id)
            if (entry === undefined) model.set(id, (entry = { last: 0, entries: [] }))
            return { id, entry }
          }
          for (const step of ops) {
            if (step.type === 'append') {
              const expected = step.entries.map(({ doc, update }) => {
                const { entry } = state(doc)
                entry.entries.push({ seq: ++entry.last, data: update })
                return entry.last
              })
              expect(await storage.appendUpdates(step.entries.map(({ doc, update }) => ({ docId: state(doc).id, update })))).toEqual(expected)
            } else if (step.type === 'compact') {
              const { id, entry } = state(step.doc)
              if (entry.last === 0) {
                await expect(storage.compactDoc(id, step.merged, 1)).rejects.toThrow(RangeError)
                continue
              }
              const through = 1 + (step.pick % entry.last)
              await storage.compactDoc(id, step.merged, through)
              const oldest = entry.entries[0]
              if (oldest !== undefined && oldest.seq <= through) {
                entry.entries = [{ seq: through, data: step.merged }, ...entry.entries.filter((e) => e.seq > through)]
              }
            } else {
              const { id, entry } = state(step.doc)
              await storage.removeDoc(id)
              entry.entries = []
            }
            for (const [id, { entries }] of model) {
              const updates = entries.map((e) => e.data)
              const want = entries.length === 0 ? undefined : { updates, lastSeq: (entries[entries.length - 1] as { seq: number }).seq, bytes: updates.reduce((n, u) => n + u.byteLength, 0) }
              expect(await storage.loadDoc(id)).toEqual(want)
            }
          }
        }),
        fuzzParams(25)
      )
    })
  })
}
