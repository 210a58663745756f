/**
 * VALID-n: what an update must be before the relay stores, acknowledges or broadcasts it.
 * "Well-formed" is not enough: an update that decodes fine can still hold JSON so deep that
 * re-encoding it (every merge, diff and compaction does) overflows the stack, which once
 * stored makes the workspace unopenable. So the check does what later reads will do:
 * decode every struct, bound the depth of every JSON value and of nested shared types,
 * refuse subdocuments (the relay serves two docs per workspace, never a tree of them), and
 * re-encode the update the way a diff does. All of it is linear in the update's size.
 */
import * as decoding from 'lib0/decoding'
import * as Y from 'yjs'
import { ownFutureReference } from './own-future-reference.js'

export interface UpdateCheckLimits {
  /** Deepest JSON value (nested arrays/objects) accepted in an update's content. */
  maxJsonDepth: number
  /** Deepest nesting of shared types (a Y.Map in a Y.Map ...) within one update. */
  maxTypeDepth: number
}

export const DEFAULT_UPDATE_CHECK: UpdateCheckLimits = { maxJsonDepth: 64, maxTypeDepth: 64 }

/**
 * `nestsIntoDoc`: it creates shared types inside a type it does not itself create, so its
 * depth in the doc depends on what the doc holds (VALID-6 measures it there).
 */
export type UpdateCheck = { ok: true; empty: boolean; nestsIntoDoc?: boolean } | { ok: false; message: string }

const EMPTY_STATE_VECTOR = Y.encodeStateVector(new Y.Doc())

/** The empty Yjs V1 update (no structs, no deletions): a peer's step 2 when it has nothing new. */
export function isCanonicalEmptyUpdate(update: Uint8Array): boolean {
  return update.byteLength === 2 && update[0] === 0 && update[1] === 0
}

export function checkUpdate(update: Uint8Array, limits: UpdateCheckLimits = DEFAULT_UPDATE_CHECK): UpdateCheck {
  if (isCanonicalEmptyUpdate(update)) return { ok: true, empty: true }
  let decoded: ReturnType<typeof Y.decodeUpdate>
  try {
    decoded = Y.decodeUpdate(update)
  } catch (error) {
    return { ok: false, message: `It is not a valid Yjs update (${describe(error)}).` }
  }
  const { structs, ds } = decoded
  if (structs.length === 0 && ds.clients.size === 0) return { ok: true, empty: true }
  // The depth of the type each item sits in, by item id (first and last clock), so a chain
  // of nested types is measured without recursion. A type from an earlier update counts as
  // depth 1 here; when the update nests into one, `nestsIntoDoc` says so and VALID-6
  // measures it against the doc (nesting built up across many updates).
  const containerDepth = new Map<string, number>()
  const typeDepth = new Map<string, number>()
  let outside = false
  let createsType = false
  for (const struct of structs) {
    // Yjs stores a client's changes as runs of consecutive clocks; one of length 0 (an empty
    // string or array, found by the wire fuzzer, seed 423958772) breaks its lookups, so
    // applying it throws, though decode, merge and diff pass it. No honest client writes one.
    if (struct.length < 1) {
      return { ok: false, message: `It holds a change of length 0 (${struct.id.client}:${struct.id.clock}); no client could apply it.` }
    }
    if (!(struct instanceof Y.Item)) continue
    const content = struct.content
    const future = ownFutureReference(struct)
    if (future !== null) {
      return { ok: false, message: `It refers to a change that cannot exist yet (${future}); no client could apply it.` }
    }
    if (content instanceof Y.ContentDoc) {
      return { ok: false, message: 'It contains a subdocument; this relay serves no subdocuments.' }
    }
    const value = jsonOf(content)
    if (value !== undefined && jsonDepthOver(value, limits.maxJsonDepth)) {
      return { ok: false, message: `It holds a value nested deeper than ${limits.maxJsonDepth} levels.` }
    }
    const parent = struct.parent as unknown
    let depth: number
    if (typeof parent === 'string') depth = 1
    else if (parent !== null && typeof parent === 'object') {
      const known = typeDepth.get(idKey(parent as Y.ID))
      if (known === undefined) outside = true
      depth = known ?? 1
    } else {
      const neighbour = struct.origin ?? struct.rightOrigin
      const known = neighbour ? containerDepth.get(idKey(neighbour)) : undefined
      if (neighbour && known === undefined) outside = true
      depth = known ?? 1
    }
    containerDepth.set(idKey(struct.id), depth)
    if (struct.length > 1) containerDepth.set(`${struct.id.client}:${struct.id.clock + struct.length - 1}`, depth)
    if (content instanceof Y.ContentType) {
      createsType = true
      if (depth + 1 > limits.maxTypeDepth) {
        return { ok: false, message: `It nests shared types deeper than ${limits.maxTypeDepth} levels.` }
      }
      typeDepth.set(idKey(struct.id), depth + 1)
    }
  }
  try {
    // What every merge, diff and compaction does to it later: read it lazily and write it back.
    Y.diffUpdate(update, EMPTY_STATE_VECTOR)
  } catch (error) {
    return { ok: false, message: `It cannot be re-encoded (${describe(error)}).` }
  }
  return { ok: true, empty: false, ...(outside && createsType ? { nestsIntoDoc: true } : {}) }
}

function jsonOf(content: Y.Item['content']): unknown {
  if (content instanceof Y.ContentAny) return content.arr
  if (content instanceof Y.ContentJSON) return content.arr
  if (content instanceof Y.ContentEmbed) return content.embed
  if (content instanceof Y.ContentFormat) return content.value
  return undefined
}

/** Iterative, so measuring a hostile value cannot itself overflow the stack. */
export function jsonDepthOver(value: unknown, maxDepth: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]]
  while (stack.length > 0) {
    const [current, depth] = stack.pop() as [unknown, number]
    if (current === null || typeof current !== 'object') continue
    if (depth + 1 > maxDepth) return true
    const children = Array.isArray(current) ? current : Object.values(current as Record<string, unknown>)
    for (const child of children) if (child !== null && typeof child === 'object') stack.push([child, depth + 1])
  }
  return false
}

function idKey(id: Y.ID): string {
  return `${id.client}:${id.clock}`
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/**
 * VALID-2: a state vector (sync step 1) is read in full before anything is diffed against
 * it: a count, that many (client, clock) pairs, nothing after. A truncated one would make
 * Y.diffUpdate throw halfway through answering.
 */
export function isWellFormedStateVector(vector: Uint8Array): boolean {
  try {
    const decoder = decoding.createDecoder(vector)
    const count = decoding.readVarUint(decoder)
    // Each pair takes at least two bytes: a larger count is a lie about the length.
    if (count * 2 > vector.byteLength) return false
    for (let index = 0; index < count; index++) {
      decoding.readVarUint(decoder)
      decoding.readVarUint(decoder)
    }
    return !decoding.hasContent(decoder)
  } catch {
    return false
  }
}

/**
 * Whether an update adds any structs, read from its first varint alone (no decoding):
 * for deciding how loudly to refuse a write that will be refused anyway.
 */
export function addsStructs(update: Uint8Array): boolean {
  return update.byteLength > 0 && update[0] !== 0
}
