/**
 * VALID-6: the nesting of shared types is bounded in the whole doc, not only within one
 * update (VALID-1): many updates could each nest one level deeper inside the one before,
 * and a client reading such a doc (toJSON, observeDeep) recurses once per level.
 */
import type { SharedDoc } from './SharedDoc.js'

/** Why `update` may not be stored in `doc`, or null if its types stay within `maxDepth`. */
export function nestingRefusal(doc: SharedDoc, update: Uint8Array, maxDepth: number): string | null {
  const deepest = doc.deepestType(update)
  if (deepest <= maxDepth) return null
  return `It would nest shared types ${deepest} levels deep in the document, deeper than the ${maxDepth} allowed. Keep nested maps and arrays shallower.`
}
