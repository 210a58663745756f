/**
 * Frames <-> the JSON form used by test/fixtures: identical except that byte fields
 * (SYNC/AWARENESS body, TERM_OUTPUT/TERM_INPUT data) are lowercase hex strings.
 */
import { FrameKind, type Frame } from '../../src/index.js'
import { fromHex, toHex } from './hex.js'

export type JsonFrame = Record<string, unknown> & { kind: number; channel: string }

export interface FrameFixture {
  name: string
  hex: string
  frame: JsonFrame
}

export interface RejectedFixture {
  name: string
  hex: string
  code: 'bad-frame' | 'unknown-kind' | 'unsupported-version'
  kind?: number
  channel?: string
}

function byteField(kind: number): 'body' | 'data' | undefined {
  if (kind === FrameKind.sync || kind === FrameKind.awareness) return 'body'
  if (kind === FrameKind.termOutput || kind === FrameKind.termInput) return 'data'
  return undefined
}

export function frameToJson(frame: Frame): JsonFrame {
  const out: JsonFrame = { ...frame }
  const field = byteField(frame.kind)
  if (field !== undefined) out[field] = toHex((frame as unknown as Record<string, Uint8Array>)[field] as Uint8Array)
  return out
}

export function frameFromJson(json: JsonFrame): Frame {
  const out: Record<string, unknown> = { ...json }
  const field = byteField(json.kind)
  if (field !== undefined) out[field] = fromHex(json[field] as string)
  return out as unknown as Frame
}
