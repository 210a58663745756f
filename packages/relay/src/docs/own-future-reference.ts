/**
 * An item may only name, as its origin, right origin or parent, something that already
 * existed when it was made. For another client's item Yjs checks that itself (the update
 * waits as pending until that item arrives); for the item's OWN client it assumes the
 * reference is to an earlier clock and looks it up unchecked, so an item naming a clock of
 * its own client at or after its own makes Y.applyUpdate throw ("Cannot read properties of
 * undefined (reading 'id')"). Y.decodeUpdate, Y.mergeUpdates and Y.diffUpdate never look
 * it up, so the relay would store it and every client would fail to open the doc (found by
 * the wire fuzzer, seed 417631688). No honest client writes one.
 */
import * as Y from 'yjs'

/** Says which reference points into the item's own future, or null if none does. */
export function ownFutureReference(item: Y.Item): string | null {
  const { client, clock } = item.id
  const refs: Array<[string, unknown]> = [
    ['origin', item.origin],
    ['right origin', item.rightOrigin],
    ['parent', item.parent]
  ]
  for (const [name, ref] of refs) {
    if (ref instanceof Y.ID && ref.client === client && ref.clock >= clock) {
      return `item ${client}:${clock} names ${client}:${ref.clock}, a later change of its own client, as its ${name}`
    }
  }
  return null
}
