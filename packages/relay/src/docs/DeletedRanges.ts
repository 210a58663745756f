/**
 * Which item ids a document has deleted, per client as sorted, merged [start, end) ranges:
 * its delete set, plus the ranges its updates carry only as GC structs or deleted content.
 * It answers one question for VALID-3: does a delete set from a read-only peer (a step 2
 * always carries the sender's whole delete set) delete anything the doc has not already
 * deleted? Built from the doc once, on first use, and kept up to date by LazyDocIndex.
 */
import * as Y from 'yjs'
import type { DocIndex } from './LazyDocIndex.js'

type DeleteSet = ReturnType<typeof Y.decodeUpdate>['ds']

export class DeletedRanges implements DocIndex {
  /** client -> flat [start0, end0, start1, end1, ...], sorted and merged. */
  private readonly ranges = new Map<number, number[]>()

  constructor(full: Uint8Array) {
    this.read([full])
  }

  read(updates: readonly Uint8Array[]): void {
    for (const update of updates) this.readOne(update)
    this.normalize()
  }

  /** Whether every range in `ds` is already deleted here. */
  covers(ds: DeleteSet): boolean {
    for (const [client, items] of ds.clients) {
      const ranges = this.ranges.get(client)
      if (!ranges) return false
      for (const item of items) if (item.len > 0 && !within(ranges, item.clock, item.clock + item.len)) return false
    }
    return true
  }

  private readOne(update: Uint8Array): void {
    const { structs, ds } = Y.decodeUpdate(update)
    for (const [client, items] of ds.clients) for (const item of items) this.push(client, item.clock, item.len)
    for (const struct of structs) {
      const deleted = struct instanceof Y.GC || (struct instanceof Y.Item && struct.content instanceof Y.ContentDeleted)
      if (deleted) this.push(struct.id.client, struct.id.clock, struct.length)
    }
  }

  private push(client: number, clock: number, len: number): void {
    if (len <= 0) return
    const ranges = this.ranges.get(client)
    if (ranges) ranges.push(clock, clock + len)
    else this.ranges.set(client, [clock, clock + len])
  }

  private normalize(): void {
    for (const [client, flat] of this.ranges) {
      const pairs: Array<[number, number]> = []
      for (let i = 0; i < flat.length; i += 2) pairs.push([flat[i] as number, flat[i + 1] as number])
      pairs.sort((a, b) => a[0] - b[0])
      const merged: number[] = []
      for (const [start, end] of pairs) {
        const last = merged.length - 1
        if (merged.length > 0 && start <= (merged[last] as number)) merged[last] = Math.max(merged[last] as number, end)
        else merged.push(start, end)
      }
      this.ranges.set(client, merged)
    }
  }
}

/** Whether [start, end) lies inside one of the sorted, merged ranges. */
function within(ranges: number[], start: number, end: number): boolean {
  let lo = 0
  let hi = ranges.length / 2 - 1
  // The last range starting at or before `start`.
  let found = -1
  while (lo <= hi) {
    const mid = (lo + hi) >> 1
    if ((ranges[mid * 2] as number) <= start) {
      found = mid
      lo = mid + 1
    } else hi = mid - 1
  }
  return found >= 0 && (ranges[found * 2 + 1] as number) >= end
}
