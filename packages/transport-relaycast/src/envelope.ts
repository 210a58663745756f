/**
 * The envelope (RC-1..RC-3): RelayCast messages are text, so Orchard's binary frames travel
 * as `orc1.` + base64 of a small lib0-encoded header and a list of entries. The header names
 * the sender (checked against the identity the RelayCast server stamps), the sender's epoch
 * (one per process start, so a restart is never mistaken for a replay), the stream (the
 * channel, or the DM to one agent) and a sequence number per stream; big batches are split
 * into fragments with consecutive sequence numbers.
 */
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'

export const ENVELOPE_PREFIX = 'orc1.'
export const ENVELOPE_VERSION = 1

/** What an entry carries. Frames are Orchard frames, byte for byte; the rest are the link's own. */
export const EntryKind = {
  /** An Orchard frame for a virtual connection. */
  frame: 0,
  /** A client asks the host for a virtual connection. */
  open: 1,
  /** The host accepted the connection: frames may flow. */
  opened: 2,
  /** Either side ends a connection; payload: code (varuint) + reason (string). */
  close: 3,
  /** The host's member roster (JSON), for peer mode (RC-12). */
  roster: 4,
  /** The host is (back) online; payload: its epoch. Also its keepalive. */
  hostOnline: 5,
  /** A workspace-doc sync frame between peers while the host is offline (RC-11). */
  peer: 6,
  /** A client is still there (keeps its virtual connection from idling out). */
  keepalive: 7
} as const
export type EntryKind = (typeof EntryKind)[keyof typeof EntryKind]

export interface Entry {
  kind: EntryKind
  /** Connection addresses `agent/conn` this entry is for; empty = every receiver. */
  targets: string[]
  /** The connection on the sender's side ('' when it is not about one). */
  conn: string
  payload: Uint8Array
}

export type Stream = 'channel' | 'dm'

export interface EnvelopeHeader {
  version: number
  sender: string
  epoch: number
  stream: Stream
  seq: number
  /** Present on fragments: this is piece `index` of `total`. */
  fragment?: { index: number; total: number }
}

export interface Envelope extends EnvelopeHeader {
  /** The encoded entry list, or one piece of it on a fragment. */
  body: Uint8Array
}

export class EnvelopeError extends Error {
  override readonly name = 'EnvelopeError'
}

const FLAG_FRAGMENT = 1

export function encodeEntries(entries: Entry[]): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, entries.length)
  for (const entry of entries) {
    encoding.writeVarUint(encoder, entry.kind)
    encoding.writeVarUint(encoder, entry.targets.length)
    for (const target of entry.targets) encoding.writeVarString(encoder, target)
    encoding.writeVarString(encoder, entry.conn)
    encoding.writeVarUint8Array(encoder, entry.payload)
  }
  return encoding.toUint8Array(encoder)
}

export function decodeEntries(body: Uint8Array): Entry[] {
  try {
    const decoder = decoding.createDecoder(body)
    const count = decoding.readVarUint(decoder)
    if (count > 10_000) throw new EnvelopeError(`an envelope claims ${count} entries`)
    const entries: Entry[] = []
    for (let i = 0; i < count; i++) {
      const kind = decoding.readVarUint(decoder)
      if (kind > EntryKind.keepalive) throw new EnvelopeError(`unknown entry kind ${kind}`)
      const targetCount = decoding.readVarUint(decoder)
      if (targetCount > 1_000) throw new EnvelopeError(`an entry claims ${targetCount} targets`)
      const targets: string[] = []
      for (let t = 0; t < targetCount; t++) targets.push(decoding.readVarString(decoder))
      const conn = decoding.readVarString(decoder)
      entries.push({ kind: kind as EntryKind, targets, conn, payload: decoding.readVarUint8Array(decoder) })
    }
    return entries
  } catch (error) {
    if (error instanceof EnvelopeError) throw error
    throw new EnvelopeError(`a truncated or malformed entry list (${(error as Error).message})`)
  }
}

