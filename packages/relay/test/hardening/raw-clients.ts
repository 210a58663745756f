/**
 * Hand-driven sockets against a real relay on a real port, for sending what no honest
 * client would: an Orchard-protocol socket that says HELLO and then anything, and a stock
 * y-websocket-shaped socket that sends raw y-websocket messages. Each records every frame
 * it got and how it was closed, so a test can say exactly what the client saw.
 */
import { FrameKind, PROTOCOL_VERSION, decodeFrame, decodeYwsMessage, encodeFrame, type Frame, type WelcomeFrame, type YwsMessage } from '@orchard/protocol'
import { eventually } from '@orchard/relay/testing'
import * as encoding from 'lib0/encoding'
import WebSocket from 'ws'

export interface Closed {
  code: number
  reason: string
}

export interface RawOrchard {
  frames: Frame[]
  closed: Closed | null
  welcome: WelcomeFrame
  send(frame: Frame): void
  sendRaw(bytes: Uint8Array): void
  /** The first frame received so far that matches, waiting for it (5 s). */
  next<T extends Frame>(match: (frame: Frame) => frame is T, what: string): Promise<T>
  waitClosed(): Promise<Closed>
  rpc(method: string, params: unknown): Promise<Extract<Frame, { kind: typeof FrameKind.rpcResponse }>>
  close(): void
}

/** Connects, says HELLO and waits for WELCOME (or for the close, if `refusedOk`). */
export async function rawOrchard(url: string, credential: string, instanceId: string, options: { refusedOk?: boolean } = {}): Promise<RawOrchard> {
  const ws = new WebSocket(`${url}/orchard`)
  ws.binaryType = 'nodebuffer'
  const client: RawOrchard = {
    frames: [],
    closed: null,
    welcome: undefined as unknown as WelcomeFrame,
    send: (frame) => ws.send(encodeFrame(frame)),
    sendRaw: (bytes) => ws.send(bytes),
    next: (match, what) => eventually(() => client.frames.find(match) as never, { what }),
    waitClosed: () => eventually(() => client.closed, { what: 'the socket to close' }),
    async rpc(method, params) {
      const id = Math.floor(Math.random() * 1e9)
      client.send({ kind: FrameKind.rpcRequest, channel: '', id, method, params })
      return client.next((frame): frame is Extract<Frame, { kind: typeof FrameKind.rpcResponse }> => frame.kind === FrameKind.rpcResponse && frame.id === id, `an answer to ${method}`)
    },
    close: () => ws.close()
  }
  ws.on('message', (data: Buffer) => client.frames.push(decodeFrame(new Uint8Array(data))))
  ws.on('close', (code, reason) => (client.closed = { code, reason: reason.toString() }))
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('error', reject)
  })
  client.send({ kind: FrameKind.hello, channel: '', protocol: PROTOCOL_VERSION, credential, instanceId, label: instanceId })
  await eventually(() => client.closed || client.frames.some((frame) => frame.kind === FrameKind.welcome), { what: 'WELCOME or a close' })
  const welcome = client.frames.find((frame): frame is WelcomeFrame => frame.kind === FrameKind.welcome)
  if (!welcome && !options.refusedOk) throw new Error(`HELLO was refused: ${JSON.stringify(client.closed)} ${JSON.stringify(client.frames)}`)
  if (welcome) client.welcome = welcome
  return client
}

export interface RawYws {
  messages: YwsMessage[]
  closed: Closed | null
  send(bytes: Uint8Array): void
  waitClosed(): Promise<Closed>
  close(): void
}

/** A socket on the stock y-websocket endpoint, speaking raw y-websocket messages. */
export async function rawYws(url: string, workspaceId: string, token: string): Promise<RawYws> {
  const ws = new WebSocket(`${url}/${workspaceId}?token=${encodeURIComponent(token)}`)
  ws.binaryType = 'nodebuffer'
  const client: RawYws = {
    messages: [],
    closed: null,
    send: (bytes) => ws.send(bytes),
    waitClosed: () => eventually(() => client.closed, { what: 'the socket to close' }),
    close: () => ws.close()
  }
  ws.on('message', (data: Buffer) => client.messages.push(decodeYwsMessage(new Uint8Array(data))))
  ws.on('close', (code, reason) => (client.closed = { code, reason: reason.toString() }))
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('error', reject)
  })
  // The relay speaks first (its step 1): by then the socket is authenticated and in the room.
  await eventually(() => client.closed || client.messages.length > 0, { what: 'the relay\'s first message' })
  return client
}

/** y-websocket message bytes: messageSync (0) or messageAwareness (1), then the body as y-protocols writes it. */
export function ywsBytes(type: 0 | 1, writeBody: (encoder: encoding.Encoder) => void): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, type)
  writeBody(encoder)
  return encoding.toUint8Array(encoder)
}

/** A y-protocols sync message body: type (0 step 1, 1 step 2, 2 update) and its payload. */
export function syncBody(type: 0 | 1 | 2, payload: Uint8Array): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, type)
  encoding.writeVarUint8Array(encoder, payload)
  return encoding.toUint8Array(encoder)
}

/** A y-protocols awareness update with the given JSON strings as states (not checked: may be bad JSON). */
export function awarenessBody(entries: Array<{ clientID: number; clock: number; json: string }>): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, entries.length)
  for (const entry of entries) {
    encoding.writeVarUint(encoder, entry.clientID)
    encoding.writeVarUint(encoder, entry.clock)
    encoding.writeVarString(encoder, entry.json)
  }
  return encoding.toUint8Array(encoder)
}

export function isError(code?: string) {
  return (frame: Frame): frame is Extract<Frame, { kind: typeof FrameKind.error }> => frame.kind === FrameKind.error && (code === undefined || frame.code === code)
}
