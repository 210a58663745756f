/**
 * y-protocols awareness updates (awareness.js encodeAwarenessUpdate / applyAwarenessUpdate),
 * read and written without an Awareness instance so the relay can check and stamp each
 * state. Byte-identical to y-protocols.
 *   update := count:varUint ( clientID:varUint clock:varUint state:varString(JSON) )*
 */
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'

export interface AwarenessEntry {
  clientID: number
  clock: number
  /** null means the client left. */
  state: Record<string, unknown> | null
}

export function decodeAwarenessUpdate(update: Uint8Array): AwarenessEntry[] | undefined {
  try {
    const decoder = decoding.createDecoder(update)
    const count = decoding.readVarUint(decoder)
    if (count > update.byteLength) return undefined
    const entries: AwarenessEntry[] = []
    for (let index = 0; index < count; index++) {
      const clientID = decoding.readVarUint(decoder)
      const clock = decoding.readVarUint(decoder)
      const state = JSON.parse(decoding.readVarString(decoder)) as unknown
      if (state !== null && (typeof state !== 'object' || Array.isArray(state))) return undefined
      entries.push({ clientID, clock, state: state as AwarenessEntry['state'] })
    }
    return decoding.hasContent(decoder) ? undefined : entries
  } catch {
    return undefined
  }
}

export function encodeAwarenessUpdate(entries: readonly AwarenessEntry[]): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, entries.length)
  for (const entry of entries) {
    encoding.writeVarUint(encoder, entry.clientID)
    encoding.writeVarUint(encoder, entry.clock)
    encoding.writeVarString(encoder, JSON.stringify(entry.state))
  }
  return encoding.toUint8Array(encoder)
}
