/**
 * The RecordStorage contract (RULES.md, STORE-REC-*). Every implementation runs it, the
 * in-memory reference included; durable-only behaviour is gated on the `reopen` capability.
 */
import fc from 'fast-check'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { RecordStorage } from '../types.js'
import { fuzzParams } from './helpers.js'

export interface RecordStorageHarness {
  storage: RecordStorage
  /** Closes whatever storage the harness currently holds and removes its files. */
  teardown: () => Promise<void>
  /** Durable stores only: closes the storage and opens the same backing file again. */
  reopen?: () => Promise<RecordStorage>
}

/** The oracle's order, independent of the implementations: compare the UTF-8 bytes. */
function utf8Order(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))
}

interface Member {
  name: string
  role: string
  tags: string[]
}

export function runRecordStorageContract(title: string, setup: () => Promise<RecordStorageHarness>): void {
  describe(`RecordStorage contract: ${title}`, () => {
    let harness: RecordStorageHarness
    let storage: RecordStorage
    beforeEach(async () => {
      harness = await setup()
      storage = harness.storage
    })
    afterEach(async () => {
      await harness.teardown()
    })

    const alice: Member = { name: 'alice', role: 'owner', tags: ['a', 'b'] }

    it('[STORE-REC-1] an absent record reads as undefined; put then get returns the value; put again replaces it', async () => {
      expect(await storage.getRecord('member', 'm1')).toBeUndefined()
      await storage.putRecord('member', 'm1', alice)
      expect(await storage.getRecord<Member>('member', 'm1')).toEqual(alice)
      await storage.putRecord('member', 'm1', { ...alice, role: 'viewer' })
      expect(await storage.getRecord<Member>('member', 'm1')).toEqual({ ...alice, role: 'viewer' })
      for (const value of [0, 'text', false, null, [1, [2]], { nested: { deep: [true] } }]) {
        await storage.putRecord('scalar', 'v', value)
        expect(await storage.getRecord('scalar', 'v')).toEqual(value)
      }
    })

    it('[STORE-REC-2] kinds are separate namespaces', async () => {
      await storage.putRecord('member', 'x', 1)
      await storage.putRecord('invite', 'x', 2)
      await storage.putRecord('members', 'x', 3)
      expect(await storage.getRecord('member', 'x')).toBe(1)
      expect(await storage.listRecords('member')).toEqual([{ id: 'x', value: 1 }])
      await storage.deleteRecord('invite', 'x')
      expect(await storage.getRecord('member', 'x')).toBe(1)
      expect(await storage.getRecord('members', 'x')).toBe(3)
      expect(await storage.listRecords('invite')).toEqual([])
    })

    it('[STORE-REC-3] listRecords returns the ids with the prefix, ordered by id', async () => {
      for (const id of ['w2/m/b', 'w1/m/b', 'w1/m/a', 'w1/i/z', 'w10/m/a', 'w1']) await storage.putRecord('k', id, id.length)
      expect((await storage.listRecords('k', 'w1/m/')).map((r) => r.id)).toEqual(['w1/m/a', 'w1/m/b'])
      expect((await storage.listRecords('k', 'w1/')).map((r) => r.id)).toEqual(['w1/i/z', 'w1/m/a', 'w1/m/b'])
      expect((await storage.listRecords('k', 'w1')).map((r) => r.id)).toEqual(['w1', 'w1/i/z', 'w1/m/a', 'w1/m/b', 'w10/m/a'])
      expect(await storage.listRecords('k')).toEqual(['w1', 'w1/i/z', 'w1/m/a', 'w1/m/b', 'w10/m/a', 'w2/m/b'].map((id) => ({ id, value: id.length })))
      expect(await storage.listRecords('k', '')).toHaveLength(6)
      expect(await storage.listRecords('k', 'w3')).toEqual([])
      expect(await storage.listRecords('nothing')).toEqual([])
    })

    it('[STORE-REC-3] ids are ordered by Unicode code point and prefixes match literally and case-sensitively', async () => {
      // Code-point order (= UTF-8 byte order) differs from JS's default UTF-16 order for
      // astral characters: U+1F600 sorts after U+FFFF.
      const ids = ['\u{1F600}', '\uFFFF', 'é', 'a', 'B', 'a%', 'a_', 'a*', 'A', 'ab']
      for (const id of ids) await storage.putRecord('k', id, true)
      expect((await storage.listRecords('k')).map((r) => r.id)).toEqual(['A', 'B', 'a', 'a%', 'a*', 'a_', 'ab', 'é', '\uFFFF', '\u{1F600}'])
      expect((await storage.listRecords('k', 'a%')).map((r) => r.id)).toEqual(['a%'])
      expect((await storage.listRecords('k', 'a_')).map((r) => r.id)).toEqual(['a_'])
      expect((await storage.listRecords('k', 'A')).map((r) => r.id)).toEqual(['A'])
      expect((await storage.listRecords('k', '\uFFFF')).map((r) => r.id)).toEqual(['\uFFFF'])
    })

    it('[STORE-REC-4] deleteRecord removes the record; deleting an absent one is a no-op', async () => {
      await storage.putRecord('k', 'a', 1)
      await storage.putRecord('k', 'b', 2)
      await storage.deleteRecord('k', 'a')
      await storage.deleteRecord('k', 'a')
      await storage.deleteRecord('k', 'never')
      await storage.deleteRecord('other', 'a')
      expect(await storage.getRecord('k', 'a')).toBeUndefined()
      expect(await storage.listRecords('k')).toEqual([{ id: 'b', value: 2 }])
    })

    it('[STORE-REC-5] updateRecord passes the current value, stores and returns what fn returns, and deletes on undefined', async () => {
      const seen: unknown[] = []
      const created = await storage.updateRecord<{ n: number }>('counter', 'c', (current) => {
        seen.push(current)
        return { n: (current?.n ?? 0) + 1 }
      })
      expect(created).toEqual({ n: 1 })
      const bumped = await storage.updateRecord<{ n: number }>('counter', 'c', (current) => {
        seen.push(current)
        return { n: (current?.n ?? 0) + 1 }
      })
      expect(bumped).toEqual({ n: 2 })
      expect(seen).toEqual([undefined, { n: 1 }])
      expect(await storage.getRecord('counter', 'c')).toEqual({ n: 2 })
      expect(await storage.updateRecord('counter', 'c', () => undefined)).toBeUndefined()
      expect(await storage.getRecord('counter', 'c')).toBeUndefined()
      expect(await storage.listRecords('counter')).toEqual([])
    })

    it('[STORE-REC-5] when fn throws or returns a Promise, updateRecord rejects and nothing changes', async () => {
      await storage.putRecord('k', 'a', { n: 1 })
      const boom = new Error('boom')
      await expect(
        storage.updateRecord<{ n: number }>('k', 'a', (current) => {
          if (current) current.n = 99
          throw boom
        })
      ).rejects.toBe(boom)
      await expect(storage.updateRecord('k', 'a', (() => Promise.resolve({ n: 2 })) as never)).rejects.toThrow(TypeError)
      await expect(storage.updateRecord('k', 'b', () => 10n as never)).rejects.toThrow(TypeError)
      expect(await storage.getRecord('k', 'a')).toEqual({ n: 1 })
      expect(await storage.getRecord('k', 'b')).toBeUndefined()
    })

    it('[STORE-REC-6] concurrent updateRecord increments on one key all land', async () => {
      const results = await Promise.all(
        Array.from({ length: 200 }, () => storage.updateRecord<number>('lease-epoch', 'agent-1', (epoch) => (epoch ?? 0) + 1))
      )
      expect(await storage.getRecord('lease-epoch', 'agent-1')).toBe(200)
      expect([...results].sort((a, b) => (a as number) - (b as number))).toEqual(Array.from({ length: 200 }, (_, i) => i + 1))
    })

    it('[STORE-REC-7] values are copies: changing what was put or what was read changes nothing stored', async () => {
      const value: Member = { ...alice, tags: ['a'] }
      await storage.putRecord('member', 'm1', value)
      value.tags.push('mutated')
      value.name = 'mallory'
      const read = await storage.getRecord<Member>('member', 'm1')
      expect(read).toEqual({ ...alice, tags: ['a'] })
      read?.tags.push('mutated')
      const [listed] = await storage.listRecords<Member>('member')
      expect(listed?.value).toEqual({ ...alice, tags: ['a'] })
      listed?.value.tags.push('mutated')
      const returned = await storage.updateRecord<Member>('member', 'm1', (current) => current)
      returned?.tags.push('mutated')
      expect(await storage.getRecord('member', 'm1')).toEqual({ ...alice, tags: ['a'] })
    })

    it('[STORE-REC-7] values read back as their JSON form; values JSON cannot hold are refused', async () => {
      await storage.putRecord('k', 'json', { at: new Date(0), gone: undefined, list: [undefined, Number.NaN], keep: 1 })
      expect(await storage.getRecord('k', 'json')).toEqual({ at: '1970-01-01T00:00:00.000Z', list: [null, null], keep: 1 })
      const cyclic: { self?: unknown } = {}
      cyclic.self = cyclic
      for (const value of [undefined, () => 1, 10n, cyclic, Symbol('s'), Promise.resolve(1)]) {
        await expect(storage.putRecord('k', 'bad', value)).rejects.toThrow(TypeError)
      }
      expect(await storage.getRecord('k', 'bad')).toBeUndefined()
    })

    it('[STORE-REC-8] kinds and ids must be non-empty, well-formed strings', async () => {
      await storage.putRecord('k', 'a', 1)
      for (const [kind, id] of [
        ['', 'a'],
        ['k', ''],
        ['k', 'x\uD800'],
        ['\uDFFFk', 'a'],
        [1, 'a'],
        ['k', null]
      ] as unknown as Array<[string, string]>) {
        await expect(storage.getRecord(kind, id)).rejects.toThrow(TypeError)
        await expect(storage.putRecord(kind, id, 1)).rejects.toThrow(TypeError)
        await expect(storage.deleteRecord(kind, id)).rejects.toThrow(TypeError)
        await expect(storage.updateRecord(kind, id, () => 1)).rejects.toThrow(TypeError)
      }
      await expect(storage.listRecords('')).rejects.toThrow(TypeError)
      await expect(storage.listRecords('k', 5 as unknown as string)).rejects.toThrow(TypeError)
      expect(await storage.listRecords('k')).toEqual([{ id: 'a', value: 1 }])
    })

    it('[STORE-REC-9] a reopened store has every record, update and deletion', async (context) => {
      if (harness.reopen === undefined) return context.skip('no reopen capability: this store is not durable')
      await storage.putRecord('member', 'w1/m1', alice)
      await storage.putRecord('member', 'w1/m2', { ...alice, name: 'bob' })
      await storage.putRecord('invite', 'i1', { uses: 0 })
      await storage.updateRecord<{ uses: number }>('invite', 'i1', (invite) => ({ uses: (invite?.uses ?? 0) + 1 }))
      await storage.deleteRecord('member', 'w1/m2')
      storage = await harness.reopen()
      expect(await storage.listRecords('member')).toEqual([{ id: 'w1/m1', value: alice }])
      expect(await storage.getRecord('invite', 'i1')).toEqual({ uses: 1 })
    })

    it('[STORE-REC-10] random puts, deletes, updates and lists with arbitrary Unicode ids match a sorted-map model', async () => {
      // A small alphabet makes shared prefixes likely; its characters sit where UTF-16 and
      // code-point order disagree. Full-range code points cover the rest.
      const id = fc.oneof(
        { arbitrary: fc.string({ unit: fc.constantFrom('a', 'B', '%', 'é', '\uFFFF', '\u{1F600}'), minLength: 1, maxLength: 3 }), weight: 3 },
        { arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 3 }), weight: 1 }
      )
      const op = fc.oneof(
        fc.record({ type: fc.constant('put' as const), id, value: fc.jsonValue() }),
        fc.record({ type: fc.constant('delete' as const), id }),
        fc.record({ type: fc.constant('update' as const), id, remove: fc.boolean() }),
        fc.record({ type: fc.constant('list' as const), prefix: fc.oneof(fc.constant(''), id) })
      )
      let run = 0
      await fc.assert(
        fc.asyncProperty(fc.array(op, { maxLength: 25 }), async (ops) => {
          // A fresh kind per run stands in for a fresh store.
          const kind = `fuzz-${run++}`
          const model = new Map<string, string>()
          for (const step of ops) {
            if (step.type === 'put') {
              await storage.putRecord(kind, step.id, step.value)
              model.set(step.id, JSON.stringify(step.value))
            } else if (step.type === 'delete') {
              await storage.deleteRecord(kind, step.id)
              model.delete(step.id)
            } else if (step.type === 'update') {
              const next = step.remove ? undefined : { was: model.get(step.id) ?? null }
              await storage.updateRecord(kind, step.id, () => next)
              if (next === undefined) model.delete(step.id)
              else model.set(step.id, JSON.stringify(next))
            } else {
              const want = [...model.keys()]
                .filter((key) => key.startsWith(step.prefix))
                .sort(utf8Order)
                .map((key) => ({ id: key, value: JSON.parse(model.get(key) as string) as unknown }))
              expect(await storage.listRecords(kind, step.prefix)).toEqual(want)
            }
          }
        }),
        fuzzParams(25)
      )
    })
  })
}
