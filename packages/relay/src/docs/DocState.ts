/**
 * A document as the relay holds it: merged Yjs update bytes, not a Y.Doc (DOCS-1). The
 * relay never needs to read a workspace doc's contents, only to store, merge and serve
 * them, and a merged update is several times smaller than the Y.Doc it describes. New
 * updates are appended to a tail and merged lazily, when someone needs the whole state
 * or the tail grows, so a stream of small edits does not re-merge the whole doc each time.
 */
import * as Y from 'yjs'
import { DeletedRanges } from './DeletedRanges.js'
import { LazyDocIndex } from './LazyDocIndex.js'
import { TypeDepths } from './TypeDepths.js'

const EMPTY_UPDATE = Y.encodeStateAsUpdate(new Y.Doc())
const EMPTY_STATE_VECTOR = Y.encodeStateVector(new Y.Doc())
const MAX_TAIL = 256

export class DocState {
  private base: Uint8Array
  private tail: Uint8Array[] = []
  private tailBytes = 0
  private vector: Uint8Array | null = null
  /** Made the first time a read-only peer sends deletions (VALID-3); most docs never need it. */
  private deleted: LazyDocIndex<DeletedRanges> | null = null
  /** Made the first time an update nests types into ones it did not create (VALID-6). */
  private depths: LazyDocIndex<TypeDepths> | null = null

  constructor(updates: readonly Uint8Array[] = []) {
    this.base = updates.length === 0 ? EMPTY_UPDATE : updates.length === 1 ? (updates[0] as Uint8Array) : Y.mergeUpdates(updates as Uint8Array[])
  }

  /** Approximate stored size, used for the doc size limit. */
  get bytes(): number {
    return this.base.byteLength + this.tailBytes
  }

  append(update: Uint8Array): void {
    this.tail.push(update)
    this.tailBytes += update.byteLength
    this.vector = null
    this.deleted?.stored(update, this.bytes)
    this.depths?.stored(update, this.bytes)
    if (this.tail.length >= MAX_TAIL || this.tailBytes > Math.max(this.base.byteLength, 64 * 1024)) this.merge()
  }

  /** The whole document as one update. */
  fullUpdate(): Uint8Array {
    this.merge()
    return this.base
  }

  stateVector(): Uint8Array {
    this.vector ??= Y.encodeStateVectorFromUpdate(this.fullUpdate())
    return this.vector
  }

  /** Whether the doc has already deleted every range in `ds` (VALID-3). */
  hasDeleted(ds: ReturnType<typeof Y.decodeUpdate>['ds']): boolean {
    this.deleted ??= new LazyDocIndex((full) => new DeletedRanges(full))
    return this.deleted.current(() => this.fullUpdate()).covers(ds)
  }

  /** The deepest shared type `update` would create in this doc (VALID-6). */
  deepestType(update: Uint8Array): number {
    this.depths ??= new LazyDocIndex((full) => new TypeDepths(full))
    return this.depths.current(() => this.fullUpdate()).deepestType(update)
  }

  /** What a peer with this state vector is missing (the whole doc for an empty vector). */
  diff(stateVector: Uint8Array): Uint8Array {
    const full = this.fullUpdate()
    if (isEmptyStateVector(stateVector)) return full
    return Y.diffUpdate(full, stateVector)
  }

  private merge(): void {
    if (this.tail.length === 0) return
    this.base = Y.mergeUpdates([this.base, ...this.tail])
    this.tail = []
    this.tailBytes = 0
  }
}

function isEmptyStateVector(vector: Uint8Array): boolean {
  return vector.byteLength === EMPTY_STATE_VECTOR.byteLength && vector[0] === EMPTY_STATE_VECTOR[0]
}

/**
 * DOCS-2: throws if `update` is not a well-formed Yjs V1 update, so nothing malformed is
 * ever stored (a stored bad update would make the doc unloadable). Returns true if it
 * changes nothing (no structs, no deletions): a peer's step 2 when it had nothing new.
 */
export function isEmptyUpdate(update: Uint8Array): boolean {
  const { structs, ds } = Y.decodeUpdate(update)
  return structs.length === 0 && ds.clients.size === 0
}
