/**
 * y-protocols sync message bodies (sync.js: step 1, step 2, update), written and read
 * without a Y.Doc, so the relay can serve stored bytes directly. Byte-identical to
 * y-protocols' writeSyncStep1 / writeSyncStep2 / writeUpdate.
 */
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'

export const SYNC_STEP1 = 0
export const SYNC_STEP2 = 1
export const SYNC_UPDATE = 2

export type SyncMessage =
  | { type: typeof SYNC_STEP1; stateVector: Uint8Array }
  | { type: typeof SYNC_STEP2 | typeof SYNC_UPDATE; update: Uint8Array }

export function encodeSyncMessage(type: 0 | 1 | 2, payload: Uint8Array): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, type)
  encoding.writeVarUint8Array(encoder, payload)
  return encoding.toUint8Array(encoder)
}

/** Returns undefined for a body that is not a sync message (the caller reports it). */
export function decodeSyncMessage(body: Uint8Array): SyncMessage | undefined {
  try {
    const decoder = decoding.createDecoder(body)
    const type = decoding.readVarUint(decoder)
    const payload = decoding.readVarUint8Array(decoder)
    if (decoding.hasContent(decoder)) return undefined
    if (type === SYNC_STEP1) return { type, stateVector: payload }
    if (type === SYNC_STEP2 || type === SYNC_UPDATE) return { type, update: payload }
    return undefined
  } catch {
    return undefined
  }
}
