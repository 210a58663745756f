/**
 * Bytes -> Frame. Input comes from untrusted sockets, so decodeFrame throws FrameDecodeError
 * and nothing else, never reads past the input, never allocates from a declared length
 * (lengths are checked against the bytes actually present first) and runs in time linear
 * in the input. Byte fields (SYNC/AWARENESS body, TERM_* data) are views of the input.
 */
import * as decoding from 'lib0/decoding'
import { FrameDecodeError } from './errors.js'
import { FrameKind, PROTOCOL_VERSION, frameKindLabel, isFrameKind } from './frame-kinds.js'
import type { Frame } from './frames.js'
import { ShapeError, checkEvent, checkHello, checkWelcome } from './json-body.js'
import {
  badFrame, expectEnd, readBytes, readJson, readRest, readString, readU8, readUint, type Decoder
} from './wire-read.js'

function shaped<T>(check: (value: unknown) => T, value: unknown): T {
  try {
    return check(value)
  } catch (err) {
    if (err instanceof ShapeError) throw badFrame(err.message)
    throw err
  }
}

function decodeBody(d: Decoder, kind: FrameKind, channel: string): Frame {
  switch (kind) {
    case FrameKind.hello:
      return { kind, channel, ...shaped(checkHello, readJson(d, 'HELLO body')) }
    case FrameKind.welcome:
      return { kind, channel, ...shaped(checkWelcome, readJson(d, 'WELCOME body')) }
    case FrameKind.sync:
    case FrameKind.awareness:
      // The body owns the rest of the frame, so there are no trailing bytes to refuse.
      return { kind, channel, body: readRest(d) }
    case FrameKind.rpcRequest:
      return {
        kind,
        channel,
        id: readUint(d, 'RPC_REQUEST.id'),
        method: readString(d, 'RPC_REQUEST.method'),
        params: readJson(d, 'RPC_REQUEST.params')
      }
    case FrameKind.rpcResponse: {
      const id = readUint(d, 'RPC_RESPONSE.id')
      const ok = readU8(d, 'RPC_RESPONSE.ok')
      if (ok === 1) return { kind, channel, id, ok: true, result: readJson(d, 'RPC_RESPONSE.result') }
      if (ok !== 0) throw badFrame(`RPC_RESPONSE.ok must be 0 or 1, got ${ok}`)
      const code = readString(d, 'RPC_RESPONSE.code')
      const message = readString(d, 'RPC_RESPONSE.message')
      const data = readJson(d, 'RPC_RESPONSE.data')
      return data === null ? { kind, channel, id, ok: false, code, message } : { kind, channel, id, ok: false, code, message, data }
    }
    case FrameKind.error: {
      const code = readString(d, 'ERROR.code')
      const message = readString(d, 'ERROR.message')
      const data = readJson(d, 'ERROR.data')
      return data === null ? { kind, channel, code, message } : { kind, channel, code, message, data }
    }
    case FrameKind.ack:
      return { kind, channel, seq: readUint(d, 'ACK.seq') }
    case FrameKind.termSubscribe:
      return {
        kind,
        channel,
        generation: readUint(d, 'TERM_SUBSCRIBE.generation'),
        offset: readUint(d, 'TERM_SUBSCRIBE.offset')
      }
    case FrameKind.termUnsubscribe:
      return { kind, channel }
    case FrameKind.termOutput:
      return {
        kind,
        channel,
        generation: readUint(d, 'TERM_OUTPUT.generation'),
        offset: readUint(d, 'TERM_OUTPUT.offset'),
        data: readBytes(d, 'TERM_OUTPUT.data')
      }
    case FrameKind.termGap: {
      const generation = readUint(d, 'TERM_GAP.generation')
      const from = readUint(d, 'TERM_GAP.from')
      const to = readUint(d, 'TERM_GAP.to')
      if (from > to) throw badFrame(`TERM_GAP.from (${from}) exceeds TERM_GAP.to (${to})`)
      const cols = readUint(d, 'TERM_GAP.cols')
      const rows = readUint(d, 'TERM_GAP.rows')
      return { kind, channel, generation, from, to, cols, rows, snapshot: readString(d, 'TERM_GAP.snapshot') }
    }
    case FrameKind.termInput:
      return { kind, channel, epoch: readUint(d, 'TERM_INPUT.epoch'), data: readBytes(d, 'TERM_INPUT.data') }
    case FrameKind.termResize:
      return {
        kind,
        channel,
        epoch: readUint(d, 'TERM_RESIZE.epoch'),
        cols: readUint(d, 'TERM_RESIZE.cols'),
        rows: readUint(d, 'TERM_RESIZE.rows')
      }
    case FrameKind.event:
      return { kind, channel, event: shaped(checkEvent, readJson(d, 'EVENT body')) }
    default: {
      const unreachable: never = kind
      throw badFrame(`no decoder for kind ${String(unreachable)}`)
    }
  }
}

function decodeUnchecked(bytes: Uint8Array): Frame {
  const d = decoding.createDecoder(bytes)
  const version = readU8(d, 'version byte')
  if (version !== PROTOCOL_VERSION) {
    // Nothing after the version byte is read: a future version may lay the frame out differently.
    throw new FrameDecodeError('unsupported-version', `frame version ${version}, this peer speaks ${PROTOCOL_VERSION}`, { version })
  }
  const kind = readUint(d, 'kind')
  if (!isFrameKind(kind)) {
    let channel: string | undefined
    try {
      channel = readString(d, 'channel')
    } catch {
      channel = undefined
    }
    const where = channel === undefined ? '' : ` on channel ${JSON.stringify(channel)}`
    throw new FrameDecodeError('unknown-kind', `unknown frame kind ${kind}${where}`, channel === undefined ? { kind } : { kind, channel })
  }
  let channel: string
  try {
    channel = readString(d, 'channel')
  } catch (err) {
    if (err instanceof FrameDecodeError) throw new FrameDecodeError(err.code, `${frameKindLabel(kind)}: ${err.message}`, { kind })
    throw err
  }
  try {
    const frame = decodeBody(d, kind, channel)
    expectEnd(d, frameKindLabel(kind))
    return frame
  } catch (err) {
    if (err instanceof FrameDecodeError) {
      throw new FrameDecodeError(err.code, `${frameKindLabel(kind)}: ${err.message}`, { kind, channel })
    }
    throw err
  }
}

/**
 * Decode one frame. Throws FrameDecodeError — code 'unsupported-version' (version byte not 1),
 * 'unknown-kind' (with `kind`, and `channel` when readable) or 'bad-frame' — and nothing else.
 */
export function decodeFrame(bytes: Uint8Array): Frame {
  if (!(bytes instanceof Uint8Array)) throw badFrame('a frame must be a Uint8Array')
  try {
    return decodeUnchecked(bytes)
  } catch (err) {
    if (err instanceof FrameDecodeError) throw err
    // Unreachable by design (every read is checked); kept so the only-FrameDecodeError promise
    // holds even if a dependency changes how it fails.
    throw badFrame(`malformed frame: ${err instanceof Error ? err.message : String(err)}`)
  }
}

/** The kind of a v1 frame from its first bytes, or undefined when it is not a readable v1 frame. */
export function peekKind(bytes: Uint8Array): number | undefined {
  if (!(bytes instanceof Uint8Array) || bytes[0] !== PROTOCOL_VERSION) return undefined
  try {
    const d = decoding.createDecoder(bytes)
    d.pos = 1
    return readUint(d, 'kind')
  } catch {
    return undefined
  }
}