export function encodeEnvelope(envelope: Envelope): string {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, envelope.version)
  encoding.writeVarUint(encoder, envelope.fragment ? FLAG_FRAGMENT : 0)
  encoding.writeVarString(encoder, envelope.sender)
  encoding.writeVarUint(encoder, envelope.epoch)
  encoding.writeVarUint(encoder, envelope.stream === 'channel' ? 0 : 1)
  encoding.writeVarUint(encoder, envelope.seq)
  if (envelope.fragment) {
    encoding.writeVarUint(encoder, envelope.fragment.index)
    encoding.writeVarUint(encoder, envelope.fragment.total)
  }
  encoding.writeVarUint8Array(encoder, envelope.body)
  return ENVELOPE_PREFIX + Buffer.from(encoding.toUint8Array(encoder)).toString('base64')
}

/** Null for text that is not an Orchard envelope (someone else's message): ignored, not an error. */
export function decodeEnvelope(text: string): Envelope | null {
  if (!text.startsWith(ENVELOPE_PREFIX)) return null
  const bytes = Buffer.from(text.slice(ENVELOPE_PREFIX.length), 'base64')
  try {
    const decoder = decoding.createDecoder(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength))
    const version = decoding.readVarUint(decoder)
    if (version !== ENVELOPE_VERSION) throw new EnvelopeError(`envelope version ${version}; this build reads ${ENVELOPE_VERSION}. Update Orchard on every instance.`)
    const flags = decoding.readVarUint(decoder)
    const sender = decoding.readVarString(decoder)
    const epoch = decoding.readVarUint(decoder)
    const stream: Stream = decoding.readVarUint(decoder) === 0 ? 'channel' : 'dm'
    const seq = decoding.readVarUint(decoder)
    let fragment: EnvelopeHeader['fragment']
    if (flags & FLAG_FRAGMENT) {
      const index = decoding.readVarUint(decoder)
      const total = decoding.readVarUint(decoder)
      if (total < 2 || index >= total) throw new EnvelopeError(`fragment ${index} of ${total}`)
      fragment = { index, total }
    }
    const body = decoding.readVarUint8Array(decoder)
    return { version, sender, epoch, stream, seq, ...(fragment ? { fragment } : {}), body }
  } catch (error) {
    if (error instanceof EnvelopeError) throw error
    throw new EnvelopeError(`a truncated or malformed envelope (${(error as Error).message})`)
  }
}

/**
 * Splits an encoded entry list into envelope texts no longer than `maxText` characters
 * (RC-3). Sequence numbers are taken from `nextSeq`, one per text.
 */
export function packEnvelopes(header: Omit<EnvelopeHeader, 'seq' | 'fragment' | 'version'>, body: Uint8Array, maxText: number, nextSeq: () => number): string[] {
  const whole = encodeEnvelope({ ...header, version: ENVELOPE_VERSION, seq: 0, body })
  // Header room: prefix, varuints and the sender name, with margin for seq/fragment growth.
  if (whole.length + 16 <= maxText) return [encodeEnvelope({ ...header, version: ENVELOPE_VERSION, seq: nextSeq(), body })]
  const overhead = ENVELOPE_PREFIX.length + Math.ceil(((header.sender.length + 40) * 4) / 3)
  const rawPerPiece = Math.floor(((maxText - overhead) * 3) / 4) - 8
  if (rawPerPiece < 64) throw new EnvelopeError(`a text cap of ${maxText} characters leaves no room for a fragment`)
  const total = Math.ceil(body.byteLength / rawPerPiece)
  const texts: string[] = []
  for (let index = 0; index < total; index++) {
    const piece = body.subarray(index * rawPerPiece, (index + 1) * rawPerPiece)
    texts.push(encodeEnvelope({ ...header, version: ENVELOPE_VERSION, seq: nextSeq(), fragment: { index, total }, body: piece }))
  }
  return texts
}
