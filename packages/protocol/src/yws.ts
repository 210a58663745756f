/**
 * The stock y-websocket wire, so plain Yjs apps (WebsocketProvider, one doc per socket) can
 * talk to the relay. No version byte and no channel: the doc is named by the socket's URL.
 *   message := messageType:varUint payload
 * Layouts as y-websocket writes and reads them (see PROTOCOL.md for the sources checked).
 */
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { FrameDecodeError } from './errors.js'
import { badFrame, expectEnd, readBytes, readRest, readString, readUint, type Decoder } from './wire-read.js'

export const YwsMessageType = {
  sync: 0,
  awareness: 1,
  auth: 2,
  queryAwareness: 3
} as const

export type YwsMessageType = (typeof YwsMessageType)[keyof typeof YwsMessageType]

/** y-protocols/auth's only message: messagePermissionDenied = 0, then the reason. */
export const YWS_AUTH_PERMISSION_DENIED = 0

/** `body` is the y-protocols sync message, the rest of the message (same bytes as a SYNC frame body). */
export interface YwsSyncMessage {
  type: 'sync'
  body: Uint8Array
}

/** `update` is an awareness update; on this wire it is length-prefixed (writeVarUint8Array). */
export interface YwsAwarenessMessage {
  type: 'awareness'
  update: Uint8Array
}

/** y-protocols auth "permission denied"; the stock provider logs the reason. */
export interface YwsAuthMessage {
  type: 'auth'
  reason: string
}

/** Asks the other side to send all its awareness states. Empty payload. */
export interface YwsQueryAwarenessMessage {
  type: 'query-awareness'
}

export type YwsMessage = YwsSyncMessage | YwsAwarenessMessage | YwsAuthMessage | YwsQueryAwarenessMessage

const loneSurrogate = /\p{Cs}/u

function bytes(value: Uint8Array, what: string): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new TypeError(`${what} must be a Uint8Array`)
  return value
}

export function encodeYwsMessage(message: YwsMessage): Uint8Array {
  const e = encoding.createEncoder()
  switch (message.type) {
    case 'sync':
      encoding.writeVarUint(e, YwsMessageType.sync)
      encoding.writeUint8Array(e, bytes(message.body, 'sync body'))
      break
    case 'awareness':
      encoding.writeVarUint(e, YwsMessageType.awareness)
      encoding.writeVarUint8Array(e, bytes(message.update, 'awareness update'))
      break
    case 'auth':
      if (typeof message.reason !== 'string' || loneSurrogate.test(message.reason)) {
        throw new TypeError('auth reason must be a well-formed string')
      }
      encoding.writeVarUint(e, YwsMessageType.auth)
      encoding.writeVarUint(e, YWS_AUTH_PERMISSION_DENIED)
      encoding.writeVarString(e, message.reason)
      break
    case 'query-awareness':
      encoding.writeVarUint(e, YwsMessageType.queryAwareness)
      break
    default: {
      const unknown: never = message
      throw new TypeError(`cannot encode y-websocket message ${JSON.stringify((unknown as { type: unknown }).type)}`)
    }
  }
  return encoding.toUint8Array(e)
}

function decodeUnchecked(d: Decoder): YwsMessage {
  const type = readUint(d, 'message type')
  switch (type) {
    case YwsMessageType.sync:
      return { type: 'sync', body: readRest(d) }
    case YwsMessageType.awareness: {
      const update = readBytes(d, 'awareness update')
      expectEnd(d, 'awareness message')
      return { type: 'awareness', update }
    }
    case YwsMessageType.auth: {
      const authType = readUint(d, 'auth message type')
      if (authType !== YWS_AUTH_PERMISSION_DENIED) throw badFrame(`unknown auth message type ${authType}`)
      const reason = readString(d, 'auth reason')
      expectEnd(d, 'auth message')
      return { type: 'auth', reason }
    }
    case YwsMessageType.queryAwareness:
      expectEnd(d, 'query-awareness message')
      return { type: 'query-awareness' }
    default:
      throw new FrameDecodeError('unknown-kind', `unknown y-websocket message type ${type}`, { kind: type })
  }
}

/** Decode one y-websocket message. Throws FrameDecodeError ('bad-frame' | 'unknown-kind') and nothing else. */
export function decodeYwsMessage(message: Uint8Array): YwsMessage {
  if (!(message instanceof Uint8Array)) throw badFrame('a message must be a Uint8Array')
  try {
    return decodeUnchecked(decoding.createDecoder(message))
  } catch (err) {
    if (err instanceof FrameDecodeError) throw err
    throw badFrame(`malformed y-websocket message: ${err instanceof Error ? err.message : String(err)}`)
  }
}
