/**
 * VALID-4: a doc is loaded only as far as it can be read. The stored updates are merged and
 * checked the way serving them will read them (checkUpdate: decode, bounded depth, a
 * re-encode as every diff does). If that fails, each stored update is checked on its own;
 * the ones that fail, or that break the merge, are quarantined: copied to a `quarantine`
 * record with the reason, logged, and compacted out of the doc, which then opens at its
 * last good state. One poisoned record never makes a workspace unopenable.
 */
import * as Y from 'yjs'
import type { RelayStorage } from '../storage/types.js'
import { checkUpdate, type UpdateCheckLimits } from './validate-update.js'

export interface VerifiedDoc {
  /** The doc's good state as one merged update (merged once here, not again by the room). */
  updates: Uint8Array[]
  lastSeq: number
  /** How many updates storage holds for it (for compaction scheduling). */
  storedUpdates: number
}

export interface QuarantineRecord {
  docId: string
  /** Position among the doc's stored updates when it was found, oldest first. */
  index: number
  lastSeq: number
  reason: string
  /** The update, base64, for whoever wants to look at it. */
  update: string
  at: number
}

export const QUARANTINE_KIND = 'quarantine'

export async function loadVerified(
  storage: RelayStorage,
  docId: string,
  limits: UpdateCheckLimits,
  log: (message: string) => void
): Promise<VerifiedDoc> {
  const stored = await storage.loadDoc(docId)
  if (!stored) return { updates: [], lastSeq: 0, storedUpdates: 0 }
  const whole = readable(stored.updates, limits)
  if (whole.ok) return { updates: [whole.merged], lastSeq: stored.lastSeq, storedUpdates: stored.updates.length }

  // Slow path, taken only for a damaged doc: keep every update that reads on its own and
  // still merges with those kept before it.
  const kept: Uint8Array[] = []
  const bad: Array<{ index: number; reason: string }> = []
  stored.updates.forEach((update, index) => {
    const alone = checkUpdate(update, limits)
    if (!alone.ok) {
      bad.push({ index, reason: alone.message })
      return
    }
    const together = readable([...kept, update], limits)
    if (!together.ok) bad.push({ index, reason: `it breaks the merge with the updates before it: ${together.message}` })
    else kept.push(update)
  })
  const at = Date.now()
  for (const { index, reason } of bad) {
    const id = `${docId}/${stored.lastSeq}/${index}`
    const record: QuarantineRecord = { docId, index, lastSeq: stored.lastSeq, reason, update: Buffer.from(stored.updates[index] as Uint8Array).toString('base64'), at }
    try {
      await storage.putRecord(QUARANTINE_KIND, id, record)
    } catch (error) {
      log(`could not keep quarantined update ${id} (${String(error)}); it is dropped from the doc all the same`)
    }
    log(`quarantined stored update ${index + 1} of ${stored.updates.length} of doc ${docId} (${stored.updates[index]?.byteLength ?? 0} bytes): ${reason} It is kept as record ${QUARANTINE_KIND}/${id}; the doc opens at its last good state.`)
  }
  const merged = kept.length === 0 ? Y.encodeStateAsUpdate(new Y.Doc()) : kept.length === 1 ? (kept[0] as Uint8Array) : Y.mergeUpdates(kept)
  try {
    // Moves the poison out of the doc's stored updates for good, so the next load is fast.
    await storage.compactDoc(docId, merged, stored.lastSeq)
  } catch (error) {
    log(`could not compact doc ${docId} after quarantining (${String(error)}); it will be checked again at the next load`)
  }
  return { updates: [merged], lastSeq: stored.lastSeq, storedUpdates: 1 }
}

function readable(updates: Uint8Array[], limits: UpdateCheckLimits): { ok: true; merged: Uint8Array } | { ok: false; message: string } {
  try {
    const merged = updates.length === 1 ? (updates[0] as Uint8Array) : Y.mergeUpdates(updates)
    const check = checkUpdate(merged, limits)
    return check.ok ? { ok: true, merged } : check
  } catch (error) {
    return { ok: false, message: error instanceof Error ? error.message : String(error) }
  }
}
