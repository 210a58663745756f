/**
 * Merging what waits in an outbox (RC-7): while one post is in flight the next batch
 * collects, and before it goes out doc updates for the same doc and receivers become one
 * (Y.mergeUpdates), presence keeps only each client's latest state, terminal output that
 * continues the previous chunk is joined, and identical frames for different receivers are
 * sent once with both addresses. A merge never reorders what one receiver sees except to
 * move a doc update or a presence state earlier, which Yjs and awareness tolerate.
 */
import { FrameKind, decodeFrame, encodeFrame, peekKind } from '@orchard/protocol'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import * as Y from 'yjs'
import { EntryKind, type Entry } from './envelope.js'

export interface Pending {
  entry: Entry
  /** How many frames the sender handed in that this entry now carries. */
  weight: number
  /** Called when the entry is encoded into a post, with its final weight. */
  onCommit?: (weight: number) => void
}

const SYNC_UPDATE = 2

export interface MergeStats {
  /** Frames handed in that went out merged into another. */
  merged: number
}

export function mergePending(list: Pending[], stats: MergeStats = { merged: 0 }): Pending[] {
  const out: Pending[] = []
  for (const item of list) {
    if (!tryMerge(out, item)) out.push({ ...item, entry: { ...item.entry, targets: [...item.entry.targets] } })
    else stats.merged += 1
  }
  return out
}

function tryMerge(out: Pending[], item: Pending): boolean {
  const { entry } = item
  if (entry.kind !== EntryKind.frame && entry.kind !== EntryKind.peer) return false
  const kind = peekKind(entry.payload)
  for (let i = out.length - 1; i >= 0; i--) {
    const earlier = out[i] as Pending
    const same = earlier.entry.kind === entry.kind && earlier.entry.conn === entry.conn
    if (same && sameTargets(earlier.entry.targets, entry.targets)) {
      const merged = mergeFrames(earlier.entry.payload, entry.payload, kind, i === out.length - 1)
      if (merged) {
        earlier.entry.payload = merged
        earlier.weight += item.weight
        return true
      }
    }
    if (same && equalBytes(earlier.entry.payload, entry.payload) && !between(out, i, entry.targets)) {
      for (const target of entry.targets) if (!earlier.entry.targets.includes(target)) earlier.entry.targets.push(target)
      earlier.weight += item.weight
      return true
    }
    // Only doc updates and presence may move past other entries for the same receivers.
    if (kind !== FrameKind.sync && kind !== FrameKind.awareness && overlaps(earlier.entry.targets, entry.targets)) return false
  }
  return false
}

/** Does any entry after `index` go to one of `targets`? (Then moving earlier would reorder.) */
function between(out: Pending[], index: number, targets: string[]): boolean {
  for (let j = index + 1; j < out.length; j++) if (overlaps((out[j] as Pending).entry.targets, targets)) return true
  return false
}

function mergeFrames(a: Uint8Array, b: Uint8Array, kind: number | undefined, adjacent: boolean): Uint8Array | null {
  if (kind === undefined || peekKind(a) !== kind) return null
  if (kind === FrameKind.sync) {
    const fa = decodeFrame(a)
    const fb = decodeFrame(b)
    if (fa.kind !== FrameKind.sync || fb.kind !== FrameKind.sync || fa.channel !== fb.channel) return null
    const ua = readUpdate(fa.body)
    const ub = readUpdate(fb.body)
    if (!ua || !ub) return null
    const body = encoding.encode((encoder) => {
      encoding.writeVarUint(encoder, SYNC_UPDATE)
      encoding.writeVarUint8Array(encoder, Y.mergeUpdates([ua, ub]))
    })
    return encodeFrame({ kind: FrameKind.sync, channel: fa.channel, body })
  }
  if (kind === FrameKind.awareness) {
    const fa = decodeFrame(a)
    const fb = decodeFrame(b)
    if (fa.kind !== FrameKind.awareness || fb.kind !== FrameKind.awareness || fa.channel !== fb.channel) return null
    return encodeFrame({ kind: FrameKind.awareness, channel: fa.channel, body: mergeAwareness(fa.body, fb.body) })
  }
  if (kind === FrameKind.termOutput && adjacent) {
    const fa = decodeFrame(a)
    const fb = decodeFrame(b)
    if (fa.kind !== FrameKind.termOutput || fb.kind !== FrameKind.termOutput) return null
    if (fa.channel !== fb.channel || fa.generation !== fb.generation || fa.offset + fa.data.byteLength !== fb.offset) return null
    const data = new Uint8Array(fa.data.byteLength + fb.data.byteLength)
    data.set(fa.data)
    data.set(fb.data, fa.data.byteLength)
    return encodeFrame({ kind: FrameKind.termOutput, channel: fa.channel, generation: fa.generation, offset: fa.offset, data })
  }
  return null
}

function readUpdate(body: Uint8Array): Uint8Array | null {
  const decoder = decoding.createDecoder(body)
  if (decoding.readVarUint(decoder) !== SYNC_UPDATE) return null
  return decoding.readVarUint8Array(decoder)
}

/** Awareness updates as y-protocols encodes them: keep the highest clock per client. */
export function mergeAwareness(a: Uint8Array, b: Uint8Array): Uint8Array {
  const states = new Map<number, { clock: number; state: string }>()
  for (const body of [a, b]) {
    const decoder = decoding.createDecoder(body)
    const count = decoding.readVarUint(decoder)
    for (let i = 0; i < count; i++) {
      const client = decoding.readVarUint(decoder)
      const clock = decoding.readVarUint(decoder)
      const state = decoding.readVarString(decoder)
      const known = states.get(client)
      if (!known || clock >= known.clock) states.set(client, { clock, state })
    }
  }
  return encoding.encode((encoder) => {
    encoding.writeVarUint(encoder, states.size)
    for (const [client, { clock, state }] of states) {
      encoding.writeVarUint(encoder, client)
      encoding.writeVarUint(encoder, clock)
      encoding.writeVarString(encoder, state)
    }
  })
}

function sameTargets(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((target) => b.includes(target))
}

function overlaps(a: string[], b: string[]): boolean {
  if (a.length === 0 || b.length === 0) return true
  return a.some((target) => b.includes(target))
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a === b) return true
  if (a.byteLength !== b.byteLength) return false
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false
  return true
}
