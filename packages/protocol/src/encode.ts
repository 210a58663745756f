/**
 * Frame -> bytes. The result is a fresh, self-contained Uint8Array, so a relay encodes once
 * and hands the same bytes to every socket. Encoding refuses (TypeError / RangeError) what
 * decodeFrame would refuse or could not return unchanged: every accepted frame round-trips.
 */
import * as encoding from 'lib0/encoding'
import { FrameKind, PROTOCOL_VERSION, frameKindLabel } from './frame-kinds.js'
import type { Frame } from './frames.js'
import { ShapeError, checkEvent, checkHello, checkWelcome, jsonText } from './json-body.js'

type Encoder = encoding.Encoder

// In a /u regex \p{Cs} only matches unpaired surrogates; TextEncoder would turn those into
// U+FFFD, so the peer would read a different string than the one we were given.
const loneSurrogate = /\p{Cs}/u

function str(e: Encoder, value: string, what: string): void {
  if (typeof value !== 'string') throw new TypeError(`${what} must be a string`)
  if (loneSurrogate.test(value)) throw new TypeError(`${what} contains an unpaired surrogate`)
  encoding.writeVarString(e, value)
}

function uint(e: Encoder, value: number, what: string): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${what} must be an integer in [0, 2^53 - 1], got ${String(value)}`)
  }
  encoding.writeVarUint(e, value)
}

function bytes(value: Uint8Array, what: string): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new TypeError(`${what} must be a Uint8Array`)
  return value
}

function json(e: Encoder, value: unknown): void {
  encoding.writeVarString(e, jsonText(value))
}

function checked<T>(check: (value: unknown) => T, value: unknown): T {
  try {
    return check(value)
  } catch (err) {
    if (err instanceof ShapeError) throw new TypeError(err.message)
    throw err
  }
}

/** Writes the body; returns a rest-of-frame body to append after the header, if the kind has one. */
function writeBody(e: Encoder, f: Frame): Uint8Array | undefined {
  const label = frameKindLabel(f.kind)
  switch (f.kind) {
    case FrameKind.hello:
      json(e, checked(checkHello, f))
      break
    case FrameKind.welcome:
      json(e, checked(checkWelcome, f))
      break
    case FrameKind.sync:
    case FrameKind.awareness:
      // y-protocols bytes go in unchanged and unprefixed: the body runs to the end of the frame.
      return bytes(f.body, `${label}.body`)
    case FrameKind.rpcRequest:
      uint(e, f.id, 'RPC_REQUEST.id')
      str(e, f.method, 'RPC_REQUEST.method')
      json(e, f.params)
      break
    case FrameKind.rpcResponse:
      uint(e, f.id, 'RPC_RESPONSE.id')
      if (f.ok === true) {
        encoding.writeUint8(e, 1)
        json(e, f.result)
        break
      }
      if (f.ok !== false) throw new TypeError('RPC_RESPONSE.ok must be a boolean')
      encoding.writeUint8(e, 0)
      str(e, f.code, 'RPC_RESPONSE.code')
      str(e, f.message, 'RPC_RESPONSE.message')
      json(e, f.data)
      break
    case FrameKind.error:
      str(e, f.code, 'ERROR.code')
      str(e, f.message, 'ERROR.message')
      json(e, f.data)
      break
    case FrameKind.ack:
      uint(e, f.seq, 'ACK.seq')
      break
    case FrameKind.termSubscribe:
      uint(e, f.generation, 'TERM_SUBSCRIBE.generation')
      uint(e, f.offset, 'TERM_SUBSCRIBE.offset')
      break
    case FrameKind.termUnsubscribe:
      break
    case FrameKind.termOutput:
      uint(e, f.generation, 'TERM_OUTPUT.generation')
      uint(e, f.offset, 'TERM_OUTPUT.offset')
      encoding.writeVarUint8Array(e, bytes(f.data, 'TERM_OUTPUT.data'))
      break
    case FrameKind.termGap:
      uint(e, f.generation, 'TERM_GAP.generation')
      uint(e, f.from, 'TERM_GAP.from')
      uint(e, f.to, 'TERM_GAP.to')
      if (f.from > f.to) throw new RangeError('TERM_GAP.from must not exceed TERM_GAP.to')
      uint(e, f.cols, 'TERM_GAP.cols')
      uint(e, f.rows, 'TERM_GAP.rows')
      str(e, f.snapshot, 'TERM_GAP.snapshot')
      break
    case FrameKind.termInput:
      uint(e, f.epoch, 'TERM_INPUT.epoch')
      encoding.writeVarUint8Array(e, bytes(f.data, 'TERM_INPUT.data'))
      break
    case FrameKind.termResize:
      uint(e, f.epoch, 'TERM_RESIZE.epoch')
      uint(e, f.cols, 'TERM_RESIZE.cols')
      uint(e, f.rows, 'TERM_RESIZE.rows')
      break
    case FrameKind.event:
      json(e, checked(checkEvent, f.event))
      break
    default: {
      const unknown: never = f
      throw new TypeError(`cannot encode ${frameKindLabel((unknown as { kind: number }).kind)}`)
    }
  }
  return undefined
}

/** Encode one frame: version byte, kind, channel, body (see PROTOCOL.md). */
export function encodeFrame(frame: Frame): Uint8Array {
  const e = encoding.createEncoder()
  encoding.writeUint8(e, PROTOCOL_VERSION)
  uint(e, frame.kind, 'kind')
  str(e, frame.channel, 'channel')
  const tail = writeBody(e, frame)
  const head = encoding.toUint8Array(e)
  if (tail === undefined) return head
  // Appending here copies a large SYNC body once; through the encoder it would be copied twice.
  const out = new Uint8Array(head.length + tail.length)
  out.set(head)
  out.set(tail, head.length)
  return out
}
