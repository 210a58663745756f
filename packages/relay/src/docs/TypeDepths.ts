/**
 * How deep each item of a document sits in nested shared types (VALID-6), so an update can
 * be judged against the doc it lands in: one update may only nest types `maxTypeDepth`
 * levels deep within itself (VALID-1), but many updates could each nest one level deeper
 * inside the one before. Kept per client as runs of consecutive clocks at one depth (a
 * client's items mostly come in runs), built from the doc on first use, and kept up to date
 * by LazyDocIndex, like DeletedRanges.
 *
 * An item's container depth: 1 under a root type (its parent is a name); under a nested
 * type, that type item's container depth + 1. An item sent with a left or right neighbour
 * instead of a parent sits where its neighbour sits. A reference to an item the doc does
 * not have (a pending update, or a GC'd neighbour) counts as depth 1: Yjs integrates such
 * an item as deleted, or not until its parent arrives, and the parent is then measured.
 */
import * as Y from 'yjs'
import type { DocIndex } from './LazyDocIndex.js'

interface Runs {
  /** Flat [start, end, depth, ...], sorted by start once normalized. */
  flat: number[]
  sorted: boolean
}

interface Local {
  struct: Y.Item
  depth: number | null
}

export class TypeDepths implements DocIndex {
  private readonly clients = new Map<number, Runs>()

  constructor(full: Uint8Array) {
    this.measure(full, true)
  }

  read(updates: readonly Uint8Array[]): void {
    for (const update of updates) this.measure(update, true)
  }

  /** The deepest shared type `update` would create in this doc (0 if it creates none). */
  deepestType(update: Uint8Array): number {
    return this.measure(update, false)
  }

  /** Container depth of every item of `update`; records them if `record`. Returns the deepest type. */
  private measure(update: Uint8Array, record: boolean): number {
    const items = Y.decodeUpdate(update).structs.filter((struct): struct is Y.Item => struct instanceof Y.Item)
    const local = new Map<number, Local[]>()
    for (const struct of items) {
      const list = local.get(struct.id.client)
      if (list) list.push({ struct, depth: null })
      else local.set(struct.id.client, [{ struct, depth: null }])
    }
    for (const list of local.values()) list.sort((a, b) => a.struct.id.clock - b.struct.id.clock)
    const find = (id: Y.ID): Local | undefined => {
      const list = local.get(id.client)
      if (!list) return undefined
      let lo = 0
      let hi = list.length - 1
      while (lo <= hi) {
        const mid = (lo + hi) >> 1
        const entry = list[mid] as Local
        if (id.clock < entry.struct.id.clock) hi = mid - 1
        else if (id.clock >= entry.struct.id.clock + entry.struct.length) lo = mid + 1
        else return entry
      }
      return undefined
    }
    // What an item's depth depends on: a known number, or another item of this update.
    const step = (entry: Local): number | Local => {
      const { struct } = entry
      const parent = struct.parent as unknown
      if (typeof parent === 'string') return 1
      const ref = parent !== null && typeof parent === 'object' ? (parent as Y.ID) : (struct.origin ?? struct.rightOrigin)
      if (!ref) return 1
      const inUpdate = find(ref)
      const viaParent = parent !== null && typeof parent === 'object'
      if (inUpdate) {
        if (inUpdate.depth === null) return inUpdate
        return viaParent ? inUpdate.depth + 1 : inUpdate.depth
      }
      const known = this.depthOf(ref) ?? 1
      return viaParent ? known + 1 : known
    }
    let deepest = 0
    for (const entry of items.map((struct) => find(struct.id) as Local)) {
      // Follow the chain of unresolved items with an explicit stack (chains can be long).
      const stack: Local[] = []
      const onStack = new Set<Local>()
      let current: Local = entry
      let guard = items.length + 1
      while (current.depth === null && guard-- > 0) {
        const next = step(current)
        if (typeof next === 'number') {
          current.depth = next
          break
        }
        if (onStack.has(next) || next === current) {
          current.depth = 1 // a cycle can only be a malformed update; it is refused elsewhere
          break
        }
        stack.push(current)
        onStack.add(current)
        current = next
      }
      while (stack.length > 0) {
        const waiting = stack.pop() as Local
        const resolved = step(waiting)
        waiting.depth = typeof resolved === 'number' ? resolved : 1
      }
      if (entry.struct.content instanceof Y.ContentType) deepest = Math.max(deepest, (entry.depth ?? 1) + 1)
    }
    if (record) for (const entry of items.map((struct) => find(struct.id) as Local)) this.record(entry.struct, entry.depth ?? 1)
    return deepest
  }

  private record(struct: Y.Item, depth: number): void {
    const runs = this.clients.get(struct.id.client)
    const start = struct.id.clock
    const end = start + struct.length
    if (!runs) {
      this.clients.set(struct.id.client, { flat: [start, end, depth], sorted: true })
      return
    }
    const n = runs.flat.length
    // Extend the last run when this item continues it at the same depth (the common case).
    if (runs.sorted && n > 0 && runs.flat[n - 2] === start && runs.flat[n - 1] === depth) {
      runs.flat[n - 2] = end
      return
    }
    if (n > 0 && (runs.flat[n - 3] as number) > start) runs.sorted = false
    runs.flat.push(start, end, depth)
  }

  private depthOf(id: Y.ID): number | undefined {
    const runs = this.clients.get(id.client)
    if (!runs) return undefined
    if (!runs.sorted) {
      const triples: Array<[number, number, number]> = []
      for (let i = 0; i < runs.flat.length; i += 3) triples.push([runs.flat[i] as number, runs.flat[i + 1] as number, runs.flat[i + 2] as number])
      triples.sort((a, b) => a[0] - b[0])
      runs.flat = triples.flat()
      runs.sorted = true
    }
    let lo = 0
    let hi = runs.flat.length / 3 - 1
    while (lo <= hi) {
      const mid = (lo + hi) >> 1
      if (id.clock < (runs.flat[mid * 3] as number)) hi = mid - 1
      else if (id.clock >= (runs.flat[mid * 3 + 1] as number)) lo = mid + 1
      else return runs.flat[mid * 3 + 2]
    }
    return undefined
  }
}
