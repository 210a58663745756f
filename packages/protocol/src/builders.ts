/** Shorthands for the frames sent most often; any Frame can also be written as a literal. */
import { FrameKind } from './frame-kinds.js'
import type {
  AckFrame, AwarenessFrame, ErrorFrame, EventFrame, OrchardEvent, RpcErrorResponseFrame, RpcOkResponseFrame,
  RpcRequestFrame, SyncFrame, TermInputFrame, TermOutputFrame
} from './frames.js'

export function syncFrame(channel: string, body: Uint8Array): SyncFrame {
  return { kind: FrameKind.sync, channel, body }
}

export function awarenessFrame(channel: string, body: Uint8Array): AwarenessFrame {
  return { kind: FrameKind.awareness, channel, body }
}

export function ackFrame(channel: string, seq: number): AckFrame {
  return { kind: FrameKind.ack, channel, seq }
}

export function rpcRequestFrame(id: number, method: string, params: unknown, channel = ''): RpcRequestFrame {
  return { kind: FrameKind.rpcRequest, channel, id, method, params }
}

export function rpcOkFrame(id: number, result: unknown, channel = ''): RpcOkResponseFrame {
  return { kind: FrameKind.rpcResponse, channel, id, ok: true, result }
}

export function rpcErrorFrame(id: number, code: string, message: string, data?: unknown, channel = ''): RpcErrorResponseFrame {
  const frame: RpcErrorResponseFrame = { kind: FrameKind.rpcResponse, channel, id, ok: false, code, message }
  if (data !== undefined && data !== null) frame.data = data
  return frame
}

export function errorFrame(code: string, message: string, data?: unknown, channel = ''): ErrorFrame {
  const frame: ErrorFrame = { kind: FrameKind.error, channel, code, message }
  if (data !== undefined && data !== null) frame.data = data
  return frame
}

export function eventFrame(event: OrchardEvent, channel = ''): EventFrame {
  return { kind: FrameKind.event, channel, event }
}

export function termOutputFrame(channel: string, generation: number, offset: number, data: Uint8Array): TermOutputFrame {
  return { kind: FrameKind.termOutput, channel, generation, offset, data }
}

export function termInputFrame(channel: string, epoch: number, data: Uint8Array): TermInputFrame {
  return { kind: FrameKind.termInput, channel, epoch, data }
}
