/**
 * Checked readers over a lib0 decoder. lib0's readers trust their input: past the end
 * readUint8 returns undefined, readVarUint can return NaN (long runs of 0x80) or an inexact
 * number above 2^53, and the rest throw untyped errors. Every reader here validates first
 * and throws FrameDecodeError('bad-frame'), so decoders built on them throw nothing else.
 */
import * as decoding from 'lib0/decoding'
import { FrameDecodeError, type FrameDecodeErrorDetails } from './errors.js'

export type Decoder = decoding.Decoder

// Fatal, so invalid UTF-8 is refused rather than silently turned into U+FFFD; BOM kept so a
// string that starts with U+FEFF survives the round trip (lib0 makes the same choice).
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

export function badFrame(message: string, details: FrameDecodeErrorDetails = {}): FrameDecodeError {
  return new FrameDecodeError('bad-frame', message, details)
}

export function remaining(d: Decoder): number {
  return d.arr.length - d.pos
}

export function readU8(d: Decoder, what: string): number {
  if (remaining(d) < 1) throw badFrame(`truncated: ${what} missing`)
  return decoding.readUint8(d)
}

/** Bytes lib0's writeVarUint uses for n; a shorter-than-read length means a padded encoding. */
export function varUintSize(n: number): number {
  let size = 1
  while (n > 127) {
    n = Math.floor(n / 128)
    size++
  }
  return size
}

/**
 * A varUint that must be exact (≤ 2^53 - 1) and minimally encoded. Refusing padded forms keeps
 * the encoding canonical: an accepted frame re-encodes to the same bytes.
 */
export function readUint(d: Decoder, what: string): number {
  const start = d.pos
  let n: number
  try {
    n = decoding.readVarUint(d)
  } catch {
    throw badFrame(remaining(d) === 0 ? `truncated: ${what} missing` : `${what} exceeds 2^53 - 1`)
  }
  if (!Number.isSafeInteger(n)) throw badFrame(`${what} is not an exact integer below 2^53`)
  if (d.pos - start !== varUintSize(n)) throw badFrame(`${what} is not minimally encoded`)
  return n
}

function readLength(d: Decoder, what: string): number {
  const len = readUint(d, `${what} length`)
  if (len > remaining(d)) throw badFrame(`truncated: ${what} declares ${len} bytes, ${remaining(d)} left`)
  return len
}

/** A varUint8Array, as a view of the input (no copy). */
export function readBytes(d: Decoder, what: string): Uint8Array {
  return decoding.readUint8Array(d, readLength(d, what))
}

export function readString(d: Decoder, what: string): string {
  const bytes = decoding.readUint8Array(d, readLength(d, what))
  try {
    return utf8.decode(bytes)
  } catch {
    throw badFrame(`${what} is not valid UTF-8`)
  }
}

/** A varString holding JSON text. */
export function readJson(d: Decoder, what: string): unknown {
  const text = readString(d, what)
  try {
    return JSON.parse(text) as unknown
  } catch {
    throw badFrame(`${what} is not valid JSON`)
  }
}

/** The rest of the input, as a view (no copy). */
export function readRest(d: Decoder): Uint8Array {
  return decoding.readTailAsUint8Array(d)
}

export function expectEnd(d: Decoder, what: string): void {
  const left = remaining(d)
  if (left !== 0) throw badFrame(`${left} trailing byte(s) after ${what}`)
}
